/* cmd_operator.c: `fusion operator genesis|add|roles|remove|list`, the desk's operators: a
 * name, the key address it signs with, and its roles (trader, approver, compliance,
 * admin). The global --operator NAME selects who acts, and on a desk whose genesis is
 * signed it means NAME's key: operator changes are then decisions signed by an admin,
 * nobody changes their own roles and the last admin stays. */
#include "cli/cli.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/bytes.h"
#include "cli/opts.h"
#include "desk/desk.h"
#include "keystore/keystore.h"
#include "store/store.h"

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= STORE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static bool key_present(const cli_ctx *ctx, const addr *a)
{
    keystore *ks = NULL;
    ks_entry ent;
    err e;
    bool ok = keystore_open(&ks, ctx->home, ctx->operator_name, &e) == 0 &&
              keystore_get(ks, a, &ent, &e) == 0;
    keystore_free(&ks);
    return ok;
}

static bool desk_signed(const cli_ctx *ctx)
{
    uint8_t id[32];
    bool present = false;
    err e;
    return audit_desk_id(ctx->home, id, &present, &e) == 0 && present;
}

static bool roles_have_admin(const char *roles)
{
    unsigned bits = 0;
    err e;
    return desk_roles_parse(&bits, roles, &e) == 0 && (bits & DESK_ROLE_admin);
}

/* On a signed desk: the rules of desk_operator_change_check, for --operator. */
static int admin_check(store *db, const cli_ctx *ctx, const char *target, const char *new_roles,
                       const addr *new_key, err *e)
{
    if (!desk_signed(ctx))
        return 0;
    return desk_operator_change_check(db, ctx->operator_name, target, new_roles, new_key, e);
}

static int op_add(cli_ctx *ctx, int argc, char **argv)
{
    const char *key = NULL, *role = NULL;
    const cli_opt opts[] = {
        {"key", CLI_OPT_STR, &key},
        {"role", CLI_OPT_STR, &role},
    };
    size_t n_pos;
    int u = cli_opts("operator add", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos != 1 || !key || !role)
        return cli_usage("operator add", "needs NAME --key ADDRESS --role ROLE[,ROLE...]");
    const char *name = argv[1];
    if (!name_ok(name))
        return cli_usage("operator add", "NAME must be 1-63 letters, digits, '-', '_' or '.'");
    err e;
    err_clear(&e);
    store_operator op;
    memset(&op, 0, sizeof op);
    snprintf(op.name, sizeof op.name, "%s", name);
    unsigned bits;
    if (addr_parse(&op.address, key, &e) < 0)
        return cli_usage("operator add", "--key: %s", e.msg);
    if (desk_roles_parse(&bits, role, &e) < 0)
        return cli_usage("operator add", "--role: %s", e.msg);
    desk_roles_format(op.roles, sizeof op.roles, bits);
    char a[ADDR_STR_MAX];
    addr_to_checksum(a, &op.address);
    json_t *det = json_pack("{s:s, s:s, s:s}", "name", op.name, "key", a, "roles", op.roles);
    /* The operator and its audit row commit together, or neither does. */
    store *db = NULL;
    int rc = cli_desk_create(ctx, &db, &e);
    if (rc == 0 && (rc = store_begin(db, &e)) == 0) {
        if (admin_check(db, ctx, op.name, op.roles, &op.address, &e) < 0 ||
            store_operator_add(db, &op, &e) < 0 ||
            store_audit(db, ctx->home, ctx->operator_name, "operator.add", det, &e) < 0 ||
            store_commit(db, &e) < 0) {
            store_rollback(db);
            rc = -1;
        }
    }
    store_close(&db);
    json_decref(det);
    if (rc < 0)
        return cli_fail(&e);
    bool here = key_present(ctx, &op.address);
    printf("operator %s added: key %s, roles %s%s\n", op.name, a, op.roles,
           here ? "" : " (the key is not in this desk's key store)");
    return EXIT_OK;
}

/* `fusion operator roles NAME --role R[,R...]`: replaces the operator's roles (an officer who
 * joins the compliance team, a trader who leaves it); audited with the roles before and
 * after. */
static int op_roles(cli_ctx *ctx, int argc, char **argv)
{
    const char *role = NULL;
    const cli_opt opts[] = {{"role", CLI_OPT_STR, &role}};
    size_t n_pos;
    int u = cli_opts("operator roles", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos != 1 || !role)
        return cli_usage("operator roles", "needs NAME --role ROLE[,ROLE...]");
    err e;
    err_clear(&e);
    unsigned bits;
    if (desk_roles_parse(&bits, role, &e) < 0)
        return cli_usage("operator roles", "--role: %s", e.msg);
    char roles[sizeof ((store_operator *)0)->roles];
    desk_roles_format(roles, sizeof roles, bits);
    store *db = NULL;
    store_operator before;
    bool found = false;
    /* The new roles and their audit row commit together, or neither does. */
    int rc = cli_desk_open(ctx, &db, &e);
    if (rc == 0 && (rc = store_begin(db, &e)) == 0) {
        json_t *det = NULL;
        if (store_operator_get(db, argv[1], &before, &found, &e) < 0 ||
            (found && admin_check(db, ctx, argv[1], roles, NULL, &e) < 0) ||
            (found && store_operator_set_roles(db, argv[1], roles, &found, &e) < 0))
            rc = -1;
        else if (!found)
            rc = err_set(&e, ERR_NOT_FOUND, "no operator named \"%.63s\" (see `fusion operator "
                         "list`)", argv[1]);
        else if (!(det = json_pack("{s:s, s:s, s:s}", "name", before.name, "before",
                                   before.roles, "after", roles)) ||
                 store_audit(db, ctx->home, ctx->operator_name, "operator.roles", det, &e) < 0 ||
                 store_commit(db, &e) < 0)
            rc = det ? -1 : err_set(&e, ERR_NOMEM, "out of memory");
        json_decref(det);
        if (rc < 0)
            store_rollback(db);
    }
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    printf("operator %s: roles %s (were %s)\n", before.name, roles,
           before.roles[0] ? before.roles : "none");
    return EXIT_OK;
}

/* `fusion operator remove NAME`: an admin's signed decision; never the last admin. */
static int op_remove(cli_ctx *ctx, int argc, char **argv)
{
    int u = cli_opts_n("operator remove", argc, argv, NULL, 0, 1, "needs NAME");
    if (u != EXIT_OK)
        return u;
    err e;
    err_clear(&e);
    store *db = NULL;
    store_operator before;
    bool found = false;
    int rc = cli_desk_open(ctx, &db, &e);
    if (rc == 0 && (rc = store_begin(db, &e)) == 0) {
        json_t *det = NULL;
        char a[ADDR_STR_MAX];
        if (store_operator_get(db, argv[1], &before, &found, &e) < 0)
            rc = -1;
        else if (!found)
            rc = err_set(&e, ERR_NOT_FOUND, "no operator named \"%.63s\" (see `fusion operator "
                         "list`)", argv[1]);
        else if (admin_check(db, ctx, argv[1], NULL, NULL, &e) < 0 ||
                 store_operator_remove(db, argv[1], &found, &e) < 0)
            rc = -1;
        else if (addr_to_checksum(a, &before.address),
                 !(det = json_pack("{s:s, s:s, s:s}", "name", before.name, "key", a, "roles",
                                   before.roles)) ||
                     store_audit(db, ctx->home, ctx->operator_name, "operator.remove", det,
                                 &e) < 0 ||
                     store_commit(db, &e) < 0)
            rc = det ? -1 : err_set(&e, ERR_NOMEM, "out of memory");
        json_decref(det);
        if (rc < 0)
            store_rollback(db);
    }
    store_close(&db);
    if (rc < 0)
        return cli_fail(&e);
    printf("operator %s removed (was %s)\n", before.name, before.roles);
    return EXIT_OK;
}

/* `fusion --operator NAME operator genesis [--key ADDRESS] [--role ROLES]`: NAME signs the
 * desk's genesis and is its first admin. On a new desk NAME is added with --key; on a desk
 * from before signatures NAME must be an operator already (an admin when the desk has one),
 * and the earlier rows stay as recorded before signatures. */
static int op_genesis(cli_ctx *ctx, int argc, char **argv)
{
    const char *key = NULL, *role = NULL;
    const cli_opt opts[] = {{"key", CLI_OPT_STR, &key}, {"role", CLI_OPT_STR, &role}};
    size_t n_pos;
    int u = cli_opts("operator genesis", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u != EXIT_OK)
        return u;
    if (n_pos)
        return cli_usage("operator genesis", "unexpected argument '%s' (the admin is --operator "
                         "NAME)", argv[1]);
    const char *name = ctx->operator_name;
    if (!name_ok(name))
        return cli_usage("operator genesis", "--operator NAME must be 1-63 letters, digits, '-', "
                         "'_' or '.'");
    err e;
    err_clear(&e);
    unsigned bits = 0;
    addr k;
    if (key && addr_parse(&k, key, &e) < 0)
        return cli_usage("operator genesis", "--key: %s", e.msg);
    if (role && desk_roles_parse(&bits, role, &e) < 0)
        return cli_usage("operator genesis", "--role: %s", e.msg);
    if (desk_signed(ctx)) {
        err_set(&e, ERR_STATE, "this desk's genesis is already signed (see `fusion audit "
                "verify`)");
        return cli_fail(&e);
    }
    store *db = NULL;
    store_operator me, *ops = NULL;
    size_t n = 0;
    bool found = false, exists = false;
    json_t *det = NULL;
    int rc = cli_desk_create(ctx, &db, &e);
    if (rc == 0)
        rc = store_operator_get(db, name, &me, &exists, &e);
    if (rc == 0)
        rc = store_operator_list(db, &ops, &n, &e);
    size_t admins = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        admins += roles_have_admin(ops[i].roles);
    if (rc < 0)
        goto out;
    if (!exists && n > 0) {
        rc = err_set(&e, ERR_DENIED, "\"%.63s\" is not an operator of this desk: an existing "
                     "admin (or operator, when none is admin) signs the genesis", name);
        goto out;
    }
    if (exists && admins > 0 && !roles_have_admin(me.roles)) {
        rc = err_set(&e, ERR_DENIED, "\"%.63s\" is not an admin: one of this desk's admins "
                     "signs its genesis", name);
        goto out;
    }
    if (!exists && !key) {
        rc = err_set(&e, ERR_INVALID, "a new desk's first operator needs --key ADDRESS (a key "
                     "of this desk's key store)");
        goto out;
    }
    if (!exists) {
        memset(&me, 0, sizeof me);
        snprintf(me.name, sizeof me.name, "%s", name);
        me.address = k;
    } else if (key && !addr_equal(&k, &me.address)) {
        rc = err_set(&e, ERR_INVALID, "--key is not %.63s's key on this desk", name);
        goto out;
    } else if (desk_roles_parse(&bits, me.roles, &e) < 0) {
        rc = -1;
        goto out;
    }
    desk_roles_format(me.roles, sizeof me.roles, bits | DESK_ROLE_admin);
    /* The admin's own passphrase: the genesis is their signature. */
    if ((rc = cli_signer_unlock_key(ctx, name, &me.address, &e)) < 0)
        goto out;
    uint8_t id[32];
    randombytes_buf(id, sizeof id);
    char id_hex[67];
    hex_encode(id_hex, sizeof id_hex, id, 32, true);
    if ((rc = store_begin(db, &e)) < 0)
        goto out;
    if (exists)
        rc = store_operator_set_roles(db, name, me.roles, &found, &e);
    else
        rc = store_operator_add(db, &me, &e);
    store_operator *all = NULL;
    size_t n_all = 0;
    json_t *arr = json_array();
    if (rc == 0)
        rc = store_operator_list(db, &all, &n_all, &e);
    for (size_t i = 0; rc == 0 && i < n_all; i++) {
        char a[ADDR_STR_MAX];
        addr_to_checksum(a, &all[i].address);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "name", all[i].name, "key", a,
                                             "roles", all[i].roles));
    }
    free(all);
    if (rc == 0) {
        det = json_pack("{s:s,s:s,s:o,s:s}", "desk_id", id_hex, "admin", name, "operators", arr,
                        "earlier_rows", "recorded before signatures");
        arr = NULL;
        if (!det)
            rc = err_set(&e, ERR_NOMEM, "out of memory");
    }
    json_decref(arr);
    if (rc == 0 && (store_audit(db, ctx->home, name, "desk.genesis", det, &e) < 0 ||
                    store_commit(db, &e) < 0))
        rc = -1;
    if (rc < 0) {
        store_rollback(db);
        goto out;
    }
    char a[ADDR_STR_MAX];
    addr_to_checksum(a, &me.address);
    printf("desk genesis signed by %s (%s), its first admin; desk id %s. From now on every "
           "decision is signed by its operator's key (`fusion audit verify` checks them)\n",
           name, a, id_hex);
out:
    json_decref(det);
    free(ops);
    store_close(&db);
    return rc < 0 ? cli_fail(&e) : EXIT_OK;
}

static int op_list(cli_ctx *ctx, int argc, char **argv)
{
    bool json = ctx->json, csv = false;
    const cli_opt opts[] = {{"json", CLI_OPT_FLAG, &json}, {"csv", CLI_OPT_FLAG, &csv}};
    size_t n_pos;
    int u = cli_opts("operator list", argc, argv, opts, CLI_NOPTS(opts), &n_pos);
    if (u == EXIT_OK)
        u = cli_json_or_csv("operator list", &json, csv);
    if (u != EXIT_OK)
        return u;
    if (n_pos > 0)
        return cli_usage("operator list", "unexpected argument '%s'", argv[1]);
    err e;
    err_clear(&e);
    store *db = NULL;
    store_operator *ops = NULL;
    size_t n = 0;
    if (cli_desk_open(ctx, &db, &e) < 0 || store_operator_list(db, &ops, &n, &e) < 0) {
        store_close(&db);
        return cli_fail(&e);
    }
    store_close(&db);
    json_t *arr = json_array();
    if (!json)
        printf("%-16s %-42s %-28s %s\n", "NAME", "KEY", "ROLES", "KEY HERE");
    for (size_t i = 0; i < n; i++) {
        char a[ADDR_STR_MAX], lower[ADDR_STR_MAX];
        addr_to_checksum(a, &ops[i].address);
        addr_to_lower(lower, &ops[i].address);
        bool here = key_present(ctx, &ops[i].address);
        if (json) {
            json_t *roles = json_array();
            char tmp[STORE_ROLES_MAX];
            snprintf(tmp, sizeof tmp, "%s", ops[i].roles);
            for (char *s = NULL, *t = strtok_r(tmp, ",", &s); t; t = strtok_r(NULL, ",", &s))
                json_array_append_new(roles, json_string(t));
            json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:b, s:I}", "name", ops[i].name,
                                                 "key", lower, "roles", roles, "key_in_store", here,
                                                 "created_at", (json_int_t)ops[i].created_at));
        } else {
            printf("%-16s %-42s %-28s %s\n", ops[i].name, a, ops[i].roles, here ? "yes" : "no");
        }
    }
    if (csv) {
        u = cli_csv_print(arr);
    } else if (json) {
        cli_json_print(arr, JSON_INDENT(2));
    } else if (n == 0) {
        printf("(no operators: an admin signs the desk's genesis with `fusion --operator "
               "NAME operator genesis --key ADDRESS`)\n");
    }
    json_decref(arr);
    free(ops);
    return u;
}

int cmd_operator(cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("operator", "needs a subcommand: genesis, add, roles, remove or list");
    if (strcmp(argv[1], "genesis") == 0)
        return op_genesis(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "remove") == 0)
        return op_remove(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "add") == 0)
        return op_add(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "roles") == 0)
        return op_roles(ctx, argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return op_list(ctx, argc - 1, argv + 1);
    return cli_usage("operator", "unknown subcommand '%s' (genesis, add, roles, remove or list)",
                     argv[1]);
}
