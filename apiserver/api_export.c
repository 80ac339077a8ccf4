/*
 * api_export.c - Heapster's metric export: GET /api/v1/metric-export and
 * /api/v1/metric-export-schema (REFERENCE §5).
 *
 * The export is Heapster's []Timeseries for the newest batch of the short
 * ring: one {"metrics":{name:[point, ...]},"labels":{...}} per node, pod,
 * pod container and system container set (Heapster left pods out; the
 * reference asks for them, and "type" tells the kinds apart).  A point is
 * {"start","end","labels"?,"value"}: end is the batch time, start the
 * batch time for gauges and the entity's creation time for cumulative
 * metrics (its collection start time, else the batch time, when that is
 * unknown); a labeled metric (filesystem, accelerator) has one point per
 * label set, with its labels.  Values are JSON numbers, integral for int
 * metrics.  A set's labels are the ones the schema names (Heapster's
 * filter), and a node gets container_name "machine" as in Heapster.
 * Every metric of the set is exported, rates included, so the export and
 * the model API agree.
 *
 * The schema is generated from hc_metric_table (common/metrics.h), so it
 * lists exactly the metrics this build produces, in table order, with
 * Heapster's field names and spellings: type "cumulative" | "gauge" |
 * "delta", value_type "int64" | "double", units "bytes", "ms", "ns",
 * "millicores", and no "units" for a count (Heapster's UnitsCount had no
 * name), no "labels" for an unlabeled metric (omitempty).  Heapster's
 * handler put the common labels into pod_labels and left common_labels
 * empty; here common_labels are those every exported set carries (type,
 * nodename, hostname, host_id, container_name: a pod set excepted for the
 * last) and pod_labels those of pods and their containers.
 *
 * The values of one entity are gathered in api_w.vec[API_VEC_VALS] and
 * sorted by name so that each name appears once per set (labeled values
 * of one metric are not adjacent in the store); names are looked up once
 * per request and kept by store id in api_w.vec[API_VEC_NAMES].
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "log.h"
#include "metrics.h"
#include "mpread.h"
#include "api.h"

struct api_label_desc {
	const char *key;
	const char *description;
};

static const struct api_label_desc api_common_labels[] = {
	{ HC_L_TYPE, "Type of the metrics set (pod_container, pod, ns, node, sys_container, cluster)" },
	{ HC_L_NODENAME, "nodename where the container ran" },
	{ HC_L_HOSTNAME, "Hostname where the container ran" },
	{ HC_L_HOST_ID, "Identifier specific to a host. Set by cloud provider or user" },
	{ HC_L_CONTAINER_NAME, "User-provided name of the container or full container name for system containers" },
};

static const struct api_label_desc api_pod_labels[] = {
	{ HC_L_POD_NAME, "The name of the pod" },
	{ HC_L_POD_ID, "The unique ID of the pod" },
	{ HC_L_NAMESPACE_NAME, "The name of the namespace" },
	{ HC_L_NAMESPACE_ID, "The UID of namespace of the pod" },
	{ HC_L_CONTAINER_IMAGE, "User-defined image name that is run inside the container" },
	{ HC_L_LABELS, "Comma-separated list of user-provided labels" },
};

static const struct api_label_desc api_fs_labels[] = {
	{ HC_L_RESOURCE_ID, "Identifier(s) specific to a metric" },
};

static const struct api_label_desc api_accel_labels[] = {
	{ "make", "Make of the accelerator (nvidia, amd, google etc.)" },
	{ "model", "Model of the accelerator (tesla-p100, tesla-k80 etc.)" },
	{ "accelerator_id", "ID of the accelerator" },
};

/* One value of the entity being exported. */
struct api_xval {
	struct store_value v;
	const char        *name;
	uint32_t           name_len;
	uint32_t           idx;      /* position in the entity: keeps the sort stable */
};

/* ---- schema ------------------------------------------------------------ */

static void api_label_descs(struct kore_buf *b, const struct api_label_desc *d,
			    size_t n)
{
	api_json_raw(b, "[");
	for (size_t i = 0; i < n; i++) {
		api_json_raw(b, i ? ",{\"key\":" : "{\"key\":");
		api_json_str(b, d[i].key, strlen(d[i].key));
		api_json_raw(b, ",\"description\":");
		api_json_str(b, d[i].description, strlen(d[i].description));
		api_json_raw(b, "}");
	}
	api_json_raw(b, "]");
}

/* Heapster's name of a unit, or NULL (UnitsCount: no name). */
static const char *api_units(const char *units)
{
	static const char *const named[] = { "bytes", "ms", "ns", "millicores" };

	for (size_t i = 0; i < HC_ARRAY_LEN(named); i++)
		if (strcmp(units, named[i]) == 0)
			return named[i];
	return NULL;
}

static int api_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int api_export_schema(struct http_request *req)
{
	static const char *const kinds[] = { "gauge", "cumulative", "delta" };
	struct kore_buf *b = &api_w.out;

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		api_error(req, 405, "only GET is served");
		return KORE_RESULT_OK;
	}
	kore_buf_reset(b);
	api_json_raw(b, "{\"metrics\":[");
	for (int i = 0; i < HC_M_COUNT; i++) {
		const struct hc_metric_def *m = &hc_metric_table[i];
		const char *units = api_units(m->units);

		api_json_raw(b, i ? ",{\"name\":" : "{\"name\":");
		api_json_str(b, m->name, strlen(m->name));
		api_json_raw(b, ",\"description\":");
		api_json_str(b, m->description, strlen(m->description));
		if (api_has_prefix(m->name, "filesystem/")) {
			api_json_raw(b, ",\"labels\":");
			api_label_descs(b, api_fs_labels, HC_ARRAY_LEN(api_fs_labels));
		} else if (api_has_prefix(m->name, "accelerator/")) {
			api_json_raw(b, ",\"labels\":");
			api_label_descs(b, api_accel_labels, HC_ARRAY_LEN(api_accel_labels));
		}
		api_json_raw(b, ",\"type\":\"");
		api_json_raw(b, m->kind < HC_ARRAY_LEN(kinds) ? kinds[m->kind] : "gauge");
		api_json_raw(b, m->type == HC_FLOAT ? "\",\"value_type\":\"double\""
						    : "\",\"value_type\":\"int64\"");
		if (units != NULL) {
			api_json_raw(b, ",\"units\":\"");
			api_json_raw(b, units);
			api_json_raw(b, "\"");
		}
		api_json_raw(b, "}");
	}
	api_json_raw(b, "],\"common_labels\":");
	api_label_descs(b, api_common_labels, HC_ARRAY_LEN(api_common_labels));
	api_json_raw(b, ",\"pod_labels\":");
	api_label_descs(b, api_pod_labels, HC_ARRAY_LEN(api_pod_labels));
	api_json_raw(b, "}");
	api_reply(req, 200);
	return KORE_RESULT_OK;
}

/* ---- export ------------------------------------------------------------ */

struct api_export_ctx {
	struct store_txn *txn;
	int64_t           ts_ms;
	uint32_t          count;
	int               failed;
};

/* Whether label `key` is one the schema describes. */
static int api_schema_label(const char *key, uint32_t len)
{
	const struct api_label_desc *sets[2] = { api_common_labels, api_pod_labels };
	size_t n[2] = { HC_ARRAY_LEN(api_common_labels), HC_ARRAY_LEN(api_pod_labels) };

	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < n[s]; i++)
			if (strlen(sets[s][i].key) == len &&
			    memcmp(sets[s][i].key, key, len) == 0)
				return 1;
	return 0;
}

/* The export's entity types. */
static int api_exported_type(const char *t, uint32_t len)
{
	static const char *const types[] = {
		HC_TYPE_NODE, HC_TYPE_POD, HC_TYPE_POD_CONTAINER, HC_TYPE_SYS_CONTAINER,
	};

	for (size_t i = 0; i < HC_ARRAY_LEN(types); i++)
		if (strlen(types[i]) == len && memcmp(types[i], t, len) == 0)
			return 1;
	return 0;
}

/*
 * Writes the pairs of a msgpack [k, v, ...] label list (inside the
 * entity's value, which ends at `end`) as JSON members, opening the object
 * with '{' before the first one; filter: schema labels only.
 */
static void api_labels_json(struct kore_buf *b, const uint8_t *labels,
			    uint32_t nlabels, const uint8_t *end, int filter,
			    int *first)
{
	struct hc_mp m;

	if (labels == NULL)
		return;
	hc_mp_init(&m, labels, (size_t)(end - labels));
	for (uint32_t i = 0; i < nlabels; i++) {
		const char *k, *v;
		uint32_t kl, vl;

		if (hc_mp_str(&m, &k, &kl) != 0 || hc_mp_str(&m, &v, &vl) != 0)
			return;
		if (filter && !api_schema_label(k, kl))
			continue;
		api_json_raw(b, *first ? "{" : ",");
		*first = 0;
		api_json_str(b, k, kl);
		api_json_raw(b, ":");
		api_json_str(b, v, vl);
	}
}

/* Name of store id `id`, cached for the request; 0 or HC_ERR_NOTFOUND. */
static int api_export_name(struct api_export_ctx *c, uint32_t id,
			   const char **name, uint32_t *len)
{
	struct api_vec *vec = &api_w.vec[API_VEC_NAMES];
	struct api_name *names;

	if (id >= 1u << 20)
		return HC_ERR_NOTFOUND;
	if (id >= vec->n) {
		if (api_vec_reserve(vec, id + 1, sizeof(*names)) != 0) {
			c->failed = 1;
			return -ENOMEM;
		}
		names = vec->p;
		for (uint32_t i = vec->n; i <= id; i++)
			names[i].name = NULL;
		vec->n = id + 1;
	}
	names = vec->p;
	if (names[id].name == NULL) {
		if (store_name_by_id(c->txn, id, &names[id].name, &names[id].len) != 0) {
			names[id].name = NULL;
			return HC_ERR_NOTFOUND;
		}
		names[id].id = id;
	}
	*name = names[id].name;
	*len = names[id].len;
	return 0;
}

static int api_xval_cmp(const void *a, const void *b)
{
	const struct api_xval *x = a, *y = b;
	uint32_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int r = memcmp(x->name, y->name, n);

	if (r == 0)
		r = (x->name_len > y->name_len) - (x->name_len < y->name_len);
	return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

static int api_xname_eq(const struct api_xval *x, const struct api_xval *y)
{
	return x->name_len == y->name_len && memcmp(x->name, y->name, x->name_len) == 0;
}

static void api_point(struct kore_buf *b, const struct store_entity *e,
		      const struct api_xval *x, int64_t start_ms, int64_t end_ms)
{
	int first = 1;

	api_json_raw(b, "{\"start\":");
	api_json_time(b, start_ms);
	api_json_raw(b, ",\"end\":");
	api_json_time(b, end_ms);
	if (x->v.labels != NULL && x->v.nlabels > 0) {
		api_json_raw(b, ",\"labels\":");
		api_labels_json(b, x->v.labels, x->v.nlabels, e->end, 0, &first);
		api_json_raw(b, "}");
	}
	api_json_raw(b, ",\"value\":");
	if (x->v.type == HC_FLOAT)
		api_json_double(b, x->v.v.f);
	else
		api_json_int(b, x->v.v.i);
	api_json_raw(b, "}");
}

/* Writes one Timeseries for an exported entity. */
static int api_export_one(void *arg, const struct store_entity *e)
{
	struct api_export_ctx *c = arg;
	struct kore_buf *b = &api_w.out;
	struct api_vec *vec = &api_w.vec[API_VEC_VALS];
	struct api_xval *vals;
	const char *type, *cname;
	uint32_t type_len, cname_len;
	int64_t created;
	size_t pos = 0;
	int rc, first = 1;

	if (store_label_get(e->labels, e->nlabels, HC_L_TYPE, &type, &type_len) != 0 ||
	    !api_exported_type(type, type_len))
		return 0;
	vec->n = 0;
	for (;;) {
		struct api_xval *x;

		if (api_vec_reserve(vec, vec->n + 1, sizeof(*x)) != 0) {
			c->failed = 1;
			return 1;
		}
		x = (struct api_xval *)vec->p + vec->n;
		rc = store_value_next(e, &pos, &x->v);
		if (rc != 1)
			break;
		if (api_export_name(c, x->v.name_id, &x->name, &x->name_len) != 0) {
			if (c->failed)
				return 1;
			continue;   /* a name the writer has not committed: skip */
		}
		x->idx = vec->n++;
	}
	if (rc < 0)
		hc_warn("corrupt value of %.*s in batch %lld", (int)e->key_len, e->key,
			(long long)e->ts_ms);
	vals = vec->p;
	qsort(vals, vec->n, sizeof(*vals), api_xval_cmp);

	created = e->create_ms ? e->create_ms : e->start_ms ? e->start_ms : c->ts_ms;
	api_json_raw(b, c->count++ ? ",{\"metrics\":{" : "{\"metrics\":{");
	for (uint32_t i = 0; i < vec->n; i++) {
		if (i == 0 || !api_xname_eq(&vals[i], &vals[i - 1])) {
			if (i)
				api_json_raw(b, "],");
			api_json_str(b, vals[i].name, vals[i].name_len);
			api_json_raw(b, ":[");
		} else {
			api_json_raw(b, ",");
		}
		api_point(b, e, &vals[i], vals[i].v.kind == HC_CUMULATIVE ? created : c->ts_ms,
			  c->ts_ms);
	}
	api_json_raw(b, vec->n ? "]},\"labels\":" : "},\"labels\":");
	api_labels_json(b, e->labels, e->nlabels, e->end, 1, &first);
	if (type_len == 4 && memcmp(type, HC_TYPE_NODE, 4) == 0 &&
	    store_label_get(e->labels, e->nlabels, HC_L_CONTAINER_NAME, &cname,
			    &cname_len) != 0) {
		api_json_raw(b, first ? "{" : ",");
		first = 0;
		api_json_raw(b, "\"" HC_L_CONTAINER_NAME "\":\"machine\"");
	}
	api_json_raw(b, first ? "{}}" : "}}");
	return 0;
}

int api_export(struct http_request *req)
{
	struct api_export_ctx c = { 0 };
	struct store_batch_info latest;

	if (req->method != HTTP_METHOD_GET && req->method != HTTP_METHOD_HEAD) {
		api_error(req, 405, "only GET is served");
		return KORE_RESULT_OK;
	}
	if (api_txn_begin(req, &c.txn) != 0)
		return KORE_RESULT_OK;
	kore_buf_reset(&api_w.out);
	api_w.vec[API_VEC_NAMES].n = 0;   /* ids are stable, but start clean */
	api_json_raw(&api_w.out, "[");
	if (store_latest(c.txn, STORE_SHORT, &latest) == 0) {
		c.ts_ms = latest.ts_ms;
		store_entity_scan(c.txn, STORE_SHORT, latest.ts_ms, NULL, 0,
				  api_export_one, &c);
	}
	store_read_end(c.txn);
	if (c.failed) {
		api_error(req, 500, "out of memory");
		return KORE_RESULT_OK;
	}
	api_json_raw(&api_w.out, "]");
	api_reply(req, 200);
	return KORE_RESULT_OK;
}
