// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// Calls the EXECUTE precompile and requires it to verify the L2 block.
contract ExecuteCaller {
    address constant EXECUTE = address(0x0101);

    uint256 public verified;

    event Executed(bytes32 indexed preStateRoot, bytes32 indexed postStateRoot, uint64 gasUsed);

    function execute(bytes32 pre, bytes32 post, uint64 gasUsed, bytes calldata anchor, bytes calldata trace) external {
        (bool ok, bytes memory out) = EXECUTE.call(abi.encode(pre, post, gasUsed, anchor, trace));
        require(ok && out.length == 32 && abi.decode(out, (uint256)) == 1, "EXECUTE rejected the trace");
        verified += 1;
        emit Executed(pre, post, gasUsed);
    }
}
