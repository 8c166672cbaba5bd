/* gate.c: the compliance gate on desk escrow actions. Fund, approve and release are
 * refused while a party (payer or payee) has an open case, a block, or KYC that is not
 * verified and current, or while the escrow itself has an open case; the message names
 * the case or the missing check. The arbiter's refund always passes. */
#include "compliance/compliance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A case of the filter that is open, or closed as blocked: the first one refuses. */
static int refuse_by_cases(store *s, const store_case_filter *f, const char *who, err *e)
{
    store_case *cs = NULL;
    size_t n = 0;
    if (store_case_list(s, f, &cs, &n, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const store_case *c = &cs[i];
        if (strcmp(c->state, "closed") != 0) {
            rc = err_set(e, ERR_DENIED,
                         "refused: compliance case #%lld (%s priority, %s) is "
                         "open on %s; it must be closed first (fusion case show %lld)",
                         (long long)c->id, compliance_priority_name(c->priority), c->state, who,
                         (long long)c->id);
            break;
        }
        if (strcmp(c->outcome, "blocked") == 0) {
            rc = err_set(e, ERR_DENIED, "refused: %s is blocked by compliance case #%lld", who,
                         (long long)c->id);
            break;
        }
    }
    free(cs);
    return rc;
}

static int check_party(store *s, uint64_t chain_id, const char *role, const addr *a, int64_t now,
                       err *e)
{
    char hex[ADDR_STR_MAX], who[STORE_ENTITY_NAME_MAX + 96];
    addr_to_checksum(hex, a);
    int64_t id = 0;
    if (store_entity_find_addr(s, chain_id, a, &id, e) < 0)
        return -1;
    char lower[ADDR_STR_MAX];
    addr_to_lower(lower, a);
    snprintf(who, sizeof who, "%s %s", role, hex);
    store_case_filter f = {.subject = lower};
    if (refuse_by_cases(s, &f, who, e) < 0)
        return -1;
    if (id == 0)
        return err_set(e, ERR_DENIED,
                       "refused: %s is linked to no entity, so its KYC is "
                       "missing (fusion entity link NAME --chain C --address %s)",
                       who, hex);
    store_entity x;
    bool found = false;
    if (store_entity_get(s, id, &x, &found, e) < 0)
        return -1;
    snprintf(who, sizeof who, "%s %s (entity #%lld '%.120s')", role, hex, (long long)id, x.name);
    char subj[STORE_SUBJECT_MAX];
    snprintf(subj, sizeof subj, "entity:%lld", (long long)id);
    f.subject = subj;
    if (refuse_by_cases(s, &f, who, e) < 0)
        return -1;
    if (x.blocked)
        return err_set(e, ERR_DENIED, "refused: %s is blocked", who);
    if (strcmp(x.kyc, "verified") != 0)
        return err_set(e, ERR_DENIED, "refused: KYC of %s is %s, not verified", who, x.kyc);
    if (!x.kyc_expires[0])
        return err_set(e, ERR_DENIED,
                       "refused: KYC of %s has no expiry date; record one "
                       "(fusion entity edit --kyc-expires)",
                       who);
    int32_t exp = 0;
    if (screen_date_parse(&exp, x.kyc_expires, e) < 0)
        return -1;
    char today[SCREEN_DATE_MAX];
    int32_t day = screen_day_of((uint64_t)(now > 0 ? now : 0));
    screen_date_format(today, day);
    if (exp < day)
        return err_set(e, ERR_DENIED, "refused: KYC of %s expired on %s (today %s)", who,
                       x.kyc_expires, today);
    return 0;
}

int compliance_gate_check_at(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                             int64_t now, err *e)
{
    if (strcmp(action, "refund") == 0)
        return 0; /* the arbiter's way back to the payer stays open */
    if (strcmp(action, "fund") && strcmp(action, "approve") && strcmp(action, "release") &&
        strcmp(action, "resolve"))
        return err_set(e, ERR_INVALID,
                       "unknown desk action '%.20s' (fund, approve, release, "
                       "resolve or refund)",
                       action);
    store_escrow x;
    bool found = false;
    if (store_escrow_get(s, chain_id, escrow, &x, &found, e) < 0)
        return -1;
    char hex[ADDR_STR_MAX], who[ADDR_STR_MAX + 16];
    addr_to_checksum(hex, escrow);
    if (!found)
        return err_set(e, ERR_DENIED,
                       "refused: escrow %s on chain %llu is not in the desk "
                       "database (run fusion sync)",
                       hex, (unsigned long long)chain_id);
    bool screened = false;
    if (store_escrow_is_screened(s, chain_id, escrow, &screened, e) < 0)
        return -1;
    if (!screened)
        return err_set(e, ERR_DENIED,
                       "refused: escrow %s has not been screened yet (fusion sync "
                       "screens every new escrow; or run fusion case screen)",
                       hex);
    snprintf(who, sizeof who, "escrow %s", hex);
    store_case_filter f = {.has_escrow = true, .chain_id = chain_id, .escrow = *escrow};
    if (refuse_by_cases(s, &f, who, e) < 0)
        return -1;
    if (check_party(s, chain_id, "payer", &x.payer, now, e) < 0 ||
        check_party(s, chain_id, "payee", &x.payee, now, e) < 0)
        return -1;
    return 0;
}

int compliance_gate_check(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                          err *e)
{
    return compliance_gate_check_at(s, chain_id, escrow, action, (int64_t)time(NULL), e);
}
