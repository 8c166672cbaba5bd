/* store_risk.h: the desk database's risk service data: oracle feeds, observed rounds, alerts,
 * settings (store_risk.c). Part of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_RISK_H
#define FUSION_STORE_STORE_RISK_H

#include "store/store_core.h"

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

#endif
