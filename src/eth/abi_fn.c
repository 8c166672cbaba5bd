/* abi_fn.c: functions, events and errors: declarations, canonical signatures,
 * selectors and topics, calldata and event log decoding (revert data: abi_revert.c). */
#include "eth/abi.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "eth/abi_priv.h"

void abi_fn_free(abi_fn **p)
{
    if (!p || !*p)
        return;
    abi_fn *f = *p;
    free(f->name);
    abi_type_free(&f->inputs);
    abi_type_free(&f->outputs);
    free(f->indexed);
    free(f->signature);
    free(f);
    *p = NULL;
}

int abi_fn_finish(abi_fn *f, err *e)
{
    if (!f->outputs) {
        f->outputs = abi_type_alloc(ABI_TUPLE);
        if (!f->outputs || abi_type_finish(f->outputs, true, e) < 0)
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    char *params = abi_type_str(f->inputs);
    if (!params)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t n = strlen(f->name) + strlen(params) + 1;
    free(f->signature);
    f->signature = malloc(n);
    if (!f->signature) {
        free(params);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    snprintf(f->signature, n, "%s%s", f->name, params);
    free(params);
    keccak256(f->topic0, f->signature, strlen(f->signature));
    memcpy(f->selector, f->topic0, 4);
    return 0;
}

static void skip_ws(const char *s, size_t *pos)
{
    while (isspace((unsigned char)s[*pos]))
        (*pos)++;
}

/* The identifier at s[*pos] (possibly empty). */
static size_t ident(const char *s, size_t *pos)
{
    size_t a = *pos;
    if (isalpha((unsigned char)s[a]) || s[a] == '_' || s[a] == '$')
        while (isalnum((unsigned char)s[*pos]) || s[*pos] == '_' || s[*pos] == '$')
            (*pos)++;
    return *pos - a;
}

static bool word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && !memcmp(w, lit, n);
}

int abi_fn_parse(abi_fn **out, abi_fn_kind kind, const char *decl, err *e)
{
    static const char *const keywords[] = {"function", "event", "error", "constructor"};
    abi_fn *f = calloc(1, sizeof *f);
    size_t pos = 0, w, wl;
    if (!f)
        return err_set(e, ERR_NOMEM, "out of memory");
    f->kind = kind;
    skip_ws(decl, &pos);
    w = pos;
    wl = ident(decl, &pos);
    if (wl && word_is(decl + w, wl, keywords[kind]) && kind != ABI_FN_CONSTRUCTOR &&
        isspace((unsigned char)decl[pos])) {
        skip_ws(decl, &pos);
        w = pos;
        wl = ident(decl, &pos);
    }
    if (kind == ABI_FN_CONSTRUCTOR) {
        if (wl && !word_is(decl + w, wl, "constructor")) {
            err_set(e, ERR_INVALID, "a constructor declaration starts with \"constructor(\"");
            goto fail;
        }
        w = pos, wl = 0;
        f->name = strdup("constructor");
    } else {
        if (wl == 0) {
            char show[ABI_SHOW_MAX];
            err_set(e, ERR_INVALID, "declaration \"%s\" does not start with a name",
                    abi_show(show, decl, SIZE_MAX));
            goto fail;
        }
        f->name = strndup(decl + w, wl);
    }
    if (!f->name) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    skip_ws(decl, &pos);
    if (abi_params_parse(&f->inputs, kind == ABI_FN_EVENT ? &f->indexed : NULL, decl, &pos, 0, e) <
        0)
        goto fail;
    for (;;) {
        skip_ws(decl, &pos);
        if (decl[pos] == '\0')
            break;
        if (decl[pos] == '(' && kind == ABI_FN_FUNCTION && !f->outputs) {
            if (abi_params_parse(&f->outputs, NULL, decl, &pos, 0, e) < 0)
                goto fail;
            continue;
        }
        w = pos;
        wl = ident(decl, &pos);
        const char *word = decl + w;
        if (kind == ABI_FN_EVENT && word_is(word, wl, "anonymous")) {
            f->anonymous = true;
        } else if (kind == ABI_FN_FUNCTION &&
                   (word_is(word, wl, "external") || word_is(word, wl, "public") ||
                    word_is(word, wl, "view") || word_is(word, wl, "pure") ||
                    word_is(word, wl, "payable") || word_is(word, wl, "nonpayable") ||
                    word_is(word, wl, "returns"))) {
            continue;
        } else {
            char show[ABI_SHOW_MAX];
            err_set(e, ERR_INVALID, "unexpected text at position %zu of \"%s\"", w,
                    abi_show(show, decl, SIZE_MAX));
            goto fail;
        }
    }
    if (kind == ABI_FN_EVENT && f->inputs->n_fields > 0) {
        size_t n_idx = 0;
        for (size_t i = 0; i < f->inputs->n_fields; i++)
            n_idx += f->indexed[i];
        if (n_idx > (f->anonymous ? 4u : 3u)) {
            err_set(e, ERR_INVALID, "event %s has %zu indexed parameters, at most %u allowed",
                    f->name, n_idx, f->anonymous ? 4u : 3u);
            goto fail;
        }
    }
    if (abi_fn_finish(f, e) < 0)
        goto fail;
    *out = f;
    return 0;
fail:
    abi_fn_free(&f);
    return -1;
}

int abi_selector(uint8_t out[4], const char *sig, err *e)
{
    abi_fn *f = NULL;
    if (abi_fn_parse(&f, ABI_FN_FUNCTION, sig, e) < 0)
        return -1;
    memcpy(out, f->selector, 4);
    abi_fn_free(&f);
    return 0;
}

int abi_event_topic(uint8_t out[32], const char *sig, err *e)
{
    abi_fn *f = NULL;
    if (abi_fn_parse(&f, ABI_FN_EVENT, sig, e) < 0)
        return -1;
    memcpy(out, f->topic0, 32);
    abi_fn_free(&f);
    return 0;
}

int abi_calldata(buf *out, const abi_fn *fn, const abi_value *args, err *e)
{
    size_t mark = out->len;
    if (buf_append(out, fn->selector, 4, e) < 0)
        return -1;
    if (abi_encode(out, fn->inputs, args, e) < 0) {
        out->len = mark;
        return err_prefix(e, "arguments of %s", fn->signature);
    }
    return 0;
}

int abi_calldata_decode(abi_value **args, const abi_fn *fn, const uint8_t *data, size_t len, err *e)
{
    if (len < 4)
        return err_set(e, ERR_INVALID, "calldata of %zu bytes has no selector", len);
    if (memcmp(data, fn->selector, 4))
        return err_set(e, ERR_INVALID, "calldata selector 0x%02x%02x%02x%02x is not %s", data[0],
                       data[1], data[2], data[3], fn->signature);
    if (abi_decode(args, fn->inputs, data + 4, len - 4, e) < 0)
        return err_prefix(e, "arguments of %s", fn->signature);
    return 0;
}

/* ---- events ---- */

/* The in-place encoding of indexed compound values (abi-spec "Encoding of Indexed
 * Event Parameters"): no lengths, everything nested padded to 32 bytes. */
static int enc_indexed(buf *b, const abi_type *t, const abi_value *v, bool nested, err *e)
{
    static const uint8_t zero[32];
    uint8_t w[32];
    switch (t->kind) {
    case ABI_BYTES:
    case ABI_STRING:
        if (v->kind != t->kind)
            return err_set(e, ERR_INVALID, "value does not match the %s type",
                           t->kind == ABI_BYTES ? "bytes" : "string");
        if (buf_append(b, v->data.data, v->data.len, e) < 0)
            return -1;
        return nested ? buf_append(b, zero, (32 - v->data.len % 32) % 32, e) : 0;
    case ABI_ARRAY:
    case ABI_DYN_ARRAY:
    case ABI_TUPLE: {
        bool tuple = t->kind == ABI_TUPLE;
        if (tuple ? v->kind != ABI_TUPLE : (v->kind != ABI_ARRAY && v->kind != ABI_DYN_ARRAY))
            return err_set(e, ERR_INVALID, "value does not match its compound type");
        size_t want = tuple ? t->n_fields : t->length;
        if ((tuple || t->kind == ABI_ARRAY) && v->n_items != want)
            return err_set(e, ERR_INVALID, "compound value has %zu items, %zu expected", v->n_items,
                           want);
        for (size_t i = 0; i < v->n_items; i++)
            if (enc_indexed(b, tuple ? t->fields[i] : t->elem, v->items[i], true, e) < 0)
                return -1;
        return 0;
    }
    default:
        if (abi_value_word(w, t, v, e) < 0)
            return -1;
        return buf_append(b, w, 32, e);
    }
}

int abi_topic_of(uint8_t out[32], const abi_type *t, const abi_value *v, err *e)
{
    if (abi_is_value_type(t))
        return abi_value_word(out, t, v, e);
    buf b;
    buf_init(&b);
    if (enc_indexed(&b, t, v, false, e) < 0) {
        buf_free(&b);
        return -1;
    }
    keccak256(out, b.data, b.len);
    buf_free(&b);
    return 0;
}

int abi_event_decode(abi_value **out, const abi_fn *ev, const uint8_t *topics, size_t n_topics,
                     const uint8_t *data, size_t len, err *e)
{
    if (ev->kind != ABI_FN_EVENT)
        return err_set(e, ERR_INVALID, "%s is not an event", ev->signature);
    const abi_type *in = ev->inputs;
    size_t n_idx = 0, first = ev->anonymous ? 0 : 1;
    for (size_t i = 0; i < in->n_fields; i++)
        n_idx += ev->indexed[i];
    if (!ev->anonymous && (n_topics == 0 || memcmp(topics, ev->topic0, 32)))
        return err_set(e, ERR_INVALID, "log topic0 is not the topic of %s", ev->signature);
    if (n_topics != first + n_idx)
        return err_set(e, ERR_INVALID, "log has %zu topics, %s needs %zu", n_topics, ev->signature,
                       first + n_idx);
    /* the non-indexed inputs, as a tuple type borrowing the event's field types */
    abi_type data_t = {.kind = ABI_TUPLE};
    abi_value *res = abi_value_new(ABI_TUPLE), *dv = NULL;
    int rc = -1;
    if (!res)
        return err_set(e, ERR_NOMEM, "out of memory");
    data_t.fields = calloc(in->n_fields ? in->n_fields : 1, sizeof *data_t.fields);
    if (!data_t.fields) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < in->n_fields; i++)
        if (!ev->indexed[i])
            data_t.fields[data_t.n_fields++] = in->fields[i];
    if (abi_type_finish(&data_t, true, e) < 0)
        goto done;
    if (abi_decode(&dv, &data_t, data, len, e) < 0) {
        err_prefix(e, "data of %s", ev->signature);
        goto done;
    }
    size_t ti = first, di = 0;
    for (size_t i = 0; i < in->n_fields; i++) {
        abi_value *item;
        if (!ev->indexed[i]) {
            item = dv->items[di];
            dv->items[di++] = NULL;
        } else if (abi_is_value_type(in->fields[i])) {
            if (abi_word_decode(&item, in->fields[i], topics + 32 * ti++, e) < 0) {
                err_prefix(e, "topic %zu of %s", ti - 1, ev->signature);
                goto done;
            }
        } else {
            item = abi_value_new(ABI_TOPIC_HASH);
            if (item)
                memcpy(item->word, topics + 32 * ti++, 32);
        }
        if (abi_value_push(res, item, e) < 0)
            goto done;
    }
    *out = res;
    res = NULL;
    rc = 0;
done:
    abi_value_free(&dv);
    abi_value_free(&res);
    free(data_t.fields);
    return rc;
}
