// SPDX-License-Identifier: MIT
// Unit and fuzz tests of HashedTimelock: lock/claim/refund in the native coin and ERC20, the
// exact timelock boundary, sha256 compatibility, every custom error, re-entry.
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {TestBase} from "./utils/TestBase.sol";
import {HashedTimelock} from "../src/HashedTimelock.sol";
import {TestToken} from "../src/TestToken.sol";
import {FeeOnTransferToken, ShrinkingToken} from "./mocks/FeeOnTransferToken.sol";
import {ReentrantReceiver} from "./mocks/Attackers.sol";

contract HashedTimelockTest is TestBase {
    HashedTimelock internal htlc;
    TestToken internal wbtc;
    address internal alice;
    address internal bob;
    address internal relayer;

    bytes32 internal constant SECRET = keccak256("the secret");
    bytes32 internal hashlock;
    uint64 internal timelock;

    function setUp() public {
        vm.warp(1_700_000_000);
        htlc = new HashedTimelock();
        wbtc = new TestToken("Wrapped BTC", "WBTC", 8);
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        relayer = makeAddr("relayer");
        vm.deal(alice, 100 ether);
        wbtc.mint(alice, 10e8);
        hashlock = sha256(abi.encodePacked(SECRET));
        timelock = uint64(block.timestamp + 2 hours);
    }

    function _lockNative() internal returns (bytes32 id) {
        vm.prank(alice);
        id = htlc.lock{value: 1 ether}(bob, address(0), 1 ether, hashlock, timelock);
    }

    function _lockWbtc() internal returns (bytes32 id) {
        vm.startPrank(alice);
        wbtc.approve(address(htlc), 2e8);
        id = htlc.lock(bob, address(wbtc), 2e8, hashlock, timelock);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ lock

    function test_lock_nativeEmitsAndStores() public {
        bytes32 want = keccak256(abi.encode(block.chainid, address(htlc), uint256(0)));
        vm.expectEmit(true, true, true, true, address(htlc));
        emit HashedTimelock.Locked(want, alice, bob, address(0), 1 ether, hashlock, timelock);
        bytes32 id = _lockNative();
        assertEq(id, want, "id");
        HashedTimelock.Lock memory l = htlc.getLock(id);
        assertEq(l.sender, alice, "sender");
        assertEq(l.receiver, bob, "receiver");
        assertEq(l.token, address(0), "token");
        assertEq(l.amount, 1 ether, "amount");
        assertEq(l.hashlock, hashlock, "hashlock");
        assertEq(uint256(l.timelock), uint256(timelock), "timelock");
        assertEq(uint256(l.status), uint256(HashedTimelock.Status.Locked), "status");
        assertEq(address(htlc).balance, 1 ether, "held");
        assertEq(htlc.lockCount(), 1, "count");
    }

    function test_lock_idsAreUnique() public {
        bytes32 id1 = _lockNative();
        bytes32 id2 = _lockNative(); // identical terms
        assertTrue(id1 != id2, "distinct ids");
        assertEq(address(htlc).balance, 2 ether, "both held");
    }

    function test_lock_erc20() public {
        bytes32 id = _lockWbtc();
        assertEq(wbtc.balanceOf(address(htlc)), 2e8, "held");
        assertEq(htlc.getLock(id).token, address(wbtc), "token");
    }

    function test_lock_revertsZeroReceiver() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.ZeroAddress.selector));
        htlc.lock{value: 1}(address(0), address(0), 1, hashlock, timelock);
    }

    function test_lock_revertsZeroAmount() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.ZeroAmount.selector));
        htlc.lock(bob, address(0), 0, hashlock, timelock);
    }

    function test_lock_revertsZeroHashlock() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.ZeroHashlock.selector));
        htlc.lock{value: 1}(bob, address(0), 1, bytes32(0), timelock);
    }

    function test_lock_revertsTimelockNow() public {
        uint64 t = uint64(block.timestamp);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.TimelockNotInFuture.selector, t, block.timestamp));
        htlc.lock{value: 1}(bob, address(0), 1, hashlock, t);
    }

    function test_lock_revertsWrongValue() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.WrongValue.selector, 2, 1));
        htlc.lock{value: 2}(bob, address(0), 1, hashlock, timelock);
    }

    function test_lock_erc20RevertsWithValue() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.WrongValue.selector, 1, 0));
        htlc.lock{value: 1}(bob, address(wbtc), 1, hashlock, timelock);
    }

    function test_lock_revertsTokenWithoutCode() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.NotAContract.selector, relayer));
        htlc.lock(bob, relayer, 1, hashlock, timelock);
    }

    function test_lock_revertsFeeOnTransferToken() public {
        FeeOnTransferToken fee = new FeeOnTransferToken();
        fee.mint(alice, 1000);
        vm.startPrank(alice);
        fee.approve(address(htlc), 1000);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.FeeOnTransferToken.selector, 990, 1000));
        htlc.lock(bob, address(fee), 1000, hashlock, timelock);
        vm.stopPrank();
        assertEq(htlc.lockCount(), 0, "nothing locked");
    }

    function test_lock_revertsTokenWhoseBalanceShrinks() public {
        ShrinkingToken shr = new ShrinkingToken();
        shr.mint(alice, 1000);
        shr.mint(address(htlc), 5);
        vm.startPrank(alice);
        shr.approve(address(htlc), 1000);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.FeeOnTransferToken.selector, 0, 1000));
        htlc.lock(bob, address(shr), 1000, hashlock, timelock);
        vm.stopPrank();
    }

    // ------------------------------------------------------------------ claim

    function test_claim_paysReceiverAndRevealsPreimage() public {
        bytes32 id = _lockNative();
        vm.expectEmit(true, true, true, true, address(htlc));
        emit HashedTimelock.Claimed(id, SECRET);
        vm.prank(relayer); // anyone may submit the preimage; only the receiver is paid
        htlc.claim(id, SECRET);
        assertEq(bob.balance, 1 ether, "bob paid");
        assertEq(relayer.balance, 0, "relayer not paid");
        assertEq(address(htlc).balance, 0, "empty");
        assertEq(uint256(htlc.getLock(id).status), uint256(HashedTimelock.Status.Claimed), "status");
    }

    function test_claim_erc20() public {
        bytes32 id = _lockWbtc();
        vm.prank(bob);
        htlc.claim(id, SECRET);
        assertEq(wbtc.balanceOf(bob), 2e8, "bob paid");
    }

    function test_claim_lastSecondBeforeTimelock() public {
        bytes32 id = _lockNative();
        vm.warp(timelock - 1);
        htlc.claim(id, SECRET);
        assertEq(bob.balance, 1 ether, "claimed at timelock - 1");
    }

    function test_claim_revertsAtTimelock() public {
        bytes32 id = _lockNative();
        vm.warp(timelock);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.TimelockExpired.selector, id, timelock));
        htlc.claim(id, SECRET);
    }

    function test_claim_revertsWrongPreimage() public {
        bytes32 id = _lockNative();
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.WrongPreimage.selector, id));
        htlc.claim(id, keccak256("guess"));
    }

    function test_claim_revertsKeccakInsteadOfSha256() public {
        // A hashlock made with keccak256 can never be claimed: the contract uses sha256.
        vm.prank(alice);
        bytes32 id = htlc.lock{value: 1}(bob, address(0), 1, keccak256(abi.encodePacked(SECRET)), timelock);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.WrongPreimage.selector, id));
        htlc.claim(id, SECRET);
    }

    function test_claim_sha256KnownVector() public {
        // sha256 of 32 zero bytes, from the published SHA-256 of "\x00" * 32 (not computed here).
        bytes32 h = 0x66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925;
        vm.prank(alice);
        bytes32 id = htlc.lock{value: 1}(bob, address(0), 1, h, timelock);
        htlc.claim(id, bytes32(0));
        assertEq(bob.balance, 1, "claimed with the zero preimage");
    }

    function test_claim_revertsUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.UnknownLock.selector, bytes32(uint256(7))));
        htlc.claim(bytes32(uint256(7)), SECRET);
    }

    function test_claim_revertsTwice() public {
        bytes32 id = _lockNative();
        htlc.claim(id, SECRET);
        vm.expectRevert(
            abi.encodeWithSelector(HashedTimelock.NotLocked.selector, id, HashedTimelock.Status.Claimed)
        );
        htlc.claim(id, SECRET);
        assertEq(bob.balance, 1 ether, "paid once");
    }

    function test_claim_reentryBlocked() public {
        ReentrantReceiver r = new ReentrantReceiver();
        vm.prank(alice);
        bytes32 id = htlc.lock{value: 1 ether}(address(r), address(0), 1 ether, hashlock, timelock);
        r.arm(address(htlc), abi.encodeCall(HashedTimelock.claim, (id, SECRET)));
        htlc.claim(id, SECRET);
        assertTrue(r.reentered() && !r.reentrySucceeded(), "re-entry failed");
        assertEq(
            r.reentryRevertData(),
            abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector),
            "guard"
        );
        assertEq(address(r).balance, 1 ether, "paid once");
    }

    // ------------------------------------------------------------------ refund

    function test_refund_atTimelock() public {
        bytes32 id = _lockNative();
        uint256 before = alice.balance;
        vm.warp(timelock);
        vm.expectEmit(true, true, true, true, address(htlc));
        emit HashedTimelock.Refunded(id);
        vm.prank(relayer);
        htlc.refund(id);
        assertEq(alice.balance - before, 1 ether, "alice repaid");
        assertEq(uint256(htlc.getLock(id).status), uint256(HashedTimelock.Status.Refunded), "status");
    }

    function test_refund_erc20() public {
        bytes32 id = _lockWbtc();
        vm.warp(timelock + 1);
        htlc.refund(id);
        assertEq(wbtc.balanceOf(alice), 10e8, "alice repaid");
    }

    function test_refund_revertsBeforeTimelock() public {
        bytes32 id = _lockNative();
        vm.warp(timelock - 1);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.TimelockNotExpired.selector, id, timelock));
        htlc.refund(id);
    }

    function test_refund_revertsAfterClaim() public {
        bytes32 id = _lockNative();
        htlc.claim(id, SECRET);
        vm.warp(timelock);
        vm.expectRevert(
            abi.encodeWithSelector(HashedTimelock.NotLocked.selector, id, HashedTimelock.Status.Claimed)
        );
        htlc.refund(id);
    }

    function test_refund_revertsTwiceAndClaimAfterRefund() public {
        bytes32 id = _lockNative();
        vm.warp(timelock);
        htlc.refund(id);
        vm.expectRevert(
            abi.encodeWithSelector(HashedTimelock.NotLocked.selector, id, HashedTimelock.Status.Refunded)
        );
        htlc.refund(id);
        vm.expectRevert(
            abi.encodeWithSelector(HashedTimelock.NotLocked.selector, id, HashedTimelock.Status.Refunded)
        );
        htlc.claim(id, SECRET);
    }

    function test_refund_revertsUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.UnknownLock.selector, bytes32(0)));
        htlc.refund(bytes32(0));
    }

    // ------------------------------------------------------------------ fuzz

    /// Claim works exactly for the preimage and exactly before the timelock; refund exactly
    /// from the timelock on. There is no instant at which both or neither is possible.
    function testFuzz_claimOrRefundPartitionTime(bytes32 preimage, bytes32 guess, uint32 dt) public {
        bytes32 h = sha256(abi.encodePacked(preimage));
        vm.prank(alice);
        bytes32 id = htlc.lock{value: 1 ether}(bob, address(0), 1 ether, h, timelock);
        vm.warp(uint256(timelock) - 2 hours + uint256(dt) % (4 hours));
        bool beforeTimelock = block.timestamp < timelock;
        if (guess != preimage) {
            vm.expectRevert(
                beforeTimelock
                    ? abi.encodeWithSelector(HashedTimelock.WrongPreimage.selector, id)
                    : abi.encodeWithSelector(HashedTimelock.TimelockExpired.selector, id, timelock)
            );
            htlc.claim(id, guess);
        }
        if (beforeTimelock) {
            vm.expectRevert(abi.encodeWithSelector(HashedTimelock.TimelockNotExpired.selector, id, timelock));
            htlc.refund(id);
            htlc.claim(id, preimage);
            assertEq(bob.balance, 1 ether, "claimed");
        } else {
            vm.expectRevert(abi.encodeWithSelector(HashedTimelock.TimelockExpired.selector, id, timelock));
            htlc.claim(id, preimage);
            htlc.refund(id);
            assertEq(alice.balance, 100 ether, "refunded");
        }
        assertEq(address(htlc).balance, 0, "settled exactly once");
    }
}
