/* xswap.c: the HTLC swap state machine over two chains (see xswap.h). States:
 *   new -> x_locked -> y_locked -> y_claimed -> done
 *   x_locked --(T1 passed)--> refunded;  y_locked --(T2 passed)--> y_refunded --(T1)--> refunded
 * Every transaction goes through the desk's pipeline (src/desk: policy, compliance gate on
 * both parties, pre-sign summary naming both chains, confirmation, EIP-1559 fees, the
 * outbound table) as the desk operator whose key is the party's; the swap keeps the signed
 * bytes with its own row in the same durable commit, then they are sent. A step that finds
 * a transaction in flight waits for its receipt (or for the receipt of a replacement the
 * desk sent with the same nonce, `fusion tx speedup|cancel`), re-sending the same signed
 * bytes if the node lost them, so a crash at any point never signs a second, different
 * action. The secret is never on disk in clear: it is sealed (XChaCha20-Poly1305) under a
 * key only the initiator's unlocked key can derive (see secret_key), and so is the signed
 * claim on Y, which carries it, while that claim is in flight (the outbound table keeps no
 * bytes of it). */
#include "xswap/xswap.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "compliance/compliance.h"
#include "desk/desk.h"
#include "eth/abi.h"
#include "risk/feeds.h"
#include "rpc/rpc.h"
#include "store/store.h"
#include "store/store_book.h"

#define MAX_PARTIES 2
#define RECEIPT_WAIT_MS 30000

typedef struct chain_conn {
    uint64_t chain_id;
    unsigned confirmations;
    char name[STORE_NAME_MAX];
    rpc_client *rpc;
} chain_conn;

/* The desk of one party: the operator whose key is that address. */
typedef struct party {
    addr who;
    desk *d;
} party;

typedef struct eng {
    const xswap_env *env;
    store *db;
    chain_conn ch[2];
    party parties[MAX_PARTIES];
    size_t n_parties;
    abi_json *htlc, *token;
} eng;

bool xswap_state_terminal(const char *state)
{
    return strcmp(state, "done") == 0 || strcmp(state, "refunded") == 0;
}

static void eng_close(eng *g)
{
    for (size_t i = 0; i < 2; i++)
        rpc_client_free(&g->ch[i].rpc);
    for (size_t i = 0; i < g->n_parties; i++)
        desk_free(&g->parties[i].d);
    abi_json_free(&g->htlc);
    abi_json_free(&g->token);
    store_close(&g->db);
}

static int load_abi(abi_json **out, const char *name, err *e)
{
    char path[4200];
    if (desk_data_path(path, sizeof path, "contracts", name, e) < 0)
        return -1;
    return abi_json_load(out, path, e);
}

static int eng_open(eng *g, const xswap_env *env, err *e)
{
    memset(g, 0, sizeof *g);
    g->env = env;
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium could not be initialised");
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", env->home);
    if (store_open(&g->db, path, e) < 0 || load_abi(&g->htlc, "HashedTimelock.json", e) < 0 ||
        load_abi(&g->token, "TestToken.json", e) < 0) {
        eng_close(g);
        return -1;
    }
    return 0;
}

static int conn(eng *g, uint64_t chain_id, chain_conn **out, err *e)
{
    for (size_t i = 0; i < 2; i++)
        if (g->ch[i].rpc && g->ch[i].chain_id == chain_id) {
            *out = &g->ch[i];
            return 0;
        }
    size_t slot = g->ch[0].rpc ? 1 : 0;
    if (g->ch[slot].rpc)
        return err_set(e, ERR_INTERNAL, "a swap spans two chains");
    store_chain c;
    if (desk_chain_rpc(g->db, chain_id, &c, &g->ch[slot].rpc, e) < 0)
        return -1;
    g->ch[slot].chain_id = chain_id;
    g->ch[slot].confirmations = c.confirmations;
    snprintf(g->ch[slot].name, sizeof g->ch[slot].name, "%s", c.name);
    *out = &g->ch[slot];
    return 0;
}

/* The desk operator whose key is a (*found false when there is none). */
static int operator_of(eng *g, const addr *a, char name[STORE_NAME_MAX], bool *found, err *e)
{
    store_operator *ops = NULL;
    size_t n = 0;
    *found = false;
    if (store_operator_list(g->db, &ops, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n && !*found; i++)
        if (addr_equal(&ops[i].address, a)) {
            snprintf(name, STORE_NAME_MAX, "%s", ops[i].name);
            *found = true;
        }
    free(ops);
    return 0;
}

/* The desk that signs for party a, opened once per engine. */
static int desk_for(eng *g, const addr *a, desk **out, err *e)
{
    for (size_t i = 0; i < g->n_parties; i++)
        if (addr_equal(&g->parties[i].who, a)) {
            *out = g->parties[i].d;
            return 0;
        }
    if (g->n_parties == MAX_PARTIES)
        return err_set(e, ERR_INTERNAL, "a swap has two parties");
    char name[STORE_NAME_MAX], s[ADDR_STR_MAX];
    bool found = false;
    addr_to_checksum(s, a);
    if (operator_of(g, a, name, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND,
                       "no desk operator holds key %s: add one with `fusion operator add NAME "
                       "--key %s --role trader`",
                       s, s);
    desk *d = NULL;
    if (desk_open(&d, g->env->home, name, e) < 0)
        return -1;
    if (g->env->wire)
        g->env->wire(g->env->wire_ctx, d);
    desk_set_wait(d, 0); /* the swap follows its own transactions */
    g->parties[g->n_parties].who = *a;
    g->parties[g->n_parties++].d = d;
    *out = d;
    return 0;
}

static bool have_key(eng *g, const addr *a)
{
    char name[STORE_NAME_MAX];
    bool found = false;
    err ignored;
    return operator_of(g, a, name, &found, &ignored) == 0 && found;
}

static int chain_now(chain_conn *c, uint64_t *now, uint64_t *head, err *e)
{
    rpc_block b;
    bool found = false;
    if (rpc_eth_get_block(c->rpc, 0, "latest", &b, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_RPC, "chain %llu has no latest block",
                       (unsigned long long)c->chain_id);
    *now = b.timestamp;
    if (head)
        *head = b.number;
    return 0;
}

static int save(eng *g, store_xswap *x, bool durable, err *e)
{
    if ((durable ? store_begin_durable(g->db, e) : store_begin(g->db, e)) < 0)
        return -1;
    if (store_xswap_put(g->db, x, e) < 0 || store_commit(g->db, e) < 0) {
        store_rollback(g->db);
        return -1;
    }
    return 0;
}

static void fmt_addr(char out[ADDR_STR_MAX], const addr *a)
{
    addr_to_checksum(out, a);
}

static void fmt_word(char out[67], const uint8_t w[32])
{
    hex_encode(out, 67, w, 32, true);
}

/* ---- the secret at rest -----------------------------------------------------------
 * key = BLAKE2b-256 keyed "fusion-xswap-v1" of r || s of the initiator's EIP-191 signature
 * of a fixed message naming the hashlock. Signatures are RFC 6979 (src/crypto/secp.c), so
 * the same key and hashlock always give the same key; only whoever can unlock the
 * initiator's key (its passphrase) can derive it, and the signature itself is never kept
 * or sent. Each derivation is a signature, so it has its audit row. */

#define SEAL_VERSION 1
#define SEAL_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_OVERHEAD (1 + SEAL_NONCE + SEAL_TAG)
#define SEAL_KEY crypto_aead_xchacha20poly1305_ietf_KEYBYTES

/* *key: SEAL_KEY bytes of sodium_malloc'ed memory (sodium_free it). */
static int secret_key(eng *g, const store_xswap *x, uint8_t **key, err *e)
{
    *key = NULL;
    desk *d;
    if (desk_for(g, &x->initiator, &d, e) < 0)
        return -1;
    char h[67], msg[200];
    fmt_word(h, x->hashlock);
    snprintf(msg, sizeof msg,
             "fusion xswap: derive the key that seals this swap's secret at rest.\n"
             "hashlock: %s\n",
             h);
    uint8_t sig[65];
    if (desk_sign_message(d, sig, msg, strlen(msg), e) < 0)
        return err_prefix(e, "deriving the key of the swap secret");
    uint8_t *kk = sodium_malloc(SEAL_KEY);
    if (!kk) {
        sodium_memzero(sig, sizeof sig);
        return err_set(e, ERR_NOMEM, "out of guarded memory for the swap secret's key");
    }
    static const uint8_t ctx[] = "fusion-xswap-v1";
    crypto_generichash(kk, SEAL_KEY, sig, 64, ctx, sizeof ctx - 1);
    sodium_memzero(sig, sizeof sig);
    *key = kk;
    return 0;
}

/* What the ciphertext is bound to: its use, the hashlock, the initiator and chain X. */
static size_t seal_ad(uint8_t ad[96], const store_xswap *x, const char *what)
{
    size_t n = (size_t)snprintf((char *)ad, 24, "fusion-xswap-v1:%s", what);
    if (n > 23)
        n = 23;
    memcpy(ad + n, x->hashlock, 32);
    memcpy(ad + n + 32, x->initiator.b, 20);
    for (int i = 0; i < 8; i++)
        ad[n + 52 + i] = (uint8_t)(x->chain_x >> (56 - 8 * i));
    return n + 60;
}

/* out = version || nonce || ciphertext of pt; cap must hold len + SEAL_OVERHEAD. */
static int seal(uint8_t *out, size_t *out_len, size_t cap, const uint8_t *key, const store_xswap *x,
                const char *what, const uint8_t *pt, size_t len, err *e)
{
    if (len + SEAL_OVERHEAD > cap)
        return err_set(e, ERR_INTERNAL, "sealed %s would not fit its column", what);
    uint8_t ad[96];
    size_t n_ad = seal_ad(ad, x, what);
    out[0] = SEAL_VERSION;
    randombytes_buf(out + 1, SEAL_NONCE);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + SEAL_NONCE, &clen, pt, len, ad, n_ad,
                                               NULL, out + 1, key);
    *out_len = 1 + SEAL_NONCE + (size_t)clen;
    return 0;
}

/* pt (cap bytes, the caller's guarded memory) = the opened sealed blob. */
static int unseal(uint8_t *pt, size_t *len, size_t cap, const uint8_t *key, const store_xswap *x,
                  const char *what, const uint8_t *in, size_t in_len, err *e)
{
    if (in_len < SEAL_OVERHEAD || in[0] != SEAL_VERSION || in_len - SEAL_OVERHEAD > cap)
        return err_set(e, ERR_INVALID, "swap %lld: the sealed %s is malformed", (long long)x->id,
                       what);
    uint8_t ad[96];
    size_t n_ad = seal_ad(ad, x, what);
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL, in + 1 + SEAL_NONCE,
                                                   in_len - 1 - SEAL_NONCE, ad, n_ad, in + 1,
                                                   key) != 0)
        return err_set(e, ERR_AUTH,
                       "swap %lld: the sealed %s does not open with the initiator's key "
                       "(another key, or the row was changed)",
                       (long long)x->id, what);
    *len = (size_t)plen;
    return 0;
}

/* The secret, opened into pre (32 bytes of the caller's guarded memory) and checked
 * against the hashlock. */
static int secret_open(eng *g, const store_xswap *x, uint8_t *pre, err *e)
{
    if (x->sealed_secret_len == 0)
        return err_set(e, ERR_STATE,
                       "swap %lld keeps no sealed secret (recorded by an older build?): it "
                       "can only be refunded after its timelocks",
                       (long long)x->id);
    uint8_t *key;
    if (secret_key(g, x, &key, e) < 0)
        return -1;
    size_t len = 0;
    int rc = unseal(pre, &len, 32, key, x, "secret", x->sealed_secret, x->sealed_secret_len, e);
    sodium_free(key);
    uint8_t h[32];
    if (rc == 0)
        crypto_hash_sha256(h, pre, 32);
    if (rc == 0 && (len != 32 || memcmp(h, x->hashlock, 32) != 0))
        rc = err_set(e, ERR_INVALID, "swap %lld: the sealed secret does not hash to the lock",
                     (long long)x->id);
    if (rc < 0)
        sodium_memzero(pre, 32);
    return rc;
}

/* The summary's note: which swap, which step, both chains. */
static void step_note(eng *g, char *out, size_t cap, const store_xswap *x, const char *action)
{
    char nx[STORE_NAME_MAX] = "?", ny[STORE_NAME_MAX] = "?";
    for (size_t i = 0; i < 2; i++) {
        if (g->ch[i].rpc && g->ch[i].chain_id == x->chain_x)
            snprintf(nx, sizeof nx, "%s", g->ch[i].name);
        if (g->ch[i].rpc && g->ch[i].chain_id == x->chain_y)
            snprintf(ny, sizeof ny, "%s", g->ch[i].name);
    }
    snprintf(out, cap, "swap %lld, step %s: chain X %s (id %llu) <-> chain Y %s (id %llu)",
             (long long)x->id, action, nx, (unsigned long long)x->chain_x, ny,
             (unsigned long long)x->chain_y);
}

/* Sends `approve(spender, amount)` on a token through the desk and waits for it to be
 * mined (idempotent: it sets the allowance, so doing it again after a crash is harmless). */
static int approve_token(eng *g, chain_conn *c, const store_xswap *x, const addr *owner,
                         const addr *token, const addr *spender, const u256 *amount, err *e)
{
    char sp[ADDR_STR_MAX], amt[U256_DEC_MAX], args[200], note[300];
    fmt_addr(sp, spender);
    u256_to_dec(amt, amount);
    snprintf(args, sizeof args, "(%s, %s)", sp, amt);
    step_note(g, note, sizeof note, x, "allowance");
    buf data;
    buf_init(&data);
    desk *d;
    desk_result res;
    int rc = desk_for(g, owner, &d, e);
    if (rc == 0)
        rc = abi_json_calldata(&data, g->token, "approve", args, e);
    if (rc == 0) {
        desk_step st = {.action = "swap_allowance", .chain_id = c->chain_id, .to = *token,
                        .data = data.data, .len = data.len, .token = *token, .amount = *amount,
                        .payee = spender, .note = note};
        desk_set_wait(d, RECEIPT_WAIT_MS / 1000);
        rc = desk_step_send(d, &st, &res, e);
        desk_set_wait(d, 0);
    }
    if (rc == 0 && res.state != OUTBOUND_MINED && res.state != OUTBOUND_CONFIRMED)
        rc = err_set(e, ERR_STATE, "the allowance is not mined yet (`fusion tx check`)");
    buf_free(&data);
    return rc < 0 ? err_prefix(e, "approving the HTLC to take the token") : 0;
}

/* The payer must hold the amount (a clear refusal instead of a reverted lock). */
static int check_funds(eng *g, chain_conn *c, const addr *who, const addr *token,
                       const u256 *amount, err *e)
{
    u256 have;
    if (addr_is_zero(token)) {
        if (rpc_eth_get_balance(c->rpc, who, NULL, &have, e) < 0)
            return -1;
    } else {
        char w[ADDR_STR_MAX], args[80];
        fmt_addr(w, who);
        snprintf(args, sizeof args, "(%s)", w);
        buf data;
        buf_init(&data);
        uint8_t word[32];
        buf out;
        buf_init(&out);
        int rc = abi_json_calldata(&data, g->token, "balanceOf", args, e);
        if (rc == 0)
            rc = rpc_eth_call(c->rpc, token, data.data, data.len, NULL, &out, e);
        if (rc == 0 && out.len < 32)
            rc = err_set(e, ERR_RPC, "balanceOf answered %zu bytes", out.len);
        if (rc == 0)
            memcpy(word, out.data, 32);
        buf_free(&out);
        buf_free(&data);
        if (rc < 0)
            return -1;
        u256_from_be(&have, word);
    }
    if (u256_cmp(&have, amount) < 0) {
        char h[U256_DEC_MAX], n[U256_DEC_MAX], s[ADDR_STR_MAX];
        u256_to_dec(h, &have);
        u256_to_dec(n, amount);
        fmt_addr(s, who);
        return err_set(e, ERR_STATE, "%s holds %s base units on chain %llu, the lock needs %s", s,
                       h, (unsigned long long)c->chain_id, n);
    }
    return 0;
}

/* The compliance floor of a swap step that moves money toward the other party (a lock, a
 * claim), at the moment it is signed and whenever it is sent again: both parties through
 * the sanctions lists (the shipped ones and the desk's own) and the desk's blocked
 * entities (compliance_screen_action; a sanctions hit is recorded and opens a case). A
 * refund returns money to whoever locked it and is not screened. Fails closed. */
static int swap_gate(eng *g, const store_xswap *x, const char *action, err *e)
{
    if (strncmp(action, "refund", 6) == 0)
        return 0;
    bool on_x = strcmp(action, "lock_x") == 0 || strcmp(action, "claim_x") == 0;
    if (!on_x && strcmp(action, "lock_y") != 0 && strcmp(action, "claim_y") != 0)
        return err_set(e, ERR_INTERNAL, "swap %lld: unknown step %.15s", (long long)x->id,
                       action);
    /* X: the initiator's money goes to the counterparty; Y: the other way round */
    compliance_actor a = {.home = g->env->home,
                          .operator_name = g->env->operator_name ? g->env->operator_name : "xswap",
                          .now = (int64_t)time(NULL)};
    compliance_action act = {.action = action,
                             .chain_id = on_x ? x->chain_x : x->chain_y,
                             .payer = on_x ? &x->initiator : &x->counterparty,
                             .payee = on_x ? &x->counterparty : &x->initiator,
                             .token = on_x ? &x->token_x : &x->token_y,
                             .amount = on_x ? &x->amount_x : &x->amount_y};
    if (compliance_screen_action(g->db, &a, &act, e) == 0)
        return 0;
    char why[ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", e->msg);
    return err_set(e, ERR_DENIED, "swap %lld: %s not signed or sent: %.400s", (long long)x->id,
                   action, why);
}

/* What act() hands to the desk's hold: the swap row is written with the signed bytes
 * (the claim on Y sealed) in the desk's own commit, before anything is sent. */
typedef struct hold_ctx {
    store_xswap *x;
    const char *action;
    uint64_t chain_id;
    const uint8_t *seal_key; /* claim_y only */
} hold_ctx;

static int hold_step(void *vctx, store *db, int64_t outbound_id, const uint8_t *raw, size_t len,
                     const uint8_t hash[32], err *e)
{
    (void)outbound_id;
    hold_ctx *h = vctx;
    store_xswap *x = h->x;
    if (len > STORE_XSWAP_RAW_MAX)
        return err_set(e, ERR_INTERNAL, "signed transaction too large to keep");
    snprintf(x->pending_action, sizeof x->pending_action, "%s", h->action);
    x->pending_chain = h->chain_id;
    memcpy(x->pending_hash, hash, 32);
    if (h->seal_key) {
        /* the claim carries the secret: kept sealed like it until it is mined */
        if (seal(x->pending_raw, &x->pending_raw_len, sizeof x->pending_raw, h->seal_key, x,
                 "claim_y", raw, len, e) < 0)
            return -1;
    } else {
        memcpy(x->pending_raw, raw, len);
        x->pending_raw_len = len;
    }
    return store_xswap_put(db, x, e);
}

/* Signs the action through the signer's desk (policy, gate, summary, confirmation), which
 * records it with the swap (durably) and sends it. */
static int act(eng *g, store_xswap *x, const char *action, chain_conn *c, const addr *signer,
               const addr *to, const u256 *value, const char *fn, const char *args, err *e)
{
    bool on_x = c->chain_id == x->chain_x;
    const addr *payer = on_x ? &x->initiator : &x->counterparty;
    const addr *payee = on_x ? &x->counterparty : &x->initiator;
    const char *policy_action = "swap_lock";
    if (strncmp(action, "claim", 5) == 0)
        policy_action = "swap_claim";
    else if (strncmp(action, "refund", 6) == 0)
        policy_action = "swap_refund", payee = payer;
    /* a claim carries the secret: the claim on Y reveals it, the claim on X repeats it */
    bool claim = strncmp(action, "claim", 5) == 0, secret = strcmp(action, "claim_y") == 0;
    desk *d;
    if (desk_for(g, signer, &d, e) < 0)
        return -1;
    uint8_t *key = NULL;
    if (secret && secret_key(g, x, &key, e) < 0)
        return -1;
    char note[300];
    step_note(g, note, sizeof note, x, action);
    buf data;
    buf_init(&data);
    int rc = abi_json_calldata(&data, g->htlc, fn, args, e);
    hold_ctx h = {x, action, c->chain_id, key};
    desk_result res;
    if (rc == 0) {
        desk_step st = {.action = policy_action,
                        .chain_id = c->chain_id,
                        .to = *to,
                        .data = data.data,
                        .len = data.len,
                        .value = value ? *value : u256_from_u64(0),
                        .token = on_x ? x->token_x : x->token_y,
                        .amount = on_x ? x->amount_x : x->amount_y,
                        .payer = payer,
                        .payee = payee,
                        .note = note,
                        .secret_arg = claim ? "preimage" : NULL,
                        .hold = hold_step,
                        .hold_ctx = &h};
        rc = desk_step_send(d, &st, &res, e);
        /* recorded with the swap but not known to be sent: the swap re-sends it */
        store_xswap now;
        bool found = false;
        err ie;
        if (rc < 0 && x->pending_action[0] &&
            store_xswap_get(g->db, x->id, &now, &found, &ie) == 0 && found &&
            strcmp(now.pending_action, action) == 0 &&
            memcmp(now.pending_hash, x->pending_hash, 32) == 0) {
            LOG_W("xswap", "swap %lld: %s: %s (will re-send)", (long long)x->id, action, e->msg);
            rc = 0;
        }
        sodium_memzero(&now, sizeof now);
    }
    if (key)
        sodium_free(key);
    if (data.data)
        sodium_memzero(data.data, data.len);
    buf_free(&data);
    if (rc < 0)
        x->pending_action[0] = '\0';
    else
        LOG_I("xswap", "swap %lld: %s sent on chain %llu", (long long)x->id, action,
              (unsigned long long)c->chain_id);
    return rc;
}

/* Which HashedTimelock the runtime code at htlc is: 1 or 2 (data/contracts/HashedTimelock.json,
 * HashedTimelockV2.json), 0 for anything else (no code, another contract). */
static int htlc_version(chain_conn *c, const addr *htlc, int *version, err *e)
{
    *version = 0;
    buf code;
    buf_init(&code);
    bool v1 = false, v2 = false;
    int rc = rpc_eth_get_code(c->rpc, htlc, NULL, &code, e);
    if (rc == 0)
        rc = risk_code_is_artifact(code.data, code.len, "HashedTimelock.json", &v1, e);
    if (rc == 0 && !v1)
        rc = risk_code_is_artifact(code.data, code.len, "HashedTimelockV2.json", &v2, e);
    buf_free(&code);
    if (rc == 0)
        *version = v1 ? 1 : v2 ? 2 : 0;
    return rc;
}

/* Both HTLCs of a swap must be contracts whose rules the desk knows, or a party can be
 * stranded: its lock claimable only with a preimage the other side cannot produce, or
 * code that reports locks it does not hold. The secret is always 32 bytes and every claim
 * the desk signs is version 1's claim(bytes32,bytes32); version 2 also takes 32-byte
 * preimages but only through claim(bytes32,bytes), which the desk does not call. */
static int check_htlcs(eng *g, const store_xswap *x, const char *refused, err *e)
{
    for (int side = 0; side < 2; side++) {
        chain_conn *c;
        const addr *h = side ? &x->htlc_y : &x->htlc_x;
        int version;
        if (conn(g, side ? x->chain_y : x->chain_x, &c, e) < 0 ||
            htlc_version(c, h, &version, e) < 0)
            return -1;
        char s[ADDR_STR_MAX];
        addr_to_checksum(s, h);
        if (version == 0)
            return err_set(e, ERR_DENIED,
                           "the HTLC %s on %s is not a known HashedTimelock (its code is not "
                           "data/contracts/HashedTimelock.json's): %s; use a HashedTimelock "
                           "deployment",
                           s, c->name, refused);
        if (version == 2)
            return err_set(e, ERR_DENIED,
                           "the HTLC %s on %s is HashedTimelockV2, whose claim(bytes32,bytes) "
                           "the desk's swaps do not call: %s; use a version 1 HashedTimelock",
                           s, c->name, refused);
    }
    return 0;
}

/* One hashlock, one swap: a preimage revealed for one lock opens every lock with its
 * hashlock, so a hashlock the desk has in another swap is never locked against again. */
static int check_hashlock_unique(eng *g, const store_xswap *x, const char *refused, err *e)
{
    int64_t other;
    if (store_xswap_hashlock_other(g->db, x->hashlock, x->id, &other, e) < 0)
        return -1;
    if (other)
        return err_set(e, ERR_DENIED,
                       "the hashlock is already swap %lld's (one revealed preimage would open "
                       "both locks): %s; agree a new swap with `fusion xswap new`",
                       (long long)other, refused);
    return 0;
}

/* The HTLC's lock id from the receipt's Locked event. */
static int lock_id_of(chain_conn *c, const addr *htlc, const uint8_t tx[32], uint64_t block,
                      uint8_t id[32], err *e)
{
    uint8_t topic[32];
    if (abi_event_topic(topic, "Locked(bytes32,address,address,address,uint256,bytes32,uint64)",
                        e) < 0)
        return -1;
    const uint8_t(*t0)[32] = (const uint8_t(*)[32])topic;
    rpc_log_filter f = {block, block, htlc, 1, t0, 1};
    rpc_log_list l;
    memset(&l, 0, sizeof l);
    if (rpc_eth_get_logs(c->rpc, &f, &l, e) < 0)
        return -1;
    int rc = err_set(e, ERR_RPC, "no Locked event for the lock transaction");
    for (size_t i = 0; i < l.n; i++)
        if (memcmp(l.items[i].tx_hash, tx, 32) == 0 && l.items[i].n_topics >= 2) {
            memcpy(id, l.items[i].topics[1], 32);
            rc = 0;
            break;
        }
    rpc_log_list_free(&l);
    return rc;
}

typedef struct lock_view {
    addr sender, receiver, token;
    uint64_t timelock;
    unsigned status; /* 0 none, 1 locked, 2 claimed, 3 refunded */
    u256 amount;
    uint8_t hashlock[32];
} lock_view;

static int get_lock(eng *g, chain_conn *c, const addr *htlc, const uint8_t id[32], lock_view *v,
                    err *e)
{
    char w[67], args[80];
    fmt_word(w, id);
    snprintf(args, sizeof args, "(%s)", w);
    buf data, out;
    buf_init(&data);
    buf_init(&out);
    int rc = abi_json_calldata(&data, g->htlc, "getLock", args, e);
    if (rc == 0)
        rc = rpc_eth_call(c->rpc, htlc, data.data, data.len, NULL, &out, e);
    if (rc == 0 && out.len < 7 * 32)
        rc = err_set(e, ERR_RPC, "getLock returned %zu bytes", out.len);
    if (rc == 0) {
        const uint8_t *p = out.data;
        memcpy(v->sender.b, p + 12, 20);
        memcpy(v->receiver.b, p + 32 + 12, 20);
        memcpy(v->token.b, p + 64 + 12, 20);
        u256 t;
        u256_from_be(&t, p + 96);
        if (!u256_to_u64(&t, &v->timelock))
            rc = err_set(e, ERR_RPC, "getLock: timelock out of range");
        v->status = p[128 + 31];
        u256_from_be(&v->amount, p + 160);
        memcpy(v->hashlock, p + 192, 32);
    }
    buf_free(&data);
    buf_free(&out);
    return rc;
}

/* The lock's terms must be exactly what the swap says; returns a reason or NULL. */
static const char *lock_mismatch(const lock_view *v, const addr *sender, const addr *receiver,
                                 const addr *token, const u256 *amount, const uint8_t h[32],
                                 uint64_t timelock)
{
    if (v->status != 1)
        return "is not open";
    if (!addr_equal(&v->sender, sender))
        return "has another sender";
    if (!addr_equal(&v->receiver, receiver))
        return "pays another receiver";
    if (!addr_equal(&v->token, token))
        return "holds another token";
    if (u256_cmp(&v->amount, amount) != 0)
        return "holds another amount";
    if (memcmp(v->hashlock, h, 32) != 0)
        return "has another hashlock";
    if (timelock && v->timelock != timelock)
        return "has another timelock";
    return NULL;
}

static int lock_args(char *out, size_t cap, const addr *receiver, const addr *token,
                     const u256 *amount, const uint8_t h[32], uint64_t timelock)
{
    char r[ADDR_STR_MAX], t[ADDR_STR_MAX], a[U256_DEC_MAX], hs[67];
    fmt_addr(r, receiver);
    fmt_addr(t, token);
    u256_to_dec(a, amount);
    fmt_word(hs, h);
    int k = snprintf(out, cap, "(%s, %s, %s, %s, %llu)", r, t, a, hs, (unsigned long long)timelock);
    return k > 0 && (size_t)k < cap ? 0 : -1;
}

/* Blocks per eth_getLogs of a swap's look at chain Y since its own block: the answer held
 * at once stays small; a provider's lower cap is learnt by the client
 * (rpc_eth_get_logs_ranges). */
#define XSWAP_RANGE_BLOCKS 2000

typedef struct claimed_find {
    const store_xswap *x;
    uint8_t *pre;
    bool found;
} claimed_find;

static int claimed_match(void *ud, const rpc_log_list *l, err *e)
{
    claimed_find *c = ud;
    for (size_t i = 0; i < l->n; i++) {
        const rpc_log *lg = &l->items[i];
        if (lg->n_topics >= 2 && memcmp(lg->topics[1], c->x->lock_y, 32) == 0 &&
            lg->data_len == 32) {
            uint8_t h[32];
            crypto_hash_sha256(h, lg->data, 32);
            if (memcmp(h, c->x->hashlock, 32) != 0)
                return err_set(e, ERR_INVALID, "the revealed preimage does not hash to the lock");
            memcpy(c->pre, lg->data, 32);
            c->found = true;
            return 1;
        }
    }
    return 0;
}

/* The secret, as the chain revealed it: the Claimed event of lock_y on Y, read range by
 * range from the lock's block. */
static int revealed_preimage(chain_conn *c, const store_xswap *x, uint8_t pre[32], err *e)
{
    uint8_t topic[32];
    if (abi_event_topic(topic, "Claimed(bytes32,bytes32)", e) < 0)
        return -1;
    uint64_t head;
    if (rpc_eth_block_number(c->rpc, &head, e) < 0)
        return -1;
    const uint8_t(*t0)[32] = (const uint8_t(*)[32])topic;
    rpc_log_filter f = {x->lock_y_block, head, &x->htlc_y, 1, t0, 1};
    claimed_find cf = {x, pre, false};
    if (f.from <= f.to &&
        rpc_eth_get_logs_ranges(c->rpc, &f, XSWAP_RANGE_BLOCKS, claimed_match, &cf, e) < 0)
        return -1;
    if (!cf.found)
        return err_set(e, ERR_NOT_FOUND, "no Claimed event for the lock on chain Y yet");
    return 0;
}

typedef struct lock_find {
    eng *g;
    store_xswap *x;
    chain_conn *cy;
    uint64_t now_y;
    const char *refusal; /* the last lock refused, NULL once one is adopted */
} lock_find;

static int lock_match(void *ud, const rpc_log_list *l, err *e)
{
    lock_find *k = ud;
    store_xswap *x = k->x;
    for (size_t i = 0; i < l->n; i++) {
        const rpc_log *lg = &l->items[i];
        if (lg->n_topics < 4 || lg->data_len != 128 || memcmp(lg->data + 64, x->hashlock, 32))
            continue;
        lock_view v;
        if (get_lock(k->g, k->cy, &x->htlc_y, lg->topics[1], &v, e) < 0)
            return -1;
        const char *bad = lock_mismatch(&v, &x->counterparty, &x->initiator, &x->token_y,
                                        &x->amount_y, x->hashlock, 0);
        if (!bad && v.timelock + x->margin > x->t1)
            bad = "expires too close to T1 (T2 + margin > T1)";
        if (!bad && k->now_y + 60 > v.timelock)
            bad = "expires too soon to claim safely";
        if (bad) {
            k->refusal = bad;
            continue;
        }
        memcpy(x->lock_y, lg->topics[1], 32);
        x->has_lock_y = true;
        x->lock_y_block = lg->block_number;
        x->t2 = v.timelock;
        snprintf(x->state, sizeof x->state, "y_locked");
        x->note[0] = '\0';
        k->refusal = NULL;
        return save(k->g, x, false, e) < 0 ? -1 : 1;
    }
    return 0;
}

/* A lock the counterparty made on Y by any means (not only `xswap respond`): a Locked
 * event of Y's HTLC since the swap began with our hashlock (read range by range from
 * there). It is adopted only when its terms are right and T2 + margin <= T1; otherwise
 * the swap notes the refusal and never reveals the secret against it. */
static int discover_lock_y(eng *g, store_xswap *x, chain_conn *cy, uint64_t now_y, err *e)
{
    uint8_t topic[32];
    if (abi_event_topic(topic, "Locked(bytes32,address,address,address,uint256,bytes32,uint64)",
                        e) < 0)
        return -1;
    uint64_t head;
    if (rpc_eth_block_number(cy->rpc, &head, e) < 0)
        return -1;
    const uint8_t(*t0)[32] = (const uint8_t(*)[32])topic;
    rpc_log_filter f = {x->y_from_block, head, &x->htlc_y, 1, t0, 1};
    lock_find k = {g, x, cy, now_y, NULL};
    int rc = 0;
    if (f.from <= f.to)
        rc = rpc_eth_get_logs_ranges(cy->rpc, &f, XSWAP_RANGE_BLOCKS, lock_match, &k, e);
    const char *refusal = k.refusal;
    if (rc == 0 && refusal && strcmp(x->state, "x_locked") == 0) {
        char note[sizeof x->note];
        snprintf(note, sizeof note, "counterparty lock on Y refused: it %s", refusal);
        if (strcmp(note, x->note) != 0) {
            snprintf(x->note, sizeof x->note, "%s", note);
            rc = save(g, x, false, e);
        }
    }
    return rc;
}

/* The receipt of the swap's transaction in flight, or of a replacement the desk sent for
 * it with the same sender and nonce (`fusion tx speedup`, whose hash the swap then takes;
 * `fusion tx cancel`: *cancelled). *out_id: the outbound row of the one mined (0: none). */
static int receipt_of_step(eng *g, chain_conn *c, store_xswap *x, rpc_receipt *r, bool *found,
                           bool *cancelled, int64_t *out_id, err *e)
{
    *found = *cancelled = false;
    *out_id = 0;
    store_outbound o;
    bool recorded = false;
    if (rpc_eth_get_transaction_receipt(c->rpc, x->pending_hash, r, found, e) < 0 ||
        store_outbound_find_hash(g->db, c->chain_id, x->pending_hash, &o, &recorded, e) < 0)
        return -1;
    if (*found || !recorded) {
        *out_id = recorded ? o.id : 0;
        return 0;
    }
    store_outbound *os = NULL;
    size_t n = 0;
    if (store_outbound_list(g->db, c->chain_id, &os, &n, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && !*found && rc == 0; i++) {
        if (os[i].id == o.id || os[i].nonce != o.nonce || !addr_equal(&os[i].from, &o.from))
            continue;
        rc = rpc_eth_get_transaction_receipt(c->rpc, os[i].hash, r, found, e);
        if (rc == 0 && *found) {
            *out_id = os[i].id;
            *cancelled = strcmp(os[i].action, "cancel") == 0;
            if (!*cancelled)
                memcpy(x->pending_hash, os[i].hash, 32);
            LOG_I("xswap", "swap %lld: %s was replaced by tx %lld (%s)", (long long)x->id,
                  x->pending_action, (long long)os[i].id, os[i].action);
        }
    }
    free(os);
    return rc;
}

/* The outbound row follows what the swap saw mined (`fusion tx list`). On a desk whose book
 * is on a server it is written through the store of the desk that signed it, which records
 * the state there too (desk.db first, then the server, waiting for a lost one as an escrow
 * action does); the engine's own store is desk.db's alone. */
static void mark_outbound(eng *g, int64_t id, const rpc_receipt *r)
{
    err e;
    store *db = g->db;
    store_outbound o;
    uint8_t *raw = NULL;
    bool found = false;
    desk *d = NULL;
    if (store_outbound_get(g->db, id, &o, &raw, &found, &e) < 0 ||
        (found && desk_for(g, &o.from, &d, &e) < 0))
        LOG_W("xswap", "outbound tx %lld: its signer's desk: %s", (long long)id, e.msg);
    else if (d && store_has_book(desk_store(d)))
        db = desk_store(d);
    free(raw);
    if (store_outbound_set_state(db, id, r->success ? OUTBOUND_MINED : OUTBOUND_FAILED,
                                 r->block_number, (int64_t)time(NULL), &e) < 0 ||
        (r->success && store_outbound_mark_replaced(db, id, &e) < 0))
        LOG_W("xswap", "outbound tx %lld: %s", (long long)id, e.msg);
}

/* Finishes the transaction in flight. *waiting: not mined yet (re-sent). */
static int finish_pending(eng *g, store_xswap *x, bool *waiting, err *e)
{
    *waiting = false;
    chain_conn *c;
    if (conn(g, x->pending_chain, &c, e) < 0)
        return -1;
    rpc_receipt r;
    bool found = false, cancelled = false;
    int64_t out_id = 0;
    if (receipt_of_step(g, c, x, &r, &found, &cancelled, &out_id, e) < 0)
        return -1;
    if (found && out_id)
        mark_outbound(g, out_id, &r);
    if (found && cancelled) {
        /* the operator took the nonce back (`fusion tx cancel`): the step did not happen */
        snprintf(x->note, sizeof x->note, "%s was cancelled (same nonce, tx %lld): resume signs it again",
                 x->pending_action, (long long)out_id);
        x->pending_action[0] = '\0';
        x->pending_raw_len = 0;
        *waiting = true;
        return save(g, x, false, e);
    }
    if (!found) {
        /* lost by the node (or never sent: the process died first): send the same bytes,
         * if the step still passes the compliance floor */
        if (swap_gate(g, x, x->pending_action, e) < 0)
            return -1;
        err se;
        err_clear(&se);
        if (strcmp(x->pending_action, "claim_y") == 0) {
            uint8_t *key = NULL, *raw = sodium_malloc(STORE_XSWAP_RAW_MAX);
            size_t len = 0;
            int rc = raw ? secret_key(g, x, &key, e)
                         : err_set(e, ERR_NOMEM, "out of guarded memory for the claim");
            if (rc == 0)
                rc = unseal(raw, &len, STORE_XSWAP_RAW_MAX, key, x, "claim_y", x->pending_raw,
                            x->pending_raw_len, e);
            if (rc == 0 &&
                rpc_eth_send_raw_transaction(c->rpc, raw, len, (uint8_t[32]){0}, &se) < 0)
                LOG_I("xswap", "swap %lld: re-sending claim_y: %s", (long long)x->id, se.msg);
            if (key)
                sodium_free(key);
            if (raw)
                sodium_free(raw);
            if (rc < 0)
                return -1;
        } else if (rpc_eth_send_raw_transaction(c->rpc, x->pending_raw, x->pending_raw_len,
                                                (uint8_t[32]){0}, &se) < 0) {
            LOG_I("xswap", "swap %lld: re-sending %s: %s", (long long)x->id, x->pending_action,
                  se.msg);
        }
        *waiting = true;
        return 0;
    }
    char action[16];
    snprintf(action, sizeof action, "%s", x->pending_action);
    x->pending_action[0] = '\0';
    x->pending_raw_len = 0;
    if (!r.success) {
        snprintf(x->note, sizeof x->note, "%s reverted in block %llu", action,
                 (unsigned long long)r.block_number);
        if (save(g, x, false, e) < 0)
            return -1;
        return err_set(e, ERR_STATE, "swap %lld: %s", (long long)x->id, x->note);
    }
    const char *next = NULL;
    if (strcmp(action, "lock_x") == 0) {
        if (lock_id_of(c, &x->htlc_x, x->pending_hash, r.block_number, x->lock_x, e) < 0)
            return -1;
        x->has_lock_x = true;
        x->lock_x_block = r.block_number;
        next = "x_locked";
    } else if (strcmp(action, "lock_y") == 0) {
        if (lock_id_of(c, &x->htlc_y, x->pending_hash, r.block_number, x->lock_y, e) < 0)
            return -1;
        x->has_lock_y = true;
        x->lock_y_block = r.block_number;
        next = "y_locked";
    } else if (strcmp(action, "claim_y") == 0) {
        next = "y_claimed";
    } else if (strcmp(action, "claim_x") == 0) {
        next = "done";
    } else if (strcmp(action, "refund_y") == 0) {
        next = "y_refunded";
    } else if (strcmp(action, "refund_x") == 0) {
        next = "refunded";
    } else {
        return err_set(e, ERR_INVALID, "swap %lld: unknown action %s", (long long)x->id, action);
    }
    snprintf(x->state, sizeof x->state, "%s", next);
    x->note[0] = '\0';
    return save(g, x, false, e);
}

static int refund(eng *g, store_xswap *x, bool on_x, err *e)
{
    chain_conn *c;
    if (conn(g, on_x ? x->chain_x : x->chain_y, &c, e) < 0)
        return -1;
    const addr *sender = on_x ? &x->initiator : &x->counterparty;
    /* anyone may trigger a refund; the party's own key if the desk has it */
    const addr *signer = have_key(g, sender) ? sender : on_x ? &x->counterparty : &x->initiator;
    char w[67], args[80];
    fmt_word(w, on_x ? x->lock_x : x->lock_y);
    snprintf(args, sizeof args, "(%s)", w);
    return act(g, x, on_x ? "refund_x" : "refund_y", c, signer, on_x ? &x->htlc_x : &x->htlc_y,
               NULL, "refund", args, e);
}

/* One step; *moved false when the swap waits. */
static int step(eng *g, store_xswap *x, bool *moved, err *e)
{
    *moved = false;
    if (x->pending_action[0]) {
        bool waiting;
        if (finish_pending(g, x, &waiting, e) < 0)
            return -1;
        *moved = !waiting;
        return 0;
    }
    chain_conn *cx, *cy;
    if (conn(g, x->chain_x, &cx, e) < 0 || conn(g, x->chain_y, &cy, e) < 0)
        return -1;
    uint64_t now_x, now_y;
    if (chain_now(cx, &now_x, NULL, e) < 0 || chain_now(cy, &now_y, NULL, e) < 0)
        return -1;
    char args[400];

    if (strcmp(x->state, "new") == 0) {
        if (swap_gate(g, x, "lock_x", e) < 0 || check_htlcs(g, x, "not locking on X", e) < 0)
            return -1;
        if (check_funds(g, cx, &x->initiator, &x->token_x, &x->amount_x, e) < 0)
            return -1;
        if (!addr_is_zero(&x->token_x) &&
            approve_token(g, cx, x, &x->initiator, &x->token_x, &x->htlc_x, &x->amount_x, e) < 0)
            return -1;
        if (lock_args(args, sizeof args, &x->counterparty, &x->token_x, &x->amount_x, x->hashlock,
                      x->t1) < 0)
            return err_set(e, ERR_INTERNAL, "lock arguments too long");
        const u256 *value = addr_is_zero(&x->token_x) ? &x->amount_x : NULL;
        if (act(g, x, "lock_x", cx, &x->initiator, &x->htlc_x, value, "lock", args, e) < 0)
            return -1;
        *moved = true;
        return 0;
    }
    if (strcmp(x->state, "x_locked") == 0 || strcmp(x->state, "y_refunded") == 0) {
        if (now_x >= x->t1) {
            if (refund(g, x, true, e) < 0)
                return -1;
            *moved = true;
        }
        if (strcmp(x->state, "x_locked") == 0 && discover_lock_y(g, x, cy, now_y, e) < 0)
            return -1;
        *moved = strcmp(x->state, "y_locked") == 0;
        return 0; /* else: waiting for the counterparty's lock or T1 */
    }
    if (strcmp(x->state, "y_locked") == 0) {
        lock_view v;
        if (get_lock(g, cy, &x->htlc_y, x->lock_y, &v, e) < 0)
            return -1;
        const char *bad = lock_mismatch(&v, &x->counterparty, &x->initiator, &x->token_y,
                                        &x->amount_y, x->hashlock, 0);
        if (!bad && v.timelock + x->margin > x->t1)
            bad = "expires too close to T1 (less than the safety margin)";
        if (!bad && now_y + 60 > v.timelock)
            bad = "expires too soon to claim safely";
        if (bad) {
            /* never reveal the secret against a lock we would not accept */
            if (now_y >= v.timelock && v.status == 1 && have_key(g, &x->counterparty)) {
                if (refund(g, x, false, e) < 0)
                    return -1;
                *moved = true;
                return 0;
            }
            if (now_x >= x->t1) {
                if (refund(g, x, true, e) < 0)
                    return -1;
                *moved = true;
                return 0;
            }
            char note[sizeof x->note];
            snprintf(note, sizeof note, "counterparty lock on Y refused: it %s", bad);
            if (strcmp(note, x->note) != 0) {
                snprintf(x->note, sizeof x->note, "%s", note);
                if (save(g, x, false, e) < 0)
                    return -1;
            }
            return 0;
        }
        /* the lock is only as good as the contract reporting it, and the secret opens
         * every lock of its hashlock */
        if (check_htlcs(g, x, "not revealing the secret on Y", e) < 0 ||
            check_hashlock_unique(g, x, "not revealing the secret on Y", e) < 0)
            return -1;
        uint8_t *pre = sodium_malloc(32);
        if (!pre)
            return err_set(e, ERR_NOMEM, "out of guarded memory for the swap secret");
        if (secret_open(g, x, pre, e) < 0) {
            sodium_free(pre);
            return -1;
        }
        char w[67], p[67];
        fmt_word(w, x->lock_y);
        fmt_word(p, pre);
        sodium_free(pre);
        snprintf(args, sizeof args, "(%s, %s)", w, p);
        sodium_memzero(p, sizeof p);
        int rc = act(g, x, "claim_y", cy, &x->initiator, &x->htlc_y, NULL, "claim", args, e);
        sodium_memzero(args, sizeof args);
        if (rc < 0)
            return -1;
        *moved = true;
        return 0;
    }
    if (strcmp(x->state, "y_claimed") == 0) {
        uint8_t pre[32];
        if (revealed_preimage(cy, x, pre, e) < 0)
            return -1;
        char w[67], p[67];
        fmt_word(w, x->lock_x);
        fmt_word(p, pre);
        sodium_memzero(pre, sizeof pre);
        snprintf(args, sizeof args, "(%s, %s)", w, p);
        const addr *signer = have_key(g, &x->counterparty) ? &x->counterparty : &x->initiator;
        if (act(g, x, "claim_x", cx, signer, &x->htlc_x, NULL, "claim", args, e) < 0)
            return -1;
        *moved = true;
        return 0;
    }
    return 0; /* done, refunded */
}

static int load(eng *g, int64_t id, store_xswap *x, err *e)
{
    bool found = false;
    if (store_xswap_get(g->db, id, x, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no swap %lld: see `fusion xswap list`", (long long)id);
    return 0;
}

/* Waits (bounded) for a receipt; 0 also when there is none yet. */
static int wait_receipt(rpc_client *rpc, const uint8_t hash[32], unsigned ms, rpc_receipt *r,
                        err *e)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        bool found = false;
        if (rpc_eth_get_transaction_receipt(rpc, hash, r, &found, e) < 0)
            return -1;
        if (found)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long el = (now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= (long long)ms)
            return 0;
        struct timespec ts = {0, 250 * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        }
    }
}

static int run_steps(eng *g, store_xswap *x, err *e)
{
    for (int i = 0; i < 32; i++) {
        bool moved;
        if (step(g, x, &moved, e) < 0)
            return -1;
        if (xswap_state_terminal(x->state) && !x->pending_action[0])
            return 0;
        if (!moved && !x->pending_action[0])
            return 0;
        if (!moved && g->env->no_wait)
            return 0;
        if (!moved) {
            /* a transaction in flight: give the node a moment (1 s blocks) */
            rpc_receipt r;
            err we;
            err_clear(&we);
            chain_conn *c;
            if (conn(g, x->pending_chain, &c, e) < 0)
                return -1;
            if (wait_receipt(c->rpc, x->pending_hash, RECEIPT_WAIT_MS, &r, &we) < 0)
                return err_set(e, we.code, "%s", we.msg);
        }
    }
    return 0;
}

int xswap_new(const xswap_env *env, const xswap_terms *t, int64_t *id, err *e)
{
    if (t->chain_x == t->chain_y)
        return err_set(e, ERR_INVALID, "a cross-chain swap needs two different chains");
    if (addr_equal(&t->initiator, &t->counterparty))
        return err_set(e, ERR_INVALID, "initiator and counterparty are the same address");
    if (u256_is_zero(&t->amount_x) || u256_is_zero(&t->amount_y))
        return err_set(e, ERR_INVALID, "both amounts must be positive");
    if (t->margin == 0 || t->t1_after <= 2 * t->margin)
        return err_set(e, ERR_INVALID,
                       "T1 must be more than twice the safety margin away, so "
                       "that the counterparty can lock with T2 <= T1 - margin");
    eng g;
    if (eng_open(&g, env, e) < 0)
        return -1;
    store_xswap x;
    memset(&x, 0, sizeof x);
    int rc = -1;
    chain_conn *cx, *cy;
    store_contract *cs = NULL;
    size_t n = 0;
    if (conn(&g, t->chain_x, &cx, e) < 0 || conn(&g, t->chain_y, &cy, e) < 0)
        goto out;
    bool hx = false, hy = false;
    for (int side = 0; side < 2; side++) {
        free(cs);
        cs = NULL;
        if (store_contract_list(g.db, side ? t->chain_y : t->chain_x, &cs, &n, e) < 0)
            goto out;
        for (size_t i = 0; i < n; i++)
            if (cs[i].kind == STORE_CONTRACT_HTLC) {
                if (side)
                    x.htlc_y = cs[i].address, hy = true;
                else
                    x.htlc_x = cs[i].address, hx = true;
            }
    }
    if (!hx || !hy) {
        err_set(e, ERR_NOT_FOUND,
                "both chains need a HashedTimelock contract (kind htlc): "
                "run `fusion devnet up` or configure one");
        goto out;
    }
    if (!have_key(&g, &t->initiator)) {
        err_set(e, ERR_NOT_FOUND, "the initiator's key is not in this desk's key store");
        goto out;
    }
    uint64_t now_x, now_y;
    if (chain_now(cx, &now_x, NULL, e) < 0 || chain_now(cy, &now_y, &x.y_from_block, e) < 0)
        goto out;
    snprintf(x.state, sizeof x.state, "new");
    x.chain_x = t->chain_x;
    x.chain_y = t->chain_y;
    x.token_x = t->token_x;
    x.token_y = t->token_y;
    x.amount_x = t->amount_x;
    x.amount_y = t->amount_y;
    x.initiator = t->initiator;
    x.counterparty = t->counterparty;
    x.t1 = now_x + t->t1_after;
    x.margin = t->margin;
    if (swap_gate(&g, &x, "lock_x", e) < 0 || /* nothing recorded for a refused swap */
        check_htlcs(&g, &x, "nothing recorded", e) < 0)
        goto out;
    /* the secret: random, in guarded memory, on disk only sealed */
    uint8_t *pre = sodium_malloc(32), *key = NULL;
    if (!pre) {
        err_set(e, ERR_NOMEM, "out of guarded memory for the swap secret");
        goto out;
    }
    randombytes_buf(pre, 32);
    crypto_hash_sha256(x.hashlock, pre, 32);
    int sealed = check_hashlock_unique(&g, &x, "nothing recorded", e);
    if (sealed == 0)
        sealed = secret_key(&g, &x, &key, e);
    if (sealed == 0)
        sealed = seal(x.sealed_secret, &x.sealed_secret_len, sizeof x.sealed_secret, key, &x,
                      "secret", pre, 32, e);
    sodium_free(pre);
    if (key)
        sodium_free(key);
    if (sealed < 0)
        goto out;
    if (store_begin_durable(g.db, e) < 0)
        goto out;
    if (store_xswap_add(g.db, &x, &x.id, e) < 0 || store_commit(g.db, e) < 0) {
        store_rollback(g.db);
        goto out;
    }
    *id = x.id;
    rc = run_steps(&g, &x, e);
out:
    free(cs);
    eng_close(&g);
    return rc;
}

int xswap_respond(const xswap_env *env, int64_t id, uint64_t gap, err *e)
{
    eng g;
    if (eng_open(&g, env, e) < 0)
        return -1;
    store_xswap x;
    int rc = -1;
    chain_conn *cx, *cy;
    if (load(&g, id, &x, e) < 0 || conn(&g, x.chain_x, &cx, e) < 0 ||
        conn(&g, x.chain_y, &cy, e) < 0)
        goto out;
    if (x.pending_action[0] && run_steps(&g, &x, e) < 0)
        goto out;
    if (strcmp(x.state, "x_locked") != 0) {
        err_set(e, ERR_STATE,
                "swap %lld is %s: the counterparty locks only after the "
                "initiator's lock (x_locked)",
                (long long)id, x.state);
        goto out;
    }
    if (check_hashlock_unique(&g, &x, "not locking on Y", e) < 0 ||
        check_htlcs(&g, &x, "not locking on Y", e) < 0)
        goto out;
    uint64_t now_x, head_x, now_y;
    lock_view v;
    if (chain_now(cx, &now_x, &head_x, e) < 0 || chain_now(cy, &now_y, NULL, e) < 0 ||
        get_lock(&g, cx, &x.htlc_x, x.lock_x, &v, e) < 0)
        goto out;
    const char *bad =
        lock_mismatch(&v, &x.initiator, &x.counterparty, &x.token_x, &x.amount_x, x.hashlock, x.t1);
    if (bad) {
        err_set(e, ERR_DENIED, "the initiator's lock on X %s: not locking on Y", bad);
        goto out;
    }
    if (head_x < x.lock_x_block + cx->confirmations) {
        err_set(e, ERR_STATE,
                "the initiator's lock on X is not final yet (block %llu, head "
                "%llu, %u confirmations): try again shortly",
                (unsigned long long)x.lock_x_block, (unsigned long long)head_x, cx->confirmations);
        goto out;
    }
    uint64_t t2 = x.t1 > gap ? x.t1 - gap : 0;
    if (gap < x.margin) {
        err_set(e, ERR_DENIED,
                "counterparty timelock T2 = T1 - %llu s is refused: T1 must "
                "exceed T2 by the safety margin of %llu s",
                (unsigned long long)gap, (unsigned long long)x.margin);
        goto out;
    }
    if (t2 <= now_y + 60) {
        err_set(e, ERR_DENIED,
                "counterparty timelock T2 would be in the past or within a "
                "minute on chain Y: refused");
        goto out;
    }
    desk *dk;
    if (desk_for(&g, &x.counterparty, &dk, e) < 0 ||
        check_funds(&g, cy, &x.counterparty, &x.token_y, &x.amount_y, e) < 0)
        goto out;
    if (!addr_is_zero(&x.token_y) &&
        approve_token(&g, cy, &x, &x.counterparty, &x.token_y, &x.htlc_y, &x.amount_y, e) < 0)
        goto out;
    x.t2 = t2;
    char args[400];
    if (lock_args(args, sizeof args, &x.initiator, &x.token_y, &x.amount_y, x.hashlock, t2) < 0) {
        err_set(e, ERR_INTERNAL, "lock arguments too long");
        goto out;
    }
    const u256 *value = addr_is_zero(&x.token_y) ? &x.amount_y : NULL;
    if (act(&g, &x, "lock_y", cy, &x.counterparty, &x.htlc_y, value, "lock", args, e) < 0)
        goto out;
    rc = run_steps(&g, &x, e);
out:
    sodium_memzero(&x, sizeof x);
    eng_close(&g);
    return rc;
}

int xswap_advance(const xswap_env *env, int64_t id, char state[16], err *e)
{
    eng g;
    if (eng_open(&g, env, e) < 0)
        return -1;
    store_xswap x;
    int rc = load(&g, id, &x, e);
    if (rc == 0)
        rc = run_steps(&g, &x, e);
    if (rc == 0 && state)
        snprintf(state, 16, "%s", x.state);
    sodium_memzero(&x, sizeof x);
    eng_close(&g);
    return rc;
}

int xswap_advance_all(const xswap_env *env,
                      void (*report)(void *ctx, int64_t id, const char *state, const err *se),
                      void *ctx, err *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", env->home);
    store *db = NULL;
    store_xswap *xs = NULL;
    size_t n = 0;
    int rc = store_open(&db, path, e);
    if (rc == 0)
        rc = store_xswap_list(db, &xs, &n, e);
    store_close(&db);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (xswap_state_terminal(xs[i].state) && !xs[i].pending_action[0])
            continue;
        char state[16] = "";
        err se;
        err_clear(&se);
        int r = xswap_advance(env, xs[i].id, state, &se);
        if (report)
            report(ctx, xs[i].id, state, r < 0 ? &se : NULL);
    }
    sodium_memzero(xs, n * sizeof *xs);
    free(xs);
    return 0;
}
