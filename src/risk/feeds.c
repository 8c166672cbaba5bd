/* feeds.c: which price feeds the desk may believe. MockPriceFeed (contracts/src) has
 * Chainlink's interface exactly and always looks fresh, so whoever owns one sets any price:
 * it is refused on every chain that is not a devnet. A feed is recognised as a mock by its
 * runtime code: that of data/contracts/MockPriceFeed.json's deployedBytecode, whose
 * immutable (decimals) is zero-filled in the artifact. The same comparison tells the swap
 * engine (src/xswap) whether an HTLC is a HashedTimelock. */
#include "risk/feeds.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "base/datafile.h"

bool risk_chain_is_devnet(uint64_t chain_id)
{
    /* The ids of `fusion devnet up`'s chains (src/devnet): anvil's and Hardhat's default
     * 31337, geth --dev's 1337, Arbitrum's local devnode 412346,
     * avalanchego's local C-Chain 43112. No public network uses
     * them. */
    return chain_id == 31337 || chain_id == 1337 || chain_id == 412346 ||
           chain_id == 43112;
}

bool risk_code_matches_artifact(const uint8_t *code, size_t len, const uint8_t *art,
                                size_t art_len)
{
    if (len != art_len || len == 0)
        return false;
    size_t differ = 0;
    for (size_t i = 0; i < len; i++) {
        if (code[i] == art[i])
            continue;
        /* an immutable's placeholder: zero in the artifact */
        if (art[i] != 0 || ++differ > 64)
            return false;
    }
    return true;
}

int risk_code_is_artifact(const uint8_t *code, size_t len, const char *artifact, bool *match,
                          err *e)
{
    *match = false;
    char rel[256], path[4200];
    snprintf(rel, sizeof rel, "contracts/%s", artifact);
    if (datafile_find(rel, path, sizeof path, e) < 0)
        return -1;
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    const char *hex = j ? json_string_value(json_object_get(j, "deployedBytecode")) : NULL;
    if (!hex) {
        json_decref(j);
        return err_set(e, ERR_IO, "%s: no deployedBytecode", path);
    }
    buf art;
    buf_init(&art);
    int rc = hex_decode_buf(&art, hex, strlen(hex), HEX_REQUIRE_PREFIX, e);
    if (rc == 0)
        *match = risk_code_matches_artifact(code, len, art.data, art.len);
    buf_free(&art);
    json_decref(j);
    return rc;
}

int risk_code_is_mock_feed(const uint8_t *code, size_t len, bool *mock, err *e)
{
    return risk_code_is_artifact(code, len, "MockPriceFeed.json", mock, e);
}
