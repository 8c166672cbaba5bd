/* xswap.h: cross-chain settlement by hashed-timelock contracts (HashedTimelock on two
 * chains). The initiator locks amount_x on chain X with H = sha256(secret) until T1; the
 * counterparty locks amount_y on chain Y with the same H until T2, and only when
 * T2 + margin <= T1 (checked, refused otherwise); the initiator claims on Y, which reveals
 * the secret; the workstation reads it from Y's Claimed event and claims on X for the
 * counterparty. After the timelocks, refunds. Each swap's state machine is in the desk
 * (store_xswap) with the signed transaction in flight, so a crashed process resumes
 * exactly where it stopped. Every transaction is signed through the desk's pipeline
 * (src/desk) as the operator whose key is the party's. See docs/cross-chain.md. */
#ifndef FUSION_XSWAP_XSWAP_H
#define FUSION_XSWAP_XSWAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "desk/desk.h"

typedef struct xswap_env {
    const char *home;
    const char *operator_name; /* who runs the swap (compliance records); may be NULL */
    /* Called on each party's desk once it is opened: passphrase, confirmation, output. */
    void (*wire)(void *ctx, desk *d);
    void *wire_ctx;
    /* Do what is possible now and return, instead of waiting (bounded) for receipts of
     * transactions in flight: the background pass of a syncing process. */
    bool no_wait;
} xswap_env;

typedef struct xswap_terms {
    uint64_t chain_x, chain_y;
    addr initiator, counterparty;
    addr token_x, token_y; /* zero: the chain's native coin */
    u256 amount_x, amount_y;
    uint64_t t1_after; /* T1 = chain X's latest block time + t1_after */
    uint64_t margin;   /* seconds T1 must exceed T2 by */
} xswap_terms;

/* Records a new swap (fresh 32-byte secret, H = sha256 of it, a hashlock no other swap of
 * the desk has) and locks on X as the initiator; ERR_DENIED when either chain's HTLC is not
 * HashedTimelock's code (nothing recorded). */
int xswap_new(const xswap_env *env, const xswap_terms *t, int64_t *id, err *e) FUSION_WUR;
/* As the counterparty: checks the initiator's lock on X (final, same hashlock, receiver,
 * token, amount, T1) and locks on Y until T2 = T1 - gap; ERR_DENIED, before anything is
 * signed, when gap is below the swap's margin, T2 is not in the future, either HTLC is not
 * HashedTimelock's code or another swap of the desk has the same hashlock. */
int xswap_respond(const xswap_env *env, int64_t id, uint64_t gap, err *e) FUSION_WUR;
/* Does every step that is possible now (finishing or re-sending the transaction in
 * flight first) until the swap waits for someone else, the chain or a timelock.
 * *state (may be NULL) receives the state it stopped in. */
int xswap_advance(const xswap_env *env, int64_t id, char state[16], err *e) FUSION_WUR;
/* xswap_advance on every unfinished swap (or a transaction still in flight); report
 * (may be NULL) hears each swap's outcome (se NULL when it went well). -1 only when the
 * swaps cannot be listed. */
int xswap_advance_all(const xswap_env *env,
                      void (*report)(void *ctx, int64_t id, const char *state, const err *se),
                      void *ctx, err *e) FUSION_WUR;
/* True for the states nothing follows (done, refunded). */
bool xswap_state_terminal(const char *state);

#endif
