/* test_bookwork.c: the reader of a server-book screen (ui/bookwork.c), with the loop's side
 * played by the main thread as the UI loop plays it: it waits on the notification
 * descriptor, then takes. A read runs on the reader's own store of the desk's desk.db and
 * its result is taken whole; a failed read parks its error's text and no result (what it
 * made freed); a result nobody took is freed when the next replaces it, and by the stop; a
 * book.conf the desk refuses parks its one line on every ask, the read never run. Run
 * under ThreadSanitizer too (suite "threads"). */
/* cmocka.h needs the headers before it: keep this order. */
/* clang-format off */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bookwork.h"
#include "notify.h"

static char home[64];
static int reads, freed; /* __atomic: the reader's thread counts, the loop reads */

typedef struct result {
    int nth;          /* which read made it */
    size_t n_chains;  /* what the read saw in desk.db */
} result;

static void result_free(void *r)
{
    __atomic_add_fetch(&freed, 1, __ATOMIC_SEQ_CST);
    free(r);
}

static int read_ok(store *s, void *ctx, void **out, err *e)
{
    assert_ptr_equal(ctx, &home);
    result *r = calloc(1, sizeof *r);
    if (!r)
        return err_set(e, ERR_NOMEM, "out of memory");
    r->nth = __atomic_add_fetch(&reads, 1, __ATOMIC_SEQ_CST);
    store_chain *c = NULL;
    int rc = store_chain_list(s, &c, &r->n_chains, e);
    free(c);
    *out = r;
    return rc;
}

/* Fails after making a result: the reader frees it. */
static int read_fails(store *s, void *ctx, void **out, err *e)
{
    (void)s;
    (void)ctx;
    __atomic_add_fetch(&reads, 1, __ATOMIC_SEQ_CST);
    *out = calloc(1, sizeof(result));
    return err_set(e, ERR_IO, "the server said no");
}

/* The loop: waits until the reader has woken it. */
static void wait_wake(void)
{
    struct pollfd p = {.fd = ui_notify_fd(), .events = POLLIN};
    assert_int_equal(poll(&p, 1, -1), 1); /* blocks until a wake-up */
    assert_true(ui_notify_take() & UI_TOPIC_JOBS);
}

static int setup(void **state)
{
    (void)state;
    snprintf(home, sizeof home, "/tmp/fusion-test-bookwork-XXXXXX");
    assert_non_null(mkdtemp(home));
    char path[128];
    snprintf(path, sizeof path, "%s/desk.db", home);
    store *st = NULL;
    err e;
    assert_int_equal(store_open(&st, path, &e), 0);
    store_chain c = {.chain_id = 31337, .confirmations = 2, .native_decimals = 18};
    snprintf(c.name, sizeof c.name, "local");
    snprintf(c.native_symbol, sizeof c.native_symbol, "ETH");
    assert_int_equal(store_chain_add(st, &c, &e), 0);
    store_close(&st);
    __atomic_store_n(&reads, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&freed, 0, __ATOMIC_SEQ_CST);
    (void)ui_notify_take();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_read_and_take(void **state)
{
    (void)state;
    ui_bookwork *w = NULL;
    err e;
    assert_int_equal(ui_bookwork_start(&w, home, "test", read_ok, result_free, &home, &e), 0);
    void *got = NULL;
    char error[ERR_MSG_MAX] = "x";
    assert_false(ui_bookwork_take(w, &got, error, sizeof error)); /* not asked yet */
    assert_false(ui_bookwork_loaded(w));
    ui_bookwork_kick(w);
    wait_wake();
    assert_true(ui_bookwork_take(w, &got, error, sizeof error));
    assert_true(ui_bookwork_loaded(w));
    assert_string_equal(error, "");
    result *r = got;
    assert_non_null(r);
    assert_int_equal(r->nth, 1);
    assert_int_equal(r->n_chains, 1); /* the desk's desk.db */
    free(r);
    assert_false(ui_bookwork_take(w, &got, error, sizeof error)); /* taken once */
    /* two reads, nobody takes the first: it is freed when the second is parked */
    ui_bookwork_kick(w);
    wait_wake();
    ui_bookwork_kick(w);
    wait_wake();
    assert_int_equal(__atomic_load_n(&freed, __ATOMIC_SEQ_CST), 1);
    assert_true(ui_bookwork_take(w, &got, error, sizeof error));
    assert_int_equal(((result *)got)->nth, 3);
    free(got);
    /* a read due: far after the last ask; none before it */
    ui_bookwork_tick(w, time(NULL) - 3600, true);
    ui_bookwork_tick(w, time(NULL) + 3600, false);
    wait_wake();
    assert_int_equal(__atomic_load_n(&reads, __ATOMIC_SEQ_CST), 4);
    ui_bookwork_stop(&w); /* the fourth, never taken, freed here */
    assert_null(w);
    assert_int_equal(__atomic_load_n(&freed, __ATOMIC_SEQ_CST), 2);
}

static void test_failed_read(void **state)
{
    (void)state;
    ui_bookwork *w = NULL;
    err e;
    assert_int_equal(ui_bookwork_start(&w, home, "test", read_fails, result_free, NULL, &e), 0);
    ui_bookwork_kick(w);
    wait_wake();
    void *got = &got;
    char error[ERR_MSG_MAX] = "";
    assert_true(ui_bookwork_take(w, &got, error, sizeof error));
    assert_null(got);
    assert_string_equal(error, "the server said no");
    assert_int_equal(__atomic_load_n(&freed, __ATOMIC_SEQ_CST), 1); /* what it made */
    ui_bookwork_stop(&w);
}

static void test_refused_book_conf(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/book.conf", home);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not a book\n", f);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    ui_bookwork *w = NULL;
    err e;
    assert_int_equal(ui_bookwork_start(&w, home, "test", read_ok, result_free, &home, &e), 0);
    char first[ERR_MSG_MAX] = "", again[ERR_MSG_MAX] = "";
    void *got = &got;
    ui_bookwork_kick(w);
    wait_wake();
    assert_true(ui_bookwork_take(w, &got, first, sizeof first));
    assert_null(got);
    assert_true(first[0] != '\0');
    ui_bookwork_kick(w);
    wait_wake();
    assert_true(ui_bookwork_take(w, &got, again, sizeof again));
    assert_string_equal(again, first);
    assert_int_equal(__atomic_load_n(&reads, __ATOMIC_SEQ_CST), 0);
    ui_bookwork_stop(&w);
}

int main(void)
{
    err e;
    if (ui_notify_init(&e) < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_and_take, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_book_conf, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ui_notify_close();
    return rc;
}
