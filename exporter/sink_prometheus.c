/*
 * sink_prometheus.c - the `prometheus` sink: Prometheus remote write 0.1.0
 * ("prometheus:http://vm:8428/api/v1/write"), which Heapster never had;
 * Prometheus itself (with --web.enable-remote-write-receiver), Thanos,
 * Cortex, Mimir and VictoriaMetrics accept it.
 *
 * Schema: one series per value.  Name = `prefix` (default "heapster_")
 * followed by the metric name, every character outside [a-zA-Z0-9_:]
 * turned into '_' (cpu/usage_rate -> heapster_cpu_usage_rate; a name that
 * would start with a digit gets a leading '_').  The prefix keeps Heapster's
 * generic names (uptime, memory_usage) apart from other exporters' series;
 * prefix= (empty) drops it.  No unit or _total suffix is added: the names
 * stay one-to-one with Heapster's.  Labels = the set's labels plus a
 * labeled value's own (which win over the set's), names sanitized to
 * [a-zA-Z0-9_] (a leading digit gets a '_'), values as they are, empty ones
 * left out, names starting with "__" (reserved) dropped; sorted by name
 * with __name__ among them, as remote write requires.  The sample is the
 * value as a double at the batch time in milliseconds; NaN is sent as
 * Prometheus' ordinary NaN (never its staleness marker).
 *
 * Encoding, by hand (the messages are small):
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 * A set's labels are encoded once, split around where __name__ sorts, and
 * each metric name's __name__ label once per window: a series is then a
 * few memcpy, a double and a varint.  Each chunk (max_samples_per_send,
 * default 2,000, Prometheus' own default) is one WriteRequest compressed
 * with snappy's block format as the protocol requires; format() is still
 * pure: the same batch gives the same bytes.
 *
 * Sending: POST with Content-Encoding: snappy, Content-Type:
 * application/x-protobuf, X-Prometheus-Remote-Write-Version: 0.1.0, up to
 * `concurrency` (1) at once, 16 chunks per window.  Answers: 2xx done; 400,
 * 409, 413, 422 (the data itself is refused, as Prometheus' own remote
 * write gives up on them) logged as lost; anything else (5xx, 429, 401,
 * 404: fixable) retried later.
 *
 * Options: prefix (heapster_), max_samples_per_send (2000), concurrency
 * (1), user and pw (basic authentication), insecuressl (false).
 */
#include <errno.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "http.h"
#include "log.h"
#include "sink.h"
#include "sink_prometheus.h"

/* Per metric name of the batch: its encoded __name__ Label field. */
struct prom_name {
	uint32_t off, len;    /* in s->ntext */
};

/* A set's (or a labeled value's) Label fields around __name__. */
struct prom_labels {
	struct exp_buf pre, post;
};

struct sink_prometheus {
	char prefix[128], url[600], user[128], pw[128];
	int  per_req, concurrency, insecure;

	/* format scratch, reused */
	struct prom_name  *names;
	uint32_t           names_cap;
	struct exp_buf     ntext;
	struct exp_tags    tags;
	struct prom_labels setl, vall;
	struct exp_buf     pb;          /* the open chunk's WriteRequest, uncompressed */

	struct exp_http   *http;
};

/* ---- protobuf ----------------------------------------------------------- */

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static char *put_varint(char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (char)v;
	return p;
}

/* Appends a Label field (tag 1 of TimeSeries) holding name and value. */
static int put_label(struct exp_buf *b, const char *k, size_t kl, const char *v, size_t vl)
{
	size_t inner = 1 + varint_len(kl) + kl + 1 + varint_len(vl) + vl;
	char *p;
	int rc;

	rc = exp_buf_reserve(b, 1 + varint_len(inner) + inner);
	if (rc != 0)
		return rc;
	p = b->data + b->len;
	*p++ = 0x0a;
	p = put_varint(p, inner);
	*p++ = 0x0a;
	p = put_varint(p, kl);
	memcpy(p, k, kl);
	p += kl;
	*p++ = 0x12;
	p = put_varint(p, vl);
	memcpy(p, v, vl);
	p += vl;
	b->len = (size_t)(p - b->data);
	return 0;
}

/* ---- names and labels --------------------------------------------------- */

static inline int name_char(unsigned char c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || (colon && c == ':');
}

/* Label names: [a-zA-Z_][a-zA-Z0-9_]*. */
static size_t label_sanitize(char *dst, const char *src, size_t n)
{
	char *p = dst;

	if (n > 0 && src[0] >= '0' && src[0] <= '9')
		*p++ = '_';
	for (size_t i = 0; i < n; i++)
		*p++ = name_char((unsigned char)src[i], 0) ? src[i] : '_';
	/* reserved for Prometheus' own use: leave the label out */
	if (p - dst >= 2 && dst[0] == '_' && dst[1] == '_')
		return 0;
	return (size_t)(p - dst);
}

/* Builds every name's __name__ Label field. */
static int build_names(struct sink_prometheus *s, const struct hc_batch *b)
{
	size_t plen = strlen(s->prefix);
	char *tmp = NULL;
	size_t tmp_cap = 0;
	int rc = 0;

	if (exp_array_grow(&s->names, &s->names_cap, b->nnames, sizeof(*s->names)) != 0)
		return -ENOMEM;
	s->ntext.len = 0;
	for (uint32_t i = 0; i < b->nnames && rc == 0; i++) {
		const char *name = b->names[i];
		size_t n = strlen(name), m = 0;

		if (plen + n + 1 > tmp_cap) {
			char *t = realloc(tmp, plen + n + 1);

			if (t == NULL) {
				rc = -ENOMEM;
				break;
			}
			tmp = t;
			tmp_cap = plen + n + 1;
		}
		if ((plen ? s->prefix[0] : name[0]) >= '0' && (plen ? s->prefix[0] : name[0]) <= '9')
			tmp[m++] = '_';
		for (size_t k = 0; k < plen; k++)
			tmp[m++] = name_char((unsigned char)s->prefix[k], 1) ? s->prefix[k] : '_';
		for (size_t k = 0; k < n; k++)
			tmp[m++] = name_char((unsigned char)name[k], 1) ? name[k] : '_';
		s->names[i].off = (uint32_t)s->ntext.len;
		rc = put_label(&s->ntext, "__name__", 8, tmp, m);
		s->names[i].len = (uint32_t)(s->ntext.len - s->names[i].off);
	}
	free(tmp);
	return rc;
}

/*
 * Encodes the labels of set si (and of labeled value v, if not NULL) into
 * l->pre (names sorting before "__name__") and l->post (after).
 */
static int build_labels(struct sink_prometheus *s, const struct hc_batch *b,
			uint32_t si, const struct hc_value *v, struct prom_labels *l)
{
	const struct hc_set *set = &b->sets[si];
	const struct hc_label *lb = &b->labels[set->labels_off];
	struct exp_tags *t = &s->tags;
	int rc = 0;

	exp_tags_reset(t);
	for (uint32_t i = 0; i < set->labels_n && rc == 0; i++)
		rc = exp_tags_add(t, lb[i].key, lb[i].value, label_sanitize, NULL);
	if (v != NULL) {
		lb = &b->labels[v->labels_off];
		for (uint32_t i = 0; i < v->labels_n && rc == 0; i++)
			rc = exp_tags_add(t, lb[i].key, lb[i].value, label_sanitize, NULL);
	}
	if (rc != 0)
		return rc;
	exp_tags_finish(t);
	l->pre.len = l->post.len = 0;
	for (uint32_t i = 0; i < t->n && rc == 0; i++) {
		const struct exp_tag *g = &t->t[i];
		const char *k = t->text.data + g->koff;
		size_t n = g->klen < 8 ? g->klen : 8;
		int c = memcmp(k, "__name__", n);

		if (c == 0)
			c = g->klen < 8 ? -1 : 1;   /* "__name__" itself was dropped */
		rc = put_label(c < 0 ? &l->pre : &l->post, k, g->klen,
			       t->text.data + g->voff, g->vlen);
	}
	return rc;
}

/* Appends one TimeSeries field of one sample to s->pb. */
static int put_series(struct sink_prometheus *s, const struct prom_name *nm,
		      const struct prom_labels *l, const struct hc_value *v, int64_t ts)
{
	size_t slen = 1 + 8 + 1 + varint_len((uint64_t)ts);
	size_t body = l->pre.len + nm->len + l->post.len + 1 + varint_len(slen) + slen;
	double d = hc_value_num(v);
	uint64_t bits;
	char *p;
	int rc;

	rc = exp_buf_reserve(&s->pb, 1 + varint_len(body) + body);
	if (rc != 0)
		return rc;
	if (d != d)
		bits = 0x7ff8000000000001ULL;   /* Prometheus' NormalNaN, not StaleNaN */
	else
		memcpy(&bits, &d, 8);
	p = s->pb.data + s->pb.len;
	*p++ = 0x0a;
	p = put_varint(p, body);
	if (l->pre.len) {
		memcpy(p, l->pre.data, l->pre.len);
		p += l->pre.len;
	}
	memcpy(p, s->ntext.data + nm->off, nm->len);
	p += nm->len;
	if (l->post.len) {
		memcpy(p, l->post.data, l->post.len);
		p += l->post.len;
	}
	*p++ = 0x12;
	p = put_varint(p, slen);
	*p++ = 0x09;
	for (int k = 0; k < 8; k++)
		*p++ = (char)(bits >> (8 * k));   /* fixed64, little endian */
	*p++ = 0x10;
	p = put_varint(p, (uint64_t)ts);
	s->pb.len = (size_t)(p - s->pb.data);
	return 0;
}

/* Compresses the open WriteRequest into out as one chunk. */
static int close_chunk(struct sink_prometheus *s, struct exp_out *out)
{
	size_t clen;
	int rc;

	if (out->open_points == 0)
		return 0;
	clen = snappy_max_compressed_length(s->pb.len);
	rc = exp_buf_reserve(&out->buf, clen);
	if (rc != 0)
		return rc;
	if (snappy_compress(s->pb.data, s->pb.len, out->buf.data + out->buf.len,
			    &clen) != SNAPPY_OK)
		return -ENOMEM;
	out->buf.len += clen;
	s->pb.len = 0;
	return exp_out_cut(out);
}

static int sink_prometheus_format(void *state, const struct hc_batch *b,
				  uint32_t *pos, struct exp_out *out)
{
	struct sink_prometheus *s = state;
	uint32_t cur = UINT32_MAX, i;
	int rc;

	rc = build_names(s, b);
	if (rc != 0)
		return rc;
	s->pb.len = 0;
	for (i = *pos; i < b->nvals; i++) {
		const struct hc_value *v = &b->vals[i];

		if (v->set != cur) {
			rc = build_labels(s, b, v->set, NULL, &s->setl);
			if (rc != 0)
				return rc;
			cur = v->set;
		}
		if (v->labels_n) {
			rc = build_labels(s, b, v->set, v, &s->vall);
			if (rc == 0)
				rc = put_series(s, &s->names[v->name], &s->vall, v, b->ts_ms);
		} else {
			rc = put_series(s, &s->names[v->name], &s->setl, v, b->ts_ms);
		}
		if (rc != 0)
			return rc;
		out->points++;
		out->open_points++;
		if (out->open_points == (uint32_t)s->per_req) {
			rc = close_chunk(s, out);
			if (rc != 0)
				return rc;
			if (out->nchunks >= SINK_PROM_WINDOW_CHUNKS) {
				i++;
				break;
			}
		}
	}
	*pos = i;
	return close_chunk(s, out);
}

/* ---- answers ------------------------------------------------------------ */

enum exp_http_verdict sink_prometheus_judge(long status, const char *body,
					    uint32_t points, uint64_t *dropped)
{
	(void)body;
	(void)points;
	*dropped = 0;
	if (status >= 200 && status < 300)
		return EXP_HTTP_OK;
	if (status == 400 || status == 409 || status == 413 || status == 422)
		return EXP_HTTP_REJECTED;
	return EXP_HTTP_RETRY;
}

/* ---- options and transport ---------------------------------------------- */

static void sink_prometheus_close(void *state);

static int sink_prometheus_init(const struct hc_uri *u, void **state)
{
	static const char *const headers[] = {
		"Content-Encoding: snappy",
		"Content-Type: application/x-protobuf",
		"X-Prometheus-Remote-Write-Version: 0.1.0",
		NULL,
	};
	struct exp_http_opts ho = { .what = "prometheus sink", .headers = headers,
				    .judge = sink_prometheus_judge };
	struct sink_prometheus *s;
	int64_t per, conc;
	int rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	exp_buf_init(&s->ntext);
	exp_buf_init(&s->pb);
	exp_buf_init(&s->setl.pre);
	exp_buf_init(&s->setl.post);
	exp_buf_init(&s->vall.pre);
	exp_buf_init(&s->vall.post);
	exp_tags_init(&s->tags);
	rc = exp_opt_str(u, "prometheus sink", "prefix", "heapster_", s->prefix,
			 sizeof(s->prefix));
	if (rc == 0)
		rc = exp_opt_str(u, "prometheus sink", "user", "", s->user, sizeof(s->user));
	if (rc == 0)
		rc = exp_opt_str(u, "prometheus sink", "pw", "", s->pw, sizeof(s->pw));
	if (rc != 0)
		goto free_state;
	rc = HC_ERR_CONFIG;
	if (hc_uri_opt_int(u, "max_samples_per_send", 2000, &per) != 0 || per < 1 ||
	    per > 1000000) {
		hc_error("prometheus sink: max_samples_per_send must be 1..1000000");
		goto free_state;
	}
	if (hc_uri_opt_int(u, "concurrency", 1, &conc) != 0 || conc < 1 || conc > 64) {
		hc_error("prometheus sink: concurrency must be 1..64");
		goto free_state;
	}
	if (hc_uri_opt_bool(u, "insecuressl", 0, &s->insecure) != 0) {
		hc_error("prometheus sink: insecuressl must be true or false");
		goto free_state;
	}
	if (u->url[0] == '\0' || (strcmp(u->scheme, "http") != 0 &&
				  strcmp(u->scheme, "https") != 0)) {
		hc_error("prometheus sink: needs the remote write URL, "
			 "e.g. prometheus:http://host:9090/api/v1/write");
		goto free_state;
	}
	s->per_req = (int)per;
	s->concurrency = (int)conc;
	snprintf(s->url, sizeof(s->url), "%s", u->url);
	ho.url = s->url;
	ho.concurrency = s->concurrency;
	ho.user = s->user;
	ho.pw = s->pw;
	ho.insecure = s->insecure;
	rc = exp_http_open(&ho, &s->http);
	if (rc != 0)
		goto free_state;
	*state = s;
	return 0;

free_state:
	sink_prometheus_close(s);
	return rc;
}

static int sink_prometheus_send(void *state, struct exp_out *out)
{
	struct sink_prometheus *s = state;

	return exp_http_send(s->http, out);
}

static void sink_prometheus_close(void *state)
{
	struct sink_prometheus *s = state;

	if (s == NULL)
		return;
	exp_http_close(s->http);
	free(s->names);
	exp_buf_free(&s->ntext);
	exp_buf_free(&s->pb);
	exp_buf_free(&s->setl.pre);
	exp_buf_free(&s->setl.post);
	exp_buf_free(&s->vall.pre);
	exp_buf_free(&s->vall.post);
	exp_tags_free(&s->tags);
	free(s);
}

const struct exp_sink_ops sink_prometheus_ops = {
	.kind = "prometheus",
	.init = sink_prometheus_init,
	.format = sink_prometheus_format,
	.send = sink_prometheus_send,
	.close = sink_prometheus_close,
};
