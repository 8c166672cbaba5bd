/* scr_keys.c: screen 6, Keys. The desk's key store (label, address, created, lock
 * state) with each key's balances per chain (native coin and configured tokens, exact
 * units), read by a worker thread of this screen (desk/balances.h: network reads never
 * run on the loop): "?" until the first read, "!" where a node could not answer. `u` asks
 * for the passphrase with the no-echo prompt and unlocks the selected key on the desk's
 * unlock worker (the key derivation is slow on purpose; the screen says "unlocking..."
 * and keeps drawing), `l` locks it and wipes it from memory. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/amount.h"
#include "base/log.h"
#include "desk.h"
#include "desk/balances.h"
#include "notify.h"
#include "screen.h"
#include "text.h"
#include "tscreen.h"

static const ui_column cols[] = {
    {"Key", 8, 24, 0},          {"Address", 12, 42, 0}, {"Created (UTC)", 10, 20, 0},
    {"State", 6, 12, 0},        {"Balances", 8, 0, UI_COL_GROW},
};

#define BALANCE_REFRESH_SECONDS 15

static const ui_tscreen_desc desc = {
    "Keys",
    cols,
    sizeof cols / sizeof cols[0],
    "No keys: the key store of this desk is empty - see `fusion key import`",
    "keys",
};

typedef struct keys_state {
    ui_tscreen ts;
    ui_desk *desk;
    ks_entry *keys;
    size_t n;
    char error[ERR_MSG_MAX];
    addr pending; /* the key the passphrase prompt is for */
    ui_app *app;
    /* The balance worker: reads on a kick, hands the result over under mu. */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kick;
    atomic_int cancel;
    addr *want; /* the accounts to read (set under mu) */
    size_t n_want;
    desk_balances *fresh; /* the worker's newest result, not taken yet */
    char fail[ERR_MSG_MAX]; /* the worker's last error, under mu */
    bool failed;            /* the loop's copy: the last read failed */
    desk_balances bal; /* the loop's copy */
    bool have_bal;
    time_t bal_at;
    bool loading;
} keys_state;

static void *balance_main(void *arg)
{
    keys_state *st = arg;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", st->desk->home);
    store *db = NULL;
    err e;
    err_clear(&e);
    if (store_open(&db, path, &e) < 0) {
        pthread_mutex_lock(&st->mu);
        snprintf(st->fail, sizeof st->fail, "%s", e.msg);
        pthread_mutex_unlock(&st->mu);
        ui_notify(UI_TOPIC_KEYS);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&st->mu);
        while (!st->stop && !st->kick)
            pthread_cond_wait(&st->cv, &st->mu);
        if (st->stop) {
            pthread_mutex_unlock(&st->mu);
            break;
        }
        st->kick = false;
        size_t n = st->n_want;
        addr *acc = malloc((n ? n : 1) * sizeof *acc);
        if (acc && n)
            memcpy(acc, st->want, n * sizeof *acc);
        pthread_mutex_unlock(&st->mu);
        desk_balances *b = calloc(1, sizeof *b);
        err_clear(&e);
        int rc = acc && b ? desk_balances_fetch(db, acc, n, &st->cancel, b, &e)
                          : err_set(&e, ERR_NOMEM, "out of memory reading balances");
        free(acc);
        pthread_mutex_lock(&st->mu);
        if (rc == 0) {
            if (st->fresh)
                desk_balances_free(st->fresh);
            free(st->fresh);
            st->fresh = b;
            st->fail[0] = '\0';
            b = NULL;
        } else {
            snprintf(st->fail, sizeof st->fail, "%s", e.msg);
            LOG_W("ui", "balances: %s", e.msg);
        }
        pthread_mutex_unlock(&st->mu);
        free(b);
        ui_notify(UI_TOPIC_KEYS);
    }
    store_close(&db);
    return NULL;
}

/* Asks the worker for a fresh read of the current keys (starting it the first time). */
static void balance_kick(keys_state *st)
{
    if (!st->desk)
        return;
    if (!st->started) {
        pthread_mutex_init(&st->mu, NULL);
        pthread_cond_init(&st->cv, NULL);
        err e;
        err_clear(&e);
        if (ui_thread_create(&st->thread, balance_main, st, &e) < 0) {
            pthread_cond_destroy(&st->cv);
            pthread_mutex_destroy(&st->mu);
            snprintf(st->fail, sizeof st->fail, "%s", e.msg);
            st->failed = true;
            return;
        }
        st->started = true;
    }
    pthread_mutex_lock(&st->mu);
    addr *w = realloc(st->want, (st->n ? st->n : 1) * sizeof *w);
    if (w) {
        st->want = w;
        for (size_t i = 0; i < st->n; i++)
            w[i] = st->keys[i].address;
        st->n_want = st->n;
        st->kick = true;
        st->loading = true;
        pthread_cond_signal(&st->cv);
    }
    pthread_mutex_unlock(&st->mu);
    st->bal_at = time(NULL);
}

/* Loop side: takes the worker's newest result. */
static void balance_take(keys_state *st)
{
    if (!st->started)
        return;
    pthread_mutex_lock(&st->mu);
    desk_balances *b = st->fresh;
    st->fresh = NULL;
    bool failed = st->fail[0] != '\0';
    pthread_mutex_unlock(&st->mu);
    st->failed = failed;
    if (b) {
        desk_balances_free(&st->bal);
        st->bal = *b;
        free(b);
        st->have_bal = true;
        st->loading = false;
    } else if (failed) {
        st->loading = false;
    }
}

static void balance_stop(keys_state *st)
{
    if (!st->started)
        return;
    pthread_mutex_lock(&st->mu);
    st->stop = true;
    atomic_store(&st->cancel, 1);
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->thread, NULL);
    if (st->fresh)
        desk_balances_free(st->fresh);
    free(st->fresh);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    st->started = false;
}

/* The balances of one account, all chains: "local 2 ETH, 1,100.5 USDC; other !
 * unreachable", grouped by thousands, at the display precision (the table) or exact (the
 * detail). */
static void balance_text(const keys_state *st, const addr *a, bool exact, char *out, size_t cap)
{
    out[0] = '\0';
    if (!st->have_bal) {
        snprintf(out, cap, "%s", st->failed ? "! balances unavailable (see log)" : "?");
        return;
    }
    size_t o = 0;
    for (size_t c = 0; c < st->bal.n_chains && o < cap; c++) {
        const desk_balance_chain *ch = &st->bal.chains[c];
        o += (size_t)snprintf(out + o, cap - o, "%s%s ", c ? "; " : "", ch->name);
        if (o >= cap)
            break;
        if (!ch->reachable) {
            o += (size_t)snprintf(out + o, cap - o, "! unreachable");
            continue;
        }
        bool first = true, any = false;
        for (size_t i = 0; i < st->bal.n && o < cap; i++) {
            const desk_balance *b = &st->bal.items[i];
            if (b->chain_id != ch->chain_id || !addr_equal(&b->account, a))
                continue;
            any = true;
            if (b->ok && !b->native && u256_is_zero(&b->amount))
                continue; /* tokens it does not hold */
            char amt[AMOUNT_STR_MAX], shown[AMOUNT_STR_MAX + AMOUNT_STR_MAX / 3 + 8];
            if (b->ok) {
                amount_format(amt, &b->amount, b->decimals);
                if (exact)
                    ui_fmt_decimal(shown, sizeof shown, amt, -1, NULL);
                else
                    ui_fmt_amount(shown, sizeof shown, amt, ui_glyph()->ellipsis);
            }
            o += (size_t)snprintf(out + o, cap - o, "%s%s %s", first ? "" : ", ",
                                  b->ok ? shown : "!", b->asset);
            first = false;
        }
        if (!any && o < cap)
            o += (size_t)snprintf(out + o, cap - o, "?"); /* a key added since the read */
    }
    if (st->bal.n_chains == 0)
        snprintf(out, cap, "no chain configured");
}

static size_t rows_count(void *ctx)
{
    keys_state *st = ctx;
    return st->n;
}

static bool unlocked(keys_state *st, size_t row)
{
    return st->desk && ui_desk_key(st->desk, &st->keys[row].address) != NULL;
}

static void rows_key(void *ctx, size_t row, char *out, size_t cap)
{
    keys_state *st = ctx;
    out[0] = '\0';
    if (row < st->n)
        addr_to_lower(out, &st->keys[row].address);
    (void)cap; /* ADDR_STR_MAX < UI_ROW_KEY_MAX */
}

static void rows_cell(void *ctx, size_t row, size_t col, char *out, size_t cap)
{
    keys_state *st = ctx;
    const ks_entry *k = &st->keys[row];
    char a[ADDR_STR_MAX];
    out[0] = '\0';
    switch (col) {
    case 0:
        snprintf(out, cap, "%s", k->label);
        break;
    case 1:
        addr_to_checksum(a, &k->address);
        snprintf(out, cap, "%s", a);
        break;
    case 2:
        snprintf(out, cap, "%s", k->created);
        break;
    case 3: {
        const addr *busy = st->desk ? ui_desk_unlocking(st->desk) : NULL;
        snprintf(out, cap, "%s",
                 busy && addr_equal(busy, &k->address) ? "unlocking..."
                 : unlocked(st, row)                  ? "unlocked"
                                                      : "locked");
        break;
    }
    case 4:
        balance_text(st, &k->address, false, out, cap);
        break;
    default:
        break;
    }
}

static ui_role rows_role(void *ctx, size_t row)
{
    return unlocked(ctx, row) ? UI_ROLE_INFO : UI_ROLE_NORMAL;
}

static void load(keys_state *st)
{
    free(st->keys);
    st->keys = NULL;
    st->n = 0;
    st->error[0] = '\0';
    if (!st->desk)
        return;
    err e;
    err_clear(&e);
    if (keystore_list(st->desk->ks, &st->keys, &st->n, &e) < 0)
        snprintf(st->error, sizeof st->error, "%s", e.msg);
}

static int open_(ui_screen *s, err *e)
{
    keys_state *st = ui_tscreen_new(
        s, &desc, sizeof *st, (ui_rows){rows_count, rows_cell, NULL, rows_role, NULL}, rows_key, e);
    if (!st)
        return -1;
    st->desk = ui_app_desk(s->app);
    st->app = s->app;
    load(st);
    balance_kick(st);
    return 0;
}

static void close_(ui_screen *s)
{
    keys_state *st = s->state;
    if (!st)
        return;
    balance_stop(st);
    desk_balances_free(&st->bal);
    free(st->want);
    free(st->keys);
    ui_tscreen_close(s);
}

static void draw(ui_screen *s, WINDOW *w)
{
    keys_state *st = s->state;
    int rows, wcols;
    getmaxyx(w, rows, wcols);
    size_t n_unlocked = 0;
    for (size_t i = 0; i < st->n; i++)
        n_unlocked += unlocked(st, i);
    char note[128], num[32];
    snprintf(note, sizeof note, "%s keys, %zu unlocked%s", ui_fmt_count(st->n, num, sizeof num),
             n_unlocked, st->loading ? ", reading balances..." : "");
    ui_heading_draw(w, 0, "Keys", note);
    ui_table_draw(&st->ts.table, w, 2, 1, rows - 2, wcols - 2,
                  st->error[0] ? st->error : desc.empty);
}

static unsigned on_passphrase(void *arg, const char *pass, size_t len)
{
    keys_state *st = arg;
    char a[ADDR_STR_MAX];
    addr_to_checksum(a, &st->pending);
    if (!pass) {
        ui_message(st->app, UI_MSG_INFO, "unlock cancelled; %s stays locked", a);
        return UI_REDRAW;
    }
    err e;
    err_clear(&e);
    if (ui_desk_unlock_start(st->desk, &st->pending, pass, len, &e) < 0) {
        ui_message(st->app, UI_MSG_ERROR, "%s", e.msg);
        return UI_REDRAW;
    }
    ui_message(st->app, UI_MSG_INFO, "unlocking %s... (deriving the key; the screen stays live)",
               a);
    return UI_REDRAW;
}

static unsigned handle(ui_screen *s, const ui_event *ev)
{
    keys_state *st = s->state;
    unsigned r = ui_tscreen_handle(s, ev);
    if (!(r & UI_UNHANDLED) || ev->action == UI_ACT_NONE)
        return r;
    size_t row;
    if (!st->desk || !ui_table_selected(&st->ts.table, &row))
        return ui_not_in_build(s, ev->action);
    const ks_entry *k = &st->keys[row];
    char a[ADDR_STR_MAX];
    addr_to_checksum(a, &k->address);
    err e;
    err_clear(&e);
    switch (ev->action) {
    case UI_ACT_KEY_UNLOCK: {
        if (unlocked(st, row)) {
            ui_message(s->app, UI_MSG_INFO, "%s is unlocked already (l locks it)", k->label);
            return UI_OK;
        }
        st->pending = k->address;
        char prompt[160];
        snprintf(prompt, sizeof prompt, "Passphrase for %s:", k->label);
        if (ui_passphrase_open(s->app, "Unlock key", prompt, on_passphrase, st, &e) < 0)
            ui_message(s->app, UI_MSG_ERROR, "%s", e.msg);
        return UI_REDRAW;
    }
    case UI_ACT_KEY_LOCK:
        if (ui_desk_lock(st->desk, &k->address))
            ui_message(s->app, UI_MSG_INFO, "%s locked and wiped from memory", k->label);
        else
            ui_message(s->app, UI_MSG_INFO, "%s was not unlocked", k->label);
        return UI_REDRAW;
    case UI_ACT_OPEN: {
        char bal[400];
        balance_text(st, &k->address, true, bal, sizeof bal);
        for (size_t c = 0; c < st->bal.n_chains; c++)
            if (st->bal.chains[c].error[0]) {
                ui_message(s->app, UI_MSG_ERROR, "%s on %s: %s", k->label,
                           st->bal.chains[c].name, st->bal.chains[c].error);
                return UI_OK;
            }
        ui_message(s->app, UI_MSG_INFO, "%s  %s  created %s  %s", k->label, a, k->created, bal);
        return UI_OK;
    }
    default:
        return ui_not_in_build(s, ev->action);
    }
}

static unsigned changed(ui_screen *s, unsigned topics)
{
    keys_state *st = s->state;
    if (st->desk) {
        addr which;
        err e;
        err_clear(&e);
        int rc = ui_desk_unlock_poll(st->desk, &which, &e);
        char a[ADDR_STR_MAX];
        addr_to_checksum(a, &which);
        if (rc < 0)
            ui_message(st->app, UI_MSG_ERROR, "%s", e.msg);
        else if (rc > 0)
            ui_message(st->app, UI_MSG_INFO, "%s unlocked; it locks itself after %u s idle%s", a,
                       st->desk->idle_s,
                       ui_desk_signed_in(st->desk) > 0 ? "; it signs your decisions" : "");
    }
    size_t before = st->n;
    load(st);
    balance_take(st);
    if (st->n != before)
        balance_kick(st);
    return UI_REDRAW;
}

static unsigned tick(ui_screen *s, time_t now)
{
    /* Keys appear from `fusion key import` in another terminal. */
    keys_state *st = s->state;
    size_t before = st->n;
    load(st);
    if (st->n != before || (!st->loading && now - st->bal_at >= BALANCE_REFRESH_SECONDS)) {
        balance_kick(st);
        return UI_REDRAW;
    }
    return UI_OK;
}

const ui_screen_ops ui_scr_keys = {
    .topics = UI_TOPIC_KEYS,
    .open = open_,
    .close = close_,
    .draw = draw,
    .handle = handle,
    .changed = changed,
    .tick = tick,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
};
