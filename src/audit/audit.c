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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/text.h"

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
} list_ctx;

static int list_line(void *vctx, size_t line_no, const char *s, size_t len, bool complete,
                     err *e)
{
    list_ctx *lc = vctx;
    char problem[AUDIT_PROBLEM_MAX];
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
    int rc = lc->fn(lc->ctx, &r, e);
    free(raw);
    json_decref(row);
    return rc;
}

int audit_list(const char *home, audit_row_fn fn, void *ctx, err *e)
{
    list_ctx lc = {fn, ctx};
    return walk_lines(home, list_line, &lc, e);
}

typedef struct verify_ctx {
    audit_report *r;
    char prev_line_hash[AUDIT_HASH_HEX]; /* sha256 of the previous line's bytes */
    uint64_t anchor_seq;
    char anchor_hash[AUDIT_HASH_HEX];
    bool anchor_seen;
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

int audit_verify(const char *home, const char *anchor, audit_report *report, err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    memset(report, 0, sizeof *report);
    report->ok = true;
    verify_ctx vc;
    memset(&vc, 0, sizeof vc);
    vc.r = report;
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

static int append_locked(int fd, const char *path, const char *operator_name,
                         const char *action, const json_t *details, err *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_set(e, ERR_IO, "cannot stat the audit log %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return err_set(e, ERR_INVALID, "the audit log %s is not a regular file", path);
    uint64_t seq = 1;
    char prev[AUDIT_HASH_HEX];
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
        sha256_hex(prev, last, last_len);
        free(last);
    }
    buf line;
    buf_init(&line);
    if (build_row(&line, seq, operator_name && *operator_name ? operator_name : "unknown",
                  action, details, prev, e) < 0) {
        buf_free(&line);
        return -1;
    }
    int rc = 0;
    if (write_all(fd, line.data, line.len) < 0 || fsync(fd) < 0) {
        rc = err_set(e, ERR_IO, "cannot write the audit log %s: %s", path, strerror(errno));
        /* Leave no half row behind: we still hold the lock. */
        if (ftruncate(fd, st.st_size) == 0)
            (void)fsync(fd);
    }
    buf_free(&line);
    return rc;
}

int audit_append(const char *home, const char *operator_name, const char *action,
                 const json_t *details, err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    if (!action || !*action)
        return err_set(e, ERR_INVALID, "audit row without an action");
    if (details && !json_is_object(details))
        return err_set(e, ERR_INVALID, "audit row details must be a JSON object");
    char path[4200];
    if (audit_path(path, sizeof path, home, e) < 0)
        return -1;
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot open the audit log %s: %s", path, strerror(errno));
    int rc;
    while ((rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
        ;
    if (rc < 0)
        rc = err_set(e, ERR_IO, "cannot lock the audit log %s: %s", path, strerror(errno));
    else
        rc = append_locked(fd, path, operator_name, action, details, e);
    close(fd); /* releases the lock */
    return rc;
}
