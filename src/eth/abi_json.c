/* abi_json.c: contract interfaces from JSON ABIs, as solc and Foundry write them
 * (a bare array, or an artifact object with an "abi" member); tuples come from
 * "components", event fields carry "indexed". */
#include "eth/abi.h"

#include <stdlib.h>
#include <string.h>

#include "eth/abi_priv.h"

struct abi_json {
    abi_fn **fns;
    size_t n;
};

void abi_json_free(abi_json **p)
{
    if (!p || !*p)
        return;
    for (size_t i = 0; i < (*p)->n; i++)
        abi_fn_free(&(*p)->fns[i]);
    free((*p)->fns);
    free(*p);
    *p = NULL;
}

static int param_type(abi_type **out, json_t *param, unsigned depth, err *e);

/* A tuple of the parameters in arr (NULL: none). */
static int params_tuple(abi_type **out, json_t *arr, bool top, unsigned depth, err *e)
{
    if (depth > ABI_MAX_DEPTH)
        return err_set(e, ERR_INVALID, "JSON ABI parameters nested too deeply");
    if (arr && !json_is_array(arr))
        return err_set(e, ERR_INVALID, "JSON ABI parameter list is not an array");
    abi_type *t = abi_type_alloc(ABI_TUPLE);
    if (!t)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t i;
    json_t *p;
    json_array_foreach(arr, i, p)
    {
        abi_type *f = NULL;
        if (param_type(&f, p, depth + 1, e) < 0) {
            abi_type_free(&t);
            return err_prefix(e, "parameter %zu", i);
        }
        const char *name = json_string_value(json_object_get(p, "name"));
        if (name && *name && !abi_is_identifier(name)) {
            char show[ABI_SHOW_MAX];
            abi_type_free(&f);
            abi_type_free(&t);
            return err_set(e, ERR_INVALID, "JSON ABI parameter name \"%s\" is not an identifier",
                           abi_show(show, name, SIZE_MAX));
        }
        if (abi_tuple_add(t, f, name, name ? strlen(name) : 0, e) < 0) {
            abi_type_free(&t);
            return -1;
        }
    }
    if (abi_type_finish(t, top, e) < 0) {
        abi_type_free(&t);
        return -1;
    }
    *out = t;
    return 0;
}

static int param_type(abi_type **out, json_t *param, unsigned depth, err *e)
{
    const char *ts = json_string_value(json_object_get(param, "type"));
    if (!ts)
        return err_set(e, ERR_INVALID, "JSON ABI parameter without a \"type\" string");
    if (strncmp(ts, "tuple", 5))
        return abi_type_parse(out, ts, e);
    abi_type *t = NULL;
    json_t *comps = json_object_get(param, "components");
    if (!json_is_array(comps))
        return err_set(e, ERR_INVALID, "JSON ABI tuple parameter without \"components\"");
    if (params_tuple(&t, comps, false, depth, e) < 0)
        return -1;
    size_t pos = 5;
    if (abi_type_parse_suffixes(&t, ts, &pos, depth, e) < 0)
        return -1;
    if (ts[pos] != '\0') {
        abi_type_free(&t);
        char show[ABI_SHOW_MAX];
        return err_set(e, ERR_INVALID, "bad JSON ABI type \"%s\"", abi_show(show, ts, SIZE_MAX));
    }
    *out = t;
    return 0;
}

static int entry(abi_fn **out, json_t *o, err *e)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    abi_fn_kind kind;
    if (!type || !strcmp(type, "function"))
        kind = ABI_FN_FUNCTION;
    else if (!strcmp(type, "event"))
        kind = ABI_FN_EVENT;
    else if (!strcmp(type, "error"))
        kind = ABI_FN_ERROR;
    else if (!strcmp(type, "constructor"))
        kind = ABI_FN_CONSTRUCTOR;
    else
        return 0; /* fallback, receive: nothing to encode or decode */
    abi_fn *f = calloc(1, sizeof *f);
    if (!f)
        return err_set(e, ERR_NOMEM, "out of memory");
    f->kind = kind;
    const char *name = json_string_value(json_object_get(o, "name"));
    if (kind == ABI_FN_CONSTRUCTOR)
        name = "constructor";
    if (!name || !*name) {
        err_set(e, ERR_INVALID, "JSON ABI %s without a name",
                kind == ABI_FN_EVENT   ? "event"
                : kind == ABI_FN_ERROR ? "error"
                                       : "function");
        goto fail;
    }
    if (!abi_is_identifier(name)) {
        char show[ABI_SHOW_MAX];
        err_set(e, ERR_INVALID, "JSON ABI name \"%s\" is not an identifier",
                abi_show(show, name, SIZE_MAX));
        goto fail;
    }
    if (!(f->name = strdup(name))) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    json_t *inputs = json_object_get(o, "inputs");
    if (params_tuple(&f->inputs, inputs, true, 0, e) < 0 ||
        (kind == ABI_FN_FUNCTION &&
         params_tuple(&f->outputs, json_object_get(o, "outputs"), true, 0, e) < 0)) {
        err_prefix(e, "%s", name);
        goto fail;
    }
    if (kind == ABI_FN_EVENT) {
        size_t n = f->inputs->n_fields, n_idx = 0;
        f->anonymous = json_is_true(json_object_get(o, "anonymous"));
        f->indexed = calloc(n ? n : 1, sizeof *f->indexed);
        if (!f->indexed) {
            err_set(e, ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            f->indexed[i] = json_is_true(json_object_get(json_array_get(inputs, i), "indexed"));
            n_idx += f->indexed[i];
        }
        if (n_idx > (f->anonymous ? 4u : 3u)) {
            err_set(e, ERR_INVALID, "event %s has %zu indexed parameters", name, n_idx);
            goto fail;
        }
    }
    if (abi_fn_finish(f, e) < 0)
        goto fail;
    *out = f;
    return 1;
fail:
    abi_fn_free(&f);
    return -1;
}

/* Builds the interface from a parsed document; takes the reference to root. */
static int from_root(abi_json **out, json_t *root, err *e)
{
    json_t *arr = json_is_object(root) ? json_object_get(root, "abi") : root;
    abi_json *j = calloc(1, sizeof *j);
    int rc = -1;
    if (!j) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto done;
    }
    if (!json_is_array(arr)) {
        err_set(e, ERR_INVALID, "JSON ABI is neither an array nor an object with \"abi\"");
        goto done;
    }
    j->fns = calloc(json_array_size(arr) + 1, sizeof *j->fns);
    if (!j->fns) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        if (!json_is_object(o)) {
            err_set(e, ERR_INVALID, "JSON ABI entry %zu is not an object", i);
            goto done;
        }
        abi_fn *f = NULL;
        int r = entry(&f, o, e);
        if (r < 0) {
            err_prefix(e, "JSON ABI entry %zu", i);
            goto done;
        }
        if (r > 0)
            j->fns[j->n++] = f;
    }
    *out = j;
    j = NULL;
    rc = 0;
done:
    abi_json_free(&j);
    json_decref(root);
    return rc;
}

int abi_json_parse(abi_json **out, const char *text, size_t len, err *e)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root) {
        char show[ABI_SHOW_MAX];
        return err_set(e, ERR_INVALID, "JSON ABI does not parse: %s (line %d)",
                       abi_show(show, jerr.text, SIZE_MAX), jerr.line);
    }
    return from_root(out, root, e);
}

int abi_json_load(abi_json **out, const char *path, err *e)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    char show[ABI_SHOW_MAX], show2[ABI_SHOW_MAX];
    if (!root)
        return err_set(e, ERR_IO, "cannot read JSON ABI %s: %s", abi_show(show, path, SIZE_MAX),
                       abi_show(show2, jerr.text, SIZE_MAX));
    if (from_root(out, root, e) < 0)
        return err_prefix(e, "%s", abi_show(show, path, SIZE_MAX));
    return 0;
}

size_t abi_json_count(const abi_json *j)
{
    return j->n;
}

const abi_fn *abi_json_at(const abi_json *j, size_t i)
{
    return i < j->n ? j->fns[i] : NULL;
}

static const abi_fn *find(const abi_json *j, abi_fn_kind kind, const char *key)
{
    bool by_sig = strchr(key, '(') != NULL;
    for (size_t i = 0; i < j->n; i++) {
        const abi_fn *f = j->fns[i];
        if (f->kind == kind && !strcmp(by_sig ? f->signature : f->name, key))
            return f;
    }
    return NULL;
}

const abi_fn *abi_json_function(const abi_json *j, const char *name_or_sig)
{
    return find(j, ABI_FN_FUNCTION, name_or_sig);
}

int abi_json_calldata(buf *out, const abi_json *j, const char *fn, const char *args, err *e)
{
    const abi_fn *f = abi_json_function(j, fn);
    if (!f)
        return err_set(e, ERR_NOT_FOUND, "the contract has no function %s", fn);
    abi_value *v = NULL;
    if (abi_value_parse(&v, f->inputs, args ? args : "()", e) < 0)
        return err_prefix(e, "arguments of %s", fn);
    int rc = abi_calldata(out, f, v, e);
    abi_value_free(&v);
    return rc;
}

const abi_fn *abi_json_event(const abi_json *j, const char *name_or_sig)
{
    return find(j, ABI_FN_EVENT, name_or_sig);
}

const abi_fn *abi_json_error(const abi_json *j, const char *name_or_sig)
{
    return find(j, ABI_FN_ERROR, name_or_sig);
}

const abi_fn *abi_json_constructor(const abi_json *j)
{
    for (size_t i = 0; i < j->n; i++)
        if (j->fns[i]->kind == ABI_FN_CONSTRUCTOR)
            return j->fns[i];
    return NULL;
}

const abi_fn *abi_json_event_by_topic(const abi_json *j, const uint8_t topic0[32])
{
    for (size_t i = 0; i < j->n; i++)
        if (j->fns[i]->kind == ABI_FN_EVENT && !j->fns[i]->anonymous &&
            !memcmp(j->fns[i]->topic0, topic0, 32))
            return j->fns[i];
    return NULL;
}

const abi_fn *abi_json_error_by_selector(const abi_json *j, const uint8_t sel[4])
{
    for (size_t i = 0; i < j->n; i++)
        if (j->fns[i]->kind == ABI_FN_ERROR && !memcmp(j->fns[i]->selector, sel, 4))
            return j->fns[i];
    return NULL;
}
