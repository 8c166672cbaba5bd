// SPDX-License-Identifier: MIT
// A model of the workstation's indexer, in Solidity: rebuilds an escrow's full state from
// the factory's and the escrow's logs alone (no calls to the contracts), so tests can check
// that the events carry everything. The C indexer must decode the same fields.
pragma solidity 0.8.30;

import {Vm} from "./Vm.sol";
import {Escrow} from "../../src/Escrow.sol";
import {EscrowFactory} from "../../src/EscrowFactory.sol";

abstract contract EscrowProjection {
    struct Projected {
        bool created;
        address payer;
        address payee;
        address token;
        uint256 amount;
        address[] approvers;
        uint256 threshold;
        address arbiter;
        uint64 deadline;
        Escrow.State state;
        uint256 approvals;
        address[] approvedBy;
        uint256 deposited;
        uint256 paidToPayee;
        uint256 paidToPayer;
        uint256 events;
    }

    Projected internal proj;

    /// Folds `logs` (in order) into `proj` for escrow `e` created by `factory`.
    function project(Vm.Log[] memory logs, address factory, address e) internal {
        for (uint256 i = 0; i < logs.length; ++i) {
            Vm.Log memory l = logs[i];
            bytes32 t0 = l.topics.length > 0 ? l.topics[0] : bytes32(0);
            if (l.emitter == factory && t0 == EscrowFactory.EscrowCreated.selector) {
                if (address(uint160(uint256(l.topics[1]))) != e) continue;
                proj.created = true;
                proj.payer = address(uint160(uint256(l.topics[2])));
                proj.payee = address(uint160(uint256(l.topics[3])));
                (proj.token, proj.amount, proj.approvers, proj.threshold, proj.arbiter, proj.deadline) =
                    abi.decode(l.data, (address, uint256, address[], uint256, address, uint64));
                proj.state = Escrow.State.Created;
            } else if (l.emitter == e) {
                proj.events++;
                if (t0 == Escrow.Funded.selector) {
                    proj.deposited += abi.decode(l.data, (uint256));
                    proj.state = Escrow.State.Funded;
                } else if (t0 == Escrow.Approved.selector) {
                    proj.approvedBy.push(address(uint160(uint256(l.topics[1]))));
                    proj.approvals = abi.decode(l.data, (uint256));
                } else if (t0 == Escrow.Released.selector) {
                    proj.paidToPayee += abi.decode(l.data, (uint256));
                    proj.state = Escrow.State.Released;
                } else if (t0 == Escrow.Refunded.selector) {
                    (uint256 amt) = abi.decode(l.data, (uint256));
                    proj.paidToPayer += amt;
                    proj.state = Escrow.State.Refunded;
                } else if (t0 == Escrow.Disputed.selector) {
                    proj.state = Escrow.State.Disputed;
                } else if (t0 == Escrow.Resolved.selector) {
                    (bool toPayee, uint256 amt) = abi.decode(l.data, (bool, uint256));
                    if (toPayee) proj.paidToPayee += amt;
                    else proj.paidToPayer += amt;
                    proj.state = Escrow.State.Resolved;
                } else {
                    revert("projection: unknown escrow event");
                }
            }
        }
    }

    function projectedHasApproved(address who) internal view returns (bool) {
        for (uint256 i = 0; i < proj.approvedBy.length; ++i) {
            if (proj.approvedBy[i] == who) return true;
        }
        return false;
    }
}
