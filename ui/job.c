/* job.c: the escrow action worker (see job.h). State moves RUNNING -> ASKING (summary
 * parked, loop wakes) -> RUNNING (answer given) -> DONE (result parked, loop wakes). */
#include "job.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/log.h"
#include "desk.h"
#include "api/api.h"
#include "desk/desk.h"
#include "notify.h"

#define JOB_PASS_CAP 1024

typedef enum { JOB_RUNNING, JOB_ASKING, JOB_SHOWN, JOB_DONE } job_phase;

/* What to do: an action on an escrow, or a new escrow (the request with its strings). */
typedef struct job_req {
    char action[16];
    addr escrow;
    char arg[16]; /* resolve: "payee" or "payer" */
    bool create;
    desk_create_req req;
    char chain[STORE_NAME_MAX];
    char token[96];
    char amount[96];
    int64_t proposal; /* create: accept this API proposal (its request is the escrow's) */
} job_req;

/* Fills r for a new escrow: the request's strings are copied into r. */
static void req_create(job_req *r, const char *chain, const desk_create_req *c)
{
    memset(r, 0, sizeof *r);
    snprintf(r->action, sizeof r->action, "create");
    r->create = true;
    r->req = *c;
    snprintf(r->chain, sizeof r->chain, "%s", chain ? chain : "");
    snprintf(r->token, sizeof r->token, "%s", c->token);
    snprintf(r->amount, sizeof r->amount, "%s", c->amount);
    r->req.token = r->token;
    r->req.amount = r->amount;
}

static void req_act(job_req *r, const char *action, const addr *escrow, const char *arg)
{
    memset(r, 0, sizeof *r);
    snprintf(r->action, sizeof r->action, "%s", action);
    r->escrow = *escrow;
    snprintf(r->arg, sizeof r->arg, "%s", arg ? arg : "");
}

typedef struct ui_job {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_phase phase;
    bool answered, answer;
    bool cancelled; /* the UI is quitting: deny the confirmation */
    char home[4096];
    char operator_name[128];
    job_req r;
    char *pass; /* sodium_malloc, wiped once the desk took it */
    size_t pass_len;
    char *summary; /* parked pre-sign summary */
    char progress[256];
    bool ok;
    char result[ERR_MSG_MAX + 128];
} ui_job;

static ui_job *cur;

static int job_pass(void *ctx, char *out, size_t cap, err *e)
{
    ui_job *j = ctx;
    if (!j->pass || j->pass_len + 1 > cap)
        return err_set(e, ERR_INVALID, "no passphrase for the signing key");
    memcpy(out, j->pass, j->pass_len);
    out[j->pass_len] = '\0';
    sodium_memzero(j->pass, JOB_PASS_CAP);
    return 0;
}

static bool job_confirm(void *ctx, const char *text, const json_t *summary)
{
    (void)summary;
    ui_job *j = ctx;
    pthread_mutex_lock(&j->mu);
    if (j->cancelled) {
        pthread_mutex_unlock(&j->mu);
        return false;
    }
    j->summary = strdup(text);
    j->answered = false;
    j->phase = j->summary ? JOB_ASKING : JOB_RUNNING;
    bool have = j->summary != NULL;
    pthread_mutex_unlock(&j->mu);
    if (!have)
        return false;
    ui_notify(UI_TOPIC_JOBS);
    pthread_mutex_lock(&j->mu);
    while (!j->answered)
        pthread_cond_wait(&j->cv, &j->mu);
    bool yes = j->answer;
    j->phase = JOB_RUNNING;
    pthread_mutex_unlock(&j->mu);
    return yes;
}

static void job_say(void *ctx, const char *line)
{
    ui_job *j = ctx;
    pthread_mutex_lock(&j->mu);
    snprintf(j->progress, sizeof j->progress, "%s", line);
    pthread_mutex_unlock(&j->mu);
    LOG_I("ui", "%s: %s", j->r.action, line);
}

static void *job_main(void *arg)
{
    ui_job *j = arg;
    err e;
    err_clear(&e);
    desk *d = NULL;
    desk_result res;
    memset(&res, 0, sizeof res);
    int rc = desk_open(&d, j->home, j->operator_name, &e);
    if (rc == 0) {
        desk_set_passphrase(d, job_pass, j);
        desk_set_confirm(d, job_confirm, j);
        desk_set_output(d, job_say, j);
        desk_set_wait(d, 120);
        rc = j->r.proposal ? 0 /* the proposal names its chain */
             : j->r.create ? desk_use_chain(d, j->r.chain[0] ? j->r.chain : NULL, NULL, &e)
                           : desk_use_chain(d, NULL, &j->r.escrow, &e);
    }
    if (rc == 0 && j->r.proposal)
        rc = api_proposal_accept(d, j->home, j->r.proposal, &res, &e);
    else if (rc == 0 && j->r.create)
        rc = desk_escrow_create(d, &j->r.req, &res, &e);
    else if (rc == 0)
        rc = desk_escrow_act(d, j->r.action, &j->r.escrow, j->r.arg[0] ? j->r.arg : NULL, &res, &e);
    desk_free(&d);
    sodium_memzero(j->pass, JOB_PASS_CAP);
    pthread_mutex_lock(&j->mu);
    char esc[ADDR_STR_MAX];
    if (j->r.create && rc == 0 && res.has_escrow)
        j->r.escrow = res.escrow; /* the result names the new escrow */
    addr_to_checksum(esc, &j->r.escrow);
    if (j->r.create && !(rc == 0 && res.has_escrow))
        snprintf(esc, sizeof esc, "escrow");
    if (rc == 0) {
        char hash[67];
        hex_encode(hash, sizeof hash, res.hash, 32, true);
        if (j->r.create)
            snprintf(j->result, sizeof j->result, "create %s: %s (tx %.18s)", esc,
                     outbound_state_str(res.state), hash);
        else
            snprintf(j->result, sizeof j->result, "%s %.10s: %s (tx %.18s)", j->r.action, esc,
                     outbound_state_str(res.state), hash);
    } else {
        snprintf(j->result, sizeof j->result, "%s %.10s failed: %s", j->r.action, esc, e.msg);
    }
    j->ok = rc == 0;
    j->phase = JOB_DONE;
    pthread_mutex_unlock(&j->mu);
    ui_notify(UI_TOPIC_JOBS | UI_TOPIC_ESCROWS | UI_TOPIC_APPROVALS);
    return NULL;
}

static void job_free(ui_job **p)
{
    ui_job *j = *p;
    if (!j)
        return;
    if (j->pass) {
        sodium_memzero(j->pass, JOB_PASS_CAP);
        sodium_free(j->pass);
    }
    free(j->summary);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
    *p = NULL;
}

static int job_begin(ui_app *a, const job_req *r, const char *pass, size_t pass_len, err *e)
{
    ui_desk *d = ui_app_desk(a);
    if (!d)
        return err_set(e, ERR_STATE, "no desk is open");
    if (cur)
        return err_set(e, ERR_STATE, "another escrow action is still running: wait for its result");
    if (pass_len + 1 > JOB_PASS_CAP)
        return err_set(e, ERR_INVALID, "passphrase too long");
    ui_job *j = calloc(1, sizeof *j);
    if (!j)
        return err_set(e, ERR_NOMEM, "out of memory starting %s", r->action);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->pass = sodium_malloc(JOB_PASS_CAP);
    if (!j->pass) {
        job_free(&j);
        return err_set(e, ERR_NOMEM, "out of memory starting %s", r->action);
    }
    memcpy(j->pass, pass, pass_len);
    j->pass_len = pass_len;
    snprintf(j->home, sizeof j->home, "%s", d->home);
    snprintf(j->operator_name, sizeof j->operator_name, "%s", d->operator_name);
    j->r = *r;
    if (r->create) { /* the request's strings now live in j */
        j->r.req.token = j->r.token;
        j->r.req.amount = j->r.amount;
    }
    if (ui_thread_create(&j->thread, job_main, j, e) < 0) {
        job_free(&j);
        return -1;
    }
    cur = j;
    return 0;
}

int ui_job_start(ui_app *a, const char *action, const addr *escrow, const char *pass,
                 size_t pass_len, err *e)
{
    job_req r;
    req_act(&r, action, escrow, NULL);
    return job_begin(a, &r, pass, pass_len, e);
}

static unsigned confirm_answer(void *arg, bool confirmed)
{
    ui_job *j = arg;
    pthread_mutex_lock(&j->mu);
    j->answer = confirmed;
    j->answered = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return UI_REDRAW;
}

unsigned ui_job_poll(ui_app *a)
{
    ui_job *j = cur;
    if (!j)
        return UI_OK;
    pthread_mutex_lock(&j->mu);
    job_phase ph = j->phase;
    pthread_mutex_unlock(&j->mu);
    if (ph == JOB_ASKING) {
        /* The worker is parked until confirm_answer: its summary is stable. */
        const char *lines[32];
        size_t n = 0;
        for (char *p = j->summary; p && *p && n < 32;) {
            char *nl = strchr(p, '\n');
            if (nl)
                *nl = '\0';
            lines[n++] = p;
            p = nl ? nl + 1 : NULL;
        }
        char title[64];
        snprintf(title, sizeof title, "Sign %s? (decoded from the signed bytes)", j->r.action);
        err e;
        pthread_mutex_lock(&j->mu);
        j->phase = JOB_SHOWN;
        pthread_mutex_unlock(&j->mu);
        if (ui_confirm_open(a, title, lines, n, "Sign and send", confirm_answer, j, &e) < 0) {
            ui_message(a, UI_MSG_ERROR, "%s not sent: %s", j->r.action, e.msg);
            confirm_answer(j, false);
        }
        return UI_REDRAW;
    }
    if (ph != JOB_DONE)
        return UI_OK;
    pthread_join(j->thread, NULL);
    ui_message(a, j->ok ? UI_MSG_INFO : UI_MSG_ERROR, "%s", j->result);
    cur = NULL;
    job_free(&j);
    return UI_REDRAW;
}

size_t ui_job_pending(void)
{
    return cur ? 1 : 0;
}

void ui_job_shutdown(void)
{
    ui_job *j = cur;
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->cancelled = true;
    pthread_mutex_unlock(&j->mu);
    confirm_answer(j, false);
    pthread_join(j->thread, NULL);
    cur = NULL;
    job_free(&j);
}

/* The action waiting for its passphrase (one prompt at a time). */
static job_req asked;

static unsigned pass_given(void *arg, const char *pass, size_t len)
{
    ui_app *a = arg;
    if (!pass) {
        ui_message(a, UI_MSG_INFO, "%s cancelled: nothing was signed", asked.action);
        return UI_REDRAW;
    }
    err e;
    int rc = job_begin(a, &asked, pass, len, &e);
    if (rc < 0)
        ui_message(a, UI_MSG_ERROR, "%s not started: %s", asked.action, e.msg);
    else
        ui_message(a, UI_MSG_INFO, "%s: building and signing...", asked.action);
    return UI_REDRAW;
}

unsigned ui_job_request(ui_app *a, const char *action, const addr *escrow)
{
    return ui_job_request_arg(a, action, escrow, NULL);
}

/* The desk that a new request runs on, NULL (and a message) when none can start now. */
static ui_desk *request_desk(ui_app *a)
{
    ui_desk *d = ui_app_desk(a);
    if (!d)
        ui_message(a, UI_MSG_ERROR, "no desk is open: start `fusion ui` with a desk home");
    else if (cur)
        ui_message(a, UI_MSG_ERROR, "another escrow action is still running: wait for its result");
    return d && !cur ? d : NULL;
}

/* Asks for the operator's passphrase for the request parked in `asked`. */
static unsigned request_passphrase(ui_app *a, ui_desk *d, const char *title)
{
    char prompt[160];
    snprintf(prompt, sizeof prompt, "Passphrase of %s's signing key: ", d->operator_name);
    err e;
    if (ui_passphrase_open(a, title, prompt, pass_given, a, &e) < 0)
        ui_message(a, UI_MSG_ERROR, "%s: %s", asked.action, e.msg);
    return UI_REDRAW;
}

unsigned ui_job_request_arg(ui_app *a, const char *action, const addr *escrow, const char *arg)
{
    ui_desk *d = request_desk(a);
    if (!d)
        return UI_REDRAW;
    req_act(&asked, action, escrow, arg);
    char title[64], esc[ADDR_STR_MAX];
    addr_to_checksum(esc, escrow);
    snprintf(title, sizeof title, "%s escrow %.10s", action, esc);
    return request_passphrase(a, d, title);
}

unsigned ui_job_request_proposal(ui_app *a, int64_t id)
{
    ui_desk *d = request_desk(a);
    if (!d)
        return UI_REDRAW;
    memset(&asked, 0, sizeof asked);
    snprintf(asked.action, sizeof asked.action, "accept");
    asked.create = true;
    asked.proposal = id;
    char title[64];
    snprintf(title, sizeof title, "accept proposal %lld", (long long)id);
    return request_passphrase(a, d, title);
}

unsigned ui_job_request_create(ui_app *a, const char *chain, const desk_create_req *r)
{
    ui_desk *d = request_desk(a);
    if (!d)
        return UI_REDRAW;
    req_create(&asked, chain, r);
    return request_passphrase(a, d, "create escrow");
}
