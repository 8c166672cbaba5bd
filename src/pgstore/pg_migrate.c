/* pg_migrate.c: `fusion db migrate --to postgresql://...`: a SQLite desk copied to an empty
 * database on a server, in one server transaction, checked before it commits. Every row
 * of every table is hashed as it is read from the desk (one read snapshot) and again as it
 * is read back from the server inside the same transaction, in the same order (the
 * primary key, byte order for text on both sides); counts and SHA-256 must agree for
 * every table, or the transaction is rolled back and the server is left as it was. Rows
 * go up to 128 to an INSERT: one round trip per batch, not per row. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "pgstore/pgstore.h"
#include "store/store.h"

/* One column value into the row hash: NULL is one 0 byte; a value is 1, its length
 * (4 bytes, big-endian) and its bytes: integers and reals as decimal text (%.17g, exact
 * for a double), text and blobs as their bytes. */
static void hash_value(crypto_hash_sha256_state *h, const void *p, size_t n, bool null)
{
    uint8_t tag = null ? 0 : 1;
    crypto_hash_sha256_update(h, &tag, 1);
    if (null)
        return;
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    crypto_hash_sha256_update(h, len, 4);
    crypto_hash_sha256_update(h, p, n);
}

static void hash_hex(crypto_hash_sha256_state *h, char out[65])
{
    uint8_t d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(h, d);
    sodium_bin2hex(out, 65, d, sizeof d);
}

static char *cols_list(const pg_table *t)
{
    size_t n = 1;
    for (size_t i = 0; i < t->n_cols; i++)
        n += strlen(t->cols[i].name) * 2 + 4;
    char *s = malloc(n);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < t->n_cols; i++) {
        o += (size_t)snprintf(s + o, n - o, "%s\"", i ? ", " : "");
        for (const char *p = t->cols[i].name; *p; p++) {
            if (*p == '"')
                s[o++] = '"';
            s[o++] = *p;
        }
        s[o++] = '"';
        s[o] = '\0';
    }
    return s;
}

static const char *pq_why(PGresult *r, PGconn *c, char *buf, size_t cap)
{
    pg_result_reason(c, r, buf, cap);
    return buf;
}

/* INSERT INTO "t" (cols) VALUES ($1, ...), (...) of `rows` rows: malloc'd, NULL when out of
 * memory. */
static char *ins_sql(const pg_table *t, const char *cols, size_t rows)
{
    size_t il = strlen(cols) + strlen(t->name) + rows * (10 * t->n_cols + 8) + 64;
    char *ins = malloc(il);
    if (!ins)
        return NULL;
    size_t o = (size_t)snprintf(ins, il, "INSERT INTO \"%s\" (%s) VALUES ", t->name, cols);
    for (size_t row = 0; row < rows; row++)
        for (size_t i = 0; i < t->n_cols; i++)
            o += (size_t)snprintf(ins + o, il - o, "%s$%zu%s",
                                  i     ? ", "
                                  : row ? ", ("
                                        : "(",
                                  row * t->n_cols + i + 1, i + 1 < t->n_cols ? "" : ")");
    return ins;
}

/* Rows waiting to go to the server, their values copied (the desk's statement reuses its
 * buffers at the next row), each followed by a NUL: offsets into one growing buffer, a
 * length of -1 for NULL. */
typedef struct {
    size_t batch, n;
    size_t *off;
    int *lens, *fmts;
    const char **vals;
    char *buf;
    size_t len, cap;
} pending;

static int pending_add(pending *b, size_t j, const void *v, int len, int fmt)
{
    b->lens[j] = v ? len : -1;
    b->fmts[j] = fmt;
    b->off[j] = b->len;
    if (!v)
        return 0;
    size_t need = b->len + (size_t)len + 1; /* text parameters end in a NUL */
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < need)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb)
            return -1;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, v, (size_t)len);
    b->buf[b->len + (size_t)len] = '\0';
    b->len = need;
    return 0;
}

/* Sends the pending rows: a full batch through the prepared statement, fewer as a statement
 * of their own rows. first is the first pending row's number, for the message. */
static int pending_flush(PGconn *c, const pg_table *t, const char *cols, const char *stmt,
                         pending *b, uint64_t first, err *e)
{
    if (!b->n)
        return 0;
    size_t np = b->n * t->n_cols;
    for (size_t j = 0; j < np; j++) {
        b->vals[j] = b->lens[j] < 0 ? NULL : b->len ? b->buf + b->off[j] : "";
        if (b->lens[j] < 0)
            b->lens[j] = 0;
    }
    PGresult *r;
    if (b->n == b->batch) {
        r = PQexecPrepared(c, stmt, (int)np, b->vals, b->lens, b->fmts, 0);
    } else {
        char *ins = ins_sql(t, cols, b->n);
        if (!ins)
            return err_set(e, ERR_NOMEM, "out of memory");
        r = PQexecParams(c, ins, (int)np, NULL, b->vals, b->lens, b->fmts, 0);
        free(ins);
    }
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        char why[200];
        err_set(e, ERR_IO, "copying %s, rows %" PRIu64 " to %" PRIu64 ": %s", t->name, first,
                first + b->n - 1, pq_why(r, c, why, sizeof why));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    b->n = 0;
    b->len = 0;
    return 0;
}

/* Copies one table's rows (in key order) and hashes them as read from the desk: up to 128
 * rows an INSERT (fewer when the table has many columns: 65,535 parameters at most). */
static int copy_table(sqlite3 *db, PGconn *c, const pg_table *t, size_t ix, pg_migrate_table *out,
                      err *e)
{
    int rc = -1;
    char why[200];
    char *cols = cols_list(t), *sel = NULL, *ins = NULL, *ibuf = NULL;
    const char **vals = calloc(t->n_cols, sizeof *vals);
    int *lens = calloc(t->n_cols, sizeof *lens), *fmts = calloc(t->n_cols, sizeof *fmts);
    sqlite3_stmt *st = NULL;
    PGresult *r = NULL;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    size_t sl = (cols ? strlen(cols) : 0) + strlen(t->name) + strlen(t->order_sqlite) + 64;
    pending b = {.batch = 65535 / (t->n_cols ? t->n_cols : 1)};
    if (b.batch > 128)
        b.batch = 128;
    size_t np = b.batch * t->n_cols;
    b.off = calloc(np ? np : 1, sizeof *b.off);
    b.lens = calloc(np ? np : 1, sizeof *b.lens);
    b.fmts = calloc(np ? np : 1, sizeof *b.fmts);
    b.vals = calloc(np ? np : 1, sizeof *b.vals);
    sel = malloc(sl);
    ins = cols ? ins_sql(t, cols, b.batch) : NULL;
    ibuf = malloc(t->n_cols * 32);
    if (!cols || !sel || !ins || !ibuf || !vals || !lens || !fmts || !b.off || !b.lens || !b.fmts ||
        !b.vals) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(sel, sl, "SELECT %s FROM \"%s\" ORDER BY %s", cols, t->name, t->order_sqlite);
    if (sqlite3_prepare_v2(db, sel, -1, &st, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "reading %s from the desk: %s", t->name, sqlite3_errmsg(db));
        goto out;
    }
    char stmt_name[32];
    snprintf(stmt_name, sizeof stmt_name, "ins_%zu", ix);
    r = PQprepare(c, stmt_name, ins, (int)np, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        err_set(e, ERR_IO, "preparing the copy of %s: %s", t->name, pq_why(r, c, why, sizeof why));
        goto out;
    }
    PQclear(r);
    r = NULL;
    uint64_t n = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        for (size_t i = 0; i < t->n_cols; i++) {
            int ty = sqlite3_column_type(st, (int)i);
            char *num = ibuf + i * 32;
            fmts[i] = 0;
            if (ty == SQLITE_NULL) {
                vals[i] = NULL;
                lens[i] = 0;
                hash_value(&h, NULL, 0, true);
                continue;
            }
            switch (t->cols[i].kind) {
            case PG_COL_INT:
                if (ty != SQLITE_INTEGER) {
                    err_set(e, ERR_INVALID,
                            "table %s, row %" PRIu64 ": column %s holds a non-integer value; "
                            "the desk needs repair before it can be copied",
                            t->name, n + 1, t->cols[i].name);
                    goto out;
                }
                snprintf(num, 32, "%lld", (long long)sqlite3_column_int64(st, (int)i));
                vals[i] = num;
                lens[i] = (int)strlen(num);
                break;
            case PG_COL_REAL:
                if (ty != SQLITE_INTEGER && ty != SQLITE_FLOAT) {
                    err_set(e, ERR_INVALID,
                            "table %s, row %" PRIu64 ": column %s holds a non-number", t->name,
                            n + 1, t->cols[i].name);
                    goto out;
                }
                snprintf(num, 32, "%.17g", sqlite3_column_double(st, (int)i));
                vals[i] = num;
                lens[i] = (int)strlen(num);
                break;
            case PG_COL_TEXT:
                vals[i] = (const char *)sqlite3_column_text(st, (int)i);
                lens[i] = sqlite3_column_bytes(st, (int)i);
                break;
            case PG_COL_BLOB:
                vals[i] = sqlite3_column_blob(st, (int)i);
                lens[i] = sqlite3_column_bytes(st, (int)i);
                if (!vals[i])
                    vals[i] = ""; /* an empty blob, not NULL */
                fmts[i] = 1;
                break;
            }
            hash_value(&h, vals[i], (size_t)lens[i], false);
        }
        for (size_t i = 0; i < t->n_cols; i++) {
            if (pending_add(&b, b.n * t->n_cols + i, vals[i], lens[i], fmts[i]) < 0) {
                err_set(e, ERR_NOMEM, "out of memory");
                goto out;
            }
        }
        b.n++;
        n++;
        if (b.n == b.batch && pending_flush(c, t, cols, stmt_name, &b, n - b.n + 1, e) < 0)
            goto out;
    }
    if (step != SQLITE_DONE) {
        err_set(e, ERR_IO, "reading %s from the desk: %s", t->name, sqlite3_errmsg(db));
        goto out;
    }
    if (pending_flush(c, t, cols, stmt_name, &b, n - b.n + 1, e) < 0)
        goto out;
    snprintf(out->name, sizeof out->name, "%s", t->name);
    out->rows = n;
    hash_hex(&h, out->sha256);
    rc = 0;
out:
    PQclear(r);
    sqlite3_finalize(st);
    free(cols);
    free(sel);
    free(ins);
    free(ibuf);
    free(vals);
    free(lens);
    free(fmts);
    free(b.off);
    free(b.lens);
    free(b.fmts);
    free(b.vals);
    free(b.buf);
    return rc;
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

/* Reads a table back from the server (binary results, one row at a time) and hashes it
 * the way copy_table hashed the desk's rows. */
static int server_hash(PGconn *c, const pg_table *t, uint64_t *rows, char sha[65], err *e)
{
    char why[200];
    char *cols = cols_list(t);
    size_t sl = (cols ? strlen(cols) : 0) + strlen(t->name) + strlen(t->order_pg) + 64;
    char *sel = malloc(sl);
    if (!cols || !sel) {
        free(cols);
        free(sel);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    snprintf(sel, sl, "SELECT %s FROM \"%s\" ORDER BY %s", cols, t->name, t->order_pg);
    free(cols);
    int ok = PQsendQueryParams(c, sel, 0, NULL, NULL, NULL, NULL, 1);
    free(sel);
    if (!ok || !PQsetSingleRowMode(c))
        return err_set(e, ERR_IO, "reading %s back from the server: %s", t->name,
                       pq_why(NULL, c, why, sizeof why));
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    uint64_t n = 0;
    int rc = 0;
    PGresult *r;
    while ((r = PQgetResult(c))) {
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_SINGLE_TUPLE && rc == 0) {
            if ((size_t)PQnfields(r) != t->n_cols) {
                rc = err_set(e, ERR_IO, "reading %s back: %d columns", t->name, PQnfields(r));
            } else {
                for (size_t i = 0; i < t->n_cols; i++) {
                    if (PQgetisnull(r, 0, (int)i)) {
                        hash_value(&h, NULL, 0, true);
                        continue;
                    }
                    const char *v = PQgetvalue(r, 0, (int)i);
                    int len = PQgetlength(r, 0, (int)i);
                    char num[32];
                    if (t->cols[i].kind == PG_COL_INT || t->cols[i].kind == PG_COL_REAL) {
                        if (len != 8) {
                            rc = err_set(e, ERR_IO, "reading %s back: column %s is %d bytes",
                                         t->name, t->cols[i].name, len);
                            break;
                        }
                        uint64_t u = be64(v);
                        if (t->cols[i].kind == PG_COL_INT) {
                            snprintf(num, sizeof num, "%lld", (long long)(int64_t)u);
                        } else {
                            double d;
                            memcpy(&d, &u, sizeof d);
                            snprintf(num, sizeof num, "%.17g", d);
                        }
                        hash_value(&h, num, strlen(num), false);
                    } else {
                        hash_value(&h, v, (size_t)len, false);
                    }
                }
                n++;
            }
        } else if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK && rc == 0) {
            rc = err_set(e, ERR_IO, "reading %s back from the server: %s", t->name,
                         pq_why(r, c, why, sizeof why));
        }
        PQclear(r);
    }
    *rows = n;
    hash_hex(&h, sha);
    return rc;
}

int pg_migrate(const char *desk_db, const char *url, pg_migrate_report *r, err *e)
{
    memset(r, 0, sizeof *r);
    char shown[512];
    pg_url_redact(url, shown, sizeof shown);
    sqlite3 *db = NULL;
    PGconn *c = NULL;
    pg_schema sch;
    memset(&sch, 0, sizeof sch);
    bool in_tx = false;
    int rc = -1;
    if (sqlite3_open_v2(desk_db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "opening %s: %s", desk_db, db ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(db, 10000);
    /* one read snapshot for the schema and every row (a sync may be writing meanwhile) */
    if (sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_schema;", NULL, NULL, NULL) !=
        SQLITE_OK) {
        err_set(e, ERR_IO, "reading %s: %s", desk_db, sqlite3_errmsg(db));
        goto out;
    }
    if (pg_schema_from_sqlite(db, &sch, e) < 0)
        goto out;
    if (sch.version != store_schema_latest()) {
        err_set(e, ERR_STATE,
                "the desk's schema is version %d, this fusion's %d: open the desk once with "
                "this fusion (any command) before migrating it",
                sch.version, store_schema_latest());
        goto out;
    }
    if (pg_connect(&c, url, e) < 0)
        goto out;
    /* an empty database only: migrate never merges into or replaces a book */
    PGresult *q = PQexec(c, "SELECT count(*) FROM pg_catalog.pg_tables "
                            "WHERE schemaname = current_schema()");
    if (!q || PQresultStatus(q) != PGRES_TUPLES_OK || PQntuples(q) != 1) {
        char why[200];
        err_set(e, ERR_IO, "%s: %s", shown, pq_why(q, c, why, sizeof why));
        PQclear(q);
        goto out;
    }
    long have = strtol(PQgetvalue(q, 0, 0), NULL, 10);
    PQclear(q);
    if (have > 0) {
        err_set(e, ERR_EXISTS,
                "%s already holds %ld table%s: migrate copies a desk into an empty database "
                "only (create one with createdb)",
                shown, have, have == 1 ? "" : "s");
        goto out;
    }
    r->tables = calloc(sch.n_tables, sizeof *r->tables);
    if (!r->tables) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    r->n_tables = sch.n_tables;
    r->version = sch.version;
    if (pg_exec(c, "BEGIN", "starting the copy", e) < 0)
        goto out;
    in_tx = true;
    if (pg_exec(c, sch.create_sql, "creating the tables", e) < 0)
        goto out;
    for (size_t i = 0; i < sch.n_tables; i++) {
        if (copy_table(db, c, &sch.tables[i], i, &r->tables[i], e) < 0)
            goto out;
        r->rows += r->tables[i].rows;
    }
    if (pg_exec(c, sch.finish_sql, "creating the indexes, keys and search", e) < 0)
        goto out;
    {
        /* the server's hand-written parts are this fusion's: at its server version */
        char meta[256], ver[16], at[24], server[16];
        snprintf(ver, sizeof ver, "%d", sch.version);
        snprintf(at, sizeof at, "%lld", (long long)time(NULL));
        snprintf(server, sizeof server, "%d", PG_SERVER_VERSION);
        const char *p[4] = {ver, at, server, NULL};
        snprintf(meta, sizeof meta,
                 "INSERT INTO fusion_meta (key, value) VALUES ('schema_version', $1), "
                 "('migrated_at', $2), ('source', 'sqlite'), ('server_version', $3)");
        PGresult *m = PQexecParams(c, meta, 3, NULL, p, NULL, NULL, 0);
        if (!m || PQresultStatus(m) != PGRES_COMMAND_OK) {
            char why[200];
            err_set(e, ERR_IO, "writing fusion_meta: %s", pq_why(m, c, why, sizeof why));
            PQclear(m);
            goto out;
        }
        PQclear(m);
    }
    /* the check: every table read back from the server, in the same order */
    for (size_t i = 0; i < sch.n_tables; i++) {
        uint64_t n = 0;
        char sha[65];
        if (server_hash(c, &sch.tables[i], &n, sha, e) < 0)
            goto out;
        const pg_migrate_table *d = &r->tables[i];
        if (n != d->rows || strcmp(sha, d->sha256)) {
            err_set(e, ERR_STATE,
                    "table %s differs on the server after the copy (desk: %" PRIu64
                    " rows, sha256 %.12s; server: %" PRIu64 " rows, %.12s): rolled back, "
                    "nothing written to %s",
                    d->name, d->rows, d->sha256, n, sha, shown);
            goto out;
        }
    }
    if (pg_exec(c, "COMMIT", "committing the copy", e) < 0)
        goto out;
    in_tx = false;
    LOG_I("pgstore", "migrated %s to %s: %zu tables, %" PRIu64 " rows, schema %d", desk_db, shown,
          r->n_tables, r->rows, r->version);
    rc = 0;
out:
    if (in_tx) {
        PGresult *rb = PQexec(c, "ROLLBACK");
        PQclear(rb);
        LOG_W("pgstore", "migrate to %s rolled back", shown);
    }
    pg_close(&c);
    pg_schema_free(&sch);
    if (db) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
    }
    if (rc < 0)
        pg_migrate_report_free(r);
    return rc;
}

void pg_migrate_report_free(pg_migrate_report *r)
{
    if (!r)
        return;
    free(r->tables);
    memset(r, 0, sizeof *r);
}
