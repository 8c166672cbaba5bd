/* keccak.c: Keccak-256 (Ethereum's hash) as a sponge over nettle's Keccak-f[1600]
 * permutation. Rate 136 bytes, original Keccak padding (0x01 ... 0x80). The
 * permutation itself is nettle's: we only absorb, pad and squeeze. */
#include "crypto/keccak.h"

#include <nettle/sha3.h>
#include <string.h>

#define KECCAK256_RATE 136

static void keccak_absorb_block(keccak256_ctx *ctx, const uint8_t *block)
{
    /* Lanes are little-endian 64-bit words. */
    for (unsigned i = 0; i < KECCAK256_RATE / 8; i++) {
        uint64_t lane = 0;
        for (unsigned j = 0; j < 8; j++)
            lane |= (uint64_t)block[8 * i + j] << (8 * j);
        ctx->a[i] ^= lane;
    }
    struct sha3_state st;
    memcpy(st.a, ctx->a, sizeof st.a);
    sha3_permute(&st);
    memcpy(ctx->a, st.a, sizeof st.a);
}

void keccak256_init(keccak256_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
}

void keccak256_update(keccak256_ctx *ctx, const void *data, size_t len)
{
    /* An empty buffer may have a NULL pointer (a zeroed buf); memcpy must not see it. */
    if (len == 0)
        return;
    const uint8_t *p = data;
    if (ctx->index) {
        size_t take = KECCAK256_RATE - ctx->index;
        if (take > len)
            take = len;
        memcpy(ctx->block + ctx->index, p, take);
        ctx->index += (unsigned)take;
        p += take;
        len -= take;
        if (ctx->index < KECCAK256_RATE)
            return;
        keccak_absorb_block(ctx, ctx->block);
        ctx->index = 0;
    }
    while (len >= KECCAK256_RATE) {
        keccak_absorb_block(ctx, p);
        p += KECCAK256_RATE;
        len -= KECCAK256_RATE;
    }
    memcpy(ctx->block, p, len);
    ctx->index = (unsigned)len;
}

void keccak256_final(keccak256_ctx *ctx, uint8_t out[KECCAK256_LEN])
{
    memset(ctx->block + ctx->index, 0, KECCAK256_RATE - ctx->index);
    ctx->block[ctx->index] ^= 0x01;
    ctx->block[KECCAK256_RATE - 1] ^= 0x80;
    keccak_absorb_block(ctx, ctx->block);
    for (unsigned i = 0; i < KECCAK256_LEN / 8; i++)
        for (unsigned j = 0; j < 8; j++)
            out[8 * i + j] = (uint8_t)(ctx->a[i] >> (8 * j));
    memset(ctx, 0, sizeof *ctx);
}

void keccak256(uint8_t out[KECCAK256_LEN], const void *data, size_t len)
{
    keccak256_ctx ctx;
    keccak256_init(&ctx);
    keccak256_update(&ctx, data, len);
    keccak256_final(&ctx, out);
}
