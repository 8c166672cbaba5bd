/* pg_read.c: the desk's reads from its book on the server (pg_reader, a store_book_reader
 * of store/store_book.h): the escrows (one, by address, a chain's, the open ones of some
 * parties), a chain's checkpoint, an escrow's events, the inflows (the screening pass's),
 * a bridge transfer's legs (`bridge list` and `show`'s),
 * and the escrow table's count and pages with the filter and the order done by the server. One connection per store, made
 * on first use and again after it is lost (a connect waits at most PG_CONNECT_TIMEOUT_S
 * seconds, and after a failed one the next try is RD_RETRY_S seconds later: a screen asking
 * meanwhile gets the last error at once, as it was said: `book server unreachable` only
 * when the server was not reached), under its own lock; every
 * statement is prepared on the connection once. It LISTENs on PG_COMMIT_CHANNEL, so a
 * screen learns of the book's commits without a query (changed). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "base/text.h"
#include "base/u256.h"
#include "pgstore/pgstore.h"

/* Seconds between two tries after a failed connect (which takes at most
 * PG_CONNECT_TIMEOUT_S, pg_url_connect_policy). */
#define RD_RETRY_S 2
#define ZERO_ADDR "'0x0000000000000000000000000000000000000000'"
/* The escrow row as store_escrow_of_row reads it, and the chain's final block. */
#define RD_ESC_COLS                                                                                \
    "e.chain_id, e.address, e.factory, e.payer, e.payee, e.token, e.amount, e.approvers,"         \
    " e.threshold, e.arbiter, e.deadline, e.state, e.resolved_to, e.approvals, e.funded,"         \
    " e.released, e.refunded, e.created_block, e.created_tx, e.last_event_block, e.events,"       \
    " e.pending, e.anomaly, e.version, e.dispute_window, e.terms_hash, e.created_arbiter,"        \
    " e.inconsistent, encode(e.approval_list, 'hex'),"                                            \
    " (SELECT final_block FROM checkpoints k WHERE k.chain_id = e.chain_id)"
#define RD_ESC_ORDER " ORDER BY e.chain_id, e.created_block, e.address COLLATE \"C\""
/* The escrow table's filter: the fields SQLite's escrow_search holds (snapshot.c's
 * FILTER_ROW_SQL and FILTER_NAMES_SQL); the first test is the trigram index's expression. */
#define RD_FILTER                                                                                  \
    " WHERE ((e.address || ' ' || e.payer || ' ' || e.payee || ' ' || e.state) ILIKE $1"          \
    " AND (e.address ILIKE $1 OR e.payer ILIKE $1 OR e.payee ILIKE $1 OR e.state ILIKE $1))"       \
    " OR c.name ILIKE $1 OR t.symbol ILIKE $1"                                                    \
    " OR (e.token = " ZERO_ADDR " AND c.native_symbol ILIKE $1)"
#define RD_FROM                                                                                    \
    " FROM escrows e JOIN chains c ON c.chain_id = e.chain_id"                                   \
    " LEFT JOIN tokens t ON t.chain_id = e.chain_id AND t.address = e.token"

static const struct {
    const char *name;
    const char *sql;
    int n;
} RD_STMTS[] = {
    {"rd_esc_get", "SELECT " RD_ESC_COLS " FROM escrows e WHERE e.chain_id = $1 AND e.address = $2",
     2},
    {"rd_esc_find",
     "SELECT " RD_ESC_COLS " FROM escrows e WHERE e.address = $1 ORDER BY e.chain_id LIMIT 1", 1},
    {"rd_esc_all", "SELECT " RD_ESC_COLS " FROM escrows e" RD_ESC_ORDER, 0},
    {"rd_esc_chain", "SELECT " RD_ESC_COLS " FROM escrows e WHERE e.chain_id = $1" RD_ESC_ORDER, 1},
    {"rd_esc_open",
     "SELECT " RD_ESC_COLS " FROM escrows e WHERE e.state IN ('funded', 'disputed')"
     " AND (e.payer = ANY ($1::text[]) OR e.payee = ANY ($1::text[]))" RD_ESC_ORDER,
     1},
    /* store_escrow_awaiting's candidates ($1 the approver quoted as the JSON array holds
     * it; $2..$4 the cursor, $2 NULL: from the start); store_escrow_awaits() decides on each */
    {"rd_esc_awaiting",
     "SELECT " RD_ESC_COLS " FROM escrows e WHERE e.state = 'funded'"
     " AND e.approvals < e.threshold AND strpos(e.approvers, $1) > 0"
     " AND ($2::bigint IS NULL OR (e.chain_id, e.created_block, e.address COLLATE \"C\")"
     " > ($2::bigint, $3::bigint, $4::text COLLATE \"C\"))" RD_ESC_ORDER,
     4},
    /* a page of every escrow in the book's order ($1 NULL: from the first; $4 the limit) */
    {"rd_esc_after",
     "SELECT " RD_ESC_COLS " FROM escrows e WHERE $1::bigint IS NULL"
     " OR (e.chain_id, e.created_block, e.address COLLATE \"C\")"
     " > ($1::bigint, $2::bigint, $3::text COLLATE \"C\")" RD_ESC_ORDER " LIMIT $4",
     4},
    /* the creations of some escrows (screening): $1 their chains, $2 their addresses; per
     * escrow found, its place in the arrays, creating transaction, the block hash of its
     * creation event (desk.db's CREATION_BLOCK_HASH_) and its creation block's timestamp
     * while the block window holds it */
    {"rd_creations",
     "SELECT k.i, e.created_tx,"
     " (SELECT encode(v.block_hash, 'hex') FROM events v WHERE v.chain_id = e.chain_id"
     " AND v.escrow = decode(substr(e.address, 3), 'hex') AND v.block_number = e.created_block"
     " AND v.tx_hash = decode(substr(e.created_tx, 3), 'hex') LIMIT 1), b.timestamp"
     " FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS k(chain_id, address, i)"
     " JOIN escrows e ON e.chain_id = k.chain_id AND e.address = k.address"
     " LEFT JOIN blocks b ON b.chain_id = e.chain_id AND b.number = e.created_block",
     2},
    {"rd_cp_get",
     "SELECT synced_block, synced_hash, final_block, head_block, updated_at FROM checkpoints"
     " WHERE chain_id = $1",
     1},
    /* binary results: bigint as 8 bytes big-endian, bytea and text as they are */
    {"rd_ev_escrow",
     "SELECT id, block_number, block_hash, tx_hash, tx_index, log_index, address, topic0,"
     " topic1, topic2, topic3, data, name FROM events WHERE chain_id = $1::bigint"
     " AND escrow = $2::bytea ORDER BY block_number, log_index",
     2},
    {"rd_count_all", "SELECT n FROM escrow_totals WHERE id = 1", 0},
    /* what moves whenever the escrows change (store_book_reader.escrows_version); the
     * feed's last id is -1 (unsure) when the escrows' trigger predates its advisory lock
     * (pg_schema.c: feed ids then may commit out of order) */
    {"rd_esc_version",
     "SELECT (SELECT n FROM escrow_totals WHERE id = 1),"
     " CASE WHEN EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'fusion_escrows_changed'"
     " AND prosrc LIKE '%pg_advisory_xact_lock%')"
     " THEN (SELECT coalesce(max(id), 0) FROM api_feed) ELSE -1 END",
     0},
    {"rd_count", "SELECT count(*)" RD_FROM RD_FILTER, 1},
    /* the change feed (the escrows' rows the server's triggers write) */
    {"rd_feed",
     "SELECT id, kind, chain_id, ref, coalesce(state, ''), at FROM api_feed WHERE id > $1"
     " ORDER BY id LIMIT $2",
     2},
    /* its last id, its horizon, and the database's identity: the cluster's system
     * identifier (initdb's), the database's oid and name */
    {"rd_feed_state",
     "SELECT coalesce(max(id), 0), coalesce(min(id) - 1, 0),"
     " (SELECT system_identifier::text FROM pg_control_system()) || '/'"
     " || (SELECT oid::text FROM pg_database WHERE datname = current_database()) || '/'"
     " || current_database() FROM api_feed",
     0},
    /* the feed pruned as desk.db's (store_api.c's SQL_FEED_PRUNE: $1 before, $2 keep),
     * never past $3 (the caller's copy) nor the newest row (the feed's last id stays, for
     * the copies' checks and the screener's version) */
    {"rd_feed_prune",
     "WITH d AS (DELETE FROM api_feed WHERE id <= least($3::bigint,"
     " (SELECT max(id) FROM api_feed) - 1, greatest("
     " coalesce((SELECT max(id) FROM api_feed WHERE at < $1::bigint), 0),"
     " coalesce((SELECT max(id) FROM api_feed), 0) - $2::bigint)) RETURNING 1)"
     " SELECT count(*) FROM d",
     3},
    /* the inflows the sync writes (store_inflow_pending's and _recent's rows) */
    {"rd_inflows",
     "SELECT id, chain_id, block_number, block_hash, tx_hash, log_index, token, sender,"
     " recipient, amount, block_time, seen_at, coalesce(screened_at, 0),"
     " coalesce(reorged_at, 0) FROM inflows WHERE reorged_at IS NULL AND seen_at >= $1"
     " AND (NOT $2::boolean OR screened_at IS NULL)"
     /* of the chains $3, only the ids above $4 (the caller's cursors per chain) */
     " AND id > coalesce((SELECT k.after FROM unnest($3::bigint[], $4::bigint[])"
     " AS k(chain_id, after) WHERE k.chain_id = inflows.chain_id), 0) ORDER BY id",
     4},
    /* a credit facility's repayment candidates (store_book_reader.inflows_to): the
     * unreorged inflows of chain $1 to $2 in token $3 (desk.db's text forms, compared as
     * store_credit.c's SQL_REPAY_CANDIDATES does) */
    {"rd_inflows_to",
     "SELECT id, chain_id, block_number, block_hash, tx_hash, log_index, token, sender,"
     " recipient, amount, block_time, seen_at, coalesce(screened_at, 0),"
     " coalesce(reorged_at, 0) FROM inflows WHERE chain_id = $1::bigint AND reorged_at IS NULL"
     " AND lower(recipient) = lower($2) AND lower(token) = lower($3) ORDER BY id",
     3},
    /* the inflows of ids $1 (store_book_reader.inflows_of), reorged or not */
    {"rd_inflows_of",
     "SELECT id, chain_id, block_number, block_hash, tx_hash, log_index, token, sender,"
     " recipient, amount, block_time, seen_at, coalesce(screened_at, 0),"
     " coalesce(reorged_at, 0) FROM inflows WHERE id = ANY ($1::bigint[]) ORDER BY id",
     1},
    /* the bridge legs the sync writes (store_book_reader.bridge_legs) */
    {"rd_bridge_legs",
     "SELECT chain_id, block_number, leg, tx_hash, src_domain, nonce,"
     " coalesce(encode(message, 'hex'), '') FROM bridge_legs WHERE (chain_id = $1"
     " AND leg = 'sent' AND tx_hash = $2) OR (chain_id = $3 AND leg = 'received'"
     " AND ((src_domain, nonce) IN (SELECT src_domain, nonce FROM bridge_legs"
     " WHERE chain_id = $1 AND leg = 'sent' AND tx_hash = $2)"
     " OR ($4::boolean AND src_domain = $5 AND nonce = $6)))"
     " ORDER BY block_number, event_id",
     6},
    /* the sent legs of senders $1 (a CCTP v1 burn message's messageSender: its bytes
     * 228..248, hex, comma separated) and the received legs that answer them
     * (store_book_reader.bridge_legs_of_senders) */
    {"rd_bridge_senders",
     "WITH s AS (SELECT src_domain, nonce FROM bridge_legs WHERE leg = 'sent'"
     " AND length(message) = 248"
     " AND encode(substring(message FROM 229 FOR 20), 'hex') = ANY (string_to_array($1, ',')))"
     " SELECT x.chain_id, x.block_number, x.leg, x.tx_hash, x.src_domain, x.nonce,"
     " coalesce(encode(x.message, 'hex'), '') FROM bridge_legs x WHERE (x.leg = 'sent'"
     " AND length(x.message) = 248"
     " AND encode(substring(x.message FROM 229 FOR 20), 'hex') = ANY (string_to_array($1, ',')))"
     " OR (x.leg = 'received' AND (x.src_domain, x.nonce) IN (SELECT src_domain, nonce FROM s))"
     " ORDER BY x.chain_id, x.block_number, x.event_id",
     1},
};

/* The table's orders (store_book_reader.escrow_page's sort, snapshot.h's order); the
 * chain and the address break ties. */
static const char *const RD_SORT_KEYS[STORE_ESCROW_SORTS] = {
    "e.created_block", "e.address COLLATE \"C\"", "c.name", "e.payee COLLATE \"C\"",
    "e.token COLLATE \"C\"", "lpad(e.amount, 80, '0')", "e.state COLLATE \"C\"", "e.approvals",
    "e.last_event_block",
};
/* Their types, for a key read back (escrow_page's after). */
static const char *const RD_SORT_TYPES[STORE_ESCROW_SORTS] = {
    "bigint", "text", "text", "text", "text", "text", "text", "bigint", "bigint",
};

typedef struct pg_rd {
    pthread_mutex_t mu;
    char url[PG_URL_POLICY_MAX];
    char shown[512];
    PGconn *c;
    bool news;             /* a commit announced, or the connection made again, not yet told */
    bool made;             /* a connection was made before (the next one is made again) */
    bool pages[STORE_ESCROW_SORTS][2][2][2][2]; /* the page statements prepared on c */
    time_t failed_at;      /* the last failed connect (0: none) */
    err why;               /* its error, as it was first said */
} pg_rd;

static int rd_open(void **conn, const char *url, err *e)
{
    *conn = NULL;
    if (!pg_url_is_pg(url))
        return err_set(e, ERR_INVALID, "the book's URL is not a postgresql:// URL");
    pg_rd *r = calloc(1, sizeof *r);
    if (!r)
        return err_set(e, ERR_NOMEM, "out of memory");
    pthread_mutex_init(&r->mu, NULL);
    /* a server that does not answer at all holds a read (on a screen's thread) at most
     * PG_CONNECT_TIMEOUT_S, unless the URL says otherwise */
    if (pg_url_connect_policy(url, r->url, sizeof r->url) < 0) {
        pthread_mutex_destroy(&r->mu);
        free(r);
        return err_set(e, ERR_INVALID, "the book's URL is too long");
    }
    pg_url_redact(url, r->shown, sizeof r->shown);
    *conn = r;
    return 0;
}

static void rd_close(void **conn)
{
    pg_rd *r = *conn;
    if (!r)
        return;
    pg_close(&r->c);
    pthread_mutex_destroy(&r->mu);
    free(r);
    *conn = NULL;
}

/* One line from a failed result; a lost connection is closed, to be made again. */
static int rd_fail(pg_rd *r, PGresult *res, const char *what, err *e)
{
    char why[240];
    const char *m = res ? PQresultErrorMessage(res) : "";
    /* the server's text: one printable line */
    pg_reason_line(m && m[0] ? m : PQerrorMessage(r->c), why, sizeof why);
    PQclear(res);
    bool lost = PQstatus(r->c) != CONNECTION_OK;
    if (lost) {
        pg_close(&r->c);
        memset(r->pages, 0, sizeof r->pages);
        return err_set(e, ERR_IO, STORE_BOOK_AWAY ": %s: %s (%s)", what, why, r->shown);
    }
    return err_set(e, ERR_IO, "the book on %s: %s: %s", r->shown, what, why);
}

/* The connection, made (again) when there is none or it was lost. */
static int rd_ensure(pg_rd *r, err *e)
{
    if (r->c && PQstatus(r->c) == CONNECTION_OK)
        return 0;
    pg_close(&r->c);
    memset(r->pages, 0, sizeof r->pages);
    time_t now = time(NULL);
    /* the last failure again, as it was said: a server that answered (its version, its
     * tables) is not said unreachable */
    if (r->failed_at && now - r->failed_at < RD_RETRY_S)
        return err_set(e, r->why.code, "%s", r->why.msg);
    err ce;
    err_clear(&ce);
    PGconn *c = NULL;
    if (pg_connect(&c, r->url, &ce) < 0) {
        r->failed_at = now;
        err_set(&r->why, ERR_IO, STORE_BOOK_AWAY ": %s", ce.msg);
        return err_set(e, ERR_IO, "%s", r->why.msg);
    }
    r->c = c;
    for (size_t i = 0; i < sizeof RD_STMTS / sizeof RD_STMTS[0]; i++) {
        PGresult *res = PQprepare(c, RD_STMTS[i].name, RD_STMTS[i].sql, RD_STMTS[i].n, NULL);
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
            /* not a desk's book (or not one this fusion reads): said, not retried at once.
             * A server of another version than this fusion's may have other tables: said
             * then, with what to do (the version is read only here: the reads serve any
             * version whose tables they find) */
            int rc = -1;
            if (pg_prepare_refused(c, res, r->shown, "this fusion cannot read it", e) < 0) {
                PQclear(res);
            } else {
                rc = rd_fail(r, res,
                             "it holds no desk's book that this fusion reads (copy a desk there "
                             "with `fusion db migrate --to URL`)",
                             e);
            }
            pg_close(&r->c);
            r->failed_at = now;
            err_set(&r->why, e->code, "%s", e->msg);
            return rc;
        }
        PQclear(res);
    }
    if (pg_commit_listen(c, e) < 0) {
        pg_close(&r->c);
        return -1;
    }
    /* whatever was shown before (read on a connection now lost, or the server's absence)
     * may have moved meanwhile; the first connection has shown nothing yet: what it reads
     * is current, and the commits after it are announced (LISTEN came first). Saying
     * "changed" then would make the screens drop their windows for nothing, and the next
     * window would be read at an offset, not by key. */
    if (r->made || r->failed_at)
        r->news = true;
    r->made = true;
    r->failed_at = 0;
    return 0;
}

static int rd_run(pg_rd *r, const char *stmt, int n, const char *const *vals, const int *lens,
                  const int *fmts, int result_fmt, PGresult **out, const char *what, err *e)
{
    *out = NULL;
    if (rd_ensure(r, e) < 0)
        return -1;
    PGresult *res = PQexecPrepared(r->c, stmt, n, vals, lens, fmts, result_fmt);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
        return rd_fail(r, res, what, e);
    *out = res;
    return 0;
}

static void u64s(char out[24], uint64_t v)
{
    snprintf(out, 24, "%llu", (unsigned long long)v);
}

/* Row `row` of an RD_ESC_COLS result. */
static int esc_of(PGresult *res, int row, store_escrow *x, err *e)
{
    const char *v[STORE_ESCROW_NCOLS];
    for (int i = 0; i < STORE_ESCROW_NCOLS; i++)
        v[i] = PQgetisnull(res, row, i) ? NULL : PQgetvalue(res, row, i);
    uint8_t approvals[STORE_MAX_APPROVERS * (ADDR_LEN + 8 + 32 + 4 + 1)];
    size_t alen = 0;
    const char *hex = v[STORE_ESCROW_NCOLS - 1];
    if (hex) {
        err ignored;
        size_t hl = strlen(hex);
        if (hl / 2 > sizeof approvals ||
            hex_decode(approvals, sizeof approvals, &alen, hex, hl, 0, &ignored) < 0)
            return err_set(e, ERR_INVALID, "the book: an escrow's approvals are malformed");
        v[STORE_ESCROW_NCOLS - 1] = (const char *)approvals;
    }
    bool has_final = !PQgetisnull(res, row, STORE_ESCROW_NCOLS);
    int64_t final = 0;
    if (has_final && pg_text_int(PQgetvalue(res, row, STORE_ESCROW_NCOLS), false, &final) < 0)
        has_final = false; /* (refused below with the row) */
    if (has_final || PQgetisnull(res, row, STORE_ESCROW_NCOLS))
        return store_escrow_of_row(v, alen, has_final, (uint64_t)final, x, e);
    char chain[48];
    return err_set(e, ERR_INVALID, "the book: a malformed final block of chain %s",
                   text_safe_str(chain, sizeof chain, v[0] ? v[0] : "?"));
}

static int esc_one(pg_rd *r, const char *stmt, int n, const char *const *vals, store_escrow *out,
                   bool *found, err *e)
{
    *found = false;
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc = rd_run(r, stmt, n, vals, NULL, NULL, 0, &res, "reading an escrow", e);
    if (rc == 0 && PQntuples(res) > 0) {
        rc = esc_of(res, 0, out, e);
        *found = rc == 0;
    }
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static int esc_many(pg_rd *r, const char *stmt, int n, const char *const *vals,
                    store_escrow **out, size_t *cnt, err *e)
{
    *out = NULL;
    *cnt = 0;
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc = rd_run(r, stmt, n, vals, NULL, NULL, 0, &res, "listing escrows", e);
    if (rc == 0) {
        size_t m = (size_t)PQntuples(res);
        store_escrow *xs = calloc(m ? m : 1, sizeof *xs);
        if (!xs)
            rc = err_set(e, ERR_NOMEM, "out of memory listing escrows");
        for (size_t i = 0; rc == 0 && i < m; i++)
            rc = esc_of(res, (int)i, &xs[i], e);
        if (rc == 0) {
            *out = xs;
            *cnt = m;
        } else {
            free(xs);
        }
    }
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static int rd_escrow_get(void *conn, uint64_t chain_id, const addr *a, store_escrow *out,
                         bool *found, err *e)
{
    char id[24], hex[ADDR_STR_MAX];
    u64s(id, chain_id);
    hex_encode(hex, sizeof hex, a->b, ADDR_LEN, true);
    const char *v[2] = {id, hex};
    return esc_one(conn, "rd_esc_get", 2, v, out, found, e);
}

static int rd_escrow_find(void *conn, const addr *a, store_escrow *out, bool *found, err *e)
{
    char hex[ADDR_STR_MAX];
    hex_encode(hex, sizeof hex, a->b, ADDR_LEN, true);
    const char *v[1] = {hex};
    return esc_one(conn, "rd_esc_find", 1, v, out, found, e);
}

static int rd_escrow_list(void *conn, uint64_t chain_id, store_escrow **out, size_t *n, err *e)
{
    char id[24];
    u64s(id, chain_id);
    const char *v[1] = {id};
    return esc_many(conn, chain_id ? "rd_esc_chain" : "rd_esc_all", chain_id ? 1 : 0, v, out, n,
                    e);
}

static int rd_escrow_list_open(void *conn, const addr *parties, size_t n_parties,
                               store_escrow **out, size_t *n, err *e)
{
    /* a text[] literal of lower-case addresses (the stored form) */
    char *arr = malloc(n_parties * (ADDR_STR_MAX + 3) + 3);
    if (!arr)
        return err_set(e, ERR_NOMEM, "out of memory listing open escrows");
    size_t o = 0;
    arr[o++] = '{';
    for (size_t i = 0; i < n_parties; i++) {
        if (i)
            arr[o++] = ',';
        hex_encode(arr + o, ADDR_STR_MAX, parties[i].b, ADDR_LEN, true);
        o += strlen(arr + o);
    }
    arr[o++] = '}';
    arr[o] = '\0';
    const char *v[1] = {arr};
    int rc = esc_many(conn, "rd_esc_open", 1, v, out, n, e);
    free(arr);
    return rc;
}

static int rd_escrow_awaiting(void *conn, const addr *approver, const store_escrow_cursor *after,
                              size_t limit, store_escrow **out, size_t *n, err *e)
{
    pg_rd *r = conn;
    if (out)
        *out = NULL;
    *n = 0;
    char quoted[ADDR_STR_MAX + 2], id[24], blk[24], at[ADDR_STR_MAX];
    quoted[0] = '"';
    hex_encode(quoted + 1, ADDR_STR_MAX, approver->b, ADDR_LEN, true);
    strcat(quoted, "\"");
    if (after) {
        int64_t sid, sblk;
        memcpy(&sid, &after->chain_id, sizeof sid); /* the stored bits of the bigint */
        memcpy(&sblk, &after->created_block, sizeof sblk);
        snprintf(id, sizeof id, "%lld", (long long)sid);
        snprintf(blk, sizeof blk, "%lld", (long long)sblk);
        hex_encode(at, sizeof at, after->address.b, ADDR_LEN, true);
    }
    const char *v[4] = {quoted, after ? id : NULL, after ? blk : NULL, after ? at : NULL};
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc = rd_run(r, "rd_esc_awaiting", 4, v, NULL, NULL, 0, &res,
                    "listing the escrows awaiting an approval", e);
    store_escrow *xs = NULL;
    size_t cnt = 0;
    if (rc == 0) {
        size_t m = (size_t)PQntuples(res);
        xs = calloc(out ? (m < limit ? m : limit) + 1 : 1, sizeof *xs);
        if (!xs)
            rc = err_set(e, ERR_NOMEM, "out of memory listing escrows");
        for (size_t i = 0; rc == 0 && i < m && (!out || cnt < limit); i++) {
            store_escrow *x = out ? &xs[cnt] : xs;
            rc = esc_of(res, (int)i, x, e);
            if (rc == 0 && store_escrow_awaits(x, approver))
                cnt++;
        }
    }
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    if (rc < 0 || !out) {
        free(xs);
        if (rc == 0)
            *n = cnt;
        return rc;
    }
    *out = xs;
    *n = cnt;
    return 0;
}

int pg_checkpoint_of_row(const char *const v[PG_CHECKPOINT_NCOLS], uint64_t chain_id,
                         store_checkpoint *out, err *e)
{
    memset(out, 0, sizeof *out);
    out->chain_id = chain_id;
    int64_t synced = 0, final = 0, head = 0, at = 0;
    err ignored;
    if (pg_text_int(v[0], false, &synced) < 0 || !v[1] ||
        hex_decode_exact(out->synced_hash, 32, v[1], HEX_REQUIRE_PREFIX, &ignored) < 0 ||
        pg_text_int(v[2], false, &final) < 0 || pg_text_int(v[3], false, &head) < 0 ||
        pg_text_int(v[4], false, &at) < 0) {
        memset(out, 0, sizeof *out);
        out->chain_id = chain_id;
        return err_set(e, ERR_INVALID, "the book: the checkpoint of chain %llu is malformed",
                       (unsigned long long)chain_id);
    }
    out->synced = true;
    out->synced_block = (uint64_t)synced; /* the stored bits, as the SQLite desk's */
    out->final_block = (uint64_t)final;
    out->head_block = (uint64_t)head;
    out->updated_at = at;
    return 0;
}

static int rd_checkpoint_get(void *conn, uint64_t chain_id, store_checkpoint *out, err *e)
{
    pg_rd *r = conn;
    memset(out, 0, sizeof *out);
    out->chain_id = chain_id;
    char id[24];
    u64s(id, chain_id);
    const char *v[1] = {id};
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc = rd_run(r, "rd_cp_get", 1, v, NULL, NULL, 0, &res, "reading the checkpoint", e);
    if (rc == 0 && PQntuples(res) == 1 && PQnfields(res) == PG_CHECKPOINT_NCOLS) {
        const char *f[PG_CHECKPOINT_NCOLS];
        for (int k = 0; k < PG_CHECKPOINT_NCOLS; k++)
            f[k] = PQgetisnull(res, 0, k) ? NULL : PQgetvalue(res, 0, k);
        rc = pg_checkpoint_of_row(f, chain_id, out, e);
    }
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static uint64_t bin_u64(PGresult *res, int row, int col)
{
    const uint8_t *p = (const uint8_t *)PQgetvalue(res, row, col);
    uint64_t v = 0;
    for (int i = 0; i < 8 && PQgetlength(res, row, col) == 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int bin_bytes(PGresult *res, int row, int col, uint8_t *out, size_t n)
{
    if (PQgetisnull(res, row, col) || (size_t)PQgetlength(res, row, col) != n)
        return -1;
    memcpy(out, PQgetvalue(res, row, col), n);
    return 0;
}

/* Row `row` of rd_ev_escrow as an event; its data and text copied into the list. */
static int ev_of(PGresult *res, int row, uint64_t chain_id, const addr *escrow,
                 store_event_list *l, store_event *ev, err *e)
{
    memset(ev, 0, sizeof *ev);
    ev->id = (int64_t)bin_u64(res, row, 0);
    ev->chain_id = chain_id;
    ev->block_number = bin_u64(res, row, 1);
    ev->tx_index = (uint32_t)bin_u64(res, row, 4);
    ev->log_index = (uint32_t)bin_u64(res, row, 5);
    if (bin_bytes(res, row, 2, ev->block_hash, 32) < 0 ||
        bin_bytes(res, row, 3, ev->tx_hash, 32) < 0 ||
        bin_bytes(res, row, 6, ev->address.b, ADDR_LEN) < 0)
        return err_set(e, ERR_INVALID, "the book: a malformed event of block %llu",
                       (unsigned long long)ev->block_number);
    for (int t = 0; t < STORE_MAX_TOPICS && !PQgetisnull(res, row, 7 + t); t++) {
        if (bin_bytes(res, row, 7 + t, ev->topics[t], 32) < 0)
            return err_set(e, ERR_INVALID, "the book: a malformed topic of block %llu",
                           (unsigned long long)ev->block_number);
        ev->n_topics = (unsigned)t + 1;
    }
    size_t dlen = (size_t)PQgetlength(res, row, 11);
    if (dlen > 0) {
        uint8_t *p = store_event_list_alloc(l, dlen);
        if (!p)
            return err_set(e, ERR_NOMEM, "out of memory reading events");
        memcpy(p, PQgetvalue(res, row, 11), dlen);
        ev->data = p;
        ev->data_len = dlen;
    }
    /* the name is shown as it is (a timeline): whole, printable. The decoded fields are the
     * reader's to decode from name, topics and data (sync_event_json_of), as from desk.db. */
    size_t nl = PQgetisnull(res, row, 12) ? 0 : (size_t)PQgetlength(res, row, 12);
    if (nl >= sizeof ev->name || text_unsafe_at(PQgetvalue(res, row, 12), nl) != nl)
        return err_set(e, ERR_INVALID, "the book: a malformed name of an event of block %llu",
                       (unsigned long long)ev->block_number);
    if (!PQgetisnull(res, row, 12))
        snprintf(ev->name, sizeof ev->name, "%.*s", PQgetlength(res, row, 12),
                 PQgetvalue(res, row, 12));
    ev->has_escrow = true;
    ev->escrow = *escrow;
    return 0;
}

static int rd_event_list_escrow(void *conn, uint64_t chain_id, const addr *escrow,
                                store_event_list *out, err *e)
{
    pg_rd *r = conn;
    memset(out, 0, sizeof *out);
    char id[24];
    u64s(id, chain_id);
    const char *v[2] = {id, (const char *)escrow->b};
    int lens[2] = {0, ADDR_LEN}, fmts[2] = {0, 1};
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc = rd_run(r, "rd_ev_escrow", 2, v, lens, fmts, 1, &res, "reading an escrow's events", e);
    if (rc == 0) {
        size_t m = (size_t)PQntuples(res);
        out->items = calloc(m ? m : 1, sizeof *out->items);
        if (!out->items)
            rc = err_set(e, ERR_NOMEM, "out of memory reading events");
        for (size_t i = 0; rc == 0 && i < m; i++) {
            rc = ev_of(res, (int)i, chain_id, escrow, out, &out->items[i], e);
            if (rc == 0)
                out->n++;
        }
    }
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    if (rc < 0)
        store_event_list_free(out);
    return rc;
}

static int rd_escrow_count(void *conn, const char *pattern, size_t *n, err *e)
{
    pg_rd *r = conn;
    *n = 0;
    bool all = !pattern || !pattern[0];
    const char *v[1] = {pattern};
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc = rd_run(r, all ? "rd_count_all" : "rd_count", all ? 0 : 1, v, NULL, NULL, 0, &res,
                    "counting escrows", e);
    if (rc == 0 && PQntuples(res) == 1)
        *n = (size_t)strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* The page statement of an order, a direction, with or without the filter, at an offset
 * or after a key (keyed: the rows after ($k, $c, $a) in the order, no OFFSET), or, back,
 * in the reversed order (the rows before the key, or the last ones; no OFFSET either):
 * prepared on the connection on first use. Parameters: [the pattern], the limit, then the
 * offset or the key's three parts. Each row ends with its sort key as text. */
static int page_stmt(pg_rd *r, int sort, bool desc, bool filtered, bool keyed, bool back,
                     char name[32], err *e)
{
    snprintf(name, 32, "rd_page_%d_%d_%d%s%s", sort, desc, filtered, keyed || back ? "_" : "",
             keyed ? (back ? "kb" : "k") : (back ? "b" : ""));
    if (r->pages[sort][desc][filtered][keyed][back])
        return 0;
    if (back)
        desc = !desc; /* the reversed order: the caller turns the rows round */
    const char *dir = desc ? "DESC" : "ASC";
    int lim = filtered ? 2 : 1;
    char where[1200] = "", tail[300];
    if (filtered) /* RD_FILTER is " WHERE a OR b ...": parenthesised before an AND */
        snprintf(where, sizeof where, " WHERE (%s)", RD_FILTER + strlen(" WHERE "));
    if (keyed) {
        size_t w = strlen(where);
        snprintf(where + w, sizeof where - w,
                 "%s (%s, e.chain_id, e.address COLLATE \"C\")"
                 " %s ($%d::%s, $%d::bigint, $%d::text)",
                 filtered ? " AND" : " WHERE", RD_SORT_KEYS[sort], desc ? "<" : ">", lim + 1,
                 RD_SORT_TYPES[sort], lim + 2, lim + 3);
        snprintf(tail, sizeof tail, " LIMIT $%d", lim);
    } else if (back) {
        snprintf(tail, sizeof tail, " LIMIT $%d", lim);
    } else {
        snprintf(tail, sizeof tail, " LIMIT $%d OFFSET $%d", lim, lim + 1);
    }
    char sql[3072];
    snprintf(sql, sizeof sql,
             "SELECT e.chain_id, c.name, e.address, e.payer, e.payee, e.amount, e.state,"
             " e.approvals, e.threshold, e.last_event_block, e.pending,"
             " COALESCE(t.symbol, CASE WHEN e.token = " ZERO_ADDR " THEN c.native_symbol END),"
             " COALESCE(t.decimals, CASE WHEN e.token = " ZERO_ADDR
             " THEN c.native_decimals END), (%s)::text" RD_FROM "%s"
             " ORDER BY %s %s, e.chain_id %s, e.address COLLATE \"C\" %s%s",
             RD_SORT_KEYS[sort], where, RD_SORT_KEYS[sort], dir, dir, dir, tail);
    PGresult *res = PQprepare(r->c, name, sql, keyed ? lim + 3 : back ? lim : lim + 1, NULL);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        return rd_fail(r, res, "preparing the escrow table's page", e);
    PQclear(res);
    r->pages[sort][back ? !desc : desc][filtered][keyed][back] = true;
    return 0;
}

/* A text column shown on the screens: the whole of it (fitting cap) and printable. */
static bool shown_ok(const char *t, size_t cap)
{
    return t && strlen(t) < cap && text_unsafe_at(t, strlen(t)) == strlen(t);
}

int pg_escrow_line_of_row(const char *const v[PG_LINE_NCOLS], store_escrow_line *l, err *e)
{
    memset(l, 0, sizeof *l);
    err ignored;
    int64_t chain = 0, approvals = 0, threshold = 0, block = 0, pending = 0, decimals = 0;
    u256 amount;
    l->asset_known = v[11] != NULL;
    if (pg_text_int(v[0], false, &chain) < 0 || !shown_ok(v[1], sizeof l->chain) || !v[2] ||
        hex_decode_exact(l->address.b, ADDR_LEN, v[2], HEX_REQUIRE_PREFIX, &ignored) < 0 ||
        !v[3] || hex_decode_exact(l->payer.b, ADDR_LEN, v[3], HEX_REQUIRE_PREFIX, &ignored) < 0 ||
        !v[4] || hex_decode_exact(l->payee.b, ADDR_LEN, v[4], HEX_REQUIRE_PREFIX, &ignored) < 0 ||
        !v[5] || strlen(v[5]) >= sizeof l->amount ||
        u256_from_dec(&amount, v[5], &ignored) < 0 || !shown_ok(v[6], sizeof l->state) ||
        pg_text_int(v[7], true, &approvals) < 0 || approvals > UINT32_MAX ||
        pg_text_int(v[8], true, &threshold) < 0 || threshold > UINT32_MAX ||
        pg_text_int(v[9], false, &block) < 0 || pg_text_int(v[10], false, &pending) < 0 ||
        (l->asset_known &&
         (!shown_ok(v[11], sizeof l->asset) || pg_text_int(v[12], true, &decimals) < 0 ||
          decimals > 255))) {
        char chain_s[48], at[96];
        memset(l, 0, sizeof *l);
        return err_set(e, ERR_INVALID, "the book: a malformed escrow row (chain %s, %s)",
                       text_safe_str(chain_s, sizeof chain_s, v[0] ? v[0] : "?"),
                       text_safe_str(at, sizeof at, v[2] ? v[2] : "?"));
    }
    l->chain_id = (uint64_t)chain;
    snprintf(l->chain, sizeof l->chain, "%s", v[1]);
    snprintf(l->amount, sizeof l->amount, "%s", v[5]);
    snprintf(l->state, sizeof l->state, "%s", v[6]);
    l->approvals = (unsigned)approvals;
    l->threshold = (unsigned)threshold;
    l->last_block = (uint64_t)block;
    l->pending = pending != 0;
    if (l->asset_known) {
        snprintf(l->asset, sizeof l->asset, "%s", v[11]);
        l->decimals = (unsigned)decimals;
    }
    return 0;
}

static int rd_escrow_page(void *conn, const char *pattern, int sort, bool desc, size_t offset,
                          const store_escrow_line *after, bool backward, size_t limit,
                          store_escrow_line *out, size_t *n, bool *more, err *e)
{
    pg_rd *r = conn;
    *n = 0;
    *more = false;
    if (sort < 0 || sort >= STORE_ESCROW_SORTS)
        sort = 0;
    bool filtered = pattern && pattern[0];
    bool keyed = after && after->has_key;
    char lim[24], off[24], chain[24], addr_s[2 + 2 * ADDR_LEN + 1], name[32];
    u64s(lim, (uint64_t)limit + 1); /* the extra row: is there more? */
    u64s(off, (uint64_t)offset);
    const char *v[5];
    int nv = 0;
    if (filtered)
        v[nv++] = pattern;
    v[nv++] = lim;
    if (keyed) {
        u64s(chain, after->chain_id);
        hex_encode(addr_s, sizeof addr_s, after->address.b, ADDR_LEN, true);
        v[nv++] = after->key;
        v[nv++] = chain;
        v[nv++] = addr_s;
    } else if (!backward) {
        v[nv++] = off;
    }
    pthread_mutex_lock(&r->mu);
    PGresult *res = NULL;
    int rc = rd_ensure(r, e);
    if (rc == 0)
        rc = page_stmt(r, sort, desc, filtered, keyed, backward, name, e);
    if (rc == 0)
        rc = rd_run(r, name, nv, v, NULL, NULL, 0, &res, "reading escrows", e);
    if (rc == 0) {
        size_t m = (size_t)PQntuples(res);
        *more = m > limit;
        if (PQnfields(res) != PG_LINE_NCOLS + 1)
            rc = err_set(e, ERR_INTERNAL, "the book: an escrow page of %d columns",
                         PQnfields(res));
        size_t got = m < limit ? m : limit;
        for (size_t i = 0; rc == 0 && i < got; i++) {
            const char *f[PG_LINE_NCOLS];
            for (int k = 0; k < PG_LINE_NCOLS; k++)
                f[k] = PQgetisnull(res, (int)i, k) ? NULL : PQgetvalue(res, (int)i, k);
            store_escrow_line *o = &out[backward ? got - 1 - i : i]; /* in the order */
            rc = pg_escrow_line_of_row(f, o, e);
            /* the sort key goes back to the server only as a parameter: bounded, that's all */
            const char *key = PQgetisnull(res, (int)i, PG_LINE_NCOLS)
                                  ? NULL
                                  : PQgetvalue(res, (int)i, PG_LINE_NCOLS);
            if (rc == 0 && key && strlen(key) < sizeof o->key) {
                o->has_key = true;
                snprintf(o->key, sizeof o->key, "%s", key);
            }
        }
        *n = rc == 0 ? (m < limit ? m : limit) : 0;
    }
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static int rd_changed(void *conn, bool *changed, err *e)
{
    (void)e;
    pg_rd *r = conn;
    *changed = false;
    pthread_mutex_lock(&r->mu);
    /* only what arrived on a live connection: the next read makes a lost one again */
    if (r->c && PQstatus(r->c) == CONNECTION_OK) {
        if (PQconsumeInput(r->c) == 0) {
            pg_close(&r->c); /* lost: made again by the next read */
            memset(r->pages, 0, sizeof r->pages);
        } else {
            PGnotify *nt;
            while ((nt = PQnotifies(r->c)) != NULL) {
                r->news = true;
                PQfreemem(nt);
            }
        }
    }
    *changed = r->news;
    r->news = false;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

int pg_feed_of_row(const char *const v[PG_FEED_NCOLS], store_feed_row *f, err *e)
{
    memset(f, 0, sizeof *f);
    int64_t id, chain, at;
    if (pg_text_int(v[0], true, &id) < 0 || id == 0)
        return err_set(e, ERR_INVALID, "a change feed row: its id is not a positive integer");
    if (pg_text_int(v[2], true, &chain) < 0 || pg_text_int(v[5], true, &at) < 0)
        return err_set(e, ERR_INVALID, "change feed row %lld: a malformed chain or time",
                       (long long)id);
    if (!shown_ok(v[1], sizeof f->kind) || !v[1][0] || !shown_ok(v[3], sizeof f->ref) ||
        !shown_ok(v[4], sizeof f->state))
        return err_set(e, ERR_INVALID,
                       "change feed row %lld: its kind, ref or state is too long, empty or not "
                       "printable",
                       (long long)id);
    f->id = id;
    f->chain_id = (uint64_t)chain;
    f->at = at;
    snprintf(f->kind, sizeof f->kind, "%s", v[1]);
    snprintf(f->ref, sizeof f->ref, "%s", v[3]);
    snprintf(f->state, sizeof f->state, "%s", v[4]);
    return 0;
}

static int rd_feed_after(void *conn, int64_t after, size_t max, store_feed_row **out, size_t *n,
                         err *e)
{
    pg_rd *r = conn;
    *out = NULL;
    *n = 0;
    char a[24], m[24];
    snprintf(a, sizeof a, "%lld", (long long)(after < 0 ? 0 : after));
    snprintf(m, sizeof m, "%zu", max);
    const char *v[2] = {a, m};
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc = rd_run(r, "rd_feed", 2, v, NULL, NULL, 0, &res, "reading the change feed", e);
    if (rc == 0 && PQnfields(res) != PG_FEED_NCOLS)
        rc = err_set(e, ERR_INVALID, "the book on %s: api_feed has %d columns, not %d", r->shown,
                     PQnfields(res), PG_FEED_NCOLS);
    size_t rows = rc == 0 ? (size_t)PQntuples(res) : 0;
    store_feed_row *items = NULL;
    if (rc == 0 && rows) {
        items = calloc(rows, sizeof *items);
        if (!items)
            rc = err_set(e, ERR_NOMEM, "out of memory reading the change feed");
    }
    for (size_t i = 0; rc == 0 && i < rows; i++) {
        const char *f[PG_FEED_NCOLS];
        for (int k = 0; k < PG_FEED_NCOLS; k++)
            f[k] = PQgetisnull(res, (int)i, k) ? NULL : PQgetvalue(res, (int)i, k);
        rc = pg_feed_of_row(f, &items[i], e);
        if (rc == 0 && items[i].id <= (i ? items[i - 1].id : after))
            rc = err_set(e, ERR_INVALID, "the book on %s: change feed row %lld out of order",
                         r->shown, (long long)items[i].id);
    }
    if (rc == 0) {
        *out = items;
        *n = rows;
    } else {
        free(items);
    }
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static int rd_feed_state(void *conn, int64_t *last, int64_t *horizon, char *book, size_t cap,
                         err *e)
{
    pg_rd *r = conn;
    *last = *horizon = 0;
    if (cap)
        book[0] = '\0';
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc =
        rd_run(r, "rd_feed_state", 0, NULL, NULL, NULL, 0, &res, "reading the change feed", e);
    if (rc == 0 && (PQntuples(res) != 1 || PQnfields(res) != 3 ||
                    pg_text_int(PQgetvalue(res, 0, 0), true, last) < 0 ||
                    pg_text_int(PQgetvalue(res, 0, 1), true, horizon) < 0 || *horizon > *last ||
                    PQgetisnull(res, 0, 2) || !shown_ok(PQgetvalue(res, 0, 2), cap) ||
                    !PQgetvalue(res, 0, 2)[0]))
        rc = err_set(e, ERR_INVALID,
                     "the book on %s: the change feed's last id, horizon or database is malformed",
                     r->shown);
    if (rc == 0)
        snprintf(book, cap, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static int rd_escrow_list_after(void *conn, const store_escrow_cursor *after, size_t limit,
                                store_escrow **out, size_t *n, err *e)
{
    char id[24], blk[24], at[ADDR_STR_MAX], lim[24];
    if (after) {
        int64_t sid, sblk;
        memcpy(&sid, &after->chain_id, sizeof sid); /* the stored bits of the bigint */
        memcpy(&sblk, &after->created_block, sizeof sblk);
        snprintf(id, sizeof id, "%lld", (long long)sid);
        snprintf(blk, sizeof blk, "%lld", (long long)sblk);
        hex_encode(at, sizeof at, after->address.b, ADDR_LEN, true);
    }
    u64s(lim, limit);
    const char *v[4] = {after ? id : NULL, after ? blk : NULL, after ? at : NULL, lim};
    return esc_many(conn, "rd_esc_after", 4, v, out, n, e);
}

/* A hash of 32 bytes as hex text (no prefix when skip is 0, "0x" skipped when 2). */
static bool hash_of_text(const char *t, size_t skip, uint8_t out[32])
{
    err ignored;
    size_t len = 0, tl = strlen(t);
    if (tl != skip + 64 || (skip && (t[0] != '0' || t[1] != 'x')))
        return false;
    return hex_decode(out, 32, &len, t + skip, 64, 0, &ignored) == 0 && len == 32;
}

static int rd_creations(void *conn, size_t n, const uint64_t *chain_ids, const addr *escrows,
                        store_book_creation *out, err *e)
{
    pg_rd *r = conn;
    memset(out, 0, n * sizeof *out);
    if (n == 0)
        return 0;
    /* {id,...} and {0xaddr,...}: array literals of numbers and lower-case hex (the stored
     * form), nothing to quote */
    char *ids = malloc(n * 22 + 3), *as = malloc(n * (ADDR_STR_MAX + 1) + 3);
    if (!ids || !as) {
        free(ids);
        free(as);
        return err_set(e, ERR_NOMEM, "out of memory reading escrows to screen");
    }
    size_t il = 0, al = 0;
    ids[il++] = '{';
    as[al++] = '{';
    for (size_t i = 0; i < n; i++) {
        int64_t sid;
        memcpy(&sid, &chain_ids[i], sizeof sid);
        il += (size_t)sprintf(ids + il, "%s%lld", i ? "," : "", (long long)sid);
        if (i)
            as[al++] = ',';
        hex_encode(as + al, ADDR_STR_MAX, escrows[i].b, ADDR_LEN, true);
        al += strlen(as + al);
    }
    ids[il++] = '}';
    ids[il] = '\0';
    as[al++] = '}';
    as[al] = '\0';
    const char *v[2] = {ids, as};
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc = rd_run(r, "rd_creations", 2, v, NULL, NULL, 0, &res,
                    "reading escrows to screen", e);
    for (int row = 0; rc == 0 && row < PQntuples(res); row++) {
        int64_t k = 0, ts = 0;
        bool ok = PQnfields(res) == 4 && !PQgetisnull(res, row, 0) && !PQgetisnull(res, row, 1) &&
                  pg_text_int(PQgetvalue(res, row, 0), true, &k) == 0 && k >= 1 &&
                  (uint64_t)k <= n;
        store_book_creation *c = ok ? &out[k - 1] : NULL;
        ok = ok && hash_of_text(PQgetvalue(res, row, 1), 2, c->created_tx);
        if (ok && !PQgetisnull(res, row, 2)) {
            c->has_hash = true;
            ok = hash_of_text(PQgetvalue(res, row, 2), 0, c->block_hash);
        }
        if (ok && !PQgetisnull(res, row, 3)) {
            c->has_block = true;
            ok = pg_text_int(PQgetvalue(res, row, 3), true, &ts) == 0;
            c->timestamp = (uint64_t)ts;
        }
        if (!ok)
            rc = err_set(e, ERR_INVALID, "the book on %s: an escrow's creation is malformed",
                         r->shown);
        else
            c->found = true;
    }
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    free(ids);
    free(as);
    if (rc < 0)
        memset(out, 0, n * sizeof *out);
    return rc;
}

/* A row decoder of one list read: the row's fields (NULL: SQL NULL) into *item. */
typedef int (*rd_row_fn)(const char *const *v, void *item, err *e);

/* The frame of a list read, the caller holding r->mu: runs stmt, checks its ncols columns
 * (of table, for the line), decodes each row with of_row into a calloc'ed array of items
 * of sz bytes (*out malloc'ed, *n rows; on an error nothing is returned, all freed). */
static int rd_rows(pg_rd *r, const char *stmt, int np, const char *const *v, const char *table,
                   int ncols, size_t sz, rd_row_fn of_row, const char *what, void **out,
                   size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    PGresult *res;
    int rc = rd_run(r, stmt, np, v, NULL, NULL, 0, &res, what, e);
    if (rc == 0 && PQnfields(res) != ncols)
        rc = err_set(e, ERR_INVALID, "the book on %s: %s has %d columns, not %d", r->shown,
                     table, PQnfields(res), ncols);
    size_t rows = rc == 0 ? (size_t)PQntuples(res) : 0;
    unsigned char *items = NULL;
    if (rc == 0 && rows && !(items = calloc(rows, sz)))
        rc = err_set(e, ERR_NOMEM, "out of memory %s", what);
    const char *f[32];
    if (rc == 0 && ncols > (int)(sizeof f / sizeof f[0]))
        rc = err_set(e, ERR_INTERNAL, "%s: %d columns, more than a row read takes", what, ncols);
    for (size_t i = 0; rc == 0 && i < rows; i++) {
        for (int k = 0; k < ncols; k++)
            f[k] = PQgetisnull(res, (int)i, k) ? NULL : PQgetvalue(res, (int)i, k);
        if (of_row(f, items + i * sz, e) < 0)
            rc = err_prefix(e, "the book on %s", r->shown);
    }
    PQclear(res);
    if (rc == 0) {
        *out = items;
        *n = rows;
    } else {
        free(items);
    }
    return rc;
}

int pg_inflow_of_row(const char *const v[PG_INFLOW_NCOLS], store_inflow *f, err *e)
{
    memset(f, 0, sizeof *f);
    int64_t id, num[8];
    if (pg_text_int(v[0], true, &id) < 0 || id == 0)
        return err_set(e, ERR_INVALID, "an inflow row: its id is not a positive integer");
    /* chain, block, log index, block time, seen, screened, reorged: integers */
    static const int ints[7] = {1, 2, 5, 10, 11, 12, 13};
    for (int k = 0; k < 7; k++)
        if (pg_text_int(v[ints[k]], true, &num[k]) < 0)
            return err_set(e, ERR_INVALID, "inflow row %lld: a malformed number", (long long)id);
    err ignored;
    if (!v[3] || hex_decode_exact(f->block_hash, 32, v[3], HEX_REQUIRE_PREFIX, &ignored) < 0 ||
        !v[4] || hex_decode_exact(f->tx_hash, 32, v[4], HEX_REQUIRE_PREFIX, &ignored) < 0 ||
        !v[6] || hex_decode_exact(f->token.b, ADDR_LEN, v[6], HEX_REQUIRE_PREFIX, &ignored) < 0 ||
        !v[7] || hex_decode_exact(f->sender.b, ADDR_LEN, v[7], HEX_REQUIRE_PREFIX, &ignored) < 0 ||
        !v[8] ||
        hex_decode_exact(f->recipient.b, ADDR_LEN, v[8], HEX_REQUIRE_PREFIX, &ignored) < 0 ||
        !v[9] || u256_from_dec(&f->amount, v[9], &ignored) < 0)
        return err_set(e, ERR_INVALID, "inflow row %lld: a malformed hash, address or amount",
                       (long long)id);
    f->id = id;
    f->chain_id = (uint64_t)num[0];
    f->block_number = (uint64_t)num[1];
    f->log_index = (uint64_t)num[2];
    f->block_time = num[3];
    f->seen_at = num[4];
    f->screened_at = num[5];
    f->reorged_at = num[6];
    return 0;
}

static int inflow_row(const char *const *v, void *item, err *e)
{
    return pg_inflow_of_row(v, item, e);
}

static int rd_inflows(void *conn, bool unscreened, int64_t since, const uint64_t *chains,
                      const int64_t *after, size_t n_after, store_inflow **out, size_t *n, err *e)
{
    pg_rd *r = conn;
    *out = NULL;
    *n = 0;
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)since);
    /* {id,...} and {after,...}: array literals of numbers, nothing to quote */
    char *ids = malloc(n_after * 22 + 3), *afs = malloc(n_after * 22 + 3);
    if (!ids || !afs) {
        free(ids);
        free(afs);
        return err_set(e, ERR_NOMEM, "out of memory reading the inflows");
    }
    size_t il = 0, al = 0;
    ids[il++] = '{';
    afs[al++] = '{';
    for (size_t i = 0; i < n_after; i++) {
        int64_t sid;
        memcpy(&sid, &chains[i], sizeof sid); /* the stored bits of the bigint */
        il += (size_t)sprintf(ids + il, "%s%lld", i ? "," : "", (long long)sid);
        al += (size_t)sprintf(afs + al, "%s%lld", i ? "," : "", (long long)after[i]);
    }
    memcpy(ids + il, "}", 2);
    memcpy(afs + al, "}", 2);
    const char *v[4] = {s, unscreened ? "true" : "false", ids, afs};
    pthread_mutex_lock(&r->mu);
    void *items;
    int rc = rd_rows(r, "rd_inflows", 4, v, "inflows", PG_INFLOW_NCOLS, sizeof **out, inflow_row,
                     "reading the inflows", &items, n, e);
    pthread_mutex_unlock(&r->mu);
    free(ids);
    free(afs);
    *out = items;
    return rc;
}

static int rd_inflows_to(void *conn, uint64_t chain_id, const addr *recipient, const addr *token,
                         store_inflow **out, size_t *n, err *e)
{
    pg_rd *r = conn;
    *out = NULL;
    *n = 0;
    char ch[24], to[ADDR_STR_MAX], tk[ADDR_STR_MAX];
    int64_t sid;
    memcpy(&sid, &chain_id, sizeof sid); /* the stored bits of the bigint */
    snprintf(ch, sizeof ch, "%lld", (long long)sid);
    hex_encode(to, sizeof to, recipient->b, ADDR_LEN, true);
    hex_encode(tk, sizeof tk, token->b, ADDR_LEN, true);
    const char *v[3] = {ch, to, tk};
    pthread_mutex_lock(&r->mu);
    void *items;
    int rc = rd_rows(r, "rd_inflows_to", 3, v, "inflows", PG_INFLOW_NCOLS, sizeof **out,
                     inflow_row, "reading the inflows to a repayment address", &items, n, e);
    pthread_mutex_unlock(&r->mu);
    *out = items;
    return rc;
}

static int rd_inflows_of(void *conn, const int64_t *ids, size_t n, store_inflow **out,
                         size_t *nout, err *e)
{
    pg_rd *r = conn;
    *out = NULL;
    *nout = 0;
    if (n == 0)
        return 0;
    /* {id,...}: an array literal of numbers, nothing to quote */
    char *list = malloc(n * 22 + 3);
    if (!list)
        return err_set(e, ERR_NOMEM, "out of memory reading the inflows");
    size_t at = 0;
    list[at++] = '{';
    for (size_t i = 0; i < n; i++)
        at += (size_t)sprintf(list + at, "%s%lld", i ? "," : "", (long long)ids[i]);
    memcpy(list + at, "}", 2);
    const char *v[1] = {list};
    pthread_mutex_lock(&r->mu);
    void *items;
    int rc = rd_rows(r, "rd_inflows_of", 1, v, "inflows", PG_INFLOW_NCOLS, sizeof **out,
                     inflow_row, "reading inflows by id", &items, nout, e);
    pthread_mutex_unlock(&r->mu);
    free(list);
    *out = items;
    return rc;
}

int pg_bridge_leg_of_row(const char *const v[PG_BRIDGE_LEG_NCOLS], store_bridge_leg *l, err *e)
{
    memset(l, 0, sizeof *l);
    int64_t num[4];
    static const int ints[4] = {0, 1, 4, 5}; /* chain, block, source domain, nonce */
    for (int k = 0; k < 4; k++) /* the nonce is kept as its 64 bits: any sign */
        if (pg_text_int(v[ints[k]], k != 3, &num[k]) < 0)
            return err_set(e, ERR_INVALID, "a bridge leg row: a malformed number");
    if (num[2] > UINT32_MAX)
        return err_set(e, ERR_INVALID, "a bridge leg row: a source domain past 32 bits");
    err ignored;
    if (!v[2] || (strcmp(v[2], "sent") != 0 && strcmp(v[2], "received") != 0))
        return err_set(e, ERR_INVALID, "a bridge leg row: a leg neither sent nor received");
    if (!v[3] || hex_decode_exact(l->tx_hash, 32, v[3], HEX_REQUIRE_PREFIX, &ignored) < 0)
        return err_set(e, ERR_INVALID, "a bridge leg row: a malformed transaction hash");
    l->received = v[2][0] == 'r';
    size_t mlen = 0;
    if (!v[6] || (v[6][0] && hex_decode(l->message, sizeof l->message, &mlen, v[6], strlen(v[6]),
                                        0, &ignored) < 0))
        return err_set(e, ERR_INVALID, "a bridge leg row: a malformed or too long message");
    l->message_len = mlen;
    l->chain_id = (uint64_t)num[0];
    l->block_number = (uint64_t)num[1];
    l->src_domain = (uint32_t)num[2];
    l->nonce = (uint64_t)num[3];
    return 0;
}

static int bridge_leg_row(const char *const *v, void *item, err *e)
{
    return pg_bridge_leg_of_row(v, item, e);
}

static int rd_bridge_legs(void *conn, uint64_t src_chain, const uint8_t burn_tx[32],
                          uint64_t dst_chain, bool has_key, uint32_t src_domain, uint64_t nonce,
                          store_bridge_leg **out, size_t *n, err *e)
{
    pg_rd *r = conn;
    *out = NULL;
    *n = 0;
    char sc[24], dc[24], dom[24], nn[24], tx[67];
    u64s(sc, src_chain);
    u64s(dc, dst_chain);
    u64s(dom, src_domain);
    snprintf(nn, sizeof nn, "%lld", (long long)nonce); /* as put_legs keeps it */
    hex_encode(tx, sizeof tx, burn_tx, 32, true);
    const char *v[6] = {sc, tx, dc, has_key ? "true" : "false", dom, nn};
    pthread_mutex_lock(&r->mu);
    void *items;
    int rc = rd_rows(r, "rd_bridge_legs", 6, v, "bridge_legs", PG_BRIDGE_LEG_NCOLS, sizeof **out,
                     bridge_leg_row, "reading the bridge legs", &items, n, e);
    pthread_mutex_unlock(&r->mu);
    *out = items;
    return rc;
}

static int rd_bridge_legs_of_senders(void *conn, const addr *senders, size_t n_senders,
                               store_bridge_leg **out, size_t *n, err *e)
{
    pg_rd *r = conn;
    *out = NULL;
    *n = 0;
    if (n_senders == 0)
        return 0;
    char *list = malloc(n_senders * (2 * ADDR_LEN + 1));
    if (!list)
        return err_set(e, ERR_NOMEM, "out of memory reading the bridge legs");
    size_t at = 0;
    for (size_t i = 0; i < n_senders; i++) {
        if (i)
            list[at++] = ',';
        at += hex_encode(list + at, 2 * ADDR_LEN + 1, senders[i].b, ADDR_LEN, false);
    }
    list[at] = '\0';
    const char *v[1] = {list};
    pthread_mutex_lock(&r->mu);
    void *items;
    int rc = rd_rows(r, "rd_bridge_senders", 1, v, "bridge_legs", PG_BRIDGE_LEG_NCOLS,
                     sizeof **out, bridge_leg_row, "reading the bridge legs", &items, n, e);
    pthread_mutex_unlock(&r->mu);
    free(list);
    *out = items;
    return rc;
}

static int rd_feed_prune(void *conn, int64_t before, int64_t keep, int64_t upto, int64_t *n,
                         err *e)
{
    pg_rd *r = conn;
    *n = 0;
    char b[24], k[24], u[24];
    snprintf(b, sizeof b, "%lld", (long long)before);
    snprintf(k, sizeof k, "%lld", (long long)keep);
    snprintf(u, sizeof u, "%lld", (long long)upto);
    const char *v[3] = {b, k, u};
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc = rd_run(r, "rd_feed_prune", 3, v, NULL, NULL, 0, &res, "pruning the change feed", e);
    if (rc == 0 && (PQntuples(res) != 1 || PQnfields(res) != 1 ||
                    pg_text_int(PQgetvalue(res, 0, 0), true, n) < 0))
        rc = err_set(e, ERR_INVALID, "the book on %s: the change feed's pruned count is malformed",
                     r->shown);
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static int rd_escrows_version(void *conn, int64_t *count, int64_t *feed_last, err *e)
{
    pg_rd *r = conn;
    *count = *feed_last = 0;
    pthread_mutex_lock(&r->mu);
    PGresult *res;
    int rc = rd_run(r, "rd_esc_version", 0, NULL, NULL, NULL, 0, &res,
                    "reading the escrows' count and change feed", e);
    if (rc == 0 && (PQntuples(res) != 1 || PQnfields(res) != 2 || PQgetisnull(res, 0, 0) ||
                    pg_text_int(PQgetvalue(res, 0, 0), true, count) < 0 ||
                    pg_text_int(PQgetvalue(res, 0, 1), false, feed_last) < 0 ||
                    *feed_last < -1))
        rc = err_set(e, ERR_INVALID,
                     "the book on %s: the escrows' count or the change feed's last id is "
                     "malformed",
                     r->shown);
    PQclear(res);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

const store_book_reader pg_reader = {
    .open = rd_open,
    .close = rd_close,
    .escrow_get = rd_escrow_get,
    .escrow_find = rd_escrow_find,
    .escrow_list = rd_escrow_list,
    .escrow_list_open = rd_escrow_list_open,
    .escrow_awaiting = rd_escrow_awaiting,
    .checkpoint_get = rd_checkpoint_get,
    .event_list_escrow = rd_event_list_escrow,
    .escrow_count = rd_escrow_count,
    .escrow_page = rd_escrow_page,
    .changed = rd_changed,
    .feed_after = rd_feed_after,
    .feed_state = rd_feed_state,
    .escrow_list_after = rd_escrow_list_after,
    .creations = rd_creations,
    .inflows = rd_inflows,
    .inflows_to = rd_inflows_to,
    .inflows_of = rd_inflows_of,
    .bridge_legs = rd_bridge_legs,
    .bridge_legs_of_senders = rd_bridge_legs_of_senders,
    .escrows_version = rd_escrows_version,
    .feed_prune = rd_feed_prune,
};
