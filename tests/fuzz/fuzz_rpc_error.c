/* fuzz_rpc_error.c: libFuzzer target for the JSON-RPC answer check (src/rpc/rpc.c,
 * rpc_response_check): ids, the error object and its message, code and data, as any
 * node or proxy may send them. The input is the answer's bytes, parsed as the client
 * does. A refused answer leaves a one-line message that is safe to show (no control
 * sequence, bidi control or invalid UTF-8 of the node's reaches a terminal or the log);
 * revert data is kept only as 0x hex that fits. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "rpc/rpc_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &jerr);
    if (!root)
        return 0;
    json_t *result = NULL;
    rpc_error er;
    if (rpc_response_check(root, 1, 200, &result, &er) == 0) {
        if (!result)
            abort();
        json_decref(result);
    } else {
        size_t n = strnlen(er.message, sizeof er.message);
        if (n == sizeof er.message || n == 0 || text_unsafe_at(er.message, n) != n)
            abort();
        size_t d = strnlen(er.data, sizeof er.data);
        if (d == sizeof er.data || (d && strncmp(er.data, "0x", 2) != 0))
            abort();
        if (er.status == RPC_OK || er.status >= RPC_STATUS_COUNT)
            abort();
    }
    json_decref(root);
    return 0;
}
