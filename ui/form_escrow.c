/* form_escrow.c: the new-escrow form of the Escrows screen (key n). The fields are those
 * of `fusion escrow create` (chain, payee, asset, amount, approvers, threshold, deadline,
 * arbiter; an empty arbiter is the desk's default, as in the CLI). Each field is checked
 * against the desk database as it is left (src/desk/escrow_input.h: no network); on
 * submit the operator's passphrase is asked and the create job runs like every other
 * escrow action (job.h): pre-sign summary in the confirm dialog, sent on y only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "base/amount.h"
#include "desk.h"
#include "desk/desk.h"
#include "desk/escrow_input.h"
#include "form.h"
#include "job.h"

enum { F_CHAIN, F_PAYEE, F_ASSET, F_AMOUNT, F_APPROVERS, F_THRESHOLD, F_DEADLINE, F_ARBITER, N_F };

/* One form at a time: its initial texts and the desk it checks against. */
static struct {
    ui_app *app;
    ui_desk *desk;
    char chain[STORE_NAME_MAX];
    char native[STORE_SYMBOL_MAX];
    ui_form_field fields[N_F];
} fe;

static store *db(void)
{
    return desk_snap_store(fe.desk->snap);
}

static int chain_of(const ui_form *f, store_chain *ch, err *e)
{
    bool found = false;
    const char *name = ui_form_value(f, F_CHAIN);
    if (store_chain_find_name(db(), name, ch, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no chain \"%s\" on this desk (screen 7 lists them)",
                       name);
    return 0;
}

/* The approvers field: comma-separated addresses or operator names. */
static int approvers_of(const char *text, addr *out, unsigned *n, err *e)
{
    char list[UI_FORM_VALUE_MAX];
    snprintf(list, sizeof list, "%s", text);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        size_t l = strlen(t);
        while (l > 0 && t[l - 1] == ' ')
            t[--l] = '\0';
        if (*n == STORE_MAX_APPROVERS)
            return err_set(e, ERR_INVALID, "at most %d approvers", STORE_MAX_APPROVERS);
        if (desk_party_parse(db(), t, &out[*n], e) < 0)
            return -1;
        for (unsigned k = 0; k < *n; k++)
            if (addr_equal(&out[k], &out[*n]))
                return err_set(e, ERR_INVALID, "\"%s\" is listed twice", t);
        (*n)++;
    }
    if (*n == 0)
        return err_set(e, ERR_INVALID, "name at least one approver (operators or addresses, "
                                       "comma-separated)");
    return 0;
}

static int threshold_of(const char *text, unsigned *out, err *e)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (!text[0] || *end || text[0] == '-' || v == 0 || v > STORE_MAX_APPROVERS)
        return err_set(e, ERR_INVALID, "a number from 1 to the number of approvers");
    *out = (unsigned)v;
    return 0;
}

static int field_check(const ui_form *f, size_t i, const char *text, err *e)
{
    store_chain ch;
    addr a, list[STORE_MAX_APPROVERS];
    unsigned n, thr, dec;
    bool known;
    uint64_t deadline;
    u256 amount;
    switch (i) {
    case F_CHAIN:
        return chain_of(f, &ch, e);
    case F_PAYEE:
        return desk_party_parse(db(), text, &a, e);
    case F_ASSET:
        if (chain_of(f, &ch, e) < 0)
            return err_set(e, ERR_INVALID, "fix the chain first");
        return desk_asset_lookup(db(), ch.chain_id, text, &a, &dec, &known, e);
    case F_AMOUNT:
        if (chain_of(f, &ch, e) < 0 ||
            desk_asset_lookup(db(), ch.chain_id, ui_form_value(f, F_ASSET), &a, &dec, &known, e) <
                0)
            return err_set(e, ERR_INVALID, "fix the asset first");
        /* A token the desk has no decimals for is asked when the escrow is built. */
        if (amount_parse(&amount, text, known ? dec : AMOUNT_MAX_DECIMALS, e) < 0)
            return -1;
        if (u256_is_zero(&amount))
            return err_set(e, ERR_INVALID, "the amount must be more than 0");
        return 0;
    case F_APPROVERS:
        return approvers_of(text, list, &n, e);
    case F_THRESHOLD:
        if (threshold_of(text, &thr, e) < 0)
            return -1;
        if (approvers_of(ui_form_value(f, F_APPROVERS), list, &n, e) == 0 && thr > n)
            return err_set(e, ERR_INVALID, "%u is more than the %u approver%s", thr, n,
                           n == 1 ? "" : "s");
        return 0;
    case F_DEADLINE:
        return desk_deadline_parse(text, (uint64_t)time(NULL), &deadline, e);
    case F_ARBITER:
        return text[0] ? desk_party_parse(db(), text, &a, e) : 0;
    default:
        return 0;
    }
}

static bool check(void *arg, const ui_form *f, size_t field, const char *text, char *why,
                  size_t cap)
{
    (void)arg;
    err e;
    err_clear(&e);
    if (field_check(f, field, text, &e) == 0)
        return true;
    snprintf(why, cap, "%s", e.msg);
    return false;
}

static unsigned done(void *arg, const ui_form *f)
{
    (void)arg;
    if (!f) {
        ui_message(fe.app, UI_MSG_INFO, "new escrow cancelled: nothing was signed");
        return UI_REDRAW;
    }
    desk_create_req r;
    memset(&r, 0, sizeof r);
    err e;
    err_clear(&e);
    r.token = ui_form_value(f, F_ASSET);
    r.amount = ui_form_value(f, F_AMOUNT);
    const char *arb = ui_form_value(f, F_ARBITER);
    /* Every field passed its check a moment ago; read them again the same way. */
    if (desk_party_parse(db(), ui_form_value(f, F_PAYEE), &r.payee, &e) < 0 ||
        approvers_of(ui_form_value(f, F_APPROVERS), r.approvers, &r.n_approvers, &e) < 0 ||
        threshold_of(ui_form_value(f, F_THRESHOLD), &r.threshold, &e) < 0 ||
        desk_deadline_parse(ui_form_value(f, F_DEADLINE), (uint64_t)time(NULL), &r.deadline,
                            &e) < 0 ||
        (arb[0] && desk_party_parse(db(), arb, &r.arbiter, &e) < 0)) {
        ui_message(fe.app, UI_MSG_ERROR, "new escrow not created: %s", e.msg);
        return UI_REDRAW;
    }
    r.has_arbiter = arb[0] != '\0';
    return ui_job_request_create(fe.app, ui_form_value(f, F_CHAIN), &r);
}

unsigned ui_form_escrow_open(ui_app *a)
{
    ui_desk *d = ui_app_desk(a);
    if (!d) {
        ui_message(a, UI_MSG_ERROR, "no desk is open: start `fusion ui` with a desk home");
        return UI_REDRAW;
    }
    fe.app = a;
    fe.desk = d;
    fe.chain[0] = fe.native[0] = '\0';
    store_chain *cs = NULL;
    size_t n = 0;
    err e;
    err_clear(&e);
    if (store_chain_list(db(), &cs, &n, &e) == 0 && n > 0) {
        snprintf(fe.chain, sizeof fe.chain, "%s", cs[0].name);
        snprintf(fe.native, sizeof fe.native, "%s", cs[0].native_symbol);
    }
    free(cs);
    fe.fields[F_CHAIN] = (ui_form_field){"Chain", fe.chain, "the chain's name (screen 7)"};
    fe.fields[F_PAYEE] =
        (ui_form_field){"Payee", NULL, "who is paid on release: 0x address, operator or entity name"};
    fe.fields[F_ASSET] =
        (ui_form_field){"Asset", fe.native, "native symbol, a token symbol, or its address"};
    fe.fields[F_AMOUNT] = (ui_form_field){"Amount", NULL, "in token units, e.g. 1.5 (exact)"};
    fe.fields[F_APPROVERS] =
        (ui_form_field){"Approvers", NULL, "operators or addresses, comma-separated"};
    fe.fields[F_THRESHOLD] = (ui_form_field){"Threshold", "1", "approvals needed to release"};
    fe.fields[F_DEADLINE] =
        (ui_form_field){"Deadline", "7d", "7d, 12h, 30m, a unix time or YYYY-MM-DDTHH:MM:SSZ"};
    fe.fields[F_ARBITER] =
        (ui_form_field){"Arbiter", NULL, "empty: the desk's default arbiter (as the CLI)"};
    if (ui_form_open(a, "New escrow", fe.fields, N_F, check, done, NULL, &e) < 0)
        ui_message(a, UI_MSG_ERROR, "new escrow: %s", e.msg);
    return UI_REDRAW;
}

/* ---- resolve ---- */

static struct {
    ui_app *app;
    addr escrow;
    ui_form_field field;
} fr;

static bool resolve_check(void *arg, const ui_form *f, size_t field, const char *text, char *why,
                          size_t cap)
{
    (void)arg;
    (void)f;
    (void)field;
    if (strcmp(text, "payee") == 0 || strcmp(text, "payer") == 0)
        return true;
    snprintf(why, cap, "type payee (release to the payee) or payer (refund the payer)");
    return false;
}

static unsigned resolve_done(void *arg, const ui_form *f)
{
    (void)arg;
    if (!f) {
        ui_message(fr.app, UI_MSG_INFO, "resolve cancelled: nothing was signed");
        return UI_REDRAW;
    }
    return ui_job_request_arg(fr.app, "resolve", &fr.escrow, ui_form_value(f, 0));
}

unsigned ui_form_resolve_open(ui_app *a, const addr *escrow)
{
    fr.app = a;
    fr.escrow = *escrow;
    fr.field = (ui_form_field){"To", "payee", "payee: release to the payee; payer: refund"};
    char title[64], esc[ADDR_STR_MAX];
    addr_to_checksum(esc, escrow);
    snprintf(title, sizeof title, "resolve escrow %.10s", esc);
    err e;
    if (ui_form_open(a, title, &fr.field, 1, resolve_check, resolve_done, NULL, &e) < 0)
        ui_message(a, UI_MSG_ERROR, "resolve: %s", e.msg);
    return UI_REDRAW;
}
