/* fuzz_risk_csv.c: libFuzzer target for the risk price loader (src/risk/prices.c), which
 * reads CSV files from disk: parse the input as a price file, align every asset it names
 * and take log returns. Any crash, leak or sanitizer report is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "risk/risk.h"
#include "risk/risk_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* First byte: bit 0 names the asset (single-asset form), bits 1-3 cap the days kept. */
    unsigned mode = size ? data[0] : 0;
    const char *text = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;
    err e;
    risk_prices *pr = risk_prices_new();
    if (!pr)
        return 0;
    if (risk_prices_add_buffer(pr, "fuzz.csv", (mode & 1) ? "FUZZ" : NULL, text, len, &e) == 0) {
        size_t n = risk_prices_asset_count(pr);
        const char **names = calloc(n ? n : 1, sizeof *names);
        if (names) {
            for (size_t i = 0; i < n; i++)
                names[i] = risk_prices_asset_name(pr, i);
            risk_panel *p = NULL;
            size_t keep = (mode >> 1) & 7;
            if (risk_panel_build(pr, names, n, INT32_MIN, INT32_MAX, keep, &p, &e) == 0 &&
                p->n_days <= 4096 && risk_panel_require(p, 2, &e) == 0) {
                double *ret = malloc((p->n_days - 1) * p->n_assets * sizeof *ret);
                if (ret && risk_log_returns(p->close, p->n_days, p->n_assets, ret, &e) != 0)
                    abort(); /* the loader promised positive finite closes */
                free(ret);
            }
            risk_panel_free(&p);
            free(names);
        }
    }
    risk_prices_free(&pr);
    return 0;
}
