/* store_internal.h: what the store_*.c files share and nothing outside src/store
 * (and its unit tests) sees: the connection struct, the per-connection statement
 * cache, the migration runner and small bind/column helpers. */
#ifndef FUSION_STORE_INTERNAL_H
#define FUSION_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "store/store.h"
#include "store/store_book.h"

typedef struct stmt_slot {
    const char *sql; /* key: the address of a static SQL string */
    sqlite3_stmt *stmt;
} stmt_slot;

struct store {
    sqlite3 *db;
    char *path;
    bool in_txn;
    bool durable_txn;
    stmt_slot *slots; /* open addressing, power-of-two capacity */
    size_t n_slots;
    size_t used;
    /* the outbound transactions' server (store_book.h); ob_open: the row added in the
     * open transaction is in a server transaction still open */
    const struct store_outbound_book *ob;
    void *ob_conn;
    bool ob_open;
    /* the book the escrow and event reads go to (store_set_reader); NULL: this file */
    const store_book_reader *rd;
    void *rconn;
};

/* The prepared statement for a static SQL string, reset and with cleared bindings,
 * prepared on first use. The cache is keyed by the string's address, so callers
 * pass `static const char SQL_x[]` objects, never computed strings. */
sqlite3_stmt *store_stmt(store *s, const char *sql, err *e);

/* On a desk whose book is on a server (store_book.h): the outbound row id as desk.db has it
 * now, written there too (put_nonce: every row of its sender and nonce, a replacement's
 * siblings). 0 without a server. */
int store_outbound_book_put(store *s, int64_t id, err *e);
int store_outbound_book_put_nonce(store *s, int64_t id, err *e);

/* err_set with the connection's message: "what: sqlite message". Returns -1. */
int store_fail(store *s, err *e, const char *what);

/* Runs sqlite3_step to completion (expecting no rows). */
int store_exec_stmt(store *s, sqlite3_stmt *st, const char *what, err *e);

/* Keeps of out[0..*n) the inflows read from the book that sql (?1 the book database's
 * identity, ?2 the inflow's id; a row when desk.db already holds one for it) finds none
 * of; what names the read in an error. None left: *out NULL (as desk.db's empty list). -1:
 * *out freed, *n 0. */
int store_book_inflows_unmarked(store *s, const char *sql, const char *book, store_inflow **out,
                                size_t *n, const char *what, err *e);

/* Migration steps: steps[i] takes the schema from version i to i+1. A step that begins with
 * STORE_STEP_REBUILD rebuilds a table other tables reference (SQLite's ALTER TABLE
 * procedure: new table, copy, drop, rename, indexes and triggers made again): it runs with
 * foreign keys off (dropping the old table would otherwise delete it row by row against
 * the references), and its transaction commits only when PRAGMA foreign_key_check finds
 * nothing. */
#define STORE_STEP_REBUILD "-- rebuild (foreign keys off, checked before commit)\n"
int store_migrate(sqlite3 *db, const char *const *steps, int n_steps, err *e);
extern const char *const store_schema_steps[];
/* The SQL functions of a desk connection (fusion_unhex); SQLITE_OK or an error code. */
int store_sql_functions(sqlite3 *db);
extern const int store_schema_n_steps;
/* The schema version from which desk.db holds the audit head (audit.h). */
extern const int store_schema_audit_head_version;

/* Conversions for columns stored as text. 64-bit unsigned values (chain ids, block
 * numbers) are bound as the same bits in SQLite's signed 64-bit INTEGER. */
int store_bind_u64(sqlite3_stmt *st, int i, uint64_t v);
uint64_t store_col_u64(sqlite3_stmt *st, int i);
int store_bind_addr(sqlite3_stmt *st, int i, const addr *a);
int store_col_addr(sqlite3_stmt *st, int i, addr *out);
int store_bind_hash(sqlite3_stmt *st, int i, const uint8_t h[32]);
int store_col_hash(sqlite3_stmt *st, int i, uint8_t out[32]);
/* A blob column of exactly n bytes (the events' hashes and addresses); -1 otherwise. */
int store_col_bytes(sqlite3_stmt *st, int i, uint8_t *out, size_t n);
int store_bind_u256(sqlite3_stmt *st, int i, const u256 *v);
int store_col_u256(sqlite3_stmt *st, int i, u256 *out);
void store_copy_text(sqlite3_stmt *st, int i, char *out, size_t cap);
/* Lowercase "0x" + hex of n bytes into out (cap >= 2n + 3). */
void store_hex(char *out, size_t cap, const uint8_t *b, size_t n);
int64_t store_now(void);
/* Makes room for item n in a growable array of `size`-byte items. */
int store_grow(void **items, size_t *cap, size_t n, size_t size, err *e);

/* Fills one item from the current row of st; -1 with e set for a malformed row. */
typedef int (*store_fill_fn)(sqlite3_stmt *st, void *item, err *e);
/* The one list loop: steps st (bound by the caller) to the end, growing a malloc'ed array of
 * size-byte items, each zeroed and then filled by fn (its error is prefixed with `what`).
 * Resets st; on failure frees the array. */
int store_collect(store *s, sqlite3_stmt *st, size_t size, store_fill_fn fn, void **out,
                  size_t *n, const char *what, err *e);
/* Reads at most one row into out; *found false when there is none. Resets st. */
int store_get_row(store *s, sqlite3_stmt *st, store_fill_fn fn, void *out, bool *found,
                  const char *what, err *e);

/* Binds text, or NULL when t is NULL or empty. */
void store_bind_opt_text(sqlite3_stmt *st, int i, const char *t);

/* One escrow_search row (rowid and the searched text) from an escrows row alias: shared by
 * the schema step that builds the index and its rebuild (store_escrow.c). */
#define SEARCH_ASSET_(row, chain)                                                                  \
    "COALESCE((SELECT symbol FROM tokens"                                                         \
    "          WHERE chain_id = " chain " AND address = " row ".token),"                           \
    " CASE WHEN " row ".token = '0x0000000000000000000000000000000000000000'"                     \
    " THEN (SELECT native_symbol FROM chains WHERE chain_id = " chain ") END)"
#define SEARCH_ROW_(row)                                                                           \
    row ".rowid, " row ".address, " row ".payer, " row ".payee, " row ".state,"                    \
    " (SELECT name FROM chains WHERE chain_id = " row ".chain_id), "                               \
    SEARCH_ASSET_(row, row ".chain_id")

#endif
