/* store_case.h: the desk database's compliance screening hits and cases (store_case.c). Part
 * of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_CASE_H
#define FUSION_STORE_STORE_CASE_H

#include "store/store_core.h"
#include "store/store_escrow.h"
#include "store/store_risk.h"
#include "store/store_entity.h"

/* The start of an inflow hit's evidence (an inflow's case and hits name the desk account in
 * their escrow column: no escrow, nothing a reorg sweep of escrows may take for gone). */
#define STORE_INFLOW_EVIDENCE "inflow tx "
#define STORE_INFLOW_EVIDENCE_LEN "10"

/* One stored screening hit; unique per (subject, chain, escrow, rule). */
typedef struct store_hit {
    int64_t id;
    uint64_t chain_id;
    addr escrow;
    char subject[STORE_SUBJECT_MAX];
    addr address;
    int64_t entity_id;                /* 0: none */
    char role[16];
    char rule[32];
    char kind[32];
    int score;
    char evidence[320];
    char list_sha256[67];             /* "" for rules without a list */
    char list_version[32];
    int64_t case_id;                  /* 0: none */
    int64_t created_at;
    int64_t reorged_at;               /* 0: current; else when a reorg removed its escrow */
} store_hit;

typedef struct store_case {
    int64_t id;
    char subject[STORE_SUBJECT_MAX];
    int64_t entity_id;                /* 0: the subject is an address */
    uint64_t chain_id;
    addr escrow;
    char state[16];                   /* new assigned in_review escalated closed */
    char outcome[16];                 /* "" or cleared blocked reported */
    int priority;                     /* 1 high, 2 medium, 3 low */
    int score;
    int64_t opened_at, due_at;
    char assignee[STORE_OPERATOR_MAX];
    char snoozed_until[STORE_DATE_MAX];
    char proposed_outcome[16];
    char proposed_by[STORE_OPERATOR_MAX];
    char closed_by[STORE_OPERATOR_MAX];
    int64_t closed_at;
} store_case;

typedef struct store_case_event {
    int64_t id, case_id, at;
    char operator_name[STORE_OPERATOR_MAX];
    char action[32];
    char before[256], after[256];
    char note[1024];
} store_case_event;

/* Inserts unless (subject, chain, escrow, rule) is there; *inserted says which. A new hit
 * takes h->case_id (0: none); one already there keeps its own. */
int store_hit_put(store *s, const store_hit *h, bool *inserted, err *e) STORE_WUR;
/* Attaches the unattached hits of (subject, chain, escrow) to a case. */
int store_hit_attach(store *s, const char *subject, uint64_t chain_id, const addr *escrow,
                     int64_t case_id, err *e) STORE_WUR;
/* Hits of a case (case_id > 0) in id order; *out malloc'ed. */
int store_hit_list_case(store *s, int64_t case_id, store_hit **out, size_t *n, err *e) STORE_WUR;

/* Is the escrow now at this address screened? A mark counts only for the escrow whose
 * creation it names (creating transaction and block hash): after a reorg another escrow
 * can stand at the same address (clones take it from the factory's nonce). */
int store_escrow_is_screened(store *s, uint64_t chain_id, const addr *escrow, bool *yes,
                             err *e) STORE_WUR;
/* Marks escrow x screened, naming its creation; nothing when the projection no longer
 * holds the escrow x->created_tx created at that address (it is screened on a later pass). */
int store_escrow_mark_screened(store *s, const store_escrow *x, int64_t at, err *e) STORE_WUR;

/* What a screening pass reads of an escrow, besides its fields, in the same statement: the
 * timestamp of its creation block while the block window holds it, the block hash of its
 * creation event (what its screened mark names; NULL when no event holds it) and
 * store_escrow_is_screened's answer. */
typedef struct store_screen_row {
    bool has_block;
    uint64_t block_timestamp;
    bool has_creation_hash;
    char creation_hash[131]; /* the mark's hex text: '0x' and a hash of up to 64 bytes */
    bool screened;
} store_screen_row;

/* The escrow of a rowid (store_escrow_rowids) as screening needs it: x's chain, address,
 * payer, payee, token, amount, created_block and created_tx (its other fields are left as
 * they are) and *r. */
int store_escrow_screen_rowid(store *s, int64_t rowid, store_escrow *x, store_screen_row *r,
                              bool *found, err *e) STORE_WUR;
/* *r of the escrow now at this address (inside the caller's transaction: what the mark of
 * store_escrow_mark_screened_as will name). */
int store_escrow_screen_row(store *s, uint64_t chain_id, const addr *escrow, store_screen_row *r,
                            bool *found, err *e) STORE_WUR;
/* On a store whose book is on a server (store_set_reader): a page of its escrows after
 * `after` (NULL: from the first) in the book's order, at most limit read, each with its *r
 * (one read of the server for the page; the marks are desk.db's), without those gone or
 * replaced since the list was read; *next: the cursor after the page's last escrow read,
 * *more: limit were read (another page may follow). A screening pass over the book in
 * pages, so that its memory does not grow with the book. *out and *rows malloc'ed. */
int store_escrow_screen_page(store *s, const store_escrow_cursor *after, size_t limit,
                             store_escrow **out, store_screen_row **rows, size_t *n,
                             store_escrow_cursor *next, bool *more, err *e) STORE_WUR;
/* store_escrow_mark_screened with the creation's block hash read in *r within the same
 * transaction: the same mark without looking the creation event up again. */
int store_escrow_mark_screened_as(store *s, const store_escrow *x, const store_screen_row *r,
                                  int64_t at, err *e) STORE_WUR;

/* Does any screening hit wait for a case? (Every hit written since cases exist is written
 * with its case; store_hit_attach has work only on desks older than that.) */
int store_hits_unattached(store *s, bool *any, err *e) STORE_WUR;

/* How many escrows of the projection have not been screened yet. */
int store_escrow_unscreened(store *s, size_t *n, err *e) STORE_WUR;
/* Inside the caller's transaction: marks the screening hits (evidence: reorged_at, never
 * deleted) and deletes the screened marks of escrows no longer in the projection (a reorg
 * removed them; cases stay, they are human work; a hit of a gate-refused create names no
 * escrow and stays as it is) and
 * returns the cases about such escrows that have no "escrow_vanished" case event yet
 * (*case_ids malloc'ed). */
int store_screening_orphans(store *s, int64_t **case_ids, size_t *n, size_t *hits_dropped,
                            err *e) STORE_WUR;
/* The same for escrows a reorg replaced by another escrow at the same address (their mark
 * names another creation): their hits are marked, their marks go, and *case_ids are the cases about the
 * address, to be noted (the replacing escrow is screened afresh). */
int store_screening_replaced(store *s, int64_t **case_ids, size_t *n, size_t *hits_dropped,
                             err *e) STORE_WUR;

/* Inserts c unless (subject, chain, escrow) has a case; either way c->id is the case's id
 * and *created says which. */
int store_case_open(store *s, store_case *c, bool *created, err *e) STORE_WUR;
int store_case_get(store *s, int64_t id, store_case *out, bool *found, err *e) STORE_WUR;
/* Writes the mutable fields (state .. closed_at) of case c->id. */
int store_case_update(store *s, const store_case *c, err *e) STORE_WUR;
/* Inside the caller's BEGIN IMMEDIATE: one UPDATE assigns the oldest highest-priority
 * new, unassigned, unsnoozed (snoozed_until <= today) case to op; *id 0 when none. */
int store_case_take_next(store *s, const char *op, const char *today, int64_t *id,
                         err *e) STORE_WUR;
/* Filter for store_case_list; zero/NULL fields do not filter. */
typedef struct store_case_filter {
    const char *state;
    const char *assignee;
    bool open_only;                   /* state <> closed */
    int64_t due_before;               /* open and due_at < this */
    const char *subject;
    bool has_escrow;
    uint64_t chain_id;
    addr escrow;
} store_case_filter;
/* Cases by priority, then age; *out malloc'ed. */
int store_case_list(store *s, const store_case_filter *f, store_case **out, size_t *n,
                    err *e) STORE_WUR;
/* Appends (the table refuses updates and deletes). */
int store_case_event_add(store *s, const store_case_event *ev, err *e) STORE_WUR;
int store_case_events(store *s, int64_t case_id, store_case_event **out, size_t *n,
                      err *e) STORE_WUR;

#endif
