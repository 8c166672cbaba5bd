// SPDX-License-Identifier: MIT
// LOCAL CHAINS ONLY: a CCIP-style router with Chainlink's IRouterClient interface (getFee,
// ccipSend, isChainSupported, getSupportedTokens, from @chainlink/contracts-ccip 1.4). One
// contract per chain plays the router, the on-ramp, the lock-release token pool and the
// off-ramp: ccipSend takes the fee in the native coin, locks the tokens in this contract
// and emits CCIPSendRequested with the message and its id (CcipMessage.hash, CCIP 1.4's
// scheme); on the destination the devnet's relayer (the "network") calls execute with the
// message, which checks its id against the lane, executes it once (replay protection by
// message id), releases the tokens to the receiver, calls ccipReceive on a receiver
// contract when data is attached and emits ExecutionStateChanged. See docs/bridges.md.
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IRouterClient} from "@chainlink/contracts-ccip/src/v0.8/ccip/interfaces/IRouterClient.sol";
import {IAny2EVMMessageReceiver} from "@chainlink/contracts-ccip/src/v0.8/ccip/interfaces/IAny2EVMMessageReceiver.sol";
import {Client} from "@chainlink/contracts-ccip/src/v0.8/ccip/libraries/Client.sol";
import {CcipMessage} from "./CcipMessage.sol";

contract CcipRouter is IRouterClient, Ownable {
    using SafeERC20 for IERC20;

    /// CCIP's default when extraArgs is empty.
    uint256 public constant DEFAULT_GAS_LIMIT = 200_000;
    uint256 public constant MAX_GAS_LIMIT = 3_000_000;
    uint256 public constant MAX_DATA_BYTES = 30_000;
    uint256 public constant MAX_TOKENS = 5;

    uint64 public immutable localChainSelector;
    /// who may execute messages here: the devnet's relayer, standing in for the DON
    address public relayer;
    /// native fee: base per message, per byte of data, per token transferred (wei)
    uint256 public baseFee;
    uint256 public feePerByte;
    uint256 public feePerToken;

    /// remote chain selector => its router (the on-ramp that sends from it, the off-ramp
    /// that executes on it); zero: lane not open
    mapping(uint64 => address) public remoteRouters;
    /// tokens this pool locks and releases
    mapping(address => bool) public isSupportedToken;
    address[] private _tokens;
    /// keccak256(abi.encode(remoteSelector, remoteToken)) => local token
    mapping(bytes32 => address) public remoteToLocalToken;
    /// destination selector => last sequence number sent on that lane
    mapping(uint64 => uint64) public sequenceNumbers;
    /// destination selector => sender => last nonce
    mapping(uint64 => mapping(address => uint64)) public senderNonces;
    /// tokens locked here by messages sent, per token (what left this chain)
    mapping(address => uint256) public totalLocked;
    /// tokens released here by messages executed, per token (what arrived on this chain)
    mapping(address => uint256) public totalReleased;
    /// message id => its execution state on this (destination) chain
    mapping(bytes32 => CcipMessage.MessageExecutionState) private _executionStates;

    /// What a real EVM2EVMOnRamp emits (same signature and data layout).
    event CCIPSendRequested(CcipMessage.EVM2EVMMessage message);
    /// What a real EVM2EVMOffRamp emits once a message is executed.
    event ExecutionStateChanged(
        uint64 indexed sequenceNumber,
        bytes32 indexed messageId,
        CcipMessage.MessageExecutionState state,
        bytes returnData
    );
    event LaneSet(uint64 indexed remoteChainSelector, address remoteRouter);
    event TokenAdded(address indexed token);
    event TokenLinked(uint64 indexed remoteChainSelector, address remoteToken, address localToken);
    event RelayerSet(address indexed relayer);
    event FeesSet(uint256 baseFee, uint256 feePerByte, uint256 feePerToken);
    event FeesWithdrawn(address indexed to, uint256 amount);

    error UnsupportedFeeToken(address token);
    error UnsupportedToken(address token);
    error ZeroAmount();
    error TooManyTokens(uint256 n);
    error DataTooLarge(uint256 length);
    error InvalidEVMAddress(bytes encoded);
    error InvalidExtraArgs();
    error GasLimitTooHigh(uint256 gasLimit);
    error NotRelayer(address caller);
    error UnsupportedSourceChain(uint64 sourceChainSelector);
    error InvalidMessageId(bytes32 got, bytes32 want);
    error AlreadyExecuted(bytes32 messageId);
    error NoLocalToken(uint64 sourceChainSelector, address remoteToken);
    error ZeroAddress();
    error WithdrawFailed();

    constructor(uint64 localChainSelector_, address relayer_) Ownable(msg.sender) {
        if (relayer_ == address(0)) revert ZeroAddress();
        localChainSelector = localChainSelector_;
        relayer = relayer_;
        emit RelayerSet(relayer_);
    }

    // ---- configuration (the deployer) ----

    function setLane(uint64 remoteChainSelector, address remoteRouter) external onlyOwner {
        remoteRouters[remoteChainSelector] = remoteRouter;
        emit LaneSet(remoteChainSelector, remoteRouter);
    }

    function addToken(address token) external onlyOwner {
        if (token == address(0)) revert ZeroAddress();
        if (!isSupportedToken[token]) {
            isSupportedToken[token] = true;
            _tokens.push(token);
            emit TokenAdded(token);
        }
    }

    function linkToken(uint64 remoteChainSelector, address remoteToken, address localToken) external onlyOwner {
        if (!isSupportedToken[localToken]) revert UnsupportedToken(localToken);
        remoteToLocalToken[keccak256(abi.encode(remoteChainSelector, remoteToken))] = localToken;
        emit TokenLinked(remoteChainSelector, remoteToken, localToken);
    }

    function setRelayer(address relayer_) external onlyOwner {
        if (relayer_ == address(0)) revert ZeroAddress();
        relayer = relayer_;
        emit RelayerSet(relayer_);
    }

    function setFees(uint256 baseFee_, uint256 feePerByte_, uint256 feePerToken_) external onlyOwner {
        baseFee = baseFee_;
        feePerByte = feePerByte_;
        feePerToken = feePerToken_;
        emit FeesSet(baseFee_, feePerByte_, feePerToken_);
    }

    function withdrawFees(address payable to) external onlyOwner {
        uint256 amount = address(this).balance;
        emit FeesWithdrawn(to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert WithdrawFailed();
    }

    // ---- IRouterClient ----

    function isChainSupported(uint64 chainSelector) public view returns (bool supported) {
        return chainSelector != localChainSelector && remoteRouters[chainSelector] != address(0);
    }

    function getSupportedTokens(uint64 chainSelector) external view returns (address[] memory tokens) {
        if (!isChainSupported(chainSelector)) return new address[](0);
        return _tokens;
    }

    /// The native fee of a message; reverts on a message ccipSend would refuse.
    function getFee(uint64 destinationChainSelector, Client.EVM2AnyMessage memory message)
        public
        view
        returns (uint256 fee)
    {
        _validate(destinationChainSelector, message);
        return baseFee + feePerByte * message.data.length + feePerToken * message.tokenAmounts.length;
    }

    /// Locks the tokens (the caller approved this router), takes the fee (msg.value; an
    /// overpayment is kept, as Chainlink's router documents) and emits the message.
    function ccipSend(uint64 destinationChainSelector, Client.EVM2AnyMessage calldata message)
        external
        payable
        returns (bytes32)
    {
        uint256 fee = getFee(destinationChainSelector, message);
        if (msg.value < fee) revert InsufficientFeeTokenAmount();
        uint256 n = message.tokenAmounts.length;
        CcipMessage.EVM2EVMMessage memory m = CcipMessage.EVM2EVMMessage({
            sourceChainSelector: localChainSelector,
            sender: msg.sender,
            receiver: address(uint160(uint256(bytes32(message.receiver)))),
            sequenceNumber: ++sequenceNumbers[destinationChainSelector],
            gasLimit: _gasLimit(message.extraArgs),
            strict: false,
            nonce: ++senderNonces[destinationChainSelector][msg.sender],
            feeToken: address(0),
            feeTokenAmount: msg.value,
            data: message.data,
            tokenAmounts: message.tokenAmounts,
            sourceTokenData: new bytes[](n),
            messageId: bytes32(0)
        });
        m.messageId = CcipMessage.hash(
            m, CcipMessage.metadataHash(localChainSelector, destinationChainSelector, address(this))
        );
        for (uint256 i = 0; i < n; ++i) {
            Client.EVMTokenAmount calldata ta = message.tokenAmounts[i];
            totalLocked[ta.token] += ta.amount;
        }
        emit CCIPSendRequested(m);
        for (uint256 i = 0; i < n; ++i) {
            Client.EVMTokenAmount calldata ta = message.tokenAmounts[i];
            IERC20(ta.token).safeTransferFrom(msg.sender, address(this), ta.amount);
        }
        return m.messageId;
    }

    // ---- the off-ramp (the destination side) ----

    /// UNTOUCHED until executed, then SUCCESS (CCIP's enum).
    function getExecutionState(bytes32 messageId) external view returns (CcipMessage.MessageExecutionState) {
        return _executionStates[messageId];
    }

    /// The relayer delivers a message sent to this chain: its id must be the hash of its
    /// fields on the lane (source, here, the source's router), and it runs once. Releases
    /// each token to the receiver and, when data is attached and the receiver is a
    /// contract, calls its ccipReceive; if that reverts, the whole execution reverts (the
    /// message stays UNTOUCHED and can be executed again).
    function execute(CcipMessage.EVM2EVMMessage calldata message) external {
        if (msg.sender != relayer) revert NotRelayer(msg.sender);
        uint64 src = message.sourceChainSelector;
        address onRamp = remoteRouters[src];
        if (onRamp == address(0) || src == localChainSelector) revert UnsupportedSourceChain(src);
        bytes32 id = CcipMessage.hash(message, CcipMessage.metadataHash(src, localChainSelector, onRamp));
        if (id != message.messageId) revert InvalidMessageId(message.messageId, id);
        if (_executionStates[id] != CcipMessage.MessageExecutionState.UNTOUCHED) revert AlreadyExecuted(id);
        _executionStates[id] = CcipMessage.MessageExecutionState.SUCCESS;

        uint256 n = message.tokenAmounts.length;
        Client.EVMTokenAmount[] memory dest = new Client.EVMTokenAmount[](n);
        for (uint256 i = 0; i < n; ++i) {
            address remote = message.tokenAmounts[i].token;
            address local = remoteToLocalToken[keccak256(abi.encode(src, remote))];
            if (local == address(0)) revert NoLocalToken(src, remote);
            dest[i] = Client.EVMTokenAmount({token: local, amount: message.tokenAmounts[i].amount});
            totalReleased[local] += dest[i].amount;
        }
        emit ExecutionStateChanged(message.sequenceNumber, id, CcipMessage.MessageExecutionState.SUCCESS, "");
        for (uint256 i = 0; i < n; ++i) {
            IERC20(dest[i].token).safeTransfer(message.receiver, dest[i].amount);
        }
        if (message.data.length > 0 && message.receiver.code.length > 0) {
            Client.Any2EVMMessage memory any = Client.Any2EVMMessage({
                messageId: id,
                sourceChainSelector: src,
                sender: abi.encode(message.sender),
                data: message.data,
                destTokenAmounts: dest
            });
            // a revert here undoes the whole execution, releases included
            IAny2EVMMessageReceiver(message.receiver).ccipReceive{gas: message.gasLimit}(any);
        }
    }

    // ---- internal ----

    function _validate(uint64 dest, Client.EVM2AnyMessage memory message) private view {
        if (!isChainSupported(dest)) revert UnsupportedDestinationChain(dest);
        if (message.feeToken != address(0)) revert UnsupportedFeeToken(message.feeToken);
        if (message.receiver.length != 32 || uint256(bytes32(message.receiver)) >> 160 != 0) {
            revert InvalidEVMAddress(message.receiver);
        }
        if (message.data.length > MAX_DATA_BYTES) revert DataTooLarge(message.data.length);
        uint256 n = message.tokenAmounts.length;
        if (n > MAX_TOKENS) revert TooManyTokens(n);
        for (uint256 i = 0; i < n; ++i) {
            if (!isSupportedToken[message.tokenAmounts[i].token]) revert UnsupportedToken(message.tokenAmounts[i].token);
            if (message.tokenAmounts[i].amount == 0) revert ZeroAmount();
        }
        _gasLimit(message.extraArgs);
    }

    /// Empty: CCIP's default; else EVMExtraArgsV1 (tag 0x97a657c9, uint256 gasLimit).
    function _gasLimit(bytes memory extraArgs) private pure returns (uint256 g) {
        if (extraArgs.length == 0) return DEFAULT_GAS_LIMIT;
        if (extraArgs.length != 36 || bytes4(extraArgs) != Client.EVM_EXTRA_ARGS_V1_TAG) revert InvalidExtraArgs();
        for (uint256 i = 4; i < 36; ++i) {
            g = (g << 8) | uint8(extraArgs[i]);
        }
        if (g > MAX_GAS_LIMIT) revert GasLimitTooHigh(g);
    }
}
