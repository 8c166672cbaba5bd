/* test_lineedit.c: the prompt line editor (ui/lineedit.c) and the passphrase core
 * (ui/secret.c): editing keys, UTF-8 round trips, and that the secret lives in
 * sodium_malloc memory that is wiped. */
/* cmocka.h needs the headers before it: keep this order. */
/* clang-format off */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
/* clang-format on */

#include "lineedit.h"
#include "secret.h"

static void type(ui_lineedit *le, const char *s)
{
    for (; *s; s++)
        assert_int_equal(ui_lineedit_key(le, (unsigned char)*s), UI_LE_CHANGED);
}

static void text_is(const ui_lineedit *le, const char *want)
{
    char out[UI_LINE_MAX * 4 + 1];
    ui_lineedit_text(le, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_edit(void **state)
{
    ui_lineedit le;
    ui_lineedit_clear(&le);
    type(&le, "abc");
    assert_int_equal(ui_lineedit_key(&le, UI_K_LEFT), UI_LE_MOVED);
    assert_int_equal(ui_lineedit_key(&le, 'X'), UI_LE_CHANGED);
    text_is(&le, "abXc");
    assert_int_equal(ui_lineedit_key(&le, 127), UI_LE_CHANGED);
    text_is(&le, "abc");
    assert_int_equal(ui_lineedit_key(&le, UI_CTRL('a')), UI_LE_MOVED);
    assert_int_equal(ui_lineedit_key(&le, 127), UI_LE_IGNORED);
    assert_int_equal(ui_lineedit_key(&le, UI_K_DC), UI_LE_CHANGED);
    text_is(&le, "bc");
    assert_int_equal(ui_lineedit_key(&le, UI_K_END), UI_LE_MOVED);
    assert_int_equal(ui_lineedit_key(&le, UI_K_RIGHT), UI_LE_IGNORED);
    type(&le, " foo bar");
    assert_int_equal(ui_lineedit_key(&le, UI_CTRL('w')), UI_LE_CHANGED);
    text_is(&le, "bc foo ");
    assert_int_equal(ui_lineedit_key(&le, UI_K_HOME), UI_LE_MOVED);
    assert_int_equal(ui_lineedit_key(&le, UI_K_RIGHT), UI_LE_MOVED);
    assert_int_equal(ui_lineedit_key(&le, UI_CTRL('k')), UI_LE_CHANGED);
    text_is(&le, "b");
    assert_int_equal(ui_lineedit_key(&le, UI_CTRL('u')), UI_LE_CHANGED);
    text_is(&le, "");
    assert_int_equal(ui_lineedit_key(&le, '\n'), UI_LE_ACCEPT);
    assert_int_equal(ui_lineedit_key(&le, UI_K_ENTER), UI_LE_ACCEPT);
    assert_int_equal(ui_lineedit_key(&le, UI_ESC), UI_LE_CANCEL);
    assert_int_equal(ui_lineedit_key(&le, '\t'), UI_LE_COMPLETE);
    assert_int_equal(ui_lineedit_key(&le, UI_CTRL('x')), UI_LE_IGNORED);
    assert_int_equal(ui_lineedit_key(&le, UI_K_F1), UI_LE_IGNORED);
}

static void test_wide(void **state)
{
    ui_lineedit le;
    ui_lineedit_set(&le, "東京 ok");
    assert_int_equal(le.len, 5);
    assert_int_equal(ui_lineedit_cursor_col(&le), 7);
    text_is(&le, "東京 ok");
    ui_lineedit_key(&le, UI_K_HOME);
    ui_lineedit_key(&le, UI_K_RIGHT);
    assert_int_equal(ui_lineedit_cursor_col(&le), 2);
    assert_int_equal(ui_lineedit_key(&le, 0x1f642), UI_LE_CHANGED);
    text_is(&le, "東\xf0\x9f\x99\x82京 ok");
}

static void test_full(void **state)
{
    ui_lineedit le;
    ui_lineedit_clear(&le);
    for (int i = 0; i < UI_LINE_MAX; i++)
        assert_int_equal(ui_lineedit_key(&le, 'x'), UI_LE_CHANGED);
    assert_int_equal(ui_lineedit_key(&le, 'x'), UI_LE_IGNORED);
    char small[8];
    ui_lineedit_text(&le, small, sizeof small);
    assert_string_equal(small, "xxxxxxx");
}

static void test_secret(void **state)
{
    ui_secret *s = NULL;
    assert_int_equal(ui_secret_new(&s, NULL), 0);
    assert_non_null(s);
    size_t used;
    const char *in = "abc\x7f"
                     "d\rtail";
    assert_int_equal(ui_secret_feed(s, (const unsigned char *)in, strlen(in), &used),
                     UI_SECRET_ACCEPT);
    assert_int_equal(used, 6); /* stops after the CR */
    assert_int_equal(s->len, 3);
    assert_memory_equal(s->buf, "abd", 4);

    ui_secret_clear(s);
    assert_int_equal(s->len, 0);
    for (size_t i = 0; i <= UI_SECRET_MAX; i++)
        assert_int_equal(s->buf[i], 0);

    /* Backspace removes a whole UTF-8 character. */
    const char *utf = "p\xc3\xa4\xe6\x9d\xb1\x7f\x7f";
    assert_int_equal(ui_secret_feed(s, (const unsigned char *)utf, strlen(utf), &used),
                     UI_SECRET_MORE);
    assert_int_equal(s->len, 1);
    assert_int_equal(s->buf[0], 'p');
    assert_int_equal(s->buf[1], 0);
    /* C-u starts over; Esc cancels and the rest of the input is not consumed. */
    const char *esc = "xy\x15z\x1b[A";
    assert_int_equal(ui_secret_feed(s, (const unsigned char *)esc, strlen(esc), &used),
                     UI_SECRET_CANCEL);
    assert_int_equal(used, 5);
    assert_int_equal(s->len, 1);
    assert_int_equal(s->buf[0], 'z');
    ui_secret_clear(s);

    /* Control bytes other than the editing ones are ignored. */
    const char *ctl = "a\x01\x02"
                      "b\n";
    assert_int_equal(ui_secret_feed(s, (const unsigned char *)ctl, strlen(ctl), NULL),
                     UI_SECRET_ACCEPT);
    assert_int_equal(s->len, 2);
    ui_secret_clear(s);

    /* Too long: flagged, the buffer never overflows. */
    unsigned char x[UI_SECRET_MAX + 10];
    memset(x, 'x', sizeof x);
    assert_int_equal(ui_secret_feed(s, x, sizeof x, NULL), UI_SECRET_MORE);
    assert_true(s->overflow);
    assert_int_equal(s->len, UI_SECRET_MAX);
    assert_int_equal(s->buf[UI_SECRET_MAX], 0);

    ui_secret_free(&s);
    assert_null(s);
    ui_secret_free(&s); /* idempotent */
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit),
        cmocka_unit_test(test_wide),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
