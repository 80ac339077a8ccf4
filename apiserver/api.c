/*
 * api.c - the Kore application's frame: worker life cycle, seccomp rules,
 * the store session, responses and the JSON writer (see api.h).
 *
 * Our kore binary (heapster-kore: Debian's sources with apiserver/kore/'s
 * patch, for TLS) loads heapster-api.so (heapster-api.conf.in names the
 * handlers: api_model.c the model API, api_resource.c metrics.k8s.io,
 * api_export.c the metric export, api_health.c the probes, api_auth.c the
 * client-certificate check).  The parent never touches the store; each
 * worker opens it read-only from kore_worker_configure(), after Kore
 * applied its seccomp filter, so the extra system calls LMDB (and the
 * client-certificate check) need are allowed below.  When the store does
 * not exist yet (the API can start before the processor wrote anything),
 * or a transaction cannot begin, requests get 503 and the open is retried
 * at most once a second: the API never needs a restart to catch up.
 *
 * Responses are built in one kore_buf per worker, reset per request (Kore
 * copies the body into its send queue), with a tiny JSON writer that
 * escapes strings in fixed chunks and formats numbers by hand.  The
 * per-worker caches of api.h live here too: the newest batch's derived
 * values (api_batch_get) and the glue to the response cache (api_cached,
 * api_cache_keep, api_rings_tag), both emptied when the store is opened
 * again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kore/seccomp.h>

#include "hc.h"
#include "log.h"
#include "api.h"

#define API_OUT_INIT     (64 * 1024)
#define API_OUT_KEEP     (4 * 1024 * 1024)   /* shrink after a bigger answer */
#define API_PTS_INIT     1024
#define API_NAMES_INIT   128
#define API_REOPEN_MS    1000
/*
 * Response cache: slots by key hash (a new entry replaces the one in its
 * slot), bodies up to API_CACHE_BODY_MAX (a series of 60 points is about
 * 3 KiB; node lists and exports are not worth keeping), at most
 * API_CACHE_BYTES of keys and bodies per worker.
 */
#define API_CACHE_SLOTS    1024
#define API_CACHE_BODY_MAX (32 * 1024)
#define API_CACHE_BYTES    (8u << 20)

/*
 * What LMDB needs beyond Kore's worker filter (PLATFORM.md, seccomp_tracing),
 * and mremap: glibc's realloc() moves a block it got from mmap (above the
 * mmap threshold) with mremap, so a response buffer growing past a few MB
 * (a cluster's pod list or metric export) killed the worker without it.
 */
KORE_SECCOMP_FILTER("heapster-api",
	KORE_SYSCALL_ALLOW(mremap),
	KORE_SYSCALL_ALLOW(pread64),
	KORE_SYSCALL_ALLOW(fstatfs),
	KORE_SYSCALL_ALLOW(uname),
	KORE_SYSCALL_ALLOW(ftruncate),
	KORE_SYSCALL_ALLOW(newfstatat),
);

struct api_worker api_w;

/* Opens the store when it is not open and the retry delay has passed. */
static int api_store_ensure(void)
{
	struct store_opts opts = { 0 };
	char data[4096];
	int64_t now;
	int rc;

	if (api_w.store != NULL)
		return 0;
	if (api_w.store_path == NULL)
		return HC_ERR_CONFIG;
	now = hc_mono_ms();
	if (now < api_w.next_open_ms)
		return HC_ERR_NOTFOUND;
	api_w.next_open_ms = now + API_REOPEN_MS;
	/* not created yet: wait quietly instead of logging LMDB's ENOENT */
	if (snprintf(data, sizeof(data), "%s/data.mdb", api_w.store_path) >=
	    (int)sizeof(data) || access(data, R_OK) != 0)
		return HC_ERR_NOTFOUND;
	opts.path = api_w.store_path;
	opts.readonly = 1;
	rc = store_open(&opts, &api_w.store);
	if (rc != 0) {
		api_w.store = NULL;
		return rc;
	}
	/* another environment: nothing cached from the old one holds */
	memset(&api_w.batch, 0, sizeof(api_w.batch));
	api_cache_clear(&api_w.cache);
	hc_info("store %s open", api_w.store_path);
	return 0;
}

void kore_worker_configure(void);
void kore_worker_teardown(void);

void kore_worker_configure(void)
{
	hc_log_init("heapster-api", HC_LOG_INFO);
	kore_buf_init(&api_w.out, API_OUT_INIT);
	api_cache_init(&api_w.cache, API_CACHE_SLOTS, API_CACHE_BODY_MAX,
		       API_CACHE_BYTES);
	api_w.allowed_users = getenv("HEAPSTER_ALLOWED_USERS");
	api_w.store_path = getenv("HEAPSTER_STORE");
	if (api_w.store_path == NULL || api_w.store_path[0] == '\0') {
		api_w.store_path = NULL;
		hc_error("HEAPSTER_STORE is not set: every request will get 503");
	}
	if (api_pts_reserve(API_PTS_INIT) != 0 ||
	    api_names_reserve(API_NAMES_INIT) != 0)
		hc_error("out of memory preparing the worker");
	if (api_w.store_path != NULL && api_store_ensure() != 0)
		hc_warn("store %s not available yet; retrying on requests",
			api_w.store_path);
}

void kore_worker_teardown(void)
{
	store_close(api_w.store);
	api_w.store = NULL;
	kore_buf_cleanup(&api_w.out);
	free(api_w.pts);
	free(api_w.names);
	api_w.pts = NULL;
	api_w.names = NULL;
	api_w.pts_cap = api_w.names_cap = 0;
	for (int i = 0; i < API_VEC_COUNT; i++) {
		free(api_w.vec[i].p);
		api_w.vec[i].p = NULL;
		api_w.vec[i].n = api_w.vec[i].cap = 0;
	}
	api_cache_free(&api_w.cache);
}

int api_txn_open(struct store_txn **txn, int *status, const char **why)
{
	int rc;

	*status = 503;
	rc = api_store_ensure();
	if (rc != 0) {
		*why = api_w.store_path ? "store not available yet"
					: "HEAPSTER_STORE is not set";
		return rc;
	}
	rc = store_read_begin(api_w.store, txn);
	if (rc == HC_ERR_NOTFOUND) {
		/* the writer has not created its databases yet */
		*why = "store is empty";
		return rc;
	}
	if (rc != 0) {
		/* start over with a fresh environment on the next request */
		hc_error("store read: %s; reopening", hc_strerror(rc));
		store_close(api_w.store);
		api_w.store = NULL;
		*why = "store read failed";
		return rc;
	}
	return 0;
}

int api_txn_begin(struct http_request *req, struct store_txn **txn)
{
	const char *why;
	int status, rc;

	rc = api_txn_open(txn, &status, &why);
	if (rc != 0)
		api_error(req, status, why);
	return rc;
}

/* ---- the newest batch -------------------------------------------------- */

/*
 * The batch before ts_ms in the short ring.  The store walks forward
 * only, so probe backwards with a doubling step until a batch older than
 * ts_ms shows up, then walk forward from it: a handful of cursor seeks
 * whatever the ring holds.  0, or HC_ERR_NOTFOUND when ts_ms is the only
 * batch.
 */
static int api_prev_batch(struct store_txn *txn, int64_t ts_ms, int64_t *prev)
{
	struct store_batch_info info, next;
	int64_t step = 1000;
	int rc;

	for (;;) {
		int64_t after = ts_ms - step;

		rc = store_next_batch(txn, STORE_SHORT, after < 0 ? -1 : after, &info);
		if (rc != 0)
			return rc;
		if (info.ts_ms < ts_ms)
			break;
		if (after < 0)
			return HC_ERR_NOTFOUND;
		step *= 2;
	}
	while (store_next_batch(txn, STORE_SHORT, info.ts_ms, &next) == 0 &&
	       next.ts_ms < ts_ms)
		info = next;
	*prev = info.ts_ms;
	return 0;
}

/*
 * Caching by the newest batch time is exact for the ids (names are added
 * in the transaction that stores the batch using them) and for the batch
 * before it (batches are appended only after the newest, so while the
 * newest stays the same, none appears between them).  One case differs
 * from a fresh lookup: when the writer, short of room in a full map, drops
 * that previous batch before it stores the next one, the cached window
 * stays the interval the newest batch's rates cover, where a lookup would
 * find no previous batch and say 0.  No data of the dropped batch is read.
 */
int api_batch_get(struct store_txn *txn, const struct api_batch **out)
{
	struct api_batch *b = &api_w.batch;
	struct store_batch_info latest;
	int64_t prev;
	int rc;

	*out = b;
	rc = store_latest(txn, STORE_SHORT, &latest);
	if (rc != 0) {
		memset(b, 0, sizeof(*b));
		return rc;
	}
	if (latest.ts_ms == b->ts_ms && b->ts_ms != 0)
		return 0;
	memset(b, 0, sizeof(*b));
	if (api_prev_batch(txn, latest.ts_ms, &prev) == 0)
		b->window_ns = (latest.ts_ms - prev) * 1000000;
	b->have_ids =
		store_name_id(txn, "cpu/usage_rate", 14, &b->id_cpu) == 0 &&
		store_name_id(txn, "memory/working_set", 18, &b->id_mem) == 0;
	b->ts_json[0] = '"';
	b->ts_json_len = (uint32_t)api_fmt_time(latest.ts_ms, b->ts_json + 1);
	if (b->ts_json_len == 0)
		b->ts_json_len = (uint32_t)hc_time_format(latest.ts_ms, b->ts_json + 1);
	b->ts_json[++b->ts_json_len] = '"';
	b->ts_json_len++;
	b->window_len = (uint32_t)api_fmt_go_duration(b->window_ns, b->window);
	/* last: a failure above leaves no half-filled entry behind */
	b->ts_ms = latest.ts_ms;
	return 0;
}

int api_rings_tag(struct store_txn *txn, int64_t tag[API_CACHE_TAGS])
{
	for (int ring = STORE_SHORT; ring <= STORE_LONG; ring++) {
		int rc = store_ring_bounds(txn, (enum store_ring)ring, &tag[2 * ring],
					   &tag[2 * ring + 1]);

		if (rc == HC_ERR_NOTFOUND)
			tag[2 * ring] = tag[2 * ring + 1] = 0;
		else if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- response cache ---------------------------------------------------- */

const struct api_cache_ent *api_cached(uint64_t h, const char *path,
				       const char *query,
				       const int64_t tag[API_CACHE_TAGS],
				       int64_t now_ms)
{
	return api_cache_find(&api_w.cache, h, path, query, tag, now_ms);
}

void api_cache_keep(uint64_t h, const char *path, const char *query,
		    const int64_t tag[API_CACHE_TAGS], const struct kore_buf *body,
		    uint32_t now_off)
{
	/* too large or no memory: the answer is just not kept */
	(void)api_cache_put(&api_w.cache, h, path, query, tag, body->data,
			    body->offset, now_off);
}

void api_cache_reply(struct http_request *req, const struct api_cache_ent *e)
{
	api_metrics_count(req, 200);
	http_response_header(req, "content-type", "application/json");
	http_response(req, 200, e->body, e->body_len);
}

/* Resets the response buffer, shrinking it after an unusually large answer. */
static void api_out_reset(void)
{
	if (api_w.out.length > API_OUT_KEEP) {
		kore_buf_cleanup(&api_w.out);
		kore_buf_init(&api_w.out, API_OUT_INIT);
	}
	kore_buf_reset(&api_w.out);
}

void api_reply(struct http_request *req, int status)
{
	api_metrics_count(req, status);
	http_response_header(req, "content-type", "application/json");
	http_response(req, status, api_w.out.data, api_w.out.offset);
	api_out_reset();
}

void api_error(struct http_request *req, int status, const char *msg)
{
	kore_buf_reset(&api_w.out);
	api_json_raw(&api_w.out, "{\"error\":");
	api_json_str(&api_w.out, msg, strlen(msg));
	api_json_raw(&api_w.out, "}");
	api_reply(req, status);
}

void api_text(struct http_request *req, int status, const char *msg)
{
	api_metrics_count(req, status);
	http_response_header(req, "content-type", "text/plain; charset=utf-8");
	http_response(req, status, msg, strlen(msg));
}

int api_pts_reserve(uint32_t n)
{
	struct store_point *p;

	if (n <= api_w.pts_cap)
		return 0;
	p = realloc(api_w.pts, (size_t)n * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	api_w.pts = p;
	api_w.pts_cap = n;
	return 0;
}

int api_names_reserve(uint32_t n)
{
	struct api_name *p;

	if (n <= api_w.names_cap)
		return 0;
	p = realloc(api_w.names, (size_t)n * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	api_w.names = p;
	api_w.names_cap = n;
	return 0;
}

int api_vec_reserve(struct api_vec *v, uint32_t n, size_t size)
{
	uint32_t cap = v->cap ? v->cap : 16;
	void *p;

	if (n <= v->cap)
		return 0;
	while (cap < n) {
		if (cap > UINT32_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	p = realloc(v->p, (size_t)cap * size);
	if (p == NULL)
		return -ENOMEM;
	v->p = p;
	v->cap = cap;
	return 0;
}

/* ---- JSON writer ------------------------------------------------------ */

/*
 * kore_buf_append() grows a buffer by exactly the missing bytes and
 * kore_realloc() always copies, so an answer of n bytes built from small
 * appends cost O(n^2) copying: a 1.5 MB pod list took minutes.  Growing
 * by doubling first keeps appends amortized O(1).
 */
void api_buf_grow(struct kore_buf *b, size_t len)
{
	size_t n = b->length ? b->length : API_OUT_INIT;

	if (b->offset + len < len)
		fatal("api_buf_grow: overflow");
	while (n < b->offset + len)
		n *= 2;
	b->data = kore_realloc(b->data, n);   /* fatal() when out of memory */
	b->length = n;
}

void api_json_str(struct kore_buf *b, const char *s, size_t len)
{
	char chunk[6 * 64];
	size_t plain = 0;

	/* names and label values rarely need escaping: copy that part as is */
	while (plain < len && (unsigned char)s[plain] >= 0x20 &&
	       s[plain] != '"' && s[plain] != '\\')
		plain++;
	api_buf_append(b, "\"", 1);
	api_buf_append(b, s, plain);
	s += plain;
	len -= plain;
	while (len > 0) {
		size_t n = len < 64 ? len : 64;

		api_buf_append(b, chunk, api_json_escape(s, n, chunk));
		s += n;
		len -= n;
	}
	api_buf_append(b, "\"", 1);
}

void api_json_int(struct kore_buf *b, int64_t v)
{
	char num[24];

	api_buf_append(b, num, api_fmt_int(v, num));
}

void api_json_double(struct kore_buf *b, double v)
{
	char num[32];

	api_buf_append(b, num, api_fmt_double(v, num));
}

void api_json_time(struct kore_buf *b, int64_t ms)
{
	char ts[24];
	size_t n;

	ts[0] = '"';
	n = api_fmt_time(ms, ts + 1);
	if (n == 0)
		n = hc_time_format(ms, ts + 1);
	ts[n + 1] = '"';
	api_buf_append(b, ts, n + 2);
}
