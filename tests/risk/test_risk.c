/* test_risk.c: unit tests of the pure risk math (src/risk/risk.h) on cases small enough to
 * check on paper, plus golden vectors from independent Python implementations
 * (tests/vectors/risk_*.txt, written by tests/risk/make_vectors.py). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "risk/risk.h"

#define assert_near(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))
#define assert_rel(a, b, tol)                                                                      \
    assert_true(fabs((double)(a) - (double)(b)) <= (tol) * fabs((double)(b)))

static FILE *open_vector(const char *name)
{
    const char *root = getenv("FUSION_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/vectors/%s", root ? root : ".", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (is FUSION_ROOT set?)", path);
    return f;
}

/* ---- quantiles -------------------------------------------------------------------- */

static void test_quantile_paper(void **state)
{
    (void)state;
    /* sorted 1..5, c = 0.9: h = 4 * 0.9 = 3.6 -> 4 + 0.6 * (5 - 4) = 4.6 */
    double x[] = {3, 1, 2, 5, 4};
    assert_near(risk_quantile(x, 5, 0.9), 4.6, 1e-15);
    /* 1 2 3 4, c = 0.5: h = 1.5 -> 2.5 */
    double y[] = {4, 3, 2, 1};
    assert_near(risk_quantile(y, 4, 0.5), 2.5, 1e-15);
    /* c = 0 and 1 are the extremes; h = 3 * 0.25 = 0.75 -> 1 + 0.75 = 1.75 */
    double z[] = {2, 4, 1, 3};
    assert_true(risk_quantile(z, 4, 0.0) == 1.0);
    assert_true(risk_quantile(z, 4, 1.0) == 4.0);
    assert_near(risk_quantile(z, 4, 0.25), 1.75, 1e-15);
    double one[] = {7.5};
    assert_true(risk_quantile(one, 1, 0.99) == 7.5);
    /* 0..100, c = 0.99: h = 99 exactly -> 99 */
    double h[101];
    for (int i = 0; i < 101; i++)
        h[i] = 100 - i;
    assert_true(risk_quantile(h, 101, 0.99) == 99.0);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The selection must agree with a plain sort for every shape of input. */
static void test_quantile_vs_sort(void **state)
{
    (void)state;
    enum { N = 5003 };
    double *x = malloc(N * sizeof *x), *s = malloc(N * sizeof *s), *w = malloc(N * sizeof *w);
    assert_non_null(x);
    assert_non_null(s);
    assert_non_null(w);
    uint64_t st = 99;
    for (int shape = 0; shape < 5; shape++) {
        for (int i = 0; i < N; i++) {
            uint64_t r = risk_splitmix64(&st);
            switch (shape) {
            case 0: x[i] = (double)(r >> 11) * 0x1.0p-53 - 0.5; break; /* random */
            case 1: x[i] = i; break;                                    /* ascending */
            case 2: x[i] = N - i; break;                                /* descending */
            case 3: x[i] = 1.25; break;                                 /* all equal */
            default: x[i] = (double)(r % 3); break;                     /* few distinct */
            }
        }
        memcpy(s, x, sizeof *x * N);
        qsort(s, N, sizeof *s, cmp_d);
        const double cs[] = {0.0, 0.01, 0.5, 0.975, 0.99, 0.999, 1.0};
        for (size_t k = 0; k < sizeof cs / sizeof *cs; k++) {
            double h = (N - 1) * cs[k];
            size_t lo = (size_t)floor(h);
            double g = h - floor(h);
            double want = lo + 1 < N ? s[lo] + g * (s[lo + 1] - s[lo]) : s[N - 1];
            memcpy(w, x, sizeof *x * N);
            assert_near(risk_quantile(w, N, cs[k]), want, 1e-12);
        }
    }
    free(x);
    free(s);
    free(w);
}

static void test_var_es_paper(void **state)
{
    (void)state;
    /* losses 1..10: VaR 0.9 -> h = 8.1 -> 9.1; ES threshold at 0.8 -> h = 7.2 -> 8.2,
     * losses >= 8.2 are 9 and 10 -> ES 9.5 */
    double loss[] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5};
    double scratch[10];
    risk_var_es v = risk_var_es_from_losses(loss, 10, 0.9, 0.8, scratch);
    assert_near(v.var, 9.1, 1e-12);
    assert_near(v.es, 9.5, 1e-12);
    assert_true(loss[0] == 10 && loss[9] == 5); /* input untouched */
    /* the threshold lands on a loss: 1..5 at 0.5 -> h = 2 -> 3; ES = mean(3, 4, 5) = 4,
     * the loss equal to the threshold included */
    double l5[] = {5, 4, 3, 2, 1}, s5[5];
    v = risk_var_es_from_losses(l5, 5, 0.75, 0.5, s5);
    assert_near(v.var, 4.0, 1e-15);
    assert_near(v.es, 4.0, 1e-15);
}

/* ---- returns and losses ---------------------------------------------------------------- */

static void test_log_returns(void **state)
{
    (void)state;
    double close[] = {100, 50, 110, 50, 99, 100};
    double r[4];
    err e;
    assert_int_equal(risk_log_returns(close, 3, 2, r, &e), 0);
    assert_near(r[0], log(1.1), 1e-15);
    assert_near(r[1], 0.0, 1e-15);
    assert_near(r[2], log(0.9), 1e-15);
    assert_near(r[3], log(2.0), 1e-15);
    double bad[] = {100, 0, 50};
    assert_int_equal(risk_log_returns(bad, 3, 1, r, &e), -1);
    assert_non_null(strstr(e.msg, "row 1"));
}

static void test_scenario_loss(void **state)
{
    (void)state;
    /* V = (100, 200), prices x1.1 and x0.5: P&L = 10 - 100 = -90, loss 90 */
    double r[] = {log(1.1), log(0.5), 0.0, 0.0};
    double v[] = {100, 200};
    double loss[2];
    risk_scenario_loss(r, 2, 2, v, loss);
    assert_near(loss[0], 90.0, 1e-12);
    assert_near(loss[1], 0.0, 1e-15);
}

/* ---- distributions ------------------------------------------------------------------- */

static void test_norm_ppf_vectors(void **state)
{
    (void)state;
    FILE *f = open_vector("risk_norm_ppf.txt");
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        double p, z;
        assert_int_equal(sscanf(line, "%lf %lf", &p, &z), 2);
        double got = risk_norm_ppf(p);
        if (z == 0.0)
            assert_near(got, 0.0, 1e-300);
        else
            assert_rel(got, z, 4e-16);
        n++;
    }
    fclose(f);
    assert_true(n >= 20);
}

static void test_norm_ppf_properties(void **state)
{
    (void)state;
    /* Published constants. */
    assert_rel(risk_norm_ppf(0.975), 1.959963984540054, 1e-15);
    assert_rel(risk_norm_ppf(0.99), 2.3263478740408408, 1e-15);
    assert_true(risk_norm_ppf(0.5) == 0.0);
    assert_true(isinf(risk_norm_ppf(0.0)) && risk_norm_ppf(0.0) < 0);
    assert_true(isinf(risk_norm_ppf(1.0)) && risk_norm_ppf(1.0) > 0);
    assert_true(isnan(risk_norm_ppf(-0.1)) && isnan(risk_norm_ppf(1.5)) &&
                isnan(risk_norm_ppf(NAN)));
    /* Phi(Phi^-1(p)) = p through erfc, an independent path; symmetric tails. */
    for (int k = 1; k < 2000; k++) {
        double p = k / 2000.0;
        double z = risk_norm_ppf(p);
        assert_rel(risk_norm_cdf(z), p, 2e-15 / (p < 0.5 ? p * 4 : 1.0));
        /* 1 - p carries p's rounding (~1e-16) times dz/dp = 1 / phi(z) */
        assert_near(z, -risk_norm_ppf(1.0 - p), 2e-16 / risk_norm_pdf(z) + 1e-15 * fabs(z));
    }
    /* deep tail: a relative error eps in z moves p by about z^2 eps relative */
    for (double p = 1e-300; p < 1e-3; p *= 1e7) {
        double z = risk_norm_ppf(p);
        assert_rel(risk_norm_cdf(z), p, 1e-14 + 4e-16 * z * z);
    }
    /* phi(0) = 1 / sqrt(2 pi); phi(1) = exp(-1/2) / sqrt(2 pi) */
    assert_rel(risk_norm_pdf(0.0), 0.3989422804014327, 1e-15);
    assert_rel(risk_norm_pdf(1.0), 0.24197072451914337, 1e-15);
}

/* ---- EWMA, parametric, Cholesky ----------------------------------------------------- */

static void test_ewma_paper(void **state)
{
    (void)state;
    /* one asset, r = 0.1, -0.2, lambda 0.5: S0 = (0.01 + 0.04) / 2 = 0.025,
     * S1 = 0.5 * 0.025 + 0.5 * 0.01 = 0.0175, S2 = 0.5 * 0.0175 + 0.5 * 0.04 = 0.02875 */
    double r1[] = {0.1, -0.2};
    double c1[1];
    risk_ewma_cov(r1, 2, 1, 0.5, c1);
    assert_near(c1[0], 0.02875, 1e-15);
    /* two assets, r1 = (0.1, 0.2), r2 = (-0.1, 0.3), lambda 0.5:
     * S0 = [[.01, -.005], [-.005, .065]], S1 = [[.01, .0075], [.0075, .0525]],
     * S2 = [[.01, -.01125], [-.01125, .07125]] */
    double r2[] = {0.1, 0.2, -0.1, 0.3};
    double c2[4];
    risk_ewma_cov(r2, 2, 2, 0.5, c2);
    assert_near(c2[0], 0.01, 1e-15);
    assert_near(c2[1], -0.01125, 1e-15);
    assert_near(c2[2], -0.01125, 1e-15);
    assert_near(c2[3], 0.07125, 1e-15);
    /* sigma for V = (1, 2): V'SV = .01 - 4 * .01125 + 4 * .07125 = 0.25 -> 0.5 */
    double v[] = {1, 2};
    assert_near(risk_portfolio_sigma(c2, v, 2), 0.5, 1e-15);
}

static void test_parametric(void **state)
{
    (void)state;
    /* sigma 1000: VaR = 2326.3478740408408; ES 97.5 % = phi(1.95996...) / 0.025 * 1000 =
     * 2337.802792201417 (Python: NormalDist().pdf(NormalDist().inv_cdf(.975)) / .025) */
    risk_var_es p = risk_parametric(1000.0, 0.99, 0.975);
    assert_rel(p.var, 2326.3478740408408, 1e-14);
    assert_rel(p.es, 2337.802792201417, 1e-13);
}

static void test_cholesky(void **state)
{
    (void)state;
    err e;
    double a[] = {4, 2, 2, 3}, l[4];
    assert_int_equal(risk_cholesky(a, 2, l, &e), 0);
    assert_near(l[0], 2.0, 1e-15);
    assert_near(l[1], 0.0, 0.0);
    assert_near(l[2], 1.0, 1e-15);
    assert_near(l[3], sqrt(2.0), 1e-15);
    /* semi-definite: identical assets -> second column zero */
    double s[] = {1, 1, 1, 1};
    assert_int_equal(risk_cholesky(s, 2, l, &e), 0);
    assert_near(l[0], 1.0, 1e-15);
    assert_near(l[2], 1.0, 1e-15);
    assert_near(l[3], 0.0, 1e-7);
    /* a zero-variance asset */
    double z[] = {0, 0, 0, 2};
    assert_int_equal(risk_cholesky(z, 2, l, &e), 0);
    assert_near(l[0], 0.0, 0.0);
    assert_near(l[3], sqrt(2.0), 1e-15);
    /* indefinite and asymmetric input are refused */
    double bad[] = {1, 2, 2, 1};
    assert_int_equal(risk_cholesky(bad, 2, l, &e), -1);
    assert_non_null(strstr(e.msg, "semi-definite"));
    double asym[] = {1, 0.5, 0.2, 1};
    assert_int_equal(risk_cholesky(asym, 2, l, &e), -1);
    assert_non_null(strstr(e.msg, "symmetric"));
    /* 3x3 reconstruction */
    double m[] = {2.0, 0.3, -0.4, 0.3, 1.5, 0.2, -0.4, 0.2, 1.0}, c[9];
    assert_int_equal(risk_cholesky(m, 3, c, &e), 0);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double sum = 0;
            for (int k = 0; k < 3; k++)
                sum += c[i * 3 + k] * c[j * 3 + k];
            assert_near(sum, m[i * 3 + j], 1e-14);
        }
}

/* ---- generator ----------------------------------------------------------------------- */

static void test_rng_vectors(void **state)
{
    (void)state;
    FILE *f = open_vector("risk_rng.txt");
    char line[1024];
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        char kind[32];
        int off;
        if (line[0] == '#' || sscanf(line, "%31s %n", kind, &off) != 1)
            continue;
        char *p = line + off;
        if (strcmp(kind, "splitmix64") == 0) {
            unsigned long long seed = strtoull(p, &p, 10);
            uint64_t st = seed;
            for (int i = 0; i < 5; i++)
                assert_true(risk_splitmix64(&st) == strtoull(p, &p, 10));
        } else if (strcmp(kind, "xoshiro") == 0) {
            risk_rng r;
            risk_rng_seed(&r, strtoull(p, &p, 10));
            for (int i = 0; i < 6; i++)
                assert_true(risk_rng_next(&r) == strtoull(p, &p, 10));
        } else if (strcmp(kind, "jump") == 0) {
            risk_rng r;
            risk_rng_seed(&r, strtoull(p, &p, 10));
            unsigned long k = strtoul(p, &p, 10);
            for (unsigned long j = 0; j < k; j++)
                risk_rng_jump(&r);
            for (int i = 0; i < 3; i++)
                assert_true(risk_rng_next(&r) == strtoull(p, &p, 10));
        } else if (strcmp(kind, "uniform") == 0) {
            risk_rng r;
            risk_rng_seed(&r, strtoull(p, &p, 10));
            for (int i = 0; i < 4; i++)
                assert_true(risk_rng_uniform(&r) == strtod(p, &p));
        } else if (strcmp(kind, "zig") == 0) {
            risk_normal_table t;
            risk_normal_table_init(&t);
            unsigned long i = strtoul(p, &p, 10);
            assert_true(i < 256);
            assert_true(t.k[i] == strtoull(p, &p, 10));
            double w = strtod(p, &p), fv = strtod(p, &p);
            assert_rel(t.w[i], w, 1e-15);
            assert_rel(t.f[i], fv, 1e-15);
        } else if (strcmp(kind, "normal") == 0) {
            risk_normal_table t;
            risk_normal_table_init(&t);
            risk_rng r;
            risk_rng_seed(&r, strtoull(p, &p, 10));
            for (int i = 0; i < 8; i++) {
                double z = risk_rng_normal(&r, &t), want = strtod(p, &p);
                assert_rel(z, want, 1e-15);
            }
        } else if (strcmp(kind, "normals") == 0) {
            /* Many draws reach the wedges and the tail: their sums must match too. */
            risk_normal_table t;
            risk_normal_table_init(&t);
            risk_rng r;
            risk_rng_seed(&r, strtoull(p, &p, 10));
            unsigned long cnt = strtoul(p, &p, 10);
            double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
            for (unsigned long i = 0; i < cnt; i++) {
                double z = risk_rng_normal(&r, &t);
                sum += z;
                sq += z * z;
                lo = z < lo ? z : lo;
                hi = z > hi ? z : hi;
            }
            double ws = strtod(p, &p), wq = strtod(p, &p), wl = strtod(p, &p), wh = strtod(p, &p);
            assert_near(sum, ws, 1e-9);
            assert_rel(sq, wq, 1e-12);
            assert_rel(lo, wl, 1e-15);
            assert_rel(hi, wh, 1e-15);
        } else {
            fail_msg("unknown vector kind %s", kind);
        }
        checked++;
    }
    fclose(f);
    assert_true(checked >= 9);
}

/* The ziggurat against Phi: Kolmogorov-Smirnov over 1,000,000 draws (critical value at
 * the 0.1 % level 1.95 / sqrt(n)), and the share beyond the tail start R = 3.654 (drawn by
 * the separate tail code) within 5 standard deviations of 2 (1 - Phi(R)). */
static void test_normal_distribution(void **state)
{
    (void)state;
    enum { N = 1000000 };
    double *z = malloc(N * sizeof *z);
    assert_non_null(z);
    risk_normal_table t;
    risk_normal_table_init(&t);
    risk_rng r;
    risk_rng_seed(&r, 2024);
    size_t tail = 0;
    for (int i = 0; i < N; i++) {
        z[i] = risk_rng_normal(&r, &t);
        tail += fabs(z[i]) > 3.6541528853610088;
    }
    qsort(z, N, sizeof *z, cmp_d);
    double d = 0;
    for (int i = 0; i < N; i++) {
        double c = risk_norm_cdf(z[i]);
        double a = fabs(c - (double)i / N), b = fabs((double)(i + 1) / N - c);
        d = a > d ? a : d;
        d = b > d ? b : d;
    }
    assert_true(d < 1.95 / sqrt((double)N));
    double pt = 2 * (1 - risk_norm_cdf(3.6541528853610088));
    assert_near((double)tail, N * pt, 5 * sqrt(N * pt));
    free(z);
}

/* ---- Monte Carlo ---------------------------------------------------------------------- */

static void test_mc_deterministic(void **state)
{
    (void)state;
    enum { P = 3 * RISK_MC_BLOCK + 77, N = 3 };
    double chol[] = {0.02, 0, 0, 0.01, 0.015, 0, -0.005, 0.002, 0.03};
    double v[] = {1e6, -2e5, 5e5};
    double *a = malloc(P * sizeof *a), *b = malloc(P * sizeof *b), *c = malloc(P * sizeof *c);
    double *al = malloc(P * sizeof *al);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(al);
    err e;
    risk_mc_params p = {P, 5, 1};
    assert_int_equal(risk_mc_losses(chol, v, N, &p, a, al, &e), 0);
    p.threads = 2;
    assert_int_equal(risk_mc_losses(chol, v, N, &p, b, NULL, &e), 0);
    assert_memory_equal(a, b, P * sizeof *a);
    p.threads = 3;
    assert_int_equal(risk_mc_losses(chol, v, N, &p, c, NULL, &e), 0);
    assert_memory_equal(a, c, P * sizeof *a);
    p.seed = 6;
    assert_int_equal(risk_mc_losses(chol, v, N, &p, c, NULL, &e), 0);
    assert_memory_not_equal(a, c, P * sizeof *a);

    /* Path 0 by hand: block 0 = the stream of seed 5, its first three normals in asset
     * order; r = L z; loss = -sum V (exp(r) - 1). Path RISK_MC_BLOCK starts the stream
     * jumped once; the second path of a block continues its stream. */
    risk_normal_table zt;
    risk_normal_table_init(&zt);
    for (int blk = 0; blk < 2; blk++) {
        risk_rng r;
        risk_rng_seed(&r, 5);
        for (int j = 0; j < blk; j++)
            risk_rng_jump(&r);
        for (size_t q = 0; q < 2; q++) {
            double z[3];
            for (int i = 0; i < 3; i++)
                z[i] = risk_rng_normal(&r, &zt);
            double r0 = 0.02 * z[0];
            double r1 = 0.01 * z[0] + 0.015 * z[1];
            double r2 = -0.005 * z[0] + 0.002 * z[1] + 0.03 * z[2];
            double full = -(1e6 * (exp(r0) - 1) - 2e5 * (exp(r1) - 1) + 5e5 * (exp(r2) - 1));
            double lin = -(1e6 * r0 - 2e5 * r1 + 5e5 * r2);
            size_t path = (size_t)blk * RISK_MC_BLOCK + q;
            assert_near(a[path], full, 1e-8);
            assert_near(al[path], lin, 1e-8);
        }
    }
    free(a);
    free(b);
    free(c);
    free(al);
}

/* One asset with daily sigma 1 %: linear losses are N(0, (0.01 V)^2). The sample moments
 * and the 99 % quantile must match within a few standard errors. */
static void test_mc_distribution(void **state)
{
    (void)state;
    enum { P = 200000 };
    double chol[] = {0.01}, v[] = {1.0};
    double *full = malloc(P * sizeof *full), *lin = malloc(P * sizeof *lin);
    double *scr = malloc(P * sizeof *scr);
    assert_non_null(full);
    assert_non_null(lin);
    assert_non_null(scr);
    err e;
    risk_mc_params p = {P, 11, 2};
    assert_int_equal(risk_mc_losses(chol, v, 1, &p, full, lin, &e), 0);
    double m = 0, s2 = 0;
    for (int i = 0; i < P; i++)
        m += lin[i];
    m /= P;
    for (int i = 0; i < P; i++)
        s2 += (lin[i] - m) * (lin[i] - m);
    s2 /= P - 1;
    assert_near(m, 0.0, 5 * 0.01 / sqrt(P));
    assert_near(sqrt(s2), 0.01, 5 * 0.01 / sqrt(2.0 * P));
    /* 99 % quantile standard error: sqrt(.99 * .01 / P) / phi(2.326) * sigma */
    double se = sqrt(0.99 * 0.01 / P) / 0.026652 * 0.01;
    risk_var_es q = risk_var_es_from_losses(lin, P, 0.99, 0.975, scr);
    assert_near(q.var, 0.023263478740408408, 5 * se);
    /* Full revaluation of one asset: loss = 1 - exp(r), VaR = 1 - exp(-z sigma). */
    risk_var_es qf = risk_var_es_from_losses(full, P, 0.99, 0.975, scr);
    assert_near(qf.var, 1.0 - exp(-0.023263478740408408), 5 * se);
    free(full);
    free(lin);
    free(scr);
}

/* ---- backtest ------------------------------------------------------------------------- */

static void test_kupiec(void **state)
{
    (void)state;
    /* x = 0 of 250 at 99 %: LR = -2 * 250 ln(0.99) = 5.025167926... */
    risk_kupiec k = risk_kupiec_pof(250, 0, 0.99);
    assert_rel(k.lr, -500.0 * log(0.99), 1e-13);
    assert_rel(k.p_value, erfc(sqrt(k.lr / 2)), 1e-15);
    assert_near(k.expected, 2.5, 1e-12);
    /* x = 5: LR = -2 [245 ln .99 + 5 ln .01] + 2 [245 ln .98 + 5 ln .02] */
    k = risk_kupiec_pof(250, 5, 0.99);
    double lr = -2 * (245 * log(0.99) + 5 * log(0.01)) + 2 * (245 * log(0.98) + 5 * log(0.02));
    assert_rel(k.lr, lr, 1e-12);
    /* p-value of chi2(1) at 3.841458820694124 is 0.05 */
    k.lr = 3.841458820694124;
    assert_rel(erfc(sqrt(k.lr / 2)), 0.05, 1e-12);
    /* all exceptions: 0 ln 0 terms vanish, LR = -2 * 250 ln(0.01) */
    k = risk_kupiec_pof(250, 250, 0.99);
    assert_rel(k.lr, -500.0 * log(0.01), 1e-13);
    /* Basel traffic light for 250 days at 99 %: green 0-4, yellow 5-9, red 10+ */
    assert_string_equal(risk_kupiec_pof(250, 4, 0.99).zone, "green");
    assert_string_equal(risk_kupiec_pof(250, 5, 0.99).zone, "yellow");
    assert_string_equal(risk_kupiec_pof(250, 9, 0.99).zone, "yellow");
    assert_string_equal(risk_kupiec_pof(250, 10, 0.99).zone, "red");
}

static void test_backtest_paper(void **state)
{
    (void)state;
    /* window 3, 2 days, losses 1 2 3 10 0: day 3's VaR from {1,2,3}: h = 1.98 -> 2.98,
     * 10 > 2.98 is an exception; day 4's from {2,3,10}: h = 1.98 -> 10 - 7 * .02 = 9.86,
     * 0 is not. */
    double loss[] = {1, 2, 3, 10, 0}, scr[3];
    risk_kupiec k;
    err e;
    assert_int_equal(risk_backtest_hist(loss, 5, 3, 2, 0.99, scr, &k, &e), 0);
    assert_int_equal(k.exceptions, 1);
    assert_int_equal(k.days, 2);
    /* too short */
    assert_int_equal(risk_backtest_hist(loss, 5, 4, 2, 0.99, scr, &k, &e), -1);
    assert_non_null(strstr(e.msg, "needs 6 returns"));
}

/* ---- credit line and stress ------------------------------------------------------------- */

static void test_credit_line(void **state)
{
    (void)state;
    /* V = 100, 200; h = 20 %, 50 %; LT = 80 %, 60 %; drawn 150:
     * collateral 300, base 80 + 100 = 180, LT value 80 + 120 = 200, HF 4/3, LTV 0.5,
     * available 30, haircut IM 20 + 100 = 120 > VaR IM 50, excess (300 - 150) - 120 = 30 */
    double v[] = {100, 200};
    risk_collateral t[] = {{0.2, 0.8}, {0.5, 0.6}};
    risk_credit c;
    err e;
    assert_int_equal(risk_credit_line(v, t, 2, 150, 50, 1.1, &c, &e), 0);
    assert_near(c.collateral, 300, 1e-12);
    assert_near(c.borrowing_base, 180, 1e-12);
    assert_near(c.lt_value, 200, 1e-12);
    assert_near(c.health_factor, 200.0 / 150.0, 1e-15);
    assert_near(c.ltv, 0.5, 1e-15);
    assert_near(c.max_ltv, 0.6, 1e-15);
    assert_near(c.available, 30, 1e-12);
    assert_near(c.im_haircut, 120, 1e-12);
    assert_near(c.margin_requirement, 120, 1e-12);
    assert_near(c.margin_excess, 30, 1e-12);
    assert_int_equal(c.status, RISK_OK);
    /* VaR IM above the haircut IM wins */
    assert_int_equal(risk_credit_line(v, t, 2, 150, 140, 1.1, &c, &e), 0);
    assert_near(c.margin_requirement, 140, 1e-12);
    assert_near(c.margin_excess, 10, 1e-12);
    /* HF 200 / 190 = 1.053: margin call; 200 / 201: liquidation; drawn 0: infinite */
    assert_int_equal(risk_credit_line(v, t, 2, 190, 0, 1.1, &c, &e), 0);
    assert_int_equal(c.status, RISK_MARGIN_CALL);
    assert_int_equal(risk_credit_line(v, t, 2, 190, 0, 1.05, &c, &e), 0);
    assert_int_equal(c.status, RISK_OK);
    assert_int_equal(risk_credit_line(v, t, 2, 201, 0, 1.1, &c, &e), 0);
    assert_int_equal(c.status, RISK_LIQUIDATION);
    assert_near(c.available, 0, 0);
    assert_int_equal(risk_credit_line(v, t, 2, 0, 0, 1.1, &c, &e), 0);
    assert_true(isinf(c.health_factor));
    /* refused inputs */
    double neg[] = {100, -1};
    assert_int_equal(risk_credit_line(neg, t, 2, 10, 0, 1.1, &c, &e), -1);
    assert_int_equal(risk_credit_line(v, t, 2, -1, 0, 1.1, &c, &e), -1);
    assert_int_equal(risk_credit_line(v, t, 2, 10, 0, 0.9, &c, &e), -1);
    risk_collateral badt[] = {{1.2, 0.8}, {0.5, 0.6}};
    assert_int_equal(risk_credit_line(v, badt, 2, 10, 0, 1.1, &c, &e), -1);
}

static void test_stress(void **state)
{
    (void)state;
    /* moves -50 %, +10 %: P&L -50 + 20 = -30, after 50 + 220 = 270, base 40 + 110 = 150,
     * LT value 40 + 132 = 172; drawn 150: HF 1.1467, no shortfall; drawn 160: shortfall 10 */
    double v[] = {100, 200}, m[] = {-0.5, 0.1};
    risk_collateral t[] = {{0.2, 0.8}, {0.5, 0.6}};
    risk_stress s;
    err e;
    assert_int_equal(risk_stress_apply(v, m, t, 2, 150, 1.1, &s, &e), 0);
    assert_near(s.pnl, -30, 1e-12);
    assert_near(s.collateral_after, 270, 1e-12);
    assert_near(s.borrowing_base_after, 150, 1e-12);
    assert_near(s.health_factor_after, 172.0 / 150.0, 1e-15);
    assert_near(s.shortfall, 0, 0);
    assert_int_equal(s.status, RISK_OK);
    assert_int_equal(risk_stress_apply(v, m, t, 2, 160, 1.1, &s, &e), 0);
    assert_near(s.shortfall, 10, 1e-12);
    assert_int_equal(s.status, RISK_MARGIN_CALL);
    assert_int_equal(risk_stress_apply(v, m, t, 2, 180, 1.1, &s, &e), 0);
    assert_int_equal(s.status, RISK_LIQUIDATION);
    /* without a credit line only P&L and value after */
    assert_int_equal(risk_stress_apply(v, m, NULL, 2, 0, 1.1, &s, &e), 0);
    assert_near(s.pnl, -30, 1e-12);
    assert_true(isnan(s.health_factor_after));
    double worse[] = {-1.5, 0};
    assert_int_equal(risk_stress_apply(v, worse, t, 2, 150, 1.1, &s, &e), -1);
}

/* ---- the whole report -------------------------------------------------------------------- */

static void test_report(void **state)
{
    (void)state;
    enum { T = 40, N = 2 };
    double ret[T * N];
    uint64_t st = 3;
    for (int k = 0; k < T * N; k++)
        ret[k] = ((double)(risk_splitmix64(&st) >> 11) * 0x1.0p-53 - 0.5) * 0.1;
    double v[] = {1000, 500};
    risk_collateral terms[] = {{0.2, 0.8}, {0.3, 0.7}};
    double mv[] = {-0.5, 0.0};
    risk_scenario_moves sc[] = {{"half", mv}};
    risk_input in = {N, T, ret, v, terms, 600, sc, 1};
    risk_params p;
    risk_params_default(&p);
    p.window = 20;
    p.backtest_days = 15;
    p.mc.paths = 5000;
    risk_report r;
    err e;
    assert_int_equal(risk_report_run(&in, &p, &r, &e), 0);
    /* historical against the pieces */
    double loss[T], scr[T];
    risk_scenario_loss(ret, T, N, v, loss);
    risk_var_es h = risk_var_es_from_losses(loss + T - 20, 20, 0.99, 0.975, scr);
    assert_true(r.hist.d1.var == h.var && r.hist.d1.es == h.es);
    /* the VaR history: one window per day that has a full one (T - N + 1 = 21), the last
     * one today's; each is the VaR of the window ending that day */
    assert_int_equal(r.n_var_hist, 21);
    assert_true(r.var_hist[20] == h.var);
    for (size_t k = 0; k < r.n_var_hist; k++) {
        size_t end = T - (r.n_var_hist - 1 - k);
        risk_var_es hk = risk_var_es_from_losses(loss + end - 20, 20, 0.99, 0.975, scr);
        assert_true(r.var_hist[k] == hk.var);
    }
    assert_rel(r.hist.dh.var, sqrt(10.0) * h.var, 1e-15);
    assert_rel(r.ewma.dh.es, sqrt(10.0) * r.ewma.d1.es, 1e-15);
    assert_rel(r.ewma.d1.var, 2.3263478740408408 * r.ewma_sigma, 1e-14);
    assert_int_equal(r.has_backtest, 1);
    assert_int_equal(r.backtest.days, 15);
    assert_int_equal(r.has_credit, 1);
    assert_near(r.credit.im_var, r.hist.dh.var, 0);
    assert_int_equal(r.n_stress, 1);
    assert_near(r.stress[0].pnl, -500, 1e-12);
    assert_near(r.total_value, 1500, 0);
    risk_report_free(&r);
    assert_null(r.stress);
    /* no backtest when short; too few returns is an error */
    p.backtest_days = 30;
    in.terms = NULL;
    in.n_scenarios = 0;
    assert_int_equal(risk_report_run(&in, &p, &r, &e), 0);
    assert_int_equal(r.has_backtest, 0);
    assert_int_equal(r.has_credit, 0);
    risk_report_free(&r);
    p.window = 41;
    assert_int_equal(risk_report_run(&in, &p, &r, &e), -1);
    assert_non_null(strstr(e.msg, "too few returns"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile_paper),      cmocka_unit_test(test_quantile_vs_sort),
        cmocka_unit_test(test_var_es_paper),        cmocka_unit_test(test_log_returns),
        cmocka_unit_test(test_scenario_loss),       cmocka_unit_test(test_norm_ppf_vectors),
        cmocka_unit_test(test_norm_ppf_properties), cmocka_unit_test(test_ewma_paper),
        cmocka_unit_test(test_parametric),          cmocka_unit_test(test_cholesky),
        cmocka_unit_test(test_rng_vectors),         cmocka_unit_test(test_normal_distribution),
        cmocka_unit_test(test_mc_deterministic),
        cmocka_unit_test(test_mc_distribution),     cmocka_unit_test(test_kupiec),
        cmocka_unit_test(test_backtest_paper),      cmocka_unit_test(test_credit_line),
        cmocka_unit_test(test_stress),              cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
