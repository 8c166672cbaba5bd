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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alert_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feeds_rounds_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_empty_desk, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
