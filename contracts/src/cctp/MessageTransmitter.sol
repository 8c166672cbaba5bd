// SPDX-License-Identifier: MIT
// LOCAL CHAINS ONLY: a message transmitter with the interface of Circle's CCTP (version 1)
// MessageTransmitter — sendMessage emits MessageSent(message); receiveMessage(message,
// attestation) checks the attesters' signatures over keccak256(message), the destination
// domain and caller, and delivers the body to the recipient's handleReceiveMessage exactly
// once per (source domain, nonce). The devnet's attestation service holds the attester key.
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IMessageHandler} from "../interfaces/IMessageHandler.sol";
import {IMessageTransmitter} from "../interfaces/IMessageTransmitter.sol";
import {CctpMessage} from "./CctpMessage.sol";

contract MessageTransmitter is IMessageTransmitter, Ownable {
    uint32 public constant version = 0;
    uint256 public constant MAX_MESSAGE_BODY_SIZE = 8192;

    uint32 public immutable localDomain;
    uint64 public nextAvailableNonce;
    uint256 public signatureThreshold;
    /// keccak256(abi.encodePacked(sourceDomain, nonce)) => 1 once received
    mapping(bytes32 => uint256) public usedNonces;
    mapping(address => bool) public isEnabledAttester;
    uint256 public numEnabledAttesters;

    event MessageSent(bytes message);
    event MessageReceived(
        address indexed caller, uint32 sourceDomain, uint64 indexed nonce, bytes32 sender, bytes messageBody
    );
    event AttesterEnabled(address indexed attester);
    event AttesterDisabled(address indexed attester);
    event SignatureThresholdUpdated(uint256 oldThreshold, uint256 newThreshold);

    error ZeroAttester();
    error AttesterAlreadyEnabled(address attester);
    error AttesterNotEnabled(address attester);
    error BadThreshold(uint256 threshold);
    error MessageBodyTooLarge(uint256 size);
    error ZeroRecipient();
    error MalformedMessage(uint256 length);
    error WrongVersion(uint32 got);
    error WrongDestinationDomain(uint32 got);
    error WrongDestinationCaller(address caller);
    error NonceAlreadyUsed(uint32 sourceDomain, uint64 nonce);
    error BadAttestationLength(uint256 length);
    error AttesterUnknown(address signer);
    error AttestersOutOfOrder();
    error BadRecipient();
    error HandlerRefused();

    constructor(uint32 localDomain_, address attester) Ownable(msg.sender) {
        localDomain = localDomain_;
        _enable(attester);
        signatureThreshold = 1;
    }

    function enableAttester(address attester) external onlyOwner {
        _enable(attester);
    }

    function disableAttester(address attester) external onlyOwner {
        if (!isEnabledAttester[attester]) revert AttesterNotEnabled(attester);
        if (numEnabledAttesters <= signatureThreshold) revert BadThreshold(signatureThreshold);
        isEnabledAttester[attester] = false;
        --numEnabledAttesters;
        emit AttesterDisabled(attester);
    }

    function setSignatureThreshold(uint256 t) external onlyOwner {
        if (t == 0 || t > numEnabledAttesters) revert BadThreshold(t);
        emit SignatureThresholdUpdated(signatureThreshold, t);
        signatureThreshold = t;
    }

    function sendMessage(uint32 destinationDomain, bytes32 recipient, bytes calldata messageBody)
        external
        returns (uint64 nonce)
    {
        if (messageBody.length > MAX_MESSAGE_BODY_SIZE) revert MessageBodyTooLarge(messageBody.length);
        if (recipient == bytes32(0)) revert ZeroRecipient();
        nonce = nextAvailableNonce;
        ++nextAvailableNonce;
        bytes memory m = CctpMessage.format(
            version,
            localDomain,
            destinationDomain,
            nonce,
            CctpMessage.toBytes32(msg.sender),
            recipient,
            bytes32(0),
            messageBody
        );
        emit MessageSent(m);
    }

    function receiveMessage(bytes calldata message, bytes calldata attestation) external returns (bool success) {
        _verifyAttestation(message, attestation);
        if (message.length < CctpMessage.HEADER_LEN) revert MalformedMessage(message.length);
        if (CctpMessage.version(message) != version) revert WrongVersion(CctpMessage.version(message));
        if (CctpMessage.destinationDomain(message) != localDomain) {
            revert WrongDestinationDomain(CctpMessage.destinationDomain(message));
        }
        bytes32 caller = CctpMessage.destinationCaller(message);
        if (caller != bytes32(0) && caller != CctpMessage.toBytes32(msg.sender)) {
            revert WrongDestinationCaller(msg.sender);
        }
        uint32 src = CctpMessage.sourceDomain(message);
        uint64 n = CctpMessage.nonce(message);
        bytes32 key = keccak256(abi.encodePacked(src, n));
        if (usedNonces[key] != 0) revert NonceAlreadyUsed(src, n);
        usedNonces[key] = 1;
        (address recipient, bool ok) = CctpMessage.toAddress(CctpMessage.recipient(message));
        if (!ok || recipient.code.length == 0) revert BadRecipient();
        bytes32 sender = CctpMessage.sender(message);
        bytes calldata body = CctpMessage.body(message);
        if (!IMessageHandler(recipient).handleReceiveMessage(src, sender, body)) revert HandlerRefused();
        emit MessageReceived(msg.sender, src, n, sender, body);
        return true;
    }

    function _enable(address attester) private {
        if (attester == address(0)) revert ZeroAttester();
        if (isEnabledAttester[attester]) revert AttesterAlreadyEnabled(attester);
        isEnabledAttester[attester] = true;
        ++numEnabledAttesters;
        emit AttesterEnabled(attester);
    }

    /// signatureThreshold 65-byte signatures over keccak256(message) by distinct enabled
    /// attesters in increasing address order (Circle's rule: no signer counted twice).
    function _verifyAttestation(bytes calldata message, bytes calldata attestation) private view {
        uint256 t = signatureThreshold;
        if (attestation.length != 65 * t) revert BadAttestationLength(attestation.length);
        bytes32 digest = keccak256(message);
        address last = address(0);
        for (uint256 i = 0; i < t; ++i) {
            address signer = ECDSA.recover(digest, attestation[i * 65:(i + 1) * 65]);
            if (signer <= last) revert AttestersOutOfOrder();
            if (!isEnabledAttester[signer]) revert AttesterUnknown(signer);
            last = signer;
        }
    }
}
