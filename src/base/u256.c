/* u256.c: exact 256-bit unsigned arithmetic on four 64-bit limbs. Every operation
 * that could wrap reports it instead; results are only written on success. */
#include "base/u256.h"

#include <string.h>

#include "base/text.h"

__extension__ typedef unsigned __int128 u128;

u256 u256_from_u64(uint64_t v)
{
    u256 r = {{v, 0, 0, 0}};
    return r;
}

bool u256_is_zero(const u256 *a)
{
    return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

int u256_cmp(const u256 *a, const u256 *b)
{
    for (int i = 3; i >= 0; i--) {
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    }
    return 0;
}

bool u256_to_u64(const u256 *a, uint64_t *out)
{
    if (a->w[1] | a->w[2] | a->w[3])
        return false;
    *out = a->w[0];
    return true;
}

int u256_add(u256 *r, const u256 *a, const u256 *b)
{
    u256 t;
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 s = (u128)a->w[i] + b->w[i] + carry;
        t.w[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    if (carry)
        return -1;
    *r = t;
    return 0;
}

int u256_sub(u256 *r, const u256 *a, const u256 *b)
{
    if (u256_cmp(a, b) < 0)
        return -1;
    u256 t;
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t ai = a->w[i], bi = b->w[i];
        t.w[i] = ai - bi - borrow;
        borrow = (ai < bi) || (ai - bi < borrow);
    }
    *r = t;
    return 0;
}

int u256_mul(u256 *r, const u256 *a, const u256 *b)
{
    uint64_t p[8] = {0};
    for (int i = 0; i < 4; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; j++) {
            u128 t = (u128)a->w[i] * b->w[j] + p[i + j] + carry;
            p[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        p[i + 4] = carry;
    }
    if (p[4] | p[5] | p[6] | p[7])
        return -1;
    memcpy(r->w, p, sizeof r->w);
    return 0;
}

/* a / d for a 64-bit divisor; returns the remainder. */
static uint64_t u256_divmod_small(u256 *q, const u256 *a, uint64_t d)
{
    u128 rem = 0;
    u256 t;
    for (int i = 3; i >= 0; i--) {
        u128 cur = (rem << 64) | a->w[i];
        t.w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    *q = t;
    return (uint64_t)rem;
}

static int u256_bitlen(const u256 *a)
{
    for (int i = 3; i >= 0; i--)
        if (a->w[i])
            return 64 * i + 64 - __builtin_clzll(a->w[i]);
    return 0;
}

static void u256_shl1(u256 *a)
{
    for (int i = 3; i > 0; i--)
        a->w[i] = a->w[i] << 1 | a->w[i - 1] >> 63;
    a->w[0] <<= 1;
}

int u256_divmod(u256 *q, u256 *rem, const u256 *a, const u256 *b)
{
    if (u256_is_zero(b))
        return -1;
    if (!(b->w[1] | b->w[2] | b->w[3])) {
        u256 qq;
        uint64_t r = u256_divmod_small(&qq, a, b->w[0]);
        if (q)
            *q = qq;
        if (rem)
            *rem = u256_from_u64(r);
        return 0;
    }
    /* Schoolbook binary long division: only for divisors wider than 64 bits. */
    u256 qq = u256_from_u64(0), r = u256_from_u64(0);
    for (int bit = u256_bitlen(a) - 1; bit >= 0; bit--) {
        u256_shl1(&r);
        r.w[0] |= (a->w[bit / 64] >> (bit % 64)) & 1;
        if (u256_cmp(&r, b) >= 0) {
            if (u256_sub(&r, &r, b) < 0)
                return -1; /* unreachable: r >= b was just checked */
            qq.w[bit / 64] |= (uint64_t)1 << (bit % 64);
        }
    }
    if (q)
        *q = qq;
    if (rem)
        *rem = r;
    return 0;
}

void u256_from_be(u256 *r, const uint8_t be[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t w = 0;
        for (int j = 0; j < 8; j++)
            w = w << 8 | be[(3 - i) * 8 + j];
        r->w[i] = w;
    }
}

void u256_to_be(uint8_t be[32], const u256 *a)
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            be[(3 - i) * 8 + j] = (uint8_t)(a->w[i] >> (8 * (7 - j)));
}

int u256_from_be_bytes(u256 *r, const uint8_t *be, size_t len)
{
    if (len > 32)
        return -1;
    uint8_t full[32] = {0};
    if (len)
        memcpy(full + 32 - len, be, len);
    u256_from_be(r, full);
    return 0;
}

size_t u256_to_be_min(uint8_t out[32], const u256 *a)
{
    uint8_t full[32];
    u256_to_be(full, a);
    size_t skip = 0;
    while (skip < 32 && full[skip] == 0)
        skip++;
    memcpy(out, full + skip, 32 - skip);
    return 32 - skip;
}

int u256_from_dec(u256 *r, const char *s, err *e)
{
    if (!s || !*s)
        return err_set(e, ERR_INVALID, "empty number");
    char show[64];
    u256 acc = u256_from_u64(0);
    const u256 ten = u256_from_u64(10);
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return err_set(e, ERR_INVALID, "character %zu of \"%s\" is not a decimal digit",
                           (size_t)(p - s) + 1, text_safe_str(show, sizeof show, s));
        u256 d = u256_from_u64((uint64_t)(*p - '0'));
        if (u256_mul(&acc, &acc, &ten) < 0 || u256_add(&acc, &acc, &d) < 0)
            return err_set(e, ERR_OVERFLOW, "number \"%s\" exceeds 2^256-1", text_safe_str(show, sizeof show, s));
    }
    *r = acc;
    return 0;
}

void u256_to_dec(char out[U256_DEC_MAX], const u256 *a)
{
    /* Peel 19 decimal digits at a time with a 64-bit divisor. */
    const uint64_t chunk = 10000000000000000000ull;
    char tmp[U256_DEC_MAX];
    size_t n = 0;
    u256 v = *a;
    do {
        uint64_t r = u256_divmod_small(&v, &v, chunk);
        for (int i = 0; i < 19; i++) {
            tmp[n++] = (char)('0' + r % 10);
            r /= 10;
            if (u256_is_zero(&v) && r == 0)
                break;
        }
    } while (!u256_is_zero(&v));
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* Quantities are lower case: execution-apis base-types.yaml, uint is
 * ^0x([1-9a-f]+[0-9a-f]*|0)$. */
static int hex_digit_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int u256_from_quantity(u256 *r, const char *s, err *e)
{
    char show[64];
    if (!s || s[0] != '0' || s[1] != 'x')
        return err_set(e, ERR_INVALID, "quantity \"%s\" must start with 0x",
                       text_safe_str(show, sizeof show, s));
    const char *h = s + 2;
    size_t n = strlen(h);
    if (n == 0)
        return err_set(e, ERR_INVALID, "quantity \"0x\" has no digits (zero is \"0x0\")");
    if (n > 1 && h[0] == '0')
        return err_set(e, ERR_INVALID, "quantity \"%s\" has leading zeros", text_safe_str(show, sizeof show, s));
    if (n > 64)
        return err_set(e, ERR_OVERFLOW, "quantity \"%s\" exceeds 256 bits", text_safe_str(show, sizeof show, s));
    u256 acc = u256_from_u64(0);
    for (size_t i = 0; i < n; i++) {
        int d = hex_digit_val(h[i]);
        if (d < 0)
            return err_set(e, ERR_INVALID,
                           "character %zu of quantity \"%s\" is not a lower-case hex digit",
                           i + 3, text_safe_str(show, sizeof show, s));
        size_t bit = 4 * (n - 1 - i);
        acc.w[bit / 64] |= (uint64_t)d << (bit % 64);
    }
    *r = acc;
    return 0;
}

void u256_to_quantity(char out[U256_HEX_MAX], const u256 *a)
{
    static const char digits[] = "0123456789abcdef";
    char *p = out;
    *p++ = '0';
    *p++ = 'x';
    bool started = false;
    for (int nib = 63; nib >= 0; nib--) {
        unsigned d = (unsigned)(a->w[nib / 16] >> (4 * (nib % 16))) & 15;
        if (d || started || nib == 0) {
            *p++ = digits[d];
            started = true;
        }
    }
    *p = '\0';
}
