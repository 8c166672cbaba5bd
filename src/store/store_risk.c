/* store_risk.c: what the risk service keeps in the desk database: which oracle feed prices
 * which asset, the oracle rounds it has observed (one row per round id), the limit alerts
 * with their life cycle (raised, refreshed, cleared, acknowledged) and a few desk settings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_internal.h"

/* ---- feeds ---------------------------------------------------------------------------- */

static const char SQL_FEED_PUT[] =
    "INSERT INTO price_feeds (chain_id, address, asset, decimals, max_age) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (chain_id, address) DO UPDATE SET asset = excluded.asset,"
    " decimals = excluded.decimals, max_age = excluded.max_age";
static const char SQL_FEED_CONTRACT[] =
    "INSERT INTO contracts (chain_id, kind, address, deployed_block) VALUES (?, 'feed', ?, 0)"
    " ON CONFLICT (chain_id, address) DO UPDATE SET kind = 'feed'";
static const char SQL_FEED_LIST[] =
    "SELECT chain_id, address, asset, decimals, max_age FROM price_feeds"
    " WHERE ?1 = 0 OR chain_id = ?1 ORDER BY chain_id, asset, address";

int store_feed_put(store *s, const store_feed *f, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_FEED_CONTRACT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, f->chain_id);
    store_bind_addr(st, 2, &f->address);
    if (store_exec_stmt(s, st, "recording a feed contract", e) < 0)
        return -1;
    st = store_stmt(s, SQL_FEED_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, f->chain_id);
    store_bind_addr(st, 2, &f->address);
    sqlite3_bind_text(st, 3, f->asset, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, (int)f->decimals);
    sqlite3_bind_int64(st, 5, f->max_age);
    return store_exec_stmt(s, st, "recording a price feed", e);
}

static int feed_fill(sqlite3_stmt *st, void *item, err *e)
{
    store_feed *p = item;
    p->chain_id = store_col_u64(st, 0);
    if (store_col_addr(st, 1, &p->address) < 0)
        return err_set(e, ERR_INVALID, "the price_feeds table has a malformed address");
    store_copy_text(st, 2, p->asset, sizeof p->asset);
    p->decimals = (unsigned)sqlite3_column_int(st, 3);
    p->max_age = sqlite3_column_int64(st, 4);
    return 0;
}

int store_feed_list(store *s, uint64_t chain_id, store_feed **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_FEED_LIST, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return store_collect(s, st, sizeof(**out), feed_fill, (void **)out, n, "listing price feeds",
                         e);
}

/* ---- observed rounds -------------------------------------------------------------------- */

static const char SQL_OBS_PUT[] =
    "INSERT INTO price_observations (chain_id, feed, round_id, answer, updated_at, observed_at)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chain_id, feed, round_id) DO NOTHING";
static const char SQL_OBS_LIST[] =
    "SELECT chain_id, feed, round_id, answer, updated_at, observed_at FROM price_observations"
    " WHERE chain_id = ? AND feed = ? ORDER BY updated_at, CAST(round_id AS REAL)";

int store_price_obs_put(store *s, const store_price_obs *o, bool *inserted, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_OBS_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, o->chain_id);
    store_bind_addr(st, 2, &o->feed);
    sqlite3_bind_text(st, 3, o->round_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, o->answer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, o->updated_at);
    sqlite3_bind_int64(st, 6, o->observed_at ? o->observed_at : store_now());
    if (store_exec_stmt(s, st, "recording an oracle round", e) < 0)
        return -1;
    if (inserted)
        *inserted = sqlite3_changes(s->db) > 0;
    return 0;
}

static int obs_fill(sqlite3_stmt *st, void *item, err *e)
{
    store_price_obs *p = item;
    p->chain_id = store_col_u64(st, 0);
    if (store_col_addr(st, 1, &p->feed) < 0)
        return err_set(e, ERR_INVALID, "the price_observations table has a malformed address");
    store_copy_text(st, 2, p->round_id, sizeof p->round_id);
    store_copy_text(st, 3, p->answer, sizeof p->answer);
    p->updated_at = sqlite3_column_int64(st, 4);
    p->observed_at = sqlite3_column_int64(st, 5);
    return 0;
}

int store_price_obs_list(store *s, uint64_t chain_id, const addr *feed, store_price_obs **out,
                         size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_OBS_LIST, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, feed);
    return store_collect(s, st, sizeof(**out), obs_fill, (void **)out, n, "listing oracle rounds",
                         e);
}

/* ---- alerts --------------------------------------------------------------------------- */

static const char *const severity_names[] = {"info", "warning", "critical"};

const char *alert_severity_str(alert_severity sv)
{
    return (unsigned)sv < 3 ? severity_names[sv] : "?";
}

static alert_severity severity_parse(const char *t)
{
    for (int i = 0; i < 3; i++)
        if (t && strcmp(t, severity_names[i]) == 0)
            return (alert_severity)i;
    return ALERT_WARNING;
}

static const char SQL_ALERT_OPEN[] =
    "SELECT id, severity FROM risk_alerts WHERE key = ? AND cleared_at IS NULL";
static const char SQL_ALERT_INSERT[] =
    "INSERT INTO risk_alerts (key, kind, severity, message, value, limit_value, raised_at,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_ALERT_UPDATE[] =
    "UPDATE risk_alerts SET severity = ?, message = ?, value = ?, limit_value = ?,"
    " updated_at = ?, acked_at = CASE WHEN ? THEN NULL ELSE acked_at END,"
    " acked_by = CASE WHEN ? THEN NULL ELSE acked_by END, kind = ? WHERE id = ?";
static const char SQL_ALERT_OPEN_KEYS[] =
    "SELECT id, key FROM risk_alerts WHERE cleared_at IS NULL";
static const char SQL_ALERT_CLEAR[] =
    "UPDATE risk_alerts SET cleared_at = ?, updated_at = ? WHERE id = ?";
static const char SQL_ALERT_LIST[] =
    "SELECT id, key, kind, severity, message, value, limit_value, raised_at, updated_at,"
    " cleared_at, acked_at, acked_by FROM risk_alerts WHERE ?1 OR cleared_at IS NULL"
    " ORDER BY id DESC";
static const char SQL_ALERT_GET[] =
    "SELECT id, key, kind, severity, message, value, limit_value, raised_at, updated_at,"
    " cleared_at, acked_at, acked_by FROM risk_alerts WHERE id = ?";
static const char SQL_ALERT_ACK[] =
    "UPDATE risk_alerts SET acked_at = ?, acked_by = ? WHERE id = ?";

static void bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static bool cond_has_key(const store_alert_cond *conds, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(conds[i].key, key) == 0)
            return true;
    return false;
}

static int alert_upsert(store *s, const store_alert_cond *c, int64_t now, bool *raised, err *e)
{
    *raised = false;
    sqlite3_stmt *st = store_stmt(s, SQL_ALERT_OPEN, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, c->key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        alert_severity old = severity_parse((const char *)sqlite3_column_text(st, 1));
        sqlite3_reset(st);
        bool escalated = c->severity > old;
        st = store_stmt(s, SQL_ALERT_UPDATE, e);
        if (!st)
            return -1;
        sqlite3_bind_text(st, 1, alert_severity_str(c->severity), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->message, -1, SQLITE_TRANSIENT);
        bind_real_or_null(st, 3, c->value);
        bind_real_or_null(st, 4, c->limit);
        sqlite3_bind_int64(st, 5, now);
        sqlite3_bind_int(st, 6, escalated);
        sqlite3_bind_int(st, 7, escalated);
        sqlite3_bind_text(st, 8, c->kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 9, id);
        return store_exec_stmt(s, st, "refreshing an alert", e);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, e, "looking up an alert");
    st = store_stmt(s, SQL_ALERT_INSERT, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, c->key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, c->kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, alert_severity_str(c->severity), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->message, -1, SQLITE_TRANSIENT);
    bind_real_or_null(st, 5, c->value);
    bind_real_or_null(st, 6, c->limit);
    sqlite3_bind_int64(st, 7, now);
    sqlite3_bind_int64(st, 8, now);
    if (store_exec_stmt(s, st, "raising an alert", e) < 0)
        return -1;
    *raised = true;
    return 0;
}

/* Key prefixes owned by another writer (compliance SLA breaches, backup age, list age, KYC
 * dates, credit margin calls): the unscoped sync (the risk service) never clears them. */
static const char *const alert_scopes[] = {"case:", "backup:", "list:", "kyc:", "credit:"};

static bool alert_in_scope(const char *prefix, const char *key)
{
    if (prefix)
        return strncmp(key, prefix, strlen(prefix)) == 0;
    for (size_t i = 0; i < sizeof alert_scopes / sizeof alert_scopes[0]; i++)
        if (strncmp(key, alert_scopes[i], strlen(alert_scopes[i])) == 0)
            return false;
    return true;
}

int store_alert_sync(store *s, const store_alert_cond *conds, size_t n, int64_t now,
                     size_t *raised, size_t *cleared, err *e)
{
    return store_alert_sync_scope(s, NULL, conds, n, now, raised, cleared, e);
}

int store_alert_sync_scope(store *s, const char *prefix, const store_alert_cond *conds, size_t n,
                           int64_t now, size_t *raised, size_t *cleared, err *e)
{
    size_t n_raised = 0, n_cleared = 0;
    int64_t *gone = NULL;
    size_t gone_cap = 0, n_gone = 0;
    if (store_begin(s, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        bool r;
        if (alert_upsert(s, &conds[i], now, &r, e) < 0)
            goto fail;
        n_raised += r;
    }
    sqlite3_stmt *st = store_stmt(s, SQL_ALERT_OPEN_KEYS, e);
    if (!st)
        goto fail;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 1);
        if (cond_has_key(conds, n, key ? key : "") || !alert_in_scope(prefix, key ? key : ""))
            continue;
        if (store_grow((void **)&gone, &gone_cap, n_gone, sizeof *gone, e) < 0) {
            sqlite3_reset(st);
            goto fail;
        }
        gone[n_gone++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        store_fail(s, e, "listing open alerts");
        goto fail;
    }
    for (size_t i = 0; i < n_gone; i++) {
        st = store_stmt(s, SQL_ALERT_CLEAR, e);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, gone[i]);
        if (store_exec_stmt(s, st, "clearing an alert", e) < 0)
            goto fail;
        n_cleared++;
    }
    if (store_commit(s, e) < 0)
        goto fail;
    free(gone);
    if (raised)
        *raised = n_raised;
    if (cleared)
        *cleared = n_cleared;
    return 0;
fail:
    store_rollback(s);
    free(gone);
    return -1;
}

static double col_real_or_nan(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static void alert_from_row(sqlite3_stmt *st, store_alert *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, a->key, sizeof a->key);
    store_copy_text(st, 2, a->kind, sizeof a->kind);
    a->severity = severity_parse((const char *)sqlite3_column_text(st, 3));
    store_copy_text(st, 4, a->message, sizeof a->message);
    a->value = col_real_or_nan(st, 5);
    a->limit = col_real_or_nan(st, 6);
    a->raised_at = sqlite3_column_int64(st, 7);
    a->updated_at = sqlite3_column_int64(st, 8);
    a->cleared_at = sqlite3_column_int64(st, 9);
    a->acked_at = sqlite3_column_int64(st, 10);
    store_copy_text(st, 11, a->acked_by, sizeof a->acked_by);
}

static int alert_fill(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    store_alert *p = item;
    alert_from_row(st, p);
    return 0;
}

int store_alert_list(store *s, bool all, store_alert **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_ALERT_LIST, e);
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, all);
    return store_collect(s, st, sizeof(**out), alert_fill, (void **)out, n, "listing alerts", e);
}

int store_alert_get(store *s, int64_t id, store_alert *out, bool *found, err *e)
{
    *found = false;
    sqlite3_stmt *st = store_stmt(s, SQL_ALERT_GET, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        alert_from_row(st, out);
        *found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading an alert");
    return 0;
}

int store_alert_ack(store *s, int64_t id, const char *operator_name, int64_t now, bool *found,
                    err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ALERT_ACK, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, operator_name ? operator_name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, id);
    if (store_exec_stmt(s, st, "acknowledging an alert", e) < 0)
        return -1;
    *found = sqlite3_changes(s->db) > 0;
    return 0;
}

/* ---- settings ------------------------------------------------------------------------- */

static const char SQL_SET_GET[] = "SELECT value FROM risk_settings WHERE key = ?";
static const char SQL_SET_PUT[] =
    "INSERT INTO risk_settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,"
    " updated_by = excluded.updated_by";

int store_setting_get(store *s, const char *key, char *out, size_t cap, bool *found, err *e)
{
    *found = false;
    sqlite3_stmt *st = store_stmt(s, SQL_SET_GET, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        store_copy_text(st, 0, out, cap);
        *found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading a risk setting");
    return 0;
}

int store_setting_put(store *s, const char *key, const char *value, const char *operator_name,
                      err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_SET_PUT, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, store_now());
    sqlite3_bind_text(st, 4, operator_name ? operator_name : "", -1, SQLITE_TRANSIENT);
    return store_exec_stmt(s, st, "writing a risk setting", e);
}
