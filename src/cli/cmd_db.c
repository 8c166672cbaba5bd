/* cmd_db.c: `fusion db status`: where the desk keeps its book (book.conf), `fusion db
 * migrate --to postgresql://...`: the desk's SQLite book copied to an
 * empty database on a PostgreSQL server, verified table by table before it commits
 * (src/pgstore), and `fusion db upgrade`: the server's own steps applied to an older one.
 * The desk itself is only read. The URL's password, if it has one, is never printed;
 * credentials may also come from PGPASSFILE/~/.pgpass or PGPASSWORD. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "pgstore/pgstore.h"
#include "store/store.h"

static int db_migrate(cli_ctx *ctx, int argc, char **argv)
{
    const char *to = NULL;
    bool json = false;
    const cli_opt opts[] = {
        {"to", CLI_OPT_STR, &to},
        {"json", CLI_OPT_FLAG, &json},
    };
    size_t n_pos;
    int u = cli_opts("db migrate", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("db migrate", "unexpected argument '%s'", argv[1]);
    if (!to || !*to)
        return cli_usage("db migrate", "needs --to postgresql://[USER@]HOST/DB");
    if (!pg_url_is_pg(to)) {
        char shown[512];
        pg_url_redact(to, shown, sizeof shown);
        return cli_usage("db migrate", "--to '%s' is not a postgresql:// URL", shown);
    }
    err e;
    err_clear(&e);
    store *db = NULL;
    /* opened once through the store: the desk is brought to the current schema first */
    if (cli_desk_open(ctx, &db, &e) < 0)
        return cli_fail(&e);
    char path[4200];
    snprintf(path, sizeof path, "%s", store_path(db));
    store_close(&db);
    pg_migrate_report r;
    if (pg_migrate(path, to, &r, &e) < 0)
        return cli_fail(&e);
    char shown[512];
    pg_url_redact(to, shown, sizeof shown);
    if (json) {
        json_t *o = json_object(), *tabs = json_array();
        json_object_set_new(o, "to", json_string(shown));
        json_object_set_new(o, "schema_version", json_integer(r.version));
        json_object_set_new(o, "rows", json_integer((json_int_t)r.rows));
        for (size_t i = 0; i < r.n_tables; i++) {
            json_t *t = json_object();
            json_object_set_new(t, "table", json_string(r.tables[i].name));
            json_object_set_new(t, "rows", json_integer((json_int_t)r.tables[i].rows));
            json_object_set_new(t, "sha256", json_string(r.tables[i].sha256));
            json_array_append_new(tabs, t);
        }
        json_object_set_new(o, "tables", tabs);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
    } else {
        printf("copied %zu tables, %" PRIu64 " rows (schema %d) to %s; every table's rows "
               "verified on the server\n",
               r.n_tables, r.rows, r.version, shown);
    }
    pg_migrate_report_free(&r);
    return EXIT_OK;
}

/* `db upgrade [--db URL]`: the server's own steps (pgstore/pg_upgrade.c) on the desk's
 * server (book.conf) or the one named, each once however many workstations run it. */
static int db_upgrade(cli_ctx *ctx, int argc, char **argv)
{
    const char *url = NULL;
    bool json = false;
    const cli_opt opts[] = {
        {"db", CLI_OPT_STR, &url},
        {"json", CLI_OPT_FLAG, &json},
    };
    size_t n_pos;
    int u = cli_opts("db upgrade", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("db upgrade", "unexpected argument '%s'", argv[1]);
    json = json || ctx->json;
    err e;
    err_clear(&e);
    pg_desk_book b;
    memset(&b, 0, sizeof b);
    if (url) {
        if (!pg_url_is_pg(url)) {
            char shown[512];
            pg_url_redact(url, shown, sizeof shown);
            return cli_usage("db upgrade", "--db '%s' is not a postgresql:// URL", shown);
        }
    } else {
        if (cli_home_existing(ctx, &e) < 0 || pg_desk_book_read(ctx->home, &b, &e) < 0)
            return cli_fail(&e);
        if (!b.present)
            return cli_usage("db upgrade",
                             "the desk's book is %s/desk.db (no %s): give the server with "
                             "--db postgresql://[USER@]HOST/DB",
                             ctx->home, PG_DESK_BOOK_FILE);
        url = b.url;
    }
    pg_upgrade_report r;
    if (pg_server_upgrade(url, &r, &e) < 0)
        return cli_fail(&e);
    char shown[512];
    pg_url_redact(url, shown, sizeof shown);
    if (json) {
        json_t *o = json_object(), *steps = json_array();
        json_object_set_new(o, "server", json_string(shown));
        json_object_set_new(o, "from", json_integer(r.from));
        json_object_set_new(o, "to", json_integer(r.to));
        for (size_t i = 0; i < r.n_applied; i++)
            json_array_append_new(steps, json_pack("{s:i,s:s}", "version", r.applied[i], "what",
                                                   pg_upgrade_step_what(r.applied[i])));
        json_object_set_new(o, "applied", steps);
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
        return EXIT_OK;
    }
    if (r.n_applied == 0) {
        printf("the book on %s is at server version %d, this fusion's: nothing to do\n", shown,
               r.to);
        return EXIT_OK;
    }
    for (size_t i = 0; i < r.n_applied; i++)
        printf("step %d: %s\n", r.applied[i], pg_upgrade_step_what(r.applied[i]));
    printf("the book on %s: server version %d -> %d\n", shown, r.from, r.to);
    return EXIT_OK;
}

#define DB_ON_SERVER                                                                               \
    "each chain's events, block hashes and checkpoint, the escrows and their totals, vault "       \
    "flows, inflows, the bridge legs the sync sees"
#define DB_IN_DESK                                                                                 \
    "everything else: the chains' configuration and endpoints, bridge transfers, "                 \
    "transactions, operators, cases, entities, lists, credit, risk alerts (audit.log beside "      \
    "it); the UI's escrows, approvals, chains and dashboard risk, the API's escrows, "             \
    "`escrow list` and `show` and the legs of `bridge list` and `show` are read from the "         \
    "server, every other read from desk.db"
#define DB_TXS_ON_SERVER                                                                          \
    "the desk's transactions, recorded there by its signing actions (the command line's, the " \
    "terminal UI's, the swap and bridge services'; desk.db keeps its copy)"

/* `db status`: where the desk keeps its book (book.conf, or desk.db) and what lives where.
 * Reads the desk's files only: no connection to the server. */
static int db_status(cli_ctx *ctx, int argc, char **argv)
{
    bool json = false;
    const cli_opt opts[] = {{"json", CLI_OPT_FLAG, &json}};
    size_t n_pos;
    int u = cli_opts("db status", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("db status", "unexpected argument '%s'", argv[1]);
    json = json || ctx->json;
    err e;
    err_clear(&e);
    pg_desk_book b;
    if (cli_home_existing(ctx, &e) < 0 || pg_desk_book_read(ctx->home, &b, &e) < 0)
        return cli_fail(&e);
    if (json) {
        json_t *o = json_pack("{s:s,s:s?,s:s?,s:s?,s:s}", "book",
                              b.present ? "postgresql" : "desk.db", "server",
                              b.present ? b.shown : NULL, "on_server",
                              b.present ? DB_ON_SERVER : NULL, "transactions_on_server",
                              b.present ? DB_TXS_ON_SERVER : NULL, "in_desk_db",
                              b.present ? DB_IN_DESK : "everything");
        cli_json_print(o, JSON_INDENT(2));
        json_decref(o);
        return EXIT_OK;
    }
    if (!b.present) {
        printf("book: %s/desk.db (no %s): everything is in desk.db\n", ctx->home,
               PG_DESK_BOOK_FILE);
        return EXIT_OK;
    }
    printf("book: %s (%s/%s)\n", b.shown, ctx->home, PG_DESK_BOOK_FILE);
    printf("on the server: %s (fusion sync, the UI's sync threads)\n", DB_ON_SERVER);
    printf("on the server too: %s\n", DB_TXS_ON_SERVER);
    printf("in desk.db: %s\n", DB_IN_DESK);
    return EXIT_OK;
}

int cmd_db(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("db", "needs a subcommand: migrate, upgrade or status");
    if (!strcmp(argv[1], "migrate"))
        return db_migrate(ctx, argc - 1, argv + 1);
    if (!strcmp(argv[1], "upgrade"))
        return db_upgrade(ctx, argc - 1, argv + 1);
    if (!strcmp(argv[1], "status"))
        return db_status(ctx, argc - 1, argv + 1);
    return cli_usage("db", "unknown subcommand '%s' (migrate, upgrade or status)", argv[1]);
}
