// SPDX-License-Identifier: MIT
// Tests of the devnet's CCTP-style pair (TokenMessenger + MessageTransmitter): two
// "chains" (domains 0 and 1) in one EVM; a burn on one is minted on the other exactly
// once, only with the attester's signature, only from the registered remote messenger.
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {TestBase} from "./utils/TestBase.sol";
import {Vm} from "./utils/Vm.sol";
import {TestToken} from "../src/TestToken.sol";
import {MessageTransmitter} from "../src/cctp/MessageTransmitter.sol";
import {TokenMessenger} from "../src/cctp/TokenMessenger.sol";

contract CctpTest is TestBase {
    uint256 internal constant ATTESTER_PK = 0xA77E57;
    uint32 internal constant DOM_A = 0;
    uint32 internal constant DOM_B = 1;
    uint256 internal constant LIMIT = 1_000_000e6;

    address internal attester;
    address internal user = address(0xA11CE);
    address internal bob = address(0xB0B);
    MessageTransmitter internal mtA;
    MessageTransmitter internal mtB;
    TokenMessenger internal tmA;
    TokenMessenger internal tmB;
    TestToken internal usdcA;
    TestToken internal usdcB;

    function setUp() public {
        attester = vm.addr(ATTESTER_PK);
        mtA = new MessageTransmitter(DOM_A, attester);
        mtB = new MessageTransmitter(DOM_B, attester);
        tmA = new TokenMessenger(address(mtA));
        tmB = new TokenMessenger(address(mtB));
        usdcA = new TestToken("USD Coin", "USDC", 6);
        usdcB = new TestToken("USD Coin", "USDC", 6);
        tmA.addRemoteTokenMessenger(DOM_B, b32(address(tmB)));
        tmB.addRemoteTokenMessenger(DOM_A, b32(address(tmA)));
        tmA.linkTokenPair(address(usdcA), DOM_B, b32(address(usdcB)));
        tmB.linkTokenPair(address(usdcB), DOM_A, b32(address(usdcA)));
        tmA.setMaxBurnAmountPerMessage(address(usdcA), LIMIT);
        tmB.setMaxBurnAmountPerMessage(address(usdcB), LIMIT);
        usdcA.setMinter(address(tmA), true);
        usdcB.setMinter(address(tmB), true);
        usdcA.mint(user, 10 * LIMIT);
        vm.prank(user);
        usdcA.approve(address(tmA), type(uint256).max);
    }

    function b32(address a) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(a)));
    }

    function attest(uint256 pk, bytes memory message) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, keccak256(message));
        return abi.encodePacked(r, s, v);
    }

    /// Burns on A and returns the MessageSent message.
    function burn(uint256 amount, address to) internal returns (bytes memory message) {
        vm.recordLogs();
        vm.prank(user);
        tmA.depositForBurn(amount, DOM_B, b32(to), address(usdcA));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 sent = keccak256("MessageSent(bytes)");
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(mtA) && logs[i].topics[0] == sent) {
                message = abi.decode(logs[i].data, (bytes));
            }
        }
        assertEq(message.length, 116 + 132, "one burn message");
    }

    function test_burnAndMint() public {
        uint256 supplyA = usdcA.totalSupply();
        bytes memory m = burn(250_000e6, bob);
        assertEq(usdcA.balanceOf(user), 10 * LIMIT - 250_000e6, "burned from the user");
        assertEq(usdcA.totalSupply(), supplyA - 250_000e6, "supply on A shrank");
        assertTrue(mtB.receiveMessage(m, attest(ATTESTER_PK, m)), "received");
        assertEq(usdcB.balanceOf(bob), 250_000e6, "minted to the recipient on B");
        assertEq(mtA.nextAvailableNonce(), 1, "nonce advanced on A");
    }

    function test_messageLayout() public {
        bytes memory m = burn(7e6, bob);
        bytes memory body = new bytes(132);
        for (uint256 i = 0; i < 132; ++i) {
            body[i] = m[116 + i];
        }
        bytes memory want = abi.encodePacked(uint32(0), b32(address(usdcA)), b32(bob), uint256(7e6), b32(user));
        assertEq(body, want, "burn body: version, token, recipient, amount, sender");
        assertEq(uint256(uint8(m[7])), uint256(DOM_A), "source domain");
        assertEq(uint256(uint8(m[11])), uint256(DOM_B), "destination domain");
    }

    function test_replayRefused() public {
        bytes memory m = burn(1e6, bob);
        bytes memory a = attest(ATTESTER_PK, m);
        mtB.receiveMessage(m, a);
        vm.expectRevert(abi.encodeWithSelector(MessageTransmitter.NonceAlreadyUsed.selector, DOM_A, uint64(0)));
        mtB.receiveMessage(m, a);
        assertEq(usdcB.balanceOf(bob), 1e6, "minted once");
    }

    function testFuzz_noDoubleMint(uint256 amount, uint8 tries) public {
        amount = bound(amount, 1, LIMIT);
        bytes memory m = burn(amount, bob);
        bytes memory a = attest(ATTESTER_PK, m);
        mtB.receiveMessage(m, a);
        uint256 n = bound(tries, 1, 5);
        for (uint256 i = 0; i < n; ++i) {
            vm.expectRevert(abi.encodeWithSelector(MessageTransmitter.NonceAlreadyUsed.selector, DOM_A, uint64(0)));
            mtB.receiveMessage(m, a);
        }
        assertEq(usdcB.balanceOf(bob), amount, "exactly one mint");
        assertEq(usdcB.totalSupply(), amount, "no other mint");
    }

    function testFuzz_wrongAttesterRefused(uint256 pk) public {
        pk = bound(pk, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        vm.assume(pk != ATTESTER_PK);
        bytes memory m = burn(5e6, bob);
        vm.expectRevert(abi.encodeWithSelector(MessageTransmitter.AttesterUnknown.selector, vm.addr(pk)));
        mtB.receiveMessage(m, attest(pk, m));
        assertEq(usdcB.balanceOf(bob), 0, "nothing minted");
    }

    function testFuzz_tamperedMessageRefused(uint256 pos, uint8 flip) public {
        bytes memory m = burn(5e6, bob);
        bytes memory a = attest(ATTESTER_PK, m);
        pos = bound(pos, 0, m.length - 1);
        uint8 f = uint8(bound(flip, 1, 255));
        m[pos] = bytes1(uint8(m[pos]) ^ f);
        // the signature now recovers another address (or none): refused either way
        vm.expectRevert();
        mtB.receiveMessage(m, a);
        assertEq(usdcB.balanceOf(bob), 0, "nothing minted");
    }

    function test_badAttestationLength() public {
        bytes memory m = burn(5e6, bob);
        vm.expectRevert(abi.encodeWithSelector(MessageTransmitter.BadAttestationLength.selector, uint256(64)));
        mtB.receiveMessage(m, new bytes(64));
    }

    function test_wrongDestinationDomain() public {
        bytes memory m = burn(5e6, bob);
        // the message is for B; A refuses it even with a valid attestation
        vm.expectRevert(abi.encodeWithSelector(MessageTransmitter.WrongDestinationDomain.selector, DOM_B));
        mtA.receiveMessage(m, attest(ATTESTER_PK, m));
    }

    /// Anyone may call sendMessage, but a message not sent by the registered remote
    /// TokenMessenger mints nothing, even when attested.
    function test_forgedSenderRefused() public {
        bytes memory body = abi.encodePacked(uint32(0), b32(address(usdcA)), b32(bob), uint256(1e12), b32(bob));
        vm.recordLogs();
        vm.prank(bob);
        mtA.sendMessage(DOM_B, b32(address(tmB)), body);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes memory m = abi.decode(logs[0].data, (bytes));
        vm.expectRevert(abi.encodeWithSelector(TokenMessenger.UnknownSender.selector, DOM_A, b32(bob)));
        mtB.receiveMessage(m, attest(ATTESTER_PK, m));
    }

    function test_handleOnlyFromTransmitter() public {
        vm.expectRevert(abi.encodeWithSelector(TokenMessenger.NotTransmitter.selector, address(this)));
        tmB.handleReceiveMessage(DOM_A, b32(address(tmA)), new bytes(132));
    }

    function test_burnLimitAndChecks() public {
        vm.startPrank(user);
        vm.expectRevert(abi.encodeWithSelector(TokenMessenger.BurnLimitExceeded.selector, LIMIT + 1, LIMIT));
        tmA.depositForBurn(LIMIT + 1, DOM_B, b32(bob), address(usdcA));
        vm.expectRevert(TokenMessenger.ZeroAmount.selector);
        tmA.depositForBurn(0, DOM_B, b32(bob), address(usdcA));
        vm.expectRevert(TokenMessenger.ZeroRecipient.selector);
        tmA.depositForBurn(1, DOM_B, bytes32(0), address(usdcA));
        vm.expectRevert(abi.encodeWithSelector(TokenMessenger.NoRemoteMessenger.selector, uint32(9)));
        tmA.depositForBurn(1, 9, b32(bob), address(usdcA));
        vm.expectRevert(abi.encodeWithSelector(TokenMessenger.BurnTokenNotSupported.selector, address(usdcB)));
        tmA.depositForBurn(1, DOM_B, b32(bob), address(usdcB));
        vm.stopPrank();
    }

    function test_onlyOwnerConfigures() public {
        vm.startPrank(bob);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        mtB.enableAttester(bob);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        tmB.addRemoteTokenMessenger(DOM_A, b32(bob));
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, bob));
        usdcB.setMinter(bob, true);
        vm.stopPrank();
    }

    function test_twoAttestersInOrder() public {
        uint256 pk2 = 0xB2;
        mtB.enableAttester(vm.addr(pk2));
        mtB.setSignatureThreshold(2);
        bytes memory m = burn(3e6, bob);
        (uint256 lo, uint256 hi) = vm.addr(pk2) < attester ? (pk2, ATTESTER_PK) : (ATTESTER_PK, pk2);
        bytes memory swapped = abi.encodePacked(attest(hi, m), attest(lo, m));
        vm.expectRevert(MessageTransmitter.AttestersOutOfOrder.selector);
        mtB.receiveMessage(m, swapped);
        bytes memory same = abi.encodePacked(attest(lo, m), attest(lo, m));
        vm.expectRevert(MessageTransmitter.AttestersOutOfOrder.selector);
        mtB.receiveMessage(m, same);
        mtB.receiveMessage(m, abi.encodePacked(attest(lo, m), attest(hi, m)));
        assertEq(usdcB.balanceOf(bob), 3e6, "minted with both signatures");
    }

    function test_malleableSignatureRefused() public {
        bytes memory m = burn(2e6, bob);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ATTESTER_PK, keccak256(m));
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        bytes32 s2 = bytes32(n - uint256(s));
        uint8 v2 = v == 27 ? 28 : 27;
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, s2));
        mtB.receiveMessage(m, abi.encodePacked(r, s2, v2));
    }
}
