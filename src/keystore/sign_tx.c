/* sign_tx.c: transaction signing through an unlocked key. The raw encoding is decoded
 * again and its sender recovered before anything is returned, so what the operator was
 * shown is provably what was signed; then the audit row is written, then the bytes. */
#include "keystore/keystore.h"

#include <jansson.h>
#include <string.h>

#include "base/bytes.h"
#include "base/u256.h"
#include "crypto/keccak.h"
#include "eth/tx.h"
#include "keystore/keystore_priv.h"

static int sign_cb(void *ctx, const uint8_t sk[32], err *e)
{
    return tx_sign(ctx, sk, e);
}

static void unsign(eth_tx *tx)
{
    tx->is_signed = false;
    tx->y_parity = 0;
    memset(&tx->r, 0, sizeof tx->r);
    memset(&tx->s, 0, sizeof tx->s);
}

static json_t *u256_json(const u256 *v)
{
    char dec[U256_DEC_MAX];
    u256_to_dec(dec, v);
    return json_string(dec);
}

static json_t *tx_details(const ks_key *k, const eth_tx *tx, const uint8_t hash[32])
{
    char hash_hex[67], data_hash_hex[67];
    uint8_t data_hash[32];
    static const uint8_t none[1];
    keccak256(data_hash, tx->data.len ? tx->data.data : none, tx->data.len);
    hex_encode(hash_hex, sizeof hash_hex, hash, 32, true);
    hex_encode(data_hash_hex, sizeof data_hash_hex, data_hash, 32, true);
    json_t *d = json_pack("{s:o, s:I, s:I, s:i, s:o, s:o, s:I, s:I, s:s, s:s}", "key",
                          ks_addr_json(&k->address), "chain_id", (json_int_t)tx->chain_id,
                          "nonce", (json_int_t)tx->nonce, "type", (int)tx->type, "to",
                          tx->has_to ? ks_addr_json(&tx->to) : json_null(), "value",
                          u256_json(&tx->value), "gas_limit", (json_int_t)tx->gas_limit,
                          "data_len", (json_int_t)tx->data.len, "data_hash", data_hash_hex,
                          "tx_hash", hash_hex);
    if (!d)
        return NULL;
    if (tx->type == TX_EIP1559) {
        json_object_set_new(d, "max_fee", u256_json(&tx->max_fee));
        json_object_set_new(d, "max_priority_fee", u256_json(&tx->max_priority_fee));
    } else {
        json_object_set_new(d, "gas_price", u256_json(&tx->gas_price));
    }
    return d;
}

int keystore_sign_tx(ks_key *k, struct eth_tx *tx, buf *raw_out, err *e)
{
    if (ks_with_secret(k, sign_cb, tx, e) < 0)
        return -1;
    buf raw;
    buf_init(&raw);
    eth_tx back;
    tx_init(&back);
    addr from;
    uint8_t hash[32];
    int rc = -1;
    if (tx_encode_raw(&raw, tx, e) < 0 || tx_hash(hash, tx, e) < 0 ||
        tx_decode_raw(&back, raw.data, raw.len, e) < 0 || tx_recover_sender(&from, &back, e) < 0)
        goto out;
    if (!addr_equal(&from, &k->address)) {
        err_set(e, ERR_INTERNAL, "the signed transaction does not recover to its key: withheld");
        goto out;
    }
    if (ks_audit_key(k, "sign_tx", tx_details(k, tx, hash), e) < 0) {
        err_prefix(e, "signature withheld (no audit row)");
        goto out;
    }
    rc = buf_append(raw_out, raw.data, raw.len, e);
out:
    if (rc < 0)
        unsign(tx);
    tx_free(&back);
    buf_free(&raw);
    return rc;
}
