/* ccip_route.c: the desk's CCIP-style route: a quote from the source router's getFee, the
 * token's allowance and ccipSend signed through the desk's pipeline (policy actions
 * bridge_allowance and bridge_burn: what leaves the source chain; the compliance gate on
 * the recipient; the summary with the fee; confirmation; outbound record), the transfer
 * kept with the signed ccipSend before it is sent (store_bridge, protocol "ccip"), then
 * followed: the CCIPSendRequested message read and checked (its id recomputed on the
 * lane: committed), delivery seen in the destination router's ExecutionStateChanged for
 * the id (delivered), read in bounded ranges from the destination's head at the send. The
 * ccipSend's receipt, once found, is written to its outbound record (and its approve's:
 * bridge_mark_outbound). The network (the devnet's relayer) executes; the desk only watches,
 * so nothing here can execute a message twice. See docs/bridges.md. */
#include "bridge/ccip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/amount.h"
#include "base/log.h"
#include "bridge/route.h"
#include "eth/abi.h"
#include "rpc/rpc.h"

#define SEND_SIG "CCIPSendRequested((uint64,address,address,uint64,uint256,bool,uint64,address," \
                 "uint256,bytes,(address,uint256)[],bytes[],bytes32))"
#define EXEC_SIG "ExecutionStateChanged(uint64,bytes32,uint8,bytes)"
#define GETFEE_SIG "getFee(uint64,(bytes,bytes,(address,uint256)[],address,bytes))"
#define CCIPSEND_SIG "ccipSend(uint64,(bytes,bytes,(address,uint256)[],address,bytes))"
#define STATE_SUCCESS 2

/* The router and the selector of a chain (the desk settings devnet up writes). */
static int route_of(store *db, uint64_t chain_id, const char *name, addr *router,
                    uint64_t *selector, err *e)
{
    char key[64], val[80];
    bool found = false;
    snprintf(key, sizeof key, "ccip_router:%llu", (unsigned long long)chain_id);
    if (store_setting_get(db, key, val, sizeof val, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND,
                       "chain %s has no CCIP route (no router recorded; on the devnet: `fusion "
                       "devnet up`)",
                       name);
    if (addr_parse(router, val, e) < 0)
        return err_prefix(e, "the desk's CCIP router of %s", name);
    snprintf(key, sizeof key, "ccip_selector:%llu", (unsigned long long)chain_id);
    if (store_setting_get(db, key, val, sizeof val, &found, e) < 0)
        return -1;
    char *end = NULL;
    unsigned long long s = found ? strtoull(val, &end, 10) : 0;
    if (!found || end == val || *end)
        return err_set(e, ERR_NOT_FOUND, "chain %s has no CCIP chain selector", name);
    *selector = s;
    return 0;
}

static int token_of(store *db, uint64_t chain_id, const char *symbol, store_token *out, err *e)
{
    store_token *ts = NULL;
    size_t n = 0;
    if (store_token_list(db, chain_id, &ts, &n, e) < 0)
        return -1;
    int rc = err_set(e, ERR_NOT_FOUND, "no token %.16s on chain %llu in this desk", symbol,
                     (unsigned long long)chain_id);
    for (size_t i = 0; i < n; i++)
        if (strcmp(ts[i].symbol, symbol) == 0) {
            *out = ts[i];
            rc = 0;
            break;
        }
    free(ts);
    return rc;
}

static int calldata_sig(buf *out, const char *sig, const char *args, err *e)
{
    abi_fn *f = NULL;
    abi_value *v = NULL;
    int rc = abi_fn_parse(&f, ABI_FN_FUNCTION, sig, e);
    if (rc == 0)
        rc = abi_value_parse(&v, f->inputs, args, e);
    if (rc == 0)
        rc = abi_calldata(out, f, v, e);
    abi_value_free(&v);
    abi_fn_free(&f);
    return rc < 0 ? err_prefix(e, "encoding %.40s", sig) : 0;
}

static int view_word(store *db, uint64_t chain_id, const addr *to, const char *sig,
                     const char *args, uint8_t w[32], err *e)
{
    buf data;
    buf_init(&data);
    int rc = calldata_sig(&data, sig, args, e);
    if (rc == 0)
        rc = bridge_view_word(db, chain_id, to, &data, sig, w, e);
    buf_free(&data);
    return rc;
}

/* The EVM2AnyMessage the desk sends: abi.encode(receiver), no data, one token, native fee. */
static void message_arg(char *out, size_t cap, const addr *receiver, const addr *token,
                        const u256 *amount)
{
    char r[ADDR_STR_MAX], t[ADDR_STR_MAX], a[U256_DEC_MAX];
    addr_to_lower(r, receiver);
    addr_to_lower(t, token);
    u256_to_dec(a, amount);
    snprintf(out, cap, "(0x000000000000000000000000%s, 0x, [(%s, %s)], "
             "0x0000000000000000000000000000000000000000, 0x)", r + 2, t, a);
}

int bridge_ccip_quote_get(store *db, const char *src, const char *dst, const char *asset,
                          const char *amount, bridge_quote *q, err *e)
{
    store_chain cs, cd;
    if (bridge_quote_start(db, src, dst, "ccip", q, &cs, &cd, e) < 0)
        return -1;
    addr rs, rd;
    uint64_t ss, sd;
    if (route_of(db, cs.chain_id, cs.name, &rs, &ss, e) < 0 ||
        route_of(db, cd.chain_id, cd.name, &rd, &sd, e) < 0)
        return -1;
    store_token ts, td;
    if (token_of(db, cs.chain_id, asset, &ts, e) < 0 || token_of(db, cd.chain_id, asset, &td, e) < 0)
        return err_prefix(e, "no CCIP route for %.16s", asset);
    q->token_src = ts.address;
    q->token_dst = td.address;
    q->decimals = ts.decimals;
    if (bridge_quote_amount(q, amount, e) < 0)
        return -1;
    char m[400], args[460];
    message_arg(m, sizeof m, &q->token_src, &q->token_src, &q->amount);
    snprintf(args, sizeof args, "(%llu, %s)", (unsigned long long)sd, m);
    uint8_t w[32];
    if (view_word(db, cs.chain_id, &rs, GETFEE_SIG, args, w, e) < 0)
        return err_prefix(e, "getFee on %s (is %s supported, the token added?)", cs.name, cd.name);
    u256_from_be(&q->fee, w);
    /* the devnet's relayer executes a few blocks after the send; CCIP itself waits for
     * the source chain's finality (docs/bridges.md) */
    q->expected_s = (uint64_t)cs.confirmations * 12 + 30;
    return 0;
}

static void note_of(char *out, size_t cap, const bridge_quote *q, const addr *rcpt,
                    const char *asset, const char *step)
{
    char amt[AMOUNT_STR_MAX], fee[AMOUNT_STR_MAX], r[ADDR_STR_MAX];
    amount_format(amt, &q->amount, q->decimals);
    amount_format(fee, &q->fee, 18);
    addr_to_checksum(r, rcpt);
    int k = snprintf(out, cap,
                     "bridge (ccip, %s): %s %s from %s to %s, recipient %s, fee %s (native, "
                     "getFee), expected arrival ~%llu s",
                     step, amt, asset, q->src_name, q->dst_name, r, fee,
                     (unsigned long long)q->expected_s);
    if (k < 0 && cap)
        out[0] = '\0';
}

static int token_symbol(store *db, uint64_t chain_id, const addr *token, char *out, size_t cap)
{
    store_token *ts = NULL;
    size_t n = 0;
    err e;
    snprintf(out, cap, "tokens");
    if (store_token_list(db, chain_id, &ts, &n, &e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (addr_equal(&ts[i].address, token))
            snprintf(out, cap, "%s", ts[i].symbol);
    free(ts);
    return 0;
}

int bridge_ccip_send(const bridge_env *env, const bridge_quote *q, const addr *recipient,
                     int64_t *id, err *e)
{
    *id = 0;
    if (addr_is_zero(recipient))
        return err_set(e, ERR_INVALID, "the recipient is the zero address");
    store *db = NULL;
    desk *d = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", env->home);
    int rc = -1;
    buf data;
    buf_init(&data);
    if (store_open(&db, path, e) < 0)
        goto out;
    if (env->desk)
        d = env->desk; /* the caller's: not freed here */
    else if (desk_open(&d, env->home, env->operator_name, e) < 0)
        goto out;
    if (env->wire)
        env->wire(env->wire_ctx, d);
    desk_set_wait(d, env->no_wait ? 0 : 120);
    addr router;
    uint64_t ss, sd;
    if (route_of(db, q->src_chain, q->src_name, &router, &ss, e) < 0)
        goto out;
    {
        addr r2;
        if (route_of(db, q->dst_chain, q->dst_name, &r2, &sd, e) < 0)
            goto out;
    }
    /* the destination's head now: the delivery cannot be in an earlier block, so it is
     * looked for from there (kept with the transfer), never from block 0 */
    uint64_t dst_head = 0;
    {
        rpc_client *rd = NULL;
        int hr = desk_chain_rpc(db, q->dst_chain, NULL, &rd, e);
        if (hr == 0)
            hr = rpc_eth_block_number(rd, &dst_head, e);
        rpc_client_free(&rd);
        if (hr < 0) {
            err_prefix(e, "cannot read the head of %s, where the delivery is to be seen",
                       q->dst_name);
            goto out;
        }
    }
    const store_operator *op = desk_operator(d);
    char a_r[ADDR_STR_MAX], a_me[ADDR_STR_MAX], amt[U256_DEC_MAX], args[600], note[400], sym[16];
    addr_to_lower(a_r, &router);
    addr_to_lower(a_me, &op->address);
    u256_to_dec(amt, &q->amount);
    if (token_symbol(db, q->src_chain, &q->token_src, sym, sizeof sym) < 0)
        snprintf(sym, sizeof sym, "tokens");

    /* the desk's pre-trade risk check, as for the CCTP route: before anything is signed */
    desk_set_risk_override(d, env->risk_override);
    if (desk_pretrade_bridge(d, q->src_chain, q->dst_chain, &q->token_src, &q->amount, recipient,
                             e) < 0)
        goto out;
    /* the router locks from the operator's balance: approve it first when needed (the
     * recipient is screened on this step too: a refused recipient is refused here) */
    uint8_t w[32];
    snprintf(args, sizeof args, "(%s, %s)", a_me, a_r);
    if (view_word(db, q->src_chain, &q->token_src, "allowance(address,address)", args, w, e) < 0)
        goto out;
    u256 allowance;
    u256_from_be(&allowance, w);
    desk_result res;
    if (u256_cmp(&allowance, &q->amount) < 0) {
        note_of(note, sizeof note, q, recipient, sym, "allowance for the router");
        snprintf(args, sizeof args, "(%s, %s)", a_r, amt);
        if (calldata_sig(&data, "approve(address,uint256)", args, e) < 0)
            goto out;
        desk_step st = {.action = "bridge_allowance", .chain_id = q->src_chain,
                        .to = q->token_src, .data = data.data, .len = data.len,
                        .value = u256_from_u64(0), .token = q->token_src, .amount = q->amount,
                        .payee = recipient, .note = note, .route_to = q->dst_name};
        if (desk_step_send(d, &st, &res, e) < 0)
            goto out;
        buf_free(&data);
        buf_init(&data);
    }

    store_bridge b;
    note_of(note, sizeof note, q, recipient, sym, "ccipSend");
    bridge_record_init(&b, q, op, recipient, note);
    b.dst_from_block = dst_head;
    char m[400];
    message_arg(m, sizeof m, recipient, &q->token_src, &q->amount);
    snprintf(args, sizeof args, "(%llu, %s)", (unsigned long long)sd, m);
    if (calldata_sig(&data, CCIPSEND_SIG, args, e) < 0)
        goto out;
    bridge_hold_ctx h = {&b, "bridge_burn", q->src_chain, true, env};
    desk_step st = {.action = "bridge_burn",
                    .chain_id = q->src_chain,
                    .to = router,
                    .data = data.data,
                    .len = data.len,
                    .value = q->fee,
                    .token = q->token_src,
                    .amount = q->amount,
                    .payee = recipient,
                    .note = note,
                    .route_to = q->dst_name,
                    .hold = bridge_hold_step,
                    .hold_ctx = &h};
    if (desk_step_send(d, &st, &res, e) < 0) {
        /* recorded with the transfer but not known to be sent: resume re-sends it */
        if (!b.id)
            goto out;
        LOG_W("bridge", "transfer %lld: ccipSend: %s (will re-send)", (long long)b.id, e->msg);
    }
    *id = b.id;
    bridge_say(env, "bridge %lld: ccipSend sent on %s", (long long)b.id, q->src_name);
    rc = 0;
out:
    buf_free(&data);
    store_close(&db);
    if (rc == 0) {
        store *db2 = NULL;
        store_bridge b2;
        bool found = false;
        rc = store_open(&db2, path, e);
        if (rc == 0)
            rc = store_bridge_get(db2, *id, &b2, &found, e);
        store_close(&db2);
        if (rc == 0 && found)
            rc = bridge_ccip_advance(env, d, &b2, e);
    }
    if (d != env->desk)
        desk_free(&d);
    return rc;
}

/* The message of the ccipSend (the router's CCIPSendRequested in its block), checked. */
static int read_message(store *db, store_bridge *b, uint64_t block, err *e)
{
    addr router, dr;
    uint64_t ss, sd;
    if (route_of(db, b->src_chain, "source", &router, &ss, e) < 0 ||
        route_of(db, b->dst_chain, "destination", &dr, &sd, e) < 0)
        return -1;
    uint8_t topic[1][32];
    if (abi_event_topic(topic[0], SEND_SIG, e) < 0)
        return -1;
    rpc_client *rpc = NULL;
    if (desk_chain_rpc(db, b->src_chain, NULL, &rpc, e) < 0)
        return -1;
    rpc_log_filter f = {block, block, &router, 1, (const uint8_t(*)[32])topic, 1};
    rpc_log_list l;
    memset(&l, 0, sizeof l);
    int rc = rpc_eth_get_logs(rpc, &f, &l, e);
    rpc_client_free(&rpc);
    if (rc < 0)
        return -1;
    rc = err_set(e, ERR_STATE, "the ccipSend of transfer %lld emitted no CCIPSendRequested",
                 (long long)b->id);
    bridge_ccip_msg *m = calloc(1, sizeof *m);
    for (size_t i = 0; m && i < l.n; i++) {
        const rpc_log *lg = &l.items[i];
        if (memcmp(lg->tx_hash, b->burn_tx, 32) != 0)
            continue;
        if (bridge_ccip_msg_parse(m, lg->data, lg->data_len, e) < 0) {
            rc = -1;
            break;
        }
        uint8_t meta[32], id[32];
        bridge_ccip_metadata_hash(meta, ss, sd, &router);
        bridge_ccip_message_id(id, m, meta);
        /* the message must say what the desk asked for, and its id must be its hash */
        if (m->src_selector != ss || memcmp(id, m->id, 32) != 0 ||
            !addr_equal(&m->receiver, &b->recipient) || !addr_equal(&m->sender, &b->sender) ||
            m->n_tokens != 1 || !addr_equal(&m->tokens[0], &b->token_src) ||
            u256_cmp(&m->amounts[0], &b->amount) != 0) {
            rc = err_set(e, ERR_STATE, "the CCIP message of transfer %lld does not match it",
                         (long long)b->id);
            break;
        }
        memcpy(b->message_hash, m->id, 32);
        b->has_message = true;
        rc = 0;
        break;
    }
    free(m);
    rpc_log_list_free(&l);
    return rc;
}

/* Blocks per eth_getLogs when the endpoint takes more: the answer held at once stays
 * small however long the chain (a hosted provider's cap, when lower, is learnt and kept
 * by the client: rpc_eth_get_logs_ranges). */
#define EXEC_RANGE_BLOCKS 2000
/* Blocks read again below the last head on the next look: an execution in a block that a
 * reorg replaced may come back in an earlier block than the new head. */
#define EXEC_REORG_MARGIN 64

typedef struct exec_find {
    const store_bridge *b;
    bool found;
    uint8_t tx[32];
    uint64_t block;
} exec_find;

static int exec_match(void *ud, const rpc_log_list *l, err *e)
{
    (void)e;
    exec_find *x = ud;
    for (size_t i = 0; i < l->n; i++) {
        const rpc_log *lg = &l->items[i];
        if (lg->n_topics < 3 || memcmp(lg->topics[2], x->b->message_hash, 32) != 0 ||
            lg->data_len < 32)
            continue;
        u256 st;
        uint64_t s;
        u256_from_be(&st, lg->data);
        if (!u256_to_u64(&st, &s) || s != STATE_SUCCESS)
            continue;
        memcpy(x->tx, lg->tx_hash, 32);
        x->block = lg->block_number;
        x->found = true;
        return 1; /* the first success: no need to read further */
    }
    return 0;
}

/* The destination router's ExecutionStateChanged for the message id, if any, in blocks
 * *from .. head, read in bounded ranges; *from moves up to the head (less a reorg margin,
 * never below the transfer's dst_from_block) for the next look. */
static int find_execution(store *db, store_bridge *b, uint64_t *from, bool *found, err *e)
{
    *found = false;
    addr router;
    uint64_t sd;
    if (route_of(db, b->dst_chain, "destination", &router, &sd, e) < 0)
        return -1;
    uint8_t topic[1][32];
    if (abi_event_topic(topic[0], EXEC_SIG, e) < 0)
        return -1;
    rpc_client *rpc = NULL;
    if (desk_chain_rpc(db, b->dst_chain, NULL, &rpc, e) < 0)
        return -1;
    uint64_t head = 0;
    exec_find x = {.b = b};
    int rc = rpc_eth_block_number(rpc, &head, e);
    if (rc == 0 && *from <= head) {
        rpc_log_filter f = {*from, head, &router, 1, (const uint8_t(*)[32])topic, 1};
        rc = rpc_eth_get_logs_ranges(rpc, &f, EXEC_RANGE_BLOCKS, exec_match, &x, e);
    }
    rpc_client_free(&rpc);
    if (rc < 0)
        return -1;
    if (x.found) {
        b->has_mint_tx = true;
        memcpy(b->mint_tx, x.tx, 32);
        b->mint_block = x.block;
        *found = true;
    } else if (head > EXEC_REORG_MARGIN && head - EXEC_REORG_MARGIN > *from) {
        *from = head - EXEC_REORG_MARGIN;
    }
    return 0;
}

int bridge_ccip_advance(const bridge_env *env, desk *d, store_bridge *b, err *e)
{
    store *db = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", env->home);
    if (store_open(&db, path, e) < 0)
        return -1;
    int rc = 0;
    if (strcmp(b->state, "sent") == 0 && b->pending_action[0]) {
        rpc_client *rpc = NULL;
        rpc_receipt r;
        bool found = false;
        rc = desk_chain_rpc(db, b->pending_chain, NULL, &rpc, e);
        if (rc == 0)
            rc = rpc_eth_get_transaction_receipt(rpc, b->pending_hash, &r, &found, e);
        if (rc == 0 && !found) {
            uint8_t h[32];
            err se;
            if (rpc_eth_send_raw_transaction(rpc, b->pending_raw, b->pending_raw_len, h, &se) == 0)
                LOG_I("bridge", "transfer %lld: ccipSend re-sent", (long long)b->id);
            for (unsigned waited = 0, limit = env->no_wait ? 0 : 60000;
                 rc == 0 && !found && waited < limit; waited += 500) {
                bridge_sleep_ms(500);
                rc = rpc_eth_get_transaction_receipt(rpc, b->pending_hash, &r, &found, e);
            }
        }
        rpc_client_free(&rpc);
        if (rc == 0 && found) {
            bridge_mark_outbound(db, d, b, &r);
            b->pending_action[0] = '\0';
            b->pending_raw_len = 0;
            b->burn_block = r.block_number;
            if (!r.success) {
                snprintf(b->state, sizeof b->state, "failed");
                snprintf(b->note, sizeof b->note, "ccipSend reverted in block %llu: nothing moved",
                         (unsigned long long)r.block_number);
            }
            rc = store_bridge_put(db, b, e);
        }
    }
    if (rc == 0 && strcmp(b->state, "sent") == 0 && !b->pending_action[0] && !b->has_message) {
        rc = read_message(db, b, b->burn_block, e);
        if (rc == 0) {
            snprintf(b->state, sizeof b->state, "committed");
            rc = store_bridge_put(db, b, e);
            if (rc == 0)
                bridge_say(env, "bridge %lld: committed (message id recorded)", (long long)b->id);
        }
    }
    if (rc == 0 && strcmp(b->state, "committed") == 0) {
        bool found = false;
        uint64_t from = b->dst_from_block;
        for (unsigned waited = 0, limit = env->no_wait ? 0 : 1000 * (env->attest_wait_s ?
                                                                         env->attest_wait_s : 60);
             rc == 0; waited += 500) {
            rc = find_execution(db, b, &from, &found, e);
            if (rc < 0 || found || waited >= limit)
                break;
            bridge_sleep_ms(500);
        }
        if (rc == 0 && found) {
            snprintf(b->state, sizeof b->state, "delivered");
            rc = store_bridge_put(db, b, e);
            if (rc == 0)
                bridge_say(env, "bridge %lld: delivered on the destination", (long long)b->id);
        }
    }
    store_close(&db);
    return rc;
}
