// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Rollup} from "./lib/Rollup.sol";

/// L2 predeploy holding rollup parameters that L1 governance sets (through the timelock and a
/// governance message), e.g. `keccak256("l2.gasLimit")`. The sequencer reads them.
contract L2Governance {
    mapping(bytes32 => uint256) public parameters;

    event ParameterChanged(bytes32 indexed key, uint256 previous, uint256 value);

    error OnlyInbox();

    function setParameter(bytes32 key, uint256 value) external {
        if (msg.sender != Rollup.L1_MESSAGE_INBOX) revert OnlyInbox();
        emit ParameterChanged(key, parameters[key], value);
        parameters[key] = value;
    }
}
