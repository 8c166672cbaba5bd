/* scr_entities.c: screen 5, Entities: the KYC/KYB registry (src/compliance, stored by
 * src/store) as a table (name, type, jurisdiction, KYC status and expiry, tier, risk,
 * blocked, linked addresses), filtered by `/`, sorted by `s`; Enter opens the detail pane
 * with the linked addresses per chain, the documents, the related parties and the open
 * cases. Read-only: entities are written with `fusion entity ...`. A desk holds thousands
 * of entities, not millions, so the list is read whole on the UI thread's read connection. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/log.h"
#include "compliance/compliance.h"
#include "desk.h"
#include "desk/desk.h"
#include "notify.h"
#include "screen.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Entity", 12, 0, UI_COL_GROW}, {"Type", 4, 10, 0},   {"Jurisdiction", 6, 12, 0},
    {"KYC", 6, 10, 0},              {"Expires", 10, 10, 0}, {"Tier", 4, 4, UI_COL_RIGHT},
    {"Risk", 4, 6, 0},              {"Blocked", 7, 7, 0}, {"Addresses", 9, 9, UI_COL_RIGHT},
};
#define N_COLS (sizeof cols / sizeof cols[0])

static const ui_tscreen_desc desc = {
    "Entities",
    cols,
    N_COLS,
    "No entities: no KYC/KYB records on this desk yet - see `fusion entity add`",
    "entities",
};

enum { SORT_NAME, SORT_RISK, SORT_EXPIRY, SORT_JURISDICTION, N_SORTS };
static const char *const sort_names[N_SORTS] = {"name", "risk (high first)",
                                                "KYC expiry (soonest first)", "jurisdiction"};

typedef struct ent_state {
    ui_tscreen ts; /* first: the tscreen helpers see a ui_tscreen */
    ui_desk *desk;
    store_entity *ents;
    size_t *n_links; /* per entity */
    size_t n;
    size_t *idx; /* sorted, filtered */
    size_t n_idx;
    int sort;
    bool reverse; /* S: the order reversed */
    char load_err[ERR_MSG_MAX];
    bool detail;
    int64_t d_id;
    char **d_lines;
    size_t d_n, d_cap;
} ent_state;

static int risk_rank(const char *r)
{
    return !strcmp(r, "high") ? 0 : !strcmp(r, "medium") ? 1 : 2;
}

static const ent_state *sort_st; /* qsort has no context argument */

static int cmp_idx(const void *pa, const void *pb)
{
    const store_entity *a = &sort_st->ents[*(const size_t *)pa];
    const store_entity *b = &sort_st->ents[*(const size_t *)pb];
    int c = 0;
    switch (sort_st->sort) {
    case SORT_RISK:
        c = risk_rank(a->risk) - risk_rank(b->risk);
        break;
    case SORT_EXPIRY:
        /* No expiry sorts last. */
        c = (!a->kyc_expires[0]) - (!b->kyc_expires[0]);
        if (!c)
            c = strcmp(a->kyc_expires, b->kyc_expires);
        break;
    case SORT_JURISDICTION:
        c = strcmp(a->jurisdiction, b->jurisdiction);
        break;
    default:
        break;
    }
    c = c ? c : strcmp(a->name, b->name);
    return sort_st->reverse ? -c : c;
}

/* The header marks the sorted column: name, risk (high first: descending), KYC expiry
 * (soonest first), jurisdiction; S flips it. */
static void mark_sort(ent_state *st)
{
    static const int col_of[N_SORTS] = {0, 6, 4, 2};
    st->ts.table.sort_col = col_of[st->sort];
    st->ts.table.sort_desc = (st->sort == SORT_RISK) != st->reverse;
}

static void arrange(ent_state *st)
{
    st->n_idx = 0;
    const char *f = st->ts.filter;
    for (size_t i = 0; i < st->n; i++) {
        const store_entity *x = &st->ents[i];
        if (f[0] && !ui_match(x->name, f) && !ui_match(x->type, f) &&
            !ui_match(x->jurisdiction, f) && !ui_match(x->kyc, f) &&
            !ui_match(x->risk, f) && !(x->blocked && ui_match("blocked", f)))
            continue;
        st->idx[st->n_idx++] = i;
    }
    sort_st = st;
    qsort(st->idx, st->n_idx, sizeof st->idx[0], cmp_idx);
    sort_st = NULL;
}

static void detail_drop(ent_state *st)
{
    desk_lines_free(&st->d_lines, st->d_n);
    st->d_n = st->d_cap = 0;
    st->d_id = 0;
}

static const store_entity *selected(ent_state *st)
{
    size_t row;
    if (!ui_table_selected(&st->ts.table, &row) || row >= st->n_idx)
        return NULL;
    return &st->ents[st->idx[row]];
}

static void load(ent_state *st)
{
    const store_entity *sel = selected(st);
    int64_t keep = sel ? sel->id : 0;
    free(st->ents);
    free(st->n_links);
    free(st->idx);
    st->ents = NULL;
    st->n_links = NULL;
    st->idx = NULL;
    st->n = st->n_idx = 0;
    st->load_err[0] = '\0';
    detail_drop(st);
    if (!st->desk)
        return;
    store *db = desk_snap_store(st->desk->snap);
    err e;
    err_clear(&e);
    store_entity *xs = NULL;
    size_t n = 0;
    store_entity_link *ls = NULL;
    size_t nl = 0;
    if (store_entity_list(db, &xs, &n, &e) < 0 || store_entity_links(db, 0, &ls, &nl, &e) < 0) {
        free(xs);
        snprintf(st->load_err, sizeof st->load_err, "%s", e.msg);
        LOG_W("ui", "entities: %s", e.msg);
        return;
    }
    st->n_links = calloc(n ? n : 1, sizeof *st->n_links);
    st->idx = calloc(n ? n : 1, sizeof *st->idx);
    if (!st->n_links || !st->idx) {
        free(xs);
        free(ls);
        free(st->n_links);
        free(st->idx);
        st->n_links = NULL;
        st->idx = NULL;
        snprintf(st->load_err, sizeof st->load_err, "out of memory loading %zu entities", n);
        return;
    }
    /* Entities come by name and are few: a linear match per link is fine. */
    for (size_t k = 0; k < nl; k++)
        for (size_t i = 0; i < n; i++)
            if (xs[i].id == ls[k].entity_id) {
                st->n_links[i]++;
                break;
            }
    free(ls);
    st->ents = xs;
    st->n = n;
    arrange(st);
    for (size_t r = 0; keep && r < st->n_idx; r++)
        if (st->ents[st->idx[r]].id == keep)
            st->ts.table.cur = r;
}

static size_t rows_count(void *ctx)
{
    ent_state *st = ctx;
    return st->n_idx;
}

static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    ent_state *st = ctx;
    out[0] = '\0';
    if (row < st->n_idx)
        snprintf(out, cap, "%lld", (long long)st->ents[st->idx[row]].id);
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    ent_state *st = ctx;
    out[0] = '\0';
    if (row >= st->n_idx)
        return;
    size_t i = st->idx[row];
    const store_entity *x = &st->ents[i];
    switch (col) {
    case 0:
        snprintf(out, cap, "%s", x->name);
        break;
    case 1:
        snprintf(out, cap, "%s", x->type);
        break;
    case 2:
        snprintf(out, cap, "%s", x->jurisdiction);
        break;
    case 3:
        snprintf(out, cap, "%s", x->kyc);
        break;
    case 4:
        snprintf(out, cap, "%s", x->kyc_expires[0] ? x->kyc_expires : "-");
        break;
    case 5:
        snprintf(out, cap, "%d", x->tier);
        break;
    case 6:
        snprintf(out, cap, "%s", x->risk);
        break;
    case 7:
        snprintf(out, cap, "%s", x->blocked ? "BLOCKED" : "-");
        break;
    case 8:
        snprintf(out, cap, "%zu", st->n_links[i]);
        break;
    default:
        break;
    }
}

static ui_role rows_role(void *ctx, size_t row)
{
    ent_state *st = ctx;
    if (row >= st->n_idx)
        return UI_ROLE_NORMAL;
    const store_entity *x = &st->ents[st->idx[row]];
    if (x->blocked || !strcmp(x->kyc, "rejected") || !strcmp(x->kyc, "expired"))
        return UI_ROLE_ERROR;
    return UI_ROLE_NORMAL;
}

static void rows_filter(void *ctx, const char *text)
{
    ent_state *st = ctx;
    (void)text; /* ts.filter holds it */
    arrange(st);
}

/* ---- detail ---- */

static void line_add(ent_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line_add(ent_state *st, const char *fmt, ...)
{
    if (st->d_n == st->d_cap) {
        size_t cap = st->d_cap ? st->d_cap * 2 : 32;
        char **nl = realloc(st->d_lines, cap * sizeof *nl);
        if (!nl)
            return;
        st->d_lines = nl;
        st->d_cap = cap;
    }
    char buf_[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf_, sizeof buf_, fmt, ap);
    va_end(ap);
    char *l = strdup(buf_);
    if (l)
        st->d_lines[st->d_n++] = l;
}

static void chain_name(const store_chain *cs, size_t n, uint64_t id, char *out, size_t cap)
{
    if (id == 0) {
        snprintf(out, cap, "every chain");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (cs[i].chain_id == id) {
            snprintf(out, cap, "%s", cs[i].name);
            return;
        }
    snprintf(out, cap, "chain %llu", (unsigned long long)id);
}

static void detail_load(ent_state *st)
{
    const store_entity *x = selected(st);
    if (!x || st->d_id == x->id)
        return;
    detail_drop(st);
    st->d_id = x->id;
    store *db = desk_snap_store(st->desk->snap);
    err e;
    err_clear(&e);
    line_add(st, "%s: %s, %s; KYC %s%s%s; tier %d, risk %s%s%s%s", x->name, x->type,
             x->jurisdiction, x->kyc, x->kyc_expires[0] ? ", expires " : "", x->kyc_expires,
             x->tier, x->risk, x->review_due[0] ? "; review due " : "", x->review_due,
             x->blocked ? "; BLOCKED" : "");

    store_chain *cs = NULL;
    size_t ncs = 0;
    if (store_chain_list(db, &cs, &ncs, &e) < 0)
        ncs = 0;
    store_entity_link *ls = NULL;
    size_t nl = 0;
    line_add(st, "ADDRESSES");
    if (store_entity_links(db, x->id, &ls, &nl, &e) < 0) {
        line_add(st, "  ? %s", e.msg);
    } else if (nl == 0) {
        line_add(st, "  none linked (`fusion entity link`)");
    } else {
        for (size_t i = 0; i < nl; i++) {
            char a[ADDR_STR_MAX], cn[STORE_NAME_MAX + 32];
            addr_to_checksum(a, &ls[i].address);
            chain_name(cs, ncs, ls[i].chain_id, cn, sizeof cn);
            line_add(st, "  %-14s %s", cn, a);
        }
    }
    free(ls);
    free(cs);

    store_entity_doc *ds = NULL;
    size_t nd = 0;
    line_add(st, "DOCUMENTS");
    if (store_entity_docs(db, x->id, &ds, &nd, &e) < 0) {
        line_add(st, "  ? %s", e.msg);
    } else if (nd == 0) {
        line_add(st, "  none recorded");
    } else {
        for (size_t i = 0; i < nd; i++) {
            char h[65];
            hex_encode(h, sizeof h, ds[i].sha256, 32, false);
            time_t t = (time_t)ds[i].added_at;
            struct tm tm;
            char day[16];
            gmtime_r(&t, &tm);
            strftime(day, sizeof day, "%Y-%m-%d", &tm);
            line_add(st, "  %-12s %s  %s  sha256 %.16s...", ds[i].doc_type, day,
                     ds[i].file_name, h);
        }
    }
    free(ds);

    store_related_party *ps = NULL;
    size_t np = 0;
    line_add(st, "RELATED PARTIES");
    if (store_related_parties(db, x->id, &ps, &np, &e) < 0) {
        line_add(st, "  ? %s", e.msg);
    } else if (np == 0) {
        line_add(st, "  none recorded");
    } else {
        for (size_t i = 0; i < np; i++) {
            int64_t other = ps[i].entity_id == x->id ? ps[i].party_id : ps[i].entity_id;
            store_entity p;
            bool found = false;
            if (store_entity_get(db, other, &p, &found, &e) < 0 || !found)
                snprintf(p.name, sizeof p.name, "entity #%lld", (long long)other);
            line_add(st, "  %-12s %s%s", ps[i].role, p.name,
                     ps[i].entity_id == x->id ? "" : " (of)");
        }
    }
    free(ps);

    char subject[STORE_SUBJECT_MAX];
    snprintf(subject, sizeof subject, "entity:%lld", (long long)x->id);
    store_case_filter f = {.open_only = true, .subject = subject};
    store_case *ks = NULL;
    size_t nk = 0;
    line_add(st, "OPEN CASES");
    if (store_case_list(db, &f, &ks, &nk, &e) < 0) {
        line_add(st, "  ? %s", e.msg);
    } else if (nk == 0) {
        line_add(st, "  none");
    } else {
        for (size_t i = 0; i < nk; i++) {
            compliance_case_about ab; /* an escrow, a KYC date, a facility, an inflow */
            if (compliance_case_about_of(db, &ks[i], &ab, &e) < 0)
                snprintf(ab.text, sizeof ab.text, "? %.150s", e.msg);
            line_add(st, "  #%-5lld %-6s %-10s %s%s%s", (long long)ks[i].id,
                     compliance_priority_name(ks[i].priority), ks[i].state, ab.text,
                     ks[i].assignee[0] ? "  assignee " : "", ks[i].assignee);
        }
    }
    free(ks);
}

/* ---- screen ---- */

static int open_(ui_screen *s, err *e)
{
    ent_state *st =
        ui_tscreen_new(s, &desc, sizeof *st,
                       (ui_rows){rows_count, rows_cell, rows_filter, rows_role, NULL}, rows_key, e);
    if (!st)
        return -1;
    st->desk = ui_app_desk(s->app);
    mark_sort(st); /* by name, ascending */
    ui_table_reset(&st->ts.table);
    load(st);
    return 0;
}

static void close_(ui_screen *s)
{
    ent_state *st = s->state;
    if (!st)
        return;
    detail_drop(st);
    free(st->ents);
    free(st->n_links);
    free(st->idx);
    ui_tscreen_close(s);
}

static void draw(ui_screen *s, WINDOW *w)
{
    ent_state *st = s->state;
    int wcols = getmaxx(w);
    char note[UI_FILTER_MAX + 128], num[32];
    int o = snprintf(note, sizeof note, "%s entities", ui_fmt_count(st->n, num, sizeof num));
    if (st->ts.filter[0])
        o += snprintf(note + o, sizeof note - (size_t)o, ", %zu matching /%s", st->n_idx,
                      st->ts.filter);
    if (st->sort != SORT_NAME)
        snprintf(note + o, sizeof note - (size_t)o, ", by %s", sort_names[st->sort]);
    ui_heading_draw(w, 0, "Entities", note);
    if (st->load_err[0]) {
        ui_put(w, 2, 1, st->load_err, wcols - 2, UI_ALIGN_LEFT, UI_ROLE_ERROR);
        return;
    }
    int y = ui_table_draw_body(&st->ts.table, w, st->detail && st->n_idx > 0, desc.empty);
    if (!st->detail || st->n_idx == 0)
        return;
    detail_load(st);
    ui_detail_draw(w, y, NULL, st->d_lines, st->d_n);
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    ent_state *st = s->state;
    switch (ev->action) {
    case UI_ACT_SORT:
    case UI_ACT_SORT_REVERSE:
        if (ev->action == UI_ACT_SORT) {
            st->sort = (st->sort + 1) % N_SORTS;
            st->reverse = false;
        } else {
            st->reverse = !st->reverse;
        }
        arrange(st);
        mark_sort(st);
        ui_table_reset(&st->ts.table);
        detail_drop(st);
        ui_message(s->app, UI_MSG_INFO, "entities sorted by %s%s", sort_names[st->sort],
                   st->reverse ? ", reversed" : "");
        return UI_REDRAW;
    case UI_ACT_OPEN:
        st->detail = !st->detail;
        return UI_REDRAW;
    default:
        break;
    }
    unsigned r = ui_tscreen_handle(s, ev);
    if (r == UI_REDRAW)
        detail_drop(st); /* moved: the pane follows the selection */
    return r;
}

/* Esc, and q before it quits: the detail pane closes. */
static bool close_overlay(ui_screen *s)
{
    ent_state *st = s->state;
    if (!st->detail || st->n_idx == 0)
        return false;
    st->detail = false;
    return true;
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    ent_state *st = s->state;
    if (!(topics & (UI_TOPIC_ENTITIES | UI_TOPIC_COMPLIANCE)))
        return UI_OK;
    load(st);
    return UI_REDRAW;
}

const ui_screen_ops ui_scr_entities = {
    .close_overlay = close_overlay,
    .topics = UI_TOPIC_ENTITIES | UI_TOPIC_COMPLIANCE,
    .open = open_,
    .close = close_,
    .draw = draw,
    .handle = handle,
    .changed = changed,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};
