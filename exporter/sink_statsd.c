/*
 * sink_statsd.c - the `statsd` sink: every value as a StatsD gauge over UDP
 * ("statsd:udp://statsd:8125?prefix=k8s&protocolType=etsystatsd").
 *
 * Heapster's two line formats (metrics/sinks/statsd, its formatters):
 *
 * etsystatsd (default): the entity in the name, Heapster's layout
 *   P.node.H.namespace.NS.pod.POD.container.C.[USERLABELS.]METRIC[.ID]:V|g
 *   P.node.H.namespace.NS.pod.POD.[USERLABELS.]METRIC[.ID]:V|g
 *   P.node.H.sys-container.C.[...]   P.node.H.[...]
 *   P.namespace.NS.[...]             P.cluster.[...]
 * where P. is the prefix (absent when empty, the default), H the hostname
 * label (else nodename: a fix), USERLABELS the pod's labels "app:x,tier:y"
 * as "app.x.tier.y" sorted by key, ID a labeled value's resource_id (else
 * its accelerator_id: a fix, accelerators had none and collided).  A set
 * without a known type is skipped and counted, as Heapster refused it.
 *
 * influxstatsd: tags in the name, Telegraf's StatsD dialect
 *   PMETRIC,k=v,k=v:V|g
 * prefix and name glued without a dot (Heapster's own quirk: give the
 * prefix its trailing separator), tags = every label but `labels`, whose
 * pairs become tags themselves, plus a labeled value's labels, sorted by
 * key, empty values left out; a user label overrides a label of the same
 * name, a value's label overrides its set's.
 *
 * Escaping is Heapster's (etsystatsd: '.', '=', '|' -> '_' in each part;
 * influxstatsd: ',', ':', '=', '|' -> '_'), plus two fixes: ':' also in
 * etsystatsd parts (it splits name from value: "Volume:data" broke the
 * line) and control characters everywhere (a newline would split it).  The
 * metric name keeps its '/' as Heapster sent it ("cpu/usage_rate"; StatsD
 * servers map it as they please).  Values: integers as such, floats with up
 * to 15 significant digits in plain notation where Heapster's Go printed
 * "%v" (8e+09): the same number for every StatsD parser.  NaN and infinities
 * are skipped.
 *
 * Options, Heapster's: prefix (""), protocolType (etsystatsd|influxstatsd),
 * numMetricsPerMsg (5: lines per datagram, each line ending in '\n'),
 * allowedLabels (a,b,...: only these labels are used), renameLabels
 * (old:new,...), labelStyle (lowerCamelCase|upperCamelCase; label names in
 * output, after renaming).  URL: udp://host[:port], default localhost:8125.
 *
 * Sending: each datagram is one chunk, up to 4,096 per window, sent with
 * sendmmsg.  StatsD confirms nothing; a refused port (seen on a later
 * send) makes the window be resent, any other error too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hc.h"
#include "log.h"
#include "net.h"
#include "sink.h"
#include "sink_statsd.h"

#define SD_MAX_OPT_ITEMS 32

/* A key and value by pointer and length (user labels are substrings). */
struct sd_kv {
	const char *k, *v;
	uint32_t    kl, vl;
};

enum sd_style { SD_STYLE_NONE, SD_STYLE_LOWER, SD_STYLE_UPPER };

struct sink_statsd {
	char host[256], prefix[256];
	int  port, influx, per_msg;
	enum sd_style style;
	char allowed_buf[512], rename_buf[512];
	const char *allowed[SD_MAX_OPT_ITEMS];
	int         nallowed;
	const char *ren_from[SD_MAX_OPT_ITEMS], *ren_to[SD_MAX_OPT_ITEMS];
	int         nrename;

	/* format scratch, reused */
	uint32_t       *noff;          /* per name: escaped name in ntext */
	uint32_t       *nlen;
	uint32_t        names_cap;
	struct exp_buf  ntext;
	struct sd_kv   *kv;            /* labels being merged */
	uint32_t        kv_n, kv_cap, kv_set_n;
	struct exp_buf  sethead;       /* etsy: the path up to the metric; influx: "" */
	struct exp_buf  settail;       /* influx: the set's ",k=v..." */
	struct exp_buf  valtail;       /* influx: a labeled value's tags */
	struct exp_buf  scratch;       /* one customized label name */
	int             set_ok;        /* etsy: the set has a known type */

	int             fd;
	struct hc_ratelimit rl;
};

/* ---- escaping ----------------------------------------------------------- */

static inline int is_ctl(unsigned char c)
{
	return c < ' ' || c == 0x7f;
}

/* Appends s[0..n) with the protocol's delimiters replaced by '_'. */
static int put_esc(const struct sink_statsd *s, struct exp_buf *b, const char *src, size_t n)
{
	char *p;
	int rc = exp_buf_reserve(b, n);

	if (rc != 0)
		return rc;
	p = b->data + b->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];
		int bad = c == '=' || c == '|' || c == ':' || is_ctl(c) ||
			  (s->influx ? c == ',' : c == '.');

		p[i] = bad ? '_' : (char)c;
	}
	b->len += n;
	return 0;
}

static int put_esc_z(const struct sink_statsd *s, struct exp_buf *b, const char *src)
{
	return put_esc(s, b, src ? src : "", src ? strlen(src) : 0);
}

static int put_lit(struct exp_buf *b, const char *s)
{
	return exp_buf_append(b, s, strlen(s));
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/*
 * Appends a label name: escaped, renamed (renameLabels, matched on the
 * escaped name) and restyled (Heapster's LabelCustomizer).
 */
static int put_label_name(struct sink_statsd *s, struct exp_buf *b, const char *k, size_t kl)
{
	const char *name;
	size_t n;
	int rc;

	s->scratch.len = 0;
	rc = put_esc(s, &s->scratch, k, kl);
	if (rc == 0)
		rc = exp_buf_append(&s->scratch, "", 1);
	if (rc != 0)
		return rc;
	name = s->scratch.data;
	for (int i = 0; i < s->nrename; i++) {
		if (strcmp(name, s->ren_from[i]) == 0) {
			name = s->ren_to[i];
			break;
		}
	}
	n = strlen(name);
	if (s->style == SD_STYLE_NONE)
		return exp_buf_append(b, name, n);
	/* SnakeToUpperCamel: split on '_', title-case each word; lower: then
	 * lower the first letter */
	rc = exp_buf_reserve(b, n);
	if (rc != 0)
		return rc;
	{
		char *p = b->data + b->len, *start = p;
		int word_start = 1;

		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)name[i];

			if (c == '_') {
				word_start = 1;
				continue;
			}
			*p++ = word_start ? to_upper((char)c) : (char)c;
			word_start = !is_alnum(c) && c < 0x80;
		}
		if (s->style == SD_STYLE_LOWER && p > start)
			start[0] = to_lower(start[0]);
		b->len = (size_t)(p - b->data);
	}
	return 0;
}

/* ---- label merging ------------------------------------------------------ */

static int label_allowed(const struct sink_statsd *s, const char *k, size_t kl)
{
	if (s->nallowed == 0)
		return 1;
	for (int i = 0; i < s->nallowed; i++)
		if (strlen(s->allowed[i]) == kl && memcmp(s->allowed[i], k, kl) == 0)
			return 1;
	return 0;
}

static int kv_push(struct sink_statsd *s, const char *k, size_t kl, const char *v, size_t vl)
{
	if (s->kv_n == s->kv_cap) {
		uint32_t ncap = s->kv_cap ? s->kv_cap * 2 : 32;
		struct sd_kv *p = realloc(s->kv, ncap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		s->kv = p;
		s->kv_cap = ncap;
	}
	s->kv[s->kv_n++] = (struct sd_kv){ k, v, (uint32_t)kl, (uint32_t)vl };
	return 0;
}

/* Pushes the allowed labels l[0..n). */
static int kv_push_labels(struct sink_statsd *s, const struct hc_label *l, uint32_t n)
{
	int rc = 0;

	for (uint32_t i = 0; i < n && rc == 0; i++) {
		size_t kl = strlen(l[i].key);

		if (label_allowed(s, l[i].key, kl))
			rc = kv_push(s, l[i].key, kl, l[i].value, strlen(l[i].value));
	}
	return rc;
}

/* Pushes the pairs of a "k:v,k:v" user label string (Heapster's parsing). */
static int kv_push_user(struct sink_statsd *s, const char *str)
{
	int rc = 0;

	while (str != NULL && *str != '\0' && rc == 0) {
		size_t len = strcspn(str, ","), kl = strcspn(str, ":");

		if (kl < len) {
			const char *v = str + kl + 1;
			size_t vl = strcspn(v, ":,");

			rc = kv_push(s, str, kl, v, vl);
		}
		str += len;
		if (*str == ',')
			str++;
	}
	return rc;
}

static int kv_cmp(const struct sd_kv *a, const struct sd_kv *b)
{
	uint32_t n = a->kl < b->kl ? a->kl : b->kl;
	int c = memcmp(a->k, b->k, n);

	return c ? c : (a->kl < b->kl ? -1 : a->kl > b->kl);
}

/* Sorts kv[from..kv_n) by key (stable), keeping the last of equal keys. */
static void kv_sort(struct sink_statsd *s, uint32_t from)
{
	uint32_t o = from;

	for (uint32_t i = from + 1; i < s->kv_n; i++) {
		struct sd_kv x = s->kv[i];
		uint32_t j = i;

		while (j > from && kv_cmp(&s->kv[j - 1], &x) > 0) {
			s->kv[j] = s->kv[j - 1];
			j--;
		}
		s->kv[j] = x;
	}
	for (uint32_t i = from; i < s->kv_n; i++) {
		if (i + 1 < s->kv_n && kv_cmp(&s->kv[i], &s->kv[i + 1]) == 0)
			continue;
		s->kv[o++] = s->kv[i];
	}
	s->kv_n = o;
}

/* The value of label `key` among kv[0..n), or NULL (the last one wins). */
static const char *kv_get(const struct sink_statsd *s, uint32_t n, const char *key)
{
	const char *v = NULL;

	for (uint32_t i = 0; i < n; i++)
		if (strlen(key) == s->kv[i].kl && memcmp(s->kv[i].k, key, s->kv[i].kl) == 0)
			v = s->kv[i].v;
	return v;
}

/* ---- etsystatsd --------------------------------------------------------- */

/* Appends "C." for a path component (escaped, "" allowed as Heapster). */
static int put_part(struct sink_statsd *s, struct exp_buf *b, const char *lit, const char *v)
{
	int rc = put_lit(b, lit);

	if (rc == 0)
		rc = put_esc_z(s, b, v);
	if (rc == 0)
		rc = put_lit(b, ".");
	return rc;
}

/* Builds s->sethead for set si in etsystatsd: the path up to the metric. */
static int etsy_set(struct sink_statsd *s, const struct hc_batch *b, uint32_t si)
{
	const struct hc_set *set = &b->sets[si];
	struct exp_buf *o = &s->sethead;
	const char *type, *host, *user;
	uint32_t n, first;
	int rc = 0;

	s->kv_n = 0;
	rc = kv_push_labels(s, &b->labels[set->labels_off], set->labels_n);
	if (rc != 0)
		return rc;
	n = s->kv_n;
	type = kv_get(s, n, HC_L_TYPE);
	host = kv_get(s, n, HC_L_HOSTNAME);
	if (host == NULL || host[0] == '\0')
		host = kv_get(s, n, HC_L_NODENAME);
	user = kv_get(s, n, HC_L_LABELS);
	o->len = 0;
	s->set_ok = 1;
	if (s->prefix[0] != '\0') {
		rc = put_esc_z(s, o, s->prefix);
		if (rc == 0)
			rc = put_lit(o, ".");
	}
	if (rc != 0)
		return rc;
	if (type == NULL) {
		s->set_ok = 0;
	} else if (strcmp(type, HC_TYPE_POD_CONTAINER) == 0 || strcmp(type, HC_TYPE_POD) == 0) {
		rc = put_part(s, o, "node.", host);
		if (rc == 0)
			rc = put_part(s, o, "namespace.", kv_get(s, n, HC_L_NAMESPACE_NAME));
		if (rc == 0)
			rc = put_part(s, o, "pod.", kv_get(s, n, HC_L_POD_NAME));
		if (rc == 0 && type[3] == '_')
			rc = put_part(s, o, "container.", kv_get(s, n, HC_L_CONTAINER_NAME));
	} else if (strcmp(type, HC_TYPE_SYS_CONTAINER) == 0) {
		rc = put_part(s, o, "node.", host);
		if (rc == 0)
			rc = put_part(s, o, "sys-container.", kv_get(s, n, HC_L_CONTAINER_NAME));
	} else if (strcmp(type, HC_TYPE_NODE) == 0) {
		rc = put_part(s, o, "node.", host);
	} else if (strcmp(type, HC_TYPE_NS) == 0) {
		rc = put_part(s, o, "namespace.", kv_get(s, n, HC_L_NAMESPACE_NAME));
	} else if (strcmp(type, HC_TYPE_CLUSTER) == 0) {
		rc = put_lit(o, "cluster.");
	} else {
		s->set_ok = 0;
	}
	if (rc != 0 || user == NULL || user[0] == '\0')
		return rc;
	/* the user labels, sorted by key, empty values left out */
	first = s->kv_n;
	rc = kv_push_user(s, user);
	if (rc != 0)
		return rc;
	kv_sort(s, first);
	for (uint32_t i = first; i < s->kv_n && rc == 0; i++) {
		if (s->kv[i].vl == 0)
			continue;
		rc = put_label_name(s, o, s->kv[i].k, s->kv[i].kl);
		if (rc == 0)
			rc = put_lit(o, ".");
		if (rc == 0)
			rc = put_esc(s, o, s->kv[i].v, s->kv[i].vl);
		if (rc == 0)
			rc = put_lit(o, ".");
	}
	return rc;
}

/* A labeled value's id (resource_id, else accelerator_id), allowed ones only. */
static const char *value_id(const struct sink_statsd *s, const struct hc_batch *b,
			    const struct hc_value *v)
{
	const struct hc_label *l = &b->labels[v->labels_off];
	const char *acc = NULL;

	for (uint32_t i = 0; i < v->labels_n; i++) {
		if (!label_allowed(s, l[i].key, strlen(l[i].key)))
			continue;
		if (strcmp(l[i].key, HC_L_RESOURCE_ID) == 0)
			return l[i].value;
		if (strcmp(l[i].key, "accelerator_id") == 0)
			acc = l[i].value;
	}
	return acc;
}

/* ---- influxstatsd ------------------------------------------------------- */

/*
 * Writes ",k=v..." into o: the set's allowed labels but `labels`, the
 * value's (if v), then the user labels, sorted, last of a key winning.
 */
static int influx_tags(struct sink_statsd *s, const struct hc_batch *b, uint32_t si,
		       const struct hc_value *v, struct exp_buf *o)
{
	const struct hc_set *set = &b->sets[si];
	const char *user;
	int rc;

	s->kv_n = 0;
	rc = kv_push_labels(s, &b->labels[set->labels_off], set->labels_n);
	if (rc == 0 && v != NULL)
		rc = kv_push_labels(s, &b->labels[v->labels_off], v->labels_n);
	if (rc != 0)
		return rc;
	user = kv_get(s, s->kv_n, HC_L_LABELS);
	if (user != NULL)
		rc = kv_push_user(s, user);
	if (rc != 0)
		return rc;
	kv_sort(s, 0);
	o->len = 0;
	for (uint32_t i = 0; i < s->kv_n && rc == 0; i++) {
		const struct sd_kv *kv = &s->kv[i];

		if (kv->vl == 0 || (kv->kl == strlen(HC_L_LABELS) &&
				    memcmp(kv->k, HC_L_LABELS, kv->kl) == 0))
			continue;
		rc = put_lit(o, ",");
		if (rc == 0)
			rc = put_label_name(s, o, kv->k, kv->kl);
		if (rc == 0)
			rc = put_lit(o, "=");
		if (rc == 0)
			rc = put_esc(s, o, kv->v, kv->vl);
	}
	return rc;
}

/* ---- format ------------------------------------------------------------- */

/* Escaped metric names (influx: with the prefix glued in front). */
static int build_names(struct sink_statsd *s, const struct hc_batch *b)
{
	uint32_t ncap = s->names_cap;
	int rc = 0;

	rc = exp_array_grow(&s->noff, &ncap, b->nnames, sizeof(*s->noff));
	if (rc == 0)
		rc = exp_array_grow(&s->nlen, &s->names_cap, b->nnames, sizeof(*s->nlen));
	if (rc != 0)
		return rc;
	s->ntext.len = 0;
	for (uint32_t i = 0; i < b->nnames && rc == 0; i++) {
		s->noff[i] = (uint32_t)s->ntext.len;
		if (s->influx)
			rc = put_esc_z(s, &s->ntext, s->prefix);
		if (rc == 0)
			rc = put_esc_z(s, &s->ntext, b->names[i]);
		s->nlen[i] = (uint32_t)(s->ntext.len - s->noff[i]);
	}
	return rc;
}

/* Appends one line: head, name, [".ID"], tail, ":V|g\n". */
static int put_line(struct sink_statsd *s, struct exp_out *out, uint32_t name,
		    const char *id, const struct exp_buf *tail, const struct hc_value *v)
{
	char num[40];
	size_t n, idl = id ? strlen(id) : 0;
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
	rc = exp_buf_reserve(&out->buf, s->sethead.len + s->nlen[name] + idl + 1 +
			     tail->len + n + 4);
	if (rc != 0)
		return rc;
	p = out->buf.data + out->buf.len;
	if (s->sethead.len) {
		memcpy(p, s->sethead.data, s->sethead.len);
		p += s->sethead.len;
	}
	memcpy(p, s->ntext.data + s->noff[name], s->nlen[name]);
	p += s->nlen[name];
	out->buf.len = (size_t)(p - out->buf.data);
	if (id != NULL) {
		out->buf.data[out->buf.len++] = '.';
		rc = put_esc(s, &out->buf, id, idl);
		if (rc != 0)
			return rc;
	}
	p = out->buf.data + out->buf.len;
	if (tail->len) {
		memcpy(p, tail->data, tail->len);
		p += tail->len;
	}
	*p++ = ':';
	memcpy(p, num, n);
	p += n;
	memcpy(p, "|g\n", 3);
	p += 3;
	out->buf.len = (size_t)(p - out->buf.data);
	out->points++;
	out->open_points++;
	return 0;
}

static int sink_statsd_format(void *state, const struct hc_batch *b,
			      uint32_t *pos, struct exp_out *out)
{
	struct sink_statsd *s = state;
	uint32_t cur = UINT32_MAX, i;
	int rc;

	rc = build_names(s, b);
	if (rc != 0)
		return rc;
	s->sethead.len = 0;
	for (i = *pos; i < b->nvals; i++) {
		const struct hc_value *v = &b->vals[i];

		if (v->set != cur) {
			rc = s->influx ? influx_tags(s, b, v->set, NULL, &s->settail)
				       : etsy_set(s, b, v->set);
			if (rc != 0)
				return rc;
			cur = v->set;
		}
		if (s->influx) {
			if (v->labels_n) {
				rc = influx_tags(s, b, v->set, v, &s->valtail);
				if (rc == 0)
					rc = put_line(s, out, v->name, NULL, &s->valtail, v);
			} else {
				rc = put_line(s, out, v->name, NULL, &s->settail, v);
			}
		} else if (!s->set_ok) {
			out->skipped++;
		} else {
			rc = put_line(s, out, v->name, v->labels_n ? value_id(s, b, v) : NULL,
				      &s->valtail, v);
		}
		if (rc != 0)
			return rc;
		if (out->open_points == (uint32_t)s->per_msg) {
			rc = exp_out_cut(out);
			if (rc != 0)
				return rc;
			if (out->nchunks >= SINK_STATSD_WINDOW) {
				i++;
				break;
			}
		}
	}
	*pos = i;
	return exp_out_cut(out);
}

/* ---- options ------------------------------------------------------------ */

/* Splits buf in place at ',' into items (empty ones dropped). */
static int split_list(char *buf, const char **items, int max)
{
	int n = 0;

	for (char *tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (n == max)
			return -1;
		items[n++] = tok;
	}
	return n;
}

static void sink_statsd_close(void *state);

static int sink_statsd_init(const struct hc_uri *u, void **state)
{
	struct sink_statsd *s;
	const char *proto, *style;
	int64_t per;
	int rc;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->fd = -1;
	exp_buf_init(&s->ntext);
	exp_buf_init(&s->sethead);
	exp_buf_init(&s->settail);
	exp_buf_init(&s->valtail);
	exp_buf_init(&s->scratch);
	s->rl = (struct hc_ratelimit)HC_RATELIMIT_INIT(60000, 10);
	rc = exp_opt_str(u, "statsd sink", "prefix", "", s->prefix, sizeof(s->prefix));
	if (rc == 0)
		rc = exp_opt_str(u, "statsd sink", "allowedLabels", "", s->allowed_buf,
				 sizeof(s->allowed_buf));
	if (rc == 0)
		rc = exp_opt_str(u, "statsd sink", "renameLabels", "", s->rename_buf,
				 sizeof(s->rename_buf));
	if (rc != 0)
		goto free_state;
	rc = HC_ERR_CONFIG;
	proto = hc_uri_opt(u, "protocolType");
	if (proto == NULL || strcasecmp(proto, "etsystatsd") == 0) {
		s->influx = 0;
	} else if (strcasecmp(proto, "influxstatsd") == 0) {
		s->influx = 1;
	} else {
		hc_error("statsd sink: protocolType must be etsystatsd or influxstatsd");
		goto free_state;
	}
	if (hc_uri_opt_int(u, "numMetricsPerMsg", 5, &per) != 0 || per < 1 || per > 1000) {
		hc_error("statsd sink: numMetricsPerMsg must be 1..1000");
		goto free_state;
	}
	s->per_msg = (int)per;
	style = hc_uri_opt(u, "labelStyle");
	if (style == NULL) {
		s->style = SD_STYLE_NONE;
	} else if (strcmp(style, "lowerCamelCase") == 0) {
		s->style = SD_STYLE_LOWER;
	} else if (strcmp(style, "upperCamelCase") == 0) {
		s->style = SD_STYLE_UPPER;
	} else {
		hc_error("statsd sink: labelStyle must be lowerCamelCase or upperCamelCase");
		goto free_state;
	}
	s->nallowed = split_list(s->allowed_buf, s->allowed, SD_MAX_OPT_ITEMS);
	if (s->nallowed < 0) {
		hc_error("statsd sink: at most %d allowedLabels", SD_MAX_OPT_ITEMS);
		goto free_state;
	}
	{
		const char *items[SD_MAX_OPT_ITEMS];
		int n = split_list(s->rename_buf, items, SD_MAX_OPT_ITEMS);

		if (n < 0) {
			hc_error("statsd sink: at most %d renameLabels", SD_MAX_OPT_ITEMS);
			goto free_state;
		}
		for (int i = 0; i < n; i++) {
			char *colon = strchr(items[i], ':');

			if (colon == NULL) {
				hc_error("statsd sink: renameLabels takes old:new pairs");
				goto free_state;
			}
			*colon = '\0';
			s->ren_from[s->nrename] = items[i];
			s->ren_to[s->nrename++] = colon + 1;
		}
	}
	if (u->scheme[0] != '\0' && strcmp(u->scheme, "udp") != 0) {
		hc_error("statsd sink: the URL must be udp://host:port");
		goto free_state;
	}
	if (u->url[0] != '\0' && u->scheme[0] == '\0') {
		/* Heapster took "statsd:host:port" too */
		const char *colon = strrchr(u->url, ':');

		snprintf(s->host, sizeof(s->host), "%.*s",
			 (int)(colon ? (size_t)(colon - u->url) : strlen(u->url)), u->url);
		s->port = colon ? atoi(colon + 1) : 0;
	} else {
		snprintf(s->host, sizeof(s->host), "%s", u->host);
		s->port = u->port;
	}
	if (s->host[0] == '\0')
		strcpy(s->host, "localhost");
	if (s->port <= 0 || s->port > 65535)
		s->port = 8125;
	*state = s;
	return 0;

free_state:
	sink_statsd_close(s);
	return rc;
}

/* ---- transport ---------------------------------------------------------- */

static int sink_statsd_send(void *state, struct exp_out *out)
{
	struct sink_statsd *s = state;
	int rc;

	if (out->nchunks == 0)
		return 0;
	rc = exp_net_send_udp(s->host, s->port, &s->fd, out);
	if (rc == 0)
		return 0;
	if (hc_ratelimit_ok(&s->rl))
		hc_warn("statsd sink: udp://%s:%d: %s", s->host, s->port, hc_strerror(rc));
	return rc;
}

static void sink_statsd_close(void *state)
{
	struct sink_statsd *s = state;

	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->noff);
	free(s->nlen);
	free(s->kv);
	exp_buf_free(&s->ntext);
	exp_buf_free(&s->sethead);
	exp_buf_free(&s->settail);
	exp_buf_free(&s->valtail);
	exp_buf_free(&s->scratch);
	free(s);
}

const struct exp_sink_ops sink_statsd_ops = {
	.kind = "statsd",
	.init = sink_statsd_init,
	.format = sink_statsd_format,
	.send = sink_statsd_send,
	.close = sink_statsd_close,
};
