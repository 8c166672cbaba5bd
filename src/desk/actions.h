/* actions.h: the desk's actions as one table (id, name, what it signs, gated or not,
 * built-in checks). The desk, the policy's role check, the CLI and the UI's action table
 * all read it; nobody compares action names against a list of their own. */
#ifndef FUSION_DESK_ACTIONS_H
#define FUSION_DESK_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/attr.h"

/* Built-in checks an action runs before any policy or signature (desk_escrow_act). */
enum {
    DESK_CHECK_PAYER = 1u,        /* only the escrow's payer may sign it (fund) */
    DESK_CHECK_MAKER_CHECKER = 2u, /* not its creator, payer, payee or arbiter (approve) */
    DESK_CHECK_V2 = 4u,           /* a version-2 escrow only */
    DESK_CHECK_ARG = 8u,          /* takes an argument (resolve: --to payee|payer) */
};

/* What an action is sent to. */
typedef enum { DESK_ON_FACTORY, DESK_ON_ESCROW, DESK_ON_TOKEN, DESK_ON_SWAP } desk_target;

/* X(ID, name, target, gated, contract function, checks)
 * gated: refused while a party is under compliance review (open case, block, KYC not
 * current); a dispute or an arbiter's refund stays possible. A create is screened on its
 * own (a sanctions hit or a block refuses it) and swap locks and claims screen both
 * parties (see desk.c's compliance gate). */
#define DESK_ACTIONS(X)                                                                            \
    X(CREATE, "create", DESK_ON_FACTORY, false, "createEscrow", 0)                                \
    X(FUND, "fund", DESK_ON_ESCROW, true, "fund", DESK_CHECK_PAYER)                               \
    X(APPROVE, "approve", DESK_ON_ESCROW, true, "approve", DESK_CHECK_MAKER_CHECKER)              \
    X(RELEASE, "release", DESK_ON_ESCROW, true, "release", 0)                                     \
    X(REFUND, "refund", DESK_ON_ESCROW, false, "refund", 0)                                       \
    X(DISPUTE, "dispute", DESK_ON_ESCROW, false, "dispute", 0)                                    \
    X(RESOLVE, "resolve", DESK_ON_ESCROW, true, "resolve", DESK_CHECK_ARG)                        \
    X(SWEEP, "sweep", DESK_ON_ESCROW, false, "sweep", DESK_CHECK_V2)                              \
    X(TRANSFER_ARBITER, "transferArbiter", DESK_ON_ESCROW, false, "transferArbiter",             \
      DESK_CHECK_V2 | DESK_CHECK_ARG)                                                             \
    X(ALLOWANCE, "allowance", DESK_ON_TOKEN, false, "approve", 0)                       \
    X(PAY, "pay", DESK_ON_TOKEN, true, "transfer", 0)                                             \
    X(SWAP_ALLOWANCE, "swap_allowance", DESK_ON_TOKEN, false, "approve", 0)                       \
    X(SWAP_LOCK, "swap_lock", DESK_ON_SWAP, false, "lock", 0)                                     \
    X(SWAP_CLAIM, "swap_claim", DESK_ON_SWAP, false, "claim", 0)                                  \
    X(SWAP_REFUND, "swap_refund", DESK_ON_SWAP, false, "refund", 0)

typedef enum {
    DESK_ACT_NONE,
#define DESK_ACT_ENUM_(id, name, target, gated, fn, checks) DESK_ACT_##id,
    DESK_ACTIONS(DESK_ACT_ENUM_)
#undef DESK_ACT_ENUM_
        DESK_ACT_COUNT
} desk_action;

typedef struct desk_action_info {
    desk_action id;
    const char *name;     /* the policy's action= and the CLI's verb */
    desk_target target;
    bool gated;
    const char *function; /* the contract function it calls */
    unsigned checks;      /* DESK_CHECK_* */
} desk_action_info;

/* Indexed by desk_action; [DESK_ACT_NONE] has a NULL name. */
extern const desk_action_info desk_actions[DESK_ACT_COUNT];

/* The action named `name` (exact), or DESK_ACT_NONE. */
desk_action desk_action_find(const char *name);
/* Its row; NULL for DESK_ACT_NONE or out of range. */
const desk_action_info *desk_action_get(desk_action a);
/* Whether `name` is a gated action (false for unknown names). */
bool desk_action_name_gated(const char *name);

typedef struct policy policy; /* desk.h */

/* The one role check every interface asks (CLI, UI, desk): 0 when policy_permits the
 * action, else 1 with a one-line reason in why. */
int desk_action_role_check(const policy *p, desk_action a, const char *operator_name,
                           unsigned roles, char *why, size_t cap);

#endif
