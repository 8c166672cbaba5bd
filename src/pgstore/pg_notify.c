/* pg_notify.c: commits announced across machines. Within one machine a UI learns of
 * another process's commit from PRAGMA data_version; on a server, the writer's
 * transaction carries a NOTIFY that PostgreSQL delivers to every listening session when
 * it commits (never when it rolls back), and the listener's socket becomes readable. */
#include "pgstore/pgstore.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

int pg_commit_notify(PGconn *c, const char *what, err *e)
{
    const char *params[1] = {what ? what : ""};
    PGresult *r = PQexecParams(c, "SELECT pg_notify('" PG_COMMIT_CHANNEL "', $1)", 1, NULL, params,
                               NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        char why[200];
        pg_result_reason(c, r, why, sizeof why);
        PQclear(r);
        return err_set(e, ERR_IO, "announcing a commit: %s", why);
    }
    PQclear(r);
    return 0;
}

int pg_commit_listen(PGconn *c, err *e)
{
    return pg_exec(c, "LISTEN " PG_COMMIT_CHANNEL, "listening for commits", e);
}

/* The first pending announcement on our channel, if any. */
static bool take(PGconn *c, char *what, size_t cap)
{
    PGnotify *n;
    while ((n = PQnotifies(c))) {
        bool ours = !strcmp(n->relname, PG_COMMIT_CHANNEL);
        if (ours && cap)
            snprintf(what, cap, "%s", n->extra ? n->extra : "");
        PQfreemem(n);
        if (ours)
            return true;
    }
    return false;
}

int pg_commit_wait(PGconn *c, int timeout_ms, int stop_fd, char *what, size_t cap, bool *got,
                   err *e)
{
    *got = false;
    if (cap)
        what[0] = '\0';
    char why[200];
    if (!PQconsumeInput(c)) {
        pg_result_reason(c, NULL, why, sizeof why);
        return err_set(e, ERR_IO, "listening for commits: %s", why);
    }
    if ((*got = take(c, what, cap)))
        return 0;
    int sock = PQsocket(c);
    if (sock < 0)
        return err_set(e, ERR_IO, "listening for commits: the connection is closed");
    struct pollfd p[2] = {{.fd = sock, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
    int n = poll(p, stop_fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno != EINTR)
        return err_set(e, ERR_IO, "listening for commits: %s", strerror(errno));
    if (n <= 0 || !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
        return 0;
    if (!PQconsumeInput(c)) {
        pg_result_reason(c, NULL, why, sizeof why);
        return err_set(e, ERR_IO, "listening for commits: %s", why);
    }
    *got = take(c, what, cap);
    return 0;
}
