/* ccip.c: the devnet's stand-in for Chainlink CCIP on each chain — one CcipRouter (router,
 * on-ramp, lock-release token pool and off-ramp in one contract, with Chainlink's
 * IRouterClient interface) per chain, at the same address everywhere (same deployer, same
 * transactions in the same order), its lanes open to the other devnet chains under their
 * real networks' chain selectors, the devnet's tokens added and linked, its pool funded so
 * releases on the destination never wait for liquidity. Only the devnet's relayer
 * (DEVNET_CCIP_RELAYER_KEY, tools/ccip_relayer.py) may execute. See docs/bridges.md. */
#include "devnet/devnet_priv.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"

/* The pool's starting liquidity per token, in base units: 10 million USDC, 1,000 WBTC,
 * 20,000 WETH (tokens in deploy.c's order: USDC, WBTC, WETH). */
static const char *const liquidity[3] = {"10000000000000", "100000000000",
                                         "20000000000000000000000"};
/* The native fee: 0.001 coin per message, 1 gwei per byte of data, 0.0005 per token. */
#define FEES "(1000000000000000, 1000000000, 500000000000000)"

int devnet_ccip_deploy(store *db, rpc_client *rpc, devnet_sender *snd,
                       const devnet_chain_spec *sp, const addr tokens[3], err *e)
{
    addr router, relayer;
    char args[512], a_r[ADDR_STR_MAX], a_rel[ADDR_STR_MAX], a_t[3][ADDR_STR_MAX];
    uint8_t sk[32];
    int krc = devnet_dev_key(DEVNET_CCIP_RELAYER_KEY, sk);
    if (krc == 0)
        krc = addr_from_seckey(&relayer, sk);
    memset(sk, 0, sizeof sk);
    if (krc < 0)
        return err_set(e, ERR_INTERNAL, "no devnet CCIP relayer key");
    addr_to_lower(a_rel, &relayer);
    for (size_t k = 0; k < 3; k++)
        addr_to_lower(a_t[k], &tokens[k]);
    devnet_artifact *ra = NULL, *tok = NULL;
    int rc = -1;
    uint8_t hashes[1 + 4 * DEVNET_N_CHAINS + 8][32];
    size_t nh = 0;
    snprintf(args, sizeof args, "(%llu, %s)", (unsigned long long)sp->ccip_selector, a_rel);
    if (devnet_bridge_create(snd, "CcipRouter", args, &router, hashes[nh++], e) < 0)
        goto out;
    addr_to_lower(a_r, &router);
    if (devnet_artifact_load(&ra, "CcipRouter", e) < 0 ||
        devnet_artifact_load(&tok, "TestToken", e) < 0)
        goto out;
    for (size_t k = 0; k < 3; k++) {
        snprintf(args, sizeof args, "(%s)", a_t[k]);
        if (devnet_bridge_call(snd, ra, &router, "addToken", args, hashes[nh++], e) < 0)
            goto out;
    }
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        const devnet_chain_spec *o = devnet_chain(i);
        if (o == sp)
            continue;
        /* same deployer, same order: the remote router and tokens have these addresses */
        snprintf(args, sizeof args, "(%llu, %s)", (unsigned long long)o->ccip_selector, a_r);
        if (devnet_bridge_call(snd, ra, &router, "setLane", args, hashes[nh++], e) < 0)
            goto out;
        for (size_t k = 0; k < 3; k++) {
            snprintf(args, sizeof args, "(%llu, %s, %s)", (unsigned long long)o->ccip_selector,
                     a_t[k], a_t[k]);
            if (devnet_bridge_call(snd, ra, &router, "linkToken", args, hashes[nh++], e) < 0)
                goto out;
        }
    }
    if (devnet_bridge_call(snd, ra, &router, "setFees", FEES, hashes[nh++], e) < 0)
        goto out;
    for (size_t k = 0; k < 3; k++) {
        snprintf(args, sizeof args, "(%s, %s)", a_r, liquidity[k]);
        if (devnet_bridge_call(snd, tok, &tokens[k], "mint", args, hashes[nh++], e) < 0)
            goto out;
    }
    for (size_t i = 0; i < nh; i++) {
        rpc_receipt r;
        if (devnet_wait(rpc, hashes[i], 30000, &r, e) < 0)
            goto out;
        if (!r.success) {
            err_set(e, ERR_STATE, "a CCIP router set-up transaction reverted");
            goto out;
        }
        if (i == 0 && (!r.has_contract_address || !addr_equal(&r.contract_address, &router))) {
            err_set(e, ERR_STATE, "the CCIP router was not created at its predicted address");
            goto out;
        }
    }
    {
        char key[64], val[ADDR_STR_MAX];
        snprintf(key, sizeof key, "ccip_router:%llu", (unsigned long long)sp->chain_id);
        addr_to_checksum(val, &router);
        if (store_setting_put(db, key, val, "devnet", e) < 0)
            goto out;
        char sel[32];
        snprintf(key, sizeof key, "ccip_selector:%llu", (unsigned long long)sp->chain_id);
        snprintf(sel, sizeof sel, "%llu", (unsigned long long)sp->ccip_selector);
        if (store_setting_put(db, key, sel, "devnet", e) < 0)
            goto out;
    }
    LOG_I("devnet", "%s: CCIP-style router %s (selector %llu)", sp->name, a_r,
          (unsigned long long)sp->ccip_selector);
    rc = 0;
out:
    devnet_artifact_free(&ra);
    devnet_artifact_free(&tok);
    return rc < 0 ? err_prefix(e, "%s: CCIP router", sp->name) : 0;
}
