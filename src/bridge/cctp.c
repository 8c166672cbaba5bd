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
