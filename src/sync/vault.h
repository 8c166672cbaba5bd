/* vault.h: CollateralVault events (deposits, withdrawals, seizures) recorded as vault flows
 * by the chain sync, in the transaction that stores the events (vault.c). */
#ifndef FUSION_SYNC_VAULT_H
#define FUSION_SYNC_VAULT_H

#include "base/err.h"
#include "store/store.h"
#include "sync/events.h"

/* Inside the range's transaction, after ev is stored: when d is a vault's Deposited,
 * Withdrawn or Seized, records the flow (tied to the stored event, so a reorg that deletes
 * the event deletes the flow). Any other event: nothing. */
int sync_vault_record(store *db, const store_event *ev, const sync_decoded *d, err *e)
    __attribute__((warn_unused_result));
/* The flow of ev (*is_flow false when d is none of those events), for a book on a server
 * (store_book_range.flows), which records it the same way. */
int sync_vault_flow_of(const store_event *ev, const sync_decoded *d, store_vault_flow *f,
                       bool *is_flow, err *e) __attribute__((warn_unused_result));

#endif
