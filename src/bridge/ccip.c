/* ccip.c: the pure half of the CCIP-style route: the CCIPSendRequested message decoded
 * strictly and its id computed as a CCIP 1.4 on-ramp and off-ramp compute it (ccip.h). The
 * desk checks that the id the router returned is the hash of what it asked for before it
 * follows the message on the destination. No I/O. */
#include "bridge/ccip.h"

#include <string.h>

#include "crypto/keccak.h"

#define W 32

static void put_u64(uint8_t w[W], uint64_t v)
{
    memset(w, 0, W);
    for (int i = 0; i < 8; i++)
        w[W - 1 - i] = (uint8_t)(v >> (8 * i));
}

static void put_addr(uint8_t w[W], const addr *a)
{
    memset(w, 0, W);
    memcpy(w + 12, a->b, 20);
}

/* A word that is a uint of at most bits bits: -1 otherwise. */
static int get_uint(const uint8_t w[W], unsigned bits, uint64_t *out)
{
    size_t zero = W - bits / 8;
    for (size_t i = 0; i < zero; i++)
        if (w[i])
            return -1;
    uint64_t v = 0;
    for (size_t i = zero; i < W; i++)
        v = v << 8 | w[i];
    *out = v;
    return 0;
}

static int get_addr(const uint8_t w[W], addr *out)
{
    for (size_t i = 0; i < 12; i++)
        if (w[i])
            return -1;
    memcpy(out->b, w + 12, 20);
    return 0;
}

/* An offset word (relative to base) pointing inside [base, len), a multiple of 32. */
static int get_off(const uint8_t w[W], size_t base, size_t len, size_t *out)
{
    uint64_t v;
    if (get_uint(w, 64, &v) < 0 || v % W || v > len || base + v > len - W)
        return -1;
    *out = base + (size_t)v;
    return 0;
}

int bridge_ccip_msg_parse(bridge_ccip_msg *out, const uint8_t *d, size_t len, err *e)
{
    memset(out, 0, sizeof *out);
    const size_t head = W; /* the tuple starts after its offset word */
    uint64_t v;
    if (len < W * 14 || len % W)
        return err_set(e, ERR_INVALID, "a CCIP message is at least %d whole words, not %zu bytes",
                       14 * W, len);
    if (get_uint(d, 64, &v) < 0 || v != W)
        return err_set(e, ERR_INVALID, "a CCIP message's tuple offset is not 32");
    const uint8_t *h = d + head;
    uint64_t strict;
    if (get_uint(h, 64, &out->src_selector) < 0 || get_addr(h + W, &out->sender) < 0 ||
        get_addr(h + 2 * W, &out->receiver) < 0 || get_uint(h + 3 * W, 64, &out->seq) < 0 ||
        get_uint(h + 5 * W, 8, &strict) < 0 || strict > 1 ||
        get_uint(h + 6 * W, 64, &out->nonce) < 0 || get_addr(h + 7 * W, &out->fee_token) < 0)
        return err_set(e, ERR_INVALID, "a CCIP message's fixed fields are not canonical");
    out->strict = strict == 1;
    u256_from_be(&out->gas_limit, h + 4 * W);
    u256_from_be(&out->fee_amount, h + 8 * W);
    memcpy(out->id, h + 12 * W, W);
    size_t od, ot, os;
    if (get_off(h + 9 * W, head, len, &od) < 0 || get_off(h + 10 * W, head, len, &ot) < 0 ||
        get_off(h + 11 * W, head, len, &os) < 0)
        return err_set(e, ERR_INVALID, "a CCIP message's offsets point outside it");
    /* data: length, then the bytes padded to whole words with zeros */
    if (get_uint(d + od, 32, &v) < 0 || v > BRIDGE_CCIP_DATA_MAX ||
        od + W + (v + W - 1) / W * W > len)
        return err_set(e, ERR_INVALID, "a CCIP message's data is longer than %d bytes or cut",
                       BRIDGE_CCIP_DATA_MAX);
    out->data_len = (size_t)v;
    memcpy(out->data, d + od + W, out->data_len);
    for (size_t i = od + W + out->data_len; i < od + W + (v + W - 1) / W * W; i++)
        if (d[i])
            return err_set(e, ERR_INVALID, "a CCIP message's data padding is not zero");
    /* tokenAmounts: length, then (token, amount) pairs */
    if (get_uint(d + ot, 8, &v) < 0 || v > BRIDGE_CCIP_MAX_TOKENS || ot + W + v * 2 * W > len)
        return err_set(e, ERR_INVALID, "a CCIP message has more than %d tokens or is cut",
                       BRIDGE_CCIP_MAX_TOKENS);
    out->n_tokens = (size_t)v;
    for (size_t i = 0; i < out->n_tokens; i++) {
        const uint8_t *p = d + ot + W + i * 2 * W;
        if (get_addr(p, &out->tokens[i]) < 0)
            return err_set(e, ERR_INVALID, "a CCIP message's token address is not canonical");
        u256_from_be(&out->amounts[i], p + W);
    }
    /* sourceTokenData: one empty entry per token, laid out canonically */
    if (get_uint(d + os, 8, &v) < 0 || v != out->n_tokens || os + W + 2 * v * W > len)
        return err_set(e, ERR_INVALID, "a CCIP message's source token data does not match its tokens");
    for (size_t i = 0; i < v; i++) {
        uint64_t off, n;
        if (get_uint(d + os + W + i * W, 64, &off) < 0 || off != (v + i) * W ||
            get_uint(d + os + W + (v + i) * W, 64, &n) < 0 || n != 0)
            return err_set(e, ERR_INVALID,
                           "a CCIP message's source token data is not empty (a pool that returns "
                           "data is not supported)");
    }
    if (os + W + 2 * v * W != len)
        return err_set(e, ERR_INVALID, "a CCIP message has trailing bytes");
    return 0;
}

void bridge_ccip_metadata_hash(uint8_t out[32], uint64_t src_selector, uint64_t dst_selector,
                               const addr *on_ramp)
{
    static const char tag[] = "EVM2EVMMessageHashV2";
    uint8_t b[4 * W];
    keccak256(b, (const uint8_t *)tag, sizeof tag - 1);
    put_u64(b + W, src_selector);
    put_u64(b + 2 * W, dst_selector);
    put_addr(b + 3 * W, on_ramp);
    keccak256(out, b, sizeof b);
}

void bridge_ccip_message_id(uint8_t out[32], const bridge_ccip_msg *m, const uint8_t meta[32])
{
    uint8_t outer[6 * W], fixed[8 * W];
    memset(outer, 0, W); /* the leaf domain separator */
    memcpy(outer + W, meta, W);
    put_addr(fixed, &m->sender);
    put_addr(fixed + W, &m->receiver);
    put_u64(fixed + 2 * W, m->seq);
    u256_to_be(fixed + 3 * W, &m->gas_limit);
    put_u64(fixed + 4 * W, m->strict ? 1 : 0);
    put_u64(fixed + 5 * W, m->nonce);
    put_addr(fixed + 6 * W, &m->fee_token);
    u256_to_be(fixed + 7 * W, &m->fee_amount);
    keccak256(outer + 2 * W, fixed, sizeof fixed);
    keccak256(outer + 3 * W, m->data, m->data_len);
    /* abi.encode(EVMTokenAmount[]): offset 32, length, (token, amount) pairs */
    uint8_t toks[2 * W + BRIDGE_CCIP_MAX_TOKENS * 2 * W];
    put_u64(toks, W);
    put_u64(toks + W, m->n_tokens);
    for (size_t i = 0; i < m->n_tokens; i++) {
        put_addr(toks + 2 * W + i * 2 * W, &m->tokens[i]);
        u256_to_be(toks + 3 * W + i * 2 * W, &m->amounts[i]);
    }
    keccak256(outer + 4 * W, toks, 2 * W + m->n_tokens * 2 * W);
    /* abi.encode(bytes[]) with n empty entries: offset 32, n, n offsets, n zero lengths */
    uint8_t std[2 * W + BRIDGE_CCIP_MAX_TOKENS * 2 * W];
    put_u64(std, W);
    put_u64(std + W, m->n_tokens);
    for (size_t i = 0; i < m->n_tokens; i++) {
        put_u64(std + 2 * W + i * W, (m->n_tokens + i) * W);
        put_u64(std + 2 * W + (m->n_tokens + i) * W, 0);
    }
    keccak256(outer + 5 * W, std, 2 * W + m->n_tokens * 2 * W);
    keccak256(out, outer, sizeof outer);
}
