/* health.c: a facility's collateral and health. The pure part values eligible collateral
 * (Aave terms: haircut h = 1 - LTV, liquidation threshold LT); the service part reads each
 * chain's CollateralVault balances of the counterparty's linked addresses (the synced
 * deposits, withdrawals and seizures through the chain's synced block, checked against the
 * vault's balanceOf at that block; the head's balanceOf on a chain the desk does not sync)
 * and prices them with the desk's latest observed oracle rounds. */
#include "credit/service.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/keccak.h"
#include "risk/service.h"
#include "rpc/rpc.h"
#include "rpc/rpc_chain.h"

void credit_health_compute(const credit_value *v, size_t n, double owed_usd, credit_health *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out->collateral_usd += v[i].value_usd;
        out->borrowing_base_usd += v[i].value_usd * (1.0 - v[i].haircut);
        out->lt_value_usd += v[i].value_usd * v[i].liq_threshold;
    }
    out->owed_usd = owed_usd;
    out->health_factor = owed_usd > 0.0 ? out->lt_value_usd / owed_usd : INFINITY;
}

/* base units -> a double in whole tokens */
double credit_units_double(const u256 *u, unsigned decimals)
{
    double v = 0.0;
    for (int i = 3; i >= 0; i--)
        v = v * 18446744073709551616.0 + (double)u->w[i];
    return v / pow(10.0, (double)decimals);
}

/* Decimal round ids compared as numbers. */
static int round_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

/* The latest observed answer of a feed of asset (any chain), in USD, with its update time
 * and the max age of its feed (0: not set). */
static int price_latest(store *s, const char *asset, double *out, bool *found,
                        int64_t *updated_at, int64_t *max_age, err *e)
{
    *found = false;
    store_feed *feeds = NULL;
    size_t nf = 0;
    if (store_feed_list(s, 0, &feeds, &nf, e) < 0)
        return -1;
    int64_t best = -1;
    char best_round[32] = "";
    int rc = 0;
    for (size_t i = 0; i < nf && rc == 0; i++) {
        if (strcmp(feeds[i].asset, asset) != 0)
            continue;
        store_price_obs *obs = NULL;
        size_t no = 0;
        if (store_price_obs_list(s, feeds[i].chain_id, &feeds[i].address, &obs, &no, e) < 0) {
            rc = -1;
            break;
        }
        for (size_t k = 0; k < no; k++) {
            /* the newest round: by update time, then (same second) by round id */
            if (obs[k].updated_at < best ||
                (obs[k].updated_at == best && round_cmp(obs[k].round_id, best_round) <= 0))
                continue;
            /* a round outside the risk service's price range is no price (a feed answering
             * 1e30 USD would make any facility healthy), as a non-number is not */
            char *end;
            double a = strtod(obs[k].answer, &end);
            double px = a / pow(10.0, (double)feeds[i].decimals);
            if (*end || !risk_price_ok(px))
                continue;
            best = obs[k].updated_at;
            snprintf(best_round, sizeof best_round, "%s", obs[k].round_id);
            *out = px;
            *updated_at = best;
            *max_age = feeds[i].max_age;
            *found = true;
        }
        free(obs);
    }
    free(feeds);
    return rc;
}

int credit_price_usd(store *s, const char *asset, double *out, bool *found, err *e)
{
    int64_t at, max_age;
    return price_latest(s, asset, out, found, &at, &max_age, e);
}

/* As credit_price_usd, for a credit decision: with now > 0, a price older than its feed's
 * max age (else desk_max_age, the desk's limit price_max_age_s; else the shipped default)
 * is an error, never taken as current. */
static int price_fresh(store *s, const char *asset, int64_t now, int64_t desk_max_age,
                       double *out, bool *found, err *e)
{
    int64_t at = 0, max_age = 0;
    if (price_latest(s, asset, out, found, &at, &max_age, e) < 0)
        return -1;
    if (!*found || now <= 0)
        return 0;
    const char *whose = "its feed's", *which = "";
    if (max_age <= 0) {
        whose = "the desk's";
        which = " (price_max_age_s)";
        max_age = desk_max_age;
    }
    if (max_age <= 0) {
        risk_limits l;
        risk_limits_default(&l);
        max_age = l.price_max_age;
    }
    if (now - at > max_age)
        return err_set(e, ERR_STATE,
                       "the latest observed price of %s is %llds old, older than %s "
                       "max age %llds%s: read the feeds (fusion risk report), or give a feed "
                       "that updates less often its max age (fusion asset add-feed ... "
                       "--max-age SECONDS)",
                       asset, (long long)(now - at), whose, (long long)max_age, which);
    return 0;
}

static const char *const par_assets[] = {"USDC", "USDT", "DAI"};

bool credit_par_asset(const char *asset)
{
    for (size_t i = 0; i < sizeof par_assets / sizeof *par_assets; i++)
        if (!strcmp(asset, par_assets[i]))
            return true;
    return false;
}

int credit_currency_usd(store *s, const store_credit_facility *f, int64_t now, int64_t max_age,
                        double *px,
                        err *e)
{
    bool found;
    if (price_fresh(s, f->currency, now, max_age, px, &found, e) < 0)
        return err_prefix(e, "facility %s", f->name);
    if (found)
        return 0;
    if (credit_par_asset(f->currency)) {
        *px = 1.0; /* a USD stablecoin without a feed is taken at par */
        return 0;
    }
    return err_set(e, ERR_STATE,
                   "facility %s is in %s, which has no observed oracle price and is not a USD "
                   "stablecoin valued at par (" CREDIT_PAR_ASSETS "): what it owes cannot be "
                   "valued; add a %s feed (fusion asset add-feed) and read it (fusion risk "
                   "report)",
                   f->name, f->currency, f->currency);
}

static int vault_balance_at(rpc_client *rpc, const addr *vault, const addr *owner,
                            const addr *token, const char *tag, u256 *out, err *e)
{
    uint8_t data[4 + 64] = {0}, sel[32];
    static const char sig[] = "balanceOf(address,address)";
    keccak256(sel, sig, strlen(sig));
    memcpy(data, sel, 4);
    memcpy(data + 4 + 12, owner->b, ADDR_LEN);
    memcpy(data + 36 + 12, token->b, ADDR_LEN);
    buf r = {0};
    int rc = rpc_eth_call(rpc, vault, data, sizeof data, tag, &r, e);
    if (rc == 0 && r.len != 32)
        rc = err_set(e, ERR_INVALID, "the collateral vault answered %zu bytes to balanceOf "
                                     "(is it a CollateralVault?)",
                     r.len);
    if (rc == 0)
        u256_from_be(out, r.data);
    buf_free(&r);
    return rc;
}

static int vault_balance(rpc_client *rpc, const addr *vault, const addr *owner, const addr *token,
                         u256 *out, err *e)
{
    return vault_balance_at(rpc, vault, owner, token, NULL, out, e);
}

/* Where a chain's collateral is read: *block the chain's synced block when the vault is a
 * synced contract there (`kind vault`) and the chain has synced past its deployment; 0 when
 * not (a chain the desk does not sync: the vault's state at the head). */
static int read_point(store *s, uint64_t chain, const addr *vault, uint64_t *block, err *e)
{
    *block = 0;
    store_contract *ks = NULL;
    size_t nk = 0;
    if (store_contract_list(s, chain, &ks, &nk, e) < 0)
        return -1;
    bool synced_kind = false;
    uint64_t deployed = 0;
    for (size_t i = 0; i < nk; i++)
        if (ks[i].kind == STORE_CONTRACT_VAULT && addr_equal(&ks[i].address, vault)) {
            synced_kind = true;
            deployed = ks[i].deployed_block;
        }
    free(ks);
    if (!synced_kind)
        return 0;
    store_checkpoint cp;
    if (store_checkpoint_get(s, chain, &cp, e) < 0)
        return -1;
    if (cp.synced && cp.synced_block >= deployed)
        *block = cp.synced_block;
    return 0;
}

/* owner's collateral of token in the vault: at a synced block, the synced flows, checked
 * against the vault's own balanceOf at that block (a difference means events are missing:
 * an error, never a guess); else balanceOf at the head. */
static int collateral_of(store *s, rpc_client *rpc, uint64_t chain, const addr *vault,
                         uint64_t block, const addr *owner, const addr *token, u256 *out, err *e)
{
    if (block == 0)
        return vault_balance(rpc, vault, owner, token, out, e);
    size_t nf;
    if (store_vault_balance(s, chain, vault, owner, token, block, out, &nf, e) < 0)
        return -1;
    char tag[24];
    snprintf(tag, sizeof tag, "0x%llx", (unsigned long long)block);
    u256 onchain;
    if (vault_balance_at(rpc, vault, owner, token, tag, &onchain, e) < 0)
        return -1;
    if (u256_cmp(&onchain, out) != 0) {
        char a[U256_DEC_MAX], b[U256_DEC_MAX], o[ADDR_STR_MAX];
        u256_to_dec(a, out);
        u256_to_dec(b, &onchain);
        addr_to_checksum(o, owner);
        return err_set(e, ERR_STATE,
                       "the synced vault events give %s %s units at block %llu but the vault "
                       "holds %s then: events are missing (the vault was added after sync "
                       "had passed its deployment: remove and add the chain again with "
                       "--from-block, then fusion sync)",
                       o, a, (unsigned long long)block, b);
    }
    return 0;
}

/* A stored percent term as a fraction; missing or not a number 0..100 is an error (never a
 * 0 % haircut or threshold). */
static int pct_field(const store_credit_facility *f, json_t *c, const char *k, double *out,
                     err *e)
{
    const char *s = json_string_value(json_object_get(c, k));
    const char *asset = json_string_value(json_object_get(c, "asset"));
    char *end = NULL;
    double v = s && *s ? strtod(s, &end) : NAN;
    if (!end || *end || !(v >= 0.0 && v <= 100.0))
        return err_set(e, ERR_INVALID,
                       "facility %s: the stored collateral term %s of %s is missing or not a "
                       "percent: set it with credit facility edit %s --terms "
                       "%s=HAIRCUT_PCT/LT_PCT",
                       f->name, k, asset ? asset : "?", f->name, asset ? asset : "ASSET");
    *out = v / 100.0;
    return 0;
}

int credit_health_load(store *s, const store_credit_facility *f, const u256 *owed,
                       int64_t max_age, credit_health *out, credit_position **pos,
                       size_t *n_pos, err *e)
{
    *pos = NULL;
    *n_pos = 0;
    int64_t now = (int64_t)time(NULL); /* prices older than their max age are refused */
    json_error_t je;
    json_t *vaults = json_loads(f->vaults[0] ? f->vaults : "[]", 0, &je);
    json_t *coll = json_loads(f->collateral, 0, &je);
    store_entity_link *links = NULL;
    size_t n_links = 0, cap = 0;
    credit_value *vals = NULL;
    rpc_client *rpc = NULL;
    int rc = -1;
    if (!json_is_array(vaults) || !json_is_array(coll)) {
        err_set(e, ERR_INVALID, "facility %s: stored vaults or collateral are malformed", f->name);
        goto out;
    }
    if (store_entity_links(s, f->entity_id, &links, &n_links, e) < 0)
        goto out;
    size_t vi;
    json_t *v;
    json_array_foreach(vaults, vi, v)
    {
        uint64_t chain = (uint64_t)json_integer_value(json_object_get(v, "chain_id"));
        addr vault;
        if (addr_parse(&vault, json_string_value(json_object_get(v, "address")), e) < 0)
            goto out;
        store_token *toks = NULL;
        size_t nt = 0;
        if (store_token_list(s, chain, &toks, &nt, e) < 0)
            goto out;
        rpc_client_free(&rpc);
        uint64_t block = 0;
        if (read_point(s, chain, &vault, &block, e) < 0 ||
            rpc_chain_client(&rpc, s, chain, NULL, e) < 0) {
            free(toks);
            goto out;
        }
        size_t ci;
        json_t *c;
        json_array_foreach(coll, ci, c)
        {
            const char *asset = json_string_value(json_object_get(c, "asset"));
            for (size_t t = 0; t < nt; t++) {
                if (strcmp(toks[t].symbol, asset) != 0)
                    continue;
                u256 sum = u256_from_u64(0);
                for (size_t l = 0; l < n_links; l++) {
                    if (links[l].chain_id != 0 && links[l].chain_id != chain)
                        continue;
                    u256 b;
                    if (collateral_of(s, rpc, chain, &vault, block, &links[l].address,
                                      &toks[t].address, &b, e) < 0 ||
                        u256_add(&sum, &sum, &b) < 0) {
                        free(toks);
                        err_prefix(e, "chain %llu, vault balance of %s", (unsigned long long)chain,
                                   asset);
                        goto out;
                    }
                }
                if (*n_pos == cap) {
                    cap = cap ? cap * 2 : 8;
                    credit_position *g = realloc(*pos, cap * sizeof *g);
                    if (!g) {
                        free(toks);
                        err_set(e, ERR_NOMEM, "out of memory valuing collateral");
                        goto out;
                    }
                    *pos = g;
                }
                credit_position *p = &(*pos)[(*n_pos)++];
                memset(p, 0, sizeof *p);
                p->chain_id = chain;
                snprintf(p->asset, sizeof p->asset, "%s", asset);
                p->units = sum;
                p->block = block;
                p->decimals = toks[t].decimals;
                if (pct_field(f, c, "haircut_pct", &p->haircut, e) < 0 ||
                    pct_field(f, c, "liq_threshold_pct", &p->liq_threshold, e) < 0) {
                    free(toks);
                    goto out;
                }
                /* the risk loader's rule (src/risk/terms.c): LT never below 1 - haircut */
                if (p->liq_threshold < 1.0 - p->haircut - 1e-12) {
                    err_set(e, ERR_INVALID,
                            "facility %s: the stored liquidation threshold of %s is below its "
                            "LTV (100 - haircut): set its terms with credit facility edit %s "
                            "--terms %s=HAIRCUT_PCT/LT_PCT",
                            f->name, asset, f->name, asset);
                    free(toks);
                    goto out;
                }
            }
        }
        free(toks);
    }
    vals = calloc(*n_pos ? *n_pos : 1, sizeof *vals);
    if (!vals) {
        err_set(e, ERR_NOMEM, "out of memory valuing collateral");
        goto out;
    }
    for (size_t i = 0; i < *n_pos; i++) {
        credit_position *p = &(*pos)[i];
        bool found;
        if (u256_is_zero(&p->units))
            found = true, p->price_usd = 0.0;
        else if (price_fresh(s, p->asset, now, max_age, &p->price_usd, &found, e) < 0)
            goto out;
        if (!found) {
            err_set(e, ERR_STATE,
                    "no observed oracle price for %s: add its feed (fusion asset add-feed) and let "
                    "the risk service read it (fusion risk report)",
                    p->asset);
            goto out;
        }
        p->value_usd = credit_units_double(&p->units, p->decimals) * p->price_usd;
        vals[i] = (credit_value){p->value_usd, p->haircut, p->liq_threshold};
    }
    /* what is owed, in USD: nothing owed needs no price */
    double ccy = 0.0;
    if (!u256_is_zero(owed) && credit_currency_usd(s, f, now, max_age, &ccy, e) < 0)
        goto out;
    credit_health_compute(vals, *n_pos, credit_units_double(owed, f->decimals) * ccy, out);
    rc = 0;
out:
    if (rc < 0) {
        free(*pos);
        *pos = NULL;
        *n_pos = 0;
    }
    rpc_client_free(&rpc);
    free(vals);
    free(links);
    json_decref(vaults);
    json_decref(coll);
    return rc;
}

double credit_seize_usd(const credit_health *h, double target, double lt, double available)
{
    if (!(target > lt))
        return available; /* seizing this asset cannot raise HF to the target: all of it */
    double sz = (target * h->owed_usd - h->lt_value_usd) / (target - lt);
    if (!(sz > 0.0))
        return 0.0;
    return sz < available ? sz : available;
}

int credit_seize_target(store *s, const store_credit_facility *f, uint64_t chain_id,
                        const char *asset, addr *vault, addr *token, addr *owner, u256 *balance,
                        err *e)
{
    json_error_t je;
    json_t *vaults = json_loads(f->vaults[0] ? f->vaults : "[]", 0, &je);
    store_token *toks = NULL;
    store_entity_link *links = NULL;
    size_t nt = 0, nl = 0;
    rpc_client *rpc = NULL;
    int rc = -1;
    bool have_vault = false, have_token = false, have_owner = false;
    size_t i;
    json_t *v;
    json_array_foreach(vaults, i, v)
    {
        if ((uint64_t)json_integer_value(json_object_get(v, "chain_id")) == chain_id &&
            addr_parse(vault, json_string_value(json_object_get(v, "address")), e) == 0)
            have_vault = true;
    }
    if (!have_vault) {
        err_set(e, ERR_NOT_FOUND, "facility %s has no vault on chain %llu", f->name,
                (unsigned long long)chain_id);
        goto out;
    }
    if (store_token_list(s, chain_id, &toks, &nt, e) < 0)
        goto out;
    for (size_t t = 0; t < nt; t++)
        if (!strcmp(toks[t].symbol, asset)) {
            *token = toks[t].address;
            have_token = true;
        }
    if (!have_token) {
        err_set(e, ERR_NOT_FOUND, "no token %s on chain %llu (fusion asset list)", asset,
                (unsigned long long)chain_id);
        goto out;
    }
    if (store_entity_links(s, f->entity_id, &links, &nl, e) < 0 ||
        rpc_chain_client(&rpc, s, chain_id, NULL, e) < 0)
        goto out;
    *balance = u256_from_u64(0);
    for (size_t l = 0; l < nl; l++) {
        if (links[l].chain_id != 0 && links[l].chain_id != chain_id)
            continue;
        u256 b;
        if (vault_balance(rpc, vault, &links[l].address, token, &b, e) < 0)
            goto out;
        if (!have_owner || u256_cmp(&b, balance) > 0) {
            *owner = links[l].address;
            *balance = b;
            have_owner = true;
        }
    }
    if (!have_owner || u256_is_zero(balance)) {
        err_set(e, ERR_STATE, "no linked address of facility %s holds %s in its vault on chain "
                              "%llu",
                f->name, asset, (unsigned long long)chain_id);
        goto out;
    }
    rc = 0;
out:
    rpc_client_free(&rpc);
    free(links);
    free(toks);
    json_decref(vaults);
    return rc;
}

int credit_vault_request_count(store *s, uint64_t chain_id, const addr *vault, uint64_t *out,
                               err *e)
{
    uint8_t sel[32];
    static const char sig[] = "requestCount()";
    keccak256(sel, sig, strlen(sig));
    rpc_client *rpc = NULL;
    if (rpc_chain_client(&rpc, s, chain_id, NULL, e) < 0)
        return -1;
    buf r = {0};
    int rc = rpc_eth_call(rpc, vault, sel, 4, NULL, &r, e);
    u256 v;
    if (rc == 0 && r.len != 32)
        rc = err_set(e, ERR_INVALID, "the vault answered %zu bytes to requestCount", r.len);
    if (rc == 0) {
        u256_from_be(&v, r.data);
        if (!u256_to_u64(&v, out))
            rc = err_set(e, ERR_INVALID, "the vault's requestCount is out of range");
    }
    buf_free(&r);
    rpc_client_free(&rpc);
    return rc;
}
