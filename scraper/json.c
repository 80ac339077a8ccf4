/*
 * json.c - JSON validation, skipping, unescaping and number conversion for
 * the scraper (see json.h for the two-pass design).
 *
 * The validator is a recursive descent over the grammar of RFC 8259 with an
 * explicit depth bound, so hostile nesting costs neither stack nor time.
 * Its inner loops (whitespace, string bodies) run on 256-entry byte class
 * tables.  It accepts any bytes >= 0x80 inside strings (Go's decoder
 * replaces invalid UTF-8 rather than failing, and so does not reject them).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "json.h"

/* Byte classes: 1 = ends a plain run of string bytes ('"', '\\', < 0x20). */
static const uint8_t str_stop[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
	[0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
	[0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
	[0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
	[0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

static const uint8_t is_ws[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1,
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* ---- validation ------------------------------------------------------ */

static inline const char *v_ws(const char *p, const char *end)
{
	while (p < end && is_ws[(unsigned char)*p])
		p++;
	return p;
}

/* p is just past the opening quote; returns just past the closing one. */
static const char *v_string(const char *p, const char *end)
{
	for (;;) {
		while (p < end && !str_stop[(unsigned char)*p])
			p++;
		if (p >= end)
			return NULL;
		if (*p == '"')
			return p + 1;
		if (*p != '\\')
			return NULL;            /* raw control character */
		if (++p >= end)
			return NULL;
		switch (*p) {
		case '"': case '\\': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't':
			p++;
			break;
		case 'u':
			if (end - p < 5 || hexval(p[1]) < 0 || hexval(p[2]) < 0 ||
			    hexval(p[3]) < 0 || hexval(p[4]) < 0)
				return NULL;
			p += 5;
			break;
		default:
			return NULL;
		}
	}
}

static const char *v_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return NULL;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < end && (unsigned)(*p - '0') < 10)
			p++;
	} else {
		return NULL;
	}
	if (p < end && *p == '.') {
		const char *d = ++p;

		while (p < end && (unsigned)(*p - '0') < 10)
			p++;
		if (p == d)
			return NULL;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		const char *d;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		d = p;
		while (p < end && (unsigned)(*p - '0') < 10)
			p++;
		if (p == d)
			return NULL;
	}
	return p;
}

static const char *v_literal(const char *p, const char *end, const char *lit,
			     size_t n)
{
	if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0)
		return NULL;
	return p + n;
}

static const char *v_value(const char *p, const char *end, int depth);

static const char *v_object(const char *p, const char *end, int depth)
{
	p = v_ws(p + 1, end);
	if (p < end && *p == '}')
		return p + 1;
	for (;;) {
		if (p >= end || *p != '"')
			return NULL;
		p = v_string(p + 1, end);
		if (p == NULL)
			return NULL;
		p = v_ws(p, end);
		if (p >= end || *p != ':')
			return NULL;
		p = v_value(v_ws(p + 1, end), end, depth);
		if (p == NULL)
			return NULL;
		p = v_ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == '}')
			return p + 1;
		if (*p != ',')
			return NULL;
		p = v_ws(p + 1, end);
	}
}

static const char *v_array(const char *p, const char *end, int depth)
{
	p = v_ws(p + 1, end);
	if (p < end && *p == ']')
		return p + 1;
	for (;;) {
		p = v_value(p, end, depth);
		if (p == NULL)
			return NULL;
		p = v_ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == ']')
			return p + 1;
		if (*p != ',')
			return NULL;
		p = v_ws(p + 1, end);
	}
}

/* One value starting exactly at p (no leading whitespace). */
static const char *v_value(const char *p, const char *end, int depth)
{
	if (p >= end)
		return NULL;
	switch (*p) {
	case '{':
		if (depth >= SCR_JSON_MAX_DEPTH)
			return NULL;
		return v_object(p, end, depth + 1);
	case '[':
		if (depth >= SCR_JSON_MAX_DEPTH)
			return NULL;
		return v_array(p, end, depth + 1);
	case '"':
		return v_string(p + 1, end);
	case 't':
		return v_literal(p, end, "true", 4);
	case 'f':
		return v_literal(p, end, "false", 5);
	case 'n':
		return v_literal(p, end, "null", 4);
	default:
		return v_number(p, end);
	}
}

/* Whether the (validated) key text k..ke, unescaped, is top_key. */
static int top_key_is(const char *k, const char *ke, const char *top_key, size_t klen)
{
	struct scr_str raw = { k, (uint32_t)(ke - k), 0 };
	char buf[SCR_JSON_KEY_MAX];

	if (memchr(k, '\\', raw.len) == NULL)
		return raw.len == klen && memcmp(k, top_key, klen) == 0;
	raw.esc = 1;
	if (raw.len >= sizeof(buf))
		return 0;
	return scr_json_unescape(&raw, buf, sizeof(buf)) == klen &&
	       memcmp(buf, top_key, klen) == 0;
}

int scr_json_validate(const char *s, size_t len, const char *top_key,
		      char *top_type)
{
	const char *end = s + len, *p;
	size_t klen = top_key ? strlen(top_key) : 0;

	if (top_type)
		*top_type = 0;
	p = v_ws(s, end);
	if (p < end && *p == '{' && top_key != NULL && top_type != NULL) {
		/* the top object by hand, to note the type of member top_key */
		p = v_ws(p + 1, end);
		if (p < end && *p == '}') {
			p++;
			goto trailer;
		}
		for (;;) {
			const char *k, *ke;

			if (p >= end || *p != '"')
				return HC_ERR_PARSE;
			k = p + 1;
			p = v_string(k, end);
			if (p == NULL)
				return HC_ERR_PARSE;
			ke = p - 1;
			p = v_ws(p, end);
			if (p >= end || *p != ':')
				return HC_ERR_PARSE;
			p = v_ws(p + 1, end);
			if (p < end && top_key_is(k, ke, top_key, klen))
				*top_type = *p;
			p = v_value(p, end, 1);
			if (p == NULL)
				return HC_ERR_PARSE;
			p = v_ws(p, end);
			if (p >= end)
				return HC_ERR_PARSE;
			if (*p == '}') {
				p++;
				break;
			}
			if (*p != ',')
				return HC_ERR_PARSE;
			p = v_ws(p + 1, end);
		}
	} else {
		p = v_value(p, end, 0);
		if (p == NULL)
			return HC_ERR_PARSE;
	}
trailer:
	p = v_ws(p, end);
	return p == end ? 0 : HC_ERR_PARSE;
}

/* ---- cursor helpers --------------------------------------------------- */

/* Steps over a string whose opening quote is at p; returns past its end. */
static inline const char *skip_string(const char *p, const char *end)
{
	p++;
	for (;;) {
		while (p < end && !str_stop[(unsigned char)*p])
			p++;
		if (p >= end)
			return end;
		if (*p == '"')
			return p + 1;
		p += *p == '\\' ? 2 : 1;
	}
}

void scr_json_skip(struct scr_json *j)
{
	const char *p, *end = j->end;
	int depth = 0;

	scr_json_ws(j);
	p = j->p;
	if (p >= end)
		return;
	if (*p == '"') {
		j->p = skip_string(p, end);
		return;
	}
	if (*p != '{' && *p != '[') {
		/* a number or a literal: up to the next delimiter */
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
		       !is_ws[(unsigned char)*p])
			p++;
		j->p = p;
		return;
	}
	/* a container: count brackets, stepping over strings whole */
	while (p < end) {
		char c = *p;

		if (c == '"') {
			p = skip_string(p, end);
			continue;
		}
		p++;
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				break;
		}
	}
	j->p = p;
}

/* Appends code point cp as UTF-8; returns the bytes written (1-4). */
static size_t put_utf8(char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | (cp >> 6));
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | (cp >> 12));
		d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | (cp >> 18));
	d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int read_hex4(const char *p, const char *end, uint32_t *out)
{
	uint32_t v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + (uint32_t)h;
	}
	*out = v;
	return 0;
}

size_t scr_json_unescape(const struct scr_str *s, char *dst, size_t cap)
{
	const char *p = s->p, *end = s->p + s->len;
	size_t o = 0;

	if (cap < (size_t)s->len + 1)
		return 0;
	if (!s->esc) {
		memcpy(dst, p, s->len);
		dst[s->len] = '\0';
		return s->len;
	}
	while (p < end) {
		uint32_t cp, lo;

		if (*p != '\\') {
			dst[o++] = *p++;
			continue;
		}
		if (++p >= end)
			break;
		switch (*p++) {
		case 'b': dst[o++] = '\b'; break;
		case 'f': dst[o++] = '\f'; break;
		case 'n': dst[o++] = '\n'; break;
		case 'r': dst[o++] = '\r'; break;
		case 't': dst[o++] = '\t'; break;
		case 'u':
			if (read_hex4(p, end, &cp) != 0) {
				cp = 0xfffd;
			} else {
				p += 4;
				if (cp >= 0xd800 && cp < 0xdc00) {
					/* a high surrogate wants "\uDC00-DFFF" next */
					if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
					    read_hex4(p + 2, end, &lo) == 0 &&
					    lo >= 0xdc00 && lo < 0xe000) {
						cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
						p += 6;
					} else {
						cp = 0xfffd;
					}
				} else if (cp >= 0xdc00 && cp < 0xe000) {
					cp = 0xfffd;
				}
			}
			o += put_utf8(dst + o, cp);
			break;
		default:        /* '"', '\\', '/' */
			dst[o++] = p[-1];
			break;
		}
	}
	dst[o] = '\0';
	return o;
}

/* Copies the number at the cursor into a NUL-terminated buffer for strtod. */
static int num_text(struct scr_json *j, char *buf, size_t cap)
{
	const char *p = j->p;
	size_t n = 0;

	while (p < j->end && ((unsigned)(*p - '0') < 10 || *p == '-' ||
			      *p == '+' || *p == '.' || *p == 'e' || *p == 'E')) {
		if (n + 1 >= cap)
			return -1;
		buf[n++] = *p++;
	}
	buf[n] = '\0';
	if (n == 0)
		return -1;
	j->p = p;
	return 0;
}

int scr_json_get_f64(struct scr_json *j, double *out)
{
	char buf[64];
	char c = scr_json_peek(j);

	if (c != '-' && (unsigned)(c - '0') >= 10) {
		scr_json_skip(j);
		return 0;
	}
	if (num_text(j, buf, sizeof(buf)) != 0) {
		scr_json_skip(j);
		return 0;
	}
	*out = strtod(buf, NULL);
	return 1;
}

int scr_json_num_slow(struct scr_json *j, int64_t *out)
{
	const char *p = j->p, *start = p;
	uint64_t v = 0;
	int overflow = 0;
	double d;

	/* a long integer: exact, with an overflow check */
	while (p < j->end && (unsigned)(*p - '0') < 10) {
		uint64_t digit = (uint64_t)(*p++ - '0');

		if (v > (uint64_t)(INT64_MAX - digit) / 10)
			overflow = 1;
		else
			v = v * 10 + digit;
	}
	if (p > start && !(p < j->end && (*p == '.' || *p == 'e' || *p == 'E'))) {
		j->p = p;
		if (overflow)
			return 0;
		*out = (int64_t)v;
		return 1;
	}
	/* a fraction or an exponent (or not a number at all) */
	if (!scr_json_get_f64(j, &d))
		return 0;
	/* 2^63 is exactly representable: anything below it fits */
	if (!(d >= 0 && d < 9223372036854775808.0))
		return 0;
	*out = (int64_t)d;
	return 1;
}

/* ---- labels objects ---------------------------------------------------- */

void scr_labels_init(struct scr_labels *l)
{
	memset(l, 0, sizeof(*l));
}

void scr_labels_free(struct scr_labels *l)
{
	free(l->buf);
	free(l->offs);
	memset(l, 0, sizeof(*l));
}

static int lb_reserve(struct scr_labels *l, size_t more)
{
	size_t ncap;
	char *p;

	if (l->len + more <= l->cap)
		return 0;
	ncap = l->cap ? l->cap : 1024;
	while (ncap < l->len + more)
		ncap *= 2;
	p = realloc(l->buf, ncap);
	if (p == NULL)
		return -ENOMEM;
	l->buf = p;
	l->cap = ncap;
	return 0;
}

static int lb_cmp(const void *a, const void *b, void *ctx)
{
	const char *buf = ctx;

	return strcmp(buf + *(const uint32_t *)a, buf + *(const uint32_t *)b);
}

/* Appends one "k:v\0" entry from raw key and value strings. */
static int lb_add(struct scr_labels *l, const struct scr_str *k, const struct scr_str *v)
{
	size_t kn;
	int rc;

	if (l->n == l->offs_cap) {
		uint32_t ncap = l->offs_cap ? l->offs_cap * 2 : 32;
		uint32_t *o = realloc(l->offs, ncap * sizeof(*o));

		if (o == NULL)
			return -ENOMEM;
		l->offs = o;
		l->offs_cap = ncap;
	}
	rc = lb_reserve(l, (size_t)k->len + v->len + 2);
	if (rc != 0)
		return rc;
	l->offs[l->n] = (uint32_t)l->len;
	kn = scr_json_unescape(k, l->buf + l->len, (size_t)k->len + 1);
	l->len += kn;
	l->buf[l->len++] = ':';
	l->n++;
	l->len += scr_json_unescape(v, l->buf + l->len, (size_t)v->len + 1) + 1;
	return 0;
}

int scr_labels_read(struct scr_labels *l, struct scr_json *j)
{
	struct scr_str k, v, rawk;
	int rc;

	l->len = 0;
	l->n = 0;
	l->joined = 0;
	l->joined_len = 0;
	if (scr_json_peek(j) == '{') {
		j->p++;
		while (scr_json_obj_next(j, &k)) {
			/* the cursor decoded an escaped key into its own buffer */
			rawk = k;
			if (!scr_json_get_str(j, &v))
				continue;
			rc = lb_add(l, &rawk, &v);
			if (rc != 0)
				return rc;
		}
	} else {
		scr_json_skip(j);
	}
	qsort_r(l->offs, l->n, sizeof(*l->offs), lb_cmp, l->buf);
	rc = lb_reserve(l, l->len + 1);
	if (rc != 0)
		return rc;
	l->joined = l->len;
	for (uint32_t i = 0; i < l->n; i++) {
		size_t n = strlen(l->buf + l->offs[i]);

		if (i > 0)
			l->buf[l->len++] = ',';
		memcpy(l->buf + l->len, l->buf + l->offs[i], n);
		l->len += n;
	}
	l->buf[l->len] = '\0';
	l->joined_len = l->len - l->joined;
	return 0;
}

const char *scr_labels_str(const struct scr_labels *l, size_t *len)
{
	if (len)
		*len = l->joined_len;
	return l->buf ? l->buf + l->joined : "";
}

const char *scr_labels_get(const struct scr_labels *l, const char *key)
{
	size_t kn = strlen(key);

	for (uint32_t i = 0; i < l->n; i++) {
		const char *e = l->buf + l->offs[i];

		/* label keys have no ':' (DNS subdomain prefix, then [A-Za-z0-9_.-]) */
		if (strncmp(e, key, kn) == 0 && e[kn] == ':')
			return e + kn + 1;
	}
	return NULL;
}

int scr_json_str_eq(const struct scr_str *s, const char *lit)
{
	char tmp[512];
	size_t n = strlen(lit);

	if (!s->esc)
		return s->len == n && memcmp(s->p, lit, n) == 0;
	if ((size_t)s->len + 1 > sizeof(tmp))
		return 0;
	return scr_json_unescape(s, tmp, sizeof(tmp)) == n && memcmp(tmp, lit, n) == 0;
}
