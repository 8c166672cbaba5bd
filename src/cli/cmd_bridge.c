/* cmd_bridge.c: `fusion bridge quote|send|list|show|resume|config|rebalance`: moving the desk's own
 * USDC between chains (src/bridge, docs/bridges.md). A send is a desk action: policy
 * (actions bridge_allowance, bridge_burn, bridge_mint), the compliance gate on the
 * recipient before anything is signed, the pre-sign summary naming both chains, the
 * recipient, amount, fee and expected arrival, confirmation (y or --yes), outbound record. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/amount.h"
#include "base/log.h"
#include "base/text.h"
#include "bridge/bridge.h"
#include "bridge/ccip.h"
#include "cli/opts.h"
#include "desk/escrow_input.h"
#include "keystore/keystore.h"
#include "pgstore/pg_desk.h"
#include "store/store.h"
#include "store/store_book.h"
#include "sync/bridge_legs.h"

static void say_line(void *ctx, const char *line)
{
    FILE *f = ctx;
    fprintf(f, "%s\n", line);
    fflush(f);
}

int cli_bridge_env(cli_ctx *ctx, bridge_env *env, bool no_wait, err *e)
{
    memset(env, 0, sizeof *env);
    pg_desk_book book; /* read by cli_desk_wire for each party's desk: refused here first */
    if (cli_home_existing(ctx, e) < 0 || pg_desk_book_read(ctx->home, &book, e) < 0)
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/fusion.log", ctx->home);
    if (log_open(path, e) < 0)
        return -1;
    env->home = ctx->home;
    env->operator_name = ctx->operator_name;
    env->wire = cli_desk_wire;
    env->wire_ctx = ctx;
    env->no_wait = no_wait;
    env->attest_wait_s = 60;
    env->say = say_line;
    env->say_ctx = ctx->json ? stderr : stdout;
    return 0;
}

static int parse_id(const char *s, int64_t *out)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
        return -1;
    *out = strtoll(s, NULL, 10);
    return *out > 0 ? 0 : -1;
}

static void print_quote(const cli_ctx *ctx, const bridge_quote *q, const char *asset)
{
    char amt[AMOUNT_STR_MAX], fee[AMOUNT_STR_MAX];
    amount_format(amt, &q->amount, q->decimals);
    amount_format(fee, &q->fee, q->decimals);
    if (strcmp(q->protocol, "ccip") == 0) {
        /* the fee is the source router's getFee, in the source chain's native coin */
        amount_format(fee, &q->fee, 18);
        if (ctx->json) {
            json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "protocol",
                                  q->protocol, "src_chain", q->src_name, "dst_chain", q->dst_name,
                                  "amount", amt, "fee_native", fee, "asset", asset,
                                  "confirmations", (json_int_t)q->src_confirmations,
                                  "expected_arrival_s", (json_int_t)q->expected_s);
            cli_json_print(o, JSON_INDENT(2));
            json_decref(o);
            return;
        }
        printf("route: ccip, %s -> %s\n", q->src_name, q->dst_name);
        printf("amount: %s %s, fee %s in %s's native coin (getFee; gas extra)\n", amt, asset, fee,
               q->src_name);
        printf("expected arrival: ~%llu s (the network executes on %s)\n",
               (unsigned long long)q->expected_s, q->dst_name);
        return;
    }
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:I}", "protocol",
                              q->protocol, "src_chain", q->src_name, "dst_chain", q->dst_name,
                              "src_domain", (json_int_t)q->src_domain, "dst_domain",
                              (json_int_t)q->dst_domain, "amount", amt, "fee", fee,
                              "confirmations", (json_int_t)q->src_confirmations,
                              "expected_arrival_s", (json_int_t)q->expected_s);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
        return;
    }
    printf("route: %s, %s (domain %u) -> %s (domain %u)\n", q->protocol, q->src_name,
           q->src_domain, q->dst_name, q->dst_domain);
    printf("amount: %s USDC, fee %s USDC (gas on both chains extra)\n", amt, fee);
    printf("expected arrival: ~%llu s (%u confirmations on %s, then attestation and mint)\n",
           (unsigned long long)q->expected_s, q->src_confirmations, q->src_name);
}

static int cmd_quote_send(cli_ctx *ctx, int argc, char **argv, bool send)
{
    const char *from = NULL, *to = NULL, *amount = NULL, *asset = NULL, *rcpt = NULL,
               *route = NULL, *override = NULL;
    bool no_wait = false;
    cli_opt opts[] = {{"from", CLI_OPT_STR, &from},     {"to", CLI_OPT_STR, &to},
                      {"amount", CLI_OPT_STR, &amount}, {"asset", CLI_OPT_STR, &asset},
                      {"route", CLI_OPT_STR, &route},
                      {"recipient", CLI_OPT_STR, &rcpt}, {"no-wait", CLI_OPT_FLAG, &no_wait},
                      {"override", CLI_OPT_STR, &override}};
    size_t n_pos = 0;
    int u = cli_opts("bridge", argc - 1, argv + 1, opts, CLI_NOPTS(opts) - (send ? 0 : 3), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("bridge", "unexpected argument '%s'", argv[2]);
    if (override && (!*override || strlen(override) > 200))
        return cli_usage("bridge", "--override needs a reason of 1 to 200 characters");
    if (!from || !to || !amount || (send && !rcpt))
        return cli_usage("bridge", "%s needs --from, --to, --amount%s", argv[1],
                         send ? " and --recipient" : "");
    bool ccip = route && strcmp(route, "ccip") == 0;
    if (route && !ccip && strcmp(route, "cctp") != 0)
        return cli_usage("bridge", "--route wants cctp (USDC, the default) or ccip, not '%.20s'",
                         route);
    err e;
    err_clear(&e);
    store *db = NULL;
    bridge_quote q;
    addr r;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    int rc = bridge_route_quote(db, route, from, to, asset ? asset : "USDC", amount, &q, &e);
    if (rc == 0 && send && desk_party_parse(db, rcpt, &r, &e) < 0)
        rc = err_prefix(&e, "--recipient");
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    if (!send) {
        print_quote(ctx, &q, asset ? asset : "USDC");
        return EXIT_OK;
    }
    bridge_env env;
    int64_t id = 0;
    char state[16] = "";
    if (cli_bridge_env(ctx, &env, no_wait, &e) < 0)
        return cli_fail(&e);
    env.risk_override = override;
    if (bridge_send(&env, &q, &r, &id, &e) < 0) {
        if (id)
            cli_errorf("fusion: bridge %lld: %s (fusion bridge resume %lld continues it)",
                       (long long)id, e.msg, (long long)id);
        return id ? EXIT_FAIL : cli_fail(&e);
    }
    store *db2 = NULL;
    store_bridge b;
    bool found = false;
    if (cli_desk_open(ctx, &db2, &e) == 0 && store_bridge_get(db2, id, &b, &found, &e) == 0 && found)
        snprintf(state, sizeof state, "%s", b.state);
    store_close(&db2);
    if (ctx->json) {
        json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", state);
        cli_json_print(o, JSON_COMPACT);
        json_decref(o);
    } else {
        printf("bridge %lld: %s\n", (long long)id, state);
    }
    return EXIT_OK;
}

static int cmd_resume(cli_ctx *ctx, int argc, char **argv)
{
    int64_t only = 0;
    bool no_wait = false;
    cli_opt opts[] = {{"no-wait", CLI_OPT_FLAG, &no_wait}};
    size_t n_pos = 0;
    int u = cli_opts("bridge", argc - 1, argv + 1, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos > 1 || (n_pos == 1 && parse_id(argv[2], &only) < 0))
        return cli_usage("bridge", "resume takes at most one transfer id");
    err e;
    err_clear(&e);
    bridge_env env;
    if (cli_bridge_env(ctx, &env, no_wait, &e) < 0)
        return cli_fail(&e);
    store *db = NULL;
    store_bridge *bs = NULL;
    size_t n = 0;
    int rc = cli_desk_open(ctx, &db, &e);
    if (rc == 0)
        rc = store_bridge_list(db, &bs, &n, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    int status = EXIT_OK;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (only && bs[i].id != only)
            continue;
        any = true;
        if (!only && bridge_finished(&bs[i]))
            continue; /* the one definition of "nothing left to do" (bridge_advance_all too) */
        char state[16] = "";
        err se;
        err_clear(&se);
        if (bridge_advance(&env, bs[i].id, state, &se) < 0) {
            cli_errorf("fusion: bridge %lld: %s", (long long)bs[i].id, se.msg);
            status = EXIT_FAIL;
        } else {
            printf("bridge %lld: %s\n", (long long)bs[i].id, state);
        }
    }
    free(bs);
    if (only && !any) {
        cli_errorf("fusion: no bridge transfer %lld (fusion bridge list)", (long long)only);
        return EXIT_FAIL;
    }
    return status;
}

/* A string field of a listed transfer, made safe to print ("" when absent). */
static const char *field_safe(char *out, size_t cap, const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return text_safe_str(out, cap, v ? v : "");
}

static int cmd_list_show(cli_ctx *ctx, int argc, char **argv, bool show)
{
    bool json = ctx->json;
    cli_opt opts[] = {{"json", CLI_OPT_FLAG, &json}};
    size_t n_pos = 0;
    int u = cli_opts("bridge", argc - 1, argv + 1, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    int64_t only = 0;
    if (show && (n_pos != 1 || parse_id(argv[2], &only) < 0))
        return cli_usage("bridge", "show takes one transfer id");
    if (!show && n_pos)
        return cli_usage("bridge", "list takes no argument");
    err e;
    err_clear(&e);
    store *db = NULL;
    store_bridge *bs = NULL;
    size_t n = 0;
    addr *accounts = NULL;
    size_t n_accounts = 0;
    /* the list: as the risk report counts the value in flight (sync_bridge_book_list: on a
     * server book the server's burns from the desk's accounts too, id 0); show: desk.db's */
    int rc = cli_desk_open(ctx, &db, &e);
    if (rc == 0)
        rc = pg_desk_book_attach(db, ctx->home, PG_DESK_READS, NULL, &e);
    if (rc == 0 && !show && store_reader(db, NULL))
        rc = keystore_addresses(ctx->home, &accounts, &n_accounts, &e);
    if (rc == 0)
        rc = show ? store_bridge_list(db, &bs, &n, &e)
                  : sync_bridge_book_list(db, accounts, n_accounts, &bs, &n, &e);
    free(accounts);
    if (rc < 0) {
        free(bs);
        store_close(&db);
        return cli_fail(&e);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (only && bs[i].id != only)
            continue;
        if (show)
            rc = sync_bridge_book_view(db, &bs[i], &e);
        json_t *o = NULL;
        if (rc == 0)
            rc = bridge_to_json(db, &bs[i], &o, &e);
        if (rc == 0 && bs[i].id == 0) {
            /* known only from the server's legs: no transfer of this desk.db */
            json_object_del(o, "id");
            json_object_del(o, "operator");
            json_object_del(o, "created_at");
            json_object_del(o, "updated_at");
        }
        if (rc == 0 && json_object_set_new(o, "source", json_string(bs[i].id ? "desk" : "server")))
            rc = err_set(&e, ERR_NOMEM, "out of memory");
        if (rc == 0)
            json_array_append_new(arr, o);
        else
            json_decref(o);
    }
    free(bs);
    store_close(&db);
    if (rc < 0) {
        json_decref(arr);
        return cli_fail(&e);
    }
    if (show && json_array_size(arr) == 0) {
        json_decref(arr);
        cli_errorf("fusion: no bridge transfer %lld (fusion bridge list)", (long long)only);
        return EXIT_FAIL;
    }
    if (json) {
        cli_json_print(show ? json_array_get(arr, 0) : arr, JSON_INDENT(2));
    } else {
        if (!show)
            printf("%4s %-9s %-11s %-11s %18s %s\n", "ID", "STATE", "FROM", "TO", "AMOUNT", "NOTE");
        size_t i;
        json_t *o;
        json_array_foreach(arr, i, o)
        {
            u256 a;
            err ie;
            char amt[AMOUNT_STR_MAX] = "?";
            if (u256_from_dec(&a, json_string_value(json_object_get(o, "amount")), &ie) == 0)
                amount_format(amt, &a, 6);
            if (show) {
                const char *k;
                json_t *v;
                json_object_foreach(o, k, v)
                {
                    char *s = cli_json_text(v, JSON_ENCODE_ANY); /* ASCII: a note is outside text */
                    printf("%-13s %s\n", k, s ? s : "?");
                    free(s);
                }
            } else {
                json_t *id = json_object_get(o, "id");
                char ids[24] = "-"; /* known only from the server's legs */
                if (id)
                    snprintf(ids, sizeof ids, "%lld", (long long)json_integer_value(id));
                /* a note can carry a node's or an attestation service's words */
                char st[64], src[128], dst[128], note[1024];
                printf("%4s %-9s %-11s %-11s %18s %s\n", ids, field_safe(st, sizeof st, o, "state"),
                       field_safe(src, sizeof src, o, "src_chain"),
                       field_safe(dst, sizeof dst, o, "dst_chain"), amt,
                       field_safe(note, sizeof note, o, "note"));
            }
        }
    }
    json_decref(arr);
    return EXIT_OK;
}

static int bridge_config(cli_ctx *ctx, int argc, char **argv)
{
    const char *url = NULL;
    cli_opt opts[] = {{"attestation-url", CLI_OPT_STR, &url}};
    size_t n_pos = 0;
    int u = cli_opts("bridge", argc - 1, argv + 1, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos || !url)
        return cli_usage("bridge", "config needs --attestation-url URL");
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return cli_usage("bridge", "--attestation-url wants an http:// or https:// URL");
    if (strlen(url) >= sizeof(((store_bridge_cctp *)0)->attestation_url))
        return cli_usage("bridge", "--attestation-url is too long");
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0 || store_begin(db, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    /* Where attestations come from is the desk's configuration: a signed decision of the
     * operator, in the same transaction as the change (the mint still needs the
     * attesters' signatures on chain, whatever service relays them). */
    json_t *det = json_pack("{s:s}", "attestation_url", url);
    int rc = det ? 0 : err_set(&e, ERR_NOMEM, "out of memory");
    if (rc == 0)
        rc = store_bridge_cctp_set_url(db, url, &e);
    if (rc == 0)
        rc = store_audit(db, ctx->home, ctx->operator_name, "chain.bridge_attestation", det, &e);
    json_decref(det);
    if (rc == 0)
        rc = store_commit(db, &e);
    if (rc < 0) {
        store_rollback(db);
        store_close(&db);
        return cli_fail(&e);
    }
    store_close(&db);
    char shown[1024];
    printf("bridge: attestation service %s\n", text_safe_str(shown, sizeof shown, url));
    return EXIT_OK;
}

/* "eth" or "devnet-eth" or a chain id: the chain whose name is it or ends in "-it". */
static int rebalance_chain(store *db, const char *s, store_chain *out, err *e)
{
    store_chain *cs = NULL;
    size_t n = 0;
    if (store_chain_list(db, &cs, &n, e) < 0)
        return -1;
    bool found = false;
    size_t sl = strlen(s);
    for (size_t i = 0; i < n && !found; i++) {
        size_t nl = strlen(cs[i].name);
        char id[24];
        snprintf(id, sizeof id, "%llu", (unsigned long long)cs[i].chain_id);
        if (strcmp(cs[i].name, s) == 0 || strcmp(id, s) == 0 ||
            (nl > sl + 1 && cs[i].name[nl - sl - 1] == '-' && strcmp(cs[i].name + nl - sl, s) == 0)) {
            *out = cs[i];
            found = true;
        }
    }
    free(cs);
    return found ? 0 : err_set(e, ERR_NOT_FOUND, "--target: no chain \"%.32s\" in this desk", s);
}

#define REBALANCE_TRANSFERS_MAX 64

/* The moves split under the policy's `limit` lines for bridge_allowance and bridge_burn
 * that match the operator, the route (chain=, to=), USDC and the move's amount; a move no
 * line limits stays whole. */
static int rebalance_split(cli_ctx *ctx, store *db, const store_operator *op,
                           const store_chain *chains, const bridge_move *mv, size_t n_mv,
                           bridge_move *out, size_t *n_out, err *e)
{
    *n_out = 0;
    policy *pol = NULL;
    unsigned roles = 0;
    if (desk_policy_load(ctx->home, &pol, e) < 0)
        return -1;
    int rc = desk_roles_parse(&roles, op->roles, e);
    for (size_t j = 0; j < n_mv && rc == 0; j++) {
        const store_chain *cs = &chains[mv[j].from], *cd = &chains[mv[j].to];
        store_bridge_cctp r;
        bool found = false, limited = false;
        if ((rc = store_bridge_cctp_get(db, cs->chain_id, &r, &found, e)) < 0)
            break;
        u256 max = u256_from_u64(0);
        unsigned line = 0;
        static const char *const actions[] = {"bridge_allowance", "bridge_burn"};
        for (size_t a = 0; a < 2 && rc == 0; a++) {
            policy_request q;
            memset(&q, 0, sizeof q);
            q.operator_name = op->name;
            q.roles = roles;
            q.action = actions[a];
            q.chain = cs->name;
            q.dst_chain = cd->name;
            q.asset_symbol = "USDC";
            q.asset = r.usdc;
            q.decimals = 6;
            q.amount = mv[j].amount;
            u256 m;
            unsigned l = 0;
            bool f = false;
            rc = policy_limit_max(pol, &q, &m, &l, &f, e);
            if (rc == 0 && f && (!limited || u256_cmp(&m, &max) < 0)) {
                max = m;
                line = l;
                limited = true;
            }
        }
        if (rc < 0)
            break;
        u256 parts[REBALANCE_TRANSFERS_MAX];
        size_t k = 1;
        parts[0] = mv[j].amount;
        if (limited &&
            bridge_split(&mv[j].amount, &max, parts, REBALANCE_TRANSFERS_MAX - *n_out, &k, e) < 0) {
            char a[AMOUNT_STR_MAX], m[AMOUNT_STR_MAX];
            amount_format(a, &mv[j].amount, 6);
            amount_format(m, &max, 6);
            rc = err_prefix(e, "cannot move %s USDC %s -> %s under line %u of the policy (at most "
                            "%s USDC per transfer)", a, cs->name, cd->name, line, m);
            break;
        }
        if (*n_out + k > REBALANCE_TRANSFERS_MAX) {
            rc = err_set(e, ERR_INVALID, "the rebalance would take more than %d transfers",
                         REBALANCE_TRANSFERS_MAX);
            break;
        }
        for (size_t i = 0; i < k; i++) {
            out[*n_out].from = mv[j].from;
            out[*n_out].to = mv[j].to;
            out[*n_out].amount = parts[i];
            (*n_out)++;
        }
    }
    policy_free(&pol);
    return rc;
}

static int cmd_rebalance(cli_ctx *ctx, int argc, char **argv)
{
    const char *target = NULL, *asset = NULL;
    bool execute = false;
    cli_opt opts[] = {{"target", CLI_OPT_STR, &target},
                      {"asset", CLI_OPT_STR, &asset},
                      {"execute", CLI_OPT_FLAG, &execute}};
    size_t n_pos = 0;
    int u = cli_opts("bridge", argc - 1, argv + 1, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos || !target)
        return cli_usage("bridge", "rebalance needs --target CHAIN=PCT,CHAIN=PCT,...");
    if (asset && strcmp(asset, "USDC") != 0)
        return cli_usage("bridge", "rebalance moves USDC only (--asset USDC)");
    char names[BRIDGE_REBALANCE_MAX][STORE_NAME_MAX];
    unsigned pct[BRIDGE_REBALANCE_MAX];
    size_t n = 0;
    char buf_[512];
    snprintf(buf_, sizeof buf_, "%s", target);
    for (char *save = NULL, *tok = strtok_r(buf_, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        char *end = NULL;
        unsigned long v = eq ? strtoul(eq + 1, &end, 10) : 0;
        if (!eq || eq == tok || !end || end == eq + 1 || *end || v > 100 || n == BRIDGE_REBALANCE_MAX)
            return cli_usage("bridge", "--target wants CHAIN=PCT,... (whole percentages), not '%.40s'",
                             tok);
        *eq = '\0';
        snprintf(names[n], sizeof names[n], "%s", tok);
        pct[n++] = (unsigned)v;
    }
    err e;
    err_clear(&e);
    store *db = NULL;
    store_operator op;
    bool found = false;
    store_chain chains[BRIDGE_REBALANCE_MAX];
    u256 bal[BRIDGE_REBALANCE_MAX];
    bridge_move mv[BRIDGE_REBALANCE_MAX];
    size_t n_mv = 0;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    int rc = store_operator_get(db, ctx->operator_name ? ctx->operator_name : "", &op, &found, &e);
    if (rc == 0 && !found)
        rc = err_set(&e, ERR_NOT_FOUND, "no desk operator \"%.32s\" (--operator)",
                     ctx->operator_name ? ctx->operator_name : "");
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = rebalance_chain(db, names[i], &chains[i], &e);
        for (size_t k = 0; k < i && rc == 0; k++)
            if (chains[k].chain_id == chains[i].chain_id)
                rc = err_set(&e, ERR_INVALID, "--target names %s twice", chains[i].name);
        if (rc == 0)
            rc = bridge_usdc_balance(db, chains[i].chain_id, &op.address, &bal[i], &e);
    }
    if (rc == 0)
        rc = bridge_rebalance_plan(bal, pct, n, mv, &n_mv, &e);
    /* each move over the policy's limit per transfer on its route becomes several transfers
     * under it */
    bridge_move tr[REBALANCE_TRANSFERS_MAX];
    size_t n_tr = 0;
    if (rc == 0)
        rc = rebalance_split(ctx, db, &op, chains, mv, n_mv, tr, &n_tr, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    char amt[AMOUNT_STR_MAX];
    for (size_t i = 0; i < n; i++) {
        amount_format(amt, &bal[i], 6);
        printf("%-12s %18s USDC now, target %u%%\n", chains[i].name, amt, pct[i]);
    }
    if (n_tr == 0)
        printf("rebalance: nothing to move\n");
    for (size_t j = 0; j < n_tr; j++) {
        amount_format(amt, &tr[j].amount, 6);
        printf("proposal %zu: %s USDC %s -> %s\n", j + 1, amt, chains[tr[j].from].name,
               chains[tr[j].to].name);
    }
    /* the moves as proposed below */
    n_mv = n_tr;
    if (!execute) {
        if (n_mv)
            printf("rebalance: run again with --execute to send them (each is a desk action)\n");
        return EXIT_OK;
    }
    bridge_env env;
    if (cli_bridge_env(ctx, &env, false, &e) < 0)
        return cli_fail(&e);
    int status = EXIT_OK;
    for (size_t j = 0; j < n_mv; j++) {
        bridge_quote q;
        char dec[AMOUNT_STR_MAX];
        int64_t id = 0;
        amount_format(dec, &tr[j].amount, 6);
        if (cli_desk_open(ctx, &db, &e) < 0)
            return cli_fail(&e);
        rc = bridge_quote_get(db, chains[tr[j].from].name, chains[tr[j].to].name, "USDC", dec, &q,
                              &e);
        store_close(&db);
        if (rc == 0)
            rc = bridge_send(&env, &q, &op.address, &id, &e);
        if (rc < 0) {
            cli_errorf("fusion: rebalance proposal %zu: %s", j + 1, e.msg);
            status = EXIT_FAIL;
            break;
        }
        printf("proposal %zu: bridge %lld\n", j + 1, (long long)id);
    }
    return status;
}

int cmd_bridge(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("bridge", "missing action: quote, send, resume, list, show or config");
    if (strcmp(argv[1], "quote") == 0)
        return cmd_quote_send(ctx, argc, argv, false);
    if (strcmp(argv[1], "send") == 0)
        return cmd_quote_send(ctx, argc, argv, true);
    if (strcmp(argv[1], "resume") == 0)
        return cmd_resume(ctx, argc, argv);
    if (strcmp(argv[1], "list") == 0)
        return cmd_list_show(ctx, argc, argv, false);
    if (strcmp(argv[1], "show") == 0)
        return cmd_list_show(ctx, argc, argv, true);
    if (strcmp(argv[1], "config") == 0)
        return bridge_config(ctx, argc, argv);
    if (strcmp(argv[1], "rebalance") == 0)
        return cmd_rebalance(ctx, argc, argv);
    return cli_usage("bridge", "unknown action '%s'", argv[1]);
}
