/*
 * api_util.c - request parsing and number formatting for the API server
 * (contract in api_util.h).
 *
 * The model routes are one grammar over Heapster's entity hierarchy:
 * cluster > nodes > free (system) containers, cluster > namespaces >
 * pods > containers, and cluster > namespaces > workloads (deployments,
 * statefulsets, ...).  api_levels[] describes it once (the path word that
 * lists a level's children, the key tag of a child, its parent); the
 * parser walks the path segments down that table, building the entity key
 * as it goes, until it meets "metrics" (names or one metric), a level word
 * with nothing after it (a child list), "pod-list" or "debug/allkeys".
 * Adding a level is one table line.  Nothing here allocates: every result
 * lands in the caller's fixed buffers, whose overflow is HC_ERR_TOOBIG.
 *
 * The metrics.k8s.io half (api_resource.c) gets the same treatment: the
 * /apis paths, Kubernetes quantities, Go's duration format (a port of
 * time.Duration.String()), the stored "k:v,..." label lists and
 * Kubernetes selectors.  The selector parser follows apimachinery's
 * labels.Parse: a lexer that splits on whitespace and the symbols
 * , = == != ! ( ), then one requirement per comma; it keeps pointers into
 * the decoded query argument instead of copying.
 *
 * The response cache (api.h tells what its tags mean) is a direct-mapped
 * table: FNV-1a of path and query picks the slot, a put replaces the
 * slot's entry reusing its buffers.  No chains and no LRU: a lookup costs
 * one hash and one compare whether it hits or not, and two hot keys that
 * share a slot only cost each other a recomputation per request.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "api_util.h"

#define API_SEGS_MAX 64

static int api_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int api_pct_decode(const char *src, size_t len, char *dst, size_t cap,
		   size_t *out_len)
{
	size_t o = 0;

	if (cap == 0)
		return HC_ERR_TOOBIG;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return HC_ERR_PARSE;
			hi = api_hex(src[i + 1]);
			lo = api_hex(src[i + 2]);
			if (hi < 0 || lo < 0)
				return HC_ERR_PARSE;
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return HC_ERR_PARSE;
		if (o + 1 >= cap)
			return HC_ERR_TOOBIG;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	if (out_len != NULL)
		*out_len = o;
	return 0;
}

int api_query_get(const char *qs, const char *name, char *dst, size_t cap,
		  size_t *out_len)
{
	size_t nlen = strlen(name);
	const char *p = qs;

	if (qs == NULL)
		return HC_ERR_NOTFOUND;
	while (*p != '\0') {
		const char *amp = strchr(p, '&');
		size_t plen = amp ? (size_t)(amp - p) : strlen(p);

		if (plen > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=')
			return api_pct_decode(p + nlen + 1, plen - nlen - 1, dst,
					      cap, out_len);
		if (plen == nlen && memcmp(p, name, nlen) == 0)
			return api_pct_decode("", 0, dst, cap, out_len);
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return HC_ERR_NOTFOUND;
}

int api_labels_parse(char *s, struct hc_label *labels, uint32_t max,
		     uint32_t *n)
{
	char *p = s;

	*n = 0;
	if (*s == '\0')
		return 0;
	for (;;) {
		char *comma = strchr(p, ',');
		char *colon;

		if (comma != NULL)
			*comma = '\0';
		colon = strchr(p, ':');
		if (colon == NULL || colon == p)
			return HC_ERR_PARSE;
		if (*n >= max)
			return HC_ERR_TOOBIG;
		*colon = '\0';
		labels[*n].key = p;
		labels[*n].value = colon + 1;
		(*n)++;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/* ---- model paths ---------------------------------------------------- */

/* The entity hierarchy of the model API. */
static const struct api_level {
	const char *word;    /* path word listing this level's entities */
	const char *tag;     /* key tag of one of them */
	int         parent;  /* index in api_levels */
} api_levels[] = {
	{ NULL,             "cluster",    -1 },
	{ "nodes",          "node:",       0 },
	{ "freecontainers", "container:",  1 },
	{ "namespaces",     "namespace:",  0 },
	{ "pods",           "pod:",        3 },
	{ "containers",     "container:",  4 },
	/* workloads (beyond Heapster), aggregated by the processor */
	{ "deployments",            "deployment:",            3 },
	{ "replicasets",            "replicaset:",            3 },
	{ "statefulsets",           "statefulset:",           3 },
	{ "daemonsets",             "daemonset:",             3 },
	{ "jobs",                   "job:",                   3 },
	{ "cronjobs",               "cronjob:",               3 },
	{ "replicationcontrollers", "replicationcontroller:", 3 },
};

#define API_LEVEL_NAMESPACE 3

struct api_seg {
	const char *p;
	size_t      len;
};

static int api_seg_is(const struct api_seg *s, const char *word)
{
	size_t wl = strlen(word);

	return s->len == wl && memcmp(s->p, word, wl) == 0;
}

static int api_append(char *buf, size_t cap, size_t *len, const char *s,
		      size_t slen)
{
	if (*len + slen + 1 > cap)
		return HC_ERR_TOOBIG;
	memcpy(buf + *len, s, slen);
	*len += slen;
	buf[*len] = '\0';
	return 0;
}

/* Decodes one entity name: non-empty, no '/' once decoded. */
static int api_name(const struct api_seg *s, char *dst, size_t cap, size_t *len)
{
	int rc = api_pct_decode(s->p, s->len, dst, cap, len);

	if (rc != 0)
		return rc;
	if (*len == 0 || memchr(dst, '/', *len) != NULL)
		return HC_ERR_PARSE;
	return 0;
}

/* "key" + "/" (unless key is the cluster) + tag into out. */
static int api_child_prefix(const struct api_target *t, int level,
			    const char *tag, char *out, size_t *out_len)
{
	int rc = 0;

	*out_len = 0;
	out[0] = '\0';
	if (level != 0) {
		rc = api_append(out, API_KEY_MAX, out_len, t->key, t->key_len);
		if (rc == 0)
			rc = api_append(out, API_KEY_MAX, out_len, "/", 1);
	}
	if (rc == 0)
		rc = api_append(out, API_KEY_MAX, out_len, tag, strlen(tag));
	return rc;
}

/* The metric: everything from segment i to the end, decoded as one. */
static int api_metric(const struct api_seg *segs, int i, int nsegs,
		      const char *end, struct api_target *t)
{
	size_t len;
	int rc;

	if (i >= nsegs)
		return HC_ERR_NOTFOUND;
	rc = api_pct_decode(segs[i].p, (size_t)(end - segs[i].p), t->metric,
			    sizeof(t->metric), &len);
	if (rc != 0)
		return rc;
	return len == 0 ? HC_ERR_NOTFOUND : 0;
}

int api_model_parse(const char *path, size_t len, struct api_target *t)
{
	struct api_seg segs[API_SEGS_MAX];
	const char *end = path + len;
	int nsegs = 0, level = 0, i = 0, rc;

	memset(t, 0, offsetof(struct api_target, prefix));
	t->prefix[0] = t->metric[0] = t->pods[0] = '\0';
	t->prefix_len = 0;
	if (len == 0 || path[0] != '/')
		return HC_ERR_NOTFOUND;
	if (len > 1 && end[-1] == '/')
		end--;
	for (const char *p = path + 1;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *stop = slash ? slash : end;

		if (nsegs == API_SEGS_MAX)
			return HC_ERR_TOOBIG;
		if (stop == p)
			return HC_ERR_NOTFOUND;   /* empty segment: "//" */
		segs[nsegs].p = p;
		segs[nsegs].len = (size_t)(stop - p);
		nsegs++;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	memcpy(t->key, "cluster", 8);
	t->key_len = 7;
	if (nsegs == 2 && api_seg_is(&segs[0], "debug") &&
	    api_seg_is(&segs[1], "allkeys")) {
		t->op = API_OP_ALLKEYS;
		return 0;
	}
	while (i < nsegs) {
		int child = -1;

		if (api_seg_is(&segs[i], "metrics")) {
			if (i + 1 == nsegs) {
				t->op = API_OP_NAMES;
				return 0;
			}
			t->op = API_OP_SERIES;
			return api_metric(segs, i + 1, nsegs, end, t);
		}
		if (level == API_LEVEL_NAMESPACE &&
		    api_seg_is(&segs[i], "pod-list")) {
			size_t plen;

			if (i + 3 >= nsegs)
				return HC_ERR_NOTFOUND;
			if (!api_seg_is(&segs[i + 2], "metrics"))
				return HC_ERR_NOTFOUND;
			rc = api_pct_decode(segs[i + 1].p, segs[i + 1].len, t->pods,
					    sizeof(t->pods), &plen);
			if (rc != 0)
				return rc;
			if (memchr(t->pods, '/', plen) != NULL)
				return HC_ERR_PARSE;
			t->op = API_OP_PODLIST;
			return api_metric(segs, i + 3, nsegs, end, t);
		}
		for (size_t l = 0; l < HC_ARRAY_LEN(api_levels); l++)
			if (api_levels[l].parent == level && api_levels[l].word &&
			    api_seg_is(&segs[i], api_levels[l].word))
				child = (int)l;
		if (child < 0)
			return HC_ERR_NOTFOUND;
		rc = api_child_prefix(t, level, api_levels[child].tag, t->prefix,
				      &t->prefix_len);
		if (rc != 0)
			return rc;
		if (i + 1 == nsegs) {
			t->op = API_OP_LIST;
			if (level == 0) {
				t->key[0] = '\0';
				t->key_len = 0;
			}
			return 0;
		}
		/* enter the child: key = prefix + decoded name */
		{
			char name[API_KEY_MAX];
			size_t nlen;

			rc = api_name(&segs[i + 1], name, sizeof(name), &nlen);
			if (rc != 0)
				return rc;
			memcpy(t->key, t->prefix, t->prefix_len + 1);
			t->key_len = t->prefix_len;
			rc = api_append(t->key, sizeof(t->key), &t->key_len, name, nlen);
			if (rc != 0)
				return rc;
			t->prefix[0] = '\0';
			t->prefix_len = 0;
		}
		level = child;
		i += 2;
	}
	/* a bare entity ("/nodes/n1"): Heapster has no such route */
	return HC_ERR_NOTFOUND;
}

/* ---- numbers and strings --------------------------------------------- */

size_t api_fmt_int(int64_t v, char *buf)
{
	char tmp[21];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, o = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		buf[o++] = '-';
	while (n > 0)
		buf[o++] = tmp[--n];
	buf[o] = '\0';
	return o;
}

/* Two decimal digits of v (0-99) at p. */
static void api_put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

size_t api_fmt_time(int64_t ms, char *buf)
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t sod = secs - days * 86400;
	/* civil_from_days (H. Hinnant), days since 1970-01-01 */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);

	if (y < 0 || y > 9999)
		return 0;
	api_put2(buf, (unsigned)(y / 100));
	api_put2(buf + 2, (unsigned)(y % 100));
	buf[4] = '-';
	api_put2(buf + 5, m);
	buf[7] = '-';
	api_put2(buf + 8, d);
	buf[10] = 'T';
	api_put2(buf + 11, (unsigned)(sod / 3600));
	buf[13] = ':';
	api_put2(buf + 14, (unsigned)(sod / 60 % 60));
	buf[16] = ':';
	api_put2(buf + 17, (unsigned)(sod % 60));
	buf[19] = 'Z';
	buf[20] = '\0';
	return 20;
}

size_t api_fmt_double(double v, char *buf)
{
	int n = 0;

	if (!isfinite(v)) {
		memcpy(buf, "null", 5);
		return 4;
	}
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return (size_t)n;
}

int64_t api_float_to_int(double v)
{
	if (isnan(v))
		return 0;
	if (v >= 9223372036854775807.0)
		return INT64_MAX;
	if (v <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)v;
}

size_t api_json_escape(const char *src, size_t len, char *dst)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		switch (c) {
		case '"':  dst[o++] = '\\'; dst[o++] = '"'; break;
		case '\\': dst[o++] = '\\'; dst[o++] = '\\'; break;
		case '\n': dst[o++] = '\\'; dst[o++] = 'n'; break;
		case '\r': dst[o++] = '\\'; dst[o++] = 'r'; break;
		case '\t': dst[o++] = '\\'; dst[o++] = 't'; break;
		default:
			if (c < 0x20) {
				memcpy(dst + o, "\\u00", 4);
				dst[o + 4] = hex[c >> 4];
				dst[o + 5] = hex[c & 15];
				o += 6;
			} else {
				dst[o++] = (char)c;
			}
		}
	}
	return o;
}

/* ---- metrics.k8s.io paths ---------------------------------------------- */

#define API_GROUP         "metrics.k8s.io"
#define API_VERSION       "v1beta1"
#define API_LEGACY_GROUP  "metrics"
#define API_LEGACY_VER    "v1alpha1"

/* Decodes one object name into dst (API_NAME_MAX): non-empty, no '/'. */
static int api_res_name(const struct api_seg *s, char *dst, size_t *len)
{
	return api_name(s, dst, API_NAME_MAX, len);
}

int api_res_parse(const char *path, size_t len, struct api_res_target *t)
{
	struct api_seg segs[8];
	const char *end = path + len;
	int nsegs = 0, i;

	t->op = API_RES_GROUPS;
	t->legacy = 0;
	t->ns[0] = t->name[0] = '\0';
	t->ns_len = t->name_len = 0;
	if (len < 5 || memcmp(path, "/apis", 5) != 0)
		return HC_ERR_NOTFOUND;
	path += 5;
	if (path < end && end[-1] == '/')
		end--;
	if (path < end && path[0] != '/')
		return HC_ERR_NOTFOUND;   /* "/apisx" */
	while (path < end) {
		const char *p = path + 1;
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *stop = slash ? slash : end;

		if (stop == p || nsegs == (int)HC_ARRAY_LEN(segs))
			return HC_ERR_NOTFOUND;
		segs[nsegs].p = p;
		segs[nsegs].len = (size_t)(stop - p);
		nsegs++;
		path = stop;
	}
	if (nsegs == 0)
		return 0;
	if (api_seg_is(&segs[0], API_GROUP)) {
		if (nsegs == 1) {
			t->op = API_RES_GROUP;
			return 0;
		}
		if (!api_seg_is(&segs[1], API_VERSION))
			return HC_ERR_NOTFOUND;
		if (nsegs == 2) {
			t->op = API_RES_RESOURCES;
			return 0;
		}
	} else if (api_seg_is(&segs[0], API_LEGACY_GROUP) && nsegs > 2 &&
		   api_seg_is(&segs[1], API_LEGACY_VER)) {
		t->legacy = 1;
	} else {
		return HC_ERR_NOTFOUND;
	}
	i = 2;
	if (api_seg_is(&segs[i], "nodes")) {
		if (nsegs == i + 1) {
			t->op = API_RES_NODES;
			return 0;
		}
		if (nsegs != i + 2)
			return HC_ERR_NOTFOUND;
		t->op = API_RES_NODE;
		return api_res_name(&segs[i + 1], t->name, &t->name_len);
	}
	if (api_seg_is(&segs[i], "pods")) {
		if (nsegs != i + 1)
			return HC_ERR_NOTFOUND;   /* a pod needs its namespace */
		t->op = API_RES_PODS;
		return 0;
	}
	if (!api_seg_is(&segs[i], "namespaces") || nsegs < i + 3 ||
	    nsegs > i + 4 || !api_seg_is(&segs[i + 2], "pods"))
		return HC_ERR_NOTFOUND;
	{
		int rc = api_res_name(&segs[i + 1], t->ns, &t->ns_len);

		if (rc != 0)
			return rc;
	}
	if (nsegs == i + 3) {
		t->op = API_RES_PODS;
		return 0;
	}
	t->op = API_RES_POD;
	return api_res_name(&segs[i + 3], t->name, &t->name_len);
}

/* ---- quantities and durations ------------------------------------------ */

size_t api_fmt_cpu_quantity(int64_t nanocores, char *buf)
{
	size_t n = api_fmt_int(nanocores, buf);

	if (nanocores == 0)
		return n;
	buf[n++] = 'n';
	buf[n] = '\0';
	return n;
}

size_t api_fmt_mem_quantity(int64_t bytes, char *buf)
{
	size_t n;

	if (bytes == 0 || bytes % 1024 != 0)
		return api_fmt_int(bytes, buf);
	n = api_fmt_int(bytes / 1024, buf);
	buf[n++] = 'K';
	buf[n++] = 'i';
	buf[n] = '\0';
	return n;
}

/*
 * Go's fmtFrac: the prec low decimal digits of v as ".ddd" (trailing zeros
 * and, when all are zero, the point omitted) written backwards ending at
 * buf[w]; returns the new w and leaves v / 10^prec in *v.
 */
static size_t api_go_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	int print = 0;

	for (int i = 0; i < prec; i++) {
		unsigned digit = (unsigned)(*v % 10);

		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

/* Go's fmtInt: v in decimal, written backwards ending at buf[w]. */
static size_t api_go_int(char *buf, size_t w, uint64_t v)
{
	do {
		buf[--w] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return w;
}

size_t api_fmt_go_duration(int64_t ns, char *buf)
{
	char tmp[32];
	size_t w = sizeof(tmp), n;
	uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	if (u < 1000000000ull) {
		/* below a second: the largest unit that keeps an integer part */
		int prec;

		tmp[--w] = 's';
		if (u == 0) {
			tmp[--w] = '0';
			goto copy;
		}
		if (u < 1000ull) {
			prec = 0;
			tmp[--w] = 'n';
		} else if (u < 1000000ull) {
			prec = 3;
			tmp[--w] = '\xb5';   /* U+00B5 MICRO SIGN, as Go writes it */
			tmp[--w] = '\xc2';
		} else {
			prec = 6;
			tmp[--w] = 'm';
		}
		w = api_go_frac(tmp, w, &u, prec);
		w = api_go_int(tmp, w, u);
	} else {
		tmp[--w] = 's';
		w = api_go_frac(tmp, w, &u, 9);
		w = api_go_int(tmp, w, u % 60);   /* u: whole seconds */
		u /= 60;
		if (u > 0) {
			tmp[--w] = 'm';
			w = api_go_int(tmp, w, u % 60);
			u /= 60;
			if (u > 0) {
				tmp[--w] = 'h';
				w = api_go_int(tmp, w, u);
			}
		}
	}
	if (ns < 0)
		tmp[--w] = '-';
copy:
	n = sizeof(tmp) - w;
	memcpy(buf, tmp + w, n);
	buf[n] = '\0';
	return n;
}

/* ---- label lists and selectors ----------------------------------------- */

int api_klabels_next(const char *s, size_t len, size_t *pos,
		     const char **key, size_t *key_len,
		     const char **val, size_t *val_len)
{
	const char *p, *end = s + len, *comma, *colon;

	while (*pos < len && s[*pos] == ',')
		(*pos)++;   /* tolerate empty pairs */
	if (*pos >= len)
		return 0;
	p = s + *pos;
	comma = memchr(p, ',', (size_t)(end - p));
	if (comma == NULL)
		comma = end;
	colon = memchr(p, ':', (size_t)(comma - p));
	*key = p;
	if (colon == NULL) {
		*key_len = (size_t)(comma - p);
		*val = comma;
		*val_len = 0;
	} else {
		*key_len = (size_t)(colon - p);
		*val = colon + 1;
		*val_len = (size_t)(comma - colon - 1);
	}
	*pos = (size_t)(comma - s);
	return 1;
}

/* Value of key in a "k:v,..." list: 1 and *val, or 0. */
static int api_klabels_get(const char *s, size_t len, const char *key,
			   size_t key_len, const char **val, size_t *val_len)
{
	const char *k;
	size_t kl, pos = 0;

	while (api_klabels_next(s, len, &pos, &k, &kl, val, val_len) == 1)
		if (kl == key_len && memcmp(k, key, kl) == 0)
			return 1;
	return 0;
}

enum api_tok {
	API_T_END = 0, API_T_IDENT, API_T_COMMA, API_T_EQ, API_T_DEQ, API_T_NEQ,
	API_T_BANG, API_T_OPEN, API_T_CLOSE, API_T_BAD,
};

struct api_lex {
	const char *s;
	size_t      len, pos;
	const char *tok;      /* the last identifier */
	size_t      tok_len;
};

/* Kubernetes' selector lexer: whitespace separates, these are symbols. */
static int api_sel_special(char c)
{
	return c == ',' || c == '=' || c == '!' || c == '(' || c == ')' ||
	       c == '<' || c == '>';
}

static int api_sel_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static enum api_tok api_lex_next(struct api_lex *l)
{
	const char *s = l->s;
	char c;

	while (l->pos < l->len && api_sel_space(s[l->pos]))
		l->pos++;
	if (l->pos >= l->len)
		return API_T_END;
	c = s[l->pos++];
	switch (c) {
	case ',': return API_T_COMMA;
	case '(': return API_T_OPEN;
	case ')': return API_T_CLOSE;
	case '<': case '>': return API_T_BAD;   /* gt, lt: not supported */
	case '=':
		if (l->pos < l->len && s[l->pos] == '=') {
			l->pos++;
			return API_T_DEQ;
		}
		return API_T_EQ;
	case '!':
		if (l->pos < l->len && s[l->pos] == '=') {
			l->pos++;
			return API_T_NEQ;
		}
		return API_T_BANG;
	default:
		break;
	}
	l->tok = s + l->pos - 1;
	while (l->pos < l->len && !api_sel_space(s[l->pos]) &&
	       !api_sel_special(s[l->pos]))
		l->pos++;
	l->tok_len = (size_t)(s + l->pos - l->tok);
	return API_T_IDENT;
}

static int api_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* A label name or value: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, <= 63. */
static int api_label_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !api_alnum(s[0]) || !api_alnum(s[len - 1]))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!api_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* A label key: optional DNS-1123 subdomain prefix and '/', then a name. */
static int api_label_key_ok(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	size_t plen;

	if (slash == NULL)
		return api_label_name_ok(s, len);
	plen = (size_t)(slash - s);
	if (plen == 0 || plen > 253 || !api_alnum(s[0]) || !api_alnum(s[plen - 1]))
		return 0;
	for (size_t i = 0; i < plen; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '.'))
			return 0;
	return api_label_name_ok(slash + 1, len - plen - 1);
}

static int api_sel_value_ok(const char *s, size_t len, unsigned flags)
{
	if (flags & API_SEL_FIELDS)
		return len <= 253;
	return len == 0 || api_label_name_ok(s, len);
}

static int api_sel_key_ok(const char *s, size_t len, unsigned flags)
{
	if (flags & API_SEL_FIELDS)
		return len > 0 && len <= 316;
	return api_label_key_ok(s, len);
}

/* The value set of "in (...)" / "notin (...)", after the '('. */
static int api_sel_set(struct api_lex *l, struct api_sel_req *r,
		       unsigned flags)
{
	for (;;) {
		enum api_tok t = api_lex_next(l);
		struct api_sel_str v = { "", 0 };

		if (t == API_T_IDENT) {
			v.p = l->tok;
			v.len = (uint32_t)l->tok_len;
			t = api_lex_next(l);
		} else if (t != API_T_COMMA && t != API_T_CLOSE) {
			return HC_ERR_PARSE;
		} else if (t == API_T_CLOSE && r->nvals == 0) {
			return HC_ERR_PARSE;   /* "in ()": an empty set */
		}
		if (!api_sel_value_ok(v.p, v.len, flags))
			return HC_ERR_PARSE;
		if (r->nvals == API_SEL_VALS_MAX)
			return HC_ERR_TOOBIG;
		r->vals[r->nvals++] = v;
		if (t == API_T_CLOSE)
			return 0;
		if (t != API_T_COMMA)
			return HC_ERR_PARSE;
	}
}

int api_selector_parse(const char *s, size_t len, unsigned flags,
		       struct api_selector *sel)
{
	struct api_lex l = { s, len, 0, NULL, 0 };
	enum api_tok t;
	int rc;

	sel->n = 0;
	t = api_lex_next(&l);
	if (t == API_T_END)
		return 0;   /* empty: everything */
	for (;;) {
		struct api_sel_req *r;

		if (sel->n == API_SEL_MAX)
			return HC_ERR_TOOBIG;
		r = &sel->reqs[sel->n];
		r->nvals = 0;
		if (t == API_T_BANG) {
			if (flags & API_SEL_FIELDS || api_lex_next(&l) != API_T_IDENT)
				return HC_ERR_PARSE;
			r->op = API_SEL_NOTEXISTS;
			r->key.p = l.tok;
			r->key.len = (uint32_t)l.tok_len;
			t = api_lex_next(&l);
		} else if (t == API_T_IDENT) {
			r->key.p = l.tok;
			r->key.len = (uint32_t)l.tok_len;
			t = api_lex_next(&l);
			if (t == API_T_END || t == API_T_COMMA) {
				if (flags & API_SEL_FIELDS)
					return HC_ERR_PARSE;
				r->op = API_SEL_EXISTS;
			} else if (t == API_T_EQ || t == API_T_DEQ || t == API_T_NEQ) {
				r->op = t == API_T_NEQ ? API_SEL_NE : API_SEL_EQ;
				r->vals[0].p = "";
				r->vals[0].len = 0;
				r->nvals = 1;
				t = api_lex_next(&l);
				if (t == API_T_IDENT) {
					r->vals[0].p = l.tok;
					r->vals[0].len = (uint32_t)l.tok_len;
					t = api_lex_next(&l);
				}
				if (!api_sel_value_ok(r->vals[0].p, r->vals[0].len, flags))
					return HC_ERR_PARSE;
			} else if (t == API_T_IDENT && !(flags & API_SEL_FIELDS) &&
				   ((l.tok_len == 2 && memcmp(l.tok, "in", 2) == 0) ||
				    (l.tok_len == 5 && memcmp(l.tok, "notin", 5) == 0))) {
				r->op = l.tok_len == 2 ? API_SEL_IN : API_SEL_NOTIN;
				if (api_lex_next(&l) != API_T_OPEN)
					return HC_ERR_PARSE;
				rc = api_sel_set(&l, r, flags);
				if (rc != 0)
					return rc;
				t = api_lex_next(&l);
			} else {
				return HC_ERR_PARSE;
			}
		} else {
			return HC_ERR_PARSE;
		}
		if (!api_sel_key_ok(r->key.p, r->key.len, flags))
			return HC_ERR_PARSE;
		sel->n++;
		if (t == API_T_END)
			return 0;
		if (t != API_T_COMMA)
			return HC_ERR_PARSE;
		t = api_lex_next(&l);   /* a trailing ',' fails just below */
		if (t == API_T_END)
			return HC_ERR_PARSE;
	}
}

static int api_sel_in(const struct api_sel_req *r, const char *v, size_t vl)
{
	for (uint32_t i = 0; i < r->nvals; i++)
		if (r->vals[i].len == vl && memcmp(r->vals[i].p, v, vl) == 0)
			return 1;
	return 0;
}

int api_selector_match(const struct api_selector *sel, const char *labels,
		       size_t len)
{
	for (uint32_t i = 0; i < sel->n; i++) {
		const struct api_sel_req *r = &sel->reqs[i];
		const char *v = NULL;
		size_t vl = 0;
		int has = api_klabels_get(labels, len, r->key.p, r->key.len, &v, &vl);
		int ok;

		switch (r->op) {
		case API_SEL_EQ:
		case API_SEL_IN:
			ok = has && api_sel_in(r, v, vl);
			break;
		case API_SEL_NE:
		case API_SEL_NOTIN:
			ok = !has || !api_sel_in(r, v, vl);
			break;
		case API_SEL_EXISTS:
			ok = has;
			break;
		case API_SEL_NOTEXISTS:
		default:
			ok = !has;
			break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* ---- response cache ----------------------------------------------------- */

void api_cache_init(struct api_cache *c, uint32_t nslots, size_t max_body,
		    size_t max_bytes)
{
	memset(c, 0, sizeof(*c));
	c->nslots = nslots;
	c->max_body = max_body;
	c->max_bytes = max_bytes;
}

void api_cache_clear(struct api_cache *c)
{
	for (uint32_t i = 0; c->slots != NULL && i < c->nslots; i++) {
		free(c->slots[i].key);
		free(c->slots[i].body);
		memset(&c->slots[i], 0, sizeof(c->slots[i]));
	}
	c->bytes = 0;
}

void api_cache_free(struct api_cache *c)
{
	api_cache_clear(c);
	free(c->slots);
	c->slots = NULL;
}

/* FNV-1a over path, a separator byte, then query with its NUL. */
uint64_t api_cache_hash(const char *path, const char *query)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xffu) * 1099511628211ull;
	if (query != NULL) {
		for (const char *p = query; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h *= 1099511628211ull;   /* its NUL: no query and "" differ */
	}
	return h ? h : 1;
}

const struct api_cache_ent *api_cache_find(struct api_cache *c, uint64_t h,
					   const char *path, const char *query,
					   const int64_t tag[API_CACHE_TAGS],
					   int64_t now_ms)
{
	size_t plen, qlen;
	struct api_cache_ent *e;

	if (c->slots == NULL)
		return NULL;
	e = &c->slots[h % c->nslots];
	if (e->hash != h || memcmp(e->tag, tag, sizeof(e->tag)) != 0)
		return NULL;
	plen = strlen(path);
	qlen = query ? strlen(query) + 1 : 0;
	if (e->key_len != plen + 1 + qlen || memcmp(e->key, path, plen) != 0 ||
	    e->key[plen] != '\0' ||
	    (qlen > 0 && memcmp(e->key + plen + 1, query, qlen) != 0))
		return NULL;
	if (e->now_off != API_CACHE_NO_NOW) {
		char ts[24];

		if (api_fmt_time(now_ms, ts) != 20)
			return NULL;
		memcpy(e->body + e->now_off, ts, 20);
	}
	return e;
}

/* Grows *buf (capacity *cap) to n bytes within the cache's byte budget. */
static int api_cache_grow(struct api_cache *c, char **buf, uint32_t *cap,
			  size_t n)
{
	char *p;

	if (n <= *cap)
		return 0;
	if (c->bytes - *cap + n > c->max_bytes)
		return HC_ERR_TOOBIG;
	p = realloc(*buf, n);
	if (p == NULL)
		return -ENOMEM;
	c->bytes += n - *cap;
	*buf = p;
	*cap = (uint32_t)n;
	return 0;
}

int api_cache_put(struct api_cache *c, uint64_t h, const char *path,
		  const char *query, const int64_t tag[API_CACHE_TAGS],
		  const void *body, size_t len, uint32_t now_off)
{
	size_t plen = strlen(path), qlen = query ? strlen(query) + 1 : 0;
	struct api_cache_ent *e;
	int rc;

	if (c->nslots == 0 || len > c->max_body || plen + 1 + qlen > c->max_body)
		return HC_ERR_TOOBIG;
	if (now_off != API_CACHE_NO_NOW && (now_off > len || len - now_off < 20))
		return HC_ERR_PARSE;
	if (c->slots == NULL) {
		c->slots = calloc(c->nslots, sizeof(*c->slots));
		if (c->slots == NULL)
			return -ENOMEM;
	}
	e = &c->slots[h % c->nslots];
	e->hash = 0;   /* empty until complete */
	rc = api_cache_grow(c, &e->key, &e->key_cap, plen + 1 + qlen);
	if (rc == 0)
		rc = api_cache_grow(c, &e->body, &e->body_cap, len ? len : 1);
	if (rc != 0)
		return rc;
	memcpy(e->key, path, plen);
	e->key[plen] = '\0';
	if (qlen > 0)
		memcpy(e->key + plen + 1, query, qlen);
	e->key_len = (uint32_t)(plen + 1 + qlen);
	memcpy(e->tag, tag, sizeof(e->tag));
	if (len > 0)
		memcpy(e->body, body, len);
	e->body_len = (uint32_t)len;
	e->now_off = now_off;
	e->hash = h;
	return 0;
}

/* ---- client certificates ---------------------------------------------- */

int api_user_allowed(const char *list, const char *user, size_t len)
{
	const char *p, *end;

	if (len == 0)
		return 0;
	if (list == NULL || *list == '\0')
		return 1;
	for (p = list; *p; p = *end ? end + 1 : end) {
		const char *a = p, *b;

		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		b = end;
		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		if ((size_t)(b - a) == len && memcmp(a, user, len) == 0)
			return 1;
	}
	return 0;
}
