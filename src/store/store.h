/* store.h: the desk database (<home>/desk.db, SQLite in WAL mode). Chains and their
 * RPC endpoints, configured contracts and tokens, raw chain events with a recent
 * block-hash window and a checkpoint per chain, the escrow projection derived from
 * events, and outbound transactions. One connection per thread; every statement is
 * prepared once per connection and cached. Schema changes are forward migrations
 * keyed by PRAGMA user_version (see store_schema.c).
 *
 * This is the facade: the declarations live in one header per aggregate, all included
 * here, so callers include store/store.h only. */
#ifndef FUSION_STORE_STORE_H
#define FUSION_STORE_STORE_H

#include "store/store_core.h"
#include "store/store_chain.h"
#include "store/store_event.h"
#include "store/store_escrow.h"
#include "store/store_outbound.h"
#include "store/store_risk.h"
#include "store/store_desk.h"
#include "store/store_xswap.h"
#include "store/store_entity.h"
#include "store/store_case.h"
#include "store/store_lists.h"
#include "store/store_bridge.h"
#include "store/store_api.h"
#include "store/store_credit.h"

#endif
