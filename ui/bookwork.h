/* bookwork.h: the reader of a screen on a desk whose book is on a server (book.conf). A
 * thread with its own store (desk.db, the book attached by pg_desk_book_attach) reads what
 * the screen shows with the screen's read function, so a server away never holds the loop.
 * The loop asks (kick, or tick now and then); the thread parks the result, or the text of
 * its error, and wakes the loop (UI_TOPIC_JOBS); the loop takes it. The thread never
 * touches curses. The Outbound (scr_txs.c) and Bridges (scr_bridges.c) screens use it. */
#ifndef FUSION_UI_BOOKWORK_H
#define FUSION_UI_BOOKWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/err.h"
#include "store/store.h"

typedef struct ui_bookwork ui_bookwork;

/* Worker thread: one read on s (the thread's store, its book on the server). 0 with the
 * screen's result in *out (freed by the free function when nobody takes it), or -1 with e
 * (whatever it left in *out is freed). ctx is ui_bookwork_start's. */
typedef int (*ui_bookwork_read_fn)(store *s, void *ctx, void **out, err *e);
typedef void (*ui_bookwork_free_fn)(void *result);

/* Starts the reader of the desk in home; what names it in the log ("what: error"). It
 * reads nothing until kicked. */
int ui_bookwork_start(ui_bookwork **out, const char *home, const char *what,
                      ui_bookwork_read_fn read, ui_bookwork_free_fn free_result, void *ctx, err *e)
    __attribute__((warn_unused_result));
/* Loop side: asks for a read now. */
void ui_bookwork_kick(ui_bookwork *w);
/* Loop side, on the screen's tick: asks again 5 s after the last ask, 2 s when the screen
 * shows a failure (failing). */
void ui_bookwork_tick(ui_bookwork *w, time_t now, bool failing);
/* Loop side: false when nothing is parked. Else true, with error the read's error text
 * ("" on success) and *result the read's result (the caller owns it; NULL after a
 * failure). */
bool ui_bookwork_take(ui_bookwork *w, void **result, char *error, size_t cap);
/* Loop side: the reader has answered once. */
bool ui_bookwork_loaded(const ui_bookwork *w);
/* Stops the thread, frees a result nobody took, frees w and sets *p to NULL. */
void ui_bookwork_stop(ui_bookwork **p);

#endif
