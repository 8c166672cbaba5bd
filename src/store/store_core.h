/* store_core.h: the connection and its transactions (store.c), and what every aggregate
 * header of the desk database builds on (the store handle, STORE_WUR). Include
 * store/store.h, the facade, rather than this. */
#ifndef FUSION_STORE_STORE_CORE_H
#define FUSION_STORE_STORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/attr.h"
#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"

#define STORE_WUR FUSION_WUR /* base/attr.h */

typedef struct store store;

/* ---- connection and transactions (store.c) ---- */

/* Opens (creating if needed) the database at path, applies pending migrations, and
 * refuses a file whose schema is newer than this binary knows. */
int store_open(store **out, const char *path, err *e) STORE_WUR;
/* Configures SQLite for the process (no global memory statistics: a mutex on every
 * allocation); store_open does it too, but a program whose first SQLite use is elsewhere
 * (the audit head) calls this first. */
void store_init(void);
/* Closes and sets *p to NULL; NULL-safe. A transaction still open is rolled back. */
void store_close(store **p);
/* audit_append on this connection: inside an open transaction the audit head in desk.db
 * moves with it (see audit.h). s must be <home>/desk.db. */
int store_audit(store *s, const char *home, const char *operator_name, const char *action,
                const json_t *details, err *e) STORE_WUR;
struct audit_row_in;
/* store_audit for a batch (audit_append_batch_db): one write and one fsync of the log. */
int store_audit_batch(store *s, const char *home, const struct audit_row_in *rows, size_t n,
                      err *e) STORE_WUR;
/* BEGIN IMMEDIATE: takes the write lock up front, so a busy database shows up here
 * (after busy_timeout) and not in the middle of a transaction. */
int store_begin(store *s, err *e) STORE_WUR;
/* As store_begin, for the writer the others of this process make way for (a chain's
 * commit): while it waits for the lock, their store_begin waits for it to have had it,
 * and it tries for the lock every millisecond (SQLite's own wait sleeps up to 100 ms
 * between tries, and missed the instants between another thread's short transactions). */
int store_begin_first(store *s, err *e) STORE_WUR;
/* A bulk catch-up on this connection (on) or its end (off, which copies the log): what is
 * committed meanwhile, on any connection, is as durable as ever; only the copying of the
 * log into the database file waits, for every connection of the process. */
int store_bulk(store *s, bool on, err *e) STORE_WUR;
/* As store_begin, but the commit is synced to disk (synchronous=FULL) before it
 * returns: for data that cannot be fetched again from a chain (signed transactions). */
int store_begin_durable(store *s, err *e) STORE_WUR;
int store_commit(store *s, err *e) STORE_WUR;
/* Rolls back the open transaction, if any. Never fails from the caller's view. */
void store_rollback(store *s);
/* Schema version of the open file, and the newest one this binary knows. */
int store_schema_version(store *s);
int store_schema_latest(void);
/* PRAGMA data_version: changes when another connection commits; cheap to poll. */
int store_data_version(store *s, uint64_t *out, err *e) STORE_WUR;
/* Path of the open database file. */
const char *store_path(const store *s);

#endif
