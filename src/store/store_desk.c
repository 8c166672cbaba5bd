/* store_desk.c: what the escrow workflows keep beside the chain's view: desk operators
 * (name, key address, roles), and per outbound transaction the operator who sent it,
 * the value it commits (for velocity limits), its pre-sign summary and last error. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_book.h"
#include "store/store_internal.h"

static const char SQL_OP_ADD[] =
    "INSERT INTO operators (name, address, roles, created_at) VALUES (?, ?, ?, ?)";
static const char SQL_OP_GET[] =
    "SELECT name, address, roles, created_at FROM operators WHERE name = ?";
static const char SQL_OP_ROLES[] = "UPDATE operators SET roles = ? WHERE name = ?";
static const char SQL_OP_REMOVE[] = "DELETE FROM operators WHERE name = ?";
static const char SQL_OP_LIST[] =
    "SELECT name, address, roles, created_at FROM operators ORDER BY name";
static const char SQL_OUT_GET[] =
    "SELECT id, chain_id, from_addr, nonce, hash, state, escrow, action, mined_block, reorged,"
    " created_at, last_seen, raw FROM outbound_txs WHERE id = ?";
static const char SQL_OUT_BY_HASH[] =
    "SELECT id, chain_id, from_addr, nonce, hash, state, escrow, action, mined_block, reorged,"
    " created_at, last_seen, raw FROM outbound_txs WHERE chain_id = ? AND hash = ?";
static const char SQL_OUT_NEXT_NONCE[] =
    "SELECT max(nonce) FROM outbound_txs WHERE chain_id = ? AND from_addr = ?"
    " AND state IN ('pending', 'sent')";
static const char SQL_OUT_IN_FLIGHT[] =
    "SELECT id FROM outbound_txs WHERE (?1 = 0 OR chain_id = ?1)"
    " AND state IN ('pending', 'sent', 'mined') ORDER BY id";
static const char SQL_OUT_SIBLINGS[] =
    "SELECT count(*) FROM outbound_txs o JOIN outbound_txs me ON me.id = ?1"
    " WHERE o.chain_id = me.chain_id AND o.from_addr = me.from_addr AND o.nonce = me.nonce"
    " AND o.id != me.id AND o.state != 'failed'";
static const char SQL_OUT_MARK_REPLACED[] =
    "UPDATE outbound_txs SET state = 'replaced', last_seen = ?2 WHERE id != ?1"
    " AND state IN ('pending', 'sent') AND (chain_id, from_addr, nonce) ="
    " (SELECT chain_id, from_addr, nonce FROM outbound_txs WHERE id = ?1)";
static const char SQL_OUT_SET_ESCROW[] = "UPDATE outbound_txs SET escrow = ? WHERE id = ?";
static const char SQL_DTX_PUT[] =
    "INSERT OR REPLACE INTO desk_txs (outbound_id, operator, asset, amount, summary, error)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_DTX_GET[] =
    "SELECT operator, asset, amount, summary, error FROM desk_txs WHERE outbound_id = ?";
static const char SQL_DTX_ERROR[] = "UPDATE desk_txs SET error = ? WHERE outbound_id = ?";
static const char SQL_DTX_SPENT[] =
    "SELECT d.amount FROM desk_txs d JOIN outbound_txs o ON o.id = d.outbound_id"
    " WHERE d.operator = ? AND o.chain_id = ? AND d.asset = ? AND o.action = ?"
    " AND o.created_at >= ? AND o.state NOT IN ('failed', 'dropped', 'replaced')"
    " AND NOT EXISTS (SELECT 1 FROM outbound_txs x WHERE x.id = ? AND x.chain_id = o.chain_id"
    " AND x.from_addr = o.from_addr AND x.nonce = o.nonce)";
static const char SQL_DTX_ACTOR[] =
    "SELECT d.operator FROM desk_txs d JOIN outbound_txs o ON o.id = d.outbound_id"
    " WHERE o.chain_id = ? AND o.escrow = ? AND o.action = ?"
    " AND o.state NOT IN ('failed', 'dropped', 'replaced') ORDER BY o.id LIMIT 1";

int store_operator_add(store *s, const store_operator *o, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_OP_ADD, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, o->name, -1, SQLITE_TRANSIENT);
    store_bind_addr(st, 2, &o->address);
    sqlite3_bind_text(st, 3, o->roles, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, o->created_at ? o->created_at : store_now());
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return err_set(e, ERR_EXISTS, "an operator named \"%s\" exists already", o->name);
    if (rc != SQLITE_DONE)
        return store_fail(s, e, "adding an operator");
    return 0;
}

static int op_row(sqlite3_stmt *st, void *item, err *e)
{
    store_operator *o = item;
    memset(o, 0, sizeof *o);
    store_copy_text(st, 0, o->name, sizeof o->name);
    if (store_col_addr(st, 1, &o->address) < 0)
        return err_set(e, ERR_INVALID, "operator %s has a malformed address", o->name);
    store_copy_text(st, 2, o->roles, sizeof o->roles);
    o->created_at = sqlite3_column_int64(st, 3);
    return 0;
}

int store_operator_get(store *s, const char *name, store_operator *out, bool *found, err *e)
{
    *found = false;
    sqlite3_stmt *st = store_stmt(s, SQL_OP_GET, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    return store_get_row(s, st, op_row, out, found, "reading an operator", e);
}

int store_operator_set_roles(store *s, const char *name, const char *roles, bool *found,
                            err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_OP_ROLES, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, roles, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    if (store_exec_stmt(s, st, "changing an operator's roles", e) < 0)
        return -1;
    *found = sqlite3_changes(s->db) > 0;
    return 0;
}

int store_operator_remove(store *s, const char *name, bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_OP_REMOVE, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (store_exec_stmt(s, st, "removing an operator", e) < 0)
        return -1;
    *found = sqlite3_changes(s->db) > 0;
    return 0;
}

int store_operator_list(store *s, store_operator **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_OP_LIST, e);
    if (!st)
        return -1;
    return store_collect(s, st, sizeof **out, op_row, (void **)out, n, "listing operators", e);
}

static const char *const state_names[] = {"pending", "sent",    "mined",   "confirmed",
                                          "failed",  "dropped", "replaced"};

static int out_row(sqlite3_stmt *st, store_outbound *o, uint8_t **raw, err *e)
{
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(st, 0);
    o->chain_id = store_col_u64(st, 1);
    if (store_col_addr(st, 2, &o->from) < 0 || store_col_hash(st, 4, o->hash) < 0)
        return err_set(e, ERR_INVALID, "outbound transaction %lld is malformed", (long long)o->id);
    o->nonce = store_col_u64(st, 3);
    const char *sn = (const char *)sqlite3_column_text(st, 5);
    for (int i = 0; i < 7; i++)
        if (sn && strcmp(sn, state_names[i]) == 0)
            o->state = (outbound_state)i;
    if (sqlite3_column_type(st, 6) != SQLITE_NULL && store_col_addr(st, 6, &o->escrow) == 0)
        o->has_escrow = true;
    store_copy_text(st, 7, o->action, sizeof o->action);
    o->mined_block = store_col_u64(st, 8);
    o->reorged = sqlite3_column_int(st, 9) != 0;
    o->created_at = sqlite3_column_int64(st, 10);
    o->last_seen = sqlite3_column_int64(st, 11);
    if (raw) {
        int len = sqlite3_column_bytes(st, 12);
        *raw = malloc(len > 0 ? (size_t)len : 1);
        if (!*raw)
            return err_set(e, ERR_NOMEM, "out of memory");
        if (len > 0)
            memcpy(*raw, sqlite3_column_blob(st, 12), (size_t)len);
        o->raw = *raw;
        o->raw_len = (size_t)len;
    }
    return 0;
}

int store_outbound_get(store *s, int64_t id, store_outbound *out, uint8_t **raw, bool *found,
                       err *e)
{
    *found = false;
    *raw = NULL;
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_GET, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        r = out_row(st, out, raw, e);
        *found = r == 0;
    } else if (rc != SQLITE_DONE) {
        r = store_fail(s, e, "reading an outbound transaction");
    }
    sqlite3_reset(st);
    return r;
}

int store_outbound_find_hash(store *s, uint64_t chain_id, const uint8_t hash[32],
                             store_outbound *out, bool *found, err *e)
{
    *found = false;
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_BY_HASH, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_hash(st, 2, hash);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        r = out_row(st, out, NULL, e);
        *found = r == 0;
    } else if (rc != SQLITE_DONE) {
        r = store_fail(s, e, "reading an outbound transaction");
    }
    sqlite3_reset(st);
    return r;
}

int store_outbound_next_nonce(store *s, uint64_t chain_id, const addr *from, uint64_t *next,
                              bool *any, err *e)
{
    *any = false;
    *next = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_NEXT_NONCE, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, from);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *any = true;
        *next = store_col_u64(st, 0) + 1;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading the local nonce");
    return 0;
}

int store_outbound_in_flight(store *s, uint64_t chain_id, int64_t **ids, size_t *n, err *e)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_IN_FLIGHT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    int64_t *items = NULL;
    size_t cap = 0, cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)&items, &cap, cnt, sizeof *items, e) < 0) {
            sqlite3_reset(st);
            free(items);
            return -1;
        }
        items[cnt++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(items);
        return store_fail(s, e, "listing transactions in flight");
    }
    *ids = items;
    *n = cnt;
    return 0;
}

int store_outbound_siblings(store *s, int64_t id, size_t *n, err *e)
{
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_SIBLINGS, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return store_fail(s, e, "counting replacements");
    return 0;
}

int store_outbound_mark_replaced(store *s, int64_t id, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_MARK_REPLACED, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, store_now());
    if (store_exec_stmt(s, st, "marking replaced transactions", e) < 0)
        return -1;
    return store_outbound_book_put_nonce(s, id, e);
}

int store_outbound_set_escrow(store *s, int64_t id, const addr *escrow, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_SET_ESCROW, e);
    if (!st)
        return -1;
    store_bind_addr(st, 1, escrow);
    sqlite3_bind_int64(st, 2, id);
    if (store_exec_stmt(s, st, "recording the escrow of a transaction", e) < 0)
        return -1;
    return store_outbound_book_put(s, id, e);
}

static const char SQL_OUT_SAME_NONCE[] =
    "SELECT o.id FROM outbound_txs o JOIN outbound_txs me ON me.id = ?1"
    " WHERE o.chain_id = me.chain_id AND o.from_addr = me.from_addr AND o.nonce = me.nonce";
static const char SQL_OUT_ALL_IDS[] = "SELECT id FROM outbound_txs ORDER BY id";

int store_outbound_book_put(store *s, int64_t id, err *e)
{
    if (!s->ob)
        return 0;
    store_outbound o;
    uint8_t *raw = NULL;
    bool found = false;
    if (store_outbound_get(s, id, &o, &raw, &found, e) < 0)
        return -1;
    int rc = found ? s->ob->put(s->ob_conn, &o, e) : 0;
    free(raw);
    return rc;
}

/* store_outbound_book_put of every row id of st (bound by the caller). */
static int book_put_ids(store *s, sqlite3_stmt *st, size_t *pushed, err *e)
{
    int64_t *ids = NULL;
    size_t cap = 0, n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)&ids, &cap, n, sizeof *ids, e) < 0) {
            sqlite3_reset(st);
            free(ids);
            return -1;
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(ids);
        return store_fail(s, e, "listing outbound transactions");
    }
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        r = store_outbound_book_put(s, ids[i], e);
    free(ids);
    if (pushed && r == 0)
        *pushed = n;
    return r;
}

int store_outbound_book_put_nonce(store *s, int64_t id, err *e)
{
    if (!s->ob)
        return 0;
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_SAME_NONCE, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return book_put_ids(s, st, NULL, e);
}

int store_outbound_book_push(store *s, size_t *pushed, err *e)
{
    if (pushed)
        *pushed = 0;
    if (!s->ob)
        return 0;
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_ALL_IDS, e);
    if (!st)
        return -1;
    return book_put_ids(s, st, pushed, e);
}

static const char SQL_OUT_HELD[] =
    "SELECT 1 FROM outbound_txs WHERE id = ?1 OR (chain_id = ?2 AND hash = ?3)";

/* Whether desk.db holds o's id or its hash. */
static int book_held_here(store *s, const store_outbound *o, bool *held, err *e)
{
    *held = false;
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_HELD, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, o->id);
    store_bind_u64(st, 2, o->chain_id);
    store_bind_hash(st, 3, o->hash);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "looking a transaction up");
    *held = rc == SQLITE_ROW;
    return 0;
}

int store_outbound_book_orphans(store *s, const addr *from, store_outbound **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    if (!s->ob)
        return 0;
    store_outbound *rows = NULL;
    size_t m = 0, k = 0;
    if (s->ob->pending_of(s->ob_conn, from, &rows, &m, e) < 0)
        return -1;
    for (size_t i = 0; i < m; i++) {
        bool held = true;
        if (book_held_here(s, &rows[i], &held, e) < 0) {
            free(rows);
            return -1;
        }
        if (!held)
            rows[k++] = rows[i];
    }
    if (k == 0) {
        free(rows);
        rows = NULL;
    }
    *out = rows;
    *n = k;
    return 0;
}

int store_outbound_book_drop(store *s, const store_outbound *o, bool *done, err *e)
{
    *done = false;
    if (!s->ob)
        return 0;
    bool held = true;
    if (book_held_here(s, o, &held, e) < 0)
        return -1;
    if (held)
        return 0;
    return s->ob->drop(s->ob_conn, o, store_now(), done, e);
}

int store_desk_tx_put(store *s, const store_desk_tx *d, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_DTX_PUT, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, d->outbound_id);
    sqlite3_bind_text(st, 2, d->operator_name, -1, SQLITE_TRANSIENT);
    store_bind_addr(st, 3, &d->asset);
    store_bind_u256(st, 4, &d->amount);
    if (d->summary)
        sqlite3_bind_text(st, 5, d->summary, -1, SQLITE_TRANSIENT);
    if (d->error[0])
        sqlite3_bind_text(st, 6, d->error, -1, SQLITE_TRANSIENT);
    return store_exec_stmt(s, st, "recording a desk transaction", e);
}

int store_desk_tx_get(store *s, int64_t outbound_id, store_desk_tx *out, bool *found, err *e)
{
    *found = false;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = store_stmt(s, SQL_DTX_GET, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, outbound_id);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        out->outbound_id = outbound_id;
        store_copy_text(st, 0, out->operator_name, sizeof out->operator_name);
        if (store_col_addr(st, 1, &out->asset) < 0 || store_col_u256(st, 2, &out->amount) < 0) {
            r = err_set(e, ERR_INVALID, "desk row of transaction %lld is malformed",
                        (long long)outbound_id);
        } else {
            const char *sum = (const char *)sqlite3_column_text(st, 3);
            if (sum && !(out->summary = strdup(sum)))
                r = err_set(e, ERR_NOMEM, "out of memory");
            store_copy_text(st, 4, out->error, sizeof out->error);
            *found = r == 0;
        }
    } else if (rc != SQLITE_DONE) {
        r = store_fail(s, e, "reading a desk transaction");
    }
    sqlite3_reset(st);
    return r;
}

int store_desk_tx_set_error(store *s, int64_t outbound_id, const char *error, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_DTX_ERROR, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, error, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, outbound_id);
    return store_exec_stmt(s, st, "recording a transaction error", e);
}

int store_desk_spent(store *s, const char *operator_name, uint64_t chain_id, const addr *asset,
                     const char *action, int64_t since, int64_t except_id, u256 *sum, err *e)
{
    *sum = u256_from_u64(0);
    sqlite3_stmt *st = store_stmt(s, SQL_DTX_SPENT, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, operator_name, -1, SQLITE_TRANSIENT);
    store_bind_u64(st, 2, chain_id);
    store_bind_addr(st, 3, asset);
    sqlite3_bind_text(st, 4, action, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, since);
    sqlite3_bind_int64(st, 6, except_id);
    int rc, r = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        u256 v;
        if (store_col_u256(st, 0, &v) < 0) {
            r = err_set(e, ERR_INVALID, "a desk amount is malformed");
            break;
        }
        if (u256_add(sum, sum, &v) < 0) {
            r = err_set(e, ERR_OVERFLOW, "the operator's spending overflows 256 bits");
            break;
        }
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = store_fail(s, e, "summing an operator's spending");
    sqlite3_reset(st);
    return r;
}

int store_desk_actor(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                     char *operator_name, size_t cap, bool *found, err *e)
{
    *found = false;
    sqlite3_stmt *st = store_stmt(s, SQL_DTX_ACTOR, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, escrow);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        store_copy_text(st, 0, operator_name, cap);
        *found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading who acted on an escrow");
    return 0;
}
