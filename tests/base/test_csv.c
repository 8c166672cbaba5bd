/* test_csv.c: the CSV writer of the exports: RFC 4180 quoting (comma, quote, CR, LF), the
 * spreadsheet formula guard on text cells (= + - @ tab CR) but not on numbers, exact bytes
 * in files and text_safe escapes for a terminal, JSON rows with differing keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"

static char *cell(const char *s, int flags)
{
    buf b;
    buf_init(&b);
    assert_int_equal(csv_text(&b, s, strlen(s), flags, NULL), 0);
    char *out = b.len ? strndup((const char *)b.data, b.len) : strdup("");
    buf_free(&b);
    return out;
}

static void expect(const char *in, int flags, const char *want)
{
    char *got = cell(in, flags);
    if (strcmp(got, want) != 0)
        fail_msg("cell %s: got [%s], want [%s]", in, got, want);
    free(got);
}

static void test_quoting(void **state)
{
    expect("plain", 0, "plain");
    expect("", 0, "");
    expect("a,b", 0, "\"a,b\"");
    expect("say \"hi\"", 0, "\"say \"\"hi\"\"\"");
    expect("two\nlines", 0, "\"two\nlines\"");
    expect("cr\rhere", 0, "\"cr\rhere\"");
    expect("有限公司 🐉", 0, "有限公司 🐉");
}

static void test_formula_guard(void **state)
{
    expect("=1+2", 0, "\"'=1+2\"");
    expect("+1", 0, "\"'+1\"");
    expect("-1", 0, "\"'-1\"");
    expect("@SUM(A1)", 0, "\"'@SUM(A1)\"");
    expect("\tx", 0, "\"'\tx\"");
    expect("=HYPERLINK(\"http://x\",\"y\")", 0, "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    expect("a=b", 0, "a=b"); /* only at the start */
    /* numbers are numbers */
    buf b;
    buf_init(&b);
    json_t *n = json_integer(-5);
    assert_int_equal(csv_value(&b, n, 0, NULL), 0);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "-5", 2);
    json_decref(n);
    buf_free(&b);
}

static void test_terminal(void **state)
{
    /* a file keeps the exact bytes; a terminal gets visible escapes */
    expect("x\x1b[2Jy", 0, "x\x1b[2Jy");
    expect("x\x1b[2Jy", CSV_TERMINAL, "x\\x1b[2Jy");
    expect("\xe2\x80\xae" "evil", CSV_TERMINAL, "\\u202eevil");
}

static void test_table(void **state)
{
    json_error_t je;
    json_t *rows = json_loads("[{\"id\":1,\"name\":\"a,b\",\"ok\":true},"
                              "{\"id\":2,\"extra\":null,\"tags\":[1,2],\"name\":\"-x\"}]",
                              0, &je);
    assert_non_null(rows);
    buf b;
    buf_init(&b);
    assert_int_equal(csv_from_json(&b, rows, 0, NULL), 0);
    const char *want = "id,name,ok,extra,tags\r\n"
                       "1,\"a,b\",true,,\r\n"
                       "2,\"'-x\",,,\"[1,2]\"\r\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    buf_free(&b);
    json_decref(rows);
    json_t *none = json_array();
    buf_init(&b);
    assert_int_equal(csv_from_json(&b, none, 0, NULL), 0);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    json_decref(none);
    err e;
    json_t *obj = json_object();
    buf_init(&b);
    assert_int_equal(csv_from_json(&b, obj, 0, &e), -1);
    json_decref(obj);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_formula_guard),
        cmocka_unit_test(test_terminal),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
