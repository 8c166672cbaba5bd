/* risk.h: the pure risk math of fusion (issue 7 "Conventions"): log returns, historical,
 * EWMA-parametric and Monte Carlo VaR/ES, the Kupiec backtest, the credit line and stress
 * scenarios. Plain arrays in, plain numbers out: no files, no database, no network, so a
 * risk service can feed it live positions later. All USD figures are floating-point
 * estimates. Matrices are row-major; r[t * n + i] is the return of asset i on day t. */
#ifndef FUSION_RISK_RISK_H
#define FUSION_RISK_RISK_H

#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/err.h"

#define RISK_WUR FUSION_WUR /* base/attr.h */

/* The ranges of the inputs, so that no sum, product or ratio of them overflows or loses
 * all its digits: a position's or a credit line's USD value is 0 or of magnitude
 * [RISK_USD_MIN, RISK_USD_MAX]; a price lies in [RISK_PRICE_MIN, RISK_PRICE_MAX] (their
 * ratio, hence every log return, stays finite). Subnormal numbers are never valid input. */
#define RISK_USD_MIN 1e-9
#define RISK_USD_MAX 1e15
#define RISK_PRICE_MIN 1e-18
#define RISK_PRICE_MAX 1e18

/* ---- distributions ---------------------------------------------------------------- */

/* Phi^-1(p), the standard normal quantile (Wichura's AS241 PPND16, about 1e-16 relative).
 * Returns -INFINITY for p == 0, INFINITY for p == 1 and NAN outside [0, 1]. */
double risk_norm_ppf(double p);
/* phi(x), the standard normal density. */
double risk_norm_pdf(double x);
/* Phi(x), the standard normal distribution function (via erfc). */
double risk_norm_cdf(double x);

/* ---- returns, P&L, quantiles -------------------------------------------------------- */

/* r[t][i] = ln(close[t+1][i] / close[t][i]) for t < n_days - 1. Every close must be finite
 * and > 0 (the loaders guarantee it); fails with the first offending index otherwise. */
int risk_log_returns(const double *close, size_t n_days, size_t n_assets, double *ret,
                     err *e) RISK_WUR;

/* Full revaluation loss per day: loss[t] = -sum_i value[i] * (exp(r[t][i]) - 1). */
void risk_scenario_loss(const double *ret, size_t n_ret, size_t n_assets, const double *value,
                        double *loss);

/* The c-quantile of x[0..n) with numpy.quantile's default 'linear' method (Hyndman-Fan 7,
 * numpy's lerp included). Reorders x in place; n >= 1, 0 <= c <= 1. */
double risk_quantile(double *x, size_t n, double c);

/* VaR_c = quantile(loss, var_level); ES = mean of the losses >= quantile(loss, es_level).
 * scratch holds n doubles (loss itself is not modified). */
typedef struct risk_var_es {
    double var;
    double es;
} risk_var_es;
risk_var_es risk_var_es_from_losses(const double *loss, size_t n, double var_level,
                                    double es_level, double *scratch);

/* ---- EWMA, parametric, Cholesky ----------------------------------------------------- */

/* RiskMetrics EWMA: Sigma_0 = (1/T) sum_t r_t r_t' (zero-mean sample covariance of the
 * window), then Sigma_t = lambda Sigma_{t-1} + (1 - lambda) r_t r_t' for t = 1..T in order.
 * cov gets the final n x n matrix. T >= 1. */
void risk_ewma_cov(const double *ret, size_t n_ret, size_t n_assets, double lambda, double *cov);

/* sqrt(V' Sigma V); negative rounding noise is clamped to 0. */
double risk_portfolio_sigma(const double *cov, const double *value, size_t n_assets);

/* Delta-normal: VaR = z_c sigma, ES = phi(z_e) / (1 - e) sigma with z = Phi^-1. */
risk_var_es risk_parametric(double sigma, double var_level, double es_level);

/* Lower-triangular L with L L' = a (n x n, symmetric). Positive semi-definite input is
 * accepted: a pivot <= 1e-12 * max diagonal (e.g. an asset whose returns are all zero)
 * gives a zero column. Fails if a is not symmetric positive semi-definite within that
 * tolerance or has non-finite entries. */
int risk_cholesky(const double *a, size_t n, double *l, err *e) RISK_WUR;

/* ---- Monte Carlo -------------------------------------------------------------------- */

/* xoshiro256** 1.0 (Blackman and Vigna), seeded by splitmix64. */
typedef struct risk_rng {
    uint64_t s[4];
} risk_rng;

/* splitmix64 step: advances *state and returns the next output. */
uint64_t risk_splitmix64(uint64_t *state);
/* s[0..3] = four successive splitmix64 outputs from `seed`. */
void risk_rng_seed(risk_rng *rng, uint64_t seed);
uint64_t risk_rng_next(risk_rng *rng);
/* Advances by 2^128 steps: successive jumps give non-overlapping streams. */
void risk_rng_jump(risk_rng *rng);
/* ((x >> 11) + 0.5) * 2^-53: uniform on (0, 1), never 0 or 1. */
double risk_rng_uniform(risk_rng *rng);
/* Tables of the 256-layer ziggurat for N(0,1) (Marsaglia and Tsang 2000, with Doornik's
 * 2005 fix: the layer index and the magnitude come from disjoint bits of one draw). */
typedef struct risk_normal_table {
    uint64_t k[256];
    double w[256];
    double f[256];
} risk_normal_table;

void risk_normal_table_init(risk_normal_table *t);
/* One N(0,1) deviate. A draw x = next(): layer i = x & 255, sign = bit 8, magnitude m = the
 * next 52 bits; z = +-m w[i], accepted at once when m < k[i] (about 99 % of draws). Else, in
 * layer 0 the tail beyond R = 3.6541528853610088 is sampled by Marsaglia's method from two
 * uniforms, in the other layers one uniform decides by the density; rejections start over. */
double risk_rng_normal(risk_rng *rng, const risk_normal_table *t);

#define RISK_MC_BLOCK 1024 /* paths per stream */

typedef struct risk_mc_params {
    size_t paths;     /* default 100,000 */
    uint64_t seed;    /* default 1 */
    unsigned threads; /* default 2; the result does not depend on it */
} risk_mc_params;

/* Simulates r = L z, z ~ N(0, I) and writes the full revaluation loss
 * -sum_i value[i] (exp(r_i) - 1) of each path to loss[p]; loss_linear (may be NULL) gets
 * the delta loss -sum_i value[i] r_i of the same draw. Paths are cut into blocks of
 * RISK_MC_BLOCK; block b uses the stream seeded by `seed` and jumped b times, and its paths
 * draw their n normals (risk_rng_normal) in path order, asset order within a path, so the
 * output depends only on (L, value, paths, seed), never on threads or timing. */
int risk_mc_losses(const double *chol, const double *value, size_t n_assets,
                   const risk_mc_params *p, double *loss, double *loss_linear, err *e) RISK_WUR;

/* ---- backtest ------------------------------------------------------------------------ */

typedef struct risk_kupiec {
    size_t days;       /* n */
    size_t exceptions; /* x: days whose loss exceeded that day's VaR */
    double expected;   /* n (1 - level) */
    double lr;         /* Kupiec proportion-of-failures likelihood ratio */
    double p_value;    /* chi-square(1) tail: erfc(sqrt(lr / 2)) */
    const char *zone;  /* Basel traffic light: "green", "yellow", "red" */
} risk_kupiec;

/* LR_POF = -2 ln[(1-p)^(n-x) p^x] + 2 ln[(1-x/n)^(n-x) (x/n)^x] with 0 ln 0 = 0,
 * p = 1 - level. zone: green while P(X <= x) < 95 %, yellow while < 99.99 %, else red,
 * X ~ Binomial(n, p). */
risk_kupiec risk_kupiec_pof(size_t days, size_t exceptions, double level);

/* Rolling historical backtest over the last `days` losses: for t = T - days .. T - 1 the
 * VaR_t at `level` is the historical VaR of loss[t - window .. t - 1]; an exception is
 * loss[t] > VaR_t. Needs T >= window + days. scratch holds `window` doubles. */
int risk_backtest_hist(const double *loss, size_t n_loss, size_t window, size_t days,
                       double level, double *scratch, risk_kupiec *out, err *e) RISK_WUR;

/* ---- credit line and stress -------------------------------------------------------- */

typedef enum { RISK_OK, RISK_MARGIN_CALL, RISK_LIQUIDATION } risk_status;
const char *risk_status_str(risk_status s);

/* One asset's collateral terms: haircut h (= 1 - LTV) and liquidation threshold LT. */
typedef struct risk_collateral {
    double haircut;
    double liq_threshold;
} risk_collateral;

typedef struct risk_credit {
    double collateral;         /* sum V_i */
    double borrowing_base;     /* sum V_i (1 - h_i) */
    double lt_value;           /* sum V_i LT_i */
    double drawn;
    double available;          /* max(0, borrowing_base - drawn) */
    double ltv;                /* drawn / collateral (NAN when collateral is 0) */
    double max_ltv;            /* borrowing_base / collateral (NAN when collateral is 0) */
    double health_factor;      /* lt_value / drawn (INFINITY when drawn is 0) */
    double im_var;             /* VaR-based initial margin (given) */
    double im_haircut;         /* sum V_i h_i */
    double margin_requirement; /* max(im_var, im_haircut) */
    double margin_excess;      /* (collateral - drawn) - margin_requirement; < 0 = deficit */
    risk_status status;        /* liquidation below 1.0, margin call below margin_call_hf */
} risk_credit;

/* value[i] >= 0, 0 <= h_i <= 1, 0 <= LT_i <= 1, drawn >= 0, margin_call_hf >= 1. */
int risk_credit_line(const double *value, const risk_collateral *terms, size_t n_assets,
                     double drawn, double im_var, double margin_call_hf, risk_credit *out,
                     err *e) RISK_WUR;

typedef struct risk_stress {
    double pnl;                  /* sum V_i m_i */
    double collateral_after;     /* sum V_i (1 + m_i) */
    double borrowing_base_after; /* sum V_i (1 + m_i)(1 - h_i) */
    double health_factor_after;  /* sum V_i (1 + m_i) LT_i / drawn (INFINITY if drawn 0) */
    double shortfall;            /* max(0, drawn - borrowing_base_after) */
    risk_status status;
} risk_stress;

/* Applies the relative moves m_i (-0.5 = -50 %, each >= -1) to the positions. terms may be
 * NULL when there is no credit line (then only pnl and collateral_after are meaningful). */
int risk_stress_apply(const double *value, const double *move, const risk_collateral *terms,
                      size_t n_assets, double drawn, double margin_call_hf, risk_stress *out,
                      err *e) RISK_WUR;

/* ---- the whole calculation ------------------------------------------------------------ */

typedef struct risk_params {
    size_t window;         /* N returns for historical VaR/ES and EWMA (default 500) */
    double var_level;      /* 0.99 */
    double es_level;       /* 0.975 */
    double horizon_days;   /* 10: VaR/ES_h = sqrt(h) x 1-day */
    double lambda;         /* 0.94 */
    risk_mc_params mc;     /* 100,000 paths, seed 1, 2 threads */
    size_t backtest_days;  /* 250 */
    double margin_call_hf; /* 1.10 */
} risk_params;

void risk_params_default(risk_params *p);

typedef struct risk_scenario_moves {
    const char *name;
    const double *move; /* n_assets relative moves */
} risk_scenario_moves;

typedef struct risk_input {
    size_t n_assets;
    size_t n_ret;                   /* returns available (>= window) */
    const double *ret;              /* n_ret x n_assets log returns, oldest first */
    const double *value;            /* current USD value per asset */
    const risk_collateral *terms;   /* NULL: no credit line */
    double drawn;                   /* with terms */
    const risk_scenario_moves *scenarios; /* may be NULL */
    size_t n_scenarios;
} risk_input;

typedef struct risk_measures {
    risk_var_es d1; /* 1 day */
    risk_var_es dh; /* horizon (sqrt-time scaled) */
} risk_measures;

#define RISK_VAR_HIST_MAX 30

typedef struct risk_report {
    double total_value;
    risk_measures hist;
    risk_measures ewma;
    double ewma_sigma;     /* 1-day portfolio sigma (USD) from the EWMA covariance */
    risk_measures mc;      /* full revaluation */
    risk_var_es mc_linear; /* 1-day, delta P&L of the same draws (checks the sampler) */
    int has_backtest;      /* 0 when n_ret < window + backtest_days */
    risk_kupiec backtest;
    int has_credit;
    risk_credit credit;      /* VaR-based IM = historical horizon VaR */
    risk_stress *stress;     /* n_scenarios entries, or NULL */
    size_t n_stress;
    /* The 1-day historical VaR of today's values over the window ending on each of the
     * last n_var_hist days, oldest first (the last one is hist.d1.var): the Dashboard's
     * VaR history. */
    double var_hist[RISK_VAR_HIST_MAX];
    size_t n_var_hist;
} risk_report;

/* Runs every method on the last `window` returns (backtest on the last window +
 * backtest_days). Fails on too few returns or invalid inputs; free with risk_report_free. */
int risk_report_run(const risk_input *in, const risk_params *p, risk_report *out,
                    err *e) RISK_WUR;
void risk_report_free(risk_report *r);

#endif
