/* screen_bench.c: screening throughput with the shipped sanctions snapshot, the FATF list,
 * 100,000 entities and 1,000,000 synthetic events, against two baselines measured in the
 * same run: (1) generating the events and hashing their four addresses, the floor any
 * hash-based screen pays; (2) a naive linear scan of entities and sanctioned addresses over
 * a few thousand events, to show what the hash lookups buy. Not a test: it prints numbers.
 * Usage: screen_bench [SOURCE_ROOT] [EVENTS]   (SOURCE_ROOT defaults to $FUSION_ROOT or .) */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compliance/screen.h"

#define N_ENTITIES 100000
#define N_FLAGGED 1000
#define N_NAIVE 2000
#define T_START 1740873600ull /* 2025-03-02T00:00:00Z */

static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void rand_addr(addr *a)
{
    for (int i = 0; i < ADDR_LEN; i += 8) {
        uint64_t r = rng();
        memcpy(a->b + i, &r, (size_t)(ADDR_LEN - i < 8 ? ADDR_LEN - i : 8));
    }
}

/* CPU time of this (single-threaded) process: the machine is shared, wall time is noisy. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static screen_entity *ents;
static screen_link *links;
static addr *sanctioned;
static size_t n_sanctioned;

/* The i-th synthetic event; the same sequence for every pass (the generator is reseeded). */
static void gen_event(screen_input *ev, uint64_t i)
{
    memset(ev, 0, sizeof *ev);
    uint64_t r = rng();
    ev->kind = (r & 7) < 6 ? SCREEN_KIND_ESCROW_CREATED : SCREEN_KIND_ESCROW_FUNDED;
    ev->chain_id = 1 + ((r >> 3) & 3);
    rand_addr(&ev->escrow);
    /* 90 % of parties are known entities, 10 % strangers, 1 in 1000 payees sanctioned */
    uint64_t p = rng();
    bool structurer = p % 200 == 0; /* 0.5 %: 50 payers splitting amounts below 10,000 */
    if (structurer)
        ev->payer = links[(p >> 8) % 50].address;
    else if (p % 10 != 0)
        ev->payer = links[(p >> 8) % N_ENTITIES].address;
    else
        rand_addr(&ev->payer);
    uint64_t q = rng();
    if (q % 1000 == 0)
        ev->payee = sanctioned[(q >> 16) % n_sanctioned];
    else if (q % 10 != 0)
        ev->payee = links[(q >> 8) % N_ENTITIES].address;
    else
        rand_addr(&ev->payee);
    if (r & 0x100)
        rand_addr(&ev->token);
    /* USD from 10 to 200,000: 30 % each in 10-20, 100-200, 1,000-2,000; 7 % in
     * 10,000-20,000 and 3 % in 100,000-200,000 (so about 10 % are large amounts) */
    unsigned pick = (unsigned)((r >> 12) % 100);
    unsigned decades = pick < 30 ? 0 : pick < 60 ? 1 : pick < 90 ? 2 : pick < 97 ? 3 : 4;
    double usd = 10.0;
    for (unsigned k = decades; k > 0; k--)
        usd *= 10.0;
    usd *= 1.0 + (double)((r >> 20) & 0xff) / 256.0;
    if (structurer)
        usd = 9000.0 + (double)((r >> 20) % 1000);
    ev->usd_estimate = usd;
    ev->amount = u256_from_u64((uint64_t)(usd * 1e6));
    ev->timestamp = T_START + i / 10; /* ten events a second */
}

static int load_sanctioned(const char *root)
{
    char path[4200], line[256];
    snprintf(path, sizeof path, "%s/data/sanctions/sanctioned_addresses_ETH.txt", root);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    sanctioned = calloc(1024, sizeof *sanctioned);
    while (sanctioned && n_sanctioned < 1024 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        err e;
        if (strlen(line) == 42 && addr_parse(&sanctioned[n_sanctioned], line, &e) == 0)
            n_sanctioned++;
    }
    fclose(f);
    return n_sanctioned ? 0 : -1;
}

/* The naive screen: linear scans instead of hash lookups (entities and sanctions only). */
static size_t naive_screen(const screen_input *ev)
{
    size_t hits = 0;
    const addr *parties[4] = {&ev->escrow, &ev->payer, &ev->payee, &ev->token};
    for (int k = 0; k < 4; k++)
        for (size_t j = 0; j < n_sanctioned; j++)
            hits += memcmp(parties[k]->b, sanctioned[j].b, ADDR_LEN) == 0;
    for (int k = 1; k <= 2; k++) {
        const screen_entity *found = NULL;
        for (size_t j = 0; j < N_ENTITIES && !found; j++)
            if (memcmp(links[j].address.b, parties[k]->b, ADDR_LEN) == 0)
                found = &ents[j];
        hits += !found || found->kyc != SCREEN_KYC_VERIFIED;
    }
    return hits;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : getenv("FUSION_ROOT");
    if (!root)
        root = ".";
    uint64_t n_events = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    if (sodium_init() < 0 || load_sanctioned(root) < 0) {
        fprintf(stderr, "screen_bench: cannot read %s/data/sanctions: pass the source root\n",
                root);
        return 1;
    }
    err e;
    err_clear(&e);
    char manifest[4200], fatf_path[4200];
    snprintf(manifest, sizeof manifest, "%s/data/sanctions/manifest.txt", root);
    snprintf(fatf_path, sizeof fatf_path, "%s/data/compliance/fatf-jurisdictions.csv", root);
    screen_sanctions *sanc = NULL;
    screen_fatf *fatf = NULL;
    if (screen_sanctions_load(&sanc, manifest, NULL, &e) < 0 ||
        screen_fatf_load(&fatf, fatf_path, &e) < 0) {
        fprintf(stderr, "screen_bench: %s\n", e.msg);
        return 1;
    }
    screen_list_info info;
    screen_sanctions_info(sanc, &info);

    /* 100,000 entities: mostly verified and current, some pending/expired, a few in
     * FATF-listed jurisdictions. */
    rng_state = 0x0123456789abcdefull;
    ents = calloc(N_ENTITIES, sizeof *ents);
    links = calloc(N_ENTITIES, sizeof *links);
    screen_index *idx = NULL;
    if (!ents || !links || screen_index_new(&idx, N_ENTITIES, &e) < 0) {
        fprintf(stderr, "screen_bench: out of memory\n");
        return 1;
    }
    static const char *const iso[] = {"DE", "CH", "GB", "SG", "US", "FR", "BG", "IR"};
    int32_t day_2030;
    if (screen_date_parse(&day_2030, "2030-01-01", &e) < 0)
        return 1;
    for (size_t i = 0; i < N_ENTITIES; i++) {
        rand_addr(&links[i].address);
        links[i].chain_id = 0;
        uint64_t r = rng();
        ents[i].id = (int64_t)i + 1;
        ents[i].kyc = r % 50 == 0 ? SCREEN_KYC_PENDING : SCREEN_KYC_VERIFIED;
        ents[i].kyc_expires = r % 97 == 0 ? day_2030 - 4000 : day_2030;
        memcpy(ents[i].jurisdiction, iso[(r >> 8) % 64 < 62 ? (r >> 16) % 6 : 6 + (r >> 16) % 2],
               3);
        ents[i].links = &links[i];
        ents[i].n_links = 1;
        if (screen_index_add(idx, &ents[i], &e) < 0) {
            fprintf(stderr, "screen_bench: %s\n", e.msg);
            return 1;
        }
    }
    screen_entities cb = screen_index_entities(idx);

    screen_config cfg;
    screen_config_default(&cfg);
    screen_ctx *ctx = NULL;
    if (screen_ctx_new(&ctx, &cfg, &sanc, &fatf, &e) < 0) {
        fprintf(stderr, "screen_bench: %s\n", e.msg);
        return 1;
    }
    for (size_t i = 0; i < N_FLAGGED; i++) {
        if (screen_ctx_flag(ctx, &links[rng() % N_ENTITIES].address, (int64_t)i, &e) < 0)
            return 1;
    }

    const uint64_t seed = 0xfeedfacecafebeefull;
    uint8_t key[crypto_shorthash_KEYBYTES];
    crypto_shorthash_keygen(key);

    /* Baseline: generate each event and hash its four addresses (SipHash, as the maps do). */
    rng_state = seed;
    uint64_t sink = 0;
    double t0 = now_s();
    for (uint64_t i = 0; i < n_events; i++) {
        screen_input ev;
        gen_event(&ev, i);
        const addr *as[4] = {&ev.escrow, &ev.payer, &ev.payee, &ev.token};
        for (int k = 0; k < 4; k++) {
            uint8_t h[crypto_shorthash_BYTES];
            crypto_shorthash(h, as[k]->b, ADDR_LEN, key);
            sink += h[0];
        }
    }
    double t_base = now_s() - t0;

    /* Screening: the same events through every rule. */
    rng_state = seed;
    size_t by_rule[SCREEN_RULE_COUNT] = {0};
    uint64_t total_hits = 0;
    t0 = now_s();
    for (uint64_t i = 0; i < n_events; i++) {
        screen_input ev;
        gen_event(&ev, i);
        screen_hit hits[SCREEN_HITS_MAX];
        size_t n;
        if (screen_event(ctx, &cb, &ev, hits, SCREEN_HITS_MAX, &n, &e) < 0) {
            fprintf(stderr, "screen_bench: %s\n", e.msg);
            return 1;
        }
        total_hits += n;
        for (size_t k = 0; k < n; k++)
            by_rule[hits[k].rule]++;
    }
    double t_screen = now_s() - t0;

    /* Naive: linear scans over a few thousand of the same events. */
    rng_state = seed;
    t0 = now_s();
    for (uint64_t i = 0; i < N_NAIVE; i++) {
        screen_input ev;
        gen_event(&ev, i);
        sink += naive_screen(&ev);
    }
    double t_naive = now_s() - t0;

    double base_rate = (double)n_events / t_base;
    double screen_rate = (double)n_events / t_screen;
    double naive_rate = N_NAIVE / t_naive;
    printf("screen_bench: %llu events, %d entities, %zu sanctioned EVM addresses (list %s), "
           "%d flagged\n",
           (unsigned long long)n_events, N_ENTITIES, info.n_addresses, info.version, N_FLAGGED);
    printf("  baseline  generate + hash 4 addresses : %12.0f events/s\n", base_rate);
    printf("  screening all rules on                : %12.0f events/s  (%.2fx the baseline's "
           "time per event)\n",
           screen_rate, base_rate / screen_rate);
    printf("  naive     linear scans, %d events    : %12.0f events/s  (hash screening is %.0fx "
           "faster)\n",
           N_NAIVE, naive_rate, screen_rate / naive_rate);
    printf("  hits: %llu total;", (unsigned long long)total_hits);
    for (int r = 0; r < SCREEN_RULE_COUNT; r++)
        printf(" %s %zu", screen_rule_id((screen_rule)r), by_rule[r]);
    printf("\n  payers with window state at the end: %zu (sink %llu)\n", screen_ctx_payers(ctx),
           (unsigned long long)(sink & 0xff));

    screen_ctx_free(&ctx);
    screen_index_free(&idx);
    free(ents);
    free(links);
    free(sanctioned);
    return 0;
}
