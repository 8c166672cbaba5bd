/* balances.h: what the desk's keys hold on each configured chain, read from the nodes
 * (eth_getBalance, ERC20 balanceOf for the configured tokens) as exact base units. The
 * workstation's Keys screen calls it from a worker thread: it does network I/O and must
 * never run on a UI thread. */
#ifndef FUSION_DESK_BALANCES_H
#define FUSION_DESK_BALANCES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "store/store.h"

typedef struct desk_balance {
    uint64_t chain_id;
    addr account;
    bool native;
    addr token;                       /* zero for the native coin */
    char asset[STORE_SYMBOL_MAX + 8]; /* symbol */
    unsigned decimals;
    u256 amount; /* base units */
    bool ok;     /* false: this one read failed (the chain's error says why) */
} desk_balance;

typedef struct desk_balance_chain {
    uint64_t chain_id;
    char name[STORE_NAME_MAX];
    bool reachable;
    char error[256]; /* "" or why (some) reads failed */
} desk_balance_chain;

typedef struct desk_balances {
    desk_balance *items; /* per chain, per account: the native coin, then each token */
    size_t n;
    desk_balance_chain *chains;
    size_t n_chains;
} desk_balances;

/* Reads the balances of accounts on every chain of the desk (store s: chains, endpoints,
 * tokens). A chain that cannot be reached is reported in its desk_balance_chain, not as a
 * failure; -1 only for a database or memory error. cancel (may be NULL) aborts the network
 * reads when set. */
int desk_balances_fetch(store *s, const addr *accounts, size_t n_accounts,
                        const atomic_int *cancel, desk_balances *out, err *e)
    __attribute__((warn_unused_result));
void desk_balances_free(desk_balances *b);

#endif
