/* addrmap.h: the hash map behind every screening lookup (sanctions set, entity index,
 * flagged addresses, per-payer windows): key = 20-byte address + 64-bit tag, value = 64 bits.
 * Open addressing with linear probing and backward-shift deletion (no tombstones); the
 * hash is SipHash-2-4 (libsodium crypto_shorthash) under a random per-map key, so addresses
 * chosen on chain cannot be ground into collisions. Private to src/compliance. */
#ifndef FUSION_COMPLIANCE_ADDRMAP_H
#define FUSION_COMPLIANCE_ADDRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/address.h"

typedef struct addrmap addrmap;

/* A map sized for about `expected` keys (it grows as needed). */
int addrmap_new(addrmap **out, size_t expected, err *e) __attribute__((warn_unused_result));
void addrmap_free(addrmap **p);
size_t addrmap_count(const addrmap *m);

/* The value slot of (a, tag), or NULL. Valid until the next insert or remove. */
uint64_t *addrmap_find(const addrmap *m, const addr *a, uint64_t tag);
/* The value slot of (a, tag), created zeroed when absent (*created says which); NULL
 * when out of memory. Valid until the next insert or remove. */
uint64_t *addrmap_upsert(addrmap *m, const addr *a, uint64_t tag, bool *created, err *e)
    __attribute__((warn_unused_result));
/* Removes (a, tag); false when it was not there. */
bool addrmap_remove(addrmap *m, const addr *a, uint64_t tag);

/* Slot-level walk for sweeps and teardown: slots 0..capacity-1; addrmap_slot fills the
 * key and value of an occupied slot and returns false for an empty one. */
size_t addrmap_capacity(const addrmap *m);
bool addrmap_slot(const addrmap *m, size_t i, addr *a, uint64_t *tag, uint64_t *value);
/* Removes the entry in slot i (which must be occupied); entries after it may move back. */
void addrmap_remove_slot(addrmap *m, size_t i);

#endif
