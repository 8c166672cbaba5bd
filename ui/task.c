/* task.c: the short-write worker (see task.h): one use of the UI worker (worker.h). */
#include "task.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "worker.h"

typedef struct ui_task {
    ui_worker w; /* RUNNING -> DONE: a short write asks nothing */
    const ui_task_ops *ops;
    void *arg;
    unsigned topics;
    char what[64];
    int rc;
    char msg[ERR_MSG_MAX + 128];
} ui_task;

static ui_task *cur;

static void *task_main(void *p)
{
    ui_task *t = p;
    char msg[sizeof t->msg];
    msg[0] = '\0';
    int rc = t->ops->run(t->arg, msg, sizeof msg);
    LOG_I("ui", "%s: %s", t->what, msg);
    pthread_mutex_lock(&t->w.mu);
    t->rc = rc;
    snprintf(t->msg, sizeof t->msg, "%s", msg);
    pthread_mutex_unlock(&t->w.mu);
    ui_worker_done(&t->w, t->topics);
    return NULL;
}

static void task_free(ui_task **p)
{
    ui_task *t = *p;
    if (!t)
        return;
    free(t->arg);
    ui_worker_destroy(&t->w);
    free(t);
    *p = NULL;
}

int ui_task_start(const char *what, const ui_task_ops *ops, void *arg, unsigned topics, err *e)
{
    if (cur) {
        free(arg);
        return err_set(e, ERR_STATE, "%s is still running: wait for its result", cur->what);
    }
    ui_task *t = calloc(1, sizeof *t);
    if (!t) {
        free(arg);
        return err_set(e, ERR_NOMEM, "out of memory starting %s", what);
    }
    ui_worker_init(&t->w);
    t->ops = ops;
    t->arg = arg;
    t->topics = topics;
    snprintf(t->what, sizeof t->what, "%s", what);
    if (ui_worker_start(&t->w, task_main, t, e) < 0) {
        task_free(&t);
        return -1;
    }
    cur = t;
    return 0;
}

unsigned ui_task_poll(ui_app *a, ui_task_show_fn show)
{
    ui_task *t = cur;
    if (!t || ui_worker_phase_of(&t->w) != UI_WORKER_DONE)
        return UI_OK;
    ui_worker_join(&t->w);
    cur = NULL;
    show(a, t->rc != 0, t->msg);
    unsigned r = UI_REDRAW;
    if (t->ops->finish)
        r |= t->ops->finish(a, t->arg, t->rc);
    task_free(&t);
    return r;
}

size_t ui_task_pending(void)
{
    return cur ? 1 : 0;
}

void ui_task_shutdown(void)
{
    ui_task *t = cur;
    if (!t)
        return;
    ui_worker_join(&t->w);
    cur = NULL;
    task_free(&t);
}
