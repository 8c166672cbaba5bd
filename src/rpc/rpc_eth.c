/* rpc_eth.c: typed eth_* calls over rpc_call/rpc_batch. Every value from the node
 * is checked (types, hex lengths, quantities without leading zeros, block numbers
 * within 63 bits); a result that does not fit is a malformed response, recorded as
 * such in the client's last error so that callers can tell it from a node error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "rpc/rpc.h"
#include "rpc/rpc_internal.h"
#include "rpc/rpc_logs.h"

/* ---- parsing (rpc_parse.c) ---- */

static const char *jstr(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int rpc_malformed(rpc_client *c, const char *method, err *e)
{
    rpc_error *er = rpc_last_error_mut(c);
    memset(er, 0, sizeof *er);
    er->status = RPC_MALFORMED;
    snprintf(er->message, sizeof er->message, "%.199s", e ? e->msg : "malformed result");
    LOG_W("rpc", "%s: malformed result: %s", method, er->message);
    if (e) {
        err_prefix(e, "%s: malformed response", method);
        e->code = ERR_RPC;
    }
    return -1;
}

static void hexq(char out[U256_HEX_MAX], uint64_t v)
{
    u256 x = u256_from_u64(v);
    u256_to_quantity(out, &x);
}

static json_t *jhex(const uint8_t *b, size_t n)
{
    char *s = hex_encode_new(b, n);
    if (!s)
        return NULL;
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *jq(uint64_t v)
{
    char q[U256_HEX_MAX];
    hexq(q, v);
    return json_string(q);
}

/* ---- simple calls ---- */

/* The typed readers run inside the client's retry loop (rpc_check_fn): a result that does
 * not parse is a malformed answer, retried on the next endpoint. */
typedef struct typed_ud {
    void *out;
    bool block_number;
} typed_ud;

static int check_quantity(const json_t *r, void *ud, err *e)
{
    const typed_ud *t = ud;
    return t->block_number ? rpc_parse_block_number(r, t->out, "result", e)
                           : rpc_parse_u64(r, t->out, "result", e);
}

static int check_u256(const json_t *r, void *ud, err *e)
{
    return rpc_parse_u256(r, ((typed_ud *)ud)->out, "result", e);
}

static int check_bytes(const json_t *r, void *ud, err *e)
{
    buf *out = ((typed_ud *)ud)->out;
    const char *s = jstr(r);
    if (!s)
        return err_set(e, ERR_INVALID, "result is not a hex string");
    buf_reset(out);
    return hex_decode_buf(out, s, strlen(s), HEX_REQUIRE_PREFIX, e);
}

/* One call whose result check reads into the caller's output; params is consumed. */
static int call_typed(rpc_client *c, const char *method, json_t *params, rpc_check_fn check,
                      typed_ud *ud, err *e)
{
    if (!params)
        return err_set(e, ERR_NOMEM, "out of memory building %s", method);
    json_t *r;
    int rc = rpc_call_checked(c, method, params, check, ud, &r, e);
    json_decref(params);
    if (rc < 0)
        return -1;
    json_decref(r);
    return 0;
}

static int call_quantity(rpc_client *c, const char *method, json_t *params, uint64_t *out,
                         bool block_number, err *e)
{
    typed_ud ud = {.out = out, .block_number = block_number};
    return call_typed(c, method, params, check_quantity, &ud, e);
}

static int call_u256(rpc_client *c, const char *method, json_t *params, u256 *out, err *e)
{
    typed_ud ud = {.out = out};
    return call_typed(c, method, params, check_u256, &ud, e);
}

static int call_bytes(rpc_client *c, const char *method, json_t *params, buf *out, err *e)
{
    typed_ud ud = {.out = out};
    return call_typed(c, method, params, check_bytes, &ud, e);
}

int rpc_eth_chain_id(rpc_client *c, uint64_t *out, err *e)
{
    return call_quantity(c, "eth_chainId", json_array(), out, false, e);
}

int rpc_eth_block_number(rpc_client *c, uint64_t *out, err *e)
{
    return call_quantity(c, "eth_blockNumber", json_array(), out, true, e);
}

static json_t *tag_or(const char *tag)
{
    return json_string(tag ? tag : "latest");
}

int rpc_eth_get_balance(rpc_client *c, const addr *a, const char *tag, u256 *out, err *e)
{
    return call_u256(c, "eth_getBalance", json_pack("[o, o]", jhex(a->b, 20), tag_or(tag)), out, e);
}

int rpc_eth_get_transaction_count(rpc_client *c, const addr *a, const char *tag, uint64_t *out,
                                  err *e)
{
    return call_quantity(c, "eth_getTransactionCount",
                         json_pack("[o, o]", jhex(a->b, 20), tag_or(tag)), out, false, e);
}

int rpc_eth_max_priority_fee(rpc_client *c, u256 *out, err *e)
{
    return call_u256(c, "eth_maxPriorityFeePerGas", json_array(), out, e);
}

int rpc_eth_gas_price(rpc_client *c, u256 *out, err *e)
{
    return call_u256(c, "eth_gasPrice", json_array(), out, e);
}

int rpc_eth_get_code(rpc_client *c, const addr *a, const char *tag, buf *out, err *e)
{
    return call_bytes(c, "eth_getCode", json_pack("[o, o]", jhex(a->b, 20), tag_or(tag)), out, e);
}

int rpc_eth_call(rpc_client *c, const addr *to, const uint8_t *data, size_t len, const char *tag,
                 buf *out, err *e)
{
    json_t *obj = to ? json_pack("{s:o, s:o}", "to", jhex(to->b, 20), "data", jhex(data, len))
                     : json_pack("{s:o}", "data", jhex(data, len));
    return call_bytes(c, "eth_call", json_pack("[o, o]", obj, tag_or(tag)), out, e);
}

int rpc_probe_cancun(rpc_client *c, bool *yes, err *e)
{
    /* Creation code run by eth_call: TSTORE 1 at slot 0, TLOAD it back, return the word.
     * PUSH1 1 PUSH1 0 TSTORE PUSH1 0 TLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN */
    static const uint8_t code[] = {0x60, 0x01, 0x60, 0x00, 0x5d, 0x60, 0x00, 0x5c, 0x60,
                                   0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3};
    buf out;
    buf_init(&out);
    *yes = false;
    int rc = rpc_eth_call(c, NULL, code, sizeof code, "latest", &out, e);
    if (rc == 0) {
        *yes = out.len == 32 && out.data[31] == 1;
    } else {
        /* The node answered with an error (invalid opcode): no Cancun. A transport failure
         * stays a failure. */
        const rpc_error *re = rpc_last_error(c);
        if (re && re->status == RPC_RPC) {
            err_clear(e);
            rc = 0;
        }
    }
    buf_free(&out);
    return rc;
}

int rpc_eth_send_raw_transaction(rpc_client *c, const uint8_t *raw, size_t len,
                                 uint8_t hash_out[32], err *e)
{
    json_t *r;
    json_t *params = json_pack("[o]", jhex(raw, len));
    int rc = rpc_call(c, "eth_sendRawTransaction", params, &r, e);
    json_decref(params);
    if (rc < 0)
        return -1;
    rc = rpc_parse_hash(r, hash_out, "transaction hash", e);
    json_decref(r);
    return rc < 0 ? rpc_malformed(c, "eth_sendRawTransaction", e) : 0;
}

static json_t *call_args_json(const rpc_call_args *a)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (a->from)
        json_object_set_new(o, "from", jhex(a->from->b, 20));
    if (a->to)
        json_object_set_new(o, "to", jhex(a->to->b, 20));
    if (a->value) {
        char q[U256_HEX_MAX];
        u256_to_quantity(q, a->value);
        json_object_set_new(o, "value", json_string(q));
    }
    if (a->data_len)
        json_object_set_new(o, "data", jhex(a->data, a->data_len));
    return o;
}

int rpc_eth_estimate_gas(rpc_client *c, const rpc_call_args *a, uint64_t *out, err *e)
{
    return call_quantity(c, "eth_estimateGas", json_pack("[o]", call_args_json(a)), out, false, e);
}

/* ---- blocks ---- */

static int parse_block(const json_t *r, rpc_block *b, err *e)
{
    if (!json_is_object(r))
        return err_set(e, ERR_INVALID, "block is not an object");
    if (rpc_parse_block_number(json_object_get(r, "number"), &b->number, "block number", e) < 0 ||
        rpc_parse_hash(json_object_get(r, "hash"), b->hash, "block hash", e) < 0 ||
        rpc_parse_hash(json_object_get(r, "parentHash"), b->parent_hash, "parent hash", e) < 0 ||
        rpc_parse_u64(json_object_get(r, "timestamp"), &b->timestamp, "block timestamp", e) < 0)
        return -1;
    return 0;
}

typedef struct block_ud {
    uint64_t number; /* asked for (when by number) */
    const char *tag; /* or by tag */
    rpc_block *out;
    bool found;
} block_ud;

static int check_block(const json_t *r, void *ud, err *e)
{
    block_ud *b = ud;
    b->found = false;
    if (json_is_null(r))
        return 0;
    if (parse_block(r, b->out, e) < 0)
        return -1;
    if (!b->tag && b->out->number != b->number)
        return err_set(e, ERR_INVALID, "asked for block %llu, got block %llu",
                       (unsigned long long)b->number, (unsigned long long)b->out->number);
    b->found = true;
    return 0;
}

int rpc_eth_get_block(rpc_client *c, uint64_t number, const char *tag, rpc_block *out, bool *found,
                      err *e)
{
    *found = false;
    json_t *params = json_pack("[o, b]", tag ? json_string(tag) : jq(number), 0);
    if (!params)
        return err_set(e, ERR_NOMEM, "out of memory building eth_getBlockByNumber");
    block_ud ud = {.number = number, .tag = tag, .out = out};
    json_t *r;
    int rc = rpc_call_checked(c, "eth_getBlockByNumber", params, check_block, &ud, &r, e);
    json_decref(params);
    if (rc < 0)
        return -1;
    json_decref(r);
    *found = ud.found;
    return 0;
}

typedef struct blocks_ud {
    rpc_request *reqs;
    uint64_t from;
    size_t n;
    rpc_block *out;
} blocks_ud;

/* Every block of a batch that the node answered is the one asked for; answers that are
 * JSON-RPC errors are the caller's to report. */
static int check_blocks(const json_t *unused, void *ud, err *e)
{
    (void)unused;
    blocks_ud *b = ud;
    for (size_t i = 0; i < b->n; i++) {
        if (b->reqs[i].status != RPC_OK)
            continue;
        uint64_t want = b->from + i;
        if (json_is_null(b->reqs[i].result))
            return err_set(e, ERR_INVALID, "block %llu is unknown to the node",
                           (unsigned long long)want);
        if (parse_block(b->reqs[i].result, &b->out[i], e) < 0)
            return -1;
        if (b->out[i].number != want)
            return err_set(e, ERR_INVALID, "asked for block %llu, got block %llu",
                           (unsigned long long)want, (unsigned long long)b->out[i].number);
    }
    return 0;
}

int rpc_eth_get_blocks(rpc_client *c, uint64_t from, size_t n, rpc_block *out, err *e)
{
    if (n == 0)
        return 0;
    rpc_request *reqs = calloc(n, sizeof *reqs);
    if (!reqs)
        return err_set(e, ERR_NOMEM, "out of memory fetching blocks");
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        reqs[i].method = "eth_getBlockByNumber";
        reqs[i].params = json_pack("[o, b]", jq(from + i), 0);
        if (!reqs[i].params) {
            err_set(e, ERR_NOMEM, "out of memory fetching blocks");
            goto out;
        }
    }
    blocks_ud ud = {.reqs = reqs, .from = from, .n = n, .out = out};
    if (rpc_batch_checked(c, reqs, n, check_blocks, &ud, e) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].status != RPC_OK) {
            rpc_error *er = rpc_last_error_mut(c);
            memset(er, 0, sizeof *er);
            er->status = reqs[i].status;
            er->code = reqs[i].code;
            snprintf(er->message, sizeof er->message, "%.199s", reqs[i].message);
            err_set(e, ERR_RPC, "eth_getBlockByNumber %llu: %s: %s", (unsigned long long)(from + i),
                    rpc_status_str(reqs[i].status), reqs[i].message);
            goto out;
        }
    }
    rc = 0;
out:
    rpc_batch_clear(reqs, n);
    for (size_t i = 0; i < n; i++)
        json_decref(reqs[i].params);
    free(reqs);
    return rc;
}

/* ---- logs ---- */

static int parse_u32(const json_t *v, uint32_t *out, const char *what, err *e)
{
    uint64_t x;
    if (rpc_parse_u64(v, &x, what, e) < 0)
        return -1;
    if (x > UINT32_MAX)
        return err_set(e, ERR_OVERFLOW, "%s is out of range", what);
    *out = (uint32_t)x;
    return 0;
}

static json_t *filter_json(const rpc_log_filter *f)
{
    json_t *o = json_pack("{s:o, s:o}", "fromBlock", jq(f->from), "toBlock", jq(f->to));
    if (!o)
        return NULL;
    if (f->n_addresses) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < f->n_addresses; i++)
            json_array_append_new(a, jhex(f->addresses[i].b, 20));
        json_object_set_new(o, "address", a);
    }
    if (f->n_topic0) {
        json_t *t = json_array();
        for (size_t i = 0; t && i < f->n_topic0; i++)
            json_array_append_new(t, jhex(f->topic0[i], 32));
        json_object_set_new(o, "topics", json_pack("[o]", t));
    }
    return o;
}

static int addr_cmp(const void *a, const void *b)
{
    return memcmp(a, b, ADDR_LEN);
}

static int hash_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

typedef struct logs_ud {
    const rpc_log_filter *f;
    rpc_log_list *out;
    rpc_logs_stream *stream; /* read the answer's logs */
    addr *addrs; /* the filter's addresses, sorted */
    uint8_t (*topics)[32]; /* the filter's first topics, sorted */
} logs_ud;

static void log_where(char *out, size_t cap, const rpc_log *lg)
{
    char a[ADDR_STR_MAX];
    hex_encode(a, sizeof a, lg->address.b, ADDR_LEN, true);
    snprintf(out, cap, "block %llu log %u (%s)", (unsigned long long)lg->block_number,
             lg->log_index, a);
}

/* Every log answers the filter: inside the block range, from one of its addresses, with
 * one of its first topics, not removed (eth_getLogs never returns removed logs), each
 * block with one hash and each position (block, log index) once. A node that answers
 * otherwise is broken or lying: storing what it sent would lose events or invent them. */
static int logs_match(const logs_ud *u, err *e)
{
    const rpc_log_filter *f = u->f;
    const rpc_log_list *l = u->out;
    char where[120];
    for (size_t i = 0; i < l->n; i++) {
        const rpc_log *lg = &l->items[i];
        const char *why = NULL;
        if (lg->block_number < f->from || lg->block_number > f->to)
            why = "outside the block range";
        else if (f->n_addresses && !bsearch(lg->address.b, u->addrs, f->n_addresses,
                                            sizeof *u->addrs, addr_cmp))
            why = "from an address outside the filter";
        else if (f->n_topic0 && (lg->n_topics == 0 || !bsearch(lg->topics[0], u->topics,
                                                               f->n_topic0, 32, hash_cmp)))
            why = "with a topic outside the filter";
        else if (lg->removed)
            why = "flagged as removed";
        if (why) {
            log_where(where, sizeof where, lg);
            return err_set(e, ERR_INVALID, "%s is %s of blocks %llu..%llu", where, why,
                           (unsigned long long)f->from, (unsigned long long)f->to);
        }
        if (i == 0)
            continue;
        const rpc_log *pv = &l->items[i - 1];
        bool same_block = pv->block_number == lg->block_number;
        if (same_block != (memcmp(pv->block_hash, lg->block_hash, 32) == 0)) {
            log_where(where, sizeof where, lg);
            return err_set(e, ERR_INVALID, "%s: %s", where,
                           same_block ? "two block hashes for one block"
                                      : "one block hash for two blocks");
        }
        if (same_block && pv->log_index == lg->log_index) {
            log_where(where, sizeof where, lg);
            return err_set(e, ERR_INVALID, "%s appears twice", where);
        }
    }
    return 0;
}

static int check_logs(const json_t *r, void *ud, err *e)
{
    logs_ud *u = ud;
    rpc_log_list_free(u->out);
    if (rpc_logs_stream_take(u->stream, r, u->out, e) < 0) {
        rpc_log_list_free(u->out);
        return -1;
    }
    if (logs_match(u, e) < 0) {
        rpc_log_list_free(u->out);
        return -1;
    }
    return 0;
}

int rpc_eth_get_logs(rpc_client *c, const rpc_log_filter *f, rpc_log_list *out, err *e)
{
    memset(out, 0, sizeof *out);
    logs_ud u = {.f = f, .out = out};
    int rc = -1;
    json_t *r = NULL;
    json_t *params = json_pack("[o]", filter_json(f));
    if (f->n_addresses)
        u.addrs = malloc(f->n_addresses * sizeof *u.addrs);
    if (f->n_topic0)
        u.topics = malloc(f->n_topic0 * 32);
    if (!params || (f->n_addresses && !u.addrs) || (f->n_topic0 && !u.topics)) {
        err_set(e, ERR_NOMEM, "out of memory building a log filter");
        goto out;
    }
    if (rpc_logs_stream_new(&u.stream, e) < 0)
        goto out;
    if (f->n_addresses) {
        memcpy(u.addrs, f->addresses, f->n_addresses * sizeof *u.addrs);
        qsort(u.addrs, f->n_addresses, sizeof *u.addrs, addr_cmp);
    }
    if (f->n_topic0) {
        memcpy(u.topics, f->topic0, f->n_topic0 * 32);
        qsort(u.topics, f->n_topic0, 32, hash_cmp);
    }
    rc = rpc_call_logs(c, params, u.stream, check_logs, &u, &r, e);
    json_decref(r); /* the skeleton's result; check_logs took the logs */
out:
    rpc_logs_stream_free(&u.stream);
    json_decref(params);
    free(u.addrs);
    free(u.topics);
    return rc;
}

int rpc_eth_get_logs_ranges(rpc_client *c, const rpc_log_filter *f, uint64_t max_blocks,
                            rpc_logs_fn fn, void *ud, err *e)
{
    uint64_t size = max_blocks ? max_blocks : UINT64_MAX;
    uint64_t from = f->from;
    while (from <= f->to) {
        uint64_t cap = rpc_logs_range_cap(c), n = size < cap ? size : cap;
        uint64_t to = n - 1 > f->to - from ? f->to : from + (n - 1);
        rpc_log_filter g = *f;
        g.from = from;
        g.to = to;
        rpc_log_list l;
        if (rpc_eth_get_logs(c, &g, &l, e) < 0) {
            rpc_status st = rpc_last_status(c);
            if (st != RPC_RANGE && st != RPC_TIMEOUT)
                return -1;
            if (to == from)
                return err_prefix(e, "the node refuses the logs of even one block (%llu)",
                                  (unsigned long long)from);
            /* smaller: half, or what the provider suggests when that is less */
            const rpc_error *er = rpc_last_error(c);
            uint64_t blocks = to - from + 1, next = blocks / 2;
            if (er->has_hint && er->hint_to >= er->hint_from &&
                er->hint_to - er->hint_from + 1 < next)
                next = er->hint_to - er->hint_from + 1;
            size = next ? next : 1;
            continue;
        }
        int rc = fn(ud, &l, e);
        rpc_log_list_free(&l);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if (to == f->to)
            break;
        from = to + 1;
    }
    return 0;
}

/* ---- receipts ---- */

typedef struct receipt_ud {
    const uint8_t *hash; /* asked for */
    rpc_receipt *out;
    bool found;
} receipt_ud;

/* The receipt of the transaction asked for, or null while it is not mined. */
static int check_receipt(const json_t *r, void *ud, err *e)
{
    receipt_ud *u = ud;
    rpc_receipt *out = u->out;
    memset(out, 0, sizeof *out);
    u->found = false;
    if (json_is_null(r))
        return 0;
    if (!json_is_object(r))
        return err_set(e, ERR_INVALID, "receipt is not an object");
    uint64_t status = 0;
    uint8_t tx[32];
    if (rpc_parse_hash(json_object_get(r, "transactionHash"), tx, "receipt transactionHash", e) <
            0 ||
        rpc_parse_u64(json_object_get(r, "status"), &status, "receipt status", e) < 0 ||
        rpc_parse_block_number(json_object_get(r, "blockNumber"), &out->block_number,
                               "receipt blockNumber", e) < 0 ||
        rpc_parse_hash(json_object_get(r, "blockHash"), out->block_hash, "receipt blockHash", e) <
            0 ||
        parse_u32(json_object_get(r, "transactionIndex"), &out->tx_index,
                  "receipt transactionIndex", e) < 0 ||
        rpc_parse_u64(json_object_get(r, "gasUsed"), &out->gas_used, "receipt gasUsed", e) < 0)
        return -1;
    if (memcmp(tx, u->hash, 32) != 0)
        return err_set(e, ERR_INVALID, "the receipt is of another transaction than asked for");
    if (status > 1)
        return err_set(e, ERR_INVALID, "receipt status %llu is neither 0 nor 1",
                       (unsigned long long)status);
    const json_t *egp = json_object_get(r, "effectiveGasPrice");
    const json_t *ca = json_object_get(r, "contractAddress");
    if (egp && rpc_parse_u256(egp, &out->effective_gas_price, "effectiveGasPrice", e) < 0)
        return -1;
    if (ca && !json_is_null(ca) &&
        rpc_parse_addr(ca, &out->contract_address, "contractAddress", e) < 0)
        return -1;
    out->has_contract_address = ca && !json_is_null(ca);
    out->success = status == 1;
    u->found = true;
    return 0;
}

int rpc_eth_get_transaction_receipt(rpc_client *c, const uint8_t hash[32], rpc_receipt *out,
                                    bool *found, err *e)
{
    *found = false;
    memset(out, 0, sizeof *out);
    json_t *params = json_pack("[o]", jhex(hash, 32));
    if (!params)
        return err_set(e, ERR_NOMEM, "out of memory building eth_getTransactionReceipt");
    receipt_ud u = {.hash = hash, .out = out};
    json_t *r;
    int rc = rpc_call_checked(c, "eth_getTransactionReceipt", params, check_receipt, &u, &r, e);
    json_decref(params);
    if (rc < 0)
        return -1;
    json_decref(r);
    *found = u.found;
    return 0;
}

/* ---- fee history ---- */

void rpc_fee_history_free(rpc_fee_history *h)
{
    if (!h)
        return;
    free(h->base_fees);
    free(h->gas_used_ratio);
    free(h->rewards);
    memset(h, 0, sizeof *h);
}

int rpc_eth_fee_history(rpc_client *c, unsigned block_count, const char *newest,
                        const double *percentiles, size_t n_percentiles, rpc_fee_history *out,
                        err *e)
{
    memset(out, 0, sizeof *out);
    json_t *pct = json_array();
    for (size_t i = 0; pct && i < n_percentiles; i++)
        json_array_append_new(pct, json_real(percentiles[i]));
    json_t *params = json_pack("[o, o, o]", jq(block_count), tag_or(newest), pct);
    json_t *r;
    int rc = rpc_call(c, "eth_feeHistory", params, &r, e);
    json_decref(params);
    if (rc < 0)
        return -1;
    rc = -1;
    const json_t *bf = json_object_get(r, "baseFeePerGas");
    const json_t *gr = json_object_get(r, "gasUsedRatio");
    const json_t *rw = json_object_get(r, "reward");
    if (!json_is_object(r) || !json_is_array(bf) || !json_is_array(gr) ||
        json_array_size(bf) != json_array_size(gr) + 1) {
        err_set(e, ERR_INVALID, "fee history has inconsistent arrays");
        goto done;
    }
    if (rpc_parse_block_number(json_object_get(r, "oldestBlock"), &out->oldest_block, "oldestBlock",
                               e) < 0)
        goto done;
    out->n_blocks = json_array_size(gr);
    out->base_fees = calloc(out->n_blocks + 1, sizeof *out->base_fees);
    out->gas_used_ratio = calloc(out->n_blocks + 1, sizeof *out->gas_used_ratio);
    if (!out->base_fees || !out->gas_used_ratio) {
        err_set(e, ERR_NOMEM, "out of memory reading fee history");
        goto done;
    }
    for (size_t i = 0; i <= out->n_blocks; i++)
        if (rpc_parse_u256(json_array_get(bf, i), &out->base_fees[i], "baseFeePerGas", e) < 0)
            goto done;
    for (size_t i = 0; i < out->n_blocks; i++) {
        const json_t *v = json_array_get(gr, i);
        if (!json_is_number(v)) {
            err_set(e, ERR_INVALID, "gasUsedRatio is not a number");
            goto done;
        }
        out->gas_used_ratio[i] = json_number_value(v);
    }
    if (n_percentiles && json_is_array(rw)) {
        if (json_array_size(rw) != out->n_blocks) {
            err_set(e, ERR_INVALID, "fee history rewards do not match the blocks");
            goto done;
        }
        out->n_percentiles = n_percentiles;
        out->rewards = calloc(out->n_blocks * n_percentiles + 1, sizeof *out->rewards);
        if (!out->rewards) {
            err_set(e, ERR_NOMEM, "out of memory reading fee history");
            goto done;
        }
        for (size_t i = 0; i < out->n_blocks; i++) {
            const json_t *row = json_array_get(rw, i);
            if (!json_is_array(row) || json_array_size(row) != n_percentiles) {
                err_set(e, ERR_INVALID, "fee history reward row has the wrong size");
                goto done;
            }
            for (size_t k = 0; k < n_percentiles; k++)
                if (rpc_parse_u256(json_array_get(row, k), &out->rewards[i * n_percentiles + k],
                                   "reward", e) < 0)
                    goto done;
        }
    }
    rc = 0;
done:
    json_decref(r);
    if (rc < 0) {
        rpc_fee_history_free(out);
        return rpc_malformed(c, "eth_feeHistory", e);
    }
    return 0;
}

/* ---- blocks with their transactions (the native-coin scan) ---- */

void rpc_native_blocks_free(rpc_native_blocks *b)
{
    if (!b)
        return;
    free(b->blocks);
    free(b->txs);
    memset(b, 0, sizeof *b);
}

typedef struct native_ud {
    rpc_request *reqs;
    size_t n;
    uint64_t first;
    rpc_logs_stream *s;
} native_ud;

/* Each block that came back is the one asked for (else another endpoint is asked). */
static int check_native(const json_t *unused, void *ud, err *e)
{
    const native_ud *u = ud;
    for (size_t i = 0; i < u->n; i++) {
        rpc_native_block b;
        if (u->reqs[i].status != RPC_OK || rpc_logs_stream_block(u->s, u->reqs[i].result, &b) < 0)
            continue; /* an error or no block: the caller says so */
        if (!b.number_ok)
            return err_set(e, ERR_RPC, "block %" PRIu64 " came back without a valid number",
                           u->first + i);
        if (b.hdr.number != u->first + i)
            return err_set(e, ERR_RPC, "block %" PRIu64 " came back as block %" PRIu64,
                           u->first + i, b.hdr.number);
    }
    return 0;
}

int rpc_eth_native_blocks(rpc_client *c, uint64_t first, size_t n, rpc_native_blocks *out,
                          err *e)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return 0;
    rpc_request *reqs = calloc(n, sizeof *reqs);
    rpc_logs_stream *s = NULL;
    int rc = -1;
    if (!reqs) {
        err_set(e, ERR_NOMEM, "out of memory asking for blocks");
        goto out;
    }
    if (rpc_logs_stream_new(&s, e) < 0)
        goto out;
    rpc_logs_stream_blocks(s, true);
    for (size_t i = 0; i < n; i++) {
        reqs[i].method = "eth_getBlockByNumber";
        reqs[i].params = json_pack("[o,b]", jq(first + i), 1);
        if (!reqs[i].params) {
            err_set(e, ERR_NOMEM, "out of memory asking for blocks");
            goto out;
        }
    }
    native_ud u = {.reqs = reqs, .n = n, .first = first, .s = s};
    if (rpc_batch_stream(c, reqs, n, s, check_native, &u, e) < 0)
        goto out;
    size_t ntx = 0;
    const rpc_native_tx *txs = rpc_logs_stream_txs(s, &ntx);
    out->blocks = calloc(n, sizeof *out->blocks);
    out->txs = ntx ? malloc(ntx * sizeof *out->txs) : NULL;
    if (!out->blocks || (ntx && !out->txs)) {
        err_set(e, ERR_NOMEM, "out of memory reading blocks");
        goto out;
    }
    if (ntx)
        memcpy(out->txs, txs, ntx * sizeof *txs);
    out->ntx = ntx;
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].status != RPC_OK) {
            err_set(e, ERR_RPC, "block %" PRIu64 ": %s: %s", first + i,
                    rpc_status_str(reqs[i].status), reqs[i].message);
            goto out;
        }
        rpc_native_block *b = &out->blocks[i];
        if (rpc_logs_stream_block(s, reqs[i].result, b) < 0)
            memset(b, 0, sizeof *b); /* not a block: ok stays false */
        b->hdr.number = first + i; /* what it came back as: checked in the retry loop */
    }
    rc = 0;
out:
    if (rc < 0)
        rpc_native_blocks_free(out);
    if (reqs) {
        rpc_batch_clear(reqs, n);
        for (size_t i = 0; i < n; i++)
            json_decref(reqs[i].params);
    }
    free(reqs);
    rpc_logs_stream_free(&s);
    return rc;
}
