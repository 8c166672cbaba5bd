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

/* ---- the service: the desk's CCIP-style route (ccip_route.c) ---- */

#include "bridge/bridge.h"

/* Prices a transfer of amount (human units) of asset (a token symbol the desk knows on
 * both chains) from src to dst over the routers of the desk settings ccip_router:CHAIN_ID:
 * the native fee from the source router's getFee. ERR_NOT_FOUND without a route. */
int bridge_ccip_quote_get(store *db, const char *src, const char *dst, const char *asset,
                          const char *amount, bridge_quote *q, err *e) FUSION_WUR;
/* Approves the router when needed and calls ccipSend (value: the quoted fee) through the
 * desk (the recipient screened before anything is signed); *id: the new transfer, then
 * advanced. */
int bridge_ccip_send(const bridge_env *env, const bridge_quote *q, const addr *recipient,
                     int64_t *id, err *e) FUSION_WUR;
/* Finishes or re-sends the ccipSend in flight (its receipt, once found, written to its
 * outbound record through d's store: mined or failed), reads its message (checked against
 * the transfer, id recomputed: committed) and looks for the destination's
 * ExecutionStateChanged for the id (delivered). d: the desk the transfer's operator acts
 * through (opened and wired by the caller). */
int bridge_ccip_advance(const bridge_env *env, desk *d, store_bridge *b, err *e) FUSION_WUR;
