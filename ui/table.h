/* table.h: the virtualized table widget and its data-source interface. Rows come from a
 * ui_rows callback by index, so a table over a million escrows costs only the rows on
 * screen. Widths are measured in display columns (text.h) over the header and the
 * visible rows, and only grow while the data set stays the same, so scrolling does not
 * make columns jump. */
#ifndef FUSION_UI_TABLE_H
#define FUSION_UI_TABLE_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

#include "keymap.h"
#include "terminal.h"
#include "text.h"

#define UI_TABLE_MAX_COLS 16
#define UI_CELL_MAX 256

/* A screen's data source: the rows of one table. */
typedef struct ui_rows {
    size_t (*count)(void *ctx);
    /* Writes the text (UTF-8) of one cell into buf. */
    void (*cell)(void *ctx, size_t row, size_t col, char *buf, size_t cap);
    /* Optional: restricts the rows to those matching text ("" = all). */
    void (*filter)(void *ctx, const char *text);
    /* Optional: the role a row is drawn in (UI_ROLE_NORMAL by default). */
    ui_role (*role)(void *ctx, size_t row);
    void *ctx;
} ui_rows;

/* A row's identity (an escrow's chain and address, a case id) written into buf. */
typedef void (*ui_row_key_fn)(void *ctx, size_t row, char *buf, size_t cap);

#define UI_ROW_KEY_MAX 96
/* How far from its last position a row is looked for when the data changed. */
#define UI_TABLE_FOLLOW_MAX 512

/* A source with no rows (a desk service that does not exist yet). */
ui_rows ui_rows_none(void);

typedef struct ui_table {
    const ui_column *cols;
    size_t ncols;
    ui_rows rows;
    size_t top, cur; /* first visible row, selected row */
    int page;        /* data rows visible at the last draw */
    int natural[UI_TABLE_MAX_COLS];
    int sort_col;   /* the column the rows are sorted by (its header gets ▲ or ▼); -1: none */
    bool sort_desc; /* ...descending */
    char *cells; /* scratch: page * ncols cells of UI_CELL_MAX */
    size_t cells_cap;
    /* The identity of the selected row (rows.key), so that the selection is a row, not a
     * row number: what an action key acts on never changes under the cursor. */
    ui_row_key_fn key; /* optional (ui_table_set_key) */
    char sel_key[UI_ROW_KEY_MAX];
    bool has_sel;
} ui_table;

void ui_table_init(ui_table *t, const ui_column *cols, size_t ncols, ui_rows rows);
void ui_table_free(ui_table *t);
/* Makes the selection follow the row's identity (key of the rows' ctx): the cursor and
 * what an action acts on stay on that row when rows are inserted or removed above it. */
void ui_table_set_key(ui_table *t, ui_row_key_fn key);
/* The data set changed (new filter): back to the top, widths measured afresh. */
void ui_table_reset(ui_table *t);
size_t ui_table_count(const ui_table *t);
/* True and *row set when a row is selected: the row the cursor was on, followed by its
 * identity when the data changed since (rows inserted above move it down). */
bool ui_table_selected(ui_table *t, size_t *row);
/* Moves the cursor to the row whose identity is key (searched whole when it is not near);
 * false when no row has it. */
bool ui_table_select_key(ui_table *t, const char *key);
/* Draws the header and the visible rows in the h x w area at (y, x) of win; with no
 * rows, `empty` on the first row instead. */
void ui_table_draw(ui_table *t, WINDOW *win, int y, int x, int h, int w, const char *empty);
/* A navigation action (up, down, page, half page, top, bottom): UI_REDRAW if the view
 * moved, UI_OK if it could not, UI_UNHANDLED for other actions. */
unsigned ui_table_nav(ui_table *t, ui_action a);

#endif
