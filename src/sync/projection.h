/* projection.h: escrow state as a pure function of the escrow's events. The same
 * fold serves the live sync, a reorg's rebuild and `fusion reindex`, so the three
 * cannot disagree. Events that do not fit the contract's state machine are applied
 * as the chain says and noted in the escrow's anomaly text; the chain is the truth. */
#ifndef FUSION_SYNC_PROJECTION_H
#define FUSION_SYNC_PROJECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"
#include "sync/events.h"

/* An empty projection for the escrow at `escrow` on `chain_id`. */
void escrow_fold_init(store_escrow *x, uint64_t chain_id, const addr *escrow);

/* Applies one event (already decoded; d->kind EV_NONE for one that was not
 * understood) of the escrow. Events above final_block make the escrow pending. */
void escrow_fold(store_escrow *x, const store_event *ev, const sync_decoded *d,
                 uint64_t final_block);

/* Decodes and folds an escrow's events in chain order (block, log index): the log
 * from the factory is EscrowCreated, the escrow's own logs the rest. *created is
 * false when no EscrowCreated is among them (then *x holds no terms). */
void escrow_project(const store_event *events, size_t n, uint64_t chain_id, const addr *escrow,
                    uint64_t final_block, store_escrow *x, bool *created);

#endif
