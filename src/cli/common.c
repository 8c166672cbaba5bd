/* common.c: what every subcommand (and `fusion ui`) shares: the stderr printers that make
 * echoed text safe, the option-table front end, and the desk home checks and openers.
 * Apart from main.c (the dispatch), so that a command defined outside src/cli (`fusion ui`
 * in ui/ui.c) can use them without depending on the dispatch that calls it. */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#include "cli/opts.h"
#include "store/store.h"

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

int cli_opts_n(const char *cmd, int argc, char **argv, const cli_opt *opts, size_t n_opts,
               size_t n_want, const char *what)
{
    size_t n_pos;
    int u = cli_opts(cmd, argc, argv, opts, n_opts, &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos != n_want && !what && n_pos > n_want)
        return cli_usage(cmd, "unexpected argument '%s'", argv[n_want + 1]);
    if (n_pos != n_want)
        return cli_usage(cmd, "%s", what ? what : "too few arguments");
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
        return err_set(e, ERR_NOT_FOUND, "no desk at %s: create one with `fusion key new` and "
                       "`fusion --operator NAME operator genesis --key ADDRESS`, or `fusion "
                       "demo` (or pick another --home)", ctx->home);
    if (home_private(ctx, e) < 0)
        return -1;
    if (!home_has_desk(ctx))
        return err_set(e, ERR_NOT_FOUND, "no desk at %s (neither desk.db nor audit.log): create "
                       "one with `fusion key new` and `fusion --operator NAME operator genesis "
                       "--key ADDRESS`, or `fusion demo` (or pick another --home)", ctx->home);
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

/* A decision on a desk whose genesis no admin has signed: refused before the home is
 * created or the desk opened. */
static int genesis_check(const cli_ctx *ctx, err *e)
{
    if (!ctx->needs_genesis)
        return 0;
    uint8_t id[32];
    bool present = false;
    if (audit_desk_id(ctx->home, id, &present, e) < 0)
        return -1;
    return present ? 0 : err_set(e, ERR_DENIED, "%s", AUDIT_NO_GENESIS);
}

int cli_desk_open(const cli_ctx *ctx, store **db, err *e)
{
    *db = NULL;
    if (genesis_check(ctx, e) < 0 || cli_home_existing(ctx, e) < 0)
        return -1;
    return desk_open_in(ctx, db, e);
}

int cli_desk_create(const cli_ctx *ctx, store **db, err *e)
{
    *db = NULL;
    if (genesis_check(ctx, e) < 0 || cli_home_ensure(ctx, e) < 0)
        return -1;
    return desk_open_in(ctx, db, e);
}

