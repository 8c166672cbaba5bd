/* cmd_api.c: `fusion serve` (the HTTP API on a unix socket in the desk home, optionally TCP
 * with TLS), `fusion api client add|list|revoke` (its clients: adding and revoking are an
 * admin's signed decisions; the token is printed once), and `fusion proposal list|show|
 * accept|reject` (what a person does with what the API's clients proposed). */
#include <errno.h>
#include <poll.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "base/log.h"
#include "base/text.h"
#include "bridge/bridge.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/risk_cli.h"
#include "compliance/compliance.h"
#include "desk/desk.h"
#include "desk/sync_service.h"
#include "pgstore/pg_desk.h"
#include "store/store.h"
#include "sync/sync.h"

static volatile sig_atomic_t serve_stop;

static void on_serve_signal(int sig)
{
    (void)sig;
    serve_stop = 1;
}

static int parse_rate(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !(v > 0) || v > 1e6)
        return -1;
    *out = v;
    return 0;
}

/* The desk's book attached to one of the service's reading stores. */
static int serve_book_attach(store *s, const char *home, err *e)
{
    return pg_desk_book_attach(s, home, PG_DESK_READS, NULL, e);
}

int cmd_serve(cli_ctx *ctx, int argc, char **argv)
{
    const char *sock = NULL, *tcp = NULL, *cert = NULL, *key = NULL, *rate_s = NULL,
               *burst_s = NULL, *risk_every = NULL, *feed_days = NULL, *feed_keep = NULL;
    bool insecure = false, no_socket = false, with_sync = false;
    const cli_opt opts[] = {
        {"socket", CLI_OPT_STR, &sock},     {"tcp", CLI_OPT_STR, &tcp},
        {"tls-cert", CLI_OPT_STR, &cert},   {"tls-key", CLI_OPT_STR, &key},
        {"insecure-tcp", CLI_OPT_FLAG, &insecure}, {"rate", CLI_OPT_STR, &rate_s},
        {"burst", CLI_OPT_STR, &burst_s},   {"no-socket", CLI_OPT_FLAG, &no_socket},
        {"sync", CLI_OPT_FLAG, &with_sync}, {"risk-every", CLI_OPT_STR, &risk_every},
        {"feed-days", CLI_OPT_STR, &feed_days}, {"feed-keep", CLI_OPT_STR, &feed_keep},
    };
    int u = cli_opts_n("serve", argc, argv, opts, CLI_NOPTS(opts), 0, NULL);
    if (u != EXIT_OK)
        return u;
    api_options o = {.rate = 50, .burst = 100, .risk_json = risk_cli_snapshot_json,
                     .risk_every_s = 60};
    if (rate_s && parse_rate(rate_s, &o.rate) < 0)
        return cli_usage("serve", "--rate is requests a second per client (a number > 0)");
    if (burst_s && (parse_rate(burst_s, &o.burst) < 0 || o.burst < 1))
        return cli_usage("serve", "--burst is the requests a client may send at once (>= 1)");
    if (risk_every) {
        double v;
        if (parse_rate(risk_every, &v) < 0 || v < 1 || v > 86400)
            return cli_usage("serve", "--risk-every is seconds between risk refreshes (1..86400)");
        o.risk_every_s = (unsigned)v;
    }
    if (feed_days) {
        double v;
        if (parse_rate(feed_days, &v) < 0 || v < 1 || v > 36500 || v != (unsigned)v)
            return cli_usage("serve", "--feed-days is the days the change feed keeps (1..36500)");
        o.feed_days = (unsigned)v;
    }
    if (feed_keep) {
        double v;
        if (parse_rate(feed_keep, &v) < 0 || v < 1 || v > 1e12 || v != (int64_t)v)
            return cli_usage("serve", "--feed-keep is the most events the change feed keeps "
                                      "(a whole number >= 1)");
        o.feed_keep = (int64_t)v;
    }
    if (tcp && !insecure && (!cert || !key))
        return cli_usage("serve", "--tcp needs --tls-cert FILE and --tls-key FILE "
                                  "(or --insecure-tcp, for loopback tests)");
    if ((cert || key) && !tcp)
        return cli_usage("serve", "--tls-cert and --tls-key are for --tcp");
    if (insecure && (cert || key))
        return cli_usage("serve", "--insecure-tcp and --tls-cert/--tls-key are alternatives");
    if (no_socket && (sock || !tcp))
        return cli_usage("serve", "--no-socket serves on --tcp only (and takes no --socket)");
    err e;
    err_clear(&e);
    if (cli_home_existing(ctx, &e) < 0)
        return cli_fail(&e);
    char path[4200], sock_path[4200];
    snprintf(path, sizeof path, "%s/fusion.log", ctx->home);
    if (log_open(path, &e) < 0)
        return cli_fail(&e);
    snprintf(sock_path, sizeof sock_path, "%s", sock ? sock : "");
    if (!sock)
        snprintf(sock_path, sizeof sock_path, "%s/api.sock", ctx->home);
    /* the escrows and checkpoints from where the desk keeps its book (book.conf; a file the
     * desk refuses refuses the start) */
    o.book_attach = serve_book_attach;
    o.risk_book = risk_cli_book;
    api_service *sv = NULL;
    if (api_service_new(&sv, ctx->home, &o, &e) < 0)
        return cli_fail(&e);
    api_listen l = {.socket_path = no_socket ? NULL : sock_path, .tcp = tcp, .tls_cert = cert,
                    .tls_key = key, .insecure_tcp = insecure};
    api_server *srv = NULL;
    if (api_server_start(&srv, sv, &l, &e) < 0) {
        api_service_free(&sv);
        return cli_fail(&e);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_serve_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* --sync: this process follows the chains too, as `fusion sync` would (a screener
     * that cannot start is an error here as there), keeping the book where the desk
     * decided (book.conf) */
    desk_sync *svc = NULL;
    sync_engine *eng = NULL;
    pg_desk_book book;
    if (with_sync) {
        desk_sync_options dso;
        desk_sync_options_default(&dso, ctx->home);
        dso.screener_required = true;
        int brc = pg_desk_book_read(ctx->home, &book, &e);
        if (brc == 0 && book.present) {
            dso.sync.book = &pg_book;
            dso.sync.book_url = book.url;
            dso.sync.book_shown = book.shown;
            dso.book_reader = &pg_reader; /* the screener reads the escrows there */
        }
        if (brc < 0 || desk_sync_start(&svc, &dso, &e) < 0) {
            api_server_stop(&srv);
            api_service_free(&sv);
            return cli_fail(&e);
        }
        eng = desk_sync_engine(svc);
        LOG_I("sync", "fusion serve --sync started (pid %ld)", (long)getpid());
    }
    if (!no_socket)
        fprintf(stderr, "serving on %s\n", sock_path);
    if (tcp)
        fprintf(stderr, "serving on %s port %u%s\n", tcp, api_server_port(srv),
                insecure ? " (no TLS)" : " (TLS)");
    fflush(stderr);
    LOG_I("api", "serving (rate %.1f/s, burst %.0f)", o.rate, o.burst);
    int rc = EXIT_OK;
    while (!serve_stop) {
        struct pollfd p = {.fd = eng ? sync_notify_fd(eng) : -1, .events = POLLIN};
        if (poll(&p, 1, 250) > 0 && eng)
            sync_notify_drain(eng);
        if (eng && sync_finished(eng))
            break; /* the sync stopped on its own: a failure, said below */
    }
    api_server_stop(&srv);
    if (svc && desk_sync_stop(&svc, NULL, &e) < 0) {
        cli_errorf("fusion serve: the sync stopped: %s", e.msg);
        rc = EXIT_FAIL;
    }
    api_service_free(&sv);
    return rc;
}

/* ---- api client ---- */

static int client_add(cli_ctx *ctx, int argc, char **argv)
{
    const char *scope_s = NULL;
    bool json = ctx->json;
    const cli_opt opts[] = {{"scope", CLI_OPT_STR, &scope_s}, {"json", CLI_OPT_FLAG, &json}};
    size_t n_pos;
    int u = cli_opts("api client add", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    api_scope scope;
    if (n_pos != 1 || !scope_s)
        return cli_usage("api client add", "needs NAME --scope read|propose");
    if (api_scope_parse(&scope, scope_s) < 0)
        return cli_usage("api client add", "--scope is read or propose, not '%s'", scope_s);
    if (!api_client_name_ok(argv[1]))
        return cli_usage("api client add", "NAME must be 1-63 letters, digits, '-', '_' or '.'");
    if (!ctx->operator_name || !*ctx->operator_name)
        return cli_usage("api client add", "adding a client is an admin's decision: pass "
                                           "--operator NAME");
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    char token[API_TOKEN_LEN + 1];
    int rc = api_client_add(db, ctx->home, ctx->operator_name, argv[1], scope, token, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "client", argv[1], "scope", scope_s, "token",
                              token);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else {
        printf("client %s (%s) added; its token (shown once, keep it secret):\n%s\n", argv[1],
               scope_s, token);
    }
    memset(token, 0, sizeof token);
    return EXIT_OK;
}

static int client_list(cli_ctx *ctx, int argc, char **argv)
{
    bool json = ctx->json;
    const cli_opt opts[] = {{"json", CLI_OPT_FLAG, &json}};
    int u =
        cli_opts_n("api client list", argc, argv, opts, CLI_NOPTS(opts), 0, "takes no arguments");
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    store_api_client *cs = NULL;
    size_t n = 0;
    int rc = store_api_client_list(db, &cs, &n, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:s, s:b, s:I}", "name",
                                                 cs[i].name, "scope", cs[i].scope, "created_at",
                                                 (json_int_t)cs[i].created_at, "created_by",
                                                 cs[i].created_by, "revoked",
                                                 cs[i].revoked_at != 0, "revoked_at",
                                                 (json_int_t)cs[i].revoked_at));
        cli_json_print(arr, JSON_INDENT(2));
        json_decref(arr);
    } else if (n == 0) {
        printf("no API clients (fusion api client add NAME --scope read|propose)\n");
    } else {
        printf("%-24s  %-8s  %-12s  %s\n", "name", "scope", "added by", "state");
        for (size_t i = 0; i < n; i++)
            printf("%-24s  %-8s  %-12s  %s\n", cs[i].name, cs[i].scope, cs[i].created_by,
                   cs[i].revoked_at ? "revoked" : "active");
    }
    free(cs);
    return EXIT_OK;
}

static int client_revoke(cli_ctx *ctx, int argc, char **argv)
{
    int u = cli_opts_n("api client revoke", argc, argv, NULL, 0, 1, "needs NAME");
    if (u != EXIT_OK)
        return u;
    if (!ctx->operator_name || !*ctx->operator_name)
        return cli_usage("api client revoke", "revoking a client is an admin's decision: pass "
                                              "--operator NAME");
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    int rc = api_client_revoke(db, ctx->home, ctx->operator_name, argv[1], &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    printf("client %s revoked: its token is refused from now on\n", argv[1]);
    return EXIT_OK;
}

int cmd_api(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("api", "needs an action: client add|list|revoke");
    if (strcmp(argv[1], "client") != 0)
        return cli_usage("api", "unknown action '%s' (client add|list|revoke)", argv[1]);
    if (argc < 3)
        return cli_usage("api client", "needs add, list or revoke");
    if (!strcmp(argv[2], "add"))
        return client_add(ctx, argc - 2, argv + 2);
    if (!strcmp(argv[2], "list"))
        return client_list(ctx, argc - 2, argv + 2);
    if (!strcmp(argv[2], "revoke"))
        return client_revoke(ctx, argc - 2, argv + 2);
    return cli_usage("api client", "'%s' is not add, list or revoke", argv[2]);
}

/* ---- proposals ---- */

static int proposal_id(const char *cmd, const char *s, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v <= 0)
        return cli_usage(cmd, "'%s' is not a proposal id (see fusion proposal list)", s);
    *id = v;
    return EXIT_OK;
}

static json_t *proposal_json(const store_proposal *p)
{
    json_error_t je;
    json_t *body = json_loads(p->body, 0, &je), *scr = json_loads(p->screening, 0, &je);
    return json_pack("{s:I, s:s, s:s, s:I, s:s, s:o, s:o, s:I, s:s?, s:s?, s:s?}", "id",
                     (json_int_t)p->id, "client", p->client, "kind", p->kind, "chain_id",
                     (json_int_t)p->chain_id, "state", p->state, "request",
                     body ? body : json_null(), "screening", scr ? scr : json_null(),
                     "created_at", (json_int_t)p->created_at, "decided_by",
                     p->decided_by[0] ? p->decided_by : NULL, "reason",
                     p->reason[0] ? p->reason : NULL, "escrow", p->escrow[0] ? p->escrow : NULL);
}

static int proposal_list(cli_ctx *ctx, int argc, char **argv)
{
    bool json = ctx->json, all = false;
    const cli_opt opts[] = {{"json", CLI_OPT_FLAG, &json}, {"all", CLI_OPT_FLAG, &all}};
    int u = cli_opts_n("proposal list", argc, argv, opts, CLI_NOPTS(opts), 0, "takes no arguments");
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    store_proposal *ps = NULL;
    size_t n = 0;
    int rc = store_proposal_list(db, all ? NULL : "pending", 0, 100000, &ps, &n, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, proposal_json(&ps[i]));
        cli_json_print(arr, JSON_INDENT(2));
        json_decref(arr);
    } else if (n == 0) {
        printf("no %sproposals\n", all ? "" : "pending ");
    } else {
        printf("%5s  %-9s  %-16s  %-7s  %s\n", "id", "state", "client", "kind", "request");
        for (size_t i = 0; i < n; i++) {
            /* the body holds a client's text (reference) as it came: shown escaped */
            char *body = text_safe_dup(ps[i].body, strlen(ps[i].body));
            printf("%5lld  %-9s  %-16s  %-7s  %s\n", (long long)ps[i].id, ps[i].state,
                   ps[i].client, ps[i].kind, body ? body : "?");
            free(body);
        }
    }
    free(ps);
    return EXIT_OK;
}

static int proposal_show(cli_ctx *ctx, int argc, char **argv)
{
    size_t n_pos;
    int u = cli_opts("proposal show", argc, argv, NULL, 0, &n_pos);
    if (u != EXIT_OK)
        return u;
    int64_t id;
    if (n_pos != 1)
        return cli_usage("proposal show", "needs ID");
    if ((u = proposal_id("proposal show", argv[1], &id)) != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    store_proposal *p = malloc(sizeof *p);
    bool found = false;
    int rc = p ? store_proposal_get(db, id, p, &found, &e) : err_set(&e, ERR_NOMEM, "out of memory");
    store_close(&db);
    if (rc == 0 && !found)
        rc = err_set(&e, ERR_NOT_FOUND, "no proposal %lld (see fusion proposal list)",
                     (long long)id);
    if (rc < 0) {
        free(p);
        return cli_fail(&e);
    }
    json_t *o = proposal_json(p);
    cli_json_print(o, JSON_INDENT(2));
    json_decref(o);
    free(p);
    return EXIT_OK;
}

static int proposal_accept_bridge(cli_ctx *ctx, int64_t id)
{
    err e;
    err_clear(&e);
    bridge_env env;
    int64_t bid = 0;
    if (cli_bridge_env(ctx, &env, false, &e) < 0)
        return cli_fail(&e);
    if (api_proposal_accept_bridge(&env, id, &bid, &e) < 0) {
        if (bid)
            cli_errorf("fusion: proposal %lld accepted as bridge %lld: %s (fusion bridge resume "
                       "%lld continues it)", (long long)id, (long long)bid, e.msg, (long long)bid);
        return bid ? EXIT_FAIL : cli_fail(&e);
    }
    char state[16] = "";
    store *db = NULL;
    store_bridge b;
    bool found = false;
    if (cli_desk_open(ctx, &db, &e) == 0 && store_bridge_get(db, bid, &b, &found, &e) == 0 &&
        found)
        snprintf(state, sizeof state, "%s", b.state);
    store_close(&db);
    if (ctx->json) {
        json_t *o = json_pack("{s:I, s:s, s:I, s:s}", "proposal", (json_int_t)id, "state",
                              "accepted", "bridge", (json_int_t)bid, "bridge_state", state);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else
        printf("proposal %lld accepted: bridge %lld (%s)\n", (long long)id, (long long)bid,
               state);
    return EXIT_OK;
}

static int proposal_accept(cli_ctx *ctx, int argc, char **argv)
{
    const cli_opt opts[] = {{"json", CLI_OPT_FLAG, &ctx->json}};
    size_t n_pos;
    int u = cli_opts("proposal accept", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    int64_t id;
    if (n_pos != 1)
        return cli_usage("proposal accept", "needs ID");
    if ((u = proposal_id("proposal accept", argv[1], &id)) != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    /* a bridge transfer goes through the bridge's own desk path */
    store *db = NULL;
    store_proposal *pk = malloc(sizeof *pk);
    bool found = false;
    int rc = pk ? cli_desk_open(ctx, &db, &e) : err_set(&e, ERR_NOMEM, "out of memory");
    if (rc == 0)
        rc = store_proposal_get(db, id, pk, &found, &e);
    store_close(&db);
    bool bridge = rc == 0 && found && strcmp(pk->kind, "bridge") == 0;
    free(pk);
    if (rc < 0)
        return cli_fail(&e);
    if (bridge)
        return proposal_accept_bridge(ctx, id);
    desk *d = NULL;
    desk_result res;
    memset(&res, 0, sizeof res);
    rc = cli_operator_desk_open(ctx, &d, 60, &e);
    if (rc == 0)
        rc = api_proposal_accept(d, ctx->home, id, &res, &e);
    desk_free(&d);
    if (rc < 0)
        return cli_fail(&e);
    char esc[ADDR_STR_MAX] = "";
    if (res.has_escrow)
        addr_to_lower(esc, &res.escrow);
    if (ctx->json) {
        json_t *o = json_pack("{s:I, s:s, s:s?, s:I}", "proposal", (json_int_t)id, "state",
                              "accepted", "escrow", esc[0] ? esc : NULL, "outbound_id",
                              (json_int_t)res.outbound_id);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else {
        if (esc[0])
            printf("proposal %lld accepted: escrow %s (%s)\n", (long long)id, esc,
                   outbound_state_str(res.state));
        else
            printf("proposal %lld accepted: tx #%lld (%s)\n", (long long)id,
                   (long long)res.outbound_id, outbound_state_str(res.state));
    }
    return EXIT_OK;
}

static int proposal_reject(cli_ctx *ctx, int argc, char **argv)
{
    const char *reason = NULL;
    const cli_opt opts[] = {{"reason", CLI_OPT_STR, &reason}};
    size_t n_pos;
    int u = cli_opts("proposal reject", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    int64_t id;
    if (n_pos != 1 || !reason || !*reason)
        return cli_usage("proposal reject", "needs ID --reason TEXT");
    if ((u = proposal_id("proposal reject", argv[1], &id)) != EXIT_OK)
        return u;
    if (!ctx->operator_name || !*ctx->operator_name)
        return cli_usage("proposal reject", "a rejection is an operator's decision: pass "
                                            "--operator NAME");
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    int rc = api_proposal_reject(db, ctx->home, ctx->operator_name, id, reason, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    printf("proposal %lld rejected\n", (long long)id);
    return EXIT_OK;
}

int cmd_proposal(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("proposal", "needs an action: list, show, accept, reject");
    if (!strcmp(argv[1], "list"))
        return proposal_list(ctx, argc - 1, argv + 1);
    if (!strcmp(argv[1], "show"))
        return proposal_show(ctx, argc - 1, argv + 1);
    if (!strcmp(argv[1], "accept"))
        return proposal_accept(ctx, argc - 1, argv + 1);
    if (!strcmp(argv[1], "reject"))
        return proposal_reject(ctx, argc - 1, argv + 1);
    return cli_usage("proposal", "unknown action '%s' (list, show, accept, reject)", argv[1]);
}
