/* test_bridge_ccip.c: the CCIP message decoder and message id (src/bridge/ccip.c) against
 * a CCIPSendRequested the devnet's router emitted and whose id it returned
 * (tests/vectors/ccip_message.txt), against an id computed with cast keccak / cast
 * abi-encode by hand, and against malformed encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "bridge/ccip.h"
#include "vectors.h"

static uint8_t data[4096];
static size_t data_len;

static void load_event(uint64_t *dst, addr *on_ramp, uint8_t id[32])
{
    vectors v;
    vectors_open(&v, "ccip_message.txt");
    assert_true(vectors_next(&v) == 5);
    assert_string_equal(v.field[0], "event");
    err e;
    assert_int_equal(hex_decode(data, sizeof data, &data_len, v.field[1], strlen(v.field[1]),
                                HEX_REQUIRE_PREFIX, &e), 0);
    *dst = strtoull(v.field[2], NULL, 10);
    assert_int_equal(addr_parse(on_ramp, v.field[3], &e), 0);
    assert_int_equal(hex_decode_exact(id, 32, v.field[4], HEX_REQUIRE_PREFIX, &e), 0);
    vectors_close(&v);
}

static void test_event_id(void **state)
{
    (void)state;
    uint64_t dst;
    addr onramp;
    uint8_t want[32], meta[32], got[32];
    load_event(&dst, &onramp, want);
    bridge_ccip_msg *m = calloc(1, sizeof *m);
    err e;
    assert_int_equal(bridge_ccip_msg_parse(m, data, data_len, &e), 0);
    assert_true(m->src_selector == 5009297550715157269ULL);
    assert_int_equal(m->seq, 1);
    assert_int_equal(m->nonce, 1);
    assert_int_equal(m->n_tokens, 1);
    assert_int_equal(m->data_len, 0);
    assert_int_equal(m->receiver.b[18], 0xbe);
    assert_int_equal(m->receiver.b[19], 0xef);
    u256 three = u256_from_u64(3000000000000000000ULL);
    assert_true(u256_cmp(&m->amounts[0], &three) == 0);
    assert_memory_equal(m->id, want, 32);
    bridge_ccip_metadata_hash(meta, m->src_selector, dst, &onramp);
    bridge_ccip_message_id(got, m, meta);
    assert_memory_equal(got, want, 32);
    /* another lane (destination), another id */
    bridge_ccip_metadata_hash(meta, m->src_selector, dst + 1, &onramp);
    bridge_ccip_message_id(got, m, meta);
    assert_memory_not_equal(got, want, 32);
    /* one more unit, another id */
    bridge_ccip_metadata_hash(meta, m->src_selector, dst, &onramp);
    m->amounts[0] = u256_from_u64(3000000000000000001ULL);
    bridge_ccip_message_id(got, m, meta);
    assert_memory_not_equal(got, want, 32);
    free(m);
}

/* Computed with cast (tools/bin/cast 1.x):
 *   meta=$(cast keccak $(cast abi-encode "f(bytes32,uint64,uint64,address)" \
 *          $(cast keccak EVM2EVMMessageHashV2) 5009297550715157269 4949039107694359620 $O))
 *   fixed=$(cast keccak $(cast abi-encode "f(address,address,uint64,uint256,bool,uint64,address,uint256)" \
 *          $S $R 7 500000 false 3 0x0000000000000000000000000000000000000000 12345))
 *   cast keccak $(cast abi-encode "f(bytes32,bytes32,bytes32,bytes32,bytes32,bytes32)" 0x00..00 \
 *          $meta $fixed $(cast keccak 0x68656c6c6f) \
 *          $(cast keccak $(cast abi-encode "f((address,uint256)[])" "[]")) \
 *          $(cast keccak $(cast abi-encode "f(bytes[])" "[]")))
 * with S = 0x11..11, R = 0x22..22, O = 0xaa..aa: a message with data and no tokens. */
static void test_cast_id(void **state)
{
    (void)state;
    bridge_ccip_msg *m = calloc(1, sizeof *m);
    memset(m->sender.b, 0x11, 20);
    memset(m->receiver.b, 0x22, 20);
    m->seq = 7;
    m->gas_limit = u256_from_u64(500000);
    m->nonce = 3;
    m->fee_amount = u256_from_u64(12345);
    memcpy(m->data, "hello", 5);
    m->data_len = 5;
    addr o;
    memset(o.b, 0xaa, 20);
    uint8_t meta[32], got[32], want_meta[32], want[32];
    err e;
    assert_int_equal(hex_decode_exact(want_meta, 32,
                                      "0xb1983d60784a7fd71d4c530843023bd89a651f78fe06f21a044a8ab8df280615",
                                      HEX_REQUIRE_PREFIX, &e), 0);
    assert_int_equal(hex_decode_exact(want, 32,
                                      "0x202aa3a5c6c3217561ed6c84cd1cbbec13f6c0ef3adcbd757b8da74e7dff0d97",
                                      HEX_REQUIRE_PREFIX, &e), 0);
    bridge_ccip_metadata_hash(meta, 5009297550715157269ULL, 4949039107694359620ULL, &o);
    assert_memory_equal(meta, want_meta, 32);
    bridge_ccip_message_id(got, m, meta);
    assert_memory_equal(got, want, 32);
    free(m);
}

static void test_malformed(void **state)
{
    (void)state;
    uint64_t dst;
    addr onramp;
    uint8_t id[32];
    load_event(&dst, &onramp, id);
    bridge_ccip_msg *m = calloc(1, sizeof *m);
    err e;
    uint8_t *d = malloc(data_len);
    /* cut by a word, by a byte; trailing word */
    assert_int_equal(bridge_ccip_msg_parse(m, data, data_len - 32, &e), -1);
    assert_int_equal(bridge_ccip_msg_parse(m, data, data_len - 1, &e), -1);
    memcpy(d, data, data_len);
    uint8_t *big = calloc(1, data_len + 32);
    memcpy(big, data, data_len);
    assert_int_equal(bridge_ccip_msg_parse(m, big, data_len + 32, &e), -1);
    free(big);
    /* a dirty address word (the sender's upper bytes) */
    d[32 + 32] = 1;
    assert_int_equal(bridge_ccip_msg_parse(m, d, data_len, &e), -1);
    memcpy(d, data, data_len);
    /* an offset outside the message (tokenAmounts) */
    d[32 + 10 * 32 + 30] = 0xff;
    assert_int_equal(bridge_ccip_msg_parse(m, d, data_len, &e), -1);
    memcpy(d, data, data_len);
    /* strict = 2 */
    d[32 + 5 * 32 + 31] = 2;
    assert_int_equal(bridge_ccip_msg_parse(m, d, data_len, &e), -1);
    /* the untouched copy still parses */
    memcpy(d, data, data_len);
    assert_int_equal(bridge_ccip_msg_parse(m, d, data_len, &e), 0);
    free(d);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_id),
        cmocka_unit_test(test_cast_id),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
