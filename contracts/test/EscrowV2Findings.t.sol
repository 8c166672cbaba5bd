// SPDX-License-Identifier: MIT
// The findings of the internal audit of Escrow version 1, one pair of tests each, named
// after the finding: `_v1` reproduces it on the unchanged Escrow/EscrowFactory (it passes
// because the defect is there; it would fail on a fixed v1), `_v2` runs the same scenario
// on EscrowV2/EscrowFactoryV2 and shows it closed (it fails on v1's behaviour).
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Vm} from "./utils/Vm.sol";
import {EscrowV2Fixture} from "./utils/EscrowV2Fixture.sol";
import {Escrow} from "../src/Escrow.sol";
import {EscrowFactory} from "../src/EscrowFactory.sol";
import {EscrowV2} from "../src/EscrowV2.sol";
import {EscrowFactoryV2} from "../src/EscrowFactoryV2.sol";
import {HookToken, SmartWallet} from "./mocks/Attackers.sol";

contract EscrowV2FindingsTest is EscrowV2Fixture {
    // ================================================ Medium: approvers include a party

    function test_finding_payeeAsApprover_v1ReleasesToItself() public {
        address[] memory onlyPayee = new address[](1);
        onlyPayee[0] = payee;
        Escrow e = createV1(payee, address(0), AMOUNT, onlyPayee, 1);
        vm.prank(payer);
        e.fund{value: AMOUNT}();
        vm.startPrank(payee);
        e.approve();
        e.release();
        vm.stopPrank();
        assertEq(payee.balance, AMOUNT, "v1: the payee approved and paid itself");
    }

    function test_finding_payeeAsApprover_v2Refused() public {
        address[] memory a = approvers3();
        a[1] = payee;
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.ApproverNotIndependent.selector, payee));
        factory.createEscrow(payee, address(0), AMOUNT, a, 1, arbiter, deadline, WINDOW);
        assertEq(factory.escrowCount(), 0, "nothing created");
    }

    function test_finding_arbiterAsApprover_v1Accepted() public {
        address[] memory a = approvers3();
        a[2] = arbiter;
        Escrow e = createV1(payee, address(0), AMOUNT, a, 2);
        assertTrue(e.isApprover(arbiter), "v1: the arbiter is also a checker");
    }

    function test_finding_arbiterAsApprover_v2Refused() public {
        address[] memory a = approvers3();
        a[2] = arbiter;
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.ApproverNotIndependent.selector, arbiter));
        factory.createEscrow(payee, address(0), AMOUNT, a, 2, arbiter, deadline, WINDOW);
    }

    function test_finding_payerAsApprover_v2Refused() public {
        address[] memory a = approvers3();
        a[0] = payer;
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.ApproverNotIndependent.selector, payer));
        factory.createEscrow(payee, address(0), AMOUNT, a, 2, arbiter, deadline, WINDOW);
    }

    // ================================================ Medium: a dispute freezes the funds

    function test_finding_disputeFreezesFunds_v1() public {
        Escrow e = fundedV1();
        vm.warp(deadline); // the last second a dispute is possible
        vm.prank(payee);
        e.dispute("hostage");
        vm.warp(uint256(deadline) + 3650 days); // the arbiter never answers (lost key)
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(Escrow.InvalidState.selector, Escrow.State.Disputed));
        e.refund();
        assertEq(address(e).balance, AMOUNT, "v1: still frozen ten years later");
    }

    function test_finding_disputeFreezesFunds_v2PayerRefundsAfterWindow() public {
        EscrowV2 e = funded();
        vm.warp(deadline);
        vm.prank(payee);
        e.dispute("hostage");
        uint256 closesAt = uint256(deadline) + WINDOW;
        assertEq(e.disputeClosesAt(), closesAt, "closesAt");
        vm.warp(closesAt); // the arbiter's window still runs
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.DisputeWindowOpen.selector, closesAt));
        e.refund();
        vm.warp(closesAt + 1);
        uint256 before = payer.balance;
        vm.expectEmit(true, true, true, true, address(e));
        emit EscrowV2.Refunded(payer, AMOUNT, payer);
        vm.prank(payer);
        e.refund();
        assertEq(payer.balance - before, AMOUNT, "payer repaid");
        assertEq(stateOf(e), uint256(EscrowV2.State.Refunded), "refunded");
        assertEq(address(e).balance, 0, "escrow empty");
    }

    function test_finding_disputeFreezesFunds_v2ResolveAndRefundPartitionTime() public {
        EscrowV2 e = disputedBy(payee);
        EscrowV2 f = disputedBy(payer);
        uint256 closesAt = e.disputeClosesAt();
        vm.warp(closesAt + 1);
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.DisputeWindowClosed.selector, closesAt));
        e.resolve(true);
        // …and up to closesAt only the arbiter: no second in which both or neither can end it.
        vm.warp(closesAt);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.DisputeWindowOpen.selector, closesAt));
        f.refund();
        vm.prank(arbiter);
        f.resolve(true);
        assertEq(stateOf(f), uint256(EscrowV2.State.Resolved), "resolved at the last second");
    }

    function test_finding_disputeFreezesFunds_v2ArbiterHandsOver() public {
        EscrowV2 e = disputedBy(payee);
        address next = makeAddr("arbiter2");
        vm.expectEmit(true, true, true, true, address(e));
        emit EscrowV2.ArbiterChanged(arbiter, next);
        vm.prank(arbiter);
        e.transferArbiter(next);
        vm.prank(arbiter);
        vm.expectRevert(err(EscrowV2.NotArbiter.selector));
        e.resolve(true);
        vm.prank(next);
        e.resolve(false);
        assertEq(stateOf(e), uint256(EscrowV2.State.Resolved), "the successor decided");
    }

    // ================================================ Low: log order differs from the state

    /// A smart-wallet payer funds with an ERC-777-style token; its tokensToSend hook calls
    /// `payload` on the escrow (as the wallet) while fund() is moving the tokens.
    function _fundThroughHook(bool v2, bytes memory payload, SmartWallet approverWallet)
        internal
        returns (address e, SmartWallet wallet, Vm.Log[] memory logs)
    {
        HookToken tok = new HookToken();
        wallet = new SmartWallet();
        tok.mint(address(wallet), 100e18);
        address[] memory a = approvers3();
        if (address(approverWallet) != address(0)) a[0] = address(approverWallet);
        bytes memory createCall = v2
            ? abi.encodeCall(EscrowFactoryV2.createEscrow, (payee, address(tok), 100e18, a, 2, arbiter, deadline, WINDOW))
            : abi.encodeCall(EscrowFactory.createEscrow, (payee, address(tok), 100e18, a, 2, arbiter, deadline));
        e = abi.decode(wallet.call(v2 ? address(factory) : address(factoryV1), 0, createCall), (address));
        wallet.call(address(tok), 0, abi.encodeCall(tok.approve, (e, 100e18)));
        wallet.call(address(tok), 0, abi.encodeCall(HookToken.registerHook, ()));
        if (address(approverWallet) != address(0)) {
            // The payer's hook asks the approver's wallet to approve, inside the transfer.
            approverWallet.arm(e, payload);
            wallet.arm(address(approverWallet), abi.encodeCall(SmartWallet.tokensToSend, (e, e, 0)));
        } else {
            wallet.arm(e, payload);
        }
        vm.recordLogs();
        wallet.call(e, 0, abi.encodeCall(Escrow.fund, ()));
        logs = vm.getRecordedLogs();
        assertEq(tok.balanceOf(e), 100e18, "funded");
    }

    /// State from the escrow's logs alone, as the indexer folds them (same topics in v1 and v2).
    function _stateFromLogs(Vm.Log[] memory logs, address e) internal pure returns (uint256 s) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != e) continue;
            bytes32 t0 = logs[i].topics[0];
            if (t0 == EscrowV2.Funded.selector) s = uint256(EscrowV2.State.Funded);
            else if (t0 == EscrowV2.Disputed.selector) s = uint256(EscrowV2.State.Disputed);
            else if (t0 == EscrowV2.Released.selector) s = uint256(EscrowV2.State.Released);
        }
    }

    function _countApprovedLogsBeforeFunded(Vm.Log[] memory logs, address e) internal pure returns (uint256 n) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != e) continue;
            if (logs[i].topics[0] == EscrowV2.Funded.selector) return n;
            if (logs[i].topics[0] == EscrowV2.Approved.selector) n++;
        }
    }

    function test_finding_logOrder_v1DisputeInsideFundHook() public {
        (address e, SmartWallet w, Vm.Log[] memory logs) =
            _fundThroughHook(false, abi.encodeCall(Escrow.dispute, ("inside")), SmartWallet(payable(address(0))));
        assertTrue(w.reentrySucceeded(), "v1: the dispute inside the transfer succeeded");
        assertEq(uint256(Escrow(e).state()), uint256(Escrow.State.Disputed), "v1: chain says Disputed");
        assertEq(_stateFromLogs(logs, e), uint256(Escrow.State.Funded), "v1: logs say Funded");
    }

    function test_finding_logOrder_v2DisputeInsideFundHookRefused() public {
        (address e, SmartWallet w, Vm.Log[] memory logs) =
            _fundThroughHook(true, abi.encodeCall(EscrowV2.dispute, ("inside")), SmartWallet(payable(address(0))));
        assertTrue(w.reentered(), "the hook ran");
        assertFalse(w.reentrySucceeded(), "the dispute inside the transfer failed");
        assertEq(w.reentryRevertData(), err(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector), "guard");
        assertEq(uint256(EscrowV2(e).state()), uint256(EscrowV2.State.Funded), "chain says Funded");
        assertEq(_stateFromLogs(logs, e), uint256(EscrowV2(e).state()), "logs agree with the chain");
    }

    function test_finding_logOrder_v1ApproveInsideFundHook() public {
        SmartWallet approver = new SmartWallet();
        (address e,, Vm.Log[] memory logs) = _fundThroughHook(false, abi.encodeCall(Escrow.approve, ()), approver);
        assertTrue(approver.reentrySucceeded(), "v1: approve inside the transfer succeeded");
        assertEq(_countApprovedLogsBeforeFunded(logs, e), 1, "v1: Approved logged before Funded");
    }

    function test_finding_logOrder_v2ApproveInsideFundHookRefused() public {
        SmartWallet approver = new SmartWallet();
        // The hash is not known before creation; the guard refuses before any terms check.
        (address e,, Vm.Log[] memory logs) =
            _fundThroughHook(true, abi.encodeCall(EscrowV2.approve, (bytes32(0))), approver);
        assertTrue(approver.reentered(), "the approver's wallet was called");
        assertFalse(approver.reentrySucceeded(), "approve inside the transfer failed");
        assertEq(
            approver.reentryRevertData(),
            err(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector),
            "the guard refused it (before any terms check)"
        );
        assertEq(_countApprovedLogsBeforeFunded(logs, e), 0, "no Approved before Funded");
        assertEq(EscrowV2(e).approvals(), 0, "nothing counted");
    }

    // ================================================ Low: the arbiter overrides approvals

    function test_finding_arbiterOverride_v1RefundsApproved() public {
        Escrow e = fundedV1();
        vm.prank(a1);
        e.approve();
        vm.prank(a2);
        e.approve();
        vm.warp(deadline + 1);
        vm.prank(arbiter);
        e.refund();
        assertEq(uint256(e.state()), uint256(Escrow.State.Refunded), "v1: the arbiter undid the approvals");
    }

    function test_finding_arbiterOverride_v2OnlyReleaseAfterThreshold() public {
        EscrowV2 e = approved();
        vm.prank(arbiter);
        vm.expectRevert(err(EscrowV2.ThresholdReached.selector));
        e.refund();
        vm.prank(payer);
        vm.expectRevert(err(EscrowV2.ThresholdReached.selector));
        e.dispute("override");
        vm.warp(deadline + 1);
        vm.prank(arbiter);
        vm.expectRevert(err(EscrowV2.ThresholdReached.selector));
        e.refund();
        vm.prank(payer);
        vm.expectRevert(err(EscrowV2.ThresholdReached.selector));
        e.refund();
        e.release();
        assertEq(payee.balance, AMOUNT, "released");
    }

    // ================================================ Low: approvals not bound to the terms

    /// CREATE address of the factory's next clone (RLP of [factory, nonce], nonce < 128).
    function _nextClone(address f, uint256 created) internal pure returns (address) {
        uint256 nonce = 2 + created; // 1 was the implementation
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xd6), bytes1(0x94), f, uint8(nonce))))));
    }

    function test_finding_approvalNotBoundToTerms_v1() public {
        // The approver reviewed "10 ether to payee at X"; a reorg put other terms at X first.
        address x = _nextClone(address(factoryV1), factoryV1.escrowCount());
        address other = makeAddr("other payee");
        Escrow e = createV1(other, address(0), 1 ether, approvers3(), 1);
        assertEq(address(e), x, "other terms now at X");
        vm.prank(payer);
        e.fund{value: 1 ether}();
        vm.prank(a1);
        Escrow(x).approve(); // the approval signed for the reviewed terms
        e.release();
        assertEq(other.balance, 1 ether, "v1: the approval released other terms");
    }

    function test_finding_approvalNotBoundToTerms_v2() public {
        address x = _nextClone(address(factory), factory.escrowCount());
        bytes32 reviewed =
            expectedTermsHash(x, payer, payee, address(0), AMOUNT, approvers3(), 1, deadline, arbiter, WINDOW);
        address other = makeAddr("other payee");
        EscrowV2 e = create(other, address(0), 1 ether, approvers3(), 1, arbiter, deadline, WINDOW);
        assertEq(address(e), x, "other terms now at X");
        vm.prank(payer);
        e.fund{value: 1 ether}();
        bytes32 actual = e.termsHash();
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(EscrowV2.WrongTerms.selector, reviewed, actual));
        EscrowV2(x).approve(reviewed);
        assertEq(e.approvals(), 0, "the approval did not count");
    }

    // ================================================ Low: stray funds are stuck

    function test_finding_strayFunds_v1Stuck() public {
        Escrow e = fundedV1();
        vm.deal(address(e), address(e).balance + 1 ether); // force-sent (selfdestruct)
        vm.prank(payer);
        usdc.transfer(address(e), 5e6); // sent to the escrow by mistake
        vm.prank(a1);
        e.approve();
        vm.prank(a2);
        e.approve();
        e.release();
        assertEq(address(e).balance, 1 ether, "v1: the force-sent coin stays after the end");
        assertEq(usdc.balanceOf(address(e)), 5e6, "v1: so do the tokens");
    }

    function test_finding_strayFunds_v2SweptToPayerAfterFinal() public {
        EscrowV2 e = funded();
        vm.deal(address(e), address(e).balance + 1 ether);
        vm.prank(payer);
        usdc.transfer(address(e), 5e6);
        // Not while the deposit is committed, not even the surplus.
        vm.prank(payer);
        vm.expectRevert(invalidState(EscrowV2.State.Funded));
        e.sweep(address(0));
        approveBy(e, a1);
        approveBy(e, a2);
        e.release();
        assertEq(payee.balance, AMOUNT, "the payee got exactly the amount");
        uint256 before = payer.balance;
        vm.expectEmit(true, true, true, true, address(e));
        emit EscrowV2.Swept(address(0), payer, 1 ether);
        vm.prank(payer);
        e.sweep(address(0));
        assertEq(payer.balance - before, 1 ether, "coin swept to the payer");
        uint256 ub = usdc.balanceOf(payer);
        vm.prank(payer);
        e.sweep(address(usdc));
        assertEq(usdc.balanceOf(payer) - ub, 5e6, "tokens swept to the payer");
        assertEq(address(e).balance + usdc.balanceOf(address(e)), 0, "nothing left");
    }

    function test_finding_strayFunds_v2SentBeforeCreation() public {
        bytes32 salt = keccak256("pre-sent");
        address predicted = factory.predictEscrowAddress(payer, salt);
        vm.deal(predicted, 3 ether); // coin sent to the predicted address before creation
        vm.prank(payer);
        EscrowV2 e = EscrowV2(
            factory.createEscrowDeterministic(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, WINDOW, salt)
        );
        assertEq(address(e), predicted, "created at the prediction");
        uint256 before = payer.balance;
        vm.prank(payer);
        e.sweep(address(0)); // nothing committed yet
        assertEq(payer.balance - before, 3 ether, "recovered before funding");
        fundNative(e);
        assertEq(address(e).balance, AMOUNT, "funding unaffected");
    }
}
