/* store_lists.h: the desk database's imported screening lists, inflows, travel-rule records
 * (store_lists.c). Part of the store/store.h facade. */
#ifndef FUSION_STORE_STORE_LISTS_H
#define FUSION_STORE_STORE_LISTS_H

#include "store/store_core.h"
#include "store/store_chain.h"
#include "store/store_risk.h"
#include "store/store_entity.h"

/* ---- imported screening lists and inflows (store_lists.c) ---- */

#define STORE_LIST_KEY_MAX 43 /* a lowercase 0x address, or an ISO 3166 alpha-2 code */

typedef struct store_list_version {
    int64_t id;
    char name[STORE_NAME_MAX];   /* the series: "ofac-sdn", "fatf", a declared name */
    char kind[16];               /* "addresses" or "jurisdictions" */
    char format[16];             /* sdn-csv, ofac-xml, fatf, plain */
    char source[128];            /* the file's base name */
    char published[11];          /* YYYY-MM-DD */
    char sha256[65];             /* of the file as imported */
    int64_t n_entries, n_skipped, n_added, n_removed;
    int64_t imported_at;
    char operator_name[STORE_OPERATOR_MAX];
    int64_t rescreened_at; /* 0: the money in flight is not re-screened against it yet */
} store_list_version;

typedef struct store_list_entry {
    char key[STORE_LIST_KEY_MAX];
    char detail[24]; /* the asset of an address (ETH, USDT...), or the FATF list */
    int64_t line;    /* where the file listed it */
} store_list_entry;

/* Inserts the version (v->id set) and its entries; inside the caller's transaction. */
int store_list_version_add(store *s, store_list_version *v, const store_list_entry *ents,
                           size_t n, err *e) STORE_WUR;
/* Versions in id order: all of them (name NULL) or of one name; current_only: the latest
 * version of each name only. *out malloc'ed. */
int store_list_versions(store *s, const char *name, bool current_only, store_list_version **out,
                        size_t *n, err *e) STORE_WUR;
/* Entries of a version in key order; *out malloc'ed. */
int store_list_entries(store *s, int64_t version_id, store_list_entry **out, size_t *n,
                       err *e) STORE_WUR;
int store_list_mark_rescreened(store *s, int64_t version_id, int64_t at, err *e) STORE_WUR;

/* A transfer into one of the desk's accounts, from a confirmed block. */
typedef struct store_inflow {
    int64_t id;
    uint64_t chain_id;
    uint64_t block_number;
    uint8_t block_hash[32];
    uint8_t tx_hash[32];
    uint64_t log_index;
    addr token; /* zero: the chain's native coin */
    addr sender, recipient;
    u256 amount;
    int64_t block_time, seen_at;
    int64_t screened_at, reorged_at; /* 0: not yet / not reorged */
} store_inflow;

/* Inserts (duplicates by chain, block hash and log index are ignored; *inserted says). */
int store_inflow_put(store *s, const store_inflow *f, bool *inserted, err *e) STORE_WUR;
/* The identity of the database an inflow's screening mark was made on (a desk whose book
 * is on a server: the reader's feed_state's, at most this many bytes with the NUL). */
#define STORE_INFLOW_BOOK_MAX 256
/* Unscreened, unreorged inflows in id order; *out malloc'ed. On a desk whose book is on a
 * server: the server's, less those desk.db marked on that database, and book (cap bytes)
 * names the database (its identity) their marks must name; "" on desk.db. */
int store_inflow_pending(store *s, char *book, size_t cap, store_inflow **out, size_t *n,
                         err *e) STORE_WUR;
/* Unreorged inflows seen at or after since (the re-screening after a list update). */
int store_inflow_recent(store *s, int64_t since, store_inflow **out, size_t *n, err *e) STORE_WUR;
/* Marks inflow id (of chain_id: on a desk whose book is on a server, desk.db keeps the
 * chain of each mark, the cursor of store_inflow_pending's read there, and the database
 * book store_inflow_pending named, whose id it is; ignored on desk.db) screened at at. */
int store_inflow_mark_screened(store *s, const char *book, int64_t id, uint64_t chain_id,
                               int64_t at, err *e) STORE_WUR;
/* A reorg replaced blocks from `from` on: the inflows of those blocks whose hash is no
 * longer canonical are marked reorged (never deleted); *marked counts them. The caller
 * passes the canonical hash of each block it still has; here: all inflows at or above
 * from on chain_id are marked, and the cursor moves back to from. */
int store_inflow_reorg(store *s, uint64_t chain_id, uint64_t from, size_t *marked,
                       err *e) STORE_WUR;
/* The next block to scan for inflows on a chain (0 with *found false: none yet). */
int store_inflow_cursor(store *s, uint64_t chain_id, uint64_t *next, bool *found,
                        err *e) STORE_WUR;
int store_inflow_cursor_set(store *s, uint64_t chain_id, uint64_t next, err *e) STORE_WUR;

/* Travel Rule data of an entity (IVMS101 fields the registry does not hold). */
typedef struct store_entity_travel {
    int64_t entity_id;
    char street[128], town[64], postcode[24], country[3];
    char national_id[64], national_id_type[8];
    char birth_date[11], birth_place[64];
    int64_t updated_at;
} store_entity_travel;

int store_entity_travel_get(store *s, int64_t entity_id, store_entity_travel *out, bool *found,
                            err *e) STORE_WUR;
int store_entity_travel_put(store *s, const store_entity_travel *t, err *e) STORE_WUR;
/* Records the IVMS101 JSON of a transfer the desk signs; inside the caller's transaction. */
int store_travel_record_add(store *s, uint64_t chain_id, const addr *escrow, const char *action,
                            double usd, const char *ivms_json, int64_t at,
                            const char *operator_name, err *e) STORE_WUR;
/* The newest record about an escrow (*json malloc'ed; NULL with *found false: none). */
int store_travel_record_get(store *s, uint64_t chain_id, const addr *escrow, char **json,
                            bool *found, err *e) STORE_WUR;

#endif
