/* cctp.c: the devnet's stand-in for Circle's CCTP on each chain — a MessageTransmitter
 * (the chain's CCTP domain, the devnet attester's address) and a TokenMessenger that is
 * the chain's USDC minter, linked to the messengers and USDC of the other devnet chains.
 * The deployer sends the same transactions in the same order on every chain, so each
 * contract has the same address everywhere and the links are known locally. Recorded in
 * the desk's bridge_cctp table. See docs/bridges.md. */
#include "devnet/devnet_priv.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "crypto/keccak.h"
#include "eth/rlp.h"

/* Circle's published limit per burn is 10 million USDC; the devnet uses the same. */
#define BURN_LIMIT "10000000000000"

const devnet_chain_spec *devnet_chain_by_id(uint64_t chain_id)
{
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++)
        if (devnet_chain(i)->chain_id == chain_id)
            return devnet_chain(i);
    return NULL;
}

int devnet_attester(addr *out)
{
    uint8_t sk[32];
    int rc = devnet_dev_key(DEVNET_ATTESTER_KEY, sk);
    if (rc == 0)
        rc = addr_from_seckey(out, sk);
    memset(sk, 0, sizeof sk);
    return rc;
}

/* The address a creation by snd's key at its next nonce gets: keccak256(rlp([sender,
 * nonce]))[12:]. Lets the whole set-up go out without waiting for a receipt in between. */
static int next_create_address(devnet_sender *snd, addr *out, err *e)
{
    const addr *from = keystore_key_address(snd->key);
    if (!snd->have_nonce) {
        if (rpc_eth_get_transaction_count(snd->rpc, from, "pending", &snd->nonce, e) < 0)
            return err_prefix(e, "reading the deployer's nonce");
        snd->have_nonce = true;
    }
    buf b;
    buf_init(&b);
    size_t mark;
    rlp_list_begin(&b, &mark);
    int rc = rlp_put_bytes(&b, from->b, 20, e);
    if (rc == 0)
        rc = rlp_put_u64(&b, snd->nonce, e);
    if (rc == 0)
        rc = rlp_list_end(&b, mark, e);
    if (rc == 0) {
        uint8_t h[32];
        keccak256(h, b.data, b.len);
        memcpy(out->b, h + 12, 20);
    }
    buf_free(&b);
    return rc;
}

int devnet_bridge_create(devnet_sender *snd, const char *name, const char *args, addr *out,
                         uint8_t hash[32], err *e)
{
    devnet_artifact *a = NULL;
    buf data;
    buf_init(&data);
    int rc = next_create_address(snd, out, e);
    if (rc == 0)
        rc = devnet_artifact_load(&a, name, e);
    if (rc == 0)
        rc = devnet_artifact_deploy_data(a, args, &data, e);
    /* explicit gas: the transmitter a messenger names is not mined yet when it is estimated */
    if (rc == 0)
        rc = devnet_send(snd, NULL, NULL, data.data, data.len, 3000000, hash, e);
    if (rc < 0)
        err_prefix(e, "deploying %s", name);
    buf_free(&data);
    devnet_artifact_free(&a);
    return rc;
}

int devnet_bridge_call(devnet_sender *snd, const devnet_artifact *a, const addr *to,
                       const char *fn, const char *args, uint8_t hash[32], err *e)
{
    buf data;
    buf_init(&data);
    int rc = devnet_artifact_calldata(a, fn, args, &data, e);
    /* explicit gas: the messenger is not mined yet, so there is nothing to estimate against */
    if (rc == 0)
        rc = devnet_send(snd, to, NULL, data.data, data.len, 200000, hash, e);
    buf_free(&data);
    return rc < 0 ? err_prefix(e, "%s", fn) : 0;
}

int devnet_cctp_deploy(store *db, rpc_client *rpc, devnet_sender *snd,
                       const devnet_chain_spec *sp, const addr *usdc, err *e)
{
    addr attester, mt, tm;
    char args[512], a_mt[ADDR_STR_MAX], a_tm[ADDR_STR_MAX], a_usdc[ADDR_STR_MAX],
        a_att[ADDR_STR_MAX];
    if (devnet_attester(&attester) < 0)
        return err_set(e, ERR_INTERNAL, "no devnet attester key");
    addr_to_lower(a_att, &attester);
    addr_to_lower(a_usdc, usdc);
    devnet_artifact *tma = NULL, *tok = NULL;
    int rc = -1;
    uint8_t hashes[2 * DEVNET_N_CHAINS + 4][32];
    size_t nh = 0;
    snprintf(args, sizeof args, "(%u, %s)", sp->cctp_domain, a_att);
    if (devnet_bridge_create(snd, "MessageTransmitter", args, &mt, hashes[nh++], e) < 0)
        goto out;
    addr_to_lower(a_mt, &mt);
    snprintf(args, sizeof args, "(%s)", a_mt);
    if (devnet_bridge_create(snd, "TokenMessenger", args, &tm, hashes[nh++], e) < 0)
        goto out;
    addr_to_lower(a_tm, &tm);
    if (devnet_artifact_load(&tma, "TokenMessenger", e) < 0 ||
        devnet_artifact_load(&tok, "TestToken", e) < 0)
        goto out;
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        const devnet_chain_spec *o = devnet_chain(i);
        if (o == sp)
            continue;
        /* same deployer, same order: the remote messenger and USDC have these addresses */
        snprintf(args, sizeof args, "(%u, 0x000000000000000000000000%s)", o->cctp_domain, a_tm + 2);
        if (devnet_bridge_call(snd, tma, &tm, "addRemoteTokenMessenger", args, hashes[nh++], e) < 0)
            goto out;
        snprintf(args, sizeof args, "(%s, %u, 0x000000000000000000000000%s)", a_usdc,
                 o->cctp_domain, a_usdc + 2);
        if (devnet_bridge_call(snd, tma, &tm, "linkTokenPair", args, hashes[nh++], e) < 0)
            goto out;
    }
    snprintf(args, sizeof args, "(%s, %s)", a_usdc, BURN_LIMIT);
    if (devnet_bridge_call(snd, tma, &tm, "setMaxBurnAmountPerMessage", args, hashes[nh++], e) < 0)
        goto out;
    snprintf(args, sizeof args, "(%s, true)", a_tm);
    if (devnet_bridge_call(snd, tok, usdc, "setMinter", args, hashes[nh++], e) < 0)
        goto out;
    for (size_t i = 0; i < nh; i++) {
        rpc_receipt r;
        if (devnet_wait(rpc, hashes[i], 30000, &r, e) < 0)
            goto out;
        /* the predicted addresses must be where the creations landed */
        if (i < 2 && (!r.has_contract_address ||
                      !addr_equal(&r.contract_address, i == 0 ? &mt : &tm))) {
            err_set(e, ERR_STATE, "a bridge contract was not created at its predicted address");
            goto out;
        }
    }
    store_bridge_cctp c;
    memset(&c, 0, sizeof c);
    c.chain_id = sp->chain_id;
    c.domain = sp->cctp_domain;
    c.token_messenger = tm;
    c.message_transmitter = mt;
    c.usdc = *usdc;
    if (store_bridge_cctp_put(db, &c, e) < 0)
        goto out;
    LOG_I("devnet", "%s: CCTP-style messenger %s, transmitter %s (domain %u)", sp->name, a_tm,
          a_mt, sp->cctp_domain);
    rc = 0;
out:
    devnet_artifact_free(&tma);
    devnet_artifact_free(&tok);
    return rc < 0 ? err_prefix(e, "%s: bridge contracts", sp->name) : 0;
}
