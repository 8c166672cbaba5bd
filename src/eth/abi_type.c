/* abi_type.c: ABI type strings: parsing ("(address,uint256[])[2]"), the
 * canonical form used in signatures, and the head sizes the codec needs. */
#include "eth/abi.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "eth/abi_priv.h"

abi_type *abi_type_alloc(abi_kind kind)
{
    abi_type *t = calloc(1, sizeof *t);
    if (t)
        t->kind = kind;
    return t;
}

void abi_type_free(abi_type **p)
{
    if (!p || !*p)
        return;
    abi_type *t = *p;
    abi_type_free(&t->elem);
    for (size_t i = 0; i < t->n_fields; i++) {
        abi_type_free(&t->fields[i]);
        if (t->names)
            free(t->names[i]);
    }
    free(t->fields);
    free(t->names);
    free(t);
    *p = NULL;
}

int abi_tuple_add(abi_type *tuple, abi_type *field, const char *name, size_t name_len, err *e)
{
    size_t n = tuple->n_fields;
    abi_type **f = realloc(tuple->fields, (n + 1) * sizeof *f);
    if (!f)
        goto oom;
    tuple->fields = f;
    char **names = realloc(tuple->names, (n + 1) * sizeof *names);
    if (!names)
        goto oom;
    tuple->names = names;
    names[n] = NULL;
    if (name && name_len) {
        names[n] = strndup(name, name_len);
        if (!names[n])
            goto oom;
    }
    f[n] = field;
    tuple->n_fields = n + 1;
    return 0;
oom:
    abi_type_free(&field);
    return err_set(e, ERR_NOMEM, "out of memory building an ABI tuple type");
}

int abi_type_finish(abi_type *t, bool top, err *e)
{
    size_t inner;
    switch (t->kind) {
    case ABI_BYTES:
    case ABI_STRING:
        t->dynamic = true;
        t->head_size = 32;
        return 0;
    case ABI_ARRAY:
        if (t->length == 0)
            return err_set(e, ERR_INVALID, "zero-length fixed arrays are not supported");
        if (t->length > ABI_MAX_STATIC_SIZE / t->elem->head_size)
            return err_set(e, ERR_OVERFLOW, "fixed array of %zu elements is too large", t->length);
        inner = t->length * t->elem->head_size;
        t->dynamic = t->elem->dynamic;
        t->head_size = t->dynamic ? 32 : inner;
        return 0;
    case ABI_DYN_ARRAY:
        t->dynamic = true;
        t->head_size = 32;
        return 0;
    case ABI_TUPLE:
        if (t->n_fields == 0 && !top)
            return err_set(e, ERR_INVALID, "empty tuples are only allowed as parameter lists");
        inner = 0;
        t->dynamic = false;
        for (size_t i = 0; i < t->n_fields; i++) {
            if (t->fields[i]->head_size > ABI_MAX_STATIC_SIZE - inner)
                return err_set(e, ERR_OVERFLOW, "tuple type is too large");
            inner += t->fields[i]->head_size;
            t->dynamic |= t->fields[i]->dynamic;
        }
        t->head_size = t->dynamic ? 32 : inner;
        return 0;
    default:
        t->dynamic = false;
        t->head_size = 32;
        return 0;
    }
}

/* ---- parsing ---- */

const char *abi_show(char out[ABI_SHOW_MAX], const char *s, size_t n)
{
    size_t i = 0;
    for (; i < n && s[i] && i < 60; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (i == 60 && i < n && s[i])
        out[i - 3] = out[i - 2] = out[i - 1] = '.';
    out[i] = '\0';
    return out;
}

bool abi_is_identifier(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == '$'))
        return false;
    for (size_t i = 1; s[i]; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$'))
            return false;
    return true;
}

static int bad(err *e, const char *s, size_t pos, const char *what)
{
    char show[ABI_SHOW_MAX];
    return err_set(e, ERR_INVALID, "bad ABI type \"%s\" at position %zu: %s",
                   abi_show(show, s, SIZE_MAX), pos, what);
}

static void skip_ws(const char *s, size_t *pos)
{
    while (s[*pos] == ' ' || s[*pos] == '\t' || s[*pos] == '\n')
        (*pos)++;
}

static bool is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_' || c == '$';
}

static bool is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* Decimal digits without a leading zero (except "0"), value <= max. Returns the
 * number of digits consumed (0: none there), -1 when malformed. */
static int parse_num(const char *s, size_t *pos, size_t max, size_t *out)
{
    size_t p = *pos, v = 0;
    if (!isdigit((unsigned char)s[p]))
        return 0;
    if (s[p] == '0' && isdigit((unsigned char)s[p + 1]))
        return -1;
    while (isdigit((unsigned char)s[p])) {
        size_t d = (size_t)(s[p] - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
        p++;
    }
    int n = (int)(p - *pos);
    *pos = p;
    *out = v;
    return n;
}

static int parse_type_at(abi_type **out, const char *s, size_t *pos, unsigned depth, err *e);

int abi_type_parse_suffixes(abi_type **t, const char *s, size_t *pos, unsigned depth, err *e)
{
    while (s[*pos] == '[') {
        if (++depth > ABI_MAX_DEPTH) {
            abi_type_free(t);
            return bad(e, s, *pos, "nested too deeply");
        }
        (*pos)++;
        size_t k = 0;
        int n = parse_num(s, pos, SIZE_MAX, &k);
        if (n < 0 || s[*pos] != ']') {
            abi_type_free(t);
            return bad(e, s, *pos, "expected an array length and ']'");
        }
        (*pos)++;
        abi_type *a = abi_type_alloc(n ? ABI_ARRAY : ABI_DYN_ARRAY);
        if (!a) {
            abi_type_free(t);
            return err_set(e, ERR_NOMEM, "out of memory parsing an ABI type");
        }
        a->length = k;
        a->elem = *t;
        *t = a;
        if (abi_type_finish(a, false, e) < 0) {
            abi_type_free(t);
            return -1;
        }
    }
    return 0;
}

/* "memory", "calldata", "storage" are accepted and ignored (copied Solidity). */
static bool is_location(const char *w, size_t n)
{
    return (n == 6 && !memcmp(w, "memory", 6)) || (n == 8 && !memcmp(w, "calldata", 8)) ||
           (n == 7 && !memcmp(w, "storage", 7));
}

int abi_params_parse(abi_type **out, bool **indexed, const char *s, size_t *pos, unsigned depth,
                     err *e)
{
    if (s[*pos] != '(')
        return bad(e, s, *pos, "expected '('");
    if (depth + 1 > ABI_MAX_DEPTH)
        return bad(e, s, *pos, "nested too deeply");
    (*pos)++;
    abi_type *t = abi_type_alloc(ABI_TUPLE);
    bool *flags = NULL;
    if (!t)
        return err_set(e, ERR_NOMEM, "out of memory parsing an ABI type");
    skip_ws(s, pos);
    if (s[*pos] == ')') {
        (*pos)++;
        goto done;
    }
    for (;;) {
        abi_type *f = NULL;
        skip_ws(s, pos);
        if (parse_type_at(&f, s, pos, depth + 1, e) < 0)
            goto fail;
        bool is_indexed = false;
        const char *name = NULL;
        size_t name_len = 0;
        /* words after the type: "indexed", a data location, a name */
        for (;;) {
            size_t before = *pos;
            skip_ws(s, pos);
            if (!is_ident_start(s[*pos])) {
                *pos = before;
                skip_ws(s, pos);
                break;
            }
            if (*pos == before) {
                abi_type_free(&f);
                bad(e, s, *pos, "expected ',' or ')'");
                goto fail;
            }
            size_t w = *pos;
            while (is_ident(s[*pos]))
                (*pos)++;
            size_t wl = *pos - w;
            if (wl == 7 && !memcmp(s + w, "indexed", 7) && !name) {
                if (!indexed || is_indexed) {
                    abi_type_free(&f);
                    bad(e, s, w, "\"indexed\" is only allowed on event parameters");
                    goto fail;
                }
                is_indexed = true;
            } else if (is_location(s + w, wl) && !name) {
                continue;
            } else if (!name) {
                name = s + w;
                name_len = wl;
            } else {
                abi_type_free(&f);
                bad(e, s, w, "unexpected word after the parameter name");
                goto fail;
            }
        }
        if (abi_tuple_add(t, f, name, name_len, e) < 0)
            goto fail;
        if (indexed) {
            bool *nf = realloc(flags, t->n_fields * sizeof *nf);
            if (!nf) {
                err_set(e, ERR_NOMEM, "out of memory parsing an ABI type");
                goto fail;
            }
            flags = nf;
            flags[t->n_fields - 1] = is_indexed;
        }
        if (s[*pos] == ',') {
            (*pos)++;
            continue;
        }
        if (s[*pos] == ')') {
            (*pos)++;
            break;
        }
        bad(e, s, *pos, "expected ',' or ')'");
        goto fail;
    }
done:
    if (abi_type_finish(t, true, e) < 0)
        goto fail;
    *out = t;
    if (indexed)
        *indexed = flags;
    return 0;
fail:
    free(flags);
    abi_type_free(&t);
    return -1;
}

static int parse_type_at(abi_type **out, const char *s, size_t *pos, unsigned depth, err *e)
{
    abi_type *t = NULL;
    size_t start = *pos;
    if (depth > ABI_MAX_DEPTH)
        return bad(e, s, *pos, "nested too deeply");
    if (!strncmp(s + *pos, "tuple(", 6))
        *pos += 5;
    if (s[*pos] == '(') {
        if (abi_params_parse(&t, NULL, s, pos, depth, e) < 0)
            return -1;
        if (t->n_fields == 0) {
            abi_type_free(&t);
            return bad(e, s, start, "empty tuples are only allowed as parameter lists");
        }
        if (abi_type_finish(t, false, e) < 0) {
            abi_type_free(&t);
            return -1;
        }
    } else {
        size_t w = *pos;
        while (isalpha((unsigned char)s[*pos]))
            (*pos)++;
        size_t wl = *pos - w;
        size_t n = 0;
        int nd = parse_num(s, pos, 1000, &n);
        abi_kind kind;
        if (nd < 0)
            return bad(e, s, w, "bad size in the type name");
        if (wl == 4 && !memcmp(s + w, "uint", 4))
            kind = ABI_UINT;
        else if (wl == 3 && !memcmp(s + w, "int", 3))
            kind = ABI_INT;
        else if (wl == 5 && !memcmp(s + w, "bytes", 5))
            kind = nd ? ABI_FIXED_BYTES : ABI_BYTES;
        else if (wl == 7 && !memcmp(s + w, "address", 7) && !nd)
            kind = ABI_ADDRESS;
        else if (wl == 4 && !memcmp(s + w, "bool", 4) && !nd)
            kind = ABI_BOOL;
        else if (wl == 6 && !memcmp(s + w, "string", 6) && !nd)
            kind = ABI_STRING;
        else if (wl == 0)
            return bad(e, s, w, "expected a type");
        else
            return bad(e, s, w, "unknown or unsupported type name");
        if (kind == ABI_UINT || kind == ABI_INT) {
            if (!nd)
                n = 256;
            if (n == 0 || n > 256 || n % 8)
                return bad(e, s, w, "integer width must be 8..256 in steps of 8");
        }
        if (kind == ABI_FIXED_BYTES && (n == 0 || n > 32))
            return bad(e, s, w, "bytesN needs N in 1..32");
        t = abi_type_alloc(kind);
        if (!t)
            return err_set(e, ERR_NOMEM, "out of memory parsing an ABI type");
        t->size = (unsigned)n;
        if (abi_type_finish(t, false, e) < 0) {
            abi_type_free(&t);
            return -1;
        }
    }
    if (abi_type_parse_suffixes(&t, s, pos, depth, e) < 0)
        return -1;
    *out = t;
    return 0;
}

int abi_type_parse(abi_type **out, const char *s, err *e)
{
    size_t pos = 0;
    abi_type *t = NULL;
    skip_ws(s, &pos);
    if (parse_type_at(&t, s, &pos, 0, e) < 0)
        return -1;
    skip_ws(s, &pos);
    if (s[pos] != '\0') {
        abi_type_free(&t);
        return bad(e, s, pos, "unexpected text after the type");
    }
    *out = t;
    return 0;
}

/* ---- canonical form ---- */

static int type_str(buf *b, const abi_type *t, err *e)
{
    char tmp[32];
    switch (t->kind) {
    case ABI_UINT:
        snprintf(tmp, sizeof tmp, "uint%u", t->size);
        return abi_buf_puts(b, tmp, e);
    case ABI_INT:
        snprintf(tmp, sizeof tmp, "int%u", t->size);
        return abi_buf_puts(b, tmp, e);
    case ABI_FIXED_BYTES:
        snprintf(tmp, sizeof tmp, "bytes%u", t->size);
        return abi_buf_puts(b, tmp, e);
    case ABI_ADDRESS:
        return abi_buf_puts(b, "address", e);
    case ABI_BOOL:
        return abi_buf_puts(b, "bool", e);
    case ABI_BYTES:
        return abi_buf_puts(b, "bytes", e);
    case ABI_STRING:
        return abi_buf_puts(b, "string", e);
    case ABI_ARRAY:
    case ABI_DYN_ARRAY:
        if (type_str(b, t->elem, e) < 0)
            return -1;
        if (t->kind == ABI_DYN_ARRAY)
            return abi_buf_puts(b, "[]", e);
        snprintf(tmp, sizeof tmp, "[%zu]", t->length);
        return abi_buf_puts(b, tmp, e);
    case ABI_TUPLE:
        if (abi_buf_puts(b, "(", e) < 0)
            return -1;
        for (size_t i = 0; i < t->n_fields; i++) {
            if (i && abi_buf_puts(b, ",", e) < 0)
                return -1;
            if (type_str(b, t->fields[i], e) < 0)
                return -1;
        }
        return abi_buf_puts(b, ")", e);
    default:
        return err_set(e, ERR_INTERNAL, "no ABI type string for kind %d", (int)t->kind);
    }
}

char *abi_type_str(const abi_type *t)
{
    buf b;
    buf_init(&b);
    if (type_str(&b, t, NULL) < 0 || buf_push(&b, 0, NULL) < 0) {
        buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

int abi_buf_puts(buf *b, const char *s, err *e)
{
    return buf_append(b, s, strlen(s), e);
}
