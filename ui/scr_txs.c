/* scr_txs.c: screen 0, Outbound: the outbound transactions. Every outbound transaction the desk signed (the
 * store's outbound table, newest first): pending, sent, mined, confirmed, failed, dropped,
 * replaced. `c` checks every transaction in flight (desk_tx_check: mined ones marked, lost
 * ones re-sent, one whose nonce another transaction took is said to be replaced), `S`
 * speeds up and `X` cancels the selected one (desk_tx_replace: the same nonce, higher
 * fees), on the worker of job.h like the escrow actions. Enter puts the whole row on the
 * message line. Read whole from the store on each change: a desk's own sends. On a desk
 * whose book is on a server (book.conf) the list is the server's (every workstation's, as
 * `fusion tx list`), read by a worker of the screen on its own store (bookwork.h), so a
 * server away never holds the loop: the rows shown stay, the status line says why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/log.h"
#include "bookwork.h"
#include "desk.h"
#include "desk/names.h"
#include "job.h"
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Tx", 2, 6, UI_COL_RIGHT},   {"Chain", 5, 12, 0},  {"Action", 6, 12, 0},
    {"Escrow", 6, 0, UI_COL_GROW}, {"Nonce", 5, 7, UI_COL_RIGHT}, {"State", 5, 10, 0},
    {"Hash", 4, 13, 0},           {"Signed (UTC)", 12, 17, 0},
};
#define N_COLS (sizeof cols / sizeof cols[0])

static const ui_tscreen_desc desc = {
    "Outbound transactions",
    cols,
    N_COLS,
    "No transactions: what this desk signs (escrow actions, swaps) appears here",
    "transactions",
};

/* A read of a server-book desk's reader (bookwork.h): the list and the chains that name it. */
typedef struct txs_lists {
    store_outbound *all;
    size_t n_all;
    store_chain *chains;
    size_t n_chains;
} txs_lists;

typedef struct txs_state {
    ui_tscreen ts; /* first: the tscreen helpers see a ui_tscreen */
    ui_desk *desk;
    store_outbound *all;
    size_t n_all;
    size_t *shown;
    size_t n_shown;
    store_chain *chains;
    size_t n_chains;
    desk_names *names;
    char error[ERR_MSG_MAX];
    ui_bookwork *w; /* a server-book desk's reader; NULL: read from desk.db on the loop */
} txs_state;

static const char *chain_name(const txs_state *st, uint64_t id, char *out, size_t cap)
{
    for (size_t i = 0; i < st->n_chains; i++)
        if (st->chains[i].chain_id == id)
            return st->chains[i].name;
    snprintf(out, cap, "%llu", (unsigned long long)id);
    return out;
}

static void cell_of(const txs_state *st, const store_outbound *o, size_t col, char *out,
                    size_t cap)
{
    char a[ADDR_STR_MAX], num[24];
    out[0] = '\0';
    switch (col) {
    case 0:
        snprintf(out, cap, "%lld", (long long)o->id);
        break;
    case 1:
        snprintf(out, cap, "%s", chain_name(st, o->chain_id, num, sizeof num));
        break;
    case 2:
        snprintf(out, cap, "%s", o->action);
        break;
    case 3:
        if (o->has_escrow)
            desk_names_label(out, cap, st->names, o->chain_id, &o->escrow);
        else
            snprintf(out, cap, "-");
        break;
    case 4:
        snprintf(out, cap, "%llu", (unsigned long long)o->nonce);
        break;
    case 5:
        snprintf(out, cap, "%s%s", outbound_state_str(o->state), o->reorged ? " (reorg)" : "");
        break;
    case 6: {
        char h[67];
        hex_encode(h, sizeof h, o->hash, 32, true);
        snprintf(out, cap, "%.8s%s%s", h, ui_glyph()->ellipsis, h + 62);
        break;
    }
    case 7: {
        time_t t = (time_t)o->created_at;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(out, cap, "%Y-%m-%d %H:%M", &tm);
        break;
    }
    default:
        break;
    }
    (void)a;
}

static void apply_filter(txs_state *st)
{
    st->n_shown = 0;
    for (size_t i = 0; i < st->n_all; i++) {
        bool match = !st->ts.filter[0];
        for (size_t c = 0; !match && c < N_COLS; c++) {
            char cell[UI_CELL_MAX];
            cell_of(st, &st->all[i], c, cell, sizeof cell);
            match = ui_match(cell, st->ts.filter);
        }
        if (match)
            st->shown[st->n_shown++] = i;
    }
}

static int newest_first(const void *pa, const void *pb)
{
    const store_outbound *a = pa, *b = pb;
    return a->id < b->id ? 1 : a->id > b->id ? -1 : 0;
}

/* What the rows need besides the list: the names, sorted newest first, the filter. */
static void rows_ready(txs_state *st)
{
    err e;
    desk_names_free(&st->names);
    if (desk_names_load(&st->names, desk_snap_store(st->desk->snap), st->desk->ks, &e) < 0)
        LOG_W("ui", "transactions: %s", e.msg);
    if (st->n_all) /* qsort on the NULL of an empty list is undefined */
        qsort(st->all, st->n_all, sizeof *st->all, newest_first);
    free(st->shown);
    st->shown = calloc(st->n_all ? st->n_all : 1, sizeof *st->shown);
    if (!st->shown) {
        st->n_all = 0;
        snprintf(st->error, sizeof st->error, "out of memory listing the transactions");
        return;
    }
    apply_filter(st);
}

static void load(txs_state *st)
{
    free(st->all);
    free(st->shown);
    free(st->chains);
    st->all = NULL;
    st->shown = NULL;
    st->chains = NULL;
    st->n_all = st->n_shown = st->n_chains = 0;
    st->error[0] = '\0';
    desk_names_free(&st->names);
    if (!st->desk)
        return;
    store *s = desk_snap_store(st->desk->snap);
    err e;
    if (store_outbound_list(s, 0, &st->all, &st->n_all, &e) < 0 ||
        store_chain_list(s, &st->chains, &st->n_chains, &e) < 0) {
        snprintf(st->error, sizeof st->error, "%s", e.msg);
        LOG_W("ui", "transactions: %s", e.msg);
        return;
    }
    rows_ready(st);
}

static void lists_free(void *result)
{
    txs_lists *l = result;
    free(l->all);
    free(l->chains);
    free(l);
}

/* The reader's thread: one read of the server's list (the screen's state untouched). */
static int worker_read(store *s, void *ctx, void **out, err *e)
{
    (void)ctx;
    txs_lists *l = calloc(1, sizeof *l);
    if (!l)
        return err_set(e, ERR_NOMEM, "out of memory listing the transactions");
    *out = l;
    if (store_outbound_list(s, 0, &l->all, &l->n_all, e) < 0)
        return -1;
    return store_chain_list(s, &l->chains, &l->n_chains, e);
}

/* The reader's parked result, if any: a list replaces the rows; a failure keeps the rows
 * shown and says why (status line). */
static bool worker_take(txs_state *st)
{
    void *got = NULL;
    if (!ui_bookwork_take(st->w, &got, st->error, sizeof st->error))
        return false;
    txs_lists *l = got;
    if (l) {
        free(st->all);
        free(st->chains);
        st->all = l->all;
        st->n_all = l->n_all;
        st->chains = l->chains;
        st->n_chains = l->n_chains;
        free(l);
    }
    if (!st->error[0])
        rows_ready(st);
    return true;
}

static size_t rows_count(void *ctx)
{
    txs_state *st = ctx;
    return st->n_shown;
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    txs_state *st = ctx;
    out[0] = '\0';
    if (row < st->n_shown)
        cell_of(st, &st->all[st->shown[row]], col, out, cap);
}

static void rows_filter(void *ctx, const char *text)
{
    (void)text; /* ts.filter holds it already */
    apply_filter(ctx);
}

static ui_role rows_role(void *ctx, size_t row)
{
    txs_state *st = ctx;
    if (row >= st->n_shown)
        return UI_ROLE_NORMAL;
    outbound_state s = st->all[st->shown[row]].state;
    return s == OUTBOUND_FAILED || s == OUTBOUND_DROPPED || s == OUTBOUND_REPLACED
               ? UI_ROLE_ERROR
               : s == OUTBOUND_CONFIRMED ? UI_ROLE_DIM : UI_ROLE_NORMAL;
}

static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    txs_state *st = ctx;
    out[0] = '\0';
    if (row < st->n_shown)
        snprintf(out, cap, "%lld", (long long)st->all[st->shown[row]].id);
}

static int open_(ui_screen *s, err *e)
{
    txs_state *st =
        ui_tscreen_new(s, &desc, sizeof *st,
                       (ui_rows){rows_count, rows_cell, rows_filter, rows_role, NULL}, rows_key, e);
    if (!st)
        return -1;
    st->desk = ui_app_desk(s->app);
    if (st->desk && st->desk->reads.present) {
        if (ui_bookwork_start(&st->w, st->desk->home, "transactions", worker_read, lists_free,
                              NULL, e) < 0) {
            ui_tscreen_close(s);
            return -1;
        }
        ui_bookwork_kick(st->w);
        return 0;
    }
    load(st);
    return 0;
}

static void close_(ui_screen *s)
{
    txs_state *st = s->state;
    if (!st)
        return;
    ui_bookwork_stop(&st->w);
    free(st->all);
    free(st->shown);
    free(st->chains);
    desk_names_free(&st->names);
    ui_tscreen_close(s);
}

static void draw(ui_screen *s, WINDOW *w)
{
    txs_state *st = s->state;
    char note[UI_FILTER_MAX + 128], num[32];
    size_t in_flight = 0;
    for (size_t i = 0; i < st->n_all; i++)
        in_flight += st->all[i].state == OUTBOUND_PENDING || st->all[i].state == OUTBOUND_SENT;
    int o = snprintf(note, sizeof note, "%s transactions, %zu in flight",
                     ui_fmt_count(st->n_shown, num, sizeof num), in_flight);
    if (st->ts.filter[0])
        snprintf(note + o, sizeof note - (size_t)o, " matching /%s", st->ts.filter);
    ui_heading_draw(w, 0, "Outbound transactions", note);
    const char *empty = desc.empty;
    if (st->error[0])
        empty = st->error;
    else if (st->w && !ui_bookwork_loaded(st->w))
        empty = "Reading the transactions from the book's server";
    ui_table_draw_body(&st->ts.table, w, false, empty);
}

static const store_outbound *selected(txs_state *st)
{
    size_t row;
    if (!ui_table_selected(&st->ts.table, &row) || row >= st->n_shown)
        return NULL;
    return &st->all[st->shown[row]];
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    txs_state *st = s->state;
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    const store_outbound *o = selected(st);
    switch (ev->action) {
    case UI_ACT_TX_CHECK:
        return ui_job_request_tx(s->app, "check", 0);
    case UI_ACT_TX_SPEEDUP:
    case UI_ACT_TX_CANCEL:
        if (!o)
            return UI_OK;
        if (o->state != OUTBOUND_PENDING && o->state != OUTBOUND_SENT) {
            ui_message(s->app, UI_MSG_ERROR, "%s: tx %lld is %s: only one in flight can be replaced",
                       ui_actions[ev->action].command, (long long)o->id,
                       outbound_state_str(o->state));
            return UI_REDRAW;
        }
        return ui_job_request_tx(s->app, ev->action == UI_ACT_TX_CANCEL ? "cancel" : "speedup",
                                 o->id);
    case UI_ACT_OPEN: {
        if (!o)
            return UI_OK;
        char h[67], from[STORE_ENTITY_NAME_MAX + ADDR_STR_MAX + 8];
        hex_encode(h, sizeof h, o->hash, 32, true);
        desk_names_label(from, sizeof from, st->names, o->chain_id, &o->from);
        ui_message(s->app, UI_MSG_INFO, "tx %lld %s from %s nonce %llu: %s%s%llu", (long long)o->id,
                   h, from, (unsigned long long)o->nonce, outbound_state_str(o->state),
                   o->mined_block ? " in block " : "",
                   (unsigned long long)o->mined_block);
        return UI_REDRAW;
    }
    default:
        return ui_not_in_build(s, ev->action);
    }
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    txs_state *st = s->state;
    if (st->w) {
        /* the reader's own wake is JOBS alone: take its result, ask again on news only */
        bool took = worker_take(st);
        if (topics & ~UI_TOPIC_JOBS)
            ui_bookwork_kick(st->w);
        return took ? UI_REDRAW : UI_OK;
    }
    load(st); /* the loop polls the action worker (ui_job_poll) */
    return UI_REDRAW;
}

/* A server-book desk's list read again now and then while shown (every 5 s, 2 s after a
 * failure: bookwork.h): another workstation's transactions come with no commit announced
 * here. */
static unsigned tick(ui_screen *s, time_t now)
{
    txs_state *st = s->state;
    if (st->w)
        ui_bookwork_tick(st->w, now, st->error[0] != '\0');
    return UI_OK;
}

static void status(ui_screen *s, char *out, size_t cap)
{
    txs_state *st = s->state;
    if (st->w && st->error[0])
        snprintf(out, cap, "transactions: %s", st->error);
    else
        ui_tscreen_status(s, out, cap);
}

const ui_screen_ops ui_scr_txs = {
    .topics = UI_TOPIC_ALL,
    .open = open_,
    .close = close_,
    .draw = draw,
    .handle = handle,
    .changed = changed,
    .tick = tick,
    .status = status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
