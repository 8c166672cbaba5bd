/* sync_service.h: "sync this desk and screen what it stores", written once. Starts the
 * automatic compliance screener, then the sync threads with the screener as their
 * after-commit hook; stops them in the order that lets the screener finish its last pass
 * over what sync stored. Used by `fusion sync`, the headless demo and the UI (and any
 * other long-running process: one call to start, one to stop). */
#ifndef FUSION_DESK_SYNC_SERVICE_H
#define FUSION_DESK_SYNC_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/attr.h"
#include "base/err.h"
#include "compliance/compliance.h"
#include "sync/sync.h"

typedef struct desk_sync desk_sync;

typedef struct desk_sync_options {
    /* The sync options (home, once, chain...); the after-commit hook is set here. */
    sync_options sync;
    /* true: a screener that cannot start fails the start (`fusion sync`); false: sync
     * runs without automatic screening and desk_sync_screening_off says why (the gate
     * still fails closed when it signs). */
    bool screener_required;
    /* Start the threads with SIGWINCH, SIGINT, SIGTERM and SIGHUP blocked (a process whose
     * main loop handles them: the UI). */
    bool block_signals;
    /* With sync.book and sync.book_url: the screener reads the escrows there through it
     * (pgstore's pg_reader) and screens what the sync writes to the server, and the chain
     * threads read the server's inflows through it for the credit repayments
     * (sync_options.book_reader); NULL: neither on a book on a server (docs/scale.md). */
    const store_book_reader *book_reader;
} desk_sync_options;

/* Defaults: sync_options_default with home, screener optional, signals as they are. */
void desk_sync_options_default(desk_sync_options *o, const char *home);

/* Starts screening and sync. -1 when sync does not start (e: ERR_STATE another process
 * syncs this desk, naming its pid; ERR_NOT_FOUND no chain configured) or when a required
 * screener does not; nothing is left running then. */
int desk_sync_start(desk_sync **out, const desk_sync_options *o, err *e) FUSION_WUR;
/* The running engine (stats, notify descriptor, stop request). */
sync_engine *desk_sync_engine(desk_sync *s);
/* "" while automatic screening runs; else why it is off. */
const char *desk_sync_screening_off(const desk_sync *s);
/* The screener's totals so far (zero without a screener or s). */
void desk_sync_totals(desk_sync *s, compliance_screen_stats *out);
/* Stops sync, then the screener after its last pass; totals (may be NULL) are the
 * screener's. -1 when a chain failed (e names it); everything is stopped and freed. */
int desk_sync_stop(desk_sync **p, compliance_screen_stats *totals, err *e);

#endif
