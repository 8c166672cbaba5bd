/* test_tables.c: the private containers behind screening: the address hash map (against
 * a sorted-array reference under random inserts and deletes) and the rolling window ring
 * buffer (against a plain array). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs stdarg, stddef and setjmp first */
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include "compliance/addrmap.h"
#include "compliance/window.h"

typedef struct ref_key {
    uint8_t a[20];
    uint64_t tag;
    uint64_t value;
    int live;
} ref_key;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    /* xorshift64*: reproducible and independent of the map's own hashing */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static int ref_cmp(const void *x, const void *y)
{
    const ref_key *a = x, *b = y;
    int c = memcmp(a->a, b->a, 20);
    if (c)
        return c;
    return a->tag < b->tag ? -1 : a->tag > b->tag;
}

static void test_addrmap_random(void **state)
{
    (void)state;
    enum { N = 50000 };
    ref_key *ref = calloc(N, sizeof *ref);
    assert_non_null(ref);
    for (size_t i = 0; i < N; i++) {
        for (int k = 0; k < 20; k++)
            ref[i].a[k] = (uint8_t)rng();
        /* some keys share an address and differ only by tag; some addresses share a prefix */
        if (i % 7 == 1)
            memcpy(ref[i].a, ref[i - 1].a, 20);
        if (i % 11 == 2)
            memcpy(ref[i].a, ref[i - 1].a, 19);
        ref[i].tag = rng() % 4;
        ref[i].value = rng();
    }
    qsort(ref, N, sizeof *ref, ref_cmp);
    size_t uniq = 0;
    for (size_t i = 0; i < N; i++)
        if (uniq == 0 || ref_cmp(&ref[uniq - 1], &ref[i]) != 0)
            ref[uniq++] = ref[i];

    addrmap *m = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(addrmap_new(&m, 4, &e), 0); /* small: forces many grows */
    for (size_t i = 0; i < uniq; i++) {
        bool created;
        uint64_t *v = addrmap_upsert(m, (const addr *)ref[i].a, ref[i].tag, &created, &e);
        assert_non_null(v);
        assert_true(created);
        *v = ref[i].value;
        ref[i].live = 1;
    }
    assert_int_equal(addrmap_count(m), uniq);
    /* delete a random half, re-insert a random quarter */
    size_t live = uniq;
    for (size_t round = 0; round < 2; round++) {
        for (size_t i = 0; i < uniq; i++) {
            if (rng() % 2 == 0)
                continue;
            bool was = ref[i].live;
            if (round == 0) {
                assert_int_equal(addrmap_remove(m, (const addr *)ref[i].a, ref[i].tag), was);
                live -= was;
                ref[i].live = 0;
            } else if (!was && rng() % 2) {
                bool created;
                uint64_t *v = addrmap_upsert(m, (const addr *)ref[i].a, ref[i].tag, &created, &e);
                assert_non_null(v);
                assert_true(created);
                *v = ref[i].value ^ 1;
                ref[i].value ^= 1;
                ref[i].live = 1;
                live++;
            }
        }
    }
    assert_int_equal(addrmap_count(m), live);
    for (size_t i = 0; i < uniq; i++) {
        uint64_t *v = addrmap_find(m, (const addr *)ref[i].a, ref[i].tag);
        if (ref[i].live) {
            assert_non_null(v);
            assert_true(*v == ref[i].value);
        } else {
            assert_null(v);
        }
        /* a tag never stored */
        assert_null(addrmap_find(m, (const addr *)ref[i].a, 99));
    }
    /* slot walk sees exactly the live keys */
    size_t seen = 0;
    for (size_t i = 0; i < addrmap_capacity(m); i++) {
        ref_key k;
        if (!addrmap_slot(m, i, (addr *)k.a, &k.tag, &k.value))
            continue;
        ref_key *hit = bsearch(&k, ref, uniq, sizeof *ref, ref_cmp);
        if (!hit)
            fail_msg("slot %zu holds a key that was never inserted", i);
        else
            assert_true(hit->live && hit->value == k.value);
        seen++;
    }
    assert_int_equal(seen, live);
    /* upsert of an existing key keeps its value */
    for (size_t i = 0; i < uniq; i++) {
        if (!ref[i].live)
            continue;
        bool created = true;
        uint64_t *v = addrmap_upsert(m, (const addr *)ref[i].a, ref[i].tag, &created, &e);
        assert_false(created);
        assert_true(*v == ref[i].value);
        break;
    }
    addrmap_free(&m);
    assert_null(m);
    free(ref);
}

static void test_window(void **state)
{
    (void)state;
    window w;
    memset(&w, 0, sizeof w);
    err e;
    err_clear(&e);
    /* reference: a plain sorted array */
    uint64_t ts[400], cents[400];
    size_t n = 0;
    uint64_t clock = 1000;
    for (int i = 0; i < 3000; i++) {
        clock += rng() % 50;
        uint64_t t = clock - (rng() % 4 == 0 ? rng() % 200 : 0); /* some late arrivals */
        uint64_t c = rng() % 100000;
        uint64_t cutoff = clock - 300;
        window_evict(&w, cutoff);
        size_t k = 0;
        for (size_t j = 0; j < n; j++)
            if (ts[j] >= cutoff) {
                ts[k] = ts[j];
                cents[k++] = cents[j];
            }
        n = k;
        assert_int_equal(window_push(&w, t, c, &e), 0);
        size_t at = n;
        while (at > 0 && ts[at - 1] > t) {
            ts[at] = ts[at - 1];
            cents[at] = cents[at - 1];
            at--;
        }
        ts[at] = t;
        cents[at] = c;
        n++;
        assert_true(n < 400);
        assert_int_equal(w.len, n);
        uint64_t sum = 0;
        for (size_t j = 0; j < n; j++) {
            assert_true(window_at(&w, j)->ts == ts[j]);
            assert_true(window_at(&w, j)->cents == cents[j]);
            sum += cents[j];
        }
        assert_true(w.sum_cents == sum);
    }
    window_free(&w);

    /* a saturated sum recovers once the huge entry leaves */
    assert_int_equal(window_push(&w, 1, UINT64_MAX - 5, &e), 0);
    assert_int_equal(window_push(&w, 2, 10, &e), 0);
    assert_true(w.sum_cents == UINT64_MAX);
    window_evict(&w, 2);
    assert_true(w.sum_cents == 10);
    window_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addrmap_random),
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
