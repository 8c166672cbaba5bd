/* addrmap.c: open-addressing hash map for (address, tag) keys; see addrmap.h.
 * A control byte per slot (0 = empty, else 0x80 | 7 hash bits) lets a probe skip most
 * non-matching slots without touching the 40-byte slot itself. */
#include "compliance/addrmap.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint8_t a[ADDR_LEN];
    uint32_t hash; /* low 32 bits of the key's hash: its home slot, kept for moves */
    uint64_t tag;
    uint64_t value;
} slot;

struct addrmap {
    uint8_t *ctrl;
    slot *slots;
    size_t cap; /* power of two */
    size_t count;
    uint8_t key[crypto_shorthash_KEYBYTES];
};

#define MIN_CAP 16u
#define MAX_CAP ((size_t)1 << 31)

static uint64_t key_hash(const addrmap *m, const addr *a, uint64_t tag)
{
    uint8_t in[ADDR_LEN + 8];
    memcpy(in, a->b, ADDR_LEN);
    for (int i = 0; i < 8; i++)
        in[ADDR_LEN + i] = (uint8_t)(tag >> (8 * i));
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, in, sizeof in, m->key);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h |= (uint64_t)out[i] << (8 * i);
    return h;
}

static uint8_t ctrl_of(uint64_t h)
{
    return (uint8_t)(0x80u | (h >> 57));
}

static int alloc_table(addrmap *m, size_t cap, err *e)
{
    m->ctrl = calloc(cap, 1);
    m->slots = malloc(cap * sizeof *m->slots);
    if (!m->ctrl || !m->slots) {
        free(m->ctrl);
        free(m->slots);
        m->ctrl = NULL;
        m->slots = NULL;
        return err_set(e, ERR_NOMEM, "out of memory for an address table of %zu slots", cap);
    }
    m->cap = cap;
    return 0;
}

int addrmap_new(addrmap **out, size_t expected, err *e)
{
    *out = NULL;
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    if (expected > MAX_CAP / 2)
        return err_set(e, ERR_OVERFLOW, "address table for %zu keys is too large", expected);
    size_t cap = MIN_CAP;
    while (cap * 7 < expected * 10)
        cap *= 2;
    addrmap *m = calloc(1, sizeof *m);
    if (!m)
        return err_set(e, ERR_NOMEM, "out of memory for an address table");
    if (alloc_table(m, cap, e) < 0) {
        free(m);
        return -1;
    }
    crypto_shorthash_keygen(m->key);
    *out = m;
    return 0;
}

void addrmap_free(addrmap **p)
{
    if (!p || !*p)
        return;
    free((*p)->ctrl);
    free((*p)->slots);
    free(*p);
    *p = NULL;
}

size_t addrmap_count(const addrmap *m)
{
    return m->count;
}

size_t addrmap_capacity(const addrmap *m)
{
    return m->cap;
}

/* Slot index of the key, or the empty slot where it would go (*found says which). */
static size_t probe(const addrmap *m, const addr *a, uint64_t tag, uint64_t h, bool *found)
{
    size_t mask = m->cap - 1;
    uint8_t c = ctrl_of(h);
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        if (m->ctrl[i] == 0) {
            *found = false;
            return i;
        }
        if (m->ctrl[i] == c && m->slots[i].tag == tag &&
            memcmp(m->slots[i].a, a->b, ADDR_LEN) == 0) {
            *found = true;
            return i;
        }
    }
}

uint64_t *addrmap_find(const addrmap *m, const addr *a, uint64_t tag)
{
    bool found;
    size_t i = probe(m, a, tag, key_hash(m, a, tag), &found);
    return found ? &m->slots[i].value : NULL;
}

static int grow(addrmap *m, err *e)
{
    if (m->cap >= MAX_CAP)
        return err_set(e, ERR_OVERFLOW, "address table is full (%zu keys)", m->count);
    uint8_t *old_ctrl = m->ctrl;
    slot *old_slots = m->slots;
    size_t old_cap = m->cap;
    if (alloc_table(m, old_cap * 2, e) < 0) {
        m->ctrl = old_ctrl;
        m->slots = old_slots;
        m->cap = old_cap;
        return -1;
    }
    size_t mask = m->cap - 1;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old_ctrl[i])
            continue;
        size_t j = old_slots[i].hash & mask;
        while (m->ctrl[j])
            j = (j + 1) & mask;
        m->ctrl[j] = old_ctrl[i];
        m->slots[j] = old_slots[i];
    }
    free(old_ctrl);
    free(old_slots);
    return 0;
}

uint64_t *addrmap_upsert(addrmap *m, const addr *a, uint64_t tag, bool *created, err *e)
{
    uint64_t h = key_hash(m, a, tag);
    bool found;
    size_t i = probe(m, a, tag, h, &found);
    if (found) {
        if (created)
            *created = false;
        return &m->slots[i].value;
    }
    if ((m->count + 1) * 10 > m->cap * 7) {
        if (grow(m, e) < 0)
            return NULL;
        i = probe(m, a, tag, h, &found);
    }
    m->ctrl[i] = ctrl_of(h);
    memcpy(m->slots[i].a, a->b, ADDR_LEN);
    m->slots[i].hash = (uint32_t)h;
    m->slots[i].tag = tag;
    m->slots[i].value = 0;
    m->count++;
    if (created)
        *created = true;
    return &m->slots[i].value;
}

void addrmap_remove_slot(addrmap *m, size_t i)
{
    size_t mask = m->cap - 1;
    /* Backward shift: pull later members of the probe run into the hole as long as
     * that does not move them in front of their home slot. */
    for (size_t j = (i + 1) & mask; m->ctrl[j]; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        /* The entry at j may fill the hole at i unless its home lies cyclically in (i, j]. */
        bool home_after_hole = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (home_after_hole)
            continue;
        m->ctrl[i] = m->ctrl[j];
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->ctrl[i] = 0;
    m->count--;
}

bool addrmap_remove(addrmap *m, const addr *a, uint64_t tag)
{
    bool found;
    size_t i = probe(m, a, tag, key_hash(m, a, tag), &found);
    if (!found)
        return false;
    addrmap_remove_slot(m, i);
    return true;
}

bool addrmap_slot(const addrmap *m, size_t i, addr *a, uint64_t *tag, uint64_t *value)
{
    if (i >= m->cap || !m->ctrl[i])
        return false;
    if (a)
        memcpy(a->b, m->slots[i].a, ADDR_LEN);
    if (tag)
        *tag = m->slots[i].tag;
    if (value)
        *value = m->slots[i].value;
    return true;
}
