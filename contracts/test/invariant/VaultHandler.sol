// SPDX-License-Identifier: MIT
// The actor forge's invariant runner drives against CollateralVault: two owners deposit two
// tokens, ask withdrawals and cancel them; approvers propose seizures, approve and execute
// requests (with too few approvals too); books every payout per request.
pragma solidity 0.8.30;

import {Vm} from "../utils/Vm.sol";
import {CollateralVault} from "../../src/CollateralVault.sol";
import {TestToken} from "../../src/TestToken.sol";

contract VaultHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    CollateralVault public immutable vault;
    TestToken[2] public tokens;
    address[2] public owners;
    address[3] public approvers;
    address public immutable desk;

    mapping(uint256 => uint256) public payouts; // request id => times paid
    mapping(uint256 => uint256) public approvalsAtExecution;
    uint256 public deposited;
    uint256 public paidOut;

    constructor(CollateralVault vault_, TestToken t0, TestToken t1, address[3] memory approvers_, address desk_) {
        vault = vault_;
        tokens[0] = t0;
        tokens[1] = t1;
        owners[0] = vm.addr(0xA11CE);
        owners[1] = vm.addr(0xB0B);
        approvers = approvers_;
        desk = desk_;
    }

    function deposit(uint8 who, uint8 tok, uint256 amount) external {
        amount = 1 + amount % 1000 ether;
        address o = owners[who % 2];
        TestToken t = tokens[tok % 2];
        t.mint(o, amount);
        vm.startPrank(o);
        t.approve(address(vault), amount);
        vault.deposit(address(t), amount);
        vm.stopPrank();
        deposited += amount;
    }

    function requestWithdrawal(uint8 who, uint8 tok, uint256 amount) external {
        address o = owners[who % 2];
        address t = address(tokens[tok % 2]);
        uint256 bal = vault.balanceOf(o, t);
        if (bal == 0) return;
        vm.prank(o);
        vault.requestWithdrawal(t, 1 + amount % bal);
    }

    function proposeSeizure(uint8 by, uint8 who, uint8 tok, uint256 amount) external {
        address o = owners[who % 2];
        address t = address(tokens[tok % 2]);
        uint256 bal = vault.balanceOf(o, t);
        if (bal == 0) return;
        vm.prank(approvers[by % 3]);
        vault.proposeSeizure(o, t, 1 + amount % bal, desk);
    }

    function approve(uint8 by, uint256 id) external {
        uint256 n = vault.requestCount();
        if (n == 0) return;
        vm.prank(approvers[by % 3]);
        try vault.approve(id % n) {} catch {}
    }

    function cancel(uint256 id) external {
        uint256 n = vault.requestCount();
        if (n == 0) return;
        CollateralVault.Request memory r = vault.getRequest(id % n);
        vm.prank(r.owner);
        try vault.cancel(id % n) {} catch {}
    }

    function execute(uint256 id) external {
        uint256 n = vault.requestCount();
        if (n == 0) return;
        id = id % n;
        CollateralVault.Request memory r = vault.getRequest(id);
        TestToken t = TestToken(r.token);
        uint256 before = t.balanceOf(r.to);
        try vault.execute(id) {
            uint256 got = t.balanceOf(r.to) - before;
            payouts[id] += 1;
            approvalsAtExecution[id] = r.approvals;
            paidOut += got;
        } catch {}
    }
}
