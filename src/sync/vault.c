/* vault.c: the collateral a facility holds on chain, as synced: each CollateralVault event
 * that moves collateral (Deposited, Withdrawn, Seized) becomes a vault_flows row in the
 * same store transaction as the event itself (with a book on a server, in its transaction:
 * sync_vault_flow_of). The row references the event, so whatever
 * deletes synced events (a reorg's rollback, a rewind when a contract is added) deletes the
 * flows with them; a facility's collateral on a chain is the sum of the flows through the
 * chain's synced block (credit/health.c). */
#include "sync/vault.h"

#include <stdio.h>
#include <string.h>

int sync_vault_flow_of(const store_event *ev, const sync_decoded *d, store_vault_flow *f,
                       bool *is_flow, err *e)
{
    *is_flow = false;
    const char *kind;
    switch (d->kind) {
    case EV_VAULT_DEPOSITED:
        kind = "deposit";
        break;
    case EV_VAULT_WITHDRAWN:
        kind = "withdrawal";
        break;
    case EV_VAULT_SEIZED:
        kind = "seizure";
        break;
    default:
        return 0;
    }
    const abi_field *owner = sync_field(d, "owner"), *token = sync_field(d, "token"),
                    *amount = sync_field(d, "amount"), *id = sync_field(d, "id");
    if (!owner || !token || !amount)
        return err_set(e, ERR_INTERNAL, "a decoded vault event lacks its fields");
    memset(f, 0, sizeof *f);
    f->chain_id = ev->chain_id;
    f->vault = ev->address;
    f->owner = owner->a;
    f->token = token->a;
    f->block_number = ev->block_number;
    memcpy(f->block_hash, ev->block_hash, 32);
    f->log_index = ev->log_index;
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    f->amount = amount->u;
    if (id && u256_to_u64(&id->u, &f->request_id))
        f->has_request = true;
    *is_flow = true;
    return 0;
}

int sync_vault_record(store *db, const store_event *ev, const sync_decoded *d, err *e)
{
    store_vault_flow f;
    bool is_flow;
    if (sync_vault_flow_of(ev, d, &f, &is_flow, e) < 0)
        return -1;
    if (is_flow && store_vault_flow_put(db, &f, e) < 0)
        return err_prefix(e, "block %llu log %llu", (unsigned long long)ev->block_number,
                          (unsigned long long)ev->log_index);
    return 0;
}
