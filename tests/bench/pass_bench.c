/* pass_bench.c: one automatic screening pass (compliance_screener_run) over a desk a sync
 * made, alone on one thread: the work `fusion sync` hands the screener's thread, without
 * the chain thread, the node or the machine's other jobs in the same measure. HOME must be
 * a COPY of a synced desk (e.g. one that tests/bench/sync_bench.py left in
 * /tmp/fusion-sync-test-*): its screening results (cases, hits, case events, screened
 * marks, the cases' API feed rows and SLA alerts) are deleted first, so that the pass
 * screens every escrow again. Prints the thread CPU time of that pass and of the pass after
 * it (nothing new: the reorg sweep, the count of unscreened escrows, the alerts). Not a
 * test: it prints numbers.
 * Usage: pass_bench HOME [SOURCE_ROOT]   (SOURCE_ROOT defaults to $FUSION_ROOT or .) */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "compliance/compliance.h"
#include "store/store.h"

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* case_events is append-only by triggers: they go for the delete and come back as they were */
static int clear_results(const char *db_path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open(db_path, &db);
    char *trig[2] = {NULL, NULL};
    sqlite3_stmt *st = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN"
                                " ('case_events_append_only_u', 'case_events_append_only_d')",
                                -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < 2 && sqlite3_step(st) == SQLITE_ROW; i++)
        trig[i] = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && (!trig[0] || !trig[1])) {
        fprintf(stderr, "pass_bench: %s is not a desk with cases\n", db_path);
        rc = SQLITE_ERROR;
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db,
                          "BEGIN; DROP TRIGGER case_events_append_only_u;"
                          " DROP TRIGGER case_events_append_only_d; DELETE FROM case_events;"
                          " DELETE FROM screening_hits; DELETE FROM cases;"
                          " DELETE FROM screened_escrows; DELETE FROM api_feed WHERE kind LIKE"
                          " 'case.%'; DELETE FROM risk_alerts WHERE key LIKE 'case:%';",
                          NULL, NULL, NULL);
    for (int i = 0; rc == SQLITE_OK && i < 2; i++)
        rc = sqlite3_exec(db, trig[i], NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        fprintf(stderr, "pass_bench: clearing %s: %s\n", db_path, sqlite3_errmsg(db));
    sqlite3_free(trig[0]);
    sqlite3_free(trig[1]);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pass_bench HOME [SOURCE_ROOT]  (HOME: a copy of a synced desk)\n");
        return 2;
    }
    const char *home = argv[1];
    const char *root = argc > 2 ? argv[2] : getenv("FUSION_ROOT") ? getenv("FUSION_ROOT") : ".";
    char db[4200], manifest[4200], fatf[4200];
    snprintf(db, sizeof db, "%s/desk.db", home);
    snprintf(manifest, sizeof manifest, "%s/data/sanctions/manifest.txt", root);
    snprintf(fatf, sizeof fatf, "%s/data/compliance/fatf-jurisdictions.csv", root);
    if (clear_results(db) < 0)
        return 1;
    compliance_sources src = {.lists = manifest, .fatf = fatf};
    err e;
    store *s = NULL;
    compliance_screener *scr = NULL;
    if (store_open(&s, db, &e) < 0 || compliance_screener_new(&scr, home, &src, &e) < 0) {
        fprintf(stderr, "pass_bench: %s\n", e.msg);
        store_close(&s);
        return 1;
    }
    compliance_screen_stats first, next;
    double c0 = thread_cpu();
    int rc = compliance_screener_run(scr, s, (int64_t)time(NULL), &first, &e);
    double c1 = thread_cpu();
    if (rc == 0)
        rc = compliance_screener_run(scr, s, (int64_t)time(NULL), &next, &e);
    double c2 = thread_cpu();
    if (rc < 0)
        fprintf(stderr, "pass_bench: %s\n", e.msg);
    else
        printf("screened %zu escrows (%zu hits, %zu cases opened): %.4f s CPU (%.1f us an "
               "escrow); the pass after it: %.4f s CPU\n",
               first.screened, first.hits, first.cases_opened, c1 - c0,
               first.screened ? (c1 - c0) * 1e6 / (double)first.screened : 0.0, c2 - c1);
    compliance_screener_free(&scr);
    store_close(&s);
    return rc < 0 ? 1 : 0;
}
