/*
 * api_metrics.c - GET /metrics: the self-metrics of every process.
 *
 * The scraper, the processor and each exporter publish their counters as
 * fragments of Prometheus text in the store's "stats" database
 * (docs/STORE.md); this route concatenates them and adds the API server's
 * own: requests by route and status code, and their latency.
 *
 * Kore runs several worker processes and any of them may answer /metrics,
 * so the API's counters live in one shared anonymous mapping created when
 * the application is loaded in the parent, before the workers fork.  Each
 * worker counts in its own slot of it (by Kore's worker id), so that two
 * workers answering at once do not pass cache lines back and forth on
 * every request; /metrics sums the slots.  Adds are still atomic (relaxed,
 * lock-free), since /metrics reads while others count and a worker id
 * beyond the slots shares one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "api.h"
#include "hc.h"
#include "prom.h"
#include "store.h"

/* Route classes, by the first path components. */
enum { R_MODEL, R_RESOURCE, R_EXPORT, R_HEALTH, R_METRICS, R_OTHER, R_COUNT };
static const char *route_names[R_COUNT] = {
	"/api/v1/model", "/apis", "/api/v1/metric-export", "/healthz", "/metrics", "other",
};

/* Status codes counted one by one; others go to the last slot. */
static const int codes[] = { 200, 400, 401, 403, 404, 405, 414, 500, 503, 0 };
#define NCODES ((int)(sizeof(codes) / sizeof(codes[0])))

/* One worker's counters, a whole number of cache lines. */
struct api_counters {
	uint64_t requests[R_COUNT][NCODES];
	uint64_t latency_buckets[R_COUNT][HC_HIST_MAX_BUCKETS + 1];
	uint64_t latency_count[R_COUNT];
	uint64_t latency_sum_us[R_COUNT];
} __attribute__((aligned(64)));

/* Slots by worker id; Kore allows up to KORE_WORKER_MAX (255) ids. */
#define API_COUNTER_SLOTS 64

static struct api_counters *counters;   /* API_COUNTER_SLOTS of them */

/*
 * The latency buckets' upper bounds in microseconds: bucket b holds
 * what is at most api_bound_us[b], exactly as comparing us / 1e6 with
 * hc_hist_seconds_bounds[b] in floating point would put it.
 */
static uint64_t api_bound_us[HC_ARRAY_LEN(hc_hist_seconds_bounds)];

/* Runs when kore loads the .so in the parent: the mapping is then shared. */
__attribute__((constructor)) static void api_metrics_map(void)
{
	void *p = mmap(NULL, API_COUNTER_SLOTS * sizeof(*counters),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	counters = p == MAP_FAILED ? NULL : p;
	for (size_t b = 0; b < HC_ARRAY_LEN(hc_hist_seconds_bounds); b++) {
		double bound = hc_hist_seconds_bounds[b];
		uint64_t us = (uint64_t)(bound * 1e6);

		/* the largest us with us / 1e6 <= bound */
		while ((double)(us + 1) / 1e6 <= bound)
			us++;
		while (us > 0 && (double)us / 1e6 > bound)
			us--;
		api_bound_us[b] = us;
	}
}

static int route_of(const char *path)
{
	if (strncmp(path, "/api/v1/model", 13) == 0)
		return R_MODEL;
	if (strncmp(path, "/apis", 5) == 0)
		return R_RESOURCE;
	if (strncmp(path, "/api/v1/metric-export", 21) == 0)
		return R_EXPORT;
	if (!strcmp(path, "/healthz") || !strcmp(path, "/readyz") || !strcmp(path, "/livez"))
		return R_HEALTH;
	if (strcmp(path, "/metrics") == 0)
		return R_METRICS;
	return R_OTHER;
}

void api_metrics_count(struct http_request *req, int status)
{
	struct api_counters *k;
	int r, c = NCODES - 1, b = 0;
	uint64_t us;

	if (counters == NULL)
		return;
	k = &counters[(worker != NULL ? worker->id : 0) % API_COUNTER_SLOTS];
	r = route_of(req->path);
	for (int i = 0; i < NCODES - 1; i++)
		if (codes[i] == status)
			c = i;
	us = (kore_time_ms() - req->start) * 1000;
	while (b < (int)HC_ARRAY_LEN(api_bound_us) && us > api_bound_us[b])
		b++;
	__atomic_fetch_add(&k->requests[r][c], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&k->latency_buckets[r][b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&k->latency_count[r], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&k->latency_sum_us[r], us, __ATOMIC_RELAXED);
}

/* A counter summed over the workers' slots: &counters[0].field, by offset. */
static uint64_t api_counter_sum(const uint64_t *slot0)
{
	size_t off = (size_t)((const char *)slot0 - (const char *)counters);
	uint64_t n = 0;

	for (int w = 0; w < API_COUNTER_SLOTS; w++)
		n += __atomic_load_n((const uint64_t *)((const char *)&counters[w] + off),
				     __ATOMIC_RELAXED);
	return n;
}

/* The fragments of every process, concatenated as they are stored. */
static int append_fragment(void *ctx, const char *name, size_t name_len,
			   const char *text, size_t len)
{
	struct hc_text *t = ctx;

	(void)name;
	(void)name_len;
	hc_text_printf(t, "%.*s", (int)len, text);
	if (len > 0 && text[len - 1] != '\n')
		hc_text_printf(t, "\n");
	return 0;
}

/* Length of the metric name a sample or comment line is about. */
static size_t family_of(const char *line, size_t len, const char **name)
{
	size_t n = 0;

	if (len > 7 && (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7))) {
		line += 7;
		len -= 7;
	}
	while (n < len && line[n] != ' ' && line[n] != '{')
		n++;
	*name = line;
	/* a histogram's series belong to its family */
	for (int i = 0; i < 3; i++) {
		static const char *sfx[] = { "_bucket", "_count", "_sum" };
		size_t sl = strlen(sfx[i]);

		if (n > sl && !strncmp(*name + n - sl, sfx[i], sl) &&
		    n > sl + 8 && !strncmp(*name + n - sl - 8, "_seconds", 8))
			return n - sl;
	}
	return n;
}

/* One line of the fragments, with the family it belongs to. */
struct api_line {
	const char *p;
	const char *fam;
	uint32_t    len, flen;
	uint8_t     done;
};

/*
 * Writes the lines of `in` into out grouped by metric family, each
 * family's HELP and TYPE once, as the text format requires: two exporters
 * publish the same families with different labels.  Families come in the
 * order they first appear, lines of a family in their order.  Every line
 * counts: at 5,000 nodes the scraper's per-node series alone are 5,000
 * lines (a fixed table of 4,096 once cut off everything after them, the
 * API's own counters included).  Without memory for the table the text
 * goes out as it is, unmerged.
 */
static void merge_families(const char *in, size_t len, struct kore_buf *out)
{
	struct api_line *lines;
	size_t nl = 0, cap = 1;

	for (const char *p = in; p < in + len; p++)
		cap += *p == '\n';
	lines = malloc(cap * sizeof(*lines));
	if (lines == NULL) {
		api_buf_append(out, in, len);
		return;
	}
	for (const char *p = in; p < in + len && nl < cap;) {
		const char *e = memchr(p, '\n', (size_t)(in + len - p));
		size_t l = e ? (size_t)(e - p) : (size_t)(in + len - p);

		if (l > 0 && l <= UINT32_MAX) {
			lines[nl].p = p;
			lines[nl].len = (uint32_t)l;
			lines[nl].flen = (uint32_t)family_of(p, l, &lines[nl].fam);
			lines[nl++].done = 0;
		}
		p += l + 1;
	}
	for (size_t i = 0; i < nl; i++) {
		const struct api_line *f = &lines[i];
		int help = 0, type = 0;

		if (f->done)
			continue;
		for (size_t j = i; j < nl; j++) {
			struct api_line *l = &lines[j];

			if (l->done || l->flen != f->flen ||
			    memcmp(l->fam, f->fam, f->flen) != 0)
				continue;
			l->done = 1;
			if (!strncmp(l->p, "# HELP ", 7) && help++)
				continue;
			if (!strncmp(l->p, "# TYPE ", 7) && type++)
				continue;
			api_buf_append(out, l->p, l->len);
			api_buf_append(out, "\n", 1);
		}
	}
	free(lines);
}

int api_metrics(struct http_request *req)
{
	struct hc_text t = { 0 };
	struct store_txn *txn;
	char lbl[128];
	int rc;

	if (req->method != HTTP_METHOD_GET) {
		api_text(req, 405, "method not allowed\n");
		return KORE_RESULT_OK;
	}
	rc = api_txn_begin(req, &txn);
	if (rc != 0)
		return KORE_RESULT_OK;    /* api_txn_begin answered 503 */
	store_stats_scan(txn, append_fragment, &t);
	store_read_end(txn);
	/* the API's own: every counter family, then every histogram family */
	for (int r = 0; counters != NULL && r < R_COUNT; r++) {
		for (int c = 0; c < NCODES; c++) {
			uint64_t n = api_counter_sum(&counters->requests[r][c]);

			if (n == 0)
				continue;
			if (codes[c])
				snprintf(lbl, sizeof(lbl), "route=\"%s\",code=\"%d\"", route_names[r], codes[c]);
			else
				snprintf(lbl, sizeof(lbl), "route=\"%s\",code=\"other\"", route_names[r]);
			hc_prom_counter(&t, "heapster_api_requests_total",
					"HTTP requests by route and status code.", lbl, (double)n);
		}
	}
	for (int r = 0; counters != NULL && r < R_COUNT; r++) {
		struct hc_hist h;

		hc_hist_init(&h, hc_hist_seconds_bounds, HC_ARRAY_LEN(hc_hist_seconds_bounds));
		for (int b = 0; b <= h.nbounds; b++)
			h.counts[b] = api_counter_sum(&counters->latency_buckets[r][b]);
		h.count = api_counter_sum(&counters->latency_count[r]);
		h.sum = (double)api_counter_sum(&counters->latency_sum_us[r]) / 1e6;
		if (h.count == 0)
			continue;
		snprintf(lbl, sizeof(lbl), "route=\"%s\"", route_names[r]);
		hc_prom_histogram(&t, "heapster_api_request_duration_seconds",
				  "Time to answer a request, by route.", lbl, &h);
	}
	kore_buf_reset(&api_w.out);
	if (t.len)
		merge_families(t.buf, t.len, &api_w.out);
	hc_text_free(&t);
	api_metrics_count(req, 200);
	http_response_header(req, "content-type", "text/plain; version=0.0.4");
	http_response(req, 200, api_w.out.data, api_w.out.offset);
	kore_buf_reset(&api_w.out);
	return KORE_RESULT_OK;
}
