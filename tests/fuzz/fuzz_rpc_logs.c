/* fuzz_rpc_logs.c: libFuzzer target for the fast eth_getLogs reader (src/rpc/rpc_logs.c),
 * which reads whatever bytes a node sends. The input is the answer, in an exactly sized
 * heap copy (ASan sees any read past it). An accepted answer must also be valid JSON to
 * jansson, with as many logs as its result array, sorted, every data slice inside the
 * list's buffer. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    rpc_log_list l;
    err e;
    if (rpc_logs_parse(text, size, 1, &l, &e) == 0) {
        json_error_t jerr;
        json_t *root = json_loadb(text, size, 0, &jerr);
        if (!root || json_array_size(json_object_get(root, "result")) != l.n)
            abort();
        json_decref(root);
        for (size_t i = 0; i < l.n; i++) {
            const rpc_log *lg = &l.items[i];
            if (lg->n_topics > 4 || lg->block_number > (uint64_t)INT64_MAX)
                abort();
            if (lg->data_len && (lg->data < l.data_.data ||
                                 lg->data + lg->data_len > l.data_.data + l.data_.len))
                abort();
            if (i && (l.items[i - 1].block_number > lg->block_number ||
                      (l.items[i - 1].block_number == lg->block_number &&
                       l.items[i - 1].log_index > lg->log_index)))
                abort();
        }
        rpc_log_list_free(&l);
    } else if (l.items || l.n) {
        abort(); /* a refusal leaves nothing behind */
    }
    free(text);
    return 0;
}
