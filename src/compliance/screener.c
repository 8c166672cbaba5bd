/* screener.c: automatic screening for the process that syncs the desk. It loads the lists,
 * prices and rule configuration once, and runs from the sync engine's after-commit hook on
 * the chain thread's own connection: new escrows are screened, the hits of escrows a reorg
 * removed are marked, never deleted (their cases get a note), and overdue cases raise SLA
 * alerts. */
#include "compliance/compliance.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/file.h"
#include "base/log.h"
#include "compliance/internal.h"
#include "risk/service.h" /* risk_data_file: the shipped data files */

struct compliance_screener {
    pthread_mutex_t mu; /* one pass at a time: the screen_ctx and the windows are shared */
    atomic_int dirty;   /* a hook call arrived while a pass was running */
    /* the screening thread (compliance_screener_start): woken by the hook */
    pthread_mutex_t tmu;
    pthread_cond_t tcv;
    bool kick, stop, started; /* guarded by tmu */
    pthread_t tid;
    store *db; /* the thread's own connection */
    const store_book_reader *book_rd; /* the book db reads the escrows from (NULL: desk.db) */
    char *book_url;
    char home[PATH_MAX];
    compliance_config cfg;
    compliance_sanctions_decision decision; /* on record when the screener was made */
    screen_ctx *ctx;
    bool file_prices;
    compliance_prices prices;
    char prices_source[PATH_MAX + 64];
    compliance_screen_stats totals; /* guarded by mu */
    /* the list files, for rebuilding the lists when a new version is imported */
    char manifest[PATH_MAX], desk_list[PATH_MAX + 32], fatf[PATH_MAX];
    int64_t lists_seen; /* the newest imported list version in ctx (0: none) */
    /* A book on a server: its escrows' version (store_book_escrows_version) read before
     * the last complete pass over them, and the list version that pass screened with
     * (book_seen false: none yet, or the last one failed). */
    bool book_seen;
    int64_t book_count, book_feed, book_lists;
    bool desk_list_own; /* desk_list is the home's desk-sanctions.txt (a signed file) */
    struct file_sig_s {
        bool exists;
        ino_t ino;
        off_t size;
        struct timespec mtime;
    } sigs[2]; /* compliance.conf and desk-sanctions.txt as an action screener read them */
};

/* path = default when it is readable, else NULL (optional desk files). */
static const char *optional(char *buf, size_t cap, const char *home, const char *name)
{
    snprintf(buf, cap, "%s/%s", home, name);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

/* The desk's own list as a compliance officer last signed it (`fusion config sign
 * sanctions`): an address taken off it (or the file removed) by an edit nobody signed would
 * let money go to it without a trace, so the desk does not screen with such a list. A home
 * without desk.db (no desk) has nothing signed. path NULL: the file is missing. */
static int desk_list_check(const char *home, const char *path, err *e)
{
    char db[PATH_MAX + 32];
    snprintf(db, sizeof db, "%s/desk.db", home);
    if (access(db, F_OK) != 0)
        return 0;
    char *text = NULL;
    size_t len = 0;
    if (path && file_read_all(path, (size_t)64 << 20, "a desk sanctions list", &text, &len, e) < 0)
        return -1;
    int rc = audit_config_check(home, "sanctions", text ? text : "", len, path != NULL, NULL, 0,
                                e);
    free(text);
    return rc;
}

/* action_only: the rules screened before a desk action (no amount or window rules). */
static int screener_new(compliance_screener **out, const char *home,
                        const compliance_sources *src, bool action_only, err *e)
{
    *out = NULL;
    compliance_sources none = {0};
    if (!src)
        src = &none;
    compliance_screener *scr = calloc(1, sizeof *scr);
    if (!scr)
        return err_set(e, ERR_NOMEM, "out of memory starting the screener");
    pthread_mutex_init(&scr->mu, NULL);
    pthread_mutex_init(&scr->tmu, NULL);
    pthread_cond_init(&scr->tcv, NULL);
    snprintf(scr->home, sizeof scr->home, "%s", home);
    char manifest[PATH_MAX], fatf[PATH_MAX], desk[PATH_MAX + 32], prices[PATH_MAX + 32],
        conf[PATH_MAX + 32];
    const char *lists = src->lists, *fatf_path = src->fatf;
    const char *desk_path = src->desk_list ? src->desk_list
                                           : optional(desk, sizeof desk, home, "desk-sanctions.txt");
    const char *prices_path =
        src->prices ? src->prices : optional(prices, sizeof prices, home, "prices.csv");
    const char *conf_path =
        src->config ? src->config : optional(conf, sizeof conf, home, "compliance.conf");
    compliance_config_default(&scr->cfg);
    if (!lists) {
        if (risk_data_file("sanctions/manifest.txt", manifest, sizeof manifest, e) < 0)
            goto fail;
        lists = manifest;
    }
    if (!fatf_path) {
        if (risk_data_file("compliance/fatf-jurisdictions.csv", fatf, sizeof fatf, e) < 0)
            goto fail;
        fatf_path = fatf;
    }
    if (conf_path && compliance_config_load(&scr->cfg, conf_path, e) < 0)
        goto fail;
    /* sanctions.enabled = no counts only with an officer's signed decision on record. */
    char desk_db[PATH_MAX + 32];
    snprintf(desk_db, sizeof desk_db, "%s/desk.db", home);
    if (compliance_config_allowed(&scr->cfg, conf_path, desk_db, &scr->decision, e) < 0)
        goto fail;
    screen_config rules = scr->cfg.rules;
    if (action_only) {
        rules.jurisdiction.on = rules.large.on = false;
        rules.structuring.on = rules.velocity.on = false;
        rules.window_kinds = 0;
        prices_path = NULL;
    }
    /* checked before and after the load: the list loaded is the one signed */
    scr->desk_list_own = !src->desk_list;
    if (scr->desk_list_own && desk_list_check(home, desk_path, e) < 0)
        goto fail;
    if (screen_load_cfg(&scr->ctx, lists, desk_path, fatf_path, &rules, e) < 0)
        goto fail;
    if (scr->desk_list_own && desk_list_check(home, desk_path, e) < 0)
        goto fail;
    snprintf(scr->manifest, sizeof scr->manifest, "%s", lists);
    snprintf(scr->desk_list, sizeof scr->desk_list, "%s", desk_path ? desk_path : "");
    snprintf(scr->fatf, sizeof scr->fatf, "%s", fatf_path);
    bool home_prices = false;
    if (!action_only && !src->prices) {
        /* the home's price file: the one a compliance officer signed (or none, unless a
         * signed one was deleted) */
        if (compliance_prices_load_home(&scr->prices, home, &home_prices, e) < 0)
            goto fail;
    }
    if (prices_path && (src->prices || home_prices)) {
        if (src->prices && compliance_prices_load(&scr->prices, prices_path, e) < 0)
            goto fail;
        scr->file_prices = true;
        snprintf(scr->prices_source, sizeof scr->prices_source, "%s", prices_path);
    } else {
        snprintf(scr->prices_source, sizeof scr->prices_source, "oracle");
    }
    *out = scr;
    return 0;
fail:
    compliance_screener_free(&scr);
    return -1;
}

int compliance_screener_new(compliance_screener **out, const char *home,
                            const compliance_sources *src, err *e)
{
    return screener_new(out, home, src, false, e);
}

void compliance_screener_free(compliance_screener **p)
{
    if (!*p)
        return;
    compliance_screener *scr = *p;
    compliance_screener_stop(scr);
    free(scr->book_url);
    screen_ctx_free(&scr->ctx);
    compliance_prices_free(&scr->prices);
    pthread_cond_destroy(&scr->tcv);
    pthread_mutex_destroy(&scr->tmu);
    pthread_mutex_destroy(&scr->mu);
    free(scr);
    *p = NULL;
}

const compliance_config *compliance_screener_config(const compliance_screener *scr)
{
    return &scr->cfg;
}

const compliance_sanctions_decision *compliance_screener_decision(const compliance_screener *scr)
{
    return &scr->decision;
}

const screen_ctx *compliance_screener_ctx(const compliance_screener *scr)
{
    return scr->ctx;
}

const char *compliance_screener_prices_source(const compliance_screener *scr)
{
    return scr->prices_source;
}

void compliance_screener_totals(compliance_screener *scr, compliance_screen_stats *out)
{
    pthread_mutex_lock(&scr->mu);
    *out = scr->totals;
    pthread_mutex_unlock(&scr->mu);
}

/* Notes on each case that its escrow left (vanished, or was replaced by another escrow at
 * the same address), with an audit row; inside the caller's transaction. */
static int note_cases(store *s, const compliance_actor *a, const int64_t *ids, size_t n,
                      const char *action, const char *note, err *e)
{
    char audit_action[64];
    snprintf(audit_action, sizeof audit_action, "case.%s", action);
    for (size_t i = 0; i < n; i++) {
        store_case_event ev = {.case_id = ids[i], .at = a->now};
        snprintf(ev.operator_name, sizeof ev.operator_name, "%s", a->operator_name);
        snprintf(ev.action, sizeof ev.action, "%s", action);
        snprintf(ev.note, sizeof ev.note, "%s", note);
        json_t *d = json_pack("{s:I}", "case", (json_int_t)ids[i]);
        int rc = store_case_event_add(s, &ev, e);
        if (rc == 0)
            rc = store_audit(s, a->home, a->operator_name, audit_action, d, e);
        json_decref(d);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Reorgs: the screened marks are a projection of the escrows, the hits are evidence. The
 * hits of vanished escrows, and of an escrow a reorg replaced by another at the same
 * address (which is then screened afresh), are marked, never deleted; the cases stay
 * (human work) with a note saying what happened. A hit of a create the gate refused names
 * no escrow and is no reorg's business. */
static int sweep_vanished(store *s, const compliance_actor *a, err *e)
{
    if (store_begin(s, e) < 0)
        return -1;
    int64_t *ids = NULL, *rids = NULL;
    size_t n = 0, dropped = 0, nr = 0, rdropped = 0;
    if (store_screening_orphans(s, &ids, &n, &dropped, e) < 0 ||
        note_cases(s, a, ids, n, "escrow_vanished",
                   "the escrow left the canonical chain (reorg): its screening hits are "
                   "marked as such and kept as evidence; the case stays for review",
                   e) < 0 ||
        store_screening_replaced(s, &rids, &nr, &rdropped, e) < 0 ||
        note_cases(s, a, rids, nr, "escrow_replaced",
                   "a reorg put another escrow at this address: the hits of the one screened "
                   "before are marked (kept as evidence) and the new one is screened afresh; "
                   "the case stays for review",
                   e) < 0)
        goto fail;
    free(ids);
    free(rids);
    if (store_commit(s, e) < 0) {
        store_rollback(s);
        return -1;
    }
    if (n || dropped)
        LOG_W("compliance", "reorg: %zu screening hits of vanished escrows marked, %zu cases noted",
              dropped, n);
    if (nr || rdropped)
        LOG_W("compliance",
              "reorg: %zu screening hits of replaced escrows marked, %zu cases noted; the "
              "escrows now at those addresses are screened again",
              rdropped, nr);
    return 0;
fail:
    free(ids);
    free(rids);
    store_rollback(s);
    return -1;
}

int compliance_sla_alerts(store *s, int64_t now, size_t *raised, size_t *cleared, err *e)
{
    store_case_filter f = {.open_only = true, .due_before = now};
    store_case *cs = NULL;
    size_t n = 0;
    if (store_case_list(s, &f, &cs, &n, e) < 0)
        return -1;
    store_alert_cond *conds = calloc(n ? n : 1, sizeof *conds);
    if (!conds) {
        free(cs);
        return err_set(e, ERR_NOMEM, "out of memory listing overdue cases");
    }
    for (size_t i = 0; i < n; i++) {
        const store_case *c = &cs[i];
        store_alert_cond *k = &conds[i];
        snprintf(k->key, sizeof k->key, "case:%lld:sla", (long long)c->id);
        snprintf(k->kind, sizeof k->kind, "case_sla");
        k->severity = c->priority == 1 ? ALERT_CRITICAL : ALERT_WARNING;
        long long late = (long long)((now - c->due_at) / 60);
        snprintf(k->message, sizeof k->message,
                 "compliance case #%lld (%s priority, %s) is %lldh%02lldm past its SLA: "
                 "fusion case take %lld",
                 (long long)c->id, compliance_priority_name(c->priority),
                 c->assignee[0] ? c->assignee : "unassigned", late / 60, late % 60,
                 (long long)c->id);
        k->value = (double)(now - c->due_at) / 3600.0;
        k->limit = 0;
    }
    int rc = store_alert_sync_scope(s, "case:", conds, n, now, raised, cleared, e);
    free(conds);
    free(cs);
    return rc;
}

/* Entities looked up in the store, address by address (no registry load per action). */
typedef struct store_lookup {
    store *s;
    store_entity ents[4];
    screen_entity sents[4];
    screen_link links[4];
    size_t n;
} store_lookup;

static screen_kyc kyc_of(const char *s)
{
    return !strcmp(s, "verified")   ? SCREEN_KYC_VERIFIED
           : !strcmp(s, "rejected") ? SCREEN_KYC_REJECTED
           : !strcmp(s, "expired")  ? SCREEN_KYC_EXPIRED
                                    : SCREEN_KYC_PENDING;
}

static const screen_entity *lookup_store(void *user, uint64_t chain_id, const addr *a)
{
    store_lookup *l = user;
    int64_t id = 0;
    bool found = false;
    err e;
    if (l->n == 4 || store_entity_find_addr(l->s, chain_id, a, &id, &e) < 0 || id == 0)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        if (l->sents[i].id == id)
            return &l->sents[i];
    store_entity *x = &l->ents[l->n];
    if (store_entity_get(l->s, id, x, &found, &e) < 0 || !found)
        return NULL;
    screen_entity *se = &l->sents[l->n];
    l->links[l->n] = (screen_link){.chain_id = chain_id, .address = *a};
    *se = (screen_entity){.id = id, .name = x->name, .kyc = kyc_of(x->kyc),
                          .kyc_expires = SCREEN_NO_DATE, .links = &l->links[l->n], .n_links = 1};
    if (x->kyc_expires[0] && screen_date_parse(&se->kyc_expires, x->kyc_expires, NULL) < 0)
        se->kyc_expires = SCREEN_NO_DATE;
    memcpy(se->jurisdiction, x->jurisdiction, 3);
    l->n++;
    return se;
}

/* Swaps in the lists of the current imported versions when one was imported since. */
static int lists_refresh(compliance_screener *scr, store *conn, err *e)
{
    store_list_version *vs = NULL;
    size_t n = 0;
    if (store_list_versions(conn, NULL, true, &vs, &n, e) < 0)
        return -1;
    int64_t newest = 0;
    for (size_t i = 0; i < n; i++)
        if (vs[i].id > newest)
            newest = vs[i].id;
    free(vs);
    if (newest == scr->lists_seen)
        return 0;
    screen_sanctions *sanc = NULL;
    screen_fatf *fatf = NULL;
    const char *own = scr->desk_list[0] ? scr->desk_list : NULL;
    if (scr->desk_list_own && desk_list_check(scr->home, own, e) < 0)
        return -1;
    if (compliance_lists_build(conn, scr->manifest, scr->desk_list[0] ? scr->desk_list : NULL,
                               scr->fatf, &sanc, &fatf, &newest, e) < 0)
        return -1;
    screen_ctx_set_sanctions(scr->ctx, &sanc);
    screen_ctx_set_fatf(scr->ctx, &fatf);
    scr->lists_seen = newest;
    return 0;
}

int compliance_screener_refresh_lists(compliance_screener *scr, store *conn, err *e)
{
    pthread_mutex_lock(&scr->mu);
    int rc = lists_refresh(scr, conn, e);
    pthread_mutex_unlock(&scr->mu);
    return rc;
}

/* The desk's own accounts (own.exempt): the operators' keys, and every address of an
 * entity one of whose addresses is an operator's key (the desk's own entity). */
int compliance_own_accounts(store *s, const compliance_config *cfg, screen_ctx *ctx, err *e)
{
    screen_ctx_own_clear(ctx);
    if (!cfg->own_exempt)
        return 0;
    store_operator *ops = NULL;
    store_entity_link *ls = NULL;
    size_t no = 0, nl = 0;
    int rc = -1;
    if (store_operator_list(s, &ops, &no, e) < 0 || store_entity_links(s, 0, &ls, &nl, e) < 0)
        goto out;
    for (size_t i = 0; i < no; i++)
        if (screen_ctx_own_add(ctx, &ops[i].address, e) < 0)
            goto out;
    for (size_t i = 0; i < nl; i++) {
        bool own_entity = false;
        for (size_t k = 0; k < no && !own_entity; k++)
            for (size_t j = 0; j < nl && !own_entity; j++)
                own_entity = ls[j].entity_id == ls[i].entity_id &&
                             addr_equal(&ls[j].address, &ops[k].address);
        if (own_entity && screen_ctx_own_add(ctx, &ls[i].address, e) < 0)
            goto out;
    }
    rc = 0;
out:
    free(ops);
    free(ls);
    return rc;
}

#define INFLOW_RESCREEN_DAYS 90 /* inflows a list update re-screens */

/* Screens one inflow: its sender as the payer of a transfer to the desk (sanctions, prior
 * hit, unknown counterparty, KYC, jurisdiction); only_sanctions for a list update. The
 * case is per sender and desk account (the recipient stands in the escrow's place) and
 * the evidence names the transfer. Inside the caller's transaction. */
static int screen_inflow(compliance_screener *scr, store *conn, const compliance_actor *a,
                         const store_inflow *f, bool only_sanctions, compliance_screen_stats *st,
                         err *e)
{
    if (screen_ctx_is_own(scr->ctx, &f->sender))
        return 0; /* the desk moving its own money */
    screen_input in = {.kind = only_sanctions ? SCREEN_KIND_LIST_UPDATE : SCREEN_KIND_INFLOW,
                       .chain_id = f->chain_id, .payer = f->sender, .payee = f->recipient,
                       .token = f->token, .amount = f->amount,
                       .usd_estimate = SCREEN_USD_UNKNOWN,
                       .timestamp = (uint64_t)(f->block_time > 0 ? f->block_time : a->now)};
    memset(&in.escrow, 0, sizeof in.escrow);
    store_lookup lk = {.s = conn};
    screen_entities ents = {.lookup = lookup_store, .user = &lk};
    screen_hit hits[SCREEN_HITS_MAX];
    size_t nh = 0, k = 0;
    if (screen_event(scr->ctx, &ents, &in, hits, SCREEN_HITS_MAX, &nh, e) < 0)
        return -1;
    if (nh > SCREEN_HITS_MAX)
        nh = SCREEN_HITS_MAX;
    char tx[67], amt[U256_DEC_MAX], tok[ADDR_STR_MAX];
    static const char hx[] = "0123456789abcdef";
    tx[0] = '0';
    tx[1] = 'x';
    for (size_t i = 0; i < 32; i++) {
        tx[2 + 2 * i] = hx[f->tx_hash[i] >> 4];
        tx[3 + 2 * i] = hx[f->tx_hash[i] & 15];
    }
    tx[66] = '\0';
    u256_to_dec(amt, &f->amount);
    if (addr_is_zero(&f->token))
        snprintf(tok, sizeof tok, "native coin");
    else
        addr_to_lower(tok, &f->token);
    for (size_t j = 0; j < nh; j++) {
        if (hits[j].role != SCREEN_ROLE_PAYER)
            continue; /* the recipient is the desk; the token is screened with escrows */
        if (only_sanctions && hits[j].rule != SCREEN_RULE_SANCTIONS)
            continue;
        screen_hit h = hits[j];
        char ev[SCREEN_EVIDENCE_MAX];
        /* the amount and token are the inflow row's (by tx hash); the hit's own line is cut
         * to fit */
        snprintf(ev, sizeof ev, COMPLIANCE_INFLOW_EVIDENCE "%s (block %llu) of %.40s base units of %.42s: %.100s",
                 tx, (unsigned long long)f->block_number, amt, tok, hits[j].evidence);
        memcpy(h.evidence, ev, sizeof h.evidence);
        hits[k++] = h;
    }
    if (!k)
        return 0;
    return screen_store_hits(conn, a, &scr->cfg, f->chain_id, &f->recipient, in.kind, hits, k, st,
                             NULL, e);
}

static int screen_inflows(compliance_screener *scr, store *conn, const compliance_actor *a,
                          compliance_screen_stats *st, err *e)
{
    store_inflow *fs = NULL;
    size_t n = 0;
    char book[STORE_INFLOW_BOOK_MAX]; /* the database they are of (their marks name it) */
    if (store_inflow_pending(conn, book, sizeof book, &fs, &n, e) < 0)
        return -1;
    if (!n) {
        free(fs);
        return 0;
    }
    int rc = -1;
    if (compliance_own_accounts(conn, &scr->cfg, scr->ctx, e) < 0 || store_begin(conn, e) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (screen_inflow(scr, conn, a, &fs[i], false, st, e) < 0 ||
            store_inflow_mark_screened(conn, book, fs[i].id, fs[i].chain_id, a->now, e) < 0) {
            store_rollback(conn);
            goto out;
        }
    if (store_commit(conn, e) < 0) {
        store_rollback(conn);
        goto out;
    }
    rc = 0;
out:
    free(fs);
    return rc;
}

/* Raises the open cases of each sanctions hit's subject keyed (chain_id, key) to high
 * priority, with a case event naming the hit. Inside the caller's transaction. */
static int raise_priority(compliance_screener *scr, store *conn, const compliance_actor *a,
                          uint64_t chain_id, const addr *key, const screen_hit *hits, size_t k,
                          err *e)
{
    for (size_t j = 0; j < k; j++) {
        char subj[STORE_SUBJECT_MAX];
        if (hits[j].entity_id)
            snprintf(subj, sizeof subj, "entity:%lld", (long long)hits[j].entity_id);
        else
            addr_to_lower(subj, &hits[j].address);
        store_case_filter f = {.subject = subj, .has_escrow = true, .chain_id = chain_id,
                               .escrow = *key, .open_only = true};
        store_case *cs = NULL;
        size_t nc = 0;
        if (store_case_list(conn, &f, &cs, &nc, e) < 0)
            return -1;
        for (size_t c = 0; c < nc; c++) {
            if (cs[c].priority == 1)
                continue;
            store_case up = cs[c];
            up.priority = 1;
            up.due_at = a->now + compliance_config_sla(&scr->cfg, 1);
            store_case_event ev = {.case_id = up.id, .at = a->now};
            snprintf(ev.operator_name, sizeof ev.operator_name, "%s", a->operator_name);
            snprintf(ev.action, sizeof ev.action, "priority");
            snprintf(ev.after, sizeof ev.after, "priority=high");
            snprintf(ev.note, sizeof ev.note, "%.300s", hits[j].evidence);
            if (store_case_update(conn, &up, e) < 0 || store_case_event_add(conn, &ev, e) < 0) {
                free(cs);
                return -1;
            }
        }
        free(cs);
    }
    return 0;
}

/* After a list update: the parties of every credit facility, the linked addresses of its
 * entity, are screened against the new lists; a sanctions hit opens or joins the case of
 * that subject and facility (chain 0 and the facility's marker as its key) at high
 * priority. Inside the caller's transaction. */
static int rescreen_facilities(compliance_screener *scr, store *conn, const compliance_actor *a,
                               compliance_screen_stats *st, err *e)
{
    store_credit_facility *fs = NULL;
    size_t nf = 0;
    if (store_credit_facility_list(conn, &fs, &nf, e) < 0)
        return -1;
    int rc = -1;
    for (size_t i = 0; i < nf; i++) {
        store_entity_link *ls = NULL;
        size_t nl = 0;
        if (!fs[i].entity_id)
            continue;
        if (store_entity_links(conn, fs[i].entity_id, &ls, &nl, e) < 0)
            goto out;
        addr key = compliance_facility_marker(fs[i].id);
        screen_hit hits[SCREEN_HITS_MAX];
        size_t k = 0;
        for (size_t l = 0; l < nl && k < SCREEN_HITS_MAX; l++) {
            screen_input in = {.kind = SCREEN_KIND_LIST_UPDATE, .chain_id = ls[l].chain_id,
                               .payer = ls[l].address, .usd_estimate = SCREEN_USD_UNKNOWN,
                               .timestamp = (uint64_t)a->now};
            store_lookup lk = {.s = conn};
            screen_entities ents = {.lookup = lookup_store, .user = &lk};
            screen_hit hs[SCREEN_HITS_MAX];
            size_t nh = 0;
            if (screen_event(scr->ctx, &ents, &in, hs, SCREEN_HITS_MAX, &nh, e) < 0) {
                free(ls);
                goto out;
            }
            if (nh > SCREEN_HITS_MAX)
                nh = SCREEN_HITS_MAX;
            for (size_t j = 0; j < nh && k < SCREEN_HITS_MAX; j++)
                if (hs[j].rule == SCREEN_RULE_SANCTIONS && hs[j].role == SCREEN_ROLE_PAYER) {
                    hits[k] = hs[j];
                    if (!hits[k].entity_id)
                        hits[k].entity_id = fs[i].entity_id; /* the facility's party */
                    char ev[SCREEN_EVIDENCE_MAX + 128];
                    snprintf(ev, sizeof ev, "%.250s (party of credit facility %.63s)",
                             hs[j].evidence, fs[i].name);
                    ev[SCREEN_EVIDENCE_MAX - 1] = '\0'; /* cut to fit */
                    memcpy(hits[k].evidence, ev, SCREEN_EVIDENCE_MAX);
                    k++;
                }
        }
        free(ls);
        if (!k)
            continue;
        if (screen_store_hits(conn, a, &scr->cfg, 0, &key, SCREEN_KIND_LIST_UPDATE, hits, k, st,
                              NULL, e) < 0 ||
            raise_priority(scr, conn, a, 0, &key, hits, k, e) < 0)
            goto out;
    }
    rc = 0;
out:
    free(fs);
    return rc;
}

/* After a list update: every party of every escrow still holding or about to hold money
 * (created, funded, disputed) is screened against the new lists; a sanctions hit joins
 * or opens the case of that subject and escrow, naming the list version, and raises an
 * open case to high priority. Then the versions are marked re-screened. */
static int rescreen_in_flight(compliance_screener *scr, store *conn, const compliance_actor *a,
                              compliance_screen_stats *st, err *e)
{
    store_list_version *vs = NULL;
    size_t nv = 0;
    if (store_list_versions(conn, NULL, true, &vs, &nv, e) < 0)
        return -1;
    bool due = false;
    for (size_t i = 0; i < nv; i++)
        if (!vs[i].rescreened_at)
            due = true;
    if (!due) {
        free(vs);
        return 0;
    }
    store_escrow *xs = NULL;
    store_inflow *ins = NULL;
    size_t nx = 0, nin = 0;
    int rc = -1;
    if (store_escrow_list(conn, 0, &xs, &nx, e) < 0)
        goto out;
    if (store_begin(conn, e) < 0)
        goto out;
    for (size_t i = 0; i < nx; i++) {
        const store_escrow *x = &xs[i];
        if (x->state != ESCROW_CREATED && x->state != ESCROW_FUNDED &&
            x->state != ESCROW_DISPUTED)
            continue;
        screen_input in = {.kind = SCREEN_KIND_LIST_UPDATE, .chain_id = x->chain_id,
                           .escrow = x->address, .payer = x->payer, .payee = x->payee,
                           .token = x->token, .amount = x->amount,
                           .usd_estimate = SCREEN_USD_UNKNOWN, .timestamp = (uint64_t)a->now};
        store_lookup lk = {.s = conn};
        screen_entities ents = {.lookup = lookup_store, .user = &lk};
        screen_hit hits[SCREEN_HITS_MAX];
        size_t nh = 0, k = 0;
        if (screen_event(scr->ctx, &ents, &in, hits, SCREEN_HITS_MAX, &nh, e) < 0)
            goto fail;
        if (nh > SCREEN_HITS_MAX)
            nh = SCREEN_HITS_MAX;
        for (size_t j = 0; j < nh; j++)
            if (hits[j].rule == SCREEN_RULE_SANCTIONS)
                hits[k++] = hits[j];
        if (!k)
            continue;
        if (screen_store_hits(conn, a, &scr->cfg, x->chain_id, &x->address, in.kind, hits, k, st,
                              NULL, e) < 0)
            goto fail;
        if (raise_priority(scr, conn, a, x->chain_id, &x->address, hits, k, e) < 0)
            goto fail;
    }
    if (rescreen_facilities(scr, conn, a, st, e) < 0 ||
        store_inflow_recent(conn, a->now - INFLOW_RESCREEN_DAYS * 86400, &ins, &nin, e) < 0)
        goto fail;
    for (size_t i = 0; i < nin; i++)
        if (screen_inflow(scr, conn, a, &ins[i], true, st, e) < 0)
            goto fail;
    for (size_t i = 0; i < nv; i++)
        if (!vs[i].rescreened_at && store_list_mark_rescreened(conn, vs[i].id, a->now, e) < 0)
            goto fail;
    if (store_commit(conn, e) < 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    store_rollback(conn);
out:
    free(ins);
    free(xs);
    free(vs);
    return rc;
}

/* A pass's steps after the escrows': the inflows, a list update's re-screening, the KYC
 * lifecycle and the alerts (desk.db's, or cheap); the caller holds scr->mu. */
static int run_rest(compliance_screener *scr, store *conn, const compliance_actor *a,
                    compliance_screen_stats *st, err *e)
{
    if (screen_inflows(scr, conn, a, st, e) < 0 || rescreen_in_flight(scr, conn, a, st, e) < 0 ||
        compliance_kyc_lifecycle(conn, a, &scr->cfg, st, e) < 0 ||
        compliance_lists_stale_alerts(conn, &scr->cfg, a->now, e) < 0)
        return -1;
    if (compliance_sla_alerts(conn, a->now, NULL, NULL, e) < 0)
        return -1;
    scr->totals.screened += st->screened;
    scr->totals.hits += st->hits;
    scr->totals.cases_opened += st->cases_opened;
    return 0;
}

/* One pass; the caller holds scr->mu. */
static int run_locked(compliance_screener *scr, store *conn, int64_t now,
                      compliance_screen_stats *st, err *e)
{
    compliance_actor a = {.home = scr->home, .operator_name = "screener", .now = now};
    memset(st, 0, sizeof *st);
    if (lists_refresh(scr, conn, e) < 0)
        return -1;
    /* A book on a server: desk.db's marks cannot be counted against its escrows in one
     * statement (store_escrow_unscreened says 1), so its escrows are read only when they
     * may have changed since the last complete pass. Every change to them moves their
     * count or their change feed's last id: the server's trigger writes a feed row for
     * each creation, each removal (a reorg's rewind, `chain add-factory`'s) and each
     * change of state, in the transaction that makes it, and feed ids commit in the order
     * they are drawn (the trigger's advisory lock, pg_schema.c), so a row committed after
     * this read has a higher id than the one read here. The version is read before the
     * pass: a change committed during it is seen by the next. A feed pruned empty reads 0,
     * another version; a new list version passes too; a server whose trigger predates the
     * lock (feed id -1: unsure) has its escrows read at every pass, as before. */
    bool on_book = false;
    int64_t book_count = 0, book_feed = 0;
    if (store_book_escrows_version(conn, &on_book, &book_count, &book_feed, e) < 0)
        return -1;
    if (on_book && book_feed >= 0 && scr->book_seen && scr->book_count == book_count &&
        scr->book_feed == book_feed && scr->book_lists == scr->lists_seen) {
        LOG_D("compliance",
              "screening pass: the book's escrows are unchanged since the last pass (%lld "
              "escrows, feed row %lld): not read again",
              (long long)book_count, (long long)book_feed);
        return run_rest(scr, conn, &a, st, e);
    }
    scr->book_seen = false;
    if (on_book)
        LOG_D("compliance", "screening pass: reading the book's escrows (%lld escrows, feed row "
              "%lld)", (long long)book_count, (long long)book_feed);
    if (sweep_vanished(conn, &a, e) < 0)
        return -1;
    size_t pending = 0;
    if (store_escrow_unscreened(conn, &pending, e) < 0)
        return -1;
    if (pending) {
        if (compliance_own_accounts(conn, &scr->cfg, scr->ctx, e) < 0)
            return -1;
        compliance_prices oracle = {0};
        const compliance_prices *prices = &scr->prices;
        if (!scr->file_prices) {
            if (compliance_prices_from_oracle(conn, &oracle, e) < 0)
                return -1;
            prices = &oracle;
        }
        int rc = screen_pending_cfg(conn, &a, scr->ctx, prices, &scr->cfg, st, e);
        compliance_prices_free(&oracle);
        if (rc < 0)
            return -1;
    }
    if (on_book) {
        scr->book_seen = true;
        scr->book_count = book_count;
        scr->book_feed = book_feed;
        scr->book_lists = scr->lists_seen;
    }
    return run_rest(scr, conn, &a, st, e);
}

int compliance_screener_run(compliance_screener *scr, store *conn, int64_t now,
                            compliance_screen_stats *stats, err *e)
{
    compliance_screen_stats local;
    pthread_mutex_lock(&scr->mu);
    int rc = run_locked(scr, conn, now, stats ? stats : &local, e);
    pthread_mutex_unlock(&scr->mu);
    return rc;
}

/* One pass after a commit, on conn; errors and results go to the log. */
static void pass_logged(compliance_screener *scr, store *conn, uint64_t chain_id)
{
    compliance_screen_stats st;
    err e;
    err_clear(&e);
    /* the wall time waits for the chain's commits too; the thread's CPU time is the work */
    struct timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    int rc = run_locked(scr, conn, (int64_t)time(NULL), &st, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    if (rc < 0)
        LOG_E("compliance", "automatic screening after a commit of chain %llu: %s",
              (unsigned long long)chain_id, e.msg);
    else if (st.screened)
        LOG_I("compliance",
              "screened %zu new escrows in %.3f s (%.3f s CPU): %zu hits, %zu cases opened",
              st.screened, secs, cpu, st.hits, st.cases_opened);
    else
        LOG_D("compliance", "screening pass: nothing new, %.3f s (%.3f s CPU)", secs, cpu);
}

static void *screener_main(void *arg)
{
    compliance_screener *scr = arg;
    pthread_mutex_lock(&scr->tmu);
    for (;;) {
        while (!scr->kick && !scr->stop)
            pthread_cond_wait(&scr->tcv, &scr->tmu);
        if (!scr->kick)
            break; /* stopping with nothing left to screen */
        scr->kick = false;
        pthread_mutex_unlock(&scr->tmu);
        pthread_mutex_lock(&scr->mu);
        pass_logged(scr, scr->db, 0);
        pthread_mutex_unlock(&scr->mu);
        pthread_mutex_lock(&scr->tmu);
    }
    pthread_mutex_unlock(&scr->tmu);
    return NULL;
}

int compliance_screener_start(compliance_screener *scr, err *e)
{
    if (scr->started)
        return 0;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/desk.db", scr->home);
    if (store_open(&scr->db, path, e) < 0)
        return -1;
    if (scr->book_rd) {
        void *conn = NULL;
        if (scr->book_rd->open(&conn, scr->book_url, e) < 0) {
            store_close(&scr->db);
            return -1;
        }
        store_set_reader(scr->db, scr->book_rd, conn);
    }
    scr->kick = scr->stop = false; /* the chain threads' first hook calls wake it */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay with the main thread */
    int rc = pthread_create(&scr->tid, NULL, screener_main, scr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        store_close(&scr->db);
        return err_set(e, ERR_INTERNAL, "cannot start the screening thread: %s", strerror(rc));
    }
    scr->started = true;
    return 0;
}

int compliance_screener_set_book(compliance_screener *scr, const store_book_reader *r,
                                 const char *url, err *e)
{
    char *u = strdup(url);
    if (!u)
        return err_set(e, ERR_NOMEM, "out of memory starting the screener");
    free(scr->book_url);
    scr->book_url = u;
    scr->book_rd = r;
    return 0;
}

void compliance_screener_stop(compliance_screener *scr)
{
    if (!scr || !scr->started)
        return;
    pthread_mutex_lock(&scr->tmu);
    scr->stop = true;
    pthread_cond_signal(&scr->tcv);
    pthread_mutex_unlock(&scr->tmu);
    pthread_join(scr->tid, NULL);
    store_close(&scr->db);
    scr->started = false;
}

void compliance_screener_after_commit(void *arg, store *conn, uint64_t chain_id)
{
    compliance_screener *scr = arg;
    if (scr->started) { /* the screening thread does it, on its own connection */
        pthread_mutex_lock(&scr->tmu);
        scr->kick = true;
        pthread_cond_signal(&scr->tcv);
        pthread_mutex_unlock(&scr->tmu);
        return;
    }
    if (scr->book_rd)
        return; /* conn is a bare desk.db: the escrows are the book's */
    atomic_store(&scr->dirty, 1);
    for (;;) {
        if (pthread_mutex_trylock(&scr->mu) != 0)
            return; /* the running pass sees dirty and goes again */
        while (atomic_exchange(&scr->dirty, 0))
            pass_logged(scr, conn, chain_id);
        pthread_mutex_unlock(&scr->mu);
        if (!atomic_load(&scr->dirty))
            return;
    }
}

/* ---- before a desk action ---- */

static screen_kind action_kind(const char *action)
{
    return !strcmp(action, "create")    ? SCREEN_KIND_DESK_CREATE
           : !strcmp(action, "fund")    ? SCREEN_KIND_DESK_FUND
           : !strcmp(action, "approve") ? SCREEN_KIND_DESK_APPROVE
           : !strcmp(action, "resolve") ? SCREEN_KIND_DESK_RESOLVE
                                        : SCREEN_KIND_DESK_RELEASE;
}

/* The case of (subject, chain, escrow) closed as cleared by the officers, if any. */
static int case_of(store *s, const char *subject, uint64_t chain_id, const addr *escrow,
                   store_case *out, bool *found, err *e)
{
    *found = false;
    store_case_filter f = {.subject = subject, .has_escrow = true, .chain_id = chain_id,
                           .escrow = *escrow};
    store_case *cs = NULL;
    size_t n = 0;
    if (store_case_list(s, &f, &cs, &n, e) < 0)
        return -1;
    if (n) {
        *out = cs[0];
        *found = true;
    }
    free(cs);
    return 0;
}

static int party_blocked(store *s, uint64_t chain_id, const char *role, const addr *a, err *e)
{
    int64_t id = 0;
    if (store_entity_find_addr(s, chain_id, a, &id, e) < 0)
        return -1;
    if (!id)
        return 0;
    store_entity x;
    bool found = false;
    if (store_entity_get(s, id, &x, &found, e) < 0)
        return -1;
    if (!found || !x.blocked)
        return 0;
    char hex[ADDR_STR_MAX];
    addr_to_checksum(hex, a);
    return err_set(e, ERR_DENIED, "refused: %s %s (entity #%lld '%.80s') is blocked by compliance",
                   role, hex, (long long)id, x.name);
}

/* What a desk file was when the screener read it (absent: exists false). */
static void file_sig(const char *path, struct file_sig_s *out)
{
    struct stat st;
    memset(out, 0, sizeof *out);
    if (!path || !*path || stat(path, &st) < 0)
        return;
    out->exists = true;
    out->ino = st.st_ino;
    out->size = st.st_size;
    out->mtime = st.st_mtim;
}

static bool file_sig_same(const struct file_sig_s *a, const struct file_sig_s *b)
{
    return a->exists == b->exists && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void sigs_take(compliance_screener *scr, struct file_sig_s sig[2])
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/compliance.conf", scr->home);
    file_sig(p, &sig[0]);
    snprintf(p, sizeof p, "%s/desk-sanctions.txt", scr->home);
    file_sig(p, &sig[1]);
}

int compliance_action_screener_new(compliance_screener **out, const char *home, err *e)
{
    if (screener_new(out, home, NULL, true, e) < 0)
        return -1;
    sigs_take(*out, (*out)->sigs);
    return 0;
}

bool compliance_screener_files_changed(compliance_screener *scr)
{
    struct file_sig_s now[2];
    sigs_take(scr, now);
    return !file_sig_same(&now[0], &scr->sigs[0]) || !file_sig_same(&now[1], &scr->sigs[1]);
}

static int screen_action_with(compliance_screener *scr, store *s, const compliance_actor *a,
                              const compliance_action *r, err *e);

int compliance_screen_action(store *s, const compliance_actor *a, const compliance_action *r,
                             err *e)
{
    compliance_screener *scr = NULL;
    err le;
    if (screener_new(&scr, a->home, NULL, true, &le) < 0)
        return err_set(e, ERR_DENIED, "refused: the %s cannot be screened: %s", r->action, le.msg);
    int rc = screen_action_with(scr, s, a, r, e);
    compliance_screener_free(&scr);
    return rc;
}

int compliance_screen_action_with(compliance_screener *scr, store *s, const compliance_actor *a,
                                  const compliance_action *r, err *e)
{
    pthread_mutex_lock(&scr->mu);
    int rc = screen_action_with(scr, s, a, r, e);
    pthread_mutex_unlock(&scr->mu);
    return rc;
}

static int screen_action_with(compliance_screener *scr, store *s, const compliance_actor *a,
                              const compliance_action *r, err *e)
{
    addr zero, payer, payee, token;
    memset(&zero, 0, sizeof zero);
    u256 amount;
    memset(&amount, 0, sizeof amount);
    token = zero;
    store_escrow x;
    memset(&x, 0, sizeof x);
    if (r->escrow) {
        bool found = false;
        if (store_escrow_get(s, r->chain_id, r->escrow, &x, &found, e) < 0)
            return -1;
        if (!found) {
            char hex[ADDR_STR_MAX];
            addr_to_checksum(hex, r->escrow);
            return err_set(e, ERR_DENIED,
                           "refused: escrow %s is not in the desk database, so its parties "
                           "cannot be screened (run fusion sync)",
                           hex);
        }
        payer = x.payer;
        payee = x.payee;
        token = x.token;
        amount = x.amount;
    } else {
        if (!r->payer || !r->payee)
            return err_set(e, ERR_INVALID, "a %s needs its payer and payee to be screened",
                           r->action);
        payer = *r->payer;
        payee = *r->payee;
        if (r->token)
            token = *r->token;
        if (r->amount)
            amount = *r->amount;
    }
    if (party_blocked(s, r->chain_id, "payer", &payer, e) < 0 ||
        party_blocked(s, r->chain_id, "payee", &payee, e) < 0)
        return -1;
    /* the lists of the desk's current imported versions (reloaded only when one was
     * imported since this screener last looked) */
    err le;
    if (lists_refresh(scr, s, &le) < 0)
        return err_set(e, ERR_DENIED, "refused: the %s cannot be screened: %s", r->action, le.msg);
    const addr *esc = r->escrow ? r->escrow : &zero;
    screen_input in = {.kind = action_kind(r->action), .chain_id = r->chain_id, .escrow = *esc,
                       .payer = payer, .payee = payee, .token = token, .amount = amount,
                       .usd_estimate = SCREEN_USD_UNKNOWN, .timestamp = (uint64_t)a->now};
    store_lookup lk = {.s = s};
    screen_entities ents = {.lookup = lookup_store, .user = &lk};
    screen_hit hits[SCREEN_HITS_MAX];
    size_t nh = 0;
    compliance_screen_stats st = {0};
    int rc = -1;
    if (screen_flag_confirmed(s, scr->ctx, e) < 0 ||
        screen_event(scr->ctx, &ents, &in, hits, SCREEN_HITS_MAX, &nh, e) < 0)
        goto out;
    if (nh > SCREEN_HITS_MAX)
        nh = SCREEN_HITS_MAX;
    if (!r->escrow) {
        /* a create records its refusals only: the synced escrow is screened in full, and
         * a case per unknown payee of every create would flood the queue */
        size_t k = 0;
        for (size_t i = 0; i < nh; i++)
            if (hits[i].rule == SCREEN_RULE_SANCTIONS)
                hits[k++] = hits[i];
        nh = k;
    }
    if (nh) {
        if (store_begin(s, e) < 0)
            goto out;
        if (screen_store_hits(s, a, &scr->cfg, r->chain_id, esc, in.kind, hits, nh, &st, NULL,
                              e) < 0 ||
            store_commit(s, e) < 0) {
            store_rollback(s);
            goto out;
        }
    }
    rc = 0;
    for (size_t i = 0; i < nh && rc == 0; i++) {
        const screen_hit *h = &hits[i];
        if (h->rule != SCREEN_RULE_SANCTIONS)
            continue;
        char subj[STORE_SUBJECT_MAX], hex[ADDR_STR_MAX];
        if (h->entity_id)
            snprintf(subj, sizeof subj, "entity:%lld", (long long)h->entity_id);
        else
            addr_to_lower(subj, &h->address);
        addr_to_checksum(hex, &h->address);
        store_case c;
        bool found = false;
        if (case_of(s, subj, r->chain_id, esc, &c, &found, e) < 0) {
            rc = -1;
            break;
        }
        if (found && !strcmp(c.state, "closed") && !strcmp(c.outcome, "cleared"))
            continue; /* the officers reviewed this hit and cleared it */
        char cs[48] = "";
        if (found)
            snprintf(cs, sizeof cs, "; compliance case #%lld", (long long)c.id);
        rc = err_set(e, ERR_DENIED, "refused: the %s's %s %s is on sanctions list %s (rule %s)%s",
                     r->action, screen_role_name(h->role), hex, h->list_version,
                     screen_rule_id(h->rule), cs);
    }
    /* the Travel Rule: a funding at or above the threshold carries both parties' data */
    if (rc == 0 && !r->escrow) {
        /* a payment: the transfer goes straight to its payee (no escrow address) */
        x.chain_id = r->chain_id;
        x.payer = payer;
        x.payee = payee;
        x.token = token;
        x.amount = amount;
    }
    if (rc == 0 && !r->proposal)
        rc = compliance_travel_gate(s, a, &scr->cfg, r->action, &x, e);
out:
    return rc;
}
