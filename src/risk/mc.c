/* mc.c: Monte Carlo VaR with our own reproducible generator (xoshiro256** seeded by
 * splitmix64, ziggurat normals). Paths are cut into fixed blocks, block b draws from the
 * stream jumped b times, so two threads (or any number) give bit-identical losses. */
#include "risk/risk.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

uint64_t risk_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void risk_rng_seed(risk_rng *rng, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = risk_splitmix64(&st);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The generator step, static so the hot loops inline it (the public symbols below are
 * interposable in a PIC library and would stay calls). */
static inline uint64_t xoshiro_next(uint64_t *s)
{
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static inline double uniform_open(uint64_t *s)
{
    return ((double)(xoshiro_next(s) >> 11) + 0.5) * 0x1.0p-53;
}

uint64_t risk_rng_next(risk_rng *rng)
{
    return xoshiro_next(rng->s);
}

void risk_rng_jump(risk_rng *rng)
{
    static const uint64_t jump[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                    0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < sizeof jump / sizeof *jump; i++) {
        for (int b = 0; b < 64; b++) {
            if (jump[i] & ((uint64_t)1 << b)) {
                s0 ^= rng->s[0];
                s1 ^= rng->s[1];
                s2 ^= rng->s[2];
                s3 ^= rng->s[3];
            }
            (void)xoshiro_next(rng->s);
        }
    }
    rng->s[0] = s0;
    rng->s[1] = s1;
    rng->s[2] = s2;
    rng->s[3] = s3;
}

double risk_rng_uniform(risk_rng *rng)
{
    return uniform_open(rng->s);
}

/* Ziggurat constants for 256 layers: R is the start of the tail, V the area of each layer
 * (and of the base strip with the tail) under exp(-x^2 / 2). */
#define ZIG_R 3.6541528853610088
#define ZIG_V 0.00492867323399
#define ZIG_M 4503599627370496.0 /* 2^52: the magnitude's range */

void risk_normal_table_init(risk_normal_table *t)
{
    double dn = ZIG_R, tn = dn;
    double q = ZIG_V / exp(-0.5 * dn * dn);
    t->k[0] = (uint64_t)((dn / q) * ZIG_M);
    t->k[1] = 0;
    t->w[0] = q / ZIG_M;
    t->w[255] = dn / ZIG_M;
    t->f[0] = 1.0;
    t->f[255] = exp(-0.5 * dn * dn);
    for (int i = 254; i >= 1; i--) {
        dn = sqrt(-2.0 * log(ZIG_V / dn + exp(-0.5 * dn * dn)));
        t->k[i + 1] = (uint64_t)((dn / tn) * ZIG_M);
        tn = dn;
        t->f[i] = exp(-0.5 * dn * dn);
        t->w[i] = dn / ZIG_M;
    }
}

/* The rare part of the ziggurat (about 1 % of draws): the tail of layer 0 and the wedges.
 * Returns 1 with *z set when the draw is accepted, 0 to start over. */
static __attribute__((noinline)) int normal_slow(uint64_t *s, const risk_normal_table *t,
                                                 unsigned idx, double x, int neg, double *z)
{
    if (idx == 0) {
        /* Marsaglia's tail: x = -ln(u1) / R, y = -ln(u2), accept when 2y > x^2. */
        for (;;) {
            double xx = -log(uniform_open(s)) / ZIG_R;
            double yy = -log(uniform_open(s));
            if (yy + yy > xx * xx) {
                *z = neg ? -(ZIG_R + xx) : ZIG_R + xx;
                return 1;
            }
        }
    }
    if (t->f[idx] + uniform_open(s) * (t->f[idx - 1] - t->f[idx]) < exp(-0.5 * x * x)) {
        *z = neg ? -x : x;
        return 1;
    }
    return 0;
}

static inline double normal(uint64_t *s, const risk_normal_table *t)
{
    for (;;) {
        uint64_t r = xoshiro_next(s);
        unsigned idx = (unsigned)(r & 0xff);
        r >>= 8;
        int neg = (int)(r & 1);
        uint64_t m = (r >> 1) & 0x000fffffffffffffULL;
        double x = (double)(int64_t)m * t->w[idx];
        if (__builtin_expect(m < t->k[idx], 1))
            return neg ? -x : x;
        double z;
        if (normal_slow(s, t, idx, x, neg, &z))
            return z;
    }
}

double risk_rng_normal(risk_rng *rng, const risk_normal_table *t)
{
    return normal(rng->s, t);
}

#define MC_BATCH 64 /* paths revalued together (vectorisable inner loops) */

typedef struct mc_job {
    const double *chol;
    const double *value;
    const risk_normal_table *zig;
    size_t n;
    size_t paths;
    size_t n_blocks;
    uint64_t seed;
    unsigned stride; /* number of workers */
    unsigned first;  /* this worker's first block */
    double *loss;
    double *loss_linear;
    double *work; /* 2 n MC_BATCH doubles */
} mc_job;

static void mc_batch(const mc_job *j, risk_rng *rng, size_t p0, size_t np)
{
    size_t n = j->n;
    double *restrict z = j->work;                /* [asset][path in batch] */
    double *restrict r = j->work + n * MC_BATCH; /* [asset][path in batch] */
    uint64_t st[4]; /* the stream's state in locals while drawing */
    memcpy(st, rng->s, sizeof st);
    for (size_t q = 0; q < np; q++)
        for (size_t i = 0; i < n; i++)
            z[i * MC_BATCH + q] = normal(st, j->zig);
    memcpy(rng->s, st, sizeof st);
    for (size_t i = 0; i < n; i++) {
        double acc[MC_BATCH] = {0};
        for (size_t k = 0; k <= i; k++) {
            double lik = j->chol[i * n + k];
            const double *zk = z + k * MC_BATCH;
            for (size_t q = 0; q < MC_BATCH; q++)
                acc[q] += lik * zk[q];
        }
        memcpy(r + i * MC_BATCH, acc, sizeof acc);
    }
    double full[MC_BATCH] = {0}, lin[MC_BATCH] = {0};
    for (size_t i = 0; i < n; i++) {
        double v = j->value[i];
        const double *ri = r + i * MC_BATCH;
        for (size_t q = 0; q < MC_BATCH; q++)
            lin[q] += v * ri[q];
        for (size_t q = 0; q < np; q++)
            full[q] += v * expm1(ri[q]);
    }
    for (size_t q = 0; q < np; q++) {
        j->loss[p0 + q] = -full[q];
        if (j->loss_linear)
            j->loss_linear[p0 + q] = -lin[q];
    }
}

static void mc_block(const mc_job *j, risk_rng *rng, size_t block)
{
    size_t p0 = block * RISK_MC_BLOCK;
    size_t p1 = p0 + RISK_MC_BLOCK < j->paths ? p0 + RISK_MC_BLOCK : j->paths;
    for (size_t p = p0; p < p1; p += MC_BATCH)
        mc_batch(j, rng, p, p1 - p < MC_BATCH ? p1 - p : MC_BATCH);
}

static void *mc_worker(void *arg)
{
    const mc_job *j = arg;
    risk_rng rng;
    risk_rng_seed(&rng, j->seed);
    size_t at = 0; /* rng is the stream of block `at` */
    for (size_t b = j->first; b < j->n_blocks; b += j->stride) {
        for (; at < b; at++)
            risk_rng_jump(&rng);
        risk_rng blk = rng;
        mc_block(j, &blk, b);
    }
    return NULL;
}

int risk_mc_losses(const double *chol, const double *value, size_t n_assets,
                   const risk_mc_params *p, double *loss, double *loss_linear, err *e)
{
    if (p->paths == 0 || n_assets == 0)
        return err_set(e, ERR_INVALID, "Monte Carlo needs at least one path and one asset");
    size_t n_blocks = (p->paths + RISK_MC_BLOCK - 1) / RISK_MC_BLOCK;
    unsigned nt = p->threads ? p->threads : 1;
    if (nt > 64)
        nt = 64;
    if (nt > n_blocks)
        nt = (unsigned)n_blocks;
    mc_job jobs[64];
    pthread_t tid[64];
    size_t per = 2 * n_assets * MC_BATCH;
    double *work = calloc((size_t)nt * per, sizeof *work);
    risk_normal_table *zig = malloc(sizeof *zig);
    if (!work || !zig) {
        free(work);
        free(zig);
        return err_set(e, ERR_NOMEM, "out of memory for Monte Carlo work space");
    }
    risk_normal_table_init(zig);
    for (unsigned t = 0; t < nt; t++) {
        jobs[t] = (mc_job){chol, value, zig, n_assets, p->paths, n_blocks, p->seed, nt, t,
                           loss, loss_linear, work + (size_t)t * per};
    }
    /* Worker 0 runs on the calling thread; a worker that cannot start runs here too. */
    int spawned[64] = {0};
    for (unsigned t = 1; t < nt; t++) {
        if (pthread_create(&tid[t], NULL, mc_worker, &jobs[t]) == 0) {
            spawned[t] = 1;
        }
    }
    mc_worker(&jobs[0]);
    for (unsigned t = 1; t < nt; t++) {
        if (spawned[t])
            pthread_join(tid[t], NULL);
        else
            mc_worker(&jobs[t]);
    }
    free(work);
    free(zig);
    return 0;
}
