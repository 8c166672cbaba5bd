/* store_bridge.c: bridge transfers (bridge_transfers) and the CCTP-style contracts of each
 * chain (bridge_cctp): each transfer's legs, message, attestation and the signed
 * transaction in flight, so that `fusion bridge resume` continues after a crash exactly
 * where the previous process stopped (src/bridge, docs/bridges.md). */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define COLS                                                                                       \
    "protocol, state, src_chain, dst_chain, src_domain, dst_domain, sender, recipient,"            \
    " token_src, token_dst, amount, fee, operator, burn_tx, burn_block, message, message_hash,"    \
    " attestation, mint_tx, mint_block, pending_action, pending_chain, pending_hash,"              \
    " pending_raw, note, created_at, updated_at, dst_from_block"

static const char SQL_ADD[] = "INSERT INTO bridge_transfers (" COLS ") VALUES (?, ?, ?, ?, ?, ?,"
                              " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_PUT[] =
    "UPDATE bridge_transfers SET state = ?2, fee = ?12, burn_tx = ?14, burn_block = ?15,"
    " message = ?16, message_hash = ?17, attestation = ?18, mint_tx = ?19, mint_block = ?20,"
    " pending_action = ?21, pending_chain = ?22, pending_hash = ?23, pending_raw = ?24,"
    " note = ?25, updated_at = ?27, dst_from_block = ?28 WHERE id = ?29";
static const char SQL_GET[] = "SELECT " COLS ", id FROM bridge_transfers WHERE id = ?";
static const char SQL_LIST[] = "SELECT " COLS ", id FROM bridge_transfers ORDER BY id";

static void bind_all(sqlite3_stmt *st, const store_bridge *b, int64_t now)
{
    sqlite3_bind_text(st, 1, b->protocol, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, b->state, -1, SQLITE_TRANSIENT);
    store_bind_u64(st, 3, b->src_chain);
    store_bind_u64(st, 4, b->dst_chain);
    store_bind_u64(st, 5, b->src_domain);
    store_bind_u64(st, 6, b->dst_domain);
    store_bind_addr(st, 7, &b->sender);
    store_bind_addr(st, 8, &b->recipient);
    store_bind_addr(st, 9, &b->token_src);
    store_bind_addr(st, 10, &b->token_dst);
    store_bind_u256(st, 11, &b->amount);
    store_bind_u256(st, 12, &b->fee);
    sqlite3_bind_text(st, 13, b->operator_name, -1, SQLITE_TRANSIENT);
    if (b->has_burn_tx)
        store_bind_hash(st, 14, b->burn_tx);
    store_bind_u64(st, 15, b->burn_block);
    if (b->has_message) {
        sqlite3_bind_blob(st, 16, b->message, (int)b->message_len, SQLITE_TRANSIENT);
        store_bind_hash(st, 17, b->message_hash);
    }
    if (b->attestation_len)
        sqlite3_bind_blob(st, 18, b->attestation, (int)b->attestation_len, SQLITE_TRANSIENT);
    if (b->has_mint_tx)
        store_bind_hash(st, 19, b->mint_tx);
    store_bind_u64(st, 20, b->mint_block);
    if (b->pending_action[0]) {
        sqlite3_bind_text(st, 21, b->pending_action, -1, SQLITE_TRANSIENT);
        store_bind_hash(st, 23, b->pending_hash);
        sqlite3_bind_blob(st, 24, b->pending_raw, (int)b->pending_raw_len, SQLITE_TRANSIENT);
    }
    store_bind_u64(st, 22, b->pending_chain);
    sqlite3_bind_text(st, 25, b->note, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 26, b->created_at ? b->created_at : now);
    sqlite3_bind_int64(st, 27, now);
    store_bind_u64(st, 28, b->dst_from_block);
}

int store_bridge_add(store *s, const store_bridge *b, int64_t *id, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ADD, e);
    if (!st)
        return -1;
    bind_all(st, b, store_now());
    if (store_exec_stmt(s, st, "recording a bridge transfer", e) < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_bridge_put(store *s, const store_bridge *b, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_PUT, e);
    if (!st)
        return -1;
    bind_all(st, b, store_now());
    sqlite3_bind_int64(st, 29, b->id);
    if (store_exec_stmt(s, st, "updating a bridge transfer", e) < 0)
        return -1;
    if (sqlite3_changes(s->db) != 1)
        return err_set(e, ERR_NOT_FOUND, "no bridge transfer %lld", (long long)b->id);
    return 0;
}

static int blob_into(sqlite3_stmt *st, int i, uint8_t *out, size_t cap, size_t *len)
{
    *len = 0;
    if (sqlite3_column_type(st, i) != SQLITE_BLOB)
        return 0;
    int n = sqlite3_column_bytes(st, i);
    if (n < 0 || (size_t)n > cap)
        return -1;
    if (n > 0)
        memcpy(out, sqlite3_column_blob(st, i), (size_t)n);
    *len = (size_t)n;
    return 0;
}

static int read_row(sqlite3_stmt *st, void *item, err *e)
{
    store_bridge *b = item;
    memset(b, 0, sizeof *b);
    store_copy_text(st, 0, b->protocol, sizeof b->protocol);
    store_copy_text(st, 1, b->state, sizeof b->state);
    b->src_chain = store_col_u64(st, 2);
    b->dst_chain = store_col_u64(st, 3);
    b->src_domain = (uint32_t)store_col_u64(st, 4);
    b->dst_domain = (uint32_t)store_col_u64(st, 5);
    int bad = store_col_addr(st, 6, &b->sender) | store_col_addr(st, 7, &b->recipient) |
              store_col_addr(st, 8, &b->token_src) | store_col_addr(st, 9, &b->token_dst) |
              store_col_u256(st, 10, &b->amount) | store_col_u256(st, 11, &b->fee);
    store_copy_text(st, 12, b->operator_name, sizeof b->operator_name);
    if (sqlite3_column_type(st, 13) != SQLITE_NULL) {
        b->has_burn_tx = true;
        bad |= store_col_hash(st, 13, b->burn_tx);
    }
    b->burn_block = store_col_u64(st, 14);
    bad |= blob_into(st, 15, b->message, sizeof b->message, &b->message_len);
    if (sqlite3_column_type(st, 16) != SQLITE_NULL) {
        b->has_message = true;
        bad |= store_col_hash(st, 16, b->message_hash);
    }
    bad |= blob_into(st, 17, b->attestation, sizeof b->attestation, &b->attestation_len);
    if (sqlite3_column_type(st, 18) != SQLITE_NULL) {
        b->has_mint_tx = true;
        bad |= store_col_hash(st, 18, b->mint_tx);
    }
    b->mint_block = store_col_u64(st, 19);
    if (sqlite3_column_type(st, 20) != SQLITE_NULL) {
        store_copy_text(st, 20, b->pending_action, sizeof b->pending_action);
        bad |= store_col_hash(st, 22, b->pending_hash);
        bad |= blob_into(st, 23, b->pending_raw, sizeof b->pending_raw, &b->pending_raw_len);
    }
    b->pending_chain = store_col_u64(st, 21);
    store_copy_text(st, 24, b->note, sizeof b->note);
    b->created_at = sqlite3_column_int64(st, 25);
    b->updated_at = sqlite3_column_int64(st, 26);
    b->dst_from_block = store_col_u64(st, 27);
    b->id = sqlite3_column_int64(st, 28);
    if (bad)
        return err_set(e, ERR_INVALID, "bridge transfer %lld has a malformed column",
                       (long long)b->id);
    return 0;
}

int store_bridge_get(store *s, int64_t id, store_bridge *out, bool *found, err *e)
{
    *found = false;
    sqlite3_stmt *st = store_stmt(s, SQL_GET, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return store_get_row(s, st, read_row, out, found, "reading a bridge transfer", e);
}

int store_bridge_list(store *s, store_bridge **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_LIST, e);
    if (!st)
        return -1;
    return store_collect(s, st, sizeof **out, read_row, (void **)out, n,
                         "listing bridge transfers", e);
}

/* ---- bridge_cctp ---- */

static const char SQL_CCTP_PUT[] =
    "INSERT INTO bridge_cctp (chain_id, domain, token_messenger, message_transmitter, usdc,"
    " attestation_url) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chain_id) DO UPDATE SET"
    " domain = excluded.domain, token_messenger = excluded.token_messenger,"
    " message_transmitter = excluded.message_transmitter, usdc = excluded.usdc,"
    " attestation_url = excluded.attestation_url";
static const char SQL_CCTP_GET[] =
    "SELECT chain_id, domain, token_messenger, message_transmitter, usdc, attestation_url"
    " FROM bridge_cctp WHERE chain_id = ?";

int store_bridge_cctp_put(store *s, const store_bridge_cctp *c, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_CCTP_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, c->chain_id);
    store_bind_u64(st, 2, c->domain);
    store_bind_addr(st, 3, &c->token_messenger);
    store_bind_addr(st, 4, &c->message_transmitter);
    store_bind_addr(st, 5, &c->usdc);
    sqlite3_bind_text(st, 6, c->attestation_url, -1, SQLITE_TRANSIENT);
    return store_exec_stmt(s, st, "recording a chain's bridge contracts", e);
}

static int read_cctp(sqlite3_stmt *st, void *item, err *e)
{
    store_bridge_cctp *c = item;
    memset(c, 0, sizeof *c);
    c->chain_id = store_col_u64(st, 0);
    c->domain = (uint32_t)store_col_u64(st, 1);
    int bad = store_col_addr(st, 2, &c->token_messenger) |
              store_col_addr(st, 3, &c->message_transmitter) | store_col_addr(st, 4, &c->usdc);
    store_copy_text(st, 5, c->attestation_url, sizeof c->attestation_url);
    if (bad)
        return err_set(e, ERR_INVALID, "the bridge contracts of chain %llu are malformed",
                       (unsigned long long)c->chain_id);
    return 0;
}

int store_bridge_cctp_get(store *s, uint64_t chain_id, store_bridge_cctp *out, bool *found, err *e)
{
    *found = false;
    sqlite3_stmt *st = store_stmt(s, SQL_CCTP_GET, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    return store_get_row(s, st, read_cctp, out, found, "reading a chain's bridge contracts", e);
}

int store_bridge_cctp_set_url(store *s, const char *url, err *e)
{
    sqlite3_stmt *st = store_stmt(s, "UPDATE bridge_cctp SET attestation_url = ?", e);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, url, -1, SQLITE_TRANSIENT);
    return store_exec_stmt(s, st, "setting the attestation service", e);
}
