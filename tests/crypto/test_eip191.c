/* test_eip191.c: personal_sign messages (crypto/eip191.h) against the web3.js
 * documentation's example and the execution-apis eth_sign example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/eip191.h"
#include "vectors.h"

static void test_hash(void **state)
{
    vectors v;
    vectors_open(&v, "eip191.txt");
    int n = 0;
    while (vectors_next(&v) > 0) {
        if (strcmp(v.field[0], "hash") != 0)
            continue;
        uint8_t msg[256], want[32], got[32];
        size_t len = strcmp(v.field[1], "-") == 0 ? 0 : vectors_hex(msg, sizeof msg, v.field[1]);
        vectors_hex(want, 32, v.field[2]);
        eip191_hash(got, len ? msg : NULL, len);
        assert_memory_equal(got, want, 32);
        n++;
    }
    vectors_close(&v);
    assert_true(n >= 2);
}

static void test_sign_published(void **state)
{
    vectors v;
    vectors_open(&v, "eip191.txt");
    int n = 0;
    while (vectors_next(&v) > 0) {
        if (strcmp(v.field[0], "sign") != 0)
            continue;
        uint8_t sk[32], msg[256], digest[32], want[65], sig[65], h[32];
        vectors_hex(sk, 32, v.field[1]);
        size_t len = vectors_hex(msg, sizeof msg, v.field[2]);
        vectors_hex(digest, 32, v.field[3]);
        vectors_hex(want, 65, v.field[4]);
        eip191_hash(h, msg, len);
        assert_memory_equal(h, digest, 32);
        assert_int_equal(eip191_sign(sig, msg, len, sk), 0);
        assert_memory_equal(sig, want, 65);
        /* Recovery names the key's address. */
        addr signer, mine;
        assert_int_equal(eip191_recover(&signer, sig, msg, len), 0);
        assert_int_equal(addr_from_seckey(&mine, sk), 0);
        assert_true(addr_equal(&signer, &mine));
        /* v as 0/1 (some hardware wallets) recovers the same. */
        sig[64] -= 27;
        assert_int_equal(eip191_recover(&signer, sig, msg, len), 0);
        assert_true(addr_equal(&signer, &mine));
        /* Anything else is malformed. */
        const uint8_t bad_v[] = {2, 26, 29, 30, 35, 37, 255};
        for (size_t i = 0; i < sizeof bad_v; i++) {
            sig[64] = bad_v[i];
            assert_int_equal(eip191_recover(&signer, sig, msg, len), -1);
        }
        /* A changed message recovers someone else. */
        memcpy(sig, want, 65);
        msg[0] ^= 1;
        if (eip191_recover(&signer, sig, msg, len) == 0)
            assert_false(addr_equal(&signer, &mine));
        n++;
    }
    vectors_close(&v);
    assert_true(n >= 1);
}

static void test_recover_published(void **state)
{
    vectors v;
    vectors_open(&v, "eip191.txt");
    int n = 0;
    while (vectors_next(&v) > 0) {
        if (strcmp(v.field[0], "recover") != 0)
            continue;
        addr want, got;
        assert_int_equal(addr_parse(&want, v.field[1], NULL), 0);
        uint8_t msg[256], sig[65];
        size_t len = vectors_hex(msg, sizeof msg, v.field[2]);
        vectors_hex(sig, 65, v.field[3]);
        assert_int_equal(eip191_recover(&got, sig, msg, len), 0);
        assert_true(addr_equal(&got, &want));
        n++;
    }
    vectors_close(&v);
    assert_true(n >= 1);
}

static void test_round_trip_and_invalid_key(void **state)
{
    uint8_t sk[32];
    for (int i = 0; i < 32; i++)
        sk[i] = (uint8_t)(i * 7 + 3);
    addr mine;
    assert_int_equal(addr_from_seckey(&mine, sk), 0);
    /* Lengths whose decimal form changes digit count, including empty. */
    static const size_t lens[] = {0, 1, 9, 10, 99, 100, 1000};
    static uint8_t msg[1000];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        uint8_t sig[65], sig2[65];
        addr signer;
        assert_int_equal(eip191_sign(sig, msg, lens[i], sk), 0);
        assert_true(sig[64] == 27 || sig[64] == 28);
        assert_int_equal(eip191_sign(sig2, msg, lens[i], sk), 0);
        assert_memory_equal(sig, sig2, 65);
        assert_int_equal(eip191_recover(&signer, sig, msg, lens[i]), 0);
        assert_true(addr_equal(&signer, &mine));
    }
    uint8_t zero[32] = {0}, sig[65];
    assert_int_equal(eip191_sign(sig, "x", 1, zero), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_sign_published),
        cmocka_unit_test(test_recover_published),
        cmocka_unit_test(test_round_trip_and_invalid_key),
    };
    return cmocka_run_group_tests_name("eip191", tests, NULL, NULL);
}
