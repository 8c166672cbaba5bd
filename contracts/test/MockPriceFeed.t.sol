// SPDX-License-Identifier: MIT
// Tests of MockPriceFeed: it answers like a Chainlink AggregatorV3 (rounds, timestamps,
// answeredInRound, the Chainlink events), and only its owner moves the price.
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {TestBase} from "./utils/TestBase.sol";
import {MockPriceFeed} from "../src/MockPriceFeed.sol";
import {AggregatorV3Interface} from "../src/interfaces/AggregatorV3Interface.sol";

contract MockPriceFeedTest is TestBase {
    MockPriceFeed internal feed;
    uint256 internal t0 = 1_700_000_000;

    function setUp() public {
        vm.warp(t0);
        feed = new MockPriceFeed(8, "ETH / USD", 3000e8);
    }

    function test_metadata() public view {
        AggregatorV3Interface f = AggregatorV3Interface(address(feed));
        assertEq(uint256(f.decimals()), 8, "decimals");
        assertEq(f.description(), "ETH / USD", "description");
        assertEq(f.version(), 1, "version");
        assertEq(feed.owner(), address(this), "owner");
    }

    function test_initialRound() public view {
        (uint80 id, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredIn) = feed.latestRoundData();
        assertEq(uint256(id), 1, "round 1");
        assertEq(answer, 3000e8, "answer");
        assertEq(startedAt, t0, "startedAt");
        assertEq(updatedAt, t0, "updatedAt");
        assertEq(uint256(answeredIn), 1, "answeredInRound");
        assertEq(feed.latestAnswer(), 3000e8, "latestAnswer");
    }

    function test_setAnswerStartsNewRound() public {
        vm.warp(t0 + 3600);
        vm.expectEmit(true, true, true, true, address(feed));
        emit MockPriceFeed.NewRound(2, address(this), t0 + 3600);
        vm.expectEmit(true, true, true, true, address(feed));
        emit MockPriceFeed.AnswerUpdated(-5, 2, t0 + 3600);
        assertEq(uint256(feed.setAnswer(-5)), 2, "returns round");
        (uint80 id, int256 answer,, uint256 updatedAt, uint80 answeredIn) = feed.latestRoundData();
        assertEq(uint256(id), 2, "round 2");
        assertEq(answer, -5, "negative answers are allowed, as in Chainlink");
        assertEq(updatedAt, t0 + 3600, "timestamp");
        assertEq(uint256(answeredIn), 2, "answeredInRound");
        // The old round is still readable, unchanged.
        (uint80 id1, int256 a1,, uint256 u1,) = feed.getRoundData(1);
        assertEq(uint256(id1), 1, "round 1 id");
        assertEq(a1, 3000e8, "round 1 answer");
        assertEq(u1, t0, "round 1 time");
    }

    function test_getRoundData_revertsUnknownRounds() public {
        vm.expectRevert(abi.encodeWithSelector(MockPriceFeed.NoDataPresent.selector, uint80(0)));
        feed.getRoundData(0);
        vm.expectRevert(abi.encodeWithSelector(MockPriceFeed.NoDataPresent.selector, uint80(2)));
        feed.getRoundData(2);
    }

    function test_setAnswer_revertsForNonOwner() public {
        address mallory = makeAddr("mallory");
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, mallory));
        feed.setAnswer(1);
    }

    function testFuzz_roundsIncrementAndKeepHistory(int256[8] memory answers, uint16[8] memory gaps) public {
        uint256 t = t0;
        for (uint256 i = 0; i < answers.length; ++i) {
            t += gaps[i];
            vm.warp(t);
            feed.setAnswer(answers[i]);
        }
        assertEq(uint256(feed.latestRound()), answers.length + 1, "rounds");
        t = t0;
        for (uint256 i = 0; i < answers.length; ++i) {
            t += gaps[i];
            (uint80 id, int256 a, uint256 s, uint256 u, uint80 air) = feed.getRoundData(uint80(i + 2));
            assertEq(uint256(id), i + 2, "id");
            assertEq(a, answers[i], "answer");
            assertEq(s, t, "startedAt");
            assertEq(u, t, "updatedAt");
            assertEq(uint256(air), i + 2, "answeredInRound");
        }
    }
}
