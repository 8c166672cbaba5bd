/* sync.c: the engine around the per-chain threads: the desk-wide sync lock,
 * thread start with signals blocked (so that SIGWINCH, SIGINT and friends reach the
 * main thread only), the commit notification descriptor, statistics, and the
 * projection rebuilds shared with `fusion reindex`. */
#include "sync/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "sync/projection.h"
#include "sync/sync_internal.h"

static const char *const phase_names[] = {
#define SYNC_PHASE_NAME_(name, label) label,
    SYNC_PHASES(SYNC_PHASE_NAME_)
#undef SYNC_PHASE_NAME_
};

const char *sync_phase_str(sync_phase p)
{
    return (unsigned)p <= SYNC_FAILED ? phase_names[p] : "?";
}

void sync_options_default(sync_options *o)
{
    memset(o, 0, sizeof *o);
    o->poll_ms = 200;
    o->window = 256;
    o->initial_range = 500;
    o->max_range = 100000;
    o->range_logs = 50000;
    o->once_max_failures = 8;
    o->max_addresses = 500;
    rpc_options_default(&o->rpc);
}

double sync_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- progress ---- */

static void fmt_eta(char *out, size_t cap, double s)
{
    if (s < 0 || s > 1e7) {
        snprintf(out, cap, "?");
        return;
    }
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, cap, "%lu:%02lu", t / 60, t % 60);
}

void sync_progress_line(const sync_chain_stats *s, char *out, size_t cap)
{
    double el = s->elapsed > 0.001 ? s->elapsed : 0.001;
    double bps = (double)s->blocks / el, eps = (double)s->events / el;
    uint64_t goal = s->target ? s->target : s->head;
    if (s->phase == SYNC_FAILED || s->phase == SYNC_RETRYING || s->phase == SYNC_WAITING ||
        s->phase == SYNC_UNREACHABLE || s->phase == SYNC_REFUSED) {
        snprintf(out, cap, "%s: %s: %.150s", s->name, sync_phase_str(s->phase), s->last_error);
        return;
    }
    if (!s->has_head) {
        snprintf(out, cap, "%s: %s", s->name, sync_phase_str(s->phase));
        return;
    }
    uint64_t synced = s->has_synced ? s->synced : s->first_synced;
    /* Any order is possible: a reorg rewinds the checkpoint below where the run began, a
     * node's head can be behind the checkpoint. No difference may go below zero. */
    uint64_t left = goal > synced ? goal - synced : 0;
    uint64_t total = goal > s->first_synced ? goal - s->first_synced : 0;
    uint64_t done = synced > s->first_synced ? synced - s->first_synced : 0;
    if (done > total)
        done = total;
    double pct = total ? 100.0 * (double)done / (double)total : (left ? 0.0 : 100.0);
    char eta[32];
    fmt_eta(eta, sizeof eta, bps > 0 ? (double)left / bps : (left ? -1 : 0));
    snprintf(out, cap,
             "%s: %s, block %llu of %llu (%.1f%%), %.0f blocks/s, %.0f events/s, "
             "%llu events, ETA %s",
             s->name, sync_phase_str(s->phase), (unsigned long long)synced,
             (unsigned long long)goal, pct, bps, eps, (unsigned long long)s->events, eta);
}

/* ---- lock ---- */

int sync_lock_take(const char *home, int *fd, err *e)
{
    *fd = -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/sync.lock", home);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0)
        return err_set(e, ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (flock(f, LOCK_EX | LOCK_NB) < 0) {
        int saved = errno;
        char pid[32] = "";
        ssize_t n = pread(f, pid, sizeof pid - 1, 0);
        if (n > 0)
            pid[n] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(f);
        if (saved == EWOULDBLOCK)
            return err_set(e, ERR_STATE,
                           "another fusion process (pid %s) is already syncing this desk; it "
                           "keeps the database current, stop it first to sync here",
                           pid[0] ? pid : "?");
        return err_set(e, ERR_IO, "cannot lock %s: %s", path, strerror(saved));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) < 0 || pwrite(f, pid, (size_t)n, 0) != n)
        LOG_W("sync", "cannot write the pid into %s: %s", path, strerror(errno));
    *fd = f;
    return 0;
}

void sync_lock_release(int *fd)
{
    if (*fd >= 0) {
        /* Leave the file: removing it would race with a process about to lock it. */
        if (ftruncate(*fd, 0) < 0)
            LOG_D("sync", "clearing the lock file: %s", strerror(errno));
        close(*fd);
    }
    *fd = -1;
}

/* ---- notifications ---- */

void sync_notify(sync_engine *eng)
{
    uint64_t one = 1;
    if (write(eng->notify_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        LOG_W("sync", "notify: %s", strerror(errno));
    if (eng->opt.committed)
        eng->opt.committed(eng->opt.committed_ctx);
}

int sync_notify_fd(const sync_engine *s)
{
    return s->notify_fd;
}

void sync_notify_drain(sync_engine *s)
{
    uint64_t v;
    while (read(s->notify_fd, &v, sizeof v) == (ssize_t)sizeof v) {
    }
}

void sync_request_stop(sync_engine *s)
{
    atomic_store(&s->stop, 1);
    uint64_t one = 1;
    ssize_t rc = write(s->stop_fd, &one, sizeof one);
    (void)rc;
}

bool sync_sleep(sync_engine *eng, unsigned ms)
{
    if (atomic_load(&eng->stop))
        return false;
    struct pollfd p = {.fd = eng->stop_fd, .events = POLLIN};
    int rc = poll(&p, 1, (int)ms);
    (void)rc;
    return !atomic_load(&eng->stop);
}

/* ---- engine ---- */

int sync_start(sync_engine **out, const sync_options *o, err *e)
{
    *out = NULL;
    sync_engine *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "out of memory starting sync");
    s->opt = *o;
    s->lock_fd = s->notify_fd = s->stop_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    snprintf(s->db_path, sizeof s->db_path, "%s/desk.db", o->home);
    if (sync_lock_take(o->home, &s->lock_fd, e) < 0)
        goto fail;
    store *db = NULL;
    if (store_open(&db, s->db_path, e) < 0)
        goto fail;
    store_chain *chains = NULL;
    size_t n = 0;
    int rc = store_chain_list(db, &chains, &n, e);
    store_close(&db);
    if (rc < 0)
        goto fail;
    s->workers = calloc(n ? n : 1, sizeof *s->workers);
    if (!s->workers) {
        free(chains);
        err_set(e, ERR_NOMEM, "out of memory starting sync");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (o->only_chain && chains[i].chain_id != o->only_chain)
            continue;
        chain_worker *w = &s->workers[s->n_chains++];
        w->eng = s;
        w->chain = chains[i];
        w->stats.chain_id = chains[i].chain_id;
        snprintf(w->stats.name, sizeof w->stats.name, "%s", chains[i].name);
        w->stats.phase = SYNC_STARTING;
    }
    free(chains);
    if (s->n_chains == 0) {
        err_set(e, ERR_NOT_FOUND,
                o->only_chain ? "that chain is not configured"
                              : "no chain is configured: add one with "
                                "`fusion chain add`");
        goto fail;
    }
    s->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->notify_fd < 0 || s->stop_fd < 0) {
        err_set(e, ERR_IO, "cannot create an eventfd: %s", strerror(errno));
        goto fail;
    }
    /* Threads inherit the mask: they never see asynchronous signals. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (size_t i = 0; i < s->n_chains; i++) {
        chain_worker *w = &s->workers[i];
        int prc = pthread_create(&w->tid, NULL, sync_chain_main, w);
        if (prc != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            err_set(e, ERR_INTERNAL, "cannot start the sync thread of %s: %s", w->chain.name,
                    strerror(prc));
            *out = s;
            err ignored;
            (void)sync_stop(out, &ignored);
            return -1;
        }
        w->started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    *out = s;
    return 0;
fail:
    *out = s;
    {
        err ignored;
        (void)sync_stop(out, &ignored);
    }
    return -1;
}

bool sync_finished(sync_engine *s)
{
    for (size_t i = 0; i < s->n_chains; i++)
        if (s->workers[i].started && !atomic_load(&s->workers[i].finished))
            return false;
    return true;
}

size_t sync_stats(sync_engine *s, sync_chain_stats *out, size_t max)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_chains && i < max; i++)
        out[i] = s->workers[i].stats;
    pthread_mutex_unlock(&s->mu);
    return s->n_chains;
}

int sync_stop(sync_engine **p, err *e)
{
    if (!p || !*p)
        return 0;
    sync_engine *s = *p;
    if (s->stop_fd >= 0)
        sync_request_stop(s);
    int rc = 0;
    for (size_t i = 0; i < s->n_chains; i++) {
        chain_worker *w = &s->workers[i];
        if (!w->started)
            continue;
        pthread_join(w->tid, NULL);
        if (w->stats.phase == SYNC_FAILED && rc == 0) {
            err_set(e, ERR_RPC, "chain %s: %s", w->chain.name, w->stats.last_error);
            rc = -1;
        }
    }
    if (s->notify_fd >= 0)
        close(s->notify_fd);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    sync_lock_release(&s->lock_fd);
    pthread_mutex_destroy(&s->mu);
    free(s->workers);
    free(s);
    *p = NULL;
    return rc;
}

/* ---- projections ---- */

int sync_rebuild_escrows(store *s, uint64_t chain_id, const addr *escrows, size_t n,
                         uint64_t final_block, err *e)
{
    for (size_t i = 0; i < n; i++) {
        store_event_list l;
        if (store_event_list_escrow(s, chain_id, &escrows[i], &l, e) < 0)
            return -1;
        store_escrow x;
        bool created;
        escrow_project(l.items, l.n, chain_id, &escrows[i], final_block, &x, &created);
        store_event_list_free(&l);
        int rc =
            created ? store_escrow_put(s, &x, e) : store_escrow_delete(s, chain_id, &escrows[i], e);
        if (rc < 0)
            return -1;
        if (x.anomaly[0])
            LOG_W("sync", "escrow on chain %llu: %s", (unsigned long long)chain_id, x.anomaly);
    }
    return 0;
}

static int reindex_chain(store *s, uint64_t chain_id, size_t *count, err *e)
{
    store_checkpoint cp;
    if (store_checkpoint_get(s, chain_id, &cp, e) < 0 || store_escrow_clear(s, chain_id, e) < 0)
        return -1;
    addr *escrows;
    size_t n;
    if (store_event_escrows(s, chain_id, &escrows, &n, e) < 0)
        return -1;
    /* Every row is new after the clear: indexed for search in one statement at the end
     * (each address once, so no row inserted here is deleted here, as the batch needs). */
    store_escrow_batch batch = {0};
    bool batched = n >= 64;
    int rc = batched ? store_escrow_batch_begin(s, &batch, e) : 0;
    if (rc == 0)
        rc = sync_rebuild_escrows(s, chain_id, escrows, n, cp.final_block, e);
    if (rc == 0 && batched)
        rc = store_escrow_batch_end(s, &batch, e);
    if (rc == 0) /* every row is rebuilt: none lags behind its events any more */
        rc = store_escrow_stale_clear(s, chain_id, e);
    store_escrow_batch_free(&batch); /* on failure the caller rolls back, trigger included */
    free(escrows);
    *count += n;
    return rc;
}

int sync_reindex(store *s, uint64_t chain_id, size_t *n_escrows, err *e)
{
    size_t count = 0;
    if (store_begin(s, e) < 0)
        return -1;
    int rc = 0;
    if (chain_id) {
        rc = reindex_chain(s, chain_id, &count, e);
    } else {
        store_chain *chains;
        size_t n;
        rc = store_chain_list(s, &chains, &n, e);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = reindex_chain(s, chains[i].chain_id, &count, e);
        if (rc == 0)
            free(chains);
        else if (n)
            free(chains);
    }
    if (rc < 0 || store_commit(s, e) < 0) {
        store_rollback(s);
        return -1;
    }
    if (n_escrows)
        *n_escrows = count;
    return 0;
}

static int reindex_book_chain(const store_book *b, void *conn, uint64_t chain_id, size_t *count,
                              err *e)
{
    for (int attempt = 0;; attempt++) {
        store_checkpoint cp;
        if (b->checkpoint_get(conn, chain_id, &cp, e) < 0)
            return -1;
        if (!cp.synced)
            return 0; /* nothing synced: no event, no escrow */
        addr *escrows = NULL;
        size_t n = 0;
        if (b->escrows(conn, chain_id, &escrows, &n, e) < 0)
            return -1;
        /* a range of no events whose escrows are all the book's: each projected again
         * from its events there, the checkpoint written as it was */
        store_book_range r = {.chain_id = chain_id,
                              .prev = &cp,
                              .cp = &cp,
                              .escrows = escrows,
                              .n_escrows = n,
                              .project = escrow_project};
        uint64_t inserted = 0;
        int rc = b->commit(conn, &r, &inserted, e);
        free(escrows);
        if (rc == 0) {
            *count += n;
            return 0;
        }
        if (e->code != ERR_STATE || attempt == 4)
            return -1; /* ERR_STATE: a syncer moved the checkpoint meanwhile: again */
    }
}

int sync_reindex_book(const store_book *b, void *conn, const uint64_t *chain_ids, size_t n,
                      size_t *n_escrows, err *e)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (reindex_book_chain(b, conn, chain_ids[i], &count, e) < 0)
            return -1;
    if (n_escrows)
        *n_escrows = count;
    return 0;
}
