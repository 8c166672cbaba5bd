/* test_rpc_ws.c: the pure parts of the head subscription: the upgrade answer's check
 * (RFC 6455's own example key) and the reading of subscription messages as nodes send
 * them, including the ones to ignore and the ones that end the subscription. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/rpc_ws.h"

static void test_handshake(void **state)
{
    (void)state;
    err e;
    static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    assert_int_equal(rpc_ws_check_handshake(ok, strlen(ok), "dGhlIHNhbXBsZSBub25jZQ==", &e), 0);
    static const char lower[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                "sec-websocket-accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\n\r\n";
    assert_int_equal(
        rpc_ws_check_handshake(lower, strlen(lower), "dGhlIHNhbXBsZSBub25jZQ==", &e), 0);
    assert_int_equal(rpc_ws_check_handshake(ok, strlen(ok), "AAAAAAAAAAAAAAAAAAAAAA==", &e), -1);
    assert_non_null(strstr(e.msg, "wrong Sec-WebSocket-Accept"));
    static const char refused[] = "HTTP/1.1 400 Bad Request\x1b[2J\r\n\r\n";
    assert_int_equal(rpc_ws_check_handshake(refused, strlen(refused), "x", &e), -1);
    assert_non_null(strstr(e.msg, "refused the WebSocket upgrade: HTTP 400"));
    assert_null(strchr(e.msg, 0x1b));
    /* len bytes, not a string: nothing past them is read (a fuzzer's find, under ASan) */
    char *cut = malloc(12);
    memcpy(cut, "HTTP/1.1 400", 12);
    assert_int_equal(rpc_ws_check_handshake(cut, 12, "x", &e), -1);
    assert_non_null(strstr(e.msg, "HTTP 400"));
    free(cut);
    static const char none[] = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
    assert_int_equal(rpc_ws_check_handshake(none, strlen(none), "x", &e), -1);
    assert_int_equal(rpc_ws_check_handshake("HTTP/1.0 101", 12, "x", &e), -1);
    assert_int_equal(rpc_ws_check_handshake("", 0, "x", &e), -1);
}

static rpc_ws_msg parse(const char *m, const char *sub, char *out, uint64_t *n, err *e)
{
    return rpc_ws_parse_message(m, strlen(m), sub, out, 80, n, e);
}

static void test_messages(void **state)
{
    (void)state;
    char sub[80] = "";
    uint64_t n = 0;
    err e;
    assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"0xabc\"}", "", sub, &n, &e),
                     RPC_WS_MSG_SUBSCRIBED);
    assert_string_equal(sub, "0xabc");
    static const char head[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"eth_subscription\",\"params\":{\"subscription\":"
        "\"0xabc\",\"result\":{\"number\":\"0x1b4\",\"hash\":\"0x00\"}}}";
    assert_int_equal(parse(head, "0xabc", sub, &n, &e), RPC_WS_MSG_HEAD);
    assert_int_equal(n, 0x1b4);
    /* another subscription's, before ours is known, another id: not ours */
    assert_int_equal(parse(head, "0xdef", sub, &n, &e), RPC_WS_MSG_OTHER);
    assert_int_equal(parse(head, "", sub, &n, &e), RPC_WS_MSG_OTHER);
    assert_int_equal(parse("{\"id\":7,\"result\":\"0x1\"}", "0xabc", sub, &n, &e),
                     RPC_WS_MSG_OTHER);
    /* refusals and garbage end the subscription, with a safe one-line reason */
    assert_int_equal(parse("{\"id\":1,\"error\":{\"code\":-32601,\"message\":\"no\\u001b[2J\"}}",
                           "", sub, &n, &e),
                     RPC_WS_MSG_ERROR);
    assert_non_null(strstr(e.msg, "eth_subscribe refused"));
    assert_null(strchr(e.msg, 0x1b));
    assert_int_equal(parse("{\"id\":1,\"result\":\"\"}", "", sub, &n, &e), RPC_WS_MSG_ERROR);
    assert_int_equal(parse("{\"id\":1,\"result\":\"a\\u0000b\"}", "", sub, &n, &e),
                     RPC_WS_MSG_ERROR);
    assert_int_equal(parse("not json", "0xabc", sub, &n, &e), RPC_WS_MSG_ERROR);
    assert_int_equal(parse("[1]", "0xabc", sub, &n, &e), RPC_WS_MSG_ERROR);
    static const char bad_number[] =
        "{\"method\":\"eth_subscription\",\"params\":{\"subscription\":\"0xabc\","
        "\"result\":{\"number\":\"0x10000000000000000\"}}}";
    assert_int_equal(parse(bad_number, "0xabc", sub, &n, &e), RPC_WS_MSG_ERROR);
}

static void test_url_of(void **state)
{
    (void)state;
    char *u = NULL;
    err e;
    assert_int_equal(rpc_ws_url_of("http://127.0.0.1:8545", &u, &e), 0);
    assert_string_equal(u, "ws://127.0.0.1:8545");
    free(u);
    assert_int_equal(rpc_ws_url_of("https://x.example/v2/${env:K}", &u, &e), 0);
    assert_string_equal(u, "wss://x.example/v2/${env:K}");
    free(u);
    assert_int_equal(rpc_ws_url_of("ftp://x", &u, &e), -1);
    rpc_ws *w = NULL;
    assert_int_equal(rpc_ws_open(&w, "wss://x.example/", 100, &e), -1);
    assert_non_null(strstr(e.msg, "not supported"));
    assert_null(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_url_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
