/* u256.h: exact unsigned 256-bit integers, the representation of every on-chain
 * amount (uint256) end to end. Arithmetic reports overflow instead of wrapping. */
#ifndef FUSION_BASE_U256_H
#define FUSION_BASE_U256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Little-endian 64-bit limbs: w[0] is the least significant. */
typedef struct u256 {
    uint64_t w[4];
} u256;

#define U256_DEC_MAX 79 /* 78 digits + NUL */
#define U256_HEX_MAX 67 /* "0x" + 64 + NUL */

u256 u256_from_u64(uint64_t v);
bool u256_is_zero(const u256 *a);
/* -1, 0, 1 */
int u256_cmp(const u256 *a, const u256 *b);
/* Fits in 64 bits? Then *out receives it. */
bool u256_to_u64(const u256 *a, uint64_t *out);

/* Each returns 0, or -1 on overflow/underflow/division by zero (result untouched). */
int u256_add(u256 *r, const u256 *a, const u256 *b) __attribute__((warn_unused_result));
int u256_sub(u256 *r, const u256 *a, const u256 *b) __attribute__((warn_unused_result));
int u256_mul(u256 *r, const u256 *a, const u256 *b) __attribute__((warn_unused_result));
/* q = a / b, rem = a % b; either output may be NULL. */
int u256_divmod(u256 *q, u256 *rem, const u256 *a, const u256 *b)
    __attribute__((warn_unused_result));

/* Big-endian 32-byte form (ABI words, storage). */
void u256_from_be(u256 *r, const uint8_t be[32]);
void u256_to_be(uint8_t be[32], const u256 *a);
/* From up to 32 big-endian bytes (RLP integers); -1 when longer than 32. */
int u256_from_be_bytes(u256 *r, const uint8_t *be, size_t len);
/* Minimal big-endian bytes (no leading zeros; zero is 0 bytes). Returns the length. */
size_t u256_to_be_min(uint8_t out[32], const u256 *a);

/* Decimal text: digits only, no sign, no leading '+', at most 2^256-1. */
int u256_from_dec(u256 *r, const char *s, err *e) __attribute__((warn_unused_result));
void u256_to_dec(char out[U256_DEC_MAX], const u256 *a);
/* JSON-RPC quantity "0x1a" (strict, per the execution-apis schema: 0x prefix, lower-case
 * digits, no leading zeros except "0x0"). */
int u256_from_quantity(u256 *r, const char *s, err *e) __attribute__((warn_unused_result));
void u256_to_quantity(char out[U256_HEX_MAX], const u256 *a);

#endif
