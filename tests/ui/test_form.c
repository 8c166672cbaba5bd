/* test_form.c: the form widget's key handling (ui/form.h) without a terminal: typing,
 * moving between fields, the per-field check on Enter and on leaving, submit checking
 * every field, cancel, pre-filled and UTF-8 values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "form.h"
#include "text.h"

static int checks; /* how many times the check ran */

/* Field 0 must be "ok"; field 1 must not be empty; field 2 anything. */
static bool check(void *arg, const ui_form *f, size_t field, const char *text, char *why,
                  size_t cap)
{
    (void)arg;
    (void)f;
    checks++;
    if (field == 0 && strcmp(text, "ok") != 0) {
        snprintf(why, cap, "type ok");
        return false;
    }
    if (field == 1 && !text[0]) {
        snprintf(why, cap, "required");
        return false;
    }
    return true;
}

static const ui_form_field fields[] = {
    {"First", NULL, "type ok"},
    {"Second", "pre", NULL},
    {"Third", NULL, NULL},
};

/* Keys are code points, as curses' wget_wch delivers them. */
static void type(ui_form *f, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += ui_utf8_next(s + i, n - i, &cp);
        assert_int_equal(ui_form_key(f, (ui_key)cp), UI_FORM_MORE);
    }
}

static void test_flow(void **state)
{
    ui_form *f = NULL;
    err e;
    assert_int_equal(ui_form_new(&f, "T", fields, 3, check, NULL, &e), 0);
    assert_string_equal(ui_form_value(f, 1), "pre");
    type(f, "no");
    /* Enter on a wrong field stays there. */
    assert_int_equal(ui_form_key(f, '\n'), UI_FORM_MORE);
    type(f, "!");
    assert_string_equal(ui_form_value(f, 0), "no!");
    /* C-u clears, then the right text: Enter moves to the next field. */
    assert_int_equal(ui_form_key(f, UI_CTRL('u')), UI_FORM_MORE);
    type(f, "ok");
    assert_int_equal(ui_form_key(f, '\n'), UI_FORM_MORE);
    type(f, "x"); /* lands in field 1 */
    assert_string_equal(ui_form_value(f, 1), "prex");
    assert_int_equal(ui_form_key(f, '\t'), UI_FORM_MORE);
    type(f, "caf\xc3\xa9");
    assert_string_equal(ui_form_value(f, 2), "caf\xc3\xa9");
    checks = 0;
    assert_int_equal(ui_form_key(f, '\n'), UI_FORM_SUBMIT);
    assert_true(checks >= 3); /* submit checks every field again */
    ui_form_free(&f);
    assert_null(f);
}

static void test_submit_refuses_bad_field(void **state)
{
    ui_form *f = NULL;
    err e;
    assert_int_equal(ui_form_new(&f, "T", fields, 3, check, NULL, &e), 0);
    /* Leave field 0 wrong, empty field 1, go to the last field and submit. */
    assert_int_equal(ui_form_key(f, UI_K_DOWN), UI_FORM_MORE);
    assert_int_equal(ui_form_key(f, UI_CTRL('u')), UI_FORM_MORE);
    assert_string_equal(ui_form_value(f, 1), "");
    assert_int_equal(ui_form_key(f, UI_K_DOWN), UI_FORM_MORE);
    assert_int_equal(ui_form_key(f, '\n'), UI_FORM_MORE); /* field 0 is wrong */
    type(f, "ok"); /* focus went back to field 0 */
    assert_string_equal(ui_form_value(f, 0), "ok");
    assert_int_equal(ui_form_key(f, UI_K_UP), UI_FORM_MORE); /* wraps to the last */
    assert_int_equal(ui_form_key(f, '\n'), UI_FORM_MORE);    /* field 1 is empty */
    type(f, "y");
    assert_string_equal(ui_form_value(f, 1), "y");
    assert_int_equal(ui_form_key(f, UI_K_BTAB), UI_FORM_MORE);
    assert_int_equal(ui_form_key(f, UI_K_BTAB), UI_FORM_MORE); /* back on the last */
    assert_int_equal(ui_form_key(f, '\n'), UI_FORM_SUBMIT);
    ui_form_free(&f);
}

static void test_cancel_and_limits(void **state)
{
    ui_form *f = NULL;
    err e;
    assert_int_equal(ui_form_new(&f, "T", fields, 0, check, NULL, &e), -1);
    assert_int_equal(ui_form_new(&f, "T", fields, 3, NULL, NULL, &e), 0);
    assert_int_equal(ui_form_key(f, UI_ESC), UI_FORM_CANCEL);
    ui_form_free(&f);
    assert_int_equal(ui_form_new(&f, "T", fields, 1, NULL, NULL, &e), 0);
    assert_int_equal(ui_form_key(f, UI_CTRL('g')), UI_FORM_CANCEL);
    ui_form_free(&f);
    ui_form_free(&f); /* NULL-safe */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow),
        cmocka_unit_test(test_submit_refuses_bad_field),
        cmocka_unit_test(test_cancel_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
