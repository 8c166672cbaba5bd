/* escrow.c: the escrow actions of the desk (create, fund, approve, release, refund,
 * dispute, resolve). Each reads the escrow's terms from the contract itself (only escrows
 * of the configured factory are trusted), applies the built-in checks (maker-checker,
 * roles of the parties, deadline sanity, exact ERC20 allowance) and the policy table, and
 * hands the call to the pipeline in desk.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/amount.h"
#include "base/log.h"
#include "desk/desk.h"
#include "desk/desk_internal.h"
#include "eth/tx.h"
#include "risk/feeds.h"
#include "risk/service.h"

#define DEADLINE_MIN_S 60u
#define DEADLINE_MAX_S (366u * 86400u)
/* EscrowV2's MIN_/MAX_/DEFAULT_DISPUTE_WINDOW */
#define DISPUTE_WINDOW_MIN_S 86400u
#define DISPUTE_WINDOW_MAX_S (90u * 86400u)
#define DISPUTE_WINDOW_DEFAULT_S (7u * 86400u)

int desk_created_escrow(desk *d, desk_result *res, err *e);

static const char *const state_names[] = {"created",  "funded",   "released",
                                          "refunded", "disputed", "resolved"};

typedef struct onchain {
    unsigned state;
    addr payer, payee, token, arbiter;
    u256 amount;
    uint64_t deadline;
    unsigned threshold, approvals;
    unsigned version;          /* of the factory that created it */
    const abi_json *abi;       /* Escrow.json or EscrowV2.json */
    uint64_t dispute_window;   /* version 2 */
    uint8_t terms_hash[32];    /* version 2: termsHash() */
} onchain;

/* Calls a view of `to` with the tuple `args` (consumed; NULL: none); *out the decoded
 * outputs (a tuple). */
static int view(desk *d, const abi_json *abi, const addr *to, const char *fn, abi_value *args,
                abi_value **out, err *e)
{
    *out = NULL;
    const abi_fn *f = abi_json_function(abi, fn);
    if (!f) {
        abi_value_free(&args);
        return err_set(e, ERR_INTERNAL, "%s is not in the contract ABI", fn);
    }
    if (!args)
        args = abi_value_new(ABI_TUPLE);
    buf cd, ret;
    buf_init(&cd);
    buf_init(&ret);
    int rc = desk_calldata(&cd, abi, fn, args, e);
    if (rc == 0)
        rc = desk_eth_call(d, to, &cd, &ret, e);
    if (rc == 0 && ret.len == 0)
        rc = err_set(e, ERR_NOT_FOUND, "no contract answered %s", fn);
    if (rc == 0)
        rc = abi_decode(out, f->outputs, ret.data, ret.len, e);
    buf_free(&cd);
    buf_free(&ret);
    return rc;
}

/* The contract's clock: the latest block's timestamp (not this machine's time, which a
 * node's clock may differ from, and a devnet's may have been moved). */
static int chain_now(desk *d, uint64_t *out, err *e)
{
    rpc_block head;
    bool have = false;
    if (rpc_eth_get_block(d->rpc, 0, "latest", &head, &have, e) < 0)
        return err_prefix(e, "reading the chain's time");
    if (!have)
        return err_set(e, ERR_RPC, "the node has no latest block");
    *out = head.timestamp;
    return 0;
}

static abi_value *one_addr(const addr *a)
{
    abi_value *t = abi_value_new(ABI_TUPLE);
    err e;
    if (t && abi_value_push(t, abi_value_new_address(a), &e) < 0)
        abi_value_free(&t);
    return t;
}

static int read_escrow(desk *d, const addr *escrow, onchain *x, err *e)
{
    char s[ADDR_STR_MAX];
    addr_to_checksum(s, escrow);
    if (!d->n_factories)
        return err_set(e, ERR_NOT_FOUND, "chain %s has no factory configured", d->chain.name);
    abi_value *v = NULL;
    unsigned version = 0;
    /* isEscrow(address) has the same selector in both factory versions. */
    for (size_t i = 0; i < d->n_factories && !version; i++) {
        if (view(d, d->factory_abi, &d->factories[i], "isEscrow", one_addr(escrow), &v, e) < 0)
            return err_prefix(e, "asking the factory about %s", s);
        if (v->n_items == 1 && !u256_is_zero(&v->items[0]->num))
            version = d->factory_versions[i];
        abi_value_free(&v);
    }
    if (!version)
        return err_set(e, ERR_NOT_FOUND, "%s is not an escrow of the desk's factories on %s", s,
                       d->chain.name);
    memset(x, 0, sizeof *x);
    x->version = version;
    x->abi = version == 2 ? d->escrow2_abi : d->escrow_abi;
    if (view(d, x->abi, escrow, "summary", NULL, &v, e) < 0)
        return err_prefix(e, "reading escrow %s", s);
    if (v->n_items != (version == 2 ? 11u : 9u)) {
        abi_value_free(&v);
        return err_set(e, ERR_INVALID, "escrow %s answered summary() oddly", s);
    }
    uint64_t t = 0;
    x->state = u256_to_u64(&v->items[0]->num, &t) && t < 6 ? (unsigned)t : 0;
    x->payer = v->items[1]->address;
    x->payee = v->items[2]->address;
    x->token = v->items[3]->address;
    x->amount = v->items[4]->num;
    x->arbiter = v->items[5]->address;
    if (!u256_to_u64(&v->items[6]->num, &x->deadline))
        x->deadline = UINT64_MAX;
    x->threshold = u256_to_u64(&v->items[7]->num, &t) ? (unsigned)t : 0;
    x->approvals = u256_to_u64(&v->items[8]->num, &t) ? (unsigned)t : 0;
    if (version == 2) {
        if (!u256_to_u64(&v->items[9]->num, &x->dispute_window))
            x->dispute_window = UINT64_MAX;
        memcpy(x->terms_hash, v->items[10]->word, 32);
    }
    abi_value_free(&v);
    return 0;
}

/* The USD price of an asset from its configured price feed (`fusion asset add-feed`),
 * read live (latestRoundData); left unknown when there is no feed, the answer is not
 * positive or outside the risk service's plausible range (risk_price_ok), or it is older
 * than the feed's max age (else a day). */
static void usd_price(desk *d, desk_asset *a)
{
    store_feed *fs = NULL;
    size_t n = 0;
    err e;
    if (store_feed_list(d->db, d->chain.chain_id, &fs, &n, &e) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(fs[i].asset, a->symbol) != 0)
            continue;
        /* A MockPriceFeed's price is believed on a devnet only. */
        if (!risk_chain_is_devnet(d->chain.chain_id)) {
            buf code;
            buf_init(&code);
            bool mock = true;
            if (rpc_eth_get_code(d->rpc, &fs[i].address, NULL, &code, &e) < 0 ||
                risk_code_is_mock_feed(code.data, code.len, &mock, &e) < 0 || mock) {
                LOG_W("desk", "%s: the %s feed is a MockPriceFeed (or cannot be checked) on a "
                              "chain that is not a devnet: its price is not used",
                      d->chain.name, fs[i].asset);
                buf_free(&code);
                break;
            }
            buf_free(&code);
        }
        abi_value *v = NULL;
        if (view(d, d->feed_abi, &fs[i].address, "latestRoundData", NULL, &v, &e) < 0)
            break;
        uint64_t updated = 0, now = (uint64_t)time(NULL);
        int64_t max_age = fs[i].max_age > 0 ? fs[i].max_age : DESK_PRICE_MAX_AGE;
        bool ok = v->n_items == 5;
        u256 p = ok ? v->items[1]->num : u256_from_u64(0);
        ok = ok && !abi_value_is_negative(v->items[1]) && !u256_is_zero(&p) &&
             u256_to_u64(&v->items[3]->num, &updated) && updated + (uint64_t)max_age >= now;
        abi_value_free(&v);
        bool out_of_range;
        if (ok && risk_feed_usd_e8(&p, fs[i].decimals, &a->usd_price_e8, &out_of_range))
            a->has_usd = true;
        break;
    }
    free(fs);
}

/* The asset of a token address: configured tokens, the native coin, else asked from the
 * token contract itself (decimals(), symbol()). */
static int asset_of_addr(desk *d, const addr *token, desk_asset *a, err *e)
{
    memset(a, 0, sizeof *a);
    a->token = *token;
    if (addr_is_zero(token)) {
        snprintf(a->symbol, sizeof a->symbol, "%s", d->chain.native_symbol);
        a->decimals = d->chain.native_decimals;
        return 0;
    }
    store_token *ts = NULL;
    size_t n = 0;
    if (store_token_list(d->db, d->chain.chain_id, &ts, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (addr_equal(&ts[i].address, token)) {
            snprintf(a->symbol, sizeof a->symbol, "%s", ts[i].symbol);
            a->decimals = ts[i].decimals;
            free(ts);
            return 0;
        }
    free(ts);
    abi_value *v = NULL;
    char s[ADDR_STR_MAX];
    addr_to_checksum(s, token);
    uint64_t dec = 0;
    if (view(d, d->token_abi, token, "decimals", NULL, &v, e) < 0)
        return err_prefix(e, "token %s: not an ERC20 the desk can read", s);
    bool ok = v->n_items == 1 && u256_to_u64(&v->items[0]->num, &dec) && dec <= 77;
    abi_value_free(&v);
    if (!ok)
        return err_set(e, ERR_INVALID, "token %s reports impossible decimals", s);
    a->decimals = (unsigned)dec;
    err ignore;
    if (view(d, d->token_abi, token, "symbol", NULL, &v, &ignore) == 0 && v->n_items == 1 &&
        v->items[0]->data.len > 0 && v->items[0]->data.len < sizeof a->symbol) {
        memcpy(a->symbol, v->items[0]->data.data, v->items[0]->data.len);
        a->symbol[v->items[0]->data.len] = '\0';
        for (char *p = a->symbol; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                *p = '?';
    } else {
        snprintf(a->symbol, sizeof a->symbol, "%.10s...", s);
    }
    abi_value_free(&v);
    return 0;
}

/* --token: a configured symbol, the native symbol, or an address. */
static int asset_of_arg(desk *d, const char *tok, desk_asset *a, err *e)
{
    if (strncmp(tok, "0x", 2) == 0 || strncmp(tok, "0X", 2) == 0) {
        addr t;
        if (addr_parse(&t, tok, e) < 0)
            return err_prefix(e, "--token");
        return asset_of_addr(d, &t, a, e);
    }
    if (strcasecmp(tok, d->chain.native_symbol) == 0) {
        addr zero;
        memset(&zero, 0, sizeof zero);
        return asset_of_addr(d, &zero, a, e);
    }
    store_token *ts = NULL;
    size_t n = 0;
    if (store_token_list(d->db, d->chain.chain_id, &ts, &n, e) < 0)
        return -1;
    int rc = err_set(e, ERR_NOT_FOUND,
                     "no token \"%s\" on %s: give its address, a configured "
                     "symbol or %s",
                     tok, d->chain.name, d->chain.native_symbol);
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(ts[i].symbol, tok) == 0) {
            memset(a, 0, sizeof *a);
            snprintf(a->symbol, sizeof a->symbol, "%s", ts[i].symbol);
            a->token = ts[i].address;
            a->decimals = ts[i].decimals;
            rc = 0;
            err_clear(e);
        }
    free(ts);
    return rc;
}

static int token_u256(desk *d, const addr *token, const char *fn, abi_value *args, u256 *out,
                      err *e)
{
    abi_value *v = NULL;
    if (view(d, d->token_abi, token, fn, args, &v, e) < 0)
        return -1;
    int rc = v->n_items == 1 ? 0 : err_set(e, ERR_INVALID, "token answered %s oddly", fn);
    if (rc == 0)
        *out = v->items[0]->num;
    abi_value_free(&v);
    return rc;
}

static bool is_operator_addr(const addr *a, const store_operator *ops, size_t n, unsigned role)
{
    for (size_t i = 0; i < n; i++) {
        unsigned r = 0;
        err ignore;
        if (addr_equal(&ops[i].address, a) && desk_roles_parse(&r, ops[i].roles, &ignore) == 0 &&
            (r & role))
            return true;
    }
    return false;
}

/* Default arbiter: the first configured compliance operator independent of both parties and
 * of the approvers (the judge is not one of the checkers). */
static int default_arbiter(desk *d, const addr *payee, const addr *approvers, unsigned n_approvers,
                           addr *out, err *e)
{
    store_operator *ops = NULL;
    size_t n = 0;
    if (store_operator_list(d->db, &ops, &n, e) < 0)
        return -1;
    int rc = err_set(e, ERR_USAGE,
                     "no arbiter: pass --arbiter ADDR, or add an operator with "
                     "the compliance role whose key is neither the payer, the payee nor an "
                     "approver");
    for (size_t i = 0; i < n && rc < 0; i++) {
        bool checker = false;
        for (unsigned k = 0; k < n_approvers; k++)
            checker = checker || addr_equal(&ops[i].address, &approvers[k]);
        if (checker || addr_equal(&ops[i].address, &d->op.address) ||
            addr_equal(&ops[i].address, payee) ||
            !is_operator_addr(&ops[i].address, &ops[i], 1, DESK_ROLE_compliance))
            continue;
        *out = ops[i].address;
        rc = 0;
        err_clear(e);
    }
    free(ops);
    return rc;
}

/* Independent checkers: every approver is a desk operator holding the approver role now,
 * and none is a party (payee, arbiter). A second key of a party is not recognisable on
 * chain, so the desk only accepts approvers it knows. (The payer is refused by the
 * maker-checker check.) */
static int check_approvers(desk *d, const addr *approvers, unsigned n, const addr *payee,
                           const addr *arbiter, err *e)
{
    store_operator *ops = NULL;
    size_t n_ops = 0;
    if (store_operator_list(d->db, &ops, &n_ops, e) < 0)
        return -1;
    int rc = 0;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        char s_ap[ADDR_STR_MAX];
        addr_to_checksum(s_ap, &approvers[i]);
        const char *party = addr_equal(&approvers[i], payee)     ? "the payee"
                            : addr_equal(&approvers[i], arbiter) ? "the arbiter"
                                                                 : NULL;
        if (party)
            rc = err_set(e, ERR_DENIED,
                         "maker-checker: approver %s is %s of this escrow; approvers must be "
                         "independent of payer, payee and arbiter",
                         s_ap, party);
        else if (!is_operator_addr(&approvers[i], ops, n_ops, DESK_ROLE_approver))
            rc = err_set(e, ERR_DENIED,
                         "approver %s is not a desk operator with the approver role: add it "
                         "with `fusion operator add NAME --key %s --role approver`",
                         s_ap, s_ap);
    }
    free(ops);
    return rc;
}

int desk_escrow_create(desk *d, const desk_create_req *r, desk_result *res, err *e)
{
    memset(res, 0, sizeof *res);
    d->risk_note[0] = '\0'; /* an earlier action's override is not this one's */
    if (!d->has_factory)
        return err_set(e, ERR_NOT_FOUND,
                       "chain %s has no factory: add it with `fusion chain "
                       "add ... --factory ADDR`",
                       d->chain.name);
    desk_call c;
    memset(&c, 0, sizeof c);
    c.action = "create";
    c.has_parties = true;
    c.payer = d->op.address;
    c.payee = r->payee;
    if (asset_of_arg(d, r->token, &c.asset, e) < 0)
        return -1;
    usd_price(d, &c.asset);
    u256 amount;
    if (amount_parse(&amount, r->amount, c.asset.decimals, e) < 0)
        return err_prefix(e, "--amount %s for %s (%u decimals)", r->amount, c.asset.symbol,
                          c.asset.decimals);
    if (u256_is_zero(&amount))
        return err_set(e, ERR_INVALID, "--amount must be above zero");
    /* Terms the contract would refuse, said before anything is built. */
    if (addr_equal(&r->payee, &d->op.address))
        return err_set(e, ERR_INVALID, "the payee is the payer (%s's own key)", d->op.name);
    if (r->n_approvers == 0 || r->threshold == 0 || r->threshold > r->n_approvers)
        return err_set(e, ERR_INVALID, "--threshold %u must be between 1 and the %u approvers",
                       r->threshold, r->n_approvers);
    for (unsigned i = 0; i < r->n_approvers; i++) {
        if (addr_equal(&r->approvers[i], &d->op.address))
            return err_set(e, ERR_DENIED,
                           "maker-checker: %s creates (pays) this escrow and "
                           "cannot be one of its approvers",
                           d->op.name);
        for (unsigned k = 0; k < i; k++)
            if (addr_equal(&r->approvers[i], &r->approvers[k]))
                return err_set(e, ERR_INVALID, "approver %u is listed twice", i + 1);
    }
    addr arbiter;
    if (r->has_arbiter)
        arbiter = r->arbiter;
    else if (default_arbiter(d, &r->payee, r->approvers, r->n_approvers, &arbiter, e) < 0)
        return -1;
    if (addr_is_zero(&arbiter) || addr_equal(&arbiter, &d->op.address) ||
        addr_equal(&arbiter, &r->payee))
        return err_set(e, ERR_INVALID,
                       "the arbiter must be set and be neither the payer nor "
                       "the payee");
    if (check_approvers(d, r->approvers, r->n_approvers, &r->payee, &arbiter, e) < 0)
        return err_prefix(e, "refused before signing");
    if (r->dispute_window && d->factory_version != 2)
        return err_set(e, ERR_INVALID,
                       "--dispute-window needs a version-2 factory, and chain %s has only "
                       "version 1: add one with `fusion chain add-factory`",
                       d->chain.name);
    uint64_t window = r->dispute_window ? r->dispute_window : DISPUTE_WINDOW_DEFAULT_S;
    if (window < DISPUTE_WINDOW_MIN_S || window > DISPUTE_WINDOW_MAX_S)
        return err_set(e, ERR_INVALID,
                       "--dispute-window must be between 1 and 90 days (%llu seconds given)",
                       (unsigned long long)window);
    uint64_t now = (uint64_t)time(NULL);
    if (r->deadline < now + DEADLINE_MIN_S)
        return err_set(e, ERR_INVALID, "the deadline is in the past or less than a minute away");
    if (r->deadline > now + DEADLINE_MAX_S)
        return err_set(e, ERR_INVALID,
                       "the deadline is more than 366 days away: refused as "
                       "implausible");
    bool cancun = false;
    if (rpc_probe_cancun(d->rpc, &cancun, e) < 0)
        return err_prefix(e, "asking chain %s for EIP-1153", d->chain.name);
    if (!cancun)
        return err_set(e, ERR_DENIED,
                       "chain %s does not execute transient storage (EIP-1153, Cancun): the "
                       "escrow's guarded functions would revert there and its funds could not "
                       "be moved; refused before signing",
                       d->chain.name);
    if (desk_policy_check(d, "create", NULL, NULL, &c.asset, &amount, &r->payee, r->threshold, e) < 0)
        return -1;
    if (desk_pretrade_check(d, "escrow create", &c.asset, &amount, &r->payee, NULL, e) < 0)
        return -1;
    abi_value *args = abi_value_new(ABI_TUPLE), *list = abi_value_new(ABI_DYN_ARRAY);
    int rc = args && list ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    for (unsigned i = 0; rc == 0 && i < r->n_approvers; i++)
        rc = abi_value_push(list, abi_value_new_address(&r->approvers[i]), e);
    if (rc == 0)
        rc = abi_value_push(args, abi_value_new_address(&r->payee), e);
    if (rc == 0)
        rc = abi_value_push(args, abi_value_new_address(&c.asset.token), e);
    if (rc == 0)
        rc = abi_value_push(args, abi_value_new_uint(256, &amount), e);
    if (rc == 0) {
        rc = abi_value_push(args, list, e);
        list = NULL;
    }
    if (rc == 0)
        rc = abi_value_push(args, abi_value_new_uint64(256, r->threshold), e);
    if (rc == 0)
        rc = abi_value_push(args, abi_value_new_address(&arbiter), e);
    if (rc == 0)
        rc = abi_value_push(args, abi_value_new_uint64(64, r->deadline), e);
    if (rc == 0 && d->factory_version == 2)
        rc = abi_value_push(args, abi_value_new_uint64(64, window), e);
    abi_value_free(&list);
    if (rc < 0) {
        abi_value_free(&args);
        return -1;
    }
    if (desk_calldata(&c.calldata, d->factory_version == 2 ? d->factory2_abi : d->factory_abi,
                      "createEscrow", args, e) < 0)
        return -1;
    c.to = d->factory;
    c.value = u256_from_u64(0);
    c.amount = amount;
    c.hold = r->hold;
    c.hold_ctx = r->hold_ctx;
    rc = desk_send_call(d, &c, res, e);
    buf_free(&c.calldata);
    if (rc == 0)
        rc = desk_created_escrow(d, res, e);
    if (rc == 0 && res->has_escrow) {
        char s[ADDR_STR_MAX];
        addr_to_checksum(s, &res->escrow);
        desk_say(d, "escrow %s created", s);
    }
    return rc;
}

/* approve(escrow, amount) on the token unless the allowance is already exactly amount. */
static int exact_allowance(desk *d, const onchain *x, const addr *escrow, const desk_asset *a,
                           desk_result *res, err *e)
{
    abi_value *args = abi_value_new(ABI_TUPLE);
    if (!args || abi_value_push(args, abi_value_new_address(&d->op.address), e) < 0 ||
        abi_value_push(args, abi_value_new_address(escrow), e) < 0) {
        abi_value_free(&args);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    u256 allowance;
    if (token_u256(d, &x->token, "allowance", args, &allowance, e) < 0)
        return err_prefix(e, "reading the allowance");
    if (u256_cmp(&allowance, &x->amount) == 0)
        return 0;
    desk_call c;
    memset(&c, 0, sizeof c);
    c.action = "allowance";
    c.to = x->token;
    c.asset = *a;
    c.has_escrow = true;
    c.escrow = *escrow;
    c.note = "sets the escrow's allowance to exactly the escrow amount (never unlimited)";
    args = abi_value_new(ABI_TUPLE);
    if (!args || abi_value_push(args, abi_value_new_address(escrow), e) < 0 ||
        abi_value_push(args, abi_value_new_uint(256, &x->amount), e) < 0) {
        abi_value_free(&args);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    if (desk_calldata(&c.calldata, d->token_abi, "approve", args, e) < 0)
        return -1;
    int rc = desk_send_call(d, &c, res, e);
    buf_free(&c.calldata);
    if (rc == 0 && res->state != OUTBOUND_MINED && res->state != OUTBOUND_CONFIRMED)
        rc = err_set(e, ERR_STATE,
                     "the allowance transaction is not mined yet: run the fund "
                     "again once `fusion tx check` shows it mined");
    return rc;
}

int desk_escrow_act(desk *d, const char *action, const addr *escrow, const char *arg,
                    desk_result *res, err *e)
{
    memset(res, 0, sizeof *res);
    d->risk_note[0] = '\0'; /* an earlier action's override is not this one's */
    const desk_action_info *act = desk_action_get(desk_action_find(action));
    if (!act || act->target != DESK_ON_ESCROW)
        return err_set(e, ERR_USAGE, "unknown escrow action \"%.40s\"", action);
    onchain x;
    if (read_escrow(d, escrow, &x, e) < 0)
        return -1;
    if ((act->checks & DESK_CHECK_V2) && x.version != 2)
        return err_set(e, ERR_STATE, "%s needs a version-2 escrow; this one is version 1",
                       action);
    desk_call c;
    memset(&c, 0, sizeof c);
    c.action = action;
    c.to = *escrow;
    c.has_escrow = true;
    c.escrow = *escrow;
    c.has_context_amount = true;
    c.context_amount = x.amount;
    c.value = u256_from_u64(0);
    c.has_parties = true; /* every action on an escrow names whose money goes to whom */
    c.payer = x.payer;
    c.payee = x.payee;
    if (asset_of_addr(d, &x.token, &c.asset, e) < 0)
        return -1;
    usd_price(d, &c.asset);
    char s_esc[ADDR_STR_MAX];
    addr_to_checksum(s_esc, escrow);
    /* Built-in checks, before any policy or signature. */
    if (act->checks & DESK_CHECK_MAKER_CHECKER) {
        char creator[STORE_NAME_MAX];
        bool by_desk = false;
        if (store_desk_actor(d->db, d->chain.chain_id, escrow, "create", creator, sizeof creator,
                             &by_desk, e) < 0)
            return -1;
        if (addr_equal(&x.payer, &d->op.address) || (by_desk && strcmp(creator, d->op.name) == 0)) {
            json_t *det = json_pack("{s:s, s:s, s:s}", "action", action, "escrow", s_esc, "refused",
                                    "maker-checker");
            desk_audit(d, "refused", det);
            json_decref(det);
            return err_set(e, ERR_DENIED,
                           "maker-checker: %s created escrow %s and may not "
                           "approve it; refused before signing",
                           d->op.name, s_esc);
        }
        /* A party never checks its own escrow: version 1 lets the payee or the arbiter be
         * an approver (the payee would release to itself); the desk does not sign that. */
        const char *party = addr_equal(&x.payee, &d->op.address)     ? "payee"
                            : addr_equal(&x.arbiter, &d->op.address) ? "arbiter"
                                                                     : NULL;
        if (party) {
            json_t *det = json_pack("{s:s, s:s, s:s}", "action", action, "escrow", s_esc, "refused",
                                    "maker-checker");
            desk_audit(d, "refused", det);
            json_decref(det);
            return err_set(e, ERR_DENIED,
                           "maker-checker: %s's key is the %s of escrow %s, which it may not "
                           "approve; refused before signing",
                           d->op.name, party, s_esc);
        }
    }
    if (act->checks & DESK_CHECK_PAYER) {
        if (!addr_equal(&x.payer, &d->op.address))
            return err_set(e, ERR_DENIED,
                           "only the payer funds an escrow, and %s's key is not "
                           "the payer of %s",
                           d->op.name, s_esc);
        if (x.state != 0)
            return err_set(e, ERR_STATE, "escrow %s is %s, not created: nothing to fund", s_esc,
                           state_names[x.state]);
        uint64_t now = 0;
        if (chain_now(d, &now, e) < 0)
            return -1;
        if (now > x.deadline)
            return err_set(e, ERR_STATE,
                           "escrow %s is past its deadline: it can no longer be "
                           "funded",
                           s_esc);
        if (!addr_is_zero(&x.token)) {
            abi_value *args = abi_value_new(ABI_TUPLE);
            u256 bal;
            if (!args || abi_value_push(args, abi_value_new_address(&d->op.address), e) < 0 ||
                token_u256(d, &x.token, "balanceOf", args, &bal, e) < 0)
                return err_prefix(e, "reading the token balance");
            if (u256_cmp(&bal, &x.amount) < 0) {
                char have[AMOUNT_STR_MAX], need[AMOUNT_STR_MAX];
                amount_format(have, &bal, c.asset.decimals);
                amount_format(need, &x.amount, c.asset.decimals);
                return err_set(e, ERR_STATE,
                               "insufficient balance: %s has %s %s, the escrow "
                               "needs %s %s; nothing was signed",
                               d->op.name, have, c.asset.symbol, need, c.asset.symbol);
            }
        } else {
            u256 bal;
            if (rpc_eth_get_balance(d->rpc, &d->op.address, "pending", &bal, e) < 0)
                return err_prefix(e, "reading the balance");
            if (u256_cmp(&bal, &x.amount) < 0) {
                char have[AMOUNT_STR_MAX], need[AMOUNT_STR_MAX];
                amount_format(have, &bal, c.asset.decimals);
                amount_format(need, &x.amount, c.asset.decimals);
                return err_set(e, ERR_STATE,
                               "insufficient balance: %s has %s %s, the escrow needs %s %s "
                               "plus fees; nothing was signed",
                               d->op.name, have, c.asset.symbol, need, c.asset.symbol);
            }
            c.value = x.amount;
        }
    }
    bool toward_payee = false;
    if (strcmp(action, "resolve") == 0) {
        if (!arg || (strcmp(arg, "payee") != 0 && strcmp(arg, "payer") != 0))
            return err_set(e, ERR_USAGE, "resolve needs --to payee or --to payer");
        toward_payee = strcmp(arg, "payee") == 0;
    }
    /* Version 2: the approver approves the terms hash the desk computed from the terms it
     * shows, after checking it against the contract and the synced EscrowCreated. */
    uint8_t terms[32];
    char note[900];
    if (strcmp(action, "approve") == 0 && x.version == 2) {
        store_escrow sx;
        bool found = false;
        if (store_escrow_get(d->db, d->chain.chain_id, escrow, &sx, &found, e) < 0)
            return -1;
        if (!found || sx.version != 2)
            return err_set(e, ERR_STATE,
                           "escrow %s is not synced yet: run `fusion sync` so the desk holds its "
                           "EscrowCreated before approving; nothing was signed",
                           s_esc);
        desk_terms t;
        memset(&t, 0, sizeof t);
        t.chain_id = d->chain.chain_id;
        t.escrow = *escrow;
        t.payer = x.payer;
        t.payee = x.payee;
        t.token = x.token;
        t.amount = x.amount;
        t.n_approvers = sx.n_approvers;
        memcpy(t.approvers, sx.approvers, sizeof t.approvers);
        t.threshold = x.threshold;
        t.deadline = x.deadline;
        t.arbiter = sx.created_arbiter;
        t.dispute_window = x.dispute_window;
        if (desk_terms_hash(terms, &t, e) < 0)
            return -1;
        char h_mine[67], h_chain[67], h_log[67];
        hex_encode(h_mine, sizeof h_mine, terms, 32, true);
        hex_encode(h_chain, sizeof h_chain, x.terms_hash, 32, true);
        hex_encode(h_log, sizeof h_log, sx.terms_hash, 32, true);
        if (memcmp(terms, x.terms_hash, 32) != 0 || memcmp(terms, sx.terms_hash, 32) != 0 ||
            !addr_equal(&sx.payer, &x.payer) || !addr_equal(&sx.payee, &x.payee) ||
            u256_cmp(&sx.amount, &x.amount) != 0) {
            json_t *det = json_pack("{s:s, s:s, s:s, s:s, s:s}", "action", action, "escrow", s_esc,
                                    "desk", h_mine, "contract", h_chain, "event", h_log);
            desk_audit(d, "refused", det);
            json_decref(det);
            return err_set(e, ERR_DENIED,
                           "refused: the terms hash of escrow %s does not match (desk %s, "
                           "contract %s, EscrowCreated %s): run `fusion sync` and look at the "
                           "escrow; nothing was signed",
                           s_esc, h_mine, h_chain, h_log);
        }
        char pa[ADDR_STR_MAX], pe[ADDR_STR_MAX], ar[ADDR_STR_MAX], amt[AMOUNT_STR_MAX];
        addr_to_checksum(pa, &x.payer);
        addr_to_checksum(pe, &x.payee);
        addr_to_checksum(ar, &t.arbiter);
        amount_format(amt, &x.amount, c.asset.decimals);
        snprintf(note, sizeof note,
                 "approves the terms hash %s (computed by the desk; the contract and "
                 "EscrowCreated agree) of: payer %s, payee %s, %s %s, %u of %u approvers, "
                 "deadline %llu, arbiter %s, dispute window %llu s, chain %llu",
                 h_mine, pa, pe, amt, c.asset.symbol, x.threshold, t.n_approvers,
                 (unsigned long long)x.deadline, ar, (unsigned long long)x.dispute_window,
                 (unsigned long long)t.chain_id);
        c.note = note;
    }
    addr arg_addr;
    memset(&arg_addr, 0, sizeof arg_addr);
    if (strcmp(action, "transferArbiter") == 0) {
        if (!arg || addr_parse(&arg_addr, arg, e) < 0)
            return err_set(e, ERR_USAGE, "transfer-arbiter needs --to ADDRESS");
        if (!addr_equal(&x.arbiter, &d->op.address))
            return err_set(e, ERR_DENIED,
                           "only the arbiter hands its role over, and %s's key is not the "
                           "arbiter of %s; nothing was signed",
                           d->op.name, s_esc);
        if (x.state != 0 && x.state != 1 && x.state != 4)
            return err_set(e, ERR_STATE, "escrow %s is %s: its arbiter no longer matters",
                           s_esc, state_names[x.state]);
    }
    if (strcmp(action, "sweep") == 0) {
        if (arg && addr_parse(&arg_addr, arg, e) < 0)
            return err_prefix(e, "--token");
        if (!addr_equal(&x.payer, &d->op.address))
            return err_set(e, ERR_DENIED,
                           "only the payer sweeps an escrow, and %s's key is not the payer of "
                           "%s; nothing was signed",
                           d->op.name, s_esc);
        if (x.state == 1 || x.state == 4)
            return err_set(e, ERR_STATE,
                           "escrow %s is %s: nothing can be swept while the deposit is "
                           "committed",
                           s_esc, state_names[x.state]);
        c.note = "sends the escrow's whole balance of that asset (stray funds) to the payer";
    }
    if (strcmp(action, "refund") == 0 && x.version == 2 && x.state == 4) {
        uint64_t closes = x.deadline + x.dispute_window, now = 0;
        if (chain_now(d, &now, e) < 0)
            return -1;
        if (closes < x.deadline || now <= closes)
            return err_set(e, ERR_STATE,
                           "escrow %s is disputed: the payer's refund is possible only after "
                           "its dispute window closes (unix time %llu); nothing was signed",
                           s_esc, (unsigned long long)closes);
        c.note = "refunds a dispute that outlived its window to the payer";
    }
    bool commits = strcmp(action, "fund") == 0;
    if (desk_policy_check(d, action, escrow, &x.payer, &c.asset, &x.amount, &x.payee, x.threshold,
                          e) < 0)
        return -1;
    if (commits)
        c.amount = x.amount;
    if ((commits || (strcmp(action, "release") == 0 && addr_equal(&x.payer, &d->op.address))) &&
        desk_pretrade_check(d, commits ? "escrow fund" : "escrow release", &c.asset, &x.amount,
                            commits ? &x.payee : NULL, commits ? NULL : &x.payee, e) < 0)
        return -1;
    /* ERC20 funding: the allowance first, exactly the amount. */
    if (strcmp(action, "fund") == 0 && !addr_is_zero(&x.token)) {
        desk_result ar;
        memset(&ar, 0, sizeof ar);
        int r2 = exact_allowance(d, &x, escrow, &c.asset, &ar, e);
        res->n_txs += ar.n_txs;
        if (r2 < 0)
            return -1;
    }
    abi_value *args = abi_value_new(ABI_TUPLE);
    int rc = args ? 0 : err_set(e, ERR_NOMEM, "out of memory");
    if (rc == 0 && strcmp(action, "dispute") == 0)
        rc = abi_value_push(args, abi_value_new_string(arg ? arg : ""), e);
    if (rc == 0 && strcmp(action, "resolve") == 0)
        rc = abi_value_push(args, abi_value_new_bool(toward_payee), e);
    if (rc == 0 && strcmp(action, "approve") == 0 && x.version == 2)
        rc = abi_value_push(args, abi_value_new_fixed_bytes(terms, 32), e);
    if (rc == 0 && (act->checks & DESK_CHECK_V2))
        rc = abi_value_push(args, abi_value_new_address(&arg_addr), e);
    if (rc < 0) {
        abi_value_free(&args);
        return -1;
    }
    if (desk_calldata(&c.calldata, x.abi, action, args, e) < 0)
        return -1;
    rc = desk_send_call(d, &c, res, e);
    buf_free(&c.calldata);
    return rc;
}

/* ---- before a stored transaction goes to the node again ---- */

/* The operator who signed stored transaction o, with the roles they hold now. */
static int signer_of(desk *d, const store_outbound *o, store_operator *op, desk_signer *sg,
                     err *e)
{
    store_desk_tx dt;
    bool found = false;
    if (store_desk_tx_get(d->db, o->id, &dt, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_DENIED, "refused: the desk has no record of who signed tx %lld",
                       (long long)o->id);
    free(dt.summary);
    if (store_operator_get(d->db, dt.operator_name, op, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_DENIED,
                       "refused: operator \"%s\", who signed tx %lld, is no longer configured",
                       dt.operator_name, (long long)o->id);
    if (!addr_equal(&op->address, &o->from))
        return err_set(e, ERR_DENIED,
                       "refused: tx %lld was signed by another key than operator %s's current one",
                       (long long)o->id, op->name);
    unsigned roles = 0;
    if (desk_roles_parse(&roles, op->roles, e) < 0)
        return -1;
    *sg = (desk_signer){op->name, roles, op->address, o->id};
    return 0;
}

/* The call's arguments when tx calls fn of abi on `to`; NULL with e set otherwise. */
static abi_value *call_args(const eth_tx *tx, const addr *to, const abi_json *abi, const char *fn,
                            long long id, err *e)
{
    const abi_fn *f = abi_json_function(abi, fn);
    abi_value *args = NULL;
    err ignore;
    if (!f || !tx->has_to || !addr_equal(&tx->to, to) ||
        abi_calldata_decode(&args, f, tx->data.data, tx->data.len, &ignore) < 0) {
        err_set(e, ERR_DENIED, "refused: the signed bytes of tx %lld are not the %s call they "
                               "are recorded as", id, fn);
        return NULL;
    }
    return args;
}

int desk_asset_of(desk *d, const addr *token, desk_asset *a, err *e)
{
    return asset_of_addr(d, token, a, e);
}

/* Is a an HTLC contract configured for the selected chain? */
static int is_htlc(desk *d, const addr *a, bool *yes, err *e)
{
    store_contract *cs = NULL;
    size_t n = 0;
    *yes = false;
    if (store_contract_list(d->db, d->chain.chain_id, &cs, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        *yes = *yes || (cs[i].kind == STORE_CONTRACT_HTLC && addr_equal(&cs[i].address, a));
    free(cs);
    return 0;
}

/* A swap step (src/xswap) decided again from its signed bytes: an allowance as what it
 * lets the HTLC take, a lock by its own terms, a claim or a refund by the lock as the chain
 * holds it now (a claim pays the lock's receiver, a refund returns it to its sender). */
static int swap_recheck(desk *d, const store_outbound *o, const eth_tx *tx,
                        const desk_signer *sg, desk_asset *asset, err *e)
{
    long long id = (long long)o->id;
    abi_value *args = NULL, *v = NULL;
    bool htlc = false;
    int rc = -1;
    const char *action = o->action;
    if (strcmp(action, "swap_allowance") == 0) {
        args = call_args(tx, &tx->to, d->token_abi, "approve", id, e);
        if (!args)
            goto out;
        if (args->n_items != 2 || is_htlc(d, &args->items[0]->address, &htlc, e) < 0)
            goto out;
        if (!htlc) {
            err_set(e, ERR_DENIED, "refused: tx %lld lets another contract than the chain's HTLC "
                                   "take the token", id);
            goto out;
        }
        if (asset_of_addr(d, &tx->to, asset, e) < 0)
            goto out;
        rc = desk_policy_check_as(d, sg, action, NULL, &sg->address, asset, &args->items[1]->num,
                                  NULL, 0, e);
        goto out;
    }
    if (!tx->has_to || is_htlc(d, &tx->to, &htlc, e) < 0)
        goto out;
    if (!htlc) {
        err_set(e, ERR_DENIED, "refused: tx %lld is not a call to the chain's HTLC contract", id);
        goto out;
    }
    if (strcmp(action, "swap_lock") == 0) {
        args = call_args(tx, &tx->to, d->htlc_abi, "lock", id, e);
        if (!args)
            goto out;
        if (args->n_items != 5) {
            err_set(e, ERR_DENIED, "refused: tx %lld carries impossible lock terms", id);
            goto out;
        }
        if (asset_of_addr(d, &args->items[1]->address, asset, e) < 0)
            goto out;
        rc = desk_policy_check_as(d, sg, action, NULL, &sg->address, asset, &args->items[2]->num,
                                  &args->items[0]->address, 0, e);
        goto out;
    }
    bool claim = strcmp(action, "swap_claim") == 0;
    if (!claim && strcmp(action, "swap_refund") != 0) {
        err_set(e, ERR_DENIED, "refused: tx %lld is a \"%.31s\" the desk cannot check again", id,
                action);
        goto out;
    }
    args = call_args(tx, &tx->to, d->htlc_abi, claim ? "claim" : "refund", id, e);
    if (!args)
        goto out;
    abi_value *t = abi_value_new(ABI_TUPLE);
    if (!t || abi_value_push(t, abi_value_new_fixed_bytes(args->items[0]->word, 32), e) < 0) {
        abi_value_free(&t);
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (view(d, d->htlc_abi, &tx->to, "getLock", t, &v, e) < 0)
        goto out;
    const abi_value *l = v->n_items == 1 ? v->items[0] : NULL;
    if (!l || l->n_items != 7) {
        err_set(e, ERR_DENIED, "refused: the HTLC answered getLock oddly for tx %lld", id);
        goto out;
    }
    if (asset_of_addr(d, &l->items[2]->address, asset, e) < 0)
        goto out;
    rc = desk_policy_check_as(d, sg, action, NULL, &l->items[0]->address, asset, &l->items[5]->num,
                              claim ? &l->items[1]->address : &l->items[0]->address, 0, e);
out:
    abi_value_free(&v);
    abi_value_free(&args);
    return rc;
}

int desk_resend_check(desk *d, const store_outbound *o, const uint8_t *raw, size_t len,
                      desk_asset *asset_out, err *e)
{
    eth_tx tx;
    tx_init(&tx);
    abi_value *args = NULL;
    desk_asset asset;
    memset(&asset, 0, sizeof asset);
    snprintf(asset.symbol, sizeof asset.symbol, "%s", d->chain.native_symbol);
    asset.decimals = d->chain.native_decimals;
    long long id = (long long)o->id;
    int rc = -1;
    addr from;
    if (tx_decode_raw_for_chain(&tx, raw, len, o->chain_id, e) < 0 ||
        tx_recover_sender(&from, &tx, e) < 0) {
        err_prefix(e, "refused: the stored bytes of tx %lld do not decode", id);
        e->code = ERR_DENIED;
        goto out;
    }
    if (!addr_equal(&from, &o->from)) {
        err_set(e, ERR_DENIED, "refused: the stored bytes of tx %lld are signed by another key",
                id);
        goto out;
    }
    if (strcmp(o->action, "cancel") == 0) {
        /* moves no money: it only takes the nonce */
        if (tx.has_to && addr_equal(&tx.to, &from) && u256_is_zero(&tx.value) && tx.data.len == 0)
            rc = 0;
        else
            err_set(e, ERR_DENIED,
                    "refused: tx %lld is recorded as a cancel but is not a 0 transfer to its "
                    "sender",
                    id);
        goto out;
    }
    store_operator op;
    desk_signer sg;
    if (signer_of(d, o, &op, &sg, e) < 0)
        goto out;
    if (strcmp(o->action, "create") == 0) {
        if (!d->has_factory) {
            err_set(e, ERR_DENIED, "refused: chain %s has no factory to check tx %lld against",
                    d->chain.name, id);
            goto out;
        }
        const abi_json *fabi = d->factory_abi;
        unsigned n_terms = 7;
        for (size_t i = 0; i < d->n_factories; i++)
            if (tx.has_to && addr_equal(&tx.to, &d->factories[i]) && d->factory_versions[i] == 2) {
                fabi = d->factory2_abi;
                n_terms = 8;
            }
        args = call_args(&tx, tx.has_to ? &tx.to : &d->factory, fabi, "createEscrow", id, e);
        uint64_t threshold = 0;
        bool ours = false;
        for (size_t i = 0; i < d->n_factories; i++)
            ours = ours || (tx.has_to && addr_equal(&tx.to, &d->factories[i]));
        if (!args)
            goto out;
        if (!ours) {
            err_set(e, ERR_DENIED, "refused: tx %lld creates an escrow at no configured factory",
                    id);
            goto out;
        }
        if (args->n_items != n_terms || !u256_to_u64(&args->items[4]->num, &threshold) ||
            threshold > UINT32_MAX) {
            err_set(e, ERR_DENIED, "refused: tx %lld carries impossible escrow terms", id);
            goto out;
        }
        if (asset_of_addr(d, &args->items[1]->address, &asset, e) < 0)
            goto out;
        /* The approvers as they stand now: an operator who lost the approver role, or a
         * party among them, stops the create from going out again. */
        const abi_value *list = args->items[3];
        addr aps[STORE_MAX_APPROVERS];
        if (list->n_items > STORE_MAX_APPROVERS) {
            err_set(e, ERR_DENIED, "refused: tx %lld carries impossible escrow terms", id);
            goto out;
        }
        for (size_t i = 0; i < list->n_items; i++)
            aps[i] = list->items[i]->address;
        if (check_approvers(d, aps, (unsigned)list->n_items, &args->items[0]->address,
                            &args->items[5]->address, e) < 0) {
            err_prefix(e, "refused");
            goto out;
        }
        rc = desk_policy_check_as(d, &sg, "create", NULL, NULL, &asset, &args->items[2]->num,
                                  &args->items[0]->address, (unsigned)threshold, e);
        goto out;
    }
    if (strncmp(o->action, "swap_", 5) == 0) {
        rc = swap_recheck(d, o, &tx, &sg, &asset, e);
        goto out;
    }
    /* What the desk signs on an escrow (and a token fund's allowance) it can check again. */
    const desk_action_info *act = desk_action_get(desk_action_find(o->action));
    bool known = act && (act->target == DESK_ON_ESCROW || act->id == DESK_ACT_ALLOWANCE);
    if (!known || !o->has_escrow) {
        err_set(e, ERR_DENIED, "refused: tx %lld is a \"%.31s\" the desk cannot check again", id,
                o->action);
        goto out;
    }
    onchain x;
    if (read_escrow(d, &o->escrow, &x, e) < 0)
        goto out;
    const char *action = o->action;
    if (strcmp(action, "allowance") == 0) {
        /* the first step of an ERC20 fund: it lets the escrow pull the amount */
        args = call_args(&tx, &x.token, d->token_abi, "approve", id, e);
        if (!args)
            goto out;
        if (args->n_items != 2 || !addr_equal(&args->items[0]->address, &o->escrow)) {
            err_set(e, ERR_DENIED, "refused: tx %lld approves another spender than its escrow",
                    id);
            goto out;
        }
        action = "fund";
    } else if (!(args = call_args(&tx, &o->escrow, x.abi, action, id, e))) {
        goto out;
    }
    if (act->checks & DESK_CHECK_MAKER_CHECKER) {
        char creator[STORE_NAME_MAX];
        bool by_desk = false;
        if (store_desk_actor(d->db, d->chain.chain_id, &o->escrow, "create", creator,
                             sizeof creator, &by_desk, e) < 0)
            goto out;
        if (addr_equal(&x.payer, &sg.address) || (by_desk && strcmp(creator, sg.name) == 0)) {
            err_set(e, ERR_DENIED, "refused: maker-checker: %s created the escrow and may not "
                                   "approve it",
                    sg.name);
            goto out;
        }
        if (addr_equal(&x.payee, &sg.address) || addr_equal(&x.arbiter, &sg.address)) {
            err_set(e, ERR_DENIED, "refused: maker-checker: %s's key is a party (payee or "
                                   "arbiter) of the escrow and may not approve it",
                    sg.name);
            goto out;
        }
    }
    if (asset_of_addr(d, &x.token, &asset, e) < 0)
        goto out;
    rc = desk_policy_check_as(d, &sg, action, &o->escrow, &x.payer, &asset, &x.amount, &x.payee,
                              x.threshold, e);
out:
    if (rc == 0 && asset_out)
        *asset_out = asset;
    abi_value_free(&args);
    tx_free(&tx);
    return rc;
}

int desk_pay(desk *d, const desk_pay_req *r, desk_result *res, err *e)
{
    memset(res, 0, sizeof *res);
    desk_call c;
    memset(&c, 0, sizeof c);
    c.action = "pay";
    c.has_parties = true;
    c.payer = d->op.address;
    c.payee = r->payee;
    if (asset_of_arg(d, r->token, &c.asset, e) < 0)
        return -1;
    usd_price(d, &c.asset);
    u256 amount;
    if (amount_parse(&amount, r->amount, c.asset.decimals, e) < 0)
        return err_prefix(e, "--amount %s for %s (%u decimals)", r->amount, c.asset.symbol,
                          c.asset.decimals);
    if (u256_is_zero(&amount))
        return err_set(e, ERR_INVALID, "--amount must be above zero");
    if (addr_is_zero(&r->payee))
        return err_set(e, ERR_INVALID, "the payee is the zero address: nobody could spend it");
    if (addr_equal(&r->payee, &d->op.address))
        return err_set(e, ERR_INVALID, "the payee is the payer (%s's own key)", d->op.name);
    /* the policy and the compliance gate (the payee screened), before anything is built */
    if (desk_policy_check(d, "pay", NULL, NULL, &c.asset, &amount, &r->payee, 0, e) < 0)
        return -1;
    c.amount = amount;
    if (addr_is_zero(&c.asset.token)) {
        /* the chain's native coin: a plain value transfer */
        c.to = r->payee;
        c.value = amount;
        c.note = "sends the chain's native coin to the payee";
    } else {
        abi_value *args = abi_value_new(ABI_TUPLE);
        if (!args || abi_value_push(args, abi_value_new_address(&r->payee), e) < 0 ||
            abi_value_push(args, abi_value_new_uint(256, &amount), e) < 0) {
            abi_value_free(&args);
            return err_set(e, ERR_NOMEM, "out of memory");
        }
        if (desk_calldata(&c.calldata, d->token_abi, "transfer", args, e) < 0)
            return -1;
        c.to = c.asset.token;
        c.value = u256_from_u64(0);
        c.note = "transfers the token from the operator's address to the payee";
        c.has_context_amount = true; /* the summary names the token amount */
        c.context_amount = amount;
    }
    c.hold = r->hold;
    c.hold_ctx = r->hold_ctx;
    int rc = desk_send_call(d, &c, res, e);
    buf_free(&c.calldata);
    if (rc == 0) {
        char s[ADDR_STR_MAX], amt[AMOUNT_STR_MAX];
        addr_to_checksum(s, &r->payee);
        amount_format(amt, &amount, c.asset.decimals);
        desk_say(d, "paid %s %s to %s", amt, c.asset.symbol, s);
    }
    return rc;
}
