//! The rules L1 and L2 contracts share, mirrored in Rust (see `contracts/lib/Rollup.sol`).

use crate::{L1Message, L1MessageInbox, Withdrawal};
use alloy_primitives::{Address, B256, U256, address, keccak256};
use alloy_sol_types::SolValue;
use std::sync::LazyLock;

/// Message kind: deposit, forced transaction or any L1→L2 call.
pub const KIND_CALL: u8 = 0;
/// Message kind: governance (`NativeRollup`'s timelock → `L2Governance`).
pub const KIND_GOVERNANCE: u8 = 1;

/// L2 predeploy applying L1 messages (target of the anchor system call).
pub const L1_MESSAGE_INBOX: Address = address!("0x4e52000000000000000000000000000000000001");
/// L2 predeploy holding the L2 side of bridged ETH.
pub const L2_BRIDGE: Address = address!("0x4E52000000000000000000000000000000000002");
/// L2 predeploy recording withdrawals.
pub const L2_TO_L1_MESSAGE_PASSER: Address = address!("0x4E52000000000000000000000000000000000003");
/// L2 predeploy holding governance parameters.
pub const L2_GOVERNANCE: Address = address!("0x4e52000000000000000000000000000000000004");

/// Largest gas limit one message may ask for.
pub const MAX_MESSAGE_GAS: u64 = 5_000_000;
/// Largest calldata one message may carry.
pub const MAX_MESSAGE_DATA: usize = 16_384;
/// Gas budgeted per message on top of its gas limit.
pub const MESSAGE_OVERHEAD_GAS: u64 = 200_000;
/// Gas budgeted per byte of message data (the bodies travel again in `advance` calldata).
pub const MESSAGE_BYTE_GAS: u64 = 128;
/// One L2 block's message budget: the sum of [`message_cost`] of its messages.
pub const ANCHOR_GAS_BUDGET: u64 = 20_000_000;
/// Gas of the anchor system call on top of its messages' costs (the inbox's own work and the
/// block's other system calls).
pub const ANCHOR_BASE_GAS: u64 = 300_000;
/// Longest forced-inclusion window and withdrawal delay governance may set (one year).
pub const MAX_DELAY: u64 = 365 * 24 * 3600;
/// Longest timelock governance may set.
pub const MAX_TIMELOCK: u64 = 2 * MAX_DELAY;

/// `NativeRollup.Action`: the timelocked owner actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Action {
    /// Payload `(address)`.
    SetSequencer = 0,
    /// Payload `(uint64 seconds)`.
    SetForcedInclusionWindow = 1,
    /// Payload `(uint64 seconds)`.
    SetWithdrawalDelay = 2,
    /// Payload `(bool)`.
    SetDepositsPaused = 3,
    /// Payload `(uint64 seconds)`.
    SetTimelockDelay = 4,
    /// Payload `(address)`.
    TransferOwnership = 5,
    /// Payload `(bytes32 key, uint256 value)`: a governance message to `L2Governance`.
    SetL2Parameter = 6,
}

/// Gas a message with `gas_limit` and `data_len` bytes of data costs against
/// [`ANCHOR_GAS_BUDGET`] (`Rollup.messageCost`).
pub const fn message_cost(gas_limit: u64, data_len: usize) -> u64 {
    gas_limit.saturating_add(MESSAGE_OVERHEAD_GAS).saturating_add(MESSAGE_BYTE_GAS.saturating_mul(data_len as u64))
}

/// Gas limit of the anchor system call of an L2 block whose messages cost `cost` in total
/// (`Rollup.anchorGas`): the part of the block's EXECUTE gas that is not the block's own.
pub const fn anchor_gas(cost: u64) -> u64 {
    ANCHOR_BASE_GAS.saturating_add(cost)
}

/// The anchor rule of an nrd L2 (`nrd_chain::AnchorRule::gas_limit`): the gas limit of the
/// anchor system call whose calldata is `anchor`, `None` when `anchor` is not an
/// `L1MessageInbox.anchor(…)` call.
pub fn anchor_gas_limit(anchor: &[u8]) -> Option<u64> {
    use alloy_sol_types::SolCall;
    let call = L1MessageInbox::anchorCall::abi_decode(anchor).ok()?;
    let cost = call.messages.iter().fold(0u64, |cost, m| cost.saturating_add(message_cost(m.gasLimit, m.data.len())));
    Some(anchor_gas(cost))
}

/// [`anchor_gas`] of an L2 block applying `messages`.
pub fn anchor_gas_of(messages: &[L1Message]) -> u64 {
    anchor_gas(messages.iter().fold(0u64, |cost, m| cost.saturating_add(message_cost(m.gasLimit, m.data.len()))))
}

/// `keccak256(abi.encode(message))`.
pub fn message_hash(message: &L1Message) -> B256 {
    keccak256(message.abi_encode())
}

/// One step of the rolling hash: `keccak256(previous ‖ message_hash)`.
pub fn roll(previous: B256, message_hash: B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(previous.as_slice());
    buf[32..].copy_from_slice(message_hash.as_slice());
    keccak256(buf)
}

/// `keccak256(abi.encode(withdrawal))`.
pub fn withdrawal_hash(withdrawal: &Withdrawal) -> B256 {
    keccak256(withdrawal.abi_encode())
}

/// The `L2ToL1MessagePasser` storage slot that is 1 once `withdrawal_hash` was initiated
/// (`sentMessages` is the mapping at slot 0).
pub fn withdrawal_slot(withdrawal_hash: B256) -> B256 {
    keccak256((withdrawal_hash, U256::ZERO).abi_encode())
}

static ALIAS_CODE_HASH: LazyLock<B256> = LazyLock::new(|| keccak256(&crate::L1Alias::BYTECODE));

/// The L2 address calls from `l1_sender` come from: the CREATE2 address of its `L1Alias`
/// forwarder, deployed by the inbox with the sender as salt.
pub fn alias_of(l1_sender: Address) -> Address {
    L1_MESSAGE_INBOX.create2(l1_sender.into_word(), *ALIAS_CODE_HASH)
}

impl From<L1Message> for L1MessageInbox::L1Message {
    fn from(m: L1Message) -> Self {
        Self {
            kind: m.kind,
            from: m.from,
            to: m.to,
            mint: m.mint,
            value: m.value,
            gasLimit: m.gasLimit,
            index: m.index,
            enqueuedAt: m.enqueuedAt,
            data: m.data,
        }
    }
}
