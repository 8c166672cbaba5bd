/* cmd_risk.c: `fusion risk calc`, the risk math over given files (a what-if and the
 * verification entry point the numpy cross-check drives). Loads prices, positions and,
 * on request, collateral terms and scenarios, runs risk_report_run and prints text for
 * people or JSON for scripts. `fusion risk report` runs the risk service
 * (risk_service_refresh) over the live desk and prints the same parts plus positions, prices
 * and alerts; `risk set-drawn` records the amount drawn on the credit line. */
#include "cli/cli.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/amount.h"
#include "base/text.h"
#include "cli/opts.h"
#include "cli/risk_cli.h"
#include "credit/service.h"
#include "crypto/address.h"
#include "risk/risk.h"
#include "risk/risk_load.h"
#include "risk/service.h"
#include "store/store.h"

/* A name (a chain, an asset, a scenario) as a line shows it: 64 bytes of text, escaped. */
#define RISK_SHOWN_MAX (6 * 64 + 4)

static const char calc_usage[] =
    "usage: fusion risk calc --prices [ASSET=]FILE.csv [--prices ...] --positions FILE.json\n"
    "         [--window N] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--paths N] [--seed N]\n"
    "         [--threads N] [--drawn USD] [--margin-call HF] [--collateral FILE.csv]\n"
    "         [--stress] [--stress-lows] [--scenarios FILE.csv] [--json]\n";

#define MAX_PRICE_FILES 64

typedef struct calc_opts {
    const char *prices[MAX_PRICE_FILES];
    size_t n_prices;
    const char *positions;
    const char *collateral;
    const char *scenarios;
    int32_t from, to;
    double drawn;
    bool has_drawn;
    bool stress;
    bool stress_lows;
    bool json;
    risk_params params;
} calc_opts;

/* ---- small parsers ------------------------------------------------------------------- */

static int parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v < min || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* A USD amount of the credit line: 0 or RISK_USD_MIN..RISK_USD_MAX (so sums stay finite). */
static int parse_usd(const char *s, double *out)
{
    if (parse_double(s, out) < 0 || *out < 0.0 || *out > RISK_USD_MAX ||
        (*out != 0.0 && *out < RISK_USD_MIN))
        return -1;
    return 0;
}

/* --window, --paths and --seed of both subcommands (NULL: not given): 0, or the usage exit
 * code. */
static int params_opts(const char *cmd, const char *window, const char *paths, const char *seed,
                       risk_params *p)
{
    size_t z;
    if (window && parse_size(window, 2, 1000000, &p->window) < 0)
        return cli_usage(cmd, "--window wants a number of returns >= 2, not '%s'", window);
    if (paths && parse_size(paths, 2, 100000000, &p->mc.paths) < 0)
        return cli_usage(cmd, "--paths wants a number from 2 to 100000000, not '%s'", paths);
    if (seed) {
        if (parse_size(seed, 0, SIZE_MAX, &z) < 0)
            return cli_usage(cmd, "--seed wants a non-negative integer, not '%s'", seed);
        p->mc.seed = (uint64_t)z;
    }
    return 0;
}

/* ---- data files next to the binary --------------------------------------------------- */

/* Default reference table: risk_data_file("risk/NAME"), with a hint about the options. */
static int default_data_file(const char *name, char *out, size_t cap, err *e)
{
    char rel[64];
    snprintf(rel, sizeof rel, "risk/%s", name);
    if (risk_data_file(rel, out, cap, e) < 0)
        return err_prefix(e, "pass --collateral / --scenarios");
    return 0;
}

/* ---- output helpers ------------------------------------------------------------------- */

/* 1234567.891 -> "1,234,567.89" */
static const char *usd(double v, char *out, size_t cap)
{
    if (isnan(v))
        return snprintf(out, cap, "n/a"), out;
    if (isinf(v))
        return snprintf(out, cap, "%s", v > 0 ? "inf" : "-inf"), out;
    char raw[64];
    snprintf(raw, sizeof raw, "%.2f", fabs(v));
    char *dot = strchr(raw, '.');
    size_t int_len = dot ? (size_t)(dot - raw) : strlen(raw);
    size_t o = 0;
    if (v < 0 && strcmp(raw, "0.00") != 0 && o + 1 < cap)
        out[o++] = '-';
    for (size_t i = 0; i < int_len && o + 2 < cap; i++) {
        out[o++] = raw[i];
        size_t left = int_len - i - 1;
        if (left > 0 && left % 3 == 0)
            out[o++] = ',';
    }
    for (const char *p = dot; p && *p && o + 1 < cap; p++)
        out[o++] = *p;
    out[o] = '\0';
    return out;
}

/* 100000 -> "100,000" */
static const char *count_str(size_t v, char *out, size_t cap)
{
    usd((double)v, out, cap);
    char *dot = strchr(out, '.');
    if (dot)
        *dot = '\0';
    return out;
}

static const char *hf_str(double hf, char *out, size_t cap)
{
    if (isnan(hf))
        snprintf(out, cap, "-");
    else if (isinf(hf))
        snprintf(out, cap, "inf");
    else
        snprintf(out, cap, "%.3f", hf);
    return out;
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* ---- the run ------------------------------------------------------------------------ */

typedef struct calc_data {
    risk_prices *prices;
    risk_positions *pos;
    risk_panel *panel;
    risk_scenarios *scen;
    risk_collateral *terms;
    double *ret;
    double *value;
    risk_scenario_moves *moves;
    risk_report rep;
    bool have_rep;
} calc_data;

static void calc_data_free(calc_data *d)
{
    risk_prices_free(&d->prices);
    risk_positions_free(&d->pos);
    risk_panel_free(&d->panel);
    risk_scenarios_free(&d->scen);
    free(d->terms);
    free(d->ret);
    free(d->value);
    free(d->moves);
    if (d->have_rep)
        risk_report_free(&d->rep);
}

static int calc_load_and_run(const calc_opts *o, calc_data *d, err *e)
{
    d->prices = risk_prices_new();
    if (!d->prices)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < o->n_prices; i++)
        if (risk_prices_add_file(d->prices, o->prices[i], e) < 0)
            return -1;
    size_t n_known = risk_prices_asset_count(d->prices);
    const char **known = calloc(n_known ? n_known : 1, sizeof *known);
    if (!known)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n_known; i++)
        known[i] = risk_prices_asset_name(d->prices, i);
    int rc = risk_positions_load(o->positions, known, n_known, &d->pos, e);
    free(known);
    if (rc < 0)
        return -1;
    const char *const *assets = (const char *const *)d->pos->assets;
    size_t n = d->pos->n;
    /* Only the last window + backtest returns are used: older history may have gaps. */
    size_t keep = o->params.window + o->params.backtest_days + 1;
    if (risk_panel_build(d->prices, assets, n, o->from, o->to, keep, &d->panel, e) < 0)
        return -1;
    if (risk_panel_require(d->panel, o->params.window + 1, e) < 0)
        return -1;
    size_t T = d->panel->n_days - 1;
    d->ret = malloc(T * n * sizeof *d->ret);
    if (!d->ret)
        return err_set(e, ERR_NOMEM, "out of memory");
    if (risk_log_returns(d->panel->close, d->panel->n_days, n, d->ret, e) < 0)
        return -1;

    risk_input in = {0};
    in.n_assets = n;
    in.n_ret = T;
    in.ret = d->ret;
    in.value = d->pos->value;
    if (o->has_drawn) {
        for (size_t i = 0; i < n; i++)
            if (d->pos->value[i] < 0.0)
                return err_set(e, ERR_INVALID, "%s:%zu: position %s is negative (%g); a credit "
                               "line (--drawn) needs collateral values >= 0", o->positions,
                               d->pos->line[i], d->pos->assets[i], d->pos->value[i]);
        char path[PATH_MAX];
        const char *cpath = o->collateral;
        if (!cpath) {
            if (default_data_file("collateral.csv", path, sizeof path, e) < 0)
                return -1;
            cpath = path;
        }
        d->terms = calloc(n, sizeof *d->terms);
        if (!d->terms)
            return err_set(e, ERR_NOMEM, "out of memory");
        if (risk_collateral_load(cpath, assets, n, d->terms, e) < 0)
            return -1;
        in.terms = d->terms;
        in.drawn = o->drawn;
    }
    if (o->stress || o->has_drawn) {
        char path[PATH_MAX];
        const char *spath = o->scenarios;
        if (!spath) {
            if (default_data_file("scenarios.csv", path, sizeof path, e) < 0)
                return -1;
            spath = path;
        }
        if (risk_scenarios_load(spath, assets, n, o->stress_lows, &d->scen, e) < 0)
            return -1;
        d->moves = calloc(d->scen->n, sizeof *d->moves);
        if (!d->moves)
            return err_set(e, ERR_NOMEM, "out of memory");
        for (size_t s = 0; s < d->scen->n; s++) {
            d->moves[s].name = d->scen->name[s];
            d->moves[s].move = d->scen->move + s * n;
        }
        in.scenarios = d->moves;
        in.n_scenarios = d->scen->n;
    }
    if (risk_report_run(&in, &o->params, &d->rep, e) < 0)
        return -1;
    d->have_rep = true;
    return 0;
}

static json_t *measures_json(const risk_measures *m)
{
    return json_pack("{s:o,s:o,s:o,s:o}", "var_1d", jnum(m->d1.var), "es_1d", jnum(m->d1.es),
                     "var_10d", jnum(m->dh.var), "es_10d", jnum(m->dh.es));
}

static json_t *credit_json(const risk_credit *c, double margin_call_hf)
{
    json_t *cj = json_object();
    json_object_set_new(cj, "collateral", jnum(c->collateral));
    json_object_set_new(cj, "borrowing_base", jnum(c->borrowing_base));
    json_object_set_new(cj, "lt_value", jnum(c->lt_value));
    json_object_set_new(cj, "drawn", jnum(c->drawn));
    json_object_set_new(cj, "available", jnum(c->available));
    json_object_set_new(cj, "ltv", jnum(c->ltv));
    json_object_set_new(cj, "max_ltv", jnum(c->max_ltv));
    json_object_set_new(cj, "health_factor", jnum(c->health_factor));
    json_object_set_new(cj, "margin_call_below", jnum(margin_call_hf));
    json_object_set_new(cj, "im_var", jnum(c->im_var));
    json_object_set_new(cj, "im_haircut", jnum(c->im_haircut));
    json_object_set_new(cj, "margin_requirement", jnum(c->margin_requirement));
    json_object_set_new(cj, "margin_excess", jnum(c->margin_excess));
    json_object_set_new(cj, "status", json_string(risk_status_str(c->status)));
    return cj;
}

static json_t *stress_json(const risk_report *r, const risk_scenarios *scen)
{
    json_t *arr = json_array();
    for (size_t s = 0; s < r->n_stress; s++) {
        const risk_stress *st = &r->stress[s];
        json_t *sj = json_object();
        json_object_set_new(sj, "scenario", json_string(scen->name[s]));
        json_object_set_new(sj, "kind", json_string(scen->kind[s]));
        json_object_set_new(sj, "window", json_string(scen->span[s]));
        json_object_set_new(sj, "pnl", jnum(st->pnl));
        json_object_set_new(sj, "collateral_after", jnum(st->collateral_after));
        if (r->has_credit) {
            json_object_set_new(sj, "borrowing_base_after", jnum(st->borrowing_base_after));
            json_object_set_new(sj, "health_factor_after", jnum(st->health_factor_after));
            json_object_set_new(sj, "shortfall", jnum(st->shortfall));
            json_object_set_new(sj, "status", json_string(risk_status_str(st->status)));
        }
        json_array_append_new(arr, sj);
    }
    return arr;
}

static void window_dates(const calc_opts *o, const calc_data *d, char *first, char *last)
{
    /* Return t covers close t -> t+1; the window is the last N returns. */
    size_t nd = d->panel->n_days;
    risk_date_format(d->panel->days[nd - o->params.window], first);
    risk_date_format(d->panel->days[nd - 1], last);
}

static int print_json(const calc_opts *o, const calc_data *d)
{
    const risk_report *r = &d->rep;
    const risk_params *p = &o->params;
    size_t n = d->pos->n;
    char w0[11], w1[11], p0[11], p1[11];
    window_dates(o, d, w0, w1);
    risk_date_format(d->panel->days[0], p0);
    risk_date_format(d->panel->days[d->panel->n_days - 1], p1);
    json_t *root = json_object();
    json_t *pos = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(pos, d->pos->assets[i], jnum(d->pos->value[i]));
    json_object_set_new(root, "units", json_string("USD, floating-point estimates"));
    json_object_set_new(root, "prices",
                        json_pack("{s:s,s:s,s:I}", "first_date", p0, "last_date", p1, "closes",
                                  (json_int_t)d->panel->n_days));
    json_object_set_new(root, "window",
                        json_pack("{s:I,s:s,s:s}", "returns", (json_int_t)p->window,
                                  "first_date", w0, "last_date", w1));
    json_object_set_new(root, "levels",
                        json_pack("{s:f,s:f,s:f}", "var", p->var_level, "es", p->es_level,
                                  "horizon_days", p->horizon_days));
    json_object_set_new(root, "positions", pos);
    json_object_set_new(root, "total_value", jnum(r->total_value));
    json_object_set_new(root, "historical", measures_json(&r->hist));
    json_t *ew = measures_json(&r->ewma);
    json_object_set_new(ew, "lambda", json_real(p->lambda));
    json_object_set_new(ew, "sigma_1d", jnum(r->ewma_sigma));
    json_object_set_new(root, "ewma", ew);
    json_t *mc = measures_json(&r->mc);
    json_object_set_new(mc, "paths", json_integer((json_int_t)p->mc.paths));
    json_object_set_new(mc, "seed", json_integer((json_int_t)p->mc.seed));
    json_object_set_new(mc, "threads", json_integer((json_int_t)p->mc.threads));
    json_object_set_new(mc, "var_1d_linear", jnum(r->mc_linear.var));
    json_object_set_new(mc, "es_1d_linear", jnum(r->mc_linear.es));
    json_object_set_new(root, "monte_carlo", mc);
    if (r->has_backtest) {
        const risk_kupiec *k = &r->backtest;
        json_object_set_new(root, "backtest",
                            json_pack("{s:I,s:I,s:I,s:o,s:o,s:o,s:s}", "days", (json_int_t)k->days,
                                      "window", (json_int_t)p->window, "exceptions",
                                      (json_int_t)k->exceptions, "expected", jnum(k->expected),
                                      "lr", jnum(k->lr), "p_value", jnum(k->p_value), "zone",
                                      k->zone));
    } else {
        json_object_set_new(root, "backtest", json_null());
    }
    if (r->has_credit)
        json_object_set_new(root, "credit_line", credit_json(&r->credit, p->margin_call_hf));
    if (d->scen)
        json_object_set_new(root, "stress", stress_json(r, d->scen));
    int rc = cli_json_print(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(root);
    return rc == 0 ? 0 : -1;
}

static void print_measure_row(const char *name, const risk_measures *m)
{
    char a[48], b[48], c[48], d[48];
    printf("  %-13s %17s %17s %17s %17s\n", name, usd(m->d1.var, a, sizeof a),
           usd(m->d1.es, b, sizeof b), usd(m->dh.var, c, sizeof c), usd(m->dh.es, d, sizeof d));
}

static void print_credit_stress(const risk_report *r, const risk_params *p,
                                const risk_scenarios *scen, bool lows)
{
    char b1[48], b2[48], b3[48], b4[48];
    if (r->has_credit) {
        const risk_credit *c = &r->credit;
        printf("credit line\n");
        printf("  %-22s %17s\n", "collateral value", usd(c->collateral, b1, sizeof b1));
        printf("  %-22s %17s\n", "borrowing base", usd(c->borrowing_base, b1, sizeof b1));
        printf("  %-22s %17s\n", "drawn", usd(c->drawn, b1, sizeof b1));
        printf("  %-22s %17s\n", "available", usd(c->available, b1, sizeof b1));
        if (isnan(c->ltv))
            printf("  %-22s %17s\n", "LTV", "n/a (no collateral)");
        else
            printf("  %-22s %16.2f%% (max %.2f%%)\n", "LTV", c->ltv * 100.0, c->max_ltv * 100.0);
        printf("  %-22s %17s  %s (margin call below %.2f, liquidation below 1.00)\n",
               "health factor", hf_str(c->health_factor, b1, sizeof b1),
               risk_status_str(c->status), p->margin_call_hf);
        printf("  %-22s %17s  max(VaR IM %s, haircut %s)\n", "margin requirement",
               usd(c->margin_requirement, b1, sizeof b1), usd(c->im_var, b2, sizeof b2),
               usd(c->im_haircut, b3, sizeof b3));
        printf("  %-22s %17s%s\n\n", "margin excess", usd(c->margin_excess, b1, sizeof b1),
               c->margin_excess < 0.0 ? "  DEFICIT: post collateral or repay" : "");
    }
    if (scen) {
        printf("stress scenarios%s\n", lows ? " (intraday lows where measured)" : "");
        if (r->has_credit)
            printf("  %-22s %17s %17s %9s %17s  %s\n", "scenario", "P&L (USD)",
                   "collateral after", "HF after", "shortfall", "status");
        else
            printf("  %-22s %17s %17s\n", "scenario", "P&L (USD)", "collateral after");
        for (size_t s = 0; s < r->n_stress; s++) {
            const risk_stress *st = &r->stress[s];
            /* a scenario's name comes from a file (--scenarios): its controls escaped */
            char nm[RISK_SHOWN_MAX];
            text_safe_str(nm, sizeof nm, scen->name[s]);
            if (r->has_credit)
                printf("  %-22s %17s %17s %9s %17s  %s\n", nm,
                       usd(st->pnl, b1, sizeof b1), usd(st->collateral_after, b2, sizeof b2),
                       hf_str(st->health_factor_after, b3, sizeof b3),
                       usd(st->shortfall, b4, sizeof b4), risk_status_str(st->status));
            else
                printf("  %-22s %17s %17s\n", nm, usd(st->pnl, b1, sizeof b1),
                       usd(st->collateral_after, b2, sizeof b2));
        }
    }
}

static void print_text(const calc_opts *o, const calc_data *d)
{
    const risk_report *r = &d->rep;
    const risk_params *p = &o->params;
    size_t n = d->pos->n;
    char b1[48], b2[48], b3[48];
    char w0[11], w1[11], p0[11], p1[11];
    window_dates(o, d, w0, w1);
    risk_date_format(d->panel->days[0], p0);
    risk_date_format(d->panel->days[d->panel->n_days - 1], p1);

    printf("Risk calculation (all USD figures are floating-point estimates)\n\n");
    printf("prices    %s .. %s, %zu daily closes\n", p0, p1, d->panel->n_days);
    printf("window    last %zu daily log returns, %s .. %s\n\n", p->window, w0, w1);

    printf("  %-13s %17s %8s\n", "position", "value (USD)", "weight");
    for (size_t i = 0; i < n; i++) {
        double w = r->total_value != 0.0 ? d->pos->value[i] / r->total_value * 100.0 : NAN;
        printf("  %-13s %17s %7.2f%%\n", d->pos->assets[i],
               usd(d->pos->value[i], b1, sizeof b1), w);
    }
    printf("  %-13s %17s\n\n", "total", usd(r->total_value, b1, sizeof b1));

    char hv[64], he[64], hv10[64], he10[64];
    snprintf(hv, sizeof hv, "VaR %g%% 1d", p->var_level * 100.0);
    snprintf(he, sizeof he, "ES %g%% 1d", p->es_level * 100.0);
    snprintf(hv10, sizeof hv10, "VaR %g%% %gd", p->var_level * 100.0, p->horizon_days);
    snprintf(he10, sizeof he10, "ES %g%% %gd", p->es_level * 100.0, p->horizon_days);
    printf("  %-13s %17s %17s %17s %17s\n", "loss (USD)", hv, he, hv10, he10);
    print_measure_row("historical", &r->hist);
    print_measure_row("EWMA", &r->ewma);
    print_measure_row("Monte Carlo", &r->mc);
    printf("  historical: last %zu days, full revaluation; EWMA: lambda %g, 1-day sigma %s;\n",
           p->window, p->lambda, usd(r->ewma_sigma, b1, sizeof b1));
    printf("  Monte Carlo: %s paths, seed %llu, full revaluation (delta VaR 1d %s);\n",
           count_str(p->mc.paths, b2, sizeof b2),
           (unsigned long long)p->mc.seed, usd(r->mc_linear.var, b3, sizeof b3));
    printf("  %gd figures = sqrt(%g) x 1-day.\n\n", p->horizon_days, p->horizon_days);

    if (r->has_backtest) {
        const risk_kupiec *k = &r->backtest;
        printf("backtest  1-day %g%% historical VaR over the last %zu days (each from the %zu "
               "returns before it)\n",
               p->var_level * 100.0, k->days, p->window);
        printf("          %zu exceptions (%.1f expected), Kupiec LR %.4f, p-value %.4f, "
               "zone %s\n\n",
               k->exceptions, k->expected, k->lr, k->p_value, k->zone);
    } else {
        printf("backtest  not run: needs %zu returns (window %zu + %zu days), have %zu\n\n",
               p->window + p->backtest_days, p->window, p->backtest_days, d->panel->n_days - 1);
    }

    print_credit_stress(r, p, d->scen, o->stress_lows);
}

static int cmd_risk_calc(cli_ctx *ctx, int argc, char **argv)
{
    calc_opts o;
    memset(&o, 0, sizeof o);
    risk_params_default(&o.params);
    o.from = INT32_MIN;
    o.to = INT32_MAX;
    o.json = ctx->json;
    const char *cmd = "risk calc";
    const char *window = NULL, *from = NULL, *to = NULL, *paths = NULL, *seed = NULL,
               *threads = NULL, *drawn = NULL, *mcall = NULL;
    bool help = false;
    cli_opt_list prices = {o.prices, MAX_PRICE_FILES, 0};
    const cli_opt opts[] = {
        {"prices", CLI_OPT_LIST, &prices},
        {"positions", CLI_OPT_STR, &o.positions},
        {"window", CLI_OPT_STR, &window},
        {"from", CLI_OPT_STR, &from},
        {"to", CLI_OPT_STR, &to},
        {"paths", CLI_OPT_STR, &paths},
        {"seed", CLI_OPT_STR, &seed},
        {"threads", CLI_OPT_STR, &threads},
        {"drawn", CLI_OPT_STR, &drawn},
        {"margin-call", CLI_OPT_STR, &mcall},
        {"collateral", CLI_OPT_STR, &o.collateral},
        {"stress", CLI_OPT_FLAG, &o.stress},
        {"stress-lows", CLI_OPT_FLAG, &o.stress_lows},
        {"scenarios", CLI_OPT_STR, &o.scenarios},
        {"json", CLI_OPT_FLAG, &o.json},
        {"help", CLI_OPT_FLAG, &help},
    };
    size_t n_pos, z;
    int u = cli_opts(cmd, argc - 1, argv + 1, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (help) {
        fputs(calc_usage, stdout);
        return EXIT_OK;
    }
    if (n_pos > 0)
        return cli_usage(cmd, "unexpected argument '%s'", argv[2]);
    o.n_prices = prices.n;
    if (o.stress_lows || o.scenarios)
        o.stress = true;
    if ((u = params_opts(cmd, window, paths, seed, &o.params)) != 0)
        return u;
    if (from && (risk_date_parse(from, &o.from) < 0 || strlen(from) != 10))
        return cli_usage(cmd, "--from wants a date YYYY-MM-DD, not '%s'", from);
    if (to && (risk_date_parse(to, &o.to) < 0 || strlen(to) != 10))
        return cli_usage(cmd, "--to wants a date YYYY-MM-DD, not '%s'", to);
    if (threads) {
        if (parse_size(threads, 1, 64, &z) < 0)
            return cli_usage(cmd, "--threads wants 1 to 64, not '%s'", threads);
        o.params.mc.threads = (unsigned)z;
    }
    if (drawn) {
        if (parse_usd(drawn, &o.drawn) < 0)
            return cli_usage(cmd, "--drawn wants a USD amount from 0 to %g, not '%s'",
                             RISK_USD_MAX, drawn);
        o.has_drawn = true;
    }
    if (mcall && (parse_double(mcall, &o.params.margin_call_hf) < 0 ||
                  o.params.margin_call_hf < 1.0))
        return cli_usage(cmd, "--margin-call wants a health factor >= 1.0, not '%s'", mcall);
    if (o.n_prices == 0 || !o.positions)
        return cli_usage(cmd, "needs --prices FILE.csv and --positions FILE.json");
    if (o.from != INT32_MIN && o.to != INT32_MAX && o.from > o.to)
        return cli_usage(cmd, "--from is after --to");
    if (o.collateral && !o.has_drawn)
        return cli_usage(cmd, "--collateral needs --drawn USD (the amount drawn on the line)");

    calc_data d;
    memset(&d, 0, sizeof d);
    err e;
    err_clear(&e);
    int rc = EXIT_OK;
    if (calc_load_and_run(&o, &d, &e) < 0) {
        rc = cli_fail(&e);
    } else if (o.json) {
        if (print_json(&o, &d) < 0) {
            err_set(&e, ERR_IO, "cannot write the JSON output");
            rc = cli_fail(&e);
        }
    } else {
        print_text(&o, &d);
    }
    calc_data_free(&d);
    return rc;
}

/* ---- risk report: the live desk ------------------------------------------------------ */

static const char report_usage[] =
    "usage: fusion risk report [--json] [--drawn USD] [--limits FILE.csv] [--account ADDR ...]\n"
    "         [--collateral FILE.csv] [--scenarios FILE.csv] [--prices-dir DIR] [--window N]\n"
    "         [--paths N] [--seed N] [--now UNIX]\n"
    "       fusion risk set-drawn USD   (the amount drawn on the credit line, a desk setting)\n";

#define MAX_EXTRA_ACCOUNTS 64

static json_t *addr_json(const addr *a)
{
    char s[ADDR_STR_MAX];
    addr_to_lower(s, a);
    return json_string(s);
}

static json_t *position_json(const risk_position *p)
{
    char dec[U256_DEC_MAX], units[AMOUNT_STR_MAX];
    u256_to_dec(dec, &p->amount);
    amount_format(units, &p->amount, p->decimals);
    json_t *o = json_object();
    json_object_set_new(o, "chain_id", json_integer((json_int_t)p->chain_id));
    json_object_set_new(o, "chain", json_string(p->chain));
    json_object_set_new(o, "kind", json_string(risk_pos_kind_str(p->kind)));
    json_object_set_new(o, "account", addr_json(&p->account));
    json_object_set_new(o, "asset", json_string(p->asset));
    json_object_set_new(o, "token", p->native ? json_null() : addr_json(&p->token));
    json_object_set_new(o, "amount", json_string(dec));
    json_object_set_new(o, "decimals", json_integer((json_int_t)p->decimals));
    json_object_set_new(o, "units", json_string(units));
    json_object_set_new(o, "usd", jnum(p->usd));
    if (p->kind != RISK_POS_WALLET) {
        if (p->kind != RISK_POS_BRIDGE_IN_FLIGHT)
            json_object_set_new(o, "escrow", addr_json(&p->escrow));
        json_object_set_new(o, "counterparty", addr_json(&p->counterparty));
    }
    return o;
}

static json_t *price_json(const risk_price_info *pi)
{
    json_t *o = json_object();
    json_object_set_new(o, "asset", json_string(pi->asset));
    json_object_set_new(o, "usd", jnum(pi->usd));
    json_object_set_new(o, "source", json_string(pi->oracle ? "oracle" : "history"));
    if (pi->oracle) {
        json_object_set_new(o, "chain_id", json_integer((json_int_t)pi->chain_id));
        json_object_set_new(o, "feed", addr_json(&pi->feed));
        json_object_set_new(o, "round_id", json_string(pi->round_id));
    }
    json_object_set_new(o, "updated_at", json_integer((json_int_t)pi->updated_at));
    json_object_set_new(o, "stale", json_boolean(pi->stale));
    return o;
}

json_t *risk_cli_snapshot_json(const risk_snapshot *s)
{
    const risk_params *p = &s->params;
    json_t *root = json_object();
    json_object_set_new(root, "units", json_string("USD, floating-point estimates; amounts in "
                                                   "exact base units"));
    json_object_set_new(root, "as_of", json_integer((json_int_t)s->as_of));
    json_t *acc = json_array();
    for (size_t i = 0; i < s->n_accounts; i++)
        json_array_append_new(acc, addr_json(&s->accounts[i]));
    json_object_set_new(root, "accounts", acc);
    json_t *ch = json_array();
    for (size_t i = 0; i < s->n_chains; i++) {
        const risk_chain_status *c = &s->chains[i];
        json_t *o = json_pack("{s:I,s:s,s:b,s:b}", "chain_id", (json_int_t)c->chain_id, "name",
                              c->name, "reachable", c->reachable, "synced", c->synced);
        json_object_set_new(o, "head", c->reachable ? json_integer((json_int_t)c->head)
                                                    : json_null());
        json_object_set_new(o, "synced_block", c->synced ? json_integer((json_int_t)c->synced_block)
                                                         : json_null());
        json_object_set_new(o, "balances_block",
                            c->balances_synced ? json_integer((json_int_t)c->balances_block)
                                               : json_string("latest"));
        json_object_set_new(o, "error", c->error[0] ? json_string(c->error) : json_null());
        json_array_append_new(ch, o);
    }
    json_object_set_new(root, "chains", ch);
    json_t *pos = json_array();
    for (size_t i = 0; i < s->n_pos; i++)
        json_array_append_new(pos, position_json(&s->pos[i]));
    json_object_set_new(root, "positions", pos);
    json_t *pr = json_array();
    for (size_t i = 0; i < s->n_prices; i++)
        json_array_append_new(pr, price_json(&s->prices[i]));
    json_object_set_new(root, "prices", pr);
    json_t *ex = json_object();
    for (size_t i = 0; i < s->n_assets; i++)
        json_object_set_new(ex, s->assets[i].asset, jnum(s->assets[i].usd));
    json_object_set_new(root, "exposure", ex);
    json_object_set_new(root, "gross_usd", jnum(s->gross_usd));
    json_object_set_new(root, "drawn", jnum(s->drawn));
    json_object_set_new(root, "limits",
                        json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I}", "var_1d_usd",
                                  jnum(s->limits.var_1d), "es_1d_usd", jnum(s->limits.es_1d),
                                  "asset_share", jnum(s->limits.asset_share), "chain_share",
                                  jnum(s->limits.chain_share), "counterparty_share",
                                  jnum(s->limits.counterparty_share), "margin_call_hf",
                                  jnum(s->limits.margin_call_hf), "price_max_age_s",
                                  (json_int_t)s->limits.price_max_age, "sync_lag_blocks",
                                  (json_int_t)s->limits.sync_lag_blocks));
    if (s->has_report) {
        const risk_report *r = &s->report;
        char d0[11], d1[11];
        risk_date_format(s->hist_first, d0);
        risk_date_format(s->hist_last, d1);
        json_t *va = json_array();
        for (size_t i = 0; i < s->n_report_assets; i++)
            json_array_append_new(va, json_string(s->report_assets[i]));
        json_object_set_new(root, "var_assets", va);
        json_object_set_new(root, "history",
                            json_pack("{s:s,s:s,s:s,s:I}", "first_date", d0, "last_date", d1,
                                      "source", "shipped daily closes (data/prices) + observed "
                                      "oracle rounds", "observed_days",
                                      (json_int_t)s->hist_observed_days));
        json_object_set_new(root, "levels",
                            json_pack("{s:f,s:f,s:f,s:I}", "var", p->var_level, "es",
                                      p->es_level, "horizon_days", p->horizon_days, "window",
                                      (json_int_t)p->window));
        json_object_set_new(root, "total_value", jnum(r->total_value));
        json_object_set_new(root, "historical", measures_json(&r->hist));
        json_t *ew = measures_json(&r->ewma);
        json_object_set_new(ew, "sigma_1d", jnum(r->ewma_sigma));
        json_object_set_new(root, "ewma", ew);
        json_t *mc = measures_json(&r->mc);
        json_object_set_new(mc, "paths", json_integer((json_int_t)p->mc.paths));
        json_object_set_new(mc, "seed", json_integer((json_int_t)p->mc.seed));
        json_object_set_new(root, "monte_carlo", mc);
        if (r->has_backtest) {
            const risk_kupiec *k = &r->backtest;
            json_object_set_new(root, "backtest",
                                json_pack("{s:I,s:I,s:o,s:o,s:o,s:s}", "days",
                                          (json_int_t)k->days, "exceptions",
                                          (json_int_t)k->exceptions, "expected",
                                          jnum(k->expected), "lr", jnum(k->lr), "p_value",
                                          jnum(k->p_value), "zone", k->zone));
        } else {
            json_object_set_new(root, "backtest", json_null());
        }
        json_object_set_new(root, "credit_line",
                            r->has_credit ? credit_json(&r->credit, s->limits.margin_call_hf)
                                          : json_null());
        json_object_set_new(root, "stress", s->scen ? stress_json(r, s->scen) : json_null());
    } else {
        json_object_set_new(root, "report_note", json_string(s->report_note));
    }
    json_t *al = json_array();
    for (size_t i = 0; i < s->n_alerts; i++)
        json_array_append_new(al, risk_cli_alert_json(&s->alerts[i]));
    json_object_set_new(root, "alerts", al);
    json_object_set_new(root, "alerts_raised", json_integer((json_int_t)s->raised));
    json_object_set_new(root, "alerts_cleared", json_integer((json_int_t)s->cleared));
    json_object_set_new(root, "what_if", json_boolean(s->what_if));
    json_t *cj = json_array();
    for (size_t i = 0; i < s->n_conds; i++)
        json_array_append_new(cj, json_pack("{s:s,s:s,s:s,s:s}", "key", s->conds[i].key, "kind",
                                            s->conds[i].kind, "severity",
                                            alert_severity_str(s->conds[i].severity), "message",
                                            s->conds[i].message));
    json_object_set_new(root, "conditions", cj);
    return root;
}

static int report_json(const risk_snapshot *s)
{
    json_t *root = risk_cli_snapshot_json(s);
    int rc = cli_json_print(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(root);
    return rc == 0 ? 0 : -1;
}

static void report_text(const risk_snapshot *s)
{
    const risk_params *p = &s->params;
    char b1[48], b2[48];
    printf("Risk report (USD figures are floating-point estimates; amounts are exact)\n\n");
    /* chain names, symbols and error texts are stored or outside text: shown escaped */
    char nm[RISK_SHOWN_MAX], sym[RISK_SHOWN_MAX], msg[6 * ERR_MSG_MAX + 1];
    for (size_t i = 0; i < s->n_chains; i++) {
        const risk_chain_status *c = &s->chains[i];
        text_safe_str(nm, sizeof nm, c->name);
        if (c->reachable)
            printf("chain %-16s id %-10llu head %llu%s\n", nm,
                   (unsigned long long)c->chain_id, (unsigned long long)c->head,
                   c->synced ? "" : " (escrows never synced)");
        else
            printf("chain %-16s id %-10llu UNREACHABLE: %s\n", nm,
                   (unsigned long long)c->chain_id, text_safe_str(msg, sizeof msg, c->error));
    }
    printf("\n  %-10s %-16s %-15s %-8s %28s %17s\n", "chain", "account", "kind", "asset",
           "amount", "USD");
    for (size_t i = 0; i < s->n_pos; i++) {
        const risk_position *q = &s->pos[i];
        char a[ADDR_STR_MAX], units[AMOUNT_STR_MAX];
        addr_to_checksum(a, &q->account);
        amount_format(units, &q->amount, q->decimals);
        printf("  %-10.10s %.8s..%.4s %-15s %-8s %28s %17s\n",
               text_safe_str(nm, sizeof nm, q->chain), a, a + 38, risk_pos_kind_str(q->kind),
               text_safe_str(sym, sizeof sym, q->asset), units, usd(q->usd, b1, sizeof b1));
    }
    printf("\n  %-8s %14s  %s\n", "price", "USD", "source");
    for (size_t i = 0; i < s->n_prices; i++) {
        const risk_price_info *pi = &s->prices[i];
        char f[ADDR_STR_MAX];
        addr_to_checksum(f, &pi->feed);
        if (pi->oracle)
            printf("  %-8s %14.6f  oracle %s round %s%s\n", text_safe_str(sym, sizeof sym, pi->asset),
                   pi->usd, f, pi->round_id,
                   pi->stale ? " STALE" : "");
        else {
            char day[11];
            risk_date_format((int32_t)(pi->updated_at / 86400), day);
            printf("  %-8s %14.6f  last shipped daily close (%s): no feed answered\n",
                   text_safe_str(sym, sizeof sym, pi->asset), pi->usd, day);
        }
    }
    printf("\n  gross value %s USD, drawn %s USD\n\n", usd(s->gross_usd, b1, sizeof b1),
           usd(s->drawn, b2, sizeof b2));
    if (s->has_report) {
        const risk_report *r = &s->report;
        char d0[11], d1[11];
        risk_date_format(s->hist_first, d0);
        risk_date_format(s->hist_last, d1);
        printf("history   daily closes %s .. %s (the last %zu from oracle rounds), window %zu "
               "returns\n", d0, d1, s->hist_observed_days, p->window);
        char hv[64], he[64], hv10[64], he10[64];
        snprintf(hv, sizeof hv, "VaR %g%% 1d", p->var_level * 100.0);
        snprintf(he, sizeof he, "ES %g%% 1d", p->es_level * 100.0);
        snprintf(hv10, sizeof hv10, "VaR %g%% %gd", p->var_level * 100.0, p->horizon_days);
        snprintf(he10, sizeof he10, "ES %g%% %gd", p->es_level * 100.0, p->horizon_days);
        printf("  %-13s %17s %17s %17s %17s\n", "loss (USD)", hv, he, hv10, he10);
        print_measure_row("historical", &r->hist);
        print_measure_row("EWMA", &r->ewma);
        print_measure_row("Monte Carlo", &r->mc);
        if (r->has_backtest)
            printf("backtest  %zu exceptions in %zu days (%.1f expected), Kupiec p-value %.4f, "
                   "zone %s\n\n", r->backtest.exceptions, r->backtest.days, r->backtest.expected,
                   r->backtest.p_value, r->backtest.zone);
        else
            printf("backtest  not run (history too short)\n\n");
        risk_params pp = *p;
        pp.margin_call_hf = s->limits.margin_call_hf;
        print_credit_stress(r, &pp, s->scen, false);
    } else {
        printf("no VaR: %s\n", text_safe_str(msg, sizeof msg, s->report_note));
    }
    if (s->what_if) {
        printf("\nwhat-if (--limits/--drawn): %zu conditions hold under them; the desk's "
               "alerts are not changed\n", s->n_conds);
        for (size_t i = 0; i < s->n_conds; i++)
            printf("  %-8s  %s\n", alert_severity_str(s->conds[i].severity),
                   text_safe_str(msg, sizeof msg, s->conds[i].message));
    }
    printf("\nalerts (%zu open; %zu raised, %zu cleared by this refresh)\n", s->n_alerts,
           s->raised, s->cleared);
    for (size_t i = 0; i < s->n_alerts; i++)
        risk_cli_alert_print(&s->alerts[i]);
}

static int cmd_risk_report(cli_ctx *ctx, int argc, char **argv)
{
    risk_service_opts o;
    risk_service_opts_default(&o);
    addr extra[MAX_EXTRA_ACCOUNTS];
    size_t n_extra = 0;
    bool json = ctx->json;
    const char *cmd = "risk report";
    const char *drawn = NULL, *window = NULL, *paths = NULL, *seed = NULL, *now = NULL;
    const char *accounts[MAX_EXTRA_ACCOUNTS];
    cli_opt_list account_list = {accounts, MAX_EXTRA_ACCOUNTS, 0};
    bool help = false;
    const cli_opt opts[] = {
        {"json", CLI_OPT_FLAG, &json},
        {"drawn", CLI_OPT_STR, &drawn},
        {"limits", CLI_OPT_STR, &o.limits_path},
        {"account", CLI_OPT_LIST, &account_list},
        {"collateral", CLI_OPT_STR, &o.collateral_path},
        {"scenarios", CLI_OPT_STR, &o.scenarios_path},
        {"prices-dir", CLI_OPT_STR, &o.prices_dir},
        {"window", CLI_OPT_STR, &window},
        {"paths", CLI_OPT_STR, &paths},
        {"seed", CLI_OPT_STR, &seed},
        {"now", CLI_OPT_STR, &now},
        {"help", CLI_OPT_FLAG, &help},
    };
    size_t n_pos, z;
    int u = cli_opts(cmd, argc - 1, argv + 1, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (help) {
        fputs(report_usage, stdout);
        return EXIT_OK;
    }
    if (n_pos > 0)
        return cli_usage(cmd, "unexpected argument '%s'", argv[2]);
    err e;
    err_clear(&e);
    if (drawn) {
        if (parse_usd(drawn, &o.drawn) < 0)
            return cli_usage(cmd, "--drawn wants a USD amount from 0 to %g, not '%s'",
                             RISK_USD_MAX, drawn);
        o.has_drawn = true;
    }
    for (size_t i = 0; i < account_list.n; i++, n_extra++)
        if (addr_parse(&extra[n_extra], accounts[i], &e) < 0)
            return cli_usage(cmd, "--account: %s", e.msg);
    if ((u = params_opts(cmd, window, paths, seed, &o.params)) != 0)
        return u;
    if (now) {
        if (parse_size(now, 1, (size_t)INT64_MAX, &z) < 0)
            return cli_usage(cmd, "--now wants unix seconds, not '%s'", now);
        o.now = (int64_t)z;
    }
    o.extra_accounts = extra;
    o.n_extra = n_extra;
    store *db = NULL;
    /* on a desk whose book is on a server: the escrows, checkpoints and bridge legs there */
    if (cli_desk_open(ctx, &db, &e) < 0 || risk_cli_book(db, ctx->home, &o, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    risk_snapshot *snap = NULL;
    int rc = EXIT_OK;
    /* The drawn amount: --drawn, else the credit facilities' ledgers, else set-drawn. */
    size_t n_fac = 0;
    double ledger_usd = 0.0;
    /* a facility's currency without a price: the feeds are read, then it is asked again */
    if (!o.has_drawn && credit_drawn_usd_fresh(db, &o, (int32_t)((int64_t)time(NULL) / 86400),
                                               &ledger_usd, &n_fac, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    if (!o.has_drawn && n_fac) {
        o.has_drawn = true;
        o.drawn = ledger_usd;
    }
    if (risk_service_refresh(db, &o, &snap, &e) < 0) {
        rc = cli_fail(&e);
    } else if (json) {
        if (report_json(snap) < 0) {
            err_set(&e, ERR_IO, "cannot write the JSON output");
            rc = cli_fail(&e);
        }
    } else {
        report_text(snap);
    }
    risk_snapshot_free(&snap);
    store_close(&db);
    return rc;
}

static int cmd_risk_set_drawn(cli_ctx *ctx, int argc, char **argv)
{
    double v;
    if (argc != 3 || parse_usd(argv[2], &v) < 0)
        return cli_usage("risk set-drawn", "wants one USD amount from 0 to %g (the amount drawn "
                         "on the credit line)", RISK_USD_MAX);
    err e;
    err_clear(&e);
    store *db = NULL;
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    char txt[64];
    snprintf(txt, sizeof txt, "%.2f", v);
    json_t *details = json_pack("{s:s}", "drawn_usd", txt);
    /* The setting and its audit row commit together, or neither does. */
    int rc = store_begin(db, &e);
    if (rc == 0)
        rc = store_setting_put(db, "drawn_usd", txt, ctx->operator_name, &e);
    if (rc == 0)
        rc = store_audit(db, ctx->home, ctx->operator_name, "risk.set_drawn", details, &e);
    if (rc == 0)
        rc = store_commit(db, &e);
    if (rc < 0)
        store_rollback(db);
    json_decref(details);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    if (!ctx->json)
        printf("drawn amount set to %s USD\n", txt);
    return EXIT_OK;
}

int cmd_risk(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("risk", "needs a subcommand: calc, report, set-drawn");
    if (strcmp(argv[1], "calc") == 0)
        return cmd_risk_calc(ctx, argc, argv);
    if (strcmp(argv[1], "report") == 0)
        return cmd_risk_report(ctx, argc, argv);
    if (strcmp(argv[1], "set-drawn") == 0)
        return cmd_risk_set_drawn(ctx, argc, argv);
    return cli_usage("risk", "unknown subcommand '%s' (want: calc, report, set-drawn)", argv[1]);
}
