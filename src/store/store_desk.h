/* store_desk.h: the desk database's desk operators and outbound metadata (store_desk.c). Part
 * of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_DESK_H
#define FUSION_STORE_STORE_DESK_H

#include "store/store_core.h"
#include "store/store_chain.h"
#include "store/store_outbound.h"

/* ---- desk: operators and outbound metadata (store_desk.c) ---- */

#define STORE_ROLES_MAX 64

typedef struct store_operator {
    char name[STORE_NAME_MAX];
    addr address;
    char roles[STORE_ROLES_MAX];  /* "trader,approver" */
    int64_t created_at;
} store_operator;

/* Inserts an operator; ERR_EXISTS when the name is taken. */
int store_operator_add(store *s, const store_operator *o, err *e) STORE_WUR;
int store_operator_get(store *s, const char *name, store_operator *out, bool *found,
                       err *e) STORE_WUR;
/* Replaces an operator's roles; *found false when there is no such operator. */
int store_operator_set_roles(store *s, const char *name, const char *roles, bool *found,
                             err *e) STORE_WUR;
/* Deletes an operator (their past rows keep their name); *found false when there is none. */
int store_operator_remove(store *s, const char *name, bool *found, err *e) STORE_WUR;
/* All operators by name; *out malloc'ed. */
int store_operator_list(store *s, store_operator **out, size_t *n, err *e) STORE_WUR;

/* One outbound transaction with its raw bytes (*raw malloc'ed, free it). */
int store_outbound_get(store *s, int64_t id, store_outbound *out, uint8_t **raw, bool *found,
                       err *e) STORE_WUR;
/* By chain and hash; *found false when absent. raw not loaded. */
int store_outbound_find_hash(store *s, uint64_t chain_id, const uint8_t hash[32],
                             store_outbound *out, bool *found, err *e) STORE_WUR;
/* The next nonce after the sender's outbound transactions still in flight
 * (pending or sent); *any false when there are none. */
int store_outbound_next_nonce(store *s, uint64_t chain_id, const addr *from, uint64_t *next,
                              bool *any, err *e) STORE_WUR;
/* Other rows of the same sender and nonce than `id` that are not failed (a replacement
 * or the transaction it replaced); *n how many. */
int store_outbound_siblings(store *s, int64_t id, size_t *n, err *e) STORE_WUR;
/* Marks the in-flight rows sharing `id`'s sender and nonce as replaced. */
int store_outbound_mark_replaced(store *s, int64_t id, err *e) STORE_WUR;
/* Records the escrow a transaction turned out to be about (a create, once mined). */
int store_outbound_set_escrow(store *s, int64_t id, const addr *escrow, err *e) STORE_WUR;
/* Ids of transactions not final yet (pending, sent, or mined but not at the confirmation
 * depth) of a chain (0: all), oldest first. */
int store_outbound_in_flight(store *s, uint64_t chain_id, int64_t **ids, size_t *n,
                             err *e) STORE_WUR;

typedef struct store_desk_tx {
    int64_t outbound_id;
    char operator_name[STORE_NAME_MAX];
    addr asset;
    u256 amount;
    char *summary;               /* JSON text, malloc'ed on reads (may be NULL) */
    char error[256];
} store_desk_tx;

int store_desk_tx_put(store *s, const store_desk_tx *d, err *e) STORE_WUR;
/* *found false when the transaction has no desk row; free out->summary. */
int store_desk_tx_get(store *s, int64_t outbound_id, store_desk_tx *out, bool *found,
                      err *e) STORE_WUR;
int store_desk_tx_set_error(store *s, int64_t outbound_id, const char *error, err *e) STORE_WUR;
/* Sum of amounts of `action` rows of an operator in one asset created since `since`,
 * leaving out failed, dropped and replaced transactions (velocity limits), and the rows
 * sharing except_id's sender and nonce (the transaction being re-sent or replaced, and
 * its other versions; 0: none). */
int store_desk_spent(store *s, const char *operator_name, uint64_t chain_id, const addr *asset,
                     const char *action, int64_t since, int64_t except_id, u256 *sum,
                     err *e) STORE_WUR;
/* The desk operator who sent `action` (e.g. "create") about an escrow; *found false if none. */
int store_desk_actor(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                     char *operator_name, size_t cap, bool *found, err *e) STORE_WUR;

#endif
