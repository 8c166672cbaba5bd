/* devnet_priv.h: what the files of src/devnet share and nobody else needs. */
#ifndef FUSION_DEVNET_PRIV_H
#define FUSION_DEVNET_PRIV_H

#include "devnet/devnet.h"

/* Deploys contracts, tokens and feeds on every running node that lacks them, and records
 * chains, endpoints, contracts, tokens and feeds in the desk (deploy.c). */
int devnet_deploy_all(const devnet_opts *o, devnet_node nodes[DEVNET_N_CHAINS], err *e)
    DEVNET_WUR;

#endif
