/* table.c: drawing and navigating a virtualized table (see table.h). */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "screen.h"

static size_t none_count(void *ctx)
{
    return 0;
}

static void none_cell(void *ctx, size_t row, size_t col, char *buf, size_t cap)
{
    if (cap)
        buf[0] = '\0';
}

ui_rows ui_rows_none(void)
{
    return (ui_rows){none_count, none_cell, NULL, NULL, NULL};
}

void ui_table_init(ui_table *t, const ui_column *cols, size_t ncols, ui_rows rows)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->ncols = ncols > UI_TABLE_MAX_COLS ? UI_TABLE_MAX_COLS : ncols;
    t->rows = rows;
    t->sort_col = -1;
    ui_table_reset(t);
}

void ui_table_free(ui_table *t)
{
    free(t->cells);
    t->cells = NULL;
    t->cells_cap = 0;
}

void ui_table_reset(ui_table *t)
{
    t->top = t->cur = 0;
    for (size_t c = 0; c < t->ncols; c++)
        t->natural[c] = ui_text_width(t->cols[c].title) + ((int)c == t->sort_col ? 2 : 0);
}

size_t ui_table_count(const ui_table *t)
{
    return t->rows.count(t->rows.ctx);
}

bool ui_table_selected(const ui_table *t, size_t *row)
{
    size_t n = ui_table_count(t);
    if (n == 0)
        return false;
    if (row)
        *row = t->cur < n ? t->cur : n - 1;
    return true;
}

/* Keeps cur inside the data and inside the visible window [top, top + page). */
static void clamp(ui_table *t, size_t n)
{
    size_t page = t->page > 0 ? (size_t)t->page : 1;
    if (n == 0) {
        t->top = t->cur = 0;
        return;
    }
    if (t->cur >= n)
        t->cur = n - 1;
    if (t->top > t->cur)
        t->top = t->cur;
    if (t->cur >= t->top + page)
        t->top = t->cur - page + 1;
    /* No empty space below the last row when the data could fill the page. */
    if (t->top + page > n)
        t->top = n > page ? n - page : 0;
}

static char *cell_at(ui_table *t, size_t i, size_t c)
{
    return t->cells + (i * t->ncols + c) * UI_CELL_MAX;
}

void ui_table_draw(ui_table *t, WINDOW *win, int y, int x, int h, int w, const char *empty)
{
    if (h < 1 || w < 1 || t->ncols == 0)
        return;
    size_t n = ui_table_count(t);
    t->page = h - 1;
    clamp(t, n);
    size_t visible = 0;
    if (t->page > 0 && n > 0)
        visible = n - t->top < (size_t)t->page ? n - t->top : (size_t)t->page;

    /* Fetch the visible cells once: they are measured and then drawn. */
    size_t need = visible * t->ncols * UI_CELL_MAX;
    if (need > t->cells_cap) {
        char *p = realloc(t->cells, need);
        if (!p) {
            visible = 0;
        } else {
            t->cells = p;
            t->cells_cap = need;
        }
    }
    for (size_t i = 0; i < visible; i++) {
        for (size_t c = 0; c < t->ncols; c++) {
            char *buf = cell_at(t, i, c);
            buf[0] = '\0';
            t->rows.cell(t->rows.ctx, t->top + i, c, buf, UI_CELL_MAX);
            buf[UI_CELL_MAX - 1] = '\0';
            int cw = ui_text_width(buf);
            if (cw > t->natural[c])
                t->natural[c] = cw;
        }
    }
    int widths[UI_TABLE_MAX_COLS];
    ui_columns_layout(t->cols, t->natural, t->ncols, w, 1, widths);

    /* Header. */
    wattrset(win, ui_attr(UI_ROLE_HEADER));
    mvwhline(win, y, x, ' ', w);
    int cx = x;
    for (size_t c = 0; c < t->ncols; c++) {
        if (widths[c] <= 0)
            continue;
        ui_align al = (t->cols[c].flags & UI_COL_RIGHT) ? UI_ALIGN_RIGHT : UI_ALIGN_LEFT;
        char title[96];
        snprintf(title, sizeof title, "%s%s%s", t->cols[c].title, (int)c == t->sort_col ? " " : "",
                 (int)c == t->sort_col ? (t->sort_desc ? ui_glyph()->down : ui_glyph()->up) : "");
        ui_put(win, y, cx, title, widths[c], al, UI_ROLE_HEADER);
        cx += widths[c] + 1;
    }
    wattrset(win, A_NORMAL);

    if (n == 0) {
        if (h > 1 && empty)
            ui_put(win, y + 1, x + 1, empty, w - 1, UI_ALIGN_LEFT, UI_ROLE_DIM);
        return;
    }
    for (size_t i = 0; i < visible; i++) {
        size_t row = t->top + i;
        ui_role role = row == t->cur
                           ? UI_ROLE_SELECTED
                           : (t->rows.role ? t->rows.role(t->rows.ctx, row) : UI_ROLE_NORMAL);
        int ry = y + 1 + (int)i;
        wattrset(win, ui_attr(role));
        mvwhline(win, ry, x, ' ', w);
        cx = x;
        for (size_t c = 0; c < t->ncols; c++) {
            if (widths[c] <= 0)
                continue;
            ui_align al = (t->cols[c].flags & UI_COL_RIGHT) ? UI_ALIGN_RIGHT : UI_ALIGN_LEFT;
            ui_put(win, ry, cx, cell_at(t, i, c), widths[c], al, role);
            cx += widths[c] + 1;
        }
        wattrset(win, A_NORMAL);
    }
}

unsigned ui_table_nav(ui_table *t, ui_action a)
{
    size_t n = ui_table_count(t);
    size_t page = t->page > 0 ? (size_t)t->page : 1;
    size_t half = page / 2 ? page / 2 : 1;
    size_t cur = t->cur, top = t->top;
    switch (a) {
    case UI_ACT_DOWN:
        if (n && t->cur + 1 < n)
            t->cur++;
        break;
    case UI_ACT_UP:
        if (t->cur > 0)
            t->cur--;
        break;
    case UI_ACT_PAGE_DOWN:
    case UI_ACT_HALF_DOWN: {
        size_t step = a == UI_ACT_PAGE_DOWN ? page : half;
        if (n == 0)
            break;
        t->cur = t->cur + step < n ? t->cur + step : n - 1;
        t->top += step; /* scroll the view too, as less and vi do; clamp() fixes the end */
        break;
    }
    case UI_ACT_PAGE_UP:
    case UI_ACT_HALF_UP: {
        size_t step = a == UI_ACT_PAGE_UP ? page : half;
        t->cur = t->cur > step ? t->cur - step : 0;
        t->top = t->top > step ? t->top - step : 0;
        break;
    }
    case UI_ACT_TOP:
        t->cur = t->top = 0;
        break;
    case UI_ACT_BOTTOM:
        if (n)
            t->cur = n - 1;
        break;
    default:
        return UI_UNHANDLED;
    }
    clamp(t, n);
    return (t->cur != cur || t->top != top) ? UI_REDRAW : UI_OK;
}
