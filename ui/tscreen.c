/* tscreen.c: the shared table-screen behaviour (see tscreen.h). */
#include "tscreen.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "desk/names.h"

int ui_tscreen_open(ui_screen *s, const ui_tscreen_desc *d, ui_rows rows, err *e)
{
    ui_tscreen *ts = calloc(1, sizeof *ts);
    if (!ts)
        return err_set(e, ERR_NOMEM, "out of memory opening the %s screen", d->heading);
    ts->d = d;
    ui_table_init(&ts->table, d->cols, d->ncols, rows);
    s->state = ts;
    return 0;
}

void *ui_tscreen_new(ui_screen *s, const ui_tscreen_desc *d, size_t size, ui_rows rows,
                     ui_row_key_fn key, err *e)
{
    ui_tscreen *ts = calloc(1, size);
    if (!ts) {
        err_set(e, ERR_NOMEM, "out of memory opening the %s screen", d->heading);
        return NULL;
    }
    ts->d = d;
    rows.ctx = ts;
    ui_table_init(&ts->table, d->cols, d->ncols, rows);
    if (key)
        ui_table_set_key(&ts->table, key);
    s->state = ts;
    return ts;
}

void ui_tscreen_close(ui_screen *s)
{
    ui_tscreen *ts = s->state;
    if (!ts)
        return;
    ui_table_free(&ts->table);
    free(ts);
    s->state = NULL;
}

const char *ui_fmt_count(size_t n, char *out, size_t cap)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%zu", n);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
    return out;
}

void ui_heading_draw(WINDOW *w, int y, const char *heading, const char *note)
{
    int cols = getmaxx(w);
    int nw = note ? ui_text_width(note) : 0;
    if (nw > cols / 2)
        nw = cols / 2;
    ui_put(w, y, 1, heading, cols - nw - 3, UI_ALIGN_LEFT, UI_ROLE_HEADER);
    if (nw > 0)
        ui_put(w, y, cols - nw - 1, note, nw, UI_ALIGN_RIGHT, UI_ROLE_DIM);
    ui_hline(w, y + 1, 0, cols, UI_ROLE_BORDER);
}

void ui_tscreen_draw(ui_screen *s, WINDOW *w)
{
    ui_tscreen *ts = s->state;
    int rows, cols;
    getmaxyx(w, rows, cols);
    char note[UI_FILTER_MAX + 64], num[32];
    size_t n = ui_table_count(&ts->table);
    if (ts->filter[0])
        snprintf(note, sizeof note, "%s %s matching /%s", ui_fmt_count(n, num, sizeof num),
                 ts->d->noun, ts->filter);
    else
        snprintf(note, sizeof note, "%s %s", ui_fmt_count(n, num, sizeof num), ts->d->noun);
    ui_heading_draw(w, 0, ts->d->heading, note);
    ui_table_draw(&ts->table, w, 2, 1, rows - 2, cols - 2, ts->d->empty);
}

unsigned ui_tscreen_handle(ui_screen *s, const ui_event *ev)
{
    ui_tscreen *ts = s->state;
    return ui_table_nav(&ts->table, ev->action);
}

void ui_tscreen_status(ui_screen *s, char *out, size_t cap)
{
    ui_tscreen *ts = s->state;
    size_t n = ui_table_count(&ts->table), row;
    char a[32], b[32];
    if (ui_table_selected(&ts->table, &row))
        snprintf(out, cap, "%s %s/%s", ts->d->noun, ui_fmt_count(row + 1, a, sizeof a),
                 ui_fmt_count(n, b, sizeof b));
    else
        snprintf(out, cap, "no %s", ts->d->noun);
}

bool ui_tscreen_selected(ui_screen *s)
{
    ui_tscreen *ts = s->state;
    return ui_table_selected(&ts->table, NULL);
}

unsigned ui_tscreen_filter(ui_screen *s, const char *text)
{
    ui_tscreen *ts = s->state;
    if (strcmp(ts->filter, text) == 0)
        return UI_OK;
    snprintf(ts->filter, sizeof ts->filter, "%s", text);
    if (ts->table.rows.filter)
        ts->table.rows.filter(ts->table.rows.ctx, ts->filter);
    ui_table_reset(&ts->table);
    return UI_REDRAW;
}

unsigned ui_not_in_build(ui_screen *s, ui_action a)
{
    ui_message(s->app, UI_MSG_ERROR, "%s: the %s service is not part of this build yet",
               ui_actions[a].command, ui_screen_title(s->id));
    return UI_OK;
}

bool ui_match(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return true;
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return false;
}

int ui_detail_table_rows(int rows)
{
    return (rows - 2) / 3 > 4 ? (rows - 2) / 3 : 4;
}

static bool section_title(const char *l)
{
    bool letter = false;
    for (; *l; l++) {
        if (islower((unsigned char)*l) || (!isupper((unsigned char)*l) && *l != ' '))
            return false;
        letter |= isupper((unsigned char)*l) != 0;
    }
    return letter;
}

void ui_detail_draw(WINDOW *w, int y, const char *title, char *const *lines, size_t n)
{
    int rows, wcols;
    getmaxyx(w, rows, wcols);
    ui_hline(w, y, 0, wcols, UI_ROLE_BORDER);
    if (title)
        ui_put(w, y, 2, title, ui_text_width(title), UI_ALIGN_LEFT, UI_ROLE_HEADER);
    y++;
    /* A long line wraps (a note is read whole, not cut): its continuation lines are
     * indented past the line's own indent. */
    int width = wcols - 2;
    for (size_t i = 0; i < n && y < rows; i++, y++) {
        ui_role role = section_title(lines[i]) ? UI_ROLE_HEADER : UI_ROLE_NORMAL;
        const char *p = lines[i];
        int indent = (int)strspn(p, " ") + 4;
        if (indent > width / 2)
            indent = width / 2;
        char piece[UI_CELL_MAX * 4];
        for (bool first = true; y < rows; first = false, y++) {
            int room = first ? width : width - indent;
            size_t k = ui_text_break(p, room);
            if (k >= sizeof piece)
                k = sizeof piece - 1;
            memcpy(piece, p, k);
            piece[k] = '\0';
            ui_put(w, y, first ? 1 : 1 + indent, piece, room, UI_ALIGN_LEFT, role);
            p += k;
            while (*p == ' ')
                p++;
            if (!*p)
                break;
        }
    }
}

int ui_table_draw_body(ui_table *t, WINDOW *w, bool pane, const char *empty)
{
    int rows, wcols;
    getmaxyx(w, rows, wcols);
    int th = pane ? ui_detail_table_rows(rows) : rows - 2;
    ui_table_draw(t, w, 2, 1, th, wcols - 2, empty);
    return 2 + th;
}

void ui_lines_add(char ***lines, size_t *n, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char **grown = realloc(*lines, (*n + 1) * sizeof *grown);
    if (!grown)
        return;
    *lines = grown;
    if ((grown[*n] = strdup(text)) != NULL)
        (*n)++;
}

void ui_lines_free(char ***lines, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*lines)[i]);
    free(*lines);
    *lines = NULL;
    *n = 0;
}

char *ui_name_addresses(const desk_names *names, uint64_t chain_id, const char *line)
{
    char out[2048];
    size_t o = 0;
    bool changed = false;
    if (strlen(line) > 1024)
        return NULL; /* the pane shows the first columns of it anyway */
    for (const char *p = line; *p && o + 1 < sizeof out;) {
        addr a;
        err e;
        char hex[ADDR_STR_MAX];
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
            strspn(p + 2, "0123456789abcdefABCDEF") == 40) {
            memcpy(hex, p, 42);
            hex[42] = '\0';
            const char *who =
                addr_parse(&a, hex, &e) == 0 ? desk_names_of(names, chain_id, &a) : NULL;
            size_t wl = who ? strlen(who) : 0;
            bool already = who && (size_t)(p - line) >= wl + 1 && p[-1] == ' ' &&
                           strncmp(p - wl - 1, who, wl) == 0;
            if (who && !already) {
                char lab[STORE_ENTITY_NAME_MAX + ADDR_STR_MAX + 8];
                desk_names_label(lab, sizeof lab, names, chain_id, &a);
                int k = snprintf(out + o, sizeof out - o, "%s", lab);
                o = k > 0 && (size_t)k < sizeof out - o ? o + (size_t)k : sizeof out - 1;
                p += 42;
                changed = true;
                continue;
            }
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return changed ? strdup(out) : NULL;
}
