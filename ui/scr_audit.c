/* scr_audit.c: screen 8, Audit. The audit log with its hash-chain verification status.
 * Until its desk service lands it shows the table's shape and an honest empty state. */
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"#", 3, 10, UI_COL_RIGHT}, {"Time (UTC)", 10, 20, 0},      {"Operator", 8, 16, 0},
    {"Action", 6, 16, 0},       {"Subject", 8, 0, UI_COL_GROW}, {"Chain", 5, 9, 0},
};

static const ui_tscreen_desc desc = {
    "Audit",
    cols,
    sizeof cols / sizeof cols[0],
    "The audit log is empty: no operator action has been recorded on this desk yet",
    "entries",
};

static int open_(ui_screen *s, err *e)
{
    return ui_tscreen_open(s, &desc, ui_rows_none(), e);
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    return ui_not_in_build(s, ev->action);
}

const ui_screen_ops ui_scr_audit = {
    .topics = UI_TOPIC_AUDIT,
    .open = open_,
    .close = ui_tscreen_close,
    .draw = ui_tscreen_draw,
    .handle = handle,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
