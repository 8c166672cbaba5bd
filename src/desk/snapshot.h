/* snapshot.h: read-only views of the desk database for the screens (the terminal UI
 * and anything else that pages through large tables). The escrow view is virtual: it
 * counts and fetches only the window of rows being looked at, with the filter and the
 * sort pushed down to SQL and keyset paging between neighbouring windows, so a million
 * escrows cost what a screenful costs: filters go through a trigram index (escrow_search)
 * and the exact count of a dense filter is made in the background, never while drawing.
 * Nothing here writes to the database. */
#ifndef FUSION_DESK_SNAPSHOT_H
#define FUSION_DESK_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/amount.h"
#include "base/err.h"
#include "crypto/address.h"
#include "store/store.h"
#include "store/store_book.h"

#define DESK_WUR FUSION_WUR /* base/attr.h */

typedef struct desk_snap desk_snap;

/* Opens <home>/desk.db (creating and migrating it through store_open) plus a read-only
 * connection for the paged queries. */
int desk_snap_open(desk_snap **out, const char *home, err *e) DESK_WUR;
void desk_snap_free(desk_snap **p);
/* True when the snapshot's store was given the desk's book on a server (store_set_reader:
 * pgstore's pg_desk_book_attach on desk_snap_store): from then on the escrows (the table,
 * their rows, events and approvals) and the chains' checkpoints are read there, on the
 * store's connection made on first use and again after a loss: a read while the server is
 * away fails with one line (book server unreachable: ...) and the next one after it is
 * back succeeds. Everything else is still read from desk.db. */
bool desk_snap_on_book(const desk_snap *s);
/* The store connection of the snapshot (for the store_* readers); owned by it. */
store *desk_snap_store(desk_snap *s);
/* Sets *changed when any connection (another thread or process) committed since the
 * previous call (PRAGMA data_version), or the book's server announced a commit (or was
 * reached again); the first call reports a change. */
int desk_snap_poll(desk_snap *s, bool *changed, err *e) DESK_WUR;
/* desk_snap_poll's answer in two: *book, the book's server announced a commit or was reached
 * again (always false without one); *local, desk.db changed (any connection committed). */
int desk_snap_poll_split(desk_snap *s, bool *book, bool *local, err *e) DESK_WUR;

/* ---- escrows ---- */

/* X(id, label): the orders the escrow table can be sorted in. */
#define DESK_ESCROW_SORTS(X)                                                                       \
    X(RECENT, "most recent activity")                                                              \
    X(ADDRESS, "escrow")                                                                           \
    X(CHAIN, "chain")                                                                              \
    X(PAYEE, "counterparty")                                                                       \
    X(ASSET, "asset")                                                                              \
    X(AMOUNT, "amount")                                                                            \
    X(STATE, "state")                                                                              \
    X(APPROVALS, "approvals")                                                                      \
    X(BLOCK, "block")

typedef enum {
#define DESK_SORT_ENUM_(id, label) DESK_ESCROW_SORT_##id,
    DESK_ESCROW_SORTS(DESK_SORT_ENUM_)
#undef DESK_SORT_ENUM_
        DESK_ESCROW_SORT_COUNT
} desk_escrow_sort;

const char *desk_escrow_sort_label(desk_escrow_sort s);
/* True when an index of the schema serves the order, so a page costs the same at any
 * table size; other orders sort the whole (filtered) table on every page read. */
bool desk_escrow_sort_indexed(desk_escrow_sort s);
/* Above this many rows the screens should offer indexed orders only. */
#define DESK_SORT_UNINDEXED_MAX 50000

/* One row of the escrow table, formatted for people (amounts exact, in token units). */
typedef struct desk_escrow_row {
    uint64_t chain_id;
    char chain[STORE_NAME_MAX];
    addr address, payer, payee;
    char asset[STORE_SYMBOL_MAX + 8]; /* symbol, or "units" for an unknown token */
    char amount[AMOUNT_STR_MAX];
    char state[16];
    unsigned approvals, threshold;
    uint64_t last_block;
    bool pending;
} desk_escrow_row;

typedef struct desk_escrow_view desk_escrow_view;

int desk_escrow_view_new(desk_escrow_view **out, desk_snap *s, err *e) DESK_WUR;
void desk_escrow_view_free(desk_escrow_view **p);
/* Filter text (matched case-insensitively against address, payer, payee, state, chain
 * and asset; "" = all) and order; drops the cached window and count. */
void desk_escrow_view_set(desk_escrow_view *v, const char *filter, desk_escrow_sort sort,
                          bool descending);
/* The data changed: the next count and row reads go to the database again. */
void desk_escrow_view_invalidate(desk_escrow_view *v);
/* The exact number of rows of the current filter (blocking: with a filter at a million
 * escrows this can take a second; screens use desk_escrow_view_size). */
int desk_escrow_view_count(desk_escrow_view *v, size_t *n, err *e) DESK_WUR;
/* What a screen can know at once: *exact and the count when it is known (no filter: a
 * stored total; a filter of three or more characters with few matches: the trigram
 * index), else the rows found so far plus one when more exist (a lower bound that grows
 * as the screen reads further). Costs at most a window's read. */
int desk_escrow_view_size(desk_escrow_view *v, size_t *n, bool *exact, err *e) DESK_WUR;
/* Collects a finished background count (*arrived: the size just became exact) and, with
 * start, begins counting on a thread of its own (own read-only connection) when the count
 * is not known. Setting a filter, invalidating or freeing the view cancels a running
 * count promptly. */
int desk_escrow_view_count_async(desk_escrow_view *v, bool *arrived, bool start,
                                 err *e) DESK_WUR;
/* Row i (0-based, < count) in the current order; *out points into the view and stays
 * valid until the next call. */
int desk_escrow_view_row(desk_escrow_view *v, size_t i, const desk_escrow_row **out,
                         err *e) DESK_WUR;

/* Text lines describing one escrow: parties, amounts, approvals and the event timeline
 * (store_event_list_escrow). *lines is malloc'ed, free with desk_lines_free. */
int desk_escrow_detail(desk_snap *s, uint64_t chain_id, const addr *escrow, char ***lines,
                       size_t *n, err *e) DESK_WUR;
void desk_lines_free(char ***lines, size_t n);

/* ---- chains ---- */

typedef struct desk_chain_row {
    uint64_t chain_id;
    char name[STORE_NAME_MAX];
    bool synced_any;
    uint64_t synced, final_block, head; /* from the checkpoint */
    char endpoint[STORE_URL_MAX];       /* first endpoint by priority, redacted */
    char health[16];
    int64_t latency_ms;    /* its last answer's; -1: none recorded */
    uint64_t range_cap;    /* blocks per eth_getLogs it takes; 0: no limit seen */
    int64_t limited_until; /* rate limited until (unix s); 0: not */
    size_t n_endpoints;
    char last_error[256];
} desk_chain_row;

/* Every chain with its checkpoint and endpoint health (cheap: the screens call it once a
 * second, so nothing here scans the events); *out malloc'ed. */
int desk_chain_rows(desk_snap *s, desk_chain_row **out, size_t *n, err *e) DESK_WUR;

#endif
