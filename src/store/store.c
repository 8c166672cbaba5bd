/* store.c: opening the desk database (pragmas, migrations), the per-connection
 * statement cache, transactions, and the bind/column helpers the aggregate files
 * share. Durability: synchronous=NORMAL in WAL mode keeps the database consistent
 * through any crash and loses at most the last commits on power loss; chain data is
 * fetched again in that case, and data that cannot be (signed transactions) is
 * written in store_begin_durable transactions, which run with synchronous=FULL. */
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit.h"
#include "base/bytes.h"
#include "base/fsperm.h"
#include "base/log.h"
#include "store/store_book.h"
#include "store/store_internal.h"

#define BUSY_TIMEOUT_MS 10000
/* Bytes in the log before a checkpoint: SQLite's default, 1000 pages of 4 KiB, kept in bytes
 * whatever a desk's page size (a desk made now has 8 KiB pages: STORE_PAGE_SIZE). */
#define STORE_WAL_AUTOCHECKPOINT_BYTES (1000 * 4096)

int store_fail(store *s, err *e, const char *what)
{
    const char *m = s && s->db ? sqlite3_errmsg(s->db) : "no database";
    return err_set(e, ERR_IO, "%s: %s", what, m);
}

int64_t store_now(void)
{
    return (int64_t)time(NULL);
}

static int exec_sql(sqlite3 *db, const char *sql, const char *what, err *e)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(e, ERR_IO, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int read_user_version(sqlite3 *db, int *out, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "reading the schema version: %s", sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return err_set(e, ERR_IO, "reading the schema version: %s", sqlite3_errmsg(db));
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* A rebuild step broke no reference (PRAGMA foreign_key_check finds no row). */
static int fk_intact(sqlite3 *db, const char *what, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "%s: %s", what, sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    char table[64] = "";
    if (rc == SQLITE_ROW)
        snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return err_set(e, ERR_STATE, "%s: a row of %s names a row that is gone", what, table);
    if (rc != SQLITE_DONE)
        return err_set(e, ERR_IO, "%s: %s", what, sqlite3_errmsg(db));
    return 0;
}

static int migrate_steps(sqlite3 *db, const char *const *steps, int n_steps, bool *fk_off,
                         err *e)
{
    /* The version is read inside the write transaction, so two processes opening a
     * fresh desk at once migrate it exactly once. */
    for (;;) {
        if (exec_sql(db, "BEGIN IMMEDIATE", "starting a schema migration", e) < 0)
            return -1;
        int v;
        if (read_user_version(db, &v, e) < 0)
            goto fail;
        if (v > n_steps) {
            err_set(e, ERR_STATE,
                    "desk database has schema version %d but this fusion knows only up to %d: "
                    "use a newer fusion binary",
                    v, n_steps);
            goto fail;
        }
        if (v < 0) {
            err_set(e, ERR_STATE, "desk database has an invalid schema version %d", v);
            goto fail;
        }
        if (v == n_steps)
            return exec_sql(db, "COMMIT", "finishing the schema check", e);
        bool rebuild = !strncmp(steps[v], STORE_STEP_REBUILD, sizeof STORE_STEP_REBUILD - 1);
        if (rebuild && !*fk_off) {
            /* the pragma is a no-op inside a transaction: leave it, turn them off, retry */
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            if (exec_sql(db, "PRAGMA foreign_keys=OFF", "starting a schema migration", e) < 0)
                return -1;
            *fk_off = true;
            continue;
        }
        char what[64];
        snprintf(what, sizeof what, "migrating the desk schema to version %d", v + 1);
        if (exec_sql(db, steps[v], what, e) < 0 || (rebuild && fk_intact(db, what, e) < 0))
            goto fail;
        char set[48];
        snprintf(set, sizeof set, "PRAGMA user_version = %d", v + 1);
        if (exec_sql(db, set, what, e) < 0 || exec_sql(db, "COMMIT", what, e) < 0)
            goto fail;
        LOG_I("store", "desk schema migrated to version %d", v + 1);
    }
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int store_migrate(sqlite3 *db, const char *const *steps, int n_steps, err *e)
{
    /* a connection without foreign keys (a test's) has nothing to turn off */
    sqlite3_stmt *st = NULL;
    bool fk_off = sqlite3_prepare_v2(db, "PRAGMA foreign_keys", -1, &st, NULL) == SQLITE_OK &&
                  sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
    sqlite3_finalize(st);
    bool was_off = fk_off;
    int rc = migrate_steps(db, steps, n_steps, &fk_off, e);
    /* back on for the connection, as store_open set it */
    if (fk_off && !was_off) {
        err e2;
        if (exec_sql(db, "PRAGMA foreign_keys=ON", "finishing a schema migration", &e2) < 0 &&
            rc == 0) {
            *e = e2;
            rc = -1;
        }
    }
    return rc;
}

/* fusion_unhex(text): the bytes of hex text ("0x" optional), NULL for NULL; an error for
 * anything else. The schema step that turned the events' hex into blobs uses it, and so do
 * queries that match an event blob against a hex column of another table. */
static void sql_unhex(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(cx);
        return;
    }
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    if (!t || n < 0) {
        sqlite3_result_error_nomem(cx);
        return;
    }
    uint8_t *out = sqlite3_malloc(n / 2 + 1);
    if (!out) {
        sqlite3_result_error_nomem(cx);
        return;
    }
    size_t len = 0;
    err e;
    if (hex_decode(out, (size_t)n / 2 + 1, &len, t, (size_t)n, HEX_ALLOW_PREFIX, &e) < 0) {
        sqlite3_free(out);
        sqlite3_result_error(cx, "fusion_unhex: not hex text", -1);
        return;
    }
    sqlite3_result_blob(cx, out, (int)len, sqlite3_free);
}

int store_sql_functions(sqlite3 *db)
{
    return sqlite3_create_function(db, "fusion_unhex", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   sql_unhex, NULL, NULL);
}

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

/* Before SQLite initialises: no global memory statistics (a mutex on every allocation). */
static void sqlite_setup(void)
{
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
        LOG_D("store", "SQLite was initialised elsewhere first; memory statistics stay on");
}

/* Bulk catch-ups running in this process (store_bulk). */
static atomic_int bulk_running;

/* Every connection's commit hook in WAL mode: SQLite's automatic checkpoint (a PASSIVE one
 * once the log holds STORE_WAL_AUTOCHECKPOINT_BYTES), except while a bulk catch-up runs
 * in this process: then no connection of it copies the log (the screener's commits during
 * a catch-up copied the catch-up's pages early, and the rewritten ones again). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    intptr_t limit = (intptr_t)arg; /* in pages of this database: wal_checkpoint_pages */
    if (pages >= limit && atomic_load(&bulk_running) == 0)
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

int store_bulk(store *s, bool on, err *e)
{
    /* WAL checkpoints copy committed pages back into the database; during a catch-up that
     * rewrites the same escrow pages range after range, so they wait for its end. Each
     * commit is as durable as before: the log is synced as ever, only not copied yet. */
    if (on) {
        atomic_fetch_add(&bulk_running, 1);
        return 0;
    }
    atomic_fetch_sub(&bulk_running, 1);
    return exec_sql(s->db, "PRAGMA wal_checkpoint(PASSIVE)", "ending a bulk catch-up", e);
}

/* A desk.db made now gets pages of STORE_PAGE_SIZE bytes; an existing one keeps its own
 * (SQLite fixes the size when it first writes the file: the pragma is only run on an empty
 * one, so no later VACUUM would change an old desk's). 8 KiB, SQLite's default 4: an
 * escrow row (its approver list and approvals, about 4 KB at 32 approvers) fits in a page
 * instead of spilling onto overflow pages, B-trees are a level shallower, and a sync writes
 * half as many log frames, each a page plus a header, for the same bytes: on the 100k-event
 * sync bench, 15% less CPU (docs/benchmarks.md). The audit head makes desk.db too when it
 * is first (audit.c db_open): the same size there. */
#define STORE_PAGE_SIZE 8192

static int new_file_page_size(sqlite3 *db, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0 || st.st_size != 0)
        return 0;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA page_size = %d", STORE_PAGE_SIZE);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* STORE_WAL_AUTOCHECKPOINT_BYTES in pages of db (wal_hook's argument). */
static intptr_t wal_checkpoint_pages(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int size = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        size = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return STORE_WAL_AUTOCHECKPOINT_BYTES / (size > 0 ? size : 4096);
}

void store_init(void)
{
    pthread_once(&sqlite_once, sqlite_setup);
}

int store_open(store **out, const char *path, err *e)
{
    *out = NULL;
    store_init();
    store *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "out of memory opening the desk database");
    s->path = strdup(path);
    s->n_slots = 64;
    s->slots = calloc(s->n_slots, sizeof *s->slots);
    if (!s->path || !s->slots) {
        free(s->path);
        free(s->slots);
        free(s);
        return err_set(e, ERR_NOMEM, "out of memory opening the desk database");
    }
    /* SQLite would create the file 0644 less the umask; its -wal, -shm and -journal
     * files take the database's mode, so a database created 0600 keeps them all private. */
    if (fsperm_create_private(path, e) < 0) {
        store_close(&s);
        return -1;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot open desk database %s: %s", path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(&s);
        return -1;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (new_file_page_size(s->db, path) < 0) {
        err_set(e, ERR_IO, "cannot use desk database %s: %s", path, sqlite3_errmsg(s->db));
        store_close(&s);
        return -1;
    }
    /* in place of SQLite's own: see wal_hook */
    sqlite3_wal_hook(s->db, wal_hook, (void *)wal_checkpoint_pages(s->db));
    if (store_sql_functions(s->db) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot use desk database %s: %s", path, sqlite3_errmsg(s->db));
        store_close(&s);
        return -1;
    }
    /* journal_mode answers with a row naming the mode actually in effect. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        err_set(e, ERR_IO, "cannot use desk database %s: %s", path, sqlite3_errmsg(s->db));
        store_close(&s);
        return -1;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        err_set(e, ERR_IO,
                "desk database %s cannot use WAL mode (got %s): is it on a network "
                "file system?",
                path, mode ? mode : "nothing");
        sqlite3_finalize(st);
        store_close(&s);
        return -1;
    }
    sqlite3_finalize(st);
    int v0 = 0;
    if (exec_sql(s->db,
                 "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; "
                 "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768;",
                 "configuring the desk database", e) < 0 ||
        read_user_version(s->db, &v0, e) < 0 ||
        store_migrate(s->db, store_schema_steps, store_schema_n_steps, e) < 0) {
        err_prefix(e, "%s", path);
        store_close(&s);
        return -1;
    }
    /* A desk older than the audit head adopts its log's head at the next audit row (a
     * desk.db made anew has no such mark: a log with rows and no head is refused). */
    if (v0 > 0 && v0 < store_schema_audit_head_version &&
        exec_sql(s->db, "INSERT OR IGNORE INTO audit_head (id, seq, hash) VALUES (1, 0, '')",
                 "marking the audit head for adoption", e) < 0) {
        err_prefix(e, "%s", path);
        store_close(&s);
        return -1;
    }
    *out = s;
    return 0;
}

void store_set_reader(store *s, const store_book_reader *r, void *conn)
{
    if (s->rd && s->rconn && (s->rd != r || s->rconn != conn))
        s->rd->close(&s->rconn);
    s->rd = r;
    s->rconn = r ? conn : NULL;
}

const store_book_reader *store_reader(const store *s, void **conn)
{
    if (conn)
        *conn = s ? s->rconn : NULL;
    return s ? s->rd : NULL;
}

int store_book_feed_after(store *s, int64_t after, size_t max, store_feed_row **out, size_t *n,
                          err *e)
{
    *out = NULL;
    *n = 0;
    if (!s->rd)
        return err_set(e, ERR_STATE, "the desk's book is desk.db: no change feed elsewhere");
    return s->rd->feed_after(s->rconn, after, max, out, n, e);
}

int store_book_feed_state(store *s, int64_t *last, int64_t *horizon, char *book, size_t cap,
                          err *e)
{
    *last = *horizon = 0;
    if (cap)
        book[0] = '\0';
    if (!s->rd)
        return err_set(e, ERR_STATE, "the desk's book is desk.db: no change feed elsewhere");
    return s->rd->feed_state(s->rconn, last, horizon, book, cap, e);
}

int store_book_bridge_legs(store *s, const store_bridge *b, store_bridge_leg **out, size_t *n,
                           err *e)
{
    *out = NULL;
    *n = 0;
    if (!s->rd || !s->rd->bridge_legs)
        return err_set(e, ERR_STATE, "the desk's book is desk.db: no bridge legs elsewhere");
    if (!b->has_burn_tx)
        return 0;
    /* the message's (source domain, nonce), when desk.db has it: header bytes 4..8, 12..20 */
    bool has_key = b->has_message && b->message_len >= 20;
    uint32_t dom = 0;
    uint64_t nonce = 0;
    for (size_t i = 0; has_key && i < 4; i++)
        dom = dom << 8 | b->message[4 + i];
    for (size_t i = 0; has_key && i < 8; i++)
        nonce = nonce << 8 | b->message[12 + i];
    return s->rd->bridge_legs(s->rconn, b->src_chain, b->burn_tx, b->dst_chain, has_key, dom,
                              nonce, out, n, e);
}

int store_book_bridge_legs_of_senders(store *s, const addr *senders, size_t n_senders,
                                      store_bridge_leg **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    if (!s->rd || !s->rd->bridge_legs_of_senders)
        return err_set(e, ERR_STATE, "the desk's book is desk.db: no bridge legs elsewhere");
    return s->rd->bridge_legs_of_senders(s->rconn, senders, n_senders, out, n, e);
}

int store_book_feed_prune(store *s, int64_t before, int64_t keep, int64_t upto, int64_t *n,
                          err *e)
{
    *n = 0;
    if (!s->rd || !s->rd->feed_prune)
        return err_set(e, ERR_STATE, "the desk's book is desk.db: no change feed elsewhere");
    return s->rd->feed_prune(s->rconn, before, keep, upto, n, e);
}

int store_book_escrows_version(store *s, bool *has, int64_t *count, int64_t *feed_last,
                               err *e)
{
    *has = false;
    *count = *feed_last = 0;
    if (!s->rd || !s->rd->escrows_version)
        return 0;
    if (s->rd->escrows_version(s->rconn, count, feed_last, e) < 0)
        return -1;
    *has = true;
    return 0;
}

void store_close(store **p)
{
    if (!p || !*p)
        return;
    store *s = *p;
    if (s->in_txn)
        store_rollback(s);
    if (s->ob && s->ob->close)
        s->ob->close(s->ob_conn);
    if (s->rd && s->rconn)
        s->rd->close(&s->rconn);
    for (size_t i = 0; i < s->n_slots; i++)
        if (s->slots[i].stmt)
            sqlite3_finalize(s->slots[i].stmt);
    free(s->slots);
    if (s->db && sqlite3_close(s->db) != SQLITE_OK)
        LOG_W("store", "closing %s: %s", s->path, sqlite3_errmsg(s->db));
    free(s->path);
    free(s);
    *p = NULL;
}

int store_audit(store *s, const char *home, const char *operator_name, const char *action,
                const json_t *details, err *e)
{
    return audit_append_db(s->db, home, operator_name, action, details, e);
}

int store_audit_batch(store *s, const char *home, const audit_row_in *rows, size_t n, err *e)
{
    return audit_append_batch_db(s->db, home, rows, n, e);
}

const char *store_path(const store *s)
{
    return s->path;
}

static size_t slot_hash(const char *sql, size_t n)
{
    uintptr_t v = (uintptr_t)sql;
    v ^= v >> 17;
    v *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(v >> 7) & (n - 1);
}

static int slots_grow(store *s, err *e)
{
    size_t n = s->n_slots * 2;
    stmt_slot *ns = calloc(n, sizeof *ns);
    if (!ns)
        return err_set(e, ERR_NOMEM, "out of memory in the statement cache");
    for (size_t i = 0; i < s->n_slots; i++) {
        if (!s->slots[i].sql)
            continue;
        size_t j = slot_hash(s->slots[i].sql, n);
        while (ns[j].sql)
            j = (j + 1) & (n - 1);
        ns[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = ns;
    s->n_slots = n;
    return 0;
}

sqlite3_stmt *store_stmt(store *s, const char *sql, err *e)
{
    size_t j = slot_hash(sql, s->n_slots);
    while (s->slots[j].sql && s->slots[j].sql != sql)
        j = (j + 1) & (s->n_slots - 1);
    if (s->slots[j].sql) {
        sqlite3_stmt *st = s->slots[j].stmt;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if ((s->used + 1) * 2 > s->n_slots) {
        if (slots_grow(s, e) < 0)
            return NULL;
        return store_stmt(s, sql, e);
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        err_set(e, ERR_INTERNAL, "preparing \"%.60s\": %s", sql, sqlite3_errmsg(s->db));
        return NULL;
    }
    s->slots[j].sql = sql;
    s->slots[j].stmt = st;
    s->used++;
    return st;
}

int store_exec_stmt(store *s, sqlite3_stmt *st, const char *what, err *e)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            err_set(e, ERR_EXISTS, "%s: %s", what, sqlite3_errmsg(s->db));
            sqlite3_reset(st);
            return -1;
        }
        store_fail(s, e, what);
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
static const char SQL_SYNC_FULL[] = "PRAGMA synchronous=FULL";
static const char SQL_SYNC_NORMAL[] = "PRAGMA synchronous=NORMAL";

static int run_simple(store *s, const char *sql, const char *what, err *e)
{
    sqlite3_stmt *st = store_stmt(s, sql, e);
    if (!st)
        return -1;
    return store_exec_stmt(s, st, what, e);
}

/* store_begin_first callers of this process waiting for the write lock. */
static atomic_int first_waiting;

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A busy handler that tries again every millisecond, up to BUSY_TIMEOUT_MS. */
static int busy_poll(void *arg, int tries)
{
    (void)arg;
    if (tries >= BUSY_TIMEOUT_MS)
        return 0;
    sleep_ms(1);
    return 1;
}

static int begin_immediate(store *s, err *e)
{
    if (s->in_txn)
        return err_set(e, ERR_INTERNAL, "a desk database transaction is already open");
    if (run_simple(s, SQL_BEGIN, "starting a desk database transaction", e) < 0) {
        if (sqlite3_errcode(s->db) == SQLITE_BUSY)
            err_set(e, ERR_IO,
                    "the desk database %s is busy (another process holds it); "
                    "try again",
                    s->path);
        return -1;
    }
    s->in_txn = true;
    s->durable_txn = false;
    return 0;
}

int store_begin(store *s, err *e)
{
    /* make way for a chain commit of this process waiting for the lock (bounded: a
     * caller holding the lock on another connection must not wait for ever) */
    for (long i = 0; i < BUSY_TIMEOUT_MS && atomic_load(&first_waiting) > 0; i++)
        sleep_ms(1);
    return begin_immediate(s, e);
}

int store_begin_first(store *s, err *e)
{
    atomic_fetch_add(&first_waiting, 1);
    sqlite3_busy_handler(s->db, busy_poll, NULL);
    int rc = begin_immediate(s, e);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    atomic_fetch_sub(&first_waiting, 1);
    return rc;
}

int store_begin_durable(store *s, err *e)
{
    if (run_simple(s, SQL_SYNC_FULL, "setting synchronous=FULL", e) < 0)
        return -1;
    if (store_begin(s, e) < 0) {
        err ignored;
        (void)run_simple(s, SQL_SYNC_NORMAL, "setting synchronous=NORMAL", &ignored);
        return -1;
    }
    s->durable_txn = true;
    return 0;
}

static void end_durable(store *s)
{
    if (!s->durable_txn)
        return;
    s->durable_txn = false;
    err ignored;
    if (run_simple(s, SQL_SYNC_NORMAL, "setting synchronous=NORMAL", &ignored) < 0)
        LOG_W("store", "%s", ignored.msg);
}

int store_commit(store *s, err *e)
{
    if (!s->in_txn)
        return err_set(e, ERR_INTERNAL, "commit without a desk database transaction");
    /* an outbound row added in the transaction: the server's first, so that desk.db never
     * keeps a row the server lacks; desk.db failing after, the server's is deleted again */
    bool remote = s->ob_open;
    if (remote) {
        s->ob_open = false;
        if (s->ob->add_end(s->ob_conn, true, e) < 0) {
            store_rollback(s);
            return -1;
        }
    }
    if (run_simple(s, SQL_COMMIT, "committing to the desk database", e) < 0) {
        err ignore;
        if (remote && s->ob->add_end(s->ob_conn, false, &ignore) < 0)
            LOG_E("store", "the book's server keeps a pending transaction desk.db lost: %s",
                  ignore.msg);
        store_rollback(s);
        return -1;
    }
    s->in_txn = false;
    end_durable(s);
    return 0;
}

void store_rollback(store *s)
{
    if (!s->in_txn)
        return;
    err e;
    if (s->ob_open) {
        s->ob_open = false;
        if (s->ob->add_end(s->ob_conn, false, &e) < 0)
            LOG_W("store", "%s", e.msg);
    }
    if (run_simple(s, SQL_ROLLBACK, "rolling back", &e) < 0 && sqlite3_get_autocommit(s->db) == 0)
        LOG_E("store", "%s", e.msg);
    s->in_txn = false;
    end_durable(s);
}

int store_schema_version(store *s)
{
    int v = -1;
    err e;
    if (read_user_version(s->db, &v, &e) < 0)
        return -1;
    return v;
}

int store_schema_latest(void)
{
    return store_schema_n_steps;
}

static const char SQL_DATA_VERSION[] = "PRAGMA data_version";

int store_data_version(store *s, uint64_t *out, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_DATA_VERSION, e);
    if (!st)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_fail(s, e, "reading data_version");
    *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

/* ---- helpers ---- */

int store_bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    int64_t sv;
    memcpy(&sv, &v, sizeof sv);
    return sqlite3_bind_int64(st, i, sv);
}

uint64_t store_col_u64(sqlite3_stmt *st, int i)
{
    int64_t sv = sqlite3_column_int64(st, i);
    uint64_t v;
    memcpy(&v, &sv, sizeof v);
    return v;
}

void store_hex(char *out, size_t cap, const uint8_t *b, size_t n)
{
    if (hex_encode(out, cap, b, n, true) == 0 && cap)
        out[0] = '\0';
}

int store_bind_addr(sqlite3_stmt *st, int i, const addr *a)
{
    char s[ADDR_STR_MAX];
    store_hex(s, sizeof s, a->b, ADDR_LEN);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static int col_hex(sqlite3_stmt *st, int i, uint8_t *out, size_t n)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    memset(out, 0, n);
    if (!t)
        return -1;
    err e;
    return hex_decode_exact(out, n, t, HEX_REQUIRE_PREFIX, &e);
}

int store_col_addr(sqlite3_stmt *st, int i, addr *out)
{
    return col_hex(st, i, out->b, ADDR_LEN);
}

int store_bind_hash(sqlite3_stmt *st, int i, const uint8_t h[32])
{
    char s[67];
    store_hex(s, sizeof s, h, 32);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

int store_col_hash(sqlite3_stmt *st, int i, uint8_t out[32])
{
    return col_hex(st, i, out, 32);
}

int store_col_bytes(sqlite3_stmt *st, int i, uint8_t *out, size_t n)
{
    memset(out, 0, n);
    if (sqlite3_column_type(st, i) != SQLITE_BLOB || sqlite3_column_bytes(st, i) != (int)n)
        return -1;
    memcpy(out, sqlite3_column_blob(st, i), n);
    return 0;
}

int store_bind_u256(sqlite3_stmt *st, int i, const u256 *v)
{
    char s[U256_DEC_MAX];
    u256_to_dec(s, v);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

int store_col_u256(sqlite3_stmt *st, int i, u256 *out)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    *out = u256_from_u64(0);
    if (!t)
        return -1;
    err e;
    return u256_from_dec(out, t, &e);
}

void store_copy_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    if (!t)
        t = "";
    size_t n = strlen(t);
    if (n >= cap) { /* cut before the character the cut would split, never inside it */
        n = cap - 1;
        while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, t, n);
    out[n] = '\0';
}

int store_grow(void **items, size_t *cap, size_t n, size_t size, err *e)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*items, nc * size);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory reading the desk database");
    *items = p;
    *cap = nc;
    return 0;
}

int store_collect(store *s, sqlite3_stmt *st, size_t size, store_fill_fn fn, void **out, size_t *n,
                  const char *what, err *e)
{
    *out = NULL;
    *n = 0;
    void *items = NULL;
    size_t cap = 0, k = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow(&items, &cap, k, size, e) < 0)
            goto fail;
        char *it = (char *)items + k * size;
        memset(it, 0, size);
        if (fn(st, it, e) < 0) {
            err_prefix(e, "%s", what);
            goto fail;
        }
        k++;
    }
    if (rc != SQLITE_DONE) {
        store_fail(s, e, what);
        goto fail;
    }
    sqlite3_reset(st);
    *out = items;
    *n = k;
    return 0;
fail:
    sqlite3_reset(st);
    free(items);
    return -1;
}

int store_get_row(store *s, sqlite3_stmt *st, store_fill_fn fn, void *out, bool *found,
                  const char *what, err *e)
{
    int rc = sqlite3_step(st), r = 0;
    *found = false;
    if (rc == SQLITE_ROW) {
        r = fn(st, out, e);
        if (r < 0)
            err_prefix(e, "%s", what);
        *found = r == 0;
    } else if (rc != SQLITE_DONE) {
        r = store_fail(s, e, what);
    }
    sqlite3_reset(st);
    return r;
}
