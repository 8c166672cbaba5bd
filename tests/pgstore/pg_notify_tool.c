/* pg_notify_tool.c: a workstation's side of commit announcements, for pg_notify.py.
 *   pg_notify_tool URL listen N                    LISTEN, print "listening", then print
 *                                                  "commit WHAT" for each of N announcements
 *                                                  (exit 4 when one does not come in 60 s)
 *   pg_notify_tool URL announce WHAT commit|rollback
 *                                                  BEGIN, pg_commit_notify(WHAT), then
 *                                                  COMMIT or ROLLBACK */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgstore/pgstore.h"

static int fail(PGconn **c, const err *e)
{
    fprintf(stderr, "pg_notify_tool: %s\n", e->msg);
    pg_close(c);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: pg_notify_tool URL listen N | URL announce WHAT commit|rollback\n");
        return 2;
    }
    err e;
    err_clear(&e);
    PGconn *c = NULL;
    if (pg_connect(&c, argv[1], &e) < 0)
        return fail(&c, &e);
    if (!strcmp(argv[2], "listen")) {
        int n = atoi(argv[3]);
        if (pg_commit_listen(c, &e) < 0)
            return fail(&c, &e);
        printf("listening\n");
        fflush(stdout);
        for (int i = 0; i < n; i++) {
            char what[128];
            bool got = false;
            for (int tries = 0; tries < 600 && !got; tries++)
                if (pg_commit_wait(c, 100, -1, what, sizeof what, &got, &e) < 0)
                    return fail(&c, &e);
            if (!got) {
                fprintf(stderr, "pg_notify_tool: no announcement\n");
                pg_close(&c);
                return 4;
            }
            printf("commit %s\n", what);
            fflush(stdout);
        }
        pg_close(&c);
        return 0;
    }
    if (!strcmp(argv[2], "announce") && argc == 5) {
        bool commit = !strcmp(argv[4], "commit");
        if (pg_exec(c, "BEGIN", "begin", &e) < 0 || pg_commit_notify(c, argv[3], &e) < 0 ||
            pg_exec(c, commit ? "COMMIT" : "ROLLBACK", "end", &e) < 0)
            return fail(&c, &e);
        pg_close(&c);
        return 0;
    }
    fprintf(stderr, "pg_notify_tool: unknown mode\n");
    pg_close(&c);
    return 2;
}
