/* rpc_ws.c: see rpc_ws.h. The socket and the upgrade handshake are ours (plain POSIX,
 * non-blocking, bounded by deadlines); framing, masking, ping/pong and close are wslay's
 * (Debian's libwslay: a small frame library without its own I/O, so it fits the poll
 * loop the sync thread already waits in). Messages are read with jansson, strictly. */
#include "rpc/rpc_ws.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <netdb.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "base/bytes.h"
#include "base/text.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_MSG_MAX (1u << 20) /* a newHeads notification is ~1 KiB */

struct rpc_ws {
    int fd;
    wslay_event_context_ptr ctx;
    char sub_id[80];
    bool subscribed;
    bool has_head;
    uint64_t head;
    bool broken;
    char why[ERR_MSG_MAX];
    buf pre; /* bytes that came after the handshake, read before the socket */
    size_t pre_off;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rpc_ws_url_of(const char *http_url, char **out, err *e)
{
    *out = NULL;
    const char *rest;
    const char *scheme;
    if (strncmp(http_url, "http://", 7) == 0) {
        scheme = "ws://";
        rest = http_url + 7;
    } else if (strncmp(http_url, "https://", 8) == 0) {
        scheme = "wss://";
        rest = http_url + 8;
    } else {
        return err_set(e, ERR_INVALID, "not an http:// or https:// endpoint");
    }
    size_t n = strlen(scheme) + strlen(rest) + 1;
    *out = malloc(n);
    if (!*out)
        return err_set(e, ERR_NOMEM, "out of memory");
    snprintf(*out, n, "%s%s", scheme, rest);
    return 0;
}

/* ---- pure parts ---- */

static void accept_of(const char *key, char out[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1])
{
    struct sha1_ctx h;
    uint8_t d[SHA1_DIGEST_SIZE];
    sha1_init(&h);
    sha1_update(&h, strlen(key), (const uint8_t *)key);
    sha1_update(&h, sizeof WS_GUID - 1, (const uint8_t *)WS_GUID);
    sha1_digest(&h, sizeof d, d);
    base64_encode_raw((char *)out, sizeof d, d);
    out[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = '\0';
}

int rpc_ws_check_handshake(const char *resp, size_t len, const char *key, err *e)
{
    if (len < 12 || strncmp(resp, "HTTP/1.1 ", 9) != 0)
        return err_set(e, ERR_RPC, "the WebSocket upgrade was not answered with HTTP/1.1");
    if (strncmp(resp + 9, "101", 3) != 0) {
        char status[40], shown[48];
        size_t sl = 0; /* resp holds len bytes, not a string */
        while (9 + sl < len && sl < sizeof status - 1 && resp[9 + sl] != '\r' &&
               resp[9 + sl] != '\n' && resp[9 + sl] != '\0')
            sl++;
        snprintf(status, sizeof status, "%.*s", (int)sl, resp + 9);
        return err_set(e, ERR_RPC, "the node refused the WebSocket upgrade: HTTP %s",
                       text_safe_str(shown, sizeof shown, status));
    }
    char want[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
    accept_of(key, want);
    static const char name[] = "sec-websocket-accept:";
    for (size_t i = 0; i + sizeof name < len; i++) {
        if ((i == 0 || resp[i - 1] != '\n') || strncasecmp(resp + i, name, sizeof name - 1) != 0)
            continue;
        size_t p = i + sizeof name - 1;
        while (p < len && (resp[p] == ' ' || resp[p] == '\t'))
            p++;
        size_t vl = 0;
        while (p + vl < len && resp[p + vl] != '\r' && resp[p + vl] != '\n')
            vl++;
        while (vl && (resp[p + vl - 1] == ' ' || resp[p + vl - 1] == '\t'))
            vl--;
        if (vl == strlen(want) && memcmp(resp + p, want, vl) == 0)
            return 0;
        return err_set(e, ERR_RPC, "the WebSocket upgrade has a wrong Sec-WebSocket-Accept");
    }
    return err_set(e, ERR_RPC, "the WebSocket upgrade has no Sec-WebSocket-Accept");
}

rpc_ws_msg rpc_ws_parse_message(const char *msg, size_t len, const char *sub_id,
                                char *sub_id_out, size_t cap, uint64_t *number, err *e)
{
    json_error_t jerr;
    json_t *m = json_loadb(msg, len, 0, &jerr);
    rpc_ws_msg r = RPC_WS_MSG_OTHER;
    if (!json_is_object(m)) {
        err_set(e, ERR_RPC, "a WebSocket message is not a JSON object");
        r = RPC_WS_MSG_ERROR;
        goto out;
    }
    json_t *id = json_object_get(m, "id");
    if (json_is_integer(id) && json_integer_value(id) == 1) {
        json_t *res = json_object_get(m, "result");
        json_t *error = json_object_get(m, "error");
        if (json_is_object(error)) {
            char shown[120];
            json_t *jm = json_object_get(error, "message");
            err_set(e, ERR_RPC, "eth_subscribe refused: %s",
                    text_safe_str(shown, sizeof shown,
                                  json_is_string(jm) ? json_string_value(jm) : "(no message)"));
            r = RPC_WS_MSG_ERROR;
        } else if (json_is_string(res) && json_string_length(res) > 0 &&
                   json_string_length(res) < cap && json_string_length(res) < 80 &&
                   strlen(json_string_value(res)) == json_string_length(res)) {
            memcpy(sub_id_out, json_string_value(res), json_string_length(res) + 1);
            r = RPC_WS_MSG_SUBSCRIBED;
        } else {
            err_set(e, ERR_RPC, "eth_subscribe answered without a subscription id");
            r = RPC_WS_MSG_ERROR;
        }
        goto out;
    }
    json_t *method = json_object_get(m, "method");
    json_t *params = json_object_get(m, "params");
    if (!json_is_string(method) || strcmp(json_string_value(method), "eth_subscription") != 0 ||
        !json_is_object(params) || !sub_id[0])
        goto out;
    json_t *sub = json_object_get(params, "subscription");
    if (!json_is_string(sub) || strcmp(json_string_value(sub), sub_id) != 0)
        goto out;
    json_t *res = json_object_get(params, "result");
    err pe;
    if (!json_is_object(res) ||
        rpc_parse_block_number(json_object_get(res, "number"), number, "head number", &pe) < 0) {
        err_set(e, ERR_RPC, "a newHeads notification without a block number");
        r = RPC_WS_MSG_ERROR;
        goto out;
    }
    r = RPC_WS_MSG_HEAD;
out:
    json_decref(m);
    return r;
}

/* ---- wslay callbacks ---- */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *data, size_t len, int flags,
                       void *ud)
{
    (void)flags;
    rpc_ws *w = ud;
    if (w->pre_off < w->pre.len) {
        size_t n = w->pre.len - w->pre_off;
        if (n > len)
            n = len;
        memcpy(data, w->pre.data + w->pre_off, n);
        w->pre_off += n;
        return (ssize_t)n;
    }
    ssize_t n = recv(w->fd, data, len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (n <= 0) {
        snprintf(w->why, sizeof w->why, "%s", n == 0 ? "closed by the node" : strerror(errno));
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
    (void)flags;
    rpc_ws *w = ud;
    ssize_t n = send(w->fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (n < 0) {
        snprintf(w->why, sizeof w->why, "%s", strerror(errno));
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return n;
}

static int on_genmask(wslay_event_context_ptr ctx, uint8_t *mask, size_t len, void *ud)
{
    (void)ctx;
    (void)ud;
    randombytes_buf(mask, len);
    return 0;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *ud)
{
    (void)ctx;
    rpc_ws *w = ud;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        snprintf(w->why, sizeof w->why, "closed by the node (status %u)", arg->status_code);
        w->broken = true;
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME)
        return;
    err e;
    err_clear(&e);
    uint64_t n = 0;
    char sub[sizeof w->sub_id];
    switch (rpc_ws_parse_message((const char *)arg->msg, arg->msg_length, w->sub_id, sub,
                                 sizeof sub, &n, &e)) {
    case RPC_WS_MSG_SUBSCRIBED:
        memcpy(w->sub_id, sub, sizeof sub);
        w->subscribed = true;
        break;
    case RPC_WS_MSG_HEAD:
        if (!w->has_head || n > w->head)
            w->head = n;
        w->has_head = true;
        break;
    case RPC_WS_MSG_ERROR:
        snprintf(w->why, sizeof w->why, "%s", e.msg);
        w->broken = true;
        break;
    case RPC_WS_MSG_OTHER:
        break;
    }
}

/* ---- connection ---- */

typedef struct ws_target {
    char host[256];
    char port[8];
    char path[1024];
} ws_target;

static int parse_target(const char *url, ws_target *t, err *e)
{
    if (strncmp(url, "wss://", 6) == 0)
        return err_set(e, ERR_INVALID, "wss:// subscriptions are not supported (TLS): polling");
    if (strncmp(url, "ws://", 5) != 0)
        return err_set(e, ERR_INVALID, "not a ws:// URL");
    const char *h = url + 5;
    size_t hl = strcspn(h, "/?#");
    if (memchr(h, '@', hl))
        return err_set(e, ERR_INVALID, "ws:// URLs with user:password@ are not supported");
    const char *colon = memchr(h, ':', hl);
    size_t nl = colon ? (size_t)(colon - h) : hl;
    if (nl == 0 || nl >= sizeof t->host || h[0] == '[')
        return err_set(e, ERR_INVALID, "a ws:// URL without a usable host");
    memcpy(t->host, h, nl);
    t->host[nl] = '\0';
    size_t pl = colon ? hl - nl - 1 : 0;
    if (colon && (pl == 0 || pl >= sizeof t->port))
        return err_set(e, ERR_INVALID, "a ws:// URL with a bad port");
    snprintf(t->port, sizeof t->port, "%.*s", (int)(colon ? pl : 2), colon ? colon + 1 : "80");
    const char *p = h + hl;
    snprintf(t->path, sizeof t->path, "%s%s", *p == '/' ? "" : "/", p);
    if (strchr(t->path, '#'))
        *strchr(t->path, '#') = '\0';
    for (const char *c = t->path; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return err_set(e, ERR_INVALID, "a ws:// URL with a space or control in its path");
    return 0;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        return rc;
    }
}

static int connect_to(const ws_target *t, int64_t deadline, int *fd_out, err *e)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(t->host, t->port, &hints, &res);
    if (rc != 0)
        return err_set(e, ERR_RPC, "cannot resolve the WebSocket host: %s", gai_strerror(rc));
    int fd = -1;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) <= 0 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return err_set(e, ERR_RPC, "cannot connect to the WebSocket endpoint");
    *fd_out = fd;
    return 0;
}

static int send_all(int fd, const char *s, size_t n, int64_t deadline, err *e)
{
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) <= 0)
                return err_set(e, ERR_RPC, "the WebSocket upgrade could not be sent in time");
            continue;
        }
        if (k <= 0)
            return err_set(e, ERR_RPC, "sending the WebSocket upgrade: %s", strerror(errno));
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Drives wslay until cond holds, the socket breaks or the deadline passes. */
static int pump(rpc_ws *w, int stop_fd, int64_t deadline, bool (*cond)(const rpc_ws *), err *e)
{
    while (!cond(w)) {
        if (w->broken)
            return err_set(e, ERR_RPC, "the WebSocket broke: %s", w->why);
        if (!wslay_event_want_read(w->ctx) && !wslay_event_want_write(w->ctx))
            return err_set(e, ERR_RPC, "the WebSocket closed: %s",
                           w->why[0] ? w->why : "by the node");
        if (w->pre_off < w->pre.len) { /* bytes read with the handshake */
            if (wslay_event_recv(w->ctx) != 0)
                return err_set(e, ERR_RPC, "the WebSocket broke: %s",
                               w->why[0] ? w->why : "bad frame");
            continue;
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p[2] = {{.fd = w->fd, .events = 0}, {.fd = stop_fd, .events = POLLIN}};
        if (wslay_event_want_read(w->ctx))
            p[0].events |= POLLIN;
        if (wslay_event_want_write(w->ctx))
            p[0].events |= POLLOUT;
        int rc = poll(p, stop_fd >= 0 ? 2 : 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return err_set(e, ERR_RPC, "waiting on the WebSocket: %s", strerror(errno));
        if (stop_fd >= 0 && (p[1].revents & POLLIN))
            return 0;
        if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && wslay_event_recv(w->ctx) != 0)
            return err_set(e, ERR_RPC, "the WebSocket broke: %s",
                           w->why[0] ? w->why : "bad frame");
        if ((p[0].revents & POLLOUT) && wslay_event_send(w->ctx) != 0)
            return err_set(e, ERR_RPC, "the WebSocket broke: %s", w->why[0] ? w->why : "send");
    }
    return 0;
}

static bool is_subscribed(const rpc_ws *w)
{
    return w->subscribed;
}

static bool has_head(const rpc_ws *w)
{
    return w->has_head;
}

int rpc_ws_open(rpc_ws **out, const char *url, long timeout_ms, err *e)
{
    *out = NULL;
    char *full = NULL;
    if (rpc_url_expand(url, &full, e) < 0)
        return -1;
    ws_target t;
    int rc = parse_target(full, &t, e);
    if (full) {
        sodium_memzero(full, strlen(full));
        free(full);
    }
    if (rc < 0)
        return -1;
    int64_t deadline = mono_ms() + timeout_ms;
    rpc_ws *w = calloc(1, sizeof *w);
    if (!w)
        return err_set(e, ERR_NOMEM, "out of memory");
    w->fd = -1;
    buf_init(&w->pre);
    if (connect_to(&t, deadline, &w->fd, e) < 0)
        goto fail;
    uint8_t nonce[16];
    randombytes_buf(nonce, sizeof nonce);
    char key[BASE64_ENCODE_RAW_LENGTH(16) + 1];
    base64_encode_raw(key, sizeof nonce, nonce);
    key[BASE64_ENCODE_RAW_LENGTH(16)] = '\0';
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     t.path, t.host, t.port, key);
    rc = n > 0 && (size_t)n < sizeof req ? send_all(w->fd, req, (size_t)n, deadline, e)
                                         : err_set(e, ERR_INVALID, "the ws:// URL is too long");
    sodium_memzero(req, sizeof req);
    sodium_memzero(&t, sizeof t);
    if (rc < 0)
        goto fail;
    /* The answer's head, up to the blank line; what follows is frames. */
    char resp[8192];
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        if (got + 1 >= sizeof resp) {
            err_set(e, ERR_RPC, "the WebSocket upgrade answer is too long");
            goto fail;
        }
        ssize_t k = recv(w->fd, resp + got, sizeof resp - 1 - got, 0);
        if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(w->fd, POLLIN, deadline) <= 0) {
                err_set(e, ERR_RPC, "no answer to the WebSocket upgrade in time");
                goto fail;
            }
            continue;
        }
        if (k <= 0) {
            err_set(e, ERR_RPC, "the node closed the connection during the WebSocket upgrade");
            goto fail;
        }
        got += (size_t)k;
        resp[got] = '\0';
        end = memmem(resp, got, "\r\n\r\n", 4);
    }
    size_t head_len = (size_t)(end - resp) + 4;
    if (rpc_ws_check_handshake(resp, head_len, key, e) < 0)
        goto fail;
    if (got > head_len && buf_append(&w->pre, resp + head_len, got - head_len, e) < 0)
        goto fail;
    struct wslay_event_callbacks cb = {
        .recv_callback = on_recv,
        .send_callback = on_send,
        .genmask_callback = on_genmask,
        .on_msg_recv_callback = on_msg,
    };
    if (wslay_event_context_client_init(&w->ctx, &cb, w) != 0) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    wslay_event_config_set_max_recv_msg_length(w->ctx, WS_MSG_MAX);
    static const char sub[] =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_subscribe\",\"params\":[\"newHeads\"]}";
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)sub, sizeof sub - 1};
    if (wslay_event_queue_msg(w->ctx, &m) != 0) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (pump(w, -1, deadline, is_subscribed, e) < 0)
        goto fail;
    if (!w->subscribed) {
        err_set(e, ERR_RPC, "no answer to eth_subscribe in time");
        goto fail;
    }
    *out = w;
    return 0;
fail:
    rpc_ws_close(&w);
    return -1;
}

int rpc_ws_wait(rpc_ws *w, int stop_fd, int ms, uint64_t *number, err *e)
{
    if (!w->has_head && pump(w, stop_fd, mono_ms() + ms, has_head, e) < 0)
        return -1;
    /* whatever else is already there (several heads in a burst): the newest */
    if (w->has_head && pump(w, -1, mono_ms(), has_head, e) < 0)
        return -1;
    if (!w->has_head)
        return 0;
    *number = w->head;
    w->has_head = false;
    return 1;
}

void rpc_ws_close(rpc_ws **p)
{
    if (!p || !*p)
        return;
    rpc_ws *w = *p;
    if (w->ctx)
        wslay_event_context_free(w->ctx);
    if (w->fd >= 0)
        close(w->fd);
    buf_free(&w->pre);
    free(w);
    *p = NULL;
}
