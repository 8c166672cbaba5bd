// SPDX-License-Identifier: MIT
// Invariants of CollateralVault under random deposits, withdrawal requests, seizures,
// approvals, cancellations and executions (VaultHandler): the vault holds exactly the
// recorded balances of each token; every request is paid at most once, only when executed,
// only after M approvals, all of its amount, to its recipient; what came in is what is held
// plus what went out.
pragma solidity 0.8.30;

import {TestBase} from "../utils/TestBase.sol";
import {CollateralVault} from "../../src/CollateralVault.sol";
import {TestToken} from "../../src/TestToken.sol";
import {VaultHandler} from "./VaultHandler.sol";

contract VaultInvariantTest is TestBase {
    CollateralVault internal vault;
    TestToken internal t0;
    TestToken internal t1;
    VaultHandler internal handler;

    function setUp() public {
        address[] memory ap = new address[](3);
        address[3] memory ap3;
        for (uint256 i = 0; i < 3; ++i) {
            ap[i] = vm.addr(0xA0 + i);
            ap3[i] = ap[i];
        }
        vault = new CollateralVault(ap, 2);
        t0 = new TestToken("Wrapped Ether", "WETH", 18);
        t1 = new TestToken("Wrapped BTC", "WBTC", 8);
        handler = new VaultHandler(vault, t0, t1, ap3, vm.addr(0xDE5C));
        t0.transferOwnership(address(handler));
        t1.transferOwnership(address(handler));
        targetContract(address(handler));
    }

    function invariant_holdsExactlyTheRecordedBalances() public view {
        TestToken[2] memory ts = [t0, t1];
        for (uint256 k = 0; k < 2; ++k) {
            uint256 sum = vault.balanceOf(handler.owners(0), address(ts[k]))
                + vault.balanceOf(handler.owners(1), address(ts[k]));
            assertEq(ts[k].balanceOf(address(vault)), sum, "held = recorded");
        }
    }

    function invariant_inEqualsHeldPlusOut() public view {
        uint256 held = t0.balanceOf(address(vault)) + t1.balanceOf(address(vault));
        assertEq(handler.deposited(), held + handler.paidOut(), "deposited = held + paid out");
    }

    function invariant_eachRequestPaysOnceAfterMApprovals() public view {
        uint256 n = vault.requestCount();
        for (uint256 i = 0; i < n; ++i) {
            CollateralVault.Request memory r = vault.getRequest(i);
            uint256 p = handler.payouts(i);
            assertLe(p, 1, "at most one payout");
            if (r.status == CollateralVault.Status.Executed) {
                assertEq(p, 1, "executed request paid once");
                assertGe(handler.approvalsAtExecution(i), vault.threshold(), "after M approvals");
            } else {
                assertEq(p, 0, "unexecuted request paid nothing");
            }
            if (r.kind == CollateralVault.Kind.Withdrawal) assertEq(r.to, r.owner, "withdrawal to its owner");
        }
    }

    /// The handler itself works (guards against vacuous invariants): a scripted run executes
    /// a withdrawal and a seizure, fails one below the threshold, and the checks hold.
    function test_handlerReachesEveryState() public {
        handler.deposit(0, 0, 10 ether);
        handler.deposit(1, 1, 5e8);
        handler.requestWithdrawal(0, 0, 3 ether); // id 0
        handler.proposeSeizure(1, 1, 1, 2e8); // id 1
        handler.approve(0, 0);
        handler.execute(0); // one approval: refused
        assertEq(handler.payouts(0), 0, "below threshold");
        handler.approve(1, 0);
        handler.execute(0);
        handler.approve(0, 1);
        handler.approve(2, 1);
        handler.execute(1);
        handler.requestWithdrawal(0, 0, 1 ether); // id 2
        handler.cancel(2);
        assertEq(uint256(vault.getRequest(0).status), uint256(CollateralVault.Status.Executed), "withdrawn");
        assertEq(uint256(vault.getRequest(1).status), uint256(CollateralVault.Status.Executed), "seized");
        assertEq(uint256(vault.getRequest(2).status), uint256(CollateralVault.Status.Cancelled), "cancelled");
        invariant_holdsExactlyTheRecordedBalances();
        invariant_inEqualsHeldPlusOut();
        invariant_eachRequestPaysOnceAfterMApprovals();
    }
}
