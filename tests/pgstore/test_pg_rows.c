/* test_pg_rows.c: the decoders of the book server's text rows (store_escrow_of_row for
 * pg_read.c's escrows, pg_outbound_of_row for pg_outbound.c's transactions). The server's
 * bytes are outside input: a malformed field (bad hex, an integer out of range, an
 * over-long string, control characters) is refused in one printable line naming the row,
 * never guessed or truncated; money is exact up to 2^256-1 base units. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/u256.h"
#include "pgstore/pgstore.h"

#define A1 "0x1111111111111111111111111111111111111111"
#define A2 "0x2222222222222222222222222222222222222222"
#define H1 "0x3333333333333333333333333333333333333333333333333333333333333333"
#define MAX256                                                                                     \
    "115792089237316195423570985008687907853269984665640564039457584007913129639935"

static void good_escrow(const char *v[STORE_ESCROW_NCOLS])
{
    static const char *const g[STORE_ESCROW_NCOLS] = {
        "31337", A1, A2, A1, A2, A1, "1000", "[\"" A1 "\"]", "1", A2, "1700000000", "funded",
        NULL, "0", "1000", "0", "0", "12", H1, "14", "2", "0", "", "2", "3600", H1, A2, "0",
        NULL};
    memcpy(v, g, sizeof g);
}

/* e's message is one line with no control character (nothing raw reaches a terminal). */
static void printable(const err *e)
{
    assert_true(e->msg[0] != '\0');
    for (const unsigned char *p = (const unsigned char *)e->msg; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            print_error("raw control byte 0x%02x in: %s\n", *p, e->msg);
            fail();
        }
}

static void escrow_refused(int col, const char *val)
{
    const char *v[STORE_ESCROW_NCOLS];
    good_escrow(v);
    v[col] = val;
    store_escrow x;
    err e;
    err_clear(&e);
    if (store_escrow_of_row(v, 0, false, 0, &x, &e) == 0) {
        print_error("column %d = \"%s\" was accepted\n", col, val);
        fail();
    }
    printable(&e);
    assert_non_null(strstr(e.msg, "escrow row"));
}

static void test_escrow_good(void **state)
{
    (void)state;
    const char *v[STORE_ESCROW_NCOLS];
    good_escrow(v);
    store_escrow x;
    err e;
    assert_int_equal(store_escrow_of_row(v, 0, false, 0, &x, &e), 0);
    assert_int_equal(x.chain_id, 31337);
    assert_int_equal(x.created_block, 12);
    assert_int_equal(x.threshold, 1);
    /* a negative bigint is the stored bits of a u64 above 2^63 (the SQLite desk's form) */
    v[17] = "-1";
    assert_int_equal(store_escrow_of_row(v, 0, false, 0, &x, &e), 0);
    assert_true(x.created_block == UINT64_MAX);
}

/* 2^256-1 base units read back exactly; 2^256 is refused, not wrapped. */
static void test_escrow_money(void **state)
{
    (void)state;
    const char *v[STORE_ESCROW_NCOLS];
    good_escrow(v);
    v[6] = v[14] = v[15] = v[16] = MAX256;
    store_escrow x;
    err e;
    assert_int_equal(store_escrow_of_row(v, 0, false, 0, &x, &e), 0);
    char dec[U256_DEC_MAX];
    u256_to_dec(dec, &x.amount);
    assert_string_equal(dec, MAX256);
    u256_to_dec(dec, &x.funded);
    assert_string_equal(dec, MAX256);
    u256_to_dec(dec, &x.refunded);
    assert_string_equal(dec, MAX256);
    escrow_refused(6, "115792089237316195423570985008687907853269984665640564039457584007913129639936");
    escrow_refused(6, "-1");
    escrow_refused(6, "1e3");
}

static void test_escrow_malformed(void **state)
{
    (void)state;
    escrow_refused(1, "0x11111111111111111111111111111111111111zz"); /* bad hex */
    escrow_refused(1, "\x1b]0;pwned\x07\x1b[2J");                    /* escapes, named raw */
    escrow_refused(0, "31337\x1b[31m");
    escrow_refused(0, "18446744073709551616"); /* out of range: was clamped */
    escrow_refused(0, "abc");
    escrow_refused(17, "12abc");
    escrow_refused(8, "4294967296"); /* the threshold is 32 bits: was truncated to 0 */
    escrow_refused(20, "99999999999");
    escrow_refused(10, "");
    escrow_refused(11, "funded\x1b[2J");
    escrow_refused(18, "0x12");
    /* the anomaly is shown on screens: control characters and an over-long one refused */
    escrow_refused(22, "reorg\x1b[2Jgone");
    escrow_refused(22, "line one\nline two");
    char long_text[400];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    escrow_refused(22, long_text);
}

static void good_outbound(const char *v[PG_OUTBOUND_NCOLS])
{
    static const char *const g[PG_OUTBOUND_NCOLS] = {
        "7", "31337", A1, "5", H1, "mined", A2, "create", "40", "0", "1700000000", "1700000001"};
    memcpy(v, g, sizeof g);
}

static void outbound_refused(int col, const char *val)
{
    const char *v[PG_OUTBOUND_NCOLS];
    good_outbound(v);
    v[col] = val;
    store_outbound o;
    err e;
    err_clear(&e);
    if (pg_outbound_of_row(v, &o, &e) == 0) {
        print_error("column %d = \"%s\" was accepted\n", col, val ? val : "NULL");
        fail();
    }
    printable(&e);
    assert_non_null(strstr(e.msg, "tx 7"));
}

static void test_outbound_good(void **state)
{
    (void)state;
    const char *v[PG_OUTBOUND_NCOLS];
    good_outbound(v);
    store_outbound o;
    err e;
    assert_int_equal(pg_outbound_of_row(v, &o, &e), 0);
    assert_int_equal(o.id, 7);
    assert_int_equal(o.nonce, 5);
    assert_int_equal(o.state, OUTBOUND_MINED);
    assert_true(o.has_escrow);
    assert_string_equal(o.action, "create");
    assert_int_equal(o.mined_block, 40);
    v[6] = v[8] = v[11] = NULL;
    assert_int_equal(pg_outbound_of_row(v, &o, &e), 0);
    assert_false(o.has_escrow);
    assert_int_equal(o.mined_block, 0);
}

static void test_outbound_malformed(void **state)
{
    (void)state;
    /* a state this desk does not know is not "pending" (a pending row is one tx check
     * resolves): refused */
    outbound_refused(5, "sent-ish");
    outbound_refused(5, NULL);
    outbound_refused(7, "create\x1b[2J");
    outbound_refused(7, "an action name far longer than the thirty-one bytes of the field");
    outbound_refused(3, "18446744073709551616");
    outbound_refused(3, "-1");
    outbound_refused(3, "5 ");
    outbound_refused(1, "x");
    outbound_refused(8, "40x");
    outbound_refused(2, "0x12");
    outbound_refused(2, NULL);
    outbound_refused(4, "\x1b[2J");
    outbound_refused(6, "0xzz");
    outbound_refused(9, "maybe");
    outbound_refused(10, "");
}

/* The server's change feed (what /v1/events streams on a server-book desk): ids and times
 * integers, kind, ref and state whole and printable. */
static void feed_refused(int col, const char *val)
{
    const char *v[PG_FEED_NCOLS] = {"12", "escrow.created", "31337", A1, "created", "1700000000"};
    store_feed_row f;
    err e;
    err_clear(&e);
    v[col] = val;
    if (pg_feed_of_row(v, &f, &e) == 0) {
        print_error("feed column %d = \"%s\" was accepted\n", col, val ? val : "NULL");
        fail();
    }
    printable(&e);
}

static void test_feed(void **state)
{
    (void)state;
    const char *v[PG_FEED_NCOLS] = {"12", "escrow.created", "31337", A1, "", "1700000000"};
    store_feed_row f;
    err e;
    assert_int_equal(pg_feed_of_row(v, &f, &e), 0);
    assert_int_equal(f.id, 12);
    assert_int_equal(f.chain_id, 31337);
    assert_int_equal(f.at, 1700000000);
    assert_string_equal(f.kind, "escrow.created");
    assert_string_equal(f.ref, A1);
    assert_string_equal(f.state, "");
    feed_refused(0, "0");
    feed_refused(0, "-3");
    feed_refused(0, NULL);
    feed_refused(1, "");
    feed_refused(1, "escrow.created\x1b[2J");
    feed_refused(1, "a kind far longer than the thirty-one bytes of its field");
    feed_refused(2, "x");
    feed_refused(3, NULL);
    feed_refused(3, "0xabc\n");
    feed_refused(4, "funded\x07");
    feed_refused(5, "soon");
}

#define INFLOW_ROW                                                                                 \
    {"7", "31337", "42", H1, H1, "4294967299", A1, A2, A1, MAX256, "1700000000", "1700000100", \
     "0", "0"}

static void inflow_refused(int col, const char *val)
{
    const char *v[PG_INFLOW_NCOLS] = INFLOW_ROW;
    store_inflow f;
    err e;
    err_clear(&e);
    v[col] = val;
    if (pg_inflow_of_row(v, &f, &e) == 0) {
        print_error("inflow column %d = \"%s\" was accepted\n", col, val ? val : "NULL");
        fail();
    }
    printable(&e);
}

/* A server's inflow row is outside input: every field checked, a bad one refused. */
static void test_inflow(void **state)
{
    (void)state;
    const char *v[PG_INFLOW_NCOLS] = INFLOW_ROW;
    store_inflow f;
    err e;
    assert_int_equal(pg_inflow_of_row(v, &f, &e), 0);
    assert_int_equal(f.id, 7);
    assert_int_equal(f.chain_id, 31337);
    assert_int_equal(f.block_number, 42);
    assert_true(f.log_index == ((1ull << 32) | 3));
    assert_int_equal(f.token.b[0], 0x11);
    assert_int_equal(f.sender.b[19], 0x22);
    assert_int_equal(f.block_hash[31], 0x33);
    assert_int_equal(f.block_time, 1700000000);
    assert_int_equal(f.seen_at, 1700000100);
    char amt[U256_DEC_MAX];
    u256_to_dec(amt, &f.amount);
    assert_string_equal(amt, MAX256);
    inflow_refused(0, "0");
    inflow_refused(0, NULL);
    inflow_refused(1, "-1");
    inflow_refused(2, "4x");
    inflow_refused(3, "0x33");
    inflow_refused(4, NULL);
    inflow_refused(5, "");
    inflow_refused(6, "0x11111111111111111111111111111111111111\x1b[");
    inflow_refused(7, "1111111111111111111111111111111111111111");
    inflow_refused(8, NULL);
    inflow_refused(9, "-5");
    inflow_refused(9, "1e9");
    inflow_refused(10, "soon");
    inflow_refused(13, NULL);
}

#define LEG_TX "0x4444444444444444444444444444444444444444444444444444444444444444"
static void leg_refused(int col, const char *val)
{
    const char *v[PG_BRIDGE_LEG_NCOLS] = {"31337", "42", "sent", LEG_TX, "0", "9", "00ff"};
    v[col] = val;
    store_bridge_leg l;
    err e;
    err_clear(&e);
    if (pg_bridge_leg_of_row(v, &l, &e) == 0) {
        print_error("bridge leg column %d = \"%s\" was accepted\n", col, val ? val : "NULL");
        fail();
    }
    printable(&e);
}

/* the server's bridge legs: outside input, each malformed field refused in one line */
static void test_bridge_leg(void **state)
{
    (void)state;
    const char *v[PG_BRIDGE_LEG_NCOLS] = {"31337", "42", "sent", LEG_TX, "4294967295",
                                          "-1", "00ff"};
    store_bridge_leg l;
    err e;
    assert_int_equal(pg_bridge_leg_of_row(v, &l, &e), 0);
    assert_false(l.received);
    assert_int_equal(l.chain_id, 31337);
    assert_int_equal(l.block_number, 42);
    assert_int_equal(l.tx_hash[31], 0x44);
    assert_true(l.src_domain == UINT32_MAX);
    assert_true(l.nonce == UINT64_MAX); /* kept as its bits */
    assert_int_equal(l.message_len, 2);
    assert_int_equal(l.message[1], 0xff);
    v[2] = "received";
    v[6] = "";
    assert_int_equal(pg_bridge_leg_of_row(v, &l, &e), 0);
    assert_true(l.received);
    assert_int_equal(l.message_len, 0);
    leg_refused(0, "-1");
    leg_refused(1, NULL);
    leg_refused(2, "minted");
    leg_refused(2, NULL);
    leg_refused(3, "0x44");
    leg_refused(4, "4294967296");
    leg_refused(5, "1e9");
    leg_refused(6, "0g");
    leg_refused(6, NULL);
    char big[2 * STORE_BRIDGE_MSG_MAX + 3];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    leg_refused(6, big + 1); /* one byte past the room, an even count of digits */
}

static void line_refused(int col, const char *val)
{
    const char *v[PG_LINE_NCOLS] = {"31337", "local", A1, A1, A2, MAX256, "funded", "1",
                                    "2", "14", "0", "ETH", "18"};
    store_escrow_line l;
    err e;
    err_clear(&e);
    if (col < 0) {
        assert_int_equal(pg_escrow_line_of_row(v, &l, &e), 0);
        assert_string_equal(l.amount, MAX256);
        assert_string_equal(l.chain, "local");
        assert_int_equal(l.threshold, 2);
        assert_true(l.asset_known);
        v[11] = v[12] = NULL;
        assert_int_equal(pg_escrow_line_of_row(v, &l, &e), 0);
        assert_false(l.asset_known);
        return;
    }
    v[col] = val;
    if (pg_escrow_line_of_row(v, &l, &e) == 0) {
        print_error("line column %d = \"%s\" was accepted\n", col, val ? val : "NULL");
        fail();
    }
    printable(&e);
    assert_non_null(strstr(e.msg, "escrow row"));
}

/* The escrow table's lines (the Escrows screen): the chain's name, the asset's symbol and
 * the state are shown as they are, so they are refused with control characters; a bad
 * address is refused (was shown as the zero address), an amount must be base units. */
static void test_line(void **state)
{
    (void)state;
    line_refused(-1, NULL);
    line_refused(1, "local\x1b[2J");
    line_refused(1, "\xe2\x80\xaelacol"); /* a bidi override */
    line_refused(11, "ETH\x1b]0;x\x07");
    line_refused(6, "funded\n");
    line_refused(2, "0x1111");
    line_refused(3, NULL);
    line_refused(5, "1.5");
    line_refused(5, "115792089237316195423570985008687907853269984665640564039457584007913129639936");
    line_refused(7, "-1");
    line_refused(8, "4294967296");
    line_refused(0, "x");
    line_refused(12, "256");
    line_refused(12, NULL);
}

static void test_checkpoint(void **state)
{
    (void)state;
    const char *v[PG_CHECKPOINT_NCOLS] = {"40", H1, "38", "41", "1700000000"};
    store_checkpoint cp;
    err e;
    assert_int_equal(pg_checkpoint_of_row(v, 31337, &cp, &e), 0);
    assert_true(cp.synced);
    assert_int_equal(cp.synced_block, 40);
    assert_int_equal(cp.head_block, 41);
    const char *bad[][2] = {{"0", "40x"}, {"0", "99999999999999999999"}, {"1", "0x33"},
                            {"1", NULL}, {"2", ""}, {"3", "4 1"}, {"4", "\x1b[2J"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *w[PG_CHECKPOINT_NCOLS];
        memcpy(w, v, sizeof w);
        w[bad[i][0][0] - '0'] = bad[i][1];
        err_clear(&e);
        if (pg_checkpoint_of_row(w, 31337, &cp, &e) == 0) {
            print_error("checkpoint column %s = \"%s\" was accepted\n", bad[i][0],
                        bad[i][1] ? bad[i][1] : "NULL");
            fail();
        }
        assert_false(cp.synced);
        printable(&e);
        assert_non_null(strstr(e.msg, "chain 31337"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escrow_good),        cmocka_unit_test(test_escrow_money),
        cmocka_unit_test(test_escrow_malformed),   cmocka_unit_test(test_outbound_good),
        cmocka_unit_test(test_outbound_malformed), cmocka_unit_test(test_line),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_feed),
        cmocka_unit_test(test_inflow),
        cmocka_unit_test(test_bridge_leg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
