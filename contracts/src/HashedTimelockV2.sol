// SPDX-License-Identifier: MIT
// Version 2 of the hashed timelock contract (HashedTimelock.sol stays deployed and unchanged
// beside it). Same lock/claim/refund as version 1, with three changes: a preimage is any
// byte string of 0 to MAX_PREIMAGE_BYTES bytes (hashlock = sha256 of exactly those bytes),
// so a secret another chain's HTLC accepts is accepted here too; a hashlock can be locked
// only once per contract, so one revealed preimage never opens a second lock; and stray
// funds (balance above the open locks' total) can be swept to a recoverer fixed at
// deployment, never touching a locked amount.
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

contract HashedTimelockV2 is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    enum Status {
        None,
        Locked,
        Claimed,
        Refunded
    }

    struct Lock {
        address sender;
        address receiver;
        address token; // address(0): native coin
        uint64 timelock; // unix seconds; claim strictly before, refund from then on
        Status status;
        uint256 amount;
        bytes32 hashlock; // sha256(preimage)
    }

    /// Interface version (2); version 1 has no version().
    uint256 public constant VERSION = 2;
    /// Longest preimage claim() accepts, in bytes.
    uint256 public constant MAX_PREIMAGE_BYTES = 1024;

    error ZeroAddress();
    error ZeroAmount();
    error ZeroHashlock();
    error HashlockUsed(bytes32 hashlock);
    error TimelockNotInFuture(uint64 timelock, uint256 nowTs);
    error NotAContract(address token);
    error WrongValue(uint256 sent, uint256 expected);
    error FeeOnTransferToken(uint256 received, uint256 expected);
    error UnknownLock(bytes32 id);
    error NotLocked(bytes32 id, Status status);
    error TimelockExpired(bytes32 id, uint64 timelock);
    error TimelockNotExpired(bytes32 id, uint64 timelock);
    error PreimageTooLong(uint256 length, uint256 max);
    error WrongPreimage(bytes32 id);
    error NotRecoverer();
    error NothingToSweep(address token);

    /// Funds locked under `id` (unique; derived from chain, contract and a counter).
    event Locked(
        bytes32 indexed id,
        address indexed sender,
        address indexed receiver,
        address token,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    );
    /// The receiver was paid; the preimage (any length) is now public.
    event Claimed(bytes32 indexed id, bytes preimage);
    /// The timelock passed unclaimed and the sender was paid back.
    event Refunded(bytes32 indexed id);
    /// `amount` of `token` not belonging to any open lock went to the recoverer (`to`).
    event Swept(address indexed token, address indexed to, uint256 amount);

    /// Receives swept stray funds; fixed at deployment.
    address public immutable recoverer;
    /// Number of locks created; the next lock's nonce.
    uint256 public lockCount;
    /// Sum of the open (Locked) amounts per token (address(0): native coin).
    mapping(address => uint256) public committed;
    /// True once a lock used the hashlock (whatever became of that lock).
    mapping(bytes32 => bool) public hashlockUsed;
    mapping(bytes32 => Lock) private _locks;

    constructor(address recoverer_) {
        if (recoverer_ == address(0)) revert ZeroAddress();
        recoverer = recoverer_;
    }

    /// Interface version (2).
    function version() external pure returns (uint256) {
        return VERSION;
    }

    /// Locks `amount` of `token` (address(0): send it as msg.value) for `receiver` until
    /// `timelock` under a hashlock never used here before. Returns the lock's id.
    function lock(address receiver, address token, uint256 amount, bytes32 hashlock, uint64 timelock)
        external
        payable
        nonReentrant
        returns (bytes32 id)
    {
        if (receiver == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        if (hashlock == bytes32(0)) revert ZeroHashlock();
        if (hashlockUsed[hashlock]) revert HashlockUsed(hashlock);
        if (timelock <= block.timestamp) revert TimelockNotInFuture(timelock, block.timestamp);
        uint256 expectedValue = token == address(0) ? amount : 0;
        if (msg.value != expectedValue) revert WrongValue(msg.value, expectedValue);
        if (token != address(0) && token.code.length == 0) revert NotAContract(token);

        hashlockUsed[hashlock] = true;
        uint256 nonce = lockCount;
        lockCount = nonce + 1;
        id = keccak256(abi.encode(block.chainid, address(this), nonce));
        _locks[id] = Lock({
            sender: msg.sender,
            receiver: receiver,
            token: token,
            timelock: timelock,
            status: Status.Locked,
            amount: amount,
            hashlock: hashlock
        });
        committed[token] += amount;
        emit Locked(id, msg.sender, receiver, token, amount, hashlock, timelock);
        if (token != address(0)) {
            uint256 before = IERC20(token).balanceOf(address(this));
            IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
            uint256 afterwards = IERC20(token).balanceOf(address(this));
            // Written so a token whose balance shrinks still gets our error, not a Panic.
            uint256 received = afterwards > before ? afterwards - before : 0;
            if (received != amount) revert FeeOnTransferToken(received, amount);
        }
    }

    /// Pays the receiver when sha256(preimage) matches, strictly before the timelock.
    /// Anyone may submit it (relayers); the money only goes to the receiver.
    function claim(bytes32 id, bytes calldata preimage) external nonReentrant {
        Lock storage lk = _open(id);
        if (block.timestamp >= lk.timelock) revert TimelockExpired(id, lk.timelock);
        if (preimage.length > MAX_PREIMAGE_BYTES) revert PreimageTooLong(preimage.length, MAX_PREIMAGE_BYTES);
        if (sha256(preimage) != lk.hashlock) revert WrongPreimage(id);
        lk.status = Status.Claimed;
        committed[lk.token] -= lk.amount;
        emit Claimed(id, preimage);
        _pay(lk.token, lk.receiver, lk.amount);
    }

    /// Pays the sender back once the timelock is reached. Anyone may trigger it.
    function refund(bytes32 id) external nonReentrant {
        Lock storage lk = _open(id);
        if (block.timestamp < lk.timelock) revert TimelockNotExpired(id, lk.timelock);
        lk.status = Status.Refunded;
        committed[lk.token] -= lk.amount;
        emit Refunded(id);
        _pay(lk.token, lk.sender, lk.amount);
    }

    /// Sends the recoverer what this contract holds of `token` (address(0): the coin) above
    /// the open locks' total: coin force-sent, tokens transferred here directly.
    function sweep(address token) external nonReentrant {
        if (msg.sender != recoverer) revert NotRecoverer();
        uint256 bal = token == address(0) ? address(this).balance : IERC20(token).balanceOf(address(this));
        uint256 locked = committed[token];
        if (bal <= locked) revert NothingToSweep(token);
        uint256 stray = bal - locked;
        emit Swept(token, recoverer, stray);
        _pay(token, recoverer, stray);
    }

    /// The lock's terms and status (Status.None for an unknown id).
    function getLock(bytes32 id) external view returns (Lock memory) {
        return _locks[id];
    }

    function _open(bytes32 id) private view returns (Lock storage lk) {
        lk = _locks[id];
        if (lk.status == Status.None) revert UnknownLock(id);
        if (lk.status != Status.Locked) revert NotLocked(id, lk.status);
    }

    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            Address.sendValue(payable(to), amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }
}
