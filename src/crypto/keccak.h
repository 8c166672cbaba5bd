/* keccak.h: Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not
 * SHA3's 0x06), built on nettle's Keccak-f[1600] permutation. */
#ifndef FUSION_CRYPTO_KECCAK_H
#define FUSION_CRYPTO_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define KECCAK256_LEN 32

typedef struct keccak256_ctx {
    uint64_t a[25];
    uint8_t block[136];
    unsigned index;
} keccak256_ctx;

void keccak256_init(keccak256_ctx *ctx);
void keccak256_update(keccak256_ctx *ctx, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void keccak256_final(keccak256_ctx *ctx, uint8_t out[KECCAK256_LEN]);
/* One-shot. */
void keccak256(uint8_t out[KECCAK256_LEN], const void *data, size_t len);

#endif
