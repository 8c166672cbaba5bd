/* kyc.c: the KYC lifecycle. An entity's KYC expiry and review dates raise alerts
 * ("kyc:<id>:expiry", "kyc:<id>:review") and open a case ahead of time (kyc.lead_days),
 * so officers renew before the gate starts refusing the entity's escrows (gate.c refuses
 * an expired KYC). A date's case is keyed by the entity, chain 0 and a marker standing in
 * the escrow's place (kind and day of the date), so each new date gets its own case. */
#include "compliance/compliance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/internal.h"

int compliance_kyc_lifecycle(store *s, const compliance_actor *a, const compliance_config *cfg,
                             compliance_screen_stats *st, err *e)
{
    store_entity *xs = NULL;
    size_t n = 0;
    if (store_entity_list(s, &xs, &n, e) < 0)
        return -1;
    store_alert_cond *conds = calloc(2 * n + 1, sizeof *conds);
    if (!conds) {
        free(xs);
        return err_set(e, ERR_NOMEM, "out of memory checking KYC dates");
    }
    size_t k = 0;
    int rc = -1;
    int32_t today = screen_day_of((uint64_t)(a->now > 0 ? a->now : 0));
    if (store_begin(s, e) < 0)
        goto out;
    for (size_t i = 0; i < n && cfg->kyc_lead_days > 0; i++) {
        const store_entity *x = &xs[i];
        const struct {
            int which;
            const char *date, *what, *key;
        } ev[2] = {{1, x->kyc_expires, "KYC expires", "expiry"},
                   {2, x->review_due, "review is due", "review"}};
        for (int w = 0; w < 2; w++) {
            int32_t day;
            if (!ev[w].date[0] || screen_date_parse(&day, ev[w].date, NULL) < 0)
                continue;
            int64_t left = (int64_t)day - today;
            if (left > cfg->kyc_lead_days)
                continue;
            char when[48];
            if (left >= 0)
                snprintf(when, sizeof when, "in %lld days", (long long)left);
            else
                snprintf(when, sizeof when, "%lld days ago", (long long)-left);
            store_alert_cond *c = &conds[k++];
            snprintf(c->key, sizeof c->key, "kyc:%lld:%s", (long long)x->id, ev[w].key);
            snprintf(c->kind, sizeof c->kind, "kyc_%s", ev[w].key);
            c->severity = left < 0 ? ALERT_CRITICAL : ALERT_WARNING;
            snprintf(c->message, sizeof c->message,
                     "entity #%lld '%.80s': %s on %s (%s; lead time %d days): fusion entity "
                     "edit",
                     (long long)x->id, x->name, ev[w].what, ev[w].date, when, cfg->kyc_lead_days);
            c->value = (double)left;
            c->limit = (double)cfg->kyc_lead_days;
            screen_hit h;
            memset(&h, 0, sizeof h);
            h.rule = SCREEN_RULE_KYC;
            h.score = cfg->rules.kyc.score;
            h.role = SCREEN_ROLE_PAYER;
            h.entity_id = x->id;
            snprintf(h.evidence, sizeof h.evidence,
                     "entity #%lld '%.80s' (risk %s): %s on %s (%s; lead time %d days)",
                     (long long)x->id, x->name, x->risk, ev[w].what, ev[w].date, when,
                     cfg->kyc_lead_days);
            addr marker = compliance_kyc_marker(ev[w].which, day);
            if (screen_store_hits(s, a, cfg, 0, &marker, SCREEN_KIND_KYC_REVIEW, &h, 1, st, NULL,
                                  e) < 0)
                goto fail;
        }
    }
    if (store_commit(s, e) < 0)
        goto fail;
    rc = store_alert_sync_scope(s, "kyc:", conds, k, a->now, NULL, NULL, e);
    goto out;
fail:
    store_rollback(s);
out:
    free(conds);
    free(xs);
    return rc;
}
