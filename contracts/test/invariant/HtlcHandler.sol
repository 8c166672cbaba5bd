// SPDX-License-Identifier: MIT
// The actor forge's invariant runner drives against HashedTimelock: locks (native and
// ERC20) with known secrets, claims with right or wrong preimages, refunds, moves time; books
// every lock and every payout by balance deltas.
pragma solidity 0.8.30;

import {Vm} from "../utils/Vm.sol";
import {HashedTimelock} from "../../src/HashedTimelock.sol";
import {TestToken} from "../../src/TestToken.sol";

contract HtlcHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    HashedTimelock public immutable htlc;
    TestToken public immutable token;
    address public immutable sender;
    address public immutable receiver;

    bytes32[] public ids;
    mapping(bytes32 => bytes32) internal _secret;
    mapping(bytes32 => uint256) public payouts;
    mapping(bytes32 => uint256) public paid;
    mapping(bytes32 => address) public paidTo;

    constructor(HashedTimelock htlc_, TestToken token_) {
        htlc = htlc_;
        token = token_;
        sender = vm.addr(0x5E4D);
        receiver = vm.addr(0x4EC);
    }

    function idCount() external view returns (uint256) {
        return ids.length;
    }

    function lock(uint256 amount, bool erc20, bytes32 secret, uint32 life) external {
        if (ids.length >= 12) return;
        amount = 1 + amount % 100 ether;
        address tok = erc20 ? address(token) : address(0);
        if (erc20) {
            token.mint(sender, amount);
            vm.prank(sender);
            token.approve(address(htlc), amount);
        } else {
            vm.deal(sender, sender.balance + amount);
        }
        // Hashed before the prank: sha256 is a precompile call and would consume it.
        bytes32 hashlock = sha256(abi.encodePacked(secret));
        vm.prank(sender);
        bytes32 id = htlc.lock{value: erc20 ? 0 : amount}(
            receiver, tok, amount, hashlock, uint64(block.timestamp + 1 + life % 2 days)
        );
        ids.push(id);
        _secret[id] = secret;
    }

    function claim(uint256 which, bool rightSecret, address caller) external {
        if (ids.length == 0) return;
        bytes32 id = ids[which % ids.length];
        bytes32 pre = rightSecret ? _secret[id] : keccak256(abi.encode(_secret[id]));
        _settle(id, caller, abi.encodeCall(HashedTimelock.claim, (id, pre)));
    }

    function refund(uint256 which, address caller) external {
        if (ids.length == 0) return;
        bytes32 id = ids[which % ids.length];
        _settle(id, caller, abi.encodeCall(HashedTimelock.refund, (id)));
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + dt % 1 days);
    }

    function _settle(bytes32 id, address caller, bytes memory data) internal {
        address tok = htlc.getLock(id).token;
        uint256 s0 = _bal(tok, sender);
        uint256 r0 = _bal(tok, receiver);
        vm.prank(caller);
        (bool ok,) = address(htlc).call(data);
        uint256 ds = _bal(tok, sender) - s0;
        uint256 dr = _bal(tok, receiver) - r0;
        if (ok && ds + dr > 0) {
            payouts[id]++;
            paid[id] += ds + dr;
            paidTo[id] = dr > 0 ? receiver : sender;
        }
    }

    function _bal(address tok, address who) internal view returns (uint256) {
        return tok == address(0) ? who.balance : token.balanceOf(who);
    }
}
