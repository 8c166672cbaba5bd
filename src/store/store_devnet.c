/* store_devnet.c: which asset each configured price feed prices (feed_assets), written by
 * `fusion devnet up` and read by whoever values positions (the risk service). */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

static const char SQL_FEED_DEL[] =
    "DELETE FROM feed_assets WHERE chain_id = ? AND (address = ? OR (asset = ? AND quote = ?))";
static const char SQL_FEED_PUT[] =
    "INSERT INTO feed_assets (chain_id, address, asset, quote, decimals) VALUES (?, ?, ?, ?, ?)";
static const char SQL_FEED_LIST[] =
    "SELECT chain_id, address, asset, quote, decimals FROM feed_assets"
    " WHERE ?1 = 0 OR chain_id = ?1 ORDER BY chain_id, asset, quote";

int store_feed_put(store *s, const store_feed *f, err *e)
{
    const char *quote = f->quote[0] ? f->quote : "USD";
    sqlite3_stmt *st = store_stmt(s, SQL_FEED_DEL, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, f->chain_id);
    store_bind_addr(st, 2, &f->address);
    sqlite3_bind_text(st, 3, f->asset, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, quote, -1, SQLITE_TRANSIENT);
    if (store_exec_stmt(s, st, "replacing a price feed", e) < 0)
        return -1;
    st = store_stmt(s, SQL_FEED_PUT, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, f->chain_id);
    store_bind_addr(st, 2, &f->address);
    sqlite3_bind_text(st, 3, f->asset, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, quote, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, (int)f->decimals);
    return store_exec_stmt(s, st, "recording a price feed", e);
}

int store_feed_list(store *s, uint64_t chain_id, store_feed **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_FEED_LIST, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_feed *items = NULL;
    size_t cap = 0, cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (store_grow((void **)&items, &cap, cnt, sizeof *items, e) < 0)
            goto fail;
        store_feed *p = &items[cnt++];
        memset(p, 0, sizeof *p);
        p->chain_id = store_col_u64(st, 0);
        if (store_col_addr(st, 1, &p->address) < 0) {
            err_set(e, ERR_INVALID, "the feed_assets table has a malformed address");
            goto fail;
        }
        store_copy_text(st, 2, p->asset, sizeof p->asset);
        store_copy_text(st, 3, p->quote, sizeof p->quote);
        p->decimals = (unsigned)sqlite3_column_int(st, 4);
    }
    if (rc != SQLITE_DONE) {
        store_fail(s, e, "listing price feeds");
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
