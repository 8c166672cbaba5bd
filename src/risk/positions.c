/* positions.c: the positions file of `risk calc`, a JSON object of asset -> USD value.
 * jansson parses it; a small scanner finds the line of each top-level key so that errors
 * about a key ("unknown asset") can name file:line like the parse errors do. */
#include "risk/risk_load.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "risk/rcsv.h"

void risk_positions_free(risk_positions **pp)
{
    if (!pp || !*pp)
        return;
    risk_positions *p = *pp;
    if (p->assets)
        for (size_t i = 0; i < p->n; i++)
            free(p->assets[i]);
    free(p->assets);
    free(p->value);
    free(p->line);
    free(p);
    *pp = NULL;
}

/* Line of each key of the top-level object, in order; returns how many were found (at
 * most cap). The text is already known to be valid JSON. */
static size_t key_lines(const char *buf, size_t len, size_t *lines, size_t cap)
{
    size_t line = 1, found = 0;
    int depth = 0;
    bool in_str = false, esc = false, expect_key = false;
    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (ch == '\n')
            line++;
        if (in_str) {
            if (esc)
                esc = false;
            else if (ch == '\\')
                esc = true;
            else if (ch == '"')
                in_str = false;
            continue;
        }
        switch (ch) {
        case '"':
            in_str = true;
            if (depth == 1 && expect_key) {
                if (found < cap)
                    lines[found] = line;
                found++;
                expect_key = false;
            }
            break;
        case '{':
        case '[':
            depth++;
            expect_key = depth == 1 && ch == '{';
            break;
        case '}':
        case ']':
            depth--;
            break;
        case ',':
            if (depth == 1)
                expect_key = true;
            break;
        default:
            break;
        }
    }
    return found < cap ? found : cap;
}

int risk_positions_parse(const char *label, const char *buf, size_t len,
                         const char *const *known, size_t n_known, risk_positions **out,
                         err *e)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return err_set(e, ERR_INVALID, "%s:%d: %s", label, je.line > 0 ? je.line : 1, je.text);
    int rc = -1;
    risk_positions *p = calloc(1, sizeof *p);
    size_t n = json_is_object(root) ? json_object_size(root) : 0;
    size_t *lines = calloc(n ? n : 1, sizeof *lines);
    if (!p || !lines) {
        err_set(e, ERR_NOMEM, "out of memory reading %s", label);
        goto out;
    }
    if (!json_is_object(root)) {
        err_set(e, ERR_INVALID, "%s:1: positions must be a JSON object {\"ASSET\": usd_value, "
                "...}", label);
        goto out;
    }
    if (n == 0) {
        err_set(e, ERR_INVALID, "%s:1: no positions in the object", label);
        goto out;
    }
    size_t nl = key_lines(buf, len, lines, n);
    p->assets = calloc(n, sizeof *p->assets);
    p->value = calloc(n, sizeof *p->value);
    p->line = calloc(n, sizeof *p->line);
    if (!p->assets || !p->value || !p->line) {
        err_set(e, ERR_NOMEM, "out of memory reading %s", label);
        goto out;
    }
    const char *key;
    json_t *val;
    size_t i = 0;
    json_object_foreach(root, key, val) {
        size_t line = i < nl ? lines[i] : 1;
        if (!rcsv_asset_name_ok(key)) {
            err_set(e, ERR_INVALID, "%s:%zu: '%.40s' is not an asset name (1-31 of A-Z a-z 0-9 "
                    ". _ -)", label, line, key);
            goto out;
        }
        bool found = false;
        for (size_t k = 0; k < n_known && !found; k++)
            found = strcmp(known[k], key) == 0;
        if (!found) {
            err_set(e, ERR_NOT_FOUND, "%s:%zu: unknown asset %s: no price column for it in the "
                    "price files", label, line, key);
            goto out;
        }
        if (!json_is_number(val)) {
            err_set(e, ERR_INVALID, "%s:%zu: value of %s must be a number (USD)", label, line,
                    key);
            goto out;
        }
        double v = json_number_value(val);
        if (!isfinite(v)) {
            err_set(e, ERR_INVALID, "%s:%zu: value of %s is not finite", label, line, key);
            goto out;
        }
        /* Bounded, so that the positions' sum and every P&L stay finite (1e308 + 1e308 is
         * infinity) and none is a subnormal number. */
        if (v != 0.0 && !(fabs(v) >= RISK_USD_MIN && fabs(v) <= RISK_USD_MAX)) {
            err_set(e, ERR_INVALID,
                    "%s:%zu: position %s %.6g is out of range: write 0 or a USD value of "
                    "magnitude %g to %g",
                    label, line, key, v, RISK_USD_MIN, RISK_USD_MAX);
            goto out;
        }
        p->assets[i] = strdup(key);
        if (!p->assets[i]) {
            err_set(e, ERR_NOMEM, "out of memory reading %s", label);
            goto out;
        }
        p->value[i] = v;
        p->line[i] = line;
        p->n = ++i;
    }
    *out = p;
    p = NULL;
    rc = 0;
out:
    risk_positions_free(&p);
    free(lines);
    json_decref(root);
    return rc;
}

int risk_positions_load(const char *path, const char *const *known, size_t n_known,
                        risk_positions **out, err *e)
{
    char *buf;
    size_t len;
    *out = NULL;
    if (rcsv_read_file(path, &buf, &len, e) < 0)
        return -1;
    int rc = risk_positions_parse(path, buf, len, known, n_known, out, e);
    free(buf);
    return rc;
}
