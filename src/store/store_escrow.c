/* store_escrow.c: the escrow projection aggregate. Rows here are derived from the
 * events table only (src/sync rebuilds them); nothing else writes them. An escrow's
 * approvals are a blob of its row (APPROVAL_BYTES each, in chain order): the row is read
 * and written whole, one statement. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/text.h"
#include "store/store.h"
#include "store/store_internal.h"

static const char *const state_names[] = {"created",  "funded",   "released",
                                          "refunded", "disputed", "resolved"};

const char *escrow_state_str(escrow_state st)
{
    return (unsigned)st < 6 ? state_names[st] : "?";
}

int escrow_state_parse(escrow_state *out, const char *s, err *e)
{
    for (int i = 0; i < 6; i++) {
        if (s && strcmp(s, state_names[i]) == 0) {
            *out = (escrow_state)i;
            return 0;
        }
    }
    return err_set(e, ERR_INVALID, "unknown escrow state \"%.40s\"", s ? s : "");
}

static const char SQL_ESCROW_PUT[] =
    "INSERT INTO escrows (" STORE_ESCROW_COLUMNS ")"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " ?)"
    " ON CONFLICT (chain_id, address) DO UPDATE SET factory = excluded.factory,"
    " payer = excluded.payer, payee = excluded.payee, token = excluded.token,"
    " amount = excluded.amount, approvers = excluded.approvers,"
    " threshold = excluded.threshold, arbiter = excluded.arbiter,"
    " deadline = excluded.deadline, state = excluded.state,"
    " resolved_to = excluded.resolved_to, approvals = excluded.approvals,"
    " funded = excluded.funded, released = excluded.released, refunded = excluded.refunded,"
    " created_block = excluded.created_block, created_tx = excluded.created_tx,"
    " last_event_block = excluded.last_event_block, events = excluded.events,"
    " pending = excluded.pending, anomaly = excluded.anomaly, version = excluded.version,"
    " dispute_window = excluded.dispute_window, terms_hash = excluded.terms_hash,"
    " created_arbiter = excluded.created_arbiter, inconsistent = excluded.inconsistent,"
    " approval_list = excluded.approval_list";
static const char SQL_ESCROW_DEL[] = "DELETE FROM escrows WHERE chain_id = ? AND address = ?";

/* One approval in the row's blob: approver (20 bytes), block number (8, big-endian), tx
 * hash (32), log index (4, big-endian), pending when written (1). */
#define APPROVAL_BYTES (ADDR_LEN + 8 + 32 + 4 + 1)

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static size_t approvals_pack(uint8_t *out, const store_escrow *x)
{
    size_t o = 0;
    for (unsigned i = 0; i < x->n_approvals && i < STORE_MAX_APPROVERS; i++) {
        const store_approval *a = &x->approvals[i];
        memcpy(out + o, a->approver.b, ADDR_LEN);
        put_be(out + o + ADDR_LEN, a->block_number, 8);
        memcpy(out + o + ADDR_LEN + 8, a->tx_hash, 32);
        put_be(out + o + ADDR_LEN + 40, a->log_index, 4);
        out[o + ADDR_LEN + 44] = a->pending ? 1 : 0;
        o += APPROVAL_BYTES;
    }
    return o;
}

static int approval_cmp(const void *p, const void *q)
{
    const store_approval *a = p, *b = q;
    if (a->block_number != b->block_number)
        return a->block_number < b->block_number ? -1 : 1;
    return a->log_index < b->log_index ? -1 : a->log_index > b->log_index;
}

/* The approvals blob (p, n bytes) into x->approvals. A mark written pending stays so only
 * while the escrow is pending and the approval is above the chain's final block (has_final
 * false when nothing is synced): settling an escrow settles its approvals. */
static int approvals_unpack_bytes(const uint8_t *p, size_t n, bool has_final, uint64_t final,
                                  store_escrow *x)
{
    x->n_approvals = 0;
    if (n % APPROVAL_BYTES || n / APPROVAL_BYTES > STORE_MAX_APPROVERS || (n && !p))
        return -1;
    for (size_t o = 0; o < n; o += APPROVAL_BYTES) {
        store_approval *a = &x->approvals[x->n_approvals++];
        memcpy(a->approver.b, p + o, ADDR_LEN);
        a->block_number = get_be(p + o + ADDR_LEN, 8);
        memcpy(a->tx_hash, p + o + ADDR_LEN + 8, 32);
        a->log_index = (uint32_t)get_be(p + o + ADDR_LEN + 40, 4);
        a->pending = p[o + ADDR_LEN + 44] != 0 && x->pending &&
                     !(has_final && a->block_number <= final);
    }
    qsort(x->approvals, x->n_approvals, sizeof x->approvals[0], approval_cmp);
    return 0;
}

/* The blob at column i, the chain's final block at column final_col (NULL: not synced). */
static int approvals_unpack(sqlite3_stmt *st, int i, int final_col, store_escrow *x)
{
    x->n_approvals = 0;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return 0;
    return approvals_unpack_bytes(sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i),
                                  sqlite3_column_type(st, final_col) != SQLITE_NULL,
                                  store_col_u64(st, final_col), x);
}

static void approvers_json(char *out, size_t cap, const store_escrow *x)
{
    size_t n = 0;
    out[n++] = '[';
    /* Written in place (a snprintf per approver was a fifth of an escrow row's write). */
    for (unsigned i = 0; i < x->n_approvers && n + ADDR_STR_MAX + 4 < cap; i++) {
        if (i)
            out[n++] = ',';
        out[n++] = '"';
        n += hex_encode(out + n, cap - n, x->approvers[i].b, ADDR_LEN, true);
        out[n++] = '"';
    }
    out[n++] = ']';
    out[n] = '\0';
}

/* The row, inserted or updated in place (no REPLACE: its delete would fire the search
 * index's delete trigger and renumber the row). */
int store_escrow_put(store *s, const store_escrow *x, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_PUT, e);
    if (!st)
        return -1;
    char approvers[STORE_MAX_APPROVERS * (ADDR_STR_MAX + 3) + 4];
    approvers_json(approvers, sizeof approvers, x);
    uint8_t approvals[STORE_MAX_APPROVERS * APPROVAL_BYTES];
    size_t approvals_len = approvals_pack(approvals, x);
    store_bind_u64(st, 1, x->chain_id);
    store_bind_addr(st, 2, &x->address);
    store_bind_addr(st, 3, &x->factory);
    store_bind_addr(st, 4, &x->payer);
    store_bind_addr(st, 5, &x->payee);
    store_bind_addr(st, 6, &x->token);
    store_bind_u256(st, 7, &x->amount);
    sqlite3_bind_text(st, 8, approvers, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 9, (int)x->threshold);
    store_bind_addr(st, 10, &x->arbiter);
    store_bind_u64(st, 11, x->deadline);
    sqlite3_bind_text(st, 12, escrow_state_str(x->state), -1, SQLITE_STATIC);
    if (x->state == ESCROW_RESOLVED)
        sqlite3_bind_text(st, 13, x->resolved_to_payee ? "payee" : "payer", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 14, (int)x->n_approvals);
    store_bind_u256(st, 15, &x->funded);
    store_bind_u256(st, 16, &x->released);
    store_bind_u256(st, 17, &x->refunded);
    store_bind_u64(st, 18, x->created_block);
    store_bind_hash(st, 19, x->created_tx);
    store_bind_u64(st, 20, x->last_event_block);
    sqlite3_bind_int(st, 21, (int)x->n_events);
    sqlite3_bind_int(st, 22, x->pending ? 1 : 0);
    if (x->anomaly[0])
        sqlite3_bind_text(st, 23, x->anomaly, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 24, x->version == 2 ? 2 : 1);
    store_bind_u64(st, 25, x->dispute_window);
    if (x->version == 2)
        store_bind_hash(st, 26, x->terms_hash);
    store_bind_addr(st, 27, &x->created_arbiter);
    sqlite3_bind_int(st, 28, x->inconsistent ? 1 : 0);
    sqlite3_bind_blob(st, 29, approvals, (int)approvals_len, SQLITE_TRANSIENT);
    return store_exec_stmt(s, st, "storing an escrow", e);
}

static const char *row_i64(char out[24], uint64_t v)
{
    int64_t sv;
    memcpy(&sv, &v, sizeof sv);
    snprintf(out, 24, "%lld", (long long)sv);
    return out;
}

static const char *row_hex(char out[67], const uint8_t *b, size_t n)
{
    store_hex(out, 67, b, n);
    return out;
}

static const char *row_dec(char out[80], const u256 *v)
{
    u256_to_dec(out, v);
    return out;
}

/* The values store_escrow_put binds, in its order (the same columns, the same text). */
void store_escrow_row_of(const store_escrow *x, store_escrow_row *r)
{
    memset(r->v, 0, sizeof r->v);
    approvers_json(r->approvers, sizeof r->approvers, x);
    r->approvals_len = approvals_pack(r->approvals, x);
    snprintf(r->anomaly, sizeof r->anomaly, "%s", x->anomaly);
    const char **v = r->v;
    v[0] = row_i64(r->num[0], x->chain_id);
    v[1] = row_hex(r->hex[0], x->address.b, ADDR_LEN);
    v[2] = row_hex(r->hex[1], x->factory.b, ADDR_LEN);
    v[3] = row_hex(r->hex[2], x->payer.b, ADDR_LEN);
    v[4] = row_hex(r->hex[3], x->payee.b, ADDR_LEN);
    v[5] = row_hex(r->hex[4], x->token.b, ADDR_LEN);
    v[6] = row_dec(r->dec[0], &x->amount);
    v[7] = r->approvers;
    v[8] = row_i64(r->num[1], (uint64_t)(int)x->threshold);
    v[9] = row_hex(r->hex[5], x->arbiter.b, ADDR_LEN);
    v[10] = row_i64(r->num[2], x->deadline);
    v[11] = escrow_state_str(x->state);
    if (x->state == ESCROW_RESOLVED)
        v[12] = x->resolved_to_payee ? "payee" : "payer";
    v[13] = row_i64(r->num[3], (uint64_t)(int)x->n_approvals);
    v[14] = row_dec(r->dec[1], &x->funded);
    v[15] = row_dec(r->dec[2], &x->released);
    v[16] = row_dec(r->dec[3], &x->refunded);
    v[17] = row_i64(r->num[4], x->created_block);
    v[18] = row_hex(r->hex[6], x->created_tx, 32);
    v[19] = row_i64(r->num[5], x->last_event_block);
    v[20] = row_i64(r->num[6], (uint64_t)(int)x->n_events);
    v[21] = x->pending ? "1" : "0";
    if (x->anomaly[0])
        v[22] = r->anomaly;
    v[23] = x->version == 2 ? "2" : "1";
    v[24] = row_i64(r->num[7], x->dispute_window);
    if (x->version == 2)
        v[25] = row_hex(r->hex[7], x->terms_hash, 32);
    v[26] = row_hex(r->hex[8], x->created_arbiter.b, ADDR_LEN);
    v[27] = x->inconsistent ? "1" : "0";
    v[28] = (const char *)r->approvals;
}

int store_escrow_delete(store *s, uint64_t chain_id, const addr *address, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_DEL, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, address);
    return store_exec_stmt(s, st, "deleting an escrow", e);
}

#define ESCROW_COLS                                                                                \
    "chain_id, address, factory, payer, payee, token, amount, approvers, threshold, arbiter,"      \
    " deadline, state, resolved_to, approvals, funded, released, refunded, created_block,"         \
    " created_tx, last_event_block, events, pending, anomaly, version, dispute_window,"        \
    " terms_hash, created_arbiter, inconsistent, approval_list,"                                 \
    " (SELECT final_block FROM checkpoints c WHERE c.chain_id = escrows.chain_id)"

static const char SQL_ESCROW_GET[] =
    "SELECT " ESCROW_COLS " FROM escrows WHERE chain_id = ? AND address = ?";
static const char SQL_ESCROW_FIND[] =
    "SELECT " ESCROW_COLS " FROM escrows WHERE address = ? ORDER BY chain_id LIMIT 1";
static const char SQL_ESCROW_LIST_ALL[] =
    "SELECT " ESCROW_COLS " FROM escrows ORDER BY chain_id, created_block, address";
static const char SQL_ESCROW_LIST[] =
    "SELECT " ESCROW_COLS " FROM escrows WHERE chain_id = ? ORDER BY created_block, address";

/* The form approvers_json writes, ["0x..","0x.."], read without a JSON tree (every escrow
 * read of a sync's fold goes through here); false for any other text. */
static bool parse_approvers_fast(const char *t, store_escrow *x)
{
    if (*t++ != '[')
        return false;
    unsigned n = 0;
    if (*t == ']') {
        if (t[1] != '\0')
            return false;
        x->n_approvers = 0;
        return true;
    }
    for (;;) {
        err e;
        if (n >= STORE_MAX_APPROVERS || t[0] != '"' || strnlen(t + 1, ADDR_STR_MAX) < 43 ||
            t[43] != '"' || hex_decode(x->approvers[n].b, ADDR_LEN, &(size_t){0}, t + 1, 42,
                                       HEX_REQUIRE_PREFIX, &e) < 0)
            return false;
        n++;
        t += 44;
        if (*t == ']' && t[1] == '\0')
            break;
        if (*t++ != ',')
            return false;
    }
    x->n_approvers = n;
    return true;
}

static int parse_approvers(const char *text, store_escrow *x)
{
    if (text && parse_approvers_fast(text, x))
        return 0;
    json_error_t jerr;
    json_t *arr = json_loads(text ? text : "", 0, &jerr);
    if (!arr || !json_is_array(arr) || json_array_size(arr) > STORE_MAX_APPROVERS) {
        json_decref(arr);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        err e;
        const char *a = json_string_value(v);
        if (!a || hex_decode_exact(x->approvers[i].b, ADDR_LEN, a, HEX_REQUIRE_PREFIX, &e) < 0) {
            json_decref(arr);
            return -1;
        }
    }
    x->n_approvers = (unsigned)json_array_size(arr);
    json_decref(arr);
    return 0;
}

static int escrow_row(store *s, sqlite3_stmt *st, store_escrow *x, err *e)
{
    memset(x, 0, sizeof *x);
    x->chain_id = store_col_u64(st, 0);
    err ignored;
    if (store_col_addr(st, 1, &x->address) < 0 || store_col_addr(st, 2, &x->factory) < 0 ||
        store_col_addr(st, 3, &x->payer) < 0 || store_col_addr(st, 4, &x->payee) < 0 ||
        store_col_addr(st, 5, &x->token) < 0 || store_col_u256(st, 6, &x->amount) < 0 ||
        parse_approvers((const char *)sqlite3_column_text(st, 7), x) < 0 ||
        store_col_addr(st, 9, &x->arbiter) < 0 ||
        escrow_state_parse(&x->state, (const char *)sqlite3_column_text(st, 11), &ignored) < 0 ||
        store_col_u256(st, 14, &x->funded) < 0 || store_col_u256(st, 15, &x->released) < 0 ||
        store_col_u256(st, 16, &x->refunded) < 0 || store_col_hash(st, 18, x->created_tx) < 0)
        return err_set(e, ERR_INVALID, "an escrow row in %s is malformed: run `fusion reindex`",
                       s->path);
    x->threshold = (unsigned)sqlite3_column_int(st, 8);
    x->deadline = store_col_u64(st, 10);
    const char *rt = (const char *)sqlite3_column_text(st, 12);
    x->resolved_to_payee = rt && strcmp(rt, "payee") == 0;
    x->created_block = store_col_u64(st, 17);
    x->last_event_block = store_col_u64(st, 19);
    x->n_events = (unsigned)sqlite3_column_int(st, 20);
    x->pending = sqlite3_column_int(st, 21) != 0;
    store_copy_text(st, 22, x->anomaly, sizeof x->anomaly);
    x->version = sqlite3_column_int(st, 23) == 2 ? 2 : 1;
    x->dispute_window = store_col_u64(st, 24);
    if (sqlite3_column_type(st, 25) != SQLITE_NULL && store_col_hash(st, 25, x->terms_hash) < 0)
        return err_set(e, ERR_INVALID, "an escrow row in %s is malformed: run `fusion reindex`",
                       s->path);
    if (sqlite3_column_type(st, 26) == SQLITE_NULL)
        x->created_arbiter = x->arbiter;
    else if (store_col_addr(st, 26, &x->created_arbiter) < 0)
        return err_set(e, ERR_INVALID, "an escrow row in %s is malformed: run `fusion reindex`",
                       s->path);
    x->inconsistent = sqlite3_column_int(st, 27) != 0;
    if (approvals_unpack(st, 28, 29, x) < 0)
        return err_set(e, ERR_INVALID, "an escrow row in %s is malformed: run `fusion reindex`",
                       s->path);
    return 0;
}

/* Text columns: an address, a decimal amount, a hash, a 64-bit integer (its signed bits). */
static int txt_addr(const char *t, addr *out)
{
    err ignored;
    memset(out, 0, sizeof *out);
    return t ? hex_decode_exact(out->b, ADDR_LEN, t, HEX_REQUIRE_PREFIX, &ignored) : -1;
}

static int txt_u256(const char *t, u256 *out)
{
    err ignored;
    *out = u256_from_u64(0);
    return t ? u256_from_dec(out, t, &ignored) : -1;
}

/* An integer column as the server's text: NULL is 0 (a column added later); otherwise
 * digits with an optional '-' (a negative bigint is the stored bits of a u64 above 2^63,
 * the SQLite desk's form), in the range of a bigint; anything else is refused. */
static int txt_u64(const char *t, uint64_t *out)
{
    *out = 0;
    if (!t)
        return 0;
    const char *d = t[0] == '-' ? t + 1 : t;
    if (!*d || strlen(d) > 19 || strspn(d, "0123456789") != strlen(d))
        return -1;
    uint64_t mag = strtoull(d, NULL, 10);
    if (t[0] == '-' ? mag > (uint64_t)INT64_MAX + 1u : mag > (uint64_t)INT64_MAX)
        return -1;
    *out = t[0] == '-' ? (uint64_t)0 - mag : mag;
    return 0;
}

/* A 32-bit count (threshold, events): within 0..UINT32_MAX. */
static int txt_u32(const char *t, unsigned *out)
{
    uint64_t v;
    if (txt_u64(t, &v) < 0 || v > UINT32_MAX)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int store_escrow_of_row(const char *const v[STORE_ESCROW_NCOLS], size_t approvals_len,
                        bool has_final, uint64_t final_block, store_escrow *x, err *e)
{
    memset(x, 0, sizeof *x);
    err ignored;
    uint64_t pending = 0, version = 0, inconsistent = 0;
    if (txt_u64(v[0], &x->chain_id) < 0 || txt_addr(v[1], &x->address) < 0 ||
        txt_addr(v[2], &x->factory) < 0 || txt_addr(v[3], &x->payer) < 0 ||
        txt_addr(v[4], &x->payee) < 0 || txt_addr(v[5], &x->token) < 0 ||
        txt_u256(v[6], &x->amount) < 0 || parse_approvers(v[7], x) < 0 ||
        txt_addr(v[9], &x->arbiter) < 0 ||
        escrow_state_parse(&x->state, v[11], &ignored) < 0 || txt_u256(v[14], &x->funded) < 0 ||
        txt_u256(v[15], &x->released) < 0 || txt_u256(v[16], &x->refunded) < 0 || !v[18] ||
        hex_decode_exact(x->created_tx, 32, v[18], HEX_REQUIRE_PREFIX, &ignored) < 0 ||
        txt_u32(v[8], &x->threshold) < 0 || txt_u64(v[10], &x->deadline) < 0 ||
        txt_u64(v[17], &x->created_block) < 0 || txt_u64(v[19], &x->last_event_block) < 0 ||
        txt_u32(v[20], &x->n_events) < 0 || txt_u64(v[21], &pending) < 0 ||
        txt_u64(v[23], &version) < 0 || txt_u64(v[24], &x->dispute_window) < 0 ||
        txt_u64(v[27], &inconsistent) < 0)
        goto bad;
    x->resolved_to_payee = v[12] && strcmp(v[12], "payee") == 0;
    x->pending = pending != 0;
    /* the anomaly is shown as it is on the screens: the whole of it, and printable */
    if (v[22] && (strlen(v[22]) >= sizeof x->anomaly ||
                  text_unsafe_at(v[22], strlen(v[22])) != strlen(v[22])))
        goto bad;
    snprintf(x->anomaly, sizeof x->anomaly, "%s", v[22] ? v[22] : "");
    x->version = version == 2 ? 2 : 1;
    if (v[25] && hex_decode_exact(x->terms_hash, 32, v[25], HEX_REQUIRE_PREFIX, &ignored) < 0)
        goto bad;
    if (!v[26])
        x->created_arbiter = x->arbiter;
    else if (txt_addr(v[26], &x->created_arbiter) < 0)
        goto bad;
    x->inconsistent = inconsistent != 0;
    if (v[28] && approvals_unpack_bytes((const uint8_t *)v[28], approvals_len, has_final,
                                        final_block, x) < 0)
        goto bad;
    return 0;
bad:;
    /* the server's text, not ours: shown escaped */
    char chain[48], at[96];
    return err_set(e, ERR_INVALID, "the book: a malformed escrow row (chain %s, %s)",
                   text_safe_str(chain, sizeof chain, v[0] ? v[0] : "?"),
                   text_safe_str(at, sizeof at, v[1] ? v[1] : "?"));
}

static int escrow_get_one(store *s, sqlite3_stmt *st, store_escrow *out, bool *found, err *e)
{
    int rc = sqlite3_step(st);
    *found = false;
    if (rc == SQLITE_ROW) {
        if (escrow_row(s, st, out, e) < 0) {
            sqlite3_reset(st);
            return -1;
        }
        *found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading an escrow");
    return 0;
}

int store_escrow_get(store *s, uint64_t chain_id, const addr *address, store_escrow *out,
                     bool *found, err *e)
{
    if (s->rd)
        return s->rd->escrow_get(s->rconn, chain_id, address, out, found, e);
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_GET, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, address);
    return escrow_get_one(s, st, out, found, e);
}

static const char SQL_ESCROW_ROWIDS[] =
    "SELECT rowid FROM escrows ORDER BY chain_id, created_block, address";
static const char SQL_ESCROW_BY_ROWID[] = "SELECT " ESCROW_COLS " FROM escrows WHERE rowid = ?";

static int rowid_fill(sqlite3_stmt *st, void *item, err *e)
{
    (void)e;
    *(int64_t *)item = sqlite3_column_int64(st, 0);
    return 0;
}

int store_escrow_rowids(store *s, int64_t **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_ROWIDS, e);
    if (!st)
        return -1;
    return store_collect(s, st, sizeof **out, rowid_fill, (void **)out, n, "listing escrows", e);
}

int store_escrow_get_rowid(store *s, int64_t rowid, store_escrow *out, bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_BY_ROWID, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, rowid);
    return escrow_get_one(s, st, out, found, e);
}

int store_escrow_find(store *s, const addr *address, store_escrow *out, bool *found, err *e)
{
    if (s->rd)
        return s->rd->escrow_find(s->rconn, address, out, found, e);
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_FIND, e);
    if (!st)
        return -1;
    store_bind_addr(st, 1, address);
    return escrow_get_one(s, st, out, found, e);
}

/* Reads every row of a bound escrow statement into *out. */
static int list_rows(store *s, sqlite3_stmt *st, store_escrow **out, size_t *n, err *e)
{
    store_escrow *items = NULL;
    size_t cap = 0, cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)&items, &cap, cnt, sizeof *items, e) < 0 ||
            escrow_row(s, st, &items[cnt], e) < 0)
            goto fail;
        cnt++;
    }
    if (rc != SQLITE_DONE) {
        store_fail(s, e, "listing escrows");
        goto fail;
    }
    sqlite3_reset(st);
    *out = items;
    *n = cnt;
    return 0;
fail:
    sqlite3_reset(st);
    free(items);
    return -1;
}

int store_escrow_list(store *s, uint64_t chain_id, store_escrow **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    if (s->rd)
        return s->rd->escrow_list(s->rconn, chain_id, out, n, e);
    sqlite3_stmt *st = store_stmt(s, chain_id ? SQL_ESCROW_LIST : SQL_ESCROW_LIST_ALL, e);
    if (!st)
        return -1;
    if (chain_id)
        store_bind_u64(st, 1, chain_id);
    return list_rows(s, st, out, n, e);
}

/* The parties arrive as one JSON array of lower-case addresses (the stored form). */
static const char SQL_ESCROW_LIST_OPEN[] =
    "SELECT " ESCROW_COLS " FROM escrows WHERE state IN ('funded', 'disputed')"
    " AND (payer IN (SELECT value FROM json_each(?1))"
    "      OR payee IN (SELECT value FROM json_each(?1)))"
    " ORDER BY chain_id, created_block, address";

int store_escrow_list_open(store *s, const addr *parties, size_t n_parties, store_escrow **out,
                           size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    if (n_parties == 0)
        return 0;
    if (s->rd)
        return s->rd->escrow_list_open(s->rconn, parties, n_parties, out, n, e);
    char *json = malloc(n_parties * (ADDR_STR_MAX + 3) + 3);
    if (!json)
        return err_set(e, ERR_NOMEM, "out of memory listing open escrows");
    size_t o = 0;
    json[o++] = '[';
    for (size_t i = 0; i < n_parties; i++) {
        char a[ADDR_STR_MAX];
        store_hex(a, sizeof a, parties[i].b, ADDR_LEN);
        o += (size_t)sprintf(json + o, "%s\"%s\"", i ? "," : "", a);
    }
    json[o++] = ']';
    json[o] = '\0';
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_LIST_OPEN, e);
    if (!st) {
        free(json);
        return -1;
    }
    sqlite3_bind_text(st, 1, json, -1, SQLITE_TRANSIENT);
    free(json);
    return list_rows(s, st, out, n, e);
}

/* The candidates of an approver's page: funded, short of the threshold, the approver
 * among the approvers (the stored JSON array holds lower-case quoted addresses), after the
 * cursor (?2 NULL: from the start), in store_escrow_list's order. Whether the approver has
 * approved already is in the approvals blob: checked on each row read (store_escrow_awaits). */
static const char SQL_ESCROW_AWAITING[] =
    "SELECT " ESCROW_COLS " FROM escrows WHERE state = 'funded' AND approvals < threshold"
    " AND instr(approvers, ?1) > 0"
    " AND (?2 IS NULL OR (chain_id, created_block, address) > (?2, ?3, ?4))"
    " ORDER BY chain_id, created_block, address";

bool store_escrow_awaits(const store_escrow *x, const addr *approver)
{
    for (unsigned i = 0; i < x->n_approvals; i++)
        if (addr_equal(&x->approvals[i].approver, approver))
            return false;
    for (unsigned i = 0; i < x->n_approvers; i++)
        if (addr_equal(&x->approvers[i], approver))
            return true;
    return false;
}

/* Reads the awaiting rows after the cursor: up to limit into *out (out NULL: only counts,
 * every row). */
static int awaiting_rows(store *s, const addr *approver, const store_escrow_cursor *after,
                         size_t limit, store_escrow **out, size_t *n, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_AWAITING, e);
    if (!st)
        return -1;
    char quoted[ADDR_STR_MAX + 2];
    quoted[0] = '"';
    store_hex(quoted + 1, ADDR_STR_MAX, approver->b, ADDR_LEN);
    strcat(quoted, "\"");
    sqlite3_bind_text(st, 1, quoted, -1, SQLITE_TRANSIENT);
    if (after) {
        store_bind_u64(st, 2, after->chain_id);
        store_bind_u64(st, 3, after->created_block);
        store_bind_addr(st, 4, &after->address);
    }
    store_escrow *items = NULL, one;
    size_t cap = 0, cnt = 0;
    int rc = SQLITE_DONE;
    while ((!out || cnt < limit) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_escrow *x = &one;
        if (out && (store_grow((void **)&items, &cap, cnt, sizeof *items, e) < 0))
            goto fail;
        if (out)
            x = &items[cnt];
        if (escrow_row(s, st, x, e) < 0)
            goto fail;
        if (store_escrow_awaits(x, approver))
            cnt++;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_fail(s, e, "listing the escrows awaiting an approval");
        goto fail;
    }
    sqlite3_reset(st);
    if (out)
        *out = items;
    *n = cnt;
    return 0;
fail:
    sqlite3_reset(st);
    free(items);
    return -1;
}

int store_escrow_awaiting(store *s, const addr *approver, const store_escrow_cursor *after,
                          size_t limit, store_escrow **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    if (limit == 0)
        return 0;
    if (s->rd)
        return s->rd->escrow_awaiting(s->rconn, approver, after, limit, out, n, e);
    return awaiting_rows(s, approver, after, limit, out, n, e);
}

int store_escrow_awaiting_count(store *s, const addr *approver, size_t *n, err *e)
{
    *n = 0;
    if (s->rd)
        return s->rd->escrow_awaiting(s->rconn, approver, NULL, 0, NULL, n, e);
    return awaiting_rows(s, approver, NULL, 0, NULL, n, e);
}

void store_escrow_cursor_of(store_escrow_cursor *c, const store_escrow *x)
{
    c->chain_id = x->chain_id;
    c->created_block = x->created_block;
    c->address = x->address;
}

static const char SQL_ESCROW_ADDRS[] = "SELECT address FROM escrows WHERE chain_id = ?";

/* The addresses of st's rows (column 0, bound by the caller: hex text, or 20 bytes when
 * blob) into *out; what: for the messages. */
static int address_rows(store *s, sqlite3_stmt *st, bool blob, addr **out, size_t *n,
                        const char *what, err *e)
{
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)out, &cap, *n, sizeof **out, e) < 0)
            goto fail;
        if ((blob ? store_col_bytes(st, 0, (*out)[*n].b, ADDR_LEN)
                  : store_col_addr(st, 0, &(*out)[*n])) < 0) {
            err_set(e, ERR_INVALID, "%s: an escrow address in the desk database is malformed",
                    what);
            goto fail;
        }
        (*n)++;
    }
    if (rc != SQLITE_DONE) {
        store_fail(s, e, what);
        goto fail;
    }
    sqlite3_reset(st);
    return 0;
fail:
    sqlite3_reset(st);
    free(*out);
    *out = NULL;
    *n = 0;
    return -1;
}

int store_escrow_addresses(store *s, uint64_t chain_id, addr **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_ADDRS, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return address_rows(s, st, false, out, n, "listing escrow addresses", e);
}

static const char SQL_ESCROW_SETTLE[] =
    "UPDATE escrows INDEXED BY escrows_pending SET pending = 0"
    " WHERE chain_id = ? AND pending = 1 AND last_event_block <= ?";
static const char SQL_ESCROW_CLEAR[] = "DELETE FROM escrows WHERE chain_id = ?";

int store_escrow_settle(store *s, uint64_t chain_id, uint64_t final_block, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_SETTLE, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_u64(st, 2, final_block);
    return store_exec_stmt(s, st, "settling escrows", e);
}

int store_escrow_clear(store *s, uint64_t chain_id, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ESCROW_CLEAR, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return store_exec_stmt(s, st, "clearing escrows", e);
}

static const char SQL_STALE_MARK[] =
    "INSERT OR IGNORE INTO escrows_stale (chain_id, address) VALUES (?, ?)";
static const char SQL_STALE_LIST[] = "SELECT address FROM escrows_stale WHERE chain_id = ?";
static const char SQL_STALE_CLEAR[] = "DELETE FROM escrows_stale WHERE chain_id = ?";

int store_escrow_stale_mark(store *s, uint64_t chain_id, const addr *escrow, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_STALE_MARK, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    sqlite3_bind_blob(st, 2, escrow->b, ADDR_LEN, SQLITE_STATIC);
    return store_exec_stmt(s, st, "marking an escrow row behind its events", e);
}

int store_escrow_stale_list(store *s, uint64_t chain_id, addr **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_STALE_LIST, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return address_rows(s, st, true, out, n, "listing escrow rows behind their events", e);
}

int store_escrow_stale_clear(store *s, uint64_t chain_id, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_STALE_CLEAR, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return store_exec_stmt(s, st, "forgetting escrow rows behind their events", e);
}

static const char SQL_SEARCH_CLEAR[] = "DELETE FROM escrow_search";
static const char SQL_SEARCH_FILL[] =
    "INSERT INTO escrow_search (rowid, address, payer, payee, state, chain, asset)"
    " SELECT " SEARCH_ROW_("e") " FROM escrows e";
static const char SQL_TOTALS_FIX[] =
    "UPDATE escrow_totals SET n = (SELECT count(*) FROM escrows) WHERE id = 1";

int store_escrow_search_rebuild(store *s, err *e)
{
    if (store_begin(s, e) < 0)
        return -1;
    static const char *const steps[] = {SQL_SEARCH_CLEAR, SQL_SEARCH_FILL, SQL_TOTALS_FIX};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        sqlite3_stmt *st = store_stmt(s, steps[i], e);
        if (!st || store_exec_stmt(s, st, "rebuilding the escrow search index", e) < 0) {
            store_rollback(s);
            return -1;
        }
    }
    return store_commit(s, e);
}

/* ---- many new escrows in one transaction ---- */

static const char SQL_BATCH_TRIGGER[] =
    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'escrows_search_i'";
static const char SQL_BATCH_ABOVE[] = "SELECT coalesce(max(rowid), 0) FROM escrows";
static const char SQL_BATCH_SEARCH[] =
    "INSERT INTO escrow_search (rowid, address, payer, payee, state, chain, asset)"
    " SELECT " SEARCH_ROW_("e") " FROM escrows e WHERE e.rowid > ?";
static const char SQL_BATCH_TOTALS[] =
    "UPDATE escrow_totals SET n = n + (SELECT count(*) FROM escrows WHERE rowid > ?) WHERE id = 1";

void store_escrow_batch_free(store_escrow_batch *b)
{
    free(b->trigger);
    b->trigger = NULL;
    b->above = 0;
}

int store_escrow_batch_begin(store *s, store_escrow_batch *b, err *e)
{
    memset(b, 0, sizeof *b);
    /* Not cached: the DDL below would make every cached statement re-prepare anyway. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, SQL_BATCH_TRIGGER, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
        b->trigger = strdup((const char *)sqlite3_column_text(st, 0));
    else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        goto fail;
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_ROW)
        return err_set(e, ERR_INTERNAL, "the escrow search index has no insert trigger");
    if (!b->trigger)
        return err_set(e, ERR_NOMEM, "out of memory starting an escrow batch");
    if (sqlite3_prepare_v2(s->db, SQL_BATCH_ABOVE, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto fail;
    b->above = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(s->db, "DROP TRIGGER escrows_search_i", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    err_set(e, ERR_IO, "starting an escrow batch: %s", sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    store_escrow_batch_free(b);
    return -1;
}

int store_escrow_batch_end(store *s, store_escrow_batch *b, err *e)
{
    if (!b->trigger)
        return err_set(e, ERR_INTERNAL, "ending an escrow batch that was not started");
    static const char *const steps[] = {SQL_BATCH_SEARCH, SQL_BATCH_TOTALS};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, steps[i], -1, &st, NULL) != SQLITE_OK) {
            err_set(e, ERR_INTERNAL, "preparing an escrow batch: %s", sqlite3_errmsg(s->db));
            return -1;
        }
        sqlite3_bind_int64(st, 1, b->above);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return err_set(e, ERR_IO, "indexing new escrows: %s", sqlite3_errmsg(s->db));
    }
    if (sqlite3_exec(s->db, b->trigger, NULL, NULL, NULL) != SQLITE_OK)
        return err_set(e, ERR_IO, "restoring the escrow search trigger: %s",
                       sqlite3_errmsg(s->db));
    store_escrow_batch_free(b);
    return 0;
}
