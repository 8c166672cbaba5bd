/* rpc_logs_answer.c: whole eth_getLogs answers read the two ways (the streaming reader
 * fed in pieces, and a jansson tree), with the same checks the client makes
 * (rpc_response_check): what the unit test and the fuzz target compare. */
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

int rpc_logs_parse_pieces(const char *text, size_t len, int64_t id, const size_t *cuts,
                          size_t n_cuts, rpc_log_list *out, err *e)
{
    memset(out, 0, sizeof *out);
    rpc_logs_stream *s;
    if (rpc_logs_stream_new(&s, e) < 0)
        return -1;
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

