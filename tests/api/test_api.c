/* test_api.c: the API's pure core (src/api/core.c): routes and their scopes, list query
 * checks, the escrow proposal body (exact fields, types, sizes; the canonical form),
 * bearer tokens and their hash (BLAKE2b-256 of the token, computed independently here with
 * Python's hashlib: see the vector below), the rate bucket, event ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"

static void test_routes(void **state)
{
    (void)state;
    api_match m;
    api_route_match("GET", "/v1/escrows", &m);
    assert_int_equal(m.route, API_ROUTE_ESCROWS);
    assert_int_equal(m.scope, API_SCOPE_READ);
    api_route_match("GET", "/v1/escrows/local/0xabc", &m);
    assert_int_equal(m.route, API_ROUTE_ESCROW);
    assert_int_equal(m.n_seg, 2);
    assert_string_equal(m.seg[0], "local");
    assert_string_equal(m.seg[1], "0xabc");
    api_route_match("POST", "/v1/proposals/escrow", &m);
    assert_int_equal(m.route, API_ROUTE_PROPOSE_ESCROW);
    assert_int_equal(m.scope, API_SCOPE_PROPOSE);
    api_route_match("GET", "/v1/proposals/12", &m);
    assert_int_equal(m.route, API_ROUTE_PROPOSAL);
    api_route_match("DELETE", "/v1/escrows", &m);
    assert_int_equal(m.route, API_ROUTE_NONE);
    assert_true(m.path_known);
    api_route_match("GET", "/v1/escrows/", &m);
    assert_int_equal(m.route, API_ROUTE_NONE);
    api_route_match("GET", "/v1/escrows/a/b/c", &m);
    assert_int_equal(m.route, API_ROUTE_NONE);
    assert_false(m.path_known);
    api_route_match("GET", "/v1/entities", &m);
    assert_int_equal(m.scope, API_SCOPE_PROPOSE);
}

static void test_page(void **state)
{
    (void)state;
    api_page pg;
    api_problem p;
    api_kv ok[] = {{"offset", "10"}, {"limit", "500"}, {"sort", "amount"}, {"order", "desc"}};
    assert_int_equal(api_page_parse(&pg, ok, 4, "offset,limit,sort,order", &p), 0);
    assert_int_equal(pg.offset, 10);
    assert_int_equal(pg.limit, 500);
    assert_int_equal(pg.sort, 5);
    assert_true(pg.descending);
    api_kv big[] = {{"limit", "501"}};
    assert_int_equal(api_page_parse(&pg, big, 1, "limit", &p), -1);
    assert_int_equal(p.status, 400);
    api_kv neg[] = {{"offset", "-1"}};
    assert_int_equal(api_page_parse(&pg, neg, 1, "offset", &p), -1);
    api_kv unk[] = {{"limitx", "1"}};
    assert_int_equal(api_page_parse(&pg, unk, 1, "limit", &p), -1);
    assert_non_null(strstr(p.detail, "limitx"));
    api_kv twice[] = {{"limit", "1"}, {"limit", "2"}};
    assert_int_equal(api_page_parse(&pg, twice, 2, "limit", &p), -1);
    api_kv sort[] = {{"sort", "colour"}};
    assert_int_equal(api_page_parse(&pg, sort, 1, "sort", &p), -1);
}

#define GOOD                                                                                       \
    "{\"payee\":\"bob\",\"token\":\"ETH\",\"amount\":\"100\",\"approvers\":[\"a\",\"b\"],"         \
    "\"threshold\":2,\"deadline\":\"7d\""

static int parse(const char *body, api_escrow_req *r, api_problem *p)
{
    return api_escrow_req_parse(r, body, strlen(body), p);
}

static void test_body(void **state)
{
    (void)state;
    api_escrow_req r;
    api_problem p;
    assert_int_equal(parse(GOOD "}", &r, &p), 0);
    assert_int_equal(r.n_approvers, 2);
    assert_string_equal(r.amount, "100");
    char *c = api_escrow_req_json(&r);
    assert_string_equal(c, "{\"amount\":\"100\",\"approvers\":[\"a\",\"b\"],\"deadline\":\"7d\","
                           "\"payee\":\"bob\",\"threshold\":2,\"token\":\"ETH\"}");
    free(c);
    static const struct {
        const char *body;
        int status;
    } bad[] = {
        {"", 400},
        {"{", 400},
        {"[]", 400},
        {GOOD ",\"x\":1}", 422},
        {GOOD ",\"payee\":\"c\"}", 400},                       /* a duplicate key */
        {GOOD "} trailing", 400},
        {"{\"payee\":\"bob\",\"token\":\"ETH\",\"amount\":100,\"approvers\":[\"a\"],"
         "\"threshold\":1,\"deadline\":\"7d\"}", 422},         /* a number, not a string */
        {"{\"payee\":\"bob\",\"token\":\"ETH\",\"amount\":\"1.5\",\"approvers\":[\"a\"],"
         "\"threshold\":1,\"deadline\":\"7d\"}", 422},         /* not base units */
        {"{\"payee\":\"bob\",\"token\":\"ETH\",\"amount\":\"1\",\"approvers\":[],"
         "\"threshold\":1,\"deadline\":\"7d\"}", 422},
        {"{\"payee\":\"bob\",\"token\":\"ETH\",\"amount\":\"1\",\"approvers\":[\"a\"],"
         "\"threshold\":2,\"deadline\":\"7d\"}", 422},
        {"{\"payee\":\"b\\u0000b\",\"token\":\"ETH\",\"amount\":\"1\",\"approvers\":[\"a\"],"
         "\"threshold\":1,\"deadline\":\"7d\"}", 400},         /* NUL: jansson refuses */
        {"{\"payee\":\"b\\nb\",\"token\":\"ETH\",\"amount\":\"1\",\"approvers\":[\"a\"],"
         "\"threshold\":1,\"deadline\":\"7d\"}", 422},
        {"{\"token\":\"ETH\",\"amount\":\"1\",\"approvers\":[\"a\"],"
         "\"threshold\":1,\"deadline\":\"7d\"}", 422},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&p, 0, sizeof p);
        if (parse(bad[i].body, &r, &p) != -1 || p.status != bad[i].status) {
            fprintf(stderr, "case %zu: %s -> %d (%s)\n", i, bad[i].body, p.status, p.detail);
            fail();
        }
        assert_true(p.detail[0] != '\0');
    }
    char huge[API_BODY_MAX + 2];
    memset(huge, ' ', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_int_equal(parse(huge, &r, &p), -1);
    assert_int_equal(p.status, 413);
}

static void test_payment_body(void **state)
{
    (void)state;
    api_escrow_req r;
    api_problem p;
    const char *good = "{\"payee\":\"bob\",\"token\":\"USDC\",\"amount\":\"2500\","
                       "\"operator\":\"alice\",\"reference\":\"INV-1\"}";
    assert_int_equal(api_payment_req_parse(&r, good, strlen(good), &p), 0);
    assert_int_equal(r.n_approvers, 0);
    char *c = api_payment_req_json(&r);
    assert_string_equal(c, "{\"amount\":\"2500\",\"operator\":\"alice\",\"payee\":\"bob\","
                           "\"reference\":\"INV-1\",\"token\":\"USDC\"}");
    free(c);
    static const char *const bad[] = {
        "{\"payee\":\"bob\",\"token\":\"USDC\",\"amount\":\"1\",\"approvers\":[\"a\"]}",
        "{\"payee\":\"bob\",\"token\":\"USDC\",\"amount\":\"1\",\"deadline\":\"7d\"}",
        "{\"payee\":\"bob\",\"token\":\"USDC\"}",
        "{\"payee\":\"bob\",\"token\":\"USDC\",\"amount\":\"000\"}",
        "{\"payee\":\"bob\",\"token\":\"USDC\",\"amount\":\"1.5\"}",
        "{\"token\":\"USDC\",\"amount\":\"1\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&p, 0, sizeof p);
        if (api_payment_req_parse(&r, bad[i], strlen(bad[i]), &p) != -1 || p.status != 422) {
            fprintf(stderr, "case %zu: %s -> %d (%s)\n", i, bad[i], p.status, p.detail);
            fail();
        }
    }
    /* an escrow body is not a payment, nor the other way round */
    assert_int_equal(api_payment_req_parse(&r, GOOD "}", strlen(GOOD "}"), &p), -1);
    assert_int_equal(parse(good, &r, &p), -1);
}

static void test_bridge_body(void **state)
{
    (void)state;
    api_escrow_req r;
    api_problem p;
    const char *good = "{\"chain\":\"devnet-eth\",\"to\":\"devnet-avax\",\"amount\":\"2500\","
                       "\"recipient\":\"alice\",\"operator\":\"alice\"}";
    assert_int_equal(api_bridge_req_parse(&r, good, strlen(good), &p), 0);
    assert_string_equal(r.payee, "alice");
    assert_string_equal(r.to, "devnet-avax");
    char *c = api_bridge_req_json(&r);
    /* the asset defaults to USDC, and the canonical body names it */
    assert_string_equal(c, "{\"amount\":\"2500\",\"chain\":\"devnet-eth\",\"operator\":"
                           "\"alice\",\"recipient\":\"alice\",\"to\":\"devnet-avax\","
                           "\"token\":\"USDC\"}");
    free(c);
    static const char *const bad[] = {
        "{\"to\":\"b\",\"amount\":\"1\",\"recipient\":\"x\"}",              /* no source */
        "{\"chain\":\"a\",\"amount\":\"1\",\"recipient\":\"x\"}",           /* no destination */
        "{\"chain\":\"a\",\"to\":\"b\",\"amount\":\"1\"}",                  /* no recipient */
        "{\"chain\":\"a\",\"to\":\"b\",\"amount\":\"1\",\"payee\":\"x\"}",  /* payee: unknown */
        "{\"chain\":\"a\",\"to\":\"b\",\"amount\":\"0\",\"recipient\":\"x\"}",
        "{\"chain\":\"a\",\"to\":\"b\",\"amount\":\"1.5\",\"recipient\":\"x\"}",
        "{\"chain\":\"a\",\"to\":7,\"amount\":\"1\",\"recipient\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&p, 0, sizeof p);
        if (api_bridge_req_parse(&r, bad[i], strlen(bad[i]), &p) != -1 || p.status != 422) {
            fprintf(stderr, "case %zu: %s -> %d (%s)\n", i, bad[i], p.status, p.detail);
            fail();
        }
    }
}

static void test_tokens(void **state)
{
    (void)state;
    /* python3 -c "import hashlib;print(hashlib.blake2b(b'fpa_'+b'ab'*32,digest_size=32).hexdigest())" */
    char tok[API_TOKEN_LEN + 1], h[65];
    snprintf(tok, sizeof tok, "fpa_%s",
             "abababababababababababababababababababababababababababababababab");
    api_token_hash(tok, h);
    assert_string_equal(h, "7e4f746880b0968852145c511fe71d909dbaf1a0cc7282f1f73ee8501bad4cf3");
    char hdr[100];
    snprintf(hdr, sizeof hdr, "Bearer %s", tok);
    const char *t = NULL;
    assert_int_equal(api_bearer(hdr, &t), 0);
    assert_string_equal(t, tok);
    assert_int_equal(api_bearer("Bearer fpa_00", &t), -1);
    assert_int_equal(api_bearer("Basic abc", &t), -1);
    assert_int_equal(api_bearer(NULL, &t), -1);
    char a[API_TOKEN_LEN + 1], b[API_TOKEN_LEN + 1];
    api_token_new(a);
    api_token_new(b);
    assert_int_equal(strlen(a), API_TOKEN_LEN);
    assert_string_not_equal(a, b);
    snprintf(hdr, sizeof hdr, "Bearer %s", a);
    assert_int_equal(api_bearer(hdr, &t), 0);
}

static void test_bucket(void **state)
{
    (void)state;
    api_bucket b = {0};
    unsigned retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(api_bucket_take(&b, 100.0, 1.0, 3.0, &retry));
    assert_false(api_bucket_take(&b, 100.0, 1.0, 3.0, &retry));
    assert_int_equal(retry, 1);
    assert_true(api_bucket_take(&b, 101.0, 1.0, 3.0, &retry));
    assert_false(api_bucket_take(&b, 101.0, 0.1, 3.0, &retry));
    assert_int_equal(retry, 10);
    assert_int_equal(api_event_id_parse("42"), 42);
    assert_int_equal(api_event_id_parse("-1"), -1);
    assert_int_equal(api_event_id_parse("4x"), -1);
    assert_int_equal(api_event_id_parse(""), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes), cmocka_unit_test(test_page), cmocka_unit_test(test_body),
        cmocka_unit_test(test_payment_body), cmocka_unit_test(test_bridge_body),
        cmocka_unit_test(test_tokens), cmocka_unit_test(test_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
