/* pg_lock_tool.c: a process that takes a chain's advisory lock through pg_chain_lock_try,
 * for tests/pgstore/pg_lock.py (two workstations, one server).
 *   pg_lock_tool URL CHAIN_ID hold   takes the lock (exit 3 when another session holds
 *                                    it), prints "held PID" and keeps its connection open
 *                                    until killed
 *   pg_lock_tool URL CHAIN_ID try    takes the lock and releases it: prints "held" (exit 0)
 *                                    or "refused" (exit 3) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgstore/pgstore.h"

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[3], "hold") && strcmp(argv[3], "try"))) {
        fprintf(stderr, "usage: pg_lock_tool URL CHAIN_ID hold|try\n");
        return 2;
    }
    uint64_t chain = strtoull(argv[2], NULL, 10);
    err e;
    err_clear(&e);
    PGconn *c = NULL;
    if (pg_connect(&c, argv[1], &e) < 0) {
        fprintf(stderr, "pg_lock_tool: %s\n", e.msg);
        return 1;
    }
    bool held = false;
    if (pg_chain_lock_try(c, chain, &held, &e) < 0) {
        fprintf(stderr, "pg_lock_tool: %s\n", e.msg);
        pg_close(&c);
        return 1;
    }
    if (!held) {
        printf("refused\n");
        pg_close(&c);
        return 3;
    }
    if (!strcmp(argv[3], "try")) {
        bool was = false;
        if (pg_chain_lock_release(c, chain, &was, &e) < 0 || !was) {
            fprintf(stderr, "pg_lock_tool: release: %s\n", was ? e.msg : "was not held");
            pg_close(&c);
            return 1;
        }
        printf("held\n");
        pg_close(&c);
        return 0;
    }
    printf("held %d\n", PQbackendPID(c));
    fflush(stdout);
    for (;;)
        pause();
}
