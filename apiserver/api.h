/*
 * api.h - what the API server's files share: the per-worker state, the
 * store session helpers, the response helpers and the JSON writer.
 *
 * Kore forks one process per worker, so "per worker" is simply a global:
 * api_w holds the worker's own store handle (opened in
 * kore_worker_configure(), never in the parent, since LMDB environments do
 * not survive fork) and buffers reused by every request, so a request
 * allocates nothing in the steady state.  A handler runs one read
 * transaction (api_txn_begin ... store_read_end), writes its JSON into
 * api_w.out while the transaction is open (strings point into the map),
 * ends it, then sends the buffer with api_reply().
 *
 * What depends only on the newest batch of the short ring (its time, the
 * window since the batch before it, the store ids of the metrics.k8s.io
 * metrics, their JSON text) is worked out once per batch and per worker
 * by api_batch_get(), which every request calls inside its transaction:
 * one store_latest() tells whether the cached values still describe the
 * newest batch that transaction sees.
 *
 * Whole answers are cached per worker too (api_cached, api_cache_keep;
 * the cache itself is api_util.c's): an answer is a function of its path
 * and query and of the batches its transaction sees, a stored batch never
 * changes, and batches are only appended after the newest and dropped
 * from the oldest.  So the oldest and newest batch times of the rings an
 * answer reads (its "tag") name exactly the data it was computed from: an
 * entry serves a request only if that request's own transaction gives the
 * same tag, so a new batch, or a dropped one, retires it.  The model API
 * tags with both rings (api_rings_tag), metrics.k8s.io's single objects
 * with the newest batch; the one part of an answer that is not a
 * function of the store, a metrics.k8s.io object's creationTimestamp
 * (the time of the request), is rewritten on each hit.
 */
#ifndef HC_API_H
#define HC_API_H

#include <string.h>

#include <kore/kore.h>
#include <kore/http.h>

#include "store.h"
#include "api_util.h"

/* A metric name of an entity, pointing into the map (api_model.c). */
struct api_name {
	const char *name;
	uint32_t    len;
	uint32_t    id;
};

/*
 * A growable array of fixed-size elements, kept across requests (reset
 * per request by setting n = 0).  Every handler has its own slots in
 * api_w.vec, so nothing is allocated once they have grown.
 */
struct api_vec {
	void     *p;
	uint32_t  n;
	uint32_t  cap;
};

enum api_vec_id {
	API_VEC_PODS = 0,   /* api_resource.c: pods of a list */
	API_VEC_CTRS,       /* api_resource.c: containers of one pod */
	API_VEC_VALS,       /* api_export.c: values of one entity */
	API_VEC_NAMES,      /* api_export.c: metric names by store id */
	API_VEC_COUNT
};

/*
 * The newest batch of the short ring as a request's transaction sees it,
 * with what the resource API derives from it (api_batch_get()).
 */
struct api_batch {
	int64_t  ts_ms;           /* batch time; 0: the ring is empty */
	int64_t  window_ns;       /* since the batch before it; 0: none */
	uint32_t id_cpu;          /* store id of cpu/usage_rate */
	uint32_t id_mem;          /* store id of memory/working_set */
	int      have_ids;        /* both names are in the store */
	char     ts_json[24];     /* ts_ms as a JSON string, quoted */
	uint32_t ts_json_len;
	char     window[32];      /* window_ns as Go prints a duration */
	uint32_t window_len;
};

struct api_worker {
	struct store       *store;          /* NULL until an open succeeds */
	const char         *store_path;     /* $HEAPSTER_STORE, NULL if unset */
	const char         *allowed_users;  /* $HEAPSTER_ALLOWED_USERS: CNs, ','
					     * separated; NULL or "": any */
	int64_t             next_open_ms;   /* monotonic: next open attempt */
	struct kore_buf     out;            /* response body */
	struct store_point *pts;            /* store_series() output */
	uint32_t            pts_cap;
	struct api_name    *names;          /* metric-name list scratch */
	uint32_t            names_cap;
	struct api_vec      vec[API_VEC_COUNT];
	struct api_batch    batch;          /* api_batch_get()'s cache */
	struct api_cache    cache;          /* whole answers (api_util.h) */
};

extern struct api_worker api_w;

/*
 * Begins the request's read transaction, (re)opening the store if needed
 * (at most once a second).  On failure it answers 503 itself and returns
 * a negative code: the handler just returns.
 */
int api_txn_begin(struct http_request *req, struct store_txn **txn);
/*
 * The same without answering: 0, or a negative code with *status (503)
 * and *why set, for handlers that answer errors in their own format.
 */
int api_txn_open(struct store_txn **txn, int *status, const char **why);

/*
 * The newest batch of the short ring in txn and what depends only on it,
 * from the worker's cache while store_latest() gives the same batch time
 * (the writer adds names, and batches after the newest, only in the
 * transaction that stores a newer one; api.c tells the one edge case).
 * 0, HC_ERR_NOTFOUND when the ring is empty (*b then has ts_ms 0 and no
 * ids), or another negative code from the store.  *b is valid until the
 * next call.
 */
int api_batch_get(struct store_txn *txn, const struct api_batch **b);

/*
 * The tag of the model API's answers: the oldest and newest batch times
 * of the short and the long ring in txn (0 for an empty ring).  0, or a
 * negative code when the index cannot be read (then do not cache).
 */
int api_rings_tag(struct store_txn *txn, int64_t tag[API_CACHE_TAGS]);

/*
 * api_cache_find() and api_cache_put() (api_util.h) on the worker's cache,
 * api_w.cache; h is api_cache_hash(path, query).
 */
const struct api_cache_ent *api_cached(uint64_t h, const char *path,
				       const char *query,
				       const int64_t tag[API_CACHE_TAGS],
				       int64_t now_ms);
void api_cache_keep(uint64_t h, const char *path, const char *query,
		    const int64_t tag[API_CACHE_TAGS], const struct kore_buf *body,
		    uint32_t now_off);
/* Answers 200 with a cached body (JSON). */
void api_cache_reply(struct http_request *req, const struct api_cache_ent *e);

/* Sends api_w.out with `status` and a JSON content type. */
void api_reply(struct http_request *req, int status);
/* Sends {"error":msg} with `status`. */
void api_error(struct http_request *req, int status, const char *msg);
/* Sends a plain-text body (healthz). */
void api_text(struct http_request *req, int status, const char *msg);

/* Grows api_w.pts / api_w.names to at least n entries: 0 or -ENOMEM. */
int api_pts_reserve(uint32_t n);
int api_names_reserve(uint32_t n);
/* Grows v to hold at least n elements of `size` bytes: 0 or -ENOMEM. */
int api_vec_reserve(struct api_vec *v, uint32_t n, size_t size);

/* Grows b by doubling until len more bytes fit (see api.c). */
void api_buf_grow(struct kore_buf *b, size_t len);

/*
 * Appends to a kore_buf growing it by doubling; use it, never
 * kore_buf_append(), for anything that may grow large.  Inline with
 * api_json_raw(): a response is dozens of small appends, and the compiler
 * then counts the bytes of every literal at build time.
 */
static inline void api_buf_append(struct kore_buf *b, const void *data,
				  size_t len)
{
	if (b->length - b->offset < len)
		api_buf_grow(b, len);
	memcpy(b->data + b->offset, data, len);
	b->offset += len;
}

/* JSON writer into a kore_buf. */
static inline void api_json_raw(struct kore_buf *b, const char *s)
{
	api_buf_append(b, s, strlen(s));
}
void api_json_str(struct kore_buf *b, const char *s, size_t len);
void api_json_int(struct kore_buf *b, int64_t v);
void api_json_double(struct kore_buf *b, double v);
void api_json_time(struct kore_buf *b, int64_t ms);   /* "RFC 3339" */

/* Handlers named in heapster-api.conf.in. */
int api_model(struct http_request *req);
int api_healthz(struct http_request *req);
int api_readyz(struct http_request *req);
int api_livez(struct http_request *req);
int api_resource(struct http_request *req);        /* /apis, metrics.k8s.io */
int api_export(struct http_request *req);          /* /api/v1/metric-export */
int api_export_schema(struct http_request *req);   /* /api/v1/metric-export-schema */
int api_metrics(struct http_request *req);         /* /metrics, Prometheus text */
/* Validator of the `client_cert` authentication block (api_auth.c). */
int api_auth_client(struct http_request *req, const void *data);
/* Counts a response for /metrics (route and status, latency). */
void api_metrics_count(struct http_request *req, int status);

#endif
