// SPDX-License-Identifier: MIT
// One escrow between a payer and a payee, in the native coin or one ERC20, released only
// when M of N approvers (never the payer) agree, refunded on timeout or by the arbiter, and
// decided by the arbiter when disputed. Deployed as EIP-1167 clones by EscrowFactory; every
// state change emits an event so an indexer rebuilds the escrow from logs alone.
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

contract Escrow is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// Life cycle. Released, Refunded and Resolved are terminal.
    enum State {
        Created,
        Funded,
        Released,
        Refunded,
        Disputed,
        Resolved
    }

    /// Upper bound on N, so that every loop over the approver set is bounded.
    uint256 public constant MAX_APPROVERS = 32;
    /// Upper bound on a dispute reason, in bytes (it is stored in the log only).
    uint256 public constant MAX_REASON_BYTES = 1024;

    // ---- errors (every revert of this contract is one of these) ----
    error AlreadyInitialized();
    error ZeroAddress();
    error ZeroAmount();
    error SamePayerPayee();
    error ArbiterNotIndependent();
    error NotAContract(address token);
    error NoApprovers();
    error TooManyApprovers(uint256 count, uint256 max);
    error DuplicateApprover(address approver);
    error PayerCannotApprove();
    error InvalidThreshold(uint256 threshold, uint256 approvers);
    error DeadlineNotInFuture(uint64 deadline, uint256 nowTs);
    error InvalidState(State current);
    error NotPayer();
    error NotArbiter();
    error NotApprover();
    error NotParty();
    error AlreadyApproved();
    error DeadlinePassed(uint64 deadline);
    error DeadlineNotReached(uint64 deadline);
    error WrongValue(uint256 sent, uint256 expected);
    error FeeOnTransferToken(uint256 received, uint256 expected);
    error ThresholdNotReached(uint256 approvals, uint256 threshold);
    error ThresholdReached();
    error ReasonTooLong(uint256 length, uint256 max);

    // ---- events (the log is the source of truth for the workstation's indexer) ----
    /// The payer deposited `amount` (the full escrow amount) of the escrow's asset.
    event Funded(address indexed funder, uint256 amount);
    /// `approver` approved the release; `approvals` is the count including this one.
    event Approved(address indexed approver, uint256 approvals);
    /// The deposit went to the payee (`to`) after the threshold was reached.
    event Released(address indexed to, uint256 amount);
    /// The deposit went back to the payer (`to`); `by` is the payer (timeout) or the arbiter.
    event Refunded(address indexed to, uint256 amount, address indexed by);
    /// `by` (payer or payee) opened a dispute; release is blocked until the arbiter resolves.
    event Disputed(address indexed by, string reason);
    /// The arbiter decided the dispute: the deposit went to `to` (payee if `toPayee`).
    event Resolved(bool toPayee, address indexed to, uint256 amount);

    // ---- terms, fixed at initialisation ----
    address public factory;
    address public payer;
    address public payee;
    /// ERC20 token, or address(0) for the chain's native coin.
    address public token;
    address public arbiter;
    uint256 public amount;
    uint64 public deadline;
    uint256 public threshold;
    address[] private _approvers;
    mapping(address => bool) public isApprover;

    // ---- progress ----
    State public state;
    uint256 public approvals;
    mapping(address => bool) public hasApproved;
    bool private _initialized;

    /// The implementation behind the clones is never initialised itself.
    constructor() {
        _initialized = true;
    }

    /// Sets the terms once; called by the factory in the same transaction that creates the
    /// clone, so nobody can initialise it first. msg.sender is recorded as the factory.
    function initialize(
        address payer_,
        address payee_,
        address token_,
        uint256 amount_,
        address[] calldata approvers_,
        uint256 threshold_,
        address arbiter_,
        uint64 deadline_
    ) external {
        if (_initialized) revert AlreadyInitialized();
        _initialized = true;
        if (payer_ == address(0) || payee_ == address(0) || arbiter_ == address(0)) {
            revert ZeroAddress();
        }
        if (amount_ == 0) revert ZeroAmount();
        if (payer_ == payee_) revert SamePayerPayee();
        if (arbiter_ == payer_ || arbiter_ == payee_) revert ArbiterNotIndependent();
        if (token_ != address(0) && token_.code.length == 0) revert NotAContract(token_);
        uint256 n = approvers_.length;
        if (n == 0) revert NoApprovers();
        if (n > MAX_APPROVERS) revert TooManyApprovers(n, MAX_APPROVERS);
        if (threshold_ == 0 || threshold_ > n) revert InvalidThreshold(threshold_, n);
        if (deadline_ <= block.timestamp) revert DeadlineNotInFuture(deadline_, block.timestamp);
        for (uint256 i = 0; i < n; ++i) {
            address a = approvers_[i];
            if (a == address(0)) revert ZeroAddress();
            if (a == payer_) revert PayerCannotApprove();
            if (isApprover[a]) revert DuplicateApprover(a);
            isApprover[a] = true;
            _approvers.push(a);
        }
        factory = msg.sender;
        payer = payer_;
        payee = payee_;
        token = token_;
        amount = amount_;
        threshold = threshold_;
        arbiter = arbiter_;
        deadline = deadline_;
    }

    /// Deposits exactly `amount`: as msg.value for the native coin, else by transferFrom
    /// (approve this escrow first). Only the payer funds, once, up to the deadline.
    function fund() external payable nonReentrant {
        if (msg.sender != payer) revert NotPayer();
        if (state != State.Created) revert InvalidState(state);
        if (block.timestamp > deadline) revert DeadlinePassed(deadline);
        uint256 amt = amount;
        address tok = token;
        uint256 expectedValue = tok == address(0) ? amt : 0;
        if (msg.value != expectedValue) revert WrongValue(msg.value, expectedValue);
        state = State.Funded;
        if (tok != address(0)) {
            // The state is already Funded, so a re-entering token cannot fund twice; the
            // balance delta is checked after the transfer because only then is it known.
            uint256 before = IERC20(tok).balanceOf(address(this));
            IERC20(tok).safeTransferFrom(msg.sender, address(this), amt);
            uint256 afterwards = IERC20(tok).balanceOf(address(this));
            // Written so a token whose balance shrinks still gets our error, not a Panic.
            uint256 received = afterwards > before ? afterwards - before : 0;
            if (received != amt) revert FeeOnTransferToken(received, amt);
        }
        emit Funded(msg.sender, amt);
    }

    /// One approval per approver, while funded and up to the deadline. The payer is never
    /// an approver (initialize rejects it), and is refused here explicitly as well.
    function approve() external {
        if (msg.sender == payer) revert PayerCannotApprove();
        if (!isApprover[msg.sender]) revert NotApprover();
        if (state != State.Funded) revert InvalidState(state);
        if (block.timestamp > deadline) revert DeadlinePassed(deadline);
        if (hasApproved[msg.sender]) revert AlreadyApproved();
        hasApproved[msg.sender] = true;
        uint256 count = approvals + 1;
        approvals = count;
        emit Approved(msg.sender, count);
    }

    /// Pays the deposit to the payee once `threshold` approvals are in and no dispute is
    /// open. Anyone may trigger it: the recipient is fixed. Also allowed after the deadline
    /// when the threshold was reached before it.
    function release() external nonReentrant {
        if (state != State.Funded) revert InvalidState(state);
        if (approvals < threshold) revert ThresholdNotReached(approvals, threshold);
        state = State.Released;
        address to = payee;
        uint256 amt = amount;
        emit Released(to, amt);
        _pay(to, amt);
    }

    /// Returns the deposit to the payer. The arbiter may do so any time while funded (not
    /// disputed: then it resolves). The payer may do so after the deadline, unless the
    /// approvers reached the threshold in time (then the payee is owed the release).
    function refund() external nonReentrant {
        if (state != State.Funded) revert InvalidState(state);
        if (msg.sender != arbiter) {
            if (msg.sender != payer) revert NotParty();
            if (block.timestamp <= deadline) revert DeadlineNotReached(deadline);
            if (approvals >= threshold) revert ThresholdReached();
        }
        state = State.Refunded;
        address to = payer;
        uint256 amt = amount;
        emit Refunded(to, amt, msg.sender);
        _pay(to, amt);
    }

    /// Payer or payee freeze the escrow for the arbiter, while funded and up to the
    /// deadline. There is one dispute per escrow; only the arbiter ends it.
    function dispute(string calldata reason) external {
        if (msg.sender != payer && msg.sender != payee) revert NotParty();
        if (state != State.Funded) revert InvalidState(state);
        if (block.timestamp > deadline) revert DeadlinePassed(deadline);
        if (bytes(reason).length > MAX_REASON_BYTES) {
            revert ReasonTooLong(bytes(reason).length, MAX_REASON_BYTES);
        }
        state = State.Disputed;
        emit Disputed(msg.sender, reason);
    }

    /// The arbiter decides a dispute: the whole deposit to the payee or back to the payer.
    function resolve(bool toPayee) external nonReentrant {
        if (msg.sender != arbiter) revert NotArbiter();
        if (state != State.Disputed) revert InvalidState(state);
        state = State.Resolved;
        address to = toPayee ? payee : payer;
        uint256 amt = amount;
        emit Resolved(toPayee, to, amt);
        _pay(to, amt);
    }

    /// The approver set, in the order given at creation.
    function approvers() external view returns (address[] memory) {
        return _approvers;
    }

    /// Everything a client shows, in one call (views are a convenience; logs are the truth).
    function summary()
        external
        view
        returns (
            State state_,
            address payer_,
            address payee_,
            address token_,
            uint256 amount_,
            address arbiter_,
            uint64 deadline_,
            uint256 threshold_,
            uint256 approvals_
        )
    {
        return (state, payer, payee, token, amount, arbiter, deadline, threshold, approvals);
    }

    function _pay(address to, uint256 amt) private {
        address tok = token;
        if (tok == address(0)) {
            Address.sendValue(payable(to), amt);
        } else {
            IERC20(tok).safeTransfer(to, amt);
        }
    }
}
