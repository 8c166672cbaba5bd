/* cmd_alerts.c: `fusion alerts [--all]` lists the risk alerts the risk service raised (open
 * ones by default), `fusion alerts ack ID` acknowledges one in the operator's name and
 * appends an audit row. Raising and clearing is the risk service's job (risk report / UI). */
#include "cli/cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "cli/opts.h"
#include "cli/risk_cli.h"
#include "risk/service.h"
#include "store/store.h"

static const char alerts_usage[] =
    "usage: fusion alerts [list] [--all] [--json]   open alerts (--all: cleared ones too)\n"
    "       fusion alerts ack ID [--json]       acknowledge alert ID (needs an operator)\n";

static int alerts_list(cli_ctx *ctx, bool all, bool json, bool csv)
{
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    store_alert *al = NULL;
    size_t n = 0;
    int rc = store_alert_list(db, all, &al, &n, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    if (json || csv) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, risk_cli_alert_json(&al[i]));
        if (csv) {
            rc = cli_csv_print(arr);
        } else {
            cli_json_print(arr, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        }
        json_decref(arr);
    } else if (n == 0) {
        printf("no %salerts\n", all ? "" : "open ");
    } else {
        printf("%5s  %-8s  %-20s  %-20s  %s\n", "id", "severity", "state", "raised", "message");
        for (size_t i = 0; i < n; i++)
            risk_cli_alert_print(&al[i]);
    }
    free(al);
    return json || csv ? rc : EXIT_OK;
}

static int alerts_ack(cli_ctx *ctx, const char *id_s, bool json)
{
    char *end;
    errno = 0;
    long long id = strtoll(id_s, &end, 10);
    if (!*id_s || *end || errno || id <= 0)
        return cli_usage("alerts ack", "'%s' is not an alert id (see fusion alerts)", id_s);
    if (!ctx->operator_name || !*ctx->operator_name)
        return cli_usage("alerts ack", "an acknowledgement needs an operator: pass --operator "
                                       "NAME");
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    store_alert a;
    /* The acknowledgement and its audit row commit together, or neither does. */
    int rc = risk_alert_ack(db, ctx->home, ctx->operator_name, (int64_t)id, (int64_t)time(NULL),
                            &a, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    if (json) {
        json_t *o = risk_cli_alert_json(&a);
        cli_json_print(o, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        json_decref(o);
    } else {
        printf("alert %lld acknowledged by %s\n", id, ctx->operator_name);
    }
    return EXIT_OK;
}

int cmd_alerts(cli_ctx *ctx, int argc, char **argv)
{
    bool all = false, json = ctx->json, csv = false;
    bool help = false;
    const cli_opt opts[] = {
        {"all", CLI_OPT_FLAG, &all},
        {"json", CLI_OPT_FLAG, &json},
        {"csv", CLI_OPT_FLAG, &csv},
        {"help", CLI_OPT_FLAG, &help},
    };
    size_t n_pos;
    int u = cli_opts("alerts", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (help) {
        fputs(alerts_usage, stdout);
        return EXIT_OK;
    }
    int rest = (int)n_pos;
    if (rest == 0 || strcmp(argv[1], "list") == 0) {
        if (rest > 1)
            return cli_usage("alerts list", "takes no arguments");
        if (csv && json)
            return cli_usage("alerts", "--json and --csv are alternatives: give one");
        return alerts_list(ctx, all, json, csv);
    }
    if (csv)
        return cli_usage("alerts", "--csv is for listing");
    if (strcmp(argv[1], "ack") == 0) {
        if (rest != 2)
            return cli_usage("alerts ack", "wants one alert id");
        if (all)
            return cli_usage("alerts ack", "--all is for listing");
        return alerts_ack(ctx, argv[2], json);
    }
    return cli_usage("alerts",
                     "unknown subcommand '%s' (want: ack ID, or no subcommand to "
                     "list)",
                     argv[1]);
}
