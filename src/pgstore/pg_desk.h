/* pg_desk.h: where a desk keeps its book, as a desk decision: <home>/book.conf names the
 * PostgreSQL server whose database holds the chains' events, block hashes and checkpoints
 * (`db = postgresql://...`); a desk without it keeps them in desk.db. On a desk with a
 * signed genesis the file is a signed configuration file like policy.conf (`fusion config
 * sign book`, admin role): the desk acts on it only as last signed. The URL never carries a
 * password: that comes from PGPASSFILE (~/.pgpass) or PGPASSWORD on each workstation.
 * This header pulls in neither libpq nor SQLite, for the terminal UI. */
#ifndef FUSION_PGSTORE_PG_DESK_H
#define FUSION_PGSTORE_PG_DESK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/err.h"
#include "store/store_book.h"

#define PG_DESK_BOOK_FILE "book.conf"

/* The sync's book on a server (pg_sync.c). */
extern const store_book pg_book;
/* The desk's outbound transactions on that server (pg_outbound.c), for a store of a desk
 * whose book is there (store_outbound_book_attach). */
extern const store_outbound_book pg_outbound_book;
/* Its connection to url, opened on first use; a write after the send waits up to wait_ms
 * for a lost server. */
int pg_outbound_open(void **conn, const char *url, unsigned wait_ms, err *e) FUSION_WUR;
/* That wait, for the command line's and the terminal UI's actions alike: 60 s, or
 * FUSION_BOOK_WAIT_S (seconds, 1 to 3600); another value is a usage error, one line. */
int pg_book_wait_ms(unsigned *ms, err *e) FUSION_WUR;
/* The desk's reads from the book on a server (pg_read.c): a store_book_reader for
 * store_set_reader and desk_snap_use_book. */
extern const store_book_reader pg_reader;
/* Listens for the book's commit announcements (pg_commit_notify) on a connection of its
 * own to url until stop_fd is readable, and calls announced(ctx) for each (those already
 * arrived together: once), and once more after the connection came back from a loss (what
 * was announced meanwhile is unknown); a server away is tried again every second, said in
 * the log once per reason. Blocks: it is a thread's whole work (pg_notify.c). */
void pg_book_watch(const char *url, int stop_fd, void (*announced)(void *ctx), void *ctx);

/* A chain added to the desk, added to the book on url too (pg_chain.c): its `chains` row
 * with the desk's values (created_at: the desk's time of adding it) and, with factory,
 * that factory's `contracts` row, in one transaction announced as "chain:ID". The server
 * having the chain already (another workstation's desk added it) is fine when its name,
 * confirmations, native symbol and decimals are the same (nothing written: its factories
 * are the server's, `chain add-factory` adds another); else, or another chain id under
 * this name, ERR_EXISTS naming the server's values and nothing written. A connect waits
 * at most 2 s (pg_url_connect_policy). */
int pg_book_chain_put(const char *url, const store_chain *ch, const store_contract *factory,
                      int64_t created_at, err *e) FUSION_WUR;
/* A chain removed from the desk, removed from the book on url too: its row and with it
 * (ON DELETE CASCADE) its events, block hashes, checkpoint, escrows and every other row of
 * it, in one transaction announced as "chain:ID" (a syncer's range transaction in flight
 * is waited for and its rows go too). *had: the server had
 * the chain (false is not an error: another workstation removed it). */
int pg_book_chain_drop(const char *url, uint64_t chain_id, bool *had, err *e) FUSION_WUR;

/* A factory added to a chain of the desk (`chain add-factory`), added to the book on url
 * too (pg_sync.c), in one transaction announced as "chain:ID": its contracts row (kept
 * when the server has it: another workstation's desk added it) and, when the server's
 * checkpoint is at or past k->deployed_block, the rewind that makes the sync read the
 * factory's past logs: the events and block hashes from that block on deleted, the escrows
 * that had events among them projected again (project), the checkpoint set to *to (its
 * final block lowered to it; to NULL, for a factory from block 0: deleted). The chain's
 * row and the checkpoint row are locked first, as a syncer's range commit locks them (the
 * chain's also when it was never synced), so a syncer's commit in flight
 * (any workstation's) lands before the rewind or finds the checkpoint moved and reads
 * again. A connect waits at most 2 s (pg_url_connect_policy). */
typedef struct pg_factory_added {
    bool had;              /* the server had the factory's row already */
    bool synced;           /* the server had a checkpoint of the chain */
    uint64_t synced_block; /* its block, before the rewind */
    bool rewound;
    uint64_t gone;  /* events deleted, to be read again */
    size_t rebuilt; /* escrows projected again */
} pg_factory_added;
int pg_book_factory_add(const char *url, const store_contract *k, const store_checkpoint *to,
                        store_book_project project, pg_factory_added *out, err *e) FUSION_WUR;

typedef struct pg_desk_book {
    bool present;     /* false: the book is desk.db */
    char url[1024];   /* the server, as written (no password) */
    char shown[1024]; /* the same, for messages */
} pg_desk_book;

/* Reads book.conf's text (path names it in messages): `#` comments, blank lines, and at
 * most one `db = postgresql://...`. A URL with a password in it, another scheme, an
 * unknown key or a second db line: ERR_INVALID, one line naming the file and line. */
int pg_desk_book_parse(const char *path, const char *text, size_t len, pg_desk_book *out,
                       err *e) FUSION_WUR;
/* The desk's choice: home/book.conf (missing: desk.db), private to its user, and on a signed
 * desk the content last signed (audit_config_check), parsed as above. */
int pg_desk_book_read(const char *home, pg_desk_book *out, err *e) FUSION_WUR;

/* What a store attached to the desk's book does with it (pg_desk_book_attach). */
typedef enum {
    PG_DESK_READS, /* reads only: the escrows, checkpoints, events and outbound transactions */
    PG_DESK_SIGNS, /* and signs: its outbound writes wait FUSION_BOOK_WAIT_S (pg_book_wait_ms),
                    * a malformed value refused */
} pg_desk_use;

/* The one attachment of the desk's book to a store of home's desk.db: book.conf read once
 * (pg_desk_book_read; a file the desk refuses: -1, its one line, nothing attached); when it
 * names a server, the store's escrow, checkpoint and event reads (pg_reader,
 * store_set_reader) and its outbound transactions (pg_outbound_book,
 * store_outbound_book_attach) go there, each on a connection of the store made on first use
 * with one connect policy (pg_url_connect_policy: a connect waits at most 2 s, TCP
 * keepalives, unless the URL says otherwise), both closed by store_close. *out (may be NULL): the choice read. */
int pg_desk_book_attach(store *s, const char *home, pg_desk_use use, pg_desk_book *out,
                        err *e) FUSION_WUR;

#endif
