/* keyfile.h (module-private): the key file format, version 1. Pure functions: render
 * and strictly parse the canonical JSON text, derive the sealing key with Argon2id,
 * seal and open the secret with XChaCha20-Poly1305. Every field of the file is
 * authenticated (additional data), and the parser accepts only the exact bytes that
 * keyfile_render produces, so any changed byte is rejected. */
#ifndef FUSION_KEYSTORE_KEYFILE_H
#define FUSION_KEYSTORE_KEYFILE_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/address.h"
#include "keystore/keystore.h"

#define KEYFILE_VERSION 1
#define KEYFILE_MAX 16384 /* larger files are refused unread */
#define KEYFILE_KDF "argon2id"
#define KEYFILE_CIPHER "xchacha20poly1305-ietf"
#define KEYFILE_SALT_LEN crypto_pwhash_SALTBYTES
#define KEYFILE_NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define KEYFILE_CT_LEN (32 + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define KEYFILE_KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES

/* Bounds for stored Argon2id parameters: a file asking for more is refused before any
 * derivation (a tampered file must not make us allocate terabytes). */
#define KEYFILE_OPSLIMIT_MIN crypto_pwhash_OPSLIMIT_MIN
#define KEYFILE_OPSLIMIT_MAX 32ULL
#define KEYFILE_MEMLIMIT_MIN crypto_pwhash_MEMLIMIT_MIN
#define KEYFILE_MEMLIMIT_MAX (4ULL << 30)

typedef struct keyfile {
    addr address;
    char label[KS_LABEL_MAX + 1];
    char created[KS_CREATED_LEN + 1];
    uint64_t opslimit;
    uint64_t memlimit;
    uint8_t salt[KEYFILE_SALT_LEN];
    uint8_t nonce[KEYFILE_NONCE_LEN];
    uint8_t ct[KEYFILE_CT_LEN];
} keyfile;

/* Labels: at most KS_LABEL_MAX bytes of UTF-8, no control characters (C0, DEL, C1) and
 * no bidirectional overrides, so a label cannot disguise itself on a terminal. */
int keyfile_label_check(const char *label, err *e) __attribute__((warn_unused_result));
/* "YYYY-MM-DDTHH:MM:SSZ" of now (UTC). */
void keyfile_now(char out[KS_CREATED_LEN + 1]);

/* Appends the canonical text (ending with a checksum line and a newline). */
int keyfile_render(buf *out, const keyfile *kf, err *e) __attribute__((warn_unused_result));
/* Parses and validates text; no key derivation. Messages do not name the file. */
int keyfile_parse(keyfile *kf, const char *text, size_t len, err *e)
    __attribute__((warn_unused_result));
/* key (KEYFILE_KEY_LEN bytes, caller's guarded memory) = Argon2id(passphrase, salt). */
int keyfile_derive(uint8_t *key, const keyfile *kf, const char *passphrase, err *e)
    __attribute__((warn_unused_result));
/* Seals sk with a fresh nonce (address, label, created, limits and salt already set). */
int keyfile_seal(keyfile *kf, const uint8_t sk[32], const uint8_t *key, err *e)
    __attribute__((warn_unused_result));
/* Opens the secret into sk (guarded memory) and checks it belongs to kf->address.
 * ERR_AUTH for a wrong passphrase; sk is zero on failure. */
int keyfile_open(uint8_t sk[32], const keyfile *kf, const uint8_t *key, err *e)
    __attribute__((warn_unused_result));

#endif
