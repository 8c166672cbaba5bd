/* test_pg_url.c: pg_url_redact, the one place a server URL is made printable: a password
 * in the authority, in the query or in a keyword string never survives; everything else
 * is kept so the operator sees which server was meant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "pgstore/pgstore.h"

static void redacts(const char *url, const char *want)
{
    char out[256];
    pg_url_redact(url, out, sizeof out);
    assert_string_equal(out, want);
}

static void test_redact(void **state)
{
    (void)state;
    redacts("postgresql://alice:s3cret@db.example:5432/desk",
            "postgresql://alice:***@db.example:5432/desk");
    redacts("postgres://alice@db/desk", "postgres://alice@db/desk");
    redacts("postgresql://db/desk?user=bob&password=hunter2&sslmode=require",
            "postgresql://db/desk?user=bob&password=***&sslmode=require");
    redacts("postgresql://a:b@c@h/d", "postgresql://a:***@h/d"); /* the last @ ends it */
    redacts("postgresql://u:p%40ss@h/d?PASSWORD=x#frag",
            "postgresql://u:***@h/d?PASSWORD=***#frag");
    redacts("host=h dbname=d password='it\\'s a \\\\ secret' user=u",
            "host=h dbname=d password=*** user=u");
    redacts("host=h password = bare user=u", "host=h password = *** user=u");
    redacts("postgresql:///desk?host=/tmp/x&port=5432", "postgresql:///desk?host=/tmp/x&port=5432");
    /* libpq percent-decodes a query's keys: pass%77ord is password */
    redacts("postgresql://desk@h/d?pass%77ord=hunter2", "postgresql://desk@h/d?pass%77ord=***");
    redacts("postgresql://h/d?sslmode=require&%70%61%73%73%77%6F%72%64=hunter2#x",
            "postgresql://h/d?sslmode=require&%70%61%73%73%77%6F%72%64=***#x");
    redacts("postgresql://h/d?pass%2=x", "postgresql://h/d?pass%2=x");
    /* a password that is a prefix of another key is not one */
    redacts("postgresql://h/d?passwordless=1", "postgresql://h/d?passwordless=1");
    char small[12];
    pg_url_redact("postgresql://a:secret@h/d", small, sizeof small);
    assert_int_equal(strlen(small), 11);
    assert_null(strstr(small, "sec"));
}

static void test_is_pg(void **state)
{
    (void)state;
    assert_true(pg_url_is_pg("postgresql://h/d"));
    assert_true(pg_url_is_pg("postgres://h/d"));
    assert_false(pg_url_is_pg("mysql://h/d"));
    assert_false(pg_url_is_pg("host=h dbname=d"));
    assert_false(pg_url_is_pg(NULL));
}

/* book.conf (pgstore/pg_desk.h): one db line; a password in the URL, in any of its forms,
 * is refused without being repeated */
static void book_refused(const char *text, const char *want)
{
    pg_desk_book b;
    err e;
    err_clear(&e);
    memset(&b, 0x5a, sizeof b);
    assert_int_equal(pg_desk_book_parse("book.conf", text, strlen(text), &b, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    if (!strstr(e.msg, want))
        fail_msg("%s: %s", text, e.msg);
    assert_null(strstr(e.msg, "hunter2"));
    assert_false(b.present);
    assert_int_equal(b.url[0], 0);
}

static void test_book_parse(void **state)
{
    (void)state;
    pg_desk_book b;
    err e;
    err_clear(&e);
    const char *ok = "# where the book is\n\n  db =  postgresql://desk@db.example/desk  \n";
    assert_int_equal(pg_desk_book_parse("book.conf", ok, strlen(ok), &b, &e), 0);
    assert_true(b.present);
    assert_string_equal(b.url, "postgresql://desk@db.example/desk");
    assert_string_equal(b.shown, b.url);
    const char *none = "# nothing: desk.db\n";
    assert_int_equal(pg_desk_book_parse("book.conf", none, strlen(none), &b, &e), 0);
    assert_false(b.present);
    const char *where = "PGPASSWORD";
    book_refused("db = postgresql://desk:hunter2@db/desk\n", where);
    book_refused("db = postgresql://db/desk?user=desk&password=hunter2\n", where);
    book_refused("db = postgresql://db/desk?user=desk&pass%77ord=hunter2\n", where);
    book_refused("db = postgres://db/desk?PASSWORD=hunter2&sslmode=require\n", where);
    book_refused("db = mysql://db/desk\n", "postgresql:// URL");
    book_refused("db = host=db password=hunter2\n", "postgresql:// URL");
    book_refused("url = postgresql://db/desk\n", "line 1");
    book_refused("\npostgresql://db/desk\n", "line 2");
    book_refused("db = postgresql://a@db/x\ndb = postgresql://b@db/y\n", "a second db line");
}

/* libpq's own message on a malformed URL quotes the token it could not decode: with a
 * password there, never shown. */
static void test_connect_malformed(void **state)
{
    (void)state;
    const char *urls[] = {"postgresql://desk:hun%zzter2@h/d",
                          "postgresql://desk@h/d?password=hun%zzter2",
                          "postgresql://desk@h/d?pass%77ord=hun%zzter2"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        PGconn *c = NULL;
        err e;
        err_clear(&e);
        assert_int_equal(pg_connect(&c, urls[i], &e), -1);
        assert_null(c);
        if (strstr(e.msg, "hun") || strstr(e.msg, "zzter2")) {
            print_error("password shown: %s\n", e.msg);
            fail();
        }
        assert_non_null(strstr(e.msg, "cannot connect to"));
    }
    /* without a password, libpq's reason is kept */
    PGconn *c = NULL;
    err e;
    assert_int_equal(pg_connect(&c, "postgresql://desk@h/d?bogus=1", &e), -1);
    assert_non_null(strstr(e.msg, "bogus"));
}

static void policy_is(const char *url, const char *want)
{
    char out[PG_URL_POLICY_MAX];
    assert_int_equal(pg_url_connect_policy(url, out, sizeof out), 0);
    assert_string_equal(out, want);
}

#define KA "keepalives=1&keepalives_idle=" PG_KEEPALIVES_IDLE_S                               \
           "&keepalives_interval=" PG_KEEPALIVES_INTERVAL_S                                   \
           "&keepalives_count=" PG_KEEPALIVES_COUNT

/* The one connect policy: connect_timeout and TCP keepalives added to every book's URL,
 * each unless the URL's query names it (its own value kept, none added twice); a name
 * inside another parameter's value, or a longer name, does not count. */
static void test_connect_policy(void **state)
{
    (void)state;
    policy_is("postgresql://desk@db/desk",
              "postgresql://desk@db/desk?connect_timeout=" PG_CONNECT_TIMEOUT_S "&" KA);
    policy_is("postgresql://desk@db/desk?sslmode=require",
              "postgresql://desk@db/desk?sslmode=require&connect_timeout=" PG_CONNECT_TIMEOUT_S
              "&" KA);
    /* the URL's own values kept; keepalives_idle does not stand for keepalives */
    policy_is("postgresql://desk@db/desk?keepalives_idle=60&connect_timeout=9",
              "postgresql://desk@db/desk?keepalives_idle=60&connect_timeout=9&keepalives=1"
              "&keepalives_interval=" PG_KEEPALIVES_INTERVAL_S
              "&keepalives_count=" PG_KEEPALIVES_COUNT);
    policy_is("postgresql://desk@db/desk?keepalives=0&keepalives_count=9&keepalives_interval=1"
              "&keepalives_idle=2&connect_timeout=30",
              "postgresql://desk@db/desk?keepalives=0&keepalives_count=9&keepalives_interval=1"
              "&keepalives_idle=2&connect_timeout=30");
    /* a name in a value is not the parameter */
    policy_is("postgresql://desk@db/desk?application_name=keepalives=0",
              "postgresql://desk@db/desk?application_name=keepalives=0&connect_timeout="
              PG_CONNECT_TIMEOUT_S "&" KA);
    /* too small: -1 */
    char small[40];
    assert_int_equal(pg_url_connect_policy("postgresql://desk@db/desk", small, sizeof small), -1);
    /* libpq takes what the policy makes */
    char out[PG_URL_POLICY_MAX];
    assert_int_equal(pg_url_connect_policy("postgresql://desk@db/desk", out, sizeof out), 0);
    char *perr = NULL;
    PQconninfoOption *o = PQconninfoParse(out, &perr);
    assert_non_null(o);
    int seen = 0;
    for (PQconninfoOption *p = o; p->keyword; p++)
        if (p->val && (!strcmp(p->keyword, "keepalives") ||
                       !strcmp(p->keyword, "keepalives_idle") ||
                       !strcmp(p->keyword, "keepalives_interval") ||
                       !strcmp(p->keyword, "keepalives_count")))
            seen++;
    assert_int_equal(seen, 4);
    PQconninfoFree(o);
    PQfreemem(perr);
    /* a connect's message names the server as written, not with the policy's additions */
    char url[PG_URL_POLICY_MAX];
    assert_int_equal(pg_url_connect_policy("postgresql://desk@/desk?host=/nonexistent-dir",
                                           url, sizeof url), 0);
    PGconn *c = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(pg_connect(&c, url, &e), -1);
    assert_non_null(strstr(e.msg, "cannot connect to postgresql://desk@/desk?host=/nonexistent-dir:"));
    assert_null(strstr(e.msg, "keepalives"));
}

/* A server's message is outside text: one line, escapes shown escaped. */
static void test_reason_line(void **state)
{
    (void)state;
    char out[200];
    pg_reason_line("ERROR:  boom\x1b]0;pwned\x07\x1b[2J\nDETAIL:  more\n", out, sizeof out);
    for (const char *p = out; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
    assert_non_null(strstr(out, "boom"));
    assert_non_null(strstr(out, "DETAIL:  more"));
    pg_reason_line("", out, sizeof out);
    assert_string_equal(out, "");
}

static void assert_one_printable_line(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            print_error("control character 0x%02x in: %s\n", (unsigned)(unsigned char)*p, s);
            fail();
        }
}

/* libpq's and the server's messages on a failed call (pg_lock, pg_migrate, pg_notify,
 * pg_sync): one printable line. libpq's own message quotes the socket path it could not
 * reach, so a host with an ESC in it puts ESC and newlines in PQerrorMessage, with no
 * server needed; PQmakeEmptyPGresult copies that message into a failed result. */
static void test_result_reason(void **state)
{
    (void)state;
    PGconn *c = PQconnectdb("host=/nonexistent-fusion-\x1b]0;pwned\x07\x1b[2J port=1");
    assert_non_null(c);
    assert_int_equal(PQstatus(c), CONNECTION_BAD);
    const char *raw = PQerrorMessage(c);
    assert_non_null(strchr(raw, 0x1b)); /* the test means something */
    assert_non_null(strchr(raw, '\n'));
    char out[400];
    pg_result_reason(c, NULL, out, sizeof out);
    assert_one_printable_line(out);
    assert_non_null(strstr(out, "nonexistent-fusion-"));
    PGresult *r = PQmakeEmptyPGresult(c, PGRES_FATAL_ERROR);
    assert_non_null(r);
    assert_non_null(strchr(PQresultErrorMessage(r), 0x1b));
    pg_result_reason(c, r, out, sizeof out);
    assert_one_printable_line(out);
    assert_non_null(strstr(out, "nonexistent-fusion-"));
    PQclear(r);
    /* a result without a message: the connection's */
    r = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    pg_result_reason(c, r, out, sizeof out);
    assert_one_printable_line(out);
    assert_non_null(strstr(out, "nonexistent-fusion-"));
    PQclear(r);
    PQfinish(c);
    pg_result_reason(NULL, NULL, out, sizeof out);
    assert_string_equal(out, "no connection");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_malformed),
        cmocka_unit_test(test_connect_policy),
        cmocka_unit_test(test_reason_line),
        cmocka_unit_test(test_result_reason),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_is_pg),
        cmocka_unit_test(test_book_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
