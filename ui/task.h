/* task.h: short desk writes started from a screen (the compliance case actions) run on a
 * worker thread, because a write can wait on SQLite's lock for seconds when another process
 * of the desk is writing, and the loop must keep drawing meanwhile. The worker never touches
 * curses; when it is done it wakes the loop (UI_TOPIC_JOBS plus the task's topics), and the
 * loop runs the task's finish step and puts its result on the message line. One task at a
 * time per UI. */
#ifndef FUSION_UI_TASK_H
#define FUSION_UI_TASK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "screen.h"

typedef struct ui_task_ops {
    /* Worker thread: does the work; writes one line for the message line into msg;
     * returns 0 (info) or -1 (error). */
    int (*run)(void *arg, char *msg, size_t cap);
    /* Loop thread, optional: after the message is shown (select the new row...). Returns
     * UI_* flags. Not called when the UI quits first. */
    unsigned (*finish)(ui_app *a, void *arg, int rc);
} ui_task_ops;

/* Starts ops->run(arg) on a worker; arg is malloc'ed and freed (free()) after finish.
 * topics: the UI_TOPIC_* the task changes. Fails (ERR_STATE) while another task runs; arg
 * is freed on failure too. */
int ui_task_start(const char *what, const ui_task_ops *ops, void *arg, unsigned topics, err *e)
    __attribute__((warn_unused_result));
/* How the loop shows a finished task's one-line result (the loop owns the message line;
 * the worker side never calls into it). */
typedef void (*ui_task_show_fn)(ui_app *a, bool failed, const char *msg);
/* Loop side, after a UI_TOPIC_JOBS wake: hands the result of a finished task to show, then
 * runs its finish hook. */
unsigned ui_task_poll(ui_app *a, ui_task_show_fn show);
/* Tasks in flight (0 or 1). */
size_t ui_task_pending(void);
/* Waits for a running task and frees it (finish is not called). */
void ui_task_shutdown(void);

#endif
