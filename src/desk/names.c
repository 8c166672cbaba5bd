/* names.c: the desk's address book (see names.h). Small: a desk has tens of entities and
 * operators, so a flat array searched in order is the whole index. */
#include "desk/names.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/text.h"

/* Lower rank wins when one address has several names. */
enum { RANK_ENTITY, RANK_OPERATOR, RANK_KEY };

typedef struct name_entry {
    uint64_t chain_id; /* 0: every chain */
    addr address;
    int rank;
    char name[STORE_ENTITY_NAME_MAX];
} name_entry;

struct desk_names {
    name_entry *v;
    size_t n, cap;
};

static int push(desk_names *b, uint64_t chain_id, const addr *a, int rank, const char *name,
                err *e)
{
    if (!name || !name[0])
        return 0;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        name_entry *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return err_set(e, ERR_NOMEM, "out of memory loading the address book");
        b->v = v;
        b->cap = cap;
    }
    name_entry *x = &b->v[b->n++];
    x->chain_id = chain_id;
    x->address = *a;
    x->rank = rank;
    /* outside text (an entity's name, a key's label) made printable once, here */
    text_safe_str(x->name, sizeof x->name, name);
    return 0;
}

int desk_names_load(desk_names **out, store *s, keystore *ks, err *e)
{
    *out = NULL;
    desk_names *b = calloc(1, sizeof *b);
    if (!b)
        return err_set(e, ERR_NOMEM, "out of memory loading the address book");
    store_entity *ents = NULL;
    store_entity_link *links = NULL;
    store_operator *ops = NULL;
    ks_entry *keys = NULL;
    size_t n_ents = 0, n_links = 0, n_ops = 0, n_keys = 0;
    int rc = store_entity_list(s, &ents, &n_ents, e);
    if (rc == 0)
        rc = store_entity_links(s, 0, &links, &n_links, e);
    for (size_t i = 0; rc == 0 && i < n_links; i++)
        for (size_t k = 0; k < n_ents; k++)
            if (ents[k].id == links[i].entity_id) {
                rc = push(b, links[i].chain_id, &links[i].address, RANK_ENTITY, ents[k].name, e);
                break;
            }
    if (rc == 0)
        rc = store_operator_list(s, &ops, &n_ops, e);
    for (size_t i = 0; rc == 0 && i < n_ops; i++)
        rc = push(b, 0, &ops[i].address, RANK_OPERATOR, ops[i].name, e);
    if (rc == 0 && ks) {
        err ke; /* a key store that cannot be listed only loses the labels */
        if (keystore_list(ks, &keys, &n_keys, &ke) < 0)
            n_keys = 0;
        for (size_t i = 0; rc == 0 && i < n_keys; i++)
            rc = push(b, 0, &keys[i].address, RANK_KEY, keys[i].label, e);
    }
    free(ents);
    free(links);
    free(ops);
    free(keys);
    if (rc < 0) {
        desk_names_free(&b);
        return -1;
    }
    *out = b;
    return 0;
}

void desk_names_free(desk_names **p)
{
    if (!*p)
        return;
    free((*p)->v);
    free(*p);
    *p = NULL;
}

static bool on_chain(const name_entry *x, uint64_t chain_id)
{
    return x->chain_id == 0 || chain_id == 0 || x->chain_id == chain_id;
}

const char *desk_names_of(const desk_names *n, uint64_t chain_id, const addr *a)
{
    const name_entry *best = NULL;
    for (size_t i = 0; n && i < n->n; i++) {
        const name_entry *x = &n->v[i];
        if (on_chain(x, chain_id) && addr_equal(&x->address, a) && (!best || x->rank < best->rank))
            best = x;
    }
    return best ? best->name : NULL;
}

void desk_names_label(char *out, size_t cap, const desk_names *n, uint64_t chain_id,
                      const addr *a)
{
    char hex[ADDR_STR_MAX];
    addr_to_checksum(hex, a);
    const char *name = desk_names_of(n, chain_id, a);
    if (name)
        snprintf(out, cap, "%s %s", name, hex);
    else
        snprintf(out, cap, "%s", hex);
}

int desk_names_resolve(const desk_names *n, uint64_t chain_id, const char *text, addr *out,
                       err *e)
{
    if (strncmp(text, "0x", 2) == 0 || strncmp(text, "0X", 2) == 0)
        return addr_parse(out, text, e);
    const name_entry *found = NULL;
    for (size_t i = 0; n && i < n->n; i++) {
        const name_entry *x = &n->v[i];
        if (!on_chain(x, chain_id) || strcasecmp(x->name, text) != 0)
            continue;
        if (found && !addr_equal(&found->address, &x->address)) {
            char a1[ADDR_STR_MAX], a2[ADDR_STR_MAX];
            addr_to_checksum(a1, &found->address);
            addr_to_checksum(a2, &x->address);
            return err_set(e, ERR_INVALID,
                           "\"%s\" is ambiguous: it names %s and %s; give the address", text, a1,
                           a2);
        }
        found = x;
    }
    if (!found)
        return err_set(e, ERR_NOT_FOUND,
                       "\"%s\" is neither an address nor a name of the desk's entities, "
                       "operators or keys",
                       text);
    *out = found->address;
    return 0;
}

bool desk_names_match(const desk_names *n, uint64_t chain_id, const addr *a, const char *text)
{
    if (!text[0])
        return true;
    for (size_t i = 0; n && i < n->n; i++) {
        const name_entry *x = &n->v[i];
        if (on_chain(x, chain_id) && addr_equal(&x->address, a) && strcasestr(x->name, text))
            return true;
    }
    return false;
}

size_t desk_names_find(const desk_names *n, uint64_t chain_id, const char *text, addr *out)
{
    size_t found = 0;
    for (size_t i = 0; n && text[0] && i < n->n; i++) {
        const name_entry *x = &n->v[i];
        if (!on_chain(x, chain_id) || !strcasestr(x->name, text))
            continue;
        if (found && addr_equal(out, &x->address))
            continue;
        if (found == 0)
            *out = x->address;
        found++;
    }
    return found;
}
