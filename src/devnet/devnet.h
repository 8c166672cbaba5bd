/* devnet.h: a local multi-chain devnet for demos and tests. Four anvil nodes stand for
 * Ethereum, Arbitrum, Polygon and Avalanche's C-Chain (distinct chain ids, names, ports, 1 s blocks), run as
 * daemons with pid files and logs in <home>/devnet/; fusion deploys the contracts of
 * data/contracts with transactions it builds and signs itself (deployer: anvil's
 * well-known dev key #0 in the desk key store) and records every address in the desk.
 * Also: a small transaction sender (nonce, gas, sign, send, wait) over rpc + keystore,
 * shared by the demo driver and cross-chain settlement. See docs/demo.md. */
#ifndef FUSION_DEVNET_DEVNET_H
#define FUSION_DEVNET_DEVNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/bytes.h"
#include "base/err.h"
#include "base/u256.h"
#include "crypto/address.h"
#include "keystore/keystore.h"
#include "rpc/rpc.h"
#include "store/store.h"

#define DEVNET_WUR FUSION_WUR /* base/attr.h */
#define DEVNET_N_CHAINS 4
#define DEVNET_PORT_BASE 18545
/* The documented passphrase of the demo's keys (they are anvil's public dev keys). */
#define DEVNET_DEMO_PASSPHRASE "fusion-demo"
/* Anvil's mnemonic "test test ... junk" accounts 0..10 (public knowledge, devnets only);
 * the devnet's nodes fund all of them (anvil --accounts). */
#define DEVNET_DEV_KEYS 11
/* The market maker the demo's escrow flow comes from: another firm (entity "Meridian
 * Market Makers Ltd" in data/demo/entities.csv), not one of the desk's operators, so its
 * flow opens cases on its own entity and never on the desk's. Its key lives in its own
 * key store under <home>/market, so the desk's portfolio and key list do not count it. */
#define DEVNET_MARKET_KEY 10
#define DEVNET_MARKET_DIR "market"
/* Whole native coins each dev account starts with on every node (anvil --balance). */
#define DEVNET_DEV_BALANCE "100"

typedef struct devnet_chain_spec {
    const char *name;       /* "devnet-eth" */
    const char *stands_for; /* "Ethereum" */
    uint64_t chain_id;
    const char *native_symbol;
    uint32_t cctp_domain; /* the real network's CCTP domain (data/bridges/networks.csv) */
    uint64_t ccip_selector; /* the real network's CCIP chain selector (same file) */
} devnet_chain_spec;

/* The four chains, index 0..DEVNET_N_CHAINS-1. */
const devnet_chain_spec *devnet_chain(size_t i);
/* The chain of this id, or NULL. */
const devnet_chain_spec *devnet_chain_by_id(uint64_t chain_id);
/* The anvil dev key that signs the devnet's CCTP-style attestations (tools/attester.py). */
#define DEVNET_ATTESTER_KEY 8
/* Its address. */
int devnet_attester(addr *out) DEVNET_WUR;
/* The anvil dev key of the devnet's CCIP relayer (tools/ccip_relayer.py): the only
 * address the CCIP-style routers let execute messages, standing in for the network. */
#define DEVNET_CCIP_RELAYER_KEY 7

/* The USD price feeds deployed on every chain, by asset: ETH, BTC, USDC, and for the
 * wrapped tokens and the native coins of Polygon and Avalanche WETH, WBTC, POL, AVAX, so that every asset of the
 * devnet has a feed of its own. */
#define DEVNET_N_FEEDS 7
const char *devnet_feed_asset(size_t i);
/* The price history (data/prices/yf_<SERIES>-USD_1d.csv) that drives the feed of an
 * asset: WETH follows ETH, WBTC follows BTC, POL follows MATIC; NULL for an asset
 * without one. */
const char *devnet_feed_series(const char *asset);

/* Anvil dev key i (0..9) as 32 bytes; -1 when out of range. */
int devnet_dev_key(size_t i, uint8_t sk[32]);

typedef struct devnet_opts {
    const char *home;                /* desk home */
    unsigned ports[DEVNET_N_CHAINS]; /* 0: DEVNET_PORT_BASE + i */
    const char *operator_name;       /* for audit rows */
} devnet_opts;

typedef struct devnet_node {
    const devnet_chain_spec *spec;
    unsigned port;
    int pid;        /* 0: no pid file */
    bool running;   /* pid alive and is this node's anvil */
    bool answering; /* eth_chainId answered */
    uint64_t reported_chain_id;
    uint64_t head;
    bool started_now;  /* devnet_up started it (false: was already running) */
    bool deployed_now; /* devnet_up deployed the contracts */
    char url[64];
} devnet_node;

/* The anvil executable: $FUSION_ANVIL, else $FUSION_TOOLS/anvil, else `anvil` on PATH,
 * else <dir of the fusion binary>/../tools/bin/anvil (a build tree). */
int devnet_find_anvil(char *out, size_t cap, err *e) DEVNET_WUR;
/* A shipped data file: $FUSION_DATA/REL, else <exe dir>/../data/REL, else
 * <exe dir>/../share/fusion/REL (the risk service's look-up, risk_data_file). */
int devnet_data_path(char *out, size_t cap, const char *rel, err *e) DEVNET_WUR;

/* Parses "A,B,C,D": four ports 1024..65535, one per chain; -1 when malformed. */
int devnet_parse_ports(const char *s, unsigned ports[DEVNET_N_CHAINS]);
/* Starts the nodes that are not running (refusing ports taken by something else), waits
 * until each answers, imports the deployer key, deploys contracts, tokens and feeds on
 * every chain that does not have them yet and records them in the desk. Idempotent. */
int devnet_up(const devnet_opts *o, devnet_node nodes[DEVNET_N_CHAINS], err *e) DEVNET_WUR;
/* Stops exactly the nodes of the pid files (after checking each pid is still that
 * anvil), waits until they are gone, removes the pid files. *stopped: how many. */
int devnet_down(const char *home, unsigned *stopped, err *e) DEVNET_WUR;
/* The URL of the devnet's attestation service when it runs (`devnet up` starts it). */
bool devnet_attester_url(const char *home, char *out, size_t cap);
/* Health of each node of the pid files (nodes never started show pid 0). */
int devnet_status(const char *home, devnet_node nodes[DEVNET_N_CHAINS], err *e) DEVNET_WUR;

/* Opens the desk database <home>/desk.db. */
int devnet_open_desk(const char *home, store **out, err *e) DEVNET_WUR;
/* Opens the key store with the cheap (interactive) KDF and imports dev key i under the
 * demo passphrase with label unless present; unlocks it into *key. */
int devnet_dev_signer(keystore *ks, size_t i, const char *label, ks_key **key, err *e) DEVNET_WUR;

/* ---- transaction sender (txsend.c) ---- */

typedef struct devnet_sender {
    rpc_client *rpc; /* borrowed */
    ks_key *key;     /* borrowed */
    uint64_t chain_id;
    uint64_t nonce; /* next nonce */
    bool have_nonce;
} devnet_sender;

void devnet_sender_init(devnet_sender *s, rpc_client *rpc, ks_key *key, uint64_t chain_id);
/* Builds, signs (key store: audited) and sends a legacy EIP-155 transaction. to NULL:
 * contract creation. gas 0: estimated (+25%). hash_out may be NULL. */
int devnet_send(devnet_sender *s, const addr *to, const u256 *value, const uint8_t *data,
                size_t len, uint64_t gas, uint8_t hash_out[32], err *e) DEVNET_WUR;
/* Signs without sending (the raw bytes can be stored first, then sent and re-sent). */
int devnet_sign(devnet_sender *s, const addr *to, const u256 *value, const uint8_t *data,
                size_t len, uint64_t gas, buf *raw_out, uint8_t hash_out[32], err *e) DEVNET_WUR;
/* eth_sendRawTransaction of signed bytes. */
int devnet_send_raw(devnet_sender *s, const uint8_t *raw, size_t len, err *e) DEVNET_WUR;
/* Waits (polling, up to timeout_ms) for the receipt; fails when it reverted. */
int devnet_wait(rpc_client *rpc, const uint8_t hash[32], unsigned timeout_ms, rpc_receipt *out,
                err *e) DEVNET_WUR;

/* eth_call of a view returning one 32-byte word. */
int devnet_call_word(rpc_client *rpc, const addr *to, const buf *calldata, uint8_t word[32],
                     err *e) DEVNET_WUR;

/* ---- contract artifacts and calls (contracts.c) ---- */

typedef struct devnet_artifact devnet_artifact;

/* Loads data/contracts/<name>.json (abi + creation bytecode). */
int devnet_artifact_load(devnet_artifact **out, const char *name, err *e) DEVNET_WUR;
void devnet_artifact_free(devnet_artifact **p);
/* Creation code followed by the constructor arguments, written as cast writes them
 * ("(6, \"USD Coin\")"; NULL: no arguments). */
int devnet_artifact_deploy_data(const devnet_artifact *a, const char *args, buf *out,
                                err *e) DEVNET_WUR;
/* Calldata for function fn (name or signature) with args in cast syntax ("(0xab.., 5)"). */
int devnet_artifact_calldata(const devnet_artifact *a, const char *fn, const char *args, buf *out,
                             err *e) DEVNET_WUR;
const struct abi_json *devnet_artifact_abi(const devnet_artifact *a);

/* ---- price history replay (prices.c) ---- */

typedef struct devnet_closes {
    size_t n;
    char (*date)[11]; /* "2017-11-09" */
    u256 *answer;     /* close in units of 1e-8 USD (truncated, exact from text) */
} devnet_closes;

/* Reads data/prices/yf_<asset>-USD_1d.csv. */
int devnet_closes_load(devnet_closes *out, const char *asset, err *e) DEVNET_WUR;
void devnet_closes_free(devnet_closes *c);

/* ---- the demo desk (seed.c, driver.c) ---- */

typedef struct devnet_seed_report {
    unsigned keys_imported; /* operator keys new in the key store */
    unsigned operators;
    unsigned mints;         /* token mints sent (0 when already funded) */
    unsigned operators_new; /* registered in the desk's operators table now */
    unsigned entities_read; /* data/demo/entities.csv rows, validated */
    unsigned entities_new;  /* stored in the compliance registry now */
    unsigned links_new;     /* entity address links stored now */
    unsigned counterparties_read;
    bool entities_stored;
    bool limits_installed; /* <home>/risk-limits.csv written now */
    char entities_note[160];
} devnet_seed_report;

/* Imports the operators' dev keys (data/demo/operators.csv) under the demo passphrase and
 * registers them as desk operators, funds the traders with test tokens on every chain
 * (once), and stores the entities (data/demo/entities.csv) in the compliance registry,
 * linked on every devnet chain (once), and installs the demo desk's risk limits
 * (data/demo/risk-limits.csv to <home>/risk-limits.csv, unless there). Needs the devnet
 * up (devnet_up). */
int devnet_seed(const char *home, const char *operator_name, devnet_seed_report *out,
                err *e) DEVNET_WUR;

typedef struct devnet_driver_opts {
    const char *home;
    const char *operator_name;
    unsigned step_ms;       /* one replayed day per step; default 2000 */
    const char *start_date; /* first replayed day; default "2024-01-01" */
} devnet_driver_opts;

/* One chain's share of the driver's work. */
typedef struct devnet_driver_chain_stats {
    char name[24];
    uint64_t steps;     /* days replayed into this chain's feeds */
    char day[11];       /* the last of them */
    uint64_t skipped;   /* steps that passed while its node kept the worker waiting */
    uint64_t cut_short; /* steps ended early: the node stopped answering */
    uint64_t errors;
} devnet_driver_chain_stats;

typedef struct devnet_driver_stats {
    uint64_t steps;      /* steps of the clock up to the latest day replayed on any chain */
    char day[11];        /* the latest day replayed */
    uint64_t price_txs;  /* setAnswer transactions sent */
    uint64_t escrows;    /* escrows created (and funded) */
    uint64_t escrow_txs; /* every escrow-flow transaction sent */
    uint64_t screened;     /* escrows screened by the demo's screening hook */
    uint64_t cases_opened; /* cases it opened */
    uint64_t errors;
    char last_error[ERR_MSG_MAX];
    size_t n_chains;
    devnet_driver_chain_stats chains[DEVNET_N_CHAINS];
} devnet_driver_stats;

typedef struct devnet_driver devnet_driver;

/* Starts the market driver, one thread per chain on a shared step clock: each step replays
 * the next day's closes (ETH, BTC, USDC, MATIC) into the chain's feeds (setAnswer, signed by
 * the deployer key) and moves the scripted escrow flow on (createEscrowDeterministic +
 * approve + fund by the trader; approvals and releases by the approvers), including the
 * screening patterns. A chain whose node stops answering lags alone and then skips to the
 * day due (stats: skipped); the others keep their pace. */
int devnet_driver_start(devnet_driver **out, const devnet_driver_opts *o, err *e) DEVNET_WUR;
void devnet_driver_stats_get(devnet_driver *d, devnet_driver_stats *out);
/* Stops and joins the workers, then waits (bounded) until the transactions they sent are
 * mined; the stats stay readable. NULL-safe; devnet_driver_stop halts first if needed, then
 * frees (NULL-safe). */
void devnet_driver_halt(devnet_driver *d);
void devnet_driver_stop(devnet_driver **p);

#endif
