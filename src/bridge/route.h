/* route.h: what the bridge's two routes (bridge.c: CCTP, ccip_route.c: CCIP) share: the
 * chain named by a command, the start of a quote, a view call's first word, the hold that
 * records a signed step with its transfer, progress lines. Private to src/bridge. */
#ifndef FUSION_BRIDGE_ROUTE_H
#define FUSION_BRIDGE_ROUTE_H

#include "base/bytes.h"
#include "bridge/bridge.h"
#include "rpc/rpc.h"

/* A chain of the desk by id (decimal) or name; ERR_NOT_FOUND names `fusion chain list`. */
int bridge_chain_find(store *db, const char *s, store_chain *c, err *e) FUSION_WUR;

/* Clears q and fills the route's protocol and both chains (src, dst: id or name); cs and
 * cd: the chains. ERR_INVALID when they are the same chain. */
int bridge_quote_start(store *db, const char *src, const char *dst, const char *protocol,
                       bridge_quote *q, store_chain *cs, store_chain *cd, err *e) FUSION_WUR;
/* Parses amount (human units, q->decimals) into q->amount: more than 0. */
int bridge_quote_amount(bridge_quote *q, const char *amount, err *e) FUSION_WUR;

/* The transfer a send records: the quote's route, amount and fee, the operator (sender and
 * name), the recipient, the note (its first 199 characters); the rest zero. */
void bridge_record_init(store_bridge *b, const bridge_quote *q, const store_operator *op,
                        const addr *recipient, const char *note);

/* eth_call of data to `to` on chain_id: the first 32 bytes of the answer (what: the
 * function, for the error). */
int bridge_view_word(store *db, uint64_t chain_id, const addr *to, const buf *data,
                     const char *what, uint8_t w[32], err *e) FUSION_WUR;

/* A step's hold (desk_step.hold): in the desk's durable commit, before the signed bytes
 * are sent, the transfer holds them: created with the burn (create: and env's on_burn
 * called, if any), else stored again. */
typedef struct bridge_hold_ctx {
    store_bridge *b;
    const char *action;
    uint64_t chain_id;
    bool create;
    const bridge_env *env; /* create: its on_burn, if any */
} bridge_hold_ctx;
int bridge_hold_step(void *vctx, store *db, int64_t outbound_id, const uint8_t *raw, size_t len,
                     const uint8_t hash[32], err *e);

/* The outbound record of the transaction b has in flight (b->pending_chain, pending_hash),
 * whose receipt r the route found: mined (r->success; its siblings, the same nonce, marked
 * replaced) or failed, in r's block. A step sent without waiting (`--no-wait`) left it
 * sent. Written through d's store when the desk's book is on a server (desk.db first,
 * then the server, waiting for a lost one as an escrow action does), else through db
 * (desk.db); a record neither pending nor sent is left as it is. The burn's (or
 * ccipSend's) brings the allowance approve the send signed right before it along: the
 * sender's bridge_allowance one nonce below on that chain, still pending or sent, gets its
 * own receipt from the node, written the same way. A failure is logged: `fusion tx check`
 * writes it later. */
void bridge_mark_outbound(store *db, desk *d, const store_bridge *b, const rpc_receipt *r);

/* A progress line: to the log and to env->say. */
void bridge_say(const bridge_env *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bridge_sleep_ms(unsigned ms);

#endif
