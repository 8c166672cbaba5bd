/* keyfile.c: key file format version 1 (see keyfile.h and docs/keys.md). The text is
 * rendered by one function and parsing ends by re-rendering and comparing bytes, so
 * whitespace, escapes, key order and hex case are all fixed. The checksum line (SHA-256
 * of the lines above it) tells accidental damage apart from a wrong passphrase; the AEAD
 * additional data covering every field is what stops deliberate edits. */
#include "keystore/keyfile.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/text.h"

#define DAMAGED "was modified or damaged"

static const char ad_magic[] = "fusion-key";

int keyfile_label_check(const char *label, err *e)
{
    size_t len = strlen(label);
    if (len > KS_LABEL_MAX)
        return err_set(e, ERR_INVALID, "label is %zu bytes; at most %d are allowed", len,
                       KS_LABEL_MAX);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = text_utf8_next(label + i, len - i, &cp);
        if (n == 0)
            return err_set(e, ERR_INVALID, "label is not valid UTF-8");
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return err_set(e, ERR_INVALID, "label contains a control character");
        if (!text_cp_safe(cp))
            return err_set(e, ERR_INVALID,
                           "label contains a bidirectional text control or a line separator");
        i += n;
    }
    return 0;
}

void keyfile_now(char out[KS_CREATED_LEN + 1])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, KS_CREATED_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int created_check(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != KS_CREATED_LEN)
        return -1;
    for (size_t i = 0; i < KS_CREATED_LEN; i++) {
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
            return -1;
    }
    return 0;
}

static int put(buf *b, const char *s, err *e)
{
    return buf_append(b, s, strlen(s), e);
}

static int put_hex(buf *b, const uint8_t *p, size_t n, err *e)
{
    char hex[2 * KEYFILE_CT_LEN + 1];
    hex_encode(hex, sizeof hex, p, n, false);
    return put(b, hex, e);
}

int keyfile_render(buf *out, const keyfile *kf, err *e)
{
    buf b;
    buf_init(&b);
    char address[ADDR_STR_MAX];
    addr_to_checksum(address, &kf->address);
    char num[96];
    int rc = -1;
    if (put(&b, "{\n  \"version\": 1,\n  \"address\": \"", e) < 0 || put(&b, address, e) < 0 ||
        put(&b, "\",\n  \"label\": \"", e) < 0)
        goto out;
    for (const char *p = kf->label; *p; p++) {
        if ((*p == '"' || *p == '\\') && buf_push(&b, '\\', e) < 0)
            goto out;
        if (buf_push(&b, (uint8_t)*p, e) < 0)
            goto out;
    }
    snprintf(num, sizeof num, "\"opslimit\": %" PRIu64 ", \"memlimit\": %" PRIu64 ", ",
             kf->opslimit, kf->memlimit);
    if (put(&b, "\",\n  \"created\": \"", e) < 0 || put(&b, kf->created, e) < 0 ||
        put(&b, "\",\n  \"kdf\": {\"name\": \"" KEYFILE_KDF "\", ", e) < 0 || put(&b, num, e) < 0 ||
        put(&b, "\"salt\": \"", e) < 0 || put_hex(&b, kf->salt, sizeof kf->salt, e) < 0 ||
        put(&b, "\"},\n  \"cipher\": {\"name\": \"" KEYFILE_CIPHER "\", \"nonce\": \"", e) < 0 ||
        put_hex(&b, kf->nonce, sizeof kf->nonce, e) < 0 ||
        put(&b, "\"},\n  \"ciphertext\": \"", e) < 0 ||
        put_hex(&b, kf->ct, sizeof kf->ct, e) < 0 || put(&b, "\",\n", e) < 0)
        goto out;
    uint8_t sum[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(sum, b.data, b.len);
    if (put(&b, "  \"checksum\": \"", e) < 0 || put_hex(&b, sum, sizeof sum, e) < 0 ||
        put(&b, "\"\n}\n", e) < 0 || buf_append(out, b.data, b.len, e) < 0)
        goto out;
    rc = 0;
out:
    buf_free(&b);
    return rc;
}

static const char *get_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

static int get_hex(uint8_t *out, size_t n, const json_t *obj, const char *key, err *e)
{
    const char *s = get_str(obj, key);
    if (!s || strlen(s) != 2 * n || hex_decode_exact(out, n, s, 0, NULL) < 0)
        return err_set(e, ERR_INVALID, DAMAGED ": \"%s\" is not %zu bytes of hex", key, n);
    return 0;
}

static int get_limit(uint64_t *out, const json_t *kdf, const char *key, uint64_t lo, uint64_t hi,
                     err *e)
{
    const json_t *v = json_object_get(kdf, key);
    if (!json_is_integer(v))
        return err_set(e, ERR_INVALID, DAMAGED ": kdf %s is not an integer", key);
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
        return err_set(e, ERR_INVALID, DAMAGED ": Argon2id %s %lld is outside the accepted range "
                       "%" PRIu64 "..%" PRIu64, key, (long long)x, lo, hi);
    *out = (uint64_t)x;
    return 0;
}

static int parse_fields(keyfile *kf, const json_t *root, err *e)
{
    const json_t *ver = json_object_get(root, "version");
    if (!json_is_integer(ver))
        return err_set(e, ERR_INVALID, DAMAGED ": it has no integer \"version\"");
    if (json_integer_value(ver) != KEYFILE_VERSION)
        return err_set(e, ERR_INVALID, "has format version %lld, which this fusion does not read "
                       "(it reads version %d); use a newer fusion",
                       (long long)json_integer_value(ver), KEYFILE_VERSION);
    const char *address = get_str(root, "address");
    if (!address || addr_parse(&kf->address, address, NULL) < 0)
        return err_set(e, ERR_INVALID, DAMAGED ": \"address\" is not a valid address");
    const char *label = get_str(root, "label");
    if (!label)
        return err_set(e, ERR_INVALID, DAMAGED ": \"label\" is missing");
    if (keyfile_label_check(label, e) < 0)
        return err_prefix(e, DAMAGED);
    memcpy(kf->label, label, strlen(label) + 1);
    const char *created = get_str(root, "created");
    if (!created || created_check(created) < 0)
        return err_set(e, ERR_INVALID, DAMAGED ": \"created\" is not a UTC ISO 8601 time");
    memcpy(kf->created, created, KS_CREATED_LEN + 1);
    const json_t *kdf = json_object_get(root, "kdf");
    const char *kdf_name = get_str(kdf, "name");
    if (!json_is_object(kdf) || !kdf_name || strcmp(kdf_name, KEYFILE_KDF) != 0)
        return err_set(e, ERR_INVALID, DAMAGED ": \"kdf\" is not " KEYFILE_KDF);
    if (get_limit(&kf->opslimit, kdf, "opslimit", KEYFILE_OPSLIMIT_MIN, KEYFILE_OPSLIMIT_MAX,
                  e) < 0 ||
        get_limit(&kf->memlimit, kdf, "memlimit", KEYFILE_MEMLIMIT_MIN, KEYFILE_MEMLIMIT_MAX,
                  e) < 0 ||
        get_hex(kf->salt, sizeof kf->salt, kdf, "salt", e) < 0)
        return -1;
    const json_t *cipher = json_object_get(root, "cipher");
    const char *cipher_name = get_str(cipher, "name");
    if (!json_is_object(cipher) || !cipher_name || strcmp(cipher_name, KEYFILE_CIPHER) != 0)
        return err_set(e, ERR_INVALID, DAMAGED ": \"cipher\" is not " KEYFILE_CIPHER);
    if (get_hex(kf->nonce, sizeof kf->nonce, cipher, "nonce", e) < 0 ||
        get_hex(kf->ct, sizeof kf->ct, root, "ciphertext", e) < 0)
        return -1;
    return 0;
}

int keyfile_parse(keyfile *kf, const char *text, size_t len, err *e)
{
    memset(kf, 0, sizeof *kf);
    if (len > KEYFILE_MAX)
        return err_set(e, ERR_INVALID, "is %zu bytes; key files are smaller than %d: refused",
                       len, KEYFILE_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    char shown[64];
    if (!root)
        return err_set(e, ERR_INVALID, DAMAGED ": not valid JSON (line %d: %s)", jerr.line,
                       text_safe_str(shown, sizeof shown, jerr.text));
    int rc = -1;
    if (!json_is_object(root)) {
        err_set(e, ERR_INVALID, DAMAGED ": not a JSON object");
        goto out;
    }
    if (parse_fields(kf, root, e) < 0)
        goto out;
    buf again;
    buf_init(&again);
    if (keyfile_render(&again, kf, e) < 0) {
        buf_free(&again);
        goto out;
    }
    bool same = again.len == len && memcmp(again.data, text, len) == 0;
    buf_free(&again);
    if (!same) {
        err_set(e, ERR_INVALID, DAMAGED " (it is not byte for byte what fusion wrote: its "
                "checksum or layout differs); restore it from a backup");
        goto out;
    }
    rc = 0;
out:
    json_decref(root);
    if (rc < 0)
        memset(kf, 0, sizeof *kf);
    return rc;
}

int keyfile_derive(uint8_t *key, const keyfile *kf, const char *passphrase, err *e)
{
    if (kf->opslimit < KEYFILE_OPSLIMIT_MIN || kf->opslimit > KEYFILE_OPSLIMIT_MAX ||
        kf->memlimit < KEYFILE_MEMLIMIT_MIN || kf->memlimit > KEYFILE_MEMLIMIT_MAX)
        return err_set(e, ERR_INVALID, "Argon2id limits out of range");
    if (crypto_pwhash(key, KEYFILE_KEY_LEN, passphrase, strlen(passphrase), kf->salt,
                      kf->opslimit, (size_t)kf->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return err_set(e, ERR_NOMEM, "key derivation failed: not enough memory for Argon2id "
                       "with memlimit %" PRIu64 " bytes", kf->memlimit);
    return 0;
}

static void put_field(buf *ad, const void *p, size_t n, int *bad)
{
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    if (buf_append(ad, len, 4, NULL) < 0 || buf_append(ad, p, n, NULL) < 0)
        *bad = 1;
}

/* The additional data: every field except the nonce (which the AEAD covers itself) and
 * the ciphertext, each length-prefixed so that no two files share an encoding. */
static int build_ad(buf *ad, const keyfile *kf, err *e)
{
    char address[ADDR_STR_MAX], ops[24], mem[24];
    addr_to_checksum(address, &kf->address);
    snprintf(ops, sizeof ops, "%" PRIu64, kf->opslimit);
    snprintf(mem, sizeof mem, "%" PRIu64, kf->memlimit);
    int bad = 0;
    put_field(ad, ad_magic, sizeof ad_magic - 1, &bad);
    put_field(ad, "1", 1, &bad);
    put_field(ad, address, strlen(address), &bad);
    put_field(ad, kf->label, strlen(kf->label), &bad);
    put_field(ad, kf->created, strlen(kf->created), &bad);
    put_field(ad, KEYFILE_KDF, strlen(KEYFILE_KDF), &bad);
    put_field(ad, ops, strlen(ops), &bad);
    put_field(ad, mem, strlen(mem), &bad);
    put_field(ad, kf->salt, sizeof kf->salt, &bad);
    put_field(ad, KEYFILE_CIPHER, strlen(KEYFILE_CIPHER), &bad);
    if (bad)
        return err_set(e, ERR_NOMEM, "out of memory building a key file");
    return 0;
}

int keyfile_seal(keyfile *kf, const uint8_t sk[32], const uint8_t *key, err *e)
{
    buf ad;
    buf_init(&ad);
    if (build_ad(&ad, kf, e) < 0)
        return -1;
    randombytes_buf(kf->nonce, sizeof kf->nonce);
    unsigned long long clen = 0;
    int rc = crypto_aead_xchacha20poly1305_ietf_encrypt(kf->ct, &clen, sk, 32, ad.data, ad.len,
                                                        NULL, kf->nonce, key);
    buf_free(&ad);
    if (rc != 0 || clen != sizeof kf->ct)
        return err_set(e, ERR_CRYPTO, "sealing the key failed");
    return 0;
}

int keyfile_open(uint8_t sk[32], const keyfile *kf, const uint8_t *key, err *e)
{
    buf ad;
    buf_init(&ad);
    if (build_ad(&ad, kf, e) < 0)
        return -1;
    unsigned long long mlen = 0;
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(sk, &mlen, NULL, kf->ct, sizeof kf->ct,
                                                        ad.data, ad.len, kf->nonce, key);
    buf_free(&ad);
    if (rc != 0 || mlen != 32) {
        sodium_memzero(sk, 32);
        return err_set(e, ERR_AUTH, "wrong passphrase");
    }
    addr derived;
    if (addr_from_seckey(&derived, sk) < 0 || !addr_equal(&derived, &kf->address)) {
        sodium_memzero(sk, 32);
        return err_set(e, ERR_AUTH, "the sealed secret does not belong to the file's address");
    }
    return 0;
}
