/* store_bridge.h: the desk database's bridge contracts per chain and bridge transfers
 * (store_bridge.c). Part of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_BRIDGE_H
#define FUSION_STORE_STORE_BRIDGE_H

#include "store/store_core.h"

/* ---- bridges (store_bridge.c): CCTP-style contracts per chain and transfers ---- */

#define STORE_BRIDGE_MSG_MAX 512 /* a CCTP burn message is 248 bytes */
#define STORE_BRIDGE_ATT_MAX 520 /* up to 8 attester signatures of 65 bytes */
#define STORE_BRIDGE_RAW_MAX 2048

/* What a chain bridges USDC through (recorded by the devnet, or by an operator). */
typedef struct store_bridge_cctp {
    uint64_t chain_id;
    uint32_t domain;
    addr token_messenger, message_transmitter, usdc;
    char attestation_url[256]; /* "" : none configured */
} store_bridge_cctp;

int store_bridge_cctp_put(store *s, const store_bridge_cctp *c, err *e) STORE_WUR;
int store_bridge_cctp_get(store *s, uint64_t chain_id, store_bridge_cctp *out, bool *found,
                          err *e) STORE_WUR;
/* Sets the attestation service's base URL of every chain. */
int store_bridge_cctp_set_url(store *s, const char *url, err *e) STORE_WUR;

/* One transfer: burn on src_chain, attestation, mint on dst_chain. States: new (nothing
 * signed yet), sent, attested, delivered, failed, expired (docs/bridges.md). */
typedef struct store_bridge {
    int64_t id;
    char protocol[8];
    char state[16];
    uint64_t src_chain, dst_chain;
    uint32_t src_domain, dst_domain;
    addr sender, recipient, token_src, token_dst;
    u256 amount, fee;
    char operator_name[STORE_NAME_MAX];
    bool has_burn_tx, has_mint_tx, has_message;
    uint8_t burn_tx[32], mint_tx[32], message_hash[32];
    uint64_t burn_block, mint_block;
    uint64_t dst_from_block; /* CCIP: the destination's head before the send (0: unknown) */
    uint8_t message[STORE_BRIDGE_MSG_MAX];
    size_t message_len;
    uint8_t attestation[STORE_BRIDGE_ATT_MAX];
    size_t attestation_len;
    char pending_action[24]; /* "" when no transaction is in flight */
    uint64_t pending_chain;
    uint8_t pending_hash[32];
    uint8_t pending_raw[STORE_BRIDGE_RAW_MAX];
    size_t pending_raw_len;
    char note[200];
    int64_t created_at, updated_at;
} store_bridge;

int store_bridge_add(store *s, const store_bridge *b, int64_t *id, err *e) STORE_WUR;
/* Replaces every mutable field of transfer b->id. */
int store_bridge_put(store *s, const store_bridge *b, err *e) STORE_WUR;
int store_bridge_get(store *s, int64_t id, store_bridge *out, bool *found, err *e) STORE_WUR;
/* Every transfer by id; *out malloc'ed. */
int store_bridge_list(store *s, store_bridge **out, size_t *n, err *e) STORE_WUR;

#endif
