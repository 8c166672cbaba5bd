/* screen.h: AML screening rules, pure. The sync and desk services feed escrow events (and
 * proposed desk actions) to screen_event() and get back hits: rule, evidence, score and the
 * hash of the list snapshot used. No SQLite, network or terminal here: entities arrive
 * through a lookup callback, lists through loaders, flagged addresses through a set the
 * service fills. One screen_ctx is not thread-safe: give each thread its own or lock. */
#ifndef FUSION_COMPLIANCE_SCREEN_H
#define FUSION_COMPLIANCE_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"

/* ---- dates: days since 1970-01-01 (UTC) ---- */

#define SCREEN_NO_DATE INT32_MIN
#define SCREEN_DATE_MAX 11 /* "YYYY-MM-DD" + NUL */

/* Strict "YYYY-MM-DD" (a real calendar day, years 1970..9999). */
int screen_date_parse(int32_t *day, const char *s, err *e) __attribute__((warn_unused_result));
void screen_date_format(char out[SCREEN_DATE_MAX], int32_t day);
/* The UTC day of a Unix timestamp. */
int32_t screen_day_of(uint64_t unix_ts);

/* ---- input: one event to screen ---- */

/* X(name, text): what happened. Escrow events come from sync; DESK_* are actions the
 * desk is about to take, screened before they are signed. */
#define SCREEN_KINDS(X)                                                                            \
    X(ESCROW_CREATED, "escrow created")                                                            \
    X(ESCROW_FUNDED, "escrow funded")                                                              \
    X(ESCROW_RELEASED, "escrow released")                                                          \
    X(ESCROW_REFUNDED, "escrow refunded")                                                          \
    X(ESCROW_DISPUTED, "escrow disputed")                                                          \
    X(DESK_FUND, "desk fund")                                                                      \
    X(DESK_APPROVE, "desk approve")                                                                \
    X(DESK_RELEASE, "desk release")                                                                \
    X(DESK_CREATE, "desk create")                                                                  \
    X(DESK_RESOLVE, "desk resolve")                                                                \
    X(LIST_UPDATE, "list update")                                                                  \
    X(INFLOW, "inflow")                                                                            \
    X(KYC_REVIEW, "kyc review")

typedef enum {
#define SCREEN_KIND_ENUM_(name, text) SCREEN_KIND_##name,
    SCREEN_KINDS(SCREEN_KIND_ENUM_)
#undef SCREEN_KIND_ENUM_
        SCREEN_KIND_COUNT
} screen_kind;

#define SCREEN_KIND_BIT(k) (1u << (k))
#define SCREEN_USD_UNKNOWN (-1.0)

typedef struct screen_input {
    screen_kind kind;
    uint64_t chain_id;
    addr escrow;
    addr payer;
    addr payee;
    addr token;          /* zero address: the chain's native coin */
    u256 amount;         /* exact, token base units */
    double usd_estimate; /* ESTIMATE (oracle price x amount), floating point; < 0 = unknown */
    uint64_t timestamp;  /* block timestamp, Unix seconds (desk actions: now) */
} screen_input;

/* ---- entities, as the rules see them ---- */

typedef enum {
    SCREEN_KYC_PENDING,
    SCREEN_KYC_VERIFIED,
    SCREEN_KYC_REJECTED,
    SCREEN_KYC_EXPIRED,
} screen_kyc;

typedef struct screen_link {
    uint64_t chain_id; /* 0: the address on every chain */
    addr address;
} screen_link;

typedef struct screen_entity {
    int64_t id;       /* > 0 */
    const char *name; /* may be NULL */
    screen_kyc kyc;
    int32_t kyc_expires;  /* day; SCREEN_NO_DATE when none is recorded */
    char jurisdiction[3]; /* ISO 3166-1 alpha-2, "" when unknown */
    const screen_link *links;
    size_t n_links;
} screen_entity;

/* How the rules find the entity linked to an address on a chain (NULL: none). The
 * returned entity must stay valid during the screen_event() call. */
typedef const screen_entity *(*screen_lookup_fn)(void *user, uint64_t chain_id, const addr *a);
typedef struct screen_entities {
    screen_lookup_fn lookup;
    void *user;
} screen_entities;

/* A ready-made in-memory index (hash map on address and chain). It stores pointers:
 * the entities and their links must outlive it. */
typedef struct screen_index screen_index;
int screen_index_new(screen_index **out, size_t expected, err *e)
    __attribute__((warn_unused_result));
void screen_index_free(screen_index **p);
/* Indexes every link of ent; ERR_EXISTS when a link already belongs to another entity. */
int screen_index_add(screen_index *idx, const screen_entity *ent, err *e)
    __attribute__((warn_unused_result));
/* The entity linked to a on chain_id (or on every chain), or NULL. */
const screen_entity *screen_index_lookup(const screen_index *idx, uint64_t chain_id, const addr *a);
/* The index as a lookup for screen_event(). */
screen_entities screen_index_entities(screen_index *idx);

/* ---- lists ---- */

#define SCREEN_VERSION_MAX 32 /* "YYYY-MM-DD/" + 16 hex + NUL */

typedef enum {
    SCREEN_LIST_TEXT, /* OFAC export: one address per line; non-EVM entries skipped */
    SCREEN_LIST_JSON, /* OFAC export: JSON array of address strings */
    SCREEN_LIST_DESK, /* desk list: "0xADDRESS [reason]" per line, '#' comments; strict */
} screen_list_format;

typedef struct screen_list_info {
    char version[SCREEN_VERSION_MAX]; /* "<as_of>/<first 16 hex of sha256>" */
    char as_of[SCREEN_DATE_MAX];
    uint8_t sha256[32];
    size_t n_addresses; /* distinct EVM addresses (sanctions) or jurisdictions (FATF) */
    size_t n_skipped;   /* non-EVM entries skipped (sanctions) */
    size_t n_duplicates;
    size_t n_sources; /* files that went in */
} screen_list_info;

/* Sanctions set: OFAC lists plus the desk's own list. Its SHA-256 covers every source:
 * sha256 over the lines "<sha256 hex of file>  <file basename>\n" in load order (what
 * `sha256sum FILES | sha256sum` prints when run in the files' directory). */
typedef struct screen_sanctions screen_sanctions;
/* An empty set for a snapshot taken on as_of ("YYYY-MM-DD"). */
int screen_sanctions_new(screen_sanctions **out, const char *as_of, err *e)
    __attribute__((warn_unused_result));
void screen_sanctions_free(screen_sanctions **p);
/* Adds one list held in memory; name appears in errors ("name:line: ...") and evidence.
 * On error the set may hold part of the list: free it and keep the previous one. */
int screen_sanctions_add(screen_sanctions *s, const char *name, const char *data, size_t len,
                         screen_list_format fmt, err *e) __attribute__((warn_unused_result));
int screen_sanctions_add_file(screen_sanctions *s, const char *path, screen_list_format fmt, err *e)
    __attribute__((warn_unused_result));
/* Builds a new set from a manifest ("as_of DATE" and "list FILE" lines, see
 * data/sanctions/manifest.txt) plus an optional desk list (NULL: none). All or nothing. */
int screen_sanctions_load(screen_sanctions **out, const char *manifest, const char *desk_list,
                          err *e) __attribute__((warn_unused_result));
bool screen_sanctions_contains(const screen_sanctions *s, const addr *a);
void screen_sanctions_info(const screen_sanctions *s, screen_list_info *out);

/* FATF jurisdiction lists (CSV "iso2,name,list,as_of"). */
typedef enum { SCREEN_RISK_NONE, SCREEN_RISK_MEDIUM, SCREEN_RISK_HIGH } screen_risk;
typedef struct screen_fatf screen_fatf;
int screen_fatf_parse(screen_fatf **out, const char *name, const char *data, size_t len, err *e)
    __attribute__((warn_unused_result));
int screen_fatf_load(screen_fatf **out, const char *path, err *e)
    __attribute__((warn_unused_result));
void screen_fatf_free(screen_fatf **p);
/* call_for_action = HIGH, increased_monitoring = MEDIUM, else NONE. */
screen_risk screen_fatf_risk(const screen_fatf *f, const char *iso2);
void screen_fatf_info(const screen_fatf *f, screen_list_info *out);

/* ---- configuration ---- */

typedef struct screen_config {
    double threshold_usd; /* reporting threshold of the large-amount and structuring rules */
    /* Event kinds that feed the structuring and velocity windows (each escrow once). */
    uint32_t window_kinds;
    struct {
        bool on;
        int score;
    } sanctions, prior_hit, unknown, large;
    struct {
        bool on;
        int score;           /* pending, expired, missing expiry */
        int score_rejected;  /* rejected */
        bool require_expiry; /* a verified entity without an expiry date is a hit */
    } kyc;
    struct {
        bool on;
        int score_high;   /* FATF call for action */
        int score_medium; /* FATF increased monitoring */
    } jurisdiction;
    struct {
        bool on;
        int score;
        unsigned min_count; /* this many in-band escrows ... */
        uint64_t window_s;  /* ... within this many seconds (inclusive) */
        double band_low;    /* in band: band_low * threshold <= usd < band_high * threshold */
        double band_high;
    } structuring;
    struct {
        bool on;
        int score;
        uint64_t window_s;  /* rolling window, inclusive */
        unsigned max_count; /* hit when the window holds more events than this ... */
        double max_usd;     /* ... or more USD (estimate) than this */
    } velocity;
} screen_config;

/* Defaults: every rule on; see docs/compliance.md for the values. */
void screen_config_default(screen_config *cfg);
int screen_config_check(const screen_config *cfg, err *e) __attribute__((warn_unused_result));

/* ---- hits ---- */

/* X(name, id text, description) */
#define SCREEN_RULES(X)                                                                            \
    X(SANCTIONS, "sanctions", "address on a sanctions list")                                       \
    X(PRIOR_HIT, "prior_hit", "contact with an address that had a confirmed hit")                  \
    X(UNKNOWN, "unknown_counterparty", "address linked to no entity")                              \
    X(KYC, "kyc", "KYC missing, pending, rejected or expired")                                     \
    X(JURISDICTION, "jurisdiction", "entity in a FATF high-risk jurisdiction")                     \
    X(LARGE, "large_amount", "amount at or above the USD threshold")                               \
    X(STRUCTURING, "structuring", "repeated amounts just below the threshold")                     \
    X(VELOCITY, "velocity", "too many or too much per payer per rolling window")

typedef enum {
#define SCREEN_RULE_ENUM_(name, id, desc) SCREEN_RULE_##name,
    SCREEN_RULES(SCREEN_RULE_ENUM_)
#undef SCREEN_RULE_ENUM_
        SCREEN_RULE_COUNT
} screen_rule;

typedef enum {
    SCREEN_ROLE_ESCROW,
    SCREEN_ROLE_PAYER,
    SCREEN_ROLE_PAYEE,
    SCREEN_ROLE_TOKEN,
} screen_role;

#define SCREEN_EVIDENCE_MAX 320
/* No event produces more hits than this. */
#define SCREEN_HITS_MAX 16

typedef struct screen_hit {
    screen_rule rule;
    int score;        /* 0..100 */
    screen_role role; /* the event's address the hit is about */
    addr address;
    int64_t entity_id; /* entity linked to that address, 0 if none */
    char evidence[SCREEN_EVIDENCE_MAX];
    /* The list snapshot the rule used (sanctions, FATF); zeros and "" for other rules. */
    uint8_t list_sha256[32];
    char list_version[SCREEN_VERSION_MAX];
    char list_as_of[SCREEN_DATE_MAX];
} screen_hit;

const char *screen_rule_id(screen_rule r);
const char *screen_kind_name(screen_kind k);
const char *screen_role_name(screen_role r);

/* ---- the screening context ---- */

typedef struct screen_ctx screen_ctx;

/* Takes ownership of the lists (the pointers are set NULL); either may be NULL when its
 * rule is off. */
int screen_ctx_new(screen_ctx **out, const screen_config *cfg, screen_sanctions **sanctions,
                   screen_fatf **fatf, err *e) __attribute__((warn_unused_result));
void screen_ctx_free(screen_ctx **p);
/* Reload: swaps in a new list (ownership taken, the old one freed). Build the new one
 * first: a failed load leaves the running list untouched. */
/* The desk's own accounts: the structuring and velocity windows of an escrow an own
 * account pays count for its counterparty (the payee), never for the own account; an
 * escrow between two own accounts feeds no window. */
int screen_ctx_own_add(screen_ctx *ctx, const addr *a, err *e) __attribute__((warn_unused_result));
void screen_ctx_own_clear(screen_ctx *ctx);
bool screen_ctx_is_own(const screen_ctx *ctx, const addr *a);
void screen_ctx_set_sanctions(screen_ctx *ctx, screen_sanctions **s);
void screen_ctx_set_fatf(screen_ctx *ctx, screen_fatf **f);
const screen_sanctions *screen_ctx_sanctions(const screen_ctx *ctx);
const screen_fatf *screen_ctx_fatf(const screen_ctx *ctx);

/* The addresses with an earlier confirmed hit (the service fills this from its cases);
 * ref (e.g. a case id) is quoted in the evidence. */
int screen_ctx_flag(screen_ctx *ctx, const addr *a, int64_t ref, err *e)
    __attribute__((warn_unused_result));
bool screen_ctx_unflag(screen_ctx *ctx, const addr *a);

/* Forgets every payer window (after a reorg the service replays the affected events). */
void screen_ctx_reset_windows(screen_ctx *ctx);
/* Payers currently holding window state (for tests and memory accounting). */
size_t screen_ctx_payers(const screen_ctx *ctx);

/* Screens one event: writes up to max hits, *n_hits = hits found (all fit when max is
 * SCREEN_HITS_MAX). Events of the configured window kinds update the payer's windows, so
 * feed each event once. ents may be NULL (then every party is unknown). Fails only when
 * out of memory. */
int screen_event(screen_ctx *ctx, const screen_entities *ents, const screen_input *ev,
                 screen_hit *hits, size_t max, size_t *n_hits, err *e)
    __attribute__((warn_unused_result));

#endif
