/* test_progress.c: the progress line of `fusion sync` on every order of its block
 * numbers: a checkpoint rewound by a reorg below where the run started, a head behind the
 * checkpoint, a chain that became shorter. The percentage stays within 0..100. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sync/sync.h"

static sync_chain_stats stats(uint64_t first, uint64_t synced, uint64_t target, uint64_t head)
{
    sync_chain_stats s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "local");
    s.phase = SYNC_CATCHING_UP;
    s.has_head = s.has_synced = true;
    s.first_synced = first;
    s.synced = synced;
    s.target = target;
    s.head = head;
    s.blocks = 3;
    s.elapsed = 1.5;
    return s;
}

/* The percentage the line shows. */
static double pct_of(const sync_chain_stats *s, char *line, size_t cap)
{
    sync_progress_line(s, line, cap);
    const char *p = strchr(line, '(');
    double pct = -1;
    if (!p || sscanf(p, "(%lf%%)", &pct) != 1)
        fail_msg("no percentage in \"%s\"", line);
    return pct;
}

static void test_ordinary(void **state)
{
    char line[512];
    sync_chain_stats s = stats(0, 50, 100, 100);
    assert_true(pct_of(&s, line, sizeof line) == 50.0);
    assert_non_null(strstr(line, "block 50 of 100"));
    s = stats(0, 100, 100, 100);
    assert_true(pct_of(&s, line, sizeof line) == 100.0);
}

static void test_block_orders(void **state)
{
    /* first, synced, target (0: following), head */
    static const uint64_t cases[][4] = {
        {6, 4, 7, 7},      /* a reorg rewound the checkpoint below where the run began */
        {6, 0, 7, 7},      /* ... down to nothing */
        {10, 5, 0, 7},     /* following: the chain became shorter than where we began */
        {10, 12, 0, 7},    /* the head is behind the checkpoint (a node that lags) */
        {10, 12, 11, 11},  /* --once: past the target */
        {0, 0, 0, 0},      /* nothing at all */
        {UINT64_MAX - 1, 3, 5, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sync_chain_stats s = stats(cases[i][0], cases[i][1], cases[i][2], cases[i][3]);
        char line[512];
        double pct = pct_of(&s, line, sizeof line);
        if (!(pct >= 0.0 && pct <= 100.0))
            fail_msg("case %zu: %s", i, line);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary),
        cmocka_unit_test(test_block_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
