/* fuzz_amount.c: libFuzzer target for token amounts (base/amount.h). Byte 0 picks the
 * decimals (0..79, so unsupported values are exercised too); the rest is the text.
 * Whatever parses must survive format -> parse unchanged, and formatting must stay
 * inside AMOUNT_STR_MAX; the rest is read as 32 big-endian bytes and round-tripped. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/amount.h"
#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const u256 *v, unsigned decimals)
{
    char s[AMOUNT_STR_MAX];
    size_t n = amount_format(s, v, decimals);
    if (n != strlen(s) || n >= AMOUNT_STR_MAX)
        abort();
    if (decimals > AMOUNT_MAX_DECIMALS) {
        if (n != 0)
            abort();
        return;
    }
    u256 back;
    if (amount_parse(&back, s, decimals, NULL) != 0 || u256_cmp(&back, v) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned decimals = data[0] % 80;
    char *s = malloc(size);
    if (!s)
        abort();
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';

    u256 v;
    err e;
    if (amount_parse(&v, s, decimals, &e) == 0)
        round_trip(&v, decimals);
    else if (e.code != ERR_INVALID && e.code != ERR_OVERFLOW)
        abort();
    else if (!fuzz_msg_safe(e.msg)) /* one safe line, whatever the input */
        abort();
    free(s);

    if (size >= 33) {
        u256_from_be(&v, data + 1);
        round_trip(&v, decimals);
    }
    return 0;
}
