/* rpc_internal.h: shared between the files of src/rpc only. */
#ifndef FUSION_RPC_INTERNAL_H
#define FUSION_RPC_INTERNAL_H

#include <jansson.h>

#include "base/err.h"
#include "rpc/rpc.h"

typedef struct rpc_logs_stream rpc_logs_stream; /* rpc_logs.h */

/* Checks that a well-formed answer answers the request (the block asked for, logs inside
 * the filter, the receipt of the transaction asked for) and reads it into the caller's
 * output. result: the JSON result, or NULL when a batch took the answer. -1 with e set when it does not: the answer is then malformed, the endpoint
 * counts as failed, and the call is retried on the next endpoint like for any other
 * malformed answer. */
typedef int (*rpc_check_fn)(const json_t *result, void *ud, err *e);

/* rpc_call with a check of the result inside the retry loop. */
int rpc_call_checked(rpc_client *c, const char *method, json_t *params, rpc_check_fn check,
                     void *check_ud, json_t **result, err *e) RPC_WUR;
/* rpc_batch with a check of the answers (in the requests) inside the retry loop. */
int rpc_batch_checked(rpc_client *c, rpc_request *reqs, size_t n, rpc_check_fn check,
                      void *check_ud, err *e) RPC_WUR;
/* eth_getLogs: the answer is fed to stream while it arrives (never kept whole); the
 * general checks read its skeleton, whose result the check takes the logs for (from the
 * stream: rpc_logs_stream_take). Timeouts are not retried but returned (RPC_TIMEOUT),
 * since the caller retries with a smaller range; so are answers over the client's limit of
 * logs (rpc_client_set_logs_max). */
int rpc_call_logs(rpc_client *c, json_t *params, rpc_logs_stream *stream, rpc_check_fn check,
                  void *check_ud, json_t **result, err *e) RPC_WUR;

/* rpc_batch_checked whose answer is fed to stream while it arrives (blocks mode: a
 * request's result is then the stream's marker of its block, rpc_logs_stream_block). */
int rpc_batch_stream(rpc_client *c, rpc_request *reqs, size_t n, rpc_logs_stream *stream,
                     rpc_check_fn check, void *check_ud, err *e) RPC_WUR;

/* Checks one response object against the expected id. Returns 0 and a new reference
 * in *result, or -1 with er set (RPC/RANGE/RATE_LIMIT for error objects); er's message
 * is safe to show whatever the node sent. */
int rpc_response_check(const json_t *resp, int64_t id, long http, json_t **result,
                       rpc_error *er) RPC_WUR;

/* The client's last-error record, for the typed helpers to fill. */
rpc_error *rpc_last_error_mut(rpc_client *c);
/* Records e's message as a malformed result of method (and logs it). Returns -1. */
int rpc_malformed(rpc_client *c, const char *method, err *e);

#endif
