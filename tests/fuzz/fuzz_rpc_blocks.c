/* fuzz_rpc_blocks.c: libFuzzer target for the streaming reader's blocks mode
 * (src/rpc/rpc_logs.c: batches of eth_getBlockByNumber answers with full transactions, what
 * the native-coin scan reads from the node), compared with the general path: the answer
 * (the input after its first byte) is fed in pieces whose sizes come from the first byte
 * and must give exactly what a jansson tree of the whole answer gives
 * (rpc_blocks_compare): both refuse it, or the same responses and, for each object
 * result, the same block header and the same transfer candidates. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned shape = data[0];
    data++;
    size--;
    char *text = malloc(size ? size : 1); /* exactly sized: ASan sees a read past it */
    if (!text)
        abort();
    memcpy(text, data, size);
    size_t cuts[4];
    for (size_t k = 0; k < 4; k++)
        cuts[k] = 1 + ((shape + k * (shape >> 4 | 1)) & 15);
    char why[200];
    err e;
    int d = rpc_blocks_compare(text, size, cuts, 4, why, sizeof why, &e);
    if (d == 0)
        d = rpc_blocks_compare(text, size, NULL, 0, why, sizeof why, &e);
    if (d > 0) {
        fprintf(stderr, "blocks reader differs from jansson: %s\n", why);
        abort();
    }
    free(text);
    return 0;
}
