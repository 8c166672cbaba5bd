/* rcsv.h: module-private helpers of src/risk for the loaders: reading a whole file,
 * splitting CSV lines with line numbers, strict decimal numbers. Not a public API. */
#ifndef FUSION_RISK_RCSV_H
#define FUSION_RISK_RCSV_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Input files larger than this are refused (a daily price history is a few MiB). */
#define RCSV_MAX_FILE (256u * 1024u * 1024u)

/* Reads path into a fresh NUL-terminated buffer (*len excludes the NUL). */
int rcsv_read_file(const char *path, char **buf, size_t *len, err *e)
    __attribute__((warn_unused_result));

typedef struct rcsv {
    const char *label; /* file name for errors */
    const char *buf;
    size_t len;
    size_t pos;
    size_t line;       /* 1-based line number of the row last returned */
    bool comments;     /* skip lines whose first non-blank character is '#' */
    char *row;         /* copy of the current line; fields point into it */
    size_t row_cap;
    char **field;
    size_t n_field;
    size_t field_cap;
} rcsv;

void rcsv_init(rcsv *c, const char *label, const char *buf, size_t len, bool comments);
void rcsv_free(rcsv *c);
/* Next non-blank row: 1 = a row, 0 = end of input, -1 = error (NUL byte, memory).
 * Fields are trimmed of blanks and of one pair of enclosing double quotes. */
int rcsv_next(rcsv *c, err *e) __attribute__((warn_unused_result));

typedef enum { RNUM_OK, RNUM_SYNTAX, RNUM_RANGE } rnum_status;
/* A plain decimal number: [+-] digits [. digits] [e [+-] digits]. No hex, inf or nan;
 * the result must be finite and not subnormal, and must not underflow (RNUM_RANGE). */
rnum_status rnum_parse(const char *s, double *out);

/* ASCII case-insensitive equality. */
bool rcsv_ieq(const char *a, const char *b);
/* An asset name: 1..31 characters from [A-Za-z0-9._-]. */
bool rcsv_asset_name_ok(const char *s);

#endif
