/* secp.c: secp256k1 through libsecp256k1. One context, created once and
 * randomised against side channels; after creation it is only read, which the
 * library documents as thread-safe. Signatures use the library's RFC 6979 nonce
 * function and are normalised to low S (EIP-2). */
#include "crypto/secp.h"

#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <string.h>

static secp256k1_context *secp_ctx;
static pthread_once_t secp_once = PTHREAD_ONCE_INIT;

static void secp_ctx_create(void)
{
    secp_ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    if (!secp_ctx)
        return;
    unsigned char seed[32];
    if (sodium_init() >= 0) {
        randombytes_buf(seed, sizeof seed);
        if (!secp256k1_context_randomize(secp_ctx, seed)) {
            secp256k1_context_destroy(secp_ctx);
            secp_ctx = NULL;
        }
    }
    sodium_memzero(seed, sizeof seed);
}

static const secp256k1_context *secp_get(void)
{
    pthread_once(&secp_once, secp_ctx_create);
    return secp_ctx;
}

int secp_seckey_valid(const uint8_t sk[32])
{
    const secp256k1_context *ctx = secp_get();
    return ctx && secp256k1_ec_seckey_verify(ctx, sk) == 1;
}

static int pubkey_serialize64(uint8_t pub[64], const secp256k1_pubkey *pk)
{
    unsigned char ser[65];
    size_t len = sizeof ser;
    if (!secp256k1_ec_pubkey_serialize(secp_get(), ser, &len, pk, SECP256K1_EC_UNCOMPRESSED) ||
        len != 65 || ser[0] != 0x04)
        return -1;
    memcpy(pub, ser + 1, 64);
    return 0;
}

int secp_pubkey_from_seckey(uint8_t pub[64], const uint8_t sk[32])
{
    const secp256k1_context *ctx = secp_get();
    secp256k1_pubkey pk;
    if (!ctx || !secp256k1_ec_pubkey_create(ctx, &pk, sk))
        return -1;
    return pubkey_serialize64(pub, &pk);
}

int secp_sign(uint8_t sig[64], int *recid, const uint8_t hash[32], const uint8_t sk[32])
{
    const secp256k1_context *ctx = secp_get();
    secp256k1_ecdsa_recoverable_signature rsig;
    if (!ctx || !secp256k1_ecdsa_sign_recoverable(ctx, &rsig, hash, sk,
                                                  secp256k1_nonce_function_rfc6979, NULL))
        return -1;
    int id = -1;
    unsigned char compact[64];
    if (!secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, compact, &id, &rsig))
        return -1;
    /* libsecp256k1 always produces low-S signatures; check rather than assume. */
    secp256k1_ecdsa_signature plain;
    if (!secp256k1_ecdsa_signature_parse_compact(ctx, &plain, compact) ||
        secp256k1_ecdsa_signature_normalize(ctx, NULL, &plain))
        return -1;
    memcpy(sig, compact, 64);
    *recid = id;
    return 0;
}

int secp_recover(uint8_t pub[64], const uint8_t sig[64], int recid, const uint8_t hash[32])
{
    const secp256k1_context *ctx = secp_get();
    if (!ctx || recid < 0 || recid > 3)
        return -1;
    secp256k1_ecdsa_signature plain;
    /* High-S signatures are malleable copies (EIP-2): refuse them. */
    if (!secp256k1_ecdsa_signature_parse_compact(ctx, &plain, sig) ||
        secp256k1_ecdsa_signature_normalize(ctx, NULL, &plain))
        return -1;
    secp256k1_ecdsa_recoverable_signature rsig;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, sig, recid))
        return -1;
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(ctx, &pk, &rsig, hash))
        return -1;
    return pubkey_serialize64(pub, &pk);
}
