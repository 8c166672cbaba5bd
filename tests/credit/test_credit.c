/* test_credit.c: the pure core of src/credit: the calendar, rate and level parsing, the
 * half-even rounding of posted interest at exact ties, capitalisation, refusals of the
 * replay, and the health and seizure formulas (cases worked by hand). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* cmocka.h needs stdarg, stddef and setjmp first */
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include <math.h>

#include "credit/credit.h"
#include "credit/service.h"

static int32_t day(const char *s)
{
    int32_t d = 0;
    err e;
    assert_int_equal(credit_date_parse(s, &d, &e), 0);
    return d;
}

static uint64_t u64(const u256 *u)
{
    uint64_t v = 0;
    assert_true(u256_to_u64(u, &v));
    return v;
}

static void test_dates(void **state)
{
    (void)state;
    err e;
    int32_t d;
    assert_int_equal(day("1970-01-01"), 0);
    assert_int_equal(day("2024-03-01") - day("2024-02-28"), 2); /* leap day */
    assert_int_equal(day("2025-03-01") - day("2025-02-28"), 1);
    assert_int_equal(credit_date_parse("2025-02-29", &d, &e), -1);
    assert_int_equal(credit_date_parse("2025-1-01", &d, &e), -1);
    assert_int_equal(credit_date_parse("2025-01-01x", &d, &e), -1);
    char buf[11];
    credit_date_format(day("2031-12-31"), buf);
    assert_string_equal(buf, "2031-12-31");
    assert_int_equal(credit_mday(day("2025-07-15")), 15);
}

static void test_rates_and_levels(void **state)
{
    (void)state;
    err e;
    uint64_t r;
    assert_int_equal(credit_rate_parse("5.25", &r, &e), 0);
    assert_int_equal(r, 5250000);
    assert_int_equal(credit_rate_parse("7.123456", &r, &e), 0);
    assert_int_equal(r, 7123456);
    assert_int_equal(credit_rate_parse("100", &r, &e), 0);
    assert_int_equal(credit_rate_parse("7.1234567", &r, &e), -1);
    assert_int_equal(credit_rate_parse("100.000001", &r, &e), -1);
    assert_int_equal(credit_rate_parse("-1", &r, &e), -1);
    assert_int_equal(credit_rate_parse("", &r, &e), -1);
    assert_int_equal(credit_rate_parse(".", &r, &e), -1);
    char out[32];
    credit_rate_format(5250000, out);
    assert_string_equal(out, "5.25");
    unsigned l;
    assert_int_equal(credit_hf_parse("1.1", &l, &e), 0);
    assert_int_equal(l, 11000);
    assert_int_equal(credit_hf_parse("0.99", &l, &e), -1);
    assert_int_equal(credit_hf_parse("1.00001", &l, &e), -1);
}

/* One draw of `units` on 2025-01-31 minus `days_before`, 1 % ACT/365, billed on the 1st:
 * the interest posted on 2025-02-01. */
static uint64_t posted_after(uint64_t units, int days_before, uint64_t *accrued)
{
    credit_terms t = {.day_count = 365, .billing_day = 1};
    credit_entry rows[2] = {
        {.day = day("2025-01-01"), .kind = CREDIT_RATE, .spread_e8 = 1000000},
        {.day = day("2025-01-31") - days_before, .kind = CREDIT_DRAW,
         .amount = u256_from_u64(units)},
    };
    credit_book b;
    err e;
    assert_int_equal(credit_replay(&t, rows, 2, day("2025-02-01"), &b, &e), 0);
    uint64_t p = u64(&b.interest_posted);
    *accrued = u64(&b.accrued);
    credit_book_free(&b);
    return p;
}

static void test_half_even_ties(void **state)
{
    (void)state;
    uint64_t acc;
    /* 18250 * 1 % / 365 = 0.5 a day exactly */
    assert_int_equal(posted_after(18250, 0, &acc), 0); /* 0.5 -> 0 (even) */
    /* Feb 1 itself accrues 0.5 more: 1.0 accrued in all, 0 posted -> 1 */
    assert_int_equal(acc, 1);
    assert_int_equal(posted_after(18250, 2, &acc), 2);  /* 1.5 -> 2 (even) */
    assert_int_equal(posted_after(18250, 4, &acc), 2);  /* 2.5 -> 2 (even) */
    assert_int_equal(posted_after(54750, 0, &acc), 2);  /* 1.5 -> 2 */
    assert_int_equal(posted_after(18251, 0, &acc), 1);  /* 0.50003 -> 1 */
    assert_int_equal(posted_after(18249, 0, &acc), 0);  /* 0.49997 -> 0 */
}

static void test_capitalisation_and_refusals(void **state)
{
    (void)state;
    /* 36000 at 10 % ACT/360 = 10 a day; billed on the 1st: Jan 31 -> 10 posted Feb 1, then
     * Feb 1 accrues on 36010: 10.0027..., accrued (rounded) 10 */
    credit_terms t = {.day_count = 360, .billing_day = 1};
    credit_entry rows[3] = {
        {.day = day("2025-01-31"), .kind = CREDIT_DRAW, .amount = u256_from_u64(36000)},
        {.day = day("2025-01-31"), .kind = CREDIT_RATE, .spread_e8 = 10000000},
        {.day = day("2025-02-01"), .kind = CREDIT_FEE, .amount = u256_from_u64(5)},
    };
    credit_book b;
    err e;
    assert_int_equal(credit_replay(&t, rows, 3, day("2025-02-01"), &b, &e), 0);
    assert_int_equal(b.n, 3); /* draw, interest, fee (rates are not money rows) */
    assert_int_equal(b.entries[1].kind, CREDIT_INTEREST);
    assert_int_equal(u64(&b.entries[1].amount), 10);
    assert_int_equal(u64(&b.drawn), 36015);
    assert_int_equal(u64(&b.accrued), 10);
    credit_book_free(&b);

    credit_entry bad[2] = {
        {.day = day("2025-01-01"), .kind = CREDIT_DRAW, .amount = u256_from_u64(100)},
        {.day = day("2025-01-02"), .kind = CREDIT_REPAY, .amount = u256_from_u64(101)},
    };
    assert_int_equal(credit_replay(&t, bad, 2, day("2025-01-05"), &b, &e), -1);
    assert_non_null(strstr(e.msg, "repayment of 101 base units on 2025-01-02"));
    assert_non_null(strstr(e.msg, "balance of 100"));
    credit_terms t2 = {.day_count = 364, .billing_day = 1};
    assert_int_equal(credit_replay(&t2, bad, 1, day("2025-01-05"), &b, &e), -1);
    credit_terms t3 = {.day_count = 365, .billing_day = 29};
    assert_int_equal(credit_replay(&t3, bad, 1, day("2025-01-05"), &b, &e), -1);
    /* a row after the day replayed to */
    assert_int_equal(credit_replay(&t, bad, 2, day("2025-01-01"), &b, &e), -1);
}

/* Utilisation in 1e-4, rounded down, from integers: the Credit screen's figure. */
static void test_utilisation(void **state)
{
    (void)state;
    err e;
    unsigned u = 1;
    u256 owed = u256_from_u64(10371869238ull), limit = u256_from_u64(25000000000ull);
    assert_int_equal(credit_utilisation_e4(&owed, &limit, &u, &e), 0);
    assert_int_equal(u, 4148); /* 41.487... % cut to 41.48 % */
    owed = u256_from_u64(24999999999ull);
    assert_int_equal(credit_utilisation_e4(&owed, &limit, &u, &e), 0);
    assert_int_equal(u, 9999); /* never rounded up to 100 % */
    owed = u256_from_u64(0);
    assert_int_equal(credit_utilisation_e4(&owed, &limit, &u, &e), 0);
    assert_int_equal(u, 0);
    owed = u256_from_u64(UINT64_MAX);
    assert_int_equal(credit_utilisation_e4(&owed, &limit, &u, &e), 0);
    assert_int_equal(u, 100u * CREDIT_HF_ONE); /* capped */
    limit = u256_from_u64(0);
    assert_int_equal(credit_utilisation_e4(&owed, &limit, &u, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
}

static void test_health_and_seizure(void **state)
{
    (void)state;
    credit_value v[2] = {{30000.0, 0.20, 0.83}, {10000.0, 0.135, 0.885}};
    credit_health h;
    credit_health_compute(v, 2, 20000.0, &h);
    assert_true(fabs(h.collateral_usd - 40000.0) < 1e-9);
    assert_true(fabs(h.borrowing_base_usd - (24000.0 + 8650.0)) < 1e-9);
    assert_true(fabs(h.lt_value_usd - (24900.0 + 8850.0)) < 1e-9);
    assert_true(fabs(h.health_factor - 33750.0 / 20000.0) < 1e-12);
    credit_health_compute(v, 2, 0.0, &h);
    assert_true(isinf(h.health_factor));
    /* 10 WETH at 2350, LT 0.83, owed 20000: S = (1.25*20000 - 19505) / 0.42 */
    credit_value w = {23500.0, 0.20, 0.83};
    credit_health_compute(&w, 1, 20000.0, &h);
    double s = credit_seize_usd(&h, 1.25, 0.83, 23500.0);
    assert_true(fabs(s - (25000.0 - 19505.0) / 0.42) < 1e-6);
    assert_true(fabs((h.lt_value_usd - s * 0.83) / (h.owed_usd - s) - 1.25) < 1e-9);
    assert_true(credit_seize_usd(&h, 1.25, 1.3, 23500.0) == 23500.0); /* cannot help: all */
    credit_health_compute(&w, 1, 1000.0, &h);
    assert_true(credit_seize_usd(&h, 1.25, 0.83, 23500.0) == 0.0); /* healthy: nothing */
}

/* A memo or override reason kept on a ledger row: controls, bidi controls and bytes that
 * are not UTF-8 are refused naming the option and the byte; printable text is taken. */
static void test_text_check(void **state)
{
    (void)state;
    err e;
    static const struct {
        const char *text, *at;
    } bad[] = {
        {"fee \x1b[31m red", "at byte 5"},           /* ESC */
        {"fee \xe2\x80\xae evil", "at byte 5"},      /* U+202E RLO */
        {"\xe2\x81\xa7x\xe2\x81\xa9", "at byte 1"},   /* U+2067 RLI */
        {"nel\xc2\x85", "at byte 4"},               /* U+0085 NEL */
        {"fee \xff", "at byte 5"},                   /* not UTF-8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&e);
        assert_int_equal(credit_text_check("--memo", bad[i].text, &e), -1);
        assert_int_equal(e.code, ERR_INVALID);
        assert_true(strncmp(e.msg, "--memo has a control character, a bidi control", 46) == 0);
        assert_non_null(strstr(e.msg, bad[i].at));
        assert_int_equal(credit_text_check("--override", bad[i].text, &e), -1);
        assert_true(strncmp(e.msg, "--override has", 14) == 0);
    }
    assert_int_equal(credit_text_check("--memo", "arrangement fee, Zo\xc3\xab M\xc3\xbcller "
                                                 "zw\xe2\x80\x8dj", &e), 0);
    assert_int_equal(credit_text_check("--memo", "", &e), 0);
    assert_int_equal(credit_text_check("--memo", NULL, &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_rates_and_levels),
        cmocka_unit_test(test_half_even_ties),
        cmocka_unit_test(test_capitalisation_and_refusals),
        cmocka_unit_test(test_health_and_seizure),
        cmocka_unit_test(test_utilisation),
        cmocka_unit_test(test_text_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
