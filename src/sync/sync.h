/* sync.h: the chain sync engine. One background thread per configured chain
 * follows the head over JSON-RPC, pulls the factory's and its escrows' events in
 * adaptive eth_getLogs ranges, detects reorgs by parent hash against a window of
 * stored block hashes, and commits events, checkpoint and escrow projections in one
 * SQLite transaction per step. After each commit it makes sync_notify_fd()
 * readable. Only one process syncs a desk at a time (flock on <home>/sync.lock);
 * other processes read the database and notice new data by PRAGMA data_version. */
#ifndef FUSION_SYNC_SYNC_H
#define FUSION_SYNC_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/err.h"
#include "rpc/rpc.h"
#include "store/store.h"
#include "store/store_book.h"

#define SYNC_WUR FUSION_WUR /* base/attr.h */

/* The after-commit hook runs at most this often during a catch-up, and this often while
 * following an idle chain. */
#define SYNC_HOOK_BUSY_S 1
#define SYNC_HOOK_IDLE_S 30

typedef struct sync_options {
    const char *home;           /* desk home: desk.db and sync.lock live there */
    bool once;                  /* catch up to the head seen at start, then stop */
    uint64_t only_chain;        /* 0: every configured chain */
    unsigned poll_ms;           /* head polling interval while following; default 200 */
    bool no_subscribe;          /* following: poll only, no newHeads subscription over
                                   the first endpoint's WebSocket (ws:// of its URL) */
    unsigned window;            /* blocks of hashes kept for reorg detection; default 256 */
    uint64_t initial_range;     /* blocks per eth_getLogs at start; default 500 */
    uint64_t max_range;         /* never more than this; default 100000 */
    size_t range_logs;          /* at most this many logs held from one eth_getLogs answer
                                   (the range aims at half of it); default 50000 */
    size_t max_addresses;       /* up to this many factories + escrows, logs are asked for
                                   by address; beyond, by event signature; default 500 */
    unsigned once_max_failures; /* --once gives up after this many failed steps in a row
                                   (default 8); following never gives up */
    rpc_options rpc;
    const store_book *book; /* NULL: the desk's desk.db (store/store_book.h) */
    const char *book_url;  /* the book's address (with its credentials: never logged) */
    const char *book_shown; /* the same without its password, for messages */
    /* The desk's reads of that book (pgstore's pg_reader): each chain thread reads the
     * book's inflows through it, on a desk.db connection of its own with it attached, to
     * post the credit repayments recognised from them (sync_inflows_credit_book). NULL:
     * none is posted from the book's inflows. */
    const store_book_reader *book_reader;
    /* Called on a chain thread, with that thread's own connection and outside any
     * transaction: once when the thread has opened its connection; after a step that
     * reached the head when commits since the last call stored new events or rolled back
     * a reorg (during a pipelined catch-up right after its first commit, then at most every
     * SYNC_HOOK_BUSY_S seconds, not per commit);
     * and every SYNC_HOOK_IDLE_S seconds while following an idle chain. Chain threads call
     * it concurrently: it must be thread-safe (automatic screening). NULL: none. */
    void (*after_commit)(void *ctx, store *conn, uint64_t chain_id);
    void *after_commit_ctx;
    /* true: after_commit is called with a book too (its ctx reads the book itself; false:
     * the hook works on desk.db and is not called when book is set) */
    bool after_commit_on_book;
    /* Called on a chain thread after every commit, when sync_notify_fd is made readable: a
     * process with a wake-up descriptor of its own (the UI) wakes that one instead of
     * polling a second. Must be thread-safe and must not block. NULL: none. */
    void (*committed)(void *ctx);
    void *committed_ctx;
} sync_options;

void sync_options_default(sync_options *o);

#define SYNC_PHASES(X)                                                                             \
    X(STARTING, "starting")                                                                        \
    X(CATCHING_UP, "catching up")                                                                  \
    X(FOLLOWING, "following")                                                                      \
    X(RETRYING, "retrying")                                                                        \
    X(WAITING, "waiting for the chain's lock")                                                     \
    X(UNREACHABLE, "server unreachable") /* the book's server (sync_options.book) */               \
    X(REFUSED, "server refused") /* the book's server answered: not this fusion's version */       \
    X(DONE, "done")                                                                                \
    X(FAILED, "failed")

typedef enum {
#define SYNC_PHASE_ENUM_(name, label) SYNC_##name,
    SYNC_PHASES(SYNC_PHASE_ENUM_)
#undef SYNC_PHASE_ENUM_
} sync_phase;

const char *sync_phase_str(sync_phase p);

typedef struct sync_chain_stats {
    uint64_t chain_id;
    char name[STORE_NAME_MAX];
    sync_phase phase;
    bool has_head, has_synced;
    uint64_t head;         /* node's head at the last step */
    uint64_t synced;       /* checkpoint */
    uint64_t first_synced; /* checkpoint when this run started (or start block - 1) */
    uint64_t target;       /* --once: the head to reach */
    uint64_t events;       /* events stored by this run */
    uint64_t blocks;       /* blocks covered by this run */
    uint64_t reorgs;
    uint64_t range; /* current eth_getLogs range */
    double elapsed; /* seconds since this chain's thread started */
    char last_error[ERR_MSG_MAX];
} sync_chain_stats;

/* One line about a chain: where it is, how fast it goes, when it will be there. */
void sync_progress_line(const sync_chain_stats *s, char *out, size_t cap);

typedef struct sync_engine sync_engine;

/* Takes the desk's sync lock (ERR_STATE naming the holder's pid when another process
 * has it) and starts one thread per chain. ERR_NOT_FOUND when no chain is configured. */
int sync_start(sync_engine **out, const sync_options *o, err *e) SYNC_WUR;
/* Readable (eventfd) after every commit of any chain; sync_notify_drain empties it. */
int sync_notify_fd(const sync_engine *s);
void sync_notify_drain(sync_engine *s);
/* Asks every thread to stop at the next safe point. Async-signal-safe. */
void sync_request_stop(sync_engine *s);
/* True when every chain thread has ended (done, failed or stopped). */
bool sync_finished(sync_engine *s);
/* Copies up to max chains' statistics; returns the number of chains. */
size_t sync_stats(sync_engine *s, sync_chain_stats *out, size_t max);
/* Stops (if still running), joins and frees. -1 when a chain failed (e names it). */
int sync_stop(sync_engine **p, err *e);

/* Rebuilds every escrow projection of a chain (0: all chains) from stored events, in
 * one transaction. *n_escrows (may be NULL) receives how many were rebuilt. */
int sync_reindex(store *s, uint64_t chain_id, size_t *n_escrows, err *e) SYNC_WUR;
/* The same on a book kept on a server (b over conn, store/store_book.h): every escrow with
 * an event in the book projected again from the book's events and its row written, one
 * transaction per chain, the checkpoint unchanged (a syncer that commits meanwhile makes
 * the transaction read again: up to five times). chain_ids: the chains (n of them). */
int sync_reindex_book(const store_book *b, void *conn, const uint64_t *chain_ids, size_t n,
                      size_t *n_escrows, err *e) SYNC_WUR;

/* Rebuilds the named escrows of a chain from their stored events (inside the caller's
 * transaction); escrows left without a creation event are deleted. */
int sync_rebuild_escrows(store *s, uint64_t chain_id, const addr *escrows, size_t n,
                         uint64_t final_block, err *e) SYNC_WUR;

/* The desk's sync lock, for callers that need it without an engine. */
int sync_lock_take(const char *home, int *fd, err *e) SYNC_WUR;
void sync_lock_release(int *fd);

#endif
