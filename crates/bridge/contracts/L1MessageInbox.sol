// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {L1Message, Rollup} from "./lib/Rollup.sol";
import {L2Bridge} from "./L2Bridge.sol";

/// The L2 address an L1 sender's calls come from: a minimal forwarder the inbox deploys with
/// CREATE2 (salt = the L1 address) the first time that sender's message arrives. No key controls
/// it, so no L2 account can impersonate an L1 sender; it holds what L1 minted for that sender.
contract L1Alias {
    /// Only the inbox may make the alias call out.
    error OnlyInbox();

    receive() external payable {}

    /// Calls `to` with `value` wei and `gasLimit` gas; returns whether the call succeeded. The
    /// callee's return data is not copied (a callee returning megabytes costs nothing here).
    function forward(address to, uint256 value, uint256 gasLimit, bytes calldata data) external returns (bool ok) {
        if (msg.sender != Rollup.L1_MESSAGE_INBOX) revert OnlyInbox();
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, data.offset, data.length)
            ok := call(gasLimit, to, value, ptr, data.length, 0, 0)
        }
    }
}

/// L2 predeploy: the target of the anchor system call EXECUTE makes before an L2 block's
/// transactions. It applies the L1 messages `NativeRollup.advance` consumed, in queue order,
/// exactly once, and records the L1 block the L2 block is anchored to.
contract L1MessageInbox {
    /// Rolling hash of every message applied so far (same rule as `NativeRollup`).
    bytes32 public processedHash;
    /// Index of the next message to apply (= messages applied so far).
    uint64 public nextIndex;
    /// The L1 block the latest L2 block is anchored to.
    uint64 public l1BlockNumber;
    bytes32 public l1BlockHash;

    event Anchored(uint64 indexed l1BlockNumber, bytes32 l1BlockHash, uint64 firstIndex, uint64 count);
    event MessageApplied(
        uint64 indexed index, uint8 indexed kind, address indexed from, address to, bool success, bytes32 messageHash
    );

    error NotSystem(address caller);
    error L1BlockWentBack(uint64 current, uint64 given);
    error MessageOutOfOrder(uint64 expected, uint64 given);
    error UnknownKind(uint8 kind);
    error AnchorOutOfGas(uint64 index);

    /// Called by the chain (never by a transaction) once per L2 block.
    function anchor(uint64 number, bytes32 hash, L1Message[] calldata messages) external {
        if (msg.sender != Rollup.SYSTEM_ADDRESS) revert NotSystem(msg.sender);
        if (number < l1BlockNumber) revert L1BlockWentBack(l1BlockNumber, number);
        l1BlockNumber = number;
        l1BlockHash = hash;
        uint64 first = nextIndex;
        bytes32 rolling = processedHash;
        for (uint256 i = 0; i < messages.length; i++) {
            L1Message calldata m = messages[i];
            uint64 expected = first + uint64(i);
            if (m.index != expected) revert MessageOutOfOrder(expected, m.index);
            // The L1 contract budgets every message; running short is a protocol violation.
            if (gasleft() < uint256(Rollup.messageCost(m.gasLimit, m.data.length)) * 64 / 63) {
                revert AnchorOutOfGas(m.index);
            }
            // Memory used for one message is released before the next, so the anchor's memory
            // cost stays linear in the messages' data (Solidity never frees memory itself).
            uint256 free;
            assembly ("memory-safe") {
                free := mload(0x40)
            }
            bytes32 h = Rollup.messageHash(m);
            rolling = Rollup.roll(rolling, h);
            bool ok = _apply(m);
            emit MessageApplied(m.index, m.kind, m.from, m.to, ok, h);
            assembly ("memory-safe") {
                mstore(0x40, free)
            }
        }
        processedHash = rolling;
        nextIndex = first + uint64(messages.length);
        emit Anchored(number, hash, first, uint64(messages.length));
    }

    /// The L2 address calls from L1 sender `l1Sender` come from.
    function aliasOf(address l1Sender) public pure returns (address) {
        bytes32 codeHash = keccak256(type(L1Alias).creationCode);
        bytes32 salt = bytes32(uint256(uint160(l1Sender)));
        return address(
            uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), Rollup.L1_MESSAGE_INBOX, salt, codeHash))))
        );
    }

    function _apply(L1Message calldata m) private returns (bool ok) {
        if (m.kind == Rollup.KIND_GOVERNANCE) {
            bytes calldata data = m.data;
            uint256 gasLimit = m.gasLimit;
            address target = Rollup.L2_GOVERNANCE;
            assembly ("memory-safe") {
                let ptr := mload(0x40)
                calldatacopy(ptr, data.offset, data.length)
                ok := call(gasLimit, target, 0, ptr, data.length, 0, 0)
            }
            return ok;
        }
        if (m.kind != Rollup.KIND_CALL) revert UnknownKind(m.kind);
        address aliased = aliasOf(m.from);
        if (aliased.code.length == 0) {
            new L1Alias{salt: bytes32(uint256(uint160(m.from)))}();
        }
        if (m.mint > 0) L2Bridge(payable(Rollup.L2_BRIDGE)).mint(aliased, m.mint);
        ok = L1Alias(payable(aliased)).forward(m.to, m.value, m.gasLimit, m.data);
    }
}
