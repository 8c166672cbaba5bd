/* eth_testtool.c: a test-only command line over src/eth, shaped like the cast
 * subcommands it is compared with (tests/eth/crosscheck.py). Not installed.
 *   abi-encode SIG ARGS...       enc(args) for SIG's inputs, 0x hex
 *   abi-decode TYPES HEX         the tuple TYPES decoded, as a JSON array
 *   calldata SIG ARGS...         selector || enc(args)
 *   sig SIG | sig-event SIG      selector / topic0
 *   keccak HEX                   keccak256 of the bytes
 *   topic TYPE VALUE             the topic an indexed field produces
 *   event-decode DECL DATA [TOPIC...]   a log decoded, as JSON
 *   mktx --key K --chain N --nonce N --gas-limit N [--legacy] [--gas-price P]
 *        [--max-fee P --priority-fee P] [--value V] [--to A] [--data HEX]
 *   decode-tx RAW                fields, hash and recovered signer, as JSON
 * Errors: one line on stderr, exit 1; usage errors exit 2. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "crypto/keccak.h"
#include "eth/abi.h"
#include "eth/tx.h"

static int fail(const err *e)
{
    fprintf(stderr, "eth-testtool: %s\n", e->msg);
    return 1;
}

static void print_hex(const uint8_t *p, size_t n)
{
    char *s = hex_encode_new(p, n);
    printf("%s\n", s ? s : "?");
    free(s);
}

static int print_json(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!s)
        return 1;
    printf("%s\n", s);
    free(s);
    return 0;
}

/* The tuple value of fn's inputs from argv texts. */
static int args_value(abi_value **out, const abi_fn *fn, int argc, char **argv, err *e)
{
    if ((size_t)argc != fn->inputs->n_fields)
        return err_set(e, ERR_USAGE, "%s takes %zu arguments, %d given", fn->signature,
                       fn->inputs->n_fields, argc);
    abi_value *t = abi_value_new(ABI_TUPLE);
    if (!t)
        return err_set(e, ERR_NOMEM, "out of memory");
    for (int i = 0; i < argc; i++) {
        abi_value *v = NULL;
        if (abi_value_parse(&v, fn->inputs->fields[i], argv[i], e) < 0 ||
            abi_value_push(t, v, e) < 0) {
            abi_value_free(&t);
            return err_prefix(e, "argument %d", i + 1);
        }
    }
    *out = t;
    return 0;
}

static int cmd_encode(int argc, char **argv, bool selector)
{
    abi_fn *fn = NULL;
    abi_value *v = NULL;
    err e;
    buf out;
    buf_init(&out);
    int rc = 1;
    if (abi_fn_parse(&fn, ABI_FN_FUNCTION, argv[0], &e) < 0 ||
        args_value(&v, fn, argc - 1, argv + 1, &e) < 0 ||
        (selector ? abi_calldata(&out, fn, v, &e) : abi_encode(&out, fn->inputs, v, &e)) < 0) {
        fail(&e);
    } else {
        print_hex(out.data, out.len);
        rc = 0;
    }
    buf_free(&out);
    abi_value_free(&v);
    abi_fn_free(&fn);
    return rc;
}

static int cmd_decode(const char *types, const char *hex)
{
    abi_type *t = NULL;
    abi_value *v = NULL;
    err e;
    buf data;
    buf_init(&data);
    int rc = 1;
    if (abi_type_parse(&t, types, &e) < 0 ||
        hex_decode_buf(&data, hex, strlen(hex), HEX_ALLOW_PREFIX, &e) < 0 ||
        abi_decode(&v, t, data.data, data.len, &e) < 0)
        fail(&e);
    else
        rc = print_json(abi_value_to_json(v));
    abi_value_free(&v);
    abi_type_free(&t);
    buf_free(&data);
    return rc;
}

static int cmd_sig(const char *sig, bool event)
{
    uint8_t h[32];
    err e;
    if ((event ? abi_event_topic(h, sig, &e) : abi_selector(h, sig, &e)) < 0)
        return fail(&e);
    print_hex(h, event ? 32 : 4);
    return 0;
}

static int cmd_keccak(const char *hex)
{
    buf b;
    err e;
    uint8_t h[32];
    buf_init(&b);
    if (hex_decode_buf(&b, hex, strlen(hex), HEX_ALLOW_PREFIX, &e) < 0)
        return fail(&e);
    keccak256(h, b.data, b.len);
    buf_free(&b);
    print_hex(h, 32);
    return 0;
}

static int cmd_topic(const char *type, const char *text)
{
    abi_type *t = NULL;
    abi_value *v = NULL;
    uint8_t h[32];
    err e;
    int rc = 1;
    if (abi_type_parse(&t, type, &e) < 0 || abi_value_parse(&v, t, text, &e) < 0 ||
        abi_topic_of(h, t, v, &e) < 0) {
        fail(&e);
    } else {
        print_hex(h, 32);
        rc = 0;
    }
    abi_value_free(&v);
    abi_type_free(&t);
    return rc;
}

static int cmd_event(int argc, char **argv)
{
    abi_fn *ev = NULL;
    abi_value *v = NULL;
    err e;
    buf data, topics;
    buf_init(&data);
    buf_init(&topics);
    int rc = 1;
    if (abi_fn_parse(&ev, ABI_FN_EVENT, argv[0], &e) < 0 ||
        hex_decode_buf(&data, argv[1], strlen(argv[1]), HEX_ALLOW_PREFIX, &e) < 0)
        goto done;
    for (int i = 2; i < argc; i++) {
        uint8_t w[32];
        if (hex_decode_exact(w, 32, argv[i], HEX_ALLOW_PREFIX, &e) < 0 ||
            buf_append(&topics, w, 32, &e) < 0)
            goto done;
    }
    if (abi_event_decode(&v, ev, topics.data, topics.len / 32, data.data, data.len, &e) < 0)
        goto done;
    rc = print_json(abi_value_to_json(v));
done:
    if (rc)
        fail(&e);
    abi_value_free(&v);
    abi_fn_free(&ev);
    buf_free(&data);
    buf_free(&topics);
    return rc;
}

static int parse_u64(uint64_t *out, const char *s, err *e)
{
    u256 v;
    if (u256_from_dec(&v, s, e) < 0)
        return -1;
    if (!u256_to_u64(&v, out))
        return err_set(e, ERR_OVERFLOW, "%s does not fit 64 bits", s);
    return 0;
}

static int cmd_mktx(int argc, char **argv)
{
    eth_tx tx;
    err e;
    uint8_t sk[32];
    bool have_key = false;
    buf raw;
    buf_init(&raw);
    tx_init(&tx);
    tx.type = TX_EIP1559;
    int rc = 1;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
        int r = 0;
        if (!strcmp(o, "--legacy")) {
            tx.type = TX_LEGACY;
            continue;
        }
        if (!a) {
            fprintf(stderr, "eth-testtool: %s needs a value\n", o);
            rc = 2;
            goto done;
        }
        i++;
        if (!strcmp(o, "--key")) {
            r = hex_decode_exact(sk, 32, a, HEX_ALLOW_PREFIX, &e);
            have_key = true;
        } else if (!strcmp(o, "--chain")) {
            r = parse_u64(&tx.chain_id, a, &e);
        } else if (!strcmp(o, "--nonce")) {
            r = parse_u64(&tx.nonce, a, &e);
        } else if (!strcmp(o, "--gas-limit")) {
            r = parse_u64(&tx.gas_limit, a, &e);
        } else if (!strcmp(o, "--gas-price")) {
            r = u256_from_dec(&tx.gas_price, a, &e);
        } else if (!strcmp(o, "--max-fee")) {
            r = u256_from_dec(&tx.max_fee, a, &e);
        } else if (!strcmp(o, "--priority-fee")) {
            r = u256_from_dec(&tx.max_priority_fee, a, &e);
        } else if (!strcmp(o, "--value")) {
            r = u256_from_dec(&tx.value, a, &e);
        } else if (!strcmp(o, "--to")) {
            r = addr_parse(&tx.to, a, &e);
            tx.has_to = true;
        } else if (!strcmp(o, "--data")) {
            r = hex_decode_buf(&tx.data, a, strlen(a), HEX_ALLOW_PREFIX, &e);
        } else {
            fprintf(stderr, "eth-testtool: unknown option %s\n", o);
            rc = 2;
            goto done;
        }
        if (r < 0) {
            err_prefix(&e, "%s", o);
            fail(&e);
            goto done;
        }
    }
    if (!have_key) {
        fprintf(stderr, "eth-testtool: mktx needs --key\n");
        rc = 2;
        goto done;
    }
    if (tx_sign(&tx, sk, &e) < 0 || tx_encode_raw(&raw, &tx, &e) < 0) {
        fail(&e);
        goto done;
    }
    print_hex(raw.data, raw.len);
    rc = 0;
done:
    tx_free(&tx);
    buf_free(&raw);
    return rc;
}

static json_t *jdec(const u256 *v)
{
    char s[U256_DEC_MAX];
    u256_to_dec(s, v);
    return json_string(s);
}

static json_t *ju64(uint64_t v)
{
    u256 x = u256_from_u64(v);
    return jdec(&x);
}

static json_t *jhex(const uint8_t *p, size_t n)
{
    char *s = hex_encode_new(p, n);
    json_t *j = json_string(s ? s : "");
    free(s);
    return j;
}

static int cmd_decode_tx(const char *hex)
{
    buf raw;
    eth_tx tx;
    err e;
    addr from;
    uint8_t h[32], w[32];
    char a[ADDR_STR_MAX];
    buf_init(&raw);
    if (hex_decode_buf(&raw, hex, strlen(hex), HEX_ALLOW_PREFIX, &e) < 0 ||
        tx_decode_raw(&tx, raw.data, raw.len, &e) < 0) {
        buf_free(&raw);
        return fail(&e);
    }
    if (tx_recover_sender(&from, &tx, &e) < 0 || tx_hash(h, &tx, &e) < 0) {
        tx_free(&tx);
        buf_free(&raw);
        return fail(&e);
    }
    json_t *o = json_object();
    json_object_set_new(o, "type", json_integer(tx.type));
    json_object_set_new(o, "chainId", ju64(tx.chain_id));
    json_object_set_new(o, "nonce", ju64(tx.nonce));
    json_object_set_new(o, "gas", ju64(tx.gas_limit));
    if (tx.type == TX_LEGACY) {
        json_object_set_new(o, "gasPrice", jdec(&tx.gas_price));
    } else {
        json_object_set_new(o, "maxFeePerGas", jdec(&tx.max_fee));
        json_object_set_new(o, "maxPriorityFeePerGas", jdec(&tx.max_priority_fee));
    }
    addr_to_lower(a, &tx.to);
    json_object_set_new(o, "to", tx.has_to ? json_string(a) : json_null());
    json_object_set_new(o, "value", jdec(&tx.value));
    json_object_set_new(o, "input", jhex(tx.data.data, tx.data.len));
    u256_to_be(w, &tx.r);
    json_object_set_new(o, "r", jhex(w, 32));
    u256_to_be(w, &tx.s);
    json_object_set_new(o, "s", jhex(w, 32));
    json_object_set_new(o, "yParity", json_integer(tx.y_parity));
    json_object_set_new(o, "hash", jhex(h, 32));
    addr_to_lower(a, &from);
    json_object_set_new(o, "signer", json_string(a));
    tx_free(&tx);
    buf_free(&raw);
    return print_json(o);
}

static int usage(void)
{
    fprintf(stderr, "usage: eth-testtool abi-encode|abi-decode|calldata|sig|sig-event|keccak|"
                    "topic|event-decode|mktx|decode-tx ...\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *c = argv[1];
    int n = argc - 2;
    char **a = argv + 2;
    if (!strcmp(c, "abi-encode") && n >= 1)
        return cmd_encode(n, a, false);
    if (!strcmp(c, "calldata") && n >= 1)
        return cmd_encode(n, a, true);
    if (!strcmp(c, "abi-decode") && n == 2)
        return cmd_decode(a[0], a[1]);
    if (!strcmp(c, "sig") && n == 1)
        return cmd_sig(a[0], false);
    if (!strcmp(c, "sig-event") && n == 1)
        return cmd_sig(a[0], true);
    if (!strcmp(c, "keccak") && n == 1)
        return cmd_keccak(a[0]);
    if (!strcmp(c, "topic") && n == 2)
        return cmd_topic(a[0], a[1]);
    if (!strcmp(c, "event-decode") && n >= 2)
        return cmd_event(n, a);
    if (!strcmp(c, "mktx"))
        return cmd_mktx(n, a);
    if (!strcmp(c, "decode-tx") && n == 1)
        return cmd_decode_tx(a[0]);
    return usage();
}
