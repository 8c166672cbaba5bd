/* cmd_reindex.c: `fusion reindex [--chain NAME]`: rebuilds the escrow projections
 * from the stored events in one transaction (after an upgrade of the projection
 * code, or to check that the tables agree with the events). The events themselves
 * are untouched; safe while a sync runs, since both derive from the same events. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "store/store.h"
#include "sync/sync.h"

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
