//! # nrd-bridge
//!
//! The rollup's contracts, as Solidity sources (`contracts/`), compiled artifacts
//! (`artifacts/`, committed; `node scripts/compile-contracts.mjs` regenerates them and the
//! `artifacts` test fails when they drift from the sources) and alloy `sol!` bindings:
//!
//! - [`NativeRollup`] on L1: the L2 head and state-root history, the L1→L2 message queue (a
//!   rolling hash), `advance` (each L2 block verified by EXECUTE), withdrawals proven with
//!   Merkle-Patricia proofs, and governance behind a timelock;
//! - the L2 predeploys [`L1MessageInbox`] (target of the anchor system call), [`L2Bridge`],
//!   [`L2ToL1MessagePasser`] and [`L2Governance`], with the per-sender [`L1Alias`] forwarder.
//!
//! Beside the bindings, the crate mirrors in Rust the rules both sides share: message and
//! withdrawal hashing, the rolling hash, aliasing and the withdrawal storage slot
//! (`docs/protocol.md` §8 is normative).

mod rules;

pub use rules::{
    ANCHOR_BASE_GAS, ANCHOR_GAS_BUDGET, Action, KIND_CALL, KIND_GOVERNANCE, L1_MESSAGE_INBOX, L2_BRIDGE, L2_GOVERNANCE,
    L2_TO_L1_MESSAGE_PASSER, MAX_DELAY, MAX_MESSAGE_DATA, MAX_MESSAGE_GAS, MAX_TIMELOCK, MESSAGE_BYTE_GAS,
    MESSAGE_OVERHEAD_GAS, alias_of, anchor_gas, anchor_gas_limit, anchor_gas_of, message_cost, message_hash, roll,
    withdrawal_hash, withdrawal_slot,
};

#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
mod bindings {
    alloy_sol_types::sol!(
        #[derive(Debug, PartialEq, Eq)]
        NativeRollup,
        "artifacts/NativeRollup.json"
    );
    alloy_sol_types::sol!(
        #[derive(Debug, PartialEq, Eq)]
        L1MessageInbox,
        "artifacts/L1MessageInbox.json"
    );
    alloy_sol_types::sol!(
        #[derive(Debug, PartialEq, Eq)]
        L1Alias,
        "artifacts/L1Alias.json"
    );
    alloy_sol_types::sol!(
        #[derive(Debug, PartialEq, Eq)]
        L2Bridge,
        "artifacts/L2Bridge.json"
    );
    alloy_sol_types::sol!(
        #[derive(Debug, PartialEq, Eq)]
        L2ToL1MessagePasser,
        "artifacts/L2ToL1MessagePasser.json"
    );
    alloy_sol_types::sol!(
        #[derive(Debug, PartialEq, Eq)]
        L2Governance,
        "artifacts/L2Governance.json"
    );
}

pub use bindings::{L1Alias, L1MessageInbox, L2Bridge, L2Governance, L2ToL1MessagePasser, NativeRollup};

/// An L1→L2 message (the `L1Message` struct of the contracts).
pub type L1Message = NativeRollup::L1Message;
/// An L2→L1 withdrawal (the `Withdrawal` struct of the contracts).
pub type Withdrawal = NativeRollup::Withdrawal;
