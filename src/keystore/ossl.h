/* ossl.h (module-private): the two OpenSSL primitives keystore v3 needs. Kept in their
 * own file because OpenSSL's headers define ERR_STATE, which clashes with base/err.h. */
#ifndef FUSION_KEYSTORE_OSSL_H
#define FUSION_KEYSTORE_OSSL_H

#include <stddef.h>
#include <stdint.h>

/* AES-128-CTR (encryption and decryption are the same). 0 or -1. */
int ossl_aes128_ctr(uint8_t *out, const uint8_t *in, size_t len, const uint8_t key[16],
                    const uint8_t iv[16]) __attribute__((warn_unused_result));
/* PBKDF2-HMAC-SHA256. 0 or -1. */
int ossl_pbkdf2_sha256(uint8_t *out, size_t out_len, const char *pass, size_t pass_len,
                       const uint8_t *salt, size_t salt_len, uint64_t iterations)
    __attribute__((warn_unused_result));

#endif
