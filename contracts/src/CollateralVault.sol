// SPDX-License-Identifier: MIT
// Collateral of the desk's credit facilities on one chain: counterparties deposit ERC20
// tokens under their own address; a withdrawal (asked by the depositor) and a seizure on
// liquidation (proposed by an approver, paid to the desk's address) both need M of the desk's
// N approvers. Every state change emits its event before the token moves, so the log
// order is the state order; the vault holds exactly the sum of the recorded balances of
// each token (tokens that charge a fee on transfer are refused).
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

contract CollateralVault is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    enum Kind {
        Withdrawal,
        Seizure
    }

    enum Status {
        None,
        Open,
        Executed,
        Cancelled
    }

    struct Request {
        Kind kind;
        Status status;
        address owner; // whose collateral
        address token;
        address to; // the owner (withdrawal) or the desk's receiving address (seizure)
        uint256 amount;
        uint256 approvals;
    }

    /// Upper bound on N, so that the approver set stays small and bounded.
    uint256 public constant MAX_APPROVERS = 32;

    error ZeroAddress();
    error ZeroAmount();
    error NoApprovers();
    error TooManyApprovers(uint256 count, uint256 max);
    error DuplicateApprover(address approver);
    error InvalidThreshold(uint256 threshold, uint256 approvers);
    error NotAContract(address token);
    error FeeOnTransferToken(uint256 received, uint256 expected);
    error NotApprover();
    error NotOwner();
    error UnknownRequest(uint256 id);
    error NotOpen(uint256 id, Status status);
    error AlreadyApproved(uint256 id);
    error ThresholdNotReached(uint256 approvals, uint256 threshold);
    error InsufficientCollateral(uint256 balance, uint256 amount);

    /// `owner` deposited `amount` of `token`; `balance` is its balance of it afterwards.
    event Deposited(address indexed owner, address indexed token, uint256 amount, uint256 balance);
    /// `owner` asked to withdraw `amount` of `token` (request `id`).
    event WithdrawalRequested(uint256 indexed id, address indexed owner, address indexed token, uint256 amount);
    /// Approver `by` proposed seizing `amount` of `owner`'s `token` to `to` (request `id`).
    event SeizureProposed(
        uint256 indexed id, address indexed owner, address indexed token, uint256 amount, address to, address by
    );
    /// `approver` approved request `id`; `approvals` counts this one.
    event RequestApproved(uint256 indexed id, address indexed approver, uint256 approvals);
    /// The owner cancelled its withdrawal request `id`.
    event RequestCancelled(uint256 indexed id);
    /// Withdrawal `id` paid `amount` of `token` back to `owner`; `balance` is what remains.
    event Withdrawn(uint256 indexed id, address indexed owner, address indexed token, uint256 amount, uint256 balance);
    /// Seizure `id` paid `amount` of `owner`'s `token` to `to`; `balance` is what remains.
    event Seized(
        uint256 indexed id, address indexed owner, address indexed token, uint256 amount, address to, uint256 balance
    );

    uint256 public immutable threshold;
    address[] private _approvers;
    mapping(address => bool) public isApprover;
    /// owner => token => deposited and not yet withdrawn or seized
    mapping(address => mapping(address => uint256)) public balanceOf;
    Request[] private _requests;
    mapping(uint256 => mapping(address => bool)) public hasApproved;

    constructor(address[] memory approvers_, uint256 threshold_) {
        uint256 n = approvers_.length;
        if (n == 0) revert NoApprovers();
        if (n > MAX_APPROVERS) revert TooManyApprovers(n, MAX_APPROVERS);
        if (threshold_ == 0 || threshold_ > n) revert InvalidThreshold(threshold_, n);
        for (uint256 i = 0; i < n; ++i) {
            address a = approvers_[i];
            if (a == address(0)) revert ZeroAddress();
            if (isApprover[a]) revert DuplicateApprover(a);
            isApprover[a] = true;
            _approvers.push(a);
        }
        threshold = threshold_;
    }

    function approvers() external view returns (address[] memory) {
        return _approvers;
    }

    function requestCount() external view returns (uint256) {
        return _requests.length;
    }

    function getRequest(uint256 id) external view returns (Request memory) {
        if (id >= _requests.length) revert UnknownRequest(id);
        return _requests[id];
    }

    /// Deposits `amount` of `token` (approved to this vault beforehand) under msg.sender.
    function deposit(address token, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (token.code.length == 0) revert NotAContract(token);
        IERC20 t = IERC20(token);
        uint256 before = t.balanceOf(address(this));
        t.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = t.balanceOf(address(this)) - before;
        if (received != amount) revert FeeOnTransferToken(received, amount);
        uint256 bal = balanceOf[msg.sender][token] + amount;
        balanceOf[msg.sender][token] = bal;
        emit Deposited(msg.sender, token, amount, bal);
    }

    /// The depositor asks for `amount` of its `token` back; the desk's approvers decide.
    function requestWithdrawal(address token, uint256 amount) external returns (uint256 id) {
        if (amount == 0) revert ZeroAmount();
        uint256 bal = balanceOf[msg.sender][token];
        if (bal < amount) revert InsufficientCollateral(bal, amount);
        id = _requests.length;
        _requests.push(Request(Kind.Withdrawal, Status.Open, msg.sender, token, msg.sender, amount, 0));
        emit WithdrawalRequested(id, msg.sender, token, amount);
    }

    /// An approver proposes seizing `amount` of `owner`'s `token` to `to` (liquidation).
    function proposeSeizure(address owner, address token, uint256 amount, address to) external returns (uint256 id) {
        if (!isApprover[msg.sender]) revert NotApprover();
        if (owner == address(0) || to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 bal = balanceOf[owner][token];
        if (bal < amount) revert InsufficientCollateral(bal, amount);
        id = _requests.length;
        _requests.push(Request(Kind.Seizure, Status.Open, owner, token, to, amount, 0));
        emit SeizureProposed(id, owner, token, amount, to, msg.sender);
    }

    function approve(uint256 id) external {
        if (!isApprover[msg.sender]) revert NotApprover();
        Request storage r = _open(id);
        if (hasApproved[id][msg.sender]) revert AlreadyApproved(id);
        hasApproved[id][msg.sender] = true;
        uint256 n = r.approvals + 1;
        r.approvals = n;
        emit RequestApproved(id, msg.sender, n);
    }

    /// The owner withdraws its own withdrawal request before it is executed.
    function cancel(uint256 id) external {
        Request storage r = _open(id);
        if (r.kind != Kind.Withdrawal || r.owner != msg.sender) revert NotOwner();
        r.status = Status.Cancelled;
        emit RequestCancelled(id);
    }

    /// Anyone executes an open request once M approvers approved it; the collateral must
    /// still be there (a seizure and a withdrawal cannot both take the same tokens).
    function execute(uint256 id) external nonReentrant {
        Request storage r = _open(id);
        if (r.approvals < threshold) revert ThresholdNotReached(r.approvals, threshold);
        uint256 bal = balanceOf[r.owner][r.token];
        if (bal < r.amount) revert InsufficientCollateral(bal, r.amount);
        uint256 left = bal - r.amount;
        balanceOf[r.owner][r.token] = left;
        r.status = Status.Executed;
        if (r.kind == Kind.Withdrawal) emit Withdrawn(id, r.owner, r.token, r.amount, left);
        else emit Seized(id, r.owner, r.token, r.amount, r.to, left);
        IERC20(r.token).safeTransfer(r.to, r.amount);
    }

    function _open(uint256 id) private view returns (Request storage r) {
        if (id >= _requests.length) revert UnknownRequest(id);
        r = _requests[id];
        if (r.status != Status.Open) revert NotOpen(id, r.status);
    }
}
