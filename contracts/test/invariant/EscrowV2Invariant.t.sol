// SPDX-License-Identifier: MIT
// Invariants over many version-2 escrows under random actions (see EscrowV2Handler): every
// unit of an escrow's asset that came in (deposit, strays) is in the escrow, with the payee
// or with the payer; the committed amount never leaves except by the one payout; the payee
// gets exactly the amount or nothing; a disputed escrow always has a way out (the arbiter
// up to deadline + window, the payer after it); no party is ever an approver; approvals with
// the wrong terms hash never count.
pragma solidity 0.8.30;

import {TestBase} from "../utils/TestBase.sol";
import {EscrowV2} from "../../src/EscrowV2.sol";
import {EscrowFactoryV2} from "../../src/EscrowFactoryV2.sol";
import {TestToken} from "../../src/TestToken.sol";
import {EscrowV2Handler} from "./EscrowV2Handler.sol";

contract EscrowV2InvariantTest is TestBase {
    EscrowV2Handler internal handler;
    TestToken internal token;

    function setUp() public {
        vm.warp(1_700_000_000);
        EscrowFactoryV2 factory = new EscrowFactoryV2();
        token = new TestToken("USD Coin", "USDC", 6);
        handler = new EscrowV2Handler(factory, token);
        token.transferOwnership(address(handler));
        targetContract(address(handler));
    }

    function invariant_fundsAreInEscrowOrWithPayeeOrPayer() public view {
        uint256 n = handler.escrowCount();
        for (uint256 i = 0; i < n; ++i) {
            EscrowV2 e = handler.escrows(i);
            uint256 cameIn = handler.deposited(e) + handler.strayIn(e);
            uint256 accounted = _held(e) + handler.toPayee(e) + handler.toPayer(e);
            assertEq(accounted, cameIn, "escrow + payee + payer = everything that came in");
        }
    }

    function invariant_committedAmountOnlyLeavesByThePayout() public view {
        assertFalse(handler.sweptWhileCommitted(), "a sweep took something while committed");
        uint256 n = handler.escrowCount();
        for (uint256 i = 0; i < n; ++i) {
            EscrowV2 e = handler.escrows(i);
            EscrowV2.State s = e.state();
            uint256 p = handler.payouts(e);
            if (s == EscrowV2.State.Created) {
                assertEq(handler.deposited(e), 0, "no deposit booked");
                assertEq(handler.toPayee(e), 0, "payee got nothing");
            } else if (s == EscrowV2.State.Funded || s == EscrowV2.State.Disputed) {
                assertEq(handler.deposited(e), e.amount(), "deposit is the amount");
                assertGe(_held(e), e.amount(), "the committed amount is held");
                assertEq(handler.toPayee(e), 0, "payee got nothing yet");
                assertEq(p, 0, "no payout yet");
            } else {
                assertEq(p, 1, "exactly one payout");
                uint256 got = handler.toPayee(e);
                assertTrue(got == 0 || got == e.amount(), "payee got the amount or nothing");
                bool payeeWon = s == EscrowV2.State.Released || (s == EscrowV2.State.Resolved && got > 0);
                assertEq(got == e.amount(), payeeWon, "payee paid exactly when released or resolved to it");
            }
        }
    }

    /// From every reachable state of a disputed escrow: while the window runs the arbiter
    /// can resolve, and after it the payer's refund succeeds (checked on a snapshot).
    function invariant_disputedEscrowAlwaysHasAWayOut() public {
        uint256 n = handler.escrowCount();
        for (uint256 i = 0; i < n; ++i) {
            EscrowV2 e = handler.escrows(i);
            if (e.state() != EscrowV2.State.Disputed) continue;
            uint256 closesAt = e.disputeClosesAt();
            uint256 snap = vm.snapshotState();
            if (block.timestamp <= closesAt) {
                vm.prank(e.arbiter());
                e.resolve(false);
                assertEq(uint256(e.state()), uint256(EscrowV2.State.Resolved), "arbiter ended it");
                vm.revertToState(snap);
                snap = vm.snapshotState();
                vm.warp(closesAt + 1);
            }
            vm.prank(e.payer());
            e.refund();
            assertEq(uint256(e.state()), uint256(EscrowV2.State.Refunded), "payer got out after the window");
            vm.revertToState(snap);
        }
    }

    function invariant_noPartyApprovesAndTermsBindApprovals() public view {
        assertFalse(handler.partyAcceptedAsApprover(), "a party was accepted as approver");
        assertFalse(handler.wrongTermsAccepted(), "an approval with the wrong terms counted");
        uint256 n = handler.escrowCount();
        for (uint256 i = 0; i < n; ++i) {
            EscrowV2 e = handler.escrows(i);
            assertFalse(e.isApprover(e.payer()) || e.isApprover(e.payee()) || e.isApprover(e.arbiter()), "party");
            address[] memory set = e.approvers();
            uint256 count;
            for (uint256 j = 0; j < set.length; ++j) {
                if (e.hasApproved(set[j])) count++;
            }
            assertEq(e.approvals(), count, "approvals = distinct approvers who approved");
        }
    }

    /// The handler itself works (guards against vacuous invariants): a scripted run reaches
    /// every state, both ways out of a dispute, a hand-over and sweeps, and every check holds.
    function test_handlerReachesEveryState() public {
        uint256 likely = 0x00010100; // byte1 = 1: the likely party; byte2 = 1: right hash
        handler.create(1 ether, false, 1, 1 days, 0, 0); // 2-of-3, native
        handler.create(1000e6, true, 0, 1 days, 0, 0); // 1-of-3, ERC20
        handler.create(1 ether, false, 0, 1 days, 0, 0);
        handler.create(1 ether, true, 0, 1 days, 0, 0);
        handler.create(1 ether, false, 0, 1 days, 0, 2); // payee among approvers: refused
        handler.create(1 ether, false, 0, 1 days, 0, 3); // arbiter among approvers: refused
        assertEq(handler.escrowCount(), 4, "four escrows");
        handler.stray(3, 5, false); // tokens sent before funding
        handler.sweep(3, likely, false);
        assertEq(handler.toPayer(handler.escrows(3)), 6, "swept before funding");
        for (uint256 i = 0; i < 4; ++i) {
            handler.fund(i, likely);
            assertEq(uint256(handler.escrows(i).state()), uint256(EscrowV2.State.Funded), "funded");
        }
        handler.stray(0, 1 ether, true);
        handler.approve(0, likely | 0, true); // right hash (byte 2 is 1)
        handler.approve(0, 0x00000101, true); // wrong hash: refused
        assertEq(handler.escrows(0).approvals(), 1, "wrong hash not counted");
        handler.approve(0, likely | 1, false);
        handler.release(0, likely);
        handler.sweep(0, likely, true);
        handler.refund(1, likely | 0); // low byte 0 mod 4: the arbiter
        handler.transferArbiter(2, likely);
        assertEq(handler.escrows(2).arbiter(), handler.arbiter2(), "handed over");
        handler.dispute(2, likely);
        handler.resolve(2, likely, true);
        handler.dispute(3, likely | 1); // the payee disputes…
        assertEq(uint256(handler.escrows(3).state()), uint256(EscrowV2.State.Disputed), "disputed");
        invariant_disputedEscrowAlwaysHasAWayOut();
        handler.warp(3 days);
        handler.warp(3 days);
        handler.warp(3 days); // …and the arbiter never answers
        handler.refund(3, likely | 1);
        assertEq(uint256(handler.escrows(0).state()), uint256(EscrowV2.State.Released), "released");
        assertEq(uint256(handler.escrows(1).state()), uint256(EscrowV2.State.Refunded), "refunded by arbiter");
        assertEq(uint256(handler.escrows(2).state()), uint256(EscrowV2.State.Resolved), "resolved");
        assertEq(uint256(handler.escrows(3).state()), uint256(EscrowV2.State.Refunded), "refunded after window");
        assertEq(handler.toPayer(handler.escrows(0)), 1 ether + 1, "stray coin swept after release");
        assertFalse(handler.partyAcceptedAsApprover(), "parties refused");
        invariant_fundsAreInEscrowOrWithPayeeOrPayer();
        invariant_committedAmountOnlyLeavesByThePayout();
        invariant_disputedEscrowAlwaysHasAWayOut();
        invariant_noPartyApprovesAndTermsBindApprovals();
    }

    function _held(EscrowV2 e) internal view returns (uint256) {
        return e.token() == address(0) ? address(e).balance : token.balanceOf(address(e));
    }
}
