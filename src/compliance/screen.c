/* screen.c: the screening context and the rules. Every lookup is a hash probe (sanctions
 * set, flagged set, entity callback, payer windows), and each payer's rolling windows are
 * ring buffers evicted from the front, so screening an event costs O(1) amortised. Idle
 * payers are swept incrementally, a couple of table slots per event. Evidence quotes
 * addresses in lowercase (cheap, and the form the lists and the database key on); the
 * hit's binary address lets a screen show the EIP-55 form. */
#include "compliance/screen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/addrmap.h"
#include "compliance/internal.h"
#include "compliance/window.h"

#define SWEEP_PER_EVENT 2

typedef struct payer_state {
    uint64_t clock; /* newest timestamp seen from this payer */
    window band;    /* structuring: in-band escrows */
    window hour;    /* velocity: every window-kind event */
} payer_state;

struct screen_ctx {
    screen_config cfg;
    uint64_t velocity_max_cents;
    screen_sanctions *sanctions;
    screen_list_info sanctions_info;
    screen_fatf *fatf;
    screen_list_info fatf_info;
    addrmap *flags;  /* value: ref (int64 bits) */
    addrmap *payers; /* value: (uintptr_t)payer_state * */
    addrmap *own;    /* the desk's own accounts: the windows count their counterparties */
    size_t sweep;
};

/* ---- names ---- */

const char *screen_rule_id(screen_rule r)
{
    static const char *const ids[] = {
#define SCREEN_RULE_ID_(name, id, desc) id,
        SCREEN_RULES(SCREEN_RULE_ID_)
#undef SCREEN_RULE_ID_
    };
    return (unsigned)r < SCREEN_RULE_COUNT ? ids[r] : "unknown";
}

const char *screen_kind_name(screen_kind k)
{
    static const char *const names[] = {
#define SCREEN_KIND_NAME_(name, text) text,
        SCREEN_KINDS(SCREEN_KIND_NAME_)
#undef SCREEN_KIND_NAME_
    };
    return (unsigned)k < SCREEN_KIND_COUNT ? names[k] : "unknown event";
}

const char *screen_role_name(screen_role r)
{
    switch (r) {
    case SCREEN_ROLE_ESCROW:
        return "escrow";
    case SCREEN_ROLE_PAYER:
        return "payer";
    case SCREEN_ROLE_PAYEE:
        return "payee";
    case SCREEN_ROLE_TOKEN:
        return "token";
    }
    return "address";
}

/* ---- configuration ---- */

void screen_config_default(screen_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->threshold_usd = 10000.0;
    cfg->window_kinds = SCREEN_KIND_BIT(SCREEN_KIND_ESCROW_CREATED);
    cfg->sanctions.on = true;
    cfg->sanctions.score = 100;
    cfg->prior_hit.on = true;
    cfg->prior_hit.score = 80;
    cfg->unknown.on = true;
    cfg->unknown.score = 50;
    cfg->kyc.on = true;
    cfg->kyc.score = 50;
    cfg->kyc.score_rejected = 80;
    cfg->kyc.require_expiry = true;
    cfg->jurisdiction.on = true;
    cfg->jurisdiction.score_high = 70;
    cfg->jurisdiction.score_medium = 40;
    cfg->large.on = true;
    cfg->large.score = 30;
    cfg->structuring.on = true;
    cfg->structuring.score = 60;
    cfg->structuring.min_count = 3;
    cfg->structuring.window_s = 24 * 3600;
    cfg->structuring.band_low = 0.90;
    cfg->structuring.band_high = 1.00;
    cfg->velocity.on = true;
    cfg->velocity.score = 40;
    cfg->velocity.window_s = 3600;
    cfg->velocity.max_count = 5;
    cfg->velocity.max_usd = 50000.0;
}

static bool score_ok(int s)
{
    return s >= 0 && s <= 100;
}

int screen_config_check(const screen_config *c, err *e)
{
    if (!(c->threshold_usd > 0) || !isfinite(c->threshold_usd))
        return err_set(e, ERR_INVALID, "USD threshold must be a positive number");
    if (!score_ok(c->sanctions.score) || !score_ok(c->prior_hit.score) ||
        !score_ok(c->unknown.score) || !score_ok(c->large.score) || !score_ok(c->kyc.score) ||
        !score_ok(c->kyc.score_rejected) || !score_ok(c->jurisdiction.score_high) ||
        !score_ok(c->jurisdiction.score_medium) || !score_ok(c->structuring.score) ||
        !score_ok(c->velocity.score))
        return err_set(e, ERR_INVALID, "rule scores must be between 0 and 100");
    if (c->structuring.min_count < 1 || c->structuring.window_s == 0)
        return err_set(e, ERR_INVALID, "structuring needs a count >= 1 and a window > 0 s");
    if (!(c->structuring.band_low >= 0) || !(c->structuring.band_low < c->structuring.band_high) ||
        !isfinite(c->structuring.band_high))
        return err_set(e, ERR_INVALID, "structuring band must satisfy 0 <= low < high");
    if (c->velocity.window_s == 0 || !(c->velocity.max_usd >= 0) || !isfinite(c->velocity.max_usd))
        return err_set(e, ERR_INVALID, "velocity needs a window > 0 s and a USD limit >= 0");
    if (c->window_kinds >> SCREEN_KIND_COUNT)
        return err_set(e, ERR_INVALID, "window kinds name an unknown event kind");
    return 0;
}

/* ---- context ---- */

static uint64_t usd_to_cents(double usd)
{
    if (!(usd > 0))
        return 0;
    double c = round(usd * 100.0);
    return c >= 1.8e19 ? UINT64_MAX : (uint64_t)c;
}

static bool usd_known(double usd)
{
    return usd >= 0 && isfinite(usd);
}

int screen_ctx_new(screen_ctx **out, const screen_config *cfg, screen_sanctions **sanctions,
                   screen_fatf **fatf, err *e)
{
    *out = NULL;
    if (screen_config_check(cfg, e) < 0)
        return -1;
    if (cfg->sanctions.on && !(sanctions && *sanctions))
        return err_set(e, ERR_INVALID,
                       "the sanctions rule is on but no list is loaded: load "
                       "data/sanctions/manifest.txt or turn the rule off");
    if (cfg->jurisdiction.on && !(fatf && *fatf))
        return err_set(e, ERR_INVALID,
                       "the jurisdiction rule is on but no FATF list is loaded: "
                       "load data/compliance/fatf-jurisdictions.csv or turn "
                       "the rule off");
    screen_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return err_set(e, ERR_NOMEM, "out of memory for the screening context");
    if (addrmap_new(&ctx->flags, 64, e) < 0 || addrmap_new(&ctx->payers, 1024, e) < 0 ||
        addrmap_new(&ctx->own, 16, e) < 0) {
        screen_ctx_free(&ctx);
        return -1;
    }
    ctx->cfg = *cfg;
    ctx->velocity_max_cents = usd_to_cents(cfg->velocity.max_usd);
    if (sanctions)
        screen_ctx_set_sanctions(ctx, sanctions);
    if (fatf)
        screen_ctx_set_fatf(ctx, fatf);
    *out = ctx;
    return 0;
}

static void payer_free(payer_state *p)
{
    window_free(&p->band);
    window_free(&p->hour);
    free(p);
}

void screen_ctx_reset_windows(screen_ctx *ctx)
{
    size_t cap = addrmap_capacity(ctx->payers);
    for (size_t i = 0; i < cap; i++) {
        uint64_t v;
        /* Removal shifts later entries back into slot i: look at i again. */
        while (addrmap_slot(ctx->payers, i, NULL, NULL, &v)) {
            payer_free((payer_state *)(uintptr_t)v);
            addrmap_remove_slot(ctx->payers, i);
        }
    }
    ctx->sweep = 0;
}

void screen_ctx_free(screen_ctx **p)
{
    if (!p || !*p)
        return;
    screen_ctx *ctx = *p;
    if (ctx->payers)
        screen_ctx_reset_windows(ctx);
    addrmap_free(&ctx->payers);
    addrmap_free(&ctx->flags);
    addrmap_free(&ctx->own);
    screen_sanctions_free(&ctx->sanctions);
    screen_fatf_free(&ctx->fatf);
    free(ctx);
    *p = NULL;
}

void screen_ctx_set_sanctions(screen_ctx *ctx, screen_sanctions **s)
{
    if (!s || !*s)
        return;
    screen_sanctions_free(&ctx->sanctions);
    ctx->sanctions = *s;
    *s = NULL;
    screen_sanctions_info(ctx->sanctions, &ctx->sanctions_info);
}

void screen_ctx_set_fatf(screen_ctx *ctx, screen_fatf **f)
{
    if (!f || !*f)
        return;
    screen_fatf_free(&ctx->fatf);
    ctx->fatf = *f;
    *f = NULL;
    screen_fatf_info(ctx->fatf, &ctx->fatf_info);
}

const screen_sanctions *screen_ctx_sanctions(const screen_ctx *ctx)
{
    return ctx->sanctions;
}

const screen_fatf *screen_ctx_fatf(const screen_ctx *ctx)
{
    return ctx->fatf;
}

int screen_ctx_own_add(screen_ctx *ctx, const addr *a, err *e)
{
    return addrmap_upsert(ctx->own, a, 0, NULL, e) ? 0 : -1;
}

void screen_ctx_own_clear(screen_ctx *ctx)
{
    size_t cap = addrmap_capacity(ctx->own);
    for (size_t i = 0; i < cap; i++)
        while (addrmap_slot(ctx->own, i, NULL, NULL, NULL))
            addrmap_remove_slot(ctx->own, i);
}

bool screen_ctx_is_own(const screen_ctx *ctx, const addr *a)
{
    return addrmap_find(ctx->own, a, 0) != NULL;
}

int screen_ctx_flag(screen_ctx *ctx, const addr *a, int64_t ref, err *e)
{
    uint64_t *v = addrmap_upsert(ctx->flags, a, 0, NULL, e);
    if (!v)
        return -1;
    *v = (uint64_t)ref;
    return 0;
}

bool screen_ctx_unflag(screen_ctx *ctx, const addr *a)
{
    return addrmap_remove(ctx->flags, a, 0);
}

size_t screen_ctx_payers(const screen_ctx *ctx)
{
    return addrmap_count(ctx->payers);
}

/* ---- hits ---- */

typedef struct hit_out {
    screen_hit *hits;
    size_t max;
    size_t n;
    screen_hit scratch; /* receives hits beyond max: they are counted, not kept */
} hit_out;

static screen_hit *hit_new(hit_out *o, screen_rule rule, int score, screen_role role, const addr *a,
                           const screen_entity *ent)
{
    screen_hit *h = o->n < o->max ? &o->hits[o->n] : &o->scratch;
    o->n++;
    memset(h, 0, sizeof *h);
    h->rule = rule;
    h->score = score;
    h->role = role;
    h->address = *a;
    h->entity_id = ent ? ent->id : 0;
    return h;
}

static void hit_list(screen_hit *h, const screen_list_info *info)
{
    memcpy(h->list_sha256, info->sha256, sizeof h->list_sha256);
    memcpy(h->list_version, info->version, sizeof h->list_version);
    memcpy(h->list_as_of, info->as_of, sizeof h->list_as_of);
}

/* "entity 12 'ACME Ltd'". Names come from the registry: control bytes become '?' so the
 * evidence stays one line, and long names are cut on a UTF-8 character boundary. */
static void entity_text(char *out, size_t cap, const screen_entity *ent)
{
    enum { NAME_MAX_BYTES = 60 };
    if (!ent->name) {
        snprintf(out, cap, "entity %lld", (long long)ent->id);
        return;
    }
    char name[NAME_MAX_BYTES + 8];
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)ent->name; *c; c++) {
        bool starts_char = (*c & 0xC0) != 0x80;
        if (starts_char && n >= NAME_MAX_BYTES) {
            memcpy(name + n, "...", 3);
            n += 3;
            break;
        }
        if (n >= NAME_MAX_BYTES + 3) /* a malformed run of continuation bytes */
            break;
        name[n++] = (*c < 0x20 || *c == 0x7f) ? '?' : (char)*c;
    }
    name[n] = '\0';
    snprintf(out, cap, "entity %lld '%s'", (long long)ent->id, name);
}

typedef struct party {
    screen_role role;
    const addr *a;
    const screen_entity *ent;
} party;

static void rule_sanctions(screen_ctx *ctx, hit_out *o, const party *parties, size_t n_parties)
{
    for (size_t i = 0; i < n_parties; i++) {
        const party *p = &parties[i];
        char src[256];
        if (!screen_sanctions_source(ctx->sanctions, p->a, src, sizeof src))
            continue;
        screen_hit *h =
            hit_new(o, SCREEN_RULE_SANCTIONS, ctx->cfg.sanctions.score, p->role, p->a, p->ent);
        char s[ADDR_STR_MAX];
        addr_to_lower(s, p->a);
        snprintf(h->evidence, sizeof h->evidence,
                 "%s %s is on the sanctions list (%.180s; list %s)", screen_role_name(p->role), s,
                 src, ctx->sanctions_info.version);
        hit_list(h, &ctx->sanctions_info);
    }
}

static void rule_prior_hit(screen_ctx *ctx, hit_out *o, const party *parties, size_t n_parties)
{
    for (size_t i = 0; i < n_parties; i++) {
        const party *p = &parties[i];
        if (p->role == SCREEN_ROLE_TOKEN)
            continue;
        const uint64_t *ref = addrmap_find(ctx->flags, p->a, 0);
        if (!ref)
            continue;
        screen_hit *h =
            hit_new(o, SCREEN_RULE_PRIOR_HIT, ctx->cfg.prior_hit.score, p->role, p->a, p->ent);
        char s[ADDR_STR_MAX];
        addr_to_lower(s, p->a);
        snprintf(h->evidence, sizeof h->evidence, "%s %s had an earlier confirmed hit (ref %lld)",
                 screen_role_name(p->role), s, (long long)*ref);
    }
}

static void rule_unknown(screen_ctx *ctx, const screen_input *ev, hit_out *o, const party *p)
{
    if (p->ent)
        return;
    screen_hit *h = hit_new(o, SCREEN_RULE_UNKNOWN, ctx->cfg.unknown.score, p->role, p->a, NULL);
    char s[ADDR_STR_MAX];
    addr_to_lower(s, p->a);
    snprintf(h->evidence, sizeof h->evidence, "%s %s on chain %llu is linked to no entity",
             screen_role_name(p->role), s, (unsigned long long)ev->chain_id);
}

static void rule_kyc(screen_ctx *ctx, const screen_input *ev, hit_out *o, const party *p)
{
    const screen_entity *ent = p->ent;
    if (!ent)
        return;
    int32_t today = screen_day_of(ev->timestamp);
    char why[96];
    int score = ctx->cfg.kyc.score;
    char exp[SCREEN_DATE_MAX], now[SCREEN_DATE_MAX];
    if (ent->kyc == SCREEN_KYC_VERIFIED && ent->kyc_expires != SCREEN_NO_DATE &&
        ent->kyc_expires >= today)
        return; /* the common case: verified and current */
    screen_date_format(exp, ent->kyc_expires);
    screen_date_format(now, today);
    switch (ent->kyc) {
    case SCREEN_KYC_VERIFIED:
        if (ent->kyc_expires != SCREEN_NO_DATE)
            snprintf(why, sizeof why, "KYC expired on %s (as of %s)", exp, now);
        else if (ctx->cfg.kyc.require_expiry)
            snprintf(why, sizeof why, "KYC verified but no expiry date recorded");
        else
            return;
        break;
    case SCREEN_KYC_PENDING:
        snprintf(why, sizeof why, "KYC pending (not completed)");
        break;
    case SCREEN_KYC_REJECTED:
        snprintf(why, sizeof why, "KYC rejected");
        score = ctx->cfg.kyc.score_rejected;
        break;
    case SCREEN_KYC_EXPIRED:
        snprintf(why, sizeof why, "KYC marked expired (expiry %s)", exp);
        break;
    default:
        snprintf(why, sizeof why, "KYC status %d is not a known status", (int)ent->kyc);
        break;
    }
    screen_hit *h = hit_new(o, SCREEN_RULE_KYC, score, p->role, p->a, ent);
    char s[ADDR_STR_MAX], et[112];
    addr_to_lower(s, p->a);
    entity_text(et, sizeof et, ent);
    snprintf(h->evidence, sizeof h->evidence, "%s %s (%s): %s", screen_role_name(p->role), s, et,
             why);
}

static void rule_jurisdiction(screen_ctx *ctx, hit_out *o, const party *p)
{
    const screen_entity *ent = p->ent;
    if (!ent || !ctx->fatf)
        return;
    screen_risk risk = screen_fatf_risk(ctx->fatf, ent->jurisdiction);
    if (risk == SCREEN_RISK_NONE)
        return;
    bool high = risk == SCREEN_RISK_HIGH;
    screen_hit *h =
        hit_new(o, SCREEN_RULE_JURISDICTION,
                high ? ctx->cfg.jurisdiction.score_high : ctx->cfg.jurisdiction.score_medium,
                p->role, p->a, ent);
    char s[ADDR_STR_MAX], et[112];
    addr_to_lower(s, p->a);
    entity_text(et, sizeof et, ent);
    const char *cname = screen_fatf_name(ctx->fatf, ent->jurisdiction);
    snprintf(h->evidence, sizeof h->evidence,
             "%s %s (%s): jurisdiction %.2s (%.40s) is on the FATF %s list (%s risk; as of %s)",
             screen_role_name(p->role), s, et, ent->jurisdiction, cname ? cname : "?",
             high ? "call-for-action" : "increased-monitoring", high ? "high" : "medium",
             ctx->fatf_info.as_of);
    hit_list(h, &ctx->fatf_info);
}

static void rule_large(screen_ctx *ctx, const screen_input *ev, hit_out *o,
                       const screen_entity *payer_ent)
{
    if (!usd_known(ev->usd_estimate) || ev->usd_estimate < ctx->cfg.threshold_usd)
        return;
    screen_hit *h = hit_new(o, SCREEN_RULE_LARGE, ctx->cfg.large.score, SCREEN_ROLE_ESCROW,
                            &ev->escrow, payer_ent);
    char amt[U256_DEC_MAX], esc[ADDR_STR_MAX], tok[ADDR_STR_MAX];
    u256_to_dec(amt, &ev->amount);
    addr_to_lower(esc, &ev->escrow);
    addr_to_lower(tok, &ev->token);
    snprintf(h->evidence, sizeof h->evidence,
             "%s %s: %s base units of %s, about %.2f USD (estimate) >= threshold %.2f USD",
             screen_kind_name(ev->kind), esc, amt, addr_is_zero(&ev->token) ? "native coin" : tok,
             ev->usd_estimate, ctx->cfg.threshold_usd);
}

/* The payer's window state, created on first sight; NULL when out of memory. */
static payer_state *payer_get(screen_ctx *ctx, const addr *payer, err *e)
{
    bool created;
    uint64_t *v = addrmap_upsert(ctx->payers, payer, 0, &created, e);
    if (!v)
        return NULL;
    if (created) {
        payer_state *p = calloc(1, sizeof *p);
        if (!p) {
            addrmap_remove(ctx->payers, payer, 0);
            err_set(e, ERR_NOMEM, "out of memory for payer window state");
            return NULL;
        }
        *v = (uint64_t)(uintptr_t)p;
    }
    return (payer_state *)(uintptr_t)*v;
}

/* Is ts inside the window [clock - w, clock]? */
static bool in_window(uint64_t ts, uint64_t clock, uint64_t w)
{
    return clock - ts <= w; /* ts <= clock always holds here */
}

static uint64_t cutoff_of(uint64_t clock, uint64_t w)
{
    return clock > w ? clock - w : 0;
}

/* Whose flow a window counts: the payer's, or, when the payer is one of the desk's own
 * accounts, its counterparty's (the payee). */
typedef struct win_subject {
    screen_role role;
    const addr *a;
    const screen_entity *ent;
} win_subject;

static int rule_structuring(screen_ctx *ctx, const screen_input *ev, hit_out *o, payer_state *ps,
                            const win_subject *ws, err *e)
{
    const screen_config *c = &ctx->cfg;
    double usd = ev->usd_estimate;
    double lo = c->structuring.band_low * c->threshold_usd;
    double hi = c->structuring.band_high * c->threshold_usd;
    if (!usd_known(usd) || usd < lo || usd >= hi)
        return 0;
    if (!in_window(ev->timestamp, ps->clock, c->structuring.window_s))
        return 0; /* arrived later than the whole window: it no longer counts */
    window_evict(&ps->band, cutoff_of(ps->clock, c->structuring.window_s));
    if (window_push(&ps->band, ev->timestamp, usd_to_cents(usd), e) < 0)
        return -1;
    size_t n = ps->band.len;
    if (n < c->structuring.min_count)
        return 0;
    screen_hit *h =
        hit_new(o, SCREEN_RULE_STRUCTURING, c->structuring.score, ws->role, ws->a, ws->ent);
    char s[ADDR_STR_MAX];
    addr_to_lower(s, ws->a);
    uint64_t span = window_at(&ps->band, n - 1)->ts - window_at(&ps->band, 0)->ts;
    int len = snprintf(h->evidence, sizeof h->evidence,
                       "%s %s: %zu escrows within %llu s (span %llu s), each %.2f-%.2f USD "
                       "(estimate; %g-%g%% of %.2f):",
                       screen_role_name(ws->role), s, n, (unsigned long long)c->structuring.window_s, (unsigned long long)span,
                       lo, hi, c->structuring.band_low * 100, c->structuring.band_high * 100,
                       c->threshold_usd);
    for (size_t i = 0; i < n && i < 6 && len > 0 && (size_t)len < sizeof h->evidence; i++) {
        const window_entry *we = window_at(&ps->band, n - 1 - i);
        len +=
            snprintf(h->evidence + len, sizeof h->evidence - (size_t)len, " %llu.%02llu",
                     (unsigned long long)(we->cents / 100), (unsigned long long)(we->cents % 100));
    }
    if (n > 6 && len > 0 && (size_t)len < sizeof h->evidence)
        snprintf(h->evidence + len, sizeof h->evidence - (size_t)len, " ...");
    return 0;
}

static int rule_velocity(screen_ctx *ctx, const screen_input *ev, hit_out *o, payer_state *ps,
                         const win_subject *ws, err *e)
{
    const screen_config *c = &ctx->cfg;
    if (!in_window(ev->timestamp, ps->clock, c->velocity.window_s))
        return 0;
    window_evict(&ps->hour, cutoff_of(ps->clock, c->velocity.window_s));
    uint64_t cents = usd_known(ev->usd_estimate) ? usd_to_cents(ev->usd_estimate) : 0;
    if (window_push(&ps->hour, ev->timestamp, cents, e) < 0)
        return -1;
    bool too_many = ps->hour.len > c->velocity.max_count;
    bool too_much = ps->hour.sum_cents > ctx->velocity_max_cents;
    if (!too_many && !too_much)
        return 0;
    screen_hit *h = hit_new(o, SCREEN_RULE_VELOCITY, c->velocity.score, ws->role, ws->a, ws->ent);
    char s[ADDR_STR_MAX];
    addr_to_lower(s, ws->a);
    snprintf(h->evidence, sizeof h->evidence,
             "%s %s: %zu escrows worth %llu.%02llu USD (estimate) within %llu s; limits %u "
             "escrows, %.2f USD (%s exceeded)",
             screen_role_name(ws->role), s, ps->hour.len,
             (unsigned long long)(ps->hour.sum_cents / 100),
             (unsigned long long)(ps->hour.sum_cents % 100),
             (unsigned long long)c->velocity.window_s, c->velocity.max_count, c->velocity.max_usd,
             too_many && too_much ? "both"
             : too_many           ? "count"
                                  : "value");
    return 0;
}

/* Drops the state of payers idle for longer than every window, a few slots per event. */
static void sweep_payers(screen_ctx *ctx, uint64_t now)
{
    uint64_t keep = ctx->cfg.structuring.window_s > ctx->cfg.velocity.window_s
                        ? ctx->cfg.structuring.window_s
                        : ctx->cfg.velocity.window_s;
    size_t cap = addrmap_capacity(ctx->payers);
    for (int k = 0; k < SWEEP_PER_EVENT; k++) {
        if (ctx->sweep >= cap)
            ctx->sweep = 0;
        uint64_t v;
        if (addrmap_slot(ctx->payers, ctx->sweep, NULL, NULL, &v)) {
            payer_state *p = (payer_state *)(uintptr_t)v;
            if (p->clock < now && now - p->clock > keep) {
                payer_free(p);
                addrmap_remove_slot(ctx->payers, ctx->sweep);
                continue; /* another entry may have moved into this slot */
            }
        }
        ctx->sweep++;
    }
}

int screen_event(screen_ctx *ctx, const screen_entities *ents, const screen_input *ev,
                 screen_hit *hits, size_t max, size_t *n_hits, err *e)
{
    const screen_config *c = &ctx->cfg;
    hit_out o = {.hits = hits, .max = max, .n = 0};
    *n_hits = 0;

    const screen_entity *payer_ent = NULL, *payee_ent = NULL;
    if (ents && ents->lookup) {
        payer_ent = ents->lookup(ents->user, ev->chain_id, &ev->payer);
        payee_ent = ents->lookup(ents->user, ev->chain_id, &ev->payee);
    }
    party all[4] = {
        {SCREEN_ROLE_ESCROW, &ev->escrow, NULL},
        {SCREEN_ROLE_PAYER, &ev->payer, payer_ent},
        {SCREEN_ROLE_PAYEE, &ev->payee, payee_ent},
        {SCREEN_ROLE_TOKEN, &ev->token, NULL},
    };
    size_t n_all = addr_is_zero(&ev->token) ? 3 : 4;

    if (c->sanctions.on && ctx->sanctions)
        rule_sanctions(ctx, &o, all, n_all);
    if (c->prior_hit.on)
        rule_prior_hit(ctx, &o, all, n_all);
    for (size_t i = 1; i <= 2; i++) {
        if (c->unknown.on)
            rule_unknown(ctx, ev, &o, &all[i]);
        if (c->kyc.on)
            rule_kyc(ctx, ev, &o, &all[i]);
        if (c->jurisdiction.on)
            rule_jurisdiction(ctx, &o, &all[i]);
    }
    /* a large escrow the desk itself pays is its counterparty's, not the desk's */
    if (c->large.on)
        rule_large(ctx, ev, &o, screen_ctx_is_own(ctx, &ev->payer) ? payee_ent : payer_ent);

    bool windowed =
        (c->window_kinds & SCREEN_KIND_BIT(ev->kind)) && (c->structuring.on || c->velocity.on);
    /* the desk's own flow is not its counterparties': an own payer's escrows count for
     * the payee they go to, and escrows between two own accounts count for nobody */
    win_subject ws = {SCREEN_ROLE_PAYER, &ev->payer, payer_ent};
    if (windowed && screen_ctx_is_own(ctx, &ev->payer)) {
        ws = (win_subject){SCREEN_ROLE_PAYEE, &ev->payee, payee_ent};
        if (screen_ctx_is_own(ctx, &ev->payee))
            windowed = false;
    }
    if (windowed) {
        payer_state *ps = payer_get(ctx, ws.a, e);
        if (!ps)
            return -1;
        if (ev->timestamp > ps->clock)
            ps->clock = ev->timestamp;
        if (c->structuring.on && rule_structuring(ctx, ev, &o, ps, &ws, e) < 0)
            return -1;
        if (c->velocity.on && rule_velocity(ctx, ev, &o, ps, &ws, e) < 0)
            return -1;
    }
    sweep_payers(ctx, ev->timestamp);
    *n_hits = o.n;
    return 0;
}
