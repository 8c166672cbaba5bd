/* bridge.c: the bridge service: quotes from the desk's routes (bridge_cctp), the CCTP
 * adapter's steps signed through the desk's pipeline, the attestation fetched over HTTP
 * (libcurl), and the state machine kept in the desk (store_bridge) so that a process
 * killed at any step is completed by `resume` exactly once: the signed burn and mint are
 * recorded with the transfer before they are sent and re-sent byte for byte; a mint is
 * never signed when the destination already holds the message's nonce as used. */
#include "bridge/bridge.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/amount.h"
#include "base/bytes.h"
#include "base/log.h"
#include "bridge/ccip.h"
#include "bridge/route.h"
#include "crypto/keccak.h"
#include "eth/abi.h"
#include "rpc/rpc.h"

/* ---- helpers ---- */

/* The crash tests' fault hook: FUSION_BRIDGE_KILL_AT=POINT kills this process with SIGKILL
 * right after that step (approved, burn_sent, burn_mined, attested, mint_sent), as a crash
 * there would; unset (always, outside the tests) it does nothing. */
static void kill_point(const char *point)
{
    const char *at = getenv("FUSION_BRIDGE_KILL_AT");
    if (at && strcmp(at, point) == 0) {
        LOG_W("bridge", "FUSION_BRIDGE_KILL_AT=%s: killed here", point);
        raise(SIGKILL);
    }
}

static int route_of(store *db, uint64_t chain_id, const char *name, store_bridge_cctp *r, err *e)
{
    bool found = false;
    if (store_bridge_cctp_get(db, chain_id, r, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND,
                       "chain %s has no CCTP route (no TokenMessenger recorded; on the devnet: "
                       "`fusion devnet up`)",
                       name);
    return 0;
}

/* ---- quote ---- */

int bridge_quote_get(store *db, const char *src, const char *dst, const char *asset,
                     const char *amount, bridge_quote *q, err *e)
{
    store_chain cs, cd;
    if (bridge_quote_start(db, src, dst, "cctp", q, &cs, &cd, e) < 0)
        return -1;
    if (strcmp(asset, "USDC") != 0)
        return err_set(e, ERR_NOT_FOUND,
                       "no bridge route for %.16s: the CCTP route moves USDC only", asset);
    store_bridge_cctp rs, rd;
    if (route_of(db, cs.chain_id, cs.name, &rs, e) < 0 ||
        route_of(db, cd.chain_id, cd.name, &rd, e) < 0)
        return -1;
    q->src_domain = rs.domain;
    q->dst_domain = rd.domain;
    q->token_src = rs.usdc;
    q->token_dst = rd.usdc;
    q->decimals = 6;
    if (bridge_quote_amount(q, amount, e) < 0)
        return -1;
    /* CCTP's standard transfer has no protocol fee; gas is paid on both chains */
    q->fee = u256_from_u64(0);
    /* the attester waits for the source's confirmations; the mint takes a few blocks */
    q->expected_s = (uint64_t)cs.confirmations * 12 + 30;
    return 0;
}

/* ---- the engine: desk, chains, ABIs ---- */

typedef struct eng {
    const bridge_env *env;
    store *db;
    desk *d;
    bool own_d; /* opened here (else the caller's env->desk) */
    abi_json *tm, *mt, *token;
} eng;

static int load_abi(abi_json **out, const char *name, err *e)
{
    char path[4200];
    if (desk_data_path(path, sizeof path, "contracts", name, e) < 0)
        return -1;
    return abi_json_load(out, path, e);
}

static void eng_close(eng *g)
{
    if (g->own_d)
        desk_free(&g->d);
    g->d = NULL;
    abi_json_free(&g->tm);
    abi_json_free(&g->mt);
    abi_json_free(&g->token);
    store_close(&g->db);
}

static int eng_open(eng *g, const bridge_env *env, err *e)
{
    memset(g, 0, sizeof *g);
    g->env = env;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", env->home);
    if (store_open(&g->db, path, e) < 0 || load_abi(&g->tm, "TokenMessenger.json", e) < 0 ||
        load_abi(&g->mt, "MessageTransmitter.json", e) < 0 ||
        load_abi(&g->token, "TestToken.json", e) < 0)
        goto fail;
    if (env->desk) {
        g->d = env->desk;
    } else {
        if (desk_open(&g->d, env->home, env->operator_name, e) < 0)
            goto fail;
        g->own_d = true;
    }
    if (env->wire)
        env->wire(env->wire_ctx, g->d);
    desk_set_wait(g->d, env->no_wait ? 0 : 120);
    return 0;
fail:
    eng_close(g);
    return -1;
}

static int view_word(store *db, uint64_t chain_id, const addr *to, const abi_json *abi,
                     const char *fn, const char *args, uint8_t w[32], err *e)
{
    buf data;
    buf_init(&data);
    int rc = abi_json_calldata(&data, abi, fn, args, e);
    if (rc == 0)
        rc = bridge_view_word(db, chain_id, to, &data, fn, w, e);
    buf_free(&data);
    return rc;
}

static void note_of(char *out, size_t cap, const bridge_quote *q, const addr *rcpt, const char *step)
{
    char amt[AMOUNT_STR_MAX], fee[AMOUNT_STR_MAX], r[ADDR_STR_MAX];
    amount_format(amt, &q->amount, q->decimals);
    amount_format(fee, &q->fee, q->decimals);
    addr_to_checksum(r, rcpt);
    int k = snprintf(out, cap,
             "bridge (%s, %s): %s USDC from %s (domain %u) to %s (domain %u), recipient %s, "
             "fee %s USDC, expected arrival ~%llu s after %u confirmations",
             q->protocol, step, amt, q->src_name, q->src_domain, q->dst_name, q->dst_domain, r, fee,
             (unsigned long long)q->expected_s, q->src_confirmations);
    if (k < 0 && cap)
        out[0] = '\0';
}

/* ---- send ---- */

/* dst_chain: the transfer's destination (the policy's `to=`). */
static int step_send(eng *g, const char *action, uint64_t chain_id, uint64_t dst_chain,
                     const addr *to, const buf *data, const addr *token, const u256 *amount,
                     const addr *payee, const char *note, bridge_hold_ctx *h, err *e)
{
    store_chain dc;
    bool dfound = false;
    if (store_chain_get(g->db, dst_chain, &dc, &dfound, e) < 0)
        return -1;
    if (!dfound)
        return err_set(e, ERR_NOT_FOUND, "no chain %llu in this desk", (unsigned long long)dst_chain);
    desk_step st = {.action = action,
                    .chain_id = chain_id,
                    .to = *to,
                    .data = data->data,
                    .len = data->len,
                    .value = u256_from_u64(0),
                    .token = *token,
                    .amount = *amount,
                    .payee = payee,
                    .note = note,
                    .route_to = dc.name,
                    .hold = h ? bridge_hold_step : NULL,
                    .hold_ctx = h};
    desk_result res;
    int rc = desk_step_send(g->d, &st, &res, e);
    /* recorded with the transfer but not known to be sent: resume re-sends it */
    if (rc < 0 && h && h->b->id && h->b->pending_action[0]) {
        store_bridge now;
        bool found = false;
        err ie;
        if (store_bridge_get(g->db, h->b->id, &now, &found, &ie) == 0 && found &&
            strcmp(now.pending_action, action) == 0 &&
            memcmp(now.pending_hash, h->b->pending_hash, 32) == 0) {
            LOG_W("bridge", "transfer %lld: %s: %s (will re-send)", (long long)h->b->id, action,
                  e->msg);
            rc = 0;
        }
    }
    return rc;
}

int bridge_route_quote(store *db, const char *route, const char *src, const char *dst,
                       const char *asset, const char *amount, bridge_quote *q, err *e)
{
    if (!route || strcmp(route, "cctp") == 0)
        return bridge_quote_get(db, src, dst, asset, amount, q, e);
    if (strcmp(route, "ccip") == 0)
        return bridge_ccip_quote_get(db, src, dst, asset, amount, q, e);
    return err_set(e, ERR_INVALID, "no route %.20s: cctp (USDC, the default) or ccip", route);
}

int bridge_send(const bridge_env *env, const bridge_quote *q, const addr *recipient, int64_t *id,
                err *e)
{
    if (strcmp(q->protocol, "ccip") == 0)
        return bridge_ccip_send(env, q, recipient, id, e);
    *id = 0;
    if (addr_is_zero(recipient))
        return err_set(e, ERR_INVALID, "the recipient is the zero address");
    eng g;
    if (eng_open(&g, env, e) < 0)
        return -1;
    int rc = -1;
    buf data;
    buf_init(&data);
    store_bridge_cctp rs;
    char a_tm[ADDR_STR_MAX], a_tok[ADDR_STR_MAX], a_rcpt[ADDR_STR_MAX], a_me[ADDR_STR_MAX],
        amt[U256_DEC_MAX], args[400], note[400];
    const store_operator *op = desk_operator(g.d);
    if (route_of(g.db, q->src_chain, q->src_name, &rs, e) < 0)
        goto out;
    addr_to_lower(a_tm, &rs.token_messenger);
    addr_to_lower(a_tok, &q->token_src);
    addr_to_lower(a_rcpt, recipient);
    addr_to_lower(a_me, &op->address);
    u256_to_dec(amt, &q->amount);

    desk_set_risk_override(g.d, env->risk_override);
    if (desk_pretrade_bridge(g.d, q->src_chain, q->dst_chain, &q->token_src, &q->amount, recipient,
                             e) < 0)
        goto out;
    /* the messenger burns from the operator's balance: approve it first when needed (the
     * recipient is screened on this step too, so a refused recipient is refused here,
     * before anything is signed) */
    uint8_t w[32];
    snprintf(args, sizeof args, "(%s, %s)", a_me, a_tm);
    if (view_word(g.db, q->src_chain, &q->token_src, g.token, "allowance", args, w, e) < 0)
        goto out;
    u256 allowance;
    u256_from_be(&allowance, w);
    if (u256_cmp(&allowance, &q->amount) < 0) {
        note_of(note, sizeof note, q, recipient, "allowance for the token messenger");
        snprintf(args, sizeof args, "(%s, %s)", a_tm, amt);
        if (abi_json_calldata(&data, g.token, "approve", args, e) < 0 ||
            step_send(&g, "bridge_allowance", q->src_chain, q->dst_chain, &q->token_src, &data,
                      &q->token_src, &q->amount, recipient, note, NULL, e) < 0)
            goto out;
        kill_point("approved");
        buf_free(&data);
        buf_init(&data);
    }

    store_bridge b;
    note_of(note, sizeof note, q, recipient, "burn");
    bridge_record_init(&b, q, op, recipient, note);
    snprintf(args, sizeof args, "(%s, %u, 0x000000000000000000000000%s, %s)", amt, q->dst_domain,
             a_rcpt + 2, a_tok);
    bridge_hold_ctx h = {&b, "bridge_burn", q->src_chain, true, env};
    if (abi_json_calldata(&data, g.tm, "depositForBurn", args, e) < 0 ||
        step_send(&g, "bridge_burn", q->src_chain, q->dst_chain, &rs.token_messenger, &data,
                  &q->token_src, &q->amount, recipient, note, &h, e) < 0)
        goto out;
    *id = b.id;
    bridge_say(env, "bridge %lld: burn sent on %s", (long long)b.id, q->src_name);
    kill_point("burn_sent");
    rc = 0;
out:
    buf_free(&data);
    eng_close(&g);
    if (rc == 0)
        return bridge_advance(env, *id, NULL, e);
    return rc;
}

/* ---- advance ---- */

/* Writes b back, unless the row was delivered meanwhile by another process (the sync saw
 * the destination's leg while this one waited): then b becomes that row, never an older
 * state written over a newer one. */
static int save(eng *g, store_bridge *b, err *e)
{
    if (store_begin(g->db, e) < 0)
        return -1;
    store_bridge now;
    bool found = false;
    int rc = store_bridge_get(g->db, b->id, &now, &found, e);
    bool keep = rc == 0 && found && strcmp(now.state, "delivered") == 0 &&
                strcmp(b->state, "delivered") != 0;
    if (rc == 0 && !keep)
        rc = store_bridge_put(g->db, b, e);
    if (rc == 0)
        rc = store_commit(g->db, e);
    if (rc < 0) {
        store_rollback(g->db);
        return -1;
    }
    if (keep) {
        LOG_I("bridge", "transfer %lld: delivered meanwhile (%s): kept", (long long)b->id,
              now.note);
        *b = now;
    }
    return 0;
}

static void set_state(store_bridge *b, const char *s)
{
    snprintf(b->state, sizeof b->state, "%s", s);
}

/* The receipt of the transaction in flight; re-sends its signed bytes when the node does
 * not know it (a crash between record and send, or a dropped transaction). */
static int pending_receipt(eng *g, store_bridge *b, rpc_receipt *r, bool *found, err *e)
{
    rpc_client *rpc = NULL;
    *found = false;
    if (desk_chain_rpc(g->db, b->pending_chain, NULL, &rpc, e) < 0)
        return -1;
    int rc = rpc_eth_get_transaction_receipt(rpc, b->pending_hash, r, found, e);
    if (rc == 0 && !*found) {
        uint8_t h[32];
        err se;
        if (rpc_eth_send_raw_transaction(rpc, b->pending_raw, b->pending_raw_len, h, &se) == 0)
            LOG_I("bridge", "transfer %lld: %s re-sent", (long long)b->id, b->pending_action);
        else
            LOG_I("bridge", "transfer %lld: %s not re-sent: %s", (long long)b->id,
                  b->pending_action, se.msg);
        unsigned waited = 0, limit = g->env->no_wait ? 0 : 60000;
        while (rc == 0 && !*found && waited < limit) {
            bridge_sleep_ms(500);
            waited += 500;
            rc = rpc_eth_get_transaction_receipt(rpc, b->pending_hash, r, found, e);
        }
    }
    rpc_client_free(&rpc);
    return rc;
}

/* The MessageSent message of the burn (the transmitter's log in the burn's block). */
static int read_message(eng *g, store_bridge *b, uint64_t block, err *e)
{
    store_bridge_cctp rs;
    if (route_of(g->db, b->src_chain, "source", &rs, e) < 0)
        return -1;
    uint8_t topic[1][32];
    if (abi_event_topic(topic[0], "MessageSent(bytes)", e) < 0)
        return -1;
    rpc_client *rpc = NULL;
    if (desk_chain_rpc(g->db, b->src_chain, NULL, &rpc, e) < 0)
        return -1;
    rpc_log_filter f = {block, block, &rs.message_transmitter, 1, (const uint8_t(*)[32])topic, 1};
    rpc_log_list l;
    memset(&l, 0, sizeof l);
    int rc = rpc_eth_get_logs(rpc, &f, &l, e);
    rpc_client_free(&rpc);
    if (rc < 0)
        return -1;
    rc = err_set(e, ERR_STATE, "the burn of transfer %lld emitted no MessageSent",
                 (long long)b->id);
    for (size_t i = 0; i < l.n; i++) {
        const rpc_log *lg = &l.items[i];
        if (memcmp(lg->tx_hash, b->burn_tx, 32) != 0 || lg->data_len < 64)
            continue;
        u256 off, n;
        u256_from_be(&off, lg->data);
        uint64_t o, len;
        if (!u256_to_u64(&off, &o) || o != 32)
            continue;
        u256_from_be(&n, lg->data + 32);
        if (!u256_to_u64(&n, &len) || len > sizeof b->message || 64 + len > lg->data_len)
            continue;
        bridge_cctp_msg m;
        if (bridge_cctp_msg_parse(&m, lg->data + 64, (size_t)len, e) < 0) {
            rc = -1;
            break;
        }
        /* the message must say what the desk asked for */
        if (m.src_domain != b->src_domain || m.dst_domain != b->dst_domain ||
            !addr_equal(&m.mint_recipient, &b->recipient) || u256_cmp(&m.amount, &b->amount) != 0 ||
            !addr_equal(&m.burn_token, &b->token_src)) {
            rc = err_set(e, ERR_STATE, "the burn message of transfer %lld does not match it",
                         (long long)b->id);
            break;
        }
        memcpy(b->message, lg->data + 64, (size_t)len);
        b->message_len = (size_t)len;
        keccak256(b->message_hash, b->message, b->message_len);
        b->has_message = true;
        rc = 0;
        break;
    }
    rpc_log_list_free(&l);
    return rc;
}

typedef struct membuf {
    char *p;
    size_t n;
} membuf;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    membuf *m = ctx;
    size_t k = size * nmemb;
    if (m->n + k > 65536)
        return 0;
    char *p = realloc(m->p, m->n + k + 1);
    if (!p)
        return 0;
    memcpy(p + m->n, data, k);
    m->p = p;
    m->n += k;
    m->p[m->n] = '\0';
    return k;
}

/* One GET {url}/attestations/0x{hash}: 1 complete (att filled), 0 not yet (pending, not
 * found, or the service is down: *why says which), -1 a malformed answer. */
static int fetch_attestation(const char *url, const uint8_t hash[32], uint8_t *att, size_t cap,
                             size_t *att_len, char *why, size_t why_cap, err *e)
{
    char h[67], full[400];
    hex_encode(h, sizeof h, hash, 32, true);
    snprintf(full, sizeof full, "%s/attestations/%s", url, h);
    CURL *c = curl_easy_init();
    if (!c)
        return err_set(e, ERR_NOMEM, "libcurl could not start");
    membuf m = {NULL, 0};
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    int rc = 0;
    if (cc != CURLE_OK) {
        snprintf(why, why_cap, "attestation service unreachable (%s)", curl_easy_strerror(cc));
    } else if (status == 404) {
        snprintf(why, why_cap, "the attestation service does not know the message yet");
    } else if (status != 200) {
        snprintf(why, why_cap, "the attestation service answered HTTP %ld", status);
    } else {
        bridge_att_status st;
        if (bridge_attestation_parse(m.p ? m.p : "", m.n, &st, att, cap, att_len, e) < 0)
            rc = -1;
        else if (st == BRIDGE_ATT_COMPLETE)
            rc = 1;
        else
            snprintf(why, why_cap, "pending confirmations");
    }
    free(m.p);
    return rc;
}

/* Whether the destination's transmitter holds the message's nonce as used (minted). */
static int nonce_used(eng *g, const store_bridge *b, bool *used, err *e)
{
    store_bridge_cctp rd;
    if (route_of(g->db, b->dst_chain, "destination", &rd, e) < 0)
        return -1;
    bridge_cctp_msg m;
    if (bridge_cctp_msg_parse(&m, b->message, b->message_len, e) < 0)
        return -1;
    uint8_t pre[12], key[32], w[32];
    for (int i = 0; i < 4; i++)
        pre[i] = (uint8_t)(m.src_domain >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        pre[4 + i] = (uint8_t)(m.nonce >> (56 - 8 * i));
    keccak256(key, pre, sizeof pre);
    char args[80], k[67];
    hex_encode(k, sizeof k, key, 32, true);
    snprintf(args, sizeof args, "(%s)", k);
    if (view_word(g->db, b->dst_chain, &rd.message_transmitter, g->mt, "usedNonces", args, w, e) < 0)
        return -1;
    *used = false;
    for (int i = 0; i < 32; i++)
        *used = *used || w[i];
    return 0;
}

static int step(eng *g, store_bridge *b, bool *moved, err *e)
{
    *moved = false;
    if (strcmp(b->state, "sent") == 0 && b->pending_action[0]) {
        rpc_receipt r;
        bool found;
        if (pending_receipt(g, b, &r, &found, e) < 0)
            return -1;
        if (!found)
            return 0;
        bridge_mark_outbound(g->db, g->d, b, &r);
        b->pending_action[0] = '\0';
        /* the signed burn stays: a reorg that takes its block away re-sends it */
        if (!r.success) {
            set_state(b, "failed");
            snprintf(b->note, sizeof b->note, "the burn reverted in block %llu: nothing moved",
                     (unsigned long long)r.block_number);
            *moved = true;
            return save(g, b, e);
        }
        b->burn_block = r.block_number;
        if (read_message(g, b, r.block_number, e) < 0)
            return -1;
        *moved = true;
        bridge_say(g->env, "bridge %lld: burned in block %llu, message 0x%02x%02x%02x%02x..",
                   (long long)b->id, (unsigned long long)r.block_number, b->message_hash[0],
                   b->message_hash[1], b->message_hash[2], b->message_hash[3]);
        if (save(g, b, e) < 0)
            return -1;
        kill_point("burn_mined");
        return 0;
    }
    if (strcmp(b->state, "sent") == 0 && b->has_message) {
        store_bridge_cctp rs;
        if (route_of(g->db, b->src_chain, "source", &rs, e) < 0)
            return -1;
        if (!rs.attestation_url[0])
            return err_set(e, ERR_STATE,
                           "no attestation service configured: fusion bridge config "
                           "--attestation-url URL");
        unsigned waited = 0, limit = g->env->no_wait ? 0 : 1000 * g->env->attest_wait_s;
        unsigned pause = 500;
        char why[200] = "";
        for (;;) {
            int k = fetch_attestation(rs.attestation_url, b->message_hash, b->attestation,
                                      sizeof b->attestation, &b->attestation_len, why, sizeof why, e);
            if (k < 0)
                return -1;
            if (k == 1)
                break;
            if (waited >= limit) {
                snprintf(b->note, sizeof b->note, "waiting for the attestation: %.160s", why);
                (void)save(g, b, e);
                return 0;
            }
            bridge_sleep_ms(pause);
            waited += pause;
            pause = pause < 4000 ? pause * 2 : pause;
        }
        set_state(b, "attested");
        snprintf(b->note, sizeof b->note, "attested (%zu signature%s)", b->attestation_len / 65,
                 b->attestation_len == 65 ? "" : "s");
        *moved = true;
        bridge_say(g->env, "bridge %lld: attested", (long long)b->id);
        if (save(g, b, e) < 0)
            return -1;
        kill_point("attested");
        return 0;
    }
    if (strcmp(b->state, "attested") == 0 && b->pending_action[0]) {
        rpc_receipt r;
        bool found;
        if (pending_receipt(g, b, &r, &found, e) < 0)
            return -1;
        if (!found)
            return 0;
        bridge_mark_outbound(g->db, g->d, b, &r);
        b->pending_action[0] = '\0';
        b->pending_raw_len = 0;
        bool used = false;
        if (!r.success && nonce_used(g, b, &used, e) < 0)
            return -1;
        if (r.success || used) {
            set_state(b, "delivered");
            b->has_mint_tx = r.success;
            memcpy(b->mint_tx, b->pending_hash, 32);
            b->mint_block = r.block_number;
            snprintf(b->note, sizeof b->note, "%s",
                     r.success ? "minted" : "minted by another caller (our mint reverted)");
        } else {
            set_state(b, "failed");
            snprintf(b->note, sizeof b->note, "the mint reverted in block %llu and the message is "
                     "not received: resume retries it", (unsigned long long)r.block_number);
        }
        *moved = true;
        bridge_say(g->env, "bridge %lld: %s", (long long)b->id, b->state);
        return save(g, b, e);
    }
    if (strcmp(b->state, "attested") == 0 ||
        (strcmp(b->state, "failed") == 0 && b->attestation_len)) {
        bool used = false;
        if (nonce_used(g, b, &used, e) < 0)
            return -1;
        if (used) {
            /* received already (by an earlier mint or another relayer): never mint twice */
            set_state(b, "delivered");
            snprintf(b->note, sizeof b->note, "the destination had already received the message");
            *moved = true;
            return save(g, b, e);
        }
        store_bridge_cctp rd;
        if (route_of(g->db, b->dst_chain, "destination", &rd, e) < 0)
            return -1;
        set_state(b, "attested");
        char *args = malloc(2 * (b->message_len + b->attestation_len) + 16);
        if (!args)
            return err_set(e, ERR_NOMEM, "out of memory");
        size_t k = 0;
        args[k++] = '(';
        k += hex_encode(args + k, 2 * b->message_len + 3, b->message, b->message_len, true);
        args[k++] = ',';
        args[k++] = ' ';
        k += hex_encode(args + k, 2 * b->attestation_len + 3, b->attestation, b->attestation_len,
                        true);
        args[k++] = ')';
        args[k] = '\0';
        buf data;
        buf_init(&data);
        char note[300], r[ADDR_STR_MAX];
        addr_to_checksum(r, &b->recipient);
        snprintf(note, sizeof note, "bridge %lld (cctp, mint): receiveMessage on chain %llu for %s",
                 (long long)b->id, (unsigned long long)b->dst_chain, r);
        bridge_hold_ctx h = {b, "bridge_mint", b->dst_chain, false, NULL};
        int rc = abi_json_calldata(&data, g->mt, "receiveMessage", args, e);
        free(args);
        if (rc == 0)
            rc = step_send(g, "bridge_mint", b->dst_chain, b->dst_chain, &rd.message_transmitter, &data,
                           &b->token_dst, &b->amount, &b->recipient, note, &h, e);
        buf_free(&data);
        if (rc == 0) {
            *moved = true;
            kill_point("mint_sent");
        }
        return rc;
    }
    return 0;
}

int bridge_advance(const bridge_env *env, int64_t id, char state[16], err *e)
{
    eng g;
    if (eng_open(&g, env, e) < 0)
        return -1;
    store_bridge b;
    bool found = false;
    int rc = store_bridge_get(g.db, id, &b, &found, e);
    if (rc == 0 && !found)
        rc = err_set(e, ERR_NOT_FOUND, "no bridge transfer %lld", (long long)id);
    if (rc == 0 && strcmp(b.protocol, "ccip") == 0) {
        rc = bridge_ccip_advance(env, g.d, &b, e);
        if (state)
            snprintf(state, 16, "%s", b.state);
        eng_close(&g);
        return rc;
    }
    for (int i = 0; rc == 0 && i < 8; i++) {
        bool moved = false;
        rc = step(&g, &b, &moved, e);
        if (!moved)
            break;
    }
    if (state)
        snprintf(state, 16, "%s", found ? b.state : "");
    eng_close(&g);
    return rc;
}

bool bridge_finished(const store_bridge *b)
{
    return strcmp(b->state, "delivered") == 0 || strcmp(b->state, "expired") == 0 ||
           (strcmp(b->state, "failed") == 0 && !b->attestation_len);
}

int bridge_advance_all(const bridge_env *env,
                       void (*report)(void *ctx, int64_t id, const char *state, const err *se),
                       void *ctx, err *e)
{
    store *db = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", env->home);
    store_bridge *bs = NULL;
    size_t n = 0;
    if (store_open(&db, path, e) < 0)
        return -1;
    int rc = store_bridge_list(db, &bs, &n, e);
    store_close(&db);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (bridge_finished(&bs[i]))
            continue;
        char st[16] = "";
        err se;
        err_clear(&se);
        int r = bridge_advance(env, bs[i].id, st, &se);
        if (report)
            report(ctx, bs[i].id, st[0] ? st : bs[i].state, r < 0 ? &se : NULL);
    }
    free(bs);
    return 0;
}

int bridge_usdc_balance(store *db, uint64_t chain_id, const addr *who, u256 *out, err *e)
{
    store_bridge_cctp r;
    abi_json *tok = NULL;
    if (route_of(db, chain_id, "the chain", &r, e) < 0 || load_abi(&tok, "TestToken.json", e) < 0)
        return -1;
    char args[64], a[ADDR_STR_MAX];
    addr_to_lower(a, who);
    snprintf(args, sizeof args, "(%s)", a);
    uint8_t w[32];
    int rc = view_word(db, chain_id, &r.usdc, tok, "balanceOf", args, w, e);
    abi_json_free(&tok);
    if (rc == 0)
        u256_from_be(out, w);
    return rc;
}

/* ---- JSON ---- */

int bridge_to_json(store *db, const store_bridge *b, json_t **out, err *e)
{
    char s[ADDR_STR_MAX], r[ADDR_STR_MAX], ts[ADDR_STR_MAX], td[ADDR_STR_MAX], amt[U256_DEC_MAX],
        fee[U256_DEC_MAX], burn[67] = "", mint[67] = "", mh[67] = "";
    addr_to_lower(s, &b->sender);
    addr_to_lower(r, &b->recipient);
    addr_to_lower(ts, &b->token_src);
    addr_to_lower(td, &b->token_dst);
    u256_to_dec(amt, &b->amount);
    u256_to_dec(fee, &b->fee);
    if (b->has_burn_tx)
        hex_encode(burn, sizeof burn, b->burn_tx, 32, true);
    if (b->has_mint_tx)
        hex_encode(mint, sizeof mint, b->mint_tx, 32, true);
    if (b->has_message)
        hex_encode(mh, sizeof mh, b->message_hash, 32, true);
    store_chain cs, cd;
    bool fs = false, fd = false;
    if (store_chain_get(db, b->src_chain, &cs, &fs, e) < 0 ||
        store_chain_get(db, b->dst_chain, &cd, &fd, e) < 0)
        return -1;
    *out = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?,"
                     " s:I, s:s?, s:s?, s:I, s:s?, s:s, s:I, s:I}",
                     "id", (json_int_t)b->id, "protocol", b->protocol, "state", b->state,
                     "src_chain", fs ? cs.name : "?", "dst_chain", fd ? cd.name : "?",
                     "src_chain_id", (json_int_t)b->src_chain, "dst_chain_id",
                     (json_int_t)b->dst_chain, "sender", s, "recipient", r, "token_src", ts,
                     "token_dst", td, "amount", amt, "fee", fee, "operator", b->operator_name,
                     "burn_tx", burn[0] ? burn : NULL, "burn_block", (json_int_t)b->burn_block,
                     "message_hash", mh[0] ? mh : NULL, "mint_tx", mint[0] ? mint : NULL,
                     "mint_block", (json_int_t)b->mint_block, "in_flight",
                     b->pending_action[0] ? b->pending_action : NULL, "note", b->note,
                     "created_at", (json_int_t)b->created_at, "updated_at",
                     (json_int_t)b->updated_at);
    if (!*out)
        return err_set(e, ERR_NOMEM, "out of memory");
    return 0;
}
