/* service.c: answers a checked request from the desk database: the reads (escrows through
 * the paged escrow view the Escrows screen uses, an escrow with its event timeline,
 * transactions, cases, entities, alerts, chains and sync status, proposals), the change
 * feed, and proposals: checked with the desk's own input checks, the policy and the
 * compliance screening of the parties, then stored to wait for a person. One mutex: one
 * request at a time uses the connection (SQLite reads are short; a page is a window). */
#include "api/api.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit.h"
#include "base/log.h"
#include "base/amount.h"
#include "base/bytes.h"
#include "base/u256.h"
#include "bridge/bridge.h"
#include "compliance/compliance.h"
#include "desk/desk.h"
#include "desk/escrow_input.h"
#include "desk/snapshot.h"
#include "risk/service.h"
#include "sync/event_json.h"

#define MAX_CLIENTS 256

typedef struct client_bucket {
    char name[STORE_API_NAME_MAX];
    api_bucket b;
} client_bucket;

/* One read-only connection of the pool with its escrow view: a request holds one for its
 * reads, so reads run side by side (WAL lets them read beside the syncer and each other). */
#define API_READERS 4

typedef struct api_reader {
    desk_snap *snap;
    desk_escrow_view *view;
    /* the escrow view's current query: setting it again would drop its cached window */
    bool view_set;
    char view_q[128];
    int view_sort;
    bool view_desc;
    struct api_reader *next_free;
} api_reader;

struct api_service {
    char home[4096];
    api_options opt;
    pthread_mutex_t mu;  /* the proposals' checks (pol, scr) */
    pthread_mutex_t bmu; /* the clients' rate buckets */
    /* the read connections: a free list (under rmu); a request waits on rcv for one */
    pthread_mutex_t rmu;
    pthread_cond_t rcv;
    api_reader readers[API_READERS];
    api_reader *free_rd;
    pthread_mutex_t wmu; /* the durable writes (wdb): a commit's fsync never holds up reads */
    store *wdb;
    /* group commit: proposals queue here; one request at a time commits the whole queue in
     * one transaction with one audit write, and every request in it is answered after that */
    pthread_cond_t gcv;
    struct commit_job *gq_head, **gq_tail;
    bool g_busy;
    double prune_next; /* when the feed is pruned next (request clock; under wmu) */
    /* the desk's book on a server: its change feed's database and last row copied into
     * wdb's (as desk.db's api_feed_follow keeps them; under g_busy), known once checked
     * against the server (again after a failure), when the next copy is due (monotonic
     * seconds; under wmu), the last one failed */
    int64_t follow_cursor;
    char follow_book[STORE_FEED_BOOK_MAX];
    bool follow_known, follow_failing;
    double follow_next;
    double book_prune_next; /* when the server's feed is pruned next (monotonic; under g_busy) */
    /* the desk's policy (under mu), kept until policy.conf changes */
    policy *pol;
    ino_t pol_ino;
    off_t pol_size;
    struct timespec pol_mtime;
    /* the compliance screening of proposals: lists and rules loaded once (under mu) */
    compliance_screener *scr;
    client_bucket buckets[MAX_CLIENTS];
    size_t n_buckets;
    /* the risk worker: the last snapshot's JSON, whole (risk) and its positions (portfolio) */
    pthread_t risk_thr;
    bool risk_started;
    pthread_mutex_t risk_mu;
    pthread_cond_t risk_cv;
    bool risk_stop;
    char *risk_body, *portfolio_body;
    char risk_error[ERR_MSG_MAX];
};

/* The parts of the risk snapshot that are the portfolio. */
static const char *const portfolio_keys[] = {"units", "as_of", "accounts", "chains",
                                             "positions", "prices", "exposure", "gross_usd",
                                             "drawn"};

static void *risk_main(void *arg)
{
    api_service *sv = arg;
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", sv->home);
    store *st = NULL;
    err e;
    err_clear(&e);
    int orc = store_open(&st, path, &e);
    risk_service_opts o;
    risk_service_opts_default(&o);
    o.home = sv->home;
    o.params.mc.threads = 1;
    /* on a desk whose book is on a server: its escrows, checkpoints and bridge legs */
    if (orc == 0 && sv->opt.risk_book)
        orc = sv->opt.risk_book(st, sv->home, &o, &e);
    for (;;) {
        char *rbody = NULL, *pbody = NULL;
        if (orc == 0) {
            risk_snapshot *snap = NULL;
            err_clear(&e);
            if (risk_service_refresh(st, &o, &snap, &e) == 0) {
                json_t *all = sv->opt.risk_json(snap);
                json_t *pf = json_object();
                for (size_t i = 0; all && i < sizeof portfolio_keys / sizeof portfolio_keys[0];
                     i++) {
                    json_t *v = json_object_get(all, portfolio_keys[i]);
                    if (v)
                        json_object_set(pf, portfolio_keys[i], v);
                }
                rbody = all ? json_dumps(all, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
                pbody = json_dumps(pf, JSON_COMPACT | JSON_REAL_PRECISION(17));
                json_decref(all);
                json_decref(pf);
                if (!rbody || !pbody)
                    err_set(&e, ERR_NOMEM, "out of memory writing the risk report");
            }
            risk_snapshot_free(&snap);
        }
        pthread_mutex_lock(&sv->risk_mu);
        if (rbody && pbody) {
            free(sv->risk_body);
            free(sv->portfolio_body);
            sv->risk_body = rbody;
            sv->portfolio_body = pbody;
            sv->risk_error[0] = '\0';
        } else {
            free(rbody);
            free(pbody);
            snprintf(sv->risk_error, sizeof sv->risk_error, "%s", e.msg);
            LOG_W("api", "risk refresh: %s", e.msg);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += sv->opt.risk_every_s ? sv->opt.risk_every_s : 60;
        while (!sv->risk_stop)
            if (pthread_cond_timedwait(&sv->risk_cv, &sv->risk_mu, &until) != 0)
                break;
        bool stop = sv->risk_stop;
        pthread_mutex_unlock(&sv->risk_mu);
        if (stop)
            break;
    }
    store_close(&st);
    return NULL;
}

/* The feed's retention applied on the write connection. */
static int feed_prune(api_service *sv, err *e)
{
    int64_t n = 0;
    if (store_feed_prune(sv->wdb, (int64_t)time(NULL) - (int64_t)sv->opt.feed_days * 86400,
                         sv->opt.feed_keep, &n, e) < 0)
        return err_prefix(e, "pruning the change feed");
    if (n)
        LOG_I("api", "change feed: %lld rows pruned", (long long)n);
    return 0;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Where the copy of the server's change feed goes on from (on its first contact with the
 * server, and again after a failure): desk.db's cursor, when it is this database's and the
 * rows after it are all still there. The first copy ever starts at the server's present.
 * Otherwise (book.conf names another database; the server's feed was pruned past the
 * cursor, or ends before it) the copy starts over, said in one line: desk.db's feed is
 * emptied past one more id in the transaction that moves the cursor, so every stream is
 * told to read the resources again (its `reset` event) rather than miss or repeat a
 * change. */
static int follow_check(api_service *sv, store *s, err *e)
{
    int64_t last, horizon, cursor;
    char book[STORE_FEED_BOOK_MAX], had[STORE_FEED_BOOK_MAX];
    bool found;
    if (store_book_feed_state(s, &last, &horizon, book, sizeof book, e) < 0 ||
        store_feed_follow_get(sv->wdb, had, sizeof had, &cursor, &found, e) < 0)
        return -1;
    char why[STORE_FEED_BOOK_MAX + 128];
    int64_t from = cursor;
    why[0] = '\0';
    if (!found) {
        from = last;
    } else if (strcmp(had, book)) {
        snprintf(why, sizeof why, "desk.db's copy is of another database's (%.*s)",
                 STORE_FEED_BOOK_MAX - 1, had);
        from = last;
    } else if (cursor > last) {
        snprintf(why, sizeof why, "it ends at row %lld, before the copy's %lld", (long long)last,
                 (long long)cursor);
        from = last;
    } else if (horizon > cursor) {
        snprintf(why, sizeof why, "its rows %lld to %lld, after the copy's, were pruned",
                 (long long)cursor + 1, (long long)horizon);
        from = horizon;
    }
    if ((!found || why[0]) && store_feed_follow_set(sv->wdb, book, from, why[0] != '\0', e) < 0)
        return err_prefix(e, "starting the copy of the book's change feed");
    if (why[0])
        LOG_W("api",
              "the book's change feed (database %s): %s: the copy starts over after its row "
              "%lld, and desk.db's feed was emptied (every stream is told to read the "
              "resources again)",
              book, why, (long long)from);
    else if (!found)
        LOG_I("api", "the book's change feed (database %s) is copied from after its row %lld",
              book, (long long)from);
    sv->follow_cursor = from;
    snprintf(sv->follow_book, sizeof sv->follow_book, "%s", book);
    return 0;
}

/* On a desk whose book is on a server the escrows' changes are in the server's change feed
 * (its triggers write it, whoever syncs): at most once a second, by whichever event stream
 * polls, its new rows are copied into desk.db's feed (ids of desk.db's), taking the write
 * connection as a commit would, so /v1/events streams them with the desk's own. The copy
 * and its cursor (the server's last row copied) are written in one desk.db transaction, so
 * a restarted service goes on from there (follow_check). */
static void feed_follow(api_service *sv, api_reader *rd)
{
    if (!desk_snap_on_book(rd->snap))
        return;
    double now = mono_s();
    pthread_mutex_lock(&sv->wmu);
    bool due = !sv->g_busy && now >= sv->follow_next;
    if (due) {
        sv->g_busy = true;
        sv->follow_next = now + 1;
    }
    pthread_mutex_unlock(&sv->wmu);
    if (!due)
        return;
    err e;
    err_clear(&e);
    store *s = desk_snap_store(rd->snap);
    int rc = 0;
    if (!sv->follow_known)
        rc = follow_check(sv, s, &e);
    if (rc == 0) {
        store_feed_row *rows = NULL;
        size_t n = 0;
        rc = store_book_feed_after(s, sv->follow_cursor, 256, &rows, &n, &e);
        if (rc == 0 && n &&
            (rc = store_feed_append(sv->wdb, rows, n, sv->follow_book, rows[n - 1].id, &e)) == 0)
            sv->follow_cursor = rows[n - 1].id;
        free(rows);
    }
    /* The server's feed is pruned by the service that copies it, with desk.db's policy,
     * after a copy and every minute, never past the row this copy has (nor its newest: the
     * feed's last id stays): a row not yet copied here is never lost to this copy. Another
     * workstation's `fusion serve` whose copy was behind what this one pruned starts over
     * with a reset (follow_check). */
    if (rc == 0 && now >= sv->book_prune_next) {
        int64_t pruned = 0;
        sv->book_prune_next = now + 60;
        rc = store_book_feed_prune(s, (int64_t)time(NULL) - (int64_t)sv->opt.feed_days * 86400,
                                   sv->opt.feed_keep, sv->follow_cursor, &pruned, &e);
        if (rc == 0 && pruned)
            LOG_I("api", "the book's change feed: %lld rows pruned on the server",
                  (long long)pruned);
    }
    /* after a failure the server is checked again (it may be another database now) */
    sv->follow_known = rc == 0;
    if (rc < 0 && !sv->follow_failing)
        LOG_W("api", "the book's change feed: %s", e.msg);
    else if (rc == 0 && sv->follow_failing)
        LOG_I("api", "the book's change feed is read again");
    sv->follow_failing = rc < 0;
    pthread_mutex_lock(&sv->wmu);
    sv->g_busy = false;
    pthread_cond_broadcast(&sv->gcv);
    pthread_mutex_unlock(&sv->wmu);
}

/* Every minute one request prunes the feed, taking the write connection as a commit would. */
static void feed_prune_due(api_service *sv, double now)
{
    pthread_mutex_lock(&sv->wmu);
    bool due = !sv->g_busy && now >= sv->prune_next;
    if (due) {
        sv->g_busy = true;
        sv->prune_next = now + 60;
    }
    pthread_mutex_unlock(&sv->wmu);
    if (!due)
        return;
    err e;
    err_clear(&e);
    if (feed_prune(sv, &e) < 0)
        LOG_W("api", "%s", e.msg);
    pthread_mutex_lock(&sv->wmu);
    sv->g_busy = false;
    pthread_cond_broadcast(&sv->gcv);
    pthread_mutex_unlock(&sv->wmu);
}

int api_service_new(api_service **out, const char *home, const api_options *o, err *e)
{
    *out = NULL;
    api_service *sv = calloc(1, sizeof *sv);
    if (!sv)
        return err_set(e, ERR_NOMEM, "out of memory");
    snprintf(sv->home, sizeof sv->home, "%s", home);
    sv->opt = *o;
    pthread_mutex_init(&sv->mu, NULL);
    pthread_mutex_init(&sv->bmu, NULL);
    pthread_mutex_init(&sv->rmu, NULL);
    pthread_cond_init(&sv->rcv, NULL);
    pthread_mutex_init(&sv->wmu, NULL);
    pthread_cond_init(&sv->gcv, NULL);
    sv->gq_tail = &sv->gq_head;
    pthread_mutex_init(&sv->risk_mu, NULL);
    pthread_cond_init(&sv->risk_cv, NULL);
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", home);
    if (store_open(&sv->wdb, path, e) < 0) {
        api_service_free(&sv);
        return -1;
    }
    for (int i = API_READERS - 1; i >= 0; i--) {
        api_reader *rd = &sv->readers[i];
        if (desk_snap_open(&rd->snap, home, e) < 0 ||
            (o->book_attach && o->book_attach(desk_snap_store(rd->snap), home, e) < 0) ||
            desk_escrow_view_new(&rd->view, rd->snap, e) < 0) {
            api_service_free(&sv);
            return -1;
        }
        rd->next_free = sv->free_rd;
        sv->free_rd = rd;
    }
    /* the server's change feed is copied on from desk.db's cursor, or the first time from
     * its present (a server away: checked when first reached, follow_check) */
    err fe;
    err_clear(&fe);
    if (desk_snap_on_book(sv->readers[0].snap))
        sv->follow_known = follow_check(sv, desk_snap_store(sv->readers[0].snap), &fe) == 0;
    if (!sv->opt.feed_days)
        sv->opt.feed_days = 30;
    if (!sv->opt.feed_keep)
        sv->opt.feed_keep = 1000000;
    if (feed_prune(sv, e) < 0) {
        api_service_free(&sv);
        return -1;
    }
    if (sv->opt.risk_json) {
        if (pthread_create(&sv->risk_thr, NULL, risk_main, sv) != 0) {
            api_service_free(&sv);
            return err_set(e, ERR_INTERNAL, "cannot start the risk worker");
        }
        sv->risk_started = true;
    }
    *out = sv;
    return 0;
}

void api_service_free(api_service **p)
{
    if (!p || !*p)
        return;
    api_service *sv = *p;
    if (sv->risk_started) {
        pthread_mutex_lock(&sv->risk_mu);
        sv->risk_stop = true;
        pthread_cond_signal(&sv->risk_cv);
        pthread_mutex_unlock(&sv->risk_mu);
        pthread_join(sv->risk_thr, NULL);
    }
    free(sv->risk_body);
    free(sv->portfolio_body);
    pthread_mutex_destroy(&sv->risk_mu);
    pthread_cond_destroy(&sv->risk_cv);
    for (int i = 0; i < API_READERS; i++) {
        desk_escrow_view_free(&sv->readers[i].view);
        desk_snap_free(&sv->readers[i].snap);
    }
    store_close(&(*p)->wdb);
    pthread_mutex_destroy(&(*p)->mu);
    pthread_mutex_destroy(&(*p)->bmu);
    pthread_mutex_destroy(&(*p)->rmu);
    pthread_cond_destroy(&(*p)->rcv);
    pthread_mutex_destroy(&(*p)->wmu);
    pthread_cond_destroy(&(*p)->gcv);
    compliance_screener_free(&(*p)->scr);
    policy_free(&(*p)->pol);
    free(*p);
    *p = NULL;
}

void api_response_clear(api_response *rs)
{
    free(rs->body);
    memset(rs, 0, sizeof *rs);
}

/* ---- JSON, as the CLI's --json writes it: lowercase hex addresses, amounts exact ---- */

static json_t *jaddr(const addr *a)
{
    char s[ADDR_STR_MAX];
    addr_to_lower(s, a);
    return json_string(s);
}

static json_t *jhash(const uint8_t h[32])
{
    char s[67];
    hex_encode(s, sizeof s, h, 32, true);
    return json_string(s);
}

static json_t *jdec(const u256 *v)
{
    char s[U256_DEC_MAX];
    u256_to_dec(s, v);
    return json_string(s);
}

static void respond_json(api_response *rs, int status, json_t *o)
{
    rs->status = status;
    rs->content_type = "application/json";
    rs->body = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    if (!rs->body) {
        rs->status = 500;
        rs->content_type = "application/problem+json";
        rs->body = strdup("{\"type\":\"https://fusion.invalid/problems/internal\","
                          "\"title\":\"Internal Server Error\",\"status\":500,"
                          "\"detail\":\"out of memory\"}");
    }
}

static void respond_problem(api_response *rs, const api_problem *p)
{
    rs->status = p->status;
    rs->content_type = "application/problem+json";
    rs->retry_after = p->retry_after;
    rs->body = api_problem_json(p);
}

static int db_fail(api_problem *p, const err *e)
{
    /* the desk's book on a server that does not answer: try again shortly */
    if (strncmp(e->msg, STORE_BOOK_AWAY, strlen(STORE_BOOK_AWAY)) == 0) {
        api_fail(p, 503, "book-unreachable", "%s", e->msg);
        p->retry_after = 5;
        return -1;
    }
    /* the book's server answered, at another server version than this fusion's: no outage
     * to wait out (no Retry-After) and no fault of the service; the detail names both
     * versions and what to do (`fusion db upgrade`, or a newer fusion) */
    if (strncmp(e->msg, STORE_BOOK_VERSION, strlen(STORE_BOOK_VERSION)) == 0)
        return api_fail(p, 503, "book-server-version", "%s", e->msg);
    return api_fail(p, 500, "internal", "the desk database: %s", e->msg);
}

/* ---- reads ---- */

static int get_escrows(api_service *sv, api_reader *rd, const api_request *rq,
                       api_response *rs, api_problem *p)
{
    api_page pg;
    if (api_page_parse(&pg, rq->query, rq->n_query, "offset,limit,q,sort,order", p) < 0)
        return -1;
    err e;
    err_clear(&e);
    if (!rd->view_set || strcmp(rd->view_q, pg.q) || rd->view_sort != pg.sort ||
        rd->view_desc != pg.descending) {
        desk_escrow_view_set(rd->view, pg.q, (desk_escrow_sort)pg.sort, pg.descending);
        snprintf(rd->view_q, sizeof rd->view_q, "%s", pg.q);
        rd->view_sort = pg.sort;
        rd->view_desc = pg.descending;
        rd->view_set = true;
    }
    size_t total = 0;
    bool exact = false;
    if (desk_escrow_view_size(rd->view, &total, &exact, &e) < 0)
        return db_fail(p, &e);
    json_t *items = json_array();
    for (size_t i = pg.offset; i < pg.offset + pg.limit; i++) {
        const desk_escrow_row *r = NULL;
        /* the size may be a lower bound: read on until the view has no row i */
        if (desk_escrow_view_size(rd->view, &total, &exact, &e) < 0) {
            json_decref(items);
            return db_fail(p, &e);
        }
        if (i >= total)
            break;
        if (desk_escrow_view_row(rd->view, i, &r, &e) < 0) {
            json_decref(items);
            return db_fail(p, &e);
        }
        json_array_append_new(
            items, json_pack("{s:I, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:i, s:i, s:I, s:b}",
                             "chain_id", (json_int_t)r->chain_id, "chain", r->chain, "address",
                             jaddr(&r->address), "payer", jaddr(&r->payer), "payee",
                             jaddr(&r->payee), "asset", r->asset, "amount_display", r->amount,
                             "state", r->state, "approvals", (int)r->approvals, "threshold",
                             (int)r->threshold, "last_event_block", (json_int_t)r->last_block,
                             "pending", r->pending));
    }
    if (desk_escrow_view_size(rd->view, &total, &exact, &e) < 0) {
        json_decref(items);
        return db_fail(p, &e);
    }
    json_t *o = json_pack("{s:o, s:I, s:I, s:I, s:b}", "items", items, "offset",
                          (json_int_t)pg.offset, "limit", (json_int_t)pg.limit, "total",
                          (json_int_t)total, "total_exact", exact);
    if (o && pg.offset + json_array_size(items) < total)
        json_object_set_new(o, "next_offset",
                            json_integer((json_int_t)(pg.offset + json_array_size(items))));
    respond_json(rs, 200, o);
    return 0;
}

static int chain_by_id_or_name(store *db, const char *s, store_chain *ch, api_problem *p)
{
    err e;
    err_clear(&e);
    bool found = false;
    char *end;
    unsigned long long id = strtoull(s, &end, 10);
    int rc = (*s && !*end) ? store_chain_get(db, id, ch, &found, &e)
                           : store_chain_find_name(db, s, ch, &found, &e);
    if (rc < 0)
        return db_fail(p, &e);
    if (!found)
        return api_fail(p, 404, "no-such-chain", "no chain \"%.60s\" on this desk (GET /v1/chains)",
                        s);
    return 0;
}

static json_t *escrow_json(const store_chain *ch, const store_escrow *x)
{
    json_t *approvers = json_array(), *approved = json_array();
    for (unsigned i = 0; i < x->n_approvers; i++)
        json_array_append_new(approvers, jaddr(&x->approvers[i]));
    for (unsigned i = 0; i < x->n_approvals; i++)
        json_array_append_new(approved, json_pack("{s:o, s:I, s:o, s:b}", "approver",
                                                  jaddr(&x->approvals[i].approver), "block",
                                                  (json_int_t)x->approvals[i].block_number, "tx",
                                                  jhash(x->approvals[i].tx_hash), "pending",
                                                  x->approvals[i].pending));
    json_t *o = json_pack(
        "{s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:o, s:I, s:s, s:s?, s:i, s:o,"
        " s:o, s:o, s:o, s:I, s:o, s:I, s:i, s:b, s:s?, s:i, s:b}",
        "chain", ch->name, "chain_id", (json_int_t)x->chain_id, "address", jaddr(&x->address),
        "factory", jaddr(&x->factory), "payer", jaddr(&x->payer), "payee", jaddr(&x->payee),
        "token", jaddr(&x->token), "amount", jdec(&x->amount), "approvers", approvers,
        "threshold", (int)x->threshold, "arbiter", jaddr(&x->arbiter), "deadline",
        (json_int_t)x->deadline, "state", escrow_state_str(x->state), "resolved_to",
        x->state == ESCROW_RESOLVED ? (x->resolved_to_payee ? "payee" : "payer") : NULL,
        "approvals", (int)x->n_approvals, "approved_by", approved, "funded", jdec(&x->funded),
        "released", jdec(&x->released), "refunded", jdec(&x->refunded), "created_block",
        (json_int_t)x->created_block, "created_tx", jhash(x->created_tx), "last_event_block",
        (json_int_t)x->last_event_block, "events", (int)x->n_events, "pending", x->pending,
        "anomaly", x->anomaly[0] ? x->anomaly : NULL, "version", (int)x->version,
        "inconsistent", x->inconsistent);
    return o;
}

static int get_escrow(api_service *sv, api_reader *rd, const api_match *m, const api_request *rq,
                      api_response *rs, api_problem *p)
{
    if (rq->n_query)
        return api_fail(p, 400, "unknown-parameter", "this resource takes no query parameters");
    store *db = desk_snap_store(rd->snap);
    store_chain ch;
    if (chain_by_id_or_name(db, m->seg[0], &ch, p) < 0)
        return -1;
    err e;
    err_clear(&e);
    addr a;
    if (addr_parse(&a, m->seg[1], &e) < 0)
        return api_fail(p, 400, "bad-address", "\"%.60s\" is not an address: %s", m->seg[1],
                        e.msg);
    store_escrow x;
    bool found = false;
    if (store_escrow_get(db, ch.chain_id, &a, &x, &found, &e) < 0)
        return db_fail(p, &e);
    if (!found)
        return api_fail(p, 404, "no-such-escrow", "no escrow %.60s on chain %s in the desk "
                        "database", m->seg[1], ch.name);
    store_event_list ev;
    memset(&ev, 0, sizeof ev);
    if (store_event_list_escrow(db, ch.chain_id, &a, &ev, &e) < 0)
        return db_fail(p, &e);
    json_t *o = escrow_json(&ch, &x);
    json_t *tl = json_array();
    for (size_t i = 0; i < ev.n; i++) {
        const store_event *v = &ev.items[i];
        json_error_t je;
        char *text = sync_event_json_of(v);
        json_t *dec = text ? json_loads(text, 0, &je) : NULL;
        free(text);
        json_array_append_new(tl, json_pack("{s:s, s:I, s:o, s:o, s:i, s:o}", "event",
                                            v->name[0] ? v->name : "unknown", "block",
                                            (json_int_t)v->block_number, "block_hash",
                                            jhash(v->block_hash), "tx", jhash(v->tx_hash),
                                            "log_index", (int)v->log_index, "fields",
                                            dec ? dec : json_null()));
    }
    store_event_list_free(&ev);
    json_object_set_new(o, "timeline", tl);
    respond_json(rs, 200, o);
    return 0;
}

static int get_transactions(api_service *sv, api_reader *rd, const api_request *rq,
                            api_response *rs, api_problem *p)
{
    api_page pg;
    if (api_page_parse(&pg, rq->query, rq->n_query, "offset,limit,state", p) < 0)
        return -1;
    err e;
    err_clear(&e);
    store_outbound *os = NULL;
    size_t n = 0;
    if (store_outbound_list(desk_snap_store(rd->snap), 0, &os, &n, &e) < 0)
        return db_fail(p, &e);
    json_t *items = json_array();
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        const store_outbound *o = &os[i];
        if (pg.state[0] && strcmp(pg.state, outbound_state_str(o->state)))
            continue;
        if (seen++ < pg.offset || json_array_size(items) >= pg.limit)
            continue;
        char hash[67];
        hex_encode(hash, sizeof hash, o->hash, 32, true);
        json_array_append_new(
            items, json_pack("{s:I, s:I, s:s, s:o, s:I, s:s, s:s, s:o, s:I, s:b, s:I}", "id",
                             (json_int_t)o->id, "chain_id", (json_int_t)o->chain_id, "hash",
                             hash, "from", jaddr(&o->from), "nonce", (json_int_t)o->nonce,
                             "state", outbound_state_str(o->state), "action", o->action,
                             "escrow", o->has_escrow ? jaddr(&o->escrow) : json_null(),
                             "mined_block", (json_int_t)o->mined_block, "reorged", o->reorged,
                             "created_at", (json_int_t)o->created_at));
    }
    free(os);
    respond_json(rs, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", items, "offset",
                                    (json_int_t)pg.offset, "limit", (json_int_t)pg.limit,
                                    "total", (json_int_t)seen));
    return 0;
}

static int get_cases(api_service *sv, api_reader *rd, const api_request *rq,
                     api_response *rs, api_problem *p)
{
    api_page pg;
    if (api_page_parse(&pg, rq->query, rq->n_query, "offset,limit,state", p) < 0)
        return -1;
    store_case_filter f;
    memset(&f, 0, sizeof f);
    if (pg.state[0])
        f.state = pg.state;
    err e;
    err_clear(&e);
    store_case *cs = NULL;
    size_t n = 0;
    if (store_case_list(desk_snap_store(rd->snap), &f, &cs, &n, &e) < 0)
        return db_fail(p, &e);
    json_t *items = json_array();
    for (size_t i = pg.offset; i < n && json_array_size(items) < pg.limit; i++) {
        const store_case *c = &cs[i];
        compliance_case_about about;
        if (compliance_case_about_of(desk_snap_store(rd->snap), c, &about, &e) < 0) {
            json_decref(items);
            free(cs);
            return db_fail(p, &e);
        }
        json_t *row = json_pack("{s:I, s:s, s:I, s:o, s:s, s:s?, s:i, s:i, s:I, s:I, s:s?}", "id",
                             (json_int_t)c->id, "subject", c->subject, "chain_id",
                             (json_int_t)c->chain_id, "escrow", jaddr(&c->escrow), "state",
                             c->state, "outcome", c->outcome[0] ? c->outcome : NULL, "priority",
                             c->priority, "score", c->score, "opened_at",
                             (json_int_t)c->opened_at, "due_at", (json_int_t)c->due_at,
                             "assignee", c->assignee[0] ? c->assignee : NULL);
        if (about.kind != COMPLIANCE_ABOUT_ESCROW) /* the key holds no escrow */
            json_object_set_new(row, "escrow", json_null());
        json_object_set_new(row, "about", compliance_case_about_json(&about));
        json_array_append_new(items, row);
    }
    free(cs);
    respond_json(rs, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", items, "offset",
                                    (json_int_t)pg.offset, "limit", (json_int_t)pg.limit,
                                    "total", (json_int_t)n));
    return 0;
}

static int get_entities(api_service *sv, api_reader *rd, const api_request *rq, api_response *rs,
                        api_problem *p)
{
    api_page pg;
    if (api_page_parse(&pg, rq->query, rq->n_query, "offset,limit", p) < 0)
        return -1;
    err e;
    err_clear(&e);
    store_entity *xs = NULL;
    size_t n = 0;
    if (store_entity_list(desk_snap_store(rd->snap), &xs, &n, &e) < 0)
        return db_fail(p, &e);
    json_t *items = json_array();
    for (size_t i = pg.offset; i < n && json_array_size(items) < pg.limit; i++) {
        const store_entity *x = &xs[i];
        json_array_append_new(items,
                              json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:b}", "id",
                                        (json_int_t)x->id, "name", x->name, "type", x->type,
                                        "jurisdiction", x->jurisdiction, "kyc", x->kyc, "tier",
                                        x->tier, "risk", x->risk, "blocked", x->blocked));
    }
    free(xs);
    respond_json(rs, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", items, "offset",
                                    (json_int_t)pg.offset, "limit", (json_int_t)pg.limit,
                                    "total", (json_int_t)n));
    return 0;
}

static int get_alerts(api_service *sv, api_reader *rd, const api_request *rq,
                      api_response *rs, api_problem *p)
{
    api_page pg;
    if (api_page_parse(&pg, rq->query, rq->n_query, "offset,limit,state", p) < 0)
        return -1;
    if (pg.state[0] && strcmp(pg.state, "open") && strcmp(pg.state, "all"))
        return api_fail(p, 400, "bad-parameter", "state must be open or all");
    err e;
    err_clear(&e);
    store_alert *al = NULL;
    size_t n = 0;
    if (store_alert_list(desk_snap_store(rd->snap), !strcmp(pg.state, "all"), &al, &n, &e) < 0)
        return db_fail(p, &e);
    json_t *items = json_array();
    for (size_t i = pg.offset; i < n && json_array_size(items) < pg.limit; i++) {
        const store_alert *a = &al[i];
        json_array_append_new(
            items, json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s?}", "id",
                             (json_int_t)a->id, "key", a->key, "kind", a->kind, "severity",
                             alert_severity_str(a->severity), "message", a->message,
                             "raised_at", (json_int_t)a->raised_at, "updated_at",
                             (json_int_t)a->updated_at, "cleared_at", (json_int_t)a->cleared_at,
                             "acked_at", (json_int_t)a->acked_at, "acked_by",
                             a->acked_by[0] ? a->acked_by : NULL));
    }
    free(al);
    respond_json(rs, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", items, "offset",
                                    (json_int_t)pg.offset, "limit", (json_int_t)pg.limit,
                                    "total", (json_int_t)n));
    return 0;
}

static int get_chains(api_service *sv, api_reader *rd, const api_request *rq,
                      api_response *rs, api_problem *p)
{
    if (rq->n_query)
        return api_fail(p, 400, "unknown-parameter", "this resource takes no query parameters");
    err e;
    err_clear(&e);
    desk_chain_row *cr = NULL;
    size_t n = 0;
    if (desk_chain_rows(rd->snap, &cr, &n, &e) < 0)
        return db_fail(p, &e);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            items, json_pack("{s:I, s:s, s:b, s:I, s:I, s:I, s:I, s:s, s:i}", "chain_id",
                             (json_int_t)cr[i].chain_id, "name", cr[i].name, "synced_any",
                             cr[i].synced_any, "synced_block", (json_int_t)cr[i].synced,
                             "final_block", (json_int_t)cr[i].final_block, "head_block",
                             (json_int_t)cr[i].head,
                             "behind", (json_int_t)(cr[i].head > cr[i].synced
                                                        ? cr[i].head - cr[i].synced : 0),
                             "health", cr[i].health, "endpoints", (int)cr[i].n_endpoints));
    free(cr);
    respond_json(rs, 200, json_pack("{s:o}", "items", items));
    return 0;
}

static json_t *proposal_json(const store_proposal *pr)
{
    json_error_t je;
    json_t *body = json_loads(pr->body, 0, &je), *scr = json_loads(pr->screening, 0, &je);
    return json_pack("{s:I, s:s, s:s, s:I, s:s, s:o, s:o, s:I, s:s?, s:I, s:s?, s:s?, s:s?}",
                     "id", (json_int_t)pr->id, "client", pr->client, "kind", pr->kind,
                     "chain_id", (json_int_t)pr->chain_id, "state", pr->state, "request",
                     body ? body : json_null(), "screening", scr ? scr : json_null(),
                     "created_at", (json_int_t)pr->created_at, "idempotency_key",
                     pr->idem_key[0] ? pr->idem_key : NULL, "decided_at",
                     (json_int_t)pr->decided_at, "decided_by",
                     pr->decided_by[0] ? pr->decided_by : NULL, "reason",
                     pr->reason[0] ? pr->reason : NULL, "escrow",
                     pr->escrow[0] ? pr->escrow : NULL);
}

static int get_proposals(api_service *sv, api_reader *rd, const api_request *rq, api_response *rs,
                         api_problem *p)
{
    api_page pg;
    if (api_page_parse(&pg, rq->query, rq->n_query, "after,limit,state", p) < 0)
        return -1;
    err e;
    err_clear(&e);
    store_proposal *ps = NULL;
    size_t n = 0;
    if (store_proposal_list(desk_snap_store(rd->snap), pg.state[0] ? pg.state : NULL, pg.after,
                            pg.limit, &ps, &n, &e) < 0)
        return db_fail(p, &e);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, proposal_json(&ps[i]));
    json_t *o = json_pack("{s:o, s:I}", "items", items, "limit", (json_int_t)pg.limit);
    if (n == pg.limit && n > 0)
        json_object_set_new(o, "next_after", json_integer((json_int_t)ps[n - 1].id));
    free(ps);
    respond_json(rs, 200, o);
    return 0;
}

static int get_proposal(api_service *sv, api_reader *rd, const api_match *m, const api_request *rq,
                        api_response *rs, api_problem *p)
{
    if (rq->n_query)
        return api_fail(p, 400, "unknown-parameter", "this resource takes no query parameters");
    int64_t id = api_event_id_parse(m->seg[0]);
    if (id <= 0)
        return api_fail(p, 404, "no-such-proposal", "\"%.40s\" is not a proposal id", m->seg[0]);
    err e;
    err_clear(&e);
    store_proposal *pr = malloc(sizeof *pr);
    bool found = false;
    if (!pr)
        return api_fail(p, 500, "internal", "out of memory");
    if (store_proposal_get(desk_snap_store(rd->snap), id, pr, &found, &e) < 0) {
        free(pr);
        return db_fail(p, &e);
    }
    if (!found) {
        free(pr);
        return api_fail(p, 404, "no-such-proposal", "no proposal %lld", (long long)id);
    }
    respond_json(rs, 200, proposal_json(pr));
    free(pr);
    return 0;
}

/* ---- proposals ---- */

/* The desk's policy as the desk itself loads it (desk_policy_load: the shipped default when
 * there is none, refused when an edit was not signed), kept until policy.conf changes. */
static int policy_get(api_service *sv, const policy **out, err *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/policy.conf", sv->home);
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (sv->pol && exists && st.st_ino == sv->pol_ino && st.st_size == sv->pol_size &&
        st.st_mtim.tv_sec == sv->pol_mtime.tv_sec && st.st_mtim.tv_nsec == sv->pol_mtime.tv_nsec) {
        *out = sv->pol;
        return 0;
    }
    policy_free(&sv->pol);
    if (desk_policy_load(sv->home, &sv->pol, e) < 0)
        return -1;
    if (stat(path, &st) == 0) { /* loading writes the default when there was none */
        sv->pol_ino = st.st_ino;
        sv->pol_size = st.st_size;
        sv->pol_mtime = st.st_mtim;
    }
    *out = sv->pol;
    return 0;
}

/* The desk's checks of an escrow proposal; *screening receives what they said. A 422 for
 * what the desk refuses outright (bad party, unknown token, a sanctions hit, a policy
 * block), so nothing is stored. */
typedef enum { PROPOSAL_ESCROW, PROPOSAL_PAYMENT, PROPOSAL_BRIDGE } proposal_kind;

static int proposal_check(api_service *sv, api_reader *rd, const char *who, const api_escrow_req *r,
                          proposal_kind kind, store_chain *ch, json_t **screening,
                          api_problem *p)
{
    bool payment = kind != PROPOSAL_ESCROW, bridge = kind == PROPOSAL_BRIDGE;
    const char *action = bridge ? "bridge_burn" : payment ? "pay" : "create";
    store *db = desk_snap_store(rd->snap);
    err e;
    err_clear(&e);
    if (r->chain[0]) {
        if (chain_by_id_or_name(db, r->chain, ch, p) < 0)
            return p->status == 404 ? api_fail(p, 422, "no-such-chain", "%s", p->detail) : -1;
    } else {
        store_chain *cs = NULL;
        size_t n = 0;
        if (store_chain_list(db, &cs, &n, &e) < 0)
            return db_fail(p, &e);
        if (n == 1)
            *ch = cs[0];
        free(cs);
        if (n != 1)
            return api_fail(p, 422, "missing-field", "field \"chain\" is required: the desk "
                            "has %zu chains", n);
    }
    addr payee, arbiter, token, approvers[STORE_MAX_APPROVERS];
    if (desk_party_parse(db, r->payee, &payee, &e) < 0)
        return api_fail(p, 422, "bad-field", "%s: %s", bridge ? "recipient" : "payee", e.msg);
    for (unsigned i = 0; i < r->n_approvers; i++)
        if (desk_party_parse(db, r->approvers[i], &approvers[i], &e) < 0)
            return api_fail(p, 422, "bad-field", "approvers[%u]: %s", i, e.msg);
    if (r->arbiter[0] && desk_party_parse(db, r->arbiter, &arbiter, &e) < 0)
        return api_fail(p, 422, "bad-field", "arbiter: %s", e.msg);
    uint64_t deadline;
    if (!payment && desk_deadline_parse(r->deadline, (uint64_t)time(NULL), &deadline, &e) < 0)
        return api_fail(p, 422, "bad-field", "deadline: %s", e.msg);
    unsigned decimals = 0;
    bool known = false;
    bridge_quote q;
    if (bridge) {
        /* the route prices a transfer of the asset between the two chains (any amount
         * prices alike: the token and its decimals are the route's) */
        if (bridge_route_quote(db, r->route, ch->name, r->to, r->token, "1", &q, &e) < 0)
            return e.code == ERR_NOT_FOUND || e.code == ERR_INVALID
                       ? api_fail(p, 422, "no-route", "no bridge route: %s", e.msg)
                       : db_fail(p, &e);
        token = q.token_src;
        decimals = q.decimals;
        known = true;
    } else if (desk_asset_lookup(db, ch->chain_id, r->token, &token, &decimals, &known, &e) < 0)
        return api_fail(p, 422, "bad-field", "token: %s", e.msg);
    if (!known)
        return api_fail(p, 422, "bad-field", "token: the desk has no decimals for %.60s: add it "
                        "(fusion asset add-token) before proposing in it", r->token);
    u256 amount;
    if (u256_from_dec(&amount, r->amount, &e) < 0 || u256_is_zero(&amount))
        return api_fail(p, 422, "bad-field", "amount: must be a positive whole number of base "
                        "units below 2^256");
    addr signer_addr;
    bool has_signer = false;
    unsigned roles = 0;
    if (r->operator_name[0]) {
        store_operator op;
        bool found = false;
        if (store_operator_get(db, r->operator_name, &op, &found, &e) < 0)
            return db_fail(p, &e);
        if (!found)
            return api_fail(p, 422, "bad-field", "operator: \"%.63s\" is not an operator of "
                            "this desk", r->operator_name);
        signer_addr = op.address;
        has_signer = true;
        if (desk_roles_parse(&roles, op.roles, &e) < 0)
            roles = 0;
    }
    /* policy: the desk's own rules, as the operator named (or none) would meet them */
    const policy *pol = NULL;
    if (policy_get(sv, &pol, &e) < 0)
        return api_fail(p, 500, "internal", "the desk's policy: %s", e.msg);
    json_t *pj = json_null();
    if (pol) {
        policy_request pr;
        memset(&pr, 0, sizeof pr);
        pr.operator_name = r->operator_name[0] ? r->operator_name : "";
        pr.roles = roles;
        pr.action = action;
        pr.chain = ch->name;
        pr.dst_chain = bridge ? q.dst_name : NULL;
        pr.asset_symbol = r->token[0] == '0' && r->token[1] == 'x' ? NULL : r->token;
        pr.asset = token;
        pr.decimals = decimals;
        pr.amount = amount;
        pr.has_counterparty = true;
        pr.counterparty = payee;
        pr.threshold = r->threshold;
        policy_decision d;
        int prc = policy_evaluate(pol, &pr, &d, &e);
        if (prc < 0)
            return api_fail(p, 500, "internal", "the desk's policy: %s", e.msg);
        if (d.outcome == POLICY_BLOCK)
            return api_fail(p, 422, "policy-block", "the desk's policy refuses it: %s", d.reason);
        pj = json_pack("{s:s, s:i, s:s}", "outcome", policy_outcome_str(d.outcome), "line",
                       (int)d.line, "reason", d.reason);
    }
    /* compliance: the parties screened as for any desk action (hits recorded, cases opened);
     * a sanctions hit or a blocked entity refuses */
    compliance_actor a = {.home = sv->home, .operator_name = who, .now = time(NULL)};
    compliance_action act = {.action = action, .chain_id = ch->chain_id,
                             .payer = has_signer ? &signer_addr : &payee, .payee = &payee,
                             .token = &token, .amount = &amount, .proposal = true};
    /* the screener is kept: made again only when the desk's compliance files changed (a new
     * imported list version it picks up itself); one that cannot be made refuses */
    if (sv->scr && compliance_screener_files_changed(sv->scr))
        compliance_screener_free(&sv->scr);
    if (!sv->scr && compliance_action_screener_new(&sv->scr, sv->home, &e) < 0) {
        json_decref(pj);
        return api_fail(p, 422, "screening-refused", "compliance screening refuses it: the "
                        "%s cannot be screened: %s", action, e.msg);
    }
    if (compliance_screen_action_with(sv->scr, db, &a, &act, &e) < 0) {
        json_decref(pj);
        if (e.code == ERR_DENIED)
            return api_fail(p, 422, "screening-refused", "compliance screening refuses it: %s",
                            e.msg);
        return api_fail(p, 500, "internal", "compliance screening: %s", e.msg);
    }
    *screening = json_pack("{s:o, s:s, s:b}", "policy", pj, "compliance", "passed",
                           "payer_screened", has_signer);
    return 0;
}

static void hash_hex(const char *s, char out[65])
{
    uint8_t h[32];
    crypto_generichash(h, sizeof h, (const uint8_t *)s, strlen(s), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* A checked proposal on its way to the disk (committed on the write connection). */
typedef struct commit_job {
    store_proposal *pr;
    json_t *det;
    char who[STORE_API_NAME_MAX + 8];
    char client[STORE_API_NAME_MAX];
    char idem[STORE_API_IDEM_MAX];
    bool has_idem;
    /* the group commit's outcome for this job (under wmu) */
    struct commit_job *next;
    bool done;
    int status; /* 201, or a failure in p */
    store_proposal *dup; /* the same key committed before: answered with it */
    api_problem p;
} commit_job;

static void commit_job_free(commit_job **j)
{
    if (!*j)
        return;
    free((*j)->pr);
    free((*j)->dup);
    json_decref((*j)->det);
    free(*j);
    *j = NULL;
}

/* One job inside the batch's transaction: the same idempotency key committed before (by
 * an earlier batch, another connection or this batch) answers with that proposal. */
static int batch_add(api_service *sv, commit_job *j, err *e)
{
    store *db = sv->wdb;
    if (j->has_idem) {
        store_proposal *dup = malloc(sizeof *dup);
        bool found = false;
        if (!dup)
            return err_set(e, ERR_NOMEM, "out of memory");
        if (store_proposal_find_idem(db, j->client, j->idem, dup, &found, e) < 0) {
            free(dup);
            return -1;
        }
        if (found) {
            if (strcmp(dup->body_hash, j->pr->body_hash) != 0) {
                api_fail(&j->p, 409, "idempotency-key-reused", "Idempotency-Key \"%s\" was "
                         "used for another proposal", j->idem);
                j->status = 409;
                free(dup);
            } else {
                j->dup = dup;
                j->status = 201;
            }
            return 0;
        }
        free(dup);
    }
    if (store_proposal_add(db, j->pr, e) < 0)
        return -1;
    json_object_set_new(j->det, "proposal", json_integer((json_int_t)j->pr->id));
    j->status = 201;
    return 1; /* a row to audit */
}

/* Commits a batch of proposals in one durable transaction with their audit rows in one
 * append (one fsync of the log, one of the database); all of them or none. */
static void commit_batch(api_service *sv, commit_job *batch)
{
    store *db = sv->wdb;
    err e;
    err_clear(&e);
    size_t n = 0;
    for (commit_job *j = batch; j; j = j->next)
        n++;
    audit_row_in *rows = calloc(n ? n : 1, sizeof *rows);
    size_t nr = 0;
    int rc = rows ? store_begin_durable(db, &e) : err_set(&e, ERR_NOMEM, "out of memory");
    bool began = rc == 0;
    for (commit_job *j = batch; rc == 0 && j; j = j->next) {
        int a = batch_add(sv, j, &e);
        if (a < 0)
            rc = -1;
        else if (a == 1)
            rows[nr++] = (audit_row_in){.operator_name = j->who, .action = "proposal.create",
                                        .details = j->det};
    }
    if (rc == 0 && nr && store_audit_batch(db, sv->home, rows, nr, &e) < 0)
        rc = -1;
    if (rc == 0 && began && store_commit(db, &e) < 0)
        rc = -1;
    if (rc < 0 && began)
        store_rollback(db);
    free(rows);
    if (rc < 0) {
        /* nothing of the batch is stored: every request in it fails alike */
        for (commit_job *j = batch; j; j = j->next) {
            free(j->dup);
            j->dup = NULL;
            j->status = db_fail(&j->p, &e) < 0 ? j->p.status : 500;
        }
    }
}

/* The proposal and its audit row commit durably (it cannot be fetched again from a chain)
 * on the write connection, grouped with the proposals of the requests that arrive while a
 * commit runs; this returns after the batch holding it is on disk (or failed). */
static int commit_proposal(api_service *sv, commit_job *j, api_response *rs, api_problem *p)
{
    pthread_mutex_lock(&sv->wmu);
    j->next = NULL;
    *sv->gq_tail = j;
    sv->gq_tail = &j->next;
    while (!j->done) {
        if (sv->g_busy) {
            pthread_cond_wait(&sv->gcv, &sv->wmu);
            continue;
        }
        /* this request commits everything queued, its own job among it */
        commit_job *batch = sv->gq_head;
        sv->gq_head = NULL;
        sv->gq_tail = &sv->gq_head;
        sv->g_busy = true;
        pthread_mutex_unlock(&sv->wmu);
        commit_batch(sv, batch);
        pthread_mutex_lock(&sv->wmu);
        for (commit_job *b = batch; b; b = b->next)
            b->done = true;
        sv->g_busy = false;
        pthread_cond_broadcast(&sv->gcv);
    }
    pthread_mutex_unlock(&sv->wmu);
    if (j->status != 201) {
        *p = j->p;
        return -1;
    }
    respond_json(rs, 201, proposal_json(j->dup ? j->dup : j->pr));
    return 0;
}

static int post_proposal(api_service *sv, api_reader *rd, proposal_kind kind,
                         const store_api_client *cl, const api_request *rq, api_response *rs,
                         api_problem *p,
                         commit_job **job)
{
    if (rq->n_query)
        return api_fail(p, 400, "unknown-parameter", "this resource takes no query parameters");
    if (rq->idem_key && (strlen(rq->idem_key) == 0 || strlen(rq->idem_key) >= STORE_API_IDEM_MAX ||
                         strspn(rq->idem_key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789-_.:") != strlen(rq->idem_key)))
        return api_fail(p, 400, "bad-idempotency-key", "Idempotency-Key must be 1-%d of "
                        "letters, digits, '-', '_', '.', ':'", STORE_API_IDEM_MAX - 1);
    api_escrow_req r;
    if ((kind == PROPOSAL_BRIDGE    ? api_bridge_req_parse(&r, rq->body, rq->body_len, p)
         : kind == PROPOSAL_PAYMENT ? api_payment_req_parse(&r, rq->body, rq->body_len, p)
                                    : api_escrow_req_parse(&r, rq->body, rq->body_len, p)) < 0)
        return -1;
    char *canon = kind == PROPOSAL_BRIDGE    ? api_bridge_req_json(&r)
                  : kind == PROPOSAL_PAYMENT ? api_payment_req_json(&r)
                                             : api_escrow_req_json(&r);
    if (!canon)
        return api_fail(p, 500, "internal", "out of memory");
    store_proposal *pr = calloc(1, sizeof *pr);
    if (!pr || strlen(canon) >= sizeof pr->body) {
        free(canon);
        free(pr);
        return api_fail(p, 413, "body-too-large", "the proposal is too large");
    }
    snprintf(pr->body, sizeof pr->body, "%s", canon);
    hash_hex(canon, pr->body_hash);
    free(canon);
    store *db = desk_snap_store(rd->snap);
    err e;
    err_clear(&e);
    int rc = -1;
    bool found = false;
    /* the same key again: the same proposal (and response), checked before anything runs */
    if (rq->idem_key) {
        store_proposal *old = malloc(sizeof *old);
        if (!old) {
            rc = api_fail(p, 500, "internal", "out of memory");
            goto out;
        }
        if (store_proposal_find_idem(db, cl->name, rq->idem_key, old, &found, &e) < 0) {
            free(old);
            rc = db_fail(p, &e);
            goto out;
        }
        if (found) {
            if (strcmp(old->body_hash, pr->body_hash) != 0)
                rc = api_fail(p, 409, "idempotency-key-reused", "Idempotency-Key \"%s\" was "
                              "used for another proposal (%lld): a key names one request",
                              rq->idem_key, (long long)old->id);
            else {
                respond_json(rs, 201, proposal_json(old));
                rc = 0;
            }
            free(old);
            goto out;
        }
        free(old);
    }
    char who[STORE_API_NAME_MAX + 8];
    snprintf(who, sizeof who, "api:%s", cl->name);
    store_chain ch;
    json_t *scr = NULL;
    /* the policy and the screener are the service's: one proposal checks at a time */
    pthread_mutex_lock(&sv->mu);
    int crc = proposal_check(sv, rd, who, &r, kind, &ch, &scr, p);
    pthread_mutex_unlock(&sv->mu);
    if (crc < 0)
        goto out;
    char *scr_s = json_dumps(scr, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(scr);
    snprintf(pr->screening, sizeof pr->screening, "%s", scr_s ? scr_s : "{}");
    free(scr_s);
    snprintf(pr->client, sizeof pr->client, "%s", cl->name);
    snprintf(pr->idem_key, sizeof pr->idem_key, "%s", rq->idem_key ? rq->idem_key : "");
    snprintf(pr->kind, sizeof pr->kind, "%s", kind == PROPOSAL_BRIDGE    ? "bridge"
                                               : kind == PROPOSAL_PAYMENT ? "payment"
                                                                          : "escrow");
    pr->chain_id = ch.chain_id;
    json_error_t je;
    json_t *det = json_pack("{s:s, s:s, s:s?, s:o}", "client", cl->name, "kind", pr->kind,
                            "idempotency_key", rq->idem_key, "request",
                            json_loads(pr->body, 0, &je));
    commit_job *j = calloc(1, sizeof *j);
    if (!j || !det) {
        free(j);
        json_decref(det);
        rc = api_fail(p, 500, "internal", "out of memory");
        goto out;
    }
    j->pr = pr;
    j->det = det;
    snprintf(j->who, sizeof j->who, "%s", who);
    snprintf(j->client, sizeof j->client, "%s", cl->name);
    j->has_idem = rq->idem_key != NULL;
    snprintf(j->idem, sizeof j->idem, "%s", rq->idem_key ? rq->idem_key : "");
    pr = NULL; /* the job's now */
    *job = j;
    rc = 0;
out:
    free(pr);
    return rc;
}

/* The risk worker's last snapshot: the whole report, or its portfolio part. */
static int get_risk(api_service *sv, bool whole, const api_request *rq, api_response *rs,
                    api_problem *p)
{
    if (rq->n_query)
        return api_fail(p, 400, "unknown-parameter", "this resource takes no query parameters");
    if (!sv->opt.risk_json)
        return api_fail(p, 501, "not-implemented", "this server does not run the risk service");
    pthread_mutex_lock(&sv->risk_mu);
    const char *b = whole ? sv->risk_body : sv->portfolio_body;
    char *copy = b ? strdup(b) : NULL;
    char why[ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", sv->risk_error);
    pthread_mutex_unlock(&sv->risk_mu);
    /* the book's server away at the last refresh: as the other reads of the book say it,
     * not the snapshot from before (its escrowed value and value in flight are stale) */
    if (!strncmp(why, STORE_BOOK_AWAY, strlen(STORE_BOOK_AWAY))) {
        free(copy);
        api_fail(p, 503, "book-unreachable", "%s", why);
        p->retry_after = 5;
        return -1;
    }
    if (!copy) {
        api_fail(p, 503, "risk-not-ready", "%s", why[0] ? why : "the first risk refresh is "
                 "still running: ask again shortly");
        p->retry_after = 2;
        return -1;
    }
    rs->status = 200;
    rs->content_type = "application/json";
    rs->body = copy;
    return 0;
}

/* ---- dispatch ---- */

static client_bucket *bucket_of(api_service *sv, const char *name)
{
    for (size_t i = 0; i < sv->n_buckets; i++)
        if (!strcmp(sv->buckets[i].name, name))
            return &sv->buckets[i];
    if (sv->n_buckets == MAX_CLIENTS)
        return &sv->buckets[0];
    client_bucket *b = &sv->buckets[sv->n_buckets++];
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", name);
    return b;
}

static int handle_read(api_service *sv, api_reader *rd, const api_request *rq, api_response *rs,
                       api_problem *p, commit_job **job)
{
    api_match m;
    api_route_match(rq->method, rq->path, &m);
    if (m.route == API_ROUTE_NONE) {
        if (m.path_known)
            return api_fail(p, 405, "method-not-allowed", "%.10s is not allowed on %.80s",
                            rq->method, rq->path);
        return api_fail(p, 404, "not-found", "no resource %.100s (see docs/api.md)", rq->path);
    }
    if (m.route == API_ROUTE_HEALTH) {
        respond_json(rs, 200, json_pack("{s:s}", "status", "ok"));
        return 0;
    }
    /* who: a bearer token of an active client */
    const char *tok = NULL;
    if (api_bearer(rq->authorization, &tok) < 0)
        return api_fail(p, 401, "unauthorized", "send \"Authorization: Bearer TOKEN\" with a "
                        "token from `fusion api client add`");
    char th[65];
    api_token_hash(tok, th);
    store_api_client cl;
    bool found = false;
    err e;
    err_clear(&e);
    if (store_api_client_by_hash(desk_snap_store(rd->snap), th, &cl, &found, &e) < 0)
        return db_fail(p, &e);
    if (!found)
        return api_fail(p, 401, "unauthorized", "the token is not that of an active client "
                        "(revoked, or never issued)");
    snprintf(rs->client, sizeof rs->client, "%s", cl.name);
    api_scope have = API_SCOPE_READ;
    if (api_scope_parse(&have, cl.scope) < 0)
        have = API_SCOPE_READ;
    if (m.scope > have)
        return api_fail(p, 403, "forbidden", "client %s has scope %s; %.80s needs %s", cl.name,
                        cl.scope, rq->path, api_scope_str(m.scope));
    unsigned retry = 1;
    pthread_mutex_lock(&sv->bmu);
    bool took = api_bucket_take(&bucket_of(sv, cl.name)->b, rq->now, sv->opt.rate,
                                sv->opt.burst, &retry);
    pthread_mutex_unlock(&sv->bmu);
    if (!took) {
        api_fail(p, 429, "rate-limited", "client %s is over its rate of %.0f requests a second",
                 cl.name, sv->opt.rate);
        p->retry_after = retry;
        return -1;
    }
    /* a body is only for the routes that take one */
    bool post = !strcmp(rq->method, "POST");
    if (!post && (rq->body_len || rq->body_too_large))
        return api_fail(p, 400, "unexpected-body", "a %s request takes no body", rq->method);
    if (post) {
        if (rq->body_too_large)
            return api_fail(p, 413, "body-too-large", "the body is larger than %d bytes",
                            API_BODY_MAX);
        if (!rq->content_type || strncasecmp(rq->content_type, "application/json", 16) != 0 ||
            (rq->content_type[16] && rq->content_type[16] != ';'))
            return api_fail(p, 415, "unsupported-media-type", "send the body as "
                            "application/json");
    }
    switch (m.route) {
    case API_ROUTE_ESCROWS:
        return get_escrows(sv, rd, rq, rs, p);
    case API_ROUTE_ESCROW:
        return get_escrow(sv, rd, &m, rq, rs, p);
    case API_ROUTE_TRANSACTIONS:
        return get_transactions(sv, rd, rq, rs, p);
    case API_ROUTE_CASES:
        return get_cases(sv, rd, rq, rs, p);
    case API_ROUTE_ENTITIES:
        return get_entities(sv, rd, rq, rs, p);
    case API_ROUTE_ALERTS:
        return get_alerts(sv, rd, rq, rs, p);
    case API_ROUTE_CHAINS:
        return get_chains(sv, rd, rq, rs, p);
    case API_ROUTE_PROPOSALS:
        return get_proposals(sv, rd, rq, rs, p);
    case API_ROUTE_PROPOSAL:
        return get_proposal(sv, rd, &m, rq, rs, p);
    case API_ROUTE_PROPOSE_ESCROW:
        return post_proposal(sv, rd, PROPOSAL_ESCROW, &cl, rq, rs, p, job);
    case API_ROUTE_PROPOSE_PAYMENT:
        return post_proposal(sv, rd, PROPOSAL_PAYMENT, &cl, rq, rs, p, job);
    case API_ROUTE_PROPOSE_BRIDGE:
        return post_proposal(sv, rd, PROPOSAL_BRIDGE, &cl, rq, rs, p, job);
    case API_ROUTE_PORTFOLIO:
    case API_ROUTE_RISK:
        return get_risk(sv, m.route == API_ROUTE_RISK, rq, rs, p);
    case API_ROUTE_EVENTS: {
        int64_t from = 0;
        api_page pg;
        if (api_page_parse(&pg, rq->query, rq->n_query, "after", p) < 0)
            return -1;
        from = pg.after;
        if (rq->last_event_id) {
            from = api_event_id_parse(rq->last_event_id);
            if (from < 0)
                return api_fail(p, 400, "bad-last-event-id", "Last-Event-ID must be an event id");
        } else if (!pg.after && !rq->n_query) {
            /* a new subscriber starts at the present (past what was pruned, too) */
            int64_t horizon = 0;
            if (store_feed_last(desk_snap_store(rd->snap), &from, &e) < 0 ||
                store_feed_horizon(desk_snap_store(rd->snap), &horizon, &e) < 0)
                return db_fail(p, &e);
            if (horizon > from)
                from = horizon;
        }
        rs->status = 200;
        rs->stream = true;
        rs->stream_from = from;
        rs->content_type = "text/event-stream";
        return 0;
    }
    default:
        return api_fail(p, 404, "not-found", "no resource %.100s", rq->path);
    }
}

static api_reader *reader_take(api_service *sv)
{
    pthread_mutex_lock(&sv->rmu);
    while (!sv->free_rd)
        pthread_cond_wait(&sv->rcv, &sv->rmu);
    api_reader *rd = sv->free_rd;
    sv->free_rd = rd->next_free;
    pthread_mutex_unlock(&sv->rmu);
    return rd;
}

static void reader_give(api_service *sv, api_reader *rd)
{
    pthread_mutex_lock(&sv->rmu);
    rd->next_free = sv->free_rd;
    sv->free_rd = rd;
    pthread_cond_signal(&sv->rcv);
    pthread_mutex_unlock(&sv->rmu);
}

void api_service_handle(api_service *sv, const api_request *rq, api_response *rs)
{
    memset(rs, 0, sizeof *rs);
    api_problem p;
    memset(&p, 0, sizeof p);
    api_reader *rd = reader_take(sv);
    /* every read sees what any process committed (the sync, the UI, the CLI): the view's
     * cached window and count are dropped when the database changed since the last look */
    bool changed = true;
    err e;
    err_clear(&e);
    if (desk_snap_poll(rd->snap, &changed, &e) < 0 || changed ||
        desk_snap_on_book(rd->snap)) /* a server's announcement may still be on its way */
        desk_escrow_view_invalidate(rd->view);
    commit_job *job = NULL;
    int rc = handle_read(sv, rd, rq, rs, &p, &job);
    reader_give(sv, rd);
    if (rc == 0 && job)
        rc = commit_proposal(sv, job, rs, &p);
    feed_prune_due(sv, rq->now);
    commit_job_free(&job);
    if (rc < 0) {
        free(rs->body);
        rs->body = NULL;
        respond_problem(rs, &p);
    }
}

int api_service_feed(api_service *sv, const char *client, int64_t *last, char *out, size_t cap,
                     size_t *n_out, err *e)
{
    *n_out = 0;
    store_feed_row *rows = NULL;
    size_t n = 0;
    store_api_client cl;
    bool found = false;
    api_reader *rd = reader_take(sv);
    feed_follow(sv, rd);
    /* a client revoked while it listens is cut off, as its next request would be */
    int rc = store_api_client_get(desk_snap_store(rd->snap), client, &cl, &found, e);
    int64_t horizon = 0;
    if (rc == 0 && found && !cl.revoked_at)
        rc = store_feed_horizon(desk_snap_store(rd->snap), &horizon, e);
    if (rc == 0 && found && !cl.revoked_at && *last >= horizon)
        rc = store_feed_after(desk_snap_store(rd->snap), *last, 64, &rows, &n, e);
    reader_give(sv, rd);
    if (rc < 0)
        return -1;
    if (!found || cl.revoked_at)
        return 1;
    size_t used = 0;
    if (*last < horizon) {
        /* what follows *last was pruned: say so, once, and go on from the oldest event kept;
         * the client reads the resources again (its view may miss changes) */
        int w = snprintf(out, cap, "id: %lld\nevent: reset\ndata: {\"id\":%lld,\"kind\":"
                         "\"reset\",\"after\":%lld,\"reason\":\"the events after %lld were "
                         "pruned from the change feed: read the resources again\"}\n\n",
                         (long long)horizon, (long long)horizon, (long long)*last,
                         (long long)*last);
        if (w > 0 && (size_t)w < cap) {
            *last = horizon;
            *n_out = (size_t)w;
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const store_feed_row *r = &rows[i];
        json_t *o = json_pack("{s:I, s:s, s:I, s:s, s:s, s:I}", "id", (json_int_t)r->id, "kind",
                              r->kind, "chain_id", (json_int_t)r->chain_id, "ref", r->ref,
                              "state", r->state, "at", (json_int_t)r->at);
        char *d = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!d)
            break;
        int w = snprintf(out + used, cap - used, "id: %lld\nevent: %s\ndata: %s\n\n",
                         (long long)r->id, r->kind, d);
        free(d);
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
        *last = r->id;
    }
    free(rows);
    *n_out = used;
    return 0;
}
