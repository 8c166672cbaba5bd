/* pg_sync.c: a chain thread's book on the server (pg_book, a store_book of
 * store/store_book.h, used by `fusion sync --db`): one connection per chain thread with its
 * statements prepared once, the chain's advisory lock, and each range, or a reorg's
 * rewind, in one transaction that announces itself (pg_commit_notify). A range's events go
 * EV_BATCH rows to an INSERT, one round trip per batch rather than per row (measured by
 * tests/bench/pg_sync_bench.py). Events, block hashes, the checkpoint, the bridge legs of
 * a range's events (deleted by the rewind with them), the inflows with
 * their cursor (a range's, or the scan's once caught up; marked by the rewind) and the
 * escrow projection: the escrows with events in a range (or a rewind) are projected again
 * from all their events on the server, read back in one statement, and written ESC_BATCH
 * rows to an upsert; the row count in escrow_totals and the api_feed rows follow by the triggers
 * pg_schema.c creates (as SQLite's do on the desk). docs/scale.md says what the SQLite path
 * keeps besides. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "base/text.h"
#include "crypto/address.h"
#include "pgstore/pgstore.h"

/* The events' insert: EV_BATCH rows a statement (ev_batch_sql). No decoded fields: a
 * reader decodes them from name, topics and data (a server made before the desk's schema
 * dropped the column keeps it, nullable, and NULL in the rows written since). */
#define EV_COLS                                                                                    \
    "INSERT INTO events (chain_id, block_number, block_hash, tx_hash, tx_index, log_index,"        \
    " address, topic0, topic1, topic2, topic3, data, name, escrow) VALUES "
#define EV_KEY " ON CONFLICT (chain_id, block_number, log_index, block_hash) DO NOTHING"
enum { EV_NPARAM = 14, EV_BATCH = 128 };

/* The escrows' upsert (STORE_ESCROW_COLUMNS, store_escrow_put's statement): ESC_BATCH rows
 * a statement; their events are read ESC_READ escrows a statement. */
#define ESC_COLS "INSERT INTO escrows (" STORE_ESCROW_COLUMNS ") VALUES "
#define ESC_KEY                                                                                    \
    " ON CONFLICT (chain_id, address) DO UPDATE SET factory = excluded.factory,"                  \
    " payer = excluded.payer, payee = excluded.payee, token = excluded.token,"                    \
    " amount = excluded.amount, approvers = excluded.approvers,"                                  \
    " threshold = excluded.threshold, arbiter = excluded.arbiter,"                                \
    " deadline = excluded.deadline, state = excluded.state,"                                      \
    " resolved_to = excluded.resolved_to, approvals = excluded.approvals,"                        \
    " funded = excluded.funded, released = excluded.released, refunded = excluded.refunded,"      \
    " created_block = excluded.created_block, created_tx = excluded.created_tx,"                  \
    " last_event_block = excluded.last_event_block, events = excluded.events,"                    \
    " pending = excluded.pending, anomaly = excluded.anomaly, version = excluded.version,"        \
    " dispute_window = excluded.dispute_window, terms_hash = excluded.terms_hash,"                \
    " created_arbiter = excluded.created_arbiter, inconsistent = excluded.inconsistent,"          \
    " approval_list = excluded.approval_list"
enum { ESC_BATCH = 64, ESC_READ = 512 };

/* The statements, prepared on every connection. */
static const struct {
    const char *name;
    const char *sql;
    int n;
} STMTS[] = {
    {"cp_get",
     "SELECT synced_block, synced_hash, final_block, head_block, updated_at FROM checkpoints"
     " WHERE chain_id = $1",
     1},
    {"cp_lock", "SELECT synced_block, synced_hash FROM checkpoints WHERE chain_id = $1 FOR UPDATE",
     1},
    /* the chain's row, the lock a range commit (shared) and add-factory (exclusive) meet on
     * before the checkpoint's, which a chain never synced does not have */
    {"chain_share", "SELECT 1 FROM chains WHERE chain_id = $1 FOR SHARE", 1},
    {"chain_lock", "SELECT 1 FROM chains WHERE chain_id = $1 FOR NO KEY UPDATE", 1},
    {"cp_get_lock",
     "SELECT synced_block, final_block FROM checkpoints WHERE chain_id = $1 FOR UPDATE", 1},
    {"cp_put",
     "INSERT INTO checkpoints (chain_id, synced_block, synced_hash, final_block, head_block,"
     " updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain_id) DO UPDATE SET"
     " synced_block = excluded.synced_block, synced_hash = excluded.synced_hash,"
     " final_block = excluded.final_block, head_block = excluded.head_block,"
     " updated_at = excluded.updated_at",
     6},
    {"cp_del", "DELETE FROM checkpoints WHERE chain_id = $1", 1},
    {"ev_rewind", "DELETE FROM events WHERE chain_id = $1 AND block_number >= $2", 2},
    {"ev_escrows", "SELECT DISTINCT escrow FROM events WHERE chain_id = $1 AND escrow IS NOT NULL",
     1},
    /* the factories a desk's chain add-factory wrote (pg_book_factory_add) */
    {"fac_list",
     "SELECT address FROM contracts WHERE chain_id = $1 AND kind = 'factory' ORDER BY address", 1},
    {"fac_upto",
     "SELECT address FROM contracts WHERE chain_id = $1 AND kind = 'factory'"
     " AND deployed_block <= $2",
     2},
    {"blk_put",
     "INSERT INTO blocks (chain_id, number, hash, parent_hash, timestamp) VALUES ($1, $2, $3,"
     " $4, $5) ON CONFLICT (chain_id, number) DO UPDATE SET hash = excluded.hash,"
     " parent_hash = excluded.parent_hash, timestamp = excluded.timestamp",
     5},
    {"blk_prune", "DELETE FROM blocks WHERE chain_id = $1 AND number < $2", 2},
    {"blk_rewind", "DELETE FROM blocks WHERE chain_id = $1 AND number >= $2", 2},
    {"esc_touched",
     "SELECT DISTINCT escrow FROM events WHERE chain_id = $1 AND block_number >= $2"
     " AND escrow IS NOT NULL ORDER BY escrow",
     2},
    /* every event of the escrows named (hex, no 0x), in chain order */
    {"esc_events",
     "SELECT escrow, block_number, block_hash, tx_hash, tx_index, log_index, address, topic0,"
     " topic1, topic2, topic3, data FROM events WHERE chain_id = $1 AND escrow IN"
     " (SELECT decode(h, 'hex') FROM unnest($2::text[]) h)"
     " ORDER BY escrow, block_number, log_index",
     2},
    /* store_outbound_flag_reorged's, before the events go: the desk's transactions mined
     * from first_gone on, and those in flight about an escrow with an event going */
    {"out_flag",
     "UPDATE outbound_txs SET reorged = 1 WHERE chain_id = $1 AND reorged = 0 AND"
     " ((mined_block IS NOT NULL AND mined_block >= $2) OR (state IN ('pending', 'sent',"
     " 'mined') AND escrow IN (SELECT DISTINCT '0x' || encode(escrow, 'hex') FROM events"
     " WHERE chain_id = $1 AND block_number >= $2 AND escrow IS NOT NULL)))",
     2},
    {"esc_del", "DELETE FROM escrows WHERE chain_id = $1 AND address = $2", 2},
    {"esc_settle",
     "UPDATE escrows SET pending = 0 WHERE chain_id = $1 AND pending = 1"
     " AND last_event_block <= $2",
     2},
    /* the triggers that keep escrow_totals and api_feed (pg_schema.c) */
    {"esc_triggers",
     "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
     " WHERE c.relname = 'escrows' AND t.tgname = 'escrows_changed'",
     0},
    /* store_vault_flow_put's: the flow of a stored event, tied to it */
    {"vf_put",
     "INSERT INTO vault_flows (event_id, chain_id, vault, block_number, kind, owner, token,"
     " amount, request_id) SELECT id, $1::bigint, $2::text, $3::bigint, $4::text, $5::text,"
     " $6::text, $7::text, $8::bigint FROM events WHERE chain_id = $1::bigint"
     " AND block_number = $3::bigint AND log_index = $9::bigint AND block_hash = $10::bytea"
     " ON CONFLICT DO NOTHING",
     10},
    {"blk_desc",
     "SELECT number, hash, parent_hash, timestamp FROM blocks WHERE chain_id = $1"
     " AND number <= $2 ORDER BY number DESC LIMIT $3",
     3},
    /* the inflows (store_lists.c's statements, desk.db's text forms: 0x hex, decimal) */
    {"in_put",
     "INSERT INTO inflows (chain_id, block_number, block_hash, tx_hash, log_index, token,"
     " sender, recipient, amount, block_time, seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
     " $9, $10, $11) ON CONFLICT DO NOTHING",
     11},
    {"in_reorg",
     "UPDATE inflows SET reorged_at = $3 WHERE chain_id = $1 AND block_number >= $2"
     " AND reorged_at IS NULL",
     3},
    {"in_cur_get", "SELECT next_block FROM inflow_cursor WHERE chain_id = $1", 1},
    {"in_cur_lock", "SELECT next_block FROM inflow_cursor WHERE chain_id = $1 FOR UPDATE", 1},
    {"in_cur_set",
     "INSERT INTO inflow_cursor (chain_id, next_block) VALUES ($1, $2)"
     " ON CONFLICT (chain_id) DO UPDATE SET next_block = excluded.next_block",
     2},
    {"in_cur_back",
     "UPDATE inflow_cursor SET next_block = $2 WHERE chain_id = $1 AND next_block > $2", 2},
    /* the bridge legs (store_bridge_leg): each tied to its stored event, as a vault flow */
    {"bl_put",
     "INSERT INTO bridge_legs (event_id, chain_id, block_number, leg, tx_hash, src_domain,"
     " nonce, message) SELECT id, $1::bigint, $2::bigint, $3::text, $4::text, $5::bigint,"
     " $6::bigint, $7::bytea FROM events WHERE chain_id = $1::bigint"
     " AND block_number = $2::bigint AND log_index = $8::bigint AND block_hash = $9::bytea"
     " ON CONFLICT DO NOTHING",
     9},
    {"bl_rewind", "DELETE FROM bridge_legs WHERE chain_id = $1 AND block_number >= $2", 2},
};

/* One line from a failed result (or the connection). */
static int fail(PGconn *c, PGresult *r, const char *what, err *e)
{
    char why[240];
    pg_result_reason(c, r, why, sizeof why);
    PQclear(r);
    return err_set(e, ERR_IO, "the book on the server: %s: %s", what, why);
}

/* Runs a prepared statement; *out (may be NULL) receives the result on success. */
static int run(PGconn *c, const char *stmt, int n, const char *const *vals, const int *lens,
               const int *fmts, int result_fmt, PGresult **out, const char *what, err *e)
{
    if (out)
        *out = NULL;
    PGresult *r = PQexecPrepared(c, stmt, n, vals, lens, fmts, result_fmt);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return fail(c, r, what, e);
    if (out)
        *out = r;
    else
        PQclear(r);
    return 0;
}

static void u64s(char *out, uint64_t v)
{
    snprintf(out, 24, "%llu", (unsigned long long)v);
}

/* INSERT ... VALUES of `rows` rows ($1..$15), ($16..$30), ...: malloc'd, NULL when out of
 * memory. */
static char *ev_batch_sql(int rows)
{
    size_t cap = sizeof EV_COLS + sizeof EV_KEY + (size_t)rows * EV_NPARAM * 8 + (size_t)rows * 4;
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    size_t at = (size_t)snprintf(sql, cap, "%s", EV_COLS);
    for (int row = 0; row < rows; row++)
        for (int k = 0; k < EV_NPARAM; k++)
            at += (size_t)snprintf(sql + at, cap - at, "%s$%d%s",
                                   k     ? ""
                                   : row ? ",("
                                         : "(",
                                   row * EV_NPARAM + k + 1, k + 1 < EV_NPARAM ? "," : ")");
    snprintf(sql + at, cap - at, "%s", EV_KEY);
    return sql;
}

/* The escrows' upsert of `rows` rows: malloc'd, NULL when out of memory. */
static char *esc_batch_sql(int rows)
{
    size_t cap = sizeof ESC_COLS + sizeof ESC_KEY + (size_t)rows * STORE_ESCROW_NCOLS * 8 +
                 (size_t)rows * 4;
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    size_t at = (size_t)snprintf(sql, cap, "%s", ESC_COLS);
    for (int row = 0; row < rows; row++)
        for (int k = 0; k < STORE_ESCROW_NCOLS; k++)
            at += (size_t)snprintf(sql + at, cap - at, "%s$%d%s",
                                   k     ? ""
                                   : row ? ",("
                                         : "(",
                                   row * STORE_ESCROW_NCOLS + k + 1,
                                   k + 1 < STORE_ESCROW_NCOLS ? "," : ")");
    snprintf(sql + at, cap - at, "%s", ESC_KEY);
    return sql;
}

static int pg_book_open(void **conn, const char *url, err *e)
{
    *conn = NULL;
    PGconn *c;
    /* the one connect policy (a connect waits at most 2 s; keepalives find a server gone
     * without a word) */
    char full[PG_URL_POLICY_MAX];
    if (pg_url_connect_policy(url, full, sizeof full) < 0)
        return err_set(e, ERR_INVALID, "the book's URL is too long");
    if (pg_connect(&c, full, e) < 0)
        return -1;
    /* first: the server's hand-written parts at this fusion's version (pg_upgrade.c); a
     * newer server's tables may not be the ones prepared below */
    char book[512];
    pg_url_redact(url, book, sizeof book);
    if (pg_server_check(c, book, e) < 0) {
        PQfinish(c);
        return -1;
    }
    for (size_t i = 0; i < sizeof STMTS / sizeof STMTS[0]; i++) {
        PGresult *r = PQprepare(c, STMTS[i].name, STMTS[i].sql, STMTS[i].n, NULL);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            char shown[512];
            pg_url_redact(url, shown, sizeof shown);
            char what[700];
            snprintf(what, sizeof what,
                     "%s holds no desk's book (copy a desk there with `fusion db migrate --to "
                     "URL`)",
                     shown);
            fail(c, r, what, e);
            PQfinish(c);
            return -1;
        }
        PQclear(r);
    }
    char *sql = ev_batch_sql(EV_BATCH);
    PGresult *r = sql ? PQprepare(c, "ev_put_batch", sql, EV_BATCH * EV_NPARAM, NULL) : NULL;
    free(sql);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        fail(c, r, "preparing the events' insert", e);
        PQfinish(c);
        return -1;
    }
    PQclear(r);
    sql = esc_batch_sql(ESC_BATCH);
    r = sql ? PQprepare(c, "esc_put_batch", sql, ESC_BATCH * STORE_ESCROW_NCOLS, NULL) : NULL;
    free(sql);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        fail(c, r, "preparing the escrows' upsert", e);
        PQfinish(c);
        return -1;
    }
    PQclear(r);
    /* Without the triggers, escrow rows would be written without their count and feed. */
    if (run(c, "esc_triggers", 0, NULL, NULL, NULL, 0, &r, "reading the escrows' triggers", e) <
        0) {
        PQfinish(c);
        return -1;
    }
    bool triggers = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "1") == 0;
    PQclear(r);
    if (!triggers) {
        char shown[512];
        pg_url_redact(url, shown, sizeof shown);
        err_set(e, ERR_STATE,
                "the book on %s has no trigger keeping escrow_totals and api_feed with the "
                "escrows (copied by an older fusion): copy the desk again to an empty database "
                "with `fusion db migrate --to URL`",
                shown);
        PQfinish(c);
        return -1;
    }
    *conn = c;
    return 0;
}

static void pg_book_close(void **conn)
{
    PGconn *c = *conn;
    pg_close(&c);
    *conn = NULL;
}

static bool pg_book_alive(void *conn)
{
    return conn && PQstatus(conn) == CONNECTION_OK;
}

static int pg_book_lock_try(void *conn, uint64_t chain_id, bool *held, err *e)
{
    return pg_chain_lock_try(conn, chain_id, held, e);
}

/* A "0x"-hex hash column. */
static int col_hash(PGresult *r, int row, int col, uint8_t out[32], err *e)
{
    err ignored;
    if (hex_decode_exact(out, 32, PQgetvalue(r, row, col), HEX_REQUIRE_PREFIX, &ignored) < 0)
        return err_set(e, ERR_INVALID, "the book on the server: a malformed hash '%.80s'",
                       PQgetvalue(r, row, col));
    return 0;
}

static uint64_t col_u64(PGresult *r, int row, int col)
{
    return strtoull(PQgetvalue(r, row, col), NULL, 10);
}

static int pg_book_checkpoint_get(void *conn, uint64_t chain_id, store_checkpoint *out, err *e)
{
    memset(out, 0, sizeof *out);
    out->chain_id = chain_id;
    char id[24];
    u64s(id, chain_id);
    const char *v[1] = {id};
    PGresult *r;
    if (run(conn, "cp_get", 1, v, NULL, NULL, 0, &r, "reading the checkpoint", e) < 0)
        return -1;
    int rc = 0;
    if (PQntuples(r) == 1) {
        out->synced = true;
        out->synced_block = col_u64(r, 0, 0);
        rc = col_hash(r, 0, 1, out->synced_hash, e);
        out->final_block = col_u64(r, 0, 2);
        out->head_block = col_u64(r, 0, 3);
        out->updated_at = (int64_t)strtoll(PQgetvalue(r, 0, 4), NULL, 10);
    }
    PQclear(r);
    return rc;
}

static int pg_book_escrows(void *conn, uint64_t chain_id, addr **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    char id[24];
    u64s(id, chain_id);
    const char *v[1] = {id};
    PGresult *r;
    if (run(conn, "ev_escrows", 1, v, NULL, NULL, 1, &r, "reading the escrows", e) < 0)
        return -1;
    int rows = PQntuples(r);
    addr *a = calloc(rows ? (size_t)rows : 1, sizeof *a);
    if (!a) {
        PQclear(r);
        return err_set(e, ERR_NOMEM, "out of memory reading %d escrows", rows);
    }
    for (int i = 0; i < rows; i++) {
        if (PQgetlength(r, i, 0) != ADDR_LEN) {
            PQclear(r);
            free(a);
            return err_set(e, ERR_INVALID,
                           "the book on the server: an escrow address of %d "
                           "bytes",
                           PQgetlength(r, i, 0));
        }
        memcpy(a[i].b, PQgetvalue(r, i, 0), ADDR_LEN);
    }
    PQclear(r);
    *out = a;
    *n = (size_t)rows;
    return 0;
}

/* The chain's factories on the server: outside input, each a 0x-address or refused. */
static int pg_book_factories(void *conn, uint64_t chain_id, addr **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    char id[24];
    u64s(id, chain_id);
    const char *v[1] = {id};
    PGresult *r;
    if (run(conn, "fac_list", 1, v, NULL, NULL, 0, &r, "reading the factories", e) < 0)
        return -1;
    int rows = PQntuples(r);
    addr *a = calloc(rows ? (size_t)rows : 1, sizeof *a);
    if (!a) {
        PQclear(r);
        return err_set(e, ERR_NOMEM, "out of memory reading %d factories", rows);
    }
    for (int i = 0; i < rows; i++) {
        err pe;
        if (addr_parse(&a[i], PQgetvalue(r, i, 0), &pe) < 0) {
            char shown[64];
            text_safe_str(shown, sizeof shown, PQgetvalue(r, i, 0));
            PQclear(r);
            free(a);
            return err_set(e, ERR_INVALID,
                           "the book on the server: a factory of chain %s is not an address "
                           "(\"%s\")",
                           id, shown);
        }
    }
    PQclear(r);
    *out = a;
    *n = (size_t)rows;
    return 0;
}

static int pg_book_blocks_desc(void *conn, uint64_t chain_id, uint64_t at_or_below, size_t max,
                               store_block **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    char id[24], below[24], lim[24];
    u64s(id, chain_id);
    u64s(below, at_or_below);
    u64s(lim, max);
    const char *v[3] = {id, below, lim};
    PGresult *r;
    if (run(conn, "blk_desc", 3, v, NULL, NULL, 0, &r, "reading block hashes", e) < 0)
        return -1;
    int rows = PQntuples(r);
    store_block *b = calloc(rows ? (size_t)rows : 1, sizeof *b);
    if (!b) {
        PQclear(r);
        return err_set(e, ERR_NOMEM, "out of memory reading %d block hashes", rows);
    }
    for (int i = 0; i < rows; i++) {
        b[i].number = col_u64(r, i, 0);
        b[i].timestamp = col_u64(r, i, 3);
        if (col_hash(r, i, 1, b[i].hash, e) < 0 || col_hash(r, i, 2, b[i].parent_hash, e) < 0) {
            PQclear(r);
            free(b);
            return -1;
        }
    }
    PQclear(r);
    *out = b;
    *n = (size_t)rows;
    return 0;
}

static int put_checkpoint(PGconn *c, const store_checkpoint *cp, err *e)
{
    char id[24], sb[24], fb[24], hb[24], at[24], h[67];
    u64s(id, cp->chain_id);
    u64s(sb, cp->synced_block);
    u64s(fb, cp->final_block);
    u64s(hb, cp->head_block);
    snprintf(at, sizeof at, "%lld", (long long)(cp->updated_at ? cp->updated_at : time(NULL)));
    hex_encode(h, sizeof h, cp->synced_hash, 32, true);
    const char *v[6] = {id, sb, h, fb, hb, at};
    return run(c, "cp_put", 6, v, NULL, NULL, 0, NULL, "writing the checkpoint", e);
}

static void rollback(PGconn *c)
{
    if (PQstatus(c) == CONNECTION_OK)
        PQclear(PQexec(c, "ROLLBACK"));
}

static int announce(PGconn *c, const char *kind, uint64_t chain_id, err *e)
{
    char what[64];
    snprintf(what, sizeof what, "%s:%llu", kind, (unsigned long long)chain_id);
    return pg_commit_notify(c, what, e);
}

/* The checkpoint must still be the one the range continues (the chain's lock makes another
 * syncer impossible; `chain add-factory`'s rewind, pg_book_factory_add, is the other writer,
 * and it locks these rows first too). Row-locked to the commit: the chain's row shared
 * first (add-factory locks it exclusively: the lock they meet on when the chain was never
 * synced and has no checkpoint row), then the checkpoint's. */
static int check_prev(PGconn *c, const store_checkpoint *prev, uint64_t chain_id, err *e)
{
    char id[24];
    u64s(id, chain_id);
    const char *v[1] = {id};
    PGresult *r;
    if (run(c, "chain_share", 1, v, NULL, NULL, 0, NULL, "locking the chain", e) < 0 ||
        run(c, "cp_lock", 1, v, NULL, NULL, 0, &r, "reading the checkpoint", e) < 0)
        return -1;
    bool have = PQntuples(r) == 1, same = have == prev->synced;
    uint64_t at = have ? col_u64(r, 0, 0) : 0;
    if (same && have) {
        uint8_t h[32];
        same = col_hash(r, 0, 1, h, e) == 0 && at == prev->synced_block &&
               memcmp(h, prev->synced_hash, 32) == 0;
    }
    PQclear(r);
    if (!same)
        return err_set(e, ERR_STATE,
                       "the book's checkpoint of chain %llu is %s%llu, not the block %llu this "
                       "range continues: another syncer wrote it; reading again",
                       (unsigned long long)chain_id, have ? "block " : "none ",
                       (unsigned long long)at, (unsigned long long)prev->synced_block);
    return 0;
}

/* Every factory the book has for the chain, deployed at or before the range's last block,
 * is one the range was read with (after check_prev: the chain's row is locked, so a
 * chain add-factory committing meanwhile is seen here, in this statement's snapshot). */
static int check_factories(PGconn *c, const store_book_range *r, err *e)
{
    if (!r->check_factories)
        return 0;
    char id[24], upto[24];
    u64s(id, r->chain_id);
    u64s(upto, r->cp->synced_block);
    const char *v[2] = {id, upto};
    PGresult *res;
    if (run(c, "fac_upto", 2, v, NULL, NULL, 0, &res, "reading the factories", e) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        addr a;
        err pe;
        if (addr_parse(&a, PQgetvalue(res, i, 0), &pe) < 0) {
            char shown[64];
            text_safe_str(shown, sizeof shown, PQgetvalue(res, i, 0));
            rc = err_set(e, ERR_INVALID,
                         "the book on the server: a factory of chain %s is not an address "
                         "(\"%s\")",
                         id, shown);
            break;
        }
        bool known = false;
        for (size_t k = 0; k < r->n_factories && !known; k++)
            known = memcmp(r->factories[k].b, a.b, ADDR_LEN) == 0;
        if (!known) {
            char hex[ADDR_STR_MAX];
            hex_encode(hex, sizeof hex, a.b, ADDR_LEN, true);
            rc = err_set(e, ERR_STATE,
                         "the book has factory %s of chain %s, which this range was read "
                         "without (added meanwhile): reading again",
                         hex, id);
        }
    }
    PQclear(res);
    return rc;
}

/* One batch's parameters: EV_NPARAM a row, the numbers as text. */
typedef struct {
    const char *v[EV_BATCH * EV_NPARAM];
    int lens[EV_BATCH * EV_NPARAM];
    int fmts[EV_BATCH * EV_NPARAM];
    char num[EV_BATCH][3][24];
} ev_params;

static void ev_row(ev_params *p, int row, const char *id, const store_event *ev)
{
    const char **v = p->v + row * EV_NPARAM;
    int *lens = p->lens + row * EV_NPARAM, *fmts = p->fmts + row * EV_NPARAM;
    u64s(p->num[row][0], ev->block_number);
    u64s(p->num[row][1], ev->tx_index);
    u64s(p->num[row][2], ev->log_index);
    const char *vals[EV_NPARAM] = {id,
                                   p->num[row][0],
                                   (const char *)ev->block_hash,
                                   (const char *)ev->tx_hash,
                                   p->num[row][1],
                                   p->num[row][2],
                                   (const char *)ev->address.b,
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL,
                                   ev->data ? (const char *)ev->data : "",
                                   ev->name[0] ? ev->name : NULL,
                                   ev->has_escrow ? (const char *)ev->escrow.b : NULL};
    const int l[EV_NPARAM] = {0, 0, 32,      32, 0, 0, ADDR_LEN, 32, 32, 32, 32, (int)ev->data_len,
                              0, ADDR_LEN};
    const int f[EV_NPARAM] = {0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1};
    for (unsigned t = 0; t < ev->n_topics && t < 4; t++)
        vals[7 + t] = (const char *)ev->topics[t];
    memcpy(v, vals, sizeof vals);
    memcpy(lens, l, sizeof l);
    memcpy(fmts, f, sizeof f);
}

/* The range's events, EV_BATCH rows to a statement (the prepared ev_put_batch; the last,
 * shorter batch as a statement of its own rows); *inserted counts the rows not there yet. */
static int put_events(PGconn *c, const char *id, const store_event *evs, size_t n,
                      uint64_t *inserted, err *e)
{
    ev_params *p = malloc(sizeof *p);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory storing %zu events", n);
    int rc = 0;
    for (size_t at = 0; at < n && rc == 0;) {
        int rows = n - at < EV_BATCH ? (int)(n - at) : EV_BATCH;
        for (int row = 0; row < rows; row++)
            ev_row(p, row, id, &evs[at + row]);
        PGresult *res;
        if (rows == EV_BATCH) {
            res = PQexecPrepared(c, "ev_put_batch", rows * EV_NPARAM, p->v, p->lens, p->fmts, 0);
        } else {
            char *sql = ev_batch_sql(rows);
            if (!sql) {
                rc = err_set(e, ERR_NOMEM, "out of memory storing %zu events", n);
                break;
            }
            res = PQexecParams(c, sql, rows * EV_NPARAM, NULL, p->v, p->lens, p->fmts, 0);
            free(sql);
        }
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
            rc = fail(c, res, "storing events", e);
            break;
        }
        *inserted += strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        at += (size_t)rows;
    }
    free(p);
    return rc;
}

/* ---- the escrow projection ---- */

/* Escrow rows waiting for their upsert, ESC_BATCH at most. */
typedef struct esc_writer {
    PGconn *c;
    int n;
    store_escrow_row rows[ESC_BATCH];
    const char *v[ESC_BATCH * STORE_ESCROW_NCOLS];
    int lens[ESC_BATCH * STORE_ESCROW_NCOLS];
    int fmts[ESC_BATCH * STORE_ESCROW_NCOLS];
} esc_writer;

/* Sends the rows waiting (the prepared statement for a full batch, else one of their rows). */
static int esc_flush(esc_writer *w, err *e)
{
    if (!w->n)
        return 0;
    for (int row = 0; row < w->n; row++) {
        store_escrow_row *r = &w->rows[row];
        for (int k = 0; k < STORE_ESCROW_NCOLS; k++) {
            int i = row * STORE_ESCROW_NCOLS + k;
            bool blob = k == STORE_ESCROW_NCOLS - 1; /* approval_list */
            w->v[i] = r->v[k];
            w->lens[i] = blob ? (int)r->approvals_len : 0;
            w->fmts[i] = blob ? 1 : 0;
        }
    }
    int np = w->n * STORE_ESCROW_NCOLS;
    PGresult *res;
    if (w->n == ESC_BATCH) {
        res = PQexecPrepared(w->c, "esc_put_batch", np, w->v, w->lens, w->fmts, 0);
    } else {
        char *sql = esc_batch_sql(w->n);
        if (!sql)
            return err_set(e, ERR_NOMEM, "out of memory storing %d escrows", w->n);
        res = PQexecParams(w->c, sql, np, NULL, w->v, w->lens, w->fmts, 0);
        free(sql);
    }
    w->n = 0;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        return fail(w->c, res, "storing escrows", e);
    PQclear(res);
    return 0;
}

static int esc_put(esc_writer *w, const store_escrow *x, err *e)
{
    store_escrow_row_of(x, &w->rows[w->n++]);
    return w->n == ESC_BATCH ? esc_flush(w, e) : 0;
}

/* The rows before it go first: the feed's rows come in the order the escrows are written. */
static int esc_delete(esc_writer *w, const char *id, const addr *a, err *e)
{
    if (esc_flush(w, e) < 0)
        return -1;
    char hex[ADDR_STR_MAX];
    hex_encode(hex, sizeof hex, a->b, ADDR_LEN, true);
    const char *v[2] = {id, hex};
    return run(w->c, "esc_del", 2, v, NULL, NULL, 0, NULL, "deleting an escrow", e);
}

static uint64_t bin_u64(PGresult *r, int row, int col)
{
    const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
    uint64_t v = 0;
    for (int i = 0; i < 8 && PQgetlength(r, row, col) == 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Row `row` of esc_events (binary) as an event; its data points into r. */
static int bin_event(PGresult *r, int row, uint64_t chain_id, store_event *ev, err *e)
{
    memset(ev, 0, sizeof *ev);
    ev->chain_id = chain_id;
    ev->block_number = bin_u64(r, row, 1);
    ev->tx_index = (uint32_t)bin_u64(r, row, 4);
    ev->log_index = (uint32_t)bin_u64(r, row, 5);
    if (PQgetlength(r, row, 0) != ADDR_LEN || PQgetlength(r, row, 2) != 32 ||
        PQgetlength(r, row, 3) != 32 || PQgetlength(r, row, 6) != ADDR_LEN)
        return err_set(e, ERR_INVALID, "the book on the server: a malformed event of block %llu",
                       (unsigned long long)ev->block_number);
    memcpy(ev->block_hash, PQgetvalue(r, row, 2), 32);
    memcpy(ev->tx_hash, PQgetvalue(r, row, 3), 32);
    memcpy(ev->address.b, PQgetvalue(r, row, 6), ADDR_LEN);
    ev->has_escrow = true;
    memcpy(ev->escrow.b, PQgetvalue(r, row, 0), ADDR_LEN);
    for (int t = 0; t < 4 && !PQgetisnull(r, row, 7 + t); t++) {
        if (PQgetlength(r, row, 7 + t) != 32)
            return err_set(e, ERR_INVALID, "the book on the server: a topic of %d bytes",
                           PQgetlength(r, row, 7 + t));
        memcpy(ev->topics[t], PQgetvalue(r, row, 7 + t), 32);
        ev->n_topics = (unsigned)t + 1;
    }
    ev->data = (const uint8_t *)PQgetvalue(r, row, 11);
    ev->data_len = (size_t)PQgetlength(r, row, 11);
    return 0;
}

/* The range's events of each escrow: (escrow, index into the events), sorted by escrow
 * (bytes) then index, i.e. log order. */
typedef struct ev_key {
    addr escrow;
    size_t i;
} ev_key;

typedef struct ev_index {
    ev_key *ix;
    size_t n;
} ev_index;

static int ev_key_cmp(const void *p, const void *q)
{
    const ev_key *a = p, *b = q;
    int c = memcmp(a->escrow.b, b->escrow.b, ADDR_LEN);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

static int ev_index_build(ev_index *x, const store_event *evs, size_t n, err *e)
{
    x->n = 0;
    x->ix = malloc((n ? n : 1) * sizeof *x->ix);
    if (!x->ix)
        return err_set(e, ERR_NOMEM, "out of memory indexing %zu events", n);
    for (size_t i = 0; i < n; i++)
        if (evs[i].has_escrow)
            x->ix[x->n++] = (ev_key){.escrow = evs[i].escrow, .i = i};
    qsort(x->ix, x->n, sizeof *x->ix, ev_key_cmp);
    return 0;
}

/* The first entry of escrow a's events in x, and how many (*m). */
static size_t ev_index_find(const ev_index *x, const addr *a, size_t *m)
{
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(x->ix[mid].escrow.b, a->b, ADDR_LEN) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < x->n && memcmp(x->ix[end].escrow.b, a->b, ADDR_LEN) == 0)
        end++;
    *m = end - lo;
    return lo;
}

/* Room for m events in *evs. */
static int evs_room(store_event **evs, size_t *cap, size_t m, err *e)
{
    if (m <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < m)
        nc *= 2;
    store_event *p = realloc(*evs, nc * sizeof *p);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory projecting escrows");
    *evs = p;
    *cap = nc;
    return 0;
}

/* Projects the n escrows again from all their events in the book (inside the caller's
 * transaction, after the range's events are in or the rewind's are gone) and writes each
 * row, in the order given, or deletes it when none of its events is its creation:
 * sync_rebuild_escrows on the server. An escrow created in the range (fresh[i]; fresh may be
 * NULL) has no event but the range's (rev): it is projected from those without reading them
 * back; the others' events are read ESC_READ escrows a statement. */
static int project_escrows(PGconn *c, const char *id, uint64_t chain_id, const addr *escrows,
                           const bool *fresh, size_t n, const store_event *rev, size_t n_rev,
                           uint64_t final, store_book_project project, err *e)
{
    if (!n)
        return 0;
    if (!project)
        return err_set(e, ERR_INTERNAL, "the book was given escrows and no projection");
    esc_writer *w = malloc(sizeof *w);
    char *arr = malloc(ESC_READ * (ADDR_LEN * 2 + 1) + 3);
    store_event *evs = NULL;
    size_t evs_cap = 0;
    ev_index ri = {0};
    int rc = -1;
    if (!w || !arr) {
        err_set(e, ERR_NOMEM, "out of memory projecting %zu escrows", n);
        goto out;
    }
    if (fresh && ev_index_build(&ri, rev, n_rev, e) < 0)
        goto out;
    w->c = c;
    w->n = 0;
    for (size_t at = 0; at < n; at += ESC_READ) {
        size_t k = n - at < ESC_READ ? n - at : ESC_READ, o = 0, asked = 0;
        arr[o++] = '{';
        for (size_t i = 0; i < k; i++) {
            if (fresh && fresh[at + i])
                continue;
            if (asked++)
                arr[o++] = ',';
            hex_encode(arr + o, ADDR_LEN * 2 + 1, escrows[at + i].b, ADDR_LEN, false);
            o += ADDR_LEN * 2;
        }
        arr[o++] = '}';
        arr[o] = '\0';
        const char *v[2] = {id, arr};
        PGresult *r = NULL;
        if (asked &&
            run(c, "esc_events", 2, v, NULL, NULL, 1, &r, "reading escrows' events", e) < 0)
            goto out;
        int rows = r ? PQntuples(r) : 0;
        for (size_t i = 0; i < k; i++) {
            const addr *a = &escrows[at + i];
            size_t m = 0;
            if (fresh && fresh[at + i]) {
                size_t from = ev_index_find(&ri, a, &m);
                if (evs_room(&evs, &evs_cap, m, e) < 0)
                    goto fail_r;
                for (size_t j = 0; j < m; j++)
                    evs[j] = rev[ri.ix[from + j].i];
            } else {
                /* rows are in escrow order (bytes): a binary search finds its events */
                int lo = 0, hi = rows;
                while (lo < hi) {
                    int mid = lo + (hi - lo) / 2;
                    if (PQgetlength(r, mid, 0) == ADDR_LEN &&
                        memcmp(PQgetvalue(r, mid, 0), a->b, ADDR_LEN) < 0)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                for (int j = lo; j < rows && PQgetlength(r, j, 0) == ADDR_LEN &&
                                 memcmp(PQgetvalue(r, j, 0), a->b, ADDR_LEN) == 0;
                     j++) {
                    if (evs_room(&evs, &evs_cap, m + 1, e) < 0 ||
                        bin_event(r, j, chain_id, &evs[m++], e) < 0)
                        goto fail_r;
                }
            }
            store_escrow x;
            bool created = false;
            project(evs, m, chain_id, a, final, &x, &created);
            if ((created ? esc_put(w, &x, e) : esc_delete(w, id, a, e)) < 0)
                goto fail_r;
        }
        PQclear(r);
        continue;
    fail_r:
        PQclear(r);
        goto out;
    }
    rc = esc_flush(w, e);
out:
    free(ri.ix);
    free(evs);
    free(arr);
    free(w);
    return rc;
}

/* The range's vault flows, after its events (each refers to its stored event). */
static int put_flows(PGconn *c, const char *id, const store_vault_flow *f, size_t n, err *e)
{
    for (size_t i = 0; i < n; i++) {
        char bn[24], li[24], req[24], vault[ADDR_STR_MAX], owner[ADDR_STR_MAX],
            token[ADDR_STR_MAX], amount[U256_DEC_MAX];
        u64s(bn, f[i].block_number);
        u64s(li, f[i].log_index);
        snprintf(req, sizeof req, "%lld", (long long)f[i].request_id);
        hex_encode(vault, sizeof vault, f[i].vault.b, ADDR_LEN, true);
        hex_encode(owner, sizeof owner, f[i].owner.b, ADDR_LEN, true);
        hex_encode(token, sizeof token, f[i].token.b, ADDR_LEN, true);
        u256_to_dec(amount, &f[i].amount);
        const char *v[10] = {id,    vault, bn, f[i].kind, owner, token, amount,
                             f[i].has_request ? req : NULL, li, (const char *)f[i].block_hash};
        const int lens[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 32};
        const int fmts[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        if (run(c, "vf_put", 10, v, lens, fmts, 0, NULL, "recording a vault flow", e) < 0)
            return -1;
    }
    return 0;
}

/* The range's bridge legs, after its events (each refers to its stored event). */
static int put_legs(PGconn *c, const char *id, const store_bridge_leg *l, size_t n, err *e)
{
    for (size_t i = 0; i < n; i++) {
        char bn[24], li[24], dom[24], nonce[24], th[67];
        u64s(bn, l[i].block_number);
        u64s(li, l[i].log_index);
        u64s(dom, l[i].src_domain);
        snprintf(nonce, sizeof nonce, "%lld", (long long)l[i].nonce); /* its bits (bigint) */
        hex_encode(th, sizeof th, l[i].tx_hash, 32, true);
        const char *v[9] = {id,
                            bn,
                            l[i].received ? "received" : "sent",
                            th,
                            dom,
                            nonce,
                            l[i].received ? NULL : (const char *)l[i].message,
                            li,
                            (const char *)l[i].block_hash};
        const int lens[9] = {0, 0, 0, 0, 0, 0, (int)l[i].message_len, 0, 32};
        const int fmts[9] = {0, 0, 0, 0, 0, 0, 1, 0, 1};
        if (run(c, "bl_put", 9, v, lens, fmts, 0, NULL, "recording a bridge leg", e) < 0)
            return -1;
    }
    return 0;
}

static int settle(PGconn *c, const char *id, uint64_t final, err *e)
{
    char f[24];
    u64s(f, final);
    const char *v[2] = {id, f};
    return run(c, "esc_settle", 2, v, NULL, NULL, 0, NULL, "settling escrows", e);
}

/* Inside the caller's transaction: the inflows of [from, to] stored and the cursor moved
 * past to, when the cursor (row-locked) stands at from (start while there is none); else
 * nothing (sync_inflows_put_range's rule). *found: rows not stored before. */
static int put_inflows(PGconn *c, const char *id, uint64_t start, uint64_t from, uint64_t to,
                       const store_inflow *v, size_t n, size_t *found, err *e)
{
    *found = 0;
    const char *cv[1] = {id};
    PGresult *r;
    if (run(c, "in_cur_lock", 1, cv, NULL, NULL, 0, &r, "reading the inflow cursor", e) < 0)
        return -1;
    uint64_t next = PQntuples(r) == 1 ? col_u64(r, 0, 0) : start;
    PQclear(r);
    if (next != from)
        return 0; /* not next in line: the scan once caught up reads them */
    for (size_t i = 0; i < n; i++) {
        const store_inflow *f = &v[i];
        char bn[24], li[24], bt[24], seen[24], bh[67], th[67], token[ADDR_STR_MAX],
            sender[ADDR_STR_MAX], recip[ADDR_STR_MAX], amount[U256_DEC_MAX];
        u64s(bn, f->block_number);
        u64s(li, f->log_index);
        snprintf(bt, sizeof bt, "%lld", (long long)f->block_time);
        snprintf(seen, sizeof seen, "%lld", (long long)f->seen_at);
        hex_encode(bh, sizeof bh, f->block_hash, 32, true);
        hex_encode(th, sizeof th, f->tx_hash, 32, true);
        hex_encode(token, sizeof token, f->token.b, ADDR_LEN, true);
        hex_encode(sender, sizeof sender, f->sender.b, ADDR_LEN, true);
        hex_encode(recip, sizeof recip, f->recipient.b, ADDR_LEN, true);
        u256_to_dec(amount, &f->amount);
        const char *iv[11] = {id, bn, bh, th, li, token, sender, recip, amount, bt, seen};
        if (run(c, "in_put", 11, iv, NULL, NULL, 0, &r, "recording an inflow", e) < 0)
            return -1;
        *found += strtoull(PQcmdTuples(r), NULL, 10) > 0;
        PQclear(r);
    }
    char nb[24];
    u64s(nb, to + 1);
    const char *sv[2] = {id, nb};
    return run(c, "in_cur_set", 2, sv, NULL, NULL, 0, NULL, "moving the inflow cursor", e);
}

static int pg_book_inflow_cursor(void *conn, uint64_t chain_id, uint64_t *next, bool *found, err *e)
{
    *next = 0;
    *found = false;
    char id[24];
    u64s(id, chain_id);
    const char *v[1] = {id};
    PGresult *r;
    if (run(conn, "in_cur_get", 1, v, NULL, NULL, 0, &r, "reading the inflow cursor", e) < 0)
        return -1;
    if (PQntuples(r) == 1) {
        *next = col_u64(r, 0, 0);
        *found = true;
    }
    PQclear(r);
    return 0;
}

static int pg_book_inflows_put(void *conn, uint64_t chain_id, const store_checkpoint *prev,
                               uint64_t start, uint64_t from, uint64_t to, const store_inflow *v,
                               size_t n, size_t *found, err *e)
{
    PGconn *c = conn;
    *found = 0;
    char id[24];
    u64s(id, chain_id);
    if (pg_exec(c, "BEGIN", "the book on the server: starting a transaction", e) < 0)
        return -1;
    if (check_prev(c, prev, chain_id, e) < 0 ||
        put_inflows(c, id, start, from, to, v, n, found, e) < 0 ||
        (*found && announce(c, "inflows", chain_id, e) < 0) ||
        pg_exec(c, "COMMIT", "the book on the server: committing", e) < 0) {
        rollback(c);
        *found = 0;
        return -1;
    }
    return 0;
}

static int pg_book_commit(void *conn, const store_book_range *r, uint64_t *inserted, err *e)
{
    PGconn *c = conn;
    *inserted = 0;
    if (pg_exec(c, "BEGIN", "the book on the server: starting a transaction", e) < 0)
        return -1;
    if (check_prev(c, r->prev, r->chain_id, e) < 0 || check_factories(c, r, e) < 0)
        goto fail;
    char id[24];
    u64s(id, r->chain_id);
    if (put_events(c, id, r->events, r->n_events, inserted, e) < 0 ||
        put_flows(c, id, r->flows, r->n_flows, e) < 0 ||
        put_legs(c, id, r->legs, r->n_legs, e) < 0 ||
        project_escrows(c, id, r->chain_id, r->escrows, r->fresh, r->n_escrows, r->events,
                        r->n_events, r->cp->final_block, r->project, e) < 0)
        goto fail;
    for (size_t i = 0; i < r->n_blocks; i++) {
        const store_block *b = &r->blocks[i];
        char num[24], ts[24], h[67], ph[67];
        u64s(num, b->number);
        u64s(ts, b->timestamp);
        hex_encode(h, sizeof h, b->hash, 32, true);
        hex_encode(ph, sizeof ph, b->parent_hash, 32, true);
        const char *v[5] = {id, num, h, ph, ts};
        if (run(c, "blk_put", 5, v, NULL, NULL, 0, NULL, "storing a block hash", e) < 0)
            goto fail;
    }
    char below[24];
    u64s(below, r->prune_below);
    const char *pv[2] = {id, below};
    if (run(c, "blk_prune", 2, pv, NULL, NULL, 0, NULL, "pruning block hashes", e) < 0 ||
        put_checkpoint(c, r->cp, e) < 0 || settle(c, id, r->cp->final_block, e) < 0)
        goto fail;
    size_t found = 0;
    if (r->inflow_to && put_inflows(c, id, r->inflow_start, r->inflow_from, r->inflow_to,
                                    r->inflows, r->n_inflows, &found, e) < 0)
        goto fail;
    (void)found; /* the caller wakes its hook for any inflow it sent */
    if (announce(c, "events", r->chain_id, e) < 0 ||
        pg_exec(c, "COMMIT", "the book on the server: committing", e) < 0)
        goto fail;
    return 0;
fail:
    rollback(c);
    *inserted = 0;
    return -1;
}

static int pg_book_rewind(void *conn, uint64_t chain_id, uint64_t first_gone,
                          const store_checkpoint *cp, uint64_t final, store_book_project project,
                          uint64_t *gone, size_t *rebuilt, err *e)
{
    PGconn *c = conn;
    *gone = 0;
    *rebuilt = 0;
    addr *touched = NULL;
    size_t nt = 0;
    char id[24], from[24];
    u64s(id, chain_id);
    u64s(from, first_gone);
    const char *v[2] = {id, from};
    PGresult *res;
    if (pg_exec(c, "BEGIN", "the book on the server: starting a transaction", e) < 0)
        return -1;
    /* the escrows with events among those going (store_events_rewind's) */
    if (run(c, "esc_touched", 2, v, NULL, NULL, 1, &res, "finding escrows touched by a reorg",
            e) < 0)
        goto fail;
    nt = (size_t)PQntuples(res);
    touched = calloc(nt ? nt : 1, sizeof *touched);
    if (!touched) {
        PQclear(res);
        err_set(e, ERR_NOMEM, "out of memory reading %zu escrows", nt);
        goto fail;
    }
    for (size_t i = 0; i < nt; i++) {
        if (PQgetlength(res, (int)i, 0) != ADDR_LEN) {
            PQclear(res);
            err_set(e, ERR_INVALID, "the book on the server: an escrow address of %d bytes",
                    PQgetlength(res, (int)i, 0));
            goto fail;
        }
        memcpy(touched[i].b, PQgetvalue(res, (int)i, 0), ADDR_LEN);
    }
    PQclear(res);
    if (run(c, "out_flag", 2, v, NULL, NULL, 0, NULL, "flagging the desk's reorged transactions",
            e) < 0)
        goto fail;
    /* the bridge legs of those blocks go with their events (the key cascades too) */
    if (run(c, "bl_rewind", 2, v, NULL, NULL, 0, NULL, "deleting a reorg's bridge legs", e) < 0 ||
        run(c, "ev_rewind", 2, v, NULL, NULL, 0, &res, "deleting a reorg's events", e) < 0)
        goto fail;
    *gone = strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    /* the inflows of those blocks marked (evidence), the cursor back (store_inflow_reorg) */
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    const char *iv[3] = {id, from, now};
    if (run(c, "in_reorg", 3, iv, NULL, NULL, 0, NULL, "marking reorged inflows", e) < 0 ||
        run(c, "in_cur_back", 2, v, NULL, NULL, 0, NULL, "moving the inflow cursor back", e) < 0)
        goto fail;
    if (run(c, "blk_rewind", 2, v, NULL, NULL, 0, NULL, "deleting a reorg's block hashes", e) < 0 ||
        project_escrows(c, id, chain_id, touched, NULL, nt, NULL, 0, final, project, e) < 0)
        goto fail;
    if (cp ? put_checkpoint(c, cp, e) < 0
           : run(c, "cp_del", 1, v, NULL, NULL, 0, NULL, "deleting the checkpoint", e) < 0)
        goto fail;
    if (announce(c, "reorg", chain_id, e) < 0 ||
        pg_exec(c, "COMMIT", "the book on the server: committing", e) < 0)
        goto fail;
    free(touched);
    *rebuilt = nt;
    return 0;
fail:
    rollback(c);
    free(touched);
    *gone = 0;
    return -1;
}

/* `chain add-factory` on a desk whose book is on the server (pg_desk.h): the factory's
 * contracts row and, when the server's checkpoint is at or past the factory's first block,
 * the rewind (events and block hashes from that block on deleted, the escrows that had
 * events among them projected again, the checkpoint set to *to or deleted), in one
 * transaction announced as "chain:ID". The chain's row and then the checkpoint row are
 * locked first (FOR NO KEY UPDATE and FOR UPDATE, as a range's commit locks them in
 * check_prev; the chain's row also when the chain was never synced), so a syncer's range commit in flight on any
 * workstation is either wholly before the rewind (which then rolls it back too) or after
 * it, where its check_prev finds the checkpoint moved and the thread reads again from the
 * rewound block: no gap, no event twice. No outbound transaction is flagged reorged: the
 * chain did not change. */
int pg_book_factory_add(const char *url, const store_contract *k, const store_checkpoint *to,
                        store_book_project project, pg_factory_added *out, err *e)
{
    memset(out, 0, sizeof *out);
    void *conn;
    if (pg_book_open(&conn, url, e) < 0)
        return -1;
    PGconn *c = conn;
    char shown[512];
    pg_url_redact(url, shown, sizeof shown);
    char id[24], from[24], dep[24], ver[8], hex[ADDR_STR_MAX];
    u64s(id, k->chain_id);
    u64s(from, k->deployed_block);
    u64s(dep, k->deployed_block);
    snprintf(ver, sizeof ver, "%u", k->version == 2 ? 2u : 1u);
    hex_encode(hex, sizeof hex, k->address.b, ADDR_LEN, true);
    const char *v[2] = {id, from};
    addr *touched = NULL;
    size_t nt = 0;
    PGresult *res = NULL;
    if (pg_exec(c, "BEGIN", "the book on the server: starting a transaction", e) < 0)
        goto fail;
    if (run(c, "chain_lock", 1, v, NULL, NULL, 0, NULL, "locking the chain", e) < 0 ||
        run(c, "cp_get_lock", 1, v, NULL, NULL, 0, &res, "reading the checkpoint", e) < 0)
        goto fail;
    bool synced = PQntuples(res) == 1;
    uint64_t final = 0;
    if (synced) {
        out->synced_block = col_u64(res, 0, 0);
        final = col_u64(res, 0, 1);
    }
    PQclear(res);
    const char *cv[5] = {id, "factory", hex, dep, ver};
    res = PQexecParams(c,
                       "INSERT INTO contracts (chain_id, kind, address, deployed_block, version)"
                       " VALUES ($1::bigint, $2, $3, $4::bigint, $5::bigint)"
                       " ON CONFLICT (chain_id, address) DO NOTHING",
                       5, NULL, cv, NULL, NULL, 0);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        fail(c, res, "adding the factory", e);
        goto fail;
    }
    out->had = strcmp(PQcmdTuples(res), "0") == 0;
    PQclear(res);
    out->synced = synced;
    if (synced && out->synced_block >= k->deployed_block) {
        if (run(c, "esc_touched", 2, v, NULL, NULL, 1, &res, "finding the escrows to rebuild", e) <
            0)
            goto fail;
        nt = (size_t)PQntuples(res);
        touched = calloc(nt ? nt : 1, sizeof *touched);
        if (!touched) {
            PQclear(res);
            err_set(e, ERR_NOMEM, "out of memory reading %zu escrows", nt);
            goto fail;
        }
        for (size_t i = 0; i < nt; i++) {
            if (PQgetlength(res, (int)i, 0) != ADDR_LEN) {
                PQclear(res);
                err_set(e, ERR_INVALID, "the book on %s: an escrow address of %d bytes", shown,
                        PQgetlength(res, (int)i, 0));
                goto fail;
            }
            memcpy(touched[i].b, PQgetvalue(res, (int)i, 0), ADDR_LEN);
        }
        PQclear(res);
        if (run(c, "ev_rewind", 2, v, NULL, NULL, 0, &res, "deleting the events to read again", e) <
            0)
            goto fail;
        out->gone = strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        uint64_t keep = k->deployed_block ? k->deployed_block - 1 : 0;
        if (final > keep)
            final = keep;
        if (run(c, "blk_rewind", 2, v, NULL, NULL, 0, NULL, "deleting block hashes", e) < 0 ||
            project_escrows(c, id, k->chain_id, touched, NULL, nt, NULL, 0, final, project, e) < 0)
            goto fail;
        if (to) {
            store_checkpoint ncp = *to;
            ncp.final_block = final;
            if (put_checkpoint(c, &ncp, e) < 0)
                goto fail;
        } else if (run(c, "cp_del", 1, v, NULL, NULL, 0, NULL, "deleting the checkpoint", e) < 0) {
            goto fail;
        }
        out->rewound = true;
        out->rebuilt = nt;
    }
    if (announce(c, "chain", k->chain_id, e) < 0 ||
        pg_exec(c, "COMMIT", "the book on the server: committing", e) < 0)
        goto fail;
    free(touched);
    pg_book_close(&conn);
    return 0;
fail:
    rollback(c);
    free(touched);
    pg_book_close(&conn);
    memset(out, 0, sizeof *out);
    return -1;
}

int pg_book_check(const char *url, const uint64_t *chain_ids, size_t n, err *e)
{
    void *conn;
    if (pg_book_open(&conn, url, e) < 0)
        return -1;
    PGconn *c = conn;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char id[24];
        u64s(id, chain_ids[i]);
        const char *v[1] = {id};
        PGresult *r = PQexecParams(c, "SELECT 1 FROM chains WHERE chain_id = $1::bigint", 1, NULL,
                                   v, NULL, NULL, 0);
        if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
            rc = fail(c, r, "reading the chains", e);
            break;
        }
        bool found = PQntuples(r) == 1;
        PQclear(r);
        if (!found) {
            char shown[512];
            pg_url_redact(url, shown, sizeof shown);
            rc = err_set(e, ERR_NOT_FOUND,
                         "chain %llu is not configured in the book on %s (its database was "
                         "copied from a desk without it): sync it into desk.db, or copy a desk "
                         "that has it to an empty database with `fusion db migrate --to`",
                         (unsigned long long)chain_ids[i], shown);
        }
    }
    pg_book_close(&conn);
    return rc;
}

/* store_book.wait_change: a session of its own listening on the commits' channel for a
 * server step's announcement (PG_SERVER_CHANGED; the sync's own commits on the book do not
 * wake it), closed after; the server away, a plain wait for the rest of ms. */
static void pg_book_wait_change(const char *url, int stop_fd, unsigned ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char full[PG_URL_POLICY_MAX];
    PGconn *c = NULL;
    err e;
    err_clear(&e);
    if (pg_url_connect_policy(url, full, sizeof full) < 0 || pg_connect(&c, full, &e) < 0 ||
        pg_commit_listen(c, &e) < 0)
        pg_close(&c);
    for (;;) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long long spent =
            (long long)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= (long long)ms)
            break;
        int left = (int)((long long)ms - spent);
        struct pollfd stop = {.fd = stop_fd, .events = POLLIN};
        if (poll(&stop, 1, 0) > 0)
            break;
        if (!c) {
            poll(&stop, 1, left);
            break;
        }
        char what[64];
        bool got = false;
        if (pg_commit_wait(c, left, stop_fd, what, sizeof what, &got, &e) < 0)
            pg_close(&c); /* lost: the rest is a plain wait */
        else if (got && strcmp(what, PG_SERVER_CHANGED) == 0)
            break;
    }
    pg_close(&c);
}

const store_book pg_book = {
    .open = pg_book_open,
    .close = pg_book_close,
    .alive = pg_book_alive,
    .lock_try = pg_book_lock_try,
    .checkpoint_get = pg_book_checkpoint_get,
    .escrows = pg_book_escrows,
    .factories = pg_book_factories,
    .blocks_desc = pg_book_blocks_desc,
    .commit = pg_book_commit,
    .rewind = pg_book_rewind,
    .inflow_cursor = pg_book_inflow_cursor,
    .inflows_put = pg_book_inflows_put,
    .wait_change = pg_book_wait_change,
};
