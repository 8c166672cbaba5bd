/* feeds.h: which price feeds the desk may believe (feeds.c): MockPriceFeed, the devnet's
 * test oracle, is refused on every chain that is not a devnet. Used by the risk service,
 * the desk's pre-sign valuation and `asset add-feed`. */
#ifndef FUSION_RISK_FEEDS_H
#define FUSION_RISK_FEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Whether a chain id is one of the devnet's (local development chains), where test-only
 * contracts such as MockPriceFeed may be used. */
bool risk_chain_is_devnet(uint64_t chain_id);
/* Runtime code equal to an artifact's deployedBytecode, bytes zero in the artifact
 * (immutables) excepted. Pure. */
bool risk_code_matches_artifact(const uint8_t *code, size_t len, const uint8_t *art,
                                size_t art_len);
/* Whether runtime code is that of data/contracts/<artifact> (e.g. "HashedTimelock.json"),
 * by risk_code_matches_artifact. */
int risk_code_is_artifact(const uint8_t *code, size_t len, const char *artifact, bool *match,
                          err *e) __attribute__((warn_unused_result));
/* Whether runtime code is MockPriceFeed's (data/contracts/MockPriceFeed.json). */
int risk_code_is_mock_feed(const uint8_t *code, size_t len, bool *mock, err *e)
    __attribute__((warn_unused_result));

#endif
