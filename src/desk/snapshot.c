/* snapshot.c: the read-only desk views of snapshot.h. The escrow view keeps one window
 * of formatted rows; a read next to the window continues from its edge by keyset
 * (WHERE (key, rowid) > (last key, last rowid)), a far jump counts OFFSET from the
 * nearer end, so scrolling never re-reads what lies before the window. */
#include "desk/snapshot.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "base/log.h"
#include "base/u256.h"
#include "desk/names.h"
#include "rpc/rpc.h"
#include "sync/event_json.h"

#define WINDOW_ROWS 128
#define SQL_MAX 4096
/* Rows read per window when a filter is tested row by row in an order's index: a screenful
 * and some, as each row read costs the rows skipped before it. */
#define SCAN_WINDOW_ROWS 48
/* A filter with few trigram-index matches is read through the index and its matches
 * sorted (cost: one row read per match); with many, walking the order's index and testing
 * each row finds a window sooner (cost: about SCAN_WINDOW_ROWS * total / matches rows
 * tested, each a few times cheaper than a row read). The two meet near
 * sqrt(SPARSE_FACTOR * total), measured at a million escrows (docs/benchmarks.md). */
#define SPARSE_FACTOR 32
#define SPARSE_MIN 64
#define ZERO_ADDR "'0x0000000000000000000000000000000000000000'"

struct desk_snap {
    store *st;
    sqlite3 *ro;
    sqlite3_stmt *dv;
    bool have_version;
    int64_t version;
};

/* The book on a server the store was given (store_reader: pgstore's pg_desk_book_attach):
 * the escrows, their events and the checkpoints are read there; NULL: desk.db. */
static const store_book_reader *snap_rd(const desk_snap *s)
{
    return store_reader(s->st, NULL);
}

static void *snap_rconn(const desk_snap *s)
{
    void *c = NULL;
    store_reader(s->st, &c);
    return c;
}

static int sql_fail(sqlite3 *db, err *e, const char *what)
{
    return err_set(e, ERR_IO, "%s: %s", what, sqlite3_errmsg(db));
}

int desk_snap_open(desk_snap **out, const char *home, err *e)
{
    *out = NULL;
    desk_snap *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "out of memory opening the desk");
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", home);
    if (store_open(&s->st, path, e) < 0) {
        free(s);
        return -1;
    }
    if (sqlite3_open_v2(path, &s->ro, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        err_set(e, ERR_IO, "cannot open %s for reading: %s", path,
                s->ro ? sqlite3_errmsg(s->ro) : "out of memory");
        desk_snap_free(&s);
        return -1;
    }
    sqlite3_busy_timeout(s->ro, 2000);
    /* 16 MiB of page cache (default 2): the pages a filter touched are there for the next
     * key typed into it. Bounded, so resident memory stays small at any desk size. */
    sqlite3_exec(s->ro, "PRAGMA cache_size = -16384", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(s->ro, "PRAGMA data_version", -1, &s->dv, NULL) != SQLITE_OK) {
        sql_fail(s->ro, e, "cannot read the database version");
        desk_snap_free(&s);
        return -1;
    }
    *out = s;
    return 0;
}

void desk_snap_free(desk_snap **p)
{
    if (!p || !*p)
        return;
    desk_snap *s = *p;
    sqlite3_finalize(s->dv);
    if (s->ro)
        sqlite3_close(s->ro);
    store_close(&s->st); /* and the book's connections it was given */
    free(s);
    *p = NULL;
}

store *desk_snap_store(desk_snap *s)
{
    return s->st;
}

bool desk_snap_on_book(const desk_snap *s)
{
    return snap_rd(s) != NULL;
}

int desk_snap_poll_split(desk_snap *s, bool *book, bool *local, err *e)
{
    *book = *local = false;
    /* the book's commits, announced (never blocks; a server away is no change) */
    if (snap_rd(s) && snap_rd(s)->changed(snap_rconn(s), book, e) < 0)
        return -1;
    sqlite3_reset(s->dv);
    if (sqlite3_step(s->dv) != SQLITE_ROW)
        return sql_fail(s->ro, e, "cannot read the database version");
    int64_t v = sqlite3_column_int64(s->dv, 0);
    sqlite3_reset(s->dv);
    if (!s->have_version || v != s->version)
        *local = true;
    s->have_version = true;
    s->version = v;
    return 0;
}

int desk_snap_poll(desk_snap *s, bool *changed, err *e)
{
    bool book = false, local = false;
    int rc = desk_snap_poll_split(s, &book, &local, e);
    *changed = book || local;
    return rc;
}

/* ---- escrows ---- */

const char *desk_escrow_sort_label(desk_escrow_sort s)
{
    static const char *const labels[] = {
#define DESK_SORT_LABEL_(id, label) label,
        DESK_ESCROW_SORTS(DESK_SORT_LABEL_)
#undef DESK_SORT_LABEL_
    };
    return (unsigned)s < DESK_ESCROW_SORT_COUNT ? labels[s] : "?";
}

bool desk_escrow_sort_indexed(desk_escrow_sort s)
{
    /* rowid is the table's own key; escrows_by_address holds (address, rowid). */
    return s == DESK_ESCROW_SORT_RECENT || s == DESK_ESCROW_SORT_ADDRESS;
}

/* The sort key of each order (the table's rowid breaks ties). */
static const char *const sort_keys[DESK_ESCROW_SORT_COUNT] = {
    "e.rowid",
    "e.address",
    "c.name",
    "e.payee",
    "e.token",
    "substr('00000000000000000000000000000000000000000000000000000000000000000000000000000000'"
    " || e.amount, -80)",
    "e.state",
    "e.approvals",
    "e.last_event_block",
};

/* The filter as a test of each escrows row (walks in an order's index, and filters too
 * short for the trigram index): the fields the search index holds. Chain names and token
 * symbols are matched in their small tables first (uncorrelated subqueries run once), and
 * only when some name or symbol matches at all (FILTER_NAMES_SQL): per row, each costs a
 * lookup that a walk of a million rows feels. */
static const char FILTER_ROW_SQL[] =
    "e.address LIKE ?1 ESCAPE '\\' OR e.payer LIKE ?1 ESCAPE '\\'"
    " OR e.payee LIKE ?1 ESCAPE '\\' OR e.state LIKE ?1 ESCAPE '\\'";
static const char FILTER_NAMES_SQL[] =
    " OR e.chain_id IN (SELECT chain_id FROM chains WHERE name LIKE ?1 ESCAPE '\\')"
    " OR (e.chain_id, e.token) IN (SELECT chain_id, address FROM tokens"
    "                              WHERE symbol LIKE ?1 ESCAPE '\\')"
    " OR (e.token = " ZERO_ADDR " AND e.chain_id IN (SELECT chain_id FROM chains WHERE "
    "                                native_symbol LIKE ?1 ESCAPE '\\'))";
static const char NAMES_MATCH_SQL[] =
    "SELECT EXISTS (SELECT 1 FROM chains WHERE name LIKE ?1 ESCAPE '\\'"
    "                                      OR native_symbol LIKE ?1 ESCAPE '\\')"
    " OR EXISTS (SELECT 1 FROM tokens WHERE symbol LIKE ?1 ESCAPE '\\')";

static const char FROM_SQL[] =
    " FROM escrows e JOIN chains c ON c.chain_id = e.chain_id"
    " LEFT JOIN tokens t ON t.chain_id = e.chain_id AND t.address = e.token";

/* Through the trigram index: the matches drive the loop (CROSS JOIN keeps that order), so
 * the index's rowid order serves the most-recent order without a sort. */
static const char FROM_SEARCH_SQL[] =
    " FROM escrow_search s CROSS JOIN escrows e CROSS JOIN chains c"
    " LEFT JOIN tokens t ON t.chain_id = e.chain_id AND t.address = e.token"
    " WHERE escrow_search MATCH ?1 AND e.rowid = s.rowid AND c.chain_id = e.chain_id";

typedef enum { FETCH_OFFSET, FETCH_OFFSET_FROM_END, FETCH_AFTER, FETCH_BEFORE } fetch_mode;

/* How the rows of the current filter are found. */
typedef enum {
    PLAN_ALL,    /* no filter: the order's index */
    PLAN_SCAN,   /* the order's index, each row tested (dense or short filters) */
    PLAN_SEARCH, /* the trigram index (most recent first, or few matches sorted) */
} plan;

struct desk_escrow_view {
    desk_snap *snap;
    char pattern[1100]; /* LIKE pattern, "" = no filter */
    char phrase[1100];  /* FTS5 phrase for escrow_search, "" when the index cannot serve */
    desk_escrow_sort sort;
    bool desc;
    bool have_count;
    size_t count; /* exact, when have_count */
    size_t known; /* rows known to exist: a lower bound while the count is not known */
    int sparse;   /* phrase filters: 1 few matches (see SPARSE_FACTOR), 0 many, -1 not probed */
    int names;    /* the filter matches some chain name or symbol: 1 yes, 0 no, -1 not known */
    /* the window: rows [base, base + n) of the current order */
    size_t base, n;
    desk_escrow_row rows[WINDOW_ROWS];
    int64_t first_rowid, last_rowid;
    sqlite3_value *first_key, *last_key;
    store_escrow_line *lines; /* the book's window as read (their keys), WINDOW_ROWS */
    /* the background count: its own connection, used by the counting thread only */
    sqlite3 *cdb;
    pthread_t th;
    bool th_running;
    atomic_bool th_cancel, th_done;
    int th_rc;
    size_t th_n;
    char th_sql[SQL_MAX];
    char th_arg[1100];
};

int desk_escrow_view_new(desk_escrow_view **out, desk_snap *s, err *e)
{
    desk_escrow_view *v = calloc(1, sizeof *v);
    if (!v)
        return err_set(e, ERR_NOMEM, "out of memory opening the escrow table");
    v->snap = s;
    v->sort = DESK_ESCROW_SORT_RECENT;
    v->desc = true;
    v->sparse = -1;
    v->names = -1;
    atomic_init(&v->th_cancel, false);
    atomic_init(&v->th_done, false);
    *out = v;
    return 0;
}

static void window_drop(desk_escrow_view *v)
{
    v->n = 0;
    v->base = 0;
    sqlite3_value_free(v->first_key);
    sqlite3_value_free(v->last_key);
    v->first_key = v->last_key = NULL;
}

/* Cancels a running background count and waits for its thread (the progress handler
 * sees the flag within a few thousand VM steps). */
static void count_stop(desk_escrow_view *v)
{
    if (!v->th_running)
        return;
    atomic_store(&v->th_cancel, true);
    pthread_join(v->th, NULL);
    v->th_running = false;
}

void desk_escrow_view_free(desk_escrow_view **p)
{
    if (!p || !*p)
        return;
    desk_escrow_view *v = *p;
    count_stop(v);
    if (v->cdb)
        sqlite3_close(v->cdb);
    window_drop(v);
    free(v->lines);
    free(v);
    *p = NULL;
}

void desk_escrow_view_invalidate(desk_escrow_view *v)
{
    count_stop(v);
    v->have_count = false;
    v->known = 0;
    v->sparse = -1;
    v->names = -1;
    window_drop(v);
}

static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

void desk_escrow_view_set(desk_escrow_view *v, const char *filter, desk_escrow_sort sort,
                          bool descending)
{
    char before[sizeof v->pattern];
    memcpy(before, v->pattern, sizeof before);
    size_t o = 0;
    if (filter && *filter) {
        v->pattern[o++] = '%';
        for (const char *p = filter; *p && o + 4 < sizeof v->pattern; p++) {
            if (*p == '%' || *p == '_' || *p == '\\')
                v->pattern[o++] = '\\';
            v->pattern[o++] = *p;
        }
        v->pattern[o++] = '%';
    }
    v->pattern[o] = '\0';
    /* The trigram index finds substrings of three or more characters; ASCII only, so its
     * case folding is exactly LIKE's. A phrase query is the exact substring. */
    o = 0;
    if (filter && strlen(filter) >= 3 && strlen(filter) * 2 + 3 < sizeof v->phrase &&
        printable_ascii(filter)) {
        v->phrase[o++] = '"';
        for (const char *p = filter; *p; p++) {
            if (*p == '"')
                v->phrase[o++] = '"';
            v->phrase[o++] = *p;
        }
        v->phrase[o++] = '"';
    }
    v->phrase[o] = '\0';
    v->sort = (unsigned)sort < DESK_ESCROW_SORT_COUNT ? sort : DESK_ESCROW_SORT_RECENT;
    v->desc = descending;
    /* The order does not change the count: keep it unless the filter changed. */
    bool same = strcmp(before, v->pattern) == 0;
    bool have = v->have_count;
    size_t count = v->count;
    int sparse = v->sparse;
    desk_escrow_view_invalidate(v);
    if (same) {
        v->have_count = have;
        v->count = count;
        v->known = have ? count : 0;
        v->sparse = sparse;
    }
}

/* The statement that counts the current filter exactly, and its text argument. */
static void count_sql(const desk_escrow_view *v, char *sql, size_t cap, const char **arg)
{
    *arg = NULL;
    if (!v->pattern[0]) {
        snprintf(sql, cap, "SELECT n FROM escrow_totals WHERE id = 1");
    } else if (v->phrase[0]) {
        snprintf(sql, cap, "SELECT count(*) FROM escrow_search WHERE escrow_search MATCH ?1");
        *arg = v->phrase;
    } else {
        snprintf(sql, cap, "SELECT count(*) FROM escrows e WHERE (%s%s)", FILTER_ROW_SQL,
                 v->names == 0 ? "" : FILTER_NAMES_SQL);
        *arg = v->pattern;
    }
}

static int count_run(sqlite3 *db, const char *sql, const char *arg, size_t *n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

static void count_known(desk_escrow_view *v, size_t n)
{
    v->have_count = true;
    v->count = n;
    v->known = n;
}

static int book_count(desk_escrow_view *v, err *e);

int desk_escrow_view_count(desk_escrow_view *v, size_t *n, err *e)
{
    if (snap_rd(v->snap) && book_count(v, e) < 0)
        return -1;
    if (v->have_count) {
        *n = v->count;
        return 0;
    }
    count_stop(v);
    char sql[SQL_MAX];
    const char *arg;
    count_sql(v, sql, sizeof sql, &arg);
    size_t got = 0;
    if (count_run(v->snap->ro, sql, arg, &got) < 0)
        return sql_fail(v->snap->ro, e, "cannot count escrows");
    count_known(v, got);
    *n = got;
    return 0;
}

static size_t isqrt(size_t x)
{
    size_t r = 0;
    while ((r + 1) * (r + 1) <= x)
        r++;
    return r;
}

/* Phrase filters: are there few matches (for the table's size)? Reads at most that many
 * index entries (fast: no rows); when there are fewer, their number is the exact count. */
static int probe(desk_escrow_view *v, err *e)
{
    if (!v->phrase[0] || v->sparse >= 0)
        return 0;
    size_t total = 0;
    if (count_run(v->snap->ro, "SELECT n FROM escrow_totals WHERE id = 1", NULL, &total) < 0)
        return sql_fail(v->snap->ro, e, "cannot count escrows");
    size_t few = isqrt(SPARSE_FACTOR * total);
    if (few < SPARSE_MIN)
        few = SPARSE_MIN;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT 1 FROM escrow_search WHERE escrow_search MATCH ?1"
             " LIMIT %zu)",
             few);
    size_t m = 0;
    if (count_run(v->snap->ro, sql, v->phrase, &m) < 0)
        return sql_fail(v->snap->ro, e, "cannot search escrows");
    v->sparse = m < few;
    if (v->sparse)
        count_known(v, m);
    return 0;
}

/* Does the filter match any chain name, native symbol or token symbol (small tables)? */
static int names_check(desk_escrow_view *v, err *e)
{
    if (!v->pattern[0] || v->names >= 0)
        return 0;
    size_t yes = 0;
    if (count_run(v->snap->ro, NAMES_MATCH_SQL, v->pattern, &yes) < 0)
        return sql_fail(v->snap->ro, e, "cannot match chain and asset names");
    v->names = yes != 0;
    return 0;
}

static plan plan_of(const desk_escrow_view *v)
{
    if (!v->pattern[0])
        return PLAN_ALL;
    if (!v->phrase[0])
        return PLAN_SCAN;
    return v->sort == DESK_ESCROW_SORT_RECENT || v->sparse == 1 ? PLAN_SEARCH : PLAN_SCAN;
}

/* Rows per window read under the current plan. */
static size_t window_rows(const desk_escrow_view *v)
{
    return plan_of(v) == PLAN_SCAN ? SCAN_WINDOW_ROWS : WINDOW_ROWS;
}

static void col_addr(sqlite3_stmt *st, int i, addr *out)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    memset(out, 0, sizeof *out);
    err e;
    if (t && addr_parse(out, t, &e) < 0)
        memset(out, 0, sizeof *out);
}

static void col_text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", t ? t : "");
}

static void row_read(sqlite3_stmt *st, desk_escrow_row *r)
{
    memset(r, 0, sizeof *r);
    r->chain_id = (uint64_t)sqlite3_column_int64(st, 1);
    col_text(st, 2, r->chain, sizeof r->chain);
    col_addr(st, 3, &r->address);
    col_addr(st, 4, &r->payer);
    col_addr(st, 5, &r->payee);
    const char *amount = (const char *)sqlite3_column_text(st, 7);
    col_text(st, 8, r->state, sizeof r->state);
    r->approvals = (unsigned)sqlite3_column_int(st, 9);
    r->threshold = (unsigned)sqlite3_column_int(st, 10);
    r->last_block = (uint64_t)sqlite3_column_int64(st, 11);
    r->pending = sqlite3_column_int(st, 12) != 0;
    bool known = sqlite3_column_type(st, 13) != SQLITE_NULL;
    u256 v;
    err e;
    if (!amount || u256_from_dec(&v, amount, &e) < 0) {
        snprintf(r->amount, sizeof r->amount, "?");
    } else {
        amount_format(r->amount, &v, known ? (unsigned)sqlite3_column_int(st, 14) : 0);
    }
    if (known)
        col_text(st, 13, r->asset, sizeof r->asset);
    else
        snprintf(r->asset, sizeof r->asset, "units");
}

/* Reads up to window_rows() rows into v->rows; rows read in reverse order (the *_FROM_END
 * and BEFORE modes) are put back in view order. *more: a further row exists in the
 * direction read. */
static int fetch(desk_escrow_view *v, fetch_mode mode, size_t offset, size_t *got, bool *more,
                 err *e)
{
    sqlite3 *db = v->snap->ro;
    plan pl = plan_of(v);
    bool by_rowid = v->sort == DESK_ESCROW_SORT_RECENT;
    /* Through the index the rowid is the index's: its order is then the index's own. */
    const char *key = by_rowid && pl == PLAN_SEARCH ? "s.rowid" : sort_keys[v->sort];
    size_t win = window_rows(v);
    bool reverse = mode == FETCH_OFFSET_FROM_END || mode == FETCH_BEFORE;
    bool desc = v->desc != reverse;
    const char *dir = desc ? "DESC" : "ASC";
    char where[SQL_MAX] = "";
    size_t w = 0;
    bool have_where = pl != PLAN_ALL;
    int next_param = pl != PLAN_ALL ? 2 : 1;
    if (pl == PLAN_SCAN)
        w += (size_t)snprintf(where + w, sizeof where - w, " WHERE (%s%s)", FILTER_ROW_SQL,
                              v->names == 0 ? "" : FILTER_NAMES_SQL);
    if (mode == FETCH_AFTER || mode == FETCH_BEFORE) {
        const char *op = desc ? "<" : ">";
        if (by_rowid)
            snprintf(where + w, sizeof where - w, " %s %s %s ?%d", have_where ? "AND" : "WHERE",
                     key, op, next_param);
        else
            snprintf(where + w, sizeof where - w, " %s (%s, e.rowid) %s (?%d, ?%d)",
                     have_where ? "AND" : "WHERE", key, op, next_param, next_param + 1);
    }
    char order[512];
    if (by_rowid)
        snprintf(order, sizeof order, "%s %s", key, dir);
    else
        snprintf(order, sizeof order, "%s %s, e.rowid %s", key, dir, dir);
    char sql[SQL_MAX * 2];
    snprintf(sql, sizeof sql,
             "SELECT e.rowid, e.chain_id, c.name, e.address, e.payer, e.payee, e.token,"
             " e.amount, e.state, e.approvals, e.threshold, e.last_event_block, e.pending,"
             " COALESCE(t.symbol, CASE WHEN e.token = " ZERO_ADDR " THEN c.native_symbol END),"
             " COALESCE(t.decimals, CASE WHEN e.token = " ZERO_ADDR " THEN c.native_decimals END),"
             " %s%s%s ORDER BY %s LIMIT %zu OFFSET %zu",
             key, pl == PLAN_SEARCH ? FROM_SEARCH_SQL : FROM_SQL, where, order, win + 1,
             mode == FETCH_OFFSET || mode == FETCH_OFFSET_FROM_END ? offset : 0);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(db, e, "cannot read escrows");
    if (pl != PLAN_ALL)
        sqlite3_bind_text(st, 1, pl == PLAN_SEARCH ? v->phrase : v->pattern, -1, SQLITE_STATIC);
    if (mode == FETCH_AFTER || mode == FETCH_BEFORE) {
        int64_t rowid = mode == FETCH_AFTER ? v->last_rowid : v->first_rowid;
        sqlite3_value *k = mode == FETCH_AFTER ? v->last_key : v->first_key;
        if (by_rowid) {
            sqlite3_bind_int64(st, next_param, rowid);
        } else {
            sqlite3_bind_value(st, next_param, k);
            sqlite3_bind_int64(st, next_param + 1, rowid);
        }
    }
    size_t n = 0;
    int rc = SQLITE_DONE;
    sqlite3_value *kfirst = NULL, *klast = NULL;
    int64_t rfirst = 0, rlast = 0;
    while (n < win && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_read(st, &v->rows[n]);
        int64_t rowid = sqlite3_column_int64(st, 0);
        sqlite3_value *k = sqlite3_column_value(st, 15);
        if (n == 0) {
            kfirst = sqlite3_value_dup(k);
            rfirst = rowid;
        }
        sqlite3_value_free(klast);
        klast = sqlite3_value_dup(k);
        rlast = rowid;
        n++;
    }
    if (n == win)
        rc = sqlite3_step(st); /* the LIMIT's extra row: is there more? */
    *more = rc == SQLITE_ROW;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        sqlite3_value_free(kfirst);
        sqlite3_value_free(klast);
        sqlite3_finalize(st);
        v->n = 0;
        return sql_fail(db, e, "cannot read escrows");
    }
    sqlite3_finalize(st);
    sqlite3_value_free(v->first_key);
    sqlite3_value_free(v->last_key);
    if (reverse) {
        for (size_t i = 0; i < n / 2; i++) {
            desk_escrow_row tmp = v->rows[i];
            v->rows[i] = v->rows[n - 1 - i];
            v->rows[n - 1 - i] = tmp;
        }
        v->first_key = klast;
        v->first_rowid = rlast;
        v->last_key = kfirst;
        v->last_rowid = rfirst;
    } else {
        v->first_key = kfirst;
        v->first_rowid = rfirst;
        v->last_key = klast;
        v->last_rowid = rlast;
    }
    *got = n;
    return 0;
}

/* After a forward read that ended at row `end` (exclusive): what is now known of the size. */
static void learn_end(desk_escrow_view *v, size_t end, bool more, bool exact_if_last)
{
    if (v->have_count)
        return;
    if (more) {
        if (end + 1 > v->known)
            v->known = end + 1;
    } else if (exact_if_last) {
        count_known(v, end);
    }
}

/* ---- the escrow table on the book's server ----
 * The filter and the order are the server's (pg_trgm for the filter); a window is a page
 * read after the key of the row before it when the current window holds that row (moving
 * down: keyset paging), else at an offset; the count is exact (the stored total without a
 * filter). */

static int book_count(desk_escrow_view *v, err *e)
{
    if (v->have_count)
        return 0;
    size_t n = 0;
    if (snap_rd(v->snap)->escrow_count(snap_rconn(v->snap), v->pattern, &n, e) < 0)
        return -1;
    count_known(v, n);
    return 0;
}

static void row_of_line(const store_escrow_line *l, desk_escrow_row *r)
{
    memset(r, 0, sizeof *r);
    r->chain_id = l->chain_id;
    snprintf(r->chain, sizeof r->chain, "%s", l->chain);
    r->address = l->address;
    r->payer = l->payer;
    r->payee = l->payee;
    snprintf(r->state, sizeof r->state, "%s", l->state);
    r->approvals = l->approvals;
    r->threshold = l->threshold;
    r->last_block = l->last_block;
    r->pending = l->pending;
    u256 a;
    err ignored;
    if (u256_from_dec(&a, l->amount, &ignored) < 0)
        snprintf(r->amount, sizeof r->amount, "?");
    else
        amount_format(r->amount, &a, l->asset_known ? l->decimals : 0);
    snprintf(r->asset, sizeof r->asset, "%s", l->asset_known ? l->asset : "units");
}

static int book_row(desk_escrow_view *v, size_t i, const desk_escrow_row **out, err *e)
{
    if (book_count(v, e) < 0)
        return -1;
    if (i >= v->count)
        return err_set(e, ERR_NOT_FOUND, "no escrow row %zu (there are %zu)", i + 1, v->count);
    if (v->n > 0 && i >= v->base && i < v->base + v->n) {
        *out = &v->rows[i - v->base];
        return 0;
    }
    if (!v->lines && !(v->lines = calloc(WINDOW_ROWS, sizeof *v->lines)))
        return err_set(e, ERR_NOMEM, "out of memory reading escrows");
    /* Moving down, i a little past the window: the new one from the row before it, by its
     * key; moving up: the new one up to the row after it, by its key, i near its end; near
     * the end of the table: its last rows; else at an offset. */
    size_t start = i > WINDOW_ROWS / 4 ? i - WINDOW_ROWS / 4 : 0;
    size_t up_end = i + WINDOW_ROWS / 4 + 1; /* moving up: the window ends before this row */
    store_escrow_line key;
    const store_escrow_line *after = NULL;
    bool backward = false;
    if (v->n > 0 && start > 0 && start - 1 >= v->base && start - 1 < v->base + v->n &&
        v->lines[start - 1 - v->base].has_key) {
        key = v->lines[start - 1 - v->base];
        after = &key;
    } else if (v->n > 0 && i < v->base && up_end >= WINDOW_ROWS && up_end >= v->base &&
               up_end < v->base + v->n && v->lines[up_end - v->base].has_key) {
        key = v->lines[up_end - v->base];
        after = &key;
        backward = true;
    } else if (v->count > WINDOW_ROWS && start + WINDOW_ROWS >= v->count) {
        backward = true; /* the last window, by the reversed order */
    } else if (up_end <= WINDOW_ROWS) {
        start = 0; /* the first window holds it */
    }
    size_t got = 0;
    bool more = false;
    window_drop(v);
    int rc = snap_rd(v->snap)->escrow_page(snap_rconn(v->snap), v->pattern, (int)v->sort,
                                           v->desc, start, after, backward, WINDOW_ROWS, v->lines,
                                           &got, &more, e);
    for (size_t k = 0; rc == 0 && k < got; k++)
        row_of_line(&v->lines[k], &v->rows[k]);
    if (rc < 0)
        return -1;
    /* backward reads end before up_end (by key), or at the table's end (no key) */
    v->base = !backward ? start : after ? up_end - got : v->count - got;
    v->n = got;
    if (backward && i < v->base) {
        desk_escrow_view_invalidate(v);
        return err_set(e, ERR_STATE, "the escrow table changed while reading it");
    }
    if (i >= v->base + v->n) {
        /* The table changed under us (a sync's commit): start afresh next time. */
        desk_escrow_view_invalidate(v);
        return err_set(e, ERR_STATE, "the escrow table changed while reading it");
    }
    *out = &v->rows[i - v->base];
    return 0;
}

int desk_escrow_view_size(desk_escrow_view *v, size_t *n, bool *exact, err *e)
{
    bool arrived;
    *n = 0;
    *exact = false;
    if (snap_rd(v->snap)) {
        if (book_count(v, e) < 0)
            return -1;
        *n = v->count;
        *exact = true;
        return 0;
    }
    if (desk_escrow_view_count_async(v, &arrived, false, e) < 0)
        return -1;
    if (!v->have_count && !v->pattern[0]) {
        size_t all;
        if (desk_escrow_view_count(v, &all, e) < 0)
            return -1;
    }
    if (names_check(v, e) < 0 || (!v->have_count && probe(v, e) < 0))
        return -1;
    if (!v->have_count && v->known == 0) {
        /* The first window tells whether there is a row at all, and maybe all of them. */
        size_t got = 0;
        bool more = false;
        window_drop(v);
        if (fetch(v, FETCH_OFFSET, 0, &got, &more, e) < 0)
            return -1;
        v->base = 0;
        v->n = got;
        learn_end(v, got, more, true);
    }
    *n = v->have_count ? v->count : v->known;
    *exact = v->have_count;
    return 0;
}

int desk_escrow_view_row(desk_escrow_view *v, size_t i, const desk_escrow_row **out, err *e)
{
    *out = NULL;
    if (snap_rd(v->snap))
        return book_row(v, i, out, e);
    size_t count;
    bool exact;
    if (desk_escrow_view_size(v, &count, &exact, e) < 0)
        return -1;
    if (exact && i >= count)
        return err_set(e, ERR_NOT_FOUND, "no escrow row %zu (there are %zu)", i + 1, count);
    if (v->n > 0 && i >= v->base && i < v->base + v->n) {
        *out = &v->rows[i - v->base];
        return 0;
    }
    size_t got = 0;
    size_t base;
    bool more = false;
    size_t win = window_rows(v);
    if (v->n > 0 && i >= v->base + v->n && i < v->base + v->n + win) {
        base = v->base + v->n;
        if (fetch(v, FETCH_AFTER, 0, &got, &more, e) < 0)
            return -1;
        learn_end(v, base + got, more, true);
    } else if (v->n > 0 && i < v->base && i + win >= v->base) {
        if (fetch(v, FETCH_BEFORE, 0, &got, &more, e) < 0)
            return -1;
        base = v->base - got;
    } else {
        /* A jump: centre a window on i, counted from the nearer end (when the end is
         * known; otherwise from the start). */
        size_t start = i > win / 4 ? i - win / 4 : 0;
        size_t end = start + win; /* exclusive */
        if (exact && end > count) {
            end = count;
            start = end > win ? end - win : 0;
        }
        if (!exact || start <= count - end) {
            if (fetch(v, FETCH_OFFSET, start, &got, &more, e) < 0)
                return -1;
            base = start;
            learn_end(v, base + got, more, got > 0 || start == 0);
        } else {
            if (fetch(v, FETCH_OFFSET_FROM_END, count - end, &got, &more, e) < 0)
                return -1;
            base = end - got;
        }
    }
    v->base = base;
    v->n = got;
    if (i < v->base || i >= v->base + v->n) {
        if (!exact && !more && i >= v->base + v->n)
            return err_set(e, ERR_NOT_FOUND, "no escrow row %zu", i + 1);
        /* The table changed under us (another writer): start afresh next time. */
        desk_escrow_view_invalidate(v);
        return err_set(e, ERR_STATE, "the escrow table changed while reading it");
    }
    *out = &v->rows[i - v->base];
    return 0;
}

/* ---- the background count ---- */

static int count_cancelled(void *arg)
{
    desk_escrow_view *v = arg;
    return atomic_load(&v->th_cancel) ? 1 : 0;
}

static void *count_main(void *arg)
{
    desk_escrow_view *v = arg;
    size_t n = 0;
    v->th_rc = count_run(v->cdb, v->th_sql, v->th_arg[0] ? v->th_arg : NULL, &n);
    v->th_n = n;
    atomic_store(&v->th_done, true);
    return NULL;
}

int desk_escrow_view_count_async(desk_escrow_view *v, bool *arrived, bool start, err *e)
{
    *arrived = false;
    if (snap_rd(v->snap))
        return 0; /* the server's count is exact at once */
    if (v->th_running && atomic_load(&v->th_done)) {
        pthread_join(v->th, NULL);
        v->th_running = false;
        if (v->th_rc == 0 && !v->have_count) {
            count_known(v, v->th_n);
            *arrived = true;
        } else if (v->th_rc != 0) {
            LOG_W("desk", "counting escrows in the background failed: %s",
                  sqlite3_errmsg(v->cdb));
        }
    }
    if (!start || v->have_count || v->th_running)
        return 0;
    if (!v->cdb) {
        const char *path = sqlite3_db_filename(v->snap->ro, "main");
        if (sqlite3_open_v2(path ? path : "", &v->cdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                            NULL) != SQLITE_OK) {
            err_set(e, ERR_IO, "cannot open the desk database for counting: %s",
                    v->cdb ? sqlite3_errmsg(v->cdb) : "out of memory");
            sqlite3_close(v->cdb);
            v->cdb = NULL;
            return -1;
        }
        sqlite3_busy_timeout(v->cdb, 2000);
        sqlite3_progress_handler(v->cdb, 1000, count_cancelled, v);
    }
    const char *arg;
    count_sql(v, v->th_sql, sizeof v->th_sql, &arg);
    snprintf(v->th_arg, sizeof v->th_arg, "%s", arg ? arg : "");
    atomic_store(&v->th_cancel, false);
    atomic_store(&v->th_done, false);
    /* The thread takes no signals: the UI's handlers belong to its main thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&v->th, NULL, count_main, v);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return err_set(e, ERR_NOMEM, "cannot start the escrow count: %s", strerror(rc));
    v->th_running = true;
    return 0;
}

/* ---- escrow detail ---- */

typedef struct lines {
    char **v;
    size_t n, cap;
    bool oom;
} lines;

static void add(lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(lines *l, const char *fmt, ...)
{
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) {
            l->oom = true;
            return;
        }
        l->v = nv;
        l->cap = cap;
    }
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    l->v[l->n] = strdup(text);
    if (!l->v[l->n])
        l->oom = true;
    else
        l->n++;
}

void desk_lines_free(char ***lines_, size_t n)
{
    if (!lines_ || !*lines_)
        return;
    for (size_t i = 0; i < n; i++)
        free((*lines_)[i]);
    free(*lines_);
    *lines_ = NULL;
}

static void asset_of(store *st, const store_chain *ch, const addr *token, char *sym, size_t cap,
                     unsigned *decimals)
{
    *decimals = 0;
    snprintf(sym, cap, "units");
    if (addr_is_zero(token)) {
        snprintf(sym, cap, "%s", ch->native_symbol);
        *decimals = ch->native_decimals;
        return;
    }
    store_token *ts = NULL;
    size_t n = 0;
    err e;
    if (store_token_list(st, ch->chain_id, &ts, &n, &e) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (addr_equal(&ts[i].address, token)) {
                snprintf(sym, cap, "%s", ts[i].symbol);
                *decimals = ts[i].decimals;
            }
        }
    }
    free(ts);
}

int desk_escrow_detail(desk_snap *s, uint64_t chain_id, const addr *escrow, char ***out, size_t *n,
                       err *e)
{
    *out = NULL;
    *n = 0;
    store_escrow x;
    store_chain ch;
    bool found = false, chfound = false;
    if (store_escrow_get(s->st, chain_id, escrow, &x, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "the escrow is no longer in the desk (reorg?)");
    if (store_chain_get(s->st, chain_id, &ch, &chfound, e) < 0)
        return -1;
    if (!chfound)
        memset(&ch, 0, sizeof ch);
    store_checkpoint cp;
    if (store_checkpoint_get(s->st, chain_id, &cp, e) < 0)
        return -1;
    store_event_list evs;
    if (store_event_list_escrow(s->st, chain_id, escrow, &evs, e) < 0)
        return -1;
    char a[ADDR_STR_MAX], sym[STORE_SYMBOL_MAX + 8];
    char amt[AMOUNT_STR_MAX], f[AMOUNT_STR_MAX], r[AMOUNT_STR_MAX], rf[AMOUNT_STR_MAX];
    unsigned dec;
    asset_of(s->st, &ch, &x.token, sym, sizeof sym, &dec);
    amount_format(amt, &x.amount, dec);
    amount_format(f, &x.funded, dec);
    amount_format(r, &x.released, dec);
    amount_format(rf, &x.refunded, dec);
    lines l = {0};
    addr_to_checksum(a, &x.address);
    add(&l, "Escrow    %s on %s (chain %llu)%s", a, ch.name, (unsigned long long)chain_id,
        x.pending ? "  [pending confirmations]" : "");
    const char *slot = chfound && ch.explorer[0] ? strstr(ch.explorer, "{address}") : NULL;
    if (slot) /* the chain's explorer, its template filled with this escrow */
        add(&l, "Explorer  %.*s%s%s", (int)(slot - ch.explorer), ch.explorer, a,
            slot + strlen("{address}"));
    add(&l, "State     %s%s   approvals %u of %u%s", escrow_state_str(x.state),
        x.state == ESCROW_RESOLVED ? (x.resolved_to_payee ? " to payee" : " to payer") : "",
        x.n_approvals, x.threshold,
        x.inconsistent ? "   [inconsistent: see Anomaly]" : "");
    /* names from the address book before each address (the entities and operators) */
    desk_names *names = NULL;
    err ne;
    if (desk_names_load(&names, s->st, NULL, &ne) < 0)
        names = NULL;
    char lab[STORE_ENTITY_NAME_MAX + ADDR_STR_MAX + 8];
    desk_names_label(lab, sizeof lab, names, chain_id, &x.payer);
    add(&l, "Payer     %s", lab);
    desk_names_label(lab, sizeof lab, names, chain_id, &x.payee);
    add(&l, "Payee     %s", lab);
    desk_names_label(lab, sizeof lab, names, chain_id, &x.arbiter);
    add(&l, "Arbiter   %s", lab);
    add(&l, "Amount    %s %s   funded %s   released %s   refunded %s", amt, sym, f, r, rf);
    char when[64] = "-";
    time_t dl = (time_t)x.deadline;
    struct tm tm;
    if (gmtime_r(&dl, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    add(&l, "Deadline  %s", when);
    if (x.version == 2) {
        char th[67];
        hex_encode(th, sizeof th, x.terms_hash, 32, true);
        add(&l, "Version 2 dispute window %llu s   terms hash %s",
            (unsigned long long)x.dispute_window, th);
    }
    if (x.anomaly[0])
        add(&l, "Anomaly   %s", x.anomaly);
    add(&l, "Approvers (%u):", x.n_approvers);
    for (unsigned i = 0; i < x.n_approvers; i++) {
        const store_approval *ap = NULL;
        for (unsigned j = 0; j < x.n_approvals; j++)
            if (addr_equal(&x.approvals[j].approver, &x.approvers[i]))
                ap = &x.approvals[j];
        desk_names_label(lab, sizeof lab, names, chain_id, &x.approvers[i]);
        if (ap)
            add(&l, "  %s  approved in block %llu%s", lab, (unsigned long long)ap->block_number,
                ap->pending ? " (pending)" : "");
        else
            add(&l, "  %s  not yet", lab);
    }
    desk_names_free(&names);
    add(&l, "Timeline (%zu events):", evs.n);
    for (size_t i = 0; i < evs.n; i++) {
        const store_event *ev = &evs.items[i];
        char tx[67];
        if (hex_encode(tx, sizeof tx, ev->tx_hash, 32, true) == 0)
            tx[0] = '\0';
        char *fields = sync_event_json_of(ev);
        add(&l, "  block %-8llu %-16s %s%s  tx %.12s", (unsigned long long)ev->block_number,
            ev->name[0] ? ev->name : "(unknown)", fields ? fields : "",
            cp.synced && ev->block_number > cp.final_block ? "  (pending)" : "", tx);
        free(fields);
    }
    store_event_list_free(&evs);
    if (l.oom) {
        desk_lines_free(&l.v, l.n);
        return err_set(e, ERR_NOMEM, "out of memory reading the escrow");
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

/* ---- chains ---- */

int desk_chain_rows(desk_snap *s, desk_chain_row **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    store_chain *cs = NULL;
    size_t nc = 0;
    if (store_chain_list(s->st, &cs, &nc, e) < 0)
        return -1;
    desk_chain_row *rows = calloc(nc ? nc : 1, sizeof *rows);
    if (!rows) {
        free(cs);
        return err_set(e, ERR_NOMEM, "out of memory reading chains");
    }
    for (size_t i = 0; i < nc; i++) {
        desk_chain_row *r = &rows[i];
        r->chain_id = cs[i].chain_id;
        snprintf(r->name, sizeof r->name, "%s", cs[i].name);
        store_checkpoint cp;
        store_endpoint *eps = NULL;
        size_t ne = 0;
        /* a server away leaves the row without its checkpoint, the reason in its error */
        err ce;
        err_clear(&ce);
        bool on_book = snap_rd(s) != NULL;
        bool cp_ok = store_checkpoint_get(s->st, cs[i].chain_id, &cp, on_book ? &ce : e) == 0;
        if ((!cp_ok && !on_book) || store_endpoint_list(s->st, cs[i].chain_id, &eps, &ne, e) < 0) {
            free(cs);
            free(rows);
            return -1;
        }
        if (!cp_ok)
            memset(&cp, 0, sizeof cp);
        r->synced_any = cp.synced;
        r->synced = cp.synced_block;
        r->final_block = cp.final_block;
        r->head = cp.head_block;
        r->n_endpoints = ne;
        r->latency_ms = -1;
        snprintf(r->health, sizeof r->health, "-");
        if (ne > 0) {
            rpc_url_redact(r->endpoint, sizeof r->endpoint, eps[0].url);
            r->latency_ms = eps[0].has_latency ? eps[0].latency_ms : -1;
            r->range_cap = eps[0].range_cap;
            r->limited_until = eps[0].limited_until;
            snprintf(r->health, sizeof r->health, "%s", store_health_str(eps[0].health));
            /* The most recent error of any endpoint. */
            int64_t when = 0;
            for (size_t j = 0; j < ne; j++) {
                if (eps[j].last_error[0] && eps[j].last_fail >= when) {
                    when = eps[j].last_fail;
                    snprintf(r->last_error, sizeof r->last_error, "%s", eps[j].last_error);
                }
            }
        }
        free(eps);
        if (!cp_ok)
            snprintf(r->last_error, sizeof r->last_error, "%.250s", ce.msg);
    }
    free(cs);
    *out = rows;
    *n = nc;
    return 0;
}
