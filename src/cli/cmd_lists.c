/* cmd_lists.c: `fusion lists import|list`: the screening lists the desk imports from
 * their publishers (OFAC SDN.CSV and advanced XML, the FATF jurisdiction file, a plain
 * address list) as versions, each a compliance officer's signed decision; and the Travel
 * Rule export `fusion case travel-rule`. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
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
    int u = cli_opts_n("lists list", argc, argv, opts, CLI_NOPTS(opts), 0, "takes no arguments");
    if (u != EXIT_OK)
        return u;
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
        cli_json_print(arr, JSON_INDENT(2));
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

/* `case travel-rule ESCROW|TX [--chain C]`: the IVMS101 data recorded with the desk's
 * funding of an escrow (TX: the desk's transaction), else built from the registry now. */
int ccli_case_travel_rule(cli_ctx *ctx, int argc, char **argv)
{
    const char *chain = NULL;
    cli_opt opts[] = {{"chain", CLI_OPT_STR, &chain}};
    int u = cli_opts_n("case travel-rule", argc, argv, opts, CLI_NOPTS(opts), 1,
                       "needs an escrow ADDRESS or a desk transaction hash");
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    int rc = EXIT_OK;
    char *json = NULL;
    json_t *built = NULL;
    uint64_t chain_id = 0;
    addr esc;
    bool found = false;
    if (cli_desk_open(ctx, &db, &e) < 0 || (chain && ccli_chain(db, chain, &chain_id, &e) < 0)) {
        rc = cli_fail(&e);
        goto out;
    }
    if (strlen(argv[1]) == 66) {
        uint8_t h[32];
        if (hex_decode_exact(h, 32, argv[1], HEX_REQUIRE_PREFIX, &e) < 0)
            return cli_usage("case travel-rule", "'%.70s' is not a transaction hash", argv[1]);
        store_chain *cs = NULL;
        size_t nc = 0;
        if (store_chain_list(db, &cs, &nc, &e) < 0) {
            rc = cli_fail(&e);
            goto out;
        }
        for (size_t i = 0; i < nc && !found; i++) {
            if (chain && cs[i].chain_id != chain_id)
                continue;
            store_outbound o;
            bool f = false;
            if (store_outbound_find_hash(db, cs[i].chain_id, h, &o, &f, &e) < 0) {
                free(cs);
                rc = cli_fail(&e);
                goto out;
            }
            if (f && o.has_escrow) {
                chain_id = cs[i].chain_id;
                esc = o.escrow;
                found = true;
            }
        }
        free(cs);
        if (!found) {
            err_set(&e, ERR_NOT_FOUND, "no desk transaction %.66s about an escrow", argv[1]);
            rc = cli_fail(&e);
            goto out;
        }
    } else {
        if (addr_parse(&esc, argv[1], &e) < 0)
            return cli_usage("case travel-rule", "%s", e.msg);
        if (!chain) {
            store_chain *cs = NULL;
            size_t nc = 0;
            if (store_chain_list(db, &cs, &nc, &e) < 0) {
                rc = cli_fail(&e);
                goto out;
            }
            for (size_t i = 0; i < nc && !found; i++) {
                store_escrow x;
                bool f = false;
                if (store_escrow_get(db, cs[i].chain_id, &esc, &x, &f, &e) == 0 && f) {
                    chain_id = cs[i].chain_id;
                    found = true;
                }
            }
            free(cs);
        }
    }
    bool rec = false;
    if (store_travel_record_get(db, chain_id, &esc, &json, &rec, &e) < 0) {
        rc = cli_fail(&e);
        goto out;
    }
    if (!rec) {
        store_escrow x;
        bool f = false;
        char missing[600];
        if (store_escrow_get(db, chain_id, &esc, &x, &f, &e) < 0) {
            rc = cli_fail(&e);
            goto out;
        }
        if (!f) {
            err_set(&e, ERR_NOT_FOUND, "no escrow %.42s in the desk database (run fusion sync)",
                    argv[1]);
            rc = cli_fail(&e);
            goto out;
        }
        if (compliance_travel_data(db, &x, -1, &built, missing, sizeof missing, &e) < 0) {
            rc = cli_fail(&e);
            goto out;
        }
        json_object_set_new(built, "recorded", json_false());
        json_object_set_new(built, "missing", json_string(missing));
        json = cli_json_text(built, JSON_INDENT(2) | JSON_SORT_KEYS);
    } else {
        json_t *j = json_loads(json, 0, NULL);
        free(json);
        json = NULL;
        if (j) {
            json_object_set_new(j, "recorded", json_true());
            json = cli_json_text(j, JSON_INDENT(2) | JSON_SORT_KEYS);
            json_decref(j);
        }
    }
    if (!json) {
        err_set(&e, ERR_NOMEM, "out of memory printing Travel Rule data");
        rc = cli_fail(&e);
        goto out;
    }
    printf("%s\n", json);
out:
    free(json);
    json_decref(built);
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
