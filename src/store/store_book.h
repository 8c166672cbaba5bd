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
 * endpoints, contracts) is still read from desk.db, with the book's factories besides. */
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

/* A bridge leg seen by the sync in a book (bridge_legs of the schema): a MessageSent (the
 * source's burn mined: the message, whose header says its source domain and nonce) or a
 * MessageReceived (the destination's delivery of the message with that source domain and
 * nonce) of the chain's watched transmitter, the log at (block_number, log_index) of the
 * block block_hash, in transaction tx_hash. */
typedef struct store_bridge_leg {
    uint64_t chain_id, block_number, log_index;
    uint8_t block_hash[32], tx_hash[32];
    bool received; /* false: sent */
    uint32_t src_domain;
    uint64_t nonce;
    uint8_t message[STORE_BRIDGE_MSG_MAX]; /* a sent leg's */
    size_t message_len;
} store_bridge_leg;

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
    /* The transfers into the desk's accounts in the range's confirmed blocks [inflow_from,
     * inflow_to] (inflow_to 0: none read), stored, and the book's inflow cursor moved past
     * inflow_to, when that cursor stands at inflow_from (at inflow_start, the chain's start
     * block, while it has none); else left to the scan once caught up (inflows_put), as
     * sync_inflows_put_range does in desk.db. */
    const store_inflow *inflows;
    size_t n_inflows;
    uint64_t inflow_from, inflow_to, inflow_start;
    /* The factories the range was read with (check_factories): the book refuses the range
     * (ERR_STATE, as a moved checkpoint) when it has a factory deployed at or before the
     * range's last block that is not among them (another workstation's `chain add-factory`
     * committed meanwhile). check_factories false: not checked (a reindex reads no logs). */
    const addr *factories;
    size_t n_factories;
    bool check_factories;
    /* The bridge legs of the range's events (each tied to its stored event, as the flows:
     * the rewind that deletes the event deletes the leg). */
    const store_bridge_leg *legs;
    size_t n_legs;
} store_book_range;

typedef struct store_book {
    /* ERR_STATE: the server answered but this fusion must not write there (its server
     * version is not this fusion's, or it holds no desk's book that this fusion writes):
     * no outage, it lasts until someone changes the server (`fusion db upgrade`) or the
     * workstation; the sync thread shows it as such and waits longer (wait_change).
     * Anything else: the server not reached (or lost), tried again soon. */
    int (*open)(void **conn, const char *url, err *e);
    void (*close)(void **conn);
    bool (*alive)(void *conn); /* false once the connection is lost (then reopened) */
    /* Tries the chain's lock once; it belongs to the connection (its session). */
    int (*lock_try)(void *conn, uint64_t chain_id, bool *held, err *e);
    /* As store_escrow_awaiting; out NULL: *n counts every escrow awaiting the approver. */
    int (*escrow_awaiting)(void *conn, const addr *approver, const store_escrow_cursor *after,
                           size_t limit, store_escrow **out, size_t *n, err *e);
    int (*checkpoint_get)(void *conn, uint64_t chain_id, store_checkpoint *out, err *e);
    /* Every escrow that has an event in the book (what the thread watches by address). */
    int (*escrows)(void *conn, uint64_t chain_id, addr **out, size_t *n, err *e);
    /* The chain's factories in the book (those a desk's `chain add-factory` wrote there,
     * perhaps another workstation's): watched besides the desk's own. NULL: none. */
    int (*factories)(void *conn, uint64_t chain_id, addr **out, size_t *n, err *e);
    /* As store_block_list_desc. */
    int (*blocks_desc)(void *conn, uint64_t chain_id, uint64_t at_or_below, size_t max,
                       store_block **out, size_t *n, err *e);
    /* The range in one transaction; *inserted: events not stored before. */
    int (*commit)(void *conn, const store_book_range *r, uint64_t *inserted, err *e);
    /* A reorg in one transaction: events and block hashes from first_gone on deleted, every
     * escrow that had an event among them projected again from the events left (its row
     * deleted when its creation went: sync_rebuild_escrows), the inflows of those blocks
     * marked reorged (kept: evidence) and the inflow cursor moved back to first_gone
     * (store_inflow_reorg's), the checkpoint set to cp (NULL: deleted); *gone: events
     * deleted; *rebuilt: escrows projected again. */
    int (*rewind)(void *conn, uint64_t chain_id, uint64_t first_gone, const store_checkpoint *cp,
                  uint64_t final_block, store_book_project project, uint64_t *gone,
                  size_t *rebuilt, err *e);
    /* The chain's inflow cursor in the book (store_inflow_cursor's). */
    int (*inflow_cursor)(void *conn, uint64_t chain_id, uint64_t *next, bool *found, err *e);
    /* The inflow scan once caught up, in one transaction: the book's checkpoint must still
     * be prev (the one the blocks were read under, as commit checks it), then the inflows
     * of [from, to] are stored and the cursor moved past to when it stands at from (start
     * while it has none); *found: inflows not stored before. */
    int (*inflows_put)(void *conn, uint64_t chain_id, const store_checkpoint *prev, uint64_t start,
                       uint64_t from, uint64_t to, const store_inflow *v, size_t n, size_t *found,
                       err *e);
    /* After open was refused (ERR_STATE): waits up to ms for the server to announce a change
     * of its own (a server step applied by `fusion db upgrade`), or until stop_fd is
     * readable; a server that does not answer meanwhile is just waited for. NULL: a plain
     * wait. */
    void (*wait_change)(const char *url, int stop_fd, unsigned ms);
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
    /* The server's pending rows signed by `from` (any workstation's), without raw. */
    int (*pending_of)(void *conn, const addr *from, store_outbound **out, size_t *n, err *e);
    /* Marks o's row dropped on the server, by id, chain and hash, only while it is still
     * pending and was created at least the connection's wait bound before now; *done: it
     * was. */
    int (*drop)(void *conn, const store_outbound *o, int64_t now, bool *done, err *e);
    void (*close)(void *conn);
} store_outbound_book;

/* Attaches b over conn (closed by store_close); with store_set_reader, the hooks of "this
 * desk's book is on a server" in the store (pgstore's pg_desk_book_attach sets both). */
void store_outbound_book_attach(store *s, const store_outbound_book *b, void *conn);
bool store_has_book(const store *s);
/* Writes every outbound row of desk.db to the server (`fusion tx check`: what an outage
 * left behind); *pushed: rows written. */
int store_outbound_book_push(store *s, size_t *pushed, err *e) STORE_WUR;
/* The orphans `fusion tx check` sweeps (an action whose server COMMIT's answer was lost and
 * the server away past the wait bound leaves its row pending there, never sent, and none in
 * desk.db): the server's pending rows signed by `from` of which desk.db holds neither the id
 * nor the hash (*out to free; none without a book). */
int store_outbound_book_orphans(store *s, const addr *from, store_outbound **out, size_t *n,
                                err *e) STORE_WUR;
/* Marks such a row dropped on the server (the caller asked the node: it lacks the hash and
 * another transaction took the nonce, so it can never be mined) if it is still pending
 * there, still absent from desk.db and older than the book's wait bound; *done: it was. */
int store_outbound_book_drop(store *s, const store_outbound *o, bool *done, err *e) STORE_WUR;
/* ---- the desk's reads from the book (the screens' and the API's) ---- */

/* How a line saying the book's server cannot be reached begins: an error (a read, the
 * outbound transactions' connection), a status line, the log's wait after a send. */
#define STORE_BOOK_AWAY "book server unreachable"
/* How a line saying the book's server is at another server version than this fusion's
 * begins (pg_server_version_refused: both versions and what to do follow): the server
 * answered, and nothing changes until someone upgrades it (`fusion db upgrade`) or this
 * fusion; the API answers it with its own problem type. */
#define STORE_BOOK_VERSION "the book server is at server version"

/* One row of the escrow table as the book gives it (desk/snapshot.h formats it). */
typedef struct store_escrow_line {
    uint64_t chain_id;
    char chain[STORE_NAME_MAX];
    addr address, payer, payee;
    char amount[80]; /* base units, decimal */
    char state[16];
    unsigned approvals, threshold;
    uint64_t last_block;
    bool pending;
    bool asset_known; /* asset and decimals from the tokens or the chain's native coin */
    char asset[STORE_SYMBOL_MAX];
    unsigned decimals;
    /* Its place in the page's order as the book renders it, for escrow_page's after
     * (has_key false: none, the row cannot be read on from). */
    bool has_key;
    char key[96];
} store_escrow_line;

/* The orders of store_book_reader.escrow_page (desk/snapshot.h's DESK_ESCROW_SORTS, in
 * its order): most recent, escrow, chain, counterparty, asset, amount, state, approvals,
 * block. */
enum { STORE_ESCROW_SORTS = 9 };

/* One escrow's creation as the book holds it now, for screening (store_case.c): what
 * desk.db's screening statements join from its escrows, events and blocks. */
typedef struct store_book_creation {
    bool found;             /* the escrow has a row in the book */
    uint8_t created_tx[32]; /* its creating transaction */
    bool has_hash;          /* the block hash of its creation event (none: no event holds it) */
    uint8_t block_hash[32];
    bool has_block;         /* its creation block's timestamp, while the block window holds it */
    uint64_t timestamp;
} store_book_creation;

/* What a store reads from the book instead of desk.db once store_set_reader attached it
 * (store_escrow_get, _find, _list, _list_open, _awaiting, _awaiting_count,
 * store_checkpoint_get, store_event_list_escrow, store_inflow_pending and _recent,
 * store_credit_repay_candidates and _unwind dispatch here) and the escrow table's pages
 * (desk/snapshot.c). One connection per store, used under its own lock; a lost connection
 * is opened again by the next call, and a call that cannot reach the server fails with one
 * line. */
typedef struct store_book_reader {
    /* Remembers the URL; connects on first use (so a server down at start is no error). */
    int (*open)(void **conn, const char *url, err *e);
    void (*close)(void **conn);
    int (*escrow_get)(void *conn, uint64_t chain_id, const addr *a, store_escrow *out,
                      bool *found, err *e);
    int (*escrow_find)(void *conn, const addr *a, store_escrow *out, bool *found, err *e);
    int (*escrow_list)(void *conn, uint64_t chain_id, store_escrow **out, size_t *n, err *e);
    int (*escrow_list_open)(void *conn, const addr *parties, size_t n_parties,
                            store_escrow **out, size_t *n, err *e);
    /* As store_escrow_awaiting; out NULL: *n counts every escrow awaiting the approver. */
    int (*escrow_awaiting)(void *conn, const addr *approver, const store_escrow_cursor *after,
                           size_t limit, store_escrow **out, size_t *n, err *e);
    int (*checkpoint_get)(void *conn, uint64_t chain_id, store_checkpoint *out, err *e);
    int (*event_list_escrow)(void *conn, uint64_t chain_id, const addr *escrow,
                             store_event_list *out, err *e);
    /* The escrows matching pattern (a LIKE pattern, case-insensitive; "" = all): their
     * number, and a page of them in an order (sort < STORE_ESCROW_SORTS), at most limit
     * rows from offset, or, with after (a row of an earlier page of the same pattern and
     * order, has_key), the rows after it (offset ignored: keyset paging, a window's read at
     * any depth where an index serves the order). backward: the rows before after instead,
     * or without after the last rows of the order (offset ignored), still in the order.
     * *more: a further row exists past them in the direction read. */
    int (*escrow_count)(void *conn, const char *pattern, size_t *n, err *e);
    int (*escrow_page)(void *conn, const char *pattern, int sort, bool desc, size_t offset,
                       const store_escrow_line *after, bool backward, size_t limit,
                       store_escrow_line *out, size_t *n, bool *more, err *e);
    /* *changed: a commit was announced on the book (pg_commit_notify), or the connection
     * came back, since the last call; never blocks. */
    int (*changed)(void *conn, bool *changed, err *e);
    /* The book's change feed (the rows its escrow triggers write, store_feed_after's form):
     * rows with id > after, oldest first, at most max; *out malloc'ed. */
    int (*feed_after)(void *conn, int64_t after, size_t max, store_feed_row **out, size_t *n,
                      err *e);
    /* Its last id (0: empty), its horizon (the id below its oldest row: rows up to it are
     * gone or never were; 0 when empty) and the identity of the database that holds it (a
     * printable line, at most cap bytes with the NUL: another database, another feed). */
    int (*feed_state)(void *conn, int64_t *last, int64_t *horizon, char *book, size_t cap,
                      err *e);
    /* The escrows after `after` (NULL: from the first) in escrow_list's order (chain,
     * creation block, address), at most limit: a pass over all of them in pages. */
    int (*escrow_list_after)(void *conn, const store_escrow_cursor *after, size_t limit,
                             store_escrow **out, size_t *n, err *e);
    /* out[i]: the creation of escrows[i] on chain_ids[i], for n escrows in one read. */
    int (*creations)(void *conn, size_t n, const uint64_t *chain_ids, const addr *escrows,
                     store_book_creation *out, err *e);
    /* The book's inflows not marked reorged and seen at or after since, in id order (the
     * book's ids); with unscreened, only those without a screened_at there; of chains[i]
     * only those with an id above after[i] (n_after pairs; other chains: all). *out
     * malloc'ed. */
    int (*inflows)(void *conn, bool unscreened, int64_t since, const uint64_t *chains,
                   const int64_t *after, size_t n_after, store_inflow **out, size_t *n, err *e);
    /* The book's inflows of chain_id to recipient in token not marked reorged, in id order
     * (a credit facility's repayment candidates: store_credit_repay_candidates). *out
     * malloc'ed. */
    int (*inflows_to)(void *conn, uint64_t chain_id, const addr *recipient, const addr *token,
                      store_inflow **out, size_t *n, err *e);
    /* The book's inflows with the ids ids[0..n) (those it holds, in id order, reorged or
     * not: store_credit_repay_unwind looks at their reorged_at). *out malloc'ed. */
    int (*inflows_of)(void *conn, const int64_t *ids, size_t n, store_inflow **out,
                      size_t *nout, err *e);
    /* The bridge legs the sync recorded in the book for one transfer: the sent legs of
     * burn_tx on src_chain, and the received legs on dst_chain of the messages with the
     * (source domain, nonce) of those or of (src_domain, nonce) (has_key false: of those
     * only), in block order. *out malloc'ed. */
    int (*bridge_legs)(void *conn, uint64_t src_chain, const uint8_t burn_tx[32],
                       uint64_t dst_chain, bool has_key, uint32_t src_domain, uint64_t nonce,
                       store_bridge_leg **out, size_t *n, err *e);
    /* The sent legs of the book whose message is a CCTP burn message sent by one of
     * senders (its body's messageSender), and the received legs of those messages' (source
     * domain, nonce) (on any chain: a transmitter receives only its own domain's
     * messages), by chain and block: those senders' burns, delivered or in flight (the
     * book holds every message of a watched transmitter, anyone's). *out malloc'ed. */
    int (*bridge_legs_of_senders)(void *conn, const addr *senders, size_t n_senders,
                                  store_bridge_leg **out, size_t *n, err *e);
    /* What changes whenever the book's escrows do (a creation, a removal by a reorg's
     * rewind, a change of state): the escrows' count (escrow_totals) and the last id of the
     * change feed their triggers write (0: empty), read at once. */
    int (*escrows_version)(void *conn, int64_t *count, int64_t *feed_last, err *e);
    /* Prunes the book's change feed as store_feed_prune prunes desk.db's (its rows up to
     * the newest one older than before, or all but the newest keep), never past upto nor
     * its newest row; *n: the rows deleted. */
    int (*feed_prune)(void *conn, int64_t before, int64_t keep, int64_t upto, int64_t *n,
                      err *e);
} store_book_reader;

/* From now on the reads named above go to the book through r on conn (the store's from
 * now on: closed by store_close, or when another reader replaces it); NULL r: desk.db
 * again. A desk attaches its book with pgstore's pg_desk_book_attach. */
void store_set_reader(store *s, const store_book_reader *r, void *conn);
/* The reader attached (NULL: the reads are desk.db's) and its connection (conn may be
 * NULL): for the escrow table's pages, which the store does not read itself. */
const store_book_reader *store_reader(const store *s, void **conn);
/* The change feed of the book attached by store_set_reader (ERR_STATE without one): as
 * the reader's feed_after and feed_state. */
int store_book_feed_after(store *s, int64_t after, size_t max, store_feed_row **out, size_t *n,
                          err *e) STORE_WUR;
int store_book_feed_state(store *s, int64_t *last, int64_t *horizon, char *book, size_t cap,
                          err *e) STORE_WUR;

/* The bridge legs of the book attached by store_set_reader for transfer b (its reader's
 * bridge_legs: the sent legs of its burn, the received legs of its message on its
 * destination); none when b has no burn yet. ERR_STATE without a reader. */
int store_book_bridge_legs(store *s, const store_bridge *b, store_bridge_leg **out, size_t *n,
                           err *e) STORE_WUR;
/* The reader's bridge_legs_of_senders: the book's burns by senders and their deliveries
 * (ERR_STATE without a reader). */
int store_book_bridge_legs_of_senders(store *s, const addr *senders, size_t n_senders,
                                      store_bridge_leg **out, size_t *n, err *e) STORE_WUR;
/* The reader's feed_prune (ERR_STATE without a book). */
int store_book_feed_prune(store *s, int64_t before, int64_t keep, int64_t upto, int64_t *n,
                          err *e) STORE_WUR;
/* The reader's escrows_version (*has false, nothing read: no book attached). */
int store_book_escrows_version(store *s, bool *has, int64_t *count, int64_t *feed_last,
                               err *e) STORE_WUR;

/* A store_escrow from the row as STORE_ESCROW_COLUMNS text (store_escrow_row_of's form;
 * approval_list as approvals_len bytes), the chain's final block when synced: for a book
 * that keeps escrows as desk.db does. */
int store_escrow_of_row(const char *const v[STORE_ESCROW_NCOLS], size_t approvals_len,
                        bool has_final, uint64_t final_block, store_escrow *x, err *e) STORE_WUR;
/* Room for n bytes owned by the list (freed by store_event_list_free): for a book filling a
 * list. NULL when out of memory. */
void *store_event_list_alloc(store_event_list *l, size_t n);

#endif
