/* pgstore.c: connecting to the PostgreSQL server of a desk. A URL may carry a password;
 * no message, log line or output of ours ever shows it (pg_url_redact), and libpq's own
 * messages name the server, never the password. */
#include "pgstore/pgstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/text.h"

bool pg_url_is_pg(const char *url)
{
    return url && (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11));
}

/* Copies src[0..n) into out at *o, bounded. */
static void put(char *out, size_t cap, size_t *o, const char *src, size_t n)
{
    for (size_t i = 0; i < n && *o + 1 < cap; i++)
        out[(*o)++] = src[i];
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The length of the key "password" at p, as libpq reads a URL query's keys (percent-decoded,
 * so pass%77ord is one) and a keyword string's (as written); 0 when the key there is not it. */
static size_t password_key(const char *p)
{
    static const char want[] = "password";
    size_t k = 0;
    for (size_t w = 0; w < 8; w++) {
        char c = p[k];
        if (c == '%' && hexval(p[k + 1]) >= 0 && hexval(p[k + 2]) >= 0) {
            c = (char)(hexval(p[k + 1]) * 16 + hexval(p[k + 2]));
            k += 3;
        } else {
            k++;
        }
        if (!c || (c | 0x20) != want[w])
            return 0;
    }
    return k;
}

void pg_url_redact(const char *url, char *out, size_t cap)
{
    if (!cap)
        return;
    out[0] = '\0';
    if (!url)
        return;
    size_t n = strlen(url), o = 0, i = 0;
    /* user:PASSWORD@ in a URL's authority (up to the first '/', '?' or '#'; the last '@'
     * ends the user information) */
    const char *scheme = strstr(url, "://");
    if (scheme) {
        size_t a = (size_t)(scheme - url) + 3;
        size_t end = a + strcspn(url + a, "/?#");
        size_t at = end;
        for (size_t k = a; k < end; k++)
            if (url[k] == '@')
                at = k;
        put(out, cap, &o, url, a);
        i = a;
        if (at < end) {
            const char *colon = memchr(url + a, ':', at - a);
            if (colon) {
                put(out, cap, &o, url + a, (size_t)(colon - url) - a + 1);
                put(out, cap, &o, "***", 3);
                i = at;
            }
        }
    }
    /* password=VALUE in the query (up to '&' or '#') or in a keyword string (up to a
     * space, or a quoted value) */
    while (i < n) {
        bool boundary = i == 0 || url[i - 1] == '?' || url[i - 1] == '&' || url[i - 1] == ' ' ||
                        url[i - 1] == '\t';
        size_t key = boundary ? password_key(url + i) : 0;
        if (key) {
            size_t k = i + key;
            while (url[k] == ' ')
                k++;
            if (url[k] == '=') {
                k++;
                while (url[k] == ' ')
                    k++;
                put(out, cap, &o, url + i, k - i);
                put(out, cap, &o, "***", 3);
                if (url[k] == '\'') { /* a quoted keyword value, \' inside */
                    k++;
                    while (url[k] && url[k] != '\'')
                        k += url[k] == '\\' && url[k + 1] ? 2 : 1;
                    if (url[k])
                        k++;
                } else {
                    k += strcspn(url + k, "&# \t");
                }
                i = k;
                continue;
            }
        }
        put(out, cap, &o, url + i, 1);
        i++;
    }
    out[o] = '\0';
}

void pg_reason_line(const char *msg, char *out, size_t cap)
{
    if (!cap)
        return;
    char line[1024];
    snprintf(line, sizeof line, "%s", msg ? msg : "");
    size_t l = strlen(line);
    while (l && (line[l - 1] == '\n' || line[l - 1] == ' '))
        line[--l] = '\0';
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    /* the server's text, not ours: its escapes shown escaped */
    if (cap < 8)
        out[0] = '\0';
    else
        text_safe(out, cap, line, l);
}

void pg_result_reason(PGconn *c, const PGresult *r, char *out, size_t cap)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!m || !m[0])
        m = c ? PQerrorMessage(c) : "no connection";
    pg_reason_line(m, out, cap);
}

/* libpq's message: its last line, without the trailing newline. */
static const char *pq_reason(PGconn *c, char *buf, size_t cap)
{
    const char *m = c ? PQerrorMessage(c) : "out of memory";
    pg_reason_line(m && *m ? m : "unknown error", buf, cap);
    return buf;
}

/* Server notices (a WARNING, a NOTICE) go to the log, never to the terminal. */
static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    char line[300];
    pg_reason_line(message, line, sizeof line); /* the server's text: printable */
    LOG_W("pgstore", "server: %s", line);
}

/* What pg_url_connect_policy adds to a URL that does not name it. */
static const char *const POLICY[][2] = {
    {"connect_timeout", PG_CONNECT_TIMEOUT_S},
    {"keepalives", "1"},
    {"keepalives_idle", PG_KEEPALIVES_IDLE_S},
    {"keepalives_interval", PG_KEEPALIVES_INTERVAL_S},
    {"keepalives_count", PG_KEEPALIVES_COUNT},
};

/* shown without the policy's parameters at their policy values (what pg_url_connect_policy
 * added): a message names the server as the desk wrote it. */
static void policy_unshown(char shown[512])
{
    char *q = strchr(shown, '?');
    if (!q)
        return;
    char kept[512];
    size_t o = 0;
    for (const char *p = q + 1; *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool added = false;
        for (size_t i = 0; i < sizeof POLICY / sizeof POLICY[0] && !added; i++) {
            char pair[64];
            int pl = snprintf(pair, sizeof pair, "%s=%s", POLICY[i][0], POLICY[i][1]);
            added = len == (size_t)pl && strncmp(p, pair, len) == 0;
        }
        if (!added && o < sizeof kept)
            o += (size_t)snprintf(kept + o, sizeof kept - o, "%s%.*s", o ? "&" : "", (int)len, p);
        p += len;
        if (*p == '&')
            p++;
    }
    if (o == 0)
        *q = '\0';
    else
        snprintf(q + 1, 512 - (size_t)(q + 1 - shown), "%s", kept);
}

int pg_connect(PGconn **out, const char *url, err *e)
{
    *out = NULL;
    char shown[512], why[200];
    pg_url_redact(url, shown, sizeof shown);
    policy_unshown(shown);
    if (!pg_url_is_pg(url))
        return err_set(e, ERR_INVALID, "'%s' is not a postgresql:// URL", shown);
    /* libpq's message on a URL it cannot parse quotes the part it could not decode: when
     * the URL carries a password, that may be it */
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    PQconninfoFree(opts);
    if (!opts && strcmp(shown, url) != 0) {
        PQfreemem(perr);
        return err_set(e, ERR_INVALID,
                       "cannot connect to %s: libpq cannot parse the URL (its reason is not "
                       "shown: it may quote the password)",
                       shown);
    }
    PQfreemem(perr);
    PGconn *c = PQconnectdb(url);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        pq_reason(c, why, sizeof why);
        PQfinish(c);
        return err_set(e, ERR_IO, "cannot connect to %s: %s", shown, why);
    }
    /* text in and out as UTF-8, whatever the server's or the client's defaults */
    if (PQsetClientEncoding(c, "UTF8") != 0) {
        PQfinish(c);
        return err_set(e, ERR_IO, "%s: cannot use UTF-8 as the client encoding", shown);
    }
    PQsetNoticeProcessor(c, notice_to_log, NULL);
    LOG_I("pgstore", "connected to %s (server %d, %s)", shown, PQserverVersion(c),
          PQsslInUse(c) ? "TLS" : "no TLS");
    *out = c;
    return 0;
}

void pg_close(PGconn **c)
{
    if (c && *c) {
        PQfinish(*c);
        *c = NULL;
    }
}

int pg_exec(PGconn *c, const char *sql, const char *what, err *e)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return 0;
    }
    char why[200];
    pg_reason_line(r ? PQresultErrorMessage(r) : PQerrorMessage(c), why, sizeof why);
    PQclear(r);
    return err_set(e, ERR_IO, "%s: %s", what, why);
}

int pg_text_int(const char *t, bool nonneg, int64_t *out)
{
    *out = 0;
    if (!t)
        return -1;
    const char *d = t[0] == '-' && !nonneg ? t + 1 : t;
    if (!*d || strlen(d) > 19 || strspn(d, "0123456789") != strlen(d))
        return -1;
    uint64_t mag = strtoull(d, NULL, 10);
    if (d != t ? mag > (uint64_t)INT64_MAX + 1u : mag > (uint64_t)INT64_MAX)
        return -1;
    *out = d != t ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

/* Whether url's query (after '?') names key (key=...); a name only inside another's value
 * or as a longer name's prefix does not count. */
static bool url_has_param(const char *url, const char *key)
{
    const char *q = strchr(url, '?');
    size_t kl = strlen(key);
    for (const char *p = q; p && *p;) {
        p++; /* past '?' or '&' */
        if (strncmp(p, key, kl) == 0 && p[kl] == '=')
            return true;
        p = strchr(p, '&');
    }
    return false;
}

int pg_url_connect_policy(const char *url, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "%s", url);
    bool query = strchr(url, '?') != NULL;
    for (size_t i = 0; i < sizeof POLICY / sizeof POLICY[0] && n < cap; i++) {
        if (url_has_param(url, POLICY[i][0]))
            continue;
        n += (size_t)snprintf(out + n, cap - n, "%c%s=%s", query ? '&' : '?', POLICY[i][0],
                              POLICY[i][1]);
        query = true;
    }
    return n < cap ? 0 : -1;
}
