/* test_bridge.c: the CCTP message decoder against a message laid out by hand as Circle's
 * Message.sol/BurnMessage.sol define it (the same bytes the forge test checks on chain),
 * the attestation API's answers, and the bridge_transfers round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bridge/bridge.h"

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put_addr(uint8_t *w, uint8_t fill)
{
    memset(w, 0, 12);
    memset(w + 12, fill, 20);
}

static void make_msg(uint8_t m[248])
{
    memset(m, 0, 248);
    put32(m, 0);      /* version */
    put32(m + 4, 0);  /* source domain */
    put32(m + 8, 1);  /* destination domain */
    m[19] = 7;        /* nonce 7 */
    put_addr(m + 20, 0xaa); /* sender: the source messenger */
    put_addr(m + 52, 0xbb); /* recipient: the destination messenger */
    uint8_t *b = m + 116;
    put32(b, 0);
    put_addr(b + 4, 0x11);   /* burn token */
    put_addr(b + 36, 0x22);  /* mint recipient */
    b[68 + 31] = 0x80;       /* amount: 250,000 USDC = 250000000000 = 0x3a35294400 */
    b[68 + 27] = 0x3a;
    b[68 + 28] = 0x35;
    b[68 + 29] = 0x29;
    b[68 + 30] = 0x44;
    b[68 + 31] = 0x00;
    put_addr(b + 100, 0x33); /* message sender */
}

static void test_msg_parse(void **state)
{
    (void)state;
    uint8_t m[248];
    make_msg(m);
    bridge_cctp_msg p;
    err e;
    assert_int_equal(bridge_cctp_msg_parse(&p, m, sizeof m, &e), 0);
    assert_int_equal(p.src_domain, 0);
    assert_int_equal(p.dst_domain, 1);
    assert_int_equal(p.nonce, 7);
    assert_int_equal(p.mint_recipient.b[0], 0x22);
    assert_int_equal(p.burn_token.b[19], 0x11);
    assert_int_equal(p.message_sender.b[5], 0x33);
    uint64_t amt;
    assert_true(u256_to_u64(&p.amount, &amt));
    assert_int_equal(amt, 250000000000ull);
}

static void test_msg_refused(void **state)
{
    (void)state;
    uint8_t m[248];
    bridge_cctp_msg p;
    err e;
    make_msg(m);
    assert_int_equal(bridge_cctp_msg_parse(&p, m, 247, &e), -1); /* short */
    make_msg(m);
    m[116 + 36] = 1; /* the mint recipient's word is not an address */
    assert_int_equal(bridge_cctp_msg_parse(&p, m, sizeof m, &e), -1);
    make_msg(m);
    m[3] = 1; /* version 1 */
    assert_int_equal(bridge_cctp_msg_parse(&p, m, sizeof m, &e), -1);
}

static void test_attestation(void **state)
{
    (void)state;
    uint8_t att[130];
    size_t n = 99;
    bridge_att_status st;
    err e;
    const char *pend = "{\"status\":\"pending_confirmations\",\"attestation\":\"PENDING\"}";
    assert_int_equal(bridge_attestation_parse(pend, strlen(pend), &st, att, sizeof att, &n, &e), 0);
    assert_int_equal(st, BRIDGE_ATT_PENDING);
    assert_int_equal(n, 0);
    char ok[300];
    snprintf(ok, sizeof ok, "{\"status\":\"complete\",\"attestation\":\"0x%0130d\"}", 0);
    memset(ok + strlen("{\"status\":\"complete\",\"attestation\":\"0x"), 'a', 130);
    assert_int_equal(bridge_attestation_parse(ok, strlen(ok), &st, att, sizeof att, &n, &e), 0);
    assert_int_equal(st, BRIDGE_ATT_COMPLETE);
    assert_int_equal(n, 65);
    assert_int_equal(att[64], 0xaa);
    /* not whole signatures, not hex, unknown status, not JSON: refused */
    const char *bad[] = {"{\"status\":\"complete\",\"attestation\":\"0xabcd\"}",
                         "{\"status\":\"complete\",\"attestation\":\"PENDING\"}",
                         "{\"status\":\"done\",\"attestation\":\"0x\"}", "<html>", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(
            bridge_attestation_parse(bad[i], strlen(bad[i]), &st, att, sizeof att, &n, &e), -1);
    /* more signatures than the caller holds */
    assert_int_equal(bridge_attestation_parse(ok, strlen(ok), &st, att, 64, &n, &e), -1);
}

static void test_store_roundtrip(void **state)
{
    (void)state;
    char dir[] = "/tmp/fusion-bridge-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/desk.db", dir);
    store *s = NULL;
    err e;
    assert_int_equal(store_open(&s, path, &e), 0);
    store_bridge b;
    memset(&b, 0, sizeof b);
    snprintf(b.protocol, sizeof b.protocol, "cctp");
    snprintf(b.state, sizeof b.state, "sent");
    b.src_chain = 31337;
    b.dst_chain = 43112;
    b.dst_domain = 1;
    b.amount = u256_from_u64(250000000000ull);
    snprintf(b.operator_name, sizeof b.operator_name, "alice");
    b.has_burn_tx = true;
    memset(b.burn_tx, 0x44, 32);
    snprintf(b.pending_action, sizeof b.pending_action, "bridge_burn");
    memset(b.pending_hash, 0x44, 32);
    memset(b.pending_raw, 0x55, 100);
    b.pending_raw_len = 100;
    int64_t id = 0;
    assert_int_equal(store_bridge_add(s, &b, &id, &e), 0);
    b.id = id;
    make_msg(b.message);
    b.message_len = 248;
    b.has_message = true;
    memset(b.message_hash, 0x66, 32);
    b.pending_action[0] = '\0';
    assert_int_equal(store_bridge_put(s, &b, &e), 0);
    store_bridge got;
    bool found = false;
    assert_int_equal(store_bridge_get(s, id, &got, &found, &e), 0);
    assert_true(found);
    assert_string_equal(got.state, "sent");
    assert_int_equal(got.message_len, 248);
    assert_memory_equal(got.message, b.message, 248);
    assert_memory_equal(got.burn_tx, b.burn_tx, 32);
    assert_string_equal(got.pending_action, "");
    assert_int_equal(got.pending_raw_len, 0);
    assert_int_equal(u256_cmp(&got.amount, &b.amount), 0);
    /* a state outside the machine is refused by the table */
    snprintf(b.state, sizeof b.state, "minted");
    assert_int_equal(store_bridge_put(s, &b, &e), -1);
    store_close(&s);
    unlink(path);
    char wal[80];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    rmdir(dir);
}

/* A skewed book taken to 40/30/20/10: every chain ends within one unit of its target, the
 * total is unchanged, no chain sends and receives. */
static void test_rebalance(void **state)
{
    (void)state;
    const uint64_t b0[][4] = {{1000000000001ull, 7, 0, 3},
                              {0, 0, 0, 999999999999ull},
                              {25, 25, 25, 25},
                              {40, 30, 20, 10}};
    const unsigned pct[4] = {40, 30, 20, 10};
    for (size_t k = 0; k < sizeof b0 / sizeof b0[0]; k++) {
        u256 bal[4];
        uint64_t total = 0;
        for (size_t i = 0; i < 4; i++) {
            bal[i] = u256_from_u64(b0[k][i]);
            total += b0[k][i];
        }
        bridge_move mv[BRIDGE_REBALANCE_MAX];
        size_t n = 0;
        err e;
        assert_int_equal(bridge_rebalance_plan(bal, pct, 4, mv, &n, &e), 0);
        assert_true(n <= 3);
        int64_t after[4];
        bool sends[4] = {false}, gets[4] = {false};
        for (size_t i = 0; i < 4; i++)
            after[i] = (int64_t)b0[k][i];
        for (size_t j = 0; j < n; j++) {
            uint64_t a;
            assert_true(u256_to_u64(&mv[j].amount, &a));
            assert_true(a > 0);
            after[mv[j].from] -= (int64_t)a;
            after[mv[j].to] += (int64_t)a;
            sends[mv[j].from] = gets[mv[j].to] = true;
        }
        int64_t sum = 0;
        for (size_t i = 0; i < 4; i++) {
            int64_t target = (int64_t)(total * pct[i] / 100); /* the floor of the share */
            assert_true(after[i] >= target && after[i] <= target + 1);
            assert_false(sends[i] && gets[i]);
            sum += after[i];
        }
        assert_int_equal(sum, (int64_t)total);
    }
    /* percentages that do not sum to 100, one chain: refused */
    u256 bal[2] = {u256_from_u64(1), u256_from_u64(1)};
    const unsigned bad[2] = {50, 40};
    bridge_move mv[BRIDGE_REBALANCE_MAX];
    size_t n;
    err e;
    assert_int_equal(bridge_rebalance_plan(bal, bad, 2, mv, &n, &e), -1);
    assert_int_equal(bridge_rebalance_plan(bal, pct, 1, mv, &n, &e), -1);
}

/* A move over the limit per transfer: the fewest parts, each at most the limit, that sum to
 * the move and differ by at most one unit; a zero limit or too many parts: refused. */
static void test_split(void **state)
{
    (void)state;
    const uint64_t cases[][3] = {/* amount, max, parts */
                                 {10, 3, 4},           {9, 3, 3},     {1, 1000, 1},
                                 {3500000000000ull, 1000000000000ull, 4},
                                 {1000000000000ull, 1000000000000ull, 1},
                                 {1000000000001ull, 1000000000000ull, 2},
                                 {0, 5, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        u256 amount = u256_from_u64(cases[k][0]), max = u256_from_u64(cases[k][1]);
        u256 parts[BRIDGE_REBALANCE_MAX];
        size_t n = 99;
        err e;
        assert_int_equal(bridge_split(&amount, &max, parts, BRIDGE_REBALANCE_MAX, &n, &e), 0);
        assert_int_equal(n, cases[k][2]);
        uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t a;
            assert_true(u256_to_u64(&parts[i], &a));
            assert_true(a > 0 && a <= cases[k][1]);
            sum += a;
            lo = a < lo ? a : lo;
            hi = a > hi ? a : hi;
        }
        assert_int_equal(sum, cases[k][0]);
        assert_true(n == 0 || hi - lo <= 1);
    }
    u256 amount = u256_from_u64(100), zero = u256_from_u64(0), one = u256_from_u64(1);
    u256 parts[BRIDGE_REBALANCE_MAX];
    size_t n;
    err e;
    assert_int_equal(bridge_split(&amount, &zero, parts, BRIDGE_REBALANCE_MAX, &n, &e), -1);
    assert_int_equal(bridge_split(&amount, &one, parts, BRIDGE_REBALANCE_MAX, &n, &e), -1);
    assert_non_null(strstr(e.msg, "more than"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msg_parse),
        cmocka_unit_test(test_msg_refused),
        cmocka_unit_test(test_attestation),
        cmocka_unit_test(test_store_roundtrip),
        cmocka_unit_test(test_rebalance),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
