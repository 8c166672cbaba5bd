/* rcsv.c: the small, strict CSV reader behind the risk loaders. It keeps line numbers so
 * every error can say where the problem is, and refuses numbers strtod would bend
 * (hex, inf, nan, trailing junk). */
#include "risk/rcsv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rcsv_read_file(const char *path, char **buf, size_t *len, err *e)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_IO, "cannot open %s: %s", path, strerror(errno));
    /* Read in chunks, so pipes and process substitution work as well as files. */
    size_t cap = 0, n = 0;
    char *b = NULL;
    for (;;) {
        if (cap - n < 65536 + 1) {
            size_t ncap = cap ? 2 * cap : 262144;
            char *nb = realloc(b, ncap);
            if (!nb) {
                free(b);
                fclose(f);
                return err_set(e, ERR_NOMEM, "out of memory reading %s", path);
            }
            b = nb;
            cap = ncap;
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (n > RCSV_MAX_FILE) {
            free(b);
            fclose(f);
            return err_set(e, ERR_INVALID, "%s is larger than %u MiB", path, RCSV_MAX_FILE >> 20);
        }
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (bad) {
        free(b);
        return err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(saved));
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

void rcsv_init(rcsv *c, const char *label, const char *buf, size_t len, bool comments)
{
    memset(c, 0, sizeof *c);
    c->label = label;
    c->buf = buf;
    c->len = len;
    c->comments = comments;
    /* A UTF-8 byte order mark is not part of the first header name. */
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        c->pos = 3;
}

void rcsv_free(rcsv *c)
{
    free(c->row);
    free(c->field);
    c->row = NULL;
    c->field = NULL;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

static char *trim(char *s)
{
    while (is_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

static int push_field(rcsv *c, char *f, err *e)
{
    if (c->n_field == c->field_cap) {
        size_t cap = c->field_cap ? 2 * c->field_cap : 16;
        char **nf = realloc(c->field, cap * sizeof *nf);
        if (!nf)
            return err_set(e, ERR_NOMEM, "out of memory reading %s", c->label);
        c->field = nf;
        c->field_cap = cap;
    }
    c->field[c->n_field++] = trim(f);
    return 0;
}

int rcsv_next(rcsv *c, err *e)
{
    for (;;) {
        if (c->pos >= c->len)
            return 0;
        const char *start = c->buf + c->pos;
        const char *nl = memchr(start, '\n', c->len - c->pos);
        size_t n = nl ? (size_t)(nl - start) : c->len - c->pos;
        c->pos += n + (nl ? 1 : 0);
        c->line++;
        if (memchr(start, '\0', n))
            return err_set(e, ERR_INVALID, "%s:%zu: NUL byte in the line (not a text CSV file)",
                           c->label, c->line);
        size_t k = 0;
        while (k < n && is_blank(start[k]))
            k++;
        if (k == n)
            continue; /* blank line */
        if (c->comments && start[k] == '#')
            continue;
        if (n + 1 > c->row_cap) {
            char *nr = realloc(c->row, n + 1);
            if (!nr)
                return err_set(e, ERR_NOMEM, "out of memory reading %s", c->label);
            c->row = nr;
            c->row_cap = n + 1;
        }
        memcpy(c->row, start, n);
        c->row[n] = '\0';
        c->n_field = 0;
        char *f = c->row;
        for (;;) {
            char *comma = strchr(f, ',');
            if (comma)
                *comma = '\0';
            if (push_field(c, f, e) < 0)
                return -1;
            if (!comma)
                break;
            f = comma + 1;
        }
        return 1;
    }
}

rnum_status rnum_parse(const char *s, double *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t int_digits = 0, frac_digits = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        int_digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            frac_digits++;
        }
    }
    if (int_digits + frac_digits == 0)
        return RNUM_SYNTAX;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return RNUM_SYNTAX;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p != '\0')
        return RNUM_SYNTAX;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0')
        return RNUM_SYNTAX;
    /* ERANGE: overflow, or underflow to zero or to a subnormal number (1e-310), whose
     * ratios and logs are no longer finite. */
    if (!isfinite(v) || errno == ERANGE || fpclassify(v) == FP_SUBNORMAL)
        return RNUM_RANGE;
    *out = v;
    return RNUM_OK;
}

bool rcsv_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

bool rcsv_asset_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 31)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
            return false;
    }
    return true;
}
