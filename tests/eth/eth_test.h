/* eth_test.h: small helpers shared by the eth unit tests: locating vectors under
 * $FUSION_ROOT, hex in and out, loading JSON vector files. Header-only (static). */
#ifndef FUSION_TESTS_ETH_TEST_H
#define FUSION_TESTS_ETH_TEST_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"

/* $FUSION_ROOT/tests/vectors/<rel> loaded as JSON; fails the test when missing. */
static inline json_t *load_vector_json(const char *rel)
{
    const char *root = getenv("FUSION_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/vectors/%s", root ? root : ".", rel);
    json_error_t jerr;
    json_t *j = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (!j) {
        fprintf(stderr, "cannot load %s: %s\n", path, jerr.text);
        abort();
    }
    return j;
}

/* Hex (with or without 0x) into a fresh buffer; aborts on malformed test data. */
static inline buf hexbuf(const char *hex)
{
    buf b;
    buf_init(&b);
    if (hex_decode_buf(&b, hex, strlen(hex), HEX_ALLOW_PREFIX, NULL) < 0) {
        fprintf(stderr, "bad hex in test data: %.60s\n", hex);
        abort();
    }
    return b;
}

/* Lowercase hex of a buffer, "0x"-prefixed, in a static-size heap string. */
static inline char *tohex(const uint8_t *p, size_t n)
{
    return hex_encode_new(p, n);
}

#endif
