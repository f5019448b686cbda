//! # nrd-derivation
//!
//! The derivation function of nrd's native rollup: what turns plain EVM execution into a rollup
//! by deciding which L1 messages (deposits, forced transactions, governance) each L2 block
//! applies. It is pure and deterministic: no I/O, no clock. The sequencer, the follower and the
//! tests all call the same functions, so they cannot disagree.
//!
//! - **Sequencing** ([`block_inputs`]): (L2 parent header, pending L1 messages, ordered
//!   transactions, timestamp, L1 block) → the next block's inputs, with the anchor calldata the
//!   L2 `L1MessageInbox` receives through the anchor system call. Every pending message that
//!   fits the anchor budget is applied, in queue order.
//! - **Posting** ([`encode_advance`]): a run of L2 blocks (with witnesses and the messages they
//!   applied) → one `NativeRollup.advance` call, in calldata or blob mode
//!   (transactions in a compressed batch in blobs).
//! - **Following** ([`decode_advance`]): an `advance` call and its blobs → the L2 blocks and the
//!   messages each applied, so a follower rebuilds the chain from L1 alone.
//! - **Header rules** ([`check_header_rules`]): the values `NativeRollup` fixes in the fields
//!   Ethereum leaves to the consensus layer (no withdrawals, `prevRandao` = anchored L1 hash, …).
//! - **Genesis** ([`L2Genesis`]): the L2 chain spec and allocation with the predeploys
//!   (`config/l2-genesis.json`).
//!
//! The rules are written down in `docs/protocol.md` §8, which is normative.

mod batch;
mod error;
mod genesis;
mod inputs;
mod rules;

pub use batch::{AdvanceTx, DaMode, PostedBlock, UnknownDaMode, decode_advance, encode_advance, encode_advance_run};
pub use error::DerivationError;
pub use genesis::{
    BRIDGE_PREFUND, GenesisError, L2Genesis, MAX_SYNTHETIC_ACCOUNTS, SYNTHETIC_KEY, SyntheticAccounts, anchor_rule,
    predeploys,
};
pub use inputs::{BlockInputs, L1BlockRef, SequencingConfig, anchor_calldata, block_inputs, messages_that_fit};
pub use rules::{HeaderRuleError, check_header_rules};
