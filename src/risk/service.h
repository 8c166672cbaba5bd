/* service.h: the risk service (issue 7, live half). It glues the pure math of risk.h to the
 * desk: positions of the desk accounts on every configured chain (native and ERC20
 * balances in JSON-RPC batches, escrow exposure from the sync projection), prices from
 * Chainlink-style feeds (observed rounds stored), history from the shipped daily closes
 * extended by the observed rounds (one close per UTC day, while the days follow on),
 * then VaR/ES, backtest, credit line and stress, and the limit alerts persisted in the
 * store. Amounts stay exact (u256) in positions; USD figures are floating-point estimates.
 * risk_service_refresh is the one entry point the CLI, the UI and the sync loop call. */
#ifndef FUSION_RISK_SERVICE_H
#define FUSION_RISK_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "risk/risk.h"
#include "risk/risk_load.h"
#include "store/store.h"

/* A shipped data file: $FUSION_DATA/REL, else DIR/../data/REL (build tree) or
 * DIR/../share/fusion/REL (install), DIR holding the executable. rel is e.g.
 * "risk/collateral.csv" or "prices". */
int risk_data_file(const char *rel, char *out, size_t cap, err *e) RISK_WUR;

/* ---- limits (data/risk/limits.csv: columns limit,value; '#' comments) ---------------- */

typedef struct risk_limits {
    double var_1d;               /* historical 1-day VaR, USD; 0: no limit */
    double es_1d;                /* historical 1-day ES, USD; 0: no limit */
    double asset_share;          /* max share of one asset in the gross value (0..1); 0: none */
    double chain_share;          /* max share of one chain */
    double counterparty_share;   /* max escrow exposure to one counterparty / gross value */
    double margin_call_hf;       /* warning below (default 1.10); critical below 1.0 */
    int64_t price_max_age;       /* seconds (default 3600) */
    uint64_t sync_lag_blocks;    /* default 100 */
} risk_limits;

void risk_limits_default(risk_limits *l);
/* Unknown limit names, bad numbers and duplicates are errors naming file:line. */
int risk_limits_load(const char *path, risk_limits *out, err *e) RISK_WUR;
/* The limits a desk decides by: limits_path when given (a what-if), else <home>/risk-limits.csv
 * when the desk has one (on a signed desk: only as an admin last signed it, else an error),
 * else the shipped data/risk/limits.csv; home NULL: the given or shipped file. The risk
 * service and credit's price freshness read them through this. */
int risk_limits_of(const char *home, const char *limits_path, risk_limits *out,
                   err *e) RISK_WUR;
/* The same over a file's text already read (path names it in messages): what was hashed
 * is what is parsed. */
int risk_limits_parse(const char *path, const char *text, size_t len, risk_limits *out,
                      err *e) RISK_WUR;

/* ---- the snapshot ---------------------------------------------------------------------- */

/* BRIDGE_IN_FLIGHT: a bridge transfer between desk accounts whose burn is mined and whose
 * mint the desk has not seen: the value is on neither chain's balances, so it is counted
 * once, here, on the destination chain (docs/bridges.md). */
typedef enum {
    RISK_POS_WALLET,
    RISK_POS_ESCROW_LOCKED,
    RISK_POS_ESCROW_INCOMING,
    RISK_POS_BRIDGE_IN_FLIGHT
} risk_pos_kind;
const char *risk_pos_kind_str(risk_pos_kind k);

typedef struct risk_position {
    uint64_t chain_id;
    char chain[STORE_NAME_MAX];
    risk_pos_kind kind;
    addr account;                /* the desk account */
    bool native;                 /* else token holds the ERC20 */
    addr token;
    char asset[STORE_ASSET_MAX];
    u256 amount;                 /* exact base units */
    unsigned decimals;
    addr escrow;                 /* escrow kinds */
    addr counterparty;           /* escrow kinds: payee when locked, payer when incoming */
    double usd;                  /* estimate; NAN when the asset has no price */
} risk_position;

typedef struct risk_price_info {
    char asset[STORE_ASSET_MAX];
    double usd;                  /* estimate */
    bool oracle;                 /* false: last shipped daily close */
    uint64_t chain_id;           /* oracle: the feed used */
    addr feed;
    char round_id[32];
    int64_t updated_at;          /* oracle: updatedAt; history: that day's 00:00 UTC */
    bool stale;
} risk_price_info;

#define RISK_SPARK_DAYS 8     /* daily closes of the price sparkline: 7 days of moves */

typedef struct risk_asset_value {
    char asset[STORE_ASSET_MAX];
    double usd;                  /* wallet + escrow locked as payer (estimate) */
    bool in_var;                 /* has price history, so it is in the VaR */
    /* The last n_spark daily closes (oldest first; shipped history extended by observed
     * oracle rounds, as the VaR reads it), the newest on day spark_last_day. */
    double spark[RISK_SPARK_DAYS];
    size_t n_spark;
    int32_t spark_last_day;
} risk_asset_value;

typedef struct risk_chain_status {
    uint64_t chain_id;
    char name[STORE_NAME_MAX];
    bool reachable;
    uint64_t head;
    bool synced;
    uint64_t synced_block;
    bool balances_synced;    /* balances read at balances_block (else at latest: never synced) */
    uint64_t balances_block; /* the sync checkpoint when the balances were read */
    char error[200];
} risk_chain_status;

typedef struct risk_snapshot {
    int64_t as_of;
    addr *accounts;
    size_t n_accounts;
    risk_chain_status *chains;
    size_t n_chains;
    risk_position *pos;
    size_t n_pos;
    risk_price_info *prices;
    size_t n_prices;
    risk_asset_value *assets;
    size_t n_assets;
    double gross_usd;            /* sum of the asset values */
    double drawn;
    risk_limits limits;
    risk_params params;
    bool has_report;             /* false: see report_note */
    char report_note[ERR_MSG_MAX];
    risk_report report;          /* over the in_var assets, in assets[] order of those */
    char (*report_assets)[STORE_ASSET_MAX];
    size_t n_report_assets;
    int32_t hist_first, hist_last; /* days of the closes used */
    size_t hist_observed_days;   /* of them: days after the shipped closes, from oracle rounds */
    risk_scenarios *scen;        /* NULL: no stress table */
    store_alert_cond *conds;     /* the conditions that hold now */
    size_t n_conds;
    store_alert *alerts;         /* open alerts after this refresh */
    size_t n_alerts;
    size_t raised, cleared;
    /* A what-if (on a desk with a signed genesis, limits other than the desk's, or a drawn
     * amount given): the conditions are computed, the desk's alerts are left as they are (a
     * changed limit or drawn amount is a signed decision: `config sign risk-limits`, `risk
     * set-drawn`). */
    bool what_if;
} risk_snapshot;

typedef struct risk_service_opts {
    const char *home;            /* desk home: the key store's addresses are desk accounts */
    const addr *extra_accounts;  /* more desk accounts (may be NULL) */
    size_t n_extra;
    const char *limits_path;     /* NULL: <home>/risk-limits.csv, else the shipped one;
                                    given: a what-if (see risk_snapshot.what_if) */
    const char *collateral_path; /* NULL: the shipped risk/collateral.csv */
    const char *scenarios_path;  /* NULL: the shipped risk/scenarios.csv */
    const char *prices_dir;      /* NULL: the shipped prices/ */
    bool has_drawn;              /* else the desk setting drawn_usd, else 0; true: a what-if */
    double drawn;
    int64_t now;                 /* 0: the clock */
    risk_params params;
    /* true: the conditions are computed but the desk's alerts are neither raised nor
     * cleared (a pre-trade check reads the book; it decides nothing about alerts). */
    bool no_alert_sync;
    /* The desk's bridge transfers the value in flight is read from (*out malloc'ed), given
     * the desk's accounts (senders): NULL, desk.db's (store_bridge_list); a desk whose book
     * is on a server gives sync's sync_bridge_book_list (the server's legs, as `bridge
     * list` reads them, and the accounts' burns desk.db has no transfer of). Its failure
     * (the server away) fails the refresh with its one line. */
    int (*bridges)(store *s, const addr *senders, size_t n_senders, store_bridge **out,
                   size_t *n, err *e);
} risk_service_opts;

void risk_service_opts_default(risk_service_opts *o);

/* A feed's answer in USD the desk uses: finite, within [RISK_PRICE_MIN, RISK_PRICE_MAX]. An
 * observed round outside it is never a price (the risk service raises bad_price; credit
 * valuations skip it as the risk service's fallback does). */
bool risk_price_ok(double px);
/* A feed's positive answer with `decimals` decimals as USD per whole unit with 8 decimals
 * (truncated), when it is a price the desk uses (risk_price_ok's range). False otherwise:
 * *out_of_range true when the answer is outside that range (a feed answering 1e30 USD). */
bool risk_feed_usd_e8(const u256 *answer, unsigned decimals, u256 *out, bool *out_of_range);

/* A full refresh: reads every chain, stores the observed oracle rounds, computes the
 * report and synchronises the alerts (raised / refreshed / cleared). A chain that cannot
 * be reached is an alert, not a failure; failures are about the desk itself (database,
 * unreadable limits file). */
int risk_service_refresh(store *s, const risk_service_opts *o, risk_snapshot **out,
                         err *e) RISK_WUR;
void risk_snapshot_free(risk_snapshot **p);

/* An operator acknowledges alert id (open or cleared): the acknowledgement and its
 * "alert.ack" audit row (a signed decision on a desk with a genesis) commit together, or
 * neither does; *out is the alert after. ERR_NOT_FOUND when there is no such alert. The
 * one place an acknowledgement is written (CLI and UI). */
int risk_alert_ack(store *s, const char *home, const char *operator_name, int64_t id,
                   int64_t now, store_alert *out, err *e) RISK_WUR;

/* ---- pre-trade: the book after a proposed move (pure, over a snapshot) ------------------ */

/* A move of amount base units of asset (decimals) that the desk is about to sign:
 * - a bridge transfer: from_chain_id -> to_chain_id (the chain shares move);
 * - an escrow create/fund: to_counterparty, the value locked with it on from_chain_id (its
 *   counterparty share rises; the book keeps the value);
 * - a release: leaves_book, the value locked with from_counterparty leaves the book (gross,
 *   the asset, the chain and that counterparty fall; the others' shares rise). */
typedef struct risk_move {
    const char *asset;           /* symbol, as the snapshot names it */
    u256 amount;
    unsigned decimals;
    uint64_t from_chain_id;
    uint64_t to_chain_id;        /* 0 or from_chain_id: no chain change */
    bool to_counterparty;
    addr counterparty_to;
    bool leaves_book;
    bool from_counterparty;
    addr counterparty_from;
} risk_move;

typedef enum {
    RISK_BREACH_ASSET,
    RISK_BREACH_CHAIN,
    RISK_BREACH_COUNTERPARTY,
    RISK_BREACH_VAR
} risk_breach_kind;
const char *risk_breach_kind_str(risk_breach_kind k);

/* Shares are fractions of the gross value (0..1); VaR is USD (an estimate, see below). */
typedef struct risk_breach {
    risk_breach_kind kind;
    char name[64];               /* the asset, chain or counterparty (lower-case hex) */
    double before, after, limit;
} risk_breach;

#define RISK_PRETRADE_MAX 8

typedef struct risk_pretrade {
    bool priced;                 /* false: the asset moved has no price; nothing checked */
    double usd;                  /* the move's value (estimate) */
    double gross_before, gross_after;
    risk_breach breach[RISK_PRETRADE_MAX];
    size_t n_breach;             /* the first RISK_PRETRADE_MAX */
} risk_pretrade;

/* The limits of s->limits (0: off) after the move m, over the same figures the alerts use
 * (asset exposure, chain wallet + locked, escrow locked per counterparty, the gross value).
 * A limit is breached when the figure after the move is above it AND above the figure
 * before (a move that leaves a figure as it was, or lowers it, is not refused for it). The
 * VaR after is an estimate: the historical 1-day VaR scaled by the VaR assets' value after
 * / before (none of the moves above changes the asset mix otherwise). Pure: reads s only. */
int risk_pretrade_check(const risk_snapshot *s, const risk_move *m, risk_pretrade *out,
                        err *e) RISK_WUR;
/* One line of the breaches: "counterparty 0x.. share 20.0% -> 45.0% (limit 25.0%); ...". */
void risk_pretrade_format(char *out, size_t cap, const risk_pretrade *p);

#endif
