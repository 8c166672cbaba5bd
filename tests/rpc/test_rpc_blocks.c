/* test_rpc_blocks.c: the streaming reader's blocks mode (batches of eth_getBlockByNumber
 * answers with full transactions, what the native-coin scan reads) on hand-made batches:
 * the transfer candidates it finds are the ones written into them (to, from, value, hash,
 * place in the list), and on every one of them, fed whole and in pieces of every size,
 * it gives what a jansson tree of the whole answer gives (rpc_blocks_compare, the old
 * path): with repeated keys, wrong types, numbers too large, contract creations, blocks
 * not found, error objects; every truncation and bad text (deep nesting, bad UTF-8) is
 * refused by both, never misread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/bytes.h"
#include "rpc/rpc_internal.h"
#include "rpc/rpc_logs.h"

#define H(c) "0x" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
             c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define A(c) "0x" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

/* The reader and jansson agree on text, whole and in pieces of 1..17 bytes. */
static void agree(const char *text)
{
    size_t len = strlen(text);
    char why[200];
    err e;
    for (size_t cut = 0; cut <= 17; cut++) {
        size_t c = cut;
        int d = rpc_blocks_compare(text, len, cut ? &c : NULL, cut ? 1 : 0, why, sizeof why, &e);
        if (d != 0)
            fail_msg("pieces of %zu: %s: %s", cut, d < 0 ? e.msg : why, text);
    }
}

/* The reader's answer to text: its skeleton (NULL when refused). */
static json_t *read_blocks(rpc_logs_stream *s, const char *text)
{
    rpc_logs_stream_reset(s);
    rpc_logs_stream_blocks(s, true);
    (void)rpc_logs_stream_feed(s, text, strlen(text));
    json_t *skel = NULL;
    err e;
    if (rpc_logs_stream_finish(s, &skel, &e) < 0)
        return NULL;
    return skel;
}

static void block_of(rpc_logs_stream *s, const json_t *skel, size_t i, rpc_native_block *b)
{
    const json_t *r = json_object_get(json_array_get(skel, i), "result");
    assert_int_equal(rpc_logs_stream_block(s, r, b), 0);
}

static const char GOOD[] =
    "[{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"number\":\"0x1\",\"hash\":" "\"" H("a") "\","
    "\"parentHash\":\"" H("9") "\",\"timestamp\":\"0x5f5e100\",\"uncles\":[],"
    "\"transactions\":["
    /* 0: a transfer */
    "{\"hash\":\"" H("1") "\",\"from\":\"" A("1") "\",\"to\":\"" A("2") "\",\"value\":\"0x3039\","
    "\"input\":\"0x\",\"accessList\":[{\"address\":\"" A("7") "\",\"storageKeys\":[]}]},"
    /* 1: a contract creation */
    "{\"hash\":\"" H("2") "\",\"from\":\"" A("1") "\",\"to\":null,\"value\":\"0x0\"},"
    /* 2: a value with a leading zero (not a quantity) */
    "{\"hash\":\"" H("3") "\",\"from\":\"" A("1") "\",\"to\":\"" A("2") "\",\"value\":\"0x01\"},"
    /* 3: a value beyond 256 bits */
    "{\"hash\":\"" H("4") "\",\"from\":\"" A("1") "\",\"to\":\"" A("2") "\",\"value\":\"0x1"
    "0000000000000000000000000000000000000000000000000000000000000000\"},"
    /* 4: a hash only (not a full transaction) */
    "\"" H("5") "\","
    /* 5: no hash */
    "{\"from\":\"" A("1") "\",\"to\":\"" A("2") "\",\"value\":\"0x1\"},"
    /* 6: escaped, repeated to (the last wins), keys in another order */
    "{\"to\":\"" A("5") "\",\"value\":\"0xde0b6b3a7640000\",\"t\\u006f\":\"" A("3") "\","
    "\"from\":\"" A("4") "\",\"hash\":\"" H("6") "\"}"
    "]}},"
    "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":null},"
    "{\"jsonrpc\":\"2.0\",\"id\":9,\"error\":{\"code\":-32000,\"message\":\"header not found\"}}]";

static void test_candidates(void **state)
{
    (void)state;
    rpc_logs_stream *s;
    err e;
    assert_int_equal(rpc_logs_stream_new(&s, &e), 0);
    json_t *skel = read_blocks(s, GOOD);
    assert_non_null(skel);
    assert_int_equal(json_array_size(skel), 3);
    rpc_native_block b;
    block_of(s, skel, 0, &b);
    assert_true(b.ok);
    assert_true(b.parent_ok);
    assert_true(b.number_ok);
    assert_int_equal(b.hdr.number, 1);
    assert_int_equal(b.hdr.timestamp, 100000000);
    assert_int_equal(b.hdr.hash[0], 0xaa);
    assert_int_equal(b.hdr.parent_hash[31], 0x99);
    assert_int_equal(b.n, 2);
    size_t ntx;
    const rpc_native_tx *tx = rpc_logs_stream_txs(s, &ntx);
    assert_true(ntx >= b.first + b.n);
    const rpc_native_tx *t0 = &tx[b.first], *t6 = &tx[b.first + 1];
    assert_int_equal(t0->index, 0);
    assert_int_equal(t0->to.b[0], 0x22);
    assert_int_equal(t0->from.b[19], 0x11);
    uint64_t v;
    assert_true(u256_to_u64(&t0->value, &v));
    assert_int_equal(v, 12345);
    assert_int_equal(t0->hash[5], 0x11);
    assert_int_equal(t6->index, 6);
    assert_int_equal(t6->to.b[0], 0x33);
    assert_int_equal(t6->from.b[0], 0x44);
    assert_true(u256_to_u64(&t6->value, &v));
    assert_int_equal(v, 1000000000000000000ull);
    /* a null result and an error object stay as the node sent them */
    assert_true(json_is_null(json_object_get(json_array_get(skel, 1), "result")));
    assert_true(json_is_object(json_object_get(json_array_get(skel, 2), "error")));
    assert_int_equal(rpc_logs_stream_block(s, json_object_get(json_array_get(skel, 1), "result"),
                                           &b), -1);
    json_decref(skel);
    rpc_logs_stream_free(&s);
    agree(GOOD);
}

/* What jansson keeps of repeated keys (the last) the reader keeps too. */
static void test_repeated(void **state)
{
    (void)state;
    static const char *const cases[] = {
        /* a repeated transaction list: the candidates of the last one only */
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\",\"transactions\":"
        "[{\"hash\":\"" H("1") "\",\"from\":\"" A("1") "\",\"to\":\"" A("2") "\",\"value\":\"0x1\"}],"
        "\"transactions\":[\"" H("2") "\",{\"hash\":\"" H("3") "\",\"from\":\"" A("1") "\",\"to\":\""
        A("3") "\",\"value\":\"0x2\"}]}}]",
        /* a list, then not a list: no block */
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\",\"transactions\":"
        "[{\"hash\":\"" H("1") "\",\"from\":\"" A("1") "\",\"to\":\"" A("2") "\",\"value\":\"0x1\"}],"
        "\"transactions\":7}}]",
        /* a repeated result: the last one */
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\",\"transactions\":[]},"
        "\"result\":{\"hash\":\"" H("b") "\",\"timestamp\":\"0x2\",\"transactions\":[{\"hash\":\""
        H("1") "\",\"from\":\"" A("1") "\",\"to\":\"" A("2") "\",\"value\":\"0x1\"}]}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\",\"transactions\":[]},"
        "\"result\":null}]",
        "[{\"id\":1,\"result\":null,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\","
        "\"transactions\":[]}}]",
        /* a good hash, then a bad one; a bad one, then a good one */
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"hash\":\"0x12\",\"timestamp\":\"0x1\","
        "\"transactions\":[]}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"0x12\",\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\","
        "\"transactions\":[]}}]",
        /* a transaction's value repeated */
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\",\"transactions\":["
        "{\"hash\":\"" H("1") "\",\"from\":\"" A("1") "\",\"to\":\"" A("2") "\",\"value\":\"0x1\","
        "\"value\":\"0x\"}]}}]",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        agree(cases[i]);
    /* the first case, read: only the second list's transfer, at its place 1 */
    rpc_logs_stream *s;
    err e;
    assert_int_equal(rpc_logs_stream_new(&s, &e), 0);
    json_t *skel = read_blocks(s, cases[0]);
    assert_non_null(skel);
    rpc_native_block b;
    block_of(s, skel, 0, &b);
    assert_true(b.ok);
    assert_int_equal(b.n, 1);
    size_t ntx;
    const rpc_native_tx *tx = rpc_logs_stream_txs(s, &ntx);
    assert_int_equal(tx[b.first].index, 1);
    assert_int_equal(tx[b.first].to.b[0], 0x33);
    json_decref(skel);
    skel = read_blocks(s, cases[1]);
    block_of(s, skel, 0, &b);
    assert_false(b.ok);
    json_decref(skel);
    rpc_logs_stream_free(&s);
}

/* Wrong types and numbers out of range: no block, or no candidate, as with jansson. */
static void test_wrong_types(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "[{\"id\":1,\"result\":{\"hash\":7,\"timestamp\":\"0x1\",\"transactions\":[]}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":null,\"transactions\":[]}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x10000000000000000\","
        "\"transactions\":[]}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\","
        "\"transactions\":{}}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\"}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\",\"parentHash\":[],"
        "\"transactions\":[]}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\\u0000\",\"timestamp\":\"0x1\","
        "\"transactions\":[]}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"timestamp\":\"0x1\",\"transactions\":["
        "{\"hash\":\"" H("1") "\",\"from\":\"" A("1") "\",\"to\":\"" A("2") "\",\"value\":1},"
        "{\"hash\":\"" H("1") "\",\"from\":true,\"to\":\"" A("2") "\",\"value\":\"0x1\"},"
        "{\"hash\":\"" H("1") "\",\"from\":\"" A("1") "\",\"to\":\"" A("2") "00\",\"value\":\"0x1\"},"
        "{\"hash\":\"" H("1") "\",\"from\":\"" A("1") "\",\"to\":\"" A("2") "\",\"value\":\"0x1\","
        "\"nested\":{\"hash\":1,\"to\":[[[{}]]]}},"
        "[],null,1e400]}}]",
        "[1,\"x\",{},{\"result\":[]},{\"result\":{}}]",
        /* block numbers: beyond 63 bits, not a string, repeated */
        "[{\"id\":1,\"result\":{\"number\":\"0x8000000000000000\",\"hash\":\"" H("a") "\","
        "\"timestamp\":\"0x1\",\"transactions\":[]}}]",
        "[{\"id\":1,\"result\":{\"number\":\"0x7fffffffffffffff\",\"hash\":\"" H("a") "\","
        "\"timestamp\":\"0x1\",\"transactions\":[]}}]",
        "[{\"id\":1,\"result\":{\"number\":7,\"hash\":\"" H("a") "\","
        "\"timestamp\":\"0x1\",\"transactions\":[]}}]",
        "[{\"id\":1,\"result\":{\"number\":\"0x1\",\"number\":\"0x01\",\"hash\":\"" H("a")
        "\",\"timestamp\":\"0x1\",\"transactions\":[]}}]",
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"no batches\"}}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        agree(cases[i]);
}

/* Every truncation of a good answer is refused by both; so is bad text. */
static void test_refused(void **state)
{
    (void)state;
    size_t len = strlen(GOOD);
    char *t = malloc(len + 1);
    assert_non_null(t);
    rpc_logs_stream *s;
    err e;
    assert_int_equal(rpc_logs_stream_new(&s, &e), 0);
    for (size_t n = 0; n < len; n++) {
        memcpy(t, GOOD, n);
        t[n] = '\0';
        json_t *skel = read_blocks(s, t);
        if (skel)
            fail_msg("a truncation at %zu read", n);
        if (n % 7 == 0)
            agree(t);
    }
    free(t);
    /* deep nesting, in the batch and inside a block */
    size_t deep = 5000;
    char *d = malloc(2 * deep + 200);
    assert_non_null(d);
    memset(d, '[', deep);
    memset(d + deep, ']', deep);
    d[2 * deep] = '\0';
    assert_null(read_blocks(s, d));
    agree(d);
    int k = snprintf(d, 200, "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",\"x\":");
    memset(d + k, '[', deep);
    memset(d + k + deep, ']', deep);
    snprintf(d + k + 2 * deep, 200, "}}]");
    assert_null(read_blocks(s, d));
    agree(d);
    free(d);
    static const char *const bad[] = {
        "[{\"id\":1,\"result\":{\"hash\":\"\xff\"}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"\x01\"}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"\\ud800\"}}]",
        "[{\"id\":1,\"result\":{\"timestamp\":99999999999999999999}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\",}}]",
        "[{\"id\":1,\"result\":{\"hash\":\"" H("a") "\"}}] x",
        "",
        "null",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (read_blocks(s, bad[i]))
            fail_msg("bad text read: %s", bad[i]);
        agree(bad[i]);
    }
    rpc_logs_stream_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_candidates),
        cmocka_unit_test(test_repeated),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
