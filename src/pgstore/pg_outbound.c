/* pg_outbound.c: the desk's outbound transactions on the book's server (pg_outbound_book, a
 * store_outbound_book of store/store_book.h), for the signing actions of a desk whose
 * book.conf names a server. One connection per desk, opened on first use, its statements
 * prepared on each (re)connection. The order an action follows (docs/scale.md): the row is
 * recorded pending on the server and in desk.db before anything is sent (the server's
 * transaction commits first, then desk.db's; either failing, neither keeps it and nothing
 * is sent); every later state is written to desk.db, then to the server, waiting for a
 * lost server up to wait_ms (the transaction is out: its record must follow it). The orphan
 * a lost COMMIT answer can leave (a pending row there, none in desk.db) is found (ob_pending)
 * and recorded dropped (ob_drop) by `fusion tx check`'s sweep (src/desk/desk.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "base/log.h"
#include "base/text.h"
#include "pgstore/pgstore.h"

typedef struct pg_ob {
    char url[PG_URL_POLICY_MAX];
    char shown[1024];
    PGconn *c;
    unsigned wait_ms;
    bool open;      /* the added row's transaction is open */
    bool committed; /* the last added row was committed (add_end(false) deletes it) */
    int64_t id;
    store_outbound row; /* the row added last (raw not kept) */
} pg_ob;

#define OB_COLS                                                                                    \
    "chain_id, from_addr, nonce, hash, raw, state, escrow, action, mined_block, created_at,"       \
    " last_seen"

static const struct {
    const char *name;
    const char *sql;
    int n;
} STMTS[] = {
    {"ob_add",
     "INSERT INTO outbound_txs (" OB_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
     " $11) RETURNING id",
     11},
    {"ob_has", "SELECT 1 FROM outbound_txs WHERE id = $1 AND chain_id = $2 AND hash = $3", 3},
    {"ob_del", "DELETE FROM outbound_txs WHERE id = $1 AND chain_id = $2 AND hash = $3", 3},
    /* the reorg flag is the server's rewind's: never written from a desk */
    {"ob_put",
     "INSERT INTO outbound_txs (" OB_COLS ", id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
     " $10, $11, $12) ON CONFLICT (id) DO UPDATE SET state = excluded.state,"
     " mined_block = excluded.mined_block, last_seen = excluded.last_seen,"
     " escrow = excluded.escrow WHERE outbound_txs.chain_id = excluded.chain_id"
     " AND outbound_txs.hash = excluded.hash",
     12},
    {"ob_list",
     "SELECT id, chain_id, from_addr, nonce, hash, state, escrow, action, mined_block, reorged,"
     " created_at, last_seen FROM outbound_txs WHERE $1 = 0 OR chain_id = $1 ORDER BY id DESC",
     1},
    {"ob_pending",
     "SELECT id, chain_id, from_addr, nonce, hash, state, escrow, action, mined_block, reorged,"
     " created_at, last_seen FROM outbound_txs WHERE state = 'pending' AND lower(from_addr) = $1"
     " ORDER BY id",
     1},
    /* tx check's sweep of an orphan: only a row still pending, old enough */
    {"ob_drop",
     "UPDATE outbound_txs SET state = 'dropped', last_seen = $4 WHERE id = $1 AND chain_id = $2"
     " AND hash = $3 AND state = 'pending' AND created_at <= $5",
     5},
};

static void ob_sleep(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t ob_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* libpq's reason (or the server's: outside text) on one printable line. */
static void reason(PGconn *c, PGresult *r, char *out, size_t cap)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!m || !m[0])
        m = c ? PQerrorMessage(c) : "no connection";
    pg_reason_line(m, out, cap);
}

static void ob_drop(pg_ob *p)
{
    pg_close(&p->c);
    p->open = false;
}

/* A connection with the statements prepared. */
static int ob_connect(pg_ob *p, err *e)
{
    if (p->c && PQstatus(p->c) == CONNECTION_OK)
        return 0;
    ob_drop(p);
    if (pg_connect(&p->c, p->url, e) < 0)
        return err_prefix(e, STORE_BOOK_AWAY);
    for (size_t i = 0; i < sizeof STMTS / sizeof STMTS[0]; i++) {
        PGresult *r = PQprepare(p->c, STMTS[i].name, STMTS[i].sql, STMTS[i].n, NULL);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            /* a server of another version than this fusion's (its tables may differ): both
             * versions and what to do (ERR_STATE: no outage, not waited for) */
            if (pg_prepare_refused(p->c, r, p->shown,
                                   "this fusion cannot write its outbound transactions", e) < 0) {
                PQclear(r);
                ob_drop(p);
                return -1;
            }
            char why[240];
            reason(p->c, r, why, sizeof why);
            PQclear(r);
            ob_drop(p);
            return err_set(e, ERR_IO, "the book on %s holds no outbound transactions (%s)",
                           p->shown, why);
        }
        PQclear(r);
    }
    return 0;
}

static bool lost(const pg_ob *p)
{
    return !p->c || PQstatus(p->c) != CONNECTION_OK;
}

/* Runs a statement; *out (may be NULL) gets the result. On a failure, e says why and
 * *gone whether the connection went with it (the statement may be tried again on a new
 * one). */
static int ob_run(pg_ob *p, const char *stmt, int n, const char *const *v, const int *lens,
                  const int *fmts, PGresult **out, const char *what, bool *gone, err *e)
{
    if (out)
        *out = NULL;
    *gone = false;
    PGresult *r = stmt ? PQexecPrepared(p->c, stmt, n, v, lens, fmts, 0) : PQexec(p->c, what);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (out)
            *out = r;
        else
            PQclear(r);
        return 0;
    }
    char why[240];
    reason(p->c, r, why, sizeof why);
    PQclear(r);
    *gone = lost(p);
    if (*gone)
        ob_drop(p);
    return err_set(e, ERR_IO, "the book on %s: %s: %s", p->shown, stmt ? what : "a transaction",
                   why);
}

/* The row's values as text ($1..$11; raw binary), hex as desk.db keeps them. */
typedef struct ob_vals {
    char chain[24], nonce[24], mined[24], created[24], seen[24], id[24];
    char from[ADDR_STR_MAX], hash[67], escrow[ADDR_STR_MAX];
    const char *v[12];
    int lens[12], fmts[12];
} ob_vals;

static void vals_of(ob_vals *w, const store_outbound *o, int64_t id)
{
    memset(w, 0, sizeof *w);
    snprintf(w->chain, sizeof w->chain, "%llu", (unsigned long long)o->chain_id);
    snprintf(w->nonce, sizeof w->nonce, "%llu", (unsigned long long)o->nonce);
    snprintf(w->mined, sizeof w->mined, "%llu", (unsigned long long)o->mined_block);
    snprintf(w->created, sizeof w->created, "%lld", (long long)o->created_at);
    snprintf(w->seen, sizeof w->seen, "%lld", (long long)o->last_seen);
    snprintf(w->id, sizeof w->id, "%lld", (long long)id);
    hex_encode(w->from, sizeof w->from, o->from.b, ADDR_LEN, true);
    hex_encode(w->hash, sizeof w->hash, o->hash, 32, true);
    if (o->has_escrow)
        hex_encode(w->escrow, sizeof w->escrow, o->escrow.b, ADDR_LEN, true);
    w->v[0] = w->chain;
    w->v[1] = w->from;
    w->v[2] = w->nonce;
    w->v[3] = w->hash;
    w->v[4] = o->raw_len ? (const char *)o->raw : "";
    w->lens[4] = (int)o->raw_len;
    w->fmts[4] = 1;
    w->v[5] = outbound_state_str(o->state);
    w->v[6] = o->has_escrow ? w->escrow : NULL;
    w->v[7] = o->action;
    w->v[8] = o->mined_block ? w->mined : NULL;
    w->v[9] = w->created;
    w->v[10] = o->last_seen ? w->seen : NULL;
    w->v[11] = w->id;
}

static int ob_add(void *conn, const store_outbound *o, int64_t *id, err *e)
{
    pg_ob *p = conn;
    *id = 0;
    p->committed = false;
    ob_vals w;
    vals_of(&w, o, 0);
    bool gone = false;
    /* a connection the server ended since (a restart) is found dead here: once again on a
     * new one, nothing having been written */
    for (int attempt = 0; attempt < 2; attempt++) {
        PGresult *r = NULL;
        if (ob_connect(p, e) < 0) {
            if (e->code == ERR_STATE) /* the server's version: it says what to do */
                return -1;
            char why[ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", e->msg);
            return err_set(e, ERR_IO, "%.400s; run it again once the server is back", why);
        }
        if (ob_run(p, NULL, 0, NULL, NULL, NULL, NULL, "BEGIN", &gone, e) == 0 &&
            ob_run(p, "ob_add", 11, w.v, w.lens, w.fmts, &r, "recording the transaction", &gone,
                   e) == 0) {
            /* the id is the server's answer (outside input): one row, one column, a
             * positive integer, or the transaction is rolled back and nothing recorded */
            int64_t got = 0;
            bool ok = PQntuples(r) == 1 && PQnfields(r) == 1 && !PQgetisnull(r, 0, 0) &&
                      pg_text_int(PQgetvalue(r, 0, 0), true, &got) == 0 && got > 0;
            PQclear(r);
            if (!ok) {
                bool g2;
                err ignore;
                (void)ob_run(p, NULL, 0, NULL, NULL, NULL, NULL, "ROLLBACK", &g2, &ignore);
                return err_set(e, ERR_INVALID,
                               "the book on %s answered the recording of the transaction "
                               "without its id (a row, a positive integer): not recorded",
                               p->shown);
            }
            *id = got;
            p->open = true;
            p->id = *id;
            p->row = *o;
            p->row.raw = NULL;
            p->row.raw_len = 0;
            return 0;
        }
        if (!gone) {
            bool g2;
            err ignore;
            (void)ob_run(p, NULL, 0, NULL, NULL, NULL, NULL, "ROLLBACK", &g2, &ignore);
            return -1;
        }
    }
    return -1;
}

/* Whether the row added last is on the server, asking until the server answers or wait_ms
 * passed: 1 there, 0 not there, -1 not known (e says why). */
static int ob_has(pg_ob *p, err *e)
{
    ob_vals w;
    vals_of(&w, &p->row, p->id);
    const char *v[3] = {w.id, w.chain, w.hash};
    uint64_t until = ob_mono_ms() + p->wait_ms;
    for (;;) {
        bool gone = true;
        PGresult *r = NULL;
        if (ob_connect(p, e) == 0 &&
            ob_run(p, "ob_has", 3, v, NULL, NULL, &r, "looking a transaction up", &gone, e) == 0) {
            int there = PQntuples(r) == 1;
            PQclear(r);
            return there;
        }
        /* a server of another version is not waited for (ob_connect's ERR_STATE) */
        if (!gone || e->code == ERR_STATE || ob_mono_ms() >= until)
            return -1;
        ob_sleep(500);
    }
}

static int ob_add_end(void *conn, bool commit, err *e)
{
    pg_ob *p = conn;
    bool gone = false;
    err ignore;
    char hs[67];
    hex_encode(hs, sizeof hs, p->row.hash, 32, true);
    if (commit) {
        if (!p->open)
            return err_set(e, ERR_INTERNAL, "no transaction of the book's server to commit");
        p->open = false;
        if (ob_run(p, NULL, 0, NULL, NULL, NULL, NULL, "COMMIT", &gone, e) == 0) {
            p->committed = true;
            return 0;
        }
        if (!gone)
            return -1;
        /* the answer went with the connection: did the server commit it? */
        LOG_W("pgstore", "the book server went while committing transaction %s: asking it again",
              hs);
        int there = ob_has(p, &ignore);
        if (there == 1) {
            p->committed = true;
            return 0;
        }
        if (there == 0)
            return err_set(e, ERR_IO,
                           "the book server %s went while recording the transaction: it does "
                           "not hold it; run the action again",
                           p->shown);
        return err_set(e, ERR_IO,
                       "the book server %s went while recording transaction %s and has not "
                       "answered since (%s): it may hold it as pending (never sent); run the "
                       "action again once the server is back",
                       p->shown, hs, ignore.msg);
    }
    if (p->open) {
        p->open = false;
        if (!lost(p))
            (void)ob_run(p, NULL, 0, NULL, NULL, NULL, NULL, "ROLLBACK", &gone, &ignore);
        return 0; /* a lost connection's transaction is rolled back by the server */
    }
    if (!p->committed)
        return 0;
    p->committed = false;
    ob_vals w;
    vals_of(&w, &p->row, p->id);
    const char *v[3] = {w.id, w.chain, w.hash};
    for (int attempt = 0; attempt < 2; attempt++)
        if (ob_connect(p, e) == 0 && ob_run(p, "ob_del", 3, v, NULL, NULL, NULL,
                                            "deleting a transaction desk.db lost", &gone, e) == 0)
            return 0;
        else if (!gone)
            break;
    return -1;
}

static int ob_put(void *conn, const store_outbound *o, err *e)
{
    pg_ob *p = conn;
    ob_vals w;
    vals_of(&w, o, o->id);
    uint64_t until = ob_mono_ms() + p->wait_ms;
    bool said = false;
    for (;;) {
        bool gone = true;
        PGresult *r = NULL;
        if (ob_connect(p, e) == 0 && ob_run(p, "ob_put", 12, w.v, w.lens, w.fmts, &r,
                                            "recording a transaction's state", &gone, e) == 0) {
            bool one = strcmp(PQcmdTuples(r), "1") == 0;
            PQclear(r);
            if (!one)
                return err_set(e, ERR_STATE,
                               "the book on %s holds another transaction under id %lld than "
                               "desk.db (%s): desk.db's was recorded before the desk's book "
                               "was on the server; copy the desk again with `fusion db "
                               "migrate --to`",
                               p->shown, (long long)o->id, w.hash);
            if (said)
                LOG_I("pgstore", "the book server is back: tx %lld recorded as %s",
                      (long long)o->id, outbound_state_str(o->state));
            return 0;
        }
        if (!gone)
            return -1;
        if (e->code == ERR_STATE) { /* a server of another version: not waited for */
            char why[ERR_MSG_MAX];
            snprintf(why, sizeof why, "%s", e->msg);
            return err_set(e, ERR_STATE,
                           "%.700s; tx %lld is %s: desk.db holds its record, `fusion tx check` "
                           "records it there once the server accepts this fusion",
                           why, (long long)o->id, outbound_state_str(o->state));
        }
        /* a refused connection's reason already begins with STORE_BOOK_AWAY: said once */
        const char *reason_of = e->msg;
        if (strncmp(reason_of, STORE_BOOK_AWAY ": ", strlen(STORE_BOOK_AWAY ": ")) == 0)
            reason_of += strlen(STORE_BOOK_AWAY ": ");
        if (ob_mono_ms() >= until) {
            char why[ERR_MSG_MAX]; /* e->msg is rewritten below */
            snprintf(why, sizeof why, "%s", reason_of);
            return err_set(e, ERR_IO,
                           "tx %lld is %s but the book server %s has not answered for %u s "
                           "(%.200s): desk.db holds its record; run `fusion tx check` once the "
                           "server is back to record it there",
                           (long long)o->id, outbound_state_str(o->state), p->shown,
                           p->wait_ms / 1000u, why);
        }
        if (!said)
            LOG_W("pgstore",
                  STORE_BOOK_AWAY " (%s): waiting up to %u s to record tx %lld "
                  "as %s",
                  reason_of, p->wait_ms / 1000u, (long long)o->id,
                  outbound_state_str(o->state));
        said = true;
        ob_sleep(500);
    }
}

static int hex_field(const char *s, uint8_t *out, size_t n, err *e)
{
    return hex_decode_exact(out, n, s, HEX_ALLOW_PREFIX, e);
}

int pg_outbound_of_row(const char *const v[PG_OUTBOUND_NCOLS], store_outbound *o, err *e)
{
    memset(o, 0, sizeof *o);
    int64_t id = 0, chain = 0, nonce = 0, mined = 0, reorged = 0;
    const char *what = NULL;
    err ignored;
    if (pg_text_int(v[0], true, &id) < 0)
        what = "its id";
    else if (pg_text_int(v[1], true, &chain) < 0)
        what = "its chain id";
    else if (!v[2] || hex_field(v[2], o->from.b, ADDR_LEN, &ignored) < 0)
        what = "its sender";
    else if (pg_text_int(v[3], true, &nonce) < 0)
        what = "its nonce";
    else if (!v[4] || hex_field(v[4], o->hash, 32, &ignored) < 0)
        what = "its hash";
    else if (v[6] && hex_field(v[6], o->escrow.b, ADDR_LEN, &ignored) < 0)
        what = "its escrow";
    else if (!v[7] || strlen(v[7]) >= sizeof o->action ||
             text_unsafe_at(v[7], strlen(v[7])) != strlen(v[7]))
        what = "its action";
    else if (v[8] && pg_text_int(v[8], true, &mined) < 0)
        what = "its block";
    else if (pg_text_int(v[9], true, &reorged) < 0 || reorged > 1)
        what = "its reorg flag";
    else if (pg_text_int(v[10], false, &o->created_at) < 0)
        what = "its creation time";
    else if (v[11] && pg_text_int(v[11], false, &o->last_seen) < 0)
        what = "its last sight";
    if (!what) {
        /* a state this desk does not know is not taken for pending (which `fusion tx
         * check` would resolve): refused */
        what = "its state";
        for (int st = 0; st <= OUTBOUND_REPLACED; st++)
            if (v[5] && strcmp(v[5], outbound_state_str((outbound_state)st)) == 0) {
                o->state = (outbound_state)st;
                what = NULL;
            }
    }
    if (what) {
        char shown[48];
        return err_set(e, ERR_INVALID, "tx %s: %s is malformed",
                       text_safe_str(shown, sizeof shown, v[0] ? v[0] : "?"), what);
    }
    o->id = id;
    o->chain_id = (uint64_t)chain;
    o->nonce = (uint64_t)nonce;
    o->has_escrow = v[6] != NULL;
    snprintf(o->action, sizeof o->action, "%s", v[7]);
    o->mined_block = (uint64_t)mined;
    o->reorged = reorged != 0;
    return 0;
}

/* The rows of a one-parameter query of the list's columns (stmt), each checked. */
static int ob_rows(pg_ob *p, const char *stmt, const char *param, store_outbound **out, size_t *n,
                   err *e)
{
    *out = NULL;
    *n = 0;
    const char *v[1] = {param};
    PGresult *r = NULL;
    bool gone = false;
    int rc = -1;
    for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
        if (ob_connect(p, e) < 0)
            return -1;
        rc = ob_run(p, stmt, 1, v, NULL, NULL, &r, "listing outbound transactions", &gone, e);
        if (rc < 0 && !gone)
            return -1;
    }
    if (rc < 0)
        return -1;
    size_t rows = (size_t)PQntuples(r);
    int cols = PQnfields(r);
    if (cols != PG_OUTBOUND_NCOLS) {
        PQclear(r);
        return err_set(e, ERR_INVALID, "the book on %s: outbound_txs has %d columns, not %d",
                       p->shown, cols, PG_OUTBOUND_NCOLS);
    }
    store_outbound *items = calloc(rows ? rows : 1, sizeof *items);
    if (!items) {
        PQclear(r);
        return err_set(e, ERR_NOMEM, "out of memory listing %zu transactions", rows);
    }
    for (size_t i = 0; i < rows && rc == 0; i++) {
        const char *f[PG_OUTBOUND_NCOLS];
        for (int k = 0; k < PG_OUTBOUND_NCOLS; k++)
            f[k] = PQgetisnull(r, (int)i, k) ? NULL : PQgetvalue(r, (int)i, k);
        rc = pg_outbound_of_row(f, &items[i], e);
    }
    PQclear(r);
    if (rc < 0) {
        free(items);
        return err_prefix(e, "the book on %s: an outbound transaction row is malformed", p->shown);
    }
    *out = items;
    *n = rows;
    return 0;
}

static int ob_list(void *conn, uint64_t chain_id, store_outbound **out, size_t *n, err *e)
{
    char chain[24];
    snprintf(chain, sizeof chain, "%llu", (unsigned long long)chain_id);
    return ob_rows(conn, "ob_list", chain, out, n, e);
}

static int ob_pending(void *conn, const addr *from, store_outbound **out, size_t *n, err *e)
{
    char a[ADDR_STR_MAX];
    hex_encode(a, sizeof a, from->b, ADDR_LEN, true);
    return ob_rows(conn, "ob_pending", a, out, n, e);
}

static int ob_drop_orphan(void *conn, const store_outbound *o, int64_t now, bool *done, err *e)
{
    pg_ob *p = conn;
    *done = false;
    ob_vals w;
    vals_of(&w, o, o->id);
    char seen[24], before[24];
    snprintf(seen, sizeof seen, "%lld", (long long)now);
    snprintf(before, sizeof before, "%lld", (long long)(now - (int64_t)(p->wait_ms / 1000u)));
    const char *v[5] = {w.id, w.chain, w.hash, seen, before};
    bool gone = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        PGresult *r = NULL;
        if (ob_connect(p, e) == 0 && ob_run(p, "ob_drop", 5, v, NULL, NULL, &r,
                                            "recording an orphan dropped", &gone, e) == 0) {
            *done = strcmp(PQcmdTuples(r), "1") == 0;
            PQclear(r);
            return 0;
        }
        if (!gone)
            break;
    }
    return -1;
}

static void ob_close(void *conn)
{
    pg_ob *p = conn;
    if (!p)
        return;
    pg_close(&p->c);
    free(p);
}

const store_outbound_book pg_outbound_book = {
    .add = ob_add,
    .add_end = ob_add_end,
    .put = ob_put,
    .list = ob_list,
    .pending_of = ob_pending,
    .drop = ob_drop_orphan,
    .close = ob_close,
};

int pg_outbound_open(void **conn, const char *url, unsigned wait_ms, err *e)
{
    *conn = NULL;
    pg_ob *p = calloc(1, sizeof *p);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory");
    if (strlen(url) >= sizeof p->url) {
        free(p);
        return err_set(e, ERR_INVALID, "the book's URL is longer than %zu bytes",
                       sizeof p->url - 1);
    }
    /* the desk's one connect policy (pg_read.c's too): a connect waits at most 2 s */
    if (pg_url_connect_policy(url, p->url, sizeof p->url) < 0) {
        free(p);
        return err_set(e, ERR_INVALID, "the book's URL is too long");
    }
    pg_url_redact(url, p->shown, sizeof p->shown);
    p->wait_ms = wait_ms;
    *conn = p;
    return 0;
}
