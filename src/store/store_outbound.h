/* store_outbound.h: the desk database's outbound transactions (store_outbound.c). Part of the
 * store/store.h facade. */
#ifndef FUSION_STORE_STORE_OUTBOUND_H
#define FUSION_STORE_STORE_OUTBOUND_H

#include "store/store_core.h"

/* ---- outbound transactions (store_outbound.c) ---- */

typedef enum {
    OUTBOUND_PENDING, /* built and signed, not yet sent */
    OUTBOUND_SENT,
    OUTBOUND_MINED,
    OUTBOUND_CONFIRMED,
    OUTBOUND_FAILED,
    OUTBOUND_DROPPED,
    OUTBOUND_REPLACED,
} outbound_state;

typedef struct store_outbound {
    int64_t id;
    uint64_t chain_id;
    addr from;
    uint64_t nonce;
    uint8_t hash[32];
    const uint8_t *raw; /* signed raw bytes (borrowed on write) */
    size_t raw_len;
    outbound_state state;
    bool has_escrow;
    addr escrow;          /* the escrow this action is about */
    char action[32];      /* "create", "fund", "approve", ... */
    uint64_t mined_block; /* 0 when not mined */
    bool reorged;         /* a chain event it relied on was rolled back */
    int64_t created_at;
    int64_t last_seen;
} store_outbound;

const char *outbound_state_str(outbound_state st);

/* Inserts; *id_out (may be NULL) receives the row id. */
int store_outbound_add(store *s, const store_outbound *o, int64_t *id_out, err *e) STORE_WUR;
int store_outbound_set_state(store *s, int64_t id, outbound_state st, uint64_t mined_block,
                             int64_t seen_at, err *e) STORE_WUR;
/* Flags transactions that relied on rolled-back events: those about one of the
 * escrows, or mined above the fork block. Returns how many were flagged. */
int store_outbound_flag_reorged(store *s, uint64_t chain_id, uint64_t fork_block,
                                const addr *escrows, size_t n, size_t *flagged, err *e) STORE_WUR;
/* A chain's outbound transactions (chain_id 0: all), newest first; raw not loaded. */
int store_outbound_list(store *s, uint64_t chain_id, store_outbound **out, size_t *n,
                        err *e) STORE_WUR;

#endif
