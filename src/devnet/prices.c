/* prices.c: daily closes of data/prices/yf_<ASSET>-USD_1d.csv as Chainlink-style 8-decimal
 * answers, converted exactly from the decimal text (digits beyond 1e-8 are cut off), for
 * the demo's market driver to replay into the feeds. */
#include "devnet/devnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/amount.h"

#define FEED_DECIMALS 8

void devnet_closes_free(devnet_closes *c)
{
    free(c->date);
    free(c->answer);
    memset(c, 0, sizeof *c);
}

/* "320.8840026855469" -> "320.88400268" (truncation toward zero in text). */
static void cut_decimals(char *s, unsigned decimals)
{
    char *dot = strchr(s, '.');
    if (dot && strlen(dot + 1) > decimals)
        dot[1 + decimals] = '\0';
}

int devnet_closes_load(devnet_closes *out, const char *asset, err *e)
{
    memset(out, 0, sizeof *out);
    char rel[128], path[4096];
    snprintf(rel, sizeof rel, "prices/yf_%s-USD_1d.csv", asset);
    if (devnet_data_path(path, sizeof path, rel, e) < 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, ERR_IO, "cannot read %s", path);
    char line[512];
    size_t cap = 0, lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (lineno == 1 && strncmp(line, "Date,Close", 10) != 0) {
            rc = err_set(e, ERR_INVALID, "%s: expected a header \"Date,Close,...\"", path);
            break;
        }
        if (lineno == 1)
            continue;
        char *comma = strchr(line, ',');
        if (!comma || comma - line != 10)
            continue;
        char *close = comma + 1;
        char *end = strchr(close, ',');
        if (end)
            *end = '\0';
        close[strcspn(close, "\r\n")] = '\0';
        cut_decimals(close, FEED_DECIMALS);
        u256 v;
        if (amount_parse(&v, close, FEED_DECIMALS, e) < 0 || u256_is_zero(&v)) {
            rc = err_set(e, ERR_INVALID, "%s:%zu: close \"%.32s\" is not a positive price", path,
                         lineno, close);
            break;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            void *d = realloc(out->date, ncap * sizeof *out->date);
            if (d)
                out->date = d;
            void *a = realloc(out->answer, ncap * sizeof *out->answer);
            if (a)
                out->answer = a;
            if (!d || !a) {
                rc = err_set(e, ERR_NOMEM, "out of memory reading %s", path);
                break;
            }
            cap = ncap;
        }
        memcpy(out->date[out->n], line, 10);
        out->date[out->n][10] = '\0';
        out->answer[out->n] = v;
        out->n++;
    }
    fclose(f);
    if (rc == 0 && out->n == 0)
        rc = err_set(e, ERR_INVALID, "%s holds no prices", path);
    if (rc < 0)
        devnet_closes_free(out);
    return rc;
}
