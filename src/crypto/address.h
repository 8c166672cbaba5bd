/* address.h: 20-byte Ethereum addresses: derivation from a public key, EIP-55
 * checksummed text, and strict parsing (mixed case must carry a valid checksum). */
#ifndef FUSION_CRYPTO_ADDRESS_H
#define FUSION_CRYPTO_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

#define ADDR_LEN 20
#define ADDR_STR_MAX 43 /* "0x" + 40 + NUL */

typedef struct addr {
    uint8_t b[ADDR_LEN];
} addr;

/* keccak256(X || Y)[12..32] */
void addr_from_pubkey(addr *out, const uint8_t pub[64]);
/* Derives the address of a secret key; -1 if sk is invalid. */
int addr_from_seckey(addr *out, const uint8_t sk[32]) __attribute__((warn_unused_result));
/* "0x" + 40 hex digits. All-lowercase or all-uppercase is accepted unchecked; mixed
 * case must match EIP-55 exactly, else ERR_INVALID naming the bad checksum. */
int addr_parse(addr *out, const char *s, err *e) __attribute__((warn_unused_result));
/* EIP-55 checksummed form: text for people. */
void addr_to_checksum(char out[ADDR_STR_MAX], const addr *a);
/* Lowercase form: machine output (every --json), database keys, log filters. */
void addr_to_lower(char out[ADDR_STR_MAX], const addr *a);
bool addr_equal(const addr *a, const addr *b);
bool addr_is_zero(const addr *a);

#endif
