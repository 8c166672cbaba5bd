/* roles.c: operator roles as bits and their comma-list spelling (desk.db keeps the text). */
#include "desk/desk.h"

#include <stdio.h>
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
        return err_set(e, ERR_INVALID, "no role given: use trader, approver, compliance, admin");
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
                           "compliance, admin",
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
