// SPDX-License-Identifier: MIT
// Creates escrows as EIP-1167 clones of one Escrow implementation, optionally at an address
// known in advance (CREATE2 with a salt bound to the creator), keeps a registry of them, and
// announces each with EscrowCreated carrying all of its terms.
pragma solidity 0.8.30;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Escrow} from "./Escrow.sol";

contract EscrowFactory {
    /// The Escrow every clone delegates to; deployed by this factory's constructor.
    address public immutable implementation;

    /// Every escrow this factory created, in creation order.
    address[] private _escrows;
    /// True for addresses created by this factory.
    mapping(address => bool) public isEscrow;

    error IndexOutOfRange(uint256 index, uint256 count);

    /// A new escrow and all of its terms. The payer is the account that created it.
    event EscrowCreated(
        address indexed escrow,
        address indexed payer,
        address indexed payee,
        address token,
        uint256 amount,
        address[] approvers,
        uint256 threshold,
        address arbiter,
        uint64 deadline
    );

    constructor() {
        implementation = address(new Escrow());
    }

    /// Creates an escrow paid by msg.sender. `token` is an ERC20 or address(0) for the
    /// native coin. Reverts with Escrow's errors when the terms are invalid.
    function createEscrow(
        address payee,
        address token,
        uint256 amount,
        address[] calldata approvers,
        uint256 threshold,
        address arbiter,
        uint64 deadline
    ) external returns (address escrow) {
        escrow = Clones.clone(implementation);
        _init(escrow, payee, token, amount, approvers, threshold, arbiter, deadline);
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
        bytes32 salt
    ) external returns (address escrow) {
        escrow = Clones.cloneDeterministic(implementation, _salt(msg.sender, salt));
        _init(escrow, payee, token, amount, approvers, threshold, arbiter, deadline);
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

    function _init(
        address escrow,
        address payee,
        address token,
        uint256 amount,
        address[] calldata approvers,
        uint256 threshold,
        address arbiter,
        uint64 deadline
    ) private {
        Escrow(escrow).initialize(msg.sender, payee, token, amount, approvers, threshold, arbiter, deadline);
        _escrows.push(escrow);
        isEscrow[escrow] = true;
        emit EscrowCreated(escrow, msg.sender, payee, token, amount, approvers, threshold, arbiter, deadline);
    }
}
