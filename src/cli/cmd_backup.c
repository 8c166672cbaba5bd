/* cmd_backup.c: `fusion backup --out FILE` (an encrypted snapshot of the desk while it runs)
 * and `fusion restore FILE --home DIR` (into an empty home only, then the audit chain is
 * verified and the restored desk is checked against the chains: what was sent or changed
 * after the backup). The archive and the service live in src/backup/. */
#include "cli/cli.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "backup/backup.h"
#include "base/bytes.h"
#include "base/log.h"
#include "base/text.h"
#include "cli/opts.h"
#include "keystore/keystore.h"
#include "rpc/rpc.h"
#include "rpc/rpc_chain.h"
#include "store/store.h"

#define PASS_MAX 1024

/* The backup passphrase: the command's --passphrase-file, else the global one, else asked
 * on the terminal (the first line of the file; a file must be 0600). */
static int backup_passphrase(const cli_ctx *ctx, const char *file, char *out, size_t cap, err *e)
{
    cli_ctx c = *ctx;
    if (file)
        c.passphrase_file = file;
    return cli_passphrase(&c, out, cap, e);
}

static int kdf_limits(const char *kdf, uint64_t *ops, uint64_t *mem, err *e)
{
    const char *level_s = kdf ? kdf : getenv("FUSION_KDF");
    ks_level level = KS_LEVEL_MODERATE;
    if (level_s && *level_s && keystore_level_parse(&level, level_s, e) < 0)
        return -1;
    ks_params p = keystore_params_level(level);
    *ops = p.opslimit;
    *mem = p.memlimit;
    return 0;
}

int cmd_backup(cli_ctx *ctx, int argc, char **argv)
{
    const char *out = NULL, *pass_file = NULL, *kdf = NULL;
    bool force = false;
    const cli_opt opts[] = {
        {"out", CLI_OPT_STR, &out},
        {"passphrase-file", CLI_OPT_STR, &pass_file},
        {"kdf", CLI_OPT_STR, &kdf},
        {"force", CLI_OPT_FLAG, &force},
    };
    size_t n_pos;
    int u = cli_opts("backup", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("backup", "unexpected argument '%s'", argv[1]);
    if (!out || !*out)
        return cli_usage("backup", "usage: fusion backup --out FILE [--passphrase-file FILE] "
                         "[--kdf interactive|moderate|sensitive] [--force]");
    err e;
    err_clear(&e);
    uint64_t ops, mem;
    if (kdf_limits(kdf, &ops, &mem, &e) < 0)
        return cli_usage("backup", "%s", e.msg);
    if (cli_home_existing(ctx, &e) < 0)
        return cli_fail(&e);
    char path[4200];
    snprintf(path, sizeof path, "%s/fusion.log", ctx->home);
    if (log_open(path, &e) < 0)
        return cli_fail(&e);
    if (sodium_init() < 0)
        return cli_fail(&e);
    char *pass = sodium_malloc(PASS_MAX);
    if (!pass)
        return cli_fail(&e);
    char summary[256] = "";
    int rc = backup_passphrase(ctx, pass_file, pass, PASS_MAX, &e);
    if (rc == 0 && !pass[0])
        rc = err_set(&e, ERR_INVALID, "empty backup passphrase: refused");
    if (rc == 0)
        rc = backup_write(ctx->home, out, force, pass, ops, mem, summary, sizeof summary, &e);
    sodium_free(pass);
    if (rc < 0) {
        if (e.code == ERR_EXISTS)
            err_set(&e, ERR_EXISTS, "%s exists: pick another --out or add --force", out);
        return cli_fail(&e);
    }
    json_t *d = json_pack("{s:s, s:s}", "file", out, "summary", summary);
    if (audit_append(ctx->home, ctx->operator_name, "backup.write", d, &e) < 0)
        cli_errorf("fusion: the backup was written but its audit row was not: %s", e.msg);
    json_decref(d);
    if (ctx->json) {
        json_t *j = json_pack("{s:s, s:s}", "file", out, "summary", summary);
        cli_json_print(j, JSON_COMPACT);
        json_decref(j);
    } else {
        char *safe = text_safe_dup(out, strlen(out));
        printf("backup written to %s: %s\n", safe ? safe : "", summary);
        free(safe);
    }
    return EXIT_OK;
}

/* ---- the check after a restore ---- */

typedef struct check_out {
    json_t *diffs; /* array of strings */
    bool json;
} check_out;

static void differ(check_out *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void differ(check_out *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    json_array_append_new(c->diffs, json_string(line));
    if (!c->json) {
        char *safe = text_safe_dup(line, strlen(line));
        printf("  differs: %s\n", safe ? safe : "");
        free(safe);
    }
}

static int chain_rpc(store *db, uint64_t chain_id, rpc_client **rpc, err *e)
{
    rpc_options o;
    rpc_options_default(&o);
    o.max_attempts = 2;
    o.timeout_ms = 10000;
    int rc = rpc_chain_client(rpc, db, chain_id, &o, e);
    if (rc == 0)
        rpc_client_expect_chain(*rpc, chain_id);
    return rc;
}

/* The addresses whose logs after the backup are reported, each once, with its first block:
 * the filter's addresses sorted, a flag per address (a log's address is always one of the
 * filter's: rpc_eth_get_logs checks it), so a log costs one binary search. */
typedef struct escrows_seen {
    check_out *c;
    const store_chain *ch;
    addr *as; /* sorted */
    bool *seen;
    size_t na;
} escrows_seen;

static int addr_order(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(addr));
}

static int escrows_seen_logs(void *ud, const rpc_log_list *l, err *e)
{
    (void)e;
    escrows_seen *s = ud;
    for (size_t i = 0; i < l->n; i++) {
        const addr *hit = bsearch(&l->items[i].address, s->as, s->na, sizeof *s->as, addr_order);
        if (!hit || s->seen[hit - s->as])
            continue;
        s->seen[hit - s->as] = true;
        char a[ADDR_STR_MAX];
        addr_to_lower(a, &l->items[i].address);
        differ(s->c, "chain %s: %s logged events after the backup (first in block %llu): "
               "`fusion sync` brings them in", s->ch->name, a,
               (unsigned long long)l->items[i].block_number);
    }
    return 0;
}

/* Blocks per eth_getLogs of the check: the answer held at once stays small (a provider's
 * lower cap is learnt by the client: rpc_eth_get_logs_ranges). */
#define CHECK_RANGE_BLOCKS 2000

/* Escrows of the desk (and factories) that logged anything in (from, to], read range by
 * range. */
static void check_escrows(check_out *c, store *db, rpc_client *rpc, const store_chain *ch,
                          uint64_t from, uint64_t to)
{
    addr *as = NULL;
    size_t na = 0;
    err e;
    err_clear(&e);
    if (store_escrow_addresses(db, ch->chain_id, &as, &na, &e) < 0)
        return;
    store_contract *cs = NULL;
    size_t nc = 0;
    if (store_contract_list(db, ch->chain_id, &cs, &nc, &e) == 0 && nc) {
        addr *more = realloc(as, (na + nc) * sizeof *as);
        if (more) {
            as = more;
            for (size_t i = 0; i < nc; i++)
                if (cs[i].kind == STORE_CONTRACT_FACTORY || cs[i].kind == STORE_CONTRACT_HTLC)
                    as[na++] = cs[i].address;
        }
    }
    free(cs);
    if (na == 0 || to <= from) {
        free(as);
        return;
    }
    if (to - from > 50000) {
        differ(c, "chain %s: %llu blocks since the backup, too many to look through here: "
               "`fusion sync` brings the escrows up to date", ch->name,
               (unsigned long long)(to - from));
        free(as);
        return;
    }
    /* the filter as read from the store, the set sorted for the lookups */
    addr *sorted = malloc(na * sizeof *sorted);
    bool *seen = calloc(na, sizeof *seen);
    if (!sorted || !seen) {
        differ(c, "chain %s: out of memory checking the logs since the backup", ch->name);
        free(sorted);
        free(seen);
        free(as);
        return;
    }
    memcpy(sorted, as, na * sizeof *sorted);
    qsort(sorted, na, sizeof *sorted, addr_order);
    escrows_seen s = {c, ch, sorted, seen, na};
    rpc_log_filter f = {.from = from + 1, .to = to, .addresses = as, .n_addresses = na};
    if (rpc_eth_get_logs_ranges(rpc, &f, CHECK_RANGE_BLOCKS, escrows_seen_logs, &s, &e) < 0)
        differ(c, "chain %s: cannot read the logs since the backup: %s", ch->name, e.msg);
    free(sorted);
    free(seen);
    free(as);
}

static void check_outbound(check_out *c, store *db, rpc_client *rpc, const store_chain *ch)
{
    store_outbound *os = NULL;
    size_t n = 0;
    err e;
    err_clear(&e);
    if (store_outbound_list(db, ch->chain_id, &os, &n, &e) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        const store_outbound *o = &os[i];
        if (o->state == OUTBOUND_REPLACED)
            continue;
        rpc_receipt r;
        bool found = false;
        if (rpc_eth_get_transaction_receipt(rpc, o->hash, &r, &found, &e) < 0) {
            differ(c, "chain %s: transaction #%lld: cannot ask the node (%s)", ch->name,
                   (long long)o->id, e.msg);
            continue;
        }
        bool recorded_mined = o->state == OUTBOUND_MINED || o->state == OUTBOUND_CONFIRMED ||
                              o->state == OUTBOUND_FAILED;
        if (found && !recorded_mined)
            differ(c, "chain %s: transaction #%lld (%s) recorded %s, mined on chain in block %llu "
                   "(%s): `fusion tx check` updates it", ch->name, (long long)o->id, o->action,
                   outbound_state_str(o->state), (unsigned long long)r.block_number,
                   r.success ? "succeeded" : "reverted");
        else if (found && recorded_mined && o->mined_block && r.block_number != o->mined_block)
            differ(c, "chain %s: transaction #%lld (%s) recorded in block %llu, on chain in "
                   "block %llu", ch->name, (long long)o->id, o->action,
                   (unsigned long long)o->mined_block, (unsigned long long)r.block_number);
        else if (!found && recorded_mined)
            differ(c, "chain %s: transaction #%lld (%s) recorded %s, but the chain has no "
                   "receipt for it", ch->name, (long long)o->id, o->action,
                   outbound_state_str(o->state));
    }
    free(os);
}

/* What the desk's senders (its transactions' and its keys' addresses) sent after the
 * backup: their nonce at the backup's checkpoint block against the latest. */
static void check_nonces(check_out *c, store *db, rpc_client *rpc, const store_chain *ch,
                         const char *home, uint64_t synced)
{
    store_outbound *os = NULL;
    size_t n = 0, nk = 0;
    ks_entry *keys = NULL;
    keystore *ks = NULL;
    err e;
    err_clear(&e);
    if (store_outbound_list(db, ch->chain_id, &os, &n, &e) < 0)
        n = 0;
    if (keystore_open(&ks, home, "restore", &e) < 0 || keystore_list(ks, &keys, &nk, &e) < 0)
        nk = 0;
    keystore_free(&ks);
    addr *who = calloc(n + nk + 1, sizeof *who);
    size_t nw = 0;
    for (size_t i = 0; who && i < n + nk; i++) {
        const addr *a = i < n ? &os[i].from : &keys[i - n].address;
        bool seen = false;
        for (size_t k = 0; k < nw && !seen; k++)
            seen = !memcmp(&who[k], a, sizeof *a);
        if (!seen)
            who[nw++] = *a;
    }
    char tag[24];
    snprintf(tag, sizeof tag, "0x%llx", (unsigned long long)synced);
    for (size_t i = 0; i < nw; i++) {
        uint64_t then = 0, now = 0;
        char a[ADDR_STR_MAX];
        addr_to_lower(a, &who[i]);
        if (rpc_eth_get_transaction_count(rpc, &who[i], tag, &then, &e) < 0 ||
            rpc_eth_get_transaction_count(rpc, &who[i], "latest", &now, &e) < 0) {
            differ(c, "chain %s: cannot tell what %s sent after the backup (%s)", ch->name, a,
                   e.msg);
            continue;
        }
        if (now > then)
            differ(c, "chain %s: %s has sent %llu transaction(s) after the backup (nonce %llu at "
                   "block %llu, %llu now)", ch->name, a, (unsigned long long)(now - then),
                   (unsigned long long)then, (unsigned long long)synced,
                   (unsigned long long)now);
    }
    free(who);
    free(keys);
    free(os);
}

static void sync_check(check_out *c, store *db, json_t *chains_j, const char *home)
{
    store_chain *chs = NULL;
    size_t n = 0;
    err e;
    err_clear(&e);
    if (store_chain_list(db, &chs, &n, &e) < 0) {
        differ(c, "cannot list the chains: %s", e.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const store_chain *ch = &chs[i];
        store_checkpoint cp;
        if (store_checkpoint_get(db, ch->chain_id, &cp, &e) < 0)
            memset(&cp, 0, sizeof cp);
        rpc_client *rpc = NULL;
        uint64_t head = 0;
        json_t *cj = json_pack("{s:s, s:I, s:I}", "chain", ch->name, "chain_id",
                               (json_int_t)ch->chain_id, "synced_block",
                               (json_int_t)(cp.synced ? cp.synced_block : 0));
        json_array_append_new(chains_j, cj);
        if (chain_rpc(db, ch->chain_id, &rpc, &e) < 0 || rpc_eth_block_number(rpc, &head, &e) < 0) {
            differ(c, "chain %s: not checked, the node did not answer (%s)", ch->name, e.msg);
            json_object_set_new(cj, "reachable", json_false());
            rpc_client_free(&rpc);
            continue;
        }
        json_object_set_new(cj, "reachable", json_true());
        json_object_set_new(cj, "head", json_integer((json_int_t)head));
        uint64_t synced = cp.synced ? cp.synced_block : 0;
        if (!c->json)
            printf("chain %s: the backup was synced to block %llu, the node is at %llu\n",
                   ch->name, (unsigned long long)synced, (unsigned long long)head);
        if (cp.synced && head < cp.synced_block)
            differ(c, "chain %s: the node's head %llu is below the backup's checkpoint %llu "
                   "(another chain, or a reset devnet?)", ch->name, (unsigned long long)head,
                   (unsigned long long)cp.synced_block);
        else if (cp.synced) {
            check_escrows(c, db, rpc, ch, cp.synced_block, head);
            check_nonces(c, db, rpc, ch, home, cp.synced_block);
        }
        check_outbound(c, db, rpc, ch);
        rpc_client_free(&rpc);
    }
    free(chs);
}

int cmd_restore(cli_ctx *ctx, int argc, char **argv)
{
    const char *home = NULL, *pass_file = NULL;
    bool no_check = false;
    const cli_opt opts[] = {
        {"home", CLI_OPT_STR, &home},
        {"passphrase-file", CLI_OPT_STR, &pass_file},
        {"no-chain-check", CLI_OPT_FLAG, &no_check},
    };
    int u = cli_opts_n("restore", argc, argv, opts, CLI_NOPTS(opts), 1,
                       "usage: fusion restore FILE --home DIR "
                       "[--passphrase-file FILE] [--no-chain-check]");
    if (u != EXIT_OK)
        return u;
    if (home) {
        if (!*home || strlen(home) >= sizeof ctx->home)
            return cli_usage("restore", "--home needs a directory");
        snprintf(ctx->home, sizeof ctx->home, "%s", home);
    }
    err e;
    err_clear(&e);
    if (sodium_init() < 0)
        return cli_fail(&e);
    char *pass = sodium_malloc(PASS_MAX);
    if (!pass)
        return cli_fail(&e);
    backup_set set;
    backup_set_init(&set);
    /* A home that cannot take the restore is refused before the passphrase is asked. */
    int rc = backup_target_check(ctx->home, &e) < 0 ? -1 : 0;
    if (rc == 0)
        rc = backup_passphrase(ctx, pass_file, pass, PASS_MAX, &e);
    if (rc == 0)
        rc = backup_restore(argv[1], ctx->home, pass, &set, &e);
    sodium_free(pass);
    if (rc < 0) {
        char *safe = text_safe_dup(argv[1], strlen(argv[1]));
        cli_errorf("fusion: restore of %s refused: %s", safe ? safe : "", e.msg);
        free(safe);
        return EXIT_FAIL;
    }
    json_error_t je;
    json_t *man = json_loads(set.manifest, 0, &je);
    size_t n_files = set.n;
    backup_set_clear(&set);
    json_t *res = json_object();
    json_object_set_new(res, "home", json_string(ctx->home));
    json_object_set_new(res, "files", json_integer((json_int_t)n_files));
    json_object_set(res, "manifest", man ? man : json_null());
    const char *created = json_string_value(json_object_get(man, "created"));
    if (!ctx->json)
        printf("restored %zu entries into %s (backup of %s)\n", n_files, ctx->home,
               created ? created : "?");
    /* The audit chain, whole, against the head the restored desk.db records. */
    audit_report rep;
    int status = EXIT_OK;
    if (audit_verify(ctx->home, NULL, &rep, &e) < 0 || !rep.ok) {
        char msg[ERR_MSG_MAX + AUDIT_PROBLEM_MAX];
        snprintf(msg, sizeof msg, "%s", rep.problem[0] ? rep.problem : e.msg);
        json_object_set_new(res, "audit", json_pack("{s:b, s:s}", "ok", 0, "problem", msg));
        cli_errorf("fusion: restored, but the audit log does not verify: %s", msg);
        status = EXIT_FAIL;
    } else {
        json_object_set_new(res, "audit", json_pack("{s:b, s:I, s:s}", "ok", 1, "rows",
                                                     (json_int_t)rep.rows, "head", rep.head_hash));
        if (!ctx->json)
            printf("audit: %llu rows verified, head %s\n", (unsigned long long)rep.rows,
                   rep.head_hash);
    }
    check_out c = {.diffs = json_array(), .json = ctx->json};
    json_t *chains = json_array();
    if (!no_check) {
        store *db = NULL;
        if (cli_desk_open(ctx, &db, &e) < 0) {
            differ(&c, "cannot open the restored desk: %s", e.msg);
            status = EXIT_FAIL;
        } else {
            sync_check(&c, db, chains, ctx->home);
        }
        store_close(&db);
    }
    json_object_set_new(res, "chains", chains);
    json_object_set_new(res, "differences", c.diffs);
    if (ctx->json) {
        cli_json_print(res, JSON_COMPACT);
    } else if (!no_check) {
        printf("%zu difference(s) between the backup and the chains\n", json_array_size(c.diffs));
    }
    json_decref(res);
    json_decref(man);
    return status;
}
