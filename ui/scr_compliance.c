/* scr_compliance.c: screen 4, Compliance: the case queues (new, mine, escalated,
 * overdue) with SLA countdowns; [ and ] switch queues. Until the case service lands
 * every queue is empty and says why. */
#include <stdio.h>

#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Case", 6, 10, 0},          {"Entity", 10, 0, UI_COL_GROW}, {"Rule", 6, 16, 0},
    {"Opened (UTC)", 12, 16, 0}, {"SLA", 5, 9, UI_COL_RIGHT},    {"Assignee", 8, 14, 0},
};

static const char *const queues[] = {"New", "Mine", "Escalated", "Overdue"};
#define N_QUEUES (sizeof queues / sizeof queues[0])

static const ui_tscreen_desc desc = {
    "Compliance",
    cols,
    sizeof cols / sizeof cols[0],
    "No cases: nothing has been screened yet (cases open as escrows are screened)",
    "cases",
};

static int open_(ui_screen *s, err *e)
{
    return ui_tscreen_open(s, &desc, ui_rows_none(), e);
}

static void draw(ui_screen *s, WINDOW *w)
{
    ui_tscreen *ts = s->state;
    int cols_ = getmaxx(w);
    ui_tscreen_draw(s, w);
    /* The queue bar sits on the rule under the heading. */
    int x = 2;
    for (size_t q = 0; q < N_QUEUES; q++) {
        char label[32];
        snprintf(label, sizeof label, " %s 0 ", queues[q]);
        int lw = ui_text_width(label);
        if (x + lw >= cols_)
            break;
        ui_put(w, 1, x, label, lw, UI_ALIGN_LEFT,
               q == ts->view ? UI_ROLE_TAB_CURRENT : UI_ROLE_TAB);
        x += lw + 1;
    }
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    ui_tscreen *ts = s->state;
    switch (ev->action) {
    case UI_ACT_QUEUE_NEXT:
        ts->view = (ts->view + 1) % N_QUEUES;
        ui_table_reset(&ts->table);
        return UI_REDRAW;
    case UI_ACT_QUEUE_PREV:
        ts->view = (ts->view + N_QUEUES - 1) % N_QUEUES;
        ui_table_reset(&ts->table);
        return UI_REDRAW;
    default:
        break;
    }
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    return ui_not_in_build(s, ev->action);
}

static void status(ui_screen *s, char *buf, size_t cap)
{
    ui_tscreen *ts = s->state;
    char rest[128];
    ui_tscreen_status(s, rest, sizeof rest);
    snprintf(buf, cap, "queue %s, %s", queues[ts->view], rest);
}

const ui_screen_ops ui_scr_compliance = {
    .topics = UI_TOPIC_COMPLIANCE | UI_TOPIC_ENTITIES,
    .open = open_,
    .close = ui_tscreen_close,
    .draw = draw,
    .handle = handle,
    .status = status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
