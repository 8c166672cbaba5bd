/* fuzz_rpc_logs.c: libFuzzer target for the streaming eth_getLogs reader
 * (src/rpc/rpc_logs.c), which reads whatever bytes a node sends, and a comparison with the
 * general path: the answer (the input after its first byte) is fed in pieces whose sizes
 * come from the first byte, each piece an exactly sized heap copy (ASan sees any read past
 * it), and must give exactly what a jansson tree of the whole answer gives: the same
 * logs, or an error from both. Accepted logs are sorted, with every data slice inside the
 * list's buffer. Then the same pieces through a reader limited to 1..8 logs (from the shape
 * byte): an answer of more logs than that (as the tree reads it) must stop it. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_internal.h"
#include "rpc/rpc_logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const rpc_log *x, const rpc_log *y)
{
    return x->block_number == y->block_number && x->log_index == y->log_index &&
           x->tx_index == y->tx_index && x->n_topics == y->n_topics && x->removed == y->removed &&
           x->data_len == y->data_len && !memcmp(x->block_hash, y->block_hash, 32) &&
           !memcmp(x->tx_hash, y->tx_hash, 32) && !memcmp(x->address.b, y->address.b, ADDR_LEN) &&
           !memcmp(x->topics, y->topics, 32 * (size_t)x->n_topics) &&
           (!x->data_len || !memcmp(x->data, y->data, x->data_len));
}

/* Feeds text in pieces whose sizes come from shape, each an exactly sized heap copy,
 * until the reader fails. */
static void feed_pieces(rpc_logs_stream *s, const char *text, size_t size, unsigned shape)
{
    size_t at = 0, k = 0;
    while (at < size) {
        size_t n = 1 + ((shape + k * (shape >> 4 | 1)) & 15);
        k++;
        if (n > size - at)
            n = size - at;
        char *piece = malloc(n);
        if (!piece)
            abort();
        memcpy(piece, text + at, n);
        int fr = rpc_logs_stream_feed(s, piece, n);
        free(piece);
        at += n;
        if (fr < 0)
            break;
    }
}

/* A reader limited to 1..8 logs stops on an answer the tree reads with more. */
static void limited(const char *text, size_t size, unsigned shape, int rc_tree, size_t n_tree)
{
    size_t limit = 1 + (shape >> 5);
    rpc_logs_stream *s;
    err e;
    if (rpc_logs_stream_new(&s, &e) < 0)
        abort();
    rpc_logs_stream_limit(s, limit);
    feed_pieces(s, text, size, shape);
    uint64_t block;
    bool over = rpc_logs_stream_over(s, &block);
    if (rc_tree == 0 && n_tree > limit && !over)
        abort();
    json_t *root = NULL;
    if (rpc_logs_stream_finish(s, &root, &e) == 0)
        json_decref(root);
    rpc_logs_stream_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned shape = data[0];
    data++;
    size--;
    char *text = malloc(size ? size : 1);
    if (!text)
        abort();
    memcpy(text, data, size);

    rpc_log_list want, got;
    err e;
    int rc_tree = rpc_logs_parse_tree(text, size, 1, &want, &e);

    rpc_logs_stream *s;
    if (rpc_logs_stream_new(&s, &e) < 0)
        abort();
    /* Piece sizes: 1..16 from the shape byte, varying piece by piece. */
    feed_pieces(s, text, size, shape);
    json_t *root = NULL;
    int rc_stream = rpc_logs_stream_finish(s, &root, &e);
    memset(&got, 0, sizeof got);
    if (rc_stream == 0) {
        json_t *result = NULL;
        rpc_error er;
        if (json_is_array(root) || rpc_response_check(root, 1, 200, &result, &er) < 0)
            rc_stream = -1;
        else
            rc_stream = rpc_logs_stream_take(s, result, &got, &e);
        json_decref(result);
    }
    json_decref(root);
    rpc_logs_stream_free(&s);

    if (rc_stream != rc_tree)
        abort(); /* one path read logs where the other saw an error */
    limited(text, size, shape, rc_tree, rc_tree == 0 ? want.n : 0);
    if (rc_stream == 0) {
        if (got.n != want.n)
            abort();
        for (size_t i = 0; i < got.n; i++) {
            const rpc_log *lg = &got.items[i];
            if (!same(lg, &want.items[i]))
                abort();
            if (lg->n_topics > 4 || lg->block_number > (uint64_t)INT64_MAX)
                abort();
            if (lg->data_len && (lg->data < got.data_.data ||
                                 lg->data + lg->data_len > got.data_.data + got.data_.len))
                abort();
            if (i && (got.items[i - 1].block_number > lg->block_number ||
                      (got.items[i - 1].block_number == lg->block_number &&
                       got.items[i - 1].log_index > lg->log_index)))
                abort();
        }
        rpc_log_list_free(&got);
        rpc_log_list_free(&want);
    } else if (got.items || got.n || want.items || want.n) {
        abort(); /* a refusal leaves nothing behind */
    }
    free(text);
    return 0;
}
