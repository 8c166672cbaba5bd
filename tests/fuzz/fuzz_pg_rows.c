/* fuzz_pg_rows.c: libFuzzer target for the decoders of the book server's text rows
 * (store_escrow_of_row, what pg_read.c's escrows go through, and its escrow table's lines
 * and checkpoints; pg_outbound_of_row, what pg_outbound.c's listed transactions go
 * through). The server's bytes are outside input.
 * Byte 0 picks the decoder (its low two bits); the rest is the row's fields separated by NUL bytes (the
 * escrow's approval bytes last, to the end), a field "\xff" standing for SQL NULL; each
 * field is an exactly sized heap copy. A decoded row's shown text (anomaly, action) and
 * (the line's chain, state and asset) and every refusal's message must be printable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "pgstore/pgstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable(const char *s)
{
    if (text_unsafe_at(s, strlen(s)) != strlen(s))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] & 3; /* 0 outbound, 1 escrow, 2 table line, 3 checkpoint */
    bool escrow = kind == 1;
    static const size_t NCOLS[4] = {PG_OUTBOUND_NCOLS, STORE_ESCROW_NCOLS, PG_LINE_NCOLS,
                                    PG_CHECKPOINT_NCOLS};
    size_t ncols = NCOLS[kind];
    char *f[STORE_ESCROW_NCOLS] = {0};
    size_t len[STORE_ESCROW_NCOLS] = {0};
    const char *v[STORE_ESCROW_NCOLS] = {0};
    size_t at = 1;
    for (size_t i = 0; i < ncols; i++) {
        size_t end = at;
        /* the escrow's approvals (bytes, NULs among them) are the rest of the input */
        bool rest = escrow && i == ncols - 1;
        while (end < size && (rest || data[end] != 0))
            end++;
        size_t n = end > at ? end - at : 0;
        f[i] = malloc(n + 1);
        if (!f[i])
            abort();
        if (n)
            memcpy(f[i], data + at, n);
        f[i][n] = '\0';
        len[i] = n;
        v[i] = n == 1 && (uint8_t)f[i][0] == 0xff ? NULL : f[i];
        at = end < size ? end + 1 : size;
    }
    err e;
    err_clear(&e);
    if (escrow) {
        store_escrow x;
        /* the approvals are bytes (decoded from the server's hex): their exact length */
        bool has_final = data[0] & 4;
        if (store_escrow_of_row(v, v[28] ? len[28] : 0, has_final, (uint64_t)data[0] << 8, &x,
                                &e) == 0)
            printable(x.anomaly);
        else
            printable(e.msg);
    } else if (kind == 2) {
        store_escrow_line l;
        if (pg_escrow_line_of_row(v, &l, &e) == 0) {
            printable(l.chain);
            printable(l.state);
            printable(l.asset);
        } else {
            printable(e.msg);
        }
    } else if (kind == 3) {
        store_checkpoint cp;
        if (pg_checkpoint_of_row(v, 31337, &cp, &e) < 0)
            printable(e.msg);
    } else {
        store_outbound o;
        if (pg_outbound_of_row(v, &o, &e) == 0)
            printable(o.action);
        else
            printable(e.msg);
    }
    for (size_t i = 0; i < ncols; i++)
        free(f[i]);
    return 0;
}
