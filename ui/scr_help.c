/* scr_help.c: the `?` help screen. Its rows are generated from UI_ACTIONS: one section
 * for the global actions, then one per screen, each row the keys, the `:` command and
 * the help text. It is a table screen like the others: it scrolls and `/` filters it. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Keys", 6, 14, 0},
    {"Command", 8, 12, 0},
    {"Action", 20, 0, UI_COL_GROW},
};

static const ui_tscreen_desc desc = {
    "Help: keys and commands",
    cols,
    sizeof cols / sizeof cols[0],
    "No action matches the filter (Esc clears it)",
    "lines",
};

#define MAX_ROWS 512

typedef struct help_row {
    int section;      /* UI_SECTION_ALL or a ui_screen_id */
    ui_action action; /* UI_ACT_NONE: the section's title row */
} help_row;

/* One help screen per process: the rows live here. */
static struct {
    help_row rows[MAX_ROWS];
    size_t n;
} help;

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static bool matches(ui_action a, const char *text)
{
    char keys[64];
    return contains_ci(ui_actions[a].command, text) || contains_ci(ui_actions[a].help, text) ||
           contains_ci(ui_action_keys(a, keys, sizeof keys), text);
}

static void build(const char *text)
{
    help.n = 0;
    for (int section = UI_SECTION_ALL; section < UI_SCREEN_COUNT; section++) {
        size_t title = help.n;
        bool any = false;
        if (help.n < MAX_ROWS)
            help.rows[help.n++] = (help_row){section, UI_ACT_NONE};
        for (int a = 1; a < UI_ACT_COUNT && help.n < MAX_ROWS; a++) {
            if (!ui_action_in_section((ui_action)a, section) || !matches((ui_action)a, text))
                continue;
            help.rows[help.n++] = (help_row){section, (ui_action)a};
            any = true;
        }
        if (!any)
            help.n = title; /* no title for an empty section */
    }
}

static size_t rows_count(void *ctx)
{
    return help.n;
}

static void rows_cell(void *ctx, size_t row, size_t col, char *buf, size_t cap)
{
    const help_row *r = &help.rows[row];
    buf[0] = '\0';
    if (r->action == UI_ACT_NONE) {
        if (col == 0)
            snprintf(buf, cap, "%s", ui_section_title(r->section));
        return;
    }
    if (col == 0)
        ui_action_keys(r->action, buf, cap);
    else if (col == 1)
        snprintf(buf, cap, ":%s", ui_actions[r->action].command);
    else
        snprintf(buf, cap, "%s", ui_actions[r->action].help);
}

static void rows_filter(void *ctx, const char *text)
{
    build(text);
}

static ui_role rows_role(void *ctx, size_t row)
{
    return help.rows[row].action == UI_ACT_NONE ? UI_ROLE_HEADER : UI_ROLE_NORMAL;
}

static int open_(ui_screen *s, err *e)
{
    build("");
    return ui_tscreen_open(s, &desc, (ui_rows){rows_count, rows_cell, rows_filter, rows_role, NULL},
                           e);
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    return ui_tscreen_handle(s, ev);
}

const ui_screen_ops ui_scr_help = {
    .topics = 0,
    .open = open_,
    .close = ui_tscreen_close,
    .draw = ui_tscreen_draw,
    .handle = handle,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
