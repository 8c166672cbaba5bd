/* ewma.c: RiskMetrics EWMA covariance, the delta-normal (parametric) VaR/ES it gives, and
 * the Cholesky factor the Monte Carlo engine draws from. */
#include "risk/risk.h"

#include <math.h>
#include <string.h>

void risk_ewma_cov(const double *ret, size_t n_ret, size_t n_assets, double lambda, double *cov)
{
    size_t n = n_assets;
    memset(cov, 0, n * n * sizeof *cov);
    /* Sigma_0: zero-mean sample covariance of the window, (1/T) sum r r'. */
    for (size_t t = 0; t < n_ret; t++) {
        const double *r = ret + t * n;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j <= i; j++)
                cov[i * n + j] += r[i] * r[j];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            cov[i * n + j] /= (double)n_ret;
    /* Sigma_t = lambda Sigma_{t-1} + (1 - lambda) r_t r_t', oldest first. */
    double w = 1.0 - lambda;
    for (size_t t = 0; t < n_ret; t++) {
        const double *r = ret + t * n;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j <= i; j++)
                cov[i * n + j] = lambda * cov[i * n + j] + w * r[i] * r[j];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            cov[j * n + i] = cov[i * n + j];
}

double risk_portfolio_sigma(const double *cov, const double *value, size_t n_assets)
{
    double q = 0.0;
    for (size_t i = 0; i < n_assets; i++) {
        double row = 0.0;
        for (size_t j = 0; j < n_assets; j++)
            row += cov[i * n_assets + j] * value[j];
        q += value[i] * row;
    }
    return q > 0.0 ? sqrt(q) : 0.0;
}

risk_var_es risk_parametric(double sigma, double var_level, double es_level)
{
    risk_var_es out;
    out.var = risk_norm_ppf(var_level) * sigma;
    out.es = risk_norm_pdf(risk_norm_ppf(es_level)) / (1.0 - es_level) * sigma;
    return out;
}

int risk_cholesky(const double *a, size_t n, double *l, err *e)
{
    double dmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            double x = a[i * n + j];
            if (!isfinite(x))
                return err_set(e, ERR_INVALID, "covariance entry (%zu,%zu) is not finite", i, j);
            if (fabs(x - a[j * n + i]) > 1e-12 * (fabs(x) + fabs(a[j * n + i])))
                return err_set(e, ERR_INVALID, "covariance matrix is not symmetric at (%zu,%zu)",
                               i, j);
        }
        if (a[i * n + i] < 0.0)
            return err_set(e, ERR_INVALID, "covariance matrix has a negative variance at %zu", i);
        if (a[i * n + i] > dmax)
            dmax = a[i * n + i];
    }
    double tol = 1e-12 * dmax;
    memset(l, 0, n * n * sizeof *l);
    for (size_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (size_t k = 0; k < j; k++)
            d -= l[j * n + k] * l[j * n + k];
        if (d <= tol) {
            /* Semi-definite direction: nothing left to explain. A clearly negative pivot
             * means the matrix was not positive semi-definite at all. */
            if (d < -1e-8 * (dmax > 0.0 ? dmax : 1.0))
                return err_set(e, ERR_INVALID,
                               "covariance matrix is not positive semi-definite (pivot %zu)", j);
            continue; /* column j of L stays zero */
        }
        double ljj = sqrt(d);
        l[j * n + j] = ljj;
        for (size_t i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (size_t k = 0; k < j; k++)
                s -= l[i * n + k] * l[j * n + k];
            l[i * n + j] = s / ljj;
        }
    }
    return 0;
}
