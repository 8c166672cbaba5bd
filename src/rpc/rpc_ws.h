/* rpc_ws.h: new heads by subscription (eth_subscribe "newHeads") over a WebSocket, to
 * follow a chain within a block instead of polling. A notification is only a wake-up:
 * the sync reads what changed over HTTP by range as always, so a dropped or silent
 * socket costs latency, never a block. ws:// only (wss:// needs TLS, which wslay leaves
 * to the caller): for https endpoints the sync polls. */
#ifndef FUSION_RPC_WS_H
#define FUSION_RPC_WS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "rpc/rpc.h"

typedef struct rpc_ws rpc_ws;

/* The WebSocket URL of an HTTP endpoint (anvil, geth and most providers serve both on
 * the same host and path): http:// becomes ws://, https:// wss://. *out malloc'ed. */
int rpc_ws_url_of(const char *http_url, char **out, err *e) RPC_WUR;
/* Connects to url (ws://host[:port][/path]; ${env:...}/${file:...} filled in) and
 * subscribes to newHeads, within timeout_ms. ERR_INVALID for wss:// (not supported). */
int rpc_ws_open(rpc_ws **out, const char *url, long timeout_ms, err *e) RPC_WUR;
/* Waits up to ms for a new head, or for stop_fd (-1: none) to become readable.
 * 1: a head arrived (*number: the newest since the last call); 0: none (timeout or
 * stop); -1: the socket dropped or broke (e says how): close it and poll. */
int rpc_ws_wait(rpc_ws *w, int stop_fd, int ms, uint64_t *number, err *e) RPC_WUR;
void rpc_ws_close(rpc_ws **p);

/* ---- pure parts, for tests and fuzzing ---- */

/* Checks a server's answer to the upgrade request (its bytes up to the blank line): an
 * HTTP/1.1 101 with the Sec-WebSocket-Accept that key asks for. */
int rpc_ws_check_handshake(const char *resp, size_t len, const char *key, err *e) RPC_WUR;

typedef enum {
    RPC_WS_MSG_OTHER,      /* nothing for us (another id, another subscription) */
    RPC_WS_MSG_SUBSCRIBED, /* the answer to eth_subscribe: *sub_id set */
    RPC_WS_MSG_HEAD,       /* a newHeads notification of sub_id: *number set */
    RPC_WS_MSG_ERROR,      /* refused, or not JSON-RPC: e says how */
} rpc_ws_msg;

/* Reads one text message. sub_id: the subscription's id ("" before it is known);
 * sub_id_out (cap bytes) receives it from the answer to request id 1. */
rpc_ws_msg rpc_ws_parse_message(const char *msg, size_t len, const char *sub_id,
                                char *sub_id_out, size_t cap, uint64_t *number, err *e);

#endif
