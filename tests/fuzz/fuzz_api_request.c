/* fuzz_api_request.c: libFuzzer target for what an HTTP client sends `fusion serve`: the
 * request line (method, path, query), the Authorization and Last-Event-ID headers and a
 * proposal body, through the API's pure core. Input: "METHOD PATH[?QUERY]\nAUTH\nLAST-ID\n"
 * then the body. Any input is accepted or refused with a problem (status 4xx, a detail);
 * an accepted body's canonical form parses again to the same; never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *take_line(const uint8_t **p, size_t *n)
{
    const uint8_t *nl = memchr(*p, '\n', *n);
    size_t len = nl ? (size_t)(nl - *p) : *n;
    char *s = malloc(len + 1);
    if (!s)
        abort();
    memcpy(s, *p, len);
    s[len] = '\0';
    *p += nl ? len + 1 : len;
    *n -= nl ? len + 1 : len;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    char *line = take_line(&p, &n), *auth = take_line(&p, &n), *last = take_line(&p, &n);
    char *sp = strchr(line, ' ');
    const char *method = line, *path = "";
    if (sp) {
        *sp = '\0';
        path = sp + 1;
    }
    char *q = strchr((char *)path, '?');
    api_kv kv[16];
    size_t nkv = 0;
    if (q) {
        *q++ = '\0';
        for (char *save = NULL, *t = strtok_r(q, "&", &save); t && nkv < 16;
             t = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(t, '=');
            if (eq)
                *eq++ = '\0';
            kv[nkv].key = t;
            kv[nkv].value = eq ? eq : "";
            nkv++;
        }
    }
    api_match m;
    api_route_match(method, path, &m);
    if (m.route != API_ROUTE_NONE && m.n_seg > 2)
        abort();
    api_problem pb;
    api_page pg;
    if (api_page_parse(&pg, kv, nkv, "offset,limit,q,sort,order,state,after", &pb) < 0) {
        if (pb.status < 400 || pb.status > 499 || !pb.detail[0])
            abort();
    } else if (pg.limit == 0 || pg.limit > API_PAGE_MAX) {
        abort();
    }
    const char *tok = NULL;
    if (api_bearer(auth, &tok) == 0 && strlen(tok) != API_TOKEN_LEN)
        abort();
    (void)api_event_id_parse(last);
    api_escrow_req r;
    if (api_escrow_req_parse(&r, (const char *)p, n, &pb) == 0) {
        char *canon = api_escrow_req_json(&r);
        api_escrow_req again;
        if (!canon || api_escrow_req_parse(&again, canon, strlen(canon), &pb) < 0)
            abort();
        char *canon2 = api_escrow_req_json(&again);
        if (!canon2 || strcmp(canon, canon2) != 0)
            abort();
        free(canon);
        free(canon2);
    } else {
        if (pb.status < 400 || pb.status > 499 || !pb.detail[0])
            abort();
        char *j = api_problem_json(&pb);
        if (!j)
            abort();
        free(j);
    }
    /* a payment body: its canonical JSON parses back to itself; a refusal is a 4xx */
    if (api_payment_req_parse(&r, (const char *)p, n, &pb) == 0) {
        char *canon = api_payment_req_json(&r);
        api_escrow_req again;
        if (!canon || api_payment_req_parse(&again, canon, strlen(canon), &pb) < 0)
            abort();
        char *canon2 = api_payment_req_json(&again);
        if (!canon2 || strcmp(canon, canon2) != 0)
            abort();
        free(canon);
        free(canon2);
    } else if (pb.status < 400 || pb.status > 499 || !pb.detail[0]) {
        abort();
    }
    /* a bridge body: the same (its token defaults to USDC in the canonical JSON) */
    if (api_bridge_req_parse(&r, (const char *)p, n, &pb) == 0) {
        char *canon = api_bridge_req_json(&r);
        api_escrow_req again;
        if (!canon || api_bridge_req_parse(&again, canon, strlen(canon), &pb) < 0)
            abort();
        char *canon2 = api_bridge_req_json(&again);
        if (!canon2 || strcmp(canon, canon2) != 0)
            abort();
        free(canon);
        free(canon2);
    } else if (pb.status < 400 || pb.status > 499 || !pb.detail[0]) {
        abort();
    }
    free(line);
    free(auth);
    free(last);
    return 0;
}
