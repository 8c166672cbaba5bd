/* eip191.h: "personal_sign" messages (EIP-191 version 0x45): the digest is
 * keccak256("\x19Ethereum Signed Message:\n" + decimal length + message). */
#ifndef FUSION_CRYPTO_EIP191_H
#define FUSION_CRYPTO_EIP191_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/address.h"

void eip191_hash(uint8_t out[32], const void *msg, size_t len);
/* 65-byte signature r || s || v with v = 27 + recid (as eth_sign / cast wallet sign). */
int eip191_sign(uint8_t sig65[65], const void *msg, size_t len, const uint8_t sk[32])
    __attribute__((warn_unused_result));
/* Recovers the signer; v may be 27/28 or 0/1. -1 for a malformed or high-S signature. */
int eip191_recover(addr *signer, const uint8_t sig65[65], const void *msg, size_t len)
    __attribute__((warn_unused_result));

#endif
