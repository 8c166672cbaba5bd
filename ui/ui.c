/* ui.c: `fusion` with no subcommand (and `fusion ui`): opens the terminal workstation on
 * the desk. Creates the desk home, sends the log to <home>/fusion.log (nothing may write
 * to the terminal behind curses' back), and runs the loop of app.c. `fusion ui --keys`
 * prints the key tables of the docs, generated from the action table. The desk (ui/desk.h)
 * is opened first: it starts chain sync in this process unless another one syncs. */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "base/log.h"
#include "cli/cli.h"
#include "desk.h"
#include "job.h"
#include "keymap.h"
#include "notify.h"
#include "task.h"

/* The quit question counts the escrow action and the desk write in flight. */
static size_t ui_job_pending_cb(void *arg)
{
    (void)arg;
    return ui_job_pending() + ui_task_pending();
}

int cmd_ui(cli_ctx *ctx, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keys") == 0 || strcmp(argv[i], "--keys=markdown") == 0) {
            ui_keymap_print(stdout, false);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--keys=man") == 0) {
            ui_keymap_print(stdout, true);
            return EXIT_OK;
        }
        return cli_usage("ui", "unknown argument '%s'; the only option is --keys[=man]", argv[i]);
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "fusion: the workstation needs a terminal; use a subcommand in scripts "
                        "(see `fusion help`)\n");
        return EXIT_FAIL;
    }
    err e;
    err_clear(&e);
    if (cli_home_ensure(ctx, &e) < 0)
        return cli_fail(&e);
    char log_path[sizeof ctx->home + 16];
    snprintf(log_path, sizeof log_path, "%s/fusion.log", ctx->home);
    if (log_open(log_path, &e) < 0)
        return cli_fail(&e);
    setlocale(LC_ALL, "");
    if (ui_notify_init(&e) < 0)
        return cli_fail(&e);

    ui_desk *desk = NULL;
    if (ui_desk_open(&desk, ctx->home, ctx->operator_name, &e) < 0) {
        ui_notify_close();
        return cli_fail(&e);
    }

    ui_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.desk = ctx->home;
    cfg.operator_name = desk->operator_name; /* follows `:operator NAME` */
    cfg.log_path = log_path;
    cfg.facts = ui_desk_facts;
    cfg.permitted = ui_desk_permitted;
    cfg.signed_in = ui_desk_signed_in;
    cfg.alert = ui_desk_alert;
    cfg.wake = ui_desk_wake;
    cfg.timer = ui_desk_timer;
    cfg.pending = ui_job_pending_cb;
    cfg.poll_jobs = ui_job_poll;
    cfg.arg = desk;
    cfg.desk_ctx = desk;
    cfg.quit_note = ctx->quit_note;

    log_quiet(true);
    int sig = 0;
    int rc = ui_run(&cfg, &sig, &e);
    log_quiet(false);
    ui_job_shutdown(); /* waits for the receipt of an action in flight */
    ui_task_shutdown();
    ui_desk_close(&desk);
    ui_notify_close();
    if (rc < 0) {
        LOG_E("ui", "%s", e.msg);
        return cli_fail(&e);
    }
    if (sig) {
        /* Ended by SIGTERM/SIGHUP: the terminal is restored; die of it as expected. */
        log_close();
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return EXIT_OK;
}
