/* test_file.c: file_read_all, the one whole-file reader: exact bytes with a NUL after
 * them (embedded NULs kept), an empty file, the size limit at and past the boundary with
 * its message in MiB or bytes, a missing file (ERR_NOT_FOUND, nothing allocated), a
 * directory (ERR_IO). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"

static char dir[64];

static const char *write_tmp(const char *name, const void *data, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

static void test_exact_bytes(void **state)
{
    (void)state;
    const char raw[] = {'a', '\0', 'b', '\n', (char)0xff};
    const char *p = write_tmp("raw", raw, sizeof raw);
    char *data = NULL;
    size_t len = 0;
    err e;
    err_clear(&e);
    assert_int_equal(file_read_all(p, 0, NULL, &data, &len, &e), 0);
    assert_int_equal(len, sizeof raw);
    assert_memory_equal(data, raw, sizeof raw);
    assert_int_equal(data[len], '\0');
    free(data);
    p = write_tmp("empty", "", 0);
    assert_int_equal(file_read_all(p, 10, "x", &data, &len, &e), 0);
    assert_int_equal(len, 0);
    assert_int_equal(data[0], '\0');
    free(data);
}

static void test_limit(void **state)
{
    (void)state;
    const char *p = write_tmp("ten", "0123456789", 10);
    char *data = NULL;
    size_t len = 0;
    err e;
    err_clear(&e);
    assert_int_equal(file_read_all(p, 10, "a test file", &data, &len, &e), 0);
    assert_int_equal(len, 10);
    free(data);
    data = (char *)&len; /* must come back NULL */
    assert_int_equal(file_read_all(p, 9, "a test file", &data, &len, &e), -1);
    assert_null(data);
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "is larger than 9 bytes: not a test file"));
    /* a limit of whole MiB is said in MiB */
    size_t big = (1u << 20) + 1;
    char *buf = calloc(1, big);
    assert_non_null(buf);
    p = write_tmp("big", buf, big);
    free(buf);
    assert_int_equal(file_read_all(p, 1u << 20, "a list file", &data, &len, &e), -1);
    assert_non_null(strstr(e.msg, "is larger than 1 MiB: not a list file"));
}

static void test_missing_and_dir(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/none", dir);
    char *data = NULL;
    size_t len = 7;
    err e;
    err_clear(&e);
    assert_int_equal(file_read_all(p, 0, NULL, &data, &len, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_non_null(strstr(e.msg, "cannot open"));
    err_clear(&e);
    assert_int_equal(file_read_all(dir, 0, NULL, &data, &len, &e), -1);
    assert_int_equal(e.code, ERR_IO);
    assert_null(data);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/fusion-test-file-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_bytes),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_missing_and_dir),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
