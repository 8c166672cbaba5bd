/* scr_entities.c: screen 5, Entities. KYC/KYB records and their linked addresses.
 * Until its desk service lands it shows the table's shape and an honest empty state. */
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Entity", 12, 0, UI_COL_GROW},
    {"Type", 4, 6, 0},
    {"Jurisdiction", 6, 12, 0},
    {"KYC", 6, 10, 0},
    {"Risk", 4, 6, 0},
    {"Addresses", 9, 9, UI_COL_RIGHT},
};

static const ui_tscreen_desc desc = {
    "Entities",
    cols,
    sizeof cols / sizeof cols[0],
    "No entities: no KYC/KYB records on this desk yet - see `fusion entity add`",
    "entities",
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

const ui_screen_ops ui_scr_entities = {
    .topics = UI_TOPIC_ENTITIES,
    .open = open_,
    .close = ui_tscreen_close,
    .draw = ui_tscreen_draw,
    .handle = handle,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
