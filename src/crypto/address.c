/* address.c: Ethereum addresses. Derivation is keccak256 of the uncompressed public
 * key; the text form is EIP-55, whose letter case is a checksum that catches typos
 * in pasted addresses, so mixed-case input with a wrong checksum is refused. */
#include "crypto/address.h"

#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "crypto/keccak.h"
#include "crypto/secp.h"

void addr_from_pubkey(addr *out, const uint8_t pub[64])
{
    uint8_t h[KECCAK256_LEN];
    keccak256(h, pub, 64);
    memcpy(out->b, h + 12, ADDR_LEN);
}

int addr_from_seckey(addr *out, const uint8_t sk[32])
{
    uint8_t pub[64];
    if (secp_pubkey_from_seckey(pub, sk) < 0)
        return -1;
    addr_from_pubkey(out, pub);
    return 0;
}

/* EIP-55: hex digit i is upper case when nibble i of keccak256(lowercase hex) >= 8. */
static void addr_checksum_digits(char hex40[40])
{
    uint8_t h[KECCAK256_LEN];
    keccak256(h, hex40, 40);
    for (int i = 0; i < 40; i++) {
        unsigned nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 15;
        if (hex40[i] >= 'a' && hex40[i] <= 'f' && nib >= 8)
            hex40[i] = (char)(hex40[i] - 'a' + 'A');
    }
}

int addr_parse(addr *out, const char *s, err *e)
{
    char show[48];
    if (!s || !*s)
        return err_set(e, ERR_INVALID, "empty address: expected 0x and 40 hex digits");
    size_t len = strlen(s);
    if (len < 2 || s[0] != '0' || s[1] != 'x')
        return err_set(e, ERR_INVALID, "address \"%s\" must start with 0x", text_safe_str(show, sizeof show, s));
    if (len != 2 + 2 * ADDR_LEN)
        return err_set(e, ERR_INVALID,
                       "address \"%s\" has %zu characters after 0x; 40 hex digits expected",
                       text_safe_str(show, sizeof show, s), len - 2);
    addr a;
    err he;
    if (hex_decode(a.b, ADDR_LEN, NULL, s + 2, 2 * ADDR_LEN, 0, &he) < 0)
        return err_set(e, ERR_INVALID, "address \"%s\" is not hex: %s", text_safe_str(show, sizeof show, s), he.msg);

    bool upper = false, lower = false;
    for (size_t i = 2; i < len; i++) {
        upper |= s[i] >= 'A' && s[i] <= 'F';
        lower |= s[i] >= 'a' && s[i] <= 'f';
    }
    if (upper && lower) {
        char want[ADDR_STR_MAX];
        addr_to_checksum(want, &a);
        if (strcmp(want, s) != 0)
            return err_set(e, ERR_INVALID, "address %s has a wrong EIP-55 checksum (letter "
                           "case): it was probably mistyped; copy it again from its source", s);
    }
    *out = a;
    return 0;
}

void addr_to_lower(char out[ADDR_STR_MAX], const addr *a)
{
    hex_encode(out, ADDR_STR_MAX, a->b, ADDR_LEN, true);
}

void addr_to_checksum(char out[ADDR_STR_MAX], const addr *a)
{
    addr_to_lower(out, a);
    addr_checksum_digits(out + 2);
}

bool addr_equal(const addr *a, const addr *b)
{
    return memcmp(a->b, b->b, ADDR_LEN) == 0;
}

bool addr_is_zero(const addr *a)
{
    static const uint8_t zero[ADDR_LEN];
    return memcmp(a->b, zero, ADDR_LEN) == 0;
}
