/* test_rpc_fake.c: the JSON-RPC client against tests/integration/fake_rpc.py, a fake
 * server in front of a real anvil that answers badly on command. Each bad answer must
 * come back as the right failure class with a one-line message, must not poison the
 * next call, and (when retryable) must be ridden out by the retry loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "rpc/rpc.h"

static const char *fake_url, *anvil_url;

static rpc_client *client(int attempts, long timeout_ms)
{
    rpc_options o;
    rpc_options_default(&o);
    o.max_attempts = attempts;
    o.timeout_ms = timeout_ms;
    o.backoff_base_ms = 1;
    o.backoff_max_ms = 5;
    rpc_client *c = NULL;
    err e;
    if (rpc_client_new(&c, &fake_url, 1, &o, &e) < 0)
        fail_msg("%s", e.msg);
    return c;
}

/* A client over the fake first and the real node second. */
static rpc_client *client_fake_then_anvil(int attempts)
{
    rpc_options o;
    rpc_options_default(&o);
    o.max_attempts = attempts;
    o.backoff_base_ms = 1;
    o.backoff_max_ms = 5;
    const char *urls[] = {fake_url, anvil_url};
    rpc_client *c = NULL;
    err e;
    if (rpc_client_new(&c, urls, 2, &o, &e) < 0)
        fail_msg("%s", e.msg);
    return c;
}

/* Queues one fault at the fake. */
static void fault(const char *kind, const char *method)
{
    rpc_client *c = client(1, 5000);
    json_t *params = json_pack("[[{s:s, s:s?, s:i}]]", "kind", kind, "method", method, "count", 1);
    json_t *r;
    err e;
    if (rpc_call(c, "fake_script", params, &r, &e) < 0)
        fail_msg("%s", e.msg);
    json_decref(params);
    json_decref(r);
    rpc_client_free(&c);
}

static void expect(int rc, rpc_client *c, const err *e, rpc_status want, const char *what)
{
    if (rc != -1)
        fail_msg("%s: succeeded, expected %s", what, rpc_status_str(want));
    if (rpc_last_status(c) != want)
        fail_msg("%s: got %s (%s), expected %s", what, rpc_status_str(rpc_last_status(c)), e->msg,
                 rpc_status_str(want));
    assert_int_equal(e->code, ERR_RPC);
    assert_true(strlen(e->msg) > 10);
    assert_null(strchr(e->msg, '\n'));
}

static void test_block_number_faults(void **state)
{
    static const struct {
        const char *kind;
        rpc_status want;
    } cases[] = {
        {"garbage", RPC_MALFORMED},     {"truncated", RPC_MALFORMED}, {"empty", RPC_MALFORMED},
        {"wrong_id", RPC_MALFORMED},    {"oversized", RPC_MALFORMED}, {"http429", RPC_RATE_LIMIT},
        {"rate_limit", RPC_RATE_LIMIT}, {"http500", RPC_TRANSPORT},   {"drop", RPC_TRANSPORT},
        {"rpc_error", RPC_RPC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rpc_client *c = client(1, 5000);
        uint64_t head;
        err e;
        err_clear(&e);
        fault(cases[i].kind, "eth_blockNumber");
        expect(rpc_eth_block_number(c, &head, &e), c, &e, cases[i].want, cases[i].kind);
        /* The next call on the same client (same connection, if it survived) is fine. */
        if (rpc_eth_block_number(c, &head, &e) < 0)
            fail_msg("after %s: %s", cases[i].kind, e.msg);
        rpc_client_free(&c);
    }
}

static void test_retries_ride_it_out(void **state)
{
    const char *kinds[] = {"garbage",    "truncated", "wrong_id", "http429",
                           "rate_limit", "http500",   "drop",     "empty"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        rpc_client *c = client(3, 5000);
        fault(kinds[i], "eth_chainId");
        uint64_t id;
        err e;
        if (rpc_eth_chain_id(c, &id, &e) < 0)
            fail_msg("%s was not retried: %s", kinds[i], e.msg);
        assert_true(rpc_health_changed(c));
        rpc_endpoint_info info;
        rpc_endpoint_get(c, 0, &info);
        assert_int_equal(info.health, RPC_HEALTH_OK); /* it answered in the end */
        rpc_client_free(&c);
    }
    /* JSON-RPC errors are answers, not failures of the endpoint: not retried. */
    rpc_client *c = client(3, 5000);
    fault("rpc_error", "eth_chainId");
    uint64_t id;
    err e;
    expect(rpc_eth_chain_id(c, &id, &e), c, &e, RPC_RPC, "rpc_error with retries");
    rpc_client_free(&c);
}

/* Fails when s holds a byte a terminal acts on (C0, DEL, a byte that is not UTF-8, C1
 * as UTF-8) or a bidi override. */
static void assert_safe_text(const char *what, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p >= 0xf5 || *p == 0xc0 || *p == 0xc1 ||
            (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) ||
            (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae))
            fail_msg("%s holds raw byte 0x%02x at %zu: %s", what, *p, (size_t)(p - (const unsigned char *)s), s);
}

/* A node's error text is outside text: what reaches the error, the client's last-error
 * record and the endpoint's health record shows its controls as escapes. */
static void test_error_text_is_safe(void **state)
{
    static const struct {
        const char *kind;
        rpc_status want;
        const char *shown;
    } cases[] = {
        {"rpc_error_escape", RPC_RPC, "boom\\x1b]0;pwned\\x07\\x1b[31m red \\x1b[2J\\u009b2J \\u202eevil"},
        {"rate_limit_escape", RPC_RATE_LIMIT, "boom\\x1b]0;pwned\\x07"},
        {"garbage_escape", RPC_MALFORMED, "response is not valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rpc_client *c = client(1, 5000);
        uint64_t head;
        err e;
        err_clear(&e);
        fault(cases[i].kind, "eth_blockNumber");
        expect(rpc_eth_block_number(c, &head, &e), c, &e, cases[i].want, cases[i].kind);
        assert_safe_text(cases[i].kind, e.msg);
        assert_safe_text(cases[i].kind, rpc_last_error(c)->message);
        if (!strstr(e.msg, cases[i].shown))
            fail_msg("%s: '%s' not in '%s'", cases[i].kind, cases[i].shown, e.msg);
        rpc_endpoint_info info;
        rpc_endpoint_get(c, 0, &info);
        assert_safe_text(cases[i].kind, info.last_error);
        rpc_client_free(&c);
    }
}

static void test_logs_and_blocks(void **state)
{
    rpc_client *c = client(1, 5000);
    err e;
    uint64_t head;
    assert_int_equal(rpc_eth_block_number(c, &head, &e), 0);
    rpc_log_filter f = {.from = 0, .to = head};
    rpc_log_list l;
    fault("too_many", "eth_getLogs");
    expect(rpc_eth_get_logs(c, &f, &l, &e), c, &e, RPC_RANGE, "too_many");
    const rpc_error *er = rpc_last_error(c);
    assert_true(er->has_hint);
    assert_true(er->hint_from == 0 && er->hint_to == head / 2);
    assert_int_equal(er->code, -32005);
    fault("oversized", "eth_getLogs");
    expect(rpc_eth_get_logs(c, &f, &l, &e), c, &e, RPC_MALFORMED, "oversized logs");
    assert_int_equal(rpc_eth_get_logs(c, &f, &l, &e), 0);
    rpc_log_list_free(&l);

    rpc_block b[2];
    fault("wrong_id", "eth_getBlockByNumber");
    expect(rpc_eth_get_blocks(c, 0, 2, b, &e), c, &e, RPC_MALFORMED, "batch with a wrong id");
    fault("oversized", "eth_getBlockByNumber");
    expect(rpc_eth_get_blocks(c, 0, 2, b, &e), c, &e, RPC_MALFORMED, "batch oversized");
    fault("oversized", "eth_getBlockByNumber");
    bool found;
    expect(rpc_eth_get_block(c, 0, NULL, b, &found, &e), c, &e, RPC_MALFORMED, "block oversized");
    assert_int_equal(rpc_eth_get_blocks(c, 0, 2, b, &e), 0);
    assert_memory_equal(b[1].parent_hash, b[0].hash, 32);
    rpc_client_free(&c);
}

/* The native-coin scan's batches of full blocks, read as they arrive: bad answers are one
 * line of the right class; a block that comes back as another one is malformed; a good
 * answer gives the blocks the typed header call gives. */
static void test_native_blocks(void **state)
{
    rpc_client *c = client(1, 5000);
    err e;
    rpc_native_blocks nb;
    static const char *const bad[] = {"truncated", "garbage", "wrong_id", "oversized",
                                      "other_block", "empty"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fault(bad[i], "eth_getBlockByNumber");
        expect(rpc_eth_native_blocks(c, 0, 2, &nb, &e), c, &e, RPC_MALFORMED, bad[i]);
        assert_null(nb.blocks);
    }
    fault("rpc_error", "eth_getBlockByNumber");
    assert_int_equal(rpc_eth_native_blocks(c, 0, 2, &nb, &e), -1);
    assert_null(strchr(e.msg, '\n'));
    assert_non_null(strstr(e.msg, "block 0"));
    uint64_t head;
    assert_int_equal(rpc_eth_block_number(c, &head, &e), 0);
    assert_true(head >= 1);
    rpc_block b[2];
    assert_int_equal(rpc_eth_get_blocks(c, head - 1, 2, b, &e), 0);
    /* one block beyond the head: null, not a block */
    assert_int_equal(rpc_eth_native_blocks(c, head - 1, 3, &nb, &e), 0);
    assert_int_equal(nb.n, 3);
    for (size_t i = 0; i < 2; i++) {
        assert_true(nb.blocks[i].ok && nb.blocks[i].parent_ok && nb.blocks[i].number_ok);
        assert_int_equal(nb.blocks[i].hdr.number, head - 1 + i);
        assert_memory_equal(nb.blocks[i].hdr.hash, b[i].hash, 32);
        assert_memory_equal(nb.blocks[i].hdr.parent_hash, b[i].parent_hash, 32);
        assert_int_equal(nb.blocks[i].hdr.timestamp, b[i].timestamp);
    }
    assert_false(nb.blocks[2].ok);
    rpc_native_blocks_free(&nb);
    rpc_client_free(&c);
}

/* Answers that are well-formed but do not answer the request are malformed: the call
 * fails with one endpoint, and with a second endpoint it is answered there, the first
 * recorded as failed. */
static void test_answers_that_miss_the_request(void **state)
{
    rpc_client *c = client(1, 5000);
    err e;
    uint64_t head;
    assert_int_equal(rpc_eth_block_number(c, &head, &e), 0);
    addr a;
    memset(a.b, 0x11, sizeof a.b);
    uint8_t t0[1][32];
    memset(t0[0], 0x22, 32);
    const rpc_log_filter by_addr = {.from = 1, .to = head, .addresses = &a, .n_addresses = 1};
    const rpc_log_filter by_topic = {
        .from = 1, .to = head, .topic0 = (const uint8_t(*)[32])t0, .n_topic0 = 1};
    static const struct {
        const char *kind;
        bool topic;
    } cases[] = {
        {"foreign_logs", false}, {"foreign_topic", true}, {"removed_logs", false},
        {"split_hash", false},   {"outside_range", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rpc_log_filter *f = cases[i].topic ? &by_topic : &by_addr;
        rpc_log_list l;
        fault(cases[i].kind, "eth_getLogs");
        expect(rpc_eth_get_logs(c, f, &l, &e), c, &e, RPC_MALFORMED, cases[i].kind);
        assert_null(l.items);
        assert_int_equal(l.n, 0);

        rpc_client *two = client_fake_then_anvil(2);
        fault(cases[i].kind, "eth_getLogs");
        if (rpc_eth_get_logs(two, f, &l, &e) < 0)
            fail_msg("%s: not answered by the second endpoint: %s", cases[i].kind, e.msg);
        assert_int_equal(l.n, 0); /* the real node has no such logs */
        rpc_log_list_free(&l);
        rpc_endpoint_info info;
        rpc_endpoint_get(two, 0, &info);
        if (info.health != RPC_HEALTH_DEGRADED || !strstr(info.last_error, "malformed"))
            fail_msg("%s: first endpoint %d (%s)", cases[i].kind, (int)info.health,
                     info.last_error);
        rpc_client_free(&two);
    }

    /* Another block than the one asked for, alone and in a batch. */
    rpc_block b[2];
    bool found;
    fault("other_block", "eth_getBlockByNumber");
    expect(rpc_eth_get_block(c, 1, NULL, b, &found, &e), c, &e, RPC_MALFORMED, "other block");
    fault("other_block", "eth_getBlockByNumber");
    expect(rpc_eth_get_blocks(c, 1, 2, b, &e), c, &e, RPC_MALFORMED, "other block in a batch");
    rpc_client *two = client_fake_then_anvil(2);
    fault("other_block", "eth_getBlockByNumber");
    if (rpc_eth_get_block(two, 1, NULL, b, &found, &e) < 0 || !found || b[0].number != 1)
        fail_msg("other block: not answered by the second endpoint: %s", e.msg);
    fault("other_block", "eth_getBlockByNumber");
    if (rpc_eth_get_blocks(two, 1, 2, b, &e) < 0 || b[1].number != 2)
        fail_msg("other block in a batch: not answered by the second endpoint: %s", e.msg);
    rpc_client_free(&two);

    /* The receipt of another transaction than asked for. */
    json_t *tx = json_pack("[{s:s, s:s, s:s}]", "from",
                           "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "to",
                           "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "value", "0x1");
    json_t *r = NULL;
    if (rpc_call(c, "eth_sendTransaction", tx, &r, &e) < 0)
        fail_msg("%s", e.msg);
    json_decref(tx);
    uint8_t h[32];
    assert_int_equal(rpc_parse_hash(r, h, "tx hash", &e), 0);
    json_decref(r);
    rpc_receipt rc;
    fault("wrong_receipt", "eth_getTransactionReceipt");
    expect(rpc_eth_get_transaction_receipt(c, h, &rc, &found, &e), c, &e, RPC_MALFORMED,
           "receipt of another transaction");
    two = client_fake_then_anvil(2);
    fault("wrong_receipt", "eth_getTransactionReceipt");
    if (rpc_eth_get_transaction_receipt(two, h, &rc, &found, &e) < 0 || !found || !rc.success)
        fail_msg("receipt: not answered by the second endpoint: %s", e.msg);
    rpc_client_free(&two);
    rpc_client_free(&c);
}

/* A client told which chain to expect asks each endpoint for its chain id before using
 * it: one that serves another chain is set aside for the next; when all do, ERR_DENIED. */
static void test_wrong_chain(void **state)
{
    const char *id_s = getenv("FUSION_TEST_CHAIN_ID");
    uint64_t want = id_s ? strtoull(id_s, NULL, 10) : 31337;
    err e;
    uint64_t head;
    rpc_client *c = client(2, 5000);
    rpc_client_expect_chain(c, want);
    fault("other_chain", "eth_chainId");
    fault("other_chain", "eth_chainId");
    assert_int_equal(rpc_eth_block_number(c, &head, &e), -1);
    assert_int_equal(rpc_last_status(c), RPC_WRONG_CHAIN);
    assert_int_equal(e.code, ERR_DENIED);
    assert_non_null(strstr(e.msg, "reports chain id 1, not"));
    /* The node behind the URL is right again: checked again, used again. */
    assert_int_equal(rpc_eth_block_number(c, &head, &e), 0);
    rpc_client_free(&c);

    c = client_fake_then_anvil(2);
    rpc_client_expect_chain(c, want);
    fault("other_chain", "eth_chainId");
    if (rpc_eth_block_number(c, &head, &e) < 0)
        fail_msg("not answered by the second endpoint: %s", e.msg);
    rpc_endpoint_info info;
    rpc_endpoint_get(c, 0, &info);
    assert_int_equal(info.health, RPC_HEALTH_DEGRADED);
    assert_non_null(strstr(info.last_error, "wrong chain"));
    rpc_client_free(&c);

    /* Without an expected chain, nothing is asked first (chain add compares itself). */
    c = client(1, 5000);
    fault("other_chain", "eth_chainId");
    uint64_t id;
    assert_int_equal(rpc_eth_chain_id(c, &id, &e), 0);
    assert_int_equal(id, 1);
    rpc_client_free(&c);
}

static void test_timeouts(void **state)
{
    /* The fake sleeps 2 s on "slow"; the client waits 500 ms. */
    rpc_client *c = client(3, 500);
    err e;
    uint64_t head;
    fault("slow", "eth_blockNumber");
    /* Retried: the second attempt is fast. */
    assert_int_equal(rpc_eth_block_number(c, &head, &e), 0);
    /* getLogs timeouts go back to the caller (who shrinks the range), not retried. */
    rpc_log_filter f = {.from = 0, .to = head};
    rpc_log_list l;
    fault("slow", "eth_getLogs");
    expect(rpc_eth_get_logs(c, &f, &l, &e), c, &e, RPC_TIMEOUT, "slow getLogs");
    rpc_client_free(&c);
}

/* Requests the fake has served (control calls aside). */
static long fake_requests(void)
{
    rpc_client *c = client(1, 5000);
    json_t *r = NULL;
    err e;
    if (rpc_call(c, "fake_stats", NULL, &r, &e) < 0)
        fail_msg("%s", e.msg);
    long n = (long)json_integer_value(json_object_get(r, "requests"));
    json_decref(r);
    rpc_client_free(&c);
    return n;
}

/* A 429's Retry-After is honoured: the endpoint is not asked again before its time (the
 * call fails at once when the wait is longer than the client waits), and with a second
 * endpoint the calls go there meanwhile. */
static void test_retry_after(void **state)
{
    rpc_client *c = client(3, 5000);
    err e;
    uint64_t head;
    fault("http429_long", "eth_blockNumber");
    expect(rpc_eth_block_number(c, &head, &e), c, &e, RPC_RATE_LIMIT, "429 for an hour");
    rpc_endpoint_info info;
    rpc_endpoint_get(c, 0, &info);
    assert_true(info.rate_limited_until >= (int64_t)time(NULL) + 3500);
    long before = fake_requests();
    expect(rpc_eth_block_number(c, &head, &e), c, &e, RPC_RATE_LIMIT, "asked again at once");
    if (!strstr(e.msg, "Retry-After"))
        fail_msg("the error does not say why: %s", e.msg);
    assert_int_equal(fake_requests(), before); /* nothing was sent */
    rpc_client_free(&c);

    /* An HTTP date, two endpoints: the next one answers, the limited one is left alone. */
    c = client_fake_then_anvil(3);
    fault("http429_date", "eth_blockNumber");
    assert_int_equal(rpc_eth_block_number(c, &head, &e), 0);
    rpc_endpoint_get(c, 0, &info);
    assert_true(info.rate_limited_until >= (int64_t)time(NULL) + 3500);
    assert_int_equal(info.health, RPC_HEALTH_DEGRADED);
    before = fake_requests();
    for (int i = 0; i < 3; i++)
        assert_int_equal(rpc_eth_block_number(c, &head, &e), 0);
    assert_int_equal(fake_requests(), before);
    rpc_endpoint_get(c, 1, &info);
    assert_int_equal(info.rate_limited_until, 0);
    rpc_client_free(&c);

    /* Two clients of one thread pair share what they learn: the provider limits the key. */
    rpc_client *a = client(3, 5000), *b = client(3, 5000);
    rpc_client_share_limits(a, b);
    fault("http429_long", "eth_blockNumber");
    expect(rpc_eth_block_number(a, &head, &e), a, &e, RPC_RATE_LIMIT, "429 at the first");
    before = fake_requests();
    expect(rpc_eth_block_number(b, &head, &e), b, &e, RPC_RATE_LIMIT, "the second waits too");
    assert_int_equal(fake_requests(), before);
    rpc_client_free(&a);
    rpc_client *solo = client(3, 5000); /* a client on its own knows nothing of it */
    assert_int_equal(rpc_eth_block_number(solo, &head, &e), 0);
    rpc_client_free(&solo);
    rpc_client_free(&b);
}

/* A refused eth_getLogs range is remembered per endpoint as its cap (the provider's
 * suggestion, else half), which doubles after answers in a row at the cap, and waits
 * twice as long after a growth that was refused again. */
static void test_range_cap(void **state)
{
    rpc_client *c = client(1, 5000);
    err e;
    json_t *r = NULL;
    json_t *p = json_pack("[s]", "0x20");
    if (rpc_call(c, "anvil_mine", p, &r, &e) < 0)
        fail_msg("%s", e.msg);
    json_decref(p);
    json_decref(r);
    assert_true(rpc_logs_range_cap(c) == UINT64_MAX);
    rpc_log_filter wide = {.from = 0, .to = 15}, capped = {.from = 0, .to = 7};
    rpc_log_list l;
    fault("too_many", "eth_getLogs");
    expect(rpc_eth_get_logs(c, &wide, &l, &e), c, &e, RPC_RANGE, "too_many");
    assert_int_equal(rpc_logs_range_cap(c), 8); /* the hint [0x0, 0x7] */
    rpc_endpoint_info info;
    rpc_endpoint_get(c, 0, &info);
    assert_int_equal(info.range_cap, 8);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rpc_logs_range_cap(c), 8);
        assert_int_equal(rpc_eth_get_logs(c, &capped, &l, &e), 0);
        rpc_log_list_free(&l);
    }
    assert_int_equal(rpc_logs_range_cap(c), 16);
    /* grown, refused again: back to 8, and now 8 answers before it grows */
    fault("too_many", "eth_getLogs");
    expect(rpc_eth_get_logs(c, &wide, &l, &e), c, &e, RPC_RANGE, "too_many again");
    for (int i = 0; i < 7; i++) {
        assert_int_equal(rpc_eth_get_logs(c, &capped, &l, &e), 0);
        rpc_log_list_free(&l);
        assert_int_equal(rpc_logs_range_cap(c), 8);
    }
    assert_int_equal(rpc_eth_get_logs(c, &capped, &l, &e), 0);
    rpc_log_list_free(&l);
    assert_int_equal(rpc_logs_range_cap(c), 16);
    rpc_client_free(&c);

    /* Per endpoint: the second endpoint's cap is its own. */
    c = client_fake_then_anvil(3);
    fault("too_many", "eth_getLogs");
    expect(rpc_eth_get_logs(c, &wide, &l, &e), c, &e, RPC_RANGE, "too_many at the first");
    assert_int_equal(rpc_logs_range_cap(c), 8);
    fault("http429_long", "eth_getLogs");
    assert_int_equal(rpc_eth_get_logs(c, &wide, &l, &e), 0); /* at the second */
    rpc_log_list_free(&l);
    assert_true(rpc_logs_range_cap(c) == UINT64_MAX);
    rpc_client_free(&c);
}

typedef struct walk_seen {
    int calls, stop_after;
    size_t logs;
} walk_seen;

static int walk_count(void *ud, const rpc_log_list *l, err *e)
{
    walk_seen *w = ud;
    w->calls++;
    w->logs += l->n;
    if (w->stop_after && w->calls == w->stop_after)
        return 1;
    if (w->stop_after < 0)
        return err_set(e, ERR_STATE, "the caller's own failure");
    return 0;
}

/* rpc_eth_get_logs_ranges: a refused range is asked again smaller (the provider's
 * suggestion) and the rest read within the endpoint's cap, each range once, in order;
 * the caller's bound splits too; the walk stops when the caller has what it wants, and
 * the caller's failure is the walk's. */
static void test_logs_ranges(void **state)
{
    (void)state;
    rpc_client *c = client(1, 5000);
    err e;
    rpc_log_filter f = {.from = 0, .to = 15};
    rpc_log_list all;
    assert_int_equal(rpc_eth_get_logs(c, &f, &all, &e), 0);
    /* refused once over 0..15 with the hint [0x0, 0x7]: 0..7, then 8..15 */
    fault("too_many", "eth_getLogs");
    walk_seen w = {0};
    if (rpc_eth_get_logs_ranges(c, &f, 0, walk_count, &w, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(w.calls, 2);
    assert_int_equal(w.logs, all.n);
    assert_int_equal(rpc_logs_range_cap(c), 8);
    rpc_log_list_free(&all);
    rpc_client_free(&c);
    /* the caller's bound: 16 blocks 5 at a time are four ranges */
    c = client(1, 5000);
    memset(&w, 0, sizeof w);
    assert_int_equal(rpc_eth_get_logs_ranges(c, &f, 5, walk_count, &w, &e), 0);
    assert_int_equal(w.calls, 4);
    /* stopped by the caller after the first range */
    memset(&w, 0, sizeof w);
    w.stop_after = 1;
    assert_int_equal(rpc_eth_get_logs_ranges(c, &f, 5, walk_count, &w, &e), 0);
    assert_int_equal(w.calls, 1);
    /* the caller's failure */
    memset(&w, 0, sizeof w);
    w.stop_after = -1;
    assert_int_equal(rpc_eth_get_logs_ranges(c, &f, 5, walk_count, &w, &e), -1);
    assert_int_equal(w.calls, 1);
    assert_non_null(strstr(e.msg, "the caller's own failure"));
    rpc_client_free(&c);
}

/* A password in an endpoint URL is in no message, log line or health record. */
static void test_url_credentials_not_shown(void **state)
{
    char url[256];
    snprintf(url, sizeof url, "http://ops:hunter2@%s", strstr(fake_url, "://") + 3);
    const char *u = url;
    rpc_options o;
    rpc_options_default(&o);
    o.max_attempts = 1;
    rpc_client *c = NULL;
    err e;
    if (rpc_client_new(&c, &u, 1, &o, &e) < 0)
        fail_msg("%s", e.msg);
    uint64_t head;
    fault("http500", "eth_blockNumber");
    expect(rpc_eth_block_number(c, &head, &e), c, &e, RPC_TRANSPORT, "http500");
    if (strstr(e.msg, "hunter2") || !strstr(e.msg, "***@"))
        fail_msg("the URL's password is shown: %s", e.msg);
    rpc_endpoint_info info;
    rpc_endpoint_get(c, 0, &info);
    assert_null(strstr(info.last_error, "hunter2"));
    rpc_client_free(&c);
}

static void test_cancel(void **state)
{
    rpc_client *c = client(3, 10000);
    atomic_int stop = 1;
    rpc_client_set_cancel(c, &stop);
    uint64_t head;
    err e;
    expect(rpc_eth_block_number(c, &head, &e), c, &e, RPC_CANCELLED, "cancelled");
    rpc_client_free(&c);
}

static int mine(void **state)
{
    /* Some blocks, so that log ranges are wider than one block. */
    rpc_client *c = client(1, 5000);
    json_t *params = json_pack("[s]", "0x10");
    json_t *r = NULL;
    err e;
    int rc = rpc_call(c, "anvil_mine", params, &r, &e);
    json_decref(params);
    json_decref(r);
    rpc_client_free(&c);
    return rc;
}

int main(void)
{
    fake_url = getenv("FUSION_TEST_FAKE_RPC");
    anvil_url = getenv("FUSION_TEST_RPC");
    if (!fake_url || !anvil_url) {
        fprintf(stderr, "run me through tests/integration/fake_rpc.py run -- test_rpc_fake\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_number_faults),
        cmocka_unit_test(test_retries_ride_it_out),
        cmocka_unit_test(test_error_text_is_safe),
        cmocka_unit_test(test_logs_and_blocks),
        cmocka_unit_test(test_native_blocks),
        cmocka_unit_test(test_answers_that_miss_the_request),
        cmocka_unit_test(test_wrong_chain),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_range_cap),
        cmocka_unit_test(test_logs_ranges),
        cmocka_unit_test(test_url_credentials_not_shown),
    };
    return cmocka_run_group_tests(tests, mine, NULL);
}
