/* pgstore.h: the desk's book on a PostgreSQL server (libpq), as far as it goes today: a
 * connection whose messages never show a password, the PostgreSQL schema derived from the
 * SQLite desk's own (one description, pg_schema.c), the copy of a SQLite desk to a server
 * verified table by table (pg_migrate.c), and the advisory lock that lets one syncer per
 * chain run across the firm (pg_lock.c), and commits announced to every workstation
 * (pg_notify.c), and the chain sync's events, checkpoint, escrow projection and vault
 * flows (pg_sync.c), and the desk's outbound transactions (pg_outbound.c), and the desk's
 * escrow and checkpoint reads for the UI and the API (pg_read.c), and the chains `chain
 * add|remove` add to or take from it (pg_chain.c, declared in pg_desk.h), and the server's
 * own steps, which bring an older server's hand-written parts to this fusion's
 * (pg_upgrade.c). The other store functions (store.h) still run on SQLite only;
 * docs/scale.md says exactly what a full backend still needs. */
#ifndef FUSION_PGSTORE_PGSTORE_H
#define FUSION_PGSTORE_PGSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "base/attr.h"
#include "base/err.h"
#include "pgstore/pg_desk.h"
#include "store/store_book.h"

/* ---- connection (pgstore.c) ---- */

/* True for a postgresql:// or postgres:// URL (what --to and --db accept). */
bool pg_url_is_pg(const char *url);
/* url with its password replaced by "***" (user:PASS@ in the authority, password= in the
 * query or in a keyword string); everything else as given. Always NUL-terminated. */
void pg_url_redact(const char *url, char *out, size_t cap);
/* Connects. Credentials come from the URL, PGPASSFILE/~/.pgpass or PGPASSWORD (libpq's
 * own rules); TLS is used when the server offers it (libpq's sslmode=prefer) unless the URL
 * says otherwise. A failure names the server by its redacted URL, with libpq's reason. */
int pg_connect(PGconn **out, const char *url, err *e) FUSION_WUR;
/* The one connect policy of the desk's connections to its book (the reads', the outbound
 * transactions', the sync's, the UI's LISTEN watcher's, chain add/remove's): url with
 * connect_timeout=PG_CONNECT_TIMEOUT_S, so a server that does not answer at all holds a
 * connect at most that long, and TCP keepalives (keepalives=1, idle PG_KEEPALIVES_IDLE_S,
 * then a probe every PG_KEEPALIVES_INTERVAL_S, PG_KEEPALIVES_COUNT unanswered: dead), so a
 * connection to a server gone without a word (a host down, a dropped route) fails in about
 * 25 s instead of waiting for the kernel's two hours; each added unless the URL's query
 * names it (the URL's own value kept). A Unix-socket connection ignores keepalives. -1
 * when out is too small. */
#define PG_CONNECT_TIMEOUT_S "2"
#define PG_KEEPALIVES_IDLE_S "10"
#define PG_KEEPALIVES_INTERVAL_S "5"
#define PG_KEEPALIVES_COUNT "3"
/* Room for a URL of book.conf (1023 bytes at most) with the policy added. */
#define PG_URL_POLICY_MAX 1280
int pg_url_connect_policy(const char *url, char *out, size_t cap) FUSION_WUR;
/* A message of libpq or of the server (outside text) as one printable line in out: its
 * newlines and tabs become spaces, trailing blanks go, control characters are escaped
 * (text_safe). */
void pg_reason_line(const char *msg, char *out, size_t cap);
/* Why a call failed, as one printable line (pg_reason_line): the result's message, or the
 * connection's when r is NULL or says nothing. */
void pg_result_reason(PGconn *c, const PGresult *r, char *out, size_t cap);
/* PQfinish and *c = NULL; NULL-safe. */
void pg_close(PGconn **c);
/* A bigint column as the server's text: digits with an optional '-' (refused when nonneg),
 * within a bigint; anything else (NULL, blanks, a sign alone, out of range) is -1. */
int pg_text_int(const char *t, bool nonneg, int64_t *out) FUSION_WUR;
/* Runs sql (no parameters, no rows wanted); what = what it was doing, for the message. */
int pg_exec(PGconn *c, const char *sql, const char *what, err *e) FUSION_WUR;

/* ---- the schema from one description (pg_schema.c) ---- */

typedef enum { PG_COL_INT, PG_COL_TEXT, PG_COL_BLOB, PG_COL_REAL } pg_col_kind;

typedef struct pg_col {
    char *name;
    pg_col_kind kind;
} pg_col;

typedef struct pg_table {
    char *name;
    pg_col *cols;
    size_t n_cols;
    char *order_sqlite; /* ORDER BY list that sorts the rows the same way on both sides */
    char *order_pg;
    char *identity; /* the rowid alias (INTEGER PRIMARY KEY) whose sequence follows the rows */
} pg_table;

typedef struct pg_schema {
    pg_table *tables; /* the desk's tables, in creation order */
    size_t n_tables;
    char *create_sql; /* CREATE TABLE of every table: run before the rows are copied */
    char *finish_sql; /* indexes, foreign keys, sequences, the trigram search: after */
    int version;      /* the SQLite desk's schema version (PRAGMA user_version) */
} pg_schema;

/* Reads the schema of the open SQLite desk and derives the PostgreSQL one from it (the
 * rules and their named exceptions are at the top of pg_schema.c). A column type, an
 * index or a table the rules do not know is refused, naming it, rather than guessed. */
int pg_schema_from_sqlite(sqlite3 *db, pg_schema *out, err *e) FUSION_WUR;
void pg_schema_free(pg_schema *s);

/* The escrows' trigger function (CREATE OR REPLACE FUNCTION fusion_escrows_changed), as
 * today's desk has it: the fresh schema's, and what a server step brings an older one to. */
extern const char pg_escrows_function_sql[];
/* The index of the escrow table's default order (CREATE INDEX IF NOT EXISTS escrows_recent). */
extern const char pg_escrows_recent_sql[];

/* ---- the server's own steps (pg_upgrade.c) ---- */

/* A server's version: how many of the server steps (pg_upgrade.c) its hand-written parts
 * have had (the trigger functions, which the desk's schema steps do not describe), in
 * fusion_meta's key 'server_version', apart from 'schema_version' (the desk's, which the
 * copy came from). A server with no such key predates them: version 0. `db migrate` makes
 * a server at PG_SERVER_VERSION; `fusion db upgrade` brings an older one to it. */
#define PG_SERVER_VERSION 3
/* The transaction-level advisory lock (two-key form) each step runs under, so two
 * workstations upgrading at once apply each step once. */
#define PG_UPGRADE_LOCK_A 1717920612
#define PG_UPGRADE_LOCK_B 1

/* The server's version (0: no key), read on c; a value that is not a version, or no
 * fusion_meta (not a desk's book), is refused in one line naming the server by shown
 * (ERR_STATE; ERR_IO when the connection was lost). */
int pg_server_version_read(PGconn *c, const char *shown, int *out, err *e) FUSION_WUR;
/* What every workstation's writer checks when it attaches to a server: its version is
 * PG_SERVER_VERSION. Older or newer: pg_server_version_refused's line (nothing is written to
 * the server either way). */
int pg_server_check(PGconn *c, const char *shown, err *e) FUSION_WUR;
/* The one line for a book on a server at version v, not this fusion's (ERR_STATE; returns
 * -1): it begins STORE_BOOK_VERSION (store/store_book.h), names both versions and what to do
 * (older: `fusion db upgrade`; newer: a newer fusion) before the server (shown) and why
 * (what could not be done), so a line cut short keeps the advice. */
int pg_server_version_refused(const char *shown, int v, const char *why, err *e);
/* After a statement failed to prepare on c (res its result, may be NULL): when the server
 * still answers and its version is not this fusion's, -1 with pg_server_version_refused's
 * line (why: "<cannot>: <the server's reason>"); else 0, e untouched (the caller says why
 * itself). The version is read only then: a desk's reads and writes serve any version
 * whose tables they find. */
int pg_prepare_refused(PGconn *c, const PGresult *res, const char *shown, const char *cannot,
                       err *e) FUSION_WUR;

typedef struct pg_upgrade_report {
    int from, to;    /* the server's version before and after */
    int applied[16]; /* the steps this call applied (another upgrader may apply some) */
    size_t n_applied;
} pg_upgrade_report;
/* The one line describing step v (1..PG_SERVER_VERSION), or NULL. */
const char *pg_upgrade_step_what(int v);
/* Brings the server at url to PG_SERVER_VERSION: each missing step in one transaction under
 * the upgrade lock, the version read again under it (a step another upgrader applied
 * meanwhile is not applied again) and written with the step. A server newer than this
 * fusion: ERR_STATE, one line naming both versions, nothing written. At PG_SERVER_VERSION
 * already: nothing done (n_applied 0). */
int pg_server_upgrade(const char *url, pg_upgrade_report *r, err *e) FUSION_WUR;

/* ---- migrate (pg_migrate.c) ---- */

typedef struct pg_migrate_table {
    char name[64];
    uint64_t rows;
    char sha256[65]; /* of the rows in key order, the same on both sides */
} pg_migrate_table;

typedef struct pg_migrate_report {
    pg_migrate_table *tables; /* malloc'd; pg_migrate_report_free */
    size_t n_tables;
    uint64_t rows;
    int version;
} pg_migrate_report;

/* Copies the SQLite desk at desk_db (already at the current schema) to the empty database
 * at url in one transaction: the schema, every row (blobs as bytea), then per table the row
 * count and a SHA-256 of the rows read back from the server are compared with the desk's;
 * on any difference, or any failure, the transaction is rolled back and nothing is left on
 * the server. The desk is read from one snapshot (a sync may run meanwhile). */
int pg_migrate(const char *desk_db, const char *url, pg_migrate_report *r, err *e) FUSION_WUR;
void pg_migrate_report_free(pg_migrate_report *r);

/* ---- one syncer per chain (pg_lock.c) ---- */

/* The advisory-lock key of a chain: the first 8 bytes of SHA-256("fusion.chain-lock" ||
 * chain id, big-endian), so the desk's locks do not collide with another application's. */
int64_t pg_chain_lock_key(uint64_t chain_id);
/* pg_try_advisory_lock on the chain's key, on this session: *held true when this
 * connection now holds it (it is released when the session ends, however it ends: a
 * killed holder's lock goes with its connection), false when another session holds it. */
int pg_chain_lock_try(PGconn *c, uint64_t chain_id, bool *held, err *e) FUSION_WUR;
/* Releases a lock this session holds (pg_advisory_unlock); *was_held false when it did
 * not hold it. */
int pg_chain_lock_release(PGconn *c, uint64_t chain_id, bool *was_held, err *e) FUSION_WUR;

/* ---- commits announced (pg_notify.c) ---- */

/* The channel every commit of the book is announced on. */
#define PG_COMMIT_CHANNEL "fusion_commit"

/* Announces a commit: pg_notify(PG_COMMIT_CHANNEL, what). Inside a transaction the
 * server delivers it when (and only if) that transaction commits, so a listener never
 * hears of a rolled-back write. what: a short token (the aggregate and its key). */
int pg_commit_notify(PGconn *c, const char *what, err *e) FUSION_WUR;
/* The announcement of a server step applied (`fusion db upgrade`, pg_upgrade.c): what a
 * sync thread refused by the server's version waits for (store_book.wait_change). */
#define PG_SERVER_CHANGED "server:version"
/* LISTEN on PG_COMMIT_CHANNEL on this connection. */
int pg_commit_listen(PGconn *c, err *e) FUSION_WUR;
/* Waits up to timeout_ms (or until stop_fd, when >= 0, is readable) for an announcement;
 * *got false when none came. what: its payload, NUL-terminated, cut to cap. PQsocket is
 * what a UI loop would poll beside its own descriptors. */
int pg_commit_wait(PGconn *c, int timeout_ms, int stop_fd, char *what, size_t cap, bool *got,
                   err *e) FUSION_WUR;

/* ---- the chain sync's book on the server (pg_sync.c) ---- */

/* `fusion sync --db URL`: each chain thread's connection prepares its statements once,
 * takes the chain's lock (pg_chain_lock_try), and writes each range's events, block hashes,
 * checkpoint, escrow rows and vault flows, or a reorg's rewind (the touched escrows
 * rebuilt), in one transaction announced by pg_commit_notify ("events:ID", "reorg:ID").
 * Opening fails, naming the server by its redacted URL, when the database holds no desk's
 * tables or its escrows lack the triggers of pg_schema.c. */
/* pg_book: declared in pgstore/pg_desk.h */
/* Before a sync starts: the server answers, holds a desk's book, and configures each of
 * the n chains (the events refer to them); else one line saying which and what to do. */
int pg_book_check(const char *url, const uint64_t *chain_ids, size_t n, err *e) FUSION_WUR;

/* ---- the desk's reads from the server (pg_read.c) ---- */

/* The server's text rows as pg_read.c decodes them (outside input: a malformed field is
 * refused in one printable line naming the row, never guessed). A checkpoint: synced_block,
 * synced_hash, final_block, head_block, updated_at. */
enum { PG_CHECKPOINT_NCOLS = 5 };
int pg_checkpoint_of_row(const char *const v[PG_CHECKPOINT_NCOLS], uint64_t chain_id,
                         store_checkpoint *out, err *e) FUSION_WUR;
/* A line of the escrow table: chain_id, chain name, address, payer, payee, amount, state,
 * approvals, threshold, last_event_block, pending, asset symbol, decimals (NULL: unknown). */
enum { PG_LINE_NCOLS = 13 };
int pg_escrow_line_of_row(const char *const v[PG_LINE_NCOLS], store_escrow_line *l,
                          err *e) FUSION_WUR;

/* A row of the server's change feed: id, kind, chain_id, ref, state ('' for NULL), at;
 * kind, ref and state whole in store_feed_row's fields and printable, or refused. */
enum { PG_FEED_NCOLS = 6 };
int pg_feed_of_row(const char *const v[PG_FEED_NCOLS], store_feed_row *f, err *e) FUSION_WUR;

/* A row of the server's inflows: id, chain_id, block_number, block_hash, tx_hash,
 * log_index, token, sender, recipient, amount, block_time, seen_at, screened_at and
 * reorged_at (0 for NULL), desk.db's text forms (0x hex, decimal); a malformed field is
 * refused (e names the row), never guessed. */
enum { PG_INFLOW_NCOLS = 14 };
int pg_inflow_of_row(const char *const v[PG_INFLOW_NCOLS], store_inflow *f, err *e) FUSION_WUR;

/* A row of the server's bridge legs: chain_id, block_number, leg ('sent' or 'received'),
 * tx_hash (0x hex), src_domain, nonce (its 64 bits as a bigint), the message in hex (''
 * for none); a malformed field is refused, never guessed. */
enum { PG_BRIDGE_LEG_NCOLS = 7 };
int pg_bridge_leg_of_row(const char *const v[PG_BRIDGE_LEG_NCOLS], store_bridge_leg *l,
                         err *e) FUSION_WUR;

/* ---- the desk's outbound transactions on the server (pg_outbound.c) ---- */

/* The columns of a listed row: id, chain_id, from_addr, nonce, hash, state, escrow, action,
 * mined_block, reorged, created_at, last_seen (as the server's text; NULL for SQL NULL). */
enum { PG_OUTBOUND_NCOLS = 12 };
/* One listed row of the server's outbound_txs decoded: outside bytes, so a malformed field
 * is refused (e names the field, printable), never guessed. */
int pg_outbound_of_row(const char *const v[PG_OUTBOUND_NCOLS], store_outbound *o,
                       err *e) FUSION_WUR;

#endif
