/*
 * sink_graphite.c - the `graphite` sink: Carbon's plaintext protocol over
 * TCP or UDP ("graphite:tcp://carbon:2003?prefix=kubernetes").
 *
 * Lines are "PATH VALUE SECONDS\n", paths as Heapster's graphite sink built
 * them (metrics/sinks/graphite/driver.go), under `prefix` (default
 * kubernetes; an empty prefix means the default, as in Heapster):
 *
 *   pod_container  P.nodes.HOST.pods.NS.POD.containers.C.METRIC
 *   pod            P.nodes.HOST.pods.NS.POD.METRIC
 *   sys_container  P.nodes.HOST.sys-containers.C.METRIC
 *   node           P.nodes.HOST.METRIC
 *   ns             P.namespaces.NS.METRIC
 *   cluster        P.cluster.METRIC
 *   (other)        P.METRIC
 *
 * METRIC is the metric name with '/' turned into '.' (cpu.usage_rate).  A
 * labeled metric gets its id after the name's first part:
 * filesystem.<resource_id>.usage, as Heapster meant to (its code looked up
 * a label "resourceId" that never existed, so every filesystem of an entity
 * wrote one path); accelerators, which have no resource_id, use their
 * accelerator_id the same way.  Path components (host, namespace, pod,
 * container, ids) have '.' and '/' replaced by '_' (Heapster's escapeField,
 * which it forgot for namespace and pod names: a pod named "a.b" split
 * its path), and so are whitespace, control characters and ';' everywhere
 * in a path, since they would end the line or start Graphite 1.1 tags.
 * HOST is the hostname label, else nodename; an empty component becomes
 * "_" (Carbon would fold "a..b" into "a.b").  Values: integers as such,
 * floats with up to 15 significant digits (Heapster printed "%f", six
 * decimals, which rounds small ratios to 0.000000); NaN and infinities are
 * skipped.  The time is the batch time in seconds.
 *
 * Delivery.  TCP: each window (up to 100,000 lines) goes over a fresh
 * connection that the sink then half-closes and keeps open until the
 * server closes its side: Carbon and VictoriaMetrics close a connection
 * only after reading all of it, so success means the server has every
 * line.  (Writing into a long-lived connection, as Heapster did, succeeds
 * as soon as the kernel holds the bytes: a server that dies then loses
 * them silently.)  confirm=false keeps one connection open across
 * windows instead.  Any failure resends the whole window: repeated lines
 * overwrite the same point.  UDP: lines are packed into datagrams of at
 * most 1,432 bytes; UDP confirms nothing, but a refused port (ICMP, seen on
 * a later send) makes the window be resent.
 *
 * Options: prefix (kubernetes), confirm (true; TCP only).  URL: tcp:// or
 * udp://host[:port], default tcp://localhost:2003.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hc.h"
#include "log.h"
#include "net.h"
#include "sink.h"
#include "sink_graphite.h"

#define GRAPHITE_CONNECT_TIMEOUT_MS 5000
#define GRAPHITE_WRITE_TIMEOUT_MS 30000
#define GRAPHITE_CONFIRM_TIMEOUT_MS 10000

/* Per metric name of the batch: its path text and where its section ends. */
struct graphite_name {
	uint32_t off, len;    /* "cpu.usage_rate" in s->ntext */
	uint32_t seclen;      /* length of "cpu" (the part before the first '/') */
};

struct sink_graphite {
	char prefix[256], host[256];
	int  port, udp, confirm;

	/* format scratch, reused */
	struct graphite_name *names;
	uint32_t              names_cap;
	struct exp_buf        ntext;     /* every name's path text */
	struct exp_buf        setpath;   /* "<prefix>.nodes.h.pods.ns.p." of a set */
	struct exp_buf        valpath;   /* a labeled value's whole path */
	char                  ts[24];    /* " <seconds>\n" */
	size_t                ts_len;

	/* transport */
	int                   fd;        /* UDP, or TCP with confirm=false; -1 */
	struct hc_ratelimit   rl;
};

/* A byte no Graphite path may hold: whitespace, controls, ';' (tags). */
static inline int bad_path_char(unsigned char c)
{
	return c <= ' ' || c == 0x7f || c == ';';
}

/*
 * Appends s as one path component: Heapster's escapeField ('.' and '/'
 * become '_') plus bad_path_char(); "" becomes "_".  0 or -ENOMEM.
 */
static int put_component(struct exp_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *p;
	int rc;

	rc = exp_buf_reserve(b, n + 1);
	if (rc != 0)
		return rc;
	p = b->data + b->len;
	if (n == 0)
		*p++ = '_';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		*p++ = (c == '.' || c == '/' || bad_path_char(c)) ? '_' : (char)c;
	}
	b->len = (size_t)(p - b->data);
	return 0;
}

static int put_lit(struct exp_buf *b, const char *s)
{
	return exp_buf_append(b, s, strlen(s));
}

/* Builds every name's path text: '/' -> '.', bad characters -> '_'. */
static int build_names(struct sink_graphite *s, const struct hc_batch *b)
{
	int rc;

	if (exp_array_grow(&s->names, &s->names_cap, b->nnames, sizeof(*s->names)) != 0)
		return -ENOMEM;
	s->ntext.len = 0;
	for (uint32_t i = 0; i < b->nnames; i++) {
		const char *name = b->names[i];
		size_t n = strlen(name);
		struct graphite_name *nm = &s->names[i];
		char *p;

		rc = exp_buf_reserve(&s->ntext, n);
		if (rc != 0)
			return rc;
		nm->off = (uint32_t)s->ntext.len;
		nm->len = (uint32_t)n;
		nm->seclen = (uint32_t)strcspn(name, "/");
		p = s->ntext.data + s->ntext.len;
		for (size_t k = 0; k < n; k++) {
			unsigned char c = (unsigned char)name[k];

			p[k] = c == '/' ? '.' : bad_path_char(c) ? '_' : (char)c;
		}
		s->ntext.len += n;
	}
	return 0;
}

/* The host component of a set: hostname, else nodename. */
static const char *set_host(const struct hc_batch *b, uint32_t si)
{
	const char *h = hc_batch_get_label(b, si, HC_L_HOSTNAME);

	if (h == NULL || h[0] == '\0')
		h = hc_batch_get_label(b, si, HC_L_NODENAME);
	return h;
}

/* Builds s->setpath for set si: the prefix and the entity's path, with a trailing '.'. */
static int build_set_path(struct sink_graphite *s, const struct hc_batch *b, uint32_t si)
{
	const char *type = hc_batch_get_label(b, si, HC_L_TYPE);
	struct exp_buf *o = &s->setpath;
	int rc = 0;

	o->len = 0;
	rc = put_lit(o, s->prefix);
	if (rc == 0)
		rc = put_lit(o, ".");
	if (rc != 0 || type == NULL)
		return rc;
	if (strcmp(type, HC_TYPE_POD_CONTAINER) == 0 || strcmp(type, HC_TYPE_POD) == 0) {
		rc = put_lit(o, "nodes.");
		if (rc == 0)
			rc = put_component(o, set_host(b, si));
		if (rc == 0)
			rc = put_lit(o, ".pods.");
		if (rc == 0)
			rc = put_component(o, hc_batch_get_label(b, si, HC_L_NAMESPACE_NAME));
		if (rc == 0)
			rc = put_lit(o, ".");
		if (rc == 0)
			rc = put_component(o, hc_batch_get_label(b, si, HC_L_POD_NAME));
		if (rc == 0)
			rc = put_lit(o, ".");
		if (rc == 0 && type[3] == '_') {     /* pod_container */
			rc = put_lit(o, "containers.");
			if (rc == 0)
				rc = put_component(o, hc_batch_get_label(b, si, HC_L_CONTAINER_NAME));
			if (rc == 0)
				rc = put_lit(o, ".");
		}
	} else if (strcmp(type, HC_TYPE_SYS_CONTAINER) == 0) {
		rc = put_lit(o, "nodes.");
		if (rc == 0)
			rc = put_component(o, set_host(b, si));
		if (rc == 0)
			rc = put_lit(o, ".sys-containers.");
		if (rc == 0)
			rc = put_component(o, hc_batch_get_label(b, si, HC_L_CONTAINER_NAME));
		if (rc == 0)
			rc = put_lit(o, ".");
	} else if (strcmp(type, HC_TYPE_NODE) == 0) {
		rc = put_lit(o, "nodes.");
		if (rc == 0)
			rc = put_component(o, set_host(b, si));
		if (rc == 0)
			rc = put_lit(o, ".");
	} else if (strcmp(type, HC_TYPE_NS) == 0) {
		rc = put_lit(o, "namespaces.");
		if (rc == 0)
			rc = put_component(o, hc_batch_get_label(b, si, HC_L_NAMESPACE_NAME));
		if (rc == 0)
			rc = put_lit(o, ".");
	} else if (strcmp(type, HC_TYPE_CLUSTER) == 0) {
		rc = put_lit(o, "cluster.");
	}
	return rc;
}

/* A labeled value's id: its resource_id, else its accelerator_id, or NULL. */
static const char *value_id(const struct hc_batch *b, const struct hc_value *v)
{
	const struct hc_label *l = &b->labels[v->labels_off];
	const char *acc = NULL;

	for (uint32_t i = 0; i < v->labels_n; i++) {
		if (strcmp(l[i].key, HC_L_RESOURCE_ID) == 0)
			return l[i].value;
		if (strcmp(l[i].key, "accelerator_id") == 0)
			acc = l[i].value;
	}
	return acc;
}

/* Builds s->valpath: the set's path, then section.ID.rest of the name. */
static int build_value_path(struct sink_graphite *s, const struct graphite_name *nm,
			    const char *id)
{
	const char *t = s->ntext.data + nm->off;
	struct exp_buf *o = &s->valpath;
	int rc;

	o->len = 0;
	rc = exp_buf_append(o, s->setpath.data, s->setpath.len);
	if (rc == 0)
		rc = exp_buf_append(o, t, nm->seclen);
	if (rc == 0)
		rc = put_lit(o, ".");
	if (rc == 0)
		rc = put_component(o, id);
	if (rc == 0)
		rc = exp_buf_append(o, t + nm->seclen, nm->len - nm->seclen);
	return rc;
}

/* Appends "PATH VALUE SECONDS\n" (path = a + b); counts the point. */
static int put_line(struct sink_graphite *s, struct exp_out *out,
		    const char *a, size_t alen, const char *bp, size_t blen,
		    const struct hc_value *v)
{
	size_t n;
	char *p;
	int rc;

	rc = exp_buf_reserve(&out->buf, alen + blen + 34 + s->ts_len);
	if (rc != 0)
		return rc;
	p = out->buf.data + out->buf.len;
	memcpy(p, a, alen);
	p += alen;
	memcpy(p, bp, blen);
	p += blen;
	*p++ = ' ';
	if (v->type == HC_FLOAT) {
		n = exp_fmt_f64(p, v->v.f);
		if (n == 0) {
			out->skipped++;
			return 0;
		}
		p += n;
	} else {
		p += exp_fmt_i64(p, v->v.i);
	}
	memcpy(p, s->ts, s->ts_len);
	p += s->ts_len;
	out->buf.len = (size_t)(p - out->buf.data);
	out->points++;
	out->open_points++;
	return 0;
}

/*
 * UDP: if the line just appended (from line_start on) overflowed the open
 * datagram, ends the datagram before it; the line opens the next one.
 */
static int udp_cut(struct exp_out *out, size_t line_start)
{
	size_t start = out->nchunks ? out->chunk_end[out->nchunks - 1] : 0;
	size_t end = out->buf.len;
	int rc;

	if (end - start <= EXP_NET_UDP_MAX || out->open_points < 2)
		return 0;
	out->buf.len = line_start;
	out->open_points--;
	rc = exp_out_cut(out);
	out->buf.len = end;
	out->open_points = 1;
	return rc;
}

static int sink_graphite_format(void *state, const struct hc_batch *b,
				uint32_t *pos, struct exp_out *out)
{
	struct sink_graphite *s = state;
	uint32_t cur = UINT32_MAX, i, max_chunks;
	int rc;

	rc = build_names(s, b);
	if (rc != 0)
		return rc;
	s->ts[0] = ' ';
	s->ts_len = 1 + exp_fmt_i64(s->ts + 1, b->ts_ms / 1000);
	s->ts[s->ts_len++] = '\n';
	max_chunks = s->udp ? SINK_GRAPHITE_UDP_WINDOW : SINK_GRAPHITE_TCP_WINDOW;
	for (i = *pos; i < b->nvals; i++) {
		const struct hc_value *v = &b->vals[i];
		const struct graphite_name *nm = &s->names[v->name];
		const char *id = v->labels_n ? value_id(b, v) : NULL;
		size_t line_start = out->buf.len;

		if (v->set != cur) {
			rc = build_set_path(s, b, v->set);
			if (rc != 0)
				return rc;
			cur = v->set;
		}
		if (id != NULL) {
			rc = build_value_path(s, nm, id);
			if (rc == 0)
				rc = put_line(s, out, s->valpath.data, s->valpath.len, "", 0, v);
		} else {
			rc = put_line(s, out, s->setpath.data, s->setpath.len,
				      s->ntext.data + nm->off, nm->len, v);
		}
		if (rc != 0)
			return rc;
		if (s->udp)
			rc = udp_cut(out, line_start);
		else if (out->open_points == SINK_GRAPHITE_TCP_CHUNK)
			rc = exp_out_cut(out);
		if (rc != 0)
			return rc;
		if (out->nchunks >= max_chunks) {
			i++;
			break;
		}
	}
	*pos = i;
	return exp_out_cut(out);
}

/* ---- options ------------------------------------------------------------ */

static void sink_graphite_close(void *state);

static int sink_graphite_init(const struct hc_uri *u, void **state)
{
	struct sink_graphite *s;
	int rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->fd = -1;
	exp_buf_init(&s->ntext);
	exp_buf_init(&s->setpath);
	exp_buf_init(&s->valpath);
	s->rl = (struct hc_ratelimit)HC_RATELIMIT_INIT(60000, 10);
	rc = exp_opt_str(u, "graphite sink", "prefix", "", s->prefix, sizeof(s->prefix));
	if (rc != 0)
		goto free_state;
	if (s->prefix[0] == '\0')
		strcpy(s->prefix, "kubernetes");
	for (char *p = s->prefix; *p; p++)
		if (bad_path_char((unsigned char)*p))
			*p = '_';
	rc = hc_uri_opt_bool(u, "confirm", 1, &s->confirm);
	if (rc != 0) {
		hc_error("graphite sink: confirm must be true or false");
		goto free_state;
	}
	if (u->url[0] != '\0' && u->scheme[0] == '\0') {
		hc_error("graphite sink: the URL must be tcp://host:port or udp://host:port");
		rc = HC_ERR_CONFIG;
		goto free_state;
	}
	if (u->scheme[0] == '\0' || strcmp(u->scheme, "tcp") == 0) {
		s->udp = 0;
	} else if (strcmp(u->scheme, "udp") == 0) {
		s->udp = 1;
	} else {
		hc_error("graphite sink: scheme %s: only tcp and udp", u->scheme);
		rc = HC_ERR_CONFIG;
		goto free_state;
	}
	snprintf(s->host, sizeof(s->host), "%s", u->host[0] ? u->host : "localhost");
	s->port = u->port ? u->port : 2003;
	*state = s;
	return 0;

free_state:
	sink_graphite_close(s);
	return rc;
}

/* ---- transport ---------------------------------------------------------- */

/* Writes the window's chunks not yet done to fd; marks them when !confirm. */
static int write_chunks(struct sink_graphite *s, int fd, struct exp_out *out)
{
	for (uint32_t i = 0; i < out->nchunks; i++) {
		size_t off = exp_out_chunk_start(out, i);
		int rc;

		if (out->chunk_done[i])
			continue;
		rc = exp_net_write_all(fd, out->buf.data + off, out->chunk_end[i] - off,
				       GRAPHITE_WRITE_TIMEOUT_MS);
		if (rc != 0)
			return rc;
		if (!s->confirm)
			out->chunk_done[i] = 1;
	}
	return 0;
}

static int send_tcp(struct sink_graphite *s, struct exp_out *out)
{
	int rc, fd;

	if (s->confirm) {
		rc = exp_net_connect(s->host, s->port, SOCK_STREAM,
				     GRAPHITE_CONNECT_TIMEOUT_MS, &fd);
		if (rc != 0)
			return rc;
		rc = write_chunks(s, fd, out);
		if (rc != 0) {
			close(fd);
			return rc;
		}
		rc = exp_net_close_confirmed(fd, GRAPHITE_CONFIRM_TIMEOUT_MS);
		if (rc == 0)
			memset(out->chunk_done, 1, out->nchunks);
		return rc;
	}
	if (s->fd < 0) {
		rc = exp_net_connect(s->host, s->port, SOCK_STREAM,
				     GRAPHITE_CONNECT_TIMEOUT_MS, &s->fd);
		if (rc != 0)
			return rc;
	}
	rc = write_chunks(s, s->fd, out);
	if (rc != 0) {
		close(s->fd);
		s->fd = -1;
	}
	return rc;
}

static int sink_graphite_send(void *state, struct exp_out *out)
{
	struct sink_graphite *s = state;
	uint32_t left = 0;
	int rc;

	for (uint32_t i = 0; i < out->nchunks; i++)
		left += !out->chunk_done[i];
	if (left == 0)
		return 0;
	rc = s->udp ? exp_net_send_udp(s->host, s->port, &s->fd, out)
		    : send_tcp(s, out);
	if (rc != 0 && hc_ratelimit_ok(&s->rl))
		hc_warn("graphite sink: %s://%s:%d: %s", s->udp ? "udp" : "tcp",
			s->host, s->port, hc_strerror(rc));
	return rc;
}

static void sink_graphite_close(void *state)
{
	struct sink_graphite *s = state;

	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->names);
	exp_buf_free(&s->ntext);
	exp_buf_free(&s->setpath);
	exp_buf_free(&s->valpath);
	free(s);
}

const struct exp_sink_ops sink_graphite_ops = {
	.kind = "graphite",
	.init = sink_graphite_init,
	.format = sink_graphite_format,
	.send = sink_graphite_send,
	.close = sink_graphite_close,
};
