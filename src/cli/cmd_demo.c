/* cmd_demo.c: `fusion demo`, the README's first command: brings the devnet up (unless it
 * runs), seeds the demo desk (operators' keys, tokens, entity records), starts chain sync
 * and the market driver in this process, opens the UI, and when the UI quits stops
 * everything it started. A guardian child process stops the devnet the demo started even
 * when the demo itself dies (killed, terminal closed). `--no-ui --duration 20s` runs it
 * headless for scripts and tests. See docs/demo.md. */
#include "cli/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/text.h"
#include "compliance/compliance.h"
#include "desk/sync_service.h"
#include "devnet/devnet.h"
#include "sync/sync.h"

static const char usage_text[] =
    "usage: fusion demo [--no-ui] [--duration N[s|m|h]] [--ports A,B,C,D] [--step-ms MS]\n"
    "                   [--start YYYY-MM-DD] [--keep-devnet]\n";

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static int parse_duration(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s)
        return -1;
    unsigned long mult = 1;
    if (*end == 'm')
        mult = 60;
    else if (*end == 'h')
        mult = 3600;
    else if (*end != 's' && *end != '\0')
        return -1;
    if (*end && end[1])
        return -1;
    if (v == 0 || v > 7ul * 86400 / mult)
        return -1;
    *out = (unsigned)(v * mult);
    return 0;
}

/* A child that waits for this process to end; unless told "done" first, it stops the
 * devnet (the demo died without cleaning up). Returns the pipe's write end, or -1. */
static int guardian_start(const char *home, pid_t *pid)
{
    int pfd[2];
    if (pipe(pfd) < 0)
        return -1;
    pid_t child = fork();
    if (child < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (child == 0) {
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        close(pfd[1]);
        for (int fd = 3; fd < 1024; fd++)
            if (fd != pfd[0])
                close(fd);
        char c = 0;
        ssize_t r;
        do
            r = read(pfd[0], &c, 1);
        while (r < 0 && errno == EINTR);
        if (r == 1 && c == 'd')
            _exit(0);
        unsigned stopped = 0;
        err e;
        _exit(devnet_down(home, &stopped, &e) < 0 ? 1 : 0);
    }
    close(pfd[0]);
    *pid = child;
    return pfd[1];
}

static void guardian_release(int *fd, pid_t pid)
{
    if (*fd < 0)
        return;
    ssize_t w = write(*fd, "d", 1);
    (void)w;
    close(*fd);
    *fd = -1;
    int st;
    waitpid(pid, &st, 0);
}

static void print_stats(devnet_driver *drv, desk_sync *svc)
{
    sync_engine *sy = desk_sync_engine(svc);
    devnet_driver_stats ds;
    devnet_driver_stats_get(drv, &ds);
    compliance_screen_stats ss = {0}; /* this process's automatic screening so far */
    desk_sync_totals(svc, &ss);
    printf("demo: %llu days replayed (last %s), %llu feed updates, %llu escrows "
           "(%llu escrow transactions), %llu screened, %llu cases opened, %llu errors%s%s\n",
           (unsigned long long)ds.steps, ds.day[0] ? ds.day : "-", (unsigned long long)ds.price_txs,
           (unsigned long long)ds.escrows, (unsigned long long)ds.escrow_txs,
           (unsigned long long)ss.screened, (unsigned long long)ss.cases_opened,
           (unsigned long long)ds.errors, ds.errors ? "; last: " : "",
           ds.errors ? ds.last_error : "");
    /* each chain has its own worker: one whose node stopped answering lags alone */
    for (size_t i = 0; i < ds.n_chains; i++) {
        const devnet_driver_chain_stats *c = &ds.chains[i];
        printf("demo: %s: %llu days replayed (last %s), %llu days skipped, %llu steps cut short, "
               "%llu errors\n",
               c->name, (unsigned long long)c->steps, c->day[0] ? c->day : "-",
               (unsigned long long)c->skipped, (unsigned long long)c->cut_short,
               (unsigned long long)c->errors);
    }
    if (!sy)
        return;
    sync_chain_stats cs[8];
    size_t n = sync_stats(sy, cs, 8);
    for (size_t i = 0; i < n; i++)
        printf("sync: %s %s, head %llu, synced %llu, %llu events\n", cs[i].name,
               sync_phase_str(cs[i].phase), (unsigned long long)cs[i].head,
               (unsigned long long)cs[i].synced, (unsigned long long)cs[i].events);
}

int cmd_demo(cli_ctx *ctx, int argc, char **argv)
{
    bool no_ui = false, keep = false;
    unsigned duration = 0;
    devnet_opts o;
    memset(&o, 0, sizeof o);
    devnet_driver_opts dopts;
    memset(&dopts, 0, sizeof dopts);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--no-ui") == 0) {
            no_ui = true;
        } else if (strcmp(a, "--keep-devnet") == 0) {
            keep = true;
        } else if (strcmp(a, "--duration") == 0 && has_val) {
            if (parse_duration(argv[++i], &duration) < 0)
                return cli_usage("demo", "--duration wants N, Ns, Nm or Nh (at most 7 days)");
        } else if (strcmp(a, "--ports") == 0 && has_val) {
            if (devnet_parse_ports(argv[++i], o.ports) < 0)
                return cli_usage("demo", "--ports wants four ports 1024..65535: A,B,C,D");
        } else if (strcmp(a, "--step-ms") == 0 && has_val) {
            long v = strtol(argv[++i], NULL, 10);
            if (v < 200 || v > 600000)
                return cli_usage("demo", "--step-ms wants 200..600000");
            dopts.step_ms = (unsigned)v;
        } else if (strcmp(a, "--start") == 0 && has_val) {
            dopts.start_date = argv[++i];
            if (strlen(dopts.start_date) != 10)
                return cli_usage("demo", "--start wants YYYY-MM-DD");
        } else {
            fputs(usage_text, stderr);
            return cli_usage("demo", "unknown argument '%s'", a);
        }
    }
    if (!no_ui && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
        return cli_usage("demo", "no terminal for the UI: use --no-ui --duration N");

    err e;
    err_clear(&e);
    char log_path[sizeof ctx->home + 16];
    snprintf(log_path, sizeof log_path, "%s/fusion.log", ctx->home);
    if (cli_home_ensure(ctx, &e) < 0 || log_open(log_path, &e) < 0)
        return cli_fail(&e);
    o.home = ctx->home;
    o.operator_name = ctx->operator_name;
    devnet_node nodes[DEVNET_N_CHAINS];
    printf("demo: starting the devnet (four anvil nodes) in %s/devnet ...\n", ctx->home);
    fflush(stdout);
    if (devnet_up(&o, nodes, &e) < 0)
        return cli_fail(&e);
    bool started = false;
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        started |= nodes[i].started_now;
        printf("demo: %s (%s) %s at %s\n", nodes[i].spec->name, nodes[i].spec->stands_for,
               nodes[i].started_now ? "started" : "already running", nodes[i].url);
    }
    /* stops the devnet we started even if this process dies (before any thread exists) */
    pid_t guard_pid = 0;
    int guard_fd = started && !keep ? guardian_start(ctx->home, &guard_pid) : -1;

    int rc = EXIT_OK;
    desk_sync *svc = NULL; /* sync and automatic screening (headless only) */
    devnet_driver *drv = NULL;
    devnet_seed_report seed;
    if (devnet_seed(ctx->home, ctx->operator_name, &seed, &e) < 0) {
        rc = cli_fail(&e);
        goto stop;
    }
    printf("demo: %u operators (keys under the demo passphrase \"%s\"; %u new; %u new in the "
           "desk), %u token mints, %u counterparties; entities: %u read, %s\n",
           seed.operators, DEVNET_DEMO_PASSPHRASE, seed.keys_imported, seed.operators_new,
           seed.mints, seed.counterparties_read, seed.entities_read, seed.entities_note);

    /* With the UI, the UI process runs the sync threads itself (and shows their
     * progress on the Chains screen); only the headless demo starts them here. */
    if (no_ui) {
        desk_sync_options dso;
        desk_sync_options_default(&dso, ctx->home);
        if (desk_sync_start(&svc, &dso, &e) < 0) {
            /* another fusion process syncs this desk: fine, it keeps the database fresh
             * (and screens) */
            char shown[6 * ERR_MSG_MAX];
            printf("demo: sync not started here: %s\n", text_safe_str(shown, sizeof shown, e.msg));
            err_clear(&e);
        } else if (desk_sync_screening_off(svc)[0]) {
            char shown[6 * ERR_MSG_MAX];
            printf("demo: automatic screening off: %s\n",
                   text_safe_str(shown, sizeof shown, desk_sync_screening_off(svc)));
        }
    }
    dopts.home = ctx->home;
    dopts.operator_name = ctx->operator_name;
    if (devnet_driver_start(&drv, &dopts, &e) < 0) {
        rc = cli_fail(&e);
        goto stop;
    }
    printf("demo: market driver running (one day of price history per %u ms)\n",
           dopts.step_ms ? dopts.step_ms : 2000);
    fflush(stdout);

    if (no_ui) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            if (got_signal)
                break;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (duration && now.tv_sec - t0.tv_sec >= (time_t)duration)
                break;
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    } else {
        char ui_name[] = "ui";
        char *ui_argv[] = {ui_name, NULL};
        /* quitting the UI stops the chains the demo started: it asks first */
        if (started && !keep)
            ctx->quit_note = "Quitting stops the demo's chains (the devnet it started; "
                             "--keep-devnet leaves them running).";
        rc = cmd_ui(ctx, 1, ui_argv);
        ctx->quit_note = NULL;
    }

stop:
    /* the workers stopped and their last transactions mined first: the stats name the day
     * the feeds really show when the demo returns */
    devnet_driver_halt(drv);
    if (drv)
        print_stats(drv, svc);
    devnet_driver_stop(&drv);
    if (svc) {
        err se;
        err_clear(&se);
        if (desk_sync_stop(&svc, NULL, &se) < 0)
            LOG_W("demo", "sync: %s", se.msg);
    }
    if (started && !keep) {
        unsigned stopped = 0;
        err de;
        err_clear(&de);
        if (devnet_down(ctx->home, &stopped, &de) < 0) {
            rc = cli_fail(&de);
        } else {
            printf("demo: devnet stopped (%u nodes)\n", stopped);
        }
    }
    guardian_release(&guard_fd, guard_pid);
    return rc;
}
