/* projection.c: the escrow state machine of contracts/src/Escrow.sol and EscrowV2.sol,
 * driven by their events: Created -> Funded -> Released | Refunded, Funded -> Disputed ->
 * Resolved (to payee or payer); version 2 also Disputed -> Refunded (the payer, after the
 * dispute window), ArbiterChanged and Swept (no state change). A transition the machine
 * cannot make from the state the events proved is not applied: the escrow is marked
 * inconsistent and its state stops there. Pure. */
#include "sync/projection.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void anomaly(store_escrow *x, const store_event *ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void anomaly(store_escrow *x, const store_event *ev, const char *fmt, ...)
{
    if (x->anomaly[0])
        return; /* the first one explains the most */
    char what[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(x->anomaly, sizeof x->anomaly, "block %llu log %u: %s",
             (unsigned long long)ev->block_number, ev->log_index, what);
}

void escrow_fold_init(store_escrow *x, uint64_t chain_id, const addr *escrow)
{
    memset(x, 0, sizeof *x);
    x->chain_id = chain_id;
    x->address = *escrow;
    x->state = ESCROW_CREATED;
}

static void add(store_escrow *x, const store_event *ev, u256 *acc, const abi_field *amount)
{
    if (!amount)
        return;
    u256 sum;
    if (u256_add(&sum, acc, &amount->u) < 0) {
        anomaly(x, ev, "amounts overflow 256 bits");
        return;
    }
    *acc = sum;
}

/* Whether the event `name` may happen in the state the events proved so far (want, or
 * also want2 when it is not -1). When not, the escrow becomes inconsistent: the state is
 * not moved (neither now nor by a later event) and the anomaly says which event did not
 * fit. Returns whether the transition may be applied. */
static bool expect_state(store_escrow *x, const store_event *ev, escrow_state want, int want2,
                         const char *name)
{
    if (x->inconsistent)
        return false;
    if (x->state == want || (want2 >= 0 && x->state == (escrow_state)want2))
        return true;
    x->inconsistent = true;
    x->anomaly[0] = '\0'; /* this one explains the state: it replaces an earlier note */
    if (want2 >= 0)
        anomaly(x, ev, "inconsistent: %s while %s (expected %s or %s)", name,
                escrow_state_str(x->state), escrow_state_str(want),
                escrow_state_str((escrow_state)want2));
    else
        anomaly(x, ev, "inconsistent: %s while %s (expected %s)", name,
                escrow_state_str(x->state), escrow_state_str(want));
    return false;
}

static void on_created(store_escrow *x, const store_event *ev, const sync_decoded *d)
{
    if (x->created_block || x->n_events > 1) {
        anomaly(x, ev, "EscrowCreated is not the escrow's first event");
        if (x->created_block)
            return;
    }
    x->factory = ev->address;
    x->payer = sync_field(d, "payer")->a;
    x->payee = sync_field(d, "payee")->a;
    x->token = sync_field(d, "token")->a;
    x->amount = sync_field(d, "amount")->u;
    x->arbiter = sync_field(d, "arbiter")->a;
    const abi_field *ap = sync_field(d, "approvers");
    size_t n = ap->len;
    if (n > STORE_MAX_APPROVERS) {
        anomaly(x, ev, "%zu approvers, more than %d", n, STORE_MAX_APPROVERS);
        n = STORE_MAX_APPROVERS;
    }
    for (size_t i = 0; i < n; i++)
        sync_field_array_addr(ap, i, &x->approvers[i]);
    x->n_approvers = (unsigned)n;
    uint64_t t = 0;
    if (!u256_to_u64(&sync_field(d, "threshold")->u, &t) || t > STORE_MAX_APPROVERS) {
        anomaly(x, ev, "threshold out of range");
        t = STORE_MAX_APPROVERS;
    }
    x->threshold = (unsigned)t;
    uint64_t dl = 0;
    (void)u256_to_u64(&sync_field(d, "deadline")->u, &dl); /* uint64 by decoding */
    x->deadline = dl;
    x->created_arbiter = x->arbiter;
    x->version = d->kind == EV_ESCROW_CREATED_V2 ? 2 : 1;
    if (x->version == 2) {
        uint64_t w = 0;
        (void)u256_to_u64(&sync_field(d, "disputeWindow")->u, &w); /* uint64 by decoding */
        x->dispute_window = w;
        memcpy(x->terms_hash, sync_field(d, "termsHash")->b32, 32);
    }
    x->created_block = ev->block_number;
    memcpy(x->created_tx, ev->tx_hash, 32);
    x->state = ESCROW_CREATED;
}

static void on_approved(store_escrow *x, const store_event *ev, const sync_decoded *d,
                        uint64_t final_block)
{
    /* An approval moves no state: it is recorded as the chain says, but one outside
     * Funded still makes the escrow inconsistent. */
    (void)expect_state(x, ev, ESCROW_FUNDED, -1, "Approved");
    const addr *who = &sync_field(d, "approver")->a;
    bool listed = false;
    for (unsigned i = 0; i < x->n_approvers; i++)
        if (memcmp(x->approvers[i].b, who->b, ADDR_LEN) == 0)
            listed = true;
    if (!listed)
        anomaly(x, ev, "approval by an address that is not an approver");
    for (unsigned i = 0; i < x->n_approvals; i++) {
        if (memcmp(x->approvals[i].approver.b, who->b, ADDR_LEN) == 0) {
            anomaly(x, ev, "second approval by the same approver");
            return;
        }
    }
    if (x->n_approvals >= STORE_MAX_APPROVERS) {
        anomaly(x, ev, "more approvals than approvers");
        return;
    }
    store_approval *a = &x->approvals[x->n_approvals++];
    a->approver = *who;
    a->block_number = ev->block_number;
    memcpy(a->tx_hash, ev->tx_hash, 32);
    a->log_index = ev->log_index;
    a->pending = ev->block_number > final_block;
    uint64_t count = 0;
    if (!u256_to_u64(&sync_field(d, "approvals")->u, &count) || count != x->n_approvals)
        anomaly(x, ev, "the contract counts %s approvals, the events %u", count ? "other" : "0",
                x->n_approvals);
}

void escrow_fold(store_escrow *x, const store_event *ev, const sync_decoded *d,
                 uint64_t final_block)
{
    x->n_events++;
    x->last_event_block = ev->block_number;
    if (ev->block_number > final_block)
        x->pending = true;
    if (!sync_is_escrow_created(d->kind) && !x->created_block && d->kind != EV_NONE)
        anomaly(x, ev, "%s before EscrowCreated", d->name);
    switch (d->kind) {
    case EV_ESCROW_CREATED:
    case EV_ESCROW_CREATED_V2:
        on_created(x, ev, d);
        break;
    case EV_FUNDED: {
        const abi_field *amt = sync_field(d, "amount");
        if (!expect_state(x, ev, ESCROW_CREATED, -1, "Funded"))
            break;
        if (u256_cmp(&amt->u, &x->amount) != 0)
            anomaly(x, ev, "funded with an amount other than the escrow's");
        add(x, ev, &x->funded, amt);
        x->state = ESCROW_FUNDED;
        break;
    }
    case EV_APPROVED:
        on_approved(x, ev, d, final_block);
        break;
    case EV_RELEASED:
        if (!expect_state(x, ev, ESCROW_FUNDED, -1, "Released"))
            break;
        if (memcmp(sync_field(d, "to")->a.b, x->payee.b, ADDR_LEN) != 0)
            anomaly(x, ev, "released to an address other than the payee");
        add(x, ev, &x->released, sync_field(d, "amount"));
        x->state = ESCROW_RELEASED;
        break;
    case EV_REFUNDED:
        /* Version 2: the payer's refund of a dispute that outlived its window. */
        if (!expect_state(x, ev, ESCROW_FUNDED, x->version == 2 ? (int)ESCROW_DISPUTED : -1,
                          "Refunded"))
            break;
        /* Version 2: once the approvals reached the threshold only release ends it. */
        if (x->version == 2 && x->state == ESCROW_FUNDED && x->n_approvals >= x->threshold) {
            x->inconsistent = true;
            x->anomaly[0] = '\0';
            anomaly(x, ev, "inconsistent: Refunded after the threshold was reached");
            break;
        }
        if (memcmp(sync_field(d, "to")->a.b, x->payer.b, ADDR_LEN) != 0)
            anomaly(x, ev, "refunded to an address other than the payer");
        if (x->state == ESCROW_DISPUTED &&
            memcmp(sync_field(d, "by")->a.b, x->payer.b, ADDR_LEN) != 0)
            anomaly(x, ev, "a disputed escrow refunded by someone other than the payer");
        add(x, ev, &x->refunded, sync_field(d, "amount"));
        x->state = ESCROW_REFUNDED;
        break;
    case EV_DISPUTED:
        if (!expect_state(x, ev, ESCROW_FUNDED, -1, "Disputed"))
            break;
        /* Version 2: the payer may not dispute once the threshold is reached. */
        if (x->version == 2 && x->n_approvals >= x->threshold &&
            memcmp(sync_field(d, "by")->a.b, x->payer.b, ADDR_LEN) == 0) {
            x->inconsistent = true;
            x->anomaly[0] = '\0';
            anomaly(x, ev, "inconsistent: Disputed by the payer after the threshold");
            break;
        }
        x->state = ESCROW_DISPUTED;
        break;
    case EV_RESOLVED: {
        if (!expect_state(x, ev, ESCROW_DISPUTED, -1, "Resolved"))
            break;
        bool to_payee = !u256_is_zero(&sync_field(d, "toPayee")->u);
        const addr *want = to_payee ? &x->payee : &x->payer;
        if (memcmp(sync_field(d, "to")->a.b, want->b, ADDR_LEN) != 0)
            anomaly(x, ev, "resolved to an address that is not the %s",
                    to_payee ? "payee" : "payer");
        add(x, ev, to_payee ? &x->released : &x->refunded, sync_field(d, "amount"));
        x->resolved_to_payee = to_payee;
        x->state = ESCROW_RESOLVED;
        break;
    }
    case EV_ARBITER_CHANGED:
        /* Version 2 only; by the current arbiter, while not terminal. */
        if (x->version != 2) {
            anomaly(x, ev, "ArbiterChanged from a version-1 escrow");
            break;
        }
        if (x->state != ESCROW_CREATED && x->state != ESCROW_FUNDED &&
            x->state != ESCROW_DISPUTED) {
            (void)expect_state(x, ev, ESCROW_FUNDED, -1, "ArbiterChanged");
            break;
        }
        if (memcmp(sync_field(d, "previous")->a.b, x->arbiter.b, ADDR_LEN) != 0)
            anomaly(x, ev, "ArbiterChanged from an address that is not the arbiter");
        x->arbiter = sync_field(d, "next")->a;
        break;
    case EV_SWEPT:
        /* Stray funds to the payer while nothing is committed: no state change. */
        if (x->version != 2) {
            anomaly(x, ev, "Swept from a version-1 escrow");
            break;
        }
        if (x->state == ESCROW_FUNDED || x->state == ESCROW_DISPUTED) {
            x->inconsistent = true;
            x->anomaly[0] = '\0';
            anomaly(x, ev, "inconsistent: Swept while %s", escrow_state_str(x->state));
        }
        if (memcmp(sync_field(d, "to")->a.b, x->payer.b, ADDR_LEN) != 0)
            anomaly(x, ev, "swept to an address other than the payer");
        break;
    default:
        anomaly(x, ev, "an event that is not an escrow event%s%s", ev->name[0] ? ": " : "",
                ev->name);
        break;
    }
}

void escrow_project(const store_event *events, size_t n, uint64_t chain_id, const addr *escrow,
                    uint64_t final_block, store_escrow *x, bool *created)
{
    escrow_fold_init(x, chain_id, escrow);
    *created = false;
    for (size_t i = 0; i < n; i++) {
        const store_event *ev = &events[i];
        bool own = memcmp(ev->address.b, escrow->b, ADDR_LEN) == 0;
        sync_decoded d;
        err e;
        if (sync_event_decode(own ? STORE_CONTRACT_ESCROW : STORE_CONTRACT_FACTORY, ev->topics,
                              ev->n_topics, ev->data, ev->data_len, &d, &e) < 0)
            memset(&d, 0, sizeof d);
        /* A factory log about another escrow does not belong here. */
        if (sync_is_escrow_created(d.kind) &&
            memcmp(sync_field(&d, "escrow")->a.b, escrow->b, ADDR_LEN) != 0)
            continue;
        if (!own && !sync_is_escrow_created(d.kind))
            memset(&d, 0, sizeof d);
        if (sync_is_escrow_created(d.kind))
            *created = true;
        escrow_fold(x, ev, &d, final_block);
    }
}
