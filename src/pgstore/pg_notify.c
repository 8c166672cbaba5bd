/* pg_notify.c: commits announced across machines. Within one machine a UI learns of
 * another process's commit from PRAGMA data_version; on a server, the writer's
 * transaction carries a NOTIFY that PostgreSQL delivers to every listening session when
 * it commits (never when it rolls back), and the listener's socket becomes readable.
 * pg_book_watch is that listener for a process that must react at once (the terminal UI's
 * loop, woken by it). */
#include "pgstore/pgstore.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

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

/* True once stop_fd is readable (or waited for up to ms). */
static bool stopped(int stop_fd, int ms)
{
    struct pollfd p = {.fd = stop_fd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

void pg_book_watch(const char *url, int stop_fd, void (*announced)(void *ctx), void *ctx)
{
    bool lost = false; /* a connection was had and lost: what came meanwhile is unknown */
    char why[ERR_MSG_MAX] = "";
    /* the one connect policy: a server that drops packets holds a connect (and so the
     * stop) at most 2 s, and a LISTEN connection to a server gone without a word is found
     * dead by its keepalives (then tried again), unless the URL says otherwise */
    char full[PG_URL_POLICY_MAX];
    if (pg_url_connect_policy(url, full, sizeof full) < 0) {
        LOG_W("pgstore", "listening for the book's commits: the book's URL is too long");
        return;
    }
    while (!stopped(stop_fd, 0)) {
        PGconn *c = NULL;
        err e;
        err_clear(&e);
        if (pg_connect(&c, full, &e) < 0 || pg_commit_listen(c, &e) < 0) {
            pg_close(&c);
            if (strcmp(why, e.msg)) { /* said once per reason, not every second */
                snprintf(why, sizeof why, "%s", e.msg);
                LOG_W("pgstore", "listening for the book's commits: %s", why);
            }
            lost = true;
            if (stopped(stop_fd, 1000))
                break;
            continue;
        }
        why[0] = '\0';
        if (lost)
            announced(ctx);
        for (;;) {
            bool got = false;
            char what[64];
            if (pg_commit_wait(c, -1, stop_fd, what, sizeof what, &got, &e) < 0) {
                LOG_W("pgstore", "%s", e.msg);
                lost = true;
                break;
            }
            if (got) {
                while (got && pg_commit_wait(c, 0, -1, what, sizeof what, &got, &e) == 0)
                    ; /* the ones already here: one wake for all of them */
                announced(ctx);
            } else if (stopped(stop_fd, 0)) {
                break;
            } else if (PQstatus(c) != CONNECTION_OK) {
                LOG_W("pgstore", "listening for the book's commits: the connection was lost");
                lost = true;
                break;
            }
        }
        pg_close(&c);
    }
}
