// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// A counter that logs each increment (for RPC and log tests).
contract Counter {
    uint256 public count;

    event Incremented(address indexed by, uint256 count);

    function inc() external {
        count += 1;
        emit Incremented(msg.sender, count);
    }
}
