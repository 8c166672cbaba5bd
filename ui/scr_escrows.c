/* scr_escrows.c: screen 2, Escrows. Escrows created through the factory, with
 * fund/approve/release/refund/dispute. Until its desk service lands it shows the table's shape and
 * an honest empty state. */
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"ID", 4, 10, 0},
    {"Chain", 5, 12, 0},
    {"Counterparty", 12, 0, UI_COL_GROW},
    {"Asset", 5, 8, 0},
    {"Amount", 6, 24, UI_COL_RIGHT},
    {"State", 5, 10, 0},
    {"Appr", 4, 5, UI_COL_RIGHT},
    {"Updated", 7, 16, 0},
};

static const ui_tscreen_desc desc = {
    "Escrows",
    cols,
    sizeof cols / sizeof cols[0],
    "No escrows: no chain is configured on this desk - see `fusion chain add`",
    "escrows",
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

const ui_screen_ops ui_scr_escrows = {
    .topics = UI_TOPIC_ESCROWS,
    .open = open_,
    .close = ui_tscreen_close,
    .draw = ui_tscreen_draw,
    .handle = handle,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
