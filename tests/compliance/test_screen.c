/* test_screen.c: each screening rule on crafted event streams, hit and near miss, with
 * the shipped sanctions snapshot and FATF file. Boundaries are the documented ones:
 * windows are inclusive ([t - window, t]), the structuring band is [90 %, 100 %) of the
 * threshold, large amount is >= threshold, velocity limits are "more than". */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka.h needs stdarg, stddef and setjmp first */
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include "base/bytes.h"
#include "compliance/screen.h"

/* 2025-03-02T00:00:00Z, from `date -u -d 2025-03-02 +%s` */
#define T0 1740873600ull
#define HOUR 3600ull
#define DAY 86400ull

static char root[4096];
static char tmpdir[256];

static addr mk(uint8_t kind, uint32_t n)
{
    addr a;
    memset(&a, 0, sizeof a);
    a.b[0] = 0xa0;
    a.b[1] = kind;
    a.b[16] = (uint8_t)(n >> 24);
    a.b[17] = (uint8_t)(n >> 16);
    a.b[18] = (uint8_t)(n >> 8);
    a.b[19] = (uint8_t)n;
    return a;
}

static void parse_addr(addr *a, const char *s)
{
    for (int i = 0; i < 20; i++) {
        unsigned v;
        char two[3] = {s[2 + 2 * i], s[3 + 2 * i], 0};
        assert_int_equal(sscanf(two, "%2x", &v), 1);
        a->b[i] = (uint8_t)v;
    }
}

/* ---- fixtures: a verified payer and payee, plus entities for the KYC cases ---- */

enum { P_OK = 1, Q_OK, P_PENDING, P_REJECTED, P_EXPIRED, P_NOEXP, P_SOON, P_IR, P_BG, P_CHAIN5 };

static screen_link links[16];
static screen_entity ents[16];

static void add_entity(screen_index *idx, int id, screen_kyc kyc, const char *expires,
                       const char *iso, uint64_t chain)
{
    links[id] = (screen_link){.chain_id = chain, .address = mk(1, (uint32_t)id)};
    screen_entity *en = &ents[id];
    memset(en, 0, sizeof *en);
    en->id = id;
    en->name = "Entity";
    en->kyc = kyc;
    en->kyc_expires = SCREEN_NO_DATE;
    err e;
    err_clear(&e);
    if (expires)
        assert_int_equal(screen_date_parse(&en->kyc_expires, expires, &e), 0);
    snprintf(en->jurisdiction, sizeof en->jurisdiction, "%s", iso);
    en->links = &links[id];
    en->n_links = 1;
    assert_int_equal(screen_index_add(idx, en, &e), 0);
}

static screen_index *make_index(void)
{
    screen_index *idx = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_index_new(&idx, 16, &e), 0);
    add_entity(idx, P_OK, SCREEN_KYC_VERIFIED, "2030-01-01", "DE", 0);
    add_entity(idx, Q_OK, SCREEN_KYC_VERIFIED, "2030-01-01", "CH", 0);
    add_entity(idx, P_PENDING, SCREEN_KYC_PENDING, NULL, "DE", 0);
    add_entity(idx, P_REJECTED, SCREEN_KYC_REJECTED, "2030-01-01", "DE", 0);
    add_entity(idx, P_EXPIRED, SCREEN_KYC_EXPIRED, "2024-01-01", "DE", 0);
    add_entity(idx, P_NOEXP, SCREEN_KYC_VERIFIED, NULL, "DE", 0);
    add_entity(idx, P_SOON, SCREEN_KYC_VERIFIED, "2025-03-01", "DE", 0);
    add_entity(idx, P_IR, SCREEN_KYC_VERIFIED, "2030-01-01", "IR", 0);
    add_entity(idx, P_BG, SCREEN_KYC_VERIFIED, "2030-01-01", "BG", 0);
    add_entity(idx, P_CHAIN5, SCREEN_KYC_VERIFIED, "2030-01-01", "DE", 5);
    return idx;
}

static screen_sanctions *load_sanctions(const char *desk)
{
    char manifest[4200];
    snprintf(manifest, sizeof manifest, "%s/data/sanctions/manifest.txt", root);
    screen_sanctions *s = NULL;
    err e;
    err_clear(&e);
    if (screen_sanctions_load(&s, manifest, desk, &e) < 0)
        fail_msg("%s", e.msg);
    return s;
}

static screen_fatf *load_fatf(void)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/data/compliance/fatf-jurisdictions.csv", root);
    screen_fatf *f = NULL;
    err e;
    err_clear(&e);
    if (screen_fatf_load(&f, p, &e) < 0)
        fail_msg("%s", e.msg);
    return f;
}

static screen_ctx *make_ctx(const screen_config *cfg)
{
    screen_config def;
    if (!cfg) {
        screen_config_default(&def);
        cfg = &def;
    }
    screen_sanctions *s = cfg->sanctions.on ? load_sanctions(NULL) : NULL;
    screen_fatf *f = cfg->jurisdiction.on ? load_fatf() : NULL;
    screen_ctx *ctx = NULL;
    err e;
    err_clear(&e);
    if (screen_ctx_new(&ctx, cfg, &s, &f, &e) < 0)
        fail_msg("%s", e.msg);
    assert_null(s);
    assert_null(f);
    return ctx;
}

static screen_input event(uint64_t ts, double usd)
{
    screen_input ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SCREEN_KIND_ESCROW_CREATED;
    ev.chain_id = 1;
    ev.escrow = mk(2, (uint32_t)(ts & 0xffffff));
    ev.payer = mk(1, P_OK);
    ev.payee = mk(1, Q_OK);
    /* a 6-decimal stablecoin */
    ev.amount = u256_from_u64(usd >= 0 && usd < 1e12 ? (uint64_t)(usd * 1e6) : 0);
    ev.token = mk(3, 1);
    ev.usd_estimate = usd;
    ev.timestamp = ts;
    return ev;
}

typedef struct run {
    screen_hit hits[SCREEN_HITS_MAX];
    size_t n;
} run;

static void screen(screen_ctx *ctx, screen_index *idx, const screen_input *ev, run *r)
{
    screen_entities ents_cb = screen_index_entities(idx);
    err e;
    err_clear(&e);
    if (screen_event(ctx, idx ? &ents_cb : NULL, ev, r->hits, SCREEN_HITS_MAX, &r->n, &e) < 0)
        fail_msg("%s", e.msg);
    assert_true(r->n <= SCREEN_HITS_MAX);
}

static size_t count(const run *r, screen_rule rule)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->hits[i].rule == rule;
    return n;
}

static const screen_hit *find(const run *r, screen_rule rule)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->hits[i].rule == rule)
            return &r->hits[i];
    fail_msg("no %s hit among %zu", screen_rule_id(rule), r->n);
    return &r->hits[0]; /* not reached: fail_msg does not return */
}

static void expect_evidence(const screen_hit *h, const char *want)
{
    if (!strstr(h->evidence, want))
        fail_msg("evidence '%s' lacks '%s'", h->evidence, want);
}

static int setup(void **state)
{
    (void)state;
    const char *r = getenv("FUSION_ROOT");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/fusion-screen-XXXXXX", t ? t : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ---- */

/* A plain escrow between two verified, current, low-risk entities: no hit at all. */
static void test_clean_event(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    run r;
    screen_input ev = event(T0, 1000.0);
    screen(ctx, idx, &ev, &r);
    for (size_t i = 0; i < r.n; i++)
        print_error("unexpected hit: %s %s\n", screen_rule_id(r.hits[i].rule), r.hits[i].evidence);
    assert_int_equal(r.n, 0);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
    assert_null(ctx);
}

/* Every address of the shipped ETH list hits, in every role; one bit off does not. */
static void test_sanctions_shipped_eth(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    screen_list_info info;
    screen_sanctions_info(screen_ctx_sanctions(ctx), &info);

    char path[4300], line[256];
    snprintf(path, sizeof path, "%s/data/sanctions/sanctioned_addresses_ETH.txt", root);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t lineno = 0;
    uint64_t ts = T0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        addr bad;
        parse_addr(&bad, line);
        screen_role roles[] = {SCREEN_ROLE_PAYEE, SCREEN_ROLE_PAYER, SCREEN_ROLE_ESCROW,
                               SCREEN_ROLE_TOKEN};
        screen_role role = roles[lineno % 4];
        screen_input ev = event(ts++, 500.0);
        addr *slot = role == SCREEN_ROLE_PAYEE    ? &ev.payee
                     : role == SCREEN_ROLE_PAYER  ? &ev.payer
                     : role == SCREEN_ROLE_ESCROW ? &ev.escrow
                                                  : &ev.token;
        *slot = bad;
        run r;
        screen(ctx, idx, &ev, &r);
        assert_int_equal(count(&r, SCREEN_RULE_SANCTIONS), 1);
        const screen_hit *h = find(&r, SCREEN_RULE_SANCTIONS);
        assert_int_equal(h->role, role);
        assert_int_equal(h->score, 100);
        assert_memory_equal(h->address.b, bad.b, 20);
        assert_memory_equal(h->list_sha256, info.sha256, 32);
        assert_string_equal(h->list_version, info.version);
        assert_string_equal(h->list_as_of, "2024-09-27");
        char want[64];
        /* an address also in the USDC/USDT lists is credited to the ETH list (loaded first) */
        snprintf(want, sizeof want, "sanctioned_addresses_ETH.txt line %zu", lineno);
        expect_evidence(h, want);

        slot->b[7] ^= 0x80; /* near miss */
        screen(ctx, idx, &ev, &r);
        assert_int_equal(count(&r, SCREEN_RULE_SANCTIONS), 0);
    }
    fclose(f);
    assert_int_equal(lineno, 152);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
}

/* Reload: a new snapshot (here: plus a desk list) is built, swapped in, and its version
 * appears on the hits; the old version stops appearing. */
static void test_sanctions_reload(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    screen_list_info v1;
    screen_sanctions_info(screen_ctx_sanctions(ctx), &v1);

    addr desk_addr = mk(9, 77);
    char hex[43];
    hex_encode(hex, sizeof hex, desk_addr.b, 20, true);
    char desk[512], content[256];
    snprintf(desk, sizeof desk, "%s/desk.txt", tmpdir);
    snprintf(content, sizeof content, "# desk list\n%s  scam reported by ops 2025-02\n", hex);
    FILE *f = fopen(desk, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);

    screen_input ev = event(T0, 500.0);
    ev.payee = desk_addr;
    run r;
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_SANCTIONS), 0);

    screen_sanctions *next = load_sanctions(desk);
    screen_ctx_set_sanctions(ctx, &next);
    assert_null(next);
    screen_list_info v2;
    screen_sanctions_info(screen_ctx_sanctions(ctx), &v2);
    assert_string_not_equal(v1.version, v2.version);
    assert_memory_not_equal(v1.sha256, v2.sha256, 32);
    assert_int_equal(v2.n_addresses, v1.n_addresses + 1);

    ev.timestamp++;
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_SANCTIONS), 1);
    const screen_hit *h = find(&r, SCREEN_RULE_SANCTIONS);
    assert_string_equal(h->list_version, v2.version);
    expect_evidence(h, "desk.txt line 2: scam reported by ops 2025-02");

    /* A failed reload leaves the running list alone. */
    f = fopen(desk, "w");
    assert_non_null(f);
    fputs("0xdeadbeef\n", f);
    fclose(f);
    char manifest[4200];
    snprintf(manifest, sizeof manifest, "%s/data/sanctions/manifest.txt", root);
    err e;
    err_clear(&e);
    assert_int_equal(screen_sanctions_load(&next, manifest, desk, &e), -1);
    screen_ctx_set_sanctions(ctx, &next); /* NULL: no-op */
    screen_list_info v3;
    screen_sanctions_info(screen_ctx_sanctions(ctx), &v3);
    assert_string_equal(v3.version, v2.version);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
}

static void test_unknown_counterparty(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    run r;
    screen_input ev = event(T0, 100.0);
    ev.payer = mk(7, 1); /* linked to nobody */
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_UNKNOWN), 1);
    const screen_hit *h = find(&r, SCREEN_RULE_UNKNOWN);
    assert_int_equal(h->role, SCREEN_ROLE_PAYER);
    assert_int_equal(h->entity_id, 0);
    assert_int_equal(h->score, 50);
    assert_int_equal(count(&r, SCREEN_RULE_KYC), 0);

    /* linked on chain 5 only: unknown on chain 1, known on chain 5 */
    ev = event(T0 + 1, 100.0);
    ev.payee = mk(1, P_CHAIN5);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_UNKNOWN), 1);
    assert_int_equal(find(&r, SCREEN_RULE_UNKNOWN)->role, SCREEN_ROLE_PAYEE);
    ev.chain_id = 5;
    screen(ctx, idx, &ev, &r);
    assert_int_equal(r.n, 0);

    /* without any entity source, both parties are unknown */
    ev = event(T0 + 2, 100.0);
    screen(ctx, NULL, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_UNKNOWN), 2);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
}

static void expect_kyc(screen_ctx *ctx, screen_index *idx, int payer_id, uint64_t ts, int score,
                       const char *why)
{
    run r;
    screen_input ev = event(ts, 100.0);
    ev.payer = mk(1, (uint32_t)payer_id);
    screen(ctx, idx, &ev, &r);
    if (!why) {
        assert_int_equal(count(&r, SCREEN_RULE_KYC), 0);
        return;
    }
    assert_int_equal(count(&r, SCREEN_RULE_KYC), 1);
    const screen_hit *h = find(&r, SCREEN_RULE_KYC);
    assert_int_equal(h->entity_id, payer_id);
    assert_int_equal(h->score, score);
    assert_int_equal(h->role, SCREEN_ROLE_PAYER);
    expect_evidence(h, why);
    assert_int_equal(count(&r, SCREEN_RULE_UNKNOWN), 0);
}

static void test_kyc(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    /* valid through its expiry day (2025-03-01), expired from the next midnight UTC */
    expect_kyc(ctx, idx, P_SOON, T0 - 1, 0, NULL);
    expect_kyc(ctx, idx, P_SOON, T0, 50, "KYC expired on 2025-03-01 (as of 2025-03-02)");
    expect_kyc(ctx, idx, P_PENDING, T0, 50, "KYC pending");
    expect_kyc(ctx, idx, P_REJECTED, T0, 80, "KYC rejected");
    expect_kyc(ctx, idx, P_EXPIRED, T0, 50, "KYC marked expired");
    expect_kyc(ctx, idx, P_NOEXP, T0, 50, "no expiry date");
    expect_kyc(ctx, idx, P_OK, T0, 0, NULL);
    screen_ctx_free(&ctx);

    screen_config cfg;
    screen_config_default(&cfg);
    cfg.kyc.require_expiry = false;
    ctx = make_ctx(&cfg);
    expect_kyc(ctx, idx, P_NOEXP, T0, 0, NULL);
    expect_kyc(ctx, idx, P_PENDING, T0, 50, "KYC pending");
    screen_ctx_free(&ctx);
    screen_index_free(&idx);
}

/* Strict UTF-8 check (independent of the library). */
static bool utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80             ? 0
                : (*p & 0xE0) == 0xC0 ? 1
                : (*p & 0xF0) == 0xE0 ? 2
                : (*p & 0xF8) == 0xF0 ? 3
                                      : -1;
        if (n < 0)
            return false;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xC0) != 0x80)
                return false;
    }
    return true;
}

/* Registry names reach the evidence as one line of valid UTF-8, however long or odd. */
static void test_entity_name_in_evidence(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_index_new(&idx, 4, &e), 0);
    screen_link l = {.chain_id = 0, .address = mk(6, 1)};
    screen_entity ent = {.id = 61,
                         .name =
                             "Bad\nName\t\x7f 日本語の非常に長い会社名株式会社日本語の非常に長い"
                             "会社名株式会社日本語の非常に長い会社名株式会社",
                         .kyc = SCREEN_KYC_PENDING,
                         .kyc_expires = SCREEN_NO_DATE,
                         .jurisdiction = "JP",
                         .links = &l,
                         .n_links = 1};
    assert_int_equal(screen_index_add(idx, &ent, &e), 0);
    run r;
    screen_input ev = event(T0, 100.0);
    ev.payee = l.address;
    screen(ctx, idx, &ev, &r);
    const screen_hit *h = find(&r, SCREEN_RULE_KYC);
    assert_null(strchr(h->evidence, '\n'));
    assert_null(strchr(h->evidence, '\t'));
    assert_true(utf8_ok(h->evidence));
    expect_evidence(h, "entity 61 'Bad?Name?? 日本語");
    expect_evidence(h, "...'");
    assert_int_equal(h->entity_id, 61);

    /* the same address linked to a second entity is refused */
    screen_entity other = ent;
    other.id = 62;
    assert_int_equal(screen_index_add(idx, &other, &e), -1);
    assert_int_equal(e.code, ERR_EXISTS);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
}

static void test_jurisdiction(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    screen_list_info fi;
    screen_fatf_info(screen_ctx_fatf(ctx), &fi);
    run r;
    screen_input ev = event(T0, 100.0);
    ev.payee = mk(1, P_IR);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_JURISDICTION), 1);
    const screen_hit *h = find(&r, SCREEN_RULE_JURISDICTION);
    assert_int_equal(h->score, 70);
    assert_int_equal(h->role, SCREEN_ROLE_PAYEE);
    assert_int_equal(h->entity_id, P_IR);
    assert_memory_equal(h->list_sha256, fi.sha256, 32);
    assert_string_equal(h->list_as_of, "2025-10-24");
    assert_string_equal(h->list_version, fi.version);
    expect_evidence(h, "IR (Iran)");
    expect_evidence(h, "call-for-action");

    ev.payee = mk(1, P_BG);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_JURISDICTION), 1);
    assert_int_equal(find(&r, SCREEN_RULE_JURISDICTION)->score, 40);
    expect_evidence(find(&r, SCREEN_RULE_JURISDICTION), "increased-monitoring");

    ev.payee = mk(1, Q_OK); /* CH: on neither list */
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_JURISDICTION), 0);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
}

static void test_large_amount(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    run r;
    screen_input ev = event(T0, 10000.0);
    ev.kind = SCREEN_KIND_DESK_RELEASE;
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_LARGE), 1);
    const screen_hit *h = find(&r, SCREEN_RULE_LARGE);
    assert_int_equal(h->score, 30);
    assert_int_equal(h->role, SCREEN_ROLE_ESCROW);
    assert_int_equal(h->entity_id, P_OK);
    expect_evidence(h, "10000000000 base units");
    expect_evidence(h, "desk release");
    assert_int_equal(r.n, 1);

    ev = event(T0 + 1, 9999.99);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_LARGE), 0);
    ev = event(T0 + 2, SCREEN_USD_UNKNOWN);
    ev.amount = u256_from_u64(UINT64_MAX);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(r.n, 0); /* no price, no amount rule */
    ev.usd_estimate = NAN;
    screen(ctx, idx, &ev, &r);
    assert_int_equal(r.n, 0);
    ev = event(T0 + 3, 2e9);
    memset(&ev.token, 0, sizeof ev.token);
    screen(ctx, idx, &ev, &r);
    expect_evidence(find(&r, SCREEN_RULE_LARGE), "native coin");
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
}

/* Feeds (offset, usd) escrows from one payer and returns the structuring hits of the last. */
static size_t structuring_run(const uint64_t *offsets, const double *usd, size_t n, run *last)
{
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    size_t earlier = 0;
    for (size_t i = 0; i < n; i++) {
        screen_input ev = event(T0 + offsets[i], usd[i]);
        screen(ctx, idx, &ev, last);
        if (i + 1 < n)
            earlier += count(last, SCREEN_RULE_STRUCTURING);
    }
    assert_int_equal(earlier, 0);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
    return count(last, SCREEN_RULE_STRUCTURING);
}

static void test_structuring(void **state)
{
    (void)state;
    run r;
    const double at95[] = {9500.0, 9500.0, 9500.0};
    /* three at 95 % within 23 h 59 m: hit */
    const uint64_t in[] = {0, 5 * HOUR, 23 * HOUR + 59 * 60};
    assert_int_equal(structuring_run(in, at95, 3, &r), 1);
    const screen_hit *h = find(&r, SCREEN_RULE_STRUCTURING);
    assert_int_equal(h->score, 60);
    assert_int_equal(h->role, SCREEN_ROLE_PAYER);
    assert_int_equal(h->entity_id, P_OK);
    expect_evidence(h, "3 escrows within 86400 s (span 86340 s)");
    expect_evidence(h, "9500.00 9500.00 9500.00");
    /* exactly 24 h apart: still within (inclusive window) */
    const uint64_t edge[] = {0, HOUR, DAY};
    assert_int_equal(structuring_run(edge, at95, 3, &r), 1);
    /* 24 h + 1 s: the first has left the window */
    const uint64_t out[] = {0, HOUR, DAY + 1};
    assert_int_equal(structuring_run(out, at95, 3, &r), 0);
    /* one at 89.99 %: out of band */
    const double low[] = {9500.0, 8999.0, 9500.0};
    assert_int_equal(structuring_run(in, low, 3, &r), 0);
    /* exactly 90 %: in band (lower bound inclusive) */
    const double at90[] = {9000.0, 9000.0, 9000.0};
    assert_int_equal(structuring_run(in, at90, 3, &r), 1);
    /* just under 100 %: in band */
    const double under[] = {9999.99, 9999.99, 9999.99};
    assert_int_equal(structuring_run(in, under, 3, &r), 1);
    /* exactly 100 %: not structuring (upper bound exclusive) but a large amount each */
    const double at100[] = {10000.0, 10000.0, 10000.0};
    assert_int_equal(structuring_run(in, at100, 3, &r), 0);
    assert_int_equal(count(&r, SCREEN_RULE_LARGE), 1);
    /* two are not enough */
    assert_int_equal(structuring_run(in, at95, 2, &r), 0);
    /* a fourth hits again and counts four */
    const uint64_t four[] = {0, HOUR, 2 * HOUR, 3 * HOUR};
    const double at95x4[] = {9500.0, 9500.0, 9500.0, 9500.0};
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    size_t hits = 0;
    for (size_t i = 0; i < 4; i++) {
        screen_input ev = event(T0 + four[i], at95x4[i]);
        screen(ctx, idx, &ev, &r);
        hits += count(&r, SCREEN_RULE_STRUCTURING);
    }
    assert_int_equal(hits, 2);
    expect_evidence(find(&r, SCREEN_RULE_STRUCTURING), "4 escrows");
    screen_ctx_free(&ctx);

    /* three payers, one escrow each: nothing */
    ctx = make_ctx(NULL);
    int payers[] = {P_OK, P_IR, P_BG};
    hits = 0;
    for (size_t i = 0; i < 3; i++) {
        screen_input ev = event(T0 + i, 9500.0);
        ev.payer = mk(1, (uint32_t)payers[i]);
        screen(ctx, idx, &ev, &r);
        hits += count(&r, SCREEN_RULE_STRUCTURING);
    }
    assert_int_equal(hits, 0);
    screen_ctx_free(&ctx);

    /* funding events do not feed the windows (only creations do, by default) */
    ctx = make_ctx(NULL);
    hits = 0;
    for (size_t i = 0; i < 3; i++) {
        screen_input ev = event(T0 + i, 9500.0);
        if (i == 1)
            ev.kind = SCREEN_KIND_ESCROW_FUNDED;
        screen(ctx, idx, &ev, &r);
        hits += count(&r, SCREEN_RULE_STRUCTURING);
    }
    assert_int_equal(hits, 0);
    screen_ctx_free(&ctx);
    screen_index_free(&idx);
}

/* Out-of-order arrivals within the window are sorted in, so eviction stays exact. */
static void test_structuring_out_of_order(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    const unsigned perm[10] = {3, 9, 0, 5, 1, 8, 2, 7, 4, 6};
    run r;
    for (size_t i = 0; i < 10; i++) {
        screen_input ev = event(T0 + perm[i] * 60, 9100.0);
        screen(ctx, idx, &ev, &r);
    }
    expect_evidence(find(&r, SCREEN_RULE_STRUCTURING), "10 escrows");
    /* at T0 + 24 h + 5 min the entries at +0..+4 min are older than the window */
    screen_input ev = event(T0 + DAY + 300, 9100.0);
    screen(ctx, idx, &ev, &r);
    expect_evidence(find(&r, SCREEN_RULE_STRUCTURING), "6 escrows");
    /* an event older than the whole window no longer counts */
    ev = event(T0 + 10, 9100.0);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_STRUCTURING), 0);
    /* ... but one exactly a window late still does (inclusive bound) */
    ev = event(T0 + 300, 9100.0);
    screen(ctx, idx, &ev, &r);
    expect_evidence(find(&r, SCREEN_RULE_STRUCTURING), "7 escrows");
    /* one second later both entries at +5 min leave: +6..+9 min and the two new ones */
    ev = event(T0 + DAY + 301, 9100.0);
    screen(ctx, idx, &ev, &r);
    expect_evidence(find(&r, SCREEN_RULE_STRUCTURING), "6 escrows");
    /* 200 more up to T0 + 24 h + 599 s: the ring buffer grows, the first day's are gone */
    for (unsigned i = 0; i < 200; i++) {
        ev = event(T0 + DAY + 400 + i, 9100.0);
        screen(ctx, idx, &ev, &r);
    }
    expect_evidence(find(&r, SCREEN_RULE_STRUCTURING), "202 escrows");
    screen_ctx_reset_windows(ctx);
    assert_int_equal(screen_ctx_payers(ctx), 0);
    ev = event(T0 + DAY + 1000, 9100.0);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_STRUCTURING), 0);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
}

/* The desk's own flow: an own payer's escrows count for the counterparty they go to,
 * so six escrows of the desk to six payees in an hour are no velocity, six to one payee
 * are that payee's; escrows between own accounts feed no window; structuring likewise. */
static void test_own_flow(void **state)
{
    (void)state;
    screen_index *idx = make_index();
    run r;
    err e;
    err_clear(&e);
    screen_ctx *ctx = make_ctx(NULL);
    addr own = mk(1, P_OK);
    assert_int_equal(screen_ctx_own_add(ctx, &own, &e), 0);
    assert_true(screen_ctx_is_own(ctx, &own));
    for (uint64_t i = 0; i < 6; i++) {
        screen_input ev = event(T0 + i * 60, 9500.0);
        ev.payee = mk(9, (uint32_t)(100 + i)); /* six different counterparties */
        screen(ctx, idx, &ev, &r);
        assert_int_equal(count(&r, SCREEN_RULE_VELOCITY), 0);
        assert_int_equal(count(&r, SCREEN_RULE_STRUCTURING), 0);
    }
    for (uint64_t i = 0; i < 6; i++) {
        screen_input ev = event(T0 + 600 + i * 60, 9500.0); /* one counterparty, six times */
        screen(ctx, idx, &ev, &r);
        if (i < 2)
            assert_int_equal(count(&r, SCREEN_RULE_STRUCTURING), 0);
    }
    const screen_hit *h = find(&r, SCREEN_RULE_VELOCITY);
    assert_non_null(h);
    assert_int_equal(h->role, SCREEN_ROLE_PAYEE);
    addr q = mk(1, Q_OK);
    assert_memory_equal(h->address.b, q.b, ADDR_LEN);
    expect_evidence(h, "payee ");
    h = find(&r, SCREEN_RULE_STRUCTURING);
    assert_non_null(h);
    assert_int_equal(h->role, SCREEN_ROLE_PAYEE);
    /* a large escrow the desk pays is about its counterparty's entity */
    screen_input big = event(T0 + 1000, 20000.0);
    screen(ctx, idx, &big, &r);
    h = find(&r, SCREEN_RULE_LARGE);
    assert_non_null(h);
    assert_int_equal(h->entity_id, Q_OK);
    /* both sides own: no window counts it */
    assert_int_equal(screen_ctx_own_add(ctx, &q, &e), 0);
    screen_input ev = event(T0 + 1200, 9500.0);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_VELOCITY), 0);
    assert_int_equal(count(&r, SCREEN_RULE_STRUCTURING), 0);
    screen_ctx_own_clear(ctx);
    assert_false(screen_ctx_is_own(ctx, &own));
    screen_ctx_free(&ctx);
    screen_index_free(&idx);
}

static void test_velocity(void **state)
{
    (void)state;
    screen_index *idx = make_index();
    run r;
    /* count: 5 in the hour are allowed, a 6th is one too many */
    screen_ctx *ctx = make_ctx(NULL);
    for (uint64_t i = 0; i < 5; i++) {
        screen_input ev = event(T0 + i * 600, 100.0);
        screen(ctx, idx, &ev, &r);
        assert_int_equal(count(&r, SCREEN_RULE_VELOCITY), 0);
    }
    screen_input ev = event(T0 + HOUR, 100.0); /* exactly one hour after the first */
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_VELOCITY), 1);
    const screen_hit *h = find(&r, SCREEN_RULE_VELOCITY);
    assert_int_equal(h->score, 40);
    assert_int_equal(h->role, SCREEN_ROLE_PAYER);
    expect_evidence(h, "6 escrows worth 600.00 USD");
    expect_evidence(h, "(count exceeded)");
    screen_ctx_free(&ctx);

    ctx = make_ctx(NULL);
    for (uint64_t i = 0; i < 5; i++) {
        ev = event(T0 + i * 600, 100.0);
        screen(ctx, idx, &ev, &r);
    }
    ev = event(T0 + HOUR + 1, 100.0); /* the first has left the window */
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_VELOCITY), 0);
    screen_ctx_free(&ctx);

    /* value: 30,000 + 20,000 is at the limit, one more cent is over it */
    ctx = make_ctx(NULL);
    ev = event(T0, 30000.0);
    screen(ctx, idx, &ev, &r);
    ev = event(T0 + 60, 20000.0);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_VELOCITY), 0);
    ev = event(T0 + 120, 0.01);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_VELOCITY), 1);
    expect_evidence(find(&r, SCREEN_RULE_VELOCITY), "50000.01 USD");
    expect_evidence(find(&r, SCREEN_RULE_VELOCITY), "(value exceeded)");
    screen_ctx_free(&ctx);

    /* unpriced events count but add no value */
    ctx = make_ctx(NULL);
    for (uint64_t i = 0; i < 6; i++) {
        ev = event(T0 + i, SCREEN_USD_UNKNOWN);
        screen(ctx, idx, &ev, &r);
    }
    assert_int_equal(count(&r, SCREEN_RULE_VELOCITY), 1);
    expect_evidence(find(&r, SCREEN_RULE_VELOCITY), "6 escrows worth 0.00 USD");
    screen_ctx_free(&ctx);
    screen_index_free(&idx);
}

static void test_prior_hit(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    err e;
    err_clear(&e);
    run r;
    screen_input ev = event(T0, 100.0);
    assert_int_equal(screen_ctx_flag(ctx, &ev.payee, 42, &e), 0);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(r.n, 1);
    const screen_hit *h = find(&r, SCREEN_RULE_PRIOR_HIT);
    assert_int_equal(h->role, SCREEN_ROLE_PAYEE);
    assert_int_equal(h->score, 80);
    assert_int_equal(h->entity_id, Q_OK);
    expect_evidence(h, "ref 42");
    assert_true(screen_ctx_unflag(ctx, &ev.payee));
    assert_false(screen_ctx_unflag(ctx, &ev.payee));
    screen(ctx, idx, &ev, &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(screen_ctx_flag(ctx, &ev.escrow, 7, &e), 0);
    screen(ctx, idx, &ev, &r);
    assert_int_equal(count(&r, SCREEN_RULE_PRIOR_HIT), 1);
    assert_int_equal(find(&r, SCREEN_RULE_PRIOR_HIT)->role, SCREEN_ROLE_ESCROW);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
}

/* A short hit buffer: every hit is counted, the first ones are kept unchanged. */
static void test_hit_buffer(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    screen_index *idx = make_index();
    screen_input ev = event(T0, 20000.0);
    ev.payer = mk(1, P_REJECTED);
    ev.payee = mk(7, 7);
    run full;
    screen(ctx, idx, &ev, &full);
    assert_true(full.n >= 3);
    screen_ctx_free(&ctx);

    ctx = make_ctx(NULL);
    screen_hit two[2];
    size_t n = 0;
    screen_entities cb = screen_index_entities(idx);
    err e;
    err_clear(&e);
    assert_int_equal(screen_event(ctx, &cb, &ev, two, 2, &n, &e), 0);
    assert_int_equal(n, full.n);
    assert_memory_equal(two, full.hits, sizeof two);
    screen_index_free(&idx);
    screen_ctx_free(&ctx);
}

/* Idle payers' window state is dropped as events move on (a few slots per event). */
static void test_payer_eviction(void **state)
{
    (void)state;
    screen_ctx *ctx = make_ctx(NULL);
    run r;
    for (uint32_t i = 0; i < 2000; i++) {
        screen_input ev = event(T0 + i, 100.0);
        ev.payer = mk(8, i);
        screen(ctx, NULL, &ev, &r);
    }
    assert_int_equal(screen_ctx_payers(ctx), 2000);
    for (uint32_t i = 0; i < 5000; i++) {
        screen_input ev = event(T0 + 2 * DAY + i, 100.0);
        screen(ctx, NULL, &ev, &r);
    }
    assert_int_equal(screen_ctx_payers(ctx), 1);
    screen_ctx_free(&ctx);
}

static void test_config(void **state)
{
    (void)state;
    screen_config c;
    err e;
    err_clear(&e);
    screen_config_default(&c);
    assert_int_equal(screen_config_check(&c, &e), 0);
    assert_true(c.threshold_usd == 10000.0);
    assert_int_equal(c.structuring.min_count, 3);
    assert_int_equal(c.structuring.window_s, 86400);
    assert_int_equal(c.velocity.window_s, 3600);

    c.threshold_usd = 0;
    assert_int_equal(screen_config_check(&c, &e), -1);
    screen_config_default(&c);
    c.structuring.band_low = 1.0;
    assert_int_equal(screen_config_check(&c, &e), -1);
    screen_config_default(&c);
    c.velocity.score = 101;
    assert_int_equal(screen_config_check(&c, &e), -1);
    screen_config_default(&c);
    c.velocity.window_s = 0;
    assert_int_equal(screen_config_check(&c, &e), -1);

    /* A rule that needs a list refuses to start without it; off, it needs none. */
    screen_config_default(&c);
    screen_ctx *ctx = NULL;
    assert_int_equal(screen_ctx_new(&ctx, &c, NULL, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "sanctions"));
    assert_null(ctx);
    c.sanctions.on = false;
    c.jurisdiction.on = false;
    assert_int_equal(screen_ctx_new(&ctx, &c, NULL, NULL, &e), 0);
    /* rules off: nothing but what is on */
    c.unknown.on = c.kyc.on = c.large.on = c.velocity.on = c.prior_hit.on = false;
    screen_ctx_free(&ctx);
    assert_int_equal(screen_ctx_new(&ctx, &c, NULL, NULL, &e), 0);
    run r;
    for (uint64_t i = 0; i < 3; i++) {
        screen_input ev = event(T0 + i, 9500.0);
        screen(ctx, NULL, &ev, &r);
    }
    assert_int_equal(r.n, 1);
    assert_int_equal(r.hits[0].rule, SCREEN_RULE_STRUCTURING);
    screen_ctx_free(&ctx);

    assert_string_equal(screen_rule_id(SCREEN_RULE_UNKNOWN), "unknown_counterparty");
    assert_string_equal(screen_kind_name(SCREEN_KIND_DESK_APPROVE), "desk approve");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_event),
        cmocka_unit_test(test_sanctions_shipped_eth),
        cmocka_unit_test(test_sanctions_reload),
        cmocka_unit_test(test_unknown_counterparty),
        cmocka_unit_test(test_kyc),
        cmocka_unit_test(test_entity_name_in_evidence),
        cmocka_unit_test(test_jurisdiction),
        cmocka_unit_test(test_large_amount),
        cmocka_unit_test(test_structuring),
        cmocka_unit_test(test_structuring_out_of_order),
        cmocka_unit_test(test_velocity),
        cmocka_unit_test(test_own_flow),
        cmocka_unit_test(test_prior_hit),
        cmocka_unit_test(test_hit_buffer),
        cmocka_unit_test(test_payer_eviction),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
