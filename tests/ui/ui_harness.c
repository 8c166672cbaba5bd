/* ui_harness.c: the real UI loop with two stand-in screens, for the terminal tests of the
 * widgets before the desk services exist. Escrows holds 1,000,000 synthetic rows (with
 * CJK and emoji counterparties) behind the virtualized table; Keys holds two keys whose
 * unlock uses the passphrase prompt; approving an escrow uses the confirm dialog and
 * leaves an operation "pending", so quitting asks first.
 * usage: ui-harness LOGFILE */
#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/log.h"
#include "notify.h"
#include "tscreen.h"

#define N_ESCROWS 1000000u

static const char *const names[] = {
    "Acme Treasury Ltd",    "東京トレーディング株式会社",
    "Zürich Privatbank AG", "🚀 Rocket Capital",
    "Ωmega Ventures ΑΕ",    "서울 캐피탈",
    "Café Ñandú S.A.",      "北京资本",
};
#define N_NAMES (sizeof names / sizeof names[0])
static const char *const chains[] = {"mainnet", "arbitrum", "base"};

static struct {
    size_t *match; /* filtered row -> escrow index; NULL when unfiltered */
    size_t n_match;
    size_t pending;
    bool unlocked;
} h;

static size_t escrow_index(size_t row)
{
    return h.match ? h.match[row] : row;
}

static size_t esc_count(void *ctx)
{
    return h.match ? h.n_match : N_ESCROWS;
}

static void esc_cell(void *ctx, size_t row, size_t col, char *buf, size_t cap)
{
    size_t i = escrow_index(row);
    switch (col) {
    case 0:
        snprintf(buf, cap, "E%07zu", i);
        break;
    case 1:
        snprintf(buf, cap, "%s", chains[i % 3]);
        break;
    case 2:
        snprintf(buf, cap, "%s", names[i % N_NAMES]);
        break;
    case 3:
        snprintf(buf, cap, "USDC");
        break;
    case 4:
        snprintf(buf, cap, "%zu.%02zu", (i * 7919) % 100000, i % 100);
        break;
    case 5:
        snprintf(buf, cap, "%s", i % 4 ? "funded" : "created");
        break;
    case 6:
        snprintf(buf, cap, "%zu/2", i % 3 == 0 ? (size_t)2 : (size_t)1);
        break;
    default:
        snprintf(buf, cap, "2025-01-%02zu", 1 + i % 28);
        break;
    }
}

static void esc_filter(void *ctx, const char *text)
{
    free(h.match);
    h.match = NULL;
    h.n_match = 0;
    if (!*text)
        return;
    h.match = malloc(N_ESCROWS * sizeof *h.match);
    if (!h.match)
        return;
    for (size_t i = 0; i < N_ESCROWS; i++) {
        char id[16];
        snprintf(id, sizeof id, "E%07zu", i);
        if (strstr(names[i % N_NAMES], text) || strstr(id, text))
            h.match[h.n_match++] = i;
    }
}

static const ui_column esc_cols[] = {
    {"ID", 4, 10, 0},
    {"Chain", 5, 12, 0},
    {"Counterparty", 12, 0, UI_COL_GROW},
    {"Asset", 5, 8, 0},
    {"Amount", 6, 24, UI_COL_RIGHT},
    {"State", 5, 10, 0},
    {"Appr", 4, 5, UI_COL_RIGHT},
    {"Updated", 7, 16, 0},
};
static const ui_tscreen_desc esc_desc = {"Escrows (harness)", esc_cols,
                                         sizeof esc_cols / sizeof esc_cols[0], "none", "escrows"};

static int esc_open(ui_screen *s, err *e)
{
    return ui_tscreen_open(s, &esc_desc, (ui_rows){esc_count, esc_cell, esc_filter, NULL, NULL}, e);
}

static size_t approving;

static unsigned approve_answer(void *arg, bool yes)
{
    ui_app *a = arg;
    if (!yes) {
        ui_message(a, UI_MSG_INFO, "approval cancelled");
        return UI_OK;
    }
    h.pending++;
    ui_message(a, UI_MSG_INFO, "approval of E%07zu queued (%zu pending)", approving, h.pending);
    return UI_REDRAW;
}

static unsigned esc_handle(ui_screen *s, const ui_event *ev)
{
    if (ev->action == UI_ACT_ESCROW_APPROVE) {
        ui_tscreen *ts = s->state;
        size_t row = 0;
        ui_table_selected(&ts->table, &row);
        approving = escrow_index(row);
        char l0[96], l1[96];
        snprintf(l0, sizeof l0, "Escrow E%07zu on %s", approving, chains[approving % 3]);
        snprintf(l1, sizeof l1, "Call: approve(escrowId=%zu)", approving);
        const char *lines[] = {l0, l1, "Amount: 1,000.00 USDC (about 1,000.00 USD)",
                               "Fee: at most 0.000042 ETH, nonce 7"};
        err e;
        if (ui_confirm_open(s->app, "Approve escrow", lines, 4, "Sign", approve_answer, s->app,
                            &e) < 0)
            ui_message(s->app, UI_MSG_ERROR, "%s", e.msg);
        return UI_OK;
    }
    return ui_tscreen_handle(s, ev) & ~UI_UNHANDLED;
}

static const ui_screen_ops harness_escrows = {
    .topics = UI_TOPIC_ESCROWS,
    .open = esc_open,
    .close = ui_tscreen_close,
    .draw = ui_tscreen_draw,
    .handle = esc_handle,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
    .filter = ui_tscreen_filter,
};

static const char *const key_names[] = {"treasury-hot", "ops-cold"};

static size_t keys_count(void *ctx)
{
    return 2;
}

static void keys_cell(void *ctx, size_t row, size_t col, char *buf, size_t cap)
{
    static const char *const addrs[] = {"0x8ba1f109551bD432803012645Ac136ddd64DBA72",
                                        "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B"};
    switch (col) {
    case 0:
        snprintf(buf, cap, "%s", key_names[row]);
        break;
    case 1:
        snprintf(buf, cap, "%s", addrs[row]);
        break;
    case 2:
        snprintf(buf, cap, "%s", row == 0 && h.unlocked ? "unlocked" : "locked");
        break;
    default:
        snprintf(buf, cap, "%s", row == 0 ? "1.5 ETH" : "0 ETH");
        break;
    }
}

static const ui_column key_cols[] = {
    {"Key", 8, 16, 0},
    {"Address", 12, 42, UI_COL_GROW},
    {"State", 6, 10, 0},
    {"Balances", 8, 0, UI_COL_GROW},
};
static const ui_tscreen_desc keys_desc = {"Keys (harness)", key_cols,
                                          sizeof key_cols / sizeof key_cols[0], "none", "keys"};

static int keys_open(ui_screen *s, err *e)
{
    return ui_tscreen_open(s, &keys_desc, (ui_rows){keys_count, keys_cell, NULL, NULL, NULL}, e);
}

static unsigned unlock_answer(void *arg, const char *pass, size_t len)
{
    ui_app *a = arg;
    if (!pass) {
        ui_message(a, UI_MSG_INFO, "unlock cancelled");
        return UI_OK;
    }
    unsigned char hash[crypto_generichash_BYTES];
    crypto_generichash(hash, sizeof hash, (const unsigned char *)pass, len, NULL, 0);
    h.unlocked = true;
    ui_message(a, UI_MSG_INFO, "unlocked treasury-hot: %zu bytes, blake2b %02x%02x%02x%02x", len,
               hash[0], hash[1], hash[2], hash[3]);
    return UI_REDRAW;
}

static unsigned keys_handle(ui_screen *s, const ui_event *ev)
{
    if (ev->action == UI_ACT_KEY_UNLOCK) {
        err e;
        if (ui_passphrase_open(s->app, "Unlock key treasury-hot",
                               "Passphrase for treasury-hot:", unlock_answer, s->app, &e) < 0)
            ui_message(s->app, UI_MSG_ERROR, "%s", e.msg);
        return UI_OK;
    }
    if (ev->action == UI_ACT_KEY_LOCK) {
        h.unlocked = false;
        ui_message(s->app, UI_MSG_INFO, "locked treasury-hot");
        return UI_REDRAW;
    }
    return ui_tscreen_handle(s, ev) & ~UI_UNHANDLED;
}

static const ui_screen_ops harness_keys = {
    .topics = UI_TOPIC_KEYS,
    .open = keys_open,
    .close = ui_tscreen_close,
    .draw = ui_tscreen_draw,
    .handle = keys_handle,
    .status = ui_tscreen_status,
    .selected = ui_tscreen_selected,
};

static size_t pending(void *arg)
{
    return h.pending;
}

static unsigned facts(void *arg)
{
    return UI_PRE_CHAIN | (h.unlocked ? UI_PRE_UNLOCKED_KEY : 0u);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ui-harness LOGFILE\n");
        return 2;
    }
    err e;
    err_clear(&e);
    if (log_open(argv[1], &e) < 0) {
        fprintf(stderr, "ui-harness: %s\n", e.msg);
        return 1;
    }
    setlocale(LC_ALL, "");
    ui_config cfg = {
        .desk = "harness",
        .operator_name = "tester",
        .log_path = argv[1],
        .pending = pending,
        .facts = facts,
    };
    cfg.screens[UI_SCR_ESCROWS] = &harness_escrows;
    cfg.screens[UI_SCR_KEYS] = &harness_keys;
    log_quiet(true);
    int sig = 0;
    int rc = ui_run(&cfg, &sig, &e);
    log_quiet(false);
    ui_notify_close();
    free(h.match);
    if (rc < 0) {
        fprintf(stderr, "ui-harness: %s\n", e.msg);
        return 1;
    }
    printf("harness: exit pending=%zu unlocked=%d\n", h.pending, h.unlocked);
    log_close();
    return 0;
}
