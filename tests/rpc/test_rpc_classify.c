/* test_rpc_classify.c: the failure classifier on the texts and codes that nodes and
 * hosted providers really send, and the parser for their suggested block ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpc/rpc.h"

typedef struct {
    int64_t code;
    const char *message;
    rpc_status want;
} case_t;

static const case_t cases[] = {
    /* Infura */
    {-32005, "query returned more than 10000 results", RPC_RANGE},
    {-32005,
     "query returned more than 10000 results. Try with this block range "
     "[0x11A7A60, 0x11A7B02].",
     RPC_RANGE},
    {-32005, "daily request count exceeded, request rate limited", RPC_RATE_LIMIT},
    {-32005, "project ID request rate exceeded", RPC_RATE_LIMIT},
    {-32005, "limit exceeded", RPC_RANGE},
    /* Alchemy */
    {-32602,
     "Log response size exceeded. You can make eth_getLogs requests with up to a 2K "
     "block range and no limit on the response size, or you can request any block "
     "range with a cap of 10K logs in the response. Based on your parameters, this "
     "block range should work: [0x0, 0x1f3b4b]",
     RPC_RANGE},
    {429,
     "Your app has exceeded its compute units per second capacity. If you have retries "
     "enabled, you can safely ignore this message.",
     RPC_RATE_LIMIT},
    /* QuickNode, Ankr, Chainstack, Cloudflare, BlastAPI, geth, Erigon */
    {-32614, "eth_getLogs is limited to a 10,000 range", RPC_RANGE},
    {-32600, "block range is too wide", RPC_RANGE},
    {-32000, "Block range limit exceeded.", RPC_RANGE},
    {-32047, "requested too many blocks from 0 to 20000, maximum is set to 2048", RPC_RANGE},
    {-32000, "query exceeds max results 20000, retry with the range 1-1000", RPC_RANGE},
    {-32000, "exceed maximum block range: 5000", RPC_RANGE},
    {-32000, "too many logs", RPC_RANGE},
    {-32000, "Too Many Requests", RPC_RATE_LIMIT},
    {-32029, "slow down", RPC_RATE_LIMIT},
    {-32000, "query timeout exceeded", RPC_TIMEOUT},
    {-32000, "request timed out", RPC_TIMEOUT},
    /* ordinary node errors */
    {3, "execution reverted: custom error 0x3f6cc768", RPC_RPC},
    {-32000, "nonce too low", RPC_RPC},
    {-32601, "the method eth_foo does not exist/is not available", RPC_RPC},
    {-32602, "invalid argument 0: hex string has leading zero digits after 0x", RPC_RPC},
    {-32000, "invalid block range params", RPC_RPC},
    {-32603, "internal error", RPC_RPC},
    {-32000, NULL, RPC_RPC},
};

static void test_provider_messages(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rpc_status got = rpc_classify_error(cases[i].code, cases[i].message);
        if (got != cases[i].want)
            fail_msg("case %zu (%lld, \"%s\"): got %s, want %s", i, (long long)cases[i].code,
                     cases[i].message ? cases[i].message : "(null)", rpc_status_str(got),
                     rpc_status_str(cases[i].want));
    }
}

static void test_http(void **state)
{
    assert_int_equal(rpc_classify_http(429), RPC_RATE_LIMIT);
    assert_int_equal(rpc_classify_http(413), RPC_RANGE);
    assert_int_equal(rpc_classify_http(504), RPC_TIMEOUT);
    assert_int_equal(rpc_classify_http(408), RPC_TIMEOUT);
    assert_int_equal(rpc_classify_http(500), RPC_TRANSPORT);
    assert_int_equal(rpc_classify_http(502), RPC_TRANSPORT);
    assert_int_equal(rpc_classify_http(404), RPC_TRANSPORT);
}

static void test_retryable(void **state)
{
    assert_true(rpc_status_retryable(RPC_TRANSPORT));
    assert_true(rpc_status_retryable(RPC_TIMEOUT));
    assert_true(rpc_status_retryable(RPC_RATE_LIMIT));
    assert_true(rpc_status_retryable(RPC_MALFORMED));
    assert_false(rpc_status_retryable(RPC_RANGE));
    assert_false(rpc_status_retryable(RPC_RPC));
    assert_false(rpc_status_retryable(RPC_CANCELLED));
    assert_false(rpc_status_retryable(RPC_OK));
    assert_string_equal(rpc_status_str(RPC_RANGE), "range too large");
    assert_string_equal(rpc_status_str((rpc_status)99), "unknown");
}

static void test_hints(void **state)
{
    uint64_t a = 0, b = 0;
    assert_true(rpc_range_hint("Based on your parameters, this block range should work: "
                               "[0x0, 0x1f3b4b]",
                               &a, &b));
    assert_true(a == 0 && b == 0x1f3b4b);
    assert_true(rpc_range_hint("Try with this block range [0x11A7A60, 0x11A7B02].", &a, &b));
    assert_true(a == 0x11a7a60 && b == 0x11a7b02);
    /* The last well-formed pair wins; junk brackets are skipped. */
    assert_true(rpc_range_hint("[x] [0x1,0x2] and [0x5, 0x9]", &a, &b));
    assert_true(a == 5 && b == 9);
    a = b = 77;
    assert_false(rpc_range_hint("query returned more than 10000 results", &a, &b));
    assert_false(rpc_range_hint("[0x9, 0x1]", &a, &b));                 /* reversed */
    assert_false(rpc_range_hint("[0x1, 0x12345678901234567]", &a, &b)); /* > 64 bits */
    assert_false(rpc_range_hint("[0x1, 0x2", &a, &b));
    assert_false(rpc_range_hint("[1, 2]", &a, &b));
    assert_false(rpc_range_hint(NULL, &a, &b));
    assert_true(a == 77 && b == 77);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_messages),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_retryable),
        cmocka_unit_test(test_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
