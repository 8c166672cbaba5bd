/* abi_value.c: the ABI value tree: constructors, parsing values from the text
 * form cast uses for arguments, and rendering values as one line of text or JSON
 * (safe to print: control characters and invalid UTF-8 are escaped). */
#include "eth/abi.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "eth/abi_priv.h"

abi_value *abi_value_new(abi_kind kind)
{
    abi_value *v = calloc(1, sizeof *v);
    if (v)
        v->kind = kind;
    return v;
}

void abi_value_free(abi_value **p)
{
    if (!p || !*p)
        return;
    abi_value *v = *p;
    for (size_t i = 0; i < v->n_items; i++)
        abi_value_free(&v->items[i]);
    free(v->items);
    buf_free(&v->data);
    free(v);
    *p = NULL;
}

abi_value *abi_value_new_uint(unsigned bits, const u256 *x)
{
    abi_value *v = abi_value_new(ABI_UINT);
    if (v) {
        v->size = bits;
        v->num = *x;
    }
    return v;
}

abi_value *abi_value_new_uint64(unsigned bits, uint64_t x)
{
    u256 n = u256_from_u64(x);
    return abi_value_new_uint(bits, &n);
}

abi_value *abi_value_new_int(unsigned bits, const u256 *twos)
{
    abi_value *v = abi_value_new(ABI_INT);
    if (v) {
        v->size = bits;
        v->num = *twos;
    }
    return v;
}

abi_value *abi_value_new_int64(unsigned bits, int64_t x)
{
    u256 n = u256_from_u64((uint64_t)x);
    if (x < 0)
        n.w[1] = n.w[2] = n.w[3] = UINT64_MAX; /* sign extension to 256 bits */
    return abi_value_new_int(bits, &n);
}

abi_value *abi_value_new_address(const addr *a)
{
    abi_value *v = abi_value_new(ABI_ADDRESS);
    if (v)
        v->address = *a;
    return v;
}

abi_value *abi_value_new_bool(bool b)
{
    abi_value *v = abi_value_new(ABI_BOOL);
    if (v)
        v->num = u256_from_u64(b ? 1 : 0);
    return v;
}

abi_value *abi_value_new_fixed_bytes(const uint8_t *p, size_t n)
{
    if (n == 0 || n > 32)
        return NULL;
    abi_value *v = abi_value_new(ABI_FIXED_BYTES);
    if (v) {
        v->size = (unsigned)n;
        memcpy(v->word, p, n);
    }
    return v;
}

/* Sets data to p[0..n) followed by a NUL that is not counted. */
static int set_data(abi_value *v, const void *p, size_t n, err *e)
{
    buf_reset(&v->data);
    if (buf_reserve(&v->data, n + 1, e) < 0)
        return -1;
    if (n)
        memcpy(v->data.data, p, n);
    v->data.data[n] = 0;
    v->data.len = n;
    return 0;
}

abi_value *abi_value_new_bytes(const void *p, size_t n)
{
    abi_value *v = abi_value_new(ABI_BYTES);
    if (v && set_data(v, p, n, NULL) < 0)
        abi_value_free(&v);
    return v;
}

abi_value *abi_value_new_string(const char *s)
{
    abi_value *v = abi_value_new(ABI_STRING);
    if (v && set_data(v, s, strlen(s), NULL) < 0)
        abi_value_free(&v);
    return v;
}

int abi_value_push(abi_value *list, abi_value *item, err *e)
{
    if (!item)
        return err_set(e, ERR_NOMEM, "out of memory building an ABI value");
    if (list->kind != ABI_ARRAY && list->kind != ABI_DYN_ARRAY && list->kind != ABI_TUPLE) {
        abi_value_free(&item);
        return err_set(e, ERR_INVALID, "only arrays and tuples hold items");
    }
    if (list->n_items == list->cap_items) {
        size_t cap = list->cap_items ? list->cap_items * 2 : 4;
        abi_value **items = realloc(list->items, cap * sizeof *items);
        if (!items) {
            abi_value_free(&item);
            return err_set(e, ERR_NOMEM, "out of memory building an ABI value");
        }
        list->items = items;
        list->cap_items = cap;
    }
    list->items[list->n_items++] = item;
    return 0;
}

bool abi_value_is_negative(const abi_value *v)
{
    return v->kind == ABI_INT && (v->num.w[3] >> 63);
}

/* ---- two's complement on big-endian words ---- */

static void word_negate(uint8_t w[32])
{
    unsigned carry = 1;
    for (int i = 31; i >= 0; i--) {
        unsigned x = (uint8_t)~w[i] + carry;
        w[i] = (uint8_t)x;
        carry = x >> 8;
    }
}

/* ---- parsing text ---- */

typedef struct vparse {
    const char *s;
    size_t pos;
    err *e;
} vparse;

static void vp_ws(vparse *p)
{
    while (isspace((unsigned char)p->s[p->pos]))
        p->pos++;
}

/* The scalar token at the cursor: up to ',', ']' or ')' when nested, the rest of
 * the text at the top level; surrounding blanks trimmed. */
static void scalar_token(vparse *p, bool top, size_t *start, size_t *len)
{
    vp_ws(p);
    size_t a = p->pos, b = a;
    while (p->s[b] && (top || (p->s[b] != ',' && p->s[b] != ']' && p->s[b] != ')')))
        b++;
    p->pos = b;
    while (b > a && isspace((unsigned char)p->s[b - 1]))
        b--;
    *start = a;
    *len = b - a;
}

/* Unsigned magnitude from decimal or 0x hex into a big-endian word. */
static int parse_magnitude(uint8_t w[32], const char *s, size_t n, err *e)
{
    char tmp[100], show[ABI_SHOW_MAX];
    if (n == 0)
        return err_set(e, ERR_INVALID, "empty number");
    if (n >= sizeof tmp)
        return err_set(e, ERR_OVERFLOW, "number \"%s\" is too long", abi_show(show, s, n));
    memset(w, 0, 32);
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        size_t digits = n - 2;
        if (digits > 64)
            return err_set(e, ERR_OVERFLOW, "hex number %s exceeds 256 bits", abi_show(show, s, n));
        tmp[0] = '0';
        memcpy(tmp + 1, s + 2, digits);
        const char *h = digits % 2 ? tmp : tmp + 1;
        size_t hl = digits % 2 ? digits + 1 : digits;
        size_t got = 0;
        uint8_t be[32];
        if (hex_decode(be, sizeof be, &got, h, hl, 0, e) < 0)
            return err_prefix(e, "number %s", abi_show(show, s, n));
        memcpy(w + 32 - got, be, got);
        return 0;
    }
    memcpy(tmp, s, n);
    tmp[n] = 0;
    u256 v;
    if (u256_from_dec(&v, tmp, e) < 0)
        return -1;
    u256_to_be(w, &v);
    return 0;
}

/* Whether bytes [0, 32 - bits/8) of w all equal fill. */
static bool pad_is(const uint8_t w[32], unsigned bits, uint8_t fill)
{
    for (unsigned i = 0; i < 32 - bits / 8; i++)
        if (w[i] != fill)
            return false;
    return true;
}

static int parse_int(abi_value **out, const abi_type *t, const char *s, size_t n, err *e)
{
    bool neg = n > 0 && s[0] == '-';
    uint8_t w[32];
    char show[ABI_SHOW_MAX];
    if (neg && t->kind == ABI_UINT)
        return err_set(e, ERR_OVERFLOW, "uint%u cannot be negative (%s)", t->size,
                       abi_show(show, s, n));
    if (parse_magnitude(w, s + neg, n - neg, e) < 0)
        return -1;
    bool ok;
    if (t->kind == ABI_UINT) {
        ok = pad_is(w, t->size, 0);
    } else if (!neg) {
        ok = pad_is(w, t->size, 0) && !(w[32 - t->size / 8] & 0x80);
    } else {
        static const uint8_t zero[32];
        word_negate(w);
        ok = !memcmp(w, zero, 32) || (pad_is(w, t->size, 0xff) && (w[32 - t->size / 8] & 0x80));
    }
    if (!ok)
        return err_set(e, ERR_OVERFLOW, "%s does not fit %s%u", abi_show(show, s, n),
                       t->kind == ABI_UINT ? "uint" : "int", t->size);
    u256 v;
    u256_from_be(&v, w);
    *out = t->kind == ABI_UINT ? abi_value_new_uint(t->size, &v) : abi_value_new_int(t->size, &v);
    return *out ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

/* A "quoted" string with JSON-style escapes; the cursor is on the opening quote. */
static int parse_quoted(vparse *p, buf *b)
{
    size_t i = p->pos + 1;
    for (;;) {
        char c = p->s[i];
        if (c == '\0')
            return err_set(p->e, ERR_INVALID, "unterminated quoted string");
        if (c == '"')
            break;
        if (c == '\\') {
            char x = p->s[++i];
            switch (x) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case '"':
            case '\\':
            case '/':
                c = x;
                break;
            default:
                return err_set(p->e, ERR_INVALID, "unknown escape \\%c in a quoted string",
                               x >= 0x20 && x < 0x7f ? x : '?');
            }
        }
        if (buf_push(b, (uint8_t)c, p->e) < 0)
            return -1;
        i++;
    }
    p->pos = i + 1;
    return 0;
}

/* Strings: nested ones are "quoted" or bare up to a delimiter; a top-level one is
 * the whole text, minus surrounding quotes when it is exactly one quoted string. */
static int parse_string(abi_value **out, vparse *p, bool top)
{
    abi_value *v = abi_value_new(ABI_STRING);
    if (!v)
        return err_set(p->e, ERR_NOMEM, "out of memory");
    int r = 0;
    if (top) {
        size_t len = strlen(p->s);
        bool quoted = false;
        if (len >= 2 && p->s[0] == '"' && p->s[len - 1] == '"') {
            err tmp;
            vparse q = {.s = p->s, .pos = 0, .e = &tmp};
            quoted = parse_quoted(&q, &v->data) == 0 && q.pos == len;
            if (!quoted)
                buf_reset(&v->data);
        }
        if (!quoted)
            r = buf_append(&v->data, p->s, len, p->e);
        p->pos = len;
    } else {
        vp_ws(p);
        if (p->s[p->pos] == '"') {
            r = parse_quoted(p, &v->data);
        } else {
            size_t a, n;
            scalar_token(p, false, &a, &n);
            r = buf_append(&v->data, p->s + a, n, p->e);
        }
    }
    if (r < 0 || buf_push(&v->data, 0, p->e) < 0) {
        abi_value_free(&v);
        return -1;
    }
    v->data.len--;
    *out = v;
    return 0;
}

static int parse_val(abi_value **out, const abi_type *t, vparse *p, bool top, unsigned depth);

static int parse_list(abi_value **out, const abi_type *t, vparse *p, unsigned depth)
{
    bool tuple = t->kind == ABI_TUPLE;
    char open = tuple ? '(' : '[', close = tuple ? ')' : ']';
    vp_ws(p);
    if (p->s[p->pos] != open)
        return err_set(p->e, ERR_INVALID, "expected '%c' at position %zu", open, p->pos);
    p->pos++;
    abi_value *v = abi_value_new(t->kind);
    if (!v)
        return err_set(p->e, ERR_NOMEM, "out of memory");
    vp_ws(p);
    if (p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            const abi_type *it =
                tuple ? (v->n_items < t->n_fields ? t->fields[v->n_items] : NULL) : t->elem;
            if (!it) {
                abi_value_free(&v);
                return err_set(p->e, ERR_INVALID, "tuple has more than %zu fields", t->n_fields);
            }
            abi_value *item = NULL;
            if (parse_val(&item, it, p, false, depth + 1) < 0 ||
                abi_value_push(v, item, p->e) < 0) {
                abi_value_free(&v);
                return -1;
            }
            vp_ws(p);
            if (p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->s[p->pos] == close) {
                p->pos++;
                break;
            }
            abi_value_free(&v);
            return err_set(p->e, ERR_INVALID, "expected ',' or '%c' at position %zu", close,
                           p->pos);
        }
    }
    size_t want = tuple ? t->n_fields : t->length;
    if ((tuple || t->kind == ABI_ARRAY) && v->n_items != want) {
        err_set(p->e, ERR_INVALID, "%s needs %zu items, got %zu", tuple ? "tuple" : "array", want,
                v->n_items);
        abi_value_free(&v);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_val(abi_value **out, const abi_type *t, vparse *p, bool top, unsigned depth)
{
    size_t a, n;
    char tmp[ADDR_STR_MAX + 8], show[ABI_SHOW_MAX];
    if (depth > ABI_MAX_DEPTH + 1)
        return err_set(p->e, ERR_INVALID, "value nested too deeply");
    switch (t->kind) {
    case ABI_ARRAY:
    case ABI_DYN_ARRAY:
    case ABI_TUPLE:
        return parse_list(out, t, p, depth);
    case ABI_STRING:
        return parse_string(out, p, top);
    default:
        break;
    }
    scalar_token(p, top, &a, &n);
    const char *s = p->s + a;
    switch (t->kind) {
    case ABI_UINT:
    case ABI_INT:
        return parse_int(out, t, s, n, p->e);
    case ABI_BOOL:
        if (n == 4 && !memcmp(s, "true", 4))
            *out = abi_value_new_bool(true);
        else if (n == 5 && !memcmp(s, "false", 5))
            *out = abi_value_new_bool(false);
        else
            return err_set(p->e, ERR_INVALID, "bool must be true or false, not \"%s\"",
                           abi_show(show, s, n));
        return *out ? 0 : err_set(p->e, ERR_NOMEM, "out of memory");
    case ABI_ADDRESS: {
        addr ad;
        if (n >= sizeof tmp)
            return err_set(p->e, ERR_INVALID, "address \"%s\" is too long", abi_show(show, s, n));
        memcpy(tmp, s, n);
        tmp[n] = 0;
        if (addr_parse(&ad, tmp, p->e) < 0)
            return -1;
        *out = abi_value_new_address(&ad);
        return *out ? 0 : err_set(p->e, ERR_NOMEM, "out of memory");
    }
    case ABI_FIXED_BYTES: {
        uint8_t w[32];
        size_t got = 0;
        if (n < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
            return err_set(p->e, ERR_INVALID, "bytes%u must be 0x followed by %u hex digits",
                           t->size, 2 * t->size);
        if (n - 2 != 2 * (size_t)t->size)
            return err_set(p->e, ERR_INVALID, "bytes%u needs exactly %u hex digits, got %zu",
                           t->size, 2 * t->size, n - 2);
        if (hex_decode(w, sizeof w, &got, s, n, HEX_REQUIRE_PREFIX, p->e) < 0)
            return -1;
        *out = abi_value_new_fixed_bytes(w, got);
        return *out ? 0 : err_set(p->e, ERR_NOMEM, "out of memory");
    }
    case ABI_BYTES: {
        abi_value *v = abi_value_new(ABI_BYTES);
        if (!v)
            return err_set(p->e, ERR_NOMEM, "out of memory");
        if (hex_decode_buf(&v->data, s, n, HEX_REQUIRE_PREFIX, p->e) < 0) {
            abi_value_free(&v);
            return err_prefix(p->e, "bytes value");
        }
        *out = v;
        return 0;
    }
    default:
        return err_set(p->e, ERR_INVALID, "values of this type cannot be written as text");
    }
}

int abi_value_parse(abi_value **out, const abi_type *t, const char *text, err *e)
{
    vparse p = {.s = text, .pos = 0, .e = e};
    abi_value *v = NULL;
    if (parse_val(&v, t, &p, true, 0) < 0)
        return -1;
    vp_ws(&p);
    if (text[p.pos] != '\0') {
        abi_value_free(&v);
        return err_set(e, ERR_INVALID, "unexpected text after the value at position %zu", p.pos);
    }
    *out = v;
    return 0;
}

/* ---- rendering ---- */

/* A quoted, escaped string: printable UTF-8 kept, the rest as escapes (a decoded string
 * is outside text: a revert reason, a token's name). */
static int put_quoted(buf *out, const uint8_t *p, size_t n, err *e)
{
    char esc[16];
    if (buf_push(out, '"', e) < 0)
        return -1;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = text_utf8_next((const char *)p + i, n - i, &cp);
        const char *x = NULL;
        if (l == 0) {
            snprintf(esc, sizeof esc, "\\x%02x", p[i]);
            x = esc;
            l = 1;
        } else if (cp == '"') {
            x = "\\\"";
        } else if (cp == '\\') {
            x = "\\\\";
        } else if (cp == '\n') {
            x = "\\n";
        } else if (cp == '\t') {
            x = "\\t";
        } else if (cp == '\r') {
            x = "\\r";
        } else if (!text_cp_safe(cp)) { /* controls, bidi controls (base/text.h) */
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
            x = esc;
        }
        if (x ? abi_buf_puts(out, x, e) < 0 : buf_append(out, p + i, l, e) < 0)
            return -1;
        i += l;
    }
    return buf_push(out, '"', e);
}

static int put_hex(buf *out, const uint8_t *p, size_t n, err *e)
{
    if (buf_reserve(out, 2 * n + 3, e) < 0)
        return -1;
    out->len += hex_encode((char *)out->data + out->len, 2 * n + 3, p, n, true);
    return 0;
}

static void int_dec(char out[U256_DEC_MAX + 1], const abi_value *v)
{
    if (abi_value_is_negative(v)) {
        uint8_t w[32];
        u256 m;
        u256_to_be(w, &v->num);
        word_negate(w);
        u256_from_be(&m, w);
        out[0] = '-';
        u256_to_dec(out + 1, &m);
    } else {
        u256_to_dec(out, &v->num);
    }
}

static int format_val(buf *out, const abi_value *v, err *e)
{
    char tmp[U256_DEC_MAX + 1];
    switch (v->kind) {
    case ABI_UINT:
    case ABI_INT:
        int_dec(tmp, v);
        return abi_buf_puts(out, tmp, e);
    case ABI_BOOL:
        return abi_buf_puts(out, u256_is_zero(&v->num) ? "false" : "true", e);
    case ABI_ADDRESS: {
        char s[ADDR_STR_MAX];
        addr_to_checksum(s, &v->address);
        return abi_buf_puts(out, s, e);
    }
    case ABI_FIXED_BYTES:
        return put_hex(out, v->word, v->size, e);
    case ABI_TOPIC_HASH:
        if (put_hex(out, v->word, 32, e) < 0)
            return -1;
        return abi_buf_puts(out, " (hashed)", e);
    case ABI_BYTES:
        return put_hex(out, v->data.data, v->data.len, e);
    case ABI_STRING:
        return put_quoted(out, v->data.data, v->data.len, e);
    case ABI_ARRAY:
    case ABI_DYN_ARRAY:
    case ABI_TUPLE:
        if (buf_push(out, v->kind == ABI_TUPLE ? '(' : '[', e) < 0)
            return -1;
        for (size_t i = 0; i < v->n_items; i++) {
            if (i && abi_buf_puts(out, ", ", e) < 0)
                return -1;
            if (format_val(out, v->items[i], e) < 0)
                return -1;
        }
        return buf_push(out, v->kind == ABI_TUPLE ? ')' : ']', e);
    }
    return err_set(e, ERR_INTERNAL, "unknown ABI value kind %d", (int)v->kind);
}

int abi_value_format(buf *out, const abi_value *v, err *e)
{
    if (format_val(out, v, e) < 0 || buf_push(out, 0, e) < 0)
        return -1;
    out->len--;
    return 0;
}

/* Valid UTF-8 copy of p with U+FFFD for invalid bytes (jansson needs UTF-8). */
static json_t *json_utf8(const uint8_t *p, size_t n)
{
    buf b;
    buf_init(&b);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = text_utf8_next((const char *)p + i, n - i, &cp);
        int r = l ? buf_append(&b, p + i, l, NULL) : buf_append(&b, "\xef\xbf\xbd", 3, NULL);
        if (r < 0) {
            buf_free(&b);
            return NULL;
        }
        i += l ? l : 1;
    }
    json_t *j = json_stringn(b.data ? (const char *)b.data : "", b.len);
    buf_free(&b);
    return j;
}

static json_t *json_hex(const uint8_t *p, size_t n)
{
    char *s = hex_encode_new(p, n);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

json_t *abi_value_to_json(const abi_value *v)
{
    char tmp[U256_DEC_MAX + 1];
    switch (v->kind) {
    case ABI_UINT:
    case ABI_INT:
        int_dec(tmp, v);
        return json_string(tmp);
    case ABI_BOOL:
        return json_boolean(!u256_is_zero(&v->num));
    case ABI_ADDRESS: {
        char s[ADDR_STR_MAX];
        addr_to_checksum(s, &v->address);
        return json_string(s);
    }
    case ABI_FIXED_BYTES:
        return json_hex(v->word, v->size);
    case ABI_TOPIC_HASH: {
        json_t *h = json_hex(v->word, 32);
        return h ? json_pack("{s:o}", "hashed", h) : NULL;
    }
    case ABI_BYTES:
        return json_hex(v->data.data, v->data.len);
    case ABI_STRING:
        return json_utf8(v->data.data, v->data.len);
    case ABI_ARRAY:
    case ABI_DYN_ARRAY:
    case ABI_TUPLE: {
        json_t *a = json_array();
        for (size_t i = 0; a && i < v->n_items; i++) {
            json_t *x = abi_value_to_json(v->items[i]);
            if (!x || json_array_append_new(a, x) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    }
    return NULL;
}
