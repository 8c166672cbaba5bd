/* scr_dashboard.c: screen 1, Dashboard: portfolio by asset and chain, the risk figures
 * (VaR/ES, credit line, health factor, with the 7-day price and VaR history sparklines)
 * and the live alert list. `w` moves the focus between the portfolio and the alerts;
 * navigation acts on the focused one, Enter opens a portfolio row's exact detail (Esc
 * closes it) and `a` acknowledges the selected alert. Every figure says as of when. The figures come from the risk service
 * (src/risk/service.h), refreshed by the desk's risk worker off the loop (ui/desk.c);
 * until its first refresh, or without a desk, the panels say why they are empty. The
 * alerts heading also counts the open compliance cases (screen 4 works them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "base/amount.h"
#include "compliance/compliance.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "desk.h"
#include "desk/desk.h"
#include "notify.h"
#include "risk/service.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column portfolio_cols[] = {
    {"Asset", 5, 18, 0}, /* "USDC (in flight)", "WETH (escrow)" whole */
    {"Chain", 5, 12, 0},
    {"Balance", 8, 24, UI_COL_RIGHT},
    {"Price USD", 9, 14, UI_COL_RIGHT},
    {"Value USD", 9, 16, UI_COL_RIGHT},
    {"7d", 7, 14, UI_COL_GROW},
};

static const ui_column alert_cols[] = {
    {"Time (UTC)", 10, 19, 0},
    {"Severity", 8, 12, 0},
    {"Alert", 10, 0, UI_COL_GROW},
};

typedef struct dash {
    ui_table portfolio;
    ui_table alerts;
    char filter[UI_FILTER_MAX];
    ui_desk *desk;
    ui_app *app;
    risk_snapshot *snap;
    risk_position *agg; /* snap's positions summed per chain, asset and kind (all accounts) */
    size_t n_agg;
    char error[ERR_MSG_MAX];
    size_t *alert_ix; /* alerts matching the filter, newest first */
    size_t n_alert_ix;
    bool have_cases;
    size_t cases_open, cases_high; /* open compliance cases, and of those priority high */
    int64_t high_seen; /* the newest high case of this officer's queue already announced */
    bool high_init;
    bool focus_port;  /* navigation moves the portfolio (else the alerts) */
    bool port_detail; /* the selected position's exact detail is open */
    char sanctions[160]; /* non-empty: sanctions screening is off (or refused), shown first */
} dash;

static size_t port_count(void *ctx)
{
    dash *d = ctx;
    return d->n_agg;
}

/* Rows by chain, then wallet before escrow (locked, then due), then asset: a chain's
 * escrows sit next to its wallet instead of below every other chain's. */
static int agg_order(const void *x, const void *y)
{
    const risk_position *a = x, *b = y;
    int c = strcmp(a->chain, b->chain);
    if (c == 0)
        c = a->chain_id < b->chain_id ? -1 : a->chain_id > b->chain_id;
    if (c == 0)
        c = (int)a->kind - (int)b->kind;
    if (c == 0)
        c = strcmp(a->asset, b->asset);
    return c;
}

/* The portfolio is by asset and chain: the desk's accounts are summed (exactly, in base
 * units) into one row per chain, asset and kind. */
static void aggregate(dash *d)
{
    free(d->agg);
    d->agg = NULL;
    d->n_agg = 0;
    if (!d->snap || d->snap->n_pos == 0)
        return;
    d->agg = calloc(d->snap->n_pos, sizeof *d->agg);
    if (!d->agg)
        return;
    for (size_t i = 0; i < d->snap->n_pos; i++) {
        const risk_position *p = &d->snap->pos[i];
        size_t j = 0;
        for (; j < d->n_agg; j++) {
            risk_position *a = &d->agg[j];
            if (a->chain_id == p->chain_id && a->kind == p->kind && a->native == p->native &&
                (p->native || addr_equal(&a->token, &p->token)))
                break;
        }
        if (j < d->n_agg) {
            risk_position *a = &d->agg[j];
            u256 sum;
            if (u256_add(&sum, &a->amount, &p->amount) == 0) {
                a->amount = sum;
                a->usd += p->usd;
                continue;
            }
        }
        d->agg[d->n_agg++] = *p; /* new row (or a sum that would overflow 2^256) */
    }
    qsort(d->agg, d->n_agg, sizeof *d->agg, agg_order);
}

static const risk_price_info *price_info(const risk_snapshot *s, const char *asset)
{
    for (size_t i = 0; i < s->n_prices; i++)
        if (strcmp(s->prices[i].asset, asset) == 0)
            return &s->prices[i];
    return NULL;
}

static double price_of(const risk_snapshot *s, const char *asset)
{
    const risk_price_info *p = price_info(s, asset);
    return p ? p->usd : NAN;
}

static const risk_asset_value *asset_of(const risk_snapshot *s, const char *asset)
{
    for (size_t i = 0; i < s->n_assets; i++)
        if (strcmp(s->assets[i].asset, asset) == 0)
            return &s->assets[i];
    return NULL;
}

typedef enum { UTC_TIME, UTC_DAY, UTC_MINUTE } utc_form;

static void utc_time(char *out, size_t cap, int64_t t, utc_form f)
{
    struct tm tm;
    time_t tt = (time_t)t;
    size_t k = 0;
    if (t > 0 && gmtime_r(&tt, &tm))
        k = f == UTC_TIME  ? strftime(out, cap, "%H:%M:%S UTC", &tm)
            : f == UTC_DAY ? strftime(out, cap, "%Y-%m-%d", &tm)
                           : strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm);
    if (k == 0)
        snprintf(out, cap, "-");
}

/* "In flight 250,000 USD  " when value is on a bridge (the positions of that kind), else "". */
static void bridge_in_flight(const risk_snapshot *s, char *out, size_t cap)
{
    double usd = 0;
    size_t n = 0;
    for (size_t i = 0; i < s->n_pos; i++)
        if (s->pos[i].kind == RISK_POS_BRIDGE_IN_FLIGHT) {
            n++;
            if (!isnan(s->pos[i].usd))
                usd += s->pos[i].usd;
        }
    char v[48];
    ui_fmt_usd(v, sizeof v, usd, 0);
    if (n)
        snprintf(out, cap, "In flight %s USD  ", v);
    else if (cap)
        out[0] = '\0';
}

static void port_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    dash *d = ctx;
    const risk_position *p = &d->agg[row];
    char amt[AMOUNT_STR_MAX];
    switch (col) {
    case 0:
        snprintf(out, cap, "%s%s", p->asset,
                 p->kind == RISK_POS_WALLET          ? ""
                 : p->kind == RISK_POS_ESCROW_LOCKED    ? " (escrow)"
                 : p->kind == RISK_POS_BRIDGE_IN_FLIGHT ? " (in flight)"
                                                        : " (due)");
        break;
    case 1:
        snprintf(out, cap, "%s", p->chain);
        break;
    case 2:
        amount_format(amt, &p->amount, p->decimals);
        ui_fmt_amount(out, cap, amt, ui_glyph()->ellipsis);
        break;
    case 3:
        ui_fmt_usd(out, cap, price_of(d->snap, p->asset), 2);
        break;
    case 4:
        ui_fmt_usd(out, cap, p->usd, 0);
        break;
    case 5: {
        const risk_asset_value *av = asset_of(d->snap, p->asset);
        if (av && av->n_spark > 0)
            ui_sparkline(out, cap, av->spark, av->n_spark, RISK_SPARK_DAYS, ui_glyph()->spark);
        else
            out[0] = '\0';
        break;
    }
    default:
        out[0] = '\0';
        break;
    }
}

static void alerts_index(dash *d)
{
    free(d->alert_ix);
    d->alert_ix = NULL;
    d->n_alert_ix = 0;
    if (!d->snap || d->snap->n_alerts == 0)
        return;
    d->alert_ix = calloc(d->snap->n_alerts, sizeof *d->alert_ix);
    if (!d->alert_ix)
        return;
    for (size_t i = d->snap->n_alerts; i-- > 0;) {
        const store_alert *a = &d->snap->alerts[i];
        if (d->filter[0] && !strstr(a->message, d->filter) && !strstr(a->kind, d->filter))
            continue;
        d->alert_ix[d->n_alert_ix++] = i;
    }
}

static size_t alert_count(void *ctx)
{
    dash *d = ctx;
    return d->n_alert_ix;
}

static void alert_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    dash *d = ctx;
    const store_alert *a = &d->snap->alerts[d->alert_ix[row]];
    struct tm tm;
    time_t t = (time_t)a->raised_at;
    switch (col) {
    case 0:
        if (gmtime_r(&t, &tm))
            strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
        else
            out[0] = '\0';
        break;
    case 1:
        snprintf(out, cap, "%s%s", alert_severity_str(a->severity), a->acked_at ? " ack" : "");
        break;
    case 2:
        snprintf(out, cap, "%s", a->message);
        break;
    default:
        out[0] = '\0';
        break;
    }
}

static ui_role alert_role(void *ctx, size_t row)
{
    dash *d = ctx;
    const store_alert *a = &d->snap->alerts[d->alert_ix[row]];
    return a->acked_at                     ? UI_ROLE_DIM
           : a->severity == ALERT_CRITICAL ? UI_ROLE_ERROR
                                           : UI_ROLE_NORMAL;
}

static void alert_filter(void *ctx, const char *text)
{
    alerts_index(ctx);
}

/* A high-priority case that lands in the signed-in officer's queue (new, or assigned to
 * them) rings the bell and says so, whatever screen is shown; the cases open when the UI
 * starts are not news. */
static void announce_high(dash *d, const store_case *cs, size_t n)
{
    ui_desk *k = d->desk;
    bool officer = k->has_operator && (k->op_roles & DESK_ROLE_compliance);
    const store_case *newest = NULL;
    for (size_t i = 0; i < n; i++) {
        const store_case *c = &cs[i];
        bool mine = !strcmp(c->state, "new") || !strcmp(c->assignee, k->operator_name);
        if (c->priority == 1 && mine && (!newest || c->id > newest->id))
            newest = c;
    }
    int64_t top = newest ? newest->id : 0;
    if (d->high_init && officer && top > d->high_seen && d->app) {
        beep();
        ui_message(d->app, UI_MSG_ERROR, "high-priority case #%lld landed in your queue: %s",
                   (long long)newest->id, newest->subject);
    }
    if (top > d->high_seen)
        d->high_seen = top;
    d->high_init = true;
}

/* Counts the open compliance cases (read on the loop thread, like the alert ack). */
static void count_cases(dash *d)
{
    store_case_filter f = {0};
    f.open_only = true;
    store_case *cs = NULL;
    size_t n = 0;
    err e;
    err_clear(&e);
    d->have_cases = store_case_list(desk_snap_store(d->desk->snap), &f, &cs, &n, &e) == 0;
    d->cases_open = n;
    d->cases_high = 0;
    for (size_t i = 0; i < n; i++)
        d->cases_high += cs[i].priority == 1;
    announce_high(d, cs, n);
    free(cs);
}

/* Sanctions screening switched off (compliance.conf, with an officer's signed decision)
 * or refused (the line without a decision): a line the alerts heading leads with. */
static void sanctions_state(dash *d)
{
    d->sanctions[0] = '\0';
    char conf[sizeof d->desk->home + 32], db[sizeof d->desk->home + 32];
    snprintf(conf, sizeof conf, "%s/compliance.conf", d->desk->home);
    snprintf(db, sizeof db, "%s/desk.db", d->desk->home);
    compliance_config cfg;
    compliance_config_default(&cfg);
    err e;
    err_clear(&e);
    if (access(conf, R_OK) != 0 || compliance_config_load(&cfg, conf, &e) < 0 ||
        cfg.rules.sanctions.on)
        return;
    compliance_sanctions_decision dec;
    if (compliance_config_allowed(&cfg, conf, db, &dec, &e) < 0)
        snprintf(d->sanctions, sizeof d->sanctions,
                 "SANCTIONS SCREENING STOPPED: compliance.conf says no without a signed decision");
    else
        snprintf(d->sanctions, sizeof d->sanctions,
                 "SANCTIONS SCREENING OFF (decision of %.60s)", dec.operator_name);
}

static void take(dash *d)
{
    if (!d->desk)
        return;
    count_cases(d);
    sanctions_state(d);
    risk_snapshot *s = ui_desk_risk_take(d->desk, d->error, sizeof d->error);
    if (s) {
        risk_snapshot_free(&d->snap);
        d->snap = s;
        aggregate(d);
        alerts_index(d);
    }
}

static int open_(ui_screen *s, err *e)
{
    dash *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(e, ERR_NOMEM, "out of memory opening the Dashboard");
    d->desk = ui_app_desk(s->app);
    d->app = s->app;
    ui_rows port = d->desk ? (ui_rows){port_count, port_cell, NULL, NULL, d} : ui_rows_none();
    ui_rows alerts =
        d->desk ? (ui_rows){alert_count, alert_cell, alert_filter, alert_role, d} : ui_rows_none();
    ui_table_init(&d->portfolio, portfolio_cols, sizeof portfolio_cols / sizeof portfolio_cols[0],
                  port);
    ui_table_init(&d->alerts, alert_cols, sizeof alert_cols / sizeof alert_cols[0], alerts);
    take(d);
    s->state = d;
    return 0;
}

static void close_(ui_screen *s)
{
    dash *d = s->state;
    if (!d)
        return;
    ui_table_free(&d->portfolio);
    ui_table_free(&d->alerts);
    risk_snapshot_free(&d->snap);
    free(d->agg);
    free(d->alert_ix);
    free(d);
    s->state = NULL;
}

/* The exact detail of the selected position: every account's amount in full and in base
 * units, the price with its source and time, the history the sparkline and VaR read. */
static void port_detail_lines(dash *d, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t row;
    if (!d->snap || !ui_table_selected(&d->portfolio, &row) || row >= d->n_agg)
        return;
    const risk_position *g = &d->agg[row];
    size_t cap = 8 + d->snap->n_pos;
    char **l = calloc(cap, sizeof *l);
    if (!l)
        return;
    size_t k = 0;
    char amt[AMOUNT_STR_MAX], grp[AMOUNT_STR_MAX * 2], dec[U256_DEC_MAX], t[32];
    amount_format(amt, &g->amount, g->decimals);
    ui_fmt_decimal(grp, sizeof grp, amt, -1, NULL);
    u256_to_dec(dec, &g->amount);
    if (asprintf(&l[k], "%s %s %s: %s %s exactly (%s base units, %u decimals)", g->asset,
                 g->kind == RISK_POS_BRIDGE_IN_FLIGHT ? "on a bridge to" : "on", g->chain, grp,
                 g->asset, dec, g->decimals) > 0)
        k++;
    const risk_price_info *pi = price_info(d->snap, g->asset);
    char px[64], val[64];
    ui_fmt_usd(px, sizeof px, pi ? pi->usd : NAN, 2);
    ui_fmt_usd(val, sizeof val, g->usd, 2);
    utc_time(t, sizeof t, pi ? pi->updated_at : 0, UTC_MINUTE);
    if (asprintf(&l[k], "Price %s USD (%s%s, as of %s)   value %s USD (estimate)", px,
                 !pi ? "no price" : pi->oracle ? "oracle round " : "daily close",
                 pi && pi->oracle ? pi->round_id : "", t, val) > 0)
        k++;
    const risk_asset_value *av = asset_of(d->snap, g->asset);
    if (av && av->n_spark > 0) {
        char sp[128], day[16], first[64], last[64];
        ui_sparkline(sp, sizeof sp, av->spark, av->n_spark, RISK_SPARK_DAYS, ui_glyph()->spark);
        utc_time(day, sizeof day, (int64_t)av->spark_last_day * 86400, UTC_DAY);
        ui_fmt_usd(first, sizeof first, av->spark[0], 2);
        ui_fmt_usd(last, sizeof last, av->spark[av->n_spark - 1], 2);
        if (asprintf(&l[k], "7d %s  %s -> %s USD, daily closes to %s", sp, first, last, day) > 0)
            k++;
    }
    utc_time(t, sizeof t, d->snap->as_of, UTC_TIME);
    if (asprintf(&l[k], "ACCOUNTS (balances as of %s)", t) > 0)
        k++;
    for (size_t i = 0; i < d->snap->n_pos && k < cap; i++) {
        const risk_position *p = &d->snap->pos[i];
        if (p->chain_id != g->chain_id || p->kind != g->kind || p->native != g->native ||
            (!p->native && !addr_equal(&p->token, &g->token)))
            continue;
        char a[ADDR_STR_MAX];
        addr_to_checksum(a, &p->account);
        amount_format(amt, &p->amount, p->decimals);
        ui_fmt_decimal(grp, sizeof grp, amt, -1, NULL);
        if (asprintf(&l[k], "%s  %s %s", a, grp, p->asset) > 0)
            k++;
    }
    *out = l;
    *n = k;
}

static void draw(ui_screen *s, WINDOW *w)
{
    dash *d = s->state;
    int rows, cols;
    getmaxyx(w, rows, cols);
    char note[128] = "portfolio across all chains", t[32];
    if (d->snap) {
        utc_time(t, sizeof t, d->snap->as_of, UTC_TIME);
        snprintf(note, sizeof note, "as of %s", t);
    }
    ui_heading_draw(w, 0, d->focus_port ? "Dashboard: portfolio (w: alerts)"
                                        : "Dashboard (w: portfolio)",
                    note);
    /* Portfolio gets the top half, the risk strip two lines, alerts the rest. */
    int avail = rows - 2;
    int port_h = (avail - 4) / 2;
    if (port_h < 3)
        port_h = 3;
    const char *empty =
        d->desk && d->desk->has_chain
            ? (d->snap ? "No positions: the desk's keys hold nothing on the configured chains"
                       : "Reading positions and prices (the risk service refreshes every 30 s)")
            : "No positions: no chain is configured on this desk - see `fusion chain add`";
    if (d->error[0] && !d->snap)
        empty = d->error;
    if (d->port_detail && d->focus_port && d->n_agg > 0) {
        /* the detail takes the whole body below a short table */
        int y = ui_table_draw_body(&d->portfolio, w, true, empty);
        char **lines = NULL;
        size_t n = 0;
        port_detail_lines(d, &lines, &n);
        ui_detail_draw(w, y, "Position (Esc closes)", lines, n);
        ui_lines_free(&lines, &n);
        return;
    }
    ui_table_draw(&d->portfolio, w, 2, 1, port_h, cols - 2, empty);
    int y = 2 + port_h;
    char strip[ERR_MSG_MAX + 128] = "VaR 99% 1d: -   ES 97.5% 1d: -   Avail: -   LTV: -   HF: -";
    char var_line[512] = "";
    if (d->snap && d->snap->has_report) {
        const risk_report *r = &d->snap->report;
        char hf[32], ltv[32], gross[48], var[48], es[48], av[48];
        if (r->has_credit && isfinite(r->credit.health_factor))
            snprintf(hf, sizeof hf, "%.2f", r->credit.health_factor);
        else
            snprintf(hf, sizeof hf, r->has_credit ? "no debt" : "-");
        if (r->has_credit && !isnan(r->credit.ltv))
            snprintf(ltv, sizeof ltv, "%.1f%%", r->credit.ltv * 100.0);
        else
            snprintf(ltv, sizeof ltv, "-");
        ui_fmt_usd(gross, sizeof gross, d->snap->gross_usd, 0);
        ui_fmt_usd(var, sizeof var, r->hist.d1.var, 0);
        ui_fmt_usd(es, sizeof es, r->hist.d1.es, 0);
        ui_fmt_usd(av, sizeof av, r->has_credit ? r->credit.available : 0.0, 0);
        /* Avail before the rest: it is what a trader can still draw (never cut at 80). */
        snprintf(strip, sizeof strip, "Gross %s USD  Avail %s  VaR99 %s  ES %s  LTV %s  HF %s",
                 gross, av, var, es, ltv, hf);
        char sp[256] = "", first[32], last[32];
        if (r->n_var_hist > 0) {
            ui_sparkline(sp, sizeof sp, r->var_hist, r->n_var_hist, RISK_VAR_HIST_MAX,
                         ui_glyph()->spark);
            ui_fmt_usd(first, sizeof first, r->var_hist[0], 0);
            ui_fmt_usd(last, sizeof last, r->var_hist[r->n_var_hist - 1], 0);
        }
        char day[16];
        utc_time(day, sizeof day, (int64_t)d->snap->hist_last * 86400, UTC_DAY);
        /* Value on a bridge (burned, not yet minted) first: it is on neither chain's
         * balance, and counted once, on the destination (docs/risk.md). */
        char fl[96] = "";
        bridge_in_flight(d->snap, fl, sizeof fl);
        snprintf(var_line, sizeof var_line, "%sVaR %zud %s %s -> %s  closes to %s, as of %s", fl,
                 r->n_var_hist, sp, r->n_var_hist ? first : "-", r->n_var_hist ? last : "-",
                 day, t);
    } else if (d->snap) {
        char gross[48];
        ui_fmt_usd(gross, sizeof gross, d->snap->gross_usd, 0);
        snprintf(strip, sizeof strip, "Gross %s USD   risk figures: %s", gross,
                 d->snap->report_note[0] ? d->snap->report_note : "not computed");
        bridge_in_flight(d->snap, var_line, sizeof var_line); /* named without a report too */
    }
    ui_put(w, y, 1, strip, cols - 2, UI_ALIGN_LEFT, UI_ROLE_NORMAL);
    ui_put(w, y + 1, 1, var_line, cols - 2, UI_ALIGN_LEFT, UI_ROLE_DIM);
    y++;
    ui_hline(w, y + 1, 0, cols, UI_ROLE_BORDER);
    char label[UI_FILTER_MAX + 96], cases[64] = "";
    if (d->have_cases)
        snprintf(cases, sizeof cases, " - cases: %zu open (%zu high)", d->cases_open,
                 d->cases_high);
    if (d->filter[0])
        snprintf(label, sizeof label, "Alerts matching /%s%s", d->filter, cases);
    else
        snprintf(label, sizeof label, "Alerts%s", cases);
    int lx = 2;
    if (d->sanctions[0]) {
        /* First, in the error role: the desk is not screening against sanctions lists. */
        char warn[sizeof d->sanctions + 4];
        snprintf(warn, sizeof warn, "%s - ", d->sanctions);
        int ww = ui_text_width(warn);
        if (ww > cols - 4)
            ww = cols - 4;
        ui_put(w, y + 1, lx, warn, ww, UI_ALIGN_LEFT, UI_ROLE_ERROR);
        lx += ww;
    }
    if (lx < cols - 2) {
        int lw = ui_text_width(label);
        ui_put(w, y + 1, lx, label, lw < cols - 2 - lx ? lw : cols - 2 - lx, UI_ALIGN_LEFT,
               UI_ROLE_HEADER);
    }
    ui_table_draw(&d->alerts, w, y + 2, 1, rows - (y + 2), cols - 2,
                  "No alerts: limits and margin alerts appear here as they fire");
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    dash *d = s->state;
    if (ev->action == UI_ACT_FOCUS) {
        d->focus_port = !d->focus_port;
        return UI_REDRAW;
    }
    if (ev->action == UI_ACT_OPEN) {
        if (!d->focus_port || d->n_agg == 0) {
            ui_message(s->app, UI_MSG_INFO, "Enter opens a position: w moves to the portfolio");
            return UI_OK;
        }
        d->port_detail = !d->port_detail;
        return UI_REDRAW;
    }
    unsigned r = ui_table_nav(d->focus_port ? &d->portfolio : &d->alerts, ev->action);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    size_t row;
    if (ev->action == UI_ACT_ALERT_ACK && !d->focus_port && d->snap && ui_table_selected(&d->alerts, &row)) {
        store_alert *a = &d->snap->alerts[d->alert_ix[row]];
        store_alert after;
        err e;
        err_clear(&e);
        /* A decision like the CLI's: audited (and signed) with the acknowledgement. */
        if (risk_alert_ack(desk_snap_store(d->desk->snap), d->desk->home,
                           d->desk->operator_name, a->id, (int64_t)time(NULL), &after,
                           &e) < 0) {
            ui_message(s->app, UI_MSG_ERROR, "%s",
                       e.code == ERR_NOT_FOUND ? "that alert is no longer open" : e.msg);
        } else {
            a->acked_at = (int64_t)time(NULL);
            ui_message(s->app, UI_MSG_INFO, "alert acknowledged: %s", a->message);
        }
        return UI_REDRAW;
    }
    return ui_not_in_build(s, ev->action);
}

/* Esc, and q before it quits: the position's detail closes. */
static bool close_overlay(ui_screen *s)
{
    dash *d = s->state;
    if (!d->port_detail || !d->focus_port || d->n_agg == 0)
        return false;
    d->port_detail = false;
    return true;
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    take(s->state);
    return UI_REDRAW;
}

static void status(ui_screen *s, char *out, size_t cap)
{
    dash *d = s->state;
    size_t row;
    char a[32], b[32];
    if (d->focus_port) {
        if (ui_table_selected(&d->portfolio, &row))
            snprintf(out, cap, "portfolio %s/%s", ui_fmt_count(row + 1, a, sizeof a),
                     ui_fmt_count(ui_table_count(&d->portfolio), b, sizeof b));
        else
            snprintf(out, cap, "no positions");
    } else if (ui_table_selected(&d->alerts, &row))
        snprintf(out, cap, "alerts %s/%s", ui_fmt_count(row + 1, a, sizeof a),
                 ui_fmt_count(ui_table_count(&d->alerts), b, sizeof b));
    else
        snprintf(out, cap, "no alerts");
}

static bool selected(ui_screen *s)
{
    dash *d = s->state;
    return ui_table_selected(d->focus_port ? &d->portfolio : &d->alerts, NULL);
}

static unsigned filter_(ui_screen *s, const char *text)
{
    dash *d = s->state;
    if (strcmp(d->filter, text) == 0)
        return UI_OK;
    snprintf(d->filter, sizeof d->filter, "%s", text);
    if (d->alerts.rows.filter)
        d->alerts.rows.filter(d->alerts.rows.ctx, d->filter);
    ui_table_reset(&d->alerts);
    return UI_REDRAW;
}

const ui_screen_ops ui_scr_dashboard = {
    .close_overlay = close_overlay,
    .topics = UI_TOPIC_RISK | UI_TOPIC_ESCROWS | UI_TOPIC_KEYS | UI_TOPIC_CHAINS,
    .open = open_,
    .close = close_,
    .draw = draw,
    .handle = handle,
    .changed = changed,
    .status = status,
    .selected = selected,
    .filter = filter_,
};
