/* server.c: the libmicrohttpd shell around the service: a unix socket in the desk home
 * (made here, 0600, handed to MHD) and optionally TCP with TLS; one thread per connection,
 * so the event stream can wait for the feed without holding anyone else up. It reads the
 * request (headers, query, a body up to API_BODY_MAX) and hands it to api_service_handle;
 * nothing else is decided here. */
#include "api/api.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define MAX_QUERY 16
#define CONN_TIMEOUT_S 10 /* a client that sends nothing for this long is dropped */

struct api_server {
    api_service *sv;
    struct MHD_Daemon *unix_d, *tcp_d;
    char sock_path[4200];
    char *tls_cert, *tls_key;
    unsigned port;
    atomic_bool stopping; /* read by the event streams' connection threads */
};

typedef struct conn_state {
    char *body;
    size_t len;
    bool too_large;
} conn_state;

typedef struct query_acc {
    api_kv kv[MAX_QUERY];
    size_t n;
    bool overflow;
} query_acc;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum MHD_Result query_it(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    query_acc *q = cls;
    if (q->n == MAX_QUERY) {
        q->overflow = true;
        return MHD_NO;
    }
    q->kv[q->n].key = key;
    q->kv[q->n].value = value ? value : "";
    q->n++;
    return MHD_YES;
}

typedef struct sse_ctx {
    api_server *srv;
    char client[STORE_API_NAME_MAX];
    int64_t last;
    double idle_since;
    bool said_retry;
} sse_ctx;

static ssize_t sse_read(void *cls, uint64_t pos, char *dst, size_t max)
{
    (void)pos;
    sse_ctx *c = cls;
    if (!c->said_retry) {
        c->said_retry = true;
        int w = snprintf(dst, max, "retry: 1000\n\n");
        return w > 0 && (size_t)w < max ? w : 0;
    }
    for (;;) {
        if (atomic_load(&c->srv->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        size_t n = 0;
        err e;
        err_clear(&e);
        int frc = api_service_feed(c->srv->sv, c->client, &c->last, dst, max, &n, &e);
        if (frc < 0) {
            LOG_W("api", "event stream: %s", e.msg);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (frc > 0)
            return MHD_CONTENT_READER_END_OF_STREAM; /* the client was revoked */
        if (n > 0) {
            c->idle_since = mono_now();
            return (ssize_t)n;
        }
        /* a comment line before the idle timeout, or the stream would be dropped as idle */
        if (mono_now() - c->idle_since > CONN_TIMEOUT_S / 2.0) {
            c->idle_since = mono_now();
            int w = snprintf(dst, max, ": keep-alive\n\n");
            return w > 0 && (size_t)w < max ? w : 0;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void sse_free(void *cls)
{
    free(cls);
}

static enum MHD_Result send_text(struct MHD_Connection *conn, int status, const char *ctype,
                                 char *body, unsigned retry_after)
{
    const char *b = body ? body : "{}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(b), (void *)(uintptr_t)b, MHD_RESPMEM_MUST_COPY);
    free(body);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (retry_after) {
        char ra[16];
        snprintf(ra, sizeof ra, "%u", retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    api_server *srv = cls;
    conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        /* the body, up to the limit; past it the rest is read and dropped (413 after) */
        if (!st->too_large) {
            if (st->len + *upload_size > API_BODY_MAX) {
                st->too_large = true;
                free(st->body);
                st->body = NULL;
                st->len = 0;
            } else {
                char *nb = realloc(st->body, st->len + *upload_size + 1);
                if (!nb)
                    return MHD_NO;
                memcpy(nb + st->len, upload_data, *upload_size);
                st->body = nb;
                st->len += *upload_size;
                st->body[st->len] = '\0';
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    query_acc q;
    memset(&q, 0, sizeof q);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_it, &q);
    if (q.overflow) {
        api_problem p;
        api_fail(&p, 400, "too-many-parameters", "more than %d query parameters", MAX_QUERY);
        return send_text(conn, 400, "application/problem+json", api_problem_json(&p), 0);
    }
    api_request rq;
    memset(&rq, 0, sizeof rq);
    rq.method = method;
    rq.path = url;
    rq.query = q.kv;
    rq.n_query = q.n;
    rq.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    rq.idem_key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
    rq.last_event_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
    rq.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    rq.body = st->body;
    rq.body_len = st->len;
    rq.body_too_large = st->too_large;
    rq.now = mono_now();
    api_response rs;
    api_service_handle(srv->sv, &rq, &rs);
    if (rs.stream) {
        sse_ctx *c = calloc(1, sizeof *c);
        if (!c) {
            api_response_clear(&rs);
            return MHD_NO;
        }
        c->srv = srv;
        snprintf(c->client, sizeof c->client, "%s", rs.client);
        c->last = rs.stream_from;
        c->idle_since = mono_now();
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 8192, sse_read, c, sse_free);
        api_response_clear(&rs);
        if (!r) {
            free(c);
            return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type", "text/event-stream");
        MHD_add_response_header(r, "Cache-Control", "no-store");
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
    }
    enum MHD_Result ret = send_text(conn, rs.status, rs.content_type ? rs.content_type
                                                                     : "application/json",
                                    rs.body, rs.retry_after);
    rs.body = NULL;
    api_response_clear(&rs);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    conn_state *st = *con_cls;
    if (st) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

static int unix_listener(const char *path, err *e)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        return err_set(e, ERR_INVALID, "the socket path %s is too long for a unix socket "
                       "(at most %zu bytes): use a shorter --socket", path,
                       sizeof sa.sun_path - 1);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct stat sb;
    if (lstat(path, &sb) == 0) {
        if (!S_ISSOCK(sb.st_mode))
            return err_set(e, ERR_EXISTS, "%s exists and is not a socket: refusing to replace it",
                           path);
        /* a stale socket of a server that died: removed if nothing answers on it */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
            close(probe);
            return err_set(e, ERR_EXISTS, "another fusion serve answers on %s", path);
        }
        if (probe >= 0)
            close(probe);
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(e, ERR_IO, "socket: %s", strerror(errno));
    mode_t old = umask(0177); /* the socket is born 0600: no window where others connect */
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
        err_set(e, ERR_IO, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static char *read_file(const char *path, err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *data = malloc(1 << 16);
    size_t n = data ? fread(data, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (!data) {
        err_set(e, ERR_NOMEM, "out of memory");
        return NULL;
    }
    data[n] = '\0';
    return data;
}

static int tcp_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len, err *e)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host || !colon[1])
        return err_set(e, ERR_INVALID, "--tcp takes HOST:PORT (e.g. 127.0.0.1:8443), not %.60s",
                       spec);
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || !res)
        return err_set(e, ERR_INVALID, "--tcp %.60s: %s (a numeric address and port)", spec,
                       gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static struct MHD_Daemon *start_daemon(api_server *s, unsigned flags, int listen_fd,
                                       const struct sockaddr *sa, bool tls)
{
    struct MHD_OptionItem ops[8];
    size_t n = 0;
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, 256, NULL};
    if (listen_fd >= 0)
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL};
    if (sa)
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)(uintptr_t)sa};
    if (tls) {
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
    }
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(flags | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0),
                            0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
}

int api_server_start(api_server **out, api_service *sv, const api_listen *l, err *e)
{
    *out = NULL;
    api_server *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "out of memory");
    s->sv = sv;
    if (l->tcp && !l->insecure_tcp && (!l->tls_cert || !l->tls_key)) {
        free(s);
        return err_set(e, ERR_INVALID, "TCP is served with TLS: give --tls-cert FILE and "
                       "--tls-key FILE (or --insecure-tcp on loopback for tests)");
    }
    if (l->socket_path) {
        snprintf(s->sock_path, sizeof s->sock_path, "%s", l->socket_path);
        int fd = unix_listener(s->sock_path, e);
        if (fd < 0) {
            free(s);
            return -1;
        }
        s->unix_d = start_daemon(s, 0, fd, NULL, false);
        if (!s->unix_d) {
            close(fd);
            unlink(s->sock_path);
            free(s);
            return err_set(e, ERR_IO, "libmicrohttpd could not serve on %s", l->socket_path);
        }
    }
    if (l->tcp) {
        struct sockaddr_storage ss;
        socklen_t sl;
        bool tls = !l->insecure_tcp;
        if (tcp_addr(l->tcp, &ss, &sl, e) < 0 ||
            (tls && (!(s->tls_cert = read_file(l->tls_cert, e)) ||
                     !(s->tls_key = read_file(l->tls_key, e))))) {
            api_server_stop(&s);
            return -1;
        }
        unsigned fl = ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0;
        s->tcp_d = start_daemon(s, fl, -1, (struct sockaddr *)&ss, tls);
        if (!s->tcp_d) {
            api_server_stop(&s);
            return err_set(e, ERR_IO, "libmicrohttpd could not serve on %.60s%s (in use? a bad "
                           "certificate or key?)", l->tcp, tls ? " with TLS" : "");
        }
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->tcp_d, MHD_DAEMON_INFO_BIND_PORT);
        s->port = di ? di->port : 0;
    }
    *out = s;
    return 0;
}

unsigned api_server_port(const api_server *s)
{
    return s->port;
}

void api_server_stop(api_server **p)
{
    if (!p || !*p)
        return;
    api_server *s = *p;
    atomic_store(&s->stopping, true);
    if (s->unix_d)
        MHD_stop_daemon(s->unix_d);
    if (s->tcp_d)
        MHD_stop_daemon(s->tcp_d);
    if (s->sock_path[0] && s->unix_d)
        unlink(s->sock_path);
    free(s->tls_cert);
    free(s->tls_key);
    free(s);
    *p = NULL;
}
