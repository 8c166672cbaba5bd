/* store.h: the desk database (<home>/desk.db, SQLite in WAL mode). Chains and their
 * RPC endpoints, configured contracts and tokens, raw chain events with a recent
 * block-hash window and a checkpoint per chain, the escrow projection derived from
 * events, and outbound transactions. One connection per thread; every statement is
 * prepared once per connection and cached. Schema changes are forward migrations
 * keyed by PRAGMA user_version (see store_schema.c). */
#ifndef FUSION_STORE_STORE_H
#define FUSION_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/attr.h"
#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"

#define STORE_WUR FUSION_WUR /* base/attr.h */

typedef struct store store;

/* ---- connection and transactions (store.c) ---- */

/* Opens (creating if needed) the database at path, applies pending migrations, and
 * refuses a file whose schema is newer than this binary knows. */
int store_open(store **out, const char *path, err *e) STORE_WUR;
/* Configures SQLite for the process (no global memory statistics: a mutex on every
 * allocation); store_open does it too, but a program whose first SQLite use is elsewhere
 * (the audit head) calls this first. */
void store_init(void);
/* Closes and sets *p to NULL; NULL-safe. A transaction still open is rolled back. */
void store_close(store **p);
/* audit_append on this connection: inside an open transaction the audit head in desk.db
 * moves with it (see audit.h). s must be <home>/desk.db. */
int store_audit(store *s, const char *home, const char *operator_name, const char *action,
                const json_t *details, err *e) STORE_WUR;
/* BEGIN IMMEDIATE: takes the write lock up front, so a busy database shows up here
 * (after busy_timeout) and not in the middle of a transaction. */
int store_begin(store *s, err *e) STORE_WUR;
/* A bulk catch-up on this connection (on) or its end (off): what is committed meanwhile
 * is as durable as ever; only the copying of the log into the database file waits. */
int store_bulk(store *s, bool on, err *e) STORE_WUR;
/* As store_begin, but the commit is synced to disk (synchronous=FULL) before it
 * returns: for data that cannot be fetched again from a chain (signed transactions). */
int store_begin_durable(store *s, err *e) STORE_WUR;
int store_commit(store *s, err *e) STORE_WUR;
/* Rolls back the open transaction, if any. Never fails from the caller's view. */
void store_rollback(store *s);
/* Schema version of the open file, and the newest one this binary knows. */
int store_schema_version(store *s);
int store_schema_latest(void);
/* PRAGMA data_version: changes when another connection commits; cheap to poll. */
int store_data_version(store *s, uint64_t *out, err *e) STORE_WUR;
/* Path of the open database file. */
const char *store_path(const store *s);

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

/* ---- events, block window, checkpoints (store_event.c) ---- */

#define STORE_MAX_TOPICS 4
#define STORE_EVENT_NAME_MAX 48

/* One log as the chain gave it, plus what the decoder made of it. On reads, data and
 * decoded point into memory owned by the list they came from. */
typedef struct store_event {
    int64_t id; /* rowid, set on reads */
    uint64_t chain_id;
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    uint32_t tx_index;
    uint32_t log_index;
    addr address; /* emitting contract */
    unsigned n_topics;
    uint8_t topics[STORE_MAX_TOPICS][32];
    const uint8_t *data;
    size_t data_len;
    /* decoded (empty name: not one of ours / not decodable) */
    char name[STORE_EVENT_NAME_MAX];
    const char *decoded; /* JSON object text or NULL */
    bool has_escrow;     /* the escrow this event belongs to */
    addr escrow;
} store_event;

/* A list of events read from the store; owns the data/decoded memory. */
typedef struct store_event_list {
    store_event *items;
    size_t n;
    void *arena_; /* private */
} store_event_list;

void store_event_list_free(store_event_list *l);

/* Inserts unless (chain_id, block_hash, log_index) is present; *inserted (may be NULL)
 * says which. Re-inserting the same log is a no-op, never a duplicate. */
int store_event_put(store *s, const store_event *ev, bool *inserted, err *e) STORE_WUR;
/* Events of one escrow in chain order (block number, log index). */
int store_event_list_escrow(store *s, uint64_t chain_id, const addr *escrow, store_event_list *out,
                            err *e) STORE_WUR;
/* Events of a chain in [from, to], in chain order. */
int store_event_list_range(store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                           store_event_list *out, err *e) STORE_WUR;
int store_event_count(store *s, uint64_t chain_id, uint64_t *out, err *e) STORE_WUR;
/* Distinct escrows that have at least one event; *out malloc'ed. */
int store_event_escrows(store *s, uint64_t chain_id, addr **out, size_t *n, err *e) STORE_WUR;

typedef struct store_block {
    uint64_t number;
    uint8_t hash[32];
    uint8_t parent_hash[32];
    uint64_t timestamp;
} store_block;

/* Remembers a block of the recent window (replaces the row at that number). */
int store_block_put(store *s, uint64_t chain_id, const store_block *b, err *e) STORE_WUR;
int store_block_get(store *s, uint64_t chain_id, uint64_t number, store_block *out, bool *found,
                    err *e) STORE_WUR;
/* Stored blocks at or below `at_or_below`, newest first, at most max; *out malloc'ed. */
int store_block_list_desc(store *s, uint64_t chain_id, uint64_t at_or_below, size_t max,
                          store_block **out, size_t *n, err *e) STORE_WUR;
/* Forgets window blocks below `below` (they are final). */
int store_block_prune(store *s, uint64_t chain_id, uint64_t below, err *e) STORE_WUR;

typedef struct store_checkpoint {
    uint64_t chain_id;
    bool synced;           /* false: nothing synced yet */
    uint64_t synced_block; /* every event up to and including it is stored */
    uint8_t synced_hash[32];
    uint64_t final_block; /* head - confirmations when last written */
    uint64_t head_block;  /* the node's head when last written */
    int64_t updated_at;
} store_checkpoint;

int store_checkpoint_get(store *s, uint64_t chain_id, store_checkpoint *out, err *e) STORE_WUR;
/* Written in the same transaction as the events it covers. */
int store_checkpoint_put(store *s, const store_checkpoint *c, err *e) STORE_WUR;

/* Forgets the checkpoint: the next sync starts at the chain's start block. */
int store_checkpoint_delete(store *s, uint64_t chain_id, err *e) STORE_WUR;

/* Reorg rollback, inside the caller's transaction: deletes the events and window blocks
 * at and above `first_gone` (0: all of the chain's) and returns the escrows whose events
 * were deleted (*escrows malloc'ed, may be NULL when *n is 0) and how many events went. */
int store_events_rewind(store *s, uint64_t chain_id, uint64_t first_gone, addr **escrows, size_t *n,
                        uint64_t *n_events, err *e) STORE_WUR;

/* ---- escrow projection (store_escrow.c) ---- */

#define STORE_MAX_APPROVERS 32

typedef enum {
    ESCROW_CREATED,
    ESCROW_FUNDED,
    ESCROW_RELEASED,
    ESCROW_REFUNDED,
    ESCROW_DISPUTED,
    ESCROW_RESOLVED,
} escrow_state;

typedef struct store_approval {
    addr approver;
    uint64_t block_number;
    uint8_t tx_hash[32];
    uint32_t log_index;
    bool pending;
} store_approval;

/* The state of one escrow as its events say, and nothing else. */
typedef struct store_escrow {
    uint64_t chain_id;
    addr address;
    addr factory;
    addr payer, payee, token, arbiter; /* token zero: native coin */
    u256 amount;
    unsigned n_approvers;
    addr approvers[STORE_MAX_APPROVERS];
    unsigned threshold;
    uint64_t deadline; /* unix seconds */
    escrow_state state;
    bool resolved_to_payee; /* when RESOLVED */
    unsigned n_approvals;
    store_approval approvals[STORE_MAX_APPROVERS];
    u256 funded, released, refunded; /* cumulative base units */
    uint64_t created_block;
    uint8_t created_tx[32];
    uint64_t last_event_block;
    unsigned n_events;
    bool pending;      /* some event is above the final block */
    char anomaly[160]; /* events that did not fit the state machine */
    /* Version 2 (EscrowFactoryV2): 0 dispute_window and a zero terms_hash for version 1. */
    unsigned version;        /* 1 or 2: that of the EscrowCreated */
    uint64_t dispute_window; /* seconds after the deadline the arbiter may still resolve */
    uint8_t terms_hash[32];  /* EscrowCreated.termsHash, what approve(bytes32) must name */
    addr created_arbiter;    /* the arbiter named at creation (arbiter: the current one) */
    /* An event the state machine cannot reach from the state it holds: the state stays
     * the last one the events proved, and no later event moves it (anomaly says where). */
    bool inconsistent;
} store_escrow;

const char *escrow_state_str(escrow_state st);
int escrow_state_parse(escrow_state *out, const char *s, err *e) STORE_WUR;

/* Inserts or updates the escrow row, its approvals with it. */
int store_escrow_put(store *s, const store_escrow *x, err *e) STORE_WUR;
int store_escrow_delete(store *s, uint64_t chain_id, const addr *address, err *e) STORE_WUR;
int store_escrow_get(store *s, uint64_t chain_id, const addr *address, store_escrow *out,
                     bool *found, err *e) STORE_WUR;
/* Finds an escrow by address on any chain (first match by chain id). */
int store_escrow_find(store *s, const addr *address, store_escrow *out, bool *found,
                      err *e) STORE_WUR;
/* All escrows (chain_id 0: every chain), ordered by chain and creation; *out malloc'ed. */
int store_escrow_list(store *s, uint64_t chain_id, store_escrow **out, size_t *n, err *e) STORE_WUR;
/* The escrows still holding funds (funded or disputed) with one of the parties as payer or
 * payee, in store_escrow_list's order; reads only those rows (the risk service's exposure
 * at any desk size); *out malloc'ed. */
int store_escrow_list_open(store *s, const addr *parties, size_t n_parties, store_escrow **out,
                           size_t *n, err *e) STORE_WUR;
/* Rebuilds the escrow search index and the stored total from the escrows table, in one
 * transaction (`fusion reindex`; needed after a VACUUM, which may renumber rowids). */
int store_escrow_search_rebuild(store *s, err *e) STORE_WUR;
/* Addresses of a chain's known escrows (the sync watch list); *out malloc'ed. */
int store_escrow_addresses(store *s, uint64_t chain_id, addr **out, size_t *n, err *e) STORE_WUR;
/* Clears the pending flags of what is now final. */
int store_escrow_settle(store *s, uint64_t chain_id, uint64_t final_block, err *e) STORE_WUR;
/* Deletes every escrow row of a chain (before a full rebuild). */
int store_escrow_clear(store *s, uint64_t chain_id, err *e) STORE_WUR;

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

/* ---- risk service: oracle feeds, observed rounds, alerts, settings (store_risk.c) ---- */

#define STORE_ASSET_MAX 32
#define STORE_ALERT_KEY_MAX 128
#define STORE_ALERT_KIND_MAX 32
#define STORE_ALERT_MSG_MAX 256
#define STORE_OPERATOR_MAX 64

/* A Chainlink-style price feed (a 'feed' contract) and the asset it prices in USD. */
typedef struct store_feed {
    uint64_t chain_id;
    addr address;
    char asset[STORE_ASSET_MAX];
    unsigned decimals;
    int64_t max_age;             /* seconds; 0: the desk limit price_max_age */
} store_feed;

/* Inserts or replaces (asset, decimals, max age) a feed; also records the contract as a
 * 'feed' in the contracts table. */
int store_feed_put(store *s, const store_feed *f, err *e) STORE_WUR;
/* Feeds of a chain (chain_id 0: every chain), by chain and asset; *out malloc'ed. */
int store_feed_list(store *s, uint64_t chain_id, store_feed **out, size_t *n, err *e) STORE_WUR;

/* One oracle round as read from latestRoundData. */
typedef struct store_price_obs {
    uint64_t chain_id;
    addr feed;
    char round_id[32];           /* decimal uint80 */
    char answer[80];             /* decimal int256 in the feed's decimals ("-5" allowed) */
    int64_t updated_at;
    int64_t observed_at;
} store_price_obs;

/* Stores a round once: the same (chain, feed, round id) again is a no-op. */
int store_price_obs_put(store *s, const store_price_obs *o, bool *inserted, err *e) STORE_WUR;
/* Rounds of one feed by updated_at; *out malloc'ed. */
int store_price_obs_list(store *s, uint64_t chain_id, const addr *feed, store_price_obs **out,
                         size_t *n, err *e) STORE_WUR;

typedef enum { ALERT_INFO, ALERT_WARNING, ALERT_CRITICAL } alert_severity;
const char *alert_severity_str(alert_severity s);

/* A condition that holds now (the risk service evaluates them). key identifies it: the
 * same key while it persists, so one alert row covers its whole life. */
typedef struct store_alert_cond {
    char key[STORE_ALERT_KEY_MAX];
    char kind[STORE_ALERT_KIND_MAX];
    alert_severity severity;
    char message[STORE_ALERT_MSG_MAX];
    double value;                /* floating-point estimate (NAN: none) */
    double limit;                /* NAN: none */
} store_alert_cond;

typedef struct store_alert {
    int64_t id;
    char key[STORE_ALERT_KEY_MAX];
    char kind[STORE_ALERT_KIND_MAX];
    alert_severity severity;
    char message[STORE_ALERT_MSG_MAX];
    double value, limit;         /* NAN when absent */
    int64_t raised_at, updated_at;
    int64_t cleared_at;          /* 0: still open */
    int64_t acked_at;            /* 0: not acknowledged */
    char acked_by[STORE_OPERATOR_MAX];
} store_alert;

/* In one transaction (do not call inside another): raises an alert for each condition
 * without an open alert of its key, refreshes the message/value of open ones (a higher
 * severity than before clears the acknowledgement), and clears every open alert whose
 * key is not among the conditions. Counts (may be NULL) say what changed. */
int store_alert_sync(store *s, const store_alert_cond *conds, size_t n, int64_t now,
                     size_t *raised, size_t *cleared, err *e) STORE_WUR;
/* As store_alert_sync, for the alerts whose key starts with prefix only (compliance's
 * "case:"); store_alert_sync leaves those scoped keys alone. */
int store_alert_sync_scope(store *s, const char *prefix, const store_alert_cond *conds, size_t n,
                           int64_t now, size_t *raised, size_t *cleared, err *e) STORE_WUR;
/* Open alerts (all = true: cleared ones too), newest first; *out malloc'ed. */
int store_alert_list(store *s, bool all, store_alert **out, size_t *n, err *e) STORE_WUR;
int store_alert_get(store *s, int64_t id, store_alert *out, bool *found, err *e) STORE_WUR;
/* Acknowledges an alert (open or cleared); *found false when there is no such id. */
int store_alert_ack(store *s, int64_t id, const char *operator_name, int64_t now, bool *found,
                    err *e) STORE_WUR;

/* Risk desk settings (e.g. "drawn_usd"): small text values. */
int store_setting_get(store *s, const char *key, char *out, size_t cap, bool *found,
                      err *e) STORE_WUR;
int store_setting_put(store *s, const char *key, const char *value, const char *operator_name,
                      err *e) STORE_WUR;
/* ---- desk: operators and outbound metadata (store_desk.c) ---- */

#define STORE_ROLES_MAX 64

typedef struct store_operator {
    char name[STORE_NAME_MAX];
    addr address;
    char roles[STORE_ROLES_MAX];  /* "trader,approver" */
    int64_t created_at;
} store_operator;

/* Inserts an operator; ERR_EXISTS when the name is taken. */
int store_operator_add(store *s, const store_operator *o, err *e) STORE_WUR;
int store_operator_get(store *s, const char *name, store_operator *out, bool *found,
                       err *e) STORE_WUR;
/* Replaces an operator's roles; *found false when there is no such operator. */
int store_operator_set_roles(store *s, const char *name, const char *roles, bool *found,
                             err *e) STORE_WUR;
/* Deletes an operator (their past rows keep their name); *found false when there is none. */
int store_operator_remove(store *s, const char *name, bool *found, err *e) STORE_WUR;
/* All operators by name; *out malloc'ed. */
int store_operator_list(store *s, store_operator **out, size_t *n, err *e) STORE_WUR;

/* One outbound transaction with its raw bytes (*raw malloc'ed, free it). */
int store_outbound_get(store *s, int64_t id, store_outbound *out, uint8_t **raw, bool *found,
                       err *e) STORE_WUR;
/* By chain and hash; *found false when absent. raw not loaded. */
int store_outbound_find_hash(store *s, uint64_t chain_id, const uint8_t hash[32],
                             store_outbound *out, bool *found, err *e) STORE_WUR;
/* The next nonce after the sender's outbound transactions still in flight
 * (pending or sent); *any false when there are none. */
int store_outbound_next_nonce(store *s, uint64_t chain_id, const addr *from, uint64_t *next,
                              bool *any, err *e) STORE_WUR;
/* Other rows of the same sender and nonce than `id` that are not failed (a replacement
 * or the transaction it replaced); *n how many. */
int store_outbound_siblings(store *s, int64_t id, size_t *n, err *e) STORE_WUR;
/* Marks the in-flight rows sharing `id`'s sender and nonce as replaced. */
int store_outbound_mark_replaced(store *s, int64_t id, err *e) STORE_WUR;
/* Records the escrow a transaction turned out to be about (a create, once mined). */
int store_outbound_set_escrow(store *s, int64_t id, const addr *escrow, err *e) STORE_WUR;
/* Ids of transactions not final yet (pending, sent, or mined but not at the confirmation
 * depth) of a chain (0: all), oldest first. */
int store_outbound_in_flight(store *s, uint64_t chain_id, int64_t **ids, size_t *n,
                             err *e) STORE_WUR;

typedef struct store_desk_tx {
    int64_t outbound_id;
    char operator_name[STORE_NAME_MAX];
    addr asset;
    u256 amount;
    char *summary;               /* JSON text, malloc'ed on reads (may be NULL) */
    char error[256];
} store_desk_tx;

int store_desk_tx_put(store *s, const store_desk_tx *d, err *e) STORE_WUR;
/* *found false when the transaction has no desk row; free out->summary. */
int store_desk_tx_get(store *s, int64_t outbound_id, store_desk_tx *out, bool *found,
                      err *e) STORE_WUR;
int store_desk_tx_set_error(store *s, int64_t outbound_id, const char *error, err *e) STORE_WUR;
/* Sum of amounts of `action` rows of an operator in one asset created since `since`,
 * leaving out failed, dropped and replaced transactions (velocity limits), and the rows
 * sharing except_id's sender and nonce (the transaction being re-sent or replaced, and
 * its other versions; 0: none). */
int store_desk_spent(store *s, const char *operator_name, uint64_t chain_id, const addr *asset,
                     const char *action, int64_t since, int64_t except_id, u256 *sum,
                     err *e) STORE_WUR;
/* The desk operator who sent `action` (e.g. "create") about an escrow; *found false if none. */
int store_desk_actor(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                     char *operator_name, size_t cap, bool *found, err *e) STORE_WUR;

/* ---- cross-chain swaps (store_xswap.c; issue 10) ---- */

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

/* ==== compliance: entities (store_entity.c) and cases (store_case.c) — issue 8 ==== */

#define STORE_ENTITY_NAME_MAX 256
#define STORE_DATE_MAX 11    /* "YYYY-MM-DD" + NUL; "" = none */
#define STORE_OPERATOR_MAX 64
#define STORE_SUBJECT_MAX 48 /* "entity:<id>" or a lowercase address */

/* An individual or company as the registry holds it. Enumerated fields are the text the
 * schema allows (type individual|company, kyc pending|verified|rejected|expired, risk
 * low|medium|high); src/compliance validates them before they get here. */
typedef struct store_entity {
    int64_t id;
    char name[STORE_ENTITY_NAME_MAX]; /* UTF-8, unique */
    char type[16];
    char jurisdiction[3];             /* ISO 3166-1 alpha-2 */
    char kyc[16];
    char kyc_expires[STORE_DATE_MAX];
    int tier;
    char risk[8];
    char review_due[STORE_DATE_MAX];
    bool blocked;
    int64_t created_at, updated_at;
} store_entity;

typedef struct store_entity_link {
    int64_t entity_id;
    uint64_t chain_id;                /* 0: the address on every chain */
    addr address;
} store_entity_link;

typedef struct store_entity_doc {
    int64_t entity_id;
    char doc_type[32];
    uint8_t sha256[32];
    char file_name[256];
    int64_t added_at;
} store_entity_doc;

typedef struct store_related_party {
    int64_t entity_id, party_id;
    char role[32];
} store_related_party;

/* Inserts (id assigned, *id_out may be NULL); ERR_EXISTS when the name is taken. */
int store_entity_add(store *s, const store_entity *x, int64_t *id_out, err *e) STORE_WUR;
/* Rewrites every field of the entity with x->id; ERR_EXISTS on a name clash. */
int store_entity_update(store *s, const store_entity *x, err *e) STORE_WUR;
int store_entity_get(store *s, int64_t id, store_entity *out, bool *found, err *e) STORE_WUR;
int store_entity_find_name(store *s, const char *name, store_entity *out, bool *found,
                           err *e) STORE_WUR;
/* All entities by name; *out malloc'ed. */
int store_entity_list(store *s, store_entity **out, size_t *n, err *e) STORE_WUR;
/* ERR_EXISTS naming the other entity when (chain, address) is linked to another one;
 * linking the same entity again is a no-op. */
int store_entity_link_add(store *s, const store_entity_link *l, err *e) STORE_WUR;
/* The links of one entity (0: of all), *out malloc'ed. */
int store_entity_links(store *s, int64_t entity_id, store_entity_link **out, size_t *n,
                       err *e) STORE_WUR;
/* The entity linked to address on chain_id (or on every chain); *entity_id 0 when none. */
int store_entity_find_addr(store *s, uint64_t chain_id, const addr *a, int64_t *entity_id,
                           err *e) STORE_WUR;
int store_entity_doc_add(store *s, const store_entity_doc *d, err *e) STORE_WUR;
int store_entity_docs(store *s, int64_t entity_id, store_entity_doc **out, size_t *n,
                      err *e) STORE_WUR;
int store_related_party_add(store *s, const store_related_party *p, err *e) STORE_WUR;
int store_related_parties(store *s, int64_t entity_id, store_related_party **out, size_t *n,
                          err *e) STORE_WUR;

/* One stored screening hit; unique per (subject, chain, escrow, rule). */
typedef struct store_hit {
    int64_t id;
    uint64_t chain_id;
    addr escrow;
    char subject[STORE_SUBJECT_MAX];
    addr address;
    int64_t entity_id;                /* 0: none */
    char role[16];
    char rule[32];
    char kind[32];
    int score;
    char evidence[320];
    char list_sha256[67];             /* "" for rules without a list */
    char list_version[32];
    int64_t case_id;                  /* 0: none */
    int64_t created_at;
    int64_t reorged_at;               /* 0: current; else when a reorg removed its escrow */
} store_hit;

typedef struct store_case {
    int64_t id;
    char subject[STORE_SUBJECT_MAX];
    int64_t entity_id;                /* 0: the subject is an address */
    uint64_t chain_id;
    addr escrow;
    char state[16];                   /* new assigned in_review escalated closed */
    char outcome[16];                 /* "" or cleared blocked reported */
    int priority;                     /* 1 high, 2 medium, 3 low */
    int score;
    int64_t opened_at, due_at;
    char assignee[STORE_OPERATOR_MAX];
    char snoozed_until[STORE_DATE_MAX];
    char proposed_outcome[16];
    char proposed_by[STORE_OPERATOR_MAX];
    char closed_by[STORE_OPERATOR_MAX];
    int64_t closed_at;
} store_case;

typedef struct store_case_event {
    int64_t id, case_id, at;
    char operator_name[STORE_OPERATOR_MAX];
    char action[32];
    char before[256], after[256];
    char note[1024];
} store_case_event;

/* Inserts unless (subject, chain, escrow, rule) is there; *inserted says which. */
int store_hit_put(store *s, const store_hit *h, bool *inserted, err *e) STORE_WUR;
/* Attaches the unattached hits of (subject, chain, escrow) to a case. */
int store_hit_attach(store *s, const char *subject, uint64_t chain_id, const addr *escrow,
                     int64_t case_id, err *e) STORE_WUR;
/* Hits of a case (case_id > 0) in id order; *out malloc'ed. */
int store_hit_list_case(store *s, int64_t case_id, store_hit **out, size_t *n, err *e) STORE_WUR;

/* Is the escrow now at this address screened? A mark counts only for the escrow whose
 * creation it names (creating transaction and block hash): after a reorg another escrow
 * can stand at the same address (clones take it from the factory's nonce). */
int store_escrow_is_screened(store *s, uint64_t chain_id, const addr *escrow, bool *yes,
                             err *e) STORE_WUR;
/* Marks escrow x screened, naming its creation; nothing when the projection no longer
 * holds the escrow x->created_tx created at that address (it is screened on a later pass). */
int store_escrow_mark_screened(store *s, const store_escrow *x, int64_t at, err *e) STORE_WUR;

/* How many escrows of the projection have not been screened yet. */
int store_escrow_unscreened(store *s, size_t *n, err *e) STORE_WUR;
/* Inside the caller's transaction: marks the screening hits (evidence: reorged_at, never
 * deleted) and deletes the screened marks of escrows no longer in the projection (a reorg
 * removed them; cases stay, they are human work; a hit of a gate-refused create names no
 * escrow and stays as it is) and
 * returns the cases about such escrows that have no "escrow_vanished" case event yet
 * (*case_ids malloc'ed). */
int store_screening_orphans(store *s, int64_t **case_ids, size_t *n, size_t *hits_dropped,
                            err *e) STORE_WUR;
/* The same for escrows a reorg replaced by another escrow at the same address (their mark
 * names another creation): their hits are marked, their marks go, and *case_ids are the cases about the
 * address, to be noted (the replacing escrow is screened afresh). */
int store_screening_replaced(store *s, int64_t **case_ids, size_t *n, size_t *hits_dropped,
                             err *e) STORE_WUR;

/* Inserts c unless (subject, chain, escrow) has a case; either way c->id is the case's id
 * and *created says which. */
int store_case_open(store *s, store_case *c, bool *created, err *e) STORE_WUR;
int store_case_get(store *s, int64_t id, store_case *out, bool *found, err *e) STORE_WUR;
/* Writes the mutable fields (state .. closed_at) of case c->id. */
int store_case_update(store *s, const store_case *c, err *e) STORE_WUR;
/* Inside the caller's BEGIN IMMEDIATE: one UPDATE assigns the oldest highest-priority
 * new, unassigned, unsnoozed (snoozed_until <= today) case to op; *id 0 when none. */
int store_case_take_next(store *s, const char *op, const char *today, int64_t *id,
                         err *e) STORE_WUR;
/* Filter for store_case_list; zero/NULL fields do not filter. */
typedef struct store_case_filter {
    const char *state;
    const char *assignee;
    bool open_only;                   /* state <> closed */
    int64_t due_before;               /* open and due_at < this */
    const char *subject;
    bool has_escrow;
    uint64_t chain_id;
    addr escrow;
} store_case_filter;
/* Cases by priority, then age; *out malloc'ed. */
int store_case_list(store *s, const store_case_filter *f, store_case **out, size_t *n,
                    err *e) STORE_WUR;
/* Appends (the table refuses updates and deletes). */
int store_case_event_add(store *s, const store_case_event *ev, err *e) STORE_WUR;
int store_case_events(store *s, int64_t case_id, store_case_event **out, size_t *n,
                      err *e) STORE_WUR;

/* ---- imported screening lists and inflows (store_lists.c) ---- */

#define STORE_LIST_KEY_MAX 43 /* a lowercase 0x address, or an ISO 3166 alpha-2 code */

typedef struct store_list_version {
    int64_t id;
    char name[STORE_NAME_MAX];   /* the series: "ofac-sdn", "fatf", a declared name */
    char kind[16];               /* "addresses" or "jurisdictions" */
    char format[16];             /* sdn-csv, ofac-xml, fatf, plain */
    char source[128];            /* the file's base name */
    char published[11];          /* YYYY-MM-DD */
    char sha256[65];             /* of the file as imported */
    int64_t n_entries, n_skipped, n_added, n_removed;
    int64_t imported_at;
    char operator_name[STORE_OPERATOR_MAX];
    int64_t rescreened_at; /* 0: the money in flight is not re-screened against it yet */
} store_list_version;

typedef struct store_list_entry {
    char key[STORE_LIST_KEY_MAX];
    char detail[24]; /* the asset of an address (ETH, USDT...), or the FATF list */
    int64_t line;    /* where the file listed it */
} store_list_entry;

/* Inserts the version (v->id set) and its entries; inside the caller's transaction. */
int store_list_version_add(store *s, store_list_version *v, const store_list_entry *ents,
                           size_t n, err *e) STORE_WUR;
/* Versions in id order: all of them (name NULL) or of one name; current_only: the latest
 * version of each name only. *out malloc'ed. */
int store_list_versions(store *s, const char *name, bool current_only, store_list_version **out,
                        size_t *n, err *e) STORE_WUR;
/* Entries of a version in key order; *out malloc'ed. */
int store_list_entries(store *s, int64_t version_id, store_list_entry **out, size_t *n,
                       err *e) STORE_WUR;
int store_list_mark_rescreened(store *s, int64_t version_id, int64_t at, err *e) STORE_WUR;

/* A transfer into one of the desk's accounts, from a confirmed block. */
typedef struct store_inflow {
    int64_t id;
    uint64_t chain_id;
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    uint64_t log_index;
    addr token; /* zero: the chain's native coin */
    addr sender, recipient;
    u256 amount;
    int64_t block_time, seen_at;
    int64_t screened_at, reorged_at; /* 0: not yet / not reorged */
} store_inflow;

/* Inserts (duplicates by chain, block hash and log index are ignored; *inserted says). */
int store_inflow_put(store *s, const store_inflow *f, bool *inserted, err *e) STORE_WUR;
/* Unscreened, unreorged inflows in id order; *out malloc'ed. */
int store_inflow_pending(store *s, store_inflow **out, size_t *n, err *e) STORE_WUR;
/* Unreorged inflows seen at or after since (the re-screening after a list update). */
int store_inflow_recent(store *s, int64_t since, store_inflow **out, size_t *n, err *e) STORE_WUR;
int store_inflow_mark_screened(store *s, int64_t id, int64_t at, err *e) STORE_WUR;
/* A reorg replaced blocks from `from` on: the inflows of those blocks whose hash is no
 * longer canonical are marked reorged (never deleted); *marked counts them. The caller
 * passes the canonical hash of each block it still has; here: all inflows at or above
 * from on chain_id are marked, and the cursor moves back to from. */
int store_inflow_reorg(store *s, uint64_t chain_id, uint64_t from, size_t *marked,
                       err *e) STORE_WUR;
/* The next block to scan for inflows on a chain (0 with *found false: none yet). */
int store_inflow_cursor(store *s, uint64_t chain_id, uint64_t *next, bool *found,
                        err *e) STORE_WUR;
int store_inflow_cursor_set(store *s, uint64_t chain_id, uint64_t next, err *e) STORE_WUR;

/* Travel Rule data of an entity (IVMS101 fields the registry does not hold). */
typedef struct store_entity_travel {
    int64_t entity_id;
    char street[128], town[64], postcode[24], country[3];
    char national_id[64], national_id_type[8];
    char birth_date[11], birth_place[64];
    int64_t updated_at;
} store_entity_travel;

int store_entity_travel_get(store *s, int64_t entity_id, store_entity_travel *out, bool *found,
                            err *e) STORE_WUR;
int store_entity_travel_put(store *s, const store_entity_travel *t, err *e) STORE_WUR;
/* Records the IVMS101 JSON of a transfer the desk signs; inside the caller's transaction. */
int store_travel_record_add(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                            double usd, const char *ivms_json, int64_t at,
                            const char *operator_name, err *e) STORE_WUR;
/* The newest record about an escrow (*json malloc'ed; NULL with *found false: none). */
int store_travel_record_get(store *s, uint64_t chain_id, const addr *escrow, char **json,
                            bool *found, err *e) STORE_WUR;

/* ==== end compliance ==== */

/* ==== the API (store_api.c) ==== */

#define STORE_API_NAME_MAX 64
#define STORE_API_IDEM_MAX 128
#define STORE_API_BODY_MAX 4096
#define STORE_API_SCREEN_MAX 2048

/* A client of `fusion serve`: its token is kept only as a hash (64 hex digits). */
typedef struct store_api_client {
    int64_t id;
    char name[STORE_API_NAME_MAX];
    char scope[16]; /* read | propose */
    char token_hash[65];
    int64_t created_at;
    char created_by[64];
    int64_t revoked_at; /* 0: active */
    char revoked_by[64];
} store_api_client;

int store_api_client_add(store *s, const store_api_client *c, err *e) STORE_WUR;
/* The active (not revoked) client whose token hashes to token_hash. */
int store_api_client_by_hash(store *s, const char *token_hash, store_api_client *out, bool *found,
                             err *e) STORE_WUR;
int store_api_client_get(store *s, const char *name, store_api_client *out, bool *found,
                         err *e) STORE_WUR;
/* Marks an active client revoked; *found false when no active client has that name. */
int store_api_client_revoke(store *s, const char *name, const char *by, int64_t now, bool *found,
                            err *e) STORE_WUR;
int store_api_client_list(store *s, store_api_client **out, size_t *n, err *e) STORE_WUR;

/* A proposal a client made: what it asked (body, validated), what the checks said at the
 * time (screening), and what a person decided. */
typedef struct store_proposal {
    int64_t id;
    char client[STORE_API_NAME_MAX];
    char idem_key[STORE_API_IDEM_MAX]; /* "" when the request had none */
    char kind[16];                     /* escrow | payment */
    uint64_t chain_id;
    char body[STORE_API_BODY_MAX];
    char body_hash[65];
    char screening[STORE_API_SCREEN_MAX];
    char state[16]; /* pending | accepted | rejected | failed */
    int64_t created_at, decided_at;
    char decided_by[64];
    char reason[256];
    char escrow[44]; /* accepted escrow proposal: the escrow made ("" before) */
    int64_t outbound_id;
} store_proposal;

/* Adds p (state pending); p->id is set. */
int store_proposal_add(store *s, store_proposal *p, err *e) STORE_WUR;
int store_proposal_get(store *s, int64_t id, store_proposal *out, bool *found, err *e) STORE_WUR;
/* The proposal of client with idempotency key idem. */
int store_proposal_find_idem(store *s, const char *client, const char *idem, store_proposal *out,
                             bool *found, err *e) STORE_WUR;
/* Proposals in id order after after_id (state NULL: any), at most max; *out malloc'ed. */
int store_proposal_list(store *s, const char *state, int64_t after_id, size_t max,
                        store_proposal **out, size_t *n, err *e) STORE_WUR;
/* Moves a pending proposal to state with who and why; *moved false when it was not
 * pending (decided meanwhile, or no such proposal). */
int store_proposal_decide(store *s, int64_t id, const char *state, const char *by,
                          const char *reason, const char *escrow, int64_t outbound_id,
                          int64_t now, bool *moved, err *e) STORE_WUR;

/* One row of the change feed (schema triggers write it). */
typedef struct store_feed_row {
    int64_t id;
    char kind[32];
    uint64_t chain_id;
    char ref[80];
    char state[24];
    int64_t at;
} store_feed_row;

/* Rows with id > after, oldest first, at most max; *out malloc'ed. */
int store_feed_after(store *s, int64_t after, size_t max, store_feed_row **out, size_t *n,
                     err *e) STORE_WUR;
/* The last id of the feed (0: empty). */
int store_feed_last(store *s, int64_t *out, err *e) STORE_WUR;

/* ---- credit facilities and their loan ledgers (store_credit.c) ---- */

/* A facility of a counterparty entity. Amounts are base units of the currency (a
 * stablecoin token); rates, levels and the collateral terms are validated in src/credit.
 * collateral is a JSON array of {asset, haircut_pct, liq_threshold_pct, source}. */
typedef struct store_credit_facility {
    int64_t id;
    char name[64];
    int64_t entity_id;
    char currency[16];
    unsigned decimals;
    u256 limit;
    unsigned day_count, billing_day;
    unsigned initial_e4, margin_call_e4, liquidation_e4; /* health-factor levels, 1e-4 */
    char collateral[4096];
    char vaults[1024]; /* JSON array of {chain_id, address}: a CollateralVault per chain */
    int64_t created_at, updated_at;
} store_credit_facility;

int store_credit_facility_add(store *s, const store_credit_facility *f, int64_t *id_out,
                              err *e) STORE_WUR;
int store_credit_facility_update(store *s, const store_credit_facility *f, err *e) STORE_WUR;
int store_credit_facility_find(store *s, const char *name, store_credit_facility *out,
                               bool *found, err *e) STORE_WUR;
int store_credit_facility_list(store *s, store_credit_facility **out, size_t *n,
                               err *e) STORE_WUR;

/* One row of a facility's ledger: kind is draw, repay, fee, interest or rate. */
typedef struct store_credit_row {
    int64_t id, facility_id;
    int32_t day; /* days since 1970-01-01 */
    char kind[12];
    u256 amount;
    uint64_t base_e8, spread_e8;
    char memo[128];
    char operator_name[64];
    int64_t created_at;
} store_credit_row;

int store_credit_row_add(store *s, const store_credit_row *r, int64_t *id_out, err *e) STORE_WUR;
/* A margin call or a liquidation proposal of a facility. plan (liquidation): JSON of what
 * to seize ({chain_id, asset, token, units, usd}). */
typedef struct store_credit_call {
    int64_t id, facility_id;
    char kind[16]; /* margin_call, liquidation */
    char health_factor[32];
    int64_t opened_at, cure_by, closed_at; /* closed_at 0: open */
    char closed_why[64];
    char plan[512];
} store_credit_call;

int store_credit_call_open(store *s, const store_credit_call *c, int64_t *id_out,
                           err *e) STORE_WUR;
int store_credit_call_close(store *s, int64_t id, int64_t at, const char *why, err *e) STORE_WUR;
/* Replaces a call's plan (the seizure's on-chain request is added to it). */
int store_credit_call_set_plan(store *s, int64_t id, const char *plan, err *e) STORE_WUR;
/* Calls of a facility (0: every facility), open ones only unless all; newest first. */
int store_credit_calls(store *s, int64_t facility_id, bool all, store_credit_call **out,
                       size_t *n, err *e) STORE_WUR;

/* The rows of a facility in insertion order. */
int store_credit_rows(store *s, int64_t facility_id, store_credit_row **out, size_t *n,
                      err *e) STORE_WUR;

#endif
