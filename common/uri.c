/*
 * uri.c - parsing of --source / --sink values (see uri.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "uri.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes s[0..len) into out (size cap).  0 or HC_ERR_CONFIG. */
static int pct_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 1 < len ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return HC_ERR_CONFIG;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= cap)
			return HC_ERR_CONFIG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int copy_bounded(char *dst, size_t cap, const char *src, size_t len)
{
	if (len >= cap)
		return HC_ERR_CONFIG;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* Splits url into scheme, host and port where it has them. */
static int split_url(struct hc_uri *u)
{
	const char *p = u->url, *sep, *host, *end, *colon;

	sep = strstr(p, "://");
	if (sep == NULL)
		return 0;   /* not a URL with an authority: leave fields empty */
	if (copy_bounded(u->scheme, sizeof(u->scheme), p, (size_t)(sep - p)))
		return HC_ERR_CONFIG;
	host = sep + 3;
	end = host + strcspn(host, "/");
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(end - host));

		if (rb == NULL)
			return HC_ERR_CONFIG;
		if (copy_bounded(u->host, sizeof(u->host), host + 1, (size_t)(rb - host - 1)))
			return HC_ERR_CONFIG;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		if (copy_bounded(u->host, sizeof(u->host), host,
				 (size_t)((colon ? colon : end) - host)))
			return HC_ERR_CONFIG;
	}
	if (colon != NULL) {
		char *e;
		long port = strtol(colon + 1, &e, 10);

		if (e != end || port <= 0 || port > 65535)
			return HC_ERR_CONFIG;
		u->port = (int)port;
	}
	return 0;
}

int hc_uri_parse(const char *spec, struct hc_uri *u)
{
	const char *colon, *rest, *q;
	size_t kind_len;

	memset(u, 0, sizeof(*u));
	if (spec == NULL || *spec == '\0')
		return HC_ERR_CONFIG;
	colon = strchr(spec, ':');
	q = strchr(spec, '?');
	if (colon != NULL && q != NULL && q < colon)
		colon = NULL;   /* "log?x=y": no URL */
	kind_len = colon ? (size_t)(colon - spec) : (q ? (size_t)(q - spec) : strlen(spec));
	if (kind_len == 0 || copy_bounded(u->kind, sizeof(u->kind), spec, kind_len))
		return HC_ERR_CONFIG;
	rest = spec + kind_len + (colon ? 1 : 0);
	q = strchr(rest, '?');
	if (copy_bounded(u->url, sizeof(u->url), rest, q ? (size_t)(q - rest) : strlen(rest)))
		return HC_ERR_CONFIG;
	if (split_url(u) != 0)
		return HC_ERR_CONFIG;
	if (q == NULL)
		return 0;
	for (const char *p = q + 1; *p != '\0';) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		struct hc_uri_opt *o;
		int idx = -1;
		char key[64];

		if (len == 0) {
			p++;
			continue;
		}
		if (pct_decode(p, eq ? (size_t)(eq - p) : len, key, sizeof(key)))
			return HC_ERR_CONFIG;
		for (int i = 0; i < u->nopts; i++)
			if (strcmp(u->opts[i].key, key) == 0)
				idx = i;
		if (idx < 0) {
			if (u->nopts == HC_URI_MAX_OPTS)
				return HC_ERR_CONFIG;
			idx = u->nopts++;
		}
		o = &u->opts[idx];
		memcpy(o->key, key, sizeof(key));
		if (eq) {
			if (pct_decode(eq + 1, len - (size_t)(eq + 1 - p), o->value,
				       sizeof(o->value)))
				return HC_ERR_CONFIG;
		} else {
			o->value[0] = '\0';
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

const char *hc_uri_opt(const struct hc_uri *u, const char *key)
{
	for (int i = 0; i < u->nopts; i++)
		if (strcmp(u->opts[i].key, key) == 0)
			return u->opts[i].value;
	return NULL;
}

int hc_uri_opt_bool(const struct hc_uri *u, const char *key, int def, int *out)
{
	const char *v = hc_uri_opt(u, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") || !*v)
		*out = 1;
	else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
		*out = 0;
	else
		return HC_ERR_CONFIG;
	return 0;
}

int hc_uri_opt_int(const struct hc_uri *u, const char *key, int64_t def,
		   int64_t *out)
{
	const char *v = hc_uri_opt(u, key);
	char *end;
	long long n;

	*out = def;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return HC_ERR_CONFIG;
	*out = n;
	return 0;
}
