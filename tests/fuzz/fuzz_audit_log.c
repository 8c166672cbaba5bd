/* fuzz_audit_log.c: libFuzzer target for reading an audit log from disk: the hash chain
 * walk and the replay of signed decisions (operators, roles, EIP-712 signatures) over
 * arbitrary bytes, with a desk.db that records a genesis (desk id 0x11..11 at seq 1).
 * Problems must be one printable line. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char home[256];

static void cleanup(void)
{
    char path[300];
    static const char *const files[] = {"desk.db", AUDIT_FILE};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", home, files[i]);
        unlink(path);
    }
    rmdir(home);
}

static void setup(void)
{
    snprintf(home, sizeof home, "/tmp/fuzz-audit-XXXXXX");
    if (!mkdtemp(home))
        abort();
    char path[300];
    snprintf(path, sizeof path, "%s/desk.db", home);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE TABLE audit_desk (id INTEGER PRIMARY KEY CHECK (id = 1), desk_id "
                     "TEXT NOT NULL, genesis_seq INTEGER NOT NULL);"
                     "INSERT INTO audit_desk VALUES (1, '0x1111111111111111111111111111111111111111"
                     "111111111111111111111111', 1);",
                     NULL, NULL, NULL) != SQLITE_OK)
        abort();
    sqlite3_close(db);
    atexit(cleanup);
}

static void check_line(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        abort();
    if (!home[0])
        setup();
    char path[300];
    snprintf(path, sizeof path, "%s/%s", home, AUDIT_FILE);
    FILE *f = fopen(path, "w");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    audit_report r;
    err e;
    err_clear(&e);
    if (audit_verify_log(home, NULL, &r, &e) == 0 && !r.ok)
        check_line(r.problem);
    audit_sig_report sr;
    err_clear(&e);
    if (audit_verify_signatures(home, &sr, NULL, NULL, &e) == 0 && !sr.ok)
        check_line(sr.problem);
    return 0;
}
