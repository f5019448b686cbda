// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// An L1→L2 message, as `NativeRollup` enqueues it and `L1MessageInbox` applies it.
/// Every field is set by the L1 contract; the sequencer only relays the bodies, which `advance`
/// checks against the stored rolling hash.
struct L1Message {
    /// `Rollup.KIND_CALL` (deposit, forced transaction, any L1→L2 call) or `Rollup.KIND_GOVERNANCE`.
    uint8 kind;
    /// The L1 sender. L2 sees calls come from its alias (`L1MessageInbox.aliasOf(from)`).
    address from;
    /// The L2 target.
    address to;
    /// Wei locked on L1 and credited to the sender's alias on L2 before the call.
    uint256 mint;
    /// Wei the alias sends with the call.
    uint256 value;
    /// Gas the L2 call gets.
    uint64 gasLimit;
    /// Position in the queue (0, 1, 2, …).
    uint64 index;
    /// L1 timestamp of the enqueueing block.
    uint64 enqueuedAt;
    /// Calldata of the L2 call.
    bytes data;
}

/// An L2→L1 withdrawal, as `L2ToL1MessagePasser` records it and `NativeRollup` pays it.
struct Withdrawal {
    uint256 nonce;
    address sender;
    address target;
    uint256 value;
    bytes data;
}

/// Constants and hashing rules both sides share (docs/protocol.md §8).
library Rollup {
    uint8 internal constant KIND_CALL = 0;
    uint8 internal constant KIND_GOVERNANCE = 1;

    /// L2 predeploys.
    address internal constant L1_MESSAGE_INBOX = 0x4e52000000000000000000000000000000000001;
    address internal constant L2_BRIDGE = 0x4E52000000000000000000000000000000000002;
    address internal constant L2_TO_L1_MESSAGE_PASSER = 0x4E52000000000000000000000000000000000003;
    address internal constant L2_GOVERNANCE = 0x4e52000000000000000000000000000000000004;
    /// Caller of the anchor system call (EIP-4788's system address).
    address internal constant SYSTEM_ADDRESS = 0xffffFFFfFFffffffffffffffFfFFFfffFFFfFFfE;

    /// Largest gas limit one message may ask for.
    uint64 internal constant MAX_MESSAGE_GAS = 5_000_000;
    /// Largest calldata one message may carry.
    uint256 internal constant MAX_MESSAGE_DATA = 16_384;
    /// Gas the inbox budgets per message on top of its gas limit (alias deployment, mint, events).
    uint64 internal constant MESSAGE_OVERHEAD_GAS = 200_000;
    /// Budget of one L2 block's anchor call for messages: sum of (gasLimit + overhead).
    uint64 internal constant ANCHOR_GAS_BUDGET = 20_000_000;

    function messageHash(L1Message memory m) internal pure returns (bytes32) {
        return keccak256(abi.encode(m));
    }

    /// `h_i = keccak256(h_{i-1} ‖ messageHash(m_i))`, `h_0 = 0`.
    function roll(bytes32 previous, bytes32 message) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(previous, message));
    }

    function withdrawalHash(Withdrawal memory w) internal pure returns (bytes32) {
        return keccak256(abi.encode(w));
    }

    /// Gas a message costs against `ANCHOR_GAS_BUDGET`.
    function messageCost(uint64 gasLimit) internal pure returns (uint64) {
        return gasLimit + MESSAGE_OVERHEAD_GAS;
    }
}
