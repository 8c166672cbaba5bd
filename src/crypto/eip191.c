/* eip191.c: personal_sign messages (EIP-191 version 0x45), the format wallets and
 * `cast wallet sign` use, so a desk signature can be checked by any of them. */
#include "crypto/eip191.h"

#include <stdio.h>

#include "crypto/keccak.h"
#include "crypto/secp.h"

void eip191_hash(uint8_t out[32], const void *msg, size_t len)
{
    char prefix[64];
    int n = snprintf(prefix, sizeof prefix, "\x19" "Ethereum Signed Message:\n%zu", len);
    keccak256_ctx ctx;
    keccak256_init(&ctx);
    keccak256_update(&ctx, prefix, (size_t)n);
    if (len)
        keccak256_update(&ctx, msg, len);
    keccak256_final(&ctx, out);
}

int eip191_sign(uint8_t sig65[65], const void *msg, size_t len, const uint8_t sk[32])
{
    uint8_t h[32];
    int recid = -1;
    eip191_hash(h, msg, len);
    if (secp_sign(sig65, &recid, h, sk) < 0)
        return -1;
    /* recid 2/3 (r >= n) has probability ~2^-127 and no 27/28 encoding. */
    if (recid < 0 || recid > 1)
        return -1;
    sig65[64] = (uint8_t)(27 + recid);
    return 0;
}

int eip191_recover(addr *signer, const uint8_t sig65[65], const void *msg, size_t len)
{
    int recid;
    if (sig65[64] == 27 || sig65[64] == 28)
        recid = sig65[64] - 27;
    else if (sig65[64] == 0 || sig65[64] == 1) /* some hardware wallets emit 0/1 */
        recid = sig65[64];
    else
        return -1;
    uint8_t h[32], pub[64];
    eip191_hash(h, msg, len);
    if (secp_recover(pub, sig65, recid, h) < 0)
        return -1;
    addr_from_pubkey(signer, pub);
    return 0;
}
