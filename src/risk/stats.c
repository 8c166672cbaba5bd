/* stats.c: the statistics under every VaR method: the normal distribution (AS241 for
 * Phi^-1), log returns, full revaluation losses, numpy-compatible quantiles, historical
 * VaR/ES and the Kupiec backtest. */
#include "risk/risk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- normal distribution ----------------------------------------------------------- */

/* Wichura, "Algorithm AS 241: The Percentage Points of the Normal Distribution",
 * Applied Statistics 37 (1988) 477-484, PPND16: three rational approximations, relative
 * accuracy about 1e-16. */
double risk_norm_ppf(double p)
{
    if (isnan(p) || p < 0.0 || p > 1.0)
        return NAN;
    if (p == 0.0)
        return -INFINITY;
    if (p == 1.0)
        return INFINITY;
    double q = p - 0.5;
    double r, val;
    if (fabs(q) <= 0.425) {
        r = 0.180625 - q * q;
        val = q *
              (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r +
                    6.7265770927008700853e+4) * r + 4.5921953931549871457e+4) * r +
                  1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r +
                1.3314166789178437745e+2) * r + 3.3871328727963666080e+0) /
              (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r +
                    3.9307895800092710610e+4) * r + 2.1213794301586595867e+4) * r +
                  5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r +
                4.2313330701600911252e+1) * r + 1.0);
        return val;
    }
    r = q < 0.0 ? p : 1.0 - p;
    r = sqrt(-log(r));
    if (r <= 5.0) {
        r -= 1.6;
        val = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r +
                    2.41780725177450611770e-1) * r + 1.27045825245236838258e+0) * r +
                  3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r +
                4.63033784615654529590e+0) * r + 1.42343711074968357734e+0) /
              (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r +
                    1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r +
                  6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r +
                2.05319162663775882187e+0) * r + 1.0);
    } else {
        r -= 5.0;
        val = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r +
                    1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r +
                  2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r +
                5.46378491116411436990e+0) * r + 6.65790464350110377720e+0) /
              (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r +
                    1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r +
                  1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r +
                5.99832206555887937690e-1) * r + 1.0);
    }
    return q < 0.0 ? -val : val;
}

double risk_norm_pdf(double x)
{
    /* 1 / sqrt(2 pi) */
    return 0.398942280401432677939946059934 * exp(-0.5 * x * x);
}

double risk_norm_cdf(double x)
{
    return 0.5 * erfc(-x / 1.414213562373095048801688724210);
}

/* ---- returns and losses -------------------------------------------------------------- */

int risk_log_returns(const double *close, size_t n_days, size_t n_assets, double *ret, err *e)
{
    for (size_t k = 0; k < n_days * n_assets; k++) {
        if (!isfinite(close[k]) || close[k] <= 0.0)
            return err_set(e, ERR_INVALID, "price at row %zu, asset %zu is not a positive number",
                           k / n_assets, k % n_assets);
    }
    for (size_t t = 0; t + 1 < n_days; t++)
        for (size_t i = 0; i < n_assets; i++)
            ret[t * n_assets + i] = log(close[(t + 1) * n_assets + i] / close[t * n_assets + i]);
    return 0;
}

void risk_scenario_loss(const double *ret, size_t n_ret, size_t n_assets, const double *value,
                        double *loss)
{
    for (size_t t = 0; t < n_ret; t++) {
        double pnl = 0.0;
        const double *r = ret + t * n_assets;
        for (size_t i = 0; i < n_assets; i++)
            pnl += value[i] * expm1(r[i]);
        loss[t] = -pnl;
    }
}

/* ---- quantiles ----------------------------------------------------------------------- */

static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Introselect: afterwards x[k] is the k-th smallest, nothing before it is larger and
 * nothing after it is smaller. Median-of-three quickselect; after 2 log2(n) rounds the
 * remaining range is sorted instead, so adversarial input stays O(n log n). */
static void select_kth(double *x, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    int budget = 2;
    for (size_t m = n; m > 1; m >>= 1)
        budget += 2;
    while (hi > lo) {
        if (budget-- == 0 || hi - lo < 16) {
            qsort(x + lo, hi - lo + 1, sizeof *x, cmp_double);
            return;
        }
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] < x[lo])
            swap_d(&x[mid], &x[lo]);
        if (x[hi] < x[lo])
            swap_d(&x[hi], &x[lo]);
        if (x[hi] < x[mid])
            swap_d(&x[hi], &x[mid]);
        double pivot = x[mid];
        /* Hoare partition of [lo, hi] around pivot. */
        size_t i = lo, j = hi;
        for (;;) {
            while (x[i] < pivot)
                i++;
            while (pivot < x[j])
                j--;
            if (i >= j)
                break;
            swap_d(&x[i], &x[j]);
            i++;
            j--;
        }
        /* Now [lo, j] <= pivot <= [j + 1, hi]. */
        if (k <= j)
            hi = j;
        else
            lo = j + 1;
    }
}

double risk_quantile(double *x, size_t n, double c)
{
    /* numpy: virtual index h = (n - 1) c, neighbours floor(h) and floor(h) + 1 (both the
     * last element when h >= n - 1), gamma = h - floor(h), and _lerp's two-sided form. */
    double h = (double)(n - 1) * c;
    if (h >= (double)(n - 1)) {
        select_kth(x, n, n - 1);
        return x[n - 1];
    }
    if (h < 0.0)
        h = 0.0;
    double fl = floor(h);
    size_t lo = (size_t)fl;
    double g = h - fl;
    select_kth(x, n, lo);
    double a = x[lo];
    double b = x[lo + 1];
    for (size_t i = lo + 2; i < n; i++)
        if (x[i] < b)
            b = x[i];
    double d = b - a;
    if (g >= 0.5)
        return b - d * (1.0 - g);
    return a + d * g;
}

risk_var_es risk_var_es_from_losses(const double *loss, size_t n, double var_level,
                                    double es_level, double *scratch)
{
    risk_var_es out;
    memcpy(scratch, loss, n * sizeof *loss);
    out.var = risk_quantile(scratch, n, var_level);
    memcpy(scratch, loss, n * sizeof *loss);
    double thr = risk_quantile(scratch, n, es_level);
    double sum = 0.0;
    size_t cnt = 0;
    for (size_t t = 0; t < n; t++) {
        if (loss[t] >= thr) {
            sum += loss[t];
            cnt++;
        }
    }
    out.es = cnt ? sum / (double)cnt : thr;
    return out;
}

/* ---- backtest ---------------------------------------------------------------------- */

/* x ln(y) with 0 ln 0 = 0. */
static double xlogy(double x, double y)
{
    return x == 0.0 ? 0.0 : x * log(y);
}

risk_kupiec risk_kupiec_pof(size_t days, size_t exceptions, double level)
{
    risk_kupiec k;
    memset(&k, 0, sizeof k);
    double n = (double)days, x = (double)exceptions, p = 1.0 - level;
    k.days = days;
    k.exceptions = exceptions;
    k.expected = n * p;
    double pi = days ? x / n : 0.0;
    double ll0 = xlogy(n - x, 1.0 - p) + xlogy(x, p);
    double ll1 = xlogy(n - x, 1.0 - pi) + xlogy(x, pi);
    k.lr = -2.0 * (ll0 - ll1);
    if (k.lr < 0.0) /* rounding when x == n p exactly */
        k.lr = 0.0;
    k.p_value = erfc(sqrt(k.lr / 2.0));
    /* Basel traffic light from the binomial distribution function at x. */
    double pmf = pow(1.0 - p, n), cdf = 0.0;
    for (size_t j = 0; j <= exceptions && j <= days; j++) {
        cdf += pmf;
        pmf *= (n - (double)j) / ((double)j + 1.0) * (p / (1.0 - p));
    }
    k.zone = cdf < 0.95 ? "green" : cdf < 0.9999 ? "yellow" : "red";
    return k;
}

int risk_backtest_hist(const double *loss, size_t n_loss, size_t window, size_t days,
                       double level, double *scratch, risk_kupiec *out, err *e)
{
    if (window == 0 || days == 0 || n_loss < window + days)
        return err_set(e, ERR_INVALID,
                       "backtest needs %zu returns (window %zu + %zu days), have %zu",
                       window + days, window, days, n_loss);
    size_t x = 0;
    for (size_t t = n_loss - days; t < n_loss; t++) {
        memcpy(scratch, loss + t - window, window * sizeof *loss);
        double var = risk_quantile(scratch, window, level);
        if (loss[t] > var)
            x++;
    }
    *out = risk_kupiec_pof(days, x, level);
    return 0;
}
