// SPDX-License-Identifier: MIT
// Unit tests of Escrow: every transition of the state machine, every custom error, the
// events each transition emits, and the hostile cases (re-entry, fee-on-transfer tokens,
// payees that refuse the coin, approval replay, the payer trying to approve).
pragma solidity 0.8.30;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {EscrowFixture} from "./utils/EscrowFixture.sol";
import {Escrow} from "../src/Escrow.sol";
import {EscrowFactory} from "../src/EscrowFactory.sol";
import {FeeOnTransferToken, ShrinkingToken} from "./mocks/FeeOnTransferToken.sol";
import {ReentrantReceiver, ReentrantToken, RejectingReceiver} from "./mocks/Attackers.sol";

contract EscrowTest is EscrowFixture {
    // =========================================================== creation and terms

    function test_create_emitsEscrowCreatedWithAllTerms() public {
        address predicted = _nextCloneAddress();
        vm.expectEmit(true, true, true, true, address(factory));
        emit EscrowFactory.EscrowCreated(
            predicted, payer, payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline
        );
        Escrow e = newNative();
        assertEq(address(e), predicted, "escrow address in event");
    }

    function test_create_setsTerms() public {
        Escrow e = newUsdc();
        (
            Escrow.State s,
            address p,
            address q,
            address t,
            uint256 amt,
            address arb,
            uint64 dl,
            uint256 th,
            uint256 n
        ) = e.summary();
        assertEq(uint256(s), uint256(Escrow.State.Created), "state");
        assertEq(p, payer, "payer");
        assertEq(q, payee, "payee");
        assertEq(t, address(usdc), "token");
        assertEq(amt, USDC_AMOUNT, "amount");
        assertEq(arb, arbiter, "arbiter");
        assertEq(uint256(dl), uint256(deadline), "deadline");
        assertEq(th, 2, "threshold");
        assertEq(n, 0, "approvals");
        assertEq(e.approvers(), approvers3(), "approvers");
        assertEq(e.factory(), address(factory), "factory");
        assertTrue(e.isApprover(a1) && e.isApprover(a2) && e.isApprover(a3), "isApprover");
        assertFalse(e.isApprover(payer), "payer is not an approver");
    }

    function test_initialize_revertsTwice() public {
        Escrow e = newNative();
        vm.expectRevert(err(Escrow.AlreadyInitialized.selector));
        e.initialize(outsider, outsider, address(0), 1, approvers3(), 1, arbiter, deadline);
    }

    function test_initialize_implementationIsLocked() public {
        Escrow impl = Escrow(factory.implementation());
        vm.expectRevert(err(Escrow.AlreadyInitialized.selector));
        impl.initialize(payer, payee, address(0), 1, approvers3(), 1, arbiter, deadline);
    }

    function test_initialize_revertsZeroPayer() public {
        // Only reachable on a clone initialised by hand: the factory always passes msg.sender.
        Escrow e = Escrow(Clones.clone(factory.implementation()));
        vm.expectRevert(err(Escrow.ZeroAddress.selector));
        e.initialize(address(0), payee, address(0), 1, approvers3(), 1, arbiter, deadline);
    }

    function test_create_revertsZeroPayee() public {
        vm.expectRevert(err(Escrow.ZeroAddress.selector));
        _create(address(0), address(0), AMOUNT, approvers3(), 2, arbiter, deadline);
    }

    function test_create_revertsZeroArbiter() public {
        vm.expectRevert(err(Escrow.ZeroAddress.selector));
        _create(payee, address(0), AMOUNT, approvers3(), 2, address(0), deadline);
    }

    function test_create_revertsZeroApprover() public {
        address[] memory a = approvers3();
        a[1] = address(0);
        vm.expectRevert(err(Escrow.ZeroAddress.selector));
        _create(payee, address(0), AMOUNT, a, 2, arbiter, deadline);
    }

    function test_create_revertsZeroAmount() public {
        vm.expectRevert(err(Escrow.ZeroAmount.selector));
        _create(payee, address(0), 0, approvers3(), 2, arbiter, deadline);
    }

    function test_create_revertsSamePayerPayee() public {
        vm.expectRevert(err(Escrow.SamePayerPayee.selector));
        _create(payer, address(0), AMOUNT, approvers3(), 2, arbiter, deadline);
    }

    function test_create_revertsArbiterIsPayer() public {
        vm.expectRevert(err(Escrow.ArbiterNotIndependent.selector));
        _create(payee, address(0), AMOUNT, approvers3(), 2, payer, deadline);
    }

    function test_create_revertsArbiterIsPayee() public {
        vm.expectRevert(err(Escrow.ArbiterNotIndependent.selector));
        _create(payee, address(0), AMOUNT, approvers3(), 2, payee, deadline);
    }

    function test_create_revertsTokenWithoutCode() public {
        vm.expectRevert(abi.encodeWithSelector(Escrow.NotAContract.selector, outsider));
        _create(payee, outsider, AMOUNT, approvers3(), 2, arbiter, deadline);
    }

    function test_create_revertsNoApprovers() public {
        vm.expectRevert(err(Escrow.NoApprovers.selector));
        _create(payee, address(0), AMOUNT, new address[](0), 1, arbiter, deadline);
    }

    function test_create_revertsTooManyApprovers() public {
        address[] memory a = new address[](33);
        for (uint256 i = 0; i < a.length; ++i) {
            a[i] = address(uint160(0x1000 + i));
        }
        vm.expectRevert(abi.encodeWithSelector(Escrow.TooManyApprovers.selector, 33, 32));
        _create(payee, address(0), AMOUNT, a, 2, arbiter, deadline);
    }

    function test_create_acceptsMaxApprovers() public {
        address[] memory a = new address[](32);
        for (uint256 i = 0; i < a.length; ++i) {
            a[i] = address(uint160(0x1000 + i));
        }
        Escrow e = _create(payee, address(0), AMOUNT, a, 32, arbiter, deadline);
        assertEq(e.approvers().length, 32, "32 approvers");
    }

    function test_create_revertsDuplicateApprover() public {
        address[] memory a = approvers3();
        a[2] = a1;
        vm.expectRevert(abi.encodeWithSelector(Escrow.DuplicateApprover.selector, a1));
        _create(payee, address(0), AMOUNT, a, 2, arbiter, deadline);
    }

    function test_create_revertsPayerAsApprover() public {
        address[] memory a = approvers3();
        a[1] = payer;
        vm.expectRevert(err(Escrow.PayerCannotApprove.selector));
        _create(payee, address(0), AMOUNT, a, 2, arbiter, deadline);
    }

    function test_create_revertsZeroThreshold() public {
        vm.expectRevert(abi.encodeWithSelector(Escrow.InvalidThreshold.selector, 0, 3));
        _create(payee, address(0), AMOUNT, approvers3(), 0, arbiter, deadline);
    }

    function test_create_revertsThresholdAboveN() public {
        vm.expectRevert(abi.encodeWithSelector(Escrow.InvalidThreshold.selector, 4, 3));
        _create(payee, address(0), AMOUNT, approvers3(), 4, arbiter, deadline);
    }

    function test_create_revertsDeadlineNow() public {
        uint64 nowTs = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(Escrow.DeadlineNotInFuture.selector, nowTs, block.timestamp));
        _create(payee, address(0), AMOUNT, approvers3(), 2, arbiter, nowTs);
    }

    // =========================================================== fund

    function test_fund_native() public {
        Escrow e = newNative();
        vm.expectEmit(true, true, true, true, address(e));
        emit Escrow.Funded(payer, AMOUNT);
        fundNative(e);
        assertEq(stateOf(e), uint256(Escrow.State.Funded), "state");
        assertEq(address(e).balance, AMOUNT, "escrow holds the deposit");
    }

    function test_fund_erc20() public {
        Escrow e = newUsdc();
        uint256 before = usdc.balanceOf(payer);
        vm.prank(payer);
        usdc.approve(address(e), USDC_AMOUNT);
        vm.expectEmit(true, true, true, true, address(e));
        emit Escrow.Funded(payer, USDC_AMOUNT);
        vm.prank(payer);
        e.fund();
        assertEq(usdc.balanceOf(address(e)), USDC_AMOUNT, "escrow holds the deposit");
        assertEq(before - usdc.balanceOf(payer), USDC_AMOUNT, "payer paid the deposit");
    }

    function test_fund_erc20_ignoresTokensSentBefore() public {
        // Someone sent tokens to the (predictable) address first: the delta still counts.
        Escrow e = newUsdc();
        vm.prank(payer);
        usdc.transfer(address(e), 5);
        fundUsdc(e);
        assertEq(usdc.balanceOf(address(e)), USDC_AMOUNT + 5, "balance");
        assertEq(stateOf(e), uint256(Escrow.State.Funded), "funded");
    }

    function test_fund_atDeadlineIsAllowed() public {
        Escrow e = newNative();
        vm.warp(deadline);
        fundNative(e);
        assertEq(stateOf(e), uint256(Escrow.State.Funded), "funded at the deadline second");
    }

    function test_fund_revertsNotPayer() public {
        Escrow e = newNative();
        vm.deal(payee, AMOUNT);
        vm.prank(payee);
        vm.expectRevert(err(Escrow.NotPayer.selector));
        e.fund{value: AMOUNT}();
    }

    function test_fund_revertsTwice() public {
        Escrow e = funded();
        vm.prank(payer);
        vm.expectRevert(invalidState(Escrow.State.Funded));
        e.fund{value: AMOUNT}();
    }

    function test_fund_revertsAfterDeadline() public {
        Escrow e = newNative();
        vm.warp(deadline + 1);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(Escrow.DeadlinePassed.selector, deadline));
        e.fund{value: AMOUNT}();
    }

    function test_fund_revertsValueTooLow() public {
        Escrow e = newNative();
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(Escrow.WrongValue.selector, AMOUNT - 1, AMOUNT));
        e.fund{value: AMOUNT - 1}();
    }

    function test_fund_revertsValueTooHigh() public {
        Escrow e = newNative();
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(Escrow.WrongValue.selector, AMOUNT + 1, AMOUNT));
        e.fund{value: AMOUNT + 1}();
    }

    function test_fund_erc20_revertsWithValue() public {
        Escrow e = newUsdc();
        vm.startPrank(payer);
        usdc.approve(address(e), USDC_AMOUNT);
        vm.expectRevert(abi.encodeWithSelector(Escrow.WrongValue.selector, 1, 0));
        e.fund{value: 1}();
        vm.stopPrank();
    }

    function test_fund_erc20_revertsWithoutAllowance() public {
        Escrow e = newUsdc();
        vm.prank(payer);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(e), 0, USDC_AMOUNT)
        );
        e.fund();
    }

    function test_fund_revertsFeeOnTransferToken() public {
        FeeOnTransferToken fee = new FeeOnTransferToken();
        fee.mint(payer, 1_000e18);
        Escrow e = _create(payee, address(fee), 100e18, approvers3(), 2, arbiter, deadline);
        vm.startPrank(payer);
        fee.approve(address(e), 100e18);
        vm.expectRevert(abi.encodeWithSelector(Escrow.FeeOnTransferToken.selector, 99e18, 100e18));
        e.fund();
        vm.stopPrank();
        assertEq(stateOf(e), uint256(Escrow.State.Created), "still unfunded");
        assertEq(fee.balanceOf(address(e)), 0, "nothing kept");
    }

    function test_fund_revertsTokenWhoseBalanceShrinks() public {
        ShrinkingToken shr = new ShrinkingToken();
        shr.mint(payer, 1_000);
        Escrow e = _create(payee, address(shr), 100, approvers3(), 2, arbiter, deadline);
        shr.mint(address(e), 10); // so the escrow has a balance to lose
        vm.startPrank(payer);
        shr.approve(address(e), 100);
        vm.expectRevert(abi.encodeWithSelector(Escrow.FeeOnTransferToken.selector, 0, 100));
        e.fund();
        vm.stopPrank();
    }

    // =========================================================== approve

    function test_approve_countsEachApprover() public {
        Escrow e = funded();
        vm.expectEmit(true, true, true, true, address(e));
        emit Escrow.Approved(a1, 1);
        approveBy(e, a1);
        vm.expectEmit(true, true, true, true, address(e));
        emit Escrow.Approved(a3, 2);
        approveBy(e, a3);
        assertEq(e.approvals(), 2, "approvals");
        assertTrue(e.hasApproved(a1) && e.hasApproved(a3), "recorded");
        assertFalse(e.hasApproved(a2), "a2 did not approve");
    }

    function test_approve_revertsPayer() public {
        Escrow e = funded();
        vm.prank(payer);
        vm.expectRevert(err(Escrow.PayerCannotApprove.selector));
        e.approve();
        assertFalse(e.hasApproved(payer), "payer did not approve");
    }

    function test_approve_revertsOutsider() public {
        Escrow e = funded();
        vm.prank(outsider);
        vm.expectRevert(err(Escrow.NotApprover.selector));
        e.approve();
    }

    function test_approve_revertsPayeeAndArbiterWhenNotApprovers() public {
        Escrow e = funded();
        vm.prank(payee);
        vm.expectRevert(err(Escrow.NotApprover.selector));
        e.approve();
        vm.prank(arbiter);
        vm.expectRevert(err(Escrow.NotApprover.selector));
        e.approve();
    }

    function test_approve_revertsReplay() public {
        Escrow e = funded();
        approveBy(e, a1);
        vm.prank(a1);
        vm.expectRevert(err(Escrow.AlreadyApproved.selector));
        e.approve();
        assertEq(e.approvals(), 1, "counted once");
    }

    function test_approve_revertsBeforeFunding() public {
        Escrow e = newNative();
        vm.prank(a1);
        vm.expectRevert(invalidState(Escrow.State.Created));
        e.approve();
    }

    function test_approve_revertsAfterDeadline() public {
        Escrow e = funded();
        vm.warp(deadline + 1);
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(Escrow.DeadlinePassed.selector, deadline));
        e.approve();
    }

    function test_approve_revertsWhileDisputed() public {
        Escrow e = funded();
        vm.prank(payee);
        e.dispute("late delivery");
        vm.prank(a1);
        vm.expectRevert(invalidState(Escrow.State.Disputed));
        e.approve();
    }

    function test_approve_revertsAfterRelease() public {
        Escrow e = approved();
        e.release();
        vm.prank(a3);
        vm.expectRevert(invalidState(Escrow.State.Released));
        e.approve();
    }

    // =========================================================== release

    function test_release_native() public {
        Escrow e = approved();
        uint256 before = payee.balance;
        vm.expectEmit(true, true, true, true, address(e));
        emit Escrow.Released(payee, AMOUNT);
        vm.prank(outsider); // anyone may trigger it: the recipient is fixed
        e.release();
        assertEq(payee.balance - before, AMOUNT, "payee paid");
        assertEq(address(e).balance, 0, "escrow empty");
        assertEq(stateOf(e), uint256(Escrow.State.Released), "state");
    }

    function test_release_erc20() public {
        Escrow e = newUsdc();
        fundUsdc(e);
        approveBy(e, a2);
        approveBy(e, a3);
        vm.prank(payee);
        e.release();
        assertEq(usdc.balanceOf(payee), USDC_AMOUNT, "payee paid");
        assertEq(usdc.balanceOf(address(e)), 0, "escrow empty");
    }

    function test_release_afterDeadlineWhenApprovedInTime() public {
        Escrow e = approved();
        vm.warp(deadline + 30 days);
        e.release();
        assertEq(stateOf(e), uint256(Escrow.State.Released), "released late");
    }

    function test_release_revertsBelowThreshold() public {
        Escrow e = funded();
        approveBy(e, a1);
        vm.expectRevert(abi.encodeWithSelector(Escrow.ThresholdNotReached.selector, 1, 2));
        e.release();
    }

    function test_release_revertsUnfunded() public {
        Escrow e = newNative();
        vm.expectRevert(invalidState(Escrow.State.Created));
        e.release();
    }

    function test_release_revertsTwice() public {
        Escrow e = approved();
        e.release();
        vm.expectRevert(invalidState(Escrow.State.Released));
        e.release();
        assertEq(payee.balance, AMOUNT, "paid once");
    }

    function test_release_revertsWhileDisputed() public {
        Escrow e = approved();
        vm.prank(payer);
        e.dispute("goods not delivered");
        vm.expectRevert(invalidState(Escrow.State.Disputed));
        e.release();
    }

    function test_release_revertsWhenPayeeRejectsCoin_thenArbiterDecides() public {
        RejectingReceiver rej = new RejectingReceiver();
        Escrow e = _create(address(rej), address(0), AMOUNT, approvers3(), 2, arbiter, deadline);
        fundNative(e);
        approveBy(e, a1);
        approveBy(e, a2);
        // The payee's own revert bubbles up; the escrow stays funded, nothing is lost.
        vm.expectRevert(err(RejectingReceiver.NoThanks.selector));
        e.release();
        assertEq(stateOf(e), uint256(Escrow.State.Funded), "nothing changed");
        rej.call(address(e), 0, abi.encodeCall(Escrow.dispute, ("cannot receive")));
        uint256 before = payer.balance;
        vm.prank(arbiter);
        e.resolve(false);
        assertEq(payer.balance - before, AMOUNT, "arbiter returned it to the payer");
    }

    // =========================================================== refund

    function test_refund_byPayerAfterDeadline() public {
        Escrow e = funded();
        approveBy(e, a1); // below threshold
        vm.warp(deadline + 1);
        uint256 before = payer.balance;
        vm.expectEmit(true, true, true, true, address(e));
        emit Escrow.Refunded(payer, AMOUNT, payer);
        vm.prank(payer);
        e.refund();
        assertEq(payer.balance - before, AMOUNT, "payer repaid");
        assertEq(address(e).balance, 0, "escrow empty");
        assertEq(stateOf(e), uint256(Escrow.State.Refunded), "state");
    }

    function test_refund_erc20() public {
        Escrow e = newUsdc();
        fundUsdc(e);
        uint256 before = usdc.balanceOf(payer);
        vm.prank(arbiter);
        e.refund();
        assertEq(usdc.balanceOf(payer) - before, USDC_AMOUNT, "payer repaid");
        assertEq(usdc.balanceOf(address(e)), 0, "escrow empty");
    }

    function test_refund_revertsPayerAtDeadline() public {
        Escrow e = funded();
        vm.warp(deadline);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(Escrow.DeadlineNotReached.selector, deadline));
        e.refund();
    }

    function test_refund_revertsPayerWhenThresholdReached() public {
        Escrow e = approved();
        vm.warp(deadline + 1);
        vm.prank(payer);
        vm.expectRevert(err(Escrow.ThresholdReached.selector));
        e.refund();
    }

    function test_refund_byArbiterBeforeDeadline() public {
        Escrow e = funded();
        vm.expectEmit(true, true, true, true, address(e));
        emit Escrow.Refunded(payer, AMOUNT, arbiter);
        vm.prank(arbiter);
        e.refund();
        assertEq(stateOf(e), uint256(Escrow.State.Refunded), "state");
    }

    function test_refund_byArbiterEvenWhenApproved() public {
        Escrow e = approved();
        vm.prank(arbiter);
        e.refund();
        assertEq(stateOf(e), uint256(Escrow.State.Refunded), "arbiter overrides");
    }

    function test_refund_revertsOutsider() public {
        Escrow e = funded();
        vm.warp(deadline + 1);
        vm.prank(outsider);
        vm.expectRevert(err(Escrow.NotParty.selector));
        e.refund();
    }

    function test_refund_revertsPayee() public {
        Escrow e = funded();
        vm.warp(deadline + 1);
        vm.prank(payee);
        vm.expectRevert(err(Escrow.NotParty.selector));
        e.refund();
    }

    function test_refund_revertsUnfunded() public {
        Escrow e = newNative();
        vm.prank(arbiter);
        vm.expectRevert(invalidState(Escrow.State.Created));
        e.refund();
    }

    function test_refund_revertsWhileDisputed() public {
        Escrow e = funded();
        vm.prank(payee);
        e.dispute("x");
        vm.prank(arbiter);
        vm.expectRevert(invalidState(Escrow.State.Disputed));
        e.refund();
    }

    function test_refund_revertsAfterRelease() public {
        Escrow e = approved();
        e.release();
        vm.prank(arbiter);
        vm.expectRevert(invalidState(Escrow.State.Released));
        e.refund();
    }

    function test_refund_revertsTwice() public {
        Escrow e = funded();
        vm.prank(arbiter);
        e.refund();
        vm.prank(arbiter);
        vm.expectRevert(invalidState(Escrow.State.Refunded));
        e.refund();
    }

    // =========================================================== dispute and resolve

    function test_dispute_byPayee() public {
        Escrow e = funded();
        vm.expectEmit(true, true, true, true, address(e));
        emit Escrow.Disputed(payee, "invoice 42 unpaid");
        vm.prank(payee);
        e.dispute("invoice 42 unpaid");
        assertEq(stateOf(e), uint256(Escrow.State.Disputed), "state");
    }

    function test_dispute_byPayer() public {
        Escrow e = approved();
        vm.prank(payer);
        e.dispute("");
        assertEq(stateOf(e), uint256(Escrow.State.Disputed), "state");
    }

    function test_dispute_revertsOutsiderApproverArbiter() public {
        Escrow e = funded();
        address[3] memory who = [outsider, a1, arbiter];
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(who[i]);
            vm.expectRevert(err(Escrow.NotParty.selector));
            e.dispute("x");
        }
    }

    function test_dispute_revertsUnfunded() public {
        Escrow e = newNative();
        vm.prank(payee);
        vm.expectRevert(invalidState(Escrow.State.Created));
        e.dispute("x");
    }

    function test_dispute_revertsSecondDispute() public {
        Escrow e = funded();
        vm.prank(payee);
        e.dispute("first");
        vm.prank(payer);
        vm.expectRevert(invalidState(Escrow.State.Disputed));
        e.dispute("second");
    }

    function test_dispute_revertsAfterDeadline() public {
        Escrow e = funded();
        vm.warp(deadline + 1);
        vm.prank(payee);
        vm.expectRevert(abi.encodeWithSelector(Escrow.DeadlinePassed.selector, deadline));
        e.dispute("too late");
    }

    function test_dispute_revertsAfterRelease() public {
        Escrow e = approved();
        e.release();
        vm.prank(payer);
        vm.expectRevert(invalidState(Escrow.State.Released));
        e.dispute("x");
    }

    function test_dispute_reasonLengthLimit() public {
        Escrow e = funded();
        bytes memory longest = new bytes(1024);
        bytes memory tooLong = new bytes(1025);
        vm.prank(payee);
        vm.expectRevert(abi.encodeWithSelector(Escrow.ReasonTooLong.selector, 1025, 1024));
        e.dispute(string(tooLong));
        vm.prank(payee);
        e.dispute(string(longest));
        assertEq(stateOf(e), uint256(Escrow.State.Disputed), "1024 bytes accepted");
    }

    function test_dispute_blocksPayerRefundAfterDeadline() public {
        Escrow e = funded();
        vm.prank(payee);
        e.dispute("x");
        vm.warp(deadline + 1);
        vm.prank(payer);
        vm.expectRevert(invalidState(Escrow.State.Disputed));
        e.refund();
    }

    function test_resolve_toPayee() public {
        Escrow e = funded();
        vm.prank(payer);
        e.dispute("quality");
        vm.expectEmit(true, true, true, true, address(e));
        emit Escrow.Resolved(true, payee, AMOUNT);
        vm.prank(arbiter);
        e.resolve(true);
        assertEq(payee.balance, AMOUNT, "payee paid");
        assertEq(address(e).balance, 0, "escrow empty");
        assertEq(stateOf(e), uint256(Escrow.State.Resolved), "state");
    }

    function test_resolve_toPayer_erc20() public {
        Escrow e = newUsdc();
        fundUsdc(e);
        vm.prank(payee);
        e.dispute("x");
        uint256 before = usdc.balanceOf(payer);
        vm.expectEmit(true, true, true, true, address(e));
        emit Escrow.Resolved(false, payer, USDC_AMOUNT);
        vm.prank(arbiter);
        e.resolve(false);
        assertEq(usdc.balanceOf(payer) - before, USDC_AMOUNT, "payer repaid");
        assertEq(usdc.balanceOf(address(e)), 0, "escrow empty");
    }

    function test_resolve_afterDeadline() public {
        Escrow e = funded();
        vm.prank(payee);
        e.dispute("x");
        vm.warp(deadline + 365 days);
        vm.prank(arbiter);
        e.resolve(true);
        assertEq(stateOf(e), uint256(Escrow.State.Resolved), "arbiter may decide late");
    }

    function test_resolve_revertsNotArbiter() public {
        Escrow e = funded();
        vm.prank(payee);
        e.dispute("x");
        vm.prank(payee);
        vm.expectRevert(err(Escrow.NotArbiter.selector));
        e.resolve(true);
    }

    function test_resolve_revertsWithoutDispute() public {
        Escrow e = funded();
        vm.prank(arbiter);
        vm.expectRevert(invalidState(Escrow.State.Funded));
        e.resolve(true);
    }

    function test_resolve_revertsTwice() public {
        Escrow e = funded();
        vm.prank(payee);
        e.dispute("x");
        vm.prank(arbiter);
        e.resolve(false);
        vm.prank(arbiter);
        vm.expectRevert(invalidState(Escrow.State.Resolved));
        e.resolve(true);
    }

    // =========================================================== re-entrancy

    function test_reentrancy_releaseCannotPayTwice() public {
        ReentrantReceiver r = new ReentrantReceiver();
        Escrow e = _create(address(r), address(0), AMOUNT, approvers3(), 2, arbiter, deadline);
        fundNative(e);
        approveBy(e, a1);
        approveBy(e, a2);
        r.arm(address(e), abi.encodeCall(Escrow.release, ()));
        e.release();
        assertTrue(r.reentered(), "payee re-entered");
        assertFalse(r.reentrySucceeded(), "re-entry failed");
        assertEq(r.reentryRevertData(), err(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector), "guard");
        assertEq(address(r).balance, AMOUNT, "paid exactly once");
    }

    function test_reentrancy_refundCannotPayTwice() public {
        ReentrantReceiver r = new ReentrantReceiver();
        vm.deal(address(r), AMOUNT);
        Escrow e = Escrow(
            abi.decode(
                r.call(
                    address(factory),
                    0,
                    abi.encodeCall(
                        EscrowFactory.createEscrow, (payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline)
                    )
                ),
                (address)
            )
        );
        r.call(address(e), AMOUNT, abi.encodeCall(Escrow.fund, ()));
        r.arm(address(e), abi.encodeCall(Escrow.refund, ()));
        vm.prank(arbiter);
        e.refund();
        assertTrue(r.reentered(), "payer re-entered");
        assertFalse(r.reentrySucceeded(), "re-entry failed");
        assertEq(r.reentryRevertData(), err(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector), "guard");
        assertEq(address(r).balance, AMOUNT, "repaid exactly once");
    }

    function test_reentrancy_resolveCannotPayTwice() public {
        ReentrantReceiver r = new ReentrantReceiver();
        Escrow e = _create(address(r), address(0), AMOUNT, approvers3(), 2, arbiter, deadline);
        fundNative(e);
        vm.prank(payer);
        e.dispute("x");
        r.arm(address(e), abi.encodeCall(Escrow.resolve, (true)));
        vm.prank(arbiter);
        e.resolve(true);
        assertTrue(r.reentered(), "payee re-entered");
        assertFalse(r.reentrySucceeded(), "re-entry failed");
        assertEq(address(r).balance, AMOUNT, "paid exactly once");
    }

    function test_reentrancy_tokenHookDuringFundAndRelease() public {
        ReentrantToken hook = new ReentrantToken();
        hook.mint(payer, 100e18);
        Escrow e = _create(payee, address(hook), 100e18, approvers3(), 2, arbiter, deadline);
        vm.prank(payer);
        hook.approve(address(e), 100e18);
        hook.arm(address(e), abi.encodeCall(Escrow.fund, ()));
        vm.prank(payer);
        e.fund();
        assertTrue(hook.reentered() && !hook.reentrySucceeded(), "fund re-entry failed");
        assertEq(hook.reentryRevertData(), err(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector), "guard");
        assertEq(hook.balanceOf(address(e)), 100e18, "funded once");

        approveBy(e, a1);
        approveBy(e, a2);
        hook.arm(address(e), abi.encodeCall(Escrow.release, ()));
        e.release();
        assertFalse(hook.reentrySucceeded(), "release re-entry failed");
        assertEq(hook.balanceOf(payee), 100e18, "paid once");
        assertEq(hook.balanceOf(address(e)), 0, "escrow empty");
    }

    // =========================================================== helpers

    function _create(
        address payee_,
        address token_,
        uint256 amount_,
        address[] memory approvers_,
        uint256 threshold_,
        address arbiter_,
        uint64 deadline_
    ) internal returns (Escrow) {
        vm.prank(payer);
        return Escrow(factory.createEscrow(payee_, token_, amount_, approvers_, threshold_, arbiter_, deadline_));
    }

    /// CREATE address of the factory's next deployment (RLP of [factory, nonce], nonce < 128).
    function _nextCloneAddress() internal view returns (address) {
        uint256 nonce = 2 + factory.escrowCount(); // 1 was the implementation
        return address(
            uint160(uint256(keccak256(abi.encodePacked(bytes1(0xd6), bytes1(0x94), address(factory), uint8(nonce)))))
        );
    }
}
