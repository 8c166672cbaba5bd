// SPDX-License-Identifier: MIT
// Tests of the devnet's CCIP-style router: two "chains" (selectors A and B) in one EVM, each
// with its router (on-ramp, lock-release pool, off-ramp) and token. A message sent on A is
// executed on B exactly once, only by the relayer, only with the id of its fields on the
// lane; tokens locked on A are released on B; data reaches ccipReceive.
pragma solidity 0.8.30;

import {IRouterClient} from "@chainlink/contracts-ccip/src/v0.8/ccip/interfaces/IRouterClient.sol";
import {Client} from "@chainlink/contracts-ccip/src/v0.8/ccip/libraries/Client.sol";
import {TestBase} from "./utils/TestBase.sol";
import {Vm} from "./utils/Vm.sol";
import {TestToken} from "../src/TestToken.sol";
import {CcipRouter} from "../src/ccip/CcipRouter.sol";
import {CcipMessage} from "../src/ccip/CcipMessage.sol";
import {CcipReceiverMock} from "./mocks/CcipReceiverMock.sol";

contract CcipTest is TestBase {
    uint64 internal constant SEL_A = 5009297550715157269;
    uint64 internal constant SEL_B = 6433500567565415381;
    uint256 internal constant BASE_FEE = 0.001 ether;
    uint256 internal constant PER_BYTE = 1 gwei;
    uint256 internal constant PER_TOKEN = 0.0005 ether;
    uint256 internal constant LIQUIDITY = 1_000_000e6;

    address internal relayer = address(0x7E1A);
    address internal user = address(0xA11CE);
    address internal bob = address(0xB0B);
    CcipRouter internal ra;
    CcipRouter internal rb;
    TestToken internal ta;
    TestToken internal tb;

    function setUp() public {
        ra = new CcipRouter(SEL_A, relayer);
        rb = new CcipRouter(SEL_B, relayer);
        ta = new TestToken("USD Coin", "USDC", 6);
        tb = new TestToken("USD Coin", "USDC", 6);
        ra.setLane(SEL_B, address(rb));
        rb.setLane(SEL_A, address(ra));
        ra.addToken(address(ta));
        rb.addToken(address(tb));
        ra.linkToken(SEL_B, address(tb), address(ta));
        rb.linkToken(SEL_A, address(ta), address(tb));
        ra.setFees(BASE_FEE, PER_BYTE, PER_TOKEN);
        rb.setFees(BASE_FEE, PER_BYTE, PER_TOKEN);
        ta.mint(address(ra), LIQUIDITY);
        tb.mint(address(rb), LIQUIDITY);
        ta.mint(user, 10_000_000e6);
        vm.deal(user, 100 ether);
        vm.prank(user);
        ta.approve(address(ra), type(uint256).max);
    }

    function _msg(address to, uint256 amount, bytes memory data) internal view returns (Client.EVM2AnyMessage memory m) {
        Client.EVMTokenAmount[] memory tas = new Client.EVMTokenAmount[](amount == 0 ? 0 : 1);
        if (amount != 0) tas[0] = Client.EVMTokenAmount({token: address(ta), amount: amount});
        m = Client.EVM2AnyMessage({
            receiver: abi.encode(to), data: data, tokenAmounts: tas, feeToken: address(0), extraArgs: ""
        });
    }

    /// Sends on A and returns the emitted message (decoded from CCIPSendRequested).
    function _send(Client.EVM2AnyMessage memory m) internal returns (bytes32 id, CcipMessage.EVM2EVMMessage memory em) {
        uint256 fee = ra.getFee(SEL_B, m);
        vm.recordLogs();
        vm.prank(user);
        id = ra.ccipSend{value: fee}(SEL_B, m);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bool found = false;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(ra) && logs[i].topics[0] == CcipRouter.CCIPSendRequested.selector) {
                em = abi.decode(logs[i].data, (CcipMessage.EVM2EVMMessage));
                found = true;
            }
        }
        assertTrue(found, "CCIPSendRequested emitted");
    }

    function test_interfaceAndLanes() public view {
        assertTrue(ra.isChainSupported(SEL_B), "B supported on A");
        assertFalse(ra.isChainSupported(SEL_A), "A is local");
        assertFalse(ra.isChainSupported(42), "unknown chain");
        address[] memory want = new address[](1);
        want[0] = address(ta);
        assertEq(ra.getSupportedTokens(SEL_B), want, "tokens");
        assertEq(ra.getSupportedTokens(42).length, 0, "no tokens on an unknown lane");
        IRouterClient r = IRouterClient(address(ra));
        assertEq(r.getFee(SEL_B, _msg(bob, 5e6, "hi")), BASE_FEE + 2 * PER_BYTE + PER_TOKEN, "fee");
    }

    function test_sendLocksAndExecuteReleases() public {
        uint256 amount = 250_000e6;
        (bytes32 id, CcipMessage.EVM2EVMMessage memory em) = _send(_msg(bob, amount, ""));
        assertEq(em.messageId, id, "event carries the returned id");
        assertEq(em.sequenceNumber, 1, "first sequence number");
        assertEq(em.nonce, 1, "first nonce");
        assertEq(em.receiver, bob, "receiver");
        assertEq(em.sender, user, "sender");
        assertEq(em.gasLimit, 200_000, "default gas limit");
        assertEq(ta.balanceOf(address(ra)), LIQUIDITY + amount, "locked on A");
        assertEq(uint256(rb.getExecutionState(id)), 0, "untouched on B");
        vm.expectEmit(true, true, false, true, address(rb));
        emit CcipRouter.ExecutionStateChanged(1, id, CcipMessage.MessageExecutionState.SUCCESS, "");
        vm.prank(relayer);
        rb.execute(em);
        assertEq(tb.balanceOf(bob), amount, "released to bob on B");
        assertEq(uint256(rb.getExecutionState(id)), 2, "SUCCESS");
        assertEq(rb.totalReleased(address(tb)), amount, "released counted");
        assertEq(ra.totalLocked(address(ta)), amount, "locked counted");
    }

    function test_idIsTheHashOfTheFieldsOnTheLane() public {
        (bytes32 id, CcipMessage.EVM2EVMMessage memory em) = _send(_msg(bob, 7e6, "abc"));
        bytes32 meta = keccak256(abi.encode(keccak256("EVM2EVMMessageHashV2"), SEL_A, SEL_B, address(ra)));
        bytes32 fixedHash = keccak256(
            abi.encode(em.sender, em.receiver, em.sequenceNumber, em.gasLimit, em.strict, em.nonce, em.feeToken, em.feeTokenAmount)
        );
        bytes32 want = keccak256(
            abi.encode(bytes32(0), meta, fixedHash, keccak256(em.data), keccak256(abi.encode(em.tokenAmounts)),
                keccak256(abi.encode(em.sourceTokenData)))
        );
        assertEq(id, want, "id = CCIP 1.4 EVM2EVM message hash");
    }

    function test_onlyRelayerExecutes() public {
        (, CcipMessage.EVM2EVMMessage memory em) = _send(_msg(bob, 1e6, ""));
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(CcipRouter.NotRelayer.selector, bob));
        rb.execute(em);
    }

    function test_tamperedMessageRefused() public {
        (bytes32 id, CcipMessage.EVM2EVMMessage memory em) = _send(_msg(bob, 1e6, ""));
        em.tokenAmounts[0].amount = 2e6;
        vm.prank(relayer);
        vm.expectRevert();
        rb.execute(em);
        em.tokenAmounts[0].amount = 1e6;
        em.receiver = user;
        vm.prank(relayer);
        vm.expectRevert();
        rb.execute(em);
        assertEq(uint256(rb.getExecutionState(id)), 0, "still untouched");
    }

    function test_wrongLaneRefused() public {
        (, CcipMessage.EVM2EVMMessage memory em) = _send(_msg(bob, 1e6, ""));
        // executing on the source chain itself: not a lane
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(CcipRouter.UnsupportedSourceChain.selector, SEL_A));
        ra.execute(em);
    }

    function test_feeAndInputChecks() public {
        Client.EVM2AnyMessage memory m = _msg(bob, 1e6, "");
        uint256 fee = ra.getFee(SEL_B, m);
        vm.prank(user);
        vm.expectRevert(IRouterClient.InsufficientFeeTokenAmount.selector);
        ra.ccipSend{value: fee - 1}(SEL_B, m);
        vm.prank(user);
        vm.expectRevert(abi.encodeWithSelector(IRouterClient.UnsupportedDestinationChain.selector, uint64(42)));
        ra.ccipSend{value: fee}(42, m);
        m.feeToken = address(ta);
        vm.expectRevert(abi.encodeWithSelector(CcipRouter.UnsupportedFeeToken.selector, address(ta)));
        ra.getFee(SEL_B, m);
        m.feeToken = address(0);
        m.receiver = abi.encodePacked(bob);
        vm.expectRevert();
        ra.getFee(SEL_B, m);
        m.receiver = abi.encode(bob);
        m.tokenAmounts[0].amount = 0;
        vm.expectRevert(CcipRouter.ZeroAmount.selector);
        ra.getFee(SEL_B, m);
        m.tokenAmounts[0] = Client.EVMTokenAmount({token: address(tb), amount: 1});
        vm.expectRevert(abi.encodeWithSelector(CcipRouter.UnsupportedToken.selector, address(tb)));
        ra.getFee(SEL_B, m);
        m.tokenAmounts[0] = Client.EVMTokenAmount({token: address(ta), amount: 1});
        m.extraArgs = Client._argsToBytes(Client.EVMExtraArgsV1({gasLimit: 500_000}));
        assertEq(ra.getFee(SEL_B, m), fee, "extra args accepted");
        m.extraArgs = hex"deadbeef";
        vm.expectRevert(CcipRouter.InvalidExtraArgs.selector);
        ra.getFee(SEL_B, m);
    }

    function test_dataReachesReceiver() public {
        CcipReceiverMock rcv = new CcipReceiverMock();
        (bytes32 id, CcipMessage.EVM2EVMMessage memory em) = _send(_msg(address(rcv), 3e6, "hello"));
        vm.prank(relayer);
        rb.execute(em);
        assertEq(rcv.calls(), 1, "ccipReceive called");
        assertEq(rcv.lastId(), id, "id");
        assertEq(uint256(rcv.lastSource()), uint256(SEL_A), "source");
        assertEq(rcv.lastData(), bytes("hello"), "data");
        assertEq(rcv.lastSender(), user, "sender");
        assertEq(rcv.lastTokenCount(), 1, "tokens");
        assertEq(tb.balanceOf(address(rcv)), 3e6, "tokens released to the receiver");
    }

    function test_refusingReceiverLeavesMessageUntouched() public {
        CcipReceiverMock rcv = new CcipReceiverMock();
        rcv.setRefuse(true);
        (bytes32 id, CcipMessage.EVM2EVMMessage memory em) = _send(_msg(address(rcv), 3e6, "x"));
        vm.prank(relayer);
        vm.expectRevert();
        rb.execute(em);
        assertEq(uint256(rb.getExecutionState(id)), 0, "untouched");
        assertEq(tb.balanceOf(address(rcv)), 0, "nothing released");
        rcv.setRefuse(false);
        vm.prank(relayer);
        rb.execute(em);
        assertEq(tb.balanceOf(address(rcv)), 3e6, "released on the retry");
    }

    function testFuzz_noDoubleExecution(uint256 amount, uint8 tries) public {
        amount = bound(amount, 1, LIQUIDITY);
        tries = uint8(bound(tries, 2, 5));
        (bytes32 id, CcipMessage.EVM2EVMMessage memory em) = _send(_msg(bob, amount, ""));
        vm.prank(relayer);
        rb.execute(em);
        for (uint256 i = 1; i < tries; ++i) {
            vm.prank(relayer);
            vm.expectRevert(abi.encodeWithSelector(CcipRouter.AlreadyExecuted.selector, id));
            rb.execute(em);
        }
        assertEq(tb.balanceOf(bob), amount, "released once");
    }

    function testFuzz_sequenceAndNonceAdvance(uint8 n, uint256 seed) public {
        n = uint8(bound(n, 1, 8));
        bytes32 last;
        for (uint256 i = 1; i <= n; ++i) {
            uint256 amount = bound(uint256(keccak256(abi.encode(seed, i))), 1, 1e12);
            (bytes32 id, CcipMessage.EVM2EVMMessage memory em) = _send(_msg(bob, amount, ""));
            assertEq(em.sequenceNumber, i, "sequence");
            assertEq(em.nonce, i, "nonce");
            assertTrue(id != last, "ids differ");
            last = id;
        }
        assertEq(ra.sequenceNumbers(SEL_B), n, "last sequence number");
    }
}
