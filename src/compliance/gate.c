/* gate.c: the compliance gate on desk escrow actions. Fund, approve and release are
 * refused while a party (payer or payee) has an open case, a block, or KYC that is not
 * verified and current, or while the escrow itself has an open case; the message names
 * every blocking case and missing check at once, so that one attempt shows all there is
 * to clear. The arbiter's refund always passes. */
#include "compliance/compliance.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/text.h"

/* Every reason that refuses, collected so that one attempt names them all. */
typedef struct reasons {
    char v[COMPLIANCE_GATE_MAX_REASONS][160];
    size_t n, more;
    int64_t seen[2 * COMPLIANCE_GATE_MAX_REASONS]; /* cases named already (once each) */
    size_t n_seen;
} reasons;

/* False when case id was named already (a case on the escrow is often also the payee's). */
static bool first_time(reasons *r, int64_t id)
{
    for (size_t i = 0; i < r->n_seen; i++)
        if (r->seen[i] == id)
            return false;
    if (r->n_seen < sizeof r->seen / sizeof r->seen[0])
        r->seen[r->n_seen++] = id;
    return true;
}

static void add(reasons *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(reasons *r, const char *fmt, ...)
{
    if (r->n == COMPLIANCE_GATE_MAX_REASONS) {
        r->more++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->v[r->n++], sizeof r->v[0], fmt, ap);
    va_end(ap);
}

/* The cases of the filter that are open, or closed as blocked: each one refuses. */
static int refuse_by_cases(store *s, const store_case_filter *f, const char *who, reasons *r,
                           err *e)
{
    store_case *cs = NULL;
    size_t n = 0;
    if (store_case_list(s, f, &cs, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const store_case *c = &cs[i];
        if (!first_time(r, c->id))
            continue;
        if (strcmp(c->state, "closed") != 0)
            add(r, "case #%lld (%s priority, %s) is open on %s", (long long)c->id,
                compliance_priority_name(c->priority), c->state, who);
        else if (strcmp(c->outcome, "blocked") == 0)
            add(r, "%s is blocked by case #%lld", who, (long long)c->id);
    }
    free(cs);
    return 0;
}

static int check_party(store *s, uint64_t chain_id, const char *role, const addr *a, int64_t now,
                       reasons *r, err *e)
{
    char hex[ADDR_STR_MAX], who[STORE_ENTITY_NAME_MAX + 96];
    addr_to_checksum(hex, a);
    int64_t id = 0;
    if (store_entity_find_addr(s, chain_id, a, &id, e) < 0)
        return -1;
    char lower[ADDR_STR_MAX];
    addr_to_lower(lower, a);
    snprintf(who, sizeof who, "%s %.10s", role, hex);
    store_case_filter f = {.subject = lower};
    if (refuse_by_cases(s, &f, who, r, e) < 0)
        return -1;
    if (id == 0) {
        add(r, "%s %s is linked to no entity, so its KYC is missing", role, hex);
        return 0;
    }
    store_entity x;
    bool found = false;
    if (store_entity_get(s, id, &x, &found, e) < 0)
        return -1;
    char name[64];
    text_safe_str(name, sizeof name, x.name);
    snprintf(who, sizeof who, "%s '%s'", role, name);
    char subj[STORE_SUBJECT_MAX];
    snprintf(subj, sizeof subj, "entity:%lld", (long long)id);
    f.subject = subj;
    if (refuse_by_cases(s, &f, who, r, e) < 0)
        return -1;
    if (x.blocked)
        add(r, "%s is blocked", who);
    if (strcmp(x.kyc, "verified") != 0) {
        add(r, "KYC of %s is %s, not verified", who, x.kyc);
        return 0;
    }
    if (!x.kyc_expires[0]) {
        add(r, "KYC of %s has no expiry date (fusion entity edit --kyc-expires)", who);
        return 0;
    }
    int32_t exp = 0;
    if (screen_date_parse(&exp, x.kyc_expires, e) < 0)
        return -1;
    char today[SCREEN_DATE_MAX];
    int32_t day = screen_day_of((uint64_t)(now > 0 ? now : 0));
    screen_date_format(today, day);
    if (exp < day)
        add(r, "KYC of %s expired on %s (today %s)", who, x.kyc_expires, today);
    return 0;
}

/* The reasons the gate refuses action on the escrow (none: it passes). */
static int gate_reasons(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                        int64_t now, reasons *r, err *e)
{
    memset(r, 0, sizeof *r);
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
    if (!found) {
        add(r, "escrow %s on chain %llu is not in the desk database (run fusion sync)", hex,
            (unsigned long long)chain_id);
        return 0;
    }
    bool screened = false;
    if (store_escrow_is_screened(s, chain_id, escrow, &screened, e) < 0)
        return -1;
    if (!screened)
        add(r, "escrow %s has not been screened yet (fusion sync screens every new escrow; or "
               "run fusion case screen)",
            hex);
    snprintf(who, sizeof who, "escrow %.10s", hex);
    store_case_filter f = {.has_escrow = true, .chain_id = chain_id, .escrow = *escrow};
    if (refuse_by_cases(s, &f, who, r, e) < 0)
        return -1;
    if (check_party(s, chain_id, "payer", &x.payer, now, r, e) < 0 ||
        check_party(s, chain_id, "payee", &x.payee, now, r, e) < 0)
        return -1;
    return 0;
}

int compliance_gate_reasons(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                            int64_t now, char ***lines, size_t *n, err *e)
{
    *lines = NULL;
    *n = 0;
    reasons *r = malloc(sizeof *r);
    if (!r)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = gate_reasons(s, chain_id, escrow, action, now, r, e);
    size_t total = rc == 0 ? r->n + (r->more ? 1 : 0) : 0;
    char **v = total ? calloc(total, sizeof *v) : NULL;
    if (total && !v)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < total; i++) {
        char more[64];
        snprintf(more, sizeof more, "and %zu more", r->more);
        v[i] = strdup(i < r->n ? r->v[i] : more);
        if (!v[i])
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else
            *n = i + 1;
    }
    free(r);
    *lines = v;
    if (rc < 0) {
        for (size_t i = 0; i < *n; i++)
            free(v[i]);
        free(v);
        *lines = NULL;
        *n = 0;
    }
    return rc;
}

int compliance_gate_check_at(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                             int64_t now, err *e)
{
    reasons *r = malloc(sizeof *r);
    if (!r)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = gate_reasons(s, chain_id, escrow, action, now, r, e);
    if (rc == 0 && r->n > 0) {
        /* every blocking reason at once: one attempt shows all there is to clear */
        char msg[ERR_MSG_MAX * 4];
        size_t total = r->n + r->more;
        int o = snprintf(msg, sizeof msg, "refused: %zu blocking: ", total);
        for (size_t i = 0; i < r->n && o > 0 && (size_t)o < sizeof msg; i++)
            o += snprintf(msg + o, sizeof msg - (size_t)o, "%s%s", i ? "; " : "", r->v[i]);
        rc = err_set(e, ERR_DENIED, "%s", msg);
    }
    free(r);
    return rc;
}

int compliance_gate_check(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                          err *e)
{
    return compliance_gate_check_at(s, chain_id, escrow, action, (int64_t)time(NULL), e);
}

int compliance_party_line(store *s, uint64_t chain_id, const addr *a, int64_t now, char *out,
                          size_t cap, err *e)
{
    int64_t id = 0;
    if (store_entity_find_addr(s, chain_id, a, &id, e) < 0)
        return -1;
    int o = 0;
    store_entity x;
    bool found = false;
    if (id && store_entity_get(s, id, &x, &found, e) < 0)
        return -1;
    if (!found) {
        o = snprintf(out, cap, "no entity (KYC missing)");
    } else {
        char name[64];
        text_safe_str(name, sizeof name, x.name);
        bool expired = false;
        int32_t exp = 0;
        err ignore;
        if (x.kyc_expires[0] && screen_date_parse(&exp, x.kyc_expires, &ignore) == 0)
            expired = exp < screen_day_of((uint64_t)(now > 0 ? now : 0));
        o = snprintf(out, cap, "'%s' KYC %s%s%s%s%s", name, x.kyc,
                     x.kyc_expires[0] ? (expired ? " EXPIRED " : " until ") : "",
                     x.kyc_expires, !x.kyc_expires[0] ? " (no expiry)" : "",
                     x.blocked ? ", BLOCKED" : "");
    }
    /* open cases on the address and on its entity, with what their hits were */
    char lower[ADDR_STR_MAX], subj[STORE_SUBJECT_MAX];
    addr_to_lower(lower, a);
    snprintf(subj, sizeof subj, "entity:%lld", (long long)id);
    size_t open = 0;
    for (int pass = 0; pass < (id ? 2 : 1); pass++) {
        store_case_filter f = {.subject = pass == 0 ? lower : subj, .open_only = true};
        store_case *cs = NULL;
        size_t n = 0;
        if (store_case_list(s, &f, &cs, &n, e) < 0)
            return -1;
        for (size_t i = 0; i < n && o > 0 && (size_t)o < cap; i++, open++) {
            o += snprintf(out + o, cap - (size_t)o, "; case #%lld open (%s)",
                          (long long)cs[i].id, compliance_priority_name(cs[i].priority));
            store_hit *hs = NULL;
            size_t nh = 0;
            if (store_hit_list_case(s, cs[i].id, &hs, &nh, e) < 0) {
                free(cs);
                return -1;
            }
            for (size_t k = 0; k < nh && o > 0 && (size_t)o < cap; k++)
                o += snprintf(out + o, cap - (size_t)o, "%s%s", k ? ", " : ": hits ",
                              hs[k].rule);
            free(hs);
        }
        free(cs);
    }
    if (open == 0 && o > 0 && (size_t)o < cap)
        snprintf(out + o, cap - (size_t)o, "; no open case");
    return 0;
}
