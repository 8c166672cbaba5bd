/* test_sync_threads.c: the sync engine's threads, for ThreadSanitizer (suite
 * "threads") as much as for correctness. Two real anvil nodes (devchain.py run
 * --nodes 2), one sync thread each, logs produced while they run; the main thread polls
 * the notification descriptor and the statistics the way the UI will, a second
 * connection notices commits through PRAGMA data_version, a second engine on the same
 * desk is refused by the lock, and a stop request ends everything cleanly. */
#include <poll.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "rpc/rpc.h"
#include "store/store.h"
#include "sync/sync.h"

#define N_CHAINS 2
#define TXS_BEFORE 15
#define TXS_DURING 15

static const char ACCOUNT0[] = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
static const char TOPIC[] = "abababababababababababababababababababababababababababababababab";

typedef struct node {
    const char *url;
    uint64_t chain_id;
    rpc_client *rpc;
    addr emitter;
} node;

static node nodes[N_CHAINS];
static char home[256];

static void send_tx(node *n, const char *to, const char *data, rpc_receipt *out)
{
    err e;
    json_t *tx = json_pack("{s:s, s:s}", "from", ACCOUNT0, "data", data);
    if (to)
        json_object_set_new(tx, "to", json_string(to));
    json_t *params = json_pack("[o]", tx), *r;
    if (rpc_call(n->rpc, "eth_sendTransaction", params, &r, &e) < 0)
        fail_msg("%s", e.msg);
    json_decref(params);
    uint8_t h[32];
    assert_int_equal(rpc_parse_hash(r, h, "hash", &e), 0);
    json_decref(r);
    bool found = false;
    rpc_receipt rc;
    for (int i = 0; i < 500 && !found; i++) {
        assert_int_equal(rpc_eth_get_transaction_receipt(n->rpc, h, &rc, &found, &e), 0);
        if (!found)
            nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    assert_true(found);
    if (out)
        *out = rc;
}

static void emit(node *n, int i)
{
    char to[ADDR_STR_MAX], data[16];
    hex_encode(to, sizeof to, n->emitter.b, ADDR_LEN, true);
    snprintf(data, sizeof data, "0x%04x", i);
    send_tx(n, to, data, NULL);
}

static uint64_t count_events(store *s, uint64_t chain_id)
{
    uint64_t n = 0;
    err e;
    assert_int_equal(store_event_count(s, chain_id, &n, &e), 0);
    return n;
}

static int setup(void **state)
{
    snprintf(home, sizeof home, "/tmp/fusion-sync-threads-XXXXXX");
    if (!mkdtemp(home))
        return -1;
    char path[300];
    snprintf(path, sizeof path, "%s/desk.db", home);
    store *s = NULL;
    err e;
    if (store_open(&s, path, &e) < 0)
        return -1;
    for (int i = 0; i < N_CHAINS; i++) {
        node *n = &nodes[i];
        if (rpc_client_new(&n->rpc, &n->url, 1, NULL, &e) < 0)
            return -1;
        char init[200];
        snprintf(init, sizeof init,
                 "0x602c600c600039602c6000f3"
                 "3660006000377f%s366000a100",
                 TOPIC);
        rpc_receipt dep;
        send_tx(n, NULL, init, &dep);
        n->emitter = dep.contract_address;
        store_chain ch = {.chain_id = n->chain_id, .confirmations = 1, .native_decimals = 18};
        snprintf(ch.name, sizeof ch.name, "chain-%d", i);
        snprintf(ch.native_symbol, sizeof ch.native_symbol, "ETH");
        /* The emitter is configured as a price feed: its logs are no feed events, so
         * they are stored raw, which is all this test needs. A factory (that never
         * emits) makes sync ask by event signature plus the feed by address, which
         * the pipelined catch-up does. */
        store_contract k = {
            .chain_id = n->chain_id, .kind = STORE_CONTRACT_FEED, .address = n->emitter};
        store_contract f = {.chain_id = n->chain_id, .kind = STORE_CONTRACT_FACTORY};
        memset(f.address.b, 0xfa, ADDR_LEN);
        if (store_chain_add(s, &ch, &e) < 0 ||
            store_endpoint_add(s, n->chain_id, n->url, 0, &e) < 0 ||
            store_contract_put(s, &k, &e) < 0 || store_contract_put(s, &f, &e) < 0)
            return -1;
        for (int t = 0; t < TXS_BEFORE; t++)
            emit(n, t);
    }
    store_close(&s);
    return 0;
}

static int teardown(void **state)
{
    for (int i = 0; i < N_CHAINS; i++)
        rpc_client_free(&nodes[i].rpc);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    return system(cmd) == 0 ? 0 : -1;
}

/* The after-commit hook: called on each chain's thread with a usable connection outside
 * any transaction (a transaction can begin on it). */
static atomic_int hook_calls[N_CHAINS], hook_bad;

static void count_hook(void *ctx, store *conn, uint64_t chain_id)
{
    (void)ctx;
    err e;
    if (store_begin(conn, &e) < 0) {
        atomic_fetch_add(&hook_bad, 1);
        return;
    }
    store_rollback(conn);
    for (int i = 0; i < N_CHAINS; i++)
        if (nodes[i].chain_id == chain_id)
            atomic_fetch_add(&hook_calls[i], 1);
}

/* sync_options.committed: called beside the descriptor after every commit (the UI wakes
 * its one notification descriptor there). */
static atomic_int committed_calls;

static void count_committed(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&committed_calls, 1);
}

static void test_engine(void **state)
{
    sync_options o;
    sync_options_default(&o);
    o.home = home;
    o.poll_ms = 20;
    o.initial_range = 4; /* several commits per chain */
    o.max_range = 4;
    o.window = 4;        /* most blocks are "deep": the pipelined catch-up runs */
    o.max_addresses = 0; /* (it needs requests by event signature) */
    o.after_commit = count_hook;
    o.committed = count_committed;
    sync_engine *eng = NULL;
    err e;
    err_clear(&e);
    if (sync_start(&eng, &o, &e) < 0)
        fail_msg("%s", e.msg);

    /* One syncer per desk. */
    sync_engine *second = NULL;
    err e2;
    assert_int_equal(sync_start(&second, &o, &e2), -1);
    assert_null(second);
    assert_int_equal(e2.code, ERR_STATE);
    assert_non_null(strstr(e2.msg, "already syncing"));

    char path[300];
    snprintf(path, sizeof path, "%s/desk.db", home);
    store *reader = NULL;
    assert_int_equal(store_open(&reader, path, &e), 0);
    uint64_t v0, v1;
    assert_int_equal(store_data_version(reader, &v0, &e), 0);

    size_t notified = 0;
    int sent = 0;
    bool done = false;
    for (int round = 0; round < 3000 && !done; round++) {
        struct pollfd p = {.fd = sync_notify_fd(eng), .events = POLLIN};
        if (poll(&p, 1, 20) > 0) {
            sync_notify_drain(eng);
            notified++;
        }
        sync_chain_stats st[N_CHAINS];
        assert_int_equal(sync_stats(eng, st, N_CHAINS), N_CHAINS);
        for (int i = 0; i < N_CHAINS; i++)
            assert_int_not_equal(st[i].phase, SYNC_FAILED);
        /* More logs while the threads run. */
        if (sent < TXS_DURING && round % 5 == 0) {
            for (int i = 0; i < N_CHAINS; i++)
                emit(&nodes[i], 100 + sent);
            sent++;
        }
        done = sent == TXS_DURING;
        for (int i = 0; i < N_CHAINS && done; i++)
            done = count_events(reader, nodes[i].chain_id) == TXS_BEFORE + TXS_DURING;
    }
    assert_true(done);
    assert_true(notified > 0);
    /* each readable descriptor came with at least one call (wake-ups coalesce) */
    assert_true((size_t)atomic_load(&committed_calls) >= notified);
    assert_int_equal(store_data_version(reader, &v1, &e), 0);
    assert_true(v1 != v0);
    assert_false(sync_finished(eng));
    sync_request_stop(eng);
    if (sync_stop(&eng, &e) < 0)
        fail_msg("%s", e.msg);
    assert_null(eng);
    for (int i = 0; i < N_CHAINS; i++) {
        store_checkpoint cp;
        assert_int_equal(store_checkpoint_get(reader, nodes[i].chain_id, &cp, &e), 0);
        assert_true(cp.synced);
        store_event_list l;
        assert_int_equal(
            store_event_list_range(reader, nodes[i].chain_id, 0, cp.synced_block, &l, &e), 0);
        assert_int_equal(l.n, TXS_BEFORE + TXS_DURING);
        for (size_t k = 1; k < l.n; k++)
            assert_true(l.items[k - 1].block_number < l.items[k].block_number);
        store_event_list_free(&l);
    }
    store_close(&reader);
    assert_int_equal(atomic_load(&hook_bad), 0);
    for (int i = 0; i < N_CHAINS; i++) /* at thread start, and after the new events */
        assert_true(atomic_load(&hook_calls[i]) >= 2);

    /* The lock is free again. */
    o.once = true;
    assert_int_equal(sync_start(&eng, &o, &e), 0);
    for (int i = 0; i < 3000 && !sync_finished(eng); i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    assert_true(sync_finished(eng));
    assert_int_equal(sync_stop(&eng, &e), 0);
}

int main(void)
{
    for (int i = 0; i < N_CHAINS; i++) {
        char k[32];
        snprintf(k, sizeof k, "FUSION_TEST_RPC%s", i ? "2" : "");
        nodes[i].url = getenv(k);
        snprintf(k, sizeof k, "FUSION_TEST_CHAIN_ID%s", i ? "2" : "");
        const char *id = getenv(k);
        if (!nodes[i].url || !id) {
            fprintf(stderr, "run me through tests/lib/devchain.py run --nodes 2 -- ...\n");
            return 77;
        }
        nodes[i].chain_id = strtoull(id, NULL, 10);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_engine, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
