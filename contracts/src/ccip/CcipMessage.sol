// SPDX-License-Identifier: MIT
// The message a CCIP (version 1.4) on-ramp sends and its id, as Chainlink's Internal.sol
// defines them (written here, not imported: Internal.sol pulls in BUSL-licensed code):
//   id = keccak256(abi.encode(bytes32(0), metadataHash,
//          keccak256(abi.encode(sender, receiver, sequenceNumber, gasLimit, strict, nonce,
//                               feeToken, feeTokenAmount)),
//          keccak256(data), keccak256(abi.encode(tokenAmounts)),
//          keccak256(abi.encode(sourceTokenData))))
//   metadataHash = keccak256(abi.encode(keccak256("EVM2EVMMessageHashV2"),
//                                       sourceChainSelector, destChainSelector, onRamp))
// The metadata hash ties an id to one lane (source, destination, on-ramp), so the same
// fields on another lane give another id. See docs/bridges.md.
pragma solidity 0.8.30;

import {Client} from "@chainlink/contracts-ccip/src/v0.8/ccip/libraries/Client.sol";

library CcipMessage {
    bytes32 internal constant EVM_2_EVM_MESSAGE_HASH = keccak256("EVM2EVMMessageHashV2");

    /// Field for field Chainlink's Internal.EVM2EVMMessage, so CCIPSendRequested has the
    /// same ABI as on a real on-ramp.
    struct EVM2EVMMessage {
        uint64 sourceChainSelector;
        address sender;
        address receiver;
        uint64 sequenceNumber;
        uint256 gasLimit;
        bool strict;
        uint64 nonce;
        address feeToken;
        uint256 feeTokenAmount;
        bytes data;
        Client.EVMTokenAmount[] tokenAmounts;
        bytes[] sourceTokenData;
        bytes32 messageId;
    }

    /// Field for field Chainlink's Internal.MessageExecutionState.
    enum MessageExecutionState {
        UNTOUCHED,
        IN_PROGRESS,
        SUCCESS,
        FAILURE
    }

    function metadataHash(uint64 sourceChainSelector, uint64 destChainSelector, address onRamp)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(EVM_2_EVM_MESSAGE_HASH, sourceChainSelector, destChainSelector, onRamp));
    }

    function hash(EVM2EVMMessage memory m, bytes32 metadata) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                bytes32(0),
                metadata,
                keccak256(
                    abi.encode(
                        m.sender, m.receiver, m.sequenceNumber, m.gasLimit, m.strict, m.nonce, m.feeToken, m.feeTokenAmount
                    )
                ),
                keccak256(m.data),
                keccak256(abi.encode(m.tokenAmounts)),
                keccak256(abi.encode(m.sourceTokenData))
            )
        );
    }
}
