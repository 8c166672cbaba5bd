/* config_sig.c: the desk's configuration files (policy.conf, risk-limits.csv,
 * compliance.conf, desk-sanctions.txt, prices.csv, book.conf) as signed decisions. Signing
 * one records a config.* row whose details carry the file's SHA-256 (and its text); signed.c writes that hash
 * into desk.db's audit_config in the same step as the row. A desk with a signed genesis
 * acts on a file only when its content is the one last signed; the loaders (desk, risk,
 * compliance) ask audit_config_check. Also here: putting the desk id and those records back into a
 * rebuilt desk.db from the log (audit adopt). */
#include "audit/audit.h"

#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_priv.h"
#include "base/bytes.h"

static const audit_config_kind kinds[] = {
    {"policy", "policy.conf", "config.policy", "admin"},
    {"risk-limits", "risk-limits.csv", "config.risk_limits", "admin"},
    {"compliance", "compliance.conf", "config.compliance", "compliance"},
    {"sanctions", "desk-sanctions.txt", "config.desk_sanctions", "compliance"},
    {"prices", "prices.csv", "config.prices", "compliance"},
    {"book", "book.conf", "config.book", "admin"},
};

const audit_config_kind *audit_config_kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].name, name) || !strcmp(kinds[i].file, name) ||
            !strcmp(kinds[i].action, name))
            return &kinds[i];
    return NULL;
}

const audit_config_kind *audit_config_kinds(size_t *n)
{
    *n = sizeof kinds / sizeof kinds[0];
    return kinds;
}

void audit_config_hash(char out[AUDIT_HASH_HEX], const void *text, size_t len, bool exists)
{
    if (!exists) {
        snprintf(out, AUDIT_HASH_HEX, "%s", AUDIT_CONFIG_ABSENT);
        return;
    }
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, text, len);
    hex_encode(out, AUDIT_HASH_HEX, h, sizeof h, false);
}

static int record_read(sqlite3 *db, const char *file, audit_config_record_t *r, err *e)
{
    memset(r, 0, sizeof *r);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT sha256, seq, operator FROM audit_config WHERE file = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        bool no_table = strstr(sqlite3_errmsg(db), "no such table") != NULL;
        sqlite3_finalize(st);
        return no_table ? 0
                        : err_set(e, ERR_IO, "cannot read the signed configuration in desk.db: "
                                  "%s", sqlite3_errmsg(db));
    }
    sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(st, 0);
        const char *op = (const char *)sqlite3_column_text(st, 2);
        snprintf(r->sha256, sizeof r->sha256, "%s", h ? h : "");
        r->seq = (uint64_t)sqlite3_column_int64(st, 1);
        snprintf(r->operator_name, sizeof r->operator_name, "%s", op ? op : "");
        r->present = true;
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, ERR_IO, "cannot read the signed configuration in desk.db: %s",
                       sqlite3_errmsg(db));
    return 0;
}

int audit_config_get(const char *home, const audit_config_kind *k, bool *signed_desk,
                     audit_config_record_t *r, err *e)
{
    memset(r, 0, sizeof *r);
    *signed_desk = false;
    sqlite3 *db = NULL;
    uint8_t id[32];
    uint64_t gseq = 0;
    int rc = audit_db_open(&db, home, e);
    if (rc == 0)
        rc = audit_desk_read(db, id, &gseq, signed_desk, e);
    if (rc == 0 && *signed_desk)
        rc = record_read(db, k->file, r, e);
    sqlite3_close(db);
    return rc;
}

int audit_config_check(const char *home, const char *name, const void *text, size_t len,
                       bool exists, const void *dflt, size_t dflt_len, err *e)
{
    const audit_config_kind *k = audit_config_kind_find(name);
    if (!k)
        return err_set(e, ERR_INTERNAL, "no signed configuration file named %s", name);
    bool signed_desk = false;
    audit_config_record_t r;
    if (audit_config_get(home, k, &signed_desk, &r, e) < 0)
        return -1;
    if (!signed_desk)
        return 0; /* a desk without a genesis signs nothing (it records no decision either) */
    char have[AUDIT_HASH_HEX];
    audit_config_hash(have, text, len, exists);
    bool is_default = exists && dflt && len == dflt_len && memcmp(text, dflt, len) == 0;
    if (r.present) {
        if (!strcmp(r.sha256, have))
            return 0;
        /* Signed away (or never signed): the shipped default the desk writes itself. */
        if (!strcmp(r.sha256, AUDIT_CONFIG_ABSENT) && (!exists || is_default))
            return 0;
        if (!exists)
            return err_set(e, ERR_DENIED, "%s/%s was signed (audit row %" PRIu64 " by %.63s) "
                           "and is missing: restore it, or sign its removal with `fusion "
                           "--operator NAME config sign %s`", home, k->file, r.seq,
                           r.operator_name, k->name);
        return err_set(e, ERR_DENIED, "%s/%s has changed since it was signed (audit row "
                       "%" PRIu64 " by %.63s): the desk does not act on it; restore it, or "
                       "sign it with `fusion --operator NAME config sign %s` (%s role)", home,
                       k->file, r.seq, r.operator_name, k->name, k->role);
    }
    if (!exists || is_default)
        return 0;
    return err_set(e, ERR_DENIED, "%s/%s is not signed on this desk: the desk does not act on "
                   "it until an operator with the %s role signs it with `fusion --operator NAME "
                   "config sign %s`", home, k->file, k->role, k->name);
}

json_t *audit_config_details(const audit_config_kind *k, const char *text, size_t len,
                             bool exists, const audit_config_record_t *prev)
{
    char sha[AUDIT_HASH_HEX];
    audit_config_hash(sha, text, len, exists);
    json_t *det = json_pack("{s:s,s:s,s:I,s:o}", "file", k->file, "sha256", sha, "bytes",
                            (json_int_t)len, "previous",
                            prev && prev->present ? json_string(prev->sha256) : json_null());
    if (!det || !exists)
        return det;
    /* The text itself when it is short and UTF-8, so the row says what was decided. */
    json_t *content = len <= AUDIT_CONFIG_CONTENT_MAX && !memchr(text, 0, len)
                          ? json_stringn(text, len)
                          : NULL;
    char *probe = content ? json_dumps(content, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    int rc = probe && strlen(probe) <= AUDIT_ROW_MAX / 2
                 ? json_object_set(det, "content", content)
                 : json_object_set_new(det, "content_omitted", json_true());
    free(probe);
    json_decref(content);
    if (rc < 0) {
        json_decref(det);
        return NULL;
    }
    return det;
}

/* ---- desk.db rebuilt: the signed state back from the log ---- */

typedef struct restore_ctx {
    sqlite3 *db;
    bool genesis;
    uint8_t desk_id[32];
    uint64_t genesis_seq;
} restore_ctx;

static int restore_row(void *vctx, const audit_row *row, err *e)
{
    restore_ctx *c = vctx;
    if (!strcmp(row->action, "desk.genesis")) {
        if (c->genesis)
            return 0; /* a second genesis: audit verify names it */
        const char *hex = json_string_value(json_object_get(row->details, "desk_id"));
        uint8_t id[32];
        if (!hex || hex_decode_exact(id, 32, hex, HEX_REQUIRE_PREFIX, NULL) < 0)
            return err_set(e, ERR_STATE, "the genesis (row seq %" PRIu64 ") names no desk id: "
                           "run `fusion audit verify`", row->seq);
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(c->db, "INSERT INTO audit_desk (id, desk_id, genesis_seq) "
                                           "VALUES (1, ?1, ?2)", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)row->seq);
            rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return err_set(e, ERR_IO, "cannot record the desk id in desk.db: %s",
                           sqlite3_errmsg(c->db));
        memcpy(c->desk_id, id, 32);
        c->genesis_seq = row->seq;
        c->genesis = true;
        return 0;
    }
    if (c->genesis && strncmp(row->action, "config.", 7) == 0)
        return audit_config_record(c->db, row->seq, row->operator_name, row->details, e);
    return 0;
}

int audit_restore_signed(const char *home, bool *restored, err *e)
{
    *restored = false;
    sqlite3 *db = NULL;
    if (audit_db_open(&db, home, e) < 0)
        return -1;
    if (!db)
        return err_set(e, ERR_STATE, "%s has no desk.db to restore the desk id into", home);
    int rc = -1;
    uint8_t id[32];
    uint64_t gseq = 0;
    bool present = false;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot lock desk.db: %s", sqlite3_errmsg(db));
        goto out;
    }
    if (sqlite3_exec(db, AUDIT_DESK_SQL AUDIT_CONFIG_SQL, NULL, NULL, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot create the desk id in desk.db: %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (audit_desk_read(db, id, &gseq, &present, e) < 0)
        goto fail;
    if (present) { /* desk.db knows its desk: nothing to restore */
        rc = 0;
        goto fail;
    }
    restore_ctx c = {.db = db};
    if (sqlite3_exec(db, "DELETE FROM audit_config", NULL, NULL, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot restore the signed configuration: %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (audit_list(home, restore_row, &c, e) < 0)
        goto fail;
    /* Nothing of the log is recorded before its signatures verify: a configuration row
     * nobody signed must not become the hash the loaders trust. */
    if (c.genesis && audit_sigs_check(home, c.desk_id, c.genesis_seq, e) < 0)
        goto fail;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot restore the desk id in desk.db: %s", sqlite3_errmsg(db));
        goto fail;
    }
    *restored = c.genesis;
    rc = 0;
    goto out;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_close(db);
    return rc;
}
