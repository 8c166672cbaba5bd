/* desk.h: the desk services behind the escrow workflows, shared by the CLI and the UI.
 * Pure parts (roles, the policy table, the pre-sign summary decoded from signed bytes)
 * and a service that wires them to the store, the key store and a chain's node:
 * build -> policy -> estimate -> price -> nonce -> sign -> decode -> confirm -> record
 * -> send -> follow. Nothing is signed before the policy allows it and nothing is sent
 * before the operator confirms the summary rendered from the exact signed bytes. */
#ifndef FUSION_DESK_DESK_H
#define FUSION_DESK_DESK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/bytes.h"
#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "desk/actions.h"
#include "eth/abi.h"
#include "store/store.h"

#define DESK_WUR FUSION_WUR /* base/attr.h */

/* ---- roles (roles.c) ---- */

/* X(name, bit) */
#define DESK_ROLES(X)                                                                              \
    X(trader, 1u)                                                                                  \
    X(approver, 2u)                                                                                \
    X(compliance, 4u)                                                                              \
    X(admin, 8u)                                                                                   \
    X(risk, 16u)

enum {
#define DESK_ROLE_ENUM_(name, bit) DESK_ROLE_##name = bit,
    DESK_ROLES(DESK_ROLE_ENUM_)
#undef DESK_ROLE_ENUM_
};

/* "trader,approver" -> bits; unknown or empty names are ERR_INVALID. */
int desk_roles_parse(unsigned *out, const char *csv, err *e) DESK_WUR;
/* bits -> "trader,approver" (canonical order). */
void desk_roles_format(char *out, size_t cap, unsigned roles);
/* Whether actor may add (new_key set), change (new_roles) or remove (new_roles NULL) the
 * operator target on a desk whose genesis is signed, inside the caller's transaction:
 * actor is an admin, acts on someone else, an admin remains, and a new key is nobody
 * else's. ERR_DENIED naming the rule otherwise. Every interface calls this. */
int desk_operator_change_check(store *s, const char *actor, const char *target,
                               const char *new_roles, const addr *new_key, err *e) DESK_WUR;

/* ---- policy (policy.c): pure, no I/O ---- */

typedef enum { POLICY_ALLOW, POLICY_BLOCK, POLICY_REQUIRE } policy_outcome;

typedef struct policy policy;

/* Parses a policy file (see docs/escrow.md): ordered `velocity`, `limit` and `rule`
 * lines; errors name the line. */
int policy_parse(policy **out, const char *text, size_t len, err *e) DESK_WUR;
void policy_free(policy **p);
size_t policy_rule_count(const policy *p);

/* What is being decided. amount is in the asset's base units (decimals). */
typedef struct policy_request {
    const char *operator_name;
    unsigned roles;
    const char *action;       /* create, fund, approve, release, refund, dispute, resolve,
                                 swap_allowance, swap_lock, swap_claim, swap_refund */
    const char *chain;        /* chain name */
    const char *dst_chain;    /* a bridge step's destination chain name (NULL: not a bridge) */
    const char *asset_symbol; /* may be NULL */
    addr asset;               /* zero: the native coin */
    unsigned decimals;
    u256 amount;
    bool has_counterparty;
    addr counterparty;  /* payee of the escrow */
    unsigned threshold; /* approvers the escrow requires */
    u256 spent_24h;     /* this operator's velocity in this asset so far */
} policy_request;

typedef struct policy_decision {
    policy_outcome outcome; /* after `require N` was checked against the threshold */
    unsigned require_n;
    unsigned line;    /* line of the policy that decided; 0 = built-in default */
    char reason[220]; /* one line naming why */
} policy_decision;

/* First velocity line that the request would exceed blocks; then the first `limit`
 * line exceeded blocks; then the first matching `rule` decides; no match blocks. */
int policy_evaluate(const policy *p, const policy_request *r, policy_decision *d, err *e) DESK_WUR;
const char *policy_outcome_str(policy_outcome o);
/* The smallest `max` of the `limit` lines that match r (its amount included): what one
 * transaction of r may move at most. *found false: no limit line matches. *line: the line. */
int policy_limit_max(const policy *p, const policy_request *r, u256 *max, unsigned *line,
                     bool *found, err *e) DESK_WUR;

/* The role check, from the policy alone (no amount, chain, asset or counterparty): may
 * this operator (name and roles) ever do `action`? The first rule naming the operator and
 * the action decides when it is an allow or a require, or an unconditional block; a block
 * that depends on the amount, chain, asset or counterparty is passed over. *line: the
 * deciding line (0: none matched). policy_evaluate still decides each request. */
bool policy_permits(const policy *p, const char *action, const char *operator_name,
                    unsigned roles, unsigned *line);
/* The desk's policy as desk_open reads it (<home>/policy.conf, created from the default on
 * first use; on a signed desk only the signed one), for the role checks of a process that
 * does not open the whole desk (the UI). */
int desk_policy_load(const char *home, policy **out, err *e) DESK_WUR;

/* ---- pre-sign summary (summary.c): pure, from the signed bytes ---- */

typedef struct desk_asset {
    char symbol[24];
    addr token; /* zero: native coin */
    unsigned decimals;
    bool has_usd;      /* price known */
    u256 usd_price_e8; /* USD per whole unit, 8 decimals */
} desk_asset;

typedef struct desk_summary_ctx {
    const char *chain_name;
    uint64_t chain_id;
    const char *native_symbol;
    unsigned native_decimals;
    const abi_json *const *abis; /* tried in order to name the function */
    size_t n_abis;
    const desk_asset *asset; /* asset of the action (may be NULL) */
    bool has_context_amount; /* amount moved by the action when not in the calldata */
    u256 context_amount;
    const char *note; /* extra line (may be NULL) */
    const char *secret_arg; /* argument shown as "(secret, not shown)" (may be NULL) */
    /* Whose money moves to whom (an escrow's, as the chain holds it; NULL: not shown):
     * "Name 0xAddress", the name from the desk's address book. */
    const char *payer;
    const char *payee;
} desk_summary_ctx;

/* Decodes raw (strictly, for the context's chain), recovers the sender, decodes the call
 * and renders the summary as JSON (*out new reference) and text (appended to text). */
int desk_summary_render(json_t **out, buf *text, const uint8_t *raw, size_t len,
                        const desk_summary_ctx *c, err *e) DESK_WUR;

/* Revert data in words; tries the ABIs in order for custom errors. *msg malloc'd. */
int desk_revert_words(char **msg, const uint8_t *data, size_t len, const abi_json *const *abis,
                      size_t n_abis, err *e) DESK_WUR;
/* Finds revert data in a node's error message ("...: 0x1234abcd..."), appending it to out;
 * false when there is none. */
bool desk_revert_from_message(buf *out, const char *message);

/* ---- the approval card (card.c) ---- */

struct desk_names;
/* The card of action on the escrow as the desk database holds it, for signer (may be
 * NULL): parties by name and address, the amount exactly (and in USD when asset has a
 * price; asset NULL: from the configured tokens), approvers with who approved and the
 * count after this signature, the policy's decision (policy, NULL: not evaluated yet),
 * each party's compliance state, the deadline and every reason the compliance gate
 * refuses. *lines malloc'ed (free with desk_lines_free, snapshot.h). */
int desk_card_lines(store *s, const struct desk_names *names, uint64_t chain_id,
                    const addr *escrow, const char *action, const addr *signer,
                    const desk_asset *asset, const char *policy, int64_t now, char ***lines,
                    size_t *n, err *e) DESK_WUR;

/* The policy's decision on action for operator_name (with roles) on the escrow as the
 * desk database holds it, evaluated read only (nothing signed, audited or created) from
 * the policy the desk acts by (home/policy.conf as audit_config_check accepts it): one
 * line for the card's Policy row ("allow by line 3 of policy.conf: ..."); says why when it
 * cannot be evaluated here. The desk decides again when the action is taken. */
void desk_card_policy(store *s, const char *home, const char *operator_name, unsigned roles,
                      uint64_t chain_id, const addr *escrow, const char *action, char *out,
                      size_t cap);

/* ---- the service (desk.c, escrow.c) ---- */

typedef struct desk desk;

/* Asks for the operator's passphrase (into out, NUL-terminated). */
typedef int (*desk_passphrase_fn)(void *ctx, char *out, size_t cap, err *e);
/* Shows the summary and returns true when the operator confirms. */
typedef bool (*desk_confirm_fn)(void *ctx, const char *summary_text, const json_t *summary);
/* Compliance gate: return 0 to allow, 1 to refuse with a reason (one line). */
typedef struct desk_gate_request {
    const char *action;
    uint64_t chain_id;
    const addr *from;
    const addr *counterparty; /* may be NULL */
    const addr *asset;
    const u256 *amount;
    const addr *escrow;       /* NULL for create: the escrow does not exist yet */
    const addr *payer;        /* the escrow's payer as the chain holds it (NULL for create) */
} desk_gate_request;
typedef int (*desk_gate_fn)(void *ctx, const desk_gate_request *r, char *reason, size_t cap);

/* Opens the desk at home as operator_name (must be a configured operator). */
int desk_open(desk **out, const char *home, const char *operator_name, err *e) DESK_WUR;
void desk_free(desk **p);
/* A desk kept open for many actions (the UI's session) calls this before each: it checks
 * again what desk_open checks (the audit log's head; the operator's row, key and roles;
 * the policy and its signature, parsed again only when its text changed). The chain is
 * selected again by desk_use_chain (a chain added since is seen). */
int desk_refresh(desk *d, err *e) DESK_WUR;
/* ...and this after each: locks the key the action unlocked with a passphrase (a key
 * from the key source is only let go), drops the action's callbacks, wait, last policy
 * decision and selected chain. The RPC client is kept for the same chain and endpoints. */
void desk_reset(desk *d);
store *desk_store(desk *d);
void desk_set_passphrase(desk *d, desk_passphrase_fn fn, void *ctx);
/* An operator's key already unlocked in this process (the UI's session: `:operator NAME`
 * or the Keys screen), or NULL. The desk borrows it instead of asking for the passphrase
 * (the summary and its confirmation still come) and never locks it: the owner keeps it
 * alive until the desk is freed. */
typedef struct ks_key ks_key;
typedef ks_key *(*desk_key_fn)(void *ctx, const addr *a);
void desk_set_key_source(desk *d, desk_key_fn fn, void *ctx);
void desk_set_confirm(desk *d, desk_confirm_fn fn, void *ctx);
void desk_set_gate(desk *d, desk_gate_fn fn, void *ctx);
/* Seconds to wait for a receipt and the confirmation depth (default 120; 0: do not wait). */
void desk_set_wait(desk *d, unsigned seconds);
/* A risk officer's reason (1 to 200 characters; NULL or "": none) to sign an action the
 * pre-trade risk check refuses (the desk's concentration and VaR limits): recorded in a
 * signed `risk.override` audit row with the numbers and shown in the pre-sign summary. */
void desk_set_risk_override(desk *d, const char *reason);
/* The pre-trade risk check of a bridge burn of amount of token from src_chain to dst_chain
 * (recipient no desk account: the value leaves the book): ERR_DENIED with the numbers on
 * a breach, unless a risk officer overrides (desk_set_risk_override). */
int desk_pretrade_bridge(desk *d, uint64_t src_chain, uint64_t dst_chain, const addr *token,
                         const u256 *amount, const addr *recipient, err *e) DESK_WUR;
/* Where the pre-sign summary and progress lines go (the CLI passes stdout). */
void desk_set_output(desk *d, void (*say)(void *ctx, const char *line), void *ctx);

/* Selects the chain by name; NULL: the only configured chain, or the chain of escrow. */
int desk_use_chain(desk *d, const char *name, const addr *escrow, err *e) DESK_WUR;

typedef struct desk_result {
    int64_t outbound_id; /* last transaction (0 when none was recorded) */
    uint8_t hash[32];
    outbound_state state;
    uint64_t block;
    bool has_escrow;
    addr escrow;    /* create: the new escrow */
    unsigned n_txs; /* transactions sent by the action */
} desk_result;

typedef struct desk_create_req {
    const char *token;  /* symbol, address, or the native symbol */
    const char *amount; /* human units */
    addr payee;
    addr approvers[STORE_MAX_APPROVERS];
    unsigned n_approvers;
    unsigned threshold;
    uint64_t deadline; /* unix seconds */
    bool has_arbiter;
    addr arbiter;
    uint64_t dispute_window; /* seconds (version-2 factory); 0: the default, 7 days */
    /* Optional, like desk_pay_req.hold: runs in the store transaction that records the
     * signed create, before it is sent (an accepted proposal is marked there). */
    int (*hold)(void *ctx, store *db, int64_t outbound_id, const uint8_t *raw, size_t len,
                const uint8_t hash[32], err *e);
    void *hold_ctx;
} desk_create_req;

int desk_escrow_create(desk *d, const desk_create_req *r, desk_result *res, err *e) DESK_WUR;

/* A plain payment from the operator's address: ERC-20 transfer(payee, amount), or the
 * native coin as value. */
typedef struct desk_pay_req {
    const char *token;  /* symbol, address, or the native symbol */
    const char *amount; /* human units */
    addr payee;
    /* may be NULL: called in the transaction that records the signed payment (what a
     * credit draw holds beside it), like desk_step.hold */
    int (*hold)(void *ctx, store *db, int64_t outbound_id, const uint8_t *raw, size_t len,
                const uint8_t hash[32], err *e);
    void *hold_ctx;
} desk_pay_req;

/* The desk's pipeline for a payment: the policy (action "pay") and the compliance gate on
 * the payee, the pre-sign summary and confirmation, EIP-1559 fees, the outbound record. */
int desk_pay(desk *d, const desk_pay_req *r, desk_result *res, err *e) DESK_WUR;

/* The terms a version-2 escrow's approvers approve (docs/contracts.md "Terms hash"). */
typedef struct desk_terms {
    uint64_t chain_id;
    addr escrow, payer, payee, token;
    u256 amount;
    addr approvers[STORE_MAX_APPROVERS];
    unsigned n_approvers;
    unsigned threshold;
    uint64_t deadline;
    addr arbiter; /* the one named at creation */
    uint64_t dispute_window;
} desk_terms;

/* keccak256 of the terms' ABI encoding: what EscrowV2.termsHash() holds. Pure. */
int desk_terms_hash(uint8_t out[32], const desk_terms *t, err *e) DESK_WUR;
/* fund, approve, release, refund, dispute (arg: reason, may be NULL), resolve (arg:
 * "payee" or "payer"); version 2 also sweep (arg: token address, NULL: the native coin) and
 * transferArbiter (arg: the next arbiter's address). */
int desk_escrow_act(desk *d, const char *action, const addr *escrow, const char *arg,
                    desk_result *res, err *e) DESK_WUR;

/* ---- steps of another state machine (src/xswap) ---- */

/* Called inside the durable transaction that records a signed step, before it is sent:
 * the caller keeps its own state with the signed bytes (raw, hash) in the same commit. */
typedef int (*desk_hold_fn)(void *ctx, store *db, int64_t outbound_id, const uint8_t *raw,
                            size_t len, const uint8_t hash[32], err *e);

/* One contract call a swap makes. Its policy action names it (swap_allowance, swap_lock,
 * swap_claim, swap_refund); the compliance gate screens payer and payee of a lock or a
 * claim. */
typedef struct desk_step {
    const char *action;
    uint64_t chain_id;
    addr to;
    const uint8_t *data;
    size_t len;
    u256 value;
    addr token;         /* what moves (zero: the native coin) */
    u256 amount;        /* how much of it */
    const addr *payer;  /* whose money moves (NULL: the operator's) */
    const addr *payee;  /* who receives it (may be NULL) */
    const char *note;   /* the summary's note line (a swap names both chains) */
    const char *route_to; /* a bridge step: the destination chain's name (policy `to=`) */
    /* The calldata argument that is a secret (a claim's preimage): the summary does not
     * show it and the outbound row keeps no signed bytes (the caller keeps them sealed). */
    const char *secret_arg;
    desk_hold_fn hold; /* may be NULL */
    void *hold_ctx;
} desk_step;

/* The pipeline for a step: chain selected by id, policy and gate, gas estimated, EIP-1559
 * fees, nonce, signed by the operator's key, summary confirmed, recorded in the outbound
 * table (with the caller's hold), sent and followed as desk_set_wait says. */
int desk_step_send(desk *d, const desk_step *s, desk_result *res, err *e) DESK_WUR;
/* An EIP-191 signature by the operator's key (unlocked as for a transaction; audited). */
int desk_sign_message(desk *d, uint8_t sig[65], const char *msg, size_t len, err *e) DESK_WUR;
/* The approval card (desk_card_lines) of action on escrow on the selected chain, for the
 * desk's operator, with the policy decision and the priced asset of the last policy check
 * of this desk: what the operator sees before the passphrase is asked. */
int desk_action_card(desk *d, const char *action, const addr *escrow, char ***lines, size_t *n,
                     err *e) DESK_WUR;
/* The operator the desk acts as. */
const store_operator *desk_operator(const desk *d);

/* Looks at every transaction in flight of the selected chain (0: every chain): marks the
 * mined/confirmed/failed ones, re-broadcasts the signed-not-sent and the dropped ones
 * (same bytes, same hash). Prints what it did through the output callback. */
int desk_tx_check(desk *d, err *e) DESK_WUR;

/* Replaces an in-flight transaction of the operator (same nonce, fees raised by at least
 * 12.5 %): speedup re-sends the same call, cancel sends 0 to the operator itself. */
int desk_tx_replace(desk *d, int64_t id, bool cancel, desk_result *res, err *e) DESK_WUR;

struct rpc_client;
/* A JSON-RPC client over the chain's configured endpoints (failover in their order);
 * *chain (may be NULL) receives the chain's row. */
int desk_chain_rpc(store *db, uint64_t chain_id, store_chain *chain, struct rpc_client **out,
                   err *e) DESK_WUR;

/* Data files shipped with fusion: $FUSION_DATA/SUB/NAME, else next to the executable
 * (../data/SUB/NAME in a build tree, ../share/fusion/SUB/NAME installed). */
int desk_data_path(char *out, size_t cap, const char *sub, const char *name, err *e) DESK_WUR;

#endif
