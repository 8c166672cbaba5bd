/* bookwork.c: the reader thread of a server-book screen (bookwork.h). */
#include "bookwork.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "notify.h"
#include "pgstore/pg_desk.h"

/* Seconds between two reads while the screen is shown (what other workstations or
 * processes write to the server is announced by no commit this desk need hear), and after
 * a failed one. */
#define REREAD_S 5
#define RETRY_S 2

struct ui_bookwork {
    pthread_t th;
    pthread_mutex_t mu; /* guards stop, kick and the parked result */
    pthread_cond_t cv;
    bool stop, kick;
    char home[4096];
    char what[32];
    ui_bookwork_read_fn read;
    ui_bookwork_free_fn free_result;
    void *ctx;
    bool ready;   /* a result is parked */
    void *result; /* NULL after a failure */
    char error[ERR_MSG_MAX];
    /* the loop's alone */
    time_t asked_at; /* last kick (0: never) */
    bool loaded;     /* has answered once */
};

static void *reader_main(void *arg)
{
    ui_bookwork *w = arg;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", w->home);
    store *s = NULL;
    err e;
    err_clear(&e);
    int orc = store_open(&s, path, &e);
    if (orc == 0)
        orc = pg_desk_book_attach(s, w->home, PG_DESK_READS, NULL, &e);
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && !w->kick)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        w->kick = false;
        pthread_mutex_unlock(&w->mu);
        void *got = NULL;
        int rc = orc;
        if (rc == 0) {
            err_clear(&e);
            rc = w->read(s, w->ctx, &got, &e);
        }
        if (rc < 0 && got) {
            w->free_result(got);
            got = NULL;
        }
        pthread_mutex_lock(&w->mu);
        if (w->result)
            w->free_result(w->result);
        w->result = got;
        snprintf(w->error, sizeof w->error, "%s", rc == 0 ? "" : e.msg);
        w->ready = true;
        pthread_mutex_unlock(&w->mu);
        if (rc < 0)
            LOG_W("ui", "%s: %s", w->what, e.msg);
        ui_notify(UI_TOPIC_JOBS); /* the loop takes it */
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    store_close(&s);
    return NULL;
}

int ui_bookwork_start(ui_bookwork **out, const char *home, const char *what,
                      ui_bookwork_read_fn read, ui_bookwork_free_fn free_result, void *ctx, err *e)
{
    ui_bookwork *w = calloc(1, sizeof *w);
    if (!w)
        return err_set(e, ERR_NOMEM, "out of memory");
    snprintf(w->home, sizeof w->home, "%s", home);
    snprintf(w->what, sizeof w->what, "%s", what);
    w->read = read;
    w->free_result = free_result;
    w->ctx = ctx;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (ui_thread_create(&w->th, reader_main, w, e) < 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void ui_bookwork_kick(ui_bookwork *w)
{
    pthread_mutex_lock(&w->mu);
    w->kick = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    w->asked_at = time(NULL);
}

void ui_bookwork_tick(ui_bookwork *w, time_t now, bool failing)
{
    if (now - w->asked_at >= (failing ? RETRY_S : REREAD_S))
        ui_bookwork_kick(w);
}

bool ui_bookwork_take(ui_bookwork *w, void **result, char *error, size_t cap)
{
    pthread_mutex_lock(&w->mu);
    bool ready = w->ready;
    if (ready) {
        w->ready = false;
        snprintf(error, cap, "%s", w->error);
        *result = w->result;
        w->result = NULL;
    }
    pthread_mutex_unlock(&w->mu);
    w->loaded |= ready;
    return ready;
}

bool ui_bookwork_loaded(const ui_bookwork *w)
{
    return w->loaded;
}

void ui_bookwork_stop(ui_bookwork **p)
{
    ui_bookwork *w = *p;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    if (w->result)
        w->free_result(w->result);
    free(w);
    *p = NULL;
}
