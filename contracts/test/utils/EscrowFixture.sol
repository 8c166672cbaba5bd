// SPDX-License-Identifier: MIT
// Shared set-up for the escrow tests: a factory, a 6- and an 18-decimal token, the usual
// parties, and helpers to create and fund escrows with default terms.
pragma solidity 0.8.30;

import {TestBase} from "./TestBase.sol";
import {Escrow} from "../../src/Escrow.sol";
import {EscrowFactory} from "../../src/EscrowFactory.sol";
import {TestToken} from "../../src/TestToken.sol";

abstract contract EscrowFixture is TestBase {
    EscrowFactory internal factory;
    TestToken internal usdc;

    address internal payer;
    address internal payee;
    address internal arbiter;
    address internal a1;
    address internal a2;
    address internal a3;
    address internal outsider;

    uint256 internal constant AMOUNT = 10 ether;
    uint256 internal constant USDC_AMOUNT = 250_000e6;
    uint64 internal deadline;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        factory = new EscrowFactory();
        usdc = new TestToken("USD Coin", "USDC", 6);
        payer = makeAddr("payer");
        payee = makeAddr("payee");
        arbiter = makeAddr("arbiter");
        a1 = makeAddr("approver1");
        a2 = makeAddr("approver2");
        a3 = makeAddr("approver3");
        outsider = makeAddr("outsider");
        deadline = uint64(block.timestamp + 7 days);
        vm.deal(payer, 1_000 ether);
        usdc.mint(payer, 1_000_000e6);
    }

    function approvers3() internal view returns (address[] memory a) {
        a = new address[](3);
        a[0] = a1;
        a[1] = a2;
        a[2] = a3;
    }

    /// 2-of-3 escrow in the native coin, created by `payer`.
    function newNative() internal returns (Escrow e) {
        vm.prank(payer);
        e = Escrow(factory.createEscrow(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline));
    }

    /// 2-of-3 escrow in USDC (6 decimals), created by `payer`.
    function newUsdc() internal returns (Escrow e) {
        vm.prank(payer);
        e = Escrow(factory.createEscrow(payee, address(usdc), USDC_AMOUNT, approvers3(), 2, arbiter, deadline));
    }

    function fundNative(Escrow e) internal {
        vm.prank(payer);
        e.fund{value: AMOUNT}();
    }

    function fundUsdc(Escrow e) internal {
        vm.startPrank(payer);
        usdc.approve(address(e), USDC_AMOUNT);
        e.fund();
        vm.stopPrank();
    }

    function approveBy(Escrow e, address who) internal {
        vm.prank(who);
        e.approve();
    }

    function funded() internal returns (Escrow e) {
        e = newNative();
        fundNative(e);
    }

    function approved() internal returns (Escrow e) {
        e = funded();
        approveBy(e, a1);
        approveBy(e, a2);
    }

    function stateOf(Escrow e) internal view returns (uint256) {
        return uint256(e.state());
    }

    function err(bytes4 sel) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(sel);
    }

    function invalidState(Escrow.State s) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(Escrow.InvalidState.selector, s);
    }
}
