/* store_api.h: the desk database's API clients, proposals and the change feed
 * (store_api.c). Part of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_API_H
#define FUSION_STORE_STORE_API_H

#include "store/store_core.h"

/* ==== the API (store_api.c) ==== */

#define STORE_API_NAME_MAX 64
#define STORE_API_IDEM_MAX 128
#define STORE_API_BODY_MAX 4096
#define STORE_API_SCREEN_MAX 2048

/* A client of `fusion serve`: its token is kept only as a hash (64 hex digits). */
typedef struct store_api_client {
    int64_t id;
    char name[STORE_API_NAME_MAX];
    char scope[16]; /* read | propose */
    char token_hash[65];
    int64_t created_at;
    char created_by[64];
    int64_t revoked_at; /* 0: active */
    char revoked_by[64];
} store_api_client;

int store_api_client_add(store *s, const store_api_client *c, err *e) STORE_WUR;
/* The active (not revoked) client whose token hashes to token_hash. */
int store_api_client_by_hash(store *s, const char *token_hash, store_api_client *out, bool *found,
                             err *e) STORE_WUR;
int store_api_client_get(store *s, const char *name, store_api_client *out, bool *found,
                         err *e) STORE_WUR;
/* Marks an active client revoked; *found false when no active client has that name. */
int store_api_client_revoke(store *s, const char *name, const char *by, int64_t now, bool *found,
                            err *e) STORE_WUR;
int store_api_client_list(store *s, store_api_client **out, size_t *n, err *e) STORE_WUR;

/* A proposal a client made: what it asked (body, validated), what the checks said at the
 * time (screening), and what a person decided. */
typedef struct store_proposal {
    int64_t id;
    char client[STORE_API_NAME_MAX];
    char idem_key[STORE_API_IDEM_MAX]; /* "" when the request had none */
    char kind[16];                     /* escrow | payment | bridge */
    uint64_t chain_id;
    char body[STORE_API_BODY_MAX];
    char body_hash[65];
    char screening[STORE_API_SCREEN_MAX];
    char state[16]; /* pending | accepted | rejected | failed */
    int64_t created_at, decided_at;
    char decided_by[64];
    char reason[256];
    char escrow[44]; /* accepted escrow proposal: the escrow made ("" before) */
    int64_t outbound_id;
} store_proposal;

/* Adds p (state pending); p->id is set. */
int store_proposal_add(store *s, store_proposal *p, err *e) STORE_WUR;
int store_proposal_get(store *s, int64_t id, store_proposal *out, bool *found, err *e) STORE_WUR;
/* The proposal of client with idempotency key idem. */
int store_proposal_find_idem(store *s, const char *client, const char *idem, store_proposal *out,
                             bool *found, err *e) STORE_WUR;
/* Proposals in id order after after_id (state NULL: any), at most max; *out malloc'ed. */
int store_proposal_list(store *s, const char *state, int64_t after_id, size_t max,
                        store_proposal **out, size_t *n, err *e) STORE_WUR;
/* Moves a pending proposal to state with who and why; *moved false when it was not
 * pending (decided meanwhile, or no such proposal). */
int store_proposal_decide(store *s, int64_t id, const char *state, const char *by,
                          const char *reason, const char *escrow, int64_t outbound_id,
                          int64_t now, bool *moved, err *e) STORE_WUR;

/* The escrow an accepted proposal made, once its create is mined (set once). */
int store_proposal_set_escrow(store *s, int64_t id, const char *escrow, err *e) STORE_WUR;

/* One row of the change feed (schema triggers write it). */
typedef struct store_feed_row {
    int64_t id;
    char kind[32];
    uint64_t chain_id;
    char ref[80];
    char state[24];
    int64_t at;
} store_feed_row;

/* Rows with id > after, oldest first, at most max; *out malloc'ed. */
int store_feed_after(store *s, int64_t after, size_t max, store_feed_row **out, size_t *n,
                     err *e) STORE_WUR;
/* The copy of a feed kept elsewhere (the desk's book on a server): the feed it follows (its
 * book's identity, book_cap bytes with the NUL) and the last id of that feed copied here;
 * *found false before the first copy. */
#define STORE_FEED_BOOK_MAX 256
int store_feed_follow_get(store *s, char *book, size_t book_cap, int64_t *cursor, bool *found,
                          err *e) STORE_WUR;
/* Appends rows of the feed kept elsewhere (their kind, chain, ref, state and time; new ids
 * here) and sets the copy's book and cursor, in one transaction: a crash leaves both or
 * neither. */
int store_feed_append(store *s, const store_feed_row *rows, size_t n, const char *book,
                      int64_t cursor, err *e) STORE_WUR;
/* Sets the copy's book and cursor without rows; with reset, in the same transaction, hands
 * out one more id and deletes every row of the feed (the horizon passes every reader's last
 * id: each is told to read the resources again). */
int store_feed_follow_set(store *s, const char *book, int64_t cursor, bool reset,
                          err *e) STORE_WUR;
/* The last id of the feed (0: empty). */
int store_feed_last(store *s, int64_t *out, err *e) STORE_WUR;
/* The newest id pruned from the feed (0: none ever): a reader resuming after an id below
 * it has missed events. */
int store_feed_horizon(store *s, int64_t *out, err *e) STORE_WUR;
/* Prunes the oldest rows (always a prefix of the ids, so the horizon says what is gone):
 * every row up to the newest one written before before_at, and all but the newest keep
 * rows. Its own transaction; *pruned (may be NULL): the rows deleted. */
int store_feed_prune(store *s, int64_t before_at, int64_t keep, int64_t *pruned,
                     err *e) STORE_WUR;

#endif
