/* service.c: risk_service_refresh, the live half of the risk engine. One pass: desk accounts
 * -> per chain one JSON-RPC batch (head, native balances, ERC20 balanceOf, feed
 * latestRoundData + decimals) -> oracle rounds stored -> escrow exposure from the sync
 * projection -> per-asset USD values (estimates) -> the pure math over the shipped daily
 * closes -> limit conditions -> alerts synchronised in the store. */
#include "risk/service.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/bytes.h"
#include "base/fsperm.h"
#include "base/log.h"
#include "eth/abi.h"
#include "keystore/keystore.h"
#include "rpc/rpc.h"
#include "rpc/rpc_chain.h"
#include "risk/feeds.h"
#include "risk/rcsv.h"

const char *risk_pos_kind_str(risk_pos_kind k)
{
    switch (k) {
    case RISK_POS_WALLET: return "wallet";
    case RISK_POS_ESCROW_LOCKED: return "escrow_locked";
    case RISK_POS_ESCROW_INCOMING: return "escrow_incoming";
    case RISK_POS_BRIDGE_IN_FLIGHT: return "bridge_in_flight";
    }
    return "?";
}

void risk_service_opts_default(risk_service_opts *o)
{
    memset(o, 0, sizeof *o);
    risk_params_default(&o->params);
}

/* A price the risk math can use (a feed answering 1e-310 would give infinite log returns
 * further on). */
bool risk_price_ok(double px)
{
    return px >= RISK_PRICE_MIN && px <= RISK_PRICE_MAX;
}

bool risk_feed_usd_e8(const u256 *answer, unsigned decimals, u256 *out, bool *out_of_range)
{
    *out_of_range = false;
    u256 p = *answer, q, r, ten = u256_from_u64(10);
    bool ok = true;
    for (unsigned k = decimals; ok && k > 8; k--)
        ok = u256_divmod(&q, &r, &p, &ten) == 0 && ((p = q), true);
    for (unsigned k = decimals; ok && k < 8; k++)
        ok = u256_mul(&p, &p, &ten) == 0;
    if (!ok)
        return false;
    char dec[U256_DEC_MAX];
    u256_to_dec(dec, &p);
    if (!risk_price_ok(strtod(dec, NULL) / 1e8)) {
        *out_of_range = true;
        return false;
    }
    *out = p;
    return true;
}

/* ---- growable arrays ------------------------------------------------------------------- */

static int grow(void **items, size_t *cap, size_t n, size_t size, err *e)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*items, nc * size);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory");
    *items = p;
    *cap = nc;
    return 0;
}

typedef struct refresh {
    risk_snapshot *snap;
    size_t cap_pos, cap_prices, cap_assets, cap_conds, cap_accounts, cap_tokens;
    store_token *tokens;         /* every chain's tokens */
    size_t n_tokens;
    int32_t until;               /* no close after this day (the desk's risk_history_until) */
} refresh;

static int add_cond(refresh *r, const char *key, const char *kind, alert_severity sv,
                    double value, double limit, err *e, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static int add_cond(refresh *r, const char *key, const char *kind, alert_severity sv,
                    double value, double limit, err *e, const char *fmt, ...)
{
    risk_snapshot *s = r->snap;
    for (size_t i = 0; i < s->n_conds; i++)
        if (strcmp(s->conds[i].key, key) == 0)
            return 0;
    if (grow((void **)&s->conds, &r->cap_conds, s->n_conds, sizeof *s->conds, e) < 0)
        return -1;
    store_alert_cond *c = &s->conds[s->n_conds++];
    memset(c, 0, sizeof *c);
    snprintf(c->key, sizeof c->key, "%s", key);
    snprintf(c->kind, sizeof c->kind, "%s", kind);
    c->severity = sv;
    c->value = value;
    c->limit = limit;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    return 0;
}

/* ---- numbers ---------------------------------------------------------------------------- */

/* Base units -> a floating-point number of whole units (an estimate, for risk only). */
static double units_to_double(const u256 *a, unsigned decimals)
{
    char dec[U256_DEC_MAX];
    u256_to_dec(dec, a);
    return strtod(dec, NULL) / pow(10.0, (double)decimals);
}

/* A 32-byte ABI word as a signed int256 in decimal text; *neg tells the sign. */
static void int256_dec(const uint8_t w[32], char *out, size_t cap, bool *neg, u256 *mag)
{
    uint8_t b[32];
    memcpy(b, w, 32);
    *neg = (b[0] & 0x80) != 0;
    if (*neg) {
        for (int i = 0; i < 32; i++)
            b[i] = (uint8_t)~b[i];
        for (int i = 31; i >= 0; i--)
            if (++b[i] != 0)
                break;
    }
    u256_from_be(mag, b);
    char d[U256_DEC_MAX];
    u256_to_dec(d, mag);
    snprintf(out, cap, "%s%s", *neg ? "-" : "", d);
}

static bool word_u64(const uint8_t w[32], uint64_t *out)
{
    u256 v;
    u256_from_be(&v, w);
    return u256_to_u64(&v, out);
}

/* ---- desk accounts ----------------------------------------------------------------------- */

static int add_account(refresh *r, const addr *a, err *e)
{
    risk_snapshot *s = r->snap;
    for (size_t i = 0; i < s->n_accounts; i++)
        if (addr_equal(&s->accounts[i], a))
            return 0;
    if (grow((void **)&s->accounts, &r->cap_accounts, s->n_accounts, sizeof *s->accounts, e) < 0)
        return -1;
    s->accounts[s->n_accounts++] = *a;
    return 0;
}

static int load_accounts(refresh *r, const risk_service_opts *o, err *e)
{
    if (o->home) {
        keystore *ks = NULL;
        if (keystore_open(&ks, o->home, "risk", e) < 0)
            return -1;
        ks_entry *ent = NULL;
        size_t n = 0;
        int rc = keystore_list(ks, &ent, &n, e);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = add_account(r, &ent[i].address, e);
        free(ent);
        keystore_free(&ks);
        if (rc < 0)
            return -1;
    }
    for (size_t i = 0; i < o->n_extra; i++)
        if (add_account(r, &o->extra_accounts[i], e) < 0)
            return -1;
    return 0;
}

static bool is_account(const risk_snapshot *s, const addr *a)
{
    for (size_t i = 0; i < s->n_accounts; i++)
        if (addr_equal(&s->accounts[i], a))
            return true;
    return false;
}

/* ---- per-chain batch ---------------------------------------------------------------------- */

typedef enum { Q_HEAD, Q_BALANCE, Q_TOKEN, Q_CODE, Q_ROUND, Q_DECIMALS } qkind;

typedef struct query {
    qkind kind;
    size_t account;
    size_t index;                /* token or feed */
} query;

/* block: "latest" or a hex block number (balances are read at the synced block). */
static json_t *call_params(const addr *to, const uint8_t *data, size_t len, const char *block)
{
    char *to_hex = hex_encode_new(to->b, 20);
    char *data_hex = hex_encode_new(data, len);
    json_t *p = NULL;
    if (to_hex && data_hex)
        p = json_pack("[{s:s,s:s},s]", "to", to_hex, "data", data_hex, block);
    free(to_hex);
    free(data_hex);
    return p;
}

static int result_word(const rpc_request *q, size_t word, uint8_t out[32])
{
    const char *t = json_string_value(q->result);
    if (!t)
        return -1;
    buf b;
    buf_init(&b);
    err e;
    int rc = hex_decode_buf(&b, t, strlen(t), HEX_REQUIRE_PREFIX, &e);
    if (rc == 0 && b.len >= 32 * (word + 1))
        memcpy(out, b.data + 32 * word, 32);
    else
        rc = -1;
    buf_free(&b);
    return rc;
}

static int add_position(refresh *r, const risk_position *p, err *e)
{
    risk_snapshot *s = r->snap;
    if (grow((void **)&s->pos, &r->cap_pos, s->n_pos, sizeof *s->pos, e) < 0)
        return -1;
    s->pos[s->n_pos++] = *p;
    return 0;
}

typedef struct feed_reading {
    store_feed feed;
    bool ok;
    bool mock; /* MockPriceFeed's code on a chain that is not a devnet: never used */
    char round_id[32];
    double usd;
    int64_t updated_at;
} feed_reading;

static int add_price(refresh *r, const risk_price_info *pi, err *e)
{
    risk_snapshot *s = r->snap;
    for (size_t i = 0; i < s->n_prices; i++) {
        risk_price_info *q = &s->prices[i];
        if (strcmp(q->asset, pi->asset) != 0)
            continue;
        /* Prefer a fresh oracle price, then the newest. */
        bool better = (q->stale && !pi->stale) ||
                      (q->stale == pi->stale && pi->updated_at > q->updated_at);
        if (better)
            *q = *pi;
        return 0;
    }
    if (grow((void **)&s->prices, &r->cap_prices, s->n_prices, sizeof *s->prices, e) < 0)
        return -1;
    s->prices[s->n_prices++] = *pi;
    return 0;
}

static int read_chain(refresh *r, store *db, const store_chain *ch, risk_chain_status *cs,
                      err *e)
{
    risk_snapshot *s = r->snap;
    store_endpoint *eps = NULL;
    store_token *tok = NULL;
    store_feed *feeds = NULL;
    size_t n_eps = 0, n_tok = 0, n_feeds = 0;
    rpc_client *rpc = NULL;
    rpc_request *reqs = NULL;
    query *qs = NULL;
    feed_reading *rd = NULL;
    int rc = -1;
    char key[STORE_ALERT_KEY_MAX];

    if (store_endpoint_list(db, ch->chain_id, &eps, &n_eps, e) < 0 ||
        store_token_list(db, ch->chain_id, &tok, &n_tok, e) < 0 ||
        store_feed_list(db, ch->chain_id, &feeds, &n_feeds, e) < 0)
        goto out;
    for (size_t i = 0; i < n_tok; i++) {
        if (grow((void **)&r->tokens, &r->cap_tokens, r->n_tokens,
                 sizeof *r->tokens, e) < 0)
            goto out;
        r->tokens[r->n_tokens++] = tok[i];
    }
    snprintf(key, sizeof key, "chain_down:%llu", (unsigned long long)ch->chain_id);
    if (n_eps == 0) {
        snprintf(cs->error, sizeof cs->error, "no RPC endpoint configured");
        rc = add_cond(r, key, "chain_down", ALERT_CRITICAL, NAN, NAN, e,
                      "chain %s has no RPC endpoint: its positions are missing", ch->name);
        goto out;
    }
    rpc_options ro;
    rpc_options_default(&ro);
    ro.max_attempts = 2;
    ro.timeout_ms = 10000;
    if (rpc_chain_client(&rpc, db, ch->chain_id, &ro, e) < 0)
        goto out;

    size_t na = s->n_accounts;
    /* MockPriceFeed is believed on devnets only: elsewhere each feed's code is read first
     * (in the same batch, before its round) and a mock's answer is not used. */
    bool check_code = !risk_chain_is_devnet(ch->chain_id);
    size_t nq = 1 + na + na * n_tok + (check_code ? 3 : 2) * n_feeds;
    reqs = calloc(nq, sizeof *reqs);
    qs = calloc(nq, sizeof *qs);
    rd = calloc(n_feeds ? n_feeds : 1, sizeof *rd);
    if (!reqs || !qs || !rd) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    uint8_t sel_bal[4], sel_round[4], sel_dec[4];
    if (abi_selector(sel_bal, "balanceOf(address)", e) < 0 ||
        abi_selector(sel_round, "latestRoundData()", e) < 0 ||
        abi_selector(sel_dec, "decimals()", e) < 0)
        goto out;
    /* Balances at the block the escrow projection has reached, so that a transfer into an
     * escrow is counted once (out of the wallet and into the escrow at the same block);
     * "latest" only before the first sync. Feeds are market data: read at latest. */
    store_checkpoint cp;
    if (store_checkpoint_get(db, ch->chain_id, &cp, e) < 0)
        goto out;
    char at[24] = "latest";
    if (cp.synced)
        snprintf(at, sizeof at, "0x%llx", (unsigned long long)cp.synced_block);
    cs->balances_synced = cp.synced;
    cs->balances_block = cp.synced_block;
    size_t k = 0;
    qs[k] = (query){Q_HEAD, 0, 0};
    reqs[k++] = (rpc_request){.method = "eth_blockNumber", .params = json_array()};
    for (size_t a = 0; a < na; a++) {
        char *h = hex_encode_new(s->accounts[a].b, 20);
        qs[k] = (query){Q_BALANCE, a, 0};
        reqs[k++] = (rpc_request){.method = "eth_getBalance",
                                  .params = h ? json_pack("[s,s]", h, at) : NULL};
        free(h);
        for (size_t t = 0; t < n_tok; t++) {
            uint8_t data[36] = {0};
            memcpy(data, sel_bal, 4);
            memcpy(data + 16, s->accounts[a].b, 20);
            qs[k] = (query){Q_TOKEN, a, t};
            reqs[k++] = (rpc_request){.method = "eth_call",
                                      .params = call_params(&tok[t].address, data, 36, at)};
        }
    }
    for (size_t f = 0; f < n_feeds; f++) {
        rd[f].feed = feeds[f];
        if (check_code) {
            char *h = hex_encode_new(feeds[f].address.b, 20);
            qs[k] = (query){Q_CODE, 0, f};
            reqs[k++] = (rpc_request){.method = "eth_getCode",
                                      .params = h ? json_pack("[s,s]", h, "latest") : NULL};
            free(h);
        }
        qs[k] = (query){Q_ROUND, 0, f};
        reqs[k++] = (rpc_request){.method = "eth_call",
                                  .params = call_params(&feeds[f].address, sel_round, 4,
                                                        "latest")};
        qs[k] = (query){Q_DECIMALS, 0, f};
        reqs[k++] = (rpc_request){.method = "eth_call",
                                  .params = call_params(&feeds[f].address, sel_dec, 4,
                                                        "latest")};
    }
    for (size_t i = 0; i < k; i++)
        if (!reqs[i].params) {
            err_set(e, ERR_NOMEM, "out of memory");
            goto out;
        }
    err be;
    err_clear(&be);
    if (rpc_batch(rpc, reqs, k, &be) < 0) {
        snprintf(cs->error, sizeof cs->error, "%.190s", be.msg);
        rc = add_cond(r, key, "chain_down", ALERT_CRITICAL, NAN, NAN, e,
                      "chain %s is unreachable (%.120s): its positions are missing", ch->name,
                      be.msg);
        goto out;
    }
    cs->reachable = true;
    char item_err[200] = "";
    for (size_t i = 0; i < k; i++) {
        rpc_request *q = &reqs[i];
        if (q->status != RPC_OK || !q->result) {
            if (!item_err[0])
                snprintf(item_err, sizeof item_err, "%.40s: %.150s", q->method, q->message);
            continue;
        }
        risk_position p;
        memset(&p, 0, sizeof p);
        p.chain_id = ch->chain_id;
        snprintf(p.chain, sizeof p.chain, "%s", ch->name);
        p.kind = RISK_POS_WALLET;
        p.usd = NAN;
        err pe;
        switch (qs[i].kind) {
        case Q_HEAD:
            if (rpc_parse_u64(q->result, &cs->head, "block number", &pe) < 0)
                snprintf(item_err, sizeof item_err, "%.190s", pe.msg);
            break;
        case Q_BALANCE:
            if (rpc_parse_u256(q->result, &p.amount, "balance", &pe) < 0) {
                snprintf(item_err, sizeof item_err, "%.190s", pe.msg);
                break;
            }
            if (u256_is_zero(&p.amount))
                break;
            p.account = s->accounts[qs[i].account];
            p.native = true;
            snprintf(p.asset, sizeof p.asset, "%s", ch->native_symbol);
            p.decimals = ch->native_decimals;
            if (add_position(r, &p, e) < 0)
                goto out;
            break;
        case Q_TOKEN: {
            uint8_t w[32];
            if (result_word(q, 0, w) < 0) {
                snprintf(item_err, sizeof item_err, "balanceOf of %s returned no word",
                         tok[qs[i].index].symbol);
                break;
            }
            u256_from_be(&p.amount, w);
            if (u256_is_zero(&p.amount))
                break;
            p.account = s->accounts[qs[i].account];
            p.token = tok[qs[i].index].address;
            snprintf(p.asset, sizeof p.asset, "%s", tok[qs[i].index].symbol);
            p.decimals = tok[qs[i].index].decimals;
            if (add_position(r, &p, e) < 0)
                goto out;
            break;
        }
        case Q_CODE: {
            feed_reading *f = &rd[qs[i].index];
            const char *t = json_string_value(q->result);
            buf code;
            buf_init(&code);
            err ce;
            bool mock = true; /* what cannot be checked is not believed */
            if (t && hex_decode_buf(&code, t, strlen(t), HEX_REQUIRE_PREFIX, &ce) == 0 &&
                risk_code_is_mock_feed(code.data, code.len, &mock, &ce) < 0)
                mock = true;
            buf_free(&code);
            f->mock = mock;
            break;
        }
        case Q_ROUND: {
            feed_reading *f = &rd[qs[i].index];
            if (f->mock)
                break;
            uint8_t w[5][32];
            bool ok = true;
            for (size_t j = 0; j < 5 && ok; j++)
                ok = result_word(q, j, w[j]) == 0;
            uint64_t upd;
            if (!ok || !word_u64(w[3], &upd) || upd > (uint64_t)INT64_MAX) {
                snprintf(item_err, sizeof item_err, "latestRoundData of feed %s is malformed",
                         f->feed.asset);
                break;
            }
            u256 rid;
            u256_from_be(&rid, w[0]);
            char rid_dec[U256_DEC_MAX];
            u256_to_dec(rid_dec, &rid);
            snprintf(f->round_id, sizeof f->round_id, "%.31s", rid_dec);
            char ans[80];
            bool neg;
            u256 mag;
            int256_dec(w[1], ans, sizeof ans, &neg, &mag);
            f->updated_at = (int64_t)upd;
            f->usd = neg ? -units_to_double(&mag, 0) : units_to_double(&mag, 0);
            f->ok = true;
            store_price_obs ob;
            memset(&ob, 0, sizeof ob);
            ob.chain_id = ch->chain_id;
            ob.feed = f->feed.address;
            snprintf(ob.round_id, sizeof ob.round_id, "%s", f->round_id);
            snprintf(ob.answer, sizeof ob.answer, "%s", ans);
            ob.updated_at = f->updated_at;
            ob.observed_at = s->as_of;
            if (store_price_obs_put(db, &ob, NULL, e) < 0)
                goto out;
            break;
        }
        case Q_DECIMALS: {
            uint8_t w[32];
            uint64_t d;
            if (result_word(q, 0, w) < 0 || !word_u64(w, &d) || d > 77) {
                snprintf(item_err, sizeof item_err, "decimals() of feed %s is malformed",
                         rd[qs[i].index].feed.asset);
                break;
            }
            rd[qs[i].index].feed.decimals = (unsigned)d; /* the live value wins */
            break;
        }
        }
    }
    if (item_err[0]) {
        snprintf(key, sizeof key, "chain_data:%llu", (unsigned long long)ch->chain_id);
        if (add_cond(r, key, "chain_data", ALERT_WARNING, NAN, NAN, e,
                     "chain %s answered with errors (first: %.120s): some positions or prices "
                     "are missing", ch->name, item_err) < 0)
            goto out;
    }
    for (size_t f = 0; f < n_feeds; f++) {
        feed_reading *fr = &rd[f];
        char fa[ADDR_STR_MAX];
        addr_to_lower(fa, &fr->feed.address);
        if (fr->mock) {
            snprintf(key, sizeof key, "mock_feed:%llu:%s", (unsigned long long)ch->chain_id, fa);
            if (add_cond(r, key, "mock_feed", ALERT_CRITICAL, NAN, NAN, e,
                         "feed %s for %s on %s is a MockPriceFeed (its owner sets any price) on "
                         "a chain that is not a devnet: its price is not used",
                         fa, fr->feed.asset, ch->name) < 0)
                goto out;
            continue;
        }
        if (!fr->ok)
            continue;
        double px = fr->usd / pow(10.0, (double)fr->feed.decimals);
        if (!risk_price_ok(px)) {
            snprintf(key, sizeof key, "bad_price:%llu:%s", (unsigned long long)ch->chain_id, fa);
            if (add_cond(r, key, "bad_price", ALERT_CRITICAL, px, NAN, e,
                         "feed %s on %s answers %g for %s: not a usable price", fa, ch->name, px,
                         fr->feed.asset) < 0)
                goto out;
            continue;
        }
        int64_t max_age = fr->feed.max_age > 0 ? fr->feed.max_age : s->limits.price_max_age;
        int64_t age = s->as_of - fr->updated_at;
        risk_price_info pi;
        memset(&pi, 0, sizeof pi);
        snprintf(pi.asset, sizeof pi.asset, "%s", fr->feed.asset);
        pi.usd = px;
        pi.oracle = true;
        pi.chain_id = ch->chain_id;
        pi.feed = fr->feed.address;
        snprintf(pi.round_id, sizeof pi.round_id, "%s", fr->round_id);
        pi.updated_at = fr->updated_at;
        pi.stale = age > max_age;
        if (pi.stale) {
            snprintf(key, sizeof key, "stale_price:%llu:%s", (unsigned long long)ch->chain_id,
                     fa);
            if (add_cond(r, key, "stale_price", ALERT_WARNING, (double)age, (double)max_age, e,
                         "price of %s from feed %s on %s is %llds old (max %llds)",
                         fr->feed.asset, fa, ch->name, (long long)age, (long long)max_age) < 0)
                goto out;
        }
        if (add_price(r, &pi, e) < 0)
            goto out;
    }
    rc = 0;
out:
    if (reqs) {
        rpc_batch_clear(reqs, nq);
        for (size_t i = 0; i < nq; i++)
            json_decref(reqs[i].params);
    }
    free(reqs);
    free(qs);
    free(rd);
    rpc_client_free(&rpc);
    free(eps);
    free(tok);
    free(feeds);
    return rc;
}

/* ---- sync lag and escrows ---------------------------------------------------------------- */

static int check_sync(refresh *r, store *db, const store_chain *ch, risk_chain_status *cs, err *e)
{
    store_checkpoint cp;
    if (store_checkpoint_get(db, ch->chain_id, &cp, e) < 0)
        return -1;
    cs->synced = cp.synced;
    cs->synced_block = cp.synced_block;
    char key[STORE_ALERT_KEY_MAX];
    snprintf(key, sizeof key, "sync_lag:%llu", (unsigned long long)ch->chain_id);
    if (!cp.synced)
        return add_cond(r, key, "sync_lag", ALERT_INFO, NAN, NAN, e,
                        "chain %s has never been synced: escrow exposure on it is unknown "
                        "(run fusion sync)", ch->name);
    uint64_t head = cs->reachable ? cs->head : cp.head_block;
    uint64_t lag = head > cp.synced_block ? head - cp.synced_block : 0;
    if (lag > r->snap->limits.sync_lag_blocks)
        return add_cond(r, key, "sync_lag", ALERT_WARNING, (double)lag,
                        (double)r->snap->limits.sync_lag_blocks, e,
                        "chain %s: sync is %llu blocks behind the head (limit %llu): escrow "
                        "exposure may be out of date", ch->name, (unsigned long long)lag,
                        (unsigned long long)r->snap->limits.sync_lag_blocks);
    return 0;
}

static int escrow_positions(refresh *r, store *db, const store_chain *chains, size_t n_chains,
                            err *e)
{
    risk_snapshot *s = r->snap;
    store_escrow *xs = NULL;
    size_t n = 0;
    /* Only the rows that can be exposure: a million escrows must not all be loaded. */
    if (store_escrow_list_open(db, s->accounts, s->n_accounts, &xs, &n, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const store_escrow *x = &xs[i];
        if (x->state != ESCROW_FUNDED && x->state != ESCROW_DISPUTED)
            continue;
        bool payer = is_account(s, &x->payer), payee = is_account(s, &x->payee);
        if (!payer && !payee)
            continue;
        u256 out, left;
        if (u256_sub(&out, &x->funded, &x->released) < 0 ||
            u256_sub(&left, &out, &x->refunded) < 0 || u256_is_zero(&left))
            continue;
        risk_position p;
        memset(&p, 0, sizeof p);
        p.chain_id = x->chain_id;
        p.usd = NAN;
        p.amount = left;
        p.escrow = x->address;
        const store_chain *ch = NULL;
        for (size_t c = 0; c < n_chains; c++)
            if (chains[c].chain_id == x->chain_id)
                ch = &chains[c];
        if (ch)
            snprintf(p.chain, sizeof p.chain, "%s", ch->name);
        if (addr_is_zero(&x->token)) {
            p.native = true;
            snprintf(p.asset, sizeof p.asset, "%s", ch ? ch->native_symbol : "ETH");
            p.decimals = ch ? ch->native_decimals : 18;
        } else {
            p.token = x->token;
            char a[ADDR_STR_MAX];
            addr_to_lower(a, &x->token);
            snprintf(p.asset, sizeof p.asset, "%.10s", a); /* unknown token: unpriced */
            for (size_t t = 0; t < r->n_tokens; t++)
                if (r->tokens[t].chain_id == x->chain_id &&
                    addr_equal(&r->tokens[t].address, &x->token)) {
                    snprintf(p.asset, sizeof p.asset, "%s", r->tokens[t].symbol);
                    p.decimals = r->tokens[t].decimals;
                }
        }
        if (payer) {
            p.kind = RISK_POS_ESCROW_LOCKED;
            p.account = x->payer;
            p.counterparty = x->payee;
            rc = add_position(r, &p, e);
        }
        if (rc == 0 && payee) {
            p.kind = RISK_POS_ESCROW_INCOMING;
            p.account = x->payee;
            p.counterparty = x->payer;
            rc = add_position(r, &p, e);
        }
    }
    free(xs);
    return rc;
}

/* Whether a leg mined in `block` of chain_id is in the balances: they are read at the
 * chain's synced block (at latest before its first sync). */
static int leg_seen(store *db, uint64_t chain_id, uint64_t block, bool *seen, err *e)
{
    store_checkpoint cp;
    if (store_checkpoint_get(db, chain_id, &cp, e) < 0)
        return -1;
    *seen = !cp.synced || (block && block <= cp.synced_block);
    return 0;
}

/* Bridge transfers between desk accounts (o->bridges': on a server book the server's legs
 * make them) that are burned (or locked by ccipSend) and not yet minted (released), as the
 * balances see the chains: burned once the source's balances are read at or after the
 * burn's block, minted once the destination's are read at or after the mint's, so the
 * value is counted once (in a wallet or in flight), whichever process recorded the legs. */
static int bridge_positions(refresh *r, store *db, const risk_service_opts *o,
                            const store_chain *chains, size_t n_chains, err *e)
{
    risk_snapshot *s = r->snap;
    store_bridge *bs = NULL;
    size_t n = 0;
    if ((o->bridges ? o->bridges(db, s->accounts, s->n_accounts, &bs, &n, e)
                    : store_bridge_list(db, &bs, &n, e)) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const store_bridge *b = &bs[i];
        bool delivered = strcmp(b->state, "delivered") == 0;
        bool open = strcmp(b->state, "sent") == 0 || strcmp(b->state, "attested") == 0 ||
                    strcmp(b->state, "committed") == 0 || delivered;
        if (!b->has_message || !open || !is_account(s, &b->sender) ||
            !is_account(s, &b->recipient))
            continue;
        bool burned = false, minted = false;
        if (leg_seen(db, b->src_chain, b->burn_block, &burned, e) < 0) {
            rc = -1;
            break;
        }
        /* delivered without a mint block (the destination had received it already): minted */
        if (delivered && !b->mint_block)
            minted = true;
        else if (delivered && leg_seen(db, b->dst_chain, b->mint_block, &minted, e) < 0) {
            rc = -1;
            break;
        }
        if (!burned || minted)
            continue;
        risk_position p;
        memset(&p, 0, sizeof p);
        p.kind = RISK_POS_BRIDGE_IN_FLIGHT;
        p.chain_id = b->dst_chain;
        p.usd = NAN;
        p.amount = b->amount;
        p.account = b->recipient;
        p.counterparty = b->sender;
        p.token = b->token_dst;
        for (size_t c = 0; c < n_chains; c++)
            if (chains[c].chain_id == b->dst_chain)
                snprintf(p.chain, sizeof p.chain, "%s", chains[c].name);
        char a[ADDR_STR_MAX];
        addr_to_lower(a, &b->token_dst);
        snprintf(p.asset, sizeof p.asset, "%.10s", a); /* unknown token: unpriced */
        for (size_t t = 0; t < r->n_tokens; t++)
            if (r->tokens[t].chain_id == b->dst_chain &&
                addr_equal(&r->tokens[t].address, &b->token_dst)) {
                snprintf(p.asset, sizeof p.asset, "%s", r->tokens[t].symbol);
                p.decimals = r->tokens[t].decimals;
            }
        rc = add_position(r, &p, e);
    }
    free(bs);
    return rc;
}

/* ---- history ------------------------------------------------------------------------------ */

/* prices/yf_ASSET-USD_1d.csv, else the last (by name) prices/yf_ASSET-USD_1d*.csv. */
static bool history_file(const char *dir, const char *asset, char *out, size_t cap)
{
    char want[96];
    snprintf(want, sizeof want, "yf_%s-USD_1d", asset);
    DIR *d = opendir(dir);
    if (!d)
        return false;
    char best[256] = "";
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        size_t wl = strlen(want), nl = strlen(nm);
        if (nl < wl + 4 || strncmp(nm, want, wl) != 0 || strcmp(nm + nl - 4, ".csv") != 0)
            continue;
        if (nl == wl + 4) { /* the exact name wins */
            snprintf(best, sizeof best, "%s", nm);
            break;
        }
        if (nm[wl] == '_' && strcmp(nm, best) > 0)
            snprintf(best, sizeof best, "%s", nm);
    }
    closedir(d);
    if (!best[0])
        return false;
    int k = snprintf(out, cap, "%s/%s", dir, best);
    return k > 0 && (size_t)k < cap;
}

static int find_asset(const risk_snapshot *s, const char *asset)
{
    for (size_t i = 0; i < s->n_assets; i++)
        if (strcmp(s->assets[i].asset, asset) == 0)
            return (int)i;
    return -1;
}

static const risk_price_info *find_price(const risk_snapshot *s, const char *asset)
{
    for (size_t i = 0; i < s->n_prices; i++)
        if (strcmp(s->prices[i].asset, asset) == 0)
            return &s->prices[i];
    return NULL;
}

/* prices/aliases.csv ("asset,series" lines, '#' comments): an asset whose history is
 * another's (a 1:1 wrapper such as WETH, a renamed coin such as POL, once MATIC). Writes
 * the series to read for asset (asset itself when it has no alias). */
static void history_series(const char *dir, const char *asset, char *out, size_t cap)
{
    snprintf(out, cap, "%s", asset);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/aliases.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[128];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *comma = strchr(line, ',');
        if (line[0] == '#' || !comma)
            continue;
        *comma = '\0';
        if (strcmp(line, asset) == 0 && comma[1]) {
            snprintf(out, cap, "%s", comma + 1);
            break;
        }
    }
    fclose(f);
}

/* Loads the history of every held asset; assets without a file get a condition. Assets
 * without an oracle price get the last shipped close (source "history"). */
static int load_history(refresh *r, const risk_service_opts *o, risk_prices *pr, err *e)
{
    risk_snapshot *s = r->snap;
    char dir[PATH_MAX];
    if (o->prices_dir)
        snprintf(dir, sizeof dir, "%s", o->prices_dir);
    else if (risk_data_file("prices", dir, sizeof dir, e) < 0)
        return -1;
    for (size_t i = 0; i < s->n_assets; i++) {
        risk_asset_value *av = &s->assets[i];
        char path[PATH_MAX + 300];
        char key[STORE_ALERT_KEY_MAX], series[STORE_ASSET_MAX + 32];
        history_series(dir, av->asset, series, sizeof series);
        if (!history_file(dir, series, path, sizeof path)) {
            snprintf(key, sizeof key, "no_history:%s", av->asset);
            if (add_cond(r, key, "no_history", ALERT_WARNING, NAN, NAN, e,
                         "no daily price history for %s in %s: it is left out of VaR/ES",
                         av->asset, dir) < 0)
                return -1;
            continue;
        }
        char spec[PATH_MAX + 400];
        snprintf(spec, sizeof spec, "%s=%s", av->asset, path);
        if (risk_prices_add_file(pr, spec, e) < 0)
            return -1;
        av->in_var = true;
    }
    return 0;
}

/* USD values of the positions and per-asset totals (wallet + locked as payer). */
static int value_positions(refresh *r, err *e)
{
    risk_snapshot *s = r->snap;
    for (size_t i = 0; i < s->n_pos; i++) {
        risk_position *p = &s->pos[i];
        if (p->kind == RISK_POS_ESCROW_INCOMING || find_asset(s, p->asset) >= 0)
            continue;
        if (grow((void **)&s->assets, &r->cap_assets, s->n_assets, sizeof *s->assets, e) < 0)
            return -1;
        risk_asset_value *av = &s->assets[s->n_assets++];
        memset(av, 0, sizeof *av);
        snprintf(av->asset, sizeof av->asset, "%s", p->asset);
    }
    return 0;
}

static void apply_prices(risk_snapshot *s)
{
    s->gross_usd = 0.0;
    for (size_t i = 0; i < s->n_assets; i++)
        s->assets[i].usd = 0.0;
    for (size_t i = 0; i < s->n_pos; i++) {
        risk_position *p = &s->pos[i];
        const risk_price_info *pi = find_price(s, p->asset);
        p->usd = pi ? units_to_double(&p->amount, p->decimals) * pi->usd : NAN;
        int a = find_asset(s, p->asset);
        if (a >= 0 && p->kind != RISK_POS_ESCROW_INCOMING && pi) {
            s->assets[a].usd += p->usd;
            s->gross_usd += p->usd;
        }
    }
}

/* The newest stored round of any feed of `asset`: *found false when there is none. */
static int last_round(store *db, const store_feed *feeds, size_t n_feeds, const char *asset,
                      risk_price_info *out, int64_t *max_age, bool *found, err *e)
{
    *found = false;
    for (size_t f = 0; f < n_feeds; f++) {
        if (strcmp(feeds[f].asset, asset) != 0)
            continue;
        store_price_obs *ob = NULL;
        size_t no = 0;
        if (store_price_obs_list(db, feeds[f].chain_id, &feeds[f].address, &ob, &no, e) < 0)
            return -1;
        for (size_t i = no; i-- > 0;) {
            double px = strtod(ob[i].answer, NULL) / pow(10.0, (double)feeds[f].decimals);
            if (!risk_price_ok(px))
                continue;
            if (!*found || ob[i].updated_at > out->updated_at) {
                memset(out, 0, sizeof *out);
                snprintf(out->asset, sizeof out->asset, "%s", asset);
                out->usd = px;
                out->oracle = true;
                out->chain_id = feeds[f].chain_id;
                out->feed = feeds[f].address;
                snprintf(out->round_id, sizeof out->round_id, "%s", ob[i].round_id);
                out->updated_at = ob[i].updated_at;
                *max_age = feeds[f].max_age;
                *found = true;
            }
            break; /* the list is by updated_at: the last usable one is this feed's newest */
        }
        free(ob);
    }
    return 0;
}

/* Prices of the assets no feed answered for now: the newest stored oracle round or the last
 * shipped daily close, whichever is newer. A stored round older than the max age is stale. */
static int fallback_prices(refresh *r, store *db, const risk_prices *pr, err *e)
{
    risk_snapshot *s = r->snap;
    store_feed *feeds = NULL;
    size_t n_feeds = 0;
    if (store_feed_list(db, 0, &feeds, &n_feeds, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->n_assets; i++) {
        risk_asset_value *av = &s->assets[i];
        if (find_price(s, av->asset))
            continue;
        risk_price_info obs, hist;
        int64_t max_age = 0;
        bool have_obs = false, have_hist = false;
        if (last_round(db, feeds, n_feeds, av->asset, &obs, &max_age, &have_obs, e) < 0) {
            rc = -1;
            break;
        }
        const char *one[1] = {av->asset};
        risk_panel *pn = NULL;
        err pe;
        if (av->in_var && risk_panel_build(pr, one, 1, INT32_MIN, r->until, 1, &pn, &pe) == 0) {
            memset(&hist, 0, sizeof hist);
            snprintf(hist.asset, sizeof hist.asset, "%s", av->asset);
            hist.usd = pn->close[pn->n_days - 1];
            hist.updated_at = (int64_t)pn->days[pn->n_days - 1] * 86400;
            have_hist = true;
            risk_panel_free(&pn);
        }
        if (have_obs && (!have_hist || obs.updated_at >= hist.updated_at)) {
            int64_t lim = max_age > 0 ? max_age : s->limits.price_max_age;
            obs.stale = s->as_of - obs.updated_at > lim;
            if (obs.stale) {
                char key[STORE_ALERT_KEY_MAX], fa[ADDR_STR_MAX];
                addr_to_lower(fa, &obs.feed);
                snprintf(key, sizeof key, "stale_price:%llu:%s",
                         (unsigned long long)obs.chain_id, fa);
                rc = add_cond(r, key, "stale_price", ALERT_WARNING,
                              (double)(s->as_of - obs.updated_at), (double)lim, e,
                              "price of %s is the last stored round of feed %s, %llds old "
                              "(max %llds): the feed did not answer", av->asset, fa,
                              (long long)(s->as_of - obs.updated_at), (long long)lim);
            }
            if (rc == 0)
                rc = add_price(r, &obs, e);
        } else if (have_hist) {
            rc = add_price(r, &hist, e);
        }
    }
    free(feeds);
    return rc;
}

/* ---- history extended by observed oracle rounds ------------------------------------------ */

typedef struct day_close {
    int32_t day;
    int64_t updated_at;
    double close;
} day_close;

/* The observed daily closes of one asset: per UTC day the answer of the round updated last
 * that day, over every feed of the asset. *out malloc'ed. */
static int observed_closes(store *db, const store_feed *feeds, size_t n_feeds, const char *asset,
                           day_close **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    for (size_t f = 0; f < n_feeds; f++) {
        if (strcmp(feeds[f].asset, asset) != 0)
            continue;
        store_price_obs *ob = NULL;
        size_t no = 0;
        if (store_price_obs_list(db, feeds[f].chain_id, &feeds[f].address, &ob, &no, e) < 0)
            goto fail;
        for (size_t i = 0; i < no; i++) {
            double px = strtod(ob[i].answer, NULL) / pow(10.0, (double)feeds[f].decimals);
            if (!risk_price_ok(px) || ob[i].updated_at < 0)
                continue;
            int32_t day = (int32_t)(ob[i].updated_at / 86400);
            size_t j = 0;
            while (j < *n && (*out)[j].day != day)
                j++;
            if (j == *n) {
                if (grow((void **)out, &cap, *n, sizeof **out, e) < 0) {
                    free(ob);
                    goto fail;
                }
                (*out)[(*n)++] = (day_close){day, ob[i].updated_at, px};
            } else if (ob[i].updated_at >= (*out)[j].updated_at) {
                (*out)[j] = (day_close){day, ob[i].updated_at, px};
            }
        }
        free(ob);
    }
    return 0;
fail:
    free(*out);
    *out = NULL;
    *n = 0;
    return -1;
}

static const day_close *close_on(const day_close *c, size_t n, int32_t day)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].day == day)
            return &c[i];
    return NULL;
}

/* Appends to the panel the days after its last one on which every asset has an observed
 * close, as long as they follow without a gap (a daily series must not skip days). */
static int extend_with_rounds(store *db, risk_panel *pn, int32_t until, size_t *added, err *e)
{
    *added = 0;
    store_feed *feeds = NULL;
    size_t n_feeds = 0;
    if (store_feed_list(db, 0, &feeds, &n_feeds, e) < 0)
        return -1;
    size_t na = pn->n_assets;
    day_close **obs = calloc(na, sizeof *obs);
    size_t *n_obs = calloc(na, sizeof *n_obs);
    int rc = -1;
    if (!obs || !n_obs) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t a = 0; a < na; a++)
        if (observed_closes(db, feeds, n_feeds, pn->assets[a], &obs[a], &n_obs[a], e) < 0)
            goto out;
    for (;;) {
        int32_t day = pn->days[pn->n_days - 1] + 1;
        if (day > until)
            break;
        size_t a = 0;
        while (a < na && close_on(obs[a], n_obs[a], day))
            a++;
        if (a < na)
            break;
        int32_t *days = realloc(pn->days, (pn->n_days + 1) * sizeof *days);
        if (!days) {
            err_set(e, ERR_NOMEM, "out of memory");
            goto out;
        }
        pn->days = days;
        double *close = realloc(pn->close, (pn->n_days + 1) * na * sizeof *close);
        if (!close) {
            err_set(e, ERR_NOMEM, "out of memory");
            goto out;
        }
        pn->close = close;
        pn->days[pn->n_days] = day;
        for (a = 0; a < na; a++) {
            const day_close *dc = close_on(obs[a], n_obs[a], day);
            pn->close[pn->n_days * na + a] = dc ? dc->close : NAN; /* dc is never NULL here */
        }
        pn->n_days++;
        (*added)++;
    }
    rc = 0;
out:
    for (size_t a = 0; obs && a < na; a++)
        free(obs[a]);
    free(obs);
    free(n_obs);
    free(feeds);
    return rc;
}

/* The price sparkline of every asset with a history: its last RISK_SPARK_DAYS daily
 * closes, read the way the VaR reads them (an asset whose panel cannot be built has none). */
static int spark_prices(refresh *r, store *db, const risk_prices *pr, err *e)
{
    risk_snapshot *s = r->snap;
    for (size_t i = 0; i < s->n_assets; i++) {
        risk_asset_value *av = &s->assets[i];
        const char *one[1] = {av->asset};
        risk_panel *pn = NULL;
        err pe;
        size_t added = 0;
        if (!av->in_var ||
            risk_panel_build(pr, one, 1, INT32_MIN, r->until, RISK_SPARK_DAYS, &pn, &pe) < 0)
            continue;
        if (extend_with_rounds(db, pn, r->until, &added, e) < 0) {
            risk_panel_free(&pn);
            return -1;
        }
        size_t from = pn->n_days > RISK_SPARK_DAYS ? pn->n_days - RISK_SPARK_DAYS : 0;
        av->n_spark = pn->n_days - from;
        memcpy(av->spark, pn->close + from, av->n_spark * sizeof *av->spark);
        av->spark_last_day = pn->days[pn->n_days - 1];
        risk_panel_free(&pn);
    }
    return 0;
}

/* ---- the math ----------------------------------------------------------------------------- */

static int run_math(refresh *r, store *db, const risk_service_opts *o, const risk_prices *pr,
                    err *e)
{
    risk_snapshot *s = r->snap;
    size_t n = 0;
    for (size_t i = 0; i < s->n_assets; i++)
        n += s->assets[i].in_var && s->assets[i].usd != 0.0;
    if (n == 0) {
        snprintf(s->report_note, sizeof s->report_note,
                 "no priced position with a price history: nothing to compute");
        return 0;
    }
    s->report_assets = calloc(n, sizeof *s->report_assets);
    const char **names = calloc(n, sizeof *names);
    double *value = calloc(n, sizeof *value);
    risk_collateral *terms = calloc(n, sizeof *terms);
    risk_scenario_moves *moves = NULL;
    risk_panel *pn = NULL;
    double *ret = NULL;
    int rc = -1;
    if (!s->report_assets || !names || !value || !terms) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->n_assets; i++) {
        if (!s->assets[i].in_var || s->assets[i].usd == 0.0)
            continue;
        snprintf(s->report_assets[k], sizeof s->report_assets[k], "%s", s->assets[i].asset);
        names[k] = s->report_assets[k];
        value[k] = s->assets[i].usd;
        k++;
    }
    s->n_report_assets = n;
    const risk_params *p = &s->params;
    err me;
    err_clear(&me);
    size_t keep = p->window + p->backtest_days + 1;
    if (risk_panel_build(pr, names, n, INT32_MIN, r->until, keep, &pn, &me) < 0) {
        snprintf(s->report_note, sizeof s->report_note, "%s", me.msg);
        rc = 0;
        goto out;
    }
    if (extend_with_rounds(db, pn, r->until, &s->hist_observed_days, e) < 0)
        goto out;
    if (risk_panel_require(pn, p->window + 1, &me) < 0) {
        snprintf(s->report_note, sizeof s->report_note, "%s", me.msg);
        rc = 0;
        goto out;
    }
    s->hist_first = pn->days[0];
    s->hist_last = pn->days[pn->n_days - 1];
    size_t T = pn->n_days - 1;
    ret = malloc(T * n * sizeof *ret);
    if (!ret) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (risk_log_returns(pn->close, pn->n_days, n, ret, e) < 0)
        goto out;
    risk_input in = {0};
    in.n_assets = n;
    in.n_ret = T;
    in.ret = ret;
    in.value = value;
    char path[PATH_MAX];
    const char *cpath = o->collateral_path;
    bool credit = true;
    if (!cpath) {
        credit = risk_data_file("risk/collateral.csv", path, sizeof path, &me) == 0;
        cpath = path;
    }
    for (size_t i = 0; i < n && credit; i++)
        credit = value[i] >= 0.0;
    if (credit && risk_collateral_load(cpath, names, n, terms, &me) < 0)
        credit = false;
    if (credit) {
        in.terms = terms;
        in.drawn = s->drawn;
    } else if (add_cond(r, "credit_terms", "credit_terms", ALERT_WARNING, NAN, NAN, e,
                        "no credit line: %.200s", me.msg) < 0) {
        goto out;
    }
    const char *spath = o->scenarios_path;
    bool stress = true;
    if (!spath) {
        stress = risk_data_file("risk/scenarios.csv", path, sizeof path, &me) == 0;
        spath = path;
    }
    if (stress && risk_scenarios_load(spath, names, n, 0, &s->scen, &me) == 0) {
        moves = calloc(s->scen->n ? s->scen->n : 1, sizeof *moves);
        if (!moves) {
            err_set(e, ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t j = 0; j < s->scen->n; j++) {
            moves[j].name = s->scen->name[j];
            moves[j].move = s->scen->move + j * n;
        }
        in.scenarios = moves;
        in.n_scenarios = s->scen->n;
    }
    risk_params rp = *p;
    rp.margin_call_hf = s->limits.margin_call_hf;
    if (risk_report_run(&in, &rp, &s->report, &me) < 0) {
        snprintf(s->report_note, sizeof s->report_note, "%s", me.msg);
        rc = 0;
        goto out;
    }
    s->has_report = true;
    rc = 0;
out:
    free(names);
    free(value);
    free(terms);
    free(moves);
    free(ret);
    risk_panel_free(&pn);
    return rc;
}

/* ---- limits -> conditions ------------------------------------------------------------- */

static int share_conds(refresh *r, const char *what, const char *const *names,
                       const double *usd, size_t n, double limit, err *e)
{
    risk_snapshot *s = r->snap;
    if (limit <= 0.0 || !(s->gross_usd > 0.0))
        return 0;
    for (size_t i = 0; i < n; i++) {
        double sh = usd[i] / s->gross_usd;
        if (!(sh > limit))
            continue;
        char key[STORE_ALERT_KEY_MAX], kind[STORE_ALERT_KIND_MAX];
        snprintf(key, sizeof key, "concentration_%s:%s", what, names[i]);
        snprintf(kind, sizeof kind, "concentration_%s", what);
        if (add_cond(r, key, kind, ALERT_WARNING, sh, limit, e,
                     "%s %s is %.1f%% of the gross value (limit %.1f%%)", what, names[i],
                     sh * 100.0, limit * 100.0) < 0)
            return -1;
    }
    return 0;
}

static int limit_conds(refresh *r, err *e)
{
    risk_snapshot *s = r->snap;
    const risk_limits *l = &s->limits;
    if (s->has_report) {
        const risk_report *rep = &s->report;
        if (l->var_1d > 0.0 && rep->hist.d1.var > l->var_1d &&
            add_cond(r, "var_limit", "var_limit", ALERT_WARNING, rep->hist.d1.var, l->var_1d, e,
                     "1-day %g%% historical VaR %.2f USD is above the limit %.2f USD (estimate)",
                     s->params.var_level * 100.0, rep->hist.d1.var, l->var_1d) < 0)
            return -1;
        if (l->es_1d > 0.0 && rep->hist.d1.es > l->es_1d &&
            add_cond(r, "es_limit", "es_limit", ALERT_WARNING, rep->hist.d1.es, l->es_1d, e,
                     "1-day %g%% historical ES %.2f USD is above the limit %.2f USD (estimate)",
                     s->params.es_level * 100.0, rep->hist.d1.es, l->es_1d) < 0)
            return -1;
        if (rep->has_credit) {
            double hf = rep->credit.health_factor;
            if (hf < 1.0) {
                if (add_cond(r, "health_factor", "liquidation", ALERT_CRITICAL, hf, 1.0, e,
                             "health factor %.3f is below 1.0: liquidation (drawn %.2f USD)", hf,
                             s->drawn) < 0)
                    return -1;
            } else if (hf < l->margin_call_hf) {
                if (add_cond(r, "health_factor", "margin_call", ALERT_WARNING, hf,
                             l->margin_call_hf, e,
                             "health factor %.3f is below %.2f: margin call (drawn %.2f USD)", hf,
                             l->margin_call_hf, s->drawn) < 0)
                    return -1;
            }
        }
    }
    /* Concentration by asset, by chain and by counterparty. */
    size_t n = s->n_assets > s->n_pos ? s->n_assets : s->n_pos;
    const char **names = calloc(n ? n : 1, sizeof *names);
    double *usd = calloc(n ? n : 1, sizeof *usd);
    char (*cp)[ADDR_STR_MAX] = calloc(n ? n : 1, sizeof *cp);
    int rc = -1;
    if (!names || !usd || !cp) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s->n_assets; i++) {
        names[i] = s->assets[i].asset;
        usd[i] = s->assets[i].usd;
    }
    if (share_conds(r, "asset", names, usd, s->n_assets, l->asset_share, e) < 0)
        goto out;
    size_t m = 0;
    for (size_t c = 0; c < s->n_chains; c++) {
        double v = 0.0;
        for (size_t i = 0; i < s->n_pos; i++)
            if (s->pos[i].chain_id == s->chains[c].chain_id &&
                s->pos[i].kind != RISK_POS_ESCROW_INCOMING && isfinite(s->pos[i].usd))
                v += s->pos[i].usd;
        names[m] = s->chains[c].name;
        usd[m++] = v;
    }
    if (share_conds(r, "chain", names, usd, m, l->chain_share, e) < 0)
        goto out;
    m = 0;
    for (size_t i = 0; i < s->n_pos; i++) {
        const risk_position *p = &s->pos[i];
        if (p->kind != RISK_POS_ESCROW_LOCKED || !isfinite(p->usd))
            continue;
        char a[ADDR_STR_MAX];
        addr_to_lower(a, &p->counterparty);
        size_t j = 0;
        while (j < m && strcmp(cp[j], a) != 0)
            j++;
        if (j == m) {
            snprintf(cp[m], sizeof cp[m], "%s", a);
            names[m] = cp[m];
            usd[m++] = 0.0;
        }
        usd[j] += p->usd;
    }
    if (share_conds(r, "counterparty", names, usd, m, l->counterparty_share, e) < 0)
        goto out;
    for (size_t i = 0; i < s->n_pos; i++)
        if (!isfinite(s->pos[i].usd)) {
            char key[STORE_ALERT_KEY_MAX];
            snprintf(key, sizeof key, "no_price:%s", s->pos[i].asset);
            if (add_cond(r, key, "no_price", ALERT_WARNING, NAN, NAN, e,
                         "no price for %s (no feed, no history): its positions are not valued",
                         s->pos[i].asset) < 0)
                goto out;
        }
    rc = 0;
out:
    free(names);
    free(usd);
    free(cp);
    return rc;
}

/* ---- the refresh ------------------------------------------------------------------------ */

int risk_limits_of(const char *home, const char *limits_path, risk_limits *out, err *e)
{
    char path[PATH_MAX];
    const char *lpath = limits_path;
    if (!lpath && home) {
        /* the desk's own limits, when it has them (the demo desk does) */
        int k = snprintf(path, sizeof path, "%s/risk-limits.csv", home);
        if (k > 0 && (size_t)k < sizeof path && access(path, R_OK) == 0)
            lpath = path;
    }
    bool own_limits = lpath && !limits_path;
    if (!lpath) {
        if (risk_data_file("risk/limits.csv", path, sizeof path, e) < 0)
            return -1;
        lpath = path;
    }
    /* The desk's own limits are its configuration (the operator's alone); other limits
     * files are reference data (no one else may change them). */
    if ((own_limits ? fsperm_check_private(lpath, "desk's risk limits file", e)
                    : fsperm_check_not_writable(lpath, "risk limits file", e)) < 0)
        return -1;
    /* The desk's own limits are a signed decision on a signed desk: the file an admin
     * signed, or (never signed, or signed away) none. */
    if (!home || limits_path)
        return risk_limits_load(lpath, out, e);
    /* read once: the bytes checked are the bytes parsed */
    char *ltext = NULL;
    size_t llen = 0;
    int rc = own_limits ? rcsv_read_file(lpath, &ltext, &llen, e) : 0;
    if (rc == 0)
        rc = audit_config_check(home, "risk-limits", ltext, llen, own_limits, NULL, 0, e);
    if (rc == 0)
        rc = own_limits ? risk_limits_parse(lpath, ltext, llen, out, e)
                        : risk_limits_load(lpath, out, e);
    free(ltext);
    return rc;
}

int risk_service_refresh(store *db, const risk_service_opts *o, risk_snapshot **out, err *e)
{
    *out = NULL;
    refresh r;
    memset(&r, 0, sizeof r);
    risk_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "out of memory");
    r.snap = s;
    s->as_of = o->now ? o->now : (int64_t)time(NULL);
    s->params = o->params;
    store_chain *chains = NULL;
    size_t n_chains = 0;
    risk_prices *pr = NULL;
    int rc = -1;

    if (risk_limits_of(o->home, o->limits_path, &s->limits, e) < 0)
        goto out;
    s->params.margin_call_hf = s->limits.margin_call_hf;
    if (o->has_drawn) {
        s->drawn = o->drawn;
    } else {
        char v[64];
        bool found;
        if (store_setting_get(db, "drawn_usd", v, sizeof v, &found, e) < 0)
            goto out;
        char *end = NULL;
        s->drawn = found ? strtod(v, &end) : 0.0;
        /* a value that is not a number >= 0 is refused, never read as nothing drawn */
        if (found && (end == v || *end || !isfinite(s->drawn) || s->drawn < 0.0)) {
            err_set(e, ERR_INVALID,
                    "the desk's drawn amount (setting drawn_usd) '%.40s' is not a number of USD "
                    ">= 0: set it again with fusion risk set-drawn USD",
                    v);
            goto out;
        }
    }
    /* A desk replaying the past (the demo) says which day it is: no close after it. */
    r.until = INT32_MAX;
    {
        char v[32];
        bool found = false;
        if (store_setting_get(db, "risk_history_until", v, sizeof v, &found, e) < 0)
            goto out;
        int32_t day;
        if (found && risk_date_parse(v, &day) == 0)
            r.until = day;
    }
    if (load_accounts(&r, o, e) < 0)
        goto out;
    if (s->n_accounts == 0 &&
        add_cond(&r, "no_accounts", "no_accounts", ALERT_INFO, NAN, NAN, e,
                 "the desk has no accounts (no keys in the key store): no wallet positions") < 0)
        goto out;
    if (store_chain_list(db, &chains, &n_chains, e) < 0)
        goto out;
    s->chains = calloc(n_chains ? n_chains : 1, sizeof *s->chains);
    if (!s->chains) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    s->n_chains = n_chains;
    for (size_t c = 0; c < n_chains; c++) {
        risk_chain_status *cs = &s->chains[c];
        cs->chain_id = chains[c].chain_id;
        snprintf(cs->name, sizeof cs->name, "%s", chains[c].name);
        if (read_chain(&r, db, &chains[c], cs, e) < 0 || check_sync(&r, db, &chains[c], cs, e) < 0)
            goto out;
    }
    if (escrow_positions(&r, db, chains, n_chains, e) < 0 ||
        bridge_positions(&r, db, o, chains, n_chains, e) < 0 || value_positions(&r, e) < 0)
        goto out;
    pr = risk_prices_new();
    if (!pr) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    if (load_history(&r, o, pr, e) < 0 || fallback_prices(&r, db, pr, e) < 0)
        goto out;
    apply_prices(s);
    if (spark_prices(&r, db, pr, e) < 0 || run_math(&r, db, o, pr, e) < 0 || limit_conds(&r, e) < 0)
        goto out;
    /* On a signed desk only its own limits and drawn amount move its alerts: a report over
     * other limits or another drawn amount would raise or clear them with no signed
     * decision. */
    if ((o->limits_path || o->has_drawn) && o->home) {
        uint8_t id[32];
        if (audit_desk_id(o->home, id, &s->what_if, e) < 0)
            goto out;
    }
    if ((!s->what_if && !o->no_alert_sync &&
         store_alert_sync(db, s->conds, s->n_conds, s->as_of, &s->raised, &s->cleared, e) < 0) ||
        store_alert_list(db, false, &s->alerts, &s->n_alerts, e) < 0)
        goto out;
    LOG_I("risk", "refresh: %zu positions, gross %.2f USD (estimate), %zu conditions, %zu "
          "alerts raised, %zu cleared", s->n_pos, s->gross_usd, s->n_conds, s->raised,
          s->cleared);
    rc = 0;
out:
    free(chains);
    free(r.tokens);
    risk_prices_free(&pr);
    if (rc < 0)
        risk_snapshot_free(&s);
    *out = s;
    return rc;
}

void risk_snapshot_free(risk_snapshot **p)
{
    if (!p || !*p)
        return;
    risk_snapshot *s = *p;
    free(s->accounts);
    free(s->chains);
    free(s->pos);
    free(s->prices);
    free(s->assets);
    if (s->has_report)
        risk_report_free(&s->report);
    free(s->report_assets);
    risk_scenarios_free(&s->scen);
    free(s->conds);
    free(s->alerts);
    free(s);
    *p = NULL;
}

int risk_alert_ack(store *s, const char *home, const char *operator_name, int64_t id,
                   int64_t now, store_alert *out, err *e)
{
    bool found = false;
    if (store_begin(s, e) < 0)
        return -1;
    int rc = store_alert_get(s, id, out, &found, e);
    if (rc == 0 && !found)
        rc = err_set(e, ERR_NOT_FOUND, "there is no alert %lld: see fusion alerts --all",
                     (long long)id);
    if (rc == 0)
        rc = store_alert_ack(s, id, operator_name, now, &found, e);
    if (rc == 0)
        rc = store_alert_get(s, id, out, &found, e);
    if (rc == 0) {
        json_t *details =
            json_pack("{s:I,s:s,s:s,s:s}", "alert", (json_int_t)id, "key", out->key, "severity",
                      alert_severity_str(out->severity), "message", out->message);
        rc = details ? store_audit(s, home, operator_name, "alert.ack", details, e)
                     : err_set(e, ERR_NOMEM, "out of memory");
        json_decref(details);
    }
    if (rc == 0)
        rc = store_commit(s, e);
    if (rc < 0)
        store_rollback(s);
    return rc;
}
