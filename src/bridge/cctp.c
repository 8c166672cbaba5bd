/* cctp.c: the pure half of the CCTP adapter: the version-1 message layout (Circle's
 * Message.sol and BurnMessage.sol) and the attestation API's JSON answer. No I/O. */
#include "bridge/bridge.h"

#include <jansson.h>
#include <string.h>

#include "base/bytes.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int word_addr(addr *out, const uint8_t w[32])
{
    for (size_t i = 0; i < 12; i++)
        if (w[i])
            return -1;
    memcpy(out->b, w + 12, 20);
    return 0;
}

int bridge_cctp_msg_parse(bridge_cctp_msg *out, const uint8_t *m, size_t len, err *e)
{
    memset(out, 0, sizeof *out);
    if (len != BRIDGE_CCTP_HEADER_LEN + BRIDGE_CCTP_BURN_BODY_LEN)
        return err_set(e, ERR_INVALID, "a CCTP burn message is %d bytes, not %zu",
                       BRIDGE_CCTP_HEADER_LEN + BRIDGE_CCTP_BURN_BODY_LEN, len);
    out->version = be32(m);
    out->src_domain = be32(m + 4);
    out->dst_domain = be32(m + 8);
    out->nonce = (uint64_t)be32(m + 12) << 32 | be32(m + 16);
    memcpy(out->sender, m + 20, 32);
    memcpy(out->recipient, m + 52, 32);
    memcpy(out->dst_caller, m + 84, 32);
    const uint8_t *b = m + BRIDGE_CCTP_HEADER_LEN;
    out->body_version = be32(b);
    if (word_addr(&out->burn_token, b + 4) < 0 || word_addr(&out->mint_recipient, b + 36) < 0 ||
        word_addr(&out->message_sender, b + 100) < 0)
        return err_set(e, ERR_INVALID, "a CCTP burn message holds an address that is not one");
    u256_from_be(&out->amount, b + 68);
    if (out->version != 0 || out->body_version != 0)
        return err_set(e, ERR_INVALID, "CCTP message version %u/%u is not version 0",
                       out->version, out->body_version);
    return 0;
}

int bridge_attestation_parse(const char *json, size_t len, bridge_att_status *status, uint8_t *att,
                             size_t cap, size_t *att_len, err *e)
{
    *att_len = 0;
    json_error_t je;
    json_t *o = json_loadb(json, len, 0, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return err_set(e, ERR_INVALID, "the attestation service answered something not JSON");
    }
    const char *st = json_string_value(json_object_get(o, "status"));
    const char *a = json_string_value(json_object_get(o, "attestation"));
    int rc = 0;
    if (st && strcmp(st, "complete") == 0) {
        *status = BRIDGE_ATT_COMPLETE;
        size_t n = a ? strlen(a) : 0;
        if (n < 2 || a[0] != '0' || a[1] != 'x' || (n - 2) % 130 != 0 || n == 2 ||
            (n - 2) / 2 > cap || hex_decode_exact(att, (n - 2) / 2, a + 2, 0, NULL) < 0)
            rc = err_set(e, ERR_INVALID,
                         "the attestation service answered complete without whole signatures");
        else
            *att_len = (n - 2) / 2;
    } else if (st && strcmp(st, "pending_confirmations") == 0) {
        *status = BRIDGE_ATT_PENDING;
    } else {
        rc = err_set(e, ERR_INVALID, "the attestation service answered an unknown status");
    }
    json_decref(o);
    return rc;
}

/* ---- rebalancing (pure) ---- */

int bridge_rebalance_plan(const u256 *bal, const unsigned *pct, size_t n, bridge_move *out,
                          size_t *n_out, err *e)
{
    *n_out = 0;
    if (n < 2 || n > BRIDGE_REBALANCE_MAX)
        return err_set(e, ERR_INVALID, "a rebalance needs 2 to %d chains", BRIDGE_REBALANCE_MAX);
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += pct[i] <= 100 ? pct[i] : 101;
    if (sum != 100)
        return err_set(e, ERR_INVALID, "the target percentages sum to %u, not 100", sum);
    u256 total = u256_from_u64(0), hundred = u256_from_u64(100);
    for (size_t i = 0; i < n; i++) {
        u256 t;
        if (u256_add(&t, &total, &bal[i]) < 0)
            return err_set(e, ERR_INVALID, "the balances overflow");
        total = t;
    }
    /* targets: floor(total * pct / 100), and the units the floors leave over one each to
     * the chains with the largest remainders, so the targets sum to the total and each is
     * within one unit of its exact share */
    u256 target[BRIDGE_REBALANCE_MAX], surplus[BRIDGE_REBALANCE_MAX], deficit[BRIDGE_REBALANCE_MAX];
    uint64_t rem[BRIDGE_REBALANCE_MAX];
    u256 assigned = u256_from_u64(0);
    for (size_t i = 0; i < n; i++) {
        u256 prod, p = u256_from_u64(pct[i]), r, t;
        if (u256_mul(&prod, &total, &p) < 0 || u256_divmod(&target[i], &r, &prod, &hundred) < 0 ||
            u256_add(&t, &assigned, &target[i]) < 0)
            return err_set(e, ERR_INVALID, "the balances overflow");
        assigned = t;
        (void)u256_to_u64(&r, &rem[i]);
    }
    u256 left;
    uint64_t nleft = 0;
    if (u256_sub(&left, &total, &assigned) < 0 || !u256_to_u64(&left, &nleft) || nleft >= n)
        return err_set(e, ERR_INTERNAL, "rebalance arithmetic");
    for (uint64_t k = 0; k < nleft; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++)
            if (rem[i] > 0 && (best == n || rem[i] > rem[best]))
                best = i;
        if (best == n)
            return err_set(e, ERR_INTERNAL, "rebalance arithmetic");
        u256 one = u256_from_u64(1), t;
        if (u256_add(&t, &target[best], &one) < 0)
            return err_set(e, ERR_INTERNAL, "rebalance arithmetic");
        target[best] = t;
        rem[best] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        surplus[i] = deficit[i] = u256_from_u64(0);
        int r = u256_cmp(&bal[i], &target[i]) > 0 ? u256_sub(&surplus[i], &bal[i], &target[i])
                                                   : u256_sub(&deficit[i], &target[i], &bal[i]);
        if (r < 0)
            return err_set(e, ERR_INTERNAL, "rebalance arithmetic");
    }
    for (;;) {
        size_t s = n, d = n;
        for (size_t i = 0; i < n; i++) {
            if (!u256_is_zero(&surplus[i]) && (s == n || u256_cmp(&surplus[i], &surplus[s]) > 0))
                s = i;
            if (!u256_is_zero(&deficit[i]) && (d == n || u256_cmp(&deficit[i], &deficit[d]) > 0))
                d = i;
        }
        if (s == n || d == n)
            break;
        u256 m = u256_cmp(&surplus[s], &deficit[d]) < 0 ? surplus[s] : deficit[d];
        if (u256_sub(&surplus[s], &surplus[s], &m) < 0 ||
            u256_sub(&deficit[d], &deficit[d], &m) < 0)
            return err_set(e, ERR_INTERNAL, "rebalance arithmetic");
        if (*n_out == BRIDGE_REBALANCE_MAX)
            return err_set(e, ERR_INTERNAL, "too many moves");
        out[*n_out].from = s;
        out[*n_out].to = d;
        out[*n_out].amount = m;
        (*n_out)++;
    }
    return 0;
}

int bridge_split(const u256 *amount, const u256 *max, u256 *parts, size_t cap, size_t *n, err *e)
{
    *n = 0;
    if (u256_is_zero(max))
        return err_set(e, ERR_INVALID, "the limit per transfer is 0: nothing can be moved");
    if (u256_is_zero(amount))
        return 0;
    /* k = ceil(amount / max) */
    u256 q, r, one = u256_from_u64(1);
    if (u256_divmod(&q, &r, amount, max) < 0)
        return err_set(e, ERR_INTERNAL, "split arithmetic");
    if (!u256_is_zero(&r) && u256_add(&q, &q, &one) < 0)
        return err_set(e, ERR_INTERNAL, "split arithmetic");
    uint64_t k = 0;
    if (!u256_to_u64(&q, &k) || k > cap)
        return err_set(e, ERR_INVALID, "it would take more than %zu transfers under the limit",
                       cap);
    u256 kk = u256_from_u64(k), base, left;
    if (u256_divmod(&base, &left, amount, &kk) < 0)
        return err_set(e, ERR_INTERNAL, "split arithmetic");
    uint64_t extra = 0;
    (void)u256_to_u64(&left, &extra); /* less than k */
    for (uint64_t i = 0; i < k; i++) {
        parts[i] = base;
        if (i < extra && u256_add(&parts[i], &base, &one) < 0)
            return err_set(e, ERR_INTERNAL, "split arithmetic");
    }
    *n = (size_t)k;
    return 0;
}
