/* case_bench.c: the screening SERVICE on a real desk database (temp dir): 100,000 entities
 * with a linked address each, N escrows in the projection (90 % known parties, 10 %
 * strangers, so about one case per five escrows), screened by compliance_screen_pending()
 * (hits, cases, case events, audit rows; an audit row per up to 256 escrows or 200 opened
 * cases, up to four audit rows per transaction). Baseline measured in
 * the same run: the pure rules (screen_event) over the same escrows with the same index,
 * no database. Also the replay cost of a second run (windows only, nothing new). Not a
 * test: it prints numbers. Wall time (the service waits on SQLite and fsync).
 * Usage: case_bench [SOURCE_ROOT] [ESCROWS]   (SOURCE_ROOT defaults to $FUSION_ROOT or .) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compliance/compliance.h"
#include "store/store.h"

#define N_ENTITIES 100000
#define T0 1767225600

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static addr addr_n(uint32_t n, uint8_t tag)
{
    addr a;
    memset(&a, 0, sizeof a);
    a.b[0] = tag;
    a.b[16] = (uint8_t)(n >> 24);
    a.b[17] = (uint8_t)(n >> 16);
    a.b[18] = (uint8_t)(n >> 8);
    a.b[19] = (uint8_t)n;
    return a;
}

static int die(const err *e)
{
    fprintf(stderr, "case_bench: %s\n", e->msg);
    return 1;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : getenv("FUSION_ROOT") ? getenv("FUSION_ROOT") : ".";
    long n_escrows = argc > 2 ? atol(argv[2]) : 20000;
    char home[] = "/tmp/fusion-case-bench-XXXXXX", db_path[128], manifest[1024], fatf[1024];
    if (!mkdtemp(home) || n_escrows <= 0)
        return 1;
    snprintf(db_path, sizeof db_path, "%s/desk.db", home);
    snprintf(manifest, sizeof manifest, "%s/data/sanctions/manifest.txt", root);
    snprintf(fatf, sizeof fatf, "%s/data/compliance/fatf-jurisdictions.csv", root);
    err e;
    store *s = NULL;
    screen_ctx *ctx = NULL;
    if (store_open(&s, db_path, &e) < 0 || compliance_screen_load(&ctx, manifest, NULL, fatf, &e))
        return die(&e);
    store_chain ch = {.chain_id = 1, .native_decimals = 18};
    snprintf(ch.name, sizeof ch.name, "bench");
    snprintf(ch.native_symbol, sizeof ch.native_symbol, "ETH");
    double t = wall();
    if (store_chain_add(s, &ch, &e) < 0 || store_begin(s, &e) < 0)
        return die(&e);
    for (uint32_t i = 0; i < N_ENTITIES; i++) {
        store_entity x = {.tier = 1};
        snprintf(x.name, sizeof x.name, "Entity %u", i);
        snprintf(x.type, sizeof x.type, "company");
        snprintf(x.jurisdiction, sizeof x.jurisdiction, i % 97 ? "CH" : "KP");
        snprintf(x.kyc, sizeof x.kyc, "verified");
        snprintf(x.kyc_expires, sizeof x.kyc_expires, "2030-01-01");
        snprintf(x.risk, sizeof x.risk, "low");
        store_entity_link l = {.chain_id = 1, .address = addr_n(i, 0xE0)};
        if (store_entity_add(s, &x, &l.entity_id, &e) < 0 || store_entity_link_add(s, &l, &e) < 0)
            return die(&e);
    }
    for (long i = 0; i < n_escrows; i++) {
        uint32_t r = (uint32_t)(i * 2654435761u);
        store_escrow x = {.chain_id = 1, .created_block = (uint64_t)i + 1};
        x.address = addr_n((uint32_t)i, 0xC0);
        x.payer = i % 10 == 9 ? addr_n((uint32_t)i, 0xAA) : addr_n(r % N_ENTITIES, 0xE0);
        x.payee = addr_n((r >> 7) % N_ENTITIES, 0xE0);
        x.amount = u256_from_u64(1000000000000000000ull);
        if (store_escrow_put(s, &x, &e) < 0)
            return die(&e);
    }
    if (store_commit(s, &e) < 0)
        return die(&e);
    double t_setup = wall() - t;

    /* baseline: the pure rules over the same escrows, registry in a hash index */
    store_escrow *xs = NULL;
    size_t nx = 0;
    if (store_escrow_list(s, 0, &xs, &nx, &e) < 0)
        return die(&e);
    screen_index *idx = NULL;
    screen_entity *se = calloc(N_ENTITIES, sizeof *se);
    screen_link *sl = calloc(N_ENTITIES, sizeof *sl);
    if (!se || !sl || screen_index_new(&idx, N_ENTITIES, &e) < 0)
        return 1;
    for (uint32_t i = 0; i < N_ENTITIES; i++) {
        sl[i] = (screen_link){.chain_id = 1, .address = addr_n(i, 0xE0)};
        se[i] = (screen_entity){.id = i + 1, .kyc = SCREEN_KYC_VERIFIED, .kyc_expires = 21915,
                                .links = &sl[i], .n_links = 1};
        memcpy(se[i].jurisdiction, i % 97 ? "CH" : "KP", 3);
        if (screen_index_add(idx, &se[i], &e) < 0)
            return die(&e);
    }
    screen_entities ents = screen_index_entities(idx);
    size_t base_hits = 0;
    t = wall();
    for (size_t i = 0; i < nx; i++) {
        screen_input in = {.kind = SCREEN_KIND_ESCROW_CREATED, .chain_id = 1,
                           .escrow = xs[i].address, .payer = xs[i].payer, .payee = xs[i].payee,
                           .amount = xs[i].amount, .usd_estimate = SCREEN_USD_UNKNOWN,
                           .timestamp = T0};
        screen_hit hits[SCREEN_HITS_MAX];
        size_t nh;
        if (screen_event(ctx, &ents, &in, hits, SCREEN_HITS_MAX, &nh, &e) < 0)
            return die(&e);
        base_hits += nh;
    }
    double t_base = wall() - t;
    screen_ctx_reset_windows(ctx);

    compliance_actor a = {.home = home, .operator_name = "bench", .now = T0};
    compliance_screen_stats st;
    t = wall();
    if (compliance_screen_pending(s, &a, ctx, NULL, &st, &e) < 0)
        return die(&e);
    double t_first = wall() - t;
    compliance_screen_stats st2;
    t = wall();
    if (compliance_screen_pending(s, &a, ctx, NULL, &st2, &e) < 0)
        return die(&e);
    double t_replay = wall() - t;

    printf("setup: %d entities + %zu escrows written in %.2f s\n", N_ENTITIES, nx, t_setup);
    printf("baseline (pure rules, no database): %.0f escrows/s, %zu hits\n", (double)nx / t_base,
           base_hits);
    printf("service, first run: %.0f escrows/s (%zu screened, %zu hits, %zu cases) = %.1fx the "
           "baseline's time per escrow\n",
           (double)st.screened / t_first, st.screened, st.hits, st.cases_opened,
           t_first / t_base);
    printf("service, second run (registry load + replay, nothing new): %.2f s, %.0f escrows/s, "
           "%zu screened\n",
           t_replay, (double)nx / t_replay, st2.screened);
    free(xs);
    free(se);
    free(sl);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
    store_close(&s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    return system(cmd) == 0 ? 0 : 1;
}
