/* main.c: entry point of the fusion binary. Global options, desk home, and the
 * dispatch over CLI_COMMANDS; no subcommand opens the terminal UI. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/fsperm.h"
#include "base/log.h"
#include "base/text.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "store/store.h"

#ifndef FUSION_VERSION
#define FUSION_VERSION "0.1.0"
#endif

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(cli_ctx *ctx, int argc, char **argv);
} cli_command;

static const cli_command commands[] = {
#define CLI_ROW_(name, summary) {#name, summary, cmd_##name},
    CLI_COMMANDS(CLI_ROW_)
#undef CLI_ROW_
};

static const char usage_text[] =
    "usage: fusion [--home DIR] [--operator NAME] [--passphrase-file FILE] [--json] [--yes]\n"
    "              [COMMAND [ARGS...]]\n"
    "With no COMMAND, opens the terminal workstation. `fusion help` lists the commands.\n";

static int home_resolve(cli_ctx *ctx, const char *opt_home)
{
    const char *env = getenv("FUSION_HOME");
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;
    if (opt_home && *opt_home)
        n = snprintf(ctx->home, sizeof ctx->home, "%s", opt_home);
    else if (env && *env)
        n = snprintf(ctx->home, sizeof ctx->home, "%s", env);
    else if (xdg && *xdg)
        n = snprintf(ctx->home, sizeof ctx->home, "%s/fusion", xdg);
    else if (home && *home)
        n = snprintf(ctx->home, sizeof ctx->home, "%s/.local/share/fusion", home);
    else
        return -1;
    return n > 0 && (size_t)n < sizeof ctx->home ? 0 : -1;
}

int cmd_help(cli_ctx *ctx, int argc, char **argv)
{
    if (argc > 3)
        return cli_usage("help", "takes at most COMMAND and ACTION");
    if (argc >= 2)
        return cli_help_for(argv[1], argc == 3 ? argv[2] : NULL);
    size_t n_act;
    const cli_action *acts = cli_actions(&n_act);
    fputs(usage_text, stdout);
    puts("\ncommands (`fusion help COMMAND` or `fusion COMMAND --help` for the usage):");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        printf("  %-12s %s\n", commands[i].name, commands[i].summary);
        bool any = false;
        for (size_t k = 0; k < n_act; k++) {
            if (strcmp(acts[k].cmd, commands[i].name) != 0 || !acts[k].action[0])
                continue;
            printf("%s%s", any ? ", " : "               actions: ", acts[k].action);
            any = true;
        }
        if (any)
            putchar('\n');
    }
    return EXIT_OK;
}

int cmd_completion(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "bash") != 0)
        return cli_usage("completion", "wants a shell: bash");
    return cli_completion_bash();
}

/* `fusion CMD [ACTION] ... --help` (or -h, before any `--`): the usage from the table,
 * exit 0, before the command runs (no desk is needed to read a usage). *asked false when
 * the arguments ask for no help. */
static int help_asked(int argc, char **argv, bool *asked)
{
    *asked = false;
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            *asked = true;
    if (!*asked)
        return EXIT_OK;
    size_t n_act;
    const cli_action *acts = cli_actions(&n_act);
    if (argc > 1 && argv[1][0] != '-')
        for (size_t k = 0; k < n_act; k++)
            if (strcmp(acts[k].cmd, argv[0]) == 0 && strcmp(acts[k].action, argv[1]) == 0)
                return cli_help_for(argv[0], argv[1]);
    return cli_help_for(argv[0], NULL);
}

int cmd_version(cli_ctx *ctx, int argc, char **argv)
{
    printf("fusion %s\n", FUSION_VERSION);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    /* Whatever fusion creates (the database and its -wal/-shm files, logs, locks,
     * exports) is its operator's alone. */
    umask(077);
    /* SQLite set up before its first use anywhere (the audit head opens desk.db first). */
    store_init();
    cli_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    const char *opt_home = NULL;
    bool help = false, version = false;
    /* The same table parser as the subcommands: exact names (getopt_long took `--op` for
     * --operator), each single-valued option once; it stops at the subcommand. */
    const cli_opt opts[] = {
        {"home", CLI_OPT_STR, &opt_home},
        {"operator", CLI_OPT_STR, &ctx.operator_name},
        {"passphrase-file", CLI_OPT_STR, &ctx.passphrase_file},
        {"json", CLI_OPT_FLAG, &ctx.json},
        {"yes", CLI_OPT_FLAG, &ctx.yes},
        {"help", CLI_OPT_FLAG, &help},
        {"version", CLI_OPT_FLAG, &version},
    };
    if (argc > 1 && strcmp(argv[1], "-h") == 0)
        return cmd_help(&ctx, 0, NULL);
    int cmd_at = argc;
    err oe;
    err_clear(&oe);
    if (cli_opts_parse_prefix(argc, argv, opts, CLI_NOPTS(opts), &cmd_at, &oe) < 0) {
        cli_errorf("fusion: %s (see `fusion help`)", oe.msg);
        return EXIT_USAGE;
    }
    if (help)
        return cmd_help(&ctx, 0, NULL);
    if (version)
        return cmd_version(&ctx, 0, NULL);
    if (!ctx.operator_name || !*ctx.operator_name)
        ctx.operator_name = getenv("USER");
    if (!ctx.operator_name || !*ctx.operator_name) {
        const struct passwd *pw = getpwuid(getuid());
        ctx.operator_name = pw ? pw->pw_name : "operator";
    }
    if (home_resolve(&ctx, opt_home) < 0) {
        fprintf(stderr, "fusion: cannot find a desk home: set --home DIR or FUSION_HOME\n");
        return EXIT_USAGE;
    }
    /* Refused before any command runs, so a refusal leaves nothing behind. */
    if (ctx.passphrase_file) {
        err pe;
        err_clear(&pe);
        if (fsperm_check_private(ctx.passphrase_file, "passphrase file", &pe) < 0)
            return cli_fail(&pe);
    }
    int sub_argc = argc - cmd_at;
    char **sub_argv = argv + cmd_at;
    if (sub_argc == 0)
        return cmd_ui(&ctx, 0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, sub_argv[0]) == 0) {
            bool asked;
            int h = help_asked(sub_argc, sub_argv, &asked);
            if (asked)
                return h;
            /* Subcommands parse their own options from index 1. A decision is signed
             * with the operator's key, unlocked before the command runs. */
            err se;
            err_clear(&se);
            if (cli_signer_begin(&ctx, sub_argc, sub_argv, &se) < 0)
                return cli_fail(&se);
            return commands[i].run(&ctx, sub_argc, sub_argv);
        }
    }
    cli_errorf("fusion: unknown command '%s' (see `fusion help`)", sub_argv[0]);
    return EXIT_USAGE;
}
