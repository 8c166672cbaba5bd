/* cmd_reindex.c: `fusion reindex [--chain NAME]`: rebuilds the escrow projections
 * from the stored events in one transaction (after an upgrade of the projection
 * code, or to check that the tables agree with the events). The events themselves
 * are untouched; safe while a sync runs, since both derive from the same events.
 * On a desk whose book is on a server (book.conf), the server's projection, from the
 * server's events, one transaction per chain (desk.db holds no events there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "pgstore/pg_desk.h"
#include "pgstore/pgstore.h"
#include "store/store.h"
#include "sync/sync.h"

/* The book's server: the chains desk.db configures (or the one named), checked there
 * (pg_book_check: the server answers and holds them), then projected again. Closes db. */
static int reindex_on_server(store *db, uint64_t chain_id, const pg_desk_book *book)
{
    err e;
    err_clear(&e);
    store_chain *chains = NULL;
    size_t n = 0, k = 0;
    int rc = chain_id ? 0 : store_chain_list(db, &chains, &n, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    uint64_t *ids = calloc(n ? n : 1, sizeof *ids);
    if (!ids) {
        free(chains);
        err_set(&e, ERR_NOMEM, "out of memory");
        return cli_fail(&e);
    }
    if (chain_id)
        ids[k++] = chain_id;
    for (size_t i = 0; i < n; i++)
        ids[k++] = chains[i].chain_id;
    free(chains);
    void *conn = NULL;
    size_t rebuilt = 0;
    rc = pg_book_check(book->url, ids, k, &e);
    if (rc == 0)
        rc = pg_book.open(&conn, book->url, &e);
    if (rc == 0)
        rc = sync_reindex_book(&pg_book, conn, ids, k, &rebuilt, &e);
    if (conn)
        pg_book.close(&conn);
    free(ids);
    if (rc < 0)
        return cli_fail(&e);
    LOG_I("reindex", "rebuilt %zu escrow projections from the events on the server %s",
          rebuilt, book->shown);
    printf("rebuilt %zu escrow%s from stored events on the server %s\n", rebuilt,
           rebuilt == 1 ? "" : "s", book->shown);
    return EXIT_OK;
}

int cmd_reindex(cli_ctx *ctx, int argc, char **argv)
{
    const char *chain_name = NULL;
    const cli_opt opts[] = {
        {"chain", CLI_OPT_STR, &chain_name},
    };
    int u = cli_opts_n("reindex", argc, argv, opts, CLI_NOPTS(opts), 0, NULL);
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    if (cli_home_existing(ctx, &e) < 0)
        return cli_fail(&e);
    char path[4200];
    snprintf(path, sizeof path, "%s/fusion.log", ctx->home);
    if (log_open(path, &e) < 0)
        return cli_fail(&e);
    snprintf(path, sizeof path, "%s/desk.db", ctx->home);
    store *db = NULL;
    if (store_open(&db, path, &e) < 0)
        return cli_fail(&e);
    uint64_t chain_id = 0;
    if (chain_name) {
        store_chain ch;
        bool found;
        if (store_chain_find_name(db, chain_name, &ch, &found, &e) < 0) {
            store_close(&db);
            return cli_fail(&e);
        }
        if (!found) {
            store_close(&db);
            err_set(&e, ERR_NOT_FOUND, "no chain named \"%s\" (see `fusion chain list`)",
                    chain_name);
            return cli_fail(&e);
        }
        chain_id = ch.chain_id;
    }
    pg_desk_book book;
    if (pg_desk_book_read(ctx->home, &book, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    if (book.present)
        return reindex_on_server(db, chain_id, &book);
    size_t n = 0;
    int rc = sync_reindex(db, chain_id, &n, &e);
    if (rc == 0) /* the search index is keyed by rowid: rebuilt whole, whatever the chain */
        rc = store_escrow_search_rebuild(db, &e);
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    LOG_I("reindex", "rebuilt %zu escrow projections from stored events", n);
    printf("rebuilt %zu escrow%s from stored events\n", n, n == 1 ? "" : "s");
    return EXIT_OK;
}
