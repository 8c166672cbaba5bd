/* sign.c: EIP-191 message signing through an unlocked key. The signature is checked
 * by recovering its signer, and it is returned only after its audit row is written. */
#include "keystore/keystore.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

#include "base/bytes.h"
#include "crypto/eip191.h"
#include "crypto/eip712.h"
#include "keystore/keystore_priv.h"

typedef struct msg_ctx {
    uint8_t *sig;
    const void *msg;
    size_t len;
} msg_ctx;

static int sign_msg(void *vctx, const uint8_t sk[32], err *e)
{
    msg_ctx *c = vctx;
    if (eip191_sign(c->sig, c->msg, c->len, sk) < 0)
        return err_set(e, ERR_CRYPTO, "signing the message failed");
    return 0;
}

int keystore_sign_message(ks_key *k, uint8_t sig65[65], const void *msg, size_t len, err *e)
{
    uint8_t sig[65];
    msg_ctx c = {sig, msg, len};
    if (ks_with_secret(k, sign_msg, &c, e) < 0)
        return -1;
    addr signer;
    if (eip191_recover(&signer, sig, msg, len) < 0 || !addr_equal(&signer, &k->address)) {
        sodium_memzero(sig, sizeof sig);
        return err_set(e, ERR_INTERNAL, "the new signature does not recover to its key: "
                       "withheld");
    }
    uint8_t digest[32];
    eip191_hash(digest, msg, len);
    char digest_hex[2 * 32 + 3], sig_hex[2 * 65 + 3];
    hex_encode(digest_hex, sizeof digest_hex, digest, 32, true);
    hex_encode(sig_hex, sizeof sig_hex, sig, 65, true);
    json_t *details = json_pack("{s:o, s:s, s:I, s:s}", "key", ks_addr_json(&k->address),
                                "message_hash", digest_hex, "message_len", (json_int_t)len,
                                "signature", sig_hex);
    /* The text itself too when it is short UTF-8 (what an operator would read). */
    json_t *text = len <= 256 ? json_stringn(msg, len) : NULL;
    if (details && text)
        json_object_set_new(details, "message", text);
    else
        json_decref(text);
    if (ks_audit_key(k, "sign_message", details, e) < 0) {
        sodium_memzero(sig, sizeof sig);
        return err_prefix(e, "signature withheld (no audit row)");
    }
    memcpy(sig65, sig, 65);
    return 0;
}

typedef struct digest_ctx {
    uint8_t *sig;
    const uint8_t *digest;
} digest_ctx;

static int sign_digest(void *vctx, const uint8_t sk[32], err *e)
{
    digest_ctx *c = vctx;
    if (eip712_sign(c->sig, c->digest, sk) < 0)
        return err_set(e, ERR_CRYPTO, "signing the statement failed");
    return 0;
}

int keystore_sign_typed(ks_key *k, uint8_t sig65[65], const uint8_t digest[32], err *e)
{
    uint8_t sig[65];
    digest_ctx c = {sig, digest};
    if (ks_with_secret(k, sign_digest, &c, e) < 0)
        return -1;
    addr signer;
    if (eip712_recover(&signer, sig, digest) < 0 || !addr_equal(&signer, &k->address)) {
        sodium_memzero(sig, sizeof sig);
        return err_set(e, ERR_INTERNAL, "the new signature does not recover to its key: "
                       "withheld");
    }
    memcpy(sig65, sig, 65);
    return 0;
}
