/* test_pretrade.c: risk_pretrade_check over hand-made snapshots, numbers checked by hand:
 * an escrow that takes a counterparty above its share, a bridge transfer that takes the
 * destination chain above its share (the source, already above, falls: not refused), a
 * release that takes the other asset's share up, the scaled VaR estimate (lower after a
 * release: not refused), limits at 0 (off) and an asset without a price (not checked). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "risk/service.h"

/* The book: chain A (1): 600 USDC in the wallet, 100 USDC locked in an escrow with X;
 * chain B (2): 0.2 ETH at 2000 USD. Gross 1100 USD; USDC 700, ETH 400; A 700, B 400. */
typedef struct book {
    risk_snapshot s;
    risk_chain_status ch[2];
    risk_position pos[3];
    risk_price_info px[2];
    risk_asset_value av[2];
    addr x, y;
} book;

static void set_book(book *b)
{
    memset(b, 0, sizeof *b);
    memset(b->x.b, 0x11, 20);
    memset(b->y.b, 0x22, 20);
    b->ch[0].chain_id = 1;
    snprintf(b->ch[0].name, sizeof b->ch[0].name, "A");
    b->ch[1].chain_id = 2;
    snprintf(b->ch[1].name, sizeof b->ch[1].name, "B");
    snprintf(b->px[0].asset, sizeof b->px[0].asset, "USDC");
    b->px[0].usd = 1.0;
    snprintf(b->px[1].asset, sizeof b->px[1].asset, "ETH");
    b->px[1].usd = 2000.0;
    risk_position *p = b->pos;
    p[0] = (risk_position){.chain_id = 1, .kind = RISK_POS_WALLET, .usd = 600.0};
    snprintf(p[0].asset, sizeof p[0].asset, "USDC");
    p[1] = (risk_position){.chain_id = 1, .kind = RISK_POS_ESCROW_LOCKED, .usd = 100.0,
                           .counterparty = b->x};
    snprintf(p[1].asset, sizeof p[1].asset, "USDC");
    p[2] = (risk_position){.chain_id = 2, .kind = RISK_POS_WALLET, .usd = 400.0};
    snprintf(p[2].asset, sizeof p[2].asset, "ETH");
    snprintf(b->av[0].asset, sizeof b->av[0].asset, "USDC");
    b->av[0].usd = 700.0;
    b->av[0].in_var = true;
    snprintf(b->av[1].asset, sizeof b->av[1].asset, "ETH");
    b->av[1].usd = 400.0;
    b->av[1].in_var = true;
    b->s.chains = b->ch;
    b->s.n_chains = 2;
    b->s.pos = b->pos;
    b->s.n_pos = 3;
    b->s.prices = b->px;
    b->s.n_prices = 2;
    b->s.assets = b->av;
    b->s.n_assets = 2;
    b->s.gross_usd = 1100.0;
}

static risk_move usdc(unsigned long long whole)
{
    risk_move m;
    memset(&m, 0, sizeof m);
    m.asset = "USDC";
    m.amount = u256_from_u64(whole * 1000000ULL);
    m.decimals = 6;
    m.from_chain_id = 1;
    return m;
}

static void test_escrow_counterparty(void **state)
{
    (void)state;
    book b;
    set_book(&b);
    b.s.limits.counterparty_share = 0.25;
    b.s.limits.chain_share = 0.8;
    b.s.limits.asset_share = 0.7;
    risk_move m = usdc(300);
    m.to_counterparty = true;
    m.counterparty_to = b.y;
    risk_pretrade r;
    err e;
    assert_int_equal(risk_pretrade_check(&b.s, &m, &r, &e), 0);
    assert_true(r.priced);
    assert_true(fabs(r.usd - 300.0) < 1e-9);
    assert_true(fabs(r.gross_after - 1100.0) < 1e-9); /* still the desk's, locked */
    assert_int_equal(r.n_breach, 1);
    assert_int_equal(r.breach[0].kind, RISK_BREACH_COUNTERPARTY);
    assert_string_equal(r.breach[0].name, "0x2222222222222222222222222222222222222222");
    assert_true(fabs(r.breach[0].before - 0.0) < 1e-12);
    assert_true(fabs(r.breach[0].after - 300.0 / 1100.0) < 1e-12); /* 27.3 % */
    assert_true(fabs(r.breach[0].limit - 0.25) < 1e-12);
    char line[512];
    risk_pretrade_format(line, sizeof line, &r);
    assert_string_equal(line, "counterparty 0x2222222222222222222222222222222222222222 "
                              "0.0% -> 27.3% (limit 25.0%)");
    /* 250 USDC: 22.7 %, within */
    m = usdc(250);
    m.to_counterparty = true;
    m.counterparty_to = b.y;
    assert_int_equal(risk_pretrade_check(&b.s, &m, &r, &e), 0);
    assert_int_equal(r.n_breach, 0);
    /* more to X, who already has 100: 100 + 200 = 300 of 1100 */
    m = usdc(200);
    m.to_counterparty = true;
    m.counterparty_to = b.x;
    assert_int_equal(risk_pretrade_check(&b.s, &m, &r, &e), 0);
    assert_int_equal(r.n_breach, 1);
    assert_true(fabs(r.breach[0].before - 100.0 / 1100.0) < 1e-12);
    assert_true(fabs(r.breach[0].after - 300.0 / 1100.0) < 1e-12);
    /* the limit off (0): nothing */
    b.s.limits.counterparty_share = 0.0;
    assert_int_equal(risk_pretrade_check(&b.s, &m, &r, &e), 0);
    assert_int_equal(r.n_breach, 0);
}

static void test_bridge_chain(void **state)
{
    (void)state;
    book b;
    set_book(&b);
    b.s.limits.chain_share = 0.6;
    risk_move m = usdc(300);
    m.to_chain_id = 2;
    risk_pretrade r;
    err e;
    assert_int_equal(risk_pretrade_check(&b.s, &m, &r, &e), 0);
    /* A 700 -> 400 (63.6 % -> 36.4 %: above the limit before, falls: not refused);
     * B 400 -> 700 (36.4 % -> 63.6 %): refused */
    assert_int_equal(r.n_breach, 1);
    assert_int_equal(r.breach[0].kind, RISK_BREACH_CHAIN);
    assert_string_equal(r.breach[0].name, "B");
    assert_true(fabs(r.breach[0].before - 400.0 / 1100.0) < 1e-12);
    assert_true(fabs(r.breach[0].after - 700.0 / 1100.0) < 1e-12);
    /* 200: B 600 / 1100 = 54.5 % */
    m = usdc(200);
    m.to_chain_id = 2;
    assert_int_equal(risk_pretrade_check(&b.s, &m, &r, &e), 0);
    assert_int_equal(r.n_breach, 0);
}

static void test_release_others_rise_var_estimate(void **state)
{
    (void)state;
    book b;
    set_book(&b);
    b.s.limits.asset_share = 0.38;
    b.s.limits.var_1d = 40.0;
    b.s.has_report = true;
    b.s.report.hist.d1.var = 50.0;
    risk_move m = usdc(100);
    m.leaves_book = true;
    m.from_counterparty = true;
    m.counterparty_from = b.x;
    risk_pretrade r;
    err e;
    assert_int_equal(risk_pretrade_check(&b.s, &m, &r, &e), 0);
    assert_true(fabs(r.gross_after - 1000.0) < 1e-9);
    /* USDC 700/1100 -> 600/1000 falls; ETH 400/1100 = 36.4 % -> 400/1000 = 40 %: refused.
     * VaR 50 -> 50 x 1000/1100 = 45.45: above 40 but lower: not refused. */
    assert_int_equal(r.n_breach, 1);
    assert_int_equal(r.breach[0].kind, RISK_BREACH_ASSET);
    assert_string_equal(r.breach[0].name, "ETH");
    assert_true(fabs(r.breach[0].before - 400.0 / 1100.0) < 1e-12);
    assert_true(fabs(r.breach[0].after - 0.4) < 1e-12);
    /* a VaR limit the book is already above, the asset limit off: a release is never
     * refused for VaR (the scaled estimate falls) */
    b.s.limits.asset_share = 0.0;
    assert_int_equal(risk_pretrade_check(&b.s, &m, &r, &e), 0);
    assert_int_equal(r.n_breach, 0);
}

static void test_unpriced(void **state)
{
    (void)state;
    book b;
    set_book(&b);
    b.s.limits.counterparty_share = 0.01;
    risk_move m = usdc(300);
    m.asset = "DAI";
    m.to_counterparty = true;
    m.counterparty_to = b.y;
    risk_pretrade r;
    err e;
    assert_int_equal(risk_pretrade_check(&b.s, &m, &r, &e), 0);
    assert_false(r.priced);
    assert_int_equal(r.n_breach, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escrow_counterparty),
        cmocka_unit_test(test_bridge_chain),
        cmocka_unit_test(test_release_others_rise_var_estimate),
        cmocka_unit_test(test_unpriced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
