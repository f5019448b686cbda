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
    /// Gas budgeted per byte of message data. The bodies travel again in `advance` calldata and
    /// are copied into the EXECUTE input, so this bounds what one L2 block's messages cost on L1
    /// (at most ANCHOR_GAS_BUDGET / 128 = 156,250 bytes of data per L2 block).
    uint64 internal constant MESSAGE_BYTE_GAS = 128;
    /// Budget of one L2 block's anchor call for messages: sum of their `messageCost`.
    uint64 internal constant ANCHOR_GAS_BUDGET = 20_000_000;
    /// Gas of the anchor system call on top of its messages' costs: the inbox's own work and the
    /// block's other system calls (EIP-4788, EIP-2935, EIP-7002, EIP-7251), which EXECUTE's
    /// work budget counts against the anchor's share (docs/protocol.md §6).
    uint64 internal constant ANCHOR_BASE_GAS = 300_000;
    /// Longest forced-inclusion window and withdrawal delay governance may set (overflow-safe).
    uint64 internal constant MAX_DELAY = 365 days;
    /// Longest timelock governance may set.
    uint64 internal constant MAX_TIMELOCK = 2 * MAX_DELAY;
    /// `keccak256(rlp(""))`: the root of an empty trie (an empty withdrawals list).
    bytes32 internal constant EMPTY_ROOT = 0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421;

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

    /// Gas a message costs against `ANCHOR_GAS_BUDGET`: its gas limit, the inbox's overhead and
    /// its data. At most 5,000,000 + 200,000 + 128 × 16,384 (no overflow).
    function messageCost(uint64 gasLimit, uint256 dataLength) internal pure returns (uint64) {
        return gasLimit + MESSAGE_OVERHEAD_GAS + MESSAGE_BYTE_GAS * uint64(dataLength);
    }

    /// Gas limit of the anchor system call for messages of total cost `cost`.
    function anchorGas(uint64 cost) internal pure returns (uint64) {
        return ANCHOR_BASE_GAS + cost;
    }
}
