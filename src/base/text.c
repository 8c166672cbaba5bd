/* text.c: the one place where outside text is made safe to show (see text.h). Pure
 * functions over bytes; no locale involved, so the answer is the same everywhere. */
#include "base/text.h"

#include <stdlib.h>
#include <string.h>

size_t text_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    unsigned c = p[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

bool text_cp_safe(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
        return false; /* C0, DEL, C1 (CSI 0x9b and OSC 0x9d act alone on some terminals) */
    if (cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
        (cp >= 0x2066 && cp <= 0x2069))
        return false; /* bidi controls: reorder what the reader sees */
    if (cp == 0x2028 || cp == 0x2029)
        return false; /* line and paragraph separators: a second line in a one-line text */
    return true;
}

static const char hexd[] = "0123456789abcdef";

/* The next piece of the safe form of s: either the character's own bytes or an escape
 * written to esc (\xNN for a byte or an ASCII control, \uNNNN for a code point; every
 * unsafe code point is below U+10000). Sets *raw and *len; returns the bytes consumed. */
static size_t piece(const char *s, size_t n, char esc[8], const char **raw, size_t *len)
{
    uint32_t cp;
    size_t k = text_utf8_next(s, n, &cp);
    if (k != 0 && text_cp_safe(cp)) {
        *raw = s, *len = k;
        return k;
    }
    esc[0] = '\\';
    if (k == 0 || cp < 0x80) {
        unsigned b = k == 0 ? (unsigned char)s[0] : cp;
        esc[1] = 'x', esc[2] = hexd[b >> 4], esc[3] = hexd[b & 15];
        *len = 4;
    } else {
        esc[1] = 'u';
        for (int i = 0; i < 4; i++)
            esc[2 + i] = hexd[(cp >> (12 - 4 * i)) & 15];
        *len = 6;
    }
    *raw = esc;
    return k ? k : 1;
}

static size_t safe_len(const char *s, size_t len)
{
    size_t total = 0;
    char esc[8];
    for (size_t i = 0; i < len;) {
        const char *raw;
        size_t k;
        i += piece(s + i, len - i, esc, &raw, &k);
        total += k;
    }
    return total;
}

/* Writes the pieces of s that fit in limit bytes; returns the bytes written. */
static size_t put_pieces(char *out, size_t limit, const char *s, size_t len)
{
    size_t o = 0;
    char esc[8];
    for (size_t i = 0; i < len;) {
        const char *raw;
        size_t k;
        size_t used = piece(s + i, len - i, esc, &raw, &k);
        if (o + k > limit)
            break;
        memcpy(out + o, raw, k);
        o += k;
        i += used;
    }
    return o;
}

const char *text_safe(char *out, size_t cap, const char *s, size_t len)
{
    if (cap == 0)
        return out;
    if (!s)
        s = "", len = 0;
    size_t o;
    if (safe_len(s, len) + 1 <= cap) {
        o = put_pieces(out, cap - 1, s, len);
    } else if (cap >= 4) {
        o = put_pieces(out, cap - 4, s, len);
        memcpy(out + o, "...", 3);
        o += 3;
    } else {
        o = 0;
    }
    out[o] = '\0';
    return out;
}

const char *text_safe_str(char *out, size_t cap, const char *s)
{
    return text_safe(out, cap, s, s ? strlen(s) : 0);
}

char *text_safe_dup(const char *s, size_t len)
{
    if (!s)
        s = "", len = 0;
    size_t n = safe_len(s, len);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    out[put_pieces(out, n, s, len)] = '\0';
    return out;
}

size_t text_unsafe_at(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = text_utf8_next(s + i, len - i, &cp);
        if (k == 0 || !text_cp_safe(cp))
            return i;
        i += k;
    }
    return len;
}
