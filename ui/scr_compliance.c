/* scr_compliance.c: screen 4, Compliance: the case queues (new, mine, escalated, overdue,
 * every open case, the proposals another officer made that this one may confirm, and
 * the closed cases as history) with SLA
 * countdowns; [ and ] switch queues, Enter opens the case (subject, entity, hits with their
 * evidence and list hash, the timeline). The actions go through the compliance service
 * (src/compliance) on the task worker (task.h): a case write can wait on the database lock
 * while another process writes, and the loop must keep drawing. Reading the open cases is
 * one query on the UI thread's read connection (a desk holds hundreds, not millions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/log.h"
#include "compliance/compliance.h"
#include "desk.h"
#include "desk/desk.h"
#include "desk/names.h"
#include "form.h"
#include "notify.h"
#include "screen.h"
#include "task.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Case", 4, 7, 0},           {"Prio", 4, 6, 0},          {"State", 5, 28, 0},
    {"Subject", 12, 0, UI_COL_GROW}, {"About", 8, 22, 0},   {"Opened (UTC)", 16, 16, 0},
    {"SLA", 6, 16, UI_COL_RIGHT},    {"Assignee", 8, 14, 0},
};
#define N_COLS (sizeof cols / sizeof cols[0])

enum { Q_NEW, Q_MINE, Q_ESCALATED, Q_OVERDUE, Q_OPEN, Q_CONFIRM, Q_CLOSED, N_QUEUES };
static const char *const queues[N_QUEUES] = {"New",  "Mine",    "Escalated", "Overdue",
                                             "Open", "Confirm", "Closed"};

static const ui_tscreen_desc desc = {
    "Compliance",
    cols,
    N_COLS,
    "No cases in this queue: ] shows the next queue",
    "cases",
};

/* Asked after a block closed a case: close the party's other open cases too? */
typedef struct party_ask {
    ui_app *app;
    struct cmp_state *st;
    int64_t entity_id, except;
    char note[UI_FORM_VALUE_MAX];
} party_ask;

typedef struct cmp_state {
    ui_tscreen ts; /* first: the tscreen helpers see a ui_tscreen */
    ui_desk *desk;
    store_case *cases; /* every case, open and closed */
    size_t n_open;
    char (*names)[STORE_ENTITY_NAME_MAX];
    char (*about)[64]; /* what each case is about: an escrow, a KYC date, a facility, an inflow */
    size_t n_cases;
    size_t *idx; /* the cases of the current queue that match the filter */
    size_t n_idx;
    size_t counts[N_QUEUES];
    time_t now;
    char load_err[ERR_MSG_MAX];
    int64_t want_id; /* select this case after the next load (take next) */
    bool detail;
    int64_t d_id;
    char **d_lines;
    size_t d_n;
    char d_err[ERR_MSG_MAX];
    party_ask party; /* the question of the open dialog, if any */
    /* The action whose form is open. */
    char form_action[16];
    int64_t form_case;
} cmp_state;

/* ---- data ---- */

static bool in_queue(const cmp_state *st, const store_case *c, int q)
{
    bool closed = strcmp(c->state, "closed") == 0;
    if (q == Q_CLOSED || closed)
        return q == Q_CLOSED && closed;
    switch (q) {
    case Q_CONFIRM: /* four eyes: a proposal of another officer, for me to confirm */
        return c->proposed_by[0] && st->desk &&
               strcmp(c->proposed_by, st->desk->operator_name) != 0;
    case Q_NEW:
        return strcmp(c->state, "new") == 0;
    case Q_MINE:
        return st->desk && c->assignee[0] && strcmp(c->assignee, st->desk->operator_name) == 0;
    case Q_ESCALATED:
        return strcmp(c->state, "escalated") == 0;
    case Q_OVERDUE:
        return c->due_at < (int64_t)st->now;
    default:
        return true;
    }
}

static bool matches(const cmp_state *st, size_t i, const char *f)
{
    if (!f[0])
        return true;
    const store_case *c = &st->cases[i];
    char id[32], esc[ADDR_STR_MAX];
    snprintf(id, sizeof id, "#%lld", (long long)c->id);
    addr_to_checksum(esc, &c->escrow);
    return ui_match(id, f) || ui_match(c->subject, f) || ui_match(st->names[i], f) ||
           ui_match(c->state, f) || ui_match(c->assignee, f) || ui_match(esc, f) ||
           ui_match(st->about[i], f) ||
           ui_match(compliance_priority_name(c->priority), f);
}

/* Recomputes the queue counts and the rows of the current queue (the overdue queue moves
 * with the clock, so this also runs every second). */
static void partition(cmp_state *st)
{
    memset(st->counts, 0, sizeof st->counts);
    st->n_idx = 0;
    for (size_t i = 0; i < st->n_cases; i++) {
        for (int q = 0; q < N_QUEUES; q++)
            if (in_queue(st, &st->cases[i], q))
                st->counts[q]++;
        if (in_queue(st, &st->cases[i], (int)st->ts.view) && matches(st, i, st->ts.filter))
            st->idx[st->n_idx++] = i;
    }
}

static void detail_drop(cmp_state *st)
{
    desk_lines_free(&st->d_lines, st->d_n);
    st->d_n = 0;
    st->d_id = 0;
    st->d_err[0] = '\0';
}

static const store_case *selected_case(cmp_state *st)
{
    size_t row;
    if (!ui_table_selected(&st->ts.table, &row) || row >= st->n_idx)
        return NULL;
    return &st->cases[st->idx[row]];
}

/* Reloads the open cases, keeping the selected case selected (or the wanted one). */
static void load(cmp_state *st)
{
    const store_case *sel = selected_case(st);
    int64_t keep = st->want_id ? st->want_id : sel ? sel->id : 0;
    free(st->cases);
    free(st->names);
    free(st->about);
    free(st->idx);
    st->cases = NULL;
    st->names = NULL;
    st->about = NULL;
    st->idx = NULL;
    st->n_cases = st->n_idx = 0;
    st->load_err[0] = '\0';
    detail_drop(st);
    st->now = time(NULL);
    if (!st->desk)
        return;
    store *db = desk_snap_store(st->desk->snap);
    store_case_filter f = {.open_only = false}; /* the closed ones are the history queue */
    err e;
    err_clear(&e);
    store_case *cs = NULL;
    size_t n = 0;
    if (store_case_list(db, &f, &cs, &n, &e) < 0) {
        snprintf(st->load_err, sizeof st->load_err, "%s", e.msg);
        LOG_W("ui", "compliance: %s", e.msg);
        return;
    }
    st->names = calloc(n ? n : 1, sizeof *st->names);
    st->about = calloc(n ? n : 1, sizeof *st->about);
    st->idx = calloc(n ? n : 1, sizeof *st->idx);
    if (!st->names || !st->about || !st->idx) {
        free(cs);
        free(st->names);
        free(st->about);
        free(st->idx);
        st->names = NULL;
        st->about = NULL;
        st->idx = NULL;
        snprintf(st->load_err, sizeof st->load_err, "out of memory loading %zu cases", n);
        return;
    }
    st->cases = cs;
    st->n_cases = n;
    st->n_open = 0;
    for (size_t i = 0; i < n; i++)
        st->n_open += strcmp(cs[i].state, "closed") != 0;
    for (size_t i = 0; i < n; i++) {
        store_entity x;
        bool found = false;
        if (cs[i].entity_id && store_entity_get(db, cs[i].entity_id, &x, &found, &e) == 0 && found)
            snprintf(st->names[i], sizeof st->names[i], "%s", x.name);
        else
            snprintf(st->names[i], sizeof st->names[i], "%s", cs[i].subject);
        compliance_case_about ab;
        char a[ADDR_STR_MAX];
        if (compliance_case_about_of(db, &cs[i], &ab, &e) < 0)
            ab.kind = COMPLIANCE_ABOUT_ESCROW; /* the key is still shown */
        if (ab.kind == COMPLIANCE_ABOUT_KYC)
            snprintf(st->about[i], sizeof st->about[i], "KYC %s %s", ab.which, ab.date);
        else if (ab.kind == COMPLIANCE_ABOUT_FACILITY)
            snprintf(st->about[i], sizeof st->about[i], "facility %.50s",
                     ab.facility[0] ? ab.facility : "(gone)");
        else if (ab.kind == COMPLIANCE_ABOUT_INFLOW)
            snprintf(st->about[i], sizeof st->about[i], "inflow %.8s%s%.4s", ab.tx,
                     ui_glyph()->ellipsis, ab.tx + 62);
        else {
            addr_to_checksum(a, &cs[i].escrow);
            snprintf(st->about[i], sizeof st->about[i], "%.6s%s%s", a, ui_glyph()->ellipsis,
                     a + 38);
        }
    }
    partition(st);
    if (keep) {
        for (size_t r = 0; r < st->n_idx; r++) {
            if (st->cases[st->idx[r]].id == keep) {
                st->ts.table.cur = r;
                st->want_id = 0;
                break;
            }
        }
    }
}

static void fmt_span(char *out, size_t cap, int64_t s)
{
    if (s >= 86400)
        snprintf(out, cap, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    else
        snprintf(out, cap, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
}

static size_t rows_count(void *ctx)
{
    cmp_state *st = ctx;
    return st->n_idx;
}

static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    cmp_state *st = ctx;
    out[0] = '\0';
    if (row < st->n_idx)
        snprintf(out, cap, "%lld", (long long)st->cases[st->idx[row]].id);
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    cmp_state *st = ctx;
    out[0] = '\0';
    if (row >= st->n_idx)
        return;
    const store_case *c = &st->cases[st->idx[row]];
    char span[32];
    struct tm tm;
    time_t t;
    switch (col) {
    case 0:
        snprintf(out, cap, "#%lld", (long long)c->id);
        break;
    case 1:
        snprintf(out, cap, "%s", compliance_priority_name(c->priority));
        break;
    case 2:
        if (!strcmp(c->state, "closed"))
            snprintf(out, cap, "closed %s by %s", c->outcome, c->closed_by);
        else if (c->proposed_by[0])
            snprintf(out, cap, "proposed %s by %s", c->proposed_outcome, c->proposed_by);
        else if (c->snoozed_until[0])
            snprintf(out, cap, "%s, snoozed", c->state);
        else
            snprintf(out, cap, "%s", c->state);
        break;
    case 3:
        snprintf(out, cap, "%s", st->names[st->idx[row]]);
        break;
    case 4:
        snprintf(out, cap, "%s", st->about[st->idx[row]]);
        break;
    case 5:
        t = (time_t)c->opened_at;
        gmtime_r(&t, &tm);
        strftime(out, cap, "%Y-%m-%d %H:%M", &tm);
        break;
    case 6: {
        if (!strcmp(c->state, "closed")) {
            t = (time_t)c->closed_at;
            gmtime_r(&t, &tm);
            strftime(out, cap, "%m-%d %H:%M", &tm); /* when it closed */
            break;
        }
        int64_t left = c->due_at - (int64_t)st->now;
        fmt_span(span, sizeof span, left < 0 ? -left : left);
        snprintf(out, cap, "%s%s", left < 0 ? "overdue " : "", span);
        break;
    }
    case 7:
        snprintf(out, cap, "%s", c->assignee[0] ? c->assignee : "-");
        break;
    default:
        break;
    }
}

static ui_role rows_role(void *ctx, size_t row)
{
    cmp_state *st = ctx;
    if (row < st->n_idx && strcmp(st->cases[st->idx[row]].state, "closed") == 0)
        return UI_ROLE_DIM; /* history */
    if (row < st->n_idx && st->cases[st->idx[row]].due_at < (int64_t)st->now)
        return UI_ROLE_ERROR; /* overdue: red and bold (bold without colour) */
    return UI_ROLE_NORMAL;
}

static void rows_filter(void *ctx, const char *text)
{
    cmp_state *st = ctx;
    (void)text; /* ts.filter holds it */
    partition(st);
}

/* The case report's lines with names: the escrow's payer and payee under its line, and
 * every address the address book knows named where it stands (evidence, notes). */
static void name_lines(cmp_state *st, const store_case *c, char ***lines, size_t *n)
{
    store *s = desk_snap_store(st->desk->snap);
    desk_names *names = NULL;
    err e;
    err_clear(&e);
    if (desk_names_load(&names, s, st->desk->ks, &e) < 0) {
        LOG_W("ui", "case detail: the address book: %s", e.msg);
        return;
    }
    for (size_t i = 0; i < *n; i++) {
        char *x = ui_name_addresses(names, c->chain_id, (*lines)[i]);
        if (x) {
            free((*lines)[i]);
            (*lines)[i] = x;
        }
    }
    store_escrow x;
    bool found = false;
    size_t at = *n;
    for (size_t i = 0; i < *n; i++) /* the line that names the escrow ("about: escrow 0x...") */
        if (strncmp((*lines)[i], "escrow:", 7) == 0 ||
            (strncmp((*lines)[i], "about:", 6) == 0 &&
             strncmp((*lines)[i] + 6 + strspn((*lines)[i] + 6, " "), "escrow ", 7) == 0))
            at = i + 1;
    char **nl = NULL;
    if (at < *n && store_escrow_get(s, c->chain_id, &c->escrow, &x, &found, &e) == 0 && found &&
        (nl = realloc(*lines, (*n + 2) * sizeof *nl)) != NULL) {
        *lines = nl;
        char lab[STORE_ENTITY_NAME_MAX + ADDR_STR_MAX + 8];
        char row[STORE_ENTITY_NAME_MAX + ADDR_STR_MAX + 24];
        desk_names_label(lab, sizeof lab, names, c->chain_id, &x.payer);
        snprintf(row, sizeof row, "payer:     %s", lab);
        char *l1 = strdup(row);
        desk_names_label(lab, sizeof lab, names, c->chain_id, &x.payee);
        snprintf(row, sizeof row, "payee:     %s", lab);
        char *l2 = strdup(row);
        if (l1 && l2) {
            memmove(nl + at + 2, nl + at, (*n - at) * sizeof *nl);
            nl[at] = l1;
            nl[at + 1] = l2;
            *n += 2;
        } else {
            free(l1);
            free(l2);
        }
    }
    desk_names_free(&names);
}

static void detail_load(cmp_state *st)
{
    const store_case *c = selected_case(st);
    if (!c) {
        detail_drop(st);
        snprintf(st->d_err, sizeof st->d_err, "no case selected");
        return;
    }
    if (st->d_id == c->id)
        return;
    detail_drop(st);
    st->d_id = c->id;
    json_t *rep = NULL;
    err e;
    err_clear(&e);
    if (compliance_case_report(desk_snap_store(st->desk->snap), c->id, &rep, &e) < 0) {
        snprintf(st->d_err, sizeof st->d_err, "%s", e.msg);
        return;
    }
    char *text = compliance_report_text(rep);
    json_decref(rep);
    if (!text) {
        snprintf(st->d_err, sizeof st->d_err, "out of memory formatting case #%lld",
                 (long long)c->id);
        return;
    }
    size_t n = 0, cap = 0;
    char **lines = NULL;
    char *save = NULL;
    /* The report's first line is its title: the pane has its own. */
    bool first = true;
    for (char *p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
        if (first) {
            first = false;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nl = realloc(lines, cap * sizeof *nl);
            if (!nl)
                break;
            lines = nl;
        }
        lines[n] = strdup(p);
        if (!lines[n])
            break;
        n++;
    }
    free(text);
    name_lines(st, c, &lines, &n);
    st->d_lines = lines;
    st->d_n = n;
}

/* ---- screen ---- */

static int open_(ui_screen *s, err *e)
{
    cmp_state *st =
        ui_tscreen_new(s, &desc, sizeof *st,
                       (ui_rows){rows_count, rows_cell, rows_filter, rows_role, NULL}, rows_key, e);
    if (!st)
        return -1;
    st->desk = ui_app_desk(s->app);
    load(st);
    return 0;
}

static void close_(ui_screen *s)
{
    cmp_state *st = s->state;
    if (!st)
        return;
    detail_drop(st);
    free(st->cases);
    free(st->names);
    free(st->about);
    free(st->idx);
    ui_tscreen_close(s);
}

static void draw(ui_screen *s, WINDOW *w)
{
    cmp_state *st = s->state;
    int wcols = getmaxx(w);
    char note[UI_FILTER_MAX + 128], num[32];
    int o = snprintf(note, sizeof note, "%s open cases", ui_fmt_count(st->n_open, num, sizeof num));
    if (st->ts.filter[0])
        snprintf(note + o, sizeof note - (size_t)o, ", %zu matching /%s", st->n_idx,
                 st->ts.filter);
    ui_heading_draw(w, 0, "Compliance", note);
    /* The queue bar sits on the rule under the heading. */
    int x = 2;
    for (int q = 0; q < N_QUEUES; q++) {
        char label[32];
        snprintf(label, sizeof label, " %s %zu ", queues[q], st->counts[q]);
        int lw = ui_text_width(label);
        if (x + lw >= wcols)
            break;
        /* Narrow: Confirm and Closed show when current, or Confirm when it has cases; the
         * rule keeps some length so the bar reads as one */
        bool wanted = (size_t)q == st->ts.view || (q == Q_CONFIRM && st->counts[q] > 0);
        if (q >= Q_CONFIRM && !wanted && x + lw >= wcols - 20)
            continue;
        ui_put(w, 1, x, label, lw, UI_ALIGN_LEFT,
               (size_t)q == st->ts.view ? UI_ROLE_TAB_CURRENT : UI_ROLE_TAB);
        x += lw + 1;
    }
    if (st->load_err[0]) {
        ui_put(w, 2, 1, st->load_err, wcols - 2, UI_ALIGN_LEFT, UI_ROLE_ERROR);
        return;
    }
    int y = ui_table_draw_body(&st->ts.table, w, st->detail && st->n_idx > 0,
                               st->n_cases ? desc.empty
                                           : "No cases: nothing has been screened yet (cases open "
                                             "as escrows are screened)");
    if (!st->detail || st->n_idx == 0)
        return;
    detail_load(st);
    char title[64];
    snprintf(title, sizeof title, " Case #%lld ", (long long)st->d_id);
    if (st->d_err[0]) {
        char *err_line = st->d_err;
        ui_detail_draw(w, y, title, &err_line, 1);
        return;
    }
    ui_detail_draw(w, y, title, st->d_lines, st->d_n);
}

/* ---- actions: the worker side ---- */

typedef struct case_task {
    char home[4096];
    char operator_name[128];
    char action[16]; /* next take note snooze escalate clear block */
    int64_t id;
    char text[UI_FORM_VALUE_MAX];
    cmp_state *st; /* read by finish only, on the loop thread */
    int64_t got;   /* take next: the case taken */
    int64_t except;    /* blockparty: the case whose block blocked the party */
    bool closed;       /* the decision closed the case */
    int64_t entity_id; /* a closed block: its party, and the party's other open cases */
    size_t others;
    int64_t other_ids[8];
} case_task;

static int case_run(void *arg, char *msg, size_t cap)
{
    case_task *t = arg;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", t->home);
    store *db = NULL;
    err e;
    err_clear(&e);
    compliance_actor a = {t->home, t->operator_name, (int64_t)time(NULL)};
    int rc = store_open(&db, path, &e);
    bool closed = false;
    const char *note = t->text[0] ? t->text : NULL;
    if (rc == 0) {
        if (!strcmp(t->action, "next"))
            rc = compliance_case_next(db, &a, &t->got, &e);
        else if (!strcmp(t->action, "take"))
            rc = compliance_case_take(db, &a, t->id, &e);
        else if (!strcmp(t->action, "note"))
            rc = compliance_case_note(db, &a, t->id, t->text, &e);
        else if (!strcmp(t->action, "snooze"))
            rc = compliance_case_snooze(db, &a, t->id, t->text, &e);
        else if (!strcmp(t->action, "escalate"))
            rc = compliance_case_escalate(db, &a, t->id, note, &e);
        else if (!strcmp(t->action, "blockparty"))
            rc = compliance_party_close(db, &a, t->id, t->except, note, &t->others, &e);
        else
            rc = compliance_case_decide(db, &a, t->id,
                                        !strcmp(t->action, "block") ? "blocked" : "cleared", note,
                                        &closed, &e);
    }
    t->closed = closed;
    if (rc == 0 && closed && !strcmp(t->action, "block")) {
        /* The party is blocked now: its other open cases are offered for closing. */
        store_case c;
        bool found = false;
        int64_t *ids = NULL;
        size_t n = 0;
        err pe;
        if (store_case_get(db, t->id, &c, &found, &pe) == 0 && found && c.entity_id &&
            compliance_party_open_cases(db, c.entity_id, t->id, &ids, &n, &pe) == 0) {
            t->entity_id = c.entity_id;
            t->others = n;
            for (size_t i = 0; i < n && i < sizeof t->other_ids / sizeof t->other_ids[0]; i++)
                t->other_ids[i] = ids[i];
        }
        free(ids);
    }
    store_close(&db);
    if (rc < 0) {
        if (t->id)
            snprintf(msg, cap, "%s case #%lld: %s", t->action, (long long)t->id, e.msg);
        else
            snprintf(msg, cap, "%s: %s", t->action, e.msg);
        return -1;
    }
    if (!strcmp(t->action, "next")) {
        if (t->got)
            snprintf(msg, cap, "case #%lld assigned to %s", (long long)t->got, t->operator_name);
        else
            snprintf(msg, cap, "no new case to take: the New queue is empty (or snoozed)");
    } else if (!strcmp(t->action, "take")) {
        snprintf(msg, cap, "case #%lld assigned to %s", (long long)t->id, t->operator_name);
        t->got = t->id;
    } else if (!strcmp(t->action, "note")) {
        snprintf(msg, cap, "note added to case #%lld", (long long)t->id);
    } else if (!strcmp(t->action, "snooze")) {
        snprintf(msg, cap, "case #%lld snoozed until %s (the SLA clock keeps running)",
                 (long long)t->id, t->text);
    } else if (!strcmp(t->action, "escalate")) {
        snprintf(msg, cap, "case #%lld escalated", (long long)t->id);
    } else if (!strcmp(t->action, "blockparty")) {
        snprintf(msg, cap, "entity #%lld: %zu other open case%s closed as blocked (one signed "
                 "decision)", (long long)t->id, t->others, t->others == 1 ? "" : "s");
    } else if (closed) {
        snprintf(msg, cap, "case #%lld closed as %s by %s", (long long)t->id,
                 !strcmp(t->action, "block") ? "blocked" : "cleared", t->operator_name);
    } else {
        snprintf(msg, cap, "case #%lld: %s proposed, waiting for a second officer (four eyes)",
                 (long long)t->id, t->action);
    }
    return 0;
}

static unsigned task_start(ui_app *app, cmp_state *st, const char *action, int64_t id,
                           const char *text, int64_t except);

static unsigned party_answer(void *arg, bool yes)
{
    party_ask *q = arg;
    if (!yes)
        return UI_REDRAW;
    return task_start(q->app, q->st, "blockparty", q->entity_id, q->note, q->except);
}

static void party_offer(ui_app *a, const case_task *t)
{
    party_ask *q = &t->st->party;
    memset(q, 0, sizeof *q);
    q->app = a;
    q->st = t->st;
    q->entity_id = t->entity_id;
    q->except = t->id;
    snprintf(q->note, sizeof q->note, "%s", t->text);
    char l1[160], l2[256] = "", l3[160];
    snprintf(l1, sizeof l1, "Case #%lld blocked its party (entity #%lld), which has %zu other open "
             "case%s:", (long long)t->id, (long long)t->entity_id, t->others,
             t->others == 1 ? "" : "s");
    size_t o = 0, shown = t->others < 8 ? t->others : 8;
    for (size_t i = 0; i < shown && o < sizeof l2; i++)
        o += (size_t)snprintf(l2 + o, sizeof l2 - o, "%s#%lld", i ? " " : "  ",
                              (long long)t->other_ids[i]);
    if (t->others > shown && o < sizeof l2)
        snprintf(l2 + o, sizeof l2 - o, " and %zu more", t->others - shown);
    snprintf(l3, sizeof l3, "Close them as blocked with one signed decision?");
    const char *lines[] = {l1, l2, l3};
    err e;
    if (ui_confirm_open(a, "Block the party's other cases", lines, 3, "Close them", party_answer,
                        q, &e) < 0) {
        ui_message(a, UI_MSG_ERROR, "%s", e.msg);
    }
}

static unsigned case_finish(ui_app *a, void *arg, int rc)
{
    case_task *t = arg;
    if (rc == 0 && t->closed && t->others > 0 && t->st && !strcmp(t->action, "block"))
        party_offer(a, t);
    if (rc == 0 && t->got && t->st) {
        /* The case just taken: show it in Mine, selected, opened. */
        t->st->ts.view = Q_MINE;
        t->st->want_id = t->got;
        t->st->detail = true;
        ui_table_reset(&t->st->ts.table);
    }
    return UI_REDRAW;
}

static const ui_task_ops case_ops = {case_run, case_finish};

static unsigned task_start(ui_app *app, cmp_state *st, const char *action, int64_t id,
                           const char *text, int64_t except)
{
    if (!st->desk) {
        ui_message(app, UI_MSG_ERROR, "no desk is open: start `fusion ui` with a desk home");
        return UI_REDRAW;
    }
    case_task *t = calloc(1, sizeof *t);
    if (!t) {
        ui_message(app, UI_MSG_ERROR, "%s: out of memory", action);
        return UI_REDRAW;
    }
    t->except = except;
    snprintf(t->home, sizeof t->home, "%s", st->desk->home);
    snprintf(t->operator_name, sizeof t->operator_name, "%s", st->desk->operator_name);
    snprintf(t->action, sizeof t->action, "%s", action);
    snprintf(t->text, sizeof t->text, "%s", text ? text : "");
    t->id = id;
    t->st = st;
    err e;
    if (ui_task_start(action, &case_ops, t, UI_TOPIC_COMPLIANCE | UI_TOPIC_ENTITIES, &e) < 0)
        ui_message(app, UI_MSG_ERROR, "%s: %s", action, e.msg);
    else
        ui_message(app, UI_MSG_INFO, "%s: working...", action);
    return UI_REDRAW;
}

static unsigned case_start(ui_screen *s, const char *action, int64_t id, const char *text)
{
    return task_start(s->app, s->state, action, id, text, 0);
}

/* ---- actions: the forms ---- */

static bool today_plus(char *out, size_t cap, int days)
{
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    return strftime(out, cap, "%Y-%m-%d", &tm) > 0;
}

/* A real calendar day YYYY-MM-DD after today (UTC). */
static bool date_check(const char *s, char *why, size_t cap)
{
    int y, m, d;
    char tail;
    bool digits = strlen(s) == 10;
    for (size_t i = 0; digits && i < 10; i++)
        digits = (i == 4 || i == 7) ? s[i] == '-' : (s[i] >= '0' && s[i] <= '9');
    /* digits first: sscanf's %2d would take " 1" or "+1" for a month */
    if (!digits || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
        snprintf(why, cap, "write the day as YYYY-MM-DD, e.g. 2026-12-01");
        return false;
    }
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    if (m < 1 || m > 12 || back.tm_mday != d || back.tm_mon != m - 1) {
        snprintf(why, cap, "%s is not a calendar day", s);
        return false;
    }
    char today[16];
    if (today_plus(today, sizeof today, 0) && strcmp(s, today) <= 0) {
        snprintf(why, cap, "snooze until a day after today (%s)", today);
        return false;
    }
    return true;
}

static bool text_ok(const char *s, bool required, char *why, size_t cap)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(why, cap, "control characters are not allowed");
            return false;
        }
    }
    if (required && strspn(s, " ") == strlen(s)) {
        snprintf(why, cap, "required: say why, for the case file");
        return false;
    }
    return true;
}

static bool form_check(void *arg, const ui_form *f, size_t field, const char *text, char *why,
                       size_t cap)
{
    cmp_state *st = arg;
    (void)f;
    (void)field;
    if (!strcmp(st->form_action, "snooze"))
        return date_check(text, why, cap);
    bool required = !strcmp(st->form_action, "note") || !strcmp(st->form_action, "block");
    return text_ok(text, required, why, cap);
}

static ui_screen *form_screen; /* the Compliance screen, for the form's done step */

static unsigned form_done(void *arg, const ui_form *f)
{
    cmp_state *st = arg;
    if (!f) {
        ui_message(form_screen->app, UI_MSG_INFO, "%s cancelled: case #%lld unchanged",
                   st->form_action, (long long)st->form_case);
        return UI_REDRAW;
    }
    return case_start(form_screen, st->form_action, st->form_case, ui_form_value(f, 0));
}

static unsigned form_open(ui_screen *s, const char *action, const store_case *c)
{
    cmp_state *st = s->state;
    static char tomorrow[16];
    static ui_form_field field;
    snprintf(st->form_action, sizeof st->form_action, "%s", action);
    st->form_case = c->id;
    form_screen = s;
    field = (ui_form_field){"Note", NULL, "optional; goes into the case timeline"};
    if (!strcmp(action, "note")) {
        field.hint = "goes into the case timeline";
    } else if (!strcmp(action, "snooze")) {
        today_plus(tomorrow, sizeof tomorrow, 1);
        field = (ui_form_field){"Until", tomorrow,
                                "YYYY-MM-DD (UTC); hidden from take-next until then"};
    } else if (!strcmp(action, "block")) {
        field.hint = "required: why the party is blocked (the entity gets the blocked flag)";
    } else if (!strcmp(action, "clear") && c->priority == 1) {
        field.hint = "optional; a high case needs a second officer's clear to close";
    }
    char title[96];
    snprintf(title, sizeof title, "%s case #%lld", action, (long long)c->id);
    err e;
    if (ui_form_open(s->app, title, &field, 1, form_check, form_done, st, &e) < 0)
        ui_message(s->app, UI_MSG_ERROR, "%s: %s", action, e.msg);
    return UI_REDRAW;
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    cmp_state *st = s->state;
    switch (ev->action) {
    case UI_ACT_QUEUE_NEXT:
    case UI_ACT_QUEUE_PREV:
        st->ts.view = ev->action == UI_ACT_QUEUE_NEXT ? (st->ts.view + 1) % N_QUEUES
                                                      : (st->ts.view + N_QUEUES - 1) % N_QUEUES;
        partition(st);
        ui_table_reset(&st->ts.table);
        detail_drop(st);
        return UI_REDRAW;
    case UI_ACT_OPEN:
        st->detail = !st->detail;
        return UI_REDRAW;
    case UI_ACT_CASE_TAKE:
        return case_start(s, "next", 0, NULL);
    default:
        break;
    }
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    const store_case *c = selected_case(st);
    if (!c) {
        ui_message(s->app, UI_MSG_ERROR, "%s: select a case first",
                   ui_actions[ev->action].command);
        return UI_REDRAW;
    }
    switch (ev->action) {
    case UI_ACT_CASE_TAKE_ROW:
        return case_start(s, "take", c->id, NULL);
    case UI_ACT_CASE_NOTE:
        return form_open(s, "note", c);
    case UI_ACT_CASE_SNOOZE:
        return form_open(s, "snooze", c);
    case UI_ACT_CASE_ESCALATE:
        return form_open(s, "escalate", c);
    case UI_ACT_CASE_CLEAR:
        return form_open(s, "clear", c);
    case UI_ACT_CASE_BLOCK:
        return form_open(s, "block", c);
    default:
        return r;
    }
}

/* Esc, and q before it quits: the detail pane closes. */
static bool close_overlay(ui_screen *s)
{
    cmp_state *st = s->state;
    if (!st->detail || st->n_idx == 0)
        return false;
    st->detail = false;
    return true;
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    cmp_state *st = s->state;
    if (!(topics & (UI_TOPIC_COMPLIANCE | UI_TOPIC_ENTITIES)))
        return UI_OK;
    load(st);
    return UI_REDRAW;
}

static unsigned tick(ui_screen *s, time_t now)
{
    cmp_state *st = s->state;
    st->now = now;
    if (st->n_cases == 0)
        return UI_OK;
    const store_case *sel = selected_case(st);
    int64_t keep = sel ? sel->id : 0;
    size_t before = st->n_idx;
    partition(st); /* the SLA countdowns move, and cases fall into Overdue */
    if (before != st->n_idx) {
        for (size_t r = 0; r < st->n_idx; r++)
            if (st->cases[st->idx[r]].id == keep)
                st->ts.table.cur = r;
    }
    return UI_REDRAW;
}

static void status(ui_screen *s, char *out, size_t cap)
{
    cmp_state *st = s->state;
    char rest[128];
    ui_tscreen_status(s, rest, sizeof rest);
    snprintf(out, cap, "queue %s, %s", queues[st->ts.view], rest);
}

const ui_screen_ops ui_scr_compliance = {
    .close_overlay = close_overlay,
    .topics = UI_TOPIC_COMPLIANCE | UI_TOPIC_ENTITIES,
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
