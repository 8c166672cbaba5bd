// SPDX-License-Identifier: MIT
// Fuzz test of EscrowV2's log format: random action sequences (including arbiter
// hand-overs, stray coin and sweeps, disputes that outlive their window) by random actors,
// then the escrow is rebuilt from the factory's and the escrow's logs alone and compared
// with the contract's state and the balances. Any event the projection does not know fails.
pragma solidity 0.8.30;

import {Vm} from "./utils/Vm.sol";
import {EscrowV2Fixture} from "./utils/EscrowV2Fixture.sol";
import {EscrowV2} from "../src/EscrowV2.sol";
import {EscrowFactoryV2} from "../src/EscrowFactoryV2.sol";

contract EscrowV2FuzzTest is EscrowV2Fixture {
    struct Projected {
        bool created;
        address payer;
        address payee;
        address token;
        uint256 amount;
        address arbiter;
        uint64 deadline;
        uint64 window;
        bytes32 termsHash;
        uint256 state;
        uint256 approvals;
        uint256 deposited;
        uint256 paidToPayee;
        uint256 paidToPayer;
        uint256 sweptOfAsset;
    }

    error UnknownEscrowEvent(bytes32 topic0);

    function _project(Vm.Log[] memory logs, address e) internal view returns (Projected memory p) {
        for (uint256 i = 0; i < logs.length; ++i) {
            Vm.Log memory l = logs[i];
            bytes32 t0 = l.topics[0];
            if (l.emitter == address(factory) && t0 == EscrowFactoryV2.EscrowCreated.selector) {
                if (address(uint160(uint256(l.topics[1]))) != e) continue;
                p.created = true;
                p.payer = address(uint160(uint256(l.topics[2])));
                p.payee = address(uint160(uint256(l.topics[3])));
                (p.token, p.amount,,, p.arbiter, p.deadline, p.window, p.termsHash) =
                    abi.decode(l.data, (address, uint256, address[], uint256, address, uint64, uint64, bytes32));
                p.state = uint256(EscrowV2.State.Created);
            } else if (l.emitter == e) {
                if (t0 == EscrowV2.Funded.selector) {
                    p.deposited += abi.decode(l.data, (uint256));
                    p.state = uint256(EscrowV2.State.Funded);
                } else if (t0 == EscrowV2.Approved.selector) {
                    p.approvals = abi.decode(l.data, (uint256));
                } else if (t0 == EscrowV2.Released.selector) {
                    p.paidToPayee += abi.decode(l.data, (uint256));
                    p.state = uint256(EscrowV2.State.Released);
                } else if (t0 == EscrowV2.Refunded.selector) {
                    p.paidToPayer += abi.decode(l.data, (uint256));
                    p.state = uint256(EscrowV2.State.Refunded);
                } else if (t0 == EscrowV2.Disputed.selector) {
                    p.state = uint256(EscrowV2.State.Disputed);
                } else if (t0 == EscrowV2.Resolved.selector) {
                    (bool toPayee, uint256 amt) = abi.decode(l.data, (bool, uint256));
                    if (toPayee) p.paidToPayee += amt;
                    else p.paidToPayer += amt;
                    p.state = uint256(EscrowV2.State.Resolved);
                } else if (t0 == EscrowV2.ArbiterChanged.selector) {
                    p.arbiter = address(uint160(uint256(l.topics[2])));
                } else if (t0 == EscrowV2.Swept.selector) {
                    if (address(uint160(uint256(l.topics[1]))) == p.token) {
                        p.sweptOfAsset += abi.decode(l.data, (uint256));
                    }
                } else {
                    revert UnknownEscrowEvent(t0);
                }
            }
        }
    }

    function testFuzz_eventsAloneRebuildState(uint256 seed, bool erc20) public {
        vm.recordLogs();
        EscrowV2 e = erc20 ? newUsdc() : newNative();
        vm.prank(payer);
        usdc.approve(address(e), type(uint256).max);
        uint256 payeeBefore = _balance(e, payee);
        uint256 payerBefore = _balance(e, payer);
        uint256 strayIn;
        address arbiter2 = makeAddr("arbiter2");
        address[8] memory who = [payer, payee, arbiter, arbiter2, a1, a2, a3, outsider];
        for (uint256 i = 0; i < 20; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 op = (r >> 8) % 11;
            if (op == 8) {
                vm.warp(block.timestamp + ((r >> 16) % 5 days));
                continue;
            }
            if (op == 9) {
                uint256 amt = 1 + (r >> 16) % 1e6;
                if (erc20) usdc.mint(address(e), amt);
                else vm.deal(address(e), address(e).balance + amt);
                strayIn += amt;
                continue;
            }
            address actor = (r >> 32) % 4 == 0 ? who[r % 8] : _likelyActor(e, op, r >> 40);
            bytes memory data;
            uint256 value;
            if (op == 0) {
                data = abi.encodeCall(EscrowV2.fund, ());
                value = erc20 ? 0 : AMOUNT;
            } else if (op == 1 || op == 2) {
                bytes32 h = (r >> 48) % 5 == 0 ? bytes32(r) : e.termsHash();
                data = abi.encodeCall(EscrowV2.approve, (h));
            } else if (op == 3) {
                data = abi.encodeCall(EscrowV2.release, ());
            } else if (op == 4) {
                data = abi.encodeCall(EscrowV2.refund, ());
            } else if (op == 5) {
                data = abi.encodeCall(EscrowV2.dispute, ("fuzz"));
            } else if (op == 6) {
                data = abi.encodeCall(EscrowV2.resolve, (((r >> 24) & 1) == 1));
            } else if (op == 7) {
                data = abi.encodeCall(EscrowV2.transferArbiter, (e.arbiter() == arbiter ? arbiter2 : arbiter));
            } else {
                data = abi.encodeCall(EscrowV2.sweep, (erc20 ? address(usdc) : address(0)));
            }
            vm.prank(actor);
            (bool ok,) = address(e).call{value: value}(data);
            ok; // failures are part of the game: they must leave no trace in state or logs
        }
        Projected memory p = _project(vm.getRecordedLogs(), address(e));
        assertTrue(p.created, "created");
        assertEq(p.state, uint256(e.state()), "state from logs = state on chain");
        assertEq(p.approvals, e.approvals(), "approvals");
        assertEq(p.arbiter, e.arbiter(), "current arbiter");
        assertEq(p.termsHash, e.termsHash(), "terms hash");
        assertEq(p.payer, e.payer(), "payer");
        assertEq(p.amount, e.amount(), "amount");
        assertEq(uint256(p.window), uint256(e.disputeWindow()), "window");
        assertEq(_balance(e, payee) - payeeBefore, p.paidToPayee, "payee received per events");
        assertEq(
            _balance(e, payer) + p.deposited, payerBefore + p.paidToPayer + p.sweptOfAsset, "payer per events"
        );
        assertEq(_held(e), p.deposited + strayIn - p.paidToPayee - p.paidToPayer - p.sweptOfAsset, "held per events");
    }

    function _likelyActor(EscrowV2 e, uint256 op, uint256 r) internal view returns (address) {
        if (op == 0 || op == 10) return payer;
        if (op == 1 || op == 2) return [a1, a2, a3][r % 3];
        if (op == 3) return outsider;
        if (op == 4) return r % 2 == 0 ? payer : e.arbiter();
        if (op == 5) return r % 2 == 0 ? payer : payee;
        return e.arbiter();
    }

    function _balance(EscrowV2 e, address who) internal view returns (uint256) {
        return e.token() == address(0) ? who.balance : usdc.balanceOf(who);
    }

    function _held(EscrowV2 e) internal view returns (uint256) {
        return _balance(e, address(e));
    }
}
