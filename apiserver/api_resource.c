/*
 * api_resource.c - the resource metrics API, metrics.k8s.io/v1beta1
 * (REFERENCE §5): what `kubectl top` and the HorizontalPodAutoscaler read.
 *
 * One Kore handler serves every path under /apis: the discovery documents
 * an aggregated API server answers (/apis, /apis/metrics.k8s.io,
 * /apis/metrics.k8s.io/v1beta1), NodeMetrics and PodMetrics objects and
 * lists, and the same objects under Heapster's old /apis/metrics/v1alpha1.
 * api_res_parse() (api_util.c) turns the path into an operation.
 *
 * Everything comes from the newest batch of the short ring, as in
 * Heapster: CPU is cpu/usage_rate (millicores, ×1e6 as nanocores "NNNn"),
 * memory is memory/working_set ("NNNKi").  "timestamp" is the batch time
 * (the end of the window the rate covers) and "window" the interval since
 * the batch before it, as Go prints a duration ("15s").  creationTimestamp
 * is the time of the request, as metrics-server sets it (the objects are
 * computed, not stored).  A node is served when its own set has both
 * values; a pod when it has at least one container and every container of
 * it in that batch has both (metrics-server's rule: never a partial pod).
 * A GET of an object without metrics is 404, a list leaves it out.
 *
 * Selectors: ?labelSelector= (the whole equality- and set-based grammar)
 * matches the "labels" label of the node or pod set, "k:v" pairs joined by
 * ','; a set without it has no labels (k!=v and !k match, k=v does not).
 * ?fieldSelector= accepts metadata.name and metadata.namespace with =, ==
 * and !=.  Errors are Kubernetes Status objects (kubectl prints their
 * message): 404 NotFound with details for a missing object, 400 BadRequest
 * for a bad selector, 405 for a method other than GET, 503 when the store
 * cannot be read.
 *
 * The newest batch's time, window and metric ids come from the worker's
 * cache of them (api_batch_get), and a NodeMetrics or PodMetrics answered
 * once is served from the response cache (api.h) while the newest batch
 * stays the same, its creationTimestamp rewritten.
 *
 * Lists are written while the read transaction is open (names point into
 * the map).  Pods are gathered first, so the all-namespaces list comes out
 * sorted by namespace then name (key order differs when one namespace
 * name prefixes another), then each pod's containers are read by a key
 * prefix scan into api_w.vec[API_VEC_CTRS].
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "log.h"
#include "metrics.h"
#include "api.h"

#define API_MK_GROUP       "metrics.k8s.io"
#define API_MK_GV         "metrics.k8s.io/v1beta1"
#define API_MK_LEGACY_GV  "metrics/v1alpha1"
#define API_MK_LEGACY_GRP "metrics"
#define API_MK_MAX_MILLI  (INT64_MAX / 1000000)

#define API_MK_GV_JSON \
	"{\"groupVersion\":\"" API_MK_GV "\",\"version\":\"v1beta1\"}"
#define API_MK_GROUP_BODY \
	"\"name\":\"" API_MK_GROUP "\",\"versions\":[" API_MK_GV_JSON "]," \
	"\"preferredVersion\":" API_MK_GV_JSON

static const char api_res_groups_json[] =
	"{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{"
	API_MK_GROUP_BODY "}]}";

static const char api_res_group_json[] =
	"{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," API_MK_GROUP_BODY "}";

static const char api_res_resources_json[] =
	"{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\","
	"\"groupVersion\":\"" API_MK_GV "\",\"resources\":["
	"{\"name\":\"nodes\",\"singularName\":\"\",\"namespaced\":false,"
	"\"kind\":\"NodeMetrics\",\"verbs\":[\"get\",\"list\"]},"
	"{\"name\":\"pods\",\"singularName\":\"\",\"namespaced\":true,"
	"\"kind\":\"PodMetrics\",\"verbs\":[\"get\",\"list\"]}]}";

/* One pod of a list: strings point into the map. */
struct api_pod {
	const char *key;        /* namespace:NS/pod:P */
	uint32_t    key_len;
	const char *ns;
	uint32_t    ns_len;
	const char *name;
	uint32_t    name_len;
	const char *labels;     /* "k:v,..." or NULL */
	uint32_t    labels_len;
};

/* One container of a pod. */
struct api_ctr {
	const char *name;
	uint32_t    name_len;
	int64_t     cpu_nano;
	int64_t     mem;
	int         ok;         /* has both values */
};

/* What one request reads and writes. */
struct api_res_ctx {
	struct store_txn            *txn;
	const struct api_res_target *t;
	struct kore_buf             *b;
	struct api_selector          lsel, fsel;
	const struct api_batch      *batch;      /* newest batch (api_batch_get) */
	int64_t                      ts_ms;      /* its time; 0: none */
	int64_t                      now_ms;
	uint32_t                     now_off;    /* creationTimestamp's text in b */
	uint32_t                     id_cpu, id_mem;
	int                          have_ids;
	uint32_t                     count;      /* items written */
	int                          failed;     /* out of memory midway */
};

/* ---- errors ------------------------------------------------------------ */

/*
 * Answers a Kubernetes Status.  With `name`, details name the object
 * (as apimachinery's NewNotFound: group, and the resource as "kind").
 */
static void api_res_status(struct http_request *req, int code,
			   const char *reason, const char *msg,
			   const char *name, const char *resource, int legacy)
{
	struct kore_buf *b = &api_w.out;

	kore_buf_reset(b);
	api_json_raw(b, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
		     "\"status\":\"Failure\",\"message\":");
	api_json_str(b, msg, strlen(msg));
	api_json_raw(b, ",\"reason\":");
	api_json_str(b, reason, strlen(reason));
	if (name != NULL) {
		api_json_raw(b, ",\"details\":{\"name\":");
		api_json_str(b, name, strlen(name));
		api_json_raw(b, legacy ? ",\"group\":\"" API_MK_LEGACY_GRP "\",\"kind\":"
				       : ",\"group\":\"" API_MK_GROUP "\",\"kind\":");
		api_json_str(b, resource, strlen(resource));
		api_json_raw(b, "}");
	} else if (code == 404) {
		api_json_raw(b, ",\"details\":{}");
	}
	api_json_raw(b, ",\"code\":");
	api_json_int(b, code);
	api_json_raw(b, "}");
	api_reply(req, code);
}

/* 404 for one object: `nodes.metrics.k8s.io "n" not found`. */
static void api_res_not_found(struct http_request *req,
			      const struct api_res_target *t)
{
	const char *resource = t->op == API_RES_NODE ? "nodes" : "pods";
	char name[2 * API_NAME_MAX], msg[2 * API_NAME_MAX + 64];

	if (t->op == API_RES_NODE)
		snprintf(name, sizeof(name), "%s", t->name);
	else
		snprintf(name, sizeof(name), "%s/%s", t->ns, t->name);
	snprintf(msg, sizeof(msg), "%s.%s \"%s\" not found", resource,
		 t->legacy ? API_MK_LEGACY_GRP : API_MK_GROUP, name);
	api_res_status(req, 404, "NotFound", msg, name, resource, t->legacy);
}

/* ---- reading ----------------------------------------------------------- */

/* Nanocores and working-set bytes of an entity: 1 when it has both. */
static int api_usage(const struct api_res_ctx *c, const struct store_entity *e,
		     int64_t *cpu_nano, int64_t *mem)
{
	struct store_value v;
	size_t pos = 0;
	int has_cpu = 0, has_mem = 0;

	while (store_value_next(e, &pos, &v) == 1) {
		if (v.labels != NULL)
			continue;
		if (v.name_id == c->id_cpu) {
			double m = v.type == HC_FLOAT ? v.v.f : (double)v.v.i;

			if (!(m >= 0 && m <= (double)API_MK_MAX_MILLI))
				continue;   /* negative, NaN or absurd: no rate */
			*cpu_nano = v.type == HC_FLOAT ? (int64_t)(m * 1e6 + 0.5)
						       : v.v.i * 1000000;
			has_cpu = 1;
		} else if (v.name_id == c->id_mem) {
			*mem = v.type == HC_FLOAT ? api_float_to_int(v.v.f) : v.v.i;
			has_mem = 1;
		}
	}
	return has_cpu && has_mem;
}

/*
 * The "labels" label of a set ("k:v,..."), or an empty list.  Scans read
 * without labels (STORE_SCAN_NO_LABELS): they are looked up here, only for
 * the node and pod sets, never for their containers.
 */
static void api_set_labels(struct store_txn *txn, const struct store_entity *e,
			   const char **s, uint32_t *len)
{
	struct store_entity l = *e;

	if (l.labels == NULL)
		store_entity_labels(txn, &l);
	if (store_label_get(l.labels, l.nlabels, HC_L_LABELS, s, len) != 0) {
		*s = "";
		*len = 0;
	}
}

/* Whether an object passes ?labelSelector= and ?fieldSelector=. */
static int api_selected(const struct api_res_ctx *c, const char *ns,
			size_t ns_len, const char *name, size_t name_len,
			const char *labels, size_t labels_len)
{
	char fields[2 * API_KEY_MAX + 64];
	int n;

	if (!api_selector_match(&c->lsel, labels, labels_len))
		return 0;
	if (c->fsel.n == 0)
		return 1;
	/* names come from entity keys, so both fit (API_KEY_MAX each) */
	if (ns != NULL)
		n = snprintf(fields, sizeof(fields), "metadata.name:%.*s,metadata.namespace:%.*s",
			     (int)name_len, name, (int)ns_len, ns);
	else
		n = snprintf(fields, sizeof(fields), "metadata.name:%.*s", (int)name_len, name);
	return n > 0 && (size_t)n < sizeof(fields) &&
	       api_selector_match(&c->fsel, fields, (size_t)n);
}

/* ---- writing ----------------------------------------------------------- */

static void api_quantity(struct kore_buf *b, int64_t v, int cpu)
{
	char q[32];
	size_t n;

	q[0] = '"';
	n = cpu ? api_fmt_cpu_quantity(v, q + 1) : api_fmt_mem_quantity(v, q + 1);
	q[n + 1] = '"';
	api_buf_append(b, q, n + 2);
}

static void api_usage_json(struct kore_buf *b, int64_t cpu_nano, int64_t mem)
{
	api_json_raw(b, "\"usage\":{\"cpu\":");
	api_quantity(b, cpu_nano, 1);
	api_json_raw(b, ",\"memory\":");
	api_quantity(b, mem, 0);
	api_json_raw(b, "}");
}

/*
 * Opens one object: kind and apiVersion when it stands alone, metadata,
 * timestamp and window.  The caller writes the rest and the closing '}'.
 */
static void api_object_head(struct api_res_ctx *c, const char *kind,
			    const char *ns, size_t ns_len, const char *name,
			    size_t name_len, const char *labels, size_t labels_len)
{
	struct kore_buf *b = c->b;
	const char *k, *v;
	size_t kl, vl, pos = 0;
	int first = 1;

	if (kind != NULL) {
		api_json_raw(b, "{\"kind\":");
		api_json_str(b, kind, strlen(kind));
		api_json_raw(b, c->t->legacy ? ",\"apiVersion\":\"" API_MK_LEGACY_GV "\","
					     : ",\"apiVersion\":\"" API_MK_GV "\",");
	} else {
		api_json_raw(b, "{");
	}
	api_json_raw(b, "\"metadata\":{\"name\":");
	api_json_str(b, name, name_len);
	if (ns != NULL) {
		api_json_raw(b, ",\"namespace\":");
		api_json_str(b, ns, ns_len);
	}
	api_json_raw(b, ",\"creationTimestamp\":");
	c->now_off = (uint32_t)b->offset + 1;   /* past the quote */
	api_json_time(b, c->now_ms);
	while (api_klabels_next(labels, labels_len, &pos, &k, &kl, &v, &vl) == 1) {
		api_json_raw(b, first ? ",\"labels\":{" : ",");
		first = 0;
		api_json_str(b, k, kl);
		api_json_raw(b, ":");
		api_json_str(b, v, vl);
	}
	api_json_raw(b, first ? "}" : "}}");
	api_json_raw(b, ",\"timestamp\":");
	api_buf_append(b, c->batch->ts_json, c->batch->ts_json_len);
	api_json_raw(b, ",\"window\":\"");
	api_buf_append(b, c->batch->window, c->batch->window_len);
	api_json_raw(b, "\",");
}

static void api_list_head(struct api_res_ctx *c, const char *kind)
{
	api_json_raw(c->b, "{\"kind\":");
	api_json_str(c->b, kind, strlen(kind));
	api_json_raw(c->b, c->t->legacy
		     ? ",\"apiVersion\":\"" API_MK_LEGACY_GV "\",\"metadata\":{},\"items\":["
		     : ",\"apiVersion\":\"" API_MK_GV "\",\"metadata\":{},\"items\":[");
}

/* ---- nodes ------------------------------------------------------------- */

/* Writes one node's item when it has metrics (and, listing, is selected). */
static int api_node_one(void *arg, const struct store_entity *e)
{
	struct api_res_ctx *c = arg;
	const char *name = e->key + 5, *labels;
	size_t name_len = e->key_len - 5;
	uint32_t labels_len;
	int64_t cpu, mem;

	if (e->key_len <= 5 || memchr(name, '/', name_len) != NULL)
		return 0;   /* a system container */
	api_set_labels(c->txn, e, &labels, &labels_len);
	if (c->t->op == API_RES_NODES &&
	    !api_selected(c, NULL, 0, name, name_len, labels, labels_len))
		return 0;
	if (!api_usage(c, e, &cpu, &mem))
		return 0;
	if (c->t->op == API_RES_NODES && c->count > 0)
		api_json_raw(c->b, ",");
	api_object_head(c, c->t->op == API_RES_NODE ? "NodeMetrics" : NULL, NULL, 0,
			name, name_len, labels, labels_len);
	api_usage_json(c->b, cpu, mem);
	api_json_raw(c->b, "}");
	c->count++;
	return 0;
}

/* ---- pods -------------------------------------------------------------- */

/* Gathers a pod set ("namespace:NS/pod:P") that passes the selectors. */
static int api_pod_gather(void *arg, const struct store_entity *e)
{
	struct api_res_ctx *c = arg;
	struct api_vec *vec = &api_w.vec[API_VEC_PODS];
	const char *key = e->key, *end = e->key + e->key_len, *slash, *name;
	struct api_pod *p;
	const char *labels;
	uint32_t labels_len;

	if (e->key_len < 10 || memcmp(key, "namespace:", 10) != 0)
		return 0;
	slash = memchr(key + 10, '/', (size_t)(end - key - 10));
	if (slash == NULL || end - slash < 6 || memcmp(slash, "/pod:", 5) != 0)
		return 0;
	name = slash + 5;
	if (memchr(name, '/', (size_t)(end - name)) != NULL)
		return 0;   /* a container */
	api_set_labels(c->txn, e, &labels, &labels_len);
	if (!api_selected(c, key + 10, (size_t)(slash - key - 10), name,
			  (size_t)(end - name), labels, labels_len))
		return 0;
	if (api_vec_reserve(vec, vec->n + 1, sizeof(*p)) != 0) {
		c->failed = 1;
		return 1;
	}
	p = (struct api_pod *)vec->p + vec->n++;
	p->key = key;
	p->key_len = e->key_len;
	p->ns = key + 10;
	p->ns_len = (uint32_t)(slash - key - 10);
	p->name = name;
	p->name_len = (uint32_t)(end - name);
	p->labels = labels;
	p->labels_len = labels_len;
	return 0;
}

static int api_pod_cmp(const void *a, const void *b)
{
	const struct api_pod *x = a, *y = b;
	uint32_t n = x->ns_len < y->ns_len ? x->ns_len : y->ns_len;
	int r = memcmp(x->ns, y->ns, n);

	if (r != 0 || x->ns_len != y->ns_len)
		return r ? r : (x->ns_len > y->ns_len) - (x->ns_len < y->ns_len);
	n = x->name_len < y->name_len ? x->name_len : y->name_len;
	r = memcmp(x->name, y->name, n);
	return r ? r : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/* Collects one container of the pod being read. */
static int api_ctr_gather(void *arg, const struct store_entity *e)
{
	struct api_res_ctx *c = arg;
	struct api_vec *vec = &api_w.vec[API_VEC_CTRS];
	const char *end = e->key + e->key_len, *name = end;
	struct api_ctr *ctr;

	/* the key is namespace:NS/pod:P/container:C: C follows the last ':' */
	while (name > e->key && name[-1] != ':')
		name--;
	if (name == e->key || name == end)
		return 0;
	if (api_vec_reserve(vec, vec->n + 1, sizeof(*ctr)) != 0) {
		c->failed = 1;
		return 1;
	}
	ctr = (struct api_ctr *)vec->p + vec->n++;
	ctr->name = name;
	ctr->name_len = (uint32_t)(end - name);
	ctr->cpu_nano = ctr->mem = 0;
	ctr->ok = api_usage(c, e, &ctr->cpu_nano, &ctr->mem);
	return 0;
}

/*
 * Reads the containers of pod `key` into api_w.vec[API_VEC_CTRS]: 1 when
 * there is at least one and all have metrics, 0 otherwise.
 */
static int api_pod_containers(struct api_res_ctx *c, const char *key,
			      size_t key_len)
{
	struct api_vec *vec = &api_w.vec[API_VEC_CTRS];
	char prefix[API_KEY_MAX + 16];
	const struct api_ctr *ctr;

	vec->n = 0;
	if (key_len + sizeof("/container:") > sizeof(prefix))
		return 0;
	memcpy(prefix, key, key_len);
	memcpy(prefix + key_len, "/container:", sizeof("/container:"));
	store_entity_scan(c->txn, STORE_SHORT, c->ts_ms, prefix,
			  STORE_SCAN_NO_LABELS, api_ctr_gather, c);
	ctr = vec->p;
	for (uint32_t i = 0; i < vec->n; i++)
		if (!ctr[i].ok)
			return 0;
	return vec->n > 0;
}

/* Writes one PodMetrics from the containers just read. */
static void api_pod_write(struct api_res_ctx *c, const char *kind,
			  const struct api_pod *p)
{
	const struct api_vec *vec = &api_w.vec[API_VEC_CTRS];
	const struct api_ctr *ctr = vec->p;

	api_object_head(c, kind, p->ns, p->ns_len, p->name, p->name_len,
			p->labels, p->labels_len);
	api_json_raw(c->b, "\"containers\":[");
	for (uint32_t i = 0; i < vec->n; i++) {
		api_json_raw(c->b, i ? ",{\"name\":" : "{\"name\":");
		api_json_str(c->b, ctr[i].name, ctr[i].name_len);
		api_json_raw(c->b, ",");
		api_usage_json(c->b, ctr[i].cpu_nano, ctr[i].mem);
		api_json_raw(c->b, "}");
	}
	api_json_raw(c->b, "]}");
	c->count++;
}

/* PodMetricsList of one namespace, or of all. */
static void api_pods_list(struct api_res_ctx *c)
{
	struct api_vec *vec = &api_w.vec[API_VEC_PODS];
	char prefix[API_NAME_MAX + 32];
	struct api_pod *pods;

	api_list_head(c, "PodMetricsList");
	vec->n = 0;
	if (c->have_ids) {
		if (c->t->ns_len > 0)
			snprintf(prefix, sizeof(prefix), "namespace:%s/pod:", c->t->ns);
		else
			snprintf(prefix, sizeof(prefix), "namespace:");
		store_entity_scan(c->txn, STORE_SHORT, c->ts_ms, prefix,
				  STORE_SCAN_NO_LABELS, api_pod_gather, c);
	}
	pods = vec->p;
	if (c->t->ns_len == 0 && vec->n > 1)
		qsort(pods, vec->n, sizeof(*pods), api_pod_cmp);
	for (uint32_t i = 0; i < vec->n && !c->failed; i++) {
		if (!api_pod_containers(c, pods[i].key, pods[i].key_len))
			continue;
		if (c->count > 0)
			api_json_raw(c->b, ",");
		api_pod_write(c, NULL, &pods[i]);
	}
	api_json_raw(c->b, "]}");
}

/* One PodMetrics: 1 when written, 0 when the pod has no complete metrics. */
static int api_pod_get(struct api_res_ctx *c)
{
	const struct api_res_target *t = c->t;
	struct store_entity e;
	struct api_pod p;
	char key[API_KEY_MAX];
	size_t n = 10 + t->ns_len + 5 + t->name_len;

	/* namespace:NS/pod:P, without snprintf: this is the hot path */
	if (n >= sizeof(key) || !c->have_ids)
		return 0;
	memcpy(key, "namespace:", 10);
	memcpy(key + 10, t->ns, t->ns_len);
	memcpy(key + 10 + t->ns_len, "/pod:", 5);
	memcpy(key + 15 + t->ns_len, t->name, t->name_len);
	key[n] = '\0';
	if (!api_pod_containers(c, key, n))
		return 0;
	p.key = key;
	p.key_len = (uint32_t)n;
	p.ns = c->t->ns;
	p.ns_len = (uint32_t)c->t->ns_len;
	p.name = c->t->name;
	p.name_len = (uint32_t)c->t->name_len;
	if (store_entity_get(c->txn, STORE_SHORT, c->ts_ms, key, n, &e) == 0) {
		api_set_labels(c->txn, &e, &p.labels, &p.labels_len);
	} else {
		p.labels = "";
		p.labels_len = 0;
	}
	api_pod_write(c, "PodMetrics", &p);
	return 1;
}

/* ---- the handler ------------------------------------------------------- */

/* Parses ?labelSelector= and ?fieldSelector= into c; 0 or 400 text in why. */
static int api_res_query(const char *qs, struct api_res_ctx *c, char *lbuf,
			 char *fbuf, size_t cap, char *why, size_t why_len)
{
	static const char *const names[2] = { "labelSelector", "fieldSelector" };
	struct api_selector *sels[2] = { &c->lsel, &c->fsel };
	char *bufs[2] = { lbuf, fbuf };

	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		int rc;

		sels[i]->n = 0;
		rc = api_query_get(qs, names[i], bufs[i], cap, &len);
		if (rc == HC_ERR_NOTFOUND)
			continue;
		/* clients encode a space as '+' (Go's url.Values); '+' is not
		 * valid in any key or value, so nothing is lost */
		for (size_t j = 0; rc == 0 && j < len; j++)
			if (bufs[i][j] == '+')
				bufs[i][j] = ' ';
		if (rc == 0)
			rc = api_selector_parse(bufs[i], len, i ? API_SEL_FIELDS : 0,
						sels[i]);
		for (uint32_t j = 0; rc == 0 && i == 1 && j < c->fsel.n; j++) {
			const struct api_sel_str *k = &c->fsel.reqs[j].key;

			if (!(k->len == 13 && memcmp(k->p, "metadata.name", 13) == 0) &&
			    !(k->len == 18 && memcmp(k->p, "metadata.namespace", 18) == 0)) {
				snprintf(why, why_len, "field label not supported: %.*s",
					 (int)k->len, k->p);
				return HC_ERR_PARSE;
			}
		}
		if (rc != 0) {
			snprintf(why, why_len, "unable to parse %s %s", names[i],
				 rc == HC_ERR_TOOBIG ? "(too many requirements or values)"
						     : "(expected k=v, k!=v, k in (v1,v2), k notin (v), k or !k)");
			return rc;
		}
	}
	return 0;
}

int api_resource(struct http_request *req)
{
	char lbuf[API_ARG_MAX], fbuf[API_ARG_MAX];
	struct api_res_target t;
	struct api_res_ctx c;
	int64_t tag[API_CACHE_TAGS] = { 0 };
	uint64_t h = 0;
	const char *why_503;
	char why[256];
	int rc, status, found, cache;

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		api_res_status(req, 405, "MethodNotAllowed",
			       "the server does not allow this method on the requested resource",
			       NULL, NULL, 0);
		return KORE_RESULT_OK;
	}
	rc = api_res_parse(req->path, strlen(req->path), &t);
	if (rc == HC_ERR_NOTFOUND) {
		api_res_status(req, 404, "NotFound",
			       "the server could not find the requested resource",
			       NULL, NULL, 0);
		return KORE_RESULT_OK;
	}
	if (rc != 0) {
		api_res_status(req, 400, "BadRequest", rc == HC_ERR_TOOBIG
			       ? "name too long" : "malformed name in path",
			       NULL, NULL, 0);
		return KORE_RESULT_OK;
	}
	kore_buf_reset(&api_w.out);
	switch (t.op) {
	case API_RES_GROUPS:
		api_json_raw(&api_w.out, api_res_groups_json);
		api_reply(req, 200);
		return KORE_RESULT_OK;
	case API_RES_GROUP:
		api_json_raw(&api_w.out, api_res_group_json);
		api_reply(req, 200);
		return KORE_RESULT_OK;
	case API_RES_RESOURCES:
		api_json_raw(&api_w.out, api_res_resources_json);
		api_reply(req, 200);
		return KORE_RESULT_OK;
	default:
		break;
	}

	memset(&c, 0, sizeof(c));
	c.t = &t;
	c.b = &api_w.out;
	c.now_ms = hc_now_ms();
	if ((t.op == API_RES_NODES || t.op == API_RES_PODS) &&
	    api_res_query(req->query_string, &c, lbuf, fbuf, sizeof(lbuf), why,
			  sizeof(why)) != 0) {
		api_res_status(req, 400, "BadRequest", why, NULL, NULL, 0);
		return KORE_RESULT_OK;
	}
	if (api_txn_open(&c.txn, &status, &why_503) != 0) {
		api_res_status(req, status, "ServiceUnavailable", why_503, NULL, NULL, 0);
		return KORE_RESULT_OK;
	}
	api_batch_get(c.txn, &c.batch);   /* an empty or unreadable ring: ts 0, no ids */
	c.ts_ms = c.batch->ts_ms;
	c.id_cpu = c.batch->id_cpu;
	c.id_mem = c.batch->id_mem;
	c.have_ids = c.batch->have_ids;
	/*
	 * One node or pod is a function of the newest batch (and of the
	 * request's time, rewritten on a hit): cached under its time, by
	 * path (a query changes nothing for them).
	 */
	tag[0] = c.ts_ms;
	cache = (t.op == API_RES_NODE || t.op == API_RES_POD) && c.have_ids;
	if (cache) {
		const struct api_cache_ent *hit;

		h = api_cache_hash(req->path, NULL);
		hit = api_cached(h, req->path, NULL, tag, c.now_ms);

		if (hit != NULL) {
			store_read_end(c.txn);
			api_cache_reply(req, hit);
			return KORE_RESULT_OK;
		}
	}

	found = 1;
	switch (t.op) {
	case API_RES_NODES:
		api_list_head(&c, "NodeMetricsList");
		if (c.have_ids)
			store_entity_scan(c.txn, STORE_SHORT, c.ts_ms, "node:",
					  STORE_SCAN_NO_LABELS, api_node_one, &c);
		api_json_raw(c.b, "]}");
		break;
	case API_RES_NODE: {
		struct store_entity e;
		char key[API_KEY_MAX];
		size_t n = 5 + t.name_len;

		memcpy(key, "node:", 5);
		memcpy(key + 5, t.name, t.name_len + 1);   /* name < API_NAME_MAX */
		if (c.have_ids &&
		    store_entity_get(c.txn, STORE_SHORT, c.ts_ms, key, n, &e) == 0)
			api_node_one(&c, &e);
		found = c.count > 0;
		break;
	}
	case API_RES_PODS:
		api_pods_list(&c);
		break;
	case API_RES_POD:
	default:
		found = api_pod_get(&c);
		break;
	}
	store_read_end(c.txn);

	if (c.failed) {
		api_res_status(req, 500, "InternalError", "out of memory", NULL, NULL, 0);
		return KORE_RESULT_OK;
	}
	if (!found) {
		api_res_not_found(req, &t);
		return KORE_RESULT_OK;
	}
	if (cache)
		api_cache_keep(h, req->path, NULL, tag, &api_w.out, c.now_off);
	api_reply(req, 200);
	return KORE_RESULT_OK;
}
