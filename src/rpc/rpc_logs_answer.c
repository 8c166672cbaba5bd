/* rpc_logs_answer.c: whole eth_getLogs answers read the two ways (the streaming reader
 * fed in pieces, and a jansson tree), with the same checks the client makes
 * (rpc_response_check): what the unit test and the fuzz target compare; the same for
 * batches of full blocks (the reader's blocks mode). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_internal.h"
#include "rpc/rpc_logs.h"

static int answer_logs(const json_t *root, int64_t id, rpc_logs_stream *s, rpc_log_list *out,
                       err *e)
{
    if (json_is_array(root))
        return err_set(e, ERR_INVALID, "response is an array, expected an object");
    json_t *result = NULL;
    rpc_error er;
    if (rpc_response_check(root, id, 200, &result, &er) < 0)
        return err_set(e, ERR_INVALID, "%s", er.message);
    int rc = s ? rpc_logs_stream_take(s, result, out, e) : rpc_logs_from_json(result, out, e);
    json_decref(result);
    return rc;
}

/* Feeds text to the reader in pieces of cuts[0], cuts[1], ... bytes, round and round (a
 * cut of 0 is one byte; no cuts: the whole text at once), stopping at the first refusal. */
static void feed_cut(rpc_logs_stream *s, const char *text, size_t len, const size_t *cuts,
                     size_t n_cuts)
{
    size_t at = 0;
    for (size_t k = 0; at < len; k++) {
        size_t n = cuts && n_cuts ? cuts[k % n_cuts] : len;
        if (n == 0)
            n = 1;
        if (n > len - at)
            n = len - at;
        if (rpc_logs_stream_feed(s, text + at, n) < 0)
            break;
        at += n;
    }
}

int rpc_logs_parse_pieces(const char *text, size_t len, int64_t id, const size_t *cuts,
                          size_t n_cuts, rpc_log_list *out, err *e)
{
    memset(out, 0, sizeof *out);
    rpc_logs_stream *s;
    if (rpc_logs_stream_new(&s, e) < 0)
        return -1;
    feed_cut(s, text, len, cuts, n_cuts);
    json_t *root = NULL;
    int rc = rpc_logs_stream_finish(s, &root, e);
    if (rc == 0)
        rc = answer_logs(root, id, s, out, e);
    json_decref(root);
    rpc_logs_stream_free(&s);
    return rc;
}

int rpc_logs_parse(const char *text, size_t len, int64_t id, rpc_log_list *out, err *e)
{
    return rpc_logs_parse_pieces(text, len, id, NULL, 0, out, e);
}

int rpc_logs_parse_tree(const char *text, size_t len, int64_t id, rpc_log_list *out, err *e)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
    if (!root)
        return err_set(e, ERR_INVALID, "response is not valid JSON (%s)", jerr.text);
    int rc = answer_logs(root, id, NULL, out, e);
    json_decref(root);
    return rc;
}


/* ---- batches of blocks ---- */


static int differ(char *why, size_t cap, const char *what, size_t i)
{
    snprintf(why, cap, "response %zu: %s", i, what);
    return 1;
}

/* One block as the stream read it (b, its candidates in txs) against the tree's. */
static int block_differs(const rpc_native_block *b, const rpc_native_tx *txs, size_t ntx,
                         const json_t *tree, size_t i, char *why, size_t cap, err *e)
{
    rpc_native_block w;
    rpc_native_tx *wtx = NULL;
    size_t wn = 0, wcap = 0;
    if (rpc_native_block_from_json(tree, &w, &wtx, &wn, &wcap, e) < 0)
        return -1;
    int d = 0;
    if (b->ok != w.ok)
        d = differ(why, cap, b->ok ? "a block only to the reader" : "a block only to jansson", i);
    else if (b->number_ok != w.number_ok || (w.number_ok && b->hdr.number != w.hdr.number))
        d = differ(why, cap, "another number", i);
    else if (b->parent_ok != w.parent_ok ||
             (w.parent_ok && memcmp(b->hdr.parent_hash, w.hdr.parent_hash, 32) != 0))
        d = differ(why, cap, "another parentHash", i);
    else if (w.ok && (memcmp(b->hdr.hash, w.hdr.hash, 32) != 0 ||
                      b->hdr.timestamp != w.hdr.timestamp))
        d = differ(why, cap, "another hash or timestamp", i);
    else if (w.ok && b->n != w.n)
        d = differ(why, cap, "another number of transfer candidates", i);
    else if (w.ok && b->first + b->n > ntx)
        d = differ(why, cap, "candidates outside the reader's list", i);
    for (size_t j = 0; !d && w.ok && j < w.n; j++) {
        const rpc_native_tx *x = &txs[b->first + j], *y = &wtx[w.first + j];
        if (x->index != y->index || !addr_equal(&x->to, &y->to) ||
            !addr_equal(&x->from, &y->from) || u256_cmp(&x->value, &y->value) != 0 ||
            memcmp(x->hash, y->hash, 32) != 0)
            d = differ(why, cap, "another transfer candidate", i);
    }
    free(wtx);
    return d;
}

int rpc_blocks_compare(const char *text, size_t len, const size_t *cuts, size_t n_cuts,
                       char *why, size_t cap, err *e)
{
    why[0] = '\0';
    json_error_t jerr;
    json_t *tree = json_loadb(text, len, JSON_ALLOW_NUL, &jerr);
    rpc_logs_stream *s;
    if (rpc_logs_stream_new(&s, e) < 0) {
        json_decref(tree);
        return -1;
    }
    rpc_logs_stream_blocks(s, true);
    feed_cut(s, text, len, cuts, n_cuts);
    json_t *skel = NULL;
    err fe;
    int rs = rpc_logs_stream_finish(s, &skel, &fe);
    int d = 0;
    if ((rs == 0) != (tree != NULL)) {
        snprintf(why, cap, "%s", tree ? fe.msg : "the reader took what jansson refused");
        d = 1;
    } else if (tree && !json_is_array(tree)) {
        if (!json_equal(tree, skel))
            d = differ(why, cap, "another answer", 0);
    } else if (tree && json_array_size(tree) != json_array_size(skel)) {
        d = differ(why, cap, "another number of responses", 0);
    }
    size_t ntx = 0;
    const rpc_native_tx *txs = rpc_logs_stream_txs(s, &ntx);
    for (size_t i = 0; !d && tree && json_is_array(tree) && i < json_array_size(tree); i++) {
        json_t *t = json_array_get(tree, i), *k = json_array_get(skel, i);
        json_t *tr = json_is_object(t) ? json_object_get(t, "result") : NULL;
        if (!json_is_object(tr)) {
            if (!json_equal(t, k))
                d = differ(why, cap, "another response", i);
            continue;
        }
        rpc_native_block b;
        if (!json_is_object(k) || rpc_logs_stream_block(s, json_object_get(k, "result"), &b) < 0) {
            d = differ(why, cap, "no block in the reader's result", i);
            continue;
        }
        json_t *t2 = json_deep_copy(t), *k2 = json_deep_copy(k);
        if (!t2 || !k2) {
            json_decref(t2);
            json_decref(k2);
            d = -1;
            err_set(e, ERR_NOMEM, "out of memory comparing");
            break;
        }
        json_object_del(t2, "result");
        json_object_del(k2, "result");
        if (!json_equal(t2, k2))
            d = differ(why, cap, "another response besides its result", i);
        json_decref(t2);
        json_decref(k2);
        if (!d)
            d = block_differs(&b, txs, ntx, tr, i, why, cap, e);
    }
    json_decref(skel);
    json_decref(tree);
    rpc_logs_stream_free(&s);
    return d;
}
