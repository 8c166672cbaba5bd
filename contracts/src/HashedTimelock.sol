// SPDX-License-Identifier: MIT
// Hashed timelock contract for cross-chain delivery-versus-payment: a sender locks native
// coin or an ERC20 for a receiver; the receiver gets it by revealing the preimage of
// hashlock = sha256(preimage) before the timelock, else the sender gets it back. sha256 (not
// keccak) so the same secret works with the classic HTLCs on other chains.
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

contract HashedTimelock is ReentrancyGuardTransient {
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

    error ZeroAddress();
    error ZeroAmount();
    error ZeroHashlock();
    error TimelockNotInFuture(uint64 timelock, uint256 nowTs);
    error NotAContract(address token);
    error WrongValue(uint256 sent, uint256 expected);
    error FeeOnTransferToken(uint256 received, uint256 expected);
    error UnknownLock(bytes32 id);
    error NotLocked(bytes32 id, Status status);
    error TimelockExpired(bytes32 id, uint64 timelock);
    error TimelockNotExpired(bytes32 id, uint64 timelock);
    error WrongPreimage(bytes32 id);

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
    /// The receiver was paid; the preimage is now public (the counterparty reads it here).
    event Claimed(bytes32 indexed id, bytes32 preimage);
    /// The timelock passed unclaimed and the sender was paid back.
    event Refunded(bytes32 indexed id);

    mapping(bytes32 => Lock) private _locks;
    /// Number of locks created; the next lock's nonce.
    uint256 public lockCount;

    /// Locks `amount` of `token` (address(0): send it as msg.value) for `receiver` until
    /// `timelock`. Returns the lock's id, also in the Locked event.
    function lock(address receiver, address token, uint256 amount, bytes32 hashlock, uint64 timelock)
        external
        payable
        nonReentrant
        returns (bytes32 id)
    {
        if (receiver == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        if (hashlock == bytes32(0)) revert ZeroHashlock();
        if (timelock <= block.timestamp) revert TimelockNotInFuture(timelock, block.timestamp);
        uint256 expectedValue = token == address(0) ? amount : 0;
        if (msg.value != expectedValue) revert WrongValue(msg.value, expectedValue);
        if (token != address(0) && token.code.length == 0) revert NotAContract(token);

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
        if (token != address(0)) {
            uint256 before = IERC20(token).balanceOf(address(this));
            IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
            uint256 afterwards = IERC20(token).balanceOf(address(this));
            // Written so a token whose balance shrinks still gets our error, not a Panic.
            uint256 received = afterwards > before ? afterwards - before : 0;
            if (received != amount) revert FeeOnTransferToken(received, amount);
        }
        emit Locked(id, msg.sender, receiver, token, amount, hashlock, timelock);
    }

    /// Pays the receiver when sha256(preimage) matches, strictly before the timelock.
    /// Anyone may submit it (relayers); the money only goes to the receiver.
    function claim(bytes32 id, bytes32 preimage) external nonReentrant {
        Lock storage lk = _open(id);
        if (block.timestamp >= lk.timelock) revert TimelockExpired(id, lk.timelock);
        if (sha256(abi.encodePacked(preimage)) != lk.hashlock) revert WrongPreimage(id);
        lk.status = Status.Claimed;
        emit Claimed(id, preimage);
        _pay(lk.token, lk.receiver, lk.amount);
    }

    /// Pays the sender back once the timelock is reached. Anyone may trigger it.
    function refund(bytes32 id) external nonReentrant {
        Lock storage lk = _open(id);
        if (block.timestamp < lk.timelock) revert TimelockNotExpired(id, lk.timelock);
        lk.status = Status.Refunded;
        emit Refunded(id);
        _pay(lk.token, lk.sender, lk.amount);
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
