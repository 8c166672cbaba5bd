// SPDX-License-Identifier: MIT
// Benchmark-only helpers for tests/bench/sync_bench.py: they drive the real EscrowFactory
// and Escrow contracts in bulk (hundreds of escrows per transaction), so that a chain
// with 100,000 escrow events is built from a few hundred transactions. Never deployed
// outside a local benchmark chain.
pragma solidity ^0.8.20;

interface IEscrowFactory {
    function createEscrow(address payee, address token, uint256 amount,
                          address[] calldata approvers, uint256 threshold, address arbiter,
                          uint64 deadline) external returns (address);
}

interface IEscrow {
    function fund() external payable;
    function approve() external;
    function release() external;
}

/// The payer: creates and funds escrows (EscrowCreated + Funded per escrow).
contract BenchPayer {
    function createAndFund(address factory, uint256 n, address payee, uint256 amount,
                           address[] calldata approvers, uint256 threshold, address arbiter,
                           uint64 deadline) external payable returns (address[] memory made) {
        made = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            address e = IEscrowFactory(factory).createEscrow(
                payee, address(0), amount, approvers, threshold, arbiter, deadline);
            IEscrow(e).fund{value: amount}();
            made[i] = e;
        }
    }
}

/// An approver (Approved per escrow), who can also trigger releases (Released).
contract BenchApprover {
    function approveAll(address[] calldata escrows) external {
        for (uint256 i = 0; i < escrows.length; ++i) IEscrow(escrows[i]).approve();
    }

    function releaseAll(address[] calldata escrows) external {
        for (uint256 i = 0; i < escrows.length; ++i) IEscrow(escrows[i]).release();
    }
}
