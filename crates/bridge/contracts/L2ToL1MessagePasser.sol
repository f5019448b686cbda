// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Rollup, Withdrawal} from "./lib/Rollup.sol";

/// L2 predeploy recording withdrawals. `sentMessages` is storage slot 0, so the slot of a
/// withdrawal is `keccak256(abi.encode(withdrawalHash, 0))`: `NativeRollup.claimWithdrawal`
/// proves it holds 1 against an L2 state root L1 verified.
contract L2ToL1MessagePasser {
    mapping(bytes32 => bool) public sentMessages;
    uint256 public nonce;

    event WithdrawalInitiated(
        uint256 indexed nonce,
        address indexed sender,
        address indexed target,
        uint256 value,
        bytes data,
        bytes32 withdrawalHash
    );

    error TransferFailed();

    /// Withdraws `msg.value` to `target` on L1, where it is called with `data` when claimed.
    function initiateWithdrawal(address target, bytes calldata data) external payable returns (bytes32 hash) {
        Withdrawal memory w = Withdrawal(nonce, msg.sender, target, msg.value, data);
        hash = Rollup.withdrawalHash(w);
        sentMessages[hash] = true;
        nonce = w.nonce + 1;
        if (msg.value > 0) {
            (bool ok,) = Rollup.L2_BRIDGE.call{value: msg.value}("");
            if (!ok) revert TransferFailed();
        }
        emit WithdrawalInitiated(w.nonce, msg.sender, target, msg.value, data, hash);
    }
}
