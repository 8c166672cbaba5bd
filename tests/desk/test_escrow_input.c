/* test_escrow_input.c: the new-escrow input checks (desk/escrow_input.h) on a real SQLite
 * desk: parties by address (EIP-55 checked) or operator name, deadlines relative, absolute
 * and ISO (the expected unix time computed independently with Python's calendar.timegm),
 * assets by native symbol, configured symbol or address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "desk/escrow_input.h"
#include "store/store.h"

static char dir[64];
static char path[128];

static store *open_desk(void)
{
    snprintf(dir, sizeof dir, "/tmp/fusion-escrow-input-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/desk.db", dir);
    store *s = NULL;
    err e;
    assert_int_equal(store_open(&s, path, &e), 0);
    store_operator op;
    memset(&op, 0, sizeof op);
    snprintf(op.name, sizeof op.name, "bob");
    snprintf(op.roles, sizeof op.roles, "approver");
    memset(op.address.b, 0x0b, ADDR_LEN);
    assert_int_equal(store_operator_add(s, &op, &e), 0);
    store_chain ch;
    memset(&ch, 0, sizeof ch);
    ch.chain_id = 31337;
    snprintf(ch.name, sizeof ch.name, "local");
    snprintf(ch.native_symbol, sizeof ch.native_symbol, "ETH");
    ch.native_decimals = 18;
    assert_int_equal(store_chain_add(s, &ch, &e), 0);
    store_token t;
    memset(&t, 0, sizeof t);
    t.chain_id = 31337;
    snprintf(t.symbol, sizeof t.symbol, "USDC");
    memset(t.address.b, 0x0c, ADDR_LEN);
    t.decimals = 6;
    assert_int_equal(store_token_put(s, &t, &e), 0);
    return s;
}

static void close_desk(store **s)
{
    store_close(s);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_party(void **state)
{
    store *s = open_desk();
    addr a;
    err e;
    /* EIP-55 vector from the EIP itself. */
    assert_int_equal(desk_party_parse(s, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", &a, &e), 0);
    assert_int_equal(a.b[0], 0x5a);
    assert_int_equal(desk_party_parse(s, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", &a, &e), -1);
    assert_int_equal(desk_party_parse(s, "0x1234", &a, &e), -1);
    assert_int_equal(desk_party_parse(s, "bob", &a, &e), 0);
    for (int i = 0; i < ADDR_LEN; i++)
        assert_int_equal(a.b[i], 0x0b);
    assert_int_equal(desk_party_parse(s, "nobody", &a, &e), -1);
    assert_non_null(strstr(e.msg, "neither an address nor an operator"));
    assert_int_equal(desk_party_parse(s, "", &a, &e), -1);
    /* names of the address book: an entity's linked address; a name answering to two
     * addresses is refused naming both */
    int64_t ids[2];
    const char *names[2] = {"Northwind Trading", "Twin Holdings"};
    for (int k = 0; k < 2; k++) {
        store_entity x;
        memset(&x, 0, sizeof x);
        snprintf(x.name, sizeof x.name, "%s", names[k]);
        snprintf(x.type, sizeof x.type, "company");
        snprintf(x.jurisdiction, sizeof x.jurisdiction, "US");
        snprintf(x.kyc, sizeof x.kyc, "verified");
        snprintf(x.risk, sizeof x.risk, "low");
        x.tier = 1;
        assert_int_equal(store_entity_add(s, &x, &ids[k], &e), 0);
    }
    const uint8_t fills[3] = {0x0d, 0x0e, 0x0f};
    for (int k = 0; k < 3; k++) {
        store_entity_link l = {.entity_id = ids[k == 0 ? 0 : 1], .chain_id = 31337};
        memset(l.address.b, fills[k], ADDR_LEN);
        assert_int_equal(store_entity_link_add(s, &l, &e), 0);
    }
    assert_int_equal(desk_party_parse(s, "northwind trading", &a, &e), 0);
    for (int i = 0; i < ADDR_LEN; i++)
        assert_int_equal(a.b[i], 0x0d);
    assert_int_equal(desk_party_parse(s, "Twin Holdings", &a, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "ambiguous"));
    assert_null(strchr(e.msg, '\n'));
    assert_int_equal(desk_party_parse(s, "Northwind", &a, &e), -1); /* exact names only */
    assert_non_null(strstr(e.msg, "neither an address nor an operator"));
    close_desk(&s);
}

static void test_deadline(void **state)
{
    uint64_t now = 1800000000, d = 0;
    err e;
    assert_int_equal(desk_deadline_parse("7d", now, &d, &e), 0);
    assert_int_equal(d, now + 7 * 86400);
    assert_int_equal(desk_deadline_parse("12h", now, &d, &e), 0);
    assert_int_equal(d, now + 12 * 3600);
    assert_int_equal(desk_deadline_parse("30m", now, &d, &e), 0);
    assert_int_equal(d, now + 1800);
    assert_int_equal(desk_deadline_parse("1900000000", now, &d, &e), 0);
    assert_int_equal(d, 1900000000);
    assert_int_equal(desk_deadline_parse("2030-01-02T03:04:05Z", now, &d, &e), 0);
    assert_int_equal(d, 1893553445); /* calendar.timegm((2030, 1, 2, 3, 4, 5)) */
    /* In the past, malformed, negative, unknown unit. */
    assert_int_equal(desk_deadline_parse("1000", now, &d, &e), -1);
    assert_non_null(strstr(e.msg, "future"));
    assert_int_equal(desk_deadline_parse("2020-01-01T00:00:00Z", now, &d, &e), -1);
    assert_int_equal(desk_deadline_parse("7w", now, &d, &e), -1);
    assert_non_null(strstr(e.msg, "7d, 12h, 30m"));
    assert_int_equal(desk_deadline_parse("-5d", now, &d, &e), -1);
    assert_int_equal(desk_deadline_parse("", now, &d, &e), -1);
    assert_int_equal(desk_deadline_parse("2030-01-02", now, &d, &e), -1);
    /* Impossible calendar dates and times are refused, never moved to a real one. */
    static const char *const impossible[] = {
        "2030-02-30T00:00:00Z", "2030-02-29T00:00:00Z", "2030-04-31T12:00:00Z",
        "2030-13-01T00:00:00Z", "2030-00-10T00:00:00Z", "2030-01-00T00:00:00Z",
        "2030-01-01T24:00:00Z", "2030-01-01T23:60:00Z", "2030-01-01T23:59:60Z",
        "2030-1-01T00:00:00Z",  "2030-01-01T00:00:00",  " 2030-01-01T00:00:00Z",
        "+2030-01-01T00:00:00Z", "2030-01-01T0:00:00Z",
    };
    for (size_t i = 0; i < sizeof impossible / sizeof *impossible; i++) {
        d = 0;
        if (desk_deadline_parse(impossible[i], now, &d, &e) != -1)
            fail_msg("'%s' was accepted as %llu", impossible[i], (unsigned long long)d);
        assert_int_equal(e.code, ERR_INVALID);
        assert_null(strstr(e.msg, "future"));
    }
    assert_int_equal(desk_deadline_parse("2028-02-29T23:59:59Z", now, &d, &e), 0);
    assert_int_equal(d, 1835481599); /* calendar.timegm((2028, 2, 29, 23, 59, 59)) */
}

static void test_asset(void **state)
{
    store *s = open_desk();
    addr t;
    unsigned dec = 99;
    bool known = false;
    err e;
    assert_int_equal(desk_asset_lookup(s, 31337, "eth", &t, &dec, &known, &e), 0);
    assert_true(known);
    assert_int_equal(dec, 18);
    for (int i = 0; i < ADDR_LEN; i++)
        assert_int_equal(t.b[i], 0);
    assert_int_equal(desk_asset_lookup(s, 31337, "USDC", &t, &dec, &known, &e), 0);
    assert_true(known);
    assert_int_equal(dec, 6);
    assert_int_equal(t.b[0], 0x0c);
    /* The configured token by its address; an address the desk does not know. */
    assert_int_equal(desk_asset_lookup(s, 31337, "0x0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
                                       &t, &dec, &known, &e),
                     0);
    assert_true(known);
    assert_int_equal(dec, 6);
    assert_int_equal(desk_asset_lookup(s, 31337, "0x0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d",
                                       &t, &dec, &known, &e),
                     0);
    assert_false(known);
    assert_int_equal(desk_asset_lookup(s, 31337, "DAI", &t, &dec, &known, &e), -1);
    assert_non_null(strstr(e.msg, "no token \"DAI\" on local"));
    assert_int_equal(desk_asset_lookup(s, 1, "ETH", &t, &dec, &known, &e), -1);
    close_desk(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_party),
        cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_asset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
