/* projection.c: the escrow state machine of contracts/src/Escrow.sol, driven by
 * its events: Created -> Funded -> Released | Refunded, Funded -> Disputed ->
 * Resolved (to payee or payer). Pure. */
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

static void expect_state(store_escrow *x, const store_event *ev, escrow_state want,
                         const char *name)
{
    if (x->state != want)
        anomaly(x, ev, "%s while %s (expected %s)", name, escrow_state_str(x->state),
                escrow_state_str(want));
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
    x->created_block = ev->block_number;
    memcpy(x->created_tx, ev->tx_hash, 32);
    x->state = ESCROW_CREATED;
}

static void on_approved(store_escrow *x, const store_event *ev, const sync_decoded *d,
                        uint64_t final_block)
{
    expect_state(x, ev, ESCROW_FUNDED, "Approved");
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
    if (d->kind != EV_ESCROW_CREATED && !x->created_block && d->kind != EV_NONE)
        anomaly(x, ev, "%s before EscrowCreated", d->name);
    switch (d->kind) {
    case EV_ESCROW_CREATED:
        on_created(x, ev, d);
        break;
    case EV_FUNDED: {
        expect_state(x, ev, ESCROW_CREATED, "Funded");
        const abi_field *amt = sync_field(d, "amount");
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
        expect_state(x, ev, ESCROW_FUNDED, "Released");
        if (memcmp(sync_field(d, "to")->a.b, x->payee.b, ADDR_LEN) != 0)
            anomaly(x, ev, "released to an address other than the payee");
        add(x, ev, &x->released, sync_field(d, "amount"));
        x->state = ESCROW_RELEASED;
        break;
    case EV_REFUNDED:
        expect_state(x, ev, ESCROW_FUNDED, "Refunded");
        if (memcmp(sync_field(d, "to")->a.b, x->payer.b, ADDR_LEN) != 0)
            anomaly(x, ev, "refunded to an address other than the payer");
        add(x, ev, &x->refunded, sync_field(d, "amount"));
        x->state = ESCROW_REFUNDED;
        break;
    case EV_DISPUTED:
        expect_state(x, ev, ESCROW_FUNDED, "Disputed");
        x->state = ESCROW_DISPUTED;
        break;
    case EV_RESOLVED: {
        expect_state(x, ev, ESCROW_DISPUTED, "Resolved");
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
        if (d.kind == EV_ESCROW_CREATED &&
            memcmp(sync_field(&d, "escrow")->a.b, escrow->b, ADDR_LEN) != 0)
            continue;
        if (!own && d.kind != EV_ESCROW_CREATED)
            memset(&d, 0, sizeof d);
        if (d.kind == EV_ESCROW_CREATED)
            *created = true;
        escrow_fold(x, ev, &d, final_block);
    }
}
