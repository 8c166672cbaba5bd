// SPDX-License-Identifier: MIT
// The actor forge's invariant runner drives: creates, funds, approves, releases, refunds,
// disputes and resolves escrows (native and ERC20) as random parties at random times, and
// keeps ghost books of every deposit and every payout it observes by balance deltas.
pragma solidity 0.8.30;

import {Vm} from "../utils/Vm.sol";
import {Escrow} from "../../src/Escrow.sol";
import {EscrowFactory} from "../../src/EscrowFactory.sol";
import {TestToken} from "../../src/TestToken.sol";

contract EscrowHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 internal constant MAX_ESCROWS = 6;

    EscrowFactory public immutable factory;
    TestToken public immutable token;
    address public immutable payer;
    address public immutable payee;
    address public immutable arbiter;
    address public immutable outsider;
    address[] internal _approvers;
    address[] internal _actors;

    Escrow[] public escrows;
    mapping(Escrow => uint256) public deposited; // observed into the escrow
    mapping(Escrow => uint256) public paidOut; // observed out of it to payer or payee
    mapping(Escrow => uint256) public payouts; // number of calls that paid anything
    /// Set if a call by the payer to approve() ever succeeded.
    bool public payerApprovalSucceeded;
    /// Set if an escrow was ever created with the payer among its approvers.
    bool public payerAcceptedAsApprover;
    uint256 public calls;

    constructor(EscrowFactory factory_, TestToken token_) {
        factory = factory_;
        token = token_;
        payer = vm.addr(0xA11CE);
        payee = vm.addr(0xB0B);
        arbiter = vm.addr(0xA4B);
        outsider = vm.addr(0x0D0);
        _approvers.push(vm.addr(0x1001));
        _approvers.push(vm.addr(0x1002));
        _approvers.push(vm.addr(0x1003));
        _actors.push(payer);
        _actors.push(payee);
        _actors.push(arbiter);
        _actors.push(outsider);
        _actors.push(_approvers[0]);
        _actors.push(_approvers[1]);
        _actors.push(_approvers[2]);
    }

    function escrowCount() external view returns (uint256) {
        return escrows.length;
    }

    function approverList() external view returns (address[] memory) {
        return _approvers;
    }

    // ------------------------------------------------------------ actions

    /// Sometimes (`withPayer`) tries to smuggle the payer into the approver set.
    function create(uint256 amount, bool erc20, uint8 threshold, uint32 life, bool withPayer) external {
        calls++;
        if (escrows.length >= MAX_ESCROWS) return;
        amount = 1 + amount % 1_000 ether;
        uint64 deadline = uint64(block.timestamp + 1 + life % 10 days);
        address[] memory set = new address[](withPayer ? 4 : 3);
        for (uint256 i = 0; i < 3; ++i) {
            set[i] = _approvers[i];
        }
        if (withPayer) set[3] = payer;
        vm.prank(payer);
        try factory.createEscrow(
            payee, erc20 ? address(token) : address(0), amount, set, 1 + threshold % 3, arbiter, deadline
        ) returns (address e) {
            if (withPayer) payerAcceptedAsApprover = true;
            escrows.push(Escrow(e));
        } catch {}
    }

    function fund(uint256 which, uint256 actorSeed) external {
        calls++;
        Escrow e = _pick(which);
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

    function approve(uint256 which, uint256 actorSeed) external {
        calls++;
        Escrow e = _pick(which);
        if (address(e) == address(0)) return;
        address actor = _actor(actorSeed, _approvers[actorSeed % 3]);
        if ((actorSeed >> 16) % 8 == 0) actor = e.payer(); // the payer keeps trying
        vm.prank(actor);
        try e.approve() {
            if (actor == e.payer()) payerApprovalSucceeded = true;
        } catch {}
    }

    function release(uint256 which, uint256 actorSeed) external {
        calls++;
        Escrow e = _pick(which);
        if (address(e) == address(0)) return;
        _payingCall(e, _actor(actorSeed, outsider), abi.encodeCall(Escrow.release, ()));
    }

    function refund(uint256 which, uint256 actorSeed) external {
        calls++;
        Escrow e = _pick(which);
        if (address(e) == address(0)) return;
        // The arbiter's early refund ends escrows fast; keep it rarer so releases happen too.
        _payingCall(e, _actor(actorSeed, actorSeed % 4 == 0 ? arbiter : payer), abi.encodeCall(Escrow.refund, ()));
    }

    function dispute(uint256 which, uint256 actorSeed) external {
        calls++;
        Escrow e = _pick(which);
        if (address(e) == address(0) || (actorSeed >> 24) % 3 != 0) return; // rarer, as above
        vm.prank(_actor(actorSeed, actorSeed % 2 == 0 ? payer : payee));
        try e.dispute("invariant") {} catch {}
    }

    function resolve(uint256 which, uint256 actorSeed, bool toPayee) external {
        calls++;
        Escrow e = _pick(which);
        if (address(e) == address(0)) return;
        _payingCall(e, _actor(actorSeed, arbiter), abi.encodeCall(Escrow.resolve, (toPayee)));
    }

    function warp(uint32 dt) external {
        calls++;
        vm.warp(block.timestamp + dt % 4 days);
    }

    // ------------------------------------------------------------ internals

    /// Calls `data` on `e` as `actor` and books what payer and payee received.
    function _payingCall(Escrow e, address actor, bytes memory data) internal {
        uint256 before = _bal(e, e.payer()) + _bal(e, e.payee());
        vm.prank(actor);
        (bool ok,) = address(e).call(data);
        uint256 gained = _bal(e, e.payer()) + _bal(e, e.payee()) - before;
        if (ok && gained > 0) {
            paidOut[e] += gained;
            payouts[e]++;
        }
    }

    /// Mostly the party that may act (so runs get far), one time in four anybody. Seeds are
    /// read bytewise: byte 0 picks among parties, byte 1 chooses "anybody", byte 2 lets the
    /// payer try to approve, byte 3 gates disputes.
    function _actor(uint256 seed, address likely) internal view returns (address) {
        if ((seed >> 8) % 4 == 0) return _actors[seed % _actors.length];
        return likely;
    }

    function _pick(uint256 which) internal view returns (Escrow) {
        if (escrows.length == 0) return Escrow(address(0));
        return escrows[which % escrows.length];
    }

    function _bal(Escrow e, address who) internal view returns (uint256) {
        return e.token() == address(0) ? who.balance : token.balanceOf(who);
    }
}
