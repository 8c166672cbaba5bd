/* scr_audit.c: screen 8, Audit. The desk's audit log (audit_list), newest first, with
 * the hash chain's verification status (audit_verify) in the heading; `v` verifies
 * again. Reloaded when the log file changes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit/audit.h"
#include "desk.h"
#include "desk/names.h"
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"#", 3, 10, UI_COL_RIGHT}, {"Time (UTC)", 20, 20, 0},      {"Operator", 8, 16, 0},
    {"Action", 6, 20, 0},       {"Subject", 8, 0, UI_COL_GROW},
};

static const ui_tscreen_desc desc = {
    "Audit",
    cols,
    sizeof cols / sizeof cols[0],
    "The audit log is empty: no operator action has been recorded on this desk yet",
    "entries",
};

typedef struct audit_entry {
    uint64_t seq;
    char *time, *op, *action, *subject;
} audit_entry;

typedef struct audit_state {
    ui_tscreen ts;
    ui_desk *desk;
    audit_entry *rows;
    size_t n, cap;
    char error[ERR_MSG_MAX];
    char verdict[ERR_MSG_MAX + AUDIT_PROBLEM_MAX + 64];
    bool broken;
    desk_names *names; /* the address book, while the log is read */
    size_t *ix;        /* the rows shown, newest first: those matching the filter */
    size_t n_shown;
} audit_state;

static bool row_matches(const audit_entry *a, const char *f)
{
    char seq[32];
    snprintf(seq, sizeof seq, "%llu", (unsigned long long)a->seq);
    return !f[0] || ui_match(seq, f) || ui_match(a->time, f) || ui_match(a->op, f) ||
           ui_match(a->action, f) || ui_match(a->subject, f);
}

/* The rows shown: every entry, newest first, that matches the screen's filter. */
static void apply_filter(audit_state *st)
{
    free(st->ix);
    st->n_shown = 0;
    st->ix = st->n ? malloc(st->n * sizeof *st->ix) : NULL;
    for (size_t i = 0; st->ix && i < st->n; i++)
        if (row_matches(&st->rows[st->n - 1 - i], st->ts.filter))
            st->ix[st->n_shown++] = st->n - 1 - i;
}

static void rows_filter(void *ctx, const char *text)
{
    (void)text; /* ts.filter holds it */
    apply_filter(ctx);
}

static void entries_free(audit_state *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->rows[i].time);
        free(st->rows[i].op);
        free(st->rows[i].action);
        free(st->rows[i].subject);
    }
    free(st->rows);
    st->rows = NULL;
    st->n = st->cap = 0;
}

static int on_row(void *ctx, const audit_row *row, err *e)
{
    audit_state *st = ctx;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        audit_entry *nr = realloc(st->rows, cap * sizeof *nr);
        if (!nr)
            return err_set(e, ERR_NOMEM, "out of memory reading the audit log");
        st->rows = nr;
        st->cap = cap;
    }
    audit_entry *a = &st->rows[st->n];
    a->seq = row->seq;
    a->time = strdup(row->time ? row->time : "");
    a->op = strdup(row->operator_name ? row->operator_name : "");
    a->action = strdup(row->action ? row->action : "");
    a->subject = row->details ? json_dumps(row->details, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!a->subject)
        a->subject = strdup("{}");
    char *named = a->subject ? ui_name_addresses(st->names, 0, a->subject) : NULL;
    if (named) { /* the addresses the address book knows, with their names */
        free(a->subject);
        a->subject = named;
    }
    if (!a->time || !a->op || !a->action || !a->subject) {
        free(a->time);
        free(a->op);
        free(a->action);
        free(a->subject);
        return err_set(e, ERR_NOMEM, "out of memory reading the audit log");
    }
    st->n++;
    return 0;
}

static size_t rows_count(void *ctx)
{
    audit_state *st = ctx;
    return st->n_shown;
}

static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    audit_state *st = ctx;
    out[0] = '\0';
    if (row < st->n_shown)
        snprintf(out, cap, "%llu", (unsigned long long)st->rows[st->ix[row]].seq);
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    audit_state *st = ctx;
    const audit_entry *a = &st->rows[st->ix[row]]; /* newest first */
    switch (col) {
    case 0:
        snprintf(out, cap, "%llu", (unsigned long long)a->seq);
        break;
    case 1: /* to the second: the log keeps the fraction */
        snprintf(out, cap, "%.19s%s", a->time, strlen(a->time) >= 19 ? "Z" : "");
        break;
    case 2:
        snprintf(out, cap, "%s", a->op);
        break;
    case 3:
        snprintf(out, cap, "%s", a->action);
        break;
    case 4:
        snprintf(out, cap, "%s", a->subject);
        break;
    default:
        out[0] = '\0';
        break;
    }
}

static void verify(audit_state *st)
{
    audit_report rep;
    err e;
    err_clear(&e);
    st->broken = false;
    if (audit_verify(st->desk->home, NULL, &rep, &e) < 0) {
        snprintf(st->verdict, sizeof st->verdict, "cannot verify: %s", e.msg);
        st->broken = true;
    } else if (rep.ok) {
        snprintf(st->verdict, sizeof st->verdict, "hash chain verified (%llu rows)",
                 (unsigned long long)rep.rows);
    } else {
        snprintf(st->verdict, sizeof st->verdict, "BROKEN at line %zu: %s", rep.bad_line,
                 rep.problem);
        st->broken = true;
    }
}

static void load(audit_state *st)
{
    entries_free(st);
    st->error[0] = '\0';
    if (!st->desk) {
        snprintf(st->verdict, sizeof st->verdict, "no desk");
        return;
    }
    err e;
    err_clear(&e);
    if (desk_names_load(&st->names, desk_snap_store(st->desk->snap), st->desk->ks, &e) < 0)
        st->names = NULL; /* addresses alone */
    err_clear(&e);
    if (audit_list(st->desk->home, on_row, st, &e) < 0)
        snprintf(st->error, sizeof st->error, "%s", e.msg);
    desk_names_free(&st->names);
    apply_filter(st);
    verify(st);
}

static int open_(ui_screen *s, err *e)
{
    audit_state *st =
        ui_tscreen_new(s, &desc, sizeof *st,
                       (ui_rows){rows_count, rows_cell, rows_filter, NULL, NULL}, rows_key, e);
    if (!st)
        return -1;
    st->desk = ui_app_desk(s->app);
    load(st);
    return 0;
}

static void close_(ui_screen *s)
{
    audit_state *st = s->state;
    if (!st)
        return;
    entries_free(st);
    free(st->ix);
    ui_tscreen_close(s);
}

static void draw(ui_screen *s, WINDOW *w)
{
    audit_state *st = s->state;
    int rows, wcols;
    getmaxyx(w, rows, wcols);
    char num[32], note[ERR_MSG_MAX + AUDIT_PROBLEM_MAX + 512];
    char shown[32];
    if (st->ts.filter[0])
        snprintf(note, sizeof note, "%s entries, %s matching /%.60s, %s",
                 ui_fmt_count(st->n, num, sizeof num), ui_fmt_count(st->n_shown, shown, sizeof shown),
                 st->ts.filter, st->verdict);
    else
        snprintf(note, sizeof note, "%s entries, %s", ui_fmt_count(st->n, num, sizeof num),
                 st->verdict);
    ui_heading_draw(w, 0, "Audit", note);
    if (st->broken)
        ui_put(w, 0, 10, "TAMPERED OR DAMAGED", 19, UI_ALIGN_LEFT, UI_ROLE_ERROR);
    ui_table_draw(&st->ts.table, w, 2, 1, rows - 2, wcols - 2,
                  st->error[0] ? st->error : desc.empty);
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    audit_state *st = s->state;
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    if (ev->action == UI_ACT_AUDIT_VERIFY && st->desk) {
        verify(st);
        ui_message(s->app, st->broken ? UI_MSG_ERROR : UI_MSG_INFO, "audit log: %s", st->verdict);
        return UI_REDRAW;
    }
    if (ev->action == UI_ACT_OPEN) {
        size_t row;
        if (ui_table_selected(&st->ts.table, &row) && row < st->n_shown) {
            const audit_entry *a = &st->rows[st->ix[row]];
            ui_message(s->app, UI_MSG_INFO, "#%llu %s %s", (unsigned long long)a->seq, a->action,
                       a->subject);
        }
        return UI_OK;
    }
    return ui_not_in_build(s, ev->action);
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    load(s->state);
    return UI_REDRAW;
}

const ui_screen_ops ui_scr_audit = {
    .topics = UI_TOPIC_AUDIT,
    .open = open_,
    .close = close_,
    .draw = draw,
    .handle = handle,
    .changed = changed,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
