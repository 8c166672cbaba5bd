// SPDX-License-Identifier: MIT
// A CCIP message receiver for the tests: records what ccipReceive got, or refuses it.
pragma solidity 0.8.30;

import {IAny2EVMMessageReceiver} from "@chainlink/contracts-ccip/src/v0.8/ccip/interfaces/IAny2EVMMessageReceiver.sol";
import {Client} from "@chainlink/contracts-ccip/src/v0.8/ccip/libraries/Client.sol";

contract CcipReceiverMock is IAny2EVMMessageReceiver {
    error Refused();

    bool public refuse;
    uint256 public calls;
    bytes32 public lastId;
    uint64 public lastSource;
    bytes public lastData;
    address public lastSender;
    uint256 public lastTokenCount;

    function setRefuse(bool r) external {
        refuse = r;
    }

    function ccipReceive(Client.Any2EVMMessage calldata message) external {
        if (refuse) revert Refused();
        ++calls;
        lastId = message.messageId;
        lastSource = message.sourceChainSelector;
        lastData = message.data;
        lastSender = abi.decode(message.sender, (address));
        lastTokenCount = message.destTokenAmounts.length;
    }
}
