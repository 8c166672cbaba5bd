// SPDX-License-Identifier: MIT
// ERC20 for LOCAL CHAINS ONLY: any name, symbol and decimals (6 like USDC, 8 like WBTC, 18
// like most), minted by its owner or a minter the owner names (the devnet's CCTP-style
// TokenMessenger, which burns on one chain and mints on another), so escrows, bridges and
// risk views run on anvil with realistic token units.
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract TestToken is ERC20, ERC20Burnable, Ownable {
    /// More decimals than this have no real-world counterpart and overflow price maths.
    uint8 public constant MAX_DECIMALS = 18;

    error UnsupportedDecimals(uint8 decimals, uint8 max);

    event MinterSet(address indexed minter, bool allowed);

    mapping(address => bool) public isMinter;

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

    /// Lets `minter` mint (or no longer).
    function setMinter(address minter, bool allowed) external onlyOwner {
        isMinter[minter] = allowed;
        emit MinterSet(minter, allowed);
    }

    /// Creates `amount` base units for `to` (the owner or a minter).
    function mint(address to, uint256 amount) external {
        if (!isMinter[msg.sender]) _checkOwner();
        _mint(to, amount);
    }
}
