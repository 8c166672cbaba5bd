/* desk.c: the UI's desk context (see desk.h). Sync threads are started with the
 * terminal signals blocked, so only the main thread sees SIGWINCH and friends; they
 * never touch curses, they only make sync_notify_fd readable. */
#include "desk.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/log.h"
#include "compliance/compliance.h"
#include "credit/service.h"
#include "desk/desk.h"
#include "desk/sync_service.h"
#include "keymap.h"
#include "notify.h"
#include "store/store_book.h"
#include "sync/bridge_legs.h"

#define SYNC_RETRY_SECONDS 5
#define RISK_REFRESH_SECONDS 30
#define RISK_MC_PATHS 20000

/* The risk worker: one refresh at start, then every risk_period seconds or when kicked
 * by new chain data (at most one refresh at a time; kicks coalesce). New chain data is
 * a sync commit: announced in this process by the sync engine's descriptor, and seen from
 * another process's sync as moved checkpoints (ui_desk_timer), so every UI process of the
 * desk refreshes on the same commits. */
static void *risk_main(void *arg)
{
    ui_desk *d = arg;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", d->home);
    store *st = NULL;
    err e;
    err_clear(&e);
    if (store_open(&st, path, &e) < 0) {
        pthread_mutex_lock(&d->risk_mu);
        snprintf(d->risk_error, sizeof d->risk_error, "%s", e.msg);
        pthread_mutex_unlock(&d->risk_mu);
        ui_notify(UI_TOPIC_RISK);
        return NULL;
    }
    /* the escrows and checkpoints it values from the desk's book, on a connection of its own
     * (a book.conf the desk refuses leaves them on desk.db, as the screens') */
    err be;
    if (d->reads.present && pg_desk_book_attach(st, d->home, PG_DESK_READS, NULL, &be) < 0)
        LOG_W("ui", "risk: the desk's book: %s", be.msg);
    for (;;) {
        risk_service_opts o;
        risk_service_opts_default(&o);
        o.home = d->home;
        o.bridges = sync_bridge_book_list; /* the book's legs, as the Bridges screen */
        o.params.mc.paths = RISK_MC_PATHS; /* the dashboard's figure; `fusion risk` for more */
        o.params.mc.threads = 1;
        risk_snapshot *snap = NULL;
        err_clear(&e);
        /* the credit gauge reads the facilities' ledgers; `risk set-drawn` without them */
        size_t n_fac = 0;
        int rc = credit_drawn_usd_fresh(st, &o, (int32_t)(time(NULL) / 86400), &o.drawn,
                                        &n_fac, &e);
        o.has_drawn = rc == 0 && n_fac > 0;
        if (rc == 0)
            rc = risk_service_refresh(st, &o, &snap, &e);
        pthread_mutex_lock(&d->risk_mu);
        if (rc == 0) {
            risk_snapshot_free(&d->risk_new);
            d->risk_new = snap;
            d->risk_error[0] = '\0';
        } else {
            snprintf(d->risk_error, sizeof d->risk_error, "%s", e.msg);
            LOG_W("ui", "risk refresh: %s", e.msg);
        }
        pthread_mutex_unlock(&d->risk_mu);
        ui_notify(UI_TOPIC_RISK);
        pthread_mutex_lock(&d->risk_mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += d->risk_period;
        while (!d->risk_stop && !d->risk_kick)
            if (pthread_cond_timedwait(&d->risk_cv, &d->risk_mu, &until) != 0)
                break;
        bool stop = d->risk_stop;
        d->risk_kick = false;
        pthread_mutex_unlock(&d->risk_mu);
        if (stop)
            break;
    }
    store_close(&st);
    return NULL;
}

/* Starts the risk worker once the desk has a chain (without one there is nothing to
 * value, and an idle desk must stay idle). */
static void risk_try_start(ui_desk *d)
{
    if (d->risk_started || !d->has_chain)
        return;
    err e;
    err_clear(&e);
    if (ui_thread_create(&d->risk_thread, risk_main, d, &e) == 0) {
        d->risk_started = true;
    } else {
        pthread_mutex_lock(&d->risk_mu);
        snprintf(d->risk_error, sizeof d->risk_error, "%s", e.msg);
        pthread_mutex_unlock(&d->risk_mu);
    }
}

risk_snapshot *ui_desk_risk_take(ui_desk *d, char *error, size_t cap)
{
    pthread_mutex_lock(&d->risk_mu);
    risk_snapshot *s = d->risk_new;
    d->risk_new = NULL;
    snprintf(error, cap, "%s", d->risk_error);
    pthread_mutex_unlock(&d->risk_mu);
    return s;
}

void ui_desk_risk_kick(ui_desk *d)
{
    pthread_mutex_lock(&d->risk_mu);
    d->risk_kick = true;
    pthread_cond_signal(&d->risk_cv);
    pthread_mutex_unlock(&d->risk_mu);
}

/* A sync commit of this process wakes the loop through the UI's one descriptor; the loop
 * then asks ui_desk_wake what changed. */
static void sync_committed(void *ctx)
{
    (void)ctx;
    ui_notify(UI_TOPIC_SYNC);
}

/* The book's server announced a commit (the watcher's thread): the same wake, its own
 * topic. */
static void book_announced(void *ctx)
{
    (void)ctx;
    ui_notify(UI_TOPIC_BOOK);
}

static void *watch_main(void *arg)
{
    ui_desk *d = arg;
    pg_book_watch(d->reads.url, d->watch_stop[0], book_announced, d);
    return NULL;
}

/* Starts the book's watcher; without it (no pipe, no thread) the announcements are still
 * read every poll period, as the log says. */
static void watch_start(ui_desk *d)
{
    err e;
    err_clear(&e);
    if (pipe(d->watch_stop) < 0) {
        d->watch_stop[0] = d->watch_stop[1] = -1;
        LOG_W("ui", "the book's commits are looked for every %u s: no pipe for its watcher",
              d->poll_s);
        return;
    }
    for (int i = 0; i < 2; i++) /* not inherited by what the UI starts */
        fcntl(d->watch_stop[i], F_SETFD, FD_CLOEXEC);
    if (ui_thread_create(&d->watch_thread, watch_main, d, &e) < 0) {
        LOG_W("ui", "the book's commits are looked for every %u s: %s", d->poll_s, e.msg);
        return;
    }
    d->watch_started = true;
}

static void watch_stop(ui_desk *d)
{
    if (d->watch_started) {
        ssize_t w = write(d->watch_stop[1], "x", 1);
        (void)w;
        pthread_join(d->watch_thread, NULL);
        d->watch_started = false;
    }
    for (int i = 0; i < 2; i++) {
        if (d->watch_stop[i] >= 0)
            close(d->watch_stop[i]);
        d->watch_stop[i] = -1;
    }
}

static void sync_try_start(ui_desk *d)
{
    d->sync_tried = time(NULL);
    /* sync plus automatic screening (src/desk/sync_service.h); a screener that cannot
     * start leaves sync running without it: the gate still fails closed */
    desk_sync_options o;
    desk_sync_options_default(&o, d->home);
    o.block_signals = true; /* the loop handles them */
    o.sync.committed = sync_committed;
    err e;
    err_clear(&e);
    /* the book where the desk decided (book.conf, as `fusion sync`): a server that does not
     * answer yet is shown per chain (server unreachable) while the threads retry */
    int rc = pg_desk_book_read(d->home, &d->book, &e);
    if (rc == 0 && d->book.present) {
        o.sync.book = &pg_book;
        o.sync.book_url = d->book.url;
        o.sync.book_shown = d->book.shown;
        o.book_reader = &pg_reader; /* the screener reads the escrows there */
    }
    if (rc == 0)
        rc = desk_sync_start(&d->svc, &o, &e);
    d->sync = desk_sync_engine(d->svc);
    if (rc == 0) {
        d->mode = UI_SYNC_OWN;
        if (d->book.present)
            snprintf(d->sync_note, sizeof d->sync_note, "synced by this process, the book on %.200s",
                     d->book.shown);
        else
            snprintf(d->sync_note, sizeof d->sync_note, "synced by this process");
        LOG_I("ui", "sync started in the UI process");
        return;
    }
    if (e.code == ERR_STATE) {
        d->mode = UI_SYNC_FOLLOW;
        snprintf(d->sync_note, sizeof d->sync_note, "followed: %s", e.msg);
        LOG_I("ui", "not syncing: %s", e.msg);
    } else {
        d->mode = UI_SYNC_NONE;
        snprintf(d->sync_note, sizeof d->sync_note, "not syncing: %s", e.msg);
        if (e.code != ERR_NOT_FOUND)
            LOG_W("ui", "sync did not start: %s", e.msg);
    }
}

static bool chains_exist(ui_desk *d)
{
    store_chain *cs = NULL;
    size_t n = 0;
    err e;
    if (store_chain_list(desk_snap_store(d->snap), &cs, &n, &e) < 0)
        return d->has_chain;
    free(cs);
    return n > 0;
}

/* The operator's key address and roles, for the action preconditions; an unknown
 * operator just has no roles (the escrow actions then say so). */
static void operator_load(ui_desk *d)
{
    store_operator op;
    bool found = false;
    err e;
    if (!d->operator_name[0] ||
        store_operator_get(desk_snap_store(d->snap), d->operator_name, &op, &found, &e) < 0 ||
        !found)
        return;
    unsigned roles = 0;
    if (desk_roles_parse(&roles, op.roles, &e) < 0)
        roles = 0;
    d->has_operator = true;
    d->op_address = op.address;
    d->op_roles = roles;
}

/* The operator's key, once unlocked here (6 Keys, u), signs the decisions this process
 * records: the audit module calls this from whichever thread appends the row. */
static int ui_sign(void *ctx, uint8_t sig65[65], const uint8_t digest[32], err *e)
{
    ks_key *k = ctx;
    if (!keystore_key_unlocked(k))
        return err_set(e, ERR_DENIED, "the operator's key locked itself after the idle time: "
                       "unlock it again (6 Keys, u)");
    return keystore_sign_typed(k, sig65, digest, e);
}

static ks_key *op_handle(ui_desk *d)
{
    if (!d->has_operator)
        return NULL;
    for (size_t i = 0; i < d->n_unlocked; i++)
        if (addr_equal(&d->unlocked[i].address, &d->op_address))
            return d->unlocked[i].key;
    return NULL;
}

/* Installs the operator's unlocked key as the signer of this process, or removes it. */
static void signer_sync(ui_desk *d)
{
    ks_key *k = op_handle(d);
    if (!k) {
        audit_signer_set(NULL);
        return;
    }
    audit_signer s;
    memset(&s, 0, sizeof s);
    snprintf(s.operator_name, sizeof s.operator_name, "%.63s", d->operator_name);
    s.address = d->op_address;
    s.sign = ui_sign;
    s.ctx = k;
    audit_signer_set(&s);
}

int ui_desk_alert(void *arg, char *out, size_t cap)
{
    ui_desk *d = arg;
    if (!d || !d->sync || !d->book.present)
        return 0;
    sync_chain_stats st[64];
    size_t n = sync_stats(d->sync, st, 64), down = 0, refused = 0;
    for (size_t i = 0; i < n && i < 64; i++) {
        down += st[i].phase == SYNC_UNREACHABLE;
        refused += st[i].phase == SYNC_REFUSED;
    }
    /* short, so that the screen's own status survives; the reason is on the Chains screen */
    if (down)
        snprintf(out, cap, STORE_BOOK_AWAY ": %zu of %zu chains (7 Chains)", down, n);
    else if (refused) /* the server answered: its version is not this fusion's */
        snprintf(out, cap, "book server refused the sync: %zu of %zu chains (7 Chains)", refused,
                 n);
    return down || refused;
}

int ui_desk_signed_in(void *arg)
{
    ui_desk *d = arg;
    if (!d || !d->has_operator)
        return -1;
    ks_key *k = op_handle(d);
    return k && keystore_key_unlocked(k) ? 1 : 0;
}

int ui_desk_switch_begin(ui_desk *d, const char *name, err *e)
{
    store_operator op;
    bool found = false;
    if (strlen(name) >= sizeof d->switch_name)
        return err_set(e, ERR_INVALID, "no operator has a name that long");
    if (store_operator_get(desk_snap_store(d->snap), name, &op, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "\"%.63s\" is not an operator of this desk (see "
                       "`fusion operator list`)", name);
    ks_entry ent;
    if (keystore_get(d->ks, &op.address, &ent, e) < 0)
        return err_set(e, ERR_NOT_FOUND, "the key of operator \"%.63s\" is not in this desk's "
                       "key store", name);
    if (ui_desk_unlocking(d))
        return err_set(e, ERR_STATE, "a key is being unlocked; try again in a moment");
    snprintf(d->switch_name, sizeof d->switch_name, "%s", name);
    d->switch_addr = op.address;
    return 0;
}

void ui_desk_switch_cancel(ui_desk *d)
{
    d->switch_name[0] = '\0';
}

/* The unlocked key is the one a sign-in waited for: the desk acts as that operator. */
static void switch_finish(ui_desk *d, const addr *which)
{
    if (!d->switch_name[0] || !addr_equal(which, &d->switch_addr))
        return;
    snprintf(d->operator_name, sizeof d->operator_name, "%s", d->switch_name);
    d->switch_name[0] = '\0';
    d->has_operator = false;
    d->op_roles = 0;
    memset(&d->op_address, 0, sizeof d->op_address);
    operator_load(d);
    LOG_I("ui", "signed in as %s", d->operator_name);
}

/* The environment's name=SECONDS (1..86400), else def (a malformed value: said in the log). */
static unsigned seconds_from_env(const char *name, unsigned def)
{
    const char *v = getenv(name);
    char *end = NULL;
    unsigned long n = v && *v ? strtoul(v, &end, 10) : 0;
    if (!v || !*v || *end || n < 1 || n > 86400) {
        if (v && *v)
            LOG_W("ui", "%s=%.32s is not 1..86400 seconds: using %u", name, v, def);
        return def;
    }
    return (unsigned)n;
}

/* FUSION_RISK_REFRESH=SECONDS (1..86400): the period of the risk refresh without new
 * chain data (default RISK_REFRESH_SECONDS). */
static unsigned risk_period_from_env(void)
{
    return seconds_from_env("FUSION_RISK_REFRESH", RISK_REFRESH_SECONDS);
}

/* A fingerprint of every chain's sync checkpoint: it moves with each sync commit,
 * whichever process of the desk made it (and not with the risk worker's own writes). */
static uint64_t sync_mark(ui_desk *d)
{
    store *st = desk_snap_store(d->snap);
    store_chain *cs = NULL;
    size_t n = 0;
    err e;
    if (store_chain_list(st, &cs, &n, &e) < 0)
        return d->sync_mark;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        store_checkpoint cp;
        if (store_checkpoint_get(st, cs[i].chain_id, &cp, &e) < 0)
            continue;
        uint64_t v[3] = {cs[i].chain_id, cp.synced ? cp.synced_block + 1 : 0, cp.final_block};
        for (size_t k = 0; k < 3; k++)
            h = (h ^ v[k]) * 1099511628211ULL;
        for (size_t k = 0; k < sizeof cp.synced_hash; k++)
            h = (h ^ cp.synced_hash[k]) * 1099511628211ULL;
    }
    free(cs);
    return h;
}

static unsigned idle_from_env(void)
{
    return seconds_from_env("FUSION_IDLE_LOCK", UI_DESK_IDLE_DEFAULT);
}

int ui_desk_open(ui_desk **out, const char *home, const char *operator_name, err *e)
{
    *out = NULL;
    ui_desk *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(e, ERR_NOMEM, "out of memory opening the desk");
    snprintf(d->home, sizeof d->home, "%s", home);
    snprintf(d->operator_name, sizeof d->operator_name, "%s", operator_name ? operator_name : "");
    d->watch_stop[0] = d->watch_stop[1] = -1;
    d->poll_s = seconds_from_env("FUSION_UI_POLL_S", UI_DESK_POLL_DEFAULT);
    if (desk_snap_open(&d->snap, home, e) < 0 ||
        keystore_open(&d->ks, home, d->operator_name, e) < 0) {
        ui_desk_close(&d);
        return -1;
    }
    /* the escrows and checkpoints from where the desk keeps its book (book.conf, as the
     * sync); a book.conf the desk refuses leaves the reads on desk.db (the Chains screen
     * says why the sync does not run) */
    err be;
    err_clear(&be);
    if (pg_desk_book_attach(desk_snap_store(d->snap), home, PG_DESK_READS, &d->reads, &be) < 0)
        memset(&d->reads, 0, sizeof d->reads);
    bool changed;
    if (desk_snap_poll(d->snap, &changed, e) < 0) {
        ui_desk_close(&d);
        return -1;
    }
    d->polled_at = time(NULL);
    if (d->reads.present)
        watch_start(d);
    d->has_chain = chains_exist(d);
    operator_load(d);
    d->idle_s = idle_from_env();
    d->risk_period = risk_period_from_env();
    d->sync_mark = sync_mark(d);
    keystore_set_idle_timeout(d->ks, d->idle_s);
    sync_try_start(d);
    pthread_mutex_init(&d->risk_mu, NULL);
    pthread_cond_init(&d->risk_cv, NULL);
    pthread_mutex_init(&d->act_mu, NULL);
    d->risk_init = true;
    risk_try_start(d);
    *out = d;
    return 0;
}

static void unlock_join(ui_desk *d);

void ui_desk_close(ui_desk **p)
{
    if (!p || !*p)
        return;
    ui_desk *d = *p;
    watch_stop(d);
    unlock_join(d);
    if (d->risk_started) {
        pthread_mutex_lock(&d->risk_mu);
        d->risk_stop = true;
        pthread_cond_signal(&d->risk_cv);
        pthread_mutex_unlock(&d->risk_mu);
        pthread_join(d->risk_thread, NULL);
        d->risk_started = false;
    }
    if (d->risk_init) {
        risk_snapshot_free(&d->risk_new);
        pthread_cond_destroy(&d->risk_cv);
        pthread_mutex_destroy(&d->risk_mu);
        desk_free(&d->act); /* no action runs: ui_job_shutdown came first */
        pthread_mutex_destroy(&d->act_mu);
    }
    if (d->svc) {
        err e;
        err_clear(&e);
        d->sync = NULL;
        if (desk_sync_stop(&d->svc, NULL, &e) < 0)
            LOG_W("ui", "sync stopped with an error: %s", e.msg);
    }
    audit_signer_set(NULL); /* before its key goes */
    for (size_t i = 0; i < d->n_unlocked; i++)
        keystore_lock(&d->unlocked[i].key);
    d->n_unlocked = 0;
    keystore_free(&d->ks);
    desk_snap_free(&d->snap);
    policy_free(&d->pol);
    free(d);
    *p = NULL;
}

/* What other connections committed; force: something did (the book's server said so,
 * though the snapshot's own connection may not have its announcement yet). */
static unsigned data_topics(ui_desk *d, bool force)
{
    bool book = false, local = false;
    err e;
    d->polled_at = time(NULL);
    if (desk_snap_poll_split(d->snap, &book, &local, &e) < 0) {
        LOG_W("ui", "%s", e.msg);
        return 0;
    }
    if (!book && !local && !force)
        return 0;
    d->has_chain = chains_exist(d);
    unsigned topics = UI_TOPIC_ESCROWS | UI_TOPIC_APPROVALS | UI_TOPIC_CHAINS | UI_TOPIC_RISK |
                      UI_TOPIC_COMPLIANCE | UI_TOPIC_ENTITIES;
    /* A book on a server holds the escrows: desk.db's commits alone (the screener's marks,
     * risk alerts, a command's entity) leave the Escrows window as read (its names are
     * entities: ENTITIES), rather than dropping it to read it again at an offset. */
    if (!book && !force && desk_snap_on_book(d->snap))
        topics &= ~UI_TOPIC_ESCROWS;
    return topics;
}

/* Another process's commits: what changed, and the risk worker kicked when they moved
 * the chains (a sync's). */
static unsigned others_committed(ui_desk *d, bool force)
{
    unsigned topics = data_topics(d, force);
    if (topics) {
        uint64_t mark = sync_mark(d);
        if (mark != d->sync_mark && d->risk_started)
            ui_desk_risk_kick(d); /* another process's sync moved the chains */
        d->sync_mark = mark;
    }
    return topics;
}

unsigned ui_desk_wake(void *arg, unsigned topics)
{
    ui_desk *d = arg;
    if (!d)
        return 0;
    unsigned out = 0;
    if ((topics & UI_TOPIC_BOOK))
        out |= others_committed(d, true);
    if ((topics & UI_TOPIC_SYNC) && d->sync) {
        sync_notify_drain(d->sync);
        if (d->risk_started)
            ui_desk_risk_kick(d); /* new chain data: positions and exposure moved */
        out |= data_topics(d, false) | UI_TOPIC_CHAINS;
    }
    return out;
}

unsigned ui_desk_timer(void *arg)
{
    ui_desk *d = arg;
    if (!d)
        return 0;
    unsigned topics = 0;
    if (time(NULL) - d->polled_at >= (time_t)d->poll_s)
        topics = others_committed(d, false);
    risk_try_start(d);
    if (d->sync) {
        topics |= UI_TOPIC_CHAINS; /* head, lag and events/s move without commits */
    } else if (time(NULL) - d->sync_tried >= SYNC_RETRY_SECONDS) {
        /* A chain was added, or the process that synced has gone: take over. */
        ui_sync_mode before = d->mode;
        if (d->mode == UI_SYNC_FOLLOW || d->has_chain)
            sync_try_start(d);
        if (d->mode != before)
            topics |= UI_TOPIC_CHAINS;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/audit.log", d->home);
    struct stat st;
    if (stat(path, &st) < 0)
        memset(&st, 0, sizeof st);
    if (st.st_size != d->audit_st.st_size || st.st_mtim.tv_sec != d->audit_st.st_mtim.tv_sec ||
        st.st_mtim.tv_nsec != d->audit_st.st_mtim.tv_nsec) {
        d->audit_st = st;
        topics |= UI_TOPIC_AUDIT;
    }
    size_t before = 0;
    for (size_t i = 0; i < d->n_unlocked; i++)
        before += keystore_key_unlocked(d->unlocked[i].key);
    keystore_tick(d->ks);
    size_t after = 0;
    for (size_t i = 0; i < d->n_unlocked; i++)
        after += keystore_key_unlocked(d->unlocked[i].key);
    if (after != before)
        topics |= UI_TOPIC_KEYS;
    return topics;
}

unsigned ui_desk_facts(void *arg)
{
    ui_desk *d = arg;
    if (!d)
        return 0;
    unsigned f = d->has_chain ? UI_PRE_CHAIN : 0;
    if (d->op_roles & DESK_ROLE_compliance)
        f |= UI_PRE_ROLE_COMPLIANCE;
    for (size_t i = 0; i < d->n_unlocked; i++)
        if (keystore_key_unlocked(d->unlocked[i].key))
            f |= UI_PRE_UNLOCKED_KEY;
    return f;
}

int ui_desk_permitted(void *arg, ui_action a, char *why, size_t cap)
{
    ui_desk *d = arg;
    /* without an operator of this desk the desk itself says who is missing */
    if (!d || !d->has_operator || ui_action_desk(a) == DESK_ACT_NONE)
        return 0;
    /* The policy as the desk will read it when it signs: reread once it changed. */
    char path[4200];
    snprintf(path, sizeof path, "%s/policy.conf", d->home);
    struct stat st;
    if (stat(path, &st) < 0)
        memset(&st, 0, sizeof st);
    if (!d->pol || st.st_size != d->pol_st.st_size ||
        st.st_mtim.tv_sec != d->pol_st.st_mtim.tv_sec ||
        st.st_mtim.tv_nsec != d->pol_st.st_mtim.tv_nsec || st.st_ino != d->pol_st.st_ino) {
        policy_free(&d->pol);
        err e;
        err_clear(&e);
        if (desk_policy_load(d->home, &d->pol, &e) < 0) {
            /* the desk refuses with this reason when it signs; say it now */
            snprintf(why, cap, "%s", e.msg);
            return 1;
        }
        if (stat(path, &st) < 0)
            memset(&st, 0, sizeof st);
        d->pol_st = st;
    }
    return ui_action_role_check(a, d->pol, d->operator_name, d->has_operator ? d->op_roles : 0,
                                why, cap);
}

desk *ui_desk_action_begin(ui_desk *d, const char *operator_name, err *e)
{
    pthread_mutex_lock(&d->act_mu);
    if (d->act && strcmp(d->act_operator, operator_name) != 0)
        desk_free(&d->act); /* signed in as another operator since */
    int rc;
    if (d->act) {
        rc = desk_refresh(d->act, e);
    } else {
        rc = desk_open(&d->act, d->home, operator_name, e);
        /* the desk's book on a server: its transactions are recorded there (as the command
         * line's, pgstore/pg_outbound.c); a book.conf the desk refuses refuses the action */
        if (rc == 0)
            rc = pg_desk_book_attach(desk_store(d->act), d->home, PG_DESK_SIGNS, NULL, e);
        if (rc < 0)
            desk_free(&d->act);
        if (rc == 0) {
            snprintf(d->act_operator, sizeof d->act_operator, "%s", operator_name);
            d->act_opens++;
            LOG_I("ui", "the desk for actions is open (as %s); the next actions reuse it",
                  operator_name);
        }
    }
    if (rc < 0) {
        pthread_mutex_unlock(&d->act_mu);
        return NULL;
    }
    return d->act;
}

void ui_desk_action_end(ui_desk *d)
{
    if (d->act)
        desk_reset(d->act);
    pthread_mutex_unlock(&d->act_mu);
}

ks_key *ui_desk_key(ui_desk *d, const addr *a)
{
    for (size_t i = 0; i < d->n_unlocked; i++)
        if (addr_equal(&d->unlocked[i].address, a))
            return keystore_key_unlocked(d->unlocked[i].key) ? d->unlocked[i].key : NULL;
    return NULL;
}

bool ui_desk_lock(ui_desk *d, const addr *a)
{
    for (size_t i = 0; i < d->n_unlocked; i++) {
        if (!addr_equal(&d->unlocked[i].address, a))
            continue;
        bool was = keystore_key_unlocked(d->unlocked[i].key);
        if (d->unlocked[i].key == d->busy_key) {
            d->lock_deferred = true; /* an action signs with it: locked once it is done */
            return was;
        }
        if (d->has_operator && addr_equal(a, &d->op_address))
            audit_signer_set(NULL); /* waits for a signature in progress */
        keystore_lock(&d->unlocked[i].key);
        d->unlocked[i] = d->unlocked[--d->n_unlocked];
        return was;
    }
    return false;
}

/* ---- the unlock worker ---- */

#define UNLOCK_PASS_CAP 1024

struct ui_unlock {
    pthread_t thread;
    pthread_mutex_t mu;
    bool done;
    keystore *ks;
    addr address;
    char *pass; /* sodium_malloc, NUL-terminated, wiped by the worker */
    char operator_name[64]; /* whose unlock it is (the audit row) */
    ks_key *key;
    int rc;
    err e;
};

static void *unlock_main(void *arg)
{
    struct ui_unlock *u = arg;
    ks_key *k = NULL;
    err e;
    err_clear(&e);
    int rc = keystore_unlock_as(u->ks, &u->address, u->pass, u->operator_name, &k, &e);
    sodium_memzero(u->pass, UNLOCK_PASS_CAP);
    pthread_mutex_lock(&u->mu);
    u->rc = rc;
    u->key = k;
    u->e = e;
    u->done = true;
    pthread_mutex_unlock(&u->mu);
    ui_notify(UI_TOPIC_KEYS);
    return NULL;
}

static void unlock_free(struct ui_unlock **p)
{
    struct ui_unlock *u = *p;
    if (!u)
        return;
    if (u->pass) {
        sodium_memzero(u->pass, UNLOCK_PASS_CAP);
        sodium_free(u->pass);
    }
    keystore_lock(&u->key); /* a handle nobody took (the UI quit meanwhile) */
    pthread_mutex_destroy(&u->mu);
    free(u);
    *p = NULL;
}

static void unlock_join(ui_desk *d)
{
    if (!d->unlock)
        return;
    pthread_join(d->unlock->thread, NULL);
    unlock_free(&d->unlock);
}

int ui_desk_unlock_start(ui_desk *d, const addr *a, const char *pass, size_t len, err *e)
{
    if (d->unlock)
        return err_set(e, ERR_STATE, "another key is being unlocked: wait for it");
    if (len + 1 > UNLOCK_PASS_CAP)
        return err_set(e, ERR_INVALID, "passphrase too long");
    ui_desk_lock(d, a);
    if (d->n_unlocked == UI_DESK_MAX_UNLOCKED)
        return err_set(e, ERR_STATE, "%d keys are unlocked already; lock one first",
                       UI_DESK_MAX_UNLOCKED);
    struct ui_unlock *u = calloc(1, sizeof *u);
    if (!u)
        return err_set(e, ERR_NOMEM, "out of memory unlocking a key");
    pthread_mutex_init(&u->mu, NULL);
    u->pass = sodium_malloc(UNLOCK_PASS_CAP);
    if (!u->pass) {
        unlock_free(&u);
        return err_set(e, ERR_NOMEM, "out of guarded memory unlocking a key");
    }
    memcpy(u->pass, pass, len);
    u->pass[len] = '\0';
    u->ks = d->ks;
    u->address = *a;
    snprintf(u->operator_name, sizeof u->operator_name, "%.63s",
             d->switch_name[0] && addr_equal(a, &d->switch_addr) ? d->switch_name
                                                                 : d->operator_name);
    if (ui_thread_create(&u->thread, unlock_main, u, e) < 0) {
        unlock_free(&u);
        return -1;
    }
    d->unlock = u;
    return 0;
}

const addr *ui_desk_unlocking(const ui_desk *d)
{
    return d->unlock ? &d->unlock->address : NULL;
}

int ui_desk_unlock_poll(ui_desk *d, addr *which, err *e)
{
    struct ui_unlock *u = d->unlock;
    if (!u)
        return 0;
    pthread_mutex_lock(&u->mu);
    bool done = u->done;
    pthread_mutex_unlock(&u->mu);
    if (!done)
        return 0;
    pthread_join(u->thread, NULL);
    d->unlock = NULL;
    *which = u->address;
    int rc = 1;
    if (u->rc < 0) {
        *e = u->e;
        rc = -1;
        if (d->switch_name[0] && addr_equal(&u->address, &d->switch_addr))
            d->switch_name[0] = '\0'; /* the sign-in failed: the operator stays */
    } else if (d->n_unlocked == UI_DESK_MAX_UNLOCKED) {
        rc = err_set(e, ERR_STATE, "%d keys are unlocked already; lock one first",
                     UI_DESK_MAX_UNLOCKED);
    } else {
        d->unlocked[d->n_unlocked].address = u->address;
        d->unlocked[d->n_unlocked].key = u->key;
        d->n_unlocked++;
        u->key = NULL;
        switch_finish(d, &u->address);
        signer_sync(d);
    }
    unlock_free(&u);
    return rc;
}
