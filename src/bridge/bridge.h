/* bridge.h: moving the desk's own value between chains. One adapter interface per
 * protocol; the CCTP-style USDC burn-and-mint adapter is the first: depositForBurn on the
 * source chain's TokenMessenger, the MessageSent message, an attestation fetched over HTTP
 * (GET {url}/attestations/{messageHash}), receiveMessage(message, attestation) on the
 * destination's MessageTransmitter. Every signed step goes through the desk's pipeline
 * (src/desk: policy, compliance gate, pre-sign summary, confirmation, outbound record),
 * and each transfer's state (sent -> attested -> delivered, or failed) with the signed
 * transaction in flight is kept in the desk (store_bridge), so `resume` completes every
 * transfer exactly once after a crash. See docs/bridges.md. */
#ifndef FUSION_BRIDGE_BRIDGE_H
#define FUSION_BRIDGE_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "desk/desk.h"
#include "store/store.h"

/* ---- pure: the CCTP (version 1) message and the attestation API's answer ---- */

#define BRIDGE_CCTP_HEADER_LEN 116
#define BRIDGE_CCTP_BURN_BODY_LEN 132

typedef struct bridge_cctp_msg {
    uint32_t version, src_domain, dst_domain;
    uint64_t nonce;
    uint8_t sender[32], recipient[32], dst_caller[32];
    /* the burn body */
    uint32_t body_version;
    addr burn_token, mint_recipient, message_sender;
    u256 amount;
} bridge_cctp_msg;

/* Decodes a burn message strictly (lengths, 12 zero bytes before each address). */
int bridge_cctp_msg_parse(bridge_cctp_msg *out, const uint8_t *m, size_t len, err *e) FUSION_WUR;

typedef enum { BRIDGE_ATT_PENDING, BRIDGE_ATT_COMPLETE } bridge_att_status;

/* {"status": "pending_confirmations"|"complete", "attestation": "0x..."|"PENDING"}: a
 * complete answer's attestation is whole 65-byte signatures (at most cap bytes). */
int bridge_attestation_parse(const char *json, size_t len, bridge_att_status *status,
                             uint8_t *att, size_t cap, size_t *att_len, err *e) FUSION_WUR;

/* ---- pure: rebalancing ---- */

#define BRIDGE_REBALANCE_MAX 16

typedef struct bridge_move {
    size_t from, to; /* indexes into the caller's chains */
    u256 amount;
} bridge_move;

/* The transfers that take balances bal[0..n) to pct[i] percent of their total (pct sums to
 * 100): each chain ends within one base unit of its exact share (floors, and the units they
 * leave over one each to the largest remainders). Surplus chains send to deficit chains,
 * largest first; at most n - 1 moves. ERR_INVALID when the percentages do not sum to 100 or n is out of range. */
int bridge_rebalance_plan(const u256 *bal, const unsigned *pct, size_t n, bridge_move *out,
                          size_t *n_out, err *e) FUSION_WUR;

/* Splits amount into *n equal parts (the first ones one unit more when it does not divide)
 * of at most max each, the fewest that fit; ERR_INVALID when max is 0 or more than cap parts
 * would be needed (the message names how many). */
int bridge_split(const u256 *amount, const u256 *max, u256 *parts, size_t cap, size_t *n,
                 err *e) FUSION_WUR;

/* ---- the service ---- */

typedef struct bridge_env {
    const char *home;
    const char *operator_name; /* who bridges (a desk operator) */
    void (*wire)(void *ctx, desk *d); /* passphrase, confirmation, output */
    void *wire_ctx;
    bool no_wait;              /* do what is possible now and return */
    unsigned attest_wait_s;    /* how long to retry the attestation service (default 60) */
    void (*say)(void *ctx, const char *line);
    void *say_ctx;
    const char *risk_override; /* a risk officer's reason (desk_set_risk_override) or NULL */
    desk *desk; /* a desk already open (the UI session's), used and not freed; NULL: each
                   call opens its own for operator_name */
    /* Optional: runs in the store transaction that records the signed burn (and creates
     * the transfer), before it is sent; failing it sends nothing (an accepted proposal is
     * marked there). */
    int (*on_burn)(void *ctx, store *db, int64_t transfer_id, const char *operator_name,
                   err *e);
    void *on_burn_ctx;
} bridge_env;

typedef struct bridge_quote {
    char protocol[8];
    uint64_t src_chain, dst_chain;
    char src_name[STORE_NAME_MAX], dst_name[STORE_NAME_MAX];
    uint32_t src_domain, dst_domain;
    addr token_src, token_dst;
    unsigned decimals;
    u256 amount, fee;
    unsigned src_confirmations;
    uint64_t expected_s; /* expected arrival after the burn is sent */
} bridge_quote;

/* Prices a transfer of amount (human units) of asset from src to dst (chain names or
 * ids); ERR_NOT_FOUND when either chain has no route for the asset. */
int bridge_quote_get(store *db, const char *src, const char *dst, const char *asset,
                     const char *amount, bridge_quote *q, err *e) FUSION_WUR;

/* bridge_quote_get on route "cctp" (or NULL), bridge_ccip_quote_get on "ccip"; another
 * route is ERR_INVALID. */
int bridge_route_quote(store *db, const char *route, const char *src, const char *dst,
                       const char *asset, const char *amount, bridge_quote *q,
                       err *e) FUSION_WUR;

/* Approves the messenger when needed and burns through the desk (the recipient is
 * screened before anything is signed); *id: the new transfer. Then advances it. */
int bridge_send(const bridge_env *env, const bridge_quote *q, const addr *recipient, int64_t *id,
                err *e) FUSION_WUR;
/* Does every step possible now: finishes or re-sends the transaction in flight, fetches
 * the attestation (retrying a service that is down or slow), mints. *state may be NULL. */
int bridge_advance(const bridge_env *env, int64_t id, char state[16], err *e) FUSION_WUR;
/* bridge_advance on every unfinished transfer; report hears each (se NULL: went well). */
int bridge_advance_all(const bridge_env *env,
                       void (*report)(void *ctx, int64_t id, const char *state, const err *se),
                       void *ctx, err *e) FUSION_WUR;

/* Whether b has nothing left to do: delivered, expired, or failed before any attestation
 * (the burn reverted: nothing moved). A failed transfer with its attestation still mints. */
bool bridge_finished(const store_bridge *b);

/* The USDC balance of who on a chain with a CCTP route (its bridge_cctp USDC). */
int bridge_usdc_balance(store *db, uint64_t chain_id, const addr *who, u256 *out,
                        err *e) FUSION_WUR;

/* A transfer as JSON (*out new reference): what `list --json` and `show` print. */
int bridge_to_json(store *db, const store_bridge *b, json_t **out, err *e) FUSION_WUR;

#endif
