/* test_u256.c: exact 256-bit arithmetic (base/u256.h) against expected results from
 * Python's integers (tests/vectors/u256.txt, gen_u256.py) and published values, plus
 * the strict decimal and JSON-RPC quantity parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/u256.h"
#include "vectors.h"

#define U256_MAX_DEC                                                                               \
    "115792089237316195423570985008687907853269984665640564039457584007913129639935"

/* Builds a u256 from 64 hex digits without using the module under test. */
static u256 u_hex(const char *hex64)
{
    uint8_t be[32];
    assert_int_equal(strlen(hex64), 64);
    vectors_hex(be, 32, hex64);
    u256 r;
    for (int i = 0; i < 4; i++) {
        uint64_t w = 0;
        for (int j = 0; j < 8; j++)
            w = w << 8 | be[(3 - i) * 8 + j];
        r.w[i] = w;
    }
    return r;
}

static void assert_u256_eq(const u256 *got, const u256 *want, const char *what, unsigned line)
{
    if (memcmp(got->w, want->w, sizeof got->w) != 0)
        fail_msg("%s (golden line %u): got %016llx%016llx%016llx%016llx want "
                 "%016llx%016llx%016llx%016llx", what, line,
                 (unsigned long long)got->w[3], (unsigned long long)got->w[2],
                 (unsigned long long)got->w[1], (unsigned long long)got->w[0],
                 (unsigned long long)want->w[3], (unsigned long long)want->w[2],
                 (unsigned long long)want->w[1], (unsigned long long)want->w[0]);
}

#define U256_2_256_DEC                                                                             \
    "115792089237316195423570985008687907853269984665640564039457584007913129639936"
#define TEN_TO_78_DEC                                                                              \
    "1000000000000000000000000000000000000000000000000000000000000000000000000000000"

static const u256 sentinel = {{0x1111, 0x2222, 0x3333, 0x4444}};

static void test_golden_ops(void **state)
{
    vectors v;
    vectors_open(&v, "u256.txt");
    unsigned counts[5] = {0};
    int n;
    while ((n = vectors_next(&v)) > 0) {
        const char *op = v.field[0];
        if (strcmp(op, "dec") == 0) {
            u256 a = u_hex(v.field[1]), back;
            char s[U256_DEC_MAX];
            u256_to_dec(s, &a);
            if (strcmp(s, v.field[2]) != 0)
                fail_msg("to_dec line %u: got %s want %s", v.lineno, s, v.field[2]);
            assert_int_equal(u256_from_dec(&back, v.field[2], NULL), 0);
            assert_u256_eq(&back, &a, "from_dec", v.lineno);
            counts[4]++;
            continue;
        }
        u256 a = u_hex(v.field[1]), b = u_hex(v.field[2]), r = sentinel, r2 = sentinel;
        int rc = 0;
        if (strcmp(op, "add") == 0) {
            rc = u256_add(&r, &a, &b);
            counts[0]++;
        } else if (strcmp(op, "sub") == 0) {
            rc = u256_sub(&r, &a, &b);
            counts[1]++;
        } else if (strcmp(op, "mul") == 0) {
            rc = u256_mul(&r, &a, &b);
            counts[2]++;
        } else if (strcmp(op, "divmod") == 0) {
            rc = u256_divmod(&r, &r2, &a, &b);
            counts[3]++;
        } else {
            fail_msg("unknown op %s on line %u", op, v.lineno);
        }
        const char *want = v.field[3];
        if (strcmp(want, "overflow") == 0 || strcmp(want, "underflow") == 0 ||
            strcmp(want, "divzero") == 0) {
            if (rc != -1)
                fail_msg("%s line %u: expected %s, got success", op, v.lineno, want);
            /* Results are only written on success. */
            assert_u256_eq(&r, &sentinel, "untouched on failure", v.lineno);
            assert_u256_eq(&r2, &sentinel, "untouched on failure", v.lineno);
            continue;
        }
        if (rc != 0)
            fail_msg("%s line %u: unexpected failure", op, v.lineno);
        u256 w = u_hex(want);
        assert_u256_eq(&r, &w, op, v.lineno);
        if (strcmp(op, "divmod") == 0) {
            u256 wr = u_hex(v.field[4]);
            assert_u256_eq(&r2, &wr, "remainder", v.lineno);
        }
    }
    vectors_close(&v);
    /* The golden file really was read. */
    for (int i = 0; i < 5; i++)
        assert_true(counts[i] >= 100);
}

static void test_known_values(void **state)
{
    u256 max = u_hex("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    u256 three = u256_from_u64(3), q, r, one = u256_from_u64(1), zero = u256_from_u64(0);
    /* (2^256-1) / 3 = 0x5555...55 exactly. */
    assert_int_equal(u256_divmod(&q, &r, &max, &three), 0);
    u256 fives = u_hex("5555555555555555555555555555555555555555555555555555555555555555");
    assert_u256_eq(&q, &fives, "max/3", 0);
    assert_true(u256_is_zero(&r));
    /* Carry through all four limbs: (2^256-1) + 1 overflows, 2^192-1 + 1 = 2^192. */
    u256 t = sentinel;
    assert_int_equal(u256_add(&t, &max, &one), -1);
    assert_u256_eq(&t, &sentinel, "untouched", 0);
    u256 a = u_hex("0000000000000000ffffffffffffffffffffffffffffffffffffffffffffffff");
    assert_int_equal(u256_add(&t, &a, &one), 0);
    u256 p192 = u_hex("0000000000000001000000000000000000000000000000000000000000000000");
    assert_u256_eq(&t, &p192, "carry", 0);
    /* Borrow through all limbs: 2^192 - 1. */
    assert_int_equal(u256_sub(&t, &p192, &one), 0);
    assert_u256_eq(&t, &a, "borrow", 0);
    assert_int_equal(u256_sub(&t, &zero, &one), -1);
    /* Division by zero, with either output NULL. */
    assert_int_equal(u256_divmod(&q, &r, &max, &zero), -1);
    assert_int_equal(u256_divmod(NULL, &r, &max, &three), 0);
    assert_int_equal(u256_divmod(&q, NULL, &max, &three), 0);
    /* 2^128 * 2^128 overflows; (2^128-1)^2 fits. */
    u256 p128 = u_hex("0000000000000000000000000000000100000000000000000000000000000000");
    assert_int_equal(u256_mul(&t, &p128, &p128), -1);
    u256 m128 = u_hex("00000000000000000000000000000000ffffffffffffffffffffffffffffffff");
    assert_int_equal(u256_mul(&t, &m128, &m128), 0);
    u256 sq = u_hex("fffffffffffffffffffffffffffffffe00000000000000000000000000000001");
    assert_u256_eq(&t, &sq, "square", 0);
    /* Aliasing: the output may be an input. */
    t = p128;
    assert_int_equal(u256_add(&t, &t, &t), 0);
    u256 p129 = u_hex("0000000000000000000000000000000200000000000000000000000000000000");
    assert_u256_eq(&t, &p129, "alias add", 0);
    assert_int_equal(u256_divmod(&t, NULL, &t, &t), 0);
    assert_u256_eq(&t, &one, "alias div", 0);
}

static void test_small_helpers(void **state)
{
    u256 a = u256_from_u64(0xdeadbeefcafebabeull);
    assert_int_equal(a.w[0], 0xdeadbeefcafebabeull);
    assert_int_equal(a.w[1] | a.w[2] | a.w[3], 0);
    uint64_t out = 0;
    assert_true(u256_to_u64(&a, &out));
    assert_int_equal(out, 0xdeadbeefcafebabeull);
    u256 big = u_hex("0000000000000000000000000000000000000000000000010000000000000000");
    out = 7;
    assert_false(u256_to_u64(&big, &out));
    assert_int_equal(out, 7);
    u256 zero = u256_from_u64(0);
    assert_true(u256_is_zero(&zero));
    assert_false(u256_is_zero(&big));
    /* cmp looks at the most significant limb first. */
    u256 hi = u_hex("8000000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(u256_cmp(&hi, &big), 1);
    assert_int_equal(u256_cmp(&big, &hi), -1);
    assert_int_equal(u256_cmp(&hi, &hi), 0);
    assert_int_equal(u256_cmp(&a, &big), -1);
}

static void test_big_endian(void **state)
{
    uint8_t be[32];
    for (int i = 0; i < 32; i++)
        be[i] = (uint8_t)(i + 1);
    u256 a;
    u256_from_be(&a, be);
    u256 want = u_hex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    assert_u256_eq(&a, &want, "from_be", 0);
    uint8_t back[32];
    u256_to_be(back, &a);
    assert_memory_equal(be, back, 32);
    /* Short big-endian input is right-aligned; more than 32 bytes is refused. */
    const uint8_t two[] = {0x01, 0x00};
    assert_int_equal(u256_from_be_bytes(&a, two, 2), 0);
    assert_u256_eq(&a, &(u256){{256, 0, 0, 0}}, "from_be_bytes", 0);
    assert_int_equal(u256_from_be_bytes(&a, NULL, 0), 0);
    assert_true(u256_is_zero(&a));
    uint8_t long33[33] = {0};
    assert_int_equal(u256_from_be_bytes(&a, long33, 33), -1);
    /* Minimal form: no leading zeros, zero is empty. */
    uint8_t min[32];
    assert_int_equal(u256_to_be_min(min, &(u256){{0, 0, 0, 0}}), 0);
    assert_int_equal(u256_to_be_min(min, &(u256){{256, 0, 0, 0}}), 2);
    assert_memory_equal(min, two, 2);
    u256_from_be(&a, be);
    assert_int_equal(u256_to_be_min(min, &a), 32);
    assert_memory_equal(min, be, 32);
}

static void test_dec_published(void **state)
{
    /* 2^256-1, and the EIP-155 example's r and s, published both in decimal (the EIP's
     * v,r,s line) and in hex (its signed transaction). */
    static const struct {
        const char *dec, *hex;
    } pub[] = {
        {U256_MAX_DEC, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"},
        {"18515461264373351373200002665853028612451056578545711640558177340181847433846",
         "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276"},
        {"46948507304638947509940763649030358759909902576025900602547168820602576006531",
         "67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"},
        {"0", "0000000000000000000000000000000000000000000000000000000000000000"},
    };
    for (size_t i = 0; i < sizeof pub / sizeof *pub; i++) {
        u256 want = u_hex(pub[i].hex), got;
        assert_int_equal(u256_from_dec(&got, pub[i].dec, NULL), 0);
        assert_u256_eq(&got, &want, "from_dec", (unsigned)i);
        char s[U256_DEC_MAX];
        u256_to_dec(s, &want);
        assert_string_equal(s, pub[i].dec);
    }
}

static void test_dec_rejects(void **state)
{
    static const char *bad[] = {"", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "1,000",
                                "1_000", "١", "12a"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        u256 r = sentinel;
        err e;
        err_clear(&e);
        if (u256_from_dec(&r, bad[i], &e) != -1)
            fail_msg("u256_from_dec accepted \"%s\"", bad[i]);
        assert_int_equal(e.code, ERR_INVALID);
        assert_u256_eq(&r, &sentinel, "untouched", (unsigned)i);
    }
    u256 r = sentinel;
    err e;
    assert_int_equal(u256_from_dec(&r, NULL, &e), -1);
    /* 2^256 is one too many; a 79-digit number too. */
    assert_int_equal(u256_from_dec(&r, U256_2_256_DEC, &e), -1);
    assert_int_equal(e.code, ERR_OVERFLOW);
    assert_int_equal(u256_from_dec(&r, TEN_TO_78_DEC, &e), -1);
    assert_int_equal(e.code, ERR_OVERFLOW);
    assert_u256_eq(&r, &sentinel, "untouched", 0);
    /* Leading zeros are only zeros. */
    assert_int_equal(u256_from_dec(&r, "000", &e), 0);
    assert_true(u256_is_zero(&r));
    assert_int_equal(u256_from_dec(&r, "0042", &e), 0);
    assert_u256_eq(&r, &(u256){{42, 0, 0, 0}}, "leading zeros", 0);
}

static void test_quantity(void **state)
{
    /* Ethereum JSON-RPC "quantity" (execution-apis base-types.yaml, uint:
     * ^0x([1-9a-f]+[0-9a-f]*|0)$): 0x prefix, lowercase, no leading zeros, "0x0" is 0. */
    static const struct {
        const char *s;
        uint64_t v;
    } good[] = {{"0x0", 0}, {"0x1", 1}, {"0x1a", 26}, {"0x400", 1024},
                {"0xffffffffffffffff", UINT64_MAX}, {"0x10000", 65536}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        u256 r;
        err e;
        if (u256_from_quantity(&r, good[i].s, &e) != 0)
            fail_msg("rejected %s: %s", good[i].s, e.msg);
        assert_u256_eq(&r, &(u256){{good[i].v, 0, 0, 0}}, good[i].s, (unsigned)i);
    }
    u256 r;
    const char *max = "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
    assert_int_equal(u256_from_quantity(&r, max, NULL), 0);
    u256 m = u_hex(max + 2);
    assert_u256_eq(&r, &m, "max", 0);
    char out[U256_HEX_MAX];
    u256_to_quantity(out, &r);
    assert_string_equal(out, max);
    u256_to_quantity(out, &(u256){{0, 0, 0, 0}});
    assert_string_equal(out, "0x0");
    u256_to_quantity(out, &(u256){{0, 1, 0, 0}});
    assert_string_equal(out, "0x10000000000000000");

    static const char *bad[] = {
        "0x",   /* no digits */
        "0x01", /* leading zero */
        "0x00", "0x0001",
        "1a",   /* no prefix */
        "0X1",  /* upper-case prefix */
        "0xA",  /* upper-case digit: the spec's pattern is lower case */
        "0x1F", "0xg", "0x1 ", " 0x1", "0x-1", "", "x1", "0",
        "0x10000000000000000000000000000000000000000000000000000000000000000", /* 65 digits */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        u256 t = sentinel;
        err e;
        err_clear(&e);
        if (u256_from_quantity(&t, bad[i], &e) != -1)
            fail_msg("u256_from_quantity accepted \"%s\"", bad[i]);
        assert_true(e.code == ERR_INVALID || e.code == ERR_OVERFLOW);
        assert_true(strlen(e.msg) > 0);
        assert_u256_eq(&t, &sentinel, "untouched", (unsigned)i);
    }
    err e;
    assert_int_equal(u256_from_quantity(&r, NULL, &e), -1);
}

static void assert_printable_line(const char *msg)
{
    for (const char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            fail_msg("message has byte 0x%02x: %s", (unsigned char)*p, msg);
}

static void test_messages_are_one_printable_line(void **state)
{
    /* Input from a node or a file is echoed, but never as raw control bytes. */
    static const char *bad[] = {"1\n2", "12\x1b[31m", "\xff\xfe", "9999999999999999999999999999999"
                                "9999999999999999999999999999999999999999999999999\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        u256 r;
        err e;
        err_clear(&e);
        assert_int_equal(u256_from_dec(&r, bad[i], &e), -1);
        assert_printable_line(e.msg);
        char q[200];
        snprintf(q, sizeof q, "0x%s", bad[i]);
        assert_int_equal(u256_from_quantity(&r, q, &e), -1);
        assert_printable_line(e.msg);
        snprintf(q, sizeof q, "\x1b%s", bad[i]);
        assert_int_equal(u256_from_quantity(&r, q, &e), -1);
        assert_printable_line(e.msg);
    }
    /* Long input is cut short in the message. */
    char longs[500];
    memset(longs, '7', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    u256 r;
    err e;
    assert_int_equal(u256_from_dec(&r, longs, &e), -1);
    assert_int_equal(e.code, ERR_OVERFLOW);
    assert_true(strlen(e.msg) < 120);
}

static void test_round_trips(void **state)
{
    /* Decimal and quantity text round-trip for values of every bit length. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int bits = 0; bits <= 256; bits++) {
        u256 a = {{0, 0, 0, 0}};
        for (int i = 0; i < bits; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (i == bits - 1 || (x & 1))
                a.w[i / 64] |= (uint64_t)1 << (i % 64);
        }
        char d[U256_DEC_MAX], q[U256_HEX_MAX];
        u256 b, c;
        u256_to_dec(d, &a);
        u256_to_quantity(q, &a);
        assert_int_equal(u256_from_dec(&b, d, NULL), 0);
        assert_int_equal(u256_from_quantity(&c, q, NULL), 0);
        assert_u256_eq(&b, &a, "dec round trip", (unsigned)bits);
        assert_u256_eq(&c, &a, "quantity round trip", (unsigned)bits);
        /* Quantity length follows the bit length: no leading zeros. */
        assert_int_equal(strlen(q), 2 + (bits == 0 ? 1 : (size_t)(bits + 3) / 4));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_ops),
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_small_helpers),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_dec_published),
        cmocka_unit_test(test_dec_rejects),
        cmocka_unit_test(test_quantity),
        cmocka_unit_test(test_messages_are_one_printable_line),
        cmocka_unit_test(test_round_trips),
    };
    return cmocka_run_group_tests_name("u256", tests, NULL, NULL);
}
