/* scr_chains.c: screen 7, Chains. Head, synced block, lag, events/s, endpoint health, recent
 * errors. Until its desk service lands it shows the table's shape and an honest empty state. */
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Chain", 8, 0, UI_COL_GROW},    {"ID", 4, 10, UI_COL_RIGHT},    {"Head", 6, 12, UI_COL_RIGHT},
    {"Synced", 6, 12, UI_COL_RIGHT}, {"Lag", 3, 8, UI_COL_RIGHT},    {"Ev/s", 4, 8, UI_COL_RIGHT},
    {"Endpoint", 8, 0, UI_COL_GROW}, {"Errors", 6, 8, UI_COL_RIGHT},
};

static const ui_tscreen_desc desc = {
    "Chains",
    cols,
    sizeof cols / sizeof cols[0],
    "No chains: none is configured on this desk - see `fusion chain add`",
    "chains",
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

const ui_screen_ops ui_scr_chains = {
    .topics = UI_TOPIC_CHAINS,
    .open = open_,
    .close = ui_tscreen_close,
    .draw = ui_tscreen_draw,
    .handle = handle,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
