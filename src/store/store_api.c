/* store_api.c: the API's clients (tokens kept as hashes), the proposals they make, and the
 * change feed the event stream reads (written by the schema's triggers, not here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_internal.h"

static const char SQL_CLIENT_ADD[] =
    "INSERT INTO api_clients (name, scope, token_hash, created_at, created_by)"
    " VALUES (?, ?, ?, ?, ?)";
#define CLIENT_COLS_                                                                               \
    "SELECT id, name, scope, token_hash, created_at, created_by, coalesce(revoked_at, 0),"         \
    " coalesce(revoked_by, '') FROM api_clients"
static const char SQL_CLIENT_BY_HASH[] = CLIENT_COLS_ " WHERE token_hash = ? AND revoked_at IS NULL";
static const char SQL_CLIENT_GET[] = CLIENT_COLS_ " WHERE name = ?";
static const char SQL_CLIENT_LIST[] = CLIENT_COLS_ " ORDER BY id";
static const char SQL_CLIENT_REVOKE[] =
    "UPDATE api_clients SET revoked_at = ?, revoked_by = ? WHERE name = ? AND revoked_at IS NULL";

int store_api_client_add(store *s, const store_api_client *c, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CLIENT_ADD, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, c->scope, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, c->token_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, c->created_at ? c->created_at : store_now());
    sqlite3_bind_text(st, 5, c->created_by, -1, SQLITE_TRANSIENT);
    return store_exec_stmt(s, st, "adding an API client", e);
}

static int client_fill(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    store_api_client *c = item;
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, c->name, sizeof c->name);
    store_copy_text(st, 2, c->scope, sizeof c->scope);
    store_copy_text(st, 3, c->token_hash, sizeof c->token_hash);
    c->created_at = sqlite3_column_int64(st, 4);
    store_copy_text(st, 5, c->created_by, sizeof c->created_by);
    c->revoked_at = sqlite3_column_int64(st, 6);
    store_copy_text(st, 7, c->revoked_by, sizeof c->revoked_by);
    return 0;
}

int store_api_client_by_hash(store *s, const char *token_hash, store_api_client *out, bool *found,
                             err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CLIENT_BY_HASH, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_TRANSIENT);
    return store_get_row(s, st, client_fill, out, found, "reading an API client", e);
}

int store_api_client_get(store *s, const char *name, store_api_client *out, bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CLIENT_GET, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    return store_get_row(s, st, client_fill, out, found, "reading an API client", e);
}

int store_api_client_revoke(store *s, const char *name, const char *by, int64_t now, bool *found,
                            err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CLIENT_REVOKE, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, by, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
    if (store_exec_stmt(s, st, "revoking an API client", e) < 0)
        return -1;
    *found = sqlite3_changes(s->db) > 0;
    return 0;
}

int store_api_client_list(store *s, store_api_client **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_CLIENT_LIST, e);
    if (!st)
        return -1;
    return store_collect(s, st, sizeof(**out), client_fill, (void **)out, n,
                         "listing API clients", e);
}

/* ---- proposals ---- */

static const char SQL_PROP_ADD[] =
    "INSERT INTO api_proposals (client, idem_key, kind, chain_id, body, body_hash, screening,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
#define PROP_COLS_                                                                                 \
    "SELECT id, client, coalesce(idem_key, ''), kind, chain_id, body, body_hash, screening,"       \
    " state, created_at, coalesce(decided_at, 0), coalesce(decided_by, ''),"                       \
    " coalesce(reason, ''), coalesce(escrow, ''), coalesce(outbound_id, 0) FROM api_proposals"
static const char SQL_PROP_GET[] = PROP_COLS_ " WHERE id = ?";
static const char SQL_PROP_IDEM[] = PROP_COLS_ " WHERE client = ? AND idem_key = ?";
static const char SQL_PROP_LIST[] =
    PROP_COLS_ " WHERE (?1 IS NULL OR state = ?1) AND id > ?2 ORDER BY id LIMIT ?3";
static const char SQL_PROP_DECIDE[] =
    "UPDATE api_proposals SET state = ?, decided_by = ?, reason = ?, escrow = ?,"
    " outbound_id = ?, decided_at = ? WHERE id = ? AND state = 'pending'";

int store_proposal_add(store *s, store_proposal *p, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_PROP_ADD, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, p->client, -1, SQLITE_TRANSIENT);
    store_bind_opt_text(st, 2, p->idem_key);
    sqlite3_bind_text(st, 3, p->kind, -1, SQLITE_TRANSIENT);
    store_bind_u64(st, 4, p->chain_id);
    sqlite3_bind_text(st, 5, p->body, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, p->body_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, p->screening, -1, SQLITE_TRANSIENT);
    if (!p->created_at)
        p->created_at = store_now();
    sqlite3_bind_int64(st, 8, p->created_at);
    if (store_exec_stmt(s, st, "recording a proposal", e) < 0)
        return -1;
    p->id = sqlite3_last_insert_rowid(s->db);
    snprintf(p->state, sizeof p->state, "pending");
    return 0;
}

static int prop_fill(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    store_proposal *p = item;
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, p->client, sizeof p->client);
    store_copy_text(st, 2, p->idem_key, sizeof p->idem_key);
    store_copy_text(st, 3, p->kind, sizeof p->kind);
    p->chain_id = store_col_u64(st, 4);
    store_copy_text(st, 5, p->body, sizeof p->body);
    store_copy_text(st, 6, p->body_hash, sizeof p->body_hash);
    store_copy_text(st, 7, p->screening, sizeof p->screening);
    store_copy_text(st, 8, p->state, sizeof p->state);
    p->created_at = sqlite3_column_int64(st, 9);
    p->decided_at = sqlite3_column_int64(st, 10);
    store_copy_text(st, 11, p->decided_by, sizeof p->decided_by);
    store_copy_text(st, 12, p->reason, sizeof p->reason);
    store_copy_text(st, 13, p->escrow, sizeof p->escrow);
    p->outbound_id = sqlite3_column_int64(st, 14);
    return 0;
}

int store_proposal_get(store *s, int64_t id, store_proposal *out, bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_PROP_GET, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return store_get_row(s, st, prop_fill, out, found, "reading a proposal", e);
}

int store_proposal_find_idem(store *s, const char *client, const char *idem, store_proposal *out,
                             bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_PROP_IDEM, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, client, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, idem, -1, SQLITE_TRANSIENT);
    return store_get_row(s, st, prop_fill, out, found, "reading a proposal", e);
}

int store_proposal_list(store *s, const char *state, int64_t after_id, size_t max,
                        store_proposal **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_PROP_LIST, e);
    if (!st)
        return -1;
    if (state)
        sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    return store_collect(s, st, sizeof(**out), prop_fill, (void **)out, n, "listing proposals", e);
}

static const char SQL_PROP_SET_ESCROW[] =
    "UPDATE api_proposals SET escrow = ? WHERE id = ? AND state = 'accepted' AND escrow IS NULL";

int store_proposal_set_escrow(store *s, int64_t id, const char *escrow, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_PROP_SET_ESCROW, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, escrow, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, id);
    return store_exec_stmt(s, st, "recording a proposal's escrow", e);
}

int store_proposal_decide(store *s, int64_t id, const char *state, const char *by,
                          const char *reason, const char *escrow, int64_t outbound_id,
                          int64_t now, bool *moved, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_PROP_DECIDE, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, by, -1, SQLITE_TRANSIENT);
    store_bind_opt_text(st, 3, reason);
    store_bind_opt_text(st, 4, escrow);
    if (outbound_id)
        sqlite3_bind_int64(st, 5, outbound_id);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_int64(st, 7, id);
    if (store_exec_stmt(s, st, "deciding a proposal", e) < 0)
        return -1;
    *moved = sqlite3_changes(s->db) > 0;
    return 0;
}

/* ---- change feed ---- */

static const char SQL_FEED_AFTER[] =
    "SELECT id, kind, chain_id, ref, coalesce(state, ''), at FROM api_feed WHERE id > ?"
    " ORDER BY id LIMIT ?";
static const char SQL_FEED_LAST[] = "SELECT coalesce(max(id), 0) FROM api_feed";
/* ids are AUTOINCREMENT and only pruning deletes (a prefix): below the oldest row, or the
 * last id ever handed out when the feed is empty */
static const char SQL_FEED_HORIZON[] =
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM api_feed) THEN (SELECT min(id) FROM api_feed) - 1"
    " ELSE coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'api_feed'), 0) END";
static const char SQL_FEED_PRUNE[] =
    "DELETE FROM api_feed WHERE id <= max("
    " coalesce((SELECT max(id) FROM api_feed WHERE at < ?1), 0),"
    " coalesce((SELECT max(id) FROM api_feed), 0) - ?2)";

static int feed_fill(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    store_feed_row *r = item;
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, r->kind, sizeof r->kind);
    r->chain_id = store_col_u64(st, 2);
    store_copy_text(st, 3, r->ref, sizeof r->ref);
    store_copy_text(st, 4, r->state, sizeof r->state);
    r->at = sqlite3_column_int64(st, 5);
    return 0;
}

int store_feed_after(store *s, int64_t after, size_t max, store_feed_row **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_FEED_AFTER, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    return store_collect(s, st, sizeof(**out), feed_fill, (void **)out, n, "reading the feed", e);
}

static const char SQL_FEED_APPEND[] =
    "INSERT INTO api_feed (kind, chain_id, ref, state, at) VALUES (?, ?, ?, nullif(?, ''), ?)";

static const char SQL_FOLLOW_SET[] =
    "INSERT INTO api_feed_follow (id, book, cursor) VALUES (1, ?1, ?2)"
    " ON CONFLICT (id) DO UPDATE SET book = excluded.book, cursor = excluded.cursor";
static const char SQL_FOLLOW_GET[] = "SELECT book, cursor FROM api_feed_follow WHERE id = 1";
/* a start over: one id handed out and every row deleted, so that the horizon passes every
 * reader's last id (a reader that had read everything may still miss what the copy skips) */
static const char SQL_FEED_MARK[] =
    "INSERT INTO api_feed (kind, chain_id, ref, at) VALUES ('feed.reset', 0, '', unixepoch())";
static const char SQL_FEED_CLEAR[] = "DELETE FROM api_feed";

static int follow_set(store *s, const char *book, int64_t cursor, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_FOLLOW_SET, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, book, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cursor);
    return store_exec_stmt(s, st, "keeping the feed copy's cursor", e);
}

int store_feed_append(store *s, const store_feed_row *rows, size_t n, const char *book,
                      int64_t cursor, err *e)
{
    if (store_begin(s, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = store_stmt(s, SQL_FEED_APPEND, e);
        if (!st) {
            store_rollback(s);
            return -1;
        }
        sqlite3_bind_text(st, 1, rows[i].kind, -1, SQLITE_STATIC);
        store_bind_u64(st, 2, rows[i].chain_id);
        sqlite3_bind_text(st, 3, rows[i].ref, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, rows[i].state, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, rows[i].at);
        if (store_exec_stmt(s, st, "appending to the feed", e) < 0) {
            store_rollback(s);
            return -1;
        }
    }
    if (follow_set(s, book, cursor, e) < 0) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s, e);
}

int store_feed_follow_set(store *s, const char *book, int64_t cursor, bool reset, err *e)
{
    if (store_begin(s, e) < 0)
        return -1;
    for (int i = 0; reset && i < 2; i++) {
        sqlite3_stmt *st = store_stmt(s, i ? SQL_FEED_CLEAR : SQL_FEED_MARK, e);
        if (!st || store_exec_stmt(s, st, "starting the feed over", e) < 0) {
            store_rollback(s);
            return -1;
        }
    }
    if (follow_set(s, book, cursor, e) < 0) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s, e);
}

typedef struct follow_row {
    char *book;
    size_t cap;
    int64_t cursor;
} follow_row;

static int follow_fill(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    follow_row *f = item;
    store_copy_text(st, 0, f->book, f->cap);
    f->cursor = sqlite3_column_int64(st, 1);
    return 0;
}

int store_feed_follow_get(store *s, char *book, size_t book_cap, int64_t *cursor, bool *found,
                          err *e)
{
    *found = false;
    *cursor = 0;
    if (book_cap)
        book[0] = '\0';
    follow_row f = {book, book_cap, 0};
    sqlite3_stmt *st = store_stmt(s, SQL_FOLLOW_GET, e);
    if (!st)
        return -1;
    if (store_get_row(s, st, follow_fill, &f, found, "reading the feed copy's cursor", e) < 0)
        return -1;
    *cursor = f.cursor;
    return 0;
}

static int last_fill(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    *(int64_t *)item = sqlite3_column_int64(st, 0);
    return 0;
}

int store_feed_last(store *s, int64_t *out, err *e)
{
    *out = 0;
    bool found;
    sqlite3_stmt *st = store_stmt(s, SQL_FEED_LAST, e);
    if (!st)
        return -1;
    return store_get_row(s, st, last_fill, out, &found, "reading the feed", e);
}

int store_feed_horizon(store *s, int64_t *out, err *e)
{
    *out = 0;
    bool found;
    sqlite3_stmt *st = store_stmt(s, SQL_FEED_HORIZON, e);
    if (!st)
        return -1;
    return store_get_row(s, st, last_fill, out, &found, "reading the feed's horizon", e);
}

int store_feed_prune(store *s, int64_t before_at, int64_t keep, int64_t *pruned, err *e)
{
    if (pruned)
        *pruned = 0;
    if (keep < 0)
        keep = 0;
    if (store_begin(s, e) < 0)
        return -1;
    sqlite3_stmt *st = store_stmt(s, SQL_FEED_PRUNE, e);
    if (!st) {
        store_rollback(s);
        return -1;
    }
    sqlite3_bind_int64(st, 1, before_at);
    sqlite3_bind_int64(st, 2, keep);
    if (store_exec_stmt(s, st, "pruning the feed", e) < 0) {
        store_rollback(s);
        return -1;
    }
    int64_t n = sqlite3_changes(s->db);
    if (store_commit(s, e) < 0)
        return -1;
    if (pruned)
        *pruned = n;
    return 0;
}
