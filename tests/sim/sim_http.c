/*
 * sim_http.c - the event loop and HTTP/1.1 server (prefix http_).
 *
 * One thread, one epoll instance, edge-triggered sockets registered once for
 * both directions.  Every readiness event (and every timer tick, and every
 * "new watch events" kick) runs conn_run(), a loop that, in order: flushes
 * pending output; asks the connection's producer (watch, huge body) for more;
 * parses and dispatches the next complete request from the input buffer; and
 * reads more input - until the socket would block.  Requests are handled
 * strictly one at a time per connection (pipelined requests wait in the input
 * buffer until the previous response has left), so a response is always
 * rendered into an empty output buffer: the body is written at offset
 * HDR_RESERVE and the header, built once the length is known, is copied in
 * just before it.  Output buffers come from a small pool and go back to it as
 * soon as a response is fully sent, so idle keep-alive connections hold no
 * big buffers and steady-state serving does no allocation.
 *
 * Closed connections are parked on a "graveyard" list and freed after the
 * current batch of epoll events, since a later event of the same batch may
 * still point at them.
 *
 * Timers: while some connection is on the timed list the loop wakes every
 * TICK_MS and runs those connections; drip faults send a byte when a second
 * has passed since the last one and watch streams check their deadline.
 *
 * TLS (sim_tls.c): with --tls-cert every accepted connection gets an SSL
 * object; conn_run() first drives SSL_accept until it completes, then all
 * reads and writes go through tls_recv/tls_send, which map OpenSSL's
 * WANT_READ/WANT_WRITE to EAGAIN.  Since both directions are registered
 * edge-triggered and every path reads until EAGAIN, no readiness is lost.
 *
 * Proxy (sim_proxy.c): a request for the metrics.k8s.io group parks its
 * connection (proxy_wait) and opens an LST_UPSTREAM connection, which this
 * loop drives through proxy_run(); the two are linked by `peer`, and closing
 * either one unlinks (a client that goes away closes its upstream; an
 * upstream that fails answers its client 502).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, accept4 */
#endif
#include "sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_RESERVE 512
#define IN_INIT 4096
#define IN_MAX 65536
#define POOL_MAX 256
#define POOL_BUF_MAX ((size_t)32 << 20)
#define MAX_EVENTS 512
#define TICK_MS 100

static int g_ep = -1, g_lfd[2] = {-1, -1}, g_sigfd = -1, g_spare = -1;
static char g_tag[3];                 /* epoll tags: listeners 0/1, signalfd 2 */
static http_conn *g_watch, *g_timed, *g_grave;
static sb *g_pool[POOL_MAX];
static int g_npool;
static bool g_stop;

/* intrusive list of all live connections (for shutdown) */
typedef struct conn_box {
    http_conn c;
    struct conn_box *prev, *next;
} conn_box;

static conn_box *g_boxes;

int64_t http_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

int64_t http_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ buffer pool */

static sb *pool_get(void)
{
    sb *b;

    if (g_npool)
        return g_pool[--g_npool];
    b = calloc(1, sizeof(*b));
    if (!b) {
        fprintf(stderr, "heapster-sim: out of memory\n");
        abort();
    }
    sb_grow(b, 65536);
    return b;
}

static void pool_put(sb *b)
{
    b->len = 0;
    if (b->cap > POOL_BUF_MAX || g_npool == POOL_MAX) {
        sb_free(b);
        free(b);
        return;
    }
    g_pool[g_npool++] = b;
}

/* ------------------------------------------------------------------ lists */

static void list_add(http_conn **head, http_conn *c, bool timed)
{
    http_conn **next = timed ? &c->t_next : &c->w_next;
    http_conn **prev = timed ? &c->t_prev : &c->w_prev;

    *prev = NULL;
    *next = *head;
    if (*head) {
        if (timed)
            (*head)->t_prev = c;
        else
            (*head)->w_prev = c;
    }
    *head = c;
}

static void list_del(http_conn **head, http_conn *c, bool timed)
{
    http_conn *p = timed ? c->t_prev : c->w_prev, *n = timed ? c->t_next : c->w_next;

    if (p) {
        if (timed)
            p->t_next = n;
        else
            p->w_next = n;
    } else {
        *head = n;
    }
    if (n) {
        if (timed)
            n->t_prev = p;
        else
            n->w_prev = p;
    }
}

void http_timed(http_conn *c, bool on)
{
    if (on && !c->in_timed)
        list_add(&g_timed, c, true);
    else if (!on && c->in_timed)
        list_del(&g_timed, c, true);
    c->in_timed = on;
}

void http_watching(http_conn *c, bool on)
{
    if (on && !c->in_watch)
        list_add(&g_watch, c, false);
    else if (!on && c->in_watch)
        list_del(&g_watch, c, false);
    c->in_watch = on;
}

/* ------------------------------------------------------------- connections */

static http_conn *conn_new(int fd, int listener, int node)
{
    conn_box *b = calloc(1, sizeof(*b));

    if (!b)
        return NULL;
    b->c.in = malloc(IN_INIT);
    if (!b->c.in) {
        free(b);
        return NULL;
    }
    b->c.in_cap = IN_INIT;
    b->c.fd = fd;
    b->c.listener = listener;
    b->c.node = node;
    b->next = g_boxes;
    if (g_boxes)
        g_boxes->prev = b;
    g_boxes = b;
    return &b->c;
}

static void conn_release_out(http_conn *c)
{
    if (c->out) {
        pool_put(c->out);
        c->out = NULL;
    }
    c->out_pos = 0;
}

static void conn_close(http_conn *c)
{
    conn_box *b = (conn_box *)c;

    if (c->closed)
        return;
    c->closed = true;
    http_timed(c, false);
    http_watching(c, false);
    if (c->ssl)
        tls_close(c);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->in);
    c->in = NULL;
    if (c->pstate_free)
        c->pstate_free(c->pstate);
    else
        free(c->pstate);
    c->pstate = NULL;
    conn_release_out(c);
    if (b->prev)
        b->prev->next = b->next;
    else
        g_boxes = b->next;
    if (b->next)
        b->next->prev = b->prev;
    c->grave_next = g_grave;
    g_grave = c;
    if (c->peer) { /* proxy link: unlink, then tell the other side */
        http_conn *o = c->peer;
        c->peer = NULL;
        o->peer = NULL;
        if (c->listener == LST_UPSTREAM) {
            if (!g_stop)
                proxy_peer_lost(o);
        }
        else
            conn_close(o);
    }
}

void http_close(http_conn *c) { conn_close(c); }

static void grave_flush(void)
{
    while (g_grave) {
        http_conn *c = g_grave;
        g_grave = c->grave_next;
        free((conn_box *)c);
    }
}

void http_reset(http_conn *c)
{
    struct linger l = {1, 0};

    if (c->fd >= 0)
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    c->rst = true;
    conn_close(c);
}

void http_set_hang(http_conn *c)
{
    c->hang = true;
    c->in_len = 0;
}

void http_set_drip(http_conn *c)
{
    c->drip = true;
    c->drip_next_ms = http_now_ms();
    http_timed(c, true);
}

size_t http_pending(const http_conn *c) { return c->out ? c->out->len - c->out_pos : 0; }

sb *http_outbuf(http_conn *c)
{
    if (!c->out)
        c->out = pool_get();
    return c->out;
}

/* ----------------------------------------------------------------- output */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

/* Status line and headers; `len` < 0 means chunked. Returns the length. */
static size_t build_header(char *h, const http_conn *c, int status, const char *ctype, int64_t len)
{
    char *p = h;

    P_LIT(p, "HTTP/1.1 ");
    p = fmt_u64(p, (uint64_t)status);
    *p++ = ' ';
    p = fmt_str(p, reason_phrase(status));
    P_LIT(p, "\r\nContent-Type: ");
    p = fmt_str(p, ctype);
    if (len >= 0) {
        P_LIT(p, "\r\nContent-Length: ");
        p = fmt_u64(p, (uint64_t)len);
    } else {
        P_LIT(p, "\r\nTransfer-Encoding: chunked");
    }
    if (c->close_after)
        P_LIT(p, "\r\nConnection: close");
    P_LIT(p, "\r\n\r\n");
    return (size_t)(p - h);
}

sb *http_body(http_conn *c)
{
    sb *b = http_outbuf(c);

    b->len = HDR_RESERVE;
    c->out_pos = HDR_RESERVE;
    return b;
}

void http_send(http_conn *c, int status, const char *ctype)
{
    char h[HDR_RESERVE];
    sb *b = c->out;
    size_t n = build_header(h, c, status, ctype, (int64_t)(b->len - HDR_RESERVE));

    memcpy(b->data + HDR_RESERVE - n, h, n);
    c->out_pos = HDR_RESERVE - n;
    c->drip_from = HDR_RESERVE;
    if (c->head)
        b->len = HDR_RESERVE; /* HEAD: headers only */
}

void http_send_simple(http_conn *c, int status, const char *ctype, const char *body, size_t n)
{
    sb_put(http_body(c), body, n);
    http_send(c, status, ctype);
}

void http_send_stream(http_conn *c, int status, const char *ctype, uint64_t total,
                      http_producer producer)
{
    sb *b = http_outbuf(c);
    char *p = sb_reserve(b, HDR_RESERVE);

    c->out_pos = b->len;
    b->len += build_header(p, c, status, ctype, (int64_t)total);
    c->producer = producer;
    if (c->head) { /* HEAD: headers only, the producer never runs */
        c->producer = NULL;
        free(c->pstate);
        c->pstate = NULL;
    }
}

void http_send_chunked(http_conn *c, int status, const char *ctype, http_producer producer)
{
    sb *b = http_outbuf(c);
    char *p = sb_reserve(b, HDR_RESERVE);

    c->out_pos = b->len;
    b->len += build_header(p, c, status, ctype, -1);
    c->producer = producer;
}

void http_chunk(http_conn *c, const char *data, size_t n)
{
    sb *b = http_outbuf(c);
    char *p = sb_reserve(b, n + 32), hex[16];
    int digits = 1;

    while (digits < 16 && (n >> (4 * digits)))
        digits++;
    fmt_hex(hex, n, 8);
    p = fmt_mem(p, hex + 16 - digits, (size_t)digits);
    P_LIT(p, "\r\n");
    p = fmt_mem(p, data, n);
    P_LIT(p, "\r\n");
    sb_commit(b, p);
}

void http_chunk_end(http_conn *c) { SB_LIT(http_outbuf(c), "0\r\n\r\n"); }

static ssize_t io_send(http_conn *c, const void *buf, size_t n)
{
    ssize_t w;

    if (c->ssl)
        return tls_send(c, buf, n);
    do
        w = send(c->fd, buf, n, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return w;
}

ssize_t http_io_recv(http_conn *c, void *buf, size_t n)
{
    ssize_t r;

    if (c->ssl)
        return tls_recv(c, buf, n);
    do
        r = recv(c->fd, buf, n, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return r;
}

/* Send pending output. 0 = all sent, 1 = must wait, -1 = connection dead. */
static int conn_flush(http_conn *c)
{
    while (http_pending(c)) {
        size_t n = http_pending(c);
        bool dripping = false;
        ssize_t w;

        if (c->drip) {
            if (c->out_pos >= c->drip_from) {
                if (http_now_ms() < c->drip_next_ms)
                    return 1;
                n = 1;
                dripping = true;
            } else if (n > c->drip_from - c->out_pos) {
                n = c->drip_from - c->out_pos;
            }
        }
        w = io_send(c, c->out->data + c->out_pos, n);
        if (w < 0)
            return w == -EAGAIN ? 1 : -1;
        c->out_pos += (size_t)w;
        if (c->listener == LST_KUBELET)
            sim->st.kubelet_bytes += (uint64_t)w;
        else if (c->listener == LST_API)
            sim->st.api_bytes += (uint64_t)w;
        if (dripping)
            c->drip_next_ms = http_now_ms() + 1000;
    }
    if (c->drip) {
        c->drip = false;
        http_timed(c, false);
    }
    return 0;
}

int http_flush(http_conn *c) { return conn_flush(c); }

/* ------------------------------------------------------------------ input */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int http_query_get(const http_req *r, const char *name, char *out, size_t outsz)
{
    const char *q = r->query, *end = r->query + r->query_len;
    size_t nl = strlen(name);

    while (q && q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        const char *kend = eq ? eq : stop;

        if ((size_t)(kend - q) == nl && memcmp(q, name, nl) == 0) {
            size_t o = 0;
            for (const char *v = eq ? eq + 1 : stop; v < stop; v++) {
                int ch = (unsigned char)*v;
                if (ch == '+') {
                    ch = ' ';
                } else if (ch == '%' && stop - v >= 3 && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
                    ch = hexval(v[1]) * 16 + hexval(v[2]);
                    v += 2;
                }
                if (o + 1 >= outsz)
                    return -E2BIG;
                out[o++] = (char)ch;
            }
            out[o] = 0;
            return (int)o;
        }
        q = stop + 1;
    }
    return -ENOENT;
}

bool http_path_is(const http_req *r, const char *s)
{
    size_t n = strlen(s);
    return r->path_len == n && memcmp(r->path, s, n) == 0;
}

static bool header_is(const char *line, size_t n, const char *name, const char **val, size_t *vlen);

bool http_header(const http_req *r, const char *name, const char **val, size_t *vlen)
{
    const char *p = r->headers, *end = r->headers + r->headers_len;

    while (p && p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            eol = end;
        if (header_is(p, (size_t)(eol - p), name, val, vlen))
            return true;
        p = eol + 2;
    }
    return false;
}

static bool header_is(const char *line, size_t n, const char *name, const char **val, size_t *vlen)
{
    size_t nl = strlen(name);

    if (n <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return false;
    line += nl + 1;
    n -= nl + 1;
    while (n && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    *val = line;
    *vlen = n;
    return true;
}

static void error_response(http_conn *c, int status, const char *msg)
{
    c->close_after = true;
    c->in_len = 0;
    http_send_simple(c, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

static void dispatch(http_conn *c, const http_req *r)
{
    if (c->listener == LST_KUBELET)
        sim->st.kubelet_requests++;
    else
        sim->st.api_requests++;
    if (!auth_check(c, r))
        return;
    if (c->listener == LST_KUBELET)
        kubelet_handle(c, r);
    else
        api_handle(c, r);
    if (!c->closed && !c->hang && !c->producer && !c->proxy_wait && !http_pending(c))
        error_response(c, 500, "handler produced no response\n");
}

/* Parse one request from c->in and dispatch it.
 * Returns 1 when a request was consumed (or rejected), 0 when more input is
 * needed. */
static int parse_and_dispatch(http_conn *c)
{
    char *in = c->in, *hend, *line, *sp1, *sp2, *eol;
    size_t total, clen = 0;
    bool http10, conn_close_hdr = false, conn_keep = false, is_head;
    http_req r;

    if (!in || c->in_len < 4)
        return 0;
    hend = memmem(in, c->in_len, "\r\n\r\n", 4);
    if (!hend) {
        if (c->in_len >= IN_MAX) {
            error_response(c, 431, "request header too large\n");
            return 1;
        }
        return 0;
    }
    eol = memmem(in, (size_t)(hend + 2 - in), "\r\n", 2);
    sp1 = memchr(in, ' ', (size_t)(eol - in));
    sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || eol - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        error_response(c, 400, "malformed request line\n");
        return 1;
    }
    http10 = sp2[8] == '0';
    for (line = eol + 2; line < hend + 2; line = eol + 2) {
        const char *v;
        size_t vl;
        eol = memmem(line, (size_t)(hend + 2 - line), "\r\n", 2);
        if (header_is(line, (size_t)(eol - line), "Content-Length", &v, &vl)) {
            clen = 0;
            for (size_t k = 0; k < vl; k++) {
                if (v[k] < '0' || v[k] > '9' || clen > IN_MAX) {
                    error_response(c, 400, "bad Content-Length\n");
                    return 1;
                }
                clen = clen * 10 + (size_t)(v[k] - '0');
            }
        } else if (header_is(line, (size_t)(eol - line), "Connection", &v, &vl)) {
            if (memmem(v, vl, "close", 5) || memmem(v, vl, "Close", 5))
                conn_close_hdr = true;
            if (memmem(v, vl, "eep-", 4))
                conn_keep = true;
        } else if (header_is(line, (size_t)(eol - line), "Transfer-Encoding", &v, &vl)) {
            error_response(c, 501, "chunked request bodies are not supported\n");
            return 1;
        }
    }
    total = (size_t)(hend + 4 - in) + clen;
    if (total > IN_MAX) {
        error_response(c, 413, "request too large\n");
        return 1;
    }
    if (c->in_len < total)
        return 0;

    memset(&r, 0, sizeof(r));
    r.method_name = in;
    r.method_len = (size_t)(sp1 - in);
    r.target = sp1 + 1;
    r.target_len = (size_t)(sp2 - sp1 - 1);
    {
        char *h0 = memmem(in, (size_t)(hend + 2 - in), "\r\n", 2) + 2;
        r.headers = h0;
        r.headers_len = (size_t)(hend + 2 - h0);
    }
    r.body = hend + 4;
    r.body_len = clen;
    is_head = sp1 - in == 4 && memcmp(in, "HEAD", 4) == 0;
    if (sp1 - in == 3 && memcmp(in, "GET", 3) == 0)
        r.method = HTTP_GET;
    else if (sp1 - in == 4 && memcmp(in, "POST", 4) == 0)
        r.method = HTTP_POST;
    else if (is_head)
        r.method = HTTP_GET;
    else
        r.method = HTTP_OTHER;
    r.path = sp1 + 1;
    r.path_len = (size_t)(sp2 - r.path);
    {
        const char *qm = memchr(r.path, '?', r.path_len);
        if (qm) {
            r.query = qm + 1;
            r.query_len = (size_t)(sp2 - r.query);
            r.path_len = (size_t)(qm - r.path);
        }
    }
    if (r.query_len == 0 && clen > 0) { /* POST form body doubles as the query */
        r.query = hend + 4;
        r.query_len = clen;
    }
    if (http10 ? !conn_keep : conn_close_hdr)
        c->close_after = true;

    c->head = is_head;
    dispatch(c, &r);
    c->head = false;
    if (c->in) { /* consume the request (the handler may have reset in_len) */
        if (c->in_len >= total) {
            memmove(c->in, c->in + total, c->in_len - total);
            c->in_len -= total;
        }
    }
    return 1;
}

/* ------------------------------------------------------------- conn_run */

/* Drive one connection as far as it can go without blocking. */
static void conn_run(http_conn *c)
{
    if (c->closed)
        return;
    if (c->listener == LST_UPSTREAM) {
        proxy_run(c);
        return;
    }
    if (c->ssl && !c->tls_ok) {
        int h = tls_handshake(c);
        if (h < 0) {
            sim->st.tls_handshake_failures++;
            conn_close(c);
        }
        if (h <= 0)
            return;
    }
    for (;;) {
        ssize_t r;

        if (c->closed)
            return;
        if (http_pending(c)) {
            int fr = conn_flush(c);
            if (fr < 0) {
                conn_close(c);
                return;
            }
            if (fr > 0)
                return;
        }
        if (c->out) {
            if (c->producer) {
                c->out->len = 0;
                c->out_pos = 0;
            } else {
                conn_release_out(c);
            }
        }
        if (c->producer) {
            http_produce_rc rc = c->producer(c);
            if (c->closed)
                return;
            if (rc == PRODUCE_MORE)
                continue;
            if (rc == PRODUCE_DONE) {
                c->producer = NULL;
                continue;
            }
            if (http_pending(c))
                continue;
        } else if (c->hang) {
            /* never answer: just read and discard until the peer goes away */
        } else if (c->proxy_wait) {
            /* the backend answers later (proxy_run wakes us); keep any
             * pipelined input, but stop reading when the buffer is full */
            if (c->peer_eof || c->in_len == c->in_cap)
                return;
        } else if (c->close_after) {
            conn_close(c);
            return;
        } else if (parse_and_dispatch(c)) {
            continue;
        }
        if (c->peer_eof) {
            conn_close(c);
            return;
        }
        if (c->in_len == c->in_cap) {
            if (c->hang || c->producer) {
                c->in_len = 0; /* nobody will look at it */
            } else {
                size_t nc = c->in_cap * 2 > IN_MAX ? IN_MAX : c->in_cap * 2;
                char *ni = nc > c->in_cap ? realloc(c->in, nc) : NULL;
                if (!ni) {
                    error_response(c, 431, "request too large\n");
                    continue;
                }
                c->in = ni;
                c->in_cap = nc;
            }
        }
        r = http_io_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
        if (r > 0) {
            if (!c->hang)
                c->in_len += (size_t)r;
            continue;
        }
        if (r == 0) {
            c->peer_eof = true;
            continue;
        }
        if (r != -EAGAIN)
            conn_close(c);
        return;
    }
}

void http_wake(http_conn *c) { conn_run(c); }

void http_kick_watchers(void)
{
    http_conn *c = g_watch, *n;

    for (; c; c = n) {
        n = c->w_next;
        conn_run(c);
    }
}

static void tick(void)
{
    http_conn *c = g_timed, *n;

    for (; c; c = n) {
        n = c->t_next;
        conn_run(c);
    }
}

/* --------------------------------------------------------------- accept */

static void accept_all(int li)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        int fd = accept4(g_lfd[li], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), node = -1, one = 1;
        struct epoll_event ev;
        http_conn *c;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && g_spare >= 0) {
                /* out of descriptors: shed this connection, keep the loop alive */
                close(g_spare);
                fd = accept(g_lfd[li], NULL, NULL);
                if (fd >= 0)
                    close(fd);
                g_spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
                continue;
            }
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (li == LST_KUBELET && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 &&
            sa.sin_family == AF_INET)
            node = model_node_from_ip(ntohl(sa.sin_addr.s_addr));
        sim->st.connections++;
        if (li == LST_KUBELET && node >= 0 && (uint32_t)node < sim->node_count &&
            sim->fault[node] == FAULT_REFUSE) {
            struct linger l = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
            close(fd);
            sim->st.fault_responses++;
            continue;
        }
        c = conn_new(fd, li, node);
        if (!c) {
            close(fd);
            continue;
        }
        if (tls_on() && tls_server_new(c) < 0) {
            conn_close(c);
            continue;
        }
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = c;
        if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            conn_close(c);
    }
}

http_conn *http_open_upstream(int fd)
{
    struct epoll_event ev;
    http_conn *c = conn_new(fd, LST_UPSTREAM, -1);

    if (!c) {
        close(fd);
        return NULL;
    }
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        conn_close(c);
        return NULL;
    }
    return c;
}

/* ---------------------------------------------------------- setup / loop */

static int listen_on(uint32_t addr, uint16_t port)
{
    struct sockaddr_in sa;
    int fd, one = 1, err;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 65535) < 0) {
        err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

int http_listen(uint16_t api_port, uint16_t kubelet_port)
{
    struct epoll_event ev;
    sigset_t ss;
    int err;

    signal(SIGPIPE, SIG_IGN);
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0)
        return -errno;
    g_lfd[LST_API] = listen_on(INADDR_LOOPBACK, api_port);
    if (g_lfd[LST_API] < 0) {
        fprintf(stderr, "heapster-sim: cannot listen on 127.0.0.1:%u: %s\n", api_port,
                strerror(-g_lfd[LST_API]));
        return g_lfd[LST_API];
    }
    g_lfd[LST_KUBELET] = listen_on(INADDR_ANY, kubelet_port);
    if (g_lfd[LST_KUBELET] < 0) {
        fprintf(stderr, "heapster-sim: cannot listen on 0.0.0.0:%u: %s\n", kubelet_port,
                strerror(-g_lfd[LST_KUBELET]));
        return g_lfd[LST_KUBELET];
    }
    sigemptyset(&ss);
    sigaddset(&ss, SIGINT);
    sigaddset(&ss, SIGTERM);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    g_sigfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
    if (g_sigfd < 0)
        return -errno;
    g_spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (int k = 0; k < 3; k++) {
        ev.events = EPOLLIN | (k < 2 ? EPOLLET : 0);
        ev.data.ptr = &g_tag[k];
        if (epoll_ctl(g_ep, EPOLL_CTL_ADD, k < 2 ? g_lfd[k] : g_sigfd, &ev) < 0) {
            err = -errno;
            return err;
        }
    }
    return 0;
}

int http_run(void)
{
    struct epoll_event evs[MAX_EVENTS];
    int64_t last_tick = http_now_ms();

    while (!g_stop) {
        int timeout = -1, n;

        if (g_timed)
            timeout = TICK_MS - (int)(http_now_ms() % TICK_MS) + 1;
        n = epoll_wait(g_ep, evs, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR)
            return -errno;
        for (int k = 0; k < n; k++) {
            void *p = evs[k].data.ptr;
            if (p == &g_tag[LST_API] || p == &g_tag[LST_KUBELET]) {
                accept_all(p == &g_tag[LST_API] ? LST_API : LST_KUBELET);
            } else if (p == &g_tag[2]) {
                struct signalfd_siginfo si;
                while (read(g_sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                    g_stop = true;
            } else {
                conn_run(p);
            }
        }
        if (g_timed && http_now_ms() / TICK_MS != last_tick / TICK_MS) {
            last_tick = http_now_ms();
            tick();
        }
        grave_flush();
    }
    return 0;
}

void http_shutdown(void)
{
    while (g_boxes)
        conn_close(&g_boxes->c);
    grave_flush();
    while (g_npool) {
        sb *b = g_pool[--g_npool];
        sb_free(b);
        free(b);
    }
    for (int k = 0; k < 2; k++)
        if (g_lfd[k] >= 0)
            close(g_lfd[k]);
    if (g_sigfd >= 0)
        close(g_sigfd);
    if (g_spare >= 0)
        close(g_spare);
    if (g_ep >= 0)
        close(g_ep);
}
