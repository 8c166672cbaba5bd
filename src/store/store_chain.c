/* store_chain.c: the desk's configuration aggregate: chains, their RPC endpoints
 * with a health record each, configured contracts and tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_internal.h"

static const char *const health_names[] = {"unknown", "ok", "degraded", "down"};
static const char *const kind_names[] = {"factory", "escrow", "token", "feed", "htlc",
                                             "vault"};

const char *store_health_str(store_health h)
{
    return (unsigned)h < 4 ? health_names[h] : "unknown";
}

static store_health health_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, health_names[i]) == 0)
            return (store_health)i;
    return STORE_HEALTH_UNKNOWN;
}

const char *store_contract_kind_str(store_contract_kind k)
{
    return (unsigned)k < 6 ? kind_names[k] : "?";
}

int store_contract_kind_parse(store_contract_kind *out, const char *s, err *e)
{
    for (int i = 0; i < 6; i++) {
        if (s && strcmp(s, kind_names[i]) == 0) {
            *out = (store_contract_kind)i;
            return 0;
        }
    }
    return err_set(e, ERR_INVALID,
                   "unknown contract kind \"%.40s\" (factory, escrow, token, feed, htlc or vault)",
                   s ? s : "");
}

/* ---- chains ---- */

static const char SQL_CHAIN_ADD[] =
    "INSERT INTO chains (chain_id, name, confirmations, native_symbol, native_decimals,"
    " start_block, created_at, explorer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_CHAIN_GET[] =
    "SELECT chain_id, name, confirmations, native_symbol, native_decimals, start_block,"
    " explorer FROM chains WHERE chain_id = ?";
static const char SQL_CHAIN_BY_NAME[] =
    "SELECT chain_id, name, confirmations, native_symbol, native_decimals, start_block,"
    " explorer FROM chains WHERE name = ?";
static const char SQL_CHAIN_LIST[] =
    "SELECT chain_id, name, confirmations, native_symbol, native_decimals, start_block,"
    " explorer FROM chains ORDER BY name";
static const char SQL_CHAIN_DEL[] = "DELETE FROM chains WHERE chain_id = ?";

static void chain_row(sqlite3_stmt *st, store_chain *c)
{
    memset(c, 0, sizeof *c);
    c->chain_id = store_col_u64(st, 0);
    store_copy_text(st, 1, c->name, sizeof c->name);
    c->confirmations = (unsigned)sqlite3_column_int(st, 2);
    store_copy_text(st, 3, c->native_symbol, sizeof c->native_symbol);
    c->native_decimals = (unsigned)sqlite3_column_int(st, 4);
    c->start_block = store_col_u64(st, 5);
    store_copy_text(st, 6, c->explorer, sizeof c->explorer);
}

int store_chain_add(store *s, const store_chain *c, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CHAIN_ADD, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, c->chain_id);
    sqlite3_bind_text(st, 2, c->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, (int)c->confirmations);
    sqlite3_bind_text(st, 4, c->native_symbol[0] ? c->native_symbol : "ETH", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, (int)c->native_decimals);
    store_bind_u64(st, 6, c->start_block);
    sqlite3_bind_int64(st, 7, store_now());
    sqlite3_bind_text(st, 8, c->explorer, -1, SQLITE_TRANSIENT);
    if (store_exec_stmt(s, st, "adding a chain", e) < 0) {
        if (e && e->code == ERR_EXISTS)
            err_set(e, ERR_EXISTS, "a chain with id %llu or name \"%s\" is already configured",
                    (unsigned long long)c->chain_id, c->name);
        return -1;
    }
    return 0;
}

static int chain_get_one(store *s, sqlite3_stmt *st, store_chain *out, bool *found, err *e)
{
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        chain_row(st, out);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading a chain");
    return 0;
}

int store_chain_get(store *s, uint64_t chain_id, store_chain *out, bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CHAIN_GET, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return chain_get_one(s, st, out, found, e);
}

int store_chain_find_name(store *s, const char *name, store_chain *out, bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CHAIN_BY_NAME, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    return chain_get_one(s, st, out, found, e);
}

static int chain_fill(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    store_chain *p = item;
    chain_row(st, p);
    return 0;
}

int store_chain_list(store *s, store_chain **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_CHAIN_LIST, e);
    if (!st)
        return -1;
    return store_collect(s, st, sizeof(**out), chain_fill, (void **)out, n, "listing chains", e);
}

int store_chain_remove(store *s, uint64_t chain_id, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CHAIN_DEL, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return store_exec_stmt(s, st, "removing a chain", e);
}

/* ---- endpoints ---- */

static const char SQL_EP_ADD[] =
    "INSERT INTO rpc_endpoints (chain_id, url, priority) VALUES (?, ?, ?)";
static const char SQL_EP_LIST[] =
    "SELECT id, chain_id, url, priority, health, last_error, last_ok, last_fail, latency_ms,"
    " range_cap, limited_until FROM rpc_endpoints WHERE chain_id = ? ORDER BY priority, id";
static const char SQL_EP_OK[] =
    "UPDATE rpc_endpoints SET health = ?, last_ok = ? WHERE chain_id = ? AND url = ?";
static const char SQL_EP_FAIL[] =
    "UPDATE rpc_endpoints SET health = ?, last_error = ?, last_fail = ?"
    " WHERE chain_id = ? AND url = ?";
static const char SQL_EP_STATS[] =
    "UPDATE rpc_endpoints SET latency_ms = ?, range_cap = ?, limited_until = ?"
    " WHERE chain_id = ? AND url = ?";

int store_endpoint_add(store *s, uint64_t chain_id, const char *url, int priority, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_EP_ADD, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    sqlite3_bind_text(st, 2, url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, priority);
    if (store_exec_stmt(s, st, "adding an RPC endpoint", e) < 0) {
        if (e && e->code == ERR_EXISTS)
            err_set(e, ERR_EXISTS, "the same RPC endpoint is given twice for chain %llu",
                    (unsigned long long)chain_id); /* not the URL: it may carry a key */
        return -1;
    }
    return 0;
}

static int endpoint_fill(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    store_endpoint *p = item;
    p->id = sqlite3_column_int64(st, 0);
    p->chain_id = store_col_u64(st, 1);
    store_copy_text(st, 2, p->url, sizeof p->url);
    p->priority = sqlite3_column_int(st, 3);
    p->health = health_parse((const char *)sqlite3_column_text(st, 4));
    store_copy_text(st, 5, p->last_error, sizeof p->last_error);
    p->last_ok = sqlite3_column_int64(st, 6);
    p->last_fail = sqlite3_column_int64(st, 7);
    p->has_latency = sqlite3_column_type(st, 8) != SQLITE_NULL;
    p->latency_ms = p->has_latency ? sqlite3_column_int64(st, 8) : 0;
    p->range_cap = sqlite3_column_type(st, 9) != SQLITE_NULL ? store_col_u64(st, 9) : 0;
    p->limited_until = sqlite3_column_int64(st, 10);
    return 0;
}

int store_endpoint_list(store *s, uint64_t chain_id, store_endpoint **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_EP_LIST, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return store_collect(s, st, sizeof(**out), endpoint_fill, (void **)out, n,
                         "listing RPC endpoints", e);
}

int store_endpoint_set_health(store *s, uint64_t chain_id, const char *url, store_health h,
                              const char *error, int64_t when, err *e)
{
    sqlite3_stmt *st;
    if (!error) {
        st = store_stmt(s, SQL_EP_OK, e);
        if (!st)
            return -1;
        sqlite3_bind_text(st, 1, store_health_str(h), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, when);
        store_bind_u64(st, 3, chain_id);
        sqlite3_bind_text(st, 4, url, -1, SQLITE_TRANSIENT);
    } else {
        st = store_stmt(s, SQL_EP_FAIL, e);
        if (!st)
            return -1;
        sqlite3_bind_text(st, 1, store_health_str(h), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, error, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, when);
        store_bind_u64(st, 4, chain_id);
        sqlite3_bind_text(st, 5, url, -1, SQLITE_TRANSIENT);
    }
    return store_exec_stmt(s, st, "recording endpoint health", e);
}

int store_endpoint_set_stats(store *s, uint64_t chain_id, const char *url, int64_t latency_ms,
                             uint64_t range_cap, int64_t limited_until, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_EP_STATS, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, latency_ms);
    if (range_cap)
        store_bind_u64(st, 2, range_cap);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, limited_until);
    store_bind_u64(st, 4, chain_id);
    sqlite3_bind_text(st, 5, url, -1, SQLITE_TRANSIENT);
    return store_exec_stmt(s, st, "recording endpoint statistics", e);
}

/* ---- contracts ---- */

static const char SQL_CONTRACT_PUT[] =
    "INSERT INTO contracts (chain_id, kind, address, deployed_block, version)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (chain_id, address) DO UPDATE SET kind = excluded.kind,"
    " deployed_block = excluded.deployed_block, version = excluded.version";
static const char SQL_CONTRACT_LIST[] =
    "SELECT chain_id, kind, address, deployed_block, version FROM contracts WHERE chain_id = ?"
    " ORDER BY kind, address";

int store_contract_put(store *s, const store_contract *c, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CONTRACT_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, c->chain_id);
    sqlite3_bind_text(st, 2, store_contract_kind_str(c->kind), -1, SQLITE_STATIC);
    store_bind_addr(st, 3, &c->address);
    store_bind_u64(st, 4, c->deployed_block);
    sqlite3_bind_int(st, 5, c->version == 2 ? 2 : 1);
    return store_exec_stmt(s, st, "recording a contract", e);
}

static int contract_fill(sqlite3_stmt *st, void *item, err *e)
{
    store_contract *p = item;
    p->chain_id = store_col_u64(st, 0);
    err ignored;
    if (store_contract_kind_parse(&p->kind, (const char *)sqlite3_column_text(st, 1), &ignored) <
            0 ||
        store_col_addr(st, 2, &p->address) < 0)
        return err_set(e, ERR_INVALID, "the contracts table has a malformed row");
    p->deployed_block = store_col_u64(st, 3);
    p->version = sqlite3_column_int(st, 4) == 2 ? 2 : 1;
    return 0;
}

int store_contract_list(store *s, uint64_t chain_id, store_contract **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_CONTRACT_LIST, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return store_collect(s, st, sizeof(**out), contract_fill, (void **)out, n, "listing contracts",
                         e);
}

/* ---- tokens ---- */

static const char SQL_TOKEN_PUT[] =
    "INSERT INTO tokens (chain_id, symbol, address, decimals) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (chain_id, address) DO UPDATE SET symbol = excluded.symbol,"
    " decimals = excluded.decimals";
static const char SQL_TOKEN_LIST[] =
    "SELECT chain_id, symbol, address, decimals FROM tokens WHERE chain_id = ? ORDER BY symbol";

int store_token_put(store *s, const store_token *t, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_TOKEN_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, t->chain_id);
    sqlite3_bind_text(st, 2, t->symbol, -1, SQLITE_TRANSIENT);
    store_bind_addr(st, 3, &t->address);
    sqlite3_bind_int(st, 4, (int)t->decimals);
    return store_exec_stmt(s, st, "recording a token", e);
}

static int token_fill(sqlite3_stmt *st, void *item, err *e)
{
    store_token *p = item;
    p->chain_id = store_col_u64(st, 0);
    store_copy_text(st, 1, p->symbol, sizeof p->symbol);
    if (store_col_addr(st, 2, &p->address) < 0)
        return err_set(e, ERR_INVALID, "the tokens table has a malformed address");
    p->decimals = (unsigned)sqlite3_column_int(st, 3);
    return 0;
}

int store_token_list(store *s, uint64_t chain_id, store_token **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_TOKEN_LIST, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return store_collect(s, st, sizeof(**out), token_fill, (void **)out, n, "listing tokens", e);
}
