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
 */
#ifndef HC_API_H
#define HC_API_H

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

/* Appends to a kore_buf growing it by doubling (see api.c); use it, never
 * kore_buf_append(), for anything that may grow large. */
void api_buf_append(struct kore_buf *b, const void *data, size_t len);

/* JSON writer into a kore_buf. */
void api_json_raw(struct kore_buf *b, const char *s);
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
