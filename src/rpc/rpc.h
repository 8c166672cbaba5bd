/* rpc.h: an Ethereum JSON-RPC 2.0 client over HTTP (libcurl, jansson). One client
 * per thread: it owns one CURL handle (connections are reused) and a list of
 * endpoints of one chain with failover and a health record per endpoint. Failures
 * are classified (rpc_status) so that callers react to the class, not to texts:
 * retries with exponential backoff and jitter happen inside for transport errors,
 * timeouts and rate limits; "too many results / range too large" goes back to the
 * caller, which shrinks its block range. Numbers from the node are parsed strictly. */
#ifndef FUSION_RPC_RPC_H
#define FUSION_RPC_RPC_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/bytes.h"
#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"

#define RPC_WUR FUSION_WUR /* base/attr.h */

/* X(name, label, retry): failure classes. retry: retried inside rpc_call (after
 * backoff, on the next endpoint when there is one). */
#define RPC_STATUSES(X)                                                                            \
    X(OK, "ok", 0)                                                                                 \
    X(TRANSPORT, "transport error", 1)    /* connect/DNS/reset, HTTP 5xx and other non-200 */      \
    X(TIMEOUT, "timeout", 1)              /* connected, but no full answer in time */              \
    X(RATE_LIMIT, "rate limited", 1)      /* HTTP 429, provider rate-limit errors */               \
    X(RANGE, "range too large", 0)        /* too many results / block range / response size */     \
    X(RPC, "JSON-RPC error", 0)           /* an error object from the node */                      \
    X(MALFORMED, "malformed response", 1) /* not JSON, truncated, wrong id or types, overflow */   \
    X(WRONG_CHAIN, "wrong chain", 1)      /* the endpoint serves another chain id */              \
    X(CANCELLED, "cancelled", 0)

typedef enum {
#define RPC_ENUM_(name, label, retry) RPC_##name,
    RPC_STATUSES(RPC_ENUM_)
#undef RPC_ENUM_
        RPC_STATUS_COUNT
} rpc_status;

const char *rpc_status_str(rpc_status st);
bool rpc_status_retryable(rpc_status st);

/* ---- pure classification (rpc_classify.c) ---- */

/* Classifies a JSON-RPC error object by its code and message, as providers send them
 * (geth, Erigon, Infura, Alchemy, QuickNode, Ankr, anvil...). */
rpc_status rpc_classify_error(int64_t code, const char *message);
/* Classifies a non-200 HTTP status that came without a JSON-RPC error body. */
rpc_status rpc_classify_http(long http_status);
/* Finds a provider's suggested block range ("... this block range should work:
 * [0x0, 0x1f3b4b]", "Try with this block range [0x1, 0x2]."). */
bool rpc_range_hint(const char *message, uint64_t *from, uint64_t *to);
/* Reads an HTTP Retry-After value: delta-seconds, or an HTTP date (IMF-fixdate, RFC 850,
 * asctime) taken against now (unix seconds). *seconds: how long to wait, 0 for a date
 * in the past, at most a day. False when the value is none of these. */
bool rpc_retry_after_parse(const char *value, int64_t now, int64_t *seconds);

/* ---- endpoint URLs (rpc_url.c) ---- */

/* The URL to send: each "${env:NAME}" of the stored URL replaced by that environment
 * variable and each "${file:PATH}" by the one line of that file (a provider's API key),
 * which must be URL-safe. *out malloc'ed; the errors name the variable or file, never a
 * key. */
int rpc_url_expand(const char *stored, char **out, err *e) RPC_WUR;
/* A URL as it may be shown (`chain list`, the Chains screen): scheme and host, the path
 * segments and query values that are templates or short; anything longer, and a
 * user:password@, is "***". */
void rpc_url_redact(char *out, size_t cap, const char *url);

/* ---- client ---- */

typedef struct rpc_options {
    long connect_timeout_ms; /* default 3000 */
    long timeout_ms;         /* whole request, default 30000 */
    int max_attempts;        /* per call, over all endpoints; default 4 */
    long backoff_base_ms;    /* default 100; doubles per attempt, full jitter */
    long backoff_max_ms;     /* default 3000 */
    size_t max_response;     /* bytes; larger answers are RPC_RANGE; default 512 MiB */
    long rate_limit_wait_max_ms; /* a longer Retry-After fails the call; default 30000 */
} rpc_options;

void rpc_options_default(rpc_options *o);

typedef enum { RPC_HEALTH_UNKNOWN, RPC_HEALTH_OK, RPC_HEALTH_DEGRADED, RPC_HEALTH_DOWN } rpc_health;

typedef struct rpc_endpoint_info {
    const char *url; /* as configured: ${env:...} and ${file:...} not filled in */
    rpc_health health;
    char last_error[200];
    int64_t last_ok, last_fail; /* unix seconds, 0 = never */
    unsigned consecutive_failures;
    int64_t rate_limited_until; /* unix seconds; 0 when not rate limited now */
    uint32_t latency_ms;        /* of its last answer */
    uint64_t range_cap;         /* blocks per eth_getLogs it takes now; 0: no limit seen */
} rpc_endpoint_info;

/* What went wrong in the last failed call. */
typedef struct rpc_error {
    rpc_status status;
    long http_status; /* 0 when none */
    int64_t code;     /* JSON-RPC error code when status is RPC/RANGE/RATE_LIMIT */
    char message[200];
    bool has_hint; /* provider's suggested range (RANGE) */
    uint64_t hint_from, hint_to;
    char data[2100];              /* error "data" as 0x hex (revert data), "" when none */
} rpc_error;

typedef struct rpc_client rpc_client;

/* A client over n endpoint URLs of one chain, tried in the given order. */
int rpc_client_new(rpc_client **out, const char *const *urls, size_t n, const rpc_options *opt,
                   err *e) RPC_WUR;
void rpc_client_free(rpc_client **p);
/* Every endpoint must serve this chain id: each is asked (eth_chainId) before its first
 * request and again after any failure of it; one that serves another chain is recorded
 * as failed (RPC_WRONG_CHAIN) and the request goes to the next. When every endpoint
 * serves another chain, calls fail with ERR_DENIED. */
void rpc_client_expect_chain(rpc_client *c, uint64_t chain_id);
/* a and b (over the same endpoints, used by two threads) tell each other of the rate
 * limits (Retry-After) they meet: a provider limits the key, not the connection. Free
 * both together. */
void rpc_client_share_limits(rpc_client *a, rpc_client *b);
/* When *flag becomes non-zero, transfers abort and backoffs end: RPC_CANCELLED. */
void rpc_client_set_cancel(rpc_client *c, const atomic_int *flag);
/* At most max logs (0: no limit) held from one eth_getLogs answer over more than one
 * block: an answer with more is cut short while it arrives, never held whole, and the
 * call fails as RPC_RANGE with the blocks read whole as the hint (the error's
 * hint_from..hint_to, at least the first block; the endpoint's range cap is not changed:
 * the limit is the caller's, not the node's). One block's logs are always read whole. */
void rpc_client_set_logs_max(rpc_client *c, size_t max);
/* Status and details of the last failed call (RPC_OK after a success). */
rpc_status rpc_last_status(const rpc_client *c);
const rpc_error *rpc_last_error(const rpc_client *c);
size_t rpc_endpoint_count(const rpc_client *c);
void rpc_endpoint_get(const rpc_client *c, size_t i, rpc_endpoint_info *out);
/* Sets aside the endpoint that gave the last answers: they were well-formed one by one but
 * contradict each other (why says how). It is recorded as failed, and the next call goes
 * to the next endpoint, if there is one. */
void rpc_endpoint_reject(rpc_client *c, const char *why);
/* The most blocks one eth_getLogs should ask of the endpoint the next call goes to
 * (learnt from its refusals, per endpoint; UINT64_MAX when it refused none). */
uint64_t rpc_logs_range_cap(const rpc_client *c);
/* True once since the last call when some endpoint's health record changed. */
bool rpc_health_changed(rpc_client *c);
/* Total requests sent (HTTP POSTs), for statistics. */
uint64_t rpc_request_count(const rpc_client *c);

/* One call. params: a JSON array (borrowed). *result: a new reference on success. */
int rpc_call(rpc_client *c, const char *method, json_t *params, json_t **result, err *e) RPC_WUR;

/* A batch: one HTTP request, answers matched by id. Per-item JSON-RPC errors are
 * reported per item (status/error); the call fails only when the batch as a whole
 * does (transport, malformed, missing or duplicated ids). */
typedef struct rpc_request {
    const char *method;
    json_t *params;    /* borrowed */
    json_t *result;    /* out: new reference, NULL on error */
    rpc_status status; /* out */
    int64_t code;      /* out: JSON-RPC error code */
    char message[200]; /* out */
} rpc_request;

int rpc_batch(rpc_client *c, rpc_request *reqs, size_t n, err *e) RPC_WUR;
/* Releases the results of a batch. */
void rpc_batch_clear(rpc_request *reqs, size_t n);

/* ---- typed helpers (rpc_eth.c) ---- */

/* Strict quantity parsing: 0x-prefixed, no leading zeros, fits. Block numbers must fit
 * in 63 bits (the store keeps them in SQLite integers); anything larger is malformed. */
int rpc_parse_u64(const json_t *v, uint64_t *out, const char *what, err *e) RPC_WUR;
int rpc_parse_block_number(const json_t *v, uint64_t *out, const char *what, err *e) RPC_WUR;
int rpc_parse_u256(const json_t *v, u256 *out, const char *what, err *e) RPC_WUR;
int rpc_parse_hash(const json_t *v, uint8_t out[32], const char *what, err *e) RPC_WUR;
int rpc_parse_addr(const json_t *v, addr *out, const char *what, err *e) RPC_WUR;

typedef struct rpc_block {
    uint64_t number;
    uint8_t hash[32];
    uint8_t parent_hash[32];
    uint64_t timestamp;
} rpc_block;

typedef struct rpc_log {
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    uint32_t tx_index;
    uint32_t log_index;
    addr address;
    unsigned n_topics;
    uint8_t topics[4][32];
    const uint8_t *data; /* owned by the list */
    size_t data_len;
    bool removed;
} rpc_log;

typedef struct rpc_log_list {
    rpc_log *items;
    size_t n;
    buf data_; /* private: every log's data, back to back */
} rpc_log_list;

void rpc_log_list_free(rpc_log_list *l);

/* Native-coin transfer candidates of blocks read with their full transaction lists
 * (rpc_eth_native_blocks): of each block its header and the transactions whose to, from,
 * value and hash all parse (the others, contract creations and malformed ones, carry no
 * transfer the desk can read). */
typedef struct rpc_native_tx {
    uint32_t index; /* the transaction's place in its block's list */
    addr to, from;
    u256 value;
    uint8_t hash[32];
} rpc_native_tx;

typedef struct rpc_native_block {
    bool ok;        /* an object with hash, timestamp and a transaction list */
    bool parent_ok; /* its parentHash parsed */
    bool number_ok; /* its number parsed (a block number: within 63 bits) */
    rpc_block hdr;
    size_t first, n; /* its candidates: txs[first .. first + n) */
} rpc_native_block;

typedef struct rpc_native_blocks {
    rpc_native_block *blocks; /* one per block asked for, in order */
    size_t n;
    rpc_native_tx *txs;
    size_t ntx;
} rpc_native_blocks;

/* Blocks first .. first + n - 1 with their transactions, in one batch whose answer is read
 * as it arrives (the full blocks are never held as JSON). -1 with e set when the batch
 * failed or a block came back with an error; a block that is not a block says so in ok. */
int rpc_eth_native_blocks(rpc_client *c, uint64_t first, size_t n, rpc_native_blocks *out,
                          err *e) RPC_WUR;
void rpc_native_blocks_free(rpc_native_blocks *b);

typedef struct rpc_log_filter {
    uint64_t from, to;     /* inclusive block range */
    const addr *addresses; /* NULL/0: any */
    size_t n_addresses;
    const uint8_t (*topic0)[32]; /* NULL/0: any; else one of these */
    size_t n_topic0;
} rpc_log_filter;

int rpc_eth_chain_id(rpc_client *c, uint64_t *out, err *e) RPC_WUR;
int rpc_eth_block_number(rpc_client *c, uint64_t *out, err *e) RPC_WUR;
/* By number, or by tag ("latest", "safe", "finalized") when tag is non-NULL.
 * *found is false when the node does not have the block (null result). */
int rpc_eth_get_block(rpc_client *c, uint64_t number, const char *tag, rpc_block *out, bool *found,
                      err *e) RPC_WUR;
/* Blocks [from, from + n) in one batch; every one must exist. */
int rpc_eth_get_blocks(rpc_client *c, uint64_t from, size_t n, rpc_block *out, err *e) RPC_WUR;
/* Logs sorted by (block number, log index). Range errors come back as RPC_RANGE. */
int rpc_eth_get_logs(rpc_client *c, const rpc_log_filter *f, rpc_log_list *out, err *e) RPC_WUR;
/* One range's logs for rpc_eth_get_logs_ranges: 1 stops the walk, 0 goes on, -1 (e set)
 * fails it. The list is the walk's: it is freed after the call. */
typedef int (*rpc_logs_fn)(void *ud, const rpc_log_list *l, err *e);
/* The logs of f's range read range by range, in block order, the way hosted providers
 * take them: each request at most max_blocks (0: no bound of the caller's) and at most
 * what the endpoint is known to take (rpc_logs_range_cap); a range refused as too large
 * or too many results (RPC_RANGE, RPC_TIMEOUT) is asked again smaller (half, or the
 * provider's suggestion, which the client also remembers for the endpoint). fn sees each
 * range's logs; the walk ends at f->to or when fn returns 1. Never holds more than one
 * range's answer. Fails when the node refuses the logs of even one block. */
int rpc_eth_get_logs_ranges(rpc_client *c, const rpc_log_filter *f, uint64_t max_blocks,
                            rpc_logs_fn fn, void *ud, err *e) RPC_WUR;
/* tag NULL means "latest"; to NULL runs data as creation code. */
int rpc_eth_call(rpc_client *c, const addr *to, const uint8_t *data, size_t len, const char *tag,
                 buf *out, err *e) RPC_WUR;
int rpc_eth_get_code(rpc_client *c, const addr *a, const char *tag, buf *out, err *e) RPC_WUR;
/* Whether the chain executes transient storage (EIP-1153, Cancun), which every guarded
 * function of the escrow contracts needs: eth_call of a few bytes of creation code that
 * TSTOREs and TLOADs. *yes false when the node refuses it; -1 only when it cannot be asked. */
int rpc_probe_cancun(rpc_client *c, bool *yes, err *e) RPC_WUR;
int rpc_eth_get_balance(rpc_client *c, const addr *a, const char *tag, u256 *out, err *e) RPC_WUR;
int rpc_eth_get_transaction_count(rpc_client *c, const addr *a, const char *tag, uint64_t *out,
                                  err *e) RPC_WUR;
int rpc_eth_send_raw_transaction(rpc_client *c, const uint8_t *raw, size_t len,
                                 uint8_t hash_out[32], err *e) RPC_WUR;

typedef struct rpc_receipt {
    bool success; /* status 0x1 */
    uint64_t block_number;
    uint8_t block_hash[32];
    uint32_t tx_index;
    uint64_t gas_used;
    u256 effective_gas_price;
    bool has_contract_address;
    addr contract_address;
} rpc_receipt;

/* *found false while the transaction is not mined (null result). */
int rpc_eth_get_transaction_receipt(rpc_client *c, const uint8_t hash[32], rpc_receipt *out,
                                    bool *found, err *e) RPC_WUR;

typedef struct rpc_call_args {
    const addr *from;  /* NULL: none */
    const addr *to;    /* NULL: contract creation */
    const u256 *value; /* NULL: none */
    const uint8_t *data;
    size_t data_len;
} rpc_call_args;

int rpc_eth_estimate_gas(rpc_client *c, const rpc_call_args *a, uint64_t *out, err *e) RPC_WUR;

typedef struct rpc_fee_history {
    uint64_t oldest_block;
    size_t n_blocks; /* base_fees has n_blocks + 1 entries */
    u256 *base_fees;
    double *gas_used_ratio; /* n_blocks entries (a ratio, not money) */
    size_t n_percentiles;
    u256 *rewards; /* n_blocks * n_percentiles, row-major; NULL if none */
} rpc_fee_history;

void rpc_fee_history_free(rpc_fee_history *h);
int rpc_eth_fee_history(rpc_client *c, unsigned block_count, const char *newest,
                        const double *percentiles, size_t n_percentiles, rpc_fee_history *out,
                        err *e) RPC_WUR;
int rpc_eth_max_priority_fee(rpc_client *c, u256 *out, err *e) RPC_WUR;
int rpc_eth_gas_price(rpc_client *c, u256 *out, err *e) RPC_WUR;

#endif
