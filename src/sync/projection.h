/* projection.h: escrow state as a pure function of the escrow's events. The same
 * fold serves the live sync, a reorg's rebuild and `fusion reindex`, so the three
 * cannot disagree. The projection never invents a state: an event the contract's state
 * machine cannot reach from the state the events proved (e.g. Funded after Disputed,
 * which re-entry into a version-1 escrow can log) is not applied; the escrow is marked
 * inconsistent, keeps the last proven state and says why in its anomaly text. Other
 * oddities (amounts, addresses) are noted in the anomaly text. */
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
