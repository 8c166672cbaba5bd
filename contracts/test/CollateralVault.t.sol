// SPDX-License-Identifier: MIT
// Unit and fuzz tests of CollateralVault: deposits per owner and token, withdrawals asked by
// the owner and seizures proposed by an approver, both executed only after M of N approvals,
// at most once, and only while the collateral is there.
pragma solidity 0.8.30;

import {TestBase} from "./utils/TestBase.sol";
import {CollateralVault} from "../src/CollateralVault.sol";
import {TestToken} from "../src/TestToken.sol";
import {FeeOnTransferToken} from "./mocks/FeeOnTransferToken.sol";

contract CollateralVaultTest is TestBase {
    CollateralVault internal vault;
    TestToken internal weth;
    address internal a1 = makeAddr("approver1");
    address internal a2 = makeAddr("approver2");
    address internal a3 = makeAddr("approver3");
    address internal cp = makeAddr("counterparty");
    address internal desk = makeAddr("desk");

    event Deposited(address indexed owner, address indexed token, uint256 amount, uint256 balance);
    event Seized(
        uint256 indexed id, address indexed owner, address indexed token, uint256 amount, address to, uint256 balance
    );

    function setUp() public {
        address[] memory ap = new address[](3);
        ap[0] = a1;
        ap[1] = a2;
        ap[2] = a3;
        vault = new CollateralVault(ap, 2);
        weth = new TestToken("Wrapped Ether", "WETH", 18);
        weth.mint(cp, 100 ether);
        vm.prank(cp);
        weth.approve(address(vault), type(uint256).max);
    }

    function _deposit(uint256 amount) internal {
        vm.prank(cp);
        vault.deposit(address(weth), amount);
    }

    function test_constructorChecks() public {
        address[] memory none = new address[](0);
        vm.expectRevert(CollateralVault.NoApprovers.selector);
        new CollateralVault(none, 1);
        address[] memory two = new address[](2);
        two[0] = a1;
        two[1] = a1;
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.DuplicateApprover.selector, a1));
        new CollateralVault(two, 1);
        two[1] = a2;
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.InvalidThreshold.selector, 3, 2));
        new CollateralVault(two, 3);
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.InvalidThreshold.selector, 0, 2));
        new CollateralVault(two, 0);
        assertEq(vault.threshold(), 2, "threshold");
        assertEq(vault.approvers().length, 3, "approvers");
    }

    function test_depositRecordsTheOwnersBalance() public {
        vm.expectEmit(address(vault));
        emit Deposited(cp, address(weth), 3 ether, 3 ether);
        _deposit(3 ether);
        _deposit(2 ether);
        assertEq(vault.balanceOf(cp, address(weth)), 5 ether, "balance");
        assertEq(weth.balanceOf(address(vault)), 5 ether, "held");
    }

    function test_depositRefusesZeroNonContractAndFeeTokens() public {
        vm.prank(cp);
        vm.expectRevert(CollateralVault.ZeroAmount.selector);
        vault.deposit(address(weth), 0);
        vm.prank(cp);
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.NotAContract.selector, address(0xBEEF)));
        vault.deposit(address(0xBEEF), 1);
        FeeOnTransferToken fee = new FeeOnTransferToken();
        fee.mint(cp, 100 ether);
        vm.prank(cp);
        fee.approve(address(vault), type(uint256).max);
        vm.prank(cp);
        vm.expectRevert();
        vault.deposit(address(fee), 10 ether);
    }

    function test_withdrawalNeedsMofN() public {
        _deposit(5 ether);
        vm.prank(cp);
        uint256 id = vault.requestWithdrawal(address(weth), 2 ether);
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.ThresholdNotReached.selector, 0, 2));
        vault.execute(id);
        vm.prank(a1);
        vault.approve(id);
        vm.prank(a1);
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.AlreadyApproved.selector, id));
        vault.approve(id);
        vm.prank(cp);
        vm.expectRevert(CollateralVault.NotApprover.selector);
        vault.approve(id);
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.ThresholdNotReached.selector, 1, 2));
        vault.execute(id);
        vm.prank(a3);
        vault.approve(id);
        vault.execute(id);
        assertEq(weth.balanceOf(cp), 97 ether, "paid back to the owner");
        assertEq(vault.balanceOf(cp, address(weth)), 3 ether, "left");
        vm.expectRevert(
            abi.encodeWithSelector(CollateralVault.NotOpen.selector, id, CollateralVault.Status.Executed)
        );
        vault.execute(id);
    }

    function test_withdrawalAboveBalanceRefused() public {
        _deposit(1 ether);
        vm.prank(cp);
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.InsufficientCollateral.selector, 1 ether, 2 ether));
        vault.requestWithdrawal(address(weth), 2 ether);
    }

    function test_seizureByApproversToTheDesk() public {
        _deposit(5 ether);
        vm.prank(cp);
        vm.expectRevert(CollateralVault.NotApprover.selector);
        vault.proposeSeizure(cp, address(weth), 4 ether, desk);
        vm.prank(a2);
        uint256 id = vault.proposeSeizure(cp, address(weth), 4 ether, desk);
        vm.prank(a2);
        vault.approve(id);
        vm.prank(a1);
        vault.approve(id);
        vm.expectEmit(address(vault));
        emit Seized(id, cp, address(weth), 4 ether, desk, 1 ether);
        vault.execute(id);
        assertEq(weth.balanceOf(desk), 4 ether, "seized to the desk");
        assertEq(vault.balanceOf(cp, address(weth)), 1 ether, "left");
    }

    function test_seizureAndWithdrawalCannotTakeTheSameTokens() public {
        _deposit(5 ether);
        vm.prank(cp);
        uint256 w = vault.requestWithdrawal(address(weth), 4 ether);
        vm.prank(a1);
        uint256 s = vault.proposeSeizure(cp, address(weth), 4 ether, desk);
        vm.prank(a1);
        vault.approve(s);
        vm.prank(a2);
        vault.approve(s);
        vault.execute(s);
        vm.prank(a1);
        vault.approve(w);
        vm.prank(a2);
        vault.approve(w);
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.InsufficientCollateral.selector, 1 ether, 4 ether));
        vault.execute(w);
    }

    function test_ownerCancelsOnlyItsOwnWithdrawal() public {
        _deposit(5 ether);
        vm.prank(cp);
        uint256 w = vault.requestWithdrawal(address(weth), 1 ether);
        vm.prank(a1);
        vm.expectRevert(CollateralVault.NotOwner.selector);
        vault.cancel(w);
        vm.prank(a1);
        uint256 s = vault.proposeSeizure(cp, address(weth), 1 ether, desk);
        vm.prank(cp);
        vm.expectRevert(CollateralVault.NotOwner.selector);
        vault.cancel(s);
        vm.prank(cp);
        vault.cancel(w);
        vm.prank(a1);
        vm.expectRevert(
            abi.encodeWithSelector(CollateralVault.NotOpen.selector, w, CollateralVault.Status.Cancelled)
        );
        vault.approve(w);
        vm.expectRevert(abi.encodeWithSelector(CollateralVault.UnknownRequest.selector, 99));
        vault.getRequest(99);
    }

    function testFuzz_depositWithdrawConserves(uint256 dep, uint256 wd) public {
        dep = bound(dep, 1, 100 ether);
        wd = bound(wd, 1, dep);
        _deposit(dep);
        vm.prank(cp);
        uint256 id = vault.requestWithdrawal(address(weth), wd);
        vm.prank(a1);
        vault.approve(id);
        vm.prank(a2);
        vault.approve(id);
        vault.execute(id);
        assertEq(vault.balanceOf(cp, address(weth)), dep - wd, "recorded");
        assertEq(weth.balanceOf(address(vault)), dep - wd, "held = recorded");
        assertEq(weth.balanceOf(cp), 100 ether - dep + wd, "owner");
    }
}
