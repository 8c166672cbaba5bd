/* test_log.c: the log file (base/log.h) never holds raw control bytes: whatever a
 * message carries from outside (a node's error text, a file name) is written with its
 * controls, bidi marks and invalid bytes as visible escapes, one line per message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"

static void test_no_raw_bytes(void **state)
{
    char path[] = "/tmp/fusion_test_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    err e;
    assert_int_equal(log_open(path, &e), 0);
    LOG_W("rpc", "node said: %s", "boom\x1b]0;pwned\x07\x1b[31m red\nsecond line \xe2\x80\xae \xff");
    LOG_I("test", "plain M\xc3\xbcller");
    log_close();
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    unlink(path);
    buf[n] = '\0';
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n')
            lines++;
        else if (c < 0x20 || c == 0x7f || c == 0xff)
            fail_msg("raw byte 0x%02x at %zu in the log: %s", c, i, buf);
    }
    assert_int_equal(lines, 2);
    assert_null(strstr(buf, "\xe2\x80\xae"));
    assert_non_null(strstr(buf, "node said: boom\\x1b]0;pwned\\x07\\x1b[31m red\\x0asecond line "
                                "\\u202e \\xff\n"));
    assert_non_null(strstr(buf, "plain M\xc3\xbcller\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_raw_bytes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
