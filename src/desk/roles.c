/* roles.c: operator roles as bits and their comma-list spelling (desk.db keeps the text),
 * and who may change them. */
#include "desk/desk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} roles[] = {
#define DESK_ROLE_ROW_(name, bit) {#name, bit},
    DESK_ROLES(DESK_ROLE_ROW_)
#undef DESK_ROLE_ROW_
};

int desk_roles_parse(unsigned *out, const char *csv, err *e)
{
    *out = 0;
    const char *p = csv ? csv : "";
    if (!*p)
        return err_set(e, ERR_INVALID, "no role given: use trader, approver, compliance, admin, risk");
    while (*p) {
        size_t n = strcspn(p, ",");
        bool ok = false;
        for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
            if (strlen(roles[i].name) == n && strncmp(roles[i].name, p, n) == 0) {
                *out |= roles[i].bit;
                ok = true;
            }
        }
        if (!ok)
            return err_set(e, ERR_INVALID,
                           "unknown role \"%.*s\": use trader, approver, "
                           "compliance, admin, risk",
                           (int)(n > 40 ? 40 : n), p);
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

void desk_roles_format(char *out, size_t cap, unsigned bits)
{
    if (!cap)
        return;
    out[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        if (!(bits & roles[i].bit))
            continue;
        int k = snprintf(out + len, cap - len, "%s%s", len ? "," : "", roles[i].name);
        if (k < 0 || (size_t)k >= cap - len)
            return;
        len += (size_t)k;
    }
}

static bool has_admin(const char *csv)
{
    unsigned bits = 0;
    err e;
    return csv && desk_roles_parse(&bits, csv, &e) == 0 && (bits & DESK_ROLE_admin);
}

int desk_operator_change_check(store *s, const char *actor, const char *target,
                               const char *new_roles, const addr *new_key, err *e)
{
    store_operator me;
    bool found = false;
    if (store_operator_get(s, actor, &me, &found, e) < 0)
        return -1;
    if (!found || !has_admin(me.roles))
        return err_set(e, ERR_DENIED, "operator changes need an admin's signature: \"%.63s\" is "
                       "not an admin of this desk (--operator ADMIN with their passphrase)",
                       actor);
    if (strcmp(target, actor) == 0)
        return err_set(e, ERR_DENIED, "nobody grants roles to themselves or removes themselves: "
                       "another admin signs changes to \"%.63s\"", target);
    store_operator *ops = NULL;
    size_t n = 0;
    if (store_operator_list(s, &ops, &n, e) < 0)
        return -1;
    size_t admins = 0;
    bool target_exists = false;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        bool is_target = strcmp(ops[i].name, target) == 0;
        target_exists |= is_target;
        admins += has_admin(is_target ? new_roles : ops[i].roles);
        if (new_key && !is_target && addr_equal(&ops[i].address, new_key))
            rc = err_set(e, ERR_DENIED, "that key is already operator \"%.63s\"'s: every "
                         "operator signs with their own key", ops[i].name);
    }
    if (!target_exists && has_admin(new_roles))
        admins++; /* an operator being added */
    free(ops);
    if (rc == 0 && admins == 0)
        rc = err_set(e, ERR_DENIED, "\"%.63s\" is the desk's last admin: grant admin to another "
                     "operator first", target);
    return rc;
}
