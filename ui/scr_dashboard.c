/* scr_dashboard.c: screen 1, Dashboard: portfolio by asset and chain, the risk figures
 * (VaR/ES, credit line, health factor) and the live alert list. Navigation and `a`
 * (acknowledge) act on the alerts. Until the risk service lands, the panels show their
 * shape and say why they are empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column portfolio_cols[] = {
    {"Asset", 5, 10, 0},
    {"Chain", 5, 12, 0},
    {"Balance", 8, 24, UI_COL_RIGHT},
    {"Price USD", 9, 14, UI_COL_RIGHT},
    {"Value USD", 9, 16, UI_COL_RIGHT},
    {"7d", 7, 14, UI_COL_GROW},
};

static const ui_column alert_cols[] = {
    {"Time (UTC)", 10, 19, 0},
    {"Severity", 8, 8, 0},
    {"Alert", 10, 0, UI_COL_GROW},
};

typedef struct dash {
    ui_table portfolio;
    ui_table alerts;
    char filter[UI_FILTER_MAX];
} dash;

static int open_(ui_screen *s, err *e)
{
    dash *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(e, ERR_NOMEM, "out of memory opening the Dashboard");
    ui_table_init(&d->portfolio, portfolio_cols, sizeof portfolio_cols / sizeof portfolio_cols[0],
                  ui_rows_none());
    ui_table_init(&d->alerts, alert_cols, sizeof alert_cols / sizeof alert_cols[0], ui_rows_none());
    s->state = d;
    return 0;
}

static void close_(ui_screen *s)
{
    dash *d = s->state;
    if (!d)
        return;
    ui_table_free(&d->portfolio);
    ui_table_free(&d->alerts);
    free(d);
    s->state = NULL;
}

static void draw(ui_screen *s, WINDOW *w)
{
    dash *d = s->state;
    int rows, cols;
    getmaxyx(w, rows, cols);
    ui_heading_draw(w, 0, "Dashboard", "portfolio across all chains");
    /* Portfolio gets the top half, the risk strip two lines, alerts the rest. */
    int avail = rows - 2;
    int port_h = (avail - 3) / 2;
    if (port_h < 3)
        port_h = 3;
    ui_table_draw(&d->portfolio, w, 2, 1, port_h, cols - 2,
                  "No positions: no chain is configured on this desk - see `fusion chain add`");
    int y = 2 + port_h;
    ui_put(w, y, 1, "VaR 99% 1d: -   ES 97.5% 1d: -   Credit line: -   LTV: -   Health factor: -",
           cols - 2, UI_ALIGN_LEFT, UI_ROLE_NORMAL);
    ui_hline(w, y + 1, 0, cols, UI_ROLE_BORDER);
    char label[UI_FILTER_MAX + 32];
    if (d->filter[0])
        snprintf(label, sizeof label, "Alerts matching /%s", d->filter);
    else
        snprintf(label, sizeof label, "Alerts");
    ui_put(w, y + 1, 2, label, ui_text_width(label), UI_ALIGN_LEFT, UI_ROLE_HEADER);
    ui_table_draw(&d->alerts, w, y + 2, 1, rows - (y + 2), cols - 2,
                  "No alerts: limits and margin alerts appear here as they fire");
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    dash *d = s->state;
    unsigned r = ui_table_nav(&d->alerts, ev->action);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    return ui_not_in_build(s, ev->action);
}

static void status(ui_screen *s, char *buf, size_t cap)
{
    dash *d = s->state;
    size_t row;
    char a[32], b[32];
    if (ui_table_selected(&d->alerts, &row))
        snprintf(buf, cap, "alerts %s/%s", ui_fmt_count(row + 1, a, sizeof a),
                 ui_fmt_count(ui_table_count(&d->alerts), b, sizeof b));
    else
        snprintf(buf, cap, "no alerts");
}

static bool selected(ui_screen *s)
{
    dash *d = s->state;
    return ui_table_selected(&d->alerts, NULL);
}

static unsigned filter_(ui_screen *s, const char *text)
{
    dash *d = s->state;
    if (strcmp(d->filter, text) == 0)
        return UI_OK;
    snprintf(d->filter, sizeof d->filter, "%s", text);
    if (d->alerts.rows.filter)
        d->alerts.rows.filter(d->alerts.rows.ctx, d->filter);
    ui_table_reset(&d->alerts);
    return UI_REDRAW;
}

const ui_screen_ops ui_scr_dashboard = {
    .topics = UI_TOPIC_RISK | UI_TOPIC_ESCROWS | UI_TOPIC_KEYS | UI_TOPIC_CHAINS,
    .open = open_,
    .close = close_,
    .draw = draw,
    .handle = handle,
    .status = status,
    .selected = selected,
    .filter = filter_,
};
