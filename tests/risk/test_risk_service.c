/* test_risk_service.c: unit tests of the risk service's desk side on real SQLite files: the
 * alert life cycle (raise once, refresh, clear, re-raise as a new alert, acknowledgement and
 * its reset on escalation), oracle rounds stored once, feeds, settings, the limits file
 * (values and errors naming file:line) and a refresh of an empty desk. The live half with a
 * chain is tests/integration/risk_live.py. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "risk/service.h"
#include "store/store.h"

typedef struct fixture {
    char dir[64];
    char db[128];
    store *s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/fusion-risk-svc-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/desk.db", f->dir);
    err e;
    if (store_open(&f->s, f->db, &e) < 0)
        fail_msg("store_open: %s", e.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(&f->s);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static store_alert_cond cond(const char *key, alert_severity sv, const char *msg, double v)
{
    store_alert_cond c;
    memset(&c, 0, sizeof c);
    snprintf(c.key, sizeof c.key, "%s", key);
    snprintf(c.kind, sizeof c.kind, "test");
    c.severity = sv;
    snprintf(c.message, sizeof c.message, "%s", msg);
    c.value = v;
    c.limit = NAN;
    return c;
}

static const store_alert *find(const store_alert *a, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i].key, key) == 0)
            return &a[i];
    fail_msg("no alert with key %s", key);
    abort();
}

static void test_alert_lifecycle(void **state)
{
    fixture *f = *state;
    err e;
    size_t raised, cleared, n;
    store_alert *al = NULL;
    store_alert_cond c2[2] = {cond("var_limit", ALERT_WARNING, "VaR above", 10.0),
                              cond("stale:1", ALERT_WARNING, "stale", NAN)};
    assert_int_equal(store_alert_sync(f->s, c2, 2, 100, &raised, &cleared, &e), 0);
    assert_int_equal(raised, 2);
    assert_int_equal(cleared, 0);
    assert_int_equal(store_alert_list(f->s, false, &al, &n, &e), 0);
    assert_int_equal(n, 2);
    int64_t var_id = find(al, n, "var_limit")->id;
    assert_true(isnan(find(al, n, "stale:1")->value));
    free(al);

    /* The VaR condition persists with a new value; the stale one went away. */
    store_alert_cond c1 = cond("var_limit", ALERT_WARNING, "VaR above again", 12.5);
    assert_int_equal(store_alert_sync(f->s, &c1, 1, 200, &raised, &cleared, &e), 0);
    assert_int_equal(raised, 0);
    assert_int_equal(cleared, 1);
    assert_int_equal(store_alert_list(f->s, false, &al, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(al[0].id, var_id);
    assert_string_equal(al[0].message, "VaR above again");
    assert_true(al[0].value == 12.5);
    assert_int_equal(al[0].raised_at, 100);
    assert_int_equal(al[0].updated_at, 200);
    free(al);

    /* Acknowledged; the same severity keeps the acknowledgement, a higher one resets it. */
    bool found;
    assert_int_equal(store_alert_ack(f->s, var_id, "alice", 250, &found, &e), 0);
    assert_true(found);
    assert_int_equal(store_alert_ack(f->s, 9999, "alice", 250, &found, &e), 0);
    assert_false(found);
    assert_int_equal(store_alert_sync(f->s, &c1, 1, 300, NULL, NULL, &e), 0);
    store_alert a;
    assert_int_equal(store_alert_get(f->s, var_id, &a, &found, &e), 0);
    assert_true(found);
    assert_int_equal(a.acked_at, 250);
    assert_string_equal(a.acked_by, "alice");
    c1.severity = ALERT_CRITICAL;
    assert_int_equal(store_alert_sync(f->s, &c1, 1, 400, NULL, NULL, &e), 0);
    assert_int_equal(store_alert_get(f->s, var_id, &a, &found, &e), 0);
    assert_int_equal(a.severity, ALERT_CRITICAL);
    assert_int_equal(a.acked_at, 0);

    /* Gone, then back: the old alert stays cleared, a new one is raised. */
    assert_int_equal(store_alert_sync(f->s, NULL, 0, 500, &raised, &cleared, &e), 0);
    assert_int_equal(cleared, 1);
    assert_int_equal(store_alert_list(f->s, false, &al, &n, &e), 0);
    assert_int_equal(n, 0);
    free(al);
    assert_int_equal(store_alert_sync(f->s, &c1, 1, 600, &raised, &cleared, &e), 0);
    assert_int_equal(raised, 1);
    assert_int_equal(store_alert_list(f->s, true, &al, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_true(al[0].id != var_id && al[0].cleared_at == 0);
    assert_int_equal(find(al + 1, n - 1, "var_limit")->cleared_at, 500);
    free(al);
}

static void test_feeds_rounds_settings(void **state)
{
    fixture *f = *state;
    err e;
    store_chain ch = {.chain_id = 5, .native_decimals = 18};
    snprintf(ch.name, sizeof ch.name, "test");
    snprintf(ch.native_symbol, sizeof ch.native_symbol, "ETH");
    assert_int_equal(store_chain_add(f->s, &ch, &e), 0);
    store_feed fd = {.chain_id = 5, .decimals = 8};
    assert_int_equal(addr_parse(&fd.address, "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", &e), 0);
    snprintf(fd.asset, sizeof fd.asset, "ETH");
    assert_int_equal(store_feed_put(f->s, &fd, &e), 0);
    fd.max_age = 60;
    assert_int_equal(store_feed_put(f->s, &fd, &e), 0); /* an update, not a second feed */
    store_feed *fl = NULL;
    size_t n;
    assert_int_equal(store_feed_list(f->s, 0, &fl, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(fl[0].max_age, 60);
    free(fl);
    store_contract *cl = NULL;
    assert_int_equal(store_contract_list(f->s, 5, &cl, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(cl[0].kind, STORE_CONTRACT_FEED);
    free(cl);

    store_price_obs o = {.chain_id = 5, .feed = fd.address, .updated_at = 1000};
    snprintf(o.round_id, sizeof o.round_id, "18446744073709551617");
    snprintf(o.answer, sizeof o.answer, "-5");
    bool ins;
    assert_int_equal(store_price_obs_put(f->s, &o, &ins, &e), 0);
    assert_true(ins);
    assert_int_equal(store_price_obs_put(f->s, &o, &ins, &e), 0);
    assert_false(ins);
    store_price_obs *ol = NULL;
    assert_int_equal(store_price_obs_list(f->s, 5, &fd.address, &ol, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ol[0].answer, "-5");
    assert_string_equal(ol[0].round_id, "18446744073709551617");
    free(ol);

    char v[32];
    bool found;
    assert_int_equal(store_setting_get(f->s, "drawn_usd", v, sizeof v, &found, &e), 0);
    assert_false(found);
    assert_int_equal(store_setting_put(f->s, "drawn_usd", "100.50", "bob", &e), 0);
    assert_int_equal(store_setting_get(f->s, "drawn_usd", v, sizeof v, &found, &e), 0);
    assert_true(found);
    assert_string_equal(v, "100.50");
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void expect_limits_error(const char *dir, const char *text, const char *want)
{
    char path[128];
    snprintf(path, sizeof path, "%s/limits.csv", dir);
    write_file(path, text);
    risk_limits l;
    err e;
    err_clear(&e);
    assert_int_equal(risk_limits_load(path, &l, &e), -1);
    if (!strstr(e.msg, want))
        fail_msg("want '%s' in '%s'", want, e.msg);
}

static void test_limits_file(void **state)
{
    fixture *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/limits.csv", f->dir);
    write_file(path, "# desk limits\nlimit,value\nvar_1d_usd,250000\nasset_share,0.5\n"
                     "margin_call_hf,1.25\nprice_max_age_s,900\n");
    risk_limits l;
    err e;
    assert_int_equal(risk_limits_load(path, &l, &e), 0);
    assert_true(l.var_1d == 250000.0 && l.asset_share == 0.5 && l.margin_call_hf == 1.25);
    assert_int_equal(l.price_max_age, 900);
    assert_int_equal(l.sync_lag_blocks, 100); /* default kept */
    assert_true(l.es_1d == 0.0);
    expect_limits_error(f->dir, "limit,value\nvar_1d,5\n", "limits.csv:2: unknown limit 'var_1d'");
    expect_limits_error(f->dir, "limit,value\nasset_share,0.5\nasset_share,0.6\n",
                        "limits.csv:3: asset_share is given twice");
    expect_limits_error(f->dir, "limit,value\nchain_share,1.5\n", "limits.csv:2: chain_share");
    expect_limits_error(f->dir, "limit,value\nmargin_call_hf,0.9\n", "limits.csv:2:");
    expect_limits_error(f->dir, "limit,value\nvar_1d_usd,nan\n", "limits.csv:2: var_1d_usd value");
    expect_limits_error(f->dir, "name,value\n", "limits.csv:1: the header");
}

static void test_refresh_empty_desk(void **state)
{
    fixture *f = *state;
    const char *root = getenv("FUSION_ROOT");
    if (!root)
        skip();
    char limits[512], prices[512];
    snprintf(limits, sizeof limits, "%s/data/risk/limits.csv", root);
    snprintf(prices, sizeof prices, "%s/data/prices", root);
    risk_service_opts o;
    risk_service_opts_default(&o);
    o.home = f->dir;
    o.limits_path = limits;
    o.prices_dir = prices;
    o.now = 1700000000;
    risk_snapshot *snap = NULL;
    err e;
    /* A pre-trade check's refresh (no_alert_sync): the condition is computed, no alert is
     * raised. */
    o.no_alert_sync = true;
    if (risk_service_refresh(f->s, &o, &snap, &e) < 0)
        fail_msg("refresh: %s", e.msg);
    bool held = false;
    for (size_t i = 0; i < snap->n_conds; i++)
        held = held || strcmp(snap->conds[i].key, "no_accounts") == 0;
    assert_true(held);
    assert_int_equal(snap->raised, 0);
    assert_int_equal(snap->n_alerts, 0);
    risk_snapshot_free(&snap);
    o.no_alert_sync = false;
    if (risk_service_refresh(f->s, &o, &snap, &e) < 0)
        fail_msg("refresh: %s", e.msg);
    assert_int_equal(snap->n_pos, 0);
    assert_false(snap->has_report);
    assert_true(strlen(snap->report_note) > 0);
    assert_int_equal(find(snap->alerts, snap->n_alerts, "no_accounts")->severity, ALERT_INFO);
    assert_int_equal(snap->raised, 1);
    risk_snapshot_free(&snap);
    assert_null(snap);
    /* The same state again raises nothing new. */
    assert_int_equal(risk_service_refresh(f->s, &o, &snap, &e), 0);
    assert_int_equal(snap->raised, 0);
    assert_int_equal(snap->n_alerts, 1);
    risk_snapshot_free(&snap);
}

/* A chain whose node is not configured: positions come from the escrow projection only, the
 * price from the stored oracle rounds, and the history of shipped closes is extended by the
 * observed rounds for the days that follow on without a gap. */
static void test_refresh_history_from_rounds(void **state)
{
    fixture *f = *state;
    const char *root = getenv("FUSION_ROOT");
    if (!root)
        skip();
    err e;
    int32_t d0;
    assert_int_equal(risk_date_parse("2026-01-10", &d0), 0);
    char dir[128], path[192];
    snprintf(dir, sizeof dir, "%s/prices", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof path, "%s/yf_ETH-USD_1d.csv", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "Date,Close\n");
    double closes[40];
    for (int i = 0; i < 40; i++) {
        char day[11];
        risk_date_format(d0 - 39 + i, day);
        closes[i] = 2000.0 * exp(0.03 * sin(1.7 * i) + 0.001 * i);
        fprintf(fp, "%s,%.10f\n", day, closes[i]);
    }
    fclose(fp);

    store_chain ch = {.chain_id = 5, .native_decimals = 18};
    snprintf(ch.name, sizeof ch.name, "offline");
    snprintf(ch.native_symbol, sizeof ch.native_symbol, "ETH");
    assert_int_equal(store_chain_add(f->s, &ch, &e), 0);
    store_feed fd = {.chain_id = 5, .decimals = 8};
    assert_int_equal(addr_parse(&fd.address, "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", &e), 0);
    snprintf(fd.asset, sizeof fd.asset, "ETH");
    assert_int_equal(store_feed_put(f->s, &fd, &e), 0);
    /* rounds: two on day 1 (the later wins), one on day 2, none on day 3, one on day 4 */
    struct { const char *rid, *ans; int64_t t; } rounds[] = {
        {"1", "210000000000", (int64_t)(d0 + 1) * 86400 + 43200},
        {"2", "211000000000", (int64_t)(d0 + 1) * 86400 + 64800},
        {"3", "212000000000", (int64_t)(d0 + 2) * 86400 + 3600},
        {"4", "220000000000", (int64_t)(d0 + 4) * 86400 + 3600},
    };
    for (size_t i = 0; i < 4; i++) {
        store_price_obs o = {.chain_id = 5, .feed = fd.address, .updated_at = rounds[i].t};
        snprintf(o.round_id, sizeof o.round_id, "%s", rounds[i].rid);
        snprintf(o.answer, sizeof o.answer, "%s", rounds[i].ans);
        assert_int_equal(store_price_obs_put(f->s, &o, NULL, &e), 0);
    }
    addr desk, other;
    assert_int_equal(addr_parse(&desk, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", &e), 0);
    assert_int_equal(addr_parse(&other, "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", &e), 0);
    store_escrow x;
    memset(&x, 0, sizeof x);
    x.chain_id = 5;
    x.address = fd.address;
    x.address.b[0] ^= 0x55;
    x.payer = desk;
    x.payee = other;
    x.state = ESCROW_FUNDED;
    x.amount = u256_from_u64(3000000000000000000ULL);
    x.funded = x.amount;
    x.threshold = 1;
    assert_int_equal(store_escrow_put(f->s, &x, &e), 0);

    char limits[512];
    snprintf(limits, sizeof limits, "%s/data/risk/limits.csv", root);
    risk_service_opts o;
    risk_service_opts_default(&o);
    o.limits_path = limits;
    o.prices_dir = dir;
    o.extra_accounts = &desk;
    o.n_extra = 1;
    o.params.window = 10;
    o.params.backtest_days = 5;
    o.params.mc.paths = 1000;
    o.now = rounds[3].t + 600;
    risk_snapshot *snap = NULL;
    if (risk_service_refresh(f->s, &o, &snap, &e) < 0)
        fail_msg("refresh: %s", e.msg);
    assert_int_equal(snap->n_pos, 1);
    assert_int_equal(snap->pos[0].kind, RISK_POS_ESCROW_LOCKED);
    assert_true(addr_equal(&snap->pos[0].counterparty, &other));
    /* Price: the newest stored round (2200), fresh at `now`. */
    assert_int_equal(snap->n_prices, 1);
    assert_true(snap->prices[0].oracle && !snap->prices[0].stale);
    assert_string_equal(snap->prices[0].round_id, "4");
    assert_true(snap->pos[0].usd == 3.0 * 2200.0);
    /* History: the shipped 40 days plus days 1 and 2 from the rounds (day 3 is missing). */
    assert_true(snap->has_report);
    assert_int_equal(snap->hist_last, d0 + 2);
    assert_int_equal(snap->hist_observed_days, 2);
    /* The historical VaR over the last 10 returns, by hand (numpy's linear quantile). */
    double px[42];
    memcpy(px, closes, sizeof closes);
    px[40] = 2110.0;
    px[41] = 2120.0;
    double loss[10];
    for (int t = 0; t < 10; t++)
        loss[t] = -6600.0 * expm1(log(px[31 + t + 1] / px[31 + t]));
    for (int i = 0; i < 10; i++)
        for (int j = i + 1; j < 10; j++)
            if (loss[j] < loss[i]) {
                double tmp = loss[i];
                loss[i] = loss[j];
                loss[j] = tmp;
            }
    double h = 9 * 0.99;
    int lo = (int)floor(h);
    double want = loss[lo] + (h - lo) * (loss[lo + 1] - loss[lo]);
    double got = snap->report.hist.d1.var;
    if (fabs(got - want) > 1e-9 * fabs(want))
        fail_msg("VaR %.12g, by hand %.12g", got, want);
    /* The Dashboard's sparkline: the last 8 closes as the VaR reads them (6 shipped, then
     * the two observed days), ending on hist_last; the VaR history ends on today's VaR. */
    assert_int_equal(snap->n_assets, 1);
    assert_int_equal(snap->assets[0].n_spark, RISK_SPARK_DAYS);
    assert_int_equal(snap->assets[0].spark_last_day, d0 + 2);
    for (int i = 0; i < 8; i++)
        assert_true(fabs(snap->assets[0].spark[i] - px[34 + i]) < 1e-9 * px[34 + i]);
    assert_true(snap->report.n_var_hist >= 2);
    assert_true(snap->report.var_hist[snap->report.n_var_hist - 1] == got);
    /* The unreachable chain is a critical alert. */
    assert_int_equal(find(snap->alerts, snap->n_alerts, "chain_down:5")->severity, ALERT_CRITICAL);
    risk_snapshot_free(&snap);

    /* A desk replaying the past (the demo) names its day: no close after it is read, by
     * the VaR, the sparkline or the observed rounds. */
    char until[11];
    risk_date_format(d0 - 5, until);
    assert_int_equal(store_setting_put(f->s, "risk_history_until", until, "demo", &e), 0);
    assert_int_equal(risk_service_refresh(f->s, &o, &snap, &e), 0);
    assert_true(snap->has_report);
    assert_int_equal(snap->hist_last, d0 - 5);
    assert_int_equal(snap->hist_observed_days, 0);
    assert_int_equal(snap->assets[0].spark_last_day, d0 - 5);
    assert_true(fabs(snap->assets[0].spark[RISK_SPARK_DAYS - 1] - closes[34]) < 1e-9 * closes[34]);
    risk_snapshot_free(&snap);
    assert_int_equal(store_setting_put(f->s, "risk_history_until", "", "demo", &e), 0);

    /* Much later, the stored round is stale. */
    o.now = rounds[3].t + 7200;
    assert_int_equal(risk_service_refresh(f->s, &o, &snap, &e), 0);
    assert_true(snap->prices[0].stale);
    find(snap->alerts, snap->n_alerts, "stale_price:5:0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0");
    risk_snapshot_free(&snap);
}

/* The desk's drawn amount (risk set-drawn) that is not a number >= 0 refuses the refresh:
 * never a drawn amount of 0 (an infinite health factor, no margin call). */
static void test_refresh_drawn_setting(void **state)
{
    fixture *f = *state;
    const char *root = getenv("FUSION_ROOT");
    if (!root)
        skip();
    char limits[512], prices[512];
    snprintf(limits, sizeof limits, "%s/data/risk/limits.csv", root);
    snprintf(prices, sizeof prices, "%s/data/prices", root);
    risk_service_opts o;
    risk_service_opts_default(&o);
    o.home = f->dir;
    o.limits_path = limits;
    o.prices_dir = prices;
    o.now = 1700000000;
    o.no_alert_sync = true;
    risk_snapshot *snap = NULL;
    err e;
    static const char *const bad[] = {"abc", "-5", "", "12x", "nan", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(store_setting_put(f->s, "drawn_usd", bad[i], "bob", &e), 0);
        if (risk_service_refresh(f->s, &o, &snap, &e) == 0)
            fail_msg("drawn_usd '%s' was taken as %g", bad[i], snap->drawn);
        assert_non_null(strstr(e.msg, "risk set-drawn"));
        assert_null(snap);
    }
    assert_int_equal(store_setting_put(f->s, "drawn_usd", "250.5", "bob", &e), 0);
    if (risk_service_refresh(f->s, &o, &snap, &e) < 0)
        fail_msg("refresh: %s", e.msg);
    assert_true(snap->drawn == 250.5);
    risk_snapshot_free(&snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alert_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feeds_rounds_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_empty_desk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_history_from_rounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_drawn_setting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
