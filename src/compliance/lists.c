/* lists.c: loading the screening lists: the OFAC SDN address exports (text and JSON), the
 * desk's own list, the manifest that names a snapshot, and the FATF jurisdiction CSV.
 * Every file is hashed (SHA-256, libsodium) so that each hit can name the exact snapshot it
 * used. Bad input is rejected with "file:line: what is wrong", never guessed at. */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/bytes.h"
#include "base/text.h"
#include "base/fsperm.h"
#include "compliance/addrmap.h"
#include "compliance/internal.h"
#include "compliance/screen.h"

#define LIST_FILE_MAX (64u << 20) /* no list is anywhere near 64 MiB */
#define REASON_MAX 160

/* ---- shared helpers ---- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void version_of(char out[SCREEN_VERSION_MAX], const char *as_of, const uint8_t sha[32])
{
    char hex[65];
    hex_encode(hex, sizeof hex, sha, 32, false);
    snprintf(out, SCREEN_VERSION_MAX, "%.10s/%.16s", as_of, hex);
}

/* Reads a whole file (NUL-terminated for convenience; *len excludes the NUL). */
static int read_file(const char *path, char **data, size_t *len, err *e)
{
    if (fsperm_check_not_writable(path, "list file", e) < 0)
        return -1;
    return file_read_all(path, LIST_FILE_MAX, "a list file", data, len, e);
}

/* Iterates over lines: each line comes without its "\n" or "\r\n". */
typedef struct line_iter {
    const char *p;
    const char *end;
    size_t no;
} line_iter;

static bool next_line(line_iter *it, const char **line, size_t *line_len)
{
    if (it->p >= it->end)
        return false;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *stop = nl ? nl : it->end;
    *line = it->p;
    *line_len = (size_t)(stop - it->p);
    if (*line_len > 0 && (*line)[*line_len - 1] == '\r')
        (*line_len)--;
    it->p = nl ? nl + 1 : it->end;
    it->no++;
    return true;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_blank(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_blank((*s)[*len - 1]))
        (*len)--;
}

/* Index of the first byte that is not printable ASCII (tabs allowed), or len. */
static size_t first_unprintable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c >= 0x7f)
            return i;
    }
    return len;
}

/* ---- sanctions ---- */

typedef struct sanc_source {
    char *name; /* basename: what the snapshot hash and the evidence name */
    uint8_t sha256[32];
} sanc_source;

typedef struct sanc_entry {
    uint32_t source;
    uint32_t line; /* line number, or JSON array position (1-based) */
    char *reason;  /* desk list only, may be NULL */
} sanc_entry;

struct screen_sanctions {
    addrmap *set; /* value: index into entries */
    sanc_source *sources;
    size_t n_sources;
    sanc_entry *entries;
    size_t n_entries;
    size_t cap_entries;
    char as_of[SCREEN_DATE_MAX];
    uint8_t sha256[32];
    size_t n_skipped;
    size_t n_duplicates;
};

int screen_sanctions_new(screen_sanctions **out, const char *as_of, err *e)
{
    *out = NULL;
    int32_t day;
    if (screen_date_parse(&day, as_of, e) < 0)
        return err_prefix(e, "sanctions snapshot date");
    screen_sanctions *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "out of memory for a sanctions list");
    if (addrmap_new(&s->set, 256, e) < 0) {
        free(s);
        return -1;
    }
    snprintf(s->as_of, sizeof s->as_of, "%s", as_of);
    crypto_hash_sha256(s->sha256, (const uint8_t *)"", 0);
    *out = s;
    return 0;
}

void screen_sanctions_free(screen_sanctions **p)
{
    if (!p || !*p)
        return;
    screen_sanctions *s = *p;
    addrmap_free(&s->set);
    for (size_t i = 0; i < s->n_sources; i++)
        free(s->sources[i].name);
    free(s->sources);
    for (size_t i = 0; i < s->n_entries; i++)
        free(s->entries[i].reason);
    free(s->entries);
    free(s);
    *p = NULL;
}

/* sha256 over "<hex>  <name>\n" per source: `sha256sum FILES | sha256sum`. */
static void recompute_hash(screen_sanctions *s)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (size_t i = 0; i < s->n_sources; i++) {
        char hex[65];
        hex_encode(hex, sizeof hex, s->sources[i].sha256, 32, false);
        crypto_hash_sha256_update(&st, (const uint8_t *)hex, 64);
        crypto_hash_sha256_update(&st, (const uint8_t *)"  ", 2);
        crypto_hash_sha256_update(&st, (const uint8_t *)s->sources[i].name,
                                  strlen(s->sources[i].name));
        crypto_hash_sha256_update(&st, (const uint8_t *)"\n", 1);
    }
    crypto_hash_sha256_final(&st, s->sha256);
}

static int add_entry(screen_sanctions *s, const addr *a, uint32_t line, const char *reason,
                     size_t reason_len, err *e)
{
    bool created;
    uint64_t *v = addrmap_upsert(s->set, a, 0, &created, e);
    if (!v)
        return -1;
    if (!created) {
        s->n_duplicates++;
        return 0;
    }
    if (s->n_entries == s->cap_entries) {
        size_t cap = s->cap_entries ? s->cap_entries * 2 : 256;
        sanc_entry *ent = realloc(s->entries, cap * sizeof *ent);
        if (!ent) {
            addrmap_remove(s->set, a, 0);
            return err_set(e, ERR_NOMEM, "out of memory for sanctions list entries");
        }
        s->entries = ent;
        s->cap_entries = cap;
    }
    sanc_entry *en = &s->entries[s->n_entries];
    en->source = (uint32_t)(s->n_sources - 1);
    en->line = line;
    en->reason = NULL;
    if (reason_len > 0) {
        if (reason_len > REASON_MAX)
            reason_len = REASON_MAX;
        en->reason = strndup(reason, reason_len);
        if (!en->reason) {
            addrmap_remove(s->set, a, 0);
            return err_set(e, ERR_NOMEM, "out of memory for a desk list reason");
        }
    }
    *v = s->n_entries++;
    return 0;
}

/* One OFAC entry (a text line or a JSON string). "0x..." must be a whole EVM address;
 * anything else is another chain's address and is counted as skipped. */
static int add_ofac_token(screen_sanctions *s, const char *name, size_t no, bool json,
                          const char *tok, size_t len, err *e)
{
    char loc[300];
    snprintf(loc, sizeof loc, json ? "%s: entry %zu" : "%s:%zu", name, no);
    char ex[TEXT_EXCERPT_MAX];
    size_t bad = first_unprintable(tok, len);
    if (bad < len)
        return err_set(e, ERR_INVALID, "%s: unexpected byte 0x%02x in '%s': not a list file?", loc,
                       (unsigned char)tok[bad], text_safe(ex, sizeof ex, tok, len));
    for (size_t i = 0; i < len; i++)
        if (is_blank(tok[i]))
            return err_set(e, ERR_INVALID, "%s: '%s' is not one address: one per line", loc,
                           text_safe(ex, sizeof ex, tok, len));
    if (len >= 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
        addr a;
        size_t n = 0;
        if (len != 2 + 2 * ADDR_LEN ||
            hex_decode(a.b, sizeof a.b, &n, tok, len, HEX_REQUIRE_PREFIX, NULL) < 0 ||
            n != ADDR_LEN)
            return err_set(e, ERR_INVALID, "%s: '%s' is not an EVM address (0x and 40 hex digits)",
                           loc, text_safe(ex, sizeof ex, tok, len));
        return add_entry(s, &a, (uint32_t)no, NULL, 0, e);
    }
    s->n_skipped++;
    return 0;
}

static int parse_text(screen_sanctions *s, const char *name, const char *data, size_t len, err *e)
{
    line_iter it = {data, data + len, 0};
    const char *line;
    size_t n;
    while (next_line(&it, &line, &n)) {
        trim(&line, &n);
        if (n == 0 || line[0] == '#')
            continue;
        if (add_ofac_token(s, name, it.no, false, line, n, e) < 0)
            return -1;
    }
    return 0;
}

static int parse_json(screen_sanctions *s, const char *name, const char *data, size_t len, err *e)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    if (!root) {
        char ex[TEXT_EXCERPT_MAX];
        return err_set(e, ERR_INVALID, "%s:%d: not valid JSON (%s)", name, jerr.line,
                       text_safe_str(ex, sizeof ex, jerr.text));
    }
    int rc = 0;
    if (!json_is_array(root)) {
        rc = err_set(e, ERR_INVALID, "%s: expected a JSON array of address strings", name);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(root); i++) {
        json_t *v = json_array_get(root, i);
        if (!json_is_string(v)) {
            rc = err_set(e, ERR_INVALID, "%s: entry %zu is not a string", name, i + 1);
            goto out;
        }
        const char *str = json_string_value(v);
        size_t n = json_string_length(v);
        trim(&str, &n);
        if (add_ofac_token(s, name, i + 1, true, str, n, e) < 0) {
            rc = -1;
            goto out;
        }
    }
out:
    json_decref(root);
    return rc;
}

static int parse_desk(screen_sanctions *s, const char *name, const char *data, size_t len, err *e)
{
    line_iter it = {data, data + len, 0};
    const char *line;
    size_t n;
    char ex[TEXT_EXCERPT_MAX];
    while (next_line(&it, &line, &n)) {
        trim(&line, &n);
        if (n == 0 || line[0] == '#')
            continue;
        size_t bad = first_unprintable(line, n);
        if (bad < n)
            return err_set(e, ERR_INVALID, "%s:%zu: unexpected byte 0x%02x: write plain ASCII",
                           name, it.no, (unsigned char)line[bad]);
        size_t tok_len = 0;
        while (tok_len < n && !is_blank(line[tok_len]))
            tok_len++;
        const char *reason = line + tok_len;
        size_t reason_len = n - tok_len;
        trim(&reason, &reason_len);
        if (tok_len != 2 + 2 * ADDR_LEN)
            return err_set(e, ERR_INVALID,
                           "%s:%zu: '%s' is not an EVM address (0x and 40 hex digits): "
                           "fix or remove the line",
                           name, it.no, text_safe(ex, sizeof ex, line, tok_len));
        char tok[ADDR_STR_MAX];
        memcpy(tok, line, tok_len);
        tok[tok_len] = '\0';
        addr a;
        err pe;
        err_clear(&pe);
        if (addr_parse(&a, tok, &pe) < 0)
            return err_set(e, ERR_INVALID, "%s:%zu: '%s': %s: fix or remove the line", name, it.no,
                           tok, pe.msg);
        if (add_entry(s, &a, (uint32_t)it.no, reason, reason_len, e) < 0)
            return -1;
    }
    return 0;
}

int screen_sanctions_add(screen_sanctions *s, const char *name, const char *data, size_t len,
                         screen_list_format fmt, err *e)
{
    if (s->n_sources >= UINT32_MAX)
        return err_set(e, ERR_OVERFLOW, "too many sanctions list files");
    sanc_source *src = realloc(s->sources, (s->n_sources + 1) * sizeof *src);
    if (!src)
        return err_set(e, ERR_NOMEM, "out of memory for a sanctions list source");
    s->sources = src;
    sanc_source *me = &s->sources[s->n_sources];
    me->name = strdup(base_name(name));
    if (!me->name)
        return err_set(e, ERR_NOMEM, "out of memory for a sanctions list source");
    crypto_hash_sha256(me->sha256, (const uint8_t *)data, len);
    s->n_sources++;
    int rc;
    switch (fmt) {
    case SCREEN_LIST_TEXT:
        rc = parse_text(s, name, data, len, e);
        break;
    case SCREEN_LIST_JSON:
        rc = parse_json(s, name, data, len, e);
        break;
    case SCREEN_LIST_DESK:
        rc = parse_desk(s, name, data, len, e);
        break;
    default:
        rc = err_set(e, ERR_INVALID, "unknown sanctions list format %d", (int)fmt);
    }
    recompute_hash(s);
    return rc;
}

int screen_sanctions_add_entries(screen_sanctions *s, const char *name, const char *published,
                                 const uint8_t sha256[32], const addr *addrs,
                                 const uint32_t *lines, size_t n, err *e)
{
    if (s->n_sources >= UINT32_MAX)
        return err_set(e, ERR_OVERFLOW, "too many sanctions list sources");
    sanc_source *src = realloc(s->sources, (s->n_sources + 1) * sizeof *src);
    if (!src)
        return err_set(e, ERR_NOMEM, "out of memory for a sanctions list source");
    s->sources = src;
    sanc_source *me = &s->sources[s->n_sources];
    me->name = strdup(name);
    if (!me->name)
        return err_set(e, ERR_NOMEM, "out of memory for a sanctions list source");
    memcpy(me->sha256, sha256, 32);
    s->n_sources++;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = add_entry(s, &addrs[i], lines[i], NULL, 0, e);
    /* the list is as recent as its newest source */
    int32_t d_new, d_old;
    if (published && screen_date_parse(&d_new, published, NULL) == 0 &&
        (screen_date_parse(&d_old, s->as_of, NULL) < 0 || d_new > d_old))
        snprintf(s->as_of, sizeof s->as_of, "%s", published);
    recompute_hash(s);
    return rc;
}

int screen_sanctions_add_file(screen_sanctions *s, const char *path, screen_list_format fmt, err *e)
{
    char *data;
    size_t len;
    if (read_file(path, &data, &len, e) < 0)
        return -1;
    int rc = screen_sanctions_add(s, path, data, len, fmt, e);
    free(data);
    return rc;
}

/* Manifest: "as_of YYYY-MM-DD" once, "list FILE" per list (relative to the manifest). */
int screen_sanctions_load(screen_sanctions **out, const char *manifest, const char *desk_list,
                          err *e)
{
    *out = NULL;
    char *data;
    size_t len;
    if (read_file(manifest, &data, &len, e) < 0)
        return -1;
    const char *slash = strrchr(manifest, '/');
    size_t dir_len = slash ? (size_t)(slash - manifest) + 1 : 0;
    char as_of[SCREEN_DATE_MAX] = "";
    char **files = NULL;
    size_t n_files = 0;
    screen_sanctions *s = NULL;
    int rc = 0;
    char ex[TEXT_EXCERPT_MAX];

    line_iter it = {data, data + len, 0};
    const char *line;
    size_t n;
    while (rc == 0 && next_line(&it, &line, &n)) {
        trim(&line, &n);
        if (n == 0 || line[0] == '#')
            continue;
        size_t kw = 0;
        while (kw < n && !is_blank(line[kw]))
            kw++;
        const char *arg = line + kw;
        size_t arg_len = n - kw;
        trim(&arg, &arg_len);
        if (kw == 5 && memcmp(line, "as_of", 5) == 0) {
            int32_t day;
            char date[16];
            snprintf(date, sizeof date, "%.*s", (int)(arg_len < 15 ? arg_len : 15), arg);
            if (as_of[0])
                rc =
                    err_set(e, ERR_INVALID, "%s:%zu: second as_of line: keep one", manifest, it.no);
            else if (screen_date_parse(&day, date, e) < 0)
                rc = err_prefix(e, "%s:%zu", manifest, it.no);
            else
                memcpy(as_of, date, SCREEN_DATE_MAX);
        } else if (kw == 4 && memcmp(line, "list", 4) == 0 && arg_len > 0) {
            char **f = realloc(files, (n_files + 1) * sizeof *f);
            char *path = f ? malloc(dir_len + arg_len + 1) : NULL;
            if (f)
                files = f;
            if (!path) {
                rc = err_set(e, ERR_NOMEM, "out of memory reading %s", manifest);
                break;
            }
            memcpy(path, manifest, dir_len);
            memcpy(path + dir_len, arg, arg_len);
            path[dir_len + arg_len] = '\0';
            files[n_files++] = path;
        } else {
            rc = err_set(e, ERR_INVALID,
                         "%s:%zu: '%s' is not 'as_of YYYY-MM-DD' or 'list FILE': fix the line",
                         manifest, it.no, text_safe(ex, sizeof ex, line, n));
        }
    }
    if (rc == 0 && !as_of[0])
        rc = err_set(e, ERR_INVALID, "%s: no 'as_of YYYY-MM-DD' line: name the snapshot date",
                     manifest);
    if (rc == 0 && n_files == 0)
        rc = err_set(e, ERR_INVALID, "%s: no 'list FILE' line: name the list files", manifest);
    if (rc == 0)
        rc = screen_sanctions_new(&s, as_of, e);
    for (size_t i = 0; rc == 0 && i < n_files; i++) {
        size_t fl = strlen(files[i]);
        bool json = fl >= 5 && strcmp(files[i] + fl - 5, ".json") == 0;
        rc = screen_sanctions_add_file(s, files[i], json ? SCREEN_LIST_JSON : SCREEN_LIST_TEXT, e);
    }
    if (rc == 0 && desk_list)
        rc = screen_sanctions_add_file(s, desk_list, SCREEN_LIST_DESK, e);
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    free(data);
    if (rc < 0) {
        screen_sanctions_free(&s);
        return -1;
    }
    *out = s;
    return 0;
}

bool screen_sanctions_contains(const screen_sanctions *s, const addr *a)
{
    return addrmap_find(s->set, a, 0) != NULL;
}

bool screen_sanctions_source(const screen_sanctions *s, const addr *a, char *out, size_t cap)
{
    const uint64_t *v = addrmap_find(s->set, a, 0);
    if (!v)
        return false;
    const sanc_entry *en = &s->entries[*v];
    const char *src = s->sources[en->source].name;
    if (en->reason)
        snprintf(out, cap, "%s line %u: %s", src, en->line, en->reason);
    else
        snprintf(out, cap, "%s line %u", src, en->line);
    return true;
}

void screen_sanctions_info(const screen_sanctions *s, screen_list_info *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->as_of, s->as_of, sizeof out->as_of);
    memcpy(out->sha256, s->sha256, 32);
    version_of(out->version, s->as_of, s->sha256);
    out->n_addresses = addrmap_count(s->set);
    out->n_skipped = s->n_skipped;
    out->n_duplicates = s->n_duplicates;
    out->n_sources = s->n_sources;
}

/* ---- FATF jurisdictions ---- */

#define N_CODES (26 * 26)
#define FIELD_MAX 128

struct screen_fatf {
    uint8_t risk[N_CODES];
    char *names[N_CODES];
    size_t n;
    char as_of[SCREEN_DATE_MAX];
    uint8_t sha256[32];
};

static int code_index(const char *iso2, size_t len)
{
    if (len != 2 || iso2[0] < 'A' || iso2[0] > 'Z' || iso2[1] < 'A' || iso2[1] > 'Z')
        return -1;
    return (iso2[0] - 'A') * 26 + (iso2[1] - 'A');
}

/* Splits one CSV line into at most max fields ("quoted" fields with "" escapes). */
static int csv_split(const char *line, size_t len, char fields[][FIELD_MAX], size_t max,
                     size_t *n_fields, const char *name, size_t no, err *e)
{
    size_t nf = 0, i = 0;
    for (;;) {
        if (nf == max)
            return err_set(e, ERR_INVALID, "%s:%zu: more than %zu fields", name, no, max);
        char *f = fields[nf++];
        size_t fl = 0;
        if (i < len && line[i] == '"') {
            i++;
            for (;;) {
                if (i >= len)
                    return err_set(e, ERR_INVALID, "%s:%zu: unterminated quoted field", name, no);
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        i++;
                    } else {
                        i++;
                        break;
                    }
                }
                if (fl + 1 >= FIELD_MAX)
                    return err_set(e, ERR_INVALID, "%s:%zu: field longer than %d bytes", name, no,
                                   FIELD_MAX - 1);
                f[fl++] = line[i++];
            }
            if (i < len && line[i] != ',')
                return err_set(e, ERR_INVALID, "%s:%zu: text after a closing quote", name, no);
        } else {
            while (i < len && line[i] != ',') {
                if (line[i] == '"')
                    return err_set(e, ERR_INVALID, "%s:%zu: stray quote in a field", name, no);
                if (fl + 1 >= FIELD_MAX)
                    return err_set(e, ERR_INVALID, "%s:%zu: field longer than %d bytes", name, no,
                                   FIELD_MAX - 1);
                f[fl++] = line[i++];
            }
        }
        f[fl] = '\0';
        if (i >= len)
            break;
        i++; /* the comma */
    }
    *n_fields = nf;
    return 0;
}

void screen_fatf_free(screen_fatf **p)
{
    if (!p || !*p)
        return;
    for (size_t i = 0; i < N_CODES; i++)
        free((*p)->names[i]);
    free(*p);
    *p = NULL;
}

int screen_fatf_parse(screen_fatf **out, const char *name, const char *data, size_t len, err *e)
{
    *out = NULL;
    screen_fatf *f = calloc(1, sizeof *f);
    if (!f)
        return err_set(e, ERR_NOMEM, "out of memory for the FATF list");
    crypto_hash_sha256(f->sha256, (const uint8_t *)data, len);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    int32_t max_day = SCREEN_NO_DATE;
    bool header = false;
    line_iter it = {data, data + len, 0};
    const char *line;
    size_t n;
    char fields[5][FIELD_MAX];
    size_t nf;
    char ex[TEXT_EXCERPT_MAX];
    int rc = 0;
    while (rc == 0 && next_line(&it, &line, &n)) {
        if (n == 0)
            continue;
        size_t bad = first_unprintable(line, n);
        /* Names may be UTF-8 ("Côte d'Ivoire"): only control bytes are refused. */
        if (bad < n && (unsigned char)line[bad] < 0x80) {
            rc = err_set(e, ERR_INVALID, "%s:%zu: unexpected control byte 0x%02x", name, it.no,
                         (unsigned char)line[bad]);
            break;
        }
        if (!header) {
            if (n != 20 || memcmp(line, "iso2,name,list,as_of", 20) != 0) {
                rc = err_set(e, ERR_INVALID,
                             "%s:%zu: header '%s' is not 'iso2,name,list,as_of': "
                             "is this the FATF jurisdiction file?",
                             name, it.no, text_safe(ex, sizeof ex, line, n));
                break;
            }
            header = true;
            continue;
        }
        if (csv_split(line, n, fields, 5, &nf, name, it.no, e) < 0) {
            rc = -1;
            break;
        }
        if (nf != 4) {
            rc = err_set(e, ERR_INVALID, "%s:%zu: %zu fields, want iso2,name,list,as_of", name,
                         it.no, nf);
            break;
        }
        int ci = code_index(fields[0], strlen(fields[0]));
        if (ci < 0) {
            rc = err_set(e, ERR_INVALID,
                         "%s:%zu: '%s' is not an ISO 3166 alpha-2 code (two "
                         "capital letters)",
                         name, it.no, text_safe_str(ex, sizeof ex, fields[0]));
            break;
        }
        uint8_t risk;
        if (strcmp(fields[2], "call_for_action") == 0) {
            risk = SCREEN_RISK_HIGH;
        } else if (strcmp(fields[2], "increased_monitoring") == 0) {
            risk = SCREEN_RISK_MEDIUM;
        } else {
            rc = err_set(e, ERR_INVALID,
                         "%s:%zu: list '%s' is neither call_for_action nor increased_monitoring",
                         name, it.no, text_safe_str(ex, sizeof ex, fields[2]));
            break;
        }
        int32_t day;
        if (screen_date_parse(&day, fields[3], e) < 0) {
            rc = err_prefix(e, "%s:%zu", name, it.no);
            break;
        }
        if (f->risk[ci]) {
            rc = err_set(e, ERR_INVALID, "%s:%zu: %s is listed twice", name, it.no, fields[0]);
            break;
        }
        f->risk[ci] = risk;
        f->names[ci] = strdup(fields[1]);
        if (!f->names[ci]) {
            rc = err_set(e, ERR_NOMEM, "out of memory for the FATF list");
            break;
        }
        f->n++;
        if (day > max_day) {
            max_day = day;
            memcpy(f->as_of, fields[3], SCREEN_DATE_MAX);
        }
    }
    if (rc == 0 && f->n == 0)
        rc = err_set(e, ERR_INVALID, "%s: no jurisdictions listed: is this the FATF file?", name);
    if (rc < 0) {
        screen_fatf_free(&f);
        return -1;
    }
    *out = f;
    return 0;
}

int screen_fatf_load(screen_fatf **out, const char *path, err *e)
{
    char *data;
    size_t len;
    *out = NULL;
    if (read_file(path, &data, &len, e) < 0)
        return -1;
    int rc = screen_fatf_parse(out, path, data, len, e);
    free(data);
    return rc;
}

screen_risk screen_fatf_risk(const screen_fatf *f, const char *iso2)
{
    int ci = code_index(iso2, strnlen(iso2, 3));
    return ci < 0 ? SCREEN_RISK_NONE : (screen_risk)f->risk[ci];
}

const char *screen_fatf_name(const screen_fatf *f, const char *iso2)
{
    int ci = code_index(iso2, strnlen(iso2, 3));
    return ci < 0 ? NULL : f->names[ci];
}

void screen_fatf_info(const screen_fatf *f, screen_list_info *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->as_of, f->as_of, sizeof out->as_of);
    memcpy(out->sha256, f->sha256, 32);
    version_of(out->version, f->as_of, f->sha256);
    out->n_addresses = f->n;
    out->n_sources = 1;
}
