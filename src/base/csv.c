/* csv.c: RFC 4180 cells and tables, with the spreadsheet formula guard (see csv.h). */
#include "base/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

int csv_text(buf *out, const char *s, size_t len, int flags, err *e)
{
    char *safe = NULL;
    if (flags & CSV_TERMINAL) {
        safe = text_safe_dup(s, len);
        if (!safe)
            return err_set(e, ERR_NOMEM, "out of memory");
        s = safe;
        len = strlen(safe);
    }
    bool formula = len > 0 && strchr("=+-@\t\r", s[0]) != NULL;
    bool quote = formula;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    int rc = 0;
    if (quote)
        rc = buf_push(out, '"', e);
    if (rc == 0 && formula)
        rc = buf_push(out, '\'', e);
    for (size_t i = 0; i < len && rc == 0; i++) {
        if (s[i] == '"')
            rc = buf_push(out, '"', e);
        if (rc == 0)
            rc = buf_push(out, (uint8_t)s[i], e);
    }
    if (rc == 0 && quote)
        rc = buf_push(out, '"', e);
    free(safe);
    return rc;
}

int csv_value(buf *out, const json_t *v, int flags, err *e)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        return csv_text(out, json_string_value(v), json_string_length(v), flags, e);
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf_append(out, num, strlen(num), e);
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(v));
        return buf_append(out, num, strlen(num), e);
    case JSON_TRUE:
        return buf_append(out, "true", 4, e);
    case JSON_FALSE:
        return buf_append(out, "false", 5, e);
    case JSON_NULL:
        return 0;
    default: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (!s)
            return err_set(e, ERR_NOMEM, "out of memory");
        int rc = csv_text(out, s, strlen(s), flags, e);
        free(s);
        return rc;
    }
    }
}

int csv_from_json(buf *out, const json_t *rows, int flags, err *e)
{
    if (!json_is_array(rows))
        return err_set(e, ERR_INVALID, "CSV export wants a list of rows");
    json_t *cols = json_array();
    if (!cols)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t i, k;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)(uintptr_t)row, key, v) {
            bool have = false;
            json_t *c;
            json_array_foreach(cols, k, c) have = have || strcmp(json_string_value(c), key) == 0;
            if (!have)
                json_array_append_new(cols, json_string(key));
        }
    }
    if (json_array_size(cols) == 0) { /* no rows: an empty file, not an empty header */
        json_decref(cols);
        return 0;
    }
    int rc = 0;
    json_t *c;
    json_array_foreach(cols, k, c) {
        if (rc == 0 && k)
            rc = buf_push(out, ',', e);
        if (rc == 0)
            rc = csv_text(out, json_string_value(c), json_string_length(c), flags, e);
    }
    if (rc == 0)
        rc = buf_append(out, "\r\n", 2, e);
    json_array_foreach(rows, i, row) {
        json_array_foreach(cols, k, c) {
            if (rc == 0 && k)
                rc = buf_push(out, ',', e);
            const json_t *v = json_object_get(row, json_string_value(c));
            if (rc == 0 && v)
                rc = csv_value(out, v, flags, e);
        }
        if (rc == 0)
            rc = buf_append(out, "\r\n", 2, e);
    }
    json_decref(cols);
    return rc;
}
