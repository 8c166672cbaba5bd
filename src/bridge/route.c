/* route.c: what the bridge's two routes share (see route.h). */
#include "bridge/route.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/amount.h"
#include "base/log.h"
#include "rpc/rpc.h"
#include "store/store_book.h"

int bridge_chain_find(store *db, const char *s, store_chain *c, err *e)
{
    bool found = false;
    char *end = NULL;
    unsigned long long id = strtoull(s, &end, 10);
    if (end != s && !*end) {
        if (store_chain_get(db, id, c, &found, e) < 0)
            return -1;
    } else if (store_chain_find_name(db, s, c, &found, e) < 0) {
        return -1;
    }
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no chain \"%.64s\" in this desk (fusion chain list)", s);
    return 0;
}

int bridge_quote_start(store *db, const char *src, const char *dst, const char *protocol,
                       bridge_quote *q, store_chain *cs, store_chain *cd, err *e)
{
    memset(q, 0, sizeof *q);
    if (bridge_chain_find(db, src, cs, e) < 0 || bridge_chain_find(db, dst, cd, e) < 0)
        return -1;
    if (cs->chain_id == cd->chain_id)
        return err_set(e, ERR_INVALID, "source and destination are the same chain (%s)", cs->name);
    snprintf(q->protocol, sizeof q->protocol, "%s", protocol);
    q->src_chain = cs->chain_id;
    q->dst_chain = cd->chain_id;
    snprintf(q->src_name, sizeof q->src_name, "%s", cs->name);
    snprintf(q->dst_name, sizeof q->dst_name, "%s", cd->name);
    q->src_confirmations = cs->confirmations;
    return 0;
}

int bridge_quote_amount(bridge_quote *q, const char *amount, err *e)
{
    if (amount_parse(&q->amount, amount, q->decimals, e) < 0)
        return err_prefix(e, "amount %.40s", amount);
    if (u256_is_zero(&q->amount))
        return err_set(e, ERR_INVALID, "the amount must be more than 0");
    return 0;
}

void bridge_record_init(store_bridge *b, const bridge_quote *q, const store_operator *op,
                        const addr *recipient, const char *note)
{
    memset(b, 0, sizeof *b);
    snprintf(b->protocol, sizeof b->protocol, "%s", q->protocol);
    b->src_chain = q->src_chain;
    b->dst_chain = q->dst_chain;
    b->src_domain = q->src_domain;
    b->dst_domain = q->dst_domain;
    b->sender = op->address;
    b->recipient = *recipient;
    b->token_src = q->token_src;
    b->token_dst = q->token_dst;
    b->amount = q->amount;
    b->fee = q->fee;
    snprintf(b->operator_name, sizeof b->operator_name, "%s", op->name);
    snprintf(b->note, sizeof b->note, "%.199s", note);
}

int bridge_view_word(store *db, uint64_t chain_id, const addr *to, const buf *data,
                     const char *what, uint8_t w[32], err *e)
{
    rpc_client *rpc = NULL;
    buf out;
    buf_init(&out);
    int rc = desk_chain_rpc(db, chain_id, NULL, &rpc, e);
    if (rc == 0)
        rc = rpc_eth_call(rpc, to, data->data, data->len, "latest", &out, e);
    if (rc == 0 && out.len < 32)
        rc = err_set(e, ERR_RPC, "%.40s answered %zu bytes", what, out.len);
    if (rc == 0)
        memcpy(w, out.data, 32);
    rpc_client_free(&rpc);
    buf_free(&out);
    return rc;
}

int bridge_hold_step(void *vctx, store *db, int64_t outbound_id, const uint8_t *raw, size_t len,
                     const uint8_t hash[32], err *e)
{
    (void)outbound_id;
    bridge_hold_ctx *h = vctx;
    store_bridge *b = h->b;
    if (len > STORE_BRIDGE_RAW_MAX)
        return err_set(e, ERR_INTERNAL, "signed transaction too large to keep");
    snprintf(b->pending_action, sizeof b->pending_action, "%s", h->action);
    b->pending_chain = h->chain_id;
    memcpy(b->pending_hash, hash, 32);
    memcpy(b->pending_raw, raw, len);
    b->pending_raw_len = len;
    if (h->create) {
        snprintf(b->state, sizeof b->state, "sent");
        b->has_burn_tx = true;
        memcpy(b->burn_tx, hash, 32);
        if (store_bridge_add(db, b, &b->id, e) < 0)
            return -1;
        if (h->env && h->env->on_burn &&
            h->env->on_burn(h->env->on_burn_ctx, db, b->id, b->operator_name, e) < 0)
            return -1;
        return 0;
    }
    return store_bridge_put(db, b, e);
}

void bridge_say(const bridge_env *env, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    LOG_I("bridge", "%s", line);
    if (env->say)
        env->say(env->say_ctx, line);
}

void bridge_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* o's receipt r written through the desk's store when its book is on a server, else db. */
static void mark_one(store *db, desk *d, const store_outbound *o, const rpc_receipt *r)
{
    err e;
    store *via = d && store_has_book(desk_store(d)) ? desk_store(d) : db;
    if (store_outbound_set_state(via, o->id, r->success ? OUTBOUND_MINED : OUTBOUND_FAILED,
                                 r->block_number, (int64_t)time(NULL), &e) < 0 ||
        (r->success && store_outbound_mark_replaced(via, o->id, &e) < 0))
        LOG_W("bridge", "outbound tx %lld: %s", (long long)o->id, e.msg);
}

/* The allowance approve a send signs right before its burn (or ccipSend) is no step the
 * transfer keeps: it is the sender's bridge_allowance one nonce below the burn on its
 * chain. Still in flight (sent without waiting), its receipt is read from the node and
 * written as the burn's. */
static void mark_allowance(store *db, desk *d, const store_outbound *burn)
{
    if (burn->nonce == 0)
        return;
    err e;
    int64_t *ids = NULL;
    size_t n = 0;
    if (store_outbound_in_flight(db, burn->chain_id, &ids, &n, &e) < 0) {
        LOG_W("bridge", "the allowance below outbound tx %lld: %s", (long long)burn->id, e.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        store_outbound o;
        uint8_t *raw = NULL;
        bool found = false;
        if (store_outbound_get(db, ids[i], &o, &raw, &found, &e) < 0) {
            LOG_W("bridge", "outbound tx %lld: %s", (long long)ids[i], e.msg);
            break;
        }
        free(raw);
        if (!found || o.nonce + 1 != burn->nonce || !addr_equal(&o.from, &burn->from) ||
            strcmp(o.action, "bridge_allowance") != 0 ||
            (o.state != OUTBOUND_PENDING && o.state != OUTBOUND_SENT))
            continue;
        rpc_client *rpc = NULL;
        rpc_receipt r;
        found = false;
        if (desk_chain_rpc(db, o.chain_id, NULL, &rpc, &e) == 0 &&
            rpc_eth_get_transaction_receipt(rpc, o.hash, &r, &found, &e) == 0) {
            if (found)
                mark_one(db, d, &o, &r);
        } else {
            LOG_W("bridge", "outbound tx %lld's receipt: %s", (long long)o.id, e.msg);
        }
        rpc_client_free(&rpc);
        break;
    }
    free(ids);
}

void bridge_mark_outbound(store *db, desk *d, const store_bridge *b, const rpc_receipt *r)
{
    err e;
    store_outbound o;
    bool found = false;
    if (store_outbound_find_hash(db, b->pending_chain, b->pending_hash, &o, &found, &e) < 0) {
        LOG_W("bridge", "transfer %lld: its %s's record: %s", (long long)b->id, b->pending_action,
              e.msg);
        return;
    }
    if (!found)
        return;
    if (o.state == OUTBOUND_PENDING || o.state == OUTBOUND_SENT)
        mark_one(db, d, &o, r);
    if (strcmp(b->pending_action, "bridge_burn") == 0)
        mark_allowance(db, d, &o);
}
