/* test_err.c: the error type (base/err.h): codes, one-line messages, prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"

static void test_clear_and_set(void **state)
{
    err e;
    memset(&e, 0x5a, sizeof e);
    err_clear(&e);
    assert_int_equal(e.code, ERR_OK);
    assert_string_equal(e.msg, "");
    assert_int_equal(err_set(&e, ERR_INVALID, "bad %s at %d", "digit", 7), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.msg, "bad digit at 7");
    /* A second set replaces the first. */
    assert_int_equal(err_set(&e, ERR_IO, "disk full"), -1);
    assert_int_equal(e.code, ERR_IO);
    assert_string_equal(e.msg, "disk full");
}

static void test_null_err(void **state)
{
    /* Callers that do not care pass NULL: still -1, and no crash. */
    assert_int_equal(err_set(NULL, ERR_INVALID, "x %d", 1), -1);
    assert_int_equal(err_prefix(NULL, "ctx"), -1);
    err_clear(NULL);
}

static void test_truncation(void **state)
{
    char longmsg[3 * ERR_MSG_MAX];
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    err e;
    err_set(&e, ERR_INVALID, "%s", longmsg);
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
    err_prefix(&e, "%s", longmsg);
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
    assert_int_equal(e.code, ERR_INVALID);
}

static void test_prefix(void **state)
{
    err e;
    err_set(&e, ERR_AUTH, "wrong passphrase");
    assert_int_equal(err_prefix(&e, "unlocking key %s", "treasury"), -1);
    assert_string_equal(e.msg, "unlocking key treasury: wrong passphrase");
    assert_int_equal(e.code, ERR_AUTH);
    err_prefix(&e, "escrow 7");
    assert_string_equal(e.msg, "escrow 7: unlocking key treasury: wrong passphrase");
}

static void test_code_strings(void **state)
{
    /* Every code has a distinct, non-empty description. */
    for (int i = 0; i < ERR_CODE_COUNT; i++) {
        const char *s = err_code_str((err_code)i);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(s, err_code_str((err_code)j));
    }
    assert_string_equal(err_code_str(ERR_OK), "ok");
    assert_string_equal(err_code_str(ERR_OVERFLOW), "value out of range");
    assert_string_equal(err_code_str(ERR_CODE_COUNT), "unknown error");
    assert_string_equal(err_code_str((err_code)-1), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clear_and_set),
        cmocka_unit_test(test_null_err),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_code_strings),
    };
    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
