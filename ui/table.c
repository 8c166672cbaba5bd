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

void ui_table_set_key(ui_table *t, ui_row_key_fn key)
{
    t->key = key;
    t->has_sel = false;
}

void ui_table_reset(ui_table *t)
{
    t->top = t->cur = 0;
    t->has_sel = false;
    for (size_t c = 0; c < t->ncols; c++)
        t->natural[c] = ui_text_width(t->cols[c].title) + ((int)c == t->sort_col ? 2 : 0);
}

size_t ui_table_count(const ui_table *t)
{
    return t->rows.count(t->rows.ctx);
}

static void key_at(const ui_table *t, size_t row, char *buf)
{
    buf[0] = '\0';
    t->key(t->rows.ctx, row, buf, UI_ROW_KEY_MAX);
    buf[UI_ROW_KEY_MAX - 1] = '\0';
}

/* Remembers the identity of the row under the cursor. */
static void remember(ui_table *t, size_t n)
{
    if (!t->key || n == 0) {
        t->has_sel = false;
        return;
    }
    key_at(t, t->cur < n ? t->cur : n - 1, t->sel_key);
    t->has_sel = t->sel_key[0] != '\0';
}

/* Puts the cursor back on the remembered row after the data changed: looked for near its
 * old place first (rows inserted or removed above it), the view scrolled with it so it
 * stays where it was on screen. A row that is gone leaves the cursor where it was, on the
 * row now there, which becomes the selection. */
static void follow(ui_table *t, size_t n)
{
    if (!t->key || !t->has_sel || n == 0)
        return;
    char k[UI_ROW_KEY_MAX];
    size_t cur = t->cur < n ? t->cur : n - 1;
    key_at(t, cur, k);
    if (strcmp(k, t->sel_key) == 0) {
        t->cur = cur;
        return;
    }
    for (size_t d = 1; d <= UI_TABLE_FOLLOW_MAX; d++) {
        bool below = cur + d < n, above = d <= cur;
        if (!below && !above)
            break;
        for (int side = 0; side < 2; side++) {
            size_t r;
            if (side == 0 && below)
                r = cur + d;
            else if (side == 1 && above)
                r = cur - d;
            else
                continue;
            key_at(t, r, k);
            if (strcmp(k, t->sel_key) != 0)
                continue;
            if (r > cur)
                t->top += r - cur;
            else
                t->top = t->top > cur - r ? t->top - (cur - r) : 0;
            t->cur = r;
            return;
        }
    }
    t->cur = cur;
    remember(t, n);
}

bool ui_table_selected(ui_table *t, size_t *row)
{
    size_t n = ui_table_count(t);
    if (n == 0)
        return false;
    follow(t, n);
    if (row)
        *row = t->cur < n ? t->cur : n - 1;
    return true;
}

bool ui_table_select_key(ui_table *t, const char *key)
{
    size_t n = ui_table_count(t);
    if (!t->key || !key[0])
        return false;
    char k[UI_ROW_KEY_MAX];
    for (size_t r = 0; r < n; r++) {
        key_at(t, r, k);
        if (strcmp(k, key) == 0) {
            t->cur = r;
            remember(t, n);
            return true;
        }
    }
    return false;
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
    follow(t, n);
    clamp(t, n);
    remember(t, n);
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
    follow(t, n);
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
    remember(t, n);
    return (t->cur != cur || t->top != top) ? UI_REDRAW : UI_OK;
}
