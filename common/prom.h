/*
 * prom.h - self-metrics in Prometheus text exposition format.
 *
 * Each process keeps its counters in plain structs and, every so often,
 * renders them with these functions into a fragment that it publishes in
 * the store (store_stats_put); the API server's /metrics serves the
 * fragments of every process together.  Histograms have fixed bucket bounds
 * chosen by the caller (milliseconds, bytes...).
 */
#ifndef HC_PROM_H
#define HC_PROM_H

#include <stddef.h>
#include <stdint.h>

#define HC_HIST_MAX_BUCKETS 16

struct hc_hist {
	const double *bounds;          /* upper bounds, ascending; +Inf implied */
	int           nbounds;         /* <= HC_HIST_MAX_BUCKETS */
	uint64_t      counts[HC_HIST_MAX_BUCKETS + 1];   /* per bucket, not cumulative */
	uint64_t      count;
	double        sum;
};

/*
 * Standard bounds for durations in seconds, 1 ms ... 60 s (Prometheus's
 * base unit; Heapster's own self-metrics used milliseconds, which
 * promtool rejects).
 */
extern const double hc_hist_seconds_bounds[12];

void hc_hist_init(struct hc_hist *h, const double *bounds, int nbounds);
void hc_hist_observe(struct hc_hist *h, double v);

/* A growable text buffer; on ENOMEM it stops growing and sets `failed`. */
struct hc_text {
	char   *buf;
	size_t  len, cap;
	int     failed;
};

void hc_text_reset(struct hc_text *t);
void hc_text_free(struct hc_text *t);
void hc_text_printf(struct hc_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * One metric family.  `labels` is "" or a label list without braces,
 * e.g. `node="n1",code="200"`.  HELP and TYPE lines are written when
 * `help` is not NULL (once per family).
 */
void hc_prom_counter(struct hc_text *t, const char *name, const char *help,
		     const char *labels, double v);
void hc_prom_gauge(struct hc_text *t, const char *name, const char *help,
		   const char *labels, double v);
void hc_prom_histogram(struct hc_text *t, const char *name, const char *help,
		       const char *labels, const struct hc_hist *h);

#endif
