// SPDX-License-Identifier: MIT
// The calls of Circle's CCTP MessageTransmitter (version 1) that the workstation and the
// TokenMessenger make: the same selectors on the devnet as on the real networks.
pragma solidity ^0.8.24;

interface IMessageTransmitter {
    function sendMessage(uint32 destinationDomain, bytes32 recipient, bytes calldata messageBody)
        external
        returns (uint64);

    function receiveMessage(bytes calldata message, bytes calldata attestation) external returns (bool success);
}
