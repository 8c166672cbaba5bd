/* audit.c: the hash-chained audit log behind audit.h. A row is one line:
 *   {"seq":N,"time":T,"operator":O,"action":A,"details":{...},"prev":P,"hash":H}
 * P is the SHA-256 of the previous line's exact bytes (64 zeros for the first row) and
 * H the SHA-256 of this line's bytes up to (excluding) `,"hash":`. Verification works on
 * the bytes as stored, so no canonical JSON is needed to check a row. */
#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit_priv.h"
#include "base/bytes.h"
#include "base/text.h"
#include "base/fsperm.h"
#include "base/log.h"

#define HASH_KEY ",\"hash\":\""
#define HASH_KEY_LEN (sizeof HASH_KEY - 1)
#define SUFFIX_LEN (HASH_KEY_LEN + 64 + 2) /* ,"hash":" + 64 hex + "} */

static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

static int audit_path(char *out, size_t cap, const char *home, err *e)
{
    int n = snprintf(out, cap, "%s/%s", home, AUDIT_FILE);
    if (n < 0 || (size_t)n >= cap)
        return err_set(e, ERR_INVALID, "desk home path is too long: %s", home);
    return 0;
}

static void sha256_hex(char out[AUDIT_HASH_HEX], const void *data, size_t len)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    hex_encode(out, AUDIT_HASH_HEX, h, sizeof h, false);
}

static bool is_lower_hex64(const char *s)
{
    for (size_t i = 0; i < 64; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* Checks the shape of one line and parses it. On failure writes a problem text. */
static json_t *row_parse(const char *line, size_t len, char *problem, size_t cap)
{
    if (len == 0) {
        snprintf(problem, cap, "empty line");
        return NULL;
    }
    if (len > AUDIT_ROW_MAX) {
        snprintf(problem, cap, "row longer than %d bytes", AUDIT_ROW_MAX);
        return NULL;
    }
    if (len < SUFFIX_LEN + 2 || memcmp(line + len - SUFFIX_LEN, HASH_KEY, HASH_KEY_LEN) != 0 ||
        memcmp(line + len - 2, "\"}", 2) != 0 || !is_lower_hex64(line + len - 66)) {
        snprintf(problem, cap, "not an audit row (it must end with ,\"hash\":\"<64 hex>\"})");
        return NULL;
    }
    json_error_t jerr;
    json_t *row = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!row) {
        char shown[64];
        snprintf(problem, cap, "not valid JSON (%s)", text_safe_str(shown, sizeof shown, jerr.text));
        return NULL;
    }
    const json_t *seq = json_object_get(row, "seq");
    const json_t *prev = json_object_get(row, "prev");
    if (!json_is_object(row) || json_object_size(row) != 7 || !json_is_integer(seq) ||
        json_integer_value(seq) < 1 || !json_is_string(json_object_get(row, "time")) ||
        !json_is_string(json_object_get(row, "operator")) ||
        !json_is_string(json_object_get(row, "action")) ||
        !json_is_object(json_object_get(row, "details")) || !json_is_string(prev) ||
        json_string_length(prev) != 64 || !is_lower_hex64(json_string_value(prev)) ||
        !json_is_string(json_object_get(row, "hash"))) {
        snprintf(problem, cap, "not an audit row (fields seq, time, operator, action, details, "
                               "prev and hash are required and nothing else)");
        json_decref(row);
        return NULL;
    }
    return row;
}

/* Calls fn(ctx, line_no, bytes, len, complete) for each line; complete is false for a
 * last line without its newline. A missing file has no lines. */
typedef int (*line_fn)(void *ctx, size_t line_no, const char *s, size_t len, bool complete,
                       err *e);

static int walk_lines(const char *home, line_fn fn, void *ctx, err *e)
{
    char path[4200];
    if (audit_path(path, sizeof path, home, e) < 0)
        return -1;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return err_set(e, ERR_IO, "cannot read the audit log %s: %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    size_t line_no = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        line_no++;
        bool complete = line[n - 1] == '\n';
        size_t len = complete ? (size_t)n - 1 : (size_t)n;
        if (fn(ctx, line_no, line, len, complete, e) < 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = err_set(e, ERR_IO, "error reading the audit log %s", path);
    free(line);
    fclose(f);
    return rc;
}

typedef struct list_ctx {
    audit_row_fn fn;
    void *ctx;
    uint64_t head_seq; /* desk.db's head (0: unknown) */
    uint64_t last_seq; /* of the last row listed */
} list_ctx;

static int list_line(void *vctx, size_t line_no, const char *s, size_t len, bool complete,
                     err *e)
{
    list_ctx *lc = vctx;
    char problem[AUDIT_PROBLEM_MAX];
    if (!complete && lc->head_seq && lc->last_seq >= lc->head_seq) {
        /* the last line, after the head's row: a write cut off by a crash, never
         * acknowledged (the next append takes it off); not a row */
        LOG_W("audit", "audit log line %zu is a row cut off by a crash: not listed", line_no);
        return 0;
    }
    if (!complete)
        return err_set(e, ERR_INVALID,
                       "audit log line %zu is incomplete (no newline); run `fusion audit verify`",
                       line_no);
    json_t *row = row_parse(s, len, problem, sizeof problem);
    if (!row)
        return err_set(e, ERR_INVALID, "audit log line %zu: %s; run `fusion audit verify`",
                       line_no, problem);
    char *raw = strndup(s, len);
    if (!raw) {
        json_decref(row);
        return err_set(e, ERR_NOMEM, "out of memory reading the audit log");
    }
    audit_row r = {
        .seq = (uint64_t)json_integer_value(json_object_get(row, "seq")),
        .line = line_no,
        .time = json_string_value(json_object_get(row, "time")),
        .operator_name = json_string_value(json_object_get(row, "operator")),
        .action = json_string_value(json_object_get(row, "action")),
        .details = json_object_get(row, "details"),
        .hash = json_string_value(json_object_get(row, "hash")),
        .raw = raw,
    };
    lc->last_seq = r.seq;
    int rc = lc->fn(lc->ctx, &r, e);
    free(raw);
    json_decref(row);
    return rc;
}


typedef struct verify_ctx {
    audit_report *r;
    char prev_line_hash[AUDIT_HASH_HEX]; /* sha256 of the previous line's bytes */
    uint64_t anchor_seq;
    char anchor_hash[AUDIT_HASH_HEX];
    bool anchor_seen;
    uint64_t head_seq; /* desk.db's head (0: unknown): a cut-off row after it is no row */
} verify_ctx;

static int verify_fail(verify_ctx *vc, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int verify_fail(verify_ctx *vc, size_t line, const char *fmt, ...)
{
    vc->r->ok = false;
    vc->r->bad_line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vc->r->problem, sizeof vc->r->problem, fmt, ap);
    va_end(ap);
    return 1; /* stop walking; not an I/O error */
}

static int verify_line(verify_ctx *vc, size_t line_no, const char *s, size_t len, bool complete)
{
    char problem[AUDIT_PROBLEM_MAX];
    if (!complete && vc->head_seq && vc->r->rows >= vc->head_seq) {
        /* after the head's row: a write cut off by a crash, never acknowledged */
        LOG_W("audit", "audit log line %zu is a row cut off by a crash after the head's row "
              "(seq %" PRIu64 "): not a row; the next append takes it off", line_no,
              vc->head_seq);
        return 0;
    }
    if (!complete)
        return verify_fail(vc, line_no, "the last row is incomplete (no newline): the log was "
                                        "truncated or a write was cut off");
    json_t *row = row_parse(s, len, problem, sizeof problem);
    if (!row)
        return verify_fail(vc, line_no, "%s", problem);
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(row, "seq"));
    const char *prev = json_string_value(json_object_get(row, "prev"));
    char body_hash[AUDIT_HASH_HEX];
    sha256_hex(body_hash, s, len - SUFFIX_LEN);
    uint64_t want = vc->r->rows + 1;
    int rc = 0;
    if (memcmp(body_hash, s + len - 66, 64) != 0)
        rc = verify_fail(vc, line_no, "row seq %" PRIu64 " was edited (its hash does not match "
                         "its content)", seq);
    else if (seq > want)
        rc = verify_fail(vc, line_no, "row seq %" PRIu64 " follows seq %" PRIu64 ": row(s) "
                         "%" PRIu64 "..%" PRIu64 " were deleted", seq, want - 1, want, seq - 1);
    else if (seq < want)
        rc = verify_fail(vc, line_no, "row seq %" PRIu64 " where seq %" PRIu64 " was expected: "
                         "rows were reordered or duplicated", seq, want);
    else if (strcmp(prev, vc->prev_line_hash) != 0)
        rc = line_no > 1
                 ? verify_fail(vc, line_no - 1, "the row on this line was changed or replaced "
                               "(line %zu's prev hash no longer matches it)", line_no)
                 : verify_fail(vc, line_no, "the first row does not start the chain (prev is "
                               "not zero): rows before it were deleted");
    if (rc == 0) {
        vc->r->rows = seq;
        vc->r->head_seq = seq;
        memcpy(vc->r->head_hash, s + len - 66, 64);
        vc->r->head_hash[64] = '\0';
        sha256_hex(vc->prev_line_hash, s, len);
        if (vc->anchor_seq == seq) {
            vc->anchor_seen = true;
            if (strcmp(vc->anchor_hash, vc->r->head_hash) != 0)
                rc = verify_fail(vc, line_no, "row seq %" PRIu64 " is not the anchored row (hash "
                                 "%.16s... instead of %.16s...): the log was rewritten",
                                 seq, vc->r->head_hash, vc->anchor_hash);
        }
    }
    json_decref(row);
    return rc;
}

static int verify_line_cb(void *ctx, size_t line_no, const char *s, size_t len, bool complete,
                          err *e)
{
    /* A positive return stops the walk without being an error. */
    return verify_line(ctx, line_no, s, len, complete) ? -1 : 0;
}

static int parse_anchor(verify_ctx *vc, const char *anchor, err *e)
{
    const char *colon = strchr(anchor, ':');
    char *end = NULL;
    errno = 0;
    unsigned long long seq = colon ? strtoull(anchor, &end, 10) : 0;
    if (!colon || end != colon || errno || seq == 0 || anchor[0] < '0' || anchor[0] > '9' ||
        strlen(colon + 1) != 64 || !is_lower_hex64(colon + 1))
        return err_set(e, ERR_USAGE, "anchor '%s' is not SEQ:HASH (as printed by `fusion audit "
                       "verify`, 64 lowercase hex digits)", anchor);
    vc->anchor_seq = seq;
    memcpy(vc->anchor_hash, colon + 1, 65);
    return 0;
}

/* ---- the head in desk.db ---- */

typedef struct audit_head {
    bool present;
    uint64_t seq; /* 0: a desk migrated from before the head, to adopt its log's head */
    char hash[AUDIT_HASH_HEX];
} audit_head;

static int db_file(char *out, size_t cap, const char *home, err *e)
{
    int n = snprintf(out, cap, "%s/desk.db", home);
    if (n < 0 || (size_t)n >= cap)
        return err_set(e, ERR_INVALID, "desk home path is too long: %s", home);
    return 0;
}

static int db_exec(sqlite3 *db, const char *sql, const char *what, err *e)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(e, ERR_IO, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Opens <home>/desk.db; create makes it (0600) when missing, else a missing database
 * leaves *out NULL. */
static int db_open(sqlite3 **out, const char *home, bool create, err *e)
{
    *out = NULL;
    char path[4200];
    if (db_file(path, sizeof path, home, e) < 0)
        return -1;
    struct stat st;
    if (!create && stat(path, &st) < 0 && errno == ENOENT)
        return 0;
    if (create && fsperm_create_private(path, e) < 0)
        return -1;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        err_set(e, ERR_IO, "cannot open the desk database %s for the audit head: %s", path,
                db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 10000);
    /* An empty desk.db (made just now) gets the store's page size (store.c
     * STORE_PAGE_SIZE); SQLite fixes it at the first write, which may be this module's. */
    if (stat(path, &st) == 0 && st.st_size == 0 &&
        sqlite3_exec(db, "PRAGMA page_size = 8192", NULL, NULL, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot use the desk database %s for the audit head: %s", path,
                sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

static int head_read(sqlite3 *db, audit_head *h, err *e)
{
    memset(h, 0, sizeof *h);
    if (!db)
        return 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit_head WHERE id = 1", -1, &st, NULL) !=
        SQLITE_OK) {
        bool no_table = strstr(sqlite3_errmsg(db), "no such table") != NULL;
        sqlite3_finalize(st);
        return no_table ? 0
                        : err_set(e, ERR_IO, "cannot read the audit head in desk.db: %s",
                                  sqlite3_errmsg(db));
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite3_int64 seq = sqlite3_column_int64(st, 0);
        const char *hash = (const char *)sqlite3_column_text(st, 1);
        if (seq < 0 || !hash || (seq > 0 && (strlen(hash) != 64 || !is_lower_hex64(hash)))) {
            sqlite3_finalize(st);
            return err_set(e, ERR_STATE, "the audit head in desk.db is damaged; check the log "
                           "with `fusion audit verify`");
        }
        h->present = true;
        h->seq = (uint64_t)seq;
        snprintf(h->hash, sizeof h->hash, "%s", seq > 0 ? hash : "");
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, ERR_IO, "cannot read the audit head in desk.db: %s", sqlite3_errmsg(db));
    return 0;
}

int audit_list(const char *home, audit_row_fn fn, void *ctx, err *e)
{
    /* The head first (an append writes its rows before it commits the head). */
    list_ctx lc = {fn, ctx, 0, 0};
    sqlite3 *db = NULL;
    audit_head h;
    if (db_open(&db, home, false, e) < 0 || head_read(db, &h, e) < 0) {
        sqlite3_close(db);
        return -1;
    }
    sqlite3_close(db);
    lc.head_seq = h.present ? h.seq : 0;
    return walk_lines(home, list_line, &lc, e);
}

static int head_write(sqlite3 *db, uint64_t seq, const char *hash, err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2) "
                                    "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, "
                                    "hash = excluded.hash", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, ERR_IO, "cannot record the audit head in desk.db: %s",
                       sqlite3_errmsg(db));
    return 0;
}

int audit_db_open(sqlite3 **out, const char *home, err *e)
{
    return db_open(out, home, false, e);
}

/* ---- verifying ---- */

/* The walk of the log alone, anchored or not. */
static int verify_walk(const char *home, const char *anchor, uint64_t head_seq,
                       audit_report *report, err *e)
{
    memset(report, 0, sizeof *report);
    report->ok = true;
    verify_ctx vc;
    memset(&vc, 0, sizeof vc);
    vc.r = report;
    vc.head_seq = head_seq;
    memcpy(vc.prev_line_hash, zero_hash, sizeof zero_hash);
    if (anchor && parse_anchor(&vc, anchor, e) < 0)
        return -1;
    err we;
    err_clear(&we);
    if (walk_lines(home, verify_line_cb, &vc, &we) < 0 && report->ok) {
        if (e)
            *e = we;
        return -1;
    }
    if (report->ok && anchor && !vc.anchor_seen) {
        report->ok = false;
        report->bad_line = report->rows + 1;
        snprintf(report->problem, sizeof report->problem,
                 "the log ends at seq %" PRIu64 " but the anchor is seq %" PRIu64
                 ": rows were removed from the end", report->rows, vc.anchor_seq);
    }
    return 0;
}

int audit_verify(const char *home, const char *anchor, audit_report *report, err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    /* The head first: an append writes its row before it commits the head, so a head
     * read now is in the log read after it. */
    sqlite3 *db = NULL;
    audit_head h;
    int rc = db_open(&db, home, false, e);
    if (rc == 0)
        rc = head_read(db, &h, e);
    sqlite3_close(db);
    if (rc < 0)
        return -1;
    uint64_t head_seq = h.present ? h.seq : 0;
    if (verify_walk(home, anchor, head_seq, report, e) < 0)
        return -1;
    report->db_head = h.present && h.seq > 0;
    report->db_head_seq = h.seq;
    if (!report->ok || (h.present && h.seq == 0))
        return 0; /* a migrated desk adopts its log's head at the next append */
    if (!h.present && report->rows > 0) {
        report->ok = false;
        report->bad_line = 1;
        snprintf(report->problem, sizeof report->problem,
                 "desk.db records no audit head but the log has %" PRIu64 " rows: desk.db was "
                 "deleted or replaced, or the desk is older than the head (then record it with "
                 "`fusion audit adopt`)", report->rows);
        return 0;
    }
    if (!h.present)
        return 0;
    char head[AUDIT_HASH_HEX + 24];
    snprintf(head, sizeof head, "%" PRIu64 ":%s", h.seq, h.hash);
    audit_report ar;
    if (verify_walk(home, head, head_seq, &ar, e) < 0)
        return -1;
    if (!ar.ok) {
        report->ok = false;
        report->bad_line = ar.bad_line;
        if (report->rows == 0)
            snprintf(report->problem, sizeof report->problem,
                     "the log is missing or empty but desk.db records %" PRIu64 " rows (head "
                     "%" PRIu64 ":%.16s...): it was deleted or truncated", h.seq, h.seq, h.hash);
        else
            snprintf(report->problem, sizeof report->problem,
                     "desk.db records the head %" PRIu64 ":%.16s... (%.150s)", h.seq, h.hash,
                     ar.problem);
    }
    return 0;
}

int audit_verify_log(const char *home, const char *anchor, audit_report *report, err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    return verify_walk(home, anchor, 0, report, e);
}

/* Reads the last complete line of fd (size bytes) into *out (malloc). */
static int read_last_line(int fd, off_t size, char **out, size_t *out_len, const char *path,
                          err *e)
{
    size_t want = size > AUDIT_ROW_MAX + 2 ? AUDIT_ROW_MAX + 2 : (size_t)size;
    char *tail = malloc(want);
    if (!tail)
        return err_set(e, ERR_NOMEM, "out of memory reading the audit log");
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(fd, tail + got, want - got, size - (off_t)want + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(tail);
            return err_set(e, ERR_IO, "cannot read the audit log %s: %s", path,
                           n < 0 ? strerror(errno) : "unexpected end of file");
        }
        got += (size_t)n;
    }
    if (tail[want - 1] != '\n') {
        free(tail);
        return err_set(e, ERR_STATE, "the audit log %s ends with an incomplete row; run "
                       "`fusion audit verify` and restore the log before signing", path);
    }
    size_t end = want - 1, start = end;
    while (start > 0 && tail[start - 1] != '\n')
        start--;
    if (start == 0 && (size_t)size > want) {
        free(tail);
        return err_set(e, ERR_STATE, "the last row of the audit log %s is longer than %d bytes; "
                       "run `fusion audit verify`", path, AUDIT_ROW_MAX);
    }
    memmove(tail, tail + start, end - start);
    *out = tail;
    *out_len = end - start;
    return 0;
}

static void utc_now(char out[48])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000L));
}

/* JSON text of a string value (ASCII-only output); NULL for invalid UTF-8. */
static char *json_str_text(const char *s)
{
    json_t *j = json_string(s);
    if (!j)
        return NULL;
    char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII | JSON_COMPACT);
    json_decref(j);
    return t;
}

static int build_row(buf *line, uint64_t seq, const char *operator_name, const char *action,
                     const json_t *details, const char prev[AUDIT_HASH_HEX], err *e)
{
    char when[48];
    utc_now(when);
    char *op = json_str_text(operator_name);
    char *act = json_str_text(action);
    json_t *empty = details ? NULL : json_object();
    char *det = json_dumps(details ? details : empty,
                           JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(empty);
    int rc = -1;
    if (!op || !act || !det) {
        err_set(e, ERR_INVALID, "audit row: operator, action and details must be valid UTF-8");
        goto out;
    }
    char head[128];
    snprintf(head, sizeof head, "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"operator\":", seq, when);
    char hash[AUDIT_HASH_HEX];
    if (buf_append(line, head, strlen(head), e) < 0 || buf_append(line, op, strlen(op), e) < 0 ||
        buf_append(line, ",\"action\":", 10, e) < 0 ||
        buf_append(line, act, strlen(act), e) < 0 ||
        buf_append(line, ",\"details\":", 11, e) < 0 ||
        buf_append(line, det, strlen(det), e) < 0 ||
        buf_append(line, ",\"prev\":\"", 9, e) < 0 || buf_append(line, prev, 64, e) < 0 ||
        buf_append(line, "\"", 1, e) < 0)
        goto out;
    sha256_hex(hash, line->data, line->len);
    if (buf_append(line, HASH_KEY, HASH_KEY_LEN, e) < 0 || buf_append(line, hash, 64, e) < 0 ||
        buf_append(line, "\"}", 2, e) < 0)
        goto out;
    if (line->len > AUDIT_ROW_MAX) {
        err_set(e, ERR_INVALID, "audit row longer than %d bytes refused", AUDIT_ROW_MAX);
        goto out;
    }
    rc = buf_push(line, '\n', e);
out:
    free(op);
    free(act);
    free(det);
    return rc;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Whether the log holds row seq with hash (the log is ahead of the head). */
typedef struct find_ctx {
    uint64_t seq;
    const char *hash;
    bool found, same;
} find_ctx;

static int find_line(void *vctx, size_t line_no, const char *s, size_t len, bool complete,
                     err *e)
{
    find_ctx *fc = vctx;
    char problem[AUDIT_PROBLEM_MAX];
    json_t *row = complete ? row_parse(s, len, problem, sizeof problem) : NULL;
    if (!row)
        return 0;
    if ((uint64_t)json_integer_value(json_object_get(row, "seq")) == fc->seq && !fc->found) {
        fc->found = true;
        fc->same = memcmp(s + len - 66, fc->hash, 64) == 0;
    }
    json_decref(row);
    return 0;
}

/* The log (last row seq_l with hash_l; seq_l 0 when it has none) must hold the head that
 * desk.db records. */
static int head_check(const char *home, const char *path, const audit_head *h, uint64_t seq_l,
                      const char *hash_l, err *e)
{
    if (!h->present) {
        if (seq_l == 0)
            return 0;
        return err_set(e, ERR_STATE, "desk.db records no audit head but the audit log %s has "
                       "rows up to seq %" PRIu64 ": desk.db was deleted or replaced, or the desk "
                       "is older than the head; check the log with `fusion audit verify`, then "
                       "record its head with `fusion audit adopt`", path, seq_l);
    }
    if (seq_l == 0)
        return err_set(e, ERR_STATE, "the audit log %s is missing or empty but desk.db records "
                       "%" PRIu64 " rows (head %" PRIu64 ":%.16s...): it was deleted or "
                       "truncated; restore it from a backup", path, h->seq, h->seq, h->hash);
    if (seq_l < h->seq)
        return err_set(e, ERR_STATE, "the audit log %s ends at seq %" PRIu64 " but desk.db "
                       "records rows up to seq %" PRIu64 ": rows were cut off its end; restore it "
                       "from a backup", path, seq_l, h->seq);
    bool same = strcmp(hash_l, h->hash) == 0;
    if (seq_l > h->seq) {
        /* A crash between the row and the head, or a caller's rollback: the log may be
         * ahead, but the head must be one of its rows. */
        find_ctx fc = {h->seq, h->hash, false, false};
        if (walk_lines(home, find_line, &fc, e) < 0)
            return -1;
        same = fc.found && fc.same;
    }
    if (!same)
        return err_set(e, ERR_STATE, "the audit log %s does not hold row seq %" PRIu64 " as "
                       "desk.db records it (%.16s...): the log was rewritten; run `fusion audit "
                       "verify` and restore it from a backup", path, h->seq, h->hash);
    return 0;
}

/* Appends rows[0..n) to fd (locked) with one write and one fsync, and records the last
 * as the head on db (inside a transaction). On failure nothing of them is left in the file. */
/* A row without its newline at the end of the log, after the row desk.db's head names, is
 * a write cut off by a crash (a kill can stop even one write(2) between pages). It was
 * never acknowledged: the head is written only after the whole append is on disk. Under
 * the append lock it is taken away before the next append; st follows the new size. A cut
 * row the head names (or with no head to say) is left for the checks that refuse it. */
static int cut_torn_tail(int fd, struct stat *st, const char *path, sqlite3 *db, err *e)
{
    if (st->st_size <= 0)
        return 0;
    char c;
    if (pread(fd, &c, 1, st->st_size - 1) != 1)
        return err_set(e, ERR_IO, "cannot read the audit log %s: %s", path, strerror(errno));
    if (c == '\n')
        return 0;
    off_t end = st->st_size;
    char chunk[4096];
    off_t keep = 0;
    while (end > 0 && keep == 0) {
        off_t from = end > (off_t)sizeof chunk ? end - (off_t)sizeof chunk : 0;
        ssize_t got = pread(fd, chunk, (size_t)(end - from), from);
        if (got != end - from)
            return err_set(e, ERR_IO, "cannot read the audit log %s: %s", path,
                           strerror(errno));
        for (ssize_t i = got - 1; i >= 0; i--)
            if (chunk[i] == '\n') {
                keep = from + i + 1;
                break;
            }
        end = from;
    }
    audit_head h;
    if (head_read(db, &h, e) < 0)
        return -1;
    if (!h.present || h.seq == 0 || keep == 0)
        return 0;
    char *last = NULL;
    size_t last_len = 0;
    if (read_last_line(fd, keep, &last, &last_len, path, e) < 0)
        return -1;
    char problem[AUDIT_PROBLEM_MAX];
    json_t *row = row_parse(last, last_len, problem, sizeof problem);
    free(last);
    uint64_t last_seq = row ? (uint64_t)json_integer_value(json_object_get(row, "seq")) : 0;
    json_decref(row);
    if (last_seq < h.seq)
        return 0;
    if (ftruncate(fd, keep) < 0 || fsync(fd) < 0)
        return err_set(e, ERR_IO, "cannot take a cut-off row off the audit log %s: %s", path,
                       strerror(errno));
    LOG_W("audit", "%s: a row cut off by a crash (%lld bytes without their newline, never "
          "acknowledged) was taken off the end of the log", path,
          (long long)(st->st_size - keep));
    st->st_size = keep;
    return 0;
}

static int append_locked(int fd, const char *path, const char *home, sqlite3 *db,
                         const audit_row_in *rows, size_t n, off_t *old_size, err *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_set(e, ERR_IO, "cannot stat the audit log %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return err_set(e, ERR_INVALID, "the audit log %s is not a regular file", path);
    if (cut_torn_tail(fd, &st, path, db, e) < 0)
        return -1;
    *old_size = st.st_size;
    uint64_t seq = 1;
    char prev[AUDIT_HASH_HEX], last_hash[AUDIT_HASH_HEX] = "";
    memcpy(prev, zero_hash, sizeof zero_hash);
    if (st.st_size > 0) {
        char *last = NULL;
        size_t last_len = 0;
        if (read_last_line(fd, st.st_size, &last, &last_len, path, e) < 0)
            return -1;
        char problem[AUDIT_PROBLEM_MAX];
        json_t *row = row_parse(last, last_len, problem, sizeof problem);
        if (!row) {
            free(last);
            return err_set(e, ERR_STATE, "the last row of the audit log %s is damaged (%s); run "
                           "`fusion audit verify`", path, problem);
        }
        seq = (uint64_t)json_integer_value(json_object_get(row, "seq")) + 1;
        json_decref(row);
        memcpy(last_hash, last + last_len - 66, 64);
        last_hash[64] = '\0';
        sha256_hex(prev, last, last_len);
        free(last);
    }
    audit_head h;
    if (head_read(db, &h, e) < 0)
        return -1;
    if (h.present && h.seq == 0) {
        /* Migrated from before the head: adopt the log's, once its chain checks out. */
        audit_report r;
        if (verify_walk(home, NULL, 0, &r, e) < 0)
            return -1;
        if (!r.ok)
            return err_set(e, ERR_STATE, "the audit log %s is broken at line %zu (%s): run "
                           "`fusion audit verify`", path, r.bad_line, r.problem);
        h.present = r.rows > 0;
        h.seq = r.head_seq;
        snprintf(h.hash, sizeof h.hash, "%s", r.head_hash);
    }
    if (head_check(home, path, &h, seq - 1, last_hash, e) < 0)
        return -1;
    /* the rows chained in memory: each one's prev is the hash of the line before */
    buf all, line;
    buf_init(&all);
    buf_init(&line);
    char hash[AUDIT_HASH_HEX];
    int rc = 0;
    if (n && h.present && seq - 1 > h.seq) {
        /* Rows after the head's: appended, but the desk.db transaction they belonged to
         * never committed (rolled back, or the process ended between the two). We hold
         * desk.db's write lock, so no commit is still coming for them. They stay in the
         * chain, and the log says so first, so that nobody reads them as done. */
        json_t *det = json_pack("{s:I,s:I,s:s}", "first", (json_int_t)(h.seq + 1), "last",
                                (json_int_t)(seq - 1), "meaning",
                                "these rows were appended but desk.db did not commit with them "
                                "(a rollback, or the process ended before its commit; or desk.db "
                                "is an older copy): what they record was not done by this desk");
        rc = det ? build_row(&line, seq, "desk", "audit.uncommitted", det, prev, e)
                 : err_set(e, ERR_NOMEM, "out of memory");
        json_decref(det);
        if (rc == 0) {
            memcpy(hash, line.data + line.len - 1 - 66, 64);
            hash[64] = '\0';
            sha256_hex(prev, line.data, line.len - 1);
            rc = buf_append(&all, line.data, line.len, e);
            LOG_W("audit", "%s: rows %" PRIu64 "-%" PRIu64 " were not committed with desk.db; "
                  "row %" PRIu64 " says so", path, h.seq + 1, seq - 1, seq);
            seq++;
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *who = rows[i].operator_name && *rows[i].operator_name ? rows[i].operator_name
                                                                           : "unknown";
        json_t *signed_details = NULL;
        if (audit_sign_row(db, seq + i, who, rows[i].action, rows[i].details, &signed_details,
                           e) < 0) {
            rc = -1;
            break;
        }
        line.len = 0;
        rc = build_row(&line, seq + i, who, rows[i].action,
                       signed_details ? signed_details : rows[i].details, prev, e);
        json_decref(signed_details);
        if (rc == 0) {
            memcpy(hash, line.data + line.len - 1 - 66, 64);
            hash[64] = '\0';
            sha256_hex(prev, line.data, line.len - 1);
            rc = buf_append(&all, line.data, line.len, e);
        }
    }
    buf_free(&line);
    if (rc == 0 && n) {
        if (write_all(fd, all.data, all.len) < 0 || fsync(fd) < 0) {
            rc = err_set(e, ERR_IO, "cannot write the audit log %s: %s", path, strerror(errno));
            /* Leave no half row behind: we still hold the lock. */
            if (ftruncate(fd, st.st_size) == 0)
                (void)fsync(fd);
        } else if (head_write(db, seq + n - 1, hash, e) < 0) {
            rc = -1;
            if (ftruncate(fd, st.st_size) == 0)
                (void)fsync(fd);
        }
    }
    buf_free(&all);
    return rc;
}

static int append_rows_db(sqlite3 *db, const char *home, const audit_row_in *rows, size_t n,
                          err *e);

int audit_append_db(sqlite3 *db, const char *home, const char *operator_name,
                    const char *action, const json_t *details, err *e)
{
    audit_row_in one = {.operator_name = operator_name, .action = action, .details = details};
    return append_rows_db(db, home, &one, 1, e);
}

int audit_append_batch_db(sqlite3 *db, const char *home, const audit_row_in *rows, size_t n,
                          err *e)
{
    return append_rows_db(db, home, rows, n, e);
}

static int append_rows_db(sqlite3 *db, const char *home, const audit_row_in *rows, size_t n,
                          err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].action || !*rows[i].action)
            return err_set(e, ERR_INVALID, "audit row without an action");
        if (rows[i].details && !json_is_object(rows[i].details))
            return err_set(e, ERR_INVALID, "audit row details must be a JSON object");
    }
    char path[4200];
    if (audit_path(path, sizeof path, home, e) < 0)
        return -1;
    sqlite3 *own = NULL;
    if (!db) {
        if (db_open(&own, home, true, e) < 0)
            return -1;
        db = own;
    }
    /* The database's write lock before the log's flock, in every process: a caller
     * inside its own transaction already holds it. */
    bool outer = !sqlite3_get_autocommit(db);
    if (db_exec(db, outer ? "SAVEPOINT audit_append" : "BEGIN IMMEDIATE",
                "locking desk.db for the audit head", e) < 0 ||
        db_exec(db, AUDIT_HEAD_SQL, "creating the audit head in desk.db", e) < 0 ||
        db_exec(db, AUDIT_DESK_SQL, "creating the desk id in desk.db", e) < 0) {
        if (!outer)
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(own);
        return -1;
    }
    /* A log that desk.db says has rows is not made anew when it is gone. */
    audit_head h;
    int rc = head_read(db, &h, e);
    int fd = -1;
    if (rc == 0) {
        bool has_rows = h.present && h.seq > 0;
        fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (has_rows ? 0 : O_CREAT),
                  0600);
        if (fd < 0 && errno == ENOENT && has_rows)
            rc = head_check(home, path, &h, 0, "", e);
        else if (fd < 0)
            rc = err_set(e, ERR_IO, "cannot open the audit log %s: %s", path, strerror(errno));
    }
    while (rc == 0 && (rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
        rc = 0;
    if (rc < 0 && fd >= 0)
        err_set(e, ERR_IO, "cannot lock the audit log %s: %s", path, strerror(errno));
    off_t old_size = 0;
    if (rc == 0)
        rc = append_locked(fd, path, home, db, rows, n, &old_size, e);
    if (rc == 0 && db_exec(db, outer ? "RELEASE audit_append" : "COMMIT",
                           "recording the audit head in desk.db", e) < 0) {
        rc = -1;
        /* The head did not move: take the row back while the lock is still ours. */
        if (ftruncate(fd, old_size) == 0)
            (void)fsync(fd);
    }
    if (rc < 0)
        sqlite3_exec(db, outer ? "ROLLBACK TO audit_append; RELEASE audit_append" : "ROLLBACK",
                     NULL, NULL, NULL);
    if (fd >= 0)
        close(fd); /* releases the lock */
    sqlite3_close(own);
    return rc;
}

int audit_append(const char *home, const char *operator_name, const char *action,
                 const json_t *details, err *e)
{
    return audit_append_db(NULL, home, operator_name, action, details, e);
}

int audit_adopt(const char *home, const char *operator_name, err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    char path[4200];
    if (audit_path(path, sizeof path, home, e) < 0)
        return -1;
    sqlite3 *db = NULL;
    if (db_open(&db, home, true, e) < 0)
        return -1;
    int rc = -1;
    audit_head h;
    audit_report r;
    if (db_exec(db, "BEGIN IMMEDIATE", "locking desk.db for the audit head", e) < 0)
        goto out;
    if (db_exec(db, AUDIT_HEAD_SQL, "creating the audit head in desk.db", e) < 0 ||
        head_read(db, &h, e) < 0)
        goto fail;
    if (h.present && h.seq > 0) {
        err_set(e, ERR_STATE, "desk.db already records the audit head %" PRIu64 ":%.16s...: "
                "nothing to adopt (`fusion audit verify` checks the log against it)", h.seq,
                h.hash);
        goto fail;
    }
    if (verify_walk(home, NULL, 0, &r, e) < 0)
        goto fail;
    if (!r.ok) {
        err_set(e, ERR_STATE, "the audit log %s is broken at line %zu (%s): not adopted", path,
                r.bad_line, r.problem);
        goto fail;
    }
    if (r.rows == 0) {
        err_set(e, ERR_STATE, "the audit log %s has no rows: nothing to adopt", path);
        goto fail;
    }
    if (head_write(db, r.head_seq, r.head_hash, e) < 0 ||
        db_exec(db, "COMMIT", "recording the audit head in desk.db", e) < 0)
        goto fail;
    sqlite3_close(db);
    db = NULL;
    char head[AUDIT_HASH_HEX + 24];
    snprintf(head, sizeof head, "%" PRIu64 ":%s", r.head_seq, r.head_hash);
    json_t *d = json_pack("{s:s}", "adopted_head", head);
    rc = d ? audit_append(home, operator_name, "audit.adopt", d, e)
           : err_set(e, ERR_NOMEM, "out of memory");
    json_decref(d);
    goto out;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_close(db);
    return rc;
}

int audit_check(const char *home, err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    char path[4200];
    if (audit_path(path, sizeof path, home, e) < 0)
        return -1;
    sqlite3 *db = NULL;
    audit_head h;
    int rc = db_open(&db, home, false, e);
    if (rc == 0)
        rc = head_read(db, &h, e);
    sqlite3_close(db);
    if (rc < 0 || (h.present && h.seq == 0))
        return rc; /* a migrated desk adopts its log's head at its next row */
    uint64_t seq_l = 0;
    char hash_l[AUDIT_HASH_HEX] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno != ENOENT)
        return err_set(e, ERR_IO, "cannot open the audit log %s: %s", path, strerror(errno));
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
        char *last = NULL;
        size_t last_len = 0;
        char problem[AUDIT_PROBLEM_MAX];
        json_t *row = NULL;
        if (read_last_line(fd, st.st_size, &last, &last_len, path, e) < 0 ||
            !(row = row_parse(last, last_len, problem, sizeof problem))) {
            if (last)
                err_set(e, ERR_STATE, "the last row of the audit log %s is damaged (%s); run "
                        "`fusion audit verify`", path, problem);
            free(last);
            close(fd);
            return -1;
        }
        seq_l = (uint64_t)json_integer_value(json_object_get(row, "seq"));
        memcpy(hash_l, last + last_len - 66, 64);
        hash_l[64] = '\0';
        json_decref(row);
        free(last);
    }
    if (fd >= 0)
        close(fd);
    return head_check(home, path, &h, seq_l, hash_l, e);
}
