/* store_escrow.h: the desk database's escrow projection derived from events
 * (store_escrow.c). Part of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_ESCROW_H
#define FUSION_STORE_STORE_ESCROW_H

#include "store/store_core.h"

/* ---- escrow projection (store_escrow.c) ---- */

#define STORE_MAX_APPROVERS 32

typedef enum {
    ESCROW_CREATED,
    ESCROW_FUNDED,
    ESCROW_RELEASED,
    ESCROW_REFUNDED,
    ESCROW_DISPUTED,
    ESCROW_RESOLVED,
} escrow_state;

typedef struct store_approval {
    addr approver;
    uint64_t block_number;
    uint8_t tx_hash[32];
    uint32_t log_index;
    bool pending;
} store_approval;

/* The state of one escrow as its events say, and nothing else. */
typedef struct store_escrow {
    uint64_t chain_id;
    addr address;
    addr factory;
    addr payer, payee, token, arbiter; /* token zero: native coin */
    u256 amount;
    unsigned n_approvers;
    addr approvers[STORE_MAX_APPROVERS];
    unsigned threshold;
    uint64_t deadline; /* unix seconds */
    escrow_state state;
    bool resolved_to_payee; /* when RESOLVED */
    unsigned n_approvals;
    store_approval approvals[STORE_MAX_APPROVERS];
    u256 funded, released, refunded; /* cumulative base units */
    uint64_t created_block;
    uint8_t created_tx[32];
    uint64_t last_event_block;
    unsigned n_events;
    bool pending;      /* some event is above the final block */
    char anomaly[160]; /* events that did not fit the state machine */
    /* Version 2 (EscrowFactoryV2): 0 dispute_window and a zero terms_hash for version 1. */
    unsigned version;        /* 1 or 2: that of the EscrowCreated */
    uint64_t dispute_window; /* seconds after the deadline the arbiter may still resolve */
    uint8_t terms_hash[32];  /* EscrowCreated.termsHash, what approve(bytes32) must name */
    addr created_arbiter;    /* the arbiter named at creation (arbiter: the current one) */
    /* An event the state machine cannot reach from the state it holds: the state stays
     * the last one the events proved, and no later event moves it (anomaly says where). */
    bool inconsistent;
} store_escrow;

const char *escrow_state_str(escrow_state st);
int escrow_state_parse(escrow_state *out, const char *s, err *e) STORE_WUR;

/* Inserts or updates the escrow row, its approvals with it. */
int store_escrow_put(store *s, const store_escrow *x, err *e) STORE_WUR;

/* The escrow row store_escrow_put writes, column by column, for a backend other than the
 * desk's SQLite file (the sync's book on a server, src/pgstore/pg_sync.c), so that both
 * hold the same row: STORE_ESCROW_COLUMNS names the columns in order; v[i] is column i as
 * text (integers in decimal, 64-bit values as the bits of a signed 64-bit integer, as the
 * desk stores them), NULL for SQL NULL, except approval_list (the last column), which is
 * approvals_len bytes. Points into the struct itself. */
#define STORE_ESCROW_COLUMNS                                                                       \
    "chain_id, address, factory, payer, payee, token, amount, approvers, threshold, arbiter,"     \
    " deadline, state, resolved_to, approvals, funded, released, refunded, created_block,"        \
    " created_tx, last_event_block, events, pending, anomaly, version, dispute_window,"          \
    " terms_hash, created_arbiter, inconsistent, approval_list"
enum { STORE_ESCROW_NCOLS = 29 };
typedef struct store_escrow_row {
    const char *v[STORE_ESCROW_NCOLS];
    size_t approvals_len;
    char num[12][24];
    char hex[9][67];
    char dec[4][80];
    char approvers[STORE_MAX_APPROVERS * (ADDR_STR_MAX + 3) + 4];
    char anomaly[160];
    uint8_t approvals[STORE_MAX_APPROVERS * (ADDR_LEN + 8 + 32 + 4 + 1)];
} store_escrow_row;
void store_escrow_row_of(const store_escrow *x, store_escrow_row *r);

/* Many new escrows in one transaction (a catch-up's first ranges): between begin and end
 * the escrows inserted by store_escrow_put get their search-index rows and their count in
 * escrow_totals from one statement at end, instead of the insert trigger's statements per
 * row (FTS5 is much faster in bulk). Both run inside the caller's transaction: begin drops
 * the insert trigger and end creates it again from its stored text, so a rollback, a
 * failure in between or a crash before the commit leaves trigger, index and rows as they
 * were, and no commit can hold a row without its index entry. Between the two, escrows may
 * only be written by store_escrow_put (no deletes: the new rows are those numbered above
 * the largest rowid at begin). store_escrow_batch_free in every case. */
typedef struct store_escrow_batch {
    int64_t above;  /* the largest escrows rowid at begin */
    char *trigger;  /* the insert trigger's CREATE statement, to restore at end */
} store_escrow_batch;

int store_escrow_batch_begin(store *s, store_escrow_batch *b, err *e) STORE_WUR;
int store_escrow_batch_end(store *s, store_escrow_batch *b, err *e) STORE_WUR;
void store_escrow_batch_free(store_escrow_batch *b);
int store_escrow_delete(store *s, uint64_t chain_id, const addr *address, err *e) STORE_WUR;
int store_escrow_get(store *s, uint64_t chain_id, const addr *address, store_escrow *out,
                     bool *found, err *e) STORE_WUR;
/* Finds an escrow by address on any chain (first match by chain id). */
int store_escrow_find(store *s, const addr *address, store_escrow *out, bool *found,
                      err *e) STORE_WUR;
/* All escrows (chain_id 0: every chain), ordered by chain and creation; *out malloc'ed. */
int store_escrow_list(store *s, uint64_t chain_id, store_escrow **out, size_t *n, err *e) STORE_WUR;
/* Every escrow's row id, in store_escrow_list's order (8 bytes an escrow, where the rows
 * themselves take kilobytes: a pass over every escrow reads them one at a time with
 * store_escrow_get_rowid, which finds nothing for a row deleted meanwhile). */
int store_escrow_rowids(store *s, int64_t **out, size_t *n, err *e) STORE_WUR;
int store_escrow_get_rowid(store *s, int64_t rowid, store_escrow *out, bool *found,
                           err *e) STORE_WUR;
/* The escrows still holding funds (funded or disputed) with one of the parties as payer or
 * payee, in store_escrow_list's order; reads only those rows (the risk service's exposure
 * at any desk size); *out malloc'ed. */
int store_escrow_list_open(store *s, const addr *parties, size_t n_parties, store_escrow **out,
                           size_t *n, err *e) STORE_WUR;
/* Where a page of escrows starts: after the row with these keys (store_escrow_list's
 * order). */
typedef struct store_escrow_cursor {
    uint64_t chain_id;
    uint64_t created_block;
    addr address;
} store_escrow_cursor;
/* The cursor after x (for the next page). */
void store_escrow_cursor_of(store_escrow_cursor *c, const store_escrow *x);
/* One page of the escrows awaiting approver's approval: funded, approver among the
 * approvers and not among the approvals, threshold not reached; in store_escrow_list's
 * order, at most limit rows after the cursor (after NULL: the first page). Reads only the
 * funded rows naming the approver; *out malloc'ed. */
int store_escrow_awaiting(store *s, const addr *approver, const store_escrow_cursor *after,
                          size_t limit, store_escrow **out, size_t *n, err *e) STORE_WUR;
/* How many escrows await approver's approval (every page together). */
int store_escrow_awaiting_count(store *s, const addr *approver, size_t *n, err *e) STORE_WUR;
/* True when approver is among x's approvers and not among its approvals (the test both
 * backends' awaiting lists apply to each row). */
bool store_escrow_awaits(const store_escrow *x, const addr *approver);
/* Rebuilds the escrow search index and the stored total from the escrows table, in one
 * transaction (`fusion reindex`; needed after a VACUUM, which may renumber rowids). */
int store_escrow_search_rebuild(store *s, err *e) STORE_WUR;
/* Addresses of a chain's known escrows (the sync watch list); *out malloc'ed. */
int store_escrow_addresses(store *s, uint64_t chain_id, addr **out, size_t *n, err *e) STORE_WUR;
/* Clears the pending flags of what is now final. */
int store_escrow_settle(store *s, uint64_t chain_id, uint64_t final_block, err *e) STORE_WUR;
/* Deletes every escrow row of a chain (before a full rebuild). */
int store_escrow_clear(store *s, uint64_t chain_id, err *e) STORE_WUR;
/* The escrows of a chain whose rows lag behind its stored events (a catch-up writes them
 * at its end; see schema step escrows_stale): mark one, list them (*out malloc'ed), forget
 * them all once their rows are written again. */
int store_escrow_stale_mark(store *s, uint64_t chain_id, const addr *escrow, err *e) STORE_WUR;
int store_escrow_stale_list(store *s, uint64_t chain_id, addr **out, size_t *n,
                            err *e) STORE_WUR;
int store_escrow_stale_clear(store *s, uint64_t chain_id, err *e) STORE_WUR;

#endif
