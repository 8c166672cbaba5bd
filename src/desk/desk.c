/* desk.c: the transaction pipeline of the desk. One call goes: estimate gas (+20 %),
 * price it (EIP-1559 from eth_feeHistory and eth_maxPriorityFeePerGas, eth_gasPrice when
 * the chain has no base fee), take the nonce (max of the node's pending count and the
 * desk's own in-flight transactions), sign through the key store, decode the signed bytes
 * again for the summary, ask the operator, record the transaction durably BEFORE sending
 * it, send, and follow the receipt to the chain's confirmation depth. */
#include "desk/desk.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/file.h"
#include "base/amount.h"
#include "base/datafile.h"
#include "base/fsperm.h"
#include "base/log.h"
#include "base/text.h"
#include "compliance/compliance.h"
#include "desk/desk_internal.h"
#include "desk/names.h"
#include "eth/tx.h"
#include "rpc/rpc_chain.h"
#include "store/store_book.h"

#define PASS_CAP 1024

/* ---- small helpers ---- */

void desk_say(desk *d, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    LOG_I("desk", "%s", line);
    if (d->say_fn)
        d->say_fn(d->say_ctx, line);
}

static json_t *jaddr(const addr *a)
{
    char s[ADDR_STR_MAX];
    addr_to_lower(s, a);
    return json_string(s);
}

static json_t *jhash(const uint8_t h[32])
{
    char s[67];
    hex_encode(s, sizeof s, h, 32, true);
    return json_string(s);
}

static json_t *jhexs(const uint8_t *p, size_t n)
{
    char *s = hex_encode_new(p, n);
    json_t *j = json_string(s ? s : "0x");
    free(s);
    return j;
}

void desk_audit(desk *d, const char *what, json_t *details)
{
    char action[64];
    snprintf(action, sizeof action, "desk.%s", what);
    err e;
    if (store_audit(d->db, d->home, d->op.name, action, details, &e) < 0)
        LOG_E("desk", "audit row %s not written: %s", action, e.msg);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int desk_data_path(char *out, size_t cap, const char *sub, const char *name, err *e)
{
    char rel[512];
    int k = snprintf(rel, sizeof rel, "%s/%s", sub, name);
    if (k < 0 || (size_t)k >= sizeof rel)
        return err_set(e, ERR_INVALID, "data file name too long: %.40s/%.40s", sub, name);
    return datafile_find(rel, out, cap, e);
}

static int read_file(const char *path, char **out, size_t *len, err *e)
{
    return file_read_all(path, 0, NULL, out, len, e);
}

/* <home>/policy.conf, created from data/policy/default.policy on first use. */
static int policy_text(const char *home, const char *policy_path, char **out, size_t *out_len,
                       err *e)
{
    char *text = NULL;
    size_t len = 0;
    if (access(policy_path, F_OK) != 0) {
        char src[4200];
        if (audit_config_check(home, "policy", NULL, 0, false, NULL, 0, e) < 0)
            return -1; /* a signed policy that went missing is not replaced by the default */
        if (desk_data_path(src, sizeof src, "policy", "default.policy", e) < 0 ||
            read_file(src, &text, &len, e) < 0)
            return err_prefix(e, "no policy at %s", policy_path);
        /* Whole or not at all: a crash must not leave a short policy behind. */
        err we;
        err_clear(&we);
        if (fsperm_write_atomic(policy_path, text, len, false, &we) < 0 &&
            we.code != ERR_EXISTS) {
            free(text);
            if (e)
                *e = we;
            return -1;
        }
        if (we.code == ERR_EXISTS) { /* another process wrote it first: read theirs */
            free(text);
            text = NULL;
            if (fsperm_check_private(policy_path, "desk policy", e) < 0 ||
                read_file(policy_path, &text, &len, e) < 0)
                return -1;
        } else {
            LOG_I("desk", "policy %s created from %s", policy_path, src);
        }
    } else if (fsperm_check_private(policy_path, "desk policy", e) < 0 ||
               read_file(policy_path, &text, &len, e) < 0) {
        return -1;
    }
    /* On a signed desk the policy is the one an admin signed (or the shipped default). */
    char dflt_path[4200], *dflt = NULL;
    size_t dflt_len = 0;
    err de;
    err_clear(&de);
    if (desk_data_path(dflt_path, sizeof dflt_path, "policy", "default.policy", &de) < 0 ||
        read_file(dflt_path, &dflt, &dflt_len, &de) < 0)
        dflt = NULL; /* then only a signed policy.conf is accepted */
    int crc = audit_config_check(home, "policy", text, len, true, dflt, dflt_len, e);
    free(dflt);
    if (crc < 0) {
        free(text);
        return -1;
    }
    *out = text;
    *out_len = len;
    return 0;
}

/* Reads the policy (with its signature check) and parses it when its text is not the one
 * the desk holds already: a desk kept open for many actions checks it before each. */
static int load_policy(desk *d, err *e)
{
    snprintf(d->policy_path, sizeof d->policy_path, "%s/policy.conf", d->home);
    char *text = NULL;
    size_t len = 0;
    if (policy_text(d->home, d->policy_path, &text, &len, e) < 0)
        return -1;
    uint8_t h[32];
    char sha[sizeof d->policy_sha256];
    crypto_hash_sha256(h, (const uint8_t *)text, len);
    hex_encode(sha, sizeof sha, h, 32, false);
    if (d->pol && strcmp(sha, d->policy_sha256) == 0) {
        free(text);
        return 0;
    }
    policy *p = NULL;
    int rc = policy_parse(&p, text, len, e);
    free(text);
    if (rc < 0) {
        policy_free(&d->pol); /* never act on the text before a refused one */
        return err_prefix(e, "%s", d->policy_path);
    }
    policy_free(&d->pol);
    d->pol = p;
    memcpy(d->policy_sha256, sha, sizeof sha);
    return 0;
}

int desk_policy_load(const char *home, policy **out, err *e)
{
    *out = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/policy.conf", home);
    char *text = NULL;
    size_t len = 0;
    if (policy_text(home, path, &text, &len, e) < 0)
        return -1;
    int rc = policy_parse(out, text, len, e);
    free(text);
    return rc < 0 ? err_prefix(e, "%s", path) : 0;
}

static int load_abi(abi_json **out, const char *name, err *e)
{
    char path[4200];
    if (desk_data_path(path, sizeof path, "contracts", name, e) < 0)
        return -1;
    return abi_json_load(out, path, e);
}

/* ---- open / configure ---- */

/* The default gate: the compliance module's verdict on the escrow's parties (open case,
 * block, KYC not verified and current). A create has no escrow yet: its parties are
 * screened once the escrow is synced, and every later action passes this gate. */
static int desk_compliance_gate(void *ctx, const desk_gate_request *r, char *reason, size_t cap)
{
    desk *d = ctx;
    /* Only what moves money or commits the desk is gated; a dispute or an arbiter's
     * refund must stay possible while a party is under review. */
    bool is_gated = desk_action_name_gated(r->action); /* actions.h */
    err ge;
    err_clear(&ge);
    /* A swap's lock or claim moves money from the payer to the payee of the lock: both are
     * screened, whoever signs (a refund returns money to whoever locked it). */
    /* A bridge's allowance and burn are screened against its recipient (the payee), so a
     * refused recipient is refused before the first of them is signed; the mint delivers
     * what is already burned and is not held back. */
    if (strncmp(r->action, "swap_", 5) == 0 || strncmp(r->action, "bridge_", 7) == 0) {
        if (strcmp(r->action, "swap_lock") != 0 && strcmp(r->action, "swap_claim") != 0 &&
            strcmp(r->action, "bridge_allowance") != 0 && strcmp(r->action, "bridge_burn") != 0)
            return 0;
        compliance_actor a = {.home = d->home, .operator_name = d->op.name, .now = time(NULL)};
        compliance_action act = {.action = r->action, .chain_id = r->chain_id,
                                 .payer = r->payer ? r->payer : r->from,
                                 .payee = r->counterparty, .token = r->asset,
                                 .amount = r->amount};
        if (compliance_screen_action(d->db, &a, &act, &ge) == 0)
            return 0;
        snprintf(reason, cap, "%s", ge.msg);
        return 1;
    }
    /* Screening before signing: the action's parties against the sanctions and desk lists
     * and the registry; a sanctions hit or a block refuses, even a create. */
    if (is_gated || strcmp(r->action, "create") == 0) {
        compliance_actor a = {.home = d->home, .operator_name = d->op.name, .now = time(NULL)};
        compliance_action act = {.action = r->action, .chain_id = r->chain_id,
                                 .escrow = r->escrow, .payer = r->from,
                                 .payee = r->counterparty, .token = r->asset,
                                 .amount = r->amount};
        if (compliance_screen_action(d->db, &a, &act, &ge) < 0) {
            snprintf(reason, cap, "%s", ge.msg);
            return 1;
        }
    }
    if (!r->escrow || !is_gated)
        return 0;
    /* The gate decides on the desk's copy of the escrow; the action is signed for the
     * escrow the chain holds. They must be the same escrow: after a reorg another escrow
     * can stand at the address (clones) before the desk has synced it. */
    store_escrow x;
    bool found = false;
    if (store_escrow_get(d->db, r->chain_id, r->escrow, &x, &found, &ge) < 0) {
        snprintf(reason, cap, "%s", ge.msg);
        return 1;
    }
    /* An escrow whose events stopped fitting the state machine has no state the desk can
     * vouch for: nothing that moves money is signed on it. */
    if (found && x.inconsistent) {
        char hex[ADDR_STR_MAX], shown[200];
        addr_to_checksum(hex, r->escrow);
        snprintf(reason, cap,
                 "refused: escrow %s is inconsistent in the desk database (%s): check the "
                 "contract's own state before acting on it",
                 hex, text_safe_str(shown, sizeof shown, x.anomaly));
        return 1;
    }
    const char *differs = NULL; /* not found: compliance_gate_check refuses it */
    if (found && r->payer && !addr_equal(r->payer, &x.payer))
        differs = "payer";
    else if (found && r->counterparty && !addr_equal(r->counterparty, &x.payee))
        differs = "payee";
    else if (found && r->asset && !addr_equal(r->asset, &x.token))
        differs = "token";
    else if (found && r->amount && u256_cmp(r->amount, &x.amount) != 0)
        differs = "amount";
    if (differs) {
        char hex[ADDR_STR_MAX];
        addr_to_checksum(hex, r->escrow);
        snprintf(reason, cap,
                 "refused: the %s of escrow %s on chain differs from the desk database's copy "
                 "(a reorg?): run fusion sync, so the escrow now at that address is screened",
                 differs, hex);
        return 1;
    }
    if (compliance_gate_check(d->db, r->chain_id, r->escrow, r->action, &ge) == 0)
        return 0;
    snprintf(reason, cap, "%s", ge.msg);
    return 1;
}

int desk_action_card(desk *d, const char *action, const addr *escrow, char ***lines, size_t *n,
                     err *e)
{
    desk_names *names = NULL;
    if (desk_names_load(&names, d->db, d->ks, e) < 0)
        return -1;
    int rc = desk_card_lines(d->db, names, d->chain.chain_id, escrow, action, &d->op.address,
                             d->has_last_asset ? &d->last_asset : NULL,
                             d->last_rule[0] ? d->last_rule : NULL, (int64_t)time(NULL), lines,
                             n, e);
    desk_names_free(&names);
    return rc;
}

int desk_open(desk **out, const char *home, const char *operator_name, err *e)
{
    *out = NULL;
    desk *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(e, ERR_NOMEM, "out of memory");
    snprintf(d->home, sizeof d->home, "%s", home);
    d->wait_s = 120;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", home);
    bool found = false;
    /* Nothing is done on a desk whose audit log lost its head: every action is recorded. */
    if (store_open(&d->db, path, e) < 0 || audit_check(home, e) < 0 ||
        store_operator_get(d->db, operator_name, &d->op, &found, e) < 0)
        goto fail;
    if (!found) {
        err_set(e, ERR_NOT_FOUND,
                "operator \"%s\" is not configured: add it with `fusion "
                "operator add %s --key ADDRESS --role ROLE` or pick one with --operator NAME",
                operator_name, operator_name);
        goto fail;
    }
    if (desk_roles_parse(&d->roles, d->op.roles, e) < 0 ||
        keystore_open(&d->ks, home, d->op.name, e) < 0 ||
        load_abi(&d->factory_abi, "EscrowFactory.json", e) < 0 ||
        load_abi(&d->escrow_abi, "Escrow.json", e) < 0 ||
        load_abi(&d->factory2_abi, "EscrowFactoryV2.json", e) < 0 ||
        load_abi(&d->escrow2_abi, "EscrowV2.json", e) < 0 ||
        load_abi(&d->token_abi, "TestToken.json", e) < 0 ||
        load_abi(&d->feed_abi, "MockPriceFeed.json", e) < 0 ||
        load_abi(&d->htlc_abi, "HashedTimelock.json", e) < 0 ||
        load_abi(&d->vault_abi, "CollateralVault.json", e) < 0 ||
        load_abi(&d->bridge_tm_abi, "TokenMessenger.json", e) < 0 ||
        load_abi(&d->bridge_mt_abi, "MessageTransmitter.json", e) < 0 || load_policy(d, e) < 0)
        goto fail;
    /* Version 2 first: its custom errors are a superset; every selector names one function. */
    d->abis[0] = d->escrow2_abi;
    d->abis[1] = d->factory2_abi;
    d->abis[2] = d->escrow_abi;
    d->abis[3] = d->factory_abi;
    d->abis[4] = d->token_abi;
    d->abis[5] = d->htlc_abi;
    d->abis[6] = d->vault_abi;
    d->abis[7] = d->bridge_tm_abi;
    d->abis[8] = d->bridge_mt_abi;
    desk_set_gate(d, desk_compliance_gate, d);
    LOG_I("desk", "desk opened for actions: %s as %s", home, d->op.name);
    *out = d;
    return 0;
fail:
    desk_free(&d);
    return -1;
}

void desk_free(desk **p)
{
    if (!p || !*p)
        return;
    desk *d = *p;
    if (d->key_borrowed)
        d->key = NULL; /* the session's: it locks it */
    keystore_lock(&d->key);
    keystore_free(&d->ks);
    rpc_client_free(&d->rpc);
    store_close(&d->db);
    abi_json_free(&d->factory_abi);
    abi_json_free(&d->escrow_abi);
    abi_json_free(&d->factory2_abi);
    abi_json_free(&d->escrow2_abi);
    abi_json_free(&d->token_abi);
    abi_json_free(&d->feed_abi);
    abi_json_free(&d->htlc_abi);
    abi_json_free(&d->vault_abi);
    abi_json_free(&d->bridge_tm_abi);
    abi_json_free(&d->bridge_mt_abi);
    policy_free(&d->pol);
    free(d);
    *p = NULL;
}

int desk_refresh(desk *d, err *e)
{
    store_operator op;
    bool found = false;
    unsigned roles = 0;
    if (audit_check(d->home, e) < 0 || store_operator_get(d->db, d->op.name, &op, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND,
                       "operator \"%s\" is no longer configured on this desk (see `fusion "
                       "operator list`)",
                       d->op.name);
    if (desk_roles_parse(&roles, op.roles, e) < 0)
        return -1;
    d->op = op;
    d->roles = roles;
    return load_policy(d, e);
}

void desk_reset(desk *d)
{
    if (d->key_borrowed)
        d->key = NULL; /* the key source's: its owner locks it */
    d->key_borrowed = false;
    keystore_lock(&d->key);
    d->key_fn = NULL;
    d->key_ctx = NULL;
    d->pass_fn = NULL;
    d->pass_ctx = NULL;
    d->confirm_fn = NULL;
    d->confirm_ctx = NULL;
    d->say_fn = NULL;
    d->say_ctx = NULL;
    desk_set_gate(d, desk_compliance_gate, d);
    d->wait_s = 120;
    d->last_rule[0] = '\0';
    d->has_last_asset = false;
    /* the next action selects its chain again (rows, factories); the RPC client stays
     * while the chain and its endpoints do (connect_chain) */
    d->has_chain = false;
}

store *desk_store(desk *d)
{
    return d->db;
}

void desk_set_key_source(desk *d, desk_key_fn fn, void *ctx)
{
    d->key_fn = fn;
    d->key_ctx = ctx;
}

void desk_set_passphrase(desk *d, desk_passphrase_fn fn, void *ctx)
{
    d->pass_fn = fn;
    d->pass_ctx = ctx;
}

void desk_set_confirm(desk *d, desk_confirm_fn fn, void *ctx)
{
    d->confirm_fn = fn;
    d->confirm_ctx = ctx;
}

void desk_set_gate(desk *d, desk_gate_fn fn, void *ctx)
{
    d->gate_fn = fn;
    d->gate_ctx = ctx;
}

void desk_set_wait(desk *d, unsigned seconds)
{
    d->wait_s = seconds;
}

void desk_set_output(desk *d, void (*say)(void *ctx, const char *line), void *ctx)
{
    d->say_fn = say;
    d->say_ctx = ctx;
}

int desk_chain_rpc(store *db, uint64_t chain_id, store_chain *chain, rpc_client **out, err *e)
{
    *out = NULL;
    store_chain c;
    bool found = false;
    if (store_chain_get(db, chain_id, &c, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "chain %llu is not configured in this desk",
                       (unsigned long long)chain_id);
    rpc_options o;
    rpc_options_default(&o);
    o.max_attempts = 3;
    o.timeout_ms = 20000;
    if (rpc_chain_client(out, db, chain_id, &o, e) < 0)
        return e && e->code == ERR_NOT_FOUND
                   ? err_set(e, ERR_NOT_FOUND, "chain %s has no RPC endpoint", c.name)
                   : -1;
    if (chain)
        *chain = c;
    return 0;
}

/* A fingerprint of the chain's endpoint list, in the order the client tries them. */
static int endpoints_mark(store *db, uint64_t chain_id, uint64_t *mark, err *e)
{
    store_endpoint *eps = NULL;
    size_t n = 0;
    if (store_endpoint_list(db, chain_id, &eps, &n, e) < 0)
        return -1;
    uint64_t h = 1469598103934665603ULL ^ chain_id;
    for (size_t i = 0; i < n; i++)
        for (const char *p = eps[i].url;; p++) {
            h = (h ^ (uint8_t)*p) * 1099511628211ULL; /* the NUL separates the URLs */
            if (!*p)
                break;
        }
    free(eps);
    *mark = h;
    return 0;
}

static int connect_chain(desk *d, err *e)
{
    /* A desk kept open (the UI's session) keeps its client while the chain's endpoints
     * stay the same; an endpoint added or removed builds a new one. */
    uint64_t mark = 0;
    if (endpoints_mark(d->db, d->chain.chain_id, &mark, e) < 0)
        return -1;
    if (!d->rpc || d->rpc_chain_id != d->chain.chain_id || d->rpc_mark != mark) {
        rpc_client_free(&d->rpc);
        if (desk_chain_rpc(d->db, d->chain.chain_id, NULL, &d->rpc, e) < 0)
            return -1;
        d->rpc_chain_id = d->chain.chain_id;
        d->rpc_mark = mark;
    }
    store_contract *cs = NULL;
    size_t nc = 0;
    if (store_contract_list(d->db, d->chain.chain_id, &cs, &nc, e) < 0)
        return -1;
    d->has_factory = false;
    d->n_factories = 0;
    for (size_t i = 0; i < nc; i++) {
        if (cs[i].kind != STORE_CONTRACT_FACTORY || d->n_factories == DESK_MAX_FACTORIES)
            continue;
        unsigned v = cs[i].version == 2 ? 2 : 1;
        d->factories[d->n_factories] = cs[i].address;
        d->factory_versions[d->n_factories++] = v;
        if (!d->has_factory || v > d->factory_version) {
            d->factory = cs[i].address;
            d->factory_version = v;
            d->has_factory = true;
        }
    }
    free(cs);
    d->has_chain = true;
    return 0;
}

int desk_use_chain(desk *d, const char *name, const addr *escrow, err *e)
{
    bool found = false;
    if (name) {
        if (store_chain_find_name(d->db, name, &d->chain, &found, e) < 0)
            return -1;
        if (!found)
            return err_set(e, ERR_NOT_FOUND, "no chain named \"%s\" (see `fusion chain list`)",
                           name);
        return connect_chain(d, e);
    }
    if (escrow) {
        store_escrow x;
        if (store_escrow_find(d->db, escrow, &x, &found, e) < 0)
            return -1;
        if (found) {
            if (store_chain_get(d->db, x.chain_id, &d->chain, &found, e) < 0)
                return -1;
            if (found)
                return connect_chain(d, e);
        }
    }
    store_chain *cs = NULL;
    size_t n = 0;
    if (store_chain_list(d->db, &cs, &n, e) < 0)
        return -1;
    if (n == 1)
        d->chain = cs[0];
    free(cs);
    if (n == 0)
        return err_set(e, ERR_NOT_FOUND,
                       "no chain is configured: add one with `fusion chain "
                       "add`");
    if (n > 1)
        return err_set(e, ERR_USAGE, "several chains are configured: pick one with --chain NAME");
    return connect_chain(d, e);
}

/* ---- calls ---- */

int desk_calldata(buf *out, const abi_json *abi, const char *fn, abi_value *args, err *e)
{
    const abi_fn *f = abi_json_function(abi, fn);
    int rc;
    if (!f)
        rc = err_set(e, ERR_INTERNAL, "function %s is not in the contract ABI", fn);
    else if (!args)
        rc = err_set(e, ERR_NOMEM, "out of memory");
    else
        rc = abi_calldata(out, f, args, e);
    abi_value_free(&args);
    return rc;
}

/* Turns a node's error into words: revert data decoded with the ABIs when present. */
static void revert_reason(desk *d, char *out, size_t cap, const rpc_error *re)
{
    buf data;
    buf_init(&data);
    char *words = NULL;
    err e;
    bool has = re->data[0] ? hex_decode_buf(&data, re->data, strlen(re->data), HEX_REQUIRE_PREFIX,
                                            &e) == 0 &&
                                 data.len >= 4
                           : desk_revert_from_message(&data, re->message);
    if (has && desk_revert_words(&words, data.data, data.len, d->abis, DESK_N_ABIS, &e) == 0)
        snprintf(out, cap, "%s", words);
    else if (strstr(re->message, "revert"))
        snprintf(out, cap, "reverted (%s)", strstr(re->message, "revert"));
    else
        snprintf(out, cap, "%s", re->message);
    free(words);
    buf_free(&data);
}

static json_t *call_obj(const addr *from, const addr *to, const uint8_t *data, size_t len,
                        const u256 *value)
{
    json_t *o = json_pack("{s:o, s:o, s:o}", "from", jaddr(from), "to", jaddr(to), "data",
                          jhexs(data, len));
    if (o && value && !u256_is_zero(value)) {
        char q[U256_HEX_MAX];
        u256_to_quantity(q, value);
        json_object_set_new(o, "value", json_string(q));
    }
    return o;
}

int desk_eth_call(desk *d, const addr *to, const buf *data, buf *out, err *e)
{
    json_t *params =
        json_pack("[o, s]", call_obj(&d->op.address, to, data->data, data->len, NULL), "latest");
    json_t *res = NULL;
    int rc = rpc_call(d->rpc, "eth_call", params, &res, e);
    json_decref(params);
    if (rc < 0) {
        const rpc_error *re = rpc_last_error(d->rpc);
        if (re && re->status == RPC_RPC) {
            char why[220];
            revert_reason(d, why, sizeof why, re);
            return err_set(e, ERR_STATE, "%s", why);
        }
        return -1;
    }
    const char *s = json_string_value(res);
    rc = s ? hex_decode_buf(out, s, strlen(s), HEX_REQUIRE_PREFIX, e) : -1;
    if (!s)
        err_set(e, ERR_RPC, "eth_call answered without data");
    json_decref(res);
    return rc;
}

/* Is the transaction known to the node (pending or mined)? -1 when it cannot tell. */
static int node_knows(desk *d, const uint8_t hash[32])
{
    json_t *params = json_pack("[o]", jhash(hash));
    json_t *res = NULL;
    err e;
    int rc = rpc_call(d->rpc, "eth_getTransactionByHash", params, &res, &e);
    json_decref(params);
    if (rc < 0)
        return -1;
    int known = json_is_object(res) ? 1 : 0;
    json_decref(res);
    return known;
}

/* ---- fees and nonce ---- */

typedef struct fees {
    bool eip1559;
    u256 max_fee, priority, gas_price;
} fees;

static int price_gas(desk *d, fees *f, err *e)
{
    memset(f, 0, sizeof *f);
    rpc_fee_history h;
    memset(&h, 0, sizeof h);
    const double pct[] = {50.0};
    err ignore;
    if (rpc_eth_fee_history(d->rpc, 5, "latest", pct, 1, &h, &ignore) == 0 && h.base_fees &&
        !u256_is_zero(&h.base_fees[h.n_blocks])) {
        u256 base = h.base_fees[h.n_blocks], prio;
        if (rpc_eth_max_priority_fee(d->rpc, &prio, &ignore) < 0) {
            /* the median tip of the recent blocks, else 1 gwei */
            prio = u256_from_u64(1000000000u);
            if (h.rewards && h.n_blocks)
                prio = h.rewards[(h.n_blocks - 1) * h.n_percentiles];
        }
        u256 two = u256_from_u64(2), dbl;
        rpc_fee_history_free(&h);
        if (u256_mul(&dbl, &base, &two) < 0 || u256_add(&f->max_fee, &dbl, &prio) < 0)
            return err_set(e, ERR_OVERFLOW, "the base fee is out of range");
        f->priority = prio;
        f->eip1559 = true;
        return 0;
    }
    rpc_fee_history_free(&h);
    if (rpc_eth_gas_price(d->rpc, &f->gas_price, e) < 0)
        return err_prefix(e, "pricing gas on %s", d->chain.name);
    return 0;
}

static int next_nonce(desk *d, uint64_t *nonce, err *e)
{
    uint64_t node = 0, local = 0;
    bool any = false;
    if (rpc_eth_get_transaction_count(d->rpc, &d->op.address, "pending", &node, e) < 0)
        return err_prefix(e, "reading the nonce from %s", d->chain.name);
    if (store_outbound_next_nonce(d->db, d->chain.chain_id, &d->op.address, &local, &any, e) < 0)
        return -1;
    if (any && local > node)
        return err_set(e, ERR_STATE,
                       "nonce gap: %s's next nonce on %s is %llu, but the desk "
                       "has transactions in flight up to nonce %llu that the node does not "
                       "have: run `fusion tx check` to resend them first",
                       d->op.name, d->chain.name, (unsigned long long)node,
                       (unsigned long long)(local - 1));
    *nonce = node;
    return 0;
}

static int unlock_key(desk *d, err *e)
{
    if (d->key && keystore_key_unlocked(d->key))
        return 0;
    if (d->key_borrowed)
        d->key = NULL; /* locked by its owner's idle lock: ask again */
    d->key_borrowed = false;
    keystore_lock(&d->key);
    /* A key the operator already unlocked in this process: no passphrase again (the
     * pre-sign summary and its confirmation still come). */
    ks_key *k = d->key_fn ? d->key_fn(d->key_ctx, &d->op.address) : NULL;
    if (k && keystore_key_unlocked(k) && addr_equal(keystore_key_address(k), &d->op.address)) {
        d->key = k;
        d->key_borrowed = true;
        return 0;
    }
    if (!d->pass_fn)
        return err_set(e, ERR_USAGE, "no way to ask for the passphrase: use --passphrase-file");
    char *pass = sodium_malloc(PASS_CAP);
    if (!pass)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = d->pass_fn(d->pass_ctx, pass, PASS_CAP, e);
    if (rc == 0)
        rc = keystore_unlock(d->ks, &d->op.address, pass, &d->key, e);
    sodium_memzero(pass, PASS_CAP);
    sodium_free(pass);
    if (rc < 0) {
        char a[ADDR_STR_MAX];
        addr_to_checksum(a, &d->op.address);
        return err_prefix(e, "unlocking %s's key %s", d->op.name, a);
    }
    return 0;
}

/* ---- policy ---- */

int desk_policy_check(desk *d, const char *action, const addr *escrow, const addr *payer,
                      const desk_asset *asset, const u256 *amount, const addr *counterparty,
                      unsigned threshold, err *e)
{
    desk_signer sg = {d->op.name, d->roles, d->op.address, 0};
    return desk_policy_check_as(d, &sg, action, escrow, payer, asset, amount, counterparty,
                                threshold, e);
}

int desk_policy_check_as(desk *d, const desk_signer *sg, const char *action, const addr *escrow,
                         const addr *payer, const desk_asset *asset, const u256 *amount,
                         const addr *counterparty, unsigned threshold, err *e)
{
    policy_request r;
    memset(&r, 0, sizeof r);
    r.operator_name = sg->name;
    r.roles = sg->roles;
    r.action = action;
    r.chain = d->chain.name;
    r.dst_chain = d->route_to;
    r.asset_symbol = asset->symbol[0] ? asset->symbol : NULL;
    r.asset = asset->token;
    r.decimals = asset->decimals;
    r.amount = *amount;
    if (counterparty) {
        r.has_counterparty = true;
        r.counterparty = *counterparty;
    }
    r.threshold = threshold;
    if (store_desk_spent(d->db, sg->name, d->chain.chain_id, &asset->token, action,
                         (int64_t)time(NULL) - 86400, sg->outbound_id, &r.spent_24h, e) < 0)
        return -1;
    policy_decision dec;
    if (policy_evaluate(d->pol, &r, &dec, e) < 0)
        return -1;
    char gate_reason[220] = "";
    bool gate_refused = false;
    if (dec.outcome != POLICY_BLOCK && d->gate_fn) {
        desk_gate_request g = {action, d->chain.chain_id, &sg->address, counterparty,
                               &asset->token, amount, escrow, payer};
        gate_refused = d->gate_fn(d->gate_ctx, &g, gate_reason, sizeof gate_reason) != 0;
    }
    char amt[AMOUNT_STR_MAX];
    amount_format(amt, amount, asset->decimals);
    json_t *det = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "action", action,
                            "chain", d->chain.name, "chain_id", (json_int_t)d->chain.chain_id,
                            "asset", asset->symbol, "amount", amt, "decision",
                            gate_refused ? "block" : policy_outcome_str(dec.outcome), "policy_line",
                            (int)dec.line, "reason", gate_refused ? gate_reason : dec.reason,
                            "policy_sha256", d->policy_sha256, "policy_file", d->policy_path);
    if (det && d->route_to)
        json_object_set_new(det, "to_chain", json_string(d->route_to));
    if (det && sg->outbound_id) {
        /* a re-check of a stored transaction, decided for the operator who signed it */
        json_object_set_new(det, "outbound_id", json_integer((json_int_t)sg->outbound_id));
        json_object_set_new(det, "signer", json_string(sg->name));
    }
    desk_audit(d, "policy", det);
    json_decref(det);
    d->last_asset = *asset;
    d->has_last_asset = true;
    if (dec.line)
        snprintf(d->last_rule, sizeof d->last_rule, "%s by line %u of policy.conf: %.220s",
                 policy_outcome_str(dec.outcome), dec.line, dec.reason);
    else
        snprintf(d->last_rule, sizeof d->last_rule, "%s by the built-in default: %.220s",
                 policy_outcome_str(dec.outcome), dec.reason);
    if (gate_refused)
        return err_set(e, ERR_DENIED, "refused by the compliance gate: %s", gate_reason);
    if (dec.outcome == POLICY_BLOCK)
        return err_set(e, ERR_DENIED, "refused before signing: %s", dec.reason);
    return 0;
}

/* ---- the pre-trade risk check of a bridge burn (pretrade.c) ---- */

int desk_pretrade_bridge(desk *d, uint64_t src_chain, uint64_t dst_chain, const addr *token,
                         const u256 *amount, const addr *recipient, err *e)
{
    desk_asset a;
    if (desk_select_chain_id(d, src_chain, e) < 0 || desk_asset_of(d, token, &a, e) < 0)
        return -1;
    risk_move m;
    memset(&m, 0, sizeof m);
    m.asset = a.symbol;
    m.amount = *amount;
    m.decimals = a.decimals;
    m.from_chain_id = src_chain;
    m.to_chain_id = dst_chain;
    return desk_pretrade_move(d, "bridge transfer", &m, recipient, e);
}

/* ---- the pipeline ---- */

static bool confirm(desk *d, const char *text, const json_t *summary)
{
    return d->confirm_fn && d->confirm_fn(d->confirm_ctx, text, summary);
}

static int follow(desk *d, int64_t id, const uint8_t hash[32], const uint8_t *raw, size_t raw_len,
                  bool send, desk_result *res, err *e);

/* The operator as desk.db has it at the moment the signed transaction is recorded (inside
 * that transaction): the policy was checked with the roles read when the desk opened, and
 * the operator may have been asked to confirm for a while since. A role taken away, a key
 * replaced, or the operator removed meanwhile: nothing is recorded or sent. */
static int signer_still(desk *d, const char *action, err *e)
{
    store_operator now;
    bool found = false;
    if (store_operator_get(d->db, d->op.name, &now, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_DENIED, "refused: %s is no longer a desk operator: the %s was "
                       "not recorded or sent", d->op.name, action);
    if (!addr_equal(&now.address, &d->op.address))
        return err_set(e, ERR_DENIED, "refused: %s's key changed since it was unlocked: the %s "
                       "was not recorded or sent", d->op.name, action);
    unsigned had = 0, has = 0;
    if (desk_roles_parse(&had, d->op.roles, e) < 0 || desk_roles_parse(&has, now.roles, e) < 0)
        return -1;
    if ((has & had) != had)
        return err_set(e, ERR_DENIED, "refused: %s's roles changed since the policy check "
                       "(%s, now %s): the %s was not recorded or sent; run it again",
                       d->op.name, d->op.roles, now.roles[0] ? now.roles : "none", action);
    return 0;
}

/* Signs tx through the key store, decodes the signed bytes for the summary and checks
 * they say what c says, asks the operator, records the transaction durably, sends it and
 * follows it. */
static int sign_and_send(desk *d, eth_tx *tx, const desk_call *c, desk_result *res, err *e)
{
    /* 3. sign through the key store. */
    if (unlock_key(d, e) < 0)
        return -1;
    if (!addr_equal(keystore_key_address(d->key), &d->op.address))
        return err_set(e, ERR_INTERNAL, "unlocked key does not match the operator");
    buf raw;
    buf_init(&raw);
    json_t *summary = NULL;
    buf text;
    buf_init(&text);
    int rc = -1;
    int64_t id = 0;
    uint64_t nonce = tx->nonce;
    char s_to[ADDR_STR_MAX];
    addr_to_checksum(s_to, &c->to);
    if (keystore_sign_tx(d->key, tx, &raw, e) < 0)
        goto out;
    /* 4. the summary comes from the signed bytes, decoded again. */
    char payer[STORE_ENTITY_NAME_MAX + ADDR_STR_MAX + 8] = "",
                             payee[STORE_ENTITY_NAME_MAX + ADDR_STR_MAX + 8] = "";
    if (c->has_parties) {
        desk_names *names = NULL;
        err ne; /* without the book the addresses alone are shown */
        if (desk_names_load(&names, d->db, d->ks, &ne) < 0)
            names = NULL;
        desk_names_label(payer, sizeof payer, names, d->chain.chain_id, &c->payer);
        desk_names_label(payee, sizeof payee, names, d->chain.chain_id, &c->payee);
        desk_names_free(&names);
    }
    char note[1400];
    const char *note_p = c->note;
    if (d->risk_note[0]) { /* a risk officer's override of the pre-trade check */
        snprintf(note, sizeof note, "%s%s%s", c->note ? c->note : "", c->note ? "; " : "",
                 d->risk_note);
        note_p = note;
    }
        desk_summary_ctx sc = {d->chain.name,
                           d->chain.chain_id,
                           d->chain.native_symbol,
                           d->chain.native_decimals,
                           d->abis,
                           DESK_N_ABIS,
                           &c->asset,
                           c->has_context_amount,
                           c->context_amount,
                           note_p,
                           c->secret_arg,
                           c->has_parties ? payer : NULL,
                           c->has_parties ? payee : NULL};
    if (desk_summary_render(&summary, &text, raw.data, raw.len, &sc, e) < 0)
        goto out;
    {
        eth_tx back;
        tx_init(&back);
        addr from;
        bool same = tx_decode_raw_for_chain(&back, raw.data, raw.len, d->chain.chain_id, e) == 0 &&
                    tx_recover_sender(&from, &back, e) == 0 && addr_equal(&from, &d->op.address) &&
                    back.has_to && addr_equal(&back.to, &c->to) && back.nonce == nonce &&
                    u256_cmp(&back.value, &c->value) == 0 && back.data.len == c->calldata.len &&
                    (c->calldata.len == 0 ||
                     memcmp(back.data.data, c->calldata.data, c->calldata.len) == 0);
        tx_free(&back);
        if (!same) {
            err_set(e, ERR_INTERNAL,
                    "the signed bytes do not decode to the transaction that "
                    "was built; nothing was sent");
            goto out;
        }
    }
    uint8_t hash[32];
    if (tx_hash(hash, tx, e) < 0)
        goto out;
    if (!confirm(d, (const char *)text.data, summary)) {
        json_t *det = json_pack("{s:s, s:o, s:I}", "action", c->action, "hash", jhash(hash),
                                "nonce", (json_int_t)nonce);
        desk_audit(d, "declined", det);
        json_decref(det);
        err_set(e, ERR_DENIED, "not confirmed: %s was signed but not sent nor recorded", c->action);
        goto out;
    }
    /* 5. record durably before sending: a crash or an RPC error after this point leaves a
     * known signed row that `fusion tx check` resolves by its hash. */
    {
        store_outbound o;
        memset(&o, 0, sizeof o);
        o.chain_id = d->chain.chain_id;
        o.from = d->op.address;
        o.nonce = nonce;
        memcpy(o.hash, hash, 32);
        /* bytes that carry a secret are kept (sealed) by the caller only */
        o.raw = raw.data;
        o.raw_len = c->secret_arg ? 0 : raw.len;
        o.state = OUTBOUND_PENDING;
        o.has_escrow = c->has_escrow;
        o.escrow = c->escrow;
        snprintf(o.action, sizeof o.action, "%s", c->action);
        char *sj = json_dumps(summary, JSON_COMPACT);
        store_desk_tx dt;
        memset(&dt, 0, sizeof dt);
        snprintf(dt.operator_name, sizeof dt.operator_name, "%s", d->op.name);
        dt.asset = c->asset.token;
        dt.amount = c->amount;
        dt.summary = sj;
        int r2 = store_begin_durable(d->db, e);
        if (r2 == 0)
            r2 = signer_still(d, c->action, e);
        if (r2 == 0)
            r2 = store_outbound_add(d->db, &o, &id, e);
        dt.outbound_id = id;
        if (r2 == 0)
            r2 = store_desk_tx_put(d->db, &dt, e);
        if (r2 == 0 && c->hold)
            r2 = c->hold(c->hold_ctx, d->db, id, raw.data, raw.len, hash, e);
        if (r2 == 0)
            r2 = store_commit(d->db, e);
        free(sj);
        if (r2 < 0) {
            store_rollback(d->db);
            err_prefix(e, "recording %s before sending (nothing was sent)", c->action);
            goto out;
        }
    }
    res->outbound_id = id;
    memcpy(res->hash, hash, 32);
    res->state = OUTBOUND_PENDING;
    res->n_txs++;
    {
        json_t *det = json_pack("{s:s, s:I, s:s, s:o, s:I, s:o, s:I}", "action", c->action,
                                "chain_id", (json_int_t)d->chain.chain_id, "to", s_to, "hash",
                                jhash(hash), "nonce", (json_int_t)nonce, "summary",
                                json_incref(summary), "outbound_id", (json_int_t)id);
        if (c->has_escrow)
            json_object_set_new(det, "escrow", jaddr(&c->escrow));
        desk_audit(d, "signed", det);
        json_decref(det);
    }
    rc = follow(d, id, hash, raw.data, raw.len, true, res, e);
out:
    json_decref(summary);
    buf_free(&text);
    buf_free(&raw);
    return rc;
}

int desk_send_call(desk *d, desk_call *c, desk_result *res, err *e)
{
    if (!d->has_chain)
        return err_set(e, ERR_USAGE, "no chain selected");
    char s_to[ADDR_STR_MAX];
    addr_to_checksum(s_to, &c->to);
    /* 1. gas: the node runs the call; a revert here is decoded and nothing is signed. */
    uint64_t gas = 0;
    rpc_call_args ca = {&d->op.address, &c->to, &c->value, c->calldata.data, c->calldata.len};
    if (rpc_eth_estimate_gas(d->rpc, &ca, &gas, e) < 0) {
        const rpc_error *re = rpc_last_error(d->rpc);
        if (re && re->status == RPC_RPC) {
            char why[220];
            revert_reason(d, why, sizeof why, re);
            json_t *det =
                json_pack("{s:s, s:s, s:s}", "action", c->action, "to", s_to, "refused", why);
            desk_audit(d, "refused", det);
            json_decref(det);
            return err_set(e, ERR_STATE, "%s would fail on %s: %s; nothing was signed", c->action,
                           d->chain.name, why);
        }
        return err_prefix(e, "estimating gas for %s", c->action);
    }
    uint64_t gas_limit = gas + gas / 5 + 10000;
    fees f;
    uint64_t nonce = 0;
    if (price_gas(d, &f, e) < 0 || next_nonce(d, &nonce, e) < 0)
        return -1;
    /* 2. the most it can cost must be covered by the balance. */
    u256 bal, maxcost, total, gl = u256_from_u64(gas_limit);
    if (rpc_eth_get_balance(d->rpc, &d->op.address, "pending", &bal, e) < 0)
        return err_prefix(e, "reading the balance");
    if (u256_mul(&maxcost, &gl, f.eip1559 ? &f.max_fee : &f.gas_price) < 0 ||
        u256_add(&total, &maxcost, &c->value) < 0)
        return err_set(e, ERR_OVERFLOW, "the maximum cost overflows");
    if (u256_cmp(&bal, &total) < 0) {
        char have[AMOUNT_STR_MAX], need[AMOUNT_STR_MAX];
        amount_format(have, &bal, d->chain.native_decimals);
        amount_format(need, &total, d->chain.native_decimals);
        return err_set(e, ERR_STATE,
                       "insufficient balance: %s has %s %s, %s needs up to %s %s "
                       "(value + fees); nothing was signed",
                       d->op.name, have, d->chain.native_symbol, c->action, need,
                       d->chain.native_symbol);
    }
    eth_tx tx;
    tx_init(&tx);
    tx.type = f.eip1559 ? TX_EIP1559 : TX_LEGACY;
    tx.chain_id = d->chain.chain_id;
    tx.nonce = nonce;
    tx.gas_limit = gas_limit;
    tx.max_fee = f.max_fee;
    tx.max_priority_fee = f.priority;
    tx.gas_price = f.gas_price;
    tx.has_to = true;
    tx.to = c->to;
    tx.value = c->value;
    int rc = buf_append(&tx.data, c->calldata.data, c->calldata.len, e);
    if (rc == 0)
        rc = sign_and_send(d, &tx, c, res, e);
    tx_free(&tx);
    return rc;
}

/* Sends raw bytes; on a failure the node is asked whether it has the transaction anyway.
 * Returns 1 sent, 0 not sent (e holds why), -1 unknown (e holds why). */
static int broadcast(desk *d, int64_t id, const uint8_t hash[32], const uint8_t *raw, size_t len,
                     err *e)
{
    uint8_t got[32];
    if (rpc_eth_send_raw_transaction(d->rpc, raw, len, got, e) == 0) {
        if (store_outbound_set_state(d->db, id, OUTBOUND_SENT, 0, time(NULL), e) < 0)
            return -1;
        return 1;
    }
    char why[ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", e->msg);
    int known = node_knows(d, hash);
    err ignore;
    if (known == 1) {
        if (store_outbound_set_state(d->db, id, OUTBOUND_SENT, 0, time(NULL), e) < 0)
            return -1;
        return 1;
    }
    const rpc_error *re = rpc_last_error(d->rpc);
    bool rejected = known == 0 && re && re->status == RPC_RPC;
    if (store_desk_tx_set_error(d->db, id, why, &ignore) < 0)
        LOG_E("desk", "cannot record the send error of transaction %lld", (long long)id);
    err_set(e, ERR_RPC, "%s", why);
    return rejected ? 0 : -1;
}

static int find_created_escrow(desk *d, uint64_t block, const uint8_t hash[32], addr *out, err *e)
{
    const abi_fn *ev1 = abi_json_event(d->factory_abi, "EscrowCreated");
    const abi_fn *ev2 = abi_json_event(d->factory2_abi, "EscrowCreated");
    if (!ev1 || !ev2 || !d->n_factories)
        return err_set(e, ERR_INTERNAL, "no factory to read EscrowCreated from");
    uint8_t t0[2][32];
    memcpy(t0[0], ev1->topic0, 32);
    memcpy(t0[1], ev2->topic0, 32);
    rpc_log_filter f = {block, block, d->factories, d->n_factories, (const uint8_t(*)[32])t0, 2};
    rpc_log_list l;
    memset(&l, 0, sizeof l);
    if (rpc_eth_get_logs(d->rpc, &f, &l, e) < 0)
        return -1;
    int rc = err_set(e, ERR_NOT_FOUND, "the create transaction emitted no EscrowCreated");
    for (size_t i = 0; i < l.n; i++)
        if (memcmp(l.items[i].tx_hash, hash, 32) == 0 && l.items[i].n_topics >= 2) {
            memcpy(out->b, l.items[i].topics[1] + 12, ADDR_LEN);
            rc = 0;
        }
    rpc_log_list_free(&l);
    if (rc == 0)
        err_clear(e);
    return rc;
}

/* Why a mined transaction failed: the call replayed at its block's parent. */
static void failure_reason(desk *d, const uint8_t *raw, size_t len, uint64_t block, char *out,
                           size_t cap)
{
    snprintf(out, cap, "reverted on chain");
    eth_tx tx;
    tx_init(&tx);
    addr from;
    err e;
    if (tx_decode_raw(&tx, raw, len, &e) < 0 || tx_recover_sender(&from, &tx, &e) < 0) {
        tx_free(&tx);
        return;
    }
    char tag[32];
    snprintf(tag, sizeof tag, "0x%llx", (unsigned long long)(block ? block - 1 : 0));
    json_t *params =
        json_pack("[o, s]", call_obj(&from, &tx.to, tx.data.data, tx.data.len, &tx.value), tag);
    json_t *r = NULL;
    if (rpc_call(d->rpc, "eth_call", params, &r, &e) < 0) {
        const rpc_error *re = rpc_last_error(d->rpc);
        if (re && re->status == RPC_RPC)
            revert_reason(d, out, cap, re);
    }
    json_decref(r);
    json_decref(params);
    tx_free(&tx);
}

/* The one check before a stored transaction goes to the node again (desk_resend_check):
 * how says what would happen ("sent again", "replaced"). A refusal gets an audit row and
 * one line naming the reason; nothing is sent. */
static int resend_allowed(desk *d, const store_outbound *o, const uint8_t *raw, size_t len,
                          const char *how, desk_asset *asset, err *e)
{
    if (desk_resend_check(d, o, raw, len, asset, e) == 0)
        return 0;
    char hs[67];
    hex_encode(hs, sizeof hs, o->hash, 32, true);
    char why[ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", e->msg);
    json_t *det = json_pack("{s:I, s:o, s:s, s:s, s:s}", "outbound_id", (json_int_t)o->id, "hash",
                            jhash(o->hash), "action", o->action, "would_be", how, "refused", why);
    desk_audit(d, "resend_refused", det);
    json_decref(det);
    if (e->code != ERR_DENIED)
        return err_set(e, e->code,
                       "tx %lld (%s) not %s: it could not be checked again (%.300s); nothing "
                       "was sent",
                       (long long)o->id, o->action, how, why);
    return err_set(e, ERR_DENIED,
                   "tx %lld (%s) not %s: %.400s; nothing was sent (`fusion tx cancel %lld` "
                   "takes its nonce back)",
                   (long long)o->id, o->action, how, why, (long long)o->id);
}

/* A transaction waiting in the node's pool whose action the policy or the gate refuses now
 * (desk_resend_check): true with e saying so and how to stop it (an audit row); false when
 * it is allowed, or when it cannot be checked (the node has it either way). */
static bool pooled_refused(desk *d, const store_outbound *o, const uint8_t *raw, size_t len,
                           err *e)
{
    err ce;
    err_clear(&ce);
    if (desk_resend_check(d, o, raw, len, NULL, &ce) == 0 || ce.code != ERR_DENIED) {
        if (ce.code != ERR_OK)
            LOG_W("desk", "tx %lld in the node's pool could not be checked again: %s",
                  (long long)o->id, ce.msg);
        return false;
    }
    json_t *det = json_pack("{s:I, s:o, s:s, s:s, s:s}", "outbound_id", (json_int_t)o->id, "hash",
                            jhash(o->hash), "action", o->action, "would_be", "mined from the pool",
                            "refused", ce.msg);
    desk_audit(d, "resend_refused", det);
    json_decref(det);
    err_set(e, ERR_DENIED,
            "tx %lld (%s) is waiting in the node's pool but is refused now: %.400s; "
            "`fusion tx cancel %lld` replaces it before it is mined",
            (long long)o->id, o->action, ce.msg, (long long)o->id);
    return true;
}

/* resend_allowed for the recorded transaction id. */
static int resend_allowed_id(desk *d, int64_t id, const uint8_t *raw, size_t len, err *e)
{
    store_outbound o;
    uint8_t *stored = NULL;
    bool found = false;
    if (store_outbound_get(d->db, id, &o, &stored, &found, e) < 0)
        return -1;
    free(stored);
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "transaction %lld is no longer recorded", (long long)id);
    return resend_allowed(d, &o, raw, len, "sent again", NULL, e);
}

/* Follows one recorded transaction: send (unless the node has it already), receipt,
 * confirmation depth. */
static int follow(desk *d, int64_t id, const uint8_t hash[32], const uint8_t *raw, size_t raw_len,
                  bool send, desk_result *res, err *e)
{
    char hs[67];
    hex_encode(hs, sizeof hs, hash, 32, true);
    int b = 1;
    if (send)
        b = broadcast(d, id, hash, raw, raw_len, e);
    else if (store_outbound_set_state(d->db, id, OUTBOUND_SENT, 0, time(NULL), e) < 0)
        return -1;
    if (b == 0) {
        err ignore;
        if (store_outbound_set_state(d->db, id, OUTBOUND_FAILED, 0, time(NULL), &ignore) < 0)
            LOG_E("desk", "cannot mark transaction %lld failed", (long long)id);
        res->state = OUTBOUND_FAILED;
        return err_prefix(e, "the node refused transaction %s (recorded as failed, not sent)", hs);
    }
    if (b < 0) {
        {
            char cause[96];
            snprintf(cause, sizeof cause, "%.95s", e->msg);
            return err_set(e, ERR_RPC,
                           "not known whether tx %lld reached the node (%s): it is "
                           "recorded as signed; run `fusion tx check` to resend or resolve it",
                           (long long)id, cause);
        }
    }
    res->state = OUTBOUND_SENT;
    if (send)
        desk_say(d, "sent %s", hs);
    if (d->wait_s == 0)
        return 0;
    uint64_t until = mono_ms() + (uint64_t)d->wait_s * 1000u, last_check = mono_ms();
    rpc_receipt rcpt;
    bool found = false;
    while (mono_ms() < until) {
        if (rpc_eth_get_transaction_receipt(d->rpc, hash, &rcpt, &found, e) < 0)
            return err_prefix(e, "following %s (recorded as sent; `fusion tx check` resumes)", hs);
        if (found)
            break;
        if (mono_ms() - last_check > 3000) {
            last_check = mono_ms();
            if (node_knows(d, hash) == 0) {
                /* it goes again only if its action still passes the policy and the gate */
                if (resend_allowed_id(d, id, raw, raw_len, e) < 0)
                    return -1;
                desk_say(d, "the node lost %s: sending the same signed bytes again", hs);
                err ignore;
                if (broadcast(d, id, hash, raw, raw_len, &ignore) != 1)
                    LOG_W("desk", "resending %s failed: %s", hs, ignore.msg);
            }
        }
        sleep_ms(200);
    }
    if (!found) {
        desk_say(d, "%s not mined after %u s: it stays recorded as sent (`fusion tx check`)", hs,
                 d->wait_s);
        return 0;
    }
    res->block = rcpt.block_number;
    if (!rcpt.success) {
        char why[220];
        failure_reason(d, raw, raw_len, rcpt.block_number, why, sizeof why);
        err ignore;
        if (store_outbound_set_state(d->db, id, OUTBOUND_FAILED, rcpt.block_number, time(NULL),
                                     &ignore) < 0 ||
            store_desk_tx_set_error(d->db, id, why, &ignore) < 0)
            LOG_E("desk", "cannot mark transaction %lld failed", (long long)id);
        res->state = OUTBOUND_FAILED;
        json_t *det = json_pack("{s:o, s:I, s:s}", "hash", jhash(hash), "block",
                                (json_int_t)rcpt.block_number, "reason", why);
        desk_audit(d, "failed", det);
        json_decref(det);
        return err_set(e, ERR_STATE, "transaction %s failed in block %llu: %s", hs,
                       (unsigned long long)rcpt.block_number, why);
    }
    if (store_outbound_set_state(d->db, id, OUTBOUND_MINED, rcpt.block_number, time(NULL), e) < 0 ||
        store_outbound_mark_replaced(d->db, id, e) < 0)
        return -1;
    res->state = OUTBOUND_MINED;
    desk_say(d, "mined in block %llu (gas used %llu)", (unsigned long long)rcpt.block_number,
             (unsigned long long)rcpt.gas_used);
    uint64_t want = rcpt.block_number + d->chain.confirmations, head = 0;
    while (mono_ms() < until) {
        if (rpc_eth_block_number(d->rpc, &head, e) < 0)
            return err_prefix(e, "following %s", hs);
        if (head >= want)
            break;
        sleep_ms(250);
    }
    if (head < want) {
        desk_say(d, "%u confirmations not reached yet (head %llu): `fusion tx check` follows it",
                 d->chain.confirmations, (unsigned long long)head);
        return 0;
    }
    /* Still there at depth (a reorg would have moved or dropped it)? */
    if (rpc_eth_get_transaction_receipt(d->rpc, hash, &rcpt, &found, e) < 0)
        return -1;
    if (!found) {
        desk_say(d, "%s left the chain (reorg): `fusion tx check` resends it", hs);
        return store_outbound_set_state(d->db, id, OUTBOUND_SENT, 0, time(NULL), e);
    }
    if (store_outbound_set_state(d->db, id, OUTBOUND_CONFIRMED, rcpt.block_number, time(NULL), e) <
        0)
        return -1;
    res->state = OUTBOUND_CONFIRMED;
    desk_say(d, "confirmed (%u confirmations)", d->chain.confirmations);
    json_t *det = json_pack("{s:o, s:I, s:I}", "hash", jhash(hash), "block",
                            (json_int_t)rcpt.block_number, "outbound_id", (json_int_t)id);
    desk_audit(d, "confirmed", det);
    json_decref(det);
    return 0;
}

/* Used by escrow.c after a create is mined. */
int desk_created_escrow(desk *d, desk_result *res, err *e);
int desk_created_escrow(desk *d, desk_result *res, err *e)
{
    if (res->state != OUTBOUND_MINED && res->state != OUTBOUND_CONFIRMED)
        return 0;
    if (find_created_escrow(d, res->block, res->hash, &res->escrow, e) < 0)
        return -1;
    res->has_escrow = true;
    return store_outbound_set_escrow(d->db, res->outbound_id, &res->escrow, e);
}

/* ---- replacing (speed up, cancel) ---- */

/* v * 9/8 + 1: at least the 10 % nodes demand of a replacement, rounded up. */
static int bump(u256 *out, const u256 *v, const u256 *floor_v, err *e)
{
    u256 nine = u256_from_u64(9), eight = u256_from_u64(8), one = u256_from_u64(1), q, r, m;
    if (u256_mul(&m, v, &nine) < 0 || u256_divmod(&q, &r, &m, &eight) < 0 ||
        u256_add(out, &q, &one) < 0)
        return err_set(e, ERR_OVERFLOW, "fee out of range");
    if (floor_v && u256_cmp(out, floor_v) < 0)
        *out = *floor_v;
    return 0;
}

int desk_tx_replace(desk *d, int64_t id, bool cancel, desk_result *res, err *e)
{
    memset(res, 0, sizeof *res);
    store_outbound o;
    uint8_t *raw = NULL;
    bool found = false;
    if (store_outbound_get(d->db, id, &o, &raw, &found, e) < 0)
        return -1;
    eth_tx tx;
    tx_init(&tx);
    desk_call c;
    memset(&c, 0, sizeof c);
    int rc = -1;
    if (!found) {
        err_set(e, ERR_NOT_FOUND, "no transaction %lld in this desk", (long long)id);
        goto out;
    }
    if (o.state != OUTBOUND_PENDING && o.state != OUTBOUND_SENT) {
        err_set(e, ERR_STATE, "transaction %lld is %s: only one in flight can be replaced",
                (long long)id, outbound_state_str(o.state));
        goto out;
    }
    if (!addr_equal(&o.from, &d->op.address)) {
        err_set(e, ERR_DENIED, "transaction %lld was sent by another key than %s's", (long long)id,
                d->op.name);
        goto out;
    }
    if (o.raw_len == 0) {
        err_set(e, ERR_STATE,
                "transaction %lld carries a swap's secret and its signed bytes are kept sealed "
                "by the swap: `fusion xswap resume` sends it again",
                (long long)id);
        goto out;
    }
    bool cf = false;
    if (store_chain_get(d->db, o.chain_id, &d->chain, &cf, e) < 0 || !cf || connect_chain(d, e) < 0)
        goto out;
    if (tx_decode_raw_for_chain(&tx, raw, o.raw_len, o.chain_id, e) < 0)
        goto out;
    /* A speed-up re-signs the action: it must pass the policy and the gate again now. A
     * cancel moves no money and stays possible (it is how a refused one is taken back). */
    desk_asset asset;
    memset(&asset, 0, sizeof asset);
    snprintf(asset.symbol, sizeof asset.symbol, "%s", d->chain.native_symbol);
    asset.decimals = d->chain.native_decimals;
    if (!cancel && resend_allowed(d, &o, raw, o.raw_len, "replaced", &asset, e) < 0)
        goto out;
    store_desk_tx dt;
    bool has_dt = false;
    if (!cancel && store_desk_tx_get(d->db, o.id, &dt, &has_dt, e) < 0)
        goto out;
    if (has_dt)
        free(dt.summary);
    fees now;
    if (price_gas(d, &now, e) < 0)
        goto out;
    if (tx.type == TX_EIP1559) {
        if (bump(&tx.max_priority_fee, &tx.max_priority_fee, now.eip1559 ? &now.priority : NULL,
                 e) < 0 ||
            bump(&tx.max_fee, &tx.max_fee, now.eip1559 ? &now.max_fee : NULL, e) < 0)
            goto out;
        if (u256_cmp(&tx.max_fee, &tx.max_priority_fee) < 0)
            tx.max_fee = tx.max_priority_fee;
    } else if (bump(&tx.gas_price, &tx.gas_price, now.eip1559 ? NULL : &now.gas_price, e) < 0) {
        goto out;
    }
    tx.is_signed = false;
    /* A sped-up call keeps its action (a create is still a create); a cancel is new. */
    char action[sizeof o.action];
    snprintf(action, sizeof action, "%s", o.action);
    c.action = cancel ? "cancel" : action;
    c.asset = asset;
    if (has_dt) /* the replacement commits what the replaced one did (velocity) */
        c.amount = dt.amount;
    c.has_escrow = o.has_escrow;
    c.escrow = o.escrow;
    char note[96];
    snprintf(note, sizeof note, "%s: replaces tx %lld (%s) with the same nonce %llu",
             cancel ? "cancel" : "speed-up", (long long)id, o.action, (unsigned long long)o.nonce);
    c.note = note;
    if (cancel) {
        tx.to = d->op.address;
        tx.value = u256_from_u64(0);
        buf_reset(&tx.data);
        tx.gas_limit = 21000;
    }
    c.to = tx.to;
    c.value = tx.value;
    if (buf_append(&c.calldata, tx.data.data, tx.data.len, e) < 0)
        goto out;
    rc = sign_and_send(d, &tx, &c, res, e);
out:
    buf_free(&c.calldata);
    tx_free(&tx);
    free(raw);
    return rc;
}

/* ---- checking what is in flight ---- */

/* The book on a server: an action whose server COMMIT's answer was lost, the server away
 * past the wait bound, left its row there pending (never sent) and none in desk.db. Such a
 * row of this operator's key is recorded dropped there once it can never be mined: the node
 * lacks its hash and another transaction took its nonce (what the loop below does with
 * desk.db's own rows); one whose nonce is still free is left (whoever holds its bytes may
 * still send them). A row another key signed is never looked at. */
static int sweep_orphans(desk *d, uint64_t only_chain, err *e)
{
    store_outbound *rows = NULL;
    size_t n = 0;
    if (store_outbound_book_orphans(d->db, &d->op.address, &rows, &n, e) < 0)
        return err_prefix(e, "looking for orphan transactions on the book server");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const store_outbound *o = &rows[i];
        if (only_chain && o->chain_id != only_chain)
            continue; /* `tx check --chain`: that chain's alone */
        char hs[67];
        hex_encode(hs, sizeof hs, o->hash, 32, true);
        err why;
        const char *left = NULL;
        uint64_t node_nonce = 0;
        int known = -1;
        if (desk_select_chain_id(d, o->chain_id, &why) < 0)
            left = "its chain cannot be asked";
        else if ((known = node_knows(d, o->hash)) != 0)
            left = known == 1 ? "the node has it" : "the node did not answer";
        else if (rpc_eth_get_transaction_count(d->rpc, &o->from, "latest", &node_nonce, &why) < 0)
            left = "the node did not answer";
        else if (node_nonce <= o->nonce)
            left = "its nonce is still free";
        bool done = false;
        if (!left) {
            rc = store_outbound_book_drop(d->db, o, &done, e);
            if (rc == 0 && !done)
                left = "it changed on the server or is younger than the wait bound";
        }
        if (rc == 0)
            desk_say(d,
                     "tx %lld %s on the book server (%s, nonce %llu): pending, not in this "
                     "desk.db: %s%s",
                     (long long)o->id, hs, o->action, (unsigned long long)o->nonce,
                     done ? "never sent, another transaction took its nonce: recorded dropped "
                            "there"
                          : "left as it is: ",
                     done ? "" : left);
    }
    free(rows);
    return rc;
}

int desk_tx_check(desk *d, err *e)
{
    int64_t *ids = NULL;
    size_t n = 0;
    /* the book on a server: what desk.db recorded while it was away goes there first */
    size_t pushed = 0;
    if (store_has_book(d->db)) {
        if (store_outbound_book_push(d->db, &pushed, e) < 0)
            return -1;
        desk_say(d, "%zu transaction%s recorded on the book server", pushed,
                 pushed == 1 ? "" : "s");
    }
    uint64_t only_chain = d->has_chain ? d->chain.chain_id : 0;
    if (store_outbound_in_flight(d->db, only_chain, &ids, &n, e) < 0)
        return -1;
    if (n == 0)
        desk_say(d, "nothing in flight");
    int rc = 0;
    bool refused = false;
    err refusal;
    err_clear(&refusal);
    for (size_t i = 0; i < n && rc == 0; i++) {
        store_outbound o;
        uint8_t *raw = NULL;
        bool found = false;
        if (store_outbound_get(d->db, ids[i], &o, &raw, &found, e) < 0) {
            rc = -1;
            break;
        }
        if (!found) {
            free(raw);
            continue;
        }
        if (!d->has_chain || d->chain.chain_id != o.chain_id) {
            bool cf = false;
            if (store_chain_get(d->db, o.chain_id, &d->chain, &cf, e) < 0 || !cf ||
                connect_chain(d, e) < 0) {
                free(raw);
                rc = -1;
                break;
            }
        }
        char hs[67];
        hex_encode(hs, sizeof hs, o.hash, 32, true);
        rpc_receipt rcpt;
        bool mined = false;
        if (rpc_eth_get_transaction_receipt(d->rpc, o.hash, &rcpt, &mined, e) < 0) {
            free(raw);
            rc = -1;
            break;
        }
        desk_result res;
        memset(&res, 0, sizeof res);
        res.outbound_id = o.id;
        memcpy(res.hash, o.hash, 32);
        int known = mined ? 1 : node_knows(d, o.hash);
        uint64_t node_nonce = 0;
        err ignore;
        bool nonce_ok =
            rpc_eth_get_transaction_count(d->rpc, &o.from, "latest", &node_nonce, &ignore) == 0;
        if (!mined && known == 0 && nonce_ok && node_nonce > o.nonce) {
            /* Its nonce is used by another transaction: this one can never be mined. */
            size_t sib = 0;
            rc = store_outbound_siblings(d->db, o.id, &sib, e);
            desk_say(d, "tx %lld (%s, nonce %llu): %s; it will never be mined (%s)",
                     (long long)o.id, o.action, (unsigned long long)o.nonce,
                     sib ? "replaced by its speed-up or cancel"
                         : "replaced by another transaction from this account",
                     hs);
            if (rc == 0)
                rc = store_outbound_set_state(
                    d->db, o.id, sib ? OUTBOUND_REPLACED : OUTBOUND_DROPPED, 0, time(NULL), e);
        } else {
            bool send = !mined && known != 1;
            if (send && o.raw_len == 0) {
                /* a swap's claim: its bytes carry the secret and only the swap keeps them */
                desk_say(d, "tx %lld %s (%s): its signed bytes are kept sealed by its swap: "
                            "`fusion xswap resume` sends it again",
                         (long long)o.id, hs, o.action);
                free(raw);
                continue;
            }
            json_t *det = json_pack("{s:I, s:o, s:s}", "outbound_id", (json_int_t)o.id, "hash",
                                    jhash(o.hash), "found",
                                    mined   ? "mined"
                                    : known ? "pool"
                                            : "absent");
            desk_audit(d, "check", det);
            json_decref(det);
            /* A send goes only if its action still passes the policy and the gate; a
             * refused one is left as it is, and the others in flight are still looked at. */
            if (send && resend_allowed(d, &o, raw, o.raw_len, "sent again", NULL, e) < 0) {
                desk_say(d, "tx %lld %s (%s, nonce %llu): not sent again: %s", (long long)o.id,
                         hs, o.action, (unsigned long long)o.nonce,
                         e->code == ERR_DENIED ? "refused" : "it could not be checked");
                if (!refused)
                    refusal = *e;
                refused = true;
                free(raw);
                continue;
            }
            /* One waiting in the pool can still be mined: if its action is refused now,
             * only a cancel (same nonce, higher fees) keeps it from moving money. */
            if (!mined && known == 1 && o.raw_len && pooled_refused(d, &o, raw, o.raw_len, e)) {
                desk_say(d, "tx %lld %s (%s, nonce %llu): waiting in the node's pool, refused now",
                         (long long)o.id, hs, o.action, (unsigned long long)o.nonce);
                if (!refused)
                    refusal = *e;
                refused = true;
                free(raw);
                continue;
            }
            if (!mined && known == 0)
                desk_say(d,
                         "tx %lld %s (%s, nonce %llu) is not known to the node: resending "
                         "the same signed bytes",
                         (long long)o.id, hs,
                         o.state == OUTBOUND_PENDING ? "signed, never sent" : "dropped",
                         (unsigned long long)o.nonce);
            else
                desk_say(d, "tx %lld %s: %s", (long long)o.id, hs,
                         mined ? "mined" : "waiting in the node's pool");
            rc = follow(d, o.id, o.hash, raw, o.raw_len, send, &res, e);
            if (rc == 0 && strcmp(o.action, "create") == 0 && !o.has_escrow)
                rc = desk_created_escrow(d, &res, e);
        }
        free(raw);
    }
    free(ids);
    if (rc == 0 && store_has_book(d->db))
        rc = sweep_orphans(d, only_chain, e);
    if (rc == 0 && refused) {
        *e = refusal;
        return -1;
    }
    return rc;
}

/* ---- steps of another state machine (src/xswap) ---- */

int desk_select_chain_id(desk *d, uint64_t chain_id, err *e)
{
    bool found = false;
    if (d->has_chain && d->chain.chain_id == chain_id && d->rpc)
        return 0;
    if (store_chain_get(d->db, chain_id, &d->chain, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "chain %llu is not configured in this desk",
                       (unsigned long long)chain_id);
    return connect_chain(d, e);
}

int desk_step_send(desk *d, const desk_step *s, desk_result *res, err *e)
{
    memset(res, 0, sizeof *res);
    if (desk_select_chain_id(d, s->chain_id, e) < 0)
        return -1;
    desk_asset asset;
    if (desk_asset_of(d, &s->token, &asset, e) < 0)
        return -1;
    d->route_to = s->route_to;
    int prc = desk_policy_check(d, s->action, NULL, s->payer, &asset, &s->amount, s->payee, 0, e);
    d->route_to = NULL;
    if (prc < 0)
        return -1;
    desk_call c;
    memset(&c, 0, sizeof c);
    c.action = s->action;
    c.to = s->to;
    c.value = s->value;
    c.asset = asset;
    c.amount = s->amount;
    c.has_context_amount = true;
    c.context_amount = s->amount;
    c.note = s->note;
    c.secret_arg = s->secret_arg;
    c.hold = s->hold;
    c.hold_ctx = s->hold_ctx;
    int rc = buf_append(&c.calldata, s->data, s->len, e);
    if (rc == 0)
        rc = desk_send_call(d, &c, res, e);
    if (c.calldata.data)
        sodium_memzero(c.calldata.data, c.calldata.len);
    buf_free(&c.calldata);
    return rc;
}

int desk_sign_message(desk *d, uint8_t sig[65], const char *msg, size_t len, err *e)
{
    if (unlock_key(d, e) < 0)
        return -1;
    return keystore_sign_message(d->key, sig, msg, len, e);
}

const store_operator *desk_operator(const desk *d)
{
    return &d->op;
}
