// SPDX-License-Identifier: MIT
// Price feed for LOCAL CHAINS ONLY: answers the Chainlink AggregatorV3Interface like a real
// feed (decimals, rounds, timestamps), but its owner simply sets each new answer. Lets the
// risk dashboard and tests move prices on anvil.
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";

contract MockPriceFeed is AggregatorV3Interface, Ownable {
    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    error NoDataPresent(uint80 roundId);

    /// Same events as Chainlink's aggregators, so a log follower reads either.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    uint8 public immutable override decimals;
    string public override description;
    uint256 public constant override version = 1;

    uint80 public latestRound;
    mapping(uint80 => Round) private _rounds;

    /// Round 1 holds `initialAnswer`, so latestRoundData never fails.
    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) Ownable(msg.sender) {
        decimals = decimals_;
        description = description_;
        _newRound(initialAnswer);
    }

    /// Starts the next round with `answer`, timestamped with the current block.
    function setAnswer(int256 answer) external onlyOwner returns (uint80 roundId) {
        return _newRound(answer);
    }

    function latestAnswer() external view returns (int256) {
        return _rounds[latestRound].answer;
    }

    function getRoundData(uint80 roundId)
        external
        view
        override
        returns (uint80, int256, uint256, uint256, uint80)
    {
        if (roundId == 0 || roundId > latestRound) revert NoDataPresent(roundId);
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        uint80 id = latestRound;
        Round storage r = _rounds[id];
        return (id, r.answer, r.startedAt, r.updatedAt, id);
    }

    function _newRound(int256 answer) private returns (uint80 id) {
        id = latestRound + 1;
        latestRound = id;
        _rounds[id] = Round({answer: answer, startedAt: uint64(block.timestamp), updatedAt: uint64(block.timestamp)});
        emit NewRound(id, msg.sender, block.timestamp);
        emit AnswerUpdated(answer, id, block.timestamp);
    }
}
