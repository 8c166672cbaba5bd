/* store_xswap.h: the desk database's cross-chain swaps (store_xswap.c). Part of the
 * store/store.h facade. */
#ifndef FUSION_STORE_STORE_XSWAP_H
#define FUSION_STORE_STORE_XSWAP_H

#include "store/store_core.h"

/* ---- cross-chain swaps (store_xswap.c) ---- */

#define STORE_XSWAP_RAW_MAX 2048
#define STORE_XSWAP_SEALED_MAX 128

/* One HTLC swap: the initiator gives amount_x of token_x on chain X, the counterparty
 * amount_y of token_y on chain Y (token zero: native coin). State names: docs/cross-chain.md. */
typedef struct store_xswap {
    int64_t id;
    char state[16];
    uint64_t chain_x, chain_y;
    addr htlc_x, htlc_y, token_x, token_y;
    u256 amount_x, amount_y;
    addr initiator, counterparty;
    uint8_t hashlock[32];
    /* The initiator's secret, sealed (never in clear; xswap/xswap.c, docs/cross-chain.md):
     * version || nonce || XChaCha20-Poly1305 ciphertext; 0 bytes: none. */
    uint8_t sealed_secret[STORE_XSWAP_SEALED_MAX];
    size_t sealed_secret_len;
    uint64_t t1, t2, margin;     /* unix seconds; t2 0 until the counterparty locked */
    bool has_lock_x, has_lock_y;
    uint8_t lock_x[32], lock_y[32];
    uint64_t lock_x_block, lock_y_block;
    uint64_t y_from_block;       /* Y's head when the swap began: where to look for its lock */
    char pending_action[16];     /* "" when no transaction is in flight */
    uint64_t pending_chain;
    uint8_t pending_hash[32];
    uint8_t pending_raw[STORE_XSWAP_RAW_MAX];
    size_t pending_raw_len;
    char note[200];
    int64_t created_at, updated_at;
} store_xswap;

/* Inserts (x->id is ignored); *id receives the new id. */
int store_xswap_add(store *s, const store_xswap *x, int64_t *id, err *e) STORE_WUR;
/* Replaces every mutable field of swap x->id (durable: call inside store_begin_durable
 * when a signed transaction is recorded). */
int store_xswap_put(store *s, const store_xswap *x, err *e) STORE_WUR;
int store_xswap_get(store *s, int64_t id, store_xswap *out, bool *found, err *e) STORE_WUR;
/* Every swap by id; *out malloc'ed. */
int store_xswap_list(store *s, store_xswap **out, size_t *n, err *e) STORE_WUR;
/* The lowest id of a swap other than except_id recorded with this hashlock into *other
 * (0: none); one revealed preimage opens every lock of a hashlock. */
int store_xswap_hashlock_other(store *s, const uint8_t hashlock[32], int64_t except_id,
                               int64_t *other, err *e) STORE_WUR;

#endif
