// SPDX-License-Identifier: MIT
// The actor forge's invariant runner drives against version-2 escrows: creates (sometimes
// naming a party as approver), funds, approves (sometimes with the wrong terms hash),
// releases, refunds, disputes, resolves, hands the arbiter role over, sweeps, force-sends
// stray coin and tokens, and moves time; it books every movement it observes by balance
// deltas, so the invariants can account for every unit of every escrow's asset.
pragma solidity 0.8.30;

import {Vm} from "../utils/Vm.sol";
import {EscrowV2} from "../../src/EscrowV2.sol";
import {EscrowFactoryV2} from "../../src/EscrowFactoryV2.sol";
import {TestToken} from "../../src/TestToken.sol";

contract EscrowV2Handler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant MAX_ESCROWS = 6;

    EscrowFactoryV2 public immutable factory;
    TestToken public immutable token;
    address public immutable payer;
    address public immutable payee;
    address public immutable arbiter;
    address public immutable arbiter2;
    address public immutable outsider;
    address[] internal _approvers;
    address[] internal _actors;

    EscrowV2[] public escrows;
    /// Per escrow, in its asset: what came in (deposit, strays) and what went to whom.
    mapping(EscrowV2 => uint256) public deposited;
    mapping(EscrowV2 => uint256) public strayIn;
    mapping(EscrowV2 => uint256) public toPayee;
    mapping(EscrowV2 => uint256) public toPayer;
    mapping(EscrowV2 => uint256) public payouts; // calls that paid the committed amount
    /// Set if an escrow was ever created with a party among its approvers.
    bool public partyAcceptedAsApprover;
    /// Set if an approve() with a hash other than termsHash() ever succeeded.
    bool public wrongTermsAccepted;
    /// Set if anything left an escrow while its deposit was committed other than by a payout.
    bool public sweptWhileCommitted;
    uint256 public calls;

    constructor(EscrowFactoryV2 factory_, TestToken token_) {
        factory = factory_;
        token = token_;
        payer = vm.addr(0xA11CE);
        payee = vm.addr(0xB0B);
        arbiter = vm.addr(0xA4B);
        arbiter2 = vm.addr(0xA4C);
        outsider = vm.addr(0x0D0);
        _approvers.push(vm.addr(0x1001));
        _approvers.push(vm.addr(0x1002));
        _approvers.push(vm.addr(0x1003));
        _actors.push(payer);
        _actors.push(payee);
        _actors.push(arbiter);
        _actors.push(arbiter2);
        _actors.push(outsider);
        _actors.push(_approvers[0]);
        _actors.push(_approvers[1]);
        _actors.push(_approvers[2]);
    }

    function escrowCount() external view returns (uint256) {
        return escrows.length;
    }

    // ------------------------------------------------------------ actions

    /// `party` 1..3 smuggles payer, payee or arbiter into the approver set.
    function create(uint256 amount, bool erc20, uint8 threshold, uint32 life, uint32 window, uint8 party) external {
        calls++;
        if (escrows.length >= MAX_ESCROWS) return;
        amount = 1 + amount % 1_000 ether;
        uint64 deadline = uint64(block.timestamp + 1 + life % 10 days);
        uint64 w = uint64(1 days + window % 6 days);
        party = party % 8; // mostly honest sets
        address[] memory set = new address[](party >= 1 && party <= 3 ? 4 : 3);
        for (uint256 i = 0; i < 3; ++i) {
            set[i] = _approvers[i];
        }
        if (party == 1) set[3] = payer;
        if (party == 2) set[3] = payee;
        if (party == 3) set[3] = arbiter;
        vm.prank(payer);
        try factory.createEscrow(
            payee, erc20 ? address(token) : address(0), amount, set, 1 + threshold % 3, arbiter, deadline, w
        ) returns (address e) {
            if (set.length == 4) partyAcceptedAsApprover = true;
            escrows.push(EscrowV2(e));
        } catch {}
    }

    function fund(uint256 which, uint256 actorSeed) external {
        calls++;
        EscrowV2 e = _pick(which);
        if (address(e) == address(0)) return;
        address actor = _actor(actorSeed, payer);
        uint256 amt = e.amount();
        uint256 value;
        if (e.token() == address(0)) {
            value = amt;
            vm.deal(actor, actor.balance + amt);
        } else {
            token.mint(actor, amt);
            vm.prank(actor);
            token.approve(address(e), amt);
        }
        uint256 before = _bal(e, address(e));
        vm.prank(actor);
        try e.fund{value: value}() {
            deposited[e] += _bal(e, address(e)) - before;
        } catch {}
    }

    function approve(uint256 which, uint256 actorSeed, bool wrongTerms) external {
        calls++;
        EscrowV2 e = _pick(which);
        if (address(e) == address(0)) return;
        address actor = _actor(actorSeed, _approvers[actorSeed % 3]);
        bytes32 h = wrongTerms && (actorSeed >> 16) % 4 == 0 ? keccak256(abi.encode(actorSeed)) : e.termsHash();
        vm.prank(actor);
        try e.approve(h) {
            if (h != e.termsHash()) wrongTermsAccepted = true;
        } catch {}
    }

    function release(uint256 which, uint256 actorSeed) external {
        calls++;
        EscrowV2 e = _pick(which);
        if (address(e) == address(0)) return;
        _call(e, _actor(actorSeed, outsider), abi.encodeCall(EscrowV2.release, ()));
    }

    function refund(uint256 which, uint256 actorSeed) external {
        calls++;
        EscrowV2 e = _pick(which);
        if (address(e) == address(0)) return;
        // The arbiter's early refund ends escrows fast; keep it rarer so releases happen too.
        address likely = actorSeed % 4 == 0 ? e.arbiter() : payer;
        _call(e, _actor(actorSeed, likely), abi.encodeCall(EscrowV2.refund, ()));
    }

    function dispute(uint256 which, uint256 actorSeed) external {
        calls++;
        EscrowV2 e = _pick(which);
        if (address(e) == address(0) || (actorSeed >> 24) % 3 != 0) return; // rarer, as above
        vm.prank(_actor(actorSeed, actorSeed % 2 == 0 ? payer : payee));
        try e.dispute("invariant") {} catch {}
    }

    function resolve(uint256 which, uint256 actorSeed, bool toPayee_) external {
        calls++;
        EscrowV2 e = _pick(which);
        if (address(e) == address(0)) return;
        _call(e, _actor(actorSeed, e.arbiter()), abi.encodeCall(EscrowV2.resolve, (toPayee_)));
    }

    function transferArbiter(uint256 which, uint256 actorSeed) external {
        calls++;
        EscrowV2 e = _pick(which);
        if (address(e) == address(0)) return;
        address current = e.arbiter();
        address next = current == arbiter ? arbiter2 : arbiter;
        if ((actorSeed >> 16) % 4 == 0) next = _actors[actorSeed % _actors.length]; // often refused
        vm.prank(_actor(actorSeed, current));
        try e.transferArbiter(next) {} catch {}
    }

    function sweep(uint256 which, uint256 actorSeed, bool native) external {
        calls++;
        EscrowV2 e = _pick(which);
        if (address(e) == address(0)) return;
        address tok = native ? address(0) : address(token);
        bool committed = e.state() == EscrowV2.State.Funded || e.state() == EscrowV2.State.Disputed;
        uint256 before = tok == address(0) ? address(e).balance : token.balanceOf(address(e));
        _call(e, _actor(actorSeed, payer), abi.encodeCall(EscrowV2.sweep, (tok)));
        uint256 afterwards = tok == address(0) ? address(e).balance : token.balanceOf(address(e));
        if (committed && afterwards < before) sweptWhileCommitted = true;
    }

    /// Coin force-sent (as by selfdestruct) or tokens transferred straight to the escrow.
    function stray(uint256 which, uint96 amount, bool native) external {
        calls++;
        EscrowV2 e = _pick(which);
        if (address(e) == address(0)) return;
        uint256 amt = 1 + amount % 10 ether;
        if (native) {
            vm.deal(address(e), address(e).balance + amt);
        } else {
            token.mint(address(e), amt);
        }
        if ((e.token() == address(0)) == native) strayIn[e] += amt;
    }

    function warp(uint32 dt) external {
        calls++;
        vm.warp(block.timestamp + dt % 4 days);
    }

    // ------------------------------------------------------------ internals

    /// Calls `data` on `e` as `actor` and books what payer and payee received in e's asset.
    function _call(EscrowV2 e, address actor, bytes memory data) internal {
        uint256 p0 = _bal(e, payer);
        uint256 q0 = _bal(e, payee);
        EscrowV2.State s0 = e.state();
        vm.prank(actor);
        (bool ok,) = address(e).call(data);
        if (!ok) return;
        toPayer[e] += _bal(e, payer) - p0;
        toPayee[e] += _bal(e, payee) - q0;
        if (s0 != e.state() && _terminal(e.state())) payouts[e]++;
    }

    function _terminal(EscrowV2.State s) internal pure returns (bool) {
        return s == EscrowV2.State.Released || s == EscrowV2.State.Refunded || s == EscrowV2.State.Resolved;
    }

    /// Mostly the party that may act (so runs get far), one time in four anybody.
    function _actor(uint256 seed, address likely) internal view returns (address) {
        if ((seed >> 8) % 4 == 0) return _actors[seed % _actors.length];
        return likely;
    }

    function _pick(uint256 which) internal view returns (EscrowV2) {
        if (escrows.length == 0) return EscrowV2(address(0));
        return escrows[which % escrows.length];
    }

    function _bal(EscrowV2 e, address who) internal view returns (uint256) {
        return e.token() == address(0) ? who.balance : token.balanceOf(who);
    }
}
