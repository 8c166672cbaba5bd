/* cmd_devnet.c: `fusion devnet up|down|status`: the local four-chain devnet (anvil
 * daemons with pid files in <home>/devnet/, contracts deployed and recorded in the desk).
 * See docs/demo.md. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/opts.h"
#include "devnet/devnet.h"

static const char usage_text[] =
    "usage: fusion devnet up [--ports A,B,C,D] | down | status   (--json for status)\n";

/* up creates the desk; down needs one. */
static int open_log(cli_ctx *ctx, bool create, err *e)
{
    if ((create ? cli_home_ensure(ctx, e) : cli_home_existing(ctx, e)) < 0)
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/fusion.log", ctx->home);
    return log_open(path, e);
}

static void print_nodes(const devnet_node *nodes, bool json)
{
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
            const devnet_node *n = &nodes[i];
            bool healthy = n->running && n->answering && n->reported_chain_id == n->spec->chain_id;
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:I, s:i, s:i, s:b, s:b, s:I, s:I, s:b, s:s}", "name",
                               n->spec->name, "stands_for", n->spec->stands_for, "chain_id",
                               (json_int_t)n->spec->chain_id, "port", (int)n->port, "pid", n->pid,
                               "running", n->running, "answering", n->answering,
                               "reported_chain_id", (json_int_t)n->reported_chain_id, "head",
                               (json_int_t)n->head, "healthy", healthy, "url", n->url));
        }
        cli_json_print(arr, JSON_INDENT(2));
        json_decref(arr);
        return;
    }
    printf("%-11s %-9s %8s %6s %8s %-8s %s\n", "CHAIN", "STANDS FOR", "ID", "PORT", "PID", "HEALTH",
           "HEAD");
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        const devnet_node *n = &nodes[i];
        const char *health = !n->pid                                     ? "stopped"
                             : !n->running                               ? "gone"
                             : !n->answering                             ? "silent"
                             : n->reported_chain_id != n->spec->chain_id ? "wrongid"
                                                                         : "ok";
        char head[32] = "-";
        if (n->answering)
            snprintf(head, sizeof head, "%llu", (unsigned long long)n->head);
        printf("%-11s %-9s %8llu %6u %8d %-8s %s\n", n->spec->name, n->spec->stands_for,
               (unsigned long long)n->spec->chain_id, n->port, n->pid, health, head);
    }
}

int cmd_devnet(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("devnet", "missing action: up, down or status");
    const char *action = argv[1];
    err e;
    err_clear(&e);
    devnet_node nodes[DEVNET_N_CHAINS];
    if (strcmp(action, "up") == 0) {
        devnet_opts o;
        memset(&o, 0, sizeof o);
        o.home = ctx->home;
        o.operator_name = ctx->operator_name;
        const char *ports = NULL;
        const cli_opt opts[] = {{"ports", CLI_OPT_STR, &ports}};
        size_t n_pos;
        int u = cli_opts("devnet up", argc - 1, argv + 1, opts, CLI_NOPTS(opts), &n_pos);
        if (u != EXIT_OK)
            return u;
        if (n_pos)
            return cli_usage("devnet", "unknown argument '%s'", argv[2]);
        if (ports && devnet_parse_ports(ports, o.ports) < 0)
            return cli_usage("devnet", "--ports wants four ports 1024..65535: A,B,C,D");
        if (open_log(ctx, true, &e) < 0 || devnet_up(&o, nodes, &e) < 0)
            return cli_fail(&e);
        for (size_t i = 0; i < DEVNET_N_CHAINS; i++)
            printf("%s: %s on %s (chain %llu, pid %d)%s\n", nodes[i].spec->name,
                   nodes[i].started_now ? "started" : "already running", nodes[i].url,
                   (unsigned long long)nodes[i].spec->chain_id, nodes[i].pid,
                   nodes[i].deployed_now ? ", contracts deployed" : "");
        char url[64];
        if (devnet_attester_url(ctx->home, url, sizeof url))
            printf("attestation service (CCTP stand-in): %s\n", url);
        return EXIT_OK;
    }
    if (argc > 2) {
        fputs(usage_text, stderr);
        return cli_usage("devnet", "unknown argument '%s'", argv[2]);
    }
    if (strcmp(action, "down") == 0) {
        unsigned stopped = 0;
        if (open_log(ctx, false, &e) < 0 || devnet_down(ctx->home, &stopped, &e) < 0)
            return cli_fail(&e);
        printf("devnet: %u node%s stopped\n", stopped, stopped == 1 ? "" : "s");
        return EXIT_OK;
    }
    if (strcmp(action, "status") == 0) {
        if (devnet_status(ctx->home, nodes, &e) < 0)
            return cli_fail(&e);
        print_nodes(nodes, ctx->json);
        for (size_t i = 0; i < DEVNET_N_CHAINS; i++)
            if (!nodes[i].running || !nodes[i].answering ||
                nodes[i].reported_chain_id != nodes[i].spec->chain_id)
                return EXIT_FAIL;
        return EXIT_OK;
    }
    fputs(usage_text, stderr);
    return cli_usage("devnet", "unknown action '%s': up, down or status", action);
}
