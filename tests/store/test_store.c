/* test_store.c: the desk database on real SQLite files in a temp directory:
 * migrations (fresh, partial, failing, too new), idempotent event writes,
 * transactions that roll back, reorg rewind, projections and checkpoints. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/bytes.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_book.h"
#include "sync/event_json.h"

static char tmpdir[256];
static char dbpath[300];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fusion-store-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    snprintf(dbpath, sizeof dbpath, "%s/desk.db", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static store *open_ok(void)
{
    store *s = NULL;
    err e;
    err_clear(&e);
    if (store_open(&s, dbpath, &e) < 0)
        fail_msg("store_open: %s", e.msg);
    return s;
}

static void add_chain(store *s, uint64_t id, const char *name)
{
    store_chain c;
    memset(&c, 0, sizeof c);
    c.chain_id = id;
    snprintf(c.name, sizeof c.name, "%s", name);
    c.confirmations = 2;
    snprintf(c.native_symbol, sizeof c.native_symbol, "ETH");
    c.native_decimals = 18;
    err e;
    assert_int_equal(store_chain_add(s, &c, &e), 0);
}

static void mk_event(store_event *ev, uint64_t chain, uint64_t block, uint32_t log_index,
                     uint8_t hash_seed, uint8_t escrow_seed)
{
    memset(ev, 0, sizeof *ev);
    ev->chain_id = chain;
    ev->block_number = block;
    memset(ev->block_hash, hash_seed, 32);
    ev->block_hash[0] = (uint8_t)block;
    memset(ev->tx_hash, 0x77, 32);
    ev->log_index = log_index;
    memset(ev->address.b, 0xaa, 20);
    ev->n_topics = 2;
    memset(ev->topics[0], 0x11, 32);
    memset(ev->topics[1], 0x22, 32);
    static const uint8_t data[] = {1, 2, 3, 0, 5};
    ev->data = data;
    ev->data_len = sizeof data;
    snprintf(ev->name, sizeof ev->name, "Funded");
    if (escrow_seed) {
        ev->has_escrow = true;
        memset(ev->escrow.b, escrow_seed, 20);
    }
}

static int query_int(const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The index of the first schema step whose SQL contains marker: a desk migrated to it is a
 * desk from just before that step. */
static int step_of(const char *marker)
{
    int step = 0;
    while (step < store_schema_latest() && !strstr(store_schema_steps[step], marker))
        step++;
    assert_true(step < store_schema_latest());
    return step;
}

/* A new desk at dbpath at the schema from just before the step containing marker. */
static sqlite3 *desk_before_step(const char *marker)
{
    int step = step_of(marker);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    err e;
    assert_int_equal(store_migrate(db, store_schema_steps, step, &e), 0);
    return db;
}

static void test_fresh_open(void **state)
{
    store *s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    assert_true(store_schema_latest() >= 4);
    store_close(&s);
    assert_null(s);
    store_close(&s); /* NULL-safe */
    /* A second open of a current file changes nothing. */
    s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    store_close(&s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* A desk made now has 8 KiB pages (store.c STORE_PAGE_SIZE). */
    assert_int_equal(query_int("PRAGMA page_size"), 8192);
}

static void test_newer_schema_refused(void **state)
{
    store *s = open_ok();
    store_close(&s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_schema_latest() + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    err e;
    err_clear(&e);
    assert_int_equal(store_open(&s, dbpath, &e), -1);
    assert_null(s);
    assert_int_equal(e.code, ERR_STATE);
    assert_non_null(strstr(e.msg, "newer fusion"));
    assert_null(strchr(e.msg, '\n'));
}

static void test_partial_then_forward(void **state)
{
    /* A desk made by an older binary that knew only the first step. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    err e;
    assert_int_equal(store_migrate(db, store_schema_steps, 1, &e), 0);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO chains (chain_id, name, created_at)"
                                  " VALUES (7, 'old', 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(query_int("PRAGMA user_version"), 1);
    store *s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    store_chain c;
    bool found;
    assert_int_equal(store_chain_get(s, 7, &c, &found, &e), 0);
    assert_true(found);
    assert_string_equal(c.name, "old");
    store_close(&s);
}

static void test_events_key_migration(void **state)
{
    /* A desk made before the events table got its (chain, block, log, hash) key (then,
     * later, its hashes and addresses as bytes). */
    err e;
    sqlite3 *db = desk_before_step("CREATE TABLE events_new");
    assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys=ON;"
                                      "INSERT INTO chains (chain_id, name, created_at)"
                                      " VALUES (1, 'one', 0);"
                                      "INSERT INTO events (id, chain_id, block_number,"
                                      " block_hash, tx_hash, tx_index, log_index, address,"
                                      " data, escrow) VALUES (41, 1, 7, '0xaa', '0xbb', 0, 3,"
                                      " '0xcc', x'01', '0xee')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    store *s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    uint64_t n;
    assert_int_equal(store_event_count(s, 1, &n, &e), 0);
    assert_int_equal(n, 1);
    store_close(&s);
    assert_int_equal(query_int("SELECT id FROM events WHERE escrow = x'ee' AND block_hash = x'aa'"
                               " AND tx_hash = x'bb' AND address = x'cc' AND data = x'01'"),
                     41);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'events_new'"),
                     0);
    assert_int_equal(
        query_int("SELECT count(*) FROM sqlite_master WHERE name = 'events_by_escrow'"), 1);
    assert_int_equal(
        query_int("SELECT count(*) FROM sqlite_master WHERE name = 'events_by_block'"), 0);
}

static void test_screened_identity_migration(void **state)
{
    /* A desk whose screened marks name the escrow by address only: after the migration
     * they name no creation, so the escrow is screened once more; a new mark names the
     * creating transaction and the block hash of its EscrowCreated event. */
    err e;
    sqlite3 *db = desk_before_step("ADD COLUMN created_block_hash");
    const char *h = "0x7777777777777777777777777777777777777777777777777777777777777777";
    char sql[2048];
    snprintf(sql, sizeof sql,
             "INSERT INTO chains (chain_id, name, created_at) VALUES (1, 'one', 0);"
             "INSERT INTO escrows (chain_id, address, factory, payer, payee, token, amount,"
             " approvers, threshold, arbiter, deadline, state, created_block, created_tx,"
             " last_event_block, events) VALUES (1, '0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee',"
             " '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
             " '0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',"
             " '0xcccccccccccccccccccccccccccccccccccccccc',"
             " '0x0000000000000000000000000000000000000000', '5', '[]', 1,"
             " '0xdddddddddddddddddddddddddddddddddddddddd', 9, 'created', 7, '%s', 7, 1);"
             "INSERT INTO events (chain_id, block_number, block_hash, tx_hash, tx_index,"
             " log_index, address, data, escrow) VALUES (1, 7, '0x0707', '%s', 0, 0, '0xaa',"
             " x'01', '0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee');"
             "INSERT INTO screened_escrows (chain_id, escrow, screened_at)"
             " VALUES (1, '0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 5);",
             h, h);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    store *s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    addr esc;
    memset(esc.b, 0xee, sizeof esc.b);
    bool yes = true;
    size_t n = 0;
    assert_int_equal(store_escrow_is_screened(s, 1, &esc, &yes, &e), 0);
    assert_false(yes);
    assert_int_equal(store_escrow_unscreened(s, &n, &e), 0);
    assert_int_equal(n, 1);
    store_escrow x;
    bool found = false;
    assert_int_equal(store_escrow_get(s, 1, &esc, &x, &found, &e), 0);
    assert_true(found);
    assert_int_equal(store_escrow_mark_screened(s, &x, 6, &e), 0);
    assert_int_equal(store_escrow_is_screened(s, 1, &esc, &yes, &e), 0);
    assert_true(yes);
    assert_int_equal(store_escrow_unscreened(s, &n, &e), 0);
    assert_int_equal(n, 0);
    store_close(&s);
    assert_int_equal(query_int("SELECT count(*) FROM screened_escrows WHERE"
                               " created_block_hash = '0x0707' AND screened_at = 6"),
                     1);
}

static void test_events_blob_migration(void **state)
{
    /* A desk written with the events' hashes and addresses as hex text and one row per
     * approval: after the upgrade every row is there with the same bytes, and the
     * approvals are with their escrow, in chain order, pending only while above the
     * chain's final block. */
    err e;
    sqlite3 *db = desk_before_step("ADD COLUMN approval_list");
    const char *bh = "0x1111111111111111111111111111111111111111111111111111111111111111";
    const char *th = "0x2222222222222222222222222222222222222222222222222222222222222222";
    const char *t0 = "0x3333333333333333333333333333333333333333333333333333333333333333";
    const char *esc = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
    char sql[4096];
    snprintf(sql, sizeof sql,
             "INSERT INTO chains (chain_id, name, created_at) VALUES (1, 'one', 0);"
             "INSERT INTO checkpoints (chain_id, synced_block, synced_hash, final_block,"
             " head_block, updated_at) VALUES (1, 9, '%s', 8, 9, 0);"
             "INSERT INTO events (id, chain_id, block_number, block_hash, tx_hash, tx_index,"
             " log_index, address, topic0, topic1, data, name, decoded, escrow) VALUES"
             " (5, 1, 7, '%s', '%s', 2, 3, '%s', '%s', NULL, x'0102', 'Approved', '{}', '%s'),"
             " (6, 1, 9, '%s', '%s', 0, 0, '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '%s',"
             " '%s', x'', NULL, NULL, NULL);"
             "INSERT INTO escrows (chain_id, address, factory, payer, payee, token, amount,"
             " approvers, threshold, arbiter, deadline, state, approvals, created_block,"
             " created_tx, last_event_block, events, pending) VALUES (1, '%s',"
             " '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
             " '0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',"
             " '0xcccccccccccccccccccccccccccccccccccccccc',"
             " '0x0000000000000000000000000000000000000000', '5',"
             " '[\"0x3030303030303030303030303030303030303030\","
             "\"0x3131313131313131313131313131313131313131\"]', 2,"
             " '0xdddddddddddddddddddddddddddddddddddddddd', 9, 'funded', 2, 1, '%s', 9, 4, 1);"
             /* rows out of chain order: the later approval first */
             "INSERT INTO escrow_approvals (chain_id, escrow, approver, block_number, tx_hash,"
             " log_index, pending) VALUES"
             " (1, '%s', '0x3131313131313131313131313131313131313131', 9, '%s', 1, 1),"
             " (1, '%s', '0x3030303030303030303030303030303030303030', 7, '%s', 3, 1);",
             bh, bh, th, esc, t0, esc, bh, th, t0, t0, esc, th, esc, th, esc, th);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    store *s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    addr x_addr;
    memset(x_addr.b, 0xee, 20);
    store_event_list l;
    assert_int_equal(store_event_list_escrow(s, 1, &x_addr, &l, &e), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, 5);
    assert_int_equal(l.items[0].block_number, 7);
    uint8_t h[32];
    memset(h, 0x11, 32);
    assert_memory_equal(l.items[0].block_hash, h, 32);
    memset(h, 0x22, 32);
    assert_memory_equal(l.items[0].tx_hash, h, 32);
    assert_int_equal(l.items[0].tx_index, 2);
    assert_int_equal(l.items[0].log_index, 3);
    assert_memory_equal(l.items[0].address.b, x_addr.b, 20);
    assert_int_equal(l.items[0].n_topics, 1);
    memset(h, 0x33, 32);
    assert_memory_equal(l.items[0].topics[0], h, 32);
    assert_int_equal(l.items[0].data_len, 2);
    assert_string_equal(l.items[0].name, "Approved");
    assert_true(l.items[0].has_escrow);
    assert_memory_equal(l.items[0].escrow.b, x_addr.b, 20);
    store_event_list_free(&l);
    assert_int_equal(store_event_list_range(s, 1, 9, 9, &l, &e), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].n_topics, 2);
    assert_false(l.items[0].has_escrow);
    store_event_list_free(&l);
    store_escrow x;
    bool found = false;
    assert_int_equal(store_escrow_get(s, 1, &x_addr, &x, &found, &e), 0);
    assert_true(found);
    assert_int_equal(x.n_approvals, 2);
    memset(h, 0x30, 20);
    assert_memory_equal(x.approvals[0].approver.b, h, 20);
    assert_int_equal(x.approvals[0].block_number, 7);
    assert_int_equal(x.approvals[0].log_index, 3);
    memset(h, 0x22, 32);
    assert_memory_equal(x.approvals[0].tx_hash, h, 32);
    assert_false(x.approvals[0].pending); /* block 7 is final (the checkpoint's 8) */
    memset(h, 0x31, 20);
    assert_memory_equal(x.approvals[1].approver.b, h, 20);
    assert_int_equal(x.approvals[1].block_number, 9);
    assert_true(x.approvals[1].pending);
    store_close(&s);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'escrow_approvals'"),
                     0);
    assert_int_equal(query_int("SELECT count(*) FROM events WHERE typeof(block_hash) = 'blob'"
                               " AND typeof(tx_hash) = 'blob' AND typeof(address) = 'blob'"),
                     2);
}

/* Hex text of an old row into bytes (the old schema's form); NULL leaves out zeroed. */
static void old_hex(const unsigned char *t, uint8_t *out, size_t n)
{
    memset(out, 0, n);
    if (!t)
        return;
    err e;
    assert_int_equal(hex_decode_exact(out, n, (const char *)t, HEX_REQUIRE_PREFIX, &e), 0);
}

static void test_old_desk_upgrade(void **state)
{
    /* tests/vectors/desk/pre_blob.db: made by a real sync with the fusion from before
     * this schema step (tests/vectors/desk/make_pre_blob.py). Every event row and every
     * approval of the old desk is read with plain SQLite first, then the current store
     * opens (upgrades) a copy, and each must be there with the same values. */
    const char *root = getenv("FUSION_ROOT"); /* set by meson test */
    if (!root) {
        fail_msg("FUSION_ROOT is not set: run through meson test");
        return;
    }
    char src[1024], cmd[2400];
    snprintf(src, sizeof src, "%s/tests/vectors/desk/pre_blob.db", root);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 600 '%s'", src, dbpath, dbpath);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(query_int("PRAGMA user_version"), 14);
    assert_int_equal(query_int("PRAGMA page_size"), 4096);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT id, chain_id, block_number, block_hash, tx_hash, tx_index,"
                           " log_index, address, topic0, topic1, topic2, topic3, data, name,"
                           " decoded, escrow FROM events ORDER BY id",
                           -1, &st, NULL),
        SQLITE_OK);
    store_event old[64];
    char names[64][STORE_EVENT_NAME_MAX], decoded[64][4096];
    size_t n_old = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_true(n_old < 64);
        store_event *ev = &old[n_old];
        memset(ev, 0, sizeof *ev);
        ev->id = sqlite3_column_int64(st, 0);
        ev->chain_id = (uint64_t)sqlite3_column_int64(st, 1);
        ev->block_number = (uint64_t)sqlite3_column_int64(st, 2);
        old_hex(sqlite3_column_text(st, 3), ev->block_hash, 32);
        old_hex(sqlite3_column_text(st, 4), ev->tx_hash, 32);
        ev->tx_index = (uint32_t)sqlite3_column_int(st, 5);
        ev->log_index = (uint32_t)sqlite3_column_int(st, 6);
        old_hex(sqlite3_column_text(st, 7), ev->address.b, 20);
        for (int i = 0; i < 4 && sqlite3_column_type(st, 8 + i) != SQLITE_NULL; i++) {
            old_hex(sqlite3_column_text(st, 8 + i), ev->topics[i], 32);
            ev->n_topics = (unsigned)i + 1;
        }
        ev->data_len = (size_t)sqlite3_column_bytes(st, 12);
        snprintf(names[n_old], sizeof names[n_old], "%s",
                 sqlite3_column_text(st, 13) ? (const char *)sqlite3_column_text(st, 13) : "");
        snprintf(decoded[n_old], sizeof decoded[n_old], "%s",
                 sqlite3_column_text(st, 14) ? (const char *)sqlite3_column_text(st, 14) : "");
        assert_true(strlen(decoded[n_old]) < sizeof decoded[n_old] - 1);
        ev->has_escrow = sqlite3_column_type(st, 15) != SQLITE_NULL;
        old_hex(sqlite3_column_text(st, 15), ev->escrow.b, 20);
        n_old++;
    }
    sqlite3_finalize(st);
    assert_true(n_old >= 10);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT escrow, approver, block_number, tx_hash,"
                                        " log_index, pending FROM escrow_approvals"
                                        " ORDER BY escrow, block_number, log_index",
                                        -1, &st, NULL),
                     SQLITE_OK);
    struct {
        addr escrow;
        store_approval a;
    } appr[16];
    size_t n_appr = 0, n_pending = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_true(n_appr < 16);
        old_hex(sqlite3_column_text(st, 0), appr[n_appr].escrow.b, 20);
        old_hex(sqlite3_column_text(st, 1), appr[n_appr].a.approver.b, 20);
        appr[n_appr].a.block_number = (uint64_t)sqlite3_column_int64(st, 2);
        old_hex(sqlite3_column_text(st, 3), appr[n_appr].a.tx_hash, 32);
        appr[n_appr].a.log_index = (uint32_t)sqlite3_column_int(st, 4);
        appr[n_appr].a.pending = sqlite3_column_int(st, 5) != 0;
        n_pending += appr[n_appr].a.pending;
        n_appr++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_true(n_appr >= 4 && n_pending >= 1 && n_pending < n_appr);
    int n_escrows = query_int("SELECT count(*) FROM escrows");

    store *s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    assert_int_equal(query_int("PRAGMA page_size"), 4096); /* an old desk keeps its pages */
    err e;
    uint64_t count = 0;
    assert_int_equal(store_event_count(s, old[0].chain_id, &count, &e), 0);
    assert_int_equal(count, n_old);
    for (size_t i = 0; i < n_old; i++) {
        store_event_list l;
        assert_int_equal(store_event_list_range(s, old[i].chain_id, old[i].block_number,
                                                old[i].block_number, &l, &e),
                         0);
        const store_event *got = NULL;
        for (size_t k = 0; k < l.n; k++)
            if (l.items[k].id == old[i].id)
                got = &l.items[k];
        if (!got) {
            fail_msg("event %lld of the old desk is missing", (long long)old[i].id);
            return;
        }
        assert_memory_equal(got->block_hash, old[i].block_hash, 32);
        assert_memory_equal(got->tx_hash, old[i].tx_hash, 32);
        assert_int_equal(got->tx_index, old[i].tx_index);
        assert_int_equal(got->log_index, old[i].log_index);
        assert_memory_equal(got->address.b, old[i].address.b, 20);
        assert_int_equal(got->n_topics, old[i].n_topics);
        assert_memory_equal(got->topics, old[i].topics, 32 * old[i].n_topics);
        assert_int_equal(got->data_len, old[i].data_len);
        assert_string_equal(got->name, names[i]);
        /* the fields decoded on read are the text the old sync stored */
        char *fields = sync_event_json_of(got);
        assert_string_equal(fields ? fields : "", decoded[i]);
        free(fields);
        assert_int_equal(got->has_escrow, old[i].has_escrow);
        assert_memory_equal(got->escrow.b, old[i].escrow.b, 20);
        store_event_list_free(&l);
    }
    store_escrow *all;
    size_t n = 0;
    assert_int_equal(store_escrow_list(s, 0, &all, &n, &e), 0);
    assert_int_equal(n, (size_t)n_escrows);
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (size_t j = 0; j < n_appr; j++) {
            if (memcmp(appr[j].escrow.b, all[i].address.b, 20) != 0)
                continue;
            assert_true(k < all[i].n_approvals);
            const store_approval *a = &all[i].approvals[k++], *w = &appr[j].a;
            assert_memory_equal(a->approver.b, w->approver.b, 20);
            assert_int_equal(a->block_number, w->block_number);
            assert_memory_equal(a->tx_hash, w->tx_hash, 32);
            assert_int_equal(a->log_index, w->log_index);
            assert_int_equal(a->pending, w->pending);
        }
        assert_int_equal(k, all[i].n_approvals);
        seen += k;
    }
    assert_int_equal(seen, n_appr);
    free(all);
    store_close(&s);
    /* the upgraded desk keeps no decoded JSON: the readers decode it (above) */
    assert_int_equal(query_int("SELECT count(*) FROM pragma_table_info('events')"
                               " WHERE name = 'decoded'"),
                     0);
}

/* The step that rebuilds the cases table, and a raw connection to a desk migrated just
 * before it, then with foreign keys on as store_open has them. */
static int case_checks_before(sqlite3 **db)
{
    int before = step_of("CREATE TABLE cases_new");
    assert_int_equal(sqlite3_open(dbpath, db), SQLITE_OK);
    assert_int_equal(store_sql_functions(*db), SQLITE_OK);
    err e;
    assert_int_equal(store_migrate(*db, store_schema_steps, before, &e), 0);
    assert_int_equal(sqlite3_exec(*db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL), SQLITE_OK);
    return before;
}

#define CASE_ROW_(id, subj, state, outcome)                                                        \
    "INSERT INTO cases (id, subject, entity_id, chain_id, escrow, state, outcome, priority,"     \
    " score, opened_at, due_at, assignee, closed_by, closed_at) VALUES (" id ", '" subj "',"     \
    " NULL, 1, '0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', '" state "', " outcome ", 2, 50,"    \
    " 100, 200, 'ann', NULL, NULL);"
#define HIT_ROW_(subj, rule, case_id)                                                              \
    "INSERT INTO screening_hits (chain_id, escrow, subject, address, entity_id, role, rule,"     \
    " kind, score, evidence, case_id, created_at) VALUES (1,"                                     \
    " '0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', '" subj "', '" subj "', NULL, 'payee', '"    \
    rule "', 'escrow_created', 50, 'listed', " case_id ", 100);"

static void test_case_checks_migration(void **state)
{
    /* A desk with cases, their hits and their events, made before the cases table was
     * rebuilt for its CHECKs: every row comes through with its id, the hits and events
     * still name their cases, and the rules still hold (a bad state or outcome, a hit or
     * event naming no case are refused; the API feed still hears of a new case). */
    sqlite3 *db;
    case_checks_before(&db);
    assert_int_equal(
        sqlite3_exec(db,
                     CASE_ROW_("7", "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "in_review",
                               "NULL")
                         CASE_ROW_("9", "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "closed",
                                   "'blocked'")
                             HIT_ROW_("0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "S1", "7")
                                 HIT_ROW_("0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "A2",
                                          "7")
                                     HIT_ROW_("0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                                              "S1", "9")
                     "INSERT INTO case_events (case_id, at, operator, action, after) VALUES"
                     " (7, 100, 'screener', 'open', 'state=new'),"
                     " (9, 101, 'screener', 'open', 'state=new'),"
                     " (9, 102, 'ann', 'close', 'state=closed');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    int feed0 = 0;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM api_feed", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    feed0 = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);

    store *s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    err e;
    store_case c;
    bool found = false;
    assert_int_equal(store_case_get(s, 9, &c, &found, &e), 0);
    assert_true(found);
    assert_string_equal(c.state, "closed");
    assert_string_equal(c.outcome, "blocked");
    assert_string_equal(c.assignee, "ann");
    assert_int_equal(c.due_at, 200);
    store_hit *hs = NULL;
    size_t n = 0;
    assert_int_equal(store_hit_list_case(s, 7, &hs, &n, &e), 0);
    assert_int_equal(n, 2);
    free(hs);
    store_case_event *evs = NULL;
    assert_int_equal(store_case_events(s, 9, &evs, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(evs[1].action, "close");
    free(evs);
    /* the rules hold on the rebuilt table */
    store_case nc = {.chain_id = 1, .priority = 1, .score = 90, .opened_at = 5, .due_at = 6};
    snprintf(nc.subject, sizeof nc.subject, "entity:3");
    bool created = false;
    assert_int_equal(store_case_open(s, &nc, &created, &e), 0);
    assert_true(created);
    assert_true(nc.id > 9);
    snprintf(nc.state, sizeof nc.state, "bogus");
    err_clear(&e);
    assert_int_equal(store_case_update(s, &nc, &e), -1);
    assert_non_null(strstr(e.msg, "CHECK"));
    snprintf(nc.state, sizeof nc.state, "closed");
    snprintf(nc.outcome, sizeof nc.outcome, "waved");
    assert_int_equal(store_case_update(s, &nc, &e), -1);
    snprintf(nc.outcome, sizeof nc.outcome, "cleared");
    assert_int_equal(store_case_update(s, &nc, &e), 0);
    store_case_event bad = {.case_id = 4242, .at = 1};
    snprintf(bad.operator_name, sizeof bad.operator_name, "ann");
    snprintf(bad.action, sizeof bad.action, "note");
    err_clear(&e);
    assert_int_equal(store_case_event_add(s, &bad, &e), -1);
    assert_non_null(strstr(e.msg, "FOREIGN KEY"));
    store_close(&s);
    assert_int_equal(query_int("SELECT count(*) FROM cases"), 3);
    assert_int_equal(query_int("SELECT count(*) FROM screening_hits WHERE case_id = 7"), 2);
    assert_int_equal(query_int("SELECT count(*) FROM case_events"), 3);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'cases_new'"), 0);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name IN"
                               " ('cases_queue', 'api_feed_case_i', 'api_feed_case_u')"),
                     3);
    assert_int_equal(query_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    /* opened, then closed: two feed rows */
    assert_int_equal(query_int("SELECT count(*) FROM api_feed"), feed0 + 2);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'cases'"
                               " AND sql LIKE '%state IN%'"),
                     0);
}

static void test_case_checks_broken_reference(void **state)
{
    /* A hit naming a case that is not there (written with foreign keys off): the rebuild
     * stops before its commit and says so; the desk stays as it was. */
    sqlite3 *db;
    int before = case_checks_before(&db);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA foreign_keys=OFF;" HIT_ROW_(
                                      "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "S1", "77"),
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    store *s = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(store_open(&s, dbpath, &e), -1);
    assert_null(s);
    assert_non_null(strstr(e.msg, "screening_hits"));
    assert_null(strchr(e.msg, '\n'));
    assert_int_equal(query_int("PRAGMA user_version"), before);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'cases_new'"), 0);
}

static void test_escrow_v2_migration(void **state)
{
    /* A desk made before escrow version 2: its factory and escrows are version 1, the
     * arbiter of the creation is the arbiter it had, and nothing is inconsistent. A
     * version-2 escrow then round-trips its window, terms hash, both arbiters and the
     * inconsistent mark. */
    err e;
    sqlite3 *db = desk_before_step("ADD COLUMN terms_hash");
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO chains (chain_id, name, created_at) VALUES (1, 'one', 0);"
                     "INSERT INTO contracts (chain_id, kind, address) VALUES (1, 'factory',"
                     " '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');"
                     "INSERT INTO escrows (chain_id, address, factory, payer, payee, token,"
                     " amount, approvers, threshold, arbiter, deadline, state, created_block,"
                     " created_tx, last_event_block, events) VALUES (1,"
                     " '0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee',"
                     " '0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
                     " '0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',"
                     " '0xcccccccccccccccccccccccccccccccccccccccc',"
                     " '0x0000000000000000000000000000000000000000', '5', '[]', 1,"
                     " '0xdddddddddddddddddddddddddddddddddddddddd', 9, 'funded', 7,"
                     " '0x7777777777777777777777777777777777777777777777777777777777777777', 7,"
                     " 2);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    store *s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    store_contract *cs = NULL;
    size_t n = 0;
    assert_int_equal(store_contract_list(s, 1, &cs, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(cs[0].version, 1);
    free(cs);
    addr esc;
    memset(esc.b, 0xee, sizeof esc.b);
    store_escrow x;
    bool found = false;
    assert_int_equal(store_escrow_get(s, 1, &esc, &x, &found, &e), 0);
    assert_true(found);
    assert_int_equal(x.version, 1);
    assert_int_equal(x.dispute_window, 0);
    assert_false(x.inconsistent);
    assert_memory_equal(x.created_arbiter.b, x.arbiter.b, 20);
    assert_int_equal(x.state, ESCROW_FUNDED);

    store_contract k = {.chain_id = 1, .kind = STORE_CONTRACT_FACTORY, .version = 2};
    memset(k.address.b, 0xab, 20);
    assert_int_equal(store_contract_put(s, &k, &e), 0);
    x.version = 2;
    x.dispute_window = 7 * 86400;
    memset(x.terms_hash, 0x5a, 32);
    memset(x.arbiter.b, 0x44, 20);
    x.inconsistent = true;
    snprintf(x.anomaly, sizeof x.anomaly, "inconsistent: test");
    assert_int_equal(store_escrow_put(s, &x, &e), 0);
    store_escrow y;
    assert_int_equal(store_escrow_get(s, 1, &esc, &y, &found, &e), 0);
    assert_int_equal(y.version, 2);
    assert_int_equal(y.dispute_window, 7 * 86400);
    assert_memory_equal(y.terms_hash, x.terms_hash, 32);
    assert_memory_equal(y.arbiter.b, x.arbiter.b, 20);
    assert_memory_equal(y.created_arbiter.b, x.created_arbiter.b, 20);
    assert_true(y.inconsistent);
    assert_int_equal(store_contract_list(s, 1, &cs, &n, &e), 0);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(cs[i].version, cs[i].address.b[0] == 0xab ? 2 : 1);
    free(cs);
    store_close(&s);
}

static void test_failing_step_rolls_back(void **state)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    const char *const steps[] = {
        "CREATE TABLE a (x INTEGER);",
        "CREATE TABLE b (y INTEGER); INSERT INTO nosuchtable VALUES (1);",
    };
    err e;
    err_clear(&e);
    assert_int_equal(store_migrate(db, steps, 2, &e), -1);
    assert_non_null(strstr(e.msg, "version 2"));
    sqlite3_close(db);
    /* Step 1 stays, step 2 (including table b) is gone. */
    assert_int_equal(query_int("PRAGMA user_version"), 1);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'b'"), 0);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'a'"), 1);
}

static void test_chains(void **state)
{
    store *s = open_ok();
    add_chain(s, 31337, "local");
    add_chain(s, UINT64_MAX - 5, "huge-id");
    store_chain c;
    memset(&c, 0, sizeof c);
    c.chain_id = 31337;
    snprintf(c.name, sizeof c.name, "other");
    err e;
    err_clear(&e);
    assert_int_equal(store_chain_add(s, &c, &e), -1);
    assert_int_equal(e.code, ERR_EXISTS);
    c.chain_id = 5;
    snprintf(c.name, sizeof c.name, "local");
    assert_int_equal(store_chain_add(s, &c, &e), -1);
    assert_int_equal(e.code, ERR_EXISTS);

    bool found;
    assert_int_equal(store_chain_get(s, UINT64_MAX - 5, &c, &found, &e), 0);
    assert_true(found);
    assert_string_equal(c.name, "huge-id");
    assert_int_equal(store_chain_find_name(s, "local", &c, &found, &e), 0);
    assert_true(found);
    assert_true(c.chain_id == 31337);
    assert_int_equal(c.confirmations, 2);
    assert_int_equal(store_chain_get(s, 1, &c, &found, &e), 0);
    assert_false(found);

    assert_int_equal(store_endpoint_add(s, 31337, "http://a", 0, &e), 0);
    assert_int_equal(store_endpoint_add(s, 31337, "http://b", 1, &e), 0);
    assert_int_equal(store_endpoint_add(s, 31337, "http://a", 2, &e), -1);
    assert_int_equal(e.code, ERR_EXISTS);
    assert_int_equal(store_endpoint_add(s, 999, "http://c", 0, &e), -1); /* no such chain */
    assert_int_equal(store_endpoint_set_health(s, 31337, "http://b", STORE_HEALTH_DOWN,
                                               "connection refused", 100, &e),
                     0);
    store_endpoint *eps;
    size_t n;
    assert_int_equal(store_endpoint_list(s, 31337, &eps, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(eps[0].url, "http://a");
    assert_int_equal(eps[0].health, STORE_HEALTH_UNKNOWN);
    assert_int_equal(eps[1].health, STORE_HEALTH_DOWN);
    assert_string_equal(eps[1].last_error, "connection refused");
    free(eps);

    store_contract k = {.chain_id = 31337, .kind = STORE_CONTRACT_FACTORY, .deployed_block = 3};
    memset(k.address.b, 0xab, 20);
    assert_int_equal(store_contract_put(s, &k, &e), 0);
    k.deployed_block = 4;
    assert_int_equal(store_contract_put(s, &k, &e), 0);
    store_contract *ks;
    assert_int_equal(store_contract_list(s, 31337, &ks, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ks[0].deployed_block, 4);
    assert_memory_equal(ks[0].address.b, k.address.b, 20);
    free(ks);

    store_chain *cs;
    assert_int_equal(store_chain_list(s, &cs, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(cs[0].name, "huge-id");
    free(cs);

    /* Removing a chain takes its endpoints with it (foreign keys are on). */
    assert_int_equal(store_chain_remove(s, 31337, &e), 0);
    assert_int_equal(store_endpoint_list(s, 31337, &eps, &n, &e), 0);
    assert_int_equal(n, 0);
    free(eps);
    store_close(&s);
}

static void test_events_idempotent(void **state)
{
    store *s = open_ok();
    add_chain(s, 1, "one");
    err e;
    store_event ev;
    mk_event(&ev, 1, 10, 0, 0x01, 0xe1);
    bool ins;
    assert_int_equal(store_begin(s, &e), 0);
    assert_int_equal(store_event_put(s, &ev, &ins, &e), 0);
    assert_true(ins);
    assert_int_equal(store_event_put(s, &ev, &ins, &e), 0);
    assert_false(ins);
    /* Same block number, different block hash: another fork's log, a distinct row. */
    store_event ev2;
    mk_event(&ev2, 1, 10, 0, 0x02, 0xe1);
    assert_int_equal(store_event_put(s, &ev2, &ins, &e), 0);
    assert_true(ins);
    assert_int_equal(store_commit(s, &e), 0);
    uint64_t cnt;
    assert_int_equal(store_event_count(s, 1, &cnt, &e), 0);
    assert_int_equal(cnt, 2);

    store_event_list l;
    addr esc;
    memset(esc.b, 0xe1, 20);
    assert_int_equal(store_event_list_escrow(s, 1, &esc, &l, &e), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.items[0].data_len, 5);
    assert_memory_equal(l.items[0].data, ((const uint8_t[]){1, 2, 3, 0, 5}), 5);
    assert_string_equal(l.items[0].name, "Funded");
    assert_int_equal(l.items[0].n_topics, 2);
    assert_memory_equal(l.items[0].topics[1], ev.topics[1], 32);
    assert_true(l.items[0].has_escrow);
    store_event_list_free(&l);
    assert_null(l.items);

    /* An event for a chain that is not configured violates the foreign key. */
    mk_event(&ev, 2, 10, 0, 0x01, 0);
    assert_int_equal(store_event_put(s, &ev, &ins, &e), -1);
    store_close(&s);
}

/* Every row of the tables a sync writes, as text (quote() of each column, in rowid order).
 * Not the events' decoded column: the last schema step drops it (the readers decode). */
static char *rows_text(sqlite3 *db)
{
    static const char *const q[] = {
        "SELECT group_concat(r, '|') FROM (SELECT quote(id) || quote(chain_id) ||"
        " quote(block_number) || quote(block_hash) || quote(tx_hash) || quote(tx_index) ||"
        " quote(log_index) || quote(address) || quote(topic0) || quote(topic1) ||"
        " quote(topic2) || quote(topic3) || quote(data) || quote(name) ||"
        " quote(escrow) AS r FROM events ORDER BY id)",
        "SELECT group_concat(r, '|') FROM (SELECT quote(rowid) || quote(address) ||"
        " quote(state) || quote(resolved_to) || quote(funded) || quote(events) ||"
        " quote(pending) || quote(approval_list) AS r FROM escrows ORDER BY rowid)",
        "SELECT group_concat(r, '|') FROM (SELECT quote(rowid) || quote(address) ||"
        " quote(state) || quote(chain) AS r FROM escrow_search ORDER BY rowid)",
        "SELECT group_concat(r, '|') FROM (SELECT quote(n) AS r FROM escrow_totals)",
        "SELECT group_concat(r, '|') FROM (SELECT quote(event_id) || quote(kind) ||"
        " quote(amount) AS r FROM vault_flows ORDER BY event_id)",
    };
    size_t cap = 16384, n = 0;
    char *out = calloc(cap, 1);
    assert_non_null(out);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, q[i], -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        const char *t = (const char *)sqlite3_column_text(st, 0);
        n += (size_t)snprintf(out + n, cap - n, "%s\n", t ? t : "(none)");
        assert_true(n < cap);
        sqlite3_finalize(st);
    }
    return out;
}

static void unhex_unused(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_error(cx, "fusion_unhex: not expected in this test", -1);
}

static void test_write_paths_migration(void **state)
{
    /* A desk at the schema before the step that defers the events' foreign key and
     * rewrites the escrow state check: every row is kept as it was, the checks still
     * hold (a state outside the six, an event of a chain that is not configured), a
     * removed chain still takes its events and their vault flows with it. */
    int before = step_of("DEFERRABLE INITIALLY DEFERRED");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    /* the store's own SQL function, named by an earlier step (no rows to convert here) */
    assert_int_equal(sqlite3_create_function(db, "fusion_unhex", 1, SQLITE_UTF8, NULL,
                                             unhex_unused, NULL, NULL),
                     SQLITE_OK);
    err e;
    assert_int_equal(store_migrate(db, store_schema_steps, before, &e), 0);
    assert_int_equal(
        sqlite3_exec(
            db,
            "PRAGMA foreign_keys=ON;"
            "INSERT INTO chains (chain_id, name, created_at) VALUES (1, 'one', 0), (2, 'two', 0);"
            "INSERT INTO events (id, chain_id, block_number, block_hash, tx_hash, tx_index,"
            " log_index, address, topic0, data, name, decoded, escrow) VALUES"
            " (3, 1, 7, x'aa', x'bb', 0, 1, x'cc', x'dd', x'0102', 'Funded', '{}', x'ee'),"
            " (4, 1, 8, x'ab', x'bc', 1, 0, x'cc', NULL, x'', NULL, NULL, NULL),"
            " (9, 2, 8, x'ac', x'bd', 0, 0, x'cd', x'de', x'03', 'Deposit', '{}', NULL);"
            "INSERT INTO vault_flows (event_id, chain_id, vault, block_number, kind, owner,"
            " token, amount) VALUES (9, 2, '0xv', 8, 'deposit', '0xo', '0xt', '5');"
            "INSERT INTO escrows (chain_id, address, factory, payer, payee, token, amount,"
            " approvers, threshold, arbiter, deadline, state, resolved_to, created_block,"
            " created_tx, last_event_block, events, approval_list) VALUES"
            " (1, '0xe1', '0xf', '0xa', '0xb', '0x0', '5', '[]', 1, '0xd', 9, 'funded', NULL,"
            "  7, '0x1', 7, 1, x'00'),"
            " (2, '0xe2', '0xf', '0xa', '0xb', '0x0', '6', '[]', 1, '0xd', 9, 'resolved',"
            "  'payee', 8, '0x2', 8, 2, NULL);",
            NULL, NULL, NULL),
        SQLITE_OK);
    char *old_rows = rows_text(db);
    int old_cookie = 0;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    old_cookie = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);

    store *s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    char *new_rows = rows_text(db);
    assert_string_equal(new_rows, old_rows);
    free(old_rows);
    free(new_rows);
    assert_true(query_int("PRAGMA schema_version") > old_cookie);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'events' AND"
                               " sql LIKE '%REFERENCES chains(chain_id) ON DELETE CASCADE"
                               " DEFERRABLE INITIALLY DEFERRED,%'"),
                     1);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'escrows' AND"
                               " sql LIKE '%state IN%'"),
                     0);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'escrows' AND"
                               " sql LIKE '%CHECK (state = ''created'' OR%'"),
                     1);
    assert_int_equal(query_int("SELECT count(*) FROM sqlite_master WHERE name LIKE"
                               " 'schema_write_paths%'"),
                     0);
    assert_int_equal(query_int("SELECT count(*) FROM pragma_integrity_check WHERE"
                               " integrity_check <> 'ok'"),
                     0);

    /* The state check: each of the six passes, anything else is refused. */
    assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL), SQLITE_OK);
    static const char *const states[] = {"created",  "funded",   "released",
                                         "refunded", "disputed", "resolved"};
    for (int i = 0; i < 6; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "UPDATE escrows SET state = '%s' WHERE address = '0xe1'",
                 states[i]);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(sqlite3_exec(db, "UPDATE escrows SET state = 'Funded' WHERE address = '0xe1'",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    assert_int_equal(sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_CHECK);
    assert_int_equal(sqlite3_exec(db, "UPDATE escrows SET resolved_to = 'both'", NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    assert_int_equal(query_int("SELECT count(*) FROM escrows WHERE state = 'resolved'"), 2);

    /* An event of a chain that is not configured: its transaction fails at COMMIT and
     * leaves nothing; alone (no transaction) its statement fails. */
    store_event ev[STORE_EVENT_BATCH + 1];
    for (uint32_t i = 0; i <= STORE_EVENT_BATCH; i++)
        mk_event(&ev[i], i == 5 ? 77 : 1, 20, i, 0x05, 0);
    size_t ins = 0;
    assert_int_equal(store_begin(s, &e), 0);
    assert_int_equal(store_event_put_many(s, ev, STORE_EVENT_BATCH + 1, &ins, &e), 0);
    assert_int_equal(store_commit(s, &e), -1);
    assert_non_null(strstr(e.msg, "FOREIGN KEY"));
    assert_int_equal(query_int("SELECT count(*) FROM events WHERE block_number = 20"), 0);
    bool one = true;
    assert_int_equal(store_event_put(s, &ev[5], &one, &e), -1);
    assert_int_equal(query_int("SELECT count(*) FROM events"), 3);
    /* the same rows for a configured chain are stored, every one (the batch is OR
     * IGNORE: a row with no data must be stored with an empty blob, not skipped) */
    ev[5].chain_id = 1;
    ev[7].data = NULL;
    ev[7].data_len = 0;
    ev[8].name[0] = '\0';
    ev[8].n_topics = 0;
    assert_int_equal(store_begin(s, &e), 0);
    assert_int_equal(store_event_put_many(s, ev, STORE_EVENT_BATCH + 1, &ins, &e), 0);
    assert_int_equal(store_commit(s, &e), 0);
    assert_int_equal(ins, STORE_EVENT_BATCH + 1);
    assert_int_equal(query_int("SELECT count(*) FROM events WHERE block_number = 20 AND"
                               " log_index = 7 AND data = x''"),
                     1);
    assert_int_equal(query_int("SELECT count(*) FROM events WHERE block_number = 20 AND"
                               " log_index = 8 AND topic0 IS NULL AND name IS NULL"),
                     1);

    /* A removed chain takes its events, their vault flows and its escrows with it. */
    assert_int_equal(sqlite3_exec(db, "DELETE FROM chains WHERE chain_id = 2", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(query_int("SELECT count(*) FROM events WHERE chain_id = 2"), 0);
    assert_int_equal(query_int("SELECT count(*) FROM vault_flows"), 0);
    assert_int_equal(query_int("SELECT count(*) FROM escrows WHERE chain_id = 2"), 0);
    assert_int_equal(query_int("SELECT count(*) FROM events WHERE chain_id = 1"),
                     2 + STORE_EVENT_BATCH + 1);
    sqlite3_close(db);
    store_close(&s);
}

static void test_inflow_marks_book_migration(void **state)
{
    /* Inflow marks of a desk whose book is on a server, from before a mark named the
     * server's database: kept (as evidence), of an unknown database (book ''), which no
     * pass reads marks of; a mark of another database may then share one of their ids. */
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    /* the store's own SQL function, named by an earlier step (no rows to convert here) */
    assert_int_equal(
        sqlite3_create_function(db, "fusion_unhex", 1, SQLITE_UTF8, NULL, unhex_unused, NULL, NULL),
        SQLITE_OK);
    err e;
    assert_int_equal(
        store_migrate(db, store_schema_steps, step_of("CREATE TABLE inflows_screened_new"), &e), 0);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO inflows_screened (book_id, screened_at, chain_id)"
                                  " VALUES (5, 50, 1), (7, 70, NULL)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    store *s = open_ok();
    assert_int_equal(store_schema_version(s), store_schema_latest());
    store_close(&s);
    assert_int_equal(query_int("SELECT count(*) FROM inflows_screened WHERE book = ''"
                               " AND ((book_id = 5 AND screened_at = 50 AND chain_id = 1)"
                               " OR (book_id = 7 AND screened_at = 70 AND chain_id IS NULL))"),
                     2);
    assert_int_equal(query_int("SELECT count(*) FROM inflows_screened"), 2);
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO inflows_screened (book, book_id, screened_at,"
                                  " chain_id) VALUES ('1/2/desk', 5, 80, 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(query_int("SELECT count(*) FROM inflows_screened WHERE book_id = 5"), 2);
}

/* store_event_put_many: 32 rows per statement and the rest one by one give the rows
 * store_event_put gives, field for field and in order; a log already stored, or twice in
 * one batch, is stored once and not counted. */
static void test_events_put_many(void **state)
{
    store *s = open_ok();
    add_chain(s, 1, "one");
    err e;
    enum { N = 75 }; /* two full batches and eleven single rows */
    store_event evs[N + 1];
    for (uint32_t i = 0; i < N; i++) {
        mk_event(&evs[i], 1, 10 + i / 8, i, 0x01, (uint8_t)(i % 3 ? 0xe0 + i % 5 : 0));
        evs[i].n_topics = 1 + i % 4;
        evs[i].tx_index = i;
        if (i % 7 == 0)
            evs[i].name[0] = '\0';
    }
    size_t ins = 99;
    assert_int_equal(store_begin(s, &e), 0);
    assert_int_equal(store_event_put_many(s, evs, 40, &ins, &e), 0);
    assert_int_equal(ins, 40);
    evs[N] = evs[50]; /* twice in the next batch */
    assert_int_equal(store_event_put_many(s, evs + 10, N + 1 - 10, &ins, &e), 0);
    assert_int_equal(ins, N - 40);
    assert_int_equal(store_commit(s, &e), 0);
    uint64_t cnt;
    assert_int_equal(store_event_count(s, 1, &cnt, &e), 0);
    assert_int_equal(cnt, N);
    store_event_list l;
    assert_int_equal(store_event_list_range(s, 1, 0, 1000, &l, &e), 0);
    assert_int_equal(l.n, N);
    for (uint32_t i = 0; i < N; i++) {
        const store_event *g = &l.items[i], *w = &evs[i];
        assert_int_equal(g->log_index, i);
        assert_int_equal(g->block_number, w->block_number);
        assert_int_equal(g->tx_index, w->tx_index);
        assert_memory_equal(g->block_hash, w->block_hash, 32);
        assert_int_equal(g->n_topics, w->n_topics);
        for (unsigned t = 0; t < w->n_topics; t++)
            assert_memory_equal(g->topics[t], w->topics[t], 32);
        assert_int_equal(g->data_len, w->data_len);
        assert_string_equal(g->name, w->name);
        assert_int_equal(g->has_escrow, w->has_escrow);
        if (w->has_escrow)
            assert_memory_equal(g->escrow.b, w->escrow.b, 20);
    }
    store_event_list_free(&l);
    assert_int_equal(query_int("SELECT count(*) FROM events WHERE id <> log_index + 1"), 0);
    store_close(&s);
}

static void test_rollback(void **state)
{
    store *s = open_ok();
    add_chain(s, 1, "one");
    err e;
    store_event ev;
    assert_int_equal(store_begin(s, &e), 0);
    assert_int_equal(store_begin(s, &e), -1); /* no nesting */
    for (uint32_t i = 0; i < 10; i++) {
        mk_event(&ev, 1, 5, i, 0x01, 0);
        assert_int_equal(store_event_put(s, &ev, NULL, &e), 0);
    }
    store_checkpoint cp = {.chain_id = 1, .synced_block = 5, .final_block = 3, .head_block = 5};
    assert_int_equal(store_checkpoint_put(s, &cp, &e), 0);
    store_rollback(s);
    uint64_t cnt;
    assert_int_equal(store_event_count(s, 1, &cnt, &e), 0);
    assert_int_equal(cnt, 0);
    assert_int_equal(store_checkpoint_get(s, 1, &cp, &e), 0);
    assert_false(cp.synced);
    /* Closing with an open transaction rolls it back too. */
    assert_int_equal(store_begin(s, &e), 0);
    mk_event(&ev, 1, 5, 0, 0x01, 0);
    assert_int_equal(store_event_put(s, &ev, NULL, &e), 0);
    store_close(&s);
    assert_int_equal(query_int("SELECT count(*) FROM events"), 0);
}

static void test_rewind_and_checkpoint(void **state)
{
    store *s = open_ok();
    add_chain(s, 1, "one");
    err e;
    assert_int_equal(store_begin(s, &e), 0);
    for (uint64_t b = 1; b <= 10; b++) {
        store_event ev;
        mk_event(&ev, 1, b, 0, 0x01, (uint8_t)(0xe0 + b % 3));
        assert_int_equal(store_event_put(s, &ev, NULL, &e), 0);
        store_block blk = {.number = b, .timestamp = 1000 + b};
        memset(blk.hash, (int)b, 32);
        memset(blk.parent_hash, (int)b - 1, 32);
        assert_int_equal(store_block_put(s, 1, &blk, &e), 0);
    }
    store_checkpoint cp = {.chain_id = 1, .synced_block = 10, .final_block = 8, .head_block = 10};
    memset(cp.synced_hash, 10, 32);
    assert_int_equal(store_checkpoint_put(s, &cp, &e), 0);
    assert_int_equal(store_commit(s, &e), 0);

    store_block *bl;
    size_t n;
    assert_int_equal(store_block_list_desc(s, 1, 7, 3, &bl, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(bl[0].number, 7);
    assert_int_equal(bl[2].number, 5);
    assert_int_equal(bl[0].hash[5], 7);
    assert_int_equal(bl[0].timestamp, 1007);
    free(bl);

    assert_int_equal(store_begin(s, &e), 0);
    addr *esc;
    uint64_t gone;
    assert_int_equal(store_events_rewind(s, 1, 9, &esc, &n, &gone, &e), 0);
    assert_int_equal(gone, 2);
    /* blocks 9 (0xe0) and 10 (0xe1) */
    assert_int_equal(n, 2);
    free(esc);
    cp.synced_block = 8;
    assert_int_equal(store_checkpoint_put(s, &cp, &e), 0);
    assert_int_equal(store_commit(s, &e), 0);
    uint64_t cnt;
    assert_int_equal(store_event_count(s, 1, &cnt, &e), 0);
    assert_int_equal(cnt, 8);
    bool found;
    store_block b;
    assert_int_equal(store_block_get(s, 1, 9, &b, &found, &e), 0);
    assert_false(found);
    assert_int_equal(store_block_get(s, 1, 8, &b, &found, &e), 0);
    assert_true(found);
    assert_int_equal(store_block_prune(s, 1, 5, &e), 0);
    assert_int_equal(store_block_get(s, 1, 4, &b, &found, &e), 0);
    assert_false(found);
    store_checkpoint got;
    assert_int_equal(store_checkpoint_get(s, 1, &got, &e), 0);
    assert_true(got.synced);
    assert_int_equal(got.synced_block, 8);
    assert_memory_equal(got.synced_hash, cp.synced_hash, 32);
    /* Rewinding from 0 forgets everything, and the checkpoint can go too. */
    assert_int_equal(store_begin(s, &e), 0);
    assert_int_equal(store_events_rewind(s, 1, 0, &esc, &n, &gone, &e), 0);
    free(esc);
    assert_int_equal(gone, 8);
    assert_int_equal(store_checkpoint_delete(s, 1, &e), 0);
    assert_int_equal(store_commit(s, &e), 0);
    assert_int_equal(store_checkpoint_get(s, 1, &got, &e), 0);
    assert_false(got.synced);
    assert_int_equal(store_block_get(s, 1, 8, &b, &found, &e), 0);
    assert_false(found);
    store_close(&s);
}

static void test_escrow_roundtrip(void **state)
{
    store *s = open_ok();
    add_chain(s, 1, "one");
    err e;
    store_escrow x;
    memset(&x, 0, sizeof x);
    x.chain_id = 1;
    memset(x.address.b, 0xe5, 20);
    memset(x.payer.b, 0x01, 20);
    memset(x.payee.b, 0x02, 20);
    assert_int_equal(u256_from_dec(&x.amount,
                                   "115792089237316195423570985008687907853269984665640564039457"
                                   "584007913129639935",
                                   &e),
                     0);
    x.n_approvers = 3;
    for (int i = 0; i < 3; i++)
        memset(x.approvers[i].b, 0x30 + i, 20);
    x.threshold = 2;
    x.deadline = 1900000000;
    x.state = ESCROW_FUNDED;
    x.funded = x.amount;
    x.n_approvals = 1;
    x.approvals[0].approver = x.approvers[1];
    x.approvals[0].block_number = 12;
    x.approvals[0].pending = true;
    x.created_block = 10;
    x.last_event_block = 12;
    x.n_events = 3;
    x.pending = true;
    assert_int_equal(store_escrow_put(s, &x, &e), 0);
    assert_int_equal(store_escrow_put(s, &x, &e), 0); /* replace, not duplicate */
    store_escrow y;
    bool found;
    assert_int_equal(store_escrow_get(s, 1, &x.address, &y, &found, &e), 0);
    assert_true(found);
    assert_int_equal(u256_cmp(&y.amount, &x.amount), 0);
    assert_int_equal(y.n_approvers, 3);
    assert_memory_equal(y.approvers[2].b, x.approvers[2].b, 20);
    assert_int_equal(y.state, ESCROW_FUNDED);
    assert_int_equal(y.n_approvals, 1);
    assert_true(y.approvals[0].pending);
    assert_true(y.pending);
    assert_int_equal(store_escrow_settle(s, 1, 12, &e), 0);
    assert_int_equal(store_escrow_find(s, &x.address, &y, &found, &e), 0);
    assert_true(found);
    assert_false(y.pending);
    assert_false(y.approvals[0].pending);
    /* the approvals travel in the row, once (65 bytes each) */
    assert_int_equal(query_int("SELECT count(*) FROM escrows"), 1);
    assert_int_equal(query_int("SELECT length(approval_list) FROM escrows"), 65);
    store_escrow *all;
    size_t n;
    assert_int_equal(store_escrow_list(s, 0, &all, &n, &e), 0);
    assert_int_equal(n, 1);
    free(all);
    /* Open exposure: funded or disputed, with a given party on either side. */
    addr parties[2];
    memset(parties[0].b, 0x77, 20);
    parties[1] = x.payee;
    assert_int_equal(store_escrow_list_open(s, parties, 1, &all, &n, &e), 0);
    assert_int_equal(n, 0);
    free(all);
    assert_int_equal(store_escrow_list_open(s, parties, 2, &all, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(all[0].address.b, x.address.b, 20);
    assert_int_equal(all[0].n_approvals, 1);
    free(all);
    store_escrow z = x;
    memset(z.address.b, 0xe6, 20);
    z.state = ESCROW_RELEASED; /* settled: no exposure */
    assert_int_equal(store_escrow_put(s, &z, &e), 0);
    memset(z.address.b, 0xe7, 20);
    z.state = ESCROW_DISPUTED;
    z.payee = parties[0];
    z.payer = x.payee; /* the party on the other side */
    assert_int_equal(store_escrow_put(s, &z, &e), 0);
    assert_int_equal(store_escrow_list_open(s, &parties[1], 1, &all, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(all[0].state + all[1].state, ESCROW_FUNDED + ESCROW_DISPUTED);
    free(all);
    assert_int_equal(store_escrow_delete(s, 1, &z.address, &e), 0);
    memset(z.address.b, 0xe6, 20);
    assert_int_equal(store_escrow_delete(s, 1, &z.address, &e), 0);
    assert_int_equal(store_escrow_delete(s, 1, &x.address, &e), 0);
    assert_int_equal(query_int("SELECT count(*) FROM escrows"), 0);
    store_close(&s);
}

/* The escrow row as text (store_escrow_row_of, what a server's book stores) read back by
 * store_escrow_of_row gives the escrow desk.db's own reader gives for the same row: every
 * field, the pending marks settled by the same final block. */
static void test_escrow_row_text(void **state)
{
    store *s = open_ok();
    add_chain(s, 1, "one");
    err e;
    store_escrow x;
    memset(&x, 0, sizeof x);
    x.chain_id = 1;
    memset(x.address.b, 0xa1, 20);
    memset(x.factory.b, 0xa2, 20);
    memset(x.payer.b, 0x01, 20);
    memset(x.payee.b, 0x02, 20);
    memset(x.token.b, 0x03, 20);
    memset(x.arbiter.b, 0x04, 20);
    memset(x.created_arbiter.b, 0x05, 20);
    assert_int_equal(u256_from_dec(&x.amount, "123456789012345678901234567890", &e), 0);
    x.funded = x.amount;
    assert_int_equal(u256_from_dec(&x.released, "1000", &e), 0);
    assert_int_equal(u256_from_dec(&x.refunded, "7", &e), 0);
    x.n_approvers = 3;
    for (int i = 0; i < 3; i++)
        memset(x.approvers[i].b, 0x30 + i, 20);
    x.threshold = 2;
    x.deadline = 1900000000;
    x.state = ESCROW_RESOLVED;
    x.resolved_to_payee = true;
    x.n_approvals = 2;
    for (int i = 0; i < 2; i++) {
        x.approvals[i].approver = x.approvers[i];
        x.approvals[i].block_number = 10 + 2 * (uint64_t)i; /* 10 final, 12 not */
        memset(x.approvals[i].tx_hash, 0x60 + i, 32);
        x.approvals[i].log_index = 3 + (uint32_t)i;
        x.approvals[i].pending = true;
    }
    x.created_block = 9;
    memset(x.created_tx, 0x99, 32);
    x.last_event_block = 12;
    x.n_events = 6;
    x.pending = true;
    snprintf(x.anomaly, sizeof x.anomaly, "a refund after the release (block 12)");
    x.version = 2;
    x.dispute_window = 86400;
    memset(x.terms_hash, 0x7e, 32);
    x.inconsistent = true;
    assert_int_equal(store_escrow_put(s, &x, &e), 0);
    store_checkpoint cp = {.chain_id = 1, .synced = true, .synced_block = 12, .final_block = 11,
                           .head_block = 12, .updated_at = 1};
    assert_int_equal(store_checkpoint_put(s, &cp, &e), 0);
    store_escrow want, got;
    bool found = false;
    assert_int_equal(store_escrow_get(s, 1, &x.address, &want, &found, &e), 0);
    assert_true(found);
    store_escrow_row r;
    store_escrow_row_of(&x, &r);
    assert_int_equal(store_escrow_of_row(r.v, r.approvals_len, true, 11, &got, &e), 0);
    assert_memory_equal(&got, &want, sizeof got);
    assert_false(got.approvals[0].pending); /* settled by the final block */
    assert_true(got.approvals[1].pending);
    /* version 1, no anomaly, no approvals: the NULL columns */
    x.version = 1;
    x.anomaly[0] = '\0';
    x.n_approvals = 0;
    x.state = ESCROW_FUNDED;
    x.resolved_to_payee = false;
    memset(x.terms_hash, 0, 32);
    x.dispute_window = 0;
    assert_int_equal(store_escrow_put(s, &x, &e), 0);
    assert_int_equal(store_escrow_get(s, 1, &x.address, &want, &found, &e), 0);
    store_escrow_row_of(&x, &r);
    assert_int_equal(store_escrow_of_row(r.v, r.approvals_len, true, 11, &got, &e), 0);
    assert_memory_equal(&got, &want, sizeof got);
    /* a malformed row: refused, one line */
    r.v[3] = "0x12";
    assert_int_equal(store_escrow_of_row(r.v, r.approvals_len, true, 11, &got, &e), -1);
    assert_non_null(strstr(e.msg, "malformed escrow row"));
    store_close(&s);
}

/* What the Approvals screen showed before the store paged it: funded, the operator among
 * the approvers, not among the approvals, the threshold not reached (the oracle). */
static bool oracle_awaits(const store_escrow *x, const addr *op)
{
    if (x->state != ESCROW_FUNDED || x->n_approvals >= x->threshold)
        return false;
    bool listed = false;
    for (unsigned i = 0; i < x->n_approvers; i++)
        listed |= addr_equal(&x->approvers[i], op);
    for (unsigned i = 0; i < x->n_approvals; i++)
        if (addr_equal(&x->approvals[i].approver, op))
            return false;
    return listed;
}

/* Many escrows on two chains, every way of (not) waiting for the operator: the pages of
 * store_escrow_awaiting, read through with a small page, are exactly the oracle's rows in
 * store_escrow_list's order, and the count agrees. */
static void test_escrow_awaiting_pages(void **state)
{
    store *s = open_ok();
    add_chain(s, 1, "one");
    add_chain(s, 5, "five");
    err e;
    addr op, other[3];
    memset(op.b, 0x42, 20);
    for (int i = 0; i < 3; i++)
        memset(other[i].b, 0x50 + i, 20);
    uint32_t seed = 12345;
    assert_int_equal(store_begin(s, &e), 0);
    for (unsigned i = 0; i < 1500; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 8;
        store_escrow x;
        memset(&x, 0, sizeof x);
        x.chain_id = r % 3 == 0 ? 5 : 1;
        x.address.b[0] = (uint8_t)(i >> 8);
        x.address.b[1] = (uint8_t)i;
        x.address.b[19] = 0xee;
        memset(x.payer.b, 0x01, 20);
        memset(x.payee.b, 0x02, 20);
        x.amount = u256_from_u64(1000 + i);
        x.state = (r >> 2) % 4 == 0 ? ESCROW_CREATED : (r >> 2) % 4 == 1 ? ESCROW_RELEASED
                                                                          : ESCROW_FUNDED;
        /* the operator first, last, or not among the approvers */
        x.n_approvers = 3;
        x.approvers[0] = other[0];
        x.approvers[1] = other[1];
        x.approvers[2] = other[2];
        if ((r >> 4) % 3 == 0)
            x.approvers[0] = op;
        else if ((r >> 4) % 3 == 1)
            x.approvers[2] = op;
        x.threshold = 1 + (r >> 6) % 3;
        /* approvals: none, another approver's, or the operator's own */
        unsigned k = (r >> 8) % 3;
        if (k == 1) {
            x.n_approvals = 1;
            x.approvals[0].approver = other[1];
        } else if (k == 2) {
            x.n_approvals = 1;
            x.approvals[0].approver = op;
        }
        x.deadline = 1900000000;
        x.created_block = 100 + (r >> 10) % 50; /* ties: the address orders them */
        x.last_event_block = x.created_block;
        x.n_events = 1;
        assert_int_equal(store_escrow_put(s, &x, &e), 0);
    }
    assert_int_equal(store_commit(s, &e), 0);
    store_escrow *all = NULL;
    size_t n_all = 0;
    assert_int_equal(store_escrow_list(s, 0, &all, &n_all, &e), 0);
    assert_int_equal(n_all, 1500);
    size_t want = 0;
    for (size_t i = 0; i < n_all; i++)
        want += oracle_awaits(&all[i], &op);
    assert_true(want > 50 && want < 1000); /* both kinds are present */
    size_t count = 0;
    assert_int_equal(store_escrow_awaiting_count(s, &op, &count, &e), 0);
    assert_int_equal(count, want);
    /* page through: every page full but the last, the rows in the oracle's order */
    size_t at = 0, got = 0, pages = 0;
    store_escrow_cursor cur;
    bool have_cur = false;
    for (;;) {
        store_escrow *page = NULL;
        size_t n = 0;
        assert_int_equal(store_escrow_awaiting(s, &op, have_cur ? &cur : NULL, 37, &page, &n, &e),
                         0);
        assert_true(n <= 37);
        for (size_t i = 0; i < n; i++) {
            while (at < n_all && !oracle_awaits(&all[at], &op))
                at++;
            assert_true(at < n_all);
            assert_int_equal(page[i].chain_id, all[at].chain_id);
            assert_memory_equal(page[i].address.b, all[at].address.b, 20);
            at++;
            got++;
        }
        if (n)
            store_escrow_cursor_of(&cur, &page[n - 1]);
        have_cur = n > 0;
        free(page);
        pages++;
        if (n < 37)
            break;
    }
    assert_int_equal(got, want);
    assert_int_equal(pages, want / 37 + 1);
    /* another approver sees other rows; an address nobody named sees none */
    addr nobody;
    memset(nobody.b, 0x99, 20);
    assert_int_equal(store_escrow_awaiting_count(s, &nobody, &count, &e), 0);
    assert_int_equal(count, 0);
    free(all);
    store_close(&s);
}

/* The search index is keyed by the escrows' rowid, which SQLite's documentation allows a
 * VACUUM to renumber (3.40 keeps them); store_escrow_search_rebuild (`fusion reindex`) puts
 * an index out of step with the table, whatever did it, back in step. */
static void test_escrow_search_rebuild(void **state)
{
    store *s = open_ok();
    add_chain(s, 1, "one");
    err e;
    for (int i = 0; i < 30; i++) {
        store_escrow x;
        memset(&x, 0, sizeof x);
        x.chain_id = 1;
        memset(x.address.b, 0x40 + i, 20);
        memset(x.payer.b, 0x01, 20);
        memset(x.payee.b, 0x02, 20);
        x.threshold = 1;
        x.state = ESCROW_CREATED;
        assert_int_equal(store_escrow_put(s, &x, &e), 0);
    }
    for (int i = 0; i < 10; i++) {
        addr a;
        memset(a.b, 0x40 + i, 20);
        assert_int_equal(store_escrow_delete(s, 1, &a, &e), 0);
    }
    static const char stale[] = "SELECT count(*) FROM escrow_search q LEFT JOIN escrows x"
                                " ON x.rowid = q.rowid WHERE x.address IS NOT q.address";
    assert_int_equal(query_int(stale), 0);
    store_close(&s);
    sqlite3 *db; /* out of step: rows keyed by other rowids, a wrong total */
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE escrow_search SET rowid = rowid + 1000 WHERE rowid % 2 = 0;"
                                  "UPDATE escrow_totals SET n = 7",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_true(query_int(stale) > 0);
    s = open_ok();
    assert_int_equal(store_escrow_search_rebuild(s, &e), 0);
    store_close(&s);
    assert_int_equal(query_int(stale), 0);
    assert_int_equal(query_int("SELECT count(*) FROM escrow_search"), 20);
    assert_int_equal(query_int("SELECT n FROM escrow_totals"), 20);
}

/* A batch of new escrows (store_escrow_batch_begin/end, a catch-up's first ranges) indexes
 * them in one statement at its end: after a commit the index and the total match the table
 * exactly (new rows and rows updated in the batch alike), and a rollback in the middle
 * leaves the insert trigger in place, so later single puts are indexed again. */
static void put_escrow(store *s, int i, escrow_state st)
{
    store_escrow x;
    memset(&x, 0, sizeof x);
    x.chain_id = 1;
    memset(x.address.b, 0x10 + i, 20);
    memset(x.payer.b, 0x01, 20);
    memset(x.payee.b, 0x02, 20);
    x.threshold = 1;
    x.state = st;
    err e;
    assert_int_equal(store_escrow_put(s, &x, &e), 0);
}

/* Bytes of a file (0 when absent). */
static long file_size(const char *suffix)
{
    char path[400];
    snprintf(path, sizeof path, "%s%s", dbpath, suffix);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* A bulk catch-up on one connection holds back the copying of the write-ahead log for
 * every connection of the process (the screener's commits during a catch-up copied the
 * catch-up's pages early, and again); its end copies it. Commits stay durable. */
static void test_bulk_all_connections(void **state)
{
    static const char bulk_rows[] = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
                                    " FROM n WHERE i < 250)"
                                    " INSERT INTO bulk_t SELECT randomblob(4000) FROM n";
    store *a = open_ok(), *b = open_ok();
    err e;
    assert_int_equal(sqlite3_exec(b->db, "CREATE TABLE bulk_t (v BLOB)", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(store_bulk(a, true, &e), 0);
    long db0 = file_size("");
    for (int i = 0; i < 12; i++) { /* 12 commits of ~1 MB on the other connection */
        assert_int_equal(store_begin(b, &e), 0);
        assert_int_equal(sqlite3_exec(b->db, bulk_rows, NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(store_commit(b, &e), 0);
    }
    assert_true(file_size("-wal") > 1000L * 4096); /* past the automatic checkpoint */
    assert_int_equal(file_size(""), db0);          /* nothing copied meanwhile */
    assert_int_equal(query_int("SELECT count(*) FROM bulk_t"), 3000);
    assert_int_equal(store_bulk(a, false, &e), 0);
    assert_true(file_size("") > db0 + 10L * 1000 * 1000); /* copied at the end */
    /* Afterwards the other connection checkpoints on its own again. */
    long db1 = file_size("");
    for (int i = 0; i < 6; i++) {
        assert_int_equal(store_begin(b, &e), 0);
        assert_int_equal(sqlite3_exec(b->db, bulk_rows, NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(store_commit(b, &e), 0);
    }
    assert_true(file_size("") > db1);
    store_close(&a);
    store_close(&b);
}

/* Another thread of the process writing in short transactions back to back (the
 * screener's batches during a catch-up): SQLite's busy wait sleeps up to 100 ms between
 * tries and missed the moments between them, so a chain commit waited for the whole run. */
typedef struct busy_writer {
    atomic_int done, started;
} busy_writer;

static void *busy_writer_main(void *arg)
{
    busy_writer *w = arg;
    store *s = open_ok();
    err e;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(store_begin(s, &e), 0);
        assert_int_equal(
            sqlite3_exec(s->db, "INSERT INTO bulk_t VALUES (randomblob(100))", NULL, NULL, NULL),
            SQLITE_OK);
        atomic_store(&w->started, 1);
        struct timespec ts = {0, 3 * 1000 * 1000}; /* holds the lock for 3 ms */
        nanosleep(&ts, NULL);
        assert_int_equal(store_commit(s, &e), 0);
        atomic_fetch_add(&w->done, 1);
    }
    store_close(&s);
    return NULL;
}

static void test_begin_first(void **state)
{
    store *s = open_ok();
    err e;
    assert_int_equal(sqlite3_exec(s->db, "CREATE TABLE bulk_t (v BLOB)", NULL, NULL, NULL),
                     SQLITE_OK);
    busy_writer w;
    memset(&w, 0, sizeof w);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, busy_writer_main, &w), 0);
    while (!atomic_load(&w.started))
        sched_yield();
    int before = atomic_load(&w.done);
    assert_int_equal(store_begin_first(s, &e), 0);
    int at = atomic_load(&w.done);
    assert_int_equal(sqlite3_exec(s->db, "INSERT INTO bulk_t VALUES (x'01')", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(store_commit(s, &e), 0);
    pthread_join(t, NULL);
    /* it had the lock after the transaction under way (and at most one more begun before
     * it asked), not after the other thread's 200 */
    assert_true(at - before <= 2);
    assert_int_equal(query_int("SELECT count(*) FROM bulk_t"), 201);
    store_close(&s);
}

/* Every escrow by row id in store_escrow_list's order (the screening pass), one row at a
 * time; a row deleted meanwhile is not found. */
static void test_escrow_rowids(void **state)
{
    store *s = open_ok();
    add_chain(s, 1, "one");
    err e;
    for (int i = 9; i >= 0; i--) { /* inserted out of order: blocks 9 .. 0 */
        store_escrow x;
        memset(&x, 0, sizeof x);
        x.chain_id = 1;
        memset(x.address.b, 0x30 + (i % 3), 20);
        x.address.b[19] = (uint8_t)i;
        x.created_block = (uint64_t)(i / 2);
        x.threshold = 1;
        x.state = ESCROW_CREATED;
        assert_int_equal(store_escrow_put(s, &x, &e), 0);
    }
    store_escrow *xs = NULL;
    size_t n = 0, nid = 0;
    int64_t *ids = NULL;
    assert_int_equal(store_escrow_list(s, 0, &xs, &n, &e), 0);
    assert_int_equal(store_escrow_rowids(s, &ids, &nid, &e), 0);
    assert_int_equal(n, 10);
    assert_int_equal(nid, 10);
    for (size_t i = 0; i < n; i++) {
        store_escrow x;
        bool found = false;
        assert_int_equal(store_escrow_get_rowid(s, ids[i], &x, &found, &e), 0);
        assert_true(found);
        assert_memory_equal(x.address.b, xs[i].address.b, 20);
        assert_int_equal(x.created_block, xs[i].created_block);
    }
    assert_int_equal(store_escrow_delete(s, 1, &xs[3].address, &e), 0);
    store_escrow x;
    bool found = true;
    assert_int_equal(store_escrow_get_rowid(s, ids[3], &x, &found, &e), 0);
    assert_false(found);
    free(xs);
    free(ids);
    store_close(&s);
}

static void test_escrow_batch(void **state)
{
    static const char stale[] = "SELECT count(*) FROM escrows x LEFT JOIN escrow_search q"
                                " ON x.rowid = q.rowid WHERE x.address IS NOT q.address"
                                " OR x.state IS NOT q.state";
    static const char trigger[] = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                                  " AND name = 'escrows_search_i'";
    store *s = open_ok();
    add_chain(s, 1, "one");
    err e;
    for (int i = 0; i < 5; i++) /* known before the batch */
        put_escrow(s, i, ESCROW_CREATED);
    store_escrow_batch b;
    assert_int_equal(store_begin(s, &e), 0);
    assert_int_equal(store_escrow_batch_begin(s, &b, &e), 0);
    for (int i = 0; i < 40; i++) /* five updated (state moves), 35 new */
        put_escrow(s, i, ESCROW_FUNDED);
    assert_int_equal(store_escrow_batch_end(s, &b, &e), 0);
    store_escrow_batch_free(&b);
    assert_int_equal(store_commit(s, &e), 0);
    assert_int_equal(query_int(stale), 0);
    assert_int_equal(query_int("SELECT count(*) FROM escrow_search"), 40);
    assert_int_equal(query_int("SELECT n FROM escrow_totals"), 40);
    assert_int_equal(query_int(trigger), 1);

    /* Rolled back in the middle: rows, index, total and trigger as they were. */
    assert_int_equal(store_begin(s, &e), 0);
    assert_int_equal(store_escrow_batch_begin(s, &b, &e), 0);
    for (int i = 40; i < 60; i++)
        put_escrow(s, i, ESCROW_CREATED);
    store_escrow_batch_free(&b);
    store_rollback(s);
    assert_int_equal(query_int(trigger), 1);
    assert_int_equal(query_int("SELECT count(*) FROM escrows"), 40);
    put_escrow(s, 60, ESCROW_CREATED); /* the trigger indexes single puts again */
    store_close(&s);
    assert_int_equal(query_int(stale), 0);
    assert_int_equal(query_int("SELECT count(*) FROM escrow_search"), 41);
    assert_int_equal(query_int("SELECT n FROM escrow_totals"), 41);
}

static void test_outbound_flags(void **state)
{
    store *s = open_ok();
    add_chain(s, 1, "one");
    err e;
    store_outbound o;
    memset(&o, 0, sizeof o);
    o.chain_id = 1;
    o.state = OUTBOUND_SENT;
    o.has_escrow = true;
    memset(o.escrow.b, 0xe1, 20);
    snprintf(o.action, sizeof o.action, "approve");
    static const uint8_t raw[] = {0x02, 0xf8};
    o.raw = raw;
    o.raw_len = sizeof raw;
    memset(o.hash, 1, 32);
    int64_t id1, id2, id3;
    assert_int_equal(store_begin_durable(s, &e), 0);
    assert_int_equal(store_outbound_add(s, &o, &id1, &e), 0);
    memset(o.hash, 2, 32);
    memset(o.escrow.b, 0xe2, 20);
    assert_int_equal(store_outbound_add(s, &o, &id2, &e), 0);
    memset(o.hash, 3, 32);
    o.has_escrow = false;
    assert_int_equal(store_outbound_add(s, &o, &id3, &e), 0);
    assert_int_equal(store_commit(s, &e), 0);
    assert_int_equal(store_outbound_set_state(s, id3, OUTBOUND_MINED, 20, 5, &e), 0);
    addr esc;
    memset(esc.b, 0xe1, 20);
    size_t flagged;
    assert_int_equal(store_outbound_flag_reorged(s, 1, 15, &esc, 1, &flagged, &e), 0);
    assert_int_equal(flagged, 2); /* id1 by escrow, id3 mined above the fork */
    store_outbound *l;
    size_t n;
    assert_int_equal(store_outbound_list(s, 1, &l, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_true(l[0].reorged);  /* id3 (newest first) */
    assert_false(l[1].reorged); /* id2 */
    assert_true(l[2].reorged);  /* id1 */
    assert_int_equal(l[0].mined_block, 20);
    free(l);
    store_close(&s);
}

static void test_data_version(void **state)
{
    store *a = open_ok();
    store *b = open_ok();
    err e;
    uint64_t v1, v2, v3;
    assert_int_equal(store_data_version(a, &v1, &e), 0);
    assert_int_equal(store_data_version(a, &v2, &e), 0);
    assert_true(v1 == v2);
    add_chain(b, 3, "three");
    assert_int_equal(store_data_version(a, &v3, &e), 0);
    assert_true(v3 != v2);
    store_close(&a);
    store_close(&b);
}

/* The copy of a feed kept elsewhere: its rows and its cursor are one transaction, and a
 * start over empties the feed so that its horizon is the last id handed out. */
static void test_feed_follow(void **state)
{
    (void)state;
    store *s = open_ok();
    err e;
    err_clear(&e);
    char book[STORE_FEED_BOOK_MAX];
    int64_t cursor = -1, last = 0, horizon = 0;
    bool found = true;
    assert_int_equal(store_feed_follow_get(s, book, sizeof book, &cursor, &found, &e), 0);
    assert_false(found);
    assert_int_equal(cursor, 0);
    store_feed_row rows[2] = {{.kind = "escrow.created", .chain_id = 1, .ref = "0xa", .at = 5},
                              {.kind = "escrow.state", .chain_id = 1, .ref = "0xa",
                               .state = "funded", .at = 6}};
    assert_int_equal(store_feed_append(s, rows, 2, "sys/1/desk", 41, &e), 0);
    assert_int_equal(store_feed_follow_get(s, book, sizeof book, &cursor, &found, &e), 0);
    assert_true(found);
    assert_string_equal(book, "sys/1/desk");
    assert_int_equal(cursor, 41);
    assert_int_equal(store_feed_last(s, &last, &e), 0);
    assert_int_equal(last, 2);
    /* a cursor that would not hold: the rows are not appended either */
    assert_int_not_equal(store_feed_append(s, rows, 2, "sys/1/desk", -1, &e), 0);
    assert_int_equal(store_feed_last(s, &last, &e), 0);
    assert_int_equal(last, 2);
    assert_int_equal(store_feed_follow_get(s, book, sizeof book, &cursor, &found, &e), 0);
    assert_int_equal(cursor, 41);
    /* another book: the copy starts over, the feed is emptied, its horizon past every id
     * handed out before */
    assert_int_equal(store_feed_follow_set(s, "sys/2/desk", 7, true, &e), 0);
    assert_int_equal(store_feed_follow_get(s, book, sizeof book, &cursor, &found, &e), 0);
    assert_string_equal(book, "sys/2/desk");
    assert_int_equal(cursor, 7);
    assert_int_equal(store_feed_last(s, &last, &e), 0);
    assert_int_equal(last, 0);
    assert_int_equal(store_feed_horizon(s, &horizon, &e), 0);
    assert_int_equal(horizon, 3);
    store_close(&s);
}

/* Text longer than its field is cut before the character the cut would split: a symbol of
 * 14 ASCII bytes and a 2-, 3- or 4-byte character across byte 15 reads back as the 14
 * bytes, never with a lone lead byte (a stored row an older binary or a chain left). */
static void test_text_cut_at_character(void **state)
{
    (void)state;
    store *s = open_ok();
    add_chain(s, 31337, "devnet");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    static const char *const syms[] = {"ABCDEFGHIJKLMN\xc3\xa9", "ABCDEFGHIJKLMN\xe2\x82\xac",
                                       "ABCDEFGHIJKLMN\xf0\x9f\x92\xb0", "ABCDEFGHIJKLM\xc3\xa9Z"};
    static const char *const want[] = {"ABCDEFGHIJKLMN", "ABCDEFGHIJKLMN", "ABCDEFGHIJKLMN",
                                       "ABCDEFGHIJKLM\xc3\xa9"};
    for (int k = 0; k < 4; k++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "INSERT INTO tokens (chain_id, symbol, address, decimals) VALUES "
                 "(31337, '%s', '0x%040d', 6)",
                 syms[k], k + 1);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_close(db);
    store_token *t = NULL;
    size_t n = 0;
    err e;
    assert_int_equal(store_token_list(s, 31337, &t, &n, &e), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        int k = t[i].address.b[19] - 1; /* the address's last byte: 1..4 */
        assert_true(k >= 0 && k < 4);
        assert_string_equal(t[i].symbol, want[k]);
    }
    free(t);
    store_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_cut_at_character, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_then_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_key_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_screened_identity_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escrow_v2_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_blob_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_desk_upgrade, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_checks_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_checks_broken_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_step_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewind_and_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escrow_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escrow_row_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escrow_search_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escrow_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escrow_rowids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_all_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_put_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_paths_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inflow_marks_book_migration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escrow_awaiting_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbound_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_follow, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
