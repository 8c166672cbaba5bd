/* bytes.c: owned buffers and strict hex. */
#include "base/bytes.h"

#include <stdlib.h>
#include <string.h>

void buf_init(buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_free(buf *b)
{
    if (!b)
        return;
    free(b->data);
    buf_init(b);
}

void buf_reset(buf *b)
{
    b->len = 0;
}

int buf_reserve(buf *b, size_t extra, err *e)
{
    if (extra > SIZE_MAX - b->len)
        return err_set(e, ERR_NOMEM, "buffer size overflow");
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(buf *b, const void *data, size_t len, err *e)
{
    if (len == 0)
        return 0;
    if (buf_reserve(b, len, e) < 0)
        return -1;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

int buf_push(buf *b, uint8_t byte, err *e)
{
    return buf_append(b, &byte, 1, e);
}

/* Strips an optional/required 0x prefix according to flags. */
static int hex_strip(const char **hex, size_t *hex_len, int flags, err *e)
{
    bool has = *hex_len >= 2 && (*hex)[0] == '0' && ((*hex)[1] == 'x' || (*hex)[1] == 'X');
    if (has && !(flags & (HEX_ALLOW_PREFIX | HEX_REQUIRE_PREFIX)))
        return err_set(e, ERR_INVALID, "hex must not start with 0x here");
    if (!has && (flags & HEX_REQUIRE_PREFIX))
        return err_set(e, ERR_INVALID, "hex must start with 0x");
    if (has) {
        *hex += 2;
        *hex_len -= 2;
    }
    if (*hex_len % 2)
        return err_set(e, ERR_INVALID, "hex has an odd number of digits (%zu)", *hex_len);
    return 0;
}

/* Digit value + 1 per character, 0 for a non-digit: a sync decodes every hash and address
 * of tens of thousands of logs through here. */
#define HEX1_(c, v) [c] = (v) + 1
static const uint8_t hex1[256] = {
    HEX1_('0', 0),  HEX1_('1', 1),  HEX1_('2', 2),  HEX1_('3', 3),  HEX1_('4', 4),
    HEX1_('5', 5),  HEX1_('6', 6),  HEX1_('7', 7),  HEX1_('8', 8),  HEX1_('9', 9),
    HEX1_('a', 10), HEX1_('b', 11), HEX1_('c', 12), HEX1_('d', 13), HEX1_('e', 14),
    HEX1_('f', 15), HEX1_('A', 10), HEX1_('B', 11), HEX1_('C', 12), HEX1_('D', 13),
    HEX1_('E', 14), HEX1_('F', 15),
};
#undef HEX1_

static int hex_decode_into(uint8_t *out, const char *hex, size_t n_bytes, err *e)
{
    for (size_t i = 0; i < n_bytes; i++) {
        unsigned hi = hex1[(unsigned char)hex[2 * i]];
        unsigned lo = hex1[(unsigned char)hex[2 * i + 1]];
        if (!hi || !lo) {
            size_t at = 2 * i + (hi ? 1 : 0);
            return err_set(e, ERR_INVALID, "not a hex digit at position %zu", at);
        }
        out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    return 0;
}

int hex_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *hex, size_t hex_len,
               int flags, err *e)
{
    if (hex_strip(&hex, &hex_len, flags, e) < 0)
        return -1;
    size_t n = hex_len / 2;
    if (n > out_cap)
        return err_set(e, ERR_OVERFLOW, "hex is %zu bytes, at most %zu expected", n, out_cap);
    if (hex_decode_into(out, hex, n, e) < 0)
        return -1;
    if (out_len)
        *out_len = n;
    return 0;
}

int hex_decode_buf(buf *b, const char *hex, size_t hex_len, int flags, err *e)
{
    if (hex_strip(&hex, &hex_len, flags, e) < 0)
        return -1;
    size_t n = hex_len / 2;
    if (n == 0) /* an empty buf has data == NULL: no pointer arithmetic on it */
        return 0;
    if (buf_reserve(b, n, e) < 0)
        return -1;
    if (hex_decode_into(b->data + b->len, hex, n, e) < 0)
        return -1;
    b->len += n;
    return 0;
}

int hex_decode_exact(uint8_t *out, size_t n, const char *hex, int flags, err *e)
{
    size_t got = 0;
    size_t hex_len = strlen(hex);
    const char *h = hex;
    size_t hl = hex_len;
    if (hex_strip(&h, &hl, flags, e) < 0)
        return -1;
    if (hl / 2 != n)
        return err_set(e, ERR_INVALID, "expected %zu bytes of hex, got %zu", n, hl / 2);
    if (hex_decode(out, n, &got, hex, hex_len, flags, e) < 0)
        return -1;
    return 0;
}

size_t hex_encode(char *out, size_t out_cap, const uint8_t *in, size_t len, bool prefix)
{
    static const char digits[] = "0123456789abcdef";
    size_t need = 2 * len + 1 + (prefix ? 2 : 0);
    if (len > (SIZE_MAX - 3) / 2 || out_cap < need)
        return 0;
    char *p = out;
    if (prefix) {
        *p++ = '0';
        *p++ = 'x';
    }
    for (size_t i = 0; i < len; i++) {
        *p++ = digits[in[i] >> 4];
        *p++ = digits[in[i] & 15];
    }
    *p = '\0';
    return (size_t)(p - out);
}

char *hex_encode_new(const uint8_t *in, size_t len)
{
    if (len > (SIZE_MAX - 3) / 2)
        return NULL;
    size_t cap = 2 * len + 3;
    char *s = malloc(cap);
    if (s)
        hex_encode(s, cap, in, len, true);
    return s;
}
