/* scr_chains.c: screen 7, Chains. Every configured chain with the node's head, the
 * synced block, the lag, events per second of this process's sync, the first endpoint
 * (redacted), its health (latency, logs range, rate limit) and the last error (desk_chain_rows, plus sync_stats when this process
 * syncs). Refreshed on every commit and once a second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "desk.h"
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

#define MAX_STATS 64

static const ui_column cols[] = {
    {"Chain", 5, 16, 0},
    {"ID", 2, 10, UI_COL_RIGHT},
    {"Head", 4, 10, UI_COL_RIGHT},
    {"Synced", 6, 10, UI_COL_RIGHT},
    {"Lag", 3, 8, UI_COL_RIGHT},
    {"Ev/s", 4, 8, UI_COL_RIGHT},
    {"Sync", 4, 20, 0},
    {"Endpoint", 8, 0, UI_COL_GROW},
    {"Health", 6, 30, 0},
    {"Last error", 10, 0, UI_COL_GROW},
};

static const ui_tscreen_desc desc = {
    "Chains",
    cols,
    sizeof cols / sizeof cols[0],
    "No chains: none is configured on this desk - see `fusion chain add`",
    "chains",
};

typedef struct chains_state {
    ui_tscreen ts;
    ui_desk *desk;
    desk_chain_row *rows;
    size_t n;
    sync_chain_stats stats[MAX_STATS];
    size_t n_stats;
    char error[ERR_MSG_MAX];
} chains_state;

static const sync_chain_stats *stats_of(chains_state *st, uint64_t id)
{
    for (size_t i = 0; i < st->n_stats && i < MAX_STATS; i++)
        if (st->stats[i].chain_id == id)
            return &st->stats[i];
    return NULL;
}

static size_t rows_count(void *ctx)
{
    chains_state *st = ctx;
    return st->n;
}

static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    chains_state *st = ctx;
    out[0] = '\0';
    if (row < st->n)
        snprintf(out, cap, "%llu", (unsigned long long)st->rows[row].chain_id);
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    chains_state *st = ctx;
    const desk_chain_row *r = &st->rows[row];
    const sync_chain_stats *ss = stats_of(st, r->chain_id);
    uint64_t head = ss && ss->has_head ? ss->head : r->head;
    uint64_t synced = ss && ss->has_synced ? ss->synced : r->synced;
    bool have_synced = r->synced_any || (ss && ss->has_synced);
    out[0] = '\0';
    switch (col) {
    case 0:
        snprintf(out, cap, "%s", r->name);
        break;
    case 1:
        snprintf(out, cap, "%llu", (unsigned long long)r->chain_id);
        break;
    case 2:
        snprintf(out, cap, head ? "%llu" : "-", (unsigned long long)head);
        break;
    case 3:
        snprintf(out, cap, have_synced ? "%llu" : "-", (unsigned long long)synced);
        break;
    case 4:
        if (have_synced && head)
            snprintf(out, cap, "%llu", (unsigned long long)(head > synced ? head - synced : 0));
        else
            snprintf(out, cap, "-");
        break;
    case 5:
        if (ss && ss->elapsed > 0)
            snprintf(out, cap, "%.1f", (double)ss->events / ss->elapsed);
        else
            snprintf(out, cap, "-");
        break;
    case 6:
        snprintf(out, cap, "%s", ss ? sync_phase_str(ss->phase) : "elsewhere");
        if (!ss && st->desk->mode != UI_SYNC_FOLLOW)
            snprintf(out, cap, "stopped");
        break;
    case 7:
        snprintf(out, cap, "%s%s", r->endpoint, r->n_endpoints > 1 ? " (+more)" : "");
        break;
    case 8: {
        /* health, the last answer's latency, the logs range it takes, a 429's wait */
        int64_t now = (int64_t)time(NULL);
        size_t o = (size_t)snprintf(out, cap, "%s", r->health);
        if (r->latency_ms >= 0 && o < cap)
            o += (size_t)snprintf(out + o, cap - o, " %lldms", (long long)r->latency_ms);
        if (r->range_cap && o < cap)
            o += (size_t)snprintf(out + o, cap - o, " logs<=%llu",
                                  (unsigned long long)r->range_cap);
        if (r->limited_until > now && o < cap)
            snprintf(out + o, cap - o, " 429 %llds", (long long)(r->limited_until - now));
        break;
    }
    case 9:
        snprintf(out, cap, "%s", ss && ss->last_error[0] ? ss->last_error : r->last_error);
        break;
    default:
        break;
    }
}

static ui_role rows_role(void *ctx, size_t row)
{
    chains_state *st = ctx;
    const desk_chain_row *r = &st->rows[row];
    const sync_chain_stats *ss = stats_of(st, r->chain_id);
    if ((ss && ss->phase == SYNC_FAILED) || strcmp(r->health, "down") == 0)
        return UI_ROLE_ERROR;
    return UI_ROLE_NORMAL;
}

static void load(chains_state *st)
{
    free(st->rows);
    st->rows = NULL;
    st->n = 0;
    st->n_stats = 0;
    st->error[0] = '\0';
    if (!st->desk)
        return;
    err e;
    err_clear(&e);
    if (desk_chain_rows(st->desk->snap, &st->rows, &st->n, &e) < 0)
        snprintf(st->error, sizeof st->error, "%s", e.msg);
    if (st->desk->sync)
        st->n_stats = sync_stats(st->desk->sync, st->stats, MAX_STATS);
}

static int open_(ui_screen *s, err *e)
{
    chains_state *st = ui_tscreen_new(
        s, &desc, sizeof *st, (ui_rows){rows_count, rows_cell, NULL, rows_role, NULL}, rows_key, e);
    if (!st)
        return -1;
    st->desk = ui_app_desk(s->app);
    load(st);
    return 0;
}

static void close_(ui_screen *s)
{
    chains_state *st = s->state;
    if (!st)
        return;
    free(st->rows);
    ui_tscreen_close(s);
}

static void draw(ui_screen *s, WINDOW *w)
{
    chains_state *st = s->state;
    int rows, wcols;
    getmaxyx(w, rows, wcols);
    char note[ERR_MSG_MAX + 64], num[32];
    snprintf(note, sizeof note, "%s chains, %s", ui_fmt_count(st->n, num, sizeof num),
             st->desk ? st->desk->sync_note : "no desk");
    ui_heading_draw(w, 0, "Chains", note);
    const char *empty = st->error[0] ? st->error : desc.empty;
    ui_table_draw(&st->ts.table, w, 2, 1, rows - 2, wcols - 2, empty);
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    chains_state *st = s->state;
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    if (ev->action == UI_ACT_OPEN) {
        size_t row;
        if (ui_table_selected(&st->ts.table, &row)) {
            char text[512];
            rows_cell(st, row, 9, text, sizeof text);
            ui_message(s->app, text[0] ? UI_MSG_ERROR : UI_MSG_INFO, "%s: %s", st->rows[row].name,
                       text[0] ? text : "no error recorded");
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

const ui_screen_ops ui_scr_chains = {
    .topics = UI_TOPIC_CHAINS,
    .open = open_,
    .close = close_,
    .draw = draw,
    .handle = handle,
    .changed = changed,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
};
