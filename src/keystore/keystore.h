/* keystore.h: the local encrypted key store of a desk (<home>/keys/, one file per key,
 * Argon2id + XChaCha20-Poly1305; see docs/keys.md). Keys are unlocked into guarded
 * memory for a limited idle time; every signature made through a key appends a row to
 * the desk's audit log. Import and export of the Ethereum keystore v3 JSON format. */
#ifndef FUSION_KEYSTORE_KEYSTORE_H
#define FUSION_KEYSTORE_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/address.h"

#define KS_LABEL_MAX 64    /* bytes of UTF-8 */
#define KS_CREATED_LEN 20  /* "2026-01-31T12:00:00Z" */
#define KS_DIR "keys"
#define KS_IDLE_DEFAULT 300 /* seconds before an unused unlocked key locks itself */

/* Cost of the key derivations used for files written from now on. Argon2id limits go
 * into our key files; scrypt's N = 2^scrypt_log_n (r = 8, p = 1) into exported v3 files. */
typedef struct ks_params {
    uint64_t opslimit;
    uint64_t memlimit; /* bytes */
    unsigned scrypt_log_n;
} ks_params;

typedef enum { KS_LEVEL_INTERACTIVE, KS_LEVEL_MODERATE, KS_LEVEL_SENSITIVE } ks_level;

/* libsodium's INTERACTIVE / MODERATE / SENSITIVE Argon2id limits; scrypt 2^14 for
 * interactive, 2^18 (geth's standard) otherwise. */
ks_params keystore_params_level(ks_level level);
/* Parses "interactive", "moderate" or "sensitive". */
int keystore_level_parse(ks_level *out, const char *s, err *e) __attribute__((warn_unused_result));

/* What can be read from a key file without the passphrase. */
typedef struct ks_entry {
    addr address;
    char label[KS_LABEL_MAX + 1];
    char created[KS_CREATED_LEN + 1];
    uint64_t opslimit;
    uint64_t memlimit;
} ks_entry;

typedef struct keystore keystore;
typedef struct ks_key ks_key;

/* Opens the store of a desk home (nothing is created until a key is written). The
 * operator name goes into the audit rows. Default parameters: MODERATE. */
int keystore_open(keystore **out, const char *home, const char *operator_name, err *e)
    __attribute__((warn_unused_result));
/* Locks and frees every key handle of the store, then the store. */
void keystore_free(keystore **ks);
void keystore_set_params(keystore *ks, const ks_params *params);
void keystore_set_idle_timeout(keystore *ks, unsigned seconds);
/* Replaces the monotonic millisecond clock used for the idle timeout (tests). */
void keystore_set_clock(keystore *ks, uint64_t (*now_ms)(void *ctx), void *ctx);

/* Entries sorted by address; *out is malloc'd (free it), NULL when there are none. */
int keystore_list(keystore *ks, ks_entry **out, size_t *count, err *e)
    __attribute__((warn_unused_result));
int keystore_get(keystore *ks, const addr *a, ks_entry *out, err *e)
    __attribute__((warn_unused_result));
/* The addresses of home's keys (the desk's accounts, as the risk report counts them),
 * sorted; *out malloc'd (free it), NULL when there are none. */
int keystore_addresses(const char *home, addr **out, size_t *count, err *e)
    __attribute__((warn_unused_result));

/* New key from libsodium's randomness. Empty passphrases are refused. */
int keystore_create(keystore *ks, const char *label, const char *passphrase, addr *out, err *e)
    __attribute__((warn_unused_result));
/* Stores an existing secret (which stays the caller's to wipe). */
int keystore_import_raw(keystore *ks, const uint8_t sk[32], const char *label,
                        const char *passphrase, addr *out, err *e)
    __attribute__((warn_unused_result));
/* Imports keystore v3 JSON decrypted with v3_passphrase and re-sealed with passphrase. */
int keystore_import_v3(keystore *ks, const char *json, size_t len, const char *v3_passphrase,
                       const char *label, const char *passphrase, addr *out, err *e)
    __attribute__((warn_unused_result));
/* Writes the key as keystore v3 JSON (scrypt, AES-128-CTR) to a new file out_path. */
int keystore_export_v3(keystore *ks, const addr *a, const char *passphrase,
                       const char *v3_passphrase, const char *out_path, err *e)
    __attribute__((warn_unused_result));
/* Re-seals a key under a new passphrase and the store's current parameters (this is also
 * how the parameters of an old file are raised). */
int keystore_passwd(keystore *ks, const addr *a, const char *old_passphrase,
                    const char *new_passphrase, err *e) __attribute__((warn_unused_result));
/* Deletes a key file (the caller has asked for confirmation). */
int keystore_remove(keystore *ks, const addr *a, err *e) __attribute__((warn_unused_result));

/* Unlocks a key: the secret moves to sodium_malloc memory that is inaccessible except
 * while signing. Core dumps are off while any key of the process is unlocked. */
int keystore_unlock(keystore *ks, const addr *a, const char *passphrase, ks_key **out, err *e)
    __attribute__((warn_unused_result));
/* The same, with the unlock's audit row in the name of operator_name (NULL: the store's
 * operator): the UI signing in as another operator. */
int keystore_unlock_as(keystore *ks, const addr *a, const char *passphrase,
                       const char *operator_name, ks_key **out, err *e)
    __attribute__((warn_unused_result));
/* Wipes and frees the handle; *k becomes NULL. */
void keystore_lock(ks_key **k);
/* False once the key was locked by the idle timeout (the handle stays valid). */
bool keystore_key_unlocked(ks_key *k);
const addr *keystore_key_address(const ks_key *k);
/* Locks every key idle for longer than the timeout; the UI loop calls it on its timer. */
void keystore_tick(keystore *ks);

/* EIP-191 personal_sign: r || s || v (v = 27/28). Appends an audit row before returning
 * the signature; when the row cannot be written no signature is returned. */
int keystore_sign_message(ks_key *k, uint8_t sig65[65], const void *msg, size_t len, err *e)
    __attribute__((warn_unused_result));

/* Signs an EIP-712 digest (r || s || v, v = 27/28) without an audit row of its own: the
 * caller records the signed statement (the audit module's decision rows). */
int keystore_sign_typed(ks_key *k, uint8_t sig65[65], const uint8_t digest[32], err *e)
    __attribute__((warn_unused_result));

struct eth_tx;
/* Signs tx (filling its signature fields), appends the raw signed encoding to raw_out and
 * an audit row (key, chain, nonce, to, value, transaction hash). */
int keystore_sign_tx(ks_key *k, struct eth_tx *tx, buf *raw_out, err *e)
    __attribute__((warn_unused_result));

#endif
