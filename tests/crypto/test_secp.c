/* test_secp.c: secp256k1 signing and recovery (crypto/secp.h). RFC 6979 makes a
 * signature a function of key and digest alone, so the EIP-155 example's published
 * signature is an exact expectation; the rest are properties over seeded inputs:
 * low S always, recovery round-trips, high S and invalid keys refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/u256.h"
#include "crypto/secp.h"
#include "vectors.h"

/* SEC 2, section 2.4.1: the group order n, n/2 (the low-S bound) and the generator G. */
static const char N_HEX[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
static const char HALF_N_HEX[] = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";
static const char GX_HEX[] = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
static const char GY_HEX[] = "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";

static uint64_t rng_state = 0x853c49e6748fea9bull;

static void rand_bytes(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
        out[i] = (uint8_t)(rng_state >> 56);
    }
}

static void test_published_signature(void **state)
{
    vectors v;
    vectors_open(&v, "secp256k1.txt");
    int signs = 0;
    while (vectors_next(&v) > 0) {
        if (strcmp(v.field[0], "sign") != 0)
            continue;
        uint8_t sk[32], hash[32], r[32], s[32], sig[64], sig2[64];
        vectors_hex(sk, 32, v.field[1]);
        vectors_hex(hash, 32, v.field[2]);
        vectors_hex(r, 32, v.field[3]);
        vectors_hex(s, 32, v.field[4]);
        int want_recid = atoi(v.field[5]), recid = -1, recid2 = -1;
        assert_int_equal(secp_sign(sig, &recid, hash, sk), 0);
        assert_memory_equal(sig, r, 32);
        assert_memory_equal(sig + 32, s, 32);
        assert_int_equal(recid, want_recid);
        /* Deterministic: the same again. */
        assert_int_equal(secp_sign(sig2, &recid2, hash, sk), 0);
        assert_memory_equal(sig, sig2, 64);
        assert_int_equal(recid, recid2);
        /* And recovery gives the signer's key back. */
        uint8_t pub[64], rec[64];
        assert_int_equal(secp_pubkey_from_seckey(pub, sk), 0);
        assert_int_equal(secp_recover(rec, sig, recid, hash), 0);
        assert_memory_equal(pub, rec, 64);
        signs++;
    }
    vectors_close(&v);
    assert_true(signs >= 1);
}

static void test_generator(void **state)
{
    /* Secret key 1's public key is the generator G. */
    uint8_t one[32] = {0}, pub[64], g[64];
    one[31] = 1;
    vectors_hex(g, 32, GX_HEX);
    vectors_hex(g + 32, 32, GY_HEX);
    assert_int_equal(secp_pubkey_from_seckey(pub, one), 0);
    assert_memory_equal(pub, g, 64);
}

static void test_invalid_keys(void **state)
{
    uint8_t zero[32] = {0}, n[32], n1[32], max[32], nm1[32], one[32] = {0};
    vectors_hex(n, 32, N_HEX);
    memcpy(n1, n, 32);
    n1[31]++; /* n + 1 (no carry: n ends in 0x41) */
    memcpy(nm1, n, 32);
    nm1[31]--; /* n - 1: the largest valid key */
    memset(max, 0xff, 32);
    one[31] = 1;
    const uint8_t *bad[] = {zero, n, n1, max};
    uint8_t hash[32], sig[64], pub[64];
    memset(hash, 0x5a, 32);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int recid = -7;
        assert_int_equal(secp_seckey_valid(bad[i]), 0);
        assert_int_equal(secp_pubkey_from_seckey(pub, bad[i]), -1);
        assert_int_equal(secp_sign(sig, &recid, hash, bad[i]), -1);
        assert_int_equal(recid, -7);
    }
    assert_int_equal(secp_seckey_valid(nm1), 1);
    assert_int_equal(secp_seckey_valid(one), 1);
    int recid;
    assert_int_equal(secp_sign(sig, &recid, hash, nm1), 0);
    /* Key n-1 is -1: its public key is -G, same x as G. */
    assert_int_equal(secp_pubkey_from_seckey(pub, nm1), 0);
    uint8_t gx[32];
    vectors_hex(gx, 32, GX_HEX);
    assert_memory_equal(pub, gx, 32);
}

static void test_random_properties(void **state)
{
    uint8_t half[32], nbytes[32];
    vectors_hex(half, 32, HALF_N_HEX);
    vectors_hex(nbytes, 32, N_HEX);
    u256 n;
    u256_from_be(&n, nbytes);
    int recids[4] = {0};
    for (int i = 0; i < 300; i++) {
        uint8_t sk[32], hash[32], pub[64], rec[64], sig[64], sig2[64];
        rand_bytes(sk, 32);
        rand_bytes(hash, 32);
        if (!secp_seckey_valid(sk))
            continue; /* probability ~2^-128 */
        assert_int_equal(secp_pubkey_from_seckey(pub, sk), 0);
        int recid = -1, recid2 = -1;
        assert_int_equal(secp_sign(sig, &recid, hash, sk), 0);
        assert_true(recid >= 0 && recid <= 3);
        recids[recid]++;
        /* Low S (EIP-2): s <= n/2, compared as big-endian numbers. */
        assert_true(memcmp(sig + 32, half, 32) <= 0);
        /* RFC 6979: deterministic. */
        assert_int_equal(secp_sign(sig2, &recid2, hash, sk), 0);
        assert_memory_equal(sig, sig2, 64);
        /* Recovery round trip. */
        assert_int_equal(secp_recover(rec, sig, recid, hash), 0);
        assert_memory_equal(rec, pub, 64);
        /* The other parity recovers some other key, or nothing. */
        if (secp_recover(rec, sig, recid ^ 1, hash) == 0)
            assert_memory_not_equal(rec, pub, 64);
        /* A different digest recovers a different key. */
        hash[i % 32] ^= 0x01;
        if (secp_recover(rec, sig, recid, hash) == 0)
            assert_memory_not_equal(rec, pub, 64);
        hash[i % 32] ^= 0x01;
        /* The malleated twin (n - s, flipped parity) is valid ECDSA but high S: refused. */
        u256 s, hs;
        u256_from_be(&s, sig + 32);
        assert_int_equal(u256_sub(&hs, &n, &s), 0);
        uint8_t high[64];
        memcpy(high, sig, 32);
        u256_to_be(high + 32, &hs);
        assert_true(memcmp(high + 32, half, 32) > 0);
        assert_int_equal(secp_recover(rec, high, recid ^ 1, hash), -1);
    }
    /* Both parities occur. */
    assert_true(recids[0] > 50 && recids[1] > 50);
}

static void test_recover_rejects(void **state)
{
    uint8_t sk[32], hash[32], sig[64], pub[64];
    memset(sk, 0x46, 32);
    memset(hash, 0x11, 32);
    int recid;
    assert_int_equal(secp_sign(sig, &recid, hash, sk), 0);
    assert_int_equal(secp_recover(pub, sig, -1, hash), -1);
    assert_int_equal(secp_recover(pub, sig, 4, hash), -1);
    uint8_t bad[64];
    /* r = 0, s = 0, r >= n, s >= n. */
    memcpy(bad, sig, 64);
    memset(bad, 0, 32);
    assert_int_equal(secp_recover(pub, bad, recid, hash), -1);
    memcpy(bad, sig, 64);
    memset(bad + 32, 0, 32);
    assert_int_equal(secp_recover(pub, bad, recid, hash), -1);
    memcpy(bad, sig, 64);
    vectors_hex(bad, 32, N_HEX);
    assert_int_equal(secp_recover(pub, bad, recid, hash), -1);
    memcpy(bad, sig, 64);
    memset(bad + 32, 0xff, 32);
    assert_int_equal(secp_recover(pub, bad, recid, hash), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_signature),
        cmocka_unit_test(test_generator),
        cmocka_unit_test(test_invalid_keys),
        cmocka_unit_test(test_random_properties),
        cmocka_unit_test(test_recover_rejects),
    };
    return cmocka_run_group_tests_name("secp", tests, NULL, NULL);
}
