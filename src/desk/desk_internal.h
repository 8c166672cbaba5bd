/* desk_internal.h: what desk.c (the transaction pipeline) and escrow.c (the escrow
 * actions) share; nothing outside src/desk sees it. */
#ifndef FUSION_DESK_INTERNAL_H
#define FUSION_DESK_INTERNAL_H

#include <limits.h>

#include "desk/desk.h"
#include "keystore/keystore.h"
#include "risk/service.h"
#include "rpc/rpc.h"

#define DESK_N_ABIS 9
#define DESK_MAX_FACTORIES 8
#define DESK_PRICE_MAX_AGE 86400 /* seconds, when the feed has no max age of its own */

struct desk {
    char home[4096];
    store *db;
    keystore *ks;
    ks_key *key;
    bool key_borrowed; /* key is the key source's (desk_set_key_source): never locked here */
    desk_key_fn key_fn;
    void *key_ctx;
    store_operator op;
    unsigned roles;
    bool has_chain;
    store_chain chain;
    rpc_client *rpc;
    uint64_t rpc_chain_id, rpc_mark; /* what rpc was built for (connect_chain) */
    /* The factory new escrows are created with: the chain's version-2 factory when it has
     * one, else its version-1 factory. Escrows of every configured factory are acted on. */
    bool has_factory;
    addr factory;
    unsigned factory_version;
    size_t n_factories;
    addr factories[DESK_MAX_FACTORIES];
    unsigned factory_versions[DESK_MAX_FACTORIES];
    abi_json *factory_abi, *escrow_abi, *token_abi, *feed_abi, *htlc_abi;
    abi_json *factory2_abi, *escrow2_abi; /* version 2 */
    abi_json *vault_abi;                  /* CollateralVault (credit facilities) */
    abi_json *bridge_tm_abi, *bridge_mt_abi; /* CCTP-style bridge (src/bridge) */
    const abi_json *abis[DESK_N_ABIS];
    policy *pol;
    char policy_path[4200];
    char policy_sha256[65];
    desk_passphrase_fn pass_fn;
    void *pass_ctx;
    desk_confirm_fn confirm_fn;
    void *confirm_ctx;
    desk_gate_fn gate_fn;
    void *gate_ctx;
    void (*say_fn)(void *ctx, const char *line);
    void *say_ctx;
    unsigned wait_s;
    /* The last policy decision and its asset (desk_policy_check_as), for the card. */
    char last_rule[300];
    const char *route_to; /* the step being checked is a bridge to this chain (NULL: none) */
    bool has_last_asset;
    desk_asset last_asset;
    /* A risk officer's reason to override the pre-trade risk limits (pretrade.c), and the
     * pre-sign summary's line when one was used. */
    char risk_override[201];
    char risk_note[1000];
};

/* One contract call the pipeline builds, checks, signs, records, sends and follows. */
typedef struct desk_call {
    const char *action;
    addr to;
    buf calldata;
    u256 value;
    bool has_escrow;
    addr escrow;
    desk_asset asset;
    u256 amount; /* committed by this action (velocity), else 0 */
    bool has_context_amount;
    u256 context_amount;
    const char *note;
    const char *secret_arg; /* desk_step.secret_arg */
    desk_hold_fn hold;      /* desk_step.hold */
    void *hold_ctx;
    bool has_parties; /* the summary names payer and payee (names from the address book) */
    addr payer, payee;
} desk_call;

void desk_say(desk *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends an audit row "desk.<what>" with details (borrowed; may be NULL). */
void desk_audit(desk *d, const char *what, json_t *details);
/* Builds calldata for fn of abi from a tuple of args (consumed). */
int desk_calldata(buf *out, const abi_json *abi, const char *fn, abi_value *args, err *e);
/* eth_call with from = the operator; *out the return data. Reverts come back as an error
 * in words (ABI custom errors decoded). */
int desk_eth_call(desk *d, const addr *to, const buf *data, buf *out, err *e);
/* The whole pipeline for one call; res gets the outcome. */
int desk_send_call(desk *d, desk_call *c, desk_result *res, err *e);
/* Policy and compliance gate for an action of the desk's operator; a refusal is ERR_DENIED
 * naming the reason (and an audit row). escrow and payer: the escrow and its payer as the
 * chain holds them (both NULL for a create). */
int desk_policy_check(desk *d, const char *action, const addr *escrow, const addr *payer,
                      const desk_asset *asset, const u256 *amount, const addr *counterparty,
                      unsigned threshold, err *e);

/* The asset at token (zero: the chain's native coin) on the selected chain: symbol and
 * decimals from the desk's tokens, else from the contract. */
int desk_asset_of(desk *d, const addr *token, desk_asset *a, err *e);
/* The pre-trade risk check (pretrade.c) of an escrow create/fund (to_counterparty: the
 * payee) or release (from_counterparty: the payee; the value leaves the book) of amount of
 * asset on the selected chain: ERR_DENIED with the numbers on a breach of the desk's
 * concentration or VaR limits, unless a risk officer overrides (audited, summarised). */
int desk_pretrade_check(desk *d, const char *action, const desk_asset *asset, const u256 *amount,
                        const addr *to_counterparty, const addr *from_counterparty, err *e);
/* The check itself: the move m (recipient: a bridge's; not a desk account, the value leaves
 * the book), refused, or overridden by a risk officer (audit row, summary line). */
int desk_pretrade_move(desk *d, const char *action, const risk_move *m, const addr *recipient,
                       err *e);
/* Selects the chain by id and connects to its endpoints. */
int desk_select_chain_id(desk *d, uint64_t chain_id, err *e);

/* Whom an action is decided for: the operator who signs it, and the stored transaction a
 * re-check stands for (0: a new action), left out of the velocity sums. */
typedef struct desk_signer {
    const char *name;
    unsigned roles;
    addr address;
    int64_t outbound_id;
} desk_signer;

/* desk_policy_check for a given signer. */
int desk_policy_check_as(desk *d, const desk_signer *sg, const char *action, const addr *escrow,
                         const addr *payer, const desk_asset *asset, const u256 *amount,
                         const addr *counterparty, unsigned threshold, err *e);

/* The check a stored transaction passes again at the moment it is re-sent (the same
 * bytes) or replaced (re-signed): its action is decoded from its signed bytes and decided
 * again by the policy and the compliance gate, for the operator who signed it, against the
 * escrow as the chain holds it now. A cancel (0 to its own sender, no data) moves no money
 * and passes. The chain of o must be selected. 0: it may go; -1: not (ERR_DENIED for a
 * refusal, naming the reason). *asset (may be NULL) receives the action's asset. */
int desk_resend_check(desk *d, const store_outbound *o, const uint8_t *raw, size_t len,
                      desk_asset *asset, err *e);

#endif
