/* core.c: the pure part of the API: routes, query and body checks, problem bodies, token
 * hashing and rate buckets. No database, no sockets: the fuzz target and the unit tests
 * drive it directly. */
#include "api/api.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

typedef struct route_def {
    api_route route;
    const char *method, *pattern;
    api_scope scope;
} route_def;

static const route_def routes[] = {
#define API_ROUTE_ROW_(id, m, p, s) {API_ROUTE_##id, m, p, s},
    API_ROUTES(API_ROUTE_ROW_)
#undef API_ROUTE_ROW_
};

/* Matches path against pattern; "{}" takes one non-empty segment (at most API_SEG_MAX-1). */
static bool path_fits(const char *pattern, const char *path, api_match *m)
{
    unsigned n = 0;
    const char *p = pattern, *s = path;
    while (*p) {
        if (p[0] == '{' && p[1] == '}') {
            size_t len = strcspn(s, "/");
            if (len == 0 || len >= API_SEG_MAX || n >= 2)
                return false;
            memcpy(m->seg[n], s, len);
            m->seg[n][len] = '\0';
            n++;
            s += len;
            p += 2;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*s)
        return false;
    m->n_seg = n;
    return true;
}

void api_route_match(const char *method, const char *path, api_match *m)
{
    memset(m, 0, sizeof *m);
    if (!method || !path)
        return;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        api_match t;
        memset(&t, 0, sizeof t);
        if (!path_fits(routes[i].pattern, path, &t))
            continue;
        /* a literal route wins over a pattern that also fits (/v1/proposals/escrow) */
        if (strcmp(routes[i].method, method) != 0) {
            m->path_known = true;
            continue;
        }
        if (m->route != API_ROUTE_NONE && t.n_seg > m->n_seg)
            continue;
        bool known = m->path_known;
        *m = t;
        m->route = routes[i].route;
        m->scope = routes[i].scope;
        m->path_known = known;
    }
}

const char *api_scope_str(api_scope s)
{
    return s == API_SCOPE_PROPOSE ? "propose" : s == API_SCOPE_READ ? "read" : "none";
}

int api_scope_parse(api_scope *out, const char *s)
{
    if (s && !strcmp(s, "read"))
        *out = API_SCOPE_READ;
    else if (s && !strcmp(s, "propose"))
        *out = API_SCOPE_PROPOSE;
    else
        return -1;
    return 0;
}

int api_fail(api_problem *p, int status, const char *type, const char *fmt, ...)
{
    static const struct {
        int status;
        const char *title;
    } titles[] = {
        {400, "Bad Request"},       {401, "Unauthorized"},
        {403, "Forbidden"},         {404, "Not Found"},
        {405, "Method Not Allowed"}, {408, "Request Timeout"},
        {409, "Conflict"},          {411, "Length Required"},
        {413, "Content Too Large"}, {415, "Unsupported Media Type"},
        {422, "Unprocessable Content"}, {429, "Too Many Requests"},
        {500, "Internal Server Error"}, {501, "Not Implemented"},
        {503, "Service Unavailable"},
    };
    memset(p, 0, sizeof *p);
    p->status = status;
    snprintf(p->type, sizeof p->type, "%s", type);
    snprintf(p->title, sizeof p->title, "Error");
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (titles[i].status == status)
            snprintf(p->title, sizeof p->title, "%s", titles[i].title);
    char raw[sizeof p->detail];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* the detail may quote what the client sent: made printable once, here */
    text_safe_str(p->detail, sizeof p->detail, raw);
    return -1;
}

char *api_problem_json(const api_problem *p)
{
    char type[96];
    snprintf(type, sizeof type, "https://fusion.invalid/problems/%s", p->type);
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", p->title, "status",
                          p->status, "detail", p->detail);
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* ---- query ---- */

static bool allowed_name(const char *allowed, const char *key)
{
    size_t kl = strlen(key);
    const char *a = allowed;
    while (*a) {
        size_t l = strcspn(a, ",");
        if (l == kl && !memcmp(a, key, l))
            return true;
        a += l;
        if (*a == ',')
            a++;
    }
    return false;
}

static int parse_size(const char *s, unsigned long long max, unsigned long long *out)
{
    if (!s || !*s || strlen(s) > 12 || strspn(s, "0123456789") != strlen(s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v > max)
        return -1;
    *out = v;
    return 0;
}

static const char *const sort_names[] = {"recent", "address", "chain",     "payee", "asset",
                                         "amount", "state",   "approvals", "block"};

int api_page_parse(api_page *out, const api_kv *kv, size_t n, const char *allowed, api_problem *p)
{
    memset(out, 0, sizeof *out);
    out->limit = 50;
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i].key, *v = kv[i].value ? kv[i].value : "";
        if (!k || !allowed_name(allowed, k))
            return api_fail(p, 400, "unknown-parameter",
                            "unknown query parameter \"%.40s\" (this list takes: %s)", k ? k : "",
                            allowed);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(kv[j].key, k))
                return api_fail(p, 400, "repeated-parameter",
                                "query parameter \"%.40s\" is given twice", k);
        unsigned long long u;
        if (!strcmp(k, "offset")) {
            if (parse_size(v, 100000000ull, &u) < 0)
                return api_fail(p, 400, "bad-parameter", "offset must be 0..100000000");
            out->offset = (size_t)u;
        } else if (!strcmp(k, "limit")) {
            if (parse_size(v, API_PAGE_MAX, &u) < 0 || u == 0)
                return api_fail(p, 400, "bad-parameter", "limit must be 1..%d", API_PAGE_MAX);
            out->limit = (size_t)u;
        } else if (!strcmp(k, "after")) {
            if (parse_size(v, (unsigned long long)INT64_MAX, &u) < 0)
                return api_fail(p, 400, "bad-parameter", "after must be an id (0 or more)");
            out->after = (int64_t)u;
        } else if (!strcmp(k, "q")) {
            if (strlen(v) >= sizeof out->q)
                return api_fail(p, 400, "bad-parameter", "q is longer than %zu characters",
                                sizeof out->q - 1);
            snprintf(out->q, sizeof out->q, "%s", v);
        } else if (!strcmp(k, "sort")) {
            size_t j = 0;
            while (j < sizeof sort_names / sizeof sort_names[0] && strcmp(sort_names[j], v))
                j++;
            if (j == sizeof sort_names / sizeof sort_names[0])
                return api_fail(p, 400, "bad-parameter",
                                "sort must be one of recent, address, chain, payee, asset, "
                                "amount, state, approvals, block");
            out->sort = (int)j;
        } else if (!strcmp(k, "order")) {
            if (strcmp(v, "asc") && strcmp(v, "desc"))
                return api_fail(p, 400, "bad-parameter", "order must be asc or desc");
            out->descending = !strcmp(v, "desc");
        } else if (!strcmp(k, "state")) {
            if (strlen(v) >= sizeof out->state || strspn(v, "abcdefghijklmnopqrstuvwxyz_") != strlen(v) || !*v)
                return api_fail(p, 400, "bad-parameter", "state must be a state name");
            snprintf(out->state, sizeof out->state, "%s", v);
        }
    }
    return 0;
}

/* ---- the escrow proposal body ---- */

static int str_field(json_t *v, const char *name, char *out, size_t cap, bool required,
                     api_problem *p)
{
    if (!v) {
        if (required)
            return api_fail(p, 422, "missing-field", "field \"%s\" is required", name);
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return api_fail(p, 422, "wrong-type", "field \"%s\" must be a string", name);
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len == 0 && required)
        return api_fail(p, 422, "bad-field", "field \"%s\" is empty", name);
    if (len >= cap || strlen(s) != len)
        return api_fail(p, 422, "bad-field", "field \"%s\" is longer than %zu characters "
                        "(or holds a NUL)", name, cap - 1);
    size_t bad = text_unsafe_at(s, len);
    if (bad < len)
        return api_fail(p, 422, "bad-field",
                        "field \"%s\" has a control character, a bidi control or a byte that "
                        "is not UTF-8 at byte %zu: send one line of plain text",
                        name, bad + 1);
    memcpy(out, s, len + 1);
    return 0;
}

static int uint_field(json_t *v, const char *name, uint64_t max, bool required, uint64_t *out,
                      api_problem *p)
{
    if (!v) {
        if (required)
            return api_fail(p, 422, "missing-field", "field \"%s\" is required", name);
        *out = 0;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max)
        return api_fail(p, 422, "wrong-type", "field \"%s\" must be an integer 0..%llu", name,
                        (unsigned long long)max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static const char *const escrow_fields[] = {"chain",     "payee",     "token",    "amount",
                                            "approvers", "threshold", "deadline", "arbiter",
                                            "dispute_window", "operator", "reference"};

static const char *const payment_fields[] = {"chain", "payee", "token", "amount", "operator",
                                             "reference"};

static const char *const bridge_fields[] = {"chain", "to", "token", "amount", "recipient",
                                            "operator", "reference", "route"};

typedef enum { REQ_ESCROW, REQ_PAYMENT, REQ_BRIDGE } req_kind;

static int req_parse(api_escrow_req *out, const char *body, size_t len, req_kind kind,
                     api_problem *p);

int api_escrow_req_parse(api_escrow_req *out, const char *body, size_t len, api_problem *p)
{
    return req_parse(out, body, len, REQ_ESCROW, p);
}

int api_payment_req_parse(api_escrow_req *out, const char *body, size_t len, api_problem *p)
{
    return req_parse(out, body, len, REQ_PAYMENT, p);
}

int api_bridge_req_parse(api_escrow_req *out, const char *body, size_t len, api_problem *p)
{
    return req_parse(out, body, len, REQ_BRIDGE, p);
}

static int req_parse(api_escrow_req *out, const char *body, size_t len, req_kind kind,
                     api_problem *p)
{
    bool payment = kind != REQ_ESCROW; /* no approvers, threshold, deadline */
    memset(out, 0, sizeof *out);
    if (!body || len == 0)
        return api_fail(p, 400, "empty-body", "the request has no body: send the proposal as a "
                        "JSON object");
    if (len > API_BODY_MAX)
        return api_fail(p, 413, "body-too-large", "the body is larger than %d bytes",
                        API_BODY_MAX);
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return api_fail(p, 400, "malformed-json", "the body is not JSON: %s (line %d)", je.text,
                        je.line);
    int rc = -1;
    if (!json_is_object(o)) {
        api_fail(p, 400, "not-an-object", "the body must be a JSON object");
        goto out;
    }
    const char *k;
    json_t *v;
    const char *const *fields = kind == REQ_BRIDGE ? bridge_fields
                                : payment          ? payment_fields
                                                   : escrow_fields;
    size_t n_fields = kind == REQ_BRIDGE ? sizeof bridge_fields / sizeof bridge_fields[0]
                      : payment          ? sizeof payment_fields / sizeof payment_fields[0]
                                         : sizeof escrow_fields / sizeof escrow_fields[0];
    json_object_foreach(o, k, v) {
        size_t i = 0;
        while (i < n_fields && strcmp(fields[i], k))
            i++;
        if (i == n_fields) {
            if (kind == REQ_BRIDGE)
                api_fail(p, 422, "unknown-field", "unknown field \"%.40s\" (a bridge proposal "
                         "takes chain, to, token, amount, recipient, operator, reference, route)", k);
            else if (payment)
                api_fail(p, 422, "unknown-field", "unknown field \"%.40s\" (a payment proposal "
                         "takes chain, payee, token, amount, operator, reference)", k);
            else
                api_fail(p, 422, "unknown-field", "unknown field \"%.40s\" (an escrow proposal "
                         "takes chain, payee, token, amount, approvers, threshold, deadline, "
                         "arbiter, dispute_window, operator, reference)", k);
            goto out;
        }
    }
    uint64_t thr = 0;
    bool bridge = kind == REQ_BRIDGE;
    const char *party = bridge ? "recipient" : "payee";
    if (bridge && (str_field(json_object_get(o, "to"), "to", out->to, sizeof out->to, true, p) ||
                   str_field(json_object_get(o, "token"), "token", out->token, sizeof out->token,
                             false, p)))
        goto out;
    if (bridge && !out->token[0])
        snprintf(out->token, sizeof out->token, "USDC");
    if (bridge &&
        str_field(json_object_get(o, "route"), "route", out->route, sizeof out->route, false, p))
        goto out;
    if (bridge && !out->route[0])
        snprintf(out->route, sizeof out->route, "cctp");
    if (bridge && strcmp(out->route, "cctp") != 0 && strcmp(out->route, "ccip") != 0) {
        api_fail(p, 422, "bad-field", "field \"route\" is cctp (USDC, the default) or ccip, not "
                 "\"%s\"", out->route);
        goto out;
    }
    if (str_field(json_object_get(o, "chain"), "chain", out->chain, sizeof out->chain, bridge,
                  p) ||
        str_field(json_object_get(o, party), party, out->payee, sizeof out->payee, true, p) ||
        (!bridge &&
         str_field(json_object_get(o, "token"), "token", out->token, sizeof out->token, true, p)) ||
        str_field(json_object_get(o, "amount"), "amount", out->amount, sizeof out->amount, true,
                  p) ||
        uint_field(json_object_get(o, "threshold"), "threshold", STORE_MAX_APPROVERS, !payment,
                   &thr, p) ||
        str_field(json_object_get(o, "deadline"), "deadline", out->deadline,
                  sizeof out->deadline, !payment, p) ||
        str_field(json_object_get(o, "arbiter"), "arbiter", out->arbiter, sizeof out->arbiter,
                  false, p) ||
        uint_field(json_object_get(o, "dispute_window"), "dispute_window", 10ull * 365 * 86400,
                   false, &out->dispute_window, p) ||
        str_field(json_object_get(o, "operator"), "operator", out->operator_name,
                  sizeof out->operator_name, false, p) ||
        str_field(json_object_get(o, "reference"), "reference", out->reference,
                  sizeof out->reference, false, p))
        goto out;
    out->threshold = (unsigned)thr;
    if (strspn(out->amount, "0123456789") != strlen(out->amount) || strlen(out->amount) > 78) {
        api_fail(p, 422, "bad-field", "field \"amount\" must be a whole number of base units "
                 "as a decimal string (e.g. \"1500000\")");
        goto out;
    }
    if (payment) {
        if (!strcmp(out->amount, "") || strspn(out->amount, "0") == strlen(out->amount)) {
            api_fail(p, 422, "bad-field", "field \"amount\" must be above zero");
            goto out;
        }
        rc = 0;
        goto out;
    }
    json_t *ap = json_object_get(o, "approvers");
    if (!ap) {
        api_fail(p, 422, "missing-field", "field \"approvers\" is required");
        goto out;
    }
    if (!json_is_array(ap) || json_array_size(ap) == 0 ||
        json_array_size(ap) > STORE_MAX_APPROVERS) {
        api_fail(p, 422, "wrong-type", "field \"approvers\" must be an array of 1..%d strings",
                 STORE_MAX_APPROVERS);
        goto out;
    }
    size_t i;
    json_array_foreach(ap, i, v) {
        if (str_field(v, "approvers[]", out->approvers[i], sizeof out->approvers[i], true, p))
            goto out;
    }
    out->n_approvers = (unsigned)json_array_size(ap);
    if (out->threshold == 0 || out->threshold > out->n_approvers) {
        api_fail(p, 422, "bad-field", "field \"threshold\" must be 1..%u (the approvers given)",
                 out->n_approvers);
        goto out;
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}

char *api_escrow_req_json(const api_escrow_req *r)
{
    json_t *ap = json_array();
    for (unsigned i = 0; i < r->n_approvers; i++)
        json_array_append_new(ap, json_string(r->approvers[i]));
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:i, s:s}", "payee", r->payee, "token", r->token,
                          "amount", r->amount, "approvers", ap, "threshold", (int)r->threshold,
                          "deadline", r->deadline);
    if (!o)
        return NULL;
    if (r->chain[0])
        json_object_set_new(o, "chain", json_string(r->chain));
    if (r->arbiter[0])
        json_object_set_new(o, "arbiter", json_string(r->arbiter));
    if (r->dispute_window)
        json_object_set_new(o, "dispute_window", json_integer((json_int_t)r->dispute_window));
    if (r->operator_name[0])
        json_object_set_new(o, "operator", json_string(r->operator_name));
    if (r->reference[0])
        json_object_set_new(o, "reference", json_string(r->reference));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

char *api_bridge_req_json(const api_escrow_req *r)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "chain", r->chain, "to", r->to, "token",
                          r->token, "amount", r->amount, "recipient", r->payee);
    if (!o)
        return NULL;
    if (r->operator_name[0])
        json_object_set_new(o, "operator", json_string(r->operator_name));
    if (r->reference[0])
        json_object_set_new(o, "reference", json_string(r->reference));
    /* the default route is left out: a CCTP proposal reads as it did before routes */
    if (r->route[0] && strcmp(r->route, "cctp") != 0)
        json_object_set_new(o, "route", json_string(r->route));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

char *api_payment_req_json(const api_escrow_req *r)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "payee", r->payee, "token", r->token, "amount",
                          r->amount);
    if (!o)
        return NULL;
    if (r->chain[0])
        json_object_set_new(o, "chain", json_string(r->chain));
    if (r->operator_name[0])
        json_object_set_new(o, "operator", json_string(r->operator_name));
    if (r->reference[0])
        json_object_set_new(o, "reference", json_string(r->reference));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

/* ---- tokens ---- */

void api_token_hash(const char *token, char out[65])
{
    uint8_t h[32];
    crypto_generichash(h, sizeof h, (const uint8_t *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
    sodium_memzero(h, sizeof h);
}

void api_token_new(char out[API_TOKEN_LEN + 1])
{
    uint8_t r[32];
    randombytes_buf(r, sizeof r);
    memcpy(out, API_TOKEN_PREFIX, 4);
    sodium_bin2hex(out + 4, 65, r, sizeof r);
    sodium_memzero(r, sizeof r);
}

int api_bearer(const char *header, const char **tok)
{
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return -1;
    const char *t = header + 7;
    while (*t == ' ')
        t++;
    if (strlen(t) != API_TOKEN_LEN || strncmp(t, API_TOKEN_PREFIX, 4) != 0 ||
        strspn(t + 4, "0123456789abcdef") != 64)
        return -1;
    *tok = t;
    return 0;
}

bool api_bucket_take(api_bucket *b, double now, double rate, double burst, unsigned *retry_s)
{
    if (!b->primed) {
        b->tokens = burst;
        b->last = now;
        b->primed = true;
    }
    if (now > b->last) {
        b->tokens += (now - b->last) * rate;
        if (b->tokens > burst)
            b->tokens = burst;
        b->last = now;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    double wait = rate > 0 ? (1.0 - b->tokens) / rate : 60.0;
    unsigned s = (unsigned)ceil(wait);
    *retry_s = s < 1 ? 1 : s;
    return false;
}

int64_t api_event_id_parse(const char *s)
{
    unsigned long long v;
    if (parse_size(s, (unsigned long long)INT64_MAX, &v) < 0)
        return -1;
    return (int64_t)v;
}
