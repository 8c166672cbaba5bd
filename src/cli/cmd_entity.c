/* cmd_entity.c: `fusion entity add|edit|show|list|link|import`, the KYC/KYB registry of
 * the desk (src/compliance/registry.c). Names are UTF-8 and printed as stored. */
#include "cli/compliance_cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bytes.h"
#include "base/text.h"
#include "cli/opts.h"

compliance_actor ccli_actor(const cli_ctx *ctx)
{
    return (compliance_actor){
        .home = ctx->home, .operator_name = ctx->operator_name, .now = (int64_t)time(NULL)};
}

int ccli_chain(store *db, const char *s, uint64_t *chain_id, err *e)
{
    if (strcmp(s, "any") == 0 || strcmp(s, "0") == 0) {
        *chain_id = 0;
        return 0;
    }
    store_chain ch;
    bool found = false;
    if (store_chain_find_name(db, s, &ch, &found, e) < 0)
        return -1;
    if (found) {
        *chain_id = ch.chain_id;
        return 0;
    }
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s && !*end && s[0] != '-') {
        *chain_id = v;
        return 0;
    }
    return err_set(e, ERR_NOT_FOUND,
                   "no chain named \"%.60s\" (a name from fusion chain list, "
                   "a chain id, or any)",
                   s);
}

/* Options shared by add and edit. */
typedef struct ent_opts {
    const char *type, *jurisdiction, *kyc, *kyc_expires, *tier, *risk, *review_due, *rename;
    const char *doc, *party;
    bool json, csv; /* csv: entity list only */
} ent_opts;

static int parse_opts(const char *cmd, cli_ctx *ctx, int argc, char **argv, ent_opts *o,
                      const char **name)
{
    memset(o, 0, sizeof *o);
    o->json = ctx->json;
    const cli_opt opts[] = {
        {"type", CLI_OPT_STR, &o->type},
        {"jurisdiction", CLI_OPT_STR, &o->jurisdiction},
        {"kyc", CLI_OPT_STR, &o->kyc},
        {"kyc-expires", CLI_OPT_STR, &o->kyc_expires},
        {"tier", CLI_OPT_STR, &o->tier},
        {"risk", CLI_OPT_STR, &o->risk},
        {"review-due", CLI_OPT_STR, &o->review_due},
        {"rename", CLI_OPT_STR, &o->rename},
        {"doc", CLI_OPT_STR, &o->doc},
        {"party", CLI_OPT_STR, &o->party},
        {"json", CLI_OPT_FLAG, &o->json},
        {"csv", CLI_OPT_FLAG, &o->csv},
    };
    size_t n_pos;
    int u = cli_opts(cmd, argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u == EXIT_OK && o->csv && strcmp(cmd, "entity list") != 0)
        u = cli_usage(cmd, "--csv is for `fusion entity list`");
    if (u == EXIT_OK)
        u = cli_json_or_csv(cmd, &o->json, o->csv);
    if (u != EXIT_OK)
        return u;
    if (name) {
        if (n_pos != 1)
            return cli_usage(cmd, "needs exactly one entity NAME");
        *name = argv[1];
    } else if (n_pos) {
        return cli_usage(cmd, "unexpected argument '%s'", argv[1]);
    }
    return 0;
}

static int apply_opts(const ent_opts *o, store_entity *x, err *e)
{
#define SET_(field, val)                                                                           \
    if (val) {                                                                                     \
        if (strlen(val) >= sizeof x->field)                                                        \
            return err_set(e, ERR_INVALID, "%s '%.30s' is too long", #field, val);                 \
        snprintf(x->field, sizeof x->field, "%s", val);                                            \
    }
    SET_(type, o->type)
    SET_(jurisdiction, o->jurisdiction)
    SET_(kyc, o->kyc)
    SET_(kyc_expires, o->kyc_expires)
    SET_(risk, o->risk)
    SET_(review_due, o->review_due)
    SET_(name, o->rename)
#undef SET_
    if (o->jurisdiction && strlen(o->jurisdiction) != 2)
        return err_set(e, ERR_INVALID,
                       "jurisdiction '%.8s' is not an ISO 3166-1 alpha-2 code "
                       "(two capital letters, e.g. CH)",
                       o->jurisdiction);
    if (o->tier) {
        char *end;
        long t = strtol(o->tier, &end, 10);
        if (*end || t < 1 || t > 5)
            return err_set(e, ERR_INVALID, "tier '%.8s' is not 1..5", o->tier);
        x->tier = (int)t;
    }
    return 0;
}

static int find_entity(store *db, const char *name, store_entity *x, err *e)
{
    bool found = false;
    if (store_entity_find_name(db, name, x, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no entity named \"%.120s\" (fusion entity list)", name);
    return 0;
}

/* --doc TYPE:FILE and --party NAME:ROLE, after the entity exists. */
static int extras(store *db, const compliance_actor *a, const store_entity *x, const ent_opts *o,
                  err *e)
{
    if (o->doc) {
        const char *colon = strchr(o->doc, ':');
        if (!colon)
            return err_set(e, ERR_USAGE, "--doc takes TYPE:FILE (e.g. passport:scan.pdf)");
        char type[64];
        snprintf(type, sizeof type, "%.*s", (int)(colon - o->doc), o->doc);
        if (compliance_entity_add_doc(db, a, x->id, type, colon + 1, e) < 0)
            return -1;
    }
    if (o->party) {
        const char *colon = strrchr(o->party, ':');
        if (!colon)
            return err_set(e, ERR_USAGE, "--party takes NAME:ROLE (e.g. 'Jane Doe:director')");
        char pname[STORE_ENTITY_NAME_MAX];
        snprintf(pname, sizeof pname, "%.*s", (int)(colon - o->party), o->party);
        store_entity p;
        if (find_entity(db, pname, &p, e) < 0 ||
            compliance_entity_add_party(db, a, x->id, p.id, colon + 1, e) < 0)
            return -1;
    }
    return 0;
}

static int ent_add(cli_ctx *ctx, int argc, char **argv)
{
    ent_opts o;
    const char *name = NULL;
    int u = parse_opts("entity add", ctx, argc, argv, &o, &name);
    if (u)
        return u;
    if (!o.type || !o.jurisdiction)
        return cli_usage("entity add", "needs --type individual|company and --jurisdiction CC");
    err e;
    err_clear(&e);
    store_entity x = {.tier = 1};
    snprintf(x.kyc, sizeof x.kyc, "pending");
    snprintf(x.risk, sizeof x.risk, "medium");
    if (strlen(name) >= sizeof x.name)
        return cli_usage("entity add", "name is too long (at most %d bytes)",
                         STORE_ENTITY_NAME_MAX - 2);
    snprintf(x.name, sizeof x.name, "%s", name);
    if (o.rename)
        return cli_usage("entity add", "--rename is for edit");
    if (apply_opts(&o, &x, &e) < 0)
        return cli_fail(&e);
    store *db = NULL;
    compliance_actor a = ccli_actor(ctx);
    int rc = EXIT_OK;
    if (cli_desk_create(ctx, &db, &e) < 0 || compliance_entity_add(db, &a, &x, &e) < 0 ||
        extras(db, &a, &x, &o, &e) < 0)
        rc = cli_fail(&e);
    else
        printf("entity #%lld %s added\n", (long long)x.id, x.name);
    store_close(&db);
    return rc;
}

static int ent_edit(cli_ctx *ctx, int argc, char **argv)
{
    ent_opts o;
    const char *name = NULL;
    int u = parse_opts("entity edit", ctx, argc, argv, &o, &name);
    if (u)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    store_entity x;
    compliance_actor a = ccli_actor(ctx);
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 || find_entity(db, name, &x, &e) < 0 ||
        apply_opts(&o, &x, &e) < 0 || compliance_entity_edit(db, &a, &x, &e) < 0 ||
        extras(db, &a, &x, &o, &e) < 0)
        rc = cli_fail(&e);
    else
        printf("entity #%lld %s updated\n", (long long)x.id, x.name);
    store_close(&db);
    return rc;
}

static json_t *entity_json(store *db, const store_entity *x, err *e)
{
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s?,s:i,s:s,s:s?,s:b}", "id", (json_int_t)x->id,
                          "name", x->name, "type", x->type, "jurisdiction", x->jurisdiction, "kyc",
                          x->kyc, "kyc_expires", x->kyc_expires[0] ? x->kyc_expires : NULL, "tier",
                          x->tier, "risk", x->risk, "review_due",
                          x->review_due[0] ? x->review_due : NULL, "blocked", x->blocked);
    store_entity_link *ls = NULL;
    store_entity_doc *ds = NULL;
    store_related_party *ps = NULL;
    size_t nl = 0, nd = 0, np = 0;
    if (!o || store_entity_links(db, x->id, &ls, &nl, e) < 0 ||
        store_entity_docs(db, x->id, &ds, &nd, e) < 0 ||
        store_related_parties(db, x->id, &ps, &np, e) < 0) {
        json_decref(o);
        free(ls);
        free(ds);
        return NULL;
    }
    json_t *la = json_array(), *da = json_array(), *pa = json_array();
    for (size_t i = 0; i < nl; i++) {
        char s[ADDR_STR_MAX];
        addr_to_lower(s, &ls[i].address);
        json_array_append_new(
            la, json_pack("{s:I,s:s}", "chain_id", (json_int_t)ls[i].chain_id, "address", s));
    }
    for (size_t i = 0; i < nd; i++) {
        char h[65];
        if (hex_encode(h, sizeof h, ds[i].sha256, 32, false) == 0)
            h[0] = '\0';
        json_array_append_new(da, json_pack("{s:s,s:s,s:s}", "type", ds[i].doc_type, "sha256", h,
                                            "file", ds[i].file_name));
    }
    for (size_t i = 0; i < np; i++) {
        store_entity p;
        bool found = false;
        err pe;
        if (store_entity_get(db, ps[i].party_id, &p, &found, &pe) < 0 || !found)
            snprintf(p.name, sizeof p.name, "?");
        json_array_append_new(pa, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)ps[i].party_id,
                                            "name", p.name, "role", ps[i].role));
    }
    free(ls);
    free(ds);
    free(ps);
    json_object_set_new(o, "addresses", la);
    json_object_set_new(o, "documents", da);
    json_object_set_new(o, "related_parties", pa);
    return o;
}

/* Room for a stored text made safe without a cut (an escape is at most 6 bytes per byte). */
#define SHOWN_MAX (6 * STORE_ENTITY_NAME_MAX + 1)

/* Member k of o made safe to print: rows stored before names were checked, or edited in
 * the database by hand, are shown with their controls and bidi marks as escapes. */
static const char *shown(char out[SHOWN_MAX], const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return text_safe_str(out, SHOWN_MAX, v ? v : "-");
}

static void print_entity(const json_t *o)
{
    char a[SHOWN_MAX], b[SHOWN_MAX], c[SHOWN_MAX];
    printf("entity #%lld  %s\n", (long long)json_integer_value(json_object_get(o, "id")),
           shown(a, o, "name"));
    const char *keys[] = {"type", "jurisdiction", "kyc", "kyc_expires", "risk", "review_due"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        printf("  %-13s %s\n", keys[i], shown(a, o, keys[i]));
    printf("  %-13s %lld\n  %-13s %s\n", "tier",
           (long long)json_integer_value(json_object_get(o, "tier")), "blocked",
           json_is_true(json_object_get(o, "blocked")) ? "YES" : "no");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "addresses"), i, v)
    {
        /* the JSON carries the lowercase form; people read EIP-55 */
        const char *as = json_string_value(json_object_get(v, "address"));
        char cs[ADDR_STR_MAX];
        addr ad;
        err pe;
        if (as && addr_parse(&ad, as, &pe) == 0) {
            addr_to_checksum(cs, &ad);
            as = cs;
        } else {
            as = shown(a, v, "address");
        }
        printf("  address       %s on chain %lld\n", as,
               (long long)json_integer_value(json_object_get(v, "chain_id")));
    }
    json_array_foreach(json_object_get(o, "documents"), i, v)
        printf("  document      %s sha256 %s (%s)\n", shown(a, v, "type"), shown(b, v, "sha256"),
               shown(c, v, "file"));
    json_array_foreach(json_object_get(o, "related_parties"), i, v)
        printf("  party         %s: %s\n", shown(a, v, "role"), shown(b, v, "name"));
}

static int ent_show(cli_ctx *ctx, int argc, char **argv)
{
    ent_opts o;
    const char *name = NULL;
    int u = parse_opts("entity show", ctx, argc, argv, &o, &name);
    if (u)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    store_entity x;
    json_t *j = NULL;
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 || find_entity(db, name, &x, &e) < 0 ||
        !(j = entity_json(db, &x, &e))) {
        rc = cli_fail(&e);
    } else if (o.json) {
        cli_json_print(j, JSON_INDENT(2));
    } else {
        print_entity(j);
    }
    json_decref(j);
    store_close(&db);
    return rc;
}

static int ent_list(cli_ctx *ctx, int argc, char **argv)
{
    ent_opts o;
    int u = parse_opts("entity list", ctx, argc, argv, &o, NULL);
    if (u)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    store_entity *xs = NULL;
    size_t n = 0;
    if (cli_desk_open(ctx, &db, &e) < 0 || store_entity_list(db, &xs, &n, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    int rc = EXIT_OK;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = entity_json(db, &xs[i], &e);
        if (!j) {
            rc = cli_fail(&e);
            break;
        }
        if (o.json)
            json_array_append_new(arr, j);
        else {
            char nm[SHOWN_MAX], jur[32], exp[64];
            printf("#%-5lld %-10s %-2s %-9s %-10s %-6s %s%s\n", (long long)xs[i].id, xs[i].type,
                   text_safe_str(jur, sizeof jur, xs[i].jurisdiction), xs[i].kyc,
                   xs[i].kyc_expires[0] ? text_safe_str(exp, sizeof exp, xs[i].kyc_expires) : "-",
                   xs[i].risk, text_safe_str(nm, sizeof nm, xs[i].name),
                   xs[i].blocked ? "  [BLOCKED]" : "");
            json_decref(j);
        }
    }
    if (rc == EXIT_OK && o.csv) {
        rc = cli_csv_print(arr);
    } else if (rc == EXIT_OK && o.json) {
        cli_json_print(arr, JSON_INDENT(2));
    }
    json_decref(arr);
    free(xs);
    store_close(&db);
    return rc;
}

static int ent_link(cli_ctx *ctx, int argc, char **argv)
{
    const char *chain = NULL, *address = NULL;
    const cli_opt opts[] = {
        {"chain", CLI_OPT_STR, &chain},
        {"address", CLI_OPT_STR, &address},
    };
    size_t n_pos;
    int u = cli_opts("entity link", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos != 1 || !chain || !address)
        return cli_usage("entity link", "usage: fusion entity link NAME --chain C --address ADDR");
    err e;
    err_clear(&e);
    addr a;
    if (addr_parse(&a, address, &e) < 0)
        return cli_usage("entity link", "%s", e.msg);
    store *db = NULL;
    store_entity x;
    uint64_t chain_id = 0;
    compliance_actor act = ccli_actor(ctx);
    int rc = EXIT_OK;
    if (cli_desk_open(ctx, &db, &e) < 0 || find_entity(db, argv[1], &x, &e) < 0 ||
        ccli_chain(db, chain, &chain_id, &e) < 0 ||
        compliance_entity_link(db, &act, x.id, chain_id, &a, &e) < 0) {
        rc = cli_fail(&e);
    } else {
        char s[ADDR_STR_MAX];
        addr_to_checksum(s, &a);
        printf("%s linked to %s on %s\n", s, x.name, chain_id ? chain : "every chain");
    }
    store_close(&db);
    return rc;
}

static int ent_import(cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2)
        return cli_usage("entity import", "usage: fusion entity import FILE.csv");
    err e;
    err_clear(&e);
    store *db = NULL;
    compliance_actor a = ccli_actor(ctx);
    compliance_import_report r;
    memset(&r, 0, sizeof r);
    int rc = EXIT_OK;
    if (cli_desk_create(ctx, &db, &e) < 0) {
        rc = cli_fail(&e);
    } else if (compliance_entity_import(db, &a, argv[1], &r, &e) < 0) {
        for (size_t i = 0; i < r.n_errors; i++)
            cli_errorf("%s:%zu: %s", argv[1], r.errors[i].line, r.errors[i].msg);
        if (r.n_more)
            cli_errorf("%s: %zu more bad lines not listed", argv[1], r.n_more);
        rc = cli_fail(&e);
    } else {
        printf("imported %zu entities from %s\n", r.n_imported, argv[1]);
    }
    compliance_import_report_free(&r);
    store_close(&db);
    return rc;
}

/* `entity travel NAME --street ...`: an entity's IVMS101 fields (a signed decision). */
int ccli_entity_travel(cli_ctx *ctx, int argc, char **argv)
{
    const char *street = NULL, *town = NULL, *postcode = NULL, *country = NULL, *nid = NULL,
               *nid_type = NULL, *bdate = NULL, *bplace = NULL;
    cli_opt opts[] = {{"street", CLI_OPT_STR, &street},
                      {"town", CLI_OPT_STR, &town},
                      {"postcode", CLI_OPT_STR, &postcode},
                      {"address-country", CLI_OPT_STR, &country},
                      {"national-id", CLI_OPT_STR, &nid},
                      {"national-id-type", CLI_OPT_STR, &nid_type},
                      {"birth-date", CLI_OPT_STR, &bdate},
                      {"birth-place", CLI_OPT_STR, &bplace}};
    int u = cli_opts_n("entity travel", argc, argv, opts, CLI_NOPTS(opts), 1,
                       "needs the entity's NAME");
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    compliance_actor a = ccli_actor(ctx);
    int rc = EXIT_OK;
    store_entity x;
    store_entity_travel t;
    bool found = false, have = false;
    if (cli_desk_open(ctx, &db, &e) < 0 || store_entity_find_name(db, argv[1], &x, &found, &e) < 0) {
        rc = cli_fail(&e);
        goto out;
    }
    if (!found) {
        err_set(&e, ERR_NOT_FOUND, "no entity named '%.80s' (fusion entity list)", argv[1]);
        rc = cli_fail(&e);
        goto out;
    }
    if (store_entity_travel_get(db, x.id, &t, &have, &e) < 0) {
        rc = cli_fail(&e);
        goto out;
    }
    /* given options replace the stored values; the others stay */
#define SET_(field, v)                                                                             \
    if (v && strlen(v) >= sizeof t.field) {                                                        \
        err_set(&e, ERR_INVALID, "--%s is longer than %zu bytes", #field, sizeof t.field - 1);    \
        rc = cli_fail(&e);                                                                         \
        goto out;                                                                                  \
    }                                                                                              \
    if (v)                                                                                         \
        snprintf(t.field, sizeof t.field, "%s", v);
    SET_(street, street)
    SET_(town, town)
    SET_(postcode, postcode)
    SET_(country, country)
    SET_(national_id, nid)
    SET_(national_id_type, nid_type)
    SET_(birth_date, bdate)
    SET_(birth_place, bplace)
#undef SET_
    if (compliance_entity_travel_set(db, &a, x.id, &t, &e) < 0)
        rc = cli_fail(&e);
    else
        printf("Travel Rule data of entity #%lld '%s' recorded (audited)\n", (long long)x.id,
               x.name);
out:
    store_close(&db);
    return rc;
}

int cmd_entity(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("entity", "needs a subcommand: add, edit, show, list, link or import");
    const char *sub = argv[1];
    if (strcmp(sub, "add") == 0)
        return ent_add(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "edit") == 0)
        return ent_edit(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0)
        return ent_show(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "list") == 0)
        return ent_list(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "link") == 0)
        return ent_link(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "import") == 0)
        return ent_import(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "travel") == 0)
        return ccli_entity_travel(ctx, argc - 1, argv + 1);
    return cli_usage("entity", "unknown subcommand '%s' (add, edit, show, list, link, import)",
                     sub);
}
