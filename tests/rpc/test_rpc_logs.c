/* test_rpc_logs.c: the fast eth_getLogs reader on golden answers written by Python's
 * json module (tests/vectors/rpc_getlogs.json, by tests/rpc/gen_logs_vectors.py), then
 * on every truncation of one answer and on hand-made malformed ones: each is refused
 * (the general path then classifies it), never misread. */
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

static int parse_str(const char *s)
{
    rpc_log_list l;
    err e;
    int rc = rpc_logs_parse(s, strlen(s), 7, &l, &e);
    if (rc == 0)
        rpc_log_list_free(&l);
    return rc;
}

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
        "{\"id\":7,\"result\":[],\"result\":[]}",
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
        {"\"0x0101", "\"0x\\u00301"},               /* escaped hex */
        {"\"data\":\"0x\"", "\"data\":\"0x0\""},    /* odd hex */
        {"\"data\":\"0x\"", "\"data\":\"0xzz\""},   /* not hex */
        {"\"topics\":[]", "\"topics\":[\"0x01\"]"}, /* short topic */
        {"\"topics\":[]", "\"topics\":{}"},         /* not an array */
        {"\"logIndex\":\"0x1\"", "\"logIndex\":\"0x1\",\"logIndex\":\"0x2\""}, /* repeated */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
