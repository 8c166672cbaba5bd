/* test_cases.c: the compliance services on a real desk database in a temp directory:
 * screening a synced escrow whose payee is on the shipped OFAC list opens a deduplicated
 * case; the gate names the case, then the missing KYC; four-eyes refuses the same officer;
 * blocking; snooze and the overdue queue; append-only case events with audit rows; many
 * processes racing on "take next" (no case taken twice, none lost); and the entity CSV
 * import with per-line errors. Expected values come from the documented rules (score
 * 100 -> high priority, SLA 4 h) and the shipped list, never from the code under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <math.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit/audit.h"
#include "base/bytes.h"
#include "crypto/address.h"
#include "crypto/eip712.h"
#include "compliance/compliance.h"
#include "store/store.h"
#include "store/store_internal.h"

/* On the shipped OFAC list (data/sanctions/sanctioned_addresses_ETH.txt line 90). */
#define SANCTIONED "0x8589427373D6D84E98730D7795D8f6f8731FDA16"
#define PAYER "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
#define T0 1767225600 /* 2026-01-01T00:00:00Z */

static char home[256], dbpath[300];

static int setup(void **state)
{
    (void)state;
    snprintf(home, sizeof home, "/tmp/fusion-cases-XXXXXX");
    assert_non_null(mkdtemp(home));
    snprintf(dbpath, sizeof dbpath, "%s/desk.db", home);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* Decisions are signed: each operator's key is derived from its name (a test's keys), and
 * as(a) installs a's key as the process's signer before a's decision. */
static void op_secret(uint8_t sk[32], const char *name)
{
    crypto_hash_sha256(sk, (const unsigned char *)name, strlen(name));
}

static addr op_addr(const char *name)
{
    uint8_t sk[32];
    op_secret(sk, name);
    addr a;
    assert_int_equal(addr_from_seckey(&a, sk), 0);
    return a;
}

static char signer_name[64];

static int sign_as(void *ctx, uint8_t sig65[65], const uint8_t digest[32], err *e)
{
    uint8_t sk[32];
    op_secret(sk, ctx);
    return eip712_sign(sig65, digest, sk) < 0 ? err_set(e, ERR_CRYPTO, "test signature") : 0;
}

static void sign_as_op(const char *name)
{
    audit_signer g;
    memset(&g, 0, sizeof g);
    snprintf(signer_name, sizeof signer_name, "%s", name);
    snprintf(g.operator_name, sizeof g.operator_name, "%s", name);
    g.address = op_addr(name);
    g.sign = sign_as;
    g.ctx = signer_name;
    audit_signer_set(&g);
}

static const compliance_actor *as(const compliance_actor *a)
{
    sign_as_op(a->operator_name);
    return a;
}

/* The desk's operators: the officers the tests act as hold the compliance role (the
 * operators table is what compliance_require_officer reads); "trader" does not. */
static void seed_operators(store *s)
{
    static const char *const ops[][2] = {
        {"alice", "compliance"},      {"bob", "approver,compliance"},
        {"officer0", "compliance"},   {"officer1", "compliance"},
        {"officer2", "compliance"},   {"officer3", "compliance,admin"},
        {"trader", "trader,approver"},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        store_operator o;
        memset(&o, 0, sizeof o);
        snprintf(o.name, sizeof o.name, "%s", ops[i][0]);
        snprintf(o.roles, sizeof o.roles, "%s", ops[i][1]);
        o.address = op_addr(o.name);
        o.created_at = T0;
        bool found = false;
        store_operator got;
        err e;
        if (store_operator_get(s, o.name, &got, &found, &e) < 0)
            fail_msg("operator_get: %s", e.msg);
        if (!found && store_operator_add(s, &o, &e) < 0)
            fail_msg("operator_add: %s", e.msg);
    }
}

/* The desk's admin (officer3) signs its genesis, as on a real desk: without one no
 * decision is recorded (test_no_genesis). */
static void sign_genesis(store *s)
{
    uint8_t id[32];
    bool present = false;
    err e;
    if (audit_desk_id(home, id, &present, &e) < 0)
        fail_msg("audit_desk_id: %s", e.msg);
    if (present)
        return;
    randombytes_buf(id, sizeof id);
    char hex[67];
    hex_encode(hex, sizeof hex, id, 32, true);
    json_t *det = json_pack("{s:s,s:s,s:[]}", "desk_id", hex, "admin", "officer3", "operators");
    sign_as_op("officer3");
    if (store_audit(s, home, "officer3", "desk.genesis", det, &e) < 0)
        fail_msg("genesis: %s", e.msg);
    json_decref(det);
}

static store *open_db(void)
{
    store *s = NULL;
    err e;
    if (store_open(&s, dbpath, &e) < 0)
        fail_msg("store_open: %s", e.msg);
    seed_operators(s);
    sign_genesis(s);
    return s;
}

static addr A(const char *s)
{
    addr a;
    err e;
    if (addr_parse(&a, s, &e) < 0)
        fail_msg("addr %s: %s", s, e.msg);
    return a;
}

static addr nth_addr(unsigned n)
{
    addr a;
    memset(&a, 0, sizeof a);
    a.b[0] = 0x42;
    a.b[18] = (uint8_t)(n >> 8);
    a.b[19] = (uint8_t)n;
    return a;
}

static void add_chain(store *s)
{
    store_chain c;
    memset(&c, 0, sizeof c);
    c.chain_id = 31337;
    snprintf(c.name, sizeof c.name, "local");
    snprintf(c.native_symbol, sizeof c.native_symbol, "ETH");
    c.native_decimals = 18;
    err e;
    assert_int_equal(store_chain_add(s, &c, &e), 0);
}

static void put_escrow_amount(store *s, const addr *esc, const addr *payer, const addr *payee,
                              uint64_t block, const char *wei)
{
    store_escrow x;
    memset(&x, 0, sizeof x);
    err e;
    if (wei && u256_from_dec(&x.amount, wei, &e) < 0)
        fail_msg("amount %s: %s", wei, e.msg);
    x.chain_id = 31337;
    x.address = *esc;
    x.payer = *payer;
    x.payee = *payee;
    x.created_block = block;
    x.state = ESCROW_CREATED;
    if (store_escrow_put(s, &x, &e) < 0)
        fail_msg("escrow_put: %s", e.msg);
}

static void put_escrow(store *s, const addr *esc, const addr *payer, const addr *payee,
                       uint64_t block)
{
    put_escrow_amount(s, esc, payer, payee, block, NULL);
}

static compliance_actor actor(const char *op, int64_t now)
{
    return (compliance_actor){.home = home, .operator_name = op, .now = now};
}

static int64_t add_entity(store *s, const char *name, const char *kyc, const char *expires,
                          const char *link)
{
    store_entity x;
    memset(&x, 0, sizeof x);
    snprintf(x.name, sizeof x.name, "%s", name);
    snprintf(x.type, sizeof x.type, "company");
    snprintf(x.jurisdiction, sizeof x.jurisdiction, "CH");
    snprintf(x.kyc, sizeof x.kyc, "%s", kyc);
    snprintf(x.kyc_expires, sizeof x.kyc_expires, "%s", expires);
    snprintf(x.risk, sizeof x.risk, "low");
    x.tier = 1;
    compliance_actor a = actor("alice", T0);
    err e;
    if (compliance_entity_add(s, as(&a), &x, &e) < 0)
        fail_msg("entity add: %s", e.msg);
    if (link) {
        addr la = A(link);
        if (compliance_entity_link(s, as(&a), x.id, 31337, &la, &e) < 0)
            fail_msg("link: %s", e.msg);
    }
    return x.id;
}

/* A desk without a signed genesis records no decision, whatever interface asks (the UI
 * calls the compliance registry as the CLI does): the audit module refuses it, naming
 * `operator genesis`, with the operator's key installed as the signer, and nothing is
 * stored. */
static void test_no_genesis(void **state)
{
    (void)state;
    store *s = NULL;
    err e;
    if (store_open(&s, dbpath, &e) < 0)
        fail_msg("store_open: %s", e.msg);
    seed_operators(s);
    store_entity x;
    memset(&x, 0, sizeof x);
    snprintf(x.name, sizeof x.name, "Acme AG");
    snprintf(x.type, sizeof x.type, "company");
    snprintf(x.jurisdiction, sizeof x.jurisdiction, "CH");
    snprintf(x.kyc, sizeof x.kyc, "verified");
    snprintf(x.kyc_expires, sizeof x.kyc_expires, "2099-12-31");
    snprintf(x.risk, sizeof x.risk, "low");
    x.tier = 1;
    compliance_actor a = actor("alice", T0);
    err_clear(&e);
    assert_int_equal(compliance_entity_add(s, as(&a), &x, &e), -1);
    assert_int_equal(e.code, ERR_DENIED);
    assert_string_equal(e.msg, AUDIT_NO_GENESIS);
    store_entity got;
    bool found = true;
    assert_int_equal(store_entity_find_name(s, "Acme AG", &got, &found, &e), 0);
    assert_false(found);
    audit_report r;
    assert_int_equal(audit_verify(home, NULL, &r, &e), 0);
    assert_int_equal(r.rows, 0);
    /* signed by the admin, the genesis lets the same decision through, signed */
    sign_genesis(s);
    assert_int_equal(compliance_entity_add(s, as(&a), &x, &e), 0);
    assert_int_equal(store_entity_find_name(s, "Acme AG", &got, &found, &e), 0);
    assert_true(found);
    store_close(&s);
}

static screen_ctx *load_lists(void)
{
    const char *root = getenv("FUSION_ROOT");
    assert_non_null(root);
    char manifest[512], fatf[512];
    snprintf(manifest, sizeof manifest, "%s/data/sanctions/manifest.txt", root);
    snprintf(fatf, sizeof fatf, "%s/data/compliance/fatf-jurisdictions.csv", root);
    screen_ctx *ctx = NULL;
    err e;
    if (compliance_screen_load(&ctx, manifest, NULL, fatf, &e) < 0)
        fail_msg("lists: %s", e.msg);
    return ctx;
}

static int query_int(store *s, const char *sql)
{
    (void)s;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

typedef struct audit_counter {
    const char *action;
    int n;
} audit_counter;

static int count_audit_fn(void *ctx, const audit_row *row, err *e)
{
    (void)e;
    audit_counter *c = ctx;
    if (strcmp(row->action, c->action) == 0)
        c->n++;
    return 0;
}

static int count_opened_fn(void *ctx, const audit_row *row, err *e)
{
    (void)e;
    int *n = ctx;
    if (strcmp(row->action, "case.open") == 0)
        *n += (int)json_array_size(json_object_get(row->details, "cases"));
    return 0;
}

/* Cases opened according to the audit log ("case.open" rows list them). */
static int audit_cases_opened(void)
{
    int n = 0;
    err e;
    assert_int_equal(audit_list(home, count_opened_fn, &n, &e), 0);
    return n;
}

static int audit_count(const char *action)
{
    audit_counter c = {.action = action};
    err e;
    assert_int_equal(audit_list(home, count_audit_fn, &c, &e), 0);
    return c.n;
}

/* Sanctioned payee -> one high case with evidence and the list version; re-screening adds
 * nothing; the gate names the case; four-eyes; then KYC checks; refund always passes. */
static void test_sanctioned_payee_flow(void **state)
{
    (void)state;
    store *s = open_db();
    add_chain(s);
    int64_t payer_id = add_entity(s, "Payer AG", "verified", "2030-12-31", PAYER);
    addr esc = nth_addr(1), payer = A(PAYER), payee = A(SANCTIONED);
    put_escrow(s, &esc, &payer, &payee, 5);
    screen_ctx *ctx = load_lists();
    compliance_actor sys = actor("sync", T0);
    compliance_screen_stats st;
    err e;
    assert_int_equal(compliance_screen_pending(s, as(&sys), ctx, NULL, &st, &e), 0);
    assert_int_equal(st.screened, 1);
    assert_int_equal(st.cases_opened, 1); /* payer is verified and current: no case */
    assert_int_equal(compliance_screen_pending(s, as(&sys), ctx, NULL, &st, &e), 0);
    assert_int_equal(st.screened, 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM cases"), 1);

    store_case c;
    bool found;
    assert_int_equal(store_case_get(s, 1, &c, &found, &e), 0);
    assert_true(found);
    assert_string_equal(c.subject, "0x8589427373d6d84e98730d7795d8f6f8731fda16");
    assert_string_equal(c.state, "new");
    assert_int_equal(c.priority, 1);             /* sanctions score 100: high */
    assert_int_equal(c.due_at - c.opened_at, 4 * 3600); /* high SLA: 4 h */
    store_hit *hits;
    size_t nh;
    assert_int_equal(store_hit_list_case(s, 1, &hits, &nh, &e), 0);
    assert_int_equal(nh, 2); /* sanctions + unknown counterparty, both on the payee */
    bool saw_sanctions = false;
    for (size_t i = 0; i < nh; i++) {
        if (strcmp(hits[i].rule, "sanctions") == 0) {
            saw_sanctions = true;
            assert_string_equal(hits[i].list_version, "2024-09-27/fff25e4a7748464d");
            assert_non_null(strstr(hits[i].evidence, "sanctioned_addresses_ETH.txt line 90"));
        }
    }
    assert_true(saw_sanctions);
    free(hits);

    /* gate: names the case and, in the same refusal, every other reason (the payee has
     * no entity); refund stays possible */
    assert_int_equal(compliance_gate_check_at(s, 31337, &esc, "release", T0, &e), -1);
    assert_int_equal(e.code, ERR_DENIED);
    assert_non_null(strstr(e.msg, "case #1"));
    assert_non_null(strstr(e.msg, "linked to no entity"));
    {
        char **why = NULL;
        size_t n_why = 0;
        assert_int_equal(compliance_gate_reasons(s, 31337, &esc, "release", T0, &why, &n_why, &e),
                         0);
        assert_true(n_why >= 2); /* the case and the missing KYC, one line each */
        bool saw_case = false, saw_kyc = false;
        for (size_t i = 0; i < n_why; i++) {
            saw_case = saw_case || strstr(why[i], "case #1") != NULL;
            saw_kyc = saw_kyc || strstr(why[i], "linked to no entity") != NULL;
            free(why[i]);
        }
        free(why);
        assert_true(saw_case && saw_kyc);
    }
    assert_int_equal(compliance_gate_check_at(s, 31337, &esc, "refund", T0, &e), 0);

    /* four-eyes */
    compliance_actor alice = actor("alice", T0 + 60), bob = actor("bob", T0 + 120);
    bool closed = true;
    assert_int_equal(compliance_case_decide(s, as(&alice), 1, "cleared", NULL, &closed, &e), -1);
    assert_int_equal(e.code, ERR_STATE); /* new: take it first */
    assert_int_equal(compliance_case_take(s, as(&alice), 1, &e), 0);
    assert_int_equal(compliance_case_take(s, as(&bob), 1, &e), -1); /* held by alice */
    assert_int_equal(compliance_case_note(s, as(&alice), 1, "checked with the payee's bank", &e), 0);
    assert_int_equal(compliance_case_decide(s, as(&alice), 1, "cleared", "false positive", &closed,
                                            &e), 0);
    assert_false(closed);
    assert_int_equal(compliance_case_decide(s, as(&alice), 1, "cleared", NULL, &closed, &e), -1);
    assert_int_equal(e.code, ERR_DENIED);
    assert_non_null(strstr(e.msg, "four-eyes"));
    assert_int_equal(compliance_gate_check_at(s, 31337, &esc, "release", T0, &e), -1);
    assert_non_null(strstr(e.msg, "case #1"));
    assert_int_equal(compliance_case_decide(s, as(&bob), 1, "cleared", "agree", &closed, &e), 0);
    assert_true(closed);
    assert_int_equal(store_case_get(s, 1, &c, &found, &e), 0);
    assert_string_equal(c.state, "closed");
    assert_string_equal(c.outcome, "cleared");
    assert_string_equal(c.closed_by, "bob");

    /* the case is closed, but the payee is linked to no entity: KYC missing */
    assert_int_equal(compliance_gate_check_at(s, 31337, &esc, "release", T0, &e), -1);
    assert_non_null(strstr(e.msg, "linked to no entity"));
    int64_t payee_id = add_entity(s, "Payee 有限公司 🐉", "pending", "", SANCTIONED);
    assert_int_equal(compliance_gate_check_at(s, 31337, &esc, "approve", T0, &e), -1);
    assert_non_null(strstr(e.msg, "pending"));
    store_entity x;
    assert_int_equal(store_entity_get(s, payee_id, &x, &found, &e), 0);
    assert_string_equal(x.name, "Payee 有限公司 🐉");
    snprintf(x.kyc, sizeof x.kyc, "verified");
    snprintf(x.kyc_expires, sizeof x.kyc_expires, "2026-01-01");
    assert_int_equal(compliance_entity_edit(s, as(&alice), &x, &e), 0);
    /* valid through its expiry day (UTC), refused the day after */
    assert_int_equal(compliance_gate_check_at(s, 31337, &esc, "release", T0 + 86399, &e), 0);
    assert_int_equal(compliance_gate_check_at(s, 31337, &esc, "fund", T0 + 86400, &e), -1);
    assert_non_null(strstr(e.msg, "expired on 2026-01-01"));
    (void)payer_id;

    /* events: open, take, note, propose, clear; append-only */
    assert_int_equal(query_int(s, "SELECT count(*) FROM case_events WHERE case_id = 1"), 5);
    store_case_event *evs;
    size_t ne;
    assert_int_equal(store_case_events(s, 1, &evs, &ne, &e), 0);
    assert_string_equal(evs[1].action, "take");
    assert_string_equal(evs[1].before, "state=new assignee=-");
    assert_string_equal(evs[1].after, "state=assigned assignee=alice");
    assert_string_equal(evs[4].action, "clear");
    assert_string_equal(evs[4].operator_name, "bob");
    free(evs);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE case_events SET note = 'x'", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM case_events", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(audit_count("case.open"), 1);
    assert_int_equal(audit_cases_opened(), 1);
    assert_int_equal(audit_count("case.take"), 1);
    assert_int_equal(audit_count("case.propose"), 1);
    assert_int_equal(audit_count("case.clear"), 1);
    audit_report rep;
    assert_int_equal(audit_verify(home, NULL, &rep, &e), 0);
    assert_true(rep.ok);

    /* the report carries evidence, timeline and decisions */
    json_t *r = NULL;
    assert_int_equal(compliance_case_report(s, 1, &r, &e), 0);
    assert_int_equal(json_array_size(json_object_get(r, "evidence")), 2);
    assert_int_equal(json_array_size(json_object_get(r, "timeline")), 5);
    assert_int_equal(json_array_size(json_object_get(r, "decisions")), 2);
    char *text = compliance_report_text(r);
    assert_non_null(strstr(text, "2024-09-27/fff25e4a7748464d"));
    free(text);
    json_decref(r);
    screen_ctx_free(&ctx);
    store_close(&s);
}

/* A desk with a verified payer and a sanctioned payee (Shady Ltd, its entity id in *bad),
 * and two escrows between them: e1 and e2. */
static store *two_escrows_to_shady(int64_t *bad, addr *e1, addr *e2)
{
    store *s = open_db();
    add_chain(s);
    add_entity(s, "Payer AG", "verified", "2030-12-31", PAYER);
    *bad = add_entity(s, "Shady Ltd", "verified", "2030-12-31", SANCTIONED);
    addr payer = A(PAYER), payee = A(SANCTIONED);
    *e1 = nth_addr(1);
    *e2 = nth_addr(2);
    put_escrow(s, e1, &payer, &payee, 5);
    put_escrow(s, e2, &payer, &payee, 6);
    return s;
}

/* A second escrow with the same sanctioned payee is a second case (dedup per entity and
 * escrow); blocking it blocks the entity and every escrow of it. */
static void test_block_and_dedup(void **state)
{
    (void)state;
    int64_t bad;
    addr e1, e2;
    store *s = two_escrows_to_shady(&bad, &e1, &e2);
    screen_ctx *ctx = load_lists();
    compliance_actor sys = actor("sync", T0);
    compliance_screen_stats st;
    err e;
    assert_int_equal(compliance_screen_pending(s, as(&sys), ctx, NULL, &st, &e), 0);
    assert_int_equal(st.cases_opened, 2);
    char subj[64];
    snprintf(subj, sizeof subj, "entity:%lld", (long long)bad);
    store_case_filter f = {.subject = subj};
    store_case *cs;
    size_t n;
    assert_int_equal(store_case_list(s, &f, &cs, &n, &e), 0);
    assert_int_equal(n, 2);
    int64_t first = cs[0].id;
    free(cs);
    compliance_actor alice = actor("alice", T0), bob = actor("bob", T0);
    bool closed;
    assert_int_equal(compliance_case_take(s, as(&alice), first, &e), 0);
    assert_int_equal(compliance_case_decide(s, as(&alice), first, "blocked", NULL, &closed, &e), 0);
    assert_false(closed);
    assert_int_equal(compliance_case_decide(s, as(&bob), first, "blocked", NULL, &closed, &e), 0);
    assert_true(closed);
    store_entity x;
    bool found;
    assert_int_equal(store_entity_get(s, bad, &x, &found, &e), 0);
    assert_true(x.blocked);
    /* e1: blocked by its case */
    assert_int_equal(compliance_gate_check_at(s, 31337, &e1, "release", T0, &e), -1);
    assert_non_null(strstr(e.msg, "blocked"));
    /* e2's own case is still open: named first */
    assert_int_equal(compliance_gate_check_at(s, 31337, &e2, "fund", T0, &e), -1);
    assert_non_null(strstr(e.msg, "case #"));
    /* The party is blocked: its other open case closes with one signed decision. */
    int64_t *ids = NULL;
    size_t nids = 0;
    assert_int_equal(compliance_party_open_cases(s, bad, first, &ids, &nids, &e), 0);
    assert_int_equal(nids, 1);
    int64_t second = ids[0];
    free(ids);
    int before = audit_count("case.block_party");
    size_t nclosed = 99;
    compliance_actor carol = actor("trader", T0);
    assert_int_equal(compliance_party_close(s, as(&carol), bad, first, "listed", &nclosed, &e), -1);
    assert_int_equal(nclosed, 0); /* not an officer: nothing closed */
    assert_int_equal(compliance_party_close(s, as(&alice), bad, first, "listed party", &nclosed, &e),
                     0);
    assert_int_equal(nclosed, 1);
    assert_int_equal(audit_count("case.block_party"), before + 1);
    store_case c2;
    assert_int_equal(store_case_get(s, second, &c2, &found, &e), 0);
    assert_string_equal(c2.state, "closed");
    assert_string_equal(c2.outcome, "blocked");
    assert_string_equal(c2.closed_by, "alice");
    assert_int_equal(compliance_party_open_cases(s, bad, 0, &ids, &nids, &e), 0);
    assert_int_equal(nids, 0);
    /* an entity that is not blocked: refused, nothing written */
    int64_t fine = add_entity(s, "Fine GmbH", "verified", "2030-12-31", NULL);
    assert_int_equal(compliance_party_close(s, as(&alice), fine, 0, "x", &nclosed, &e), -1);
    assert_int_equal(e.code, ERR_STATE);
    assert_int_equal(audit_count("case.block_party"), before + 1);
    screen_ctx_free(&ctx);
    store_close(&s);
}

/* A screening writes each new hit with its case, and attaches a hit of the same subject and
 * escrow that was on file without a case, as it did when every hit was attached after its
 * case was opened. */
static void test_hits_with_their_case(void **state)
{
    (void)state;
    int64_t bad;
    addr e1, e2, payee = A(SANCTIONED);
    store *s = two_escrows_to_shady(&bad, &e1, &e2);
    err e;
    store_hit old = {.chain_id = 31337, .escrow = e1, .address = payee, .entity_id = bad,
                     .score = 10, .created_at = T0 - 5};
    snprintf(old.subject, sizeof old.subject, "entity:%lld", (long long)bad);
    snprintf(old.role, sizeof old.role, "payee");
    snprintf(old.rule, sizeof old.rule, "X9");
    snprintf(old.kind, sizeof old.kind, "escrow_created");
    snprintf(old.evidence, sizeof old.evidence, "on file before the case");
    bool inserted = false;
    assert_int_equal(store_begin(s, &e), 0);
    assert_int_equal(store_hit_put(s, &old, &inserted, &e), 0);
    assert_int_equal(store_commit(s, &e), 0);
    assert_true(inserted);
    int64_t old_id = query_int(s, "SELECT max(id) FROM screening_hits");
    screen_ctx *ctx = load_lists();
    compliance_actor sys = actor("sync", T0);
    compliance_screen_stats st;
    assert_int_equal(compliance_screen_pending(s, as(&sys), ctx, NULL, &st, &e), 0);
    assert_int_equal(st.cases_opened, 2);
    assert_true(st.hits >= 2);
    /* every hit has its case: the subject's case on its own escrow */
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits WHERE case_id IS NULL"), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits h JOIN cases c"
                                  " ON c.id = h.case_id WHERE c.subject <> h.subject"
                                  " OR c.chain_id <> h.chain_id OR c.escrow <> h.escrow"),
                     0);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM screening_hits h JOIN cases c ON c.id = h.case_id"
             " WHERE h.id = %lld AND h.rule = 'X9' AND c.opened_at = %d",
             (long long)old_id, T0);
    assert_int_equal(query_int(s, sql), 1);
    /* the new hits came after the one on file, in the order they were found */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM screening_hits WHERE id > %lld",
             (long long)old_id);
    assert_int_equal(query_int(s, sql), (int)st.hits);
    screen_ctx_free(&ctx);
    store_close(&s);
}

/* Opens n cases directly (one escrow each) with the given priorities, at opened_at T0 + i. */
static void open_cases(store *s, int n, int64_t now)
{
    err e;
    assert_int_equal(store_begin(s, &e), 0);
    for (int i = 0; i < n; i++) {
        store_case c;
        memset(&c, 0, sizeof c);
        addr a = nth_addr((unsigned)(1000 + i));
        addr_to_lower(c.subject, &a);
        c.chain_id = 31337;
        c.escrow = nth_addr((unsigned)(2000 + i));
        c.priority = 1 + i % 3;
        c.score = 50;
        c.opened_at = now + i;
        c.due_at = c.opened_at + compliance_sla_seconds(c.priority);
        bool created;
        assert_int_equal(store_case_open(s, &c, &created, &e), 0);
        assert_true(created);
    }
    assert_int_equal(store_commit(s, &e), 0);
}

/* Oldest highest priority first; snoozed cases wait for their date; overdue queue. */
static void test_queue_order_snooze_overdue(void **state)
{
    (void)state;
    store *s = open_db();
    open_cases(s, 6, T0); /* ids 1..6, priorities 1 2 3 1 2 3 */
    compliance_actor alice = actor("alice", T0 + 10);
    err e;
    /* snooze case 1 (high, oldest) until tomorrow */
    assert_int_equal(compliance_case_snooze(s, as(&alice), 1, "2026-01-02", &e), 0);
    assert_int_equal(compliance_case_snooze(s, as(&alice), 1, "2025-12-31", &e), -1);
    int64_t order[6], id;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(compliance_case_next(s, as(&alice), &id, &e), 0);
        order[i] = id;
    }
    assert_int_equal(compliance_case_next(s, as(&alice), &id, &e), 0);
    assert_int_equal(id, 0); /* only the snoozed one is left */
    int64_t want[5] = {4, 2, 5, 3, 6};
    for (int i = 0; i < 5; i++)
        assert_int_equal(order[i], want[i]);
    compliance_actor tomorrow = actor("bob", T0 + 86400);
    assert_int_equal(compliance_case_next(s, as(&tomorrow), &id, &e), 0);
    assert_int_equal(id, 1);
    /* overdue: at T0 + 5 h, the high cases (4 h SLA) are overdue, the others are not */
    store_case_filter f = {.due_before = T0 + 5 * 3600};
    store_case *cs;
    size_t n;
    assert_int_equal(store_case_list(s, &f, &cs, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(cs[0].priority, 1);
    assert_int_equal(cs[1].priority, 1);
    free(cs);
    f.due_before = T0 + 25 * 3600;
    assert_int_equal(store_case_list(s, &f, &cs, &n, &e), 0);
    assert_int_equal(n, 4);
    free(cs);
    /* a low case is closed by one officer; escalation needs the case taken */
    bool closed;
    assert_int_equal(compliance_case_decide(s, as(&alice), 3, "cleared", NULL, &closed, &e), 0);
    assert_true(closed);
    assert_int_equal(compliance_case_escalate(s, as(&alice), 2, "needs legal", &e), 0);
    store_case c;
    bool found;
    assert_int_equal(store_case_get(s, 2, &c, &found, &e), 0);
    assert_string_equal(c.state, "escalated");
    assert_string_equal(c.assignee, ""); /* back in the escalated queue for a senior officer */
    /* a case held by alice cannot be closed by bob (medium: no four-eyes) */
    compliance_actor bob = actor("bob", T0 + 20);
    assert_int_equal(compliance_case_decide(s, as(&bob), 5, "cleared", NULL, &closed, &e), -1);
    assert_int_equal(e.code, ERR_STATE);
    assert_non_null(strstr(e.msg, "alice"));
    store_close(&s);
}

/* Several processes race on take-next over the same database, many rounds: every case is
 * taken exactly once, none is lost, and the row's assignee is the process that got it. */
static void test_take_next_race(void **state)
{
    (void)state;
    enum { ROUNDS = 4, PROCS = 4, CASES = 40 };
    for (int round = 0; round < ROUNDS; round++) {
        unlink(dbpath);
        char wal[320];
        snprintf(wal, sizeof wal, "%s-wal", dbpath);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s-shm", dbpath);
        unlink(wal);
        /* A new desk each round: its audit log goes with its database (desk.db keeps the
         * log's head, and a log without it is refused). */
        snprintf(wal, sizeof wal, "%s/audit.log", home);
        unlink(wal);
        store *s = open_db();
        open_cases(s, CASES, T0);
        store_close(&s);
        pid_t pids[PROCS];
        for (int p = 0; p < PROCS; p++) {
            pids[p] = fork();
            assert_true(pids[p] >= 0);
            if (pids[p] == 0) {
                char op[32], path[320];
                snprintf(op, sizeof op, "officer%d", p);
                snprintf(path, sizeof path, "%s/taken-%d", home, p);
                FILE *out = fopen(path, "w");
                store *cs = NULL;
                err e;
                if (!out || store_open(&cs, dbpath, &e) < 0)
                    _exit(3);
                compliance_actor a = {.home = home, .operator_name = op, .now = T0 + 100};
                for (;;) {
                    int64_t id;
                    if (compliance_case_next(cs, as(&a), &id, &e) < 0) {
                        fprintf(out, "error %s\n", e.msg);
                        fclose(out);
                        _exit(4);
                    }
                    if (id == 0)
                        break;
                    fprintf(out, "%lld\n", (long long)id);
                }
                store_close(&cs);
                fclose(out);
                _exit(0);
            }
        }
        for (int p = 0; p < PROCS; p++) {
            int status;
            assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }
        int seen[CASES + 1];
        memset(seen, 0, sizeof seen);
        int total = 0;
        s = open_db();
        for (int p = 0; p < PROCS; p++) {
            char path[320], op[32];
            snprintf(path, sizeof path, "%s/taken-%d", home, p);
            snprintf(op, sizeof op, "officer%d", p);
            FILE *in = fopen(path, "r");
            assert_non_null(in);
            long long id;
            while (fscanf(in, "%lld", &id) == 1) {
                assert_true(id >= 1 && id <= CASES);
                seen[id]++;
                total++;
                store_case c;
                bool found;
                err e;
                assert_int_equal(store_case_get(s, id, &c, &found, &e), 0);
                assert_string_equal(c.assignee, op);
            }
            fclose(in);
        }
        assert_int_equal(total, CASES);
        for (int i = 1; i <= CASES; i++)
            assert_int_equal(seen[i], 1);
        assert_int_equal(query_int(s, "SELECT count(*) FROM cases WHERE state = 'assigned'"),
                         CASES);
        assert_int_equal(query_int(s, "SELECT count(*) FROM case_events WHERE action = 'take'"),
                         CASES);
        store_close(&s);
    }
    audit_report rep;
    err e;
    assert_int_equal(audit_verify(home, NULL, &rep, &e), 0);
    assert_true(rep.ok);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* With a USD price the amount rules fire from synced escrows: 10 ETH at 1,500 USD is
 * 15,000 USD, at or above the documented 10,000 threshold (large_amount, score 30: a low
 * case on the payer's entity); 6.666 ETH is 9,999 USD: no hit. Both parties are verified,
 * so nothing else hits. */
static void test_prices_large_amount(void **state)
{
    (void)state;
    store *s = open_db();
    add_chain(s);
    int64_t payer_id = add_entity(s, "Payer AG", "verified", "2030-12-31", PAYER);
    const char *payee_s = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    add_entity(s, "Payee AG", "verified", "2030-12-31", payee_s);
    addr e1 = nth_addr(1), e2 = nth_addr(2), payer = A(PAYER), payee = A(payee_s);
    put_escrow_amount(s, &e1, &payer, &payee, 5, "10000000000000000000");
    put_escrow_amount(s, &e2, &payer, &payee, 6, "6666000000000000000");
    char path[320];
    snprintf(path, sizeof path, "%s/prices.csv", home);
    write_file(path, "# chain,token,usd\n31337,native,1500\n");
    compliance_prices prices;
    err e;
    assert_int_equal(compliance_prices_load(&prices, path, &e), 0);
    assert_int_equal(prices.n, 1);
    screen_ctx *ctx = load_lists();
    compliance_actor sys = actor("sync", T0);
    compliance_screen_stats st;
    assert_int_equal(compliance_screen_pending(s, as(&sys), ctx, &prices, &st, &e), 0);
    assert_int_equal(st.screened, 2);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.cases_opened, 1);
    store_case c;
    bool found;
    assert_int_equal(store_case_get(s, 1, &c, &found, &e), 0);
    assert_true(found);
    assert_int_equal(c.entity_id, payer_id);
    assert_memory_equal(c.escrow.b, e1.b, 20);
    assert_int_equal(c.priority, 3);
    assert_int_equal(c.due_at - c.opened_at, 72 * 3600);
    compliance_prices_free(&prices);
    write_file(path, "31337,native,1500\n31337,0x12,3\n");
    assert_int_equal(compliance_prices_load(&prices, path, &e), -1);
    assert_non_null(strstr(e.msg, "prices.csv:2"));
    /* A line longer than the reader's buffer is refused on its own line number, not read
     * on as a second line (a long comment ended in "line 2: expected chain_id,..."). */
    char longline[1200];
    memset(longline, 0, sizeof longline);
    longline[0] = '#';
    memset(longline + 1, 'x', 700);
    strcat(longline, "\n31337,native,1500\n");
    write_file(path, longline);
    assert_int_equal(compliance_prices_load(&prices, path, &e), -1);
    if (!strstr(e.msg, "prices.csv:1: line too long"))
        fail_msg("%s", e.msg);
    /* Numbers a price must not be: hex, subnormal, overflowing. */
    static const char *const bad[] = {"31337,native,0x10\n", "31337,native,1e-310\n",
                                      "31337,native,1e400\n", "31337,native,inf\n",
                                      "31337,native, 5\n"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_file(path, bad[i]);
        if (compliance_prices_load(&prices, path, &e) != -1)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(e.msg, "prices.csv:1"));
    }
    screen_ctx_free(&ctx);
    store_close(&s);
}

/* All or nothing, with the line of every bad row (a quoted field may span lines). */
static void test_import(void **state)
{
    (void)state;
    store *s = open_db();
    compliance_actor a = actor("alice", T0);
    char path[320];
    snprintf(path, sizeof path, "%s/e.csv", home);
    write_file(path,
               "name,type,jurisdiction,kyc,kyc_expires,tier,risk,review_due,chain_id,address\n"
               "\"Doe, Jane\",individual,CH,verified,2030-01-01,1,low,,,\n"
               "\"Multi\nLine Ltd\",company,GB,,,,,,,\n"
               "Bad Country,company,QQ,,,,,,,\n"
               "\n"
               "Bad Date,company,DE,verified,2030-02-30,,,,,\n"
               "Short,company\n"
               "Bad Addr,company,FR,,,,,,1,0x1234\n"
               "\"Doe, Jane\",individual,CH,,,,,,,\n");
    compliance_import_report r;
    err e;
    assert_int_equal(compliance_entity_import(s, as(&a), path, &r, &e), -1);
    assert_int_equal(r.n_imported, 0);
    size_t want_lines[] = {3, 5, 7, 8, 9, 10}; /* the quoted name spans lines 3-4 */
    assert_int_equal(r.n_errors, 6);
    for (size_t i = 0; i < r.n_errors; i++)
        assert_int_equal(r.errors[i].line, want_lines[i]);
    assert_non_null(strstr(r.errors[1].msg, "QQ"));
    assert_non_null(strstr(r.errors[2].msg, "2030-02-30"));
    assert_non_null(strstr(r.errors[5].msg, "line 2"));
    compliance_import_report_free(&r);
    assert_int_equal(query_int(s, "SELECT count(*) FROM entities"), 0);

    write_file(path,
               "name,type,jurisdiction,kyc,kyc_expires,tier,risk,review_due,chain_id,address\n"
               "\"Doe, Jane\",individual,CH,verified,2030-01-01,1,low,,,\n"
               "東京トレーディング 🚀,company,JP,pending,,2,high,2026-06-30,31337," PAYER "\n");
    assert_int_equal(compliance_entity_import(s, as(&a), path, &r, &e), 0);
    assert_int_equal(r.n_imported, 2);
    compliance_import_report_free(&r);
    store_entity x;
    bool found;
    assert_int_equal(store_entity_find_name(s, "東京トレーディング 🚀", &x, &found, &e), 0);
    assert_true(found);
    assert_string_equal(x.jurisdiction, "JP");
    addr p = A(PAYER);
    int64_t owner;
    assert_int_equal(store_entity_find_addr(s, 31337, &p, &owner, &e), 0);
    assert_int_equal(owner, x.id);
    /* importing again clashes with the registry: nothing imported, lines named */
    assert_int_equal(compliance_entity_import(s, as(&a), path, &r, &e), -1);
    assert_int_equal(r.n_errors, 2);
    assert_int_equal(r.errors[0].line, 2);
    compliance_import_report_free(&r);
    assert_int_equal(query_int(s, "SELECT count(*) FROM entities"), 2);
    store_close(&s);
}

static void test_entity_checks(void **state)
{
    (void)state;
    assert_true(compliance_country_valid("CH"));
    assert_true(compliance_country_valid("JP"));
    assert_false(compliance_country_valid("XX"));
    assert_false(compliance_country_valid("ch"));
    assert_false(compliance_country_valid("C"));
    store_entity x;
    memset(&x, 0, sizeof x);
    snprintf(x.name, sizeof x.name, "ok\x01");
    snprintf(x.type, sizeof x.type, "company");
    snprintf(x.jurisdiction, sizeof x.jurisdiction, "CH");
    snprintf(x.kyc, sizeof x.kyc, "pending");
    snprintf(x.risk, sizeof x.risk, "low");
    x.tier = 1;
    err e;
    assert_int_equal(compliance_entity_check(&x, &e), -1); /* control character */
    snprintf(x.name, sizeof x.name, "bad \xc3\x28 utf8");
    assert_int_equal(compliance_entity_check(&x, &e), -1);
    snprintf(x.name, sizeof x.name, "Zürich Ärzte AG 🏔");
    assert_int_equal(compliance_entity_check(&x, &e), 0);
    x.tier = 9;
    assert_int_equal(compliance_entity_check(&x, &e), -1);
    assert_non_null(strstr(e.msg, "tier"));
}

/* Only operators holding the compliance role act on entities and cases; the refusal names
 * the operator, the missing role and the command that grants it. */
static void test_officer_roles(void **state)
{
    (void)state;
    store *s = open_db();
    add_chain(s);
    addr esc = nth_addr(7), payer = A(PAYER), payee = A(SANCTIONED);
    put_escrow(s, &esc, &payer, &payee, 1);
    screen_ctx *ctx = load_lists();
    compliance_actor sys = actor("sync", T0);
    err e;
    assert_int_equal(compliance_screen_pending(s, as(&sys), ctx, NULL, NULL, &e), 0);
    screen_ctx_free(&ctx);
    int64_t id = 0;
    compliance_actor nobody = actor("mallory", T0), trader = actor("trader", T0);
    assert_int_equal(compliance_case_next(s, as(&nobody), &id, &e), -1);
    assert_int_equal(e.code, ERR_DENIED);
    assert_non_null(strstr(e.msg, "mallory"));
    assert_non_null(strstr(e.msg, "compliance role"));
    assert_non_null(strstr(e.msg, "fusion operator add"));
    assert_int_equal(compliance_case_next(s, as(&trader), &id, &e), -1);
    assert_int_equal(e.code, ERR_DENIED);
    assert_non_null(strstr(e.msg, "trader"));
    assert_non_null(strstr(e.msg, "compliance role"));
    store_entity x;
    memset(&x, 0, sizeof x);
    snprintf(x.name, sizeof x.name, "Nobody Ltd");
    snprintf(x.type, sizeof x.type, "company");
    snprintf(x.jurisdiction, sizeof x.jurisdiction, "CH");
    snprintf(x.kyc, sizeof x.kyc, "verified");
    snprintf(x.risk, sizeof x.risk, "low");
    x.tier = 1;
    assert_int_equal(compliance_entity_add(s, as(&trader), &x, &e), -1);
    assert_int_equal(e.code, ERR_DENIED);
    assert_int_equal(query_int(s, "SELECT count(*) FROM entities"), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM cases WHERE assignee IS NOT NULL"), 0);
    compliance_actor bob = actor("bob", T0);
    assert_int_equal(compliance_case_next(s, as(&bob), &id, &e), 0);
    assert_true(id > 0);
    store_close(&s);
}

/* The role is read again where the decision is written: an officer who passed the check
 * and lost the role (or was removed) before the write records nothing, whatever module
 * asked. The revocation here lands between the two, as another admin's command would. */
static void test_role_revoked_before_write(void **state)
{
    (void)state;
    store *s = open_db();
    err e;
    json_t *det = json_pack("{s:s}", "name", "Late Ltd");
    compliance_actor bob = actor("bob", T0);
    assert_int_equal(compliance_require_officer(s, as(&bob), &e), 0); /* the check passes */
    bool found = false;
    assert_int_equal(store_operator_set_roles(s, "bob", "approver", &found, &e), 0);
    assert_true(found);
    int64_t seq0 = query_int(s, "SELECT seq FROM audit_head");
    assert_int_equal(store_begin(s, &e), 0);
    int rc = store_audit(s, home, "bob", "entity.add", det, &e);
    store_rollback(s);
    assert_int_equal(rc, -1);
    assert_int_equal(e.code, ERR_DENIED);
    assert_non_null(strstr(e.msg, "no longer holds the compliance role"));
    assert_int_equal(query_int(s, "SELECT seq FROM audit_head"), seq0);
    /* removed meanwhile: the same */
    assert_int_equal(store_operator_remove(s, "bob", &found, &e), 0);
    assert_int_equal(store_begin(s, &e), 0);
    rc = store_audit(s, home, "bob", "entity.add", det, &e);
    store_rollback(s);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e.msg, "no longer a desk operator"));
    /* another key put in place of the one unlocked: the same */
    store_operator o;
    memset(&o, 0, sizeof o);
    snprintf(o.name, sizeof o.name, "bob");
    snprintf(o.roles, sizeof o.roles, "approver,compliance");
    o.address = op_addr("someone else");
    o.created_at = T0;
    assert_int_equal(store_operator_add(s, &o, &e), 0);
    assert_int_equal(store_begin(s, &e), 0);
    rc = store_audit(s, home, "bob", "entity.add", det, &e);
    store_rollback(s);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(e.msg, "no longer the one unlocked"));
    assert_int_equal(query_int(s, "SELECT seq FROM audit_head"), seq0);
    /* the key and role back: recorded */
    assert_int_equal(store_operator_remove(s, "bob", &found, &e), 0);
    o.address = op_addr("bob");
    assert_int_equal(store_operator_add(s, &o, &e), 0);
    assert_int_equal(store_begin(s, &e), 0);
    rc = store_audit(s, home, "bob", "entity.add", det, &e);
    assert_int_equal(rc == 0 ? store_commit(s, &e) : (store_rollback(s), -1), 0);
    assert_int_equal(query_int(s, "SELECT seq FROM audit_head"), seq0 + 1);
    json_decref(det);
    store_close(&s);
}

/* ---- the desk's screener: configuration file, reorgs, SLA alerts, concurrency ---- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0); /* desk configuration is the operator's alone */
}

/* On a signed desk the rules loaded must be the compliance.conf an officer signed: an
 * unsigned file is refused naming the command, and rules loaded from one file while the
 * signed one is in place when checked (a file swapped between the two reads) are refused
 * too. */
static void test_config_signed(void **state)
{
    (void)state;
    store *s = open_db();
    char path[400], other[400];
    snprintf(path, sizeof path, "%s/compliance.conf", home);
    snprintf(other, sizeof other, "%s/loose.conf", home);
    const char *text = "sla.low_hours = 100\n";
    write_text(path, text);
    write_text(other, "sla.low_hours = 1000\n");
    compliance_config cfg, loose;
    compliance_sanctions_decision d;
    err e;
    compliance_config_default(&cfg);
    assert_int_equal(compliance_config_load(&cfg, path, &e), 0);
    assert_int_equal(compliance_config_allowed(&cfg, path, dbpath, &d, &e), -1);
    assert_non_null(strstr(e.msg, "config sign compliance"));
    /* officer0 signs it, as `fusion config sign compliance` records it */
    const audit_config_kind *k = audit_config_kind_find("compliance");
    json_t *det = audit_config_details(k, text, strlen(text), true, NULL);
    assert_non_null(det);
    sign_as_op("officer0");
    assert_int_equal(audit_append(home, "officer0", k->action, det, &e), 0);
    json_decref(det);
    assert_int_equal(compliance_config_allowed(&cfg, path, dbpath, &d, &e), 0);
    /* the rules of another file, checked against the signed one */
    compliance_config_default(&loose);
    assert_int_equal(compliance_config_load(&loose, other, &e), 0);
    assert_int_equal(compliance_config_allowed(&loose, path, dbpath, &d, &e), -1);
    assert_non_null(strstr(e.msg, "changed while it was read"));
    store_close(&s);
}

/* Every value read back is the one written in the file; errors name FILE:LINE and the key;
 * a bad file changes nothing. */
static void test_config_file(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/compliance.conf", home);
    write_text(path, "# desk rules\n"
                     "threshold_usd = 25000\n"
                     "\n"
                     "velocity.enabled = no   # too noisy for this desk\n"
                     "structuring.window_hours = 48\n"
                     "structuring.band_low = 0.8\n"
                     "velocity.window_minutes = 30\n"
                     "kyc.score_rejected = 90\n"
                     "sla.high_hours = 2\n"
                     "sla.low_hours = 120\n");
    compliance_config c;
    compliance_config_default(&c);
    err e;
    assert_int_equal(compliance_config_load(&c, path, &e), 0);
    assert_true(c.rules.threshold_usd == 25000.0);
    assert_false(c.rules.velocity.on);
    assert_true(c.rules.sanctions.on);
    assert_int_equal(c.rules.structuring.window_s, 48 * 3600);
    assert_true(c.rules.structuring.band_low == 0.8);
    assert_int_equal(c.rules.velocity.window_s, 30 * 60);
    assert_int_equal(c.rules.kyc.score_rejected, 90);
    assert_int_equal(compliance_config_sla(&c, 1), 2 * 3600);
    assert_int_equal(compliance_config_sla(&c, 2), 24 * 3600); /* the documented default */
    assert_int_equal(compliance_config_sla(&c, 3), 120 * 3600);
    char *text = compliance_config_text(&c);
    assert_non_null(text);
    assert_non_null(strstr(text, "velocity.enabled = no\n"));
    assert_non_null(strstr(text, "sla.high_hours = 2\n"));
    assert_non_null(strstr(text, "threshold_usd = 25000\n"));
    free(text);

    static const struct {
        const char *text, *want;
    } bad[] = {
        {"sanctions.enabled = yes\nsanctions.scor = 5\n", ":2: unknown key 'sanctions.scor'"},
        {"kyc.score = 101\n", ":1: kyc.score '101' must be a whole score from 0 to 100"},
        {"\n\nvelocity.enabled = maybe\n", ":3: velocity.enabled 'maybe' must be yes or no"},
        {"sla.high_hours = 0\n", ":1: sla.high_hours '0'"},
        {"threshold_usd = -5\n", ":1: threshold_usd '-5'"},
        {"large_amount.score = 1\nlarge_amount.score = 2\n", ":2: large_amount.score is set twice"},
        {"just words\n", ":1: expected key = value"},
        {"structuring.band_low = 2\nstructuring.band_high = 1\n", "band"},
    };
    /* A configuration others may read or change is refused, with the chmod that fixes it. */
    const mode_t loose[] = {0644, 0620, 0604};
    for (size_t i = 0; i < sizeof loose / sizeof loose[0]; i++) {
        assert_int_equal(chmod(path, loose[i]), 0);
        compliance_config d;
        compliance_config_default(&d);
        assert_int_equal(compliance_config_load(&d, path, &e), -1);
        if (!strstr(e.msg, "chmod 600"))
            fail_msg("loose config %04o: '%s' lacks the chmod", (unsigned)loose[i], e.msg);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(path, bad[i].text);
        compliance_config d;
        compliance_config_default(&d);
        compliance_config before = d;
        assert_int_equal(compliance_config_load(&d, path, &e), -1);
        if (!strstr(e.msg, bad[i].want))
            fail_msg("config %zu: '%s' lacks '%s'", i, e.msg, bad[i].want);
        assert_memory_equal(&d, &before, sizeof d);
    }
}

static compliance_screener *new_screener(void)
{
    const char *root = getenv("FUSION_ROOT");
    char manifest[512], fatf[512];
    snprintf(manifest, sizeof manifest, "%s/data/sanctions/manifest.txt", root);
    snprintf(fatf, sizeof fatf, "%s/data/compliance/fatf-jurisdictions.csv", root);
    compliance_sources src = {.lists = manifest, .fatf = fatf};
    compliance_screener *scr = NULL;
    err e;
    if (compliance_screener_new(&scr, home, &src, &e) < 0)
        fail_msg("screener: %s", e.msg);
    return scr;
}

/* A reorg removes a screened escrow: its hits and screened mark go (a projection), its
 * case stays with one "escrow_vanished" event; when the escrow comes back it is screened
 * again into the same case. */
static void test_screener_reorg(void **state)
{
    (void)state;
    store *s = open_db();
    add_chain(s);
    addr esc = nth_addr(3), payer = A(PAYER), payee = A(SANCTIONED);
    put_escrow(s, &esc, &payer, &payee, 7);
    compliance_screener *scr = new_screener();
    compliance_screen_stats st;
    err e;
    assert_int_equal(compliance_screener_run(scr, s, T0, &st, &e), 0);
    assert_int_equal(st.screened, 1);
    assert_int_equal(st.cases_opened, 2); /* payee (sanctions) and payer (unknown) */
    int hits = query_int(s, "SELECT count(*) FROM screening_hits");
    assert_true(hits >= 3);
    assert_int_equal(store_escrow_delete(s, 31337, &esc, &e), 0); /* what a reorg does */
    assert_int_equal(compliance_screener_run(scr, s, T0 + 10, &st, &e), 0);
    assert_int_equal(st.screened, 0);
    /* evidence is append-only: every hit stays, marked as reorged */
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits WHERE reorged_at IS NULL"),
                     0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits"), hits);
    assert_int_equal(query_int(s, "SELECT count(*) FROM screened_escrows"), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM cases"), 2);
    assert_int_equal(
        query_int(s, "SELECT count(*) FROM case_events WHERE action = 'escrow_vanished'"), 2);
    assert_int_equal(audit_count("case.escrow_vanished"), 2);
    assert_int_equal(compliance_screener_run(scr, s, T0 + 20, &st, &e), 0);
    assert_int_equal(
        query_int(s, "SELECT count(*) FROM case_events WHERE action = 'escrow_vanished'"), 2);
    put_escrow(s, &esc, &payer, &payee, 9); /* the replayed fork holds it again */
    assert_int_equal(compliance_screener_run(scr, s, T0 + 30, &st, &e), 0);
    assert_int_equal(st.screened, 1);
    assert_int_equal(st.cases_opened, 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits"), hits);
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits WHERE case_id IS NULL"), 0);
    compliance_screener_free(&scr);
    assert_null(scr);
    store_close(&s);
}

/* n escrows screened (a case and hits each), then half of them gone (what a reorg does) and
 * two more passes; *cases and *hits as the first pass left them. The caller closes the store
 * (its prepared statements keep their step counts until then). */
static store *screened_then_half_gone(unsigned n, compliance_screener **scr, int *cases,
                                      int *hits)
{
    store *s = open_db();
    add_chain(s);
    for (unsigned i = 0; i < n; i++) {
        addr esc = nth_addr(1000 + i), payer = nth_addr(5000 + i), payee = nth_addr(9000 + i);
        put_escrow(s, &esc, &payer, &payee, 7);
    }
    *scr = new_screener();
    compliance_screen_stats st;
    err e;
    assert_int_equal(compliance_screener_run(*scr, s, T0, &st, &e), 0);
    assert_int_equal(st.screened, n);
    *cases = query_int(s, "SELECT count(*) FROM cases");
    *hits = query_int(s, "SELECT count(*) FROM screening_hits");
    for (unsigned i = 0; i < n; i += 2) {
        addr esc = nth_addr(1000 + i);
        assert_int_equal(store_escrow_delete(s, 31337, &esc, &e), 0);
    }
    assert_int_equal(compliance_screener_run(*scr, s, T0 + 10, &st, &e), 0);
    assert_int_equal(compliance_screener_run(*scr, s, T0 + 20, &st, &e), 0);
    return s;
}

/* The reorg sweep at the start of every screening pass must not read every hit for every
 * case: with the inflow check ahead of the escrow check and no index of hits by case, each
 * pass did cases x hits row reads (4 s of a 6 s initial sync of the 100k bench chain). The
 * measure is SQLite's own count of virtual-machine steps of the sweep's statement, which
 * grows with cases x hits when it scans and with cases + hits when it does not. */
static void test_sweep_linear(void **state)
{
    (void)state;
    enum { N = 300 };
    compliance_screener *scr;
    int cases, hits;
    store *s = screened_then_half_gone(N, &scr, &cases, &hits);
    assert_true(cases >= N && hits >= N);
    assert_int_equal(
        query_int(s, "SELECT count(DISTINCT case_id) FROM case_events WHERE action = 'escrow_vanished'"),
        query_int(s, "SELECT count(*) FROM cases WHERE escrow IN (SELECT escrow FROM screening_hits"
                     " WHERE reorged_at IS NOT NULL)"));
    long steps = -1;
    for (sqlite3_stmt *p = sqlite3_next_stmt(s->db, NULL); p; p = sqlite3_next_stmt(s->db, p))
        if (strncmp(sqlite3_sql(p), "SELECT c.id FROM cases c", 24) == 0)
            steps = sqlite3_stmt_status(p, SQLITE_STMTSTATUS_VM_STEP, 0);
    assert_true(steps > 0);
    /* three passes; a scan costs cases x hits (~90,000 hit rows a pass here) */
    print_message("sweep: %d cases, %d hits, %ld steps over 3 passes\n", cases, hits, steps);
    assert_true(steps < 3L * 60 * (cases + hits));
    compliance_screener_free(&scr);
    store_close(&s);
}

/* The same class, for the whole pass: a screening pass over n new escrows, and the passes
 * after a reorg took half of them, must cost SQLite about twice the steps for twice the
 * escrows. Every statement the store prepared counts (sqlite3_next_stmt over the store's
 * connection): a statement that reads a table per row it writes grows four times. */
static long pass_steps(unsigned n)
{
    setup(NULL);
    compliance_screener *scr;
    int cases, hits;
    store *s = screened_then_half_gone(n, &scr, &cases, &hits);
    long steps = 0;
    for (sqlite3_stmt *p = sqlite3_next_stmt(s->db, NULL); p; p = sqlite3_next_stmt(s->db, p))
        steps += sqlite3_stmt_status(p, SQLITE_STMTSTATUS_VM_STEP, 0);
    compliance_screener_free(&scr);
    store_close(&s);
    teardown(NULL);
    return steps;
}

static void test_pass_linear(void **state)
{
    (void)state;
    long a = pass_steps(150), b = pass_steps(300);
    print_message("screening passes: %ld steps for 150 escrows, %ld for 300 (x%.2f)\n", a, b,
                  (double)b / (double)a);
    assert_true(a > 0);
    assert_true(b < a * 26 / 10);
}

/* n escrows as a sync leaves them: each with its creating transaction and its creation
 * event (so that the screened mark names a block hash), unknown parties (a case for the
 * payer and one for the payee). */
static store *created_escrows(unsigned n)
{
    store *s = open_db();
    add_chain(s);
    err e;
    for (unsigned i = 0; i < n; i++) {
        store_escrow x;
        memset(&x, 0, sizeof x);
        x.chain_id = 31337;
        x.address = nth_addr(1000 + i);
        x.payer = nth_addr(5000 + i);
        x.payee = nth_addr(9000 + i);
        x.amount = u256_from_u64(1 + i);
        x.created_block = 7 + i / 4;
        memset(x.created_tx, 0x11, 32);
        memcpy(x.created_tx, &i, sizeof i);
        x.state = ESCROW_CREATED;
        if (store_escrow_put(s, &x, &e) < 0)
            fail_msg("escrow_put: %s", e.msg);
        store_event ev;
        memset(&ev, 0, sizeof ev);
        ev.chain_id = 31337;
        ev.block_number = x.created_block;
        memset(ev.block_hash, 0xb0 + (int)(x.created_block % 8), 32);
        memcpy(ev.tx_hash, x.created_tx, 32);
        ev.log_index = i;
        ev.address = nth_addr(3);
        ev.data = (const uint8_t *)"";
        snprintf(ev.name, sizeof ev.name, "EscrowCreated");
        ev.has_escrow = true;
        ev.escrow = x.address;
        if (store_event_put(s, &ev, NULL, &e) < 0)
            fail_msg("event_put: %s", e.msg);
    }
    return s;
}

/* How often the store's COMMIT ran since the last call. */
static long commit_runs(store *s)
{
    long n = 0;
    for (sqlite3_stmt *p = sqlite3_next_stmt(s->db, NULL); p; p = sqlite3_next_stmt(s->db, p))
        if (strcmp(sqlite3_sql(p), "COMMIT") == 0)
            n += sqlite3_stmt_status(p, SQLITE_STMTSTATUS_RUN, 1);
    return n;
}

/* What a screening pass pays per new escrow, apart from the rows its hits, cases and case
 * events need: the escrow's read and its screened mark, one statement each. A pass that
 * asks the escrow's block, its "already screened?" question and its hits' attachment to a
 * case in statements of their own, or looks the creation event up again to write the mark,
 * runs more statements and more of SQLite's virtual-machine steps per escrow. Counted over
 * every statement the store's connection prepared (runs: SQLITE_STMTSTATUS_RUN; steps:
 * SQLITE_STMTSTATUS_VM_STEP), so that nothing depends on the machine. */
static void test_pass_statements(void **state)
{
    (void)state;
    enum { N = 200 };
    store *s = created_escrows(N);
    /* the statements of loading the desk, not of the pass */
    for (sqlite3_stmt *p = sqlite3_next_stmt(s->db, NULL); p; p = sqlite3_next_stmt(s->db, p)) {
        sqlite3_stmt_status(p, SQLITE_STMTSTATUS_RUN, 1);
        sqlite3_stmt_status(p, SQLITE_STMTSTATUS_VM_STEP, 1);
    }
    compliance_screener *scr = new_screener();
    compliance_screen_stats st;
    err e;
    assert_int_equal(compliance_screener_run(scr, s, T0, &st, &e), 0);
    assert_int_equal(st.screened, N);
    int cases = query_int(s, "SELECT count(*) FROM cases");
    int hits = query_int(s, "SELECT count(*) FROM screening_hits");
    int events = query_int(s, "SELECT count(*) FROM case_events");
    assert_int_equal(cases, 2 * N);
    assert_int_equal(query_int(s, "SELECT count(*) FROM screened_escrows WHERE"
                                  " created_block_hash IS NULL"),
                     0);
    long runs = 0, steps = 0;
    for (sqlite3_stmt *p = sqlite3_next_stmt(s->db, NULL); p; p = sqlite3_next_stmt(s->db, p)) {
        if (strncmp(sqlite3_sql(p), "SELECT count(*) FROM", 20) == 0)
            continue; /* query_int's own */
        runs += sqlite3_stmt_status(p, SQLITE_STMTSTATUS_RUN, 0);
        steps += sqlite3_stmt_status(p, SQLITE_STMTSTATUS_VM_STEP, 0);
    }
    /* a trigger's program counts as a run: the API feed's row of each opened case */
    int feed = query_int(s, "SELECT count(*) FROM api_feed WHERE kind = 'case.opened'");
    assert_int_equal(feed, cases);
    long rows = (long)cases + feed + hits + events;
    print_message("pass over %d escrows: %d cases, %d hits, %d case events, %d feed rows; %ld statement runs"
                  " (%ld beyond one a row), %ld steps (%ld an escrow)\n",
                  N, cases, hits, events, feed, runs, runs - rows, steps, steps / N);
    /* a row written, a statement; then the escrow's read and its mark, and a pass's
     * fixed statements (lists, sweeps, the batches' BEGIN and COMMIT) */
    assert_true(runs - rows < 2L * N + 100);
    assert_true(steps < 580L * N);
    /* Commits: a commit writes every page its transaction touched, and new cases and hits
     * land all over their unique indexes, so a transaction holds several audit rows' worth
     * of cases. The pass's own commits are those beyond a pass with nothing new. */
    long commits = commit_runs(s);
    assert_int_equal(compliance_screener_run(scr, s, T0 + 10, &st, &e), 0);
    assert_int_equal(st.screened, 0);
    long fixed = commit_runs(s);
    int rows_opened = audit_count("case.open");
    print_message("%d case.open audit rows, %ld commits of the screening (%ld in all)\n",
                  rows_opened, commits - fixed, commits);
    assert_true(rows_opened >= 2);
    assert_true(commits - fixed >= 1 && 2 * (commits - fixed) <= rows_opened);
    compliance_screener_free(&scr);
    store_close(&s);
}

/* The same class for prices: a priced escrow's USD estimate needs its token's decimals (the
 * chain's native decimals for ETH), which a pass read once per escrow. They are read once
 * per pass, like the prices; the estimates, and so the hits of the amount rules, stay the
 * same (test_oracle_prices and test_prices_large_amount). */
static void test_pass_prices_once(void **state)
{
    (void)state;
    enum { N = 60 };
    store *s = open_db();
    add_chain(s); /* 31337, native ETH, 18 decimals */
    err e;
    store_token usdc = {.chain_id = 31337, .symbol = "USDC", .address = nth_addr(12),
                        .decimals = 6};
    assert_int_equal(store_token_put(s, &usdc, &e), 0);
    store_feed eth = {.chain_id = 31337, .address = nth_addr(21), .asset = "ETH", .decimals = 8};
    store_feed usd = {.chain_id = 31337, .address = nth_addr(22), .asset = "USDC", .decimals = 8};
    assert_int_equal(store_feed_put(s, &eth, &e), 0);
    assert_int_equal(store_feed_put(s, &usd, &e), 0);
    bool ins;
    store_price_obs o = {.chain_id = 31337, .feed = eth.address, .round_id = "1",
                         .answer = "312550000000", .updated_at = T0, .observed_at = T0};
    assert_int_equal(store_price_obs_put(s, &o, &ins, &e), 0);
    store_price_obs u = {.chain_id = 31337, .feed = usd.address, .round_id = "7",
                         .answer = "99980000", .updated_at = T0, .observed_at = T0};
    assert_int_equal(store_price_obs_put(s, &u, &ins, &e), 0);
    for (unsigned i = 0; i < N; i++) {
        store_escrow x;
        memset(&x, 0, sizeof x);
        x.chain_id = 31337;
        x.address = nth_addr(1000 + i);
        x.payer = nth_addr(5000 + i);
        x.payee = nth_addr(9000 + i);
        if (i % 2)
            x.token = usdc.address;
        x.amount = u256_from_u64(1000000000ull * (i + 1));
        x.created_block = 7;
        x.state = ESCROW_CREATED;
        assert_int_equal(store_escrow_put(s, &x, &e), 0);
    }
    for (sqlite3_stmt *p = sqlite3_next_stmt(s->db, NULL); p; p = sqlite3_next_stmt(s->db, p))
        sqlite3_stmt_status(p, SQLITE_STMTSTATUS_RUN, 1);
    compliance_screener *scr = new_screener();
    compliance_screen_stats st;
    assert_int_equal(compliance_screener_run(scr, s, T0, &st, &e), 0);
    assert_int_equal(st.screened, N);
    long token_reads = 0, chain_reads = 0;
    for (sqlite3_stmt *p = sqlite3_next_stmt(s->db, NULL); p; p = sqlite3_next_stmt(s->db, p)) {
        const char *sql = sqlite3_sql(p);
        long runs = sqlite3_stmt_status(p, SQLITE_STMTSTATUS_RUN, 0);
        if (strstr(sql, " FROM tokens WHERE chain_id = ?"))
            token_reads += runs;
        if (strstr(sql, " FROM chains WHERE chain_id = ?"))
            chain_reads += runs;
    }
    print_message("pass over %d priced escrows: %ld token list reads, %ld chain reads\n", N,
                  token_reads, chain_reads);
    /* the prices' own reads (a token list per chain) and one of each for the decimals */
    assert_true(token_reads <= 4 && chain_reads <= 4);
    compliance_screener_free(&scr);
    store_close(&s);
}

/* Escrows are clones: a reorg can put another escrow (another creating transaction) at
 * the address of one already screened, in a single commit. The mark names the creation,
 * so the gate refuses the newcomer until it is screened, the next pass screens it (its
 * sanctions hit opens a case), and the hits of the escrow it replaced are dropped with a
 * note on their cases. */
static void test_screener_replaced(void **state)
{
    (void)state;
    store *s = open_db();
    add_chain(s);
    addr esc = nth_addr(5), payer = A(PAYER), other = nth_addr(77), listed = A(SANCTIONED);
    store_escrow x;
    memset(&x, 0, sizeof x);
    x.chain_id = 31337;
    x.address = esc;
    x.payer = payer;
    x.payee = other;
    x.amount = u256_from_u64(1);
    x.created_block = 7;
    memset(x.created_tx, 0x11, 32);
    x.state = ESCROW_CREATED;
    err e;
    assert_int_equal(store_escrow_put(s, &x, &e), 0);
    compliance_screener *scr = new_screener();
    compliance_screen_stats st;
    assert_int_equal(compliance_screener_run(scr, s, T0, &st, &e), 0);
    assert_int_equal(st.screened, 1);
    int old_hits = query_int(s, "SELECT count(*) FROM screening_hits");
    assert_true(old_hits >= 1); /* unknown parties */
    int old_cases = query_int(s, "SELECT count(*) FROM cases");
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits WHERE rule = 'sanctions'"),
                     0);
    bool screened = false;
    assert_int_equal(store_escrow_is_screened(s, 31337, &esc, &screened, &e), 0);
    assert_true(screened);

    /* the reorg: another escrow, another payee, at the same address */
    x.payee = listed;
    x.amount = u256_from_u64(10);
    x.created_block = 8;
    memset(x.created_tx, 0x22, 32);
    assert_int_equal(store_escrow_put(s, &x, &e), 0);
    assert_int_equal(store_escrow_is_screened(s, 31337, &esc, &screened, &e), 0);
    assert_false(screened);
    size_t pending = 0;
    assert_int_equal(store_escrow_unscreened(s, &pending, &e), 0);
    assert_int_equal(pending, 1);
    assert_int_equal(compliance_gate_check_at(s, 31337, &esc, "release", T0, &e), -1);
    assert_int_equal(e.code, ERR_DENIED);
    assert_non_null(strstr(e.msg, "not been screened"));

    assert_int_equal(compliance_screener_run(scr, s, T0 + 10, &st, &e), 0);
    assert_int_equal(st.screened, 1);
    assert_true(st.cases_opened >= 1);
    assert_int_equal(store_escrow_is_screened(s, 31337, &esc, &screened, &e), 0);
    assert_true(screened);
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits WHERE rule = 'sanctions'"),
                     1);
    /* the replaced escrow's hits are marked, not deleted (the current ones are the
     * newcomer's own) */
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits WHERE subject = "
                                  "'0x420000000000000000000000000000000000004d' AND "
                                  "reorged_at IS NULL"),
                     0);
    assert_true(query_int(s, "SELECT count(*) FROM screening_hits WHERE subject = "
                             "'0x420000000000000000000000000000000000004d'") > 0);
    assert_int_equal(
        query_int(s, "SELECT count(*) FROM case_events WHERE action = 'escrow_replaced'"),
        old_cases);
    assert_int_equal(audit_count("case.escrow_replaced"), old_cases);
    /* a further pass finds nothing new and notes nothing twice */
    assert_int_equal(compliance_screener_run(scr, s, T0 + 20, &st, &e), 0);
    assert_int_equal(st.screened, 0);
    assert_int_equal(
        query_int(s, "SELECT count(*) FROM case_events WHERE action = 'escrow_replaced'"),
        old_cases);
    compliance_screener_free(&scr);
    store_close(&s);
}

static int alert_open(store *s, const char *key, alert_severity *sev)
{
    store_alert *as = NULL;
    size_t n = 0;
    err e;
    assert_int_equal(store_alert_list(s, false, &as, &n, &e), 0);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(as[i].key, key) == 0) {
            found = 1;
            if (sev)
                *sev = as[i].severity;
        }
    free(as);
    return found;
}

/* Overdue cases raise "case:<id>:sla" alerts (high priority: critical), cleared when the
 * case closes; the risk service's own alert sync leaves them alone. */
static void test_sla_alerts(void **state)
{
    (void)state;
    store *s = open_db();
    open_cases(s, 3, T0); /* #1 high (4 h), #2 medium (24 h), #3 low (72 h) */
    err e;
    size_t raised = 9, cleared = 9;
    assert_int_equal(compliance_sla_alerts(s, T0 + 4 * 3600, &raised, &cleared, &e), 0);
    assert_int_equal(raised, 0); /* due at T0 + 4 h exactly: not past it yet */
    assert_int_equal(compliance_sla_alerts(s, T0 + 5 * 3600, &raised, &cleared, &e), 0);
    assert_int_equal(raised, 1);
    alert_severity sev = ALERT_INFO;
    assert_true(alert_open(s, "case:1:sla", &sev));
    assert_int_equal(sev, ALERT_CRITICAL);
    assert_false(alert_open(s, "case:2:sla", NULL));
    assert_int_equal(store_alert_sync(s, NULL, 0, T0 + 5 * 3600, &raised, &cleared, &e), 0);
    assert_int_equal(cleared, 0); /* the risk service's sync: not its key */
    assert_true(alert_open(s, "case:1:sla", NULL));
    assert_int_equal(compliance_sla_alerts(s, T0 + 25 * 3600, &raised, &cleared, &e), 0);
    assert_int_equal(raised, 1);
    assert_true(alert_open(s, "case:2:sla", &sev));
    assert_int_equal(sev, ALERT_WARNING);
    compliance_actor bob = actor("bob", T0 + 25 * 3600);
    bool closed = false;
    assert_int_equal(compliance_case_take(s, as(&bob), 2, &e), 0);
    assert_int_equal(compliance_case_decide(s, as(&bob), 2, "cleared", NULL, &closed, &e), 0);
    assert_true(closed);
    assert_int_equal(compliance_sla_alerts(s, T0 + 26 * 3600, &raised, &cleared, &e), 0);
    assert_int_equal(cleared, 1);
    assert_false(alert_open(s, "case:2:sla", NULL));
    assert_true(alert_open(s, "case:1:sla", NULL));
    store_close(&s);
}

typedef struct hook_arg {
    compliance_screener *scr;
    int rounds;
} hook_arg;

static void *hook_thread(void *p)
{
    hook_arg *h = p;
    store *s = NULL;
    err e;
    if (store_open(&s, dbpath, &e) < 0)
        return (void *)1;
    for (int i = 0; i < h->rounds; i++)
        compliance_screener_after_commit(h->scr, s, 31337);
    store_close(&s);
    return NULL;
}

/* Two chain threads (own connections) and another process screen the same escrows at the
 * same time: every escrow is screened once, every case opened once, nothing deadlocks. */
static void test_concurrent_screening(void **state)
{
    (void)state;
    enum { N = 60 };
    store *s = open_db();
    add_chain(s);
    addr payer = A(PAYER), payee = A(SANCTIONED);
    for (unsigned i = 0; i < N; i++) {
        addr esc = nth_addr(500 + i);
        put_escrow(s, &esc, i % 2 ? &payer : &payee, i % 2 ? &payee : &payer, 10 + i);
    }
    store_close(&s);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        store *cs = NULL;
        err e;
        screen_ctx *ctx = NULL;
        const char *root = getenv("FUSION_ROOT");
        char manifest[512];
        snprintf(manifest, sizeof manifest, "%s/data/sanctions/manifest.txt", root);
        if (store_open(&cs, dbpath, &e) < 0 ||
            compliance_screen_load(&ctx, manifest, NULL, NULL, &e) < 0)
            _exit(3);
        compliance_actor a = {.home = home, .operator_name = "other", .now = T0};
        for (int i = 0; i < 3; i++)
            if (compliance_screen_pending(cs, as(&a), ctx, NULL, NULL, &e) < 0)
                _exit(4);
        screen_ctx_free(&ctx);
        store_close(&cs);
        _exit(0);
    }
    compliance_screener *scr = new_screener();
    hook_arg h = {scr, 5};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hook_thread, &h), 0);
    for (int i = 0; i < 2; i++) {
        void *rv = (void *)1;
        assert_int_equal(pthread_join(t[i], &rv), 0);
        assert_null(rv);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    s = open_db();
    assert_int_equal(query_int(s, "SELECT count(*) FROM screened_escrows"), N);
    /* one case per subject and escrow: the sanctioned party and the unknown one */
    assert_int_equal(query_int(s, "SELECT count(*) FROM cases"), 2 * N);
    assert_int_equal(query_int(s, "SELECT count(*) FROM case_events WHERE action = 'open'"),
                     2 * N);
    assert_int_equal(audit_cases_opened(), 2 * N);
    assert_true(audit_count("case.open") < 2 * N); /* batched: several cases per row */
    compliance_screen_stats tot;
    compliance_screener_totals(scr, &tot);
    assert_true(tot.screened <= N);
    compliance_screener_free(&scr);
    store_close(&s);
    audit_report rep;
    err e;
    assert_int_equal(audit_verify(home, NULL, &rep, &e), 0);
    assert_true(rep.ok);
}

/* Before a desk action: a create to a sanctioned payee is refused naming the rule and the
 * list version, and records the hit in a case; a create to an unlisted payee passes and
 * records nothing; a blocked entity is refused; a release passes once the officers
 * cleared the escrow's sanctions case. */
static void test_screen_action(void **state)
{
    (void)state;
    store *s = open_db();
    add_chain(s);
    addr payer = A(PAYER), payee = A(SANCTIONED), other = nth_addr(77), zero;
    memset(&zero, 0, sizeof zero);
    compliance_actor alice = actor("alice", T0), bob = actor("bob", T0);
    compliance_action create = {.action = "create", .chain_id = 31337, .payer = &payer,
                                .payee = &payee};
    err e;
    assert_int_equal(compliance_screen_action(s, as(&alice), &create, &e), -1);
    assert_int_equal(e.code, ERR_DENIED);
    assert_non_null(strstr(e.msg, "sanctions list 2024-09-27/fff25e4a7748464d"));
    assert_non_null(strstr(e.msg, "rule sanctions"));
    assert_non_null(strstr(e.msg, "payee 0x8589427373D6D84E98730D7795D8f6f8731FDA16"));
    assert_non_null(strstr(e.msg, "case #1"));
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits WHERE kind = "
                                  "'desk create' AND rule = 'sanctions'"),
                     1);
    assert_int_equal(query_int(s, "SELECT count(*) FROM screening_hits"), 1);
    create.payee = &other;
    assert_int_equal(compliance_screen_action(s, as(&alice), &create, &e), 0);
    assert_int_equal(query_int(s, "SELECT count(*) FROM cases"), 1);

    int64_t id = add_entity(s, "Other GmbH", "verified", "2030-01-01", NULL);
    assert_int_equal(compliance_entity_link(s, as(&alice), id, 31337, &other, &e), 0);
    store_entity x;
    bool found = false;
    assert_int_equal(store_entity_get(s, id, &x, &found, &e), 0);
    x.blocked = true;
    assert_int_equal(store_entity_update(s, &x, &e), 0);
    assert_int_equal(compliance_screen_action(s, as(&alice), &create, &e), -1);
    assert_non_null(strstr(e.msg, "blocked"));
    assert_non_null(strstr(e.msg, "Other GmbH"));

    /* an escrow action reads the parties from the projection */
    addr esc = nth_addr(9);
    put_escrow(s, &esc, &payer, &payee, 3);
    compliance_action rel = {.action = "release", .chain_id = 31337, .escrow = &esc};
    assert_int_equal(compliance_screen_action(s, as(&bob), &rel, &e), -1);
    assert_non_null(strstr(e.msg, "rule sanctions"));
    int64_t cid = 0;
    assert_int_equal(compliance_case_next(s, as(&alice), &cid, &e), 0); /* #1: the create */
    assert_int_equal(compliance_case_next(s, as(&alice), &cid, &e), 0);
    store_case c;
    assert_int_equal(store_case_get(s, cid, &c, &found, &e), 0);
    assert_memory_equal(c.escrow.b, esc.b, ADDR_LEN);
    bool closed = false;
    assert_int_equal(compliance_case_decide(s, as(&alice), cid, "cleared", NULL, &closed, &e), 0);
    assert_false(closed); /* high priority: four-eyes */
    assert_int_equal(compliance_screen_action(s, as(&bob), &rel, &e), -1);
    assert_int_equal(compliance_case_decide(s, as(&bob), cid, "cleared", NULL, &closed, &e), 0);
    assert_true(closed);
    assert_int_equal(compliance_screen_action(s, as(&bob), &rel, &e), 0);
    /* the create-to-the-listed-payee case is still open: a new create is refused again */
    create.payee = &payee;
    assert_int_equal(compliance_screen_action(s, as(&alice), &create, &e), -1);
    (void)zero;
    store_close(&s);
}

/* USD prices from the desk's oracle tables: the latest round of the feed whose asset is
 * the coin's or token's symbol (WETH priced by the ETH feed), scaled by the feed's
 * decimals; a token without a feed gets no price. */
static void test_oracle_prices(void **state)
{
    (void)state;
    store *s = open_db();
    add_chain(s); /* 31337, native ETH */
    err e;
    store_token weth = {.chain_id = 31337, .symbol = "WETH", .address = nth_addr(11),
                        .decimals = 18};
    store_token usdc = {.chain_id = 31337, .symbol = "USDC", .address = nth_addr(12),
                        .decimals = 6};
    store_token odd = {.chain_id = 31337, .symbol = "ODD", .address = nth_addr(13),
                       .decimals = 18};
    assert_int_equal(store_token_put(s, &weth, &e), 0);
    assert_int_equal(store_token_put(s, &usdc, &e), 0);
    assert_int_equal(store_token_put(s, &odd, &e), 0);
    store_feed eth = {.chain_id = 31337, .address = nth_addr(21), .asset = "ETH", .decimals = 8};
    store_feed usd = {.chain_id = 31337, .address = nth_addr(22), .asset = "USDC", .decimals = 8};
    assert_int_equal(store_feed_put(s, &eth, &e), 0);
    assert_int_equal(store_feed_put(s, &usd, &e), 0);
    store_price_obs o = {.chain_id = 31337, .feed = eth.address, .round_id = "1",
                         .answer = "150000000000", .updated_at = T0, .observed_at = T0};
    bool ins;
    assert_int_equal(store_price_obs_put(s, &o, &ins, &e), 0);
    snprintf(o.round_id, sizeof o.round_id, "2");
    snprintf(o.answer, sizeof o.answer, "312550000000"); /* the latest: 3125.5 USD */
    o.updated_at = T0 + 60;
    assert_int_equal(store_price_obs_put(s, &o, &ins, &e), 0);
    store_price_obs u = {.chain_id = 31337, .feed = usd.address, .round_id = "7",
                         .answer = "99980000", .updated_at = T0, .observed_at = T0};
    assert_int_equal(store_price_obs_put(s, &u, &ins, &e), 0);
    compliance_prices p;
    assert_int_equal(compliance_prices_from_oracle(s, &p, &e), 0);
    assert_int_equal(p.n, 3); /* native ETH, WETH, USDC; ODD has no feed */
    int seen = 0;
    addr zero;
    memset(&zero, 0, sizeof zero);
    for (size_t i = 0; i < p.n; i++) {
        assert_int_equal(p.items[i].chain_id, 31337);
        if (!memcmp(p.items[i].token.b, zero.b, ADDR_LEN) ||
            !memcmp(p.items[i].token.b, weth.address.b, ADDR_LEN)) {
            assert_true(fabs(p.items[i].usd_per_unit - 3125.5) < 1e-9);
            seen++;
        } else {
            assert_memory_equal(p.items[i].token.b, usdc.address.b, ADDR_LEN);
            assert_true(fabs(p.items[i].usd_per_unit - 0.9998) < 1e-12);
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    compliance_prices_free(&p);
    /* a feed answering 0 (or beyond the risk service's range) is no price, not a price of
     * 0 USD: every amount in USDC would read as 0 USD, under every threshold, and pass the
     * Travel Rule; without a price the rule refuses (fails closed) */
    snprintf(u.round_id, sizeof u.round_id, "8");
    snprintf(u.answer, sizeof u.answer, "0");
    u.updated_at = T0 + 60;
    assert_int_equal(store_price_obs_put(s, &u, &ins, &e), 0);
    assert_int_equal(compliance_prices_from_oracle(s, &p, &e), 0);
    assert_int_equal(p.n, 2); /* native ETH and WETH; USDC's latest round is no price */
    for (size_t i = 0; i < p.n; i++)
        assert_memory_not_equal(p.items[i].token.b, usdc.address.b, ADDR_LEN);
    compliance_prices_free(&p);
    store_close(&s);
}

#define T_LISTS (T0 + 340 * 86400) /* 2026-12-07 */

/* A list dated in the future would keep every later version of its name out ("a list is
 * not replaced by an older one") and never go stale: a typo in --published (2062 for
 * 2026) is refused, not recorded. */
static void test_list_import_future(void **state)
{
    (void)state;
    store *s = open_db();
    compliance_actor a = actor("alice", T0); /* 2026-01-01 */
    char p[320];
    snprintf(p, sizeof p, "%s/future.txt", home);
    write_file(p, PAYER "\n");
    store_list_version v;
    err e;
    err_clear(&e);
    int rc = compliance_list_import(s, as(&a), p, "plain", "typo", "2062-01-01", &v, &e);
    if (rc == 0)
        fail_msg("a list published 2062-01-01 was imported on 2026-01-01");
    assert_non_null(strstr(e.msg, "future"));
    assert_null(strchr(e.msg, '\n'));
    assert_int_equal(query_int(s, "SELECT count(*) FROM list_versions"), 0);
    /* the day after today is allowed (a publisher in another time zone) */
    if (compliance_list_import(s, as(&a), p, "plain", "typo", "2026-01-02", &v, &e) < 0)
        fail_msg("%s", e.msg);
    store_close(&s);
}

/* Two imports of one list at once: the second must judge its file against the version
 * the first committed (not the one it read before taking the lock), so an older file is
 * not made current over a newer one and the signed counts name the real predecessor.
 * Another connection holds the write lock with version 2 (newer) while the import runs;
 * it commits once the import had time to read the list (the import must wait for it). */
typedef struct import_job {
    store *s;
    const char *path;
    int rc;
    err e;
} import_job;

static void *import_older(void *p)
{
    import_job *j = p;
    compliance_actor a = actor("alice", T_LISTS);
    store_list_version v;
    j->rc = compliance_list_import(j->s, as(&a), j->path, "plain", "race", "2026-11-01", &v,
                                   &j->e);
    return NULL;
}

static void test_list_import_race(void **state)
{
    (void)state;
    store *s = open_db();
    compliance_actor a = actor("alice", T_LISTS);
    char p1[320], p2[320];
    snprintf(p1, sizeof p1, "%s/race-v1.txt", home);
    snprintf(p2, sizeof p2, "%s/race-old.txt", home);
    write_file(p1, PAYER "\n");
    write_file(p2, SANCTIONED "\n");
    store_list_version v1;
    err e;
    if (compliance_list_import(s, as(&a), p1, "plain", "race", "2026-10-01", &v1, &e) < 0)
        fail_msg("import v1: %s", e.msg);
    import_job j = {.path = p2};
    err_clear(&j.e);
    store *h = NULL;
    if (store_open(&j.s, dbpath, &e) < 0 || store_open(&h, dbpath, &e) < 0 ||
        store_begin(h, &e) < 0)
        fail_msg("open: %s", e.msg);
    store_list_version v2 = {.n_entries = 1, .imported_at = T0};
    snprintf(v2.name, sizeof v2.name, "race");
    snprintf(v2.kind, sizeof v2.kind, "addresses");
    snprintf(v2.format, sizeof v2.format, "plain");
    snprintf(v2.source, sizeof v2.source, "newer.txt");
    snprintf(v2.published, sizeof v2.published, "2026-11-09");
    memset(v2.sha256, 'a', 64);
    snprintf(v2.operator_name, sizeof v2.operator_name, "bob");
    store_list_entry ent = {.line = 1};
    snprintf(ent.key, sizeof ent.key, "%s", "0x00000000000000000000000000000000000000aa");
    snprintf(ent.detail, sizeof ent.detail, "EVM");
    if (store_list_version_add(h, &v2, &ent, 1, &e) < 0)
        fail_msg("v2: %s", e.msg);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, import_older, &j), 0);
    usleep(400 * 1000); /* the import reads the list and waits for the lock */
    if (store_commit(h, &e) < 0)
        fail_msg("commit v2: %s", e.msg);
    pthread_join(t, NULL);
    store_close(&h);
    store_close(&j.s);
    if (j.rc == 0)
        fail_msg("a file published 2026-11-01 was imported over version %lld of 2026-11-09",
                 (long long)v2.id);
    assert_int_equal(j.rc, -1);
    assert_non_null(strstr(j.e.msg, "before version"));
    assert_int_equal(query_int(s, "SELECT count(*) FROM list_versions WHERE name = 'race'"), 2);
    store_close(&s);
}

/* Four-eyes needs two keys: an officer who proposed, was removed and came back under
 * another name with the same key (an admin's two steps, or their own) is still the first
 * pair of eyes; the returned key must not confirm its own proposal. */
static void test_four_eyes_key_returns(void **state)
{
    (void)state;
    store *s = open_db();
    open_cases(s, 1, T0); /* case 1: high priority */
    compliance_actor alice = actor("alice", T0 + 60);
    err e;
    bool closed = true;
    assert_int_equal(compliance_case_take(s, as(&alice), 1, &e), 0);
    assert_int_equal(compliance_case_decide(s, as(&alice), 1, "cleared", NULL, &closed, &e), 0);
    assert_false(closed);
    bool found = false;
    assert_int_equal(store_operator_remove(s, "alice", &found, &e), 0);
    assert_true(found);
    store_operator o;
    memset(&o, 0, sizeof o);
    snprintf(o.name, sizeof o.name, "alice2");
    snprintf(o.roles, sizeof o.roles, "compliance");
    o.address = op_addr("alice");
    o.created_at = T0;
    assert_int_equal(store_operator_add(s, &o, &e), 0);
    /* alice2 signs with alice's key */
    audit_signer g;
    memset(&g, 0, sizeof g);
    snprintf(signer_name, sizeof signer_name, "alice");
    snprintf(g.operator_name, sizeof g.operator_name, "alice2");
    g.address = op_addr("alice");
    g.sign = sign_as;
    g.ctx = signer_name;
    audit_signer_set(&g);
    compliance_actor a2 = actor("alice2", T0 + 120);
    int rc = compliance_case_decide(s, &a2, 1, "cleared", "agree", &closed, &e);
    store_case c;
    assert_int_equal(store_case_get(s, 1, &c, &found, &e), 0);
    if (rc == 0 && closed)
        fail_msg("alice's key confirmed alice's own proposal as alice2 (case %s)", c.state);
    assert_int_equal(rc, -1);
    assert_string_not_equal(c.state, "closed");
    store_close(&s);
}

/* A case about a credit facility names it: the name is outside text (any operator typed
 * it; a restored or adopted desk.db brings it): shown on a terminal it must not carry an
 * escape sequence that retitles or clears it. */
static void test_about_facility_name(void **state)
{
    (void)state;
    store *s = open_db();
    int64_t ent = add_entity(s, "Borrower AG", "verified", "2030-01-01", NULL);
    store_credit_facility f;
    memset(&f, 0, sizeof f);
    snprintf(f.name, sizeof f.name, "fac\x1b]0;owned\x07\x1b[2J\xe2\x80\xae");
    f.entity_id = ent;
    snprintf(f.currency, sizeof f.currency, "USDC");
    f.decimals = 6;
    f.day_count = 360;
    f.billing_day = 1;
    f.initial_e4 = 15000;
    f.margin_call_e4 = 12000;
    f.liquidation_e4 = 11000;
    snprintf(f.collateral, sizeof f.collateral, "[]");
    snprintf(f.vaults, sizeof f.vaults, "[]");
    int64_t id = 0;
    err e;
    if (store_credit_facility_add(s, &f, &id, &e) < 0)
        fail_msg("facility add: %s", e.msg);
    store_case c;
    memset(&c, 0, sizeof c);
    c.chain_id = 0;
    c.escrow.b[0] = 3;
    for (int i = 0; i < 8; i++)
        c.escrow.b[19 - i] = (uint8_t)((uint64_t)id >> (8 * i));
    compliance_case_about ab;
    if (compliance_case_about_of(s, &c, &ab, &e) < 0)
        fail_msg("about: %s", e.msg);
    assert_int_equal(ab.kind, COMPLIANCE_ABOUT_FACILITY);
    if (strpbrk(ab.text, "\x1b\x07") || strstr(ab.text, "\xe2\x80\xae"))
        fail_msg("raw control bytes in '%s'", ab.text);
    if (strpbrk(ab.facility, "\x1b\x07"))
        fail_msg("raw control bytes in the facility name");
    assert_non_null(strstr(ab.text, "fac\\x1b]0;owned"));
    store_close(&s);
}

/* The sanctions decision's reason: one line of printable text. Controls (C0, DEL, C1),
 * bidi controls, line separators and bytes that are not UTF-8 are refused with the byte
 * they are at; printable non-ASCII (accents, a zero-width joiner) is taken as typed. */
static void test_reason_check(void **state)
{
    (void)state;
    err e;
    static const struct {
        const char *reason;
        const char *at; /* "at byte N" of the refusal */
    } bad[] = {
        {"feed stale \xe2\x80\xae evil", "at byte 12"}, /* U+202E RLO */
        {"x\xe2\x81\xa7iso\xe2\x81\xa9", "at byte 2"}, /* U+2067 RLI */
        {"nel\xc2\x85", "at byte 4"},                   /* U+0085 NEL (C1) */
        {"csi \xc2\x9b" "2J", "at byte 5"},               /* U+009B CSI (C1) */
        {"esc \x1b[31m", "at byte 5"},                    /* ESC */
        {"del\x7f", "at byte 4"},
        {"two\nlines", "at byte 4"},
        {"sep\xe2\x80\xa8", "at byte 4"}, /* U+2028 */
        {"lrm\xe2\x80\x8e", "at byte 4"}, /* U+200E */
        {"bad \xff byte", "at byte 5"},
        {"cut \xc3", "at byte 5"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        for (int off = 0; off < 2; off++) {
            err_clear(&e);
            assert_int_equal(compliance_sanctions_reason_check(off, bad[i].reason, &e), -1);
            assert_int_equal(e.code, ERR_INVALID);
            assert_non_null(strstr(e.msg, "bidi control"));
            assert_non_null(strstr(e.msg, bad[i].at));
            assert_non_null(strstr(e.msg, "write one line of plain text"));
        }
    assert_int_equal(compliance_sanctions_reason_check(true, "Zo\xc3\xab M\xc3\xbcller: lists "
                                                             "moved, zw\xe2\x80\x8dj", &e), 0);
    assert_int_equal(compliance_sanctions_reason_check(false, "", &e), 0);
    assert_int_equal(compliance_sanctions_reason_check(false, NULL, &e), 0);
    assert_int_equal(compliance_sanctions_reason_check(true, "", &e), -1);
    char longr[COMPLIANCE_REASON_MAX + 2];
    memset(longr, 'a', sizeof longr - 1);
    longr[sizeof longr - 1] = '\0';
    assert_int_equal(compliance_sanctions_reason_check(true, longr, &e), -1);
    longr[COMPLIANCE_REASON_MAX] = '\0';
    assert_int_equal(compliance_sanctions_reason_check(true, longr, &e), 0);
}

int main(void)
{
    /* the desk defaults (shipped lists) come from $FUSION_DATA */
    char data[512];
    snprintf(data, sizeof data, "%s/data", getenv("FUSION_ROOT") ? getenv("FUSION_ROOT") : ".");
    setenv("FUSION_DATA", data, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_genesis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sanctioned_payee_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_and_dedup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hits_with_their_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_order_snooze_overdue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_next_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prices_large_amount, setup, teardown),
        cmocka_unit_test(test_entity_checks),
        cmocka_unit_test(test_reason_check),
        cmocka_unit_test_setup_teardown(test_officer_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role_revoked_before_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_signed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_screener_reorg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_screener_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_linear, setup, teardown),
        cmocka_unit_test(test_pass_linear),
        cmocka_unit_test_setup_teardown(test_pass_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pass_prices_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sla_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_screening, setup, teardown),
        cmocka_unit_test_setup_teardown(test_screen_action, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oracle_prices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_about_facility_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_import_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_import_future, setup, teardown),
        cmocka_unit_test_setup_teardown(test_four_eyes_key_returns, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
