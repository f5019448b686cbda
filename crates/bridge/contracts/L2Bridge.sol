// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Rollup} from "./lib/Rollup.sol";

/// L2 predeploy holding the L2 side of bridged ETH. Genesis pre-funds it; L1 deposits are paid
/// out of it (the matching ETH stays locked in `NativeRollup` on L1) and withdrawals return to it.
contract L2Bridge {
    event Minted(address indexed to, uint256 amount);
    event Returned(address indexed from, uint256 amount);

    error OnlyInbox();
    error OnlyMessagePasser();
    error TransferFailed(address to, uint256 amount);

    /// Pays `amount` to `to`; only the inbox, while applying an L1 message.
    function mint(address to, uint256 amount) external {
        if (msg.sender != Rollup.L1_MESSAGE_INBOX) revert OnlyInbox();
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
        emit Minted(to, amount);
    }

    /// Withdrawn ETH comes back here from the message passer.
    receive() external payable {
        if (msg.sender != Rollup.L2_TO_L1_MESSAGE_PASSER) revert OnlyMessagePasser();
        emit Returned(msg.sender, msg.value);
    }
}
