/* rpc.c: the JSON-RPC transport: one CURL easy handle per client (keep-alive
 * connection reuse), request framing and strict response checking (ids, types,
 * sizes), classification of failures, retries with backoff and jitter, and endpoint
 * failover with a health record per endpoint. Endpoint URLs are logged without their
 * path and query, which often carry a provider's API key. */
#include "rpc/rpc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/log.h"
#include "base/text.h"
#include "rpc/rpc_internal.h"
#include "rpc/rpc_logs.h"

typedef struct endpoint {
    char *url;       /* as sent: its ${env:...} / ${file:...} filled in (may hold a key) */
    char *stored;    /* as configured (desk.db), never with a key from elsewhere */
    char shown[128]; /* redacted for logs and messages */
    rpc_health health;
    char last_error[200];
    int64_t last_ok, last_fail;
    unsigned consecutive_failures;
    bool chain_ok;    /* its chain id was checked since its last failure */
    bool wrong_chain; /* its last check found another chain id */
    _Atomic int64_t limited_until_ms; /* rate limited (429, Retry-After) until then: unix ms
                                         (also written by a peer client's thread) */
    uint32_t latency_ms;      /* of its last answer */
    uint64_t range_cap;       /* blocks per eth_getLogs it is expected to take; 0: no limit seen */
    unsigned ok_at_cap;       /* answers in a row at the cap (the cap grows after a few) */
    unsigned grow_after;      /* ... after this many; doubles when a growth was refused */
    bool grew;                /* the cap grew since its last refusal */
} endpoint;

struct rpc_client {
    CURL *curl;
    struct curl_slist *headers;
    endpoint *eps;
    size_t n_eps;
    size_t cur;
    rpc_options opt;
    const atomic_int *cancel;
    bool has_chain; /* rpc_client_expect_chain */
    uint64_t chain_id;
    int64_t next_id;
    buf body;
    bool body_too_large;
    rpc_logs_stream *feeding; /* the answer under way goes here, not into body */
    size_t body_bytes;        /* of the answer under way */
    rpc_error last;
    bool health_changed;
    uint64_t rng;
    uint64_t requests;
    char curl_err[CURL_ERROR_SIZE];
    char retry_after[64]; /* the last answer's Retry-After header, "" when none */
    uint64_t logs_blocks; /* the eth_getLogs request under way: its number of blocks */
    uint64_t logs_from;   /* its first block */
    size_t logs_max_set;  /* rpc_client_set_logs_max */
    size_t logs_max;      /* the request under way's limit of logs (0: none) */
    bool logs_over;       /* the answer under way passed it and was cut short */
    uint64_t logs_over_block; /* the block of the first log beyond the limit */
    rpc_client *peer;     /* rpc_client_share_limits: told of this client's rate limits */
};

enum { CALL_NO_RETRY_TIMEOUT = 1 };

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void rpc_options_default(rpc_options *o)
{
    o->connect_timeout_ms = 3000;
    o->timeout_ms = 30000;
    o->max_attempts = 4;
    o->backoff_base_ms = 100;
    o->backoff_max_ms = 3000;
    o->max_response = (size_t)512 << 20;
    o->rate_limit_wait_max_ms = 30000;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* scheme://host[:port] plus "/..." when there was more; a user:password@ is "***@". */
static void redact(char *out, size_t cap, const char *url)
{
    const char *p = strstr(url, "://");
    const char *host = p ? p + 3 : url;
    size_t hl = strcspn(host, "/?#");
    const char *at = memchr(host, '@', hl);
    const char *from = at ? at + 1 : host;
    size_t fl = hl - (size_t)(from - host);
    bool more = host[hl] != '\0' && !(host[hl] == '/' && host[hl + 1] == '\0');
    snprintf(out, cap, "%.*s%s%.*s%s", (int)(host - url), url, at ? "***@" : "", (int)fl, from,
             more ? "/..." : "");
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    rpc_client *c = ud;
    size_t n = size * nmemb;
    if (c->body_bytes + n > c->opt.max_response) {
        c->body_too_large = true;
        return 0; /* aborts the transfer */
    }
    c->body_bytes += n;
    if (c->feeding) {
        /* Text that cannot be JSON is not kept either: finish says why. */
        (void)rpc_logs_stream_feed(c->feeding, ptr, n);
        uint64_t over;
        if (c->logs_max && rpc_logs_stream_over(c->feeding, &over)) {
            c->logs_over = true; /* what was read is dropped: no more is held */
            c->logs_over_block = over;
            return 0;
        }
        return n;
    }
    err e;
    if (buf_append(&c->body, ptr, n, &e) < 0)
        return 0;
    return n;
}

/* Keeps the Retry-After header of the answer (the other headers are not needed). */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    rpc_client *c = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && strncasecmp(ptr, name, sizeof name - 1) == 0) {
        size_t vl = n - (sizeof name - 1);
        if (vl >= sizeof c->retry_after)
            vl = sizeof c->retry_after - 1;
        memcpy(c->retry_after, ptr + sizeof name - 1, vl);
        c->retry_after[vl] = '\0';
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    rpc_client *c = ud;
    return c->cancel && atomic_load(c->cancel) ? 1 : 0;
}

int rpc_client_new(rpc_client **out, const char *const *urls, size_t n, const rpc_options *opt,
                   err *e)
{
    *out = NULL;
    if (n == 0)
        return err_set(e, ERR_INVALID, "no RPC endpoint given: add one with --rpc URL");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return err_set(e, ERR_INTERNAL, "libcurl initialisation failed: %s",
                       curl_easy_strerror(curl_init_rc));
    rpc_client *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(e, ERR_NOMEM, "out of memory creating an RPC client");
    if (opt)
        c->opt = *opt;
    else
        rpc_options_default(&c->opt);
    c->eps = calloc(n, sizeof *c->eps);
    c->curl = curl_easy_init();
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!c->eps || !c->curl || !c->headers)
        goto nomem;
    c->n_eps = n;
    for (size_t i = 0; i < n; i++) {
        redact(c->eps[i].shown, sizeof c->eps[i].shown, urls[i]);
        if (strncmp(urls[i], "http://", 7) != 0 && strncmp(urls[i], "https://", 8) != 0) {
            err_set(e, ERR_INVALID, "RPC endpoint \"%s\" is not an http:// or https:// URL",
                    c->eps[i].shown);
            rpc_client_free(&c);
            return -1;
        }
        c->eps[i].stored = strdup(urls[i]);
        if (!c->eps[i].stored)
            goto nomem;
        if (rpc_url_expand(urls[i], &c->eps[i].url, e) < 0) {
            err_prefix(e, "RPC endpoint %s", c->eps[i].shown);
            rpc_client_free(&c);
            return -1;
        }
    }
    c->next_id = 1;
    c->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c ^ 0x9E3779B97F4A7C15ull;
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opt.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opt.timeout_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    *out = c;
    return 0;
nomem:
    rpc_client_free(&c);
    return err_set(e, ERR_NOMEM, "out of memory creating an RPC client");
}

void rpc_client_share_limits(rpc_client *a, rpc_client *b)
{
    if (a == b || a->n_eps != b->n_eps)
        return;
    a->peer = b;
    b->peer = a;
}

void rpc_client_free(rpc_client **p)
{
    if (!p || !*p)
        return;
    rpc_client *c = *p;
    if (c->peer)
        c->peer->peer = NULL;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    for (size_t i = 0; c->eps && i < c->n_eps; i++) {
        char *u = c->eps[i].url;
        if (u) /* it may hold an API key */
            for (volatile char *v = u; *v; v++)
                *v = 0;
        free(u);
        free(c->eps[i].stored);
    }
    free(c->eps);
    buf_free(&c->body);
    free(c);
    *p = NULL;
}

void rpc_client_expect_chain(rpc_client *c, uint64_t chain_id)
{
    c->has_chain = true;
    c->chain_id = chain_id;
    for (size_t i = 0; i < c->n_eps; i++)
        c->eps[i].chain_ok = false;
}

void rpc_client_set_cancel(rpc_client *c, const atomic_int *flag)
{
    c->cancel = flag;
}

void rpc_client_set_logs_max(rpc_client *c, size_t max)
{
    c->logs_max_set = max;
}

rpc_status rpc_last_status(const rpc_client *c)
{
    return c->last.status;
}

const rpc_error *rpc_last_error(const rpc_client *c)
{
    return &c->last;
}

rpc_error *rpc_last_error_mut(rpc_client *c)
{
    return &c->last;
}

size_t rpc_endpoint_count(const rpc_client *c)
{
    return c->n_eps;
}

void rpc_endpoint_get(const rpc_client *c, size_t i, rpc_endpoint_info *out)
{
    const endpoint *ep = &c->eps[i];
    out->url = ep->stored;
    out->health = ep->health;
    snprintf(out->last_error, sizeof out->last_error, "%s", ep->last_error);
    out->last_ok = ep->last_ok;
    out->last_fail = ep->last_fail;
    out->consecutive_failures = ep->consecutive_failures;
    int64_t now = now_ms();
    out->rate_limited_until = ep->limited_until_ms > now ? (ep->limited_until_ms + 999) / 1000 : 0;
    out->latency_ms = ep->latency_ms;
    out->range_cap = ep->range_cap;
}

static size_t choose_endpoint(const rpc_client *c);

uint64_t rpc_logs_range_cap(const rpc_client *c)
{
    const endpoint *ep = &c->eps[choose_endpoint(c)];
    return ep->range_cap ? ep->range_cap : UINT64_MAX;
}

bool rpc_health_changed(rpc_client *c)
{
    bool ch = c->health_changed;
    c->health_changed = false;
    return ch;
}

uint64_t rpc_request_count(const rpc_client *c)
{
    return c->requests;
}

static bool cancelled(const rpc_client *c)
{
    return c->cancel && atomic_load(c->cancel);
}

static void ep_ok(rpc_client *c, endpoint *ep)
{
    int64_t now = now_s();
    if (ep->health != RPC_HEALTH_OK || ep->consecutive_failures || now - ep->last_ok >= 60)
        c->health_changed = true;
    ep->health = RPC_HEALTH_OK;
    ep->consecutive_failures = 0;
    ep->last_ok = now;
}

static void ep_fail(rpc_client *c, endpoint *ep, const rpc_error *er)
{
    ep->consecutive_failures++;
    ep->chain_ok = false; /* after a failure, the node behind the URL may be another one */
    ep->health = ep->consecutive_failures >= 3 ? RPC_HEALTH_DOWN : RPC_HEALTH_DEGRADED;
    char shown[171]; /* cut where a character or an escape ends */
    snprintf(ep->last_error, sizeof ep->last_error, "%s: %s", rpc_status_str(er->status),
             text_safe_str(shown, sizeof shown, er->message));
    ep->last_fail = now_s();
    c->health_changed = true;
}

static void set_error(rpc_error *er, rpc_status st, long http, int64_t code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

void rpc_endpoint_reject(rpc_client *c, const char *why)
{
    endpoint *ep = &c->eps[c->cur];
    rpc_error er;
    set_error(&er, RPC_MALFORMED, 0, 0, "%s", why);
    ep_fail(c, ep, &er);
    c->last = er;
    if (c->n_eps > 1)
        c->cur = (c->cur + 1) % c->n_eps;
    LOG_W("rpc", "%s set aside: %s%s", ep->shown, er.message,
          c->n_eps > 1 ? " (trying the next endpoint)" : "");
}

static void set_error(rpc_error *er, rpc_status st, long http, int64_t code, const char *fmt, ...)
{
    memset(er, 0, sizeof *er);
    er->status = st;
    er->http_status = http;
    er->code = code;
    char raw[4 * sizeof er->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* The node's text (an error message, a parser's excerpt of its answer) comes in
     * here: one line, its controls and bidi marks as visible escapes, for every output. */
    text_safe_str(er->message, sizeof er->message, raw);
}

/* Sends payload to ep; on success the answer is in c->body and *http its status. */
static int http_post(rpc_client *c, endpoint *ep, const char *payload, size_t len, long *http,
                     rpc_error *er)
{
    buf_reset(&c->body);
    c->body_bytes = 0;
    if (c->feeding)
        rpc_logs_stream_reset(c->feeding);
    c->body_too_large = false;
    c->logs_over = false;
    c->curl_err[0] = '\0';
    c->retry_after[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, ep->url);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    c->requests++;
    int64_t t0 = mono_ms();
    CURLcode rc = curl_easy_perform(c->curl);
    int64_t dt = mono_ms() - t0;
    ep->latency_ms = dt < 0 ? 0 : dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
    *http = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, http);
    if (rc == CURLE_OK)
        return 0;
    const char *detail = c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc);
    if (rc == CURLE_ABORTED_BY_CALLBACK || (rc == CURLE_WRITE_ERROR && cancelled(c))) {
        set_error(er, RPC_CANCELLED, 0, 0, "cancelled");
    } else if (c->logs_over) {
        /* The caller's limit, not the node's: a range of the blocks read whole instead
         * (the logs come by block), at least one block. */
        set_error(er, RPC_RANGE, 0, 0, "more than %zu logs in blocks %llu..%llu", c->logs_max,
                  (unsigned long long)c->logs_from,
                  (unsigned long long)(c->logs_from + c->logs_blocks - 1));
        er->has_hint = true;
        er->hint_from = c->logs_from;
        er->hint_to = c->logs_over_block > c->logs_from ? c->logs_over_block - 1 : c->logs_from;
    } else if (c->body_too_large) {
        set_error(er, RPC_RANGE, 0, 0, "response larger than %zu bytes", c->opt.max_response);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        /* Sent the request (on a new or a reused connection), or never got that far. */
        long sent = 0;
        curl_easy_getinfo(c->curl, CURLINFO_REQUEST_SIZE, &sent);
        if (sent > 0)
            set_error(er, RPC_TIMEOUT, 0, 0, "no complete answer within %ld ms", c->opt.timeout_ms);
        else
            set_error(er, RPC_TRANSPORT, 0, 0, "cannot connect: %s", detail);
    } else {
        set_error(er, RPC_TRANSPORT, 0, 0, "%s", detail);
    }
    return -1;
}

/* Classifies an "error" member. */
static void rpc_error_from_json(rpc_error *er, const json_t *error, long http)
{
    json_t *code = json_object_get(error, "code");
    json_t *msg = json_object_get(error, "message");
    int64_t ic = json_is_integer(code) ? (int64_t)json_integer_value(code) : 0;
    const char *ms = json_is_string(msg) ? json_string_value(msg) : "(no message)";
    rpc_status st = rpc_classify_error(ic, ms);
    set_error(er, st, http, ic, "code %lld: %s", (long long)ic, ms);
    if (st == RPC_RANGE)
        er->has_hint = rpc_range_hint(ms, &er->hint_from, &er->hint_to);
    /* Revert data of a failed call (geth, anvil): kept when it fits, as 0x hex. */
    json_t *data = json_object_get(error, "data");
    if (json_is_string(data) && json_string_length(data) < sizeof er->data &&
        strncmp(json_string_value(data), "0x", 2) == 0)
        memcpy(er->data, json_string_value(data), json_string_length(data) + 1);
}

int rpc_response_check(const json_t *resp, int64_t id, long http, json_t **result, rpc_error *er)
{
    if (!json_is_object(resp)) {
        set_error(er, RPC_MALFORMED, http, 0, "response is not a JSON object");
        return -1;
    }
    json_t *jv = json_object_get(resp, "jsonrpc");
    if (jv && (!json_is_string(jv) || strcmp(json_string_value(jv), "2.0") != 0)) {
        set_error(er, RPC_MALFORMED, http, 0, "response is not JSON-RPC 2.0");
        return -1;
    }
    json_t *jid = json_object_get(resp, "id");
    json_t *res = json_object_get(resp, "result");
    json_t *error = json_object_get(resp, "error");
    if (error && !json_is_null(error)) {
        if (!json_is_object(error)) {
            set_error(er, RPC_MALFORMED, http, 0, "response has a malformed error member");
            return -1;
        }
        /* An error may come with a null id (the node could not read ours). */
        if (!json_is_null(jid) && (!json_is_integer(jid) || json_integer_value(jid) != id)) {
            set_error(er, RPC_MALFORMED, http, 0, "response id does not match request id %lld",
                      (long long)id);
            return -1;
        }
        rpc_error_from_json(er, error, http);
        return -1;
    }
    if (!json_is_integer(jid) || json_integer_value(jid) != id) {
        set_error(er, RPC_MALFORMED, http, 0, "response id does not match request id %lld",
                  (long long)id);
        return -1;
    }
    if (!res) {
        set_error(er, RPC_MALFORMED, http, 0, "response has neither result nor error");
        return -1;
    }
    *result = json_incref(res);
    return 0;
}

/* The answer of a streamed eth_getLogs: its skeleton (rpc_logs.h). */
static json_t *stream_body(rpc_client *c, long http, rpc_error *er)
{
    json_t *root = NULL;
    err pe;
    if (rpc_logs_stream_finish(c->feeding, &root, &pe) == 0)
        return root;
    if (http != 200)
        set_error(er, rpc_classify_http(http), http, 0, "HTTP %ld", http);
    else if (c->body_bytes == 0)
        set_error(er, RPC_MALFORMED, http, 0, "empty response");
    else
        set_error(er, RPC_MALFORMED, http, 0, "response is not valid JSON (%s)", pe.msg);
    return NULL;
}

static json_t *parse_body(rpc_client *c, long http, rpc_error *er)
{
    if (c->feeding)
        return stream_body(c, http, er);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)c->body.data, c->body.len, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        if (http != 200)
            set_error(er, rpc_classify_http(http), http, 0, "HTTP %ld", http);
        else if (c->body.len == 0)
            set_error(er, RPC_MALFORMED, http, 0, "empty response");
        else
            set_error(er, RPC_MALFORMED, http, 0, "response is not valid JSON (%s at byte %d)",
                      jerr.text, jerr.position);
        return NULL;
    }
    return root;
}

/* Sleeps ms, in steps, ending early on cancel. */
static void pause_ms(rpc_client *c, long ms)
{
    while (ms > 0 && !cancelled(c)) {
        long step = ms > 20 ? 20 : ms;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static void backoff(rpc_client *c, int attempt)
{
    long d = c->opt.backoff_base_ms;
    for (int i = 1; i < attempt && d < c->opt.backoff_max_ms; i++)
        d *= 2;
    if (d > c->opt.backoff_max_ms)
        d = c->opt.backoff_max_ms;
    /* Equal jitter: half fixed, half random, so that clients do not stampede. */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    uint64_t r = c->rng * 0x2545F4914F6CDD1Dull;
    long ms = d / 2 + (d > 1 ? (long)(r % (uint64_t)(d / 2 + 1)) : 0);
    pause_ms(c, ms);
}

/* The endpoint the next request goes to: the current one, or the preferred one once it
 * has been quiet for a while; one that is rate limited is passed over for the next that
 * is not (when all are, the current one, which is then waited for). */
static size_t choose_endpoint(const rpc_client *c)
{
    size_t cur = c->cur;
    if (cur != 0 && now_s() - c->eps[0].last_fail >= 30)
        cur = 0;
    int64_t now = now_ms();
    for (size_t k = 0; k < c->n_eps; k++) {
        size_t i = (cur + k) % c->n_eps;
        if (c->eps[i].limited_until_ms <= now)
            return i;
    }
    return cur;
}

static endpoint *pick_endpoint(rpc_client *c)
{
    c->cur = choose_endpoint(c);
    return &c->eps[c->cur];
}

/* What an eth_getLogs answer (or refusal) of `blocks` blocks says about the endpoint's
 * range: a refusal (too many results, range too large, timeout) sets its cap to half the
 * range or the provider's suggestion; a few answers in a row at the cap let it double,
 * and a refused growth makes the next one wait twice as long. */
static void ep_logs_outcome_(endpoint *ep, uint64_t blocks, rpc_status st, const rpc_error *er)
{
    if (!blocks)
        return;
    if (!ep->grow_after)
        ep->grow_after = 4;
    if (st == RPC_OK) {
        if (ep->range_cap && blocks >= ep->range_cap && ++ep->ok_at_cap >= ep->grow_after) {
            ep->range_cap = ep->range_cap > UINT64_MAX / 4 ? 0 : ep->range_cap * 2;
            ep->ok_at_cap = 0;
            ep->grew = true;
        }
        return;
    }
    if (st != RPC_RANGE && st != RPC_TIMEOUT)
        return;
    uint64_t next = blocks / 2;
    if (er->has_hint && er->hint_to >= er->hint_from && er->hint_to - er->hint_from + 1 < blocks)
        next = er->hint_to - er->hint_from + 1;
    if (next == 0)
        next = 1;
    if (!ep->range_cap || next < ep->range_cap)
        ep->range_cap = next;
    ep->ok_at_cap = 0;
    if (ep->grew && ep->grow_after < 256)
        ep->grow_after *= 2;
    ep->grew = false;
}

static void ep_logs_outcome(rpc_client *c, endpoint *ep, uint64_t blocks, rpc_status st,
                            const rpc_error *er)
{
    uint64_t cap = ep->range_cap;
    ep_logs_outcome_(ep, blocks, st, er);
    if (ep->range_cap != cap)
        c->health_changed = true;
}

/* A 429 with Retry-After (seconds or an HTTP date): the endpoint is not asked again
 * before then. */
static void ep_rate_limited(rpc_client *c, endpoint *ep)
{
    int64_t secs;
    if (!rpc_retry_after_parse(c->retry_after, now_s(), &secs))
        return;
    int64_t until = now_ms() + secs * 1000;
    if (until > ep->limited_until_ms) {
        ep->limited_until_ms = until;
        c->health_changed = true;
    }
    /* the provider limits the key, not the connection: the peer waits too */
    endpoint *pe = c->peer ? &c->peer->eps[ep - c->eps] : NULL;
    if (pe && until > pe->limited_until_ms)
        pe->limited_until_ms = until;
}

static int ep_check_chain(rpc_client *c, endpoint *ep, rpc_error *er);

/* The retry loop around one HTTP exchange. handle() checks the parsed answer (with a
 * stream: its skeleton) and returns 0 (done), or -1 with er set. */
typedef int (*answer_fn)(rpc_client *c, json_t *root, long http, void *ud, rpc_error *er);

/* exchange() streams the answer into this when it is not NULL (eth_getLogs). */
typedef struct exchange_opts {
    int flags;
    rpc_logs_stream *stream;
} exchange_opts;

/* After an answer was taken (raw or parsed): does it answer the request? -1 with er set
 * (malformed) when not; the answer is then dropped like any other malformed one. */
typedef int (*accept_fn)(void *ud, rpc_error *er);

static int exchange(rpc_client *c, const char *what, const char *payload, size_t len,
                    const exchange_opts *xo, answer_fn handle, accept_fn accept, void *ud, err *e)
{
    int flags = xo ? xo->flags : 0;
    rpc_error er;
    memset(&er, 0, sizeof er);
    int attempts = c->opt.max_attempts > 0 ? c->opt.max_attempts : 1;
    endpoint *ep = NULL;
    for (int attempt = 1;; attempt++) {
        if (cancelled(c)) {
            set_error(&er, RPC_CANCELLED, 0, 0, "cancelled");
            break;
        }
        ep = pick_endpoint(c);
        int64_t wait = ep->limited_until_ms - now_ms();
        if (wait > c->opt.rate_limit_wait_max_ms) {
            /* Nothing is sent: asking before the provider's time is up only prolongs it. */
            set_error(&er, RPC_RATE_LIMIT, 429, 0,
                      "rate limited for %lld s more (the provider's Retry-After)",
                      (long long)((wait + 999) / 1000));
            break;
        }
        if (wait > 0) {
            LOG_I("rpc", "%s: waiting %lld ms for %s (rate limited, Retry-After)", what,
                  (long long)wait, ep->shown);
            pause_ms(c, (long)wait);
            if (cancelled(c)) {
                set_error(&er, RPC_CANCELLED, 0, 0, "cancelled");
                break;
            }
        }
        long http = 0;
        bool ready = !c->has_chain || ep->chain_ok || ep_check_chain(c, ep, &er) == 0;
        c->feeding = ready && xo ? xo->stream : NULL;
        int posted = ready ? http_post(c, ep, payload, len, &http, &er) : -1;
        json_t *root = posted == 0 ? parse_body(c, http, &er) : NULL;
        c->feeding = NULL;
        if (posted == 0) {
            bool taken = root && handle(c, root, http, ud, &er) == 0;
            json_decref(root);
            if (taken && (!accept || accept(ud, &er) == 0)) {
                ep_ok(c, ep);
                ep_logs_outcome(c, ep, c->logs_blocks, RPC_OK, &er);
                memset(&c->last, 0, sizeof c->last);
                return 0;
            }
        }
        if (ready && !c->logs_over) /* the caller's limit says nothing of the endpoint */
            ep_logs_outcome(c, ep, c->logs_blocks, er.status, &er);
        bool told_when = false;
        if (er.status == RPC_RATE_LIMIT) {
            int64_t before = ep->limited_until_ms;
            ep_rate_limited(c, ep);
            told_when = ep->limited_until_ms != before;
        }
        /* The node answered sensibly (an error object): the endpoint is fine. */
        if (er.status == RPC_RPC || er.status == RPC_RANGE)
            ep_ok(c, ep);
        else if (er.status != RPC_CANCELLED)
            ep_fail(c, ep, &er);
        bool retry = rpc_status_retryable(er.status) &&
                     !(er.status == RPC_TIMEOUT && (flags & CALL_NO_RETRY_TIMEOUT));
        if (!retry || attempt >= attempts)
            break;
        LOG_W("rpc", "%s via %s: %s: %s (attempt %d of %d, retrying)", what, ep->shown,
              rpc_status_str(er.status), er.message, attempt, attempts);
        if (c->n_eps > 1)
            c->cur = (c->cur + 1) % c->n_eps;
        if (!told_when) /* else the wait above, or the next endpoint meanwhile */
            backoff(c, attempt);
    }
    c->last = er;
    if (er.status != RPC_CANCELLED && er.status != RPC_RPC)
        LOG_W("rpc", "%s via %s failed: %s: %s", what, ep ? ep->shown : "?",
              rpc_status_str(er.status), er.message);
    bool all_wrong = er.status == RPC_WRONG_CHAIN;
    for (size_t i = 0; all_wrong && i < c->n_eps; i++)
        all_wrong = c->eps[i].wrong_chain;
    return err_set(e, all_wrong ? ERR_DENIED : ERR_RPC, "%s via %s: %s: %s%s", what,
                   ep ? ep->shown : "?", rpc_status_str(er.status), er.message,
                   all_wrong ? ": check the chain's RPC endpoints" : "");
}

typedef struct single_ud {
    int64_t id;
    json_t *result;
    rpc_check_fn check;
    void *check_ud;
} single_ud;

/* The caller's check of a result. */
static int single_accept(void *ud, rpc_error *er)
{
    single_ud *s = ud;
    if (!s->check)
        return 0;
    err ce;
    err_clear(&ce);
    if (s->check(s->result, s->check_ud, &ce) == 0)
        return 0;
    json_decref(s->result);
    s->result = NULL;
    set_error(er, RPC_MALFORMED, 200, 0, "%s", ce.msg);
    return -1;
}

static int single_answer(rpc_client *c, json_t *root, long http, void *ud, rpc_error *er)
{
    single_ud *s = ud;
    if (http != 200) {
        /* Providers send 429 or 400 with a JSON-RPC error body; its class says more. */
        json_t *error = json_is_object(root) ? json_object_get(root, "error") : NULL;
        if (json_is_object(error))
            rpc_error_from_json(er, error, http);
        else
            set_error(er, rpc_classify_http(http), http, 0, "HTTP %ld", http);
        return -1;
    }
    if (json_is_array(root)) {
        set_error(er, RPC_MALFORMED, http, 0, "response is an array, expected an object");
        return -1;
    }
    return rpc_response_check(root, s->id, http, &s->result, er);
}

/* Asks ep for its chain id (rpc_client_expect_chain). */
static int ep_check_chain(rpc_client *c, endpoint *ep, rpc_error *er)
{
    single_ud s = {.id = c->next_id++};
    char payload[96];
    int n = snprintf(payload, sizeof payload,
                     "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"eth_chainId\","
                     "\"params\":[]}",
                     (long long)s.id);
    long http = 0;
    if (http_post(c, ep, payload, (size_t)n, &http, er) < 0)
        return -1;
    json_t *root = parse_body(c, http, er);
    int rc = root ? single_answer(c, root, http, &s, er) : -1;
    json_decref(root);
    if (rc < 0)
        return -1;
    uint64_t id;
    err pe;
    rc = rpc_parse_u64(s.result, &id, "chain id", &pe);
    json_decref(s.result);
    if (rc < 0) {
        set_error(er, RPC_MALFORMED, http, 0, "eth_chainId: %s", pe.msg);
        return -1;
    }
    ep->wrong_chain = id != c->chain_id;
    if (ep->wrong_chain) {
        set_error(er, RPC_WRONG_CHAIN, http, 0, "the node reports chain id %llu, not %llu",
                  (unsigned long long)id, (unsigned long long)c->chain_id);
        return -1;
    }
    ep->chain_ok = true;
    return 0;
}

static int call_flags(rpc_client *c, const char *method, json_t *params,
                      const exchange_opts *xo, rpc_check_fn check, void *check_ud,
                      json_t **result, err *e)
{
    *result = NULL;
    single_ud ud = {.id = c->next_id++, .result = NULL, .check = check, .check_ud = check_ud};
    json_t *req =
        json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)ud.id, "method",
                  method, "params", params ? json_incref(params) : json_array());
    char *payload = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!payload)
        return err_set(e, ERR_NOMEM, "out of memory building an RPC request");
    int rc = exchange(c, method, payload, strlen(payload), xo, single_answer, single_accept, &ud,
                      e);
    free(payload);
    if (rc == 0)
        *result = ud.result;
    return rc;
}

int rpc_call(rpc_client *c, const char *method, json_t *params, json_t **result, err *e)
{
    return call_flags(c, method, params, NULL, NULL, NULL, result, e);
}

int rpc_call_checked(rpc_client *c, const char *method, json_t *params, rpc_check_fn check,
                     void *check_ud, json_t **result, err *e)
{
    return call_flags(c, method, params, NULL, check, check_ud, result, e);
}

/* The number of blocks an eth_getLogs filter asks for (0 when it cannot tell), from *first. */
static uint64_t filter_blocks(const json_t *params, uint64_t *first)
{
    json_t *f = json_array_get(params, 0);
    json_t *a = json_object_get(f, "fromBlock"), *b = json_object_get(f, "toBlock");
    uint64_t from, to;
    err pe;
    if (!a || !b || rpc_parse_u64(a, &from, "fromBlock", &pe) < 0 ||
        rpc_parse_u64(b, &to, "toBlock", &pe) < 0 || to < from)
        return 0;
    *first = from;
    return to - from + 1;
}

int rpc_call_logs(rpc_client *c, json_t *params, rpc_logs_stream *stream, rpc_check_fn check,
                  void *check_ud, json_t **result, err *e)
{
    c->logs_from = 0;
    c->logs_blocks = filter_blocks(params, &c->logs_from);
    c->logs_max = c->logs_blocks > 1 ? c->logs_max_set : 0; /* one block is read whole */
    c->logs_over = false;
    rpc_logs_stream_limit(stream, c->logs_max);
    exchange_opts xo = {.flags = CALL_NO_RETRY_TIMEOUT, .stream = stream};
    int rc = call_flags(c, "eth_getLogs", params, &xo, check, check_ud, result, e);
    c->logs_blocks = 0;
    c->logs_max = 0;
    return rc;
}

typedef struct batch_ud {
    rpc_request *reqs;
    size_t n;
    int64_t first_id;
    rpc_check_fn check;
    void *check_ud;
} batch_ud;

static int batch_accept(void *ud, rpc_error *er)
{
    batch_ud *b = ud;
    if (!b->check)
        return 0;
    err ce;
    err_clear(&ce);
    if (b->check(NULL, b->check_ud, &ce) == 0)
        return 0;
    rpc_batch_clear(b->reqs, b->n);
    set_error(er, RPC_MALFORMED, 200, 0, "%s", ce.msg);
    return -1;
}

static int batch_answer(rpc_client *c, json_t *root, long http, void *ud, rpc_error *er)
{
    batch_ud *b = ud;
    if (json_is_object(root)) {
        /* A single error object for the whole batch (e.g. batches not supported). */
        json_t *error = json_object_get(root, "error");
        if (json_is_object(error))
            rpc_error_from_json(er, error, http);
        else
            set_error(er, RPC_MALFORMED, http, 0, "batch answered with a single object");
        return -1;
    }
    if (http != 200) {
        set_error(er, rpc_classify_http(http), http, 0, "HTTP %ld", http);
        return -1;
    }
    if (!json_is_array(root) || json_array_size(root) != b->n) {
        set_error(er, RPC_MALFORMED, http, 0, "batch of %zu answered with %zu responses", b->n,
                  json_is_array(root) ? json_array_size(root) : (size_t)0);
        return -1;
    }
    rpc_batch_clear(b->reqs, b->n);
    bool *seen = calloc(b->n, sizeof *seen);
    if (!seen) {
        set_error(er, RPC_MALFORMED, http, 0, "out of memory reading a batch");
        return -1;
    }
    size_t i;
    json_t *r;
    json_array_foreach(root, i, r)
    {
        json_t *jid = json_is_object(r) ? json_object_get(r, "id") : NULL;
        if (!json_is_integer(jid) || json_integer_value(jid) < b->first_id ||
            json_integer_value(jid) >= b->first_id + (json_int_t)b->n) {
            set_error(er, RPC_MALFORMED, http, 0, "batch response with an unknown id");
            goto fail;
        }
        size_t k = (size_t)(json_integer_value(jid) - b->first_id);
        if (seen[k]) {
            set_error(er, RPC_MALFORMED, http, 0, "batch response id %lld appears twice",
                      (long long)json_integer_value(jid));
            goto fail;
        }
        seen[k] = true;
        rpc_request *q = &b->reqs[k];
        rpc_error ie;
        if (rpc_response_check(r, b->first_id + (int64_t)k, http, &q->result, &ie) < 0) {
            if (ie.status == RPC_MALFORMED) {
                *er = ie;
                goto fail;
            }
            q->status = ie.status;
            q->code = ie.code;
            snprintf(q->message, sizeof q->message, "%s", ie.message);
        } else {
            q->status = RPC_OK;
        }
    }
    free(seen);
    return 0;
fail:
    free(seen);
    rpc_batch_clear(b->reqs, b->n);
    return -1;
}

int rpc_batch(rpc_client *c, rpc_request *reqs, size_t n, err *e)
{
    return rpc_batch_checked(c, reqs, n, NULL, NULL, e);
}

static int batch_xo(rpc_client *c, rpc_request *reqs, size_t n, const exchange_opts *xo,
                    rpc_check_fn check, void *check_ud, err *e);

int rpc_batch_checked(rpc_client *c, rpc_request *reqs, size_t n, rpc_check_fn check,
                      void *check_ud, err *e)
{
    return batch_xo(c, reqs, n, NULL, check, check_ud, e);
}

int rpc_batch_stream(rpc_client *c, rpc_request *reqs, size_t n, rpc_logs_stream *stream,
                     rpc_check_fn check, void *check_ud, err *e)
{
    exchange_opts xo = {.stream = stream};
    return batch_xo(c, reqs, n, &xo, check, check_ud, e);
}

static int batch_xo(rpc_client *c, rpc_request *reqs, size_t n, const exchange_opts *xo,
                    rpc_check_fn check, void *check_ud, err *e)
{
    if (n == 0)
        return 0;
    batch_ud ud = {
        .reqs = reqs, .n = n, .first_id = c->next_id, .check = check, .check_ud = check_ud};
    c->next_id += (int64_t)n;
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        reqs[i].result = NULL;
        reqs[i].status = RPC_OK;
        json_t *req =
            json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id",
                      (json_int_t)(ud.first_id + (int64_t)i), "method", reqs[i].method, "params",
                      reqs[i].params ? json_incref(reqs[i].params) : json_array());
        if (!req || json_array_append_new(arr, req) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *payload = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!payload)
        return err_set(e, ERR_NOMEM, "out of memory building an RPC batch");
    char what[64];
    snprintf(what, sizeof what, "batch of %zu %s", n, reqs[0].method);
    int rc = exchange(c, what, payload, strlen(payload), xo, batch_answer, batch_accept, &ud, e);
    free(payload);
    return rc;
}

void rpc_batch_clear(rpc_request *reqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(reqs[i].result);
        reqs[i].result = NULL;
    }
}
