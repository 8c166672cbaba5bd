/* test_text.c: outside text made safe to show (base/text.h): what is kept, what becomes
 * an escape, where a long text is cut, and that safe text stays as it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/text.h"

static const char *safe(const char *s)
{
    static char out[256];
    return text_safe(out, sizeof out, s, strlen(s));
}

static void test_kept(void **state)
{
    assert_string_equal(safe("plain ascii, 1-2_3 \\x1b stays"), "plain ascii, 1-2_3 \\x1b stays");
    /* CJK, accents, emoji and a combining mark are text, not controls. */
    assert_string_equal(safe("M\xc3\xbcller \xe5\xb1\xb1\xe7\x94\xb0 \xf0\x9f\x98\x80 e\xcc\x81"),
                        "M\xc3\xbcller \xe5\xb1\xb1\xe7\x94\xb0 \xf0\x9f\x98\x80 e\xcc\x81");
    assert_int_equal(text_unsafe_at("M\xc3\xbcller", 7), 7);
}

static void test_controls(void **state)
{
    /* The terminal retitle and colour sequences of the review, and the other C0 bytes. */
    assert_string_equal(safe("a\x1b]0;pwned\x07z"), "a\\x1b]0;pwned\\x07z");
    assert_string_equal(safe("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
    assert_string_equal(safe("line1\nline2\r\tx\x7f"), "line1\\x0aline2\\x0d\\x09x\\x7f");
    /* C1 controls as UTF-8 (CSI U+009B, OSC U+009D): escaped as code points. */
    assert_string_equal(safe("\xc2\x9b" "2J\xc2\x9d"), "\\u009b2J\\u009d");
    /* A NUL inside the given length is shown, not taken as the end. */
    char out[32];
    assert_string_equal(text_safe(out, sizeof out, "a\0b", 3), "a\\x00b");
    assert_int_equal(text_unsafe_at("ok\x1b[2J", 6), 2);
}

static void test_bidi(void **state)
{
    /* RLO makes "exe.txt" read as "txt.exe"; every bidi control becomes visible. */
    assert_string_equal(safe("Alice \xe2\x80\xae" "cod.exe"), "Alice \\u202ecod.exe");
    static const struct {
        const char *utf8, *shown;
    } bidi[] = {
        {"\xd8\x9c", "\\u061c"},     {"\xe2\x80\x8e", "\\u200e"}, {"\xe2\x80\x8f", "\\u200f"},
        {"\xe2\x80\xaa", "\\u202a"}, {"\xe2\x80\xab", "\\u202b"}, {"\xe2\x80\xac", "\\u202c"},
        {"\xe2\x80\xad", "\\u202d"}, {"\xe2\x80\xae", "\\u202e"}, {"\xe2\x81\xa6", "\\u2066"},
        {"\xe2\x81\xa7", "\\u2067"}, {"\xe2\x81\xa8", "\\u2068"}, {"\xe2\x81\xa9", "\\u2069"},
        {"\xe2\x80\xa8", "\\u2028"}, {"\xe2\x80\xa9", "\\u2029"},
    };
    for (size_t i = 0; i < sizeof bidi / sizeof *bidi; i++) {
        assert_string_equal(safe(bidi[i].utf8), bidi[i].shown);
        assert_int_equal(text_unsafe_at(bidi[i].utf8, strlen(bidi[i].utf8)), 0);
    }
    /* Neighbours that are ordinary text: en dash, right single quote, ZWJ in emoji. */
    assert_string_equal(safe("\xe2\x80\x93\xe2\x80\x99\xe2\x80\x8d"),
                        "\xe2\x80\x93\xe2\x80\x99\xe2\x80\x8d");
}

static void test_invalid_utf8(void **state)
{
    /* The review's argv: a lone 0xff and an erase-screen sequence. */
    assert_string_equal(safe("\xff\x1b[2J"), "\\xff\\x1b[2J");
    /* Overlong, surrogate, beyond U+10FFFF, truncated, stray continuation. */
    assert_string_equal(safe("\xc0\xaf"), "\\xc0\\xaf");
    assert_string_equal(safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");
    assert_string_equal(safe("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
    assert_string_equal(safe("ab\xe5\xb1"), "ab\\xe5\\xb1");
    assert_string_equal(safe("\x80x"), "\\x80x");
    assert_int_equal(text_unsafe_at("ab\xe5\xb1", 4), 2);
}

static void test_cut(void **state)
{
    char out[12];
    /* Fits exactly (11 bytes and the NUL): not cut. */
    assert_string_equal(text_safe(out, sizeof out, "hello world", 11), "hello world");
    assert_string_equal(text_safe(out, sizeof out, "hello world!", 12), "hello wo...");
    /* Never inside an escape or a UTF-8 character. */
    assert_string_equal(text_safe(out, sizeof out, "abcde\x1b[2Jxyz", 12), "abcde...");
    assert_string_equal(text_safe(out, sizeof out, "abcdef\xe5\xb1\xb1\xe7\x94\xb0", 12),
                        "abcdef...");
    /* The tiny and the empty. */
    assert_string_equal(text_safe(out, 4, "abcdef", 6), "...");
    assert_string_equal(text_safe(out, sizeof out, "", 0), "");
    assert_string_equal(text_safe(out, sizeof out, NULL, 5), "");
    char big[TEXT_EXCERPT_MAX];
    char in[200];
    memset(in, 'x', sizeof in);
    text_safe(big, sizeof big, in, sizeof in);
    assert_int_equal(strlen(big), TEXT_EXCERPT_MAX - 1);
    assert_string_equal(big + TEXT_EXCERPT_MAX - 4, "...");
}

static void test_dup_and_fixed_point(void **state)
{
    const char *in = "n\xc3\xb6te \x1b]0;x\x07 \xe2\x80\xae \xff end";
    char *a = text_safe_dup(in, strlen(in));
    assert_non_null(a);
    assert_string_equal(a, "n\xc3\xb6te \\x1b]0;x\\x07 \\u202e \\xff end");
    assert_int_equal(text_unsafe_at(a, strlen(a)), strlen(a));
    /* Made safe twice: the same text (so a second boundary cannot double-escape). */
    char *b = text_safe_dup(a, strlen(a));
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept),          cmocka_unit_test(test_controls),
        cmocka_unit_test(test_bidi),          cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_cut),           cmocka_unit_test(test_dup_and_fixed_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
