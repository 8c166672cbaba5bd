/* fuzz_hex.c: libFuzzer target for strict hex decoding (base/bytes.h), the gate every
 * outside byte string passes. Byte 0 picks the prefix flags, byte 1 the output
 * capacity; the rest is the hex text, in an exactly sized heap copy so that ASan sees
 * any read past hex_len or write past out_cap. Successful decodes must round-trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int flags = data[0] & (HEX_ALLOW_PREFIX | HEX_REQUIRE_PREFIX);
    size_t cap = data[1];
    size_t len = size - 2;
    char *hex = malloc(len ? len : 1);
    uint8_t *out = malloc(cap ? cap : 1);
    if (!hex || !out)
        abort();
    memcpy(hex, data + 2, len);

    size_t n = 0;
    err e;
    if (hex_decode(out, cap, &n, hex, len, flags, &e) == 0) {
        if (n > cap)
            abort();
        /* Encode and decode again: the same bytes. */
        char *enc = hex_encode_new(out, n);
        uint8_t *back = malloc(n ? n : 1);
        size_t m = 0;
        if (!enc || !back || hex_decode(back, n, &m, enc, strlen(enc), HEX_REQUIRE_PREFIX, NULL))
            abort();
        if (m != n || memcmp(back, out, n) != 0)
            abort();
        free(enc);
        free(back);
    } else if (e.code != ERR_INVALID && e.code != ERR_OVERFLOW) {
        abort();
    }

    /* The owned-buffer and exact-length variants see the same text. */
    buf b = {0};
    (void)hex_decode_buf(&b, hex, len, flags, NULL);
    buf_free(&b);
    char *z = malloc(len + 1);
    if (!z)
        abort();
    memcpy(z, hex, len);
    z[len] = '\0';
    (void)hex_decode_exact(out, cap, z, flags, NULL);
    free(z);
    free(hex);
    free(out);
    return 0;
}
