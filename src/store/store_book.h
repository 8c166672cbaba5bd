/* store_book.h: the chain sync's book kept somewhere other than the desk's desk.db (a
 * PostgreSQL server: src/pgstore/pg_sync.c, docs/scale.md), as a table of functions over
 * one connection, so that the sync engine needs no client library of the server.
 *
 * By default a chain thread keeps the chain's events, block hashes and checkpoint in the
 * desk's desk.db. With a book (sync_options.book), it keeps them there instead: each chain
 * thread opens its own connection, syncs only while its lock_try holds the chain's lock
 * (waiting and trying again every second otherwise), resumes from the book's checkpoint,
 * and writes each range (and each reorg's rewind) in one transaction of the book, with the
 * escrow projection of the range's (or the rewind's) escrows. The configuration (chains,
 * endpoints, contracts) is still read from desk.db. */
#ifndef FUSION_STORE_STORE_BOOK_H
#define FUSION_STORE_STORE_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/address.h"
#include "store/store.h"

/* The escrow projection (escrow_project of src/sync/projection.h, above this layer): one
 * escrow from every stored event of it, in chain order (block, log index). *created false
 * when none of them is its creation: then the escrow has no row. */
typedef void (*store_book_project)(const store_event *events, size_t n, uint64_t chain_id,
                                   const addr *escrow, uint64_t final_block, store_escrow *out,
                                   bool *created);

/* One range for the book: its events in log order, the reorg window's headers, the new
 * checkpoint. prev: the checkpoint this range continues, which the book checks is still
 * its own inside the transaction (synced false: none yet). */
typedef struct store_book_range {
    uint64_t chain_id;
    const store_checkpoint *prev;
    const store_event *events;
    size_t n_events;
    const store_block *blocks;
    size_t n_blocks;
    uint64_t prune_below; /* block hashes below it are forgotten */
    const store_checkpoint *cp;
    /* The escrows with an event in the range, in the order of their first event: each is
     * projected again (project) from all its events in the book, its row written, and the
     * pending flags of what became final (cp->final_block) cleared, as the desk's sync does
     * (store_escrow_put, store_escrow_settle; escrow_totals and api_feed kept alike). An
     * escrow created in the range has no event but the range's: it is projected from those
     * (as the in-memory fold does), the others from the book's. */
    const addr *escrows;
    const bool *fresh; /* fresh[i]: escrows[i] was created in the range (NULL: none was) */
    size_t n_escrows;
    store_book_project project;
    /* The vault flows of the range's events (store_vault_flow_put: each tied to its stored
     * event, so the rewind that deletes the event deletes the flow). */
    const store_vault_flow *flows;
    size_t n_flows;
} store_book_range;

typedef struct store_book {
    int (*open)(void **conn, const char *url, err *e);
    void (*close)(void **conn);
    bool (*alive)(void *conn); /* false once the connection is lost (then reopened) */
    /* Tries the chain's lock once; it belongs to the connection (its session). */
    int (*lock_try)(void *conn, uint64_t chain_id, bool *held, err *e);
    int (*checkpoint_get)(void *conn, uint64_t chain_id, store_checkpoint *out, err *e);
    /* Every escrow that has an event in the book (what the thread watches by address). */
    int (*escrows)(void *conn, uint64_t chain_id, addr **out, size_t *n, err *e);
    /* As store_block_list_desc. */
    int (*blocks_desc)(void *conn, uint64_t chain_id, uint64_t at_or_below, size_t max,
                       store_block **out, size_t *n, err *e);
    /* The range in one transaction; *inserted: events not stored before. */
    int (*commit)(void *conn, const store_book_range *r, uint64_t *inserted, err *e);
    /* A reorg in one transaction: events and block hashes from first_gone on deleted, every
     * escrow that had an event among them projected again from the events left (its row
     * deleted when its creation went: sync_rebuild_escrows), the checkpoint set to cp (NULL:
     * deleted); *gone: events deleted; *rebuilt: escrows projected again. */
    int (*rewind)(void *conn, uint64_t chain_id, uint64_t first_gone, const store_checkpoint *cp,
                  uint64_t final_block, store_book_project project, uint64_t *gone,
                  size_t *rebuilt, err *e);
} store_book;

/* The desk's outbound transactions on the book's server (src/pgstore/pg_outbound.c), when the
 * desk's book is there: a store with one attached (store_outbound_book_attach) records each
 * transaction it signs on the server first, under the server's id, and keeps desk.db's row
 * under the same id (its desk_txs, holds and credit rows refer to it); every later change
 * of the row (sent, mined, confirmed, failed, replaced, its escrow) is written to desk.db
 * and then to the server; store_outbound_list reads the server (every workstation's
 * transactions, with the reorg flags the server's rewind sets). docs/scale.md: the order
 * and what an outage does at each step. */
typedef struct store_outbound_book {
    /* Inserts the row on the server in a transaction left open; *id: its id there. */
    int (*add)(void *conn, const store_outbound *o, int64_t *id, err *e);
    /* commit: commits that transaction (an answer lost with the connection is settled by
     * looking the row up once the server answers again); !commit: rolls it back, or, when
     * it was committed last, deletes the row again (desk.db could not keep it). */
    int (*add_end)(void *conn, bool commit, err *e);
    /* The row as desk.db has it (raw too): inserted, or its state, mined block, escrow and
     * last_seen updated (never its reorg flag, which is the server's rewind's), by id and
     * hash; waits for a lost server up to the connection's bound. */
    int (*put)(void *conn, const store_outbound *o, err *e);
    int (*list)(void *conn, uint64_t chain_id, store_outbound **out, size_t *n, err *e);
    void (*close)(void *conn);
} store_outbound_book;

/* Attaches b over conn (closed by store_close); the one hook of "this desk's book is on a
 * server" in the store. */
void store_outbound_book_attach(store *s, const store_outbound_book *b, void *conn);
bool store_has_book(const store *s);
/* Writes every outbound row of desk.db to the server (`fusion tx check`: what an outage
 * left behind); *pushed: rows written. */
int store_outbound_book_push(store *s, size_t *pushed, err *e) STORE_WUR;

#endif
