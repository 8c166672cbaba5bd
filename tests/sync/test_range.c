/* test_range.c: the adaptive eth_getLogs block range: halving on refusals and
 * timeouts, the provider's suggestion, growth only on cheap full-size answers,
 * shrinking before heavy answers become refusals, and its bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync/range.h"

static void test_init_bounds(void **state)
{
    sync_range r;
    sync_range_init(&r, 5000, 1000);
    assert_int_equal(r.size, 1000);
    sync_range_init(&r, 0, 0);
    assert_int_equal(r.size, 1);
    assert_int_equal(r.max, 1);
}

static void test_shrink(void **state)
{
    sync_range r;
    sync_range_init(&r, 1000, 100000);
    sync_range_failure(&r, 1000, 0);
    assert_int_equal(r.size, 500);
    sync_range_failure(&r, 500, 0);
    sync_range_failure(&r, 250, 0);
    assert_int_equal(r.size, 125);
    /* Down to one block and no further. */
    for (int i = 0; i < 20; i++)
        sync_range_failure(&r, r.size, 0);
    assert_int_equal(r.size, 1);
    /* A failure of a short request (the chain's end) halves what was asked. */
    sync_range_init(&r, 1000, 100000);
    sync_range_failure(&r, 40, 0);
    assert_int_equal(r.size, 20);
}

static void test_hint(void **state)
{
    sync_range r;
    sync_range_init(&r, 10000, 100000);
    sync_range_failure(&r, 10000, 1234);
    assert_int_equal(r.size, 1234);
    /* A "suggestion" no smaller than what failed is ignored: halve instead. */
    sync_range_failure(&r, 1234, 5000);
    assert_int_equal(r.size, 617);
}

static void test_grow(void **state)
{
    sync_range r;
    sync_range_init(&r, 100, 1000);
    sync_range_success(&r, 100, 10, 50);
    assert_int_equal(r.size, 200);
    /* A short answer (the head was closer than the range) says nothing. */
    sync_range_success(&r, 30, 0, 1);
    assert_int_equal(r.size, 200);
    for (int i = 0; i < 10; i++)
        sync_range_success(&r, r.size, 0, 1);
    assert_int_equal(r.size, 1000);
    /* Busy answers stop the growth... */
    sync_range_init(&r, 100, 1000);
    sync_range_success(&r, 100, r.target_logs, 10);
    assert_int_equal(r.size, 100);
    sync_range_success(&r, 100, 10, r.target_ms);
    assert_int_equal(r.size, 100);
    /* ...and heavy ones shrink it before the node refuses. */
    sync_range_success(&r, 100, 2 * r.target_logs + 1, 10);
    assert_int_equal(r.size, 50);
    sync_range_success(&r, 50, 0, 2 * r.target_ms + 1);
    assert_int_equal(r.size, 25);
    sync_range_success(&r, 0, 0, 0);
    assert_int_equal(r.size, 25);
    /* Much heavier than the target: straight to the size that holds the target. */
    sync_range_init(&r, 1000, 1000);
    sync_range_success(&r, 1000, 10 * r.target_logs, 10);
    assert_int_equal(r.size, 100);
    sync_range_init(&r, 1000, 1000);
    sync_range_success(&r, 1000, 0, 8 * r.target_ms);
    assert_int_equal(r.size, 125);
}

/* Growth goes no further than the answer's density of logs puts on target: doubling a
 * range of 0.8 x the target would ask for 1.6 x it. */
static void test_grow_by_density(void **state)
{
    sync_range r;
    sync_range_init(&r, 100, 100000);
    sync_range_success(&r, 100, r.target_logs * 4 / 5, 10);
    assert_int_equal(r.size, 125);
    /* never below the size that gave the answer */
    sync_range_init(&r, 100, 100000);
    sync_range_success(&r, 100, r.target_logs - 1, 10);
    assert_int_equal(r.size, 100);
    /* above the target (under twice it): back to the size that holds the target */
    sync_range_init(&r, 1000, 100000);
    sync_range_success(&r, 1000, r.target_logs * 2, 10);
    assert_int_equal(r.size, 500);
    sync_range_success(&r, 500, r.target_logs * 5 / 4, 10);
    assert_int_equal(r.size, 400);
    /* no logs: doubles */
    sync_range_success(&r, 400, 0, 10);
    assert_int_equal(r.size, 800);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_bounds),
        cmocka_unit_test(test_shrink),
        cmocka_unit_test(test_hint),
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_grow_by_density),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
