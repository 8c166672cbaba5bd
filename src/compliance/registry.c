/* registry.c: the entity registry service (KYC/KYB): field validation (ISO 3166 codes,
 * dates, enumerations, UTF-8 names), audited writes, document hashing and the
 * all-or-nothing CSV import with a per-line error report. */
#include "compliance/compliance.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/bytes.h"
#include "base/text.h"

/* The 249 officially assigned ISO 3166-1 alpha-2 codes (Debian iso-codes), sorted. */
static const char countries[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCM"
    "CNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGY"
    "HKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMF"
    "MGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARE"
    "RORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZ"
    "VAVCVEVGVIVNVUWFWSYEYTZAZMZW";

bool compliance_country_valid(const char *cc)
{
    if (!cc || strlen(cc) != 2)
        return false;
    size_t lo = 0, hi = (sizeof countries - 1) / 2;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(countries + 2 * mid, cc, 2);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* True when the comma list holds the role name exactly ("trader,compliance"). */
static bool has_role(const char *csv, const char *role)
{
    size_t n = strlen(role);
    for (const char *p = csv; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, role, n) == 0)
            return true;
        p += k;
        if (*p == ',')
            p++;
    }
    return false;
}

int compliance_require_officer(store *s, const compliance_actor *a, err *e)
{
    if (!a || !a->operator_name || !*a->operator_name)
        return err_set(e, ERR_DENIED, "no operator name: pass --operator NAME");
    store_operator op;
    bool found = false;
    if (store_operator_get(s, a->operator_name, &op, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_DENIED,
                       "operator \"%.63s\" is not a desk operator and lacks the compliance "
                       "role: add it with fusion operator add %.63s --key ADDRESS --role "
                       "compliance",
                       a->operator_name, a->operator_name);
    if (!has_role(op.roles, "compliance"))
        return err_set(e, ERR_DENIED,
                       "operator \"%.63s\" (roles %s) lacks the compliance role: grant it "
                       "with fusion operator roles %.63s --role %s%scompliance",
                       a->operator_name, op.roles[0] ? op.roles : "none", a->operator_name,
                       op.roles, op.roles[0] ? "," : "");
    return 0;
}

static bool one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

/* Well-formed UTF-8 without control characters or bidi controls (base/text.h): text
 * that reads the same on every terminal and in every export. */
static bool text_ok(const char *s)
{
    size_t n = strlen(s);
    return text_unsafe_at(s, n) == n;
}

static int check_date(const char *field, const char *s, err *e)
{
    if (!s[0])
        return 0;
    int32_t d;
    if (screen_date_parse(&d, s, e) < 0)
        return err_set(e, ERR_INVALID, "%s '%.20s' is not a date: use YYYY-MM-DD", field, s);
    return 0;
}

int compliance_entity_check(const store_entity *x, err *e)
{
    static const char *const types[] = {"individual", "company", NULL};
    static const char *const kycs[] = {"pending", "verified", "rejected", "expired", NULL};
    static const char *const risks[] = {"low", "medium", "high", NULL};
    size_t len = strlen(x->name);
    if (len == 0 || len >= STORE_ENTITY_NAME_MAX - 1)
        return err_set(e, ERR_INVALID, "name must be 1 to %d bytes", STORE_ENTITY_NAME_MAX - 2);
    if (!text_ok(x->name))
        return err_set(e, ERR_INVALID,
                       "name is not printable UTF-8 (control characters, bidi controls or "
                       "invalid bytes): type the name as plain text");
    if (x->name[0] == ' ' || x->name[len - 1] == ' ')
        return err_set(e, ERR_INVALID, "name has leading or trailing spaces");
    if (!one_of(x->type, types))
        return err_set(e, ERR_INVALID, "type '%.20s' is not individual or company", x->type);
    if (!compliance_country_valid(x->jurisdiction))
        return err_set(e, ERR_INVALID,
                       "jurisdiction '%.8s' is not an ISO 3166-1 alpha-2 code "
                       "(two capital letters, e.g. CH)",
                       x->jurisdiction);
    if (!one_of(x->kyc, kycs))
        return err_set(e, ERR_INVALID,
                       "kyc '%.20s' is not pending, verified, rejected or "
                       "expired",
                       x->kyc);
    if (!one_of(x->risk, risks))
        return err_set(e, ERR_INVALID, "risk '%.20s' is not low, medium or high", x->risk);
    if (x->tier < 1 || x->tier > 5)
        return err_set(e, ERR_INVALID, "tier %d is not 1..5", x->tier);
    if (check_date("kyc expiry", x->kyc_expires, e) < 0 ||
        check_date("review date", x->review_due, e) < 0)
        return -1;
    return 0;
}

static int audit(store *s, const compliance_actor *a, const char *action, json_t *details,
                 err *e)
{
    int rc = store_audit(s, a->home, a->operator_name, action, details, e);
    json_decref(details);
    return rc;
}

static json_t *entity_json(const store_entity *x)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?,s:i,s:s,s:s?,s:b}", "id", (json_int_t)x->id, "name",
                     x->name, "type", x->type, "jurisdiction", x->jurisdiction, "kyc", x->kyc,
                     "kyc_expires", x->kyc_expires[0] ? x->kyc_expires : NULL, "tier", x->tier,
                     "risk", x->risk, "review_due", x->review_due[0] ? x->review_due : NULL,
                     "blocked", x->blocked);
}

/* Runs fn inside a transaction with an audit row appended before the commit (a failed
 * audit rolls the change back). */
int compliance_entity_add(store *s, const compliance_actor *a, store_entity *x, err *e)
{
    if (compliance_require_officer(s, a, e) < 0 || compliance_entity_check(x, e) < 0)
        return -1;
    if (store_begin(s, e) < 0)
        return -1;
    if (store_entity_add(s, x, &x->id, e) < 0 || audit(s, a, "entity.add", entity_json(x), e) < 0 ||
        store_commit(s, e) < 0) {
        store_rollback(s);
        return -1;
    }
    return 0;
}

int compliance_entity_edit(store *s, const compliance_actor *a, const store_entity *x, err *e)
{
    if (compliance_require_officer(s, a, e) < 0 || compliance_entity_check(x, e) < 0)
        return -1;
    if (store_begin(s, e) < 0)
        return -1;
    store_entity old;
    bool found = false;
    if (store_entity_get(s, x->id, &old, &found, e) < 0)
        goto fail;
    if (!found) {
        err_set(e, ERR_NOT_FOUND, "no entity with id %lld", (long long)x->id);
        goto fail;
    }
    json_t *d = json_pack("{s:o,s:o}", "before", entity_json(&old), "after", entity_json(x));
    if (store_entity_update(s, x, e) < 0 || audit(s, a, "entity.edit", d, e) < 0 ||
        store_commit(s, e) < 0)
        goto fail;
    return 0;
fail:
    store_rollback(s);
    return -1;
}

int compliance_entity_link(store *s, const compliance_actor *a, int64_t entity_id,
                           uint64_t chain_id, const addr *address, err *e)
{
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    if (addr_is_zero(address))
        return err_set(e, ERR_INVALID, "the zero address cannot be linked to an entity");
    store_entity_link l = {.entity_id = entity_id, .chain_id = chain_id, .address = *address};
    char hex[ADDR_STR_MAX];
    addr_to_checksum(hex, address);
    if (store_begin(s, e) < 0)
        return -1;
    if (store_entity_link_add(s, &l, e) < 0 ||
        audit(s, a, "entity.link",
              json_pack("{s:I,s:I,s:s}", "entity", (json_int_t)entity_id, "chain_id",
                        (json_int_t)chain_id, "address", hex),
              e) < 0 ||
        store_commit(s, e) < 0) {
        store_rollback(s);
        return -1;
    }
    return 0;
}

static int hash_file(const char *path, uint8_t out[32], err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_IO, "cannot read %.200s: %s", path, strerror(errno));
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char cbuf[65536];
    size_t n;
    while ((n = fread(cbuf, 1, sizeof cbuf, f)) > 0)
        crypto_hash_sha256_update(&st, cbuf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return err_set(e, ERR_IO, "error reading %.200s", path);
    crypto_hash_sha256_final(&st, out);
    return 0;
}

int compliance_entity_add_doc(store *s, const compliance_actor *a, int64_t entity_id,
                              const char *doc_type, const char *path, err *e)
{
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    if (!doc_type[0] || strlen(doc_type) >= 32 || !text_ok(doc_type))
        return err_set(e, ERR_INVALID, "document type must be 1 to 31 printable characters");
    store_entity_doc d = {.entity_id = entity_id, .added_at = a->now};
    snprintf(d.doc_type, sizeof d.doc_type, "%s", doc_type);
    const char *base = strrchr(path, '/');
    const char *file = base ? base + 1 : path;
    if (!*file || strlen(file) >= sizeof d.file_name || !text_ok(file))
        return err_set(e, ERR_INVALID,
                       "document file name must be 1 to %zu bytes of printable UTF-8 (no control "
                       "characters or bidi controls): rename the file",
                       sizeof d.file_name - 1);
    snprintf(d.file_name, sizeof d.file_name, "%s", file);
    if (hash_file(path, d.sha256, e) < 0)
        return -1;
    char hex[65];
    if (hex_encode(hex, sizeof hex, d.sha256, 32, false) == 0)
        hex[0] = '\0';
    if (store_begin(s, e) < 0)
        return -1;
    if (store_entity_doc_add(s, &d, e) < 0 ||
        audit(s, a, "entity.document",
              json_pack("{s:I,s:s,s:s,s:s}", "entity", (json_int_t)entity_id, "type", d.doc_type,
                        "sha256", hex, "file", d.file_name),
              e) < 0 ||
        store_commit(s, e) < 0) {
        store_rollback(s);
        return -1;
    }
    return 0;
}

int compliance_entity_add_party(store *s, const compliance_actor *a, int64_t entity_id,
                                int64_t party_id, const char *role, err *e)
{
    static const char *const roles[] = {"director",  "beneficial_owner", "shareholder",
                                        "signatory", "guarantor",        NULL};
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    if (!one_of(role, roles))
        return err_set(e, ERR_INVALID,
                       "role '%.32s' is not director, beneficial_owner, "
                       "shareholder, signatory or guarantor",
                       role);
    if (entity_id == party_id)
        return err_set(e, ERR_INVALID, "an entity cannot be its own related party");
    store_related_party p = {.entity_id = entity_id, .party_id = party_id};
    snprintf(p.role, sizeof p.role, "%s", role);
    if (store_begin(s, e) < 0)
        return -1;
    if (store_related_party_add(s, &p, e) < 0 ||
        audit(s, a, "entity.party",
              json_pack("{s:I,s:I,s:s}", "entity", (json_int_t)entity_id, "party",
                        (json_int_t)party_id, "role", role),
              e) < 0 ||
        store_commit(s, e) < 0) {
        store_rollback(s);
        return -1;
    }
    return 0;
}

/* ---- CSV import ---- */

#define CSV_COLS 10
static const char *const csv_header[CSV_COLS] = {
    "name", "type", "jurisdiction", "kyc",      "kyc_expires",
    "tier", "risk", "review_due",   "chain_id", "address"};

/* Splits one record starting at *p (RFC 4180: quoted fields may hold commas, doubled
 * quotes and newlines). Fields are written NUL-terminated into cbuf. Returns the number of
 * fields, -1 on a malformed quote or too many fields; *lines gets the newlines consumed.
 * *p always moves on, past a malformed record too (to the end of the line where the error
 * was found, or of the text): a caller looping until the end cannot spin in place. */
static int csv_record(const char **p, const char *end, char *cbuf, size_t cap, char **fields,
                      int max, size_t *lines)
{
    const char *s = *p;
    size_t k = 0;
    int nf = 0;
    *lines = 0;
    for (;;) {
        if (nf == max)
            goto bad;
        fields[nf++] = cbuf + k;
        if (s < end && *s == '"') {
            s++;
            for (;;) {
                if (s >= end)
                    goto bad;
                if (*s == '"') {
                    if (s + 1 < end && s[1] == '"') {
                        if (k + 1 < cap)
                            cbuf[k++] = '"';
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                if (*s == '\n')
                    (*lines)++;
                if (k + 1 < cap)
                    cbuf[k++] = *s;
                s++;
            }
            if (s < end && *s != ',' && *s != '\n' && *s != '\r')
                goto bad;
        } else {
            while (s < end && *s != ',' && *s != '\n' && *s != '\r') {
                if (*s == '"')
                    goto bad;
                if (k + 1 < cap)
                    cbuf[k++] = *s;
                s++;
            }
        }
        cbuf[k++] = '\0';
        if (s < end && *s == ',') {
            s++;
            continue;
        }
        if (s < end && *s == '\r')
            s++;
        if (s < end && *s == '\n') {
            s++;
            (*lines)++;
        }
        break;
    }
    *p = s;
    return nf;
bad:
    while (s < end && *s != '\n')
        s++;
    if (s < end) {
        s++;
        (*lines)++;
    }
    *p = s;
    return -1;
}

/* Keeps the first COMPLIANCE_IMPORT_ERRORS_MAX bad lines; the others are only counted, so
 * a file of a million bad lines costs no more memory than one of a hundred. */
static void report_line(compliance_import_report *r, size_t line, const char *msg)
{
    if (r->n_errors >= COMPLIANCE_IMPORT_ERRORS_MAX) {
        r->n_more++;
        return;
    }
    compliance_line_error *g = realloc(r->errors, (r->n_errors + 1) * sizeof *g);
    if (!g) {
        r->n_more++;
        return;
    }
    r->errors = g;
    g[r->n_errors].line = line;
    snprintf(g[r->n_errors].msg, sizeof g[r->n_errors].msg, "%s", msg);
    r->n_errors++;
}

typedef struct import_row {
    size_t line;
    store_entity x;
    bool has_link;
    store_entity_link link;
} import_row;

static int parse_row(char **f, import_row *row, err *e)
{
    store_entity *x = &row->x;
    memset(x, 0, sizeof *x);
    if (strlen(f[0]) >= sizeof x->name)
        return err_set(e, ERR_INVALID, "name is too long");
    snprintf(x->name, sizeof x->name, "%s", f[0]);
    snprintf(x->type, sizeof x->type, "%s", f[1]);
    snprintf(x->jurisdiction, sizeof x->jurisdiction, "%s", f[2]);
    if (strlen(f[2]) != 2)
        return err_set(e, ERR_INVALID, "jurisdiction '%.8s' is not an ISO 3166-1 alpha-2 code",
                       f[2]);
    snprintf(x->kyc, sizeof x->kyc, "%s", f[3][0] ? f[3] : "pending");
    snprintf(x->kyc_expires, sizeof x->kyc_expires, "%s", f[4]);
    if (strlen(f[4]) > 10 || strlen(f[7]) > 10)
        return err_set(e, ERR_INVALID, "dates are YYYY-MM-DD");
    x->tier = 1;
    if (f[5][0]) {
        char *endp;
        long t = strtol(f[5], &endp, 10);
        if (*endp || t < 1 || t > 5)
            return err_set(e, ERR_INVALID, "tier '%.8s' is not 1..5", f[5]);
        x->tier = (int)t;
    }
    snprintf(x->risk, sizeof x->risk, "%s", f[6][0] ? f[6] : "medium");
    if (strlen(f[6]) >= sizeof x->risk)
        return err_set(e, ERR_INVALID, "risk '%.20s' is not low, medium or high", f[6]);
    snprintf(x->review_due, sizeof x->review_due, "%s", f[7]);
    if (compliance_entity_check(x, e) < 0)
        return -1;
    row->has_link = f[9][0] != '\0';
    if (!row->has_link && f[8][0])
        return err_set(e, ERR_INVALID, "chain_id given without an address");
    if (row->has_link) {
        char *endp;
        errno = 0;
        unsigned long long c = f[8][0] ? strtoull(f[8], &endp, 10) : 0;
        if (f[8][0] && (*endp || errno || f[8][0] == '-'))
            return err_set(e, ERR_INVALID, "chain_id '%.20s' is not a number", f[8]);
        row->link.chain_id = c;
        if (addr_parse(&row->link.address, f[9], e) < 0)
            return err_prefix(e, "address");
    }
    return 0;
}

/* Every data row of the CSV text, checked: *rows (caller frees) when no line is bad, else
 * -1 with the bad lines in r. Pure: no store, no file. name is the file's name for errors. */
static int entity_csv_parse(const char *data, size_t len, const char *name, import_row **rows_out,
                            size_t *n_out, compliance_import_report *r, err *e)
{
    *rows_out = NULL;
    *n_out = 0;
    if (strnlen(data, len) != len)
        return err_set(e, ERR_INVALID, "%.200s holds NUL bytes: not a CSV text file", name);
    const char *p = data, *end = data + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* a spreadsheet's UTF-8 byte-order mark */
    char cbuf[4096], *f[CSV_COLS + 1];
    size_t lines, line = 1;
    int nf = csv_record(&p, end, cbuf, sizeof cbuf, f, CSV_COLS + 1, &lines);
    bool header_ok = nf == CSV_COLS;
    for (int i = 0; header_ok && i < CSV_COLS; i++)
        header_ok = strcmp(f[i], csv_header[i]) == 0;
    if (!header_ok)
        return err_set(e, ERR_INVALID,
                       "%.200s:1: the header must be name,type,jurisdiction,"
                       "kyc,kyc_expires,tier,risk,review_due,chain_id,address",
                       name);
    line += lines;
    import_row *rows = NULL;
    size_t n_rows = 0;
    while (p < end) {
        size_t at = line;
        const char *was = p;
        nf = csv_record(&p, end, cbuf, sizeof cbuf, f, CSV_COLS + 1, &lines);
        if (p <= was) { /* csv_record always moves on: never spin here if it did not */
            free(rows);
            return err_set(e, ERR_INTERNAL, "%.200s:%zu: the CSV reader did not advance", name,
                           at);
        }
        line += lines ? lines : 1;
        if (nf == 1 && f[0][0] == '\0')
            continue; /* blank line */
        r->n_rows++;
        char msg[ERR_MSG_MAX];
        if (nf < 0) {
            report_line(r, at,
                        "malformed quoting (a quote inside an unquoted field, or an "
                        "unterminated quoted field)");
            continue;
        }
        if (nf != CSV_COLS) {
            snprintf(msg, sizeof msg, "%d fields, expected %d", nf, CSV_COLS);
            report_line(r, at, msg);
            continue;
        }
        import_row row = {.line = at};
        err le;
        err_clear(&le);
        if (parse_row(f, &row, &le) < 0) {
            report_line(r, at, le.msg);
            continue;
        }
        for (size_t i = 0; i < n_rows; i++) {
            if (strcmp(rows[i].x.name, row.x.name) == 0) {
                snprintf(msg, sizeof msg, "entity \"%.100s\" already appears on line %zu",
                         row.x.name, rows[i].line);
                report_line(r, at, msg);
                goto next;
            }
        }
        if (n_rows >= COMPLIANCE_IMPORT_ROWS_MAX) {
            free(rows);
            return err_set(e, ERR_INVALID,
                           "%.200s:%zu: more than %d entities: split the file", name, at,
                           COMPLIANCE_IMPORT_ROWS_MAX);
        }
        import_row *g = realloc(rows, (n_rows + 1) * sizeof *g);
        if (!g) {
            free(rows);
            return err_set(e, ERR_NOMEM, "out of memory importing %.200s", name);
        }
        rows = g;
        rows[n_rows++] = row;
    next:;
    }
    if (r->n_errors + r->n_more) {
        free(rows);
        return err_set(e, ERR_INVALID, "%zu of %zu lines of %.200s are bad; nothing imported",
                       r->n_errors + r->n_more, r->n_rows, name);
    }
    *rows_out = rows;
    *n_out = n_rows;
    return 0;
}

int compliance_entity_csv_check(const char *data, size_t len, const char *name,
                                compliance_import_report *r, err *e)
{
    memset(r, 0, sizeof *r);
    import_row *rows;
    size_t n;
    int rc = entity_csv_parse(data, len, name, &rows, &n, r, e);
    free(rows);
    return rc;
}

int compliance_entity_import(store *s, const compliance_actor *a, const char *path,
                             compliance_import_report *r, err *e)
{
    memset(r, 0, sizeof *r);
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set(e, ERR_IO, "cannot read %.200s: %s", path, strerror(errno));
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            char *g = realloc(data, cap = cap * 2 + 65536);
            if (!g) {
                free(data);
                fclose(fp);
                return err_set(e, ERR_NOMEM, "out of memory reading %.200s", path);
            }
            data = g;
        }
        size_t n = fread(data + len, 1, cap - len - 1, fp);
        len += n;
        if (len > COMPLIANCE_IMPORT_FILE_MAX) {
            free(data);
            fclose(fp);
            return err_set(e, ERR_INVALID, "%.200s is larger than %u MiB: split the file", path,
                           COMPLIANCE_IMPORT_FILE_MAX >> 20);
        }
        if (n == 0)
            break;
    }
    fclose(fp);
    data[len] = '\0';
    import_row *rows;
    size_t n_rows;
    int prc = entity_csv_parse(data, len, path, &rows, &n_rows, r, e);
    free(data);
    if (prc < 0)
        return -1;
    if (store_begin(s, e) < 0) {
        free(rows);
        return -1;
    }
    for (size_t i = 0; i < n_rows; i++) {
        err le;
        err_clear(&le);
        if (store_entity_add(s, &rows[i].x, &rows[i].x.id, &le) < 0) {
            report_line(r, rows[i].line, le.msg);
            continue;
        }
        if (rows[i].has_link) {
            rows[i].link.entity_id = rows[i].x.id;
            if (store_entity_link_add(s, &rows[i].link, &le) < 0)
                report_line(r, rows[i].line, le.msg);
        }
    }
    if (r->n_errors + r->n_more) {
        store_rollback(s);
        free(rows);
        return err_set(e, ERR_INVALID,
                       "%zu of %zu lines of %.200s clash with the registry; "
                       "nothing imported",
                       r->n_errors + r->n_more, r->n_rows, path);
    }
    int rc = audit(s, a, "entity.import",
                   json_pack("{s:s,s:I}", "file", path, "entities", (json_int_t)n_rows), e);
    free(rows);
    if (rc < 0 || store_commit(s, e) < 0) {
        store_rollback(s);
        return -1;
    }
    r->n_imported = n_rows;
    return 0;
}

void compliance_import_report_free(compliance_import_report *r)
{
    free(r->errors);
    r->errors = NULL;
    r->n_errors = 0;
    r->n_more = 0;
}
