/* rpc_logs.h: the fast, strict reader of eth_getLogs answers (private to src/rpc and
 * its tests and fuzz target). */
#ifndef FUSION_RPC_LOGS_H
#define FUSION_RPC_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "rpc/rpc.h"

/* Reads `{"jsonrpc":"2.0","id":id,"result":[logs...]}` from text[0..len) into *out
 * (logs sorted by block and log index). -1 with e set for anything else, including
 * valid JSON of another shape (an error object): callers then take the general path. */
int rpc_logs_parse(const char *text, size_t len, int64_t id, rpc_log_list *out, err *e)
    __attribute__((warn_unused_result));

#endif
