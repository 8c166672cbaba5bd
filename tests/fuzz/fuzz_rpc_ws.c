/* fuzz_rpc_ws.c: libFuzzer target for what a node sends over a head subscription
 * (src/rpc/rpc_ws.c): the answer to the WebSocket upgrade and the JSON-RPC messages that
 * follow (the eth_subscribe answer, newHeads notifications, anything else). The first
 * byte picks the part. A message is read as exactly one of the classes; a subscription id
 * is a NUL-terminated string that fits; every refusal leaves a one-line safe message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "rpc/rpc_ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *msg = (const char *)data + 1;
    size_t len = size - 1;
    err e;
    err_clear(&e);
    if (data[0] & 1) {
        if (rpc_ws_check_handshake(msg, len, "dGhlIHNhbXBsZSBub25jZQ==", &e) < 0) {
            size_t n = strnlen(e.msg, sizeof e.msg);
            if (n == 0 || n == sizeof e.msg || text_unsafe_at(e.msg, n) != n)
                abort();
        }
        return 0;
    }
    char sub[80];
    memset(sub, 'x', sizeof sub);
    uint64_t number = 0;
    rpc_ws_msg r = rpc_ws_parse_message(msg, len, (data[0] & 2) ? "0x1" : "", sub, sizeof sub,
                                        &number, &e);
    switch (r) {
    case RPC_WS_MSG_SUBSCRIBED:
        if (!memchr(sub, '\0', sizeof sub) || sub[0] == '\0')
            abort();
        break;
    case RPC_WS_MSG_HEAD:
        if (number > INT64_MAX)
            abort();
        break;
    case RPC_WS_MSG_ERROR: {
        size_t n = strnlen(e.msg, sizeof e.msg);
        if (n == 0 || n == sizeof e.msg || text_unsafe_at(e.msg, n) != n)
            abort();
        break;
    }
    case RPC_WS_MSG_OTHER:
        break;
    default:
        abort();
    }
    return 0;
}
