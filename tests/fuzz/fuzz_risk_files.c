/* fuzz_risk_files.c: libFuzzer target for the risk desk's other input files: positions
 * (JSON), risk limits, collateral terms and stress scenarios (CSV). The first byte picks the
 * reader; the rest is the file (handed over as an in-memory file, /proc/self/fd/N, to the
 * loaders that take a path). Any input gives values in range or one error; never a crash,
 * a leak or a loop. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "risk/risk.h"
#include "risk/risk_load.h"
#include "risk/service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const assets[] = {"BTC", "ETH", "USDC"};

/* The input as a file the loaders can open: one memfd, rewritten for each input. */
static const char *as_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz", MFD_CLOEXEC);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0] % 4;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    err e;
    err_clear(&e);
    if (which == 0) {
        risk_positions *p = NULL;
        if (risk_positions_parse("fuzz.json", text, len, assets, 3, &p, &e) == 0) {
            double gross = 0;
            for (size_t i = 0; i < p->n; i++) {
                double v = fabs(p->value[i]);
                if (v != 0 && (v < RISK_USD_MIN || v > RISK_USD_MAX))
                    abort(); /* the documented range */
                gross += v;
            }
            if (!isfinite(gross))
                abort();
            risk_positions_free(&p);
        } else if (p || e.msg[0] == '\0') {
            abort();
        }
        return 0;
    }
    const char *path = as_file((const uint8_t *)text, len);
    if (which == 1) {
        risk_limits l;
        risk_limits_default(&l);
        if (risk_limits_load(path, &l, &e) == 0 &&
            (!isfinite(l.var_1d) || !isfinite(l.es_1d) || !isfinite(l.margin_call_hf)))
            abort();
    } else if (which == 2) {
        risk_collateral terms[3];
        memset(terms, 0, sizeof terms);
        (void)risk_collateral_load(path, assets, 3, terms, &e);
    } else {
        risk_scenarios *s = NULL;
        if (risk_scenarios_load(path, assets, 3, (int)(data[0] >> 2) & 1, &s, &e) == 0) {
            for (size_t i = 0; i < s->n * s->n_assets; i++)
                if (!isfinite(s->move[i]))
                    abort();
            risk_scenarios_free(&s);
        } else if (s) {
            abort();
        }
    }
    return 0;
}
