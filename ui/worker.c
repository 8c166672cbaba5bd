/* worker.c: the UI worker's phases (see worker.h). */
#include "worker.h"

#include "notify.h"

void ui_worker_init(ui_worker *w)
{
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->phase = UI_WORKER_RUNNING;
    w->answered = w->cancelled = w->started = false;
}

int ui_worker_start(ui_worker *w, void *(*fn)(void *), void *arg, err *e)
{
    if (ui_thread_create(&w->thread, fn, arg, e) < 0)
        return -1;
    w->started = true;
    return 0;
}

bool ui_worker_ask_locked(ui_worker *w)
{
    if (w->cancelled)
        return false;
    w->answered = false;
    w->phase = UI_WORKER_ASKING;
    pthread_mutex_unlock(&w->mu);
    ui_notify(UI_TOPIC_JOBS);
    pthread_mutex_lock(&w->mu);
    while (!w->answered && !w->cancelled)
        pthread_cond_wait(&w->cv, &w->mu);
    w->phase = UI_WORKER_RUNNING;
    return !w->cancelled;
}

void ui_worker_answer_locked(ui_worker *w)
{
    w->answered = true;
    pthread_cond_signal(&w->cv);
}

void ui_worker_done(ui_worker *w, unsigned topics)
{
    pthread_mutex_lock(&w->mu);
    w->phase = UI_WORKER_DONE;
    pthread_mutex_unlock(&w->mu);
    ui_notify(UI_TOPIC_JOBS | topics);
}

ui_worker_phase ui_worker_phase_of(ui_worker *w)
{
    pthread_mutex_lock(&w->mu);
    ui_worker_phase ph = w->phase;
    pthread_mutex_unlock(&w->mu);
    return ph;
}

void ui_worker_cancel(ui_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->cancelled = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void ui_worker_join(ui_worker *w)
{
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = false;
}

void ui_worker_destroy(ui_worker *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}
