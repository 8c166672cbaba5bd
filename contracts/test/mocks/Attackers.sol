// SPDX-License-Identifier: MIT
// TESTS ONLY: hostile counterparties for the reentrancy tests. ReentrantReceiver calls back
// into the contract that pays it; ReentrantToken calls back from inside transfer();
// RejectingReceiver refuses the native coin; HookToken calls the sender's tokensToSend hook
// before moving tokens (ERC-777 style) and SmartWallet is a contract account (payer or
// approver) whose hook replays a stored call.
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// Receives the native coin and, once, replays a stored call on the payer contract; records
/// whether that re-entry succeeded and the revert data it got.
contract ReentrantReceiver {
    address public target;
    bytes public payload;
    bool public armed;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
        armed = true;
    }

    /// Lets this contract act as payer/payee/approver/arbiter of an escrow.
    function call(address to, uint256 value, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        if (!armed) return;
        armed = false;
        reentered = true;
        (bool ok, bytes memory ret) = target.call(payload);
        reentrySucceeded = ok;
        reentryRevertData = ret;
    }
}

/// ERC20 whose transfers call back into a target once (an ERC777-style hook).
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    bool public armed;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    constructor() ERC20("Hook Token", "HOOK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
        armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed && from != address(0)) {
            armed = false;
            reentered = true;
            (bool ok, bytes memory ret) = target.call(payload);
            reentrySucceeded = ok;
            reentryRevertData = ret;
        }
    }
}

contract RejectingReceiver {
    error NoThanks();

    function call(address to, uint256 value, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        revert NoThanks();
    }
}

/// The sender-side hook of an ERC-777-style token (tokensToSend, before the balances move).
interface ITokensSender {
    function tokensToSend(address from, address to, uint256 amount) external;
}

/// ERC20 that, like ERC-777, calls `from`'s tokensToSend hook before every transfer out of
/// an account that registered for it (ERC-777 registers through ERC-1820; here directly).
contract HookToken is ERC20 {
    mapping(address => bool) public hooked;

    constructor() ERC20("Hook777", "H777") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// The caller asks to be called before tokens leave it.
    function registerHook() external {
        hooked[msg.sender] = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && hooked[from]) ITokensSender(from).tokensToSend(from, to, value);
        super._update(from, to, value);
    }
}

/// A contract account (a smart wallet) that executes calls for its owner and, when armed,
/// replays one stored call from inside a token hook, recording whether it succeeded.
contract SmartWallet is ITokensSender {
    address public target;
    bytes public payload;
    bool public armed;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
        armed = true;
    }

    function call(address to, uint256 value, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    function tokensToSend(address, address, uint256) external {
        if (!armed) return;
        armed = false;
        reentered = true;
        (bool ok, bytes memory ret) = target.call(payload);
        reentrySucceeded = ok;
        reentryRevertData = ret;
    }

    receive() external payable {}
}
