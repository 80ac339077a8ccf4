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
 * the application is loaded in the parent, before the workers fork; the
 * workers increment them with atomic adds, without locks.
 */
#include <stdio.h>
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

struct api_counters {
	uint64_t requests[R_COUNT][NCODES];
	uint64_t latency_buckets[R_COUNT][HC_HIST_MAX_BUCKETS + 1];
	uint64_t latency_count[R_COUNT];
	uint64_t latency_sum_us[R_COUNT];
};

static struct api_counters *counters;

/* Runs when kore loads the .so in the parent: the mapping is then shared. */
__attribute__((constructor)) static void api_metrics_map(void)
{
	void *p = mmap(NULL, sizeof(*counters), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	counters = p == MAP_FAILED ? NULL : p;
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
	int r, c = NCODES - 1, b = 0;
	uint64_t us;

	if (counters == NULL)
		return;
	r = route_of(req->path);
	for (int i = 0; i < NCODES - 1; i++)
		if (codes[i] == status)
			c = i;
	us = (kore_time_ms() - req->start) * 1000;
	while (b < (int)HC_ARRAY_LEN(hc_hist_seconds_bounds) &&
	       (double)us / 1e6 > hc_hist_seconds_bounds[b])
		b++;
	__atomic_fetch_add(&counters->requests[r][c], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&counters->latency_buckets[r][b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&counters->latency_count[r], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&counters->latency_sum_us[r], us, __ATOMIC_RELAXED);
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

/*
 * Writes the lines of `in` into out grouped by metric family, each
 * family's HELP and TYPE once, as the text format requires: two exporters
 * publish the same families with different labels.
 */
static void merge_families(const char *in, size_t len, struct kore_buf *out)
{
	const char *lines[4096];
	size_t lens[4096], nl = 0;
	uint8_t done[4096];

	for (const char *p = in; p < in + len && nl < 4096;) {
		const char *e = memchr(p, '\n', (size_t)(in + len - p));
		size_t l = e ? (size_t)(e - p) : (size_t)(in + len - p);

		if (l > 0) {
			lines[nl] = p;
			lens[nl++] = l;
		}
		p += l + 1;
	}
	memset(done, 0, nl);
	for (size_t i = 0; i < nl; i++) {
		const char *fam, *other;
		size_t flen;
		int help = 0, type = 0;

		if (done[i])
			continue;
		flen = family_of(lines[i], lens[i], &fam);
		for (size_t j = i; j < nl; j++) {
			size_t ol;

			if (done[j])
				continue;
			ol = family_of(lines[j], lens[j], &other);
			if (ol != flen || memcmp(other, fam, flen) != 0)
				continue;
			done[j] = 1;
			if (!strncmp(lines[j], "# HELP ", 7) && help++)
				continue;
			if (!strncmp(lines[j], "# TYPE ", 7) && type++)
				continue;
			api_buf_append(out, lines[j], lens[j]);
			api_buf_append(out, "\n", 1);
		}
	}
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
			uint64_t n = __atomic_load_n(&counters->requests[r][c], __ATOMIC_RELAXED);

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
			h.counts[b] = __atomic_load_n(&counters->latency_buckets[r][b], __ATOMIC_RELAXED);
		h.count = __atomic_load_n(&counters->latency_count[r], __ATOMIC_RELAXED);
		h.sum = (double)__atomic_load_n(&counters->latency_sum_us[r], __ATOMIC_RELAXED) / 1e6;
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
