/* store_lists.c: imported screening list versions with their entries, and the inflows
 * (transfers into the desk's accounts) with the per-chain cursor of their scan. Both are
 * evidence: versions are never changed but for the re-screening mark, inflows a reorg
 * removed are marked reorged_at, never deleted. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

static const char SQL_LV_ADD[] =
    "INSERT INTO list_versions (name, kind, format, source, published, sha256, n_entries,"
    " n_skipped, n_added, n_removed, imported_at, operator)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
static const char SQL_LE_ADD[] =
    "INSERT INTO list_entries (version_id, key, detail, line) VALUES (?1, ?2, ?3, ?4)";
#define LV_COLS                                                                                    \
    "SELECT id, name, kind, format, source, published, sha256, n_entries, n_skipped, n_added,"    \
    " n_removed, imported_at, operator, coalesce(rescreened_at, 0) FROM list_versions"
static const char SQL_LV_ALL[] = LV_COLS " ORDER BY id";
static const char SQL_LV_NAME[] = LV_COLS " WHERE name = ?1 ORDER BY id";
static const char SQL_LV_CURRENT[] =
    LV_COLS " WHERE id IN (SELECT max(id) FROM list_versions GROUP BY name) ORDER BY id";
static const char SQL_LV_CURRENT_NAME[] =
    LV_COLS " WHERE id = (SELECT max(id) FROM list_versions WHERE name = ?1)";
static const char SQL_LE_LIST[] =
    "SELECT key, detail, line FROM list_entries WHERE version_id = ?1 ORDER BY key";
static const char SQL_LV_RESCREENED[] =
    "UPDATE list_versions SET rescreened_at = ?2 WHERE id = ?1 AND rescreened_at IS NULL";

int store_list_version_add(store *s, store_list_version *v, const store_list_entry *ents,
                           size_t n, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_LV_ADD, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, v->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, v->kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, v->format, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, v->source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, v->published, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, v->sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, v->n_entries);
    sqlite3_bind_int64(st, 8, v->n_skipped);
    sqlite3_bind_int64(st, 9, v->n_added);
    sqlite3_bind_int64(st, 10, v->n_removed);
    sqlite3_bind_int64(st, 11, v->imported_at);
    sqlite3_bind_text(st, 12, v->operator_name, -1, SQLITE_TRANSIENT);
    if (store_exec_stmt(s, st, "recording a list version", e) < 0)
        return -1;
    v->id = sqlite3_last_insert_rowid(s->db);
    for (size_t i = 0; i < n; i++) {
        st = store_stmt(s, SQL_LE_ADD, e);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, v->id);
        sqlite3_bind_text(st, 2, ents[i].key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, ents[i].detail, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, ents[i].line);
        if (store_exec_stmt(s, st, "recording a list entry", e) < 0)
            return -1;
    }
    return 0;
}

static int lv_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    store_list_version *v = item;
    v->id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, v->name, sizeof v->name);
    store_copy_text(st, 2, v->kind, sizeof v->kind);
    store_copy_text(st, 3, v->format, sizeof v->format);
    store_copy_text(st, 4, v->source, sizeof v->source);
    store_copy_text(st, 5, v->published, sizeof v->published);
    store_copy_text(st, 6, v->sha256, sizeof v->sha256);
    v->n_entries = sqlite3_column_int64(st, 7);
    v->n_skipped = sqlite3_column_int64(st, 8);
    v->n_added = sqlite3_column_int64(st, 9);
    v->n_removed = sqlite3_column_int64(st, 10);
    v->imported_at = sqlite3_column_int64(st, 11);
    store_copy_text(st, 12, v->operator_name, sizeof v->operator_name);
    v->rescreened_at = sqlite3_column_int64(st, 13);
    return 0;
}

int store_list_versions(store *s, const char *name, bool current_only, store_list_version **out,
                        size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    const char *sql = name ? (current_only ? SQL_LV_CURRENT_NAME : SQL_LV_NAME)
                           : (current_only ? SQL_LV_CURRENT : SQL_LV_ALL);
    sqlite3_stmt *st = store_stmt(s, sql, e);
    if (!st)
        return -1;
    if (name)
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    return store_collect(s, st, sizeof **out, lv_row, (void **)out, n, "listing list versions",
                         e);
}

static int le_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    store_list_entry *x = item;
    store_copy_text(st, 0, x->key, sizeof x->key);
    store_copy_text(st, 1, x->detail, sizeof x->detail);
    x->line = sqlite3_column_int64(st, 2);
    return 0;
}

int store_list_entries(store *s, int64_t version_id, store_list_entry **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_LE_LIST, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, version_id);
    return store_collect(s, st, sizeof **out, le_row, (void **)out, n, "listing list entries", e);
}

int store_list_mark_rescreened(store *s, int64_t version_id, int64_t at, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_LV_RESCREENED, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, version_id);
    sqlite3_bind_int64(st, 2, at);
    return store_exec_stmt(s, st, "marking a list version re-screened", e);
}

/* ---- inflows ---- */

static const char SQL_IN_PUT[] =
    "INSERT OR IGNORE INTO inflows (chain_id, block_number, block_hash, tx_hash, log_index,"
    " token, sender, recipient, amount, block_time, seen_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
#define IN_COLS                                                                                    \
    "SELECT id, chain_id, block_number, block_hash, tx_hash, log_index, token, sender,"           \
    " recipient, amount, block_time, seen_at, coalesce(screened_at, 0), coalesce(reorged_at, 0)"  \
    " FROM inflows"
static const char SQL_IN_PENDING[] =
    IN_COLS " WHERE screened_at IS NULL AND reorged_at IS NULL ORDER BY id";
static const char SQL_IN_RECENT[] =
    IN_COLS " WHERE seen_at >= ?1 AND reorged_at IS NULL ORDER BY id";
static const char SQL_IN_SCREENED[] = "UPDATE inflows SET screened_at = ?2 WHERE id = ?1";
static const char SQL_IN_REORG[] =
    "UPDATE inflows SET reorged_at = ?3 WHERE chain_id = ?1 AND block_number >= ?2"
    " AND reorged_at IS NULL";
static const char SQL_CUR_GET[] = "SELECT next_block FROM inflow_cursor WHERE chain_id = ?1";
static const char SQL_CUR_SET[] =
    "INSERT INTO inflow_cursor (chain_id, next_block) VALUES (?1, ?2)"
    " ON CONFLICT (chain_id) DO UPDATE SET next_block = excluded.next_block";
static const char SQL_CUR_BACK[] =
    "UPDATE inflow_cursor SET next_block = ?2 WHERE chain_id = ?1 AND next_block > ?2";

int store_inflow_put(store *s, const store_inflow *f, bool *inserted, err *e)
{
    *inserted = false;
    sqlite3_stmt *st = store_stmt(s, SQL_IN_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, f->chain_id);
    store_bind_u64(st, 2, f->block_number);
    store_bind_hash(st, 3, f->block_hash);
    store_bind_hash(st, 4, f->tx_hash);
    store_bind_u64(st, 5, f->log_index);
    store_bind_addr(st, 6, &f->token);
    store_bind_addr(st, 7, &f->sender);
    store_bind_addr(st, 8, &f->recipient);
    store_bind_u256(st, 9, &f->amount);
    sqlite3_bind_int64(st, 10, f->block_time);
    sqlite3_bind_int64(st, 11, f->seen_at);
    if (store_exec_stmt(s, st, "recording an inflow", e) < 0)
        return -1;
    *inserted = sqlite3_changes(s->db) > 0;
    return 0;
}

static int in_row(sqlite3_stmt *st, void *item, err *e)
{
    store_inflow *f = item;
    f->id = sqlite3_column_int64(st, 0);
    f->chain_id = store_col_u64(st, 1);
    f->block_number = store_col_u64(st, 2);
    if (store_col_hash(st, 3, f->block_hash) < 0 || store_col_hash(st, 4, f->tx_hash) < 0 ||
        store_col_addr(st, 6, &f->token) < 0 || store_col_addr(st, 7, &f->sender) < 0 ||
        store_col_addr(st, 8, &f->recipient) < 0 || store_col_u256(st, 9, &f->amount) < 0)
        return err_set(e, ERR_STATE, "inflow #%lld is damaged", (long long)f->id);
    f->log_index = store_col_u64(st, 5);
    f->block_time = sqlite3_column_int64(st, 10);
    f->seen_at = sqlite3_column_int64(st, 11);
    f->screened_at = sqlite3_column_int64(st, 12);
    f->reorged_at = sqlite3_column_int64(st, 13);
    return 0;
}

/* ---- inflows on a desk whose book is on a server (store_set_reader) ----
 * The rows are the server's (the sync writes them there); the screening marks are this
 * desk.db's, by the server's id (inflows_screened), as screened_escrows' are. An id is one
 * database's: each mark names the database it was made on (its identity as the reader's
 * feed_state gives it, the feed copy's: cluster system identifier / database oid / name),
 * and a pass uses only the marks of the database it reads, so book.conf switched to another
 * database neither skips that database's inflows below the old cursors nor counts as
 * screened its inflows that share an id with a marked one. The other databases' marks (and
 * those from before marks named one: book '') are kept, used by no pass. */

static const char SQL_IN_MARKED[] =
    "SELECT 1 FROM inflows_screened WHERE book = ?1 AND book_id = ?2";
static const char SQL_IN_MARK[] =
    "INSERT INTO inflows_screened (book, book_id, screened_at, chain_id)"
    " VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (book, book_id) DO UPDATE SET screened_at = excluded.screened_at,"
    " chain_id = excluded.chain_id";
/* each chain's last inflow marked on the database (the index inflows_screened_chain) */
static const char SQL_IN_CURSORS[] =
    "SELECT chain_id, max(book_id) FROM inflows_screened WHERE book = ?1"
    " AND chain_id IS NOT NULL GROUP BY chain_id ORDER BY chain_id";

/* Each chain's cursor: the last inflow of the chain desk.db marked on database book. */
static int book_inflow_cursors(store *s, const char *book, uint64_t **chains, int64_t **after,
                               size_t *n, err *e)
{
    *chains = NULL;
    *after = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_IN_CURSORS, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, book, -1, SQLITE_TRANSIENT);
    size_t cap = 0, cap2 = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)chains, &cap, *n, sizeof **chains, e) < 0 ||
            store_grow((void **)after, &cap2, *n, sizeof **after, e) < 0) {
            sqlite3_reset(st);
            goto fail;
        }
        (*chains)[*n] = store_col_u64(st, 0);
        (*after)[*n] = sqlite3_column_int64(st, 1);
        (*n)++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        store_fail(s, e, "reading the inflows' screening marks");
        goto fail;
    }
    return 0;
fail:
    free(*chains);
    free(*after);
    *chains = NULL;
    *after = NULL;
    *n = 0;
    return -1;
}

/* The book's unscreened inflows less those marked in desk.db on its database, in the
 * book's id order; book: that database's identity, read BEFORE the inflows: should the
 * connection reach another database in between, the inflows read are marked as of the
 * first one, whose marks the next pass (reading the other's identity) does not use, so
 * they are read again: a screening repeated, never one skipped.
 * Only those after each chain's last marked one are read: a pass marks every inflow it
 * read in one transaction, and the ids of one chain's inflows become visible in the order
 * they were drawn: the chain's rows are written only by its syncer, which holds the chain's
 * advisory lock on the server (pg_lock.c: one syncer per chain) and writes them on its one
 * connection one transaction at a time (pg_sync.c's range commit and inflow scan, after
 * their check of the chain's checkpoint), so no row of the chain below a marked id can
 * still appear. Across chains the ids interleave (two syncers): hence a cursor per chain.
 * A reorged inflow is not read (as before); one re-found after a reorg is a new row, with
 * a new id. The rows after the cursors are still checked against the marks (marks from
 * before desk.db kept their chain name none). */
static int book_inflow_pending(store *s, char *book, size_t cap, store_inflow **out, size_t *n,
                               err *e)
{
    int64_t last, horizon;
    if (s->rd->feed_state(s->rconn, &last, &horizon, book, cap, e) < 0)
        return err_prefix(e, "reading the identity of the book's database");
    uint64_t *chains = NULL;
    int64_t *after = NULL;
    size_t nc = 0;
    if (book_inflow_cursors(s, book, &chains, &after, &nc, e) < 0)
        return -1;
    int rrc = s->rd->inflows(s->rconn, true, 0, chains, after, nc, out, n, e);
    free(chains);
    free(after);
    if (rrc < 0)
        return -1;
    return store_book_inflows_unmarked(s, SQL_IN_MARKED, book, out, n,
                                       "reading the inflows' screening marks", e);
}

int store_book_inflows_unmarked(store *s, const char *sql, const char *book, store_inflow **out,
                                size_t *n, const char *what, err *e)
{
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        sqlite3_stmt *st = store_stmt(s, sql, e);
        if (!st)
            goto fail;
        sqlite3_bind_text(st, 1, book, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (*out)[i].id);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            store_fail(s, e, what);
            goto fail;
        }
        if (rc == SQLITE_DONE)
            (*out)[k++] = (*out)[i];
    }
    *n = k;
    if (k == 0) { /* none left: an empty list, as desk.db's (no array to free) */
        free(*out);
        *out = NULL;
    }
    return 0;
fail:
    free(*out);
    *out = NULL;
    *n = 0;
    return -1;
}

int store_inflow_pending(store *s, char *book, size_t cap, store_inflow **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    if (cap)
        book[0] = '\0';
    if (s->rd)
        return book_inflow_pending(s, book, cap, out, n, e);
    sqlite3_stmt *st = store_stmt(s, SQL_IN_PENDING, e);
    if (!st)
        return -1;
    return store_collect(s, st, sizeof **out, in_row, (void **)out, n, "listing inflows", e);
}

int store_inflow_recent(store *s, int64_t since, store_inflow **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    if (s->rd)
        return s->rd->inflows(s->rconn, false, since, NULL, NULL, 0, out, n, e);
    sqlite3_stmt *st = store_stmt(s, SQL_IN_RECENT, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, since);
    return store_collect(s, st, sizeof **out, in_row, (void **)out, n, "listing inflows", e);
}

int store_inflow_mark_screened(store *s, const char *book, int64_t id, uint64_t chain_id,
                               int64_t at, err *e)
{
    if (s->rd && (!book || !book[0]))
        return err_set(e, ERR_STATE, "an inflow's screening mark names no database");
    sqlite3_stmt *st = store_stmt(s, s->rd ? SQL_IN_MARK : SQL_IN_SCREENED, e);
    if (!st)
        return -1;
    if (s->rd) {
        sqlite3_bind_text(st, 1, book, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
        sqlite3_bind_int64(st, 3, at);
        store_bind_u64(st, 4, chain_id);
    } else {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, at);
    }
    return store_exec_stmt(s, st, "marking an inflow screened", e);
}

int store_inflow_reorg(store *s, uint64_t chain_id, uint64_t from, size_t *marked, err *e)
{
    *marked = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_IN_REORG, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, from);
    sqlite3_bind_int64(st, 3, store_now());
    if (store_exec_stmt(s, st, "marking reorged inflows", e) < 0)
        return -1;
    *marked = (size_t)sqlite3_changes(s->db);
    st = store_stmt(s, SQL_CUR_BACK, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, from);
    return store_exec_stmt(s, st, "moving the inflow cursor back", e);
}

int store_inflow_cursor(store *s, uint64_t chain_id, uint64_t *next, bool *found, err *e)
{
    *next = 0;
    *found = false;
    sqlite3_stmt *st = store_stmt(s, SQL_CUR_GET, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *next = store_col_u64(st, 0);
        *found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading the inflow cursor");
    return 0;
}

int store_inflow_cursor_set(store *s, uint64_t chain_id, uint64_t next, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CUR_SET, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, next);
    return store_exec_stmt(s, st, "moving the inflow cursor", e);
}

/* ---- Travel Rule ---- */

static const char SQL_TR_GET[] =
    "SELECT entity_id, coalesce(street, ''), coalesce(town, ''), coalesce(postcode, ''),"
    " coalesce(country, ''), coalesce(national_id, ''), coalesce(national_id_type, ''),"
    " coalesce(birth_date, ''), coalesce(birth_place, ''), updated_at"
    " FROM entity_travel WHERE entity_id = ?1";
static const char SQL_TR_PUT[] =
    "INSERT INTO entity_travel (entity_id, street, town, postcode, country, national_id,"
    " national_id_type, birth_date, birth_place, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT (entity_id) DO UPDATE SET street = excluded.street, town = excluded.town,"
    " postcode = excluded.postcode, country = excluded.country,"
    " national_id = excluded.national_id, national_id_type = excluded.national_id_type,"
    " birth_date = excluded.birth_date, birth_place = excluded.birth_place,"
    " updated_at = excluded.updated_at";
static const char SQL_TREC_ADD[] =
    "INSERT INTO travel_records (chain_id, escrow, action, usd_estimate, ivms101, recorded_at,"
    " operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_TREC_GET[] =
    "SELECT ivms101 FROM travel_records WHERE chain_id = ?1 AND escrow = ?2"
    " ORDER BY id DESC LIMIT 1";

static int tr_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    store_entity_travel *t = item;
    t->entity_id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, t->street, sizeof t->street);
    store_copy_text(st, 2, t->town, sizeof t->town);
    store_copy_text(st, 3, t->postcode, sizeof t->postcode);
    store_copy_text(st, 4, t->country, sizeof t->country);
    store_copy_text(st, 5, t->national_id, sizeof t->national_id);
    store_copy_text(st, 6, t->national_id_type, sizeof t->national_id_type);
    store_copy_text(st, 7, t->birth_date, sizeof t->birth_date);
    store_copy_text(st, 8, t->birth_place, sizeof t->birth_place);
    t->updated_at = sqlite3_column_int64(st, 9);
    return 0;
}

int store_entity_travel_get(store *s, int64_t entity_id, store_entity_travel *out, bool *found,
                            err *e)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = store_stmt(s, SQL_TR_GET, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, entity_id);
    return store_get_row(s, st, tr_row, out, found, "reading Travel Rule data", e);
}

int store_entity_travel_put(store *s, const store_entity_travel *t, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_TR_PUT, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, t->entity_id);
    store_bind_opt_text(st, 2, t->street);
    store_bind_opt_text(st, 3, t->town);
    store_bind_opt_text(st, 4, t->postcode);
    store_bind_opt_text(st, 5, t->country);
    store_bind_opt_text(st, 6, t->national_id);
    store_bind_opt_text(st, 7, t->national_id_type);
    store_bind_opt_text(st, 8, t->birth_date);
    store_bind_opt_text(st, 9, t->birth_place);
    sqlite3_bind_int64(st, 10, t->updated_at);
    return store_exec_stmt(s, st, "writing Travel Rule data", e);
}

int store_travel_record_add(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                            double usd, const char *ivms_json, int64_t at,
                            const char *operator_name, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_TREC_ADD, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, escrow);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 4, usd);
    sqlite3_bind_text(st, 5, ivms_json, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, at);
    sqlite3_bind_text(st, 7, operator_name, -1, SQLITE_TRANSIENT);
    return store_exec_stmt(s, st, "recording Travel Rule data", e);
}

int store_travel_record_get(store *s, uint64_t chain_id, const addr *escrow, char **json,
                            bool *found, err *e)
{
    *json = NULL;
    *found = false;
    sqlite3_stmt *st = store_stmt(s, SQL_TREC_GET, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, escrow);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        *json = strdup(t ? t : "{}");
        *found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading Travel Rule data");
    if (*found && !*json)
        return err_set(e, ERR_NOMEM, "out of memory reading Travel Rule data");
    return 0;
}
