/* cmd_audit.c: `fusion audit list [--json]` and `fusion audit verify [--anchor SEQ:HASH]`
 * over the desk's hash-chained audit log (docs/audit.md). */
#include "cli/cli.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/text.h"
#include "cli/opts.h"

static const char audit_usage[] =
    "usage: fusion audit list [--json|--csv]\n"
    "       fusion audit verify [--anchor SEQ:HASH] [--log-only] [--json]\n"
    "       fusion audit adopt   (record the head of a log older than desk.db's audit head)\n";

typedef struct list_state {
    json_t *arr; /* --json: collected rows */
} list_state;

static int print_row(void *ctx, const audit_row *row, err *e)
{
    list_state *st = ctx;
    if (st->arr) {
        json_t *j = json_loads(row->raw, JSON_REJECT_DUPLICATES, NULL);
        if (!j || json_array_append_new(st->arr, j) < 0)
            return err_set(e, ERR_NOMEM, "out of memory listing the audit log");
        return 0;
    }
    /* The log is a file: its text (JSON leaves bidi and C1 controls as they are) is made
     * safe before it reaches the terminal. */
    char *details = json_dumps(row->details, JSON_COMPACT | JSON_SORT_KEYS);
    char *line = NULL, *safe = NULL;
    if (asprintf(&line, "%6" PRIu64 "  %s  %-12s  %-14s  %s", row->seq, row->time,
                 row->operator_name, row->action, details ? details : "{}") < 0)
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

int cmd_audit(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(audit_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *action = argv[1];
    if (strcmp(action, "list") != 0 && strcmp(action, "verify") != 0 &&
        strcmp(action, "adopt") != 0)
        return cli_usage("audit", "unknown action '%s' (list, verify, adopt)", action);
    bool json = ctx->json, csv = false;
    const char *anchor = NULL;
    bool log_only = false;
    const cli_opt opts[] = {
        {"json", CLI_OPT_FLAG, &json},
        {"csv", CLI_OPT_FLAG, &csv},
        {"anchor", CLI_OPT_STR, &anchor},
        {"log-only", CLI_OPT_FLAG, &log_only},
    };
    size_t n_pos;
    int u = cli_opts("audit", argc - 1, argv + 1, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos > 0)
        return cli_usage("audit", "unexpected argument '%s'", argv[2]);
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
    if (strcmp(action, "adopt") == 0) {
        if (anchor)
            return cli_usage("audit", "--anchor belongs to `fusion audit verify`");
        if (audit_adopt(ctx->home, ctx->operator_name, &e) < 0)
            return cli_fail(&e);
        printf("audit head recorded in desk.db (an audit.adopt row names it)\n");
        return EXIT_OK;
    }
    if (strcmp(action, "list") == 0) {
        if (anchor)
            return cli_usage("audit", "--anchor belongs to `fusion audit verify`");
        list_state st = {json ? json_array() : NULL};
        int rc = audit_list(ctx->home, print_row, &st, &e);
        if (rc == 0 && csv) {
            int out = cli_csv_print(st.arr);
            json_decref(st.arr);
            return out;
        }
        if (rc == 0 && st.arr) {
            char *t = json_dumps(st.arr, JSON_COMPACT);
            if (t)
                puts(t);
            free(t);
        }
        json_decref(st.arr);
        return rc < 0 ? cli_fail(&e) : EXIT_OK;
    }
    if (strcmp(action, "verify") != 0)
        return cli_usage("audit", "unknown action '%s' (list, verify, adopt)", action);
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
        char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (t)
            puts(t);
        free(t);
        json_decref(j);
    }
    if (!r.ok) {
        cli_errorf("fusion: audit log %s/%s is broken at line %zu: %s", ctx->home, AUDIT_FILE,
                   r.bad_line, r.problem);
        return EXIT_FAIL;
    }
    if (!json) {
        if (r.rows == 0)
            printf("audit log ok: no rows yet\n");
        else
            printf("audit log ok: %" PRIu64 " rows; head %" PRIu64 ":%s\n", r.rows, r.head_seq,
                   r.head_hash);
    }
    return EXIT_OK;
}
