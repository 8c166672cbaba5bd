/* eip712.c: EIP-712 typed data as a stream of 32-byte words into Keccak-256; the caller
 * walks its struct in type order, so no generic JSON type parser is needed here (the
 * encodings are pinned by the spec's Mail example and cross-checked with cast). */
#include "crypto/eip712.h"

#include <string.h>

#include "crypto/secp.h"

void eip712_struct_init(eip712_struct *s, const char *encoded_type)
{
    uint8_t th[32];
    keccak256(th, encoded_type, strlen(encoded_type));
    keccak256_init(&s->k);
    keccak256_update(&s->k, th, 32);
}

void eip712_put_word(eip712_struct *s, const uint8_t w[32])
{
    keccak256_update(&s->k, w, 32);
}

void eip712_put_bytes(eip712_struct *s, const void *p, size_t n)
{
    uint8_t h[32];
    keccak256(h, n ? p : "", n);
    keccak256_update(&s->k, h, 32);
}

void eip712_put_string(eip712_struct *s, const char *str)
{
    eip712_put_bytes(s, str, strlen(str));
}

void eip712_put_uint(eip712_struct *s, uint64_t v)
{
    uint8_t w[32] = {0};
    for (int i = 0; i < 8; i++)
        w[31 - i] = (uint8_t)(v >> (8 * i));
    keccak256_update(&s->k, w, 32);
}

void eip712_put_address(eip712_struct *s, const addr *a)
{
    uint8_t w[32] = {0};
    memcpy(w + 12, a->b, ADDR_LEN);
    keccak256_update(&s->k, w, 32);
}

void eip712_put_bool(eip712_struct *s, int v)
{
    eip712_put_uint(s, v ? 1 : 0);
}

void eip712_struct_final(eip712_struct *s, uint8_t out[32])
{
    keccak256_final(&s->k, out);
}

void eip712_digest(uint8_t out[32], const uint8_t domain_separator[32],
                   const uint8_t struct_hash[32])
{
    keccak256_ctx k;
    keccak256_init(&k);
    keccak256_update(&k, "\x19\x01", 2);
    keccak256_update(&k, domain_separator, 32);
    keccak256_update(&k, struct_hash, 32);
    keccak256_final(&k, out);
}

int eip712_sign(uint8_t sig65[65], const uint8_t digest[32], const uint8_t sk[32])
{
    int recid = -1;
    if (secp_sign(sig65, &recid, digest, sk) < 0)
        return -1;
    if (recid < 0 || recid > 1) /* r >= n: probability ~2^-127, no 27/28 encoding */
        return -1;
    sig65[64] = (uint8_t)(27 + recid);
    return 0;
}

int eip712_recover(addr *signer, const uint8_t sig65[65], const uint8_t digest[32])
{
    int recid;
    if (sig65[64] == 27 || sig65[64] == 28)
        recid = sig65[64] - 27;
    else if (sig65[64] == 0 || sig65[64] == 1)
        recid = sig65[64];
    else
        return -1;
    uint8_t pub[64];
    if (secp_recover(pub, sig65, recid, digest) < 0)
        return -1;
    addr_from_pubkey(signer, pub);
    return 0;
}
