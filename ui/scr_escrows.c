/* scr_escrows.c: screen 2, Escrows. A virtualized table over the desk's escrows
 * (desk_escrow_view: filter and sort in SQL, only the visible window in memory), sorted
 * by `s`, filtered by `/`; Enter opens a detail pane under the table with the parties,
 * the approvals and the event timeline of the selected escrow. The actions (f fund,
 * a approve, r release, R refund, D dispute, v resolve) run through the desk service on a worker
 * (job.h): passphrase, pre-sign summary in the confirm dialog, send on y only; n opens the
 * new-escrow form (form_escrow.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/log.h"
#include "desk/names.h"
#include "desk.h"
#include "form.h"
#include "job.h"
#include "notify.h"
#include "screen.h"
#include "text.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Escrow", 6, 13, 0},
    {"Chain", 5, 12, 0},
    {"Counterparty", 12, 0, UI_COL_GROW},
    {"Asset", 5, 8, 0},
    {"Amount", 6, 28, UI_COL_RIGHT},
    {"State", 5, 10, 0},
    {"Appr", 4, 5, UI_COL_RIGHT},
    {"Block", 5, 10, UI_COL_RIGHT},
};
/* H: the same columns with the escrow's full address */
static const ui_column cols_full[] = {
    {"Escrow", 42, 42, 0},
    {"Chain", 5, 12, 0},
    {"Counterparty", 12, 0, UI_COL_GROW},
    {"Asset", 5, 8, 0},
    {"Amount", 6, 28, UI_COL_RIGHT},
    {"State", 5, 10, 0},
    {"Appr", 4, 5, UI_COL_RIGHT},
    {"Block", 5, 10, UI_COL_RIGHT},
};

static const ui_tscreen_desc desc_nochain = {
    "Escrows",
    cols,
    sizeof cols / sizeof cols[0],
    "No escrows: no chain is configured on this desk - see `fusion chain add`",
    "escrows",
};

static const ui_tscreen_desc desc_chain = {
    "Escrows",
    cols,
    sizeof cols / sizeof cols[0],
    "No escrows on the configured chains yet: they appear here as sync finds them",
    "escrows",
};

/* The table's sort orders by column (the first entry is the default order). */
static const desk_escrow_sort col_sorts[] = {
    DESK_ESCROW_SORT_RECENT, DESK_ESCROW_SORT_ADDRESS,   DESK_ESCROW_SORT_CHAIN,
    DESK_ESCROW_SORT_PAYEE,  DESK_ESCROW_SORT_ASSET,     DESK_ESCROW_SORT_AMOUNT,
    DESK_ESCROW_SORT_STATE,  DESK_ESCROW_SORT_APPROVALS, DESK_ESCROW_SORT_BLOCK,
};
#define N_SORTS (sizeof col_sorts / sizeof col_sorts[0])

typedef struct esc_state {
    ui_tscreen ts; /* first: the tscreen helpers see a ui_tscreen */
    ui_desk *desk;
    desk_escrow_view *view;
    size_t sort_i;
    bool reverse; /* S: the current order reversed */
    bool full;    /* H: full addresses */
    bool detail;
    bool have_detail;
    uint64_t d_chain;
    addr d_addr;
    char **d_lines;
    size_t d_n;
    char d_err[ERR_MSG_MAX];
    bool logged_error;
    char read_err[ERR_MSG_MAX]; /* the table's last read failed (the book's server away) */
    desk_names *names; /* the address book: the counterparty's name, `/` by name */
} esc_state;

/* The table's size: exact when known, else the rows found so far (the exact count of a
 * filter is made in the background and shows up on a later tick). */
static size_t rows_size(esc_state *st, bool *exact)
{
    size_t n = 0;
    err e;
    *exact = true;
    if (!st->view)
        return 0;
    if (desk_escrow_view_size(st->view, &n, exact, &e) < 0) {
        if (!st->logged_error)
            LOG_W("ui", "%s", e.msg);
        st->logged_error = true;
        snprintf(st->read_err, sizeof st->read_err, "%s", e.msg);
        return 0;
    }
    st->read_err[0] = '\0';
    return n;
}

static size_t rows_count(void *ctx)
{
    bool exact;
    return rows_size(ctx, &exact);
}

static void short_addr(char *out, size_t cap, const addr *a)
{
    char s[ADDR_STR_MAX];
    addr_to_checksum(s, a);
    snprintf(out, cap, "%.6s%s%s", s, ui_glyph()->ellipsis, s + 38);
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    esc_state *st = ctx;
    const desk_escrow_row *r = NULL;
    err e;
    out[0] = '\0';
    if (!st->view || desk_escrow_view_row(st->view, row, &r, &e) < 0) {
        if (!st->logged_error && st->view)
            LOG_W("ui", "%s", e.msg);
        st->logged_error = true;
        snprintf(out, cap, "?");
        return;
    }
    switch (col) {
    case 0:
        if (st->full)
            addr_to_checksum(out, &r->address);
        else
            short_addr(out, cap, &r->address);
        break;
    case 1:
        snprintf(out, cap, "%s", r->chain);
        break;
    case 2:
        desk_names_label(out, cap, st->names, r->chain_id, &r->payee);
        break;
    case 3:
        snprintf(out, cap, "%s", r->asset);
        break;
    case 4:
        ui_fmt_amount(out, cap, r->amount, ui_glyph()->ellipsis);
        break;
    case 5:
        snprintf(out, cap, "%s%s", r->state, r->pending ? "*" : "");
        break;
    case 6:
        snprintf(out, cap, "%u/%u", r->approvals, r->threshold);
        break;
    case 7:
        snprintf(out, cap, "%llu", (unsigned long long)r->last_block);
        break;
    default:
        break;
    }
}

/* A row's identity: its chain and address. */
static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    esc_state *st = ctx;
    const desk_escrow_row *r = NULL;
    err e;
    out[0] = '\0';
    if (!st->view || desk_escrow_view_row(st->view, row, &r, &e) < 0)
        return;
    char a[ADDR_STR_MAX];
    addr_to_lower(a, &r->address);
    snprintf(out, cap, "%llu:%s", (unsigned long long)r->chain_id, a);
}

/* A filter that names one address of the address book ("/helios") filters by that
 * address; the view's SQL knows addresses, not names. */
static const char *filter_text(esc_state *st, char *out, size_t cap)
{
    addr a;
    err e;
    if (!st->ts.filter[0] || !st->names)
        return st->ts.filter;
    if (strncmp(st->ts.filter, "0x", 2) == 0)
        return st->ts.filter;
    if (desk_names_resolve(st->names, 0, st->ts.filter, &a, &e) == 0 ||
        desk_names_find(st->names, 0, st->ts.filter, &a) == 1) {
        char hex[ADDR_STR_MAX];
        addr_to_lower(hex, &a);
        snprintf(out, cap, "%s", hex);
        return out;
    }
    return st->ts.filter;
}

static void view_apply(esc_state *st)
{
    if (!st->view)
        return;
    desk_escrow_sort s = col_sorts[st->sort_i];
    /* Most recent and the block go newest first; the rest ascending. */
    bool desc = (s == DESK_ESCROW_SORT_RECENT || s == DESK_ESCROW_SORT_BLOCK) != st->reverse;
    char hex[ADDR_STR_MAX];
    desk_escrow_view_set(st->view, filter_text(st, hex, sizeof hex), s, desc);
    /* the header marks the sorted column (col_sorts[i] sorts column i - 1; 0: recent) */
    st->ts.table.sort_col = st->sort_i > 0 ? (int)st->sort_i - 1 : -1;
    st->ts.table.sort_desc = desc;
}

static void rows_filter(void *ctx, const char *text)
{
    esc_state *st = ctx;
    (void)text; /* ts.filter holds it already */
    view_apply(st);
}

static void detail_drop(esc_state *st)
{
    desk_lines_free(&st->d_lines, st->d_n);
    st->d_n = 0;
    st->have_detail = false;
    st->d_err[0] = '\0';
}

static int open_(ui_screen *s, err *e)
{
    ui_desk *desk = ui_app_desk(s->app);
    esc_state *st =
        ui_tscreen_new(s, desk && desk->has_chain ? &desc_chain : &desc_nochain, sizeof *st,
                       (ui_rows){rows_count, rows_cell, rows_filter, NULL, NULL}, rows_key, e);
    if (!st)
        return -1;
    st->desk = desk;
    if (st->desk && desk_escrow_view_new(&st->view, st->desk->snap, e) < 0) {
        ui_tscreen_close(s);
        return -1;
    }
    err ne;
    if (st->desk && desk_names_load(&st->names, desk_snap_store(st->desk->snap), st->desk->ks,
                                    &ne) < 0)
        LOG_W("ui", "escrows: %s", ne.msg);
    return 0;
}

static void close_(ui_screen *s)
{
    esc_state *st = s->state;
    if (!st)
        return;
    detail_drop(st);
    desk_names_free(&st->names);
    desk_escrow_view_free(&st->view);
    ui_tscreen_close(s);
}

static void detail_load(esc_state *st)
{
    size_t row;
    const desk_escrow_row *r = NULL;
    err e;
    err_clear(&e);
    if (!st->view || !ui_table_selected(&st->ts.table, &row) ||
        desk_escrow_view_row(st->view, row, &r, &e) < 0) {
        detail_drop(st);
        snprintf(st->d_err, sizeof st->d_err, "%s", e.msg[0] ? e.msg : "no escrow selected");
        return;
    }
    if (st->have_detail && st->d_chain == r->chain_id && addr_equal(&st->d_addr, &r->address))
        return;
    detail_drop(st);
    st->d_chain = r->chain_id;
    st->d_addr = r->address;
    st->have_detail = true;
    if (desk_escrow_detail(st->desk->snap, st->d_chain, &st->d_addr, &st->d_lines, &st->d_n, &e) <
        0) {
        snprintf(st->d_err, sizeof st->d_err, "%s", e.msg);
        return;
    }
    for (size_t i = 0; i < st->d_n; i++) { /* names in the events' fields too */
        char *x = ui_name_addresses(st->names, st->d_chain, st->d_lines[i]);
        if (x) {
            free(st->d_lines[i]);
            st->d_lines[i] = x;
        }
    }
}

static void draw(ui_screen *s, WINDOW *w)
{
    esc_state *st = s->state;
    int rows, wcols;
    getmaxyx(w, rows, wcols);
    st->ts.d = st->desk && st->desk->has_chain ? &desc_chain : &desc_nochain;
    char note[UI_FILTER_MAX + 128], num[32];
    bool exact;
    size_t n = rows_size(st, &exact);
    int o = snprintf(note, sizeof note, "%s%s escrows", ui_fmt_count(n, num, sizeof num),
                     exact ? "" : "+");
    if (st->ts.filter[0])
        o += snprintf(note + o, sizeof note - (size_t)o, " matching /%s", st->ts.filter);
    if (st->sort_i > 0)
        snprintf(note + o, sizeof note - (size_t)o, ", by %s",
                 desk_escrow_sort_label(col_sorts[st->sort_i]));
    ui_heading_draw(w, 0, "Escrows", note);
    int y = ui_table_draw_body(&st->ts.table, w, st->detail && n > 0, st->ts.d->empty);
    if (!st->detail || n == 0)
        return;
    detail_load(st);
    ui_hline(w, y++, 0, wcols, UI_ROLE_BORDER);
    if (st->d_err[0]) {
        ui_put(w, y, 1, st->d_err, wcols - 2, UI_ALIGN_LEFT, UI_ROLE_ERROR);
        return;
    }
    for (size_t i = 0; i < st->d_n && y < rows; i++, y++)
        ui_put(w, y, 1, st->d_lines[i], wcols - 2, UI_ALIGN_LEFT,
               i == 0 ? UI_ROLE_HEADER : UI_ROLE_NORMAL);
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    esc_state *st = s->state;
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    switch (ev->action) {
    case UI_ACT_SORT: {
        /* A large table gets the indexed orders only: the others sort every row on each
         * page read and would freeze the screen for seconds. */
        bool exact;
        size_t n = rows_size(st, &exact);
        bool big = !exact || n > DESK_SORT_UNINDEXED_MAX; /* not counted yet: many */
        size_t next = st->sort_i;
        do
            next = (next + 1) % N_SORTS;
        while (big && !desk_escrow_sort_indexed(col_sorts[next]));
        st->sort_i = next;
        st->reverse = false;
        view_apply(st);
        ui_table_reset(&st->ts.table);
        char num[32];
        if (big)
            ui_message(s->app, UI_MSG_INFO,
                       "escrows sorted by %s (with %s%s rows only indexed orders; / narrows)",
                       desk_escrow_sort_label(col_sorts[st->sort_i]),
                       ui_fmt_count(n, num, sizeof num), exact ? "" : "+");
        else
            ui_message(s->app, UI_MSG_INFO, "escrows sorted by %s",
                       desk_escrow_sort_label(col_sorts[st->sort_i]));
        return UI_REDRAW;
    }
    case UI_ACT_FULL: { /* H: full addresses on demand (the selection stays) */
        size_t keep = st->ts.table.cur, top = st->ts.table.top;
        st->full = !st->full;
        st->ts.table.cols = st->full ? cols_full : cols;
        ui_table_reset(&st->ts.table);
        st->ts.table.cur = keep;
        st->ts.table.top = top;
        ui_message(s->app, UI_MSG_INFO, "%s addresses", st->full ? "full" : "short");
        return UI_REDRAW;
    }
    case UI_ACT_SORT_REVERSE: /* S: the same column, the other way round */
        st->reverse = !st->reverse;
        view_apply(st);
        ui_table_reset(&st->ts.table);
        ui_message(s->app, UI_MSG_INFO, "escrows sorted by %s, %s",
                   desk_escrow_sort_label(col_sorts[st->sort_i]),
                   st->ts.table.sort_desc ? "descending" : "ascending");
        return UI_REDRAW;
    case UI_ACT_OPEN:
        st->detail = !st->detail;
        return UI_REDRAW;
    case UI_ACT_COPY: { /* y: the full address of the escrow under the cursor */
        size_t row;
        const desk_escrow_row *er = NULL;
        err e;
        err_clear(&e);
        if (!st->view || !ui_table_selected(&st->ts.table, &row) ||
            desk_escrow_view_row(st->view, row, &er, &e) < 0)
            return UI_OK;
        char a[ADDR_STR_MAX];
        addr_to_checksum(a, &er->address);
        ui_term_clipboard(a);
        ui_message(s->app, UI_MSG_INFO, "copied %s to the clipboard (OSC 52)", a);
        return UI_REDRAW;
    }
    case UI_ACT_ESCROW_NEW:
        return ui_form_escrow_open(s->app);
    case UI_ACT_ESCROW_FUND:
    case UI_ACT_ESCROW_APPROVE:
    case UI_ACT_ESCROW_RELEASE:
    case UI_ACT_ESCROW_REFUND:
    case UI_ACT_ESCROW_DISPUTE:
    case UI_ACT_ESCROW_RESOLVE: {
        size_t row;
        const desk_escrow_row *er = NULL;
        err e;
        err_clear(&e);
        if (!st->view || !ui_table_selected(&st->ts.table, &row) ||
            desk_escrow_view_row(st->view, row, &er, &e) < 0) {
            ui_message(s->app, UI_MSG_ERROR, "%s: %s", ui_actions[ev->action].command,
                       e.msg[0] ? e.msg : "no escrow selected");
            return UI_REDRAW;
        }
        if (ev->action == UI_ACT_ESCROW_RESOLVE)
            return ui_form_resolve_open(s->app, &er->address);
        return ui_job_request(s->app, ui_actions[ev->action].command, &er->address);
    }
    default:
        return ui_not_in_build(s, ev->action);
    }
}

/* Esc, and q before it quits: the detail pane closes. */
static bool close_overlay(ui_screen *s)
{
    esc_state *st = s->state;
    if (!st->detail || ui_table_count(&st->ts.table) == 0)
        return false;
    st->detail = false;
    return true;
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    esc_state *st = s->state;
    if (!(topics & ~UI_TOPIC_JOBS)) /* the loop polls the action worker (ui_job_poll) */
        return UI_OK;
    /* ENTITIES alone (a book on a server, desk.db changed): the names, not the rows */
    if (st->view && (topics & UI_TOPIC_ESCROWS))
        desk_escrow_view_invalidate(st->view);
    detail_drop(st); /* its lines carry names */
    st->logged_error = false;
    if (st->desk) { /* entities and operators may have changed too */
        desk_names *book = NULL;
        err ne;
        if (desk_names_load(&book, desk_snap_store(st->desk->snap), st->desk->ks, &ne) == 0) {
            desk_names_free(&st->names);
            st->names = book;
        }
    }
    return UI_REDRAW;
}

/* Once a second: count a filter's matches in the background, redraw when the count is in. */
static unsigned tick(ui_screen *s, time_t now)
{
    esc_state *st = s->state;
    bool arrived = false;
    err e;
    (void)now;
    if (st->view && desk_escrow_view_count_async(st->view, &arrived, true, &e) < 0)
        LOG_W("ui", "%s", e.msg);
    /* a failed read (the book's server away) is tried again every second */
    return arrived || st->read_err[0] ? UI_REDRAW : UI_OK;
}

static void status(ui_screen *s, char *out, size_t cap)
{
    esc_state *st = s->state;
    bool exact;
    size_t n = rows_size(st, &exact), row;
    char a[32], b[32];
    if (st->read_err[0])
        snprintf(out, cap, "escrows: %s", st->read_err);
    else if (ui_table_selected(&st->ts.table, &row))
        snprintf(out, cap, "escrows %s/%s%s", ui_fmt_count(row + 1, a, sizeof a),
                 ui_fmt_count(n, b, sizeof b), exact ? "" : "+");
    else
        snprintf(out, cap, "no escrows");
}

const ui_screen_ops ui_scr_escrows = {
    .close_overlay = close_overlay,
    .topics = UI_TOPIC_ESCROWS | UI_TOPIC_ENTITIES | UI_TOPIC_JOBS,
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
