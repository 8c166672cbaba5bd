/* rpc_chain.h: a JSON-RPC client for a chain the desk has configured, built from its
 * endpoints in desk.db (failover in their order). The one place that turns a chain's
 * endpoint rows into a client. */
#ifndef FUSION_RPC_CHAIN_H
#define FUSION_RPC_CHAIN_H

#include <stdint.h>

#include "base/err.h"
#include "rpc/rpc.h"
#include "store/store.h"

/* *out: a client over every endpoint of chain_id with options o (NULL: the defaults).
 * ERR_NOT_FOUND when the chain has no endpoint (naming the chain). */
int rpc_chain_client(rpc_client **out, store *db, uint64_t chain_id, const rpc_options *o,
                     err *e) RPC_WUR;

#endif
