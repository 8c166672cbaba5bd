// SPDX-License-Identifier: MIT
// Tests of TestToken: configurable decimals (6, 8, 18), owner-only minting, plain ERC20.
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {TestBase} from "./utils/TestBase.sol";
import {TestToken} from "../src/TestToken.sol";

contract TestTokenTest is TestBase {
    function test_decimals() public {
        uint8[4] memory ds = [uint8(0), 6, 8, 18];
        for (uint256 i = 0; i < ds.length; ++i) {
            TestToken t = new TestToken("T", "T", ds[i]);
            assertEq(uint256(t.decimals()), uint256(ds[i]), "decimals");
        }
    }

    function test_metadata() public {
        TestToken t = new TestToken("USD Coin", "USDC", 6);
        assertEq(t.name(), "USD Coin", "name");
        assertEq(t.symbol(), "USDC", "symbol");
        assertEq(t.totalSupply(), 0, "no premint");
    }

    function test_revertsTooManyDecimals() public {
        vm.expectRevert(abi.encodeWithSelector(TestToken.UnsupportedDecimals.selector, uint8(19), uint8(18)));
        new TestToken("T", "T", 19);
    }

    function test_ownerMints() public {
        TestToken t = new TestToken("Wrapped BTC", "WBTC", 8);
        address holder = makeAddr("holder");
        t.mint(holder, 21e8);
        assertEq(t.balanceOf(holder), 21e8, "balance");
        assertEq(t.totalSupply(), 21e8, "supply");
        vm.prank(holder);
        t.transfer(address(this), 1e8);
        assertEq(t.balanceOf(address(this)), 1e8, "transfer");
    }

    function test_mint_revertsForNonOwner() public {
        TestToken t = new TestToken("T", "T", 18);
        address mallory = makeAddr("mallory");
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, mallory));
        t.mint(mallory, 1);
    }
}
