/* tx.c: legacy (EIP-155) and EIP-1559 transactions over RLP: the signing
 * payload and hash, RFC 6979 signatures via crypto/secp, the raw encoding, and a
 * strict decoder that rebuilds the fields from raw bytes and recovers the sender. */
#include "eth/tx.h"

#include <string.h>

#include "crypto/keccak.h"
#include "crypto/secp.h"
#include "eth/rlp.h"

/* secp256k1 group order n and n/2, big-endian. */
static const uint8_t SECP_N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                   0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
static const uint8_t SECP_HALF_N[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

void tx_init(eth_tx *tx)
{
    memset(tx, 0, sizeof *tx);
    buf_init(&tx->data);
}

void tx_free(eth_tx *tx)
{
    if (!tx)
        return;
    buf_free(&tx->data);
    tx_init(tx);
}

static int check_buildable(const eth_tx *tx, err *e)
{
    if (tx->type != TX_LEGACY && tx->type != TX_EIP1559)
        return err_set(e, ERR_INVALID, "transaction type %d is not supported (0 or 2)",
                       (int)tx->type);
    if (tx->chain_id == 0)
        return err_set(e, ERR_INVALID, "transaction has chain id 0; set the chain's id");
    return 0;
}

/* legacy v = 35 + 2 * chain_id + y_parity (wider than 64 bits for large ids) */
static int legacy_v(u256 *v, const eth_tx *tx)
{
    u256 c = u256_from_u64(tx->chain_id), k = u256_from_u64(35u + tx->y_parity);
    if (u256_add(v, &c, &c) < 0 || u256_add(v, v, &k) < 0)
        return -1;
    return 0;
}

static int put_to(buf *out, const eth_tx *tx, err *e)
{
    return tx->has_to ? rlp_put_bytes(out, tx->to.b, ADDR_LEN, e) : rlp_put_bytes(out, NULL, 0, e);
}

/* The RLP list of the fields; signed adds the signature, else the signing form. */
static int encode_fields(buf *out, const eth_tx *tx, bool with_sig, err *e)
{
    size_t mark;
    if (check_buildable(tx, e) < 0)
        return -1;
    if (tx->type == TX_EIP1559 && buf_push(out, 0x02, e) < 0)
        return -1;
    rlp_list_begin(out, &mark);
    if (tx->type == TX_LEGACY) {
        if (rlp_put_u64(out, tx->nonce, e) < 0 || rlp_put_u256(out, &tx->gas_price, e) < 0 ||
            rlp_put_u64(out, tx->gas_limit, e) < 0 || put_to(out, tx, e) < 0 ||
            rlp_put_u256(out, &tx->value, e) < 0 ||
            rlp_put_bytes(out, tx->data.data, tx->data.len, e) < 0)
            return -1;
        if (with_sig) {
            u256 v;
            if (legacy_v(&v, tx) < 0)
                return err_set(e, ERR_OVERFLOW, "legacy v overflows");
            if (rlp_put_u256(out, &v, e) < 0)
                return -1;
        } else {
            if (rlp_put_u64(out, tx->chain_id, e) < 0 || rlp_put_u64(out, 0, e) < 0 ||
                rlp_put_u64(out, 0, e) < 0)
                return -1;
        }
    } else {
        size_t al;
        if (rlp_put_u64(out, tx->chain_id, e) < 0 || rlp_put_u64(out, tx->nonce, e) < 0 ||
            rlp_put_u256(out, &tx->max_priority_fee, e) < 0 ||
            rlp_put_u256(out, &tx->max_fee, e) < 0 || rlp_put_u64(out, tx->gas_limit, e) < 0 ||
            put_to(out, tx, e) < 0 || rlp_put_u256(out, &tx->value, e) < 0 ||
            rlp_put_bytes(out, tx->data.data, tx->data.len, e) < 0)
            return -1;
        rlp_list_begin(out, &al); /* access list: always empty */
        if (rlp_list_end(out, al, e) < 0)
            return -1;
        if (with_sig && rlp_put_u64(out, tx->y_parity, e) < 0)
            return -1;
    }
    if (with_sig && (rlp_put_u256(out, &tx->r, e) < 0 || rlp_put_u256(out, &tx->s, e) < 0))
        return -1;
    return rlp_list_end(out, mark, e);
}

int tx_signing_payload(buf *out, const eth_tx *tx, err *e)
{
    size_t mark = out->len;
    if (encode_fields(out, tx, false, e) < 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

int tx_signing_hash(uint8_t out[32], const eth_tx *tx, err *e)
{
    buf b;
    buf_init(&b);
    if (tx_signing_payload(&b, tx, e) < 0) {
        buf_free(&b);
        return -1;
    }
    keccak256(out, b.data, b.len);
    buf_free(&b);
    return 0;
}

int tx_sign(eth_tx *tx, const uint8_t sk[32], err *e)
{
    uint8_t hash[32], sig[64];
    int recid = -1;
    if (tx->type == TX_EIP1559 && u256_cmp(&tx->max_priority_fee, &tx->max_fee) > 0)
        return err_set(e, ERR_INVALID,
                       "max priority fee exceeds max fee; lower the tip or raise the fee cap");
    if (tx_signing_hash(hash, tx, e) < 0)
        return -1;
    if (secp_sign(sig, &recid, hash, sk) < 0)
        return err_set(e, ERR_CRYPTO, "signing failed: the secret key is not valid");
    if (recid < 0 || recid > 1) /* r >= n: about 2^-127 likely, not encodable */
        return err_set(e, ERR_CRYPTO, "signature has recovery id %d; change the nonce", recid);
    u256_from_be(&tx->r, sig);
    u256_from_be(&tx->s, sig + 32);
    tx->y_parity = (uint8_t)recid;
    tx->is_signed = true;
    return 0;
}

int tx_encode_raw(buf *out, const eth_tx *tx, err *e)
{
    if (!tx->is_signed)
        return err_set(e, ERR_STATE, "transaction is not signed; sign it before encoding");
    size_t mark = out->len;
    if (encode_fields(out, tx, true, e) < 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

int tx_hash(uint8_t out[32], const eth_tx *tx, err *e)
{
    buf b;
    buf_init(&b);
    if (tx_encode_raw(&b, tx, e) < 0) {
        buf_free(&b);
        return -1;
    }
    keccak256(out, b.data, b.len);
    buf_free(&b);
    return 0;
}

/* ---- decoding ---- */

static int get_to(eth_tx *tx, const rlp_item *it, err *e)
{
    if (it->kind != RLP_BYTES || (it->len != 0 && it->len != ADDR_LEN))
        return err_set(e, ERR_INVALID, "transaction \"to\" must be empty or 20 bytes");
    tx->has_to = it->len == ADDR_LEN;
    if (tx->has_to)
        memcpy(tx->to.b, it->payload, ADDR_LEN);
    return 0;
}

/* r and s in 1..n-1 and s in the lower half (EIP-2). */
static int check_sig(const eth_tx *tx, err *e)
{
    uint8_t r[32], s[32];
    static const uint8_t zero[32];
    u256_to_be(r, &tx->r);
    u256_to_be(s, &tx->s);
    if (!memcmp(r, zero, 32) || !memcmp(s, zero, 32) || memcmp(r, SECP_N, 32) >= 0 ||
        memcmp(s, SECP_N, 32) >= 0)
        return err_set(e, ERR_INVALID, "transaction signature r/s out of range");
    if (memcmp(s, SECP_HALF_N, 32) > 0)
        return err_set(e, ERR_INVALID, "transaction signature has a high s value (EIP-2)");
    return 0;
}

#define NEXT(name)                                                                                 \
    do {                                                                                           \
        int r_ = rlp_iter_next(&it, &f[n], e);                                                     \
        if (r_ < 0)                                                                                \
            return -1;                                                                             \
        if (r_ == 0)                                                                               \
            return err_set(e, ERR_INVALID, "transaction is missing its " name " field");           \
        n++;                                                                                       \
    } while (0)

static int decode_legacy(eth_tx *tx, const uint8_t *raw, size_t len, err *e)
{
    rlp_item top, f[9], extra;
    rlp_iter it;
    size_t n = 0;
    u256 v;
    if (rlp_decode(&top, raw, len, e) < 0 || rlp_iter_init(&it, &top, e) < 0)
        return -1;
    NEXT("nonce");
    NEXT("gas price");
    NEXT("gas limit");
    NEXT("to");
    NEXT("value");
    NEXT("data");
    NEXT("v");
    NEXT("r");
    NEXT("s");
    int more = rlp_iter_next(&it, &extra, e);
    if (more != 0)
        return more < 0 ? -1 : err_set(e, ERR_INVALID, "legacy transaction has more than 9 fields");
    tx->type = TX_LEGACY;
    if (rlp_item_u64(&tx->nonce, &f[0], e) < 0 || rlp_item_u256(&tx->gas_price, &f[1], e) < 0 ||
        rlp_item_u64(&tx->gas_limit, &f[2], e) < 0 || get_to(tx, &f[3], e) < 0 ||
        rlp_item_u256(&tx->value, &f[4], e) < 0 || rlp_item_u256(&v, &f[6], e) < 0 ||
        rlp_item_u256(&tx->r, &f[7], e) < 0 || rlp_item_u256(&tx->s, &f[8], e) < 0)
        return -1;
    if (f[5].kind != RLP_BYTES)
        return err_set(e, ERR_INVALID, "transaction data must be a byte string");
    uint64_t small;
    if (u256_to_u64(&v, &small) && (small == 27 || small == 28))
        return err_set(e, ERR_INVALID,
                       "pre-EIP-155 transaction (v=%llu) has no chain id; not accepted",
                       (unsigned long long)small);
    u256 k35 = u256_from_u64(35), two = u256_from_u64(2), q, rem;
    if (u256_sub(&q, &v, &k35) < 0 || u256_divmod(&q, &rem, &q, &two) < 0 ||
        !u256_to_u64(&q, &tx->chain_id) || tx->chain_id == 0)
        return err_set(e, ERR_INVALID, "legacy transaction v does not encode an EIP-155 chain id");
    tx->y_parity = (uint8_t)rem.w[0];
    if (buf_append(&tx->data, f[5].payload, f[5].len, e) < 0)
        return -1;
    return 0;
}

static int decode_1559(eth_tx *tx, const uint8_t *raw, size_t len, err *e)
{
    rlp_item top, f[12], extra;
    rlp_iter it;
    size_t n = 0, n_access;
    uint64_t parity;
    if (rlp_decode(&top, raw, len, e) < 0 || rlp_iter_init(&it, &top, e) < 0)
        return -1;
    NEXT("chain id");
    NEXT("nonce");
    NEXT("max priority fee");
    NEXT("max fee");
    NEXT("gas limit");
    NEXT("to");
    NEXT("value");
    NEXT("data");
    NEXT("access list");
    NEXT("y parity");
    NEXT("r");
    NEXT("s");
    int more = rlp_iter_next(&it, &extra, e);
    if (more != 0)
        return more < 0 ? -1
                        : err_set(e, ERR_INVALID, "type-2 transaction has more than 12 fields");
    tx->type = TX_EIP1559;
    if (rlp_item_u64(&tx->chain_id, &f[0], e) < 0 || rlp_item_u64(&tx->nonce, &f[1], e) < 0 ||
        rlp_item_u256(&tx->max_priority_fee, &f[2], e) < 0 ||
        rlp_item_u256(&tx->max_fee, &f[3], e) < 0 || rlp_item_u64(&tx->gas_limit, &f[4], e) < 0 ||
        get_to(tx, &f[5], e) < 0 || rlp_item_u256(&tx->value, &f[6], e) < 0 ||
        rlp_item_u64(&parity, &f[9], e) < 0 || rlp_item_u256(&tx->r, &f[10], e) < 0 ||
        rlp_item_u256(&tx->s, &f[11], e) < 0)
        return -1;
    if (tx->chain_id == 0)
        return err_set(e, ERR_INVALID, "type-2 transaction has chain id 0");
    if (f[7].kind != RLP_BYTES)
        return err_set(e, ERR_INVALID, "transaction data must be a byte string");
    if (f[8].kind != RLP_LIST)
        return err_set(e, ERR_INVALID, "transaction access list must be a list");
    if (rlp_list_count(&n_access, &f[8], e) < 0)
        return -1;
    if (n_access != 0)
        return err_set(e, ERR_INVALID,
                       "transactions with a non-empty access list are not "
                       "supported");
    if (parity > 1)
        return err_set(e, ERR_INVALID, "type-2 transaction y parity must be 0 or 1");
    tx->y_parity = (uint8_t)parity;
    if (buf_append(&tx->data, f[7].payload, f[7].len, e) < 0)
        return -1;
    return 0;
}

int tx_decode_raw(eth_tx *tx, const uint8_t *raw, size_t len, err *e)
{
    eth_tx t;
    int r;
    tx_init(&t);
    if (len == 0) {
        r = err_set(e, ERR_INVALID, "raw transaction is empty");
    } else if (raw[0] >= 0xc0) {
        r = decode_legacy(&t, raw, len, e);
    } else if (raw[0] == 0x02) {
        r = decode_1559(&t, raw + 1, len - 1, e);
    } else if (raw[0] <= 0x7f) {
        r = err_set(e, ERR_INVALID, "transaction type 0x%02x is not supported (0 or 2)", raw[0]);
    } else {
        r = err_set(e, ERR_INVALID, "raw transaction is neither a list nor a typed envelope");
    }
    if (r == 0)
        r = check_sig(&t, e);
    if (r < 0) {
        tx_free(&t);
        tx_init(tx);
        return -1;
    }
    t.is_signed = true;
    *tx = t;
    return 0;
}

int tx_decode_raw_for_chain(eth_tx *tx, const uint8_t *raw, size_t len, uint64_t chain_id, err *e)
{
    if (tx_decode_raw(tx, raw, len, e) < 0)
        return -1;
    if (tx->chain_id != chain_id) {
        err_set(e, ERR_INVALID, "transaction is for chain %llu, not chain %llu",
                (unsigned long long)tx->chain_id, (unsigned long long)chain_id);
        tx_free(tx);
        return -1;
    }
    return 0;
}

int tx_recover_sender(addr *from, const eth_tx *tx, err *e)
{
    uint8_t hash[32], sig[64], pub[64];
    if (!tx->is_signed)
        return err_set(e, ERR_STATE, "transaction is not signed; there is no sender");
    if (tx->y_parity > 1)
        return err_set(e, ERR_INVALID, "transaction y parity must be 0 or 1");
    if (check_sig(tx, e) < 0 || tx_signing_hash(hash, tx, e) < 0)
        return -1;
    u256_to_be(sig, &tx->r);
    u256_to_be(sig + 32, &tx->s);
    if (secp_recover(pub, sig, tx->y_parity, hash) < 0)
        return err_set(e, ERR_CRYPTO, "no public key recovers from this transaction's signature");
    addr_from_pubkey(from, pub);
    return 0;
}
