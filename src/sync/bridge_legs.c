/* bridge_legs.c: the bridge transfers' legs recorded by the chain thread (bridge_legs.h).
 * A MessageSent is the source leg of the transfer whose signed burn is that log's
 * transaction (and whose message says what the transfer asked for); a MessageReceived is
 * the destination leg of the transfer whose message has that (source domain, nonce). The
 * message layout is Circle's CCTP version 1 (docs/bridges.md). */
#include "sync/bridge_legs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/log.h"
#include "crypto/keccak.h"

enum { LEG_SENT, LEG_RECEIVED, LEG_DEPOSIT, LEG_MINT, LEG_N };

static const char *const leg_sig[LEG_N] = {
    "MessageSent(bytes)",
    "MessageReceived(address,uint32,uint64,bytes32,bytes)",
    "DepositForBurn(uint64,address,uint256,address,bytes32,uint32,bytes32,bytes32)",
    "MintAndWithdraw(address,uint256,address)",
};
static const char *const leg_name[LEG_N] = {"MessageSent", "MessageReceived", "DepositForBurn",
                                            "MintAndWithdraw"};

static int leg_of(const rpc_log *lg)
{
    if (lg->n_topics == 0)
        return -1;
    for (int i = 0; i < LEG_N; i++) {
        uint8_t t[32];
        keccak256(t, leg_sig[i], strlen(leg_sig[i]));
        if (memcmp(t, lg->topics[0], 32) == 0)
            return i;
    }
    return -1;
}

int sync_bridge_watch_load(store *db, uint64_t chain_id, sync_bridge_watch *w, err *e)
{
    memset(w, 0, sizeof *w);
    w->chain_id = chain_id;
    store_bridge_cctp r;
    bool found = false;
    if (store_bridge_cctp_get(db, chain_id, &r, &found, e) < 0)
        return -1;
    if (!found)
        return 0;
    w->domain = r.domain;
    w->v[w->n++] = r.message_transmitter;
    w->v[w->n++] = r.token_messenger;
    return 0;
}

bool sync_bridge_watches(const sync_bridge_watch *w, const addr *a)
{
    for (size_t i = 0; i < w->n; i++)
        if (addr_equal(&w->v[i], a))
            return true;
    return false;
}

static uint64_t be_u64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The dynamic bytes at ABI offset word `at` of data; false when malformed. */
static bool abi_bytes(const uint8_t *data, size_t len, size_t at, const uint8_t **p, size_t *n)
{
    if (at + 32 > len)
        return false;
    for (size_t i = 0; i < 24; i++)
        if (data[at + i])
            return false;
    uint64_t off = be_u64(data + at + 24, 8);
    if (off > len || len - off < 32)
        return false;
    for (size_t i = 0; i < 24; i++)
        if (data[off + i])
            return false;
    uint64_t k = be_u64(data + off + 24, 8);
    if (k > len - off - 32)
        return false;
    *p = data + off + 32;
    *n = (size_t)k;
    return true;
}

/* The message's (source domain, nonce): header bytes 4..8 and 12..20. */
static bool msg_key(const uint8_t *m, size_t n, uint32_t *src, uint64_t *nonce)
{
    if (n < 116 + 132)
        return false;
    *src = (uint32_t)be_u64(m + 4, 4);
    *nonce = be_u64(m + 12, 8);
    return true;
}

/* The burn message says what transfer b asked for (domains, token, recipient, amount). */
static bool msg_matches(const store_bridge *b, const uint8_t *m, size_t n)
{
    if (n != 116 + 132 || n > sizeof b->message)
        return false;
    uint8_t amt[32];
    u256_to_be(amt, &b->amount);
    return be_u64(m + 4, 4) == b->src_domain && be_u64(m + 8, 4) == b->dst_domain &&
           memcmp(m + 116 + 4 + 12, b->token_src.b, ADDR_LEN) == 0 &&
           memcmp(m + 116 + 36 + 12, b->recipient.b, ADDR_LEN) == 0 &&
           memcmp(m + 116 + 68, amt, 32) == 0;
}

static bool is_state(const store_bridge *b, const char *s)
{
    return strcmp(b->state, s) == 0;
}

/* The burn of b was mined in block `block` of src_chain by transaction tx, its message m:
 * recorded in b (what the chain says, once it matches the transfer), the burn no longer in
 * flight. *mine: b is that burn's transfer; *changed: b was changed. */
static void burn_seen(store_bridge *b, uint64_t src_chain, const uint8_t tx[32], uint64_t block,
                      const uint8_t *m, size_t mlen, bool *mine, bool *changed)
{
    *mine = *changed = false;
    if (b->src_chain != src_chain || !b->has_burn_tx || memcmp(b->burn_tx, tx, 32) != 0)
        return;
    *mine = true;
    if (!is_state(b, "sent") || (b->has_message && b->burn_block == block))
        return; /* already recorded (or further on) */
    if (!msg_matches(b, m, mlen)) {
        LOG_W("sync", "bridge transfer %lld: the burn's message does not match the transfer:"
              " not recorded", (long long)b->id);
        return;
    }
    memcpy(b->message, m, mlen);
    b->message_len = mlen;
    keccak256(b->message_hash, m, mlen);
    b->has_message = true;
    b->burn_block = block;
    if (strcmp(b->pending_action, "bridge_burn") == 0)
        b->pending_action[0] = '\0'; /* the signed bytes stay: a reorg may need them */
    snprintf(b->note, sizeof b->note, "burned in block %llu (seen by sync): waiting for the"
             " attestation", (unsigned long long)block);
    *changed = true;
}

/* The message (src, nonce) was received on dst_chain in block `block` by transaction tx:
 * b, when it is that message's transfer, is delivered. *mine, *changed as burn_seen. */
static void receipt_seen(store_bridge *b, uint64_t dst_chain, uint32_t src, uint64_t nonce,
                         const uint8_t tx[32], uint64_t block, bool *mine, bool *changed)
{
    *mine = *changed = false;
    uint32_t ms;
    uint64_t mn;
    if (b->dst_chain != dst_chain || !b->has_message ||
        !msg_key(b->message, b->message_len, &ms, &mn) || ms != src || mn != nonce)
        return;
    *mine = true;
    if (is_state(b, "delivered") && b->mint_block == block)
        return;
    bool ours = strcmp(b->pending_action, "bridge_mint") == 0 &&
                memcmp(b->pending_hash, tx, 32) == 0;
    snprintf(b->state, sizeof b->state, "delivered");
    b->has_mint_tx = true;
    memcpy(b->mint_tx, tx, 32);
    b->mint_block = block;
    if (strcmp(b->pending_action, "bridge_mint") == 0)
        b->pending_action[0] = '\0';
    snprintf(b->note, sizeof b->note, "minted in block %llu (seen by sync%s)",
             (unsigned long long)block, ours ? "" : "; not by the desk's mint");
    *changed = true;
}

/* The burn of a transfer was mined in lg's block: recorded (burn_seen) and stored. */
static int source_leg(store *db, store_bridge *bs, size_t n, const sync_bridge_watch *w,
                      const rpc_log *lg, err *e)
{
    const uint8_t *m;
    size_t mlen;
    if (!abi_bytes(lg->data, lg->data_len, 0, &m, &mlen))
        return 0;
    for (size_t i = 0; i < n; i++) {
        bool mine, changed;
        burn_seen(&bs[i], w->chain_id, lg->tx_hash, lg->block_number, m, mlen, &mine, &changed);
        if (!mine)
            continue;
        if (!changed)
            return 0;
        LOG_I("sync", "bridge transfer %lld: burn mined in block %llu", (long long)bs[i].id,
              (unsigned long long)lg->block_number);
        return store_bridge_put(db, &bs[i], e);
    }
    return 0;
}

/* A message was received on this chain: the transfer it belongs to is delivered. */
static int destination_leg(store *db, store_bridge *bs, size_t n, const sync_bridge_watch *w,
                           const rpc_log *lg, err *e)
{
    if (lg->n_topics < 3 || lg->data_len < 32)
        return 0;
    uint32_t src = (uint32_t)be_u64(lg->data + 28, 4);
    uint64_t nonce = be_u64(lg->topics[2] + 24, 8);
    for (size_t i = 0; i < n; i++) {
        bool mine, changed;
        receipt_seen(&bs[i], w->chain_id, src, nonce, lg->tx_hash, lg->block_number, &mine,
                     &changed);
        if (!mine)
            continue;
        if (!changed)
            return 0;
        LOG_I("sync", "bridge transfer %lld: delivered in block %llu", (long long)bs[i].id,
              (unsigned long long)lg->block_number);
        return store_bridge_put(db, &bs[i], e);
    }
    return 0;
}

bool sync_bridge_legs_apply(store_bridge *b, const store_bridge_leg *l, size_t n)
{
    bool any = false;
    /* the source's legs first: a received leg is found by the message a sent leg records */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            bool mine = false, changed = false;
            if (pass == 0 && !l[i].received)
                burn_seen(b, l[i].chain_id, l[i].tx_hash, l[i].block_number, l[i].message,
                          l[i].message_len, &mine, &changed);
            else if (pass == 1 && l[i].received)
                receipt_seen(b, l[i].chain_id, l[i].src_domain, l[i].nonce, l[i].tx_hash,
                             l[i].block_number, &mine, &changed);
            any |= changed;
        }
    return any;
}

int sync_bridge_log(store *db, const sync_bridge_watch *w, store_event *ev, const rpc_log *lg,
                    bool *inserted, err *e)
{
    int leg = leg_of(lg);
    if (leg >= 0)
        snprintf(ev->name, sizeof ev->name, "%s", leg_name[leg]);
    if (store_event_put(db, ev, inserted, e) < 0)
        return -1;
    if (leg != LEG_SENT && leg != LEG_RECEIVED)
        return 0;
    /* only the transmitter's messages are legs (the messenger emits none of these) */
    if (w->n == 0 || !addr_equal(&w->v[0], &lg->address))
        return 0;
    store_bridge *bs = NULL;
    size_t n = 0;
    if (store_bridge_list(db, &bs, &n, e) < 0)
        return -1;
    int rc = leg == LEG_SENT ? source_leg(db, bs, n, w, lg, e) : destination_leg(db, bs, n, w, lg, e);
    free(bs);
    return rc;
}

void sync_bridge_leg_of(const sync_bridge_watch *w, const rpc_log *lg, store_event *ev,
                        store_bridge_leg *leg, bool *is_leg)
{
    *is_leg = false;
    int k = leg_of(lg);
    if (k >= 0)
        snprintf(ev->name, sizeof ev->name, "%s", leg_name[k]);
    if ((k != LEG_SENT && k != LEG_RECEIVED) || w->n == 0 || !addr_equal(&w->v[0], &lg->address))
        return;
    memset(leg, 0, sizeof *leg);
    if (k == LEG_SENT) {
        const uint8_t *m;
        size_t mlen;
        if (!abi_bytes(lg->data, lg->data_len, 0, &m, &mlen) || mlen > sizeof leg->message ||
            !msg_key(m, mlen, &leg->src_domain, &leg->nonce))
            return; /* no CCTP message: no leg (the event is stored all the same) */
        memcpy(leg->message, m, mlen);
        leg->message_len = mlen;
    } else {
        if (lg->n_topics < 3 || lg->data_len < 32)
            return;
        leg->received = true;
        leg->src_domain = (uint32_t)be_u64(lg->data + 28, 4);
        leg->nonce = be_u64(lg->topics[2] + 24, 8);
    }
    leg->chain_id = w->chain_id;
    leg->block_number = lg->block_number;
    leg->log_index = lg->log_index;
    memcpy(leg->block_hash, lg->block_hash, 32);
    memcpy(leg->tx_hash, lg->tx_hash, 32);
    *is_leg = true;
}

int sync_bridge_reorg(store *db, uint64_t chain_id, uint64_t first_gone, err *e)
{
    store_bridge *bs = NULL;
    size_t n = 0;
    if (store_bridge_list(db, &bs, &n, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        store_bridge *b = &bs[i];
        bool changed = false;
        if (b->dst_chain == chain_id && is_state(b, "delivered") && b->mint_block &&
            b->mint_block >= first_gone) {
            /* resume reads the destination's nonce guard again before it signs anything */
            snprintf(b->state, sizeof b->state, "%s", b->attestation_len ? "attested" : "sent");
            b->has_mint_tx = false;
            b->mint_block = 0;
            snprintf(b->note, sizeof b->note, "the mint's block was reorged away: waiting for"
                     " the destination again");
            changed = true;
        }
        if (b->src_chain == chain_id && b->has_message && b->burn_block &&
            b->burn_block >= first_gone && (is_state(b, "sent") || is_state(b, "attested"))) {
            /* the burn is in flight again: its receipt (or its re-sent bytes) decides */
            snprintf(b->state, sizeof b->state, "sent");
            b->has_message = false;
            b->message_len = 0;
            memset(b->message_hash, 0, sizeof b->message_hash);
            b->attestation_len = 0;
            b->burn_block = 0;
            snprintf(b->pending_action, sizeof b->pending_action, "bridge_burn");
            b->pending_chain = b->src_chain;
            memcpy(b->pending_hash, b->burn_tx, 32);
            snprintf(b->note, sizeof b->note, "the burn's block was reorged away: the burn is in"
                     " flight again");
            changed = true;
        } else if (b->src_chain == chain_id && b->has_message && b->burn_block >= first_gone &&
                   b->burn_block && is_state(b, "delivered")) {
            LOG_W("sync", "bridge transfer %lld: the burn's block was reorged away after the"
                  " mint", (long long)b->id);
        }
        if (changed) {
            LOG_W("sync", "bridge transfer %lld: reorg from block %llu: back to %s",
                  (long long)b->id, (unsigned long long)first_gone, b->state);
            rc = store_bridge_put(db, b, e);
        }
    }
    free(bs);
    return rc;
}

int sync_bridge_book_view(store *db, store_bridge *b, err *e)
{
    if (!store_reader(db, NULL) || strcmp(b->protocol, "cctp") != 0)
        return 0;
    store_bridge_leg *legs = NULL;
    size_t n = 0;
    if (store_book_bridge_legs(db, b, &legs, &n, e) < 0)
        return -1;
    sync_bridge_legs_apply(b, legs, n);
    free(legs);
    return 0;
}

bool sync_bridge_of_leg(const store_bridge_leg *l, const store_bridge_cctp *cctp, size_t n,
                        store_bridge *out)
{
    const uint8_t *m = l->message;
    if (l->received || l->message_len != 116 + 132)
        return false;
    memset(out, 0, sizeof *out);
    snprintf(out->protocol, sizeof out->protocol, "cctp");
    snprintf(out->state, sizeof out->state, "sent");
    out->src_domain = (uint32_t)be_u64(m + 4, 4);
    out->dst_domain = (uint32_t)be_u64(m + 8, 4);
    /* the body's addresses are 32-byte words: an address is their last 20 bytes */
    static const size_t words[3] = {116 + 4, 116 + 36, 116 + 100}; /* token, to, sender */
    addr *to[3] = {&out->token_src, &out->recipient, &out->sender};
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < 12; i++)
            if (m[words[k] + i])
                return false;
        memcpy(to[k]->b, m + words[k] + 12, ADDR_LEN);
    }
    u256_from_be(&out->amount, m + 116 + 68);
    bool src = false, dst = false;
    for (size_t i = 0; i < n; i++) {
        if (cctp[i].chain_id == l->chain_id && cctp[i].domain == out->src_domain)
            src = true;
        if (cctp[i].domain == out->dst_domain && cctp[i].chain_id != l->chain_id && !dst) {
            dst = true;
            out->dst_chain = cctp[i].chain_id;
            out->token_dst = cctp[i].usdc;
        }
    }
    if (!src || !dst)
        return false;
    out->src_chain = l->chain_id;
    out->has_burn_tx = true;
    memcpy(out->burn_tx, l->tx_hash, 32);
    return sync_bridge_legs_apply(out, l, 1) && out->has_message;
}

int sync_bridge_book_list(store *db, const addr *senders, size_t n_senders, store_bridge **out,
                          size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    store_bridge *bs = NULL;
    size_t nb = 0;
    if (store_bridge_list(db, &bs, &nb, e) < 0)
        return -1;
    for (size_t i = 0; i < nb; i++)
        if (sync_bridge_book_view(db, &bs[i], e) < 0) {
            free(bs);
            return -1;
        }
    if (!store_reader(db, NULL)) {
        *out = bs;
        *n = nb;
        return 0;
    }
    store_bridge_leg *legs = NULL;
    size_t nl = 0;
    store_chain *chains = NULL;
    size_t nc = 0;
    store_bridge_cctp *cctp = NULL;
    size_t nk = 0;
    int rc = store_book_bridge_legs_of_senders(db, senders, n_senders, &legs, &nl, e);
    if (rc == 0)
        rc = store_chain_list(db, &chains, &nc, e);
    if (rc == 0 && !(cctp = calloc(nc ? nc : 1, sizeof *cctp)))
        rc = err_set(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < nc; i++) {
        bool found = false;
        rc = store_bridge_cctp_get(db, chains[i].chain_id, &cctp[nk], &found, e);
        nk += rc == 0 && found;
    }
    if (rc == 0 && nl) {
        store_bridge *grown = realloc(bs, (nb + nl) * sizeof *bs);
        if (!grown)
            rc = err_set(e, ERR_NOMEM, "out of memory");
        else
            bs = grown;
    }
    size_t desk = nb;
    for (size_t i = 0; rc == 0 && i < nl; i++) {
        bool known = false;
        for (size_t j = 0; j < desk && !known; j++)
            known = bs[j].has_burn_tx && bs[j].src_chain == legs[i].chain_id &&
                    memcmp(bs[j].burn_tx, legs[i].tx_hash, 32) == 0;
        if (known || !sync_bridge_of_leg(&legs[i], cctp, nk, &bs[nb]))
            continue;
        /* its deliveries, the note saying whose it is (no transfer of this desk.db) */
        store_bridge *b = &bs[nb++];
        sync_bridge_legs_apply(b, legs, nl);
        if (is_state(b, "delivered"))
            snprintf(b->note, sizeof b->note, "minted in block %llu; burned in block %llu by"
                     " another workstation (seen on the server)",
                     (unsigned long long)b->mint_block, (unsigned long long)b->burn_block);
        else
            snprintf(b->note, sizeof b->note, "burned in block %llu by another workstation"
                     " (seen on the server)", (unsigned long long)b->burn_block);
    }
    free(legs);
    free(chains);
    free(cctp);
    if (rc < 0) {
        free(bs);
        return -1;
    }
    *out = bs;
    *n = nb;
    return 0;
}
