/* seed.c: the demo desk's seed, from data/demo/: operators (their anvil dev keys go into
 * the key store under the demo passphrase, labelled "name (role)"; those with a desk role
 * become desk operators), test tokens minted to the traders on every chain, and the
 * entities, stored through the compliance registry (audited) with their addresses linked
 * on every devnet chain, and the demo desk's risk limits (<home>/risk-limits.csv). Idempotent:
 * a second run adds nothing. */
#include "devnet/devnet_priv.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/bytes.h"
#include "base/fsperm.h"
#include "base/log.h"
#include "compliance/compliance.h"
#include "desk/desk.h"

#define LINE_MAX_ 512
#define MAX_FIELDS 12

/* Splits a CSV line without quoting (the demo files have none) in place. */
static size_t split(char *line, char *fields[MAX_FIELDS])
{
    line[strcspn(line, "\r\n")] = '\0';
    size_t n = 0;
    char *p = line;
    while (n < MAX_FIELDS) {
        fields[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

typedef int (*row_fn)(void *user, char **f, size_t n, const char *where, err *e);

static int csv_each(const char *rel, size_t min_fields, row_fn fn, void *user, err *e)
{
    char path[4096];
    if (devnet_data_path(path, sizeof path, rel, e) < 0)
        return -1;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return err_set(e, ERR_IO, "cannot read %s", path);
    char line[LINE_MAX_];
    size_t lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        if (++lineno == 1 || line[0] == '\n' || line[0] == '#')
            continue;
        char *f[MAX_FIELDS];
        size_t n = split(line, f);
        char where[4200];
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        if (n < min_fields)
            rc = err_set(e, ERR_INVALID, "%s: expected %zu fields", where, min_fields);
        else
            rc = fn(user, f, n, where, e);
    }
    fclose(fp);
    return rc;
}

typedef struct ops_acc {
    devnet_operator *ops;
    size_t n;
} ops_acc;

static int op_row(void *user, char **f, size_t n, const char *where, err *e)
{
    (void)n;
    ops_acc *a = user;
    if (a->n == DEVNET_MAX_OPERATORS)
        return err_set(e, ERR_INVALID, "%s: more than %d operators", where, DEVNET_MAX_OPERATORS);
    devnet_operator *o = &a->ops[a->n];
    memset(o, 0, sizeof *o);
    char *end;
    unsigned long k = strtoul(f[2], &end, 10);
    if (!*f[0] || !*f[1] || *end || end == f[2] || k == 0 || k >= DEVNET_DEV_KEYS)
        return err_set(e, ERR_INVALID, "%s: want name,role,dev_key (1..%d; 0 is the deployer)",
                       where, DEVNET_DEV_KEYS - 1);
    snprintf(o->name, sizeof o->name, "%s", f[0]);
    snprintf(o->role, sizeof o->role, "%s", f[1]);
    o->dev_key = (unsigned)k;
    snprintf(o->label, sizeof o->label, "%s (%s)", o->name, o->role);
    a->n++;
    return 0;
}

int devnet_operators_load(devnet_operator out[DEVNET_MAX_OPERATORS], size_t *n, err *e)
{
    ops_acc a = {out, 0};
    *n = 0;
    if (csv_each("demo/operators.csv", 3, op_row, &a, e) < 0)
        return -1;
    *n = a.n;
    return 0;
}

const devnet_operator *devnet_operator_by_role(const devnet_operator *ops, size_t n,
                                               const char *role)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ops[i].role, role) == 0)
            return &ops[i];
    return NULL;
}

typedef struct party_acc {
    devnet_party *items;
    size_t n, cap;
} party_acc;

static int party_row(void *user, char **f, size_t n, const char *where, err *e)
{
    (void)n;
    party_acc *a = user;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        devnet_party *p = realloc(a->items, cap * sizeof *p);
        if (!p)
            return err_set(e, ERR_NOMEM, "out of memory reading counterparties");
        a->items = p;
        a->cap = cap;
    }
    devnet_party *p = &a->items[a->n];
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", f[0]);
    if (addr_parse(&p->address, f[1], e) < 0)
        return err_prefix(e, "%s", where);
    if (strcmp(f[2], "entity") && strcmp(f[2], "unknown") && strcmp(f[2], "sanctioned"))
        return err_set(e, ERR_INVALID, "%s: status must be entity, unknown or sanctioned", where);
    snprintf(p->status, sizeof p->status, "%s", f[2]);
    a->n++;
    return 0;
}

int devnet_parties_load(devnet_party **out, size_t *n, err *e)
{
    party_acc a = {NULL, 0, 0};
    *out = NULL;
    *n = 0;
    if (csv_each("demo/counterparties.csv", 3, party_row, &a, e) < 0) {
        free(a.items);
        return -1;
    }
    *out = a.items;
    *n = a.n;
    return 0;
}

/* One row of data/demo/entities.csv, validated. */
typedef struct seed_entity {
    store_entity x;
    uint64_t chain_id; /* 0: link the address on every devnet chain */
    addr address;
} seed_entity;

#define MAX_SEED_ENTITIES 32

typedef struct entity_acc {
    seed_entity items[MAX_SEED_ENTITIES];
    size_t n;
} entity_acc;

static int entity_row(void *user, char **f, size_t n, const char *where, err *e)
{
    entity_acc *a = user;
    if (n < 10)
        return err_set(e, ERR_INVALID,
                       "%s: want id,name,kyc,kyc_expires,jurisdiction,chain_id,address,type,tier,"
                       "risk",
                       where);
    if (a->n == MAX_SEED_ENTITIES)
        return err_set(e, ERR_INVALID, "%s: more than %d entities", where, MAX_SEED_ENTITIES);
    seed_entity *s = &a->items[a->n];
    memset(s, 0, sizeof *s);
    snprintf(s->x.name, sizeof s->x.name, "%s", f[1]);
    snprintf(s->x.kyc, sizeof s->x.kyc, "%s", f[2]);
    snprintf(s->x.kyc_expires, sizeof s->x.kyc_expires, "%s", f[3]);
    snprintf(s->x.jurisdiction, sizeof s->x.jurisdiction, "%s", f[4]);
    snprintf(s->x.type, sizeof s->x.type, "%s", f[7]);
    snprintf(s->x.risk, sizeof s->x.risk, "%s", f[9]);
    char *end;
    s->x.tier = (int)strtol(f[8], &end, 10);
    if (*end || end == f[8])
        return err_set(e, ERR_INVALID, "%s: tier '%s' is not a number 1..5", where, f[8]);
    unsigned long long cid = strtoull(f[5], &end, 10);
    if (*end || end == f[5])
        return err_set(e, ERR_INVALID, "%s: chain_id '%s' is not a number (0: every chain)", where,
                       f[5]);
    s->chain_id = cid;
    if (addr_parse(&s->address, f[6], e) < 0)
        return err_prefix(e, "%s", where);
    if (compliance_entity_check(&s->x, e) < 0)
        return err_prefix(e, "%s", where);
    a->n++;
    return 0;
}

/* Stores the entities through the compliance registry (audited) and links each one's
 * address on every devnet chain (or the one chain of its row); entities already there
 * (by name: a second demo run) are kept as they are. */
static int store_entities(store *db, const compliance_actor *act, const entity_acc *acc,
                          devnet_seed_report *out, err *e)
{
    for (size_t i = 0; i < acc->n; i++) {
        const seed_entity *s = &acc->items[i];
        store_entity x;
        bool found = false;
        if (store_entity_find_name(db, s->x.name, &x, &found, e) < 0)
            return -1;
        if (!found) {
            x = s->x;
            if (compliance_entity_add(db, act, &x, e) < 0)
                return err_prefix(e, "entity \"%s\"", s->x.name);
            out->entities_new++;
        }
        for (size_t c = 0; c < DEVNET_N_CHAINS; c++) {
            uint64_t cid = devnet_chain(c)->chain_id;
            if (s->chain_id && s->chain_id != cid)
                continue;
            int64_t linked = 0;
            if (store_entity_find_addr(db, cid, &s->address, &linked, e) < 0)
                return -1;
            if (linked == x.id)
                continue;
            if (compliance_entity_link(db, act, x.id, cid, &s->address, e) < 0)
                return err_prefix(e, "linking entity \"%s\"", s->x.name);
            out->links_new++;
        }
    }
    out->entities_stored = true;
    return 0;
}

/* The demo desk is a signed desk like any other: its admin (the key that deployed the
 * devnet, anvil #0) signs the genesis, and each seeded decision is signed by the operator
 * who makes it. The keys are anvil's public dev keys under the demo passphrase, so the
 * seed can sign as them; it installs the same audit signer the CLI installs. */
#define SEED_ADMIN "admin"

static int seed_sign(void *ctx, uint8_t sig65[65], const uint8_t digest[32], err *e)
{
    return keystore_sign_typed(ctx, sig65, digest, e);
}

static void seed_signer(const char *name, ks_key *key)
{
    audit_signer s;
    memset(&s, 0, sizeof s);
    snprintf(s.operator_name, sizeof s.operator_name, "%s", name);
    s.address = *keystore_key_address(key);
    s.sign = seed_sign;
    s.ctx = key;
    audit_signer_set(&s);
}

static int op_json(json_t *arr, const store_operator *o)
{
    char a[ADDR_STR_MAX];
    addr_to_checksum(a, &o->address);
    return json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "name", o->name, "key", a,
                                                "roles", o->roles));
}

/* On a desk without a signed genesis: the admin (anvil #0's key, `admin`) and every
 * demo operator with a desk role are stored and the admin signs the genesis listing them,
 * in one transaction. On a signed desk: an operator missing from it is added by the admin
 * as a signed `operator.add`. */
static int seed_genesis(const char *home, store *db, ks_key *admin_key, const devnet_operator *ops,
                        const addr *addrs, size_t n, devnet_seed_report *out, err *e)
{
    uint8_t id[32];
    bool present = false;
    if (audit_desk_id(home, id, &present, e) < 0)
        return -1;
    seed_signer(SEED_ADMIN, admin_key);
    if (store_begin(db, e) < 0)
        return -1;
    int rc = 0;
    if (!present) {
        store_operator me;
        bool found = false;
        rc = store_operator_get(db, SEED_ADMIN, &me, &found, e);
        if (rc == 0 && found && !addr_equal(&me.address, keystore_key_address(admin_key)))
            rc = err_set(e, ERR_STATE, "this desk's operator \"%s\" does not hold the demo "
                         "admin's key (anvil #0): sign the genesis with `fusion --operator "
                         "NAME operator genesis --key ADDRESS`", SEED_ADMIN);
        unsigned bits = 0;
        if (rc == 0 && found)
            rc = desk_roles_parse(&bits, me.roles, e);
        if (rc == 0) {
            memset(&me, 0, sizeof me);
            snprintf(me.name, sizeof me.name, "%s", SEED_ADMIN);
            me.address = *keystore_key_address(admin_key);
            desk_roles_format(me.roles, sizeof me.roles, bits | DESK_ROLE_admin);
            if (found) {
                rc = store_operator_set_roles(db, SEED_ADMIN, me.roles, &found, e);
            } else {
                rc = store_operator_add(db, &me, e);
                out->operators_new += rc == 0;
            }
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned bits;
        err ignore;
        if (desk_roles_parse(&bits, ops[i].role, &ignore) < 0)
            continue; /* on-chain-only roles (the arbiter) are not desk roles */
        store_operator have, o;
        bool found = false;
        if ((rc = store_operator_get(db, ops[i].name, &have, &found, e)) < 0 || found)
            continue;
        memset(&o, 0, sizeof o);
        snprintf(o.name, sizeof o.name, "%s", ops[i].name);
        o.address = addrs[i];
        desk_roles_format(o.roles, sizeof o.roles, bits);
        if (present) {
            char a[ADDR_STR_MAX];
            addr_to_checksum(a, &o.address);
            json_t *det = json_pack("{s:s,s:s,s:s}", "name", o.name, "key", a, "roles", o.roles);
            if (!det)
                rc = err_set(e, ERR_NOMEM, "out of memory");
            if (rc == 0)
                rc = desk_operator_change_check(db, SEED_ADMIN, o.name, o.roles, &o.address, e);
            if (rc == 0)
                rc = store_operator_add(db, &o, e);
            if (rc == 0)
                rc = store_audit(db, home, SEED_ADMIN, "operator.add", det, e);
            json_decref(det);
        } else {
            rc = store_operator_add(db, &o, e);
        }
        out->operators_new += rc == 0;
    }
    if (rc == 0 && !present) {
        store_operator *all = NULL;
        size_t n_all = 0;
        json_t *arr = json_array(), *det = NULL;
        rc = store_operator_list(db, &all, &n_all, e);
        for (size_t i = 0; rc == 0 && i < n_all; i++)
            if (!arr || op_json(arr, &all[i]) < 0)
                rc = err_set(e, ERR_NOMEM, "out of memory");
        free(all);
        uint8_t fresh[32];
        char id_hex[67];
        randombytes_buf(fresh, sizeof fresh);
        hex_encode(id_hex, sizeof id_hex, fresh, 32, true);
        if (rc == 0) {
            det = json_pack("{s:s,s:s,s:O,s:s}", "desk_id", id_hex, "admin", SEED_ADMIN,
                            "operators", arr, "earlier_rows", "recorded before signatures");
            if (!det)
                rc = err_set(e, ERR_NOMEM, "out of memory");
        }
        json_decref(arr);
        if (rc == 0)
            rc = store_audit(db, home, SEED_ADMIN, "desk.genesis", det, e);
        json_decref(det);
    }
    if (rc == 0 && store_commit(db, e) < 0)
        rc = -1;
    if (rc < 0)
        store_rollback(db);
    return rc;
}

int devnet_call_word(rpc_client *rpc, const addr *to, const buf *calldata, uint8_t word[32], err *e)
{
    buf out;
    buf_init(&out);
    int rc = rpc_eth_call(rpc, to, calldata->data, calldata->len, NULL, &out, e);
    if (rc == 0 && out.len < 32)
        rc = err_set(e, ERR_RPC, "a view call returned %zu bytes, not a word", out.len);
    if (rc == 0)
        memcpy(word, out.data, 32);
    buf_free(&out);
    return rc;
}

/* Mints test tokens to the trader (or the market maker) on one chain unless it holds
 * them already. */
static int fund_trader(store *db, const store_chain *c, ks_key *deployer, const addr *trader,
                       unsigned *mints, err *e)
{
    store_endpoint *eps = NULL;
    size_t n_eps = 0;
    store_token *toks = NULL;
    size_t n_toks = 0;
    rpc_client *rpc = NULL;
    devnet_artifact *tok = NULL;
    buf data;
    buf_init(&data);
    int rc = -1;
    if (store_endpoint_list(db, c->chain_id, &eps, &n_eps, e) < 0 ||
        store_token_list(db, c->chain_id, &toks, &n_toks, e) < 0)
        goto out;
    if (n_eps == 0) {
        err_set(e, ERR_NOT_FOUND, "chain %s has no endpoint", c->name);
        goto out;
    }
    const char *urls[] = {eps[0].url};
    rpc_options ro;
    rpc_options_default(&ro);
    if (rpc_client_new(&rpc, urls, 1, &ro, e) < 0 || devnet_artifact_load(&tok, "TestToken", e) < 0)
        goto out;
    char who[ADDR_STR_MAX], args[160];
    addr_to_checksum(who, trader);
    snprintf(args, sizeof args, "(%s)", who);
    devnet_sender snd;
    devnet_sender_init(&snd, rpc, deployer, c->chain_id);
    uint8_t last[32];
    bool sent = false;
    for (size_t i = 0; i < n_toks; i++) {
        uint8_t word[32];
        buf_reset(&data);
        if (devnet_artifact_calldata(tok, "balanceOf", args, &data, e) < 0 ||
            devnet_call_word(rpc, &toks[i].address, &data, word, e) < 0)
            goto out;
        bool zero = true;
        for (int k = 0; k < 32; k++)
            zero &= word[k] == 0;
        if (!zero)
            continue;
        /* 10 million USDC, 200 WBTC, 5000 WETH: whole units times 10^decimals */
        unsigned long long whole = strcmp(toks[i].symbol, "USDC") == 0   ? 10000000ULL
                                   : strcmp(toks[i].symbol, "WBTC") == 0 ? 200ULL
                                                                         : 5000ULL;
        char amount[100];
        snprintf(amount, sizeof amount, "%llu", whole);
        for (unsigned d = 0; d < toks[i].decimals; d++)
            strcat(amount, "0");
        char margs[200];
        snprintf(margs, sizeof margs, "(%s, %s)", who, amount);
        buf_reset(&data);
        if (devnet_artifact_calldata(tok, "mint", margs, &data, e) < 0 ||
            devnet_send(&snd, &toks[i].address, NULL, data.data, data.len, 200000, last, e) < 0)
            goto out;
        (*mints)++;
        sent = true;
    }
    if (sent) {
        rpc_receipt r;
        if (devnet_wait(rpc, last, 30000, &r, e) < 0)
            goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        err_prefix(e, "funding the trader on %s", c->name);
    buf_free(&data);
    devnet_artifact_free(&tok);
    rpc_client_free(&rpc);
    free(eps);
    free(toks);
    return rc;
}

/* Copies data/demo/risk-limits.csv to <home>/risk-limits.csv unless the desk has its own,
 * and signs it as the demo's admin (the desk acts only on signed limits) when the desk's
 * file is the demo's and not signed yet (a demo desk seeded before limits were signed). */
static int install_limits(const char *home, ks_key *admin_key, devnet_seed_report *out, err *e)
{
    char src[4096], dst[4200];
    snprintf(dst, sizeof dst, "%s/risk-limits.csv", home);
    if (devnet_data_path(src, sizeof src, "demo/risk-limits.csv", e) < 0)
        return -1;
    FILE *in = fopen(src, "r");
    if (!in)
        return err_set(e, ERR_IO, "cannot read %s", src);
    buf text, have;
    buf_init(&text);
    buf_init(&have);
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, in)) > 0)
        rc = buf_append(&text, chunk, n, e);
    if (rc == 0 && ferror(in))
        rc = err_set(e, ERR_IO, "cannot read %s", src);
    fclose(in);
    bool fresh = rc == 0 && access(dst, F_OK) != 0;
    /* Whole or not at all: a desk's own limits file is never replaced, so a half copy
     * left by a crash would stay, with limits missing. */
    err we;
    err_clear(&we);
    if (fresh && fsperm_write_atomic(dst, text.data, text.len, false, &we) < 0 &&
        we.code != ERR_EXISTS) {
        if (e)
            *e = we;
        rc = -1;
    }
    out->limits_installed = fresh && rc == 0 && we.code != ERR_EXISTS;
    FILE *f = rc == 0 ? fopen(dst, "r") : NULL;
    if (rc == 0 && !f)
        rc = err_set(e, ERR_IO, "cannot read %s", dst);
    while (f && rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(&have, chunk, n, e);
    if (f)
        fclose(f);
    err ce;
    err_clear(&ce);
    if (rc == 0 && have.len == text.len && memcmp(have.data, text.data, text.len) == 0 &&
        audit_config_check(home, "risk-limits", have.data, have.len, true, NULL, 0, &ce) < 0 &&
        ce.code == ERR_DENIED) {
        const audit_config_kind *k = audit_config_kind_find("risk-limits");
        bool signed_desk = false;
        audit_config_record_t prev;
        json_t *det = NULL;
        rc = audit_config_get(home, k, &signed_desk, &prev, e);
        if (rc == 0 && prev.present)
            goto done; /* the desk signed other limits: an operator's to sort out */
        if (rc == 0 && !(det = audit_config_details(k, (const char *)have.data, have.len, true,
                                                    &prev)))
            rc = err_set(e, ERR_NOMEM, "out of memory");
        if (rc == 0) {
            seed_signer(SEED_ADMIN, admin_key);
            rc = audit_append(home, SEED_ADMIN, k->action, det, e);
        }
        json_decref(det);
    }
done:
    buf_free(&text);
    buf_free(&have);
    return rc;
}

int devnet_seed(const char *home, const char *operator_name, devnet_seed_report *out, err *e)
{
    memset(out, 0, sizeof *out);
    devnet_operator ops[DEVNET_MAX_OPERATORS];
    size_t n_ops = 0;
    keystore *ks = NULL;
    ks_key *deployer = NULL;
    store *db = NULL;
    store_chain *chains_ = NULL;
    size_t n_chains = 0;
    devnet_party *parties = NULL;
    size_t n_parties = 0;
    entity_acc *ents = NULL;
    ks_key *officer_key = NULL;
    int rc = -1;
    if (devnet_operators_load(ops, &n_ops, e) < 0)
        goto out;
    out->operators = (unsigned)n_ops;
    if (keystore_open(&ks, home, operator_name ? operator_name : "demo", e) < 0)
        goto out;
    addr trader, op_addrs[DEVNET_MAX_OPERATORS];
    bool have_trader = false;
    for (size_t i = 0; i < n_ops; i++) {
        bool imported;
        if (devnet_dev_import(ks, ops[i].dev_key, ops[i].label, &op_addrs[i], &imported, e) < 0)
            goto out;
        out->keys_imported += imported;
        if (!have_trader && strcmp(ops[i].role, "trader") == 0) {
            trader = op_addrs[i];
            have_trader = true;
        }
    }
    if (!have_trader) {
        err_set(e, ERR_INVALID, "data/demo/operators.csv names no trader");
        goto out;
    }
    /* the market maker whose flow the driver plays holds test tokens too (its own key
     * store: only its address here) */
    addr market;
    uint8_t msk[32];
    int mrc = devnet_dev_key(DEVNET_MARKET_KEY, msk) < 0 ? -1 : addr_from_seckey(&market, msk);
    sodium_memzero(msk, sizeof msk);
    if (mrc < 0) {
        err_set(e, ERR_INTERNAL, "the market maker's dev key");
        goto out;
    }
    if (devnet_dev_signer(ks, 0, "deployer (anvil #0)", &deployer, e) < 0 ||
        devnet_open_desk(home, &db, e) < 0 || store_chain_list(db, &chains_, &n_chains, e) < 0)
        goto out;
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        const devnet_chain_spec *sp = devnet_chain(i);
        for (size_t k = 0; k < n_chains; k++)
            if (chains_[k].chain_id == sp->chain_id &&
                (fund_trader(db, &chains_[k], deployer, &trader, &out->mints, e) < 0 ||
                 fund_trader(db, &chains_[k], deployer, &market, &out->mints, e) < 0))
                goto out;
    }
    ents = calloc(1, sizeof *ents);
    if (!ents) {
        err_set(e, ERR_NOMEM, "out of memory reading the demo entities");
        goto out;
    }
    if (csv_each("demo/entities.csv", 7, entity_row, ents, e) < 0 ||
        devnet_parties_load(&parties, &n_parties, e) < 0)
        goto out;
    out->entities_read = (unsigned)ents->n;
    out->counterparties_read = (unsigned)n_parties;
    /* the registry is kept by compliance officers: the demo's first one records the
     * entities (the audit log names them, not an anonymous "demo") */
    const char *officer = NULL;
    for (size_t i = 0; i < n_ops && !officer; i++)
        if (strcmp(ops[i].role, "compliance") == 0)
            officer = ops[i].name;
    if (!officer) {
        err_set(e, ERR_INVALID, "data/demo/operators.csv names no compliance officer");
        goto out;
    }
    compliance_actor act = {home, officer, (int64_t)time(NULL)};
    if (seed_genesis(home, db, deployer, ops, op_addrs, n_ops, out, e) < 0)
        goto out;
    for (size_t i = 0; i < n_ops; i++)
        if (ops[i].name == officer &&
            keystore_unlock(ks, &op_addrs[i], DEVNET_DEMO_PASSPHRASE, &officer_key, e) < 0)
            goto out;
    seed_signer(officer, officer_key);
    if (store_entities(db, &act, ents, out, e) < 0)
        goto out;
    if (install_limits(home, deployer, out, e) < 0)
        goto out;
    snprintf(out->entities_note, sizeof out->entities_note, "%u new, %u new address links",
             out->entities_new, out->links_new);
    LOG_I("demo",
          "seed: %u operators (%u keys new, %u new in the desk), %u mints, %u entities (%s)",
          out->operators, out->keys_imported, out->operators_new, out->mints, out->entities_read,
          out->entities_note);
    rc = 0;
out:
    free(ents);
    free(parties);
    free(chains_);
    audit_signer_set(NULL);
    store_close(&db);
    keystore_lock(&officer_key);
    keystore_lock(&deployer);
    keystore_free(&ks);
    return rc;
}
