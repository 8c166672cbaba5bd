/* ledger.c: the loan ledger replayed day by day. Interest accrues every calendar day on
 * the balance at the end of that day (after its draws, repayments and fees) at the rate
 * in force that day: balance * rate_e8 units of 1/(1e8 * D) base units (D = 360 or 365),
 * summed exactly in a 256-bit integer. On each billing date the interest accrued before
 * that day is posted: the exact total since the first day rounded half-even to a base
 * unit, minus what was posted before, so no rounding error ever accumulates. */
#include "credit/credit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"draw", "repay", "fee", "interest", "rate"};

const char *credit_kind_str(credit_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

int credit_kind_parse(const char *s)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (!strcmp(s, kind_names[i]))
            return (int)i;
    return -1;
}

/* ---- calendar (days since 1970-01-01, proleptic Gregorian) ---- */

static int32_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

static void civil_from_days(int32_t z0, int *y, unsigned *m, unsigned *d)
{
    int z = z0 + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (*m <= 2);
}

int credit_date_parse(const char *s, int32_t *day, err *e)
{
    int y;
    unsigned m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 || y < 1970 || y > 9999 || m < 1 ||
        m > 12 || d < 1 || d > 31)
        return err_set(e, ERR_INVALID, "date '%.20s' is not YYYY-MM-DD", s);
    int32_t z = days_from_civil(y, m, d);
    int yy;
    unsigned mm, dd;
    civil_from_days(z, &yy, &mm, &dd);
    if (yy != y || mm != m || dd != d)
        return err_set(e, ERR_INVALID, "date '%.20s' does not exist", s);
    *day = z;
    return 0;
}

void credit_date_format(int32_t day, char out[11])
{
    int y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02u-%02u", y % 10000, m % 100, d % 100);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

unsigned credit_mday(int32_t day)
{
    int y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    return d;
}

/* ---- fixed-point levels ---- */

/* "12.345" with at most `decimals` fraction digits -> integer * 10^decimals. */
static int parse_fixed(const char *s, unsigned decimals, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    unsigned frac = 0;
    bool dot = false, digit = false;
    for (const char *p = s; *p; p++) {
        if (*p == '.' && !dot) {
            dot = true;
            continue;
        }
        if (*p < '0' || *p > '9')
            return -1;
        if (dot && ++frac > decimals)
            return -1;
        digit = true;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max * 10)
            return -1;
    }
    if (!digit)
        return -1;
    for (; frac < decimals; frac++)
        v *= 10;
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static void format_fixed(uint64_t v, unsigned decimals, char *out, size_t cap)
{
    uint64_t p = 1;
    for (unsigned i = 0; i < decimals; i++)
        p *= 10;
    int n = snprintf(out, cap, "%llu.%0*llu", (unsigned long long)(v / p), (int)decimals,
                     (unsigned long long)(v % p));
    while (n > 0 && out[n - 1] == '0')
        out[--n] = '\0';
    if (n > 0 && out[n - 1] == '.')
        out[--n] = '\0';
}

int credit_rate_parse(const char *s, uint64_t *e8, err *e)
{
    if (parse_fixed(s, 6, CREDIT_RATE_ONE, e8) < 0)
        return err_set(e, ERR_INVALID,
                       "rate '%.20s' is not an annual percent from 0 to 100 with at most six "
                       "decimals (e.g. 5.25)",
                       s);
    return 0;
}

void credit_rate_format(uint64_t e8, char out[32])
{
    format_fixed(e8, 6, out, 32);
}

int credit_hf_parse(const char *s, unsigned *e4, err *e)
{
    uint64_t v;
    if (parse_fixed(s, 4, 100 * CREDIT_HF_ONE, &v) < 0 || v < CREDIT_HF_ONE)
        return err_set(e, ERR_INVALID,
                       "health factor level '%.20s' is not a number from 1 to 100 with at most "
                       "four decimals (e.g. 1.10)",
                       s);
    *e4 = (unsigned)v;
    return 0;
}

void credit_hf_format(unsigned e4, char out[16])
{
    format_fixed(e4, 4, out, 16);
}

/* ---- replay ---- */

typedef struct order_item {
    const credit_entry *row;
    size_t seq;
} order_item;

static int order_cmp(const void *a, const void *b)
{
    const order_item *x = a, *y = b;
    if (x->row->day != y->row->day)
        return x->row->day < y->row->day ? -1 : 1;
    int rx = x->row->kind == CREDIT_RATE, ry = y->row->kind == CREDIT_RATE;
    if (rx != ry)
        return ry - rx; /* rates first */
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* num / den rounded half to even. */
static int round_half_even(u256 *q, const u256 *num, const u256 *den)
{
    u256 r, twice;
    if (u256_divmod(q, &r, num, den) < 0 || u256_add(&twice, &r, &r) < 0)
        return -1;
    int c = u256_cmp(&twice, den);
    if (c > 0 || (c == 0 && (q->w[0] & 1))) {
        u256 one = u256_from_u64(1);
        if (u256_add(q, q, &one) < 0)
            return -1;
    }
    return 0;
}

static int push(credit_book *b, size_t *cap, const credit_entry *x, const u256 *bal)
{
    if (b->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        credit_entry *ne = realloc(b->entries, nc * sizeof *ne);
        if (!ne)
            return -1;
        b->entries = ne;
        u256 *nb = realloc(b->balance, nc * sizeof *nb);
        if (!nb)
            return -1;
        b->balance = nb;
        *cap = nc;
    }
    b->entries[b->n] = *x;
    b->balance[b->n] = *bal;
    b->n++;
    return 0;
}

void credit_book_free(credit_book *b)
{
    free(b->entries);
    free(b->balance);
    memset(b, 0, sizeof *b);
}

int credit_replay(const credit_terms *t, const credit_entry *rows, size_t n, int32_t through,
                  credit_book *out, err *e)
{
    memset(out, 0, sizeof *out);
    if (t->day_count != 360 && t->day_count != 365)
        return err_set(e, ERR_INVALID, "day count %u is neither 360 (ACT/360) nor 365 (ACT/365)",
                       t->day_count);
    if (t->billing_day < 1 || t->billing_day > 28)
        return err_set(e, ERR_INVALID, "billing day %u is not 1..28", t->billing_day);
    order_item *ord = calloc(n ? n : 1, sizeof *ord);
    if (!ord)
        return err_set(e, ERR_NOMEM, "out of memory replaying a ledger");
    for (size_t i = 0; i < n; i++)
        ord[i] = (order_item){&rows[i], i};
    qsort(ord, n, sizeof *ord, order_cmp);

    int rc = -1;
    size_t cap = 0, k = 0;
    u256 bal = u256_from_u64(0), acc = bal, posted = bal;
    uint64_t rate = 0;
    u256 den = u256_from_u64(CREDIT_RATE_ONE * t->day_count);
    char d1[11];
    int32_t first = n ? ord[0].row->day : through;
    out->first_day = first;
    out->through = through;
    for (int32_t d = first; d <= through || k < n; d++) {
        if (d > through && k < n) {
            credit_date_format(ord[k].row->day, d1);
            err_set(e, ERR_INVALID, "a ledger row is dated %s, after the day replayed to", d1);
            goto out;
        }
        /* Billing: post what accrued before today. */
        if (d > first && credit_mday(d) == t->billing_day) {
            u256 target, p;
            if (round_half_even(&target, &acc, &den) < 0 || u256_sub(&p, &target, &posted) < 0)
                goto overflow;
            if (!u256_is_zero(&p)) {
                if (u256_add(&bal, &bal, &p) < 0)
                    goto overflow;
                posted = target;
                credit_entry x = {.day = d, .kind = CREDIT_INTEREST, .amount = p};
                snprintf(x.memo, sizeof x.memo, "interest posted on the billing date");
                if (push(out, &cap, &x, &bal) < 0)
                    goto nomem;
            }
        }
        for (; k < n && ord[k].row->day == d; k++) {
            const credit_entry *r = ord[k].row;
            switch (r->kind) {
            case CREDIT_RATE:
                if (r->base_e8 + r->spread_e8 > CREDIT_RATE_ONE) {
                    credit_date_format(d, d1);
                    err_set(e, ERR_INVALID, "the rate from %s is above 100 %%", d1);
                    goto out;
                }
                rate = r->base_e8 + r->spread_e8;
                break;
            case CREDIT_DRAW:
            case CREDIT_FEE:
            case CREDIT_INTEREST:
                if (u256_add(&bal, &bal, &r->amount) < 0)
                    goto overflow;
                if (r->kind == CREDIT_INTEREST && u256_add(&posted, &posted, &r->amount) < 0)
                    goto overflow;
                break;
            case CREDIT_REPAY:
                if (u256_cmp(&r->amount, &bal) > 0) {
                    char a[U256_DEC_MAX], b[U256_DEC_MAX];
                    u256_to_dec(a, &r->amount);
                    u256_to_dec(b, &bal);
                    credit_date_format(d, d1);
                    err_set(e, ERR_INVALID,
                            "the repayment of %s base units on %s is more than the balance of "
                            "%s base units",
                            a, d1, b);
                    goto out;
                }
                if (u256_sub(&bal, &bal, &r->amount) < 0)
                    goto overflow;
                break;
            }
            if (r->kind != CREDIT_RATE && push(out, &cap, r, &bal) < 0)
                goto nomem;
        }
        if (d > through)
            break;
        u256 r8 = u256_from_u64(rate), day_int;
        if (u256_mul(&day_int, &bal, &r8) < 0 || u256_add(&acc, &acc, &day_int) < 0)
            goto overflow;
    }
    u256 target;
    if (round_half_even(&target, &acc, &den) < 0 || u256_sub(&out->accrued, &target, &posted) < 0)
        goto overflow;
    out->drawn = bal;
    out->interest_posted = posted;
    out->acc_num = acc;
    rc = 0;
    goto out;
overflow:
    err_set(e, ERR_OVERFLOW, "the ledger's amounts overflow 256 bits");
    goto out;
nomem:
    err_set(e, ERR_NOMEM, "out of memory replaying a ledger");
out:
    free(ord);
    if (rc < 0)
        credit_book_free(out);
    return rc;
}

int credit_utilisation_e4(const u256 *owed, const u256 *limit, unsigned *e4, err *e)
{
    if (u256_is_zero(limit))
        return err_set(e, ERR_INVALID, "the facility's limit is zero");
    u256 scaled, q, rem, ten_k = u256_from_u64(CREDIT_HF_ONE);
    if (u256_mul(&scaled, owed, &ten_k) < 0)
        return err_set(e, ERR_OVERFLOW, "the owed amount overflows 256 bits");
    if (u256_divmod(&q, &rem, &scaled, limit) < 0)
        return err_set(e, ERR_INVALID, "the facility's limit is zero");
    uint64_t v;
    *e4 = u256_to_u64(&q, &v) && v <= 100u * CREDIT_HF_ONE ? (unsigned)v : 100u * CREDIT_HF_ONE;
    return 0;
}
