/*
 * prom.c - Prometheus text rendering and fixed-bucket histograms.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

const double hc_hist_seconds_bounds[12] = {
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60,
};

void hc_hist_init(struct hc_hist *h, const double *bounds, int nbounds)
{
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->nbounds = nbounds > HC_HIST_MAX_BUCKETS ? HC_HIST_MAX_BUCKETS : nbounds;
}

void hc_hist_observe(struct hc_hist *h, double v)
{
	int i = 0;

	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

void hc_text_reset(struct hc_text *t)
{
	t->len = 0;
	t->failed = 0;
	if (t->buf)
		t->buf[0] = '\0';
}

void hc_text_free(struct hc_text *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

void hc_text_printf(struct hc_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = t->cap - t->len;

		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		{
			size_t cap = t->cap ? t->cap * 2 : 4096;
			char *p;

			while (cap < t->len + (size_t)n + 1)
				cap *= 2;
			p = realloc(t->buf, cap);
			if (p == NULL) {
				t->failed = 1;
				return;
			}
			t->buf = p;
			t->cap = cap;
		}
	}
}

static void header(struct hc_text *t, const char *name, const char *help,
		   const char *type)
{
	if (help != NULL)
		hc_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct hc_text *t, const char *name, const char *suffix,
		   const char *labels, const char *extra, double v)
{
	int has = labels && *labels, hasx = extra && *extra;

	hc_text_printf(t, "%s%s%s%s%s%s%s %.17g\n", name, suffix,
		       has || hasx ? "{" : "", has ? labels : "",
		       has && hasx ? "," : "", hasx ? extra : "",
		       has || hasx ? "}" : "", v);
}

void hc_prom_counter(struct hc_text *t, const char *name, const char *help,
		     const char *labels, double v)
{
	header(t, name, help, "counter");
	sample(t, name, "", labels, NULL, v);
}

void hc_prom_gauge(struct hc_text *t, const char *name, const char *help,
		   const char *labels, double v)
{
	header(t, name, help, "gauge");
	sample(t, name, "", labels, NULL, v);
}

void hc_prom_histogram(struct hc_text *t, const char *name, const char *help,
		       const char *labels, const struct hc_hist *h)
{
	uint64_t cum = 0;
	char le[48];

	header(t, name, help, "histogram");
	for (int i = 0; i < h->nbounds; i++) {
		cum += h->counts[i];
		snprintf(le, sizeof(le), "le=\"%g\"", h->bounds[i]);
		sample(t, name, "_bucket", labels, le, (double)cum);
	}
	sample(t, name, "_bucket", labels, "le=\"+Inf\"", (double)h->count);
	sample(t, name, "_sum", labels, NULL, h->sum);
	sample(t, name, "_count", labels, NULL, (double)h->count);
}
