/*
 * api_model.c - Heapster's model API, /api/v1/model/... (REFERENCE §5).
 *
 * One Kore handler serves every model route: api_model_parse() (api_util.c)
 * turns the path into an api_target (an operation on an entity key), and a
 * few generic operations answer it from the store:
 *
 *   NAMES    metric names of an entity, from the newest batch holding it;
 *   SERIES   one metric's points, {"metrics":[...],"latestTimestamp":...},
 *            through store_series() (short ring, then long ring);
 *   LIST     child names of the newest batch, found by a key-prefix scan
 *            (keys sort by name, so the list comes out sorted);
 *   PODLIST  SERIES for several pods, {"items":[...]} in list order;
 *   ALLKEYS  every entity key of the newest batch.
 *
 * A 200 answer is kept in the worker's response cache (api.h) under the
 * oldest and newest batch times of both rings, which is what every one of
 * these operations reads (a series spans both rings), and a request with
 * the same path and query is answered from it while they stay the same:
 * a series of 60 points costs its 60 store lookups once per batch and
 * worker, not per request.
 *
 * Status codes: 400 for a malformed path or query (bad escape, time,
 * labels), 404 for an unknown route, entity, or metric, 414 for a path part
 * beyond our buffers, 503 when the store cannot be read.  Float points keep
 * Heapster's integral "value" (truncated) and add the exact "floatValue";
 * values are signed (Heapster printed negative ones as huge unsigned).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "log.h"
#include "metrics.h"
#include "api.h"

#define API_MODEL_PREFIX     "/api/v1/model"
#define API_PTS_MAX          (1u << 20)   /* points of one series answer */
#define API_NAMES_MAX        (1u << 16)
#define API_GO_ZERO_TIME     "\"0001-01-01T00:00:00Z\""

/* The query arguments of SERIES and PODLIST. */
struct api_query {
	int64_t         start_ms, end_ms;   /* 0 = unbounded (store_series) */
	int             empty;              /* the window can hold no point */
	struct hc_label labels[API_LABELS_MAX];
	uint32_t        nlabels;
	char            labels_buf[API_ARG_MAX];
};

/* Parses ?start=&end= (RFC 3339, inclusive) and ?labels=k:v,...; 0 or 400 text in why. */
static int api_query_parse(const char *qs, struct api_query *q,
			   char *why, size_t why_len)
{
	static const char *const names[2] = { "start", "end" };
	int64_t *dst[2] = { &q->start_ms, &q->end_ms };
	int given[2] = { 0, 0 };
	char buf[API_ARG_MAX];
	size_t len;
	int rc;

	memset(q, 0, offsetof(struct api_query, labels));
	q->nlabels = 0;
	for (int i = 0; i < 2; i++) {
		rc = api_query_get(qs, names[i], buf, sizeof(buf), &len);
		if (rc == HC_ERR_NOTFOUND || (rc == 0 && len == 0))
			continue;   /* absent or empty: unbounded, as Heapster */
		if (rc == 0)
			rc = hc_time_parse(buf, len, dst[i]);
		if (rc != 0) {
			snprintf(why, why_len, "%s: not an RFC 3339 time", names[i]);
			return HC_ERR_PARSE;
		}
		given[i] = 1;
	}
	/* store_series() reads 0 as "unbounded": map explicit times onto that */
	if (q->start_ms < 0)
		q->start_ms = 0;
	if (given[1] && q->end_ms <= 0)
		q->empty = 1;
	if (given[0] && given[1] && q->start_ms > q->end_ms)
		q->empty = 1;

	rc = api_query_get(qs, "labels", q->labels_buf, sizeof(q->labels_buf), &len);
	if (rc == HC_ERR_NOTFOUND)
		return 0;
	if (rc == 0)
		rc = api_labels_parse(q->labels_buf, q->labels, API_LABELS_MAX,
				      &q->nlabels);
	if (rc != 0) {
		snprintf(why, why_len, "labels: expected k:v,k2:v2 (at most %d)",
			 API_LABELS_MAX);
		return HC_ERR_PARSE;
	}
	return 0;
}

/*
 * The newest stored value of entity `key`: the short ring's newest batch
 * first (the usual case), else the newest short batch holding it, else the
 * same in the long ring.  0 or HC_ERR_NOTFOUND.
 */
static int api_entity_find(struct store_txn *txn, const char *key, size_t len,
			   struct store_entity *e)
{
	for (int ring = STORE_SHORT; ring <= STORE_LONG; ring++) {
		struct store_batch_info latest, info;
		struct store_entity tmp;
		int64_t after = -1;
		int found = 0;

		if (store_latest(txn, (enum store_ring)ring, &latest) != 0)
			continue;
		if (store_entity_get(txn, (enum store_ring)ring, latest.ts_ms, key,
				     len, e) == 0)
			return 0;
		while (store_next_batch(txn, (enum store_ring)ring, after, &info) == 0 &&
		       info.ts_ms < latest.ts_ms) {
			if (store_entity_get(txn, (enum store_ring)ring, info.ts_ms,
					     key, len, &tmp) == 0) {
				*e = tmp;
				found = 1;
			}
			after = info.ts_ms;
		}
		if (found)
			return 0;
	}
	return HC_ERR_NOTFOUND;
}

/* Whether entity e has a value (labeled or not) of metric `id`. */
static int api_entity_has(const struct store_entity *e, uint32_t id)
{
	struct store_value v;
	size_t pos = 0;

	while (store_value_next(e, &pos, &v) == 1)
		if (v.name_id == id)
			return 1;
	return 0;
}

/*
 * A metric's points into api_w.pts, growing it while store_series() fills
 * it up (up to API_PTS_MAX).  0, or HC_ERR_NOTFOUND for a metric the store
 * has never seen.
 */
static int api_series(struct store_txn *txn, const char *key, size_t len,
		      const char *metric, const struct api_query *q, uint32_t *n)
{
	uint32_t id;
	int rc;

	*n = 0;
	if (q->empty)
		return store_name_id(txn, metric, strlen(metric), &id);
	for (;;) {
		rc = store_series(txn, key, len, metric, q->labels, q->nlabels,
				  q->start_ms, q->end_ms, api_w.pts, api_w.pts_cap, n);
		if (rc != 0 || *n < api_w.pts_cap || api_w.pts_cap >= API_PTS_MAX)
			return rc;
		if (api_pts_reserve(api_w.pts_cap * 2) != 0)
			return 0;   /* answer with what fits */
	}
}

/* Writes Heapster's MetricResult for api_w.pts[0..n). */
static void api_write_result(struct kore_buf *b, uint32_t n)
{
	int64_t latest = INT64_MIN;

	api_json_raw(b, "{\"metrics\":[");
	for (uint32_t i = 0; i < n; i++) {
		const struct store_point *p = &api_w.pts[i];

		api_json_raw(b, i ? ",{\"timestamp\":" : "{\"timestamp\":");
		api_json_time(b, p->ts_ms);
		api_json_raw(b, ",\"value\":");
		if (p->type == HC_FLOAT) {
			api_json_int(b, api_float_to_int(p->v.f));
			api_json_raw(b, ",\"floatValue\":");
			api_json_double(b, p->v.f);
		} else {
			api_json_int(b, p->v.i);
		}
		api_json_raw(b, "}");
		if (p->ts_ms > latest)
			latest = p->ts_ms;
	}
	api_json_raw(b, "],\"latestTimestamp\":");
	if (n == 0)
		api_json_raw(b, API_GO_ZERO_TIME);
	else
		api_json_time(b, latest);
	api_json_raw(b, "}");
}

/* SERIES: 200 with the points, or 404 naming what is missing. */
static int api_do_series(struct store_txn *txn, const struct api_target *t,
			 const struct api_query *q, char *why, size_t why_len)
{
	const char *metric = hc_metric_alias(t->metric);
	struct store_entity e;
	uint32_t n, id;
	int rc;

	rc = api_series(txn, t->key, t->key_len, metric, q, &n);
	if (rc == HC_ERR_NOTFOUND) {
		snprintf(why, why_len, "unknown metric %s", metric);
		return 404;
	}
	if (rc != 0) {
		snprintf(why, why_len, "store read failed");
		return 503;
	}
	if (n == 0) {
		if (api_entity_find(txn, t->key, t->key_len, &e) != 0) {
			snprintf(why, why_len, "%s not found", t->key);
			return 404;
		}
		if (store_name_id(txn, metric, strlen(metric), &id) != 0 ||
		    !api_entity_has(&e, id)) {
			snprintf(why, why_len, "%s has no metric %s", t->key, metric);
			return 404;
		}
	}
	api_write_result(&api_w.out, n);
	return 200;
}

/* PODLIST: one MetricResult per listed pod, empty for unknown pods. */
static int api_do_podlist(struct store_txn *txn, const struct api_target *t,
			  const struct api_query *q, char *why, size_t why_len)
{
	const char *metric = hc_metric_alias(t->metric);
	const char *p = t->pods;
	uint32_t id, n;
	int first = 1;

	if (store_name_id(txn, metric, strlen(metric), &id) != 0) {
		snprintf(why, why_len, "unknown metric %s", metric);
		return 404;
	}
	api_json_raw(&api_w.out, "{\"items\":[");
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t plen = comma ? (size_t)(comma - p) : strlen(p);
		char key[API_KEY_MAX];
		size_t klen = t->key_len + 5 + plen;

		/* namespace:NS/pod:P, without snprintf (one per listed pod) */
		n = 0;
		if (klen < sizeof(key)) {
			memcpy(key, t->key, t->key_len);
			memcpy(key + t->key_len, "/pod:", 5);
			memcpy(key + t->key_len + 5, p, plen);
			key[klen] = '\0';
			if (api_series(txn, key, klen, metric, q, &n) != 0)
				n = 0;
		}
		if (!first)
			api_json_raw(&api_w.out, ",");
		first = 0;
		api_write_result(&api_w.out, n);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	api_json_raw(&api_w.out, "]}");
	return 200;
}

static int api_name_cmp(const void *a, const void *b)
{
	const struct api_name *x = a, *y = b;
	uint32_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* NAMES: the sorted, distinct metric names of the entity's newest value. */
static int api_do_names(struct store_txn *txn, const struct api_target *t,
			char *why, size_t why_len)
{
	struct store_entity e;
	struct store_value v;
	uint32_t count = 0;
	size_t pos = 0;
	int rc;

	if (api_entity_find(txn, t->key, t->key_len, &e) != 0) {
		snprintf(why, why_len, "%s not found", t->key);
		return 404;
	}
	while ((rc = store_value_next(&e, &pos, &v)) == 1) {
		uint32_t i;

		for (i = 0; i < count && api_w.names[i].id != v.name_id; i++)
			;
		if (i < count)
			continue;
		if (count == api_w.names_cap &&
		    (count >= API_NAMES_MAX || api_names_reserve(count * 2) != 0))
			break;
		if (store_name_by_id(txn, v.name_id, &api_w.names[count].name,
				     &api_w.names[count].len) != 0)
			continue;   /* a name the writer has not committed: skip */
		api_w.names[count++].id = v.name_id;
	}
	if (rc < 0)
		hc_warn("corrupt value of %s in batch %lld", t->key,
			(long long)e.ts_ms);
	qsort(api_w.names, count, sizeof(*api_w.names), api_name_cmp);
	api_json_raw(&api_w.out, "[");
	for (uint32_t i = 0; i < count; i++) {
		if (i)
			api_json_raw(&api_w.out, ",");
		api_json_str(&api_w.out, api_w.names[i].name, api_w.names[i].len);
	}
	api_json_raw(&api_w.out, "]");
	return 200;
}

struct api_list_ctx {
	size_t   prefix_len;
	uint32_t count;
};

/* Writes a child's name: the key after the prefix, unless it goes deeper. */
static int api_list_one(void *arg, const struct store_entity *e)
{
	struct api_list_ctx *c = arg;
	const char *name = e->key + c->prefix_len;
	size_t len = e->key_len - c->prefix_len;

	if (len == 0 || memchr(name, '/', len) != NULL)
		return 0;
	if (c->count++)
		api_json_raw(&api_w.out, ",");
	api_json_str(&api_w.out, name, len);
	return 0;
}

/* Writes every key (debug/allkeys). */
static int api_key_one(void *arg, const struct store_entity *e)
{
	struct api_list_ctx *c = arg;

	if (c->count++)
		api_json_raw(&api_w.out, ",");
	api_json_str(&api_w.out, e->key, e->key_len);
	return 0;
}

/* LIST and ALLKEYS over the newest batch; 404 for children of an unknown parent. */
static int api_do_list(struct store_txn *txn, const struct api_target *t,
		       char *why, size_t why_len)
{
	struct api_list_ctx c = { t->prefix_len, 0 };
	struct store_batch_info latest;
	struct store_entity e;

	api_json_raw(&api_w.out, "[");
	if (store_latest(txn, STORE_SHORT, &latest) == 0) {
		if (t->op == API_OP_ALLKEYS)
			store_entity_scan(txn, STORE_SHORT, latest.ts_ms, NULL,
					  STORE_SCAN_NO_LABELS, api_key_one, &c);
		else
			store_entity_scan(txn, STORE_SHORT, latest.ts_ms, t->prefix,
					  STORE_SCAN_NO_LABELS, api_list_one, &c);
	}
	api_json_raw(&api_w.out, "]");
	if (c.count == 0 && t->op == API_OP_LIST && t->key_len > 0 &&
	    api_entity_find(txn, t->key, t->key_len, &e) != 0) {
		snprintf(why, why_len, "%s not found", t->key);
		return 404;
	}
	return 200;
}

/*
 * Answers a request the handler refused before reading the store, ending
 * the transaction it may have begun (txn NULL: none).
 */
static int api_model_refuse(struct http_request *req, struct store_txn *txn,
			    int status, const char *msg)
{
	if (txn != NULL)
		store_read_end(txn);
	api_error(req, status, msg);
	return KORE_RESULT_OK;
}

/*
 * Every answer is cached (api.h) under the rings' oldest and newest batch
 * times, looked up before the path is even parsed: only a 200 is kept,
 * so a hit is a path and query that parse.  The transaction begins first
 * (the tag must describe the snapshot the answer comes from), but a store
 * that cannot be read still lets a malformed request get its 400.
 */
int api_model(struct http_request *req)
{
	const size_t plen = sizeof(API_MODEL_PREFIX) - 1;
	const struct api_cache_ent *hit;
	struct api_target t;
	struct api_query q;
	struct store_txn *txn = NULL;
	int64_t tag[API_CACHE_TAGS];
	uint64_t h = 0;
	char why[API_KEY_MAX + API_METRIC_MAX + 64];
	const char *why_503 = NULL;
	size_t len = strlen(req->path);
	int status, rc, tagged = 0;

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		api_error(req, 405, "only GET is served");
		return KORE_RESULT_OK;
	}
	if (api_txn_open(&txn, &status, &why_503) != 0) {
		txn = NULL;
	} else if (api_rings_tag(txn, tag) == 0) {
		tagged = 1;
		h = api_cache_hash(req->path, req->query_string);
		hit = api_cached(h, req->path, req->query_string, tag, 0);
		if (hit != NULL) {
			store_read_end(txn);
			api_cache_reply(req, hit);
			return KORE_RESULT_OK;
		}
	}
	if (len < plen || memcmp(req->path, API_MODEL_PREFIX, plen) != 0)
		return api_model_refuse(req, txn, 404, "no such route");
	rc = api_model_parse(req->path + plen, len - plen, &t);
	if (rc != 0) {
		status = rc == HC_ERR_NOTFOUND ? 404 : rc == HC_ERR_TOOBIG ? 414 : 400;
		return api_model_refuse(req, txn, status,
					status == 404 ? "no such route" :
					status == 414 ? "path part too long" :
							"malformed path");
	}
	if ((t.op == API_OP_SERIES || t.op == API_OP_PODLIST) &&
	    api_query_parse(req->query_string, &q, why, sizeof(why)) != 0)
		return api_model_refuse(req, txn, 400, why);
	if (txn == NULL)
		return api_model_refuse(req, NULL, 503, why_503);
	kore_buf_reset(&api_w.out);
	why[0] = '\0';
	switch (t.op) {
	case API_OP_NAMES:
		status = api_do_names(txn, &t, why, sizeof(why));
		break;
	case API_OP_SERIES:
		status = api_do_series(txn, &t, &q, why, sizeof(why));
		break;
	case API_OP_PODLIST:
		status = api_do_podlist(txn, &t, &q, why, sizeof(why));
		break;
	case API_OP_LIST:
	case API_OP_ALLKEYS:
	default:
		status = api_do_list(txn, &t, why, sizeof(why));
		break;
	}
	store_read_end(txn);
	if (status != 200) {
		api_error(req, status, why);
		return KORE_RESULT_OK;
	}
	if (tagged)
		api_cache_keep(h, req->path, req->query_string, tag, &api_w.out,
			       API_CACHE_NO_NOW);
	api_reply(req, status);
	return KORE_RESULT_OK;
}
