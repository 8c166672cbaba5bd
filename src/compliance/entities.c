/* entities.c: the in-memory entity index behind screen_index_*: (address, chain) ->
 * entity, one hash lookup per probe. A link on chain 0 stands for every chain, so a
 * lookup tries the exact chain first and then chain 0. */
#include <stdlib.h>

#include "compliance/addrmap.h"
#include "compliance/screen.h"

struct screen_index {
    addrmap *map; /* tag = chain id, value = (uintptr_t)const screen_entity * */
};

int screen_index_new(screen_index **out, size_t expected, err *e)
{
    *out = NULL;
    screen_index *idx = calloc(1, sizeof *idx);
    if (!idx)
        return err_set(e, ERR_NOMEM, "out of memory for the entity index");
    if (addrmap_new(&idx->map, expected, e) < 0) {
        free(idx);
        return -1;
    }
    *out = idx;
    return 0;
}

void screen_index_free(screen_index **p)
{
    if (!p || !*p)
        return;
    addrmap_free(&(*p)->map);
    free(*p);
    *p = NULL;
}

int screen_index_add(screen_index *idx, const screen_entity *ent, err *e)
{
    for (size_t i = 0; i < ent->n_links; i++) {
        const screen_link *l = &ent->links[i];
        bool created;
        uint64_t *v = addrmap_upsert(idx->map, &l->address, l->chain_id, &created, e);
        if (!v)
            return -1;
        if (created) {
            *v = (uint64_t)(uintptr_t)ent;
            continue;
        }
        const screen_entity *other = (const screen_entity *)(uintptr_t)*v;
        if (other != ent && other->id != ent->id) {
            char s[ADDR_STR_MAX];
            addr_to_checksum(s, &l->address);
            return err_set(e, ERR_EXISTS,
                           "address %s on chain %llu is linked to entity %lld and %lld: "
                           "unlink one",
                           s, (unsigned long long)l->chain_id, (long long)other->id,
                           (long long)ent->id);
        }
    }
    return 0;
}

const screen_entity *screen_index_lookup(const screen_index *idx, uint64_t chain_id, const addr *a)
{
    const uint64_t *v = addrmap_find(idx->map, a, chain_id);
    if (!v && chain_id != 0)
        v = addrmap_find(idx->map, a, 0);
    return v ? (const screen_entity *)(uintptr_t)*v : NULL;
}

static const screen_entity *index_lookup(void *user, uint64_t chain_id, const addr *a)
{
    return screen_index_lookup(user, chain_id, a);
}

screen_entities screen_index_entities(screen_index *idx)
{
    return (screen_entities){.lookup = index_lookup, .user = idx};
}
