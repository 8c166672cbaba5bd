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

/* Blocks mode (kept over resets): the answer is a batch of eth_getBlockByNumber answers
 * with full transactions. Each response's object result is read as a block (its hash,
 * parentHash, timestamp, and the transactions whose to, from, value and hash parse) and
 * written into the skeleton as a marker that rpc_logs_stream_block reads back. */
void rpc_logs_stream_blocks(rpc_logs_stream *s, bool on);
/* The block a finished answer's result (from its skeleton) stands for: 0 with *out (its
 * candidates in rpc_logs_stream_txs), -1 when the result was not an object. */
int rpc_logs_stream_block(const rpc_logs_stream *s, const json_t *result, rpc_native_block *out);
const rpc_native_tx *rpc_logs_stream_txs(const rpc_logs_stream *s, size_t *n);
/* The same from a jansson tree of one block (the reference the reader is fuzzed against):
 * its candidates are appended to *txs (*ntx of *cap). -1 only when out of memory. */
int rpc_native_block_from_json(const json_t *blk, rpc_native_block *out, rpc_native_tx **txs,
                               size_t *ntx, size_t *cap, err *e)
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

/* A batch answer read the two ways: the reader in blocks mode fed in pieces (cuts as
 * above) and a jansson tree with rpc_native_block_from_json. 0 when they give the same
 * (both refuse, or the same responses and blocks), 1 with why when not, -1 with e set
 * when out of memory. */
int rpc_blocks_compare(const char *text, size_t len, const size_t *cuts, size_t n_cuts,
                       char *why, size_t cap, err *e) __attribute__((warn_unused_result));

#endif
