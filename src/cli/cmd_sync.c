/* cmd_sync.c: `fusion sync [--once]`: runs the sync engine in the foreground until
 * SIGINT/SIGTERM (or, with --once, until every chain reached the head it saw at
 * start), with progress on stderr: a live line on a terminal, periodic lines when
 * stderr is a file or pipe. Signals only set a flag; the loop stops the engine. While
 * following, the loop also runs the backup schedule of <home>/backup.conf. With --db
 * postgresql://... (or the desk's book.conf, pgstore/pg_desk.h) the chain threads keep the
 * events and checkpoints on that server instead of desk.db, one syncer per chain across the
 * firm (docs/scale.md). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup/backup.h"
#include "base/log.h"
#include "base/text.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "compliance/compliance.h"
#include "desk/sync_service.h"
#include "pgstore/pg_desk.h"
#include "pgstore/pgstore.h"
#include "store/store.h"
#include "sync/sync.h"
#include "xswap/xswap.h"

#define SWAP_PASS_S 5.0 /* seconds between the background passes over the swaps */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v > max)
        return -1;
    *out = v;
    return 0;
}

typedef struct swap_pass {
    bool quiet;
} swap_pass;

static void swap_report(void *vctx, int64_t id, const char *state, const err *se)
{
    const swap_pass *sp = vctx;
    if (se)
        cli_errorf("fusion sync: swap %lld: %s", (long long)id, se->msg);
    else if (!sp->quiet)
        fprintf(stderr, "swap %lld: %s\n", (long long)id, state);
}

/* --swaps: the unfinished swaps moved on by this process, as `xswap resume` would; wait:
 * follow each transaction in flight to its receipt (--once), else only what is possible now
 * (the periodic pass while following). */
static void advance_swaps(cli_ctx *ctx, bool wait, bool quiet)
{
    xswap_env env;
    memset(&env, 0, sizeof env);
    env.home = ctx->home;
    env.operator_name = ctx->operator_name;
    env.wire = cli_desk_wire;
    env.wire_ctx = ctx;
    env.no_wait = !wait;
    swap_pass sp = {quiet};
    err e;
    err_clear(&e);
    if (xswap_advance_all(&env, swap_report, &sp, &e) < 0)
        cli_errorf("fusion sync: swaps not advanced: %s", e.msg);
}

int cmd_sync(cli_ctx *ctx, int argc, char **argv)
{
    sync_options o;
    sync_options_default(&o);
    const char *chain_name = NULL;
    bool quiet = false, swaps = false;
    unsigned long long v;
    const char *poll_ms = NULL, *window = NULL, *range = NULL, *max_range = NULL,
               *timeout = NULL, *max_addr = NULL, *db_url = NULL, *range_logs = NULL;
    const cli_opt opts[] = {
        {"once", CLI_OPT_FLAG, &o.once},
        {"chain", CLI_OPT_STR, &chain_name},
        {"poll-ms", CLI_OPT_STR, &poll_ms},
        {"window", CLI_OPT_STR, &window},
        {"range", CLI_OPT_STR, &range},
        {"max-range", CLI_OPT_STR, &max_range},
        {"range-logs", CLI_OPT_STR, &range_logs},
        {"rpc-timeout-ms", CLI_OPT_STR, &timeout},
        {"max-addresses", CLI_OPT_STR, &max_addr},
        {"quiet", CLI_OPT_FLAG, &quiet},
        {"swaps", CLI_OPT_FLAG, &swaps},
        {"no-subscribe", CLI_OPT_FLAG, &o.no_subscribe},
        {"db", CLI_OPT_STR, &db_url},
    };
    size_t n_pos;
    int u = cli_opts("sync", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (poll_ms) {
        if (parse_uint(poll_ms, 60000, &v) < 0 || v == 0)
            return cli_usage("sync", "--poll-ms must be 1..60000");
        o.poll_ms = (unsigned)v;
    }
    if (window) {
        if (parse_uint(window, 100000, &v) < 0 || v < 2)
            return cli_usage("sync", "--window must be 2..100000 blocks");
        o.window = (unsigned)v;
    }
    if (range) {
        if (parse_uint(range, 10000000, &v) < 0 || v == 0)
            return cli_usage("sync", "--range must be 1..10000000 blocks");
        o.initial_range = v;
    }
    if (max_range) {
        if (parse_uint(max_range, 10000000, &v) < 0 || v == 0)
            return cli_usage("sync", "--max-range must be 1..10000000 blocks");
        o.max_range = v;
    }
    if (range_logs) {
        if (parse_uint(range_logs, 10000000, &v) < 0 || v < 2)
            return cli_usage("sync", "--range-logs must be 2..10000000 logs");
        o.range_logs = (size_t)v;
    }
    if (timeout) {
        if (parse_uint(timeout, 600000, &v) < 0 || v < 100)
            return cli_usage("sync", "--rpc-timeout-ms must be 100..600000");
        o.rpc.timeout_ms = (long)v;
    }
    if (max_addr) {
        if (parse_uint(max_addr, 100000, &v) < 0)
            return cli_usage("sync", "--max-addresses must be 0..100000");
        o.max_addresses = (size_t)v;
    }
    if (n_pos > 0)
        return cli_usage("sync", "unexpected argument '%s'", argv[1]);
    char db_shown[1024] = "";
    if (db_url) {
        /* the command line over the desk's book.conf (checked below all the same) */
        pg_url_redact(db_url, db_shown, sizeof db_shown);
        if (!pg_url_is_pg(db_url))
            return cli_usage("sync", "--db takes a postgresql:// URL, not '%s'", db_shown);
        if (swaps)
            return cli_usage("sync", "--swaps works on desk.db: not with --db");
    }
    if (o.initial_range > o.max_range)
        o.initial_range = o.max_range;
    /* the swaps sign in the background: no terminal to ask or confirm on */
    if (swaps && (!ctx->passphrase_file || !ctx->yes))
        return cli_usage("sync", "--swaps signs without a terminal: it needs --passphrase-file "
                                 "FILE and --yes (global options, before `sync`)");

    err e;
    err_clear(&e);
    if (cli_home_existing(ctx, &e) < 0)
        return cli_fail(&e);
    /* without --db, where the desk decided to keep its book (book.conf; none: desk.db) */
    pg_desk_book book;
    if (!db_url) {
        if (pg_desk_book_read(ctx->home, &book, &e) < 0)
            return cli_fail(&e);
        if (book.present) {
            db_url = book.url;
            snprintf(db_shown, sizeof db_shown, "%s", book.shown);
            if (swaps)
                return cli_usage("sync", "--swaps works on desk.db: not on a desk whose book is "
                                         "on a server (book.conf)");
        }
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/fusion.log", ctx->home);
    if (log_open(path, &e) < 0)
        return cli_fail(&e);
    if (chain_name) {
        snprintf(path, sizeof path, "%s/desk.db", ctx->home);
        store *db = NULL;
        store_chain ch;
        bool found = false;
        int rc = store_open(&db, path, &e);
        if (rc == 0)
            rc = store_chain_find_name(db, chain_name, &ch, &found, &e);
        store_close(&db);
        if (rc < 0)
            return cli_fail(&e);
        if (!found) {
            err_set(&e, ERR_NOT_FOUND, "no chain named \"%s\" (see `fusion chain list`)",
                    chain_name);
            return cli_fail(&e);
        }
        o.only_chain = ch.chain_id;
    }
    o.home = ctx->home;
    if (db_url) {
        /* the server answers, holds a desk's book and the chains to sync, or one line now
         * (not a thread retrying forever) */
        snprintf(path, sizeof path, "%s/desk.db", ctx->home);
        store *db = NULL;
        store_chain *chains = NULL;
        size_t n = 0;
        int rc = store_open(&db, path, &e);
        if (rc == 0)
            rc = store_chain_list(db, &chains, &n, &e);
        store_close(&db);
        if (rc < 0)
            return cli_fail(&e);
        uint64_t *ids = calloc(n ? n : 1, sizeof *ids);
        size_t k = 0;
        for (size_t i = 0; ids && i < n; i++)
            if (!o.only_chain || chains[i].chain_id == o.only_chain)
                ids[k++] = chains[i].chain_id;
        free(chains);
        if (!ids) {
            err_set(&e, ERR_NOMEM, "out of memory");
            return cli_fail(&e);
        }
        rc = pg_book_check(db_url, ids, k, &e);
        free(ids);
        if (rc < 0)
            return cli_fail(&e);
        o.book = &pg_book;
        o.book_url = db_url;
        o.book_shown = db_shown;
    }
    /* The schedule (docs/operations.md): a bad backup.conf is refused before anything runs. */
    backup_conf bconf;
    if (backup_conf_load(&bconf, ctx->home, &e) < 0)
        return cli_fail(&e);
    bool schedule = bconf.present && !o.once;
    double next_tick = 0;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    stop_requested = 0;

    /* sync, and automatic screening of every new escrow on the chain threads
     * (docs/compliance.md): here a screener that cannot start is an error */
    desk_sync_options dso;
    desk_sync_options_default(&dso, ctx->home);
    dso.sync = o;
    dso.screener_required = true;
    dso.book_reader = o.book ? &pg_reader : NULL; /* the screener reads the escrows there */
    desk_sync *svc = NULL;
    if (desk_sync_start(&svc, &dso, &e) < 0)
        return cli_fail(&e);
    sync_engine *eng = desk_sync_engine(svc);
    LOG_I("sync", "fusion sync%s started (pid %ld)%s%s", o.once ? " --once" : "", (long)getpid(),
          db_url ? ": the book on " : "", db_shown);

    bool tty = isatty(STDERR_FILENO);
    double last_print = 0, period = tty ? 0.5 : 5.0;
    sync_chain_stats stats[64];
    sync_phase last_phase[64];
    for (size_t i = 0; i < 64; i++)
        last_phase[i] = SYNC_STARTING;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t tty_lines = 0;
    double last_swaps = -1e9;
    for (;;) {
        struct pollfd p = {.fd = sync_notify_fd(eng), .events = POLLIN};
        int prc = poll(&p, 1, 250);
        if (prc > 0)
            sync_notify_drain(eng);
        if (stop_requested) {
            sync_request_stop(eng);
            break;
        }
        if (sync_finished(eng))
            break;
        if (swaps && !o.once) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            double at = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
            if (at - last_swaps >= SWAP_PASS_S) {
                last_swaps = at;
                advance_swaps(ctx, false, quiet);
            }
        }
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        double now = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
        if (schedule && now >= next_tick) {
            /* Due or not is decided from the archives' times; this only paces the look. */
            int64_t last_ok = 0;
            err be;
            err_clear(&be);
            if (backup_schedule_tick(ctx->home, &bconf, (int64_t)time(NULL), &last_ok, &be) < 0)
                cli_errorf("fusion sync: scheduled backup failed: %s", be.msg);
            next_tick = now + 30;
        }
        if (quiet)
            continue;
        size_t n = sync_stats(eng, stats, 64);
        if (n > 64)
            n = 64;
        bool phase_changed = false;
        for (size_t i = 0; i < n; i++)
            if (stats[i].phase != last_phase[i]) {
                phase_changed = true;
                last_phase[i] = stats[i].phase;
            }
        if (now - last_print < period && !(phase_changed && !tty))
            continue;
        last_print = now;
        if (tty && tty_lines)
            fprintf(stderr, "\033[%zuA", tty_lines);
        for (size_t i = 0; i < n; i++) {
            /* the chain's name and its last error are stored or outside text: escaped (on a
             * terminal cut to 200 bytes, at a character) */
            char line[512], shown[6 * sizeof line];
            sync_progress_line(&stats[i], line, sizeof line);
            if (tty)
                fprintf(stderr, "\r\033[K%s\n", text_safe(shown, 201, line, strlen(line)));
            else
                fprintf(stderr, "sync %s\n", text_safe_str(shown, sizeof shown, line));
        }
        tty_lines = tty ? n : 0;
    }
    size_t n = sync_stats(eng, stats, 64);
    compliance_screen_stats st;
    int rc = desk_sync_stop(&svc, &st, &e); /* the screener after its last pass */
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n && !quiet; i++) {
        char line[512], shown[6 * sizeof line];
        sync_progress_line(&stats[i], line, sizeof line);
        fprintf(stderr, "%ssync %s\n", tty ? "\r\033[K" : "",
                text_safe_str(shown, sizeof shown, line));
    }
    if (swaps && o.once && rc == 0 && !stop_requested)
        advance_swaps(ctx, true, quiet); /* after the catch-up, each to where it waits */
    if (!quiet)
        fprintf(stderr, "screened %zu new escrows: %zu hits, %zu cases opened\n", st.screened,
                st.hits, st.cases_opened);
    LOG_I("sync", "fusion sync stopped%s", stop_requested ? " by a signal" : "");
    if (rc < 0)
        return cli_fail(&e);
    return EXIT_OK;
}
