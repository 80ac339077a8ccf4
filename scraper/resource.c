/*
 * resource.c - the Prometheus text of kubelet /metrics/resource into a
 * batch (see resource.h).
 *
 * Design.  Like the summary parser, two passes: the first checks every
 * line against the text format (name, optional {labels}, value, optional
 * timestamp; comments and blank lines) without touching the batch, so a
 * garbage or truncated body fails whole; the second maps the samples it
 * knows.  The body is a few hundred bytes per pod, so the extra pass is
 * cheap.  Sets are created on first sight (a container also creates its
 * pod) and only sets this body created are labelled, so -ENOMEM can be
 * rolled back by truncating the batch's arrays.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "log.h"
#include "resource.h"

#define MAX_LABELS 16
#define KEY_MAX    1024

struct plabel {
	const char *k, *v;
	size_t      kl, vl;
	int         esc;        /* v holds backslash escapes */
};

struct sample {
	const char   *name;
	size_t        nl;
	struct plabel l[MAX_LABELS];
	int           n;
	double        v;
	int64_t       ts;       /* ms, 0 if none */
};

static int name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* Parses a float as Go prints it (and NaN, +Inf, -Inf). */
static const char *parse_value(const char *p, const char *end, double *v)
{
	char buf[64];
	size_t n = 0;
	char *e;

	while (p + n < end && p[n] != ' ' && p[n] != '\t' && n < sizeof(buf) - 1)
		n++;
	if (n == 0 || n == sizeof(buf) - 1)
		return NULL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	*v = strtod(buf, &e);
	if (*e != '\0')
		return NULL;
	return p + n;
}

/*
 * One sample line [p, end) (no newline) into s.  0, or HC_ERR_PARSE.
 * Labels beyond MAX_LABELS are checked but not kept.
 */
static int parse_sample(const char *p, const char *end, struct sample *s)
{
	s->name = p;
	s->n = 0;
	s->ts = 0;
	if (p >= end || !name_char(*p, 1))
		return HC_ERR_PARSE;
	while (p < end && name_char(*p, 0))
		p++;
	s->nl = (size_t)(p - s->name);
	if (p < end && *p == '{') {
		p++;
		for (;;) {
			struct plabel l;

			while (p < end && *p == ' ')
				p++;
			if (p < end && *p == '}') {
				p++;
				break;
			}
			l.k = p;
			if (p >= end || !name_char(*p, 1))
				return HC_ERR_PARSE;
			while (p < end && name_char(*p, 0))
				p++;
			l.kl = (size_t)(p - l.k);
			if (end - p < 2 || p[0] != '=' || p[1] != '"')
				return HC_ERR_PARSE;
			p += 2;
			l.v = p;
			l.esc = 0;
			while (p < end && *p != '"') {
				if (*p == '\\') {
					l.esc = 1;
					p++;
				}
				p++;
			}
			if (p >= end)
				return HC_ERR_PARSE;
			l.vl = (size_t)(p - l.v);
			p++;
			if (s->n < MAX_LABELS)
				s->l[s->n++] = l;
			if (p < end && *p == ',')
				p++;
			else if (p >= end || *p != '}')
				return HC_ERR_PARSE;
		}
	}
	if (p >= end || (*p != ' ' && *p != '\t'))
		return HC_ERR_PARSE;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	p = parse_value(p, end, &s->v);
	if (p == NULL)
		return HC_ERR_PARSE;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end) {
		int64_t ts = 0;
		int neg = *p == '-';

		if (neg)
			p++;
		if (p >= end)
			return HC_ERR_PARSE;
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (ts > (INT64_MAX - 9) / 10)
				return HC_ERR_PARSE;
			ts = ts * 10 + (*p - '0');
		}
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p != end)
			return HC_ERR_PARSE;
		s->ts = neg ? 0 : ts;
	}
	return 0;
}

/* The unescaped value of label key in s (into buf), or NULL. */
static const char *label(const struct sample *s, const char *key, char *buf, size_t cap)
{
	size_t kl = strlen(key);

	for (int i = 0; i < s->n; i++) {
		const struct plabel *l = &s->l[i];
		size_t o = 0;

		if (l->kl != kl || memcmp(l->k, key, kl) != 0)
			continue;
		for (size_t j = 0; j < l->vl && o + 1 < cap; j++) {
			char c = l->v[j];

			if (l->esc && c == '\\' && j + 1 < l->vl) {
				c = l->v[++j];
				if (c == 'n')
					c = '\n';
			}
			buf[o++] = c;
		}
		buf[o] = '\0';
		return o > 0 ? buf : NULL;
	}
	return NULL;
}

/* Iterates lines: line and eol of the next non-comment, non-blank line. */
static int next_line(const char **p, const char *end, const char **line, const char **eol)
{
	while (*p < end) {
		const char *l = *p, *nl = memchr(l, '\n', (size_t)(end - l));
		const char *e = nl ? nl : end;

		*p = nl ? nl + 1 : end;
		while (l < e && (*l == ' ' || *l == '\t'))
			l++;
		while (e > l && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (l == e || *l == '#')
			continue;
		*line = l;
		*eol = e;
		return 1;
	}
	return 0;
}

enum { K_NODE, K_POD, K_CTR };
enum { V_CPU, V_MEM, V_START };

static const struct {
	const char *name;
	int         kind, what;
} known[] = {
	{ "node_cpu_usage_seconds_total", K_NODE, V_CPU },
	{ "node_memory_working_set_bytes", K_NODE, V_MEM },
	{ "pod_cpu_usage_seconds_total", K_POD, V_CPU },
	{ "pod_memory_working_set_bytes", K_POD, V_MEM },
	{ "container_cpu_usage_seconds_total", K_CTR, V_CPU },
	{ "container_memory_working_set_bytes", K_CTR, V_MEM },
	{ "container_start_time_seconds", K_CTR, V_START },
};

struct rctx {
	struct hc_batch        *b;
	const struct scr_node  *node;
	const char             *nodename, *hostname, *host_id;
	uint32_t                base_nsets;
	int64_t                 now_ms;
};

static int put_labels(struct hc_batch *b, uint32_t s, const struct hc_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = hc_batch_label(b, s, l[i].key, l[i].value);

		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The set of a sample (created and labelled on first sight), or a code. */
static int sample_set(struct rctx *c, int kind, const struct sample *sm, uint32_t *out)
{
	char ns[256], pod[256], ctr[256], key[KEY_MAX];
	int created, rc, n;
	uint32_t s;

	if (kind == K_NODE) {
		n = snprintf(key, sizeof(key), "node:%s", c->node->name);
	} else {
		if (label(sm, "namespace", ns, sizeof(ns)) == NULL ||
		    label(sm, "pod", pod, sizeof(pod)) == NULL)
			return 1;       /* skipped */
		if (kind == K_CTR) {
			if (label(sm, "container", ctr, sizeof(ctr)) == NULL)
				return 1;
			/* the pod first, so that it exists with its labels */
			rc = sample_set(c, K_POD, sm, &s);
			if (rc != 0)
				return rc;
			n = snprintf(key, sizeof(key), "namespace:%s/pod:%s/container:%s", ns, pod, ctr);
		} else {
			n = snprintf(key, sizeof(key), "namespace:%s/pod:%s", ns, pod);
		}
	}
	if (n < 0 || (size_t)n >= sizeof(key))
		return 1;
	rc = hc_batch_set(c->b, key, (size_t)n, &s, &created);
	if (rc != 0)
		return rc;
	*out = s;
	if (!created)
		return 0;
	if (kind == K_NODE) {
		const struct hc_label l[] = {
			{ HC_L_TYPE, HC_TYPE_NODE }, { HC_L_NODENAME, c->nodename },
			{ HC_L_HOSTNAME, c->hostname }, { HC_L_HOST_ID, c->host_id },
		};

		return put_labels(c->b, s, l, HC_ARRAY_LEN(l));
	}
	{
		const char *nsc = hc_batch_str(c->b, ns, strlen(ns));
		const char *podc = hc_batch_str(c->b, pod, strlen(pod));
		const char *ctrc = kind == K_CTR ? hc_batch_str(c->b, ctr, strlen(ctr)) : "";
		const struct hc_label l[] = {
			{ HC_L_TYPE, kind == K_CTR ? HC_TYPE_POD_CONTAINER : HC_TYPE_POD },
			{ HC_L_NAMESPACE_NAME, nsc }, { HC_L_POD_NAME, podc },
			{ HC_L_NODENAME, c->nodename }, { HC_L_HOSTNAME, c->hostname },
			{ HC_L_HOST_ID, c->host_id }, { HC_L_CONTAINER_NAME, ctrc },
		};

		if (nsc == NULL || podc == NULL || ctrc == NULL)
			return -ENOMEM;
		return put_labels(c->b, s, l, HC_ARRAY_LEN(l) - (kind == K_CTR ? 0 : 1));
	}
}

/* One known sample into the batch. */
static int map_sample(struct rctx *c, int kind, int what, const struct sample *sm)
{
	struct hc_set *set;
	uint32_t s;
	int rc;

	if (!isfinite(sm->v) || sm->v < 0)
		return 0;
	rc = sample_set(c, kind, sm, &s);
	if (rc != 0)
		return rc > 0 ? 0 : rc;
	set = &c->b->sets[s];
	switch (what) {
	case V_CPU:
		if (sm->v * 1e9 >= 9.2e18)
			return 0;
		if (sm->ts > 0)
			set->scrape_ms = sm->ts;       /* the cpu sample's time wins */
		return hc_batch_add_int(c->b, s, HC_M_CPU_USAGE, llround(sm->v * 1e9));
	case V_MEM:
		if (sm->v >= 9.2e18)
			return 0;
		if (sm->ts > 0 && set->scrape_ms == 0)
			set->scrape_ms = sm->ts;
		return hc_batch_add_int(c->b, s, HC_M_MEM_WORKING_SET, llround(sm->v));
	default:
		if (sm->v > 0 && sm->v < 1e11 && s >= c->base_nsets)
			set->start_ms = llround(sm->v * 1000);
		return 0;
	}
}

int scr_resource_parse(const char *text, size_t len, const struct scr_node *node,
		       struct hc_batch *b)
{
	const char *p = text, *end = text + len, *line, *eol;
	uint32_t base_nvals = b->nvals, base_nlabels = b->nlabels;
	struct rctx c = { b, node, NULL, NULL, NULL, b->nsets, 0 };
	struct sample sm;
	int rc, have_node = 0;

	/* pass 1: the format, and a node sample */
	while (next_line(&p, end, &line, &eol)) {
		if (parse_sample(line, eol, &sm) != 0)
			return HC_ERR_PARSE;
		if (sm.nl > 5 && memcmp(sm.name, "node_", 5) == 0)
			have_node = 1;
	}
	if (!have_node)
		return HC_ERR_PARSE;
	c.now_ms = node->now_ms ? node->now_ms : hc_now_ms();
	c.nodename = hc_batch_str(b, node->name, strlen(node->name));
	c.hostname = hc_batch_str(b, node->hostname, strlen(node->hostname));
	c.host_id = hc_batch_str(b, node->host_id, strlen(node->host_id));
	rc = c.nodename && c.hostname && c.host_id ? 0 : -ENOMEM;
	/* pass 2: the samples we know */
	for (p = text; rc == 0 && next_line(&p, end, &line, &eol);) {
		parse_sample(line, eol, &sm);
		for (size_t i = 0; i < HC_ARRAY_LEN(known); i++) {
			if (sm.nl == strlen(known[i].name) && memcmp(sm.name, known[i].name, sm.nl) == 0) {
				rc = map_sample(&c, known[i].kind, known[i].what, &sm);
				break;
			}
		}
	}
	/* the sets this body made: a scrape time, and uptime from the start time */
	for (uint32_t s = c.base_nsets; rc == 0 && s < b->nsets; s++) {
		struct hc_set *set = &b->sets[s];

		if (set->scrape_ms == 0)
			set->scrape_ms = c.now_ms;
		if (set->start_ms > 0 && c.now_ms > set->start_ms)
			rc = hc_batch_add_int(b, s, HC_M_UPTIME, c.now_ms - set->start_ms);
	}
	if (rc != 0) {
		/* -ENOMEM: only sets made here were labelled; drop them and the values */
		for (uint32_t s = c.base_nsets; s < b->nsets; s++)
			hc_map_del(&b->set_index, b->sets[s].key, strlen(b->sets[s].key));
		b->nsets = c.base_nsets;
		b->nvals = base_nvals;
		b->nlabels = base_nlabels;
		b->grouped = 0;
	}
	return rc;
}
