/* store_entity.h: the desk database's compliance entities: KYC/KYB records, addresses,
 * documents, related parties (store_entity.c). Part of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_ENTITY_H
#define FUSION_STORE_STORE_ENTITY_H

#include "store/store_core.h"

/* ---- compliance entities (store_entity.c) ---- */

#define STORE_ENTITY_NAME_MAX 256
#define STORE_DATE_MAX 11    /* "YYYY-MM-DD" + NUL; "" = none */
#define STORE_OPERATOR_MAX 64
#define STORE_SUBJECT_MAX 48 /* "entity:<id>" or a lowercase address */

/* An individual or company as the registry holds it. Enumerated fields are the text the
 * schema allows (type individual|company, kyc pending|verified|rejected|expired, risk
 * low|medium|high); src/compliance validates them before they get here. */
typedef struct store_entity {
    int64_t id;
    char name[STORE_ENTITY_NAME_MAX]; /* UTF-8, unique */
    char type[16];
    char jurisdiction[3];             /* ISO 3166-1 alpha-2 */
    char kyc[16];
    char kyc_expires[STORE_DATE_MAX];
    int tier;
    char risk[8];
    char review_due[STORE_DATE_MAX];
    bool blocked;
    int64_t created_at, updated_at;
} store_entity;

typedef struct store_entity_link {
    int64_t entity_id;
    uint64_t chain_id;                /* 0: the address on every chain */
    addr address;
} store_entity_link;

typedef struct store_entity_doc {
    int64_t entity_id;
    char doc_type[32];
    uint8_t sha256[32];
    char file_name[256];
    int64_t added_at;
} store_entity_doc;

typedef struct store_related_party {
    int64_t entity_id, party_id;
    char role[32];
} store_related_party;

/* Inserts (id assigned, *id_out may be NULL); ERR_EXISTS when the name is taken. */
int store_entity_add(store *s, const store_entity *x, int64_t *id_out, err *e) STORE_WUR;
/* Rewrites every field of the entity with x->id; ERR_EXISTS on a name clash. */
int store_entity_update(store *s, const store_entity *x, err *e) STORE_WUR;
int store_entity_get(store *s, int64_t id, store_entity *out, bool *found, err *e) STORE_WUR;
int store_entity_find_name(store *s, const char *name, store_entity *out, bool *found,
                           err *e) STORE_WUR;
/* All entities by name; *out malloc'ed. */
int store_entity_list(store *s, store_entity **out, size_t *n, err *e) STORE_WUR;
/* ERR_EXISTS naming the other entity when (chain, address) is linked to another one;
 * linking the same entity again is a no-op. */
int store_entity_link_add(store *s, const store_entity_link *l, err *e) STORE_WUR;
/* The links of one entity (0: of all), *out malloc'ed. */
int store_entity_links(store *s, int64_t entity_id, store_entity_link **out, size_t *n,
                       err *e) STORE_WUR;
/* The entity linked to address on chain_id (or on every chain); *entity_id 0 when none. */
int store_entity_find_addr(store *s, uint64_t chain_id, const addr *a, int64_t *entity_id,
                           err *e) STORE_WUR;
int store_entity_doc_add(store *s, const store_entity_doc *d, err *e) STORE_WUR;
int store_entity_docs(store *s, int64_t entity_id, store_entity_doc **out, size_t *n,
                      err *e) STORE_WUR;
int store_related_party_add(store *s, const store_related_party *p, err *e) STORE_WUR;
int store_related_parties(store *s, int64_t entity_id, store_related_party **out, size_t *n,
                          err *e) STORE_WUR;

#endif
