/* form.c: the form widget (see form.h): a line editor per field, focus, and the one-line
 * complaint about the focused field. */
#include "form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineedit.h"
#include "terminal.h"
#include "text.h"

#define FORM_FIELD_COLS 46

struct ui_form {
    char title[128];
    const ui_form_field *fields;
    size_t n;
    ui_form_check_fn check;
    void *arg;
    ui_lineedit le[UI_FORM_MAX_FIELDS];
    char value[UI_FORM_MAX_FIELDS][UI_FORM_VALUE_MAX];
    size_t focus;
    char why[ERR_MSG_MAX]; /* "" or what is wrong, naming the field */
    int label_w;
};

static void sync_value(ui_form *f, size_t i)
{
    ui_lineedit_text(&f->le[i], f->value[i], sizeof f->value[i]);
}

int ui_form_new(ui_form **out, const char *title, const ui_form_field *fields, size_t n,
                ui_form_check_fn check, void *arg, err *e)
{
    *out = NULL;
    if (n == 0 || n > UI_FORM_MAX_FIELDS)
        return err_set(e, ERR_INVALID, "a form has 1 to %d fields", UI_FORM_MAX_FIELDS);
    ui_form *f = calloc(1, sizeof *f);
    if (!f)
        return err_set(e, ERR_NOMEM, "out of memory opening a form");
    snprintf(f->title, sizeof f->title, "%s", title);
    f->fields = fields;
    f->n = n;
    f->check = check;
    f->arg = arg;
    for (size_t i = 0; i < n; i++) {
        ui_lineedit_set(&f->le[i], fields[i].initial ? fields[i].initial : "");
        sync_value(f, i);
        int lw = ui_text_width(fields[i].label);
        if (lw > f->label_w)
            f->label_w = lw;
    }
    *out = f;
    return 0;
}

void ui_form_free(ui_form **p)
{
    if (!p || !*p)
        return;
    free(*p);
    *p = NULL;
}

const char *ui_form_value(const ui_form *f, size_t i)
{
    return i < f->n ? f->value[i] : "";
}

/* Checks field i; on a problem focuses it and says what is wrong. */
static bool check_field(ui_form *f, size_t i)
{
    char why[ERR_MSG_MAX - 64] = "";
    if (!f->check || f->check(f->arg, f, i, f->value[i], why, sizeof why))
        return true;
    f->focus = i;
    snprintf(f->why, sizeof f->why, "%s: %s", f->fields[i].label, why[0] ? why : "not valid");
    return false;
}

static void move_focus(ui_form *f, size_t to)
{
    /* Leaving a field checks it (what is wrong shows at once), but does not hold the
     * operator there: Enter and submit do. */
    f->why[0] = '\0';
    (void)check_field(f, f->focus);
    f->focus = to;
}

ui_form_state ui_form_key(ui_form *f, ui_key key)
{
    switch (key) {
    case '\t':
    case UI_K_DOWN:
        move_focus(f, (f->focus + 1) % f->n);
        return UI_FORM_MORE;
    case UI_K_BTAB:
    case UI_K_UP:
        move_focus(f, (f->focus + f->n - 1) % f->n);
        return UI_FORM_MORE;
    default:
        break;
    }
    ui_le_result r = ui_lineedit_key(&f->le[f->focus], key);
    switch (r) {
    case UI_LE_CANCEL:
        return UI_FORM_CANCEL;
    case UI_LE_ACCEPT:
        f->why[0] = '\0';
        if (!check_field(f, f->focus))
            return UI_FORM_MORE;
        if (f->focus + 1 < f->n) {
            f->focus++;
            return UI_FORM_MORE;
        }
        for (size_t i = 0; i < f->n; i++)
            if (!check_field(f, i))
                return UI_FORM_MORE;
        return UI_FORM_SUBMIT;
    case UI_LE_CHANGED:
        sync_value(f, f->focus);
        f->why[0] = '\0';
        return UI_FORM_MORE;
    default:
        return UI_FORM_MORE;
    }
}

void ui_form_size(const ui_form *f, int *h, int *w)
{
    /* border, blank, fields, blank, hint, complaint, keys, border */
    *h = (int)f->n + 7;
    int content = f->label_w + 3 + FORM_FIELD_COLS;
    int tw = ui_text_width(f->title) + 6;
    if (tw > content)
        content = tw;
    *w = content + 4;
}

void ui_form_draw(const ui_form *f, WINDOW *w, int *cy, int *cx)
{
    int h, wd;
    getmaxyx(w, h, wd);
    wattrset(w, A_NORMAL);
    werase(w);
    ui_box(w, UI_ROLE_BORDER);
    char title[160];
    snprintf(title, sizeof title, " %s ", f->title);
    int tw = ui_text_width(title);
    ui_put(w, 0, 2, title, wd - 4 < tw ? wd - 4 : tw, UI_ALIGN_LEFT, UI_ROLE_HEADER);
    int lx = 2, vx = 2 + 2 + f->label_w + 1;
    int vw = wd - vx - 2;
    if (vw < 4)
        vw = 4;
    *cy = 2;
    *cx = vx;
    for (size_t i = 0; i < f->n && 2 + (int)i < h - 5; i++) {
        int y = 2 + (int)i;
        bool focused = i == f->focus;
        char label[160];
        snprintf(label, sizeof label, "%s %s", focused ? ">" : " ", f->fields[i].label);
        ui_put(w, y, lx, label, f->label_w + 2, UI_ALIGN_LEFT,
               focused ? UI_ROLE_HEADER : UI_ROLE_NORMAL);
        char text[UI_FORM_VALUE_MAX];
        int col = ui_lineedit_window(&f->le[i], vw, text, sizeof text);
        ui_put(w, y, vx, text, vw, UI_ALIGN_LEFT, focused ? UI_ROLE_SELECTED : UI_ROLE_NORMAL);
        if (focused) {
            *cy = y;
            *cx = vx + col;
        }
    }
    const char *hint = f->fields[f->focus].hint;
    if (hint)
        ui_put(w, h - 4, 2, hint, wd - 4, UI_ALIGN_LEFT, UI_ROLE_DIM);
    if (f->why[0])
        ui_put(w, h - 3, 2, f->why, wd - 4, UI_ALIGN_LEFT, UI_ROLE_ERROR);
    ui_put(w, h - 2, 2,
           f->n > 1 ? "Enter next/submit  Tab/Up/Down move  Esc cancel" : "Enter accept  Esc cancel",
           wd - 4, UI_ALIGN_LEFT, UI_ROLE_DIM);
}
