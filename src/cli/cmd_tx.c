/* cmd_tx.c: `fusion tx list|show|check|speedup|cancel`, the desk's outbound transactions: what was
 * signed, by whom, its state (pending = signed not yet known sent, sent, mined, confirmed,
 * failed, dropped, replaced), its pre-sign summary and last error. `check` resolves what
 * is in flight: marks mined ones, re-broadcasts signed-not-sent and dropped ones;
 * speedup/cancel replace one in flight with the same nonce and higher fees. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "cli/opts.h"
#include "credit/service.h"
#include "desk/desk.h"
#include "store/store.h"

/* A name or an action as a line shows it: 64 bytes of it, every byte escaped at most. */
#define TX_SHOWN_MAX (6 * 64 + 4)

static json_t *tx_json(store *db, const store_outbound *o)
{
    char hash[67], from[ADDR_STR_MAX], esc[ADDR_STR_MAX];
    hex_encode(hash, sizeof hash, o->hash, 32, true);
    addr_to_lower(from, &o->from);
    if (o->has_escrow)
        addr_to_lower(esc, &o->escrow);
    store_desk_tx dt;
    bool found = false;
    err e;
    if (store_desk_tx_get(db, o->id, &dt, &found, &e) < 0)
        found = false;
    json_error_t jerr;
    json_t *sum = found && dt.summary ? json_loads(dt.summary, 0, &jerr) : NULL;
    json_t *j = json_pack(
        "{s:I, s:I, s:s, s:s, s:I, s:s, s:s, s:s?, s:I, s:b, s:I, s:I, s:s?,"
        " s:s?, s:o}",
        "id", (json_int_t)o->id, "chain_id", (json_int_t)o->chain_id, "hash", hash, "from", from,
        "nonce", (json_int_t)o->nonce, "state", outbound_state_str(o->state), "action", o->action,
        "escrow", o->has_escrow ? esc : NULL, "mined_block", (json_int_t)o->mined_block, "reorged",
        o->reorged, "created_at", (json_int_t)o->created_at, "last_seen", (json_int_t)o->last_seen,
        "operator", found ? dt.operator_name : NULL, "error",
        found && dt.error[0] ? dt.error : NULL, "summary", sum ? sum : json_null());
    if (found)
        free(dt.summary);
    return j;
}

static int tx_list(cli_ctx *ctx, int argc, char **argv, bool show)
{
    bool json = ctx->json, csv = false;
    const cli_opt opts[] = {
        {"json", CLI_OPT_FLAG, &json},
        {"csv", CLI_OPT_FLAG, &csv},
    };
    const char *cmd = show ? "tx show" : "tx list";
    size_t n_pos;
    int u = cli_opts(cmd, argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u == EXIT_OK && show && csv)
        u = cli_usage(cmd, "--csv is for `fusion tx list`");
    if (u == EXIT_OK)
        u = cli_json_or_csv(cmd, &json, csv);
    if (u != EXIT_OK)
        return u;
    if (show ? n_pos != 1 : n_pos != 0)
        return cli_usage(cmd, show ? "needs one transaction ID or HASH" : "takes no arguments");
    err e;
    err_clear(&e);
    store *db = NULL;
    store_outbound *os = NULL;
    size_t n = 0;
    if (cli_desk_open(ctx, &db, &e) < 0 || cli_book_attach(ctx, db, &e) < 0 ||
        store_outbound_list(db, 0, &os, &n, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    json_t *arr = json_array();
    size_t shown = 0;
    if (!json && !show)
        printf("%-5s %-10s %-9s %-10s %-6s %-66s %s\n", "ID", "ACTION", "STATE", "OPERATOR",
               "NONCE", "HASH", "BLOCK");
    for (size_t i = 0; i < n; i++) {
        if (show) {
            char hash[67], id[24];
            hex_encode(hash, sizeof hash, os[i].hash, 32, true);
            snprintf(id, sizeof id, "%lld", (long long)os[i].id);
            if (strcmp(argv[1], id) != 0 && strcasecmp(argv[1], hash) != 0)
                continue;
        }
        shown++;
        json_t *j = tx_json(db, &os[i]);
        if (json) {
            json_array_append_new(arr, j);
            continue;
        }
        /* the operator's name, the action and the summary come from desk.db: a row an
         * older binary or another desk's tool wrote is shown with its controls escaped */
        const char *op = json_string_value(json_object_get(j, "operator"));
        char op_s[TX_SHOWN_MAX], act_s[TX_SHOWN_MAX];
        text_safe_str(op_s, sizeof op_s, op ? op : "-");
        text_safe_str(act_s, sizeof act_s, os[i].action);
        if (!show) {
            char op_col[11]; /* the column's 10 bytes, cut at a character ("...") */
            text_safe_str(op_col, sizeof op_col, op ? op : "-");
            printf("%-5lld %-10s %-9s %-10s %-6llu %-66s %llu\n", (long long)os[i].id,
                   act_s, outbound_state_str(os[i].state), op_col,
                   (unsigned long long)os[i].nonce, json_string_value(json_object_get(j, "hash")),
                   (unsigned long long)os[i].mined_block);
        } else {
            printf("transaction %lld: %s %s, nonce %llu, by %s\n", (long long)os[i].id,
                   act_s, outbound_state_str(os[i].state), (unsigned long long)os[i].nonce,
                   op_s);
            const char *er = json_string_value(json_object_get(j, "error"));
            char safe[6 * 256 + 1]; /* a stored error may predate safe texts */
            if (er)
                printf("last error: %s\n", text_safe_str(safe, sizeof safe, er));
            if (os[i].mined_block)
                printf("mined in block %llu\n", (unsigned long long)os[i].mined_block);
            json_t *sum = json_object_get(j, "summary");
            if (json_is_object(sum)) {
                printf("summary (decoded from the signed bytes):\n");
                const char *k;
                json_t *v;
                json_object_foreach(sum, k, v)
                {
                    /* a string as itself, escaped; anything else as ASCII JSON */
                    char *s = json_is_string(v)
                                  ? text_safe_dup(json_string_value(v), json_string_length(v))
                                  : cli_json_text(v, JSON_COMPACT | JSON_ENCODE_ANY);
                    char *ks = text_safe_dup(k, strlen(k));
                    printf("  %-22s %s\n", ks ? ks : "?", s ? s : "?");
                    free(ks);
                    free(s);
                }
            }
        }
        json_decref(j);
    }
    free(os);
    store_close(&db);
    int out = EXIT_OK;
    if (csv) {
        out = cli_csv_print(arr);
    } else if (json) {
        cli_json_print(show && shown == 1 ? json_array_get(arr, 0) : arr, JSON_INDENT(2));
    }
    json_decref(arr);
    if (out != EXIT_OK)
        return out;
    if (show && shown == 0) {
        err_set(&e, ERR_NOT_FOUND, "no transaction %s in this desk (see `fusion tx list`)",
                argv[1]);
        return cli_fail(&e);
    }
    if (!json && !show && shown == 0)
        printf("(no transactions yet)\n");
    return EXIT_OK;
}

static int tx_check(cli_ctx *ctx, int argc, char **argv)
{
    const char *chain = NULL, *wait = NULL;
    const cli_opt opts[] = {
        {"chain", CLI_OPT_STR, &chain},
        {"wait", CLI_OPT_STR, &wait},
    };
    int u = cli_opts_n("tx check", argc, argv, opts, CLI_NOPTS(opts), 0, "takes no arguments");
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    desk *d = NULL;
    int rc = cli_operator_desk_open(ctx, &d, wait ? (unsigned)strtoul(wait, NULL, 10) : 60, &e);
    if (rc == 0 && chain)
        rc = desk_use_chain(d, chain, NULL, &e);
    if (rc == 0)
        rc = desk_tx_check(d, &e);
    /* a credit draw whose payment is now mined is posted (once; see docs/credit.md) */
    size_t posted = 0, unpaid = 0;
    if (rc == 0)
        rc = credit_draw_settle(desk_store(d), ctx->home, &posted, &unpaid, &e);
    if (rc == 0 && posted + unpaid > 0)
        printf("credit draws: %zu posted (payment mined), %zu let go (payment failed or "
               "dropped)\n",
               posted, unpaid);
    desk_free(&d);
    return rc < 0 ? cli_fail(&e) : EXIT_OK;
}

static int tx_replace(cli_ctx *ctx, int argc, char **argv, bool cancel)
{
    const char *cmd = cancel ? "tx cancel" : "tx speedup";
    const char *wait = NULL;
    const cli_opt opts[] = {
        {"wait", CLI_OPT_STR, &wait},
    };
    size_t n_pos;
    int u = cli_opts(cmd, argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    char *end = NULL;
    long long id = n_pos == 1 ? strtoll(argv[1], &end, 10) : 0;
    if (id <= 0 || !end || *end)
        return cli_usage(cmd, "needs one transaction ID (see `fusion tx list`)");
    err e;
    err_clear(&e);
    desk *d = NULL;
    desk_result res;
    memset(&res, 0, sizeof res);
    int rc = cli_operator_desk_open(ctx, &d, wait ? (unsigned)strtoul(wait, NULL, 10) : 120, &e);
    if (rc == 0)
        rc = desk_tx_replace(d, (int64_t)id, cancel, &res, &e);
    desk_free(&d);
    if (rc < 0)
        return cli_fail(&e);
    char hash[67];
    hex_encode(hash, sizeof hash, res.hash, 32, true);
    printf("%s: tx %lld is %s (%s)\n", cmd, (long long)res.outbound_id,
           outbound_state_str(res.state), hash);
    return EXIT_OK;
}

int cmd_tx(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("tx", "needs a subcommand: list, show or check");
    if (strcmp(argv[1], "list") == 0)
        return tx_list(ctx, argc - 1, argv + 1, false);
    if (strcmp(argv[1], "show") == 0)
        return tx_list(ctx, argc - 1, argv + 1, true);
    if (strcmp(argv[1], "check") == 0)
        return tx_check(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "speedup") == 0 || strcmp(argv[1], "cancel") == 0)
        return tx_replace(ctx, argc - 1, argv + 1, argv[1][0] == 'c');
    return cli_usage("tx", "unknown subcommand '%s' (list, show, check, speedup, cancel)", argv[1]);
}

json_t *cli_tx_json(store *db, const store_outbound *o)
{
    return tx_json(db, o);
}
