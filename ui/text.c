/* text.c: UTF-8 decoding, display widths (wcwidth) and fitting text into table cells.
 * Pure functions; the locale (LC_CTYPE) decides what wcwidth considers printable, so in
 * the C locale everything non-ASCII prints as '?' and the output stays ASCII. */
#include "text.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "base/text.h"

size_t ui_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    if (len > n) {
        *cp = 0xfffd;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        *cp = 0xfffd;
        return 1;
    }
    *cp = v;
    return len;
}

size_t ui_utf8_put(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp >= 0xd800 && cp <= 0xdfff)
        return 0;
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    if (cp > 0x10ffff)
        return 0;
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* -1: unprintable (shown as '?'), else 0, 1 or 2 columns. What is unprintable is
 * base/text.h's rule (controls, bidi controls, line separators), the same for the
 * terminal UI as for the CLI, the exports and the log. */
static int cp_raw_width(uint32_t cp)
{
    if (!text_cp_safe(cp))
        return -1;
    if (cp < 0x7f)
        return 1;
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? -1 : (w > 2 ? 2 : w);
}

int ui_cp_width(uint32_t cp)
{
    int w = cp_raw_width(cp);
    return w < 0 ? 1 : w;
}

/* One printable unit: its bytes as printed and its width. A leading zero-width mark has
 * nothing to combine with, so it is dropped (width 0, no bytes). */
typedef struct unit {
    const char *bytes;
    size_t len;
    int width;
} unit;

static size_t next_unit(const char *s, size_t n, bool at_start, unit *u)
{
    uint32_t cp;
    size_t len = ui_utf8_next(s, n, &cp);
    int w = cp_raw_width(cp);
    if (w < 0) {
        u->bytes = "?", u->len = 1, u->width = 1;
    } else if (w == 0 && at_start) {
        u->bytes = "", u->len = 0, u->width = 0;
    } else if (cp == 0xfffd && len == 1) {
        u->bytes = "\xef\xbf\xbd", u->len = 3, u->width = w;
    } else {
        u->bytes = s, u->len = len, u->width = w;
    }
    return len;
}

int ui_text_width(const char *s)
{
    size_t n = strlen(s);
    int w = 0;
    for (size_t i = 0; i < n;) {
        unit u;
        i += next_unit(s + i, n - i, w == 0, &u);
        w += u.width;
    }
    return w;
}

typedef struct sink {
    char *out;
    size_t cap, len;
    bool full;
} sink;

static void put(sink *k, const char *b, size_t n)
{
    if (k->full || k->len + n + 1 > k->cap) {
        k->full = true;
        return;
    }
    memcpy(k->out + k->len, b, n);
    k->len += n;
    k->out[k->len] = '\0';
}

static void pad(sink *k, int n)
{
    for (int i = 0; i < n; i++)
        put(k, " ", 1);
}

/* Copies units of s while they fit in `limit` columns; returns the columns used. Zero-width
 * marks that follow the last copied character are kept with it. */
static int copy_units(sink *k, const char *s, size_t n, int limit)
{
    int w = 0;
    for (size_t i = 0; i < n;) {
        unit u;
        size_t adv = next_unit(s + i, n - i, w == 0, &u);
        if (w + u.width > limit)
            break;
        put(k, u.bytes, u.len);
        w += u.width;
        i += adv;
    }
    return w;
}

size_t ui_text_fit(char *out, size_t cap, const char *s, int width, ui_align align,
                   const char *ellipsis)
{
    sink k = {out, cap, 0, false};
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (width <= 0)
        return 0;
    size_t n = strlen(s);
    int total = ui_text_width(s);
    if (total <= width) {
        if (align == UI_ALIGN_RIGHT)
            pad(&k, width - total);
        copy_units(&k, s, n, total);
        if (align == UI_ALIGN_LEFT)
            pad(&k, width - total);
        return k.len;
    }
    int ew = ellipsis ? ui_text_width(ellipsis) : 0;
    if (ew > width)
        ew = 0; /* no room even for the ellipsis: cut hard */
    /* Measure first so right alignment can pad before the text. */
    int limit = width - ew, used = 0;
    for (size_t i = 0; i < n;) {
        unit u;
        size_t adv = next_unit(s + i, n - i, used == 0, &u);
        if (used + u.width > limit)
            break;
        used += u.width;
        i += adv;
    }
    if (align == UI_ALIGN_RIGHT)
        pad(&k, limit - used);
    copy_units(&k, s, n, used);
    if (ew > 0)
        put(&k, ellipsis, strlen(ellipsis));
    if (align == UI_ALIGN_LEFT)
        pad(&k, limit - used);
    return k.len;
}

void ui_columns_layout(const ui_column *cols, const int *natural, size_t n, int avail, int gap,
                       int *out)
{
    if (n == 0)
        return;
    if (avail < 0)
        avail = 0;
    int total = 0;
    size_t ngrow = 0;
    for (size_t i = 0; i < n; i++) {
        int w = natural[i];
        if (cols[i].max > 0 && w > cols[i].max)
            w = cols[i].max;
        if (w < cols[i].min)
            w = cols[i].min;
        out[i] = w;
        total += w + (i ? gap : 0);
        if (cols[i].flags & UI_COL_GROW)
            ngrow++;
    }
    if (total <= avail) {
        int spare = avail - total;
        if (ngrow == 0)
            return;
        int each = spare / (int)ngrow, rest = spare % (int)ngrow;
        for (size_t i = 0; i < n; i++) {
            if (!(cols[i].flags & UI_COL_GROW))
                continue;
            out[i] += each + (rest > 0 ? 1 : 0);
            if (rest > 0)
                rest--;
        }
        return;
    }
    /* Shrink the widest column above its minimum, one column at a time. */
    int excess = total - avail;
    while (excess > 0) {
        size_t widest = n;
        for (size_t i = 0; i < n; i++) {
            if (out[i] > cols[i].min && (widest == n || out[i] > out[widest]))
                widest = i;
        }
        if (widest == n)
            break;
        out[widest]--;
        excess--;
    }
    /* Still too wide at the minimums: drop columns from the right. */
    for (size_t i = n; excess > 0 && i-- > 1;) {
        excess -= out[i] + gap;
        out[i] = 0;
    }
    if (excess > 0)
        out[0] = avail;
}

void ui_fmt_decimal(char *out, size_t cap, const char *plain, int max_frac, int *cut)
{
    int dummy;
    if (!cut)
        cut = &dummy;
    *cut = 0;
    if (cap == 0)
        return;
    size_t intlen = strspn(plain, "0123456789");
    const char *rest = plain + intlen;
    bool frac = rest[0] == '.' && strspn(rest + 1, "0123456789") == strlen(rest + 1);
    if (intlen == 0 || (rest[0] && !frac)) {
        snprintf(out, cap, "%s", plain);
        return;
    }
    size_t o = 0;
    if (intlen + (intlen - 1) / 3 + 1 > cap) {
        /* the whole part does not fit: '#', never some of its digits (a smaller number) */
        memset(out, '#', cap - 1);
        out[cap - 1] = '\0';
        *cut = 1;
        return;
    }
    for (size_t i = 0; i < intlen; i++) {
        if (i > 0 && (intlen - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = plain[i];
    }
    if (frac) {
        size_t fl = strlen(rest + 1), keep = fl;
        if (max_frac >= 0 && keep > (size_t)max_frac)
            keep = (size_t)max_frac;
        if (keep > 0 && o + 2 >= cap)
            keep = 0; /* no room for the point and a digit */
        else if (keep > 0 && o + 1 + keep >= cap)
            keep = cap - o - 2; /* the digits that fit */
        for (size_t i = keep; i < fl; i++)
            if (rest[1 + i] != '0')
                *cut = 1;
        while (keep > 0 && rest[keep] == '0')
            keep--; /* trailing zeros of what is kept */
        if (keep > 0)
            out[o++] = '.';
        for (size_t i = 0; i < keep; i++)
            out[o++] = rest[1 + i];
    }
    out[o] = '\0';
}

void ui_fmt_amount(char *out, size_t cap, const char *plain, const char *ellipsis)
{
    int cut = 0;
    ui_fmt_decimal(out, cap, plain, UI_DISPLAY_DECIMALS, &cut);
    size_t n = strlen(out);
    if (cut && n + strlen(ellipsis) < cap)
        snprintf(out + n, cap - n, "%s", ellipsis); /* more digits in the detail */
}

void ui_fmt_usd(char *out, size_t cap, double v, int frac)
{
    if (!isfinite(v)) {
        snprintf(out, cap, "-");
        return;
    }
    char plain[400], grouped[420];
    snprintf(plain, sizeof plain, "%.*f", frac, fabs(v));
    char *dot = strchr(plain, '.');
    if (dot)
        *dot = '\0'; /* the decimals printf gave stay as they are (a price: 2.50) */
    ui_fmt_decimal(grouped, sizeof grouped, plain, 0, NULL);
    bool zero = strspn(plain, "0") == strlen(plain) && (!dot || strspn(dot + 1, "0") == strlen(dot + 1));
    snprintf(out, cap, "%s%s%s%s", v < 0 && !zero ? "-" : "", grouped, dot ? "." : "",
             dot ? dot + 1 : "");
}

void ui_sparkline(char *out, size_t cap, const double *v, size_t n, int width,
                  const char *const glyphs[8])
{
    if (cap == 0)
        return;
    out[0] = '\0';
    if (width <= 0)
        return;
    size_t from = n > (size_t)width ? n - (size_t)width : 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = from; i < n; i++)
        if (isfinite(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    size_t o = 0;
    for (size_t i = from; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        int k = hi > lo ? (int)((v[i] - lo) / (hi - lo) * 7.0 + 0.5) : 3;
        k = k < 0 ? 0 : k > 7 ? 7 : k;
        size_t gl = strlen(glyphs[k]);
        if (o + gl + 1 > cap)
            break;
        memcpy(out + o, glyphs[k], gl);
        o += gl;
    }
    out[o] = '\0';
}

size_t ui_text_break(const char *s, int width)
{
    size_t n = strlen(s), i = 0, space = 0;
    int w = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = ui_utf8_next(s + i, n - i, &cp);
        int cw = ui_cp_width(cp);
        if (w + cw > width && i > 0)
            break;
        if (cp == ' ' && w >= width / 2)
            space = i;
        w += cw;
        i += l;
    }
    if (i < n && space > 0)
        return space;
    return i;
}
