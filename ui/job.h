/* job.h: one escrow action of the operator, run by the desk service (src/desk) on a
 * worker thread so that building, signing, sending and the receipt wait never block the
 * UI loop. The worker never touches curses: when the desk asks for the confirmation it
 * parks the pre-sign summary here and wakes the loop (UI_TOPIC_JOBS); the loop shows it in
 * the confirm dialog and hands the answer back. One job at a time per UI. */
#ifndef FUSION_UI_JOB_H
#define FUSION_UI_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/address.h"
#include "screen.h"

/* Starts action ("fund", "approve", "release", "refund", "dispute", "resolve") on escrow as the
 * desk's operator, signing with passphrase (copied, wiped after use). Fails (ERR_STATE)
 * while another job runs. */
int ui_job_start(ui_app *a, const char *action, const addr *escrow, const char *pass,
                 size_t pass_len, err *e) __attribute__((warn_unused_result));
/* Asks for the operator's passphrase (the no-echo prompt), then starts the job; every
 * outcome is a message. Returns UI_* flags. */
unsigned ui_job_request(ui_app *a, const char *action, const addr *escrow);
/* The same with the action's argument (resolve: "payee" or "payer"; NULL: none). */
unsigned ui_job_request_arg(ui_app *a, const char *action, const addr *escrow, const char *arg);
/* The same for a new escrow on chain (a name; NULL: the only chain): r is copied (its
 * token and amount strings too). */
struct desk_create_req;
unsigned ui_job_request_create(ui_app *a, const char *chain, const struct desk_create_req *r);
/* The same for the outbound transactions: "speedup" or "cancel" of transaction id (its
 * passphrase asked once the policy and the gate passed again), or "check" of every
 * transaction in flight (id unused). */
unsigned ui_job_request_tx(ui_app *a, const char *action, int64_t id);

/* Resumes bridge transfer id (fusion bridge resume ID): the attestation fetched, the mint
 * signed through the desk (passphrase after the checks, summary, y/N); a transfer with
 * nothing left to do is said so, nothing signed. */
unsigned ui_job_request_bridge(ui_app *a, int64_t id);
/* Accepts API proposal id: the desk's pipeline creates the escrow or makes the payment it
 * asks for, as the operator (passphrase asked, summary confirmed), the proposal accepted with
 * it; a bridge proposal (bridge) is sent by the bridge service the same way, then its
 * attestation fetched and its mint signed as a resume does. */
unsigned ui_job_request_proposal(ui_app *a, int64_t id, bool bridge);
/* Loop side, after a UI_TOPIC_JOBS wake: opens the confirm dialog when the worker waits
 * for it, puts the result on the message line when it finished. Returns UI_* flags. */
unsigned ui_job_poll(ui_app *a);
/* Jobs in flight (0 or 1): the quit question counts them. */
size_t ui_job_pending(void);
/* Waits for a running job (denying a pending confirmation) and frees it. */
void ui_job_shutdown(void);

#endif
