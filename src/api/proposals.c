/* proposals.c: what a person does with a proposal (the CLI's `fusion proposal accept|
 * reject` and the UI's Approvals queue call these; the server never does). Accepting runs
 * the desk's own pipeline as that operator: the same checks again, the policy, screening,
 * the pre-sign summary and their key; rejecting is a signed decision. */
#include "api/api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/amount.h"
#include "bridge/bridge.h"
#include "desk/escrow_input.h"

/* A payment proposal is accepted in the transaction that records its signed payment
 * (desk_pay_req.hold): a crash after the send cannot leave it pending, to be paid twice. */
typedef struct accept_hold {
    const char *home, *operator_name, *client;
    int64_t id;
} accept_hold;

static int accept_in_send(void *ctx, store *db, int64_t outbound_id, const uint8_t *raw,
                             size_t len, const uint8_t hash[32], err *e)
{
    (void)raw;
    (void)len;
    (void)hash;
    const accept_hold *h = ctx;
    bool moved = false;
    if (store_proposal_decide(db, h->id, "accepted", h->operator_name, NULL, NULL, outbound_id,
                              (int64_t)time(NULL), &moved, e) < 0)
        return -1;
    if (!moved)
        return err_set(e, ERR_STATE, "proposal %lld was decided meanwhile: nothing sent",
                       (long long)h->id);
    json_t *det = json_pack("{s:I, s:s, s:I}", "proposal", (json_int_t)h->id, "client",
                            h->client, "outbound_id", (json_int_t)outbound_id);
    int rc = store_audit(db, h->home, h->operator_name, "proposal.accept", det, e);
    json_decref(det);
    return rc;
}

int api_proposal_accept(desk *d, const char *home, int64_t id, desk_result *res, err *e)
{
    store *db = desk_store(d);
    store_proposal *pr = malloc(sizeof *pr);
    if (!pr)
        return err_set(e, ERR_NOMEM, "out of memory");
    bool found = false;
    int rc = store_proposal_get(db, id, pr, &found, e);
    if (rc == 0 && !found)
        rc = err_set(e, ERR_NOT_FOUND, "no proposal %lld (see fusion proposal list)",
                     (long long)id);
    if (rc == 0 && strcmp(pr->state, "pending") != 0)
        rc = err_set(e, ERR_STATE, "proposal %lld is %s, not pending", (long long)id, pr->state);
    if (rc == 0 && strcmp(pr->kind, "bridge") == 0)
        rc = err_set(e, ERR_STATE, "proposal %lld is a bridge transfer: accept bridge proposals "
                     "with fusion proposal accept %lld", (long long)id, (long long)id);
    bool payment = rc == 0 && strcmp(pr->kind, "payment") == 0;
    if (rc == 0 && !payment && strcmp(pr->kind, "escrow") != 0)
        rc = err_set(e, ERR_STATE, "proposal %lld is a %s: only escrow and payment proposals "
                     "can be accepted", (long long)id, pr->kind);
    api_escrow_req r;
    api_problem p;
    if (rc == 0 && (payment ? api_payment_req_parse(&r, pr->body, strlen(pr->body), &p)
                            : api_escrow_req_parse(&r, pr->body, strlen(pr->body), &p)) < 0)
        rc = err_set(e, ERR_INVALID, "proposal %lld no longer reads: %s", (long long)id,
                     p.detail);
    store_chain ch;
    if (rc == 0 && (store_chain_get(db, pr->chain_id, &ch, &found, e) < 0 || !found))
        rc = found ? -1 : err_set(e, ERR_NOT_FOUND, "the chain of proposal %lld is no longer "
                                  "configured", (long long)id);
    if (rc == 0)
        rc = desk_use_chain(d, ch.name, NULL, e);
    desk_create_req cr;
    memset(&cr, 0, sizeof cr);
    char human[AMOUNT_STR_MAX];
    if (rc == 0) {
        addr token;
        unsigned decimals = 0;
        bool known = false;
        u256 amount;
        if (desk_asset_lookup(db, ch.chain_id, r.token, &token, &decimals, &known, e) < 0 ||
            u256_from_dec(&amount, r.amount, e) < 0)
            rc = -1;
        else if (!known)
            rc = err_set(e, ERR_INVALID, "the desk has no decimals for token %.60s", r.token);
        else
            amount_format(human, &amount, decimals);
        cr.token = r.token;
        cr.amount = human;
    }
    if (rc == 0 && desk_party_parse(db, r.payee, &cr.payee, e) < 0)
        rc = err_prefix(e, "payee");
    if (rc == 0 && payment) {
        /* a payment: the desk's pay action as this operator */
        accept_hold h = {home, desk_operator(d)->name, pr->client, id};
        desk_pay_req pq = {.token = cr.token,
                           .amount = cr.amount,
                           .payee = cr.payee,
                           .hold = accept_in_send,
                           .hold_ctx = &h};
        rc = desk_pay(d, &pq, res, e);
        free(pr);
        return rc;
    }
    for (unsigned i = 0; rc == 0 && i < r.n_approvers; i++)
        if (desk_party_parse(db, r.approvers[i], &cr.approvers[i], e) < 0)
            rc = err_prefix(e, "approvers");
    cr.n_approvers = r.n_approvers;
    cr.threshold = r.threshold;
    cr.dispute_window = r.dispute_window;
    if (rc == 0 && r.arbiter[0]) {
        cr.has_arbiter = true;
        if (desk_party_parse(db, r.arbiter, &cr.arbiter, e) < 0)
            rc = err_prefix(e, "arbiter");
    }
    if (rc == 0 && desk_deadline_parse(r.deadline, (uint64_t)time(NULL), &cr.deadline, e) < 0)
        rc = err_prefix(e, "deadline");
    /* The proposal is marked accepted in the transaction that records the signed create,
     * before it is sent: two people accepting it at once, or a second accept after a crash,
     * find it decided and send nothing. */
    accept_hold h = {home, desk_operator(d)->name, pr->client, id};
    cr.hold = accept_in_send;
    cr.hold_ctx = &h;
    if (rc == 0)
        rc = desk_escrow_create(d, &cr, res, e);
    if (rc == 0 && res->has_escrow) {
        char esc[ADDR_STR_MAX];
        addr_to_lower(esc, &res->escrow);
        if (store_proposal_set_escrow(db, id, esc, e) < 0)
            rc = err_prefix(e, "the escrow %s was created, but recording it on the proposal "
                            "failed", esc);
    }
    free(pr);
    return rc;
}

typedef struct bridge_hold {
    const char *home;
    const char *client;
    int64_t id;
} bridge_hold;

static int accept_on_burn(void *ctx, store *db, int64_t transfer_id, const char *operator_name,
                          err *e)
{
    const bridge_hold *h = ctx;
    bool moved = false;
    if (store_proposal_decide(db, h->id, "accepted", operator_name, NULL, NULL, 0,
                              (int64_t)time(NULL), &moved, e) < 0)
        return -1;
    if (!moved)
        return err_set(e, ERR_STATE, "proposal %lld was decided meanwhile: nothing sent",
                       (long long)h->id);
    json_t *det = json_pack("{s:I, s:s, s:I}", "proposal", (json_int_t)h->id, "client",
                            h->client, "bridge", (json_int_t)transfer_id);
    int rc = store_audit(db, h->home, operator_name, "proposal.accept", det, e);
    json_decref(det);
    return rc;
}

int api_proposal_accept_bridge(const bridge_env *env, int64_t id, int64_t *bridge_id, err *e)
{
    *bridge_id = 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", env->home);
    store *db = NULL;
    store_proposal *pr = malloc(sizeof *pr);
    if (!pr)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = store_open(&db, path, e);
    bool found = false;
    if (rc == 0)
        rc = store_proposal_get(db, id, pr, &found, e);
    if (rc == 0 && !found)
        rc = err_set(e, ERR_NOT_FOUND, "no proposal %lld (see fusion proposal list)",
                     (long long)id);
    if (rc == 0 && strcmp(pr->state, "pending") != 0)
        rc = err_set(e, ERR_STATE, "proposal %lld is %s, not pending", (long long)id, pr->state);
    if (rc == 0 && strcmp(pr->kind, "bridge") != 0)
        rc = err_set(e, ERR_STATE, "proposal %lld is a %s, not a bridge transfer", (long long)id,
                     pr->kind);
    api_escrow_req r;
    api_problem p;
    if (rc == 0 && api_bridge_req_parse(&r, pr->body, strlen(pr->body), &p) < 0)
        rc = err_set(e, ERR_INVALID, "proposal %lld no longer reads: %s", (long long)id,
                     p.detail);
    /* the route priced again now; the amount is the proposal's, in the route's base units */
    bridge_quote q;
    if (rc == 0 && bridge_route_quote(db, r.route, r.chain, r.to, r.token, "1", &q, e) < 0)
        rc = err_prefix(e, "proposal %lld", (long long)id);
    if (rc == 0 && (u256_from_dec(&q.amount, r.amount, e) < 0 || u256_is_zero(&q.amount)))
        rc = e->code != ERR_OK ? -1
                               : err_set(e, ERR_INVALID, "proposal %lld moves nothing",
                                         (long long)id);
    addr rcpt;
    if (rc == 0 && desk_party_parse(db, r.payee, &rcpt, e) < 0)
        rc = err_prefix(e, "recipient");
    /* the desk's bridge send as this operator: policy, screening, summary, their key. The
     * proposal is marked accepted in the transaction that records the signed burn, before
     * it is sent: two people accepting it at once, or a second accept after a crash, find
     * it decided and send nothing. */
    bridge_hold bh = {env->home, pr->client, id};
    bridge_env env2 = *env;
    env2.on_burn = accept_on_burn;
    env2.on_burn_ctx = &bh;
    int sent = rc;
    if (rc == 0)
        sent = bridge_send(&env2, &q, &rcpt, bridge_id, e); /* either route, by q.protocol */
    if (rc == 0)
        rc = sent;
    store_close(&db);
    free(pr);
    return rc;
}

int api_proposal_reject(store *s, const char *home, const char *by, int64_t id,
                        const char *reason, err *e)
{
    if (!reason || !*reason)
        return err_set(e, ERR_INVALID, "a rejection names its reason");
    json_t *det = json_pack("{s:I, s:s}", "proposal", (json_int_t)id, "reason", reason);
    if (!det)
        return err_set(e, ERR_NOMEM, "out of memory");
    bool moved = false;
    int rc = store_begin(s, e);
    if (rc == 0) {
        if (store_proposal_decide(s, id, "rejected", by, reason, NULL, 0, (int64_t)time(NULL),
                                  &moved, e) < 0)
            rc = -1;
        else if (!moved)
            rc = err_set(e, ERR_STATE, "proposal %lld is not pending (see fusion proposal show "
                         "%lld)", (long long)id, (long long)id);
        else if (store_audit(s, home, by, "proposal.reject", det, e) < 0 ||
                 store_commit(s, e) < 0)
            rc = -1;
        if (rc < 0)
            store_rollback(s);
    }
    json_decref(det);
    return rc;
}
