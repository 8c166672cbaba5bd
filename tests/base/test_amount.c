/* test_amount.c: token amounts <-> base units (base/amount.h). Exactness is the
 * point: every case either yields the exact integer or is refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/amount.h"

#define MAX_DEC "115792089237316195423570985008687907853269984665640564039457584007913129639935"

/* Parses s and compares the result's decimal text with want (base units). */
static void check_parse(const char *s, unsigned decimals, const char *want)
{
    u256 v;
    err e;
    err_clear(&e);
    if (amount_parse(&v, s, decimals, &e) != 0)
        fail_msg("amount_parse(\"%s\", %u) failed: %s", s, decimals, e.msg);
    u256 w;
    assert_int_equal(u256_from_dec(&w, want, NULL), 0);
    if (u256_cmp(&v, &w) != 0) {
        char got[U256_DEC_MAX];
        u256_to_dec(got, &v);
        fail_msg("amount_parse(\"%s\", %u) = %s, want %s", s, decimals, got, want);
    }
}

static void check_reject(const char *s, unsigned decimals, err_code code, const char *needle)
{
    u256 v = u256_from_u64(4242);
    err e;
    err_clear(&e);
    if (amount_parse(&v, s, decimals, &e) != -1)
        fail_msg("amount_parse(\"%s\", %u) accepted it", s ? s : "(null)", decimals);
    if (e.code != code)
        fail_msg("amount_parse(\"%s\"): code %s, want %s (%s)", s ? s : "(null)",
                 err_code_str(e.code), err_code_str(code), e.msg);
    if (needle && !strstr(e.msg, needle))
        fail_msg("amount_parse(\"%s\"): message \"%s\" lacks \"%s\"", s ? s : "(null)", e.msg,
                 needle);
    assert_null(strchr(e.msg, '\n'));
    /* The output is untouched on error. */
    assert_int_equal(v.w[0], 4242);
}

static void check_format(const char *base_units, unsigned decimals, const char *want)
{
    u256 v;
    assert_int_equal(u256_from_dec(&v, base_units, NULL), 0);
    char out[AMOUNT_STR_MAX];
    size_t n = amount_format(out, &v, decimals);
    if (strcmp(out, want) != 0)
        fail_msg("amount_format(%s, %u) = \"%s\", want \"%s\"", base_units, decimals, out, want);
    assert_int_equal(n, strlen(want));
}

static void test_parse_basic(void **state)
{
    check_parse("1250.5", 6, "1250500000"); /* the USDC example */
    check_parse("1250", 6, "1250000000");
    check_parse("0.000001", 6, "1");
    check_parse("0", 6, "0");
    check_parse("0.0", 6, "0");
    check_parse("1", 18, "1000000000000000000");
    check_parse("0.1", 18, "100000000000000000");
    check_parse("123456789.123456789123456789", 18, "123456789123456789123456789");
    check_parse("5", 0, "5");
    check_parse("5.", 0, "5");
    check_parse("5.000", 0, "5");
    check_parse("007.50", 2, "750");
}

static void test_parse_dot_forms(void **state)
{
    /* A desk user typing ".5" means half a token; "1." is one. */
    check_parse(".5", 6, "500000");
    check_parse(".000001", 6, "1");
    check_parse("1.", 6, "1000000");
    check_parse("0.", 6, "0");
    check_parse(".0", 6, "0");
    check_reject(".", 6, ERR_INVALID, "no digits");
    check_reject("..5", 6, ERR_INVALID, "more than one");
    check_reject("1.2.3", 6, ERR_INVALID, "more than one");
}

static void test_parse_precision(void **state)
{
    check_reject("0.0000001", 6, ERR_INVALID, "7 decimal places");
    check_reject("1250.1234567", 6, ERR_INVALID, "cannot be represented exactly");
    check_reject("5.5", 0, ERR_INVALID, NULL);
    check_reject("0.0000000000000000001", 18, ERR_INVALID, NULL);
    /* Trailing zeros past the token's precision change nothing: accepted. */
    check_parse("1.5000000", 6, "1500000");
    check_parse("0.10000000000000000000000000000", 18, "100000000000000000");
}

static void test_parse_rejects_syntax(void **state)
{
    check_reject("", 6, ERR_INVALID, "empty");
    check_reject(NULL, 6, ERR_INVALID, "empty");
    check_reject("-1", 6, ERR_INVALID, "negative");
    check_reject("-0", 6, ERR_INVALID, "negative");
    check_reject("+1", 6, ERR_INVALID, "'+'");
    check_reject("1e6", 6, ERR_INVALID, "exponent");
    check_reject("1E6", 6, ERR_INVALID, "exponent");
    check_reject("1.5e-3", 6, ERR_INVALID, "exponent");
    check_reject(" 1", 6, ERR_INVALID, "whitespace");
    check_reject("1 ", 6, ERR_INVALID, "whitespace");
    check_reject("1 000", 6, ERR_INVALID, "whitespace");
    check_reject("\t1", 6, ERR_INVALID, "whitespace");
    check_reject("1\n", 6, ERR_INVALID, "whitespace");
    check_reject("1,000", 6, ERR_INVALID, "separator");
    check_reject("1_000", 6, ERR_INVALID, "separator");
    check_reject("0x10", 6, ERR_INVALID, "'x'");
    check_reject("1/2", 6, ERR_INVALID, "'/'");
    check_reject("NaN", 6, ERR_INVALID, NULL);
    check_reject("inf", 6, ERR_INVALID, NULL);
    check_reject("\xd9\xa1", 6, ERR_INVALID, "byte 0xd9"); /* Arabic-Indic digit one */
    check_reject("1\x7f", 6, ERR_INVALID, "byte 0x7f");
    check_reject("1", 78, ERR_INVALID, "decimals");
    check_reject("1", 255, ERR_INVALID, "decimals");
}

static void test_parse_boundaries(void **state)
{
    /* 2^256-1 base units, written with 0, 6, 18 and 77 decimals. */
    check_parse(MAX_DEC, 0, MAX_DEC);
    check_parse("115792089237316195423570985008687907853269984665640564039457584007913129.639935",
                6, MAX_DEC);
    check_parse("115792089237316195423570985008687907853269984665640564039457.584007913129639935",
                18, MAX_DEC);
    check_parse("1.15792089237316195423570985008687907853269984665640564039457584007913129639935",
                77, MAX_DEC);
    /* One more base unit overflows. */
    check_reject("115792089237316195423570985008687907853269984665640564039457584007913129639936",
                 0, ERR_OVERFLOW, "too large");
    check_reject("115792089237316195423570985008687907853269984665640564039457.584007913129639936",
                 18, ERR_OVERFLOW, NULL);
    check_reject("1.15792089237316195423570985008687907853269984665640564039457584007913129639936",
                 77, ERR_OVERFLOW, NULL);
    check_reject("115792089237316195423570985008687907853269984665640564039458", 18, ERR_OVERFLOW,
                 NULL);
    check_reject("1000000000000000000000000000000000000000000000000000000000000000000000000000000",
                 0, ERR_OVERFLOW, NULL);
    /* 77 decimals: 1 is 10^77, 2 is already above 2^256-1. */
    check_parse("1", 77,
                "100000000000000000000000000000000000000000000000000000000000000000000000000000");
    check_reject("2", 77, ERR_OVERFLOW, NULL);
    check_parse("0.00000000000000000000000000000000000000000000000000000000000000000000000000001",
                77, "1");
    /* Many leading zeros are harmless. */
    char zeros[300];
    memset(zeros, '0', sizeof zeros - 2);
    zeros[sizeof zeros - 2] = '7';
    zeros[sizeof zeros - 1] = '\0';
    check_parse(zeros, 18, "7000000000000000000");
}

static void test_format(void **state)
{
    check_format("1250500000", 6, "1250.5");
    check_format("1250000000", 6, "1250");
    check_format("1", 6, "0.000001");
    check_format("0", 6, "0");
    check_format("0", 0, "0");
    check_format("0", 77, "0");
    check_format("10", 1, "1");
    check_format("123", 0, "123");
    check_format("100000000000000000", 18, "0.1");
    check_format("123456789123456789123456789", 18, "123456789.123456789123456789");
    check_format(MAX_DEC, 0, MAX_DEC);
    check_format(MAX_DEC, 18,
                 "115792089237316195423570985008687907853269984665640564039457.584007913129639935");
    check_format(MAX_DEC, 77,
                 "1.15792089237316195423570985008687907853269984665640564039457584007913129639935");
    check_format("1", 77,
                 "0.00000000000000000000000000000000000000000000000000000000000000000000000000001");
    /* Unsupported decimals: empty string, length 0. */
    char out[AMOUNT_STR_MAX];
    memset(out, 'x', sizeof out);
    u256 v = u256_from_u64(5);
    assert_int_equal(amount_format(out, &v, 78), 0);
    assert_string_equal(out, "");
}

static void test_round_trip(void **state)
{
    /* format then parse is the identity for every decimals value and bit length. */
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (unsigned decimals = 0; decimals <= AMOUNT_MAX_DECIMALS; decimals++) {
        for (int bits = 0; bits <= 256; bits += 5) {
            u256 a = {{0, 0, 0, 0}};
            for (int i = 0; i < bits; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                if (x & 1)
                    a.w[i / 64] |= (uint64_t)1 << (i % 64);
            }
            char s[AMOUNT_STR_MAX];
            size_t n = amount_format(s, &a, decimals);
            assert_int_equal(n, strlen(s));
            assert_true(n < AMOUNT_STR_MAX);
            u256 b;
            err e;
            if (amount_parse(&b, s, decimals, &e) != 0)
                fail_msg("re-parse of \"%s\" (%u decimals) failed: %s", s, decimals, e.msg);
            assert_int_equal(u256_cmp(&a, &b), 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),
        cmocka_unit_test(test_parse_dot_forms),
        cmocka_unit_test(test_parse_precision),
        cmocka_unit_test(test_parse_rejects_syntax),
        cmocka_unit_test(test_parse_boundaries),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests_name("amount", tests, NULL, NULL);
}
