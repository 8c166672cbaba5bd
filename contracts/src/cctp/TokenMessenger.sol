// SPDX-License-Identifier: MIT
// LOCAL CHAINS ONLY: a token messenger with the interface of Circle's CCTP (version 1)
// TokenMessenger — depositForBurn(amount, destinationDomain, mintRecipient, burnToken)
// burns the caller's tokens and sends a burn message through the local MessageTransmitter;
// handleReceiveMessage (from the transmitter, for a registered remote messenger) mints the
// linked local token to the recipient. Circle's TokenMinter is folded in: this contract
// holds the token links and per-message burn limits and is the token's minter.
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IMessageHandler} from "../interfaces/IMessageHandler.sol";
import {IMessageTransmitter} from "../interfaces/IMessageTransmitter.sol";
import {CctpMessage} from "./CctpMessage.sol";
import {TestToken} from "../TestToken.sol";

contract TokenMessenger is IMessageHandler, Ownable {
    uint32 public constant messageBodyVersion = 0;

    IMessageTransmitter public immutable localMessageTransmitter;
    mapping(uint32 => bytes32) public remoteTokenMessengers;
    /// keccak256(abi.encodePacked(remoteDomain, remoteToken)) => local token
    mapping(bytes32 => address) public remoteTokensToLocalTokens;
    /// most a single depositForBurn may burn of a local token (0: not burnable here)
    mapping(address => uint256) public burnLimitsPerMessage;

    event DepositForBurn(
        uint64 indexed nonce,
        address indexed burnToken,
        uint256 amount,
        address indexed depositor,
        bytes32 mintRecipient,
        uint32 destinationDomain,
        bytes32 destinationTokenMessenger,
        bytes32 destinationCaller
    );
    event MintAndWithdraw(address indexed mintRecipient, uint256 amount, address indexed mintToken);
    event RemoteTokenMessengerAdded(uint32 domain, bytes32 tokenMessenger);
    event TokenPairLinked(address localToken, uint32 remoteDomain, bytes32 remoteToken);
    event BurnLimitSet(address indexed token, uint256 burnLimitPerMessage);

    error ZeroAmount();
    error ZeroRecipient();
    error NoRemoteMessenger(uint32 domain);
    error BurnTokenNotSupported(address token);
    error BurnLimitExceeded(uint256 amount, uint256 limit);
    error NotTransmitter(address caller);
    error UnknownSender(uint32 domain, bytes32 sender);
    error MalformedBody(uint256 length);
    error NoLocalToken(uint32 domain, bytes32 remoteToken);
    error BadMintRecipient(bytes32 recipient);

    constructor(address transmitter) Ownable(msg.sender) {
        localMessageTransmitter = IMessageTransmitter(transmitter);
    }

    function addRemoteTokenMessenger(uint32 domain, bytes32 tokenMessenger) external onlyOwner {
        remoteTokenMessengers[domain] = tokenMessenger;
        emit RemoteTokenMessengerAdded(domain, tokenMessenger);
    }

    function linkTokenPair(address localToken, uint32 remoteDomain, bytes32 remoteToken) external onlyOwner {
        remoteTokensToLocalTokens[keccak256(abi.encodePacked(remoteDomain, remoteToken))] = localToken;
        emit TokenPairLinked(localToken, remoteDomain, remoteToken);
    }

    function setMaxBurnAmountPerMessage(address token, uint256 limit) external onlyOwner {
        burnLimitsPerMessage[token] = limit;
        emit BurnLimitSet(token, limit);
    }

    function depositForBurn(uint256 amount, uint32 destinationDomain, bytes32 mintRecipient, address burnToken)
        external
        returns (uint64 nonce)
    {
        if (amount == 0) revert ZeroAmount();
        if (mintRecipient == bytes32(0)) revert ZeroRecipient();
        bytes32 remote = remoteTokenMessengers[destinationDomain];
        if (remote == bytes32(0)) revert NoRemoteMessenger(destinationDomain);
        uint256 limit = burnLimitsPerMessage[burnToken];
        if (limit == 0) revert BurnTokenNotSupported(burnToken);
        if (amount > limit) revert BurnLimitExceeded(amount, limit);
        TestToken(burnToken).burnFrom(msg.sender, amount);
        bytes memory body = abi.encodePacked(
            messageBodyVersion,
            CctpMessage.toBytes32(burnToken),
            mintRecipient,
            amount,
            CctpMessage.toBytes32(msg.sender)
        );
        nonce = localMessageTransmitter.sendMessage(destinationDomain, remote, body);
        emit DepositForBurn(nonce, burnToken, amount, msg.sender, mintRecipient, destinationDomain, remote, bytes32(0));
    }

    function handleReceiveMessage(uint32 sourceDomain, bytes32 sender, bytes calldata body)
        external
        returns (bool)
    {
        if (msg.sender != address(localMessageTransmitter)) revert NotTransmitter(msg.sender);
        if (sender == bytes32(0) || remoteTokenMessengers[sourceDomain] != sender) {
            revert UnknownSender(sourceDomain, sender);
        }
        if (body.length != CctpMessage.BURN_BODY_LEN || uint32(bytes4(body[0:4])) != messageBodyVersion) {
            revert MalformedBody(body.length);
        }
        bytes32 remoteToken = bytes32(body[4:36]);
        bytes32 rcpt = bytes32(body[36:68]);
        uint256 amount = uint256(bytes32(body[68:100]));
        address token = remoteTokensToLocalTokens[keccak256(abi.encodePacked(sourceDomain, remoteToken))];
        if (token == address(0)) revert NoLocalToken(sourceDomain, remoteToken);
        (address to, bool ok) = CctpMessage.toAddress(rcpt);
        if (!ok || to == address(0)) revert BadMintRecipient(rcpt);
        TestToken(token).mint(to, amount);
        emit MintAndWithdraw(to, amount, token);
        return true;
    }
}
