/* test_hex.c: strict hex and owned buffers (base/bytes.h). Everything read from
 * outside goes through hex_decode, so its refusals matter as much as its results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/bytes.h"

static void test_decode_plain(void **state)
{
    uint8_t out[8];
    size_t n = 99;
    err e;
    assert_int_equal(hex_decode(out, sizeof out, &n, "00ff7fA0", 8, 0, &e), 0);
    assert_int_equal(n, 4);
    const uint8_t want[] = {0x00, 0xff, 0x7f, 0xa0};
    assert_memory_equal(out, want, 4);
    /* Upper and lower case mix freely in plain hex. */
    assert_int_equal(hex_decode(out, sizeof out, &n, "aBcDeF", 6, 0, &e), 0);
    const uint8_t want2[] = {0xab, 0xcd, 0xef};
    assert_memory_equal(out, want2, 3);
    /* Empty input is zero bytes, not an error. */
    assert_int_equal(hex_decode(out, sizeof out, &n, "", 0, 0, &e), 0);
    assert_int_equal(n, 0);
}

static void test_decode_not_nul_terminated(void **state)
{
    /* Only hex_len characters are read: the rest of the string is not looked at. */
    const char s[] = "abcdZZZZ";
    uint8_t out[4];
    size_t n;
    assert_int_equal(hex_decode(out, sizeof out, &n, s, 4, 0, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 0xab);
    assert_int_equal(out[1], 0xcd);
    /* And a NUL inside the counted range is a bad character, not an end. */
    err e;
    assert_int_equal(hex_decode(out, sizeof out, &n, "ab\0d", 4, 0, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
}

static void test_decode_odd_length(void **state)
{
    uint8_t out[8];
    size_t n;
    err e;
    const char *odd[] = {"0", "abc", "12345"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        err_clear(&e);
        assert_int_equal(hex_decode(out, sizeof out, &n, odd[i], strlen(odd[i]), 0, &e), -1);
        assert_int_equal(e.code, ERR_INVALID);
        assert_non_null(strstr(e.msg, "odd"));
    }
    /* Odd after the prefix is stripped. */
    assert_int_equal(hex_decode(out, sizeof out, &n, "0x0", 3, HEX_ALLOW_PREFIX, &e), -1);
    assert_non_null(strstr(e.msg, "odd"));
}

static void test_decode_bad_chars(void **state)
{
    uint8_t out[8];
    size_t n;
    err e;
    const char *bad[] = {"0g", "g0", "12 4", " 1", "1-", "+1", "zz", "0x", "\xff\xfe", "1\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err_clear(&e);
        assert_int_equal(hex_decode(out, sizeof out, &n, bad[i], strlen(bad[i]), 0, &e), -1);
        assert_int_equal(e.code, ERR_INVALID);
        assert_true(strlen(e.msg) > 0);
    }
    /* The message points at the offending position. */
    assert_int_equal(hex_decode(out, sizeof out, &n, "0011x2", 6, 0, &e), -1);
    assert_non_null(strstr(e.msg, "position 4"));
}

static void test_decode_prefix_flags(void **state)
{
    uint8_t out[4];
    size_t n;
    err e;
    /* No flag: a prefix is refused. */
    assert_int_equal(hex_decode(out, sizeof out, &n, "0x01", 4, 0, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    /* ALLOW: with or without, either case of x. */
    assert_int_equal(hex_decode(out, sizeof out, &n, "0x01", 4, HEX_ALLOW_PREFIX, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 1);
    assert_int_equal(hex_decode(out, sizeof out, &n, "0X02", 4, HEX_ALLOW_PREFIX, &e), 0);
    assert_int_equal(out[0], 2);
    assert_int_equal(hex_decode(out, sizeof out, &n, "03", 2, HEX_ALLOW_PREFIX, &e), 0);
    assert_int_equal(out[0], 3);
    assert_int_equal(hex_decode(out, sizeof out, &n, "0x", 2, HEX_ALLOW_PREFIX, &e), 0);
    assert_int_equal(n, 0);
    /* REQUIRE: without is refused. */
    assert_int_equal(hex_decode(out, sizeof out, &n, "04", 2, HEX_REQUIRE_PREFIX, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(hex_decode(out, sizeof out, &n, "0x04", 4, HEX_REQUIRE_PREFIX, &e), 0);
    assert_int_equal(out[0], 4);
    assert_int_equal(hex_decode(out, sizeof out, &n, "", 0, HEX_REQUIRE_PREFIX, &e), -1);
    /* Only one prefix is stripped. */
    assert_int_equal(hex_decode(out, sizeof out, &n, "0x0x", 4, HEX_ALLOW_PREFIX, &e), -1);
    /* "0x" split over the length limit: "0" alone is odd, not a prefix. */
    assert_int_equal(hex_decode(out, sizeof out, &n, "0x12", 1, HEX_ALLOW_PREFIX, &e), -1);
}

static void test_decode_out_cap(void **state)
{
    uint8_t out[6];
    memset(out, 0xEE, sizeof out);
    size_t n = 77;
    err e;
    /* 3 bytes into a capacity of 2: refused, and nothing past the capacity written. */
    assert_int_equal(hex_decode(out, 2, &n, "010203", 6, 0, &e), -1);
    assert_int_equal(e.code, ERR_OVERFLOW);
    for (size_t i = 2; i < sizeof out; i++)
        assert_int_equal(out[i], 0xEE);
    assert_int_equal(n, 77);
    /* Exactly the capacity fits. */
    assert_int_equal(hex_decode(out, 3, &n, "010203", 6, 0, &e), 0);
    assert_int_equal(n, 3);
    assert_int_equal(out[3], 0xEE);
    /* Zero capacity takes only empty input. */
    assert_int_equal(hex_decode(NULL, 0, &n, "", 0, 0, &e), 0);
    assert_int_equal(hex_decode(out, 0, &n, "00", 2, 0, &e), -1);
    /* out_len may be NULL. */
    assert_int_equal(hex_decode(out, 3, NULL, "aa", 2, 0, &e), 0);
    assert_int_equal(out[0], 0xaa);
}

static void test_decode_exact(void **state)
{
    uint8_t out[4];
    err e;
    assert_int_equal(hex_decode_exact(out, 4, "deadbeef", 0, &e), 0);
    const uint8_t want[] = {0xde, 0xad, 0xbe, 0xef};
    assert_memory_equal(out, want, 4);
    assert_int_equal(hex_decode_exact(out, 4, "0xdeadbeef", HEX_ALLOW_PREFIX, &e), 0);
    assert_memory_equal(out, want, 4);
    assert_int_equal(hex_decode_exact(out, 4, "deadbe", 0, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(hex_decode_exact(out, 4, "deadbeef00", 0, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(hex_decode_exact(out, 4, "deadbeeg", 0, &e), -1);
    assert_int_equal(hex_decode_exact(out, 4, "0xdeadbeef", 0, &e), -1);
    assert_int_equal(hex_decode_exact(out, 4, "deadbeef", HEX_REQUIRE_PREFIX, &e), -1);
}

static void test_decode_buf(void **state)
{
    buf b;
    buf_init(&b);
    err e;
    /* Empty input into an empty buffer (data still NULL). */
    assert_int_equal(hex_decode_buf(&b, "", 0, 0, &e), 0);
    assert_int_equal(hex_decode_buf(&b, "0x", 2, HEX_ALLOW_PREFIX, &e), 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(hex_decode_buf(&b, "0102", 4, 0, &e), 0);
    assert_int_equal(hex_decode_buf(&b, "0x0304", 6, HEX_ALLOW_PREFIX, &e), 0);
    assert_int_equal(b.len, 4);
    const uint8_t want[] = {1, 2, 3, 4};
    assert_memory_equal(b.data, want, 4);
    /* A failed decode leaves the buffer's length as it was. */
    assert_int_equal(hex_decode_buf(&b, "05zz", 4, 0, &e), -1);
    assert_int_equal(b.len, 4);
    assert_int_equal(hex_decode_buf(&b, "050", 3, 0, &e), -1);
    assert_int_equal(b.len, 4);
    /* Large input grows the buffer. */
    char big[2001];
    memset(big, 'a', 2000);
    big[2000] = '\0';
    assert_int_equal(hex_decode_buf(&b, big, 2000, 0, &e), 0);
    assert_int_equal(b.len, 1004);
    assert_int_equal(b.data[1003], 0xaa);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_buf_ops(void **state)
{
    buf b = {0};
    err e;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_push(&b, (uint8_t)i, &e), 0);
    assert_int_equal(b.len, 1000);
    assert_true(b.cap >= 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(b.data[i], (uint8_t)i);
    size_t cap = b.cap;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);
    assert_int_equal(buf_append(&b, "xyz", 3, &e), 0);
    assert_int_equal(buf_append(&b, NULL, 0, &e), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "xyz", 3);
    /* Reserving an absurd amount is refused, not wrapped around. */
    assert_int_equal(buf_reserve(&b, SIZE_MAX, &e), -1);
    assert_int_equal(e.code, ERR_NOMEM);
    assert_int_equal(b.len, 3);
    buf_free(&b);
    assert_null(b.data);
    buf_free(&b); /* twice is harmless */
    buf_free(NULL);
}

static void test_encode(void **state)
{
    const uint8_t in[] = {0x00, 0x01, 0xab, 0xff};
    char out[16];
    assert_int_equal(hex_encode(out, sizeof out, in, 4, false), 8);
    assert_string_equal(out, "0001abff");
    assert_int_equal(hex_encode(out, sizeof out, in, 4, true), 10);
    assert_string_equal(out, "0x0001abff");
    /* Exact capacity: 2*len+1 (+2 with prefix). One less does not fit. */
    assert_int_equal(hex_encode(out, 9, in, 4, false), 8);
    assert_int_equal(hex_encode(out, 8, in, 4, false), 0);
    assert_int_equal(hex_encode(out, 11, in, 4, true), 10);
    assert_int_equal(hex_encode(out, 10, in, 4, true), 0);
    assert_int_equal(hex_encode(out, 1, in, 0, false), 0);
    assert_string_equal(out, "");
    assert_int_equal(hex_encode(out, 3, in, 0, true), 2);
    assert_string_equal(out, "0x");
    char *s = hex_encode_new(in, 4);
    assert_non_null(s);
    assert_string_equal(s, "0x0001abff");
    free(s);
    s = hex_encode_new(in, 0);
    assert_string_equal(s, "0x");
    free(s);
}

static void test_round_trip(void **state)
{
    /* Every byte value survives encode -> decode. */
    uint8_t in[256], back[256];
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)i;
    char hex[2 * 256 + 3];
    assert_int_equal(hex_encode(hex, sizeof hex, in, 256, true), 514);
    size_t n;
    assert_int_equal(hex_decode(back, sizeof back, &n, hex, 514, HEX_REQUIRE_PREFIX, NULL), 0);
    assert_int_equal(n, 256);
    assert_memory_equal(in, back, 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_plain),
        cmocka_unit_test(test_decode_not_nul_terminated),
        cmocka_unit_test(test_decode_odd_length),
        cmocka_unit_test(test_decode_bad_chars),
        cmocka_unit_test(test_decode_prefix_flags),
        cmocka_unit_test(test_decode_out_cap),
        cmocka_unit_test(test_decode_exact),
        cmocka_unit_test(test_decode_buf),
        cmocka_unit_test(test_buf_ops),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}
