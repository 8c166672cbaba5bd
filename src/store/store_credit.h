/* store_credit.h: the desk database's credit facilities, their loan ledgers and calls
 * (store_credit.c). Part of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_CREDIT_H
#define FUSION_STORE_STORE_CREDIT_H

#include "store/store_core.h"

/* ---- credit facilities and their loan ledgers (store_credit.c) ---- */

/* A facility of a counterparty entity. Amounts are base units of the currency (a
 * stablecoin token); rates, levels and the collateral terms are validated in src/credit.
 * collateral is a JSON array of {asset, haircut_pct, liq_threshold_pct, source}. */
typedef struct store_credit_facility {
    int64_t id;
    char name[64];
    int64_t entity_id;
    char currency[16];
    unsigned decimals;
    u256 limit;
    unsigned day_count, billing_day;
    unsigned initial_e4, margin_call_e4, liquidation_e4; /* health-factor levels, 1e-4 */
    char collateral[4096];
    char vaults[1024]; /* JSON array of {chain_id, address}: a CollateralVault per chain */
    char repay_to[44]; /* the desk address repayments are sent to ("": none) */
    int64_t created_at, updated_at;
} store_credit_facility;

int store_credit_facility_add(store *s, const store_credit_facility *f, int64_t *id_out,
                              err *e) STORE_WUR;
int store_credit_facility_update(store *s, const store_credit_facility *f, err *e) STORE_WUR;
int store_credit_facility_find(store *s, const char *name, store_credit_facility *out,
                               bool *found, err *e) STORE_WUR;
int store_credit_facility_list(store *s, store_credit_facility **out, size_t *n,
                               err *e) STORE_WUR;

/* The identity of a book's database a ledger row's inflow is of, with its NUL (as
 * STORE_INFLOW_BOOK_MAX of the screening marks). */
#define STORE_CREDIT_BOOK_MAX 256

/* One row of a facility's ledger: kind is draw, repay, fee, interest or rate. */
typedef struct store_credit_row {
    int64_t id, facility_id;
    int32_t day; /* days since 1970-01-01 */
    char kind[12];
    u256 amount;
    uint64_t base_e8, spread_e8;
    char memo[128];
    char operator_name[64];
    int64_t created_at;
    int64_t inflow_id; /* the transfer (inflows row) a recognised repayment came from; 0: none */
    /* On a desk whose book is on a server, that inflow is the server's: inflow_id is its id
     * in the database inflow_book names (its identity as the book's reader gives it:
     * STORE_CREDIT_BOOK_MAX bytes at most), on chain inflow_chain. "": desk.db's inflow. */
    char inflow_book[STORE_CREDIT_BOOK_MAX];
    uint64_t inflow_chain;
    int64_t outbound_id; /* the desk's payment (outbound row) a draw was paid by; 0: none */
} store_credit_row;

int store_credit_row_add(store *s, const store_credit_row *r, int64_t *id_out, err *e) STORE_WUR;
/* A margin call or a liquidation proposal of a facility. plan (liquidation): JSON of what
 * to seize ({chain_id, asset, token, units, usd}). */
typedef struct store_credit_call {
    int64_t id, facility_id;
    char kind[16]; /* margin_call, liquidation */
    char health_factor[32];
    int64_t opened_at, cure_by, closed_at; /* closed_at 0: open */
    char closed_why[64];
    char plan[512];
} store_credit_call;

int store_credit_call_open(store *s, const store_credit_call *c, int64_t *id_out,
                           err *e) STORE_WUR;
int store_credit_call_close(store *s, int64_t id, int64_t at, const char *why, err *e) STORE_WUR;
/* Replaces a call's plan (the seizure's on-chain request is added to it). */
int store_credit_call_set_plan(store *s, int64_t id, const char *plan, err *e) STORE_WUR;
/* Calls of a facility (0: every facility), open ones only unless all; newest first. */
int store_credit_calls(store *s, int64_t facility_id, bool all, store_credit_call **out,
                       size_t *n, err *e) STORE_WUR;

/* A draw paid through the desk pipeline, waiting for its payment (the outbound row) to be
 * mined: written in the transaction that records the signed payment, deleted in the one
 * that posts the ledger row (or when the payment failed or was dropped). details: JSON
 * for the signed credit.draw row (health after, initial level, chain, payee). */
typedef struct store_credit_draw {
    int64_t outbound_id, facility_id;
    int32_t day;
    u256 amount;
    char memo[128];
    char operator_name[64];
    char details[1024];
} store_credit_draw;

int store_credit_draw_hold(store *s, const store_credit_draw *d, err *e) STORE_WUR;
int store_credit_draws_pending(store *s, store_credit_draw **out, size_t *n, err *e) STORE_WUR;
int store_credit_draw_done(store *s, int64_t outbound_id, err *e) STORE_WUR;

/* The rows of a facility in insertion order. */
int store_credit_rows(store *s, int64_t facility_id, store_credit_row **out, size_t *n,
                      err *e) STORE_WUR;

/* A CollateralVault deposit, withdrawal or seizure, synced from its event (src/sync/vault.c)
 * and stored in the same transaction; the row is tied to the stored event (chain, block,
 * hash, log index) and is deleted with it when a reorg or a rewind rolls it back. */
typedef struct store_vault_flow {
    uint64_t chain_id;
    addr vault, owner, token;
    uint64_t block_number;
    uint8_t block_hash[32];
    uint64_t log_index;
    char kind[16]; /* deposit, withdrawal, seizure */
    u256 amount;
    bool has_request;
    uint64_t request_id;
} store_vault_flow;

/* Records a flow of a stored event (nothing when the event is not stored or the flow is). */
int store_vault_flow_put(store *s, const store_vault_flow *f, err *e) STORE_WUR;
/* owner's balance of token in the vault from the synced flows of blocks <= through:
 * deposits less withdrawals and seizures, exact; *n_flows counts the flows. An error when
 * the flows would take it below zero (events missing). */
int store_vault_balance(store *s, uint64_t chain_id, const addr *vault, const addr *owner,
                        const addr *token, uint64_t through, u256 *out, size_t *n_flows,
                        err *e) STORE_WUR;

/* Repayments recognised from Transfer events (credit/service.c): the ledger rows posted from
 * inflows of chain_id that a reorg marked are deleted (*removed counts them). On a store
 * with the book's reads attached (store_set_reader) the inflows are the book's: the rows
 * posted from the inflows of chain_id of the database the book is now (store_book.h's
 * feed_state identity) that the book marks reorged are deleted; the rows of another
 * database are kept, untouched. */
int store_credit_repay_unwind(store *s, uint64_t chain_id, size_t *removed, err *e) STORE_WUR;
/* Unreorged inflows of chain_id of token to recipient not yet posted to any ledger, in id
 * order (id, block, tx hash, log index, token, sender, recipient, amount, block time).
 * book (cap bytes): "" for desk.db's inflows; with the book's reads attached, the identity
 * of the book's database, read before its inflows (they are of it: a row posted from one
 * names it, store_credit_row.inflow_book), and "not yet posted" is "no row names that
 * database and id". */
int store_credit_repay_candidates(store *s, uint64_t chain_id, const addr *recipient,
                                  const addr *token, char *book, size_t cap,
                                  struct store_inflow **out, size_t *n, err *e) STORE_WUR;

#endif
