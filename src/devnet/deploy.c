/* deploy.c: what `fusion devnet up` puts on each fresh chain — EscrowFactoryV2 (the one
 * the desk creates escrows with), EscrowFactory (version 1, which the demo's seeded trading
 * uses), HashedTimelock, three test tokens (USDC 6, WBTC 8, WETH 18 decimals) and seven
 * Chainlink-style USD feeds (ETH, BTC, USDC, WETH, WBTC, POL, AVAX; 8 decimals, starting at the
 * last real close of data/prices) — deployed by transactions fusion signs with the deployer key
 * (anvil dev key #0, imported into the desk key store), and recorded in the desk: chain, endpoint,
 * contracts (kinds factory/htlc/token/feed), tokens and price_feeds (the risk service's table:
 * which asset each feed prices). A CollateralVault (docs/credit.md) for the credit facilities,
 * approved 2 of 2 by the demo's approvers (anvil dev keys #2 and #3), is deployed too; its
 * address is the desk setting credit_vault:CHAIN_ID (`credit facility add --vault`); then the
 * CCTP-style bridge contracts (cctp.c) and the CCIP-style router (ccip.c). */
#include "devnet/devnet_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "eth/abi.h"

#define N_TOKENS 3
#define N_FEEDS DEVNET_N_FEEDS

static const struct {
    const char *symbol, *name;
    unsigned decimals;
} tokens[N_TOKENS] = {
    {"USDC", "USD Coin (devnet)", 6},
    {"WBTC", "Wrapped BTC (devnet)", 8},
    {"WETH", "Wrapped Ether (devnet)", 18},
};

int devnet_open_desk(const char *home, store **out, err *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", home);
    return store_open(out, path, e);
}

int devnet_dev_import(keystore *ks, size_t i, const char *label, addr *out, bool *imported, err *e)
{
    ks_params p = keystore_params_level(KS_LEVEL_INTERACTIVE);
    keystore_set_params(ks, &p);
    *imported = false;
    uint8_t sk[32];
    if (devnet_dev_key(i, sk) < 0)
        return err_set(e, ERR_INVALID, "no anvil dev key #%zu", i);
    int rc = addr_from_seckey(out, sk);
    ks_entry ent;
    err ignored;
    if (rc < 0) {
        err_set(e, ERR_CRYPTO, "anvil dev key #%zu is not a valid key", i);
    } else if (keystore_get(ks, out, &ent, &ignored) < 0) {
        rc = keystore_import_raw(ks, sk, label, DEVNET_DEMO_PASSPHRASE, out, e);
        *imported = rc == 0;
    }
    memset(sk, 0, sizeof sk);
    return rc;
}

int devnet_dev_signer(keystore *ks, size_t i, const char *label, ks_key **key, err *e)
{
    addr a;
    bool imported;
    if (devnet_dev_import(ks, i, label, &a, &imported, e) < 0)
        return -1;
    if (keystore_unlock(ks, &a, DEVNET_DEMO_PASSPHRASE, key, e) < 0)
        return err_prefix(e, "unlocking dev key #%zu (label \"%s\") with the demo passphrase", i,
                          label);
    return 0;
}

/* True when the desk knows this chain and its factory has code on the node: deployed. */
static bool already_deployed(store *db, rpc_client *rpc, uint64_t chain_id)
{
    store_contract *cs = NULL;
    size_t n = 0;
    err e;
    if (store_contract_list(db, chain_id, &cs, &n, &e) < 0)
        return false;
    bool ok = false;
    for (size_t i = 0; i < n && !ok; i++) {
        if (cs[i].kind != STORE_CONTRACT_FACTORY)
            continue;
        buf code;
        buf_init(&code);
        ok = rpc_eth_get_code(rpc, &cs[i].address, NULL, &code, &e) == 0 && code.len > 0;
        buf_free(&code);
    }
    free(cs);
    return ok;
}

typedef struct deployed {
    store_contract_kind kind;
    int index; /* token or feed index */
    unsigned version; /* factories */
    uint8_t hash[32];
    addr address;
    uint64_t block;
} deployed;

static int send_create(devnet_sender *snd, const char *artifact, const char *args, deployed *d,
                       err *e)
{
    devnet_artifact *a = NULL;
    if (devnet_artifact_load(&a, artifact, e) < 0)
        return -1;
    buf data;
    buf_init(&data);
    int rc = devnet_artifact_deploy_data(a, args, &data, e);
    if (rc == 0)
        rc = devnet_send(snd, NULL, NULL, data.data, data.len, 0, d->hash, e);
    if (rc < 0)
        err_prefix(e, "deploying %s", artifact);
    buf_free(&data);
    devnet_artifact_free(&a);
    return rc;
}

/* A feed's first round, as the node reports it (latestRoundData), stored as an observed
 * round: screening prices its amount rules from the desk's observed rounds, and the first
 * escrows of the demo are screened before the risk service has read any feed. */
static int observe_feed(store *db, rpc_client *rpc, uint64_t chain_id, const addr *feed, err *e)
{
    uint8_t sel[4];
    buf out;
    buf_init(&out);
    if (abi_selector(sel, "latestRoundData()", e) < 0 ||
        rpc_eth_call(rpc, feed, sel, sizeof sel, "latest", &out, e) < 0) {
        buf_free(&out);
        return -1;
    }
    if (out.len < 5 * 32) {
        buf_free(&out);
        return err_set(e, ERR_RPC, "a new price feed answered latestRoundData with %zu bytes",
                       out.len);
    }
    u256 round, answer, updated;
    u256_from_be(&round, out.data);
    u256_from_be(&answer, out.data + 32);
    u256_from_be(&updated, out.data + 3 * 32);
    buf_free(&out);
    store_price_obs o;
    memset(&o, 0, sizeof o);
    o.chain_id = chain_id;
    o.feed = *feed;
    char dec[U256_DEC_MAX];
    u256_to_dec(dec, &round); /* a uint80: at most 25 digits */
    if (strlen(dec) >= sizeof o.round_id)
        return err_set(e, ERR_RPC, "a new price feed reports a round id beyond uint80");
    memcpy(o.round_id, dec, strlen(dec) + 1);
    u256_to_dec(dec, &answer); /* the devnet's feeds start positive */
    snprintf(o.answer, sizeof o.answer, "%s", dec);
    uint64_t t;
    if (!u256_to_u64(&updated, &t) || t > INT64_MAX)
        return err_set(e, ERR_RPC, "a new price feed reports an impossible updatedAt");
    o.updated_at = (int64_t)t;
    bool inserted;
    return store_price_obs_put(db, &o, &inserted, e);
}

static int deploy_chain(store *db, rpc_client *rpc, ks_key *deployer, const devnet_node *nd,
                        const devnet_closes closes[N_FEEDS], err *e)
{
    const devnet_chain_spec *sp = nd->spec;
    devnet_sender snd;
    devnet_sender_init(&snd, rpc, deployer, sp->chain_id);
    deployed d[3 + N_TOKENS + N_FEEDS], vault;
    memset(&vault, 0, sizeof vault);
    size_t nd_ = 0;
    memset(d, 0, sizeof d);
    char args[256];

    bool cancun = false;
    if (rpc_probe_cancun(rpc, &cancun, e) < 0)
        return err_prefix(e, "%s", sp->name);
    if (!cancun)
        return err_set(e, ERR_DENIED,
                       "%s does not execute transient storage (EIP-1153, Cancun), which the "
                       "contracts need: refusing to deploy there",
                       sp->name);
    d[nd_].kind = STORE_CONTRACT_FACTORY;
    d[nd_].version = 2;
    if (send_create(&snd, "EscrowFactoryV2", NULL, &d[nd_++], e) < 0)
        return -1;
    d[nd_].kind = STORE_CONTRACT_FACTORY;
    d[nd_].version = 1;
    if (send_create(&snd, "EscrowFactory", NULL, &d[nd_++], e) < 0)
        return -1;
    d[nd_].kind = STORE_CONTRACT_HTLC;
    if (send_create(&snd, "HashedTimelock", NULL, &d[nd_++], e) < 0)
        return -1;
    for (int i = 0; i < N_TOKENS; i++) {
        snprintf(args, sizeof args, "(\"%s\", \"%s\", %u)", tokens[i].name, tokens[i].symbol,
                 tokens[i].decimals);
        d[nd_].kind = STORE_CONTRACT_TOKEN;
        d[nd_].index = i;
        if (send_create(&snd, "TestToken", args, &d[nd_++], e) < 0)
            return -1;
    }
    for (int i = 0; i < N_FEEDS; i++) {
        char dec[U256_DEC_MAX];
        u256_to_dec(dec, &closes[i].answer[closes[i].n - 1]);
        snprintf(args, sizeof args, "(8, \"%s / USD\", %s)", devnet_feed_asset(i), dec);
        d[nd_].kind = STORE_CONTRACT_FEED;
        d[nd_].index = i;
        if (send_create(&snd, "MockPriceFeed", args, &d[nd_++], e) < 0)
            return -1;
    }
    /* The collateral vault: the demo's approvers (data/demo/operators.csv: bob #2, carol #3). */
    {
        addr ap[2];
        char a0[ADDR_STR_MAX], a1[ADDR_STR_MAX];
        for (size_t k = 0; k < 2; k++) {
            uint8_t sk[32];
            int krc = devnet_dev_key(2 + k, sk) < 0 ? -1 : addr_from_seckey(&ap[k], sk);
            memset(sk, 0, sizeof sk);
            if (krc < 0)
                return err_set(e, ERR_INTERNAL, "no anvil dev key #%zu", 2 + k);
        }
        addr_to_checksum(a0, &ap[0]);
        addr_to_checksum(a1, &ap[1]);
        snprintf(args, sizeof args, "([%s, %s], 2)", a0, a1);
        if (send_create(&snd, "CollateralVault", args, &vault, e) < 0)
            return -1;
        rpc_receipt r;
        if (devnet_wait(rpc, vault.hash, 30000, &r, e) < 0)
            return err_prefix(e, "%s", sp->name);
        if (!r.has_contract_address)
            return err_set(e, ERR_RPC, "%s: the vault's receipt has no contract address",
                           sp->name);
        vault.address = r.contract_address;
        vault.block = r.block_number;
    }
    for (size_t i = 0; i < nd_; i++) {
        rpc_receipt r;
        if (devnet_wait(rpc, d[i].hash, 30000, &r, e) < 0)
            return err_prefix(e, "%s", sp->name);
        if (!r.has_contract_address)
            return err_set(e, ERR_RPC, "%s: a deployment receipt has no contract address",
                           sp->name);
        d[i].address = r.contract_address;
        d[i].block = r.block_number;
    }

    if (store_begin(db, e) < 0)
        return -1;
    store_chain c;
    memset(&c, 0, sizeof c);
    c.chain_id = sp->chain_id;
    snprintf(c.name, sizeof c.name, "%s", sp->name);
    c.confirmations = 2;
    snprintf(c.native_symbol, sizeof c.native_symbol, "%s", sp->native_symbol);
    c.native_decimals = 18;
    c.start_block = 0;
    if (store_chain_add(db, &c, e) < 0 || store_endpoint_add(db, sp->chain_id, nd->url, 0, e) < 0)
        goto fail;
    for (size_t i = 0; i < nd_; i++) {
        store_contract sc = {sp->chain_id, d[i].kind, d[i].address, d[i].block, d[i].version};
        if (store_contract_put(db, &sc, e) < 0)
            goto fail;
        if (d[i].kind == STORE_CONTRACT_TOKEN) {
            store_token t;
            memset(&t, 0, sizeof t);
            t.chain_id = sp->chain_id;
            snprintf(t.symbol, sizeof t.symbol, "%s", tokens[d[i].index].symbol);
            t.address = d[i].address;
            t.decimals = tokens[d[i].index].decimals;
            if (store_token_put(db, &t, e) < 0)
                goto fail;
        } else if (d[i].kind == STORE_CONTRACT_FEED) {
            store_feed f;
            memset(&f, 0, sizeof f);
            f.chain_id = sp->chain_id;
            f.address = d[i].address;
            snprintf(f.asset, sizeof f.asset, "%s", devnet_feed_asset((size_t)d[i].index));
            f.decimals = 8;
            f.max_age = 0; /* the desk's limit */
            if (store_feed_put(db, &f, e) < 0)
                goto fail;
        }
    }
    {
        char key[64], va[ADDR_STR_MAX];
        /* synced: its deposits, withdrawals and seizures are the facilities' collateral */
        store_contract vk = {sp->chain_id, STORE_CONTRACT_VAULT, vault.address, vault.block, 1};
        if (store_contract_put(db, &vk, e) < 0)
            goto fail;
        snprintf(key, sizeof key, "credit_vault:%llu", (unsigned long long)sp->chain_id);
        addr_to_checksum(va, &vault.address);
        if (store_setting_put(db, key, va, "devnet", e) < 0)
            goto fail;
    }
    if (store_commit(db, e) < 0)
        goto fail;
    for (size_t i = 0; i < nd_; i++)
        if (d[i].kind == STORE_CONTRACT_FEED &&
            observe_feed(db, rpc, sp->chain_id, &d[i].address, e) < 0)
            return err_prefix(e, "%s", sp->name);
    for (size_t i = 0; i < nd_; i++)
        if (d[i].kind == STORE_CONTRACT_TOKEN && d[i].index == 0 &&
            devnet_cctp_deploy(db, rpc, &snd, sp, &d[i].address, e) < 0)
            return -1;
    {
        addr toks[N_TOKENS];
        for (size_t i = 0; i < nd_; i++)
            if (d[i].kind == STORE_CONTRACT_TOKEN)
                toks[d[i].index] = d[i].address;
        if (devnet_ccip_deploy(db, rpc, &snd, sp, toks, e) < 0)
            return -1;
    }
    LOG_I("devnet", "%s: deployed %zu contracts", sp->name, nd_);
    return 0;
fail:
    store_rollback(db);
    return err_prefix(e, "recording %s", sp->name);
}

int devnet_deploy_all(const devnet_opts *o, devnet_node nodes[DEVNET_N_CHAINS], err *e)
{
    store *db = NULL;
    keystore *ks = NULL;
    ks_key *deployer = NULL;
    devnet_closes closes[N_FEEDS];
    memset(closes, 0, sizeof closes);
    int rc = -1;
    if (devnet_open_desk(o->home, &db, e) < 0)
        goto out;
    for (int i = 0; i < N_FEEDS; i++)
        if (devnet_closes_load(&closes[i], devnet_feed_series(devnet_feed_asset((size_t)i)), e) < 0)
            goto out;
    if (keystore_open(&ks, o->home, o->operator_name ? o->operator_name : "devnet", e) < 0 ||
        devnet_dev_signer(ks, 0, "deployer (anvil #0)", &deployer, e) < 0)
        goto out;
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        const char *urls[] = {nodes[i].url};
        rpc_options ro;
        rpc_options_default(&ro);
        rpc_client *rpc = NULL;
        if (rpc_client_new(&rpc, urls, 1, &ro, e) < 0)
            goto out;
        int r = 0;
        if (!already_deployed(db, rpc, nodes[i].spec->chain_id)) {
            /* A fresh node (the previous one was stopped): what the desk remembers of
             * the old chain is gone with it. */
            store_chain old;
            bool found = false;
            r = store_chain_get(db, nodes[i].spec->chain_id, &old, &found, e);
            if (r == 0 && found)
                r = store_chain_remove(db, nodes[i].spec->chain_id, e);
            if (r == 0)
                r = deploy_chain(db, rpc, deployer, &nodes[i], closes, e);
            nodes[i].deployed_now = r == 0;
        }
        rpc_client_free(&rpc);
        if (r < 0)
            goto out;
    }
    rc = 0;
out:
    keystore_lock(&deployer);
    keystore_free(&ks);
    for (int i = 0; i < N_FEEDS; i++)
        devnet_closes_free(&closes[i]);
    store_close(&db);
    return rc;
}
