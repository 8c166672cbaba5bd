// SPDX-License-Identifier: MIT
// Version 2 of the escrow (Escrow.sol stays deployed and unchanged beside it): one escrow
// between a payer and a payee, in the native coin or one ERC20, released when M of N
// independent approvers (never payer, payee or arbiter) approve the exact terms by their
// hash, refunded on timeout or by the arbiter before the threshold, decided by the arbiter
// when disputed, and refunded to the payer when a dispute outlives its window. Stray funds
// are swept to the payer whenever nothing is committed. Deployed as EIP-1167 clones by
// EscrowFactoryV2; every state change emits its event before any external call, so the log
// order always matches the final state.
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

contract EscrowV2 is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// Life cycle (same values as version 1). Released, Refunded and Resolved are terminal.
    enum State {
        Created,
        Funded,
        Released,
        Refunded,
        Disputed,
        Resolved
    }

    /// Everything fixed at creation. `approvers` in the caller's order.
    struct Terms {
        address payer;
        address payee;
        address token;
        uint256 amount;
        address[] approvers;
        uint256 threshold;
        address arbiter;
        uint64 deadline;
        uint64 disputeWindow;
    }

    /// Interface version of this contract (EscrowV2 and EscrowFactoryV2 both answer 2).
    uint256 public constant VERSION = 2;
    /// Upper bound on N, so that every loop over the approver set is bounded.
    uint256 public constant MAX_APPROVERS = 32;
    /// Upper bound on a dispute reason, in bytes (it is stored in the log only).
    uint256 public constant MAX_REASON_BYTES = 1024;
    /// Bounds of the dispute window (seconds after the deadline during which only the
    /// arbiter can end a dispute). Clients use DEFAULT_DISPUTE_WINDOW unless told otherwise.
    uint64 public constant MIN_DISPUTE_WINDOW = 1 days;
    uint64 public constant MAX_DISPUTE_WINDOW = 90 days;
    uint64 public constant DEFAULT_DISPUTE_WINDOW = 7 days;

    // ---- errors (every revert of this contract is one of these or OpenZeppelin's) ----
    error AlreadyInitialized();
    error ZeroAddress();
    error ZeroAmount();
    error SamePayerPayee();
    error ArbiterNotIndependent();
    error NotAContract(address token);
    error NoApprovers();
    error TooManyApprovers(uint256 count, uint256 max);
    error DuplicateApprover(address approver);
    error ApproverNotIndependent(address approver);
    error InvalidThreshold(uint256 threshold, uint256 approvers);
    error DeadlineNotInFuture(uint64 deadline, uint256 nowTs);
    error InvalidDisputeWindow(uint64 window, uint64 min, uint64 max);
    error InvalidState(State current);
    error NotPayer();
    error NotArbiter();
    error NotApprover();
    error NotParty();
    error AlreadyApproved();
    error WrongTerms(bytes32 given, bytes32 expected);
    error DeadlinePassed(uint64 deadline);
    error DeadlineNotReached(uint64 deadline);
    error WrongValue(uint256 sent, uint256 expected);
    error FeeOnTransferToken(uint256 received, uint256 expected);
    error ThresholdNotReached(uint256 approvals, uint256 threshold);
    error ThresholdReached();
    error ReasonTooLong(uint256 length, uint256 max);
    error DisputeWindowOpen(uint256 closesAt);
    error DisputeWindowClosed(uint256 closedAt);
    error NothingToSweep(address token);

    // ---- events (the log is the source of truth for the workstation's indexer) ----
    /// The payer deposited `amount` (the full escrow amount) of the escrow's asset.
    event Funded(address indexed funder, uint256 amount);
    /// `approver` approved the release; `approvals` is the count including this one.
    event Approved(address indexed approver, uint256 approvals);
    /// The deposit went to the payee (`to`) after the threshold was reached.
    event Released(address indexed to, uint256 amount);
    /// The deposit went back to the payer (`to`); `by` is the payer (timeout, or a dispute
    /// past its window) or the arbiter (before the threshold).
    event Refunded(address indexed to, uint256 amount, address indexed by);
    /// `by` (payer or payee) opened a dispute; release is blocked until it ends.
    event Disputed(address indexed by, string reason);
    /// The arbiter decided the dispute: the deposit went to `to` (payee if `toPayee`).
    event Resolved(bool toPayee, address indexed to, uint256 amount);
    /// The arbiter handed its role over to `next`.
    event ArbiterChanged(address indexed previous, address indexed next);
    /// Uncommitted `amount` of `token` (address(0): native coin) went to the payer (`to`).
    event Swept(address indexed token, address indexed to, uint256 amount);

    // ---- terms, fixed at initialisation (except the arbiter, which it can hand over) ----
    address public factory;
    address public payer;
    address public payee;
    /// ERC20 token, or address(0) for the chain's native coin.
    address public token;
    address public arbiter;
    uint256 public amount;
    uint64 public deadline;
    uint64 public disputeWindow;
    uint256 public threshold;
    /// keccak256 of the terms (see termsHash in docs/contracts.md); approve() must name it.
    bytes32 public termsHash;
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

    /// Interface version (2).
    function version() external pure returns (uint256) {
        return VERSION;
    }

    /// Sets the terms once; called by the factory in the same transaction that creates the
    /// clone, so nobody can initialise it first. msg.sender is recorded as the factory.
    function initialize(Terms calldata t) external {
        if (_initialized) revert AlreadyInitialized();
        _initialized = true;
        if (t.payer == address(0) || t.payee == address(0) || t.arbiter == address(0)) {
            revert ZeroAddress();
        }
        if (t.amount == 0) revert ZeroAmount();
        if (t.payer == t.payee) revert SamePayerPayee();
        if (t.arbiter == t.payer || t.arbiter == t.payee) revert ArbiterNotIndependent();
        if (t.token != address(0) && t.token.code.length == 0) revert NotAContract(t.token);
        uint256 n = t.approvers.length;
        if (n == 0) revert NoApprovers();
        if (n > MAX_APPROVERS) revert TooManyApprovers(n, MAX_APPROVERS);
        if (t.threshold == 0 || t.threshold > n) revert InvalidThreshold(t.threshold, n);
        if (t.deadline <= block.timestamp) revert DeadlineNotInFuture(t.deadline, block.timestamp);
        if (t.disputeWindow < MIN_DISPUTE_WINDOW || t.disputeWindow > MAX_DISPUTE_WINDOW) {
            revert InvalidDisputeWindow(t.disputeWindow, MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW);
        }
        for (uint256 i = 0; i < n; ++i) {
            address a = t.approvers[i];
            if (a == address(0)) revert ZeroAddress();
            // Maker-checker: no party to the escrow checks it.
            if (a == t.payer || a == t.payee || a == t.arbiter) revert ApproverNotIndependent(a);
            if (isApprover[a]) revert DuplicateApprover(a);
            isApprover[a] = true;
            _approvers.push(a);
        }
        factory = msg.sender;
        payer = t.payer;
        payee = t.payee;
        token = t.token;
        amount = t.amount;
        threshold = t.threshold;
        arbiter = t.arbiter;
        deadline = t.deadline;
        disputeWindow = t.disputeWindow;
        termsHash = keccak256(
            abi.encode(
                block.chainid,
                address(this),
                t.payer,
                t.payee,
                t.token,
                t.amount,
                t.approvers,
                t.threshold,
                t.deadline,
                t.arbiter,
                t.disputeWindow
            )
        );
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
        // Logged before the transfer: if the transfer or the check below fails, the whole
        // call reverts with the log; if it succeeds, Funded precedes anything after it.
        emit Funded(msg.sender, amt);
        if (tok != address(0)) {
            uint256 before = IERC20(tok).balanceOf(address(this));
            IERC20(tok).safeTransferFrom(msg.sender, address(this), amt);
            uint256 afterwards = IERC20(tok).balanceOf(address(this));
            // Written so a token whose balance shrinks still gets our error, not a Panic.
            uint256 received = afterwards > before ? afterwards - before : 0;
            if (received != amt) revert FeeOnTransferToken(received, amt);
        }
    }

    /// One approval per approver, while funded and up to the deadline, naming the terms the
    /// approver saw: `terms` must equal termsHash(), so an approval cannot land on another
    /// escrow (a reorg, a swapped address) or on other terms.
    function approve(bytes32 terms) external nonReentrant {
        if (!isApprover[msg.sender]) revert NotApprover();
        if (terms != termsHash) revert WrongTerms(terms, termsHash);
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
        _pay(token, to, amt);
    }

    /// Returns the deposit to the payer.
    /// Funded: the arbiter any time, the payer after the deadline; neither once the
    /// approvals reached the threshold (then only release ends the escrow).
    /// Disputed: the payer once the dispute window is over (after deadline + disputeWindow)
    /// and the arbiter has not resolved it.
    function refund() external nonReentrant {
        State s = state;
        if (s == State.Funded) {
            if (msg.sender != arbiter) {
                if (msg.sender != payer) revert NotParty();
                if (block.timestamp <= deadline) revert DeadlineNotReached(deadline);
            }
            if (approvals >= threshold) revert ThresholdReached();
        } else if (s == State.Disputed) {
            if (msg.sender != payer) revert NotPayer();
            uint256 closesAt = _disputeClosesAt();
            if (block.timestamp <= closesAt) revert DisputeWindowOpen(closesAt);
        } else {
            revert InvalidState(s);
        }
        state = State.Refunded;
        address to = payer;
        uint256 amt = amount;
        emit Refunded(to, amt, msg.sender);
        _pay(token, to, amt);
    }

    /// Payer or payee freeze the escrow for the arbiter, while funded and up to the
    /// deadline. Once the approvals reached the threshold the payer can no longer dispute
    /// (the checkers decided); the payee still can, giving up its certain release. There is
    /// one dispute per escrow; the arbiter ends it, or the payer's refund after the window.
    function dispute(string calldata reason) external nonReentrant {
        if (msg.sender != payer && msg.sender != payee) revert NotParty();
        if (state != State.Funded) revert InvalidState(state);
        if (block.timestamp > deadline) revert DeadlinePassed(deadline);
        if (msg.sender == payer && approvals >= threshold) revert ThresholdReached();
        if (bytes(reason).length > MAX_REASON_BYTES) {
            revert ReasonTooLong(bytes(reason).length, MAX_REASON_BYTES);
        }
        state = State.Disputed;
        emit Disputed(msg.sender, reason);
    }

    /// The arbiter decides a dispute, up to deadline + disputeWindow (inclusive): the whole
    /// deposit to the payee or back to the payer. After that only the payer's refund ends it.
    function resolve(bool toPayee) external nonReentrant {
        if (msg.sender != arbiter) revert NotArbiter();
        if (state != State.Disputed) revert InvalidState(state);
        uint256 closesAt = _disputeClosesAt();
        if (block.timestamp > closesAt) revert DisputeWindowClosed(closesAt);
        state = State.Resolved;
        address to = toPayee ? payee : payer;
        uint256 amt = amount;
        emit Resolved(toPayee, to, amt);
        _pay(token, to, amt);
    }

    /// The arbiter hands its role to `next` (a key rotation, a successor) while the escrow is
    /// not terminal. `next` must be independent: not payer, payee or an approver. The terms
    /// hash keeps naming the arbiter of the creation.
    function transferArbiter(address next) external nonReentrant {
        if (msg.sender != arbiter) revert NotArbiter();
        State s = state;
        if (s != State.Created && s != State.Funded && s != State.Disputed) revert InvalidState(s);
        if (next == address(0)) revert ZeroAddress();
        if (next == payer || next == payee || next == msg.sender || isApprover[next]) {
            revert ArbiterNotIndependent();
        }
        arbiter = next;
        emit ArbiterChanged(msg.sender, next);
    }

    /// Sends to the payer the whole balance of `tok` (address(0): the native coin) while
    /// nothing is committed: before funding (Created) and after the end (Released, Refunded,
    /// Resolved). Recovers coin or tokens sent to the address before creation, force-sent
    /// coin and tokens transferred here directly. Payer only.
    function sweep(address tok) external nonReentrant {
        if (msg.sender != payer) revert NotPayer();
        State s = state;
        if (s == State.Funded || s == State.Disputed) revert InvalidState(s);
        uint256 bal = tok == address(0) ? address(this).balance : IERC20(tok).balanceOf(address(this));
        if (bal == 0) revert NothingToSweep(tok);
        address to = payer;
        emit Swept(tok, to, bal);
        _pay(tok, to, bal);
    }

    /// Last second at which the arbiter may resolve a dispute; the payer's refund of a
    /// disputed escrow is possible from the next second on.
    function disputeClosesAt() external view returns (uint256) {
        return _disputeClosesAt();
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
            uint256 approvals_,
            uint64 disputeWindow_,
            bytes32 termsHash_
        )
    {
        return (
            state, payer, payee, token, amount, arbiter, deadline, threshold, approvals, disputeWindow, termsHash
        );
    }

    function _disputeClosesAt() private view returns (uint256) {
        return uint256(deadline) + uint256(disputeWindow);
    }

    function _pay(address tok, address to, uint256 amt) private {
        if (tok == address(0)) {
            Address.sendValue(payable(to), amt);
        } else {
            IERC20(tok).safeTransfer(to, amt);
        }
    }
}
