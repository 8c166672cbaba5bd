/* pg_desk.c: the desk's book location as a desk decision (pg_desk.h). */
#include "pgstore/pg_desk.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/file.h"
#include "base/fsperm.h"
#include "pgstore/pgstore.h"

#define BOOK_CONF_MAX 65536

static char *trim(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int pg_desk_book_parse(const char *path, const char *text, size_t len, pg_desk_book *out,
                       err *e)
{
    memset(out, 0, sizeof *out);
    if (memchr(text, 0, len))
        return err_set(e, ERR_INVALID, "%s: not a text file", path);
    char *copy = malloc(len + 1);
    if (!copy)
        return err_set(e, ERR_NOMEM, "out of memory reading %s", path);
    memcpy(copy, text, len);
    copy[len] = '\0';
    int rc = 0, line = 0;
    char *save = NULL;
    for (char *l = copy; l && rc == 0; l = save) {
        save = strchr(l, '\n');
        if (save)
            *save++ = '\0';
        line++;
        char *s = trim(l);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq)
            *eq = '\0';
        char *key = trim(s), *val = eq ? trim(eq + 1) : NULL;
        if (!eq || strcmp(key, "db") != 0) {
            rc = err_set(e, ERR_INVALID, "%s line %d: expected `db = postgresql://[USER@]HOST/DB`"
                         " (the only key)", path, line);
            break;
        }
        char shown[sizeof out->shown];
        pg_url_redact(val, shown, sizeof shown);
        if (out->present)
            rc = err_set(e, ERR_INVALID, "%s line %d: a second db line (one server per desk)",
                         path, line);
        else if (!pg_url_is_pg(val))
            rc = err_set(e, ERR_INVALID, "%s line %d: db takes a postgresql:// URL, not '%.200s'",
                         path, line, shown);
        else if (strcmp(shown, val) != 0)
            rc = err_set(e, ERR_INVALID, "%s line %d: the URL carries a password: a desk's files "
                         "never hold one; remove it and give it on each workstation in "
                         "~/.pgpass (or PGPASSFILE) or PGPASSWORD", path, line);
        else if (strlen(val) >= sizeof out->url)
            rc = err_set(e, ERR_INVALID, "%s line %d: the URL is longer than %zu bytes", path,
                         line, sizeof out->url - 1);
        if (rc == 0) {
            snprintf(out->url, sizeof out->url, "%s", val);
            snprintf(out->shown, sizeof out->shown, "%s", shown);
            out->present = true;
        }
    }
    free(copy);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

int pg_desk_book_read(const char *home, pg_desk_book *out, err *e)
{
    memset(out, 0, sizeof *out);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", home, PG_DESK_BOOK_FILE);
    char *text = NULL;
    size_t len = 0;
    bool exists = access(path, F_OK) == 0;
    if (exists && (fsperm_check_private(path, "desk configuration", e) < 0 ||
                   file_read_all(path, BOOK_CONF_MAX, "a desk's book.conf", &text, &len, e) < 0))
        return -1;
    /* what is wrong with the file first (a password in it above all), then whether it is
     * the one signed */
    int rc = exists ? pg_desk_book_parse(path, text, len, out, e) : 0;
    if (rc == 0)
        rc = audit_config_check(home, "book", text ? text : "", len, exists, NULL, 0, e);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    free(text);
    return rc;
}

#define BOOK_WAIT_S 60u

int pg_book_wait_ms(unsigned *ms, err *e)
{
    unsigned wait_s = BOOK_WAIT_S;
    const char *w = getenv("FUSION_BOOK_WAIT_S");
    if (w && *w) {
        char *end = NULL;
        unsigned long v = strtoul(w, &end, 10);
        if (*end || !isdigit((unsigned char)w[0]) || v < 1 || v > 3600)
            return err_set(e, ERR_USAGE,
                           "FUSION_BOOK_WAIT_S takes seconds from 1 to 3600, not '%.40s'", w);
        wait_s = (unsigned)v;
    }
    *ms = wait_s * 1000u;
    return 0;
}

int pg_desk_book_attach(store *s, const char *home, pg_desk_use use, pg_desk_book *out, err *e)
{
    pg_desk_book own;
    pg_desk_book *b = out ? out : &own;
    if (pg_desk_book_read(home, b, e) < 0)
        return -1;
    if (!b->present)
        return 0;
    /* a reading store never sends, so nothing of it waits for a lost server after one */
    unsigned wait_ms = 0;
    if (use == PG_DESK_SIGNS && pg_book_wait_ms(&wait_ms, e) < 0)
        return -1;
    void *rconn = NULL, *oconn = NULL;
    if (pg_reader.open(&rconn, b->url, e) < 0)
        return -1;
    if (pg_outbound_open(&oconn, b->url, wait_ms, e) < 0) {
        pg_reader.close(&rconn);
        return -1;
    }
    store_set_reader(s, &pg_reader, rconn);
    store_outbound_book_attach(s, &pg_outbound_book, oconn);
    return 0;
}
