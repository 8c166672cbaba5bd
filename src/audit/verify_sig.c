/* verify_sig.c: checking the signed decisions of an audit log again, row by row, and
 * exporting them as EIP-712 typed data (see statement.h). Apart from signed.c, which
 * signs rows as they are appended (audit.c calls it), because this side reads the whole
 * log (audit.c's audit_list) and the two would otherwise depend on each other. */
#include "audit/audit.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit_priv.h"
#include "audit/statement.h"
#include "base/bytes.h"
#include "base/text.h"
#include "crypto/eip712.h"

int audit_desk_id(const char *home, uint8_t desk_id[32], bool *present, err *e)
{
    sqlite3 *db = NULL;
    uint64_t seq = 0;
    *present = false;
    int rc = audit_db_open(&db, home, e);
    if (rc == 0)
        rc = audit_desk_read(db, desk_id, &seq, present, e);
    sqlite3_close(db);
    return rc;
}

/* ---- verification ---- */

typedef struct vop {
    char name[64];
    addr key;
    char roles[128];
} vop;

typedef struct sig_ctx {
    audit_sig_report *r;
    uint8_t desk_id[32];
    bool desk_present;
    uint64_t genesis_seq;
    bool started;
    vop *ops;
    size_t n_ops, cap_ops;
    /* the last signed hash of each configuration file, as the log gives it */
    json_t *config;
    /* export */
    audit_statement_fn fn;
    void *fn_ctx;
} sig_ctx;

static int sig_fail(sig_ctx *c, const audit_row *row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int sig_fail(sig_ctx *c, const audit_row *row, const char *fmt, ...)
{
    c->r->ok = false;
    c->r->bad_line = row->line;
    c->r->bad_seq = row->seq;
    va_list ap;
    va_start(ap, fmt);
    char msg[AUDIT_PROBLEM_MAX], raw[AUDIT_PROBLEM_MAX * 2];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(raw, sizeof raw, "row seq %" PRIu64 " (%.40s by %.40s): %.120s", row->seq,
             row->action, row->operator_name, msg);
    /* Names and times come from the file: one printable line wherever it is shown. */
    text_safe_str(c->r->problem, sizeof c->r->problem, raw);
    return 1;
}

/* The row's own time ("2026-01-31T12:00:00.123Z", UTC) in Unix seconds; -1 if unreadable. */
static int64_t row_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return -1;
    return (int64_t)timegm(&tm);
}

/* The statement is signed just before its row is written: their times agree to within
 * this (a second boundary may fall between them). */
#define SIG_ROW_SKEW_S 2

static vop *op_find(sig_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->n_ops; i++)
        if (strcmp(c->ops[i].name, name) == 0)
            return &c->ops[i];
    return NULL;
}

static bool has_role(const char *roles, const char *role)
{
    size_t n = strlen(role);
    for (const char *p = roles; (p = strstr(p, role)) != NULL; p += n)
        if ((p == roles || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

static int op_put(sig_ctx *c, const char *name, const char *key, const char *roles)
{
    vop *o = op_find(c, name);
    if (!o) {
        if (c->n_ops == c->cap_ops) {
            size_t cap = c->cap_ops ? 2 * c->cap_ops : 8;
            vop *n = realloc(c->ops, cap * sizeof *n);
            if (!n)
                return -1;
            c->ops = n;
            c->cap_ops = cap;
        }
        o = &c->ops[c->n_ops++];
        memset(o, 0, sizeof *o);
        snprintf(o->name, sizeof o->name, "%s", name);
    }
    if (key && addr_parse(&o->key, key, NULL) < 0)
        return -1;
    if (roles)
        snprintf(o->roles, sizeof o->roles, "%s", roles);
    return 0;
}

static void op_del(sig_ctx *c, const char *name)
{
    vop *o = op_find(c, name);
    if (o) {
        *o = c->ops[c->n_ops - 1];
        c->n_ops--;
    }
}

/* The effect of an operator decision on the operators known from then on. */
static int apply_operator_row(sig_ctx *c, const audit_row *row)
{
    const json_t *d = row->details;
    const char *name = json_string_value(json_object_get(d, "name"));
    if (!strcmp(row->action, "desk.genesis")) {
        size_t i;
        const json_t *o;
        json_array_foreach(json_object_get(d, "operators"), i, o)
        {
            const char *n = json_string_value(json_object_get(o, "name"));
            const char *k = json_string_value(json_object_get(o, "key"));
            const char *r = json_string_value(json_object_get(o, "roles"));
            if (!n || !k || !r || op_put(c, n, k, r) < 0)
                return sig_fail(c, row, "the genesis lists an operator without name, key or "
                                "roles");
        }
        return 0;
    }
    if (!name)
        return sig_fail(c, row, "an operator decision without the operator's name");
    if (!strcmp(row->action, "operator.add")) {
        const char *k = json_string_value(json_object_get(d, "key"));
        const char *r = json_string_value(json_object_get(d, "roles"));
        if (!k || !r || op_find(c, name) || op_put(c, name, k, r) < 0)
            return sig_fail(c, row, "operator.add of %.63s is malformed or adds an existing "
                            "operator", name);
    } else if (!strcmp(row->action, "operator.roles")) {
        const char *r = json_string_value(json_object_get(d, "after"));
        if (!r || !op_find(c, name) || op_put(c, name, NULL, r) < 0)
            return sig_fail(c, row, "operator.roles of unknown operator %.63s", name);
    } else if (!strcmp(row->action, "operator.remove")) {
        if (!op_find(c, name))
            return sig_fail(c, row, "operator.remove of unknown operator %.63s", name);
        op_del(c, name);
    }
    return 0;
}

static int sig_row(void *vctx, const audit_row *row, err *e)
{
    (void)e;
    sig_ctx *c = vctx;
    if (!c->r->ok)
        return 0;
    bool genesis = strcmp(row->action, "desk.genesis") == 0;
    if (genesis) {
        if (c->started)
            return sig_fail(c, row, "a second genesis"), 0;
        const char *hex = json_string_value(json_object_get(row->details, "desk_id"));
        uint8_t id[32];
        if (!hex || hex_decode_exact(id, 32, hex, HEX_REQUIRE_PREFIX, NULL) < 0)
            return sig_fail(c, row, "the genesis names no desk id"), 0;
        if (!c->desk_present)
            return sig_fail(c, row, "desk.db records no desk id but the log has a genesis: "
                            "desk.db was replaced"), 0;
        if (sodium_memcmp(id, c->desk_id, 32) != 0 || row->seq != c->genesis_seq)
            return sig_fail(c, row, "this genesis is not the one desk.db records (another "
                            "desk's, or moved)"), 0;
        c->started = true;
        c->r->signed_desk = true;
        c->r->genesis_seq = row->seq;
        if (apply_operator_row(c, row))
            return 0;
    }
    if (!c->started) {
        if (statement_is_decision(row->action))
            c->r->unsigned_rows++;
        return 0;
    }
    if (!statement_is_decision(row->action))
        return 0;
    const json_t *sj = json_object_get(row->details, STATEMENT_SIG_KEY);
    json_int_t at = json_integer_value(json_object_get(sj, "at"));
    const char *sig_hex = json_string_value(json_object_get(sj, "signature"));
    const char *subject = json_string_value(json_object_get(sj, "subject"));
    const char *who = json_string_value(json_object_get(sj, "operator"));
    uint8_t sig[65];
    if (!json_is_object(sj) || !json_is_integer(json_object_get(sj, "at")) || at < 0 ||
        !sig_hex || !subject || !who ||
        hex_decode_exact(sig, sizeof sig, sig_hex, HEX_REQUIRE_PREFIX, NULL) < 0)
        return sig_fail(c, row, "the decision is not signed"), 0;
    int64_t rt = row_time(row->time);
    if (rt < 0 || rt - (int64_t)at > SIG_ROW_SKEW_S || (int64_t)at - rt > SIG_ROW_SKEW_S)
        return sig_fail(c, row, "the row's time %.40s is not the signed time (%lld)", row->time,
                        (long long)at), 0;
    vop *o = op_find(c, row->operator_name);
    if (!o)
        return sig_fail(c, row, "%.63s was not an operator of this desk then",
                        row->operator_name), 0;
    statement st;
    memset(&st, 0, sizeof st);
    snprintf(st.kind, sizeof st.kind, "%s", row->action);
    char want_subject[STATEMENT_SUBJECT_MAX];
    statement_subject(want_subject, row->action, row->details);
    if (strcmp(want_subject, subject) != 0)
        return sig_fail(c, row, "the signed subject \"%.60s\" is not what the row is about "
                        "(\"%.60s\")", subject, want_subject), 0;
    snprintf(st.subject, sizeof st.subject, "%s", subject);
    err he;
    if (statement_payload_hash(st.payload_hash, row->details, &he) < 0)
        return sig_fail(c, row, "%s", he.msg), 0;
    st.at = (uint64_t)at;
    st.operator_addr = o->key;
    st.seq = row->seq;
    uint8_t digest[32];
    statement_digest(digest, c->desk_id, &st);
    addr signer;
    if (eip712_recover(&signer, sig, digest) < 0 || !addr_equal(&signer, &o->key)) {
        char k[ADDR_STR_MAX];
        addr_to_checksum(k, &o->key);
        return sig_fail(c, row, "the signature does not verify against %.63s's key %s (the "
                        "row was edited, its signature swapped, or it was made for another "
                        "row, case or desk)", row->operator_name, k), 0;
    }
    const char *role = statement_role_for(row->action);
    if (role && !has_role(o->roles, role))
        return sig_fail(c, row, "%.63s did not hold the %s role when signing (roles: %.60s)",
                        row->operator_name, role, o->roles[0] ? o->roles : "none"), 0;
    c->r->signed_rows++;
    if (c->fn) {
        json_t *td = statement_typed_data(c->desk_id, &st);
        int frc = td ? c->fn(c->fn_ctx, row, td, sig_hex, digest, e) : -1;
        json_decref(td);
        if (frc < 0)
            return -1;
    }
    if (!genesis && strncmp(row->action, "operator.", 9) == 0)
        (void)apply_operator_row(c, row);
    if (strncmp(row->action, "config.", 7) == 0 && c->config) {
        const char *file = json_string_value(json_object_get(row->details, "file"));
        const json_t *sha = json_object_get(row->details, "sha256");
        if (!file || !json_is_string(sha))
            return sig_fail(c, row, "a configuration decision without file or hash"), 0;
        json_object_set(c->config, file, (json_t *)(uintptr_t)sha);
    }
    return 0;
}

/* desk.db's signed configuration hashes (what the loaders trust) against the log's. */
static int config_match(sig_ctx *c, sqlite3 *db, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT file, sha256, seq FROM audit_config", -1, &st, NULL) !=
        SQLITE_OK) {
        bool no_table = strstr(sqlite3_errmsg(db), "no such table") != NULL;
        sqlite3_finalize(st);
        if (no_table && json_object_size(c->config) == 0)
            return 0;
        if (!no_table)
            return err_set(e, ERR_IO, "cannot read the signed configuration in desk.db: %s",
                           sqlite3_errmsg(db));
    }
    size_t seen = 0;
    while (st && sqlite3_step(st) == SQLITE_ROW && c->r->ok) {
        const char *file = (const char *)sqlite3_column_text(st, 0);
        const char *sha = (const char *)sqlite3_column_text(st, 1);
        const char *want = json_string_value(json_object_get(c->config, file ? file : ""));
        seen++;
        if (!want || !sha || strcmp(want, sha) != 0) {
            c->r->ok = false;
            char raw[AUDIT_PROBLEM_MAX];
            snprintf(raw, sizeof raw, "desk.db's signed hash of %.60s (row seq %lld) is not "
                     "the one the log's last signed %.60s row gives: desk.db was edited",
                     file ? file : "?", (long long)sqlite3_column_int64(st, 2),
                     file ? file : "?");
            text_safe_str(c->r->problem, sizeof c->r->problem, raw);
        }
    }
    sqlite3_finalize(st);
    if (c->r->ok && seen != json_object_size(c->config)) {
        c->r->ok = false;
        snprintf(c->r->problem, sizeof c->r->problem, "desk.db lacks the hash of a "
                 "configuration file the log signed: desk.db was edited (`fusion audit adopt` "
                 "restores a rebuilt one)");
    }
    return 0;
}

int audit_verify_signatures(const char *home, audit_sig_report *report,
                            audit_statement_fn fn, void *fn_ctx, err *e)
{
    memset(report, 0, sizeof *report);
    report->ok = true;
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    sig_ctx c;
    memset(&c, 0, sizeof c);
    c.r = report;
    c.fn = fn;
    c.fn_ctx = fn_ctx;
    c.config = json_object();
    if (!c.config)
        return err_set(e, ERR_NOMEM, "out of memory");
    sqlite3 *db = NULL;
    int rc = audit_db_open(&db, home, e);
    if (rc == 0)
        rc = audit_desk_read(db, c.desk_id, &c.genesis_seq, &c.desk_present, e);
    if (rc == 0)
        rc = audit_list(home, sig_row, &c, e);
    if (rc == 0 && report->ok && c.desk_present && !c.started) {
        report->ok = false;
        snprintf(report->problem, sizeof report->problem, "desk.db records a signed genesis "
                 "(row seq %" PRIu64 ") that the log does not hold", c.genesis_seq);
    }
    if (rc == 0 && report->ok && db && c.started)
        rc = config_match(&c, db, e);
    sqlite3_close(db);
    json_decref(c.config);
    free(c.ops);
    return rc;
}

int audit_sigs_check(const char *home, const uint8_t desk_id[32], uint64_t genesis_seq,
                     err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    audit_sig_report report;
    memset(&report, 0, sizeof report);
    report.ok = true;
    sig_ctx c;
    memset(&c, 0, sizeof c);
    c.r = &report;
    memcpy(c.desk_id, desk_id, 32);
    c.genesis_seq = genesis_seq;
    c.desk_present = true;
    int rc = audit_list(home, sig_row, &c, e);
    if (rc == 0 && (!report.ok || !c.started))
        rc = err_set(e, ERR_STATE, "the desk's signed decisions do not verify (%s): nothing "
                     "adopted; run `fusion audit verify`",
                     report.ok ? "no signed genesis" : report.problem);
    free(c.ops);
    return rc;
}

int audit_signed_operators(const char *home, audit_operator_fn fn, void *ctx, err *e)
{
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    audit_sig_report report;
    memset(&report, 0, sizeof report);
    report.ok = true;
    sig_ctx c;
    memset(&c, 0, sizeof c);
    c.r = &report;
    sqlite3 *db = NULL;
    int rc = audit_db_open(&db, home, e);
    if (rc == 0)
        rc = audit_desk_read(db, c.desk_id, &c.genesis_seq, &c.desk_present, e);
    sqlite3_close(db);
    if (rc == 0)
        rc = audit_list(home, sig_row, &c, e);
    if (rc == 0 && (!report.ok || !c.started))
        rc = err_set(e, ERR_STATE, "the desk's signed decisions do not verify (%s): run "
                     "`fusion audit verify`", report.ok ? "no signed genesis" : report.problem);
    for (size_t i = 0; rc == 0 && i < c.n_ops; i++)
        rc = fn(ctx, c.ops[i].name, &c.ops[i].key, c.ops[i].roles, e);
    free(c.ops);
    return rc;
}
