/* job.c: the escrow action worker (see job.h; also the outbound replacements, API
 * proposals and the bridge resume of screen B), one use of the UI worker (worker.h): RUNNING
 * (the desk's checks, the policy and the compliance gate) -> ASKING the passphrase (the
 * approval card parked, the prompt under it) -> RUNNING -> ASKING the confirmation (the
 * summary parked) -> RUNNING -> DONE (result parked). The passphrase is asked only once
 * everything that can refuse without it has passed. */
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
#include "bridge/bridge.h"
#include "desk/desk.h"
#include "notify.h"
#include "worker.h"

#define JOB_PASS_CAP 1024

/* What an ASKING worker waits for. */
typedef enum {
    JOB_ASK_NONE,
    JOB_ASK_PASS,    /* the card parked: the loop asks for the passphrase */
    JOB_ASK_CONFIRM, /* the summary parked: the loop asks y/N */
} job_ask;

/* What to do: an action on an escrow, or a new escrow (the request with its strings). */
typedef struct job_req {
    char action[16];
    addr escrow;
    char arg[16]; /* resolve: "payee" or "payer" */
    bool create;
    bool tx;       /* speedup, cancel or check of the outbound transactions */
    int64_t tx_id; /* speedup, cancel: the transaction */
    desk_create_req req;
    char chain[STORE_NAME_MAX];
    char token[96];
    char amount[96];
    int64_t proposal; /* create: accept this API proposal (its request is the escrow's) */
    bool bridge_proposal; /* the proposal is a bridge transfer: sent by the bridge service */
    int64_t bridge;   /* resume: this bridge transfer (the mint signed when it is attested) */
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
    ui_worker w;  /* thread, phase; w.mu guards what follows that both sides touch */
    job_ask ask;  /* while ASKING */
    bool shown;   /* the loop opened the dialog for this question */
    bool answer;
    char home[4096];
    char operator_name[128];
    ui_desk *desk; /* the session: outlives the job (ui_job_shutdown comes first) */
    ks_key *key;   /* the operator's key as unlocked in the session, or NULL; the session
                      does not lock it while the job runs (busy_key) */
    bool key_lent; /* the desk signs with it: no passphrase, the card goes with the summary */
    job_req r;
    char *pass; /* sodium_malloc, wiped once the desk took it */
    size_t pass_len;
    bool pass_up_front; /* given to ui_job_start: not asked */
    bool pass_given;
    desk *d;     /* the worker's desk (for the card), under mu */
    char *card;  /* the approval card, lines separated by newlines */
    bool refused_card; /* the card was made for a refusal before the passphrase */
    char *summary; /* parked pre-sign summary */
    char progress[256];
    bool ok;
    char result[ERR_MSG_MAX + 128];
} ui_job;

static ui_job *cur;

/* The approval card of the job's action as one text (NULL when there is none). */
static char *card_text(ui_job *j)
{
    if (j->r.create || j->r.tx || j->r.bridge || j->r.proposal || !j->d)
        return NULL;
    char **lines = NULL;
    size_t n = 0;
    err e;
    if (desk_action_card(j->d, j->r.action, &j->r.escrow, &lines, &n, &e) < 0) {
        LOG_W("ui", "%s: no approval card: %s", j->r.action, e.msg);
        return NULL;
    }
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(lines[i]) + 1;
    char *t = malloc(len);
    if (t) {
        t[0] = '\0';
        for (size_t i = 0; i < n; i++) {
            strcat(t, lines[i]);
            if (i + 1 < n)
                strcat(t, "\n");
        }
    }
    desk_lines_free(&lines, n);
    return t;
}

/* The desk asks for the passphrase only after its checks, the policy and the compliance
 * gate passed: park the card and wait for the loop's prompt. */
static int job_pass(void *ctx, char *out, size_t cap, err *e)
{
    ui_job *j = ctx;
    pthread_mutex_lock(&j->w.mu);
    bool up_front = j->pass_up_front && j->pass_len > 0; /* ui_job_start */
    pthread_mutex_unlock(&j->w.mu);
    if (!up_front) {
        char *card = card_text(j);
        pthread_mutex_lock(&j->w.mu);
        free(j->card);
        j->card = card;
        j->ask = JOB_ASK_PASS;
        j->shown = false;
        j->pass_given = false;
        bool asked = ui_worker_ask_locked(&j->w);
        j->ask = JOB_ASK_NONE;
        bool given = asked && j->pass_given;
        pthread_mutex_unlock(&j->w.mu);
        if (!asked)
            return err_set(e, ERR_DENIED, "cancelled: nothing was signed");
        if (!given)
            return err_set(e, ERR_DENIED, "cancelled at the passphrase: nothing was signed");
    }
    if (j->pass_len + 1 > cap)
        return err_set(e, ERR_INVALID, "passphrase too long");
    memcpy(out, j->pass, j->pass_len);
    out[j->pass_len] = '\0';
    sodium_memzero(j->pass, JOB_PASS_CAP);
    j->pass_len = 0;
    return 0;
}

static bool job_confirm(void *ctx, const char *text, const json_t *summary)
{
    (void)summary;
    ui_job *j = ctx;
    pthread_mutex_lock(&j->w.mu);
    free(j->summary);
    j->summary = strdup(text);
    bool yes = false;
    if (j->summary) {
        j->ask = JOB_ASK_CONFIRM;
        j->shown = false;
        j->answer = false;
        yes = ui_worker_ask_locked(&j->w) && j->answer;
        j->ask = JOB_ASK_NONE;
    }
    pthread_mutex_unlock(&j->w.mu);
    return yes;
}

static void job_say(void *ctx, const char *line)
{
    ui_job *j = ctx;
    pthread_mutex_lock(&j->w.mu);
    snprintf(j->progress, sizeof j->progress, "%s", line);
    pthread_mutex_unlock(&j->w.mu);
    LOG_I("ui", "%s: %s", j->r.action, line);
}

/* The desk's key source: the operator's key when it is still unlocked in this process
 * (signed in with `:operator NAME` or unlocked on the Keys screen); after the idle lock
 * it is not, and the desk asks for the passphrase again. */
static ks_key *job_key(void *ctx, const addr *a)
{
    ui_job *j = ctx;
    if (!j->key || !addr_equal(keystore_key_address(j->key), a) ||
        !keystore_key_unlocked(j->key))
        return NULL;
    LOG_I("ui", "%s: the operator's key is unlocked in this session: no passphrase asked",
          j->r.action);
    /* what the passphrase prompt would have shown, shown with the summary instead */
    char *card = card_text(j);
    pthread_mutex_lock(&j->w.mu);
    free(j->card);
    j->card = card;
    j->key_lent = true;
    pthread_mutex_unlock(&j->w.mu);
    return j->key;
}

/* The desk's callbacks: the passphrase after the checks (or the session's unlocked key),
 * the summary with y/N, the progress lines. Also the bridge service's env->wire. */
static void job_wire(void *ctx, desk *d)
{
    desk_set_passphrase(d, job_pass, ctx);
    desk_set_key_source(d, job_key, ctx);
    desk_set_confirm(d, job_confirm, ctx);
    desk_set_output(d, job_say, ctx);
    desk_set_wait(d, 120);
}

/* The bridge service's environment on the session's desk d, asking through job_wire. */
static void job_bridge_env(ui_job *j, desk *d, bridge_env *env)
{
    memset(env, 0, sizeof *env);
    env->home = j->home;
    env->operator_name = j->operator_name;
    env->desk = d;
    env->wire = job_wire;
    env->wire_ctx = j;
    env->attest_wait_s = 60;
    env->say = job_say;
    env->say_ctx = j;
}

/* "WHAT: delivered (mint tx ... in block N)" or "WHAT: STATE: NOTE" for transfer id. */
static int job_bridge_line(desk *d, int64_t id, const char *what, char *out, size_t cap, err *e)
{
    store_bridge b;
    bool found = false;
    if (store_bridge_get(desk_store(d), id, &b, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "bridge transfer %lld is gone", (long long)id);
    if (strcmp(b.state, "delivered") == 0 && b.has_mint_tx) {
        char hash[67];
        hex_encode(hash, sizeof hash, b.mint_tx, 32, true);
        snprintf(out, cap, "%s: delivered (mint tx %.18s in block %llu)", what, hash,
                 (unsigned long long)b.mint_block);
    } else {
        snprintf(out, cap, "%s: %s%s%.160s", what, b.state, b.note[0] ? ": " : "", b.note);
    }
    return 0;
}

/* Resume of bridge transfer j->r.bridge on the session's desk d: the attestation fetched,
 * the mint signed through d's pipeline (job_wire's passphrase, summary and y/N). A
 * transfer with nothing left to do is said so and nothing is signed. The result line is
 * written to out. */
static int job_bridge(ui_job *j, desk *d, char *out, size_t cap, err *e)
{
    int64_t id = j->r.bridge;
    store_bridge b;
    bool found = false;
    if (store_bridge_get(desk_store(d), id, &b, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no bridge transfer %lld (fusion bridge list)",
                       (long long)id);
    if (bridge_finished(&b)) {
        snprintf(out, cap, "resume bridge %lld: %s already: nothing to do, nothing signed",
                 (long long)id, b.state);
        return 0;
    }
    bridge_env env;
    job_bridge_env(j, d, &env);
    char state[16] = "";
    if (bridge_advance(&env, id, state, e) < 0)
        return -1;
    char what[48];
    snprintf(what, sizeof what, "resume bridge %lld", (long long)id);
    return job_bridge_line(d, id, what, out, cap, e);
}

/* Accept of bridge proposal j->r.proposal on the session's desk d: the bridge service
 * sends it as this operator (policy, screening, summary, their key: job_wire), the
 * proposal marked accepted in the transaction that records the signed burn, then the
 * attestation and the mint as a resume does. The result line is written to out. */
static int job_bridge_proposal(ui_job *j, desk *d, char *out, size_t cap, err *e)
{
    bridge_env env;
    job_bridge_env(j, d, &env);
    int64_t bid = 0;
    char what[64];
    snprintf(what, sizeof what, "accept proposal %lld", (long long)j->r.proposal);
    if (api_proposal_accept_bridge(&env, j->r.proposal, &bid, e) < 0) {
        if (bid) /* burned, not delivered: the Bridges screen's R continues it */
            err_prefix(e, "bridge %lld sent (R on screen B continues it)", (long long)bid);
        return -1;
    }
    snprintf(what, sizeof what, "accept proposal %lld: bridge %lld", (long long)j->r.proposal,
             (long long)bid);
    return job_bridge_line(d, bid, what, out, cap, e);
}

static void *job_main(void *arg)
{
    ui_job *j = arg;
    err e;
    err_clear(&e);
    desk *d = NULL;
    desk_result res;
    memset(&res, 0, sizeof res);
    /* the session's desk, opened by the first action of this process */
    d = ui_desk_action_begin(j->desk, j->operator_name, &e);
    int rc = d ? 0 : -1;
    pthread_mutex_lock(&j->w.mu);
    j->d = d;
    pthread_mutex_unlock(&j->w.mu);
    char bridge_line[sizeof j->result] = "";
    if (rc == 0) {
        job_wire(j, d);
        if (j->r.tx || j->r.proposal || j->r.bridge)
            rc = 0; /* check: every chain; a replacement, a proposal or a bridge step names
                       its chain */
        else
            rc = j->r.create ? desk_use_chain(d, j->r.chain[0] ? j->r.chain : NULL, NULL, &e)
                             : desk_use_chain(d, NULL, &j->r.escrow, &e);
    }
    if (rc == 0 && j->r.bridge) {
        rc = job_bridge(j, d, bridge_line, sizeof bridge_line, &e);
    } else if (rc == 0 && j->r.proposal && j->r.bridge_proposal) {
        rc = job_bridge_proposal(j, d, bridge_line, sizeof bridge_line, &e);
    } else if (rc == 0 && j->r.proposal) {
        rc = api_proposal_accept(d, j->home, j->r.proposal, &res, &e);
    } else if (rc == 0 && j->r.tx) {
        if (strcmp(j->r.action, "check") == 0)
            rc = desk_tx_check(d, &e);
        else
            rc = desk_tx_replace(d, j->r.tx_id, strcmp(j->r.action, "cancel") == 0, &res, &e);
    } else if (rc == 0 && j->r.create)
        rc = desk_escrow_create(d, &j->r.req, &res, &e);
    else if (rc == 0)
        rc = desk_escrow_act(d, j->r.action, &j->r.escrow, j->r.arg[0] ? j->r.arg : NULL, &res, &e);
    /* A refusal before signing comes with the card: what refused it, all at once. */
    char *card = rc < 0 && e.code == ERR_DENIED && !j->card ? card_text(j) : NULL;
    pthread_mutex_lock(&j->w.mu);
    j->d = NULL;
    if (card) {
        free(j->card);
        j->card = card;
        j->refused_card = true;
    }
    pthread_mutex_unlock(&j->w.mu);
    if (d)
        ui_desk_action_end(j->desk);
    d = NULL;
    sodium_memzero(j->pass, JOB_PASS_CAP);
    pthread_mutex_lock(&j->w.mu);
    char esc[ADDR_STR_MAX];
    if (j->r.create && rc == 0 && res.has_escrow)
        j->r.escrow = res.escrow; /* the result names the new escrow */
    addr_to_checksum(esc, &j->r.escrow);
    if (j->r.create && !(rc == 0 && res.has_escrow))
        snprintf(esc, sizeof esc, "escrow");
    if (j->r.bridge) {
        if (rc == 0)
            snprintf(j->result, sizeof j->result, "%s", bridge_line);
        else
            snprintf(j->result, sizeof j->result, "resume bridge %lld failed: %s",
                     (long long)j->r.bridge, e.msg);
    } else if (j->r.tx && strcmp(j->r.action, "check") == 0) {
        if (rc == 0)
            snprintf(j->result, sizeof j->result, "check: %s",
                     j->progress[0] ? j->progress : "nothing in flight");
        else
            snprintf(j->result, sizeof j->result, "check failed: %s", e.msg);
    } else if (j->r.tx) {
        char hash[67];
        hex_encode(hash, sizeof hash, res.hash, 32, true);
        if (rc == 0)
            snprintf(j->result, sizeof j->result, "%s of tx %lld: %s (tx %.18s)", j->r.action,
                     (long long)j->r.tx_id, outbound_state_str(res.state), hash);
        else
            snprintf(j->result, sizeof j->result, "%s of tx %lld failed: %s", j->r.action,
                     (long long)j->r.tx_id, e.msg);
    } else if (j->r.proposal && j->r.bridge_proposal) {
        if (rc == 0)
            snprintf(j->result, sizeof j->result, "%s", bridge_line);
        else
            snprintf(j->result, sizeof j->result, "accept proposal %lld failed: %s",
                     (long long)j->r.proposal, e.msg);
    } else if (j->r.proposal) {
        /* An accepted proposal names itself, and its escrow when it made one (a payment
         * makes none). */
        char hash[67];
        hex_encode(hash, sizeof hash, res.hash, 32, true);
        if (rc == 0 && res.has_escrow)
            snprintf(j->result, sizeof j->result, "accept proposal %lld: escrow %s %s (tx %.18s)",
                     (long long)j->r.proposal, esc, outbound_state_str(res.state), hash);
        else if (rc == 0)
            snprintf(j->result, sizeof j->result, "accept proposal %lld: %s (tx %.18s)",
                     (long long)j->r.proposal, outbound_state_str(res.state), hash);
        else
            snprintf(j->result, sizeof j->result, "accept proposal %lld failed: %s",
                     (long long)j->r.proposal, e.msg);
    } else if (rc == 0) {
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
    pthread_mutex_unlock(&j->w.mu);
    ui_worker_done(&j->w, UI_TOPIC_ESCROWS | UI_TOPIC_APPROVALS | UI_TOPIC_CHAINS);
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
    free(j->card);
    ui_worker_destroy(&j->w);
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
    if (!pass)
        pass_len = 0;
    ui_job *j = calloc(1, sizeof *j);
    if (!j)
        return err_set(e, ERR_NOMEM, "out of memory starting %s", r->action);
    ui_worker_init(&j->w);
    j->pass = sodium_malloc(JOB_PASS_CAP);
    if (!j->pass) {
        job_free(&j);
        return err_set(e, ERR_NOMEM, "out of memory starting %s", r->action);
    }
    if (pass_len)
        memcpy(j->pass, pass, pass_len);
    j->pass_len = pass_len;
    j->pass_up_front = pass_len > 0; /* given up front (ui_job_start): not asked */
    snprintf(j->home, sizeof j->home, "%s", d->home);
    snprintf(j->operator_name, sizeof j->operator_name, "%s", d->operator_name);
    j->desk = d;
    if (d->has_operator && !pass_len)
        j->key = ui_desk_key(d, &d->op_address);
    j->r = *r;
    if (r->create) { /* the request's strings now live in j */
        j->r.req.token = j->r.token;
        j->r.req.amount = j->r.amount;
    }
    if (ui_worker_start(&j->w, job_main, j, e) < 0) {
        job_free(&j);
        return -1;
    }
    d->busy_key = j->key;
    cur = j;
    return 0;
}

/* The job is over: a lock asked for while it borrowed the key happens now. */
static void job_release_key(ui_job *j)
{
    ui_desk *d = j->desk;
    if (!d || !d->busy_key)
        return;
    addr a = *keystore_key_address(d->busy_key);
    d->busy_key = NULL;
    if (d->lock_deferred) {
        d->lock_deferred = false;
        ui_desk_lock(d, &a);
    }
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
    pthread_mutex_lock(&j->w.mu);
    j->answer = confirmed;
    ui_worker_answer_locked(&j->w);
    pthread_mutex_unlock(&j->w.mu);
    return UI_REDRAW;
}

/* Splits text at its newlines in place: up to max lines into lines. */
static size_t split_lines(char *text, const char **lines, size_t max)
{
    size_t n = 0;
    for (char *p = text; p && *p && n < max;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        lines[n++] = p;
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

/* The passphrase for the parked worker (NULL: cancelled); copied into guarded memory. */
static unsigned pass_answer(void *arg, const char *pass, size_t len)
{
    ui_job *j = arg;
    pthread_mutex_lock(&j->w.mu);
    j->pass_given = pass && len > 0 && len + 1 <= JOB_PASS_CAP;
    if (j->pass_given) {
        memcpy(j->pass, pass, len);
        j->pass_len = len;
    }
    ui_worker_answer_locked(&j->w);
    pthread_mutex_unlock(&j->w.mu);
    return UI_REDRAW;
}

static unsigned refused_seen(void *arg, bool yes)
{
    return UI_REDRAW;
}

unsigned ui_job_poll(ui_app *a)
{
    ui_job *j = cur;
    if (!j)
        return UI_OK;
    pthread_mutex_lock(&j->w.mu);
    job_ask ask = j->w.phase == UI_WORKER_ASKING && !j->shown ? j->ask : JOB_ASK_NONE;
    j->shown |= ask != JOB_ASK_NONE; /* the dialog opens once per question */
    bool done = j->w.phase == UI_WORKER_DONE;
    pthread_mutex_unlock(&j->w.mu);
    if (ask == JOB_ASK_CONFIRM) {
        /* The worker is parked until confirm_answer: its summary (and card) is stable. */
        const char *lines[64];
        size_t n = 0;
        char title[160], what[48];
        if (j->r.bridge)
            snprintf(what, sizeof what, "the mint of bridge %lld", (long long)j->r.bridge);
        else if (j->r.bridge_proposal)
            snprintf(what, sizeof what, "for bridge proposal %lld", (long long)j->r.proposal);
        else
            snprintf(what, sizeof what, "%s", j->r.action);
        if (j->key_lent) {
            /* no passphrase was asked: the card, then the summary, and one y/N */
            n = split_lines(j->card, lines, 30);
            if (n)
                lines[n++] = "";
            snprintf(title, sizeof title,
                     "Sign %s? policy and gate passed; your key is unlocked (no passphrase)",
                     what);
        } else {
            snprintf(title, sizeof title, "Sign %s? (decoded from the signed bytes)", what);
        }
        for (char *p = j->summary; p && *p && n < 62;) {
            char *nl = strchr(p, '\n');
            if (nl)
                *nl = '\0';
            lines[n++] = p;
            p = nl ? nl + 1 : NULL;
        }
        err e;
        if (ui_confirm_open(a, title, lines, n, "Sign and send", confirm_answer, j, &e) < 0) {
            ui_message(a, UI_MSG_ERROR, "%s not sent: %s", j->r.action, e.msg);
            confirm_answer(j, false);
        }
        return UI_REDRAW;
    }
    if (ask == JOB_ASK_PASS) {
        /* The worker is parked in job_pass: its card is stable. */
        const char *lines[32];
        size_t n = split_lines(j->card, lines, 32);
        char title[64], prompt[160], esc[ADDR_STR_MAX];
        addr_to_checksum(esc, &j->r.escrow);
        if (j->r.tx)
            snprintf(title, sizeof title, "%s tx %lld: policy and gate passed", j->r.action,
                     (long long)j->r.tx_id);
        else if (j->r.bridge)
            snprintf(title, sizeof title, "mint of bridge %lld: policy and gate passed",
                     (long long)j->r.bridge);
        else if (j->r.bridge_proposal)
            snprintf(title, sizeof title, "bridge proposal %lld: policy and gate passed",
                     (long long)j->r.proposal);
        else if (j->r.create)
            snprintf(title, sizeof title, "create escrow: policy and gate passed");
        else
            snprintf(title, sizeof title, "%s escrow %.10s: policy and gate passed", j->r.action,
                     esc);
        ui_desk *d = ui_app_desk(a);
        snprintf(prompt, sizeof prompt, "Passphrase of %s's signing key: ",
                 d ? d->operator_name : "the operator");
        err e;
        if (ui_passphrase_open_card(a, title, lines, n, prompt, pass_answer, j, &e) < 0) {
            ui_message(a, UI_MSG_ERROR, "%s not signed: %s", j->r.action, e.msg);
            pass_answer(j, NULL, 0);
        }
        return UI_REDRAW;
    }
    if (!done)
        return UI_OK;
    ui_worker_join(&j->w);
    if (!j->ok && j->refused_card && j->card) {
        /* refused before any passphrase: the card and every reason, on one screen */
        const char *lines[32];
        size_t n = split_lines(j->card, lines, 30);
        lines[n++] = "";
        lines[n++] = j->result;
        char title[64];
        snprintf(title, sizeof title, "%s refused: nothing was signed", j->r.action);
        err e;
        if (ui_confirm_open(a, title, lines, n, "OK", refused_seen, NULL, &e) < 0)
            LOG_W("ui", "%s", e.msg);
    }
    ui_message(a, j->ok ? UI_MSG_INFO : UI_MSG_ERROR, "%s", j->result);
    job_release_key(j);
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
    ui_worker_cancel(&j->w); /* a question parked or to come is answered "no" */
    ui_worker_join(&j->w);
    job_release_key(j);
    cur = NULL;
    job_free(&j);
}

/* Starts the request at once: the desk checks, evaluates the policy and the gate, and
 * asks for the passphrase (under the approval card) only when all of them passed. */
static unsigned request_start(ui_app *a, const job_req *r, const char *what)
{
    ui_desk *d = ui_app_desk(a);
    if (!d) {
        ui_message(a, UI_MSG_ERROR, "no desk is open: start `fusion ui` with a desk home");
        return UI_REDRAW;
    }
    if (cur) {
        ui_message(a, UI_MSG_ERROR, "another escrow action is still running: wait for its result");
        return UI_REDRAW;
    }
    err e;
    if (job_begin(a, r, NULL, 0, &e) < 0)
        ui_message(a, UI_MSG_ERROR, "%s not started: %s", r->action, e.msg);
    else if (r->tx && strcmp(r->action, "check") == 0)
        ui_message(a, UI_MSG_INFO, "check: looking at every transaction in flight...");
    else if (r->bridge)
        ui_message(a, UI_MSG_INFO,
                   "%s: fetching the attestation; the mint passes the policy and the "
                   "compliance gate before anything is signed...",
                   what);
    else
        ui_message(a, UI_MSG_INFO,
                   "%s: checking the terms, the policy and the compliance gate before "
                   "anything is signed...",
                   what);
    return UI_REDRAW;
}

unsigned ui_job_request(ui_app *a, const char *action, const addr *escrow)
{
    return ui_job_request_arg(a, action, escrow, NULL);
}

unsigned ui_job_request_arg(ui_app *a, const char *action, const addr *escrow, const char *arg)
{
    job_req r;
    req_act(&r, action, escrow, arg);
    char what[64], esc[ADDR_STR_MAX];
    addr_to_checksum(esc, escrow);
    snprintf(what, sizeof what, "%s %.10s", action, esc);
    return request_start(a, &r, what);
}

unsigned ui_job_request_proposal(ui_app *a, int64_t id, bool bridge)
{
    job_req r;
    memset(&r, 0, sizeof r);
    snprintf(r.action, sizeof r.action, "accept");
    r.create = !bridge;
    r.proposal = id;
    r.bridge_proposal = bridge;
    char what[64];
    snprintf(what, sizeof what, "accept proposal %lld", (long long)id);
    return request_start(a, &r, what);
}

unsigned ui_job_request_create(ui_app *a, const char *chain, const desk_create_req *r)
{
    job_req q;
    req_create(&q, chain, r);
    return request_start(a, &q, "create");
}

unsigned ui_job_request_bridge(ui_app *a, int64_t id)
{
    job_req r;
    memset(&r, 0, sizeof r);
    snprintf(r.action, sizeof r.action, "resume");
    r.bridge = id;
    char what[64];
    snprintf(what, sizeof what, "resume bridge %lld", (long long)id);
    return request_start(a, &r, what);
}

unsigned ui_job_request_tx(ui_app *a, const char *action, int64_t id)
{
    job_req r;
    memset(&r, 0, sizeof r);
    snprintf(r.action, sizeof r.action, "%s", action);
    r.tx = true;
    r.tx_id = id;
    char what[64];
    if (strcmp(action, "check") == 0)
        snprintf(what, sizeof what, "check");
    else
        snprintf(what, sizeof what, "%s of tx %lld", action, (long long)id);
    return request_start(a, &r, what);
}
