/* prices.c: daily close files -> one aligned panel. Files are read by header name (Yahoo
 * exports put Close 2nd or 5th, WBTC's dates carry a time, USTC has `null` rows), checked
 * strictly, and aligned on the dates all chosen assets share; a calendar gap inside that
 * range is an error naming the file and line, never silently filled. */
#include "risk/risk_load.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "risk/rcsv.h"

/* ---- dates --------------------------------------------------------------------------- */

/* Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian). */
static int32_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void risk_date_format(int32_t day, char *buf)
{
    int z = day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = yoe + era * 400;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    snprintf(buf, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u);
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int risk_date_parse(const char *s, int32_t *day)
{
    if (strlen(s) < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return -1;
    const char *t = s + 10;
    if (*t) {
        /* A daily bar's label: midnight UTC only. */
        if ((*t != ' ' && *t != 'T') || strncmp(t + 1, "00:00:00", 8) != 0)
            return -1;
        t += 9;
        if (*t == '.')
            for (t++; *t == '0'; t++)
                ;
        if (strcmp(t, "") != 0 && strcmp(t, "Z") != 0 && strcmp(t, "+00:00") != 0 &&
            strcmp(t, "+0000") != 0)
            return -1;
    }
    *day = days_from_civil(y, m, d);
    return 0;
}

/* ---- parsed files ---------------------------------------------------------------------- */

typedef struct price_file {
    char *label;
    size_t n_rows;
    int32_t *day;   /* per row */
    size_t *line;   /* per row */
    size_t n_cols;  /* assets in this file */
    double *close;  /* n_rows x n_cols, NAN = missing (empty or null cell) */
    size_t first_asset; /* index of its first asset in risk_prices */
} price_file;

typedef struct asset_ref {
    char *name;
    size_t file;
    size_t col;
} asset_ref;

struct risk_prices {
    price_file *files;
    size_t n_files;
    asset_ref *assets;
    size_t n_assets;
};

risk_prices *risk_prices_new(void)
{
    return calloc(1, sizeof(risk_prices));
}

static void file_free(price_file *f)
{
    free(f->label);
    free(f->day);
    free(f->line);
    free(f->close);
}

void risk_prices_free(risk_prices **pp)
{
    if (!pp || !*pp)
        return;
    risk_prices *pr = *pp;
    for (size_t i = 0; i < pr->n_files; i++)
        file_free(&pr->files[i]);
    for (size_t i = 0; i < pr->n_assets; i++)
        free(pr->assets[i].name);
    free(pr->files);
    free(pr->assets);
    free(pr);
    *pp = NULL;
}

size_t risk_prices_asset_count(const risk_prices *pr)
{
    return pr->n_assets;
}

const char *risk_prices_asset_name(const risk_prices *pr, size_t i)
{
    return i < pr->n_assets ? pr->assets[i].name : NULL;
}

static long find_asset(const risk_prices *pr, const char *name)
{
    for (size_t i = 0; i < pr->n_assets; i++)
        if (strcmp(pr->assets[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* "data/prices/yf_ETH-USD_1d.csv" -> "ETH". */
static void asset_from_filename(const char *label, char *out, size_t cap)
{
    const char *base = strrchr(label, '/');
    base = base ? base + 1 : label;
    if (strncmp(base, "yf_", 3) == 0)
        base += 3;
    size_t n = strcspn(base, "-_.");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, base, n);
    out[n] = '\0';
}

static int parse_into(risk_prices *pr, price_file *f, const char *asset, const char *buf,
                      size_t len, err *e)
{
    rcsv c;
    rcsv_init(&c, f->label, buf, len, false);
    int rc = -1;
    size_t *cols = NULL; /* CSV column of each asset */
    char **names = NULL;
    size_t n_names = 0;
    int got = rcsv_next(&c, e);
    if (got < 0)
        goto out;
    if (got == 0) {
        err_set(e, ERR_INVALID, "%s:1: empty file (want a header with a Date column)",
                f->label);
        goto out;
    }
    size_t header_line = c.line, n_fields = c.n_field;
    long date_col = -1, close_col = -1;
    for (size_t k = 0; k < n_fields; k++) {
        if (rcsv_ieq(c.field[k], "date")) {
            if (date_col >= 0) {
                err_set(e, ERR_INVALID, "%s:%zu: two Date columns in the header", f->label,
                        header_line);
                goto out;
            }
            date_col = (long)k;
        } else if (rcsv_ieq(c.field[k], "close")) {
            close_col = (long)k;
        }
    }
    if (date_col < 0) {
        err_set(e, ERR_INVALID, "%s:%zu: no Date column in the header (want Date,ASSET,... or "
                "a Yahoo export with Date and Close)", f->label, header_line);
        goto out;
    }
    cols = calloc(n_fields, sizeof *cols);
    names = calloc(n_fields, sizeof *names);
    if (!cols || !names) {
        err_set(e, ERR_NOMEM, "out of memory reading %s", f->label);
        goto out;
    }
    if (close_col >= 0) {
        char derived[64];
        if (asset)
            snprintf(derived, sizeof derived, "%s", asset);
        else
            asset_from_filename(f->label, derived, sizeof derived);
        if (!rcsv_asset_name_ok(derived)) {
            err_set(e, ERR_INVALID, "%s: cannot tell the asset from the file name (got '%s'); "
                    "give it as ASSET=%s", f->label, derived, f->label);
            goto out;
        }
        cols[0] = (size_t)close_col;
        names[0] = strdup(derived);
        if (!names[0]) {
            err_set(e, ERR_NOMEM, "out of memory reading %s", f->label);
            goto out;
        }
        n_names = 1;
    } else {
        if (asset) {
            err_set(e, ERR_INVALID, "%s:%zu: ASSET=FILE is for single-asset files with a Close "
                    "column; this file names its assets in the header", f->label, header_line);
            goto out;
        }
        for (size_t k = 0; k < n_fields; k++) {
            if ((long)k == date_col)
                continue;
            if (!rcsv_asset_name_ok(c.field[k])) {
                err_set(e, ERR_INVALID, "%s:%zu: column %zu: '%.40s' is not an asset name "
                        "(1-31 of A-Z a-z 0-9 . _ -)", f->label, header_line, k + 1, c.field[k]);
                goto out;
            }
            for (size_t j = 0; j < n_names; j++) {
                if (strcmp(names[j], c.field[k]) == 0) {
                    err_set(e, ERR_INVALID, "%s:%zu: asset %s appears twice in the header",
                            f->label, header_line, c.field[k]);
                    goto out;
                }
            }
            cols[n_names] = k;
            names[n_names] = strdup(c.field[k]);
            if (!names[n_names]) {
                err_set(e, ERR_NOMEM, "out of memory reading %s", f->label);
                goto out;
            }
            n_names++;
        }
        if (n_names == 0) {
            err_set(e, ERR_INVALID, "%s:%zu: no asset columns next to Date", f->label,
                    header_line);
            goto out;
        }
    }
    for (size_t j = 0; j < n_names; j++) {
        long other = find_asset(pr, names[j]);
        if (other >= 0) {
            err_set(e, ERR_INVALID, "%s:%zu: asset %s is already priced by %s; give each asset "
                    "one price file", f->label, header_line, names[j],
                    pr->files[pr->assets[other].file].label);
            goto out;
        }
    }
    f->n_cols = n_names;

    size_t cap = 0;
    for (;;) {
        got = rcsv_next(&c, e);
        if (got < 0)
            goto out;
        if (got == 0)
            break;
        if (c.n_field != n_fields) {
            err_set(e, ERR_INVALID, "%s:%zu: %zu fields, the header has %zu", f->label, c.line,
                    c.n_field, n_fields);
            goto out;
        }
        int32_t day;
        if (risk_date_parse(c.field[date_col], &day) < 0) {
            err_set(e, ERR_INVALID, "%s:%zu: bad date '%.40s' (want YYYY-MM-DD)", f->label,
                    c.line, c.field[date_col]);
            goto out;
        }
        if (f->n_rows > 0 && day <= f->day[f->n_rows - 1]) {
            char prev[11];
            risk_date_format(f->day[f->n_rows - 1], prev);
            err_set(e, ERR_INVALID, "%s:%zu: date %.10s is not after the previous row's %s "
                    "(rows must ascend by date, one per day)", f->label, c.line,
                    c.field[date_col], prev);
            goto out;
        }
        if (f->n_rows == cap) {
            size_t ncap = cap ? 2 * cap : 1024;
            int32_t *nd = realloc(f->day, ncap * sizeof *nd);
            if (nd)
                f->day = nd;
            size_t *nl = realloc(f->line, ncap * sizeof *nl);
            if (nl)
                f->line = nl;
            double *nc = realloc(f->close, ncap * n_names * sizeof *nc);
            if (nc)
                f->close = nc;
            if (!nd || !nl || !nc) {
                err_set(e, ERR_NOMEM, "out of memory reading %s", f->label);
                goto out;
            }
            cap = ncap;
        }
        size_t r = f->n_rows;
        f->day[r] = day;
        f->line[r] = c.line;
        for (size_t j = 0; j < n_names; j++) {
            const char *cell = c.field[cols[j]];
            double v = NAN;
            if (cell[0] != '\0' && !rcsv_ieq(cell, "null")) {
                rnum_status st = rnum_parse(cell, &v);
                if (st == RNUM_SYNTAX) {
                    err_set(e, ERR_INVALID, "%s:%zu: price of %s '%.40s' is not a number",
                            f->label, c.line, names[j], cell);
                    goto out;
                }
                if (st == RNUM_OK && v <= 0.0) {
                    err_set(e, ERR_INVALID, "%s:%zu: non-positive price %.40s for %s", f->label,
                            c.line, cell, names[j]);
                    goto out;
                }
                if (st == RNUM_RANGE || v < RISK_PRICE_MIN || v > RISK_PRICE_MAX) {
                    err_set(e, ERR_INVALID,
                            "%s:%zu: price of %s '%.40s' is out of range (%g to %g)", f->label,
                            c.line, names[j], cell, RISK_PRICE_MIN, RISK_PRICE_MAX);
                    goto out;
                }
            }
            f->close[r * n_names + j] = v;
        }
        f->n_rows++;
    }
    if (f->n_rows == 0) {
        err_set(e, ERR_INVALID, "%s:%zu: no data rows after the header", f->label, header_line);
        goto out;
    }
    /* Register the assets. */
    asset_ref *na = realloc(pr->assets, (pr->n_assets + n_names) * sizeof *na);
    if (!na) {
        err_set(e, ERR_NOMEM, "out of memory reading %s", f->label);
        goto out;
    }
    pr->assets = na;
    f->first_asset = pr->n_assets;
    for (size_t j = 0; j < n_names; j++) {
        pr->assets[pr->n_assets].name = names[j];
        pr->assets[pr->n_assets].file = pr->n_files;
        pr->assets[pr->n_assets].col = j;
        names[j] = NULL;
        pr->n_assets++;
    }
    rc = 0;
out:
    if (names)
        for (size_t j = 0; j < n_names; j++)
            free(names[j]);
    free(names);
    free(cols);
    rcsv_free(&c);
    return rc;
}

int risk_prices_add_buffer(risk_prices *pr, const char *label, const char *asset,
                           const char *buf, size_t len, err *e)
{
    price_file *nf = realloc(pr->files, (pr->n_files + 1) * sizeof *nf);
    if (!nf)
        return err_set(e, ERR_NOMEM, "out of memory reading %s", label);
    pr->files = nf;
    price_file *f = &pr->files[pr->n_files];
    memset(f, 0, sizeof *f);
    f->label = strdup(label);
    if (!f->label)
        return err_set(e, ERR_NOMEM, "out of memory reading %s", label);
    if (parse_into(pr, f, asset, buf, len, e) < 0) {
        file_free(f);
        return -1;
    }
    pr->n_files++;
    return 0;
}

int risk_prices_add_file(risk_prices *pr, const char *spec, err *e)
{
    const char *path = spec;
    char asset[64];
    const char *eq = strchr(spec, '=');
    const char *slash = strchr(spec, '/');
    bool named = eq && (!slash || eq < slash);
    if (named) {
        size_t n = (size_t)(eq - spec);
        if (n == 0 || n >= sizeof asset)
            return err_set(e, ERR_INVALID, "bad price file spec '%.60s' (want FILE or "
                           "ASSET=FILE)", spec);
        memcpy(asset, spec, n);
        asset[n] = '\0';
        if (!rcsv_asset_name_ok(asset))
            return err_set(e, ERR_INVALID, "'%s' is not an asset name (1-31 of A-Z a-z 0-9 . _ -)",
                           asset);
        path = eq + 1;
    }
    char *buf;
    size_t len;
    if (rcsv_read_file(path, &buf, &len, e) < 0)
        return -1;
    int rc = risk_prices_add_buffer(pr, path, named ? asset : NULL, buf, len, e);
    free(buf);
    return rc;
}

/* ---- the aligned panel -------------------------------------------------------------------- */

void risk_panel_free(risk_panel **pp)
{
    if (!pp || !*pp)
        return;
    risk_panel *p = *pp;
    if (p->assets)
        for (size_t i = 0; i < p->n_assets; i++)
            free(p->assets[i]);
    free(p->assets);
    free(p->days);
    free(p->close);
    free(p->limit_src);
    free(p);
    *pp = NULL;
}

/* First and last row of file f with a close for column col (-1 when none). */
static void valid_span(const price_file *f, size_t col, long *first, long *last)
{
    *first = *last = -1;
    for (size_t r = 0; r < f->n_rows; r++) {
        if (!isnan(f->close[r * f->n_cols + col])) {
            if (*first < 0)
                *first = (long)r;
            *last = (long)r;
        }
    }
}

int risk_panel_build(const risk_prices *pr, const char *const *assets, size_t n_assets,
                     int32_t from, int32_t to, size_t max_days, risk_panel **out, err *e)
{
    *out = NULL;
    if (n_assets == 0)
        return err_set(e, ERR_INVALID, "no assets chosen for the price panel");
    size_t *idx = calloc(n_assets, sizeof *idx);
    risk_panel *p = calloc(1, sizeof *p);
    if (!idx || !p) {
        free(idx);
        free(p);
        return err_set(e, ERR_NOMEM, "out of memory building the price panel");
    }
    int rc = -1;
    int32_t lo = from, hi = to;
    size_t lo_asset = 0, hi_asset = 0;
    int32_t lo_data = INT32_MIN, hi_data = INT32_MAX; /* latest start, earliest end */
    for (size_t a = 0; a < n_assets; a++) {
        long k = find_asset(pr, assets[a]);
        if (k < 0) {
            err_set(e, ERR_NOT_FOUND, "no price column for asset %s", assets[a]);
            goto out;
        }
        for (size_t b = 0; b < a; b++) {
            if (idx[b] == (size_t)k) {
                err_set(e, ERR_INVALID, "asset %s chosen twice", assets[a]);
                goto out;
            }
        }
        idx[a] = (size_t)k;
        const asset_ref *ar = &pr->assets[k];
        const price_file *f = &pr->files[ar->file];
        long r0, r1;
        valid_span(f, ar->col, &r0, &r1);
        if (r0 < 0) {
            err_set(e, ERR_INVALID, "%s: asset %s has no prices (every cell is empty or null)",
                    f->label, ar->name);
            goto out;
        }
        if (f->day[r0] > lo_data) {
            lo_data = f->day[r0];
            lo_asset = a;
        }
        if (f->day[r1] < hi_data) {
            hi_data = f->day[r1];
            hi_asset = a;
        }
    }
    if (lo_data > lo)
        lo = lo_data;
    if (hi_data < hi)
        hi = hi_data;
    if (lo > hi && lo_data <= hi_data) {
        char d0[11], d1[11];
        risk_date_format(lo_data, d0);
        risk_date_format(hi_data, d1);
        err_set(e, ERR_INVALID, "the chosen date range has no prices: the assets share %s..%s",
                d0, d1);
        goto out;
    }
    if (lo > hi) {
        const asset_ref *la = &pr->assets[idx[lo_asset]], *ha = &pr->assets[idx[hi_asset]];
        char d0[11], d1[11];
        risk_date_format(lo_data, d0);
        risk_date_format(hi_data, d1);
        err_set(e, ERR_INVALID, "no dates common to all assets (%s "
                "starts %s in %s, %s ends %s in %s)", la->name, d0,
                pr->files[la->file].label, ha->name, d1, pr->files[ha->file].label);
        goto out;
    }
    if (max_days > 0 && (int64_t)hi - lo + 1 > (int64_t)max_days)
        lo = (int32_t)((int64_t)hi - (int64_t)max_days + 1);
    /* Walk each file that holds a chosen asset over [lo, hi]. */
    for (size_t fi = 0; fi < pr->n_files; fi++) {
        const price_file *f = &pr->files[fi];
        bool used = false;
        for (size_t a = 0; a < n_assets; a++)
            used |= pr->assets[idx[a]].file == fi;
        if (!used)
            continue;
        int32_t expect = lo;
        for (size_t r = 0; r < f->n_rows && expect <= hi; r++) {
            if (f->day[r] < lo)
                continue;
            if (f->day[r] > expect) {
                char d0[11], d1[11], d2[11];
                risk_date_format(expect, d0);
                risk_date_format(f->day[r] - 1 < hi ? f->day[r] - 1 : hi, d1);
                risk_date_format(f->day[r], d2);
                err_set(e, ERR_INVALID, "%s:%zu: missing dates %s..%s before %s (a gap in the "
                        "daily calendar); fill it or narrow the date range", f->label,
                        f->line[r], d0, d1, d2);
                goto out;
            }
            for (size_t a = 0; a < n_assets; a++) {
                const asset_ref *ar = &pr->assets[idx[a]];
                if (ar->file != fi)
                    continue;
                if (isnan(f->close[r * f->n_cols + ar->col])) {
                    char d0[11];
                    risk_date_format(f->day[r], d0);
                    err_set(e, ERR_INVALID, "%s:%zu: missing price of %s on %s (empty or null "
                            "cell inside the date range used)", f->label, f->line[r], ar->name,
                            d0);
                    goto out;
                }
            }
            expect++;
        }
    }
    size_t nd = (size_t)((int64_t)hi - lo + 1);
    p->n_assets = n_assets;
    p->n_days = nd;
    p->assets = calloc(n_assets, sizeof *p->assets);
    p->days = malloc(nd * sizeof *p->days);
    p->close = malloc(nd * n_assets * sizeof *p->close);
    if (!p->assets || !p->days || !p->close) {
        err_set(e, ERR_NOMEM, "out of memory building the price panel");
        goto out;
    }
    for (size_t d = 0; d < nd; d++)
        p->days[d] = lo + (int32_t)d;
    for (size_t a = 0; a < n_assets; a++) {
        const asset_ref *ar = &pr->assets[idx[a]];
        const price_file *f = &pr->files[ar->file];
        p->assets[a] = strdup(ar->name);
        if (!p->assets[a]) {
            err_set(e, ERR_NOMEM, "out of memory building the price panel");
            goto out;
        }
        for (size_t r = 0; r < f->n_rows; r++) {
            if (f->day[r] < lo || f->day[r] > hi)
                continue;
            p->close[(size_t)(f->day[r] - lo) * n_assets + a] = f->close[r * f->n_cols + ar->col];
            if (a == lo_asset && f->day[r] == hi)
                p->limit_line = f->line[r];
        }
    }
    p->limit_src = strdup(pr->files[pr->assets[idx[lo_asset]].file].label);
    if (!p->limit_src) {
        err_set(e, ERR_NOMEM, "out of memory building the price panel");
        goto out;
    }
    *out = p;
    p = NULL;
    rc = 0;
out:
    risk_panel_free(&p);
    free(idx);
    return rc;
}

int risk_panel_require(const risk_panel *p, size_t closes, err *e)
{
    if (p->n_days >= closes)
        return 0;
    char d0[11], d1[11];
    risk_date_format(p->days[0], d0);
    risk_date_format(p->days[p->n_days - 1], d1);
    return err_set(e, ERR_INVALID, "%s:%zu: too few rows for the window: %zu daily closes "
                   "(%s..%s) give %zu returns, the window needs %zu closes", p->limit_src,
                   p->limit_line, p->n_days, d0, d1, p->n_days - 1, closes);
}
