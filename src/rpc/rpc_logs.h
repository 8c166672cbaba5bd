/* rpc_logs.h: the streaming reader of eth_getLogs answers (private to src/rpc and its
 * tests and fuzz target). The answer is fed in pieces as it arrives (curl's write
 * callback); each log is decoded once, straight into an rpc_log_list, and the text is
 * not kept. What is not a log (id, jsonrpc, an error object, anything else) is kept as a
 * small JSON "skeleton" of the answer, with each array result written as [], that the
 * general checks (rpc_response_check) read with jansson, so that an answer means the
 * same to this reader as to a jansson tree of the whole text. */
#ifndef FUSION_RPC_LOGS_H
#define FUSION_RPC_LOGS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "rpc/rpc.h"

typedef struct rpc_logs_stream rpc_logs_stream;

int rpc_logs_stream_new(rpc_logs_stream **out, err *e) __attribute__((warn_unused_result));
void rpc_logs_stream_free(rpc_logs_stream **p);
/* Ready for a new answer (keeps its buffers). */
void rpc_logs_stream_reset(rpc_logs_stream *s);
/* The next n bytes of the answer, cut anywhere. -1 once they cannot be one JSON text
 * (later bytes are then ignored; finish says why). */
int rpc_logs_stream_feed(rpc_logs_stream *s, const char *p, size_t n);
/* At most max logs are read from an answer (0: no limit; kept over resets): at the log
 * after them the reader stops (feed fails) and rpc_logs_stream_over says so, with that
 * log's block in *block (the logs of earlier blocks were all read when the answer comes
 * sorted, as nodes send it). */
void rpc_logs_stream_limit(rpc_logs_stream *s, size_t max);
bool rpc_logs_stream_over(const rpc_logs_stream *s, uint64_t *block);
/* The end of the answer: 0 with *skeleton (a new reference: the answer without its logs),
 * or -1 with e set when the text was not one JSON object or array (as jansson reads it). */
int rpc_logs_stream_finish(rpc_logs_stream *s, json_t **skeleton, err *e)
    __attribute__((warn_unused_result));
/* The logs of a finished answer whose skeleton's result is `result`: an array there means
 * the logs that were read (sorted by block and log index), moved into *out; -1 with e set
 * when one of them was not a well-formed log, or when the result is not an array. */
int rpc_logs_stream_take(rpc_logs_stream *s, const json_t *result, rpc_log_list *out, err *e)
    __attribute__((warn_unused_result));

/* The same from a jansson tree of the result (the reference the reader is fuzzed against). */
int rpc_logs_from_json(const json_t *result, rpc_log_list *out, err *e)
    __attribute__((warn_unused_result));

/* (rpc_logs_answer.c) A whole answer to request id, at HTTP 200, through the streaming
 * reader fed in pieces of the given sizes (cuts: n_cuts sizes, repeated; NULL for one
 * piece): 0 with the logs, -1 for anything else (an error object, another id, malformed). */
int rpc_logs_parse_pieces(const char *text, size_t len, int64_t id, const size_t *cuts,
                          size_t n_cuts, rpc_log_list *out, err *e)
    __attribute__((warn_unused_result));
int rpc_logs_parse(const char *text, size_t len, int64_t id, rpc_log_list *out, err *e)
    __attribute__((warn_unused_result));
/* The same answer read the general way: a jansson tree of the whole text. */
int rpc_logs_parse_tree(const char *text, size_t len, int64_t id, rpc_log_list *out, err *e)
    __attribute__((warn_unused_result));

#endif
