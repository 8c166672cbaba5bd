/* risk_bench.c: in-process timing of the risk engine for tests/bench/risk_bench.sh: the full
 * `risk calc` pipeline (load files, historical + EWMA + Monte Carlo + backtest + credit line +
 * stress) and Monte Carlo alone, as medians of R runs, printed as one JSON line. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "risk/risk.h"
#include "risk/risk_load.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static double cpu_now(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_d);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static void die(const err *e)
{
    fprintf(stderr, "risk_bench: %s\n", e->msg);
    exit(1);
}

/* One full run, as `fusion risk calc --drawn` does it. Returns the EWMA covariance. */
static void full_run(const char *dir, const risk_params *p, double **cov_out, double **val_out,
                     size_t *n_out)
{
    char f[4096];
    err e;
    risk_prices *pr = risk_prices_new();
    snprintf(f, sizeof f, "%s/prices.csv", dir);
    if (!pr || risk_prices_add_file(pr, f, &e) < 0)
        die(&e);
    size_t nk = risk_prices_asset_count(pr);
    const char **known = calloc(nk, sizeof *known);
    for (size_t i = 0; i < nk; i++)
        known[i] = risk_prices_asset_name(pr, i);
    risk_positions *pos;
    snprintf(f, sizeof f, "%s/positions.json", dir);
    if (risk_positions_load(f, known, nk, &pos, &e) < 0)
        die(&e);
    free(known);
    size_t n = pos->n;
    const char *const *assets = (const char *const *)pos->assets;
    risk_panel *panel;
    size_t keep = p->window + p->backtest_days + 1; /* what `risk calc` keeps */
    if (risk_panel_build(pr, assets, n, INT32_MIN, INT32_MAX, keep, &panel, &e) < 0)
        die(&e);
    size_t T = panel->n_days - 1;
    double *ret = malloc(T * n * sizeof *ret);
    if (risk_log_returns(panel->close, panel->n_days, n, ret, &e) < 0)
        die(&e);
    risk_collateral *terms = calloc(n, sizeof *terms);
    snprintf(f, sizeof f, "%s/collateral.csv", dir);
    if (risk_collateral_load(f, assets, n, terms, &e) < 0)
        die(&e);
    risk_scenarios *sc;
    snprintf(f, sizeof f, "%s/scenarios.csv", dir);
    if (risk_scenarios_load(f, assets, n, 0, &sc, &e) < 0)
        die(&e);
    risk_scenario_moves *mv = calloc(sc->n, sizeof *mv);
    for (size_t s = 0; s < sc->n; s++)
        mv[s] = (risk_scenario_moves){sc->name[s], sc->move + s * n};
    risk_input in = {n, T, ret, pos->value, terms, 1e7, mv, sc->n};
    risk_report r;
    if (risk_report_run(&in, p, &r, &e) < 0)
        die(&e);
    if (cov_out) {
        *cov_out = malloc(n * n * sizeof **cov_out);
        risk_ewma_cov(ret + (T - p->window) * n, p->window, n, p->lambda, *cov_out);
        *val_out = malloc(n * sizeof **val_out);
        memcpy(*val_out, pos->value, n * sizeof **val_out);
        *n_out = n;
    }
    risk_report_free(&r);
    free(mv);
    risk_scenarios_free(&sc);
    free(terms);
    free(ret);
    risk_panel_free(&panel);
    risk_positions_free(&pos);
    risk_prices_free(&pr);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: risk_bench DIR REPEAT [WINDOW]\n");
        return 2;
    }
    int rep = atoi(argv[2]);
    if (rep < 1 || rep > 1000)
        rep = 5;
    risk_params p;
    risk_params_default(&p);
    if (argc > 3)
        p.window = (size_t)atoi(argv[3]);
    double *full = calloc((size_t)rep, sizeof *full), *full_cpu = calloc((size_t)rep, sizeof *full);
    double *mc_cpu = calloc((size_t)rep, sizeof *mc_cpu);
    double *mc1 = calloc((size_t)rep, sizeof *mc1), *mc2 = calloc((size_t)rep, sizeof *mc2);
    double *cov = NULL, *val = NULL;
    size_t n = 0;
    for (int k = 0; k < rep; k++) {
        double t0 = now(), c0 = cpu_now();
        full_run(argv[1], &p, k == 0 ? &cov : NULL, &val, &n);
        full[k] = now() - t0;
        full_cpu[k] = cpu_now() - c0;
    }
    /* Monte Carlo alone: Cholesky, 100,000 paths of normals, L z, full revaluation. */
    double *chol = malloc(n * n * sizeof *chol);
    double *loss = malloc(p.mc.paths * sizeof *loss);
    err e;
    for (int k = 0; k < rep; k++) {
        for (unsigned th = 1; th <= 2; th++) {
            risk_mc_params mp = p.mc;
            mp.threads = th;
            double t0 = now(), c0 = cpu_now();
            if (risk_cholesky(cov, n, chol, &e) < 0 ||
                risk_mc_losses(chol, val, n, &mp, loss, NULL, &e) < 0)
                die(&e);
            (th == 1 ? mc1 : mc2)[k] = now() - t0;
            if (th == 2)
                mc_cpu[k] = cpu_now() - c0;
        }
    }
    printf("{\"full_s\": %.6f, \"full_cpu_s\": %.6f, \"mc_s\": %.6f, \"mc_cpu_s\": %.6f, "
           "\"mc_1thread_s\": %.6f, \"paths\": %zu, \"assets\": %zu}\n",
           median(full, rep), median(full_cpu, rep), median(mc2, rep), median(mc_cpu, rep),
           median(mc1, rep), p.mc.paths, n);
    free(full);
    free(full_cpu);
    free(mc_cpu);
    free(mc1);
    free(mc2);
    free(cov);
    free(val);
    free(chol);
    free(loss);
    return 0;
}
