/* signed.c: signing decisions into their audit rows (see statement.h; verify_sig.c
 * checks them again). The process's signer is one unlocked operator key installed by the
 * interface (CLI, UI) that asked for its passphrase; the audit module only calls it, so
 * it never sees a secret. The desk id and the row of the genesis live in desk.db
 * (audit_desk, this module's table like audit_head). */
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
#include "crypto/address.h"
#include "crypto/eip712.h"

/* The UI's workers record decisions while its loop unlocks and locks keys: the signer is
 * read and used under this mutex, so removing it waits for a signature in progress. */
static pthread_mutex_t signer_mu = PTHREAD_MUTEX_INITIALIZER;
static audit_signer the_signer;
static bool have_signer;

void audit_signer_set(const audit_signer *s)
{
    pthread_mutex_lock(&signer_mu);
    if (s) {
        the_signer = *s;
        have_signer = true;
    } else {
        memset(&the_signer, 0, sizeof the_signer);
        have_signer = false;
    }
    pthread_mutex_unlock(&signer_mu);
}

int audit_desk_read(sqlite3 *db, uint8_t desk_id[32], uint64_t *genesis_seq, bool *present,
                    err *e)
{
    *present = false;
    if (!db)
        return 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT desk_id, genesis_seq FROM audit_desk WHERE id = 1", -1, &st,
                           NULL) != SQLITE_OK) {
        bool no_table = strstr(sqlite3_errmsg(db), "no such table") != NULL;
        sqlite3_finalize(st);
        return no_table ? 0
                        : err_set(e, ERR_IO, "cannot read the desk id in desk.db: %s",
                                  sqlite3_errmsg(db));
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *hex = (const char *)sqlite3_column_text(st, 0);
        if (!hex || hex_decode_exact(desk_id, 32, hex, HEX_REQUIRE_PREFIX, NULL) < 0) {
            sqlite3_finalize(st);
            return err_set(e, ERR_STATE, "the desk id in desk.db is damaged");
        }
        *genesis_seq = (uint64_t)sqlite3_column_int64(st, 1);
        *present = true;
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, ERR_IO, "cannot read the desk id in desk.db: %s", sqlite3_errmsg(db));
    return 0;
}


static int desk_write(sqlite3 *db, const char *hex, uint64_t seq, err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO audit_desk (id, desk_id, genesis_seq) "
                                    "VALUES (1, ?1, ?2)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, ERR_IO, "cannot record the desk id in desk.db: %s", sqlite3_errmsg(db));
    return 0;
}

static int sign_locked(sqlite3 *db, uint64_t seq, const char *operator_name, const char *action,
                       const json_t *details, const uint8_t desk_id[32], json_t **signed_details,
                       err *e);

int audit_sign_row(sqlite3 *db, uint64_t seq, const char *operator_name, const char *action,
                   const json_t *details, json_t **signed_details, err *e)
{
    *signed_details = NULL;
    uint8_t desk_id[32];
    uint64_t genesis_seq = 0;
    bool present = false;
    if (audit_desk_read(db, desk_id, &genesis_seq, &present, e) < 0)
        return -1;
    bool genesis = strcmp(action, "desk.genesis") == 0;
    if (genesis) {
        if (present)
            return err_set(e, ERR_STATE, "this desk's genesis is already signed (row seq "
                           "%" PRIu64 "); operators are added with `fusion operator add`",
                           genesis_seq);
        const char *hex = json_string_value(json_object_get(details, "desk_id"));
        if (!hex || hex_decode_exact(desk_id, 32, hex, HEX_REQUIRE_PREFIX, NULL) < 0)
            return err_set(e, ERR_INVALID, "a genesis statement needs the desk id (32 bytes)");
        if (desk_write(db, hex, seq, e) < 0)
            return -1;
    } else if (!statement_is_decision(action)) {
        return 0;
    } else if (!present) {
        /* No decision without a signature: a desk from before signatures records none
         * until an admin signs its genesis (its earlier rows stay as they were). */
        return err_set(e, ERR_DENIED, "%s", AUDIT_NO_GENESIS);
    }
    pthread_mutex_lock(&signer_mu);
    int rc = sign_locked(db, seq, operator_name, action, details, desk_id, signed_details, e);
    pthread_mutex_unlock(&signer_mu);
    if (rc == 0 && strncmp(action, "config.", 7) == 0 &&
        audit_config_record(db, seq, operator_name, details, e) < 0) {
        json_decref(*signed_details);
        *signed_details = NULL;
        return -1;
    }
    return rc;
}

int audit_config_record(sqlite3 *db, uint64_t seq, const char *operator_name,
                        const json_t *details, err *e)
{
    const char *file = json_string_value(json_object_get(details, "file"));
    const char *sha = json_string_value(json_object_get(details, "sha256"));
    if (!file || !sha || strlen(sha) >= AUDIT_HASH_HEX)
        return err_set(e, ERR_INVALID, "a configuration decision names no file or hash");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(db, AUDIT_CONFIG_SQL, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO audit_config (file, sha256, seq, "
                                    "operator) VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)seq);
        sqlite3_bind_text(st, 4, operator_name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, ERR_IO, "cannot record the signed configuration in desk.db: %s",
                       sqlite3_errmsg(db));
    return 0;
}

static bool roles_have(const char *roles, const char *role)
{
    size_t n = strlen(role);
    for (const char *p = roles; (p = strstr(p, role)) != NULL; p += n)
        if ((p == roles || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

/* The signer as desk.db has it now, read under the write lock the row is appended under:
 * an interface checks roles before it starts, and an admin may revoke a role or a key in
 * between; the decision must not be recorded on the strength of the earlier look. A log
 * kept without a desk (no operators table) has no roles to check. */
static int signer_current(sqlite3 *db, const char *operator_name, const char *action, err *e)
{
    if (!db)
        return 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT address, roles FROM operators WHERE name = ?1", -1,
                                &st, NULL);
    if (rc != SQLITE_OK) {
        bool no_table = strstr(sqlite3_errmsg(db), "no such table") != NULL;
        sqlite3_finalize(st);
        return no_table ? 0
                        : err_set(e, ERR_IO, "cannot read the operators in desk.db: %s",
                                  sqlite3_errmsg(db));
    }
    sqlite3_bind_text(st, 1, operator_name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return err_set(e, ERR_DENIED, "refused: \"%.63s\" is no longer a desk operator: the "
                       "%.63s decision is not recorded (fusion operator list)",
                       operator_name, action);
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return err_set(e, ERR_IO, "cannot read the operators in desk.db: %s", sqlite3_errmsg(db));
    }
    const char *hex = (const char *)sqlite3_column_text(st, 0);
    const char *roles = (const char *)sqlite3_column_text(st, 1);
    addr now;
    err pe;
    bool same_key = hex && addr_parse(&now, hex, &pe) == 0 && addr_equal(&now, &the_signer.address);
    const char *role = statement_role_for(action);
    char held[128];
    snprintf(held, sizeof held, "%s", roles && roles[0] ? roles : "none");
    bool has = !role || (roles && roles_have(roles, role));
    sqlite3_finalize(st);
    if (!same_key)
        return err_set(e, ERR_DENIED, "refused: %.63s's key in desk.db is no longer the one "
                       "unlocked for this session: the %.63s decision is not recorded",
                       operator_name, action);
    if (!has)
        return err_set(e, ERR_DENIED, "refused: %.63s no longer holds the %s role (roles: "
                       "%.60s): the %.63s decision is not recorded",
                       operator_name, role, held, action);
    return 0;
}

static int sign_locked(sqlite3 *db, uint64_t seq, const char *operator_name, const char *action,
                       const json_t *details, const uint8_t desk_id[32], json_t **signed_details,
                       err *e)
{
    if (!have_signer || strcmp(the_signer.operator_name, operator_name) != 0)
        return err_set(e, ERR_DENIED, "a decision of \"%.63s\" (%.63s) must be signed with "
                       "%.63s's own key: give --operator %.63s and that operator's passphrase",
                       operator_name, action, operator_name, operator_name);
    if (signer_current(db, operator_name, action, e) < 0)
        return -1;
    if (details && json_object_get(details, STATEMENT_SIG_KEY))
        return err_set(e, ERR_INVALID, "a decision's details may not carry \"%s\"",
                       STATEMENT_SIG_KEY);
    statement st;
    memset(&st, 0, sizeof st);
    snprintf(st.kind, sizeof st.kind, "%s", action);
    statement_subject(st.subject, action, details);
    if (statement_payload_hash(st.payload_hash, details, e) < 0)
        return -1;
    st.at = (uint64_t)time(NULL);
    st.operator_addr = the_signer.address;
    st.seq = seq;
    uint8_t digest[32], sig[65];
    statement_digest(digest, desk_id, &st);
    if (the_signer.sign(the_signer.ctx, sig, digest, e) < 0)
        return err_prefix(e, "the decision was not signed");
    addr who;
    if (eip712_recover(&who, sig, digest) < 0 || !addr_equal(&who, &st.operator_addr))
        return err_set(e, ERR_INTERNAL, "the decision's signature does not recover to %.63s's "
                       "key: nothing recorded", operator_name);
    char sig_hex[2 * 65 + 3], op[ADDR_STR_MAX];
    hex_encode(sig_hex, sizeof sig_hex, sig, 65, true);
    addr_to_checksum(op, &st.operator_addr);
    json_t *copy = details ? json_copy((json_t *)(uintptr_t)details) : json_object();
    json_t *sj = json_pack("{s:I,s:s,s:s,s:s}", "at", (json_int_t)st.at, "operator", op,
                           "subject", st.subject, "signature", sig_hex);
    if (!copy || !sj || json_object_set_new(copy, STATEMENT_SIG_KEY, sj) < 0) {
        json_decref(copy);
        return err_set(e, ERR_NOMEM, "out of memory signing a decision");
    }
    *signed_details = copy;
    return 0;
}
