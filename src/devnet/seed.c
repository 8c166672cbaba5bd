/* seed.c: the demo desk's seed, from data/demo/: operators (their anvil dev keys go into
 * the key store under the demo passphrase, labelled "name (role)"), test tokens minted to
 * the traders on every chain, and the entity and counterparty records. The entities have
 * nowhere to go in this build (no compliance registry tables yet): they are read and
 * validated, and the report says honestly that storing them was skipped. */
#include "devnet/devnet_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

#define LINE_MAX_ 512
#define MAX_FIELDS 8

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

static int entity_row(void *user, char **f, size_t n, const char *where, err *e)
{
    (void)n;
    unsigned *count = user;
    static const char *const states[] = {"pending", "verified", "rejected", "expired"};
    bool ok = false;
    for (size_t i = 0; i < 4; i++)
        ok |= strcmp(f[2], states[i]) == 0;
    if (!ok)
        return err_set(e, ERR_INVALID, "%s: kyc must be pending, verified, rejected or expired",
                       where);
    if (*f[3] && strlen(f[3]) != 10)
        return err_set(e, ERR_INVALID, "%s: kyc_expires must be YYYY-MM-DD or empty", where);
    addr a;
    if (addr_parse(&a, f[6], e) < 0)
        return err_prefix(e, "%s", where);
    (*count)++;
    return 0;
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

/* Mints test tokens to the trader on one chain unless it holds USDC already. */
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
    int rc = -1;
    if (devnet_operators_load(ops, &n_ops, e) < 0)
        goto out;
    out->operators = (unsigned)n_ops;
    if (keystore_open(&ks, home, operator_name ? operator_name : "demo", e) < 0)
        goto out;
    addr trader, op_addr[DEVNET_MAX_OPERATORS];
    bool have_trader = false;
    for (size_t i = 0; i < n_ops; i++) {
        addr a;
        bool imported;
        if (devnet_dev_import(ks, ops[i].dev_key, ops[i].label, &a, &imported, e) < 0)
            goto out;
        op_addr[i] = a;
        out->keys_imported += imported;
        if (!have_trader && strcmp(ops[i].role, "trader") == 0) {
            trader = a;
            have_trader = true;
        }
    }
    if (!have_trader) {
        err_set(e, ERR_INVALID, "data/demo/operators.csv names no trader");
        goto out;
    }
    if (devnet_dev_signer(ks, 0, "deployer (anvil #0)", &deployer, e) < 0 ||
        devnet_open_desk(home, &db, e) < 0 || store_chain_list(db, &chains_, &n_chains, e) < 0)
        goto out;
    /* the desk's operators with their roles (dave's compliance role lets him work the
     * cases the automatic screening opens); a role the desk does not know (erin, arbiter)
     * gets no operator row */
    for (size_t i = 0; i < n_ops; i++) {
        static const char *const desk_roles[] = {"trader", "approver", "compliance", "admin"};
        bool known = false, found = false;
        for (size_t k = 0; k < 4; k++)
            known |= strcmp(ops[i].role, desk_roles[k]) == 0;
        store_operator op = {.address = op_addr[i], .created_at = (int64_t)time(NULL)};
        snprintf(op.name, sizeof op.name, "%.63s", ops[i].name);
        snprintf(op.roles, sizeof op.roles, "%.63s", ops[i].role);
        store_operator got;
        if (known && (store_operator_get(db, op.name, &got, &found, e) < 0 ||
                      (!found && store_operator_add(db, &op, e) < 0)))
            goto out;
    }
    for (size_t i = 0; i < DEVNET_N_CHAINS; i++) {
        const devnet_chain_spec *sp = devnet_chain(i);
        for (size_t k = 0; k < n_chains; k++)
            if (chains_[k].chain_id == sp->chain_id &&
                fund_trader(db, &chains_[k], deployer, &trader, &out->mints, e) < 0)
                goto out;
    }
    if (csv_each("demo/entities.csv", 7, entity_row, &out->entities_read, e) < 0 ||
        devnet_parties_load(&parties, &n_parties, e) < 0)
        goto out;
    out->counterparties_read = (unsigned)n_parties;
    out->entities_stored = false;
    snprintf(out->entities_note, sizeof out->entities_note,
             "skipped: compliance registry not available (no entity tables in this build)");
    LOG_I("demo", "seed: %u operators (%u keys new), %u mints, %u entities (%s)", out->operators,
          out->keys_imported, out->mints, out->entities_read, out->entities_note);
    rc = 0;
out:
    free(parties);
    free(chains_);
    store_close(&db);
    keystore_lock(&deployer);
    keystore_free(&ks);
    return rc;
}
