/* tscreen.h: the common shape of a table screen (a heading, a rule, one virtualized table
 * with its empty state, navigation and filtering), so each desk screen is a descriptor
 * plus its own actions. */
#ifndef FUSION_UI_TSCREEN_H
#define FUSION_UI_TSCREEN_H

#include <stdint.h>

#include "screen.h"
#include "table.h"

struct desk_names;

#define UI_FILTER_MAX 256

typedef struct ui_tscreen_desc {
    const char *heading;   /* "Escrows" */
    const ui_column *cols; /* the table's columns */
    size_t ncols;
    const char *empty; /* the honest empty state: why there are no rows, what to do */
    const char *noun;  /* plural, for the status line: "escrows" */
} ui_tscreen_desc;

typedef struct ui_tscreen {
    const ui_tscreen_desc *d;
    ui_table table;
    char filter[UI_FILTER_MAX];
    size_t view; /* for screens with sub-views (the compliance queues) */
} ui_tscreen;

/* Allocates s->state as a ui_tscreen over rows. */
int ui_tscreen_open(ui_screen *s, const ui_tscreen_desc *d, ui_rows rows, err *e);
/* Allocates s->state as a screen's own state, size bytes zeroed, whose first member is a
 * ui_tscreen: its table over rows (rows.ctx becomes the state) with key (NULL: none).
 * Returns the state, NULL with e set when out of memory. */
void *ui_tscreen_new(ui_screen *s, const ui_tscreen_desc *d, size_t size, ui_rows rows,
                     ui_row_key_fn key, err *e);
/* Frees s->state of either opener (a screen frees its own members first). */
void ui_tscreen_close(ui_screen *s);
/* Heading and rule on the first two lines, the table below. */
void ui_tscreen_draw(ui_screen *s, WINDOW *w);
/* Navigation; other actions are UI_UNHANDLED. */
unsigned ui_tscreen_handle(ui_screen *s, const ui_event *ev);
void ui_tscreen_status(ui_screen *s, char *buf, size_t cap);
bool ui_tscreen_selected(ui_screen *s);
unsigned ui_tscreen_filter(ui_screen *s, const char *text);
/* Draws a heading line with a right-aligned note, and a rule below it. */
void ui_heading_draw(WINDOW *w, int y, const char *heading, const char *note);
/* Formats n with thousands separators ("1,000,000"). */
const char *ui_fmt_count(size_t n, char *buf, size_t cap);
/* Case-insensitive substring match for the `/` filters ("" matches everything). */
bool ui_match(const char *hay, const char *needle);
/* Rows of the table when a detail pane shares a body `rows` high (a third, at least 4). */
int ui_detail_table_rows(int rows);
/* The detail pane from line y down: a rule with the title (NULL: none), then the lines;
 * section titles (lines in capitals) in the header role. */
void ui_detail_draw(WINDOW *w, int y, const char *title, char *const *lines, size_t n);
/* Draws t from line 2 down: over the whole body, or with pane over the top of it
 * (ui_detail_table_rows). Returns the line the detail pane starts at. */
int ui_table_draw_body(ui_table *t, WINDOW *w, bool pane, const char *empty);
/* Appends one malloc'ed line of a detail pane (dropped when out of memory: the pane shows
 * the rest). */
void ui_lines_add(char ***lines, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Frees the lines and the array, and clears both. */
void ui_lines_free(char ***lines, size_t *n);
/* The message for a screen action whose desk service is not in this build. */
unsigned ui_not_in_build(ui_screen *s, ui_action a);

/* line with every address in it ("0x" and 40 hex digits) that the address book knows
 * written as "Name 0xChecksummed" (chain_id 0: a name on any chain), unless the name
 * stands before it already; malloc'ed, NULL when nothing changed (or out of memory). */
char *ui_name_addresses(const struct desk_names *names, uint64_t chain_id, const char *line);

#endif
