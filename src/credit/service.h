/* service.h: the credit service: facilities and loan ledgers kept in desk.db, every change
 * a signed desk decision (an audit row `credit.*` written in the same transaction). The
 * arithmetic is the pure core's (credit.h); this file wires it to the store. */
#ifndef FUSION_CREDIT_SERVICE_H
#define FUSION_CREDIT_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "credit/credit.h"
#include "store/store.h"

typedef struct credit_actor {
    const char *home;          /* the desk home (audit log) */
    const char *operator_name; /* who decides */
    int32_t today;             /* the default day of a row (days since 1970-01-01) */
} credit_actor;

/* The options of `facility add|edit` as typed (NULL: not given). Collateral is a comma
 * list of assets whose default terms come from data/risk/collateral.csv; terms is a
 * comma list of ASSET=HAIRCUT_PCT/LT_PCT that set an asset's terms by the desk. */
typedef struct credit_facility_opts {
    const char *entity, *currency, *decimals, *limit, *rate, *base, *spread, *effective;
    const char *day_count, *billing_day, *initial_hf, *margin_call_hf, *liquidation_hf;
    const char *collateral, *terms, *rename;
    const char *vaults; /* CHAIN=ADDRESS,...: the CollateralVault on each chain */
    const char *repay_to; /* the desk address repayments are sent to ("none": clear) */
} credit_facility_opts;

int credit_facility_add(store *s, const credit_actor *a, const char *name,
                        const credit_facility_opts *o, err *e) CREDIT_WUR;
int credit_facility_edit(store *s, const credit_actor *a, const char *name,
                         const credit_facility_opts *o, err *e) CREDIT_WUR;
/* ERR_NOT_FOUND naming the facility when there is none. */
int credit_facility_get(store *s, const char *name, store_credit_facility *out,
                        err *e) CREDIT_WUR;

/* The facility's ledger as a book replayed through day `through`: stored rows converted
 * and replayed (credit_replay). */
int credit_book_load(store *s, const store_credit_facility *f, int32_t through, credit_book *out,
                     err *e) CREDIT_WUR;

/* A statement of the period [from, to] (days, inclusive): the balance at the end of the day
 * before `from` and the interest accrued then and not yet posted; the ledger's entries of
 * the period (book.entries[first .. book.n), with the balance after each: draws,
 * repayments, fees and the interest postings); their totals; the interest accrued in the
 * period (rounded cumulative accrual at `to` less that at from - 1, docs/credit.md); the
 * balance at the end of `to` and the interest accrued then and not yet posted. Rows dated
 * after `to` play no part (interest is causal). Exact base units. */
typedef struct credit_statement {
    int32_t from, to;
    u256 opening_balance, opening_accrued;
    credit_book book; /* replayed through `to` with the rows up to `to` */
    size_t first;
    u256 draws, repayments, fees, interest_posted, interest_accrued;
    u256 closing_balance, closing_accrued;
} credit_statement;

int credit_statement_load(store *s, const store_credit_facility *f, int32_t from, int32_t to,
                          credit_statement *out, err *e) CREDIT_WUR;
void credit_statement_free(credit_statement *st);

/* Collateral of one asset on one chain: the sum over the facility entity's linked
 * addresses of their vault balances: the synced vault flows through the chain's synced
 * block (checked against balanceOf there) when the vault is synced, else balanceOf at the
 * chain's head. */
typedef struct credit_position {
    uint64_t chain_id;
    char asset[16];
    u256 units;
    unsigned decimals;
    double price_usd, value_usd, haircut, liq_threshold;
    uint64_t block; /* the synced block the units are read at; 0: the chain's head */
} credit_position;

/* The facility's collateral (every vault, every linked address, every eligible asset with
 * a token configured on that chain) valued with the desk's latest observed oracle price of
 * each asset, and its health for `owed` base units of the currency (credit_currency_usd).
 * A missing price, a price older than its feed's max age, a stored term that is not a
 * percent or an unreachable chain is an error. max_age: the desk's price_max_age_s
 * (risk_limits_of), for a feed without a max age of its own. */
int credit_health_load(store *s, const store_credit_facility *f, const u256 *owed,
                       int64_t max_age, credit_health *out, credit_position **pos,
                       size_t *n_pos, err *e) CREDIT_WUR;

/* Typed text kept on a ledger row (--memo, --override's reason): refused (ERR_INVALID,
 * naming the option) when it holds a control character, a bidi control or a byte that is
 * not UTF-8 (base/text.h text_unsafe_at); printable non-ASCII text is kept as typed.
 * NULL is no text. credit_ledger_add and credit_draw_prepare check both themselves. */
int credit_text_check(const char *option, const char *text, err *e) CREDIT_WUR;

/* Records a draw, repayment or fee of `amount` (the currency's units, "1250.50") on day
 * (`date` "YYYY-MM-DD", or the actor's today when NULL). Refuses, with the numbers and
 * nothing written, a repayment above the balance and a draw that takes the balance (with
 * the interest accrued) above the limit, and a memo or override that credit_text_check
 * refuses. */
/* Before a draw is written the facility's health after it is computed: below the initial
 * level the draw is refused with the numbers (ERR_DENIED, nothing written) unless
 * `override` gives the risk officer's reason, which is then recorded in the row's memo and
 * in a signed `credit.override` audit row with the numbers. */
int credit_ledger_add(store *s, const credit_actor *a, const char *facility, credit_kind kind,
                      const char *amount, const char *date, const char *memo,
                      const char *override, err *e) CREDIT_WUR;

/* A draw paid through the desk pipeline, before its payment is signed: the checks of
 * credit_ledger_add (risk role, rate, limit, health with the override), dated the actor's
 * today; nothing written.
 * *out is the row the caller holds beside the payment (store_credit_draw_hold, in the
 * transaction that records the signed payment, outbound_id set). */
int credit_draw_prepare(store *s, const credit_actor *a, const char *facility, const char *amount,
                        const char *memo, const char *override, store_credit_draw *out,
                        err *e) CREDIT_WUR;
/* In the transaction that records the draw's signed payment (desk_pay_req.hold): holds d
 * beside the payment's outbound row and writes the signed decisions, credit.override (when
 * the health check was overridden) and credit.draw (tx hash, outbound id). */
int credit_draw_hold(store *s, const char *home, store_credit_draw *d, int64_t outbound_id,
                     uint64_t chain_id, const uint8_t hash[32], err *e) CREDIT_WUR;
/* The held draws: one whose payment is mined (or confirmed) is posted as a ledger row tied
 * to the payment (an unsigned desk.credit_draw_posted row: an observation of the chain),
 * and let go, in one transaction (exactly once); one whose payment failed or was dropped
 * is let go with a desk.credit_draw_unpaid row;
 * the others wait. Called after a draw's payment, by every `credit` command and by
 * `tx check`. */
int credit_draw_settle(store *s, const char *home, size_t *posted, size_t *unpaid,
                       err *e) CREDIT_WUR;

/* What a liquidation proposal's seizure touches on chain_id: the facility's vault there,
 * the asset's token, and the linked address whose vault balance of it is the largest
 * (*balance). */
int credit_seize_target(store *s, const store_credit_facility *f, uint64_t chain_id,
                        const char *asset, addr *vault, addr *token, addr *owner, u256 *balance,
                        err *e) CREDIT_WUR;
/* The vault's requestCount() on chain_id (the id of the next request). */
int credit_vault_request_count(store *s, uint64_t chain_id, const addr *vault, uint64_t *out,
                               err *e) CREDIT_WUR;

/* The latest observed oracle price of asset in USD (any chain's feed of it; *found false
 * when there is none). */
int credit_price_usd(store *s, const char *asset, double *out, bool *found, err *e) CREDIT_WUR;
/* Base units -> whole tokens (floating point, for valuation only). */
double credit_units_double(const u256 *u, unsigned decimals);
/* true: asset is one of the USD stablecoins the desk values at par when it has no observed
 * price (CREDIT_PAR_ASSETS). */
bool credit_par_asset(const char *asset);
#define CREDIT_PAR_ASSETS "USDC, USDT, DAI"
/* The USD price of facility f's currency: its latest observed oracle price (with now > 0,
 * one older than its feed's max age is an error), else 1.0 for a
 * USD stablecoin (credit_par_asset); any other currency without an observed price is an
 * error naming the facility, the currency and what to do (never a guessed 1.0). */
int credit_currency_usd(store *s, const store_credit_facility *f, int64_t now, int64_t max_age,
                        double *px, err *e) CREDIT_WUR;

/* What the desk's facilities owe it today (balance plus accrued interest, each valued with
 * credit_currency_usd: a currency that cannot be priced is an error), in USD: the drawn amount of the risk
 * service's credit line. *n_facilities 0: the desk has none (then `risk set-drawn` counts). */
int credit_drawn_usd(store *s, int32_t today, double *usd, size_t *n_facilities,
                     err *e) CREDIT_WUR;
/* credit_drawn_usd for the risk service's refresh with options o: when a facility's
 * currency has no observed price (ERR_STATE) the desk's feeds are read first (a refresh with
 * no alerts moved, the Monte Carlo cut short) and the drawn amount asked again, since the
 * refresh is what observes the rounds; a currency still without a price is the error. */
struct risk_service_opts;
int credit_drawn_usd_fresh(store *s, const struct risk_service_opts *o, int32_t today,
                           double *usd, size_t *n_facilities, err *e) CREDIT_WUR;

/* A withdrawal request of the facility's vault on chain_id, as the chain holds it. */
typedef struct credit_withdrawal {
    addr vault, owner, token;
    u256 amount;
    unsigned status; /* CollateralVault.Status: 1 open, 2 executed, 3 cancelled */
    u256 approvals;
    char asset[16]; /* the eligible asset the token is */
} credit_withdrawal;

/* Reads request `id` of the facility's vault on chain_id and checks that it is an open
 * withdrawal of one of the facility entity's linked addresses in an eligible asset; then
 * the facility's health now (*before) and after it (*after: that asset's value less the
 * amount). */
int credit_withdrawal_check(store *s, const store_credit_facility *f, int32_t today,
                            int64_t max_age, uint64_t chain_id, uint64_t id, credit_withdrawal *w,
                            credit_health *before, credit_health *after, err *e) CREDIT_WUR;

/* Hours a counterparty has to cure a margin call (top up collateral or repay). */
#define CREDIT_CURE_HOURS 24

/* Evaluates every facility's health now: below its margin-call level a margin call opens
 * (with a cure deadline) and a warning alert "credit:margin:NAME" is raised; below its
 * liquidation level a liquidation proposal opens with its plan (which collateral, how much,
 * on which chain: what brings the health factor back to the initial level if the seized
 * collateral repays the loan) and a critical alert "credit:liquidation:NAME"; back above a
 * level, its open calls close ("cured") and the alert clears. Counts may be NULL. */
int credit_check(store *s, int64_t now, int64_t max_age, int32_t today, size_t *opened,
                 size_t *closed, err *e) CREDIT_WUR;

/* Repayments from the chain: inside the caller's transaction (the sync's, once its
 * confirmed inflows are stored or a reorg marked some), deletes the repayments posted from
 * inflows a reorg marked (*removed) and posts, once each, every unreorged ERC-20 transfer
 * of chain_id from a linked address of a facility's entity, in its currency's token, to
 * its repayment address (`--repay-to`) as a `repay` row dated its block's day (memo: the
 * transaction; operator "sync"). A transfer the ledger refuses (more than the balance) is
 * logged and left. Counts may be NULL. On a store with the book's reads attached
 * (store_set_reader: a desk whose book is on a server) the inflows are the book's, read
 * through its reader, and each row posted names the book's database and the inflow's id
 * there (store_credit_row.inflow_book): once per inflow of that database, undone when the
 * book marks it reorged; the ledger is desk.db's. */
int credit_repay_recognise(store *s, uint64_t chain_id, size_t *posted, size_t *removed,
                           err *e) CREDIT_WUR;

#endif
