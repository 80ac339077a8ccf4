/*
 * api_util.c - request parsing and number formatting for the API server
 * (contract in api_util.h).
 *
 * The model routes are one grammar over Heapster's entity hierarchy:
 * cluster > nodes > free (system) containers, and cluster > namespaces >
 * pods > containers.  api_levels[] describes it once (the path word that
 * lists a level's children, the key tag of a child, its parent); the
 * parser walks the path segments down that table, building the entity key
 * as it goes, until it meets "metrics" (names or one metric), a level word
 * with nothing after it (a child list), "pod-list" or "debug/allkeys".
 * Adding a level is one table line.  Nothing here allocates: every result
 * lands in the caller's fixed buffers, whose overflow is HC_ERR_TOOBIG.
 */
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
