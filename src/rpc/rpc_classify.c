/* rpc_classify.c: turns what nodes and providers answer into a failure class.
 * Providers disagree on codes (-32005 is "limit exceeded" for some and a rate limit
 * for others, -32602 carries Alchemy's log-size limit), so the message text decides
 * where the code does not. Pure: no I/O, unit-tested with the providers' texts. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rpc/rpc.h"

static const char *const status_labels[] = {
#define RPC_LABEL_(name, label, retry) label,
    RPC_STATUSES(RPC_LABEL_)
#undef RPC_LABEL_
};

static const bool status_retry[] = {
#define RPC_RETRY_(name, label, retry) retry,
    RPC_STATUSES(RPC_RETRY_)
#undef RPC_RETRY_
};

const char *rpc_status_str(rpc_status st)
{
    return (unsigned)st < RPC_STATUS_COUNT ? status_labels[st] : "unknown";
}

bool rpc_status_retryable(rpc_status st)
{
    return (unsigned)st < RPC_STATUS_COUNT && status_retry[st];
}

/* Lowercased copy, bounded. */
static void lower(char *out, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

static bool has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

static bool any(const char *hay, const char *const *needles)
{
    for (; *needles; needles++)
        if (has(hay, *needles))
            return true;
    return false;
}

static const char *const rate_words[] = {
    "rate limit",
    "rate-limit",
    "ratelimit",
    "rate exceeded",
    "too many requests",
    "request rate",
    "requests per second",
    "compute units per second",
    "capacity",
    "daily request count",
    "request limit reached",
    "throttl",
    "quota",
    NULL,
};

static const char *const range_words[] = {
    "query returned more than",
    "too many results",
    "too many logs",
    "too many blocks",
    "response size",
    "response too large",
    "response is too big",
    "result window",
    "logs matched",
    "max results",
    "maximum results",
    "results limit",
    "exceeds limit of",
    "block range",
    "blocks range",
    "range too large",
    "range is too large",
    "range too wide",
    "range is too wide",
    "range limit",
    "max range",
    "maximum range",
    "range exceeded",
    "exceed maximum block",
    "is limited to a",
    "ranges over",
    "requested too many blocks",
    "more than 10000",
    NULL,
};

static const char *const timeout_words[] = {
    "timeout",
    "timed out",
    "deadline exceeded",
    NULL,
};

rpc_status rpc_classify_error(int64_t code, const char *message)
{
    char m[512];
    lower(m, sizeof m, message);
    if (code == 429 || code == -32029 || code == -32090 || any(m, rate_words))
        return RPC_RATE_LIMIT;
    /* A malformed range (from > to) is our bug or the node's, not a size limit. */
    if (has(m, "invalid block range") || has(m, "invalid range"))
        return RPC_RPC;
    if (any(m, range_words))
        return RPC_RANGE;
    /* EIP-1474: -32005 "limit exceeded" (a request over a configured limit). */
    if (code == -32005 && has(m, "limit"))
        return RPC_RANGE;
    if (any(m, timeout_words))
        return RPC_TIMEOUT;
    return RPC_RPC;
}

rpc_status rpc_classify_http(long http_status)
{
    if (http_status == 429)
        return RPC_RATE_LIMIT;
    if (http_status == 413)
        return RPC_RANGE;
    if (http_status == 408 || http_status == 504)
        return RPC_TIMEOUT;
    return RPC_TRANSPORT;
}

/* Parses a 0x quantity at *p (advancing it); false when there is none. */
static bool hex_at(const char **p, uint64_t *out)
{
    const char *s = *p;
    while (*s == ' ')
        s++;
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !isxdigit((unsigned char)s[2]))
        return false;
    s += 2;
    uint64_t v = 0;
    int digits = 0;
    while (isxdigit((unsigned char)*s)) {
        if (++digits > 16)
            return false;
        int d = isdigit((unsigned char)*s) ? *s - '0' : tolower((unsigned char)*s) - 'a' + 10;
        v = v << 4 | (uint64_t)d;
        s++;
    }
    *out = v;
    *p = s;
    return true;
}

bool rpc_range_hint(const char *message, uint64_t *from, uint64_t *to)
{
    if (!message)
        return false;
    /* The last "[0xA, 0xB]" in the text is the suggestion. */
    bool found = false;
    for (const char *p = strchr(message, '['); p; p = strchr(p + 1, '[')) {
        const char *q = p + 1;
        uint64_t a, b;
        if (!hex_at(&q, &a))
            continue;
        while (*q == ' ')
            q++;
        if (*q != ',')
            continue;
        q++;
        if (!hex_at(&q, &b))
            continue;
        while (*q == ' ')
            q++;
        if (*q != ']' || b < a)
            continue;
        *from = a;
        *to = b;
        found = true;
    }
    return found;
}

/* ---- Retry-After (RFC 9110 10.2.3) ---- */

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec"};

/* Reads exactly n digits at *p. */
static bool digits_at(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool month_at(const char **p, int *out)
{
    for (int i = 0; i < 12; i++)
        if (strncasecmp(*p, months[i], 3) == 0) {
            *p += 3;
            *out = i;
            return true;
        }
    return false;
}

/* "HH:MM:SS" */
static bool clock_at(const char **p, int *h, int *m, int *s)
{
    if (!digits_at(p, 2, h) || **p != ':')
        return false;
    (*p)++;
    if (!digits_at(p, 2, m) || **p != ':')
        return false;
    (*p)++;
    return digits_at(p, 2, s) && *h < 24 && *m < 60 && *s <= 60;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), no libc time zone involved. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The three date forms; *t unix seconds. */
static bool http_date(const char *p, int64_t *t)
{
    int day, mon, year, h, mi, s;
    const char *comma = strchr(p, ',');
    if (comma) {
        p = comma + 1;
        if (*p++ != ' ')
            return false;
        if (!digits_at(&p, 2, &day))
            return false;
        if (*p == ' ') { /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
            p++;
            if (!month_at(&p, &mon) || *p++ != ' ' || !digits_at(&p, 4, &year))
                return false;
        } else if (*p == '-') { /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
            p++;
            if (!month_at(&p, &mon) || *p++ != '-' || !digits_at(&p, 2, &year))
                return false;
            year += year < 70 ? 2000 : 1900;
        } else {
            return false;
        }
        if (*p++ != ' ' || !clock_at(&p, &h, &mi, &s) || strcmp(p, " GMT") != 0)
            return false;
    } else { /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (strlen(p) != 24 || p[3] != ' ')
            return false;
        p += 4;
        if (!month_at(&p, &mon) || *p++ != ' ')
            return false;
        if (*p == ' ') {
            p++;
            if (!digits_at(&p, 1, &day))
                return false;
        } else if (!digits_at(&p, 2, &day)) {
            return false;
        }
        if (*p++ != ' ' || !clock_at(&p, &h, &mi, &s) || *p++ != ' ' || !digits_at(&p, 4, &year) ||
            *p)
            return false;
    }
    if (day < 1 || day > 31)
        return false;
    *t = days_from_civil(year, mon + 1, day) * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

bool rpc_retry_after_parse(const char *value, int64_t now, int64_t *seconds)
{
    enum { MAX_WAIT = 86400 };
    if (!value)
        return false;
    char v[64];
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && isspace((unsigned char)value[n - 1]))
        n--;
    if (n == 0 || n >= sizeof v)
        return false;
    memcpy(v, value, n);
    v[n] = '\0';
    if (isdigit((unsigned char)v[0])) {
        int64_t s = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)v[i]))
                return false;
            if (s < MAX_WAIT)
                s = s * 10 + (v[i] - '0');
        }
        *seconds = s > MAX_WAIT ? MAX_WAIT : s;
        return true;
    }
    int64_t t;
    if (!http_date(v, &t))
        return false;
    int64_t d = t - now;
    *seconds = d < 0 ? 0 : d > MAX_WAIT ? MAX_WAIT : d;
    return true;
}
