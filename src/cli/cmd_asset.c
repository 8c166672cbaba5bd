/* cmd_asset.c: `fusion asset add-token|add-feed|list`, the assets the risk service values:
 * ERC20 tokens whose balances it reads and Chainlink-style feeds that price an asset in USD.
 * Adding contacts the chain first: the contract must have code, and its decimals() (and for
 * a feed latestRoundData()) must answer, so a typo is refused before it is stored. */
#include "cli/cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "cli/opts.h"
#include "cli/risk_cli.h"
#include "crypto/address.h"
#include "desk/desk.h"
#include "eth/abi.h"
#include "rpc/rpc.h"
#include "store/store.h"
#include "risk/feeds.h"

static const char asset_usage[] =
    "usage: fusion asset add-token --chain NAME|ID --symbol SYM --address ADDR [--decimals N]\n"
    "       fusion asset add-feed --chain NAME|ID --asset SYM --address ADDR [--max-age SECONDS]\n"
    "       fusion asset list [--json]\n";

static bool symbol_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* A string of a listing's row, as text shows it: its controls escaped. */
static const char *shown(char *out, size_t cap, const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return text_safe_str(out, cap, v ? v : "-");
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v > max)
        return -1;
    *out = v;
    return 0;
}

static int find_chain(store *db, const char *s, store_chain *out, err *e)
{
    bool found = false;
    unsigned long long id;
    if (parse_uint(s, UINT64_MAX, &id) == 0) {
        if (store_chain_get(db, id, out, &found, e) < 0)
            return -1;
    }
    if (!found && store_chain_find_name(db, s, out, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no chain '%s' is configured: see fusion chain list", s);
    return 0;
}

/* Calls a no-argument view function on the chain's first endpoint; out gets the return data. */
/* Calls sig on `to` (which must have code); code_out (may be NULL) receives the code. */
static int view_call(store *db, const store_chain *ch, const addr *to, const char *sig, buf *out,
                     buf *code_out, err *e)
{
    store_endpoint *eps = NULL;
    size_t n = 0;
    if (store_endpoint_list(db, ch->chain_id, &eps, &n, e) < 0)
        return -1;
    if (n == 0) {
        free(eps);
        return err_set(e, ERR_NOT_FOUND, "chain %s has no RPC endpoint", ch->name);
    }
    const char *url = eps[0].url;
    rpc_options ro;
    rpc_options_default(&ro);
    ro.max_attempts = 2;
    ro.timeout_ms = 10000;
    rpc_client *rpc = NULL;
    uint8_t sel[4];
    buf code;
    buf_init(&code);
    int rc = rpc_client_new(&rpc, &url, 1, &ro, e);
    if (rc == 0)
        rc = rpc_eth_get_code(rpc, to, NULL, &code, e);
    if (rc == 0 && code.len == 0) {
        char a[ADDR_STR_MAX];
        addr_to_checksum(a, to);
        rc = err_set(e, ERR_NOT_FOUND, "there is no contract at %s on chain %s: check --address", a,
                     ch->name);
    }
    if (rc == 0)
        rc = abi_selector(sel, sig, e);
    if (rc == 0 && rpc_eth_call(rpc, to, sel, 4, NULL, out, e) < 0)
        rc = err_prefix(e, "calling %s", sig);
    if (rc == 0 && code_out && buf_append(code_out, code.data, code.len, e) < 0)
        rc = -1;
    buf_free(&code);
    rpc_client_free(&rpc);
    free(eps);
    return rc;
}

static int read_decimals(store *db, const store_chain *ch, const addr *a, unsigned *out, err *e)
{
    buf r;
    buf_init(&r);
    int rc = view_call(db, ch, a, "decimals()", &r, NULL, e);
    if (rc == 0) {
        u256 v;
        uint64_t d;
        if (r.len != 32 || u256_from_be_bytes(&v, r.data, 32) < 0 || !u256_to_u64(&v, &d) || d > 77)
            rc = err_set(e, ERR_INVALID,
                         "decimals() did not return a uint8: is this the right "
                         "contract?");
        else
            *out = (unsigned)d;
    }
    buf_free(&r);
    return rc;
}

typedef struct add_opts {
    const char *chain, *symbol, *address, *decimals, *max_age;
} add_opts;

static int parse_add(int argc, char **argv, const char *cmd, bool feed, add_opts *o)
{
    memset(o, 0, sizeof *o);
    const cli_opt opts[] = {
        {"chain", CLI_OPT_STR, &o->chain},       {"symbol", CLI_OPT_STR, &o->symbol},
        {"asset", CLI_OPT_STR, &o->symbol},      {"address", CLI_OPT_STR, &o->address},
        {"decimals", CLI_OPT_STR, &o->decimals}, {"max-age", CLI_OPT_STR, &o->max_age},
    };
    int u = cli_opts_n(cmd, argc - 1, argv + 1, opts, CLI_NOPTS(opts), 0, NULL);
    if (u != EXIT_OK)
        return u;
    if (!o->chain || !o->symbol || !o->address)
        return cli_usage(cmd, "needs --chain NAME|ID --%s SYM --address ADDR",
                         feed ? "asset" : "symbol");
    if (feed && o->decimals)
        return cli_usage(cmd, "a feed's decimals are read from the feed");
    if (!feed && o->max_age)
        return cli_usage(cmd, "--max-age is for feeds");
    return 0;
}

static int asset_add(cli_ctx *ctx, int argc, char **argv, bool feed)
{
    const char *cmd = feed ? "asset add-feed" : "asset add-token";
    add_opts o;
    int u = parse_add(argc, argv, cmd, feed, &o);
    if (u)
        return u;
    size_t max = feed ? STORE_ASSET_MAX : STORE_SYMBOL_MAX;
    if (!symbol_ok(o.symbol, max))
        return cli_usage(cmd, "'%s' must be 1-%zu letters, digits, '.', '_' or '-'", o.symbol,
                         max - 1);
    err e;
    err_clear(&e);
    addr a;
    if (addr_parse(&a, o.address, &e) < 0)
        return cli_usage(cmd, "--address: %s", e.msg);
    unsigned long long want_dec = 0, max_age = 0;
    if (o.decimals && parse_uint(o.decimals, 77, &want_dec) < 0)
        return cli_usage(cmd, "--decimals '%s' must be 0..77", o.decimals);
    if (o.max_age && parse_uint(o.max_age, 1000000000ULL, &max_age) < 0)
        return cli_usage(cmd, "--max-age '%s' must be a number of seconds", o.max_age);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    store_chain ch;
    unsigned dec = 0;
    int rc = find_chain(db, o.chain, &ch, &e);
    if (rc == 0)
        rc = read_decimals(db, &ch, &a, &dec, &e);
    if (rc == 0 && o.decimals && want_dec != dec)
        rc = err_set(&e, ERR_INVALID, "the token says decimals() = %u, not %llu", dec, want_dec);
    if (rc == 0 && feed) {
        buf r, code;
        buf_init(&r);
        buf_init(&code);
        rc = view_call(db, &ch, &a, "latestRoundData()", &r, &code, &e);
        if (rc == 0 && r.len != 5 * 32)
            rc = err_set(&e, ERR_INVALID,
                         "latestRoundData() did not return 5 words: not a "
                         "Chainlink-style feed");
        bool mock = false;
        if (rc == 0 && !risk_chain_is_devnet(ch.chain_id))
            rc = risk_code_is_mock_feed(code.data, code.len, &mock, &e);
        if (rc == 0 && mock)
            rc = err_set(&e, ERR_DENIED,
                         "the feed at %s is a MockPriceFeed (test-only: its owner sets any "
                         "price, and it always looks fresh); refused on chain %s, which is not "
                         "a devnet",
                         o.address, ch.name);
        buf_free(&r);
        buf_free(&code);
    }
    if (rc == 0 && store_begin(db, &e) == 0) {
        if (feed) {
            store_feed f = {.chain_id = ch.chain_id,
                            .address = a,
                            .decimals = dec,
                            .max_age = (int64_t)max_age};
            snprintf(f.asset, sizeof f.asset, "%s", o.symbol);
            rc = store_feed_put(db, &f, &e);
        } else {
            store_token t = {.chain_id = ch.chain_id, .address = a, .decimals = dec};
            snprintf(t.symbol, sizeof t.symbol, "%s", o.symbol);
            store_contract k = {
                .chain_id = ch.chain_id, .kind = STORE_CONTRACT_TOKEN, .address = a};
            rc = store_token_put(db, &t, &e);
            if (rc == 0)
                rc = store_contract_put(db, &k, &e);
        }
        char as[ADDR_STR_MAX];
        addr_to_checksum(as, &a);
        json_t *det = json_pack("{s:I,s:s,s:s,s:i}", "chain_id", (json_int_t)ch.chain_id,
                                "symbol", o.symbol, "address", as, "decimals", (int)dec);
        if (rc == 0 && !det)
            rc = err_set(&e, ERR_NOMEM, "out of memory");
        if (rc == 0)
            rc = store_audit(db, ctx->home, ctx->operator_name,
                             feed ? "asset.add_feed" : "asset.add_token", det, &e);
        json_decref(det);
        if (rc == 0)
            rc = store_commit(db, &e);
        else
            store_rollback(db);
    } else if (rc == 0) {
        rc = -1;
    }
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    char as[ADDR_STR_MAX];
    addr_to_checksum(as, &a);
    if (!ctx->json)
        printf("%s %s on %s at %s (%u decimals)\n", feed ? "feed for" : "token", o.symbol, ch.name,
               as, dec);
    return EXIT_OK;
}

static int asset_list(cli_ctx *ctx, int argc, char **argv)
{
    bool json = ctx->json, csv = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--csv") == 0)
            csv = true;
        else
            return cli_usage("asset list", "unexpected argument '%s'", argv[i]);
    }
    int u = cli_json_or_csv("asset list", &json, csv);
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    store_chain *chains = NULL;
    size_t n_chains = 0;
    json_t *root = json_object(), *jt = json_array(), *jf = json_array();
    json_object_set_new(root, "tokens", jt);
    json_object_set_new(root, "feeds", jf);
    int rc = store_chain_list(db, &chains, &n_chains, &e);
    for (size_t c = 0; rc == 0 && c < n_chains; c++) {
        store_token *tok = NULL;
        store_feed *fd = NULL;
        size_t nt = 0, nf = 0;
        rc = store_token_list(db, chains[c].chain_id, &tok, &nt, &e);
        if (rc == 0)
            rc = store_feed_list(db, chains[c].chain_id, &fd, &nf, &e);
        for (size_t i = 0; rc == 0 && i < nt; i++) {
            char as[ADDR_STR_MAX];
            addr_to_lower(as, &tok[i].address);
            json_array_append_new(jt, json_pack("{s:I,s:s,s:s,s:s,s:I}", "chain_id",
                                                (json_int_t)chains[c].chain_id, "chain",
                                                chains[c].name, "symbol", tok[i].symbol, "address",
                                                as, "decimals", (json_int_t)tok[i].decimals));
        }
        for (size_t i = 0; rc == 0 && i < nf; i++) {
            char as[ADDR_STR_MAX];
            addr_to_lower(as, &fd[i].address);
            json_array_append_new(jf, json_pack("{s:I,s:s,s:s,s:s,s:I,s:I}", "chain_id",
                                                (json_int_t)chains[c].chain_id, "chain",
                                                chains[c].name, "asset", fd[i].asset, "address", as,
                                                "decimals", (json_int_t)fd[i].decimals, "max_age",
                                                (json_int_t)fd[i].max_age));
        }
        free(tok);
        free(fd);
    }
    free(chains);
    store_close(&db);
    if (rc < 0) {
        json_decref(root);
        return cli_fail(&e);
    }
    if (csv) {
        /* one table: a kind column says token or feed */
        json_t *rows = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(jt, i, v) {
            json_t *r = json_pack("{s:s}", "kind", "token");
            json_object_update(r, v);
            json_array_append_new(rows, r);
        }
        json_array_foreach(jf, i, v) {
            json_t *r = json_pack("{s:s}", "kind", "feed");
            json_object_update(r, v);
            json_array_append_new(rows, r);
        }
        u = cli_csv_print(rows);
        json_decref(rows);
    } else if (json) {
        cli_json_print(root, JSON_INDENT(2));
    } else {
        size_t i;
        json_t *v;
        /* chain names and symbols are stored text (a row an older binary left): escaped */
        char ch[6 * 64 + 4], sym[6 * 64 + 4];
        printf("tokens\n");
        json_array_foreach(jt, i, v) printf(
            "  %-12s %-8s %s  %lld decimals\n", shown(ch, sizeof ch, v, "chain"),
            shown(sym, sizeof sym, v, "symbol"), json_string_value(json_object_get(v, "address")),
            (long long)json_integer_value(json_object_get(v, "decimals")));
        printf("price feeds (USD)\n");
        json_array_foreach(jf, i, v) printf(
            "  %-12s %-8s %s  %lld decimals\n", shown(ch, sizeof ch, v, "chain"),
            shown(sym, sizeof sym, v, "asset"), json_string_value(json_object_get(v, "address")),
            (long long)json_integer_value(json_object_get(v, "decimals")));
    }
    json_decref(root);
    return u;
}

int cmd_asset(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("asset", "needs a subcommand: add-token, add-feed, list");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(asset_usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "add-token") == 0)
        return asset_add(ctx, argc, argv, false);
    if (strcmp(argv[1], "add-feed") == 0)
        return asset_add(ctx, argc, argv, true);
    if (strcmp(argv[1], "list") == 0)
        return asset_list(ctx, argc, argv);
    return cli_usage("asset", "unknown subcommand '%s' (want: add-token, add-feed, list)", argv[1]);
}
