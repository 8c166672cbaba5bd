/* cmd_chain.c: `fusion chain add|add-endpoint|add-factory|list|remove`, the desk's chain
 * configuration.
 * desk.db is the single source of truth for it (no separate config file): adding a
 * chain contacts every endpoint first and refuses one whose eth_chainId differs. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "base/log.h"
#include "base/text.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "crypto/address.h"
#include "pgstore/pg_desk.h"
#include "rpc/rpc.h"
#include "rpc/rpc_chain.h"
#include "store/store.h"
#include "sync/projection.h"
#include "sync/sync.h"

#define MAX_RPC 8

static int parse_address(addr *out, const char *s, const char *what, err *e)
{
    if (addr_parse(out, s ? s : "", e) < 0)
        return err_prefix(e, "%s", what);
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 20)
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= STORE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return true;
}

/* The first block at which the factory has code, by bisection over eth_getCode; the
 * node may not keep old state, then the answer is 0 (sync from genesis). */
static uint64_t find_deploy_block(rpc_client *rpc, const addr *a, uint64_t head)
{
    uint64_t lo = 0, hi = head;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        char tag[32];
        snprintf(tag, sizeof tag, "0x%llx", (unsigned long long)mid);
        buf code;
        buf_init(&code);
        err e;
        if (rpc_eth_get_code(rpc, a, tag, &code, &e) < 0) {
            LOG_I("chain", "cannot bisect the factory's deployment (%s); syncing from 0", e.msg);
            buf_free(&code);
            return 0;
        }
        if (code.len)
            hi = mid;
        else
            lo = mid + 1;
        buf_free(&code);
    }
    return lo;
}

/* version(): 2 for EscrowFactoryV2; version 1 has no such function, so the call reverts
 * (a node error) or returns nothing. Another answer is refused. */
static int probe_factory_version(rpc_client *rpc, const addr *factory, const char *factory_s,
                                 unsigned *out, err *e)
{
    static const uint8_t sel_version[4] = {0x54, 0xfd, 0x4d, 0x50};
    buf ret;
    buf_init(&ret);
    err ve;
    *out = 1;
    int rc = 0;
    if (rpc_eth_call(rpc, factory, sel_version, 4, "latest", &ret, &ve) == 0 && ret.len) {
        bool two = ret.len == 32 && ret.data[31] == 2;
        for (size_t k = 0; two && k < 31; k++)
            two = ret.data[k] == 0;
        if (two)
            *out = 2;
        else
            rc = err_set(e, ERR_INVALID,
                         "the contract at %s answers version() with a version this desk does "
                         "not know (1 and 2 only): check --factory",
                         factory_s);
    }
    buf_free(&ret);
    return rc;
}

/* The escrow contracts' guarded functions use transient storage: on a chain without
 * Cancun (EIP-1153) funds sent to an escrow could not be moved again, so such a chain is
 * refused. */
static int need_cancun(rpc_client *rpc, const char *name, err *e)
{
    bool yes = false;
    if (rpc_probe_cancun(rpc, &yes, e) < 0)
        return err_prefix(e, "asking chain %s for EIP-1153", name);
    if (!yes)
        return err_set(e, ERR_DENIED,
                       "chain %s does not execute transient storage (EIP-1153, Cancun): the "
                       "escrow contracts' guarded functions would revert there and funds could "
                       "not be moved; refused",
                       name);
    return 0;
}

/* An explorer URL template: http(s), printable ASCII without spaces or quotes, with one
 * {address} for the escrow's address (no secret goes in: it is shown and audited). */
static int explorer_check(const char *t, err *e)
{
    size_t n = strlen(t);
    if (n == 0 || n >= STORE_URL_MAX - 64)
        return err_set(e, ERR_INVALID, "--explorer must be 1-%d characters", STORE_URL_MAX - 65);
    if (strncmp(t, "https://", 8) != 0 && strncmp(t, "http://", 7) != 0)
        return err_set(e, ERR_INVALID, "--explorer '%.80s' must start with https:// or http://", t);
    for (size_t i = 0; i < n; i++)
        if (t[i] <= ' ' || t[i] >= 0x7f || t[i] == '"' || t[i] == '\'' || t[i] == '\\')
            return err_set(e, ERR_INVALID, "--explorer has a space, quote or non-ASCII byte at "
                           "position %zu", i + 1);
    const char *p = strstr(t, "{address}");
    if (!p || strstr(p + 1, "{address}"))
        return err_set(e, ERR_INVALID, "--explorer needs exactly one {address}, e.g. "
                       "https://etherscan.io/address/{address}");
    return 0;
}

static void note_literal_key(const char *url);

static int chain_add(cli_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL, *id_s = NULL, *factory_s = NULL, *conf_s = NULL, *from_s = NULL;
    const char *symbol = "ETH", *decimals_s = "18", *explorer = NULL;
    const char *rpcs[MAX_RPC];
    size_t n_rpc = 0;
    bool json = ctx->json;
    cli_opt_list rpc_list = {rpcs, MAX_RPC, 0};
    const cli_opt opts[] = {
        {"name", CLI_OPT_STR, &name},
        {"chain-id", CLI_OPT_STR, &id_s},
        {"rpc", CLI_OPT_LIST, &rpc_list},
        {"factory", CLI_OPT_STR, &factory_s},
        {"confirmations", CLI_OPT_STR, &conf_s},
        {"from-block", CLI_OPT_STR, &from_s},
        {"native-symbol", CLI_OPT_STR, &symbol},
        {"native-decimals", CLI_OPT_STR, &decimals_s},
        {"explorer", CLI_OPT_STR, &explorer},
        {"json", CLI_OPT_FLAG, &json},
    };
    int u = cli_opts_n("chain add", argc, argv, opts, CLI_NOPTS(opts), 0, NULL);
    if (u != EXIT_OK)
        return u;
    n_rpc = rpc_list.n;
    err e;
    err_clear(&e);
    if (!name || !id_s || !n_rpc || !factory_s)
        return cli_usage("chain add", "needs --name NAME --chain-id ID --rpc URL --factory ADDR");
    if (!name_ok(name))
        return cli_usage("chain add",
                         "chain name '%s' must be 1-63 letters, digits, '-', '_' "
                         "or '.'",
                         name);
    store_chain ch;
    memset(&ch, 0, sizeof ch);
    snprintf(ch.name, sizeof ch.name, "%s", name);
    if (parse_u64(id_s, &ch.chain_id) < 0 || ch.chain_id == 0)
        return cli_usage("chain add",
                         "--chain-id '%s' is not a chain id (a positive integer "
                         "below 2^64)",
                         id_s);
    uint64_t v = 12;
    if (conf_s && (parse_u64(conf_s, &v) < 0 || v > 10000))
        return cli_usage("chain add", "--confirmations '%s' must be 0..10000", conf_s);
    ch.confirmations = (unsigned)v;
    if (!symbol[0] || strlen(symbol) >= STORE_SYMBOL_MAX)
        return cli_usage("chain add", "--native-symbol must be 1-15 characters");
    snprintf(ch.native_symbol, sizeof ch.native_symbol, "%s", symbol);
    if (parse_u64(decimals_s, &v) < 0 || v > 77)
        return cli_usage("chain add", "--native-decimals '%s' must be 0..77", decimals_s);
    ch.native_decimals = (unsigned)v;
    if (explorer && explorer_check(explorer, &e) < 0)
        return cli_usage("chain add", "%s", e.msg);
    if (explorer)
        snprintf(ch.explorer, sizeof ch.explorer, "%s", explorer);
    uint64_t from_block = 0;
    if (from_s && (parse_u64(from_s, &from_block) < 0 || from_block > (uint64_t)INT64_MAX))
        return cli_usage("chain add", "--from-block '%s' is not a block number", from_s);
    addr factory;
    unsigned factory_version = 1;
    if (parse_address(&factory, factory_s, "--factory", &e) < 0)
        return cli_usage("chain add", "%s", e.msg);

    store *db = NULL;
    if (cli_desk_create(ctx, &db, &e) < 0)
        return cli_fail(&e);
    pg_desk_book book;
    if (pg_desk_book_read(ctx->home, &book, &e) < 0)
        goto fail;
    bool found;
    store_chain existing;
    if (store_chain_get(db, ch.chain_id, &existing, &found, &e) < 0)
        goto fail;
    if (found) {
        err_set(&e, ERR_EXISTS, "chain id %llu is already configured as \"%s\"",
                (unsigned long long)ch.chain_id, existing.name);
        goto fail;
    }
    if (store_chain_find_name(db, name, &existing, &found, &e) < 0)
        goto fail;
    if (found) {
        err_set(&e, ERR_EXISTS, "a chain named \"%s\" is already configured (chain id %llu)", name,
                (unsigned long long)existing.chain_id);
        goto fail;
    }

    /* First contact: every endpoint must answer, and with this chain id. Three attempts:
     * a hosted provider may drop a connection and then rate-limit the retry (429 with
     * Retry-After, waited for), and still answer the third. */
    rpc_options ro;
    rpc_options_default(&ro);
    ro.max_attempts = 3;
    ro.timeout_ms = 10000;
    uint64_t head = 0;
    for (size_t i = 0; i < n_rpc; i++) {
        rpc_client *rpc = NULL;
        uint64_t got;
        if (rpc_client_new(&rpc, &rpcs[i], 1, &ro, &e) < 0)
            goto fail;
        if (rpc_eth_chain_id(rpc, &got, &e) < 0) {
            rpc_client_free(&rpc);
            err_prefix(&e, "cannot reach the node");
            goto fail;
        }
        if (got != ch.chain_id) {
            rpc_client_free(&rpc);
            char shown[160];
            rpc_url_redact(shown, sizeof shown, rpcs[i]);
            err_set(&e, ERR_DENIED,
                    "the node at %s reports chain id %llu, not %llu: "
                    "refusing chain %s",
                    shown, (unsigned long long)got, (unsigned long long)ch.chain_id, name);
            goto fail;
        }
        if (i == 0) {
            buf code;
            buf_init(&code);
            int rc = rpc_eth_block_number(rpc, &head, &e);
            if (rc == 0)
                rc = rpc_eth_get_code(rpc, &factory, NULL, &code, &e);
            size_t code_len = code.len;
            buf_free(&code);
            if (rc < 0) {
                rpc_client_free(&rpc);
                goto fail;
            }
            if (code_len == 0) {
                rpc_client_free(&rpc);
                err_set(&e, ERR_NOT_FOUND,
                        "there is no contract at %s on chain %s: check "
                        "--factory",
                        factory_s, name);
                goto fail;
            }
            if (!from_s)
                from_block = find_deploy_block(rpc, &factory, head);
            if (probe_factory_version(rpc, &factory, factory_s, &factory_version, &e) < 0 ||
                need_cancun(rpc, name, &e) < 0) {
                rpc_client_free(&rpc);
                goto fail;
            }
        }
        rpc_client_free(&rpc);
    }
    ch.start_block = from_block;

    store_contract k = {.chain_id = ch.chain_id,
                        .kind = STORE_CONTRACT_FACTORY,
                        .address = factory,
                        .deployed_block = from_block,
                        .version = factory_version};
    if (store_begin(db, &e) < 0)
        goto fail;
    if (store_chain_add(db, &ch, &e) < 0 || store_contract_put(db, &k, &e) < 0) {
        store_rollback(db);
        goto fail;
    }
    for (size_t i = 0; i < n_rpc; i++) {
        if (store_endpoint_add(db, ch.chain_id, rpcs[i], (int)i, &e) < 0) {
            store_rollback(db);
            goto fail;
        }
    }
    /* On a desk whose book is on a server, the server's chains row and the factory's
     * contracts row (one server transaction) inside desk.db's transaction, before the audit
     * (whose log is outside desk.db) and the commit: a server away (or refusing) leaves
     * neither written; desk.db failing after it leaves the rows on the server, which adding
     * the chain again accepts. */
    if (book.present && pg_book_chain_put(book.url, &ch, &k, (int64_t)time(NULL), &e) < 0) {
        store_rollback(db);
        err_prefix(&e, "chain %s not added", name);
        goto fail;
    }
    /* A configuration decision, audited (signed on a desk with a genesis); the endpoint
     * URLs stay out of the log: they may carry provider keys. */
    json_t *det = json_pack("{s:s,s:I,s:s,s:I,s:I,s:s?}", "name", name, "chain_id",
                            (json_int_t)ch.chain_id, "factory", factory_s, "from_block",
                            (json_int_t)from_block, "endpoints", (json_int_t)n_rpc, "explorer",
                            explorer);
    int arc = det ? store_audit(db, ctx->home, ctx->operator_name, "chain.add", det, &e)
                  : err_set(&e, ERR_NOMEM, "out of memory");
    json_decref(det);
    if (arc < 0) {
        store_rollback(db);
        goto fail;
    }
    if (store_commit(db, &e) < 0)
        goto fail;
    for (size_t i = 0; i < n_rpc; i++)
        note_literal_key(rpcs[i]);
    LOG_I("chain", "added chain %s (id %llu), %zu endpoint(s), factory %s from block %llu", name,
          (unsigned long long)ch.chain_id, n_rpc, factory_s, (unsigned long long)from_block);
    if (json) {
        json_t *o =
            json_pack("{s:s, s:I, s:I, s:I, s:s}", "name", name, "chain_id",
                      (json_int_t)ch.chain_id, "confirmations", (json_int_t)ch.confirmations,
                      "start_block", (json_int_t)from_block, "factory", factory_s);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else {
        printf("chain %s (id %llu) added: %zu endpoint%s, factory %s (version %u), sync starts "
               "at block %llu\n",
               name, (unsigned long long)ch.chain_id, n_rpc, n_rpc == 1 ? "" : "s", factory_s,
               factory_version,
               (unsigned long long)from_block);
    }
    store_close(&db);
    return EXIT_OK;
fail:
    store_close(&db);
    return cli_fail(&e);
}

static const char *ago(int64_t t, char *out, size_t cap)
{
    if (!t) {
        snprintf(out, cap, "never");
        return out;
    }
    int64_t d = (int64_t)time(NULL) - t;
    if (d < 0)
        d = 0;
    if (d < 120)
        snprintf(out, cap, "%llds ago", (long long)d);
    else if (d < 7200)
        snprintf(out, cap, "%lldm ago", (long long)(d / 60));
    else
        snprintf(out, cap, "%lldh ago", (long long)(d / 3600));
    return out;
}

static int chain_list(cli_ctx *ctx, int argc, char **argv)
{
    bool json = ctx->json, live = false, csv = false;
    const cli_opt opts[] = {
        {"json", CLI_OPT_FLAG, &json},
        {"live", CLI_OPT_FLAG, &live},
        {"csv", CLI_OPT_FLAG, &csv},
    };
    size_t n_pos;
    int u = cli_opts("chain list", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u == EXIT_OK)
        u = cli_json_or_csv("chain list", &json, csv);
    if (u != EXIT_OK)
        return u;
    if (n_pos > 0)
        return cli_usage("chain list", "unexpected argument '%s'", argv[1]);
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    /* the synced blocks from where the desk keeps its book (book.conf): the server's
     * checkpoints on such a desk (a server away: one line, exit 1, as escrow list) */
    if (pg_desk_book_attach(db, ctx->home, PG_DESK_READS, NULL, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    store_chain *chains = NULL;
    size_t n = 0;
    if (store_chain_list(db, &chains, &n, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    json_t *arr = json_array();
    if (!json && n == 0)
        printf("no chains configured: add one with `fusion chain add`\n");
    else if (!json)
        printf("%-16s %20s %10s %10s %8s %5s  %s\n", "NAME", "CHAIN ID", "HEAD", "SYNCED", "LAG",
               "CONF", "ENDPOINTS");
    int rc = EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        store_chain *ch = &chains[i];
        store_checkpoint cp;
        store_endpoint *eps = NULL;
        size_t ne = 0;
        if (store_checkpoint_get(db, ch->chain_id, &cp, &e) < 0 ||
            store_endpoint_list(db, ch->chain_id, &eps, &ne, &e) < 0) {
            rc = cli_fail(&e);
            break;
        }
        bool has_head = cp.synced;
        uint64_t head = cp.head_block;
        if (live && ne) {
            rpc_options ro;
            rpc_options_default(&ro);
            ro.max_attempts = 1;
            ro.timeout_ms = 3000;
            rpc_client *rpc = NULL;
            err le;
            if (rpc_chain_client(&rpc, db, ch->chain_id, &ro, &le) == 0 &&
                rpc_eth_block_number(rpc, &head, &le) == 0)
                has_head = true;
            rpc_client_free(&rpc);
        }
        uint64_t lag = has_head && cp.synced && head > cp.synced_block ? head - cp.synced_block : 0;
        if (json) {
            json_t *je = json_array();
            for (size_t k = 0; k < ne; k++) {
                char url[STORE_URL_MAX];
                rpc_url_redact(url, sizeof url, eps[k].url);
                json_array_append_new(
                    je, json_pack("{s:s, s:i, s:s, s:s?, s:I, s:I, s:o, s:o, s:o}", "url", url,
                                  "priority", eps[k].priority, "health",
                                  store_health_str(eps[k].health), "last_error",
                                  eps[k].last_error[0] ? eps[k].last_error : NULL, "last_ok",
                                  (json_int_t)eps[k].last_ok, "last_fail",
                                  (json_int_t)eps[k].last_fail, "latency_ms",
                                  eps[k].has_latency ? json_integer(eps[k].latency_ms)
                                                     : json_null(),
                                  "range_cap",
                                  eps[k].range_cap ? json_integer((json_int_t)eps[k].range_cap)
                                                   : json_null(),
                                  "rate_limited_until",
                                  eps[k].limited_until > time(NULL)
                                      ? json_integer(eps[k].limited_until)
                                      : json_null()));
            }
            json_t *o = json_pack(
                "{s:s, s:I, s:i, s:s, s:i, s:I, s:o, s:o, s:o, s:o, s:I, s:o}", "name", ch->name,
                "chain_id", (json_int_t)ch->chain_id, "confirmations", (int)ch->confirmations,
                "native_symbol", ch->native_symbol, "native_decimals", (int)ch->native_decimals,
                "start_block", (json_int_t)ch->start_block, "head",
                has_head ? json_integer((json_int_t)head) : json_null(), "synced",
                cp.synced ? json_integer((json_int_t)cp.synced_block) : json_null(), "final",
                cp.synced ? json_integer((json_int_t)cp.final_block) : json_null(), "lag",
                has_head ? json_integer((json_int_t)lag) : json_null(), "updated_at",
                (json_int_t)cp.updated_at, "endpoints", je);
            json_array_append_new(arr, o);
        } else {
            char hs[24] = "-", ss[24] = "-", ls[24] = "-";
            if (has_head)
                snprintf(hs, sizeof hs, "%llu", (unsigned long long)head);
            if (cp.synced)
                snprintf(ss, sizeof ss, "%llu", (unsigned long long)cp.synced_block);
            if (has_head && cp.synced)
                snprintf(ls, sizeof ls, "%llu", (unsigned long long)lag);
            /* the name and the URLs are stored text (a row an older binary or a signed
             * configuration wrote): shown with their controls escaped */
            char nm[6 * STORE_NAME_MAX + 4];
            printf("%-16s %20llu %10s %10s %8s %5u ", text_safe_str(nm, sizeof nm, ch->name),
                   (unsigned long long)ch->chain_id, hs, ss, ls, ch->confirmations);
            for (size_t k = 0; k < ne; k++) {
                char when[32], shown[81]; /* a stored error may predate safe texts */
                const store_endpoint *ep = &eps[k];
                char url[STORE_URL_MAX], url_s[6 * STORE_URL_MAX + 4];
                rpc_url_redact(url, sizeof url, ep->url);
                printf(" %s (%s", text_safe_str(url_s, sizeof url_s, url),
                       store_health_str(ep->health));
                if (ep->health == STORE_HEALTH_OK)
                    printf(", ok %s", ago(ep->last_ok, when, sizeof when));
                else if (ep->last_fail)
                    printf(", failed %s: %s", ago(ep->last_fail, when, sizeof when),
                           text_safe_str(shown, sizeof shown, ep->last_error));
                if (ep->has_latency)
                    printf(", %lld ms", (long long)ep->latency_ms);
                if (ep->range_cap)
                    printf(", logs %llu blocks", (unsigned long long)ep->range_cap);
                if (ep->limited_until > time(NULL))
                    printf(", rate limited %llds more",
                           (long long)(ep->limited_until - time(NULL)));
                printf(")");
            }
            printf("\n");
        }
        free(eps);
    }
    if (csv && rc == EXIT_OK) {
        rc = cli_csv_print(arr);
    } else if (json && rc == EXIT_OK) {
        cli_json_print(arr, JSON_INDENT(2));
    }
    json_decref(arr);
    free(chains);
    store_close(&db);
    return rc;
}

/* `fusion chain add-factory NAME --factory ADDR`: a second escrow factory on a configured
 * chain (the version-2 factory beside an existing desk's version-1 one). The factory's
 * past logs must be read too: when the sync is already past the block the factory was
 * deployed in, the stored events from that block on are rolled back (as in a reorg) and
 * the affected escrows rebuilt, so the next sync reads that range again with both
 * factories. Holds the sync lock meanwhile. On a desk whose book is on a server, the rewind
 * is the server's (pg_book_factory_add: the factory's row there too, decided and done in
 * one server transaction under the checkpoint's row lock, so a syncer running on another
 * workstation reads again from the rewound block at its next commit). */
static int chain_add_factory(cli_ctx *ctx, int argc, char **argv)
{
    const char *factory_s = NULL, *from_s = NULL;
    bool json = ctx->json;
    const cli_opt opts[] = {
        {"factory", CLI_OPT_STR, &factory_s},
        {"from-block", CLI_OPT_STR, &from_s},
        {"json", CLI_OPT_FLAG, &json},
    };
    size_t n_pos;
    int u = cli_opts("chain add-factory", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos != 1 || !factory_s)
        return cli_usage("chain add-factory", "needs a chain NAME and --factory ADDR");
    const char *name = argv[1];
    err e;
    err_clear(&e);
    addr factory;
    if (parse_address(&factory, factory_s, "--factory", &e) < 0)
        return cli_usage("chain add-factory", "%s", e.msg);
    uint64_t from_block = 0;
    if (from_s && (parse_u64(from_s, &from_block) < 0 || from_block > (uint64_t)INT64_MAX))
        return cli_usage("chain add-factory", "--from-block '%s' is not a block number", from_s);
    store *db = NULL;
    rpc_client *rpc = NULL;
    int lock = -1;
    addr *touched = NULL;
    size_t nt = 0;
    bool in_tx = false;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    store_chain ch;
    bool found = false;
    store_endpoint *eps = NULL;
    size_t ne = 0;
    store_contract *cs = NULL;
    size_t nc = 0;
    unsigned version = 1;
    if (store_chain_find_name(db, name, &ch, &found, &e) < 0)
        goto fail;
    if (!found) {
        err_set(&e, ERR_NOT_FOUND, "no chain named \"%s\" (see `fusion chain list`)", name);
        goto fail;
    }
    if (store_contract_list(db, ch.chain_id, &cs, &nc, &e) < 0)
        goto fail;
    for (size_t i = 0; i < nc; i++)
        if (addr_equal(&cs[i].address, &factory)) {
            err_set(&e, ERR_EXISTS, "%s is already a configured %s of chain %s", factory_s,
                    store_contract_kind_str(cs[i].kind), name);
            goto fail;
        }
    if (sync_lock_take(ctx->home, &lock, &e) < 0)
        goto fail;
    if (store_endpoint_list(db, ch.chain_id, &eps, &ne, &e) < 0)
        goto fail;
    if (ne == 0) {
        err_set(&e, ERR_NOT_FOUND, "chain %s has no RPC endpoint", name);
        goto fail;
    }
    rpc_options ro;
    rpc_options_default(&ro);
    ro.max_attempts = 2;
    ro.timeout_ms = 10000;
    const char *url = eps[0].url;
    uint64_t got = 0, head = 0;
    buf code;
    buf_init(&code);
    int rc = rpc_client_new(&rpc, &url, 1, &ro, &e);
    if (rc == 0)
        rc = rpc_eth_chain_id(rpc, &got, &e);
    if (rc == 0 && got != ch.chain_id)
        rc = err_set(&e, ERR_DENIED, "the node reports chain id %llu, not %llu",
                     (unsigned long long)got, (unsigned long long)ch.chain_id);
    if (rc == 0)
        rc = rpc_eth_block_number(rpc, &head, &e);
    if (rc == 0)
        rc = rpc_eth_get_code(rpc, &factory, NULL, &code, &e);
    if (rc == 0 && code.len == 0)
        rc = err_set(&e, ERR_NOT_FOUND, "there is no contract at %s on chain %s: check --factory",
                     factory_s, name);
    buf_free(&code);
    if (rc == 0)
        rc = probe_factory_version(rpc, &factory, factory_s, &version, &e);
    if (rc == 0)
        rc = need_cancun(rpc, name, &e);
    if (rc < 0)
        goto fail;
    if (!from_s)
        from_block = find_deploy_block(rpc, &factory, head);
    if (from_block < ch.start_block) {
        err_set(&e, ERR_INVALID,
                "the factory's logs start at block %llu, before chain %s's start block %llu: "
                "remove and add the chain again with --from-block",
                (unsigned long long)from_block, name, (unsigned long long)ch.start_block);
        goto fail;
    }
    /* the synced block from where the book is (book.conf: the server's checkpoint) */
    pg_desk_book book;
    if (pg_desk_book_attach(db, ctx->home, PG_DESK_READS, &book, &e) < 0)
        goto fail;
    store_checkpoint cp;
    if (store_checkpoint_get(db, ch.chain_id, &cp, &e) < 0)
        goto fail;
    rpc_block before;
    memset(&before, 0, sizeof before);
    /* desk.db's checkpoint, or the server's as read now: on a server the transaction below
     * decides again under the checkpoint's lock (a syncer may commit meanwhile), so the
     * block before the factory's is asked for whenever it may be needed */
    bool rewind = cp.synced && cp.synced_block >= from_block;
    if ((rewind || book.present) && from_block > 0) {
        bool have = false;
        if (rpc_eth_get_block(rpc, from_block - 1, NULL, &before, &have, &e) < 0)
            goto fail;
        if (!have) {
            err_set(&e, ERR_RPC, "the node has no block %llu", (unsigned long long)from_block - 1);
            goto fail;
        }
    }
    store_contract k = {.chain_id = ch.chain_id,
                        .kind = STORE_CONTRACT_FACTORY,
                        .address = factory,
                        .deployed_block = from_block,
                        .version = version};
    if (store_begin(db, &e) < 0)
        goto fail;
    in_tx = true;
    uint64_t gone = 0;
    if (store_contract_put(db, &k, &e) < 0)
        goto fail;
    store_checkpoint ncp = {.chain_id = ch.chain_id,
                            .synced = true,
                            .synced_block = from_block ? from_block - 1 : 0,
                            .final_block =
                                cp.final_block < from_block - 1 ? cp.final_block : from_block - 1,
                            .head_block = head,
                            .updated_at = (int64_t)time(NULL)};
    memcpy(ncp.synced_hash, before.hash, 32);
    if (book.present) {
        /* the book is the server's: its factory row and rewind in one server transaction
         * inside desk.db's, before the audit and desk.db's commit (as chain add's row): a
         * server away or refusing leaves neither written. desk.db holds no events there. */
        pg_factory_added fa;
        if (pg_book_factory_add(book.url, &k, from_block ? &ncp : NULL, escrow_project, &fa, &e) <
            0) {
            err_prefix(&e, "factory %s not added to chain %s", factory_s, name);
            goto fail;
        }
        rewind = fa.rewound;
        gone = fa.gone;
        if (fa.rewound)
            LOG_I("chain",
                  "%s: the book on %s rewound from block %llu to %llu for factory %s "
                  "(%llu events to read again, %zu escrows rebuilt)",
                  name, book.shown, (unsigned long long)fa.synced_block,
                  (unsigned long long)(from_block ? from_block - 1 : 0), factory_s,
                  (unsigned long long)fa.gone, fa.rebuilt);
    } else if (rewind) {
        if (store_events_rewind(db, ch.chain_id, from_block, &touched, &nt, &gone, &e) < 0 ||
            sync_rebuild_escrows(db, ch.chain_id, touched, nt, from_block ? from_block - 1 : 0,
                                 &e) < 0)
            goto fail;
        if (from_block == 0) {
            if (store_checkpoint_delete(db, ch.chain_id, &e) < 0)
                goto fail;
        } else if (store_checkpoint_put(db, &ncp, &e) < 0) {
            goto fail;
        }
    }
    json_t *det = json_pack("{s:s, s:s, s:I, s:I, s:I}", "chain", name, "factory", factory_s,
                            "version", (json_int_t)version, "from_block", (json_int_t)from_block,
                            "events_rolled_back", (json_int_t)gone);
    int arc = store_audit(db, ctx->home, ctx->operator_name, "chain.add_factory", det, &e);
    json_decref(det);
    if (arc < 0 || store_commit(db, &e) < 0)
        goto fail;
    in_tx = false;
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:b}", "chain", name, "factory", factory_s,
                              "version", (json_int_t)version, "from_block", (json_int_t)from_block,
                              "events_rolled_back", (json_int_t)gone, "rewound", rewind);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else {
        printf("chain %s: factory %s (version %u) added; its logs are read from block %llu%s\n",
               name, factory_s, version, (unsigned long long)from_block,
               rewind ? " (the sync reads that range again)" : "");
    }
    free(touched);
    free(eps);
    free(cs);
    rpc_client_free(&rpc);
    sync_lock_release(&lock);
    store_close(&db);
    return EXIT_OK;
fail:
    if (in_tx)
        store_rollback(db);
    free(touched);
    free(eps);
    free(cs);
    rpc_client_free(&rpc);
    sync_lock_release(&lock);
    store_close(&db);
    return cli_fail(&e);
}

static int chain_remove(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 3)
        return cli_usage("chain remove", "needs exactly one chain NAME");
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    store_chain ch;
    bool found;
    int rc = store_chain_find_name(db, argv[2], &ch, &found, &e);
    if (rc == 0 && !found)
        rc = err_set(&e, ERR_NOT_FOUND, "no chain named \"%s\" (see `fusion chain list`)", argv[2]);
    pg_desk_book book;
    if (rc == 0)
        rc = pg_desk_book_read(ctx->home, &book, &e);
    json_t *det = NULL;
    bool had = false;
    if (rc == 0 && (rc = store_begin(db, &e)) == 0) {
        det = json_pack("{s:s,s:I}", "name", argv[2], "chain_id", (json_int_t)ch.chain_id);
        if (!det)
            rc = err_set(&e, ERR_NOMEM, "out of memory");
        if (rc == 0)
            rc = store_chain_remove(db, ch.chain_id, &e);
        /* the server's chain and its rows before the audit and desk.db's commit (as chain
         * add) */
        if (rc == 0 && book.present &&
            (rc = pg_book_chain_drop(book.url, ch.chain_id, &had, &e)) < 0)
            err_prefix(&e, "chain %s not removed", argv[2]);
        if (rc == 0)
            rc = store_audit(db, ctx->home, ctx->operator_name, "chain.remove", det, &e);
        if (rc == 0)
            rc = store_commit(db, &e);
        if (rc < 0)
            store_rollback(db);
    }
    json_decref(det);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    if (book.present)
        printf("chain %s removed with its events and escrows, from desk.db and from the book on "
               "%s%s\n",
               argv[2], book.shown, had ? "" : " (which did not have it)");
    else
        printf("chain %s removed with its events and escrows\n", argv[2]);
    return EXIT_OK;
}

/* Says on stderr when a URL seems to hold a key typed into it (it is stored as given). */
static void note_literal_key(const char *url)
{
    char shown[STORE_URL_MAX];
    rpc_url_redact(shown, sizeof shown, url);
    if (strcmp(shown, url) != 0 && !strstr(url, "${"))
        cli_errorf("note: %s seems to carry an API key, which desk.db and its backups now "
                   "hold: give it as ${env:NAME} or ${file:PATH} instead (docs/sync.md)",
                   shown);
}

/* `fusion chain add-endpoint NAME --rpc URL`: one more RPC endpoint for a configured
 * chain, tried after the others (a hosted provider beside a node). It must answer with
 * the chain's id; its API key may be a ${env:NAME} or ${file:PATH} placeholder. */
static int chain_add_endpoint(cli_ctx *ctx, int argc, char **argv)
{
    const char *url = NULL;
    bool json = ctx->json;
    const cli_opt opts[] = {
        {"rpc", CLI_OPT_STR, &url},
        {"json", CLI_OPT_FLAG, &json},
    };
    size_t n_pos;
    int u = cli_opts("chain add-endpoint", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos != 1 || !url)
        return cli_usage("chain add-endpoint", "needs a chain NAME and --rpc URL");
    if (strlen(url) >= STORE_URL_MAX)
        return cli_usage("chain add-endpoint", "--rpc URL is longer than %d bytes",
                         STORE_URL_MAX - 1);
    const char *name = argv[1];
    err e;
    err_clear(&e);
    store *db = NULL;
    rpc_client *rpc = NULL;
    store_endpoint *eps = NULL;
    size_t ne = 0;
    json_t *det = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    store_chain ch;
    bool found = false;
    if (store_chain_find_name(db, name, &ch, &found, &e) < 0)
        goto fail;
    if (!found) {
        err_set(&e, ERR_NOT_FOUND, "no chain named \"%s\" (see `fusion chain list`)", name);
        goto fail;
    }
    if (store_endpoint_list(db, ch.chain_id, &eps, &ne, &e) < 0)
        goto fail;
    int priority = 0;
    for (size_t i = 0; i < ne; i++) {
        if (strcmp(eps[i].url, url) == 0) {
            err_set(&e, ERR_EXISTS, "that endpoint is already configured for chain %s", name);
            goto fail;
        }
        if (eps[i].priority >= priority)
            priority = eps[i].priority + 1;
    }
    rpc_options ro;
    rpc_options_default(&ro);
    ro.max_attempts = 3; /* a drop, then a 429, then the answer: as in chain add */
    ro.timeout_ms = 10000;
    uint64_t got = 0;
    if (rpc_client_new(&rpc, &url, 1, &ro, &e) < 0)
        goto fail;
    if (rpc_eth_chain_id(rpc, &got, &e) < 0) {
        err_prefix(&e, "cannot reach the node");
        goto fail;
    }
    if (got != ch.chain_id) {
        char shown[160];
        rpc_url_redact(shown, sizeof shown, url);
        err_set(&e, ERR_DENIED, "the node at %s reports chain id %llu, not %llu: refusing it for "
                "chain %s", shown, (unsigned long long)got, (unsigned long long)ch.chain_id,
                name);
        goto fail;
    }
    rpc_client_free(&rpc);
    /* audited without the URL: it may carry a key */
    det = json_pack("{s:s,s:I,s:I}", "name", name, "chain_id", (json_int_t)ch.chain_id,
                    "endpoints", (json_int_t)(ne + 1));
    if (!det) {
        err_set(&e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (store_begin(db, &e) < 0)
        goto fail;
    if (store_endpoint_add(db, ch.chain_id, url, priority, &e) < 0 ||
        store_audit(db, ctx->home, ctx->operator_name, "chain.add_endpoint", det, &e) < 0 ||
        store_commit(db, &e) < 0) {
        store_rollback(db);
        goto fail;
    }
    note_literal_key(url);
    char shown[STORE_URL_MAX];
    rpc_url_redact(shown, sizeof shown, url);
    LOG_I("chain", "chain %s: endpoint %zu added", name, ne + 1);
    if (json) {
        json_t *o = json_pack("{s:s, s:I, s:s, s:i}", "chain", name, "chain_id",
                              (json_int_t)ch.chain_id, "url", shown, "priority", priority);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else {
        char *url_s = text_safe_dup(shown, strlen(shown));
        printf("chain %s: endpoint %s added (tried after the %zu before it)\n", name,
               url_s ? url_s : "?", ne);
        free(url_s);
    }
    json_decref(det);
    free(eps);
    store_close(&db);
    return EXIT_OK;
fail:
    json_decref(det);
    rpc_client_free(&rpc);
    free(eps);
    store_close(&db);
    return cli_fail(&e);
}

int cmd_chain(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("chain",
                         "needs a subcommand: add, add-endpoint, add-factory, list or remove");
    if (strcmp(argv[1], "add") == 0)
        return chain_add(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "add-factory") == 0)
        return chain_add_factory(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "add-endpoint") == 0)
        return chain_add_endpoint(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return chain_list(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "remove") == 0)
        return chain_remove(ctx, argc, argv);
    return cli_usage("chain",
                     "unknown subcommand '%s' (add, add-endpoint, add-factory, list or remove)",
                     argv[1]);
}
