/* decision.c: the desk's recorded decision to switch sanctions screening off. A line
 * `sanctions.enabled = no` in compliance.conf is not enough by itself: a compliance officer
 * signs the decision with the key bound to them (the desk's EIP-712 Decision statement,
 * audit/statement.h, over the record naming the state, the officer, the time and the
 * reason), the desk stores the signed record and audits it, and every load of the rules
 * checks the signature again. Records signed before (EIP-191 personal_sign over
 * compliance_sanctions_message) still verify as they were signed. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/bytes.h"
#include "base/text.h"
#include "compliance/compliance.h"
#include "crypto/eip191.h"
#include "crypto/eip712.h"

#define DECISION_KEY "compliance.sanctions_decision"

int compliance_sanctions_message(char *out, size_t cap, const char *operator_name, bool off,
                                 const char *reason, int64_t at)
{
    int n = snprintf(out, cap,
                     "fusion desk decision\n"
                     "sanctions screening: %s\n"
                     "operator: %s\n"
                     "time: %lld\n"
                     "reason: %s\n",
                     off ? "off" : "on", operator_name, (long long)at, reason ? reason : "");
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int compliance_sanctions_statement(statement *st, const char *operator_name, const addr *key,
                                   bool off, const char *reason, int64_t at, err *e)
{
    memset(st, 0, sizeof *st);
    json_t *rec = json_pack("{s:b,s:s,s:I,s:s}", "off", off, "operator", operator_name, "at",
                            (json_int_t)at, "reason", reason ? reason : "");
    if (!rec)
        return err_set(e, ERR_INVALID, "the decision's text is not valid UTF-8");
    int rc = statement_payload_hash(st->payload_hash, rec, e);
    json_decref(rec);
    if (rc < 0)
        return -1;
    snprintf(st->kind, sizeof st->kind, "%s",
             off ? "compliance.sanctions_off" : "compliance.sanctions_on");
    snprintf(st->subject, sizeof st->subject, "desk");
    st->at = (uint64_t)at;
    st->operator_addr = *key;
    st->seq = 0; /* a desk setting, not an audit row (its audit row is signed too) */
    return 0;
}

int compliance_sanctions_reason_check(bool off, const char *reason, err *e)
{
    size_t n = reason ? strlen(reason) : 0;
    if (n == 0)
        return off ? err_set(e, ERR_INVALID, "give the reason for the decision (--reason TEXT)")
                   : 0;
    if (n > COMPLIANCE_REASON_MAX)
        return err_set(e, ERR_INVALID, "the reason is longer than %d bytes",
                       COMPLIANCE_REASON_MAX);
    size_t bad = text_unsafe_at(reason, n);
    if (bad < n)
        return err_set(e, ERR_INVALID,
                       "the reason has a control character, a bidi control or a byte that is "
                       "not UTF-8 at byte %zu: write one line of plain text",
                       bad + 1);
    return 0;
}

int compliance_sanctions_decide(store *s, const compliance_actor *a, bool off, const char *reason,
                                const uint8_t salt[32], const uint8_t sig65[65], err *e)
{
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    if (!reason)
        reason = "";
    if (compliance_sanctions_reason_check(off, reason, e) < 0)
        return -1;
    store_operator op;
    bool found = false;
    if (store_operator_get(s, a->operator_name, &op, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_DENIED, "operator \"%.63s\" is not a desk operator",
                       a->operator_name);
    statement st;
    if (compliance_sanctions_statement(&st, a->operator_name, &op.address, off, reason, a->now,
                                       e) < 0)
        return -1;
    uint8_t digest[32];
    statement_digest(digest, salt, &st);
    addr signer;
    if (eip712_recover(&signer, sig65, digest) < 0 || !addr_equal(&signer, &op.address))
        return err_set(e, ERR_DENIED,
                       "the decision is not signed by the key of operator \"%.63s\"",
                       a->operator_name);
    char sig_hex[2 * 65 + 3], who[ADDR_STR_MAX], salt_hex[67];
    hex_encode(sig_hex, sizeof sig_hex, sig65, 65, true);
    hex_encode(salt_hex, sizeof salt_hex, salt, 32, true);
    addr_to_checksum(who, &op.address);
    json_t *rec = json_pack("{s:b,s:s,s:s,s:I,s:s,s:s,s:s}", "off", off, "operator",
                            a->operator_name, "address", who, "at", (json_int_t)a->now,
                            "reason", reason, "signature", sig_hex, "salt", salt_hex);
    char *text = rec ? json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!text) {
        json_decref(rec);
        return err_set(e, ERR_NOMEM, "out of memory recording the decision");
    }
    int rc = -1;
    if (store_begin(s, e) < 0)
        goto out;
    if (store_setting_put(s, DECISION_KEY, text, a->operator_name, e) < 0 ||
        store_audit(s, a->home, a->operator_name,
                    off ? "compliance.sanctions_off" : "compliance.sanctions_on", rec, e) < 0 ||
        store_commit(s, e) < 0) {
        store_rollback(s);
        goto out;
    }
    rc = 0;
out:
    free(text);
    json_decref(rec);
    return rc;
}

int compliance_sanctions_decision_get(store *s, compliance_sanctions_decision *d, err *e)
{
    memset(d, 0, sizeof *d);
    char text[2048];
    bool found = false;
    if (store_setting_get(s, DECISION_KEY, text, sizeof text, &found, e) < 0)
        return -1;
    if (!found)
        return 0;
    json_error_t je;
    json_t *rec = json_loads(text, 0, &je);
    int off = 0;
    const char *op = NULL, *who = NULL, *reason = NULL, *sig_hex = NULL;
    json_int_t at = 0;
    int rc = -1;
    if (!rec || json_unpack(rec, "{s:b,s:s,s:s,s:I,s:s,s:s}", "off", &off, "operator", &op,
                            "address", &who, "at", &at, "reason", &reason, "signature",
                            &sig_hex) != 0) {
        err_set(e, ERR_INVALID, "the desk's sanctions decision is unreadable: record it again "
                                "(fusion case rules --sanctions off|on)");
        goto out;
    }
    /* The stored fields are what was signed: check the signature again (an EIP-712
     * statement when the record names its salt, else the EIP-191 text of older records). */
    char msg[COMPLIANCE_DECISION_MSG_MAX];
    uint8_t sig[65], salt[32], digest[32];
    addr signer, want;
    const char *salt_hex = json_string_value(json_object_get(rec, "salt"));
    statement st;
    bool ok = hex_decode_exact(sig, sizeof sig, sig_hex, HEX_REQUIRE_PREFIX, NULL) == 0 &&
              addr_parse(&want, who, NULL) == 0;
    if (ok && salt_hex) {
        ok = hex_decode_exact(salt, sizeof salt, salt_hex, HEX_REQUIRE_PREFIX, NULL) == 0 &&
             compliance_sanctions_statement(&st, op, &want, off, reason, (int64_t)at, NULL) == 0;
        if (ok)
            statement_digest(digest, salt, &st);
        ok = ok && eip712_recover(&signer, sig, digest) == 0;
    } else if (ok) {
        ok = compliance_sanctions_message(msg, sizeof msg, op, off, reason, (int64_t)at) == 0 &&
             eip191_recover(&signer, sig, msg, strlen(msg)) == 0;
    }
    if (!ok || !addr_equal(&signer, &want)) {
        err_set(e, ERR_DENIED, "the desk's sanctions decision (by %.63s) does not verify against "
                               "its signature: record it again (fusion case rules --sanctions "
                               "off|on)",
                op);
        goto out;
    }
    d->recorded = true;
    d->off = off;
    snprintf(d->operator_name, sizeof d->operator_name, "%s", op);
    snprintf(d->address, sizeof d->address, "%s", who);
    snprintf(d->reason, sizeof d->reason, "%s", reason);
    d->at = (int64_t)at;
    rc = 0;
out:
    json_decref(rec);
    return rc;
}

/* Whether the text checked holds the rules cfg was loaded with (the file read again: a file
 * swapped between the two reads must not pass as the signed one). */
static int same_rules(const compliance_config *cfg, const char *conf_path, const char *text,
                      size_t len, err *e)
{
    compliance_config again;
    compliance_config_default(&again);
    FILE *f = fmemopen((void *)(uintptr_t)text, len ? len : 1, "r");
    if (!f)
        return err_set(e, ERR_NOMEM, "out of memory reading %s", conf_path);
    err pe;
    err_clear(&pe);
    int rc = len ? compliance_config_read(&again, conf_path, f, &pe) : 0;
    fclose(f);
    char *a = rc == 0 ? compliance_config_text(cfg) : NULL;
    char *b = rc == 0 ? compliance_config_text(&again) : NULL;
    bool same = a && b && strcmp(a, b) == 0;
    free(a);
    free(b);
    if (!same)
        return err_set(e, ERR_STATE, "%s changed while it was read: run the command again",
                       conf_path);
    return 0;
}

/* The rules file as the signed decision an officer made of it (audit_config_check): the
 * desk home is desk.db's directory. */
static int rules_signed(const compliance_config *cfg, const char *conf_path,
                        const char *desk_db, err *e)
{
    const char *slash = strrchr(desk_db, '/');
    char home[4200];
    int k = slash ? snprintf(home, sizeof home, "%.*s", (int)(slash - desk_db), desk_db)
                  : snprintf(home, sizeof home, ".");
    if (k < 0 || (size_t)k >= sizeof home)
        return err_set(e, ERR_INVALID, "the desk path %.60s... is too long", desk_db);
    char *text = NULL;
    size_t len = 0, cap = 0;
    if (conf_path) {
        FILE *f = fopen(conf_path, "rb");
        if (!f)
            return err_set(e, ERR_IO, "cannot read %s: %s", conf_path, strerror(errno));
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
            if (len + n > cap) {
                size_t nc = cap ? 2 * cap : 8192;
                while (nc < len + n)
                    nc *= 2;
                char *t = realloc(text, nc);
                if (!t) {
                    fclose(f);
                    free(text);
                    return err_set(e, ERR_NOMEM, "out of memory reading %s", conf_path);
                }
                text = t;
                cap = nc;
            }
            memcpy(text + len, chunk, n);
            len += n;
        }
        bool bad = ferror(f);
        fclose(f);
        if (bad) {
            free(text);
            return err_set(e, ERR_IO, "cannot read %s", conf_path);
        }
    }
    int rc = audit_config_check(home, "compliance", text ? text : "", len, conf_path != NULL,
                                NULL, 0, e);
    if (rc == 0 && conf_path)
        rc = same_rules(cfg, conf_path, text ? text : "", len, e);
    free(text);
    return rc;
}

int compliance_config_allowed(const compliance_config *cfg, const char *conf_path,
                              const char *desk_db, compliance_sanctions_decision *d, err *e)
{
    memset(d, 0, sizeof *d);
    if (desk_db && access(desk_db, F_OK) == 0 && rules_signed(cfg, conf_path, desk_db, e) < 0)
        return -1;
    err de;
    err_clear(&de);
    int got = 0;
    if (desk_db && access(desk_db, F_OK) == 0) {
        store *s = NULL;
        got = store_open(&s, desk_db, &de);
        if (got == 0)
            got = compliance_sanctions_decision_get(s, d, &de);
        store_close(&s);
    }
    if (cfg->rules.sanctions.on)
        return 0; /* the decision is only shown then; an unreadable one stops nothing */
    if (got < 0) {
        *e = de;
        return -1;
    }
    if (!d->off)
        return err_set(e, ERR_DENIED,
                       "%.200s:%zu: sanctions.enabled = no switches sanctions screening off, "
                       "which needs a compliance officer's signed decision: `fusion --operator "
                       "NAME case rules --sanctions off --reason TEXT` records it, or remove "
                       "the line",
                       conf_path ? conf_path : "compliance.conf", cfg->sanctions_line);
    return 0;
}
