/* api.h: the desk's HTTP API (`fusion serve`) for the systems around it: read everything,
 * propose escrows, sign nothing. Three layers: a pure core (routes, query and body checks,
 * token hashing, rate buckets, problem bodies: core.c), the service that answers a checked
 * request from the desk database (service.c, clients.c), and a thin libmicrohttpd shell
 * (server.c). Nothing here holds, asks for or unlocks a key: a proposal waits for a person
 * (`fusion proposal accept`, the UI's Approvals queue). */
#ifndef FUSION_API_H
#define FUSION_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/err.h"
#include "desk/desk.h"
#include "store/store.h"
#include "store/store_book.h"

/* ---- the pure core (core.c) ---- */

#define API_BODY_MAX 4096    /* a request body larger than this is refused (413) */
#define API_TOKEN_PREFIX "fpa_"
#define API_TOKEN_LEN (4 + 64) /* prefix and 32 random bytes in hex */
#define API_PAGE_MAX 500

/* X(id, method, path pattern, scope): every route; "{}" matches one path segment. */
#define API_ROUTES(X)                                                                              \
    X(HEALTH, "GET", "/v1/health", API_SCOPE_NONE)                                                 \
    X(PORTFOLIO, "GET", "/v1/portfolio", API_SCOPE_READ)                                           \
    X(RISK, "GET", "/v1/risk", API_SCOPE_READ)                                                     \
    X(ESCROWS, "GET", "/v1/escrows", API_SCOPE_READ)                                               \
    X(ESCROW, "GET", "/v1/escrows/{}/{}", API_SCOPE_READ)                                          \
    X(TRANSACTIONS, "GET", "/v1/transactions", API_SCOPE_READ)                                     \
    X(CASES, "GET", "/v1/cases", API_SCOPE_READ)                                                   \
    X(ENTITIES, "GET", "/v1/entities", API_SCOPE_PROPOSE)                                          \
    X(ALERTS, "GET", "/v1/alerts", API_SCOPE_READ)                                                 \
    X(CHAINS, "GET", "/v1/chains", API_SCOPE_READ)                                                 \
    X(EVENTS, "GET", "/v1/events", API_SCOPE_READ)                                                 \
    X(PROPOSALS, "GET", "/v1/proposals", API_SCOPE_READ)                                           \
    X(PROPOSAL, "GET", "/v1/proposals/{}", API_SCOPE_READ)                                         \
    X(PROPOSE_ESCROW, "POST", "/v1/proposals/escrow", API_SCOPE_PROPOSE)                           \
    X(PROPOSE_PAYMENT, "POST", "/v1/proposals/payment", API_SCOPE_PROPOSE)                         \
    X(PROPOSE_BRIDGE, "POST", "/v1/proposals/bridge", API_SCOPE_PROPOSE)

typedef enum { API_SCOPE_NONE, API_SCOPE_READ, API_SCOPE_PROPOSE } api_scope;

typedef enum {
    API_ROUTE_NONE,
#define API_ROUTE_ENUM_(id, m, p, s) API_ROUTE_##id,
    API_ROUTES(API_ROUTE_ENUM_)
#undef API_ROUTE_ENUM_
} api_route;

#define API_SEG_MAX 96
/* What a path matched: the route and its "{}" segments. */
typedef struct api_match {
    api_route route;
    api_scope scope;
    unsigned n_seg;
    char seg[2][API_SEG_MAX];
    bool path_known; /* the path exists with another method (405) */
} api_match;

/* Matches method and path (no query). route NONE: no such route (path_known: 405). */
void api_route_match(const char *method, const char *path, api_match *m);
const char *api_scope_str(api_scope s);
/* "read" or "propose". */
int api_scope_parse(api_scope *out, const char *s);

/* A problem (RFC 9457): status, a stable type slug, a title and one line of detail. */
typedef struct api_problem {
    int status;
    char type[40];
    char title[64];
    char detail[300];
    unsigned retry_after; /* 429: seconds */
} api_problem;

/* Fills p and returns -1 (so `return api_fail(p, ...)` reads as one line). */
int api_fail(api_problem *p, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The application/problem+json body of p (malloc'ed). */
char *api_problem_json(const api_problem *p);

/* One query parameter. */
typedef struct api_kv {
    const char *key, *value;
} api_kv;

/* The escrow list's query: offset, limit, q (filter text), sort, order. */
typedef struct api_page {
    size_t offset, limit;
    char q[128];
    int sort; /* desk_escrow_sort */
    bool descending;
    char state[16]; /* exact state filter ("" = any) */
    int64_t after;  /* id-keyed lists: rows after this id */
} api_page;

/* Reads a list's query parameters (allowed: the names in allowed, comma separated);
 * unknown or repeated parameters, bad numbers and limits out of range are 400s. */
int api_page_parse(api_page *out, const api_kv *kv, size_t n, const char *allowed,
                   api_problem *p) FUSION_WUR;

/* An escrow proposal as a client sends it (strings as given; checked against the desk by
 * the service). */
typedef struct api_escrow_req {
    char chain[64];
    char payee[80];
    char token[80];
    char amount[80]; /* base units, decimal digits */
    unsigned n_approvers;
    char approvers[STORE_MAX_APPROVERS][80];
    unsigned threshold;
    char deadline[40];
    char arbiter[80];
    uint64_t dispute_window;
    char operator_name[64]; /* the operator expected to sign (optional) */
    char reference[128];    /* the client's own reference (optional) */
    char to[64];            /* a bridge proposal's destination chain (chain is the source) */
    char route[8];          /* a bridge proposal's route: "cctp" (the default) or "ccip" */
} api_escrow_req;

/* Parses and checks the body of an escrow proposal: a JSON object with exactly the known
 * fields, each of its type and size; anything else is a 400 or 422 naming the field. */
int api_escrow_req_parse(api_escrow_req *out, const char *body, size_t len,
                         api_problem *p) FUSION_WUR;
/* The canonical JSON of a request (sorted keys, compact; malloc'ed). */
char *api_escrow_req_json(const api_escrow_req *r);
/* A payment proposal's body (chain, payee, token, amount, operator, reference; the other
 * fields of out stay empty), checked as api_escrow_req_parse checks an escrow's. */
int api_payment_req_parse(api_escrow_req *out, const char *body, size_t len,
                          api_problem *p) FUSION_WUR;
char *api_payment_req_json(const api_escrow_req *r);
/* A bridge proposal's body: chain (the source) and to (the destination), token (default
 * USDC), amount (base units), recipient, operator, reference; recipient is kept in payee. */
int api_bridge_req_parse(api_escrow_req *out, const char *body, size_t len,
                         api_problem *p) FUSION_WUR;
char *api_bridge_req_json(const api_escrow_req *r);

/* The hash a token is stored as: BLAKE2b-256 of the token, hex (out: 65 bytes). */
void api_token_hash(const char *token, char out[65]);
/* A new random token: API_TOKEN_PREFIX and 64 hex digits (out: API_TOKEN_LEN + 1). */
void api_token_new(char out[API_TOKEN_LEN + 1]);
/* The token of an "Authorization: Bearer TOKEN" header: 0 and *tok set, else -1. */
int api_bearer(const char *header, const char **tok);

/* A token bucket per client: rate tokens a second up to burst. */
typedef struct api_bucket {
    double tokens, last;
    bool primed;
} api_bucket;
/* Takes one token at time now (seconds); false and *retry_s (whole seconds, >= 1) when the
 * bucket is empty. */
bool api_bucket_take(api_bucket *b, double now, double rate, double burst, unsigned *retry_s);

/* Last-Event-ID / ?after=: a non-negative decimal id; -1 when malformed. */
int64_t api_event_id_parse(const char *s);

/* ---- clients (clients.c) ---- */

/* Adds client name with scope: a signed decision (api.client_add) of operator by; *token
 * receives the token, shown once (only its hash is stored). */
int api_client_add(store *s, const char *home, const char *by, const char *name,
                   api_scope scope, char token[API_TOKEN_LEN + 1], err *e) FUSION_WUR;
/* Revokes client name (api.client_revoke, a signed decision). */
int api_client_revoke(store *s, const char *home, const char *by, const char *name,
                      err *e) FUSION_WUR;
/* A client name: 1-63 of letters, digits, '-', '_', '.'. */
bool api_client_name_ok(const char *name);

/* ---- what a person does with a proposal (proposals.c) ---- */

/* Accepts pending escrow or payment proposal id: the desk's pipeline as d's operator
 * (their key, the checks, the pre-sign summary), then the proposal is accepted with the
 * escrow made. A bridge proposal is refused (api_proposal_accept_bridge accepts it). */
int api_proposal_accept(desk *d, const char *home, int64_t id, desk_result *res,
                        err *e) FUSION_WUR;
/* Accepts pending bridge proposal id through bridge_send's desk path as env's operator
 * (the route priced again, the policy, the recipient screened, the pre-sign summary, their
 * key); *bridge_id: the transfer. The proposal is accepted once the burn is sent, even when
 * the rest fails (then `fusion bridge resume` continues it and the error says so). */
struct bridge_env;
int api_proposal_accept_bridge(const struct bridge_env *env, int64_t id, int64_t *bridge_id,
                               err *e) FUSION_WUR;
/* Rejects pending proposal id (proposal.reject, a signed decision of operator by). */
int api_proposal_reject(store *s, const char *home, const char *by, int64_t id,
                        const char *reason, err *e) FUSION_WUR;

/* ---- the service (service.c) ---- */

typedef struct api_service api_service;

struct risk_snapshot;
struct risk_service_opts;
struct json_t;
/* The JSON of a risk snapshot, as `fusion risk report --json` writes it (the CLI passes its
 * own builder, so both say the same). */
typedef struct json_t *(*api_risk_json_fn)(const struct risk_snapshot *s);

typedef struct api_options {
    double rate;  /* requests a second per client */
    double burst; /* bucket size */
    /* /v1/portfolio and /v1/risk: a worker refreshes the risk service's snapshot every
     * risk_every_s seconds on its own connection (NULL: not served, 501) */
    api_risk_json_fn risk_json;
    unsigned risk_every_s;
    /* the change feed's retention: rows older than feed_days days, and all but the newest
     * feed_keep rows, are pruned at start and every minute (0: the defaults, 30 and
     * 1,000,000) */
    unsigned feed_days;
    int64_t feed_keep;
    /* the desk's book on a server (book.conf): attaches it to each reading store of the
     * service (pgstore's pg_desk_book_attach; NULL: desk.db): the escrows, checkpoints and
     * outbound transactions are read there; a server away answers 503 */
    int (*book_attach)(store *s, const char *home, err *e);
    /* the risk worker's view of the desk's book, as `fusion risk report`'s (the CLI's
     * risk_cli_book: the book attached to the worker's store, the value in flight from the
     * server's bridge legs; NULL: desk.db). The book's server away answers /v1/risk and
     * /v1/portfolio 503 book-unreachable, never the last snapshot. */
    int (*risk_book)(store *s, const char *home, struct risk_service_opts *o, err *e);
} api_options;

typedef struct api_request {
    const char *method, *path;
    const api_kv *query;
    size_t n_query;
    const char *authorization;
    const char *idem_key;
    const char *last_event_id;
    const char *content_type;
    const char *body;
    size_t body_len;
    bool body_too_large;
    double now; /* seconds (monotonic): the rate buckets */
} api_request;

typedef struct api_response {
    int status;
    const char *content_type;
    char *body; /* malloc'ed */
    unsigned retry_after;
    bool stream;     /* GET /v1/events: serve the feed from stream_from */
    int64_t stream_from;
    char client[STORE_API_NAME_MAX];
} api_response;

int api_service_new(api_service **out, const char *home, const api_options *o, err *e) FUSION_WUR;
void api_service_free(api_service **p);
/* Answers one request (thread-safe: one request at a time touches the database). */
void api_service_handle(api_service *sv, const api_request *rq, api_response *rs);
void api_response_clear(api_response *rs);
/* The feed rows after *last as server-sent events appended to out (at most cap bytes);
 * *last moves on. 0 with *n events written; 1 when client is no longer an active client
 * (revoked: its stream ends); -1 on a database error. */
int api_service_feed(api_service *sv, const char *client, int64_t *last, char *out, size_t cap,
                     size_t *n_out, err *e) FUSION_WUR;

/* ---- the server (server.c) ---- */

typedef struct api_server api_server;

typedef struct api_listen {
    const char *socket_path; /* unix socket (NULL: <home>/api.sock unless tcp) */
    const char *tcp;         /* "HOST:PORT" (NULL: none) */
    const char *tls_cert, *tls_key; /* PEM files: TLS on the TCP listener */
    bool insecure_tcp;       /* TCP without TLS (loopback benchmarks and tests) */
} api_listen;

int api_server_start(api_server **out, api_service *sv, const api_listen *l, err *e) FUSION_WUR;
/* The TCP port actually bound (port 0 given: the one the kernel chose). */
unsigned api_server_port(const api_server *s);
void api_server_stop(api_server **p);

#endif
