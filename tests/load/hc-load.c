/*
 * hc-load.c - a constant-rate (open-loop) HTTP/1.1 load generator (prefix ld_).
 *
 *   hc-load URL --rate=N --duration=S [--connections=C] [--warmup=S]
 *
 * wrk measures latency at the throughput a closed loop of C clients reaches,
 * so at saturation its percentiles are queueing delay, and a server stall
 * holds back the requests that would have measured it ("coordinated
 * omission").  hc-load sends GET URL at a fixed rate instead: request i is
 * due at t0 + i/N, whatever happened to the requests before it, and its
 * latency runs from that scheduled time, not from when it was written, to
 * the last byte of its response.  A request that is due while every
 * connection is busy waits in a queue and its wait counts.  Since schedule
 * times follow from the index, the queue is just the index range
 * [next_send, next_due): no memory per request.
 *
 * One thread, one epoll instance, C non-blocking keep-alive connections
 * (one request in flight on each, as a real client does; a due request
 * goes to the connection idle the longest), registered edge-triggered for
 * both directions, and a timerfd armed at the next due time (absolute
 * CLOCK_MONOTONIC, so the schedule does not drift).  The connections are
 * opened before t0, so connecting is not in the first latencies.
 *
 * Responses are parsed, not just counted: status line, headers, then the
 * body by Content-Length, chunked transfer encoding (chunk extensions,
 * trailers) or, without either, until the server closes; 1xx responses
 * are skipped; "Connection: close" or HTTP/1.0 closes the connection after
 * the response and a new one is opened at once.  Bytes that arrive when no
 * response is expected, or a header block over LD_HDR_MAX, are protocol
 * errors: the connection is closed and reopened.  A 408 on an idle
 * connection is the server closing it (Kore does after 10 s without a
 * request), not an error.
 *
 * Latencies go into a log-linear histogram in nanoseconds (128 linear
 * sub-buckets per power of two: at most 0.8% bucket width, 0.4% error at the
 * midpoint reported; exact below 256 ns, up to 2^38 ns = 275 s), a fixed
 * array, as are the connections' header buffers: nothing is allocated after
 * start.
 *
 * --warmup=S runs the same schedule for S seconds before the measured
 * --duration, without recording.  After the last scheduled request, hc-load
 * waits up to LD_DRAIN_NS for the outstanding ones; those still unanswered
 * are "timeouts" and enter the histogram with the wait so far, a lower
 * bound, so that a hung server is not hidden either.  Output, one line:
 *
 *   rate R req/s sent S ok K non2xx X errors E timeouts T achieved A req/s
 *   p50 .. ms p90 .. ms p99 .. ms p99.9 .. ms max .. ms lag99 .. ms lagmax .. ms
 *
 * sent/ok/non2xx/timeouts count measured requests (latencies of both ok
 * and non2xx responses are in the percentiles); errors counts socket events
 * over the whole run (a failed connect, a reset, a connection closed with a
 * request in flight, a malformed response); achieved is the responses
 * completed within the measured window divided by its length.  lag99 and
 * lagmax tell how late hc-load itself sent requests after both the
 * schedule and a free connection allowed: its own share of the latencies,
 * which grows when it competes with the server for the CPU.  Exit 0, or 2
 * with one line on stderr for bad arguments or when not a single
 * connection could be opened.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define LD_MAX_CONNS 10000
#define LD_HDR_MAX 8192                         /* status line + headers */
#define LD_REQ_MAX 4096
#define LD_RBUF 65536                           /* one read buffer: one thread */
#define LD_CONNECT_NS (5 * 1000000000LL)        /* initial connects */
#define LD_RETRY_NS (100 * 1000000LL)           /* after a failed connect */
#define LD_DRAIN_NS (10 * 1000000000LL)         /* answers after the schedule */
#define LD_TIMER_ID UINT32_MAX

/* Histogram: values below 2*H_SUB ns are exact; above, each power of two
 * [2^k, 2^(k+1)) has H_SUB buckets of width 2^(k-H_SUB_BITS). */
#define H_SUB_BITS 7
#define H_SUB (1u << H_SUB_BITS)
#define H_MAX_SHIFT 30
#define H_BUCKETS (2 * H_SUB + H_MAX_SHIFT * H_SUB)

struct ld_hist {
	uint64_t counts[H_BUCKETS];
	uint64_t n;
	int64_t max;
};

enum ld_state { LD_CLOSED, LD_CONNECTING, LD_IDLE, LD_BUSY };

/* where the response parser is, while LD_BUSY */
enum ld_parse {
	P_HEAD,         /* status line and headers, into hdr */
	P_BODY_LEN,     /* Content-Length: remain bytes left */
	P_BODY_EOF,     /* no length: the body ends when the server closes */
	P_CHUNK_SIZE,   /* hex digits of a chunk-size line */
	P_CHUNK_EXT,    /* rest of that line (extensions, CR) up to LF */
	P_CHUNK_DATA,   /* remain bytes of chunk data left */
	P_CHUNK_CRLF,   /* the CRLF after chunk data */
	P_TRAILER,      /* trailer lines after the last chunk, up to an empty one */
};

struct ld_conn {
	int fd;                 /* -1 when LD_CLOSED */
	int state;              /* enum ld_state */
	int parse;              /* enum ld_parse */
	int status;             /* status code of the response being read */
	bool close_after;       /* the server closes after this response */
	uint64_t req;           /* LD_BUSY: schedule index of the request */
	size_t wr_off;          /* LD_BUSY: bytes of the request written */
	size_t hdr_len;         /* P_HEAD: bytes in hdr */
	uint64_t remain;        /* P_BODY_LEN, P_CHUNK_DATA: bytes left */
	uint64_t chunk;         /* P_CHUNK_SIZE: size so far */
	int chunk_digits;
	size_t line_len;        /* P_TRAILER: bytes of the current line */
	int64_t retry_at;       /* LD_CLOSED: reconnect at or after this (ns) */
	char *hdr;              /* LD_HDR_MAX bytes */
};

struct ld {
	/* arguments */
	const char *url;
	double rate, duration, warmup;
	int nconns;
	/* target and the request, rendered once */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char authority[512];
	char req[LD_REQ_MAX];
	size_t req_len;
	/* schedule, CLOCK_MONOTONIC ns */
	int64_t t0, t_meas, t_end, deadline;
	double interval_ns;
	uint64_t n_warm, n_total;
	uint64_t next_due;      /* requests [0, next_due) are due */
	uint64_t next_send;     /* requests [next_send, next_due) wait */
	/* connections */
	struct ld_conn *conns;
	char *hdr_bufs;
	int *idle;              /* FIFO ring of LD_IDLE connection indices */
	int idle_head, nidle, nbusy, nclosed;
	int ep, tfd;
	int64_t armed;          /* timerfd expiry, 0: disarmed */
	int64_t idle_since;     /* when nidle last became > 0 */
	/* results */
	uint64_t sent, ok, non2xx, errors, timeouts, in_window;
	int connected;          /* connects that succeeded, ever */
	int first_err;          /* errno of the first failed connect */
	struct ld_hist hist;
	struct ld_hist lag;     /* send time - when the request could be sent */
};

static char ld_rbuf[LD_RBUF];

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned hist_index(uint64_t v)
{
	unsigned shift;

	if (v < 2 * H_SUB)
		return (unsigned)v;
	shift = (unsigned)(63 - __builtin_clzll(v)) - H_SUB_BITS;
	if (shift > H_MAX_SHIFT)
		return H_BUCKETS - 1;
	return 2 * H_SUB + (shift - 1) * H_SUB + (unsigned)((v >> shift) - H_SUB);
}

/* The midpoint of bucket i, in ns. */
static double hist_value(unsigned i)
{
	unsigned k, shift;
	uint64_t low;

	if (i < 2 * H_SUB)
		return i;
	k = i - 2 * H_SUB;
	shift = k / H_SUB + 1;
	low = (uint64_t)(k % H_SUB + H_SUB) << shift;
	return (double)low + (double)(1ULL << shift) / 2;
}

static void hist_add(struct ld_hist *h, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	h->counts[hist_index((uint64_t)ns)]++;
	h->n++;
	if (ns > h->max)
		h->max = ns;
}

/* The p-th percentile (0 < p <= 100) in ns: the bucket holding the
 * ceil(p% * n)-th smallest value, never above the exact maximum. */
static double hist_pct(const struct ld_hist *h, double p)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return NAN;
	want = (uint64_t)ceil(p / 100.0 * (double)h->n);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < H_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= want)
			return fmin(hist_value(i), (double)h->max);
	}
	return (double)h->max;
}

/* "10", and with units "2.5s", "500ms", "1m" -> seconds; -EINVAL if not
 * a number >= 0. */
static int parse_number(const char *s, bool units, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end != '\0' && !units)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		v /= 1000;
	else if (strcmp(end, "m") == 0)
		v *= 60;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * Splits http://host[:port][/path] (the scheme may be left out; [v6]:port
 * works), resolves host and renders the request.  -EINVAL with a message.
 */
static int parse_url(struct ld *L)
{
	const char *u = L->url, *hs, *he, *path, *port = "80";
	char host[256], portbuf[16];
	struct addrinfo hints, *res = NULL;
	size_t alen;
	int rc, n;

	if (strncasecmp(u, "http://", 7) == 0)
		u += 7;
	else if (strstr(u, "://") != NULL) {
		fprintf(stderr, "hc-load: %s: only http:// URLs\n", L->url);
		return -EINVAL;
	}
	path = strchr(u, '/');
	if (path == NULL)
		path = u + strlen(u);
	alen = (size_t)(path - u);
	if (alen == 0 || alen >= sizeof(L->authority)) {
		fprintf(stderr, "hc-load: %s: no host\n", L->url);
		return -EINVAL;
	}
	memcpy(L->authority, u, alen);
	L->authority[alen] = '\0';
	hs = L->authority;
	if (*hs == '[') {
		hs++;
		he = strchr(hs, ']');
		if (he == NULL || (he[1] != '\0' && he[1] != ':'))
			goto bad_host;
		if (he[1] == ':')
			port = he + 2;
	} else {
		he = strchr(hs, ':');
		if (he != NULL)
			port = he + 1;
		else
			he = hs + strlen(hs);
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(host) || *port == '\0' ||
	    strlen(port) >= sizeof(portbuf) || strspn(port, "0123456789") != strlen(port))
		goto bad_host;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	strcpy(portbuf, port);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, portbuf, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "hc-load: %s: %s\n", host, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(&L->addr, res->ai_addr, res->ai_addrlen);
	L->addrlen = res->ai_addrlen;
	freeaddrinfo(res);

	n = snprintf(L->req, sizeof(L->req),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hc-load\r\nAccept: */*\r\n\r\n",
		     *path ? path : "/", L->authority);
	if (n < 0 || (size_t)n >= sizeof(L->req)) {
		fprintf(stderr, "hc-load: %s: URL too long\n", L->url);
		return -EINVAL;
	}
	L->req_len = (size_t)n;
	return 0;

bad_host:
	fprintf(stderr, "hc-load: %s: bad host:port\n", L->url);
	return -EINVAL;
}

/* Reads the command line into L; -EINVAL with a message on stderr. */
static int parse_args(struct ld *L, int argc, char **argv)
{
	static const char *const opts[] = { "rate", "duration", "connections", "warmup" };
	double v[4] = { -1, -1, 32, 0 };

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		size_t k, len;

		if (strncmp(a, "--", 2) != 0) {
			if (L->url != NULL) {
				fprintf(stderr, "hc-load: one URL only (%s)\n", a);
				return -EINVAL;
			}
			L->url = a;
			continue;
		}
		for (k = 0; k < 4; k++) {
			len = strlen(opts[k]);
			if (strncmp(a + 2, opts[k], len) != 0)
				continue;
			if (a[2 + len] == '=')
				val = a + 3 + len;
			else if (a[2 + len] == '\0' && i + 1 < argc)
				val = argv[++i];
			else
				continue;
			break;
		}
		if (k == 4 || parse_number(val, k == 1 || k == 3, &v[k]) != 0) {
			fprintf(stderr, "hc-load: bad option %s (usage: hc-load URL --rate=N "
				"--duration=S [--connections=C] [--warmup=S])\n", a);
			return -EINVAL;
		}
	}
	if (L->url == NULL || v[0] <= 0 || v[1] <= 0) {
		fprintf(stderr, "hc-load: usage: hc-load URL --rate=N --duration=S "
			"[--connections=C] [--warmup=S]\n");
		return -EINVAL;
	}
	if (v[2] < 1 || v[2] > LD_MAX_CONNS || v[2] != floor(v[2])) {
		fprintf(stderr, "hc-load: --connections: 1..%d\n", LD_MAX_CONNS);
		return -EINVAL;
	}
	if (v[0] > 1e7 || v[0] * (v[1] + v[3]) > 1e10) {
		fprintf(stderr, "hc-load: --rate too high for that long\n");
		return -EINVAL;
	}
	L->rate = v[0];
	L->duration = v[1];
	L->nconns = (int)v[2];
	L->warmup = v[3];
	return 0;
}

static int64_t sched(const struct ld *L, uint64_t i)
{
	return L->t0 + (int64_t)((double)i * L->interval_ns);
}

/* Takes connection ci out of the idle ring (it closed while idle). */
static void idle_remove(struct ld *L, int ci)
{
	int n = L->nconns, i;

	for (i = 0; i < L->nidle && L->idle[(L->idle_head + i) % n] != ci; i++)
		;
	if (i == L->nidle)
		return;
	for (; i + 1 < L->nidle; i++)
		L->idle[(L->idle_head + i) % n] = L->idle[(L->idle_head + i + 1) % n];
	L->nidle--;
}

/* Closes c; it reconnects at or after now + delay. */
static void conn_close(struct ld *L, struct ld_conn *c, int64_t delay)
{
	if (c->state == LD_IDLE)
		idle_remove(L, (int)(c - L->conns));
	else if (c->state == LD_BUSY)
		L->nbusy--;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = LD_CLOSED;
	c->retry_at = now_ns() + delay;
	L->nclosed++;
}

/* A failed connect: counted, remembered for the "could not connect" error. */
static void conn_failed(struct ld *L, struct ld_conn *c, int err)
{
	if (L->first_err == 0)
		L->first_err = err;
	L->errors++;
	conn_close(L, c, LD_RETRY_NS);
}

/*
 * c is free for a request since `now`.  Idle connections queue FIFO, so
 * requests go round all of them, as from C clients: at a low rate none
 * sits unused until the server times it out (Kore answers 408 and closes
 * a connection without a request after 10 s).
 */
static void idle_push(struct ld *L, struct ld_conn *c, int64_t now)
{
	if (L->nidle == 0)
		L->idle_since = now;
	c->state = LD_IDLE;
	L->idle[(L->idle_head + L->nidle++) % L->nconns] = (int)(c - L->conns);
}

static void conn_ready(struct ld *L, struct ld_conn *c)
{
	L->connected++;
	idle_push(L, c, now_ns());
}

/* Starts a non-blocking connect on closed c; 0 or -errno. */
static int conn_open(struct ld *L, struct ld_conn *c)
{
	struct epoll_event ev;
	int one = 1, fd, err;

	L->nclosed--;
	c->state = LD_CONNECTING;
	fd = socket(L->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		conn_failed(L, c, err);
		return -err;
	}
	c->fd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.u32 = (uint32_t)(c - L->conns);
	if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		err = errno;
		conn_failed(L, c, err);
		return -err;
	}
	if (connect(fd, (struct sockaddr *)&L->addr, L->addrlen) == 0) {
		conn_ready(L, c);
		return 0;
	}
	if (errno != EINPROGRESS) {
		err = errno;
		conn_failed(L, c, err);
		return -err;
	}
	return 0;
}

/* Writes what is left of c's request; a broken connection is an error. */
static void conn_write(struct ld *L, struct ld_conn *c)
{
	while (c->wr_off < L->req_len) {
		ssize_t n = send(c->fd, L->req + c->wr_off, L->req_len - c->wr_off, MSG_NOSIGNAL);

		if (n > 0) {
			c->wr_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;         /* EPOLLOUT resumes */
		L->errors++;
		conn_close(L, c, 0);
		return;
	}
}

/*
 * Sends request i on the connection idle the longest.  Its lag is how late
 * the send is after both the request was due and a connection was free:
 * the generator's own delay (waking up, other work), which the latency
 * includes too.
 */
static void dispatch(struct ld *L, uint64_t i)
{
	struct ld_conn *c = &L->conns[L->idle[L->idle_head]];
	int64_t now = now_ns(), ready = sched(L, i);

	L->idle_head = (L->idle_head + 1) % L->nconns;
	L->nidle--;
	if (L->idle_since > ready)
		ready = L->idle_since;
	if (i >= L->n_warm)
		hist_add(&L->lag, now - ready);

	c->state = LD_BUSY;
	c->req = i;
	c->wr_off = 0;
	c->parse = P_HEAD;
	c->hdr_len = 0;
	L->nbusy++;
	if (i >= L->n_warm)
		L->sent++;
	conn_write(L, c);
}

/* Finds the value of header `name` in the header block [p, end); NULL if absent. */
static const char *header_value(const char *p, const char *end, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *v, *ve;

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			v = p + nlen + 1;
			ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		p = eol + 1;
	}
	return NULL;
}

static bool has_token(const char *v, size_t len, const char *tok)
{
	size_t tlen = strlen(tok);

	for (size_t i = 0; i + tlen <= len; i++)
		if (strncasecmp(v + i, tok, tlen) == 0)
			return true;
	return false;
}

/*
 * The header block of c's response is complete in hdr[0, hdr_len): reads
 * the status and chooses how the body is framed.  1 when the response is
 * complete already (no body), 0 when a body follows, -EPROTO.
 */
static int resp_head(struct ld_conn *c)
{
	const char *h = c->hdr, *end = c->hdr + c->hdr_len, *v, *body;
	size_t vlen;
	bool http10;

	if (c->hdr_len < 13 || strncmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ' ||
	    h[9] < '1' || h[9] > '5' || h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9')
		return -EPROTO;
	http10 = h[7] == '0';
	c->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	body = memchr(h, '\n', c->hdr_len) + 1;
	if (c->status < 200) {          /* interim (100 Continue): the real one follows */
		c->hdr_len = 0;
		return 0;
	}
	v = header_value(body, end, "connection", &vlen);
	c->close_after = v ? has_token(v, vlen, "close") : http10;
	if (http10 && v && has_token(v, vlen, "keep-alive"))
		c->close_after = false;
	if (c->status == 204 || c->status == 304)
		return 1;
	v = header_value(body, end, "transfer-encoding", &vlen);
	if (v != NULL && has_token(v, vlen, "chunked")) {
		c->parse = P_CHUNK_SIZE;
		c->chunk = 0;
		c->chunk_digits = 0;
		return 0;
	}
	v = header_value(body, end, "content-length", &vlen);
	if (v != NULL) {
		if (vlen == 0 || vlen > 18 || strspn(v, "0123456789") < vlen)
			return -EPROTO;
		c->remain = strtoull(v, NULL, 10);
		if (c->remain == 0)
			return 1;
		c->parse = P_BODY_LEN;
		return 0;
	}
	c->parse = P_BODY_EOF;
	c->close_after = true;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Feeds n received bytes to c's response parser.  *used: the bytes it
 * consumed.  1 when the response is complete (bytes may be left over), 0
 * when it needs more, -EPROTO on a malformed response.
 */
static int resp_feed(struct ld_conn *c, const char *p, size_t n, size_t *used)
{
	size_t i = 0;

	while (i < n) {
		switch (c->parse) {
		case P_HEAD: {
			/* copy up to the end of the header block (LF CRLF or LF LF) */
			bool end = false;
			int rc;

			while (i < n && !end) {
				size_t j = c->hdr_len;

				if (j >= LD_HDR_MAX)
					return -EPROTO;
				c->hdr[j] = p[i++];
				c->hdr_len = j + 1;
				end = c->hdr[j] == '\n' && j > 0 &&
				      (c->hdr[j - 1] == '\n' ||
				       (j > 1 && c->hdr[j - 1] == '\r' && c->hdr[j - 2] == '\n'));
			}
			if (!end)
				break;
			rc = resp_head(c);
			if (rc != 0) {
				*used = i;
				return rc;
			}
			break;
		}
		case P_BODY_LEN:
		case P_CHUNK_DATA: {
			size_t take = n - i;

			if (take > c->remain)
				take = (size_t)c->remain;
			c->remain -= take;
			i += take;
			if (c->remain > 0)
				break;
			if (c->parse == P_BODY_LEN) {
				*used = i;
				return 1;
			}
			c->parse = P_CHUNK_CRLF;
			break;
		}
		case P_BODY_EOF:
			i = n;
			break;
		case P_CHUNK_SIZE: {
			int d = hexval(p[i]);

			if (d >= 0) {
				if (++c->chunk_digits > 15)
					return -EPROTO;
				c->chunk = c->chunk * 16 + (uint64_t)d;
				i++;
				break;
			}
			if (c->chunk_digits == 0)
				return -EPROTO;
			c->parse = P_CHUNK_EXT;
			break;
		}
		case P_CHUNK_EXT:
			if (p[i++] != '\n')
				break;
			if (c->chunk == 0) {
				c->parse = P_TRAILER;
				c->line_len = 0;
			} else {
				c->parse = P_CHUNK_DATA;
				c->remain = c->chunk;
			}
			break;
		case P_CHUNK_CRLF:
			if (p[i] == '\r') {
				i++;
				break;
			}
			if (p[i++] != '\n')
				return -EPROTO;
			c->parse = P_CHUNK_SIZE;
			c->chunk = 0;
			c->chunk_digits = 0;
			break;
		case P_TRAILER:
			if (p[i] == '\n') {
				i++;
				if (c->line_len == 0) {
					*used = i;
					return 1;
				}
				c->line_len = 0;
				break;
			}
			if (p[i++] != '\r')
				c->line_len++;
			break;
		}
	}
	*used = i;
	return 0;
}

/* c's response is complete at `now`: records it, frees or closes c. */
static void resp_done(struct ld *L, struct ld_conn *c, int64_t now)
{
	if (c->req >= L->n_warm) {
		hist_add(&L->hist, now - sched(L, c->req));
		if (c->status >= 200 && c->status < 300)
			L->ok++;
		else
			L->non2xx++;
	}
	if (now >= L->t_meas && now < L->t_end)
		L->in_window++;
	if (c->close_after) {
		conn_close(L, c, 0);
		return;
	}
	L->nbusy--;
	idle_push(L, c, now);
}

/* Reads c until EAGAIN, completing its response or closing it; `events`
 * is the epoll event that reported it readable. */
static void conn_read(struct ld *L, struct ld_conn *c, uint32_t events)
{
	for (;;) {
		ssize_t n = recv(c->fd, ld_rbuf, sizeof(ld_rbuf), 0);
		int64_t now;
		size_t used;
		int rc;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			L->errors++;
			conn_close(L, c, 0);
			return;
		}
		now = now_ns();
		if (n == 0) {
			if (c->state == LD_BUSY && c->parse == P_BODY_EOF) {
				c->close_after = true;
				resp_done(L, c, now);
			} else {
				/* an idle keep-alive connection closing is no error */
				if (c->state == LD_BUSY)
					L->errors++;
				conn_close(L, c, 0);
			}
			return;
		}
		if (c->state != LD_BUSY) {
			/* bytes nobody asked for: an error, unless the server
			 * says 408 as it closes an idle connection */
			if (n < 12 || strncmp(ld_rbuf, "HTTP/1.", 7) != 0 ||
			    strncmp(ld_rbuf + 8, " 408", 4) != 0)
				L->errors++;
			conn_close(L, c, 0);
			return;
		}
		rc = resp_feed(c, ld_rbuf, (size_t)n, &used);
		if (rc < 0 || (rc == 1 && used < (size_t)n)) {
			L->errors++;
			conn_close(L, c, 0);
			return;
		}
		if (rc == 1) {
			resp_done(L, c, now);
			if (c->state == LD_CLOSED)
				return;
		}
		/* A short read drained the socket, and data or a FIN arriving
		 * since epoll_wait raises a new edge: the EAGAIN read can be
		 * saved, unless the event had seen the FIN already. */
		if ((size_t)n < sizeof(ld_rbuf) && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			return;
	}
}

/* One epoll event on connection c. */
static void conn_event(struct ld *L, struct ld_conn *c, uint32_t events)
{
	if (c->state == LD_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0) {
			conn_failed(L, c, err);
			return;
		}
		if (!(events & (EPOLLOUT | EPOLLIN | EPOLLHUP | EPOLLERR)))
			return;
		conn_ready(L, c);
	}
	if (c->state == LD_BUSY && c->wr_off < L->req_len && (events & (EPOLLOUT | EPOLLERR)))
		conn_write(L, c);
	if (c->state != LD_CLOSED && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		conn_read(L, c, events);
}

/* Arms the timer at `when` (absolute ns; 0 disarms) unless it already is. */
static int timer_arm(struct ld *L, int64_t when)
{
	struct itimerspec its;

	if (when == L->armed)
		return 0;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = when / 1000000000LL;
	its.it_value.tv_nsec = when % 1000000000LL;
	if (timerfd_settime(L->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		return -errno;
	L->armed = when;
	return 0;
}

/* Waits until `wake` (absolute ns) or an event, and handles the events. */
static int loop_wait(struct ld *L, int64_t wake)
{
	struct epoll_event evs[256];
	int n, rc;

	rc = timer_arm(L, wake);
	if (rc != 0)
		return rc;
	n = epoll_wait(L->ep, evs, 256, -1);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u32 == LD_TIMER_ID) {
			/* no read(): timerfd_settime, which the next turn
			 * calls since armed is 0, clears the expiry too */
			L->armed = 0;
			continue;
		}
		conn_event(L, &L->conns[evs[i].data.u32], evs[i].events);
	}
	return 0;
}

/* Opens every connection before the schedule starts; -errno of the first
 * failure if none could be opened. */
static int connect_all(struct ld *L)
{
	int64_t deadline = now_ns() + LD_CONNECT_NS;
	int rc;

	for (int i = 0; i < L->nconns; i++)
		conn_open(L, &L->conns[i]);
	while (L->nidle < L->nconns && now_ns() < deadline) {
		bool pending = false;

		for (int i = 0; i < L->nconns; i++)
			pending |= L->conns[i].state == LD_CONNECTING;
		if (!pending)
			break;
		rc = loop_wait(L, deadline);
		if (rc != 0)
			return rc;
	}
	if (L->connected == 0)
		return -(L->first_err ? L->first_err : ETIMEDOUT);
	return 0;
}

/* Runs the schedule, then waits for the answers up to L->deadline. */
static int run(struct ld *L)
{
	uint64_t n_meas;
	int rc;

	L->interval_ns = 1e9 / L->rate;
	L->n_warm = (uint64_t)llround(L->warmup * L->rate);
	n_meas = (uint64_t)llround(L->duration * L->rate);
	if (n_meas == 0)
		n_meas = 1;
	L->n_total = L->n_warm + n_meas;
	L->t0 = now_ns() + 1000000;     /* first request 1 ms from now */
	L->t_meas = L->t0 + (int64_t)(L->warmup * 1e9);
	L->t_end = L->t_meas + (int64_t)(L->duration * 1e9);
	L->deadline = L->t_end + LD_DRAIN_NS;

	for (;;) {
		int64_t now = now_ns(), wake;

		while (L->next_due < L->n_total && sched(L, L->next_due) <= now)
			L->next_due++;
		wake = L->deadline;
		if (L->nclosed > 0) {
			for (int i = 0; i < L->nconns; i++) {
				struct ld_conn *c = &L->conns[i];

				if (c->state != LD_CLOSED)
					continue;
				if (c->retry_at <= now)
					conn_open(L, c);
				else if (c->retry_at < wake)
					wake = c->retry_at;
			}
		}
		while (L->next_send < L->next_due && L->nidle > 0)
			dispatch(L, L->next_send++);
		/* While requests wait for a connection, the next one to fall
		 * due would only join them: a connection freeing wakes us. */
		if (L->next_send == L->next_due && L->next_due < L->n_total &&
		    sched(L, L->next_due) < wake)
			wake = sched(L, L->next_due);
		if (L->next_send == L->n_total && L->nbusy == 0)
			break;
		if (now >= L->deadline)
			break;
		rc = loop_wait(L, wake);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Requests still unanswered at the end: timeouts, with their wait so far
 * (a lower bound) in the histogram. */
static void count_timeouts(struct ld *L)
{
	int64_t now = now_ns();

	for (int i = 0; i < L->nconns; i++) {
		struct ld_conn *c = &L->conns[i];

		if (c->state == LD_BUSY && c->req >= L->n_warm) {
			hist_add(&L->hist, now - sched(L, c->req));
			L->timeouts++;
		}
	}
	for (uint64_t i = L->next_send > L->n_warm ? L->next_send : L->n_warm; i < L->n_total; i++) {
		hist_add(&L->hist, now - sched(L, i));
		L->timeouts++;
	}
}

static void report(const struct ld *L)
{
	const struct ld_hist *h = &L->hist;

	printf("rate %g req/s sent %llu ok %llu non2xx %llu errors %llu timeouts %llu "
	       "achieved %.1f req/s p50 %.3f ms p90 %.3f ms p99 %.3f ms p99.9 %.3f ms max %.3f ms "
	       "lag99 %.3f ms lagmax %.3f ms\n",
	       L->rate, (unsigned long long)L->sent, (unsigned long long)L->ok,
	       (unsigned long long)L->non2xx, (unsigned long long)L->errors,
	       (unsigned long long)L->timeouts, (double)L->in_window / L->duration,
	       hist_pct(h, 50) / 1e6, hist_pct(h, 90) / 1e6, hist_pct(h, 99) / 1e6,
	       hist_pct(h, 99.9) / 1e6, h->n ? (double)h->max / 1e6 : NAN,
	       hist_pct(&L->lag, 99) / 1e6, L->lag.n ? (double)L->lag.max / 1e6 : NAN);
	fflush(stdout);
}

/* Raises RLIMIT_NOFILE for n connections; -EMFILE if the hard limit is lower. */
static int raise_nofile(int n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	if (rl.rlim_cur >= (rlim_t)n + 16)
		return 0;
	if (rl.rlim_max < (rlim_t)n + 16)
		return -EMFILE;
	rl.rlim_cur = (rlim_t)n + 16;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0 ? 0 : -errno;
}

int main(int argc, char **argv)
{
	static struct ld L;     /* the histogram is 32 KiB: not on the stack */
	struct epoll_event ev;
	int rc, status = 2;

	signal(SIGPIPE, SIG_IGN);
	if (parse_args(&L, argc, argv) != 0 || parse_url(&L) != 0)
		return 2;
	rc = raise_nofile(L.nconns);
	if (rc != 0) {
		fprintf(stderr, "hc-load: %d connections: %s\n", L.nconns, strerror(-rc));
		return 2;
	}
	L.conns = calloc((size_t)L.nconns, sizeof(*L.conns));
	L.hdr_bufs = malloc((size_t)L.nconns * LD_HDR_MAX);
	L.idle = calloc((size_t)L.nconns, sizeof(*L.idle));
	if (L.conns == NULL || L.hdr_bufs == NULL || L.idle == NULL) {
		fprintf(stderr, "hc-load: out of memory\n");
		goto free_conns;
	}
	for (int i = 0; i < L.nconns; i++) {
		L.conns[i].fd = -1;
		L.conns[i].state = LD_CLOSED;
		L.conns[i].hdr = L.hdr_bufs + (size_t)i * LD_HDR_MAX;
	}
	L.nclosed = L.nconns;

	L.ep = epoll_create1(EPOLL_CLOEXEC);
	if (L.ep < 0) {
		fprintf(stderr, "hc-load: epoll_create1: %s\n", strerror(errno));
		goto free_conns;
	}
	L.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (L.tfd < 0) {
		fprintf(stderr, "hc-load: timerfd_create: %s\n", strerror(errno));
		goto close_epoll;
	}
	ev.events = EPOLLIN;
	ev.data.u32 = LD_TIMER_ID;
	if (epoll_ctl(L.ep, EPOLL_CTL_ADD, L.tfd, &ev) != 0) {
		fprintf(stderr, "hc-load: epoll_ctl: %s\n", strerror(errno));
		goto close_timer;
	}

	rc = connect_all(&L);
	if (rc != 0) {
		fprintf(stderr, "hc-load: could not connect to %s: %s\n", L.authority, strerror(-rc));
		goto close_conns;
	}
	rc = run(&L);
	if (rc != 0) {
		fprintf(stderr, "hc-load: %s\n", strerror(-rc));
		goto close_conns;
	}
	count_timeouts(&L);
	report(&L);
	status = 0;

close_conns:
	for (int i = 0; i < L.nconns; i++)
		if (L.conns[i].fd >= 0)
			close(L.conns[i].fd);
close_timer:
	close(L.tfd);
close_epoll:
	close(L.ep);
free_conns:
	free(L.conns);
	free(L.hdr_bufs);
	free(L.idle);
	return status;
}
