// SPDX-License-Identifier: MIT
// Version 2 of the escrow factory (EscrowFactory.sol stays deployed and unchanged beside
// it): creates EscrowV2 clones, optionally at an address known in advance (CREATE2 with a
// salt bound to the creator), keeps a registry of them, and announces each with
// EscrowCreated carrying all of its terms, the dispute window and the terms hash.
pragma solidity 0.8.30;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {EscrowV2} from "./EscrowV2.sol";

contract EscrowFactoryV2 {
    /// Interface version of this factory and of its escrows.
    uint256 public constant VERSION = 2;

    /// The EscrowV2 every clone delegates to; deployed by this factory's constructor.
    address public immutable implementation;

    /// Every escrow this factory created, in creation order.
    address[] private _escrows;
    /// True for addresses created by this factory.
    mapping(address => bool) public isEscrow;

    error IndexOutOfRange(uint256 index, uint256 count);

    /// A new escrow and all of its terms. The payer is the account that created it;
    /// `termsHash` is what its approvers must pass to approve().
    event EscrowCreated(
        address indexed escrow,
        address indexed payer,
        address indexed payee,
        address token,
        uint256 amount,
        address[] approvers,
        uint256 threshold,
        address arbiter,
        uint64 deadline,
        uint64 disputeWindow,
        bytes32 termsHash
    );

    constructor() {
        implementation = address(new EscrowV2());
    }

    /// Interface version (2). Version-1 factories have no such function.
    function version() external pure returns (uint256) {
        return VERSION;
    }

    /// Creates an escrow paid by msg.sender. `token` is an ERC20 or address(0) for the
    /// native coin; `disputeWindow` in seconds (EscrowV2.DEFAULT_DISPUTE_WINDOW unless the
    /// parties agreed otherwise). Reverts with EscrowV2's errors when the terms are invalid.
    function createEscrow(
        address payee,
        address token,
        uint256 amount,
        address[] calldata approvers,
        uint256 threshold,
        address arbiter,
        uint64 deadline,
        uint64 disputeWindow
    ) external returns (address escrow) {
        escrow = Clones.clone(implementation);
        _init(escrow, _terms(payee, token, amount, approvers, threshold, arbiter, deadline, disputeWindow));
    }

    /// Same as createEscrow, at predictEscrowAddress(msg.sender, salt). The salt is mixed
    /// with msg.sender, so nobody else can take (front-run) that address. Reusing a salt
    /// reverts (Errors.FailedDeployment).
    function createEscrowDeterministic(
        address payee,
        address token,
        uint256 amount,
        address[] calldata approvers,
        uint256 threshold,
        address arbiter,
        uint64 deadline,
        uint64 disputeWindow,
        bytes32 salt
    ) external returns (address escrow) {
        escrow = Clones.cloneDeterministic(implementation, _salt(msg.sender, salt));
        _init(escrow, _terms(payee, token, amount, approvers, threshold, arbiter, deadline, disputeWindow));
    }

    /// The address createEscrowDeterministic(…, salt) gives when called by `payer`.
    function predictEscrowAddress(address payer, bytes32 salt) external view returns (address) {
        return Clones.predictDeterministicAddress(implementation, _salt(payer, salt));
    }

    /// Number of escrows created so far.
    function escrowCount() external view returns (uint256) {
        return _escrows.length;
    }

    /// The `index`-th escrow created (0-based).
    function escrowAt(uint256 index) external view returns (address) {
        if (index >= _escrows.length) revert IndexOutOfRange(index, _escrows.length);
        return _escrows[index];
    }

    function _salt(address payer, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(payer, salt));
    }

    function _terms(
        address payee,
        address token,
        uint256 amount,
        address[] calldata approvers,
        uint256 threshold,
        address arbiter,
        uint64 deadline,
        uint64 disputeWindow
    ) private view returns (EscrowV2.Terms memory t) {
        t.payer = msg.sender;
        t.payee = payee;
        t.token = token;
        t.amount = amount;
        t.approvers = approvers;
        t.threshold = threshold;
        t.arbiter = arbiter;
        t.deadline = deadline;
        t.disputeWindow = disputeWindow;
    }

    function _init(address escrow, EscrowV2.Terms memory t) private {
        EscrowV2(escrow).initialize(t);
        _escrows.push(escrow);
        isEscrow[escrow] = true;
        emit EscrowCreated(
            escrow,
            t.payer,
            t.payee,
            t.token,
            t.amount,
            t.approvers,
            t.threshold,
            t.arbiter,
            t.deadline,
            t.disputeWindow,
            EscrowV2(escrow).termsHash()
        );
    }
}
