/* cmd_audit.c: `fusion audit list [--json]`, `fusion audit verify [--anchor SEQ:HASH]` (the
 * hash chain and every decision's signature) and `fusion audit export --out DIR` (the
 * signed statements, checkable with `cast wallet verify --data`) over the desk's
 * hash-chained audit log (docs/audit.md). */
#include "cli/cli.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "audit/statement.h"
#include "base/bytes.h"
#include "base/fsperm.h"
#include "base/text.h"
#include "cli/opts.h"
#include "store/store.h"

static const char audit_usage[] =
    "usage: fusion audit list [--json|--csv]\n"
    "       fusion audit verify [--anchor SEQ:HASH] [--log-only] [--json]\n"
    "       fusion audit export --out DIR   (the signed decisions as EIP-712 typed data)\n"
    "       fusion audit adopt   (record the head of a log older than desk.db's audit head)\n";

typedef struct list_state {
    json_t *arr; /* --json: collected rows */
    bool genesis; /* the desk's genesis was listed: decisions from here on are signed */
} list_state;

static int print_row(void *ctx, const audit_row *row, err *e)
{
    list_state *st = ctx;
    st->genesis = st->genesis || strcmp(row->action, "desk.genesis") == 0;
    /* A decision before the genesis carries no signature: it says so where it is shown. */
    bool unsigned_row = !st->genesis && statement_is_decision(row->action);
    if (st->arr) {
        json_t *j = json_loads(row->raw, JSON_REJECT_DUPLICATES, NULL);
        if (j && unsigned_row)
            json_object_set_new(j, "recorded_before_signatures", json_true());
        if (!j || json_array_append_new(st->arr, j) < 0)
            return err_set(e, ERR_NOMEM, "out of memory listing the audit log");
        return 0;
    }
    /* The log is a file: its text (JSON leaves bidi and C1 controls as they are) is made
     * safe before it reaches the terminal. */
    char *details = json_dumps(row->details, JSON_COMPACT | JSON_SORT_KEYS);
    char *line = NULL, *safe = NULL;
    if (asprintf(&line, "%6" PRIu64 "  %s  %-12s  %-14s  %s%s", row->seq, row->time,
                 row->operator_name, row->action, details ? details : "{}",
                 unsigned_row ? "  [recorded before signatures]" : "") < 0)
        line = NULL; /* undefined after a failure */
    safe = line ? text_safe_dup(line, strlen(line)) : NULL;
    free(details);
    free(line);
    if (!safe)
        return err_set(e, ERR_NOMEM, "out of memory listing the audit log");
    puts(safe);
    free(safe);
    return 0;
}

typedef struct export_state {
    const char *dir;
    FILE *index, *script;
    size_t n;
} export_state;

static int export_row(void *vctx, const audit_row *row, const json_t *typed_data,
                      const char *sig_hex, const uint8_t digest[32], err *e)
{
    export_state *x = vctx;
    char name[64], path[4300], dg[67];
    snprintf(name, sizeof name, "decision-%06" PRIu64 ".json", row->seq);
    snprintf(path, sizeof path, "%s/%s", x->dir, name);
    hex_encode(dg, sizeof dg, digest, 32, true);
    char *text = json_dumps(typed_data, JSON_INDENT(2) | JSON_SORT_KEYS);
    int rc = text ? fsperm_write_atomic(path, text, strlen(text), true, e)
                  : err_set(e, ERR_NOMEM, "out of memory exporting");
    free(text);
    if (rc < 0)
        return -1;
    const char *who = json_string_value(
        json_object_get(json_object_get(typed_data, "message"), "operator"));
    json_t *line = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "seq", (json_int_t)row->seq,
                             "action", row->action, "operator", row->operator_name, "address",
                             who ? who : "", "digest", dg, "signature", sig_hex, "typed_data",
                             name);
    char *lt = line ? json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(line);
    if (!lt)
        return err_set(e, ERR_NOMEM, "out of memory exporting");
    fprintf(x->index, "%s\n", lt);
    free(lt);
    fprintf(x->script, "cast wallet verify --data --from-file \"$here/%s\" --address %s %s\n", name,
            who ? who : "", sig_hex);
    x->n++;
    return 0;
}

typedef struct adopt_ops {
    store *db;
    size_t added;
} adopt_ops;

static int adopt_operator(void *vctx, const char *name, const addr *key, const char *roles,
                          err *e)
{
    adopt_ops *a = vctx;
    store_operator op;
    bool found = false;
    if (store_operator_get(a->db, name, &op, &found, e) < 0)
        return -1;
    if (found) {
        if (!addr_equal(&op.address, key))
            return err_set(e, ERR_STATE, "desk.db's operator %.63s has another key than the "
                           "signed log gives: run `fusion audit verify`", name);
        return store_operator_set_roles(a->db, name, roles, &found, e);
    }
    memset(&op, 0, sizeof op);
    snprintf(op.name, sizeof op.name, "%s", name);
    op.address = *key;
    snprintf(op.roles, sizeof op.roles, "%s", roles);
    if (store_operator_add(a->db, &op, e) < 0)
        return -1;
    a->added++;
    return 0;
}

/* After the head: a desk.db rebuilt from nothing gets its desk id, its signed configuration
 * records and its operators back from the signed log, so its decisions verify and are
 * refused or accepted as before. */
static int adopt_signed(cli_ctx *ctx)
{
    err e;
    err_clear(&e);
    bool restored = false;
    if (audit_restore_signed(ctx->home, &restored, &e) < 0)
        return cli_fail(&e);
    if (!restored)
        return EXIT_OK;
    adopt_ops a = {NULL, 0};
    int rc = cli_desk_open(ctx, &a.db, &e);
    if (rc == 0 && (rc = store_begin(a.db, &e)) == 0) {
        if (audit_signed_operators(ctx->home, adopt_operator, &a, &e) < 0 ||
            store_commit(a.db, &e) < 0) {
            store_rollback(a.db);
            rc = -1;
        }
    }
    store_close(&a.db);
    if (rc < 0)
        return cli_fail(&e);
    printf("signed genesis found in the log: desk id, signed configuration and %zu operators "
           "restored in desk.db\n", a.added);
    return EXIT_OK;
}

static int audit_export(cli_ctx *ctx, const char *dir)
{
    err e;
    err_clear(&e);
    audit_report r;
    if (audit_verify(ctx->home, NULL, &r, &e) < 0)
        return cli_fail(&e);
    if (!r.ok) {
        cli_errorf("fusion: audit log %s/%s is broken at line %zu: %s; nothing exported",
                   ctx->home, AUDIT_FILE, r.bad_line, r.problem);
        return EXIT_FAIL;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        cli_errorf("fusion: cannot create %s: %s", dir, strerror(errno));
        return EXIT_FAIL;
    }
    char ipath[4300], spath[4300];
    snprintf(ipath, sizeof ipath, "%s/statements.jsonl", dir);
    snprintf(spath, sizeof spath, "%s/verify.sh", dir);
    export_state x = {dir, fopen(ipath, "we"), fopen(spath, "we"), 0};
    if (!x.index || !x.script) {
        if (x.index)
            fclose(x.index);
        if (x.script)
            fclose(x.script);
        cli_errorf("fusion: cannot write in %s: %s", dir, strerror(errno));
        return EXIT_FAIL;
    }
    fprintf(x.script, "#!/bin/sh\n# Checks every exported decision with Foundry's cast: each "
                      "line recovers the signer of one\n# EIP-712 statement and compares it "
                      "with the operator's address.\nset -e\nhere=$(dirname \"$0\")\n");
    audit_sig_report sr;
    int rc = audit_verify_signatures(ctx->home, &sr, export_row, &x, &e);
    bool ok = fclose(x.index) == 0;
    ok = fclose(x.script) == 0 && ok;
    if (rc < 0)
        return cli_fail(&e);
    if (!sr.ok) {
        cli_errorf("fusion: audit log %s/%s: bad signature at line %zu: %s", ctx->home,
                   AUDIT_FILE, sr.bad_line, sr.problem);
        return EXIT_FAIL;
    }
    if (!ok) {
        cli_errorf("fusion: cannot write in %s", dir);
        return EXIT_FAIL;
    }
    chmod(spath, 0700);
    printf("exported %zu signed decisions to %s (statements.jsonl, decision-SEQ.json; check "
           "them with sh %s)\n", x.n, dir, spath);
    return EXIT_OK;
}

int cmd_audit(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(audit_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *action = argv[1];
    if (strcmp(action, "list") != 0 && strcmp(action, "verify") != 0 &&
        strcmp(action, "adopt") != 0 && strcmp(action, "export") != 0)
        return cli_usage("audit", "unknown action '%s' (list, verify, export, adopt)", action);
    bool json = ctx->json, csv = false;
    const char *anchor = NULL;
    bool log_only = false;
    const char *out = NULL;
    const cli_opt opts[] = {
        {"json", CLI_OPT_FLAG, &json},
        {"csv", CLI_OPT_FLAG, &csv},
        {"out", CLI_OPT_STR, &out},
        {"anchor", CLI_OPT_STR, &anchor},
        {"log-only", CLI_OPT_FLAG, &log_only},
    };
    int u = cli_opts_n("audit", argc - 1, argv + 1, opts, CLI_NOPTS(opts), 0, NULL);
    if (u != EXIT_OK)
        return u;
    if (csv && strcmp(action, "list") != 0)
        return cli_usage("audit", "--csv is for `fusion audit list`");
    if (cli_json_or_csv("audit list", &json, csv) != EXIT_OK)
        return EXIT_USAGE;
    err e;
    err_clear(&e);
    /* --log-only checks a copy of a log on its own, in any directory. */
    if (!log_only && cli_home_existing(ctx, &e) < 0)
        return cli_fail(&e);
    if (log_only && strcmp(action, "verify") != 0)
        return cli_usage("audit", "--log-only belongs to `fusion audit verify`");
    if (strcmp(action, "export") == 0) {
        if (!out || anchor)
            return cli_usage("audit", "export needs --out DIR (and no --anchor)");
        return audit_export(ctx, out);
    }
    if (out)
        return cli_usage("audit", "--out belongs to `fusion audit export`");
    if (strcmp(action, "adopt") == 0) {
        if (anchor)
            return cli_usage("audit", "--anchor belongs to `fusion audit verify`");
        if (audit_adopt(ctx->home, ctx->operator_name, &e) < 0)
            return cli_fail(&e);
        printf("audit head recorded in desk.db (an audit.adopt row names it)\n");
        return adopt_signed(ctx);
    }
    if (strcmp(action, "list") == 0) {
        if (anchor)
            return cli_usage("audit", "--anchor belongs to `fusion audit verify`");
        list_state st = {json ? json_array() : NULL, false};
        int rc = audit_list(ctx->home, print_row, &st, &e);
        if (rc == 0 && csv) {
            int crc = cli_csv_print(st.arr);
            json_decref(st.arr);
            return crc;
        }
        if (rc == 0 && st.arr) {
            cli_json_print(st.arr, JSON_COMPACT);
        }
        json_decref(st.arr);
        return rc < 0 ? cli_fail(&e) : EXIT_OK;
    }
    if (strcmp(action, "verify") != 0)
        return cli_usage("audit", "unknown action '%s' (list, verify, export, adopt)", action);
    audit_report r;
    if ((log_only ? audit_verify_log(ctx->home, anchor, &r, &e)
                  : audit_verify(ctx->home, anchor, &r, &e)) < 0)
        return e.code == ERR_USAGE ? cli_usage("audit", "%s", e.msg) : cli_fail(&e);
    if (json) {
        char head[128];
        snprintf(head, sizeof head, "%" PRIu64 ":%s", r.head_seq, r.head_hash);
        json_t *j = json_pack("{s:b, s:I, s:I, s:s, s:s}", "ok", r.ok, "rows", (json_int_t)r.rows,
                              "bad_line", (json_int_t)r.bad_line, "problem", r.problem, "head",
                              r.head_seq ? head : "");
        cli_json_print(j, JSON_COMPACT);
        json_decref(j);
    }
    if (!r.ok) {
        cli_errorf("fusion: audit log %s/%s is broken at line %zu: %s", ctx->home, AUDIT_FILE,
                   r.bad_line, r.problem);
        return EXIT_FAIL;
    }
    /* Every decision since the genesis: signed by its operator's key, role held then. */
    audit_sig_report sr;
    memset(&sr, 0, sizeof sr);
    sr.ok = true;
    if (!log_only && audit_verify_signatures(ctx->home, &sr, NULL, NULL, &e) < 0)
        return cli_fail(&e);
    if (!sr.ok) {
        cli_errorf("fusion: audit log %s/%s: bad decision at line %zu: %s", ctx->home, AUDIT_FILE,
                   sr.bad_line, sr.problem);
        return EXIT_FAIL;
    }
    if (!json) {
        if (r.rows == 0)
            printf("audit log ok: no rows yet\n");
        else
            printf("audit log ok: %" PRIu64 " rows; head %" PRIu64 ":%s\n", r.rows, r.head_seq,
                   r.head_hash);
        if (r.db_head && r.head_seq > r.db_head_seq)
            printf("rows %" PRIu64 "-%" PRIu64 " are after desk.db's head (%" PRIu64 "): appended "
                   "but not committed with desk.db (a rollback, or the process ended before its "
                   "commit); they record nothing the desk did, and the next row says so\n",
                   r.db_head_seq + 1, r.head_seq, r.db_head_seq);
    }
    if (!json && !log_only) {
        if (sr.signed_desk)
            printf("signatures ok: %" PRIu64 " decisions signed by their operators since the "
                   "genesis (seq %" PRIu64 "); %" PRIu64 " recorded before signatures%s\n",
                   sr.signed_rows, sr.genesis_seq, sr.unsigned_rows,
                   sr.unsigned_rows ? " (the decisions before the genesis row: unsigned, "
                                      "marked so by `fusion audit list`)" : "");
        else
            printf("signatures: none; this desk has no signed genesis (%" PRIu64 " decisions "
                   "unsigned; `fusion --operator ADMIN operator genesis` starts signing)\n",
                   sr.unsigned_rows);
    }
    return EXIT_OK;
}
