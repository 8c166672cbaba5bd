/* report.c: one risk calculation over given returns and positions (historical, EWMA,
 * Monte Carlo, backtest, credit line, stress), the entry point shared by
 * `fusion risk calc` and, later, the live risk service. */
#include "risk/risk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void risk_params_default(risk_params *p)
{
    memset(p, 0, sizeof *p);
    p->window = 500;
    p->var_level = 0.99;
    p->es_level = 0.975;
    p->horizon_days = 10.0;
    p->lambda = 0.94;
    p->mc.paths = 100000;
    p->mc.seed = 1;
    p->mc.threads = 2;
    p->backtest_days = 250;
    p->margin_call_hf = 1.10;
}

static risk_measures scaled(risk_var_es d1, double horizon)
{
    risk_measures m;
    double k = sqrt(horizon);
    m.d1 = d1;
    m.dh.var = k * d1.var;
    m.dh.es = k * d1.es;
    return m;
}

static int check_params(const risk_input *in, const risk_params *p, err *e)
{
    if (in->n_assets == 0)
        return err_set(e, ERR_INVALID, "no assets to compute risk for");
    if (p->window < 2)
        return err_set(e, ERR_INVALID, "the window must hold at least 2 returns");
    if (in->n_ret < p->window)
        return err_set(e, ERR_INVALID, "too few returns for the window: have %zu, need %zu",
                       in->n_ret, p->window);
    if (!(p->var_level > 0.0 && p->var_level < 1.0) || !(p->es_level > 0.0 && p->es_level < 1.0))
        return err_set(e, ERR_INVALID, "confidence levels must lie strictly between 0 and 1");
    if (!(p->lambda > 0.0 && p->lambda < 1.0))
        return err_set(e, ERR_INVALID, "EWMA lambda must lie strictly between 0 and 1");
    if (!(p->horizon_days >= 1.0) || !isfinite(p->horizon_days))
        return err_set(e, ERR_INVALID, "the horizon must be at least 1 day");
    if (p->mc.paths < 2)
        return err_set(e, ERR_INVALID, "Monte Carlo needs at least 2 paths");
    double gross = 0.0;
    for (size_t i = 0; i < in->n_assets; i++) {
        if (!isfinite(in->value[i]))
            return err_set(e, ERR_INVALID, "position %zu is not a finite number", i);
        gross += fabs(in->value[i]);
    }
    if (!isfinite(gross) || gross > (double)in->n_assets * RISK_USD_MAX)
        return err_set(e, ERR_INVALID, "the positions add up to %g USD: each must be at most %g",
                       gross, RISK_USD_MAX);
    for (size_t k = 0; k < in->n_ret * in->n_assets; k++)
        if (!isfinite(in->ret[k]))
            return err_set(e, ERR_INVALID, "return %zu is not finite", k);
    return 0;
}

int risk_report_run(const risk_input *in, const risk_params *p, risk_report *out, err *e)
{
    memset(out, 0, sizeof *out);
    if (check_params(in, p, e) < 0)
        return -1;
    size_t n = in->n_assets, T = in->n_ret, N = p->window;
    const double *win = in->ret + (T - N) * n;
    size_t scratch_n = N > p->mc.paths ? N : p->mc.paths;
    double *loss = malloc(T * sizeof *loss);
    double *scratch = malloc(scratch_n * sizeof *scratch);
    double *cov = malloc(n * n * sizeof *cov);
    double *chol = malloc(n * n * sizeof *chol);
    double *mc = malloc(p->mc.paths * sizeof *mc);
    double *mc_lin = malloc(p->mc.paths * sizeof *mc_lin);
    int rc = -1;
    if (!loss || !scratch || !cov || !chol || !mc || !mc_lin) {
        err_set(e, ERR_NOMEM, "out of memory for the risk calculation");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        out->total_value += in->value[i];

    /* Historical: full revaluation of every day, VaR/ES over the last N. */
    risk_scenario_loss(in->ret, T, n, in->value, loss);
    out->hist = scaled(risk_var_es_from_losses(loss + (T - N), N, p->var_level, p->es_level,
                                               scratch),
                       p->horizon_days);

    /* The same measure over the windows ending on each of the last days (what is there). */
    size_t nh = T - N + 1 < RISK_VAR_HIST_MAX ? T - N + 1 : RISK_VAR_HIST_MAX;
    for (size_t k = 0; k < nh; k++) {
        size_t end = T - (nh - 1 - k);
        out->var_hist[k] =
            risk_var_es_from_losses(loss + (end - N), N, p->var_level, p->es_level, scratch).var;
    }
    out->n_var_hist = nh;

    /* EWMA covariance and the delta-normal measures. */
    risk_ewma_cov(win, N, n, p->lambda, cov);
    out->ewma_sigma = risk_portfolio_sigma(cov, in->value, n);
    out->ewma = scaled(risk_parametric(out->ewma_sigma, p->var_level, p->es_level),
                       p->horizon_days);

    /* Monte Carlo from the same covariance. */
    if (risk_cholesky(cov, n, chol, e) < 0)
        goto done;
    if (risk_mc_losses(chol, in->value, n, &p->mc, mc, mc_lin, e) < 0)
        goto done;
    out->mc = scaled(risk_var_es_from_losses(mc, p->mc.paths, p->var_level, p->es_level, scratch),
                     p->horizon_days);
    out->mc_linear =
        risk_var_es_from_losses(mc_lin, p->mc.paths, p->var_level, p->es_level, scratch);

    /* Backtest when the history is long enough. */
    if (p->backtest_days > 0 && T >= N + p->backtest_days) {
        if (risk_backtest_hist(loss, T, N, p->backtest_days, p->var_level, scratch,
                               &out->backtest, e) < 0)
            goto done;
        out->has_backtest = 1;
    }

    if (in->terms) {
        if (risk_credit_line(in->value, in->terms, n, in->drawn, out->hist.dh.var,
                             p->margin_call_hf, &out->credit, e) < 0)
            goto done;
        out->has_credit = 1;
    }
    if (in->n_scenarios > 0) {
        out->stress = calloc(in->n_scenarios, sizeof *out->stress);
        if (!out->stress) {
            err_set(e, ERR_NOMEM, "out of memory for the stress table");
            goto done;
        }
        out->n_stress = in->n_scenarios;
        for (size_t s = 0; s < in->n_scenarios; s++) {
            if (risk_stress_apply(in->value, in->scenarios[s].move, in->terms, n, in->drawn,
                                  p->margin_call_hf, &out->stress[s], e) < 0) {
                err_prefix(e, "scenario %s", in->scenarios[s].name);
                goto done;
            }
        }
    }
    rc = 0;
done:
    free(loss);
    free(scratch);
    free(cov);
    free(chol);
    free(mc);
    free(mc_lin);
    if (rc < 0)
        risk_report_free(out);
    return rc;
}

void risk_report_free(risk_report *r)
{
    if (!r)
        return;
    free(r->stress);
    r->stress = NULL;
    r->n_stress = 0;
}
