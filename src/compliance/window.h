/* window.h: one rolling time window of (timestamp, USD cents) entries, oldest first, for
 * the structuring and velocity rules. A ring buffer: push at the back (in order, or sorted
 * in when an event arrives late), evict from the front; the cent sum is kept exact so
 * limits compare without floating-point drift. Private to src/compliance. */
#ifndef FUSION_COMPLIANCE_WINDOW_H
#define FUSION_COMPLIANCE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef struct window_entry {
    uint64_t ts;    /* block timestamp, Unix seconds */
    uint64_t cents; /* USD estimate in cents (0 when unknown) */
} window_entry;

/* A zeroed struct is an empty window. */
typedef struct window {
    window_entry *v;
    size_t cap; /* power of two, or 0 */
    size_t head;
    size_t len;
    uint64_t sum_cents; /* saturates at UINT64_MAX */
} window;

void window_free(window *w);
/* Inserts an entry, keeping timestamps in order (O(1) when ts is not older than the
 * newest entry). */
int window_push(window *w, uint64_t ts, uint64_t cents, err *e) __attribute__((warn_unused_result));
/* Drops the entries older than cutoff (ts < cutoff). */
void window_evict(window *w, uint64_t cutoff);
/* The i-th entry, 0 = oldest. */
const window_entry *window_at(const window *w, size_t i);

#endif
