// SPDX-License-Identifier: MIT
// Drives two CCIP-style routers (chains A and B in one EVM) for the invariant test: sends
// in both directions, executes pending messages (some twice, some never), and keeps the
// messages sent so the test can count what is in flight.
pragma solidity 0.8.30;

import {Client} from "@chainlink/contracts-ccip/src/v0.8/ccip/libraries/Client.sol";
import {TestBase} from "../utils/TestBase.sol";
import {Vm} from "../utils/Vm.sol";
import {TestToken} from "../../src/TestToken.sol";
import {CcipRouter} from "../../src/ccip/CcipRouter.sol";
import {CcipMessage} from "../../src/ccip/CcipMessage.sol";

contract CcipHandler is TestBase {
    CcipRouter public immutable ra;
    CcipRouter public immutable rb;
    TestToken public immutable ta;
    TestToken public immutable tb;
    address public immutable relayer;
    address[2] internal users = [address(0xA11CE), address(0xB0B)];

    bytes[] internal _sent; // every CCIPSendRequested's data, both ways
    bytes32[] internal _ids;
    uint256[] internal _amounts;
    bool[] internal _toB;
    uint256 public doubleExecutions; // a second execute that did not revert

    constructor(CcipRouter ra_, CcipRouter rb_, TestToken ta_, TestToken tb_, address relayer_) {
        ra = ra_;
        rb = rb_;
        ta = ta_;
        tb = tb_;
        relayer = relayer_;
    }

    bool internal _inited;

    function init() external {
        if (_inited) return;
        _inited = true;
        for (uint256 i = 0; i < 2; ++i) {
            ta.mint(users[i], 1e15);
            tb.mint(users[i], 1e15);
            vm.deal(users[i], 1000 ether);
            vm.prank(users[i]);
            ta.approve(address(ra), type(uint256).max);
            vm.prank(users[i]);
            tb.approve(address(rb), type(uint256).max);
        }
    }

    function sent() external view returns (uint256) {
        return _sent.length;
    }

    function sentAt(uint256 i) external view returns (bytes32 id, uint256 amount, bool toB) {
        return (_ids[i], _amounts[i], _toB[i]);
    }

    function send(uint256 userSeed, uint256 amount, bool toB) external {
        address u = users[userSeed % 2];
        CcipRouter r = toB ? ra : rb;
        TestToken t = toB ? ta : tb;
        amount = bound(amount, 1, 1e12);
        Client.EVMTokenAmount[] memory tas = new Client.EVMTokenAmount[](1);
        tas[0] = Client.EVMTokenAmount({token: address(t), amount: amount});
        Client.EVM2AnyMessage memory m = Client.EVM2AnyMessage({
            receiver: abi.encode(users[(userSeed + 1) % 2]),
            data: "",
            tokenAmounts: tas,
            feeToken: address(0),
            extraArgs: ""
        });
        uint64 dest = toB ? rb.localChainSelector() : ra.localChainSelector();
        uint256 fee = r.getFee(dest, m);
        vm.recordLogs();
        vm.prank(u);
        r.ccipSend{value: fee}(dest, m);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics[0] == CcipRouter.CCIPSendRequested.selector) {
                CcipMessage.EVM2EVMMessage memory em = abi.decode(logs[i].data, (CcipMessage.EVM2EVMMessage));
                _sent.push(logs[i].data);
                _ids.push(em.messageId);
                _amounts.push(em.tokenAmounts[0].amount);
                _toB.push(toB);
            }
        }
    }

    function execute(uint256 which) external {
        if (_sent.length == 0) return;
        uint256 i = which % _sent.length;
        CcipRouter dst = _toB[i] ? rb : ra;
        CcipMessage.EVM2EVMMessage memory m = abi.decode(_sent[i], (CcipMessage.EVM2EVMMessage));
        bool before = dst.getExecutionState(m.messageId) != CcipMessage.MessageExecutionState.UNTOUCHED;
        vm.prank(relayer);
        try dst.execute(m) {
            if (before) ++doubleExecutions;
        } catch {}
    }
}
