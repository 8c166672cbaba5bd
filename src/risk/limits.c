/* limits.c: the desk's risk limits file (data/risk/limits.csv by default) and the lookup of
 * shipped data files shared by `risk calc`, `risk report` and the risk service. */
#include "risk/service.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/datafile.h"
#include "risk/rcsv.h"

int risk_data_file(const char *rel, char *out, size_t cap, err *e)
{
    return datafile_find(rel, out, cap, e);
}

void risk_limits_default(risk_limits *l)
{
    memset(l, 0, sizeof *l);
    l->margin_call_hf = 1.10;
    l->price_max_age = 3600;
    l->sync_lag_blocks = 100;
}

enum { L_VAR, L_ES, L_ASSET, L_CHAIN, L_CPTY, L_HF, L_AGE, L_LAG, L_COUNT };
static const char *const limit_names[L_COUNT] = {
    "var_1d_usd", "es_1d_usd", "asset_share", "chain_share", "counterparty_share",
    "margin_call_hf", "price_max_age_s", "sync_lag_blocks",
};

static int set_limit(risk_limits *l, int which, double v, const char *path, size_t line,
                     err *e)
{
    bool share = which == L_ASSET || which == L_CHAIN || which == L_CPTY;
    if (v < 0.0 || (share && v > 1.0) || (which == L_HF && v < 1.0) ||
        ((which == L_AGE || which == L_LAG) && (v != floor(v) || v > 1e15)))
        return err_set(e, ERR_INVALID, "%s:%zu: %s = %g is out of range (%s)", path, line,
                       limit_names[which], v,
                       share ? "a share from 0 to 1, 0 = no limit"
                       : which == L_HF ? "a health factor >= 1.0"
                       : (which == L_AGE || which == L_LAG) ? "a whole number >= 0"
                       : "a USD amount >= 0, 0 = no limit");
    switch (which) {
    case L_VAR: l->var_1d = v; break;
    case L_ES: l->es_1d = v; break;
    case L_ASSET: l->asset_share = v; break;
    case L_CHAIN: l->chain_share = v; break;
    case L_CPTY: l->counterparty_share = v; break;
    case L_HF: l->margin_call_hf = v; break;
    case L_AGE: l->price_max_age = (int64_t)v; break;
    default: l->sync_lag_blocks = (uint64_t)v; break;
    }
    return 0;
}

int risk_limits_load(const char *path, risk_limits *out, err *e)
{
    char *text = NULL;
    size_t len = 0;
    if (rcsv_read_file(path, &text, &len, e) < 0)
        return -1;
    int rc = risk_limits_parse(path, text, len, out, e);
    free(text);
    return rc;
}

int risk_limits_parse(const char *path, const char *text, size_t len, risk_limits *out,
                      err *e)
{
    risk_limits_default(out);
    rcsv c;
    rcsv_init(&c, path, text, len, true);
    bool seen[L_COUNT] = {false};
    bool header = false;
    int rc = 0, r;
    while ((r = rcsv_next(&c, e)) == 1) {
        if (!header) {
            if (c.n_field < 2 || !rcsv_ieq(c.field[0], "limit") || !rcsv_ieq(c.field[1], "value")) {
                rc = err_set(e, ERR_INVALID, "%s:%zu: the header must start with limit,value",
                             path, c.line);
                break;
            }
            header = true;
            continue;
        }
        if (c.n_field < 2) {
            rc = err_set(e, ERR_INVALID, "%s:%zu: want limit,value", path, c.line);
            break;
        }
        int which = -1;
        for (int i = 0; i < L_COUNT; i++)
            if (rcsv_ieq(c.field[0], limit_names[i]))
                which = i;
        if (which < 0) {
            rc = err_set(e, ERR_INVALID, "%s:%zu: unknown limit '%.40s' (known: var_1d_usd, "
                         "es_1d_usd, asset_share, chain_share, counterparty_share, "
                         "margin_call_hf, price_max_age_s, sync_lag_blocks)", path, c.line,
                         c.field[0]);
            break;
        }
        if (seen[which]) {
            rc = err_set(e, ERR_INVALID, "%s:%zu: %s is given twice", path, c.line,
                         limit_names[which]);
            break;
        }
        seen[which] = true;
        double v;
        if (rnum_parse(c.field[1], &v) != RNUM_OK) {
            rc = err_set(e, ERR_INVALID, "%s:%zu: %s value '%.40s' is not a number", path,
                         c.line, limit_names[which], c.field[1]);
            break;
        }
        if (set_limit(out, which, v, path, c.line, e) < 0) {
            rc = -1;
            break;
        }
    }
    if (r < 0)
        rc = -1;
    if (rc == 0 && !header)
        rc = err_set(e, ERR_INVALID, "%s: no limit,value header", path);
    rcsv_free(&c);
    return rc;
}
