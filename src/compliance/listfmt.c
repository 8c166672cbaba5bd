/* listfmt.c: the published list formats (listfmt.h). Strict: a record that does not
 * have the published shape refuses the file with its line, because a list silently read
 * short lets sanctioned money through. Addresses of other chains (Bitcoin, Tron, Monero
 * ...) are counted and skipped: the desk screens EVM chains. */
#include "compliance/listfmt.h"

#include <ctype.h>
#include <expat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "compliance/screen.h"
#include "crypto/address.h"

#define SDN_FIELDS 12
#define DCA "Digital Currency Address - "

int list_format_parse(list_format *out, const char *s)
{
    static const char *const names[] = {"sdn-csv", "ofac-xml", "fatf", "plain"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *out = (list_format)i;
            return 0;
        }
    return -1;
}

const char *list_format_name(list_format f)
{
    switch (f) {
    case LIST_FMT_SDN_CSV:
        return "sdn-csv";
    case LIST_FMT_OFAC_XML:
        return "ofac-xml";
    case LIST_FMT_FATF:
        return "fatf";
    case LIST_FMT_PLAIN:
        return "plain";
    }
    return "?";
}

int list_format_is_jurisdictions(list_format f)
{
    return f == LIST_FMT_FATF;
}

void list_parsed_free(list_parsed *p)
{
    free(p->items);
    memset(p, 0, sizeof *p);
}

static int push(list_parsed *p, const char *key, const char *detail, size_t line, err *e)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        list_item *it = realloc(p->items, cap * sizeof *it);
        if (!it)
            return err_set(e, ERR_NOMEM, "out of memory reading a list");
        p->items = it;
        p->cap = cap;
    }
    list_item *it = &p->items[p->n++];
    snprintf(it->key, sizeof it->key, "%s", key);
    snprintf(it->detail, sizeof it->detail, "%s", detail);
    it->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
    return 0;
}

static int cmp_item(const void *a, const void *b)
{
    const list_item *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorts by key and keeps the first line of each key. */
static void dedup(list_parsed *p)
{
    if (!p->n)
        return;
    qsort(p->items, p->n, sizeof *p->items, cmp_item);
    size_t k = 1;
    for (size_t i = 1; i < p->n; i++) {
        if (!strcmp(p->items[i].key, p->items[k - 1].key)) {
            p->n_duplicates++;
            continue;
        }
        p->items[k++] = p->items[i];
    }
    p->n = k;
}

/* An address token of a list: a whole EVM address in any case (OFAC publishes checksummed
 * and lowercase ones alike) becomes lowercase "0x..."; anything starting with 0x that is
 * not one is an error; other chains' addresses are skipped (returns 1). */
static int evm_token(char out[LIST_KEY_MAX], const char *tok, size_t len, const char *loc,
                     err *e)
{
    char ex[TEXT_EXCERPT_MAX];
    if (len >= 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
        addr a;
        size_t n = 0;
        if (len != 2 + 2 * ADDR_LEN ||
            hex_decode(a.b, sizeof a.b, &n, tok, len, HEX_REQUIRE_PREFIX, NULL) < 0 ||
            n != ADDR_LEN)
            return err_set(e, ERR_INVALID, "%s: '%s' is not an EVM address (0x and 40 hex digits)",
                           loc, text_safe(ex, sizeof ex, tok, len));
        addr_to_lower(out, &a);
        return 0;
    }
    if (len == 0)
        return err_set(e, ERR_INVALID, "%s: a digital currency address is empty", loc);
    return 1;
}

/* ---- SDN.CSV ---- */

typedef struct csv_field {
    const char *p;
    size_t len;
    bool quoted;
} csv_field;

/* One record of SDN.CSV: up to SDN_FIELDS + 1 fields (more is an error); quoted fields
 * may hold commas and doubled quotes (OFAC quotes every text field). Records end at a
 * line end outside quotes; a quote never closed is an error. *pos moves past the record;
 * *lines counts the line ends it crossed. Quoted fields' doubled quotes stay doubled: the
 * remarks parser does not need them undone. */
static int csv_record(const char *data, size_t len, size_t *pos, csv_field *f, size_t *nf,
                      size_t *lines, const char *loc, err *e)
{
    size_t i = *pos;
    *nf = 0;
    *lines = 0;
    for (;;) {
        if (*nf == SDN_FIELDS + 1)
            return err_set(e, ERR_INVALID, "%s: more than %d fields: not an SDN.CSV record", loc,
                           SDN_FIELDS);
        csv_field *cf = &f[(*nf)++];
        memset(cf, 0, sizeof *cf);
        if (i < len && data[i] == '"') {
            cf->quoted = true;
            cf->p = data + ++i;
            for (;;) {
                if (i >= len)
                    return err_set(e, ERR_INVALID, "%s: a quoted field is never closed", loc);
                if (data[i] == '"') {
                    if (i + 1 < len && data[i + 1] == '"') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                if (data[i] == '\n')
                    return err_set(e, ERR_INVALID,
                                   "%s: a quoted field runs past the end of the line", loc);
                i++;
            }
            cf->len = (size_t)(data + i - cf->p);
            i++; /* the closing quote */
            if (i < len && data[i] != ',' && data[i] != '\n' && data[i] != '\r')
                return err_set(e, ERR_INVALID, "%s: text after a closing quote in field %zu", loc,
                               *nf);
        } else {
            cf->p = data + i;
            while (i < len && data[i] != ',' && data[i] != '\n' && data[i] != '\r') {
                if (data[i] == '"')
                    return err_set(e, ERR_INVALID, "%s: a quote inside unquoted field %zu", loc,
                                   *nf);
                i++;
            }
            cf->len = (size_t)(data + i - cf->p);
        }
        if (i < len && data[i] == ',') {
            i++;
            continue;
        }
        if (i < len && data[i] == '\r')
            i++;
        if (i < len && data[i] == '\n') {
            i++;
            (*lines)++;
        }
        break;
    }
    *pos = i;
    return 0;
}

static bool field_is(const csv_field *f, const char *s)
{
    return f->len == strlen(s) && memcmp(f->p, s, f->len) == 0;
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

static bool starts_ci(const char *s, size_t len, const char *pre)
{
    size_t n = strlen(pre);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != tolower((unsigned char)pre[i]))
            return false;
    return true;
}

/* "Digital Currency Address - ASSET ADDRESS" (after "alt." when present): the asset is
 * letters and digits, the address one token, an ending "." (the remark's full stop) is
 * not part of it. */
static int sdn_address(list_parsed *p, const char *s, size_t len, const char *loc, err *e)
{
    char ex[TEXT_EXCERPT_MAX];
    const char *q = s + strlen(DCA);
    size_t rest = len - strlen(DCA);
    trim(&q, &rest);
    size_t al = 0;
    while (al < rest && q[al] != ' ')
        al++;
    if (al == 0 || al >= LIST_DETAIL_MAX || al == rest)
        return err_set(e, ERR_INVALID,
                       "%s: '%s' is not 'Digital Currency Address - ASSET ADDRESS'", loc,
                       text_safe(ex, sizeof ex, s, len));
    for (size_t i = 0; i < al; i++)
        if (!isalnum((unsigned char)q[i]) && q[i] != '_')
            return err_set(e, ERR_INVALID, "%s: '%s' is not an asset code", loc,
                           text_safe(ex, sizeof ex, q, al));
    char asset[LIST_DETAIL_MAX];
    memcpy(asset, q, al);
    asset[al] = '\0';
    const char *a = q + al;
    size_t alen = rest - al;
    trim(&a, &alen);
    if (alen && a[alen - 1] == '.')
        alen--;
    for (size_t i = 0; i < alen; i++)
        if (a[i] == ' ' || a[i] == '\t')
            return err_set(e, ERR_INVALID, "%s: '%s' is not one address", loc,
                           text_safe(ex, sizeof ex, a, alen));
    char key[LIST_KEY_MAX];
    int rc = evm_token(key, a, alen, loc, e);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        p->n_skipped++;
        return 0;
    }
    return push(p, key, asset, 0, e);
}

static int parse_sdn_csv(list_parsed *p, const char *name, const char *data, size_t len, err *e)
{
    size_t pos = 0, line = 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    csv_field f[SDN_FIELDS + 1];
    char loc[300];
    while (pos < len) {
        size_t nl = 0, at = line, nf = 0;
        /* OFAC ends the file with a DOS end-of-file byte (0x1A) on a line of its own */
        if (data[pos] == 0x1a) {
            size_t j = pos + 1;
            while (j < len && (data[j] == '\r' || data[j] == '\n'))
                j++;
            if (j == len)
                break;
        }
        if (data[pos] == '\n' || data[pos] == '\r') { /* blank line */
            if (data[pos] == '\n')
                line++;
            pos++;
            continue;
        }
        snprintf(loc, sizeof loc, "%s:%zu", name, at);
        if (csv_record(data, len, &pos, f, &nf, &nl, loc, e) < 0)
            return -1;
        line += nl;
        if (nf != SDN_FIELDS)
            return err_set(e, ERR_INVALID,
                           "%s: %zu fields where SDN.CSV has %d (ent_num, SDN_Name, SDN_Type, "
                           "Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, "
                           "Vess_owner, Remarks)",
                           loc, nf, SDN_FIELDS);
        bool num = f[0].len > 0 && f[0].len <= 10;
        for (size_t i = 0; num && i < f[0].len; i++)
            num = isdigit((unsigned char)f[0].p[i]) != 0;
        if (!num) {
            char ex[TEXT_EXCERPT_MAX];
            return err_set(e, ERR_INVALID, "%s: ent_num '%s' is not a listing number", loc,
                           text_safe(ex, sizeof ex, f[0].p, f[0].len));
        }
        p->n_records++;
        const csv_field *rm = &f[SDN_FIELDS - 1];
        if (field_is(rm, "-0-") || field_is(rm, "-0- "))
            continue;
        /* remarks: "; "-separated statements, an address as "Digital Currency Address -
         * XBT 1abc..." or "alt. Digital Currency Address - ..." */
        const char *r = rm->p, *end = rm->p + rm->len;
        while (r < end) {
            const char *semi = memchr(r, ';', (size_t)(end - r));
            const char *stop = semi ? semi : end;
            const char *s = r;
            size_t sl = (size_t)(stop - r);
            trim(&s, &sl);
            if (starts_ci(s, sl, "alt. ")) {
                s += 5;
                sl -= 5;
                trim(&s, &sl);
            }
            if (starts_ci(s, sl, DCA)) {
                size_t before = p->n;
                if (sdn_address(p, s, sl, loc, e) < 0)
                    return -1;
                if (p->n > before)
                    p->items[p->n - 1].line = (uint32_t)(at > UINT32_MAX ? UINT32_MAX : at);
            }
            r = semi ? semi + 1 : end;
        }
    }
    if (p->n_records == 0)
        return err_set(e, ERR_INVALID, "%s: no SDN records: not an SDN.CSV file", name);
    return 0;
}

/* ---- plain: one EVM address per line, '#' comments; strict like the desk list ---- */

static int parse_plain(list_parsed *p, const char *name, const char *data, size_t len, err *e)
{
    size_t line = 0, pos = 0;
    char loc[300], ex[TEXT_EXCERPT_MAX];
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        const char *s = data + pos;
        size_t sl = nl ? (size_t)(nl - s) : len - pos;
        pos += sl + (nl ? 1 : 0);
        line++;
        if (sl && s[sl - 1] == '\r')
            sl--;
        trim(&s, &sl);
        if (!sl || s[0] == '#')
            continue;
        snprintf(loc, sizeof loc, "%s:%zu", name, line);
        size_t tl = 0;
        while (tl < sl && s[tl] != ' ' && s[tl] != '\t')
            tl++;
        if (tl != 2 + 2 * ADDR_LEN)
            return err_set(e, ERR_INVALID,
                           "%s: '%s' is not an EVM address (0x and 40 hex digits): fix or "
                           "remove the line",
                           loc, text_safe(ex, sizeof ex, s, tl));
        char tok[ADDR_STR_MAX];
        memcpy(tok, s, tl);
        tok[tl] = '\0';
        addr a;
        err pe;
        err_clear(&pe);
        if (addr_parse(&a, tok, &pe) < 0)
            return err_set(e, ERR_INVALID, "%s: '%s': %s: fix or remove the line", loc,
                           text_safe_str(ex, sizeof ex, tok), pe.msg);
        char key[LIST_KEY_MAX];
        addr_to_lower(key, &a);
        p->n_records++;
        if (push(p, key, "EVM", line, e) < 0)
            return -1;
    }
    if (p->n_records == 0)
        return err_set(e, ERR_INVALID, "%s: no address in the file: not an address list", name);
    return 0;
}

/* ---- FATF: the jurisdiction CSV the screening rules read (checked by screen_fatf_parse)
 * The entries are taken from what screen_fatf_parse read, not from a second reading of
 * the lines: a row the checker accepts in another spelling (a quoted code, a blank line
 * before the header) must not become an entry the screening rules later refuse. */

static int parse_fatf(list_parsed *p, const char *name, const char *data, size_t len, err *e)
{
    screen_fatf *f = NULL;
    if (screen_fatf_parse(&f, name, data, len, e) < 0)
        return -1;
    screen_list_info info;
    screen_fatf_info(f, &info);
    snprintf(p->published, sizeof p->published, "%s", info.as_of);
    int rc = 0;
    for (char a = 'A'; a <= 'Z' && rc == 0; a++)
        for (char b = 'A'; b <= 'Z' && rc == 0; b++) {
            const char key[3] = {a, b, 0};
            screen_risk r = screen_fatf_risk(f, key);
            if (r == SCREEN_RISK_NONE)
                continue;
            p->n_records++;
            rc = push(p, key, r == SCREEN_RISK_HIGH ? "call_for_action" : "increased_monitoring",
                      0, e);
        }
    screen_fatf_free(&f);
    return rc;
}

/* ---- OFAC advanced XML (sdn_advanced.xml), with expat ----
 * <DateOfIssue><Year/><Month/><Day/></DateOfIssue> is the publication date; the
 * reference values name the feature types ("<FeatureType ID="345">Digital Currency
 * Address - XBT</FeatureType>"); each party's <Feature FeatureTypeID="345"> holds the
 * address as <VersionDetail> text. The reference values come before the parties. */

#define XML_TYPES_MAX 256
#define XML_TEXT_MAX 512

typedef struct xml_state {
    list_parsed *p;
    const char *name;
    XML_Parser xp;
    err *e;
    bool failed;
    int depth_feature; /* >0 inside a digital-currency Feature */
    char feature_asset[LIST_DETAIL_MAX];
    enum { T_NONE, T_FEATURE_TYPE, T_DETAIL, T_YEAR, T_MONTH, T_DAY } collecting;
    bool in_date;
    char text[XML_TEXT_MAX];
    size_t text_len;
    long type_id;
    struct {
        long id;
        char asset[LIST_DETAIL_MAX];
    } types[XML_TYPES_MAX];
    size_t n_types;
    bool seen_feature; /* a party's <Feature> was read: later feature types come too late */
    int year, month, day;
    unsigned long detail_line;
} xml_state;

static const char *local_name(const char *n)
{
    const char *sp = strrchr(n, ' '); /* expat with namespaces: "URI local" */
    const char *colon = strrchr(n, ':');
    if (sp)
        return sp + 1;
    return colon ? colon + 1 : n;
}

static void xml_fail(xml_state *x, const char *msg)
{
    if (x->failed)
        return;
    x->failed = true;
    err_set(x->e, ERR_INVALID, "%s:%lu: %s", x->name,
            (unsigned long)XML_GetCurrentLineNumber(x->xp), msg);
    XML_StopParser(x->xp, XML_FALSE);
}

static const char *attr_of(const char **atts, const char *key)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (!strcmp(local_name(atts[i]), key))
            return atts[i + 1];
    return NULL;
}

static void XMLCALL xml_start(void *ud, const char *el, const char **atts)
{
    xml_state *x = ud;
    if (x->failed)
        return;
    const char *n = local_name(el);
    if (x->collecting != T_NONE) {
        /* the text of a date, a feature type or an address is one run of text: an
         * element inside it would cut it short without a word */
        char msg[160], ex[TEXT_EXCERPT_MAX];
        snprintf(msg, sizeof msg, "element <%s> inside a date, feature type or address text",
                 text_safe_str(ex, sizeof ex, n));
        xml_fail(x, msg);
        return;
    }
    if (x->depth_feature > 0)
        x->depth_feature++;
    x->collecting = T_NONE;
    x->text_len = 0;
    if (!strcmp(n, "DateOfIssue")) {
        x->in_date = true;
    } else if (x->in_date && !strcmp(n, "Year")) {
        x->collecting = T_YEAR;
    } else if (x->in_date && !strcmp(n, "Month")) {
        x->collecting = T_MONTH;
    } else if (x->in_date && !strcmp(n, "Day")) {
        x->collecting = T_DAY;
    } else if (!strcmp(n, "FeatureType")) {
        const char *id = attr_of(atts, "ID");
        x->type_id = id ? strtol(id, NULL, 10) : -1;
        x->collecting = T_FEATURE_TYPE;
    } else if (!strcmp(n, "Feature")) {
        x->seen_feature = true;
        const char *t = attr_of(atts, "FeatureTypeID");
        long id = t ? strtol(t, NULL, 10) : -1;
        for (size_t i = 0; i < x->n_types; i++)
            if (x->types[i].id == id) {
                x->depth_feature = 1;
                snprintf(x->feature_asset, sizeof x->feature_asset, "%s", x->types[i].asset);
            }
    } else if (x->depth_feature > 0 && !strcmp(n, "VersionDetail")) {
        x->collecting = T_DETAIL;
        x->detail_line = (unsigned long)XML_GetCurrentLineNumber(x->xp);
    }
}

static void XMLCALL xml_text(void *ud, const char *s, int len)
{
    xml_state *x = ud;
    if (x->failed || x->collecting == T_NONE || len <= 0)
        return;
    if (x->text_len + (size_t)len >= sizeof x->text) {
        xml_fail(x, "a digital currency element is longer than 511 bytes");
        return;
    }
    memcpy(x->text + x->text_len, s, (size_t)len);
    x->text_len += (size_t)len;
}

static int small_int(const char *s, size_t len)
{
    int v = 0;
    if (!len || len > 4)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static void XMLCALL xml_end(void *ud, const char *el)
{
    xml_state *x = ud;
    if (x->failed)
        return;
    const char *n = local_name(el);
    const char *t = x->text;
    size_t tl = x->text_len;
    trim(&t, &tl);
    switch (x->collecting) {
    case T_YEAR:
        x->year = small_int(t, tl);
        break;
    case T_MONTH:
        x->month = small_int(t, tl);
        break;
    case T_DAY:
        x->day = small_int(t, tl);
        break;
    case T_FEATURE_TYPE:
        if (tl > strlen(DCA) && starts_ci(t, tl, DCA)) {
            if (x->n_types == XML_TYPES_MAX) {
                xml_fail(x, "more than 256 digital currency feature types");
                return;
            }
            if (x->seen_feature) {
                /* the parties' features before it were read as no address at all */
                xml_fail(x, "a digital currency feature type comes after the parties' "
                            "features: their addresses would be missed; not OFAC's order");
                return;
            }
            size_t al = tl - strlen(DCA);
            if (al >= LIST_DETAIL_MAX) {
                xml_fail(x, "a digital currency feature type names an asset over 23 bytes");
                return;
            }
            for (size_t i = 0; i < al; i++) {
                char c = t[strlen(DCA) + i];
                if (!isalnum((unsigned char)c) && c != '_') {
                    char msg[160], ex[TEXT_EXCERPT_MAX];
                    snprintf(msg, sizeof msg, "'%s' is not an asset code (letters, digits, _)",
                             text_safe(ex, sizeof ex, t + strlen(DCA), al));
                    xml_fail(x, msg);
                    return;
                }
            }
            x->types[x->n_types].id = x->type_id;
            memcpy(x->types[x->n_types].asset, t + strlen(DCA), al);
            x->types[x->n_types].asset[al] = '\0';
            x->n_types++;
        }
        break;
    case T_DETAIL: {
        char loc[300], key[LIST_KEY_MAX];
        snprintf(loc, sizeof loc, "%s:%lu", x->name, x->detail_line);
        int rc = evm_token(key, t, tl, loc, x->e);
        if (rc < 0) {
            x->failed = true;
            XML_StopParser(x->xp, XML_FALSE);
            return;
        }
        x->p->n_records++;
        if (rc > 0)
            x->p->n_skipped++;
        else if (push(x->p, key, x->feature_asset, x->detail_line, x->e) < 0) {
            x->failed = true;
            XML_StopParser(x->xp, XML_FALSE);
            return;
        }
        break;
    }
    case T_NONE:
        break;
    }
    x->collecting = T_NONE;
    x->text_len = 0;
    if (!strcmp(n, "DateOfIssue"))
        x->in_date = false;
    if (x->depth_feature > 0)
        x->depth_feature--;
}

static int parse_ofac_xml(list_parsed *p, const char *name, const char *data, size_t len, err *e)
{
    xml_state *x = calloc(1, sizeof *x);
    if (!x)
        return err_set(e, ERR_NOMEM, "out of memory reading %s", name);
    x->p = p;
    x->name = name;
    x->e = e;
    x->year = x->month = x->day = -1;
    /* no namespace processing: local_name() strips prefixes; no external entities */
    x->xp = XML_ParserCreate("UTF-8");
    int rc = 0;
    if (!x->xp) {
        rc = err_set(e, ERR_NOMEM, "out of memory reading %s", name);
        goto out;
    }
    XML_SetUserData(x->xp, x);
    XML_SetElementHandler(x->xp, xml_start, xml_end);
    XML_SetCharacterDataHandler(x->xp, xml_text);
    XML_SetParamEntityParsing(x->xp, XML_PARAM_ENTITY_PARSING_NEVER);
    if (len > (size_t)INT32_MAX) {
        rc = err_set(e, ERR_INVALID, "%s is too large", name);
        goto out;
    }
    if (XML_Parse(x->xp, data, (int)len, XML_TRUE) == XML_STATUS_ERROR) {
        if (!x->failed)
            err_set(e, ERR_INVALID, "%s:%lu: not well-formed XML (%s)", name,
                    (unsigned long)XML_GetCurrentLineNumber(x->xp),
                    XML_ErrorString(XML_GetErrorCode(x->xp)));
        rc = -1;
        goto out;
    }
    if (x->year < 1990 || x->month < 1 || x->month > 12 || x->day < 1 || x->day > 31) {
        rc = err_set(e, ERR_INVALID,
                     "%s: no <DateOfIssue> with Year, Month and Day: not OFAC's advanced XML",
                     name);
        goto out;
    }
    char date[32];
    snprintf(date, sizeof date, "%04d-%02d-%02d", x->year % 10000, x->month % 100, x->day % 100);
    memcpy(p->published, date, sizeof p->published - 1);
    p->published[sizeof p->published - 1] = '\0';
    int32_t day;
    if (screen_date_parse(&day, p->published, NULL) < 0) {
        rc = err_set(e, ERR_INVALID, "%s: <DateOfIssue> %s is not a date", name, p->published);
        goto out;
    }
    if (x->n_types == 0)
        rc = err_set(e, ERR_INVALID,
                     "%s: no 'Digital Currency Address' feature types: not OFAC's advanced XML",
                     name);
out:
    if (x->xp)
        XML_ParserFree(x->xp);
    free(x);
    return rc;
}

int list_parse(list_parsed *out, list_format fmt, const char *raw_name, const char *data,
               size_t len, err *e)
{
    memset(out, 0, sizeof *out);
    char name[TEXT_EXCERPT_MAX]; /* a file name is outside text too */
    text_safe_str(name, sizeof name, raw_name);
    int rc;
    switch (fmt) {
    case LIST_FMT_SDN_CSV:
        rc = parse_sdn_csv(out, name, data, len, e);
        break;
    case LIST_FMT_OFAC_XML:
        rc = parse_ofac_xml(out, name, data, len, e);
        break;
    case LIST_FMT_FATF:
        rc = parse_fatf(out, name, data, len, e);
        break;
    case LIST_FMT_PLAIN:
        rc = parse_plain(out, name, data, len, e);
        break;
    default:
        rc = err_set(e, ERR_INVALID, "unknown list format");
    }
    if (rc < 0) {
        list_parsed_free(out);
        return -1;
    }
    dedup(out);
    return 0;
}
