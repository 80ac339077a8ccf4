/*
 * sink_kafka.c - the `kafka` sink: one JSON message per value to a Kafka
 * topic ("kafka:?brokers=k1:9092,k2:9092&timeseriestopic=heapster-metrics"),
 * through librdkafka.
 *
 * Message, Heapster's KafkaSinkPoint as Go's encoding/json wrote it:
 *
 *   {"MetricsName":"cpu/usage_rate","MetricsValue":{"value":123},
 *    "MetricsTimestamp":"2023-11-14T22:13:20Z","MetricsTags":{"container_name":"dns",...}}
 *
 * fields in that order; tags = every label of the set, empty ones included,
 * sorted by key (Go sorts map keys), a labeled value's labels added (they
 * win); the time is the batch time, RFC 3339 in UTC with Go's trimmed
 * fraction ("...:20.5Z" for a half second).  Strings are escaped as Go does
 * (quote, backslash, control characters, and <, >, & as \u003c...).
 * Integers are written as such, floats with up to 15 significant digits;
 * NaN and infinities, which Go's encoder refused, are skipped.  Messages
 * have no key: librdkafka spreads them over the partitions.
 *
 * format() writes one message per line ('\n' never occurs inside a
 * message: JSON escapes it), 1,000 messages per chunk, ten chunks per
 * window.  send() produces every message of the chunks not yet done (the
 * message is copied into librdkafka's queue), then flushes, and counts the
 * delivery reports per chunk: a chunk is done only when every one of its
 * messages was acknowledged (acks=all by default: by every in-sync
 * replica).  Messages not acknowledged within `timeout` are purged and
 * their chunk is resent whole later (at least once: a retry may repeat
 * messages that did arrive).  A message refused for what it is (too large,
 * invalid) is counted as lost instead: no retry would ever deliver it.
 *
 * Options: brokers (required; comma separated), timeseriestopic
 * (heapster-metrics), compression (none|gzip|snappy|lz4|zstd), acks (all;
 * 1 is what Heapster asked for), user and password (SASL PLAIN), cacert,
 * cert, key (TLS; any of them turns TLS on), insecuressl, timeout (30s: how
 * long a window may wait for acknowledgements).
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "log.h"
#include "sink.h"
#include "sink_kafka.h"

struct sink_kafka {
	char brokers[512], topic[256], compression[16], acks[8];
	char user[128], password[128], cacert[256], cert[256], key[256];
	int  insecure;
	int64_t timeout_ms;

	/* format scratch, reused */
	struct exp_buf  names;      /* per name: `{"MetricsName":"...","MetricsValue":{"value":` */
	uint32_t       *noff, *nlen, names_cap;
	struct exp_buf  ts;         /* `,"MetricsTimestamp":"...","MetricsTags":{` */
	struct exp_buf  settags;    /* `"k":"v",...}}` of the current set */
	struct exp_buf  valtags;    /* the same for one labeled value */
	struct exp_tags tags;

	/* transport */
	rd_kafka_t       *rk;
	rd_kafka_topic_t *rkt;
	uint32_t         *pending, *failed, track_cap;
	uint64_t          lost;       /* messages refused for good this send */
	rd_kafka_resp_err_t last_err;
	struct hc_ratelimit rl;
};

/* ---- JSON --------------------------------------------------------------- */

/* Appends s[0..n) as a JSON string body, escaped as Go's encoder does. */
static int put_json_str(struct exp_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *p;
	int rc = exp_buf_reserve(b, 6 * n);

	if (rc != 0)
		return rc;
	p = b->data + b->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
		case '\\':
			*p++ = '\\';
			*p++ = (char)c;
			break;
		case '\n':
			*p++ = '\\';
			*p++ = 'n';
			break;
		case '\r':
			*p++ = '\\';
			*p++ = 'r';
			break;
		case '\t':
			*p++ = '\\';
			*p++ = 't';
			break;
		default:
			if (c < 0x20 || c == '<' || c == '>' || c == '&') {
				memcpy(p, "\\u00", 4);
				p[4] = hex[c >> 4];
				p[5] = hex[c & 15];
				p += 6;
			} else {
				*p++ = (char)c;
			}
		}
	}
	b->len = (size_t)(p - b->data);
	return 0;
}

static int put_lit(struct exp_buf *b, const char *s)
{
	return exp_buf_append(b, s, strlen(s));
}

/* Writes ms as Go's RFC3339Nano in UTC: whole seconds, or a trimmed fraction. */
static size_t rfc3339(char *dst, int64_t ms)
{
	size_t n = hc_time_format(ms - ((ms % 1000) + 1000) % 1000, dst);
	int frac = (int)(((ms % 1000) + 1000) % 1000);

	if (frac != 0) {
		char d[4];

		n--;                                  /* before the 'Z' */
		d[0] = (char)('0' + frac / 100);
		d[1] = (char)('0' + frac / 10 % 10);
		d[2] = (char)('0' + frac % 10);
		d[3] = '\0';
		for (int k = 2; k > 0 && d[k] == '0'; k--)
			d[k] = '\0';
		dst[n++] = '.';
		memcpy(dst + n, d, strlen(d));
		n += strlen(d);
		dst[n++] = 'Z';
	}
	return n;
}

/* Builds the escaped, quoted name of every metric of b. */
static int build_names(struct sink_kafka *s, const struct hc_batch *b)
{
	uint32_t ncap = s->names_cap;
	int rc = 0;

	rc = exp_array_grow(&s->noff, &ncap, b->nnames, sizeof(*s->noff));
	if (rc == 0)
		rc = exp_array_grow(&s->nlen, &s->names_cap, b->nnames, sizeof(*s->nlen));
	if (rc != 0)
		return rc;
	s->names.len = 0;
	for (uint32_t i = 0; i < b->nnames && rc == 0; i++) {
		s->noff[i] = (uint32_t)s->names.len;
		rc = put_lit(&s->names, "{\"MetricsName\":\"");
		if (rc == 0)
			rc = put_json_str(&s->names, b->names[i], strlen(b->names[i]));
		if (rc == 0)
			rc = put_lit(&s->names, "\",\"MetricsValue\":{\"value\":");
		s->nlen[i] = (uint32_t)(s->names.len - s->noff[i]);
	}
	return rc;
}

/*
 * Builds `"k":"v",...}}` (the tags, then the end of the message) for set
 * si, with labeled value v's labels when v is not NULL.  Unlike the other
 * tag sinks, empty values stay: Go's map held them.
 */
static int build_tags(struct sink_kafka *s, const struct hc_batch *b, uint32_t si,
		      const struct hc_value *v, struct exp_buf *o)
{
	const struct hc_set *set = &b->sets[si];
	const struct hc_label *l = &b->labels[set->labels_off];
	struct exp_tags *t = &s->tags;
	int rc = 0;

	/* exp_tags leaves out empty values: keep them with a marker byte */
	exp_tags_reset(t);
	for (uint32_t i = 0; i < set->labels_n && rc == 0; i++)
		rc = exp_tags_add(t, l[i].key, l[i].value[0] ? l[i].value : "\x01", NULL, NULL);
	if (v != NULL) {
		l = &b->labels[v->labels_off];
		for (uint32_t i = 0; i < v->labels_n && rc == 0; i++)
			rc = exp_tags_add(t, l[i].key, l[i].value[0] ? l[i].value : "\x01", NULL, NULL);
	}
	if (rc != 0)
		return rc;
	exp_tags_finish(t);
	o->len = 0;
	for (uint32_t i = 0; i < t->n && rc == 0; i++) {
		const struct exp_tag *g = &t->t[i];
		const char *val = t->text.data + g->voff;
		size_t vl = g->vlen == 1 && val[0] == '\x01' ? 0 : g->vlen;

		rc = put_lit(o, i ? ",\"" : "\"");
		if (rc == 0)
			rc = put_json_str(o, t->text.data + g->koff, g->klen);
		if (rc == 0)
			rc = put_lit(o, "\":\"");
		if (rc == 0)
			rc = put_json_str(o, val, vl);
		if (rc == 0)
			rc = put_lit(o, "\"");
	}
	if (rc == 0)
		rc = put_lit(o, "}}\n");
	return rc;
}

static int put_message(struct sink_kafka *s, struct exp_out *out, uint32_t name,
		       const struct exp_buf *tags, const struct hc_value *v)
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
	rc = exp_buf_reserve(&out->buf, s->nlen[name] + n + s->ts.len + tags->len);
	if (rc != 0)
		return rc;
	p = out->buf.data + out->buf.len;
	memcpy(p, s->names.data + s->noff[name], s->nlen[name]);
	p += s->nlen[name];
	memcpy(p, num, n);
	p += n;
	memcpy(p, s->ts.data, s->ts.len);
	p += s->ts.len;
	memcpy(p, tags->data, tags->len);
	p += tags->len;
	out->buf.len = (size_t)(p - out->buf.data);
	out->points++;
	out->open_points++;
	return 0;
}

static int sink_kafka_format(void *state, const struct hc_batch *b, uint32_t *pos,
			     struct exp_out *out)
{
	struct sink_kafka *s = state;
	uint32_t cur = UINT32_MAX, i;
	char when[40];
	int rc;

	rc = build_names(s, b);
	if (rc != 0)
		return rc;
	s->ts.len = 0;
	rc = put_lit(&s->ts, "},\"MetricsTimestamp\":\"");
	if (rc == 0)
		rc = exp_buf_append(&s->ts, when, rfc3339(when, b->ts_ms));
	if (rc == 0)
		rc = put_lit(&s->ts, "\",\"MetricsTags\":{");
	if (rc != 0)
		return rc;
	for (i = *pos; i < b->nvals; i++) {
		const struct hc_value *v = &b->vals[i];

		if (v->set != cur) {
			rc = build_tags(s, b, v->set, NULL, &s->settags);
			if (rc != 0)
				return rc;
			cur = v->set;
		}
		if (v->labels_n) {
			rc = build_tags(s, b, v->set, v, &s->valtags);
			if (rc == 0)
				rc = put_message(s, out, v->name, &s->valtags, v);
		} else {
			rc = put_message(s, out, v->name, &s->settags, v);
		}
		if (rc != 0)
			return rc;
		if (out->open_points == SINK_KAFKA_CHUNK_MESSAGES) {
			rc = exp_out_cut(out);
			if (rc != 0)
				return rc;
			if (out->nchunks >= SINK_KAFKA_WINDOW_CHUNKS) {
				i++;
				break;
			}
		}
	}
	*pos = i;
	return exp_out_cut(out);
}

/* ---- options ------------------------------------------------------------ */

static void sink_kafka_close(void *state);

static int sink_kafka_init(const struct hc_uri *u, void **state)
{
	static const char *const what = "kafka sink";
	struct sink_kafka *s;
	const char *timeout;
	int rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	exp_buf_init(&s->names);
	exp_buf_init(&s->ts);
	exp_buf_init(&s->settags);
	exp_buf_init(&s->valtags);
	exp_tags_init(&s->tags);
	s->rl = (struct hc_ratelimit)HC_RATELIMIT_INIT(60000, 10);
	rc = exp_opt_str(u, what, "brokers", "", s->brokers, sizeof(s->brokers));
	if (rc == 0)
		rc = exp_opt_str(u, what, "timeseriestopic", "heapster-metrics", s->topic,
				 sizeof(s->topic));
	if (rc == 0)
		rc = exp_opt_str(u, what, "compression", "none", s->compression,
				 sizeof(s->compression));
	if (rc == 0)
		rc = exp_opt_str(u, what, "acks", "all", s->acks, sizeof(s->acks));
	if (rc == 0)
		rc = exp_opt_str(u, what, "user", "", s->user, sizeof(s->user));
	if (rc == 0)
		rc = exp_opt_str(u, what, "password", "", s->password, sizeof(s->password));
	if (rc == 0)
		rc = exp_opt_str(u, what, "cacert", "", s->cacert, sizeof(s->cacert));
	if (rc == 0)
		rc = exp_opt_str(u, what, "cert", "", s->cert, sizeof(s->cert));
	if (rc == 0)
		rc = exp_opt_str(u, what, "key", "", s->key, sizeof(s->key));
	if (rc != 0)
		goto free_state;
	rc = HC_ERR_CONFIG;
	if (hc_uri_opt_bool(u, "insecuressl", 0, &s->insecure) != 0) {
		hc_error("kafka sink: insecuressl must be true or false");
		goto free_state;
	}
	timeout = hc_uri_opt(u, "timeout");
	s->timeout_ms = 30000;
	if (timeout != NULL && (hc_duration_parse(timeout, &s->timeout_ms) != 0 ||
				s->timeout_ms < 100 || s->timeout_ms > 3600000)) {
		hc_error("kafka sink: timeout must be a duration from 100ms to 1h");
		goto free_state;
	}
	if (s->brokers[0] == '\0' || s->topic[0] == '\0') {
		hc_error("kafka sink: needs brokers=host:port[,host:port...]");
		goto free_state;
	}
	if (strcmp(s->compression, "none") && strcmp(s->compression, "gzip") &&
	    strcmp(s->compression, "snappy") && strcmp(s->compression, "lz4") &&
	    strcmp(s->compression, "zstd")) {
		hc_error("kafka sink: compression must be none, gzip, snappy, lz4 or zstd");
		goto free_state;
	}
	if (strcmp(s->acks, "all") && strcmp(s->acks, "1") && strcmp(s->acks, "-1")) {
		hc_error("kafka sink: acks must be all or 1");
		goto free_state;
	}
	*state = s;
	return 0;

free_state:
	sink_kafka_close(s);
	return rc;
}

/* ---- transport ---------------------------------------------------------- */

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct sink_kafka *s = rd_kafka_opaque(rk);

	if (level <= 4 && hc_ratelimit_ok(&s->rl))
		hc_warn("kafka sink: %s: %s", fac, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct sink_kafka *s = opaque;

	(void)rk;
	(void)err;
	if (hc_ratelimit_ok(&s->rl))
		hc_warn("kafka sink: %s", reason);
}

/*
 * Errors no retry can cure: the message itself is refused.  Such a message
 * is counted as lost instead of holding its chunk (and the exporter) back
 * forever; everything else (timeouts, unreachable or leaderless brokers,
 * authorization) is retried.
 */
static int permanent(rd_kafka_resp_err_t err)
{
	return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
	       err == RD_KAFKA_RESP_ERR_INVALID_MSG ||
	       err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE ||
	       err == RD_KAFKA_RESP_ERR_INVALID_RECORD ||
	       err == RD_KAFKA_RESP_ERR__BAD_MSG;
}

/*
 * One message's delivery report, served by rd_kafka_flush() on the
 * exporter's thread: counts it against its chunk.
 */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct sink_kafka *s = opaque;
	uint32_t chunk = (uint32_t)(uintptr_t)m->_private;

	(void)rk;
	if (chunk >= s->track_cap)
		return;
	s->pending[chunk]--;
	if (m->err && permanent(m->err)) {
		s->lost++;
		s->last_err = m->err;
	} else if (m->err) {
		s->failed[chunk]++;
		s->last_err = m->err;
	}
}

/* Sets one librdkafka property, logging a refusal.  0 or HC_ERR_CONFIG. */
static int conf_set(rd_kafka_conf_t *c, const char *k, const char *v)
{
	char err[256];

	if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		hc_error("kafka sink: %s: %s", k, err);
		return HC_ERR_CONFIG;
	}
	return 0;
}

/* Creates the producer on first use. */
static int producer_open(struct sink_kafka *s)
{
	rd_kafka_conf_t *c;
	char err[512], tmo[24];
	int tls = s->cacert[0] || s->cert[0] || s->key[0], sasl = s->user[0] != '\0';
	int rc;

	if (s->rk != NULL)
		return 0;
	c = rd_kafka_conf_new();
	if (c == NULL)
		return -ENOMEM;
	snprintf(tmo, sizeof(tmo), "%lld", (long long)s->timeout_ms);
	rc = conf_set(c, "bootstrap.servers", s->brokers);
	if (rc == 0)
		rc = conf_set(c, "client.id", "heapster-c");
	if (rc == 0)
		rc = conf_set(c, "compression.codec", s->compression);
	if (rc == 0)
		rc = conf_set(c, "acks", s->acks);
	if (rc == 0)
		rc = conf_set(c, "message.timeout.ms", tmo);
	/* logs through the main queue: served on this thread by poll/flush */
	if (rc == 0)
		rc = conf_set(c, "log.queue", "true");
	if (rc == 0 && (tls || sasl))
		rc = conf_set(c, "security.protocol",
			      tls && sasl ? "sasl_ssl" : tls ? "ssl" : "sasl_plaintext");
	if (rc == 0 && sasl) {
		rc = conf_set(c, "sasl.mechanisms", "PLAIN");
		if (rc == 0)
			rc = conf_set(c, "sasl.username", s->user);
		if (rc == 0)
			rc = conf_set(c, "sasl.password", s->password);
	}
	if (rc == 0 && s->cacert[0])
		rc = conf_set(c, "ssl.ca.location", s->cacert);
	if (rc == 0 && s->cert[0])
		rc = conf_set(c, "ssl.certificate.location", s->cert);
	if (rc == 0 && s->key[0])
		rc = conf_set(c, "ssl.key.location", s->key);
	if (rc == 0 && s->insecure)
		rc = conf_set(c, "enable.ssl.certificate.verification", "false");
	if (rc != 0)
		goto destroy_conf;
	rd_kafka_conf_set_opaque(c, s);
	rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
	rd_kafka_conf_set_log_cb(c, on_log);
	rd_kafka_conf_set_error_cb(c, on_error);
	s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	if (s->rk == NULL) {
		hc_error("kafka sink: %s", err);
		rc = HC_ERR_CONFIG;
		goto destroy_conf;
	}
	/* rd_kafka_new() owns the configuration now */
	rd_kafka_set_log_queue(s->rk, NULL);
	s->rkt = rd_kafka_topic_new(s->rk, s->topic, NULL);
	if (s->rkt == NULL) {
		hc_error("kafka sink: topic %s: %s", s->topic,
			 rd_kafka_err2str(rd_kafka_last_error()));
		return HC_ERR_CONFIG;
	}
	return 0;

destroy_conf:
	rd_kafka_conf_destroy(c);
	return rc;
}

/* Produces one message (copied), waiting while librdkafka's queue is full. */
static rd_kafka_resp_err_t produce(struct sink_kafka *s, const char *p, size_t n,
				   uint32_t chunk)
{
	for (;;) {
		if (rd_kafka_produce(s->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
				     (void *)p, n, NULL, 0, (void *)(uintptr_t)chunk) == 0)
			return RD_KAFKA_RESP_ERR_NO_ERROR;
		if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return rd_kafka_last_error();
		rd_kafka_poll(s->rk, 100);
	}
}

static int sink_kafka_send(void *state, struct exp_out *out)
{
	struct sink_kafka *s = state;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	uint32_t left = 0;
	int rc;

	for (uint32_t i = 0; i < out->nchunks; i++)
		left += !out->chunk_done[i];
	if (left == 0)
		return 0;
	rc = producer_open(s);
	if (rc != 0)
		return rc;
	if (out->nchunks > s->track_cap) {
		uint32_t *p = realloc(s->pending, out->nchunks * sizeof(*p)), *f;

		if (p == NULL)
			return -ENOMEM;
		s->pending = p;
		f = realloc(s->failed, out->nchunks * sizeof(*f));
		if (f == NULL)
			return -ENOMEM;
		s->failed = f;
		s->track_cap = out->nchunks;
	}
	memset(s->pending, 0, s->track_cap * sizeof(*s->pending));
	memset(s->failed, 0, s->track_cap * sizeof(*s->failed));
	s->last_err = RD_KAFKA_RESP_ERR_NO_ERROR;
	s->lost = 0;
	for (uint32_t i = 0; i < out->nchunks && !err; i++) {
		const char *p = out->buf.data + exp_out_chunk_start(out, i);
		const char *end = out->buf.data + out->chunk_end[i];

		if (out->chunk_done[i])
			continue;
		while (p < end && !err) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			err = produce(s, p, (size_t)(nl - p), i);
			if (!err) {
				s->pending[i]++;
			} else if (permanent(err)) {
				s->lost++;
				s->last_err = err;
				err = RD_KAFKA_RESP_ERR_NO_ERROR;
			} else {
				s->failed[i]++;
			}
			p = nl + 1;
		}
	}
	/* wait for every delivery report; purge what is still unsent after that */
	if (rd_kafka_flush(s->rk, (int)s->timeout_ms + 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_flush(s->rk, 5000);
	}
	for (uint32_t i = 0; i < out->nchunks; i++) {
		if (out->chunk_done[i])
			continue;
		if (s->pending[i] == 0 && s->failed[i] == 0)
			out->chunk_done[i] = 1;
		else
			rc = HC_ERR_SINK;
	}
	if (s->lost > 0) {
		out->dropped += s->lost;
		if (hc_ratelimit_ok(&s->rl))
			hc_error("kafka sink: %s: %llu messages refused for good: %s", s->topic,
				 (unsigned long long)s->lost, rd_kafka_err2str(s->last_err));
	}
	if (rc != 0 && hc_ratelimit_ok(&s->rl))
		hc_warn("kafka sink: %s: %s", s->topic,
			rd_kafka_err2str(err ? err : s->last_err));
	return rc;
}

static void sink_kafka_close(void *state)
{
	struct sink_kafka *s = state;

	if (s == NULL)
		return;
	if (s->rkt != NULL)
		rd_kafka_topic_destroy(s->rkt);
	if (s->rk != NULL) {
		rd_kafka_flush(s->rk, 5000);
		rd_kafka_destroy(s->rk);
	}
	free(s->pending);
	free(s->failed);
	free(s->noff);
	free(s->nlen);
	exp_buf_free(&s->names);
	exp_buf_free(&s->ts);
	exp_buf_free(&s->settags);
	exp_buf_free(&s->valtags);
	exp_tags_free(&s->tags);
	free(s);
}

const struct exp_sink_ops sink_kafka_ops = {
	.kind = "kafka",
	.init = sink_kafka_init,
	.format = sink_kafka_format,
	.send = sink_kafka_send,
	.close = sink_kafka_close,
};
