/* test_snapshot.c: the escrow view the Escrows screen pages through (src/desk/snapshot.c).
 * A real desk database in a temp dir with 1,200 escrows written by store_escrow_put (the
 * view reads filters with few matches through the trigram index and sorts them, and walks
 * an order's index testing each row for filters with many: both plans run here); for
 * every order and filters of each kind, the
 * rows the view returns under several access patterns (forward, backward, jumps, both
 * ends: keyset and OFFSET paths) must equal the list a plain un-paged query gives (ORDER BY
 * over the whole table, filter by instr() over lower()), and the count must equal that
 * list's length: the blocking count, the at-once size and the background count. The stored
 * total and the search index are kept by triggers: they must follow upserts, deletes and
 * token renames. */
/* cmocka.h needs the headers before it: keep this order. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
/* clang-format on */

#include <sqlite3.h>

#include "desk/snapshot.h"
#include "store/store.h"

#define N 1200

static char home[256];
static char person[8]; /* six hex digits of one payer/payee: a filter with a few matches */
static desk_snap *snap;

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void rnd_addr(addr *a)
{
    for (int i = 0; i < ADDR_LEN; i++)
        a->b[i] = (uint8_t)rnd();
}

static int setup(void **state)
{
    snprintf(home, sizeof home, "/tmp/fusion-test-snapshot-XXXXXX");
    assert_non_null(mkdtemp(home));
    char path[300];
    snprintf(path, sizeof path, "%s/desk.db", home);
    store *st = NULL;
    err e;
    assert_int_equal(store_open(&st, path, &e), 0);
    store_chain c = {.chain_id = 31337, .confirmations = 2, .native_decimals = 18};
    snprintf(c.name, sizeof c.name, "local");
    snprintf(c.native_symbol, sizeof c.native_symbol, "ETH");
    assert_int_equal(store_begin(st, &e), 0);
    assert_int_equal(store_chain_add(st, &c, &e), 0);
    store_token tusd = {.chain_id = 31337, .decimals = 6};
    snprintf(tusd.symbol, sizeof tusd.symbol, "TUSD");
    rnd_addr(&tusd.address);
    assert_int_equal(store_token_put(st, &tusd, &e), 0);
    addr people[15];
    for (int i = 0; i < 15; i++)
        rnd_addr(&people[i]);
    char hex[ADDR_STR_MAX];
    addr_to_lower(hex, &people[0]);
    snprintf(person, sizeof person, "%.6s", hex + 10);
    for (int i = 0; i < N; i++) {
        store_escrow x;
        memset(&x, 0, sizeof x);
        x.chain_id = 31337;
        rnd_addr(&x.address);
        x.payer = people[rnd() % 15];
        x.payee = people[rnd() % 15];
        x.arbiter = people[rnd() % 15];
        if (i % 3 == 0)
            x.token = tusd.address;
        x.amount = u256_from_u64(rnd() % 1000); /* many ties: rowid must break them */
        x.threshold = 2;
        x.state = (escrow_state)(rnd() % 6);
        x.created_block = (uint64_t)i;
        x.last_event_block = (uint64_t)(i + rnd() % 7);
        x.n_events = 1;
        assert_int_equal(store_escrow_put(st, &x, &e), 0);
    }
    assert_int_equal(store_commit(st, &e), 0);
    store_close(&st);
    assert_int_equal(desk_snap_open(&snap, home, &e), 0);
    return 0;
}

static int teardown(void **state)
{
    desk_snap_free(&snap);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    return system(cmd) == 0 ? 0 : -1;
}

/* The reference: the whole ordered (and filtered) list of addresses, no paging. */
static char **reference(const char *order_by, const char *needle, size_t *n)
{
    char path[300], sql[1024];
    snprintf(path, sizeof path, "%s/desk.db", home);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql,
             "SELECT e.address FROM escrows e JOIN chains c USING (chain_id)"
             " LEFT JOIN tokens t ON t.chain_id = e.chain_id AND t.address = e.token"
             "%s ORDER BY %s",
             needle ? " WHERE instr(e.address, lower(?1)) OR instr(e.payer, lower(?1))"
                      " OR instr(e.payee, lower(?1)) OR instr(e.state, lower(?1))"
                      " OR instr(lower(c.name), lower(?1))"
                      " OR instr(lower(COALESCE(t.symbol, CASE WHEN e.token = "
                      "'0x0000000000000000000000000000000000000000' THEN c.native_symbol END)),"
                      " lower(?1))"
                    : "",
             order_by);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (needle)
        sqlite3_bind_text(st, 1, needle, -1, SQLITE_STATIC);
    char **out = calloc(N, sizeof *out);
    assert_non_null(out);
    *n = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        out[(*n)++] = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static void check_row(desk_escrow_view *v, char **ref, size_t i)
{
    const desk_escrow_row *r = NULL;
    err e;
    assert_int_equal(desk_escrow_view_row(v, i, &r, &e), 0);
    char a[ADDR_STR_MAX];
    addr_to_lower(a, &r->address);
    if (strcmp(a, ref[i]) != 0)
        fail_msg("row %zu: view has %s, the plain query %s", i, a, ref[i]);
}

/* Starts the background count and polls (bounded: 3,000 x 5 ms) until the size is exact. */
static size_t wait_counted(desk_escrow_view *v)
{
    err e;
    bool arrived = false, exact = false;
    size_t n = 0;
    for (int k = 0; k < 3000; k++) {
        assert_int_equal(desk_escrow_view_count_async(v, &arrived, true, &e), 0);
        assert_int_equal(desk_escrow_view_size(v, &n, &exact, &e), 0);
        if (exact)
            return n;
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    fail_msg("the background count did not arrive");
    return 0;
}

static void check_order(desk_escrow_sort sort, bool desc, const char *order_by, const char *filter,
                        const char *needle)
{
    size_t n_ref = 0;
    char **ref = reference(order_by, needle, &n_ref);
    desk_escrow_view *v = NULL;
    err e;
    assert_int_equal(desk_escrow_view_new(&v, snap, &e), 0);
    desk_escrow_view_set(v, filter, sort, desc);
    /* What a screen sees at once: exact, or a lower bound below the real count. */
    size_t n = 0;
    bool exact = false;
    assert_int_equal(desk_escrow_view_size(v, &n, &exact, &e), 0);
    if (exact)
        assert_int_equal(n, n_ref);
    else
        assert_true(n > 0 && n < n_ref);
    /* The background count arrives and is the real one. */
    assert_int_equal(wait_counted(v), n_ref);
    desk_escrow_view_invalidate(v);
    assert_int_equal(desk_escrow_view_count(v, &n, &e), 0);
    assert_int_equal(n, n_ref);
    desk_escrow_view_invalidate(v); /* the rows again from a lower bound */
    for (size_t i = 0; i < n; i++) /* forward: keyset after the window */
        check_row(v, ref, i);
    assert_int_equal(desk_escrow_view_size(v, &n, &exact, &e), 0);
    assert_true(exact); /* read to the end: the size is known */
    assert_int_equal(n, n_ref);
    for (size_t i = n; i-- > 0;) /* backward: keyset before the window */
        check_row(v, ref, i);
    desk_escrow_view_invalidate(v);
    for (size_t k = 0; k < 100 && n > 0; k++) /* jumps: OFFSET from either end */
        check_row(v, ref, (size_t)(rnd() % n));
    if (n > 0) {
        check_row(v, ref, n - 1);
        check_row(v, ref, 0);
    }
    const desk_escrow_row *r = NULL;
    assert_int_equal(desk_escrow_view_row(v, n, &r, &e), -1);
    desk_escrow_view_free(&v);
    assert_null(v);
    for (size_t i = 0; i < n_ref; i++)
        free(ref[i]);
    free(ref);
}

static void test_orders(void **state)
{
    check_order(DESK_ESCROW_SORT_RECENT, true, "e.rowid DESC", "", NULL);
    check_order(DESK_ESCROW_SORT_RECENT, false, "e.rowid ASC", "", NULL);
    check_order(DESK_ESCROW_SORT_ADDRESS, false, "e.address, e.rowid", "", NULL);
    check_order(DESK_ESCROW_SORT_PAYEE, false, "e.payee, e.rowid", "", NULL);
    check_order(DESK_ESCROW_SORT_AMOUNT, false, "CAST(e.amount AS INTEGER), e.rowid", "", NULL);
    check_order(DESK_ESCROW_SORT_STATE, true, "e.state DESC, e.rowid DESC", "", NULL);
    check_order(DESK_ESCROW_SORT_BLOCK, true, "e.last_event_block DESC, e.rowid DESC", "", NULL);
}

static void test_filter(void **state)
{
    check_order(DESK_ESCROW_SORT_RECENT, true, "e.rowid DESC", "funded", "funded");
    check_order(DESK_ESCROW_SORT_AMOUNT, false, "CAST(e.amount AS INTEGER), e.rowid", "ab", "ab");
    check_order(DESK_ESCROW_SORT_RECENT, true, "e.rowid DESC", "no such text", "no such text");
    /* LIKE wildcards in the filter are literal text. */
    check_order(DESK_ESCROW_SORT_RECENT, true, "e.rowid DESC", "%", "%");
    /* Three characters or more: the trigram index, most recent first and (few matches)
     * sorted; many matches in an order's index: walk and test. Chain and asset too. */
    check_order(DESK_ESCROW_SORT_RECENT, true, "e.rowid DESC", "Fund", "fund");
    check_order(DESK_ESCROW_SORT_RECENT, false, "e.rowid ASC", "0xa", "0xa");
    check_order(DESK_ESCROW_SORT_ADDRESS, false, "e.address, e.rowid", "ded", "ded");
    check_order(DESK_ESCROW_SORT_ADDRESS, false, "e.address, e.rowid", "loc", "loc");
    check_order(DESK_ESCROW_SORT_ADDRESS, false, "e.address, e.rowid", "abc", "abc");
    check_order(DESK_ESCROW_SORT_ADDRESS, false, "e.address, e.rowid", person, person);
    check_order(DESK_ESCROW_SORT_ADDRESS, true, "e.address DESC, e.rowid DESC", person, person);
    check_order(DESK_ESCROW_SORT_ADDRESS, true, "e.address DESC, e.rowid DESC", "ETH", "eth");
    check_order(DESK_ESCROW_SORT_RECENT, true, "e.rowid DESC", "ETH", "eth");
    check_order(DESK_ESCROW_SORT_PAYEE, false, "e.payee, e.rowid", "a\"b", "a\"b");
    check_order(DESK_ESCROW_SORT_BLOCK, true, "e.last_event_block DESC, e.rowid DESC", "ase",
                "ase");
}

/* A background count cancelled by a new filter (or by freeing the view) must neither hang
 * nor leak into the next filter's count. */
static void test_count_cancel(void **state)
{
    size_t n_ref = 0;
    char **ref = reference("e.rowid", "ed", &n_ref);
    for (size_t i = 0; i < n_ref; i++)
        free(ref[i]);
    free(ref);
    err e;
    for (int round = 0; round < 20; round++) {
        desk_escrow_view *v = NULL;
        assert_int_equal(desk_escrow_view_new(&v, snap, &e), 0);
        desk_escrow_view_set(v, "e", DESK_ESCROW_SORT_RECENT, true);
        bool arrived = false, exact = false;
        size_t n = 0;
        assert_int_equal(desk_escrow_view_size(v, &n, &exact, &e), 0);
        assert_int_equal(desk_escrow_view_count_async(v, &arrived, true, &e), 0);
        if (round % 2) { /* freed while counting */
            desk_escrow_view_free(&v);
            continue;
        }
        desk_escrow_view_set(v, "ed", DESK_ESCROW_SORT_RECENT, true);
        assert_int_equal(wait_counted(v), n_ref);
        desk_escrow_view_free(&v);
    }
}

/* Writes through the store (as sync does) and checks the view against the plain query. */
static void test_maintained(void **state)
{
    char path[300];
    snprintf(path, sizeof path, "%s/desk.db", home);
    store *st = NULL;
    err e;
    assert_int_equal(store_open(&st, path, &e), 0);
    store_escrow *xs = NULL;
    size_t nx = 0;
    assert_int_equal(store_escrow_list(st, 31337, &xs, &nx, &e), 0);
    assert_int_equal(nx, N);
    assert_int_equal(store_begin(st, &e), 0);
    for (size_t i = 0; i < 300; i++) { /* upserts that change the searched state */
        xs[i].state = ESCROW_DISPUTED;
        assert_int_equal(store_escrow_put(st, &xs[i], &e), 0);
    }
    for (size_t i = 300; i < 320; i++) /* and some deletes */
        assert_int_equal(store_escrow_delete(st, 31337, &xs[i].address, &e), 0);
    for (size_t i = 320; i < 340; i++) { /* a token the escrows held before it was known */
        memset(&xs[i].token, 0x42, sizeof xs[i].token);
        assert_int_equal(store_escrow_put(st, &xs[i], &e), 0);
    }
    store_token tk = {.chain_id = 31337, .decimals = 6};
    snprintf(tk.symbol, sizeof tk.symbol, "QWZ");
    memset(&tk.address, 0x42, sizeof tk.address);
    assert_int_equal(store_token_put(st, &tk, &e), 0);
    assert_int_equal(store_commit(st, &e), 0);
    store_close(&st);
    free(xs);
    bool changed;
    assert_int_equal(desk_snap_poll(snap, &changed, &e), 0);
    check_order(DESK_ESCROW_SORT_RECENT, true, "e.rowid DESC", "", NULL);
    check_order(DESK_ESCROW_SORT_RECENT, true, "e.rowid DESC", "disputed", "disputed");
    check_order(DESK_ESCROW_SORT_ADDRESS, false, "e.address, e.rowid", "qwz", "qwz");
    check_order(DESK_ESCROW_SORT_RECENT, true, "e.rowid DESC", "ETH", "eth");
}

static void test_chain_rows(void **state)
{
    desk_chain_row *rows = NULL;
    size_t n = 0;
    err e;
    assert_int_equal(desk_chain_rows(snap, &rows, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].name, "local");
    assert_false(rows[0].synced_any);
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orders),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_count_cancel),
        cmocka_unit_test(test_maintained),
        cmocka_unit_test(test_chain_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
