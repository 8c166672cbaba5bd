/* store_chain.h: the desk database's chains, endpoints, contracts, tokens (store_chain.c).
 * Part of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_CHAIN_H
#define FUSION_STORE_STORE_CHAIN_H

#include "store/store_core.h"

/* ---- chains, endpoints, contracts, tokens (store_chain.c) ---- */

#define STORE_NAME_MAX 64
#define STORE_URL_MAX 512
#define STORE_SYMBOL_MAX 16

typedef struct store_chain {
    uint64_t chain_id;
    char name[STORE_NAME_MAX];
    unsigned confirmations; /* head - confirmations is final */
    char native_symbol[STORE_SYMBOL_MAX];
    unsigned native_decimals;
    uint64_t start_block; /* first block sync looks at */
    /* The chain's block explorer: a URL template whose {address} the UI replaces with an
     * escrow's address ("" for none). */
    char explorer[STORE_URL_MAX];
} store_chain;

typedef enum {
    STORE_HEALTH_UNKNOWN,
    STORE_HEALTH_OK,
    STORE_HEALTH_DEGRADED, /* answered, but with retries or errors recently */
    STORE_HEALTH_DOWN,     /* failed on the last attempts */
} store_health;

typedef struct store_endpoint {
    int64_t id;
    uint64_t chain_id;
    char url[STORE_URL_MAX];
    int priority; /* lower is tried first */
    store_health health;
    char last_error[256];
    int64_t last_ok; /* unix seconds, 0 = never */
    int64_t last_fail;
    bool has_latency;
    int64_t latency_ms;    /* of its last answer to the sync */
    uint64_t range_cap;    /* blocks per eth_getLogs it takes; 0: no limit seen */
    int64_t limited_until; /* unix seconds: rate limited (Retry-After) until then; 0: not */
} store_endpoint;

typedef enum {
    STORE_CONTRACT_FACTORY,
    STORE_CONTRACT_ESCROW,
    STORE_CONTRACT_TOKEN,
    STORE_CONTRACT_FEED,
    STORE_CONTRACT_HTLC,
    STORE_CONTRACT_VAULT, /* a CollateralVault (docs/credit.md) */
} store_contract_kind;

typedef struct store_contract {
    uint64_t chain_id;
    store_contract_kind kind;
    addr address;
    uint64_t deployed_block;
    unsigned version; /* factories: 1 (EscrowFactory) or 2 (EscrowFactoryV2); 0 is taken as 1 */
} store_contract;

typedef struct store_token {
    uint64_t chain_id;
    char symbol[STORE_SYMBOL_MAX];
    addr address;
    unsigned decimals;
} store_token;

const char *store_health_str(store_health h);
const char *store_contract_kind_str(store_contract_kind k);
int store_contract_kind_parse(store_contract_kind *out, const char *s, err *e) STORE_WUR;

/* Inserts a chain; ERR_EXISTS when the id or the name is taken. */
int store_chain_add(store *s, const store_chain *c, err *e) STORE_WUR;
/* By id; returns 0 and *found=false when absent. */
int store_chain_get(store *s, uint64_t chain_id, store_chain *out, bool *found, err *e) STORE_WUR;
int store_chain_find_name(store *s, const char *name, store_chain *out, bool *found,
                          err *e) STORE_WUR;
/* All chains ordered by name; *out is malloc'ed (free it), *n its length. */
int store_chain_list(store *s, store_chain **out, size_t *n, err *e) STORE_WUR;
/* Deletes a chain and everything that belongs to it (events, escrows, ...). */
int store_chain_remove(store *s, uint64_t chain_id, err *e) STORE_WUR;

int store_endpoint_add(store *s, uint64_t chain_id, const char *url, int priority,
                       err *e) STORE_WUR;
/* A chain's endpoints by priority; *out malloc'ed. */
int store_endpoint_list(store *s, uint64_t chain_id, store_endpoint **out, size_t *n,
                        err *e) STORE_WUR;
/* Records the health of an endpoint (by chain and url); error NULL when healthy. */
int store_endpoint_set_health(store *s, uint64_t chain_id, const char *url, store_health h,
                              const char *error, int64_t when, err *e) STORE_WUR;
/* Records what the sync learnt of an endpoint (store_endpoint's last three fields). */
int store_endpoint_set_stats(store *s, uint64_t chain_id, const char *url, int64_t latency_ms,
                             uint64_t range_cap, int64_t limited_until, err *e) STORE_WUR;

/* Inserts or updates (kind, deployed block) a configured contract. */
int store_contract_put(store *s, const store_contract *c, err *e) STORE_WUR;
/* A chain's contracts; *out malloc'ed. */
int store_contract_list(store *s, uint64_t chain_id, store_contract **out, size_t *n,
                        err *e) STORE_WUR;

int store_token_put(store *s, const store_token *t, err *e) STORE_WUR;
int store_token_list(store *s, uint64_t chain_id, store_token **out, size_t *n, err *e) STORE_WUR;

#endif
