/* app.h: the terminal workstation's main loop and what screens may ask of it (messages,
 * the confirm dialog, the passphrase prompt). ui_run is also used by the widget harness
 * in tests/ui, which plugs its own screens in through ui_config. */
#ifndef FUSION_UI_APP_H
#define FUSION_UI_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "screen.h"

typedef struct ui_config {
    const char *desk;          /* shown in the title bar */
    const char *operator_name; /* shown in the title bar */
    const char *log_path;      /* named in the crash message */
    /* Screens by ui_screen_id; NULL means the built-in desk screen. */
    const ui_screen_ops *screens[UI_SCREEN_COUNT];
    /* Optional: operations in flight (quit asks first when > 0). */
    size_t (*pending)(void *arg);
    /* Optional: the UI_PRE_* facts the desk provides (unlocked key, roles, chain). */
    unsigned (*facts)(void *arg);
    /* Optional: the role check of an action that signs (ui_action_desk), from the desk
     * policy; 0 permitted, 1 refused with the reason in why. */
    int (*permitted)(void *arg, ui_action a, char *why, size_t cap);
    void *arg;
    /* Optional: runs after a UI_TOPIC_SYNC or UI_TOPIC_BOOK wake (this process's chain
     * sync's commits, or the book's server's announced ones, through the one notification
     * descriptor; topics says which); returns the UI_TOPIC_* bits that changed. */
    unsigned (*wake)(void *arg, unsigned topics);
    /* Optional: runs once a second (another process's commits, idle key locks);
     * returns the UI_TOPIC_* bits that changed. */
    unsigned (*timer)(void *arg);
    /* Optional: 1 signed in (the operator's key is unlocked), 0 locked, -1 no operator;
     * shown in the title bar next to the operator. */
    int (*signed_in)(void *arg);
    /* Optional: a desk-wide condition the status line leads with on every screen (the
     * book's server unreachable); 0 when there is none. */
    int (*alert)(void *arg, char *out, size_t cap);
    /* The desk the built-in screens read (ui/desk.h); NULL shows their empty states. */
    struct ui_desk *desk_ctx;
    /* Optional: what quitting also stops (the demo's chains): q asks first, showing it. */
    const char *quit_note;
    /* Optional: the loop's poll of the workers that may ask the operator (the escrow
     * actions, ui/job.c), after a UI_TOPIC_JOBS wake; returns UI_* flags. */
    unsigned (*poll_jobs)(struct ui_app *a);
} ui_config;

/* Runs the UI until quit. Returns 0, or -1 if the terminal could not be set up. When a
 * SIGTERM/SIGHUP ended it, *term_signal is that signal (else 0): re-raise it after
 * cleaning up. */
int ui_run(const ui_config *cfg, int *term_signal, err *e) __attribute__((warn_unused_result));

/* The desk of the running UI (cfg->desk_ctx), NULL when there is none. */
struct ui_desk *ui_app_desk(ui_app *a);

typedef enum { UI_MSG_INFO, UI_MSG_ERROR } ui_msg_level;

/* A one-line message on the bottom line (errors are also logged). */
void ui_message(ui_app *a, ui_msg_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Called with the answer; returns UI_* flags. */
typedef unsigned (*ui_confirm_fn)(void *arg, bool confirmed);
/* Called with the passphrase (pass == NULL when cancelled); the bytes are wiped after
 * the call returns, so copy nothing and use them at once. Returns UI_* flags. */
typedef unsigned (*ui_passphrase_fn)(void *arg, const char *pass, size_t len);

/* Opens the modal confirm dialog: a title, summary lines (copied), and the label of the
 * confirming choice ("Sign", "Quit"). y confirms, n or Esc cancels. Fails (ERR_STATE)
 * while another dialog is open. */
int ui_confirm_open(ui_app *a, const char *title, const char *const *lines, size_t n,
                    const char *yes_label, ui_confirm_fn fn, void *arg, err *e);
/* Opens the modal passphrase prompt. Typed bytes are read from the terminal straight into
 * sodium_malloc memory, never echoed, and wiped after fn returns. */
int ui_passphrase_open(ui_app *a, const char *title, const char *prompt, ui_passphrase_fn fn,
                       void *arg, err *e);
/* The same under a card (lines copied): what the passphrase is about to sign for. */
int ui_passphrase_open_card(ui_app *a, const char *title, const char *const *card, size_t n,
                            const char *prompt, ui_passphrase_fn fn, void *arg, err *e);

#endif
