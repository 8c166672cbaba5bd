/* scr_bridges.c: screen B, Bridges: the desk's bridge transfers (store_bridge, newest
 * first) with their route, asset, exact amount, recipient (its address-book name when the
 * book has one), state (new, sent, attested, delivered, failed, expired: docs/bridges.md)
 * and age. Enter opens the selected transfer's legs: the burn on the source chain, the
 * message hash, the attestation, the mint on the destination, and a transaction in flight.
 * R resumes the selected transfer through the UI's action worker (job.c): the attestation
 * fetched, the mint signed after the passphrase (or the session's unlocked key), the
 * pre-sign summary and y/N; one that has nothing left to do is said so, nothing signed.
 * `fusion bridge send` makes transfers. Read whole from the store on each change. On a
 * desk whose book is on a server (book.conf) the sync records the transfers' legs there, not
 * in desk.db: each transfer is shown as those legs make it, and a burn from the desk's
 * accounts known only from them (another workstation's) is a row too, Id "-", its note
 * saying so, not this desk's to resume (sync_bridge_book_list, as `fusion bridge list` and
 * the risk report's value in flight), read by a worker of the screen on its own store
 * (bookwork.h), so a server away never holds the loop: the rows shown stay, the status
 * line says why. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/amount.h"
#include "base/log.h"
#include "bookwork.h"
#include "desk.h"
#include "bridge/bridge.h"
#include "desk/names.h"
#include "keystore/keystore.h"
#include "job.h"
#include "notify.h"
#include "screen.h"
#include "sync/bridge_legs.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Id", 2, 6, UI_COL_RIGHT},       {"Route", 9, 24, 0},  {"Asset", 5, 8, 0},
    {"Amount", 6, 22, UI_COL_RIGHT}, {"Recipient", 9, 0, UI_COL_GROW}, {"State", 5, 10, 0},
    {"Age", 3, 8, UI_COL_RIGHT},
};
#define N_COLS (sizeof cols / sizeof cols[0])

static const ui_tscreen_desc desc = {
    "Bridges",
    cols,
    N_COLS,
    "No bridge transfers: `fusion bridge send --from CHAIN --to CHAIN --amount N --recipient "
    "ADDR` makes one",
    "transfers",
};

/* A read of a server-book desk's reader (bookwork.h): the transfers, the chains and tokens
 * that name them. */
typedef struct br_lists {
    store_bridge *all;
    size_t n_all;
    store_chain *chains;
    size_t n_chains;
    store_token *tokens;
    size_t n_tokens;
} br_lists;

typedef struct br_state {
    ui_tscreen ts; /* first: the tscreen helpers see a ui_tscreen */
    ui_desk *desk;
    store_bridge *all;
    size_t n_all;
    size_t *shown;
    size_t n_shown;
    store_chain *chains;
    size_t n_chains;
    store_token *tokens;
    size_t n_tokens;
    desk_names *names;
    bool detail;
    time_t now;
    char error[ERR_MSG_MAX];
    ui_bookwork *w; /* a server-book desk's reader; NULL: read from desk.db on the loop */
} br_state;

static const char *chain_name(const br_state *st, uint64_t id, char *out, size_t cap)
{
    for (size_t i = 0; i < st->n_chains; i++)
        if (st->chains[i].chain_id == id)
            return st->chains[i].name;
    snprintf(out, cap, "%llu", (unsigned long long)id);
    return out;
}

/* The token's symbol and decimals as the desk knows it (fusion asset add-token); NULL when
 * it does not. */
static const store_token *token_of(const br_state *st, uint64_t chain_id, const addr *a)
{
    for (size_t i = 0; i < st->n_tokens; i++)
        if (st->tokens[i].chain_id == chain_id && memcmp(&st->tokens[i].address, a, sizeof *a) == 0)
            return &st->tokens[i];
    return NULL;
}

static void amount_of(const br_state *st, const store_bridge *b, const u256 *v, char *out,
                      size_t cap, bool exact)
{
    const store_token *t = token_of(st, b->src_chain, &b->token_src);
    if (!t) {
        char dec[U256_DEC_MAX];
        u256_to_dec(dec, v);
        snprintf(out, cap, "%s units", dec);
        return;
    }
    char plain[AMOUNT_STR_MAX];
    amount_format(plain, v, t->decimals);
    if (exact)
        ui_fmt_decimal(out, cap, plain, 80, NULL);
    else
        ui_fmt_amount(out, cap, plain, ui_glyph()->ellipsis);
}

static void age_of(time_t now, int64_t then, char *out, size_t cap)
{
    long long s = (long long)now - (long long)then;
    if (s < 60)
        snprintf(out, cap, "<1m");
    else if (s < 3600)
        snprintf(out, cap, "%lldm", s / 60);
    else if (s < 86400)
        snprintf(out, cap, "%lldh%02lldm", s / 3600, s / 60 % 60);
    else
        snprintf(out, cap, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

static void cell_of(const br_state *st, const store_bridge *b, size_t col, char *out, size_t cap)
{
    char n1[24], n2[24];
    out[0] = '\0';
    switch (col) {
    case 0: /* id 0: known only from the server's legs (sync_bridge_book_list) */
        snprintf(out, cap, b->id ? "%lld" : "-", (long long)b->id);
        break;
    case 1:
        snprintf(out, cap, "%s %s %s", chain_name(st, b->src_chain, n1, sizeof n1),
                 ui_glyph()->ellipsis[0] == '.' ? "->" : "\u2192",
                 chain_name(st, b->dst_chain, n2, sizeof n2));
        break;
    case 2: {
        const store_token *t = token_of(st, b->src_chain, &b->token_src);
        snprintf(out, cap, "%s", t ? t->symbol : "?");
        break;
    }
    case 3:
        amount_of(st, b, &b->amount, out, cap, false);
        break;
    case 4:
        desk_names_label(out, cap, st->names, b->dst_chain, &b->recipient);
        break;
    case 5:
        snprintf(out, cap, "%s", b->state);
        break;
    case 6:
        if (b->id)
            age_of(st->now, b->created_at, out, cap);
        else
            snprintf(out, cap, "-"); /* no desk.db row: its time is not known here */
        break;
    default:
        break;
    }
}

static void apply_filter(br_state *st)
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

/* desk.db's transfers newest first, then those known only from the server's legs (id 0)
 * by chain, newest burn first. */
static int newest_first(const void *pa, const void *pb)
{
    const store_bridge *a = pa, *b = pb;
    if (a->id || b->id)
        return !a->id ? 1 : !b->id ? -1 : a->id < b->id ? 1 : a->id > b->id ? -1 : 0;
    if (a->src_chain != b->src_chain)
        return a->src_chain < b->src_chain ? -1 : 1;
    if (a->burn_block != b->burn_block)
        return a->burn_block < b->burn_block ? 1 : -1;
    return memcmp(a->burn_tx, b->burn_tx, 32);
}

static void unload(br_state *st)
{
    free(st->all);
    free(st->shown);
    free(st->chains);
    free(st->tokens);
    st->all = NULL;
    st->shown = NULL;
    st->chains = NULL;
    st->tokens = NULL;
    st->n_all = st->n_shown = st->n_chains = st->n_tokens = 0;
    desk_names_free(&st->names);
}

/* The tokens of every chain of chains, appended to *out (the caller frees it, also on
 * failure). */
static int load_tokens(store *s, const store_chain *chains, size_t n_chains, store_token **out,
                       size_t *n_out, err *e)
{
    for (size_t i = 0; i < n_chains; i++) {
        store_token *t = NULL;
        size_t n = 0;
        if (store_token_list(s, chains[i].chain_id, &t, &n, e) < 0)
            return -1;
        store_token *grown = n ? realloc(*out, (*n_out + n) * sizeof *grown) : *out;
        if (n && !grown) {
            free(t);
            return err_set(e, ERR_NOMEM, "out of memory listing the tokens");
        }
        *out = grown;
        if (n)
            memcpy(*out + *n_out, t, n * sizeof *t);
        *n_out += n;
        free(t);
    }
    return 0;
}

/* What the rows need besides the lists: the names, sorted newest first, the filter. */
static void rows_ready(br_state *st)
{
    err e;
    desk_names_free(&st->names);
    if (desk_names_load(&st->names, desk_snap_store(st->desk->snap), st->desk->ks, &e) < 0)
        LOG_W("ui", "bridges: %s", e.msg);
    if (st->n_all) /* qsort on the NULL of an empty list is undefined */
        qsort(st->all, st->n_all, sizeof *st->all, newest_first);
    free(st->shown);
    st->shown = calloc(st->n_all ? st->n_all : 1, sizeof *st->shown);
    if (!st->shown) {
        st->n_all = 0;
        snprintf(st->error, sizeof st->error, "out of memory listing the transfers");
        return;
    }
    apply_filter(st);
}

static void load(br_state *st)
{
    unload(st);
    st->error[0] = '\0';
    st->now = time(NULL);
    if (!st->desk)
        return;
    store *s = desk_snap_store(st->desk->snap);
    err e;
    if (store_bridge_list(s, &st->all, &st->n_all, &e) < 0 ||
        store_chain_list(s, &st->chains, &st->n_chains, &e) < 0 ||
        load_tokens(s, st->chains, st->n_chains, &st->tokens, &st->n_tokens, &e) < 0) {
        snprintf(st->error, sizeof st->error, "%s", e.msg);
        LOG_W("ui", "bridges: %s", e.msg);
        free(st->all);
        st->all = NULL;
        st->n_all = 0;
        return;
    }
    rows_ready(st);
}

static void lists_free(void *result)
{
    br_lists *l = result;
    free(l->all);
    free(l->chains);
    free(l->tokens);
    free(l);
}

/* The reader's thread (ctx: the desk's home): one read, the transfers as the server's legs
 * make them (desk.db's and the desk accounts' burns known only there), the chains and tokens
 * that name them (the screen's state untouched). */
static int worker_read(store *s, void *ctx, void **out, err *e)
{
    br_lists *l = calloc(1, sizeof *l);
    if (!l)
        return err_set(e, ERR_NOMEM, "out of memory listing the transfers");
    *out = l;
    addr *accounts = NULL;
    size_t n_accounts = 0;
    int rc = keystore_addresses(ctx, &accounts, &n_accounts, e);
    if (rc == 0)
        rc = sync_bridge_book_list(s, accounts, n_accounts, &l->all, &l->n_all, e);
    free(accounts);
    if (rc == 0)
        rc = store_chain_list(s, &l->chains, &l->n_chains, e);
    if (rc == 0)
        rc = load_tokens(s, l->chains, l->n_chains, &l->tokens, &l->n_tokens, e);
    return rc;
}

/* The reader's parked result, if any: lists replace the rows; a failure keeps the rows
 * shown and says why (status line). */
static bool worker_take(br_state *st)
{
    void *got = NULL;
    if (!ui_bookwork_take(st->w, &got, st->error, sizeof st->error))
        return false;
    br_lists *l = got;
    if (l) {
        unload(st);
        st->all = l->all;
        st->n_all = l->n_all;
        st->chains = l->chains;
        st->n_chains = l->n_chains;
        st->tokens = l->tokens;
        st->n_tokens = l->n_tokens;
        free(l);
    }
    if (!st->error[0]) {
        st->now = time(NULL);
        rows_ready(st);
    }
    return true;
}

static size_t rows_count(void *ctx)
{
    br_state *st = ctx;
    return st->n_shown;
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    br_state *st = ctx;
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
    br_state *st = ctx;
    if (row >= st->n_shown)
        return UI_ROLE_NORMAL;
    const char *s = st->all[st->shown[row]].state;
    return strcmp(s, "failed") == 0 || strcmp(s, "expired") == 0 ? UI_ROLE_ERROR
           : strcmp(s, "delivered") == 0                         ? UI_ROLE_DIM
                                                                 : UI_ROLE_NORMAL;
}

static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    br_state *st = ctx;
    out[0] = '\0';
    if (row >= st->n_shown)
        return;
    const store_bridge *b = &st->all[st->shown[row]];
    if (b->id) {
        snprintf(out, cap, "%lld", (long long)b->id);
    } else if (cap > 67) { /* known only from the server's legs: its burn */
        snprintf(out, cap, "burn:");
        hex_encode(out + 5, cap - 5, b->burn_tx, 32, true);
    }
}

static int open_(ui_screen *s, err *e)
{
    br_state *st =
        ui_tscreen_new(s, &desc, sizeof *st,
                       (ui_rows){rows_count, rows_cell, rows_filter, rows_role, NULL}, rows_key, e);
    if (!st)
        return -1;
    st->desk = ui_app_desk(s->app);
    if (st->desk && st->desk->reads.present) {
        if (ui_bookwork_start(&st->w, st->desk->home, "bridges", worker_read, lists_free,
                              st->desk->home, e) < 0) {
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
    br_state *st = s->state;
    if (!st)
        return;
    ui_bookwork_stop(&st->w);
    unload(st);
    ui_tscreen_close(s);
}

static const store_bridge *selected(br_state *st)
{
    size_t row;
    if (!ui_table_selected(&st->ts.table, &row) || row >= st->n_shown)
        return NULL;
    return &st->all[st->shown[row]];
}

static void detail_lines(br_state *st, const store_bridge *b, char ***lines, size_t *n)
{
    char n1[24], n2[24], amt[UI_CELL_MAX], fee[UI_CELL_MAX], who[256], hx[67];
    const store_token *t = token_of(st, b->src_chain, &b->token_src);
    amount_of(st, b, &b->amount, amt, sizeof amt, true);
    amount_of(st, b, &b->fee, fee, sizeof fee, true);
    char units[U256_DEC_MAX];
    u256_to_dec(units, &b->amount);
    if (b->id) {
        ui_lines_add(lines, n, "TRANSFER %lld (%s)", (long long)b->id, b->protocol);
        ui_lines_add(lines, n, "  State %s, by %s", b->state, b->operator_name);
    } else {
        ui_lines_add(lines, n, "TRANSFER - (%s), not in this desk's database", b->protocol);
        ui_lines_add(lines, n, "  State %s, burned by another workstation (seen on the server)",
                     b->state);
    }
    ui_lines_add(lines, n, "  Route %s (chain %llu) to %s (chain %llu)",
                 chain_name(st, b->src_chain, n1, sizeof n1), (unsigned long long)b->src_chain,
                 chain_name(st, b->dst_chain, n2, sizeof n2), (unsigned long long)b->dst_chain);
    ui_lines_add(lines, n, "  Amount %s %s (%s base units), fee %s", amt, t ? t->symbol : "", units,
                 fee);
    desk_names_label(who, sizeof who, st->names, b->src_chain, &b->sender);
    ui_lines_add(lines, n, "  Sender %s", who);
    desk_names_label(who, sizeof who, st->names, b->dst_chain, &b->recipient);
    ui_lines_add(lines, n, "  Recipient %s", who);
    ui_lines_add(lines, n, "SOURCE LEG");
    if (b->has_burn_tx) {
        hex_encode(hx, sizeof hx, b->burn_tx, 32, true);
        ui_lines_add(lines, n, "  Burn tx %s in block %llu", hx, (unsigned long long)b->burn_block);
    } else {
        ui_lines_add(lines, n, "  Burn tx: none mined yet");
    }
    if (b->has_message) {
        hex_encode(hx, sizeof hx, b->message_hash, 32, true);
        ui_lines_add(lines, n, "  Message hash %s", hx);
    } else {
        ui_lines_add(lines, n, "  Message hash: not read yet (the burn's MessageSent)");
    }
    ui_lines_add(lines, n, "ATTESTATION");
    if (!b->id)
        ui_lines_add(lines, n, "  Not known here: the burning workstation's to fetch");
    else if (b->attestation_len)
        ui_lines_add(lines, n, "  Complete: %zu signature%s (%zu bytes)", b->attestation_len / 65,
                     b->attestation_len / 65 == 1 ? "" : "s", b->attestation_len);
    else if (b->has_message)
        ui_lines_add(lines, n, "  Pending: the attestation service has not signed the message yet");
    else
        ui_lines_add(lines, n, "  Not asked yet: there is no message to attest");
    ui_lines_add(lines, n, "DESTINATION LEG");
    if (b->has_mint_tx) {
        hex_encode(hx, sizeof hx, b->mint_tx, 32, true);
        ui_lines_add(lines, n, "  Mint tx %s in block %llu", hx, (unsigned long long)b->mint_block);
    } else {
        ui_lines_add(lines, n, "  Mint tx: none mined yet");
    }
    if (b->pending_action[0]) {
        hex_encode(hx, sizeof hx, b->pending_hash, 32, true);
        ui_lines_add(lines, n, "IN FLIGHT");
        ui_lines_add(lines, n, "  %s on %s: %s (R, or fusion bridge resume %lld, completes it)",
                     b->pending_action, chain_name(st, b->pending_chain, n1, sizeof n1), hx,
                     (long long)b->id);
    }
    if (b->note[0]) {
        ui_lines_add(lines, n, "NOTE");
        ui_lines_add(lines, n, "  %s", b->note);
    }
}

static void draw(ui_screen *s, WINDOW *w)
{
    br_state *st = s->state;
    char note[UI_FILTER_MAX + 128], num[32];
    size_t open = 0;
    for (size_t i = 0; i < st->n_all; i++)
        open += strcmp(st->all[i].state, "delivered") != 0 &&
                strcmp(st->all[i].state, "failed") != 0 && strcmp(st->all[i].state, "expired") != 0;
    int o = snprintf(note, sizeof note, "%s transfers, %zu not delivered",
                     ui_fmt_count(st->n_shown, num, sizeof num), open);
    if (st->ts.filter[0])
        snprintf(note + o, sizeof note - (size_t)o, " matching /%s", st->ts.filter);
    ui_heading_draw(w, 0, desc.heading, note);
    const char *empty = desc.empty;
    if (st->error[0])
        empty = st->error;
    else if (st->w && !ui_bookwork_loaded(st->w))
        empty = "Reading the transfers' legs from the book's server";
    const store_bridge *b = st->detail ? selected(st) : NULL;
    int y = ui_table_draw_body(&st->ts.table, w, b != NULL, empty);
    if (!b)
        return;
    char **lines = NULL;
    size_t n = 0;
    detail_lines(st, b, &lines, &n);
    ui_detail_draw(w, y, "Transfer (Esc closes)", lines, n);
    ui_lines_free(&lines, &n);
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    br_state *st = s->state;
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    switch (ev->action) {
    case UI_ACT_OPEN:
        if (!selected(st))
            return UI_OK;
        st->detail = true;
        return UI_REDRAW;
    case UI_ACT_BRIDGE_RESUME: {
        const store_bridge *b = selected(st);
        if (!b)
            return UI_OK;
        if (!b->id) {
            ui_message(s->app, UI_MSG_INFO, "resume: another workstation's transfer (seen on "
                       "the server): not this desk's to resume, nothing signed");
            return UI_REDRAW;
        }
        if (bridge_finished(b)) {
            ui_message(s->app, UI_MSG_INFO, "resume bridge %lld: %s already: nothing to do, "
                       "nothing signed", (long long)b->id, b->state);
            return UI_REDRAW;
        }
        return ui_job_request_bridge(s->app, b->id);
    }
    default:
        return ui_not_in_build(s, ev->action);
    }
}

static bool close_overlay(ui_screen *s)
{
    br_state *st = s->state;
    bool was = st->detail;
    st->detail = false;
    return was;
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    br_state *st = s->state;
    if (st->w) {
        /* the reader's own wake is JOBS alone: take its result, ask again on news only */
        bool took = worker_take(st);
        if (topics & ~UI_TOPIC_JOBS)
            ui_bookwork_kick(st->w);
        return took ? UI_REDRAW : UI_OK;
    }
    load(st);
    return UI_REDRAW;
}

/* Ages are shown in minutes: redraw when the minute turns. A server-book desk's transfers
 * are read again now and then while shown (every 5 s, 2 s after a failure: bookwork.h):
 * another relayer's mint synced by another process comes with no commit this desk may
 * hear. */
static unsigned tick(ui_screen *s, time_t now)
{
    br_state *st = s->state;
    if (st->w)
        ui_bookwork_tick(st->w, now, st->error[0] != '\0');
    if (now / 60 == st->now / 60)
        return UI_OK;
    st->now = now;
    return st->n_all ? UI_REDRAW : UI_OK;
}

static void status(ui_screen *s, char *out, size_t cap)
{
    br_state *st = s->state;
    if (st->w && st->error[0])
        snprintf(out, cap, "bridges: %s", st->error);
    else
        ui_tscreen_status(s, out, cap);
}

const ui_screen_ops ui_scr_bridges = {
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
    .close_overlay = close_overlay,
};
