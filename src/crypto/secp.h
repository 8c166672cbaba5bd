/* secp.h: secp256k1 via libsecp256k1 (the library Bitcoin Core uses): RFC 6979
 * deterministic signatures with low S and a recovery id, public-key recovery.
 * Crypto-level API: 0 on success, -1 on failure, outputs first (libsodium style). */
#ifndef FUSION_CRYPTO_SECP_H
#define FUSION_CRYPTO_SECP_H

#include <stdint.h>

/* 1 when sk is a valid secret key (0 < sk < n). */
int secp_seckey_valid(const uint8_t sk[32]);
/* Uncompressed public key without the 0x04 prefix: X || Y. */
int secp_pubkey_from_seckey(uint8_t pub[64], const uint8_t sk[32])
    __attribute__((warn_unused_result));
/* Signs a 32-byte digest: sig = r || s (s in the lower half), *recid in 0..3. */
int secp_sign(uint8_t sig[64], int *recid, const uint8_t hash[32], const uint8_t sk[32])
    __attribute__((warn_unused_result));
/* Recovers the public key that made sig over hash. Rejects high-S signatures. */
int secp_recover(uint8_t pub[64], const uint8_t sig[64], int recid, const uint8_t hash[32])
    __attribute__((warn_unused_result));

#endif
