/* terms.c: the shipped reference tables of the credit line: collateral terms per asset
 * (data/risk/collateral.csv) and stress scenarios (data/risk/scenarios.csv). Both are
 * CSV with '#' comment lines, read by header name. */
#include "risk/risk_load.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "risk/rcsv.h"

static long column(const rcsv *c, const char *name)
{
    for (size_t k = 0; k < c->n_field; k++)
        if (rcsv_ieq(c->field[k], name))
            return (long)k;
    return -1;
}

/* Reads a percentage cell in [lo, hi] into a fraction. */
static int pct_cell(const rcsv *c, long col, const char *what, double lo, double hi,
                    double *out, err *e)
{
    double v;
    const char *cell = c->field[col];
    if (rnum_parse(cell, &v) != RNUM_OK)
        return err_set(e, ERR_INVALID, "%s:%zu: %s '%.40s' is not a number", c->label, c->line,
                       what, cell);
    if (v < lo || v > hi)
        return err_set(e, ERR_INVALID, "%s:%zu: %s %.40s is outside [%g, %g] (percent)",
                       c->label, c->line, what, cell, lo, hi);
    *out = v / 100.0;
    return 0;
}

static long asset_index(const char *const *assets, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(assets[i], name) == 0)
            return (long)i;
    return -1;
}

static int read_header(rcsv *c, err *e)
{
    int got = rcsv_next(c, e);
    if (got < 0)
        return -1;
    if (got == 0)
        return err_set(e, ERR_INVALID, "%s:1: empty file (want a header line)", c->label);
    return 0;
}

int risk_collateral_load(const char *path, const char *const *assets, size_t n_assets,
                         risk_collateral *terms, err *e)
{
    char *buf;
    size_t len;
    if (rcsv_read_file(path, &buf, &len, e) < 0)
        return -1;
    rcsv c;
    rcsv_init(&c, path, buf, len, true);
    int rc = -1;
    bool *seen = calloc(n_assets ? n_assets : 1, sizeof *seen);
    if (!seen) {
        err_set(e, ERR_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    if (read_header(&c, e) < 0)
        goto out;
    size_t nf = c.n_field;
    long ca = column(&c, "asset"), ch = column(&c, "haircut_pct"),
         cl = column(&c, "liq_threshold_pct");
    if (ca < 0 || ch < 0 || cl < 0) {
        err_set(e, ERR_INVALID, "%s:%zu: the header needs asset, haircut_pct and "
                "liq_threshold_pct columns", path, c.line);
        goto out;
    }
    int got;
    while ((got = rcsv_next(&c, e)) == 1) {
        if (c.n_field != nf) {
            err_set(e, ERR_INVALID, "%s:%zu: %zu fields, the header has %zu", path, c.line,
                    c.n_field, nf);
            goto out;
        }
        long i = asset_index(assets, n_assets, c.field[ca]);
        if (i < 0)
            continue; /* an asset this run does not hold */
        if (seen[i]) {
            err_set(e, ERR_INVALID, "%s:%zu: second row for asset %s", path, c.line,
                    c.field[ca]);
            goto out;
        }
        risk_collateral t;
        if (pct_cell(&c, ch, "haircut_pct", 0.0, 100.0, &t.haircut, e) < 0 ||
            pct_cell(&c, cl, "liq_threshold_pct", 0.0, 100.0, &t.liq_threshold, e) < 0)
            goto out;
        if (t.liq_threshold < 1.0 - t.haircut - 1e-12) {
            err_set(e, ERR_INVALID, "%s:%zu: liquidation threshold of %s is below its LTV "
                    "(100 - haircut)", path, c.line, c.field[ca]);
            goto out;
        }
        terms[i] = t;
        seen[i] = true;
    }
    if (got < 0)
        goto out;
    for (size_t i = 0; i < n_assets; i++) {
        if (!seen[i]) {
            err_set(e, ERR_NOT_FOUND, "%s: no collateral terms for asset %s; add a row "
                    "(asset,haircut_pct,liq_threshold_pct)", path, assets[i]);
            goto out;
        }
    }
    rc = 0;
out:
    free(seen);
    rcsv_free(&c);
    free(buf);
    return rc;
}

void risk_scenarios_free(risk_scenarios **sp)
{
    if (!sp || !*sp)
        return;
    risk_scenarios *s = *sp;
    for (size_t i = 0; i < s->n; i++) {
        free(s->name[i]);
        free(s->kind[i]);
        free(s->span[i]);
    }
    free(s->name);
    free(s->kind);
    free(s->span);
    free(s->move);
    free(s);
    *sp = NULL;
}

/* Index of scenario `name`, appending a fresh one (moves NAN = not given yet). */
static long scenario_slot(risk_scenarios *s, const char *name, const char *kind,
                          const char *span, size_t *first_line, size_t line, err *e,
                          const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->name[i], name) == 0)
            return (long)i;
    size_t n = s->n + 1;
    char **nn = realloc(s->name, n * sizeof *nn);
    if (nn)
        s->name = nn;
    char **nk = realloc(s->kind, n * sizeof *nk);
    if (nk)
        s->kind = nk;
    char **ns = realloc(s->span, n * sizeof *ns);
    if (ns)
        s->span = ns;
    double *nm = realloc(s->move, n * (s->n_assets ? s->n_assets : 1) * sizeof *nm);
    if (nm)
        s->move = nm;
    if (!nn || !nk || !ns || !nm)
        return err_set(e, ERR_NOMEM, "out of memory reading %s", path);
    s->name[s->n] = strdup(name);
    s->kind[s->n] = strdup(kind);
    s->span[s->n] = strdup(span);
    for (size_t a = 0; a < s->n_assets; a++)
        s->move[s->n * s->n_assets + a] = NAN;
    first_line[s->n] = line;
    s->n = n;
    if (!s->name[n - 1] || !s->kind[n - 1] || !s->span[n - 1])
        return err_set(e, ERR_NOMEM, "out of memory reading %s", path);
    return (long)(n - 1);
}

#define MAX_SCENARIOS 256

int risk_scenarios_load(const char *path, const char *const *assets, size_t n_assets,
                        int use_lows, risk_scenarios **out, err *e)
{
    *out = NULL;
    char *buf;
    size_t len;
    if (rcsv_read_file(path, &buf, &len, e) < 0)
        return -1;
    rcsv c;
    rcsv_init(&c, path, buf, len, true);
    int rc = -1;
    size_t first_line[MAX_SCENARIOS];
    risk_scenarios *s = calloc(1, sizeof *s);
    if (!s) {
        err_set(e, ERR_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    s->n_assets = n_assets;
    if (read_header(&c, e) < 0)
        goto out;
    size_t nf = c.n_field;
    long cs = column(&c, "scenario"), ca = column(&c, "asset"), cm = column(&c, "move_pct"),
         clow = column(&c, "low_pct"), ck = column(&c, "kind"), cw = column(&c, "window");
    if (cs < 0 || ca < 0 || cm < 0) {
        err_set(e, ERR_INVALID, "%s:%zu: the header needs scenario, asset and move_pct columns",
                path, c.line);
        goto out;
    }
    int got;
    while ((got = rcsv_next(&c, e)) == 1) {
        if (c.n_field != nf) {
            err_set(e, ERR_INVALID, "%s:%zu: %zu fields, the header has %zu", path, c.line,
                    c.n_field, nf);
            goto out;
        }
        const char *name = c.field[cs];
        if (name[0] == '\0') {
            err_set(e, ERR_INVALID, "%s:%zu: empty scenario name", path, c.line);
            goto out;
        }
        if (s->n == MAX_SCENARIOS && asset_index((const char *const *)s->name, s->n, name) < 0) {
            err_set(e, ERR_INVALID, "%s:%zu: more than %d scenarios", path, c.line,
                    MAX_SCENARIOS);
            goto out;
        }
        long si = scenario_slot(s, name, ck >= 0 ? c.field[ck] : "", cw >= 0 ? c.field[cw] : "",
                                first_line, c.line, e, path);
        if (si < 0)
            goto out;
        double move;
        if (pct_cell(&c, cm, "move_pct", -100.0, 1e6, &move, e) < 0)
            goto out;
        if (use_lows && clow >= 0 && c.field[clow][0] != '\0') {
            if (pct_cell(&c, clow, "low_pct", -100.0, 1e6, &move, e) < 0)
                goto out;
        }
        long ai = asset_index(assets, n_assets, c.field[ca]);
        if (ai < 0)
            continue;
        double *slot = &s->move[(size_t)si * n_assets + (size_t)ai];
        if (!isnan(*slot)) {
            err_set(e, ERR_INVALID, "%s:%zu: second move for %s in scenario %s", path, c.line,
                    c.field[ca], name);
            goto out;
        }
        *slot = move;
    }
    if (got < 0)
        goto out;
    if (s->n == 0) {
        err_set(e, ERR_INVALID, "%s: no scenarios in the file", path);
        goto out;
    }
    for (size_t i = 0; i < s->n; i++) {
        for (size_t a = 0; a < n_assets; a++) {
            if (isnan(s->move[i * n_assets + a])) {
                err_set(e, ERR_NOT_FOUND, "%s:%zu: scenario %s has no move for asset %s; add a "
                        "row", path, first_line[i], s->name[i], assets[a]);
                goto out;
            }
        }
    }
    *out = s;
    s = NULL;
    rc = 0;
out:
    risk_scenarios_free(&s);
    rcsv_free(&c);
    free(buf);
    return rc;
}
