// SPDX-License-Identifier: MIT
// Fuzz tests of Escrow and EscrowFactory: any valid terms work, only listed approvers count
// and each once, the payer's refund window is exactly "after the deadline", deterministic
// addresses are bound to their creator, fee-on-transfer tokens are always refused, and any
// sequence of actions leaves an escrow whose state the events alone reproduce.
pragma solidity 0.8.30;

import {EscrowFixture} from "./utils/EscrowFixture.sol";
import {EscrowProjection} from "./utils/EscrowProjection.sol";
import {Vm} from "./utils/Vm.sol";
import {Escrow} from "../src/Escrow.sol";
import {FeeOnTransferToken} from "./mocks/FeeOnTransferToken.sol";

contract EscrowFuzzTest is EscrowFixture, EscrowProjection {
    function testFuzz_validTermsCreateFundRelease(uint256 amount, uint8 n, uint8 th, uint32 dt, bool erc20)
        public
    {
        n = uint8(bound(n, 1, 32));
        th = uint8(bound(th, 1, n));
        amount = bound(amount, 1, erc20 ? 1_000_000e6 : 1_000 ether);
        uint64 dl = uint64(block.timestamp + bound(dt, 1, 3650 days));
        address[] memory a = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            a[i] = address(uint160(0xA000 + i));
        }
        address tok = erc20 ? address(usdc) : address(0);
        vm.prank(payer);
        Escrow e = Escrow(factory.createEscrow(payee, tok, amount, a, th, arbiter, dl));
        vm.startPrank(payer);
        if (erc20) {
            usdc.approve(address(e), amount);
            e.fund();
        } else {
            e.fund{value: amount}();
        }
        vm.stopPrank();
        assertEq(_held(e), amount, "holds exactly the amount");
        for (uint256 i = 0; i < th; ++i) {
            if (i + 1 < th) {
                vm.expectRevert(abi.encodeWithSelector(Escrow.ThresholdNotReached.selector, i, th));
                e.release();
            }
            vm.prank(a[i]);
            e.approve();
        }
        e.release();
        assertEq(_held(e), 0, "paid out");
        assertEq(erc20 ? usdc.balanceOf(payee) : payee.balance, amount, "payee got exactly the amount");
    }

    function testFuzz_onlyApproversCountAndOnlyOnce(address caller, uint8 repeats) public {
        Escrow e = funded();
        repeats = uint8(bound(repeats, 1, 5));
        bool listed = caller == a1 || caller == a2 || caller == a3;
        for (uint256 i = 0; i < repeats; ++i) {
            vm.prank(caller);
            if (caller == payer) {
                vm.expectRevert(err(Escrow.PayerCannotApprove.selector));
            } else if (!listed) {
                vm.expectRevert(err(Escrow.NotApprover.selector));
            } else if (i > 0) {
                vm.expectRevert(err(Escrow.AlreadyApproved.selector));
            }
            e.approve();
        }
        assertEq(e.approvals(), listed ? 1 : 0, "counted at most once");
        assertEq(e.hasApproved(caller), listed, "recorded iff listed");
        assertFalse(e.hasApproved(payer), "payer never approved");
    }

    function testFuzz_payerRefundExactlyAfterDeadline(uint32 dt) public {
        Escrow e = funded();
        uint256 t = block.timestamp + bound(dt, 0, 14 days);
        vm.warp(t);
        vm.prank(payer);
        if (t <= deadline) {
            vm.expectRevert(abi.encodeWithSelector(Escrow.DeadlineNotReached.selector, deadline));
            e.refund();
            assertEq(address(e).balance, AMOUNT, "still held");
        } else {
            e.refund();
            assertEq(address(e).balance, 0, "refunded");
        }
    }

    function testFuzz_deterministicAddressBoundToCreator(address creator, address other, bytes32 salt) public {
        vm.assume(creator != other);
        vm.assume(creator != payee && creator != arbiter && creator != a1 && creator != a2 && creator != a3);
        vm.assume(creator != address(0));
        address predicted = factory.predictEscrowAddress(creator, salt);
        assertTrue(predicted != factory.predictEscrowAddress(other, salt), "other creator, other address");
        vm.prank(creator);
        address e = factory.createEscrowDeterministic(payee, address(0), 1, approvers3(), 1, arbiter, deadline, salt);
        assertEq(e, predicted, "prediction");
        assertEq(Escrow(e).payer(), creator, "creator is the payer");
    }

    function testFuzz_feeOnTransferAlwaysRefused(uint256 amount) public {
        amount = bound(amount, 100, 1e30); // from 100 base units on, a 1% fee is at least 1
        FeeOnTransferToken fee = new FeeOnTransferToken();
        fee.mint(payer, amount);
        vm.prank(payer);
        Escrow e = Escrow(factory.createEscrow(payee, address(fee), amount, approvers3(), 2, arbiter, deadline));
        vm.startPrank(payer);
        fee.approve(address(e), amount);
        vm.expectRevert(abi.encodeWithSelector(Escrow.FeeOnTransferToken.selector, amount - amount / 100, amount));
        e.fund();
        vm.stopPrank();
        assertEq(fee.balanceOf(payer), amount, "payer keeps everything");
    }

    /// Random actions by random parties: the state rebuilt from the logs alone (what the
    /// workstation's indexer does) equals the contract's state, and the money adds up.
    function testFuzz_eventsAloneRebuildState(uint256 seed, bool erc20) public {
        vm.recordLogs();
        Escrow e = erc20 ? newUsdc() : newNative();
        vm.prank(payer);
        usdc.approve(address(e), type(uint256).max);
        uint256 payeeBefore = _balance(e, payee);
        uint256 payerBefore = _balance(e, payer);
        address[7] memory who = [payer, payee, arbiter, a1, a2, a3, outsider];
        for (uint256 i = 0; i < 16; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 op = (r >> 8) % 8;
            // Mostly the party that may do it (so runs get far), sometimes anyone at all.
            address actor = (r >> 32) % 4 == 0 ? who[r % 7] : _likelyActor(op, r >> 40);
            if (op == 7) {
                vm.warp(block.timestamp + ((r >> 16) % 3 days));
                continue;
            }
            bytes memory data;
            uint256 value;
            if (op == 0) {
                data = abi.encodeCall(Escrow.fund, ());
                value = erc20 ? 0 : AMOUNT;
            } else if (op == 1 || op == 2) {
                data = abi.encodeCall(Escrow.approve, ());
            } else if (op == 3) {
                data = abi.encodeCall(Escrow.release, ());
            } else if (op == 4) {
                data = abi.encodeCall(Escrow.refund, ());
            } else if (op == 5) {
                data = abi.encodeCall(Escrow.dispute, ("fuzz"));
            } else {
                data = abi.encodeCall(Escrow.resolve, (((r >> 24) & 1) == 1));
            }
            vm.prank(actor);
            (bool ok,) = address(e).call{value: value}(data);
            ok; // failures are part of the game: they must leave no trace in state or logs
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();
        project(logs, address(factory), address(e));
        _checkTerms(e);
        for (uint256 i = 0; i < who.length; ++i) {
            assertEq(projectedHasApproved(who[i]), e.hasApproved(who[i]), "hasApproved");
        }
        assertFalse(projectedHasApproved(payer), "payer never approved");
        // Money: what the events say moved is what moved.
        assertEq(_balance(e, payee) - payeeBefore, proj.paidToPayee, "payee received per events");
        uint256 payerNow = _balance(e, payer);
        assertEq(payerNow + proj.deposited, payerBefore + proj.paidToPayer, "payer paid/received per events");
        assertEq(_held(e), proj.deposited - proj.paidToPayee - proj.paidToPayer, "held per events");
        assertLe(proj.paidToPayee + proj.paidToPayer, proj.deposited, "never pays more than deposited");
    }

    function _likelyActor(uint256 op, uint256 r) internal view returns (address) {
        if (op == 0) return payer;
        if (op == 1 || op == 2) return [a1, a2, a3][r % 3];
        if (op == 3) return outsider;
        if (op == 4) return r % 2 == 0 ? payer : arbiter;
        if (op == 5) return r % 2 == 0 ? payer : payee;
        return arbiter;
    }

    function _checkTerms(Escrow e) internal view {
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
        assertTrue(proj.created, "creation seen");
        assertEq(uint256(proj.state), uint256(s), "state");
        assertEq(proj.payer, p, "payer");
        assertEq(proj.payee, q, "payee");
        assertEq(proj.token, t, "token");
        assertEq(proj.amount, amt, "amount");
        assertEq(proj.arbiter, arb, "arbiter");
        assertEq(uint256(proj.deadline), uint256(dl), "deadline");
        assertEq(proj.threshold, th, "threshold");
        assertEq(proj.approvals, n, "approvals");
        assertEq(proj.approvedBy.length, n, "one Approved event per approval");
        assertEq(proj.approvers, e.approvers(), "approvers");
    }

    function _held(Escrow e) internal view returns (uint256) {
        return _balance(e, address(e));
    }

    function _balance(Escrow e, address who) internal view returns (uint256) {
        return e.token() == address(0) ? who.balance : usdc.balanceOf(who);
    }
}
