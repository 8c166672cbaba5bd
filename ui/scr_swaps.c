/* scr_swaps.c: screen 9, Swaps. The desk's cross-chain HTLC swaps (store_xswap_list, the
 * table `fusion xswap` keeps; docs/cross-chain.md): id, state, what each side locks
 * (chain, asset, amount), the two timelocks as countdowns and what has to happen next.
 * Read-only: `fusion xswap respond|resume` move the swaps; this screen follows them on
 * every commit and once a second (the countdowns). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/amount.h"
#include "desk.h"
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"ID", 2, 5, UI_COL_RIGHT},
    {"State", 5, 10, 0},
    {"Gives (chain X)", 15, 30, 0},
    {"Gets (chain Y)", 14, 30, 0},
    {"T1", 2, 10, UI_COL_RIGHT},
    {"T2", 2, 10, UI_COL_RIGHT},
    {"Next step", 9, 0, UI_COL_GROW},
};

static const ui_tscreen_desc desc = {
    "Swaps",
    cols,
    sizeof cols / sizeof cols[0],
    "No swaps: start one with `fusion xswap new` (see docs/cross-chain.md)",
    "swaps",
};

/* One swap as shown (names and amounts resolved when loaded). */
typedef struct swap_row {
    store_xswap x;
    char side_x[AMOUNT_STR_MAX + STORE_SYMBOL_MAX + STORE_NAME_MAX + 16];
    char side_y[AMOUNT_STR_MAX + STORE_SYMBOL_MAX + STORE_NAME_MAX + 16];
} swap_row;

typedef struct swaps_state {
    ui_tscreen ts;
    ui_desk *desk;
    swap_row *all;
    size_t n_all;
    size_t *ix; /* rows matching the filter */
    size_t n;
    char error[ERR_MSG_MAX];
    time_t now;
} swaps_state;

/* "2,500 USDC on devnet-eth" from the desk's chain and token tables. */
static void side(store *db, uint64_t chain_id, const addr *token, const u256 *amount, char *out,
                 size_t cap)
{
    store_chain ch;
    bool found = false;
    err e;
    char chain[STORE_NAME_MAX], sym[STORE_SYMBOL_MAX] = "?", amt[AMOUNT_STR_MAX];
    unsigned decimals = 0;
    bool known = false;
    if (store_chain_get(db, chain_id, &ch, &found, &e) == 0 && found) {
        snprintf(chain, sizeof chain, "%s", ch.name);
        if (addr_is_zero(token)) {
            snprintf(sym, sizeof sym, "%s", ch.native_symbol);
            decimals = ch.native_decimals;
            known = true;
        }
    } else {
        snprintf(chain, sizeof chain, "chain %llu", (unsigned long long)chain_id);
    }
    if (!known) {
        store_token *ts = NULL;
        size_t n = 0;
        if (store_token_list(db, chain_id, &ts, &n, &e) == 0)
            for (size_t i = 0; i < n; i++)
                if (addr_equal(&ts[i].address, token)) {
                    snprintf(sym, sizeof sym, "%s", ts[i].symbol);
                    decimals = ts[i].decimals;
                    known = true;
                }
        free(ts);
    }
    if (known)
        amount_format(amt, amount, decimals);
    else
        u256_to_dec(amt, amount); /* base units of an unknown token */
    snprintf(out, cap, "%s %s on %s", amt, known ? sym : "units", chain);
}

/* "1h59m", "42s", "passed"; "-" when t is 0 (no lock yet). */
static void countdown(char *out, size_t cap, uint64_t t, time_t now)
{
    if (t == 0) {
        snprintf(out, cap, "-");
        return;
    }
    int64_t left = (int64_t)t - (int64_t)now;
    if (left <= 0)
        snprintf(out, cap, "passed");
    else if (left < 60)
        snprintf(out, cap, "%llds", (long long)left);
    else if (left < 3600)
        snprintf(out, cap, "%lldm%02llds", (long long)(left / 60), (long long)(left % 60));
    else
        snprintf(out, cap, "%lldh%02lldm", (long long)(left / 3600), (long long)(left % 3600 / 60));
}

/* What has to happen next, and who does it (states: docs/cross-chain.md). */
static void next_step(char *out, size_t cap, const store_xswap *x, time_t now)
{
    const char *s = x->state;
    bool t1_passed = (int64_t)x->t1 <= (int64_t)now;
    const char *what;
    if (x->pending_action[0])
        snprintf(out, cap, "%s sent, waiting for it to be mined (xswap resume)", x->pending_action);
    else {
        if (strcmp(s, "new") == 0)
            what = "initiator locks on X (xswap resume)";
        else if (strcmp(s, "x_locked") == 0)
            what = t1_passed ? "T1 passed: refund on X (xswap resume)"
                             : "counterparty locks on Y with T2 <= T1 - margin (xswap respond)";
        else if (strcmp(s, "y_locked") == 0)
            what = "initiator claims on Y, revealing the secret (xswap resume)";
        else if (strcmp(s, "y_claimed") == 0)
            what = "claim on X with the secret revealed on Y (xswap resume)";
        else if (strcmp(s, "y_refunded") == 0)
            what = t1_passed ? "refund on X (xswap resume)" : "wait for T1, then refund on X";
        else if (strcmp(s, "done") == 0)
            what = "- (both sides claimed)";
        else if (strcmp(s, "refunded") == 0)
            what = "- (refunded)";
        else
            what = "?";
        snprintf(out, cap, "%s", what);
    }
    if (x->note[0]) {
        size_t len = strlen(out);
        if (len < cap)
            snprintf(out + len, cap - len, "; %s", x->note);
    }
}

static size_t rows_count(void *ctx)
{
    swaps_state *st = ctx;
    return st->n;
}

static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    swaps_state *st = ctx;
    out[0] = '\0';
    if (row < st->n)
        snprintf(out, cap, "%lld", (long long)st->all[st->ix[row]].x.id);
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    swaps_state *st = ctx;
    const swap_row *r = &st->all[st->ix[row]];
    out[0] = '\0';
    switch (col) {
    case 0:
        snprintf(out, cap, "%lld", (long long)r->x.id);
        break;
    case 1:
        snprintf(out, cap, "%s", r->x.state);
        break;
    case 2:
        snprintf(out, cap, "%s", r->side_x);
        break;
    case 3:
        snprintf(out, cap, "%s", r->side_y);
        break;
    case 4:
        countdown(out, cap, r->x.t1, st->now);
        break;
    case 5:
        countdown(out, cap, r->x.t2, st->now);
        break;
    case 6:
        next_step(out, cap, &r->x, st->now);
        break;
    default:
        break;
    }
}

static ui_role rows_role(void *ctx, size_t row)
{
    swaps_state *st = ctx;
    const store_xswap *x = &st->all[st->ix[row]].x;
    if (strcmp(x->state, "done") == 0 || strcmp(x->state, "refunded") == 0)
        return UI_ROLE_DIM;
    if (x->note[0])
        return UI_ROLE_ERROR;
    return UI_ROLE_NORMAL;
}

static void index_rows(swaps_state *st)
{
    st->n = 0;
    for (size_t i = 0; i < st->n_all; i++) {
        if (st->ts.filter[0]) {
            char text[1024];
            const swap_row *r = &st->all[i];
            snprintf(text, sizeof text, "%lld %s %s %s %s", (long long)r->x.id, r->x.state,
                     r->side_x, r->side_y, r->x.note);
            if (!strstr(text, st->ts.filter))
                continue;
        }
        st->ix[st->n++] = i;
    }
}

static void rows_filter(void *ctx, const char *text)
{
    (void)text; /* the text is ts.filter */
    index_rows(ctx);
}

static void load(swaps_state *st)
{
    free(st->all);
    free(st->ix);
    st->all = NULL;
    st->ix = NULL;
    st->n_all = st->n = 0;
    st->error[0] = '\0';
    st->now = time(NULL);
    if (!st->desk)
        return;
    store *db = desk_snap_store(st->desk->snap);
    store_xswap *xs = NULL;
    size_t n = 0;
    err e;
    err_clear(&e);
    if (store_xswap_list(db, &xs, &n, &e) < 0) {
        snprintf(st->error, sizeof st->error, "%s", e.msg);
        return;
    }
    st->all = n ? calloc(n, sizeof *st->all) : NULL;
    st->ix = n ? calloc(n, sizeof *st->ix) : NULL;
    if (n && (!st->all || !st->ix)) {
        snprintf(st->error, sizeof st->error, "out of memory reading %zu swaps", n);
        free(xs);
        free(st->all);
        free(st->ix);
        st->all = NULL;
        st->ix = NULL;
        return;
    }
    /* newest first */
    for (size_t i = 0; i < n; i++) {
        swap_row *r = &st->all[i];
        r->x = xs[n - 1 - i];
        side(db, r->x.chain_x, &r->x.token_x, &r->x.amount_x, r->side_x, sizeof r->side_x);
        side(db, r->x.chain_y, &r->x.token_y, &r->x.amount_y, r->side_y, sizeof r->side_y);
    }
    st->n_all = n;
    free(xs);
    index_rows(st);
}

static int open_(ui_screen *s, err *e)
{
    ui_desk *desk = ui_app_desk(s->app);
    swaps_state *st = ui_tscreen_new(
        s, &desc, sizeof *st,
        desk ? (ui_rows){rows_count, rows_cell, rows_filter, rows_role, NULL} : ui_rows_none(),
        desk ? rows_key : NULL, e);
    if (!st)
        return -1;
    st->desk = desk;
    load(st);
    return 0;
}

static void close_(ui_screen *s)
{
    swaps_state *st = s->state;
    if (!st)
        return;
    free(st->all);
    free(st->ix);
    ui_tscreen_close(s);
}

static void draw(ui_screen *s, WINDOW *w)
{
    swaps_state *st = s->state;
    int rows, wcols;
    getmaxyx(w, rows, wcols);
    size_t open = 0;
    for (size_t i = 0; i < st->n_all; i++)
        open += strcmp(st->all[i].x.state, "done") != 0 &&
                strcmp(st->all[i].x.state, "refunded") != 0;
    char note[128], a[32], b[32];
    snprintf(note, sizeof note, "%s swaps, %s open; timelocks: time left by this clock",
             ui_fmt_count(st->n_all, a, sizeof a), ui_fmt_count(open, b, sizeof b));
    ui_heading_draw(w, 0, "Swaps", note);
    ui_table_draw(&st->ts.table, w, 2, 1, rows - 2, wcols - 2,
                  st->error[0] ? st->error : desc.empty);
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    return ui_not_in_build(s, ev->action);
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    (void)topics;
    load(s->state);
    return UI_REDRAW;
}

static unsigned tick(ui_screen *s, time_t now)
{
    swaps_state *st = s->state;
    st->now = now;
    return st->n_all ? UI_REDRAW : UI_OK;
}

const ui_screen_ops ui_scr_swaps = {
    .topics = UI_TOPIC_ESCROWS | UI_TOPIC_CHAINS,
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
