/* calls.c: margin calls and liquidation proposals. `credit check` values every facility
 * (credit_health_load), opens a call when the health factor crosses a level and closes it
 * when the facility is back above it, and keeps one alert per facility and level in the
 * store's alert table (scope "credit:"). Opening and closing are the desk's observations,
 * not decisions: they are not signed (the liquidation itself, on chain, is approved by M
 * of N). credit_drawn_usd (the desk's credit line for the risk service) is here too. */
#include "credit/service.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "risk/service.h"
#include "rpc/rpc.h"
#include "rpc/rpc_chain.h"

/* The liquidation plan: the largest position, enough of it to bring HF to the initial
 * level. */
static void plan_of(const store_credit_facility *f, const credit_health *h,
                    const credit_position *pos, size_t np, char *out, size_t cap)
{
    size_t best = np;
    for (size_t i = 0; i < np; i++)
        if (pos[i].value_usd > 0.0 && (best == np || pos[i].value_usd > pos[best].value_usd))
            best = i;
    if (best == np) {
        snprintf(out, cap, "{}");
        return;
    }
    const credit_position *p = &pos[best];
    double usd = credit_seize_usd(h, (double)f->initial_e4 / CREDIT_HF_ONE, p->liq_threshold,
                                  p->value_usd);
    /* units = ceil(usd / price * 10^decimals), at most the position */
    char txt[400];
    snprintf(txt, sizeof txt, "%.0f", ceil(usd / p->price_usd * pow(10.0, (double)p->decimals)));
    u256 units;
    err e;
    if (u256_from_dec(&units, txt, &e) < 0 || u256_cmp(&units, &p->units) > 0)
        units = p->units;
    char un[U256_DEC_MAX];
    u256_to_dec(un, &units);
    json_t *j = json_pack("{s:I, s:s, s:s, s:f}", "chain_id", (json_int_t)p->chain_id, "asset",
                          p->asset, "units", un, "usd", usd);
    char *d = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(out, cap, "%s", d ? d : "{}");
    free(d);
    json_decref(j);
}

int credit_check(store *s, int64_t now, int64_t max_age, int32_t today, size_t *opened,
                 size_t *closed, err *e)
{
    size_t n_open = 0, n_closed = 0;
    store_credit_facility *fs = NULL;
    size_t nf = 0;
    store_alert_cond *conds = NULL;
    size_t nc = 0;
    int rc = -1;
    if (store_credit_facility_list(s, &fs, &nf, e) < 0)
        return -1;
    conds = calloc(3 * nf + 1, sizeof *conds);
    err first; /* the first facility that could not be valued: the others are still checked */
    err_clear(&first);
    size_t n_failed = 0;
    if (!conds) {
        err_set(e, ERR_NOMEM, "out of memory checking facilities");
        goto out;
    }
    for (size_t i = 0; i < nf; i++) {
        const store_credit_facility *f = &fs[i];
        credit_book b;
        if (credit_book_load(s, f, today, &b, e) < 0)
            goto fail_facility;
        u256 owed;
        int arc = u256_add(&owed, &b.drawn, &b.accrued);
        credit_book_free(&b);
        if (arc < 0) {
            err_set(e, ERR_OVERFLOW, "the ledger's amounts overflow 256 bits");
            goto fail_facility;
        }
        credit_health h;
        credit_position *pos = NULL;
        size_t np = 0;
        if (credit_health_load(s, f, &owed, max_age, &h, &pos, &np, e) < 0)
            goto fail_facility;
        bool mc = h.health_factor < (double)f->margin_call_e4 / CREDIT_HF_ONE;
        bool liq = h.health_factor < (double)f->liquidation_e4 / CREDIT_HF_ONE;
        char hf[32];
        snprintf(hf, sizeof hf, "%.4f", h.health_factor);
        store_credit_call *calls = NULL;
        size_t ncalls = 0;
        if (store_credit_calls(s, f->id, false, &calls, &ncalls, e) < 0) {
            free(pos);
            goto fail_facility;
        }
        bool have_mc = false, have_liq = false;
        if (store_begin(s, e) < 0) {
            free(pos);
            free(calls);
            goto fail_facility;
        }
        int wrc = 0;
        for (size_t k = 0; k < ncalls && wrc == 0; k++) {
            bool is_liq = !strcmp(calls[k].kind, "liquidation");
            bool holds = is_liq ? liq : mc;
            if (holds) {
                have_liq = have_liq || is_liq;
                have_mc = have_mc || !is_liq;
            } else {
                wrc = store_credit_call_close(s, calls[k].id, now, "cured", e);
                n_closed += wrc == 0;
            }
        }
        if (wrc == 0 && mc && !have_mc) {
            store_credit_call c = {.facility_id = f->id, .opened_at = now,
                                   .cure_by = now + CREDIT_CURE_HOURS * 3600};
            snprintf(c.kind, sizeof c.kind, "margin_call");
            snprintf(c.health_factor, sizeof c.health_factor, "%s", hf);
            wrc = store_credit_call_open(s, &c, NULL, e);
            n_open += wrc == 0;
        }
        if (wrc == 0 && liq && !have_liq) {
            store_credit_call c = {.facility_id = f->id, .opened_at = now, .cure_by = now};
            snprintf(c.kind, sizeof c.kind, "liquidation");
            snprintf(c.health_factor, sizeof c.health_factor, "%s", hf);
            plan_of(f, &h, pos, np, c.plan, sizeof c.plan);
            wrc = store_credit_call_open(s, &c, NULL, e);
            n_open += wrc == 0;
        }
        free(pos);
        free(calls);
        if (wrc == 0)
            wrc = store_commit(s, e);
        if (wrc < 0) {
            store_rollback(s);
            goto out;
        }
        char lvl[16];
        if (mc) {
            store_alert_cond *c = &conds[nc++];
            snprintf(c->key, sizeof c->key, "credit:margin:%.60s", f->name);
            snprintf(c->kind, sizeof c->kind, "margin_call");
            c->severity = ALERT_WARNING;
            credit_hf_format(f->margin_call_e4, lvl);
            snprintf(c->message, sizeof c->message,
                     "facility %.60s: health factor %s below its margin-call level %s: cure "
                     "within %d h",
                     f->name, hf, lvl, CREDIT_CURE_HOURS);
            c->value = h.health_factor;
            c->limit = (double)f->margin_call_e4 / CREDIT_HF_ONE;
        }
        if (liq) {
            store_alert_cond *c = &conds[nc++];
            snprintf(c->key, sizeof c->key, "credit:liquidation:%.60s", f->name);
            snprintf(c->kind, sizeof c->kind, "liquidation");
            c->severity = ALERT_CRITICAL;
            credit_hf_format(f->liquidation_e4, lvl);
            snprintf(c->message, sizeof c->message,
                     "facility %.60s: health factor %s below its liquidation level %s: a "
                     "liquidation proposal waits for approval",
                     f->name, hf, lvl);
            c->value = h.health_factor;
            c->limit = (double)f->liquidation_e4 / CREDIT_HF_ONE;
        }
        continue;
    fail_facility:
        /* a facility that cannot be valued (no or a stale price, a term, a chain): its calls
         * stay as they are, an alert says why, and the other facilities are checked */
        if (!strstr(e->msg, f->name))
            err_prefix(e, "facility %.60s", f->name);
        if (n_failed++ == 0)
            first = *e;
        store_alert_cond *c = &conds[nc++];
        snprintf(c->key, sizeof c->key, "credit:unvalued:%.60s", f->name);
        snprintf(c->kind, sizeof c->kind, "credit_unvalued");
        c->severity = ALERT_CRITICAL;
        snprintf(c->message, sizeof c->message,
                 "facility %.60s cannot be valued (no calls checked): %.140s",
                 f->name, e->msg);
        c->value = NAN;
        c->limit = NAN;
        store_credit_call *open_calls = NULL;
        size_t n_open_calls = 0;
        if (store_credit_calls(s, f->id, false, &open_calls, &n_open_calls, e) < 0)
            goto out;
        /* its open calls' alerts stay raised (the sync clears what it is not given) */
        for (size_t k = 0; k < n_open_calls && k < 2; k++) {
            bool is_liq = !strcmp(open_calls[k].kind, "liquidation");
            store_alert_cond *o = &conds[nc++];
            snprintf(o->key, sizeof o->key, "credit:%s:%.60s", is_liq ? "liquidation" : "margin",
                     f->name);
            snprintf(o->kind, sizeof o->kind, "%s", is_liq ? "liquidation" : "margin_call");
            o->severity = is_liq ? ALERT_CRITICAL : ALERT_WARNING;
            snprintf(o->message, sizeof o->message,
                     "facility %.60s: %s open since its health factor was %s (it cannot be "
                     "valued now)",
                     f->name, is_liq ? "a liquidation proposal" : "a margin call",
                     open_calls[k].health_factor);
            o->value = NAN;
            o->limit = NAN;
        }
        free(open_calls);
        err_clear(e);
    }
    if (store_alert_sync_scope(s, "credit:", conds, nc, now, NULL, NULL, e) < 0)
        goto out;
    if (n_failed) {
        *e = first;
        if (n_failed > 1)
            err_prefix(e, "%zu facilities cannot be valued; first", n_failed);
        goto out;
    }
    rc = 0;
out:
    if (opened)
        *opened = n_open;
    if (closed)
        *closed = n_closed;
    free(conds);
    free(fs);
    return rc;
}

int credit_drawn_usd(store *s, int32_t today, double *usd, size_t *n_facilities, err *e)
{
    *usd = 0.0;
    store_credit_facility *fs = NULL;
    if (store_credit_facility_list(s, &fs, n_facilities, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < *n_facilities && rc == 0; i++) {
        credit_book b;
        if ((rc = credit_book_load(s, &fs[i], today, &b, e)) < 0)
            break;
        u256 owed;
        if (u256_add(&owed, &b.drawn, &b.accrued) < 0)
            rc = err_set(e, ERR_OVERFLOW, "the ledger's amounts overflow 256 bits");
        credit_book_free(&b);
        double px = 0.0;
        if (rc == 0 && !u256_is_zero(&owed) && (rc = credit_currency_usd(s, &fs[i], 0, 0, &px, e)) == 0)
            *usd += credit_units_double(&owed, fs[i].decimals) * px;
    }
    free(fs);
    return rc;
}

int credit_drawn_usd_fresh(store *s, const risk_service_opts *o, int32_t today, double *usd,
                           size_t *n_facilities, err *e)
{
    int rc = credit_drawn_usd(s, today, usd, n_facilities, e);
    if (rc == 0 || e->code != ERR_STATE)
        return rc;
    risk_service_opts ro = *o;
    ro.no_alert_sync = true;
    ro.has_drawn = true; /* the drawn amount plays no part in reading the feeds */
    ro.drawn = 0.0;
    ro.params.mc.paths = o->params.mc.paths < 200 ? o->params.mc.paths : 200;
    risk_snapshot *snap = NULL;
    err e2;
    err_clear(&e2);
    if (risk_service_refresh(s, &ro, &snap, &e2) < 0)
        return -1; /* e: the currency without a price */
    risk_snapshot_free(&snap);
    err_clear(e);
    return credit_drawn_usd(s, today, usd, n_facilities, e);
}

int credit_withdrawal_check(store *s, const store_credit_facility *f, int32_t today,
                            int64_t max_age, uint64_t chain_id, uint64_t id, credit_withdrawal *w,
                            credit_health *before, credit_health *after, err *e)
{
    memset(w, 0, sizeof *w);
    json_error_t je;
    json_t *vaults = json_loads(f->vaults[0] ? f->vaults : "[]", 0, &je);
    bool have_vault = false;
    size_t i;
    json_t *v;
    json_array_foreach(vaults, i, v)
    {
        if ((uint64_t)json_integer_value(json_object_get(v, "chain_id")) == chain_id &&
            addr_parse(&w->vault, json_string_value(json_object_get(v, "address")), e) == 0)
            have_vault = true;
    }
    json_decref(vaults);
    if (!have_vault)
        return err_set(e, ERR_NOT_FOUND, "facility %s has no vault on chain %llu", f->name,
                       (unsigned long long)chain_id);
    /* getRequest(id): (kind, status, owner, token, to, amount, approvals), 7 words */
    uint8_t data[36] = {0}, h[32];
    static const char sig[] = "getRequest(uint256)";
    keccak256(h, sig, strlen(sig));
    memcpy(data, h, 4);
    u256 idw = u256_from_u64(id);
    u256_to_be(data + 4, &idw);
    rpc_client *rpc = NULL;
    buf r = {0};
    int rc = rpc_chain_client(&rpc, s, chain_id, NULL, e);
    if (rc == 0)
        rc = rpc_eth_call(rpc, &w->vault, data, sizeof data, NULL, &r, e);
    rpc_client_free(&rpc);
    if (rc == 0 && r.len != 7 * 32)
        rc = err_set(e, ERR_INVALID, "vault request %llu: the vault answered %zu bytes",
                     (unsigned long long)id, r.len);
    if (rc < 0) {
        buf_free(&r);
        return rc;
    }
    unsigned kind = r.data[31];
    w->status = r.data[63];
    memcpy(w->owner.b, r.data + 2 * 32 + 12, ADDR_LEN);
    memcpy(w->token.b, r.data + 3 * 32 + 12, ADDR_LEN);
    u256_from_be(&w->amount, r.data + 5 * 32);
    u256_from_be(&w->approvals, r.data + 6 * 32);
    buf_free(&r);
    if (kind != 0)
        return err_set(e, ERR_INVALID, "vault request %llu is a seizure, not a withdrawal",
                       (unsigned long long)id);
    if (w->status != 1)
        return err_set(e, ERR_STATE, "vault request %llu is not open (status %u)",
                       (unsigned long long)id, w->status);
    /* the owner is the facility's counterparty, the token an eligible asset */
    store_entity_link *links = NULL;
    size_t nl = 0;
    if (store_entity_links(s, f->entity_id, &links, &nl, e) < 0)
        return -1;
    bool ours = false;
    for (size_t l = 0; l < nl; l++)
        ours = ours || ((links[l].chain_id == 0 || links[l].chain_id == chain_id) &&
                        addr_equal(&links[l].address, &w->owner));
    free(links);
    if (!ours)
        return err_set(e, ERR_DENIED, "vault request %llu is not by an address of facility %s's "
                                      "counterparty", (unsigned long long)id, f->name);
    store_token *toks = NULL;
    size_t nt = 0;
    if (store_token_list(s, chain_id, &toks, &nt, e) < 0)
        return -1;
    for (size_t t = 0; t < nt; t++)
        if (addr_equal(&toks[t].address, &w->token))
            snprintf(w->asset, sizeof w->asset, "%s", toks[t].symbol);
    free(toks);
    credit_book b;
    if (credit_book_load(s, f, today, &b, e) < 0)
        return -1;
    u256 owed;
    rc = u256_add(&owed, &b.drawn, &b.accrued) < 0
             ? err_set(e, ERR_OVERFLOW, "the ledger's amounts overflow 256 bits")
             : 0;
    credit_book_free(&b);
    credit_position *pos = NULL;
    size_t np = 0;
    if (rc == 0)
        rc = credit_health_load(s, f, &owed, max_age, before, &pos, &np, e);
    if (rc < 0)
        return rc;
    credit_value *vals = calloc(np ? np : 1, sizeof *vals);
    if (!vals) {
        free(pos);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    bool matched = false;
    for (size_t k = 0; k < np; k++) {
        double value = pos[k].value_usd;
        if (!matched && pos[k].chain_id == chain_id && !strcmp(pos[k].asset, w->asset)) {
            value -= credit_units_double(&w->amount, pos[k].decimals) * pos[k].price_usd;
            if (value < 0.0)
                value = 0.0;
            matched = true;
        }
        vals[k] = (credit_value){value, pos[k].haircut, pos[k].liq_threshold};
    }
    credit_health_compute(vals, np, before->owed_usd, after);
    free(vals);
    free(pos);
    return 0;
}
