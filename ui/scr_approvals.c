/* scr_approvals.c: screen 3, Approvals. The escrows waiting for this operator's approval:
 * funded, the operator's key is one of the approvers, it has not approved yet, and the
 * threshold is not reached. Under the table, the approval card of the selected request
 * (desk_card_lines: parties by name, amount, who approved, compliance state, deadline,
 * what the gate would refuse). Enter runs the approval through the same worker as the
 * Escrows screen (job.h): checks, policy and gate, then the passphrase under the card.
 * The list is read whole from the store on each change (store_escrow_list): fine for a
 * desk's working set, not for a million. */
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
    char client[STORE_API_NAME_MAX];
} appr_row;

typedef struct appr_state {
    ui_tscreen ts; /* first: the tscreen helpers see a ui_tscreen */
    ui_desk *desk;
    appr_row *all;
    size_t n_all;
    size_t *shown; /* indexes into all matching the filter */
    size_t n_shown;
    char error[ERR_MSG_MAX];
    desk_names *names;
    /* the card of the selected request, made again when the selection or the data change */
    char card_key[ADDR_STR_MAX];
    char **card;
    size_t card_n;
} appr_state;

static bool waits_for(const store_escrow *x, const addr *op)
{
    if (x->state != ESCROW_FUNDED || x->n_approvals >= x->threshold)
        return false;
    bool listed = false;
    for (unsigned i = 0; i < x->n_approvers; i++)
        listed |= addr_equal(&x->approvers[i], op);
    for (unsigned i = 0; i < x->n_approvals; i++)
        if (addr_equal(&x->approvals[i].approver, op))
            return false;
    return listed;
}

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

static void apply_filter(appr_state *st)
{
    st->n_shown = 0;
    for (size_t i = 0; i < st->n_all; i++) {
        const appr_row *r = &st->all[i];
        char a[ADDR_STR_MAX], p[ADDR_STR_MAX], hay[256];
        addr_to_checksum(a, &r->escrow);
        addr_to_checksum(p, &r->payer);
        snprintf(hay, sizeof hay, "%s %s %s %s", a, p, r->chain, r->asset);
        char q[ADDR_STR_MAX];
        addr_to_checksum(q, &r->payee);
        if (!st->ts.filter[0] || strcasestr(hay, st->ts.filter) || strcasestr(q, st->ts.filter) ||
            desk_names_match(st->names, r->chain_id, &r->payer, st->ts.filter) ||
            desk_names_match(st->names, r->chain_id, &r->payee, st->ts.filter))
            st->shown[st->n_shown++] = i;
    }
}

/* The API's pending escrow and payment proposals (`fusion serve`): rows with the action "accept"; the
 * sign key accepts one through the desk's pipeline (ui_job_request_proposal). */
static void load_proposals(appr_state *st, store *s)
{
    store_proposal *ps = NULL;
    size_t n = 0;
    err e;
    if (store_proposal_list(s, "pending", 0, 1000, &ps, &n, &e) < 0) {
        snprintf(st->error, sizeof st->error, "%s", e.msg);
        return;
    }
    appr_row *all = realloc(st->all, (st->n_all + n + 1) * sizeof *all);
    size_t *shown = realloc(st->shown, (st->n_all + n + 1) * sizeof *shown);
    if (all)
        st->all = all;
    if (shown)
        st->shown = shown;
    for (size_t i = 0; all && shown && i < n; i++) {
        api_escrow_req r;
        api_problem pb;
        bool payment = strcmp(ps[i].kind, "payment") == 0; /* no threshold or deadline */
        if ((payment ? api_payment_req_parse(&r, ps[i].body, strlen(ps[i].body), &pb)
                     : api_escrow_req_parse(&r, ps[i].body, strlen(ps[i].body), &pb)) < 0)
            continue;
        appr_row *row = &st->all[st->n_all++];
        memset(row, 0, sizeof *row);
        row->proposal = ps[i].id;
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
    free(st->all);
    free(st->shown);
    st->all = NULL;
    st->shown = NULL;
    st->n_all = st->n_shown = 0;
    st->error[0] = '\0';
    st->card_key[0] = '\0';
    desk_names_free(&st->names);
    if (!st->desk || !st->desk->has_operator)
        return;
    store *s = desk_snap_store(st->desk->snap);
    err ne;
    if (desk_names_load(&st->names, s, st->desk->ks, &ne) < 0)
        LOG_W("ui", "approvals: %s", ne.msg);
    store_escrow *xs = NULL;
    store_chain *chains = NULL;
    size_t n = 0, n_chains = 0;
    err e;
    if (store_escrow_list(s, 0, &xs, &n, &e) < 0 ||
        store_chain_list(s, &chains, &n_chains, &e) < 0) {
        snprintf(st->error, sizeof st->error, "%s", e.msg);
        LOG_W("ui", "approvals: %s", e.msg);
        free(xs);
        return;
    }
    st->all = calloc(n ? n : 1, sizeof *st->all);
    st->shown = calloc(n ? n : 1, sizeof *st->shown);
    if (!st->all || !st->shown) {
        snprintf(st->error, sizeof st->error, "out of memory listing the approvals");
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!waits_for(&xs[i], &st->desk->op_address))
            continue;
        appr_row *r = &st->all[st->n_all++];
        r->chain_id = xs[i].chain_id;
        r->escrow = xs[i].address;
        r->payer = xs[i].payer;
        r->payee = xs[i].payee;
        r->approvals = xs[i].n_approvals;
        r->threshold = xs[i].threshold;
        r->deadline = xs[i].deadline;
        snprintf(r->chain, sizeof r->chain, "%llu", (unsigned long long)xs[i].chain_id);
        for (size_t c = 0; c < n_chains; c++)
            if (chains[c].chain_id == xs[i].chain_id)
                snprintf(r->chain, sizeof r->chain, "%s", chains[c].name);
        unsigned dec;
        asset_of(s, &xs[i], chains, n_chains, r->asset, sizeof r->asset, &dec);
        amount_format(r->amount, &xs[i].amount, dec);
    }
    free(xs);
    free(chains);
    load_proposals(st, s);
    apply_filter(st);
}

static size_t rows_count(void *ctx)
{
    appr_state *st = ctx;
    return st->n_shown;
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    appr_state *st = ctx;
    out[0] = '\0';
    if (row >= st->n_shown)
        return;
    const appr_row *r = &st->all[st->shown[row]];
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
        if (gmtime_r(&t, &tm))
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
    if (row >= st->n_shown)
        return;
    addr_to_lower(out, &st->all[st->shown[row]].escrow);
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
    appr_state *st = calloc(1, sizeof *st);
    if (!st)
        return err_set(e, ERR_NOMEM, "out of memory opening the Approvals screen");
    st->desk = ui_app_desk(s->app);
    st->ts.d = &desc;
    ui_table_init(&st->ts.table, cols, sizeof cols / sizeof cols[0],
                  (ui_rows){rows_count, rows_cell, rows_filter, NULL, st});
    ui_table_set_key(&st->ts.table, rows_key);
    s->state = st;
    load(st);
    return 0;
}

static void close_(ui_screen *s)
{
    appr_state *st = s->state;
    if (!st)
        return;
    free(st->all);
    free(st->shown);
    desk_names_free(&st->names);
    desk_lines_free(&st->card, st->card_n);
    ui_table_free(&st->ts.table);
    free(st);
    s->state = NULL;
}

static void draw(ui_screen *s, WINDOW *w)
{
    appr_state *st = s->state;
    int rows, wcols;
    getmaxyx(w, rows, wcols);
    char note[UI_FILTER_MAX + 128], num[32];
    int o = snprintf(note, sizeof note, "%s waiting for %s",
                     ui_fmt_count(ui_table_count(&st->ts.table), num, sizeof num),
                     st->desk && st->desk->operator_name[0] ? st->desk->operator_name : "you");
    if (st->ts.filter[0])
        snprintf(note + o, sizeof note - (size_t)o, " matching /%s", st->ts.filter);
    ui_heading_draw(w, 0, "Approvals", note);
    size_t row;
    bool sel = ui_table_selected(&st->ts.table, &row) && row < st->n_shown;
    int table_h = sel ? ui_detail_table_rows(rows) : rows - 2;
    ui_table_draw(&st->ts.table, w, 2, 1, table_h, wcols - 2,
                  st->error[0] ? st->error : desc.empty);
    if (!sel || !ui_table_selected(&st->ts.table, &row) || row >= st->n_shown)
        return;
    const appr_row *r = &st->all[st->shown[row]];
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
            ui_put(w, 2 + table_h + 1, 1, e.msg, wcols - 2, UI_ALIGN_LEFT, UI_ROLE_ERROR);
            return;
        }
        snprintf(st->card_key, sizeof st->card_key, "%s", key);
    }
    ui_detail_draw(w, 2 + table_h, " Approval card ", st->card, st->card_n);
}

/* A: the selected row's API proposal, accepted through the desk's pipeline. */
static unsigned accept_proposal(ui_screen *s, appr_state *st)
{
    size_t row;
    if (!ui_table_selected(&st->ts.table, &row) || row >= st->n_shown ||
        !st->all[st->shown[row]].proposal) {
        ui_message(s->app, UI_MSG_ERROR, "accept: select a proposal (an \"accept\" row)");
        return UI_REDRAW;
    }
    return ui_job_request_proposal(s->app, st->all[st->shown[row]].proposal);
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
    if (!ui_table_selected(&st->ts.table, &row) || row >= st->n_shown) {
        ui_message(s->app, UI_MSG_ERROR, "sign: nothing selected");
        return UI_REDRAW;
    }
    if (st->all[st->shown[row]].proposal)
        return ui_job_request_proposal(s->app, st->all[st->shown[row]].proposal);
    return ui_job_request(s->app, "approve", &st->all[st->shown[row]].escrow);
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    appr_state *st = s->state;
    unsigned r = topics & UI_TOPIC_JOBS ? ui_job_poll(s->app) : UI_OK;
    if (!(topics & ~UI_TOPIC_JOBS))
        return r;
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
