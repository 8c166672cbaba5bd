// SPDX-License-Identifier: MIT
// Unit tests of EscrowFactory: clones are real EIP-1167 proxies, the registry, deterministic
// addresses, and that nobody can take a payer's deterministic address first.
pragma solidity 0.8.30;

import {Errors} from "@openzeppelin/contracts/utils/Errors.sol";
import {EscrowFixture} from "./utils/EscrowFixture.sol";
import {Escrow} from "../src/Escrow.sol";
import {EscrowFactory} from "../src/EscrowFactory.sol";

contract EscrowFactoryTest is EscrowFixture {
    bytes32 internal constant SALT = keccak256("deal-2024-001");

    function test_cloneIsEip1167ProxyOfImplementation() public {
        Escrow e = newNative();
        // The 45-byte EIP-1167 runtime, written out from the EIP rather than from OZ's code.
        bytes memory want = abi.encodePacked(
            hex"363d3d373d3d3d363d73", factory.implementation(), hex"5af43d82803e903d91602b57fd5bf3"
        );
        assertEq(address(e).code, want, "EIP-1167 runtime");
    }

    function test_registry() public {
        assertEq(factory.escrowCount(), 0, "empty");
        Escrow e1 = newNative();
        Escrow e2 = newUsdc();
        assertEq(factory.escrowCount(), 2, "count");
        assertEq(factory.escrowAt(0), address(e1), "first");
        assertEq(factory.escrowAt(1), address(e2), "second");
        assertTrue(factory.isEscrow(address(e1)) && factory.isEscrow(address(e2)), "registered");
        assertFalse(factory.isEscrow(factory.implementation()), "implementation is not an escrow");
        assertFalse(factory.isEscrow(outsider), "random address");
    }

    function test_escrowAt_revertsOutOfRange() public {
        newNative();
        vm.expectRevert(abi.encodeWithSelector(EscrowFactory.IndexOutOfRange.selector, 1, 1));
        factory.escrowAt(1);
    }

    function test_createFailureLeavesNoTrace() public {
        vm.prank(payer);
        vm.expectRevert(err(Escrow.ZeroAmount.selector));
        factory.createEscrow(payee, address(0), 0, approvers3(), 2, arbiter, deadline);
        assertEq(factory.escrowCount(), 0, "nothing registered");
    }

    function test_deterministic_matchesPrediction() public {
        address predicted = factory.predictEscrowAddress(payer, SALT);
        vm.expectEmit(true, true, true, true, address(factory));
        emit EscrowFactory.EscrowCreated(predicted, payer, payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline);
        vm.prank(payer);
        address e = factory.createEscrowDeterministic(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, SALT);
        assertEq(e, predicted, "address");
        assertEq(Escrow(e).payer(), payer, "payer");
        assertTrue(factory.isEscrow(e), "registered");
    }

    function test_deterministic_predictionIsCreate2OfSenderBoundSalt() public view {
        // Independent recomputation of CREATE2: keccak(0xff ++ factory ++ salt ++ keccak(initcode)).
        bytes memory initcode = abi.encodePacked(
            hex"3d602d80600a3d3981f3363d3d373d3d3d363d73",
            factory.implementation(),
            hex"5af43d82803e903d91602b57fd5bf3"
        );
        bytes32 salt = keccak256(abi.encode(payer, SALT));
        address want = address(
            uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(factory), salt, keccak256(initcode)))))
        );
        assertEq(factory.predictEscrowAddress(payer, SALT), want, "CREATE2 address");
    }

    function test_deterministic_frontRunnerCannotTakeTheAddress() public {
        address predicted = factory.predictEscrowAddress(payer, SALT);
        // An attacker sees the payer's pending transaction and sends the same salt first,
        // even with terms of its own: it lands elsewhere, because the salt is bound to msg.sender.
        vm.prank(outsider);
        address squat = factory.createEscrowDeterministic(payee, address(0), 1, approvers3(), 1, arbiter, deadline, SALT);
        assertTrue(squat != predicted, "attacker got a different address");
        vm.prank(payer);
        address e = factory.createEscrowDeterministic(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, SALT);
        assertEq(e, predicted, "payer still gets its address");
        assertEq(Escrow(e).amount(), AMOUNT, "with the payer's terms");
    }

    function test_deterministic_revertsSaltReuse() public {
        vm.prank(payer);
        factory.createEscrowDeterministic(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, SALT);
        vm.prank(payer);
        vm.expectRevert(err(Errors.FailedDeployment.selector));
        factory.createEscrowDeterministic(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, SALT);
    }

    function test_deterministic_invalidTermsRevert() public {
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(Escrow.InvalidThreshold.selector, 0, 3));
        factory.createEscrowDeterministic(payee, address(0), AMOUNT, approvers3(), 0, arbiter, deadline, SALT);
        // The failed attempt did not burn the salt.
        vm.prank(payer);
        address e = factory.createEscrowDeterministic(payee, address(0), AMOUNT, approvers3(), 2, arbiter, deadline, SALT);
        assertEq(e, factory.predictEscrowAddress(payer, SALT), "salt still usable");
    }

    function test_clonesAreIndependent() public {
        Escrow e1 = funded();
        Escrow e2 = newNative();
        approveBy(e1, a1);
        assertEq(e1.approvals(), 1, "e1");
        assertEq(e2.approvals(), 0, "e2 untouched");
        assertEq(stateOf(e2), uint256(Escrow.State.Created), "e2 state");
    }
}
