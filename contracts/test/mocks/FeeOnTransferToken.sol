// SPDX-License-Identifier: MIT
// TESTS ONLY: an ERC20 that burns 1% of every transfer, like the fee-on-transfer tokens
// escrows and HTLCs must refuse rather than be silently under-funded by.
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Fee Token", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

/// TESTS ONLY: a broken ERC20 whose transfers take value away from the recipient instead of
/// adding it, so a balance-delta check sees the balance shrink.
contract ShrinkingToken is ERC20 {
    constructor() ERC20("Shrink", "SHR") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            super._update(to, address(0), 1); // the recipient loses one unit, gains nothing
            return;
        }
        super._update(from, to, value);
    }
}
