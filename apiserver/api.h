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

struct api_worker {
	struct store       *store;          /* NULL until an open succeeds */
	const char         *store_path;     /* $HEAPSTER_STORE, NULL if unset */
	int64_t             next_open_ms;   /* monotonic: next open attempt */
	struct kore_buf     out;            /* response body */
	struct store_point *pts;            /* store_series() output */
	uint32_t            pts_cap;
	struct api_name    *names;          /* metric-name list scratch */
	uint32_t            names_cap;
};

extern struct api_worker api_w;

/*
 * Begins the request's read transaction, (re)opening the store if needed
 * (at most once a second).  On failure it answers 503 itself and returns
 * a negative code: the handler just returns.
 */
int api_txn_begin(struct http_request *req, struct store_txn **txn);

/* Sends api_w.out with `status` and a JSON content type. */
void api_reply(struct http_request *req, int status);
/* Sends {"error":msg} with `status`. */
void api_error(struct http_request *req, int status, const char *msg);
/* Sends a plain-text body (healthz). */
void api_text(struct http_request *req, int status, const char *msg);

/* Grows api_w.pts / api_w.names to at least n entries: 0 or -ENOMEM. */
int api_pts_reserve(uint32_t n);
int api_names_reserve(uint32_t n);

/* JSON writer into a kore_buf. */
void api_json_raw(struct kore_buf *b, const char *s);
void api_json_str(struct kore_buf *b, const char *s, size_t len);
void api_json_int(struct kore_buf *b, int64_t v);
void api_json_double(struct kore_buf *b, double v);
void api_json_time(struct kore_buf *b, int64_t ms);   /* "RFC 3339" */

/* Handlers named in heapster-api.conf.in. */
int api_model(struct http_request *req);
int api_healthz(struct http_request *req);

#endif
