/* listimport.c: `fusion lists import`: a published list file becomes a list version in
 * the desk database (source, publication date, SHA-256, counts, what it added and removed
 * against the name's previous version) with a signed compliance decision, all in one
 * transaction; and the screening lists built from the current versions. */
#include "compliance/compliance.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/bytes.h"
#include "base/fsperm.h"
#include "base/text.h"
#include "compliance/internal.h"
#include "compliance/listfmt.h"

#define IMPORT_FILE_MAX (256u << 20) /* sdn_advanced.xml is about 100 MiB */
#define AUDIT_LIST_MAX 100           /* added/removed addresses named in the audit row */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int slurp(const char *path, char **data, size_t *len, err *e)
{
    if (fsperm_check_not_writable(path, "list file", e) < 0)
        return -1;
    return file_read_all(path, IMPORT_FILE_MAX, "a list file", data, len, e);
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return false;
    }
    return true;
}

int compliance_list_import(store *s, const compliance_actor *a, const char *path,
                           const char *format, const char *name, const char *published,
                           store_list_version *out, err *e)
{
    memset(out, 0, sizeof *out);
    list_format fmt;
    if (list_format_parse(&fmt, format) < 0)
        return err_set(e, ERR_INVALID, "unknown list format '%.32s': sdn-csv, ofac-xml, fatf or "
                                       "plain", format);
    if (!name)
        name = fmt == LIST_FMT_FATF ? "fatf" : fmt == LIST_FMT_PLAIN ? NULL : "ofac-sdn";
    if (!name)
        return err_set(e, ERR_INVALID, "a plain address list needs --name NAME (what the list is, "
                                       "e.g. chainalysis-2026-12)");
    if (!name_ok(name))
        return err_set(e, ERR_INVALID, "list name '%.60s' must be 1 to 40 of a-z 0-9 . _ -", name);
    int32_t pday = 0;
    if (published && screen_date_parse(&pday, published, e) < 0)
        return err_prefix(e, "--published");
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    char *data = NULL;
    size_t len = 0;
    list_parsed lp;
    memset(&lp, 0, sizeof lp);
    store_list_version *prev = NULL;
    store_list_entry *pe = NULL, *ents = NULL;
    size_t n_prev = 0, n_pe = 0;
    json_t *added = NULL, *removed = NULL, *d = NULL;
    int rc = -1;
    if (slurp(path, &data, &len, e) < 0)
        goto out;
    if (list_parse(&lp, fmt, base_name(path), data, len, e) < 0)
        goto out;
    if (lp.published[0] && published && strcmp(lp.published, published) != 0) {
        err_set(e, ERR_INVALID, "%s says it was published on %s, not %s: drop --published",
                base_name(path), lp.published, published);
        goto out;
    }
    const char *pub = lp.published[0] ? lp.published : published;
    if (!pub) {
        err_set(e, ERR_INVALID, "%s does not say when it was published: give --published "
                                "YYYY-MM-DD (the date on the publisher's page)", base_name(path));
        goto out;
    }
    /* A future date would keep every later version of the name out (a list is not replaced
     * by an older one) and never go stale: a typo, refused. A day ahead is a time zone. */
    int32_t pd = 0;
    if (screen_date_parse(&pd, pub, e) < 0)
        goto out;
    if (a->now > 0 && pd > screen_day_of((uint64_t)a->now) + 1) {
        char today[SCREEN_DATE_MAX];
        screen_date_format(today, screen_day_of((uint64_t)a->now));
        err_set(e, ERR_INVALID, "%s is dated %s, in the future (today is %s): check --published "
                                "or the file", base_name(path), pub, today);
        goto out;
    }
    if (list_format_is_jurisdictions(fmt) != !strcmp(name, "fatf") &&
        (list_format_is_jurisdictions(fmt) || !strcmp(name, "fatf"))) {
        err_set(e, ERR_INVALID, "the name 'fatf' is the FATF jurisdiction list's: a %s file "
                                "cannot be imported under it, nor a FATF file under another",
                list_format_name(fmt));
        goto out;
    }
    uint8_t sha[32];
    crypto_hash_sha256(sha, (const uint8_t *)data, len);
    char hex[65];
    hex_encode(hex, sizeof hex, sha, 32, false);
    /* The previous version is read under the write lock: two imports of one list at once
     * must each see what the other committed (an older file is not made current over a
     * newer one, and the signed counts name the real predecessor). */
    if (store_begin(s, e) < 0)
        goto out;
    if (store_list_versions(s, name, true, &prev, &n_prev, e) < 0)
        goto fail;
    const char *kind = list_format_is_jurisdictions(fmt) ? "jurisdictions" : "addresses";
    if (n_prev) {
        if (!strcmp(prev[0].sha256, hex)) {
            err_set(e, ERR_EXISTS, "%s is list %s version %lld already (same SHA-256): nothing "
                                   "to import", base_name(path), name, (long long)prev[0].id);
            goto fail;
        }
        if (strcmp(prev[0].kind, kind) != 0) {
            err_set(e, ERR_INVALID, "list %s holds %s, not %s", name, prev[0].kind, kind);
            goto fail;
        }
        if (strcmp(pub, prev[0].published) < 0) {
            err_set(e, ERR_INVALID, "%s was published on %s, before version %lld of list %s "
                                    "(%s): a list is not replaced by an older one",
                    base_name(path), pub, (long long)prev[0].id, name, prev[0].published);
            goto fail;
        }
        if (store_list_entries(s, prev[0].id, &pe, &n_pe, e) < 0)
            goto fail;
    }
    ents = calloc(lp.n ? lp.n : 1, sizeof *ents);
    added = json_array();
    removed = json_array();
    if (!ents || !added || !removed) {
        err_set(e, ERR_NOMEM, "out of memory importing %s", base_name(path));
        goto fail;
    }
    store_list_version v = {.n_entries = (int64_t)lp.n, .n_skipped = (int64_t)lp.n_skipped,
                            .imported_at = a->now};
    snprintf(v.name, sizeof v.name, "%s", name);
    snprintf(v.kind, sizeof v.kind, "%s", kind);
    snprintf(v.format, sizeof v.format, "%s", list_format_name(fmt));
    text_safe_str(v.source, sizeof v.source, base_name(path));
    snprintf(v.published, sizeof v.published, "%s", pub);
    snprintf(v.sha256, sizeof v.sha256, "%s", hex);
    snprintf(v.operator_name, sizeof v.operator_name, "%s", a->operator_name);
    /* both sides are sorted by key: one merge gives what was added and removed */
    size_t i = 0, j = 0;
    while (i < lp.n || j < n_pe) {
        int c = i == lp.n ? 1 : j == n_pe ? -1 : strcmp(lp.items[i].key, pe[j].key);
        if (c < 0) {
            v.n_added++;
            if (json_array_size(added) < AUDIT_LIST_MAX)
                json_array_append_new(added, json_string(lp.items[i].key));
            i++;
        } else if (c > 0) {
            v.n_removed++;
            if (json_array_size(removed) < AUDIT_LIST_MAX)
                json_array_append_new(removed, json_string(pe[j].key));
            j++;
        } else {
            i++;
            j++;
        }
    }
    for (size_t k = 0; k < lp.n; k++) {
        snprintf(ents[k].key, sizeof ents[k].key, "%s", lp.items[k].key);
        snprintf(ents[k].detail, sizeof ents[k].detail, "%s", lp.items[k].detail);
        ents[k].line = lp.items[k].line;
    }
    if (store_list_version_add(s, &v, ents, lp.n, e) < 0)
        goto fail;
    d = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:O,s:O}", "version", (json_int_t)v.id,
                  "name", v.name, "format", v.format, "source", v.source, "published",
                  v.published, "sha256", v.sha256, "entries", (json_int_t)v.n_entries, "skipped",
                  (json_int_t)v.n_skipped, "added", (json_int_t)v.n_added, "removed",
                  (json_int_t)v.n_removed, "added_first", added, "removed_first", removed);
    if (!d) {
        err_set(e, ERR_NOMEM, "out of memory recording the import");
        goto fail;
    }
    if (store_audit(s, a->home, a->operator_name, "compliance.list_import", d, e) < 0 ||
        store_commit(s, e) < 0)
        goto fail;
    *out = v;
    rc = 0;
    goto out;
fail:
    store_rollback(s);
out:
    json_decref(d);
    json_decref(added);
    json_decref(removed);
    free(ents);
    free(pe);
    free(prev);
    list_parsed_free(&lp);
    free(data);
    return rc;
}

int compliance_list_check(const char *format, const char *name, const char *data, size_t len,
                          size_t *n_entries, err *e)
{
    list_format fmt;
    if (list_format_parse(&fmt, format) < 0)
        return err_set(e, ERR_INVALID, "unknown list format");
    list_parsed lp;
    if (list_parse(&lp, fmt, name, data, len, e) < 0)
        return -1;
    *n_entries = lp.n;
    list_parsed_free(&lp);
    return 0;
}

/* ---- the screening lists from the current versions ---- */

int compliance_lists_build(store *s, const char *manifest, const char *desk_list,
                           const char *fatf_path, screen_sanctions **sanc, screen_fatf **fatf,
                           int64_t *max_id, err *e)
{
    *sanc = NULL;
    *fatf = NULL;
    *max_id = 0;
    store_list_version *vs = NULL;
    size_t n = 0;
    if (store_list_versions(s, NULL, true, &vs, &n, e) < 0)
        return -1;
    bool official = false;
    const char *newest = NULL;
    const store_list_version *jur = NULL;
    for (size_t i = 0; i < n; i++) {
        if (vs[i].id > *max_id)
            *max_id = vs[i].id;
        if (!strcmp(vs[i].kind, "jurisdictions")) {
            jur = &vs[i];
            continue;
        }
        if (!strcmp(vs[i].name, "ofac-sdn"))
            official = true;
        if (!newest || strcmp(vs[i].published, newest) > 0)
            newest = vs[i].published;
    }
    int rc = -1;
    store_list_entry *ents = NULL;
    addr *addrs = NULL;
    uint32_t *lines = NULL;
    buf csv;
    buf_init(&csv);
    /* an imported OFAC list replaces the shipped snapshot; the desk list always counts */
    if (official) {
        if (screen_sanctions_new(sanc, newest, e) < 0 ||
            (desk_list && screen_sanctions_add_file(*sanc, desk_list, SCREEN_LIST_DESK, e) < 0))
            goto out;
    } else if (screen_sanctions_load(sanc, manifest, desk_list, e) < 0) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(vs[i].kind, "addresses") != 0)
            continue;
        size_t ne = 0;
        free(ents);
        free(addrs);
        free(lines);
        addrs = NULL;
        lines = NULL;
        if (store_list_entries(s, vs[i].id, &ents, &ne, e) < 0)
            goto out;
        addrs = calloc(ne ? ne : 1, sizeof *addrs);
        lines = calloc(ne ? ne : 1, sizeof *lines);
        if (!addrs || !lines) {
            err_set(e, ERR_NOMEM, "out of memory loading list %s", vs[i].name);
            goto out;
        }
        for (size_t k = 0; k < ne; k++) {
            if (hex_decode_exact(addrs[k].b, ADDR_LEN, ents[k].key, HEX_REQUIRE_PREFIX, NULL) <
                0) {
                err_set(e, ERR_STATE, "list version %lld holds a damaged address",
                        (long long)vs[i].id);
                goto out;
            }
            lines[k] = ents[k].line > 0 && ents[k].line <= UINT32_MAX ? (uint32_t)ents[k].line
                                                                       : 0;
        }
        uint8_t sha[32];
        if (hex_decode_exact(sha, 32, vs[i].sha256, 0, NULL) < 0)
            memset(sha, 0, sizeof sha);
        char src[320];
        snprintf(src, sizeof src, "list version %lld: %.64s %.100s published %.10s", (long long)vs[i].id,
                 vs[i].name, vs[i].source, vs[i].published);
        if (screen_sanctions_add_entries(*sanc, src, vs[i].published, sha, addrs, lines, ne, e) <
            0)
            goto out;
    }
    if (jur) {
        size_t ne = 0;
        free(ents);
        ents = NULL;
        if (store_list_entries(s, jur->id, &ents, &ne, e) < 0)
            goto out;
        /* the screening rules read the FATF CSV: the version's rows as that file */
        static const char head[] = "iso2,name,list,as_of\n";
        if (buf_append(&csv, head, sizeof head - 1, e) < 0)
            goto out;
        for (size_t k = 0; k < ne; k++) {
            char row[128];
            int m = snprintf(row, sizeof row, "%s,%s,%s,%s\n", ents[k].key, ents[k].key,
                             ents[k].detail, jur->published);
            if (buf_append(&csv, row, (size_t)m, e) < 0)
                goto out;
        }
        char nm[80];
        snprintf(nm, sizeof nm, "list version %lld (fatf)", (long long)jur->id);
        if (screen_fatf_parse(fatf, nm, (const char *)csv.data, csv.len, e) < 0)
            goto out;
    } else if (screen_fatf_load(fatf, fatf_path, e) < 0) {
        goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        screen_sanctions_free(sanc);
        screen_fatf_free(fatf);
    }
    buf_free(&csv);
    free(ents);
    free(addrs);
    free(lines);
    free(vs);
    return rc;
}

int compliance_lists_stale_alerts(store *s, const compliance_config *cfg, int64_t now, err *e)
{
    store_list_version *vs = NULL;
    size_t n = 0;
    if (store_list_versions(s, NULL, true, &vs, &n, e) < 0)
        return -1;
    store_alert_cond *conds = calloc(n ? n : 1, sizeof *conds);
    size_t k = 0;
    if (!conds) {
        free(vs);
        return err_set(e, ERR_NOMEM, "out of memory checking list ages");
    }
    int32_t today = screen_day_of((uint64_t)(now > 0 ? now : 0));
    for (size_t i = 0; i < n && cfg->list_max_age_days > 0; i++) {
        int32_t day;
        if (screen_date_parse(&day, vs[i].published, NULL) < 0)
            continue;
        int64_t age = (int64_t)today - day;
        if (age <= cfg->list_max_age_days)
            continue;
        store_alert_cond *c = &conds[k++];
        snprintf(c->key, sizeof c->key, "list:%s:stale", vs[i].name);
        snprintf(c->kind, sizeof c->kind, "list_stale");
        c->severity = ALERT_WARNING;
        snprintf(c->message, sizeof c->message,
                 "screening list %s (version %lld) was published on %s, %lld days ago (limit %d): "
                 "import the newer one (fusion lists import)",
                 vs[i].name, (long long)vs[i].id, vs[i].published, (long long)age,
                 cfg->list_max_age_days);
        c->value = (double)age;
        c->limit = (double)cfg->list_max_age_days;
    }
    int rc = store_alert_sync_scope(s, "list:", conds, k, now, NULL, NULL, e);
    free(conds);
    free(vs);
    return rc;
}
