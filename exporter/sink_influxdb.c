/*
 * sink_influxdb.c - the `influxdb` sink: InfluxDB 1.x line protocol over HTTP.
 *
 * Schema, exactly Heapster's (metrics/sinks/influxdb/influxdb.go), so that
 * Heapster's Grafana dashboards keep working: one point per metric value;
 * measurement = metric name ("cpu/usage_rate"); a single field "value",
 * written as an integer ("value=120i") for int metrics and as a float for
 * float metrics, as Heapster's Go client did; tags = the set's labels except
 * namespace_id, pod_id, hostname and host_id, empty values left out, plus a
 * labeled metric's own labels (resource_id, make, ...), plus cluster_name;
 * the point's time is the batch time.  `withfields=true` writes
 * measurement = the name up to its first '/' and field = the rest
 * ("cpu usage_rate=120i").  `disable_counter_metrics=true` leaves out the
 * counters the rate calculator turns into rates (cpu/usage,
 * memory/page_faults, memory/major_page_faults, network/rx, rx_errors, tx,
 * tx_errors, and disk/io_read_bytes, io_write_bytes, whose rates this
 * project adds): Heapster's RateMetricsMapping.  uptime, cumulative too,
 * stays, as in Heapster.
 *
 * Format speed: a batch repeats each set's tags for every value of the
 * set, so the set's tag text (filtered, sorted by key as InfluxDB prefers,
 * escaped) is built once per set and copied per point; measurement and
 * field texts are built once per metric name per window.  A point is then
 * five memcpy and one integer conversion into a buffer reserved once, with
 * no allocation.  Labeled values (a minority: filesystem, accelerators)
 * merge their labels into a per-value tag text.  Floats that line protocol
 * cannot carry (NaN, infinities) are skipped and counted.
 *
 * Sending: each chunk of at most 10,000 points is one POST
 * /write?db=DB&precision=ms (plus &rp= with the `rpname` option), with
 * basic authentication (user, pw).  `concurrency` chunks are in flight at
 * once through one curl multi handle, which also keeps the connections
 * alive between windows.  Answers (sink_influxdb_verdict()): 2xx done;
 * 400 "partial write: ... dropped=N" done, N logged and counted (a retry
 * would be refused the same way); any other 400 or 413 logged as lost
 * (the body itself is bad); "database not found" -> CREATE DATABASE, then
 * the chunk is retried at once; anything else, or a connection error,
 * fails the send and the exporter retries it later.  Heapster created the
 * database with a retention policy named "default" (`retention`, default
 * 0 = infinite); so does this sink, through POST /query.
 *
 * Options: user (root), pw (root), db (k8s), retention (0), rpname (none:
 * the database's default policy), secure (false: https when true),
 * insecuressl (false), withfields (false), cluster_name (default),
 * disable_counter_metrics (false), concurrency (1).
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "log.h"
#include "sink.h"
#include "sink_influxdb.h"

#define INFLUX_RESP_MAX 2048          /* bytes of an answer kept for messages */
#define INFLUX_CONNECT_TIMEOUT_MS 5000
#define INFLUX_TIMEOUT_MS 60000

/* Per metric name of the batch: its measurement and field texts. */
struct influx_name {
	uint32_t moff, mlen;   /* escaped measurement in s->ntext */
	uint32_t foff, flen;   /* " <field>=" in s->ntext */
	uint8_t  skip;         /* disable_counter_metrics */
};

/* One transfer slot of the multi handle. */
struct influx_xfer {
	CURL     *easy;
	uint32_t  chunk;
	int       busy;
	size_t    resp_len;
	char      resp[INFLUX_RESP_MAX + 1];
};

struct sink_influx {
	/* options */
	char user[128], pw[128], db[128], rp[128], retention[32], cluster[256];
	int  withfields, disable_counters, insecure, concurrency;
	char write_url[1200], query_url[700];

	/* format scratch, reused */
	struct influx_name *names;
	uint32_t            names_cap;
	struct exp_buf      ntext;      /* measurement and field texts */
	struct hc_label    *tl;         /* a set's tags, filtered and sorted */
	uint32_t            tl_n, tl_cap;
	struct hc_label    *lt;         /* a labeled value's merged tags */
	uint32_t            lt_cap;
	struct exp_buf      settags;    /* ",k=v,..." of the current set */
	struct exp_buf      valtags;    /* the same for one labeled value */
	char                ts[24];     /* " <batch ms>\n" */
	size_t              ts_len;

	/* transport */
	CURLM              *multi;
	struct influx_xfer *xf;
	struct curl_slist  *hdrs;
	struct hc_ratelimit rl;
	int                 last_err;   /* why the last failed transfer failed */
};

/* Labels InfluxDB never gets as tags (Heapster's influxdbBlacklistLabels). */
static int tag_excluded(const char *key)
{
	switch (key[0]) {
	case 'n':
		return strcmp(key, HC_L_NAMESPACE_ID) == 0;
	case 'p':
		return strcmp(key, HC_L_POD_ID) == 0;
	case 'h':
		return strcmp(key, HC_L_HOSTNAME) == 0 || strcmp(key, HC_L_HOST_ID) == 0;
	case 'c':
		/* the sink's own cluster_name replaces any label of that name */
		return strcmp(key, "cluster_name") == 0;
	}
	return 0;
}

/* Counters with a rate: what disable_counter_metrics leaves out. */
static int is_rated_counter(const char *name)
{
	static const char *const counters[] = {
		"cpu/usage", "memory/page_faults", "memory/major_page_faults",
		"network/rx", "network/rx_errors", "network/tx", "network/tx_errors",
		"disk/io_read_bytes", "disk/io_write_bytes",
	};

	for (size_t i = 0; i < HC_ARRAY_LEN(counters); i++)
		if (strcmp(name, counters[i]) == 0)
			return 1;
	return 0;
}

/*
 * Line-protocol escaping of s[0..n) into d (room for 2n bytes): commas and
 * spaces always, '=' too unless `meas` (measurements may hold '=').  Line
 * breaks would end the line: they become the two characters "\n", "\r".
 * Trailing backslashes are dropped: InfluxDB 1.x takes any character after
 * a backslash as escaped, so no spelling of a text ending in a backslash
 * survives its parser (the separator after it would be swallowed).
 * Returns the length written.
 */
static size_t esc(char *d, const char *s, size_t n, int meas)
{
	char *p = d;

	while (n > 0 && s[n - 1] == '\\')
		n--;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		switch (c) {
		case ',':
		case ' ':
			*p++ = '\\';
			*p++ = c;
			break;
		case '=':
			if (!meas)
				*p++ = '\\';
			*p++ = c;
			break;
		case '\n':
			*p++ = '\\';
			*p++ = 'n';
			break;
		case '\r':
			*p++ = '\\';
			*p++ = 'r';
			break;
		default:
			*p++ = c;
		}
	}
	return (size_t)(p - d);
}

/* Appends s escaped (see esc()) to b.  0 or -ENOMEM. */
static int buf_esc(struct exp_buf *b, const char *s, size_t n, int meas)
{
	int rc = exp_buf_reserve(b, 2 * n);

	if (rc != 0)
		return rc;
	b->len += esc(b->data + b->len, s, n, meas);
	return 0;
}

/* Sorts tags by key, bytewise (InfluxDB's order); n is small. */
static void sort_tags(struct hc_label *t, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct hc_label x = t[i];
		uint32_t j = i;

		while (j > 0 && strcmp(t[j - 1].key, x.key) > 0) {
			t[j] = t[j - 1];
			j--;
		}
		t[j] = x;
	}
}

static int grow_labels(struct hc_label **a, uint32_t *cap, uint32_t need)
{
	struct hc_label *p;
	uint32_t ncap;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 32;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*a, ncap * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	*a = p;
	*cap = ncap;
	return 0;
}

/* Writes tags t[0..n) as ",k=v,k=v" into b (emptied first). */
static int write_tags(struct exp_buf *b, const struct hc_label *t, uint32_t n)
{
	int rc;

	b->len = 0;
	for (uint32_t i = 0; i < n; i++) {
		size_t kl = strlen(t[i].key), vl = strlen(t[i].value);

		rc = exp_buf_reserve(b, 2 * (kl + vl) + 2);
		if (rc != 0)
			return rc;
		b->data[b->len++] = ',';
		b->len += esc(b->data + b->len, t[i].key, kl, 0);
		b->data[b->len++] = '=';
		b->len += esc(b->data + b->len, t[i].value, vl, 0);
	}
	return 0;
}

/* Builds the tag list and text of set `si` (s->tl, s->settags). */
static int build_set_tags(struct sink_influx *s, const struct hc_batch *b,
			  uint32_t si)
{
	const struct hc_set *set = &b->sets[si];
	const struct hc_label *l = &b->labels[set->labels_off];
	int rc;

	rc = grow_labels(&s->tl, &s->tl_cap, set->labels_n + 1);
	if (rc != 0)
		return rc;
	s->tl_n = 0;
	for (uint32_t i = 0; i < set->labels_n; i++) {
		if (l[i].key[0] == '\0' || l[i].value[0] == '\0' || tag_excluded(l[i].key))
			continue;
		s->tl[s->tl_n++] = l[i];
	}
	if (s->cluster[0] != '\0') {
		s->tl[s->tl_n].key = "cluster_name";
		s->tl[s->tl_n].value = s->cluster;
		s->tl_n++;
	}
	sort_tags(s->tl, s->tl_n);
	return write_tags(&s->settags, s->tl, s->tl_n);
}

/*
 * Builds s->valtags for a labeled value: the set's tags with the value's
 * labels added (a value label replaces a set label of the same key, as in
 * Heapster; the sink's cluster_name wins over both).
 */
static int build_value_tags(struct sink_influx *s, const struct hc_batch *b,
			    const struct hc_value *v)
{
	const struct hc_label *l = &b->labels[v->labels_off];
	uint32_t n = s->tl_n;
	int rc;

	rc = grow_labels(&s->lt, &s->lt_cap, s->tl_n + v->labels_n);
	if (rc != 0)
		return rc;
	memcpy(s->lt, s->tl, s->tl_n * sizeof(*s->lt));
	for (uint32_t i = 0; i < v->labels_n; i++) {
		uint32_t j;

		if (l[i].key[0] == '\0' || l[i].value[0] == '\0' || tag_excluded(l[i].key))
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(s->lt[j].key, l[i].key) == 0)
				break;
		s->lt[j] = l[i];
		if (j == n)
			n++;
	}
	sort_tags(s->lt, n);
	return write_tags(&s->valtags, s->lt, n);
}

/* Builds measurement and field texts for every name of b. */
static int build_names(struct sink_influx *s, const struct hc_batch *b)
{
	int rc;

	if (exp_array_grow(&s->names, &s->names_cap, b->nnames, sizeof(*s->names)) != 0)
		return -ENOMEM;
	s->ntext.len = 0;
	for (uint32_t i = 0; i < b->nnames; i++) {
		struct influx_name *nm = &s->names[i];
		const char *name = b->names[i], *slash = NULL;
		size_t len = strlen(name), mlen = len;

		if (s->withfields && (slash = memchr(name, '/', len)) != NULL)
			mlen = (size_t)(slash - name);
		nm->skip = s->disable_counters && is_rated_counter(name);
		nm->moff = (uint32_t)s->ntext.len;
		rc = buf_esc(&s->ntext, name, mlen, 1);
		if (rc != 0)
			return rc;
		nm->mlen = (uint32_t)(s->ntext.len - nm->moff);
		nm->foff = (uint32_t)s->ntext.len;
		rc = exp_buf_append(&s->ntext, " ", 1);
		if (rc == 0 && slash != NULL)
			rc = buf_esc(&s->ntext, slash + 1, len - mlen - 1, 0);
		else if (rc == 0)
			rc = exp_buf_append(&s->ntext, "value", 5);
		if (rc == 0)
			rc = exp_buf_append(&s->ntext, "=", 1);
		if (rc != 0)
			return rc;
		nm->flen = (uint32_t)(s->ntext.len - nm->foff);
	}
	return 0;
}

/* Appends one point: measurement, tags, field, value, time. */
static inline int put_point(struct sink_influx *s, struct exp_out *out,
			    const struct influx_name *nm, const struct exp_buf *tags,
			    const struct hc_value *v)
{
	size_t need = nm->mlen + tags->len + nm->flen + 33 + s->ts_len;
	size_t n;
	char *p;
	int rc;

	rc = exp_buf_reserve(&out->buf, need);
	if (rc != 0)
		return rc;
	p = out->buf.data + out->buf.len;
	memcpy(p, s->ntext.data + nm->moff, nm->mlen);
	p += nm->mlen;
	memcpy(p, tags->data, tags->len);
	p += tags->len;
	memcpy(p, s->ntext.data + nm->foff, nm->flen);
	p += nm->flen;
	if (v->type == HC_FLOAT) {
		n = exp_fmt_f64(p, v->v.f);
		if (n == 0) {               /* NaN, infinity: not representable */
			out->skipped++;
			return 0;
		}
		p += n;
	} else {
		p += exp_fmt_i64(p, v->v.i);
		*p++ = 'i';
	}
	memcpy(p, s->ts, s->ts_len);
	p += s->ts_len;
	out->buf.len = (size_t)(p - out->buf.data);
	out->points++;
	out->open_points++;
	return 0;
}

/* Whether values a and b carry the same extra labels (same keys, values). */
static int same_labels(const struct hc_batch *b, const struct hc_value *x,
		       const struct hc_value *y)
{
	if (x->labels_n != y->labels_n)
		return 0;
	for (uint32_t i = 0; i < x->labels_n; i++) {
		const struct hc_label *lx = &b->labels[x->labels_off + i];
		const struct hc_label *ly = &b->labels[y->labels_off + i];

		if (strcmp(lx->key, ly->key) != 0 || strcmp(lx->value, ly->value) != 0)
			return 0;
	}
	return 1;
}

static int sink_influxdb_format(void *state, const struct hc_batch *b,
				uint32_t *pos, struct exp_out *out)
{
	struct sink_influx *s = state;
	uint32_t cur = UINT32_MAX, i;
	const struct hc_value *vt_for = NULL;   /* the value s->valtags was built for */
	int rc;

	rc = build_names(s, b);
	if (rc != 0)
		return rc;
	s->ts[0] = ' ';
	s->ts_len = 1 + exp_fmt_i64(s->ts + 1, b->ts_ms);
	s->ts[s->ts_len++] = '\n';
	for (i = *pos; i < b->nvals; i++) {
		const struct hc_value *v = &b->vals[i];
		const struct influx_name *nm = &s->names[v->name];

		if (nm->skip) {
			out->filtered++;
			continue;
		}
		if (v->set != cur) {
			rc = build_set_tags(s, b, v->set);
			if (rc != 0)
				return rc;
			cur = v->set;
			vt_for = NULL;
		}
		if (v->labels_n) {
			/* a filesystem's five metrics share their labels: build once */
			rc = 0;
			if (vt_for == NULL || !same_labels(b, v, vt_for)) {
				rc = build_value_tags(s, b, v);
				vt_for = v;
			}
			if (rc == 0)
				rc = put_point(s, out, nm, &s->valtags, v);
		} else {
			rc = put_point(s, out, nm, &s->settags, v);
		}
		if (rc != 0)
			return rc;
		if (out->open_points == SINK_INFLUX_CHUNK_POINTS) {
			rc = exp_out_cut(out);
			if (rc != 0)
				return rc;
			if (out->nchunks >= (uint32_t)s->concurrency) {
				i++;
				break;
			}
		}
	}
	*pos = i;
	return exp_out_cut(out);
}

/* ---- options ------------------------------------------------------------ */

/* Copies option `key` (or def) into dst.  0 or HC_ERR_CONFIG if too long. */
static int opt_str(const struct hc_uri *u, const char *key, const char *def,
		   char *dst, size_t cap)
{
	const char *v = hc_uri_opt(u, key);

	if (v == NULL)
		v = def;
	if (strlen(v) >= cap) {
		hc_error("influxdb sink: option %s is too long", key);
		return HC_ERR_CONFIG;
	}
	strcpy(dst, v);
	return 0;
}

/* Percent-encodes s for a URL query or form value into dst (cap bytes). */
static int pct_encode(const char *s, char *dst, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			    c == '.' || c == '~';

		if (o + 4 > cap)
			return HC_ERR_CONFIG;
		if (plain) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return 0;
}

/*
 * Builds the write and query URLs from the sink URL ("" means Heapster's
 * default localhost:8086; a bare host:port gets http://; `secure` makes it
 * https), without a trailing '/'.
 */
static int build_urls(struct sink_influx *s, const struct hc_uri *u, int secure)
{
	char base[600], db[400], rp[400];
	const char *url = u->url[0] ? u->url : "localhost:8086", *rest;
	size_t n;
	int len;

	rest = strstr(url, "://");
	rest = rest ? rest + 3 : url;
	len = snprintf(base, sizeof(base), "%s://%s",
		       secure ? "https" : (strncmp(url, "https://", 8) == 0 ? "https" : "http"),
		       rest);
	if (len < 0 || (size_t)len >= sizeof(base))
		return HC_ERR_CONFIG;
	n = (size_t)len;
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	if (pct_encode(s->db, db, sizeof(db)) || pct_encode(s->rp, rp, sizeof(rp)))
		return HC_ERR_CONFIG;
	len = snprintf(s->write_url, sizeof(s->write_url), "%s/write?db=%s&precision=ms%s%s",
		       base, db, s->rp[0] ? "&rp=" : "", rp);
	if (len < 0 || (size_t)len >= sizeof(s->write_url))
		return HC_ERR_CONFIG;
	len = snprintf(s->query_url, sizeof(s->query_url), "%s/query", base);
	if (len < 0 || (size_t)len >= sizeof(s->query_url))
		return HC_ERR_CONFIG;
	return 0;
}

static void sink_influxdb_close(void *state);

static int sink_influxdb_init(const struct hc_uri *u, void **state)
{
	struct sink_influx *s;
	int64_t conc;
	int rc, secure;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	exp_buf_init(&s->ntext);
	exp_buf_init(&s->settags);
	exp_buf_init(&s->valtags);
	s->rl = (struct hc_ratelimit)HC_RATELIMIT_INIT(60000, 10);
	rc = opt_str(u, "user", "root", s->user, sizeof(s->user));
	if (rc == 0)
		rc = opt_str(u, "pw", "root", s->pw, sizeof(s->pw));
	if (rc == 0)
		rc = opt_str(u, "db", "k8s", s->db, sizeof(s->db));
	if (rc == 0)
		rc = opt_str(u, "rpname", "", s->rp, sizeof(s->rp));
	if (rc == 0)
		rc = opt_str(u, "retention", "0", s->retention, sizeof(s->retention));
	if (rc == 0)
		rc = opt_str(u, "cluster_name", "default", s->cluster, sizeof(s->cluster));
	if (rc == 0)
		rc = hc_uri_opt_bool(u, "withfields", 0, &s->withfields);
	if (rc == 0)
		rc = hc_uri_opt_bool(u, "disable_counter_metrics", 0, &s->disable_counters);
	if (rc == 0)
		rc = hc_uri_opt_bool(u, "insecuressl", 0, &s->insecure);
	if (rc == 0)
		rc = hc_uri_opt_bool(u, "secure", 0, &secure);
	if (rc == 0)
		rc = hc_uri_opt_int(u, "concurrency", 1, &conc);
	if (rc != 0) {
		hc_error("influxdb sink: bad option value");
		goto free_state;
	}
	if (conc < 1 || conc > 64) {
		hc_error("influxdb sink: concurrency must be 1..64");
		rc = HC_ERR_CONFIG;
		goto free_state;
	}
	s->concurrency = (int)conc;
	if (s->db[0] == '\0') {
		hc_error("influxdb sink: db must not be empty");
		rc = HC_ERR_CONFIG;
		goto free_state;
	}
	/* the retention goes into InfluxQL: accept only a duration literal */
	for (const char *p = s->retention; *p; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'))) {
			hc_error("influxdb sink: retention must be a duration like 7d or 168h");
			rc = HC_ERR_CONFIG;
			goto free_state;
		}
	}
	rc = build_urls(s, u, secure);
	if (rc != 0) {
		hc_error("influxdb sink: URL too long");
		goto free_state;
	}
	/* tag texts are copied even when empty: give them memory up front */
	rc = exp_buf_reserve(&s->settags, 1024);
	if (rc == 0)
		rc = exp_buf_reserve(&s->valtags, 1024);
	if (rc != 0)
		goto free_state;
	*state = s;
	return 0;

free_state:
	sink_influxdb_close(s);
	return rc;
}

/* ---- transport ---------------------------------------------------------- */

enum sink_influx_verdict sink_influxdb_verdict(long status, const char *body,
					       uint64_t *dropped)
{
	const char *d;

	*dropped = 0;
	if (status >= 200 && status < 300)
		return SINK_INFLUX_OK;
	if (strstr(body, "database not found") != NULL)
		return SINK_INFLUX_NODB;
	if (status == 400 && strstr(body, "partial write") != NULL) {
		d = strstr(body, "dropped=");
		if (d != NULL)
			*dropped = strtoull(d + 8, NULL, 10);
		return SINK_INFLUX_PARTIAL;
	}
	if (status == 400 || status == 413)
		return SINK_INFLUX_REJECTED;
	return SINK_INFLUX_RETRY;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct influx_xfer *x = arg;
	size_t n = size * nmemb, room = INFLUX_RESP_MAX - x->resp_len;

	if (n < room)
		room = n;
	memcpy(x->resp + x->resp_len, data, room);
	x->resp_len += room;
	x->resp[x->resp_len] = '\0';
	return n;
}

/* Options shared by write and query requests. */
static void common_opts(struct sink_influx *s, CURL *e)
{
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)INFLUX_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)INFLUX_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "heapster-c");
	curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(e, CURLOPT_USERNAME, s->user);
	curl_easy_setopt(e, CURLOPT_PASSWORD, s->pw);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (s->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* Creates the curl handles on first use (init stays free of curl state). */
static int transport_open(struct sink_influx *s)
{
	if (s->multi != NULL)
		return 0;
	s->xf = calloc((size_t)s->concurrency, sizeof(*s->xf));
	if (s->xf == NULL)
		return -ENOMEM;
	s->hdrs = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	if (s->hdrs != NULL)
		s->hdrs = curl_slist_append(s->hdrs, "Expect:");
	s->multi = curl_multi_init();
	if (s->hdrs == NULL || s->multi == NULL)
		return -ENOMEM;
	for (int i = 0; i < s->concurrency; i++) {
		CURL *e = curl_easy_init();

		if (e == NULL)
			return -ENOMEM;
		s->xf[i].easy = e;
		common_opts(s, e);
		curl_easy_setopt(e, CURLOPT_URL, s->write_url);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &s->xf[i]);
		curl_easy_setopt(e, CURLOPT_PRIVATE, &s->xf[i]);
	}
	return 0;
}

/*
 * Runs one InfluxQL statement through POST /query.  InfluxDB answers 200
 * even when the statement fails, with "error" in the JSON: both count as
 * failure.  0 or a negative code.
 */
static int influx_query(struct sink_influx *s, const char *q)
{
	struct influx_xfer x = { 0 };
	char form[1024];
	long status = 0;
	CURLcode cc;
	int rc;

	memcpy(form, "q=", 2);
	if (pct_encode(q, form + 2, sizeof(form) - 2) != 0)
		return HC_ERR_CONFIG;
	x.easy = curl_easy_init();
	if (x.easy == NULL)
		return -ENOMEM;
	common_opts(s, x.easy);
	curl_easy_setopt(x.easy, CURLOPT_URL, s->query_url);
	curl_easy_setopt(x.easy, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(x.easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x.easy, CURLOPT_WRITEDATA, &x);
	cc = curl_easy_perform(x.easy);
	if (cc == CURLE_OK)
		curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		hc_warn("influxdb sink: %s: %s", q, curl_easy_strerror(cc));
		rc = HC_ERR_SINK;
	} else if (status != 200 || strstr(x.resp, "\"error\"") != NULL) {
		hc_warn("influxdb sink: %s: HTTP %ld %s", q, status, x.resp);
		rc = HC_ERR_HTTP;
	} else {
		rc = 0;
	}
	curl_easy_cleanup(x.easy);
	return rc;
}

/* Writes an InfluxQL double-quoted identifier. */
static void quote_ident(char *dst, size_t cap, const char *s)
{
	size_t o = 0;

	dst[o++] = '"';
	for (; *s && o + 4 < cap; s++) {
		if (*s == '"' || *s == '\\')
			dst[o++] = '\\';
		dst[o++] = *s;
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

/*
 * Creates the database as Heapster did: with a default retention policy
 * named "default" of `retention` (0 = infinite).  If that statement fails
 * (an existing database with a conflicting policy), a plain CREATE DATABASE
 * is enough to go on.
 */
static int create_db(struct sink_influx *s)
{
	char q[512], ident[300];
	const char *dur = strcmp(s->retention, "0") == 0 ? "INF" : s->retention;
	int rc;

	quote_ident(ident, sizeof(ident), s->db);
	snprintf(q, sizeof(q), "CREATE DATABASE %s WITH DURATION %s REPLICATION 1 NAME \"default\"",
		 ident, dur);
	rc = influx_query(s, q);
	if (rc != 0) {
		snprintf(q, sizeof(q), "CREATE DATABASE %s", ident);
		rc = influx_query(s, q);
	}
	if (rc == 0)
		hc_info("influxdb sink: created database %s", ident);
	return rc;
}

/* Judges one finished transfer; returns its verdict (RETRY on errors). */
static enum sink_influx_verdict finish_xfer(struct sink_influx *s,
					    struct exp_out *out,
					    struct influx_xfer *x, CURLcode cc)
{
	enum sink_influx_verdict vd;
	uint64_t dropped;
	long status = 0;

	if (cc != CURLE_OK) {
		if (hc_ratelimit_ok(&s->rl))
			hc_warn("influxdb sink: POST %s: %s", s->write_url,
				curl_easy_strerror(cc));
		s->last_err = cc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED :
			      cc == CURLE_OPERATION_TIMEDOUT ? HC_ERR_TIMEOUT : -EIO;
		return SINK_INFLUX_RETRY;
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	vd = sink_influxdb_verdict(status, x->resp, &dropped);
	switch (vd) {
	case SINK_INFLUX_OK:
		out->chunk_done[x->chunk] = 1;
		break;
	case SINK_INFLUX_PARTIAL:
		out->chunk_done[x->chunk] = 1;
		out->dropped += dropped;
		if (hc_ratelimit_ok(&s->rl))
			hc_warn("influxdb sink: %llu of %u points refused: %s",
				(unsigned long long)dropped,
				out->chunk_points[x->chunk], x->resp);
		break;
	case SINK_INFLUX_REJECTED:
		out->chunk_done[x->chunk] = 1;
		out->dropped += out->chunk_points[x->chunk];
		if (hc_ratelimit_ok(&s->rl))
			hc_error("influxdb sink: HTTP %ld, %u points lost: %s", status,
				 out->chunk_points[x->chunk], x->resp);
		break;
	case SINK_INFLUX_NODB:
		s->last_err = HC_ERR_SINK;
		break;
	case SINK_INFLUX_RETRY:
		s->last_err = HC_ERR_HTTP;
		if (hc_ratelimit_ok(&s->rl))
			hc_warn("influxdb sink: HTTP %ld: %s", status, x->resp);
		break;
	}
	return vd;
}

/* Takes every transfer still in flight off the multi handle. */
static void abort_transfers(struct sink_influx *s)
{
	for (int i = 0; i < s->concurrency; i++) {
		if (s->xf[i].busy) {
			curl_multi_remove_handle(s->multi, s->xf[i].easy);
			s->xf[i].busy = 0;
		}
	}
}

/*
 * Posts every chunk not yet done, at most `concurrency` at once, each at
 * most once.  Counts the chunks that met a missing database and those that
 * failed otherwise.
 */
static int run_transfers(struct sink_influx *s, struct exp_out *out,
			 uint32_t *nodb, uint32_t *failed)
{
	uint32_t next = 0;
	int active = 0, running;
	CURLMsg *msg;

	*nodb = *failed = 0;
	for (;;) {
		for (int i = 0; i < s->concurrency && next < out->nchunks; i++) {
			struct influx_xfer *x = &s->xf[i];
			size_t off;

			if (x->busy)
				continue;
			while (next < out->nchunks && out->chunk_done[next])
				next++;
			if (next == out->nchunks)
				break;
			off = exp_out_chunk_start(out, next);
			x->chunk = next++;
			x->resp_len = 0;
			x->resp[0] = '\0';
			curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, out->buf.data + off);
			curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)(out->chunk_end[x->chunk] - off));
			if (curl_multi_add_handle(s->multi, x->easy) != CURLM_OK)
				goto abort;
			x->busy = 1;
			active++;
		}
		if (active == 0)
			return 0;
		if (curl_multi_perform(s->multi, &running) != CURLM_OK)
			goto abort;
		while ((msg = curl_multi_info_read(s->multi, &running)) != NULL) {
			struct influx_xfer *x;
			enum sink_influx_verdict vd;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			vd = finish_xfer(s, out, x, msg->data.result);
			if (vd == SINK_INFLUX_NODB)
				(*nodb)++;
			else if (vd == SINK_INFLUX_RETRY)
				(*failed)++;
			curl_multi_remove_handle(s->multi, x->easy);
			x->busy = 0;
			active--;
		}
		if (active > 0 && curl_multi_poll(s->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			goto abort;
	}

abort:
	abort_transfers(s);
	return HC_ERR_SINK;
}

static int sink_influxdb_send(void *state, struct exp_out *out)
{
	struct sink_influx *s = state;
	uint32_t nodb, failed;
	int rc, created = 0;

	rc = transport_open(s);
	if (rc != 0)
		return rc;
	s->last_err = HC_ERR_SINK;
	for (;;) {
		rc = run_transfers(s, out, &nodb, &failed);
		if (rc != 0)
			return rc;
		if (nodb == 0 || created)
			break;
		rc = create_db(s);
		if (rc != 0)
			return rc;
		created = 1;
	}
	return nodb || failed ? s->last_err : 0;
}

static void sink_influxdb_close(void *state)
{
	struct sink_influx *s = state;

	if (s == NULL)
		return;
	if (s->xf != NULL) {
		for (int i = 0; i < s->concurrency; i++) {
			if (s->xf[i].easy == NULL)
				continue;
			if (s->xf[i].busy)
				curl_multi_remove_handle(s->multi, s->xf[i].easy);
			curl_easy_cleanup(s->xf[i].easy);
		}
		free(s->xf);
	}
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	curl_slist_free_all(s->hdrs);
	free(s->names);
	free(s->tl);
	free(s->lt);
	exp_buf_free(&s->ntext);
	exp_buf_free(&s->settags);
	exp_buf_free(&s->valtags);
	free(s);
}

const struct exp_sink_ops sink_influxdb_ops = {
	.kind = "influxdb",
	.init = sink_influxdb_init,
	.format = sink_influxdb_format,
	.send = sink_influxdb_send,
	.close = sink_influxdb_close,
};
