/*
 * test_enrich.c - the pod, namespace and node enrichers and the workload
 * aggregator, on hand-made metrics and metadata batches with hand-computed
 * results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "aggregate.h"
#include "batch.h"
#include "enrich.h"
#include "hc.h"
#include "meta.h"

static uint32_t set(struct hc_batch *b, const char *key, const char *type)
{
	uint32_t s;

	assert_int_equal(hc_batch_set(b, key, strlen(key), &s, NULL), 0);
	assert_int_equal(hc_batch_label(b, s, HC_L_TYPE, type), 0);
	return s;
}

static void label(struct hc_batch *b, uint32_t s, const char *k, const char *v)
{
	assert_int_equal(hc_batch_label(b, s, k, v), 0);
}

static struct hc_value *get(struct hc_batch *b, const char *key, uint32_t m)
{
	uint32_t s;

	assert_int_equal(hc_batch_group(b), 0);
	if (hc_batch_find(b, key, strlen(key), &s) != 0)
		return NULL;
	return hc_batch_value(b, s, m);
}

static const char *lab(struct hc_batch *b, const char *key, const char *k)
{
	uint32_t s;

	if (hc_batch_find(b, key, strlen(key), &s) != 0)
		return NULL;
	return hc_batch_get_label(b, s, k);
}

/* Metadata: node n1 (4 cores, 3.5 allocatable, 16 GiB / 15 GiB), namespace
 * ns with uid, pods p1 (deployment web, containers a and b) and p2
 * (deployment web), p3 (statefulset db) */
static void make_meta(struct hc_batch *m)
{
	uint32_t s, gpu;

	assert_int_equal(hc_batch_init(m), 0);
	s = set(m, "node:n1", HC_TYPE_NODE);
	label(m, s, HC_L_LABELS, "kubernetes.io/os:linux,zone:a");
	hc_batch_add_float(m, s, HC_M_CPU_NODE_CAPACITY, 4000);
	hc_batch_add_float(m, s, HC_M_CPU_NODE_ALLOCATABLE, 3500);
	hc_batch_add_float(m, s, HC_M_MEM_NODE_CAPACITY, 16.0 * (1 << 30));
	hc_batch_add_float(m, s, HC_M_MEM_NODE_ALLOCATABLE, 15.0 * (1 << 30));
	s = set(m, "namespace:ns", HC_TYPE_NS);
	label(m, s, HC_L_NAMESPACE_NAME, "ns");
	label(m, s, HC_L_NAMESPACE_ID, "uid-ns");
	for (int p = 1; p <= 3; p++) {
		char key[64], *k;

		snprintf(key, sizeof(key), "namespace:ns/pod:p%d", p);
		s = set(m, key, HC_TYPE_POD);
		k = (char *)hc_batch_str(m, key, strlen(key));
		(void)k;
		label(m, s, HC_L_NAMESPACE_NAME, "ns");
		label(m, s, HC_L_POD_NAME, hc_batch_str(m, key + 17, strlen(key + 17)));
		label(m, s, HC_L_POD_ID, p == 1 ? "uid-p1" : p == 2 ? "uid-p2" : "uid-p3");
		label(m, s, HC_L_LABELS, "app:web");
		label(m, s, HC_META_WORKLOAD_KIND, p < 3 ? HC_TYPE_DEPLOYMENT : HC_TYPE_STATEFULSET);
		label(m, s, HC_META_WORKLOAD_NAME, p < 3 ? "web" : "db");
	}
	assert_int_equal(hc_batch_name(m, "nvidia.com/gpu/request", 22, HC_GAUGE, &gpu), 0);
	s = set(m, "namespace:ns/pod:p1/container:a", HC_TYPE_POD_CONTAINER);
	label(m, s, HC_L_CONTAINER_NAME, "a");
	label(m, s, HC_L_CONTAINER_IMAGE, "registry/a:1");
	/* (containers carry no pod labels: the pod's set has them, meta.h) */
	hc_batch_add_int(m, s, HC_M_CPU_REQUEST, 100);
	hc_batch_add_int(m, s, HC_M_CPU_LIMIT, 200);
	hc_batch_add_int(m, s, HC_M_MEM_REQUEST, 1 << 20);
	hc_batch_add_int(m, s, HC_M_RESTART_COUNT, 3);
	hc_batch_add_int(m, s, gpu, 1);
	/* b has no stats: a request-only set is created */
	s = set(m, "namespace:ns/pod:p1/container:b", HC_TYPE_POD_CONTAINER);
	label(m, s, HC_L_CONTAINER_NAME, "b");
	label(m, s, HC_L_CONTAINER_IMAGE, "registry/b:2");
	hc_batch_add_int(m, s, HC_M_CPU_REQUEST, 50);   /* the rest absent: 0 */
	/* a container of a pod that was not scraped: ignored */
	s = set(m, "namespace:ns/pod:gone/container:x", HC_TYPE_POD_CONTAINER);
	hc_batch_add_int(m, s, HC_M_CPU_REQUEST, 999);
	assert_int_equal(hc_batch_group(m), 0);
}

static void make_batch(struct hc_batch *b)
{
	uint32_t s;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, 1764000000000LL);
	s = set(b, "node:n1", HC_TYPE_NODE);
	label(b, s, HC_L_NODENAME, "n1");
	hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 1750);
	hc_batch_add_int(b, s, HC_M_MEM_USAGE, 3LL << 30);
	for (int p = 1; p <= 3; p++) {
		char key[64];
		const char *names[] = { NULL, "p1", "p2", "p3" };

		snprintf(key, sizeof(key), "namespace:ns/pod:p%d", p);
		s = set(b, key, HC_TYPE_POD);
		label(b, s, HC_L_NAMESPACE_NAME, "ns");
		label(b, s, HC_L_POD_NAME, names[p]);
		label(b, s, HC_L_NODENAME, "n1");
		label(b, s, HC_L_HOSTNAME, "n1");
		hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 100 * p);
		hc_batch_add_int(b, s, HC_M_MEM_USAGE, 1000 * p);
	}
	s = set(b, "namespace:ns/pod:p1/container:a", HC_TYPE_POD_CONTAINER);
	label(b, s, HC_L_NAMESPACE_NAME, "ns");
	label(b, s, HC_L_POD_NAME, "p1");
	label(b, s, HC_L_NODENAME, "n1");
	hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 100);
	hc_batch_add_int(b, s, HC_M_RESTART_COUNT, 7);   /* from the source: kept */
}

static void test_enrich_and_workloads(void **state)
{
	struct hc_batch m, b;
	uint32_t gpu;
	double u;

	(void)state;
	make_meta(&m);
	make_batch(&b);
	assert_int_equal(proc_enrich_pods(&b, &m, NULL), 0);
	assert_int_equal(proc_aggregate(&b), 0);
	assert_int_equal(proc_enrich_nodes(&b, &m), 0);
	assert_int_equal(proc_aggregate_workloads(&b, &m), 0);

	/* pod enricher */
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:a", HC_L_CONTAINER_IMAGE), "registry/a:1");
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:a", HC_L_POD_ID), "uid-p1");
	assert_string_equal(lab(&b, "namespace:ns/pod:p1", HC_L_POD_ID), "uid-p1");
	assert_string_equal(lab(&b, "namespace:ns/pod:p1", HC_L_LABELS), "app:web");
	assert_int_equal(get(&b, "namespace:ns/pod:p1/container:a", HC_M_CPU_REQUEST)->v.i, 100);
	assert_int_equal(get(&b, "namespace:ns/pod:p1/container:a", HC_M_CPU_LIMIT)->v.i, 200);
	assert_int_equal(get(&b, "namespace:ns/pod:p1/container:a", HC_M_RESTART_COUNT)->v.i, 7);
	assert_int_equal(hc_batch_name(&b, "nvidia.com/gpu/request", 22, HC_GAUGE, &gpu), 0);
	assert_int_equal(get(&b, "namespace:ns/pod:p1/container:a", gpu)->v.i, 1);
	/* request-only container, with the pod's node labels */
	assert_int_equal(get(&b, "namespace:ns/pod:p1/container:b", HC_M_CPU_REQUEST)->v.i, 50);
	assert_null(get(&b, "namespace:ns/pod:p1/container:b", HC_M_CPU_USAGE_RATE));
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:b", HC_L_NODENAME), "n1");
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:b", HC_L_TYPE), HC_TYPE_POD_CONTAINER);
	/* ... and the pod's labels from the pod's metadata, not its workload */
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:b", HC_L_POD_NAME), "p1");
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:b", HC_L_NAMESPACE_NAME), "ns");
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:b", HC_L_POD_ID), "uid-p1");
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:b", HC_L_LABELS), "app:web");
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:b", HC_L_CONTAINER_NAME), "b");
	assert_null(lab(&b, "namespace:ns/pod:p1/container:b", HC_META_WORKLOAD_KIND));
	/* values absent from the metadata are Heapster's 0 */
	assert_int_equal(get(&b, "namespace:ns/pod:p1/container:b", HC_M_MEM_LIMIT)->v.i, 0);
	assert_int_equal(get(&b, "namespace:ns/pod:p1/container:b", HC_M_RESTART_COUNT)->v.i, 0);
	assert_int_equal(get(&b, "namespace:ns/pod:p1/container:a", HC_M_MEM_LIMIT)->v.i, 0);
	assert_int_equal(get(&b, "namespace:ns/pod:p1/container:a", HC_M_EPH_REQUEST)->v.i, 0);
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:a", HC_L_LABELS), "app:web");
	assert_null(get(&b, "namespace:ns/pod:gone/container:x", HC_M_CPU_REQUEST));
	/* pod aggregation of requests: 100 + 50 */
	assert_int_equal(get(&b, "namespace:ns/pod:p1", HC_M_CPU_REQUEST)->v.i, 150);
	/* namespace enricher, on the namespace too */
	assert_string_equal(lab(&b, "namespace:ns/pod:p2", HC_L_NAMESPACE_ID), "uid-ns");
	assert_string_equal(lab(&b, "namespace:ns", HC_L_NAMESPACE_ID), "uid-ns");
	/* node: requests summed from pods, autoscaling ratios */
	assert_int_equal(get(&b, "node:n1", HC_M_CPU_REQUEST)->v.i, 150);
	assert_true(get(&b, "node:n1", HC_M_CPU_NODE_ALLOCATABLE)->v.f == 3500);
	u = get(&b, "node:n1", HC_M_CPU_NODE_UTILIZATION)->v.f;
	assert_true(u > 0.4999 && u < 0.5001);                      /* 1750 / 3500 */
	u = get(&b, "node:n1", HC_M_CPU_NODE_RESERVATION)->v.f;
	assert_true(u > 150.0 / 3500 - 1e-9 && u < 150.0 / 3500 + 1e-9);
	u = get(&b, "node:n1", HC_M_MEM_NODE_UTILIZATION)->v.f;
	assert_true(u > 0.19999 && u < 0.20001);                    /* 3 / 15 GiB */
	assert_null(get(&b, "node:n1", HC_M_EPH_NODE_UTILIZATION));  /* no capacity known */
	assert_string_equal(lab(&b, "node:n1", HC_L_LABELS), "kubernetes.io/os:linux,zone:a");
	/* workloads */
	assert_int_equal(get(&b, "namespace:ns/deployment:web", HC_M_CPU_USAGE_RATE)->v.i, 300);
	assert_int_equal(get(&b, "namespace:ns/deployment:web", HC_M_MEM_USAGE)->v.i, 3000);
	assert_int_equal(get(&b, "namespace:ns/deployment:web", HC_M_POD_COUNT)->v.i, 2);
	assert_int_equal(get(&b, "namespace:ns/deployment:web", HC_M_CPU_REQUEST)->v.i, 150);
	assert_string_equal(lab(&b, "namespace:ns/deployment:web", HC_L_TYPE), HC_TYPE_DEPLOYMENT);
	assert_string_equal(lab(&b, "namespace:ns/deployment:web", HC_L_WORKLOAD_NAME), "web");
	assert_string_equal(lab(&b, "namespace:ns/deployment:web", HC_L_NAMESPACE_ID), "uid-ns");
	assert_int_equal(get(&b, "namespace:ns/statefulset:db", HC_M_POD_COUNT)->v.i, 1);
	assert_int_equal(get(&b, "namespace:ns/statefulset:db", HC_M_CPU_USAGE_RATE)->v.i, 300);
	assert_string_equal(lab(&b, "namespace:ns/statefulset:db", HC_L_TYPE), HC_TYPE_STATEFULSET);
	/* the workload labels of the metadata are not copied onto pods */
	assert_null(lab(&b, "namespace:ns/pod:p1", HC_META_WORKLOAD_KIND));
	hc_batch_free(&m);
	hc_batch_free(&b);
}

static void test_no_metadata(void **state)
{
	struct hc_batch b;

	(void)state;
	make_batch(&b);
	assert_int_equal(proc_enrich_pods(&b, NULL, NULL), 0);
	assert_int_equal(proc_aggregate(&b), 0);
	assert_int_equal(proc_enrich_nodes(&b, NULL), 0);
	assert_int_equal(proc_aggregate_workloads(&b, NULL), 0);
	assert_null(get(&b, "node:n1", HC_M_CPU_NODE_UTILIZATION));
	assert_int_equal(get(&b, "namespace:ns", HC_M_CPU_USAGE_RATE)->v.i, 600);
	hc_batch_free(&b);
}

static void test_label_options(void **state)
{
	struct proc_label_opts o = { 0 };
	struct hc_batch m, b;
	uint32_t s;

	(void)state;
	make_meta(&m);
	make_batch(&b);
	/* pod p2 gets richer labels in the metadata */
	assert_int_equal(hc_batch_find(&m, "namespace:ns/pod:p2", 19, &s), 0);
	label(&m, s, HC_L_LABELS, "app:web,pod-template-hash:abc,tier:front");
	o.separator = ";";
	o.ignore[o.nignore++] = "pod-template-hash";
	o.store_name[o.nstore] = "tier";
	o.store_key[o.nstore++] = "tier";
	o.store_name[o.nstore] = "application";
	o.store_key[o.nstore++] = "app";
	assert_int_equal(proc_enrich_pods(&b, &m, &o), 0);
	assert_string_equal(lab(&b, "namespace:ns/pod:p2", HC_L_LABELS), "app:web;tier:front");
	assert_string_equal(lab(&b, "namespace:ns/pod:p2", "tier"), "front");
	assert_string_equal(lab(&b, "namespace:ns/pod:p2", "application"), "web");
	assert_non_null(lab(&b, "namespace:ns/pod:p1/container:a", "application"));
	assert_string_equal(lab(&b, "namespace:ns/pod:p1/container:a", "application"), "web");
	assert_null(lab(&b, "namespace:ns/pod:p1/container:a", "tier"));
	hc_batch_free(&m);
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enrich_and_workloads),
		cmocka_unit_test(test_no_metadata),
		cmocka_unit_test(test_label_options),
	};
	return cmocka_run_group_tests_name("enrich", tests, NULL, NULL);
}
