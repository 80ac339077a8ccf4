/*
 * sim_proxy.c - the aggregation layer for metrics.k8s.io (prefix proxy_).
 *
 * With --metrics-backend=http[s]://HOST:PORT every request under
 * /apis/metrics.k8s.io/<version>... is forwarded to that backend, the way
 * kube-aggregator forwards to an APIService (heapster-c's API server, or
 * metrics-server).  /apis lists the group and /apis/metrics.k8s.io is
 * answered here; everything below it, discovery included, comes from the
 * backend.  The backend's status, Content-Type and body are passed through
 * (a chunked body is de-chunked and re-framed with Content-Length).
 *
 * Forwarding is non-blocking, inside the event loop: proxy_start() opens a
 * non-blocking connection (LST_UPSTREAM) whose HOST was resolved once at
 * start-up, queues the request (method, request-target, body; headers
 * Accept, Content-Type and User-Agent; "Connection: close") and parks the
 * client connection (proxy_wait).  proxy_run() then drives the upstream:
 * connect, TLS handshake for https, send, read and parse the response, and
 * finally answers the client and closes the upstream.  Failures answer the
 * client with a Status: 503 ServiceUnavailable when the backend cannot be
 * reached, 502 when it breaks the exchange, 504 after
 * --metrics-backend-timeout seconds (default 10).  The client's credentials
 * are not forwarded.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "sim.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROXY_MAX_RESPONSE ((size_t)1 << 30)
#define PROXY_MAX_HEADER 65536

static struct {
    bool on, https, verify;
    char host[256], hostport[300];
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct ssl_ctx_st *ctx;
} g_be;

typedef struct proxy_state {
    int64_t deadline_ms;
    bool connected, head, chunked;
    size_t hdr_len;     /* response header length, 0 until complete */
    int status;
    int64_t clen;       /* Content-Length, -1 if none */
    int64_t head_len;   /* HEAD: the Content-Length the backend announced */
    size_t scan;        /* chunked: next chunk-size line in the raw input */
    sb body;            /* chunked: the de-chunked body */
    char ctype[256];
} proxy_state;

bool proxy_on(void) { return g_be.on; }

int proxy_init(void)
{
    const char *u = sim->o.metrics_backend, *h, *end;
    char port[8];
    struct addrinfo hints, *res = NULL;
    int err;

    if (!u)
        return 0;
    if (strncmp(u, "http://", 7) == 0) {
        h = u + 7;
    } else if (strncmp(u, "https://", 8) == 0) {
        h = u + 8;
        g_be.https = true;
    } else {
        fprintf(stderr, "heapster-sim: --metrics-backend must be http://HOST:PORT or https://HOST:PORT\n");
        return -1;
    }
    end = h + strcspn(h, "/");
    if (*end && strcmp(end, "/") != 0) {
        fprintf(stderr, "heapster-sim: --metrics-backend takes no path: %s\n", u);
        return -1;
    }
    if (*h == '[') { /* [v6]:port */
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb || (size_t)(rb - h - 1) >= sizeof(g_be.host))
            goto bad;
        memcpy(g_be.host, h + 1, (size_t)(rb - h - 1));
        h = rb + 1;
    } else {
        const char *colon = memchr(h, ':', (size_t)(end - h));
        const char *he = colon ? colon : end;
        if (he == h || (size_t)(he - h) >= sizeof(g_be.host))
            goto bad;
        memcpy(g_be.host, h, (size_t)(he - h));
        h = he;
    }
    if (*h == ':') {
        size_t pl = (size_t)(end - h - 1);
        if (pl == 0 || pl >= sizeof(port))
            goto bad;
        memcpy(port, h + 1, pl);
        port[pl] = 0;
    } else if (h == end) {
        strcpy(port, g_be.https ? "443" : "80");
    } else {
        goto bad;
    }
    snprintf(g_be.hostport, sizeof(g_be.hostport), strchr(g_be.host, ':') ? "[%s]:%s" : "%s:%s",
             g_be.host, port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    err = getaddrinfo(g_be.host, port, &hints, &res);
    if (err || !res) {
        fprintf(stderr, "heapster-sim: --metrics-backend: cannot resolve %s: %s\n", g_be.host,
                gai_strerror(err));
        return -1;
    }
    memcpy(&g_be.addr, res->ai_addr, res->ai_addrlen);
    g_be.addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    if (g_be.https) {
        g_be.verify = !sim->o.metrics_backend_insecure;
        g_be.ctx = tls_client_ctx(sim->o.metrics_backend_ca, !g_be.verify);
        if (!g_be.ctx)
            return -1;
    }
    g_be.on = true;
    return 0;
bad:
    fprintf(stderr, "heapster-sim: bad --metrics-backend '%s' (expected http[s]://HOST:PORT)\n", u);
    return -1;
}

void proxy_free(void)
{
    if (g_be.ctx)
        tls_client_ctx_free(g_be.ctx);
    g_be.ctx = NULL;
    g_be.on = false;
}

static void state_free(void *p)
{
    proxy_state *st = p;

    if (st)
        sb_free(&st->body);
    free(st);
}

/* Answer the client with an error Status and drop the upstream. */
static void fail(http_conn *up, int code, const char *reason, const char *msg)
{
    http_conn *client = up->peer;

    sim->st.proxy_errors++;
    if (client) {
        client->peer = NULL;
        up->peer = NULL;
        client->proxy_wait = false;
        api_status(client, code, reason, msg);
    }
    http_close(up);
    if (client)
        http_wake(client);
}

void proxy_peer_lost(http_conn *client)
{
    if (!client->proxy_wait)
        return;
    client->proxy_wait = false;
    sim->st.proxy_errors++;
    api_status(client, 502, "InternalError", "the metrics backend connection was lost");
    http_wake(client);
}

static void unavailable(http_conn *client, const char *why)
{
    char msg[512];

    sim->st.proxy_errors++;
    snprintf(msg, sizeof(msg), "error trying to reach service: dial tcp %s: %s", g_be.hostport, why);
    api_status(client, 503, "ServiceUnavailable", msg);
}

/* Copy header `name` of the client request into the upstream request. */
static void copy_header(sb *b, const http_req *r, const char *name)
{
    const char *v;
    size_t vl;

    if (!http_header(r, name, &v, &vl))
        return;
    sb_put(b, name, strlen(name));
    SB_LIT(b, ": ");
    sb_put(b, v, vl);
    SB_LIT(b, "\r\n");
}

void proxy_start(http_conn *c, const http_req *r)
{
    int fd;
    http_conn *up;
    proxy_state *st;
    sb *b;
    char num[24];

    sim->st.proxied++;
    fd = socket(g_be.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        unavailable(c, strerror(errno));
        return;
    }
    if (connect(fd, (struct sockaddr *)&g_be.addr, g_be.addrlen) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        unavailable(c, strerror(e));
        return;
    }
    up = http_open_upstream(fd);
    st = calloc(1, sizeof(*st));
    if (!up || !st) {
        free(st);
        if (up)
            http_close(up);
        unavailable(c, "out of resources");
        return;
    }
    up->pstate = st;
    up->pstate_free = state_free;
    st->clen = -1;
    st->head = c->head;
    st->deadline_ms = http_now_ms() + 1000 * (int64_t)sim->o.metrics_backend_timeout;
    if (g_be.https && tls_client_new(up, g_be.ctx, g_be.host, g_be.verify) < 0) {
        http_close(up);
        unavailable(c, "cannot set up TLS");
        return;
    }
    b = http_outbuf(up);
    sb_put(b, r->method_name, r->method_len);
    SB_LIT(b, " ");
    sb_put(b, r->target, r->target_len);
    SB_LIT(b, " HTTP/1.1\r\nHost: ");
    sb_put(b, g_be.hostport, strlen(g_be.hostport));
    SB_LIT(b, "\r\n");
    copy_header(b, r, "Accept");
    copy_header(b, r, "User-Agent");
    if (r->body_len) {
        copy_header(b, r, "Content-Type");
        SB_LIT(b, "Content-Length: ");
        sb_put(b, num, (size_t)(fmt_u64(num, r->body_len) - num));
        SB_LIT(b, "\r\n");
    }
    SB_LIT(b, "X-Forwarded-For: 127.0.0.1\r\nConnection: close\r\n\r\n");
    sb_put(b, r->body, r->body_len);
    up->out_pos = 0;
    c->peer = up;
    up->peer = c;
    c->proxy_wait = true;
    http_timed(up, true); /* for the deadline */
}

/* Parse what has arrived. 1 complete, 0 need more, -1 malformed. */
static int parse(http_conn *up, proxy_state *st)
{
    if (!st->hdr_len) {
        char *in = up->in, *hend = memmem(in, up->in_len, "\r\n\r\n", 4), *line, *eol;

        if (!hend)
            return up->in_len > PROXY_MAX_HEADER ? -1 : 0;
        if (up->in_len < 12 || memcmp(in, "HTTP/1.", 7) != 0 || in[8] != ' ')
            return -1;
        st->status = atoi(in + 9);
        if (st->status < 100 || st->status > 999)
            return -1;
        eol = memmem(in, (size_t)(hend + 2 - in), "\r\n", 2);
        for (line = eol + 2; line < hend + 2; line = eol + 2) {
            size_t n;
            eol = memmem(line, (size_t)(hend + 2 - line), "\r\n", 2);
            n = (size_t)(eol - line);
            if (n > 13 && strncasecmp(line, "Content-Type:", 13) == 0) {
                const char *v = line + 13;
                size_t vl = n - 13;
                while (vl && (*v == ' ' || *v == '\t')) {
                    v++;
                    vl--;
                }
                if (vl >= sizeof(st->ctype))
                    vl = sizeof(st->ctype) - 1;
                memcpy(st->ctype, v, vl);
                st->ctype[vl] = 0;
            } else if (n > 15 && strncasecmp(line, "Content-Length:", 15) == 0) {
                st->clen = strtoll(line + 15, NULL, 10);
            } else if (n > 18 && strncasecmp(line, "Transfer-Encoding:", 18) == 0 &&
                       memmem(line, n, "chunked", 7)) {
                st->chunked = true;
            }
        }
        st->hdr_len = (size_t)(hend + 4 - in);
        st->scan = st->hdr_len;
        if (st->status < 200) { /* 1xx: drop it, wait for the real answer */
            memmove(up->in, up->in + st->hdr_len, up->in_len - st->hdr_len);
            up->in_len -= st->hdr_len;
            st->hdr_len = 0;
            st->clen = -1;
            st->chunked = false;
            st->ctype[0] = 0;
            return parse(up, st);
        }
        if (st->head || st->status == 204 || st->status == 304) {
            st->head_len = st->clen;
            st->clen = 0;
            st->chunked = false;
        }
    }
    if (st->chunked) {
        for (;;) {
            char *line = up->in + st->scan, *eol, *endp;
            unsigned long long size;
            size_t avail = up->in_len - st->scan;
            eol = memmem(line, avail, "\r\n", 2);
            if (!eol)
                return avail > 1024 ? -1 : 0;
            size = strtoull(line, &endp, 16);
            if (endp == line)
                return -1;
            if (size == 0) /* last chunk; done once the trailers' empty line is in */
                return memmem(eol, (size_t)(up->in + up->in_len - eol), "\r\n\r\n", 4) ? 1 : 0;
            if (size > PROXY_MAX_RESPONSE)
                return -1;
            if ((size_t)(up->in + up->in_len - (eol + 2)) < size + 2)
                return 0;
            sb_put(&st->body, eol + 2, (size_t)size);
            st->scan = (size_t)(eol + 2 + size + 2 - up->in);
        }
    }
    if (st->clen >= 0)
        return up->in_len - st->hdr_len >= (uint64_t)st->clen ? 1 : 0;
    return 0; /* delimited by the end of the connection */
}

static void deliver(http_conn *up, proxy_state *st)
{
    http_conn *client = up->peer;
    const char *body = st->chunked ? st->body.data : up->in + st->hdr_len;
    size_t n = st->chunked ? st->body.len
             : st->clen >= 0 ? (size_t)st->clen : up->in_len - st->hdr_len;
    sb *b;

    if (!client) {
        http_close(up);
        return;
    }
    client->peer = NULL;
    up->peer = NULL;
    client->proxy_wait = false;
    b = http_body(client);
    if (st->head && st->head_len > 0 && st->head_len <= ((int64_t)64 << 20)) {
        /* HEAD: a body as long as the backend announced, cut by http_send */
        memset(sb_reserve(b, (size_t)st->head_len), ' ', (size_t)st->head_len);
        b->len += (size_t)st->head_len;
    } else if (n) {
        sb_put(b, body, n);
    }
    client->head = st->head;
    http_send(client, st->status, st->ctype[0] ? st->ctype : "application/octet-stream");
    client->head = false;
    http_close(up);
    http_wake(client);
}

void proxy_run(http_conn *up)
{
    proxy_state *st = up->pstate;

    if (!up->peer) {
        http_close(up);
        return;
    }
    if (http_now_ms() >= st->deadline_ms) {
        char msg[128];
        snprintf(msg, sizeof(msg), "the metrics backend did not answer within %u s",
                 sim->o.metrics_backend_timeout);
        fail(up, 504, "Timeout", msg);
        return;
    }
    if (!st->connected) {
        int err = 0;
        socklen_t el = sizeof(err);
        struct sockaddr_storage sa;
        socklen_t sl = sizeof(sa);
        getsockopt(up->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            http_conn *client = up->peer;
            client->peer = NULL;
            up->peer = NULL;
            client->proxy_wait = false;
            unavailable(client, strerror(err));
            http_close(up);
            http_wake(client);
            return;
        }
        if (getpeername(up->fd, (struct sockaddr *)&sa, &sl) < 0)
            return; /* still connecting */
        st->connected = true;
    }
    if (up->ssl && !up->tls_ok) {
        int h = tls_handshake(up);
        if (h < 0) {
            fail(up, 502, "InternalError", "TLS handshake with the metrics backend failed");
            return;
        }
        if (h == 0)
            return;
    }
    if (http_pending(up)) {
        int fr = http_flush(up);
        if (fr < 0) {
            fail(up, 502, "InternalError", "cannot send the request to the metrics backend");
            return;
        }
        if (fr > 0)
            return;
    }
    for (;;) {
        ssize_t r;
        int pr;

        if (up->in_len == up->in_cap) {
            size_t nc = up->in_cap * 2;
            char *ni = nc <= PROXY_MAX_RESPONSE ? realloc(up->in, nc) : NULL;
            if (!ni) {
                fail(up, 502, "InternalError", "the metrics backend response is too large");
                return;
            }
            up->in = ni;
            up->in_cap = nc;
        }
        r = http_io_recv(up, up->in + up->in_len, up->in_cap - up->in_len);
        if (r == -EAGAIN)
            return;
        if (r < 0) {
            fail(up, 502, "InternalError", "error reading from the metrics backend");
            return;
        }
        if (r == 0) { /* end of the connection */
            pr = parse(up, st);
            if (pr == 0 && st->hdr_len && !st->chunked && st->clen < 0)
                pr = 1;
            if (pr == 1)
                deliver(up, st);
            else
                fail(up, 502, "InternalError", "the metrics backend closed the connection early");
            return;
        }
        up->in_len += (size_t)r;
        pr = parse(up, st);
        if (pr < 0) {
            fail(up, 502, "InternalError", "malformed response from the metrics backend");
            return;
        }
        if (pr == 1) {
            deliver(up, st);
            return;
        }
    }
}
