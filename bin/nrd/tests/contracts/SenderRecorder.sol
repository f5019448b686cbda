// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Records who called it, with what value and tag (for the bridge tests: L1→L2 calls must come
/// from the L1 sender's alias).
contract SenderRecorder {
    address public lastSender;
    uint256 public lastValue;
    uint256 public lastTag;
    uint256 public calls;

    function record(uint256 tag) external payable {
        lastSender = msg.sender;
        lastValue = msg.value;
        lastTag = tag;
        calls += 1;
    }
}
