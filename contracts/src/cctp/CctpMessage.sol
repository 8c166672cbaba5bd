// SPDX-License-Identifier: MIT
// The byte layout of a CCTP (version 1) message and of its burn-message body, as Circle's
// Message.sol and BurnMessage.sol define them (written here, not copied):
//   message: version u32 | sourceDomain u32 | destinationDomain u32 | nonce u64 |
//            sender b32 | recipient b32 | destinationCaller b32 | messageBody
//   body:    version u32 | burnToken b32 | mintRecipient b32 | amount u256 | messageSender b32
pragma solidity 0.8.30;

library CctpMessage {
    uint256 internal constant HEADER_LEN = 116;
    uint256 internal constant BURN_BODY_LEN = 132;

    function format(
        uint32 version,
        uint32 sourceDomain,
        uint32 destinationDomain,
        uint64 nonce,
        bytes32 sender,
        bytes32 recipient,
        bytes32 destinationCaller,
        bytes memory messageBody
    ) internal pure returns (bytes memory) {
        return abi.encodePacked(
            version, sourceDomain, destinationDomain, nonce, sender, recipient, destinationCaller, messageBody
        );
    }

    function version(bytes calldata m) internal pure returns (uint32) {
        return uint32(bytes4(m[0:4]));
    }

    function sourceDomain(bytes calldata m) internal pure returns (uint32) {
        return uint32(bytes4(m[4:8]));
    }

    function destinationDomain(bytes calldata m) internal pure returns (uint32) {
        return uint32(bytes4(m[8:12]));
    }

    function nonce(bytes calldata m) internal pure returns (uint64) {
        return uint64(bytes8(m[12:20]));
    }

    function sender(bytes calldata m) internal pure returns (bytes32) {
        return bytes32(m[20:52]);
    }

    function recipient(bytes calldata m) internal pure returns (bytes32) {
        return bytes32(m[52:84]);
    }

    function destinationCaller(bytes calldata m) internal pure returns (bytes32) {
        return bytes32(m[84:116]);
    }

    function body(bytes calldata m) internal pure returns (bytes calldata) {
        return m[116:];
    }

    function toBytes32(address a) internal pure returns (bytes32) {
        return bytes32(uint256(uint160(a)));
    }

    /// An address from its 32-byte form; false when the upper 12 bytes are not zero.
    function toAddress(bytes32 b) internal pure returns (address a, bool ok) {
        ok = uint256(b) >> 160 == 0;
        a = address(uint160(uint256(b)));
    }
}
