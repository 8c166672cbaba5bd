/* pretrade.c: the risk check before the desk signs a move of its own book: an escrow
 * create/fund (the value locked with the payee), a release (it leaves the book) and a
 * bridge burn (it moves to the destination chain, or leaves the book when the recipient
 * is no desk account). The book is the risk service's snapshot (no alert raised or
 * cleared), the figures risk_pretrade_check's. Only a desk with its own limits file
 * (<home>/risk-limits.csv) is checked: the shipped defaults raise alerts, they do not
 * refuse a signature. A breach is refused with the numbers, unless a risk officer
 * overrides it with a reason (desk_set_risk_override): a signed `risk.override` audit row
 * with the numbers, and a line in the pre-sign summary. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/amount.h"
#include "desk/desk_internal.h"
#include "risk/service.h"
#include "sync/bridge_legs.h"

void desk_set_risk_override(desk *d, const char *reason)
{
    snprintf(d->risk_override, sizeof d->risk_override, "%s", reason ? reason : "");
}

int desk_pretrade_move(desk *d, const char *action, const risk_move *m, const addr *recipient,
                       err *e)
{
    d->risk_note[0] = '\0';
    char path[4200];
    int k = snprintf(path, sizeof path, "%s/risk-limits.csv", d->home);
    if (k < 0 || (size_t)k >= sizeof path || access(path, F_OK) != 0)
        return 0; /* no limits of the desk's own: nothing to refuse by */
    risk_service_opts o;
    risk_service_opts_default(&o);
    o.home = d->home;
    o.no_alert_sync = true;
    o.bridges = sync_bridge_book_list; /* the report's value in flight, on a server book too */
    o.params.mc.paths = 200; /* the check reads the historical VaR only: no Monte Carlo run */
    risk_snapshot *s = NULL;
    if (risk_service_refresh(d->db, &o, &s, e) < 0)
        return err_prefix(e, "the pre-trade risk check cannot read the book; nothing was signed");
    risk_move mv = *m;
    if (recipient) {
        /* a bridge to an address that is no desk account takes the value off the book */
        bool mine = false;
        for (size_t i = 0; i < s->n_accounts && !mine; i++)
            mine = addr_equal(&s->accounts[i], recipient);
        if (!mine) {
            mv.leaves_book = true;
            mv.to_chain_id = 0;
        }
    }
    risk_pretrade r;
    int rc = risk_pretrade_check(s, &mv, &r, e);
    char amt[AMOUNT_STR_MAX], line[1200];
    amount_format(amt, &m->amount, m->decimals);
    if (rc == 0 && !r.priced)
        snprintf(line, sizeof line, "%s of %s %s: no price for %s, so the concentration and VaR "
                 "limits cannot be checked (add a feed: fusion asset add-feed)",
                 action, amt, m->asset, m->asset);
    else if (rc == 0 && r.n_breach) {
        char b[900];
        risk_pretrade_format(b, sizeof b, &r);
        snprintf(line, sizeof line, "%s of %s %s (%.2f USD est.; gross after %.2f USD) breaches "
                 "%.900s", action, amt, m->asset, r.usd, r.gross_after, b);
    }
    bool refuse = rc == 0 && (!r.priced || r.n_breach);
    if (refuse && !d->risk_override[0])
        rc = err_set(e, ERR_DENIED, "%s; nothing signed: a risk officer may override with "
                     "--override REASON", line);
    else if (refuse && !(d->roles & DESK_ROLE_risk))
        rc = err_set(e, ERR_DENIED, "operator \"%.63s\" lacks the risk role: only a risk officer "
                     "overrides the risk limits; nothing signed (%s)", d->op.name, line);
    else if (refuse) {
        json_t *det = json_pack("{s:s, s:s, s:s, s:s, s:s}", "action", action, "asset", m->asset,
                                "amount", amt, "reason", d->risk_override, "check", line);
        json_t *arr = json_array();
        for (size_t i = 0; det && arr && i < r.n_breach; i++) {
            const risk_breach *b = &r.breach[i];
            json_array_append_new(arr, json_pack("{s:s, s:s, s:f, s:f, s:f}", "limit",
                                                 risk_breach_kind_str(b->kind), "name", b->name,
                                                 "before", b->before, "after", b->after, "limit_value",
                                                 b->limit));
        }
        if (det && arr)
            json_object_set_new(det, "breaches", arr);
        else
            json_decref(arr);
        rc = det ? store_audit(d->db, d->home, d->op.name, "risk.override", det, e)
                 : err_set(e, ERR_NOMEM, "out of memory");
        json_decref(det);
        if (rc == 0)
            snprintf(d->risk_note, sizeof d->risk_note, "RISK OVERRIDE by %.63s (%.200s): %.600s",
                     d->op.name, d->risk_override, line);
    }
    risk_snapshot_free(&s);
    return rc;
}

int desk_pretrade_check(desk *d, const char *action, const desk_asset *asset, const u256 *amount,
                        const addr *to_counterparty, const addr *from_counterparty, err *e)
{
    risk_move m;
    memset(&m, 0, sizeof m);
    m.asset = asset->symbol;
    m.amount = *amount;
    m.decimals = asset->decimals;
    m.from_chain_id = d->chain.chain_id;
    if (to_counterparty) {
        m.to_counterparty = true;
        m.counterparty_to = *to_counterparty;
    }
    if (from_counterparty) {
        m.leaves_book = true;
        m.from_counterparty = true;
        m.counterparty_from = *from_counterparty;
    }
    return desk_pretrade_move(d, action, &m, NULL, e);
}
