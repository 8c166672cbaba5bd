/* eip712.h: EIP-712 typed structured data hashing and signing: hashStruct built word by
 * word (every encoded member is one 32-byte word), the domain separator and the
 * "\x19\x01" digest that wallets, `cast wallet sign --data` and eth_signTypedData_v4 sign.
 * Pure: no allocation, no I/O. The desk's own statement type is in audit/statement.h. */
#ifndef FUSION_CRYPTO_EIP712_H
#define FUSION_CRYPTO_EIP712_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/address.h"
#include "crypto/keccak.h"

/* hashStruct(s) = keccak256(typeHash || encodeData(s)), built member by member in the
 * order of the type string. encoded_type is encodeType: the primary type followed by the
 * referenced struct types sorted by name, e.g. "Mail(Person from,Person to,string
 * contents)Person(string name,address wallet)". */
typedef struct eip712_struct {
    keccak256_ctx k;
} eip712_struct;

void eip712_struct_init(eip712_struct *s, const char *encoded_type);
/* bytes32, or a nested struct's hashStruct. */
void eip712_put_word(eip712_struct *s, const uint8_t w[32]);
/* string and bytes members are hashed: keccak256 of their bytes. */
void eip712_put_string(eip712_struct *s, const char *str);
void eip712_put_bytes(eip712_struct *s, const void *p, size_t n);
/* uint8..uint256 members that fit 64 bits (left-padded big-endian). */
void eip712_put_uint(eip712_struct *s, uint64_t v);
void eip712_put_address(eip712_struct *s, const addr *a);
void eip712_put_bool(eip712_struct *s, int v);
void eip712_struct_final(eip712_struct *s, uint8_t out[32]);

/* keccak256("\x19\x01" || domainSeparator || hashStruct(message)). */
void eip712_digest(uint8_t out[32], const uint8_t domain_separator[32],
                   const uint8_t struct_hash[32]);
/* Signs a digest: r || s || v with v = 27 + recid (as eth_signTypedData). */
int eip712_sign(uint8_t sig65[65], const uint8_t digest[32], const uint8_t sk[32])
    __attribute__((warn_unused_result));
/* The signer of a digest; v may be 27/28 or 0/1. -1 for a malformed or high-S signature. */
int eip712_recover(addr *signer, const uint8_t sig65[65], const uint8_t digest[32])
    __attribute__((warn_unused_result));

#endif
