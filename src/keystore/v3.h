/* v3.h (module-private): the Ethereum keystore v3 JSON format ("Web3 Secret Storage"):
 * scrypt (libsodium) or PBKDF2-HMAC-SHA256 (OpenSSL), AES-128-CTR (OpenSSL) and the
 * Keccak-256 MAC. Parsing bounds every KDF parameter before anything is derived, since
 * an imported file is untrusted and a huge N or iteration count is a denial of service. */
#ifndef FUSION_KEYSTORE_V3_H
#define FUSION_KEYSTORE_V3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/address.h"

#define V3_FILE_MAX 65536
#define V3_SCRYPT_N_MAX (1ULL << 20)
#define V3_SCRYPT_R_MAX 32ULL
#define V3_SCRYPT_P_MAX 16ULL
#define V3_SCRYPT_MEM_MAX (1ULL << 30)   /* 128 * n * r bytes */
#define V3_SCRYPT_WORK_MAX (1ULL << 24)  /* n * r * p */
#define V3_PBKDF2_C_MAX 10000000ULL
#define V3_SALT_MAX 256

typedef enum { V3_SCRYPT, V3_PBKDF2 } v3_kdf;

typedef struct v3_file {
    v3_kdf kdf;
    uint64_t n, r, p; /* scrypt */
    uint64_t c;       /* pbkdf2 */
    uint8_t salt[V3_SALT_MAX];
    size_t salt_len;
    uint8_t iv[16];
    uint8_t ct[32];
    size_t ct_len;    /* 1..32: shorter secrets are left-padded with zeros (as geth) */
    uint8_t mac[32];
    bool has_address;
    addr address;     /* the optional, unauthenticated "address" field */
} v3_file;

/* Strict parse with every bound checked (a refusal names the limit). */
int v3_parse(v3_file *f, const char *json, size_t len, err *e) __attribute__((warn_unused_result));
/* Derives, checks the MAC (ERR_AUTH: wrong passphrase) and decrypts into sk (guarded
 * memory); the secret must be a valid secp256k1 key matching any address field. */
int v3_decrypt(uint8_t sk[32], const v3_file *f, const char *passphrase, err *e)
    __attribute__((warn_unused_result));
/* Appends keystore v3 JSON for sk: scrypt N = 2^log_n, r = 8, p = 1, random salt/iv/id. */
int v3_encrypt(buf *out, const uint8_t sk[32], const addr *a, const char *passphrase,
               unsigned log_n, err *e) __attribute__((warn_unused_result));

#endif
