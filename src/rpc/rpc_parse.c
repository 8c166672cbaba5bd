/* rpc_parse.c: the checked readers of JSON-RPC values (quantities without leading zeros,
 * block numbers within 63 bits, 32-byte hashes, addresses) that the client (rpc.c) and
 * the typed calls (rpc_eth.c) share. */
#include <stdio.h>
#include <string.h>

#include "rpc/rpc.h"

static const char *jstr(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int rpc_parse_u256(const json_t *v, u256 *out, const char *what, err *e)
{
    const char *s = jstr(v);
    if (!s)
        return err_set(e, ERR_INVALID, "%s is not a hex string", what);
    if (u256_from_quantity(out, s, e) < 0)
        return err_prefix(e, "%s", what);
    return 0;
}

int rpc_parse_u64(const json_t *v, uint64_t *out, const char *what, err *e)
{
    u256 x;
    if (rpc_parse_u256(v, &x, what, e) < 0)
        return -1;
    if (!u256_to_u64(&x, out))
        return err_set(e, ERR_OVERFLOW, "%s %.40s does not fit in 64 bits", what, jstr(v));
    return 0;
}

int rpc_parse_block_number(const json_t *v, uint64_t *out, const char *what, err *e)
{
    if (rpc_parse_u64(v, out, what, e) < 0)
        return -1;
    if (*out > (uint64_t)INT64_MAX)
        return err_set(e, ERR_OVERFLOW, "%s %.40s is beyond any real block number", what, jstr(v));
    return 0;
}

int rpc_parse_hash(const json_t *v, uint8_t out[32], const char *what, err *e)
{
    const char *s = jstr(v);
    if (!s || hex_decode_exact(out, 32, s, HEX_REQUIRE_PREFIX, e) < 0)
        return err_set(e, ERR_INVALID, "%s is not a 32-byte hex string", what);
    return 0;
}

int rpc_parse_addr(const json_t *v, addr *out, const char *what, err *e)
{
    const char *s = jstr(v);
    if (!s || hex_decode_exact(out->b, ADDR_LEN, s, HEX_REQUIRE_PREFIX, e) < 0)
        return err_set(e, ERR_INVALID, "%s is not a 20-byte address", what);
    return 0;
}

