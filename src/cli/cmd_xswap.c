/* cmd_xswap.c: `fusion xswap new|respond|resume|list`: cross-chain settlement by HTLC
 * (src/xswap/xswap.h, docs/cross-chain.md). Each step is signed through the desk's
 * pipeline as the operator whose key is the party's, wired to this terminal like the
 * escrow actions: the passphrase from --passphrase-file or asked, the summary confirmed
 * with y or --yes. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/amount.h"
#include "base/log.h"
#include "cli/opts.h"
#include "pgstore/pg_desk.h"
#include "store/store.h"
#include "xswap/xswap.h"

static const char usage_text[] =
    "usage: fusion xswap new --x CHAIN --y CHAIN --initiator ADDR --counterparty ADDR\n"
    "                        --give AMOUNT[:SYMBOL] --get AMOUNT[:SYMBOL] [--t1 SECS]\n"
    "                        [--margin SECS]\n"
    "       fusion xswap respond ID [--gap SECS]   (the counterparty locks on Y)\n"
    "       fusion xswap resume [ID]               (continue every unfinished swap)\n"
    "       fusion xswap list [--json]\n"
    "CHAIN: name or id; SYMBOL: a configured token (default: the native coin)\n";

static int env_init(cli_ctx *ctx, xswap_env *env, err *e)
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
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
        return -1;
    *out = strtoull(s, NULL, 10);
    return 0;
}

static int find_chain(store *db, const char *s, uint64_t *out, err *e)
{
    store_chain c;
    bool found = false;
    uint64_t id;
    if (parse_u64(s, &id) == 0) {
        if (store_chain_get(db, id, &c, &found, e) < 0)
            return -1;
    } else if (store_chain_find_name(db, s, &c, &found, e) < 0) {
        return -1;
    }
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no chain \"%.64s\" in this desk (fusion chain list)", s);
    *out = c.chain_id;
    return 0;
}

/* "1.5" (native coin, 18 decimals) or "2500:USDC" (a configured token of the chain). */
static int parse_asset(store *db, uint64_t chain_id, const char *s, addr *token, u256 *amount,
                       err *e)
{
    char num[100];
    snprintf(num, sizeof num, "%s", s);
    char *colon = strchr(num, ':');
    unsigned decimals = 18;
    memset(token, 0, sizeof *token);
    if (colon) {
        *colon = '\0';
        store_token *ts = NULL;
        size_t n = 0;
        if (store_token_list(db, chain_id, &ts, &n, e) < 0)
            return -1;
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            if (strcmp(ts[i].symbol, colon + 1) == 0) {
                *token = ts[i].address;
                decimals = ts[i].decimals;
                found = true;
            }
        free(ts);
        if (!found)
            return err_set(e, ERR_NOT_FOUND, "no token %.16s on chain %llu", colon + 1,
                           (unsigned long long)chain_id);
    }
    if (amount_parse(amount, num, decimals, e) < 0)
        return err_prefix(e, "amount %.40s", num);
    return 0;
}

static int cmd_new(cli_ctx *ctx, int argc, char **argv)
{
    const char *x = NULL, *y = NULL, *ini = NULL, *cp = NULL, *give = NULL, *get = NULL;
    uint64_t t1 = 7200, margin = 1800;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return cli_usage("xswap", "%s needs a value", a);
        i++;
        if (strcmp(a, "--x") == 0)
            x = v;
        else if (strcmp(a, "--y") == 0)
            y = v;
        else if (strcmp(a, "--initiator") == 0)
            ini = v;
        else if (strcmp(a, "--counterparty") == 0)
            cp = v;
        else if (strcmp(a, "--give") == 0)
            give = v;
        else if (strcmp(a, "--get") == 0)
            get = v;
        else if (strcmp(a, "--t1") == 0 && parse_u64(v, &t1) == 0)
            continue;
        else if (strcmp(a, "--margin") == 0 && parse_u64(v, &margin) == 0)
            continue;
        else {
            fputs(usage_text, stderr);
            return cli_usage("xswap", "bad argument '%s'", a);
        }
    }
    if (!x || !y || !ini || !cp || !give || !get) {
        fputs(usage_text, stderr);
        return cli_usage("xswap", "new needs --x, --y, --initiator, --counterparty, --give, --get");
    }
    err e;
    err_clear(&e);
    xswap_env env;
    if (env_init(ctx, &env, &e) < 0)
        return cli_fail(&e);
    xswap_terms t;
    memset(&t, 0, sizeof t);
    t.t1_after = t1;
    t.margin = margin;
    store *db = NULL;
    int rc = cli_desk_open(ctx, &db, &e);
    if (rc == 0)
        rc = find_chain(db, x, &t.chain_x, &e);
    if (rc == 0)
        rc = find_chain(db, y, &t.chain_y, &e);
    if (rc == 0)
        rc = parse_asset(db, t.chain_x, give, &t.token_x, &t.amount_x, &e);
    if (rc == 0)
        rc = parse_asset(db, t.chain_y, get, &t.token_y, &t.amount_y, &e);
    store_close(&db);
    if (rc == 0 && addr_parse(&t.initiator, ini, &e) < 0)
        rc = err_prefix(&e, "--initiator");
    if (rc == 0 && addr_parse(&t.counterparty, cp, &e) < 0)
        rc = err_prefix(&e, "--counterparty");
    int64_t id = 0;
    if (rc == 0)
        rc = xswap_new(&env, &t, &id, &e);
    if (rc < 0) {
        if (id)
            fprintf(stderr,
                    "fusion: swap %lld recorded; continue with `fusion xswap resume "
                    "%lld`\n",
                    (long long)id, (long long)id);
        return cli_fail(&e);
    }
    printf("swap %lld: locked on chain %llu; waiting for the counterparty (fusion xswap "
           "respond %lld)\n",
           (long long)id, (unsigned long long)t.chain_x, (long long)id);
    return EXIT_OK;
}

static int parse_id(const char *s, int64_t *id)
{
    uint64_t v;
    if (parse_u64(s, &v) < 0 || v == 0 || v > INT64_MAX)
        return -1;
    *id = (int64_t)v;
    return 0;
}

static int cmd_respond(cli_ctx *ctx, int argc, char **argv)
{
    int64_t id;
    if (argc < 3 || parse_id(argv[2], &id) < 0)
        return cli_usage("xswap", "respond needs a swap id");
    uint64_t gap = 0;
    const char *gap_text = NULL;
    const cli_opt opts[] = {{"gap", CLI_OPT_STR, &gap_text}};
    size_t n_pos;
    /* argv + 2: the id stands in the parser's argv[0] place */
    int u = cli_opts("xswap respond", argc - 2, argv + 2, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("xswap", "bad argument '%s'", argv[3]);
    bool has_gap = gap_text != NULL;
    if (has_gap && parse_u64(gap_text, &gap) < 0)
        return cli_usage("xswap", "--gap wants a whole number of seconds");
    err e;
    err_clear(&e);
    xswap_env env;
    if (env_init(ctx, &env, &e) < 0)
        return cli_fail(&e);
    if (!has_gap) {
        store *db = NULL;
        store_xswap x;
        bool found = false;
        int rc = cli_desk_open(ctx, &db, &e);
        if (rc == 0)
            rc = store_xswap_get(db, id, &x, &found, &e);
        store_close(&db);
        if (rc < 0)
            return cli_fail(&e);
        if (!found)
            return cli_usage("xswap", "no swap %lld", (long long)id);
        gap = 2 * x.margin;
        memset(&x, 0, sizeof x);
    }
    int rc = xswap_respond(&env, id, gap, &e);
    char state[16] = "";
    if (rc == 0)
        rc = xswap_advance(&env, id, state, &e);
    if (rc < 0)
        return cli_fail(&e);
    printf("swap %lld: %s\n", (long long)id, state);
    return EXIT_OK;
}

static int cmd_resume(cli_ctx *ctx, int argc, char **argv)
{
    int64_t only = 0;
    if (argc > 3 || (argc == 3 && parse_id(argv[2], &only) < 0))
        return cli_usage("xswap", "resume takes at most one swap id");
    err e;
    err_clear(&e);
    xswap_env env;
    if (env_init(ctx, &env, &e) < 0)
        return cli_fail(&e);
    store *db = NULL;
    store_xswap *xs = NULL;
    size_t n = 0;
    int rc = cli_desk_open(ctx, &db, &e);
    if (rc == 0)
        rc = store_xswap_list(db, &xs, &n, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    int status = EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        if (only && xs[i].id != only)
            continue;
        if (xswap_state_terminal(xs[i].state) && !xs[i].pending_action[0] && !only)
            continue;
        char state[16] = "";
        err se;
        err_clear(&se);
        if (xswap_advance(&env, xs[i].id, state, &se) < 0) {
            cli_errorf("fusion: swap %lld: %s", (long long)xs[i].id, se.msg);
            status = EXIT_FAIL;
        } else {
            printf("swap %lld: %s\n", (long long)xs[i].id, state);
        }
    }
    free(xs);
    return status;
}

static int cmd_list(cli_ctx *ctx, int argc, char **argv)
{
    (void)argv;
    bool json = ctx->json, csv = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--csv") == 0)
            csv = true;
        else
            return cli_usage("xswap", "bad argument '%s'", argv[i]);
    }
    int u = cli_json_or_csv("xswap list", &json, csv);
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    store_xswap *xs = NULL;
    size_t n = 0;
    if (cli_desk_open(ctx, &db, &e) < 0 || store_xswap_list(db, &xs, &n, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    store_close(&db);
    json_t *arr = json ? json_array() : NULL;
    if (!json)
        printf("%4s %-11s %8s %8s %-24s %-24s %s\n", "ID", "STATE", "CHAIN X", "CHAIN Y", "GIVE",
               "GET", "NOTE");
    for (size_t i = 0; i < n; i++) {
        store_xswap *x = &xs[i];
        char ax[U256_DEC_MAX], ay[U256_DEC_MAX], ini[ADDR_STR_MAX], cp[ADDR_STR_MAX],
            tx[ADDR_STR_MAX], ty[ADDR_STR_MAX], h[67];
        u256_to_dec(ax, &x->amount_x);
        u256_to_dec(ay, &x->amount_y);
        addr_to_lower(ini, &x->initiator);
        addr_to_lower(cp, &x->counterparty);
        addr_to_lower(tx, &x->token_x);
        addr_to_lower(ty, &x->token_y);
        hex_encode(h, sizeof h, x->hashlock, 32, true);
        char lx[67], ly[67];
        hex_encode(lx, sizeof lx, x->lock_x, 32, true);
        hex_encode(ly, sizeof ly, x->lock_y, 32, true);
        if (json) {
            json_array_append_new(
                arr, json_pack(
                         "{s:I, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, "
                         "s:I, s:I, s:s?, s:s, s:s?, s:s?}",
                         "id", (json_int_t)x->id, "state", x->state, "chain_x",
                         (json_int_t)x->chain_x, "chain_y", (json_int_t)x->chain_y, "initiator",
                         ini, "counterparty", cp, "token_x", tx, "token_y", ty, "amount_x", ax,
                         "amount_y", ay, "hashlock", h, "t1", (json_int_t)x->t1, "t2",
                         (json_int_t)x->t2, "margin", (json_int_t)x->margin, "pending",
                         x->pending_action[0] ? x->pending_action : NULL, "note", x->note, "lock_x",
                         x->has_lock_x ? lx : NULL, "lock_y", x->has_lock_y ? ly : NULL));
        } else {
            printf("%4lld %-11s %8llu %8llu %-24.24s %-24.24s %s%s%s\n", (long long)x->id, x->state,
                   (unsigned long long)x->chain_x, (unsigned long long)x->chain_y, ax, ay,
                   x->pending_action[0] ? "in flight: " : "", x->pending_action, x->note);
        }
    }
    free(xs);
    if (csv) {
        u = cli_csv_print(arr);
        json_decref(arr);
    } else if (json) {
        cli_json_print(arr, JSON_INDENT(2));
        json_decref(arr);
    }
    return u;
}

int cmd_xswap(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return cli_usage("xswap", "missing action: new, respond, resume or list");
    }
    if (strcmp(argv[1], "new") == 0)
        return cmd_new(ctx, argc, argv);
    if (strcmp(argv[1], "respond") == 0)
        return cmd_respond(ctx, argc, argv);
    if (strcmp(argv[1], "resume") == 0)
        return cmd_resume(ctx, argc, argv);
    if (strcmp(argv[1], "list") == 0)
        return cmd_list(ctx, argc, argv);
    fputs(usage_text, stderr);
    return cli_usage("xswap", "unknown action '%s'", argv[1]);
}
