/* test_rlp.c: RLP against Ethereum's published vectors (tests/vectors/rlp, from
 * ethereum/tests) plus the strictness rules: non-canonical forms, truncation,
 * trailing bytes, integer rules and the nesting limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eth/rlp.h"
#include "eth_test.h"

/* Bytes a vector's string input stands for: "#123" a big integer, "0x.." hex,
 * anything else its own bytes. */
static buf input_bytes(json_t *s)
{
    const char *v = json_string_value(s);
    size_t n = json_string_length(s);
    buf b;
    buf_init(&b);
    if (v[0] == '#') {
        /* decimal to big-endian, schoolbook: value = value * 10 + digit */
        uint8_t be[64] = {0};
        for (const char *p = v + 1; *p; p++) {
            unsigned carry = (unsigned)(*p - '0');
            for (int i = 63; i >= 0; i--) {
                unsigned x = be[i] * 10u + carry;
                be[i] = (uint8_t)x;
                carry = x >> 8;
            }
            assert_int_equal(carry, 0);
        }
        size_t skip = 0;
        while (skip < 64 && be[skip] == 0)
            skip++;
        assert_int_equal(buf_append(&b, be + skip, 64 - skip, NULL), 0);
    } else if (n >= 2 && v[0] == '0' && v[1] == 'x') {
        b = hexbuf(v);
    } else {
        assert_int_equal(buf_append(&b, v, n, NULL), 0);
    }
    return b;
}

static void encode_json(buf *out, json_t *in)
{
    err e;
    if (json_is_array(in)) {
        size_t mark, i;
        json_t *x;
        rlp_list_begin(out, &mark);
        json_array_foreach(in, i, x) encode_json(out, x);
        assert_int_equal(rlp_list_end(out, mark, &e), 0);
    } else if (json_is_integer(in)) {
        assert_int_equal(rlp_put_u64(out, (uint64_t)json_integer_value(in), &e), 0);
    } else {
        const char *v = json_string_value(in);
        u256 num;
        if (v[0] == '#' && u256_from_dec(&num, v + 1, NULL) == 0) {
            assert_int_equal(rlp_put_u256(out, &num, &e), 0);
        } else {
            buf b = input_bytes(in);
            assert_int_equal(rlp_put_bytes(out, b.data, b.len, &e), 0);
            buf_free(&b);
        }
    }
}

/* The decoded item equals the vector's input, recursively. */
static void check_item(json_t *in, const rlp_item *it)
{
    err e;
    if (json_is_array(in)) {
        assert_int_equal(it->kind, RLP_LIST);
        rlp_iter iter;
        rlp_item child;
        size_t i = 0;
        assert_int_equal(rlp_iter_init(&iter, it, &e), 0);
        while (rlp_iter_next(&iter, &child, &e) == 1) {
            assert_true(i < json_array_size(in));
            check_item(json_array_get(in, i++), &child);
        }
        assert_int_equal(i, json_array_size(in));
        size_t n = 0;
        assert_int_equal(rlp_list_count(&n, it, &e), 0);
        assert_int_equal(n, json_array_size(in));
    } else if (json_is_integer(in)) {
        uint64_t v = 1;
        assert_int_equal(rlp_item_u64(&v, it, &e), 0);
        assert_int_equal(v, (uint64_t)json_integer_value(in));
    } else {
        assert_int_equal(it->kind, RLP_BYTES);
        buf b = input_bytes(in);
        assert_int_equal(it->len, b.len);
        if (b.len)
            assert_memory_equal(it->payload, b.data, b.len);
        const char *v = json_string_value(in);
        u256 want, got;
        if (v[0] == '#' && u256_from_dec(&want, v + 1, NULL) == 0) {
            assert_int_equal(rlp_item_u256(&got, it, &e), 0);
            assert_int_equal(u256_cmp(&got, &want), 0);
        }
        buf_free(&b);
    }
}

static void test_official_vectors(void **state)
{
    (void)state;
    json_t *root = load_vector_json("rlp/rlptest.json");
    const char *name;
    json_t *c;
    int checked = 0;
    json_object_foreach(root, name, c)
    {
        if (!strcmp(name, "listofbinaries"))
            continue; /* see test_listofbinaries */
        json_t *in = json_object_get(c, "in");
        buf want = hexbuf(json_string_value(json_object_get(c, "out")));
        buf got;
        buf_init(&got);
        encode_json(&got, in);
        if (got.len != want.len || memcmp(got.data, want.data, got.len)) {
            char *h = tohex(got.data, got.len);
            fail_msg("%s: encoded %s", name, h);
        }
        rlp_item it;
        err e;
        if (rlp_decode(&it, want.data, want.len, &e) < 0)
            fail_msg("%s: decode failed: %s", name, e.msg);
        assert_ptr_equal(it.raw, want.data);
        assert_int_equal(it.raw_len, want.len);
        check_item(in, &it);
        buf_free(&got);
        buf_free(&want);
        checked++;
    }
    assert_int_equal(checked, 28);
    json_decref(root);
}

/* Upstream's "listofbinaries" lists 147 inputs, but its "out" is a list header
 * (f8a7) covering only the first four, followed by 196 zero bytes. A strict
 * decoder must refuse the whole (trailing bytes); its leading item is exactly the
 * first four inputs. */
static void test_listofbinaries(void **state)
{
    (void)state;
    json_t *root = load_vector_json("rlp/rlptest.json");
    json_t *c = json_object_get(root, "listofbinaries");
    json_t *in = json_object_get(c, "in");
    buf out = hexbuf(json_string_value(json_object_get(c, "out")));
    rlp_item it;
    size_t used = 0;
    err e;
    assert_int_equal(json_array_size(in), 147);
    assert_int_equal(rlp_decode(&it, out.data, out.len, &e), -1);
    assert_non_null(strstr(e.msg, "trailing"));
    assert_int_equal(rlp_decode_prefix(&it, &used, out.data, out.len, &e), 0);
    assert_int_equal(used, 2 + 0xa7);
    assert_int_equal(out.len - used, 196);
    json_t *first4 = json_array();
    for (size_t i = 0; i < 4; i++)
        json_array_append(first4, json_array_get(in, i));
    check_item(first4, &it);
    buf enc;
    buf_init(&enc);
    encode_json(&enc, first4);
    assert_int_equal(enc.len, used);
    assert_memory_equal(enc.data, out.data, used);
    buf_free(&enc);
    json_decref(first4);
    buf_free(&out);
    json_decref(root);
}

static void test_invalid_vectors(void **state)
{
    (void)state;
    json_t *root = load_vector_json("rlp/invalidRLPTest.json");
    const char *name;
    json_t *c;
    int checked = 0;
    json_object_foreach(root, name, c)
    {
        buf b = hexbuf(json_string_value(json_object_get(c, "out")));
        rlp_item it;
        err e;
        err_clear(&e);
        if (rlp_decode(&it, b.data, b.len, &e) == 0)
            fail_msg("%s: accepted", name);
        assert_true(e.code == ERR_INVALID || e.code == ERR_OVERFLOW);
        assert_true(strlen(e.msg) > 10);
        buf_free(&b);
        checked++;
    }
    assert_int_equal(checked, 17);
    json_decref(root);
}

/* Every strict prefix of a valid encoding is an error, never a read past it. */
static void test_truncation(void **state)
{
    (void)state;
    json_t *root = load_vector_json("rlp/rlptest.json");
    const char *name;
    json_t *c;
    json_object_foreach(root, name, c)
    {
        buf b = hexbuf(json_string_value(json_object_get(c, "out")));
        if (!strcmp(name, "listofbinaries"))
            b.len = 2 + 0xa7;
        for (size_t n = 0; n < b.len; n++) {
            /* a heap copy of exactly n bytes lets ASan see any over-read */
            uint8_t *p = malloc(n ? n : 1);
            if (n)
                memcpy(p, b.data, n);
            rlp_item it;
            if (rlp_decode(&it, p, n, NULL) == 0 && n > 0) {
                /* a shorter prefix may itself be a complete item only if the vector
                 * is a single byte; none of them is */
                fail_msg("%s: prefix of %zu bytes accepted", name, n);
            }
            free(p);
        }
        buf_free(&b);
    }
    json_decref(root);
}

static int decode_hex(rlp_item *it, buf *hold, const char *hex, err *e)
{
    *hold = hexbuf(hex);
    return rlp_decode(it, hold->data, hold->len, e);
}

static void test_integers(void **state)
{
    (void)state;
    rlp_item it;
    buf b;
    err e;
    uint64_t v;
    u256 u;

    assert_int_equal(decode_hex(&it, &b, "80", &e), 0);
    assert_int_equal(rlp_item_u64(&v, &it, &e), 0);
    assert_int_equal(v, 0);
    buf_free(&b);

    /* leading zero byte: valid RLP string, but not a canonical integer */
    assert_int_equal(decode_hex(&it, &b, "8200ff", &e), 0);
    assert_int_equal(rlp_item_u64(&v, &it, &e), -1);
    assert_non_null(strstr(e.msg, "leading zero"));
    assert_int_equal(rlp_item_u256(&u, &it, &e), -1);
    buf_free(&b);

    /* single zero byte as an integer is the non-canonical form of 0 */
    assert_int_equal(decode_hex(&it, &b, "00", &e), 0);
    assert_int_equal(rlp_item_u64(&v, &it, &e), -1);
    buf_free(&b);

    /* 9 bytes do not fit u64, but fit u256 */
    assert_int_equal(decode_hex(&it, &b, "89010000000000000000", &e), 0);
    assert_int_equal(rlp_item_u64(&v, &it, &e), -1);
    assert_int_equal(e.code, ERR_OVERFLOW);
    assert_int_equal(rlp_item_u256(&u, &it, &e), 0);
    assert_int_equal(u.w[1], 1);
    assert_int_equal(u.w[0], 0);
    buf_free(&b);

    /* 33 bytes do not fit u256 */
    assert_int_equal(
        decode_hex(&it, &b, "a1010000000000000000000000000000000000000000000000000000000000000000",
                   &e),
        0);
    assert_int_equal(rlp_item_u256(&u, &it, &e), -1);
    buf_free(&b);

    /* a list is not an integer */
    assert_int_equal(decode_hex(&it, &b, "c0", &e), 0);
    assert_int_equal(rlp_item_u64(&v, &it, &e), -1);
    buf_free(&b);

    /* encoder: u64 max and u256 max, minimal */
    buf out;
    buf_init(&out);
    assert_int_equal(rlp_put_u64(&out, UINT64_MAX, &e), 0);
    assert_int_equal(out.len, 9);
    assert_int_equal(out.data[0], 0x88);
    u256 max = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};
    buf_reset(&out);
    assert_int_equal(rlp_put_u256(&out, &max, &e), 0);
    assert_int_equal(out.len, 33);
    assert_int_equal(out.data[0], 0xa0);
    assert_int_equal(rlp_decode(&it, out.data, out.len, &e), 0);
    assert_int_equal(rlp_item_u256(&u, &it, &e), 0);
    assert_int_equal(u256_cmp(&u, &max), 0);
    buf_free(&out);
}

static void nest(buf *out, int lists)
{
    size_t marks[128];
    for (int i = 0; i < lists; i++)
        rlp_list_begin(out, &marks[i]);
    for (int i = lists - 1; i >= 0; i--)
        assert_int_equal(rlp_list_end(out, marks[i], NULL), 0);
}

static void test_depth_limit(void **state)
{
    (void)state;
    buf b;
    rlp_item it;
    err e;
    buf_init(&b);
    nest(&b, RLP_MAX_DEPTH);
    assert_int_equal(rlp_decode(&it, b.data, b.len, &e), 0);
    buf_reset(&b);
    nest(&b, RLP_MAX_DEPTH + 1);
    assert_int_equal(rlp_decode(&it, b.data, b.len, &e), -1);
    assert_non_null(strstr(e.msg, "nested"));
    buf_free(&b);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",                     /* nothing */
        "c2836162",             /* item overruns its list */
        "c4826162",             /* list longer than the input */
        "c18180",               /* list says 1 byte, item is 2 */
        "b9ffff",               /* long string, truncated */
        "bfffffffffffffffff00", /* 8-byte length far past the end */
        "ffffffffffffffffff",   /* same for a list */
        "8180",                 /* fine... */
        "818000",               /* ...but not with a trailing byte */
        "c0c0",                 /* two top-level items */
        "f90000",               /* long list form with leading zero */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf b = hexbuf(bad[i]);
        rlp_item it;
        int r = rlp_decode(&it, b.data, b.len, NULL);
        if (i == 7)
            assert_int_equal(r, 0);
        else if (r == 0)
            fail_msg("accepted %s", bad[i]);
        buf_free(&b);
    }
}

static void test_long_list_header(void **state)
{
    (void)state;
    /* 60 one-byte items: the list needs the long form, the payload is moved */
    buf b;
    rlp_item it;
    err e;
    size_t mark, n = 0;
    buf_init(&b);
    rlp_list_begin(&b, &mark);
    for (uint64_t i = 1; i <= 60; i++)
        assert_int_equal(rlp_put_u64(&b, i, &e), 0);
    assert_int_equal(rlp_list_end(&b, mark, &e), 0);
    assert_int_equal(b.data[0], 0xf8);
    assert_int_equal(b.data[1], 60);
    assert_int_equal(b.data[2], 1);
    assert_int_equal(rlp_decode(&it, b.data, b.len, &e), 0);
    assert_int_equal(rlp_list_count(&n, &it, &e), 0);
    assert_int_equal(n, 60);
    /* iterating a string is an error */
    rlp_iter iter;
    rlp_item s = {.kind = RLP_BYTES};
    assert_int_equal(rlp_iter_init(&iter, &s, &e), -1);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_vectors), cmocka_unit_test(test_listofbinaries),
        cmocka_unit_test(test_invalid_vectors),  cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_integers),         cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_malformed),        cmocka_unit_test(test_long_list_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
