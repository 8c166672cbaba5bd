/* cases.c: the case lifecycle over the desk database: take-next (one atomic UPDATE inside
 * BEGIN IMMEDIATE), take, notes, snooze, escalation and four-eyes closing. Every
 * transition writes the case row, an append-only case_events row with the changed fields
 * before and after, and an audit-log row, all before the one commit. */
#include "compliance/compliance.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/text.h"

int compliance_priority_of(int score)
{
    return score >= 80 ? 1 : score >= 50 ? 2 : 3;
}

const char *compliance_priority_name(int priority)
{
    return priority == 1 ? "high" : priority == 2 ? "medium" : "low";
}

int64_t compliance_sla_seconds(int priority)
{
    return priority == 1 ? 4 * 3600 : priority == 2 ? 24 * 3600 : 72 * 3600;
}

/* "field=value" pairs of the fields that differ between a and b, into bf (a's) and af (b's). */
static void diff_case(const store_case *a, const store_case *b, char *bf, char *af, size_t cap)
{
    bf[0] = af[0] = '\0';
    size_t kb = 0, ka = 0;
#define DIFF_(field)                                                                               \
    if (strcmp(a->field, b->field) != 0) {                                                         \
        kb += (size_t)snprintf(bf + kb, kb < cap ? cap - kb : 0, "%s%s=%s", kb ? " " : "", #field, \
                               a->field[0] ? a->field : "-");                                      \
        ka += (size_t)snprintf(af + ka, ka < cap ? cap - ka : 0, "%s%s=%s", ka ? " " : "", #field, \
                               b->field[0] ? b->field : "-");                                      \
    }
    DIFF_(state)
    DIFF_(assignee)
    DIFF_(outcome)
    DIFF_(snoozed_until)
    DIFF_(proposed_outcome)
    DIFF_(proposed_by)
    DIFF_(closed_by)
#undef DIFF_
}

/* A note is text another officer reads, on a terminal and in a SAR: refused, not stored,
 * when it holds control characters, bidi controls or bytes that are not UTF-8, or when it
 * does not fit (it would be cut). NULL or "" is no note. */
static int note_check(const char *note, err *e)
{
    if (!note)
        return 0;
    size_t n = strlen(note), max = sizeof((store_case_event *)NULL)->note - 1;
    if (n > max)
        return err_set(e, ERR_INVALID, "note is %zu bytes; at most %zu are kept: shorten it", n,
                       max);
    size_t bad = text_unsafe_at(note, n);
    if (bad < n)
        return err_set(e, ERR_INVALID,
                       "note has a control character, a bidi control or a byte that is not "
                       "UTF-8 at byte %zu: write it as plain text on one line",
                       bad + 1);
    return 0;
}

/* Writes after over before: case row, case event, audit row. Inside the caller's txn. */
static int transition(store *s, const compliance_actor *a, const store_case *before,
                      const store_case *after, const char *action, const char *note, err *e)
{
    store_case_event ev = {.case_id = after->id, .at = a->now};
    snprintf(ev.operator_name, sizeof ev.operator_name, "%s", a->operator_name);
    snprintf(ev.action, sizeof ev.action, "%s", action);
    diff_case(before, after, ev.before, ev.after, sizeof ev.before);
    snprintf(ev.note, sizeof ev.note, "%s", note ? note : "");
    if (store_case_update(s, after, e) < 0 || store_case_event_add(s, &ev, e) < 0)
        return -1;
    char act[48];
    snprintf(act, sizeof act, "case.%s", action);
    json_t *d = json_pack("{s:I,s:s,s:s,s:s?}", "case", (json_int_t)after->id, "before", ev.before,
                          "after", ev.after, "note", note && *note ? note : NULL);
    int rc = store_audit(s, a->home, a->operator_name, act, d, e);
    json_decref(d);
    return rc;
}

static int load_case(store *s, int64_t id, store_case *c, err *e)
{
    bool found = false;
    if (store_case_get(s, id, c, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no case #%lld (fusion case list shows them)",
                       (long long)id);
    return 0;
}

static void today_of(int64_t now, char out[SCREEN_DATE_MAX])
{
    screen_date_format(out, screen_day_of((uint64_t)(now > 0 ? now : 0)));
}

int compliance_case_next(store *s, const compliance_actor *a, int64_t *id, err *e)
{
    *id = 0;
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    char today[SCREEN_DATE_MAX];
    today_of(a->now, today);
    if (store_begin(s, e) < 0)
        return -1;
    store_case before, after;
    if (store_case_take_next(s, a->operator_name, today, id, e) < 0)
        goto fail;
    if (*id == 0) {
        store_rollback(s);
        return 0;
    }
    if (load_case(s, *id, &after, e) < 0)
        goto fail;
    before = after;
    snprintf(before.state, sizeof before.state, "new");
    before.assignee[0] = '\0';
    if (transition(s, a, &before, &after, "take", NULL, e) < 0 || store_commit(s, e) < 0)
        goto fail;
    return 0;
fail:
    store_rollback(s);
    *id = 0;
    return -1;
}

typedef int (*case_fn)(const compliance_actor *a, store_case *c, const void *arg, err *e);

/* Loads case id, lets fn change a copy (or refuse), then writes the transition. */
static int with_case(store *s, const compliance_actor *a, int64_t id, const char *action,
                     const char *note, case_fn fn, const void *arg, err *e)
{
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    if (store_begin(s, e) < 0)
        return -1;
    store_case before, after;
    if (load_case(s, id, &before, e) < 0)
        goto fail;
    after = before;
    if (fn(a, &after, arg, e) < 0)
        goto fail;
    if (transition(s, a, &before, &after, action, note, e) < 0 || store_commit(s, e) < 0)
        goto fail;
    return 0;
fail:
    store_rollback(s);
    return -1;
}

static bool is_closed(const store_case *c)
{
    return strcmp(c->state, "closed") == 0;
}

static int refuse_closed(const store_case *c, err *e)
{
    return err_set(e, ERR_STATE, "case #%lld is closed (%s by %s)", (long long)c->id, c->outcome,
                   c->closed_by);
}

static int refuse_other(const compliance_actor *a, const store_case *c, err *e)
{
    if (c->assignee[0] && strcmp(c->assignee, a->operator_name) != 0)
        return err_set(e, ERR_STATE, "case #%lld is assigned to %s, not to %s", (long long)c->id,
                       c->assignee, a->operator_name);
    return 0;
}

static int do_take(const compliance_actor *a, store_case *c, const void *arg, err *e)
{
    (void)arg;
    if (is_closed(c))
        return refuse_closed(c, e);
    if (refuse_other(a, c, e) < 0)
        return -1;
    snprintf(c->assignee, sizeof c->assignee, "%s", a->operator_name);
    if (strcmp(c->state, "new") == 0)
        snprintf(c->state, sizeof c->state, "assigned");
    return 0;
}

int compliance_case_take(store *s, const compliance_actor *a, int64_t id, err *e)
{
    return with_case(s, a, id, "take", NULL, do_take, NULL, e);
}

static int do_note(const compliance_actor *a, store_case *c, const void *arg, err *e)
{
    (void)arg;
    (void)e;
    if (is_closed(c))
        return 0; /* notes on closed cases are allowed: they change nothing */
    if (strcmp(c->state, "assigned") == 0 && strcmp(c->assignee, a->operator_name) == 0)
        snprintf(c->state, sizeof c->state, "in_review");
    return 0;
}

int compliance_case_note(store *s, const compliance_actor *a, int64_t id, const char *text, err *e)
{
    if (!text || !*text)
        return err_set(e, ERR_INVALID, "a note needs text");
    if (note_check(text, e) < 0)
        return -1;
    return with_case(s, a, id, "note", text, do_note, NULL, e);
}

static int do_snooze(const compliance_actor *a, store_case *c, const void *arg, err *e)
{
    (void)a;
    if (is_closed(c))
        return refuse_closed(c, e);
    snprintf(c->snoozed_until, sizeof c->snoozed_until, "%s", (const char *)arg);
    return 0;
}

int compliance_case_snooze(store *s, const compliance_actor *a, int64_t id, const char *day, err *e)
{
    int32_t d;
    if (screen_date_parse(&d, day, e) < 0)
        return err_set(e, ERR_INVALID, "snooze date '%.20s' is not YYYY-MM-DD", day);
    if (d <= screen_day_of((uint64_t)a->now))
        return err_set(e, ERR_INVALID, "snooze date %s is not in the future", day);
    return with_case(s, a, id, "snooze", day, do_snooze, day, e);
}

static int do_escalate(const compliance_actor *a, store_case *c, const void *arg, err *e)
{
    (void)arg;
    if (is_closed(c))
        return refuse_closed(c, e);
    if (strcmp(c->state, "new") == 0)
        return err_set(e, ERR_STATE, "case #%lld is new: take it before escalating",
                       (long long)c->id);
    if (refuse_other(a, c, e) < 0)
        return -1;
    snprintf(c->state, sizeof c->state, "escalated");
    c->assignee[0] = '\0'; /* the escalated queue: a senior officer takes it from there */
    return 0;
}

int compliance_case_escalate(store *s, const compliance_actor *a, int64_t id, const char *note,
                             err *e)
{
    if (note_check(note, e) < 0)
        return -1;
    return with_case(s, a, id, "escalate", note, do_escalate, NULL, e);
}

typedef struct decide_arg {
    const char *outcome;
    bool closed;
} decide_arg;

static int do_decide(const compliance_actor *a, store_case *c, const void *varg, err *e)
{
    decide_arg *arg = (decide_arg *)(uintptr_t)varg;
    if (is_closed(c))
        return refuse_closed(c, e);
    if (strcmp(c->state, "new") == 0)
        return err_set(e, ERR_STATE, "case #%lld is new: take it (fusion case take %lld) first",
                       (long long)c->id, (long long)c->id);
    bool four_eyes = c->priority == 1;
    bool confirm = four_eyes && c->proposed_by[0] &&
                   strcmp(c->proposed_outcome, arg->outcome) == 0 &&
                   strcmp(c->proposed_by, a->operator_name) != 0;
    if (four_eyes && c->proposed_by[0] && strcmp(c->proposed_by, a->operator_name) == 0)
        return err_set(e, ERR_DENIED,
                       "four-eyes: case #%lld is high priority and %s already proposed '%s'; a "
                       "second, different compliance officer must confirm",
                       (long long)c->id, c->proposed_by, c->proposed_outcome);
    /* the holder decides (or proposes); anyone else may only confirm a proposal */
    if (!confirm && !(four_eyes && c->proposed_by[0]) && refuse_other(a, c, e) < 0)
        return -1;
    if (!four_eyes || confirm) {
        snprintf(c->state, sizeof c->state, "closed");
        snprintf(c->outcome, sizeof c->outcome, "%s", arg->outcome);
        snprintf(c->closed_by, sizeof c->closed_by, "%s", a->operator_name);
        c->closed_at = a->now;
        arg->closed = true;
        return 0;
    }
    /* a first proposal, or a different officer proposing a different outcome */
    snprintf(c->proposed_outcome, sizeof c->proposed_outcome, "%s", arg->outcome);
    snprintf(c->proposed_by, sizeof c->proposed_by, "%s", a->operator_name);
    if (strcmp(c->state, "assigned") == 0)
        snprintf(c->state, sizeof c->state, "in_review");
    return 0;
}

/* Blocking an entity: the flag the gate and `entity show` read. Inside the txn. */
static int block_entity(store *s, const compliance_actor *a, int64_t entity_id, err *e)
{
    store_entity x;
    bool found = false;
    if (store_entity_get(s, entity_id, &x, &found, e) < 0)
        return -1;
    if (!found || x.blocked)
        return 0;
    x.blocked = true;
    if (store_entity_update(s, &x, e) < 0)
        return -1;
    json_t *d = json_pack("{s:I,s:s}", "entity", (json_int_t)x.id, "name", x.name);
    int rc = store_audit(s, a->home, a->operator_name, "entity.block", d, e);
    json_decref(d);
    return rc;
}

/* 1 when operators x and y sign with the same key (four-eyes needs two keys, not two
 * names), 0 when not, -1 on errors. */
static int same_key(store *s, const char *x, const char *y, err *e)
{
    store_operator ox, oy;
    bool fx = false, fy = false;
    if (store_operator_get(s, x, &ox, &fx, e) < 0 || store_operator_get(s, y, &oy, &fy, e) < 0)
        return -1;
    return fx && fy && addr_equal(&ox.address, &oy.address) ? 1 : 0;
}

int compliance_case_decide(store *s, const compliance_actor *a, int64_t id, const char *outcome,
                           const char *note, bool *closed, err *e)
{
    *closed = false;
    if (strcmp(outcome, "cleared") && strcmp(outcome, "blocked") && strcmp(outcome, "reported"))
        return err_set(e, ERR_INVALID, "outcome '%.20s' is not cleared, blocked or reported",
                       outcome);
    if (note_check(note, e) < 0)
        return -1;
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    if (store_begin(s, e) < 0)
        return -1;
    store_case before, after;
    decide_arg arg = {.outcome = outcome};
    if (load_case(s, id, &before, e) < 0)
        goto fail;
    after = before;
    if (before.priority == 1 && before.proposed_by[0]) {
        /* A proposer who is no longer an operator is no first pair of eyes to confirm: their
         * key could be back under another name, where same_key cannot see it. The proposal
         * lapses; the case's holder proposes again. */
        store_operator po;
        bool pf = false;
        if (store_operator_get(s, before.proposed_by, &po, &pf, e) < 0)
            goto fail;
        if (!pf) {
            after.proposed_by[0] = '\0';
            after.proposed_outcome[0] = '\0';
        }
    }
    if (do_decide(a, &after, &arg, e) < 0)
        goto fail;
    int same = arg.closed && before.priority == 1 && before.proposed_by[0]
                   ? same_key(s, before.proposed_by, a->operator_name, e)
                   : 0;
    if (same < 0)
        goto fail;
    if (same) {
        err_set(e, ERR_DENIED, "four-eyes: case #%lld was proposed by %.63s, whose key is "
                "also %.63s's: the confirming officer must sign with a different key",
                (long long)before.id, before.proposed_by, a->operator_name);
        goto fail;
    }
    const char *action = !arg.closed                       ? "propose"
                         : strcmp(outcome, "cleared") == 0 ? "clear"
                         : strcmp(outcome, "blocked") == 0 ? "block"
                                                           : "report";
    if (transition(s, a, &before, &after, action, note, e) < 0)
        goto fail;
    if (arg.closed && strcmp(outcome, "blocked") == 0 && after.entity_id &&
        block_entity(s, a, after.entity_id, e) < 0)
        goto fail;
    if (store_commit(s, e) < 0)
        goto fail;
    *closed = arg.closed;
    return 0;
fail:
    store_rollback(s);
    return -1;
}

int compliance_party_open_cases(store *s, int64_t entity_id, int64_t except_id, int64_t **ids,
                                size_t *n, err *e)
{
    *ids = NULL;
    *n = 0;
    store_case_filter f = {.open_only = true};
    store_case *cs = NULL;
    size_t nc = 0;
    if (store_case_list(s, &f, &cs, &nc, e) < 0)
        return -1;
    int64_t *out = calloc(nc ? nc : 1, sizeof *out);
    if (!out) {
        free(cs);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nc; i++)
        if (entity_id && cs[i].entity_id == entity_id && cs[i].id != except_id)
            out[(*n)++] = cs[i].id;
    free(cs);
    if (*n == 0)
        free(out);
    else
        *ids = out;
    return 0;
}

int compliance_party_close(store *s, const compliance_actor *a, int64_t entity_id,
                           int64_t except_id, const char *note, size_t *closed, err *e)
{
    *closed = 0;
    if (note_check(note, e) < 0)
        return -1;
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    if (store_begin(s, e) < 0)
        return -1;
    int64_t *ids = NULL;
    size_t n = 0;
    json_t *list = NULL, *d = NULL;
    store_entity x;
    bool found = false;
    if (store_entity_get(s, entity_id, &x, &found, e) < 0)
        goto fail;
    if (!found) {
        err_set(e, ERR_NOT_FOUND, "no entity #%lld", (long long)entity_id);
        goto fail;
    }
    if (!x.blocked) {
        err_set(e, ERR_STATE, "entity #%lld %.100s is not blocked: block it (a case's block "
                "decision) before closing its other cases", (long long)x.id, x.name);
        goto fail;
    }
    if (compliance_party_open_cases(s, entity_id, except_id, &ids, &n, e) < 0)
        goto fail;
    list = json_array();
    if (!list) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    char why[sizeof ((store_case_event *)0)->note];
    snprintf(why, sizeof why, "party blocked: %.1000s", note && *note ? note : "(no note)");
    for (size_t i = 0; i < n; i++) {
        store_case before, after;
        if (load_case(s, ids[i], &before, e) < 0)
            goto fail;
        after = before;
        snprintf(after.state, sizeof after.state, "closed");
        snprintf(after.outcome, sizeof after.outcome, "blocked");
        snprintf(after.closed_by, sizeof after.closed_by, "%s", a->operator_name);
        after.closed_at = a->now;
        store_case_event ev = {.case_id = after.id, .at = a->now};
        snprintf(ev.operator_name, sizeof ev.operator_name, "%s", a->operator_name);
        snprintf(ev.action, sizeof ev.action, "block");
        diff_case(&before, &after, ev.before, ev.after, sizeof ev.before);
        memcpy(ev.note, why, sizeof ev.note);
        if (store_case_update(s, &after, e) < 0 || store_case_event_add(s, &ev, e) < 0)
            goto fail;
        json_array_append_new(list, json_integer((json_int_t)ids[i]));
    }
    /* one decision for all of them, signed like every case decision */
    d = json_pack("{s:I,s:s,s:O,s:s?}", "entity", (json_int_t)x.id, "name", x.name, "cases", list,
                  "note", note && *note ? note : NULL);
    if (!d) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (n > 0 && store_audit(s, a->home, a->operator_name, "case.block_party", d, e) < 0)
        goto fail;
    if (store_commit(s, e) < 0)
        goto fail;
    *closed = n;
    free(ids);
    json_decref(list);
    json_decref(d);
    return 0;
fail:
    store_rollback(s);
    free(ids);
    json_decref(list);
    json_decref(d);
    return -1;
}

/* ---- report ---- */

/* Machine output: the lowercase form (the text report shows EIP-55). */
static json_t *hex_addr(const addr *a)
{
    char s[ADDR_STR_MAX];
    addr_to_lower(s, a);
    return json_string(s);
}

static void iso_time(char out[32], int64_t t)
{
    char d[SCREEN_DATE_MAX];
    screen_date_format(d, screen_day_of((uint64_t)(t > 0 ? t : 0)));
    int64_t sod = t > 0 ? t % 86400 : 0;
    snprintf(out, 32, "%sT%02d:%02d:%02dZ", d, (int)(sod / 3600), (int)(sod / 60 % 60),
             (int)(sod % 60));
}

int compliance_case_report(store *s, int64_t id, json_t **out, err *e)
{
    *out = NULL;
    store_case c;
    if (load_case(s, id, &c, e) < 0)
        return -1;
    char opened[32], due[32], closed_at[32];
    iso_time(opened, c.opened_at);
    iso_time(due, c.due_at);
    iso_time(closed_at, c.closed_at);
    json_t *r =
        json_pack("{s:s,s:I,s:s,s:I,s:o,s:s,s:s?,s:s,s:i,s:s,s:s,s:s?,s:s?,s:s?,s:s?}", "report",
                  "suspicious activity (SAR-style)", "case", (json_int_t)c.id, "subject", c.subject,
                  "chain_id", (json_int_t)c.chain_id, "escrow", hex_addr(&c.escrow), "state",
                  c.state, "outcome", c.outcome[0] ? c.outcome : NULL, "priority",
                  compliance_priority_name(c.priority), "score", c.score, "opened_at", opened,
                  "due_at", due, "assignee", c.assignee[0] ? c.assignee : NULL, "closed_by",
                  c.closed_by[0] ? c.closed_by : NULL, "closed_at", c.closed_at ? closed_at : NULL,
                  "proposed_by", c.proposed_by[0] ? c.proposed_by : NULL);
    if (!r)
        return err_set(e, ERR_NOMEM, "out of memory building the report");
    compliance_case_about about;
    if (compliance_case_about_of(s, &c, &about, e) < 0)
        goto fail;
    if (about.kind != COMPLIANCE_ABOUT_ESCROW)
        json_object_set_new(r, "escrow", json_null()); /* the key holds no escrow */
    json_object_set_new(r, "about", compliance_case_about_json(&about));
    json_object_set_new(r, "about_text", json_string(about.text));
    if (c.entity_id) {
        store_entity x;
        bool found = false;
        if (store_entity_get(s, c.entity_id, &x, &found, e) < 0)
            goto fail;
        if (found)
            json_object_set_new(r, "entity",
                                json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?,s:s,s:b}", "id",
                                          (json_int_t)x.id, "name", x.name, "type", x.type,
                                          "jurisdiction", x.jurisdiction, "kyc", x.kyc,
                                          "kyc_expires", x.kyc_expires[0] ? x.kyc_expires : NULL,
                                          "risk", x.risk, "blocked", x.blocked));
    }
    store_hit *hits = NULL;
    size_t nh = 0;
    if (store_hit_list_case(s, id, &hits, &nh, e) < 0)
        goto fail;
    json_t *ev = json_array();
    for (size_t i = 0; i < nh; i++) {
        char at[32];
        iso_time(at, hits[i].created_at);
        json_array_append_new(
            ev,
            json_pack("{s:s,s:i,s:s,s:o,s:s,s:s,s:s?,s:s?,s:s}", "rule", hits[i].rule, "score",
                      hits[i].score, "role", hits[i].role, "address", hex_addr(&hits[i].address),
                      "event", hits[i].kind, "evidence", hits[i].evidence, "list_version",
                      hits[i].list_version[0] ? hits[i].list_version : NULL, "list_sha256",
                      hits[i].list_sha256[0] ? hits[i].list_sha256 : NULL, "at", at));
        if (hits[i].reorged_at) {
            char ra[32];
            iso_time(ra, hits[i].reorged_at);
            json_object_set_new(json_array_get(ev, json_array_size(ev) - 1), "reorged_at",
                                json_string(ra));
        }
    }
    free(hits);
    json_object_set_new(r, "evidence", ev);
    store_case_event *evs = NULL;
    size_t ne = 0;
    if (store_case_events(s, id, &evs, &ne, e) < 0)
        goto fail;
    json_t *tl = json_array(), *dec = json_array();
    for (size_t i = 0; i < ne; i++) {
        char at[32];
        iso_time(at, evs[i].at);
        json_t *row = json_pack(
            "{s:s,s:s,s:s,s:s?,s:s?,s:s?}", "at", at, "operator", evs[i].operator_name, "action",
            evs[i].action, "before", evs[i].before[0] ? evs[i].before : NULL, "after",
            evs[i].after[0] ? evs[i].after : NULL, "note", evs[i].note[0] ? evs[i].note : NULL);
        const char *act = evs[i].action;
        if (!strcmp(act, "propose") || !strcmp(act, "clear") || !strcmp(act, "block") ||
            !strcmp(act, "report") || !strcmp(act, "escalate"))
            json_array_append(dec, row);
        json_array_append_new(tl, row);
    }
    free(evs);
    json_object_set_new(r, "timeline", tl);
    json_object_set_new(r, "decisions", dec);
    *out = r;
    return 0;
fail:
    json_decref(r);
    return -1;
}

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0 || !*buf)
        return;
    if (*len + (size_t)k + 1 > *cap) {
        size_t nc = (*len + (size_t)k + 1) * 2;
        char *g = realloc(*buf, nc);
        if (!g) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = g;
        *cap = nc;
    }
    va_start(ap, fmt);
    vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
    *len += (size_t)k;
}

static const char *js(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "-";
}

/* A deep copy of v whose every string is made safe (base/text.h): the report's text
 * comes from nodes, list files and other operators, and rows stored before notes and
 * names were checked may hold anything. NULL when out of memory. */
static json_t *safe_copy(const json_t *v)
{
    if (json_is_string(v)) {
        char *t = text_safe_dup(json_string_value(v), json_string_length(v));
        json_t *j = t ? json_string(t) : NULL;
        free(t);
        return j;
    }
    json_t *out = NULL;
    if (json_is_array(v)) {
        out = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (!out || json_array_append_new(out, safe_copy(x)) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_object(v)) {
        out = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)(uintptr_t)v, k, x)
        {
            if (!out || json_object_set_new(out, k, safe_copy(x)) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    return json_deep_copy(v);
}

static char *report_text(const json_t *r);

char *compliance_report_text(const json_t *report)
{
    json_t *r = safe_copy(report);
    char *t = r ? report_text(r) : NULL;
    json_decref(r);
    return t;
}

static char *report_text(const json_t *r)
{
    size_t len = 0, cap = 1024;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    b[0] = '\0';
    put(&b, &len, &cap, "SUSPICIOUS ACTIVITY REPORT (SAR-style) - case #%lld\n",
        (long long)json_integer_value(json_object_get(r, "case")));
    put(&b, &len, &cap, "subject:   %s\nabout:     %s\n", js(r, "subject"), js(r, "about_text"));
    const json_t *x = json_object_get(r, "entity");
    if (x)
        put(&b, &len, &cap, "entity:    #%lld %s (%s, %s), KYC %s, expires %s%s\n",
            (long long)json_integer_value(json_object_get(x, "id")), js(x, "name"), js(x, "type"),
            js(x, "jurisdiction"), js(x, "kyc"), js(x, "kyc_expires"),
            json_is_true(json_object_get(x, "blocked")) ? ", BLOCKED" : "");
    put(&b, &len, &cap, "priority:  %s (score %lld)\nstate:     %s, outcome %s\n",
        js(r, "priority"), (long long)json_integer_value(json_object_get(r, "score")),
        js(r, "state"), js(r, "outcome"));
    put(&b, &len, &cap, "opened:    %s, due %s\nclosed:    %s by %s\n\nEVIDENCE\n",
        js(r, "opened_at"), js(r, "due_at"), js(r, "closed_at"), js(r, "closed_by"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(r, "evidence"), i, v)
    {
        put(&b, &len, &cap, "  [%s, score %lld] %s\n", js(v, "rule"),
            (long long)json_integer_value(json_object_get(v, "score")), js(v, "evidence"));
        if (json_is_string(json_object_get(v, "list_version")))
            put(&b, &len, &cap, "      list %s sha256 %s\n", js(v, "list_version"),
                js(v, "list_sha256"));
        if (json_is_string(json_object_get(v, "reorged_at")))
            put(&b, &len, &cap, "      its escrow left the chain in a reorg at %s (kept as "
                "evidence)\n", js(v, "reorged_at"));
    }
    put(&b, &len, &cap, "\nTIMELINE\n");
    json_array_foreach(json_object_get(r, "timeline"), i, v)
    {
        put(&b, &len, &cap, "  %s  %-10s %-9s %s -> %s%s%s\n", js(v, "at"), js(v, "operator"),
            js(v, "action"), js(v, "before"), js(v, "after"),
            json_is_string(json_object_get(v, "note")) ? "  note: " : "",
            json_is_string(json_object_get(v, "note")) ? js(v, "note") : "");
    }
    put(&b, &len, &cap, "\nDECISIONS\n");
    json_array_foreach(json_object_get(r, "decisions"), i, v)
    {
        put(&b, &len, &cap, "  %s  %s by %s\n", js(v, "at"), js(v, "action"), js(v, "operator"));
    }
    return b;
}
