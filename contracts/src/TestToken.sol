// SPDX-License-Identifier: MIT
// ERC20 for LOCAL CHAINS ONLY: any name, symbol and decimals (6 like USDC, 8 like WBTC, 18
// like most), minted by its owner, so escrows and risk views run on anvil with realistic
// token units.
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract TestToken is ERC20, Ownable {
    /// More decimals than this have no real-world counterpart and overflow price maths.
    uint8 public constant MAX_DECIMALS = 18;

    error UnsupportedDecimals(uint8 decimals, uint8 max);

    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_)
        ERC20(name_, symbol_)
        Ownable(msg.sender)
    {
        if (decimals_ > MAX_DECIMALS) revert UnsupportedDecimals(decimals_, MAX_DECIMALS);
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// Creates `amount` base units for `to`.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
