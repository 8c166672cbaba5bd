/* test_bridge_view.c: a transfer made of a book's burn leg alone (sync_bridge_of_leg: the
 * burns another workstation made, which desk.db does not hold), as the risk report's value
 * in flight reads them: the message's domains, token, recipient, amount and sender, the
 * destination chain and its USDC from the bridge contracts, burned with the leg's block;
 * delivered once a received leg of its (source domain, nonce) on the destination is
 * applied; refused for what is no burn of a known route. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sync/bridge_legs.h"

enum { SRC_CHAIN = 31337, DST_CHAIN = 31338, SRC_DOMAIN = 0, DST_DOMAIN = 1 };

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

static void fill_addr(addr *a, uint8_t b)
{
    memset(a->b, b, ADDR_LEN);
}

/* A CCTP v1 burn message: header (version, domains, nonce, sender, recipient, caller) and
 * body (version, burn token, mint recipient, amount, message sender). */
static void burn_leg(store_bridge_leg *l, uint64_t nonce, const u256 *amount)
{
    memset(l, 0, sizeof *l);
    l->chain_id = SRC_CHAIN;
    l->block_number = 77;
    memset(l->tx_hash, 0xab, 32);
    uint8_t *m = l->message;
    put_be(m + 4, SRC_DOMAIN, 4);
    put_be(m + 8, DST_DOMAIN, 4);
    put_be(m + 12, nonce, 8);
    memset(m + 116 + 4 + 12, 0x11, ADDR_LEN);  /* burn token */
    memset(m + 116 + 36 + 12, 0x22, ADDR_LEN); /* mint recipient */
    u256_to_be(m + 116 + 68, amount);
    memset(m + 116 + 100 + 12, 0x33, ADDR_LEN); /* message sender */
    l->message_len = 116 + 132;
    l->src_domain = SRC_DOMAIN;
    l->nonce = nonce;
}

static void routes(store_bridge_cctp c[2])
{
    memset(c, 0, 2 * sizeof *c);
    c[0].chain_id = SRC_CHAIN;
    c[0].domain = SRC_DOMAIN;
    fill_addr(&c[0].usdc, 0x11);
    c[1].chain_id = DST_CHAIN;
    c[1].domain = DST_DOMAIN;
    fill_addr(&c[1].usdc, 0x44);
}

static void test_burned_then_delivered(void **state)
{
    (void)state;
    store_bridge_cctp c[2];
    routes(c);
    u256 amount;
    err e;
    assert_int_equal(u256_from_dec(&amount, "250000000000", &e), 0);
    store_bridge_leg l[2];
    burn_leg(&l[0], 9, &amount);
    store_bridge b;
    assert_true(sync_bridge_of_leg(&l[0], c, 2, &b));
    assert_string_equal(b.protocol, "cctp");
    assert_string_equal(b.state, "sent");
    assert_true(b.has_message && b.has_burn_tx);
    assert_int_equal(b.burn_block, 77);
    assert_int_equal(b.src_chain, SRC_CHAIN);
    assert_int_equal(b.dst_chain, DST_CHAIN);
    assert_int_equal(u256_cmp(&b.amount, &amount), 0);
    addr want;
    fill_addr(&want, 0x22);
    assert_true(addr_equal(&b.recipient, &want));
    fill_addr(&want, 0x33);
    assert_true(addr_equal(&b.sender, &want));
    fill_addr(&want, 0x44); /* the destination's USDC */
    assert_true(addr_equal(&b.token_dst, &want));
    assert_memory_equal(b.message, l[0].message, l[0].message_len);

    /* the delivery: a received leg of the message on the destination */
    memset(&l[1], 0, sizeof l[1]);
    l[1].chain_id = DST_CHAIN;
    l[1].received = true;
    l[1].block_number = 12;
    l[1].src_domain = SRC_DOMAIN;
    l[1].nonce = 9;
    memset(l[1].tx_hash, 0xcd, 32);
    assert_true(sync_bridge_legs_apply(&b, l, 2));
    assert_string_equal(b.state, "delivered");
    assert_int_equal(b.mint_block, 12);
    /* another message's delivery is not this one's */
    assert_true(sync_bridge_of_leg(&l[0], c, 2, &b));
    l[1].nonce = 10;
    assert_false(sync_bridge_legs_apply(&b, &l[1], 1));
    assert_string_equal(b.state, "sent");
}

static void test_refused(void **state)
{
    (void)state;
    store_bridge_cctp c[2];
    routes(c);
    u256 amount;
    err e;
    assert_int_equal(u256_from_dec(&amount, "1", &e), 0);
    store_bridge_leg l;
    store_bridge b;
    burn_leg(&l, 1, &amount);
    l.received = true; /* a delivery is no burn */
    assert_false(sync_bridge_of_leg(&l, c, 2, &b));
    burn_leg(&l, 1, &amount);
    l.message_len = 116 + 131; /* no CCTP v1 burn message */
    assert_false(sync_bridge_of_leg(&l, c, 2, &b));
    burn_leg(&l, 1, &amount);
    l.message[116 + 36] = 1; /* a recipient word that is no address */
    assert_false(sync_bridge_of_leg(&l, c, 2, &b));
    burn_leg(&l, 1, &amount);
    put_be(l.message + 8, 7, 4); /* a destination domain of none of the desk's chains */
    assert_false(sync_bridge_of_leg(&l, c, 2, &b));
    burn_leg(&l, 1, &amount);
    l.chain_id = 5; /* a source chain without the desk's bridge contracts */
    assert_false(sync_bridge_of_leg(&l, c, 2, &b));
    burn_leg(&l, 1, &amount);
    assert_false(sync_bridge_of_leg(&l, c, 1, &b)); /* the destination's route unknown */
    assert_true(sync_bridge_of_leg(&l, c, 2, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burned_then_delivered),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
