/* scr_approvals.c: screen 3, Approvals. Everything waiting for this operator's signature.
 * Until its desk service lands it shows the table's shape and an honest empty state. */
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Escrow", 6, 10, 0},
    {"Action", 6, 10, 0},
    {"Amount", 6, 24, UI_COL_RIGHT},
    {"Asset", 5, 8, 0},
    {"Requested by", 12, 0, UI_COL_GROW},
    {"Age", 4, 8, UI_COL_RIGHT},
};

static const ui_tscreen_desc desc = {
    "Approvals",
    cols,
    sizeof cols / sizeof cols[0],
    "Nothing waits for your signature: there are no escrows on this desk yet",
    "requests",
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

const ui_screen_ops ui_scr_approvals = {
    .topics = UI_TOPIC_APPROVALS | UI_TOPIC_ESCROWS,
    .open = open_,
    .close = ui_tscreen_close,
    .draw = ui_tscreen_draw,
    .handle = handle,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
