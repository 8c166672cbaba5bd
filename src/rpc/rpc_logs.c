/* rpc_logs.c: a strict single-pass reader for eth_getLogs answers. A getLogs answer
 * is the one large thing a node sends (tens of megabytes during an initial sync) and a
 * general JSON tree costs several times the node's own time to build; this reader walks
 * the text once, validates it as JSON, and writes the logs straight into an
 * rpc_log_list (and frees one: rpc_log_list_free). It understands only a successful answer with our id; anything else
 * (an error object, another shape) is left to the general path, which classifies it.
 * Reads outside bytes: fuzzed by tests/fuzz/fuzz_rpc_logs.c. */
#include "rpc/rpc_logs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const char *base, *p, *end;
    err *e;
    int depth;
} rd;

#define MAX_DEPTH 64

static int fail(rd *r, const char *what)
{
    return err_set(r->e, ERR_INVALID, "%s at byte %zu", what, (size_t)(r->p - r->base));
}

static void ws(rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static bool eat(rd *r, char ch)
{
    ws(r);
    if (r->p < r->end && *r->p == ch) {
        r->p++;
        return true;
    }
    return false;
}

static int hexval(char h)
{
    if (h >= '0' && h <= '9')
        return h - '0';
    if (h >= 'a' && h <= 'f')
        return h - 'a' + 10;
    if (h >= 'A' && h <= 'F')
        return h - 'A' + 10;
    return -1;
}

/* \uXXXX at p (p[0] == '\\'): its code unit, or -1. */
static long unit_at(const char *p, const char *end)
{
    if (end - p < 6 || p[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int d = hexval(p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* One UTF-8 sequence at p: its length, or 0 when it is not well-formed. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t k;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        k = 1;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        k = 2;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        k = 3;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) <= k)
        return 0;
    for (size_t j = 1; j <= k; j++) {
        if ((p[j] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[j] & 0x3f);
    }
    if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k + 1;
}

/* A JSON string: [*s, *s + *n) between the quotes, validated as JSON text (UTF-8, escapes,
 * surrogate pairs, no NUL) the way a general parser would. *escaped says whether it used
 * escapes: then it is valid but never what we need (hex values and keys have none). */
static int string_raw(rd *r, const char **s, size_t *n, bool *escaped)
{
    ws(r);
    if (r->p >= r->end || *r->p != '"')
        return fail(r, "expected a string");
    r->p++;
    const char *start = r->p;
    *escaped = false;
    while (r->p < r->end && *r->p != '"') {
        unsigned char ch = (unsigned char)*r->p;
        if (ch < 0x20)
            return fail(r, "control character in a string");
        if (ch >= 0x80) {
            size_t k = utf8_len((const unsigned char *)r->p, (const unsigned char *)r->end);
            if (!k)
                return fail(r, "invalid UTF-8 in a string");
            r->p += k;
            continue;
        }
        if (ch != '\\') {
            r->p++;
            continue;
        }
        *escaped = true;
        if (r->end - r->p < 2)
            return fail(r, "truncated escape");
        char x = r->p[1];
        if (x != 'u') {
            if (!strchr("\"\\/bfnrt", x) || x == '\0')
                return fail(r, "bad escape");
            r->p += 2;
            continue;
        }
        long u = unit_at(r->p, r->end);
        if (u <= 0)
            return fail(r, "bad \\u escape");
        r->p += 6;
        if (u >= 0xdc00 && u <= 0xdfff)
            return fail(r, "lone low surrogate");
        if (u >= 0xd800 && u <= 0xdbff) {
            long lo = r->p < r->end && *r->p == '\\' ? unit_at(r->p, r->end) : -1;
            if (lo < 0xdc00 || lo > 0xdfff)
                return fail(r, "lone high surrogate");
            r->p += 6;
        }
    }
    if (r->p >= r->end)
        return fail(r, "unterminated string");
    *s = start;
    *n = (size_t)(r->p - start);
    r->p++;
    return 0;
}

static int skip_value(rd *r);

static int skip_number(rd *r)
{
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9')
        return fail(r, "expected a value");
    if (*r->p == '0')
        r->p++;
    else
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return fail(r, "bad number");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return fail(r, "bad number");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    /* Numbers a general parser could not hold are not accepted either. */
    char num[512];
    size_t n = (size_t)(r->p - s);
    if (n >= sizeof num)
        return fail(r, "number too long");
    memcpy(num, s, n);
    num[n] = '\0';
    errno = 0;
    if (strpbrk(num, ".eE")) {
        double d = strtod(num, NULL);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
            return fail(r, "number out of range");
    } else {
        (void)strtoll(num, NULL, 10);
        if (errno == ERANGE)
            return fail(r, "integer out of range");
    }
    return 0;
}

static int skip_word(rd *r, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return fail(r, "expected a value");
    r->p += n;
    return 0;
}

static int skip_value(rd *r)
{
    ws(r);
    if (r->p >= r->end)
        return fail(r, "truncated");
    const char *s;
    size_t n;
    bool esc;
    switch (*r->p) {
    case '"':
        return string_raw(r, &s, &n, &esc);
    case 't':
        return skip_word(r, "true");
    case 'f':
        return skip_word(r, "false");
    case 'n':
        return skip_word(r, "null");
    case '[':
    case '{': {
        bool obj = *r->p == '{';
        if (++r->depth > MAX_DEPTH)
            return fail(r, "nested too deeply");
        r->p++;
        if (eat(r, obj ? '}' : ']')) {
            r->depth--;
            return 0;
        }
        for (;;) {
            if (obj && (string_raw(r, &s, &n, &esc) < 0 || !eat(r, ':')))
                return fail(r, "bad object");
            if (skip_value(r) < 0)
                return -1;
            if (eat(r, ','))
                continue;
            if (eat(r, obj ? '}' : ']'))
                break;
            return fail(r, obj ? "bad object" : "bad array");
        }
        r->depth--;
        return 0;
    }
    default:
        return skip_number(r);
    }
}

static bool key_is(const char *k, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* A hex string value into exactly `len` bytes. */
static int hex_fixed(rd *r, uint8_t *out, size_t len, const char *what)
{
    const char *s;
    size_t n;
    bool esc;
    if (string_raw(r, &s, &n, &esc) < 0)
        return -1;
    size_t got = 0;
    err ignored;
    if (esc || n != 2 + 2 * len ||
        hex_decode(out, len, &got, s, n, HEX_REQUIRE_PREFIX, &ignored) < 0)
        return err_set(r->e, ERR_INVALID, "%s is not a %zu-byte hex string", what, len);
    return 0;
}

/* A quantity ("0x1a") into 64 bits, strictly (u256_from_quantity's rules). */
static int quantity(rd *r, uint64_t *out, uint64_t max, const char *what)
{
    const char *s;
    size_t n;
    bool esc;
    if (string_raw(r, &s, &n, &esc) < 0)
        return -1;
    char q[72];
    if (esc || n >= sizeof q)
        return err_set(r->e, ERR_INVALID, "%s is not a quantity", what);
    memcpy(q, s, n);
    q[n] = '\0';
    u256 v;
    err ignored;
    if (u256_from_quantity(&v, q, &ignored) < 0)
        return err_set(r->e, ERR_INVALID, "%s \"%.40s\" is not a quantity", what, q);
    if (!u256_to_u64(&v, out) || *out > max)
        return err_set(r->e, ERR_OVERFLOW, "%s %.40s is out of range", what, q);
    return 0;
}

enum {
    F_ADDRESS = 1,
    F_TOPICS = 2,
    F_DATA = 4,
    F_BLOCK = 8,
    F_BHASH = 16,
    F_TX = 32,
    F_TXI = 64,
    F_LOGI = 128,
    F_REMOVED = 256,
};
#define F_REQUIRED (F_ADDRESS | F_TOPICS | F_DATA | F_BLOCK | F_BHASH | F_TX | F_TXI | F_LOGI)

static int one_log(rd *r, rpc_log *lg, buf *data, size_t *offset)
{
    memset(lg, 0, sizeof *lg);
    if (!eat(r, '{'))
        return err_set(r->e, ERR_INVALID, "a log is not an object");
    unsigned seen = 0;
    if (eat(r, '}'))
        return err_set(r->e, ERR_INVALID, "a log has no fields");
    for (;;) {
        const char *k;
        size_t kn;
        bool esc;
        if (string_raw(r, &k, &kn, &esc) < 0 || !eat(r, ':'))
            return fail(r, "bad log object");
        unsigned f = 0;
        int rc = 0;
        if (key_is(k, kn, "address")) {
            f = F_ADDRESS;
            rc = hex_fixed(r, lg->address.b, ADDR_LEN, "log address");
        } else if (key_is(k, kn, "blockHash")) {
            f = F_BHASH;
            rc = hex_fixed(r, lg->block_hash, 32, "log blockHash");
        } else if (key_is(k, kn, "transactionHash")) {
            f = F_TX;
            rc = hex_fixed(r, lg->tx_hash, 32, "log transactionHash");
        } else if (key_is(k, kn, "blockNumber")) {
            f = F_BLOCK;
            ws(r);
            if (r->p < r->end && *r->p == 'n')
                return err_set(r->e, ERR_INVALID, "a log has no block number (pending log)");
            rc = quantity(r, &lg->block_number, (uint64_t)INT64_MAX, "log blockNumber");
        } else if (key_is(k, kn, "transactionIndex") || key_is(k, kn, "logIndex")) {
            bool ti = kn == strlen("transactionIndex");
            f = ti ? F_TXI : F_LOGI;
            uint64_t v = 0;
            rc = quantity(r, &v, UINT32_MAX, ti ? "log transactionIndex" : "log logIndex");
            if (ti)
                lg->tx_index = (uint32_t)v;
            else
                lg->log_index = (uint32_t)v;
        } else if (key_is(k, kn, "data")) {
            f = F_DATA;
            const char *s;
            size_t n;
            rc = string_raw(r, &s, &n, &esc);
            *offset = data->len;
            err ignored;
            if (rc == 0 && (esc || hex_decode_buf(data, s, n, HEX_REQUIRE_PREFIX, &ignored) < 0))
                rc = err_set(r->e, ERR_INVALID, "log data is not a hex string");
            lg->data_len = data->len - *offset;
        } else if (key_is(k, kn, "topics")) {
            f = F_TOPICS;
            if (!eat(r, '['))
                return err_set(r->e, ERR_INVALID, "log topics are not an array");
            if (!eat(r, ']')) {
                for (;;) {
                    if (lg->n_topics == 4)
                        return err_set(r->e, ERR_INVALID, "a log has more than 4 topics");
                    if (hex_fixed(r, lg->topics[lg->n_topics++], 32, "log topic") < 0)
                        return -1;
                    if (eat(r, ','))
                        continue;
                    if (eat(r, ']'))
                        break;
                    return fail(r, "bad topics array");
                }
            }
        } else if (key_is(k, kn, "removed")) {
            f = F_REMOVED;
            ws(r);
            if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
                lg->removed = true;
                r->p += 4;
            } else if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
                r->p += 5;
            } else {
                return err_set(r->e, ERR_INVALID, "log removed flag is not a boolean");
            }
        } else {
            rc = skip_value(r); /* blockTimestamp and whatever nodes add */
        }
        if (rc < 0)
            return -1;
        if (f & seen)
            return err_set(r->e, ERR_INVALID, "a log repeats the field %.*s", (int)kn, k);
        seen |= f;
        if (eat(r, ','))
            continue;
        if (eat(r, '}'))
            break;
        return fail(r, "bad log object");
    }
    if ((seen & F_REQUIRED) != F_REQUIRED)
        return err_set(r->e, ERR_INVALID, "a log lacks a required field");
    return 0;
}

static int log_cmp(const void *a, const void *b)
{
    const rpc_log *x = a, *y = b;
    if (x->block_number != y->block_number)
        return x->block_number < y->block_number ? -1 : 1;
    return x->log_index < y->log_index ? -1 : x->log_index > y->log_index;
}

static int logs_array(rd *r, rpc_log_list *out)
{
    if (!eat(r, '['))
        return err_set(r->e, ERR_INVALID, "result is not an array of logs");
    size_t cap = 0;
    size_t *offsets = NULL;
    int rc = -1;
    if (!eat(r, ']')) {
        for (;;) {
            if (out->n == cap) {
                size_t nc = cap ? cap * 2 : 256;
                rpc_log *ni = realloc(out->items, nc * sizeof *ni);
                size_t *no = realloc(offsets, nc * sizeof *no);
                if (ni)
                    out->items = ni;
                if (no)
                    offsets = no;
                if (!ni || !no) {
                    err_set(r->e, ERR_NOMEM, "out of memory reading logs");
                    goto done;
                }
                cap = nc;
            }
            if (one_log(r, &out->items[out->n], &out->data_, &offsets[out->n]) < 0)
                goto done;
            out->n++;
            if (eat(r, ','))
                continue;
            if (eat(r, ']'))
                break;
            fail(r, "bad array of logs");
            goto done;
        }
    }
    bool sorted = true;
    for (size_t i = 0; i < out->n; i++) {
        out->items[i].data = out->items[i].data_len ? out->data_.data + offsets[i] : NULL;
        if (i && log_cmp(&out->items[i - 1], &out->items[i]) > 0)
            sorted = false;
    }
    if (!sorted)
        qsort(out->items, out->n, sizeof *out->items, log_cmp);
    rc = 0;
done:
    free(offsets);
    return rc;
}

int rpc_logs_parse(const char *text, size_t len, int64_t id, rpc_log_list *out, err *e)
{
    memset(out, 0, sizeof *out);
    rd r = {.base = text, .p = text, .end = text + len, .e = e};
    unsigned seen = 0;
    enum { S_RESULT = 1, S_ID = 2, S_VERSION = 4 };
    if (!eat(&r, '{'))
        return err_set(e, ERR_INVALID, "response is not a JSON object");
    if (eat(&r, '}'))
        return err_set(e, ERR_INVALID, "response is an empty object");
    for (;;) {
        const char *k;
        size_t kn;
        bool esc;
        if (string_raw(&r, &k, &kn, &esc) < 0 || !eat(&r, ':'))
            goto bad;
        if (key_is(k, kn, "result")) {
            if (seen & S_RESULT || logs_array(&r, out) < 0)
                goto bad;
            seen |= S_RESULT;
        } else if (key_is(k, kn, "id")) {
            ws(&r);
            const char *s = r.p;
            if (skip_number(&r) < 0)
                goto bad;
            char num[24];
            size_t n = (size_t)(r.p - s);
            if (seen & S_ID || n >= sizeof num || memchr(s, '.', n) || memchr(s, 'e', n) ||
                memchr(s, 'E', n)) {
                err_set(e, ERR_INVALID, "response id does not match request id %lld",
                        (long long)id);
                goto bad;
            }
            memcpy(num, s, n);
            num[n] = '\0';
            if (strtoll(num, NULL, 10) != id || n > 19) {
                err_set(e, ERR_INVALID, "response id does not match request id %lld",
                        (long long)id);
                goto bad;
            }
            seen |= S_ID;
        } else if (key_is(k, kn, "jsonrpc")) {
            const char *s;
            size_t n;
            if (seen & S_VERSION || string_raw(&r, &s, &n, &esc) < 0 || !key_is(s, n, "2.0")) {
                err_set(e, ERR_INVALID, "response is not JSON-RPC 2.0");
                goto bad;
            }
            seen |= S_VERSION;
        } else {
            /* "error" or anything unexpected: the general path decides what it means. */
            err_set(e, ERR_INVALID, "not a plain getLogs result");
            goto bad;
        }
        if (eat(&r, ','))
            continue;
        if (eat(&r, '}'))
            break;
        goto bad;
    }
    ws(&r);
    if (r.p != r.end) {
        err_set(e, ERR_INVALID, "data after the response");
        goto bad;
    }
    if (!(seen & S_RESULT) || !(seen & S_ID)) {
        err_set(e, ERR_INVALID, "response lacks result or id");
        goto bad;
    }
    return 0;
bad:
    rpc_log_list_free(out);
    return -1;
}

void rpc_log_list_free(rpc_log_list *l)
{
    if (!l)
        return;
    free(l->items);
    buf_free(&l->data_);
    memset(l, 0, sizeof *l);
}
