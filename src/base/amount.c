/* amount.c: exact conversion between the decimal text a desk user types or reads
 * ("1250.5") and the integer base units a token contract counts (1250500000 for
 * 6 decimals). Nothing is rounded: what cannot be represented is refused. */
#include "base/amount.h"

#include <string.h>

/* Names the first offending character so the user can find it. */
static int amount_bad_char(err *e, const char *s, size_t at)
{
    unsigned char c = (unsigned char)s[at];
    if (c == '-')
        return err_set(e, ERR_INVALID, "amounts cannot be negative: remove the '-'");
    if (c == '+')
        return err_set(e, ERR_INVALID, "amount must not start with '+': type the digits only");
    if (c == 'e' || c == 'E')
        return err_set(e, ERR_INVALID,
                       "exponents are not accepted in amounts: write the number out in full");
    if (c == ',' || c == '_' || c == '\'')
        return err_set(e, ERR_INVALID, "amount has a separator '%c' at position %zu: type the "
                       "digits without grouping, e.g. 1250000.5", c, at + 1);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
        return err_set(e, ERR_INVALID, "amount contains whitespace at position %zu: remove it",
                       at + 1);
    if (c == '.')
        return err_set(e, ERR_INVALID, "amount has more than one '.'");
    if (c >= 0x21 && c < 0x7f)
        return err_set(e, ERR_INVALID, "'%c' at position %zu is not allowed in an amount: use "
                       "digits and one optional '.'", c, at + 1);
    return err_set(e, ERR_INVALID, "byte 0x%02x at position %zu is not allowed in an amount: "
                   "use digits and one optional '.'", c, at + 1);
}

int amount_parse(u256 *out, const char *s, unsigned decimals, err *e)
{
    if (decimals > AMOUNT_MAX_DECIMALS)
        return err_set(e, ERR_INVALID, "token has %u decimals; at most %d are supported",
                       decimals, AMOUNT_MAX_DECIMALS);
    if (!s || !*s)
        return err_set(e, ERR_INVALID, "empty amount: type a number such as 1250.5");

    /* Validate the whole string first, so the error names the first bad character. */
    size_t dot = SIZE_MAX, len = 0, digits = 0;
    for (; s[len]; len++) {
        if (s[len] >= '0' && s[len] <= '9')
            digits++;
        else if (s[len] == '.' && dot == SIZE_MAX)
            dot = len;
        else
            return amount_bad_char(e, s, len);
    }
    if (digits == 0)
        return err_set(e, ERR_INVALID, "amount \".\" has no digits: type a number such as 0.5");
    size_t int_end = dot == SIZE_MAX ? len : dot;
    const char *frac = dot == SIZE_MAX ? s + len : s + dot + 1;
    size_t frac_len = strlen(frac);

    for (size_t j = decimals; j < frac_len; j++) {
        if (frac[j] != '0')
            return err_set(e, ERR_INVALID, "amount has %zu decimal places but the token has %u: "
                           "it cannot be represented exactly", frac_len, decimals);
    }

    /* acc = integer digits, then exactly `decimals` fractional digits (zero-padded). */
    u256 acc = u256_from_u64(0);
    const u256 ten = u256_from_u64(10);
    size_t i = 0;
    while (i < int_end && s[i] == '0') /* leading zeros add nothing; keeps the loop short */
        i++;
    size_t n_int = int_end - i;
    for (size_t k = 0; k < n_int + decimals; k++) {
        char c = '0';
        if (k < n_int)
            c = s[i + k];
        else if (k - n_int < frac_len)
            c = frac[k - n_int];
        u256 d = u256_from_u64((uint64_t)(c - '0'));
        if (u256_mul(&acc, &acc, &ten) < 0 || u256_add(&acc, &acc, &d) < 0)
            return err_set(e, ERR_OVERFLOW, "amount is too large: with %u decimals it exceeds "
                           "2^256-1 base units", decimals);
    }
    *out = acc;
    return 0;
}

size_t amount_format(char out[AMOUNT_STR_MAX], const u256 *v, unsigned decimals)
{
    out[0] = '\0';
    if (decimals > AMOUNT_MAX_DECIMALS)
        return 0;
    char dec[U256_DEC_MAX];
    u256_to_dec(dec, v);
    size_t n = strlen(dec);
    size_t o = 0;
    if (n > decimals) {
        memcpy(out, dec, n - decimals);
        o = n - decimals;
    } else {
        out[o++] = '0';
    }
    /* Fractional digits: zero-padded on the left to `decimals`, trailing zeros trimmed. */
    char frac[AMOUNT_MAX_DECIMALS + 1];
    size_t f = 0;
    size_t pad = decimals > n ? decimals - n : 0;
    const char *src = decimals > n ? dec : dec + (n - decimals);
    for (size_t k = 0; k < decimals; k++)
        frac[f++] = k < pad ? '0' : src[k - pad];
    while (f > 0 && frac[f - 1] == '0')
        f--;
    if (f > 0) {
        out[o++] = '.';
        memcpy(out + o, frac, f);
        o += f;
    }
    out[o] = '\0';
    return o;
}
