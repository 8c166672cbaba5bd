/* abi_codec.c: the Solidity ABI encoding (heads, tails and offsets) and its strict
 * decoder. The decoder follows the type, never the data, so recursion is bounded
 * by the type's depth; every offset and length is checked against the input
 * before use, and budgets on the number of values and on the bytes copied stop
 * inputs whose offsets overlap from expanding into huge trees. */
#include "eth/abi.h"

#include <stdlib.h>
#include <string.h>

#include "eth/abi_priv.h"

static const char *kind_name(abi_kind k)
{
    switch (k) {
    case ABI_UINT:
        return "uint";
    case ABI_INT:
        return "int";
    case ABI_ADDRESS:
        return "address";
    case ABI_BOOL:
        return "bool";
    case ABI_FIXED_BYTES:
        return "bytesN";
    case ABI_BYTES:
        return "bytes";
    case ABI_STRING:
        return "string";
    case ABI_ARRAY:
        return "fixed array";
    case ABI_DYN_ARRAY:
        return "array";
    case ABI_TUPLE:
        return "tuple";
    case ABI_TOPIC_HASH:
        return "hashed topic";
    }
    return "?";
}

bool abi_is_value_type(const abi_type *t)
{
    return t->kind == ABI_UINT || t->kind == ABI_INT || t->kind == ABI_ADDRESS ||
           t->kind == ABI_BOOL || t->kind == ABI_FIXED_BYTES;
}

/* Bytes [0, 32 - bits/8) of w all equal fill. */
static bool pad_is(const uint8_t w[32], unsigned bits, uint8_t fill)
{
    for (unsigned i = 0; i < 32 - bits / 8; i++)
        if (w[i] != fill)
            return false;
    return true;
}

/* intN: the bytes above the value are the sign extension of its top bit. */
static bool sign_extended(const uint8_t w[32], unsigned bits)
{
    uint8_t fill = (w[32 - bits / 8] & 0x80) ? 0xff : 0x00;
    return pad_is(w, bits, fill);
}

static void word_u64(uint8_t w[32], uint64_t v)
{
    memset(w, 0, 24);
    for (int i = 0; i < 8; i++)
        w[24 + i] = (uint8_t)(v >> (8 * (7 - i)));
}

static int mismatch(err *e, const abi_type *t, const abi_value *v)
{
    return err_set(e, ERR_INVALID, "a %s value was given where the type is %s", kind_name(v->kind),
                   kind_name(t->kind));
}

int abi_value_word(uint8_t w[32], const abi_type *t, const abi_value *v, err *e)
{
    if (v->kind != t->kind)
        return mismatch(e, t, v);
    switch (t->kind) {
    case ABI_UINT:
        u256_to_be(w, &v->num);
        if (!pad_is(w, t->size, 0))
            return err_set(e, ERR_OVERFLOW, "value does not fit uint%u", t->size);
        return 0;
    case ABI_INT:
        u256_to_be(w, &v->num);
        if (!sign_extended(w, t->size))
            return err_set(e, ERR_OVERFLOW, "value does not fit int%u", t->size);
        return 0;
    case ABI_ADDRESS:
        memset(w, 0, 12);
        memcpy(w + 12, v->address.b, ADDR_LEN);
        return 0;
    case ABI_BOOL:
        if (v->num.w[0] > 1 || v->num.w[1] || v->num.w[2] || v->num.w[3])
            return err_set(e, ERR_INVALID, "bool value must be 0 or 1");
        word_u64(w, v->num.w[0]);
        return 0;
    case ABI_FIXED_BYTES:
        if (v->size != t->size)
            return err_set(e, ERR_INVALID, "a bytes%u value was given where the type is bytes%u",
                           v->size, t->size);
        memset(w, 0, 32);
        memcpy(w, v->word, t->size);
        return 0;
    default:
        return err_set(e, ERR_INTERNAL, "%s is not a value type", kind_name(t->kind));
    }
}

/* ---- encoding ---- */

static int encode_value(buf *out, const abi_type *t, const abi_value *v, err *e);

/* Heads in order, tails after them; offsets count from the start of the heads. */
static int encode_seq(buf *out, const abi_type *t, const abi_value *v, err *e)
{
    size_t n = v->n_items;
    size_t head = 0;
    for (size_t i = 0; i < n; i++)
        head += (t->kind == ABI_TUPLE ? t->fields[i] : t->elem)->head_size;
    buf tail;
    buf_init(&tail);
    for (size_t i = 0; i < n; i++) {
        const abi_type *it = t->kind == ABI_TUPLE ? t->fields[i] : t->elem;
        int r;
        if (it->dynamic) {
            uint8_t w[32];
            word_u64(w, (uint64_t)(head + tail.len));
            r = buf_append(out, w, 32, e);
            if (r == 0)
                r = encode_value(&tail, it, v->items[i], e);
        } else {
            r = encode_value(out, it, v->items[i], e);
        }
        if (r < 0) {
            buf_free(&tail);
            return err_prefix(e, t->kind == ABI_TUPLE ? "field %zu" : "[%zu]", i);
        }
    }
    int r = buf_append(out, tail.data, tail.len, e);
    buf_free(&tail);
    return r;
}

static int encode_value(buf *out, const abi_type *t, const abi_value *v, err *e)
{
    static const uint8_t zero[32];
    uint8_t w[32];
    switch (t->kind) {
    case ABI_BYTES:
    case ABI_STRING:
        if (v->kind != t->kind)
            return mismatch(e, t, v);
        word_u64(w, (uint64_t)v->data.len);
        if (buf_append(out, w, 32, e) < 0 || buf_append(out, v->data.data, v->data.len, e) < 0)
            return -1;
        return buf_append(out, zero, (32 - v->data.len % 32) % 32, e);
    case ABI_ARRAY:
    case ABI_DYN_ARRAY:
        if (v->kind != ABI_ARRAY && v->kind != ABI_DYN_ARRAY)
            return mismatch(e, t, v);
        if (t->kind == ABI_ARRAY && v->n_items != t->length)
            return err_set(e, ERR_INVALID, "fixed array needs %zu items, got %zu", t->length,
                           v->n_items);
        if (t->kind == ABI_DYN_ARRAY) {
            word_u64(w, (uint64_t)v->n_items);
            if (buf_append(out, w, 32, e) < 0)
                return -1;
        }
        return encode_seq(out, t, v, e);
    case ABI_TUPLE:
        if (v->kind != ABI_TUPLE)
            return mismatch(e, t, v);
        if (v->n_items != t->n_fields)
            return err_set(e, ERR_INVALID, "tuple needs %zu values, got %zu", t->n_fields,
                           v->n_items);
        return encode_seq(out, t, v, e);
    default:
        if (abi_value_word(w, t, v, e) < 0)
            return -1;
        return buf_append(out, w, 32, e);
    }
}

int abi_encode(buf *out, const abi_type *t, const abi_value *v, err *e)
{
    size_t mark = out->len;
    if (encode_value(out, t, v, e) < 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

/* ---- decoding ---- */

typedef struct dec {
    const uint8_t *d;
    size_t len;
    size_t budget;      /* values that may still be created */
    size_t copy_budget; /* bytes/string content that may still be copied */
    err *e;
} dec;

static abi_value *dec_new(dec *c, abi_kind kind)
{
    if (c->budget == 0) {
        err_set(c->e, ERR_INVALID, "ABI data expands to too many values (overlapping offsets?)");
        return NULL;
    }
    c->budget--;
    abi_value *v = abi_value_new(kind);
    if (!v)
        err_set(c->e, ERR_NOMEM, "out of memory decoding ABI data");
    return v;
}

/* Reads the word at pos as a size (offset, length, count). */
static int read_size(dec *c, size_t pos, size_t *out, const char *what)
{
    if (pos > c->len || c->len - pos < 32)
        return err_set(c->e, ERR_INVALID, "ABI data ends inside the %s at byte %zu (%zu bytes)",
                       what, pos, c->len);
    const uint8_t *w = c->d + pos;
    uint64_t v = 0;
    for (int i = 0; i < 24; i++)
        if (w[i])
            return err_set(c->e, ERR_INVALID, "ABI %s at byte %zu is far too large", what, pos);
    for (int i = 24; i < 32; i++)
        v = v << 8 | w[i];
    if (v > c->len)
        return err_set(c->e, ERR_INVALID,
                       "ABI %s %llu at byte %zu points past the end of the data (%zu bytes)", what,
                       (unsigned long long)v, pos, c->len);
    *out = (size_t)v;
    return 0;
}

int abi_word_decode(abi_value **out, const abi_type *t, const uint8_t w[32], err *e)
{
    abi_value *v = abi_value_new(t->kind);
    bool ok = true;
    if (!v)
        return err_set(e, ERR_NOMEM, "out of memory decoding ABI data");
    v->size = t->size;
    switch (t->kind) {
    case ABI_UINT:
        ok = pad_is(w, t->size, 0);
        u256_from_be(&v->num, w);
        break;
    case ABI_INT:
        ok = sign_extended(w, t->size);
        u256_from_be(&v->num, w);
        break;
    case ABI_ADDRESS:
        ok = pad_is(w, 160, 0);
        memcpy(v->address.b, w + 12, ADDR_LEN);
        break;
    case ABI_BOOL:
        ok = pad_is(w, 8, 0) && w[31] <= 1;
        v->num = u256_from_u64(w[31]);
        break;
    case ABI_FIXED_BYTES:
        for (unsigned i = t->size; i < 32; i++)
            ok = ok && w[i] == 0;
        memcpy(v->word, w, t->size);
        break;
    default:
        abi_value_free(&v);
        return err_set(e, ERR_INTERNAL, "%s is not a value type", kind_name(t->kind));
    }
    if (!ok) {
        abi_value_free(&v);
        char ts[16];
        if (t->kind == ABI_UINT || t->kind == ABI_INT || t->kind == ABI_FIXED_BYTES)
            snprintf(ts, sizeof ts, "%s%u",
                     t->kind == ABI_FIXED_BYTES ? "bytes"
                     : t->kind == ABI_UINT      ? "uint"
                                                : "int",
                     t->size);
        else
            snprintf(ts, sizeof ts, "%s", kind_name(t->kind));
        return err_set(e, ERR_INVALID,
                       t->kind == ABI_BOOL ? "ABI bool word is neither 0 nor 1"
                                           : "ABI %s word has non-zero padding (out of range)",
                       ts);
    }
    *out = v;
    return 0;
}

static int dec_value(dec *c, const abi_type *t, size_t pos, abi_value **out);

/* Decodes n items (fields of a tuple, or elements of an array) whose heads start
 * at base; dynamic items' offsets are relative to base. */
static int dec_seq(dec *c, const abi_type *t, size_t n, size_t base, abi_value *list)
{
    size_t head = 0;
    if (t->kind == ABI_TUPLE) {
        for (size_t i = 0; i < n; i++)
            head += t->fields[i]->head_size;
    } else {
        if (n > (c->len - base) / t->elem->head_size)
            return err_set(c->e, ERR_INVALID,
                           "ABI array of %zu items at byte %zu does not fit in %zu bytes", n, base,
                           c->len);
        head = n * t->elem->head_size;
    }
    if (head > c->len - base)
        return err_set(c->e, ERR_INVALID, "ABI data ends inside the heads at byte %zu", base);
    size_t p = base;
    for (size_t i = 0; i < n; i++) {
        const abi_type *it = t->kind == ABI_TUPLE ? t->fields[i] : t->elem;
        abi_value *item = NULL;
        size_t at = p;
        if (it->dynamic) {
            size_t off;
            if (read_size(c, p, &off, "offset") < 0)
                return -1;
            if (off > c->len - base)
                return err_set(c->e, ERR_INVALID,
                               "ABI offset %zu at byte %zu points past the end of the data "
                               "(%zu bytes)",
                               off, p, c->len);
            at = base + off;
        }
        if (dec_value(c, it, at, &item) < 0)
            return err_prefix(c->e, t->kind == ABI_TUPLE ? "field %zu" : "[%zu]", i);
        if (abi_value_push(list, item, c->e) < 0)
            return -1;
        p += it->head_size;
    }
    return 0;
}

static int dec_value(dec *c, const abi_type *t, size_t pos, abi_value **out)
{
    abi_value *v;
    size_t n;
    if (pos > c->len)
        return err_set(c->e, ERR_INVALID, "ABI position %zu is past the end", pos);
    switch (t->kind) {
    case ABI_BYTES:
    case ABI_STRING: {
        if (read_size(c, pos, &n, "length") < 0)
            return -1;
        size_t avail = c->len - pos - 32;
        size_t padded = n + (32 - n % 32) % 32;
        if (n > avail || padded > avail)
            return err_set(c->e, ERR_INVALID,
                           "ABI %s of %zu bytes at byte %zu runs past the end of the data",
                           kind_name(t->kind), n, pos);
        const uint8_t *p = c->d + pos + 32;
        for (size_t i = n; i < padded; i++)
            if (p[i])
                return err_set(c->e, ERR_INVALID, "ABI %s at byte %zu has non-zero padding",
                               kind_name(t->kind), pos);
        if (n > c->copy_budget)
            return err_set(c->e, ERR_INVALID,
                           "ABI data expands to too many bytes (overlapping offsets?)");
        c->copy_budget -= n;
        if (!(v = dec_new(c, t->kind)))
            return -1;
        if (buf_reserve(&v->data, n + 1, c->e) < 0) {
            abi_value_free(&v);
            return -1;
        }
        memcpy(v->data.data, p, n);
        v->data.data[n] = 0;
        v->data.len = n;
        *out = v;
        return 0;
    }
    case ABI_ARRAY:
    case ABI_DYN_ARRAY:
    case ABI_TUPLE: {
        size_t base = pos;
        if (t->kind == ABI_DYN_ARRAY) {
            if (read_size(c, pos, &n, "array length") < 0)
                return -1;
            base = pos + 32;
        } else {
            n = t->kind == ABI_ARRAY ? t->length : t->n_fields;
        }
        if (!(v = dec_new(c, t->kind)))
            return -1;
        if (dec_seq(c, t, n, base, v) < 0) {
            abi_value_free(&v);
            return -1;
        }
        *out = v;
        return 0;
    }
    default:
        if (c->len - pos < 32)
            return err_set(c->e, ERR_INVALID, "ABI data ends inside a %s at byte %zu",
                           kind_name(t->kind), pos);
        if (c->budget == 0)
            return err_set(c->e, ERR_INVALID,
                           "ABI data expands to too many values (overlapping offsets?)");
        c->budget--;
        return abi_word_decode(out, t, c->d + pos, c->e);
    }
}

int abi_decode(abi_value **out, const abi_type *t, const uint8_t *data, size_t len, err *e)
{
    static const uint8_t empty[1];
    /* A strict encoding holds at most ABI_MAX_DEPTH + 1 values per 32-byte word. */
    dec c = {.d = data ? data : empty,
             .len = len,
             .budget = len + len / 32 + 256,
             .copy_budget = len, /* each content byte appears once in a strict encoding */
             .e = e};
    abi_value *v = NULL;
    if (dec_value(&c, t, 0, &v) < 0)
        return -1;
    *out = v;
    return 0;
}
