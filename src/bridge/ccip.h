/* ccip.h: the pure half of the CCIP-style route: the message a CCIP (1.4) on-ramp emits in
 * CCIPSendRequested (Chainlink's Internal.EVM2EVMMessage, ABI-encoded) and its message id,
 * the hash the off-ramp checks before it executes:
 *   id = keccak256(abi.encode(bytes32(0), metadataHash,
 *          keccak256(abi.encode(sender, receiver, sequenceNumber, gasLimit, strict, nonce,
 *                               feeToken, feeTokenAmount)),
 *          keccak256(data), keccak256(abi.encode(tokenAmounts)),
 *          keccak256(abi.encode(sourceTokenData))))
 *   metadataHash = keccak256(abi.encode(keccak256("EVM2EVMMessageHashV2"),
 *                                       sourceChainSelector, destChainSelector, onRamp))
 * No I/O. See docs/bridges.md. */
#ifndef FUSION_BRIDGE_CCIP_H
#define FUSION_BRIDGE_CCIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"

/* The router refuses more (CcipRouter.MAX_TOKENS); the desk sends one. */
#define BRIDGE_CCIP_MAX_TOKENS 5
/* The desk's messages carry no data or a short note; a longer payload is refused. */
#define BRIDGE_CCIP_DATA_MAX 1024

typedef struct bridge_ccip_msg {
    uint64_t src_selector, seq, nonce;
    addr sender, receiver, fee_token;
    u256 gas_limit, fee_amount;
    bool strict;
    uint8_t data[BRIDGE_CCIP_DATA_MAX];
    size_t data_len;
    size_t n_tokens;
    addr tokens[BRIDGE_CCIP_MAX_TOKENS];
    u256 amounts[BRIDGE_CCIP_MAX_TOKENS];
    uint8_t id[32]; /* the id the on-ramp put in the message */
} bridge_ccip_msg;

/* Decodes CCIPSendRequested's data (abi.encode(message)) strictly: canonical offsets and
 * padding, addresses with 12 zero bytes, one source-token-data entry per token, each empty
 * (the devnet's lock-release pool returns none). ERR_INVALID on anything else. */
int bridge_ccip_msg_parse(bridge_ccip_msg *out, const uint8_t *d, size_t len, err *e) FUSION_WUR;

/* The lane's metadata hash: source and destination selectors and the on-ramp. */
void bridge_ccip_metadata_hash(uint8_t out[32], uint64_t src_selector, uint64_t dst_selector,
                               const addr *on_ramp);

/* The message id of m on the lane whose metadata hash is meta (CCIP 1.4's scheme). */
void bridge_ccip_message_id(uint8_t out[32], const bridge_ccip_msg *m, const uint8_t meta[32]);

#endif
