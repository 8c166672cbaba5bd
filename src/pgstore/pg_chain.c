/* pg_chain.c: a chain added to or removed from a desk whose book is on a server, on the
 * server too (pg_desk.h): the `chains` row and its factory's `contracts` row as `db
 * migrate` copies them (the same columns, the desk's values), and a removal that takes the chain's events, block hashes,
 * checkpoint, escrows and every other row of it with it (the foreign keys' ON DELETE
 * CASCADE, as on the desk), each in one server transaction announced to the firm's UIs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/log.h"
#include "base/text.h"
#include "pgstore/pg_desk.h"
#include "pgstore/pgstore.h"

static int chain_fail(PGconn *c, PGresult *r, const char *shown, const char *what, err *e)
{
    char why[240];
    pg_result_reason(c, r, why, sizeof why);
    PQclear(r);
    return err_set(e, ERR_IO, "the book on %s: %s: %s", shown, what, why);
}

static void rollback(PGconn *c)
{
    PGresult *r = PQexec(c, "ROLLBACK");
    PQclear(r);
}

static int connect_book(PGconn **c, const char *url, char shown[512], err *e)
{
    pg_url_redact(url, shown, 512);
    char full[PG_URL_POLICY_MAX];
    if (pg_url_connect_policy(url, full, sizeof full) < 0)
        return err_set(e, ERR_INVALID, "the URL of %s is too long", shown);
    if (pg_connect(c, full, e) < 0)
        return -1;
    /* a chain's removal writes escrows (the trigger's feed rows): at this fusion's server
     * version only (pg_upgrade.c) */
    if (pg_server_check(*c, shown, e) < 0) {
        pg_close(c);
        return -1;
    }
    return 0;
}

int pg_book_chain_put(const char *url, const store_chain *ch, const store_contract *factory,
                      int64_t created_at, err *e)
{
    char shown[512];
    PGconn *c = NULL;
    if (connect_book(&c, url, shown, e) < 0)
        return -1;
    char id[24], conf[16], dec[16], start[24], at[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)ch->chain_id);
    snprintf(conf, sizeof conf, "%u", ch->confirmations);
    snprintf(dec, sizeof dec, "%u", ch->native_decimals);
    snprintf(start, sizeof start, "%llu", (unsigned long long)ch->start_block);
    snprintf(at, sizeof at, "%lld", (long long)created_at);
    int rc = -1;
    bool in_tx = false;
    if (pg_exec(c, "BEGIN", "starting the chain's transaction", e) < 0)
        goto out;
    in_tx = true;
    /* the chain as the server has it (another workstation's desk may have added it), or
     * another chain there under this name */
    const char *q[2] = {id, ch->name};
    PGresult *r = PQexecParams(c,
                               "SELECT chain_id, name, confirmations, native_symbol, "
                               "native_decimals FROM chains WHERE chain_id = $1::bigint "
                               "OR name = $2 ORDER BY chain_id = $1::bigint DESC",
                               2, NULL, q, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        chain_fail(c, r, shown, "reading the chains", e);
        goto out;
    }
    if (PQntuples(r) > 0) {
        int64_t sid = -1, sconf = -1, sdec = -1;
        char sname[STORE_NAME_MAX * 4], ssym[STORE_SYMBOL_MAX * 4];
        text_safe_str(sname, sizeof sname, PQgetvalue(r, 0, 1));
        text_safe_str(ssym, sizeof ssym, PQgetvalue(r, 0, 3));
        if (pg_text_int(PQgetvalue(r, 0, 0), true, &sid) < 0 ||
            pg_text_int(PQgetvalue(r, 0, 2), true, &sconf) < 0 ||
            pg_text_int(PQgetvalue(r, 0, 4), true, &sdec) < 0) {
            PQclear(r);
            err_set(e, ERR_INVALID, "the book on %s: a malformed row of chains", shown);
            goto out;
        }
        bool same_id = (uint64_t)sid == ch->chain_id;
        bool same = same_id && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 1), ch->name) == 0 &&
                    (uint64_t)sconf == ch->confirmations &&
                    strcmp(PQgetvalue(r, 0, 3), ch->native_symbol) == 0 &&
                    (uint64_t)sdec == ch->native_decimals;
        PQclear(r);
        if (same) { /* another workstation added it: this desk joins it */
            rollback(c);
            in_tx = false;
            LOG_I("pgstore", "chain %s (id %s) is already in the book on %s", ch->name, id,
                  shown);
            rc = 0;
            goto out;
        }
        if (!same_id)
            err_set(e, ERR_EXISTS,
                    "the book on %s has chain id %lld under the name \"%s\": choose another "
                    "name; nothing written",
                    shown, (long long)sid, sname);
        else
            err_set(e, ERR_EXISTS,
                    "the book on %s has chain %s as \"%s\" with %lld confirmations and %s (%lld "
                    "decimals): add it with the same --name, --confirmations, --native-symbol "
                    "and --native-decimals; nothing written",
                    shown, id, sname, (long long)sconf, ssym, (long long)sdec);
        goto out;
    }
    PQclear(r);
    const char *v[8] = {id, ch->name, conf, ch->native_symbol, dec, start, at, ch->explorer};
    r = PQexecParams(c,
                     "INSERT INTO chains (chain_id, name, confirmations, native_symbol, "
                     "native_decimals, start_block, created_at, explorer) VALUES ($1::bigint, "
                     "$2, $3::bigint, $4, $5::bigint, $6::bigint, $7::bigint, $8)",
                     8, NULL, v, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        chain_fail(c, r, shown, "adding the chain", e);
        goto out;
    }
    PQclear(r);
    if (factory) { /* its factory's row, as desk.db's (store_contract_put's values) */
        char addr_hex[ADDR_STR_MAX], dep[24], ver[8];
        hex_encode(addr_hex, sizeof addr_hex, factory->address.b, ADDR_LEN, true);
        snprintf(dep, sizeof dep, "%llu", (unsigned long long)factory->deployed_block);
        snprintf(ver, sizeof ver, "%u", factory->version == 2 ? 2u : 1u);
        const char *kv[5] = {id, "factory", addr_hex, dep, ver};
        r = PQexecParams(c,
                         "INSERT INTO contracts (chain_id, kind, address, deployed_block, "
                         "version) VALUES ($1::bigint, $2, $3, $4::bigint, $5::bigint)",
                         5, NULL, kv, NULL, NULL, 0);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            chain_fail(c, r, shown, "adding the chain's factory", e);
            goto out;
        }
        PQclear(r);
    }
    char what[48];
    snprintf(what, sizeof what, "chain:%s", id);
    if (pg_commit_notify(c, what, e) < 0 || pg_exec(c, "COMMIT", "adding the chain", e) < 0)
        goto out;
    in_tx = false;
    LOG_I("pgstore", "chain %s (id %s) added to the book on %s", ch->name, id, shown);
    rc = 0;
out:
    if (in_tx)
        rollback(c);
    pg_close(&c);
    return rc;
}

int pg_book_chain_drop(const char *url, uint64_t chain_id, bool *had, err *e)
{
    *had = false;
    char shown[512];
    PGconn *c = NULL;
    if (connect_book(&c, url, shown, e) < 0)
        return -1;
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)chain_id);
    int rc = -1;
    bool in_tx = false;
    /* No chain lock is asked for: the desk's own follower holds it while it runs, and
     * removing a chain under it is what `chain remove` does on desk.db too. A range
     * transaction of a syncer in flight holds the chain's row (its events' foreign key):
     * the DELETE waits for it and then removes its rows too; one after it fails on the
     * foreign key, and a syncer whose desk no longer has the chain stops its thread. */
    if (pg_exec(c, "BEGIN", "starting the chain's removal", e) < 0)
        goto out;
    in_tx = true;
    const char *v[1] = {id};
    /* the foreign keys cascade: events, block hashes, checkpoint, escrows (their triggers
     * write the feed's escrow.removed rows and the count), outbound transactions... */
    PGresult *r = PQexecParams(c, "DELETE FROM chains WHERE chain_id = $1::bigint", 1, NULL, v,
                               NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        chain_fail(c, r, shown, "removing the chain", e);
        goto out;
    }
    *had = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    char what[48];
    snprintf(what, sizeof what, "chain:%s", id);
    if (pg_commit_notify(c, what, e) < 0 || pg_exec(c, "COMMIT", "removing the chain", e) < 0)
        goto out;
    in_tx = false;
    LOG_I("pgstore", "chain %s removed from the book on %s%s", id, shown,
          *had ? "" : " (it was not there)");
    rc = 0;
out:
    if (in_tx)
        rollback(c);
    pg_close(&c);
    return rc;
}
