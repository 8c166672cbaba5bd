// SPDX-License-Identifier: MIT
// Invariants of HashedTimelock under random locks, claims, refunds and time (HtlcHandler):
// the contract holds exactly the open locks; every lock pays at most once, all of its amount,
// to the receiver when claimed and to the sender when refunded.
pragma solidity 0.8.30;

import {TestBase} from "../utils/TestBase.sol";
import {HashedTimelock} from "../../src/HashedTimelock.sol";
import {TestToken} from "../../src/TestToken.sol";
import {HtlcHandler} from "./HtlcHandler.sol";

contract HtlcInvariantTest is TestBase {
    HashedTimelock internal htlc;
    TestToken internal token;
    HtlcHandler internal handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        htlc = new HashedTimelock();
        token = new TestToken("Wrapped BTC", "WBTC", 8);
        handler = new HtlcHandler(htlc, token);
        token.transferOwnership(address(handler));
        targetContract(address(handler));
    }

    function invariant_holdsExactlyTheOpenLocks() public view {
        uint256 native;
        uint256 erc20;
        uint256 n = handler.idCount();
        for (uint256 i = 0; i < n; ++i) {
            HashedTimelock.Lock memory l = htlc.getLock(handler.ids(i));
            if (l.status != HashedTimelock.Status.Locked) continue;
            if (l.token == address(0)) native += l.amount;
            else erc20 += l.amount;
        }
        assertEq(address(htlc).balance, native, "native held = open native locks");
        assertEq(token.balanceOf(address(htlc)), erc20, "tokens held = open token locks");
    }

    function invariant_eachLockPaysOnceInFullToTheRightParty() public view {
        uint256 n = handler.idCount();
        for (uint256 i = 0; i < n; ++i) {
            bytes32 id = handler.ids(i);
            HashedTimelock.Lock memory l = htlc.getLock(id);
            uint256 p = handler.payouts(id);
            assertLe(p, 1, "at most one payout");
            if (l.status == HashedTimelock.Status.Locked) {
                assertEq(p, 0, "open lock paid nothing");
            } else {
                assertEq(p, 1, "settled lock paid once");
                assertEq(handler.paid(id), l.amount, "paid the whole amount");
                address want = l.status == HashedTimelock.Status.Claimed ? l.receiver : l.sender;
                assertEq(handler.paidTo(id), want, "to the right party");
            }
        }
    }

    /// The handler itself works (guards against vacuous invariants): a scripted run claims
    /// one lock, refunds another, and every check above still holds.
    function test_handlerReachesEveryState() public {
        handler.lock(1 ether, false, keccak256("s1"), 1 hours);
        handler.lock(5e8, true, keccak256("s2"), 1 hours);
        handler.claim(0, false, address(this)); // wrong secret: nothing happens
        handler.claim(0, true, address(this));
        handler.claim(1, true, address(0xBEEF)); // anyone may submit the preimage
        handler.lock(2 ether, false, keccak256("s3"), 1 hours);
        handler.warp(2 hours);
        handler.claim(2, true, address(this)); // too late
        handler.refund(2, address(this));
        assertEq(uint256(htlc.getLock(handler.ids(0)).status), uint256(HashedTimelock.Status.Claimed), "claimed");
        assertEq(uint256(htlc.getLock(handler.ids(1)).status), uint256(HashedTimelock.Status.Claimed), "claimed");
        assertEq(uint256(htlc.getLock(handler.ids(2)).status), uint256(HashedTimelock.Status.Refunded), "refunded");
        invariant_holdsExactlyTheOpenLocks();
        invariant_eachLockPaysOnceInFullToTheRightParty();
    }
}
