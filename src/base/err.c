/* err.c: the status table and message formatting behind err.h. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const err_descs[] = {
#define ERR_DESC_(name, desc) desc,
    ERR_CODES(ERR_DESC_)
#undef ERR_DESC_
};

void err_clear(err *e)
{
    if (!e)
        return;
    e->code = ERR_OK;
    e->msg[0] = '\0';
}

int err_set(err *e, err_code code, const char *fmt, ...)
{
    if (!e)
        return -1;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int err_prefix(err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char prefix[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[ERR_MSG_MAX];
    memcpy(old, e->msg, sizeof old);
    char joined[2 * ERR_MSG_MAX + 2];
    snprintf(joined, sizeof joined, "%s: %s", prefix, old);
    memcpy(e->msg, joined, sizeof e->msg - 1);
    e->msg[sizeof e->msg - 1] = '\0';
    return -1;
}

const char *err_code_str(err_code code)
{
    if ((unsigned)code >= ERR_CODE_COUNT)
        return "unknown error";
    return err_descs[code];
}
