/* pg_schema.c: the PostgreSQL schema of a desk, derived from the SQLite one, so the schema
 * has one description: the steps of src/store/store_schema.c. A fresh (or any current)
 * SQLite desk is read back through SQLite's own catalogue (pragma table_list, table_info,
 * index_list, index_info, foreign_key_list) and turned into PostgreSQL DDL by these rules:
 *
 *   INTEGER -> bigint (the store keeps unsigned 64-bit values as their bits), TEXT -> text,
 *   BLOB -> bytea, REAL -> double precision; any other declared type is refused, naming
 *   the table and column (a new step with a new type must teach this table first);
 *   NOT NULL, DEFAULT (SQLite's literal text, which PostgreSQL reads the same) and the
 *   PRIMARY KEY carry over; a rowid table's INTEGER PRIMARY KEY becomes an identity column
 *   whose sequence is moved past the copied rows;
 *   UNIQUE constraints and CREATE [UNIQUE] INDEX carry over with their columns; a partial
 *   index keeps its WHERE clause as written (the ones in the schema are plain SQL both
 *   dialects read; one that is not fails on the server, in the migrate test);
 *   FOREIGN KEY ... ON DELETE carry over, added after the rows are copied.
 *
 * Named exceptions, not carried (the store's writes, which enforce or keep them, run on
 * SQLite only today; docs/scale.md lists them as what a full backend needs):
 *   CHECK constraints (SQLite's catalogue does not expose them apart from the CREATE text);
 *   triggers, but for those on escrows, which have a PL/pgSQL twin (pg_escrows_function_sql:
 *   escrow_totals' count and the api_feed rows of escrows; the sync writes escrows on the
 *   server); not the api_feed rows of other tables, nor case_events' append-only guard;
 *   virtual tables and their shadow tables: the FTS5 trigram index escrow_search becomes a
 *   pg_trgm GIN index over the same escrow columns (address, payer, payee, state; the
 *   chain name and asset symbol it also holds are other tables' columns on PostgreSQL);
 *   SQLite's own tables (sqlite_sequence, sqlite_stat*).
 * The PostgreSQL side adds fusion_meta (the desk schema version the copy came from, and the
 * server version: the server steps of pg_upgrade.c its hand-written parts are at). */
#include "pgstore/pgstore.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- a growing string ---- */

typedef struct sb {
    char *s;
    size_t len, cap;
    bool oom;
} sb;

static void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap : 256) * 2 + (size_t)n;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
        if (b->len == 0)
            b->s[0] = '\0';
    }
}

/* The string (owned by the caller), or NULL when out of memory. */
static char *sb_take(sb *b)
{
    if (b->oom) {
        free(b->s);
        b->s = NULL;
        return NULL;
    }
    if (!b->s)
        return strdup("");
    char *s = b->s;
    b->s = NULL;
    return s;
}

/* An SQL identifier, double-quoted (the schema's names are plain; quoting keeps a name
 * like "key" or "at" a name on both sides). */
static void sb_ident(sb *b, const char *name)
{
    sb_printf(b, "\"");
    for (const char *p = name; *p; p++)
        sb_printf(b, *p == '"' ? "\"\"" : "%c", *p);
    sb_printf(b, "\"");
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, err *e)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "reading the desk's schema: %s", sqlite3_errmsg(db));
    return 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static const char *pg_type(pg_col_kind k)
{
    switch (k) {
    case PG_COL_INT:
        return "bigint";
    case PG_COL_TEXT:
        return "text";
    case PG_COL_BLOB:
        return "bytea";
    case PG_COL_REAL:
        return "double precision";
    }
    return "text";
}

static int kind_of(const char *table, const char *col, const char *decl, pg_col_kind *k, err *e)
{
    if (!strcasecmp(decl, "INTEGER"))
        *k = PG_COL_INT;
    else if (!strcasecmp(decl, "TEXT"))
        *k = PG_COL_TEXT;
    else if (!strcasecmp(decl, "BLOB"))
        *k = PG_COL_BLOB;
    else if (!strcasecmp(decl, "REAL"))
        *k = PG_COL_REAL;
    else
        return err_set(e, ERR_INVALID,
                       "table %s, column %s: type '%s' has no PostgreSQL twin (add it to the "
                       "type rules of src/pgstore/pg_schema.c)",
                       table, col, decl);
    return 0;
}

/* The column list of an index, quoted: "a", "b". */
static int index_cols(sqlite3 *db, const char *table, const char *index, sb *out, err *e)
{
    sqlite3_stmt *st = NULL;
    if (prep(db, "SELECT name FROM pragma_index_info(?1) ORDER BY seqno", &st, e) < 0)
        return -1;
    sqlite3_bind_text(st, 1, index, -1, SQLITE_STATIC);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
            sqlite3_finalize(st);
            return err_set(e, ERR_INVALID,
                           "table %s: index %s is on an expression, which the PostgreSQL "
                           "rules of src/pgstore/pg_schema.c do not carry",
                           table, index);
        }
        sb_printf(out, n++ ? ", " : "");
        sb_ident(out, col_text(st, 0));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || n == 0)
        return err_set(e, ERR_IO, "reading index %s of %s: %s", index, table, sqlite3_errmsg(db));
    return 0;
}

/* The WHERE clause of a partial index, from its CREATE text ("" when none). */
static int index_where(sqlite3 *db, const char *index, sb *out, err *e)
{
    sqlite3_stmt *st = NULL;
    if (prep(db, "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1", &st, e) < 0)
        return -1;
    sqlite3_bind_text(st, 1, index, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *sql = col_text(st, 0), *w = NULL;
        for (const char *p = sql; (p = strcasestr(p, " WHERE ")); p++)
            w = p;
        if (w)
            sb_printf(out, "%s", w);
    }
    sqlite3_finalize(st);
    return 0;
}

static int read_table(sqlite3 *db, const char *name, bool without_rowid, pg_table *t, sb *create,
                      sb *finish, err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    sb pk = {0}, order_s = {0}, order_p = {0};
    t->name = strdup(name);
    if (!t->name)
        return err_set(e, ERR_NOMEM, "out of memory");
    if (prep(db,
             "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) "
             "ORDER BY cid",
             &st, e) < 0)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    size_t cap = 0, n_pk = 0;
    char *pk_int = NULL; /* the one INTEGER PRIMARY KEY column, if so */
    sb_printf(create, "CREATE TABLE ");
    sb_ident(create, name);
    sb_printf(create, " (");
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (t->n_cols == cap) {
            cap = cap ? cap * 2 : 16;
            pg_col *p = realloc(t->cols, cap * sizeof *p);
            if (!p) {
                err_set(e, ERR_NOMEM, "out of memory");
                goto out;
            }
            t->cols = p;
        }
        pg_col *c = &t->cols[t->n_cols];
        memset(c, 0, sizeof *c);
        c->name = strdup(col_text(st, 0));
        if (!c->name) {
            err_set(e, ERR_NOMEM, "out of memory");
            goto out;
        }
        t->n_cols++;
        if (kind_of(name, c->name, col_text(st, 1), &c->kind, e) < 0)
            goto out;
        sb_printf(create, "%s\n  ", t->n_cols > 1 ? "," : "");
        sb_ident(create, c->name);
        sb_printf(create, " %s", pg_type(c->kind));
        if (sqlite3_column_int(st, 2))
            sb_printf(create, " NOT NULL");
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            sb_printf(create, " DEFAULT %s", col_text(st, 3));
        if (sqlite3_column_int(st, 4) > 0) {
            n_pk++;
            if (c->kind == PG_COL_INT)
                pk_int = c->name;
        }
    }
    if (step != SQLITE_DONE) {
        err_set(e, ERR_IO, "reading table %s: %s", name, sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (t->n_cols == 0) {
        err_set(e, ERR_INVALID, "table %s has no columns", name);
        goto out;
    }
    /* the primary key, in key order; it also orders the rows for the comparison */
    if (prep(db, "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk", &st, e) < 0)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *cn = col_text(st, 0);
        sb_printf(&pk, pk.len ? ", " : "");
        sb_ident(&pk, cn);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (n_pk == 1 && pk_int && !without_rowid) {
        /* the rowid alias: ids keep coming from a sequence on the server */
        t->identity = strdup(pk_int);
        if (!t->identity) {
            err_set(e, ERR_NOMEM, "out of memory");
            goto out;
        }
        sb_printf(create, ",\n  PRIMARY KEY (%s)", pk.s);
        sb_printf(finish, "ALTER TABLE ");
        sb_ident(finish, name);
        sb_printf(finish, " ALTER COLUMN ");
        sb_ident(finish, pk_int);
        sb_printf(finish, " ADD GENERATED BY DEFAULT AS IDENTITY;\n");
        sb_printf(finish, "SELECT setval(pg_get_serial_sequence('%s', '%s'), max(\"%s\")) FROM ",
                  name, pk_int, pk_int);
        sb_ident(finish, name);
        sb_printf(finish, ";\n");
    } else if (n_pk) {
        sb_printf(create, ",\n  PRIMARY KEY (%s)", pk.s);
    }
    /* row order for the comparison: the key when there is one, else every column */
    {
        /* ordered by the key columns in key order, else by all columns */
        sqlite3_stmt *q = NULL;
        const char *sql = n_pk ? "SELECT name, type FROM pragma_table_info(?1) WHERE pk > 0 "
                                 "ORDER BY pk"
                               : "SELECT name, type FROM pragma_table_info(?1) ORDER BY cid";
        if (prep(db, sql, &q, e) < 0)
            goto out;
        sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        while (sqlite3_step(q) == SQLITE_ROW) {
            const char *cn = col_text(q, 0);
            bool text = !strcasecmp(col_text(q, 1), "TEXT");
            sb_printf(&order_s, order_s.len ? ", " : "");
            sb_ident(&order_s, cn);
            sb_printf(&order_p, order_p.len ? ", " : "");
            sb_ident(&order_p, cn);
            /* SQLite's BINARY collation is byte order; NULLs sort first there */
            sb_printf(&order_p, "%s NULLS FIRST", text ? " COLLATE \"C\"" : "");
        }
        sqlite3_finalize(q);
    }
    /* UNIQUE constraints (in the table) and indexes (after the rows) */
    if (prep(db,
             "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1) "
             "ORDER BY name",
             &st, e) < 0)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *iname = col_text(st, 0), *origin = col_text(st, 2);
        if (!strcmp(origin, "pk"))
            continue;
        sb cols = {0};
        if (index_cols(db, name, iname, &cols, e) < 0) {
            free(cols.s);
            goto out;
        }
        if (!strcmp(origin, "u")) {
            sb_printf(create, ",\n  UNIQUE (%s)", cols.s ? cols.s : "");
        } else {
            sb_printf(finish, "CREATE %sINDEX ", sqlite3_column_int(st, 1) ? "UNIQUE " : "");
            sb_ident(finish, iname);
            sb_printf(finish, " ON ");
            sb_ident(finish, name);
            sb_printf(finish, " (%s)", cols.s ? cols.s : "");
            if (sqlite3_column_int(st, 3) && index_where(db, iname, finish, e) < 0) {
                free(cols.s);
                goto out;
            }
            sb_printf(finish, ";\n");
        }
        free(cols.s);
    }
    sqlite3_finalize(st);
    st = NULL;
    /* foreign keys, grouped by id, columns in order */
    if (prep(db,
             "SELECT id, \"table\", \"from\", \"to\", on_delete FROM "
             "pragma_foreign_key_list(?1) ORDER BY id, seq",
             &st, e) < 0)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    {
        int cur = -1;
        sb from = {0}, to = {0};
        char parent[128] = "", on_delete[32] = "";
        bool to_all = true;
        for (;;) {
            step = sqlite3_step(st);
            int id = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : -2;
            if (id != cur && cur != -1) {
                sb_printf(finish, "ALTER TABLE ");
                sb_ident(finish, name);
                sb_printf(finish, " ADD FOREIGN KEY (%s) REFERENCES ", from.s ? from.s : "");
                sb_ident(finish, parent);
                if (to_all)
                    sb_printf(finish, " (%s)", to.s ? to.s : "");
                if (strcasecmp(on_delete, "NO ACTION"))
                    sb_printf(finish, " ON DELETE %s", on_delete);
                sb_printf(finish, ";\n");
                free(from.s);
                free(to.s);
                memset(&from, 0, sizeof from);
                memset(&to, 0, sizeof to);
                to_all = true;
            }
            if (step != SQLITE_ROW)
                break;
            cur = id;
            snprintf(parent, sizeof parent, "%s", col_text(st, 1));
            snprintf(on_delete, sizeof on_delete, "%s", col_text(st, 4));
            sb_printf(&from, from.len ? ", " : "");
            sb_ident(&from, col_text(st, 2));
            if (sqlite3_column_type(st, 3) == SQLITE_NULL) {
                to_all = false; /* the parent's primary key */
            } else {
                sb_printf(&to, to.len ? ", " : "");
                sb_ident(&to, col_text(st, 3));
            }
        }
        free(from.s);
        free(to.s);
        if (step != SQLITE_DONE) {
            err_set(e, ERR_IO, "reading the foreign keys of %s: %s", name, sqlite3_errmsg(db));
            goto out;
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    sb_printf(create, "\n);\n");
    t->order_sqlite = sb_take(&order_s);
    t->order_pg = sb_take(&order_p);
    if (!t->order_sqlite || !t->order_pg || create->oom || finish->oom || pk.oom) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    free(pk.s);
    free(order_s.s);
    free(order_p.s);
    return rc;
}

/* What the desk's SQLite triggers on escrows keep (store_schema.c: escrows_search_i/_d,
 * api_feed_escrow_i/_u/_d), kept the same way on the server, in the transaction that writes
 * the escrow, whoever writes it: the row count in escrow_totals, and an api_feed row for
 * each escrow created, each change of its state and each removal (`at`: the transaction's
 * time, as unixepoch() is the statement's there). The search rows need no trigger here: the
 * trigram index is over the escrows' own columns. Created after the rows are copied (the
 * copied counts and feed already hold them).
 * A feed row's id is drawn at its insert, visible at its transaction's commit: two
 * transactions (two chains' syncers) could commit their ids out of order, and a reader going
 * by id (fusion serve's copy, pg_read.c's rd_feed) would pass the lower one, invisible yet,
 * for good. So every writer of a feed row first takes one transaction-level advisory lock
 * (the two-key form: apart from the chains' one-key locks, pg_lock.c), before escrow_totals'
 * row: feed ids are drawn and committed in one order, and the two locks are always taken in
 * that order. (SQLite has one writer: its feed needs none.) */
/* The escrow table's default order (pg_read.c's page): IF NOT EXISTS, so server step 2
 * (pg_upgrade.c) adds it to a server copied before it. */
const char pg_escrows_recent_sql[] =
    "CREATE INDEX IF NOT EXISTS escrows_recent ON escrows "
    "(created_block, chain_id, address COLLATE \"C\");\n";

/* The function is CREATE OR REPLACE, so the server steps (pg_upgrade.c) bring an older
 * server's to this body: a change to it is a new server step there (PG_SERVER_VERSION up). */
const char pg_escrows_function_sql[] =
    "CREATE OR REPLACE FUNCTION fusion_escrows_changed() RETURNS trigger LANGUAGE plpgsql"
    " AS $f$\n"
    "BEGIN\n"
    "  IF TG_OP <> 'UPDATE' OR NEW.state IS DISTINCT FROM OLD.state THEN\n"
    "    PERFORM pg_advisory_xact_lock(1717920612, 0);\n"
    "  END IF;\n"
    "  IF TG_OP = 'INSERT' THEN\n"
    "    UPDATE escrow_totals SET n = n + 1 WHERE id = 1;\n"
    "    INSERT INTO api_feed (kind, chain_id, ref, state, at) VALUES ('escrow.created',"
    " NEW.chain_id, NEW.address, NEW.state, extract(epoch FROM now())::bigint);\n"
    "  ELSIF TG_OP = 'DELETE' THEN\n"
    "    UPDATE escrow_totals SET n = n - 1 WHERE id = 1;\n"
    "    INSERT INTO api_feed (kind, chain_id, ref, state, at) VALUES ('escrow.removed',"
    " OLD.chain_id, OLD.address, OLD.state, extract(epoch FROM now())::bigint);\n"
    "  ELSIF NEW.state IS DISTINCT FROM OLD.state THEN\n"
    "    INSERT INTO api_feed (kind, chain_id, ref, state, at) VALUES ('escrow.state',"
    " NEW.chain_id, NEW.address, NEW.state, extract(epoch FROM now())::bigint);\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $f$;\n";

#define PG_ESCROW_TRIGGER                                                                          \
    "CREATE TRIGGER escrows_changed AFTER INSERT OR DELETE OR UPDATE OF state ON escrows"         \
    " FOR EACH ROW EXECUTE FUNCTION fusion_escrows_changed();\n"

int pg_schema_from_sqlite(sqlite3 *db, pg_schema *out, err *e)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    sb create = {0}, finish = {0};
    bool have_escrows = false;
    int n_projection = 0;
    size_t cap = 0;
    if (prep(db, "PRAGMA user_version", &st, e) < 0)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        out->version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    /* ordinary tables in creation order: not views, virtual tables or their shadows, not
     * SQLite's own */
    if (prep(db,
             "SELECT s.name, l.wr FROM sqlite_schema s JOIN pragma_table_list l "
             "ON l.schema = 'main' AND l.name = s.name "
             "WHERE s.type = 'table' AND l.type = 'table' "
             "AND s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY s.rowid",
             &st, e) < 0)
        return -1;
    sb_printf(&create, "CREATE TABLE fusion_meta (key text PRIMARY KEY, value text NOT NULL);\n");
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n_tables == cap) {
            cap = cap ? cap * 2 : 32;
            pg_table *p = realloc(out->tables, cap * sizeof *p);
            if (!p) {
                err_set(e, ERR_NOMEM, "out of memory");
                goto fail;
            }
            out->tables = p;
        }
        pg_table *t = &out->tables[out->n_tables++];
        memset(t, 0, sizeof *t);
        const char *name = col_text(st, 0);
        if (!strcmp(name, "escrows"))
            have_escrows = true;
        if (!strcmp(name, "escrow_totals") || !strcmp(name, "api_feed"))
            n_projection++;
        if (read_table(db, name, sqlite3_column_int(st, 1) != 0, t, &create, &finish, e) < 0)
            goto fail;
    }
    if (step != SQLITE_DONE) {
        err_set(e, ERR_IO, "reading the desk's tables: %s", sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (out->n_tables == 0) {
        err_set(e, ERR_INVALID, "the desk has no tables");
        goto fail;
    }
    bool have_projection = n_projection == 2;
    /* the escrow filter: FTS5 trigram on SQLite, pg_trgm here; and the escrow table's
     * default order (most recent: pg_read.c's page), which SQLite's rowid serves */
    if (have_escrows)
        sb_printf(&finish,
                  "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
                  "CREATE INDEX escrows_search_trgm ON escrows USING gin "
                  "((address || ' ' || payer || ' ' || payee || ' ' || state) gin_trgm_ops);\n"
                  "%s%s%s",
                  pg_escrows_recent_sql, have_projection ? pg_escrows_function_sql : "",
                  have_projection ? PG_ESCROW_TRIGGER : "");
    out->create_sql = sb_take(&create);
    out->finish_sql = sb_take(&finish);
    if (!out->create_sql || !out->finish_sql) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    return 0;
fail:
    sqlite3_finalize(st);
    free(create.s);
    free(finish.s);
    pg_schema_free(out);
    return -1;
}

void pg_schema_free(pg_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_tables; i++) {
        pg_table *t = &s->tables[i];
        for (size_t j = 0; j < t->n_cols; j++)
            free(t->cols[j].name);
        free(t->cols);
        free(t->name);
        free(t->order_sqlite);
        free(t->order_pg);
        free(t->identity);
    }
    free(s->tables);
    free(s->create_sql);
    free(s->finish_sql);
    memset(s, 0, sizeof *s);
}
