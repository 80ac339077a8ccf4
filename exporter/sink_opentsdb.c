/*
 * sink_opentsdb.c - the `opentsdb` sink: OpenTSDB's HTTP API, POST
 * /api/put?summary with a JSON array of data points
 * ("opentsdb:http://tsdb:4242?cluster=prod").
 *
 * Schema, Heapster's (metrics/sinks/opentsdb/driver.go):
 *
 *   {"metric":"cpu_usage_rate_gauge","timestamp":1700000000,"value":123,
 *    "tags":{"cluster":"k8s-cluster","container_name":"dns",...}}
 *
 * metric = the name with every character outside [A-Za-z0-9-_./] turned
 * into '_', then '/' into '_', then "_" and the kind (cumulative, gauge,
 * delta); tags = every label of the set (all of them: OpenTSDB has no
 * blacklist in Heapster), keys and values sanitized the same way but
 * keeping '/', empty values left out, plus `cluster` (default k8s-cluster),
 * which OpenTSDB needs anyway (a point must have a tag).  Tags are sorted by
 * key, as Go's JSON encoder wrote them.  The time is the batch time in
 * seconds; integers are written as integers, floats with up to 15
 * significant digits (NaN and infinities, which JSON cannot carry, are
 * skipped).  Beyond Heapster, which left them out, labeled metrics
 * (filesystem, accelerators) are written too, with their own labels as
 * tags (resource_id, make, ...).  One non-ASCII character becomes one '_',
 * as Go's regexp replaced it.  Since every tag and name character is then
 * in [A-Za-z0-9-_./], nothing needs JSON escaping.
 *
 * Sending: chunks of 1,000 points (Heapster's batch size), each one POST,
 * `concurrency` (1) at a time, ten chunks per window.  Answers: 2xx done
 * (with ?summary OpenTSDB reports "failed":N, counted as refused); 400 with
 * a summary: the points that failed are refused for good, the others
 * written, so done; any other 400 or a 413: the body can never be written,
 * logged as lost; anything else, or no answer, is retried later.
 *
 * Options: cluster (k8s-cluster), concurrency (1).  URL: http(s)://host:port,
 * default http://127.0.0.1:4242.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "http.h"
#include "log.h"
#include "sink.h"
#include "sink_opentsdb.h"

/* Per metric name of the batch: `{"metric":"NAME","timestamp":T,"value":`. */
struct tsdb_name {
	uint32_t off, len;    /* in s->ntext */
};

struct sink_opentsdb {
	char cluster[256], url[700];
	int  concurrency;

	/* format scratch, reused */
	struct tsdb_name *names;
	uint32_t          names_cap;
	struct exp_buf    ntext;
	struct exp_tags   tags;
	struct exp_buf    settags;    /* `,"tags":{"k":"v",...}}` of the current set */
	struct exp_buf    valtags;    /* the same for one labeled value */

	struct exp_http  *http;
};

/*
 * Heapster's toValidOpenTsdbName: characters outside [A-Za-z0-9-_./]
 * become '_', one per UTF-8 character (continuation bytes vanish).
 */
static size_t tsdb_sanitize(char *dst, const char *src, size_t n)
{
	char *p = dst;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '/')
			*p++ = (char)c;
		else if ((c & 0xC0) != 0x80)
			*p++ = '_';
	}
	return (size_t)(p - dst);
}

static const char *kind_name(uint8_t kind)
{
	switch (kind) {
	case HC_CUMULATIVE:
		return "cumulative";
	case HC_DELTA:
		return "delta";
	default:
		return "gauge";
	}
}

/* Builds every name's point opening, timestamp included. */
static int build_names(struct sink_opentsdb *s, const struct hc_batch *b)
{
	char ts[24];
	size_t tslen = exp_fmt_i64(ts, b->ts_ms / 1000);
	int rc;

	if (exp_array_grow(&s->names, &s->names_cap, b->nnames, sizeof(*s->names)) != 0)
		return -ENOMEM;
	s->ntext.len = 0;
	for (uint32_t i = 0; i < b->nnames; i++) {
		const char *name = b->names[i], *kind = kind_name(b->name_kinds[i]);
		size_t n = strlen(name), start = s->ntext.len;
		char *p;

		rc = exp_buf_reserve(&s->ntext, 2 * n + strlen(kind) + tslen + 48);
		if (rc != 0)
			return rc;
		p = s->ntext.data + start;
		memcpy(p, "{\"metric\":\"", 11);
		p += 11;
		{
			size_t m = tsdb_sanitize(p, name, n);

			for (size_t k = 0; k < m; k++)
				if (p[k] == '/')
					p[k] = '_';
			p += m;
		}
		*p++ = '_';
		memcpy(p, kind, strlen(kind));
		p += strlen(kind);
		memcpy(p, "\",\"timestamp\":", 14);
		p += 14;
		memcpy(p, ts, tslen);
		p += tslen;
		memcpy(p, ",\"value\":", 9);
		p += 9;
		s->names[i].off = (uint32_t)start;
		s->names[i].len = (uint32_t)(p - (s->ntext.data + start));
		s->ntext.len = (size_t)(p - s->ntext.data);
	}
	return 0;
}

/*
 * Builds `,"tags":{...}}` into o for set si, with labeled value v's labels
 * too when v is not NULL.
 */
static int build_tags(struct sink_opentsdb *s, const struct hc_batch *b,
		      uint32_t si, const struct hc_value *v, struct exp_buf *o)
{
	const struct hc_set *set = &b->sets[si];
	const struct hc_label *l = &b->labels[set->labels_off];
	struct exp_tags *t = &s->tags;
	int rc = 0;

	exp_tags_reset(t);
	for (uint32_t i = 0; i < set->labels_n && rc == 0; i++)
		rc = exp_tags_add(t, l[i].key, l[i].value, tsdb_sanitize, tsdb_sanitize);
	if (v != NULL) {
		l = &b->labels[v->labels_off];
		for (uint32_t i = 0; i < v->labels_n && rc == 0; i++)
			rc = exp_tags_add(t, l[i].key, l[i].value, tsdb_sanitize, tsdb_sanitize);
	}
	if (rc == 0)
		rc = exp_tags_add(t, "cluster", s->cluster, tsdb_sanitize, tsdb_sanitize);
	if (rc != 0)
		return rc;
	exp_tags_finish(t);
	o->len = 0;
	rc = exp_buf_reserve(o, t->text.len + 6 * t->n + 16);
	if (rc != 0)
		return rc;
	{
		char *p = o->data;

		memcpy(p, ",\"tags\":{", 9);
		p += 9;
		for (uint32_t i = 0; i < t->n; i++) {
			if (i)
				*p++ = ',';
			*p++ = '"';
			memcpy(p, t->text.data + t->t[i].koff, t->t[i].klen);
			p += t->t[i].klen;
			memcpy(p, "\":\"", 3);
			p += 3;
			memcpy(p, t->text.data + t->t[i].voff, t->t[i].vlen);
			p += t->t[i].vlen;
			*p++ = '"';
		}
		*p++ = '}';
		*p++ = '}';
		o->len = (size_t)(p - o->data);
	}
	return 0;
}

/* Closes the open chunk's JSON array and cuts it. */
static int close_chunk(struct exp_out *out)
{
	int rc;

	if (out->open_points == 0)
		return 0;
	rc = exp_buf_append(&out->buf, "]", 1);
	if (rc == 0)
		rc = exp_out_cut(out);
	return rc;
}

/* Appends one point ('[' or ',' first). */
static int put_point(struct sink_opentsdb *s, struct exp_out *out,
		     const struct tsdb_name *nm, const struct exp_buf *tags,
		     const struct hc_value *v)
{
	char num[40];
	size_t n;
	char *p;
	int rc;

	if (v->type == HC_FLOAT) {
		n = exp_fmt_f64(num, v->v.f);
		if (n == 0) {
			out->skipped++;
			return 0;
		}
	} else {
		n = exp_fmt_i64(num, v->v.i);
	}
	rc = exp_buf_reserve(&out->buf, 1 + nm->len + n + tags->len);
	if (rc != 0)
		return rc;
	p = out->buf.data + out->buf.len;
	*p++ = out->open_points == 0 ? '[' : ',';
	memcpy(p, s->ntext.data + nm->off, nm->len);
	p += nm->len;
	memcpy(p, num, n);
	p += n;
	memcpy(p, tags->data, tags->len);
	p += tags->len;
	out->buf.len = (size_t)(p - out->buf.data);
	out->points++;
	out->open_points++;
	return 0;
}

static int sink_opentsdb_format(void *state, const struct hc_batch *b,
				uint32_t *pos, struct exp_out *out)
{
	struct sink_opentsdb *s = state;
	uint32_t cur = UINT32_MAX, i;
	int rc;

	rc = build_names(s, b);
	if (rc != 0)
		return rc;
	for (i = *pos; i < b->nvals; i++) {
		const struct hc_value *v = &b->vals[i];
		const struct tsdb_name *nm = &s->names[v->name];

		if (v->set != cur) {
			rc = build_tags(s, b, v->set, NULL, &s->settags);
			if (rc != 0)
				return rc;
			cur = v->set;
		}
		if (v->labels_n) {
			rc = build_tags(s, b, v->set, v, &s->valtags);
			if (rc == 0)
				rc = put_point(s, out, nm, &s->valtags, v);
		} else {
			rc = put_point(s, out, nm, &s->settags, v);
		}
		if (rc != 0)
			return rc;
		if (out->open_points == SINK_TSDB_CHUNK_POINTS) {
			rc = close_chunk(out);
			if (rc != 0)
				return rc;
			if (out->nchunks >= SINK_TSDB_WINDOW_CHUNKS) {
				i++;
				break;
			}
		}
	}
	*pos = i;
	return close_chunk(out);
}

/* ---- answers ------------------------------------------------------------ */

enum exp_http_verdict sink_opentsdb_judge(long status, const char *body,
					  uint32_t points, uint64_t *dropped)
{
	const char *f = strstr(body, "\"failed\":");

	*dropped = 0;
	if (f != NULL) {
		*dropped = strtoull(f + 9, NULL, 10);
		if (*dropped > points)
			*dropped = points;
	}
	if (status >= 200 && status < 300)
		return EXP_HTTP_OK;
	if (status == 400 && f != NULL)
		return EXP_HTTP_OK;       /* the rest was written */
	*dropped = 0;
	if (status == 400 || status == 413)
		return EXP_HTTP_REJECTED;
	return EXP_HTTP_RETRY;
}

/* ---- options and transport ---------------------------------------------- */

static void sink_opentsdb_close(void *state);

static int sink_opentsdb_init(const struct hc_uri *u, void **state)
{
	static const char *const headers[] = { "Content-Type: application/json", NULL };
	struct exp_http_opts ho = { .what = "opentsdb sink", .headers = headers,
				    .judge = sink_opentsdb_judge };
	struct sink_opentsdb *s;
	const char *url = u->url[0] ? u->url : "127.0.0.1:4242";
	size_t n;
	int64_t conc;
	int rc, len;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	exp_buf_init(&s->ntext);
	exp_buf_init(&s->settags);
	exp_buf_init(&s->valtags);
	exp_tags_init(&s->tags);
	rc = exp_opt_str(u, "opentsdb sink", "cluster", "k8s-cluster", s->cluster,
			 sizeof(s->cluster));
	if (rc == 0 && s->cluster[0] == '\0') {
		/* OpenTSDB refuses a point without tags: keep the one it needs */
		hc_error("opentsdb sink: cluster must not be empty");
		rc = HC_ERR_CONFIG;
	}
	if (rc != 0)
		goto free_state;
	rc = hc_uri_opt_int(u, "concurrency", 1, &conc);
	if (rc != 0 || conc < 1 || conc > 64) {
		hc_error("opentsdb sink: concurrency must be 1..64");
		rc = HC_ERR_CONFIG;
		goto free_state;
	}
	s->concurrency = (int)conc;
	len = snprintf(s->url, sizeof(s->url), "%s%s", strstr(url, "://") ? "" : "http://", url);
	if (len < 0 || (size_t)len >= sizeof(s->url) - 20) {
		rc = HC_ERR_CONFIG;
		goto free_state;
	}
	n = (size_t)len;
	while (n > 0 && s->url[n - 1] == '/')
		s->url[--n] = '\0';
	strcat(s->url, "/api/put?summary");
	ho.url = s->url;
	ho.concurrency = s->concurrency;
	rc = exp_http_open(&ho, &s->http);
	if (rc != 0)
		goto free_state;
	*state = s;
	return 0;

free_state:
	sink_opentsdb_close(s);
	return rc;
}

static int sink_opentsdb_send(void *state, struct exp_out *out)
{
	struct sink_opentsdb *s = state;

	return exp_http_send(s->http, out);
}

static void sink_opentsdb_close(void *state)
{
	struct sink_opentsdb *s = state;

	if (s == NULL)
		return;
	exp_http_close(s->http);
	free(s->names);
	exp_buf_free(&s->ntext);
	exp_buf_free(&s->settags);
	exp_buf_free(&s->valtags);
	exp_tags_free(&s->tags);
	free(s);
}

const struct exp_sink_ops sink_opentsdb_ops = {
	.kind = "opentsdb",
	.init = sink_opentsdb_init,
	.format = sink_opentsdb_format,
	.send = sink_opentsdb_send,
	.close = sink_opentsdb_close,
};
