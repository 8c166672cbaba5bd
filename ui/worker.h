/* worker.h: the one shape of a UI worker. A piece of work runs on its own thread so the
 * loop keeps drawing; it moves RUNNING -> (ASKING -> RUNNING)* -> DONE. On ASKING it waits
 * for an answer that only the loop gets from the operator (a dialog); on DONE it has
 * parked its result. The worker never touches curses: each change of phase wakes the loop
 * (UI_TOPIC_JOBS plus the work's topics), and only the loop reads the phase, answers and
 * joins. The escrow actions (job.c) and the short desk writes (task.c) are two uses of it. */
#ifndef FUSION_UI_WORKER_H
#define FUSION_UI_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "base/err.h"

typedef enum { UI_WORKER_RUNNING, UI_WORKER_ASKING, UI_WORKER_DONE } ui_worker_phase;

typedef struct ui_worker {
    pthread_t thread;
    pthread_mutex_t mu; /* guards the phase and whatever the use parks beside it */
    pthread_cond_t cv;
    ui_worker_phase phase;
    bool answered;
    bool cancelled; /* the UI quits: every question is answered "no" */
    bool started;
} ui_worker;

/* Initialises w (mutex, condition). */
void ui_worker_init(ui_worker *w);
/* Starts fn(arg) on a thread with the terminal's signals blocked. */
int ui_worker_start(ui_worker *w, void *(*fn)(void *), void *arg, err *e)
    __attribute__((warn_unused_result));
/* Worker side, with w->mu held: parks in ASKING, wakes the loop and waits for the answer;
 * false when the UI quit meanwhile (w->mu still held on return). */
bool ui_worker_ask_locked(ui_worker *w);
/* Loop side, with w->mu held: the question is answered; the worker goes on. */
void ui_worker_answer_locked(ui_worker *w);
/* Worker side: the work is over (its result parked); wakes the loop with topics too. */
void ui_worker_done(ui_worker *w, unsigned topics);
/* Loop side: the phase as of now. */
ui_worker_phase ui_worker_phase_of(ui_worker *w);
/* Loop side: the UI quits; a parked question is answered "no". */
void ui_worker_cancel(ui_worker *w);
/* Loop side: waits for the thread (after DONE, or after ui_worker_cancel). */
void ui_worker_join(ui_worker *w);
/* Frees the mutex and condition (after the join). */
void ui_worker_destroy(ui_worker *w);

#endif
