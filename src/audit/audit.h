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

#define AUDIT_FILE "audit.log"
#define AUDIT_HASH_HEX 65      /* 64 hex digits + NUL */
#define AUDIT_ROW_MAX 65536    /* longest row accepted, newline excluded */
#define AUDIT_PROBLEM_MAX 256

/* Appends one row {seq, time, operator, action, details, prev, hash} under an exclusive
 * flock and fsyncs it. details (borrowed, may be NULL for {}) must be a JSON object.
 * Refuses to append after an incomplete last row (a crash or a truncation). */
int audit_append(const char *home, const char *operator_name, const char *action,
                 const json_t *details, err *e) __attribute__((warn_unused_result));

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
} audit_report;

/* Walks the chain. Returns 0 when the file could be read (then report->ok says whether
 * the chain holds), -1 on I/O errors. anchor ("SEQ:HASH", may be NULL) is a head seen
 * earlier: it must still be a row of the chain, which catches rows cut off the end. */
int audit_verify(const char *home, const char *anchor, audit_report *report, err *e)
    __attribute__((warn_unused_result));

#endif
