/* scr_keys.c: screen 6, Keys. The desk's key store (label, address, created, lock
 * state); `u` asks for the passphrase with the no-echo prompt and unlocks the selected
 * key for this process, `l` locks it and wipes it from memory. Balances per chain need
 * the balance reader of the risk service, which is not in this build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "desk.h"
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Key", 8, 24, 0},
    {"Address", 12, 42, UI_COL_GROW},
    {"Created (UTC)", 10, 20, 0},
    {"State", 6, 10, 0},
};

static const ui_tscreen_desc desc = {
    "Keys",
    cols,
    sizeof cols / sizeof cols[0],
    "No keys: the key store of this desk is empty - see `fusion key import`",
    "keys",
};

typedef struct keys_state {
    ui_tscreen ts;
    ui_desk *desk;
    ks_entry *keys;
    size_t n;
    char error[256];
    addr pending; /* the key the passphrase prompt is for */
    ui_app *app;
} keys_state;

static size_t rows_count(void *ctx)
{
    keys_state *st = ctx;
    return st->n;
}

static bool unlocked(keys_state *st, size_t row)
{
    return st->desk && ui_desk_key(st->desk, &st->keys[row].address) != NULL;
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    keys_state *st = ctx;
    const ks_entry *k = &st->keys[row];
    char a[ADDR_STR_MAX];
    out[0] = '\0';
    switch (col) {
    case 0:
        snprintf(out, cap, "%s", k->label);
        break;
    case 1:
        addr_to_checksum(a, &k->address);
        snprintf(out, cap, "%s", a);
        break;
    case 2:
        snprintf(out, cap, "%s", k->created);
        break;
    case 3:
        snprintf(out, cap, "%s", unlocked(st, row) ? "unlocked" : "locked");
        break;
    default:
        break;
    }
}

static ui_role rows_role(void *ctx, size_t row)
{
    return unlocked(ctx, row) ? UI_ROLE_INFO : UI_ROLE_NORMAL;
}

static void load(keys_state *st)
{
    free(st->keys);
    st->keys = NULL;
    st->n = 0;
    st->error[0] = '\0';
    if (!st->desk)
        return;
    err e;
    err_clear(&e);
    if (keystore_list(st->desk->ks, &st->keys, &st->n, &e) < 0)
        snprintf(st->error, sizeof st->error, "%s", e.msg);
}

static int open_(ui_screen *s, err *e)
{
    keys_state *st = calloc(1, sizeof *st);
    if (!st)
        return err_set(e, ERR_NOMEM, "out of memory opening the Keys screen");
    st->desk = ui_app_desk(s->app);
    st->app = s->app;
    st->ts.d = &desc;
    ui_table_init(&st->ts.table, cols, sizeof cols / sizeof cols[0],
                  (ui_rows){rows_count, rows_cell, NULL, rows_role, st});
    load(st);
    s->state = st;
    return 0;
}

static void close_(ui_screen *s)
{
    keys_state *st = s->state;
    if (!st)
        return;
    free(st->keys);
    ui_table_free(&st->ts.table);
    free(st);
    s->state = NULL;
}

static void draw(ui_screen *s, WINDOW *w)
{
    keys_state *st = s->state;
    int rows, wcols;
    getmaxyx(w, rows, wcols);
    size_t n_unlocked = 0;
    for (size_t i = 0; i < st->n; i++)
        n_unlocked += unlocked(st, i);
    char note[128], num[32];
    snprintf(note, sizeof note, "%s keys, %zu unlocked", ui_fmt_count(st->n, num, sizeof num),
             n_unlocked);
    ui_heading_draw(w, 0, "Keys", note);
    ui_table_draw(&st->ts.table, w, 2, 1, rows - 2, wcols - 2,
                  st->error[0] ? st->error : desc.empty);
}

static unsigned on_passphrase(void *arg, const char *pass, size_t len)
{
    keys_state *st = arg;
    char a[ADDR_STR_MAX];
    addr_to_checksum(a, &st->pending);
    if (!pass) {
        ui_message(st->app, UI_MSG_INFO, "unlock cancelled; %s stays locked", a);
        return UI_REDRAW;
    }
    err e;
    err_clear(&e);
    if (ui_desk_unlock(st->desk, &st->pending, pass, &e) < 0) {
        ui_message(st->app, UI_MSG_ERROR, "%s", e.msg);
        return UI_REDRAW;
    }
    ui_message(st->app, UI_MSG_INFO, "%s unlocked; it locks itself after %d s idle", a,
               KS_IDLE_DEFAULT);
    return UI_REDRAW;
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    keys_state *st = s->state;
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    size_t row;
    if (!st->desk || !ui_table_selected(&st->ts.table, &row))
        return ui_not_in_build(s, ev->action);
    const ks_entry *k = &st->keys[row];
    char a[ADDR_STR_MAX];
    addr_to_checksum(a, &k->address);
    err e;
    err_clear(&e);
    switch (ev->action) {
    case UI_ACT_KEY_UNLOCK: {
        if (unlocked(st, row)) {
            ui_message(s->app, UI_MSG_INFO, "%s is unlocked already (l locks it)", k->label);
            return UI_OK;
        }
        st->pending = k->address;
        char prompt[160];
        snprintf(prompt, sizeof prompt, "Passphrase for %s:", k->label);
        if (ui_passphrase_open(s->app, "Unlock key", prompt, on_passphrase, st, &e) < 0)
            ui_message(s->app, UI_MSG_ERROR, "%s", e.msg);
        return UI_REDRAW;
    }
    case UI_ACT_KEY_LOCK:
        if (ui_desk_lock(st->desk, &k->address))
            ui_message(s->app, UI_MSG_INFO, "%s locked and wiped from memory", k->label);
        else
            ui_message(s->app, UI_MSG_INFO, "%s was not unlocked", k->label);
        return UI_REDRAW;
    case UI_ACT_OPEN:
        ui_message(s->app, UI_MSG_INFO, "%s  %s  created %s", k->label, a, k->created);
        return UI_OK;
    default:
        return ui_not_in_build(s, ev->action);
    }
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    load(s->state);
    return UI_REDRAW;
}

static unsigned tick(ui_screen *s, time_t now)
{
    /* Keys appear from `fusion key import` in another terminal. */
    keys_state *st = s->state;
    size_t before = st->n;
    load(st);
    return st->n != before ? UI_REDRAW : UI_OK;
}

const ui_screen_ops ui_scr_keys = {
    .topics = UI_TOPIC_KEYS,
    .open = open_,
    .close = close_,
    .draw = draw,
    .handle = handle,
    .changed = changed,
    .tick = tick,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
