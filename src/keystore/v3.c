/* v3.c: keystore v3 ("Web3 Secret Storage Definition") decryption and encryption. The
 * derived key dk is 32 bytes: dk[0..16] is the AES-128-CTR key and the MAC is
 * keccak256(dk[16..32] || ciphertext). Nothing is decrypted before the MAC matches. */
#include "keystore/v3.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "crypto/keccak.h"
#include "crypto/secp.h"
#include "keystore/ossl.h"

static const char *get_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

/* Hex field of min..max bytes. */
static int get_hex(uint8_t *out, size_t *out_len, size_t min, size_t max, const json_t *obj,
                   const char *key, err *e)
{
    const char *s = get_str(obj, key);
    size_t n = 0;
    if (!s)
        return err_set(e, ERR_INVALID, "keystore file: \"%s\" is missing or not a string", key);
    if (strlen(s) > 2 * max + 2 ||
        hex_decode(out, max, &n, s, strlen(s), HEX_ALLOW_PREFIX, NULL) < 0 || n < min)
        return err_set(e, ERR_INVALID, "keystore file: \"%s\" is not hex of %zu..%zu bytes", key,
                       min, max);
    if (out_len)
        *out_len = n;
    return 0;
}

static int get_uint(uint64_t *out, const json_t *obj, const char *key, err *e)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return err_set(e, ERR_INVALID, "keystore file: kdfparams \"%s\" is not a non-negative "
                       "integer", key);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int check_scrypt(const v3_file *f, err *e)
{
    if (f->n < 2 || (f->n & (f->n - 1)) != 0)
        return err_set(e, ERR_INVALID, "keystore scrypt n = %" PRIu64 " is not a power of two "
                       "of at least 2", f->n);
    if (f->n > V3_SCRYPT_N_MAX)
        return err_set(e, ERR_INVALID, "keystore scrypt n = %" PRIu64 " exceeds the limit of "
                       "%llu (2^20): refused as a denial of service", f->n, V3_SCRYPT_N_MAX);
    if (f->r < 1 || f->r > V3_SCRYPT_R_MAX)
        return err_set(e, ERR_INVALID, "keystore scrypt r = %" PRIu64 " is outside the limit "
                       "1..%llu: refused", f->r, V3_SCRYPT_R_MAX);
    if (f->p < 1 || f->p > V3_SCRYPT_P_MAX)
        return err_set(e, ERR_INVALID, "keystore scrypt p = %" PRIu64 " is outside the limit "
                       "1..%llu: refused", f->p, V3_SCRYPT_P_MAX);
    uint64_t mem = 128 * f->n * f->r;
    if (mem > V3_SCRYPT_MEM_MAX)
        return err_set(e, ERR_INVALID, "keystore scrypt memory 128*n*r = %" PRIu64 " bytes "
                       "exceeds the limit of %llu bytes (1 GiB): refused", mem,
                       V3_SCRYPT_MEM_MAX);
    uint64_t work = f->n * f->r * f->p;
    if (work > V3_SCRYPT_WORK_MAX)
        return err_set(e, ERR_INVALID, "keystore scrypt cost n*r*p = %" PRIu64 " exceeds the "
                       "limit of %llu (2^24): refused", work, V3_SCRYPT_WORK_MAX);
    return 0;
}

static int parse_kdf(v3_file *f, const json_t *crypto, err *e)
{
    const char *kdf = get_str(crypto, "kdf");
    const json_t *kp = json_object_get(crypto, "kdfparams");
    if (!kdf || !json_is_object(kp))
        return err_set(e, ERR_INVALID, "keystore file: \"kdf\" or \"kdfparams\" is missing");
    uint64_t dklen;
    if (get_uint(&dklen, kp, "dklen", e) < 0)
        return -1;
    if (dklen != 32)
        return err_set(e, ERR_INVALID, "keystore dklen = %" PRIu64 " is not supported (only 32)",
                       dklen);
    if (get_hex(f->salt, &f->salt_len, 1, V3_SALT_MAX, kp, "salt", e) < 0)
        return -1;
    if (strcmp(kdf, "scrypt") == 0) {
        f->kdf = V3_SCRYPT;
        if (get_uint(&f->n, kp, "n", e) < 0 || get_uint(&f->r, kp, "r", e) < 0 ||
            get_uint(&f->p, kp, "p", e) < 0)
            return -1;
        return check_scrypt(f, e);
    }
    if (strcmp(kdf, "pbkdf2") == 0) {
        f->kdf = V3_PBKDF2;
        const char *prf = get_str(kp, "prf");
        char shown[64];
        if (!prf || strcmp(prf, "hmac-sha256") != 0)
            return err_set(e, ERR_INVALID, "keystore pbkdf2 prf \"%s\" is not supported (only "
                           "hmac-sha256)", text_safe_str(shown, sizeof shown, prf ? prf : "(missing)"));
        if (get_uint(&f->c, kp, "c", e) < 0)
            return -1;
        if (f->c < 1 || f->c > V3_PBKDF2_C_MAX)
            return err_set(e, ERR_INVALID, "keystore pbkdf2 iterations c = %" PRIu64 " are "
                           "outside the limit 1..%llu: refused", f->c, V3_PBKDF2_C_MAX);
        return 0;
    }
    char shown[64];
    return err_set(e, ERR_INVALID, "keystore kdf \"%s\" is not supported (scrypt or pbkdf2)",
                   text_safe_str(shown, sizeof shown, kdf));
}

static int parse_root(v3_file *f, const json_t *root, err *e)
{
    const json_t *ver = json_object_get(root, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 3)
        return err_set(e, ERR_INVALID, "not a keystore v3 file (\"version\" is not 3)");
    const json_t *crypto = json_object_get(root, "crypto");
    if (!crypto)
        crypto = json_object_get(root, "Crypto");
    if (!json_is_object(crypto))
        return err_set(e, ERR_INVALID, "keystore file: \"crypto\" is missing");
    const char *cipher = get_str(crypto, "cipher");
    char shown[64];
    if (!cipher || strcmp(cipher, "aes-128-ctr") != 0)
        return err_set(e, ERR_INVALID, "keystore cipher \"%s\" is not supported (only "
                       "aes-128-ctr)", text_safe_str(shown, sizeof shown, cipher ? cipher : "(missing)"));
    const json_t *cp = json_object_get(crypto, "cipherparams");
    if (!json_is_object(cp) || get_hex(f->iv, NULL, 16, 16, cp, "iv", e) < 0 ||
        get_hex(f->ct, &f->ct_len, 1, 32, crypto, "ciphertext", e) < 0 ||
        get_hex(f->mac, NULL, 32, 32, crypto, "mac", e) < 0)
        return json_is_object(cp) ? -1
                                  : err_set(e, ERR_INVALID, "keystore file: no cipherparams");
    if (parse_kdf(f, crypto, e) < 0)
        return -1;
    const json_t *a = json_object_get(root, "address");
    if (a) {
        if (get_hex(f->address.b, NULL, ADDR_LEN, ADDR_LEN, root, "address", e) < 0)
            return -1;
        f->has_address = true;
    }
    return 0;
}

int v3_parse(v3_file *f, const char *json, size_t len, err *e)
{
    memset(f, 0, sizeof *f);
    if (len > V3_FILE_MAX)
        return err_set(e, ERR_INVALID, "keystore file is %zu bytes, over the limit of %d: refused",
                       len, V3_FILE_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    char shown[64];
    if (!root)
        return err_set(e, ERR_INVALID, "keystore file is not valid JSON (line %d: %s)", jerr.line,
                       text_safe_str(shown, sizeof shown, jerr.text));
    int rc = json_is_object(root) ? parse_root(f, root, e)
                                  : err_set(e, ERR_INVALID, "keystore file is not a JSON object");
    json_decref(root);
    return rc;
}

static void v3_mac(uint8_t out[32], const uint8_t *dk, const uint8_t *ct, size_t ct_len)
{
    keccak256_ctx k;
    keccak256_init(&k);
    keccak256_update(&k, dk + 16, 16);
    keccak256_update(&k, ct, ct_len);
    keccak256_final(&k, out);
}

static int derive(uint8_t *dk, const v3_file *f, const char *passphrase, err *e)
{
    size_t plen = strlen(passphrase);
    if (f->kdf == V3_SCRYPT) {
        if (crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)passphrase, plen, f->salt,
                                                  f->salt_len, f->n, (uint32_t)f->r,
                                                  (uint32_t)f->p, dk, 32) != 0)
            return err_set(e, ERR_NOMEM, "scrypt failed (out of memory?)");
        return 0;
    }
    if (ossl_pbkdf2_sha256(dk, 32, passphrase, plen, f->salt, f->salt_len, f->c) < 0)
        return err_set(e, ERR_CRYPTO, "pbkdf2 failed");
    return 0;
}

int v3_decrypt(uint8_t sk[32], const v3_file *f, const char *passphrase, err *e)
{
    uint8_t *dk = sodium_malloc(32 + 32);
    if (!dk)
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    uint8_t *plain = dk + 32;
    int rc = -1;
    sodium_memzero(sk, 32);
    if (derive(dk, f, passphrase, e) < 0)
        goto out;
    uint8_t mac[32];
    v3_mac(mac, dk, f->ct, f->ct_len);
    if (sodium_memcmp(mac, f->mac, 32) != 0) {
        err_set(e, ERR_AUTH, "wrong passphrase for the keystore file (its MAC does not match)");
        goto out;
    }
    if (ossl_aes128_ctr(plain, f->ct, f->ct_len, dk, f->iv) < 0) {
        err_set(e, ERR_CRYPTO, "AES-128-CTR failed");
        goto out;
    }
    memcpy(sk + 32 - f->ct_len, plain, f->ct_len);
    addr a;
    if (!secp_seckey_valid(sk) || addr_from_seckey(&a, sk) < 0) {
        err_set(e, ERR_INVALID, "the keystore file holds an invalid secp256k1 secret");
        goto out;
    }
    if (f->has_address && !addr_equal(&a, &f->address)) {
        char want[ADDR_STR_MAX], got[ADDR_STR_MAX];
        addr_to_checksum(want, &f->address);
        addr_to_checksum(got, &a);
        err_set(e, ERR_INVALID, "the keystore file says address %s but its key is %s: refused",
                want, got);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        sodium_memzero(sk, 32);
    sodium_free(dk);
    return rc;
}

int v3_encrypt(buf *out, const uint8_t sk[32], const addr *a, const char *passphrase,
               unsigned log_n, err *e)
{
    if (log_n < 1 || log_n > 20)
        return err_set(e, ERR_INVALID, "scrypt log2(n) %u is outside 1..20", log_n);
    v3_file f;
    memset(&f, 0, sizeof f);
    f.kdf = V3_SCRYPT;
    f.n = 1ULL << log_n;
    f.r = 8;
    f.p = 1;
    f.salt_len = 32;
    f.ct_len = 32;
    randombytes_buf(f.salt, f.salt_len);
    randombytes_buf(f.iv, sizeof f.iv);
    uint8_t *dk = sodium_malloc(32);
    if (!dk)
        return err_set(e, ERR_NOMEM, "out of guarded memory");
    int rc = -1;
    if (derive(dk, &f, passphrase, e) < 0)
        goto out;
    if (ossl_aes128_ctr(f.ct, sk, 32, dk, f.iv) < 0) {
        err_set(e, ERR_CRYPTO, "AES-128-CTR failed");
        goto out;
    }
    v3_mac(f.mac, dk, f.ct, 32);
    uint8_t id[16];
    randombytes_buf(id, sizeof id);
    id[6] = (uint8_t)((id[6] & 0x0F) | 0x40); /* UUID version 4 */
    id[8] = (uint8_t)((id[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    char address[41], salt[65], iv[33], ct[65], mac[65], idh[33], uuid[37];
    hex_encode(address, sizeof address, a->b, ADDR_LEN, false);
    hex_encode(salt, sizeof salt, f.salt, 32, false);
    hex_encode(iv, sizeof iv, f.iv, 16, false);
    hex_encode(ct, sizeof ct, f.ct, 32, false);
    hex_encode(mac, sizeof mac, f.mac, 32, false);
    hex_encode(idh, sizeof idh, id, 16, false);
    snprintf(uuid, sizeof uuid, "%.8s-%.4s-%.4s-%.4s-%.12s", idh, idh + 8, idh + 12, idh + 16,
             idh + 20);
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "{\n  \"address\": \"%s\",\n  \"crypto\": {\n"
                     "    \"cipher\": \"aes-128-ctr\",\n"
                     "    \"cipherparams\": {\"iv\": \"%s\"},\n"
                     "    \"ciphertext\": \"%s\",\n    \"kdf\": \"scrypt\",\n"
                     "    \"kdfparams\": {\"dklen\": 32, \"n\": %" PRIu64 ", \"p\": 1, \"r\": 8, "
                     "\"salt\": \"%s\"},\n    \"mac\": \"%s\"\n  },\n"
                     "  \"id\": \"%s\",\n  \"version\": 3\n}\n",
                     address, iv, ct, f.n, salt, mac, uuid);
    if (n < 0 || (size_t)n >= sizeof text) {
        err_set(e, ERR_INTERNAL, "keystore v3 text too long");
        goto out;
    }
    rc = buf_append(out, text, (size_t)n, e);
out:
    sodium_free(dk);
    return rc;
}
