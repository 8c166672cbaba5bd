/* rpc_classify.c: turns what nodes and providers answer into a failure class.
 * Providers disagree on codes (-32005 is "limit exceeded" for some and a rate limit
 * for others, -32602 carries Alchemy's log-size limit), so the message text decides
 * where the code does not. Pure: no I/O, unit-tested with the providers' texts. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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
