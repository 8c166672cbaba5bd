/* main.c: entry point of the fusion binary. Global options, desk home, and the
 * dispatch over CLI_COMMANDS; no subcommand opens the terminal UI. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void errorv(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
    char *raw = NULL;
    int n = vasprintf(&raw, fmt, ap);
    if (n < 0)
        raw = NULL; /* undefined after a failure */
    char *safe = n >= 0 ? text_safe_dup(raw, (size_t)n) : NULL;
    fprintf(stderr, "%s%s%s\n", prefix, safe ? safe : "(out of memory formatting a message)",
            suffix);
    free(safe);
    free(raw);
}

void cli_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errorv("", fmt, ap, "");
    va_end(ap);
}

int cli_fail(const err *e)
{
    cli_errorf("fusion: %s", e && e->msg[0] ? e->msg : "operation failed");
    return EXIT_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "fusion %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    errorv(prefix, fmt, ap, " (see `fusion help`)");
    va_end(ap);
    return EXIT_USAGE;
}

int cli_opts(const char *cmd, int argc, char **argv, const cli_opt *opts, size_t n_opts,
             size_t *n_pos)
{
    err e;
    err_clear(&e);
    if (cli_opts_parse(argc, argv, opts, n_opts, n_pos, &e) < 0)
        return cli_usage(cmd, "%s", e.msg);
    return EXIT_OK;
}

int cli_home_ensure(const cli_ctx *ctx, err *e)
{
    struct stat st;
    if (stat(ctx->home, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return err_set(e, ERR_INVALID, "desk home %s is not a directory", ctx->home);
        return 0;
    }
    /* mkdir -p with 0700 for the last component. */
    char path[sizeof ctx->home];
    snprintf(path, sizeof path, "%s", ctx->home);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return err_set(e, ERR_IO, "cannot create %s: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "cannot create desk home %s: %s", path, strerror(errno));
    return 0;
}

int cli_desk_open(const cli_ctx *ctx, store **db, err *e)
{
    if (cli_home_ensure(ctx, e) < 0)
        return -1;
    char path[sizeof ctx->home + 32];
    snprintf(path, sizeof path, "%s/fusion.log", ctx->home);
    if (log_open(path, e) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/desk.db", ctx->home);
    return store_open(db, path, e);
}

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
    fputs(usage_text, stdout);
    puts("\ncommands:");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-12s %s\n", commands[i].name, commands[i].summary);
    return EXIT_OK;
}

int cmd_version(cli_ctx *ctx, int argc, char **argv)
{
    printf("fusion %s\n", FUSION_VERSION);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    cli_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    const char *opt_home = NULL;
    enum { OPT_HOME = 256, OPT_OPERATOR, OPT_PASSFILE, OPT_JSON, OPT_YES, OPT_HELP, OPT_VERSION };
    static const struct option opts[] = {
        {"home", required_argument, NULL, OPT_HOME},
        {"operator", required_argument, NULL, OPT_OPERATOR},
        {"passphrase-file", required_argument, NULL, OPT_PASSFILE},
        {"json", no_argument, NULL, OPT_JSON},
        {"yes", no_argument, NULL, OPT_YES},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    /* '+': stop at the first non-option, the subcommand parses the rest. */
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_HOME:
            opt_home = optarg;
            break;
        case OPT_OPERATOR:
            ctx.operator_name = optarg;
            break;
        case OPT_PASSFILE:
            ctx.passphrase_file = optarg;
            break;
        case OPT_JSON:
            ctx.json = true;
            break;
        case OPT_YES:
            ctx.yes = true;
            break;
        case 'h':
        case OPT_HELP:
            return cmd_help(&ctx, 0, NULL);
        case OPT_VERSION:
            return cmd_version(&ctx, 0, NULL);
        default:
            cli_errorf("fusion: unknown or incomplete option '%s'", argv[optind - 1]);
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
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
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    if (sub_argc == 0)
        return cmd_ui(&ctx, 0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, sub_argv[0]) == 0) {
            /* Subcommands parse their own options from index 1. */
            optind = 1;
            return commands[i].run(&ctx, sub_argc, sub_argv);
        }
    }
    cli_errorf("fusion: unknown command '%s' (see `fusion help`)", sub_argv[0]);
    return EXIT_USAGE;
}
