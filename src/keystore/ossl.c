/* ossl.c: AES-128-CTR and PBKDF2-HMAC-SHA256 from OpenSSL's libcrypto (see ossl.h). */
#include "keystore/ossl.h"

#include <limits.h>
#include <openssl/evp.h>

int ossl_aes128_ctr(uint8_t *out, const uint8_t *in, size_t len, const uint8_t key[16],
                    const uint8_t iv[16])
{
    if (len > INT_MAX)
        return -1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return -1;
    int outl = 0, fin = 0;
    int ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, key, iv) == 1 &&
             EVP_EncryptUpdate(ctx, out, &outl, in, (int)len) == 1 &&
             EVP_EncryptFinal_ex(ctx, out + outl, &fin) == 1 && (size_t)(outl + fin) == len;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int ossl_pbkdf2_sha256(uint8_t *out, size_t out_len, const char *pass, size_t pass_len,
                       const uint8_t *salt, size_t salt_len, uint64_t iterations)
{
    if (pass_len > INT_MAX || salt_len > INT_MAX || out_len > INT_MAX || iterations < 1 ||
        iterations > INT_MAX)
        return -1;
    return PKCS5_PBKDF2_HMAC(pass, (int)pass_len, salt, (int)salt_len, (int)iterations,
                             EVP_sha256(), (int)out_len, out) == 1
               ? 0
               : -1;
}
