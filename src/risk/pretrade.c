/* pretrade.c: the book after a proposed move, against the concentration limits and the
 * VaR limit (risk_pretrade_check). Pure: it reads a snapshot risk_service_refresh made
 * and writes nothing; the desk decides what to do with a breach (refuse before signing,
 * or a risk officer's signed override). The figures are the ones the limit alerts use
 * (service.c, limit_conds), so a move refused here is one that would raise an alert. */
#include "risk/service.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *risk_breach_kind_str(risk_breach_kind k)
{
    switch (k) {
    case RISK_BREACH_ASSET: return "asset";
    case RISK_BREACH_CHAIN: return "chain";
    case RISK_BREACH_COUNTERPARTY: return "counterparty";
    case RISK_BREACH_VAR: return "var";
    }
    return "?";
}

/* One figure of the book: its USD value before and after the move. */
typedef struct fig {
    risk_breach_kind kind;
    char name[64];
    double before, after;
} fig;

typedef struct figs {
    fig *v;
    size_t n, cap;
} figs;

static fig *fig_get(figs *f, risk_breach_kind k, const char *name, err *e)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].kind == k && strcmp(f->v[i].name, name) == 0)
            return &f->v[i];
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        fig *nv = realloc(f->v, cap * sizeof *nv);
        if (!nv) {
            err_set(e, ERR_NOMEM, "out of memory");
            return NULL;
        }
        f->v = nv;
        f->cap = cap;
    }
    fig *g = &f->v[f->n++];
    memset(g, 0, sizeof *g);
    g->kind = k;
    snprintf(g->name, sizeof g->name, "%s", name);
    return g;
}

static const char *chain_name(const risk_snapshot *s, uint64_t id, char *buf, size_t cap)
{
    for (size_t c = 0; c < s->n_chains; c++)
        if (s->chains[c].chain_id == id)
            return s->chains[c].name;
    snprintf(buf, cap, "chain %llu", (unsigned long long)id);
    return buf;
}

static void add_breach(risk_pretrade *out, risk_breach_kind k, const char *name, double before,
                       double after, double limit)
{
    if (out->n_breach >= RISK_PRETRADE_MAX)
        return;
    risk_breach *b = &out->breach[out->n_breach++];
    b->kind = k;
    snprintf(b->name, sizeof b->name, "%s", name);
    b->before = before;
    b->after = after;
    b->limit = limit;
}

/* Whole units of amount (an estimate, for risk only). */
static double units(const u256 *a, unsigned decimals)
{
    char dec[U256_DEC_MAX];
    u256_to_dec(dec, a);
    return strtod(dec, NULL) / pow(10.0, (double)decimals);
}

int risk_pretrade_check(const risk_snapshot *s, const risk_move *m, risk_pretrade *out, err *e)
{
    memset(out, 0, sizeof *out);
    const risk_price_info *px = NULL;
    for (size_t i = 0; i < s->n_prices && !px; i++)
        if (strcmp(s->prices[i].asset, m->asset) == 0)
            px = &s->prices[i];
    out->gross_before = out->gross_after = s->gross_usd;
    if (!px || !isfinite(px->usd))
        return 0;
    out->priced = true;
    double v = units(&m->amount, m->decimals) * px->usd;
    out->usd = v;
    figs f = {0};
    int rc = -1;
    char a[ADDR_STR_MAX], nb[32], nb2[32];
    /* before: the figures limit_conds reads */
    for (size_t i = 0; i < s->n_assets; i++) {
        fig *g = fig_get(&f, RISK_BREACH_ASSET, s->assets[i].asset, e);
        if (!g)
            goto out;
        g->before = g->after = s->assets[i].usd;
    }
    for (size_t i = 0; i < s->n_pos; i++) {
        const risk_position *p = &s->pos[i];
        if (p->kind == RISK_POS_ESCROW_INCOMING || !isfinite(p->usd))
            continue;
        fig *g = fig_get(&f, RISK_BREACH_CHAIN, chain_name(s, p->chain_id, nb, sizeof nb), e);
        if (!g)
            goto out;
        g->before += p->usd;
        g->after += p->usd;
        if (p->kind != RISK_POS_ESCROW_LOCKED)
            continue;
        addr_to_lower(a, &p->counterparty);
        if (!(g = fig_get(&f, RISK_BREACH_COUNTERPARTY, a, e)))
            goto out;
        g->before += p->usd;
        g->after += p->usd;
    }
    /* the move */
    fig *g;
    const char *from = chain_name(s, m->from_chain_id, nb, sizeof nb);
    if (m->to_chain_id && m->to_chain_id != m->from_chain_id) {
        if (!(g = fig_get(&f, RISK_BREACH_CHAIN, from, e)))
            goto out;
        g->after -= v;
        if (!(g = fig_get(&f, RISK_BREACH_CHAIN, chain_name(s, m->to_chain_id, nb2, sizeof nb2),
                          e)))
            goto out;
        g->after += v;
    }
    if (m->to_counterparty) {
        addr_to_lower(a, &m->counterparty_to);
        if (!(g = fig_get(&f, RISK_BREACH_COUNTERPARTY, a, e)))
            goto out;
        g->after += v;
    }
    if (m->leaves_book) {
        out->gross_after -= v;
        if (!(g = fig_get(&f, RISK_BREACH_ASSET, m->asset, e)))
            goto out;
        g->after -= v;
        if (!(g = fig_get(&f, RISK_BREACH_CHAIN, from, e)))
            goto out;
        g->after -= v;
        if (m->from_counterparty) {
            addr_to_lower(a, &m->counterparty_from);
            if (!(g = fig_get(&f, RISK_BREACH_COUNTERPARTY, a, e)))
                goto out;
            g->after -= v;
        }
    }
    /* the limits: a share after above the limit and above the share before */
    for (size_t i = 0; i < f.n; i++) {
        const fig *x = &f.v[i];
        double lim = x->kind == RISK_BREACH_ASSET   ? s->limits.asset_share
                     : x->kind == RISK_BREACH_CHAIN ? s->limits.chain_share
                                                    : s->limits.counterparty_share;
        if (!(lim > 0.0) || !(out->gross_after > 0.0))
            continue;
        double before = s->gross_usd > 0.0 ? x->before / s->gross_usd : 0.0;
        double after = x->after / out->gross_after;
        if (after > lim && after > before)
            add_breach(out, x->kind, x->name, before, after, lim);
    }
    /* VaR, estimated: scaled by the VaR assets' value after / before */
    if (s->limits.var_1d > 0.0 && s->has_report) {
        double in_before = 0.0, in_after = 0.0;
        for (size_t i = 0; i < s->n_assets; i++) {
            if (!s->assets[i].in_var)
                continue;
            in_before += s->assets[i].usd;
            in_after += s->assets[i].usd;
            if (m->leaves_book && strcmp(s->assets[i].asset, m->asset) == 0)
                in_after -= v;
        }
        double var = s->report.hist.d1.var;
        double after = in_before > 0.0 ? var * in_after / in_before : var;
        if (after > s->limits.var_1d && after > var)
            add_breach(out, RISK_BREACH_VAR, "1-day VaR", var, after, s->limits.var_1d);
    }
    rc = 0;
out:
    free(f.v);
    return rc;
}

void risk_pretrade_format(char *out, size_t cap, const risk_pretrade *p)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p->n_breach && k < cap; i++) {
        const risk_breach *b = &p->breach[i];
        int n;
        if (b->kind == RISK_BREACH_VAR)
            n = snprintf(out + k, cap - k,
                         "%s1-day VaR %.2f -> %.2f USD (limit %.2f USD; scaled estimate)",
                         i ? "; " : "", b->before, b->after, b->limit);
        else
            n = snprintf(out + k, cap - k, "%s%s %s %.1f%% -> %.1f%% (limit %.1f%%)",
                         i ? "; " : "", risk_breach_kind_str(b->kind), b->name, b->before * 100.0,
                         b->after * 100.0, b->limit * 100.0);
        if (n < 0)
            break;
        k += (size_t)n;
    }
}
