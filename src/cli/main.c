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

/* What the desk writes under its home: tightened to 0600 (a directory 0700) when found
 * open to group/others, and the operator is told. keys/ is not here: the key store
 * refuses a loose key directory or key file instead (ssh-style), with the chmod. */
static const char *const desk_files[] = {
    "desk.db", "desk.db-wal", "desk.db-shm", "desk.db-journal", "fusion.log",
    "audit.log", "sync.lock",  "devnet",
};

static int tighten(const char *path, err *e)
{
    mode_t was;
    if (fsperm_tighten(path, &was, e) < 0)
        return -1;
    if (was)
        fprintf(stderr, "fusion: %s was open to group/others (mode %04o); closed to %04o\n", path,
                (unsigned)was, (unsigned)(was & 0700));
    return 0;
}

/* A temporary file of an atomic write (fsperm_write_atomic) that a killed process left
 * behind. Only old ones: a young one may be another process's write in progress. */
#define STALE_TEMP_AGE_S 600

static void clean_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    time_t now = time(NULL);
    while ((de = readdir(d)) != NULL) {
        if (!fsperm_is_temp(de->d_name))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode) || st.st_uid != geteuid() || now - st.st_mtime < STALE_TEMP_AGE_S)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            fprintf(stderr, "fusion: removed %s/%s, left by a write that was cut off\n", dir,
                    de->d_name);
    }
    closedir(d);
}

/* The home and the desk's files in it belong to us and are closed to everyone else. */
static int home_private(const cli_ctx *ctx, err *e)
{
    struct stat st;
    if (stat(ctx->home, &st) < 0)
        return err_set(e, ERR_IO, "cannot access desk home %s: %s", ctx->home, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return err_set(e, ERR_INVALID, "desk home %s is not a directory", ctx->home);
    if (st.st_uid != geteuid())
        return err_set(e, ERR_DENIED, "desk home %s belongs to uid %u, not to you (uid %u): "
                       "refused; use a home of your own (--home DIR)",
                       ctx->home, (unsigned)st.st_uid, (unsigned)geteuid());
    if (tighten(ctx->home, e) < 0)
        return -1;
    for (size_t i = 0; i < sizeof desk_files / sizeof desk_files[0]; i++) {
        char path[sizeof ctx->home + 32];
        snprintf(path, sizeof path, "%s/%s", ctx->home, desk_files[i]);
        if (tighten(path, e) < 0)
            return -1;
    }
    char devnet[sizeof ctx->home + 16];
    snprintf(devnet, sizeof devnet, "%s/devnet", ctx->home);
    clean_temps(ctx->home);
    clean_temps(devnet);
    return 0;
}

/* A home holds a desk once the desk has recorded anything: its database or its audit
 * log (a desk whose database is gone is still a desk; `fusion audit verify` says so). */
static bool home_has_desk(const cli_ctx *ctx)
{
    static const char *const marks[] = {"desk.db", AUDIT_FILE};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        char path[sizeof ctx->home + 32];
        snprintf(path, sizeof path, "%s/%s", ctx->home, marks[i]);
        struct stat st;
        if (lstat(path, &st) == 0)
            return true;
    }
    return false;
}

int cli_home_ensure(const cli_ctx *ctx, err *e)
{
    struct stat st;
    if (stat(ctx->home, &st) < 0) {
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
    }
    return home_private(ctx, e);
}

int cli_home_existing(const cli_ctx *ctx, err *e)
{
    struct stat st;
    if (stat(ctx->home, &st) < 0 && errno == ENOENT)
        return err_set(e, ERR_NOT_FOUND, "no desk at %s: create one with `fusion chain add`, "
                       "`fusion key new` or `fusion demo` (or pick another --home)", ctx->home);
    if (home_private(ctx, e) < 0)
        return -1;
    if (!home_has_desk(ctx))
        return err_set(e, ERR_NOT_FOUND, "no desk at %s (neither desk.db nor audit.log): create "
                       "one with `fusion chain add`, `fusion key new` or `fusion demo` (or pick "
                       "another --home)", ctx->home);
    return 0;
}

static int desk_open_in(const cli_ctx *ctx, store **db, err *e)
{
    char path[sizeof ctx->home + 32];
    snprintf(path, sizeof path, "%s/fusion.log", ctx->home);
    if (log_open(path, e) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/desk.db", ctx->home);
    return store_open(db, path, e);
}

int cli_desk_open(const cli_ctx *ctx, store **db, err *e)
{
    *db = NULL;
    if (cli_home_existing(ctx, e) < 0)
        return -1;
    return desk_open_in(ctx, db, e);
}

int cli_desk_create(const cli_ctx *ctx, store **db, err *e)
{
    *db = NULL;
    if (cli_home_ensure(ctx, e) < 0)
        return -1;
    return desk_open_in(ctx, db, e);
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
    /* Whatever fusion creates (the database and its -wal/-shm files, logs, locks,
     * exports) is its operator's alone. */
    umask(077);
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
