/* service.c: screening as a service over the desk database. Loads the entity registry into
 * the pure index, replays the already screened escrows to rebuild the rolling windows,
 * screens the new ones, and stores hits and cases in batched transactions (with a
 * `case.open` audit row per up to 256 escrows or 200 opened cases). Called by `fusion case
 * screen` and after `fusion sync`. */
#include "compliance/compliance.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/amount.h"
#include "base/fsperm.h"
#include "base/bytes.h"
#include "base/file.h"
#include "compliance/internal.h"
#include "risk/service.h"
#include "store/store_book.h"

/* ---- USD prices (an estimate) ---- */

int compliance_prices_load(compliance_prices *out, const char *path, err *e)
{
    memset(out, 0, sizeof *out);
    if (fsperm_check_not_writable(path, "price file", e) < 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, ERR_IO, "cannot read %.200s: %s", path, strerror(errno));
    int rc = compliance_prices_read(out, path, f, e);
    fclose(f);
    return rc;
}

int compliance_prices_load_home(compliance_prices *out, const char *home, bool *found, err *e)
{
    memset(out, 0, sizeof *out);
    *found = false;
    char path[4200], db[4200];
    snprintf(path, sizeof path, "%s/prices.csv", home);
    snprintf(db, sizeof db, "%s/desk.db", home);
    bool exists = access(path, F_OK) == 0, desk = access(db, F_OK) == 0;
    if (exists && fsperm_check_not_writable(path, "price file", e) < 0)
        return -1;
    char *text = NULL;
    size_t len = 0;
    if (exists && file_read_all(path, (size_t)16 << 20, "a price file", &text, &len, e) < 0)
        return -1;
    /* the prices decide what is under a threshold: the file is the one an officer signed */
    int rc = desk ? audit_config_check(home, "prices", text ? text : "", len, exists, NULL, 0, e)
                  : 0;
    if (rc == 0 && exists) {
        FILE *f = fmemopen(text, len ? len : 1, "r");
        if (!f)
            rc = err_set(e, ERR_NOMEM, "out of memory reading %s", path);
        else {
            if (!len)
                (void)fgetc(f); /* an empty file: nothing to read */
            rc = compliance_prices_read(out, path, f, e);
            fclose(f);
        }
        *found = rc == 0;
    }
    free(text);
    return rc;
}

/* A price: plain decimal digits with at most one point (no sign, exponent, hex, inf or
 * nan), finite and not subnormal. */
static bool usd_parse(const char *s, double *out)
{
    size_t digits = strspn(s, "0123456789.");
    if (!*s || s[digits] != '\0' || strchr(s, '.') != strrchr(s, '.') || strcmp(s, ".") == 0)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v) || fpclassify(v) == FP_SUBNORMAL)
        return false;
    *out = v;
    return true;
}

int compliance_prices_read(compliance_prices *out, const char *path, FILE *f, err *e)
{
    memset(out, 0, sizeof *out);
    char line[512];
    size_t lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            compliance_prices_free(out);
            return err_set(e, ERR_INVALID, "%.200s:%zu: line too long (at most 510 bytes)", path,
                           lineno);
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        compliance_price p = {0};
        char *end = NULL;
        if (c2) {
            *c1 = *c2 = '\0';
            errno = 0;
            p.chain_id = strtoull(line, &end, 10);
        }
        bool ok = c2 && line[0] >= '0' && line[0] <= '9' && !*end && !errno;
        if (ok && strcmp(c1 + 1, "native") != 0)
            ok = addr_parse(&p.token, c1 + 1, NULL) == 0;
        if (ok)
            ok = usd_parse(c2 + 1, &p.usd_per_unit);
        compliance_price *g = ok ? realloc(out->items, (out->n + 1) * sizeof *g) : NULL;
        if (!g) {
            compliance_prices_free(out);
            return err_set(e, ERR_INVALID,
                           "%.200s:%zu: expected chain_id,token|native,usd_per_unit (a plain "
                           "decimal number)",
                           path, lineno);
        }
        out->items = g;
        out->items[out->n++] = p;
    }
    if (ferror(f)) {
        compliance_prices_free(out);
        return err_set(e, ERR_IO, "cannot read %.200s", path);
    }
    return 0;
}

void compliance_prices_free(compliance_prices *p)
{
    free(p->items);
    memset(p, 0, sizeof *p);
}

/* The latest observed USD price of a feed, or NAN: also for an answer the risk service
 * would not use (0, or beyond its range), so that a broken feed is no price (the Travel
 * Rule then refuses) rather than a price that values every amount at nothing. */
static double feed_usd(store *s, const store_feed *f)
{
    store_price_obs *obs = NULL;
    size_t n = 0;
    err e;
    double v = NAN;
    if (store_price_obs_list(s, f->chain_id, &f->address, &obs, &n, &e) == 0 && n) {
        v = strtod(obs[n - 1].answer, NULL);
        for (unsigned i = 0; i < f->decimals; i++)
            v /= 10.0;
    }
    free(obs);
    return isfinite(v) && risk_price_ok(v) ? v : NAN;
}

/* The feed pricing a symbol: its own asset name, else the unwrapped name (WETH: ETH);
 * a feed on the same chain first. */
static const store_feed *feed_for(const store_feed *fs, size_t n, uint64_t chain_id,
                                  const char *sym)
{
    const char *names[2] = {sym, sym[0] == 'W' && sym[1] ? sym + 1 : NULL};
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; names[k] && i < n; i++)
                if ((pass == 1 || fs[i].chain_id == chain_id) && !strcmp(fs[i].asset, names[k]))
                    return &fs[i];
    return NULL;
}

static int price_add(compliance_prices *out, uint64_t chain_id, const addr *token, double usd,
                     err *e)
{
    compliance_price *g = realloc(out->items, (out->n + 1) * sizeof *g);
    if (!g)
        return err_set(e, ERR_NOMEM, "out of memory reading oracle prices");
    out->items = g;
    out->items[out->n++] = (compliance_price){.chain_id = chain_id, .token = *token,
                                              .usd_per_unit = usd};
    return 0;
}

int compliance_prices_from_oracle(store *s, compliance_prices *out, err *e)
{
    memset(out, 0, sizeof *out);
    store_feed *fs = NULL;
    store_chain *cs = NULL;
    size_t nf = 0, nc = 0;
    int rc = -1;
    if (store_feed_list(s, 0, &fs, &nf, e) < 0 || store_chain_list(s, &cs, &nc, e) < 0)
        goto out;
    for (size_t c = 0; c < nc && nf; c++) {
        const store_feed *f = feed_for(fs, nf, cs[c].chain_id, cs[c].native_symbol);
        double usd = f ? feed_usd(s, f) : NAN;
        addr zero;
        memset(&zero, 0, sizeof zero);
        if (!isnan(usd) && price_add(out, cs[c].chain_id, &zero, usd, e) < 0)
            goto out;
        store_token *ts = NULL;
        size_t nt = 0;
        if (store_token_list(s, cs[c].chain_id, &ts, &nt, e) < 0)
            goto out;
        for (size_t i = 0; i < nt; i++) {
            f = feed_for(fs, nf, cs[c].chain_id, ts[i].symbol);
            usd = f ? feed_usd(s, f) : NAN;
            if (!isnan(usd) && price_add(out, cs[c].chain_id, &ts[i].address, usd, e) < 0) {
                free(ts);
                goto out;
            }
        }
        free(ts);
    }
    rc = 0;
out:
    if (rc < 0)
        compliance_prices_free(out);
    free(fs);
    free(cs);
    return rc;
}

/* The price of x's token on x's chain: its index in prices, or -1. */
static long price_index(const compliance_prices *prices, const store_escrow *x)
{
    for (size_t i = 0; prices && i < prices->n; i++)
        if (prices->items[i].chain_id == x->chain_id &&
            memcmp(prices->items[i].token.b, x->token.b, ADDR_LEN) == 0)
            return (long)i;
    return -1;
}

/* The decimals of x's token (the chain's native decimals for the zero address), or -1 when
 * the desk does not know them. */
static int token_decimals(store *s, const store_escrow *x)
{
    int decimals = -1;
    err e;
    if (addr_is_zero(&x->token)) {
        store_chain ch;
        bool known = false;
        if (store_chain_get(s, x->chain_id, &ch, &known, &e) == 0 && known)
            decimals = (int)ch.native_decimals;
    } else {
        store_token *ts = NULL;
        size_t n = 0;
        if (store_token_list(s, x->chain_id, &ts, &n, &e) == 0)
            for (size_t i = 0; i < n; i++)
                if (memcmp(ts[i].address.b, x->token.b, ADDR_LEN) == 0)
                    decimals = (int)ts[i].decimals;
        free(ts);
    }
    return decimals;
}

static double usd_at(const compliance_price *p, const store_escrow *x, int decimals)
{
    if (decimals < 0)
        return SCREEN_USD_UNKNOWN;
    char units[AMOUNT_STR_MAX];
    amount_format(units, &x->amount, (unsigned)decimals);
    return strtod(units, NULL) * p->usd_per_unit;
}

/* amount (base units) x price as USD, or SCREEN_USD_UNKNOWN without a price or decimals. */
double compliance_usd_of(store *s, const compliance_prices *prices, const store_escrow *x)
{
    long i = price_index(prices, x);
    return i < 0 ? SCREEN_USD_UNKNOWN : usd_at(&prices->items[i], x, token_decimals(s, x));
}

/* compliance_usd_of for the escrows of one pass: a priced token's decimals are read once a
 * pass (as its price is), not once an escrow. dec[i] belongs to prices->items[i]: -2 until
 * read. */
static double usd_of_pass(store *s, const compliance_prices *prices, int *dec,
                          const store_escrow *x)
{
    long i = price_index(prices, x);
    if (i < 0)
        return SCREEN_USD_UNKNOWN;
    if (dec[i] == -2)
        dec[i] = token_decimals(s, x);
    return usd_at(&prices->items[i], x, dec[i]);
}

int compliance_screen_load(screen_ctx **out, const char *manifest, const char *desk_list,
                           const char *fatf, err *e)
{
    screen_config cfg;
    screen_config_default(&cfg);
    return screen_load_cfg(out, manifest, desk_list, fatf, &cfg, e);
}

int screen_load_cfg(screen_ctx **out, const char *manifest, const char *desk_list,
                    const char *fatf, const screen_config *rules, err *e)
{
    *out = NULL;
    screen_config cfg = *rules;
    screen_sanctions *sl = NULL;
    screen_fatf *fl = NULL;
    if (screen_sanctions_load(&sl, manifest, desk_list, e) < 0)
        return -1;
    if (fatf && screen_fatf_load(&fl, fatf, e) < 0) {
        screen_sanctions_free(&sl);
        return -1;
    }
    if (!fl)
        cfg.jurisdiction.on = false;
    int rc = screen_ctx_new(out, &cfg, &sl, &fl, e);
    screen_sanctions_free(&sl);
    screen_fatf_free(&fl);
    return rc;
}

/* The registry as the rules see it. */
typedef struct registry {
    store_entity *ents;
    size_t n_ents;
    store_entity_link *links;
    size_t n_links;
    screen_entity *sents;
    screen_link *slinks;
    screen_index *idx;
} registry;

static void registry_free(registry *r)
{
    screen_index_free(&r->idx);
    free(r->ents);
    free(r->links);
    free(r->sents);
    free(r->slinks);
    memset(r, 0, sizeof *r);
}

static screen_kyc kyc_of(const char *s)
{
    return !strcmp(s, "verified")   ? SCREEN_KYC_VERIFIED
           : !strcmp(s, "rejected") ? SCREEN_KYC_REJECTED
           : !strcmp(s, "expired")  ? SCREEN_KYC_EXPIRED
                                    : SCREEN_KYC_PENDING;
}

static int registry_load(store *s, registry *r, err *e)
{
    memset(r, 0, sizeof *r);
    if (store_entity_list(s, &r->ents, &r->n_ents, e) < 0 ||
        store_entity_links(s, 0, &r->links, &r->n_links, e) < 0)
        goto fail;
    r->sents = calloc(r->n_ents + 1, sizeof *r->sents);
    r->slinks = calloc(r->n_links + 1, sizeof *r->slinks);
    if (!r->sents || !r->slinks) {
        err_set(e, ERR_NOMEM, "out of memory loading the entity registry");
        goto fail;
    }
    /* links come ordered by entity id: each entity's run is found by binary search */
    for (size_t i = 0; i < r->n_links; i++)
        r->slinks[i] =
            (screen_link){.chain_id = r->links[i].chain_id, .address = r->links[i].address};
    if (screen_index_new(&r->idx, r->n_links + 16, e) < 0)
        goto fail;
    for (size_t i = 0; i < r->n_ents; i++) {
        const store_entity *x = &r->ents[i];
        screen_entity *se = &r->sents[i];
        se->id = x->id;
        se->name = x->name;
        se->kyc = kyc_of(x->kyc);
        se->kyc_expires = SCREEN_NO_DATE;
        if (x->kyc_expires[0] && screen_date_parse(&se->kyc_expires, x->kyc_expires, NULL) < 0)
            se->kyc_expires = SCREEN_NO_DATE;
        memcpy(se->jurisdiction, x->jurisdiction, 3);
        size_t lo = 0, hi = r->n_links; /* lower bound of x->id in the id-ordered links */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (r->links[mid].entity_id < x->id)
                lo = mid + 1;
            else
                hi = mid;
        }
        hi = lo;
        while (hi < r->n_links && r->links[hi].entity_id == x->id)
            hi++;
        se->links = r->slinks + lo;
        se->n_links = hi - lo;
        if (se->n_links && screen_index_add(r->idx, se, e) < 0)
            goto fail;
    }
    return 0;
fail:
    registry_free(r);
    return -1;
}

static void subject_of(const screen_hit *h, char out[STORE_SUBJECT_MAX])
{
    if (h->entity_id) {
        snprintf(out, STORE_SUBJECT_MAX, "entity:%lld", (long long)h->entity_id);
        return;
    }
    char a[ADDR_STR_MAX];
    addr_to_lower(a, &h->address);
    snprintf(out, STORE_SUBJECT_MAX, "%s", a);
}

/* screen_store_hits; attach false when no hit on file waits for a case (the caller asked
 * store_hits_unattached in the same transaction): store_hit_attach would change nothing. */
static int screen_store_hits_(store *s, const compliance_actor *a, const compliance_config *cfg,
                              uint64_t chain_id, const addr *escrow, screen_kind kind,
                              const screen_hit *hits, size_t n, compliance_screen_stats *st,
                              json_t *opened, bool attach, err *e)
{
    const struct {
        uint64_t chain_id;
        addr address;
    } xv = {chain_id, *escrow}, *x = &xv;
    char subj[SCREEN_HITS_MAX][STORE_SUBJECT_MAX];
    int64_t case_of[SCREEN_HITS_MAX] = {0}; /* the case of hit i's subject */
    for (size_t i = 0; i < n; i++)
        subject_of(&hits[i], subj[i]);
    /* The cases first (in the order of their subjects' first hits), then the hits, which
     * are written with their case: the same rows as writing the hits, opening the cases
     * and attaching the hits to them afterwards, without rewriting every new hit. Hits
     * of a subject already on file without a case are attached as ever. */
    for (size_t i = 0; i < n; i++) {
        bool first = true;
        int score = 0;
        char rules[256] = "";
        size_t k = 0;
        for (size_t j = 0; j < n; j++) {
            if (strcmp(subj[i], subj[j]) != 0)
                continue;
            if (j < i)
                first = false;
            if (hits[j].score > score)
                score = hits[j].score;
            k += (size_t)snprintf(rules + k, k < sizeof rules ? sizeof rules - k : 0, "%s%s",
                                  k ? ", " : "", screen_rule_id(hits[j].rule));
        }
        if (!first) {
            for (size_t j = 0; j < i; j++)
                if (!strcmp(subj[i], subj[j])) {
                    case_of[i] = case_of[j];
                    break;
                }
            continue;
        }
        store_case c = {.entity_id = hits[i].entity_id,
                        .chain_id = x->chain_id,
                        .escrow = x->address,
                        .score = score,
                        .opened_at = a->now};
        snprintf(c.subject, sizeof c.subject, "%s", subj[i]);
        c.priority = compliance_priority_of(score);
        /* the entity's risk rating sets a floor: a high-risk entity's cases are high
         * priority (and take that SLA), a medium one's at least medium */
        if (hits[i].entity_id) {
            store_entity ent;
            bool found = false;
            if (store_entity_get(s, hits[i].entity_id, &ent, &found, e) < 0)
                return -1;
            int by_risk = !found                       ? 3
                          : !strcmp(ent.risk, "high")   ? 1
                          : !strcmp(ent.risk, "medium") ? 2
                                                        : 3;
            if (by_risk < c.priority)
                c.priority = by_risk;
        }
        c.due_at = a->now + compliance_config_sla(cfg, c.priority);
        bool created = false;
        if (store_case_open(s, &c, &created, e) < 0 ||
            (attach && store_hit_attach(s, c.subject, x->chain_id, &x->address, c.id, e) < 0))
            return -1;
        case_of[i] = c.id;
        if (!created)
            continue;
        st->cases_opened++;
        store_case_event ev = {.case_id = c.id, .at = a->now};
        snprintf(ev.operator_name, sizeof ev.operator_name, "%s", a->operator_name);
        snprintf(ev.action, sizeof ev.action, "open");
        snprintf(ev.after, sizeof ev.after, "state=new priority=%s score=%d",
                 compliance_priority_name(c.priority), score);
        snprintf(ev.note, sizeof ev.note, "rules: %s", rules);
        if (store_case_event_add(s, &ev, e) < 0)
            return -1;
        char esc[ADDR_STR_MAX];
        addr_to_checksum(esc, &x->address);
        json_t *d =
            json_pack("{s:I,s:s,s:I,s:s,s:s,s:i,s:s}", "case", (json_int_t)c.id, "subject",
                      c.subject, "chain_id", (json_int_t)x->chain_id, "escrow", esc, "priority",
                      compliance_priority_name(c.priority), "score", score, "rules", rules);
        if (opened) {
            if (!d || json_array_append_new(opened, d) < 0)
                return err_set(e, ERR_NOMEM, "out of memory recording opened cases");
            continue;
        }
        json_t *one = json_pack("{s:[o]}", "cases", d);
        int rc = store_audit(s, a->home, a->operator_name, "case.open", one, e);
        json_decref(one);
        if (rc < 0)
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const screen_hit *h = &hits[i];
        store_hit sh = {.chain_id = x->chain_id,
                        .escrow = x->address,
                        .address = h->address,
                        .entity_id = h->entity_id,
                        .score = h->score,
                        .case_id = case_of[i],
                        .created_at = a->now};
        _Static_assert(sizeof sh.subject == sizeof subj[i], "a subject fits a hit's");
        memcpy(sh.subject, subj[i], sizeof sh.subject);
        snprintf(sh.role, sizeof sh.role, "%s", screen_role_name(h->role));
        snprintf(sh.rule, sizeof sh.rule, "%s", screen_rule_id(h->rule));
        snprintf(sh.kind, sizeof sh.kind, "%s", screen_kind_name(kind));
        snprintf(sh.evidence, sizeof sh.evidence, "%s", h->evidence);
        if (h->list_version[0]) {
            if (hex_encode(sh.list_sha256, sizeof sh.list_sha256, h->list_sha256, 32, false) == 0)
                sh.list_sha256[0] = '\0';
            snprintf(sh.list_version, sizeof sh.list_version, "%s", h->list_version);
        }
        bool inserted = false;
        if (store_hit_put(s, &sh, &inserted, e) < 0)
            return -1;
        st->hits += inserted;
    }
    return 0;
}

int screen_store_hits(store *s, const compliance_actor *a, const compliance_config *cfg,
                      uint64_t chain_id, const addr *escrow, screen_kind kind,
                      const screen_hit *hits, size_t n, compliance_screen_stats *st,
                      json_t *opened, err *e)
{
    return screen_store_hits_(s, a, cfg, chain_id, escrow, kind, hits, n, st, opened, true, e);
}

int screen_flag_confirmed(store *s, screen_ctx *ctx, err *e)
{
    store_case_filter f = {.state = "closed"};
    store_case *cs = NULL;
    size_t n = 0;
    if (store_case_list(s, &f, &cs, &n, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (strcmp(cs[i].outcome, "blocked") != 0 && strcmp(cs[i].outcome, "reported") != 0)
            continue;
        store_hit *hs = NULL;
        size_t nh = 0;
        rc = store_hit_list_case(s, cs[i].id, &hs, &nh, e);
        for (size_t j = 0; rc == 0 && j < nh; j++)
            rc = screen_ctx_flag(ctx, &hs[j].address, cs[i].id, e);
        free(hs);
    }
    free(cs);
    return rc;
}

int compliance_screen_pending(store *s, const compliance_actor *a, screen_ctx *ctx,
                              const compliance_prices *prices, compliance_screen_stats *stats,
                              err *e)
{
    return screen_pending_cfg(s, a, ctx, prices, NULL, stats, e);
}

/* Escrows and opened cases per audit row (a row stays well under AUDIT_ROW_MAX), and audit
 * rows per transaction: a catch-up of thousands of escrows costs a few commits and fsyncs.
 * A commit writes every page its transaction touched, and new cases and hits land all
 * over their unique indexes: fewer, larger transactions write each index page fewer times
 * (the audit rows are the same either way). */
#define BATCH_ESCROWS 256
#define BATCH_CASES 200
#define BATCH_ROWS 4
/* Escrows of a book on a server read at once (3.5 kB each) */
#define SCREEN_PAGE 256

typedef struct batch {
    bool open;
    bool attach; /* some hit on file waits for its case (store_hits_unattached) */
    size_t n;    /* escrows since the last audit row */
    size_t rows; /* audit rows (or their places) in this transaction */
    json_t *opened; /* the cases opened since the last audit row */
} batch;

/* Ends an audit row's share of the batch: one audit row "case.open" for its opened cases. */
static int batch_row(store *s, const compliance_actor *a, batch *b, err *e)
{
    int rc = 0;
    if (json_array_size(b->opened)) {
        json_t *d = json_pack("{s:O}", "cases", b->opened);
        rc = d ? store_audit(s, a->home, a->operator_name, "case.open", d, e)
               : err_set(e, ERR_NOMEM, "out of memory writing the audit row");
        json_decref(d);
    }
    json_decref(b->opened);
    b->opened = rc == 0 ? json_array() : NULL;
    b->n = 0;
    b->rows++;
    return rc;
}

/* Commits the batch, with the audit row of its last opened cases first. */
static int batch_flush(store *s, const compliance_actor *a, batch *b, err *e)
{
    if (!b->open)
        return 0;
    int rc = batch_row(s, a, b, e);
    if (rc == 0)
        rc = store_commit(s, e);
    if (rc < 0)
        store_rollback(s);
    json_decref(b->opened);
    b->opened = NULL;
    b->open = false;
    b->n = 0;
    b->rows = 0;
    return rc;
}

int screen_pending_cfg(store *s, const compliance_actor *a, screen_ctx *ctx,
                       const compliance_prices *prices, const compliance_config *cfg,
                       compliance_screen_stats *stats, err *e)
{
    compliance_screen_stats local = {0};
    compliance_screen_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    registry reg;
    if (registry_load(s, &reg, e) < 0)
        return -1;
    /* The escrows one row at a time, in order (the rolling windows replay them): a list
     * of every row would make the pass's memory grow with the desk (3.5 kB an escrow). */
    int64_t *ids = NULL;
    store_escrow *xs = NULL; /* a page of a book's escrows */
    store_screen_row *rows = NULL;
    size_t n = 0;
    int rc = -1;
    batch b = {0};
    store_escrow *x = calloc(1, sizeof *x); /* the fields screening reads are set per escrow */
    size_t np = prices ? prices->n : 0;
    int *dec = malloc((np ? np : 1) * sizeof *dec); /* usd_of_pass's decimals */
    for (size_t i = 0; dec && i < np; i++)
        dec[i] = -2;
    if (!x || !dec) {
        err_set(e, ERR_NOMEM, "out of memory screening escrows");
        goto out;
    }
    /* A desk whose book is on a server (store_reader): its escrows are the server's, read
     * in pages in the book's order (each page's creations in one read), each one's mark
     * desk.db's (store_escrow_screen_page). */
    bool book = store_reader(s, NULL) != NULL;
    if (screen_flag_confirmed(s, ctx, e) < 0 || (!book && store_escrow_rowids(s, &ids, &n, e) < 0))
        goto out;
    screen_ctx_reset_windows(ctx);
    screen_entities ents = screen_index_entities(reg.idx);
    store_escrow_cursor cur;
    bool more = book, has_cur = false;
    memset(&cur, 0, sizeof cur);
    for (size_t i = 0;; i++) {
        bool there = false;
        store_screen_row row; /* the escrow's block, creation hash and "screened?" */
        if (book && i == n) {
            if (!more)
                break;
            free(xs);
            free(rows);
            xs = NULL;
            rows = NULL;
            if (store_escrow_screen_page(s, has_cur ? &cur : NULL, SCREEN_PAGE, &xs, &rows, &n,
                                         &cur, &more, e) < 0)
                goto out;
            has_cur = true;
            i = 0;
            if (n == 0) {
                i = (size_t)-1; /* (i++: 0) the page held only escrows gone meanwhile */
                continue;
            }
        }
        if (book) {
            *x = xs[i];
            row = rows[i];
            there = true;
            /* not screened when the page was read: read again in an open batch (which holds
             * the write lock: the mark then names the creation the book holds now) */
            if (!row.screened && b.open &&
                store_escrow_screen_row(s, x->chain_id, &x->address, &row, &there, e) < 0)
                goto out;
        } else if (i == n) {
            break;
        } else if (store_escrow_screen_rowid(s, ids[i], x, &row, &there, e) < 0) {
            goto out;
        }
        if (!there)
            continue; /* gone meanwhile (a reorg): the next pass's sweep sees to it */
        bool done = row.screened, found = row.has_block;
        store_block blk = {.timestamp = row.block_timestamp};
        screen_input in = {.kind = SCREEN_KIND_ESCROW_CREATED,
                           .chain_id = x->chain_id,
                           .escrow = x->address,
                           .payer = x->payer,
                           .payee = x->payee,
                           .token = x->token,
                           .amount = x->amount,
                           .usd_estimate = usd_of_pass(s, prices, dec, x),
                           .timestamp = found ? blk.timestamp : (uint64_t)a->now};
        screen_hit hits[SCREEN_HITS_MAX];
        size_t nh = 0;
        if (screen_event(ctx, &ents, &in, hits, SCREEN_HITS_MAX, &nh, e) < 0)
            goto out;
        if (done)
            continue; /* replayed for the windows only */
        if (nh > SCREEN_HITS_MAX)
            nh = SCREEN_HITS_MAX;
        /* select and write in one IMMEDIATE transaction: another screener (a second
         * process, or `fusion case screen`) may have taken this escrow meanwhile (inside an
         * open batch the first answer was already read under the write lock) */
        if (!b.open) {
            if (store_begin(s, e) < 0)
                goto out;
            b.open = true;
            b.opened = json_array();
            /* the escrow now at the address, read again under the write lock (the mark
             * names its creation hash; it is written only if its creation is x's) */
            if (store_escrow_screen_row(s, x->chain_id, &x->address, &row, &there, e) < 0)
                goto out;
            if (there && row.screened)
                continue;
            /* hits of old desks may wait for their case: only then is attaching worth
             * a statement per case (nothing this transaction writes waits for one) */
            if (store_hits_unattached(s, &b.attach, e) < 0)
                goto out;
        }
        if (screen_store_hits_(s, a, cfg, x->chain_id, &x->address, SCREEN_KIND_ESCROW_CREATED,
                               hits, nh, st, b.opened, b.attach, e) < 0 ||
            store_escrow_mark_screened_as(s, x, &row, a->now, e) < 0)
            goto out;
        st->screened++;
        if (++b.n >= BATCH_ESCROWS || json_array_size(b.opened) >= BATCH_CASES) {
            if (b.rows + 1 < BATCH_ROWS ? batch_row(s, a, &b, e) < 0 : batch_flush(s, a, &b, e) < 0)
                goto out;
        }
    }
    if (batch_flush(s, a, &b, e) < 0)
        goto out;
    rc = 0;
out:
    if (b.open) {
        store_rollback(s);
        json_decref(b.opened);
    }
    free(ids);
    free(xs);
    free(rows);
    free(x);
    free(dec);
    registry_free(&reg);
    return rc;
}
