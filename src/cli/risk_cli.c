/* risk_cli.c: helpers shared by `fusion risk report`, `fusion alerts`, `fusion asset`,
 * `fusion report daily` and `fusion serve`. */
#include "cli/risk_cli.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

#include "base/log.h"
#include "base/text.h"
#include "pgstore/pg_desk.h"
#include "sync/bridge_legs.h"

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *time_or_null(int64_t t)
{
    return t ? json_integer((json_int_t)t) : json_null();
}

json_t *risk_cli_alert_json(const store_alert *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer((json_int_t)a->id));
    json_object_set_new(o, "key", json_string(a->key));
    json_object_set_new(o, "kind", json_string(a->kind));
    json_object_set_new(o, "severity", json_string(alert_severity_str(a->severity)));
    json_object_set_new(o, "message", json_string(a->message));
    json_object_set_new(o, "value", num_or_null(a->value));
    json_object_set_new(o, "limit", num_or_null(a->limit));
    json_object_set_new(o, "state", json_string(a->cleared_at ? "cleared" : "open"));
    json_object_set_new(o, "raised_at", json_integer((json_int_t)a->raised_at));
    json_object_set_new(o, "updated_at", json_integer((json_int_t)a->updated_at));
    json_object_set_new(o, "cleared_at", time_or_null(a->cleared_at));
    json_object_set_new(o, "acked_at", time_or_null(a->acked_at));
    json_object_set_new(o, "acked_by", a->acked_at ? json_string(a->acked_by) : json_null());
    return o;
}

void risk_cli_alert_print(const store_alert *a)
{
    char when[32] = "-";
    time_t t = (time_t)a->raised_at;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
    char state[96];
    if (a->cleared_at)
        snprintf(state, sizeof state, "cleared");
    else if (a->acked_at)
        snprintf(state, sizeof state, "open, acked by %.60s", a->acked_by);
    else
        snprintf(state, sizeof state, "open");
    char msg[6 * STORE_ALERT_MSG_MAX + 1]; /* a stored message may predate safe texts */
    printf("%5lld  %-8s  %-20s  %s  %s\n", (long long)a->id, alert_severity_str(a->severity),
           state, when, text_safe_str(msg, sizeof msg, a->message));
}

int risk_cli_book(store *db, const char *home, risk_service_opts *o, err *e)
{
    if (pg_desk_book_attach(db, home, PG_DESK_READS, NULL, e) < 0)
        return -1;
    o->home = home;
    o->bridges = sync_bridge_book_list;
    return 0;
}
