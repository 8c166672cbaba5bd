/* rlp.c: RLP encoding and strict decoding. Every length read from the input is
 * checked against what is left before it is used, so malformed input can only
 * produce an error, never a read past the end. */
#include "eth/rlp.h"

#include <string.h>

/* Big-endian length bytes without leading zeros; returns how many (1..8). */
static size_t be_len_bytes(uint8_t out[8], uint64_t v)
{
    size_t n = 0;
    for (uint64_t t = v; t; t >>= 8)
        n++;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return n;
}

/* Writes the header for a payload of len bytes (base 0x80 strings, 0xc0 lists). */
static size_t make_header(uint8_t hdr[9], uint8_t base, size_t len)
{
    if (len < 56) {
        hdr[0] = (uint8_t)(base + len);
        return 1;
    }
    size_t n = be_len_bytes(hdr + 1, (uint64_t)len);
    hdr[0] = (uint8_t)(base + 55 + n);
    return 1 + n;
}

int rlp_put_bytes(buf *out, const uint8_t *p, size_t n, err *e)
{
    if (n == 1 && p[0] < 0x80)
        return buf_push(out, p[0], e);
    uint8_t hdr[9];
    size_t h = make_header(hdr, 0x80, n);
    if (buf_reserve(out, h + n, e) < 0)
        return -1;
    if (buf_append(out, hdr, h, e) < 0)
        return -1;
    return buf_append(out, p, n, e);
}

int rlp_put_u64(buf *out, uint64_t v, err *e)
{
    uint8_t be[8];
    size_t n = be_len_bytes(be, v);
    return rlp_put_bytes(out, be, n, e);
}

int rlp_put_u256(buf *out, const u256 *v, err *e)
{
    uint8_t be[32];
    size_t n = u256_to_be_min(be, v);
    return rlp_put_bytes(out, be, n, e);
}

int rlp_put_raw(buf *out, const uint8_t *p, size_t n, err *e)
{
    return buf_append(out, p, n, e);
}

void rlp_list_begin(const buf *out, size_t *mark)
{
    *mark = out->len;
}

int rlp_list_end(buf *out, size_t mark, err *e)
{
    if (mark > out->len)
        return err_set(e, ERR_INTERNAL, "RLP list mark %zu is past the buffer end", mark);
    size_t len = out->len - mark;
    uint8_t hdr[9];
    size_t h = make_header(hdr, 0xc0, len);
    if (buf_reserve(out, h, e) < 0)
        return -1;
    memmove(out->data + mark + h, out->data + mark, len);
    memcpy(out->data + mark, hdr, h);
    out->len += h;
    return 0;
}

/* Reads one item header at data[0..len) without looking inside lists. */
static int read_header(rlp_item *out, size_t *used, const uint8_t *data, size_t len, err *e)
{
    if (len == 0)
        return err_set(e, ERR_INVALID, "RLP input ends where an item was expected (truncated)");
    uint8_t b = data[0];
    size_t hlen, plen;
    if (b < 0x80) {
        out->kind = RLP_BYTES;
        out->payload = data;
        out->len = 1;
        out->raw = data;
        out->raw_len = 1;
        *used = 1;
        return 0;
    }
    if (b < 0xb8 || (b >= 0xc0 && b < 0xf8)) {
        hlen = 1;
        plen = (size_t)(b - (b < 0xc0 ? 0x80 : 0xc0));
    } else {
        size_t nlen = (size_t)(b - (b < 0xc0 ? 0xb7 : 0xf7));
        if (nlen >= len)
            return err_set(e, ERR_INVALID, "RLP length field is truncated");
        if (data[1] == 0)
            return err_set(e, ERR_INVALID, "RLP length has a leading zero byte (non-canonical)");
        uint64_t v = 0;
        for (size_t i = 0; i < nlen; i++)
            v = v << 8 | data[1 + i];
        if (v < 56)
            return err_set(e, ERR_INVALID,
                           "RLP long form used for a %llu-byte payload (non-canonical)",
                           (unsigned long long)v);
        if (v > SIZE_MAX)
            return err_set(e, ERR_INVALID, "RLP length %llu is too large", (unsigned long long)v);
        hlen = 1 + nlen;
        plen = (size_t)v;
    }
    if (plen > len - hlen)
        return err_set(e, ERR_INVALID, "RLP item claims %zu bytes but only %zu remain (truncated)",
                       plen, len - hlen);
    out->kind = b < 0xc0 ? RLP_BYTES : RLP_LIST;
    out->payload = data + hlen;
    out->len = plen;
    out->raw = data;
    out->raw_len = hlen + plen;
    if (out->kind == RLP_BYTES && plen == 1 && data[hlen] < 0x80)
        return err_set(e, ERR_INVALID,
                       "RLP single byte 0x%02x below 0x80 encoded as a string (non-canonical)",
                       data[hlen]);
    *used = hlen + plen;
    return 0;
}

/* Checks every item inside a list payload, recursively, up to RLP_MAX_DEPTH. */
static int validate(const rlp_item *it, unsigned depth, err *e)
{
    if (it->kind != RLP_LIST)
        return 0;
    if (depth >= RLP_MAX_DEPTH)
        return err_set(e, ERR_INVALID, "RLP lists nested deeper than %d", RLP_MAX_DEPTH);
    const uint8_t *p = it->payload;
    size_t left = it->len;
    while (left) {
        rlp_item child;
        size_t used;
        if (read_header(&child, &used, p, left, e) < 0)
            return -1;
        if (validate(&child, depth + 1, e) < 0)
            return -1;
        p += used;
        left -= used;
    }
    return 0;
}

int rlp_decode_prefix(rlp_item *out, size_t *used, const uint8_t *data, size_t len, err *e)
{
    rlp_item it;
    size_t n;
    if (read_header(&it, &n, data, len, e) < 0)
        return -1;
    if (validate(&it, 0, e) < 0)
        return -1;
    *out = it;
    if (used)
        *used = n;
    return 0;
}

int rlp_decode(rlp_item *out, const uint8_t *data, size_t len, err *e)
{
    size_t used;
    rlp_item it;
    if (rlp_decode_prefix(&it, &used, data, len, e) < 0)
        return -1;
    if (used != len)
        return err_set(e, ERR_INVALID, "%zu trailing bytes after the RLP item", len - used);
    *out = it;
    return 0;
}

int rlp_iter_init(rlp_iter *it, const rlp_item *list, err *e)
{
    if (list->kind != RLP_LIST)
        return err_set(e, ERR_INVALID, "RLP list expected, found a byte string");
    it->p = list->payload;
    it->left = list->len;
    return 0;
}

int rlp_iter_next(rlp_iter *it, rlp_item *item, err *e)
{
    if (it->left == 0)
        return 0;
    size_t used;
    if (read_header(item, &used, it->p, it->left, e) < 0)
        return -1;
    it->p += used;
    it->left -= used;
    return 1;
}

int rlp_list_count(size_t *n, const rlp_item *list, err *e)
{
    rlp_iter it;
    rlp_item item;
    size_t count = 0;
    int r;
    if (rlp_iter_init(&it, list, e) < 0)
        return -1;
    while ((r = rlp_iter_next(&it, &item, e)) > 0)
        count++;
    if (r < 0)
        return -1;
    *n = count;
    return 0;
}

/* Shared integer checks: a string, no leading zero byte, at most max bytes. */
static int int_bytes(const rlp_item *item, size_t max, err *e)
{
    if (item->kind != RLP_BYTES)
        return err_set(e, ERR_INVALID, "RLP integer expected, found a list");
    if (item->len > 0 && item->payload[0] == 0)
        return err_set(e, ERR_INVALID, "RLP integer has a leading zero byte (non-canonical)");
    if (item->len > max)
        return err_set(e, ERR_OVERFLOW, "RLP integer of %zu bytes exceeds %zu bytes", item->len,
                       max);
    return 0;
}

int rlp_item_u64(uint64_t *out, const rlp_item *item, err *e)
{
    if (int_bytes(item, 8, e) < 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < item->len; i++)
        v = v << 8 | item->payload[i];
    *out = v;
    return 0;
}

int rlp_item_u256(u256 *out, const rlp_item *item, err *e)
{
    if (int_bytes(item, 32, e) < 0)
        return -1;
    if (u256_from_be_bytes(out, item->payload, item->len) < 0)
        return err_set(e, ERR_OVERFLOW, "RLP integer exceeds 256 bits");
    return 0;
}
