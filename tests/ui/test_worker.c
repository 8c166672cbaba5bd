/* test_worker.c: the one UI worker shape (ui/worker.c), with the loop's side played by the
 * main thread as the UI loop plays it: it waits on the notification descriptor, reads the
 * phase, answers, joins. A worker that asks twice gets both answers in order and finishes;
 * a worker parked on a question when the UI quits is answered "no" and can be joined; a
 * worker cancelled before it asks is not parked at all. Run under ThreadSanitizer too
 * (suite "threads"). */
/* cmocka.h needs the headers before it: keep this order. */
/* clang-format off */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "notify.h"
#include "worker.h"

typedef struct work {
    ui_worker w;
    int answer[2]; /* under w.mu: what the loop answered */
    int asked;
    bool got[2];
    bool ok[2];
    bool cancel_first; /* wait until the loop cancelled before asking */
} work;

static void *run(void *arg)
{
    work *k = arg;
    pthread_mutex_lock(&k->w.mu);
    while (k->cancel_first && !k->w.cancelled)
        pthread_cond_wait(&k->w.cv, &k->w.mu);
    for (int i = 0; i < 2; i++) {
        k->asked = i + 1;
        k->ok[i] = ui_worker_ask_locked(&k->w);
        k->got[i] = k->ok[i] && k->answer[i] == 10 + i;
    }
    pthread_mutex_unlock(&k->w.mu);
    ui_worker_done(&k->w, UI_TOPIC_ESCROWS);
    return NULL;
}

/* The loop: waits for a wake-up, returns the topics taken. */
static unsigned wait_wake(void)
{
    struct pollfd p = {.fd = ui_notify_fd(), .events = POLLIN};
    assert_int_equal(poll(&p, 1, -1), 1); /* blocks until a wake-up */
    return ui_notify_take();
}

static void test_two_questions(void **state)
{
    work k = {0};
    ui_worker_init(&k.w);
    err e;
    assert_int_equal(ui_worker_start(&k.w, run, &k, &e), 0);
    int answered = 0;
    unsigned seen = 0;
    while (ui_worker_phase_of(&k.w) != UI_WORKER_DONE || !(seen & UI_TOPIC_ESCROWS)) {
        seen |= wait_wake();
        pthread_mutex_lock(&k.w.mu);
        if (k.w.phase == UI_WORKER_ASKING && !k.w.answered && k.asked == answered + 1) {
            k.answer[answered] = 10 + answered;
            answered++;
            ui_worker_answer_locked(&k.w);
        }
        pthread_mutex_unlock(&k.w.mu);
    }
    assert_true(seen & UI_TOPIC_JOBS);
    ui_worker_join(&k.w);
    assert_int_equal(answered, 2);
    assert_true(k.ok[0] && k.ok[1]);
    assert_true(k.got[0] && k.got[1]);
    ui_worker_destroy(&k.w);
}

static void test_cancel_while_asking(void **state)
{
    work k = {0};
    ui_worker_init(&k.w);
    err e;
    assert_int_equal(ui_worker_start(&k.w, run, &k, &e), 0);
    while (ui_worker_phase_of(&k.w) != UI_WORKER_ASKING)
        wait_wake();
    ui_worker_cancel(&k.w); /* the UI quits with the question open */
    ui_worker_join(&k.w);
    assert_int_equal(ui_worker_phase_of(&k.w), UI_WORKER_DONE);
    assert_false(k.ok[0]);
    assert_false(k.ok[1]); /* a question after the cancel is not parked either */
    ui_worker_destroy(&k.w);
    (void)ui_notify_take();
}

static void test_cancel_before_asking(void **state)
{
    work k = {0};
    k.cancel_first = true;
    ui_worker_init(&k.w);
    err e;
    assert_int_equal(ui_worker_start(&k.w, run, &k, &e), 0);
    ui_worker_cancel(&k.w);
    ui_worker_join(&k.w);
    assert_false(k.ok[0] || k.ok[1]);
    ui_worker_destroy(&k.w);
    (void)ui_notify_take();
}

int main(void)
{
    err e;
    if (ui_notify_init(&e) < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_questions),
        cmocka_unit_test(test_cancel_while_asking),
        cmocka_unit_test(test_cancel_before_asking),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ui_notify_close();
    return rc;
}
