// SPDX-License-Identifier: MIT
// Test-only helpers for tests/integration/sync_inconsistent.py: an ERC-777-style token
// that calls a registered sender's hook before tokens leave it, and a smart-wallet payer
// that disputes its version-1 escrow from inside that hook while funding it, so the chain
// logs Disputed before Funded and ends Disputed (the audit's log-order finding, closed in
// EscrowV2). Never deployed outside a local test chain.
pragma solidity ^0.8.20;

interface IEscrowFactory {
    function createEscrow(address payee, address token, uint256 amount,
                          address[] calldata approvers, uint256 threshold, address arbiter,
                          uint64 deadline) external returns (address);
}

interface IEscrow {
    function fund() external payable;
    function dispute(string calldata reason) external;
}

interface ITokensSender {
    function tokensToSend() external;
}

contract HookToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    mapping(address => bool) public hooked;
    uint8 public constant decimals = 6;
    string public constant symbol = "H777";

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function mint(address to, uint256 a) external {
        balanceOf[to] += a;
        emit Transfer(address(0), to, a);
    }

    function registerHook() external {
        hooked[msg.sender] = true;
    }

    function approve(address s, uint256 a) external returns (bool) {
        allowance[msg.sender][s] = a;
        emit Approval(msg.sender, s, a);
        return true;
    }

    function transfer(address to, uint256 a) external returns (bool) {
        _move(msg.sender, to, a);
        return true;
    }

    function transferFrom(address f, address to, uint256 a) external returns (bool) {
        allowance[f][msg.sender] -= a;
        _move(f, to, a);
        return true;
    }

    function _move(address f, address to, uint256 a) internal {
        if (hooked[f]) ITokensSender(f).tokensToSend();
        balanceOf[f] -= a;
        balanceOf[to] += a;
        emit Transfer(f, to, a);
    }
}

contract HookedPayer is ITokensSender {
    address public escrow;
    bool private armed;

    function createAndFund(address factory, address token, address payee, uint256 amount,
                           address[] calldata approvers, uint256 threshold, address arbiter,
                           uint64 deadline) external returns (address e) {
        e = IEscrowFactory(factory).createEscrow(payee, token, amount, approvers, threshold,
                                                 arbiter, deadline);
        HookToken(token).registerHook();
        HookToken(token).approve(e, amount);
        escrow = e;
        armed = true;
        IEscrow(e).fund();
    }

    function tokensToSend() external {
        if (!armed) return;
        armed = false;
        IEscrow(escrow).dispute("from inside the token hook");
    }
}
