/* fixed.c: the devnet's fixed data: its four chains, the price feeds and the price
 * series behind them, anvil's published dev keys, and where the shipped data files are.
 * A leaf of src/devnet: the node daemons (devnet.c), deployments (deploy.c), contract
 * artifacts (contracts.c) and price series (prices.c) all read it. */
#include <stdio.h>
#include <string.h>

#include "devnet/devnet.h"
#include "risk/service.h"

/* Chain ids: 31337 is anvil's own default (Ethereum stand-in), 412346 is the id of
 * Arbitrum's local nitro dev node, 1337 the usual local-dev id (Polygon stand-in), 43112
 * the C-Chain id of avalanchego's local network (Avalanche stand-in). None
 * is a public network's id, so a devnet key can never sign for a real chain. */
static const devnet_chain_spec chains[DEVNET_N_CHAINS] = {
    {"devnet-eth", "Ethereum", 31337, "ETH", 0, 5009297550715157269ULL},
    {"devnet-arb", "Arbitrum", 412346, "ETH", 3, 4949039107694359620ULL},
    {"devnet-pol", "Polygon", 1337, "POL", 7, 4051577828743386545ULL},
    {"devnet-avax", "Avalanche C-Chain", 43112, "AVAX", 1, 6433500567565415381ULL},
};

const devnet_chain_spec *devnet_chain(size_t i)
{
    return i < DEVNET_N_CHAINS ? &chains[i] : NULL;
}

static const struct {
    const char *asset, *series;
} feeds[DEVNET_N_FEEDS] = {
    {"ETH", "ETH"},  {"BTC", "BTC"},  {"USDC", "USDC"},
    {"WETH", "ETH"}, {"WBTC", "BTC"}, {"POL", "MATIC"}, {"AVAX", "AVAX"},
};

const char *devnet_feed_asset(size_t i)
{
    return i < DEVNET_N_FEEDS ? feeds[i].asset : NULL;
}

const char *devnet_feed_series(const char *asset)
{
    for (size_t i = 0; i < DEVNET_N_FEEDS; i++)
        if (strcmp(feeds[i].asset, asset) == 0)
            return feeds[i].series;
    return NULL;
}

/* anvil's default accounts (mnemonic "test test test test test test test test test test
 * test junk"); published in Foundry's documentation, worthless outside a devnet. */
static const char *const dev_keys[DEVNET_DEV_KEYS] = {
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
    "f214f2b2cd398c806f84e317254e0f0b801d0643303237d97a22a48e01628897",
};

int devnet_dev_key(size_t i, uint8_t sk[32])
{
    if (i >= DEVNET_DEV_KEYS)
        return -1;
    return hex_decode_exact(sk, 32, dev_keys[i], 0, NULL);
}

int devnet_data_path(char *out, size_t cap, const char *rel, err *e)
{
    return risk_data_file(rel, out, cap, e);
}
