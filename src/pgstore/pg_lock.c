/* pg_lock.c: one syncer per chain across the firm. A chain's sync thread, wherever it
 * runs, first takes the chain's advisory lock on the desk's server; the lock belongs to
 * the session, so when the holder's process dies its connection closes and the server
 * releases the lock, and another workstation's try succeeds. */
#include "pgstore/pgstore.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

int64_t pg_chain_lock_key(uint64_t chain_id)
{
    static const char tag[] = "fusion.chain-lock";
    uint8_t msg[sizeof tag - 1 + 8], h[crypto_hash_sha256_BYTES];
    memcpy(msg, tag, sizeof tag - 1);
    for (int i = 0; i < 8; i++)
        msg[sizeof tag - 1 + (size_t)i] = (uint8_t)(chain_id >> (56 - 8 * i));
    crypto_hash_sha256(h, msg, sizeof msg);
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | h[i];
    return (int64_t)k;
}

/* Runs SELECT fn($1) on the chain's key; *out: the boolean answer. */
static int lock_call(PGconn *c, const char *fn, uint64_t chain_id, bool *out, err *e)
{
    char sql[80], key[32];
    snprintf(sql, sizeof sql, "SELECT %s($1::bigint)", fn);
    snprintf(key, sizeof key, "%" PRId64, pg_chain_lock_key(chain_id));
    const char *params[1] = {key};
    PGresult *r = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        char why[200];
        pg_result_reason(c, r, why, sizeof why);
        PQclear(r);
        return err_set(e, ERR_IO, "chain %" PRIu64 ": %s: %s", chain_id, fn, why);
    }
    *out = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return 0;
}

int pg_chain_lock_try(PGconn *c, uint64_t chain_id, bool *held, err *e)
{
    *held = false;
    return lock_call(c, "pg_try_advisory_lock", chain_id, held, e);
}

int pg_chain_lock_release(PGconn *c, uint64_t chain_id, bool *was_held, err *e)
{
    *was_held = false;
    return lock_call(c, "pg_advisory_unlock", chain_id, was_held, e);
}
