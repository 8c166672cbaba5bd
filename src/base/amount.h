/* amount.h: human token amounts <-> integer base units, exactly. "1250.5" with
 * 6 decimals is 1250500000; excess precision or overflow is an error, never rounded. */
#ifndef FUSION_BASE_AMOUNT_H
#define FUSION_BASE_AMOUNT_H

#include <stddef.h>

#include "base/err.h"
#include "base/u256.h"

#define AMOUNT_MAX_DECIMALS 77
#define AMOUNT_STR_MAX 81 /* 78 digits, '.', NUL, slack */

/* Parses "1250", "1250.5", "0.000001", "1_250.5"? no: digits, one optional '.',
 * at least one digit before or after it; no sign, exponent, spaces or separators. */
int amount_parse(u256 *out, const char *s, unsigned decimals, err *e)
    __attribute__((warn_unused_result));

/* Formats base units with the token's decimals, trailing fractional zeros trimmed
 * ("1250.5"; "1250" for a whole amount). Returns the string length. */
size_t amount_format(char out[AMOUNT_STR_MAX], const u256 *v, unsigned decimals);

#endif
