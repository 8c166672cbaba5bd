/* test_abi.c: the ABI codec against the Solidity ABI specification's examples
 * (tests/vectors/abi), plus type parsing, integer ranges (negative intN), nested
 * dynamic round trips, strict decoding of hostile data, events, JSON ABIs and
 * revert data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/keccak.h"
#include "eth/abi.h"
#include "eth_test.h"

/* The tuple value of a function's arguments, from cast-style texts. */
static abi_value *args_from_texts(const abi_fn *f, const char *const *texts, size_t n)
{
    abi_value *t = abi_value_new(ABI_TUPLE);
    err e;
    assert_non_null(t);
    assert_int_equal(n, f->inputs->n_fields);
    for (size_t i = 0; i < n; i++) {
        abi_value *v = NULL;
        if (abi_value_parse(&v, f->inputs->fields[i], texts[i], &e) < 0)
            fail_msg("argument %zu \"%s\": %s", i, texts[i], e.msg);
        assert_int_equal(abi_value_push(t, v, &e), 0);
    }
    return t;
}

static buf words_buf(const char *selector, json_t *words)
{
    buf b = selector ? hexbuf(selector) : (buf){0};
    size_t i;
    json_t *w;
    json_array_foreach(words, i, w)
    {
        buf x = hexbuf(json_string_value(w));
        assert_int_equal(x.len, 32);
        assert_int_equal(buf_append(&b, x.data, 32, NULL), 0);
        buf_free(&x);
    }
    return b;
}

static void assert_buf_eq(const buf *got, const buf *want, const char *what)
{
    if (got->len != want->len || memcmp(got->data, want->data, got->len)) {
        char *g = tohex(got->data, got->len), *w = tohex(want->data, want->len);
        fail_msg("%s:\n got  %s\n want %s", what, g, w);
    }
}

static void test_spec_examples(void **state)
{
    (void)state;
    json_t *root = load_vector_json("abi/spec_examples.json");
    json_t *cases = json_object_get(root, "cases"), *c;
    size_t ci;
    err e;
    json_array_foreach(cases, ci, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        abi_fn *f = NULL;
        if (abi_fn_parse(&f, ABI_FN_FUNCTION, json_string_value(json_object_get(c, "signature")),
                         &e) < 0)
            fail_msg("%s: %s", name, e.msg);
        assert_string_equal(f->signature, json_string_value(json_object_get(c, "canonical")));
        buf sel = hexbuf(json_string_value(json_object_get(c, "selector")));
        assert_memory_equal(f->selector, sel.data, 4);

        json_t *args = json_object_get(c, "args");
        const char *texts[8];
        for (size_t i = 0; i < json_array_size(args); i++)
            texts[i] = json_string_value(json_array_get(args, i));
        abi_value *v = args_from_texts(f, texts, json_array_size(args));
        buf want = words_buf(json_string_value(json_object_get(c, "selector")),
                             json_object_get(c, "words"));
        buf got;
        buf_init(&got);
        if (abi_calldata(&got, f, v, &e) < 0)
            fail_msg("%s: %s", name, e.msg);
        assert_buf_eq(&got, &want, name);

        /* decode the published bytes back and encode again */
        abi_value *d = NULL;
        if (abi_calldata_decode(&d, f, want.data, want.len, &e) < 0)
            fail_msg("%s: decode: %s", name, e.msg);
        buf again;
        buf_init(&again);
        assert_int_equal(abi_calldata(&again, f, d, &e), 0);
        assert_buf_eq(&again, &want, name);

        /* the standalone selector helper agrees */
        uint8_t s4[4];
        assert_int_equal(abi_selector(s4, json_string_value(json_object_get(c, "signature")), &e),
                         0);
        assert_memory_equal(s4, sel.data, 4);

        buf_free(&again);
        abi_value_free(&d);
        abi_value_free(&v);
        buf_free(&got);
        buf_free(&want);
        buf_free(&sel);
        abi_fn_free(&f);
        assert_null(f);
    }
    assert_int_equal(ci, 5);

    /* "If it were to return false, its output would be ... a single bool." */
    json_t *r = json_object_get(root, "baz_returns_false");
    abi_type *t = NULL;
    abi_value *v = NULL;
    buf data = hexbuf(json_string_value(json_object_get(r, "data")));
    assert_int_equal(abi_type_parse(&t, json_string_value(json_object_get(r, "types")), &e), 0);
    assert_int_equal(abi_decode(&v, t, data.data, data.len, &e), 0);
    assert_int_equal(v->n_items, 1);
    assert_int_equal(v->items[0]->kind, ABI_BOOL);
    assert_true(u256_is_zero(&v->items[0]->num));
    abi_value_free(&v);
    abi_type_free(&t);
    buf_free(&data);
    json_decref(root);
}

static void check_canonical(const char *in, const char *want)
{
    abi_type *t = NULL;
    err e;
    if (abi_type_parse(&t, in, &e) < 0)
        fail_msg("%s: %s", in, e.msg);
    char *s = abi_type_str(t);
    assert_string_equal(s, want);
    free(s);
    abi_type_free(&t);
}

static void check_type_error(const char *in)
{
    abi_type *t = NULL;
    err e;
    err_clear(&e);
    if (abi_type_parse(&t, in, &e) == 0)
        fail_msg("type \"%s\" accepted", in);
    assert_null(t);
    assert_true(e.code != ERR_OK && strlen(e.msg) > 0);
}

static void test_types(void **state)
{
    (void)state;
    check_canonical("uint", "uint256");
    check_canonical("int", "int256");
    check_canonical("uint8", "uint8");
    check_canonical("int24[3][]", "int24[3][]");
    check_canonical("bytes32", "bytes32");
    check_canonical("bytes", "bytes");
    check_canonical("(uint,string)[2]", "(uint256,string)[2]");
    check_canonical("tuple(uint a, (bool x, bytes[] y) b)[]", "(uint256,(bool,bytes[]))[]");
    check_canonical(" ( address , uint ) ", "(address,uint256)");
    for (unsigned n = 8; n <= 256; n += 8) {
        char in[16];
        snprintf(in, sizeof in, "int%u", n);
        check_canonical(in, in);
        snprintf(in, sizeof in, "uint%u", n);
        check_canonical(in, in);
    }
    for (unsigned n = 1; n <= 32; n++) {
        char in[16];
        snprintf(in, sizeof in, "bytes%u", n);
        check_canonical(in, in);
    }
    static const char *bad[] = {
        "",
        "uint7",
        "uint264",
        "uint0",
        "uint08",
        "int9",
        "bytes0",
        "bytes33",
        "bytes01",
        "fixed",
        "ufixed128x18",
        "function",
        "address5",
        "string[",
        "string]",
        "uint[01]",
        "uint[0]",
        "()",
        "(uint",
        "(uint,)",
        "(,uint)",
        "uint256 x",
        "boolean",
        "uint256[]x",
        "tuple",
        "(uint indexed)",
        "uint[99999999999999999999]",
        "uint256[65536][65536]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_type_error(bad[i]);
    /* nesting limit */
    char deep[256] = "uint";
    for (int i = 0; i < ABI_MAX_DEPTH + 1; i++)
        strcat(deep, "[]");
    check_type_error(deep);
    char ok[256] = "uint";
    for (int i = 0; i < ABI_MAX_DEPTH - 1; i++)
        strcat(ok, "[]");
    abi_type *t = NULL;
    assert_int_equal(abi_type_parse(&t, ok, NULL), 0);
    abi_type_free(&t);
}

/* Encodes text as type, compares with the expected word(s), decodes back. */
static void check_word(const char *type, const char *text, const char *want_hex)
{
    abi_type *t = NULL;
    abi_value *v = NULL, *d = NULL;
    err e;
    buf got, again;
    assert_int_equal(abi_type_parse(&t, type, &e), 0);
    if (abi_value_parse(&v, t, text, &e) < 0)
        fail_msg("%s %s: %s", type, text, e.msg);
    buf_init(&got);
    buf_init(&again);
    assert_int_equal(abi_encode(&got, t, v, &e), 0);
    buf want = hexbuf(want_hex);
    assert_buf_eq(&got, &want, text);
    assert_int_equal(abi_decode(&d, t, got.data, got.len, &e), 0);
    assert_int_equal(abi_encode(&again, t, d, &e), 0);
    assert_buf_eq(&again, &want, text);
    /* the decoded value prints as the input did (decimal integers) */
    buf s;
    buf_init(&s);
    assert_int_equal(abi_value_format(&s, d, &e), 0);
    if (text[0] != '0' || text[1] != 'x')
        assert_string_equal((char *)s.data, text);
    buf_free(&s);
    buf_free(&want);
    buf_free(&got);
    buf_free(&again);
    abi_value_free(&v);
    abi_value_free(&d);
    abi_type_free(&t);
}

static void check_range_error(const char *type, const char *text)
{
    abi_type *t = NULL;
    abi_value *v = NULL;
    err e;
    assert_int_equal(abi_type_parse(&t, type, &e), 0);
    err_clear(&e);
    if (abi_value_parse(&v, t, text, &e) == 0)
        fail_msg("%s accepted %s", type, text);
    assert_true(e.code == ERR_OVERFLOW || e.code == ERR_INVALID);
    abi_type_free(&t);
}

#define FF28 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define Z28 "00000000000000000000000000000000000000000000000000000000"

static void test_integer_ranges(void **state)
{
    (void)state;
    check_word("int8", "-1", FF28 "ffffffff");
    check_word("int8", "-128", FF28 "ffffff80");
    check_word("int8", "127", Z28 "0000007f");
    check_word("int16", "-2", FF28 "fffffffe");
    check_word("int32", "-2147483648", FF28 "80000000");
    check_word("uint8", "255", Z28 "000000ff");
    check_word("uint32", "0xdeadbeef", Z28 "deadbeef");
    check_word("int256",
               "-57896044618658097711785492504343953926634992332820282019728792003956564819968",
               "8000000000000000000000000000000000000000000000000000000000000000");
    check_word("int256",
               "57896044618658097711785492504343953926634992332820282019728792003956564819967",
               "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    check_word("uint256",
               "115792089237316195423570985008687907853269984665640564039457584007913129639935",
               "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    check_word("int64", "-9000000000000000000",
               "ffffffffffffffffffffffffffffffffffffffffffffffff831993af1d7c0000");

    check_range_error("int8", "200");
    check_range_error("int8", "128");
    check_range_error("int8", "-129");
    check_range_error("uint8", "256");
    check_range_error("uint8", "-1");
    check_range_error("uint8", "0x100");
    check_range_error(
        "int256", "-57896044618658097711785492504343953926634992332820282019728792003956564819969");
    check_range_error(
        "uint256",
        "115792089237316195423570985008687907853269984665640564039457584007913129639936");
    check_range_error("uint", "12a");
    check_range_error("uint", "");
    check_range_error("bool", "yes");
    check_range_error("bytes3", "0x61");
    check_range_error("bytes3", "0x6162636465");
    check_range_error("address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"); /* bad checksum */
    check_range_error("address", "0x1234");
    check_range_error("uint8[2]", "[1,2,3]");
    check_range_error("(uint8,bool)", "(1)");
    check_range_error("uint8[]", "[1,2");
    check_range_error("string[]", "[\"unterminated]");

    /* values built in C: an int8 of 200 is refused when encoding */
    abi_type *t = NULL;
    buf out;
    err e;
    buf_init(&out);
    assert_int_equal(abi_type_parse(&t, "int8", &e), 0);
    u256 two_hundred = u256_from_u64(200);
    abi_value *v = abi_value_new_int(8, &two_hundred);
    assert_int_equal(abi_encode(&out, t, v, &e), -1);
    assert_int_equal(e.code, ERR_OVERFLOW);
    assert_int_equal(out.len, 0);
    abi_value_free(&v);
    v = abi_value_new_int64(8, -5);
    assert_int_equal(abi_encode(&out, t, v, &e), 0);
    assert_int_equal(out.data[31], 0xfb);
    assert_int_equal(out.data[0], 0xff);
    abi_value_free(&v);
    abi_type_free(&t);
    /* a uint value for an int type is a kind mismatch */
    assert_int_equal(abi_type_parse(&t, "uint8", &e), 0);
    v = abi_value_new_uint64(8, 300);
    buf_reset(&out);
    assert_int_equal(abi_encode(&out, t, v, &e), -1);
    abi_value_free(&v);
    abi_type_free(&t);
    buf_free(&out);
}

/* Parses text as type, encodes, decodes, re-encodes and re-prints. */
static void round_trip(const char *type, const char *text, const char *want_print)
{
    abi_type *t = NULL;
    abi_value *v = NULL, *d = NULL;
    err e;
    buf a, b, s;
    buf_init(&a);
    buf_init(&b);
    buf_init(&s);
    if (abi_type_parse(&t, type, &e) < 0)
        fail_msg("%s: %s", type, e.msg);
    if (abi_value_parse(&v, t, text, &e) < 0)
        fail_msg("%s %s: %s", type, text, e.msg);
    assert_int_equal(abi_encode(&a, t, v, &e), 0);
    if (abi_decode(&d, t, a.data, a.len, &e) < 0)
        fail_msg("%s: decode: %s", type, e.msg);
    assert_int_equal(abi_encode(&b, t, d, &e), 0);
    assert_buf_eq(&b, &a, type);
    assert_int_equal(abi_value_format(&s, d, &e), 0);
    assert_string_equal((char *)s.data, want_print);
    /* every strict prefix of the encoding is refused, within bounds */
    for (size_t n = 0; n < a.len; n += (a.len > 400 ? 7 : 1)) {
        uint8_t *p = malloc(n ? n : 1);
        if (n)
            memcpy(p, a.data, n);
        abi_value *x = NULL;
        if (abi_decode(&x, t, p, n, NULL) == 0)
            fail_msg("%s: a %zu-byte prefix of %zu bytes decoded", type, n, a.len);
        free(p);
    }
    buf_free(&a);
    buf_free(&b);
    buf_free(&s);
    abi_value_free(&v);
    abi_value_free(&d);
    abi_type_free(&t);
}

static void test_nested_round_trips(void **state)
{
    (void)state;
    round_trip("(string[])", "([\"a\", \"\", \"hello world, quite a long string over 32 bytes\"])",
               "([\"a\", \"\", \"hello world, quite a long string over 32 bytes\"])");
    round_trip("bytes[]",
               "[0x, 0x00, 0x0102030405060708091011121314151617181920212223242526272829303132]",
               "[0x, 0x00, 0x0102030405060708091011121314151617181920212223242526272829303132]");
    round_trip("(uint256[],string)[]", "[([1, 2], \"x\"), ([], \"\"), ([3], \"yz\")]",
               "[([1, 2], \"x\"), ([], \"\"), ([3], \"yz\")]");
    round_trip("((string,bytes[])[2],int24)", "([(\"p\", [0xaa]), (\"q\", [])], -7)",
               "([(\"p\", [0xaa]), (\"q\", [])], -7)");
    round_trip("int8[][]", "[[-1, -128, 127], [], [0]]", "[[-1, -128, 127], [], [0]]");
    round_trip("(int256,uint8[3],bool,bytes2)", "(-42, [1, 2, 3], true, 0xbeef)",
               "(-42, [1, 2, 3], true, 0xbeef)");
    round_trip("string[2][]", "[[\"a\", \"b\"], [\"c\", \"d\"]]",
               "[[\"a\", \"b\"], [\"c\", \"d\"]]");
    round_trip("(address,string)",
               "(0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed, \"quoted \\\"inner\\\"\")",
               "(0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed, \"quoted \\\"inner\\\"\")");
    /* top-level string text is taken verbatim */
    round_trip("string", "a, b] (c)", "\"a, b] (c)\"");
    round_trip("string", "\"x\"", "\"x\"");
    /* printing escapes control characters */
    round_trip("string", "\"tab\\there\\nnew\"", "\"tab\\there\\nnew\"");
}

/* Decoding must fail on data, with message fragment want. */
static void check_decode_error(const char *type, const char *hex, const char *want)
{
    abi_type *t = NULL;
    abi_value *v = NULL;
    err e;
    buf b = hexbuf(hex);
    uint8_t *p = malloc(b.len ? b.len : 1); /* exact-size copy for ASan */
    if (b.len)
        memcpy(p, b.data, b.len);
    assert_int_equal(abi_type_parse(&t, type, &e), 0);
    err_clear(&e);
    if (abi_decode(&v, t, p, b.len, &e) == 0)
        fail_msg("%s: accepted %s", type, hex);
    assert_null(v);
    if (!strstr(e.msg, want))
        fail_msg("%s: message \"%s\" lacks \"%s\"", type, e.msg, want);
    free(p);
    buf_free(&b);
    abi_type_free(&t);
}

#define W(x) "00000000000000000000000000000000000000000000000000000000000000" x

static void test_strict_decoding(void **state)
{
    (void)state;
    check_decode_error("(string)", W("20") W("40") "41", "past the end"); /* length */
    check_decode_error("(string)", W("e0") W("01"), "past the end");      /* offset */
    check_decode_error("(string)",
                       "ff"
                       "00000000000000000000000000000000000000000000000000000000000020",
                       "far too large");
    check_decode_error(
        "(bytes)",
        W("20") W("01") "61ff000000000000000000000000000000000000000000000000000000000000",
        "non-zero padding");
    check_decode_error("(bytes)", W("20") W("01") "61", "past the end"); /* padding missing */
    check_decode_error("(uint8)",
                       "0000000000000000000000000000000000000000000000000000000000000100",
                       "uint8 word has non-zero padding");
    check_decode_error("(int8)", W("80"), "int8 word has non-zero padding");
    check_decode_error("(bool)", W("02"), "neither 0 nor 1");
    check_decode_error("(address)",
                       "0000000000000000000000010000000000000000000000000000000000000000",
                       "address word");
    check_decode_error("(bytes3)",
                       "6162636400000000000000000000000000000000000000000000000000000000",
                       "bytes3 word");
    check_decode_error("(uint256[])",
                       W("20") "000000000000000000000000000000000000000000000000ffffffffffffffff",
                       "past the end");
    check_decode_error("(uint256[])", W("20") W("03") W("01") W("02"), "does not fit");
    check_decode_error("(uint256,uint256)", W("01"), "ends inside");
    check_decode_error("(uint256)", "", "ends inside");
    check_decode_error("(uint256[2])", W("01"), "ends inside");

    /* overlapping offsets: 40 inner arrays all pointing at one array of 40 words */
    buf b;
    buf_init(&b);
    uint8_t w[32] = {0};
    w[31] = 0x20;
    assert_int_equal(buf_append(&b, w, 32, NULL), 0); /* offset of the outer array */
    w[31] = 40;
    assert_int_equal(buf_append(&b, w, 32, NULL), 0); /* outer count */
    for (int i = 0; i < 40; i++) {
        w[31] = 0;
        w[30] = 0;
        uint16_t off = 40 * 32; /* every element points past the heads, at the same place */
        w[30] = (uint8_t)(off >> 8);
        w[31] = (uint8_t)off;
        assert_int_equal(buf_append(&b, w, 32, NULL), 0);
    }
    memset(w, 0, 32);
    w[31] = 40;
    assert_int_equal(buf_append(&b, w, 32, NULL), 0); /* inner count */
    for (int i = 0; i < 40; i++) {
        w[31] = (uint8_t)i;
        assert_int_equal(buf_append(&b, w, 32, NULL), 0);
    }
    abi_type *t = NULL;
    abi_value *v = NULL;
    err e;
    assert_int_equal(abi_type_parse(&t, "(uint256[][])", &e), 0);
    /* 40 x 40 values from 2.7 kB is still within the budget: it decodes */
    assert_int_equal(abi_decode(&v, t, b.data, b.len, &e), 0);
    assert_int_equal(v->items[0]->n_items, 40);
    abi_value_free(&v);
    abi_type_free(&t);
    /* one more level of sharing goes past it and is refused */
    assert_int_equal(abi_type_parse(&t, "(uint256[][][])", &e), 0);
    buf c;
    buf_init(&c);
    memset(w, 0, 32);
    w[31] = 0x20;
    assert_int_equal(buf_append(&c, w, 32, NULL), 0);
    w[31] = 40;
    assert_int_equal(buf_append(&c, w, 32, NULL), 0);
    for (int i = 0; i < 40; i++) {
        uint16_t off = 40 * 32;
        w[30] = (uint8_t)(off >> 8);
        w[31] = (uint8_t)off;
        assert_int_equal(buf_append(&c, w, 32, NULL), 0);
    }
    /* the shared middle array: the previous document minus its first word */
    assert_int_equal(buf_append(&c, b.data + 32, b.len - 32, NULL), 0);
    assert_int_equal(abi_decode(&v, t, c.data, c.len, &e), -1);
    assert_non_null(strstr(e.msg, "too many values"));
    abi_type_free(&t);
    buf_free(&b);
    buf_free(&c);

    /* 30 strings sharing one 500-byte body would copy 15 kB out of 1.6 kB: refused */
    buf d;
    buf_init(&d);
    memset(w, 0, 32);
    w[31] = 0x20;
    assert_int_equal(buf_append(&d, w, 32, NULL), 0);
    w[31] = 30;
    assert_int_equal(buf_append(&d, w, 32, NULL), 0);
    for (int i = 0; i < 30; i++) {
        uint16_t off = 30 * 32;
        w[30] = (uint8_t)(off >> 8);
        w[31] = (uint8_t)off;
        assert_int_equal(buf_append(&d, w, 32, NULL), 0);
    }
    memset(w, 0, 32);
    w[30] = 500 >> 8;
    w[31] = 500 & 0xff;
    assert_int_equal(buf_append(&d, w, 32, NULL), 0);
    uint8_t body[512];
    memset(body, 'a', 500);
    memset(body + 500, 0, 12);
    assert_int_equal(buf_append(&d, body, sizeof body, NULL), 0);
    assert_int_equal(abi_type_parse(&t, "(string[])", &e), 0);
    assert_int_equal(abi_decode(&v, t, d.data, d.len, &e), -1);
    assert_non_null(strstr(e.msg, "too many bytes"));
    abi_type_free(&t);
    /* two strings sharing one short body stay within the budget and decode */
    buf_free(&d);
    d = hexbuf(W("20") W("02") W("40") W("40")
                   W("0a") "61616161616161616161000000000000000000000000000000000000000000000000");
    assert_int_equal(abi_type_parse(&t, "(string[])", &e), 0);
    assert_int_equal(abi_decode(&v, t, d.data, d.len, &e), 0);
    assert_int_equal(v->items[0]->n_items, 2);
    abi_value_free(&v);
    abi_type_free(&t);
    buf_free(&d);
}

static void hexword(uint8_t out[32], const char *hex)
{
    buf b = hexbuf(hex);
    assert_int_equal(b.len, 32);
    memcpy(out, b.data, 32);
    buf_free(&b);
}

static void test_events(void **state)
{
    (void)state;
    abi_fn *ev = NULL;
    err e;
    assert_int_equal(abi_fn_parse(&ev, ABI_FN_EVENT,
                                  "event Transfer(address indexed from, address indexed to, "
                                  "uint value)",
                                  &e),
                     0);
    assert_string_equal(ev->signature, "Transfer(address,address,uint256)");
    uint8_t want0[32];
    keccak256(want0, "Transfer(address,address,uint256)", 33);
    assert_memory_equal(ev->topic0, want0, 32);
    uint8_t topic[32];
    assert_int_equal(abi_event_topic(topic, "Transfer(address,address,uint)", &e), 0);
    assert_memory_equal(topic, want0, 32);

    uint8_t topics[3 * 32];
    memcpy(topics, want0, 32);
    hexword(topics + 32, "0000000000000000000000001111111111111111111111111111111111111111");
    hexword(topics + 64, "0000000000000000000000002222222222222222222222222222222222222222");
    buf data = hexbuf(W("2a"));
    abi_value *v = NULL;
    assert_int_equal(abi_event_decode(&v, ev, topics, 3, data.data, data.len, &e), 0);
    buf s;
    buf_init(&s);
    assert_int_equal(abi_value_format(&s, v, &e), 0);
    assert_string_equal((char *)s.data, "(0x1111111111111111111111111111111111111111, "
                                        "0x2222222222222222222222222222222222222222, 42)");
    abi_value_free(&v);
    /* wrong topic0, wrong topic count, dirty address topic, short data */
    topics[0] ^= 1;
    assert_int_equal(abi_event_decode(&v, ev, topics, 3, data.data, data.len, &e), -1);
    topics[0] ^= 1;
    assert_int_equal(abi_event_decode(&v, ev, topics, 2, data.data, data.len, &e), -1);
    assert_non_null(strstr(e.msg, "topics"));
    topics[32] = 1;
    assert_int_equal(abi_event_decode(&v, ev, topics, 3, data.data, data.len, &e), -1);
    topics[32] = 0;
    assert_int_equal(abi_event_decode(&v, ev, topics, 3, data.data, 31, &e), -1);
    abi_fn_free(&ev);
    buf_free(&data);

    /* indexed dynamic and compound fields are hashes: compared, never decoded */
    assert_int_equal(abi_fn_parse(&ev, ABI_FN_EVENT,
                                  "Named(string indexed name, uint256[] indexed ids, "
                                  "(uint8,string) indexed pair, bytes note, int16 indexed delta)",
                                  &e),
                     -1); /* four indexed: too many */
    assert_int_equal(abi_fn_parse(&ev, ABI_FN_EVENT,
                                  "Named(string indexed name, uint256[] indexed ids, "
                                  "(uint8,string) indexed pair, bytes note)",
                                  &e),
                     0);
    uint8_t t4[4 * 32];
    memcpy(t4, ev->topic0, 32);
    keccak256(t4 + 32, "alice", 5);
    uint8_t ids[64] = {0};
    ids[31] = 1;
    ids[63] = 2;
    keccak256(t4 + 64, ids, 64);
    uint8_t pair[64] = {0}; /* uint8 7 padded, then "hi" padded, no lengths */
    pair[31] = 7;
    pair[32] = 'h';
    pair[33] = 'i';
    keccak256(t4 + 96, pair, 64);
    data =
        hexbuf(W("20") W("02") "abcd000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(abi_event_decode(&v, ev, t4, 4, data.data, data.len, &e), 0);
    assert_int_equal(v->n_items, 4);
    for (int i = 0; i < 3; i++)
        assert_int_equal(v->items[i]->kind, ABI_TOPIC_HASH);
    assert_int_equal(v->items[3]->kind, ABI_BYTES);
    const char *vals[3] = {"alice", "[1, 2]", "(7, \"hi\")"};
    for (int i = 0; i < 3; i++) {
        abi_value *x = NULL;
        uint8_t h[32];
        assert_int_equal(abi_value_parse(&x, ev->inputs->fields[i], vals[i], &e), 0);
        assert_int_equal(abi_topic_of(h, ev->inputs->fields[i], x, &e), 0);
        assert_memory_equal(h, v->items[i]->word, 32);
        abi_value_free(&x);
    }
    /* value types are their own topic */
    abi_type *it = NULL;
    abi_value *x = NULL;
    uint8_t h[32];
    assert_int_equal(abi_type_parse(&it, "int16", &e), 0);
    assert_int_equal(abi_value_parse(&x, it, "-2", &e), 0);
    assert_int_equal(abi_topic_of(h, it, x, &e), 0);
    assert_int_equal(h[0], 0xff);
    assert_int_equal(h[31], 0xfe);
    abi_value_free(&x);
    abi_type_free(&it);
    json_t *j = abi_value_to_json(v);
    char *js = json_dumps(j, JSON_COMPACT);
    assert_non_null(strstr(js, "\"hashed\""));
    assert_non_null(strstr(js, "\"0xabcd\""));
    free(js);
    json_decref(j);
    abi_value_free(&v);
    buf_free(&data);
    abi_fn_free(&ev);
    buf_free(&s);
}

static const char *ARTIFACT =
    "{\"abi\": ["
    " {\"type\":\"constructor\",\"inputs\":[{\"name\":\"owner\",\"type\":\"address\"}],"
    "  \"stateMutability\":\"nonpayable\"},"
    " {\"type\":\"fallback\",\"stateMutability\":\"payable\"},"
    " {\"type\":\"function\",\"name\":\"open\",\"inputs\":["
    "   {\"name\":\"terms\",\"type\":\"tuple\",\"internalType\":\"struct Terms\",\"components\":["
    "     {\"name\":\"amount\",\"type\":\"uint256\"},"
    "     {\"name\":\"parties\",\"type\":\"address[]\"},"
    "     {\"name\":\"legs\",\"type\":\"tuple[2]\",\"components\":["
    "        {\"name\":\"memo\",\"type\":\"string\"},{\"name\":\"due\",\"type\":\"uint64\"}]}]}],"
    "  \"outputs\":[{\"name\":\"id\",\"type\":\"uint256\"}],\"stateMutability\":\"nonpayable\"},"
    " {\"type\":\"event\",\"name\":\"Opened\",\"anonymous\":false,\"inputs\":["
    "   {\"name\":\"id\",\"type\":\"uint256\",\"indexed\":true},"
    "   {\"name\":\"by\",\"type\":\"address\",\"indexed\":true},"
    "   {\"name\":\"amount\",\"type\":\"uint256\",\"indexed\":false}]},"
    " {\"type\":\"error\",\"name\":\"InsufficientBalance\",\"inputs\":["
    "   "
    "{\"name\":\"available\",\"type\":\"uint256\"},{\"name\":\"required\",\"type\":\"uint256\"}]},"
    " {\"type\":\"error\",\"name\":\"Unauthorized\",\"inputs\":[]}"
    "], \"bytecode\": {\"object\": \"0x\"}}";

static void test_json_abi(void **state)
{
    (void)state;
    abi_json *j = NULL;
    err e;
    if (abi_json_parse(&j, ARTIFACT, strlen(ARTIFACT), &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(abi_json_count(j), 5); /* fallback skipped */
    const abi_fn *open = abi_json_function(j, "open");
    assert_non_null(open);
    assert_string_equal(open->signature, "open((uint256,address[],(string,uint64)[2]))");
    assert_ptr_equal(abi_json_function(j, "open((uint256,address[],(string,uint64)[2]))"), open);
    assert_null(abi_json_function(j, "open(uint256)"));
    assert_string_equal(open->inputs->names[0], "terms");
    assert_string_equal(open->inputs->fields[0]->names[2], "legs");
    assert_int_equal(open->outputs->n_fields, 1);
    const abi_fn *ctor = abi_json_constructor(j);
    assert_non_null(ctor);
    assert_string_equal(ctor->signature, "constructor(address)");
    const abi_fn *ev = abi_json_event(j, "Opened");
    assert_non_null(ev);
    assert_true(ev->indexed[0] && ev->indexed[1] && !ev->indexed[2]);
    assert_ptr_equal(abi_json_event_by_topic(j, ev->topic0), ev);
    const abi_fn *er = abi_json_error(j, "InsufficientBalance");
    assert_ptr_equal(abi_json_error_by_selector(j, er->selector), er);

    /* calldata for the struct argument round-trips */
    abi_value *args = NULL;
    const char *texts[] = {
        "(1000, [0x1111111111111111111111111111111111111111], [(\"first\", 1), (\"second\", 2)])"};
    args = args_from_texts(open, texts, 1);
    buf cd;
    buf_init(&cd);
    assert_int_equal(abi_calldata(&cd, open, args, &e), 0);
    abi_value *back = NULL;
    assert_int_equal(abi_calldata_decode(&back, open, cd.data, cd.len, &e), 0);
    buf s;
    buf_init(&s);
    assert_int_equal(abi_value_format(&s, back, &e), 0);
    assert_string_equal((char *)s.data, "((1000, [0x1111111111111111111111111111111111111111], "
                                        "[(\"first\", 1), (\"second\", 2)]))");
    /* the same calldata from the JSON ABI and the arguments' text (abi_json_calldata) */
    buf cd2;
    buf_init(&cd2);
    assert_int_equal(abi_json_calldata(&cd2, j, "open", (const char *)s.data, &e), 0);
    assert_int_equal(cd2.len, cd.len);
    assert_memory_equal(cd2.data, cd.data, cd.len);
    buf_free(&cd2);
    assert_int_equal(abi_json_calldata(&cd2, j, "close", "()", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_non_null(strstr(e.msg, "no function close"));
    assert_int_equal(abi_json_calldata(&cd2, j, "open", NULL, &e), -1);
    assert_non_null(strstr(e.msg, "arguments of open"));
    buf_free(&cd2);
    cd.data[0] ^= 1;
    abi_value_free(&back);
    assert_int_equal(abi_calldata_decode(&back, open, cd.data, cd.len, &e), -1);
    assert_non_null(strstr(e.msg, "selector"));

    /* revert data with this contract's errors */
    char *msg = NULL;
    buf rd;
    buf_init(&rd);
    assert_int_equal(buf_append(&rd, er->selector, 4, NULL), 0);
    assert_int_equal(buf_append(&rd, (const uint8_t *)"", 0, NULL), 0);
    buf w = hexbuf(W("0a") W("14"));
    assert_int_equal(buf_append(&rd, w.data, w.len, NULL), 0);
    assert_int_equal(abi_revert_decode(&msg, rd.data, rd.len, j, &e), 0);
    assert_string_equal(msg, "reverted: InsufficientBalance(available: 10, required: 20)");
    free(msg);
    assert_int_equal(abi_revert_decode(&msg, rd.data, rd.len, NULL, &e), 0);
    assert_non_null(strstr(msg, "unknown error 0x"));
    free(msg);
    assert_int_equal(abi_revert_decode(&msg, rd.data, rd.len - 1, j, &e), 0);
    assert_non_null(strstr(msg, "malformed InsufficientBalance"));
    free(msg);
    const abi_fn *un = abi_json_error(j, "Unauthorized");
    assert_int_equal(abi_revert_decode(&msg, un->selector, 4, j, &e), 0);
    assert_string_equal(msg, "reverted: Unauthorized()");
    free(msg);

    /* the same artifact from a file */
    char path[] = "/tmp/fusion-abi-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ARTIFACT, strlen(ARTIFACT)), (ssize_t)strlen(ARTIFACT));
    close(fd);
    abi_json *j2 = NULL;
    assert_int_equal(abi_json_load(&j2, path, &e), 0);
    assert_int_equal(abi_json_count(j2), 5);
    abi_json_free(&j2);
    unlink(path);
    assert_int_equal(abi_json_load(&j2, "/nonexistent/x.json", &e), -1);
    assert_int_equal(e.code, ERR_IO);

    /* malformed documents */
    static const char *bad[] = {
        "{",
        "{\"abi\": 5}",
        "[{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"name\":\"x\"}]}]",
        "[{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"tuple\"}]}]",
        "[{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"tuple\",\"components\":[]}]"
        "}]",
        "[{\"type\":\"function\",\"name\":\"f\",\"inputs\":[{\"type\":\"uint7\"}]}]",
        "[{\"type\":\"function\",\"inputs\":[]}]",
        "[{\"type\":\"event\",\"name\":\"E\",\"inputs\":[{\"type\":\"uint8\",\"indexed\":true},"
        "{\"type\":\"uint8\",\"indexed\":true},{\"type\":\"uint8\",\"indexed\":true},"
        "{\"type\":\"uint8\",\"indexed\":true}]}]",
        "[5]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        abi_json *x = NULL;
        if (abi_json_parse(&x, bad[i], strlen(bad[i]), &e) == 0)
            fail_msg("accepted %s", bad[i]);
        assert_null(x);
    }

    buf_free(&w);
    buf_free(&rd);
    buf_free(&s);
    buf_free(&cd);
    abi_value_free(&back);
    abi_value_free(&args);
    abi_json_free(&j);
    assert_null(j);
}

static void test_spec_json_tuple(void **state)
{
    (void)state;
    json_t *root = load_vector_json("abi/spec_examples.json");
    json_t *c = json_object_get(root, "json_tuple_example");
    char *text = json_dumps(json_object_get(c, "abi"), 0);
    abi_json *j = NULL;
    err e;
    assert_int_equal(abi_json_parse(&j, text, strlen(text), &e), 0);
    assert_string_equal(abi_json_function(j, "f")->signature,
                        json_string_value(json_object_get(c, "signature")));
    abi_json_free(&j);
    free(text);
    json_decref(root);
}

static void test_revert(void **state)
{
    (void)state;
    json_t *root = load_vector_json("abi/spec_examples.json");
    json_t *c = json_object_get(root, "revert_error_string");
    buf data =
        words_buf(json_string_value(json_object_get(c, "selector")), json_object_get(c, "words"));
    char *msg = NULL;
    char want[128];
    err e;
    snprintf(want, sizeof want, "reverted: \"%s\"",
             json_string_value(json_object_get(c, "message")));
    assert_int_equal(abi_revert_decode(&msg, data.data, data.len, NULL, &e), 0);
    assert_string_equal(msg, want);
    free(msg);
    buf_free(&data);
    json_decref(root);

    /* Panic(uint256) 0x11 */
    data = hexbuf("4e487b71" W("11"));
    assert_int_equal(abi_revert_decode(&msg, data.data, data.len, NULL, &e), 0);
    assert_string_equal(msg, "panic: arithmetic overflow or underflow (0x11)");
    free(msg);
    buf_free(&data);
    assert_int_equal(abi_revert_decode(&msg, NULL, 0, NULL, &e), 0);
    assert_string_equal(msg, "reverted without a reason");
    free(msg);
    data = hexbuf("08c379");
    assert_int_equal(abi_revert_decode(&msg, data.data, data.len, NULL, &e), 0);
    assert_string_equal(msg, "reverted with malformed data 0x08c379");
    free(msg);
    buf_free(&data);
    /* Error(string) whose offset points nowhere, and one with control characters */
    data = hexbuf("08c379a0" W("ff"));
    assert_int_equal(abi_revert_decode(&msg, data.data, data.len, NULL, &e), 0);
    assert_non_null(strstr(msg, "malformed Error(string)"));
    free(msg);
    buf_free(&data);
    data = hexbuf("08c379a0" W("20")
                      W("03") "1b5b4a0000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(abi_revert_decode(&msg, data.data, data.len, NULL, &e), 0);
    assert_string_equal(msg, "reverted: \"\\u001b[J\"");
    free(msg);
    buf_free(&data);
    /* A bidi override (U+202E) would reverse what the reader sees after it. */
    data = hexbuf("08c379a0" W("20")
                      W("04") "e280ae4100000000000000000000000000000000000000000000000000000000");
    assert_int_equal(abi_revert_decode(&msg, data.data, data.len, NULL, &e), 0);
    assert_string_equal(msg, "reverted: \"\\u202eA\"");
    free(msg);
    buf_free(&data);
}

static void test_fn_parse(void **state)
{
    (void)state;
    abi_fn *f = NULL;
    err e;
    assert_int_equal(abi_fn_parse(&f, ABI_FN_FUNCTION,
                                  "function balanceOf(address who) external view returns (uint256)",
                                  &e),
                     0);
    assert_string_equal(f->signature, "balanceOf(address)");
    assert_int_equal(f->outputs->n_fields, 1);
    abi_fn_free(&f);
    assert_int_equal(abi_fn_parse(&f, ABI_FN_FUNCTION, "balanceOf(address)(uint256)", &e), 0);
    assert_int_equal(f->outputs->n_fields, 1);
    abi_fn_free(&f);
    assert_int_equal(abi_fn_parse(&f, ABI_FN_FUNCTION, "f()", &e), 0);
    assert_string_equal(f->signature, "f()");
    abi_value *none = abi_value_new(ABI_TUPLE);
    buf cd;
    buf_init(&cd);
    assert_int_equal(abi_calldata(&cd, f, none, &e), 0);
    assert_int_equal(cd.len, 4);
    buf_free(&cd);
    abi_value_free(&none);
    abi_fn_free(&f);
    assert_int_equal(abi_fn_parse(&f, ABI_FN_EVENT, "Anon(uint indexed a) anonymous", &e), 0);
    assert_true(f->anonymous);
    abi_fn_free(&f);
    static const char *bad[] = {"",
                                "(uint)",
                                "f(uint",
                                "f(uint) junk",
                                "f(uint indexed x)",
                                "f(uint a b)",
                                "1f(uint)",
                                "f(uint)(bool)(bool)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (abi_fn_parse(&f, ABI_FN_FUNCTION, bad[i], &e) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_null(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),   cmocka_unit_test(test_types),
        cmocka_unit_test(test_integer_ranges),  cmocka_unit_test(test_nested_round_trips),
        cmocka_unit_test(test_strict_decoding), cmocka_unit_test(test_events),
        cmocka_unit_test(test_json_abi),        cmocka_unit_test(test_spec_json_tuple),
        cmocka_unit_test(test_revert),          cmocka_unit_test(test_fn_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
