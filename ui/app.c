/* app.c: the main loop of the terminal workstation. One thread owns curses: it polls
 * the terminal, the signal self-pipe and the worker notification eventfd, with a timeout
 * to the next second for the clock. Keys become actions through the keymap; handlers
 * return UI_* flags; only this file draws, and only the windows marked dirty, each with
 * wnoutrefresh and one doupdate per frame. */
#include "app.h"

#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "desk.h"
#include "form.h"
#include "lineedit.h"
#include "notify.h"
#include "secret.h"
#include "task.h"
#include "terminal.h"
#include "text.h"
#include "tscreen.h"

#define MIN_COLS 80
#define MIN_ROWS 24
#define MODAL_MAX_LINES 32
#define KEYS_PER_WAKE 64
#define MSG_HISTORY 28

/* Windows, as dirty bits. */
enum {
    W_TITLE = 1u << 0,
    W_TABS = 1u << 1,
    W_BODY = 1u << 2,
    W_STATUS = 1u << 3,
    W_MSG = 1u << 4,
    W_MODAL = 1u << 5,
    W_ALL = (1u << 6) - 1,
};

typedef enum { PROMPT_NONE, PROMPT_FILTER, PROMPT_COMMAND } prompt_kind;
typedef enum { MODAL_NONE, MODAL_CONFIRM, MODAL_PASSPHRASE, MODAL_FORM } modal_kind;

struct ui_app {
    const ui_config *cfg;
    ui_screen screens[UI_SCREEN_COUNT];
    ui_screen help;
    ui_screen_id cur;
    bool help_open;
    char filters[UI_SCREEN_COUNT + 1][UI_FILTER_MAX]; /* last slot: help */

    unsigned dirty;
    bool relayout;
    bool repaint; /* clear the terminal and paint everything (C-l, resize) */
    bool quit;
    int term_signal;
    bool too_small;
    /* Debug timing (tests/bench/ui_bench.py reads it from the log): when the first key
     * of the frame was read, and whether the first frame was drawn yet. */
    struct timespec key_t0;
    bool key_pending;
    struct timespec book_t0; /* the last announcement of the book's server reached the loop */
    bool book_pending;
    bool first_frame_done;
    int rows, cols;
    time_t clock;
    WINDOW *w_title, *w_tabs, *w_body, *w_status, *w_msg, *w_modal;
    WINDOW *input; /* a 1x1 pad: reading keys from a pad never refreshes anything */

    prompt_kind prompt;
    bool filter_typed; /* the filter prompt changed: apply once after this batch of keys */
    ui_lineedit le;
    char prompt_saved[UI_FILTER_MAX];
    char completions[512];

    char msg[512];
    ui_msg_level msg_level;
    /* The message line's history for :messages, oldest overwritten first. */
    char history[MSG_HISTORY][300];
    size_t n_history;

    modal_kind modal;
    char m_title[128];
    char *m_lines[MODAL_MAX_LINES];
    size_t m_n;
    char m_yes[32];
    int m_focus; /* confirm: 1 = the confirming button */
    ui_confirm_fn m_confirm;
    ui_passphrase_fn m_pass;
    void *m_arg;
    ui_secret *secret;
    ui_form *form;
    ui_form_done_fn m_form_done;

    /* Type-ahead safety: keys typed before the operator saw what they now mean are
     * dropped (input_discard). discarded ends the batch being read; stale says that this
     * batch already changed the screen, so a screen's own action waits for a fresh key. */
    bool discarded;
    bool stale;
    unsigned long flushes; /* input_discard calls, so the loop knows a poll's news is stale */
};

static ui_app the_app;

static const ui_screen_ops *const builtin_screens[UI_SCREEN_COUNT] = {
    &ui_scr_dashboard, &ui_scr_escrows, &ui_scr_approvals, &ui_scr_compliance,
    &ui_scr_entities,  &ui_scr_keys,    &ui_scr_chains,    &ui_scr_audit,
    &ui_scr_swaps,     &ui_scr_txs,     &ui_scr_bridges,   &ui_scr_credit,
};

static ui_screen *current(ui_app *a)
{
    return a->help_open ? &a->help : &a->screens[a->cur];
}

static char *current_filter(ui_app *a)
{
    return a->filters[a->help_open ? UI_SCREEN_COUNT : a->cur];
}

static void apply(ui_app *a, unsigned r)
{
    if (r & UI_QUIT)
        a->quit = true;
    if (r & UI_RELAYOUT)
        a->relayout = true;
    if (r & UI_REDRAW)
        a->dirty |= W_BODY | W_STATUS | W_MODAL;
}

/* Drops every key typed ahead (curses' queue and the terminal's): they were typed for a
 * frame that is no longer on the screen, and must not become commands, or a passphrase,
 * in the next one. */
static void input_discard(ui_app *a)
{
    flushinp();
    a->discarded = true;
    a->flushes++;
}

void ui_message(ui_app *a, ui_msg_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    a->msg_level = level;
    a->dirty |= W_MSG;
    {
        char when[16];
        struct tm tm;
        time_t now = time(NULL);
        gmtime_r(&now, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
        snprintf(a->history[a->n_history % MSG_HISTORY], sizeof a->history[0], "%s %s %.270s",
                 when, level == UI_MSG_ERROR ? "!" : " ", a->msg);
        a->n_history++;
    }
    if (level == UI_MSG_ERROR) {
        LOG_W("ui", "%s", a->msg);
        input_discard(a); /* a refusal: what was typed after it was typed blind */
    }
}

static void message_clear(ui_app *a)
{
    if (a->msg[0]) {
        a->msg[0] = '\0';
        a->dirty |= W_MSG;
    }
}

/* ---- screens ---- */

static int screen_ensure_open(ui_app *a, ui_screen *s)
{
    if (s->opened)
        return 0;
    err e;
    err_clear(&e);
    if (s->ops->open(s, &e) < 0) {
        ui_message(a, UI_MSG_ERROR, "%s", e.msg[0] ? e.msg : "cannot open the screen");
        return -1;
    }
    s->opened = true;
    if (s->ops->filter && current_filter(a)[0])
        s->ops->filter(s, current_filter(a));
    return 0;
}

static unsigned switch_screen(ui_app *a, ui_screen_id id)
{
    bool was_help = a->help_open;
    ui_screen_id old = a->cur;
    a->help_open = false;
    a->cur = id;
    if (screen_ensure_open(a, &a->screens[id]) < 0) {
        a->cur = old;
        a->help_open = was_help;
        return UI_OK;
    }
    if (id != old || was_help) {
        a->dirty |= W_TABS | W_BODY | W_STATUS;
        a->stale = true; /* the keys mean something else from here */
    }
    return UI_OK;
}

static unsigned help_toggle(ui_app *a, bool open)
{
    if (open == a->help_open)
        return UI_OK;
    if (open) {
        a->help_open = true; /* current_filter() is the help's from here */
        if (screen_ensure_open(a, &a->help) < 0) {
            a->help_open = false;
            return UI_OK;
        }
    } else {
        a->help_open = false;
    }
    a->dirty |= W_TABS | W_BODY | W_STATUS;
    return UI_OK;
}

/* ---- modal dialogs ---- */

static void modal_free(ui_app *a)
{
    for (size_t i = 0; i < a->m_n; i++)
        free(a->m_lines[i]);
    a->m_n = 0;
    ui_secret_free(&a->secret);
    ui_form_free(&a->form);
    a->m_form_done = NULL;
    if (a->w_modal) {
        delwin(a->w_modal);
        a->w_modal = NULL;
    }
    a->modal = MODAL_NONE;
    a->m_confirm = NULL;
    a->m_pass = NULL;
    a->dirty |= W_BODY | W_STATUS | W_MSG;
    input_discard(a); /* keys typed past the dialog were meant for it, not the screen */
}

static void modal_layout(ui_app *a)
{
    if (a->w_modal) {
        delwin(a->w_modal);
        a->w_modal = NULL;
    }
    if (a->modal == MODAL_NONE || a->too_small)
        return;
    int body_h = a->rows - 4;
    int content = ui_text_width(a->m_title) + 6;
    if (a->modal == MODAL_FORM) {
        int fh, fw;
        ui_form_size(a->form, &fh, &fw);
        content = fw - 4;
    } else if (a->modal == MODAL_CONFIRM) {
        for (size_t i = 0; i < a->m_n; i++) {
            int lw = ui_text_width(a->m_lines[i]);
            if (lw > content)
                content = lw;
        }
        int buttons = ui_text_width(a->m_yes) + 26;
        if (buttons > content)
            content = buttons;
    } else {
        for (size_t i = 0; i < a->m_n; i++) {
            int pw = ui_text_width(a->m_lines[i]);
            if (pw > content)
                content = pw;
        }
        if (content < 44)
            content = 44;
    }
    int w = content + 4;
    if (w > a->cols - 4)
        w = a->cols - 4;
    /* a passphrase prompt under a card: the card's lines and a blank line above it */
    int h = a->modal == MODAL_CONFIRM ? (int)a->m_n + 5
                                      : 8 + (a->m_n > 1 ? (int)a->m_n : 0);
    if (a->modal == MODAL_FORM) {
        int fw;
        ui_form_size(a->form, &h, &fw);
    }
    if (h > body_h)
        h = body_h;
    a->w_modal = newwin(h, w, 2 + (body_h - h) / 2, (a->cols - w) / 2);
    if (a->w_modal)
        leaveok(a->w_modal, TRUE);
    a->dirty |= W_MODAL;
}

static int modal_begin(ui_app *a, modal_kind kind, const char *title, err *e)
{
    if (a->modal != MODAL_NONE)
        return err_set(e, ERR_STATE, "another dialog is open; answer it first");
    a->modal = kind;
    snprintf(a->m_title, sizeof a->m_title, "%s", title);
    a->m_n = 0;
    a->m_focus = 0;
    input_discard(a); /* nothing typed before the dialog was drawn answers it */
    return 0;
}

int ui_confirm_open(ui_app *a, const char *title, const char *const *lines, size_t n,
                    const char *yes_label, ui_confirm_fn fn, void *arg, err *e)
{
    if (modal_begin(a, MODAL_CONFIRM, title, e) < 0)
        return -1;
    for (size_t i = 0; i < n && i < MODAL_MAX_LINES; i++) {
        a->m_lines[i] = strdup(lines[i]);
        if (!a->m_lines[i]) {
            modal_free(a);
            return err_set(e, ERR_NOMEM, "out of memory opening a dialog");
        }
        a->m_n++;
    }
    snprintf(a->m_yes, sizeof a->m_yes, "%s", yes_label ? yes_label : "Confirm");
    a->m_confirm = fn;
    a->m_arg = arg;
    modal_layout(a);
    return 0;
}

int ui_passphrase_open(ui_app *a, const char *title, const char *prompt, ui_passphrase_fn fn,
                       void *arg, err *e)
{
    return ui_passphrase_open_card(a, title, NULL, 0, prompt, fn, arg, e);
}

int ui_passphrase_open_card(ui_app *a, const char *title, const char *const *card, size_t n,
                            const char *prompt, ui_passphrase_fn fn, void *arg, err *e)
{
    if (modal_begin(a, MODAL_PASSPHRASE, title, e) < 0)
        return -1;
    if (n > MODAL_MAX_LINES - 1)
        n = MODAL_MAX_LINES - 1;
    for (size_t i = 0; i <= n; i++) {
        a->m_lines[i] = strdup(i < n ? card[i] : prompt);
        if (!a->m_lines[i]) {
            modal_free(a);
            return err_set(e, ERR_NOMEM, "out of memory opening a dialog");
        }
        a->m_n = i + 1;
    }
    if (ui_secret_new(&a->secret, e) < 0) {
        modal_free(a);
        return -1;
    }
    a->m_pass = fn;
    a->m_arg = arg;
    modal_layout(a);
    return 0;
}

int ui_form_open(ui_app *a, const char *title, const ui_form_field *fields, size_t n,
                 ui_form_check_fn check, ui_form_done_fn done, void *arg, err *e)
{
    if (modal_begin(a, MODAL_FORM, title, e) < 0)
        return -1;
    if (ui_form_new(&a->form, title, fields, n, check, arg, e) < 0) {
        modal_free(a);
        return -1;
    }
    a->m_form_done = done;
    a->m_arg = arg;
    message_clear(a);
    modal_layout(a);
    return 0;
}

static void form_key(ui_app *a, ui_key key)
{
    ui_form_state st = ui_form_key(a->form, key);
    a->dirty |= W_MODAL;
    if (st == UI_FORM_MORE)
        return;
    ui_form *f = a->form;
    a->form = NULL; /* the callback reads it; it may open the next dialog */
    ui_form_done_fn fn = a->m_form_done;
    void *arg = a->m_arg;
    modal_free(a);
    if (fn)
        apply(a, fn(arg, st == UI_FORM_SUBMIT ? f : NULL));
    ui_form_free(&f);
}

static void confirm_answer(ui_app *a, bool yes)
{
    ui_confirm_fn fn = a->m_confirm;
    void *arg = a->m_arg;
    modal_free(a); /* first: the callback may open the next dialog */
    if (fn)
        apply(a, fn(arg, yes));
}

static void confirm_key(ui_app *a, ui_key key)
{
    switch (key) {
    case 'y':
    case 'Y':
        confirm_answer(a, true);
        break;
    case 'n':
    case 'N':
    case 'q':
    case UI_ESC:
        confirm_answer(a, false);
        break;
    case '\n':
    case UI_K_ENTER:
        confirm_answer(a, a->m_focus == 1);
        break;
    case '\t':
    case UI_K_BTAB:
    case UI_K_LEFT:
    case UI_K_RIGHT:
    case 'h':
    case 'l':
        a->m_focus ^= 1;
        a->dirty |= W_MODAL;
        break;
    default:
        break;
    }
}

/* Feeds raw terminal bytes to the passphrase prompt; ends it on Enter or Esc. */
static void passphrase_bytes(ui_app *a, const unsigned char *b, size_t n)
{
    size_t used = 0;
    ui_secret_state st = ui_secret_feed(a->secret, b, n, &used);
    if (st == UI_SECRET_MORE)
        return;
    /* Keys typed after Enter or Esc were typed blind, before the screen behind the prompt
     * was drawn again: they are dropped (modal_free), never taken as commands. */
    ui_secret *sec = a->secret;
    a->secret = NULL;
    ui_passphrase_fn fn = a->m_pass;
    void *arg = a->m_arg;
    modal_free(a);
    unsigned r = UI_OK;
    if (st == UI_SECRET_ACCEPT && sec->overflow) {
        ui_message(a, UI_MSG_ERROR, "the passphrase is longer than %d bytes; nothing was done",
                   UI_SECRET_MAX);
        if (fn)
            r = fn(arg, NULL, 0);
    } else if (fn) {
        r = st == UI_SECRET_ACCEPT ? fn(arg, (const char *)sec->buf, sec->len) : fn(arg, NULL, 0);
    }
    ui_secret_free(&sec);
    apply(a, r);
}

static void passphrase_cancel(ui_app *a)
{
    const unsigned char esc = 0x1b;
    passphrase_bytes(a, &esc, 1);
}

/* ---- prompts ---- */

static unsigned request_quit(ui_app *a);

static void prompt_start(ui_app *a, prompt_kind kind)
{
    a->prompt = kind;
    a->completions[0] = '\0';
    if (kind == PROMPT_FILTER) {
        snprintf(a->prompt_saved, sizeof a->prompt_saved, "%s", current_filter(a));
        ui_lineedit_set(&a->le, current_filter(a));
    } else {
        ui_lineedit_clear(&a->le);
    }
    message_clear(a);
    a->dirty |= W_MSG | W_STATUS;
}

static void prompt_end(ui_app *a)
{
    a->prompt = PROMPT_NONE;
    a->completions[0] = '\0';
    a->dirty |= W_MSG | W_STATUS;
}

static void set_filter(ui_app *a, const char *text)
{
    ui_screen *s = current(a);
    snprintf(current_filter(a), UI_FILTER_MAX, "%s", text);
    if (s->ops->filter)
        apply(a, s->ops->filter(s, current_filter(a)));
    a->dirty |= W_STATUS;
}

static unsigned dispatch(ui_app *a, ui_action act, ui_key key);
static unsigned switch_screen(ui_app *a, ui_screen_id id);

/* `:operator NAME`: NAME's passphrase unlocks NAME's key on the Keys screen's worker; once
 * it is unlocked the desk acts, and signs, as NAME (ui_desk_unlock_poll). */
static unsigned operator_pass(void *arg, const char *pass, size_t len)
{
    ui_app *a = arg;
    ui_desk *d = a->cfg->desk_ctx;
    if (!pass) {
        ui_desk_switch_cancel(d);
        ui_message(a, UI_MSG_INFO, "sign-in cancelled; still %s", d->operator_name);
        return UI_REDRAW;
    }
    err e;
    err_clear(&e);
    if (ui_desk_unlock_start(d, &d->switch_addr, pass, len, &e) < 0) {
        ui_desk_switch_cancel(d);
        ui_message(a, UI_MSG_ERROR, "%s", e.msg);
        return UI_REDRAW;
    }
    ui_message(a, UI_MSG_INFO, "signing in as %s...", d->switch_name);
    return switch_screen(a, UI_SCR_KEYS);
}

static unsigned operator_command(ui_app *a, const char *name)
{
    ui_desk *d = a->cfg->desk_ctx;
    err e;
    err_clear(&e);
    if (!d) {
        ui_message(a, UI_MSG_ERROR, "no desk is open");
        return UI_OK;
    }
    if (!*name) {
        ui_message(a, UI_MSG_ERROR, "give the operator: :operator NAME");
        return UI_OK;
    }
    if (ui_desk_switch_begin(d, name, &e) < 0) {
        ui_message(a, UI_MSG_ERROR, "%s", e.msg);
        return UI_OK;
    }
    char title[160];
    snprintf(title, sizeof title, "Sign in as %.63s", d->switch_name);
    if (ui_passphrase_open(a, title, "passphrase of the operator's key", operator_pass, a, &e) <
        0) {
        ui_desk_switch_cancel(d);
        ui_message(a, UI_MSG_ERROR, "%s", e.msg);
    }
    return UI_REDRAW;
}

static void run_command(ui_app *a, const char *line)
{
    while (*line == ' ' || *line == ':')
        line++;
    if (!*line)
        return;
    char name[64];
    size_t n = strcspn(line, " ");
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), line);
    const char *args = line + n;
    while (*args == ' ')
        args++;
    ui_action act = ui_command_find(name);
    if (act == UI_ACT_NONE) {
        char cands[256];
        ui_command_candidates(name, cands, sizeof cands);
        if (cands[0])
            ui_message(a, UI_MSG_ERROR, "':%s' is ambiguous: %s", name, cands);
        else
            ui_message(a, UI_MSG_ERROR, "unknown command ':%s' (Tab completes, :help lists them)",
                       name);
        return;
    }
    if (act == UI_ACT_FILTER && *args) {
        set_filter(a, args);
        return;
    }
    if (act == UI_ACT_OPERATOR) {
        apply(a, operator_command(a, args));
        return;
    }
    apply(a, dispatch(a, act, 0));
}

static void complete_command(ui_app *a)
{
    char text[UI_LINE_MAX * 4 + 1], out[128];
    ui_lineedit_text(&a->le, text, sizeof text);
    if (strchr(text, ' '))
        return; /* only the command name completes */
    size_t n = ui_command_complete(text, out, sizeof out);
    if (n == 0) {
        snprintf(a->completions, sizeof a->completions, "no command starts with '%.200s'", text);
    } else {
        ui_lineedit_set(&a->le, out);
        if (n == 1) {
            a->completions[0] = '\0';
        } else {
            char cands[400];
            ui_command_candidates(out, cands, sizeof cands);
            snprintf(a->completions, sizeof a->completions, "%s", cands);
        }
    }
    a->dirty |= W_MSG | W_STATUS;
}

/* The table narrows as the filter is typed, but a filter can cost a scan of the whole
 * table: keys typed ahead (or pasted) are applied together, once. */
static void filter_apply_typed(ui_app *a)
{
    if (!a->filter_typed)
        return;
    a->filter_typed = false;
    char text[UI_LINE_MAX * 4 + 1];
    ui_lineedit_text(&a->le, text, sizeof text);
    if (a->prompt == PROMPT_FILTER)
        set_filter(a, text);
}

static void prompt_key(ui_app *a, ui_key key)
{
    char text[UI_LINE_MAX * 4 + 1];
    ui_le_result r = ui_lineedit_key(&a->le, key);
    ui_lineedit_text(&a->le, text, sizeof text);
    switch (r) {
    case UI_LE_CHANGED:
        if (a->prompt == PROMPT_FILTER)
            a->filter_typed = true; /* live, once per batch of typed-ahead keys */
        a->completions[0] = '\0';
        a->dirty |= W_MSG | W_STATUS;
        break;
    case UI_LE_MOVED:
        a->dirty |= W_MSG;
        break;
    case UI_LE_ACCEPT: {
        filter_apply_typed(a);
        prompt_kind kind = a->prompt;
        prompt_end(a);
        if (kind == PROMPT_COMMAND)
            run_command(a, text);
        break;
    }
    case UI_LE_CANCEL:
        a->filter_typed = false;
        if (a->prompt == PROMPT_FILTER)
            set_filter(a, a->prompt_saved);
        prompt_end(a);
        break;
    case UI_LE_COMPLETE:
        if (a->prompt == PROMPT_COMMAND)
            complete_command(a);
        break;
    case UI_LE_IGNORED:
        break;
    }
}

/* ---- actions ---- */

static unsigned quit_answer(void *arg, bool yes)
{
    return yes ? UI_QUIT : UI_OK;
}

static unsigned request_quit(ui_app *a)
{
    size_t pending = a->cfg->pending ? a->cfg->pending(a->cfg->arg) : 0;
    if (pending == 0 && !a->cfg->quit_note)
        return UI_QUIT;
    char line[128];
    snprintf(line, sizeof line, "%zu operation%s still pending (sending or awaiting receipts).",
             pending, pending == 1 ? " is" : "s are");
    const char *lines[3];
    size_t n = 0;
    if (pending)
        lines[n++] = line;
    if (a->cfg->quit_note) /* quitting also stops something: the demo's chains */
        lines[n++] = a->cfg->quit_note;
    lines[n++] = pending ? "Quit anyway?" : "Quit?";
    err e;
    if (ui_confirm_open(a, "Quit fusion", lines, n, "Quit", quit_answer, NULL, &e) < 0)
        ui_message(a, UI_MSG_ERROR, "%s", e.msg);
    return UI_OK;
}

static unsigned messages_closed(void *arg, bool yes)
{
    return UI_REDRAW;
}

static unsigned dispatch(ui_app *a, ui_action act, ui_key key)
{
    ui_screen *s = current(a);
    char kname[64];
    if (act == UI_ACT_NONE) {
        ui_event ev = {act, key};
        unsigned r = s->ops->handle(s, &ev);
        if (r & UI_UNHANDLED) {
            ui_message(a, UI_MSG_INFO, "%s does nothing here; ? lists the keys",
                       ui_key_name(key, kname, sizeof kname));
            r &= ~UI_UNHANDLED;
        }
        return r;
    }
    const ui_action_info *info = &ui_actions[act];
    if (a->help_open && (act == UI_ACT_QUIT || act == UI_ACT_HELP ||
                         (act == UI_ACT_UNFILTER && !current_filter(a)[0])))
        return help_toggle(a, false);
    if (!(info->screens & (1u << a->cur)) || (a->help_open && info->screens != UI_ALL)) {
        ui_message(a, UI_MSG_ERROR, ":%s works on %s", info->command,
                   ui_action_where(act, kname, sizeof kname));
        return UI_OK;
    }
    unsigned facts = a->cfg->facts ? a->cfg->facts(a->cfg->arg) : 0;
    if (s->ops->selected && s->ops->selected(s))
        facts |= UI_PRE_ROW;
    unsigned missing = info->pre & ~facts;
    if (missing) {
        ui_message(a, UI_MSG_ERROR, "%s: %s", info->command, ui_precondition_message(missing));
        return UI_OK;
    }
    char why[300];
    if (a->cfg->permitted && a->cfg->permitted(a->cfg->arg, act, why, sizeof why) != 0) {
        ui_message(a, UI_MSG_ERROR, "%s: %s", info->command, why);
        return UI_OK;
    }
    switch (act) {
    case UI_ACT_HELP:
        return help_toggle(a, true);
    case UI_ACT_COMMAND:
        prompt_start(a, PROMPT_COMMAND);
        return UI_OK;
    case UI_ACT_FILTER:
        if (!s->ops->filter) {
            ui_message(a, UI_MSG_ERROR, "this screen has nothing to filter");
            return UI_OK;
        }
        prompt_start(a, PROMPT_FILTER);
        return UI_OK;
    case UI_ACT_UNFILTER:
        /* Esc closes the screen's detail pane first (the innermost), then the filter */
        if (s->opened && s->ops->close_overlay && s->ops->close_overlay(s))
            return UI_REDRAW;
        if (current_filter(a)[0])
            set_filter(a, "");
        return UI_OK;
    case UI_ACT_QUIT:
        /* q closes an overlay (a detail pane) before it quits, like Esc */
        if (s->opened && s->ops->close_overlay && s->ops->close_overlay(s))
            return UI_REDRAW;
        return request_quit(a);
    case UI_ACT_REDRAW:
        a->repaint = true;
        return UI_OK;
    case UI_ACT_OPERATOR: /* the command line, ready for the name */
        prompt_start(a, PROMPT_COMMAND);
        ui_lineedit_set(&a->le, "operator ");
        return UI_OK;
    case UI_ACT_NEXT_SCREEN:
        return switch_screen(a, (ui_screen_id)((a->cur + 1) % UI_SCREEN_COUNT));
    case UI_ACT_PREV_SCREEN:
        return switch_screen(a, (ui_screen_id)((a->cur + UI_SCREEN_COUNT - 1) % UI_SCREEN_COUNT));
    case UI_ACT_GO_DASHBOARD:
    case UI_ACT_GO_ESCROWS:
    case UI_ACT_GO_APPROVALS:
    case UI_ACT_GO_COMPLIANCE:
    case UI_ACT_GO_ENTITIES:
    case UI_ACT_GO_KEYS:
    case UI_ACT_GO_CHAINS:
    case UI_ACT_GO_AUDIT:
    case UI_ACT_GO_SWAPS:
    case UI_ACT_GO_TXS:
    case UI_ACT_GO_BRIDGES:
    case UI_ACT_GO_CREDIT:
        return switch_screen(a, (ui_screen_id)(act - UI_ACT_GO_DASHBOARD));
    case UI_ACT_MESSAGES: {
        /* the message line's history, newest last */
        const char *lines[MSG_HISTORY + 1];
        size_t n = 0, first = a->n_history > MSG_HISTORY ? a->n_history - MSG_HISTORY : 0;
        for (size_t i = first; i < a->n_history; i++)
            lines[n++] = a->history[i % MSG_HISTORY];
        if (n == 0)
            lines[n++] = "no messages yet";
        err e;
        if (ui_confirm_open(a, "Messages (newest last)", lines, n, "OK", messages_closed, NULL,
                            &e) < 0)
            ui_message(a, UI_MSG_ERROR, "%s", e.msg);
        return UI_OK;
    }
    default: {
        ui_event ev = {act, key};
        unsigned r = s->ops->handle(s, &ev);
        return r & ~UI_UNHANDLED;
    }
    }
}

static void handle_key(ui_app *a, ui_key key)
{
    if (key == UI_FN(KEY_RESIZE)) {
        ui_sig_winch = 1;
        return;
    }
    if (a->too_small) {
        /* Only quitting makes sense until the terminal is big enough again. */
        if (key == 'q' && !(a->cfg->pending && a->cfg->pending(a->cfg->arg)))
            a->quit = true;
        return;
    }
    if (a->modal == MODAL_CONFIRM) {
        confirm_key(a, key);
        return;
    }
    if (a->modal == MODAL_FORM) {
        form_key(a, key);
        return;
    }
    if (a->prompt != PROMPT_NONE) {
        prompt_key(a, key);
        return;
    }
    message_clear(a);
    ui_action act = ui_keymap_lookup(a->cur, key);
    if (a->help_open && act != UI_ACT_NONE && ui_actions[act].screens != UI_ALL)
        act = UI_ACT_NONE; /* the help screen has only the global actions */
    if (a->stale && act != UI_ACT_NONE && (ui_actions[act].pre & UI_PRE_ROW)) {
        /* An action on the selected row typed ahead, before that screen was drawn: it
         * acts only on a key pressed while the operator can see what it acts on. */
        char kname[32];
        ui_message(a, UI_MSG_INFO, "%s was typed before the screen was drawn: press it again",
                   ui_key_name(key, kname, sizeof kname));
        input_discard(a);
        return;
    }
    apply(a, dispatch(a, act, key));
}

/* Gives typed-ahead keys to the passphrase prompt as the bytes the terminal sent. */
static void passphrase_key(ui_app *a, ui_key key)
{
    unsigned char b[4];
    size_t n = 0;
    if (key == UI_K_BACKSPACE)
        b[0] = 0x7f, n = 1;
    else if (key == UI_K_ENTER)
        b[0] = '\r', n = 1;
    else if (key < UI_FN(0))
        n = ui_utf8_put((uint32_t)key, (char *)b);
    if (n)
        passphrase_bytes(a, b, n);
    sodium_memzero(b, sizeof b);
}

/* ---- input ---- */

static void input_failed(ui_app *a, const char *why)
{
    LOG_W("ui", "terminal input failed (%s)%s; exiting", why,
          isatty(STDIN_FILENO) ? "" : " and stdin is no longer a terminal");
    a->quit = true;
}

static void on_input(ui_app *a, short revents)
{
    if (revents & (POLLERR | POLLNVAL)) {
        input_failed(a, "poll error");
        return;
    }
    int avail = 0;
    if (ioctl(STDIN_FILENO, FIONREAD, &avail) == 0 && avail == 0) {
        /* Readable with nothing to read: end of file, the session is gone. */
        input_failed(a, (revents & POLLHUP) ? "hangup" : "end of input");
        return;
    }
    a->discarded = false;
    a->stale = false; /* the frame on the screen is the one the operator types at */
    if (a->modal == MODAL_PASSPHRASE) {
        /* Straight from the descriptor into guarded memory: the passphrase never passes
         * through curses' input queue. */
        unsigned char raw[256];
        ssize_t n = read(STDIN_FILENO, raw, sizeof raw);
        if (n > 0)
            passphrase_bytes(a, raw, (size_t)n);
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            input_failed(a, n == 0 ? "end of input" : strerror(errno));
        sodium_memzero(raw, sizeof raw);
        if (a->modal == MODAL_PASSPHRASE || a->quit || a->discarded)
            return;
    }
    if (!a->key_pending) {
        clock_gettime(CLOCK_MONOTONIC, &a->key_t0);
        a->key_pending = true;
    }
    for (int i = 0; i < KEYS_PER_WAKE && !a->quit; i++) {
        wint_t wc;
        int r = wget_wch(a->input, &wc);
        if (r == ERR)
            break;
        ui_key key = r == KEY_CODE_YES ? UI_FN((int)wc) : (ui_key)wc;
        if (a->modal != MODAL_PASSPHRASE)
            LOG_D("ui", "key %d", key);
        if (a->modal == MODAL_PASSPHRASE)
            passphrase_key(a, key);
        else
            handle_key(a, key);
        if (a->modal == MODAL_PASSPHRASE || a->discarded)
            break; /* the rest is read raw on the next wake-up, or was dropped */
    }
    filter_apply_typed(a);
}

static void on_signals(ui_app *a)
{
    if (ui_sig_quit) {
        a->term_signal = ui_sig_quit;
        ui_sig_quit = 0;
        LOG_I("ui", "signal %d: quitting", a->term_signal);
        a->quit = true;
    }
    if (ui_sig_int) {
        ui_sig_int = 0;
        /* C-c cancels what is open, else asks to quit like q. */
        if (a->modal == MODAL_PASSPHRASE)
            passphrase_cancel(a);
        else if (a->modal == MODAL_CONFIRM)
            confirm_answer(a, false);
        else if (a->modal == MODAL_FORM)
            form_key(a, UI_ESC);
        else if (a->prompt != PROMPT_NONE)
            prompt_key(a, UI_ESC);
        else if (a->too_small)
            handle_key(a, 'q');
        else
            apply(a, request_quit(a));
    }
    if (ui_sig_winch) {
        /* However many resizes arrived, one relayout at the final size. */
        ui_sig_winch = 0;
        if (ui_term_resize())
            a->relayout = true;
    }
}

struct ui_desk *ui_app_desk(ui_app *a)
{
    return a->cfg->desk_ctx;
}

static void show_task_result(ui_app *a, bool failed, const char *msg)
{
    ui_message(a, failed ? UI_MSG_ERROR : UI_MSG_INFO, "%s", msg);
}

/* Tells the opened screens that show any of topics to reload. */
static void topics_changed(ui_app *a, unsigned topics)
{
    if (!topics)
        return;
    if (topics & UI_TOPIC_BOOK) { /* the frame it causes is timed (frame_timing) */
        clock_gettime(CLOCK_MONOTONIC, &a->book_t0);
        a->book_pending = true;
    }
    if ((topics & (UI_TOPIC_SYNC | UI_TOPIC_BOOK)) && a->cfg->wake)
        topics |= a->cfg->wake(a->cfg->arg, topics);
    if (topics & UI_TOPIC_JOBS) { /* the workers, polled here only */
        apply(a, ui_task_poll(a, show_task_result));
        if (a->cfg->poll_jobs)
            apply(a, a->cfg->poll_jobs(a));
    }
    for (int i = 0; i < UI_SCREEN_COUNT; i++) {
        ui_screen *s = &a->screens[i];
        if (!s->opened || !s->ops->changed || !(s->ops->topics & topics))
            continue;
        unsigned r = s->ops->changed(s, topics);
        if (i == (int)a->cur && !a->help_open)
            apply(a, r);
    }
    a->dirty |= W_STATUS;
}

static void on_notify(ui_app *a)
{
    topics_changed(a, ui_notify_take());
}

static void on_tick(ui_app *a, time_t now)
{
    a->clock = now;
    a->dirty |= W_TITLE;
    if (a->cfg->timer)
        topics_changed(a, a->cfg->timer(a->cfg->arg));
    ui_screen *s = current(a);
    if (s->ops->tick)
        apply(a, s->ops->tick(s, now));
}

/* ---- layout and drawing ---- */

static void windows_free(ui_app *a)
{
    WINDOW **ws[] = {&a->w_title, &a->w_tabs, &a->w_body, &a->w_status, &a->w_msg, &a->w_modal};
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
        if (*ws[i])
            delwin(*ws[i]);
        *ws[i] = NULL;
    }
}

static void layout(ui_app *a)
{
    windows_free(a);
    getmaxyx(stdscr, a->rows, a->cols);
    a->too_small = a->rows < MIN_ROWS || a->cols < MIN_COLS;
    a->relayout = false;
    a->repaint = true;
    a->dirty = W_ALL;
    LOG_D("ui", "layout %dx%d%s", a->cols, a->rows, a->too_small ? " (too small)" : "");
    if (a->too_small)
        return;
    a->w_title = newwin(1, a->cols, 0, 0);
    a->w_tabs = newwin(1, a->cols, 1, 0);
    a->w_body = newwin(a->rows - 4, a->cols, 2, 0);
    a->w_status = newwin(1, a->cols, a->rows - 2, 0);
    a->w_msg = newwin(1, a->cols, a->rows - 1, 0);
    if (!a->w_title || !a->w_tabs || !a->w_body || !a->w_status || !a->w_msg) {
        LOG_E("ui", "cannot create windows for %dx%d", a->cols, a->rows);
        windows_free(a);
        a->too_small = true;
        return;
    }
    leaveok(a->w_title, TRUE);
    leaveok(a->w_tabs, TRUE);
    leaveok(a->w_body, TRUE);
    leaveok(a->w_status, TRUE);
    modal_layout(a);
}

/* The desk's path cut from the left to `width` columns ("...p/desk"), so its end shows. */
static void left_cut(char *out, size_t cap, const char *s, int width)
{
    const char *ell = ui_glyph()->ellipsis;
    if (ui_text_width(s) <= width) {
        snprintf(out, cap, "%s", s);
        return;
    }
    const char *p = s;
    while (*p && ui_text_width(p) + ui_text_width(ell) > width)
        do
            p++;
        while ((*p & 0xC0) == 0x80);
    snprintf(out, cap, "%s%s", ell, p);
}

static void draw_title(ui_app *a)
{
    WINDOW *w = a->w_title;
    const char *v = ui_glyph()->v;
    char left[1024], right[32], op[256], desk[600];
    struct tm tm;
    gmtime_r(&a->clock, &tm);
    strftime(right, sizeof right, "%H:%M:%S UTC", &tm);
    int in = a->cfg->signed_in ? a->cfg->signed_in(a->cfg->arg) : -1;
    snprintf(op, sizeof op, "operator %s%s", a->cfg->operator_name ? a->cfg->operator_name : "-",
             in > 0 ? " (signed in)" : in == 0 ? " (locked)" : "");
    const char *dk = a->cfg->desk ? a->cfg->desk : "-";
    int rw = ui_text_width(right), room = a->cols - rw - 3;
    /* Who acts comes first: it must survive any width; the desk's path is cut from the left. */
    snprintf(left, sizeof left, "%s %s Fusion Prime Workstation %s desk %s", op, v, v, dk);
    if (ui_text_width(left) > room) {
        snprintf(left, sizeof left, "%s %s Fusion Prime Workstation", op, v);
        int rest = room - ui_text_width(left) - 8;
        if (rest >= 6) {
            left_cut(desk, sizeof desk, dk, rest);
            size_t l = strlen(left);
            snprintf(left + l, sizeof left - l, " %s desk %s", v, desk);
        }
    }
    wattrset(w, ui_attr(UI_ROLE_TITLE));
    mvwhline(w, 0, 0, ' ', a->cols);
    ui_put(w, 0, 1, left, room, UI_ALIGN_LEFT, UI_ROLE_TITLE);
    ui_put(w, 0, a->cols - rw - 1, right, rw, UI_ALIGN_LEFT, UI_ROLE_TITLE);
    LOG_D("ui", "draw title");
}

static void draw_tabs(ui_app *a)
{
    WINDOW *w = a->w_tabs;
    wattrset(w, ui_attr(UI_ROLE_TAB));
    mvwhline(w, 0, 0, ' ', a->cols);
    /* Full titles when they fit, else short ones for all but the current screen, else
     * short ones for all, else (twelve tabs at 80 columns) tiny ones for all but the
     * current screen, which keeps its short title: every tab shows at 80 columns. */
    int full = 0, shorts = 0, tinies = 0;
    for (int i = 0; i < UI_SCREEN_COUNT; i++) {
        full += ui_text_width(ui_screen_title((ui_screen_id)i)) + 4;
        shorts += ui_text_width(ui_screen_short_title((ui_screen_id)i)) + 4;
        tinies += ui_text_width(ui_screen_tiny_title((ui_screen_id)i)) + 3;
    }
    int cur_extra = ui_text_width(ui_screen_title(a->cur)) -
                    ui_text_width(ui_screen_short_title(a->cur));
    bool shorten = full > a->cols, all_short = shorts + cur_extra > a->cols;
    /* still too wide (short tabs padded need 88 columns): one space between tabs */
    bool tight = shorts > a->cols;
    bool tiny = shorts - UI_SCREEN_COUNT > a->cols &&
                tinies + ui_text_width(ui_screen_short_title(a->cur)) -
                        ui_text_width(ui_screen_tiny_title(a->cur)) <=
                    a->cols;
    int x = 0;
    for (int i = 0; i < UI_SCREEN_COUNT; i++) {
        bool cur = i == (int)a->cur && !a->help_open;
        const char *t = tiny && i != (int)a->cur ? ui_screen_tiny_title((ui_screen_id)i)
                        : shorten && (i != (int)a->cur || all_short)
                            ? ui_screen_short_title((ui_screen_id)i)
                            : ui_screen_title((ui_screen_id)i);
        char label[64];
        snprintf(label, sizeof label, tight ? " %s %s" : " %s %s ", ui_screen_key((ui_screen_id)i),
                 t);
        int lw = ui_text_width(label);
        if (x + lw > a->cols)
            break;
        ui_put(w, 0, x, label, lw, UI_ALIGN_LEFT, cur ? UI_ROLE_TAB_CURRENT : UI_ROLE_TAB);
        x += lw;
    }
    if (a->help_open && x + 8 <= a->cols)
        ui_put(w, 0, a->cols - 7, " Help ", 6, UI_ALIGN_LEFT, UI_ROLE_TAB_CURRENT);
}

static void draw_status(ui_app *a)
{
    WINDOW *w = a->w_status;
    ui_screen *s = current(a);
    char info[256] = "", left[1024], right[128];
    if (s->opened && s->ops->status)
        s->ops->status(s, info, sizeof info);
    const char *v = ui_glyph()->v;
    char alert[256] = "";
    if (a->cfg->alert && a->cfg->alert(a->cfg->arg, alert, sizeof alert) > 0) {
        /* first, so that it survives any width */
        size_t l = strlen(alert);
        snprintf(alert + l, sizeof alert - l, " %s ", v);
    }
    if (a->prompt == PROMPT_COMMAND && a->completions[0]) {
        snprintf(left, sizeof left, "Tab: %s", a->completions);
    } else if (alert[0]) {
        char title[64];
        if (a->help_open)
            snprintf(title, sizeof title, "Help");
        else
            snprintf(title, sizeof title, "%s %s", ui_screen_key(a->cur), ui_screen_title(a->cur));
        snprintf(left, sizeof left, "%s%s %s %s", alert, title, v, info);
    } else {
        char title[64];
        if (a->help_open)
            snprintf(title, sizeof title, "Help");
        else
            snprintf(title, sizeof title, "%s %s", ui_screen_key(a->cur), ui_screen_title(a->cur));
        snprintf(left, sizeof left, "%s %s %s%s%s", title, v, info,
                 current_filter(a)[0] ? "  filter /" : "", current_filter(a));
    }
    if (a->help_open)
        snprintf(right, sizeof right, "Esc close  / filter  : command");
    else
        snprintf(right, sizeof right, "? help  : command  / filter  q quit");
    if (ui_text_width(left) + ui_text_width(right) + 4 > a->cols)
        snprintf(right, sizeof right, "%s", a->help_open ? "Esc close" : "? help");
    int rw = ui_text_width(right);
    wattrset(w, ui_attr(UI_ROLE_STATUS));
    mvwhline(w, 0, 0, ' ', a->cols);
    ui_put(w, 0, 1, left, a->cols - rw - 4, UI_ALIGN_LEFT, UI_ROLE_STATUS);
    ui_put(w, 0, a->cols - rw - 1, right, rw, UI_ALIGN_LEFT, UI_ROLE_STATUS);
}

/* Draws the prompt line, scrolled so that the cursor is visible; returns the cursor x. */
static int draw_prompt(ui_app *a)
{
    WINDOW *w = a->w_msg;
    int width = a->cols - 2;
    char text[UI_LINE_MAX * 4 + 1];
    int col = ui_lineedit_window(&a->le, width, text, sizeof text);
    ui_put(w, 0, 0, a->prompt == PROMPT_FILTER ? "/" : ":", 1, UI_ALIGN_LEFT, UI_ROLE_NORMAL);
    ui_put(w, 0, 1, text, width, UI_ALIGN_LEFT, UI_ROLE_NORMAL);
    return 1 + col;
}

static void draw_msg(ui_app *a)
{
    WINDOW *w = a->w_msg;
    wattrset(w, A_NORMAL);
    werase(w);
    if (a->prompt != PROMPT_NONE) {
        draw_prompt(a);
        return;
    }
    if (a->msg[0])
        ui_put(w, 0, 0, a->msg, a->cols - 1, UI_ALIGN_LEFT,
               a->msg_level == UI_MSG_ERROR ? UI_ROLE_ERROR : UI_ROLE_INFO);
}

static void draw_modal(ui_app *a)
{
    WINDOW *w = a->w_modal;
    if (a->modal == MODAL_FORM) {
        int cy, cx;
        ui_form_draw(a->form, w, &cy, &cx);
        wmove(w, cy, cx);
        return;
    }
    int h, wd;
    getmaxyx(w, h, wd);
    wattrset(w, A_NORMAL);
    werase(w);
    ui_box(w, UI_ROLE_BORDER);
    char title[160];
    snprintf(title, sizeof title, " %s ", a->m_title);
    ui_put(w, 0, 2, title, wd - 4 < ui_text_width(title) ? wd - 4 : ui_text_width(title),
           UI_ALIGN_LEFT, UI_ROLE_HEADER);
    if (a->modal == MODAL_CONFIRM) {
        int room = h - 5; /* border, blank, lines..., blank, buttons, border */
        for (int i = 0; i < room && (size_t)i < a->m_n; i++) {
            char more[64];
            const char *line = a->m_lines[i];
            if (i == room - 1 && (size_t)room < a->m_n) {
                snprintf(more, sizeof more, "(%zu more lines)", a->m_n - (size_t)i);
                line = more;
            }
            ui_put(w, 2 + i, 2, line, wd - 4, UI_ALIGN_LEFT, UI_ROLE_NORMAL);
        }
        char yes[64], no[64];
        snprintf(yes, sizeof yes, "[ y %s ]", a->m_yes);
        snprintf(no, sizeof no, "[ n Cancel ]");
        int yw = ui_text_width(yes), nw = ui_text_width(no);
        int x = (wd - yw - nw - 4) / 2;
        if (x < 1)
            x = 1;
        ui_put(w, h - 2, x, yes, yw, UI_ALIGN_LEFT,
               a->m_focus == 1 ? UI_ROLE_SELECTED : UI_ROLE_NORMAL);
        ui_put(w, h - 2, x + yw + 4, no, nw, UI_ALIGN_LEFT,
               a->m_focus == 0 ? UI_ROLE_SELECTED : UI_ROLE_NORMAL);
    } else {
        /* the card first (cut from the top when the terminal is short), then the prompt */
        int y = 2;
        size_t card = a->m_n - 1;
        int room = h - 7; /* border, blank, ..., blank, prompt, note, blank, keys, border */
        for (size_t i = 0; i < card && room > 1 && y < h - 6; i++, y++)
            ui_put(w, y, 2, a->m_lines[i], wd - 4, UI_ALIGN_LEFT,
                   strncmp(a->m_lines[i], "BLOCKED", 7) == 0 ? UI_ROLE_ERROR : UI_ROLE_NORMAL);
        if (card)
            y++;
        ui_put(w, y, 2, a->m_lines[card], wd - 4, UI_ALIGN_LEFT, UI_ROLE_NORMAL);
        ui_put(w, y + 1, 2, "(typing is not shown)", wd - 4, UI_ALIGN_LEFT, UI_ROLE_DIM);
        ui_put(w, h - 2, 2, "Enter accept   Esc cancel   C-u start over", wd - 4, UI_ALIGN_LEFT,
               UI_ROLE_DIM);
    }
}

static double ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Logs (debug) how long the frame took after the key that caused it, and the first
 * frame after FUSION_DEBUG_T0 (CLOCK_MONOTONIC nanoseconds set by whoever started us); the
 * frame after an announcement of the book's server with its CLOCK_MONOTONIC time, so that
 * whoever committed can time commit-to-frame. */
static void frame_timing(ui_app *a)
{
    if (a->book_pending) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        LOG_D("ui", "frame %.3f ms after book announcement, at %lld ns monotonic",
              ms_since(&a->book_t0), (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
        a->book_pending = false;
    }
    if (a->key_pending) {
        LOG_D("ui", "frame %.3f ms after key", ms_since(&a->key_t0));
        a->key_pending = false;
    }
    if (!a->first_frame_done) {
        a->first_frame_done = true;
        const char *t0 = getenv("FUSION_DEBUG_T0");
        if (t0 && *t0) {
            long long ns = strtoll(t0, NULL, 10);
            struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
            LOG_I("ui", "first frame %.3f ms after FUSION_DEBUG_T0", ms_since(&ts));
        }
    }
}

static void draw(ui_app *a)
{
    if (a->repaint) {
        clearok(curscr, TRUE);
        a->repaint = false;
        a->dirty = W_ALL;
    }
    if (!a->dirty) {
        a->key_pending = false; /* nothing to draw: that key's frame is done */
        return;
    }
    if (a->too_small) {
        /* The longest form that fits the width, whatever it is. */
        char forms[5][128];
        snprintf(forms[0], sizeof forms[0], "terminal too small: need %dx%d, have %dx%d (q quits)",
                 MIN_COLS, MIN_ROWS, a->cols, a->rows);
        snprintf(forms[1], sizeof forms[1], "too small: need %dx%d, have %dx%d", MIN_COLS,
                 MIN_ROWS, a->cols, a->rows);
        snprintf(forms[2], sizeof forms[2], "need %dx%d", MIN_COLS, MIN_ROWS);
        snprintf(forms[3], sizeof forms[3], "%dx%d", MIN_COLS, MIN_ROWS);
        snprintf(forms[4], sizeof forms[4], "!"); /* narrower than that: one column */
        size_t f = 0;
        while (f < 4 && ui_text_width(forms[f]) > a->cols)
            f++;
        werase(stdscr);
        ui_put(stdscr, 0, 0, forms[f], a->cols, UI_ALIGN_LEFT, UI_ROLE_NORMAL);
        wnoutrefresh(stdscr);
        curs_set(0);
        doupdate();
        a->dirty = 0;
        return;
    }
    if (a->dirty & W_TITLE) {
        draw_title(a);
        wnoutrefresh(a->w_title);
    }
    if (a->dirty & W_TABS) {
        draw_tabs(a);
        wnoutrefresh(a->w_tabs);
    }
    if (a->dirty & W_BODY) {
        ui_screen *s = current(a);
        werase(a->w_body);
        if (s->opened)
            s->ops->draw(s, a->w_body);
        wnoutrefresh(a->w_body);
        LOG_D("ui", "draw body");
    }
    if (a->dirty & W_STATUS) {
        draw_status(a);
        wnoutrefresh(a->w_status);
    }
    bool form = a->modal == MODAL_FORM && a->w_modal;
    if (a->w_modal && (form || (a->dirty & (W_BODY | W_MODAL)))) {
        /* A form is drawn every frame: it owns the cursor. */
        draw_modal(a);
        leaveok(a->w_modal, form ? FALSE : TRUE);
        touchwin(a->w_modal);
        wnoutrefresh(a->w_modal);
    }
    /* The message line goes last so that it owns the cursor while a prompt is open. */
    if (a->prompt != PROMPT_NONE) {
        int x = 0;
        if (a->dirty & W_MSG)
            draw_msg(a);
        x = draw_prompt(a);
        leaveok(a->w_msg, FALSE);
        wmove(a->w_msg, 0, x);
        wnoutrefresh(a->w_msg);
        curs_set(1);
    } else {
        if (a->dirty & W_MSG) {
            draw_msg(a);
            wnoutrefresh(a->w_msg);
        }
        leaveok(a->w_msg, TRUE);
        curs_set(form ? 1 : 0);
    }
    doupdate();
    a->dirty = 0;
    frame_timing(a);
}

/* ---- the loop ---- */

static int ms_to_next_second(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int)(1000 - ts.tv_nsec / 1000000) + 1;
}

static void loop(ui_app *a)
{
    struct pollfd fds[3] = {
        {STDIN_FILENO, POLLIN, 0},
        {ui_term_signal_fd(), POLLIN, 0},
        {ui_notify_fd(), POLLIN, 0}, /* every worker's and sync's wake-up */
    };
    while (!a->quit) {
        on_signals(a);
        if (a->quit)
            break;
        if (a->relayout)
            layout(a);
        draw(a);
        unsigned long flushes = a->flushes;
        int n = poll(fds, 3, ms_to_next_second());
        if (n < 0 && errno != EINTR) {
            LOG_E("ui", "poll failed: %s", strerror(errno));
            break;
        }
        if (n > 0 && fds[1].revents)
            ui_term_signal_drain();
        if (n > 0 && fds[2].revents)
            on_notify(a);
        /* Input flushed since the poll (a dialog opened on a worker's news) is gone: the
         * next poll says whether more came, rather than an empty read meaning end of input. */
        if (n > 0 && fds[0].revents && a->flushes == flushes)
            on_input(a, fds[0].revents);
        time_t now = time(NULL);
        if (now != a->clock)
            on_tick(a, now);
    }
}

int ui_run(const ui_config *cfg, int *term_signal, err *e)
{
    ui_app *a = &the_app;
    memset(a, 0, sizeof *a);
    a->cfg = cfg;
    *term_signal = 0;
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise; reinstall libsodium");
    if (ui_notify_init(e) < 0)
        return -1;
    if (ui_term_signals_install(e) < 0)
        return -1;
    char note[600];
    snprintf(note, sizeof note, "the log is %s", cfg->log_path ? cfg->log_path : "not open");
    if (ui_term_open(note, e) < 0) {
        ui_term_signals_restore();
        return -1;
    }
    for (int i = 0; i < UI_SCREEN_COUNT; i++) {
        a->screens[i] = (ui_screen){cfg->screens[i] ? cfg->screens[i] : builtin_screens[i], a,
                                    (ui_screen_id)i, NULL, false};
    }
    a->help = (ui_screen){&ui_scr_help, a, UI_SCR_DASHBOARD, NULL, false};
    a->input = newpad(1, 1);
    if (a->input) {
        keypad(a->input, TRUE);
        nodelay(a->input, TRUE);
    }
    a->clock = time(NULL);
    a->cur = UI_SCR_DASHBOARD;
    screen_ensure_open(a, &a->screens[a->cur]);
    layout(a);
    if (!a->input) {
        err_set(e, ERR_NOMEM, "cannot create the input window");
        a->quit = true;
    }
    LOG_I("ui", "started");
    loop(a);
    LOG_I("ui", "stopped");

    modal_free(a);
    for (int i = 0; i < UI_SCREEN_COUNT; i++) {
        if (a->screens[i].opened && a->screens[i].ops->close)
            a->screens[i].ops->close(&a->screens[i]);
    }
    if (a->help.opened)
        a->help.ops->close(&a->help);
    windows_free(a);
    if (a->input)
        delwin(a->input);
    ui_term_close();
    ui_term_signals_restore();
    *term_signal = a->term_signal;
    return a->input ? 0 : -1;
}
