/* screen.h: what a screen is for the main loop: an ops table (tig's view_ops, htop's
 * Panel). Handlers never draw; they return what must happen next as UI_* flags and the
 * loop redraws. Screens read their data through ui_rows sources (table.h), so desk
 * services plug in without the loop knowing them. */
#ifndef FUSION_UI_SCREEN_H
#define FUSION_UI_SCREEN_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/err.h"
#include "keymap.h"

/* Handler results (htop HandlerResult, neomutt WA_*). */
enum {
    UI_OK = 0,
    UI_REDRAW = 1u << 0,    /* the screen's content changed */
    UI_RELAYOUT = 1u << 1,  /* window geometry must be recomputed */
    UI_QUIT = 1u << 2,      /* leave the program */
    UI_UNHANDLED = 1u << 3, /* the event was not for this handler */
};

typedef struct ui_app ui_app;
typedef struct ui_screen ui_screen;

/* A key press after keymap lookup: action is UI_ACT_NONE for unbound keys. */
typedef struct ui_event {
    ui_action action;
    ui_key key;
} ui_event;

typedef struct ui_screen_ops {
    unsigned topics; /* UI_TOPIC_* whose changes this screen shows */
    /* First visit: allocate state, load data. */
    int (*open)(ui_screen *s, err *e);
    void (*close)(ui_screen *s);
    /* Draws the whole body window (erased before the call). */
    void (*draw)(ui_screen *s, WINDOW *w);
    unsigned (*handle)(ui_screen *s, const ui_event *ev);
    /* Optional: data behind topics changed (reload, return UI_REDRAW if visible change). */
    unsigned (*changed)(ui_screen *s, unsigned topics);
    /* Optional: once a second while visible (SLA countdowns, ages). */
    unsigned (*tick)(ui_screen *s, time_t now);
    /* Optional: the left part of the status line ("row 3 of 12"). */
    void (*status)(ui_screen *s, char *buf, size_t cap);
    /* Optional: is a row selected (the UI_PRE_ROW precondition)? */
    bool (*selected)(ui_screen *s);
    /* Optional: restrict rows to those matching text ("" = all). */
    unsigned (*filter)(ui_screen *s, const char *text);
    /* Optional: closes what is open over the table (a detail pane); false when nothing
     * was. Esc (with no filter) and q (before quitting) call it. */
    bool (*close_overlay)(ui_screen *s);
} ui_screen_ops;

struct ui_screen {
    const ui_screen_ops *ops;
    ui_app *app;
    ui_screen_id id;
    void *state;
    bool opened;
};

/* The desk screens (scr_*.c), indexed by ui_screen_id. */
extern const ui_screen_ops ui_scr_dashboard, ui_scr_escrows, ui_scr_approvals, ui_scr_compliance,
    ui_scr_entities, ui_scr_keys, ui_scr_chains, ui_scr_audit, ui_scr_swaps, ui_scr_txs,
    ui_scr_bridges, ui_scr_credit;
/* The `?` help screen, generated from the action table. */
extern const ui_screen_ops ui_scr_help;

#endif
