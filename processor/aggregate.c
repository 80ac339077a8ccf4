/*
 * aggregate.c - pod, namespace, node and cluster aggregation.
 *
 * Work is linear in the number of values: containers are bucketed by pod
 * with a counting sort over set indexes, then each pod sums its children
 * into one accumulator array indexed by metric id (cleared through a list
 * of touched ids, not memset per pod).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "hc.h"

struct acc {
	double   *sum;       /* per name id */
	uint8_t  *type;      /* HC_INT unless a float was added */
	uint8_t  *used;
	uint32_t *touched;
	uint32_t  ntouched;
	uint32_t  cap;
};

static int acc_init(struct acc *a, uint32_t nnames)
{
	a->cap = nnames;
	a->ntouched = 0;
	a->sum = calloc(nnames, sizeof(*a->sum));
	a->type = calloc(nnames, 1);
	a->used = calloc(nnames, 1);
	a->touched = calloc(nnames, sizeof(*a->touched));
	if (!a->sum || !a->type || !a->used || !a->touched)
		return -ENOMEM;
	return 0;
}

static void acc_free(struct acc *a)
{
	free(a->sum);
	free(a->type);
	free(a->used);
	free(a->touched);
}

static void acc_add(struct acc *a, const struct hc_value *v)
{
	if (v->name >= a->cap)
		return;
	if (!a->used[v->name]) {
		a->used[v->name] = 1;
		a->sum[v->name] = 0;
		a->type[v->name] = HC_INT;
		a->touched[a->ntouched++] = v->name;
	}
	a->sum[v->name] += hc_value_num(v);
	if (v->type == HC_FLOAT)
		a->type[v->name] = HC_FLOAT;
}

/* Emits the accumulated sums into set `dst`, skipping names it already has. */
static int acc_flush(struct acc *a, struct hc_batch *b, uint32_t dst,
		     const uint8_t *has)
{
	int rc = 0;

	for (uint32_t i = 0; i < a->ntouched; i++) {
		uint32_t n = a->touched[i];

		a->used[n] = 0;
		if (rc != 0 || (has != NULL && has[n]))
			continue;
		if (a->type[n] == HC_FLOAT)
			rc = hc_batch_add_float(b, dst, n, a->sum[n]);
		else
			rc = hc_batch_add_int(b, dst, n, (int64_t)a->sum[n]);
	}
	a->ntouched = 0;
	return rc;
}

/* Copies label `key` of set src onto set dst, when src has it. */
static int copy_label(struct hc_batch *b, uint32_t src, uint32_t dst, const char *key)
{
	const char *v = hc_batch_get_label(b, src, key);

	return v ? hc_batch_label(b, dst, key, v) : 0;
}

/* The type of a workload key "namespace:NS/<kind>:<name>": its kind. */
static const char *key_type(const char *key)
{
	static const char *kinds[] = {
		HC_TYPE_DEPLOYMENT, HC_TYPE_REPLICASET, HC_TYPE_STATEFULSET,
		HC_TYPE_DAEMONSET, HC_TYPE_JOB, HC_TYPE_CRONJOB, HC_TYPE_RC,
	};
	const char *slash = strchr(key, '/');

	for (size_t i = 0; slash != NULL && i < HC_ARRAY_LEN(kinds); i++) {
		size_t n = strlen(kinds[i]);

		if (strncmp(slash + 1, kinds[i], n) == 0 && slash[1 + n] == ':')
			return kinds[i];
	}
	return "workload";
}

/*
 * Finds or creates the parent set `key` of child set `child` with type `type`
 * (NULL: the kind a workload key names, worked out only when created).
 */
static int parent_set(struct hc_batch *b, const char *key, size_t len,
		      uint32_t child, const char *type, uint32_t *out)
{
	static const char *inherit[] = {
		HC_L_NAMESPACE_NAME, HC_L_NAMESPACE_ID, HC_L_POD_NAME, HC_L_POD_ID,
		HC_L_NODENAME, HC_L_HOSTNAME, HC_L_HOST_ID, HC_L_LABELS,
	};
	size_t nkeep;
	int created, rc;

	rc = hc_batch_set(b, key, len, out, &created);
	if (rc != 0 || !created)
		return rc;
	if (type == NULL)
		type = key_type(key);
	rc = hc_batch_label(b, *out, HC_L_TYPE, type);
	/* a pod inherits its container's pod labels, a namespace or a
	 * workload only the namespace's name and id, the cluster nothing */
	nkeep = strcmp(type, HC_TYPE_POD) == 0 ? HC_ARRAY_LEN(inherit) :
		strcmp(type, HC_TYPE_CLUSTER) == 0 ? 0 : 2;
	for (size_t i = 0; rc == 0 && i < nkeep; i++)
		rc = copy_label(b, child, *out, inherit[i]);
	if (rc == 0 && b->sets[child].create_ms && strcmp(type, HC_TYPE_POD) == 0)
		b->sets[*out].create_ms = b->sets[child].create_ms;
	return rc;
}

/* Containers summed into pods (step 4). */
static int aggregate_pods(struct hc_batch *b, struct acc *a)
{
	uint32_t nsets = b->nsets, *parent = NULL, *count = NULL, *order = NULL;
	uint8_t *has = NULL;
	int rc;

	rc = hc_batch_group(b);
	if (rc != 0)
		return rc;
	parent = malloc((nsets + 1) * sizeof(*parent));
	has = calloc(b->nnames, 1);
	if (parent == NULL || has == NULL) {
		rc = -ENOMEM;
		goto free_parent;
	}
	for (uint32_t s = 0, last_pod = UINT32_MAX; s < nsets; s++) {
		const char *key = b->sets[s].key, *c;
		size_t plen;

		parent[s] = UINT32_MAX;
		if (b->sets[s].type == HC_T_POD)
			last_pod = s;
		if (strncmp(key, "namespace:", 10) != 0 ||
		    (c = strstr(key, "/container:")) == NULL)
			continue;
		plen = (size_t)(c - key);
		/* a scraped pod's set comes just before its containers */
		if (last_pod != UINT32_MAX && b->sets[last_pod].key_len == plen &&
		    memcmp(b->sets[last_pod].key, key, plen) == 0) {
			parent[s] = last_pod;
			continue;
		}
		rc = parent_set(b, key, plen, s, HC_TYPE_POD, &parent[s]);
		if (rc != 0)
			goto free_parent;
	}
	/* bucket containers by pod: counting sort over parent indexes */
	count = calloc(b->nsets + 1, sizeof(*count));
	order = malloc((nsets + 1) * sizeof(*order));
	if (count == NULL || order == NULL) {
		rc = -ENOMEM;
		goto free_parent;
	}
	for (uint32_t s = 0; s < nsets; s++)
		if (parent[s] != UINT32_MAX)
			count[parent[s] + 1]++;
	for (uint32_t p = 1; p <= b->nsets; p++)
		count[p] += count[p - 1];
	for (uint32_t s = 0; s < nsets; s++)
		if (parent[s] != UINT32_MAX)
			order[count[parent[s]]++] = s;
	/* count[p] now ends bucket p; bucket p starts at count[p-1] (0 for p=0) */
	rc = hc_batch_group(b);   /* new pod sets may exist; values unchanged */
	if (rc != 0)
		goto free_parent;
	{
		uint32_t start = 0, npods_total = b->nsets;

		for (uint32_t p = 0; p < npods_total; p++) {
			uint32_t end = count[p];
			const struct hc_set *ps;

			if (end == start)
				continue;
			ps = &b->sets[p];
			for (uint32_t i = 0; i < ps->vals_n; i++) {
				const struct hc_value *v = &b->vals[ps->vals_off + i];

				if (v->labels_n == 0)
					has[v->name] = 1;
			}
			for (uint32_t i = start; i < end; i++) {
				const struct hc_set *cs = &b->sets[order[i]];

				for (uint32_t j = 0; j < cs->vals_n; j++) {
					const struct hc_value *v = &b->vals[cs->vals_off + j];

					if (v->labels_n == 0 && v->kind != HC_CUMULATIVE &&
					    v->name != HC_M_UPTIME)
						acc_add(a, v);
				}
			}
			/* clear `has` for the names the pod had, then flush */
			rc = acc_flush(a, b, p, has);
			ps = &b->sets[p];
			for (uint32_t i = 0; i < ps->vals_n; i++)
				has[b->vals[ps->vals_off + i].name] = 0;
			if (rc != 0)
				goto free_parent;
			start = end;
		}
	}
	rc = 0;
free_parent:
	free(order);
	free(count);
	free(has);
	free(parent);
	return rc;
}

const uint16_t proc_ns_metrics[6] = {
	HC_M_CPU_USAGE_RATE, HC_M_MEM_USAGE, HC_M_CPU_REQUEST,
	HC_M_CPU_LIMIT, HC_M_MEM_REQUEST, HC_M_MEM_LIMIT,
};

/* prefix + s into buf as a NUL-terminated key: its length, or -1. */
static int key_cat(char *buf, size_t cap, const char *prefix, size_t plen,
		   const char *s)
{
	size_t n = strlen(s);

	if (plen + n >= cap)
		return -1;
	memcpy(buf, prefix, plen);
	memcpy(buf + plen, s, n + 1);
	return (int)(plen + n);
}

static int key_namespace(void *ctx, const struct hc_batch *b, uint32_t set,
			 char *buf, size_t cap)
{
	(void)ctx;
	const char *ns = hc_batch_get_label(b, set, HC_L_NAMESPACE_NAME);

	return ns == NULL ? -1 : key_cat(buf, cap, "namespace:", 10, ns);
}

static int key_cluster(void *ctx, const struct hc_batch *b, uint32_t set,
		       char *buf, size_t cap)
{
	(void)ctx;
	(void)b;
	(void)set;
	return snprintf(buf, cap, "cluster");
}

static int key_node(void *ctx, const struct hc_batch *b, uint32_t set,
		    char *buf, size_t cap)
{
	(void)ctx;
	const char *n = hc_batch_get_label(b, set, HC_L_NODENAME);

	return n == NULL ? -1 : key_cat(buf, cap, "node:", 5, n);
}

/*
 * Parents get dense slots (slot_of[parent set]) and a row of nm sums each,
 * so the pass is linear and allocates three arrays per call, not per value.
 */
int proc_sum_into(struct hc_batch *b, const char *child_type, proc_key_fn key_of,
		  void *ctx, const char *parent_type, const uint16_t *metrics,
		  size_t nm, int create, uint32_t count_metric)
{
	uint32_t nsets = b->nsets, nslots = 0, *slot_of = NULL, *parent_of_slot = NULL;
	uint32_t *children = NULL;
	struct { double sum; uint8_t used, is_float; } *row = NULL;
	uint8_t ct = hc_entity_type(child_type);
	char key[512], last[512];
	uint32_t last_parent = UINT32_MAX;
	int rc, last_len = -1;

	rc = hc_batch_group(b);
	if (rc != 0)
		return rc;
	/* parents may be created below: size by sets + possible new ones */
	slot_of = malloc((size_t)(2 * nsets + 1) * sizeof(*slot_of));
	parent_of_slot = malloc((size_t)(nsets + 1) * sizeof(*parent_of_slot));
	row = calloc((size_t)(nsets + 1) * nm, sizeof(*row));
	children = calloc((size_t)nsets + 1, sizeof(*children));
	if (slot_of == NULL || parent_of_slot == NULL || row == NULL || children == NULL) {
		rc = -ENOMEM;
		goto free_arrays;
	}
	for (uint32_t i = 0; i < 2 * nsets + 1; i++)
		slot_of[i] = UINT32_MAX;
	for (uint32_t s = 0; s < nsets; s++) {
		uint32_t parent, slot;
		int len;

		if (b->sets[s].type != ct)
			continue;
		len = key_of(ctx, b, s, key, sizeof(key));
		if (len <= 0 || (size_t)len >= sizeof(key))
			continue;
		/* children of one parent often come in a row (a node's pods) */
		if (len == last_len && memcmp(key, last, (size_t)len) == 0) {
			parent = last_parent;
		} else if (create) {
			rc = parent_set(b, key, (size_t)len, s, parent_type, &parent);
			if (rc != 0)
				goto free_arrays;
		} else if (hc_batch_find(b, key, (size_t)len, &parent) != 0) {
			parent = UINT32_MAX;
		}
		memcpy(last, key, (size_t)len);
		last_len = len;
		last_parent = parent;
		if (parent == UINT32_MAX)
			continue;
		if (parent >= 2 * nsets + 1)
			continue;
		if (slot_of[parent] == UINT32_MAX) {
			slot_of[parent] = nslots;
			parent_of_slot[nslots++] = parent;
		}
		slot = slot_of[parent];
		children[slot]++;
		for (uint32_t i = 0; i < b->sets[s].vals_n; i++) {
			const struct hc_value *v = &b->vals[b->sets[s].vals_off + i];

			if (v->labels_n != 0)
				continue;
			for (size_t m = 0; m < nm; m++) {
				if (v->name != metrics[m])
					continue;
				row[slot * nm + m].sum += hc_value_num(v);
				row[slot * nm + m].used = 1;
				if (v->type == HC_FLOAT)
					row[slot * nm + m].is_float = 1;
			}
		}
	}
	for (uint32_t slot = 0; slot < nslots; slot++) {
		uint32_t parent = parent_of_slot[slot];

		for (size_t m = 0; m < nm; m++) {
			const double sum = row[slot * nm + m].sum;

			if (!row[slot * nm + m].used)
				continue;
			/* a value the parent has from its source is kept */
			if (parent < nsets && hc_batch_value(b, parent, metrics[m]) != NULL)
				continue;
			if (row[slot * nm + m].is_float)
				rc = hc_batch_add_float(b, parent, metrics[m], sum);
			else
				rc = hc_batch_add_int(b, parent, metrics[m], (int64_t)sum);
			if (rc != 0)
				goto free_arrays;
		}
		if (count_metric != PROC_NO_COUNT &&
		    (rc = hc_batch_add_int(b, parent, count_metric, children[slot])) != 0)
			goto free_arrays;
	}
	rc = 0;
free_arrays:
	free(children);
	free(row);
	free(parent_of_slot);
	free(slot_of);
	return rc;
}

int proc_aggregate(struct hc_batch *b)
{
	static const uint16_t node_metrics[] = {
		HC_M_CPU_REQUEST, HC_M_CPU_LIMIT, HC_M_MEM_REQUEST, HC_M_MEM_LIMIT,
		HC_M_EPH_REQUEST, HC_M_EPH_LIMIT,
	};
	struct acc a;
	int rc;

	rc = acc_init(&a, b->nnames);
	if (rc != 0)
		goto free_acc;
	/*
	 * Heapster's order is pod, namespace, node, cluster; the node sums
	 * read only pods and the cluster's only namespaces, so the cluster
	 * goes before the nodes: values appended for new sets (namespaces,
	 * the cluster) need no regrouping, values appended to existing sets
	 * (nodes) do, once, at the next step that groups.
	 */
	rc = aggregate_pods(b, &a);
	if (rc == 0)
		rc = proc_sum_into(b, HC_TYPE_POD, key_namespace, NULL, HC_TYPE_NS,
				   proc_ns_metrics, HC_ARRAY_LEN(proc_ns_metrics), 1,
				   PROC_NO_COUNT);
	if (rc == 0)
		rc = proc_sum_into(b, HC_TYPE_NS, key_cluster, NULL, HC_TYPE_CLUSTER,
				   proc_ns_metrics, HC_ARRAY_LEN(proc_ns_metrics), 1,
				   PROC_NO_COUNT);
	if (rc == 0)
		rc = proc_sum_into(b, HC_TYPE_POD, key_node, NULL, HC_TYPE_NODE,
				   node_metrics, HC_ARRAY_LEN(node_metrics), 0,
				   PROC_NO_COUNT);
free_acc:
	acc_free(&a);
	return rc;
}
