/* store_case.c: the compliance case aggregate (issue 8): screening hits (unique per
 * subject, escrow and rule), which escrows were screened, cases and their append-only
 * event log. The lifecycle rules (who may do what, four-eyes) live in src/compliance;
 * the one piece of logic here is take-next, which must be a single UPDATE so that two
 * officers racing for the queue never get the same case. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

/* ---- hits ---- */

/* A hit a reorg marked comes back when its escrow does (evidence is never replaced). */
static const char SQL_HIT_PUT[] =
    "INSERT INTO screening_hits (chain_id, escrow, subject, address, entity_id, role,"
    " rule, kind, score, evidence, list_sha256, list_version, created_at, case_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (subject, chain_id, escrow, rule) DO UPDATE SET reorged_at = NULL"
    " WHERE screening_hits.reorged_at IS NOT NULL";
static const char SQL_HIT_ATTACH[] =
    "UPDATE screening_hits SET case_id = ? WHERE subject = ? AND chain_id = ? AND escrow = ?"
    " AND case_id IS NULL";
static const char SQL_HIT_CASE[] =
    "SELECT id, chain_id, escrow, subject, address, entity_id, role, rule, kind, score,"
    " evidence, list_sha256, list_version, case_id, created_at, reorged_at FROM screening_hits"
    " WHERE case_id = ? ORDER BY id";

int store_hit_put(store *s, const store_hit *h, bool *inserted, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_HIT_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, h->chain_id);
    store_bind_addr(st, 2, &h->escrow);
    sqlite3_bind_text(st, 3, h->subject, -1, SQLITE_TRANSIENT);
    store_bind_addr(st, 4, &h->address);
    if (h->entity_id)
        sqlite3_bind_int64(st, 5, h->entity_id);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_text(st, 6, h->role, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, h->rule, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, h->kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 9, h->score);
    sqlite3_bind_text(st, 10, h->evidence, -1, SQLITE_TRANSIENT);
    store_bind_opt_text(st, 11, h->list_sha256);
    store_bind_opt_text(st, 12, h->list_version);
    sqlite3_bind_int64(st, 13, h->created_at ? h->created_at : store_now());
    if (h->case_id)
        sqlite3_bind_int64(st, 14, h->case_id);
    else
        sqlite3_bind_null(st, 14);
    if (store_exec_stmt(s, st, "storing a screening hit", e) < 0)
        return -1;
    if (inserted)
        *inserted = sqlite3_changes(s->db) > 0;
    return 0;
}

int store_hit_attach(store *s, const char *subject, uint64_t chain_id, const addr *escrow,
                     int64_t case_id, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_HIT_ATTACH, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_text(st, 2, subject, -1, SQLITE_TRANSIENT);
    store_bind_u64(st, 3, chain_id);
    store_bind_addr(st, 4, escrow);
    return store_exec_stmt(s, st, "attaching hits to a case", e);
}

static int hit_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e; /* every column reads; nothing can be malformed here */
    store_hit *h = item;
    h->id = sqlite3_column_int64(st, 0);
    h->chain_id = store_col_u64(st, 1);
    store_col_addr(st, 2, &h->escrow);
    store_copy_text(st, 3, h->subject, sizeof h->subject);
    store_col_addr(st, 4, &h->address);
    h->entity_id = sqlite3_column_int64(st, 5);
    store_copy_text(st, 6, h->role, sizeof h->role);
    store_copy_text(st, 7, h->rule, sizeof h->rule);
    store_copy_text(st, 8, h->kind, sizeof h->kind);
    h->score = sqlite3_column_int(st, 9);
    store_copy_text(st, 10, h->evidence, sizeof h->evidence);
    store_copy_text(st, 11, h->list_sha256, sizeof h->list_sha256);
    store_copy_text(st, 12, h->list_version, sizeof h->list_version);
    h->case_id = sqlite3_column_int64(st, 13);
    h->created_at = sqlite3_column_int64(st, 14);
    h->reorged_at = sqlite3_column_int64(st, 15);
    return 0;
}

int store_hit_list_case(store *s, int64_t case_id, store_hit **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_HIT_CASE, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, case_id);
    return store_collect(s, st, sizeof **out, hit_row, (void **)out, n, "listing hits", e);
}

/* ---- screened escrows ---- */

/* A mark screens an escrow only while it names the escrow's creation: the creating
 * transaction and the block hash of its EscrowCreated event (an escrow at the same address
 * created by another transaction, or in another block, is another escrow). The mark holds
 * hex text; the events table holds the hashes and the escrow as bytes. */
#define CREATION_BLOCK_HASH_(x)                                                                    \
    "(SELECT '0x' || lower(hex(ev.block_hash)) FROM events ev WHERE ev.chain_id = " x          \
    ".chain_id AND ev.escrow = fusion_unhex(" x ".address) AND ev.block_number = " x            \
    ".created_block AND ev.tx_hash = fusion_unhex(" x ".created_tx) LIMIT 1)"
#define MARK_OF_(v, x)                                                                             \
    " " v ".chain_id = " x ".chain_id AND " v ".escrow = " x ".address AND " v                   \
    ".created_tx = " x ".created_tx AND " v ".created_block_hash IS " CREATION_BLOCK_HASH_(x)

static const char SQL_SCREENED[] =
    "SELECT 1 FROM escrows x JOIN screened_escrows v ON" MARK_OF_("v", "x")
    " WHERE x.chain_id = ? AND x.address = ?";
static const char SQL_MARK_SCREENED[] =
    "INSERT INTO screened_escrows (chain_id, escrow, screened_at, created_tx, created_block_hash)"
    " SELECT x.chain_id, x.address, ?, x.created_tx, " CREATION_BLOCK_HASH_("x")
    " FROM escrows x WHERE x.chain_id = ? AND x.address = ? AND x.created_tx = ?"
    " ON CONFLICT (chain_id, escrow) DO UPDATE SET screened_at = excluded.screened_at,"
    " created_tx = excluded.created_tx, created_block_hash = excluded.created_block_hash";

/* One read for what store_escrow_get, store_block_get and store_escrow_is_screened gave a
 * screening pass, and the creation hash the mark names. The "screened?" answer is SQL_SCREENED's
 * join, with the creation hash computed once: the mark's creation (same transaction) and
 * block hash (IS: NULL matches NULL, text matches the same text) are compared below. */
#define SCREEN_ROW_(where)                                                                         \
    "SELECT x.chain_id, x.address, x.payer, x.payee, x.token, x.amount, x.created_block,"      \
    " x.created_tx, b.timestamp, b.number IS NOT NULL, " CREATION_BLOCK_HASH_("x") ","          \
    " v.created_tx = x.created_tx, v.created_block_hash FROM escrows x"                          \
    " LEFT JOIN blocks b ON b.chain_id = x.chain_id AND b.number = x.created_block"              \
    " LEFT JOIN screened_escrows v ON v.chain_id = x.chain_id AND v.escrow = x.address"          \
    " WHERE " where
static const char SQL_SCREEN_ROWID[] = SCREEN_ROW_("x.rowid = ?");
static const char SQL_SCREEN_KEY[] = SCREEN_ROW_("x.chain_id = ? AND x.address = ?");
static const char SQL_MARK_SCREENED_AS[] =
    "INSERT INTO screened_escrows (chain_id, escrow, screened_at, created_tx, created_block_hash)"
    " SELECT x.chain_id, x.address, ?, x.created_tx, ?"
    " FROM escrows x WHERE x.chain_id = ? AND x.address = ? AND x.created_tx = ?"
    " ON CONFLICT (chain_id, escrow) DO UPDATE SET screened_at = excluded.screened_at,"
    " created_tx = excluded.created_tx, created_block_hash = excluded.created_block_hash";
static const char SQL_HITS_UNATTACHED[] =
    "SELECT EXISTS (SELECT 1 FROM screening_hits WHERE case_id IS NULL)";

static int screen_row_read(store *s, sqlite3_stmt *st, store_escrow *x, store_screen_row *r,
                           bool *found, err *e)
{
    memset(r, 0, sizeof *r);
    *found = false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        bool bad = false;
        if (x) {
            x->chain_id = store_col_u64(st, 0);
            bad = store_col_addr(st, 1, &x->address) < 0 || store_col_addr(st, 2, &x->payer) < 0 ||
                  store_col_addr(st, 3, &x->payee) < 0 || store_col_addr(st, 4, &x->token) < 0 ||
                  store_col_u256(st, 5, &x->amount) < 0 || store_col_hash(st, 7, x->created_tx) < 0;
            x->created_block = store_col_u64(st, 6);
        }
        r->has_block = sqlite3_column_int(st, 9) != 0;
        r->block_timestamp = r->has_block ? store_col_u64(st, 8) : 0;
        int ht = sqlite3_column_type(st, 10), vt = sqlite3_column_type(st, 12);
        const char *h = (const char *)sqlite3_column_text(st, 10);
        size_t hn = (size_t)sqlite3_column_bytes(st, 10);
        r->has_creation_hash = ht != SQLITE_NULL;
        if (r->has_creation_hash && (!h || hn >= sizeof r->creation_hash))
            bad = true;
        else if (r->has_creation_hash)
            memcpy(r->creation_hash, h, hn + 1);
        /* v.created_block_hash IS the creation hash */
        bool same_hash = false;
        if (ht == SQLITE_NULL || vt == SQLITE_NULL)
            same_hash = ht == vt;
        else if (vt == SQLITE_TEXT && !bad) {
            const char *v = (const char *)sqlite3_column_text(st, 12);
            same_hash = v && (size_t)sqlite3_column_bytes(st, 12) == hn && memcmp(v, h, hn) == 0;
        }
        r->screened = sqlite3_column_type(st, 11) != SQLITE_NULL &&
                      sqlite3_column_int(st, 11) == 1 && same_hash;
        if (bad) {
            sqlite3_reset(st);
            return err_set(e, ERR_INVALID, "an escrow row in %s is malformed: run `fusion reindex`",
                           s->path);
        }
        *found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading an escrow to screen");
    return 0;
}

/* ---- screening on a desk whose book is on a server (store_set_reader) ----
 * The escrows, their events and blocks are the server's, the marks desk.db's: the join
 * above is made here, the escrow and its creation (transaction, creation event's block
 * hash, creation block's timestamp: the reader's creations) read from the book, the mark
 * from desk.db. */

static const char SQL_MARK_OF[] =
    "SELECT created_tx, created_block_hash FROM screened_escrows WHERE chain_id = ? AND escrow = ?";
static const char SQL_MARK_PUT[] =
    "INSERT INTO screened_escrows (chain_id, escrow, screened_at, created_tx, created_block_hash)"
    " VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (chain_id, escrow) DO UPDATE SET screened_at = excluded.screened_at,"
    " created_tx = excluded.created_tx, created_block_hash = excluded.created_block_hash";

/* The book's creations of n escrows in one read (the reader's creations). */
static int book_creations(store *s, size_t n, const uint64_t *chain_ids, const addr *escrows,
                          store_book_creation *out, err *e)
{
    if (!s->rd->creations || !s->rd->escrow_list_after)
        return err_set(e, ERR_STATE, "this book's reader cannot screen escrows");
    return s->rd->creations(s->rconn, n, chain_ids, escrows, out, e);
}

/* r's block and creation hash from the book's c (the timestamp desk.db's blocks give, the
 * hash its events give). */
static void row_of_creation(const store_book_creation *c, store_screen_row *r)
{
    memset(r, 0, sizeof *r);
    r->has_block = c->has_block;
    r->block_timestamp = c->has_block ? c->timestamp : 0;
    r->has_creation_hash = c->has_hash;
    if (c->has_hash)
        store_hex(r->creation_hash, sizeof r->creation_hash, c->block_hash, 32);
}

/* r->screened: desk.db's mark of x names the creation the book holds (created_tx and r's
 * creation hash; SQL_SCREENED's comparison). */
static int book_mark_matches(store *s, const store_escrow *x, store_screen_row *r, err *e)
{
    r->screened = false;
    sqlite3_stmt *st = store_stmt(s, SQL_MARK_OF, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, x->chain_id);
    store_bind_addr(st, 2, &x->address);
    int sr = sqlite3_step(st);
    if (sr == SQLITE_ROW) {
        char tx[67];
        store_hex(tx, sizeof tx, x->created_tx, 32);
        const char *vtx = (const char *)sqlite3_column_text(st, 0);
        const char *vh = (const char *)sqlite3_column_text(st, 1);
        bool same_hash = r->has_creation_hash ? vh && !strcmp(vh, r->creation_hash) : !vh;
        r->screened = vtx && !strcmp(vtx, tx) && same_hash;
    }
    sqlite3_reset(st);
    if (sr != SQLITE_ROW && sr != SQLITE_DONE)
        return store_fail(s, e, "reading the screened escrows");
    return 0;
}

/* screen_row_read's answer for the escrow at this address in the book (x: filled when
 * found). An escrow whose creation the book no longer gives (gone between the two reads)
 * is not found. */
static int book_screen_row(store *s, uint64_t chain_id, const addr *escrow, store_escrow *x,
                           store_screen_row *r, bool *found, err *e)
{
    memset(r, 0, sizeof *r);
    *found = false;
    store_escrow *own = NULL;
    if (!x && !(x = own = malloc(sizeof *x)))
        return err_set(e, ERR_NOMEM, "out of memory reading an escrow to screen");
    int rc = -1;
    bool there = false;
    store_book_creation c;
    if (s->rd->escrow_get(s->rconn, chain_id, escrow, x, &there, e) < 0)
        goto out;
    if (!there) {
        rc = 0;
        goto out;
    }
    if (book_creations(s, 1, &chain_id, escrow, &c, e) < 0)
        goto out;
    rc = 0;
    if (!c.found || memcmp(c.created_tx, x->created_tx, 32) != 0)
        goto out; /* replaced between the reads: as gone, screened on a later pass */
    row_of_creation(&c, r);
    if (book_mark_matches(s, x, r, e) < 0) {
        rc = -1;
        goto out;
    }
    *found = true;
out:
    free(own);
    return rc;
}

int store_escrow_screen_page(store *s, const store_escrow_cursor *after, size_t limit,
                             store_escrow **out, store_screen_row **rows, size_t *n,
                             store_escrow_cursor *next, bool *more, err *e)
{
    *out = NULL;
    *rows = NULL;
    *n = 0;
    *more = false;
    if (!s->rd)
        return err_set(e, ERR_STATE, "store_escrow_screen_page reads a book on a server");
    if (!s->rd->creations || !s->rd->escrow_list_after)
        return err_set(e, ERR_STATE, "this book's reader cannot screen escrows");
    store_escrow *xs = NULL;
    size_t m = 0;
    if (s->rd->escrow_list_after(s->rconn, after, limit, &xs, &m, e) < 0)
        return -1;
    store_screen_row *rs = calloc(m ? m : 1, sizeof *rs);
    store_book_creation *cs = calloc(m ? m : 1, sizeof *cs);
    uint64_t *ids = calloc(m ? m : 1, sizeof *ids);
    addr *as = calloc(m ? m : 1, sizeof *as);
    int rc = -1;
    if (!rs || !cs || !ids || !as) {
        err_set(e, ERR_NOMEM, "out of memory reading escrows to screen");
        goto out;
    }
    for (size_t i = 0; i < m; i++) {
        ids[i] = xs[i].chain_id;
        as[i] = xs[i].address;
    }
    if (book_creations(s, m, ids, as, cs, e) < 0)
        goto out;
    if (m > 0)
        store_escrow_cursor_of(next, &xs[m - 1]); /* the last read, kept or not */
    size_t kept = 0;
    for (size_t i = 0; i < m; i++) {
        /* gone or replaced since the list was read: left out, as desk.db's pass skips a
         * rowid gone meanwhile (the next pass's sweep sees to it) */
        if (!cs[i].found || memcmp(cs[i].created_tx, xs[i].created_tx, 32) != 0)
            continue;
        row_of_creation(&cs[i], &rs[kept]);
        if (book_mark_matches(s, &xs[i], &rs[kept], e) < 0)
            goto out;
        if (kept != i)
            xs[kept] = xs[i];
        kept++;
    }
    *out = xs;
    *rows = rs;
    *n = kept;
    *more = m == limit;
    xs = NULL;
    rs = NULL;
    rc = 0;
out:
    free(xs);
    free(rs);
    free(cs);
    free(ids);
    free(as);
    return rc;
}

static int book_mark(store *s, const store_escrow *x, const store_screen_row *r, int64_t at,
                     err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_MARK_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, x->chain_id);
    store_bind_addr(st, 2, &x->address);
    sqlite3_bind_int64(st, 3, at);
    store_bind_hash(st, 4, x->created_tx);
    if (r->has_creation_hash)
        sqlite3_bind_text(st, 5, r->creation_hash, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 5);
    return store_exec_stmt(s, st, "marking an escrow screened", e);
}

int store_escrow_screen_rowid(store *s, int64_t rowid, store_escrow *x, store_screen_row *r,
                              bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_SCREEN_ROWID, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, rowid);
    return screen_row_read(s, st, x, r, found, e);
}

int store_escrow_screen_row(store *s, uint64_t chain_id, const addr *escrow, store_screen_row *r,
                            bool *found, err *e)
{
    if (s->rd)
        return book_screen_row(s, chain_id, escrow, NULL, r, found, e);
    sqlite3_stmt *st = store_stmt(s, SQL_SCREEN_KEY, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, escrow);
    return screen_row_read(s, st, NULL, r, found, e);
}

int store_escrow_mark_screened_as(store *s, const store_escrow *x, const store_screen_row *r,
                                  int64_t at, err *e)
{
    if (s->rd)
        return book_mark(s, x, r, at, e);
    sqlite3_stmt *st = store_stmt(s, SQL_MARK_SCREENED_AS, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    if (r->has_creation_hash)
        sqlite3_bind_text(st, 2, r->creation_hash, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 2);
    store_bind_u64(st, 3, x->chain_id);
    store_bind_addr(st, 4, &x->address);
    store_bind_hash(st, 5, x->created_tx);
    return store_exec_stmt(s, st, "marking an escrow screened", e);
}

int store_hits_unattached(store *s, bool *any, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_HITS_UNATTACHED, e);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    *any = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return store_fail(s, e, "reading the screening hits");
    return 0;
}

int store_escrow_is_screened(store *s, uint64_t chain_id, const addr *escrow, bool *yes, err *e)
{
    if (s->rd) {
        store_screen_row r;
        bool found = false;
        *yes = false;
        if (book_screen_row(s, chain_id, escrow, NULL, &r, &found, e) < 0)
            return -1;
        *yes = found && r.screened;
        return 0;
    }
    sqlite3_stmt *st = store_stmt(s, SQL_SCREENED, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, escrow);
    int rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading the screened escrows");
    return 0;
}

int store_escrow_mark_screened(store *s, const store_escrow *x, int64_t at, err *e)
{
    if (s->rd) {
        /* only the creation the book holds now (SQL_MARK_SCREENED's condition) */
        store_book_creation c;
        if (book_creations(s, 1, &x->chain_id, &x->address, &c, e) < 0)
            return -1;
        if (!c.found || memcmp(c.created_tx, x->created_tx, 32) != 0)
            return 0;
        store_screen_row r;
        row_of_creation(&c, &r);
        return book_mark(s, x, &r, at, e);
    }
    sqlite3_stmt *st = store_stmt(s, SQL_MARK_SCREENED, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    store_bind_u64(st, 2, x->chain_id);
    store_bind_addr(st, 3, &x->address);
    store_bind_hash(st, 4, x->created_tx);
    return store_exec_stmt(s, st, "marking an escrow screened", e);
}

/* ---- reorgs: screening marks are a projection of the escrows; hits are evidence ---- */

/* A hit recorded when the gate refused a create names no escrow (none was made): no reorg
 * can take it away. */
#define NOT_REFUSED_CREATE_(tbl, col)                                                              \
    " " tbl "." col " <> '0x0000000000000000000000000000000000000000' AND"

/* Only an escrow's case or hit names an escrow in its escrow column: a KYC date's or a credit
 * facility's case holds a marker on chain 0, an inflow's the desk account the transfer went
 * to (its hits' evidence starts STORE_INFLOW_EVIDENCE). Neither ever "vanishes" in a reorg. */
#define ABOUT_ESCROW_CASE_(c)                                                                      \
    " " c ".chain_id <> 0 AND NOT EXISTS (SELECT 1 FROM screening_hits i WHERE i.case_id = " c    \
    ".id AND substr(i.evidence, 1, " STORE_INFLOW_EVIDENCE_LEN ") = '" STORE_INFLOW_EVIDENCE "') AND"
#define ABOUT_ESCROW_HIT_(h)                                                                       \
    " " h ".chain_id <> 0 AND substr(" h ".evidence, 1, " STORE_INFLOW_EVIDENCE_LEN ") <> '"        \
    STORE_INFLOW_EVIDENCE "' AND"
_Static_assert(sizeof STORE_INFLOW_EVIDENCE - 1 == 10, "STORE_INFLOW_EVIDENCE_LEN is its length");
#define ESCROW_GONE_(tbl, col)                                                                     \
    " NOT EXISTS (SELECT 1 FROM escrows x WHERE x.chain_id = " tbl ".chain_id AND x.address = " \
    tbl "." col ")"
/* A mark naming a creation that is not the one of the escrow now at its address (marks
 * from before creations were recorded name none: they are simply screened over). */
#define MARK_REPLACED_(v)                                                                          \
    " " v ".created_tx IS NOT NULL AND EXISTS (SELECT 1 FROM escrows x WHERE x.chain_id = " v  \
    ".chain_id AND x.address = " v ".escrow) AND NOT EXISTS (SELECT 1 FROM escrows x WHERE"      \
    MARK_OF_(v, "x") ")"

static const char SQL_UNSCREENED[] =
    "SELECT count(*) FROM escrows x WHERE NOT EXISTS (SELECT 1 FROM screened_escrows v"
    " WHERE" MARK_OF_("v", "x") ")";
static const char SQL_VANISHED_CASES[] =
    "SELECT c.id FROM cases c WHERE" NOT_REFUSED_CREATE_("c", "escrow") ESCROW_GONE_("c", "escrow")
    " AND" ABOUT_ESCROW_CASE_("c") " NOT EXISTS (SELECT 1 FROM case_events v WHERE v.case_id = c.id"
    " AND v.action = 'escrow_vanished') ORDER BY c.id";
/* Evidence is append-only: a reorg marks the hits of an escrow it removed. */
static const char SQL_DROP_HITS[] =
    "UPDATE screening_hits SET reorged_at = CAST(strftime('%s', 'now') AS INTEGER)"
    " WHERE reorged_at IS NULL AND" ABOUT_ESCROW_HIT_("screening_hits")
    NOT_REFUSED_CREATE_("screening_hits", "escrow") ESCROW_GONE_("screening_hits", "escrow");
static const char SQL_DROP_SCREENED[] =
    "DELETE FROM screened_escrows WHERE" NOT_REFUSED_CREATE_("screened_escrows", "escrow")
    ESCROW_GONE_("screened_escrows", "escrow");
/* The replaced marks are found once (each mark checked against its escrow's creation),
 * then their cases, hits and marks by key: checking every case and every hit against the
 * creation instead cost each screening pass ~5x more, with nothing replaced. */
static const char SQL_REPLACED_MARKS[] =
    "SELECT v.chain_id, v.escrow FROM screened_escrows v WHERE" MARK_REPLACED_("v");
static const char SQL_REPLACED_CASES[] = "SELECT id FROM cases WHERE chain_id = ? AND escrow = ?";
static const char SQL_DROP_REPLACED_HITS[] =
    "UPDATE screening_hits SET reorged_at = CAST(strftime('%s', 'now') AS INTEGER)"
    " WHERE reorged_at IS NULL AND chain_id = ? AND escrow = ?";
static const char SQL_DROP_REPLACED[] =
    "DELETE FROM screened_escrows WHERE chain_id = ? AND escrow = ?";

int store_escrow_unscreened(store *s, size_t *n, err *e)
{
    *n = 0;
    if (s->rd) {
        /* the escrows are the server's, the marks desk.db's: no one statement counts them;
         * the pass itself finds the unscreened ones (the book's escrows in pages) */
        *n = 1;
        return 0;
    }
    sqlite3_stmt *st = store_stmt(s, SQL_UNSCREENED, e);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return store_fail(s, e, "counting unscreened escrows");
    return 0;
}

/* The ids the statement selects (column 0). */
static int case_ids_run(store *s, sqlite3_stmt *st, int64_t **ids, size_t *n, const char *what,
                        err *e)
{
    *ids = NULL;
    *n = 0;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)ids, &cap, *n, sizeof **ids, e) < 0) {
            sqlite3_reset(st);
            goto fail;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        store_fail(s, e, what);
        goto fail;
    }
    return 0;
fail:
    free(*ids);
    *ids = NULL;
    *n = 0;
    return -1;
}

/* ---- the same sweeps on a desk whose book is on a server (store_set_reader) ----
 * desk.db holds the marks, hits and cases; the escrows are the server's. The escrows they
 * name are read from desk.db in pages (by key), each page's creations from the server in
 * one read (the reader's creations), and each escrow gone or replaced there is handled by
 * key as the statements above handle them. */

enum { BOOK_SWEEP_PAGE = 256 };

/* The escrows desk.db's sweeps look at (SQL_VANISHED_CASES', SQL_DROP_HITS' and
 * SQL_DROP_SCREENED's rows), by key after ?1/?2 (?1 NULL: from the first), ?3 at most. */
static const char SQL_BOOK_NAMED[] =
    "SELECT chain_id, escrow FROM ("
    " SELECT chain_id, escrow FROM screened_escrows v WHERE" NOT_REFUSED_CREATE_("v", "escrow")
    " 1"
    " UNION SELECT chain_id, escrow FROM screening_hits h WHERE h.reorged_at IS NULL AND"
    ABOUT_ESCROW_HIT_("h") NOT_REFUSED_CREATE_("h", "escrow") " 1"
    " UNION SELECT chain_id, escrow FROM cases c WHERE" NOT_REFUSED_CREATE_("c", "escrow")
    ABOUT_ESCROW_CASE_("c") " NOT EXISTS (SELECT 1 FROM case_events v WHERE v.case_id = c.id"
    " AND v.action = 'escrow_vanished'))"
    " WHERE ?1 IS NULL OR (chain_id, escrow) > (?1, ?2) ORDER BY chain_id, escrow LIMIT ?3";
/* The marks naming a creation (MARK_REPLACED_'s candidates), by key as above. */
static const char SQL_BOOK_MARKS[] =
    "SELECT chain_id, escrow, created_tx, created_block_hash FROM screened_escrows"
    " WHERE created_tx IS NOT NULL AND (?1 IS NULL OR (chain_id, escrow) > (?1, ?2))"
    " ORDER BY chain_id, escrow LIMIT ?3";
/* SQL_VANISHED_CASES, SQL_DROP_HITS and SQL_DROP_SCREENED for one escrow gone. */
static const char SQL_BOOK_GONE_CASES[] =
    "SELECT c.id FROM cases c WHERE c.chain_id = ? AND c.escrow = ? AND"
    NOT_REFUSED_CREATE_("c", "escrow") ABOUT_ESCROW_CASE_("c")
    " NOT EXISTS (SELECT 1 FROM case_events v WHERE v.case_id = c.id"
    " AND v.action = 'escrow_vanished') ORDER BY c.id";
static const char SQL_BOOK_GONE_HITS[] =
    "UPDATE screening_hits SET reorged_at = CAST(strftime('%s', 'now') AS INTEGER)"
    " WHERE chain_id = ? AND escrow = ? AND reorged_at IS NULL AND"
    ABOUT_ESCROW_HIT_("screening_hits") NOT_REFUSED_CREATE_("screening_hits", "escrow") " 1";
static const char SQL_BOOK_GONE_MARK[] =
    "DELETE FROM screened_escrows WHERE chain_id = ? AND escrow = ? AND"
    NOT_REFUSED_CREATE_("screened_escrows", "escrow") " 1";

typedef struct book_key {
    uint64_t chain_id;
    addr escrow;
    char tx[80], hash[140]; /* the mark's creation (SQL_BOOK_MARKS) */
    bool has_hash;
} book_key;

static int book_key_row(sqlite3_stmt *st, void *item, err *e)
{
    book_key *k = item;
    k->chain_id = store_col_u64(st, 0);
    if (store_col_addr(st, 1, &k->escrow) < 0)
        return err_set(e, ERR_INVALID, "a screened escrow's address in desk.db is malformed");
    if (sqlite3_column_count(st) > 2) {
        store_copy_text(st, 2, k->tx, sizeof k->tx);
        k->has_hash = sqlite3_column_type(st, 3) != SQLITE_NULL;
        store_copy_text(st, 3, k->hash, sizeof k->hash);
    }
    return 0;
}

/* One page of sql's keys after *last (has_last false: from the first) and their
 * creations on the book. */
static int book_keys_page(store *s, const char *sql, bool has_last, const book_key *last,
                          book_key **ks, store_book_creation **cs, size_t *n, err *e)
{
    *ks = NULL;
    *cs = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, sql, e);
    if (!st)
        return -1;
    if (has_last) {
        store_bind_u64(st, 1, last->chain_id);
        store_bind_addr(st, 2, &last->escrow);
    }
    sqlite3_bind_int(st, 3, BOOK_SWEEP_PAGE);
    if (store_collect(s, st, sizeof **ks, book_key_row, (void **)ks, n,
                      "reading the screened escrows", e) < 0)
        return -1;
    uint64_t *ids = calloc(*n ? *n : 1, sizeof *ids);
    addr *as = calloc(*n ? *n : 1, sizeof *as);
    *cs = calloc(*n ? *n : 1, sizeof **cs);
    int rc = -1;
    if (!ids || !as || !*cs) {
        err_set(e, ERR_NOMEM, "out of memory checking screened escrows");
    } else {
        for (size_t i = 0; i < *n; i++) {
            ids[i] = (*ks)[i].chain_id;
            as[i] = (*ks)[i].escrow;
        }
        rc = book_creations(s, *n, ids, as, *cs, e);
    }
    free(ids);
    free(as);
    if (rc < 0) {
        free(*ks);
        free(*cs);
        *ks = NULL;
        *cs = NULL;
        *n = 0;
    }
    return rc;
}

/* Runs a keyed statement (chain, escrow) that writes; *changed: rows it changed. */
static int book_key_exec(store *s, const char *sql, const book_key *k, size_t *changed,
                         const char *what, err *e)
{
    sqlite3_stmt *st = store_stmt(s, sql, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, k->chain_id);
    store_bind_addr(st, 2, &k->escrow);
    if (store_exec_stmt(s, st, what, e) < 0)
        return -1;
    if (changed)
        *changed += (size_t)sqlite3_changes(s->db);
    return 0;
}

/* The ids a keyed statement selects, appended to *ids. */
static int book_key_ids(store *s, const char *sql, const book_key *k, int64_t **ids, size_t *n,
                        size_t *cap, const char *what, err *e)
{
    sqlite3_stmt *st = store_stmt(s, sql, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, k->chain_id);
    store_bind_addr(st, 2, &k->escrow);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)ids, cap, *n, sizeof **ids, e) < 0) {
            sqlite3_reset(st);
            return -1;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, e, what);
    return 0;
}

/* What the sweep does to one escrow of a kind (gone, replaced): its cases found (their
 * ids kept), its hits marked reorged, its screened mark dropped; each with its error. */
typedef struct book_drop {
    const char *cases, *cases_what;
    const char *hits, *hits_what;
    const char *mark, *mark_what;
} book_drop;

static const book_drop BOOK_DROP_GONE = {
    SQL_BOOK_GONE_CASES, "finding cases of vanished escrows",
    SQL_BOOK_GONE_HITS,  "dropping hits of vanished escrows",
    SQL_BOOK_GONE_MARK,  "dropping screened marks of vanished escrows",
};
static const book_drop BOOK_DROP_REPLACED = {
    SQL_REPLACED_CASES,     "finding cases of replaced escrows",
    SQL_DROP_REPLACED_HITS, "dropping hits of replaced escrows",
    SQL_DROP_REPLACED,      "dropping screened marks of replaced escrows",
};

/* Runs d's statements for escrow k: case ids appended to *ids, hits changed to *hits. */
static int book_drop_key(store *s, const book_drop *d, const book_key *k, int64_t **ids,
                         size_t *n, size_t *cap, size_t *hits, err *e)
{
    if (book_key_ids(s, d->cases, k, ids, n, cap, d->cases_what, e) < 0 ||
        book_key_exec(s, d->hits, k, hits, d->hits_what, e) < 0 ||
        book_key_exec(s, d->mark, k, NULL, d->mark_what, e) < 0)
        return -1;
    return 0;
}

static int cmp_id(const void *a, const void *b);

/* store_screening_orphans (replaced false) or _replaced (true) on a book on a server. */
static int book_sweep(store *s, bool replaced, int64_t **case_ids, size_t *n,
                      size_t *hits_dropped, err *e)
{
    size_t cap = 0, hits = 0;
    bool has_last = false;
    book_key last;
    memset(&last, 0, sizeof last);
    for (;;) {
        book_key *ks = NULL;
        store_book_creation *cs = NULL;
        size_t m = 0;
        if (book_keys_page(s, replaced ? SQL_BOOK_MARKS : SQL_BOOK_NAMED, has_last, &last, &ks,
                           &cs, &m, e) < 0)
            goto fail;
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < m; i++) {
            const book_key *k = &ks[i];
            if (!replaced) {
                if (!cs[i].found)
                    rc = book_drop_key(s, &BOOK_DROP_GONE, k, case_ids, n, &cap, &hits, e);
                continue;
            }
            if (!cs[i].found)
                continue; /* gone: store_screening_orphans' */
            /* MARK_OF_: the same transaction and block hash (IS: none matches none) */
            char tx[67], hash[67];
            store_hex(tx, sizeof tx, cs[i].created_tx, 32);
            bool same = !strcmp(k->tx, tx);
            if (same && cs[i].has_hash) {
                store_hex(hash, sizeof hash, cs[i].block_hash, 32);
                same = k->has_hash && !strcmp(k->hash, hash);
            } else if (same) {
                same = !k->has_hash;
            }
            if (same)
                continue;
            rc = book_drop_key(s, &BOOK_DROP_REPLACED, k, case_ids, n, &cap, &hits, e);
        }
        if (m > 0) {
            last = ks[m - 1];
            has_last = true;
        }
        free(ks);
        free(cs);
        if (rc < 0)
            goto fail;
        if (m < BOOK_SWEEP_PAGE)
            break;
    }
    if (*n > 1)
        qsort(*case_ids, *n, sizeof **case_ids, cmp_id);
    if (hits_dropped)
        *hits_dropped = hits;
    return 0;
fail:
    free(*case_ids);
    *case_ids = NULL;
    *n = 0;
    return -1;
}

int store_screening_orphans(store *s, int64_t **case_ids, size_t *n, size_t *hits_dropped,
                            err *e)
{
    *case_ids = NULL;
    *n = 0;
    if (hits_dropped)
        *hits_dropped = 0;
    /* The book on a server holds the escrows (desk.db's escrow table is empty there:
     * swept against it, every mark, hit and case would look vanished). */
    if (s->rd)
        return book_sweep(s, false, case_ids, n, hits_dropped, e);
    sqlite3_stmt *st = store_stmt(s, SQL_VANISHED_CASES, e);
    if (!st || case_ids_run(s, st, case_ids, n, "finding cases of vanished escrows", e) < 0)
        return -1;
    st = store_stmt(s, SQL_DROP_HITS, e);
    if (!st || store_exec_stmt(s, st, "dropping hits of vanished escrows", e) < 0)
        goto fail;
    if (hits_dropped)
        *hits_dropped = (size_t)sqlite3_changes(s->db);
    st = store_stmt(s, SQL_DROP_SCREENED, e);
    if (!st || store_exec_stmt(s, st, "dropping screened marks of vanished escrows", e) < 0)
        goto fail;
    return 0;
fail:
    free(*case_ids);
    *case_ids = NULL;
    *n = 0;
    return -1;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct replaced_mark {
    int64_t chain_id;
    char escrow[ADDR_STR_MAX];
} replaced_mark;

static int replaced_mark_row(sqlite3_stmt *st, void *out, err *e)
{
    (void)e;
    replaced_mark *m = out;
    m->chain_id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, m->escrow, sizeof m->escrow);
    return 0;
}

int store_screening_replaced(store *s, int64_t **case_ids, size_t *n, size_t *hits_dropped,
                             err *e)
{
    *case_ids = NULL;
    *n = 0;
    if (hits_dropped)
        *hits_dropped = 0;
    if (s->rd)
        return book_sweep(s, true, case_ids, n, hits_dropped, e);
    replaced_mark *ms = NULL;
    size_t nm = 0, cap = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_REPLACED_MARKS, e);
    if (!st || store_collect(s, st, sizeof *ms, replaced_mark_row, (void **)&ms, &nm,
                             "finding screened marks of replaced escrows", e) < 0)
        return -1;
    for (size_t i = 0; i < nm; i++) {
        st = store_stmt(s, SQL_REPLACED_CASES, e);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, ms[i].chain_id);
        sqlite3_bind_text(st, 2, ms[i].escrow, -1, SQLITE_TRANSIENT);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (store_grow((void **)case_ids, &cap, *n, sizeof **case_ids, e) < 0) {
                sqlite3_reset(st);
                goto fail;
            }
            (*case_ids)[(*n)++] = sqlite3_column_int64(st, 0);
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            store_fail(s, e, "finding cases of replaced escrows");
            goto fail;
        }
        st = store_stmt(s, SQL_DROP_REPLACED_HITS, e);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, ms[i].chain_id);
        sqlite3_bind_text(st, 2, ms[i].escrow, -1, SQLITE_TRANSIENT);
        if (store_exec_stmt(s, st, "dropping hits of replaced escrows", e) < 0)
            goto fail;
        if (hits_dropped)
            *hits_dropped += (size_t)sqlite3_changes(s->db);
        st = store_stmt(s, SQL_DROP_REPLACED, e);
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, ms[i].chain_id);
        sqlite3_bind_text(st, 2, ms[i].escrow, -1, SQLITE_TRANSIENT);
        if (store_exec_stmt(s, st, "dropping screened marks of replaced escrows", e) < 0)
            goto fail;
    }
    if (*n > 1)
        qsort(*case_ids, *n, sizeof **case_ids, cmp_id);
    free(ms);
    return 0;
fail:
    free(ms);
    free(*case_ids);
    *case_ids = NULL;
    *n = 0;
    return -1;
}

/* ---- cases ---- */

#define CASE_COLS                                                                                  \
    "id, subject, entity_id, chain_id, escrow, state, outcome, priority, score, opened_at,"        \
    " due_at, assignee, snoozed_until, proposed_outcome, proposed_by, closed_by, closed_at"

static const char SQL_CASE_INS[] =
    "INSERT OR IGNORE INTO cases (subject, entity_id, chain_id, escrow, state, priority, score,"
    " opened_at, due_at) VALUES (?, ?, ?, ?, 'new', ?, ?, ?, ?)";
static const char SQL_CASE_ID[] =
    "SELECT id FROM cases WHERE subject = ? AND chain_id = ? AND escrow = ?";
static const char SQL_CASE_GET[] = "SELECT " CASE_COLS " FROM cases WHERE id = ?";
static const char SQL_CASE_UPD[] =
    "UPDATE cases SET state = ?, outcome = ?, priority = ?, score = ?, due_at = ?,"
    " assignee = ?, snoozed_until = ?, proposed_outcome = ?, proposed_by = ?, closed_by = ?,"
    " closed_at = ? WHERE id = ?";
static const char SQL_CASE_NEXT[] =
    "UPDATE cases SET assignee = ?1, state = 'assigned' WHERE id = ("
    "  SELECT id FROM cases WHERE state = 'new' AND assignee IS NULL"
    "  AND (snoozed_until IS NULL OR snoozed_until <= ?2)"
    "  ORDER BY priority, opened_at, id LIMIT 1"
    ") AND assignee IS NULL RETURNING id";
static const char SQL_CASE_LIST[] =
    "SELECT " CASE_COLS " FROM cases WHERE (?1 IS NULL OR state = ?1)"
    " AND (?2 IS NULL OR assignee = ?2) AND (?3 = 0 OR state <> 'closed')"
    " AND (?4 = 0 OR (state <> 'closed' AND due_at < ?4))"
    " AND (?5 IS NULL OR subject = ?5)"
    " AND (?6 = 0 OR (chain_id = ?7 AND escrow = ?8))"
    " ORDER BY priority, opened_at, id";

static int case_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e; /* every column reads; nothing can be malformed here */
    store_case *c = item;
    c->id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, c->subject, sizeof c->subject);
    c->entity_id = sqlite3_column_int64(st, 2);
    c->chain_id = store_col_u64(st, 3);
    store_col_addr(st, 4, &c->escrow);
    store_copy_text(st, 5, c->state, sizeof c->state);
    store_copy_text(st, 6, c->outcome, sizeof c->outcome);
    c->priority = sqlite3_column_int(st, 7);
    c->score = sqlite3_column_int(st, 8);
    c->opened_at = sqlite3_column_int64(st, 9);
    c->due_at = sqlite3_column_int64(st, 10);
    store_copy_text(st, 11, c->assignee, sizeof c->assignee);
    store_copy_text(st, 12, c->snoozed_until, sizeof c->snoozed_until);
    store_copy_text(st, 13, c->proposed_outcome, sizeof c->proposed_outcome);
    store_copy_text(st, 14, c->proposed_by, sizeof c->proposed_by);
    store_copy_text(st, 15, c->closed_by, sizeof c->closed_by);
    c->closed_at = sqlite3_column_int64(st, 16);
    return 0;
}

int store_case_open(store *s, store_case *c, bool *created, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CASE_INS, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, c->subject, -1, SQLITE_TRANSIENT);
    if (c->entity_id)
        sqlite3_bind_int64(st, 2, c->entity_id);
    else
        sqlite3_bind_null(st, 2);
    store_bind_u64(st, 3, c->chain_id);
    store_bind_addr(st, 4, &c->escrow);
    sqlite3_bind_int(st, 5, c->priority);
    sqlite3_bind_int(st, 6, c->score);
    sqlite3_bind_int64(st, 7, c->opened_at);
    sqlite3_bind_int64(st, 8, c->due_at);
    if (store_exec_stmt(s, st, "opening a case", e) < 0)
        return -1;
    *created = sqlite3_changes(s->db) > 0;
    if (*created) {
        /* the row just inserted (the API feed trigger's own insert does not count) */
        c->id = sqlite3_last_insert_rowid(s->db);
        return 0;
    }
    st = store_stmt(s, SQL_CASE_ID, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, c->subject, -1, SQLITE_TRANSIENT);
    store_bind_u64(st, 2, c->chain_id);
    store_bind_addr(st, 3, &c->escrow);
    int rc = sqlite3_step(st);
    c->id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return store_fail(s, e, "reading a case id");
    return 0;
}

int store_case_get(store *s, int64_t id, store_case *out, bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CASE_GET, e);
    if (!st)
        return -1;
    memset(out, 0, sizeof *out);
    sqlite3_bind_int64(st, 1, id);
    return store_get_row(s, st, case_row, out, found, "reading a case", e);
}

int store_case_update(store *s, const store_case *c, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CASE_UPD, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, c->state, -1, SQLITE_TRANSIENT);
    store_bind_opt_text(st, 2, c->outcome);
    sqlite3_bind_int(st, 3, c->priority);
    sqlite3_bind_int(st, 4, c->score);
    sqlite3_bind_int64(st, 5, c->due_at);
    store_bind_opt_text(st, 6, c->assignee);
    store_bind_opt_text(st, 7, c->snoozed_until);
    store_bind_opt_text(st, 8, c->proposed_outcome);
    store_bind_opt_text(st, 9, c->proposed_by);
    store_bind_opt_text(st, 10, c->closed_by);
    if (c->closed_at)
        sqlite3_bind_int64(st, 11, c->closed_at);
    else
        sqlite3_bind_null(st, 11);
    sqlite3_bind_int64(st, 12, c->id);
    return store_exec_stmt(s, st, "updating a case", e);
}

int store_case_take_next(store *s, const char *op, const char *today, int64_t *id, err *e)
{
    *id = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_CASE_NEXT, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, op, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, today, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, e, "taking the next case");
    return 0;
}

int store_case_list(store *s, const store_case_filter *f, store_case **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_CASE_LIST, e);
    if (!st)
        return -1;
    store_bind_opt_text(st, 1, f->state);
    store_bind_opt_text(st, 2, f->assignee);
    sqlite3_bind_int(st, 3, f->open_only ? 1 : 0);
    sqlite3_bind_int64(st, 4, f->due_before);
    store_bind_opt_text(st, 5, f->subject);
    sqlite3_bind_int(st, 6, f->has_escrow ? 1 : 0);
    store_bind_u64(st, 7, f->chain_id);
    store_bind_addr(st, 8, &f->escrow);
    return store_collect(s, st, sizeof **out, case_row, (void **)out, n, "listing cases", e);
}

/* ---- case events ---- */

static const char SQL_CEV_ADD[] =
    "INSERT INTO case_events (case_id, at, operator, action, before, after, note)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char SQL_CEV_LIST[] =
    "SELECT id, case_id, at, operator, action, before, after, note FROM case_events"
    " WHERE case_id = ? ORDER BY id";

int store_case_event_add(store *s, const store_case_event *ev, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CEV_ADD, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, ev->case_id);
    sqlite3_bind_int64(st, 2, ev->at ? ev->at : store_now());
    sqlite3_bind_text(st, 3, ev->operator_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, ev->action, -1, SQLITE_TRANSIENT);
    store_bind_opt_text(st, 5, ev->before);
    store_bind_opt_text(st, 6, ev->after);
    store_bind_opt_text(st, 7, ev->note);
    return store_exec_stmt(s, st, "appending a case event", e);
}

static int cev_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e; /* every column reads; nothing can be malformed here */
    store_case_event *ev = item;
    ev->id = sqlite3_column_int64(st, 0);
    ev->case_id = sqlite3_column_int64(st, 1);
    ev->at = sqlite3_column_int64(st, 2);
    store_copy_text(st, 3, ev->operator_name, sizeof ev->operator_name);
    store_copy_text(st, 4, ev->action, sizeof ev->action);
    store_copy_text(st, 5, ev->before, sizeof ev->before);
    store_copy_text(st, 6, ev->after, sizeof ev->after);
    store_copy_text(st, 7, ev->note, sizeof ev->note);
    return 0;
}

int store_case_events(store *s, int64_t case_id, store_case_event **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_CEV_LIST, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, case_id);
    return store_collect(s, st, sizeof **out, cev_row, (void **)out, n, "listing case events", e);
}
