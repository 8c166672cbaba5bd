/* cmd_key.c: `fusion key new|import|export|list|passwd|rm|sign-message`, the headless
 * face of the key store. Secrets never come from argv: passphrases are read from the
 * terminal without echo or from --passphrase-file / --new-passphrase-file (first line),
 * raw keys from --raw-file or a no-echo prompt; all of them live in sodium_malloc memory. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/fsperm.h"
#include "cli/opts.h"
#include "crypto/address.h"
#include "keystore/keystore.h"

#define SECRET_CAP 1024

typedef struct key_opts {
    const char *label;
    const char *raw_file;
    const char *keystore_file;
    const char *out;
    const char *new_passphrase_file;
    const char *kdf;
    bool json;
    bool csv; /* list only */
    bool yes;
} key_opts;

static const char key_usage[] =
    "usage: fusion key new [--label L]\n"
    "       fusion key import [--raw-file FILE | --keystore FILE] [--label L]\n"
    "       fusion key export ADDRESS --out FILE\n"
    "       fusion key list [--json]\n"
    "       fusion key passwd ADDRESS\n"
    "       fusion key rm ADDRESS [--yes]\n"
    "       fusion key sign-message ADDRESS MESSAGE\n"
    "passphrases: terminal (no echo), or --passphrase-file FILE (global) and\n"
    "--new-passphrase-file FILE; --kdf interactive|moderate|sensitive or FUSION_KDF\n";

/* ---- secrets ---- */

static char *secret_new(err *e)
{
    char *s = sodium_malloc(SECRET_CAP);
    if (!s)
        err_set(e, ERR_NOMEM, "out of guarded memory");
    else
        s[0] = '\0';
    return s;
}

static void secret_free(char **s)
{
    if (*s) {
        sodium_memzero(*s, SECRET_CAP);
        sodium_free(*s);
        *s = NULL;
    }
}

/* The first line of a file (newline and a trailing CR stripped). */
static int secret_from_file(char *out, const char *path, const char *what, err *e)
{
    char kind[64];
    snprintf(kind, sizeof kind, "%s file", what);
    if (fsperm_check_private(path, kind, e) < 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot read the %s file %s: %s", what, path, strerror(errno));
    size_t len = 0;
    bool line_end = false;
    while (len < SECRET_CAP - 1 && !line_end) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            sodium_memzero(out, SECRET_CAP);
            return err_set(e, ERR_IO, "cannot read the %s file %s: %s", what, path,
                           strerror(errno));
        }
        if (n == 0 || c == '\n')
            line_end = true;
        else
            out[len++] = c;
    }
    close(fd);
    if (!line_end) {
        sodium_memzero(out, SECRET_CAP);
        return err_set(e, ERR_INVALID, "the first line of the %s file %s is longer than %d bytes",
                       what, path, SECRET_CAP - 2);
    }
    if (len > 0 && out[len - 1] == '\r')
        len--;
    out[len] = '\0';
    if (memchr(out, '\0', len))
        return err_set(e, ERR_INVALID, "the %s file %s contains a NUL byte", what, path);
    return 0;
}

static volatile sig_atomic_t prompt_interrupted;

static void on_prompt_signal(int sig)
{
    (void)sig;
    prompt_interrupted = 1;
}

/* Reads one line from the controlling terminal with echo off. */
static int secret_from_tty(char *out, const char *prompt, bool echo, err *e)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return err_set(e, ERR_USAGE,
                       "no terminal to ask on (%s): use --passphrase-file FILE "
                       "(and --new-passphrase-file FILE)",
                       strerror(errno));
    struct termios old, quiet;
    bool restore = false;
    if (!echo && tcgetattr(fd, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_signal; /* no SA_RESTART: read() returns EINTR */
    sigemptyset(&sa.sa_mask);
    prompt_interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* the prompt is cosmetic; reading still works */
    }
    size_t len = 0;
    int rc = 0;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR && !prompt_interrupted)
            continue;
        if (n < 0 || prompt_interrupted) {
            rc = err_set(e, ERR_USAGE, "interrupted");
            break;
        }
        if (n == 0 || c == '\n' || c == '\r')
            break;
        if (len >= SECRET_CAP - 1) {
            rc = err_set(e, ERR_INVALID, "input longer than %d bytes", SECRET_CAP - 1);
            break;
        }
        out[len++] = c;
    }
    out[len] = '\0';
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    if (!echo && write(fd, "\n", 1) < 0) {
        /* cosmetic */
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    close(fd);
    if (rc < 0)
        sodium_memzero(out, SECRET_CAP);
    if (prompt_interrupted)
        raise(SIGINT);
    return rc;
}

/* The passphrase of an existing key (or keystore file). */
static int passphrase_get(const cli_ctx *ctx, char *out, const char *prompt, err *e)
{
    if (ctx->passphrase_file)
        return secret_from_file(out, ctx->passphrase_file, "passphrase", e);
    return secret_from_tty(out, prompt, false, e);
}

/* A new passphrase: --new-passphrase-file, else (when allowed) --passphrase-file, else
 * asked twice on the terminal. Empty is refused. */
static int passphrase_new(const cli_ctx *ctx, const key_opts *o, bool may_reuse, char *out, err *e)
{
    int rc;
    if (o->new_passphrase_file) {
        rc = secret_from_file(out, o->new_passphrase_file, "new passphrase", e);
    } else if (may_reuse && ctx->passphrase_file) {
        rc = secret_from_file(out, ctx->passphrase_file, "passphrase", e);
    } else {
        char *again = secret_new(e);
        if (!again)
            return -1;
        rc = secret_from_tty(out, "New passphrase: ", false, e);
        if (rc == 0 && *out)
            rc = secret_from_tty(again, "Repeat the new passphrase: ", false, e);
        if (rc == 0 && *out && strcmp(out, again) != 0)
            rc = err_set(e, ERR_INVALID, "the two passphrases differ: nothing changed");
        secret_free(&again);
    }
    if (rc == 0 && !*out)
        rc = err_set(e, ERR_INVALID, "empty passphrase refused: choose a non-empty passphrase");
    return rc;
}

/* ---- options ---- */

/* argv[0] is the action; its positional arguments end up in argv[1..*n_args]. */
static int parse_opts(key_opts *o, int argc, char **argv, size_t *n_args)
{
    memset(o, 0, sizeof *o);
    const cli_opt opts[] = {
        {"label", CLI_OPT_STR, &o->label},
        {"raw-file", CLI_OPT_STR, &o->raw_file},
        {"keystore", CLI_OPT_STR, &o->keystore_file},
        {"out", CLI_OPT_STR, &o->out},
        {"new-passphrase-file", CLI_OPT_STR, &o->new_passphrase_file},
        {"kdf", CLI_OPT_STR, &o->kdf},
        {"json", CLI_OPT_FLAG, &o->json},
        {"csv", CLI_OPT_FLAG, &o->csv},
        {"yes", CLI_OPT_FLAG, &o->yes},
    };
    return cli_opts("key", argc, argv, opts, CLI_NOPTS(opts), n_args);
}

static int store_open(const cli_ctx *ctx, const key_opts *o, keystore **ks, err *e)
{
    const char *level_s = o->kdf ? o->kdf : getenv("FUSION_KDF");
    ks_level level = KS_LEVEL_MODERATE;
    if (level_s && *level_s && keystore_level_parse(&level, level_s, e) < 0)
        return -1;
    if (keystore_open(ks, ctx->home, ctx->operator_name, e) < 0)
        return -1;
    ks_params p = keystore_params_level(level);
    keystore_set_params(*ks, &p);
    return 0;
}

static int fail(err *e)
{
    return e->code == ERR_USAGE ? cli_usage("key", "%s", e->msg) : cli_fail(e);
}

static int parse_address(addr *a, const char *s, err *e)
{
    if (addr_parse(a, s, e) < 0)
        return err_prefix(e, "'%s' is not an address", s);
    return 0;
}

static void print_address(const cli_ctx *ctx, const key_opts *o, const addr *a, const char *label)
{
    char shown[ADDR_STR_MAX];
    if (ctx->json || o->json) {
        addr_to_lower(shown, a);
        json_t *j = json_pack("{s:s, s:s}", "address", shown, "label", label ? label : "");
        cli_json_print(j, JSON_COMPACT);
        json_decref(j);
    } else {
        addr_to_checksum(shown, a);
        puts(shown);
    }
}

/* ---- actions ---- */

static int key_new(const cli_ctx *ctx, const key_opts *o, keystore *ks, err *e)
{
    char *pass = secret_new(e);
    if (!pass)
        return -1;
    addr a;
    int rc = passphrase_new(ctx, o, true, pass, e);
    if (rc == 0)
        rc = keystore_create(ks, o->label ? o->label : "", pass, &a, e);
    secret_free(&pass);
    if (rc == 0)
        print_address(ctx, o, &a, o->label);
    return rc;
}

static int raw_key_read(uint8_t *sk, const key_opts *o, err *e)
{
    char *hex = secret_new(e);
    if (!hex)
        return -1;
    int rc = o->raw_file ? secret_from_file(hex, o->raw_file, "raw key", e)
                         : secret_from_tty(hex, "Private key (hex, not echoed): ", false, e);
    if (rc == 0) {
        /* Surrounding blanks are forgiven; anything else must be 64 hex digits. */
        char *p = hex;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            p[--n] = '\0';
        if (hex_decode_exact(sk, 32, p, HEX_ALLOW_PREFIX, NULL) < 0)
            rc = err_set(e, ERR_INVALID,
                         "the raw key must be 64 hex digits (32 bytes), with or "
                         "without 0x");
    }
    secret_free(&hex);
    return rc;
}

static int key_import(const cli_ctx *ctx, const key_opts *o, keystore *ks, err *e)
{
    if (o->raw_file && o->keystore_file)
        return err_set(e, ERR_USAGE, "give --raw-file or --keystore, not both");
    char *pass = secret_new(e);
    char *v3pass = secret_new(e);
    uint8_t *sk = sodium_malloc(32);
    char *json = NULL;
    addr a;
    int rc = -1;
    if (!pass || !v3pass || !sk) {
        err_set(e, ERR_NOMEM, "out of guarded memory");
        goto out;
    }
    if (o->keystore_file) {
        FILE *f = fopen(o->keystore_file, "re");
        if (!f) {
            err_set(e, ERR_IO, "cannot read keystore file %s: %s", o->keystore_file,
                    strerror(errno));
            goto out;
        }
        json = malloc(65537);
        size_t len = json ? fread(json, 1, 65537, f) : 0;
        bool bad = !json || ferror(f);
        fclose(f);
        if (bad) {
            err_set(e, ERR_IO, "cannot read keystore file %s", o->keystore_file);
            goto out;
        }
        if (passphrase_get(ctx, v3pass, "Passphrase of the keystore file: ", e) < 0 ||
            passphrase_new(ctx, o, true, pass, e) < 0)
            goto out;
        rc = keystore_import_v3(ks, json, len, v3pass, o->label ? o->label : "", pass, &a, e);
        if (rc < 0)
            err_prefix(e, "importing %s", o->keystore_file);
    } else {
        if (raw_key_read(sk, o, e) < 0 || passphrase_new(ctx, o, true, pass, e) < 0)
            goto out;
        rc = keystore_import_raw(ks, sk, o->label ? o->label : "", pass, &a, e);
    }
    if (rc == 0)
        print_address(ctx, o, &a, o->label);
out:
    free(json);
    secret_free(&pass);
    secret_free(&v3pass);
    if (sk)
        sodium_free(sk);
    return rc;
}

static int key_export(const cli_ctx *ctx, const key_opts *o, keystore *ks, const addr *a, err *e)
{
    if (!o->out)
        return err_set(e, ERR_USAGE, "export needs --out FILE");
    char *pass = secret_new(e);
    char *v3pass = secret_new(e);
    int rc = -1;
    if (pass && v3pass && passphrase_get(ctx, pass, "Passphrase: ", e) == 0) {
        if (o->new_passphrase_file)
            rc = secret_from_file(v3pass, o->new_passphrase_file, "new passphrase", e);
        else
            rc = ctx->passphrase_file ? (memcpy(v3pass, pass, SECRET_CAP), 0)
                                      : passphrase_new(ctx, o, false, v3pass, e);
        if (rc == 0)
            rc = keystore_export_v3(ks, a, pass, v3pass, o->out, e);
    }
    secret_free(&pass);
    secret_free(&v3pass);
    if (rc == 0)
        puts(o->out);
    return rc;
}

static int key_list(const cli_ctx *ctx, const key_opts *o, keystore *ks, err *e)
{
    ks_entry *v = NULL;
    size_t n = 0;
    if (keystore_list(ks, &v, &n, e) < 0)
        return -1;
    ks_params moderate = keystore_params_level(KS_LEVEL_MODERATE);
    if (ctx->json || o->json || o->csv) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            char shown[ADDR_STR_MAX];
            addr_to_lower(shown, &v[i].address);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:I}", "address", shown,
                                                 "label", v[i].label, "created", v[i].created,
                                                 "opslimit", (json_int_t)v[i].opslimit, "memlimit",
                                                 (json_int_t)v[i].memlimit));
        }
        int crc = 0;
        if (o->csv)
            crc = cli_csv_write(arr, e);
        else
            cli_json_print(arr, JSON_COMPACT);
        json_decref(arr);
        if (crc < 0) {
            free(v);
            return -1;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            char shown[ADDR_STR_MAX];
            addr_to_checksum(shown, &v[i].address);
            bool weak = v[i].opslimit < moderate.opslimit || v[i].memlimit < moderate.memlimit;
            printf("%s  %s  %s%s\n", shown, v[i].created, v[i].label[0] ? v[i].label : "-",
                   weak ? "  (weak KDF: raise with `fusion key passwd`)" : "");
        }
    }
    free(v);
    return 0;
}

static int key_passwd(const cli_ctx *ctx, const key_opts *o, keystore *ks, const addr *a, err *e)
{
    char *old = secret_new(e);
    char *pass = secret_new(e);
    int rc = -1;
    if (old && pass && passphrase_get(ctx, old, "Current passphrase: ", e) == 0 &&
        passphrase_new(ctx, o, false, pass, e) == 0)
        rc = keystore_passwd(ks, a, old, pass, e);
    secret_free(&old);
    secret_free(&pass);
    if (rc == 0) {
        char shown[ADDR_STR_MAX];
        addr_to_checksum(shown, a);
        printf("passphrase changed for %s\n", shown);
    }
    return rc;
}

static int key_rm(const cli_ctx *ctx, const key_opts *o, keystore *ks, const addr *a, err *e)
{
    char shown[ADDR_STR_MAX];
    addr_to_checksum(shown, a);
    ks_entry entry;
    if (keystore_get(ks, a, &entry, e) < 0)
        return -1;
    if (!ctx->yes && !o->yes) {
        char typed[128];
        char prompt[200];
        snprintf(prompt, sizeof prompt, "Delete key %s (%s)? Type its address to confirm: ", shown,
                 entry.label[0] ? entry.label : "no label");
        char *line = secret_new(e);
        if (!line)
            return -1;
        int rc = secret_from_tty(line, prompt, true, e);
        snprintf(typed, sizeof typed, "%s", line);
        secret_free(&line);
        if (rc < 0) {
            char why[ERR_MSG_MAX];
            memcpy(why, e->msg, sizeof why);
            return err_set(e, ERR_USAGE,
                           "cannot ask for confirmation (%.120s): pass --yes to "
                           "delete without asking",
                           why);
        }
        addr confirm;
        if (addr_parse(&confirm, typed, NULL) < 0 || !addr_equal(&confirm, a))
            return err_set(e, ERR_DENIED, "the confirmation did not match %s: nothing deleted",
                           shown);
    }
    if (keystore_remove(ks, a, e) < 0)
        return -1;
    printf("deleted %s\n", shown);
    return 0;
}

static int key_sign_message(const cli_ctx *ctx, keystore *ks, const addr *a, const char *msg,
                            err *e)
{
    char *pass = secret_new(e);
    if (!pass)
        return -1;
    ks_key *k = NULL;
    int rc = passphrase_get(ctx, pass, "Passphrase: ", e);
    if (rc == 0)
        rc = keystore_unlock(ks, a, pass, &k, e);
    secret_free(&pass);
    uint8_t sig[65];
    if (rc == 0)
        rc = keystore_sign_message(k, sig, msg, strlen(msg), e);
    keystore_lock(&k);
    if (rc == 0) {
        char hex[2 * 65 + 3];
        hex_encode(hex, sizeof hex, sig, sizeof sig, true);
        puts(hex);
    }
    return rc;
}

int cmd_key(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(key_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "fusion: libsodium failed to initialise\n");
        return EXIT_FAIL;
    }
    /* Passphrases and raw keys pass through this process before any key is unlocked:
     * no core dumps (and no same-user ptrace) for the whole command. */
    struct rlimit core;
    if (getrlimit(RLIMIT_CORE, &core) == 0) {
        core.rlim_cur = 0;
        (void)setrlimit(RLIMIT_CORE, &core);
    }
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    const char *action = argv[1];
    key_opts o;
    size_t n_args = 0;
    int urc = parse_opts(&o, argc - 1, argv + 1, &n_args);
    if (urc == 0 && o.csv && strcmp(action, "list") != 0)
        urc = cli_usage("key", "--csv is for `fusion key list`");
    if (urc == 0 && o.csv && (o.json || ctx->json))
        urc = cli_usage("key", "--json and --csv are alternatives: give one");
    if (urc != 0)
        return urc;
    char **args = argv + 2;
    int nargs = (int)n_args;
    static const struct {
        const char *name;
        int nargs;
        bool writes;
    } actions[] = {
        {"new", 0, true},     {"import", 0, true}, {"export", 1, false},       {"list", 0, false},
        {"passwd", 1, false}, {"rm", 1, false},    {"sign-message", 2, false},
    };
    size_t which = sizeof actions / sizeof actions[0];
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(actions[i].name, action) == 0)
            which = i;
    if (which == sizeof actions / sizeof actions[0])
        return cli_usage("key",
                         "unknown action '%s' (new, import, export, list, passwd, rm, "
                         "sign-message)",
                         action);
    if (nargs != actions[which].nargs)
        return cli_usage("key", "%s takes %d argument(s), got %d", action, actions[which].nargs,
                         nargs);
    err e;
    err_clear(&e);
    addr a;
    if (actions[which].nargs >= 1 && parse_address(&a, args[0], &e) < 0)
        return cli_usage("key", "%s", e.msg);
    const char *const secret_files[] = {o.new_passphrase_file, o.raw_file};
    for (size_t i = 0; i < sizeof secret_files / sizeof secret_files[0]; i++)
        if (secret_files[i] && fsperm_check_private(secret_files[i], i ? "raw key file" :
                                                    "new passphrase file", &e) < 0)
            return cli_fail(&e);
    /* new and import may start a desk; every other action needs one. */
    if ((actions[which].writes ? cli_home_ensure(ctx, &e) : cli_home_existing(ctx, &e)) < 0)
        return cli_fail(&e);
    keystore *ks = NULL;
    if (store_open(ctx, &o, &ks, &e) < 0)
        return fail(&e);
    int rc;
    switch (which) {
    case 0:
        rc = key_new(ctx, &o, ks, &e);
        break;
    case 1:
        rc = key_import(ctx, &o, ks, &e);
        break;
    case 2:
        rc = key_export(ctx, &o, ks, &a, &e);
        break;
    case 3:
        rc = key_list(ctx, &o, ks, &e);
        break;
    case 4:
        rc = key_passwd(ctx, &o, ks, &a, &e);
        break;
    case 5:
        rc = key_rm(ctx, &o, ks, &a, &e);
        break;
    default:
        rc = key_sign_message(ctx, ks, &a, args[1], &e);
        break;
    }
    keystore_free(&ks);
    return rc < 0 ? fail(&e) : EXIT_OK;
}
