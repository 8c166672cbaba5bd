/* store_event.h: the desk database's raw chain events, the block-hash window, checkpoints
 * (store_event.c). Part of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_EVENT_H
#define FUSION_STORE_STORE_EVENT_H

#include "store/store_core.h"

/* ---- events, block window, checkpoints (store_event.c) ---- */

#define STORE_MAX_TOPICS 4
#define STORE_EVENT_NAME_MAX 48

/* One log as the chain gave it, plus the name the decoder gave it. On reads, data points
 * into memory owned by the list it came from. The decoded fields are not stored: a reader
 * decodes them from name, topics and data (sync_event_json_of, src/sync/events.h). */
typedef struct store_event {
    int64_t id; /* rowid, set on reads */
    uint64_t chain_id;
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    uint32_t tx_index;
    uint32_t log_index;
    addr address; /* emitting contract */
    unsigned n_topics;
    uint8_t topics[STORE_MAX_TOPICS][32];
    const uint8_t *data;
    size_t data_len;
    /* decoded name (empty: not one of ours / not decodable) */
    char name[STORE_EVENT_NAME_MAX];
    bool has_escrow;     /* the escrow this event belongs to */
    addr escrow;
} store_event;

/* A list of events read from the store; owns the data memory. */
typedef struct store_event_list {
    store_event *items;
    size_t n;
    void *arena_; /* private */
} store_event_list;

void store_event_list_free(store_event_list *l);

/* Inserts unless (chain_id, block_hash, log_index) is present; *inserted (may be NULL)
 * says which. Re-inserting the same log is a no-op, never a duplicate. */
int store_event_put(store *s, const store_event *ev, bool *inserted, err *e) STORE_WUR;
/* store_event_put for n events in order, STORE_EVENT_BATCH rows per statement; *inserted
 * (may be NULL) counts the rows that were not present. The events' pointers need only
 * live through the call. */
#define STORE_EVENT_BATCH 32
int store_event_put_many(store *s, const store_event *evs, size_t n, size_t *inserted,
                         err *e) STORE_WUR;
/* Events of one escrow in chain order (block number, log index). */
int store_event_list_escrow(store *s, uint64_t chain_id, const addr *escrow, store_event_list *out,
                            err *e) STORE_WUR;
/* Events of a chain in [from, to], in chain order. */
int store_event_list_range(store *s, uint64_t chain_id, uint64_t from, uint64_t to,
                           store_event_list *out, err *e) STORE_WUR;
int store_event_count(store *s, uint64_t chain_id, uint64_t *out, err *e) STORE_WUR;
/* Distinct escrows that have at least one event; *out malloc'ed. */
int store_event_escrows(store *s, uint64_t chain_id, addr **out, size_t *n, err *e) STORE_WUR;

typedef struct store_block {
    uint64_t number;
    uint8_t hash[32];
    uint8_t parent_hash[32];
    uint64_t timestamp;
} store_block;

/* Remembers a block of the recent window (replaces the row at that number). */
int store_block_put(store *s, uint64_t chain_id, const store_block *b, err *e) STORE_WUR;
int store_block_get(store *s, uint64_t chain_id, uint64_t number, store_block *out, bool *found,
                    err *e) STORE_WUR;
/* Stored blocks at or below `at_or_below`, newest first, at most max; *out malloc'ed. */
int store_block_list_desc(store *s, uint64_t chain_id, uint64_t at_or_below, size_t max,
                          store_block **out, size_t *n, err *e) STORE_WUR;
/* Forgets window blocks below `below` (they are final). */
int store_block_prune(store *s, uint64_t chain_id, uint64_t below, err *e) STORE_WUR;

typedef struct store_checkpoint {
    uint64_t chain_id;
    bool synced;           /* false: nothing synced yet */
    uint64_t synced_block; /* every event up to and including it is stored */
    uint8_t synced_hash[32];
    uint64_t final_block; /* head - confirmations when last written */
    uint64_t head_block;  /* the node's head when last written */
    int64_t updated_at;
} store_checkpoint;

int store_checkpoint_get(store *s, uint64_t chain_id, store_checkpoint *out, err *e) STORE_WUR;
/* Written in the same transaction as the events it covers. */
int store_checkpoint_put(store *s, const store_checkpoint *c, err *e) STORE_WUR;

/* Forgets the checkpoint: the next sync starts at the chain's start block. */
int store_checkpoint_delete(store *s, uint64_t chain_id, err *e) STORE_WUR;

/* Reorg rollback, inside the caller's transaction: deletes the events and window blocks
 * at and above `first_gone` (0: all of the chain's) and returns the escrows whose events
 * were deleted (*escrows malloc'ed, may be NULL when *n is 0) and how many events went. */
int store_events_rewind(store *s, uint64_t chain_id, uint64_t first_gone, addr **escrows, size_t *n,
                        uint64_t *n_events, err *e) STORE_WUR;

#endif
