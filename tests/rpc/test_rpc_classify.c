/* test_rpc_classify.c: the failure classifier on the texts and codes that nodes and
 * hosted providers really send, the parser for their suggested block ranges and for
 * Retry-After, and endpoint URLs: API key templates filled in, keys redacted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void test_retry_after(void **state)
{
    (void)state;
    int64_t s = -1;
    /* 1994-11-06 08:49:37 UTC */
    const int64_t t = 784111777;
    assert_true(rpc_retry_after_parse("120", t, &s));
    assert_int_equal(s, 120);
    assert_true(rpc_retry_after_parse(" 0 \r\n", t, &s));
    assert_int_equal(s, 0);
    assert_true(rpc_retry_after_parse("99999999999999999999999", t, &s));
    assert_int_equal(s, 86400); /* at most a day */
    assert_true(rpc_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", t - 30, &s));
    assert_int_equal(s, 30);
    assert_true(rpc_retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", t - 5, &s));
    assert_int_equal(s, 5);
    assert_true(rpc_retry_after_parse("Sun Nov  6 08:49:37 1994", t - 7, &s));
    assert_int_equal(s, 7);
    assert_true(rpc_retry_after_parse("Wed, 01 Mar 2028 00:00:10 GMT", 1835481600, &s));
    assert_int_equal(s, 10); /* a leap year's 1 March */
    assert_true(rpc_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", t + 100, &s));
    assert_int_equal(s, 0); /* in the past */
    s = 77;
    static const char *const bad[] = {
        "", "  ", "-5", "1.5", "12s", "soon", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun Nov  6 08:49:37 94", "Sun, 6 Nov 1994 08:49:37 GMT",
        "0x10", NULL};
    for (size_t i = 0; bad[i]; i++)
        if (rpc_retry_after_parse(bad[i], t, &s))
            fail_msg("\"%s\" was taken as a Retry-After of %lld s", bad[i], (long long)s);
    assert_false(rpc_retry_after_parse(NULL, t, &s));
    assert_int_equal(s, 77);
}

static void expand_ok(const char *tmpl, const char *want)
{
    char *out = NULL;
    err e;
    if (rpc_url_expand(tmpl, &out, &e) < 0)
        fail_msg("%s: %s", tmpl, e.msg);
    assert_string_equal(out, want);
    free(out);
}

static void expand_bad(const char *tmpl, const char *frag)
{
    char *out = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(rpc_url_expand(tmpl, &out, &e), -1);
    assert_null(out);
    if (!strstr(e.msg, frag))
        fail_msg("%s: \"%s\" does not say \"%s\"", tmpl, e.msg, frag);
    assert_null(strstr(e.msg, "s3cr3t")); /* never the key */
}

static void test_url_expand(void **state)
{
    (void)state;
    setenv("FUSION_TEST_KEY", "s3cr3tKEY0123456789abcdef", 1);
    setenv("FUSION_TEST_BADKEY", "s3cr3t/../x?y", 1);
    unsetenv("FUSION_TEST_UNSET");
    expand_ok("https://eth.example/v2/${env:FUSION_TEST_KEY}",
              "https://eth.example/v2/s3cr3tKEY0123456789abcdef");
    expand_ok("https://x/?apikey=${env:FUSION_TEST_KEY}&a=1",
              "https://x/?apikey=s3cr3tKEY0123456789abcdef&a=1");
    expand_ok("http://127.0.0.1:8545", "http://127.0.0.1:8545");
    expand_ok("http://x/$notatemplate{", "http://x/$notatemplate{");
    char path[] = "/tmp/fusion-key-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cr3tFromFile\n", 15), 15);
    close(fd);
    char tmpl[128];
    snprintf(tmpl, sizeof tmpl, "https://x/v3/${file:%s}", path);
    expand_ok(tmpl, "https://x/v3/s3cr3tFromFile");
    assert_int_equal(chmod(path, 0644), 0); /* a secret others may read is refused */
    expand_bad(tmpl, "chmod 600");
    assert_int_equal(chmod(path, 0600), 0);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "s3cr3t\nsecond line\n", 19), 19);
    close(fd);
    expand_bad(tmpl, "one line");
    unlink(path);
    expand_bad(tmpl, "cannot read the API key file");
    expand_bad("https://x/${env:FUSION_TEST_UNSET}", "FUSION_TEST_UNSET is not set");
    expand_bad("https://x/${env:FUSION_TEST_BADKEY}", "cannot go into a URL");
    expand_bad("https://x/${env:NO SPACE}", "environment variable's name");
    expand_bad("https://x/${vault:k}", "${env:NAME} or ${file:PATH}");
}

static void redact_is(const char *url, const char *want)
{
    char out[256];
    rpc_url_redact(out, sizeof out, url);
    assert_string_equal(out, want);
}

static void test_url_redact(void **state)
{
    (void)state;
    redact_is("http://127.0.0.1:8545", "http://127.0.0.1:8545");
    redact_is("https://eth-mainnet.g.alchemy.com/v2/${env:ALCHEMY_KEY}",
              "https://eth-mainnet.g.alchemy.com/v2/${env:ALCHEMY_KEY}");
    redact_is("https://eth-mainnet.g.alchemy.com/v2/Xa1b2c3d4e5f6g7h8i9j0KLMNOPQRST",
              "https://eth-mainnet.g.alchemy.com/v2/***");
    redact_is("https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef/",
              "https://mainnet.infura.io/v3/***/");
    redact_is("https://user:hunter2@node.example:8545/rpc", "https://***@node.example:8545/rpc");
    redact_is("https://x.example/rpc?apikey=0123456789abcdef0123&chain=1",
              "https://x.example/rpc?apikey=***&chain=1");
    redact_is("https://x.example/${file:~/.alchemy}", "https://x.example/${file:~/.alchemy}");
    redact_is("https://x.example/v2/${file:/home/ops/keys/alchemy.key}?a=${env:K}",
              "https://x.example/v2/${file:/home/ops/keys/alchemy.key}?a=${env:K}");
    /* a template followed by a literal key in the same segment is not a template */
    redact_is("https://x.example/${env:A}0123456789abcdef", "https://x.example/***");
    char small[12];
    rpc_url_redact(small, sizeof small, "https://a-long-host.example/");
    assert_int_equal(strlen(small), sizeof small - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_messages),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_retryable),
        cmocka_unit_test(test_hints),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_url_expand),
        cmocka_unit_test(test_url_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
