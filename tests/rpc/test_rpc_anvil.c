/* test_rpc_anvil.c: the JSON-RPC client against a real anvil (started by
 * tests/lib/devchain.py, URL in FUSION_TEST_RPC). Checks values known by
 * construction (what we sent, anvil's fixed genesis balances) and the consistency of
 * different methods with each other (a log's block hash equals the block's hash
 * equals the receipt's), plus failover from a dead endpoint to a live one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "rpc/rpc.h"

static const char *url;
static uint64_t want_chain_id;

static const char ACCOUNT0[] = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
static const char ACCOUNT9[] = "0xa0ee7a142d267c1f36714e4a8f75612f20a79720";
static const char TOPIC[] = "abababababababababababababababababababababababababababababababab";

static rpc_client *client(void)
{
    rpc_client *c = NULL;
    err e;
    const char *urls[] = {url};
    if (rpc_client_new(&c, urls, 1, NULL, &e) < 0)
        fail_msg("%s", e.msg);
    return c;
}

static void parse_addr(addr *a, const char *s)
{
    err e;
    assert_int_equal(hex_decode_exact(a->b, 20, s, HEX_REQUIRE_PREFIX, &e), 0);
}

/* eth_sendTransaction from an unlocked anvil account; returns the receipt. */
static void send_tx(rpc_client *c, const char *to, const char *data, rpc_receipt *rc)
{
    err e;
    json_t *tx = json_pack("{s:s, s:s}", "from", ACCOUNT0, "data", data);
    if (to)
        json_object_set_new(tx, "to", json_string(to));
    json_t *params = json_pack("[o]", tx);
    json_t *r;
    if (rpc_call(c, "eth_sendTransaction", params, &r, &e) < 0)
        fail_msg("%s", e.msg);
    json_decref(params);
    uint8_t h[32];
    assert_int_equal(rpc_parse_hash(r, h, "tx hash", &e), 0);
    json_decref(r);
    bool found = false;
    for (int i = 0; i < 500 && !found; i++) { /* bounded: anvil mines on send */
        assert_int_equal(rpc_eth_get_transaction_receipt(c, h, rc, &found, &e), 0);
        if (!found)
            nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    assert_true(found);
    assert_true(rc->success);
}

static void test_basics(void **state)
{
    rpc_client *c = client();
    err e;
    uint64_t id, head;
    assert_int_equal(rpc_eth_chain_id(c, &id, &e), 0);
    assert_true(id == want_chain_id);
    assert_int_equal(rpc_eth_block_number(c, &head, &e), 0);
    rpc_block b;
    bool found;
    assert_int_equal(rpc_eth_get_block(c, 0, NULL, &b, &found, &e), 0);
    assert_true(found);
    assert_int_equal(b.number, 0);
    assert_int_equal(rpc_eth_get_block(c, 0, "latest", &b, &found, &e), 0);
    assert_true(found && b.number == head);
    assert_int_equal(rpc_eth_get_block(c, head + 1000, NULL, &b, &found, &e), 0);
    assert_false(found);

    addr a9;
    parse_addr(&a9, ACCOUNT9);
    u256 bal, want;
    assert_int_equal(rpc_eth_get_balance(c, &a9, NULL, &bal, &e), 0);
    assert_int_equal(u256_from_dec(&want, "10000000000000000000000", &e), 0);
    assert_int_equal(u256_cmp(&bal, &want), 0);
    uint64_t nonce;
    assert_int_equal(rpc_eth_get_transaction_count(c, &a9, NULL, &nonce, &e), 0);
    assert_int_equal(nonce, 0);

    u256 gp, tip;
    assert_int_equal(rpc_eth_gas_price(c, &gp, &e), 0);
    assert_false(u256_is_zero(&gp));
    assert_int_equal(rpc_eth_max_priority_fee(c, &tip, &e), 0);
    rpc_fee_history fh;
    const double pct[] = {10.0, 50.0};
    assert_int_equal(rpc_eth_fee_history(c, 1, "latest", pct, 2, &fh, &e), 0);
    assert_int_equal(fh.n_blocks, 1);
    assert_false(u256_is_zero(&fh.base_fees[0]));
    rpc_fee_history_free(&fh);

    addr a0;
    parse_addr(&a0, ACCOUNT0);
    rpc_call_args ca = {.from = &a0, .to = &a9};
    uint64_t gas;
    assert_int_equal(rpc_eth_estimate_gas(c, &ca, &gas, &e), 0);
    assert_int_equal(gas, 21000); /* a plain transfer */

    /* A JSON-RPC error is an RPC error, not a transport failure, and is not retried. */
    json_t *r;
    json_t *params = json_array();
    assert_int_equal(rpc_call(c, "eth_noSuchMethod", params, &r, &e), -1);
    json_decref(params);
    assert_int_equal(rpc_last_status(c), RPC_RPC);
    assert_int_equal(e.code, ERR_RPC);
    assert_null(strchr(e.msg, '\n'));
    rpc_client_free(&c);
    assert_null(c);
}

static void test_logs_blocks_receipts(void **state)
{
    rpc_client *c = client();
    err e;
    char init[200];
    /* Minimal emitter: every call logs LOG1(TOPIC, calldata). */
    /* init (12 bytes) copies the 44-byte runtime after it and returns it */
    snprintf(init, sizeof init,
             "0x602c600c600039602c6000f3"
             "3660006000377f%s366000a100",
             TOPIC);
    rpc_receipt dep;
    send_tx(c, NULL, init, &dep);
    assert_true(dep.has_contract_address);
    char caddr[ADDR_STR_MAX];
    hex_encode(caddr, sizeof caddr, dep.contract_address.b, 20, true);

    enum { N = 12 };
    rpc_receipt rc[N];
    for (int i = 0; i < N; i++) {
        char data[16];
        snprintf(data, sizeof data, "0x%04x", i);
        send_tx(c, caddr, data, &rc[i]);
    }
    rpc_log_filter f = {.from = dep.block_number,
                        .to = rc[N - 1].block_number,
                        .addresses = &dep.contract_address,
                        .n_addresses = 1};
    rpc_log_list l;
    assert_int_equal(rpc_eth_get_logs(c, &f, &l, &e), 0);
    assert_int_equal(l.n, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(l.items[i].data_len, 2);
        assert_int_equal(l.items[i].data[0], 0);
        assert_int_equal(l.items[i].data[1], i);
        assert_int_equal(l.items[i].n_topics, 1);
        assert_int_equal(l.items[i].topics[0][0], 0xab);
        assert_int_equal(l.items[i].block_number, rc[i].block_number);
        assert_memory_equal(l.items[i].block_hash, rc[i].block_hash, 32);
        assert_memory_equal(l.items[i].address.b, dep.contract_address.b, 20);
    }
    /* A topic filter that matches nothing. */
    uint8_t other[1][32];
    memset(other[0], 0xcd, 32);
    f.topic0 = (const uint8_t(*)[32])other;
    f.n_topic0 = 1;
    rpc_log_list none;
    assert_int_equal(rpc_eth_get_logs(c, &f, &none, &e), 0);
    assert_int_equal(none.n, 0);
    rpc_log_list_free(&none);

    /* A batch of blocks agrees with single calls and links by parent hash. */
    uint64_t from = dep.block_number;
    rpc_block blocks[N + 1];
    assert_int_equal(rpc_eth_get_blocks(c, from, N + 1, blocks, &e), 0);
    for (int i = 0; i <= N; i++) {
        rpc_block one;
        bool found;
        assert_int_equal(rpc_eth_get_block(c, from + (uint64_t)i, NULL, &one, &found, &e), 0);
        assert_memory_equal(one.hash, blocks[i].hash, 32);
        if (i)
            assert_memory_equal(blocks[i].parent_hash, blocks[i - 1].hash, 32);
    }
    assert_memory_equal(blocks[1].hash, l.items[0].block_hash, 32);
    rpc_log_list_free(&l);

    /* Asking past the head in a batch is an error, not a silent gap. */
    uint64_t head;
    assert_int_equal(rpc_eth_block_number(c, &head, &e), 0);
    assert_int_equal(rpc_eth_get_blocks(c, head, 3, blocks, &e), -1);

    addr a0;
    parse_addr(&a0, ACCOUNT0);
    uint64_t nonce;
    assert_int_equal(rpc_eth_get_transaction_count(c, &a0, NULL, &nonce, &e), 0);
    assert_true(nonce >= N + 1);
    buf code;
    buf_init(&code);
    assert_int_equal(rpc_eth_get_code(c, &dep.contract_address, NULL, &code, &e), 0);
    assert_int_equal(code.len, 44);
    buf_free(&code);
    assert_true(rpc_request_count(c) > 0);
    rpc_client_free(&c);
}

static void test_failover(void **state)
{
    /* The first endpoint refuses connections (port 1 on loopback); the client moves on
     * to the live one and records the dead one as failed. */
    rpc_options o;
    rpc_options_default(&o);
    o.backoff_base_ms = 1;
    o.backoff_max_ms = 2;
    const char *urls[] = {"http://127.0.0.1:1/secret-key", url};
    rpc_client *c = NULL;
    err e;
    assert_int_equal(rpc_client_new(&c, urls, 2, &o, &e), 0);
    uint64_t id;
    assert_int_equal(rpc_eth_chain_id(c, &id, &e), 0);
    assert_true(id == want_chain_id);
    assert_true(rpc_health_changed(c));
    assert_false(rpc_health_changed(c));
    rpc_endpoint_info info;
    rpc_endpoint_get(c, 0, &info);
    assert_int_equal(info.health, RPC_HEALTH_DEGRADED);
    assert_true(info.last_fail > 0);
    assert_null(strstr(info.last_error, "secret-key"));
    rpc_endpoint_get(c, 1, &info);
    assert_int_equal(info.health, RPC_HEALTH_OK);
    rpc_client_free(&c);

    /* Only dead endpoints: a transport error after the configured attempts. */
    const char *dead[] = {"http://127.0.0.1:1"};
    assert_int_equal(rpc_client_new(&c, dead, 1, &o, &e), 0);
    assert_int_equal(rpc_eth_chain_id(c, &id, &e), -1);
    assert_int_equal(rpc_last_status(c), RPC_TRANSPORT);
    rpc_endpoint_get(c, 0, &info);
    assert_int_equal(info.health, RPC_HEALTH_DOWN);
    assert_int_equal(info.consecutive_failures, 4);
    rpc_client_free(&c);

    const char *bad[] = {"ftp://example.org"};
    assert_int_equal(rpc_client_new(&c, bad, 1, &o, &e), -1);
    assert_null(c);
}

int main(void)
{
    url = getenv("FUSION_TEST_RPC");
    const char *cid = getenv("FUSION_TEST_CHAIN_ID");
    if (!url || !cid) {
        fprintf(stderr, "run me through tests/lib/devchain.py run -- %s\n", "test_rpc_anvil");
        return 77; /* meson: skipped */
    }
    want_chain_id = strtoull(cid, NULL, 10);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_logs_blocks_receipts),
        cmocka_unit_test(test_failover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
