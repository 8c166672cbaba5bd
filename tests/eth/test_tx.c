/* test_tx.c: transactions against the EIP-155 worked example and a mainnet type-2
 * transaction (tests/vectors/tx), 64-bit chain ids, and everything the strict
 * decoder must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/keccak.h"
#include "eth/rlp.h"
#include "eth/tx.h"
#include "eth_test.h"

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    assert_non_null(s);
    return s;
}

static u256 jdec(json_t *o, const char *k)
{
    u256 v;
    assert_int_equal(u256_from_dec(&v, jstr(o, k), NULL), 0);
    return v;
}

static u256 jhex256(json_t *o, const char *k)
{
    buf b = hexbuf(jstr(o, k));
    u256 v;
    assert_int_equal(u256_from_be_bytes(&v, b.data, b.len), 0);
    buf_free(&b);
    return v;
}

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
    buf w = hexbuf(want);
    if (w.len != n || memcmp(w.data, p, n)) {
        char *g = hex_encode_new(p, n);
        fail_msg("got  %s\nwant %s", g, want);
    }
    buf_free(&w);
}

static void assert_u256_eq(const u256 *a, const u256 *b)
{
    assert_int_equal(u256_cmp(a, b), 0);
}

static void key_from(uint8_t sk[32], const char *hex)
{
    assert_int_equal(hex_decode_exact(sk, 32, hex, HEX_ALLOW_PREFIX, NULL), 0);
}

static void test_eip155_example(void **state)
{
    (void)state;
    json_t *v = load_vector_json("tx/eip155_example.json");
    eth_tx tx;
    err e;
    uint8_t sk[32], h[32];
    tx_init(&tx);
    tx.type = TX_LEGACY;
    tx.chain_id = (uint64_t)json_integer_value(json_object_get(v, "chain_id"));
    tx.nonce = (uint64_t)json_integer_value(json_object_get(v, "nonce"));
    tx.gas_price = jdec(v, "gas_price");
    tx.gas_limit = (uint64_t)json_integer_value(json_object_get(v, "gas_limit"));
    tx.has_to = true;
    assert_int_equal(addr_parse(&tx.to, jstr(v, "to"), &e), 0);
    tx.value = jdec(v, "value");
    key_from(sk, jstr(v, "private_key"));

    buf payload;
    buf_init(&payload);
    assert_int_equal(tx_signing_payload(&payload, &tx, &e), 0);
    assert_hex(payload.data, payload.len, jstr(v, "signing_data"));
    assert_int_equal(tx_signing_hash(h, &tx, &e), 0);
    assert_hex(h, 32, jstr(v, "signing_hash"));
    buf_free(&payload);

    /* unsigned: no raw encoding, no hash, no sender */
    buf raw;
    buf_init(&raw);
    addr from;
    assert_int_equal(tx_encode_raw(&raw, &tx, &e), -1);
    assert_int_equal(e.code, ERR_STATE);
    assert_int_equal(tx_recover_sender(&from, &tx, &e), -1);

    assert_int_equal(tx_sign(&tx, sk, &e), 0);
    u256 want_r = jdec(v, "r"), want_s = jdec(v, "s");
    assert_u256_eq(&tx.r, &want_r);
    assert_u256_eq(&tx.s, &want_s);
    assert_int_equal(35 + 2 * tx.chain_id + tx.y_parity,
                     (uint64_t)json_integer_value(json_object_get(v, "v")));
    assert_int_equal(tx_encode_raw(&raw, &tx, &e), 0);
    assert_hex(raw.data, raw.len, jstr(v, "signed"));
    uint8_t th[32], kh[32];
    assert_int_equal(tx_hash(th, &tx, &e), 0);
    keccak256(kh, raw.data, raw.len);
    assert_memory_equal(th, kh, 32);

    /* decode the published bytes: same fields, sender = the key's address */
    eth_tx d;
    assert_int_equal(tx_decode_raw(&d, raw.data, raw.len, &e), 0);
    assert_int_equal(d.type, TX_LEGACY);
    assert_int_equal(d.chain_id, 1);
    assert_int_equal(d.nonce, 9);
    assert_int_equal(d.gas_limit, 21000);
    assert_u256_eq(&d.gas_price, &tx.gas_price);
    assert_u256_eq(&d.value, &tx.value);
    assert_true(d.has_to && addr_equal(&d.to, &tx.to));
    assert_int_equal(d.data.len, 0);
    assert_true(d.is_signed);
    assert_u256_eq(&d.r, &want_r);
    assert_u256_eq(&d.s, &want_s);
    assert_int_equal(tx_recover_sender(&from, &d, &e), 0);
    addr want_from, key_addr;
    assert_int_equal(addr_parse(&want_from, jstr(v, "sender"), &e), 0);
    assert_true(addr_equal(&from, &want_from));
    assert_int_equal(addr_from_seckey(&key_addr, sk), 0);
    assert_true(addr_equal(&from, &key_addr));
    assert_int_equal(tx_decode_raw_for_chain(&d, raw.data, raw.len, 1, &e), 0);
    tx_free(&d);
    assert_int_equal(tx_decode_raw_for_chain(&d, raw.data, raw.len, 5, &e), -1);
    assert_non_null(strstr(e.msg, "chain 1"));
    tx_free(&d);
    buf_free(&raw);
    tx_free(&tx);
    json_decref(v);
}

static void test_mainnet_type2(void **state)
{
    (void)state;
    json_t *v = load_vector_json("tx/mainnet_type2.json");
    buf raw = hexbuf(jstr(v, "raw"));
    eth_tx d;
    err e;
    if (tx_decode_raw(&d, raw.data, raw.len, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(d.type, TX_EIP1559);
    assert_int_equal(d.chain_id, (uint64_t)json_integer_value(json_object_get(v, "chain_id")));
    assert_int_equal(d.nonce, (uint64_t)json_integer_value(json_object_get(v, "nonce")));
    assert_int_equal(d.gas_limit, (uint64_t)json_integer_value(json_object_get(v, "gas_limit")));
    u256 x = jdec(v, "max_priority_fee");
    assert_u256_eq(&d.max_priority_fee, &x);
    x = jdec(v, "max_fee");
    assert_u256_eq(&d.max_fee, &x);
    x = jdec(v, "value");
    assert_u256_eq(&d.value, &x);
    addr to;
    assert_int_equal(addr_parse(&to, jstr(v, "to"), &e), 0);
    assert_true(d.has_to && addr_equal(&d.to, &to));
    assert_hex(d.data.data, d.data.len, jstr(v, "data"));
    assert_int_equal(d.y_parity, json_integer_value(json_object_get(v, "y_parity")));
    x = jhex256(v, "r");
    assert_u256_eq(&d.r, &x);
    x = jhex256(v, "s");
    assert_u256_eq(&d.s, &x);

    uint8_t h[32];
    assert_int_equal(tx_hash(h, &d, &e), 0);
    assert_hex(h, 32, jstr(v, "hash"));
    assert_int_equal(tx_signing_hash(h, &d, &e), 0);
    assert_hex(h, 32, jstr(v, "signing_hash"));
    addr from, want;
    assert_int_equal(tx_recover_sender(&from, &d, &e), 0);
    assert_int_equal(addr_parse(&want, jstr(v, "sender"), &e), 0);
    assert_true(addr_equal(&from, &want));
    buf again;
    buf_init(&again);
    assert_int_equal(tx_encode_raw(&again, &d, &e), 0);
    assert_int_equal(again.len, raw.len);
    assert_memory_equal(again.data, raw.data, raw.len);

    /* every strict prefix is refused; one trailing byte is refused */
    for (size_t n = 0; n < raw.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        if (n)
            memcpy(p, raw.data, n);
        eth_tx t;
        assert_int_equal(tx_decode_raw(&t, p, n, NULL), -1);
        free(p);
    }
    assert_int_equal(buf_push(&raw, 0x00, NULL), 0);
    eth_tx t;
    assert_int_equal(tx_decode_raw(&t, raw.data, raw.len, &e), -1);
    assert_non_null(strstr(e.msg, "trailing"));

    buf_free(&again);
    tx_free(&d);
    buf_free(&raw);
    json_decref(v);
}

static const char *KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

static void sign_raw(buf *raw, eth_tx *tx)
{
    uint8_t sk[32];
    err e;
    key_from(sk, KEY);
    if (tx_sign(tx, sk, &e) < 0)
        fail_msg("%s", e.msg);
    buf_reset(raw);
    assert_int_equal(tx_encode_raw(raw, tx, &e), 0);
}

/* Signs, encodes, decodes, recovers, re-encodes. */
static void check_round_trip(eth_tx *tx)
{
    buf raw, again;
    eth_tx d;
    err e;
    addr from, key_addr;
    uint8_t sk[32];
    buf_init(&raw);
    buf_init(&again);
    sign_raw(&raw, tx);
    if (tx_decode_raw(&d, raw.data, raw.len, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(d.type, tx->type);
    assert_int_equal(d.chain_id, tx->chain_id);
    assert_int_equal(d.nonce, tx->nonce);
    assert_int_equal(d.has_to, tx->has_to);
    assert_int_equal(d.data.len, tx->data.len);
    assert_int_equal(tx_recover_sender(&from, &d, &e), 0);
    key_from(sk, KEY);
    assert_int_equal(addr_from_seckey(&key_addr, sk), 0);
    assert_true(addr_equal(&from, &key_addr));
    assert_int_equal(tx_encode_raw(&again, &d, &e), 0);
    assert_int_equal(again.len, raw.len);
    assert_memory_equal(again.data, raw.data, raw.len);
    tx_free(&d);
    buf_free(&raw);
    buf_free(&again);
}

static void test_large_chain_ids(void **state)
{
    (void)state;
    static const uint64_t ids[] = {
        1,         137, 4294967296ull + 7, 9007199254740993ull, UINT64_MAX / 2 - 17, UINT64_MAX - 1,
        UINT64_MAX};
    for (int type = 0; type < 2; type++) {
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
            eth_tx tx;
            tx_init(&tx);
            tx.type = type ? TX_EIP1559 : TX_LEGACY;
            tx.chain_id = ids[i];
            tx.nonce = UINT64_MAX - i;
            tx.gas_limit = 21000;
            tx.gas_price = u256_from_u64(1000000000);
            tx.max_fee = u256_from_u64(3000000000);
            tx.max_priority_fee = u256_from_u64(2);
            tx.has_to = i % 2;
            memset(tx.to.b, 0x42, ADDR_LEN);
            tx.value = u256_from_u64(i);
            assert_int_equal(buf_append(&tx.data, "\x01\x02\x03", 3, NULL), 0);
            check_round_trip(&tx);
            tx_free(&tx);
        }
    }
}

/* A legacy transaction re-encoded with one field replaced by raw RLP. */
static void legacy_with(buf *out, const eth_tx *tx, int field, const char *rlp_hex)
{
    size_t mark;
    err e;
    buf_reset(out);
    rlp_list_begin(out, &mark);
    u256 v = u256_from_u64(35 + 2 * tx->chain_id + tx->y_parity);
    for (int i = 0; i < 9; i++) {
        if (i == field) {
            buf x = hexbuf(rlp_hex);
            assert_int_equal(rlp_put_raw(out, x.data, x.len, &e), 0);
            buf_free(&x);
            continue;
        }
        int r = 0;
        switch (i) {
        case 0:
            r = rlp_put_u64(out, tx->nonce, &e);
            break;
        case 1:
            r = rlp_put_u256(out, &tx->gas_price, &e);
            break;
        case 2:
            r = rlp_put_u64(out, tx->gas_limit, &e);
            break;
        case 3:
            r = rlp_put_bytes(out, tx->to.b, 20, &e);
            break;
        case 4:
            r = rlp_put_u256(out, &tx->value, &e);
            break;
        case 5:
            r = rlp_put_bytes(out, tx->data.data, tx->data.len, &e);
            break;
        case 6:
            r = rlp_put_u256(out, &v, &e);
            break;
        case 7:
            r = rlp_put_u256(out, &tx->r, &e);
            break;
        case 8:
            r = rlp_put_u256(out, &tx->s, &e);
            break;
        }
        assert_int_equal(r, 0);
    }
    assert_int_equal(rlp_list_end(out, mark, &e), 0);
}

static void expect_reject(const buf *raw, const char *want)
{
    eth_tx t;
    err e;
    err_clear(&e);
    if (tx_decode_raw(&t, raw->data, raw->len, &e) == 0) {
        char *h = hex_encode_new(raw->data, raw->len);
        fail_msg("accepted %s", h);
    }
    if (want && !strstr(e.msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
    assert_int_equal(t.data.len, 0);
}

static void test_rejections(void **state)
{
    (void)state;
    eth_tx tx;
    buf raw, bad;
    err e;
    tx_init(&tx);
    buf_init(&raw);
    buf_init(&bad);
    tx.type = TX_LEGACY;
    tx.chain_id = 5;
    tx.nonce = 1;
    tx.gas_limit = 21000;
    tx.gas_price = u256_from_u64(7);
    tx.has_to = true;
    memset(tx.to.b, 0x11, 20);
    sign_raw(&raw, &tx);

    /* high S: n - s with the other parity is the same signature, refused (EIP-2) */
    static const uint8_t n_be[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                                     0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
                                     0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    u256 n, hs;
    u256_from_be(&n, n_be);
    assert_int_equal(u256_sub(&hs, &n, &tx.s), 0);
    eth_tx high = tx;
    high.s = hs;
    high.y_parity ^= 1;
    buf hb;
    buf_init(&hb);
    assert_int_equal(tx_encode_raw(&hb, &high, &e), 0);
    expect_reject(&hb, "high s");
    buf_free(&hb);

    legacy_with(&bad, &tx, 6, "1b"); /* v = 27 */
    expect_reject(&bad, "pre-EIP-155");
    legacy_with(&bad, &tx, 6, "23"); /* v = 35: chain id 0 */
    expect_reject(&bad, "chain id");
    legacy_with(&bad, &tx, 6, "1d"); /* v = 29 */
    expect_reject(&bad, "chain id");
    legacy_with(&bad, &tx, 0, "00"); /* nonce 0 written as a zero byte */
    expect_reject(&bad, "leading zero");
    legacy_with(&bad, &tx, 3, "9311111111111111111111111111111111111111"); /* 19-byte to */
    expect_reject(&bad, "20 bytes");
    legacy_with(&bad, &tx, 7, "80"); /* r = 0 */
    expect_reject(&bad, "out of range");
    legacy_with(&bad, &tx, 5, "c0"); /* data as a list */
    expect_reject(&bad, "byte string");
    legacy_with(&bad, &tx, 0, "89010000000000000000"); /* nonce over 64 bits */
    expect_reject(&bad, NULL);
    /* v mismatching the expected chain */
    eth_tx d;
    assert_int_equal(tx_decode_raw_for_chain(&d, raw.data, raw.len, 6, &e), -1);
    assert_int_equal(tx_decode_raw_for_chain(&d, raw.data, raw.len, 5, &e), 0);
    tx_free(&d);

    /* envelopes */
    static const char *envelopes[] = {"",   "01c0", "03c0", "04c0", "7fc0",
                                      "80", "b800", "02",   "02c0", "0280"};
    for (size_t i = 0; i < sizeof envelopes / sizeof envelopes[0]; i++) {
        buf b = hexbuf(envelopes[i]);
        expect_reject(&b, NULL);
        buf_free(&b);
    }
    buf b = hexbuf("01c0");
    expect_reject(&b, "type 0x01 is not supported");
    buf_free(&b);

    /* type 2: a non-empty access list, y parity 2, an extra field */
    eth_tx t2;
    tx_init(&t2);
    t2.type = TX_EIP1559;
    t2.chain_id = 5;
    t2.gas_limit = 21000;
    t2.max_fee = u256_from_u64(10);
    t2.max_priority_fee = u256_from_u64(1);
    sign_raw(&raw, &t2);
    /* rebuild the list by hand: fields 0..7, access list, parity, r, s */
    rlp_item top;
    assert_int_equal(rlp_decode(&top, raw.data + 1, raw.len - 1, &e), 0);
    rlp_iter it;
    rlp_item f[12];
    assert_int_equal(rlp_iter_init(&it, &top, &e), 0);
    for (int i = 0; i < 12; i++)
        assert_int_equal(rlp_iter_next(&it, &f[i], &e), 1);
    for (int variant = 0; variant < 4; variant++) {
        size_t mark;
        buf_reset(&bad);
        assert_int_equal(buf_push(&bad, 0x02, &e), 0);
        rlp_list_begin(&bad, &mark);
        for (int i = 0; i < 12; i++) {
            if (i == 8 && variant == 0) {
                buf al = hexbuf("d7d6941111111111111111111111111111111111111111c0");
                assert_int_equal(rlp_put_raw(&bad, al.data, al.len, &e), 0);
                buf_free(&al);
            } else if (i == 9 && variant == 1) {
                assert_int_equal(rlp_put_u64(&bad, 2, &e), 0);
            } else if (i == 8 && variant == 3) {
                assert_int_equal(rlp_put_bytes(&bad, NULL, 0, &e), 0); /* not a list */
            } else {
                assert_int_equal(rlp_put_raw(&bad, f[i].raw, f[i].raw_len, &e), 0);
            }
        }
        if (variant == 2)
            assert_int_equal(rlp_put_u64(&bad, 1, &e), 0);
        assert_int_equal(rlp_list_end(&bad, mark, &e), 0);
        expect_reject(&bad, variant == 0   ? "access list"
                            : variant == 1 ? "parity"
                            : variant == 2 ? "more than 12"
                                           : "must be a list");
    }
    tx_free(&t2);

    /* building: chain id 0, tip above the fee cap, bad type, bad key */
    uint8_t sk[32];
    key_from(sk, KEY);
    tx.chain_id = 0;
    assert_int_equal(tx_sign(&tx, sk, &e), -1);
    assert_non_null(strstr(e.msg, "chain id 0"));
    tx.chain_id = 5;
    tx.type = TX_EIP1559;
    tx.max_priority_fee = u256_from_u64(11);
    tx.max_fee = u256_from_u64(10);
    assert_int_equal(tx_sign(&tx, sk, &e), -1);
    tx.type = (tx_type)1;
    assert_int_equal(tx_sign(&tx, sk, &e), -1);
    tx.type = TX_LEGACY;
    memset(sk, 0, 32);
    assert_int_equal(tx_sign(&tx, sk, &e), -1);
    assert_int_equal(e.code, ERR_CRYPTO);

    tx_free(&tx);
    buf_free(&raw);
    buf_free(&bad);
}

static void test_contract_creation(void **state)
{
    (void)state;
    eth_tx tx;
    tx_init(&tx);
    tx.type = TX_EIP1559;
    tx.chain_id = 31337;
    tx.gas_limit = 1000000;
    tx.max_fee = u256_from_u64(2000000000);
    tx.max_priority_fee = u256_from_u64(1000000000);
    tx.has_to = false;
    uint8_t code[100];
    for (int i = 0; i < 100; i++)
        code[i] = (uint8_t)i;
    assert_int_equal(buf_append(&tx.data, code, sizeof code, NULL), 0);
    check_round_trip(&tx);
    tx.type = TX_LEGACY;
    check_round_trip(&tx);
    tx_free(&tx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eip155_example),    cmocka_unit_test(test_mainnet_type2),
        cmocka_unit_test(test_large_chain_ids),   cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_contract_creation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
