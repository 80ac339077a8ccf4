/*
 * enrich.c - the pod, namespace and node enrichers and the workload
 * aggregator (see enrich.h).
 *
 * Everything is a join by entity key between the metrics batch and the
 * metadata batch, whose keys are the same by construction (common/meta.h),
 * so each step is one pass with hash lookups.  Strings taken from the
 * metadata are copied into the metrics batch's arena: the batch owns what
 * it references, whatever happens to the metadata afterwards.  Metric names
 * are mapped by name, since the two batches may number custom names
 * differently.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "enrich.h"
#include "hc.h"
#include "meta.h"

/*
 * Copies label `key` from meta set ms onto set s of b; unless `overwrite`,
 * only where s lacks it.  The API server's pod id and labels overwrite the
 * kubelet's (a static pod's podRef.uid is its config hash, not its UID).
 */
static int copy_label(struct hc_batch *b, uint32_t s, const struct hc_batch *meta,
		      uint32_t ms, const char *key, int overwrite)
{
	const char *v = hc_batch_get_label(meta, ms, key);
	const char *copy;

	if (v == NULL || (!overwrite && hc_batch_get_label(b, s, key) != NULL))
		return 0;
	copy = hc_batch_str(b, v, strlen(v));
	return copy ? hc_batch_label(b, s, key, copy) : -ENOMEM;
}

/* Adds meta set ms's plain values to set s of b, where s lacks them. */
static int copy_values(struct hc_batch *b, uint32_t s, const struct hc_batch *meta,
		       uint32_t ms)
{
	const struct hc_set *m = &meta->sets[ms];
	int rc;

	for (uint32_t i = 0; i < m->vals_n; i++) {
		const struct hc_value *v = &meta->vals[m->vals_off + i];
		const char *name = meta->names[v->name];
		struct hc_value *nv;
		uint32_t id;

		if (v->labels_n != 0)
			continue;
		/* table metrics have the same id in every batch */
		if (v->name < HC_M_COUNT)
			id = v->name;
		else if ((rc = hc_batch_name(b, name, strlen(name), v->kind, &id)) != 0)
			return rc;
		/* the set's run: its scraped values (and, in a batch with room,
		 * what was added since); a value added past a full run is in
		 * the tail, unseen here, but a metadata value is copied once */
		if (hc_batch_value(b, s, id) != NULL)
			continue;
		nv = hc_batch_add(b, s, id);
		if (nv == NULL)
			return -ENOMEM;
		nv->type = v->type;
		nv->kind = v->kind;
		nv->v = v->v;
	}
	return 0;
}

/*
 * Rewrites set s's "labels" (metadata form "k:v,k:v") by the label options:
 * the separator, ignored keys, and labels stored on their own.
 */
static int apply_label_opts(struct hc_batch *b, uint32_t s,
			    const struct proc_label_opts *o)
{
	const char *in = hc_batch_get_label(b, s, HC_L_LABELS);
	char out[4096];
	size_t olen = 0;
	int rc;

	if (in == NULL)
		return 0;
	out[0] = '\0';
	for (const char *p = in; *p;) {
		size_t len = strcspn(p, ","), klen;
		const char *colon = memchr(p, ':', len);
		int skip = 0;

		klen = colon ? (size_t)(colon - p) : len;
		for (int i = 0; i < o->nignore && !skip; i++)
			skip = strlen(o->ignore[i]) == klen && !strncmp(o->ignore[i], p, klen);
		for (int i = 0; i < o->nstore; i++) {
			const char *v;

			if (strlen(o->store_key[i]) != klen || strncmp(o->store_key[i], p, klen))
				continue;
			v = colon ? hc_batch_str(b, colon + 1, len - klen - 1) : "";
			if (v == NULL)
				return -ENOMEM;
			rc = hc_batch_label(b, s, o->store_name[i], v);
			if (rc != 0)
				return rc;
		}
		if (!skip && olen + len + strlen(o->separator) + 1 < sizeof(out)) {
			if (olen > 0) {
				strcpy(out + olen, o->separator);
				olen += strlen(o->separator);
			}
			memcpy(out + olen, p, len);
			olen += len;
			out[olen] = '\0';
		}
		p += len;
		if (*p == ',')
			p++;
	}
	{
		const char *copy = hc_batch_str(b, out, olen);

		return copy ? hc_batch_label(b, s, HC_L_LABELS, copy) : -ENOMEM;
	}
}

/*
 * The metadata values every container with metadata has: the scraper sends
 * them only when not 0 (common/meta.h), Heapster reported 0 when unset.
 */
static const uint16_t container_zero_metrics[] = {
	HC_M_CPU_REQUEST, HC_M_CPU_LIMIT, HC_M_MEM_REQUEST, HC_M_MEM_LIMIT,
	HC_M_EPH_REQUEST, HC_M_EPH_LIMIT, HC_M_RESTART_COUNT,
};

/* Labels of a metadata pod set that its containers get. */
static int pod_label_for_container(const char *key)
{
	return strcmp(key, HC_L_TYPE) != 0 && strcmp(key, HC_META_WORKLOAD_KIND) != 0 &&
	       strcmp(key, HC_META_WORKLOAD_NAME) != 0;
}

/*
 * The pod's labels for its containers, copied into b once per pod, not
 * once per container.
 */
struct pod_copy {
	uint32_t        mpod;        /* metadata pod set, UINT32_MAX: none */
	uint32_t        n;
	struct hc_label l[32];
};

static int pod_copy_load(struct pod_copy *pc, struct hc_batch *b,
			 const struct hc_batch *meta, uint32_t mpod)
{
	const struct hc_set *m;

	if (pc->mpod == mpod)
		return 0;
	pc->mpod = mpod;
	pc->n = 0;
	if (mpod == UINT32_MAX)
		return 0;
	m = &meta->sets[mpod];
	for (uint32_t i = 0; i < m->labels_n && pc->n < HC_ARRAY_LEN(pc->l); i++) {
		const struct hc_label *l = &meta->labels[m->labels_off + i];

		if (!pod_label_for_container(l->key))
			continue;
		pc->l[pc->n].key = l->key;
		pc->l[pc->n].value = hc_batch_str(b, l->value, strlen(l->value));
		if (pc->l[pc->n].value == NULL)
			return -ENOMEM;
		pc->n++;
	}
	return 0;
}

/* The copied value of pod label key, or NULL. */
static const char *pod_copy_get(const struct pod_copy *pc, const char *key)
{
	for (uint32_t i = 0; i < pc->n; i++)
		if (pc->l[i].key == key || strcmp(pc->l[i].key, key) == 0)
			return pc->l[i].value;
	return NULL;
}

/* The first pod set of meta after set ms: where the next pod usually is. */
static uint32_t next_pod(const struct hc_batch *meta, uint32_t ms)
{
	while (++ms < meta->nsets && meta->sets[ms].type != HC_T_POD)
		;
	return ms;
}

int proc_enrich_pods(struct hc_batch *b, const struct hc_batch *meta,
		     const struct proc_label_opts *opts)
{
	int relabel = opts != NULL && (opts->nignore || opts->nstore ||
				       (opts->separator && strcmp(opts->separator, ",")));
	static const char *pod_labels[] = { HC_L_POD_ID, HC_L_LABELS };
	struct pod_copy pc = { .mpod = UINT32_MAX };
	const char *last_pod = NULL, *last_ns = NULL, *ns_id = NULL;
	size_t last_pod_len = 0;
	uint32_t nsets, pod = 0, mpod = UINT32_MAX, mpod_guess = 0, b_next = 0;
	int rc;

	if (meta == NULL || meta->nsets == 0)
		return 0;
	rc = hc_batch_group(b);
	if (rc != 0)
		return rc;
	nsets = b->nsets;
	/* containers: join, or create request-only sets for a scraped pod */
	for (uint32_t ms = 0; ms < meta->nsets; ms++) {
		const char *key = meta->sets[ms].key, *c;
		uint32_t s;
		int created;

		if (meta->sets[ms].type == HC_T_POD)
			mpod_guess = ms;
		if (meta->sets[ms].type != HC_T_POD_CONTAINER ||
		    (c = strstr(key, "/container:")) == NULL)
			continue;
		/* a pod's containers come in a row: look the pod up once */
		if (last_pod == NULL || last_pod_len != (size_t)(c - key) ||
		    memcmp(last_pod, key, last_pod_len) != 0) {
			last_pod = key;
			last_pod_len = (size_t)(c - key);
			if (hc_batch_find_near(b, key, last_pod_len, b_next, &pod) != 0)
				pod = UINT32_MAX;
			else
				b_next = pod + 1;
			if (hc_batch_find_near(meta, key, last_pod_len, mpod_guess, &mpod) != 0)
				mpod = UINT32_MAX;
		}
		if (pod == UINT32_MAX)
			continue;   /* the pod was not scraped: its node failed */
		rc = pod_copy_load(&pc, b, meta, mpod);
		if (rc != 0)
			return rc;
		/* the pod's containers usually follow it in b, in this order */
		created = 0;
		if (hc_batch_find_near(b, key, meta->sets[ms].key_len, b_next, &s) == 0)
			b_next = s + 1;
		else if ((rc = hc_batch_set(b, key, meta->sets[ms].key_len, &s, &created)) != 0)
			return rc;
		if (created) {
			const struct hc_set *m = &meta->sets[ms];

			for (uint32_t l = 0; l < m->labels_n; l++) {
				rc = copy_label(b, s, meta, ms, meta->labels[m->labels_off + l].key, 0);
				if (rc != 0)
					return rc;
			}
			for (uint32_t l = 0; l < pc.n; l++) {
				if (hc_batch_get_label(b, s, pc.l[l].key) == NULL &&
				    (rc = hc_batch_label(b, s, pc.l[l].key, pc.l[l].value)) != 0)
					return rc;
			}
			/* the node labels come from the scraped pod */
			for (size_t i = 0; i < 3; i++) {
				static const char *node_labels[] = {
					HC_L_NODENAME, HC_L_HOSTNAME, HC_L_HOST_ID,
				};
				const char *v = hc_batch_get_label(b, pod, node_labels[i]);

				if (v != NULL && (rc = hc_batch_label(b, s, node_labels[i], v)) != 0)
					return rc;
			}
		} else {
			rc = copy_label(b, s, meta, ms, HC_L_CONTAINER_IMAGE, 1);
			for (size_t i = 0; rc == 0 && i < HC_ARRAY_LEN(pod_labels); i++) {
				const char *v = pod_copy_get(&pc, pod_labels[i]);

				/* an older scraper put the pod's labels on containers */
				rc = v ? hc_batch_label(b, s, pod_labels[i], v)
				       : copy_label(b, s, meta, ms, pod_labels[i], 1);
			}
			if (rc != 0)
				return rc;
		}
		rc = copy_values(b, s, meta, ms);
		for (size_t i = 0; rc == 0 && i < HC_ARRAY_LEN(container_zero_metrics); i++) {
			uint32_t id = container_zero_metrics[i];

			/* the run holds the scraped values; what copy_values()
			 * added may be past it (no room), so ask the metadata */
			if (hc_batch_value(b, s, id) != NULL)
				continue;
			if (hc_batch_value(meta, ms, id) != NULL)
				continue;   /* copied by copy_values() */
			rc = hc_batch_add_int(b, s, id, 0);
		}
		if (rc == 0 && relabel)
			rc = apply_label_opts(b, s, opts);
		if (rc != 0)
			return rc;
	}
	/* pods, and the namespace enricher for every set with a namespace */
	mpod_guess = 0;
	for (uint32_t s = 0; s < b->nsets; s++) {
		const char *ns = hc_batch_get_label(b, s, HC_L_NAMESPACE_NAME);
		char key[300];
		uint32_t ms;
		int n;

		if (s < nsets && b->sets[s].type == HC_T_POD &&
		    hc_batch_find_near(meta, b->sets[s].key, b->sets[s].key_len,
				       mpod_guess, &ms) == 0) {
			mpod_guess = next_pod(meta, ms);
			for (size_t i = 0; i < HC_ARRAY_LEN(pod_labels); i++) {
				rc = copy_label(b, s, meta, ms, pod_labels[i], 1);
				if (rc != 0)
					return rc;
			}
			if (b->sets[s].create_ms == 0)
				b->sets[s].create_ms = meta->sets[ms].create_ms;
			if (relabel && (rc = apply_label_opts(b, s, opts)) != 0)
				return rc;
		}
		if (ns == NULL)
			continue;
		/* sets of one namespace often come in a row: one lookup and one
		 * copy of its id per run */
		if (last_ns == NULL || strcmp(last_ns, ns) != 0) {
			const char *id = NULL;

			last_ns = ns;
			ns_id = NULL;
			n = snprintf(key, sizeof(key), "namespace:%s", ns);
			if (n > 0 && (size_t)n < sizeof(key) &&
			    hc_batch_find(meta, key, (size_t)n, &ms) == 0)
				id = hc_batch_get_label(meta, ms, HC_L_NAMESPACE_ID);
			if (id != NULL && (ns_id = hc_batch_str(b, id, strlen(id))) == NULL)
				return -ENOMEM;
		}
		if (ns_id != NULL && hc_batch_get_label(b, s, HC_L_NAMESPACE_ID) == NULL &&
		    (rc = hc_batch_label(b, s, HC_L_NAMESPACE_ID, ns_id)) != 0)
			return rc;
	}
	return 0;
}

/* The plain value of metric id m of set s as a double; 0 if absent. */
static int get_num(const struct hc_batch *b, uint32_t s, uint32_t m, double *out)
{
	const struct hc_value *v = hc_batch_value(b, s, m);

	if (v == NULL)
		return 0;
	*out = hc_value_num(v);
	return 1;
}

int proc_enrich_nodes(struct hc_batch *b, const struct hc_batch *meta)
{
	static const struct {
		uint16_t cap, alloc, usage, request, util, resv;
	} res[] = {
		{ HC_M_CPU_NODE_CAPACITY, HC_M_CPU_NODE_ALLOCATABLE, HC_M_CPU_USAGE_RATE,
		  HC_M_CPU_REQUEST, HC_M_CPU_NODE_UTILIZATION, HC_M_CPU_NODE_RESERVATION },
		{ HC_M_MEM_NODE_CAPACITY, HC_M_MEM_NODE_ALLOCATABLE, HC_M_MEM_USAGE,
		  HC_M_MEM_REQUEST, HC_M_MEM_NODE_UTILIZATION, HC_M_MEM_NODE_RESERVATION },
		{ HC_M_EPH_NODE_CAPACITY, HC_M_EPH_NODE_ALLOCATABLE, HC_M_EPH_USAGE,
		  HC_M_EPH_REQUEST, HC_M_EPH_NODE_UTILIZATION, HC_M_EPH_NODE_RESERVATION },
	};
	uint32_t nsets;
	int rc;

	if (meta == NULL || meta->nsets == 0)
		return 0;
	rc = hc_batch_group(b);
	if (rc != 0)
		return rc;
	nsets = b->nsets;
	for (uint32_t s = 0; s < nsets; s++) {
		uint32_t ms;

		if (b->sets[s].type != HC_T_NODE ||
		    hc_batch_find(meta, b->sets[s].key, b->sets[s].key_len, &ms) != 0)
			continue;
		rc = copy_label(b, s, meta, ms, HC_L_LABELS, 0);
		if (rc != 0)
			return rc;
		for (size_t r = 0; r < HC_ARRAY_LEN(res); r++) {
			double cap, alloc, x;

			int has_cap = get_num(meta, ms, res[r].cap, &cap);
			int has_alloc = get_num(meta, ms, res[r].alloc, &alloc);

			/* each when known; the ratios only against a known, non-zero
			 * allocatable */
			rc = has_cap ? hc_batch_add_float(b, s, res[r].cap, cap) : 0;
			if (rc == 0 && has_alloc)
				rc = hc_batch_add_float(b, s, res[r].alloc, alloc);
			if (!has_alloc)
				alloc = 0;
			if (rc == 0 && alloc > 0 && get_num(b, s, res[r].usage, &x))
				rc = hc_batch_add_float(b, s, res[r].util, x / alloc);
			if (rc == 0 && alloc > 0 && get_num(b, s, res[r].request, &x))
				rc = hc_batch_add_float(b, s, res[r].resv, x / alloc);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* What key_workload() reads: the metadata, and where to look first. */
struct wl_ctx {
	const struct hc_batch *meta;
	uint32_t               guess;   /* the metadata pod after the last found */
};

/*
 * Parent key of a pod: its workload from the metadata.  Pods come in
 * batch order, and in the metadata a pod's neighbours are usually the same
 * as in the batch, so the pod after the last one found is tried first.
 */
static int key_workload(void *ctx, const struct hc_batch *b, uint32_t s,
			char *buf, size_t cap)
{
	struct wl_ctx *c = ctx;
	const struct hc_batch *meta = c->meta;
	const char *kind, *name, *ns;
	size_t kl, nl, sl;
	uint32_t ms;

	if (hc_batch_find_near(meta, b->sets[s].key, b->sets[s].key_len, c->guess, &ms) != 0)
		return -1;
	c->guess = next_pod(meta, ms);
	kind = hc_batch_get_label(meta, ms, HC_META_WORKLOAD_KIND);
	name = hc_batch_get_label(meta, ms, HC_META_WORKLOAD_NAME);
	ns = hc_batch_get_label(b, s, HC_L_NAMESPACE_NAME);
	if (kind == NULL || name == NULL || ns == NULL)
		return -1;
	/* "namespace:" ns "/" kind ":" name */
	sl = strlen(ns);
	kl = strlen(kind);
	nl = strlen(name);
	if (10 + sl + 1 + kl + 1 + nl >= cap)
		return -1;
	memcpy(buf, "namespace:", 10);
	memcpy(buf + 10, ns, sl);
	buf[10 + sl] = '/';
	memcpy(buf + 11 + sl, kind, kl);
	buf[11 + sl + kl] = ':';
	memcpy(buf + 12 + sl + kl, name, nl);
	buf[12 + sl + kl + nl] = '\0';
	return (int)(12 + sl + kl + nl);
}

int proc_aggregate_workloads(struct hc_batch *b, const struct hc_batch *meta)
{
	struct wl_ctx c = { meta, 0 };
	uint32_t nsets = b->nsets;
	int rc;

	if (meta == NULL || meta->nsets == 0)
		return 0;
	/* the sums and the number of pods, appended in one run per workload */
	rc = proc_sum_into(b, HC_TYPE_POD, key_workload, &c, NULL,
			   proc_ns_metrics, HC_ARRAY_LEN(proc_ns_metrics), 1,
			   HC_M_POD_COUNT);
	for (uint32_t w = nsets; rc == 0 && w < b->nsets; w++)
		rc = hc_batch_label(b, w, HC_L_WORKLOAD_NAME,
				    strrchr(b->sets[w].key, ':') + 1);
	return rc;
}
