// SPDX-License-Identifier: MIT
// Invariants over many escrows under random actions (see EscrowHandler): an escrow holds
// exactly its deposit until it is terminal and nothing after; no escrow pays out twice;
// payouts sum to the deposit; the payer never approves; approvals match the approver set.
pragma solidity 0.8.30;

import {TestBase} from "../utils/TestBase.sol";
import {Escrow} from "../../src/Escrow.sol";
import {EscrowFactory} from "../../src/EscrowFactory.sol";
import {TestToken} from "../../src/TestToken.sol";
import {EscrowHandler} from "./EscrowHandler.sol";

contract EscrowInvariantTest is TestBase {
    EscrowHandler internal handler;
    TestToken internal token;

    function setUp() public {
        vm.warp(1_700_000_000);
        EscrowFactory factory = new EscrowFactory();
        token = new TestToken("USD Coin", "USDC", 6);
        handler = new EscrowHandler(factory, token);
        token.transferOwnership(address(handler));
        targetContract(address(handler));
    }

    function invariant_holdsExactlyItsDepositUntilTerminal() public view {
        uint256 n = handler.escrowCount();
        for (uint256 i = 0; i < n; ++i) {
            Escrow e = handler.escrows(i);
            Escrow.State s = e.state();
            uint256 held = _held(e);
            if (s == Escrow.State.Created) {
                assertEq(held, 0, "unfunded escrow holds nothing");
                assertEq(handler.deposited(e), 0, "no deposit booked");
            } else if (s == Escrow.State.Funded || s == Escrow.State.Disputed) {
                assertEq(held, e.amount(), "live escrow holds exactly its amount");
                assertEq(handler.deposited(e), e.amount(), "deposit is the amount");
            } else {
                assertEq(held, 0, "terminal escrow holds nothing");
            }
        }
    }

    function invariant_noPathPaysOutTwice() public view {
        uint256 n = handler.escrowCount();
        for (uint256 i = 0; i < n; ++i) {
            Escrow e = handler.escrows(i);
            uint256 p = handler.payouts(e);
            assertLe(p, 1, "at most one payout");
            assertEq(p == 1, _terminal(e.state()), "paid exactly when terminal");
        }
    }

    function invariant_payoutsSumToDeposit() public view {
        uint256 n = handler.escrowCount();
        for (uint256 i = 0; i < n; ++i) {
            Escrow e = handler.escrows(i);
            uint256 paid = handler.paidOut(e);
            if (_terminal(e.state())) {
                assertEq(paid, handler.deposited(e), "everything deposited was paid out");
                assertEq(paid, e.amount(), "and that is the amount");
            } else {
                assertEq(paid, 0, "nothing paid before terminal");
            }
        }
    }

    function invariant_payerNeverApproves() public view {
        assertFalse(handler.payerApprovalSucceeded(), "a payer approve() succeeded");
        assertFalse(handler.payerAcceptedAsApprover(), "an escrow accepted the payer as approver");
        address[] memory approvers = handler.approverList();
        uint256 n = handler.escrowCount();
        for (uint256 i = 0; i < n; ++i) {
            Escrow e = handler.escrows(i);
            assertFalse(e.hasApproved(e.payer()), "payer recorded as approver");
            assertFalse(e.isApprover(e.payer()), "payer in approver set");
            uint256 count;
            for (uint256 j = 0; j < approvers.length; ++j) {
                if (e.hasApproved(approvers[j])) count++;
            }
            assertEq(e.approvals(), count, "approvals = distinct approvers who approved");
        }
    }

    /// The handler itself works (guards against vacuous invariants): a scripted run reaches
    /// every state and every check above still holds.
    function test_handlerReachesEveryState() public {
        uint256 likely = 0x00010100; // byte1 = 1: the likely party; byte2 = 1: not the payer
        handler.create(1 ether, false, 1, 1 days, false); // 2-of-3, native
        handler.create(1000e6, true, 0, 1 days, false); // 1-of-3, ERC20
        handler.create(1 ether, false, 0, 1 days, false);
        handler.create(1 ether, false, 0, 1 days, false);
        handler.create(1 ether, false, 0, 1 days, true); // payer among approvers: refused
        assertEq(handler.escrowCount(), 4, "four escrows");
        for (uint256 i = 0; i < 4; ++i) {
            handler.fund(i, likely);
            assertEq(uint256(handler.escrows(i).state()), uint256(Escrow.State.Funded), "funded");
        }
        handler.approve(0, likely | 0);
        handler.approve(0, likely | 1);
        handler.release(0, likely);
        handler.refund(1, likely | 0); // low byte 0 mod 4: the arbiter
        handler.dispute(2, likely);
        handler.resolve(2, likely, true);
        handler.approve(3, 0x00000100); // byte2 = 0: the payer tries
        handler.warp(2 days);
        handler.refund(3, likely | 1); // the payer, after the deadline
        assertEq(uint256(handler.escrows(0).state()), uint256(Escrow.State.Released), "released");
        assertEq(uint256(handler.escrows(1).state()), uint256(Escrow.State.Refunded), "refunded by arbiter");
        assertEq(uint256(handler.escrows(2).state()), uint256(Escrow.State.Resolved), "resolved");
        assertEq(uint256(handler.escrows(3).state()), uint256(Escrow.State.Refunded), "refunded by payer");
        for (uint256 i = 0; i < 4; ++i) {
            assertEq(handler.payouts(handler.escrows(i)), 1, "one payout each");
        }
        invariant_holdsExactlyItsDepositUntilTerminal();
        invariant_noPathPaysOutTwice();
        invariant_payoutsSumToDeposit();
        invariant_payerNeverApproves();
    }

    function _terminal(Escrow.State s) internal pure returns (bool) {
        return s == Escrow.State.Released || s == Escrow.State.Refunded || s == Escrow.State.Resolved;
    }

    function _held(Escrow e) internal view returns (uint256) {
        return e.token() == address(0) ? address(e).balance : token.balanceOf(address(e));
    }
}
