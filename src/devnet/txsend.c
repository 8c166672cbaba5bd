/* txsend.c: the devnet's transaction sender: nonce tracking, gas estimate, legacy
 * EIP-155 transactions signed through the key store (so every signature is audited),
 * eth_sendRawTransaction, and waiting for the receipt. Used for deployments, the demo's
 * market driver and escrow flow, and cross-chain settlement. */
#include <string.h>
#include <time.h>

#include "devnet/devnet.h"
#include "devnet/devnet_priv.h"
#include "eth/tx.h"

void devnet_sender_init(devnet_sender *s, rpc_client *rpc, ks_key *key, uint64_t chain_id)
{
    memset(s, 0, sizeof *s);
    s->rpc = rpc;
    s->key = key;
    s->chain_id = chain_id;
}

int devnet_send(devnet_sender *s, const addr *to, const u256 *value, const uint8_t *data,
                size_t len, uint64_t gas, uint8_t hash_out[32], err *e)
{
    buf raw;
    buf_init(&raw);
    uint8_t hash[32];
    int rc = devnet_sign(s, to, value, data, len, gas, &raw, hash, e);
    if (rc == 0)
        rc = devnet_send_raw(s, raw.data, raw.len, e);
    if (rc == 0 && hash_out)
        memcpy(hash_out, hash, 32);
    buf_free(&raw);
    return rc;
}

int devnet_send_raw(devnet_sender *s, const uint8_t *raw, size_t len, err *e)
{
    uint8_t hash[32];
    if (rpc_eth_send_raw_transaction(s->rpc, raw, len, hash, e) < 0) {
        /* The node may have moved on (another sender of this key): re-read next time. */
        s->have_nonce = false;
        return err_prefix(e, "sending a transaction");
    }
    return 0;
}

int devnet_sign(devnet_sender *s, const addr *to, const u256 *value, const uint8_t *data,
                size_t len, uint64_t gas, buf *raw_out, uint8_t hash_out[32], err *e)
{
    const addr *from = keystore_key_address(s->key);
    if (!s->have_nonce) {
        if (rpc_eth_get_transaction_count(s->rpc, from, "pending", &s->nonce, e) < 0)
            return err_prefix(e, "reading the sender's nonce");
        s->have_nonce = true;
    }
    u256 zero = u256_from_u64(0);
    if (gas == 0) {
        rpc_call_args a = {from, to, value, data, len};
        uint64_t est;
        if (rpc_eth_estimate_gas(s->rpc, &a, &est, e) < 0)
            return err_prefix(e, "estimating gas");
        gas = est + est / 4 + 10000;
    }
    /* Type 2 with a fixed 1 gwei tip and a fee cap of twice the node's price. Not a legacy
     * price of twice the node's price: anvil suggests a price from recent transactions'
     * tips, so paying double every time doubles the suggestion block after block (the base
     * fee reached 90,000 gwei in 16 s of demo and drained the dev accounts). */
    u256 price;
    if (rpc_eth_gas_price(s->rpc, &price, e) < 0)
        return err_prefix(e, "reading the gas price");
    u256 two = u256_from_u64(2), tip = u256_from_u64(1000000000);
    if (u256_mul(&price, &price, &two) < 0)
        return err_set(e, ERR_RPC, "the node's gas price is out of range");
    if (u256_cmp(&price, &tip) < 0)
        price = tip;

    eth_tx tx;
    tx_init(&tx);
    tx.type = TX_EIP1559;
    tx.chain_id = s->chain_id;
    tx.nonce = s->nonce;
    tx.max_priority_fee = tip;
    tx.max_fee = price;
    tx.gas_limit = gas;
    tx.has_to = to != NULL;
    if (to)
        tx.to = *to;
    tx.value = value ? *value : zero;
    int rc = -1;
    if (len && buf_append(&tx.data, data, len, e) < 0)
        goto out;
    if (keystore_sign_tx(s->key, &tx, raw_out, e) < 0 || tx_hash(hash_out, &tx, e) < 0)
        goto out;
    s->nonce++; /* a signed transaction takes its nonce whether or not it is sent now */
    rc = 0;
out:
    tx_free(&tx);
    return rc;
}

int devnet_wait(rpc_client *rpc, const uint8_t hash[32], unsigned timeout_ms, rpc_receipt *out,
                err *e)
{
    for (unsigned waited = 0;; waited += 100) {
        bool found = false;
        if (rpc_eth_get_transaction_receipt(rpc, hash, out, &found, e) < 0)
            return err_prefix(e, "waiting for a receipt");
        if (found) {
            if (!out->success) {
                char hex[67];
                hex_encode(hex, sizeof hex, hash, 32, true);
                return err_set(e, ERR_STATE, "transaction %s reverted (block %llu)", hex,
                               (unsigned long long)out->block_number);
            }
            return 0;
        }
        if (waited >= timeout_ms)
            break;
        devnet_sleep_ms(100);
    }
    char hex[67];
    hex_encode(hex, sizeof hex, hash, 32, true);
    return err_set(e, ERR_RPC, "transaction %s not mined after %u ms: is the node mining?", hex,
                   timeout_ms);
}
