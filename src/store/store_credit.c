/* store_credit.c: the credit aggregate: facilities of counterparty entities and the rows
 * of their loan ledgers. Validation and the interest arithmetic live in src/credit; this
 * file only reads and writes rows (amounts as decimal text: they are 256-bit). */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define FAC_COLS                                                                                   \
    "id, name, entity_id, currency, decimals, limit_units, day_count, billing_day,"               \
    " initial_e4, margin_call_e4, liquidation_e4, collateral, created_at, updated_at, vaults,"    \
    " repay_to"

static const char SQL_FAC_ADD[] =
    "INSERT INTO credit_facilities (name, entity_id, currency, decimals, limit_units, day_count,"
    " billing_day, initial_e4, margin_call_e4, liquidation_e4, collateral, created_at,"
    " updated_at, vaults, repay_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_FAC_UPD[] =
    "UPDATE credit_facilities SET name = ?, entity_id = ?, currency = ?, decimals = ?,"
    " limit_units = ?, day_count = ?, billing_day = ?, initial_e4 = ?, margin_call_e4 = ?,"
    " liquidation_e4 = ?, collateral = ?, updated_at = ?, vaults = ?, repay_to = ? WHERE id = ?";
static const char SQL_FAC_FIND[] = "SELECT " FAC_COLS " FROM credit_facilities WHERE name = ?";
static const char SQL_FAC_LIST[] = "SELECT " FAC_COLS " FROM credit_facilities ORDER BY name";

static int fac_row(sqlite3_stmt *st, void *item, err *e)
{
    store_credit_facility *f = item;
    f->id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, f->name, sizeof f->name);
    f->entity_id = sqlite3_column_int64(st, 2);
    store_copy_text(st, 3, f->currency, sizeof f->currency);
    f->decimals = (unsigned)sqlite3_column_int(st, 4);
    if (store_col_u256(st, 5, &f->limit) < 0)
        return err_set(e, ERR_INVALID, "facility %s: malformed limit", f->name);
    f->day_count = (unsigned)sqlite3_column_int(st, 6);
    f->billing_day = (unsigned)sqlite3_column_int(st, 7);
    f->initial_e4 = (unsigned)sqlite3_column_int(st, 8);
    f->margin_call_e4 = (unsigned)sqlite3_column_int(st, 9);
    f->liquidation_e4 = (unsigned)sqlite3_column_int(st, 10);
    store_copy_text(st, 11, f->collateral, sizeof f->collateral);
    f->created_at = sqlite3_column_int64(st, 12);
    f->updated_at = sqlite3_column_int64(st, 13);
    store_copy_text(st, 14, f->vaults, sizeof f->vaults);
    store_copy_text(st, 15, f->repay_to, sizeof f->repay_to);
    return 0;
}

static int bind_fac(sqlite3_stmt *st, const store_credit_facility *f)
{
    sqlite3_bind_text(st, 1, f->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, f->entity_id);
    sqlite3_bind_text(st, 3, f->currency, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, (int)f->decimals);
    if (store_bind_u256(st, 5, &f->limit) < 0)
        return -1;
    sqlite3_bind_int(st, 6, (int)f->day_count);
    sqlite3_bind_int(st, 7, (int)f->billing_day);
    sqlite3_bind_int(st, 8, (int)f->initial_e4);
    sqlite3_bind_int(st, 9, (int)f->margin_call_e4);
    sqlite3_bind_int(st, 10, (int)f->liquidation_e4);
    sqlite3_bind_text(st, 11, f->collateral, -1, SQLITE_TRANSIENT);
    return 0;
}

int store_credit_facility_add(store *s, const store_credit_facility *f, int64_t *id_out, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_FAC_ADD, e);
    if (!st)
        return -1;
    if (bind_fac(st, f) < 0)
        return err_set(e, ERR_INTERNAL, "cannot bind a facility's limit");
    int64_t now = store_now();
    sqlite3_bind_int64(st, 12, now);
    sqlite3_bind_int64(st, 13, now);
    sqlite3_bind_text(st, 14, f->vaults[0] ? f->vaults : "[]", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 15, f->repay_to, -1, SQLITE_TRANSIENT);
    if (store_exec_stmt(s, st, "adding a credit facility", e) < 0) {
        if (e && e->code == ERR_EXISTS)
            err_set(e, ERR_EXISTS, "a facility named \"%.60s\" already exists", f->name);
        return -1;
    }
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_credit_facility_update(store *s, const store_credit_facility *f, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_FAC_UPD, e);
    if (!st)
        return -1;
    if (bind_fac(st, f) < 0)
        return err_set(e, ERR_INTERNAL, "cannot bind a facility's limit");
    sqlite3_bind_int64(st, 12, store_now());
    sqlite3_bind_text(st, 13, f->vaults[0] ? f->vaults : "[]", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 14, f->repay_to, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 15, f->id);
    return store_exec_stmt(s, st, "changing a credit facility", e);
}

int store_credit_facility_find(store *s, const char *name, store_credit_facility *out,
                               bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_FAC_FIND, e);
    if (!st)
        return -1;
    memset(out, 0, sizeof *out);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    return store_get_row(s, st, fac_row, out, found, "reading a credit facility", e);
}

int store_credit_facility_list(store *s, store_credit_facility **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_FAC_LIST, e);
    if (!st)
        return -1;
    return store_collect(s, st, sizeof **out, fac_row, (void **)out, n,
                         "listing credit facilities", e);
}

/* ---- ledger rows ---- */

static const char SQL_ROW_ADD[] =
    "INSERT INTO credit_ledger (facility_id, day, kind, amount, base_e8, spread_e8, memo,"
    " operator, created_at, inflow_id, outbound_id, inflow_book, inflow_book_id, inflow_chain)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_ROWS[] =
    "SELECT id, facility_id, day, kind, amount, base_e8, spread_e8, memo, operator, created_at,"
    " coalesce(inflow_id, inflow_book_id), outbound_id, coalesce(inflow_book, ''),"
    " coalesce(inflow_chain, 0) FROM credit_ledger WHERE facility_id = ? ORDER BY id";

static int ledger_row(sqlite3_stmt *st, void *item, err *e)
{
    store_credit_row *r = item;
    r->id = sqlite3_column_int64(st, 0);
    r->facility_id = sqlite3_column_int64(st, 1);
    r->day = (int32_t)sqlite3_column_int64(st, 2);
    store_copy_text(st, 3, r->kind, sizeof r->kind);
    if (store_col_u256(st, 4, &r->amount) < 0)
        return err_set(e, ERR_INVALID, "ledger row %lld: malformed amount", (long long)r->id);
    r->base_e8 = (uint64_t)sqlite3_column_int64(st, 5);
    r->spread_e8 = (uint64_t)sqlite3_column_int64(st, 6);
    store_copy_text(st, 7, r->memo, sizeof r->memo);
    store_copy_text(st, 8, r->operator_name, sizeof r->operator_name);
    r->created_at = sqlite3_column_int64(st, 9);
    r->inflow_id = sqlite3_column_int64(st, 10); /* NULL: 0 */
    r->outbound_id = sqlite3_column_int64(st, 11);
    store_copy_text(st, 12, r->inflow_book, sizeof r->inflow_book);
    r->inflow_chain = store_col_u64(st, 13);
    return 0;
}

int store_credit_row_add(store *s, const store_credit_row *r, int64_t *id_out, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ROW_ADD, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, r->facility_id);
    sqlite3_bind_int64(st, 2, r->day);
    sqlite3_bind_text(st, 3, r->kind, -1, SQLITE_TRANSIENT);
    if (store_bind_u256(st, 4, &r->amount) < 0)
        return err_set(e, ERR_INTERNAL, "cannot bind a ledger amount");
    sqlite3_bind_int64(st, 5, (int64_t)r->base_e8);
    sqlite3_bind_int64(st, 6, (int64_t)r->spread_e8);
    store_bind_opt_text(st, 7, r->memo);
    store_bind_opt_text(st, 8, r->operator_name);
    sqlite3_bind_int64(st, 9, store_now());
    /* desk.db's inflow by inflow_id (its foreign key), a book's by its database and id */
    bool book = r->inflow_id && r->inflow_book[0];
    if (r->inflow_id && !book)
        sqlite3_bind_int64(st, 10, r->inflow_id);
    else
        sqlite3_bind_null(st, 10);
    if (r->outbound_id)
        sqlite3_bind_int64(st, 11, r->outbound_id);
    else
        sqlite3_bind_null(st, 11);
    if (book) {
        sqlite3_bind_text(st, 12, r->inflow_book, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 13, r->inflow_id);
        store_bind_u64(st, 14, r->inflow_chain);
    } else {
        sqlite3_bind_null(st, 12);
        sqlite3_bind_null(st, 13);
        sqlite3_bind_null(st, 14);
    }
    if (store_exec_stmt(s, st, "adding a ledger row", e) < 0)
        return -1;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_credit_rows(store *s, int64_t facility_id, store_credit_row **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_ROWS, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, facility_id);
    return store_collect(s, st, sizeof **out, ledger_row, (void **)out, n,
                         "reading a facility's ledger", e);
}

/* ---- draws waiting for their payment ---- */

static const char SQL_DRAW_HOLD[] =
    "INSERT INTO credit_draws_pending (outbound_id, facility_id, day, amount, memo, operator,"
    " details) VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char SQL_DRAWS_PENDING[] =
    "SELECT outbound_id, facility_id, day, amount, memo, operator, details"
    " FROM credit_draws_pending ORDER BY outbound_id";
static const char SQL_DRAW_DONE[] = "DELETE FROM credit_draws_pending WHERE outbound_id = ?";

int store_credit_draw_hold(store *s, const store_credit_draw *d, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_DRAW_HOLD, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, d->outbound_id);
    sqlite3_bind_int64(st, 2, d->facility_id);
    sqlite3_bind_int64(st, 3, d->day);
    if (store_bind_u256(st, 4, &d->amount) < 0)
        return err_set(e, ERR_INTERNAL, "cannot bind a draw's amount");
    sqlite3_bind_text(st, 5, d->memo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, d->operator_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, d->details[0] ? d->details : "{}", -1, SQLITE_TRANSIENT);
    return store_exec_stmt(s, st, "recording a draw beside its payment", e);
}

static int draw_row(sqlite3_stmt *st, void *item, err *e)
{
    store_credit_draw *d = item;
    d->outbound_id = sqlite3_column_int64(st, 0);
    d->facility_id = sqlite3_column_int64(st, 1);
    d->day = (int32_t)sqlite3_column_int64(st, 2);
    if (store_col_u256(st, 3, &d->amount) < 0)
        return err_set(e, ERR_INVALID, "draw of payment %lld: malformed amount",
                       (long long)d->outbound_id);
    store_copy_text(st, 4, d->memo, sizeof d->memo);
    store_copy_text(st, 5, d->operator_name, sizeof d->operator_name);
    store_copy_text(st, 6, d->details, sizeof d->details);
    return 0;
}

int store_credit_draws_pending(store *s, store_credit_draw **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_DRAWS_PENDING, e);
    if (!st)
        return -1;
    return store_collect(s, st, sizeof **out, draw_row, (void **)out, n,
                         "reading the draws waiting for their payment", e);
}

int store_credit_draw_done(store *s, int64_t outbound_id, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_DRAW_DONE, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, outbound_id);
    return store_exec_stmt(s, st, "closing a draw's payment", e);
}

/* ---- margin calls and liquidation proposals ---- */

static const char SQL_CALL_OPEN[] =
    "INSERT INTO credit_calls (facility_id, kind, health_factor, opened_at, cure_by, plan)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_CALL_CLOSE[] =
    "UPDATE credit_calls SET closed_at = ?, closed_why = ? WHERE id = ? AND closed_at IS NULL";
static const char SQL_CALLS[] =
    "SELECT id, facility_id, kind, health_factor, opened_at, cure_by, closed_at, closed_why, plan"
    " FROM credit_calls WHERE (?1 = 0 OR facility_id = ?1) AND (?2 = 1 OR closed_at IS NULL)"
    " ORDER BY id DESC";

static int call_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    store_credit_call *c = item;
    c->id = sqlite3_column_int64(st, 0);
    c->facility_id = sqlite3_column_int64(st, 1);
    store_copy_text(st, 2, c->kind, sizeof c->kind);
    store_copy_text(st, 3, c->health_factor, sizeof c->health_factor);
    c->opened_at = sqlite3_column_int64(st, 4);
    c->cure_by = sqlite3_column_int64(st, 5);
    c->closed_at = sqlite3_column_int64(st, 6);
    store_copy_text(st, 7, c->closed_why, sizeof c->closed_why);
    store_copy_text(st, 8, c->plan, sizeof c->plan);
    return 0;
}

int store_credit_call_open(store *s, const store_credit_call *c, int64_t *id_out, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CALL_OPEN, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, c->facility_id);
    sqlite3_bind_text(st, 2, c->kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, c->health_factor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, c->opened_at);
    sqlite3_bind_int64(st, 5, c->cure_by);
    store_bind_opt_text(st, 6, c->plan);
    if (store_exec_stmt(s, st, "opening a margin call", e) < 0)
        return -1;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_credit_call_close(store *s, int64_t id, int64_t at, const char *why, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CALL_CLOSE, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_text(st, 2, why, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, id);
    return store_exec_stmt(s, st, "closing a margin call", e);
}

int store_credit_calls(store *s, int64_t facility_id, bool all, store_credit_call **out, size_t *n,
                       err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_CALLS, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, facility_id);
    sqlite3_bind_int(st, 2, all ? 1 : 0);
    return store_collect(s, st, sizeof **out, call_row, (void **)out, n, "listing margin calls",
                         e);
}

static const char SQL_CALL_PLAN[] = "UPDATE credit_calls SET plan = ? WHERE id = ?";

int store_credit_call_set_plan(store *s, int64_t id, const char *plan, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CALL_PLAN, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, plan, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, id);
    return store_exec_stmt(s, st, "changing a liquidation plan", e);
}

/* ---- CollateralVault flows (synced events; rows die with their event) ---- */

static const char SQL_FLOW_PUT[] =
    "INSERT OR IGNORE INTO vault_flows (event_id, chain_id, vault, block_number, kind, owner,"
    " token, amount, request_id)"
    " SELECT id, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM events"
    " WHERE chain_id = ?1 AND block_number = ?3 AND log_index = ?9 AND block_hash = ?10";
static const char SQL_FLOWS[] =
    "SELECT kind, amount FROM vault_flows WHERE chain_id = ? AND vault = ? AND owner = ?"
    " AND token = ? AND block_number <= ? ORDER BY block_number, event_id";

int store_vault_flow_put(store *s, const store_vault_flow *f, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_FLOW_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, f->chain_id);
    store_bind_addr(st, 2, &f->vault);
    store_bind_u64(st, 3, f->block_number);
    sqlite3_bind_text(st, 4, f->kind, -1, SQLITE_STATIC);
    store_bind_addr(st, 5, &f->owner);
    store_bind_addr(st, 6, &f->token);
    if (store_bind_u256(st, 7, &f->amount) < 0) {
        sqlite3_reset(st);
        return err_set(e, ERR_INTERNAL, "cannot bind a vault flow amount");
    }
    if (f->has_request)
        store_bind_u64(st, 8, f->request_id);
    else
        sqlite3_bind_null(st, 8);
    sqlite3_bind_int64(st, 9, f->log_index);
    sqlite3_bind_blob(st, 10, f->block_hash, 32, SQLITE_STATIC);
    return store_exec_stmt(s, st, "recording a vault flow", e);
}

typedef struct flow_row {
    char kind[16];
    u256 amount;
} flow_row;

static int flow_fill(sqlite3_stmt *st, void *item, err *e)
{
    flow_row *r = item;
    store_copy_text(st, 0, r->kind, sizeof r->kind);
    if (store_col_u256(st, 1, &r->amount) < 0)
        return err_set(e, ERR_INVALID, "a vault flow has a malformed amount");
    return 0;
}

int store_vault_balance(store *s, uint64_t chain_id, const addr *vault, const addr *owner,
                        const addr *token, uint64_t through, u256 *out, size_t *n_flows, err *e)
{
    *out = u256_from_u64(0);
    *n_flows = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_FLOWS, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, vault);
    store_bind_addr(st, 3, owner);
    store_bind_addr(st, 4, token);
    store_bind_u64(st, 5, through);
    flow_row *rows = NULL;
    size_t n = 0;
    if (store_collect(s, st, sizeof *rows, flow_fill, (void **)&rows, &n, "reading vault flows",
                      e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (strcmp(rows[i].kind, "deposit") == 0) {
            if (u256_add(out, out, &rows[i].amount) < 0)
                rc = err_set(e, ERR_INVALID, "vault flows overflow 256 bits");
        } else if (u256_cmp(&rows[i].amount, out) > 0) {
            rc = err_set(e, ERR_INVALID,
                         "the synced vault flows take a balance below zero (a %s larger than "
                         "the deposits before it: events are missing)",
                         rows[i].kind);
        } else if (u256_sub(out, out, &rows[i].amount) < 0) {
            rc = err_set(e, ERR_INTERNAL, "vault flow arithmetic");
        }
    }
    *n_flows = n;
    free(rows);
    return rc;
}

/* ---- repayments recognised from transfers ---- */

static const char SQL_REPAY_UNWIND[] =
    "DELETE FROM credit_ledger WHERE inflow_id IN"
    " (SELECT id FROM inflows WHERE chain_id = ? AND reorged_at IS NOT NULL)";
static const char SQL_REPAY_CANDIDATES[] =
    "SELECT id, block_number, tx_hash, log_index, token, sender, recipient, amount, block_time"
    " FROM inflows i WHERE chain_id = ? AND reorged_at IS NULL AND lower(recipient) = lower(?)"
    " AND lower(token) = lower(?)"
    " AND NOT EXISTS (SELECT 1 FROM credit_ledger l WHERE l.inflow_id = i.id) ORDER BY id";

/* ---- the same on a desk whose book is on a server (store_set_reader) ----
 * The inflows are the server's; the ledger stays desk.db's. A row posted from one names it
 * by the identity of the server's database (the reader's feed_state: cluster system
 * identifier / database oid / name, as the screening marks of inflows_screened do), its id
 * there and its chain: ids of two databases collide, so a row of another database (book.conf
 * switched since) is never taken for one of this database's inflows, never deleted by this
 * database's reorgs, and keeps no inflow of this database from being posted. */

static const char SQL_BOOK_POSTED[] =
    "SELECT 1 FROM credit_ledger WHERE inflow_book = ?1 AND inflow_book_id = ?2";
static const char SQL_BOOK_ROWS_OF_CHAIN[] =
    "SELECT inflow_book_id FROM credit_ledger WHERE inflow_book = ?1 AND inflow_chain = ?2"
    " AND inflow_book_id IS NOT NULL ORDER BY inflow_book_id";
static const char SQL_BOOK_UNPOST[] =
    "DELETE FROM credit_ledger WHERE inflow_book = ?1 AND inflow_book_id = ?2";

static int book_identity(store *s, char *book, size_t cap, err *e)
{
    int64_t last, horizon;
    if (s->rd->feed_state(s->rconn, &last, &horizon, book, cap, e) < 0)
        return err_prefix(e, "reading the identity of the book's database");
    return 0;
}

static int id_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    *(int64_t *)item = sqlite3_column_int64(st, 0);
    return 0;
}

/* The rows posted from this database's inflows of chain_id whose inflow the server marks
 * reorged are deleted (as desk.db's SQL_REPAY_UNWIND); an id the server does not hold is
 * left alone (the server's rewind marks its inflows, never deletes them). */
static int book_repay_unwind(store *s, uint64_t chain_id, size_t *removed, err *e)
{
    char book[STORE_CREDIT_BOOK_MAX];
    if (book_identity(s, book, sizeof book, e) < 0)
        return -1;
    sqlite3_stmt *st = store_stmt(s, SQL_BOOK_ROWS_OF_CHAIN, e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, book, -1, SQLITE_TRANSIENT);
    store_bind_u64(st, 2, chain_id);
    int64_t *ids = NULL;
    size_t n = 0;
    if (store_collect(s, st, sizeof *ids, id_row, (void **)&ids, &n,
                      "reading the repayments posted from the book's inflows", e) < 0)
        return -1;
    store_inflow *rows = NULL;
    size_t nr = 0;
    int rc = n ? s->rd->inflows_of(s->rconn, ids, n, &rows, &nr, e) : 0;
    free(ids);
    for (size_t i = 0; rc == 0 && i < nr; i++) {
        if (!rows[i].reorged_at || rows[i].chain_id != chain_id)
            continue;
        if (!(st = store_stmt(s, SQL_BOOK_UNPOST, e))) {
            rc = -1;
            break;
        }
        sqlite3_bind_text(st, 1, book, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, rows[i].id);
        rc = store_exec_stmt(s, st, "undoing repayments of reorged transfers", e);
        if (rc == 0)
            *removed += (size_t)sqlite3_changes(s->db);
    }
    free(rows);
    return rc;
}

/* The book's candidates less those a row of this database already names. */
static int book_repay_candidates(store *s, uint64_t chain_id, const addr *recipient,
                                 const addr *token, char *book, size_t cap, store_inflow **out,
                                 size_t *n, err *e)
{
    if (book_identity(s, book, cap, e) < 0)
        return -1;
    if (s->rd->inflows_to(s->rconn, chain_id, recipient, token, out, n, e) < 0)
        return -1;
    return store_book_inflows_unmarked(s, SQL_BOOK_POSTED, book, out, n,
                                       "reading the repayments posted from the book's inflows",
                                       e);
}

int store_credit_repay_unwind(store *s, uint64_t chain_id, size_t *removed, err *e)
{
    *removed = 0;
    if (s->rd)
        return book_repay_unwind(s, chain_id, removed, e);
    sqlite3_stmt *st = store_stmt(s, SQL_REPAY_UNWIND, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    if (store_exec_stmt(s, st, "undoing repayments of reorged transfers", e) < 0)
        return -1;
    *removed = (size_t)sqlite3_changes(s->db);
    return 0;
}

static int candidate_row(sqlite3_stmt *st, void *item, err *e)
{
    store_inflow *f = item;
    f->id = sqlite3_column_int64(st, 0);
    f->block_number = store_col_u64(st, 1);
    if (store_col_hash(st, 2, f->tx_hash) < 0 || store_col_addr(st, 4, &f->token) < 0 ||
        store_col_addr(st, 5, &f->sender) < 0 || store_col_addr(st, 6, &f->recipient) < 0 ||
        store_col_u256(st, 7, &f->amount) < 0)
        return err_set(e, ERR_INVALID, "inflow %lld is malformed", (long long)f->id);
    f->log_index = store_col_u64(st, 3);
    f->block_time = sqlite3_column_int64(st, 8);
    return 0;
}

int store_credit_repay_candidates(store *s, uint64_t chain_id, const addr *recipient,
                                  const addr *token, char *book, size_t cap, store_inflow **out,
                                  size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    if (cap)
        book[0] = '\0';
    if (s->rd)
        return book_repay_candidates(s, chain_id, recipient, token, book, cap, out, n, e);
    sqlite3_stmt *st = store_stmt(s, SQL_REPAY_CANDIDATES, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, recipient);
    store_bind_addr(st, 3, token);
    return store_collect(s, st, sizeof **out, candidate_row, (void **)out, n,
                         "reading transfers to a repayment address", e);
}
