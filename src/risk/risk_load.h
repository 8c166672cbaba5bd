/* risk_load.h: reading the risk inputs from files: daily close prices (CSV), positions
 * (JSON), collateral terms and stress scenarios (CSV). Every error is one line that names
 * the file, the line and the problem ("prices.csv:42: non-positive price 0 for ETH"). */
#ifndef FUSION_RISK_RISK_LOAD_H
#define FUSION_RISK_RISK_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "risk/risk.h"

/* ---- dates: day numbers since 1970-01-01 (UTC calendar days) ------------------------- */

/* Parses "YYYY-MM-DD", optionally followed by " 00:00:00" / "T00:00:00" with an optional
 * "+00:00" or "Z" (Yahoo's export); other times and offsets are refused. */
int risk_date_parse(const char *s, int32_t *day) RISK_WUR;
/* Writes "YYYY-MM-DD" into buf (at least 11 bytes). */
void risk_date_format(int32_t day, char *buf);

/* ---- prices ----------------------------------------------------------------------------- */

/* The parsed price files, before alignment. A file is either a panel (a Date column plus
 * one close column per asset, named by its header) or a single-asset export with a Close
 * column (Yahoo: Date,Open,High,Low,Close,...; other columns are ignored). Columns are
 * found by header name, case-insensitively. Empty and `null` cells are missing closes. */
typedef struct risk_prices risk_prices;

risk_prices *risk_prices_new(void);
void risk_prices_free(risk_prices **pr);
/* spec is PATH or ASSET=PATH. A single-asset file takes its asset from ASSET=, else from
 * its file name ("yf_ETH-USD_1d.csv" -> ETH: an optional "yf_" prefix, then up to the
 * first '-', '_' or '.'). */
int risk_prices_add_file(risk_prices *pr, const char *spec, err *e) RISK_WUR;
/* The same from memory; label names the source in errors, asset may be NULL. */
int risk_prices_add_buffer(risk_prices *pr, const char *label, const char *asset,
                           const char *buf, size_t len, err *e) RISK_WUR;
size_t risk_prices_asset_count(const risk_prices *pr);
const char *risk_prices_asset_name(const risk_prices *pr, size_t i);

/* Aligned closes of the chosen assets, one row per calendar day. */
typedef struct risk_panel {
    size_t n_assets;
    size_t n_days;
    char **assets;   /* owned names */
    int32_t *days;   /* n_days consecutive day numbers */
    double *close;   /* n_days x n_assets, row-major */
    char *limit_src; /* the file whose history starts last (it bounds the rows) */
    size_t limit_line; /* ...and the line of its last row used */
} risk_panel;

/* Builds the panel of `assets` over the dates every one of them has: from the latest
 * first close to the earliest last close, cut to [from, to] (INT32_MIN / INT32_MAX for
 * open ends) and then to its last `max_days` days (0: no limit). Inside that range every
 * file must have every calendar day with a positive close for each chosen asset: a gap is
 * an error naming the file and line; history before the range is not needed. */
int risk_panel_build(const risk_prices *pr, const char *const *assets, size_t n_assets,
                     int32_t from, int32_t to, size_t max_days, risk_panel **out,
                     err *e) RISK_WUR;
void risk_panel_free(risk_panel **p);
/* Fails with "FILE:LINE: too few rows for the window ..." unless the panel has at least
 * `closes` rows (a window of N returns needs N + 1 closes). */
int risk_panel_require(const risk_panel *p, size_t closes, err *e) RISK_WUR;

/* ---- positions ------------------------------------------------------------------------- */

/* A JSON object of asset -> current USD value (a number; negative for short exposure). */
typedef struct risk_positions {
    size_t n;
    char **assets; /* owned, in file order */
    double *value;
    size_t *line;  /* line of each key in the file */
} risk_positions;

/* Every asset must be one of `known` (the price columns); errors name file:line. */
int risk_positions_load(const char *path, const char *const *known, size_t n_known,
                        risk_positions **out, err *e) RISK_WUR;
int risk_positions_parse(const char *label, const char *buf, size_t len,
                         const char *const *known, size_t n_known, risk_positions **out,
                         err *e) RISK_WUR;
void risk_positions_free(risk_positions **p);

/* ---- collateral terms and scenarios ------------------------------------------------------- */

/* CSV with '#' comments and the columns asset, haircut_pct, liq_threshold_pct (percent).
 * Fills terms[i] for assets[i]; an asset without a row is an error. */
int risk_collateral_load(const char *path, const char *const *assets, size_t n_assets,
                         risk_collateral *terms, err *e) RISK_WUR;

/* CSV with '#' comments and the columns scenario, asset, move_pct and optionally low_pct
 * (worst intraday low, blank = same as move_pct), kind, window, basis. Scenarios keep
 * their file order; each must give a move for every asset in `assets`. */
typedef struct risk_scenarios {
    size_t n;
    size_t n_assets;
    char **name;  /* owned */
    char **kind;  /* owned: "historical" / "hypothetical" / "" */
    char **span;  /* owned: the window column, "" when absent */
    double *move; /* n x n_assets relative moves (-0.372 = -37.2 %) */
} risk_scenarios;

/* use_lows: take low_pct where it is given instead of the close-to-close move. */
int risk_scenarios_load(const char *path, const char *const *assets, size_t n_assets,
                        int use_lows, risk_scenarios **out, err *e) RISK_WUR;
void risk_scenarios_free(risk_scenarios **s);

#endif
