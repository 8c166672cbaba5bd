/* store_xswap.c: the cross-chain swap aggregate (xswaps): each HTLC swap's state, locks,
 * sealed secret (column `preimage`: a BLOB sealed by xswap/xswap.c, never the secret in
 * clear; text in it is from an older build and is not read) and the signed transaction
 * in flight, so that `fusion xswap resume` continues
 * after a crash exactly where the previous process stopped. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define COLS                                                                                       \
    "state, chain_x, chain_y, htlc_x, htlc_y, token_x, token_y, amount_x, amount_y, initiator,"    \
    " counterparty, hashlock, preimage, t1, t2, margin, lock_x, lock_x_block, lock_y,"             \
    " lock_y_block, pending_action, pending_chain, pending_hash, pending_raw, note, created_at,"   \
    " updated_at, y_from_block"

static const char SQL_ADD[] = "INSERT INTO xswaps (" COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                              " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_PUT[] =
    "UPDATE xswaps SET state = ?1, preimage = ?13, t2 = ?15, lock_x = ?17, lock_x_block = ?18,"
    " lock_y = ?19, lock_y_block = ?20, pending_action = ?21, pending_chain = ?22,"
    " pending_hash = ?23, pending_raw = ?24, note = ?25, updated_at = ?27 WHERE id = ?29";
static const char SQL_GET[] = "SELECT " COLS ", id FROM xswaps WHERE id = ?";
static const char SQL_LIST[] = "SELECT " COLS ", id FROM xswaps ORDER BY id";
static const char SQL_HASHLOCK[] =
    "SELECT id FROM xswaps WHERE hashlock = ? AND id <> ? ORDER BY id LIMIT 1";

static void bind_all(sqlite3_stmt *st, const store_xswap *x, int64_t now)
{
    sqlite3_bind_text(st, 1, x->state, -1, SQLITE_TRANSIENT);
    store_bind_u64(st, 2, x->chain_x);
    store_bind_u64(st, 3, x->chain_y);
    store_bind_addr(st, 4, &x->htlc_x);
    store_bind_addr(st, 5, &x->htlc_y);
    store_bind_addr(st, 6, &x->token_x);
    store_bind_addr(st, 7, &x->token_y);
    store_bind_u256(st, 8, &x->amount_x);
    store_bind_u256(st, 9, &x->amount_y);
    store_bind_addr(st, 10, &x->initiator);
    store_bind_addr(st, 11, &x->counterparty);
    store_bind_hash(st, 12, x->hashlock);
    if (x->sealed_secret_len)
        sqlite3_bind_blob(st, 13, x->sealed_secret, (int)x->sealed_secret_len, SQLITE_TRANSIENT);
    store_bind_u64(st, 14, x->t1);
    store_bind_u64(st, 15, x->t2);
    store_bind_u64(st, 16, x->margin);
    if (x->has_lock_x)
        store_bind_hash(st, 17, x->lock_x);
    store_bind_u64(st, 18, x->lock_x_block);
    if (x->has_lock_y)
        store_bind_hash(st, 19, x->lock_y);
    store_bind_u64(st, 20, x->lock_y_block);
    if (x->pending_action[0]) {
        sqlite3_bind_text(st, 21, x->pending_action, -1, SQLITE_TRANSIENT);
        store_bind_hash(st, 23, x->pending_hash);
        sqlite3_bind_blob(st, 24, x->pending_raw, (int)x->pending_raw_len, SQLITE_TRANSIENT);
    }
    store_bind_u64(st, 22, x->pending_chain);
    sqlite3_bind_text(st, 25, x->note, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 26, x->created_at ? x->created_at : now);
    sqlite3_bind_int64(st, 27, now);
    store_bind_u64(st, 28, x->y_from_block);
}

int store_xswap_add(store *s, const store_xswap *x, int64_t *id, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ADD, e);
    if (!st)
        return -1;
    bind_all(st, x, store_now());
    if (store_exec_stmt(s, st, "recording a swap", e) < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_xswap_put(store *s, const store_xswap *x, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_PUT, e);
    if (!st)
        return -1;
    bind_all(st, x, store_now());
    sqlite3_bind_int64(st, 29, x->id);
    if (store_exec_stmt(s, st, "updating a swap", e) < 0)
        return -1;
    if (sqlite3_changes(s->db) != 1)
        return err_set(e, ERR_NOT_FOUND, "no swap %lld", (long long)x->id);
    return 0;
}

static int read_row(sqlite3_stmt *st, void *item, err *e)
{
    store_xswap *x = item;
    memset(x, 0, sizeof *x);
    store_copy_text(st, 0, x->state, sizeof x->state);
    x->chain_x = store_col_u64(st, 1);
    x->chain_y = store_col_u64(st, 2);
    int bad = store_col_addr(st, 3, &x->htlc_x) | store_col_addr(st, 4, &x->htlc_y) |
              store_col_addr(st, 5, &x->token_x) | store_col_addr(st, 6, &x->token_y) |
              store_col_u256(st, 7, &x->amount_x) | store_col_u256(st, 8, &x->amount_y) |
              store_col_addr(st, 9, &x->initiator) | store_col_addr(st, 10, &x->counterparty) |
              store_col_hash(st, 11, x->hashlock);
    if (sqlite3_column_type(st, 12) == SQLITE_BLOB) {
        int n = sqlite3_column_bytes(st, 12);
        if (n <= 0 || (size_t)n > sizeof x->sealed_secret)
            bad = -1;
        else
            memcpy(x->sealed_secret, sqlite3_column_blob(st, 12), (size_t)n);
        x->sealed_secret_len = n > 0 && (size_t)n <= sizeof x->sealed_secret ? (size_t)n : 0;
    }
    x->t1 = store_col_u64(st, 13);
    x->t2 = store_col_u64(st, 14);
    x->margin = store_col_u64(st, 15);
    if (sqlite3_column_type(st, 16) != SQLITE_NULL) {
        x->has_lock_x = true;
        bad |= store_col_hash(st, 16, x->lock_x);
    }
    x->lock_x_block = store_col_u64(st, 17);
    if (sqlite3_column_type(st, 18) != SQLITE_NULL) {
        x->has_lock_y = true;
        bad |= store_col_hash(st, 18, x->lock_y);
    }
    x->lock_y_block = store_col_u64(st, 19);
    if (sqlite3_column_type(st, 20) != SQLITE_NULL) {
        store_copy_text(st, 20, x->pending_action, sizeof x->pending_action);
        bad |= store_col_hash(st, 22, x->pending_hash);
        int n = sqlite3_column_bytes(st, 23);
        if (n < 0 || (size_t)n > sizeof x->pending_raw)
            bad = -1;
        else if (n > 0)
            memcpy(x->pending_raw, sqlite3_column_blob(st, 23), (size_t)n);
        x->pending_raw_len = n > 0 ? (size_t)n : 0;
    }
    x->pending_chain = store_col_u64(st, 21);
    store_copy_text(st, 24, x->note, sizeof x->note);
    x->created_at = sqlite3_column_int64(st, 25);
    x->updated_at = sqlite3_column_int64(st, 26);
    x->y_from_block = store_col_u64(st, 27);
    x->id = sqlite3_column_int64(st, 28);
    if (bad)
        return err_set(e, ERR_INVALID, "swap %lld has a malformed column", (long long)x->id);
    return 0;
}

int store_xswap_get(store *s, int64_t id, store_xswap *out, bool *found, err *e)
{
    *found = false;
    sqlite3_stmt *st = store_stmt(s, SQL_GET, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return store_get_row(s, st, read_row, out, found, "reading a swap", e);
}

int store_xswap_list(store *s, store_xswap **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_LIST, e);
    if (!st)
        return -1;
    return store_collect(s, st, sizeof **out, read_row, (void **)out, n, "listing swaps", e);
}

int store_xswap_hashlock_other(store *s, const uint8_t hashlock[32], int64_t except_id,
                               int64_t *other, err *e)
{
    *other = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_HASHLOCK, e);
    if (!st)
        return -1;
    store_bind_hash(st, 1, hashlock);
    sqlite3_bind_int64(st, 2, except_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *other = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "looking up a swap's hashlock");
    return 0;
}
