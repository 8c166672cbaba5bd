/* desk.h: what the built-in screens read and drive, for one desk home: the snapshot
 * views (src/desk/snapshot.h), the key store with the keys this operator unlocked, the
 * audit log, and chain sync. The UI process runs sync itself unless another process of
 * the desk holds the sync lock; then it follows that one's commits by data_version. */
#ifndef FUSION_UI_DESK_H
#define FUSION_UI_DESK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "base/err.h"
#include "desk/snapshot.h"
#include "keystore/keystore.h"
#include "pgstore/pg_desk.h"
#include "risk/service.h"
#include "sync/sync.h"
#include "keymap.h"

#define UI_DESK_MAX_UNLOCKED 16

typedef enum { UI_SYNC_NONE, UI_SYNC_OWN, UI_SYNC_FOLLOW } ui_sync_mode;

typedef struct ui_desk {
    char home[4096];
    char operator_name[128];
    bool has_operator; /* operator_name is a configured operator of the desk */
    addr op_address;   /* its signing key */
    unsigned op_roles; /* DESK_ROLE_* bits */
    policy *pol;       /* the desk policy, for the role checks (reloaded when it changes) */
    struct stat pol_st;
    desk_snap *snap;
    keystore *ks;
    sync_engine *sync;     /* desk_sync_engine(svc): NULL unless this process syncs */
    struct desk_sync *svc; /* sync plus automatic screening, when this process syncs */
    ui_sync_mode mode;
    char sync_note[ERR_MSG_MAX + 32]; /* why this process syncs or not, for the Chains screen */
    pg_desk_book book; /* where this process's sync keeps the book (book.conf; none: desk.db) */
    pg_desk_book reads; /* where the screens read the escrows and checkpoints (the same) */
    time_t sync_tried;
    /* The book's watcher (a book on a server): a thread listening for its announced
     * commits on a connection of its own (pg_book_watch) wakes the loop with
     * UI_TOPIC_BOOK; a byte on watch_stop[1] ends it. */
    pthread_t watch_thread;
    bool watch_started;
    int watch_stop[2];
    /* Other processes' commits are looked for every poll_s seconds (FUSION_UI_POLL_S);
     * last done at polled_at. */
    unsigned poll_s;
    time_t polled_at;
    struct {
        addr address;
        ks_key *key;
    } unlocked[UI_DESK_MAX_UNLOCKED];
    size_t n_unlocked;
    /* The key an escrow action (ui/job.c) signs with, borrowed from unlocked[]: a lock
     * asked for meanwhile waits for the action's end (lock_deferred). Loop thread only. */
    ks_key *busy_key;
    bool lock_deferred;
    struct stat audit_st;
    bool has_chain;
    /* The risk worker: refreshes the risk snapshot (network reads, alerts) off the loop
     * and hands it over through risk_new under risk_mu. */
    pthread_t risk_thread;
    bool risk_init, risk_started;
    pthread_mutex_t risk_mu;
    pthread_cond_t risk_cv;
    bool risk_stop, risk_kick;
    unsigned risk_period; /* seconds between refreshes without news (FUSION_RISK_REFRESH) */
    uint64_t sync_mark;   /* the chains' checkpoints as last seen (any process's sync) */
    risk_snapshot *risk_new;
    char risk_error[ERR_MSG_MAX];
    /* The unlock worker: the key derivation takes about a second on purpose, so it runs
     * off the loop; the loop registers the handle when the worker is done. */
    struct ui_unlock *unlock;
    unsigned idle_s; /* unlocked keys lock themselves after this idle time */
    /* `:operator NAME` in progress: the desk becomes NAME once NAME's key is unlocked. */
    char switch_name[64];
    addr switch_addr;
    /* The desk service the escrow actions run on (src/desk): opened by the first action
     * of this process and kept, checked again before each action (desk_refresh) and reset
     * after it (desk_reset); reopened only for another operator. Used by the action worker
     * only, one action at a time (act_mu); closed with the session. */
    pthread_mutex_t act_mu;
    struct desk *act;
    char act_operator[128];
    unsigned act_opens; /* times it was opened (the log says so too) */
} ui_desk;

/* Default idle lock of the UI's keys (the operator's signing session): 15 minutes;
 * FUSION_IDLE_LOCK=SECONDS (1..86400) sets another. */
#define UI_DESK_IDLE_DEFAULT 900

/* Opens the desk and starts sync (or follows the process that syncs). */
int ui_desk_open(ui_desk **out, const char *home, const char *operator_name, err *e)
    __attribute__((warn_unused_result));
/* Stops sync, locks every key, closes everything; NULL-safe, sets *p NULL. */
void ui_desk_close(ui_desk **p);

/* ui_config callbacks (arg is the ui_desk). */
/* Default period of the look for other processes' commits (desk.db's data_version, the
 * book's announcements as the snapshot's connection got them): a second;
 * FUSION_UI_POLL_S=SECONDS (1..86400) sets another. A book on a server also wakes the
 * loop at once on each announcement (the watcher), whatever the period. */
#define UI_DESK_POLL_DEFAULT 1

/* After a UI_TOPIC_SYNC wake (this process's sync committed) or a UI_TOPIC_BOOK one (the
 * book's server announced a commit), topics saying which: what changed. */
unsigned ui_desk_wake(void *arg, unsigned topics);
unsigned ui_desk_timer(void *arg);
unsigned ui_desk_facts(void *arg);
/* ui_config.permitted: the policy's role check of action a for this operator
 * (ui_action_role_check); 0 permitted, 1 refused with the reason in why. */
int ui_desk_permitted(void *arg, ui_action a, char *why, size_t cap);

/* Takes the newest risk snapshot, if the worker made one since the last take (the
 * caller frees it with risk_snapshot_free); *error gets the last refresh error or "". */
risk_snapshot *ui_desk_risk_take(ui_desk *d, char *error, size_t cap);
/* Asks the risk worker to refresh now (new chain data). */
void ui_desk_risk_kick(ui_desk *d);

/* Worker side: the session's desk for one action as operator_name (opened on first use,
 * or for another operator; else desk_refresh), held until ui_desk_action_end. NULL with e
 * set when it cannot be opened or refreshed (nothing is held then). */
struct desk *ui_desk_action_begin(ui_desk *d, const char *operator_name, err *e);
/* Worker side: the action is over (desk_reset); the next one may begin. */
void ui_desk_action_end(ui_desk *d);

/* The unlocked handle of a key, NULL when it is locked. */
ks_key *ui_desk_key(ui_desk *d, const addr *a);
/* Starts unlocking a on a worker (the passphrase is copied into guarded memory and wiped
 * after use); the worker wakes the loop with UI_TOPIC_KEYS when done. Fails (ERR_STATE)
 * while another unlock runs. */
int ui_desk_unlock_start(ui_desk *d, const addr *a, const char *pass, size_t len, err *e)
    __attribute__((warn_unused_result));
/* The key being unlocked, NULL when none is. */
const addr *ui_desk_unlocking(const ui_desk *d);
/* Loop side: when the worker is done, registers the key and returns 1 (0: still running
 * or none; -1: it failed, *e says why). */
int ui_desk_unlock_poll(ui_desk *d, addr *which, err *e);
/* 1: the operator's own key is unlocked here, so decisions are signed (signed in);
 * 0: it is locked (decisions are refused on a desk with a signed genesis); -1: the UI's
 * operator is not an operator of the desk. */
int ui_desk_signed_in(void *arg);
/* ui_config.alert: 1 with "book server unreachable: N of M chains (7 Chains)" while a chain
 * thread of this process cannot reach the desk's book on its server (sync phase server
 * unreachable; the Chains screen shows each one's reason), else with "book server refused
 * the sync: N of M chains (7 Chains)" while the server refuses them (sync phase server
 * refused: its server version is not this fusion's). */
int ui_desk_alert(void *arg, char *out, size_t cap);
/* Starts signing in as operator name: checks it is an operator of the desk whose key is
 * in this key store; the next unlock of that key (ui_desk_unlock_start with switch_addr)
 * makes the desk act as name. */
int ui_desk_switch_begin(ui_desk *d, const char *name, err *e)
    __attribute__((warn_unused_result));
void ui_desk_switch_cancel(ui_desk *d);
/* Locks and forgets; false when it was not unlocked. */
bool ui_desk_lock(ui_desk *d, const addr *a);

#endif
