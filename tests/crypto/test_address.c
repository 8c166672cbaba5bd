/* test_address.c: addresses (crypto/address.h): EIP-55 checksums with every example
 * of the EIP, strict parsing (mixed case must carry the right checksum), and
 * derivation from published key/address pairs. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/address.h"
#include "crypto/secp.h"
#include "vectors.h"

static void test_eip55_examples(void **state)
{
    vectors v;
    vectors_open(&v, "eip55.txt");
    int n = 0, flipped = 0;
    while (vectors_next(&v) > 0) {
        const char *cat = v.field[0], *s = v.field[1];
        addr a;
        err e;
        if (addr_parse(&a, s, &e) != 0)
            fail_msg("EIP-55 example %s rejected: %s", s, e.msg);
        /* The examples are their own checksummed form. */
        char out[ADDR_STR_MAX];
        addr_to_checksum(out, &a);
        assert_string_equal(out, s);
        /* Lower-case form, and lower/upper-case input parse to the same bytes. */
        char lower[ADDR_STR_MAX], upper[ADDR_STR_MAX];
        addr_to_lower(lower, &a);
        strcpy(upper, s);
        for (size_t i = 0; i < 40; i++) {
            assert_int_equal(lower[2 + i], tolower((unsigned char)s[2 + i]));
            upper[2 + i] = (char)toupper((unsigned char)s[2 + i]);
        }
        addr b, c;
        assert_int_equal(addr_parse(&b, lower, NULL), 0);
        assert_int_equal(addr_parse(&c, upper, NULL), 0);
        assert_true(addr_equal(&a, &b) && addr_equal(&a, &c));
        /* Flipping the case of any one letter of a mixed-case address breaks the checksum. */
        if (strcmp(cat, "normal") == 0) {
            for (size_t i = 2; i < 42; i++) {
                if (!isalpha((unsigned char)s[i]))
                    continue;
                char bad[ADDR_STR_MAX];
                strcpy(bad, s);
                bad[i] = (char)(isupper((unsigned char)s[i]) ? tolower((unsigned char)s[i])
                                                              : toupper((unsigned char)s[i]));
                /* Still mixed case? (a one-letter address could become single-case) */
                err_clear(&e);
                if (addr_parse(&b, bad, &e) == 0)
                    fail_msg("wrong checksum accepted: %s", bad);
                assert_int_equal(e.code, ERR_INVALID);
                assert_non_null(strstr(e.msg, "checksum"));
                flipped++;
            }
        }
        n++;
    }
    vectors_close(&v);
    assert_int_equal(n, 8);
    assert_true(flipped > 40);
}

static void test_parse_rejects(void **state)
{
    static const char *bad[] = {
        "",
        "0x",
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",     /* no prefix */
        "0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",   /* upper-case prefix */
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",    /* 39 digits */
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0",  /* 41 digits */
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedaa", /* 42 digits */
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",   /* non-hex */
        " 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed ",
        "0x 5aaeb6053f3e94c9b9a09f33669435e7ef1beae",
        "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAEd", /* mixed, wrong */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        addr a;
        memset(&a, 0x77, sizeof a);
        err e;
        err_clear(&e);
        if (addr_parse(&a, bad[i], &e) != -1)
            fail_msg("accepted bad address \"%s\"", bad[i]);
        assert_int_equal(e.code, ERR_INVALID);
        assert_true(strlen(e.msg) > 0 && !strchr(e.msg, '\n'));
        for (int j = 0; j < ADDR_LEN; j++)
            assert_int_equal(a.b[j], 0x77);
    }
    addr a;
    err e;
    assert_int_equal(addr_parse(&a, NULL, &e), -1);
    /* A very long input is refused without echoing all of it. */
    char longs[2000];
    memset(longs, 'a', sizeof longs - 1);
    longs[0] = '0';
    longs[1] = 'x';
    longs[sizeof longs - 1] = '\0';
    assert_int_equal(addr_parse(&a, longs, &e), -1);
    assert_true(strlen(e.msg) < 200);
    /* Control bytes in the input never reach the message. */
    static const char *ctl[] = {"0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea\n\x1b",
                                "\x1b[2J0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
                                "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\n"};
    for (size_t i = 0; i < sizeof ctl / sizeof *ctl; i++) {
        assert_int_equal(addr_parse(&a, ctl[i], &e), -1);
        for (const char *p = e.msg; *p; p++)
            assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
    }
}

static void test_from_seckey(void **state)
{
    vectors v;
    vectors_open(&v, "secp256k1.txt");
    int n = 0;
    while (vectors_next(&v) > 0) {
        if (strcmp(v.field[0], "address") != 0)
            continue;
        uint8_t sk[32], pub[64];
        vectors_hex(sk, 32, v.field[1]);
        addr a, b, want;
        assert_int_equal(addr_from_seckey(&a, sk), 0);
        assert_int_equal(addr_parse(&want, v.field[2], NULL), 0);
        assert_true(addr_equal(&a, &want));
        char s[ADDR_STR_MAX];
        addr_to_checksum(s, &a);
        assert_string_equal(s, v.field[2]);
        /* The same through the public key. */
        assert_int_equal(secp_pubkey_from_seckey(pub, sk), 0);
        addr_from_pubkey(&b, pub);
        assert_true(addr_equal(&a, &b));
        n++;
    }
    vectors_close(&v);
    assert_true(n >= 5);
    uint8_t zero[32] = {0};
    addr a;
    assert_int_equal(addr_from_seckey(&a, zero), -1);
}

static void test_helpers(void **state)
{
    addr z = {{0}}, a;
    assert_true(addr_is_zero(&z));
    char s[ADDR_STR_MAX];
    addr_to_checksum(s, &z);
    assert_string_equal(s, "0x0000000000000000000000000000000000000000");
    addr_to_lower(s, &z);
    assert_string_equal(s, "0x0000000000000000000000000000000000000000");
    assert_int_equal(addr_parse(&a, "0x000000000000000000000000000000000000dEaD", NULL), 0);
    assert_false(addr_is_zero(&a));
    assert_false(addr_equal(&a, &z));
    assert_int_equal(a.b[18], 0xde);
    assert_int_equal(a.b[19], 0xad);
    addr_to_lower(s, &a);
    assert_string_equal(s, "0x000000000000000000000000000000000000dead");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eip55_examples),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_from_seckey),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests_name("address", tests, NULL, NULL);
}
