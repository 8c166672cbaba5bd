/* scr_keys.c: screen 6, Keys. Key store entries, lock state, balances per chain; unlock and lock.
 * Until its desk service lands it shows the table's shape and an honest empty state. */
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Key", 8, 16, 0},
    {"Address", 12, 42, UI_COL_GROW},
    {"State", 6, 10, 0},
    {"Balances", 8, 0, UI_COL_GROW},
};

static const ui_tscreen_desc desc = {
    "Keys",
    cols,
    sizeof cols / sizeof cols[0],
    "No keys: the key store of this desk is empty - see `fusion key import`",
    "keys",
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

const ui_screen_ops ui_scr_keys = {
    .topics = UI_TOPIC_KEYS | UI_TOPIC_CHAINS,
    .open = open_,
    .close = ui_tscreen_close,
    .draw = ui_tscreen_draw,
    .handle = handle,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
