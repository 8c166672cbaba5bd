/* test_risk_load.c: unit tests of the risk input loaders (src/risk/risk_load.h): dates,
 * price files in both shapes, alignment and gaps, positions JSON, collateral terms and
 * scenarios; every error must name the file and the line. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "risk/risk_load.h"

#define assert_near(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

static risk_prices *prices_from(const char *label, const char *asset, const char *text, err *e,
                                int *rc)
{
    risk_prices *pr = risk_prices_new();
    assert_non_null(pr);
    *rc = risk_prices_add_buffer(pr, label, asset, text, strlen(text), e);
    return pr;
}

/* Expects adding text[0..len) to fail with a message containing `want`. */
static void expect_price_error_n(const char *text, size_t len, const char *want)
{
    err e;
    err_clear(&e);
    risk_prices *pr = risk_prices_new();
    assert_non_null(pr);
    int rc = risk_prices_add_buffer(pr, "p.csv", NULL, text, len, &e);
    if (rc == 0) {
        const char *names[] = {risk_prices_asset_name(pr, 0)};
        risk_panel *panel = NULL;
        rc = risk_panel_build(pr, names, 1, INT32_MIN, INT32_MAX, 0, &panel, &e);
        risk_panel_free(&panel);
    }
    risk_prices_free(&pr);
    if (rc != -1 || !strstr(e.msg, want))
        fail_msg("want error containing '%s', got rc %d '%s'", want, rc, e.msg);
}

static void expect_price_error(const char *text, const char *want)
{
    expect_price_error_n(text, strlen(text), want);
}

static void test_dates(void **state)
{
    (void)state;
    int32_t d;
    assert_int_equal(risk_date_parse("1970-01-01", &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(risk_date_parse("2000-03-01", &d), 0);
    assert_int_equal(d, 11017); /* 30 years of days incl. 8 leap days + Jan 31 + Feb 29 */
    assert_int_equal(risk_date_parse("2024-02-29", &d), 0);
    char buf[11];
    risk_date_format(d, buf);
    assert_string_equal(buf, "2024-02-29");
    risk_date_format(d + 1, buf);
    assert_string_equal(buf, "2024-03-01");
    int32_t w;
    assert_int_equal(risk_date_parse("2024-02-29 00:00:00+00:00", &w), 0);
    assert_int_equal(w, d);
    assert_int_equal(risk_date_parse("2024-02-29T00:00:00Z", &w), 0);
    assert_int_equal(risk_date_parse("2023-02-29", &w), -1);
    assert_int_equal(risk_date_parse("1900-02-29", &w), -1);
    assert_int_equal(risk_date_parse("2000-02-29", &w), 0);
    assert_int_equal(risk_date_parse("2024-13-01", &w), -1);
    assert_int_equal(risk_date_parse("2024-1-01", &w), -1);
    assert_int_equal(risk_date_parse("2024-02-29 12:00:00", &w), -1);
    assert_int_equal(risk_date_parse("2024-02-29 00:00:00+02:00", &w), -1);
    assert_int_equal(risk_date_parse("2024-02-29x", &w), -1);
    assert_int_equal(risk_date_parse("", &w), -1);
}

static void test_panel_csv(void **state)
{
    (void)state;
    err e;
    int rc;
    risk_prices *pr = prices_from("panel.csv", NULL,
                                  "date,ETH,BTC\n"
                                  "2024-01-01,2000,40000\n"
                                  "2024-01-02,2100,41000\r\n"
                                  "\n"
                                  "2024-01-03,1.9e3,\"42000\"\n",
                                  &e, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(risk_prices_asset_count(pr), 2);
    assert_string_equal(risk_prices_asset_name(pr, 0), "ETH");
    const char *want[] = {"BTC", "ETH"};
    risk_panel *p;
    assert_int_equal(risk_panel_build(pr, want, 2, INT32_MIN, INT32_MAX, 0, &p, &e), 0);
    assert_int_equal(p->n_days, 3);
    assert_string_equal(p->assets[0], "BTC");
    assert_true(p->close[0] == 40000 && p->close[1] == 2000);
    assert_true(p->close[5] == 1900);
    assert_int_equal(risk_panel_require(p, 3, &e), 0);
    assert_int_equal(risk_panel_require(p, 4, &e), -1);
    assert_string_equal(e.msg, "panel.csv:5: too few rows for the window: 3 daily closes "
                               "(2024-01-01..2024-01-03) give 2 returns, the window needs 4 "
                               "closes");
    risk_panel_free(&p);
    assert_null(p);
    /* last 2 days only */
    assert_int_equal(risk_panel_build(pr, want, 2, INT32_MIN, INT32_MAX, 2, &p, &e), 0);
    assert_int_equal(p->n_days, 2);
    assert_true(p->close[0] == 41000);
    risk_panel_free(&p);
    /* unknown asset */
    const char *nope[] = {"SOL"};
    assert_int_equal(risk_panel_build(pr, nope, 1, INT32_MIN, INT32_MAX, 0, &p, &e), -1);
    risk_prices_free(&pr);
    assert_null(pr);
}

/* Yahoo exports: Close in any column, WBTC's time suffix, USTC's null rows. */
static void test_yahoo_files(void **state)
{
    (void)state;
    err e;
    risk_prices *pr = risk_prices_new();
    assert_non_null(pr);
    const char *wbtc = "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
                       "2022-01-01 00:00:00+00:00,1,2,0.5,100,7,0.0,0.0\n"
                       "2022-01-02 00:00:00+00:00,1,2,0.5,101,7,0.0,0.0\n"
                       "2022-01-03 00:00:00+00:00,1,2,0.5,102,7,0.0,0.0\n"
                       "2022-01-04 00:00:00+00:00,1,2,0.5,103,7,0.0,0.0\n";
    const char *ustc = "Date,Open,High,Low,Close,Adj Close,Volume\n"
                       "2021-12-31,1,1,1,1.0,1.0,5\n"
                       "2022-01-01,1,1,1,0.99,0.99,5\n"
                       "2022-01-02,1,1,1,0.98,0.98,5\n"
                       "2022-01-03,null,null,null,null,null,null\n"
                       "2022-01-04,null,null,null,null,null,null\n";
    const char *eth = "Date,Close,High,Low,Open,Volume\n"
                      "2022-01-02,3000,1,1,1,123456789012345678901234567890\n"
                      "2022-01-03,3100,1,1,1,x\n";
    assert_int_equal(risk_prices_add_buffer(pr, "data/yf_WBTC-USD_1d.csv", NULL, wbtc,
                                            strlen(wbtc), &e), 0);
    assert_int_equal(risk_prices_add_buffer(pr, "x/yf_USTC-USD_1d.csv", NULL, ustc, strlen(ustc),
                                            &e), 0);
    assert_int_equal(risk_prices_add_buffer(pr, "prices.csv", "ETH", eth, strlen(eth), &e), 0);
    assert_string_equal(risk_prices_asset_name(pr, 0), "WBTC");
    assert_string_equal(risk_prices_asset_name(pr, 1), "USTC");
    assert_string_equal(risk_prices_asset_name(pr, 2), "ETH");
    /* WBTC + USTC: common dates 2022-01-01..2022-01-02 (USTC's nulls end its history) */
    const char *two[] = {"WBTC", "USTC"};
    risk_panel *p;
    assert_int_equal(risk_panel_build(pr, two, 2, INT32_MIN, INT32_MAX, 0, &p, &e), 0);
    assert_int_equal(p->n_days, 2);
    assert_true(p->close[0] == 100 && p->close[1] == 0.99 && p->close[3] == 0.98);
    risk_panel_free(&p);
    /* with ETH: only 2022-01-02 */
    const char *three[] = {"ETH", "WBTC", "USTC"};
    assert_int_equal(risk_panel_build(pr, three, 3, INT32_MIN, INT32_MAX, 0, &p, &e), 0);
    assert_int_equal(p->n_days, 1);
    risk_panel_free(&p);
    /* a date range outside the data */
    int32_t from;
    assert_int_equal(risk_date_parse("2022-01-03", &from), 0);
    assert_int_equal(risk_panel_build(pr, two, 2, from, INT32_MAX, 0, &p, &e), -1);
    assert_string_equal(e.msg, "the chosen date range has no prices: the assets share "
                               "2022-01-01..2022-01-02");
    /* assets that never overlap */
    const char *apart[] = {"ETH", "USTC"};
    risk_prices *pr2 = risk_prices_new();
    const char *late = "Date,Close\n2022-01-05,1\n";
    assert_int_equal(risk_prices_add_buffer(pr2, "yf_ETH.csv", NULL, late, strlen(late), &e), 0);
    assert_int_equal(risk_prices_add_buffer(pr2, "u.csv", "USTC", ustc, strlen(ustc), &e), 0);
    assert_int_equal(risk_panel_build(pr2, apart, 2, INT32_MIN, INT32_MAX, 0, &p, &e), -1);
    assert_string_equal(e.msg, "no dates common to all assets (ETH starts 2022-01-05 in "
                               "yf_ETH.csv, USTC ends 2022-01-02 in u.csv)");
    risk_prices_free(&pr2);
    /* the same asset twice */
    assert_int_equal(risk_prices_add_buffer(pr, "yf_ETH-USD.csv", NULL, eth, strlen(eth), &e),
                     -1);
    assert_non_null(strstr(e.msg, "already priced by prices.csv"));
    risk_prices_free(&pr);
}

static void test_price_errors(void **state)
{
    (void)state;
    expect_price_error("", "p.csv:1: empty file");
    expect_price_error("Day,ETH\n2024-01-01,1\n", "p.csv:1: no Date column");
    expect_price_error("Date\n2024-01-01\n", "p.csv:1: no asset columns");
    expect_price_error("Date,ETH,ETH\n", "p.csv:1: asset ETH appears twice");
    expect_price_error("Date,E TH\n", "p.csv:1: column 2");
    expect_price_error("Date,ETH\n", "p.csv:1: no data rows");
    expect_price_error("Date,ETH\n2024-01-01,1\n2024-01-02,1,2\n", "p.csv:3: 3 fields");
    expect_price_error("Date,ETH\n2024-01-01,1\n01/02/2024,1\n", "p.csv:3: bad date");
    expect_price_error("Date,ETH\n2024-01-02,1\n2024-01-01,1\n", "p.csv:3: date 2024-01-01 is "
                                                                  "not after");
    expect_price_error("Date,ETH\n2024-01-01,1\n2024-01-01,1\n", "p.csv:3: date 2024-01-01 is "
                                                                  "not after");
    /* non-positive prices */
    expect_price_error("Date,ETH\n2024-01-01,1\n2024-01-02,0\n", "p.csv:3: non-positive price 0 "
                                                                  "for ETH");
    expect_price_error("Date,ETH\n2024-01-01,-5\n", "p.csv:2: non-positive price -5 for ETH");
    /* NaN and friends */
    expect_price_error("Date,ETH\n2024-01-01,NaN\n", "p.csv:2: price of ETH 'NaN' is not a number");
    expect_price_error("Date,ETH\n2024-01-01,inf\n", "p.csv:2: price of ETH 'inf' is not a "
                                                      "number");
    expect_price_error("Date,ETH\n2024-01-01,0x10\n", "is not a number");
    expect_price_error("Date,ETH\n2024-01-01,1.2.3\n", "p.csv:2: price of ETH '1.2.3' is not a "
                                                        "number");
    expect_price_error("Date,ETH\n2024-01-01,12abc\n", "is not a number");
    expect_price_error("Date,ETH\n2024-01-01,1e999\n", "p.csv:2: price of ETH '1e999' is out of "
                                                        "range");
    /* a gap in the calendar and a hole in the used range */
    expect_price_error("Date,ETH\n2024-01-01,1\n2024-01-02,1\n2024-01-05,1\n",
                       "p.csv:4: missing dates 2024-01-03..2024-01-04 before 2024-01-05");
    expect_price_error("Date,ETH\n2024-01-01,1\n2024-01-02,null\n2024-01-03,1\n",
                       "p.csv:3: missing price of ETH on 2024-01-02");
    expect_price_error("Date,ETH\n2024-01-01,\n", "p.csv: asset ETH has no prices");
    expect_price_error_n("Date,ETH\n2024-01-01,1\0\n", 22, "p.csv:2: NUL byte");
}

static void test_gap_outside_range(void **state)
{
    (void)state;
    err e;
    int rc;
    /* a gap before the days used is no obstacle */
    risk_prices *pr = prices_from("g.csv", NULL,
                                  "Date,ETH\n2024-01-01,1\n2024-01-03,2\n2024-01-04,3\n"
                                  "2024-01-05,4\n",
                                  &e, &rc);
    assert_int_equal(rc, 0);
    const char *a[] = {"ETH"};
    risk_panel *p;
    assert_int_equal(risk_panel_build(pr, a, 1, INT32_MIN, INT32_MAX, 3, &p, &e), 0);
    assert_int_equal(p->n_days, 3);
    risk_panel_free(&p);
    assert_int_equal(risk_panel_build(pr, a, 1, INT32_MIN, INT32_MAX, 4, &p, &e), -1);
    assert_string_equal(e.msg, "g.csv:3: missing dates 2024-01-02..2024-01-02 before 2024-01-03 "
                               "(a gap in the daily calendar); fill it or narrow the date range");
    int32_t to;
    assert_int_equal(risk_date_parse("2024-01-04", &to), 0);
    assert_int_equal(risk_panel_build(pr, a, 1, INT32_MIN, to, 2, &p, &e), 0);
    assert_int_equal(p->n_days, 2);
    assert_true(p->close[1] == 3);
    risk_panel_free(&p);
    risk_prices_free(&pr);
}

static void test_positions(void **state)
{
    (void)state;
    const char *known[] = {"BTC", "ETH", "USDC"};
    err e;
    risk_positions *p;
    const char *ok = "{\n  \"ETH\": 2500000,\n  \"BTC\": 1e6,\n  \"USDC\": -0.5\n}\n";
    assert_int_equal(risk_positions_parse("pos.json", ok, strlen(ok), known, 3, &p, &e), 0);
    assert_int_equal(p->n, 3);
    assert_string_equal(p->assets[0], "ETH");
    assert_true(p->value[0] == 2500000 && p->value[1] == 1e6 && p->value[2] == -0.5);
    risk_positions_free(&p);
    assert_null(p);

    struct {
        const char *text;
        const char *want;
    } bad[] = {
        {"{\n \"ETH\": 1,\n\n \"SOL\": 2\n}", "pos.json:4: unknown asset SOL: no price column"},
        {"{\"ETH\": {\"x\": 1},\n \"BTC\": \"1\"}", "pos.json:1: value of ETH must be a number"},
        {"{\"ETH\": 1,\n \"BTC\": \"12\"}", "pos.json:2: value of BTC must be a number"},
        {"{\"ETH\": 1,\n \"BTC\": NaN}", "pos.json:2:"},
        {"{\"ETH\": 1,\n \"BTC\": 1e999}", "pos.json:2:"},
        {"{\"ETH\": 1, \"ETH\": 2}", "pos.json:1: duplicate object key"},
        {"[1, 2]", "pos.json:1: positions must be a JSON object"},
        {"{}", "pos.json:1: no positions"},
        {"{\"ETH\": 1,\n\n\n", "pos.json:4:"},
        {"{\"a b\": 1}", "pos.json:1: 'a b' is not an asset name"},
        {"{\"ETH\": [1, {\"x\": \"y,\\\"\"}],\n \"Q\": 1}", "pos.json:1: value of ETH"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err_clear(&e);
        int rc = risk_positions_parse("pos.json", bad[i].text, strlen(bad[i].text), known, 3, &p,
                                      &e);
        if (rc != -1 || !strstr(e.msg, bad[i].want))
            fail_msg("case %zu: want '%s', got rc %d '%s'", i, bad[i].want, rc, e.msg);
        assert_null(p);
    }
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/fusion-risk-test-XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

static void test_collateral(void **state)
{
    (void)state;
    char *path = write_temp("# comment\nasset,haircut_pct,liq_threshold_pct,source\n"
                            "ETH,20,83,x\n# another\nBTC,28,82,y\nSOL,40,60,z\n");
    const char *assets[] = {"BTC", "ETH"};
    risk_collateral t[2];
    err e;
    assert_int_equal(risk_collateral_load(path, assets, 2, t, &e), 0);
    assert_near(t[0].haircut, 0.28, 1e-15);
    assert_near(t[0].liq_threshold, 0.82, 1e-15);
    assert_near(t[1].haircut, 0.20, 1e-15);
    const char *more[] = {"BTC", "ARB"};
    assert_int_equal(risk_collateral_load(path, more, 2, t, &e), -1);
    assert_non_null(strstr(e.msg, "no collateral terms for asset ARB"));
    unlink(path);
    free(path);

    path = write_temp("asset,haircut_pct,liq_threshold_pct\nETH,20,70\n");
    assert_int_equal(risk_collateral_load(path, assets + 1, 1, t, &e), -1);
    assert_non_null(strstr(e.msg, ":2: liquidation threshold of ETH is below its LTV"));
    unlink(path);
    free(path);
    path = write_temp("asset,haircut_pct,liq_threshold_pct\nETH,120,70\n");
    assert_int_equal(risk_collateral_load(path, assets + 1, 1, t, &e), -1);
    assert_non_null(strstr(e.msg, ":2: haircut_pct 120 is outside"));
    unlink(path);
    free(path);
}

static void test_scenarios(void **state)
{
    (void)state;
    char *path = write_temp("# moves\nscenario,kind,window,asset,move_pct,low_pct,basis\n"
                            "crash,historical,a..b,ETH,-40,-45,m\n"
                            "crash,historical,a..b,BTC,-30,,m\n"
                            "crash,historical,a..b,SOL,-50,,m\n"
                            "calm,hypothetical,,BTC,0,,h\n"
                            "calm,hypothetical,,ETH,1.5,,h\n");
    const char *assets[] = {"BTC", "ETH"};
    risk_scenarios *s;
    err e;
    assert_int_equal(risk_scenarios_load(path, assets, 2, 0, &s, &e), 0);
    assert_int_equal(s->n, 2);
    assert_string_equal(s->name[0], "crash");
    assert_string_equal(s->kind[1], "hypothetical");
    assert_string_equal(s->span[0], "a..b");
    assert_near(s->move[0], -0.30, 1e-15);
    assert_near(s->move[1], -0.40, 1e-15);
    assert_near(s->move[3], 0.015, 1e-15);
    risk_scenarios_free(&s);
    assert_null(s);
    assert_int_equal(risk_scenarios_load(path, assets, 2, 1, &s, &e), 0);
    assert_near(s->move[0], -0.30, 1e-15); /* no low given: the close move */
    assert_near(s->move[1], -0.45, 1e-15);
    risk_scenarios_free(&s);
    const char *more[] = {"SOL", "BTC"};
    assert_int_equal(risk_scenarios_load(path, more, 2, 0, &s, &e), -1);
    assert_non_null(strstr(e.msg, ":6: scenario calm has no move for asset SOL"));
    unlink(path);
    free(path);
    path = write_temp("scenario,asset,move_pct\nx,BTC,-120\n");
    assert_int_equal(risk_scenarios_load(path, assets, 1, 0, &s, &e), -1);
    assert_non_null(strstr(e.msg, ":2: move_pct -120 is outside"));
    unlink(path);
    free(path);
    path = write_temp("scenario,asset,move_pct\nx,BTC,-10\nx,BTC,-20\n");
    assert_int_equal(risk_scenarios_load(path, assets, 1, 0, &s, &e), -1);
    assert_non_null(strstr(e.msg, ":3: second move for BTC"));
    unlink(path);
    free(path);
}

/* The shipped tables load and cover every shipped price asset. */
static void test_shipped_tables(void **state)
{
    (void)state;
    const char *root = getenv("FUSION_ROOT");
    assert_non_null(root);
    char c[4096], s[4096];
    snprintf(c, sizeof c, "%s/data/risk/collateral.csv", root);
    snprintf(s, sizeof s, "%s/data/risk/scenarios.csv", root);
    const char *assets[] = {"BTC", "WBTC", "ETH", "MATIC", "AVAX", "LINK",
                            "USDC", "USDT", "DAI", "USTC", "ARB"};
    risk_collateral t[11];
    err e;
    assert_int_equal(risk_collateral_load(c, assets, 11, t, &e), 0);
    assert_near(t[2].haircut, 0.20, 1e-15); /* ETH: LTV 80 */
    assert_near(t[6].liq_threshold, 0.885, 1e-15); /* USDC: LT 88.5 */
    risk_scenarios *sc;
    assert_int_equal(risk_scenarios_load(s, assets, 11, 0, &sc, &e), 0);
    assert_int_equal(sc->n, 10);
    assert_string_equal(sc->name[0], "black_thursday_2020");
    assert_near(sc->move[0], -0.372, 1e-15); /* BTC on Black Thursday */
    risk_scenarios_free(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),          cmocka_unit_test(test_panel_csv),
        cmocka_unit_test(test_yahoo_files),    cmocka_unit_test(test_price_errors),
        cmocka_unit_test(test_gap_outside_range), cmocka_unit_test(test_positions),
        cmocka_unit_test(test_collateral),     cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_shipped_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
