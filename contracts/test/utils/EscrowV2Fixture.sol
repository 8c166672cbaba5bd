// SPDX-License-Identifier: MIT
// Shared set-up for the version-2 escrow tests: a v2 factory (and a v1 factory beside it,
// for the tests that show a finding on v1), a 6-decimal token, the usual parties, and
// helpers to create, fund and approve escrows with default terms.
pragma solidity 0.8.30;

import {TestBase} from "./TestBase.sol";
import {Escrow} from "../../src/Escrow.sol";
import {EscrowFactory} from "../../src/EscrowFactory.sol";
import {EscrowV2} from "../../src/EscrowV2.sol";
import {EscrowFactoryV2} from "../../src/EscrowFactoryV2.sol";
import {TestToken} from "../../src/TestToken.sol";

abstract contract EscrowV2Fixture is TestBase {
    EscrowFactoryV2 internal factory;
    EscrowFactory internal factoryV1;
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
    uint64 internal constant WINDOW = 7 days;
    uint64 internal deadline;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        factory = new EscrowFactoryV2();
        factoryV1 = new EscrowFactory();
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

    function create(
        address payee_,
        address token_,
        uint256 amount_,
        address[] memory approvers_,
        uint256 threshold_,
        address arbiter_,
        uint64 deadline_,
        uint64 window_
    ) internal returns (EscrowV2) {
        vm.prank(payer);
        return EscrowV2(
            factory.createEscrow(payee_, token_, amount_, approvers_, threshold_, arbiter_, deadline_, window_)
        );
    }

    /// 2-of-3 escrow in the native coin, created by `payer`, 7-day dispute window.
    function newNative() internal returns (EscrowV2) {
        return create(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, WINDOW);
    }

    /// 2-of-3 escrow in USDC (6 decimals), created by `payer`.
    function newUsdc() internal returns (EscrowV2) {
        return create(payee, address(usdc), USDC_AMOUNT, approvers3(), 2, arbiter, deadline, WINDOW);
    }

    function fundNative(EscrowV2 e) internal {
        vm.prank(payer);
        e.fund{value: AMOUNT}();
    }

    function fundUsdc(EscrowV2 e) internal {
        vm.startPrank(payer);
        usdc.approve(address(e), USDC_AMOUNT);
        e.fund();
        vm.stopPrank();
    }

    /// Approves with the escrow's own terms hash (what an approver who checked them sends).
    function approveBy(EscrowV2 e, address who) internal {
        bytes32 h = e.termsHash();
        vm.prank(who);
        e.approve(h);
    }

    function funded() internal returns (EscrowV2 e) {
        e = newNative();
        fundNative(e);
    }

    function approved() internal returns (EscrowV2 e) {
        e = funded();
        approveBy(e, a1);
        approveBy(e, a2);
    }

    function disputedBy(address who) internal returns (EscrowV2 e) {
        e = funded();
        vm.prank(who);
        e.dispute("x");
    }

    function stateOf(EscrowV2 e) internal view returns (uint256) {
        return uint256(e.state());
    }

    function err(bytes4 sel) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(sel);
    }

    function invalidState(EscrowV2.State s) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(EscrowV2.InvalidState.selector, s);
    }

    /// The terms hash as docs/contracts.md defines it, computed here independently of the
    /// contract (what the desk computes before showing an approval).
    function expectedTermsHash(
        address escrow,
        address payer_,
        address payee_,
        address token_,
        uint256 amount_,
        address[] memory approvers_,
        uint256 threshold_,
        uint64 deadline_,
        address arbiter_,
        uint64 window_
    ) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                block.chainid,
                escrow,
                payer_,
                payee_,
                token_,
                amount_,
                approvers_,
                threshold_,
                deadline_,
                arbiter_,
                window_
            )
        );
    }

    // ---- version 1, for the tests that show a finding on it ----

    function createV1(address payee_, address token_, uint256 amount_, address[] memory approvers_, uint256 threshold_)
        internal
        returns (Escrow e)
    {
        vm.prank(payer);
        e = Escrow(factoryV1.createEscrow(payee_, token_, amount_, approvers_, threshold_, arbiter, deadline));
    }

    function fundedV1() internal returns (Escrow e) {
        e = createV1(payee, address(0), AMOUNT, approvers3(), 2);
        vm.prank(payer);
        e.fund{value: AMOUNT}();
    }
}
