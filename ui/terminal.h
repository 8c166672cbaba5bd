/* terminal.h: the terminal under curses. Start-up and tear-down (newterm, modes, colours or
 * not, UTF-8 or ASCII line drawing), the attribute of each visual role, and the signal
 * side: handlers that only set flags and wake the loop through a self-pipe, and a crash
 * handler that puts the terminal back before the process dies. */
#ifndef FUSION_UI_TERMINAL_H
#define FUSION_UI_TERMINAL_H

#include <curses.h>
#include <signal.h>
#include <stdbool.h>

#include "base/err.h"
#include "text.h"

typedef enum {
    UI_ROLE_NORMAL,
    UI_ROLE_TITLE,
    UI_ROLE_TAB,
    UI_ROLE_TAB_CURRENT,
    UI_ROLE_STATUS,
    UI_ROLE_HEADER,
    UI_ROLE_SELECTED,
    UI_ROLE_ERROR,
    UI_ROLE_INFO,
    UI_ROLE_DIM,
    UI_ROLE_BORDER,
    UI_ROLE_COUNT
} ui_role;

/* Line drawing and the ellipsis: UTF-8 box drawing, or ASCII in other locales. */
typedef struct ui_glyphs {
    const char *h, *v, *tl, *tr, *bl, *br, *ellipsis, *spark[8];
    const char *up, *down; /* a sort indicator: ascending, descending */
} ui_glyphs;

/* Set by the signal handlers; the loop reads and clears them. */
extern volatile sig_atomic_t ui_sig_winch; /* the terminal was resized */
extern volatile sig_atomic_t ui_sig_int;   /* C-c: a quit request */
extern volatile sig_atomic_t ui_sig_quit;  /* SIGTERM/SIGHUP: the signal number */

/* Installs the flag handlers (SIGWINCH, SIGINT, SIGTERM, SIGHUP) and the self-pipe. Must
 * run before ui_term_open so that curses does not install its own. */
int ui_term_signals_install(err *e) __attribute__((warn_unused_result));
/* Restores the previous handlers and closes the self-pipe. */
void ui_term_signals_restore(void);
/* The read end of the self-pipe (readable after any flag signal). */
int ui_term_signal_fd(void);
/* Empties the self-pipe. */
void ui_term_signal_drain(void);

/* Starts curses on the terminal; crash_note is printed after a crash ("see <log>"). */
int ui_term_open(const char *crash_note, err *e) __attribute__((warn_unused_result));
/* Ends curses and restores the terminal as it was; idempotent. */
void ui_term_close(void);
/* Re-reads the terminal size after SIGWINCH and resizes curses; returns true if changed. */
bool ui_term_resize(void);

bool ui_term_utf8(void);
bool ui_term_color(void);
attr_t ui_attr(ui_role role);
const ui_glyphs *ui_glyph(void);

/* Puts text on the terminal's clipboard with OSC 52 (the terminal, or tmux with
 * set-clipboard on, stores it; over SSH it reaches the local terminal). Only printable
 * ASCII is sent. */
void ui_term_clipboard(const char *text);
/* Draws s at (y, x) fitted to exactly `width` columns (see ui_text_fit), in role. */
void ui_put(WINDOW *w, int y, int x, const char *s, int width, ui_align align, ui_role role);
/* A horizontal rule of n columns. */
void ui_hline(WINDOW *w, int y, int x, int n, ui_role role);
/* A border around the whole window. */
void ui_box(WINDOW *w, ui_role role);

#endif
