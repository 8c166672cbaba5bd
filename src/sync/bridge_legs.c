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

/* The burn of a transfer was mined in lg's block: its message is recorded (what the
 * chain says, once it matches the transfer), the burn no longer in flight. */
static int source_leg(store *db, store_bridge *bs, size_t n, const sync_bridge_watch *w,
                      const rpc_log *lg, err *e)
{
    const uint8_t *m;
    size_t mlen;
    if (!abi_bytes(lg->data, lg->data_len, 0, &m, &mlen))
        return 0;
    for (size_t i = 0; i < n; i++) {
        store_bridge *b = &bs[i];
        if (b->src_chain != w->chain_id || !b->has_burn_tx ||
            memcmp(b->burn_tx, lg->tx_hash, 32) != 0)
            continue;
        if (!is_state(b, "sent") || (b->has_message && b->burn_block == lg->block_number))
            return 0; /* already recorded (or further on) */
        if (!msg_matches(b, m, mlen)) {
            LOG_W("sync", "bridge transfer %lld: the burn's message does not match the transfer:"
                  " not recorded", (long long)b->id);
            return 0;
        }
        memcpy(b->message, m, mlen);
        b->message_len = mlen;
        keccak256(b->message_hash, m, mlen);
        b->has_message = true;
        b->burn_block = lg->block_number;
        if (strcmp(b->pending_action, "bridge_burn") == 0)
            b->pending_action[0] = '\0'; /* the signed bytes stay: a reorg may need them */
        snprintf(b->note, sizeof b->note, "burned in block %llu (seen by sync): waiting for the"
                 " attestation", (unsigned long long)lg->block_number);
        LOG_I("sync", "bridge transfer %lld: burn mined in block %llu", (long long)b->id,
              (unsigned long long)lg->block_number);
        return store_bridge_put(db, b, e);
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
        store_bridge *b = &bs[i];
        uint32_t ms;
        uint64_t mn;
        if (b->dst_chain != w->chain_id || !b->has_message ||
            !msg_key(b->message, b->message_len, &ms, &mn) || ms != src || mn != nonce)
            continue;
        if (is_state(b, "delivered") && b->mint_block == lg->block_number)
            return 0;
        bool ours = strcmp(b->pending_action, "bridge_mint") == 0 &&
                    memcmp(b->pending_hash, lg->tx_hash, 32) == 0;
        snprintf(b->state, sizeof b->state, "delivered");
        b->has_mint_tx = true;
        memcpy(b->mint_tx, lg->tx_hash, 32);
        b->mint_block = lg->block_number;
        if (strcmp(b->pending_action, "bridge_mint") == 0)
            b->pending_action[0] = '\0';
        snprintf(b->note, sizeof b->note, "minted in block %llu (seen by sync%s)",
                 (unsigned long long)lg->block_number, ours ? "" : "; not by the desk's mint");
        LOG_I("sync", "bridge transfer %lld: delivered in block %llu", (long long)b->id,
              (unsigned long long)lg->block_number);
        return store_bridge_put(db, b, e);
    }
    return 0;
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
