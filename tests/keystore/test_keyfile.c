/* test_keyfile.c: the key file format on its own: round trip, wrong passphrase, every
 * field authenticated (edits with a recomputed checksum still fail to open), bounds,
 * unknown versions, labels. Argon2id runs with libsodium's MIN limits to stay fast;
 * the limits are in the file, so that is a legitimate key file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "crypto/address.h"
#include "keystore/keyfile.h"

static const char pass[] = "correct horse battery staple";

/* A key file for a fixed secret, sealed under pass with MIN limits. */
static void make_file(keyfile *kf, uint8_t sk[32], const char *label)
{
    memset(kf, 0, sizeof *kf);
    for (int i = 0; i < 32; i++)
        sk[i] = (uint8_t)(i + 1);
    assert_int_equal(addr_from_seckey(&kf->address, sk), 0);
    snprintf(kf->label, sizeof kf->label, "%s", label);
    snprintf(kf->created, sizeof kf->created, "2026-01-31T12:00:00Z");
    kf->opslimit = crypto_pwhash_OPSLIMIT_MIN;
    kf->memlimit = crypto_pwhash_MEMLIMIT_MIN;
    randombytes_buf(kf->salt, sizeof kf->salt);
    uint8_t key[KEYFILE_KEY_LEN];
    assert_int_equal(keyfile_derive(key, kf, pass, NULL), 0);
    assert_int_equal(keyfile_seal(kf, sk, key, NULL), 0);
}

/* Parses text and tries to open it with pass; returns 0 only when it all works. */
static int try_open(const char *text, size_t len, uint8_t out[32], err *e)
{
    keyfile kf;
    uint8_t key[KEYFILE_KEY_LEN];
    if (keyfile_parse(&kf, text, len, e) < 0 || keyfile_derive(key, &kf, pass, e) < 0)
        return -1;
    return keyfile_open(out, &kf, key, e);
}

static void test_round_trip(void **state)
{
    keyfile kf;
    uint8_t sk[32], out[32];
    make_file(&kf, sk, "treasury \"hot\" \\ Trésor 金库 🔑");
    buf text;
    buf_init(&text);
    assert_int_equal(keyfile_render(&text, &kf, NULL), 0);
    err e;
    err_clear(&e);
    assert_int_equal(try_open((const char *)text.data, text.len, out, &e), 0);
    assert_memory_equal(out, sk, 32);
    keyfile back;
    assert_int_equal(keyfile_parse(&back, (const char *)text.data, text.len, NULL), 0);
    assert_string_equal(back.label, kf.label);
    assert_string_equal(back.created, kf.created);
    assert_true(addr_equal(&back.address, &kf.address));
    /* The same secret sealed twice gives two different files (fresh nonce). */
    keyfile again = kf;
    uint8_t key[KEYFILE_KEY_LEN];
    assert_int_equal(keyfile_derive(key, &again, pass, NULL), 0);
    assert_int_equal(keyfile_seal(&again, sk, key, NULL), 0);
    assert_memory_not_equal(again.ct, kf.ct, sizeof kf.ct);
    buf_free(&text);
}

static void test_wrong_passphrase(void **state)
{
    keyfile kf;
    uint8_t sk[32], out[32], key[KEYFILE_KEY_LEN];
    make_file(&kf, sk, "x");
    memset(out, 0xAA, sizeof out);
    assert_int_equal(keyfile_derive(key, &kf, "correct horse battery stapLe", NULL), 0);
    err e;
    err_clear(&e);
    assert_int_equal(keyfile_open(out, &kf, key, &e), -1);
    assert_int_equal(e.code, ERR_AUTH);
    assert_non_null(strstr(e.msg, "wrong passphrase"));
    static const uint8_t zero[32];
    assert_memory_equal(out, zero, 32); /* nothing half-decrypted */
}

/* Flipping any bit pattern in any byte, or cutting the file anywhere, is rejected. */
static void test_every_byte(void **state)
{
    keyfile kf;
    uint8_t sk[32], out[32];
    make_file(&kf, sk, "flip");
    buf text;
    buf_init(&text);
    assert_int_equal(keyfile_render(&text, &kf, NULL), 0);
    static const uint8_t masks[] = {0x01, 0x02, 0x20, 0x80, 0xFF};
    char *copy = malloc(text.len);
    assert_non_null(copy);
    size_t tried = 0;
    for (size_t i = 0; i < text.len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(copy, text.data, text.len);
            copy[i] = (char)(copy[i] ^ masks[m]);
            err e;
            err_clear(&e);
            if (try_open(copy, text.len, out, &e) == 0)
                fail_msg("byte %zu xor 0x%02x was accepted", i, masks[m]);
            assert_true(e.msg[0] != '\0');
            tried++;
        }
    }
    for (size_t n = 0; n < text.len; n++) {
        err e;
        err_clear(&e);
        if (try_open((const char *)text.data, n, out, &e) == 0)
            fail_msg("truncation to %zu bytes was accepted", n);
    }
    assert_int_equal(tried, sizeof masks * text.len);
    /* Appending anything is a change too. */
    assert_int_equal(buf_append(&text, " ", 1, NULL), 0);
    assert_int_equal(try_open((const char *)text.data, text.len, out, NULL), -1);
    free(copy);
    buf_free(&text);
}

/* Deliberate edits that keep the file well-formed (checksum recomputed by rendering) are
 * caught by the AEAD: every field is additional data. */
static void test_fields_authenticated(void **state)
{
    keyfile kf;
    uint8_t sk[32], out[32];
    make_file(&kf, sk, "cold");
    uint8_t other_sk[32];
    memset(other_sk, 0x42, sizeof other_sk);
    addr other;
    assert_int_equal(addr_from_seckey(&other, other_sk), 0);
    for (int field = 0; field < 9; field++) {
        keyfile t = kf;
        switch (field) {
        case 0: snprintf(t.label, sizeof t.label, "hot"); break;
        case 1: t.created[3] = t.created[3] == '6' ? '7' : '6'; break;
        case 2: t.opslimit += 1; break;
        case 3: t.memlimit *= 2; break;
        case 4: t.salt[0] ^= 1; break;
        case 5: t.nonce[23] ^= 1; break;
        case 6: t.ct[0] ^= 1; break;
        case 7: t.ct[sizeof t.ct - 1] ^= 1; break; /* the tag */
        default: t.address = other; break;
        }
        buf text;
        buf_init(&text);
        assert_int_equal(keyfile_render(&text, &t, NULL), 0);
        err e;
        err_clear(&e);
        if (try_open((const char *)text.data, text.len, out, &e) == 0)
            fail_msg("edit of field %d was accepted", field);
        assert_int_equal(e.code, ERR_AUTH);
        buf_free(&text);
    }
}

static char *replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    assert_non_null(at);
    size_t n = strlen(text) - strlen(from) + strlen(to);
    char *s = calloc(1, n + 1);
    assert_non_null(s);
    memcpy(s, text, (size_t)(at - text));
    strcat(s, to);
    strcat(s, at + strlen(from));
    return s;
}

static void test_version_and_bounds(void **state)
{
    keyfile kf;
    uint8_t sk[32];
    make_file(&kf, sk, "v");
    buf text;
    buf_init(&text);
    assert_int_equal(keyfile_render(&text, &kf, NULL), 0);
    assert_int_equal(buf_push(&text, 0, NULL), 0);
    const char *s = (const char *)text.data;
    keyfile back;
    err e;

    char *v2 = replace(s, "\"version\": 1", "\"version\": 2");
    err_clear(&e);
    assert_int_equal(keyfile_parse(&back, v2, strlen(v2), &e), -1);
    assert_non_null(strstr(e.msg, "format version 2"));
    free(v2);

    char ops[64], mem[64];
    snprintf(ops, sizeof ops, "\"opslimit\": %llu", (unsigned long long)kf.opslimit);
    snprintf(mem, sizeof mem, "\"memlimit\": %llu", (unsigned long long)kf.memlimit);
    char *big_ops = replace(s, ops, "\"opslimit\": 4000000000");
    err_clear(&e);
    assert_int_equal(keyfile_parse(&back, big_ops, strlen(big_ops), &e), -1);
    assert_non_null(strstr(e.msg, "opslimit 4000000000 is outside the accepted range 1..32"));
    free(big_ops);
    char *big_mem = replace(s, mem, "\"memlimit\": 1099511627776");
    err_clear(&e);
    assert_int_equal(keyfile_parse(&back, big_mem, strlen(big_mem), &e), -1);
    assert_non_null(strstr(e.msg, "memlimit 1099511627776 is outside the accepted range"));
    free(big_mem);

    char *not_json = replace(s, "{", "[");
    err_clear(&e);
    assert_int_equal(keyfile_parse(&back, not_json, strlen(not_json), &e), -1);
    assert_non_null(strstr(e.msg, "modified or damaged"));
    free(not_json);
    buf_free(&text);
}

static void test_labels(void **state)
{
    static const char *const bad[] = {
        "tab\there", "new\nline", "del\x7f", "c1 \xc2\x9b csi", "rlo \xe2\x80\xae txt",
        "isolate \xe2\x81\xa6", "bad utf8 \xc3", "overlong \xc0\xaf", "surrogate \xed\xa0\x80",
        "line \xe2\x80\xa8 separator", "arabic mark \xd8\x9c",
        "0123456789012345678901234567890123456789012345678901234567890123456789",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err e;
        err_clear(&e);
        if (keyfile_label_check(bad[i], &e) == 0)
            fail_msg("label %zu accepted", i);
        assert_int_equal(e.code, ERR_INVALID);
    }
    assert_int_equal(keyfile_label_check("", NULL), 0);
    assert_int_equal(keyfile_label_check("Desk A / settlement #2 — €", NULL), 0);
    assert_int_equal(keyfile_label_check("0123456789012345678901234567890123456789012345678901234"
                                         "567890123", NULL), 0); /* exactly 64 bytes */
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_wrong_passphrase),
        cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_fields_authenticated),
        cmocka_unit_test(test_version_and_bounds),
        cmocka_unit_test(test_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
