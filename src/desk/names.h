/* names.h: the desk's one address book. Entities (their linked addresses), operators
 * (their signing keys) and the labels of the key store's keys, so that every interface
 * shows a name where it shows an address, and takes a name where it takes an address.
 * An entity's name wins over an operator's, an operator's over a key's label. */
#ifndef FUSION_DESK_NAMES_H
#define FUSION_DESK_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/err.h"
#include "crypto/address.h"
#include "keystore/keystore.h"
#include "store/store.h"

typedef struct desk_names desk_names;

/* Loads the book from the desk database and (ks may be NULL) the key store's labels. */
int desk_names_load(desk_names **out, store *s, keystore *ks, err *e) FUSION_WUR;
void desk_names_free(desk_names **p);
/* The name of address a on chain_id (links for every chain count too); NULL when none. */
const char *desk_names_of(const desk_names *n, uint64_t chain_id, const addr *a);
/* "Northwind 0xAbC...": the name (if any) then the checksummed address. */
void desk_names_label(char *out, size_t cap, const desk_names *n, uint64_t chain_id,
                      const addr *a);
/* An address, or a name of the book (case-insensitive, exact) on chain_id: ERR_NOT_FOUND
 * when no entry has it, ERR_INVALID when two addresses answer to it (both named). */
int desk_names_resolve(const desk_names *n, uint64_t chain_id, const char *text, addr *out,
                       err *e) FUSION_WUR;
/* How many addresses have a name containing text (case-insensitive); *out the first. */
size_t desk_names_find(const desk_names *n, uint64_t chain_id, const char *text, addr *out);
/* Whether text matches (case-insensitive substring) a name of address a. */
bool desk_names_match(const desk_names *n, uint64_t chain_id, const addr *a, const char *text);

#endif
