/* fuzz_text.c: libFuzzer target for the one helper that makes outside text safe
 * (src/base/text.c). Whatever the bytes: the result holds nothing text_unsafe_at would
 * flag, fits its buffer, is a fixed point (made safe again it is the same), and a cut
 * copy is a prefix of the whole one followed by "...". Text that needs no escape comes
 * back unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size ? size : 1); /* exactly sized: ASan sees a read past it */
    if (!in)
        abort();
    memcpy(in, data, size);
    char *whole = text_safe_dup(in, size);
    if (!whole)
        abort();
    size_t n = strlen(whole);
    if (text_unsafe_at(whole, n) != n)
        abort();
    char *again = text_safe_dup(whole, n);
    if (!again || strcmp(again, whole) != 0)
        abort();
    free(again);
    if ((text_unsafe_at(in, size) == size) != (n == size && memcmp(whole, in, size) == 0))
        abort();
    /* Cut copies: every capacity from the smallest to one past the whole. */
    char out[160];
    for (size_t cap = 4; cap <= sizeof out && cap <= n + 2; cap += 1 + cap / 8) {
        text_safe(out, cap, in, size);
        size_t k = strlen(out);
        if (k >= cap || text_unsafe_at(out, k) != k)
            abort();
        if (n < cap) {
            if (strcmp(out, whole) != 0)
                abort();
        } else if (k < 3 || memcmp(out + k - 3, "...", 3) != 0 ||
                   memcmp(out, whole, k - 3) != 0) {
            abort();
        }
    }
    free(whole);
    free(in);
    return 0;
}
