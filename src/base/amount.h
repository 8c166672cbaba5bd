/* amount.h: human token amounts <-> integer base units, exactly. "1250.5" with
 * 6 decimals is 1250500000; excess precision or overflow is an error, never rounded. */
#ifndef FUSION_BASE_AMOUNT_H
#define FUSION_BASE_AMOUNT_H

#include <stddef.h>

#include "base/err.h"
#include "base/u256.h"

/* 10^77 is the largest power of ten below 2^256: "1" must fit for any decimals. */
#define AMOUNT_MAX_DECIMALS 77
#define AMOUNT_STR_MAX 81 /* 78 digits, '.', NUL, slack */

/* Parses a plain decimal: ASCII digits with at most one '.', and at least one digit
 * on either side of it, so ".5", "1." and "0.5" are all accepted ("." alone is not).
 * Leading zeros ("007") are accepted. Fractional digits beyond `decimals` are accepted
 * only when they are zeros ("1.50" with 1 decimal is exactly 1.5); a non-zero one is
 * excess precision and an error, never rounded. Signs, exponents, spaces, separators
 * ("1,000", "1_000"), empty strings and decimals > AMOUNT_MAX_DECIMALS are errors
 * (ERR_INVALID); a value above 2^256-1 base units is ERR_OVERFLOW. */
int amount_parse(u256 *out, const char *s, unsigned decimals, err *e)
    __attribute__((warn_unused_result));

/* Formats base units with the token's decimals, trailing fractional zeros trimmed
 * ("1250.5"; "1250" for a whole amount; "0.000001"). Returns the string length.
 * decimals > AMOUNT_MAX_DECIMALS cannot be formatted: writes "" and returns 0. */
size_t amount_format(char out[AMOUNT_STR_MAX], const u256 *v, unsigned decimals);

#endif
