// SPDX-License-Identifier: MIT
// Unit and fuzz tests of HashedTimelockV2, and the HTLC findings of the internal audit as
// pairs: `_v1` reproduces the finding on the unchanged HashedTimelock, `_v2` shows it closed
// (preimages of any length up to 1024 bytes, a hashlock locked only once, stray funds
// swept to the recoverer without touching an open lock).
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {TestBase} from "./utils/TestBase.sol";
import {HashedTimelock} from "../src/HashedTimelock.sol";
import {HashedTimelockV2} from "../src/HashedTimelockV2.sol";
import {TestToken} from "../src/TestToken.sol";
import {FeeOnTransferToken} from "./mocks/FeeOnTransferToken.sol";
import {ReentrantReceiver} from "./mocks/Attackers.sol";

contract HashedTimelockV2Test is TestBase {
    HashedTimelockV2 internal htlc;
    HashedTimelock internal htlcV1;
    TestToken internal wbtc;
    address internal alice;
    address internal bob;
    address internal carol;
    address internal recoverer;

    bytes32 internal constant SECRET = keccak256("the secret");
    bytes32 internal hashlock;
    uint64 internal timelock;

    function setUp() public {
        vm.warp(1_700_000_000);
        recoverer = makeAddr("recoverer");
        htlc = new HashedTimelockV2(recoverer);
        htlcV1 = new HashedTimelock();
        wbtc = new TestToken("Wrapped BTC", "WBTC", 8);
        alice = makeAddr("alice");
        bob = makeAddr("bob");
        carol = makeAddr("carol");
        vm.deal(alice, 100 ether);
        wbtc.mint(alice, 10e8);
        hashlock = sha256(abi.encodePacked(SECRET));
        timelock = uint64(block.timestamp + 2 hours);
    }

    function _lock(address receiver, uint256 amount, bytes32 h) internal returns (bytes32 id) {
        vm.prank(alice);
        id = htlc.lock{value: amount}(receiver, address(0), amount, h, timelock);
    }

    // ------------------------------------------------------------------ basics

    function test_versionAndRecoverer() public {
        assertEq(htlc.version(), 2, "version");
        assertEq(htlc.recoverer(), recoverer, "recoverer");
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.ZeroAddress.selector));
        new HashedTimelockV2(address(0));
    }

    function test_lockClaim32BytesLikeVersion1() public {
        bytes32 want = keccak256(abi.encode(block.chainid, address(htlc), uint256(0)));
        vm.expectEmit(true, true, true, true, address(htlc));
        emit HashedTimelockV2.Locked(want, alice, bob, address(0), 1 ether, hashlock, timelock);
        bytes32 id = _lock(bob, 1 ether, hashlock);
        assertEq(id, want, "id");
        assertEq(htlc.committed(address(0)), 1 ether, "committed");
        vm.expectEmit(true, true, true, true, address(htlc));
        emit HashedTimelockV2.Claimed(id, abi.encodePacked(SECRET));
        htlc.claim(id, abi.encodePacked(SECRET));
        assertEq(bob.balance, 1 ether, "bob paid");
        assertEq(htlc.committed(address(0)), 0, "nothing committed");
    }

    function test_claim_boundariesAndErrors() public {
        bytes32 id = _lock(bob, 1 ether, hashlock);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.WrongPreimage.selector, id));
        htlc.claim(id, abi.encodePacked(SECRET, uint8(0))); // one byte more: another preimage
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.PreimageTooLong.selector, 1025, 1024));
        htlc.claim(id, new bytes(1025));
        vm.warp(timelock);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.TimelockExpired.selector, id, timelock));
        htlc.claim(id, abi.encodePacked(SECRET));
        htlc.refund(id);
        vm.expectRevert(
            abi.encodeWithSelector(HashedTimelockV2.NotLocked.selector, id, HashedTimelockV2.Status.Refunded)
        );
        htlc.refund(id);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.UnknownLock.selector, bytes32(uint256(7))));
        htlc.claim(bytes32(uint256(7)), "");
    }

    function test_claim_longestPreimage() public {
        bytes memory p = new bytes(1024);
        p[1023] = 0x01;
        bytes32 id = _lock(bob, 1, sha256(p));
        htlc.claim(id, p);
        assertEq(bob.balance, 1, "claimed with 1024 bytes");
    }

    function test_refund_beforeTimelockReverts() public {
        bytes32 id = _lock(bob, 1 ether, hashlock);
        vm.warp(timelock - 1);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.TimelockNotExpired.selector, id, timelock));
        htlc.refund(id);
    }

    function test_lock_errors() public {
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.ZeroAddress.selector));
        htlc.lock{value: 1}(address(0), address(0), 1, hashlock, timelock);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.ZeroAmount.selector));
        htlc.lock(bob, address(0), 0, hashlock, timelock);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.ZeroHashlock.selector));
        htlc.lock{value: 1}(bob, address(0), 1, bytes32(0), timelock);
        vm.expectRevert(
            abi.encodeWithSelector(HashedTimelockV2.TimelockNotInFuture.selector, uint64(block.timestamp), block.timestamp)
        );
        htlc.lock{value: 1}(bob, address(0), 1, hashlock, uint64(block.timestamp));
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.WrongValue.selector, 2, 1));
        htlc.lock{value: 2}(bob, address(0), 1, hashlock, timelock);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.NotAContract.selector, carol));
        htlc.lock(bob, carol, 1, hashlock, timelock);
        vm.stopPrank();
        assertFalse(htlc.hashlockUsed(hashlock), "failed locks do not use the hashlock");
    }

    function test_lock_revertsFeeOnTransferToken() public {
        FeeOnTransferToken fee = new FeeOnTransferToken();
        fee.mint(alice, 100e18);
        vm.startPrank(alice);
        fee.approve(address(htlc), 100e18);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.FeeOnTransferToken.selector, 99e18, 100e18));
        htlc.lock(bob, address(fee), 100e18, hashlock, timelock);
        vm.stopPrank();
        assertEq(htlc.committed(address(fee)), 0, "nothing committed");
    }

    function test_claim_reentryBlocked() public {
        ReentrantReceiver r = new ReentrantReceiver();
        bytes32 id = _lock(address(r), 1 ether, hashlock);
        r.arm(address(htlc), abi.encodeCall(HashedTimelockV2.claim, (id, abi.encodePacked(SECRET))));
        htlc.claim(id, abi.encodePacked(SECRET));
        assertTrue(r.reentered() && !r.reentrySucceeded(), "re-entry failed");
        assertEq(
            r.reentryRevertData(),
            abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector),
            "guard"
        );
        assertEq(address(r).balance, 1 ether, "paid once");
    }

    // ------------------------------------------------------------------ findings

    /// A 33-byte secret (which another chain's HTLC may accept) cannot open a v1 lock.
    function test_finding_preimageLength_v1StrandsResponder() public {
        bytes memory secret33 = abi.encodePacked(SECRET, uint8(7));
        bytes32 h = sha256(secret33);
        vm.prank(alice);
        bytes32 id = htlcV1.lock{value: 1 ether}(bob, address(0), 1 ether, h, timelock);
        bytes32 first;
        bytes32 last;
        assembly {
            first := mload(add(secret33, 32))
            last := mload(add(secret33, 33))
        }
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.WrongPreimage.selector, id));
        htlcV1.claim(id, first);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelock.WrongPreimage.selector, id));
        htlcV1.claim(id, last);
        (bool ok,) = address(htlcV1).call(abi.encodePacked(HashedTimelock.claim.selector, id, secret33));
        assertFalse(ok && bob.balance > 0, "v1: no way to present 33 bytes");
        vm.warp(timelock);
        htlcV1.refund(id); // the responder's counter-leg is lost, this one goes back
        assertEq(bob.balance, 0, "v1: the responder never got paid");
    }

    function test_finding_preimageLength_v2AcceptsOtherLengths() public {
        bytes memory secret33 = abi.encodePacked(SECRET, uint8(7));
        bytes32 id = _lock(bob, 1 ether, sha256(secret33));
        htlc.claim(id, secret33);
        assertEq(bob.balance, 1 ether, "claimed with 33 bytes");
        bytes32 id20 = _lock(bob, 1, sha256(abi.encodePacked(bytes20(SECRET))));
        htlc.claim(id20, abi.encodePacked(bytes20(SECRET)));
        bytes32 id0 = _lock(bob, 1, sha256(""));
        htlc.claim(id0, "");
        assertEq(bob.balance, 1 ether + 2, "20 and 0 bytes too");
    }

    /// Two locks under one hashlock: claiming the first reveals what opens the second.
    function test_finding_reusedHashlock_v1() public {
        vm.startPrank(alice);
        bytes32 first = htlcV1.lock{value: 1 ether}(bob, address(0), 1 ether, hashlock, timelock);
        bytes32 second = htlcV1.lock{value: 5 ether}(carol, address(0), 5 ether, hashlock, timelock);
        vm.stopPrank();
        htlcV1.claim(first, SECRET);
        htlcV1.claim(second, SECRET); // anyone replays the revealed preimage
        assertEq(carol.balance, 5 ether, "v1: the second lock opened with the first's secret");
    }

    function test_finding_reusedHashlock_v2Refused() public {
        bytes32 id = _lock(bob, 1 ether, hashlock);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.HashlockUsed.selector, hashlock));
        htlc.lock{value: 5 ether}(carol, address(0), 5 ether, hashlock, timelock);
        vm.warp(timelock);
        htlc.refund(id);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.HashlockUsed.selector, hashlock));
        htlc.lock{value: 5 ether}(carol, address(0), 5 ether, hashlock, timelock + 1 days);
        assertTrue(htlc.hashlockUsed(hashlock), "used for good");
    }

    function test_finding_strayFunds_v1Stuck() public {
        vm.prank(alice);
        wbtc.transfer(address(htlcV1), 3e8);
        vm.deal(address(htlcV1), 2 ether);
        assertEq(wbtc.balanceOf(address(htlcV1)), 3e8, "v1: no function moves them");
        assertEq(address(htlcV1).balance, 2 ether, "v1: nor the coin");
    }

    function test_finding_strayFunds_v2SweptWithoutTouchingLocks() public {
        bytes32 id = _lock(bob, 1 ether, hashlock);
        vm.startPrank(alice);
        wbtc.approve(address(htlc), 2e8);
        htlc.lock(bob, address(wbtc), 2e8, sha256("other"), timelock);
        wbtc.transfer(address(htlc), 3e8); // by mistake
        vm.stopPrank();
        vm.deal(address(htlc), address(htlc).balance + 2 ether); // force-sent
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.NotRecoverer.selector));
        htlc.sweep(address(0));
        vm.expectEmit(true, true, true, true, address(htlc));
        emit HashedTimelockV2.Swept(address(0), recoverer, 2 ether);
        vm.prank(recoverer);
        htlc.sweep(address(0));
        vm.prank(recoverer);
        htlc.sweep(address(wbtc));
        assertEq(recoverer.balance, 2 ether, "stray coin recovered");
        assertEq(wbtc.balanceOf(recoverer), 3e8, "stray tokens recovered");
        assertEq(address(htlc).balance, 1 ether, "the open coin lock is untouched");
        assertEq(wbtc.balanceOf(address(htlc)), 2e8, "the open token lock is untouched");
        vm.prank(recoverer);
        vm.expectRevert(abi.encodeWithSelector(HashedTimelockV2.NothingToSweep.selector, address(0)));
        htlc.sweep(address(0));
        htlc.claim(id, abi.encodePacked(SECRET));
        assertEq(bob.balance, 1 ether, "the lock still pays in full");
    }

    function testFuzz_sweepNeverTouchesOpenLocks(uint96 locked, uint96 stray, bool claimFirst) public {
        uint256 amt = bound(locked, 1, 50 ether);
        uint256 extra = bound(stray, 0, 50 ether);
        bytes32 id = _lock(bob, amt, hashlock);
        vm.deal(address(htlc), address(htlc).balance + extra);
        if (claimFirst) htlc.claim(id, abi.encodePacked(SECRET));
        vm.prank(recoverer);
        (bool ok,) = address(htlc).call(abi.encodeCall(HashedTimelockV2.sweep, (address(0))));
        assertEq(ok, extra > 0, "sweeps exactly when there is a stray amount");
        assertEq(address(htlc).balance, htlc.committed(address(0)), "what is left is what is locked");
        if (!claimFirst) {
            htlc.claim(id, abi.encodePacked(SECRET));
            assertEq(bob.balance, amt, "the lock pays in full");
        }
    }
}
