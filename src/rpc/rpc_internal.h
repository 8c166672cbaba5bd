/* rpc_internal.h: shared between the files of src/rpc only. */
#ifndef FUSION_RPC_INTERNAL_H
#define FUSION_RPC_INTERNAL_H

#include <jansson.h>

#include "base/err.h"
#include "rpc/rpc.h"

/* rpc_call, except that timeouts are not retried but returned (RPC_TIMEOUT): a
 * getLogs that timed out is retried by the caller with a smaller range. */
int rpc_call_no_timeout_retry(rpc_client *c, const char *method, json_t *params,
                              json_t **result, err *e) RPC_WUR;

/* The client's last-error record, for the typed helpers to fill. */
rpc_error *rpc_last_error_mut(rpc_client *c);
/* Records e's message as a malformed result of method (and logs it). Returns -1. */
int rpc_malformed(rpc_client *c, const char *method, err *e);

#endif
