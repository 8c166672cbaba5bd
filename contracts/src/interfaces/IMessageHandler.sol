// SPDX-License-Identifier: MIT
// What Circle's CCTP MessageTransmitter calls on a message's recipient (circlefin/
// evm-cctp-contracts, IMessageHandler): the devnet's TokenMessenger implements it.
pragma solidity ^0.8.24;

interface IMessageHandler {
    function handleReceiveMessage(uint32 sourceDomain, bytes32 sender, bytes calldata messageBody)
        external
        returns (bool);
}
