/* test_v3.c: keystore v3 against the Web3 Secret Storage Definition's published vectors
 * (scrypt and pbkdf2-sha256, tests/vectors/keystore_v3.json), wrong passwords, tampering,
 * and the bounds that refuse absurd KDF parameters (naming the limit) before deriving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "crypto/address.h"
#include "keystore/v3.h"

static json_t *vectors;

static int load_vectors(void **state)
{
    const char *root = getenv("FUSION_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/vectors/keystore_v3.json", root ? root : ".");
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        fprintf(stderr, "cannot load %s: %s\n", path, jerr.text);
        return -1;
    }
    vectors = json_incref(json_object_get(doc, "vectors"));
    json_decref(doc);
    return json_array_size(vectors) == 4 ? 0 : -1;
}

static int free_vectors(void **state)
{
    json_decref(vectors);
    return 0;
}

static json_t *vector(size_t i)
{
    return json_array_get(vectors, i);
}

/* Parses (and, with a password, decrypts) a JSON value as a keystore file. */
static int run(const json_t *j, const char *password, uint8_t sk[32], err *e)
{
    char *text = json_dumps(j, 0);
    assert_non_null(text);
    v3_file f;
    int rc = v3_parse(&f, text, strlen(text), e);
    if (rc == 0 && password)
        rc = v3_decrypt(sk, &f, password, e);
    free(text);
    return rc;
}

static void test_published_vectors(void **state)
{
    for (size_t i = 0; i < json_array_size(vectors); i++) {
        const json_t *v = vector(i);
        uint8_t want[32], got[32];
        assert_int_equal(hex_decode_exact(want, 32, json_string_value(json_object_get(v, "priv")),
                                          0, NULL), 0);
        err e;
        err_clear(&e);
        if (run(json_object_get(v, "json"), json_string_value(json_object_get(v, "password")),
                got, &e) < 0)
            fail_msg("%s: %s", json_string_value(json_object_get(v, "name")), e.msg);
        assert_memory_equal(got, want, 32);
    }
}

static void test_wrong_password(void **state)
{
    for (size_t i = 0; i < 2; i++) {
        uint8_t got[32];
        memset(got, 0xAA, sizeof got);
        err e;
        err_clear(&e);
        assert_int_equal(run(json_object_get(vector(i), "json"), "testpassworD", got, &e), -1);
        assert_int_equal(e.code, ERR_AUTH);
        assert_non_null(strstr(e.msg, "wrong passphrase"));
        static const uint8_t zero[32];
        assert_memory_equal(got, zero, 32);
    }
}

static json_t *crypto_of(json_t *j)
{
    return json_object_get(j, "crypto");
}

static void test_tampered(void **state)
{
    /* Flip one hex digit of mac, ciphertext and salt in the pbkdf2 vector. */
    static const char *const fields[] = {"mac", "ciphertext", "salt"};
    for (size_t i = 0; i < 3; i++) {
        json_t *j = json_deep_copy(json_object_get(vector(1), "json"));
        json_t *c = crypto_of(j);
        json_t *holder = i < 2 ? c : json_object_get(c, "kdfparams");
        char *s = strdup(json_string_value(json_object_get(holder, fields[i])));
        s[5] = s[5] == '0' ? '1' : '0';
        json_object_set_new(holder, fields[i], json_string(s));
        free(s);
        uint8_t got[32];
        err e;
        err_clear(&e);
        assert_int_equal(run(j, "testpassword", got, &e), -1);
        assert_int_equal(e.code, ERR_AUTH);
        json_decref(j);
    }
}

static void test_address_field(void **state)
{
    json_t *j = json_deep_copy(json_object_get(vector(2), "json"));
    uint8_t sk[32], got[32];
    assert_int_equal(hex_decode_exact(sk, 32, json_string_value(json_object_get(vector(2), "priv")),
                                      0, NULL), 0);
    addr a;
    assert_int_equal(addr_from_seckey(&a, sk), 0);
    char lower[ADDR_STR_MAX];
    addr_to_lower(lower, &a);
    json_object_set_new(j, "address", json_string(lower + 2));
    assert_int_equal(run(j, "foo", got, NULL), 0);
    assert_memory_equal(got, sk, 32);
    /* The v3 MAC does not cover the iv: a changed iv decrypts to another key, which
     * only the address field can catch. */
    json_t *cp = json_object_get(crypto_of(j), "cipherparams");
    char *iv = strdup(json_string_value(json_object_get(cp, "iv")));
    char *iv_bad = strdup(iv);
    iv_bad[0] = iv_bad[0] == '0' ? '1' : '0';
    json_object_set_new(cp, "iv", json_string(iv_bad));
    err e;
    err_clear(&e);
    assert_int_equal(run(j, "foo", got, &e), -1);
    assert_non_null(strstr(e.msg, "says address"));
    json_object_set_new(cp, "iv", json_string(iv));
    free(iv);
    free(iv_bad);
    lower[10] = lower[10] == '0' ? '1' : '0';
    json_object_set_new(j, "address", json_string(lower + 2));
    err_clear(&e);
    assert_int_equal(run(j, "foo", got, &e), -1);
    assert_non_null(strstr(e.msg, "says address"));
    json_decref(j);
}

/* Each absurd parameter set is refused by the parser (no derivation) naming the limit. */
static void test_bounds(void **state)
{
    static const struct {
        int base;          /* 0 scrypt vector, 1 pbkdf2 vector */
        const char *key;   /* in kdfparams, or "cipher"/"kdf"/"version" */
        json_int_t value;  /* integer values */
        const char *text;  /* string values (NULL: use value) */
        const char *expect;
    } cases[] = {
        {0, "n", 1 << 21, NULL, "exceeds the limit of 1048576"},
        {0, "n", 1LL << 40, NULL, "exceeds the limit of 1048576"},
        {0, "n", 3, NULL, "not a power of two"},
        {0, "n", 0, NULL, "not a power of two"},
        {0, "n", -262144, NULL, "non-negative"},
        {0, "r", 33, NULL, "outside the limit 1..32"},
        {0, "r", 0, NULL, "outside the limit 1..32"},
        {0, "p", 17, NULL, "outside the limit 1..16"},
        {0, "p", 1LL << 32, NULL, "outside the limit 1..16"},
        {0, "dklen", 64, NULL, "only 32"},
        {1, "c", 10000001, NULL, "outside the limit 1..10000000"},
        {1, "c", 0, NULL, "outside the limit 1..10000000"},
        {1, "prf", 0, "hmac-sha512", "only hmac-sha256"},
        {1, "kdf", 0, "argon2id", "scrypt or pbkdf2"},
        {1, "cipher", 0, "aes-128-cbc", "only aes-128-ctr"},
        {1, "version", 4, NULL, "not 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = json_deep_copy(json_object_get(vector(cases[i].base), "json"));
        json_t *c = crypto_of(j);
        json_t *val = cases[i].text ? json_string(cases[i].text) : json_integer(cases[i].value);
        if (strcmp(cases[i].key, "version") == 0)
            json_object_set_new(j, "version", val);
        else if (strcmp(cases[i].key, "cipher") == 0 || strcmp(cases[i].key, "kdf") == 0)
            json_object_set_new(c, cases[i].key, val);
        else
            json_object_set_new(json_object_get(c, "kdfparams"), cases[i].key, val);
        err e;
        err_clear(&e);
        if (run(j, NULL, NULL, &e) == 0)
            fail_msg("case %zu (%s) accepted", i, cases[i].key);
        if (!strstr(e.msg, cases[i].expect))
            fail_msg("case %zu: '%s' does not say '%s'", i, e.msg, cases[i].expect);
        json_decref(j);
    }
    /* Outside text is echoed with its controls and bidi marks as visible escapes. */
    json_t *evil = json_deep_copy(json_object_get(vector(1), "json"));
    json_object_set_new(crypto_of(evil), "kdf", json_string("\x1b]0;pwned\x07\xe2\x80\xae"));
    err ee;
    err_clear(&ee);
    assert_int_equal(run(evil, NULL, NULL, &ee), -1);
    for (const char *p = ee.msg; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
    assert_non_null(strstr(ee.msg, "\"\\x1b]0;pwned\\x07\\u202e\" is not supported"));
    json_decref(evil);
    /* Memory and total work bounds with each factor inside its own range. */
    json_t *j = json_deep_copy(json_object_get(vector(0), "json"));
    json_t *kp = json_object_get(crypto_of(j), "kdfparams");
    json_object_set_new(kp, "n", json_integer(1 << 20));
    json_object_set_new(kp, "r", json_integer(16));
    json_object_set_new(kp, "p", json_integer(1));
    err e;
    err_clear(&e);
    assert_int_equal(run(j, NULL, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "2147483648 bytes exceeds the limit of 1073741824 bytes"));
    json_object_set_new(kp, "r", json_integer(8));
    json_object_set_new(kp, "p", json_integer(4));
    err_clear(&e);
    assert_int_equal(run(j, NULL, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "n*r*p = 33554432 exceeds the limit of 16777216"));
    /* A salt of 300 bytes, a float where an integer belongs. */
    char big[601];
    memset(big, 'a', 600);
    big[600] = '\0';
    json_object_set_new(kp, "p", json_integer(1));
    json_object_set_new(kp, "salt", json_string(big));
    assert_int_equal(run(j, NULL, NULL, NULL), -1);
    json_object_set_new(kp, "salt", json_string("ab"));
    json_object_set_new(kp, "n", json_real(262144.0));
    err_clear(&e);
    assert_int_equal(run(j, NULL, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "\"n\" is not a non-negative integer"));
    json_decref(j);
    /* Not JSON, too big. */
    v3_file f;
    assert_int_equal(v3_parse(&f, "{\"version\": 3,", 14, NULL), -1);
    char *huge = calloc(1, V3_FILE_MAX + 2);
    memset(huge, ' ', V3_FILE_MAX + 1);
    err_clear(&e);
    assert_int_equal(v3_parse(&f, huge, V3_FILE_MAX + 1, &e), -1);
    assert_non_null(strstr(e.msg, "over the limit"));
    free(huge);
}

static void test_encrypt_round_trip(void **state)
{
    uint8_t sk[32], got[32];
    for (int i = 0; i < 32; i++)
        sk[i] = (uint8_t)(200 - i);
    addr a;
    assert_int_equal(addr_from_seckey(&a, sk), 0);
    buf out;
    buf_init(&out);
    assert_int_equal(v3_encrypt(&out, sk, &a, "pw", 10, NULL), 0);
    v3_file f;
    assert_int_equal(v3_parse(&f, (const char *)out.data, out.len, NULL), 0);
    assert_int_equal(f.n, 1024);
    assert_int_equal(f.r, 8);
    assert_int_equal(f.p, 1);
    assert_true(f.has_address);
    assert_true(addr_equal(&f.address, &a));
    assert_int_equal(v3_decrypt(got, &f, "pw", NULL), 0);
    assert_memory_equal(got, sk, 32);
    assert_int_equal(v3_decrypt(got, &f, "pW", NULL), -1);
    buf_free(&out);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_vectors),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_address_field),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_encrypt_round_trip),
    };
    return cmocka_run_group_tests(tests, load_vectors, free_vectors);
}
