/* test_notify.c: worker threads wake the UI loop (ui/notify.c). Eight threads started
 * with ui_thread_create each notify their own topic many times while the main thread
 * polls and takes; every topic must arrive, nothing may be lost after the last take,
 * and the workers must have the loop's signals blocked. Run under ThreadSanitizer too
 * (suite "threads"). */
/* cmocka.h needs the headers before it: keep this order. */
/* clang-format off */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>
/* clang-format on */

#include "notify.h"

#define N_THREADS 8
#define N_NOTIFY 2000

typedef struct worker {
    unsigned topic;
    int winch_blocked;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    sigset_t set;
    pthread_sigmask(SIG_SETMASK, NULL, &set);
    w->winch_blocked = sigismember(&set, SIGWINCH) && sigismember(&set, SIGTERM) &&
                       sigismember(&set, SIGINT) && sigismember(&set, SIGHUP);
    for (int i = 0; i < N_NOTIFY; i++)
        ui_notify(w->topic);
    return NULL;
}

static void test_threads_wake_loop(void **state)
{
    assert_int_equal(ui_notify_init(NULL), 0);
    assert_int_equal(ui_notify_init(NULL), 0); /* idempotent */
    int fd = ui_notify_fd();
    assert_true(fd >= 0);
    assert_int_equal(ui_notify_take(), 0);

    pthread_t t[N_THREADS];
    worker w[N_THREADS];
    unsigned all = 0;
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){1u << i, 0};
        all |= w[i].topic;
        assert_int_equal(ui_thread_create(&t[i], work, &w[i], NULL), 0);
    }
    unsigned seen = 0;
    while (seen != all) {
        struct pollfd p = {fd, POLLIN, 0};
        assert_int_equal(poll(&p, 1, -1), 1); /* blocks until a wake-up: no busy wait */
        unsigned got = ui_notify_take();
        /* A wake-up whose topics an earlier take already collected reads as a bare
         * write, which notify.h defines as UI_TOPIC_ALL (a conservative full redraw). */
        if (got == UI_TOPIC_ALL)
            continue;
        assert_true((got & ~all) == 0);
        seen |= got;
    }
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_true(w[i].winch_blocked);
    }
    /* Whatever the workers did after our last take is still pending, never lost. */
    unsigned rest = ui_notify_take();
    assert_true(rest == UI_TOPIC_ALL || (rest & ~all) == 0);
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 0), 0);

    ui_notify(UI_TOPIC_KEYS);
    assert_int_equal(poll(&p, 1, 0), 1);
    assert_int_equal(ui_notify_take(), UI_TOPIC_KEYS);
    assert_int_equal(poll(&p, 1, 0), 0);

    /* A bare write to the descriptor means "everything changed". */
    uint64_t one = 1;
    assert_int_equal(write(fd, &one, sizeof one), (ssize_t)sizeof one);
    assert_int_equal(ui_notify_take(), UI_TOPIC_ALL);
    ui_notify_close();
    assert_int_equal(ui_notify_fd(), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_wake_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
