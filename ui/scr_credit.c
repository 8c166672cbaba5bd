/* scr_credit.c: screen C, Credit: the desk's credit facilities (credit/service.h) with
 * their limit, drawn balance (from the ledger: credit_book_load), utilisation, a health
 * gauge, and open margin calls; below, the selected facility's collateral by chain, its
 * calls and its ledger (draws, repayments, interest, fees, with the balance after each).
 * The money is the credit module's: the UI formats what credit_book_load,
 * credit_utilisation_e4 and credit_health_load return. The health factor reads the vaults
 * on chain, so it is computed on this screen's own worker thread (its own store handle),
 * never on the loop; the loop takes the result on its once-a-second tick. Read-only:
 * `fusion credit draw|repay|fee` write the ledger. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/amount.h"
#include "base/log.h"
#include "credit/credit.h"
#include "credit/service.h"
#include "desk.h"
#include "notify.h"
#include "risk/service.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Facility", 8, 20, UI_COL_GROW}, {"Entity", 6, 18, 0}, {"Ccy", 3, 6, 0},
    {"Limit", 5, 20, UI_COL_RIGHT},   {"Drawn", 5, 20, UI_COL_RIGHT}, {"Util", 4, 7, UI_COL_RIGHT},
    {"HF", 4, 16, 0},                 {"Calls", 5, 5, UI_COL_RIGHT},
};
#define N_COLS (sizeof cols / sizeof cols[0])

static const ui_tscreen_desc desc = {
    "Credit facilities",
    cols,
    N_COLS,
    "No facilities: `fusion credit facility add NAME --entity E --currency USDC --limit N "
    "--rate PCT` opens one",
    "facilities",
};

/* Seconds between the worker's rounds without news (the risk worker's period). */
#define CR_REFRESH_SECONDS 30
#define CR_KICK_SECONDS 5

/* One facility's health as the worker computed it. */
typedef struct cr_health {
    char name[64];
    bool ok;
    credit_health h;
    credit_position *pos;
    size_t n_pos;
    char error[ERR_MSG_MAX];
} cr_health;

typedef struct cr_worker {
    char path[4200];
    char home[4096];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kick;
    cr_health *ready; /* handed to the loop under mu */
    size_t n_ready;
    bool has_ready;
} cr_worker;

typedef struct cr_fac {
    store_credit_facility f;
    char entity[STORE_ENTITY_NAME_MAX];
    bool has_book;
    credit_book book;
    u256 owed;
    bool has_util;
    unsigned util_e4;
    store_credit_call *calls;
    size_t n_calls;
    char error[ERR_MSG_MAX];
} cr_fac;

typedef struct cr_state {
    ui_tscreen ts; /* first: the tscreen helpers see a ui_tscreen */
    ui_desk *desk;
    cr_fac *all;
    size_t n_all;
    size_t *shown;
    size_t n_shown;
    store_chain *chains;
    size_t n_chains;
    cr_health *health;
    size_t n_health;
    bool health_seen; /* the worker answered at least once */
    cr_worker *w;
    bool w_started;
    time_t kicked;     /* the last worker_kick that asked for a round */
    bool kick_pending; /* a change came sooner: tick asks later */
    char error[ERR_MSG_MAX];
} cr_state;

static void health_free(cr_health **h, size_t *n)
{
    for (size_t i = 0; *h && i < *n; i++)
        free((*h)[i].pos);
    free(*h);
    *h = NULL;
    *n = 0;
}

/* ---- the worker: every facility's health (network reads of the vaults) ---- */

static void worker_round(store *st, const char *home, cr_health **out, size_t *n_out)
{
    store_credit_facility *fs = NULL;
    size_t n = 0;
    err e;
    err_clear(&e);
    *out = NULL;
    *n_out = 0;
    if (store_credit_facility_list(st, &fs, &n, &e) < 0 || n == 0) {
        free(fs);
        return;
    }
    cr_health *hs = calloc(n, sizeof *hs);
    if (!hs) {
        free(fs);
        return;
    }
    int32_t today = (int32_t)(time(NULL) / 86400);
    /* the desk's price max age (its signed risk-limits.csv), once a round */
    risk_limits lim;
    err le;
    err_clear(&le);
    bool lim_ok = risk_limits_of(home, NULL, &lim, &le) == 0;
    for (size_t i = 0; i < n; i++) {
        cr_health *h = &hs[i];
        snprintf(h->name, sizeof h->name, "%s", fs[i].name);
        credit_book b = {0};
        u256 owed;
        err_clear(&e);
        if (!lim_ok)
            e = le;
        else if (credit_book_load(st, &fs[i], today, &b, &e) == 0) {
            if (u256_add(&owed, &b.drawn, &b.accrued) < 0)
                err_set(&e, ERR_OVERFLOW, "the ledger's amounts overflow 256 bits");
            else if (credit_health_load(st, &fs[i], &owed, lim.price_max_age, &h->h, &h->pos,
                                        &h->n_pos, &e) == 0)
                h->ok = true;
        }
        credit_book_free(&b);
        if (!h->ok)
            snprintf(h->error, sizeof h->error, "%s", e.msg);
    }
    free(fs);
    *out = hs;
    *n_out = n;
}

static void *worker_main(void *arg)
{
    cr_worker *w = arg;
    store *st = NULL;
    err e;
    err_clear(&e);
    if (store_open(&st, w->path, &e) < 0) {
        LOG_W("ui", "credit health: %s", e.msg);
        return NULL;
    }
    for (;;) {
        cr_health *hs = NULL;
        size_t n = 0;
        worker_round(st, w->home, &hs, &n);
        pthread_mutex_lock(&w->mu);
        health_free(&w->ready, &w->n_ready);
        w->ready = hs;
        w->n_ready = n;
        w->has_ready = true;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += CR_REFRESH_SECONDS;
        while (!w->stop && !w->kick)
            if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
                break;
        bool stop = w->stop;
        w->kick = false;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            break;
    }
    store_close(&st);
    return NULL;
}

/* A change of the desk asks for a new round, at most every CR_KICK_SECONDS: sync commits
 * come with every block, and a round reads every vault. */
static void worker_kick(cr_state *st)
{
    time_t now = time(NULL);
    if (!st->w_started)
        return;
    if (now - st->kicked < CR_KICK_SECONDS) {
        st->kick_pending = true; /* tick asks once the interval has passed */
        return;
    }
    st->kicked = now;
    st->kick_pending = false;
    pthread_mutex_lock(&st->w->mu);
    st->w->kick = true;
    pthread_cond_signal(&st->w->cv);
    pthread_mutex_unlock(&st->w->mu);
}

/* Starts the worker once there is something to value (a facility). */
static void worker_start(cr_state *st)
{
    if (st->w_started || !st->desk || st->n_all == 0)
        return;
    cr_worker *w = calloc(1, sizeof *w);
    if (!w)
        return;
    snprintf(w->path, sizeof w->path, "%s/desk.db", st->desk->home);
    snprintf(w->home, sizeof w->home, "%s", st->desk->home);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    err e;
    err_clear(&e);
    if (ui_thread_create(&w->thread, worker_main, w, &e) < 0) {
        snprintf(st->error, sizeof st->error, "%s", e.msg);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return;
    }
    st->w = w;
    st->w_started = true;
}

static void worker_stop(cr_state *st)
{
    if (!st->w_started)
        return;
    pthread_mutex_lock(&st->w->mu);
    st->w->stop = true;
    pthread_cond_signal(&st->w->cv);
    pthread_mutex_unlock(&st->w->mu);
    pthread_join(st->w->thread, NULL);
    health_free(&st->w->ready, &st->w->n_ready);
    pthread_mutex_destroy(&st->w->mu);
    pthread_cond_destroy(&st->w->cv);
    free(st->w);
    st->w = NULL;
    st->w_started = false;
}

/* ---- the loop's side ---- */

static const cr_health *health_of(const cr_state *st, const char *name)
{
    for (size_t i = 0; i < st->n_health; i++)
        if (strcmp(st->health[i].name, name) == 0)
            return &st->health[i];
    return NULL;
}

static const char *chain_name(const cr_state *st, uint64_t id, char *out, size_t cap)
{
    for (size_t i = 0; i < st->n_chains; i++)
        if (st->chains[i].chain_id == id)
            return st->chains[i].name;
    snprintf(out, cap, "%llu", (unsigned long long)id);
    return out;
}

static void fmt_units(char *out, size_t cap, const u256 *v, unsigned decimals, bool exact)
{
    char plain[AMOUNT_STR_MAX];
    amount_format(plain, v, decimals);
    if (exact)
        ui_fmt_decimal(out, cap, plain, 80, NULL);
    else
        ui_fmt_amount(out, cap, plain, ui_glyph()->ellipsis);
}

/* "1.52 ####----": the health factor and a bar over 0..3 (full at 3 and above). */
static void gauge(char *out, size_t cap, const cr_state *st, const cr_fac *f)
{
    const cr_health *h = health_of(st, f->f.name);
    if (!h) {
        snprintf(out, cap, st->health_seen ? "-" : "...");
        return;
    }
    if (!h->ok) {
        snprintf(out, cap, "error");
        return;
    }
    if (!isfinite(h->h.health_factor)) {
        snprintf(out, cap, "no debt");
        return;
    }
    double hf = h->h.health_factor;
    int cells = 6, full = (int)(hf / 3.0 * cells + 0.5);
    if (full > cells)
        full = cells;
    if (full < 0)
        full = 0;
    bool ascii = ui_glyph()->ellipsis[0] == '.';
    int o = snprintf(out, cap, "%.2f ", hf);
    for (int i = 0; i < cells && o > 0 && (size_t)o + 4 < cap; i++)
        o += snprintf(out + o, cap - (size_t)o, "%s",
                      i < full ? (ascii ? "#" : "\u2588") : (ascii ? "-" : "\u2591"));
}

static void cell_of(const cr_state *st, const cr_fac *f, size_t col, char *out, size_t cap)
{
    out[0] = '\0';
    switch (col) {
    case 0:
        snprintf(out, cap, "%s", f->f.name);
        break;
    case 1:
        snprintf(out, cap, "%s", f->entity);
        break;
    case 2:
        snprintf(out, cap, "%s", f->f.currency);
        break;
    case 3:
        fmt_units(out, cap, &f->f.limit, f->f.decimals, false);
        break;
    case 4:
        if (f->has_book)
            fmt_units(out, cap, &f->book.drawn, f->f.decimals, false);
        else
            snprintf(out, cap, "error");
        break;
    case 5:
        if (f->has_util)
            snprintf(out, cap, "%u.%02u%%", f->util_e4 / 100, f->util_e4 % 100);
        else
            snprintf(out, cap, "-");
        break;
    case 6:
        gauge(out, cap, st, f);
        break;
    case 7:
        snprintf(out, cap, "%zu", f->n_calls);
        break;
    default:
        break;
    }
}

static void apply_filter(cr_state *st)
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

static void unload(cr_state *st)
{
    for (size_t i = 0; st->all && i < st->n_all; i++) {
        credit_book_free(&st->all[i].book);
        free(st->all[i].calls);
    }
    free(st->all);
    free(st->shown);
    free(st->chains);
    st->all = NULL;
    st->shown = NULL;
    st->chains = NULL;
    st->n_all = st->n_shown = st->n_chains = 0;
}

static void load_one(store *s, cr_fac *f, int32_t today)
{
    err e;
    err_clear(&e);
    store_entity x;
    bool found = false;
    if (store_entity_get(s, f->f.entity_id, &x, &found, &e) == 0 && found)
        snprintf(f->entity, sizeof f->entity, "%s", x.name);
    else
        snprintf(f->entity, sizeof f->entity, "?");
    if (store_credit_calls(s, f->f.id, false, &f->calls, &f->n_calls, &e) < 0) {
        snprintf(f->error, sizeof f->error, "%s", e.msg);
        return;
    }
    if (credit_book_load(s, &f->f, today, &f->book, &e) < 0) {
        snprintf(f->error, sizeof f->error, "%s", e.msg);
        return;
    }
    f->has_book = true;
    if (u256_add(&f->owed, &f->book.drawn, &f->book.accrued) < 0) {
        snprintf(f->error, sizeof f->error, "the ledger's amounts overflow 256 bits");
        return;
    }
    f->has_util = credit_utilisation_e4(&f->owed, &f->f.limit, &f->util_e4, &e) == 0;
}

static void load(cr_state *st)
{
    unload(st);
    st->error[0] = '\0';
    if (!st->desk)
        return;
    store *s = desk_snap_store(st->desk->snap);
    err e;
    store_credit_facility *fs = NULL;
    size_t n = 0;
    if (store_credit_facility_list(s, &fs, &n, &e) < 0 ||
        store_chain_list(s, &st->chains, &st->n_chains, &e) < 0) {
        snprintf(st->error, sizeof st->error, "%s", e.msg);
        LOG_W("ui", "credit: %s", e.msg);
        free(fs);
        return;
    }
    st->all = calloc(n ? n : 1, sizeof *st->all);
    st->shown = calloc(n ? n : 1, sizeof *st->shown);
    if (!st->all || !st->shown) {
        free(fs);
        free(st->all);
        st->all = NULL;
        snprintf(st->error, sizeof st->error, "out of memory listing the facilities");
        return;
    }
    int32_t today = (int32_t)(time(NULL) / 86400);
    for (size_t i = 0; i < n; i++) {
        st->all[i].f = fs[i];
        load_one(s, &st->all[i], today);
    }
    st->n_all = n;
    free(fs);
    apply_filter(st);
}

static size_t rows_count(void *ctx)
{
    cr_state *st = ctx;
    return st->n_shown;
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    cr_state *st = ctx;
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
    cr_state *st = ctx;
    if (row >= st->n_shown)
        return UI_ROLE_NORMAL;
    const cr_fac *f = &st->all[st->shown[row]];
    const cr_health *h = health_of(st, f->f.name);
    bool below = h && h->ok && h->h.health_factor < (double)f->f.margin_call_e4 / CREDIT_HF_ONE;
    return f->n_calls || below || f->error[0] ? UI_ROLE_ERROR : UI_ROLE_NORMAL;
}

static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    cr_state *st = ctx;
    out[0] = '\0';
    if (row < st->n_shown)
        snprintf(out, cap, "%s", st->all[st->shown[row]].f.name);
}

static int open_(ui_screen *s, err *e)
{
    cr_state *st =
        ui_tscreen_new(s, &desc, sizeof *st,
                       (ui_rows){rows_count, rows_cell, rows_filter, rows_role, NULL}, rows_key, e);
    if (!st)
        return -1;
    st->desk = ui_app_desk(s->app);
    load(st);
    worker_start(st);
    return 0;
}

static void close_(ui_screen *s)
{
    cr_state *st = s->state;
    if (!st)
        return;
    worker_stop(st);
    unload(st);
    health_free(&st->health, &st->n_health);
    ui_tscreen_close(s);
}

static const cr_fac *selected(cr_state *st)
{
    size_t row;
    if (!ui_table_selected(&st->ts.table, &row) || row >= st->n_shown)
        return NULL;
    return &st->all[st->shown[row]];
}

static void detail_lines(cr_state *st, const cr_fac *f, char ***lines, size_t *n)
{
    char a[UI_CELL_MAX], b[UI_CELL_MAX], c[UI_CELL_MAX], lv[3][16];
    if (f->error[0])
        ui_lines_add(lines, n, "  %s", f->error);
    if (f->has_book) {
        fmt_units(a, sizeof a, &f->owed, f->f.decimals, true);
        fmt_units(b, sizeof b, &f->book.accrued, f->f.decimals, true);
        fmt_units(c, sizeof c, &f->f.limit, f->f.decimals, true);
        ui_lines_add(lines, n, "  Owed %s %s (interest accrued %s) of %s", a, f->f.currency, b, c);
    }
    credit_hf_format(f->f.initial_e4, lv[0]);
    credit_hf_format(f->f.margin_call_e4, lv[1]);
    credit_hf_format(f->f.liquidation_e4, lv[2]);
    const cr_health *h = health_of(st, f->f.name);
    if (!h)
        ui_lines_add(lines, n, "  Health: %s (initial %s, margin call %s, liquidation %s)",
                     st->health_seen ? "not computed" : "reading the vaults", lv[0], lv[1], lv[2]);
    else if (!h->ok)
        ui_lines_add(lines, n, "  Health: %s", h->error);
    else {
        char hf[32], cu[48], bb[48];
        if (isfinite(h->h.health_factor))
            snprintf(hf, sizeof hf, "%.4f", h->h.health_factor);
        else
            snprintf(hf, sizeof hf, "no debt");
        ui_fmt_usd(cu, sizeof cu, h->h.collateral_usd, 2);
        ui_fmt_usd(bb, sizeof bb, h->h.borrowing_base_usd, 2);
        ui_lines_add(lines, n,
                     "  HF %s (initial %s, margin call %s, liquidation %s), collateral %s USD,"
                     " borrowing base %s USD",
                     hf, lv[0], lv[1], lv[2], cu, bb);
    }
    ui_lines_add(lines, n, "COLLATERAL BY CHAIN");
    if (!h || !h->ok || h->n_pos == 0)
        ui_lines_add(lines, n, "  %s", h && h->ok ? "none in the vaults" : "-");
    for (size_t i = 0; h && h->ok && i < h->n_pos; i++) {
        char cn[24], usd[48];
        fmt_units(a, sizeof a, &h->pos[i].units, h->pos[i].decimals, true);
        ui_fmt_usd(usd, sizeof usd, h->pos[i].value_usd, 2);
        ui_lines_add(lines, n, "  %-10s %-6s %s (%s USD)",
                     chain_name(st, h->pos[i].chain_id, cn, sizeof cn), h->pos[i].asset, a, usd);
    }
    ui_lines_add(lines, n, "MARGIN CALLS");
    if (f->n_calls == 0)
        ui_lines_add(lines, n, "  none open");
    for (size_t i = 0; i < f->n_calls; i++) {
        const store_credit_call *k = &f->calls[i];
        time_t t = (time_t)k->cure_by;
        struct tm tm;
        char when[32] = "-";
        if (k->cure_by && gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
        ui_lines_add(lines, n, "  #%lld %s at HF %s, cure by %s", (long long)k->id, k->kind,
                     k->health_factor, when);
    }
    ui_lines_add(lines, n, "LEDGER (newest first)");
    if (!f->has_book || f->book.n == 0)
        ui_lines_add(lines, n, "  no rows: `fusion credit draw %s AMOUNT` records a draw",
                     f->f.name);
    for (size_t i = f->has_book ? f->book.n : 0; i-- > 0;) {
        const credit_entry *r = &f->book.entries[i];
        char d[11];
        credit_date_format(r->day, d);
        fmt_units(a, sizeof a, &r->amount, f->f.decimals, true);
        fmt_units(b, sizeof b, &f->book.balance[i], f->f.decimals, true);
        ui_lines_add(lines, n, "  %s %-8s %20s  balance %20s  %s", d, credit_kind_str(r->kind), a,
                     b, r->memo);
    }
}

static void draw(ui_screen *s, WINDOW *w)
{
    cr_state *st = s->state;
    char note[UI_FILTER_MAX + 128], num[32];
    size_t calls = 0;
    for (size_t i = 0; i < st->n_all; i++)
        calls += st->all[i].n_calls;
    int o = snprintf(note, sizeof note, "%s facilities, %zu calls open",
                     ui_fmt_count(st->n_shown, num, sizeof num), calls);
    if (st->ts.filter[0])
        snprintf(note + o, sizeof note - (size_t)o, " matching /%s", st->ts.filter);
    ui_heading_draw(w, 0, desc.heading, note);
    const char *empty = st->error[0] ? st->error : desc.empty;
    const cr_fac *f = selected(st);
    int y = ui_table_draw_body(&st->ts.table, w, f != NULL, empty);
    if (!f)
        return;
    char **lines = NULL;
    size_t n = 0;
    detail_lines(st, f, &lines, &n);
    char title[128];
    snprintf(title, sizeof title, "%s", f->f.name);
    ui_detail_draw(w, y, title, lines, n);
    ui_lines_free(&lines, &n);
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    cr_state *st = s->state;
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    switch (ev->action) {
    case UI_ACT_OPEN: {
        const cr_fac *f = selected(st);
        if (!f)
            return UI_OK;
        char lv[3][16];
        credit_hf_format(f->f.initial_e4, lv[0]);
        credit_hf_format(f->f.margin_call_e4, lv[1]);
        credit_hf_format(f->f.liquidation_e4, lv[2]);
        ui_message(s->app, UI_MSG_INFO,
                   "%s: ACT/%u, billing day %u, HF levels %s/%s/%s; `fusion credit statement %s` "
                   "for a period",
                   f->f.name, f->f.day_count, f->f.billing_day, lv[0], lv[1], lv[2], f->f.name);
        return UI_REDRAW;
    }
    default:
        return ui_not_in_build(s, ev->action);
    }
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    cr_state *st = s->state;
    (void)topics;
    load(st);
    worker_start(st);
    worker_kick(st);
    return UI_REDRAW;
}

/* Takes the worker's newest health figures (and asks for a round a change deferred). */
static unsigned tick(ui_screen *s, time_t now)
{
    (void)now;
    cr_state *st = s->state;
    if (!st->w_started)
        return UI_OK;
    if (st->kick_pending)
        worker_kick(st);
    pthread_mutex_lock(&st->w->mu);
    bool got = st->w->has_ready;
    if (got) {
        health_free(&st->health, &st->n_health);
        st->health = st->w->ready;
        st->n_health = st->w->n_ready;
        st->w->ready = NULL;
        st->w->n_ready = 0;
        st->w->has_ready = false;
    }
    pthread_mutex_unlock(&st->w->mu);
    if (!got)
        return UI_OK;
    st->health_seen = true;
    return UI_REDRAW;
}

const ui_screen_ops ui_scr_credit = {
    .topics = UI_TOPIC_ALL,
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
