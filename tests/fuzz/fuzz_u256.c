/* fuzz_u256.c: libFuzzer target for 256-bit integers (base/u256.h): decimal and
 * JSON-RPC quantity text must round-trip (a quantity that parses is already in its
 * one canonical form), and the arithmetic must agree with itself on two operands
 * taken from the input (a = q*b + r with r < b; (a+b)-b = a; (a*b)/b = a). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/u256.h"
#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Error messages are one line of printable text whatever the input. */
static void check_msg(const err *e)
{
    if (!fuzz_msg_safe(e->msg)) /* one safe line, whatever the input */
        abort();
}

static void check_text(const char *s)
{
    u256 v, back;
    err e;
    err_clear(&e);
    if (u256_from_dec(&v, s, &e) != 0)
        check_msg(&e);
    if (u256_from_quantity(&v, s, &e) != 0)
        check_msg(&e);
    if (u256_from_dec(&v, s, NULL) == 0) {
        char d[U256_DEC_MAX];
        u256_to_dec(d, &v);
        const char *canon = s;
        while (canon[0] == '0' && canon[1]) /* leading zeros are accepted in decimals */
            canon++;
        if (strcmp(d, canon) != 0)
            abort();
    }
    if (u256_from_quantity(&v, s, NULL) == 0) {
        char q[U256_HEX_MAX];
        u256_to_quantity(q, &v);
        if (strcmp(q, s) != 0 || u256_from_quantity(&back, q, NULL) != 0 ||
            u256_cmp(&back, &v) != 0)
            abort();
    }
}

static void check_values(const u256 *a, const u256 *b)
{
    char d[U256_DEC_MAX], q[U256_HEX_MAX];
    u256 t, u, qt, r;
    u256_to_dec(d, a);
    u256_to_quantity(q, a);
    if (u256_from_dec(&t, d, NULL) || u256_cmp(&t, a) || u256_from_quantity(&t, q, NULL) ||
        u256_cmp(&t, a))
        abort();
    if (u256_add(&t, a, b) == 0 && (u256_sub(&u, &t, b) != 0 || u256_cmp(&u, a) != 0))
        abort();
    if (u256_sub(&t, a, b) == 0) {
        if (u256_add(&u, &t, b) != 0 || u256_cmp(&u, a) != 0)
            abort();
    } else if (u256_cmp(a, b) >= 0) {
        abort();
    }
    if (u256_divmod(&qt, &r, a, b) == 0) {
        if (u256_cmp(&r, b) >= 0 || u256_mul(&t, &qt, b) != 0 || u256_add(&u, &t, &r) != 0 ||
            u256_cmp(&u, a) != 0)
            abort();
    } else if (!u256_is_zero(b)) {
        abort();
    }
    if (!u256_is_zero(b) && u256_mul(&t, a, b) == 0 &&
        (u256_divmod(&u, &r, &t, b) != 0 || u256_cmp(&u, a) != 0 || !u256_is_zero(&r)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    check_text(s);
    free(s);
    if (size >= 64) {
        u256 a, b;
        u256_from_be(&a, data);
        u256_from_be(&b, data + 32);
        /* Short values make non-overflowing products and small divisors likely. */
        if (size > 64 && data[64] & 1)
            b.w[1] = b.w[2] = b.w[3] = 0;
        if (size > 64 && data[64] & 2)
            a.w[2] = a.w[3] = 0;
        check_values(&a, &b);
    }
    return 0;
}
