/* fuzz_compliance_prices.c: libFuzzer target for <home>/prices.csv, the USD prices the
 * compliance amount rules use when the desk has no oracle feed (a hand-edited file). Any
 * input gives either prices that are finite and not negative, or one error naming a line. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/compliance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)(uintptr_t)data, size, "r");
    if (!f)
        return 0; /* fmemopen refuses size 0 on some libcs */
    compliance_prices p;
    err e;
    err_clear(&e);
    int rc = compliance_prices_read(&p, "fuzz.csv", f, &e);
    fclose(f);
    if (rc < 0) {
        if (p.items || p.n || strncmp(e.msg, "fuzz.csv:", 9) != 0)
            abort(); /* nothing half-read; the message names the file and line */
        return 0;
    }
    for (size_t i = 0; i < p.n; i++)
        if (!isfinite(p.items[i].usd_per_unit) || p.items[i].usd_per_unit < 0)
            abort();
    compliance_prices_free(&p);
    return 0;
}
