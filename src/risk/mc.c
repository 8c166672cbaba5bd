/* mc.c: Monte Carlo VaR with our own reproducible generator (xoshiro256** seeded by
 * splitmix64, Box-Muller normals). Paths are cut into fixed blocks, block b draws from the
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

uint64_t risk_rng_next(risk_rng *rng)
{
    uint64_t *s = rng->s;
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
            (void)risk_rng_next(rng);
        }
    }
    rng->s[0] = s0;
    rng->s[1] = s1;
    rng->s[2] = s2;
    rng->s[3] = s3;
}

double risk_rng_uniform(risk_rng *rng)
{
    return ((double)(risk_rng_next(rng) >> 11) + 0.5) * 0x1.0p-53;
}

void risk_rng_normal_pair(risk_rng *rng, double *z0, double *z1)
{
    double u1 = risk_rng_uniform(rng);
    double u2 = risk_rng_uniform(rng);
    double rad = sqrt(-2.0 * log(u1));
    double th = 6.283185307179586476925286766559 * u2;
    *z0 = rad * cos(th);
    *z1 = rad * sin(th);
}

typedef struct mc_job {
    const double *chol;
    const double *value;
    size_t n;
    size_t paths;
    size_t n_blocks;
    uint64_t seed;
    unsigned stride; /* number of workers */
    unsigned first;  /* this worker's first block */
    double *loss;
    double *loss_linear;
    double *work; /* 2n doubles */
} mc_job;

static void mc_block(const mc_job *j, risk_rng *rng, size_t block)
{
    size_t n = j->n;
    double *z = j->work, *r = j->work + n;
    size_t p0 = block * RISK_MC_BLOCK;
    size_t p1 = p0 + RISK_MC_BLOCK < j->paths ? p0 + RISK_MC_BLOCK : j->paths;
    for (size_t p = p0; p < p1; p++) {
        for (size_t i = 0; i < n; i += 2) {
            double a, b;
            risk_rng_normal_pair(rng, &a, &b);
            z[i] = a;
            if (i + 1 < n)
                z[i + 1] = b;
        }
        double full = 0.0, lin = 0.0;
        for (size_t i = 0; i < n; i++) {
            const double *li = j->chol + i * n;
            double ri = 0.0;
            for (size_t k = 0; k <= i; k++)
                ri += li[k] * z[k];
            r[i] = ri;
        }
        for (size_t i = 0; i < n; i++) {
            full += j->value[i] * expm1(r[i]);
            lin += j->value[i] * r[i];
        }
        j->loss[p] = -full;
        if (j->loss_linear)
            j->loss_linear[p] = -lin;
    }
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
    double *work = malloc((size_t)nt * 2 * n_assets * sizeof *work);
    if (!work)
        return err_set(e, ERR_NOMEM, "out of memory for Monte Carlo work space");
    for (unsigned t = 0; t < nt; t++) {
        jobs[t] = (mc_job){chol, value, n_assets, p->paths, n_blocks, p->seed, nt, t,
                           loss, loss_linear, work + (size_t)t * 2 * n_assets};
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
    return 0;
}
