/* audit.h: the desk's append-only audit log (<home>/audit.log). One JSON object per
 * line; each row carries the SHA-256 of the previous row's exact bytes and of its own
 * body, so an edited, deleted, reordered or truncated row is found by audit_verify.
 * Several fusion processes may append to one desk: appends are serialised by flock. */
#ifndef FUSION_AUDIT_AUDIT_H
#define FUSION_AUDIT_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/address.h"

#define AUDIT_FILE "audit.log"
#define AUDIT_HASH_HEX 65      /* 64 hex digits + NUL */
#define AUDIT_ROW_MAX 65536    /* longest row accepted, newline excluded */
#define AUDIT_PROBLEM_MAX 256

/* The head of the log (seq and hash of its last row) is also kept in <home>/desk.db,
 * written in the same step as each row, so a log deleted, truncated or rewritten is
 * found even when what is left is a valid chain. The table belongs to this module; the
 * store creates it with the same statement in its migrations. A row with seq 0 marks a
 * desk migrated from before the head: its log's head is adopted (after a full check)
 * at the next append. */
#define AUDIT_HEAD_SQL                                                                             \
    "CREATE TABLE IF NOT EXISTS audit_head ("                                                      \
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"                                                     \
    "  seq INTEGER NOT NULL CHECK (seq >= 0),"                                                     \
    "  hash TEXT NOT NULL"                                                                         \
    ");"

struct sqlite3;

/* Appends one row {seq, time, operator, action, details, prev, hash} under an exclusive
 * flock and fsyncs it, and moves the head in <home>/desk.db (its own connection) in the
 * same step: the database's write lock is taken first, the row written, the head
 * committed; if the commit fails the row is taken back. details (borrowed, may be NULL
 * for {}) must be a JSON object. Refuses to append after an incomplete last row (a crash
 * or a truncation) and to a log that does not hold the head desk.db records. */
int audit_append(const char *home, const char *operator_name, const char *action,
                 const json_t *details, err *e) __attribute__((warn_unused_result));

/* The same on db, an open connection to <home>/desk.db. Inside a transaction of the
 * caller the head moves with that transaction (a rollback leaves the row in the log
 * ahead of the head, which the next append accepts and catches up). */
int audit_append_db(struct sqlite3 *db, const char *home, const char *operator_name,
                    const char *action, const json_t *details, err *e)
    __attribute__((warn_unused_result));

/* One row of a batch. */
typedef struct audit_row_in {
    const char *operator_name;
    const char *action;
    const json_t *details; /* borrowed, may be NULL for {} */
} audit_row_in;

/* audit_append_db for rows[0..n) in order: one flock, one write, one fsync, the head moved
 * to the last (a group commit's rows); all or none of them are appended. */
int audit_append_batch_db(struct sqlite3 *db, const char *home, const audit_row_in *rows,
                          size_t n, err *e) __attribute__((warn_unused_result));

/* Without writing: whether the log still holds the head desk.db records, as an append
 * would check it (a desk refuses to open for actions when it does not). */
int audit_check(const char *home, err *e) __attribute__((warn_unused_result));

/* For a log whose desk.db holds no head (a desk older than the head, or a desk.db
 * restored from elsewhere): checks the whole chain and records its head in desk.db,
 * then appends an "audit.adopt" row naming it. Refused when desk.db has a head. */
int audit_adopt(const char *home, const char *operator_name, err *e)
    __attribute__((warn_unused_result));

/* One row as read back; the strings and details live until the callback returns. */
typedef struct audit_row {
    uint64_t seq;
    size_t line;              /* 1-based line number in the file */
    const char *time;
    const char *operator_name;
    const char *action;
    const json_t *details;
    const char *hash;         /* this row's hash */
    const char *raw;          /* the exact line, without the newline */
} audit_row;

typedef int (*audit_row_fn)(void *ctx, const audit_row *row, err *e);

/* Calls fn for every row in order (no chain check; see audit_verify). A row that is not
 * a well-formed JSON row is an error naming its line. A missing log has no rows. */
int audit_list(const char *home, audit_row_fn fn, void *ctx, err *e)
    __attribute__((warn_unused_result));

typedef struct audit_report {
    bool ok;                  /* the whole chain verified */
    uint64_t rows;            /* rows verified before the first problem */
    size_t bad_line;          /* 1-based line of the first bad row (0 when ok) */
    char problem[AUDIT_PROBLEM_MAX];
    uint64_t head_seq;        /* last good row */
    char head_hash[AUDIT_HASH_HEX];
    bool db_head;             /* desk.db holds a head, checked against the log */
    uint64_t db_head_seq;
} audit_report;

/* Walks the chain. Returns 0 when the file could be read (then report->ok says whether
 * the chain holds), -1 on I/O errors. anchor ("SEQ:HASH", may be NULL) is a head seen
 * earlier: it must still be a row of the chain, which catches rows cut off the end. The
 * head recorded in <home>/desk.db is such an anchor too; a log with rows and a desk.db
 * without a head fails as well (desk.db replaced). */
int audit_verify(const char *home, const char *anchor, audit_report *report, err *e)
    __attribute__((warn_unused_result));
/* The log alone, without the head in desk.db: for a copy verified elsewhere. */
int audit_verify_log(const char *home, const char *anchor, audit_report *report, err *e)
    __attribute__((warn_unused_result));

/* ---- signed decisions (signed.c; the statement is described in statement.h) ---- */

/* Signs a digest with the unlocked key of the process's operator (no audit row: the
 * decision's own row carries the signature). */
typedef int (*audit_sign_fn)(void *ctx, uint8_t sig65[65], const uint8_t digest[32], err *e);

typedef struct audit_signer {
    char operator_name[64];
    addr address;
    audit_sign_fn sign;
    void *ctx;
} audit_signer;

/* Installs (copies) the signer of this process's decisions; NULL removes it. On a desk
 * whose genesis is signed, every decision row appended with operator_name equal to the
 * signer's carries its signed statement, and a decision row of anyone else is refused.
 * On a desk without a signed genesis every decision is refused (AUDIT_NO_GENESIS). */
void audit_signer_set(const audit_signer *s);

/* What a decision meets on a desk whose genesis no admin has signed: the audit module
 * refuses it (ERR_DENIED) and records nothing, whatever interface asked. */
#define AUDIT_NO_GENESIS                                                                           \
    "this desk has no signed genesis: an admin signs it with `fusion --operator NAME operator "  \
    "genesis --key ADDRESS`"

/* The desk id recorded with the signed genesis (*present false: a desk without one). */
int audit_desk_id(const char *home, uint8_t desk_id[32], bool *present, err *e)
    __attribute__((warn_unused_result));

typedef struct audit_sig_report {
    bool ok;
    bool signed_desk;         /* the log holds the desk's genesis */
    uint64_t genesis_seq;
    uint64_t signed_rows;     /* decisions whose signature verified */
    uint64_t unsigned_rows;   /* decisions recorded before the genesis */
    size_t bad_line;
    uint64_t bad_seq;
    char problem[AUDIT_PROBLEM_MAX];
} audit_sig_report;

/* Called for each verified statement (export): the row, its typed data (borrowed), the
 * signature as hex and the digest. */
typedef int (*audit_statement_fn)(void *ctx, const audit_row *row, const json_t *typed_data,
                                  const char *sig_hex, const uint8_t digest[32], err *e);

/* Replays the log from its genesis: each decision's signature must recover to the key of
 * the operator named in the row as the operator rows before it define it, and that
 * operator must hold the decision's role then; the genesis must carry desk.db's desk id.
 * report->ok false names the first bad row. fn may be NULL. */
int audit_verify_signatures(const char *home, audit_sig_report *report, audit_statement_fn fn,
                            void *fn_ctx, err *e) __attribute__((warn_unused_result));

/* ---- the desk's configuration files as signed decisions (config_sig.c) ---- */

/* One signed configuration file: its name on the command line ("policy"), its file in the
 * desk home, the audit action of its decision and the role that signs it. */
typedef struct audit_config_kind {
    const char *name;
    const char *file;
    const char *action;
    const char *role;
} audit_config_kind;

#define AUDIT_CONFIG_ABSENT "absent" /* the hash recorded for a file signed away */
#define AUDIT_CONFIG_CONTENT_MAX 16384 /* longer text is recorded by its hash alone */

/* The kind named name (its name, its file or its action); NULL when there is none. */
const audit_config_kind *audit_config_kind_find(const char *name);
const audit_config_kind *audit_config_kinds(size_t *n);
/* SHA-256 of a file's bytes as hex; AUDIT_CONFIG_ABSENT when the file does not exist. */
void audit_config_hash(char out[AUDIT_HASH_HEX], const void *text, size_t len, bool exists);

typedef struct audit_config_record_t {
    bool present;
    char sha256[AUDIT_HASH_HEX];
    uint64_t seq;             /* the audit row of the decision */
    char operator_name[64];
} audit_config_record_t;

/* The last signed record of k's file (r->present false: never signed); *signed_desk false on
 * a desk without a signed genesis. */
int audit_config_get(const char *home, const audit_config_kind *k, bool *signed_desk,
                     audit_config_record_t *r, err *e) __attribute__((warn_unused_result));
/* Whether the desk may act on the content (text, len; exists false: the file is missing) of
 * its configuration file name: on a desk with a signed genesis it must be the content last
 * signed; a file never signed (or signed away) is accepted only when missing or equal to
 * the shipped default dflt (may be NULL). Else ERR_DENIED, one line naming the file and the
 * command that signs it. A desk without a genesis accepts every file. */
int audit_config_check(const char *home, const char *name, const void *text, size_t len,
                       bool exists, const void *dflt, size_t dflt_len, err *e)
    __attribute__((warn_unused_result));
/* The details of k's config.* decision for this content: file, sha256, bytes, previous (the
 * hash signed before, or null) and the text ("content", when short and UTF-8; else
 * "content_omitted"). NULL when out of memory. */
json_t *audit_config_details(const audit_config_kind *k, const char *text, size_t len,
                             bool exists, const audit_config_record_t *prev);
/* For a desk.db rebuilt from nothing (after `audit adopt`): the desk id from the log's
 * signed genesis and the configuration records from its config.* rows, so signatures keep
 * verifying and files keep their signed state. *restored true when a genesis was found;
 * nothing is done when desk.db knows its desk id. */
int audit_restore_signed(const char *home, bool *restored, err *e)
    __attribute__((warn_unused_result));

/* Calls fn for each operator of the desk as its signed rows define them at the end of the
 * log (genesis, operator.add/roles/remove), after checking every signature; refused when
 * audit verify would fail. For a desk.db rebuilt from the log. */
typedef int (*audit_operator_fn)(void *ctx, const char *name, const addr *key,
                                 const char *roles, err *e);
int audit_signed_operators(const char *home, audit_operator_fn fn, void *ctx, err *e)
    __attribute__((warn_unused_result));

#endif
