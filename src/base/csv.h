/* csv.h: the one CSV writer of the desk's exports (listings' --csv, daily reports). RFC
 * 4180: fields holding a comma, a quote, CR or LF are quoted, quotes doubled, rows end in
 * CRLF. Text cells starting with = + - @ (or a tab or CR) get a leading single quote, so a
 * spreadsheet opening the file does not run them as formulas; numbers are written as
 * numbers. The data is otherwise kept exact: a file is not a terminal (for a terminal the
 * caller passes CSV_TERMINAL and cells are made safe with text_safe). */
#ifndef FUSION_BASE_CSV_H
#define FUSION_BASE_CSV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/bytes.h"
#include "base/err.h"

enum { CSV_TERMINAL = 1 };

/* Appends one text cell (without separator). */
int csv_text(buf *out, const char *s, size_t len, int flags, err *e)
    __attribute__((warn_unused_result));
/* Appends one cell for a JSON value: strings as csv_text, integers and reals as numbers,
 * true/false, null as an empty cell, arrays and objects as their compact JSON text. */
int csv_value(buf *out, const json_t *v, int flags, err *e) __attribute__((warn_unused_result));
/* An array of objects as a table: the header is every key in order of first appearance,
 * one row per object (a missing key is an empty cell); no rows, nothing. */
int csv_from_json(buf *out, const json_t *rows, int flags, err *e)
    __attribute__((warn_unused_result));

#endif
