/* credit.h: the unified credit line as a book. Pure core (no SQLite, no network): a
 * facility's terms, and the loan ledger replayed day by day with exact integer interest
 * (docs/credit.md has the model, the formulas and the rounding). The service that keeps
 * facilities and ledgers in desk.db is credit/service.h. */
#ifndef FUSION_CREDIT_CREDIT_H
#define FUSION_CREDIT_CREDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/err.h"
#include "base/u256.h"

#define CREDIT_WUR FUSION_WUR

/* Rates are annual fractions in units of 1e-8 (5.25 % = 5250000): a percent with up to six
 * decimals. A rate above 100 % is refused. */
#define CREDIT_RATE_ONE 100000000ull
/* Health-factor levels in units of 1e-4 (1.10 = 11000). */
#define CREDIT_HF_ONE 10000u

typedef enum {
    CREDIT_DRAW,     /* the desk lends: balance up */
    CREDIT_REPAY,    /* the counterparty pays back: balance down */
    CREDIT_FEE,      /* a fee charged to the facility: balance up */
    CREDIT_INTEREST, /* interest posted on a billing date: balance up (derived, see below) */
    CREDIT_RATE,     /* a rate that applies from its day on: no amount */
} credit_kind;

const char *credit_kind_str(credit_kind k);
/* "draw", "repay", ... -> kind; -1 when unknown. */
int credit_kind_parse(const char *s);

/* One ledger row. day: days since 1970-01-01 (UTC). For CREDIT_RATE, base_e8 + spread_e8
 * is the annual rate from day on (a fixed rate has base 0). */
typedef struct credit_entry {
    int64_t id; /* the store's row id (0 for derived rows) */
    int32_t day;
    credit_kind kind;
    u256 amount; /* base units of the facility's currency */
    uint64_t base_e8, spread_e8;
    char memo[128];
} credit_entry;

typedef struct credit_terms {
    unsigned day_count;   /* 360 (ACT/360) or 365 (ACT/365) */
    unsigned billing_day; /* 1..28: interest is posted on this day of every month */
} credit_terms;

/* What a replay gives. entries: every input row that moves money plus the derived
 * interest postings, in ledger order, with the balance after each in balance[]. */
typedef struct credit_book {
    credit_entry *entries;
    u256 *balance;
    size_t n;
    u256 drawn;           /* the balance at the end of the last day replayed */
    u256 interest_posted; /* sum of interest postings */
    u256 accrued;         /* interest accrued and not yet posted, rounded half-even */
    u256 acc_num;         /* exact accrued interest since the first day, in 1/(1e8*D) units */
    int32_t first_day, through;
} credit_book;

/* Replays rows (any order: sorted by day, then as given, rates first on a day) from the
 * first row's day through `through` (inclusive) under terms. Fails with the day and the
 * amounts when a repayment is larger than the balance, on overflow, or on bad terms. */
int credit_replay(const credit_terms *t, const credit_entry *rows, size_t n, int32_t through,
                  credit_book *out, err *e) CREDIT_WUR;
void credit_book_free(credit_book *b);

/* Parses an annual percent ("5.25", up to six decimals, 0..100) into e8 units. */
int credit_rate_parse(const char *s, uint64_t *e8, err *e) CREDIT_WUR;
/* e8 units -> "5.25" (trailing zeros trimmed). */
void credit_rate_format(uint64_t e8, char out[32]);
/* Parses a health factor level ("1.10", up to four decimals, 1..100) into 1e-4 units. */
int credit_hf_parse(const char *s, unsigned *e4, err *e) CREDIT_WUR;
void credit_hf_format(unsigned e4, char out[16]);

/* ---- health (health.c) ---- */

/* One eligible collateral asset valued in USD with its terms (fractions 0..1). */
typedef struct credit_value {
    double value_usd, haircut, liq_threshold;
} credit_value;

/* Borrowing base = sum V (1 - h); HF = sum V * LT / owed (infinite when nothing is owed). */
typedef struct credit_health {
    double collateral_usd, borrowing_base_usd, lt_value_usd, owed_usd, health_factor;
} credit_health;

void credit_health_compute(const credit_value *v, size_t n, double owed_usd, credit_health *out);
/* USD of an asset with liquidation threshold lt to seize so that, the proceeds repaying the
 * loan, HF = (LTV - S * lt) / (owed - S) is back at `target`: S = (target * owed - LTV) /
 * (target - lt), at least 0; capped at `available`. */
double credit_seize_usd(const credit_health *h, double target, double lt, double available);

/* Calendar: "YYYY-MM-DD" <-> day numbers (proleptic Gregorian, UTC). */
int credit_date_parse(const char *s, int32_t *day, err *e) CREDIT_WUR;
void credit_date_format(int32_t day, char out[11]);
/* The day of the month (1..31) of a day number. */
unsigned credit_mday(int32_t day);

/* owed / limit in units of 1e-4 (50.25 % = 5025), rounded down and capped at 100 times the
 * limit; ERR_INVALID for a zero limit. */
int credit_utilisation_e4(const u256 *owed, const u256 *limit, unsigned *e4, err *e) CREDIT_WUR;

#endif
