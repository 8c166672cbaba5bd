/* test_text.c: display widths and cell fitting (ui/text.c), the arithmetic that makes
 * tables with CJK and emoji names align. Expected strings are written out by hand from
 * Unicode's East Asian Width; fitted output is also re-measured with libc's wcswidth. */
/* cmocka.h needs the headers before it: keep this order. */
/* clang-format off */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <wchar.h>
#include <cmocka.h>
/* clang-format on */

#include "text.h"

static int setup_utf8(void **state)
{
    return setlocale(LC_ALL, "C.UTF-8") ? 0 : -1;
}

/* libc's own opinion of the display width of a UTF-8 string. */
static int libc_width(const char *s)
{
    wchar_t w[512];
    size_t n = mbstowcs(w, s, 512);
    assert_true(n != (size_t)-1);
    return wcswidth(w, n);
}

static void fit_is(const char *s, int width, ui_align al, const char *ell, const char *want)
{
    char out[256];
    size_t n = ui_text_fit(out, sizeof out, s, width, al, ell);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_width(void **state)
{
    assert_int_equal(ui_text_width(""), 0);
    assert_int_equal(ui_text_width("abc"), 3);
    assert_int_equal(ui_text_width("東京"), 4);             /* W: two columns each */
    assert_int_equal(ui_text_width("\xf0\x9f\x99\x82"), 2); /* U+1F642, emoji: W */
    assert_int_equal(ui_text_width("e\xcc\x81"), 1);        /* e + U+0301 combining */
    assert_int_equal(ui_text_width("\xcc\x81x"), 1);        /* leading mark dropped */
    assert_int_equal(ui_text_width("\x1b[31m"), 5);         /* ESC shows as '?' */
    assert_int_equal(ui_text_width("\xff"), 1);             /* invalid: U+FFFD */
    assert_int_equal(ui_text_width("Zürich"), 6);
    assert_int_equal(ui_text_width("서울 캐피탈"), 11);
}

/* Bidi controls and line separators would reorder or break what the desk draws: they
 * show as '?', one column each, like the C0 and C1 controls. */
static void test_bidi_controls(void **state)
{
    fit_is("Alice \xe2\x80\xae" "cod.exe", 14, UI_ALIGN_LEFT, "~", "Alice ?cod.exe");
    fit_is("\xe2\x81\xa6x\xe2\x81\xa9\xe2\x80\x8f", 4, UI_ALIGN_LEFT, "~", "?x??");
    fit_is("a\xe2\x80\xa8" "b", 3, UI_ALIGN_LEFT, "~", "a?b");
    fit_is("\xd8\x9c" "c", 2, UI_ALIGN_LEFT, "~", "?c");
    assert_int_equal(ui_text_width("\xe2\x80\xae"), 1);
    assert_int_equal(ui_text_width("\xc2\x9b" "2J"), 3); /* C1 CSI */
}

static void test_fit_ascii(void **state)
{
    fit_is("abc", 5, UI_ALIGN_LEFT, "~", "abc  ");
    fit_is("abc", 5, UI_ALIGN_RIGHT, "~", "  abc");
    fit_is("abc", 3, UI_ALIGN_LEFT, "~", "abc");
    fit_is("abcdef", 4, UI_ALIGN_LEFT, "~", "abc~");
    fit_is("abcdef", 4, UI_ALIGN_RIGHT, "~", "abc~");
    fit_is("abcdef", 4, UI_ALIGN_LEFT, "...", "a...");
    fit_is("abcdef", 0, UI_ALIGN_LEFT, "~", "");
    fit_is("abcdef", 1, UI_ALIGN_LEFT, "~", "~");
    fit_is("abcdef", 2, UI_ALIGN_LEFT, "...", "ab"); /* no room for the ellipsis: hard cut */
    fit_is("a\x1b"
           "b",
           3, UI_ALIGN_LEFT, "~", "a?b");
    fit_is("tab\there", 8, UI_ALIGN_LEFT, "~", "tab?here");
}

static void test_fit_wide(void **state)
{
    const char *ell = "\xe2\x80\xa6"; /* U+2026, one column */
    fit_is("東京都港区", 10, UI_ALIGN_LEFT, ell, "東京都港区");
    fit_is("東京都港区", 12, UI_ALIGN_RIGHT, ell, "  東京都港区");
    fit_is("東京都港区", 5, UI_ALIGN_LEFT, ell, "東京…");
    /* 6 columns: 東京 (4) + …, and 都 would straddle, so one space of padding. */
    fit_is("東京都港区", 6, UI_ALIGN_LEFT, ell, "東京… ");
    fit_is("東京都港区", 6, UI_ALIGN_RIGHT, ell, " 東京…");
    fit_is("\xf0\x9f\x9a\x80 Rocket", 4, UI_ALIGN_LEFT, ell, "\xf0\x9f\x9a\x80 …");
    fit_is("\xf0\x9f\x99\x82\xf0\x9f\x99\x82\xf0\x9f\x99\x82", 4, UI_ALIGN_LEFT, ell,
           "\xf0\x9f\x99\x82… ");
    fit_is("日本", 1, UI_ALIGN_LEFT, ell, "…");
    fit_is("日本", 1, UI_ALIGN_LEFT, NULL, " ");
    /* A combining mark stays with its base character. */
    fit_is("e\xcc\x81tude", 3, UI_ALIGN_LEFT, ell, "e\xcc\x81t…");
}

/* Every name fitted to every width from 0 to 30 takes exactly that many columns, as
 * libc's wcswidth measures it: that is what makes the columns line up. */
static void test_fit_aligns(void **state)
{
    static const char *const names[] = {
        "Acme Treasury Ltd",
        "東京トレーディング株式会社",
        "Zürich Privatbank AG",
        "\xf0\x9f\x9a\x80 Rocket Capital",
        "Ωmega Ventures ΑΕ",
        "서울 캐피탈",
        "北京资本",
        "Café Ñandú S.A.",
        "mixed 漢字 and \xf0\x9f\x99\x82 emoji",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (int w = 0; w <= 30; w++) {
            char out[256];
            ui_text_fit(out, sizeof out, names[i], w, UI_ALIGN_LEFT, "\xe2\x80\xa6");
            assert_int_equal(libc_width(out), w);
            ui_text_fit(out, sizeof out, names[i], w, UI_ALIGN_RIGHT, "\xe2\x80\xa6");
            assert_int_equal(libc_width(out), w);
        }
    }
}

static void test_fit_small_buffer(void **state)
{
    char out[4];
    size_t n = ui_text_fit(out, sizeof out, "abcdef", 10, UI_ALIGN_LEFT, "~");
    assert_true(n < sizeof out);
    assert_int_equal(out[n], '\0');
    char one[1];
    assert_int_equal(ui_text_fit(one, 1, "abc", 3, UI_ALIGN_LEFT, "~"), 0);
    assert_int_equal(one[0], '\0');
}

static void test_fit_c_locale(void **state)
{
    /* In the C locale nothing but ASCII reaches the terminal. */
    assert_non_null(setlocale(LC_ALL, "C"));
    fit_is("Zürich", 6, UI_ALIGN_LEFT, "~", "Z?rich"); /* one code point, one "?" */
    assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
}

static void test_utf8(void **state)
{
    uint32_t cp;
    assert_int_equal(ui_utf8_next("\xe6\x9d\xb1", 3, &cp), 3);
    assert_int_equal(cp, 0x6771);
    assert_int_equal(ui_utf8_next("\xe6\x9d", 2, &cp), 1); /* truncated */
    assert_int_equal(cp, 0xfffd);
    assert_int_equal(ui_utf8_next("\xc0\xaf", 2, &cp), 1); /* overlong */
    assert_int_equal(cp, 0xfffd);
    assert_int_equal(ui_utf8_next("\xed\xa0\x80", 3, &cp), 1); /* surrogate */
    char out[4];
    assert_int_equal(ui_utf8_put(0x1f642, out), 4);
    assert_memory_equal(out, "\xf0\x9f\x99\x82", 4);
    assert_int_equal(ui_utf8_put(0xd800, out), 0);
}

static void test_layout(void **state)
{
    const ui_column cols[] = {
        {"a", 4, 10, 0},
        {"b", 6, 0, UI_COL_GROW},
        {"c", 3, 5, UI_COL_RIGHT},
    };
    int nat[] = {8, 20, 4}, out[3];
    ui_columns_layout(cols, nat, 3, 40, 1, out); /* 34 wanted, 6 spare to the grower */
    assert_int_equal(out[0], 8);
    assert_int_equal(out[1], 26);
    assert_int_equal(out[2], 4);
    ui_columns_layout(cols, nat, 3, 30, 1, out); /* 4 too many: the widest gives them */
    assert_int_equal(out[0], 8);
    assert_int_equal(out[1], 16);
    assert_int_equal(out[2], 4);
    ui_columns_layout(cols, nat, 3, 20, 1, out); /* b shrinks to 8, then a and b by one */
    assert_int_equal(out[0], 7);
    assert_int_equal(out[1], 7);
    assert_int_equal(out[2], 4);
    ui_columns_layout(cols, nat, 3, 12, 1, out); /* minimums are 15 wide: c goes */
    assert_int_equal(out[0], 4);
    assert_int_equal(out[1], 6);
    assert_int_equal(out[2], 0);
    ui_columns_layout(cols, nat, 3, 3, 1, out); /* only a, cut to the width */
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 0);
    assert_int_equal(out[2], 0);
    int big[] = {100, 1, 1};
    ui_columns_layout(cols, big, 3, 40, 1, out); /* max clamps, min raises */
    assert_int_equal(out[0], 10);
    assert_int_equal(out[1], 6 + 40 - (10 + 6 + 3 + 2));
    assert_int_equal(out[2], 3);
}

static void test_fmt_decimal(void **state)
{
    (void)state;
    char b[64];
    int cut;
    ui_fmt_decimal(b, sizeof b, "126138595", 4, &cut);
    assert_string_equal(b, "126,138,595");
    assert_int_equal(cut, 0);
    ui_fmt_decimal(b, sizeof b, "1234.567891234567891234", 4, &cut);
    assert_string_equal(b, "1,234.5678"); /* cut, never rounded up */
    assert_int_equal(cut, 1);
    ui_fmt_decimal(b, sizeof b, "2.5000001", 4, &cut);
    assert_string_equal(b, "2.5");
    assert_int_equal(cut, 1);
    ui_fmt_decimal(b, sizeof b, "0.00001", 4, &cut);
    assert_string_equal(b, "0");
    assert_int_equal(cut, 1);
    ui_fmt_decimal(b, sizeof b, "999", 4, &cut);
    assert_string_equal(b, "999");
    ui_fmt_decimal(b, sizeof b, "1000", 4, &cut);
    assert_string_equal(b, "1,000");
    /* a table's amount: the display precision, an ellipsis where digits were cut */
    ui_fmt_amount(b, sizeof b, "2.500000000000000001", "...");
    assert_string_equal(b, "2.5...");
    ui_fmt_amount(b, sizeof b, "1234567.891", "...");
    assert_string_equal(b, "1,234,567.891");
    ui_fmt_amount(b, sizeof b, "1234.56789", "\xe2\x80\xa6");
    assert_string_equal(b, "1,234.5678\xe2\x80\xa6");
    ui_fmt_amount(b, 6, "1234.56789", "...");
    assert_string_equal(b, "1,234"); /* no room: the ellipsis is left out, never half */
    ui_fmt_decimal(b, 4, "12345", 4, &cut); /* never some of the whole part's digits */
    assert_string_equal(b, "###");
    assert_int_equal(cut, 1);
    ui_fmt_decimal(b, 8, "1234.56789", -1, &cut); /* room for one decimal of the exact */
    assert_string_equal(b, "1,234.5");
    assert_int_equal(cut, 1);
    ui_fmt_decimal(b, sizeof b, "12.345", -1, &cut); /* no limit: exact */
    assert_string_equal(b, "12.345");
    assert_int_equal(cut, 0);
    ui_fmt_decimal(b, sizeof b, "-", 4, &cut);
    assert_string_equal(b, "-");
    ui_fmt_decimal(b, 6, "123456789", 4, &cut); /* a short buffer stays terminated */
    assert_true(strlen(b) < 6);
    ui_fmt_usd(b, sizeof b, 126138595.4, 0);
    assert_string_equal(b, "126,138,595");
    ui_fmt_usd(b, sizeof b, 3512.4, 2);
    assert_string_equal(b, "3,512.40");
    ui_fmt_usd(b, sizeof b, -1234567.0, 0);
    assert_string_equal(b, "-1,234,567");
    ui_fmt_usd(b, sizeof b, -0.001, 0);
    assert_string_equal(b, "0");
    ui_fmt_usd(b, sizeof b, NAN, 2);
    assert_string_equal(b, "-");
}

static void test_text_break(void **state)
{
    (void)state;
    assert_int_equal(ui_text_break("short", 10), 5);
    /* at the last space in the second half of the room */
    assert_int_equal(ui_text_break("the maker wrote this", 12), 9); /* "the maker" */
    /* no space late enough: cut at the width */
    assert_int_equal(ui_text_break("abcdefghijkl mn", 8), 8);
    /* wide characters count two columns and are never split */
    assert_int_equal(ui_text_break("\u6709\u9650\u516c\u53f8", 5), 6); /* two of them */
    assert_int_equal(ui_text_break("\u6709x", 1), 3); /* at least one character */
    assert_int_equal(ui_text_break("", 4), 0);
}

static void test_sparkline(void **state)
{
    (void)state;
    static const char *const g[8] = {"0", "1", "2", "3", "4", "5", "6", "7"};
    char b[64];
    double v[] = {10, 20, 15, NAN, 30, 10};
    ui_sparkline(b, sizeof b, v, 6, 10, g);
    assert_string_equal(b, "04270"); /* NaN skipped; 15 -> 3.5 rounds to 4 */
    ui_sparkline(b, sizeof b, v, 6, 2, g); /* the last two values */
    assert_string_equal(b, "70");
    double flat[] = {5, 5, 5};
    ui_sparkline(b, sizeof b, flat, 3, 8, g);
    assert_string_equal(b, "333");
    ui_sparkline(b, sizeof b, v, 0, 8, g);
    assert_string_equal(b, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width),
        cmocka_unit_test(test_bidi_controls),
        cmocka_unit_test(test_fit_ascii),
        cmocka_unit_test(test_fit_wide),
        cmocka_unit_test(test_fit_aligns),
        cmocka_unit_test(test_fit_small_buffer),
        cmocka_unit_test(test_fit_c_locale),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_fmt_decimal),
        cmocka_unit_test(test_sparkline),
        cmocka_unit_test(test_text_break),
    };
    return cmocka_run_group_tests(tests, setup_utf8, NULL);
}
