// SPDX-License-Identifier: MIT
// Invariants of two CCIP-style routers under random sends both ways and executions (some
// repeated, some never done) by CcipHandler: for each direction, what was locked on the
// source equals what was released on the destination plus what is still in flight (sent,
// not executed); no message is executed twice; each router holds its liquidity plus what
// it locked minus what it released.
pragma solidity 0.8.30;

import {TestBase} from "../utils/TestBase.sol";
import {TestToken} from "../../src/TestToken.sol";
import {CcipRouter} from "../../src/ccip/CcipRouter.sol";
import {CcipMessage} from "../../src/ccip/CcipMessage.sol";
import {CcipHandler} from "./CcipHandler.sol";

contract CcipInvariantTest is TestBase {
    uint64 internal constant SEL_A = 5009297550715157269;
    uint64 internal constant SEL_B = 4949039107694359620;
    uint256 internal constant LIQUIDITY = 1e18;

    CcipRouter internal ra;
    CcipRouter internal rb;
    TestToken internal ta;
    TestToken internal tb;
    CcipHandler internal handler;

    function setUp() public {
        address relayer = address(0x7E1A);
        ra = new CcipRouter(SEL_A, relayer);
        rb = new CcipRouter(SEL_B, relayer);
        ta = new TestToken("Wrapped Ether", "WETH", 18);
        tb = new TestToken("Wrapped Ether", "WETH", 18);
        ra.setLane(SEL_B, address(rb));
        rb.setLane(SEL_A, address(ra));
        ra.addToken(address(ta));
        rb.addToken(address(tb));
        ra.linkToken(SEL_B, address(tb), address(ta));
        rb.linkToken(SEL_A, address(ta), address(tb));
        ra.setFees(1e15, 1e9, 5e14);
        rb.setFees(1e15, 1e9, 5e14);
        ta.mint(address(ra), LIQUIDITY);
        tb.mint(address(rb), LIQUIDITY);
        handler = new CcipHandler(ra, rb, ta, tb, relayer);
        ta.transferOwnership(address(handler));
        tb.transferOwnership(address(handler));
        handler.init();
        targetContract(address(handler));
    }

    function _inFlight(bool toB) internal view returns (uint256 sum) {
        uint256 n = handler.sent();
        for (uint256 i = 0; i < n; ++i) {
            (bytes32 id, uint256 amount, bool dirB) = handler.sentAt(i);
            if (dirB != toB) continue;
            CcipRouter dst = toB ? rb : ra;
            if (dst.getExecutionState(id) == CcipMessage.MessageExecutionState.UNTOUCHED) {
                sum += amount;
            }
        }
    }

    function invariant_lockedIsReleasedPlusInFlight() public view {
        assertEq(ra.totalLocked(address(ta)), rb.totalReleased(address(tb)) + _inFlight(true), "A -> B");
        assertEq(rb.totalLocked(address(tb)), ra.totalReleased(address(ta)) + _inFlight(false), "B -> A");
    }

    function invariant_poolsHoldWhatTheyAccountFor() public view {
        assertEq(ta.balanceOf(address(ra)), LIQUIDITY + ra.totalLocked(address(ta)) - ra.totalReleased(address(ta)), "pool A");
        assertEq(tb.balanceOf(address(rb)), LIQUIDITY + rb.totalLocked(address(tb)) - rb.totalReleased(address(tb)), "pool B");
    }

    function invariant_noDoubleExecution() public view {
        assertEq(handler.doubleExecutions(), 0, "a message executed twice");
    }
}
