/* window.c: the rolling window ring buffer; see window.h. */
#include "compliance/window.h"

#include <stdlib.h>
#include <string.h>

void window_free(window *w)
{
    free(w->v);
    memset(w, 0, sizeof *w);
}

static window_entry *slot_at(const window *w, size_t i)
{
    return &w->v[(w->head + i) & (w->cap - 1)];
}

const window_entry *window_at(const window *w, size_t i)
{
    return slot_at(w, i);
}

static int grow(window *w, err *e)
{
    size_t cap = w->cap ? w->cap * 2 : 8;
    if (cap > SIZE_MAX / sizeof *w->v)
        return err_set(e, ERR_OVERFLOW, "rolling window too long (%zu entries)", w->len);
    window_entry *v = malloc(cap * sizeof *v);
    if (!v)
        return err_set(e, ERR_NOMEM, "out of memory growing a rolling window");
    for (size_t i = 0; i < w->len; i++)
        v[i] = *slot_at(w, i);
    free(w->v);
    w->v = v;
    w->cap = cap;
    w->head = 0;
    return 0;
}

static void recompute_sum(window *w)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < w->len; i++) {
        uint64_t c = slot_at(w, i)->cents;
        sum = c > UINT64_MAX - sum ? UINT64_MAX : sum + c;
    }
    w->sum_cents = sum;
}

int window_push(window *w, uint64_t ts, uint64_t cents, err *e)
{
    if (w->len == w->cap && grow(w, e) < 0)
        return -1;
    /* Late arrivals shift the newer entries up by one: rare, and bounded by the window. */
    size_t at = w->len;
    while (at > 0 && slot_at(w, at - 1)->ts > ts) {
        *slot_at(w, at) = *slot_at(w, at - 1);
        at--;
    }
    slot_at(w, at)->ts = ts;
    slot_at(w, at)->cents = cents;
    w->len++;
    w->sum_cents = cents > UINT64_MAX - w->sum_cents ? UINT64_MAX : w->sum_cents + cents;
    return 0;
}

void window_evict(window *w, uint64_t cutoff)
{
    size_t dropped = 0;
    while (w->len > 0 && slot_at(w, 0)->ts < cutoff) {
        if (w->sum_cents != UINT64_MAX)
            w->sum_cents -= slot_at(w, 0)->cents;
        w->head = (w->head + 1) & (w->cap - 1);
        w->len--;
        dropped++;
    }
    /* A saturated sum cannot be undone by subtraction: recount what is left. */
    if (dropped && w->sum_cents == UINT64_MAX)
        recompute_sum(w);
}
