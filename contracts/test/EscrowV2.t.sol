// SPDX-License-Identifier: MIT
// Unit tests of EscrowV2 and EscrowFactoryV2: creation and its checks, the terms hash,
// every transition and custom error of the version-2 state machine, the dispute window,
// the arbiter hand-over, sweeping, and re-entry on every guarded function.
pragma solidity 0.8.30;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EscrowV2Fixture} from "./utils/EscrowV2Fixture.sol";
import {EscrowV2} from "../src/EscrowV2.sol";
import {EscrowFactoryV2} from "../src/EscrowFactoryV2.sol";
import {FeeOnTransferToken} from "./mocks/FeeOnTransferToken.sol";
import {ReentrantReceiver, ReentrantToken} from "./mocks/Attackers.sol";

contract EscrowV2Test is EscrowV2Fixture {
    // =========================================================== version, creation, terms

    function test_version() public {
        assertEq(factory.version(), 2, "factory version");
        assertEq(newNative().version(), 2, "escrow version");
    }

    function test_create_emitsEscrowCreatedWithTermsHash() public {
        bytes32 salt = keccak256("s");
        address predicted = factory.predictEscrowAddress(payer, salt);
        bytes32 h =
            expectedTermsHash(predicted, payer, payee, address(usdc), USDC_AMOUNT, approvers3(), 2, deadline, arbiter, WINDOW);
        vm.expectEmit(true, true, true, true, address(factory));
        emit EscrowFactoryV2.EscrowCreated(
            predicted, payer, payee, address(usdc), USDC_AMOUNT, approvers3(), 2, arbiter, deadline, WINDOW, h
        );
        vm.prank(payer);
        address e = factory.createEscrowDeterministic(
            payee, address(usdc), USDC_AMOUNT, approvers3(), 2, arbiter, deadline, WINDOW, salt
        );
        assertEq(e, predicted, "address");
        assertEq(EscrowV2(e).termsHash(), h, "termsHash() is the documented encoding");
    }

    function test_termsHash_changesWithEveryTerm() public {
        EscrowV2 e = newNative();
        bytes32 h = e.termsHash();
        address[] memory a = approvers3();
        address x = address(e);
        assertEq(h, expectedTermsHash(x, payer, payee, address(0), AMOUNT, a, 2, deadline, arbiter, WINDOW), "base");
        bytes32[9] memory other = [
            expectedTermsHash(outsider, payer, payee, address(0), AMOUNT, a, 2, deadline, arbiter, WINDOW),
            expectedTermsHash(x, outsider, payee, address(0), AMOUNT, a, 2, deadline, arbiter, WINDOW),
            expectedTermsHash(x, payer, outsider, address(0), AMOUNT, a, 2, deadline, arbiter, WINDOW),
            expectedTermsHash(x, payer, payee, address(usdc), AMOUNT, a, 2, deadline, arbiter, WINDOW),
            expectedTermsHash(x, payer, payee, address(0), AMOUNT + 1, a, 2, deadline, arbiter, WINDOW),
            expectedTermsHash(x, payer, payee, address(0), AMOUNT, a, 3, deadline, arbiter, WINDOW),
            expectedTermsHash(x, payer, payee, address(0), AMOUNT, a, 2, deadline + 1, arbiter, WINDOW),
            expectedTermsHash(x, payer, payee, address(0), AMOUNT, a, 2, deadline, outsider, WINDOW),
            expectedTermsHash(x, payer, payee, address(0), AMOUNT, a, 2, deadline, arbiter, WINDOW + 1)
        ];
        for (uint256 i = 0; i < other.length; ++i) {
            vm.assertNotEq(h, other[i], "a changed term changes the hash");
        }
        a[0] = a2;
        a[1] = a1; // same set, other order
        vm.assertNotEq(h, expectedTermsHash(x, payer, payee, address(0), AMOUNT, a, 2, deadline, arbiter, WINDOW), "order");
        vm.chainId(31338);
        vm.assertNotEq(h, expectedTermsHash(x, payer, payee, address(0), AMOUNT, approvers3(), 2, deadline, arbiter, WINDOW), "chain");
    }

    /// The worked example of docs/contracts.md ("Terms hash"), so the desk has a test vector.
    function test_termsHash_documentedVector() public {
        vm.chainId(31337);
        address[] memory a = new address[](3);
        a[0] = address(0x01);
        a[1] = address(0x02);
        a[2] = address(0x03);
        bytes32 h = expectedTermsHash(
            address(0xE5), address(0xA1), address(0xB0), address(0), 10 ether, a, 2, 1700604800, address(0xAB), 7 days
        );
        assertEq(h, 0xfdd7f6bbbf62303bcdde0632f1ec768da3374727e43ec9657f543998793066e2, "documented vector");
    }

    function test_create_setsTerms() public {
        EscrowV2 e = newUsdc();
        (
            EscrowV2.State s,
            address p,
            address q,
            address t,
            uint256 amt,
            address arb,
            uint64 dl,
            uint256 th,
            uint256 n,
            uint64 w,
            bytes32 h
        ) = e.summary();
        assertEq(uint256(s), uint256(EscrowV2.State.Created), "state");
        assertEq(p, payer, "payer");
        assertEq(q, payee, "payee");
        assertEq(t, address(usdc), "token");
        assertEq(amt, USDC_AMOUNT, "amount");
        assertEq(arb, arbiter, "arbiter");
        assertEq(uint256(dl), uint256(deadline), "deadline");
        assertEq(th, 2, "threshold");
        assertEq(n, 0, "approvals");
        assertEq(uint256(w), uint256(WINDOW), "window");
        assertEq(h, e.termsHash(), "hash");
        assertEq(e.approvers(), approvers3(), "approvers");
        assertEq(e.factory(), address(factory), "factory");
        assertEq(e.disputeClosesAt(), uint256(deadline) + WINDOW, "closes");
        assertEq(uint256(e.DEFAULT_DISPUTE_WINDOW()), 7 days, "default window");
    }

    function test_initialize_revertsTwiceAndOnImplementation() public {
        EscrowV2 e = newNative();
        EscrowV2.Terms memory t = _terms();
        EscrowV2 impl = EscrowV2(factory.implementation());
        vm.expectRevert(err(EscrowV2.AlreadyInitialized.selector));
        e.initialize(t);
        vm.expectRevert(err(EscrowV2.AlreadyInitialized.selector));
        impl.initialize(t);
    }

    function test_initialize_revertsZeroPayer() public {
        EscrowV2 e = EscrowV2(Clones.clone(factory.implementation()));
        EscrowV2.Terms memory t = _terms();
        t.payer = address(0);
        vm.expectRevert(err(EscrowV2.ZeroAddress.selector));
        e.initialize(t);
    }

    function test_create_revertsBadTerms() public {
        address[] memory a = approvers3();
        _expectCreateRevert(address(0), address(0), AMOUNT, a, 2, arbiter, WINDOW, err(EscrowV2.ZeroAddress.selector));
        _expectCreateRevert(payee, address(0), AMOUNT, a, 2, address(0), WINDOW, err(EscrowV2.ZeroAddress.selector));
        _expectCreateRevert(payee, address(0), 0, a, 2, arbiter, WINDOW, err(EscrowV2.ZeroAmount.selector));
        _expectCreateRevert(payer, address(0), AMOUNT, a, 2, arbiter, WINDOW, err(EscrowV2.SamePayerPayee.selector));
        _expectCreateRevert(payee, address(0), AMOUNT, a, 2, payer, WINDOW, err(EscrowV2.ArbiterNotIndependent.selector));
        _expectCreateRevert(payee, address(0), AMOUNT, a, 2, payee, WINDOW, err(EscrowV2.ArbiterNotIndependent.selector));
        _expectCreateRevert(
            payee, outsider, AMOUNT, a, 2, arbiter, WINDOW, abi.encodeWithSelector(EscrowV2.NotAContract.selector, outsider)
        );
        _expectCreateRevert(
            payee, address(0), AMOUNT, new address[](0), 1, arbiter, WINDOW, err(EscrowV2.NoApprovers.selector)
        );
        _expectCreateRevert(
            payee, address(0), AMOUNT, a, 0, arbiter, WINDOW, abi.encodeWithSelector(EscrowV2.InvalidThreshold.selector, 0, 3)
        );
        _expectCreateRevert(
            payee, address(0), AMOUNT, a, 4, arbiter, WINDOW, abi.encodeWithSelector(EscrowV2.InvalidThreshold.selector, 4, 3)
        );
        address[] memory big = new address[](33);
        for (uint256 i = 0; i < big.length; ++i) {
            big[i] = address(uint160(0x1000 + i));
        }
        _expectCreateRevert(
            payee, address(0), AMOUNT, big, 2, arbiter, WINDOW, abi.encodeWithSelector(EscrowV2.TooManyApprovers.selector, 33, 32)
        );
        address[] memory dup = approvers3();
        dup[2] = a1;
        _expectCreateRevert(
            payee, address(0), AMOUNT, dup, 2, arbiter, WINDOW, abi.encodeWithSelector(EscrowV2.DuplicateApprover.selector, a1)
        );
        address[] memory zero = approvers3();
        zero[1] = address(0);
        _expectCreateRevert(payee, address(0), AMOUNT, zero, 2, arbiter, WINDOW, err(EscrowV2.ZeroAddress.selector));
        assertEq(factory.escrowCount(), 0, "nothing registered");
    }

    function test_create_revertsDeadlineNow() public {
        uint64 nowTs = uint64(block.timestamp);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.DeadlineNotInFuture.selector, nowTs, block.timestamp));
        factory.createEscrow(payee, address(0), AMOUNT, approvers3(), 2, arbiter, nowTs, WINDOW);
    }

    function test_create_disputeWindowBounds() public {
        uint64 lo = 1 days;
        uint64 hi = 90 days;
        bytes memory tooShort = abi.encodeWithSelector(EscrowV2.InvalidDisputeWindow.selector, lo - 1, lo, hi);
        bytes memory tooLong = abi.encodeWithSelector(EscrowV2.InvalidDisputeWindow.selector, hi + 1, lo, hi);
        _expectCreateRevert(payee, address(0), AMOUNT, approvers3(), 2, arbiter, lo - 1, tooShort);
        _expectCreateRevert(payee, address(0), AMOUNT, approvers3(), 2, arbiter, hi + 1, tooLong);
        _expectCreateRevert(
            payee, address(0), AMOUNT, approvers3(), 2, arbiter, 0,
            abi.encodeWithSelector(EscrowV2.InvalidDisputeWindow.selector, 0, lo, hi)
        );
        assertEq(uint256(create(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, lo).disputeWindow()), lo, "min");
        assertEq(uint256(create(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, hi).disputeWindow()), hi, "max");
    }

    function test_create_maxDeadlinePlusWindowDoesNotOverflow() public {
        EscrowV2 e = create(payee, address(0), AMOUNT, approvers3(), 2, arbiter, type(uint64).max, 90 days);
        assertEq(e.disputeClosesAt(), uint256(type(uint64).max) + 90 days, "no wrap-around");
    }

    function test_factory_registryAndIndex() public {
        EscrowV2 e1 = newNative();
        EscrowV2 e2 = newUsdc();
        assertEq(factory.escrowCount(), 2, "count");
        assertEq(factory.escrowAt(1), address(e2), "second");
        assertTrue(factory.isEscrow(address(e1)), "registered");
        assertFalse(factory.isEscrow(factory.implementation()), "implementation is not an escrow");
        vm.expectRevert(abi.encodeWithSelector(EscrowFactoryV2.IndexOutOfRange.selector, 2, 2));
        factory.escrowAt(2);
    }

    function test_factory_deterministicSaltBoundToCreator() public {
        bytes32 salt = keccak256("deal");
        address mine = factory.predictEscrowAddress(payer, salt);
        vm.prank(outsider); // the front-runner's identical salt lands elsewhere
        address theirs = factory.createEscrowDeterministic(
            payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, WINDOW, salt
        );
        vm.assertNotEq(theirs, mine, "front-runner elsewhere");
        vm.prank(payer);
        address e = factory.createEscrowDeterministic(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, WINDOW, salt);
        assertEq(e, mine, "payer got its address");
        vm.prank(payer);
        vm.expectRevert(err(Errors.FailedDeployment.selector));
        factory.createEscrowDeterministic(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, WINDOW, salt);
    }

    // =========================================================== fund

    function test_fund_nativeAndErc20() public {
        EscrowV2 e = newNative();
        vm.expectEmit(true, true, true, true, address(e));
        emit EscrowV2.Funded(payer, AMOUNT);
        fundNative(e);
        assertEq(address(e).balance, AMOUNT, "native held");
        EscrowV2 u = newUsdc();
        fundUsdc(u);
        assertEq(usdc.balanceOf(address(u)), USDC_AMOUNT, "usdc held");
        assertEq(stateOf(u), uint256(EscrowV2.State.Funded), "state");
    }

    function test_fund_reverts() public {
        EscrowV2 e = newNative();
        vm.deal(payee, AMOUNT);
        vm.prank(payee);
        vm.expectRevert(err(EscrowV2.NotPayer.selector));
        e.fund{value: AMOUNT}();
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.WrongValue.selector, AMOUNT - 1, AMOUNT));
        e.fund{value: AMOUNT - 1}();
        fundNative(e);
        vm.prank(payer);
        vm.expectRevert(invalidState(EscrowV2.State.Funded));
        e.fund{value: AMOUNT}();
        EscrowV2 late = newNative();
        vm.warp(deadline + 1);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.DeadlinePassed.selector, deadline));
        late.fund{value: AMOUNT}();
    }

    function test_fund_revertsFeeOnTransferToken() public {
        FeeOnTransferToken fee = new FeeOnTransferToken();
        fee.mint(payer, 1_000e18);
        EscrowV2 e = create(payee, address(fee), 100e18, approvers3(), 2, arbiter, deadline, WINDOW);
        vm.startPrank(payer);
        fee.approve(address(e), 100e18);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.FeeOnTransferToken.selector, 99e18, 100e18));
        e.fund();
        vm.stopPrank();
        assertEq(stateOf(e), uint256(EscrowV2.State.Created), "still unfunded");
    }

    // =========================================================== approve

    function test_approve_countsWithTheTermsHash() public {
        EscrowV2 e = funded();
        vm.expectEmit(true, true, true, true, address(e));
        emit EscrowV2.Approved(a1, 1);
        approveBy(e, a1);
        assertEq(e.approvals(), 1, "approvals");
        assertTrue(e.hasApproved(a1), "recorded");
    }

    function test_approve_reverts() public {
        EscrowV2 e = newNative();
        bytes32 h = e.termsHash();
        vm.prank(a1);
        vm.expectRevert(invalidState(EscrowV2.State.Created));
        e.approve(h);
        fundNative(e);
        address[3] memory parties = [payer, payee, arbiter];
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(parties[i]);
            vm.expectRevert(err(EscrowV2.NotApprover.selector));
            e.approve(h);
        }
        bytes32 wrong = keccak256("other terms");
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.WrongTerms.selector, wrong, h));
        e.approve(wrong);
        approveBy(e, a1);
        vm.prank(a1);
        vm.expectRevert(err(EscrowV2.AlreadyApproved.selector));
        e.approve(h);
        vm.warp(deadline + 1);
        vm.prank(a2);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.DeadlinePassed.selector, deadline));
        e.approve(h);
        assertEq(e.approvals(), 1, "counted once");
    }

    function test_approve_termsHashOfAnotherEscrowRefused() public {
        EscrowV2 e = funded();
        EscrowV2 f = funded(); // identical terms, other address
        vm.assertNotEq(e.termsHash(), f.termsHash(), "the address is in the hash");
        bytes32 forF = f.termsHash();
        bytes32 forE = e.termsHash();
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.WrongTerms.selector, forF, forE));
        e.approve(forF);
    }

    // =========================================================== release

    function test_release_paysPayeeAnyoneMayTrigger() public {
        EscrowV2 e = approved();
        vm.expectEmit(true, true, true, true, address(e));
        emit EscrowV2.Released(payee, AMOUNT);
        vm.prank(outsider);
        e.release();
        assertEq(payee.balance, AMOUNT, "payee paid");
        assertEq(stateOf(e), uint256(EscrowV2.State.Released), "state");
        vm.expectRevert(invalidState(EscrowV2.State.Released));
        e.release();
    }

    function test_release_erc20AfterDeadlineWhenApprovedInTime() public {
        EscrowV2 e = newUsdc();
        fundUsdc(e);
        approveBy(e, a2);
        approveBy(e, a3);
        vm.warp(deadline + 30 days);
        e.release();
        assertEq(usdc.balanceOf(payee), USDC_AMOUNT, "payee paid");
    }

    function test_release_revertsBelowThresholdAndWhileDisputed() public {
        EscrowV2 e = funded();
        approveBy(e, a1);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.ThresholdNotReached.selector, 1, 2));
        e.release();
        vm.prank(payee);
        e.dispute("x");
        vm.expectRevert(invalidState(EscrowV2.State.Disputed));
        e.release();
    }

    // =========================================================== refund

    function test_refund_byArbiterBeforeThreshold() public {
        EscrowV2 e = funded();
        approveBy(e, a1);
        vm.expectEmit(true, true, true, true, address(e));
        emit EscrowV2.Refunded(payer, AMOUNT, arbiter);
        vm.prank(arbiter);
        e.refund();
        assertEq(stateOf(e), uint256(EscrowV2.State.Refunded), "state");
    }

    function test_refund_byPayerAfterDeadline() public {
        EscrowV2 e = newUsdc();
        fundUsdc(e);
        vm.warp(deadline);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.DeadlineNotReached.selector, deadline));
        e.refund();
        vm.warp(deadline + 1);
        uint256 before = usdc.balanceOf(payer);
        vm.prank(payer);
        e.refund();
        assertEq(usdc.balanceOf(payer) - before, USDC_AMOUNT, "repaid");
    }

    function test_refund_reverts() public {
        EscrowV2 e = newNative();
        vm.prank(arbiter);
        vm.expectRevert(invalidState(EscrowV2.State.Created));
        e.refund();
        fundNative(e);
        vm.warp(deadline + 1);
        address[2] memory who = [payee, outsider];
        for (uint256 i = 0; i < 2; ++i) {
            vm.prank(who[i]);
            vm.expectRevert(err(EscrowV2.NotParty.selector));
            e.refund();
        }
        vm.prank(payer);
        e.refund();
        vm.prank(payer);
        vm.expectRevert(invalidState(EscrowV2.State.Refunded));
        e.refund();
    }

    function test_refund_disputedOnlyByPayer() public {
        EscrowV2 e = disputedBy(payee);
        vm.warp(e.disputeClosesAt() + 1);
        address[3] memory who = [payee, arbiter, outsider];
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(who[i]);
            vm.expectRevert(err(EscrowV2.NotPayer.selector));
            e.refund();
        }
    }

    // =========================================================== dispute and resolve

    function test_dispute_byEitherParty() public {
        EscrowV2 e = funded();
        vm.expectEmit(true, true, true, true, address(e));
        emit EscrowV2.Disputed(payee, "late");
        vm.prank(payee);
        e.dispute("late");
        assertEq(stateOf(e), uint256(EscrowV2.State.Disputed), "state");
        EscrowV2 f = funded();
        vm.prank(payer);
        f.dispute("");
        assertEq(stateOf(f), uint256(EscrowV2.State.Disputed), "payer too");
    }

    function test_dispute_payeeMayStillDisputeAfterThreshold() public {
        EscrowV2 e = approved();
        vm.prank(payee);
        e.dispute("I cannot receive the coin");
        vm.prank(arbiter);
        e.resolve(false);
        assertEq(stateOf(e), uint256(EscrowV2.State.Resolved), "resolved");
    }

    function test_dispute_reverts() public {
        EscrowV2 e = newNative();
        vm.prank(payee);
        vm.expectRevert(invalidState(EscrowV2.State.Created));
        e.dispute("x");
        fundNative(e);
        address[3] memory who = [outsider, a1, arbiter];
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(who[i]);
            vm.expectRevert(err(EscrowV2.NotParty.selector));
            e.dispute("x");
        }
        vm.prank(payee);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.ReasonTooLong.selector, 1025, 1024));
        e.dispute(string(new bytes(1025)));
        vm.warp(deadline + 1);
        vm.prank(payee);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.DeadlinePassed.selector, deadline));
        e.dispute("late");
        vm.warp(deadline);
        vm.prank(payee);
        e.dispute(string(new bytes(1024)));
        vm.prank(payer);
        vm.expectRevert(invalidState(EscrowV2.State.Disputed));
        e.dispute("second");
    }

    function test_resolve_toEitherSide() public {
        EscrowV2 e = disputedBy(payer);
        vm.expectEmit(true, true, true, true, address(e));
        emit EscrowV2.Resolved(true, payee, AMOUNT);
        vm.prank(arbiter);
        e.resolve(true);
        assertEq(payee.balance, AMOUNT, "payee paid");
        EscrowV2 f = newUsdc();
        fundUsdc(f);
        vm.prank(payee);
        f.dispute("x");
        uint256 before = usdc.balanceOf(payer);
        vm.prank(arbiter);
        f.resolve(false);
        assertEq(usdc.balanceOf(payer) - before, USDC_AMOUNT, "payer repaid");
    }

    function test_resolve_reverts() public {
        EscrowV2 e = funded();
        vm.prank(arbiter);
        vm.expectRevert(invalidState(EscrowV2.State.Funded));
        e.resolve(true);
        vm.prank(payee);
        e.dispute("x");
        vm.prank(payee);
        vm.expectRevert(err(EscrowV2.NotArbiter.selector));
        e.resolve(true);
        vm.prank(arbiter);
        e.resolve(true);
        vm.prank(arbiter);
        vm.expectRevert(invalidState(EscrowV2.State.Resolved));
        e.resolve(false);
    }

    // =========================================================== arbiter hand-over

    function test_transferArbiter_beforeFundingAndWhileFunded() public {
        EscrowV2 e = newNative();
        bytes32 h = e.termsHash();
        address next = makeAddr("arbiter2");
        vm.prank(arbiter);
        e.transferArbiter(next);
        assertEq(e.arbiter(), next, "handed over");
        assertEq(e.termsHash(), h, "the hash keeps the creation's arbiter");
        fundNative(e);
        vm.prank(next);
        e.transferArbiter(arbiter);
        vm.prank(arbiter);
        e.refund();
        assertEq(stateOf(e), uint256(EscrowV2.State.Refunded), "the current arbiter acts");
    }

    function test_transferArbiter_reverts() public {
        EscrowV2 e = funded();
        vm.prank(payee);
        vm.expectRevert(err(EscrowV2.NotArbiter.selector));
        e.transferArbiter(outsider);
        address[5] memory bad = [payer, payee, arbiter, a1, a3];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.prank(arbiter);
            vm.expectRevert(err(EscrowV2.ArbiterNotIndependent.selector));
            e.transferArbiter(bad[i]);
        }
        vm.prank(arbiter);
        vm.expectRevert(err(EscrowV2.ZeroAddress.selector));
        e.transferArbiter(address(0));
        vm.prank(arbiter);
        e.refund();
        vm.prank(arbiter);
        vm.expectRevert(invalidState(EscrowV2.State.Refunded));
        e.transferArbiter(outsider);
    }

    // =========================================================== sweep

    function test_sweep_reverts() public {
        EscrowV2 e = newNative();
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.NothingToSweep.selector, address(0)));
        e.sweep(address(0));
        vm.deal(address(e), 1);
        vm.prank(payee);
        vm.expectRevert(err(EscrowV2.NotPayer.selector));
        e.sweep(address(0));
        fundNative(e);
        vm.prank(payee);
        e.dispute("x");
        vm.prank(payer);
        vm.expectRevert(invalidState(EscrowV2.State.Disputed));
        e.sweep(address(0));
    }

    function test_sweep_neverTakesTheCommittedAmount() public {
        EscrowV2 e = newUsdc();
        vm.prank(payer);
        usdc.transfer(address(e), 7);
        vm.prank(payer);
        e.sweep(address(usdc)); // Created: all of it is stray
        assertEq(usdc.balanceOf(address(e)), 0, "swept before funding");
        fundUsdc(e);
        vm.prank(payer);
        vm.expectRevert(invalidState(EscrowV2.State.Funded));
        e.sweep(address(usdc));
        vm.prank(arbiter);
        e.refund();
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.NothingToSweep.selector, address(usdc)));
        e.sweep(address(usdc));
    }

    // =========================================================== re-entrancy

    function test_reentrancy_releaseCannotPayTwice() public {
        ReentrantReceiver r = new ReentrantReceiver();
        EscrowV2 e = create(address(r), address(0), AMOUNT, approvers3(), 2, arbiter, deadline, WINDOW);
        fundNative(e);
        approveBy(e, a1);
        approveBy(e, a2);
        r.arm(address(e), abi.encodeCall(EscrowV2.release, ()));
        e.release();
        assertTrue(r.reentered() && !r.reentrySucceeded(), "re-entry failed");
        assertEq(r.reentryRevertData(), err(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector), "guard");
        assertEq(address(r).balance, AMOUNT, "paid once");
    }

    function test_reentrancy_disputedRefundCannotPayTwiceOrSweepIt() public {
        ReentrantReceiver r = new ReentrantReceiver();
        vm.deal(address(r), AMOUNT);
        bytes memory c = abi.encodeCall(
            EscrowFactoryV2.createEscrow, (payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, WINDOW)
        );
        EscrowV2 e = EscrowV2(abi.decode(r.call(address(factory), 0, c), (address)));
        r.call(address(e), AMOUNT, abi.encodeCall(EscrowV2.fund, ()));
        vm.deal(address(e), AMOUNT + 1 ether); // a stray coin beside the deposit
        vm.prank(payee);
        e.dispute("x");
        vm.warp(e.disputeClosesAt() + 1);
        r.arm(address(e), abi.encodeCall(EscrowV2.sweep, (address(0))));
        r.call(address(e), 0, abi.encodeCall(EscrowV2.refund, ()));
        assertTrue(r.reentered() && !r.reentrySucceeded(), "sweep inside the refund failed");
        assertEq(r.reentryRevertData(), err(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector), "guard");
        assertEq(address(r).balance, AMOUNT, "repaid once");
        r.call(address(e), 0, abi.encodeCall(EscrowV2.sweep, (address(0))));
        assertEq(address(r).balance, AMOUNT + 1 ether, "then the stray coin, separately");
    }

    function test_reentrancy_tokenHookDuringFund() public {
        ReentrantToken hook = new ReentrantToken();
        hook.mint(payer, 100e18);
        EscrowV2 e = create(payee, address(hook), 100e18, approvers3(), 2, arbiter, deadline, WINDOW);
        vm.prank(payer);
        hook.approve(address(e), 100e18);
        hook.arm(address(e), abi.encodeCall(EscrowV2.fund, ()));
        vm.prank(payer);
        e.fund();
        assertTrue(hook.reentered() && !hook.reentrySucceeded(), "fund re-entry failed");
        assertEq(hook.balanceOf(address(e)), 100e18, "funded once");
    }

    // =========================================================== helpers

    function _terms() internal view returns (EscrowV2.Terms memory t) {
        t.payer = payer;
        t.payee = payee;
        t.token = address(0);
        t.amount = AMOUNT;
        t.approvers = approvers3();
        t.threshold = 2;
        t.arbiter = arbiter;
        t.deadline = deadline;
        t.disputeWindow = WINDOW;
    }

    function _expectCreateRevert(
        address payee_,
        address token_,
        uint256 amount_,
        address[] memory approvers_,
        uint256 threshold_,
        address arbiter_,
        uint64 window_,
        bytes memory revertData
    ) internal {
        vm.prank(payer);
        vm.expectRevert(revertData);
        factory.createEscrow(payee_, token_, amount_, approvers_, threshold_, arbiter_, deadline, window_);
    }
}
