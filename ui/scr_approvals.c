/* scr_approvals.c: screen 3, Approvals. The escrows waiting for this operator's approval:
 * funded, the operator's key is one of the approvers, it has not approved yet, and the
 * threshold is not reached. Under the table, the approval card of the selected request
 * (desk_card_lines: parties by name, amount, who approved, compliance state, deadline,
 * what the gate would refuse). Enter runs the approval through the same worker as the
 * Escrows screen (job.h): checks, policy and gate, then the passphrase under the card.
 * The escrows are a paged view (store_escrow_awaiting): the store filters them, the
 * screen counts them and reads a page of APPR_PAGE when the table reaches it, like the
 * Escrows screen; a `/` filter (names from the address book) reads every page of what
 * awaits this operator, never the other escrows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/amount.h"
#include "api/api.h"
#include "base/log.h"
#include "desk/desk.h"
#include "desk/names.h"
#include "desk/escrow_input.h"
#include "desk.h"
#include "job.h"
#include "notify.h"
#include "screen.h"
#include "text.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Escrow", 6, 13, 0},
    {"Chain", 5, 12, 0},
    {"Action", 6, 8, 0},
    {"Amount", 6, 28, UI_COL_RIGHT},
    {"Asset", 5, 8, 0},
    {"Appr", 4, 5, UI_COL_RIGHT},
    {"Payer -> payee", 14, 0, UI_COL_GROW},
    {"Deadline", 8, 17, 0},
};

static const ui_tscreen_desc desc = {
    "Approvals",
    cols,
    sizeof cols / sizeof cols[0],
    "Nothing waits for your signature: no funded escrow needs this operator's approval",
    "requests",
};

typedef struct appr_row {
    uint64_t chain_id;
    addr escrow, payer, payee;
    char chain[STORE_NAME_MAX];
    char amount[AMOUNT_STR_MAX];
    char asset[STORE_SYMBOL_MAX + 8];
    unsigned approvals, threshold;
    uint64_t deadline;
    int64_t proposal; /* an API proposal to accept (0: an escrow to approve) */
    bool bridge;      /* a bridge proposal: sent by the bridge service */
    char client[STORE_API_NAME_MAX];
} appr_row;

#define APPR_PAGE 200

typedef struct appr_state {
    ui_tscreen ts; /* first: the tscreen helpers see a ui_tscreen */
    ui_desk *desk;
    appr_row *esc; /* the escrows read so far, in the store's order */
    size_t n_esc, cap_esc;
    size_t esc_total; /* how many await this operator (store_escrow_awaiting_count) */
    bool esc_end;     /* the last page was read */
    store_escrow_cursor cur;
    store_chain *chains; /* names and native coins of the rows read */
    size_t n_chains;
    appr_row *props; /* the API's pending proposals, after the escrows */
    size_t n_props;
    bool filtered;
    size_t *shown; /* with a filter: indexes into the escrows, then the proposals */
    size_t n_shown;
    char error[ERR_MSG_MAX];
    desk_names *names;
    /* the card of the selected request, made again when the selection or the data change */
    char card_key[ADDR_STR_MAX];
    char **card;
    size_t card_n;
} appr_state;

static void asset_of(store *s, const store_escrow *x, const store_chain *chains, size_t n_chains,
                     char *sym, size_t cap, unsigned *decimals)
{
    snprintf(sym, cap, "units");
    *decimals = 0;
    addr zero;
    memset(&zero, 0, sizeof zero);
    if (addr_equal(&x->token, &zero)) {
        for (size_t i = 0; i < n_chains; i++)
            if (chains[i].chain_id == x->chain_id) {
                snprintf(sym, cap, "%s", chains[i].native_symbol);
                *decimals = chains[i].native_decimals;
            }
        return;
    }
    store_token *t = NULL;
    size_t n = 0;
    err e;
    if (store_token_list(s, x->chain_id, &t, &n, &e) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (addr_equal(&t[i].address, &x->token)) {
            snprintf(sym, cap, "%s", t[i].symbol);
            *decimals = t[i].decimals;
        }
    free(t);
}

/* A row of the store's page, formatted. */
static void row_fill(appr_state *st, store *s, const store_escrow *x, appr_row *r)
{
    memset(r, 0, sizeof *r);
    r->chain_id = x->chain_id;
    r->escrow = x->address;
    r->payer = x->payer;
    r->payee = x->payee;
    r->approvals = x->n_approvals;
    r->threshold = x->threshold;
    r->deadline = x->deadline;
    snprintf(r->chain, sizeof r->chain, "%llu", (unsigned long long)x->chain_id);
    for (size_t c = 0; c < st->n_chains; c++)
        if (st->chains[c].chain_id == x->chain_id)
            snprintf(r->chain, sizeof r->chain, "%s", st->chains[c].name);
    unsigned dec;
    asset_of(s, x, st->chains, st->n_chains, r->asset, sizeof r->asset, &dec);
    amount_format(r->amount, &x->amount, dec);
}

/* Reads the next page of escrows awaiting this operator; false at the end (or on an
 * error, said in st->error). */
static bool esc_more(appr_state *st)
{
    if (st->esc_end || !st->desk)
        return false;
    store *s = desk_snap_store(st->desk->snap);
    store_escrow *xs = NULL;
    size_t n = 0;
    err e;
    if (store_escrow_awaiting(s, &st->desk->op_address, st->n_esc ? &st->cur : NULL, APPR_PAGE,
                              &xs, &n, &e) < 0) {
        snprintf(st->error, sizeof st->error, "%s", e.msg);
        LOG_W("ui", "approvals: %s", e.msg);
        st->esc_end = true;
        return false;
    }
    if (n < APPR_PAGE)
        st->esc_end = true;
    if (st->n_esc + n > st->cap_esc) {
        size_t cap = (st->n_esc + n) * 2;
        appr_row *grown = realloc(st->esc, cap * sizeof *grown);
        if (!grown) {
            snprintf(st->error, sizeof st->error, "out of memory listing the approvals");
            st->esc_end = true;
            free(xs);
            return false;
        }
        st->esc = grown;
        st->cap_esc = cap;
    }
    for (size_t i = 0; i < n; i++)
        row_fill(st, s, &xs[i], &st->esc[st->n_esc++]);
    if (n)
        store_escrow_cursor_of(&st->cur, &xs[n - 1]);
    free(xs);
    return n > 0;
}

/* Row i of the combined list (escrows, then proposals); NULL past the end. */
static const appr_row *item_at(appr_state *st, size_t i)
{
    size_t n_esc = st->esc_end ? st->n_esc : st->esc_total;
    if (i >= n_esc)
        return i - n_esc < st->n_props ? &st->props[i - n_esc] : NULL;
    while (i >= st->n_esc && esc_more(st)) {
    }
    return i < st->n_esc ? &st->esc[i] : NULL;
}

/* Row i of the table as shown (through the filter). */
static const appr_row *row_at(appr_state *st, size_t i)
{
    if (!st->filtered)
        return item_at(st, i);
    return i < st->n_shown ? item_at(st, st->shown[i]) : NULL;
}

static void apply_filter(appr_state *st)
{
    st->n_shown = 0;
    st->filtered = st->ts.filter[0] != '\0';
    if (!st->filtered)
        return;
    while (esc_more(st)) {
    } /* the names are matched here: every page of what awaits this operator */
    size_t total = st->n_esc + st->n_props;
    size_t *shown = realloc(st->shown, (total ? total : 1) * sizeof *shown);
    if (!shown) {
        snprintf(st->error, sizeof st->error, "out of memory filtering the approvals");
        return;
    }
    st->shown = shown;
    for (size_t i = 0; i < total; i++) {
        const appr_row *r = item_at(st, i);
        char a[ADDR_STR_MAX], p[ADDR_STR_MAX], hay[256];
        addr_to_checksum(a, &r->escrow);
        addr_to_checksum(p, &r->payer);
        snprintf(hay, sizeof hay, "%s %s %s %s", a, p, r->chain, r->asset);
        char q[ADDR_STR_MAX];
        addr_to_checksum(q, &r->payee);
        if (strcasestr(hay, st->ts.filter) || strcasestr(q, st->ts.filter) ||
            desk_names_match(st->names, r->chain_id, &r->payer, st->ts.filter) ||
            desk_names_match(st->names, r->chain_id, &r->payee, st->ts.filter))
            st->shown[st->n_shown++] = i;
    }
}

/* The API's pending proposals (`fusion serve`): rows with the action "accept"; the sign key
 * accepts an escrow or payment one through the desk's pipeline and a bridge one through the
 * bridge service (ui_job_request_proposal). */
static void load_proposals(appr_state *st, store *s)
{
    store_proposal *ps = NULL;
    size_t n = 0;
    err e;
    if (store_proposal_list(s, "pending", 0, 1000, &ps, &n, &e) < 0) {
        snprintf(st->error, sizeof st->error, "%s", e.msg);
        return;
    }
    st->props = calloc(n ? n : 1, sizeof *st->props);
    if (!st->props)
        snprintf(st->error, sizeof st->error, "out of memory listing the proposals");
    for (size_t i = 0; st->props && i < n; i++) {
        api_escrow_req r;
        api_problem pb;
        bool bridge = strcmp(ps[i].kind, "bridge") == 0;
        bool payment = bridge || strcmp(ps[i].kind, "payment") == 0; /* no threshold or deadline */
        const char *b = ps[i].body;
        if ((bridge    ? api_bridge_req_parse(&r, b, strlen(b), &pb)
             : payment ? api_payment_req_parse(&r, b, strlen(b), &pb)
                       : api_escrow_req_parse(&r, b, strlen(b), &pb)) < 0)
            continue;
        appr_row *row = &st->props[st->n_props++];
        memset(row, 0, sizeof *row);
        row->proposal = ps[i].id;
        row->bridge = bridge;
        snprintf(row->client, sizeof row->client, "%s", ps[i].client);
        store_chain ch;
        bool found = false;
        snprintf(row->chain, sizeof row->chain, "%llu", (unsigned long long)ps[i].chain_id);
        if (store_chain_get(s, ps[i].chain_id, &ch, &found, &e) == 0 && found)
            snprintf(row->chain, sizeof row->chain, "%s", ch.name);
        addr token;
        unsigned dec = 0;
        bool known = false;
        u256 amount;
        snprintf(row->asset, sizeof row->asset, "%.*s", (int)sizeof row->asset - 1, r.token);
        snprintf(row->amount, sizeof row->amount, "%s", r.amount);
        if (desk_asset_lookup(s, ps[i].chain_id, r.token, &token, &dec, &known, &e) == 0 &&
            known && u256_from_dec(&amount, r.amount, &e) == 0)
            amount_format(row->amount, &amount, dec);
        row->threshold = r.threshold;
        if (payment ||
            desk_deadline_read(r.deadline, (uint64_t)ps[i].created_at, &row->deadline, &e) < 0)
            row->deadline = 0;
    }
    free(ps);
}

static void load(appr_state *st)
{
    free(st->esc);
    free(st->props);
    free(st->chains);
    st->esc = st->props = NULL;
    st->chains = NULL;
    st->n_esc = st->cap_esc = st->esc_total = st->n_props = st->n_chains = st->n_shown = 0;
    st->esc_end = false;
    st->filtered = false;
    st->error[0] = '\0';
    st->card_key[0] = '\0';
    desk_names_free(&st->names);
    if (!st->desk || !st->desk->has_operator) {
        st->esc_end = true;
        return;
    }
    store *s = desk_snap_store(st->desk->snap);
    err ne;
    if (desk_names_load(&st->names, s, st->desk->ks, &ne) < 0)
        LOG_W("ui", "approvals: %s", ne.msg);
    err e;
    if (store_escrow_awaiting_count(s, &st->desk->op_address, &st->esc_total, &e) < 0 ||
        store_chain_list(s, &st->chains, &st->n_chains, &e) < 0) {
        snprintf(st->error, sizeof st->error, "%s", e.msg);
        LOG_W("ui", "approvals: %s", e.msg);
        st->esc_total = 0;
        st->esc_end = true;
    }
    load_proposals(st, s);
    apply_filter(st);
}

static size_t rows_count(void *ctx)
{
    appr_state *st = ctx;
    if (st->filtered)
        return st->n_shown;
    return (st->esc_end ? st->n_esc : st->esc_total) + st->n_props;
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    appr_state *st = ctx;
    out[0] = '\0';
    const appr_row *r = row_at(st, row);
    if (!r)
        return;
    char a[ADDR_STR_MAX];
    switch (col) {
    case 0:
        if (r->proposal) {
            snprintf(out, cap, "proposal %lld", (long long)r->proposal);
            break;
        }
        addr_to_checksum(a, &r->escrow);
        snprintf(out, cap, "%.6s%s%s", a, ui_glyph()->ellipsis, a + 38);
        break;
    case 1:
        snprintf(out, cap, "%s", r->chain);
        break;
    case 2:
        snprintf(out, cap, r->proposal ? "accept" : "approve");
        break;
    case 3:
        ui_fmt_amount(out, cap, r->amount, ui_glyph()->ellipsis); /* grouped; exact in the card */
        break;
    case 4:
        snprintf(out, cap, "%s", r->asset);
        break;
    case 5:
        snprintf(out, cap, "%u/%u", r->approvals, r->threshold);
        break;
    case 6: {
        if (r->proposal) {
            snprintf(out, cap, "api:%s", r->client);
            break;
        }
        /* names where the book has them, else the short address */
        char pa[ADDR_STR_MAX], pe[ADDR_STR_MAX];
        const char *np = desk_names_of(st->names, r->chain_id, &r->payer);
        const char *ne = desk_names_of(st->names, r->chain_id, &r->payee);
        addr_to_checksum(pa, &r->payer);
        addr_to_checksum(pe, &r->payee);
        snprintf(out, cap, "%.40s -> %.40s", np ? np : pa, ne ? ne : pe);
        break;
    }
    case 7: {
        time_t t = (time_t)r->deadline;
        struct tm tm;
        if (!r->deadline) /* a payment or a bridge transfer has none */
            snprintf(out, cap, "-");
        else if (gmtime_r(&t, &tm))
            strftime(out, cap, "%Y-%m-%d %H:%MZ", &tm);
        break;
    }
    default:
        break;
    }
}

static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    appr_state *st = ctx;
    out[0] = '\0';
    const appr_row *r = row_at(st, row);
    if (!r)
        return;
    if (r->proposal)
        snprintf(out, cap, "proposal %lld", (long long)r->proposal);
    else
        addr_to_lower(out, &r->escrow);
    (void)cap; /* ADDR_STR_MAX < UI_ROW_KEY_MAX */
}

static void rows_filter(void *ctx, const char *text)
{
    appr_state *st = ctx;
    (void)text; /* ts.filter holds it already */
    apply_filter(st);
}

static int open_(ui_screen *s, err *e)
{
    appr_state *st =
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
    appr_state *st = s->state;
    if (!st)
        return;
    free(st->esc);
    free(st->props);
    free(st->chains);
    free(st->shown);
    desk_names_free(&st->names);
    desk_lines_free(&st->card, st->card_n);
    ui_tscreen_close(s);
}

static void draw(ui_screen *s, WINDOW *w)
{
    appr_state *st = s->state;
    int wcols = getmaxx(w);
    char note[UI_FILTER_MAX + 128], num[32];
    int o = snprintf(note, sizeof note, "%s waiting for %s",
                     ui_fmt_count(ui_table_count(&st->ts.table), num, sizeof num),
                     st->desk && st->desk->operator_name[0] ? st->desk->operator_name : "you");
    if (st->ts.filter[0])
        snprintf(note + o, sizeof note - (size_t)o, " matching /%s", st->ts.filter);
    ui_heading_draw(w, 0, "Approvals", note);
    size_t row;
    bool sel = ui_table_selected(&st->ts.table, &row) && row_at(st, row);
    int y = ui_table_draw_body(&st->ts.table, w, sel, st->error[0] ? st->error : desc.empty);
    if (!sel || !ui_table_selected(&st->ts.table, &row) || !row_at(st, row))
        return;
    const appr_row *r = row_at(st, row);
    char key[ADDR_STR_MAX];
    addr_to_lower(key, &r->escrow);
    if (strcmp(key, st->card_key) != 0) {
        desk_lines_free(&st->card, st->card_n);
        st->card_n = 0;
        err e;
        char rule[512];
        desk_card_policy(desk_snap_store(st->desk->snap), st->desk->home,
                         st->desk->operator_name, st->desk->op_roles, r->chain_id, &r->escrow,
                         "approve", rule, sizeof rule);
        if (desk_card_lines(desk_snap_store(st->desk->snap), st->names, r->chain_id, &r->escrow,
                            "approve", &st->desk->op_address, NULL, rule, (int64_t)time(NULL),
                            &st->card, &st->card_n, &e) < 0) {
            ui_put(w, y + 1, 1, e.msg, wcols - 2, UI_ALIGN_LEFT, UI_ROLE_ERROR);
            return;
        }
        snprintf(st->card_key, sizeof st->card_key, "%s", key);
    }
    ui_detail_draw(w, y, " Approval card ", st->card, st->card_n);
}

/* An escrow or payment proposal goes through the desk's pipeline; a bridge transfer through
 * the bridge service (burn, attestation, mint), each signature behind the same checks. */
static unsigned request_proposal(ui_screen *s, const appr_row *r)
{
    return ui_job_request_proposal(s->app, r->proposal, r->bridge);
}

/* A: the selected row's API proposal, accepted through the desk's pipeline. */
static unsigned accept_proposal(ui_screen *s, appr_state *st)
{
    size_t row;
    const appr_row *r = ui_table_selected(&st->ts.table, &row) ? row_at(st, row) : NULL;
    if (!r || !r->proposal) {
        ui_message(s->app, UI_MSG_ERROR, "accept: select a proposal (an \"accept\" row)");
        return UI_REDRAW;
    }
    return request_proposal(s, r);
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    appr_state *st = s->state;
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    if (ev->action == UI_ACT_PROPOSAL_ACCEPT)
        return accept_proposal(s, st);
    if (ev->action != UI_ACT_SIGN)
        return ui_not_in_build(s, ev->action);
    size_t row;
    const appr_row *sel = ui_table_selected(&st->ts.table, &row) ? row_at(st, row) : NULL;
    if (!sel) {
        ui_message(s->app, UI_MSG_ERROR, "sign: nothing selected");
        return UI_REDRAW;
    }
    if (sel->proposal)
        return request_proposal(s, sel);
    return ui_job_request(s->app, "approve", &sel->escrow);
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    appr_state *st = s->state;
    if (!(topics & ~UI_TOPIC_JOBS)) /* the loop polls the action worker (ui_job_poll) */
        return UI_OK;
    load(st);
    return UI_REDRAW;
}

const ui_screen_ops ui_scr_approvals = {
    .topics = UI_TOPIC_APPROVALS | UI_TOPIC_ESCROWS | UI_TOPIC_JOBS,
    .open = open_,
    .close = close_,
    .draw = draw,
    .handle = handle,
    .changed = changed,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
