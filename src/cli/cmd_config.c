/* cmd_config.c: `fusion config sign policy|risk-limits|compliance|sanctions|prices
 * [--file F]` and `fusion config status`. The desk's configuration files (policy.conf,
 * risk-limits.csv, compliance.conf, desk-sanctions.txt, prices.csv, book.conf) are decisions:
 * signing one records its SHA-256 and its text as a signed audit row of an operator
 * holding the file's role (admin; compliance for the rules, the desk's sanctions list and
 * its prices), and a desk whose genesis is signed acts only on the content last signed
 * (audit_config_check in the desk, risk and compliance loaders). */
#include "cli/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/file.h"
#include "base/fsperm.h"
#include "cli/opts.h"
#include "compliance/compliance.h"
#include "desk/desk.h"
#include "pgstore/pg_desk.h"
#include "risk/service.h"
#include "store/store.h"

#define CONFIG_FILE_MAX (1024 * 1024)

/* The whole file (*exists false when there is none); refused beyond CONFIG_FILE_MAX. */
static int slurp(const char *path, char **out, size_t *len, bool *exists, err *e)
{
    *exists = false;
    if (file_read_all(path, CONFIG_FILE_MAX, "a desk configuration file", out, len, e) == 0) {
        *exists = true;
        return 0;
    }
    if (e->code == ERR_NOT_FOUND) {
        err_clear(e);
        return 0;
    }
    return -1;
}

/* The content parses as the kind of file it is to become (the loader's own parser, over the
 * bytes that are signed). */
static int validate(const audit_config_kind *k, const char *path, const char *text, size_t len,
                    err *e)
{
    if (!strcmp(k->name, "policy")) {
        policy *p = NULL;
        int rc = policy_parse(&p, text, len, e);
        policy_free(&p);
        return rc < 0 ? err_prefix(e, "%s", path) : 0;
    }
    if (!strcmp(k->name, "risk-limits")) {
        risk_limits l;
        return risk_limits_parse(path, text, len, &l, e);
    }
    if (!strcmp(k->name, "sanctions")) {
        /* the screener's own strict reader, over the shipped lists and this file */
        char manifest[4096];
        screen_sanctions *sl = NULL;
        (void)text;
        if (risk_data_file("sanctions/manifest.txt", manifest, sizeof manifest, e) < 0 ||
            screen_sanctions_load(&sl, manifest, path, e) < 0)
            return -1;
        screen_sanctions_free(&sl);
        return 0;
    }
    if (!strcmp(k->name, "book")) {
        pg_desk_book b;
        return pg_desk_book_parse(path, text, len, &b, e);
    }
    if (!strcmp(k->name, "prices")) {
        compliance_prices pr;
        FILE *f = fmemopen((void *)(uintptr_t)text, len ? len : 1, "r");
        if (!f)
            return err_set(e, ERR_NOMEM, "out of memory reading %s", path);
        if (!len)
            (void)fgetc(f);
        int rc = compliance_prices_read(&pr, path, f, e);
        fclose(f);
        if (rc == 0)
            compliance_prices_free(&pr);
        return rc;
    }
    compliance_config c;
    compliance_config_default(&c);
    FILE *f = fmemopen((void *)(uintptr_t)text, len ? len : 1, "r");
    if (!f)
        return err_set(e, ERR_NOMEM, "out of memory reading %s", path);
    int rc = compliance_config_read(&c, path, f, e);
    fclose(f);
    return rc;
}

static int role_check(store *db, const cli_ctx *ctx, const audit_config_kind *k, err *e)
{
    store_operator op;
    bool found = false;
    if (store_operator_get(db, ctx->operator_name, &op, &found, e) < 0)
        return -1;
    unsigned have = 0, want = 0;
    if (found && (desk_roles_parse(&have, op.roles, e) < 0 || desk_roles_parse(&want, k->role, e) < 0))
        return -1;
    if (!found || !(have & want))
        return err_set(e, ERR_DENIED, "signing %s is a decision of the %s role: %.63s holds %s "
                       "(nothing recorded)", k->file, k->role, ctx->operator_name,
                       found && op.roles[0] ? op.roles : "no role");
    return 0;
}

static int config_sign(cli_ctx *ctx, int argc, char **argv)
{
    const char *file = NULL;
    const cli_opt opts[] = {{"file", CLI_OPT_STR, &file}};
    int u = cli_opts_n("config sign", argc, argv, opts, CLI_NOPTS(opts), 1,
                       "needs one of policy, risk-limits, compliance, sanctions, prices, book");
    if (u != EXIT_OK)
        return u;
    const audit_config_kind *k = audit_config_kind_find(argv[1]);
    if (!k)
        return cli_usage("config sign", "'%s' is not a desk configuration file: policy, "
                         "risk-limits, compliance, sanctions, prices or book", argv[1]);
    err e;
    err_clear(&e);
    store *db = NULL;
    char *text = NULL;
    json_t *det = NULL;
    int rc = EXIT_FAIL;
    char home_path[sizeof ctx->home + 32];
    snprintf(home_path, sizeof home_path, "%s/%s", ctx->home, k->file);
    const char *src = file ? file : home_path;
    size_t len = 0;
    bool exists = false, signed_desk = false;
    audit_config_record_t prev;
    if (cli_desk_open(ctx, &db, &e) < 0 || role_check(db, ctx, k, &e) < 0 ||
        audit_config_get(ctx->home, k, &signed_desk, &prev, &e) < 0)
        goto fail;
    if (!signed_desk) {
        err_set(&e, ERR_DENIED, "%s", AUDIT_NO_GENESIS);
        goto fail;
    }
    if (!file && access(home_path, F_OK) == 0 &&
        fsperm_check_private(home_path, "desk configuration", &e) < 0)
        goto fail;
    if (slurp(src, &text, &len, &exists, &e) < 0)
        goto fail;
    if (file && !exists) {
        err_set(&e, ERR_NOT_FOUND, "%s does not exist: nothing to sign", file);
        goto fail;
    }
    if (!exists && (!prev.present || !strcmp(prev.sha256, AUDIT_CONFIG_ABSENT))) {
        err_set(&e, ERR_NOT_FOUND, "%s does not exist: nothing to sign (the desk uses its "
                "defaults)", home_path);
        goto fail;
    }
    if (exists && validate(k, src, text, len, &e) < 0)
        goto fail;
    char sha[AUDIT_HASH_HEX];
    audit_config_hash(sha, text, len, exists);
    if (prev.present && !strcmp(prev.sha256, sha)) {
        /* Already the signed content: from --file it is put back in place all the same. */
        if (file && fsperm_write_atomic(home_path, text, len, true, &e) < 0)
            goto fail;
        printf("%s is signed as it is (audit row %" PRIu64 " by %s): nothing recorded%s\n",
               k->file, prev.seq, prev.operator_name,
               file ? "; installed in the desk home" : "");
        rc = EXIT_OK;
        goto out;
    }
    det = audit_config_details(k, text, len, exists, &prev);
    if (!det) {
        err_set(&e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (store_begin(db, &e) < 0)
        goto fail;
    if (store_audit(db, ctx->home, ctx->operator_name, k->action, det, &e) < 0 ||
        store_commit(db, &e) < 0) {
        store_rollback(db);
        goto fail;
    }
    /* Signed first, installed second: until the file is in place the desk refuses it. */
    if (file && fsperm_write_atomic(home_path, text, len, true, &e) < 0) {
        err_prefix(&e, "signed, but not installed as %s (the desk refuses the old one until "
                   "it is there)", home_path);
        goto fail;
    }
    if (exists)
        printf("signed %s (sha256 %.16s..., %zu bytes) as %s%s\n", k->file, sha, len,
               ctx->operator_name, file ? "; installed in the desk home" : "");
    else
        printf("signed the removal of %s as %s: the desk uses its defaults\n", k->file,
               ctx->operator_name);
    rc = EXIT_OK;
    goto out;
fail:
    rc = cli_fail(&e);
out:
    json_decref(det);
    free(text);
    store_close(&db);
    return rc;
}

static int config_status(cli_ctx *ctx, int argc, char **argv)
{
    bool json = false;
    const cli_opt opts[] = {{"json", CLI_OPT_FLAG, &json}};
    size_t n_pos;
    int u = cli_opts("config status", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("config status", "unexpected argument '%s'", argv[1]);
    json = json || ctx->json;
    err e;
    err_clear(&e);
    if (cli_home_existing(ctx, &e) < 0)
        return cli_fail(&e);
    size_t n = 0;
    const audit_config_kind *kinds = audit_config_kinds(&n);
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        const audit_config_kind *k = &kinds[i];
        char path[sizeof ctx->home + 32];
        snprintf(path, sizeof path, "%s/%s", ctx->home, k->file);
        char *text = NULL;
        size_t len = 0;
        bool exists = false, signed_desk = false;
        audit_config_record_t r;
        if (slurp(path, &text, &len, &exists, &e) < 0 ||
            audit_config_get(ctx->home, k, &signed_desk, &r, &e) < 0) {
            free(text);
            json_decref(arr);
            return cli_fail(&e);
        }
        char *dflt = NULL;
        size_t dlen = 0;
        bool dexists = false;
        char dpath[4200];
        err de;
        if (!strcmp(k->name, "policy") &&
            desk_data_path(dpath, sizeof dpath, "policy", "default.policy", &de) == 0)
            (void)slurp(dpath, &dflt, &dlen, &dexists, &de);
        err ce;
        err_clear(&ce);
        bool accepted = audit_config_check(ctx->home, k->name, text, len, exists, dflt, dlen,
                                           &ce) == 0;
        char sha[AUDIT_HASH_HEX];
        audit_config_hash(sha, text, len, exists);
        const char *state = !signed_desk       ? "unsigned desk"
                            : !accepted        ? (r.present ? "changed" : "not signed")
                            : r.present && !exists && !strcmp(r.sha256, sha) ? "removed"
                            : r.present && !strcmp(r.sha256, sha) ? "signed"
                            : exists           ? "default"
                                               : "absent";
        if (arr) {
            json_t *o = json_pack("{s:s,s:s,s:b,s:s}", "file", k->file, "state", state,
                                  "accepted", accepted, "sha256", sha);
            if (o && r.present) {
                json_object_set_new(o, "signed_seq", json_integer((json_int_t)r.seq));
                json_object_set_new(o, "signed_by", json_string(r.operator_name));
            }
            json_array_append_new(arr, o);
        } else {
            printf("%-18s %-13s", k->file, state);
            if (r.present)
                printf(" audit row %" PRIu64 " by %s", r.seq, r.operator_name);
            if (!accepted)
                printf(" (refused: `fusion --operator NAME config sign %s`, %s role)", k->name,
                       k->role);
            putchar('\n');
        }
        free(text);
        free(dflt);
    }
    if (arr) {
        char *s = cli_json_text(arr, JSON_INDENT(2));
        json_decref(arr);
        if (!s) {
            err_set(&e, ERR_NOMEM, "out of memory");
            return cli_fail(&e);
        }
        puts(s);
        free(s);
    }
    return EXIT_OK;
}

int cmd_config(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("config", "needs a subcommand: sign or status");
    if (strcmp(argv[1], "sign") == 0)
        return config_sign(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return config_status(ctx, argc - 1, argv + 1);
    return cli_usage("config", "unknown subcommand '%s' (sign or status)", argv[1]);
}
