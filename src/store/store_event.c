/* store_event.c: the chain-data aggregate: raw events (idempotent on
 * (chain_id, block_hash, log_index)), the recent block-hash window that reorg
 * detection walks, the per-chain checkpoint, and the rewind a reorg needs. */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_internal.h"

/* A bump allocator for the blobs of an event list. */
typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
} arena_chunk;

static void *arena_alloc(arena_chunk **head, size_t n)
{
    arena_chunk *c = *head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        arena_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->next = c;
        nc->used = 0;
        nc->cap = cap;
        *head = c = nc;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

void *store_event_list_alloc(store_event_list *l, size_t n)
{
    arena_chunk *head = l->arena_;
    void *p = arena_alloc(&head, n ? n : 1);
    l->arena_ = head;
    return p;
}

void store_event_list_free(store_event_list *l)
{
    if (!l)
        return;
    arena_chunk *c = l->arena_;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

static const char SQL_EVENT_PUT[] =
    "INSERT INTO events (chain_id, block_number, block_hash, tx_hash, tx_index, log_index,"
    " address, topic0, topic1, topic2, topic3, data, name, escrow)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (chain_id, block_number, log_index, block_hash) DO NOTHING";

/* Binds ev to the 14 parameters from base + 1 on. The hot path of a sync: hashes and
 * addresses are bound as the bytes they are, without copies (ev outlives the statement's
 * run); parameters left unbound are NULL (store_stmt clears them). */
static void event_bind(sqlite3_stmt *st, int base, const store_event *ev)
{
    store_bind_u64(st, base + 1, ev->chain_id);
    store_bind_u64(st, base + 2, ev->block_number);
    sqlite3_bind_blob(st, base + 3, ev->block_hash, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, base + 4, ev->tx_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, base + 5, ev->tx_index);
    sqlite3_bind_int64(st, base + 6, ev->log_index);
    sqlite3_bind_blob(st, base + 7, ev->address.b, ADDR_LEN, SQLITE_STATIC);
    for (unsigned i = 0; i < STORE_MAX_TOPICS && i < ev->n_topics; i++)
        sqlite3_bind_blob(st, base + 8 + (int)i, ev->topics[i], 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, base + 12, ev->data_len ? (const void *)ev->data : "",
                      (int)ev->data_len, SQLITE_STATIC);
    if (ev->name[0])
        sqlite3_bind_text(st, base + 13, ev->name, -1, SQLITE_STATIC);
    if (ev->has_escrow)
        sqlite3_bind_blob(st, base + 14, ev->escrow.b, ADDR_LEN, SQLITE_STATIC);
}

int store_event_put(store *s, const store_event *ev, bool *inserted, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_EVENT_PUT, e);
    if (!st)
        return -1;
    event_bind(st, 0, ev);
    int rc = store_exec_stmt(s, st, "storing an event", e);
    sqlite3_clear_bindings(st); /* nothing may point at the caller's event afterwards */
    if (rc < 0)
        return -1;
    if (inserted)
        *inserted = sqlite3_changes(s->db) == 1;
    return 0;
}

/* STORE_EVENT_BATCH rows in one statement: one VDBE run and one statement end for many
 * rows (a catch-up stores 100,000 events). Same conflict rule as SQL_EVENT_PUT, per row:
 * OR IGNORE, not ON CONFLICT DO NOTHING, so that no constraint of the statement can abort
 * it halfway: SQLite then keeps no statement journal (a copy of every page the statement
 * touches, before its first write). The other conflicts OR IGNORE would skip cannot
 * happen: event_bind binds every NOT NULL column from the event's own arrays and numbers
 * (data as a blob, empty or not), events has no CHECK, and its foreign key is checked at
 * COMMIT (DEFERRABLE INITIALLY DEFERRED, schema step write_paths). */
#define EV_ROW_ "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define EV_ROWS2_ EV_ROW_ ", " EV_ROW_
#define EV_ROWS4_ EV_ROWS2_ ", " EV_ROWS2_
#define EV_ROWS8_ EV_ROWS4_ ", " EV_ROWS4_
#define EV_ROWS16_ EV_ROWS8_ ", " EV_ROWS8_
#define EV_ROWS32_ EV_ROWS16_ ", " EV_ROWS16_
_Static_assert(STORE_EVENT_BATCH == 32, "SQL_EVENT_PUT_MANY holds 32 rows");
static const char SQL_EVENT_PUT_MANY[] =
    "INSERT OR IGNORE INTO events (chain_id, block_number, block_hash, tx_hash, tx_index,"
    " log_index, address, topic0, topic1, topic2, topic3, data, name, escrow)"
    " VALUES " EV_ROWS32_;
#undef EV_ROW_
#undef EV_ROWS2_
#undef EV_ROWS4_
#undef EV_ROWS8_
#undef EV_ROWS16_
#undef EV_ROWS32_

int store_event_put_many(store *s, const store_event *evs, size_t n, size_t *inserted, err *e)
{
    size_t done = 0, added = 0;
    while (n - done >= STORE_EVENT_BATCH) {
        sqlite3_stmt *st = store_stmt(s, SQL_EVENT_PUT_MANY, e);
        if (!st)
            return -1;
        for (int i = 0; i < STORE_EVENT_BATCH; i++)
            event_bind(st, 14 * i, &evs[done + (size_t)i]);
        int rc = store_exec_stmt(s, st, "storing events", e);
        sqlite3_clear_bindings(st); /* nothing may point at the caller's events afterwards */
        if (rc < 0)
            return -1;
        added += (size_t)sqlite3_changes(s->db);
        done += STORE_EVENT_BATCH;
    }
    for (; done < n; done++) {
        bool one = false;
        if (store_event_put(s, &evs[done], &one, e) < 0)
            return -1;
        added += one;
    }
    if (inserted)
        *inserted = added;
    return 0;
}

#define EVENT_COLS                                                                                 \
    "id, chain_id, block_number, block_hash, tx_hash, tx_index, log_index, address,"               \
    " topic0, topic1, topic2, topic3, data, name, escrow"

static const char SQL_EVENT_ESCROW[] =
    "SELECT " EVENT_COLS " FROM events WHERE chain_id = ? AND escrow = ?"
    " ORDER BY block_number, log_index";
static const char SQL_EVENT_RANGE[] =
    "SELECT " EVENT_COLS " FROM events WHERE chain_id = ? AND block_number BETWEEN ? AND ?"
    " ORDER BY block_number, log_index";

static int event_row(sqlite3_stmt *st, store_event *ev, arena_chunk **arena, err *e)
{
    memset(ev, 0, sizeof *ev);
    ev->id = sqlite3_column_int64(st, 0);
    ev->chain_id = store_col_u64(st, 1);
    ev->block_number = store_col_u64(st, 2);
    if (store_col_bytes(st, 3, ev->block_hash, 32) < 0 ||
        store_col_bytes(st, 4, ev->tx_hash, 32) < 0 ||
        store_col_bytes(st, 7, ev->address.b, ADDR_LEN) < 0)
        return err_set(e, ERR_INVALID, "event row %lld is malformed", (long long)ev->id);
    ev->tx_index = (uint32_t)sqlite3_column_int64(st, 5);
    ev->log_index = (uint32_t)sqlite3_column_int64(st, 6);
    for (int i = 0; i < STORE_MAX_TOPICS; i++) {
        if (sqlite3_column_type(st, 8 + i) == SQLITE_NULL)
            break;
        if (store_col_bytes(st, 8 + i, ev->topics[i], 32) < 0)
            return err_set(e, ERR_INVALID, "event row %lld has a malformed topic",
                           (long long)ev->id);
        ev->n_topics = (unsigned)i + 1;
    }
    int dlen = sqlite3_column_bytes(st, 12);
    const void *d = sqlite3_column_blob(st, 12);
    if (dlen > 0 && d) {
        uint8_t *p = arena_alloc(arena, (size_t)dlen);
        if (!p)
            return err_set(e, ERR_NOMEM, "out of memory reading events");
        memcpy(p, d, (size_t)dlen);
        ev->data = p;
        ev->data_len = (size_t)dlen;
    }
    store_copy_text(st, 13, ev->name, sizeof ev->name);
    if (sqlite3_column_type(st, 14) != SQLITE_NULL) {
        if (store_col_bytes(st, 14, ev->escrow.b, ADDR_LEN) < 0)
            return err_set(e, ERR_INVALID, "event row %lld has a malformed escrow",
                           (long long)ev->id);
        ev->has_escrow = true;
    }
    return 0;
}

static int event_list_run(store *s, sqlite3_stmt *st, store_event_list *out, err *e)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    arena_chunk *arena = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)&out->items, &cap, out->n, sizeof *out->items, e) < 0 ||
            event_row(st, &out->items[out->n], &arena, e) < 0)
            goto fail;
        out->n++;
    }
    out->arena_ = arena;
    if (rc != SQLITE_DONE) {
        store_fail(s, e, "reading events");
        goto fail;
    }
    sqlite3_reset(st);
    return 0;
fail:
    out->arena_ = arena;
    sqlite3_reset(st);
    store_event_list_free(out);
    return -1;
}

int store_event_list_escrow(store *s, uint64_t chain_id, const addr *escrow, store_event_list *out,
                            err *e)
{
    if (s->rd)
        return s->rd->event_list_escrow(s->rconn, chain_id, escrow, out, e);
    sqlite3_stmt *st = store_stmt(s, SQL_EVENT_ESCROW, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    sqlite3_bind_blob(st, 2, escrow->b, ADDR_LEN, SQLITE_TRANSIENT);
    return event_list_run(s, st, out, e);
}

int store_event_list_range(store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                           store_event_list *out, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_EVENT_RANGE, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, from);
    store_bind_u64(st, 3, to);
    return event_list_run(s, st, out, e);
}

static const char SQL_EVENT_COUNT[] = "SELECT count(*) FROM events WHERE chain_id = ?";

int store_event_count(store *s, uint64_t chain_id, uint64_t *out, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_EVENT_COUNT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return store_fail(s, e, "counting events");
    }
    *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

static int addr_list_run(store *s, sqlite3_stmt *st, addr **out, size_t *n, const char *what,
                         err *e)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)out, &cap, *n, sizeof **out, e) < 0)
            goto fail;
        if (store_col_bytes(st, 0, (*out)[*n].b, ADDR_LEN) < 0) {
            err_set(e, ERR_INVALID, "%s: malformed address in the desk database", what);
            goto fail;
        }
        (*n)++;
    }
    if (rc != SQLITE_DONE) {
        store_fail(s, e, what);
        goto fail;
    }
    sqlite3_reset(st);
    return 0;
fail:
    sqlite3_reset(st);
    free(*out);
    *out = NULL;
    *n = 0;
    return -1;
}

static const char SQL_EVENT_ESCROWS[] =
    "SELECT DISTINCT escrow FROM events WHERE chain_id = ? AND escrow IS NOT NULL";

int store_event_escrows(store *s, uint64_t chain_id, addr **out, size_t *n, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_EVENT_ESCROWS, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return addr_list_run(s, st, out, n, "listing escrows with events", e);
}

/* ---- block window ---- */

static const char SQL_BLOCK_PUT[] =
    "INSERT OR REPLACE INTO blocks (chain_id, number, hash, parent_hash, timestamp)"
    " VALUES (?, ?, ?, ?, ?)";
static const char SQL_BLOCK_GET[] =
    "SELECT number, hash, parent_hash, timestamp FROM blocks WHERE chain_id = ? AND number = ?";
static const char SQL_BLOCK_DESC[] =
    "SELECT number, hash, parent_hash, timestamp FROM blocks WHERE chain_id = ? AND number <= ?"
    " ORDER BY number DESC LIMIT ?";
static const char SQL_BLOCK_PRUNE[] = "DELETE FROM blocks WHERE chain_id = ? AND number < ?";

int store_block_put(store *s, uint64_t chain_id, const store_block *b, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_BLOCK_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, b->number);
    store_bind_hash(st, 3, b->hash);
    store_bind_hash(st, 4, b->parent_hash);
    store_bind_u64(st, 5, b->timestamp);
    return store_exec_stmt(s, st, "storing a block hash", e);
}

static int block_row(sqlite3_stmt *st, store_block *b)
{
    memset(b, 0, sizeof *b);
    b->number = store_col_u64(st, 0);
    b->timestamp = store_col_u64(st, 3);
    if (store_col_hash(st, 1, b->hash) < 0 || store_col_hash(st, 2, b->parent_hash) < 0)
        return -1;
    return 0;
}

int store_block_get(store *s, uint64_t chain_id, uint64_t number, store_block *out, bool *found,
                    err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_BLOCK_GET, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, number);
    int rc = sqlite3_step(st);
    *found = false;
    if (rc == SQLITE_ROW) {
        if (block_row(st, out) < 0) {
            sqlite3_reset(st);
            return err_set(e, ERR_INVALID, "stored block %llu is malformed",
                           (unsigned long long)number);
        }
        *found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading a block hash");
    return 0;
}

int store_block_list_desc(store *s, uint64_t chain_id, uint64_t at_or_below, size_t max,
                          store_block **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_BLOCK_DESC, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, at_or_below);
    sqlite3_bind_int64(st, 3, (int64_t)max);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)out, &cap, *n, sizeof **out, e) < 0)
            goto fail;
        if (block_row(st, &(*out)[*n]) < 0) {
            err_set(e, ERR_INVALID, "a stored block hash is malformed");
            goto fail;
        }
        (*n)++;
    }
    if (rc != SQLITE_DONE) {
        store_fail(s, e, "reading block hashes");
        goto fail;
    }
    sqlite3_reset(st);
    return 0;
fail:
    sqlite3_reset(st);
    free(*out);
    *out = NULL;
    *n = 0;
    return -1;
}

int store_block_prune(store *s, uint64_t chain_id, uint64_t below, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_BLOCK_PRUNE, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, below);
    return store_exec_stmt(s, st, "pruning block hashes", e);
}

/* ---- checkpoints ---- */

static const char SQL_CP_GET[] =
    "SELECT synced_block, synced_hash, final_block, head_block, updated_at FROM checkpoints"
    " WHERE chain_id = ?";
static const char SQL_CP_PUT[] =
    "INSERT INTO checkpoints (chain_id, synced_block, synced_hash, final_block, head_block,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chain_id) DO UPDATE SET"
    " synced_block = excluded.synced_block, synced_hash = excluded.synced_hash,"
    " final_block = excluded.final_block, head_block = excluded.head_block,"
    " updated_at = excluded.updated_at";

int store_checkpoint_get(store *s, uint64_t chain_id, store_checkpoint *out, err *e)
{
    if (s->rd)
        return s->rd->checkpoint_get(s->rconn, chain_id, out, e);
    memset(out, 0, sizeof *out);
    out->chain_id = chain_id;
    sqlite3_stmt *st = store_stmt(s, SQL_CP_GET, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->synced = true;
        out->synced_block = store_col_u64(st, 0);
        if (store_col_hash(st, 1, out->synced_hash) < 0) {
            sqlite3_reset(st);
            return err_set(e, ERR_INVALID, "the checkpoint of chain %llu is malformed",
                           (unsigned long long)chain_id);
        }
        out->final_block = store_col_u64(st, 2);
        out->head_block = store_col_u64(st, 3);
        out->updated_at = sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading a checkpoint");
    return 0;
}

int store_checkpoint_put(store *s, const store_checkpoint *c, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CP_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, c->chain_id);
    store_bind_u64(st, 2, c->synced_block);
    store_bind_hash(st, 3, c->synced_hash);
    store_bind_u64(st, 4, c->final_block);
    store_bind_u64(st, 5, c->head_block);
    sqlite3_bind_int64(st, 6, c->updated_at ? c->updated_at : store_now());
    return store_exec_stmt(s, st, "writing a checkpoint", e);
}

/* ---- reorg rewind ---- */

static const char SQL_CP_DEL[] = "DELETE FROM checkpoints WHERE chain_id = ?";

int store_checkpoint_delete(store *s, uint64_t chain_id, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CP_DEL, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return store_exec_stmt(s, st, "deleting a checkpoint", e);
}

static const char SQL_REWIND_ESCROWS[] =
    "SELECT DISTINCT escrow FROM events WHERE chain_id = ? AND block_number >= ?"
    " AND escrow IS NOT NULL";
static const char SQL_REWIND_EVENTS[] =
    "DELETE FROM events WHERE chain_id = ? AND block_number >= ?";
static const char SQL_REWIND_BLOCKS[] = "DELETE FROM blocks WHERE chain_id = ? AND number >= ?";

int store_events_rewind(store *s, uint64_t chain_id, uint64_t first_gone, addr **escrows, size_t *n,
                        uint64_t *n_events, err *e)
{
    *escrows = NULL;
    *n = 0;
    *n_events = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_REWIND_ESCROWS, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, first_gone);
    if (addr_list_run(s, st, escrows, n, "finding escrows touched by a reorg", e) < 0)
        return -1;
    st = store_stmt(s, SQL_REWIND_EVENTS, e);
    if (!st)
        goto fail;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, first_gone);
    if (store_exec_stmt(s, st, "deleting reorged events", e) < 0)
        goto fail;
    *n_events = (uint64_t)sqlite3_changes64(s->db);
    st = store_stmt(s, SQL_REWIND_BLOCKS, e);
    if (!st)
        goto fail;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, first_gone);
    if (store_exec_stmt(s, st, "deleting reorged block hashes", e) < 0)
        goto fail;
    return 0;
fail:
    free(*escrows);
    *escrows = NULL;
    *n = 0;
    return -1;
}
