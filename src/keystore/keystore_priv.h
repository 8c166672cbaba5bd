/* keystore_priv.h (module-private): the store and key-handle structures shared by
 * keystore.c and the signing files, and the helpers they use. */
#ifndef FUSION_KEYSTORE_PRIV_H
#define FUSION_KEYSTORE_PRIV_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "keystore/keystore.h"

/* Suffix of a key file staged until its audit row is written (keystore.c). */
#define KS_PENDING ".pending"

struct keystore {
    char home[4096];
    char dir[4200];
    char *operator_name;
    ks_params params;
    unsigned idle_s;
    uint64_t (*now_ms)(void *ctx);
    void *clock_ctx;
    pthread_mutex_t mu; /* guards keys and every handle's secret */
    ks_key *keys;
};

struct ks_key {
    keystore *ks;
    addr address;
    uint8_t *sk; /* sodium_malloc(32); no access except inside ks_with_secret; NULL: locked */
    uint64_t last_use_ms;
    char operator_name[64]; /* who unlocked it (keystore_unlock_as); "": the store's */
    ks_key *next;
};

typedef int (*ks_secret_fn)(void *ctx, const uint8_t sk[32], err *e);

/* Runs fn with the secret readable (idle check first; ERR_STATE when locked). */
int ks_with_secret(ks_key *k, ks_secret_fn fn, void *ctx, err *e)
    __attribute__((warn_unused_result));
/* Appends an audit row in the name of whoever unlocked k (else the store's operator);
 * takes ownership of details. */
int ks_audit_key(ks_key *k, const char *action, json_t *details, err *e)
    __attribute__((warn_unused_result));
/* Appends an audit row for the store's operator; takes ownership of details. */
int ks_audit(keystore *ks, const char *action, json_t *details, err *e)
    __attribute__((warn_unused_result));
/* The EIP-55 text of an address as a new JSON string. */
json_t *ks_addr_json(const addr *a);

#endif
