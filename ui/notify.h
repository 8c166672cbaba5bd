/* notify.h: how worker threads (chain sync, transaction jobs) wake the UI loop: one
 * descriptor for all of them. They
 * never touch curses: they commit to SQLite, then call ui_notify() with what changed.
 * The loop polls ui_notify_fd() and reloads the screens that care. No curses here, so
 * this file is also what a ThreadSanitizer test exercises. */
#ifndef FUSION_UI_NOTIFY_H
#define FUSION_UI_NOTIFY_H

#include <pthread.h>

#include "base/err.h"

/* What changed; screens declare the topics they show. */
enum {
    UI_TOPIC_ESCROWS = 1u << 0,
    UI_TOPIC_APPROVALS = 1u << 1,
    UI_TOPIC_COMPLIANCE = 1u << 2,
    UI_TOPIC_ENTITIES = 1u << 3,
    UI_TOPIC_KEYS = 1u << 4,
    UI_TOPIC_CHAINS = 1u << 5,
    UI_TOPIC_AUDIT = 1u << 6,
    UI_TOPIC_RISK = 1u << 7,
    UI_TOPIC_JOBS = 1u << 8,
    UI_TOPIC_SYNC = 1u << 9,  /* this process's sync committed (ui_config.wake says what) */
    UI_TOPIC_BOOK = 1u << 10, /* the book's server announced a commit (ui_config.wake too) */
    UI_TOPIC_ALL = (1u << 11) - 1,
};

/* Creates the notification descriptor (an eventfd); idempotent. */
int ui_notify_init(err *e) __attribute__((warn_unused_result));
void ui_notify_close(void);
/* The descriptor the loop polls (readable after a notification), -1 before init. Code
 * that only has the descriptor may wake the loop by writing a uint64_t 1 to it; that
 * counts as "everything changed". */
int ui_notify_fd(void);
/* Thread-safe and async-signal-safe: records the topics and wakes the loop. Wakes are
 * coalesced; nothing is lost (the loop sees the union of the topics since its last take). */
void ui_notify(unsigned topics);
/* Loop side: consumes the pending wake-ups and returns the union of their topics
 * (UI_TOPIC_ALL for a bare write to the descriptor; 0 when nothing was pending). */
unsigned ui_notify_take(void);

/* pthread_create for threads started by the UI: the new thread blocks SIGWINCH, SIGINT,
 * SIGTERM and SIGHUP so that only the main thread sees them (and network calls in the
 * worker get no EINTR from a resize). */
int ui_thread_create(pthread_t *t, void *(*fn)(void *), void *arg, err *e)
    __attribute__((warn_unused_result));

#endif
