/* card.c: the approval card (see desk.h): everything a checker needs to decide on one
 * escrow action, on one screen, from the desk database: the parties by name and address,
 * the amount exactly and in USD, who approved and the count after this signature, the
 * policy's decision, each party's compliance state, the deadline, and every reason the
 * compliance gate would refuse. The UI shows it in the Approvals detail pane and above
 * the passphrase prompt; the action is signed only after it was shown. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/amount.h"
#include "base/bytes.h"
#include "base/datafile.h"
#include "base/fsperm.h"
#include "compliance/compliance.h"
#include "desk/desk.h"
#include "desk/names.h"
#include "risk/service.h"

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

/* The desk's latest observed oracle price of an asset (the rounds the risk service
 * recorded) in USD per whole unit with 8 decimals, and when the oracle updated it: the
 * chain's feed of the symbol, else of the unwrapped name (WETH: ETH). An answer outside the
 * risk service's plausible range (risk_price_ok: a feed answering 1e30 USD) is no price:
 * *refused says so, and the card shows no USD value for it. */
static bool observed_price(store *s, uint64_t chain_id, const char *symbol, u256 *price_e8,
                           int64_t *updated, bool *refused)
{
    *refused = false;
    store_feed *fs = NULL;
    size_t n = 0;
    err e;
    bool ok = false;
    if (store_feed_list(s, chain_id, &fs, &n, &e) < 0)
        return false;
    const store_feed *f = NULL;
    const char *names[2] = {symbol, symbol[0] == 'W' && symbol[1] ? symbol + 1 : NULL};
    for (int k = 0; k < 2 && !f; k++)
        for (size_t i = 0; names[k] && i < n && !f; i++)
            if (strcmp(fs[i].asset, names[k]) == 0)
                f = &fs[i];
    store_price_obs *obs = NULL;
    size_t no = 0;
    if (f && store_price_obs_list(s, chain_id, &f->address, &obs, &no, &e) == 0 && no &&
        obs[no - 1].answer[0] != '-' && u256_from_dec(price_e8, obs[no - 1].answer, &e) == 0 &&
        !u256_is_zero(price_e8)) {
        ok = risk_feed_usd_e8(price_e8, f->decimals, price_e8, refused);
        *updated = obs[no - 1].updated_at;
    }
    free(obs);
    free(fs);
    return ok;
}

static int read_text(const char *path, char **out, size_t *len, err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
    buf b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(&b, chunk, n, e);
    if (rc == 0 && ferror(f))
        rc = err_set(e, ERR_IO, "cannot read %s", path);
    fclose(f);
    if (rc == 0 && buf_push(&b, 0, e) < 0)
        rc = -1;
    if (rc < 0) {
        buf_free(&b);
        return -1;
    }
    *out = (char *)b.data;
    *len = b.len - 1;
    return 0;
}

/* The policy the desk acts by (home/policy.conf, else the shipped default), accepted as
 * the desk accepts it (audit_config_check); read only: nothing is created or audited. */
static int card_policy_load(const char *home, policy **out, err *e)
{
    char path[4200], dpath[4200];
    char *text = NULL, *dflt = NULL;
    size_t len = 0, dlen = 0;
    int rc = -1;
    snprintf(path, sizeof path, "%s/policy.conf", home);
    err de;
    if (datafile_find("policy/default.policy", dpath, sizeof dpath, &de) < 0 ||
        read_text(dpath, &dflt, &dlen, &de) < 0)
        dflt = NULL;
    bool exists = access(path, F_OK) == 0;
    if (exists) {
        if (fsperm_check_private(path, "desk policy", e) < 0 || read_text(path, &text, &len, e) < 0)
            goto out;
    } else if (!dflt) {
        err_set(e, ERR_NOT_FOUND, "no policy at %s", path);
        goto out;
    }
    if (audit_config_check(home, "policy", exists ? text : dflt, exists ? len : dlen, true, dflt,
                           dlen, e) < 0)
        goto out;
    rc = policy_parse(out, exists ? text : dflt, exists ? len : dlen, e);
out:
    free(text);
    free(dflt);
    return rc;
}

void desk_card_policy(store *s, const char *home, const char *operator_name, unsigned roles,
                      uint64_t chain_id, const addr *escrow, const char *action, char *out,
                      size_t cap)
{
    policy *pol = NULL;
    store_escrow x;
    store_chain ch;
    bool found = false, chfound = false;
    err e;
    err_clear(&e);
    if (store_escrow_get(s, chain_id, escrow, &x, &found, &e) < 0 ||
        store_chain_get(s, chain_id, &ch, &chfound, &e) < 0 || card_policy_load(home, &pol, &e) < 0) {
        snprintf(out, cap, "not evaluated here (%.200s): decided when you act", e.msg);
        goto out;
    }
    if (!found || !chfound) {
        snprintf(out, cap, "decided when you act (the escrow or its chain is not in the desk)");
        goto out;
    }
    desk_asset a;
    asset_from_store(s, &x, &a);
    policy_request r;
    memset(&r, 0, sizeof r);
    r.operator_name = operator_name;
    r.roles = roles;
    r.action = action;
    r.chain = ch.name;
    r.asset_symbol = strcmp(a.symbol, "units") != 0 ? a.symbol : NULL;
    r.asset = x.token;
    r.decimals = a.decimals;
    r.amount = x.amount;
    r.has_counterparty = true;
    r.counterparty = x.payee;
    r.threshold = x.threshold;
    policy_decision dec;
    if (store_desk_spent(s, operator_name, chain_id, &x.token, action, (int64_t)time(NULL) - 86400,
                         0, &r.spent_24h, &e) < 0 ||
        policy_evaluate(pol, &r, &dec, &e) < 0) {
        snprintf(out, cap, "not evaluated here (%.200s): decided when you act", e.msg);
        goto out;
    }
    if (dec.line)
        snprintf(out, cap, "%s by line %u of policy.conf: %.220s (for %s; checked again when you act)",
                 policy_outcome_str(dec.outcome), dec.line, dec.reason, operator_name);
    else
        snprintf(out, cap, "%s by the built-in default: %.220s (for %s; checked again when you act)",
                 policy_outcome_str(dec.outcome), dec.reason, operator_name);
out:
    policy_free(&pol);
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
    int64_t observed = 0; /* the price is the desk's latest observed round, of that time */
    bool refused = false;
    if (asset) {
        a = *asset;
    } else {
        asset_from_store(s, &x, &a);
        a.has_usd = observed_price(s, chain_id, a.symbol, &a.usd_price_e8, &observed, &refused);
    }
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
    char usd[U256_DEC_MAX + 160] = "";
    if (a.has_usd && usd_of(usd, sizeof usd - 80, &x.amount, a.decimals, &a.usd_price_e8)) {
        memmove(usd + 5, usd, strlen(usd) + 1), memcpy(usd, " = $ ", 5);
        time_t t = (time_t)observed;
        struct tm tm;
        size_t o = strlen(usd);
        if (observed > 0 && gmtime_r(&t, &tm))
            strftime(usd + o, sizeof usd - o, " (oracle price of %Y-%m-%d %H:%M UTC)", &tm);
    } else if (refused)
        snprintf(usd, sizeof usd, " (no USD price: the oracle's answer is out of range)");
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
