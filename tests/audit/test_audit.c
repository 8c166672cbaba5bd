/* test_audit.c: the hash-chained audit log: appends, list, and verify finding the first
 * bad row of an edited, re-hashed, deleted, reordered, duplicated or truncated log (with
 * its line number); anchors catch rows cut off the end; the head kept in desk.db catches a
 * deleted, cut or replaced log and a deleted desk.db; concurrent appenders from several
 * processes keep one unbroken chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/statement.h"
#include "store/store.h"
#include "store/store_internal.h"

#include <sqlite3.h>

typedef struct fixture {
    char home[256];
    char log[300];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->home, sizeof f->home, "%s/fusion-audit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->home))
        return -1;
    snprintf(f->log, sizeof f->log, "%s/%s", f->home, AUDIT_FILE);
    *state = f;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    nftw(f->home, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void append_n(const fixture *f, int n)
{
    for (int i = 0; i < n; i++) {
        json_t *d = json_pack("{s:i, s:s}", "i", i, "note", "caf\xc3\xa9 \"quoted\"");
        err e;
        err_clear(&e);
        if (audit_append(f->home, "alice", "test_action", d, &e) < 0)
            fail_msg("append %d: %s", i, e.msg);
        json_decref(d);
    }
}

/* The log as an array of lines (without newlines); returns the count. */
static size_t read_lines(const fixture *f, char ***out)
{
    FILE *fp = fopen(f->log, "r");
    assert_non_null(fp);
    char **v = NULL;
    size_t n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, fp)) > 0) {
        v = realloc(v, (n + 1) * sizeof *v);
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        v[n++] = strdup(line);
    }
    free(line);
    fclose(fp);
    *out = v;
    return n;
}

static void write_lines(const fixture *f, char **v, size_t n, bool last_newline)
{
    FILE *fp = fopen(f->log, "w");
    assert_non_null(fp);
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "%s%s", v[i], i + 1 < n || last_newline ? "\n" : "");
    fclose(fp);
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static audit_report verify(const fixture *f, const char *anchor)
{
    audit_report r;
    err e;
    err_clear(&e);
    if (audit_verify(f->home, anchor, &r, &e) < 0)
        fail_msg("verify: %s", e.msg);
    return r;
}

static int count_row(void *ctx, const audit_row *row, err *e)
{
    size_t *n = ctx;
    (*n)++;
    if (row->seq != *n || row->line != *n || strcmp(row->operator_name, "alice") != 0 ||
        strcmp(row->action, "test_action") != 0 ||
        json_integer_value(json_object_get(row->details, "i")) != (json_int_t)(*n - 1))
        return err_set(e, ERR_INVALID, "row %zu is not what was appended", *n);
    return 0;
}

static void test_append_list_verify(void **state)
{
    fixture *f = *state;
    audit_report r = verify(f, NULL);
    assert_true(r.ok);
    assert_int_equal(r.rows, 0);
    append_n(f, 5);
    struct stat st;
    assert_int_equal(stat(f->log, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    r = verify(f, NULL);
    assert_true(r.ok);
    assert_int_equal(r.rows, 5);
    assert_int_equal(r.head_seq, 5);
    assert_int_equal(strlen(r.head_hash), 64);
    /* The head made desk.db: with the store's page size (store.c STORE_PAGE_SIZE). */
    char db_path[320];
    snprintf(db_path, sizeof db_path, "%s/desk.db", f->home);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_stmt *ps = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &ps, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(ps), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(ps, 0), 8192);
    sqlite3_finalize(ps);
    sqlite3_close(db);
    size_t n = 0;
    assert_int_equal(audit_list(f->home, count_row, &n, NULL), 0);
    assert_int_equal(n, 5);
    /* Independent of the writer: line 1's prev is zero, line 2's prev is SHA-256 of line 1. */
    char **v;
    size_t count = read_lines(f, &v);
    assert_int_equal(count, 5);
    assert_non_null(strstr(v[0], "\"prev\":\"0000000000000000000000000000000000000000000000000"
                                 "000000000000000\""));
    uint8_t h[32];
    crypto_hash_sha256(h, (const uint8_t *)v[0], strlen(v[0]));
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    char want[80];
    snprintf(want, sizeof want, "\"prev\":\"%s\"", hex);
    assert_non_null(strstr(v[1], want));
    free_lines(v, count);
}

static void test_edited_row(void **state)
{
    fixture *f = *state;
    append_n(f, 6);
    char **v;
    size_t n = read_lines(f, &v);
    char *p = strstr(v[3], "\"alice\"");
    assert_non_null(p);
    p[1] = 'm'; /* "mlice" */
    write_lines(f, v, n, true);
    audit_report r = verify(f, NULL);
    assert_false(r.ok);
    assert_int_equal(r.bad_line, 4);
    assert_int_equal(r.rows, 3);
    assert_non_null(strstr(r.problem, "edited"));
    free_lines(v, n);
}

/* An editor who also recomputes the row's own hash is caught by the next row's prev. */
static void test_edited_and_rehashed(void **state)
{
    fixture *f = *state;
    append_n(f, 6);
    char **v;
    size_t n = read_lines(f, &v);
    char *line = v[2];
    char *p = strstr(line, "\"alice\"");
    p[1] = 'm';
    char *hash_at = strstr(line, ",\"hash\":\"");
    uint8_t h[32];
    crypto_hash_sha256(h, (const uint8_t *)line, (size_t)(hash_at - line));
    for (int i = 0; i < 32; i++) {
        char two[3];
        snprintf(two, sizeof two, "%02x", h[i]);
        memcpy(hash_at + 9 + 2 * i, two, 2);
    }
    write_lines(f, v, n, true);
    audit_report r = verify(f, NULL);
    assert_false(r.ok);
    assert_int_equal(r.bad_line, 3);
    assert_non_null(strstr(r.problem, "changed or replaced"));
    free_lines(v, n);
}

static void test_deleted_row(void **state)
{
    fixture *f = *state;
    append_n(f, 6);
    char **v;
    size_t n = read_lines(f, &v);
    free(v[2]);
    memmove(v + 2, v + 3, (n - 3) * sizeof *v);
    write_lines(f, v, n - 1, true);
    audit_report r = verify(f, NULL);
    assert_false(r.ok);
    assert_int_equal(r.bad_line, 3);
    assert_non_null(strstr(r.problem, "deleted"));
    /* Deleting the first row. */
    write_lines(f, v + 1, n - 2, true);
    r = verify(f, NULL);
    assert_false(r.ok);
    assert_int_equal(r.bad_line, 1);
    free_lines(v, n - 1);
}

static void test_reordered_and_duplicated(void **state)
{
    fixture *f = *state;
    append_n(f, 6);
    char **v;
    size_t n = read_lines(f, &v);
    char *t = v[3];
    v[3] = v[4];
    v[4] = t;
    write_lines(f, v, n, true);
    audit_report r = verify(f, NULL);
    assert_false(r.ok);
    assert_int_equal(r.bad_line, 4);
    t = v[3];
    v[3] = v[4];
    v[4] = t;
    char *dup = v[5];
    v[5] = strdup(v[4]);
    write_lines(f, v, n, true);
    r = verify(f, NULL);
    assert_false(r.ok);
    assert_int_equal(r.bad_line, 6);
    assert_non_null(strstr(r.problem, "reordered or duplicated"));
    free(dup);
    free_lines(v, n);
}

static void test_truncated(void **state)
{
    fixture *f = *state;
    append_n(f, 4);
    struct stat st;
    assert_int_equal(stat(f->log, &st), 0);
    /* Cut inside the last row, and cut just its newline. */
    for (int cut = 1; cut <= 30; cut += 29) {
        assert_int_equal(truncate(f->log, st.st_size - cut), 0);
        audit_report r = verify(f, NULL);
        assert_false(r.ok);
        assert_int_equal(r.bad_line, 4);
        err e;
        err_clear(&e);
        assert_int_equal(audit_append(f->home, "bob", "after_cut", NULL, &e), -1);
        assert_non_null(strstr(e.msg, "incomplete row"));
        size_t n = 0;
        assert_int_equal(audit_list(f->home, count_row, &n, &e), -1);
    }
}

/* A write cut off by a crash after the head's row (never acknowledged: the head is written
 * after the append is on disk) is no row: verify and list pass over it, the next append
 * takes it off. A cut row the head names stays an error (test_truncated). */
static void test_torn_after_head(void **state)
{
    fixture *f = *state;
    append_n(f, 4);
    FILE *fp = fopen(f->log, "a");
    assert_non_null(fp);
    fputs("{\"seq\":5,\"time\":\"2026-12-06T15:26:13Z\",\"operator\":\"TORN", fp);
    fclose(fp);
    audit_report r = verify(f, NULL);
    assert_true(r.ok);
    assert_int_equal(r.rows, 4);
    err e;
    err_clear(&e);
    size_t n = 0;
    assert_int_equal(audit_list(f->home, count_row, &n, &e), 0);
    assert_int_equal(n, 4);
    json_t *d = json_pack("{s:i}", "i", 4);
    assert_int_equal(audit_append(f->home, "alice", "test_action", d, &e), 0);
    json_decref(d);
    r = verify(f, NULL);
    assert_true(r.ok);
    assert_int_equal(r.rows, 5);
    n = 0;
    assert_int_equal(audit_list(f->home, count_row, &n, &e), 0);
    assert_int_equal(n, 5);
    char **v = NULL;
    size_t nl = read_lines(f, &v);
    assert_int_equal(nl, 5);
    for (size_t i = 0; i < nl; i++)
        assert_null(strstr(v[i], "TORN"));
    free_lines(v, nl);
}

static void test_anchor(void **state)
{
    fixture *f = *state;
    append_n(f, 5);
    audit_report r = verify(f, NULL);
    char anchor[100];
    snprintf(anchor, sizeof anchor, "%llu:%s", (unsigned long long)r.head_seq, r.head_hash);
    append_n(f, 2);
    assert_true(verify(f, anchor).ok);
    /* Cut the last three whole rows: the chain itself still holds, the anchor does not,
     * nor does the head kept in desk.db. */
    char **v;
    size_t n = read_lines(f, &v);
    write_lines(f, v, n - 3, true);
    audit_report lr;
    err le;
    assert_int_equal(audit_verify_log(f->home, NULL, &lr, &le), 0);
    assert_true(lr.ok);
    r = verify(f, NULL);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "desk.db records the head 7:"));
    assert_int_equal(audit_verify_log(f->home, anchor, &r, &le), 0);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "removed from the end"));
    /* A rewritten log with the anchored seq but another hash. */
    char other[100];
    snprintf(other, sizeof other, "3:%064d", 7);
    write_lines(f, v, n, true);
    r = verify(f, other);
    assert_false(r.ok);
    assert_int_equal(r.bad_line, 3);
    assert_non_null(strstr(r.problem, "rewritten"));
    audit_report bad;
    err e;
    err_clear(&e);
    assert_int_equal(audit_verify(f->home, "x:y", &bad, &e), -1);
    assert_int_equal(e.code, ERR_USAGE);
    free_lines(v, n);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    err e;
    err_clear(&e);
    assert_int_equal(audit_append(f->home, "op", "", NULL, &e), -1);
    json_t *arr = json_array();
    assert_int_equal(audit_append(f->home, "op", "x", arr, &e), -1);
    json_decref(arr);
    assert_int_equal(audit_append(f->home, "op\xff", "x", NULL, &e), -1);
    json_t *big = json_pack("{s:s}", "blob", "");
    char *huge = malloc(AUDIT_ROW_MAX + 1);
    memset(huge, 'z', AUDIT_ROW_MAX);
    huge[AUDIT_ROW_MAX] = '\0';
    json_object_set_new(big, "blob", json_string(huge));
    assert_int_equal(audit_append(f->home, "op", "x", big, &e), -1);
    json_decref(big);
    free(huge);
    struct stat st;
    assert_int_equal(stat(f->log, &st) == 0 ? st.st_size : 0, 0);
    /* A NULL operator is recorded as "unknown"; a NULL details as {}. */
    assert_int_equal(audit_append(f->home, NULL, "x", NULL, NULL), 0);
    assert_true(verify(f, NULL).ok);
}

/* Four processes append 25 rows each at the same time: one chain of 100 rows. */
static void test_concurrent_appenders(void **state)
{
    fixture *f = *state;
    fflush(NULL);
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            for (int i = 0; i < 25; i++) {
                json_t *d = json_pack("{s:i, s:i}", "proc", k, "i", i);
                if (audit_append(f->home, "proc", "concurrent", d, NULL) < 0)
                    _exit(1);
                json_decref(d);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        int status = 0;
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    audit_report r = verify(f, NULL);
    assert_true(r.ok);
    assert_int_equal(r.rows, 100);
}

static void db_remove(const fixture *f)
{
    const char *sfx[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        char p[320];
        snprintf(p, sizeof p, "%s/desk.db%s", f->home, sfx[i]);
        unlink(p);
    }
}

static void expect_append_refused(const fixture *f, const char *why)
{
    err e;
    err_clear(&e);
    assert_int_equal(audit_append(f->home, "mallory", "after", NULL, &e), -1);
    if (!strstr(e.msg, why))
        fail_msg("append refused with '%s', not '%s'", e.msg, why);
}

/* audit.log deleted: verify says so (not "no rows yet"), appends are refused and the log
 * is not started anew; put back, the chain goes on. */
static void test_log_deleted(void **state)
{
    fixture *f = *state;
    append_n(f, 3);
    char **v;
    size_t n = read_lines(f, &v);
    assert_int_equal(unlink(f->log), 0);
    audit_report r = verify(f, NULL);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "missing or empty"));
    assert_non_null(strstr(r.problem, "records 3 rows"));
    expect_append_refused(f, "missing or empty");
    struct stat st;
    assert_int_equal(stat(f->log, &st), -1);
    /* An empty file in its place is no better. */
    write_lines(f, v, 0, true);
    assert_false(verify(f, NULL).ok);
    expect_append_refused(f, "missing or empty");
    write_lines(f, v, n, true);
    assert_true(verify(f, NULL).ok);
    append_n(f, 1);
    r = verify(f, NULL);
    assert_true(r.ok);
    assert_int_equal(r.rows, 4);
    free_lines(v, n);
}

/* Whole rows cut off the end: the rest is a valid chain, the head says what is missing. */
static void test_log_cut(void **state)
{
    fixture *f = *state;
    append_n(f, 5);
    char **v;
    size_t n = read_lines(f, &v);
    write_lines(f, v, n - 2, true);
    audit_report r = verify(f, NULL);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "desk.db records the head 5:"));
    expect_append_refused(f, "cut off its end");
    r = verify(f, NULL);
    assert_int_equal(r.rows, 3); /* nothing was appended: numbering did not go on from 3 */
    write_lines(f, v, n, true);
    assert_true(verify(f, NULL).ok);
    free_lines(v, n);
}

/* desk.db deleted (and made anew, as the next command would): the log's rows have no
 * head; adopting it is an explicit, recorded step. */
static void test_db_deleted(void **state)
{
    fixture *f = *state;
    append_n(f, 3);
    db_remove(f);
    audit_report r = verify(f, NULL);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "records no audit head"));
    expect_append_refused(f, "records no audit head");
    char path[320];
    snprintf(path, sizeof path, "%s/desk.db", f->home);
    store *s = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(store_open(&s, path, &e), 0);
    store_close(&s);
    assert_false(verify(f, NULL).ok);
    expect_append_refused(f, "records no audit head");
    assert_int_equal(audit_adopt(f->home, "officer", &e), 0);
    r = verify(f, NULL);
    assert_true(r.ok);
    assert_int_equal(r.rows, 4);
    assert_true(r.db_head);
    assert_int_equal(r.db_head_seq, 4);
    assert_int_equal(audit_adopt(f->home, "officer", &e), -1);
    assert_non_null(strstr(e.msg, "already records"));
    append_n(f, 1);
    assert_true(verify(f, NULL).ok);
}

/* A row whose head did not move (a caller's transaction rolled back, or a crash between
 * the two): the log may be ahead of the head, never without it. */
static void test_log_ahead_of_head(void **state)
{
    fixture *f = *state;
    append_n(f, 2);
    char path[320];
    snprintf(path, sizeof path, "%s/desk.db", f->home);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    err e;
    err_clear(&e);
    assert_int_equal(audit_append_db(db, f->home, "bob", "rolled_back", NULL, &e), 0);
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    audit_report r = verify(f, NULL);
    assert_true(r.ok);
    assert_int_equal(r.rows, 3);
    assert_int_equal(r.db_head_seq, 2);
    /* The same in a committed transaction moves the head with it; the row that did not
     * commit is not left to read as done: the log names it first (row 4). */
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(audit_append_db(db, f->home, "bob", "committed", NULL, &e), 0);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    r = verify(f, NULL);
    assert_true(r.ok);
    assert_int_equal(r.db_head_seq, 5);
    FILE *lf = fopen(f->log, "r");
    assert_non_null(lf);
    char ln[2048];
    int at = 0, marker = 0, committed = 0;
    while (fgets(ln, sizeof ln, lf)) {
        at++;
        if (strstr(ln, "\"audit.uncommitted\"") && strstr(ln, "\"first\":3") &&
            strstr(ln, "\"last\":3"))
            marker = at;
        if (strstr(ln, "\"committed\""))
            committed = at;
    }
    fclose(lf);
    assert_int_equal(marker, 4);
    assert_int_equal(committed, 5);
    /* the next append has nothing more to name */
    append_n(f, 1);
    r = verify(f, NULL);
    assert_true(r.ok);
    assert_int_equal(r.db_head_seq, 6);
    /* Another chain, longer than the head, put in the log's place: caught at the head. */
    fixture other;
    snprintf(other.home, sizeof other.home, "%.200s/other", f->home);
    assert_int_equal(mkdir(other.home, 0700), 0);
    snprintf(other.log, sizeof other.log, "%s/%s", other.home, AUDIT_FILE);
    append_n(&other, 8);
    assert_int_equal(rename(other.log, f->log), 0);
    r = verify(f, NULL);
    assert_false(r.ok);
    assert_non_null(strstr(r.problem, "desk.db records the head 6:"));
    expect_append_refused(f, "does not hold row seq 6");
}

/* A desk from before the head (schema 10, a log with rows) adopts its log's head at its
 * next row, once; a desk.db made anew does not (test_db_deleted). */
static void test_migrated_desk_adopts(void **state)
{
    fixture *f = *state;
    char path[320];
    snprintf(path, sizeof path, "%s/desk.db", f->home);
    err e;
    err_clear(&e);
    /* A desk made before the audit head: its schema stops at the step before it (later
     * steps are not undone by hand, so this keeps holding when steps are added). */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        store_migrate(db, store_schema_steps, store_schema_audit_head_version - 1, &e), 0);
    sqlite3_close(db);
    append_n(f, 3);
    /* An audit row made on such a desk may create the head table: the old desk had none. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE IF EXISTS audit_head", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    store *s = NULL;
    assert_int_equal(store_open(&s, path, &e), 0);
    store_close(&s);
    audit_report r = verify(f, NULL);
    assert_true(r.ok);
    assert_false(r.db_head);
    append_n(f, 1);
    r = verify(f, NULL);
    assert_true(r.ok);
    assert_true(r.db_head);
    assert_int_equal(r.db_head_seq, 4);
}

/* The configuration files are decisions of a role each, about their file; an unknown
 * kind is none of them; the hash is of the exact bytes, "absent" for no file. */
static void test_config_kinds(void **state)
{
    (void)state;
    static const char *const want[][3] = {
        {"policy", "config.policy", "admin"},
        {"risk-limits", "config.risk_limits", "admin"},
        {"compliance", "config.compliance", "compliance"},
        {"sanctions", "config.desk_sanctions", "compliance"},
        {"prices", "config.prices", "compliance"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const audit_config_kind *k = audit_config_kind_find(want[i][0]);
        assert_non_null(k);
        assert_string_equal(k->action, want[i][1]);
        assert_true(statement_is_decision(k->action));
        assert_string_equal(statement_role_for(k->action), want[i][2]);
        assert_ptr_equal(audit_config_kind_find(k->file), k);
        json_t *d = json_pack("{s:s}", "file", k->file);
        char subject[STATEMENT_SUBJECT_MAX], expect[STATEMENT_SUBJECT_MAX];
        statement_subject(subject, k->action, d);
        snprintf(expect, sizeof expect, "config:%s", k->file);
        assert_string_equal(subject, expect);
        json_decref(d);
    }
    assert_null(audit_config_kind_find("fatf"));
    char h[AUDIT_HASH_HEX];
    audit_config_hash(h, "", 0, true);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    audit_config_hash(h, NULL, 0, false);
    assert_string_equal(h, AUDIT_CONFIG_ABSENT);
    /* long or non-UTF-8 text is recorded by its hash alone */
    const audit_config_kind *k = audit_config_kind_find("policy");
    json_t *d = audit_config_details(k, "ok\n", 3, true, NULL);
    assert_string_equal(json_string_value(json_object_get(d, "content")), "ok\n");
    assert_true(json_is_null(json_object_get(d, "previous")));
    json_decref(d);
    d = audit_config_details(k, "\xff\xfe", 2, true, NULL);
    assert_null(json_object_get(d, "content"));
    assert_true(json_is_true(json_object_get(d, "content_omitted")));
    json_decref(d);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_append_list_verify), T(test_edited_row),  T(test_edited_and_rehashed),
        T(test_deleted_row),        T(test_reordered_and_duplicated),
        T(test_truncated),
        T(test_torn_after_head),          T(test_anchor),      T(test_refusals),
        T(test_concurrent_appenders), T(test_log_deleted), T(test_log_cut),
        T(test_db_deleted),         T(test_log_ahead_of_head), T(test_migrated_desk_adopts),
        cmocka_unit_test(test_config_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
