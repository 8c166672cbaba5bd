/* store_outbound.c: transactions the desk signed and sent (the escrow-workflow
 * issue drives them); sync flags those that relied on events a reorg took back. */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_book.h"
#include "store/store_internal.h"

static const char *const outbound_names[] = {"pending", "sent",    "mined",   "confirmed",
                                             "failed",  "dropped", "replaced"};

const char *outbound_state_str(outbound_state st)
{
    return (unsigned)st < 7 ? outbound_names[st] : "?";
}

static outbound_state outbound_parse(const char *s)
{
    for (int i = 0; i < 7; i++)
        if (s && strcmp(s, outbound_names[i]) == 0)
            return (outbound_state)i;
    return OUTBOUND_PENDING;
}

static const char SQL_OUT_ADD[] =
    "INSERT INTO outbound_txs (chain_id, from_addr, nonce, hash, raw, state, escrow, action,"
    " mined_block, created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_OUT_ADD_ID[] =
    "INSERT INTO outbound_txs (chain_id, from_addr, nonce, hash, raw, state, escrow, action,"
    " mined_block, created_at, last_seen, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_OUT_STATE[] =
    "UPDATE outbound_txs SET state = ?, mined_block = ?, last_seen = ? WHERE id = ?";
static const char SQL_OUT_FLAG_MINED[] =
    "UPDATE outbound_txs SET reorged = 1 WHERE chain_id = ? AND reorged = 0"
    " AND mined_block IS NOT NULL AND mined_block > ?";
static const char SQL_OUT_FLAG_ESCROW[] =
    "UPDATE outbound_txs SET reorged = 1 WHERE chain_id = ? AND reorged = 0 AND escrow = ?"
    " AND state IN ('pending', 'sent', 'mined')";
static const char SQL_OUT_LIST[] =
    "SELECT id, chain_id, from_addr, nonce, hash, state, escrow, action, mined_block, reorged,"
    " created_at, last_seen FROM outbound_txs WHERE ?1 = 0 OR chain_id = ?1 ORDER BY id DESC";

void store_outbound_book_attach(store *s, const store_outbound_book *b, void *conn)
{
    s->ob = b;
    s->ob_conn = conn;
    s->ob_open = false;
}

bool store_has_book(const store *s)
{
    return s && s->ob != NULL;
}

static int outbound_add_local(store *s, const store_outbound *o, int64_t id, int64_t *id_out,
                              err *e);

/* On a desk whose book is on a server: the row there first (its transaction left open
 * until desk.db's commits, store_commit), then desk.db's under the same id. */
static int outbound_add_book(store *s, const store_outbound *in, int64_t *id_out, err *e)
{
    if (s->ob_open)
        return err_set(e, ERR_INTERNAL, "two outbound transactions in one desk transaction");
    store_outbound o = *in;
    if (!o.created_at)
        o.created_at = store_now();
    bool own = !s->in_txn;
    if (own && store_begin(s, e) < 0)
        return -1;
    int64_t id = 0;
    if (s->ob->add(s->ob_conn, &o, &id, e) < 0) {
        if (own)
            store_rollback(s);
        return -1;
    }
    s->ob_open = true;
    if (outbound_add_local(s, &o, id, id_out, e) < 0) {
        if (own)
            store_rollback(s); /* else the caller's rollback ends the server's too */
        return -1;
    }
    return own ? store_commit(s, e) : 0;
}

int store_outbound_add(store *s, const store_outbound *o, int64_t *id_out, err *e)
{
    if (s->ob)
        return outbound_add_book(s, o, id_out, e);
    return outbound_add_local(s, o, 0, id_out, e);
}

static int outbound_add_local(store *s, const store_outbound *o, int64_t id, int64_t *id_out,
                              err *e)
{
    sqlite3_stmt *st = store_stmt(s, id ? SQL_OUT_ADD_ID : SQL_OUT_ADD, e);
    if (!st)
        return -1;
    if (id)
        sqlite3_bind_int64(st, 12, id);
    store_bind_u64(st, 1, o->chain_id);
    store_bind_addr(st, 2, &o->from);
    store_bind_u64(st, 3, o->nonce);
    store_bind_hash(st, 4, o->hash);
    sqlite3_bind_blob(st, 5, o->raw_len ? (const void *)o->raw : "", (int)o->raw_len,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 6, outbound_state_str(o->state), -1, SQLITE_STATIC);
    if (o->has_escrow)
        store_bind_addr(st, 7, &o->escrow);
    sqlite3_bind_text(st, 8, o->action, -1, SQLITE_TRANSIENT);
    if (o->mined_block)
        store_bind_u64(st, 9, o->mined_block);
    sqlite3_bind_int64(st, 10, o->created_at ? o->created_at : store_now());
    if (o->last_seen)
        sqlite3_bind_int64(st, 11, o->last_seen);
    if (store_exec_stmt(s, st, "recording an outbound transaction", e) < 0)
        return -1;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_outbound_set_state(store *s, int64_t id, outbound_state state, uint64_t mined_block,
                             int64_t seen_at, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_STATE, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, outbound_state_str(state), -1, SQLITE_STATIC);
    if (mined_block)
        store_bind_u64(st, 2, mined_block);
    sqlite3_bind_int64(st, 3, seen_at);
    sqlite3_bind_int64(st, 4, id);
    if (store_exec_stmt(s, st, "updating an outbound transaction", e) < 0)
        return -1;
    return store_outbound_book_put(s, id, e);
}

int store_outbound_flag_reorged(store *s, uint64_t chain_id, uint64_t fork_block,
                                const addr *escrows, size_t n, size_t *flagged, err *e)
{
    size_t total = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_FLAG_MINED, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, fork_block);
    if (store_exec_stmt(s, st, "flagging reorged transactions", e) < 0)
        return -1;
    total += (size_t)sqlite3_changes(s->db);
    for (size_t i = 0; i < n; i++) {
        st = store_stmt(s, SQL_OUT_FLAG_ESCROW, e);
        if (!st)
            return -1;
        store_bind_u64(st, 1, chain_id);
        store_bind_addr(st, 2, &escrows[i]);
        if (store_exec_stmt(s, st, "flagging reorged transactions", e) < 0)
            return -1;
        total += (size_t)sqlite3_changes(s->db);
    }
    if (flagged)
        *flagged = total;
    return 0;
}

static int outbound_fill(sqlite3_stmt *st, void *item, err *e)
{
    store_outbound *p = item;
    p->id = sqlite3_column_int64(st, 0);
    p->chain_id = store_col_u64(st, 1);
    if (store_col_addr(st, 2, &p->from) < 0 || store_col_hash(st, 4, p->hash) < 0)
        return err_set(e, ERR_INVALID, "an outbound transaction row is malformed");
    p->nonce = store_col_u64(st, 3);
    p->state = outbound_parse((const char *)sqlite3_column_text(st, 5));
    if (sqlite3_column_type(st, 6) != SQLITE_NULL && store_col_addr(st, 6, &p->escrow) == 0)
        p->has_escrow = true;
    store_copy_text(st, 7, p->action, sizeof p->action);
    p->mined_block = store_col_u64(st, 8);
    p->reorged = sqlite3_column_int(st, 9) != 0;
    p->created_at = sqlite3_column_int64(st, 10);
    p->last_seen = sqlite3_column_int64(st, 11);
    return 0;
}

/* The server's rows; one whose id desk.db holds for another transaction (recorded before
 * the desk's book was on the server, or written there by someone else) is not believed:
 * the list is refused, naming it, as the server's row refuses desk.db's state. */
static int book_list(store *s, uint64_t chain_id, store_outbound **out, size_t *n, err *e)
{
    if (s->ob->list(s->ob_conn, chain_id, out, n, e) < 0)
        return -1;
    for (size_t i = 0; i < *n; i++) {
        store_outbound mine;
        uint8_t *raw = NULL;
        bool found = false;
        int rc = store_outbound_get(s, (*out)[i].id, &mine, &raw, &found, e);
        free(raw);
        if (rc == 0 && found &&
            (mine.chain_id != (*out)[i].chain_id || memcmp(mine.hash, (*out)[i].hash, 32) != 0))
            rc = err_set(e, ERR_STATE,
                         "the book's server holds another transaction under id %lld than "
                         "desk.db: desk.db's was recorded before the desk's book was on the "
                         "server, or the server's row was written by someone else; copy the "
                         "desk again with `fusion db migrate --to`",
                         (long long)(*out)[i].id);
        if (rc < 0) {
            free(*out);
            *out = NULL;
            *n = 0;
            return -1;
        }
    }
    return 0;
}

int store_outbound_list(store *s, uint64_t chain_id, store_outbound **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    if (s->ob)
        return book_list(s, chain_id, out, n, e);
    sqlite3_stmt *st = store_stmt(s, SQL_OUT_LIST, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return store_collect(s, st, sizeof(**out), outbound_fill, (void **)out, n,
                         "listing outbound transactions", e);
}
