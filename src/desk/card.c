/* card.c: the approval card (see desk.h): everything a checker needs to decide on one
 * escrow action, on one screen, from the desk database: the parties by name and address,
 * the amount exactly and in USD, who approved and the count after this signature, the
 * policy's decision, each party's compliance state, the deadline, and every reason the
 * compliance gate would refuse. The UI shows it in the Approvals detail pane and above
 * the passphrase prompt; the action is signed only after it was shown. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/amount.h"
#include "compliance/compliance.h"
#include "desk/desk.h"
#include "desk/names.h"

typedef struct lines {
    char **v;
    size_t n, cap;
    int rc;
} lines;

static void line(lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(lines *l, const char *fmt, ...)
{
    if (l->rc < 0)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->rc = -1;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    l->v[l->n] = strdup(text);
    if (!l->v[l->n]) {
        l->rc = -1;
        return;
    }
    l->n++;
}

/* "12,345.67": whole USD with thousands separators and cents, from base units and a price
 * in USD per whole unit with 8 decimals. */
static bool usd_of(char *out, size_t cap, const u256 *amount, unsigned decimals,
                   const u256 *price_e8)
{
    u256 v, q, r, ten = u256_from_u64(10);
    if (u256_mul(&v, amount, price_e8) < 0)
        return false;
    /* to cents: / 10^(decimals + 6) */
    for (unsigned k = 0; k < decimals + 6; k++) {
        if (u256_divmod(&q, &r, &v, &ten) < 0)
            return false;
        v = q;
    }
    char dec[U256_DEC_MAX];
    u256_to_dec(dec, &v);
    size_t len = strlen(dec);
    char whole[U256_DEC_MAX + 40];
    size_t wl = len > 2 ? len - 2 : 0, o = 0;
    for (size_t i = 0; i < wl; i++) {
        if (i > 0 && (wl - i) % 3 == 0)
            whole[o++] = ',';
        whole[o++] = dec[i];
    }
    if (wl == 0)
        whole[o++] = '0';
    whole[o] = '\0';
    const char *cents = len >= 2 ? dec + len - 2 : (len == 1 ? dec : "00");
    snprintf(out, cap, "%s.%s%s", whole, len == 1 ? "0" : "", cents);
    return true;
}

static void asset_from_store(store *s, const store_escrow *x, desk_asset *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->symbol, sizeof a->symbol, "units");
    a->token = x->token;
    err e;
    if (addr_is_zero(&x->token)) {
        store_chain *cs = NULL;
        size_t n = 0;
        if (store_chain_list(s, &cs, &n, &e) == 0)
            for (size_t i = 0; i < n; i++)
                if (cs[i].chain_id == x->chain_id) {
                    snprintf(a->symbol, sizeof a->symbol, "%s", cs[i].native_symbol);
                    a->decimals = cs[i].native_decimals;
                }
        free(cs);
        return;
    }
    store_token *ts = NULL;
    size_t n = 0;
    if (store_token_list(s, x->chain_id, &ts, &n, &e) == 0)
        for (size_t i = 0; i < n; i++)
            if (addr_equal(&ts[i].address, &x->token)) {
                snprintf(a->symbol, sizeof a->symbol, "%s", ts[i].symbol);
                a->decimals = ts[i].decimals;
            }
    free(ts);
}

int desk_card_lines(store *s, const desk_names *names, uint64_t chain_id, const addr *escrow,
                    const char *action, const addr *signer, const desk_asset *asset,
                    const char *rule, int64_t now, char ***out, size_t *n_out, err *e)
{
    *out = NULL;
    *n_out = 0;
    store_escrow x;
    bool found = false;
    if (store_escrow_get(s, chain_id, escrow, &x, &found, e) < 0)
        return -1;
    char hex[ADDR_STR_MAX];
    addr_to_checksum(hex, escrow);
    if (!found)
        return err_set(e, ERR_NOT_FOUND,
                       "escrow %s is not in the desk database yet: run `fusion sync`", hex);
    desk_asset a;
    if (asset)
        a = *asset;
    else
        asset_from_store(s, &x, &a);
    lines l = {0};
    char lab[STORE_ENTITY_NAME_MAX + ADDR_STR_MAX + 8], amt[AMOUNT_STR_MAX], base[U256_DEC_MAX];
    line(&l, "%s escrow %s (%s, version %u)", action, hex, escrow_state_str(x.state),
         x.version ? x.version : 1);
    desk_names_label(lab, sizeof lab, names, chain_id, &x.payer);
    line(&l, "Payer      %s", lab);
    desk_names_label(lab, sizeof lab, names, chain_id, &x.payee);
    line(&l, "Payee      %s", lab);
    amount_format(amt, &x.amount, a.decimals);
    u256_to_dec(base, &x.amount);
    char usd[U256_DEC_MAX + 48] = "";
    if (a.has_usd && usd_of(usd, sizeof usd - 8, &x.amount, a.decimals, &a.usd_price_e8))
        memmove(usd + 5, usd, strlen(usd) + 1), memcpy(usd, " = $ ", 5);
    else
        snprintf(usd, sizeof usd, " (no USD price)");
    line(&l, "Amount     %s %s (%s base units)%s", amt, a.symbol, base, usd);
    /* approvers: who approved, and the count after this signature */
    bool signer_listed = false, signer_done = false;
    for (unsigned i = 0; i < x.n_approvers; i++) {
        bool done = false;
        for (unsigned k = 0; k < x.n_approvals; k++)
            done = done || addr_equal(&x.approvals[k].approver, &x.approvers[i]);
        bool me = signer && addr_equal(signer, &x.approvers[i]);
        signer_listed = signer_listed || me;
        signer_done = signer_done || (me && done);
        desk_names_label(lab, sizeof lab, names, chain_id, &x.approvers[i]);
        line(&l, "%s %s %s%s", i == 0 ? "Approvers " : "          ", done ? "[x]" : "[ ]", lab,
             me ? " (you)" : "");
    }
    unsigned after = x.n_approvals + (strcmp(action, "approve") == 0 && signer_listed &&
                                              !signer_done
                                          ? 1
                                          : 0);
    if (strcmp(action, "approve") == 0)
        line(&l, "Approvals  %u of %u needed; %u of %u after this signature", x.n_approvals,
             x.threshold, after, x.threshold);
    else
        line(&l, "Approvals  %u of %u needed", x.n_approvals, x.threshold);
    line(&l, "Policy     %s", rule && rule[0] ? rule : "decided when you act, before the passphrase");
    char party[700];
    if (compliance_party_line(s, chain_id, &x.payer, now, party, sizeof party, e) < 0)
        goto fail;
    line(&l, "Compliance payer: %s", party);
    if (compliance_party_line(s, chain_id, &x.payee, now, party, sizeof party, e) < 0)
        goto fail;
    line(&l, "           payee: %s", party);
    {
        time_t t = (time_t)x.deadline;
        struct tm tm;
        char when[64] = "?";
        if (x.deadline < (uint64_t)INT64_MAX && gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
        int64_t left = (int64_t)x.deadline - now;
        if (left >= 0)
            line(&l, "Deadline   %s (in %lld d %lld h)", when, (long long)(left / 86400),
                 (long long)(left % 86400 / 3600));
        else
            line(&l, "Deadline   %s (PASSED)", when);
    }
    char **why = NULL;
    size_t n_why = 0;
    bool is_gated = desk_action_name_gated(action); /* actions.h */
    if (is_gated && compliance_gate_reasons(s, chain_id, escrow, action, now, &why, &n_why, e) < 0)
        goto fail;
    if (n_why) {
        line(&l, "BLOCKED BY COMPLIANCE (%zu)", n_why);
        for (size_t i = 0; i < n_why; i++)
            line(&l, "  - %s", why[i]);
    } else if (is_gated) {
        line(&l, "Gate       passes: no blocking case, both parties' KYC current");
    }
    for (size_t i = 0; i < n_why; i++)
        free(why[i]);
    free(why);
    if (l.rc < 0) {
        err_set(e, ERR_NOMEM, "out of memory building the approval card");
        goto fail;
    }
    *out = l.v;
    *n_out = l.n;
    return 0;
fail:
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i]);
    free(l.v);
    return -1;
}
