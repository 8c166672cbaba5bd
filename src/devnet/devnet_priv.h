/* devnet_priv.h: what the files of src/devnet share and nobody else needs. */
#ifndef FUSION_DEVNET_PRIV_H
#define FUSION_DEVNET_PRIV_H

#include "devnet/devnet.h"

/* Starts file (search_path: looked up in PATH) with argv detached (double fork, setsid, so
 * it outlives the command and is never our zombie), stdin /dev/null, stdout and stderr
 * appended to log_path; returns its pid, or -1 ("could not start <what>") (proc.c). */
int devnet_spawn(const char *file, char *const argv[], bool search_path, const char *log_path,
                 const char *what, err *e) DEVNET_WUR;
/* SIGTERM to pid while alive(pid), up to 5 s, then SIGKILL and 5 s more: true once it is
 * gone (proc.c). */
bool devnet_stop_pid(int pid, bool (*alive)(int pid));
void devnet_sleep_ms(unsigned ms);
/* /proc/<pid>/<name> into out (cap - 1 bytes at most, NUL-terminated): the bytes read, or
 * -1 when it cannot be opened (proc.c). */
long devnet_proc_read(int pid, const char *name, char *out, size_t cap);

/* Deploys contracts, tokens and feeds on every running node that lacks them, and records
 * chains, endpoints, contracts, tokens and feeds in the desk (deploy.c). */
int devnet_deploy_all(const devnet_opts *o, devnet_node nodes[DEVNET_N_CHAINS], err *e) DEVNET_WUR;

/* Starts the attestation service (tools/cctp_attester.py) unless it runs, watching the
 * transmitter on every node; url: where it answers (attester.c). */
int devnet_attester_up(const char *home, const devnet_node nodes[DEVNET_N_CHAINS],
                       const addr *transmitter, char *url, size_t cap, bool *started,
                       err *e) DEVNET_WUR;
/* Stops the service of the pid file (checked through /proc first). */
int devnet_attester_down(const char *home, bool *stopped, err *e) DEVNET_WUR;

/* Deploys and links the CCTP-style MessageTransmitter and TokenMessenger on a chain whose
 * USDC is usdc, and records them in bridge_cctp (cctp.c). */
int devnet_cctp_deploy(store *db, rpc_client *rpc, devnet_sender *snd,
                       const devnet_chain_spec *sp, const addr *usdc, err *e) DEVNET_WUR;

/* Deploys the CCIP-style router (CcipRouter) on a chain, opens its lanes to the other
 * devnet chains, adds and links its tokens (USDC, WBTC, WETH: the same addresses on every
 * chain), funds its lock-release pool and records it in the desk settings
 * ccip_router:CHAIN_ID and ccip_selector:CHAIN_ID (ccip.c). */
int devnet_ccip_deploy(store *db, rpc_client *rpc, devnet_sender *snd,
                       const devnet_chain_spec *sp, const addr tokens[3], err *e) DEVNET_WUR;

/* A creation by snd at its next nonce (the address predicted, explicit gas) and a call
 * with explicit gas, neither waited for: the bridge set-ups send a batch, then wait. */
int devnet_bridge_create(devnet_sender *snd, const char *name, const char *args, addr *out,
                         uint8_t hash[32], err *e) DEVNET_WUR;
int devnet_bridge_call(devnet_sender *snd, const devnet_artifact *a, const addr *to,
                       const char *fn, const char *args, uint8_t hash[32], err *e) DEVNET_WUR;

/* Imports anvil dev key i under the demo passphrase (interactive KDF: the key is public)
 * unless the key store has it; *imported says whether it was new. */
int devnet_dev_import(keystore *ks, size_t i, const char *label, addr *out, bool *imported,
                      err *e) DEVNET_WUR;

/* One row of data/demo/counterparties.csv. */
typedef struct devnet_party {
    char label[64];
    addr address;
    char status[16]; /* entity, unknown, sanctioned */
} devnet_party;

/* Reads data/demo/counterparties.csv; *out malloc'ed. */
int devnet_parties_load(devnet_party **out, size_t *n, err *e) DEVNET_WUR;

/* One row of data/demo/operators.csv. */
typedef struct devnet_operator {
    char name[24];
    char role[24];
    unsigned dev_key;
    char label[KS_LABEL_MAX + 1]; /* "alice (trader)" */
} devnet_operator;

#define DEVNET_MAX_OPERATORS 16
int devnet_operators_load(devnet_operator out[DEVNET_MAX_OPERATORS], size_t *n, err *e) DEVNET_WUR;
/* The first operator with this role, or NULL. */
const devnet_operator *devnet_operator_by_role(const devnet_operator *ops, size_t n,
                                               const char *role);

#endif
