/* test_rpc_logs.c: the streaming eth_getLogs reader on golden answers written by
 * Python's json module (tests/vectors/rpc_getlogs.json, by tests/rpc/gen_logs_vectors.py),
 * fed whole and in pieces of every size; then on every truncation of one answer, on
 * hand-made malformed ones (each refused, never misread) and on hand-made edge cases
 * (escapes, white space, any order, unknown and repeated fields, error objects), where
 * it must give what a jansson tree of the whole answer gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/bytes.h"
#include "rpc/rpc_internal.h"
#include "rpc/rpc_logs.h"

static json_t *root;

static int load(void **state)
{
    char path[4096];
    const char *r = getenv("FUSION_ROOT");
    snprintf(path, sizeof path, "%s/tests/vectors/rpc_getlogs.json", r ? r : ".");
    json_error_t jerr;
    root = json_load_file(path, 0, &jerr);
    return root && json_array_size(root) >= 12 ? 0 : -1;
}

static int unload(void **state)
{
    json_decref(root);
    return 0;
}

static void hex_eq(const uint8_t *got, size_t n, const json_t *want)
{
    uint8_t w[4096];
    size_t wn = 0;
    err e;
    const char *s = json_string_value(want);
    assert_non_null(s);
    assert_int_equal(hex_decode(w, sizeof w, &wn, s, strlen(s), HEX_REQUIRE_PREFIX, &e), 0);
    assert_int_equal(wn, n);
    if (n)
        assert_memory_equal(got, w, n);
}

static void list_eq(const rpc_log_list *a, const rpc_log_list *b, const char *what)
{
    if (a->n != b->n)
        fail_msg("%s: %zu logs, the jansson path %zu", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const rpc_log *x = &a->items[i], *y = &b->items[i];
        if (x->block_number != y->block_number || x->log_index != y->log_index ||
            x->tx_index != y->tx_index || x->n_topics != y->n_topics ||
            x->removed != y->removed || x->data_len != y->data_len ||
            memcmp(x->block_hash, y->block_hash, 32) || memcmp(x->tx_hash, y->tx_hash, 32) ||
            memcmp(x->address.b, y->address.b, ADDR_LEN) ||
            memcmp(x->topics, y->topics, 32 * x->n_topics) ||
            (x->data_len && memcmp(x->data, y->data, x->data_len)))
            fail_msg("%s: log %zu differs from the jansson path", what, i);
    }
}

/* The streaming reader on s, whole and in pieces of 1, 2, 3, 7 and 64 bytes and in a
 * mix of sizes, each time giving what the jansson path gives. Returns that rc; *out the
 * logs when it is 0 and out is not NULL. */
static int both_id(const char *s, size_t len, int64_t id, rpc_log_list *out)
{
    rpc_log_list want, got;
    err e;
    int rc = rpc_logs_parse_tree(s, len, id, &want, &e);
    static const size_t cuts[][3] = {{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {3, 3, 3},
                                     {7, 7, 7}, {64, 64, 64}, {5, 1, 11}};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        int r = rpc_logs_parse_pieces(s, len, id, k ? cuts[k] : NULL, 3, &got, &e);
        if (r != rc)
            fail_msg("pieces of %zu: streaming %d (%s), jansson %d: %.300s", cuts[k][0], r,
                     r ? e.msg : "", rc, s);
        if (r == 0) {
            list_eq(&got, &want, s);
            rpc_log_list_free(&got);
        } else {
            assert_null(got.items);
        }
    }
    if (rc == 0 && out)
        *out = want;
    else
        rpc_log_list_free(&want);
    return rc;
}

static int both(const char *s, rpc_log_list *out)
{
    return both_id(s, strlen(s), 7, out);
}

static int parse_str(const char *s)
{
    return both(s, NULL);
}

static void test_golden(void **state)
{
    size_t i;
    json_t *v;
    json_array_foreach(root, i, v)
    {
        const char *text = json_string_value(json_object_get(v, "response"));
        int64_t id = json_integer_value(json_object_get(v, "id"));
        json_t *want = json_object_get(v, "logs");
        rpc_log_list l;
        err e;
        err_clear(&e);
        if (rpc_logs_parse(text, strlen(text), id, &l, &e) < 0)
            fail_msg("vector %zu: %s", i, e.msg);
        assert_int_equal(l.n, json_array_size(want));
        for (size_t k = 0; k < l.n; k++) {
            const rpc_log *lg = &l.items[k];
            json_t *w = json_array_get(want, k);
            hex_eq(lg->address.b, 20, json_object_get(w, "address"));
            hex_eq(lg->block_hash, 32, json_object_get(w, "blockHash"));
            hex_eq(lg->tx_hash, 32, json_object_get(w, "transactionHash"));
            hex_eq(lg->data, lg->data_len, json_object_get(w, "data"));
            assert_true(lg->block_number ==
                        (uint64_t)json_integer_value(json_object_get(w, "blockNumber")));
            assert_int_equal(lg->log_index, json_integer_value(json_object_get(w, "logIndex")));
            assert_int_equal(lg->tx_index,
                             json_integer_value(json_object_get(w, "transactionIndex")));
            json_t *topics = json_object_get(w, "topics");
            assert_int_equal(lg->n_topics, json_array_size(topics));
            for (size_t t = 0; t < lg->n_topics; t++)
                hex_eq(lg->topics[t], 32, json_array_get(topics, t));
            assert_false(lg->removed);
        }
        rpc_log_list_free(&l);
        /* In pieces of every size, the same as the jansson path. */
        assert_int_equal(both_id(text, strlen(text), id, NULL), 0);
        /* Another id is not our answer. */
        assert_int_equal(rpc_logs_parse(text, strlen(text), id + 1, &l, &e), -1);
        assert_null(l.items);
    }
}

static void test_truncations(void **state)
{
    /* Every strict prefix of a non-empty answer is refused, without reading past it. */
    const char *text = json_string_value(json_object_get(json_array_get(root, 1), "response"));
    size_t n = strlen(text);
    for (size_t k = 0; k < n; k++) {
        char *cut = malloc(k ? k : 1);
        memcpy(cut, text, k);
        rpc_log_list l;
        err e;
        if (rpc_logs_parse(cut, k, 2, &l, &e) != -1)
            fail_msg("prefix of %zu bytes accepted", k);
        free(cut);
    }
}

static const char LOG_OK[] =
    "{\"address\":\"0x0101010101010101010101010101010101010101\",\"topics\":[],"
    "\"data\":\"0x\",\"blockNumber\":\"0x5\",\"blockHash\":\"0x0202020202020202020202020202020202"
    "020202020202020202020202020202\",\"transactionHash\":\"0x03030303030303030303030303030303"
    "03030303030303030303030303030303\",\"transactionIndex\":\"0x0\",\"logIndex\":\"0x1\"}";

static void test_malformed(void **state)
{
    char s[2048];
    snprintf(s, sizeof s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":[%s]}", LOG_OK);
    assert_int_equal(parse_str(s), 0);
    snprintf(s, sizeof s, " \n{ \"id\" : 7 , \"result\" : [ %s , %s ] } \n", LOG_OK, LOG_OK);
    assert_int_equal(parse_str(s), 0);
    assert_int_equal(parse_str("{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":[]}"), 0);

    static const char *const bad[] = {
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32005,\"message\":\"too many\"}}",
        "{\"jsonrpc\":\"1.0\",\"id\":7,\"result\":[]}",
        "{\"id\":7.0,\"result\":[]}",
        "{\"id\":7e0,\"result\":[]}",
        "{\"id\":\"7\",\"result\":[]}",
        "{\"id\":7,\"result\":[]} x",
        "{\"id\":7,\"result\":[],\"result\":{}}", /* the last result counts */
        "{\"id\":7}",
        "{\"result\":[]}",
        "{\"id\":7,\"result\":{}}",
        "{\"id\":7,\"result\":[1]}",
        "{\"id\":7,\"result\":[{}]}",
        "[{\"id\":7,\"result\":[]}]",
        "{\"id\":7,\"result\":[],}",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_str(bad[i]) != -1)
            fail_msg("accepted: %s", bad[i]);

    /* Field-level mutations of the good log. */
    static const struct {
        const char *from, *to;
    } muts[] = {
        {"\"0x5\"", "\"0x05\""},                    /* leading zero */
        {"\"0x5\"", "\"0X5\""},                     /* upper-case prefix */
        {"\"0x5\"", "\"0x8000000000000000\""},      /* beyond 63 bits */
        {"\"0x5\"", "null"},                        /* pending log */
        {"\"0x1\"}", "\"0x100000000\"}"},           /* log index beyond 32 bits */
        {"\"0x0101", "\"0x01"},                     /* short address */
        {"\"data\":\"0x\"", "\"data\":\"0x0\""},    /* odd hex */
        {"\"data\":\"0x\"", "\"data\":\"0xzz\""},   /* not hex */
        {"\"topics\":[]", "\"topics\":[\"0x01\"]"}, /* short topic */
        {"\"topics\":[]", "\"topics\":{}"},         /* not an array */
        {"\"logIndex\":\"0x1\"", "\"logIndex\":\"0x1\",\"logIndex\":null"}, /* last is bad */
        {",\"logIndex\":\"0x1\"", ""},                                         /* missing */
        {"\"data\":\"0x\"", "\"data\":\"0x\",\"removed\":1"},
    };
    for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
        char lg[1024];
        const char *at = strstr(LOG_OK, muts[i].from);
        assert_non_null(at);
        snprintf(lg, sizeof lg, "%.*s%s%s", (int)(at - LOG_OK), LOG_OK, muts[i].to,
                 at + strlen(muts[i].from));
        snprintf(s, sizeof s, "{\"id\":7,\"result\":[%s]}", lg);
        if (parse_str(s) != -1)
            fail_msg("mutation %zu accepted: %s", i, s);
    }
    /* Five topics. */
    char five[1024];
    const char *t32 = "\"0x0303030303030303030303030303030303030303030303030303030303030303\"";
    char tl[600];
    snprintf(tl, sizeof tl, "\"topics\":[%s,%s,%s,%s,%s]", t32, t32, t32, t32, t32);
    const char *at = strstr(LOG_OK, "\"topics\":[]");
    snprintf(five, sizeof five, "%.*s%s%s", (int)(at - LOG_OK), LOG_OK, tl,
             at + strlen("\"topics\":[]"));
    snprintf(s, sizeof s, "{\"id\":7,\"result\":[%s]}", five);
    assert_int_equal(parse_str(s), -1);
    /* Deep nesting in an unknown field is bounded. */
    char deep[512];
    size_t k = 0;
    k += (size_t)snprintf(deep + k, sizeof deep - k, "{\"id\":7,\"result\":[{\"x\":");
    for (int d = 0; d < 100; d++)
        deep[k++] = '[';
    deep[k] = '\0';
    assert_int_equal(parse_str(deep), -1);
}

/* Answers a jansson tree reads as logs, though no node writes them so: the streaming
 * reader must read them the same (both() compares every log, in every piece size). */
static void test_like_jansson(void **state)
{
    char s[4096], lg[2048];
    rpc_log_list l;
    /* Escaped keys and escaped hex decode to what they spell. */
    snprintf(lg, sizeof lg, "%s", LOG_OK);
    char *at = strstr(lg, "\"0x0101");
    memmove(at + 9, at + 4, strlen(at + 4) + 1);
    memcpy(at, "\"0x\\u0030", 9); /* "0x\u0030 then 101...: the same address */
    snprintf(s, sizeof s, "{\"\\u0072esult\":[%s],\"i\\u0064\":7,\"jsonrpc\":\"2.0\"}", lg);
    assert_int_equal(both(s, &l), 0);
    assert_int_equal(l.n, 1);
    for (size_t i = 0; i < ADDR_LEN; i++)
        assert_int_equal(l.items[0].address.b[i], 1);
    rpc_log_list_free(&l);
    /* A repeated field and a repeated result: the last one counts. */
    snprintf(s, sizeof s,
             "{\"id\":7,\"result\":[{\"x\":1}],\"result\":[%.*s,\"logIndex\":\"0x2\",\"data\":"
             "\"0xzz\",\"data\":\"0xAbCd\"}]}",
             (int)strlen(LOG_OK) - 1, LOG_OK);
    assert_int_equal(both(s, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].log_index, 2);
    assert_int_equal(l.items[0].data_len, 2);
    assert_int_equal(l.items[0].data[0], 0xab);
    assert_int_equal(l.items[0].data[1], 0xcd);
    rpc_log_list_free(&l);
    /* Unknown fields of every kind, white space everywhere, fields in reverse order. */
    snprintf(s, sizeof s,
             "\t{ \"extra\" : { \"a\" : [ 1.5e3 , -0 , true , null , \"\\ud83d\\ude00\\n\xc3\xa9\" ] } ,"
             " \"result\" : [ { \"logIndex\" : \"0x1\" , \"transactionIndex\":\"0x0\","
             "\"removed\":false,\"blockTimestamp\":\"0x65\",\"transactionHash\":\"0x03030303030"
             "30303030303030303030303030303030303030303030303030303\",\"blockHash\":\"0x020202020202"
             "0202020202020202020202020202020202020202020202020202\",\"blockNumber\":\"0x5\",\"data\":"
             "\"0x00ff\",\"topics\":[\"0x0404040404040404040404040404040404040404040404040404040404040404\"],"
             "\"address\":\"0x0101010101010101010101010101010101010101\"} ] , \"id\" : 7 }\r\n");
    assert_int_equal(both(s, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].n_topics, 1);
    assert_int_equal(l.items[0].topics[0][31], 4);
    assert_int_equal(l.items[0].data_len, 2);
    rpc_log_list_free(&l);
    /* A NUL inside a hash ends it, as in a C string of a jansson value; in a key it is
     * refused. */
    snprintf(lg, sizeof lg, "%s", LOG_OK);
    at = strstr(lg, "\",\"transactionHash");
    char tail[2048];
    snprintf(tail, sizeof tail, "\\u0000zz%s", at);
    snprintf(at, sizeof lg - (size_t)(at - lg), "%s", tail);
    snprintf(s, sizeof s, "{\"id\":7,\"result\":[%s]}", lg);
    assert_int_equal(both(s, &l), 0);
    rpc_log_list_free(&l);
    assert_int_equal(parse_str("{\"id\":7,\"result\":[],\"a\\u0000\":1}"), -1);
    /* Error objects, with or without a result, and an error with a null id. */
    assert_int_equal(parse_str("{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32005,"
                               "\"message\":\"query returned more than 10000 results\"}}"),
                     -1);
    assert_int_equal(parse_str("{\"id\":7,\"result\":[],\"error\":{\"code\":1}}"), -1);
    assert_int_equal(parse_str("{\"id\":null,\"error\":{\"code\":-32700,\"message\":\"x\"}}"), -1);
    assert_int_equal(parse_str("{\"id\":7,\"result\":[],\"error\":null}"), 0);
    /* jansson skips one NUL byte right after a number or a literal (its lexer's look-ahead
     * buffer), and no other. */
    static const struct {
        const char *text;
        size_t len;
        int rc;
    } nul[] = {
#define N_(text, rc) {text, sizeof text - 1, rc}
        N_("{\"id\":7\0,\"result\":[]}", 0),
        N_("{\"id\":7\0 ,\"result\":[]}", 0),
        N_("{\"id\":7,\"result\":[],\"x\":true\0}", 0),
        N_("{\"id\":7,\"result\":[],\"x\":[null\0]}", 0),
        N_("{\"id\":7\0\0,\"result\":[]}", -1),
        N_("{\"id\":7 \0,\"result\":[]}", -1),
        N_("{\"id\":7,\0\"result\":[]}", -1),
        N_("{\"id\":7,\"result\":[]\0}", -1),
        N_("{\"id\":7,\"result\":[],\"x\":\"a\"\0}", -1),
#undef N_
    };
    for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++)
        if (both_id(nul[i].text, nul[i].len, 7, NULL) != nul[i].rc)
            fail_msg("NUL case %zu", i);
    /* Strings and numbers jansson refuses. */
    static const char *const bad[] = {
        "{\"id\":7,\"result\":[],\"x\":\"\\ud800\"}",       /* lone high surrogate */
        "{\"id\":7,\"result\":[],\"x\":\"\\udc00\"}",       /* lone low surrogate */
        "{\"id\":7,\"result\":[],\"x\":\"\\ud800\\u0041\"}", /* not a low one */
        "{\"id\":7,\"result\":[],\"x\":\"\xc0\xaf\"}",        /* overlong UTF-8 */
        "{\"id\":7,\"result\":[],\"x\":\"\xed\xa0\x80\"}",    /* UTF-8 surrogate */
        "{\"id\":7,\"result\":[],\"x\":\"\\x\"}",          /* bad escape */
        "{\"id\":7,\"result\":[],\"x\":\"\\u12g4\"}",      /* bad \\u */
        "{\"id\":7,\"result\":[],\"x\":01}",
        "{\"id\":7,\"result\":[],\"x\":1.}",
        "{\"id\":7,\"result\":[],\"x\":-}",
        "{\"id\":7,\"result\":[],\"x\":1e999}",
        "{\"id\":7,\"result\":[],\"x\":99999999999999999999}",
        "{\"id\":7,\"result\":[],\"x\":tru}",
        "{\"id\":7,\"result\":[],\"x\":nul}",
        "{\"id\":7,\"result\":[] \"x\":1}",
        "{\"id\":7 \"result\":[]}",
        "{\"id\":7,\"result\":[}",
        "{\"id\":7,\"result\":[]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_str(bad[i]) != -1)
            fail_msg("accepted: %s", bad[i]);
    /* Nesting: 2048 levels are JSON to jansson, 2049 are not. */
    for (int levels = 2047; levels <= 2049; levels++) {
        char *deep = malloc(8 * 2100);
        size_t k = (size_t)sprintf(deep, "{\"id\":7,\"result\":[],\"x\":");
        for (int d = 1; d < levels; d++)
            deep[k++] = '[';
        for (int d = 1; d < levels; d++)
            deep[k++] = ']';
        deep[k++] = '}';
        deep[k] = '\0';
        assert_int_equal(both_id(deep, k, 7, NULL), levels <= 2048 ? 0 : -1);
        free(deep);
    }
}

/* The reader keeps nothing of a piece once fed: every piece goes through one scratch
 * buffer that is overwritten after each feed, and the logs are still those of the
 * answer. */
static void test_pieces_not_kept(void **state)
{
    size_t i;
    json_t *v;
    json_array_foreach(root, i, v)
    {
        const char *text = json_string_value(json_object_get(v, "response"));
        int64_t id = json_integer_value(json_object_get(v, "id"));
        size_t len = strlen(text);
        rpc_log_list want, got;
        err e;
        assert_int_equal(rpc_logs_parse_tree(text, len, id, &want, &e), 0);
        rpc_logs_stream *s;
        assert_int_equal(rpc_logs_stream_new(&s, &e), 0);
        char scratch[13];
        for (size_t at = 0; at < len;) {
            size_t n = len - at < sizeof scratch ? len - at : sizeof scratch;
            memcpy(scratch, text + at, n);
            assert_int_equal(rpc_logs_stream_feed(s, scratch, n), 0);
            memset(scratch, '"', sizeof scratch);
            at += n;
        }
        json_t *skel = NULL, *result = NULL;
        rpc_error er;
        assert_int_equal(rpc_logs_stream_finish(s, &skel, &e), 0);
        assert_int_equal(rpc_response_check(skel, id, 200, &result, &er), 0);
        assert_int_equal(rpc_logs_stream_take(s, result, &got, &e), 0);
        list_eq(&got, &want, "scratch pieces");
        json_decref(result);
        json_decref(skel);
        rpc_logs_stream_free(&s);
        assert_null(s);
        rpc_log_list_free(&got);
        rpc_log_list_free(&want);
    }
}

/* A limit of k logs: the reader stops at the log after the first k (in the answer's order),
 * says so with that log's block, and an answer of no more than k logs reads as without it. */
static void test_limit(void **state)
{
    size_t i;
    json_t *v;
    size_t tried = 0;
    json_array_foreach(root, i, v)
    {
        const char *text = json_string_value(json_object_get(v, "response"));
        size_t len = strlen(text);
        json_error_t jerr;
        json_t *doc = json_loads(text, 0, &jerr);
        const json_t *res = json_object_get(doc, "result");
        size_t n = json_is_array(res) ? json_array_size(res) : 0;
        for (size_t k = 1; k <= n; k++) {
            err e;
            rpc_logs_stream *s;
            assert_int_equal(rpc_logs_stream_new(&s, &e), 0);
            rpc_logs_stream_limit(s, k);
            int rc = 0;
            for (size_t at = 0; at < len && rc == 0; at += 7)
                rc = rpc_logs_stream_feed(s, text + at, len - at < 7 ? len - at : 7);
            uint64_t block = 0;
            bool over = rpc_logs_stream_over(s, &block);
            if (k < n) {
                const char *bn =
                    json_string_value(json_object_get(json_array_get(res, k), "blockNumber"));
                assert_non_null(bn);
                assert_int_equal(rc, -1);
                assert_true(over);
                assert_int_equal(block, strtoull(bn, NULL, 16));
                tried++;
            } else {
                assert_int_equal(rc, 0);
                assert_false(over);
            }
            rpc_logs_stream_free(&s);
        }
        json_decref(doc);
    }
    assert_true(tried > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_like_jansson),
        cmocka_unit_test(test_pieces_not_kept),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
