/* cmd_lists.c: `fusion lists import|list`: the screening lists the desk imports from
 * their publishers (OFAC SDN.CSV and advanced XML, the FATF jurisdiction file, a plain
 * address list) as versions, each a compliance officer's signed decision. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "cli/compliance_cli.h"
#include "cli/opts.h"

static int lists_import(cli_ctx *ctx, int argc, char **argv)
{
    const char *format = NULL, *name = NULL, *published = NULL;
    cli_opt opts[] = {{"format", CLI_OPT_STR, &format},
                      {"name", CLI_OPT_STR, &name},
                      {"published", CLI_OPT_STR, &published}};
    size_t n_pos = 0;
    int u = cli_opts("lists import", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos != 1 || !format)
        return cli_usage("lists import", "needs FILE and --format sdn-csv|ofac-xml|fatf|plain");
    err e;
    err_clear(&e);
    store *db = NULL;
    compliance_actor a = ccli_actor(ctx);
    store_list_version v;
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 ||
        compliance_list_import(db, &a, argv[1], format, name, published, &v, &e) < 0) {
        rc = cli_fail(&e);
    } else {
        printf("imported list %s version %lld (%s, published %s, sha256 %.16s): %lld addresses "
               "or jurisdictions, %lld other-chain addresses skipped; %lld added, %lld removed "
               "since the previous version; the money in flight is re-screened at the next "
               "screening pass\n",
               v.name, (long long)v.id, v.format, v.published, v.sha256, (long long)v.n_entries,
               (long long)v.n_skipped, (long long)v.n_added, (long long)v.n_removed);
    }
    store_close(&db);
    return rc;
}

static int lists_list(cli_ctx *ctx, int argc, char **argv)
{
    bool all = false, as_json = ctx->json;
    cli_opt opts[] = {{"all", CLI_OPT_FLAG, &all}, {"json", CLI_OPT_FLAG, &as_json}};
    size_t n_pos = 0;
    int u = cli_opts("lists list", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos != 0)
        return cli_usage("lists list", "takes no arguments");
    err e;
    err_clear(&e);
    store *db = NULL;
    store_list_version *vs = NULL;
    size_t n = 0;
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 || store_list_versions(db, NULL, !all, &vs, &n, &e) < 0) {
        rc = cli_fail(&e);
        goto out;
    }
    if (as_json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++) {
            const store_list_version *v = &vs[i];
            json_array_append_new(
                arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:I}", "version",
                               (json_int_t)v->id, "name", v->name, "kind", v->kind, "format",
                               v->format, "source", v->source, "published", v->published,
                               "sha256", v->sha256, "entries", (json_int_t)v->n_entries,
                               "skipped", (json_int_t)v->n_skipped, "added",
                               (json_int_t)v->n_added, "removed", (json_int_t)v->n_removed,
                               "imported_at", (json_int_t)v->imported_at, "operator",
                               v->operator_name, "rescreened_at", (json_int_t)v->rescreened_at));
        }
        char *s = arr ? json_dumps(arr, JSON_INDENT(2)) : NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(arr);
        goto out;
    }
    if (!n)
        printf("no imported lists: screening uses the shipped OFAC snapshot (fusion lists "
               "import)\n");
    for (size_t i = 0; i < n; i++) {
        const store_list_version *v = &vs[i];
        char src[80];
        printf("v%-4lld %-16s %-8s %-10s %-24s %6lld entries  +%lld -%lld  sha256 %.16s  by %s%s\n",
               (long long)v->id, v->name, v->format, v->published,
               text_safe_str(src, sizeof src, v->source), (long long)v->n_entries,
               (long long)v->n_added, (long long)v->n_removed, v->sha256, v->operator_name,
               v->rescreened_at ? "" : "  (re-screening due)");
    }
out:
    free(vs);
    store_close(&db);
    return rc;
}

int cmd_lists(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("lists", "needs a subcommand: import or list");
    if (!strcmp(argv[1], "import"))
        return lists_import(ctx, argc - 1, argv + 1);
    if (!strcmp(argv[1], "list"))
        return lists_list(ctx, argc - 1, argv + 1);
    return cli_usage("lists", "unknown subcommand '%s' (import, list)", argv[1]);
}
