/*
 * test_summary.c - the kubelet summary parser (scraper/summary.c) against
 * every summary fixture of shared/fixtures and hand-written edge cases, and
 * the lighter /metrics/resource parser (scraper/resource.c) against the
 * resource-metrics fixtures.
 *
 * Expected numbers were read from the fixture JSON by hand (see the
 * comments); the tests run from the repository root and find the fixtures
 * at ../shared/fixtures/ (override with HC_FIXTURES=DIR).  Malformed input
 * must return HC_ERR_PARSE and leave the batch byte-for-byte as it was
 * (compared through its JSON dump).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch.h"
#include "hc.h"
#include "json.h"
#include "scraper.h"
#include "resource.h"
#include "summary.h"

#define NOW_MS 1782469000000LL   /* 2026-06-26T10:16:40Z: "now" for uptime */

/* ---- helpers ---------------------------------------------------------------- */

static char *load_fixture(const char *name, size_t *len)
{
	const char *dir = getenv("HC_FIXTURES");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/fixtures", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open fixture %s (run from the repository root)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct scr_node mknode(const char *name)
{
	struct scr_node n;

	memset(&n, 0, sizeof(n));
	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.hostname, sizeof(n.hostname), "%s", name);
	n.create_ms = 1782468000000LL;        /* 2026-06-26T10:00:00Z */
	n.now_ms = NOW_MS;
	n.ready = 1;
	return n;
}

static int64_t ms(const char *rfc3339)
{
	int64_t v = 0;

	assert_int_equal(hc_time_parse(rfc3339, strlen(rfc3339), &v), 0);
	return v;
}

static uint32_t set_of(struct hc_batch *b, const char *key)
{
	uint32_t idx;

	if (hc_batch_find(b, key, strlen(key), &idx) != 0)
		fail_msg("no set %s", key);
	return idx;
}

static int has_set(struct hc_batch *b, const char *key)
{
	uint32_t idx;

	return hc_batch_find(b, key, strlen(key), &idx) == 0;
}

static uint32_t name_id(struct hc_batch *b, const char *name)
{
	for (uint32_t i = 0; i < b->nnames; i++)
		if (strcmp(b->names[i], name) == 0)
			return i;
	return UINT32_MAX;
}

/* The unlabeled value `metric` of set `key`; *found says whether it exists. */
static const struct hc_value *find_value(struct hc_batch *b, const char *key,
					 const char *metric)
{
	uint32_t id = name_id(b, metric);

	assert_int_equal(hc_batch_group(b), 0);
	if (id == UINT32_MAX)
		return NULL;
	return hc_batch_value(b, set_of(b, key), id);
}

static int64_t get_int(struct hc_batch *b, const char *key, const char *metric)
{
	const struct hc_value *v = find_value(b, key, metric);

	if (v == NULL)
		fail_msg("set %s has no %s", key, metric);
	assert_int_equal(v->type, HC_INT);
	return v->v.i;
}

static int absent(struct hc_batch *b, const char *key, const char *metric)
{
	return find_value(b, key, metric) == NULL;
}

/* A labeled value of set key: metric with label lkey = lval. */
static const struct hc_value *find_labeled(struct hc_batch *b, const char *key,
					   const char *metric, const char *lkey,
					   const char *lval)
{
	uint32_t set = set_of(b, key), id = name_id(b, metric);

	assert_int_equal(hc_batch_group(b), 0);
	for (uint32_t i = 0; i < b->sets[set].vals_n; i++) {
		const struct hc_value *v = &b->vals[b->sets[set].vals_off + i];

		if (v->name != id || v->labels_n == 0)
			continue;
		for (uint16_t l = 0; l < v->labels_n; l++)
			if (strcmp(b->labels[v->labels_off + l].key, lkey) == 0 &&
			    strcmp(b->labels[v->labels_off + l].value, lval) == 0)
				return v;
	}
	return NULL;
}

static int64_t get_fs(struct hc_batch *b, const char *key, const char *metric,
		      const char *rid)
{
	const struct hc_value *v = find_labeled(b, key, metric, HC_L_RESOURCE_ID, rid);

	if (v == NULL)
		fail_msg("set %s has no %s{resource_id=%s}", key, metric, rid);
	return v->v.i;
}

static const char *label(struct hc_batch *b, const char *key, const char *name)
{
	const char *v = hc_batch_get_label(b, set_of(b, key), name);

	if (v == NULL)
		fail_msg("set %s has no label %s", key, name);
	return v;
}

/* The batch as text, to prove that a failed parse changed nothing. */
static char *snapshot(struct hc_batch *b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(scr_dump_json(f, b), 0);
	fclose(f);
	return buf;
}

static int parse_str(struct hc_batch *b, const char *json, const char *node)
{
	struct scr_node n = mknode(node);

	return scr_summary_parse(json, strlen(json), &n, b);
}

static int setup_batch(void **state)
{
	struct hc_batch *b = malloc(sizeof(*b));

	if (b == NULL || hc_batch_init(b) != 0)
		return -1;
	hc_batch_reset(b, 1782468900000LL);
	*state = b;
	return 0;
}

static int teardown_batch(void **state)
{
	hc_batch_free(*state);
	free(*state);
	return 0;
}

/* ---- fixtures --------------------------------------------------------------- */

static void test_k8s135_node(void **state)
{
	struct hc_batch *b = *state;
	struct scr_node n = mknode("datagen-1-35");
	const char *nk = "node:datagen-1-35";
	size_t len;
	char *json = load_fixture("summary-nri-kubernetes-k8s1.35.json", &len);

	assert_int_equal(scr_summary_parse(json, len, &n, b), 0);
	/* node + 2 system containers + 17 pods + 17 containers */
	assert_int_equal(b->nsets, 37);
	assert_int_equal(get_int(b, nk, "cpu/usage"), 62148052000LL);
	assert_int_equal(get_int(b, nk, "memory/usage"), 3080323072LL);
	assert_int_equal(get_int(b, nk, "memory/working_set"), 917110784LL);
	assert_int_equal(get_int(b, nk, "memory/rss"), 710361088LL);
	assert_int_equal(get_int(b, nk, "memory/page_faults"), 871539);
	assert_int_equal(get_int(b, nk, "memory/major_page_faults"), 6);
	assert_int_equal(get_int(b, nk, "network/rx"), 772921510LL);
	assert_int_equal(get_int(b, nk, "network/rx_errors"), 0);
	assert_int_equal(get_int(b, nk, "network/tx"), 13888023);
	assert_int_equal(get_int(b, nk, "network/tx_errors"), 0);
	/* fs: labeled, resource_id "/", and usedBytes as ephemeral storage */
	assert_int_equal(get_fs(b, nk, "filesystem/usage", "/"), 106943070208LL);
	assert_int_equal(get_fs(b, nk, "filesystem/limit", "/"), 977896124416LL);
	assert_int_equal(get_fs(b, nk, "filesystem/available", "/"), 821203210240LL);
	assert_int_equal(get_fs(b, nk, "filesystem/inodes", "/"), 60710912);
	assert_int_equal(get_fs(b, nk, "filesystem/inodes_free", "/"), 59206606);
	assert_int_equal(get_int(b, nk, "ephemeral_storage/usage"), 106943070208LL);
	assert_true(absent(b, nk, "filesystem/usage"));   /* only labeled */
	/* times: uptime = now - startTime, create = node creationTimestamp */
	assert_int_equal(get_int(b, nk, "uptime"), NOW_MS - ms("2026-06-26T09:18:15Z"));
	assert_int_equal(b->sets[set_of(b, nk)].start_ms, ms("2026-06-26T09:18:15Z"));
	assert_int_equal(b->sets[set_of(b, nk)].create_ms, 1782468000000LL);
	assert_int_equal(b->sets[set_of(b, nk)].scrape_ms, ms("2026-06-26T10:14:35Z"));
	assert_string_equal(label(b, nk, HC_L_TYPE), HC_TYPE_NODE);
	assert_string_equal(label(b, nk, HC_L_NODENAME), "datagen-1-35");
	assert_string_equal(label(b, nk, HC_L_HOSTNAME), "datagen-1-35");
	assert_string_equal(label(b, nk, HC_L_HOST_ID), "");
	/* PSI, io, swap, rlimit, runtime: not mapped, not fatal */
	assert_int_equal(name_id(b, "memory/available"), UINT32_MAX);

	/* system containers keep their names (kubelet, pods) */
	assert_int_equal(get_int(b, "node:datagen-1-35/container:kubelet", "cpu/usage"),
			 3492960000LL);
	assert_int_equal(get_int(b, "node:datagen-1-35/container:kubelet",
				 "memory/working_set"), 51752960);
	assert_string_equal(label(b, "node:datagen-1-35/container:kubelet", HC_L_TYPE),
			    HC_TYPE_SYS_CONTAINER);
	assert_string_equal(label(b, "node:datagen-1-35/container:pods", HC_L_CONTAINER_NAME),
			    "pods");
	free(json);
}

static void test_k8s135_pods(void **state)
{
	struct hc_batch *b = *state;
	struct scr_node n = mknode("datagen-1-35");
	const char *pk = "namespace:kube-system/pod:kube-controller-manager-datagen-1-35";
	const char *ck = "namespace:kube-system/pod:kube-controller-manager-datagen-1-35"
			 "/container:kube-controller-manager";
	const char *proxy = "namespace:kube-system/pod:kube-proxy-8k9zt";
	size_t len;
	char *json = load_fixture("summary-nri-kubernetes-k8s1.35.json", &len);

	assert_int_equal(scr_summary_parse(json, len, &n, b), 0);
	/* the pod */
	assert_int_equal(get_int(b, pk, "cpu/usage"), 1944284000LL);
	assert_int_equal(get_int(b, pk, "memory/working_set"), 66478080);
	assert_int_equal(get_int(b, pk, "network/rx"), 772919385LL);
	assert_int_equal(get_int(b, pk, "ephemeral_storage/usage"), 122880);
	assert_int_equal(get_int(b, pk, "uptime"), NOW_MS - ms("2026-06-26T10:12:10Z"));
	assert_int_equal(b->sets[set_of(b, pk)].create_ms, ms("2026-06-26T10:12:10Z"));
	assert_int_equal(b->sets[set_of(b, pk)].scrape_ms, ms("2026-06-26T10:14:38Z"));
	assert_string_equal(label(b, pk, HC_L_TYPE), HC_TYPE_POD);
	assert_string_equal(label(b, pk, HC_L_NAMESPACE_NAME), "kube-system");
	assert_string_equal(label(b, pk, HC_L_POD_NAME), "kube-controller-manager-datagen-1-35");
	assert_string_equal(label(b, pk, HC_L_POD_ID), "e9afcd8d3c942968802548f9a24d942a");
	assert_string_equal(label(b, pk, HC_L_NODENAME), "datagen-1-35");
	/* its container */
	assert_int_equal(get_int(b, ck, "cpu/usage"), 1877547000LL);
	assert_int_equal(get_int(b, ck, "memory/working_set"), 66174976);
	assert_int_equal(get_int(b, ck, "memory/rss"), 65314816);
	assert_int_equal(get_int(b, ck, "memory/page_faults"), 7492);
	assert_int_equal(get_fs(b, ck, "filesystem/usage", "/"), 86016);
	assert_int_equal(get_fs(b, ck, "filesystem/usage", "logs"), 32768);
	assert_int_equal(get_fs(b, ck, "filesystem/inodes_free", "logs"), 59206606);
	assert_int_equal(get_int(b, ck, "ephemeral_storage/usage"), 86016 + 32768);
	assert_true(absent(b, ck, "network/rx"));
	assert_int_equal(b->sets[set_of(b, ck)].scrape_ms, ms("2026-06-26T10:14:29Z"));
	assert_string_equal(label(b, ck, HC_L_TYPE), HC_TYPE_POD_CONTAINER);
	assert_string_equal(label(b, ck, HC_L_CONTAINER_NAME), "kube-controller-manager");
	assert_string_equal(label(b, ck, HC_L_POD_ID), "e9afcd8d3c942968802548f9a24d942a");
	assert_string_equal(label(b, ck, HC_L_HOSTNAME), "datagen-1-35");
	/* volumes: resource_id "Volume:<name>" */
	assert_int_equal(get_fs(b, proxy, "filesystem/usage", "Volume:kube-proxy"), 16384);
	assert_int_equal(get_fs(b, proxy, "filesystem/limit", "Volume:kube-api-access-gzxxs"),
			 8216887296LL);
	assert_null(find_labeled(b, proxy, "filesystem/usage", HC_L_RESOURCE_ID, "/"));
	assert_int_equal(get_int(b, "namespace:scraper/pod:e2e-scraper-5f97dc94d8-vkcjl"
				 "/container:e2e-scraper", "memory/working_set"), 1454080);
	free(json);
}

static void test_k8s131(void **state)
{
	struct hc_batch *b = *state;
	struct scr_node n = mknode("datagen-1-31");
	const char *ck = "namespace:kube-system/pod:etcd-datagen-1-31/container:etcd";
	size_t len;
	char *json = load_fixture("summary-nri-kubernetes-k8s1.31.json", &len);

	assert_int_equal(scr_summary_parse(json, len, &n, b), 0);
	assert_int_equal(b->nsets, 37);
	assert_int_equal(get_int(b, "node:datagen-1-31", "cpu/usage"), 76877443000LL);
	assert_int_equal(b->sets[set_of(b, "node:datagen-1-31")].start_ms,
			 ms("2025-11-01T18:01:16Z"));
	assert_int_equal(get_int(b, ck, "memory/working_set"), 33058816);
	assert_int_equal(get_int(b, ck, "ephemeral_storage/usage"), 36864 + 16384);
	assert_int_equal(get_fs(b, "namespace:kube-system/pod:metrics-server-7b56b5cf7d-9swk6",
				"filesystem/limit", "Volume:tmp-dir"), 1081100128256LL);
	assert_true(has_set(b, "node:datagen-1-31/container:pods"));
	free(json);
}

/* metrics-server's kind fixture: pods with zero or missing fields. */
static void test_kind_edge_cases(void **state)
{
	struct hc_batch *b = *state;
	struct scr_node n = mknode("kind-node");
	const char *nk = "node:e2e-v1.17.0-control-plane";
	const char *all = "namespace:default/pod:all-fields";
	size_t len;
	char *json = load_fixture("summary-metrics-server-kind.json", &len);

	assert_int_equal(scr_summary_parse(json, len, &n, b), 0);
	/* node + kubelet + pods + 7 pods + 7 containers */
	assert_int_equal(b->nsets, 17);
	/* the key is the summary's nodeName, labels the API server's name */
	assert_int_equal(get_int(b, nk, "cpu/usage"), 519978197128LL);
	assert_string_equal(label(b, nk, HC_L_NODENAME), "kind-node");
	assert_int_equal(get_int(b, nk, "network/tx"), 72810891);
	assert_int_equal(get_int(b, "node:e2e-v1.17.0-control-plane/container:pods",
				 "cpu/usage"), 231508341412LL);

	assert_int_equal(get_int(b, all, "cpu/usage"), 54096725);
	assert_int_equal(get_int(b, all, "memory/rss"), 0);
	assert_int_equal(get_int(b, all, "ephemeral_storage/usage"), 28672);
	assert_int_equal(get_fs(b, all, "filesystem/usage", "Volume:default-token-sd9l8"), 12288);
	assert_int_equal(get_fs(b, all, "filesystem/inodes", "Volume:default-token-sd9l8"),
			 2029951);
	assert_string_equal(label(b, all, HC_L_POD_ID), "96636a87-47f5-4970-a15e-6e7901925c90");
	assert_int_equal(get_int(b, "namespace:default/pod:all-fields/container:container",
				 "memory/working_set"), 1449984);
	assert_true(absent(b, "namespace:default/pod:all-fields/container:container",
			   "memory/usage"));
	assert_int_equal(get_int(b, "namespace:default/pod:all-fields/container:container",
				 "ephemeral_storage/usage"), 24576 + 4096);

	/* zero is a value; missing is no value */
	assert_int_equal(get_int(b, "namespace:default/pod:zero usageCoreNanoSeconds/container:container",
				 "cpu/usage"), 0);
	assert_string_equal(label(b, "namespace:default/pod:zero usageCoreNanoSeconds", HC_L_POD_ID), "");
	assert_true(absent(b, "namespace:default/pod:no usageCoreNanoSeconds/container:container",
			   "cpu/usage"));
	assert_true(absent(b, "namespace:default/pod:no CPU/container:container", "cpu/usage"));
	assert_int_equal(get_int(b, "namespace:default/pod:no CPU/container:container",
				 "memory/working_set"), 1449984);
	/* no cpu: scrape time from memory.time */
	assert_int_equal(b->sets[set_of(b, "namespace:default/pod:no CPU/container:container")].scrape_ms,
			 ms("2020-04-16T20:25:30Z"));
	assert_int_equal(get_int(b, "namespace:default/pod:zero workingSetBytes/container:container",
				 "memory/working_set"), 0);
	assert_true(absent(b, "namespace:default/pod:no workingSetBytes/container:container",
			   "memory/working_set"));
	assert_int_equal(get_int(b, "namespace:default/pod:no workingSetBytes/container:container",
				 "cpu/usage"), 29328792);
	assert_true(absent(b, "namespace:default/pod:no memory/container:container",
			   "memory/working_set"));
	/* a pod with no stats of its own: a set with labels and uptime only */
	assert_true(absent(b, "namespace:default/pod:no memory", "cpu/usage"));
	assert_int_equal(get_int(b, "namespace:default/pod:no memory", "uptime"),
			 NOW_MS - ms("2020-04-16T20:11:06Z"));
	free(json);
}

/* telegraf's 2016 summary: a pod with CPU only, startTime null, "bar". */
static void test_telegraf(void **state)
{
	struct hc_batch *b = *state;
	struct scr_node n = mknode("node1");
	const char *stopped = "namespace:foons/pod:stopped-pod/container:stopped-container";
	const char *foo = "namespace:foons/pod:foopod";
	size_t len;
	char *json = load_fixture("summary-telegraf.json", &len);

	assert_int_equal(scr_summary_parse(json, len, &n, b), 0);
	assert_int_equal(b->nsets, 7);
	assert_int_equal(get_int(b, "node:node1", "cpu/usage"), 774129887054161LL);
	assert_int_equal(get_int(b, "node:node1", "network/rx"), 213281337459LL);
	assert_int_equal(get_int(b, "node:node1", "ephemeral_storage/usage"), 16754286592LL);
	assert_null(find_labeled(b, "node:node1", "filesystem/inodes", HC_L_RESOURCE_ID, "/"));
	/* a system container named "bar" keeps its name; rootfs without usedBytes */
	assert_int_equal(get_int(b, "node:node1/container:bar", "memory/page_faults"), 4769397409LL);
	assert_int_equal(get_fs(b, "node:node1/container:bar", "filesystem/limit", "/"),
			 105553100800LL);
	assert_true(absent(b, "node:node1/container:bar", "ephemeral_storage/usage"));
	assert_null(find_labeled(b, "node:node1/container:bar", "filesystem/usage",
				 HC_L_RESOURCE_ID, "/"));
	/* CPU only */
	assert_int_equal(get_int(b, stopped, "cpu/usage"), 56507553554LL);
	assert_true(absent(b, stopped, "memory/usage"));
	assert_true(absent(b, stopped, "memory/working_set"));
	/* startTime null: no uptime, no start */
	assert_true(absent(b, "namespace:foons/pod:stopped-pod", "uptime"));
	assert_int_equal(b->sets[set_of(b, "namespace:foons/pod:stopped-pod")].start_ms, 0);
	/* four volumes; pod scrape time from network.time */
	assert_int_equal(get_fs(b, foo, "filesystem/usage", "Volume:volume2"), 4096);
	assert_int_equal(get_fs(b, foo, "filesystem/available", "Volume:volume4"), 7903952896LL);
	assert_int_equal(get_int(b, foo, "network/tx"), 47813506);
	assert_int_equal(b->sets[set_of(b, foo)].scrape_ms, ms("2016-09-27T16:57:34Z"));
	assert_int_equal(get_int(b, "namespace:foons/pod:foopod/container:foocontainer",
				 "ephemeral_storage/usage"),
			 57344 + 24576);
	free(json);
}

/* Every fixture in a row into one batch: the batch accumulates. */
static void test_all_fixtures_one_batch(void **state)
{
	static const char *files[] = {
		"summary-nri-kubernetes-k8s1.35.json", "summary-nri-kubernetes-k8s1.31.json",
		"summary-metrics-server-kind.json", "summary-telegraf.json",
	};
	struct hc_batch *b = *state;
	uint32_t sets = 0;

	for (size_t i = 0; i < HC_ARRAY_LEN(files); i++) {
		struct scr_node n = mknode(files[i]);
		size_t len;
		char *json = load_fixture(files[i], &len);

		assert_int_equal(scr_summary_parse(json, len, &n, b), 0);
		assert_true(b->nsets > sets);
		sets = b->nsets;
		free(json);
	}
	/*
	 * Both minikube bodies report kube-system/storage-provisioner and the
	 * StatefulSet pods scraper/e2e-statefulset-0 and -1 (pod + container
	 * each): one set per key, the newer body's (1.35, started 2026) wins.
	 */
	assert_int_equal(b->nsets, 37 + 37 - 6 + 17 + 7);
	assert_int_equal(get_int(b, "namespace:scraper/pod:e2e-statefulset-0/container:compute-pi-digits",
				 "memory/working_set"), 10387456);
	assert_string_equal(label(b, "namespace:scraper/pod:e2e-statefulset-0", HC_L_NODENAME),
			    "summary-nri-kubernetes-k8s1.35.json");
	assert_string_equal(label(b, "namespace:scraper/pod:e2e-statefulset-0", HC_L_POD_ID),
			    "b5812e37-ce78-41e2-9d8d-d93a88e481d6");
	assert_int_equal(b->sets[set_of(b, "namespace:scraper/pod:e2e-statefulset-0")].vals_n,
			 17);   /* cpu 1, memory 5, network 4, volume 5, ephemeral 1, uptime */
}

/* ---- mapping details -------------------------------------------------------- */

static void test_system_container_rename(void **state)
{
	struct hc_batch *b = *state;
	const char *json =
		"{\"node\":{\"nodeName\":\"n\",\"systemContainers\":["
		"{\"name\":\"runtime\",\"cpu\":{\"usageCoreNanoSeconds\":1}},"
		"{\"name\":\"misc\",\"cpu\":{\"usageCoreNanoSeconds\":2}},"
		"{\"name\":\"kubelet\",\"cpu\":{\"usageCoreNanoSeconds\":3}}]}}";

	assert_int_equal(parse_str(b, json, "n"), 0);
	assert_int_equal(get_int(b, "node:n/container:docker-daemon", "cpu/usage"), 1);
	assert_string_equal(label(b, "node:n/container:docker-daemon", HC_L_CONTAINER_NAME),
			    "docker-daemon");
	assert_int_equal(get_int(b, "node:n/container:system", "cpu/usage"), 2);
	assert_int_equal(get_int(b, "node:n/container:kubelet", "cpu/usage"), 3);
	assert_false(has_set(b, "node:n/container:runtime"));
	assert_int_equal(b->nsets, 4);
}

/* Object member order does not matter; nodeName missing uses the API name. */
static void test_any_member_order(void **state)
{
	struct hc_batch *b = *state;
	const char *json =
		"{\"pods\":[{\"containers\":[{\"cpu\":{\"usageCoreNanoSeconds\":7},\"name\":\"c\"}],"
		"\"volume\":[{\"usedBytes\":5,\"name\":\"v\"}],"
		"\"podRef\":{\"uid\":\"u\",\"namespace\":\"ns\",\"name\":\"p\"}}],"
		"\"node\":{\"systemContainers\":[{\"name\":\"kubelet\",\"memory\":{\"rssBytes\":9}}],"
		"\"cpu\":{\"usageCoreNanoSeconds\":11}}}";

	assert_int_equal(parse_str(b, json, "api-name"), 0);
	assert_int_equal(get_int(b, "namespace:ns/pod:p/container:c", "cpu/usage"), 7);
	assert_string_equal(label(b, "namespace:ns/pod:p/container:c", HC_L_POD_ID), "u");
	assert_int_equal(get_fs(b, "namespace:ns/pod:p", "filesystem/usage", "Volume:v"), 5);
	assert_int_equal(get_int(b, "node:api-name", "cpu/usage"), 11);
	assert_int_equal(get_int(b, "node:api-name/container:kubelet", "memory/rss"), 9);
	assert_int_equal(b->nsets, 4);
}

/* systemContainers before nodeName: keyed by the nodeName that follows. */
static void test_system_containers_before_node_name(void **state)
{
	struct hc_batch *b = *state;
	const char *json =
		"{\"node\":{\"systemContainers\":[{\"name\":\"kubelet\",\"cpu\":{\"usageCoreNanoSeconds\":3}}],"
		"\"nodeName\":\"late\"}}";

	assert_int_equal(parse_str(b, json, "api"), 0);
	assert_int_equal(get_int(b, "node:late/container:kubelet", "cpu/usage"), 3);
	assert_true(has_set(b, "node:late"));
	assert_int_equal(b->nsets, 2);
}

/* Wrong types, null, negative, fractions, huge numbers, unknown fields. */
static void test_field_types(void **state)
{
	struct hc_batch *b = *state;
	const char *json =
		"{\"node\":{\"nodeName\":\"n\",\"unknown\":{\"deep\":[1,{\"x\":[null,true]}]},"
		"\"cpu\":{\"usageCoreNanoSeconds\":\"12\",\"psi\":{\"full\":{\"avg10\":1.5e3}}},"
		"\"memory\":{\"usageBytes\":null,\"workingSetBytes\":-5,\"rssBytes\":1.5,"
		"\"pageFaults\":9223372036854775807,\"majorPageFaults\":9223372036854775808,"
		"\"time\":12},"
		"\"network\":{\"rxBytes\":1e3,\"txBytes\":{},\"rxErrors\":[1],\"txErrors\":true},"
		"\"fs\":[],\"startTime\":\"not a time\"},"
		"\"pods\":null,\"extra\":\"x\"}";

	assert_int_equal(parse_str(b, json, "n"), 0);
	assert_true(absent(b, "node:n", "cpu/usage"));
	assert_true(absent(b, "node:n", "memory/usage"));
	assert_true(absent(b, "node:n", "memory/working_set"));
	assert_int_equal(get_int(b, "node:n", "memory/rss"), 1);
	assert_int_equal(get_int(b, "node:n", "memory/page_faults"), INT64_MAX);
	assert_true(absent(b, "node:n", "memory/major_page_faults"));
	assert_int_equal(get_int(b, "node:n", "network/rx"), 1000);
	assert_true(absent(b, "node:n", "network/tx"));
	assert_true(absent(b, "node:n", "network/rx_errors"));
	assert_true(absent(b, "node:n", "network/tx_errors"));
	assert_true(absent(b, "node:n", "uptime"));
	assert_int_equal(b->sets[0].start_ms, 0);
	assert_int_equal(b->sets[0].scrape_ms, 0);
	assert_int_equal(b->nvals, 3);
}

/* A repeated key keeps its last value, as Go's decoder does. */
static void test_repeated_key(void **state)
{
	struct hc_batch *b = *state;
	const char *json = "{\"node\":{\"nodeName\":\"n\",\"cpu\":{\"usageCoreNanoSeconds\":1,"
			   "\"usageCoreNanoSeconds\":2}}}";

	assert_int_equal(parse_str(b, json, "n"), 0);
	assert_int_equal(get_int(b, "node:n", "cpu/usage"), 2);
	assert_int_equal(b->nvals, 1);
}

/* Two containers with one name in a pod: the newer startTime wins. */
static void test_duplicate_container(void **state)
{
	struct hc_batch *b = *state;
	const char *newer_first =
		"{\"node\":{\"nodeName\":\"n\"},\"pods\":[{\"podRef\":{\"namespace\":\"ns\",\"name\":\"p\"},"
		"\"containers\":["
		"{\"name\":\"c\",\"startTime\":\"2026-01-01T10:00:00Z\",\"cpu\":{\"usageCoreNanoSeconds\":100},"
		"\"memory\":{\"workingSetBytes\":1}},"
		"{\"name\":\"c\",\"startTime\":\"2026-01-01T09:00:00Z\",\"cpu\":{\"usageCoreNanoSeconds\":900},"
		"\"rootfs\":{\"usedBytes\":5}}]}]}";
	const char *older_first =
		"{\"node\":{\"nodeName\":\"m\"},\"pods\":[{\"podRef\":{\"namespace\":\"ns\",\"name\":\"q\"},"
		"\"containers\":["
		"{\"name\":\"c\",\"startTime\":\"2026-01-01T09:00:00Z\",\"cpu\":{\"usageCoreNanoSeconds\":900},"
		"\"rootfs\":{\"usedBytes\":5},\"accelerators\":[{\"make\":\"x\",\"memoryUsed\":1}]},"
		"{\"name\":\"c\",\"startTime\":\"2026-01-01T10:00:00Z\",\"cpu\":{\"usageCoreNanoSeconds\":100},"
		"\"memory\":{\"workingSetBytes\":1}}]}]}";
	const char *k1 = "namespace:ns/pod:p/container:c", *k2 = "namespace:ns/pod:q/container:c";

	assert_int_equal(parse_str(b, newer_first, "n"), 0);
	assert_int_equal(parse_str(b, older_first, "m"), 0);
	for (int i = 0; i < 2; i++) {
		const char *k = i ? k2 : k1;

		assert_int_equal(get_int(b, k, "cpu/usage"), 100);
		assert_int_equal(get_int(b, k, "memory/working_set"), 1);
		assert_true(absent(b, k, "ephemeral_storage/usage"));
		assert_null(find_labeled(b, k, "filesystem/usage", HC_L_RESOURCE_ID, "/"));
		assert_int_equal(b->sets[set_of(b, k)].start_ms, ms("2026-01-01T10:00:00Z"));
		assert_int_equal(b->sets[set_of(b, k)].labels_n, 8);
	}
	assert_null(find_labeled(b, k2, "accelerator/memory_used", "make", "x"));
	/* per container: cpu, working set, uptime */
	assert_int_equal(b->sets[set_of(b, k1)].vals_n, 3);
	assert_int_equal(b->sets[set_of(b, k2)].vals_n, 3);
}

/*
 * The same pod reported by two kubelets (a StatefulSet pod that moved): the
 * later start wins across bodies too, without duplicated values.
 */
static void test_duplicate_across_bodies(void **state)
{
	struct hc_batch *b = *state;
	const char *fmt =
		"{\"node\":{\"nodeName\":\"%s\"},\"pods\":[{\"podRef\":{\"namespace\":\"ns\",\"name\":\"web-0\","
		"\"uid\":\"%s\"},\"startTime\":\"%s\",\"memory\":{\"usageBytes\":%d},"
		"\"containers\":[{\"name\":\"c\",\"startTime\":\"%s\",\"cpu\":{\"usageCoreNanoSeconds\":%d}}]}]}";
	const char *pk = "namespace:ns/pod:web-0", *ck = "namespace:ns/pod:web-0/container:c";
	char json[1024];
	char *before, *after;

	snprintf(json, sizeof(json), fmt, "a", "uid-a", "2026-01-01T10:00:00Z", 1,
		 "2026-01-01T10:00:00Z", 10);
	assert_int_equal(parse_str(b, json, "a"), 0);
	/* older: loses, the batch keeps a's values */
	snprintf(json, sizeof(json), fmt, "b", "uid-b", "2026-01-01T09:00:00Z", 2,
		 "2026-01-01T09:00:00Z", 20);
	assert_int_equal(parse_str(b, json, "b"), 0);
	assert_int_equal(get_int(b, pk, "memory/usage"), 1);
	assert_int_equal(get_int(b, ck, "cpu/usage"), 10);
	assert_string_equal(label(b, pk, HC_L_POD_ID), "uid-a");
	assert_string_equal(label(b, ck, HC_L_NODENAME), "a");
	/* newer: replaces */
	snprintf(json, sizeof(json), fmt, "c", "uid-c", "2026-01-01T11:00:00Z", 3,
		 "2026-01-01T11:00:00Z", 30);
	before = snapshot(b);
	assert_int_equal(parse_str(b, json, "c"), 0);
	after = snapshot(b);
	assert_string_not_equal(before, after);
	assert_int_equal(get_int(b, pk, "memory/usage"), 3);
	assert_int_equal(get_int(b, ck, "cpu/usage"), 30);
	assert_string_equal(label(b, pk, HC_L_POD_ID), "uid-c");
	assert_string_equal(label(b, ck, HC_L_NODENAME), "c");
	assert_int_equal(b->sets[set_of(b, pk)].vals_n, 2);   /* memory/usage, uptime */
	assert_int_equal(b->sets[set_of(b, ck)].vals_n, 2);   /* cpu/usage, uptime */
	assert_int_equal(b->nsets, 5);                        /* 3 nodes, pod, container */
	free(before);
	free(after);
}

static void test_accelerators_and_custom(void **state)
{
	struct hc_batch *b = *state;
	const char *ck = "namespace:ml/pod:train/container:gpu";
	const char *json =
		"{\"node\":{\"nodeName\":\"n\"},\"pods\":[{\"podRef\":{\"namespace\":\"ml\",\"name\":\"train\"},"
		"\"containers\":[{\"name\":\"gpu\",\"accelerators\":["
		"{\"make\":\"nvidia\",\"model\":\"Tesla P100\",\"id\":\"GPU-1\",\"memoryTotal\":17071734784,"
		"\"memoryUsed\":1024,\"dutyCycle\":42},"
		"{\"make\":\"nvidia\",\"model\":\"Tesla P100\",\"id\":\"GPU-2\",\"memoryTotal\":17071734784}],"
		"\"userDefinedMetrics\":["
		"{\"name\":\"qps\",\"type\":\"gauge\",\"units\":\"1/s\",\"time\":\"2026-01-01T00:00:00Z\",\"value\":12.5},"
		"{\"name\":\"requests\",\"type\":\"cumulative\",\"value\":1000,\"labels\":{\"a\":\"b\"}},"
		"{\"name\":\"delta\",\"type\":\"delta\",\"value\":-3},"
		"{\"name\":\"weird\",\"type\":\"histogram\",\"value\":1},"
		"{\"name\":\"novalue\",\"type\":\"gauge\"}]}]}]}";
	const struct hc_value *v;
	uint32_t id;

	assert_int_equal(parse_str(b, json, "n"), 0);
	v = find_labeled(b, ck, "accelerator/duty_cycle", SCR_L_ACCELERATOR_ID, "GPU-1");
	assert_non_null(v);
	assert_int_equal(v->v.i, 42);
	assert_int_equal(v->labels_n, 3);
	assert_string_equal(b->labels[v->labels_off].value, "nvidia");
	assert_string_equal(b->labels[v->labels_off + 1].value, "Tesla P100");
	v = find_labeled(b, ck, "accelerator/memory_used", SCR_L_ACCELERATOR_ID, "GPU-1");
	assert_int_equal(v->v.i, 1024);
	v = find_labeled(b, ck, "accelerator/memory_total", SCR_L_ACCELERATOR_ID, "GPU-2");
	assert_int_equal(v->v.i, 17071734784LL);
	assert_null(find_labeled(b, ck, "accelerator/memory_used", SCR_L_ACCELERATOR_ID, "GPU-2"));

	v = find_value(b, ck, "custom/qps");
	assert_non_null(v);
	assert_int_equal(v->type, HC_FLOAT);
	assert_true(v->v.f == 12.5);
	assert_int_equal(v->kind, HC_GAUGE);
	v = find_value(b, ck, "custom/requests");
	assert_true(v->v.f == 1000.0);
	assert_int_equal(v->kind, HC_CUMULATIVE);
	id = name_id(b, "custom/requests");
	assert_int_equal(b->name_kinds[id], HC_CUMULATIVE);
	v = find_value(b, ck, "custom/delta");
	assert_true(v->v.f == -3.0);
	assert_int_equal(v->kind, HC_DELTA);
	assert_int_equal(name_id(b, "custom/weird"), UINT32_MAX);
	assert_int_equal(name_id(b, "custom/novalue"), UINT32_MAX);
}

/* Escapes in names are decoded; keys are compared decoded too. */
static void test_escapes(void **state)
{
	struct hc_batch *b = *state;
	const char *json =
		"{\"n\\u006fde\":{\"nodeName\":\"n\\/1\",\"cpu\":{\"usageCoreNanoSeconds\":1}},"
		"\"pods\":[{\"podRef\":{\"namespace\":\"ns\",\"name\":\"p\\u00e9\\ud83d\\ude00\"},"
		"\"containers\":[{\"name\":\"c\\\"q\",\"cpu\":{\"usageCoreNanoSeconds\":2}}]}]}";

	assert_int_equal(parse_str(b, json, "n/1"), 0);
	assert_int_equal(get_int(b, "node:n/1", "cpu/usage"), 1);
	assert_int_equal(get_int(b, "namespace:ns/pod:p\xc3\xa9\xf0\x9f\x98\x80/container:c\"q",
				 "cpu/usage"), 2);
	assert_string_equal(label(b, "namespace:ns/pod:p\xc3\xa9\xf0\x9f\x98\x80/container:c\"q",
				  HC_L_CONTAINER_NAME), "c\"q");
}

/* Pods without a usable podRef, containers without a name: skipped. */
static void test_unkeyable_entities(void **state)
{
	struct hc_batch *b = *state;
	const char *json =
		"{\"node\":{\"nodeName\":\"n\"},\"pods\":["
		"{\"containers\":[{\"name\":\"c\",\"cpu\":{\"usageCoreNanoSeconds\":1}}],\"cpu\":{\"usageCoreNanoSeconds\":1}},"
		"{\"podRef\":{\"namespace\":\"\",\"name\":\"p\"},\"cpu\":{\"usageCoreNanoSeconds\":1}},"
		"{\"podRef\":{\"namespace\":\"ns\",\"name\":7},\"cpu\":{\"usageCoreNanoSeconds\":1}},"
		"{\"podRef\":{\"namespace\":\"ns\",\"name\":\"ok\"},\"containers\":[{\"cpu\":{\"usageCoreNanoSeconds\":1}},"
		"{\"name\":\"\",\"cpu\":{\"usageCoreNanoSeconds\":1}}, 5, null]},"
		"7, null, []]}";

	assert_int_equal(parse_str(b, json, "n"), 0);
	assert_int_equal(b->nsets, 2);          /* node:n and namespace:ns/pod:ok */
	assert_true(has_set(b, "namespace:ns/pod:ok"));
	assert_int_equal(b->nvals, 0);
}

/* ---- malformed input: HC_ERR_PARSE and the batch untouched ------------------- */

static void test_malformed_leaves_batch(void **state)
{
	static const char *bad[] = {
		"", " ", "null", "[]", "{}", "42", "\"node\"", "true",
		"{\"node\":null}", "{\"node\":[]}", "{\"node\":\"x\"}", "{\"pods\":[]}",
		"{\"node\":{}", "{\"node\":{}}}", "{\"node\":{}} x", "{\"node\":{},}",
		"{\"node\":{\"a\":}}", "{\"node\":{\"a\" 1}}", "{\"node\":{\"a\":01}}",
		"{\"node\":{\"a\":1.}}", "{\"node\":{\"a\":-}}", "{\"node\":{\"a\":1e}}",
		"{\"node\":{\"a\":tru}}", "{\"node\":{\"a\":nul}}", "{\"node\":{\"a\":\"\\x\"}}",
		"{\"node\":{\"a\":\"\\u12g4\"}}", "{\"node\":{\"a\":\"tab\there\"}}",
		"{\"node\":{\"a\":[1,]}}", "{\"node\":{\"a\":[1 2]}}", "{\"node\":{'a':1}}",
		"{\"node\":{\"a\":\"unterminated}}", "\xef\xbb\xbf{\"node\":{}}",
		"{\"node\":{\"a\":NaN}}", "{\"node\":{\"a\":+1}}", "{\"node\":{\"a\":.5}}",
		"<html><body>502 Bad Gateway</body></html>",
	};
	struct hc_batch *b = *state;
	struct scr_node n = mknode("x");
	size_t len;
	char *json = load_fixture("summary-metrics-server-kind.json", &len);
	char *before;

	assert_int_equal(scr_summary_parse(json, len, &n, b), 0);
	before = snapshot(b);
	for (size_t i = 0; i < HC_ARRAY_LEN(bad); i++) {
		uint32_t nsets = b->nsets, nvals = b->nvals, nlabels = b->nlabels;
		char *after;

		if (parse_str(b, bad[i], "x") != HC_ERR_PARSE)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(b->nsets, nsets);
		assert_int_equal(b->nvals, nvals);
		assert_int_equal(b->nlabels, nlabels);
		after = snapshot(b);
		assert_string_equal(before, after);
		free(after);
	}
	/* an embedded NUL is not JSON either */
	assert_int_equal(scr_summary_parse("{\"node\":{}}\0", 12, &n, b), HC_ERR_PARSE);
	free(before);
	free(json);
}

/* Every cut of a real body fails (short of its closing brace) and changes nothing. */
static void test_truncated_fixture(void **state)
{
	struct hc_batch *b = *state;
	struct scr_node n = mknode("datagen-1-35");
	size_t len, end;
	char *json = load_fixture("summary-nri-kubernetes-k8s1.35.json", &len);
	char *before;

	assert_int_equal(parse_str(b, "{\"node\":{\"nodeName\":\"pre\",\"cpu\":{\"usageCoreNanoSeconds\":5}}}",
				   "pre"), 0);
	before = snapshot(b);
	end = len;
	while (end > 0 && json[end - 1] != '}')
		end--;
	for (size_t cut = 0; cut < end; cut += (cut < 2000 ? 1 : 37)) {
		if (scr_summary_parse(json, cut, &n, b) != HC_ERR_PARSE)
			fail_msg("a body cut at %zu of %zu bytes was accepted", cut, len);
		assert_int_equal(b->nsets, 1);
		assert_int_equal(b->nvals, 1);
	}
	/* garbage in the middle */
	json[len / 2] = '@';
	assert_int_equal(scr_summary_parse(json, len, &n, b), HC_ERR_PARSE);
	{
		char *after = snapshot(b);

		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	free(json);
}

static void test_deep_nesting(void **state)
{
	struct hc_batch *b = *state;
	size_t depth = 100000, i, o = 0;
	char *json = malloc(depth * 2 + 64);

	/* {"node":{"x":[[[[ ... ]]]]}}: far deeper than SCR_JSON_MAX_DEPTH */
	o += (size_t)sprintf(json, "{\"node\":{\"x\":");
	for (i = 0; i < depth; i++)
		json[o++] = '[';
	for (i = 0; i < depth; i++)
		json[o++] = ']';
	o += (size_t)sprintf(json + o, "}}");
	assert_int_equal(scr_summary_parse(json, o, &(struct scr_node){ .name = "d" }, b),
			 HC_ERR_PARSE);
	assert_int_equal(b->nsets, 0);
	/* unbalanced deep nesting too */
	assert_int_equal(scr_summary_parse(json, depth, &(struct scr_node){ .name = "d" }, b),
			 HC_ERR_PARSE);
	/* just inside the bound is fine: top object + node + 62 arrays = 64 levels */
	o = (size_t)sprintf(json, "{\"node\":{\"x\":");
	for (i = 0; i < SCR_JSON_MAX_DEPTH - 2; i++)
		json[o++] = '[';
	for (i = 0; i < SCR_JSON_MAX_DEPTH - 2; i++)
		json[o++] = ']';
	o += (size_t)sprintf(json + o, "}}");
	assert_int_equal(scr_summary_parse(json, o, &(struct scr_node){ .name = "d" }, b), 0);
	assert_int_equal(b->nsets, 1);
	/* one more level is refused */
	o = (size_t)sprintf(json, "{\"node\":{\"x\":");
	for (i = 0; i < SCR_JSON_MAX_DEPTH - 1; i++)
		json[o++] = '[';
	for (i = 0; i < SCR_JSON_MAX_DEPTH - 1; i++)
		json[o++] = ']';
	o += (size_t)sprintf(json + o, "}}");
	assert_int_equal(scr_summary_parse(json, o, &(struct scr_node){ .name = "d" }, b),
			 HC_ERR_PARSE);
	free(json);
}

/* The JSON reader's unescaping on its own. */
static void test_json_unescape(void **state)
{
	struct scr_str s = { "a\\n\\u0041\\ud800x\\/", 18, 1 };
	char out[32];
	size_t n;

	(void)state;
	n = scr_json_unescape(&s, out, sizeof(out));
	assert_int_equal(n, 8);
	assert_memory_equal(out, "a\nA\xef\xbf\xbdx/", 8);
	assert_int_equal(scr_json_unescape(&s, out, 4), 0);   /* cap < raw length + 1 */
}

/* ---- /metrics/resource (scraper/resource.c) ---------------------------------- */

static const char *label_of(struct hc_batch *b, const char *key, const char *name)
{
	return hc_batch_get_label(b, set_of(b, key), name);
}

static void test_resource_metrics_server(void **state)
{
	struct hc_batch *b = *state;
	struct scr_node node = mknode("e2e-control-plane");
	size_t len;
	char *text = load_fixture("resource-metrics-metrics-server-client_test.txt", &len);
	const char *pod = "namespace:kube-system/pod:coredns-558bd4d5db-4dpjz";
	const char *ctr = "namespace:kube-system/pod:coredns-558bd4d5db-4dpjz/container:coredns";

	assert_int_equal(scr_resource_parse(text, len, &node, b), 0);
	assert_int_equal(b->nsets, 1 + 70 + 70);
	/* node_cpu_usage_seconds_total 357.35491 1633253809720 */
	assert_int_equal(get_int(b, "node:e2e-control-plane", "cpu/usage"), 357354910000LL);
	assert_int_equal(get_int(b, "node:e2e-control-plane", "memory/working_set"), 1616273408LL);
	assert_int_equal(b->sets[set_of(b, "node:e2e-control-plane")].scrape_ms, 1633253809720LL);
	assert_string_equal(label_of(b, "node:e2e-control-plane", HC_L_TYPE), HC_TYPE_NODE);
	assert_string_equal(label_of(b, "node:e2e-control-plane", HC_L_NODENAME), "e2e-control-plane");
	/* the pod's own samples, not the sum of its containers */
	assert_int_equal(get_int(b, pod, "cpu/usage"), 4678120000LL);
	assert_int_equal(get_int(b, pod, "memory/working_set"), 12627968);
	assert_int_equal(b->sets[set_of(b, pod)].scrape_ms, 1633253803935LL);
	assert_string_equal(label_of(b, pod, HC_L_TYPE), HC_TYPE_POD);
	assert_string_equal(label_of(b, pod, HC_L_NAMESPACE_NAME), "kube-system");
	assert_string_equal(label_of(b, pod, HC_L_POD_NAME), "coredns-558bd4d5db-4dpjz");
	assert_string_equal(label_of(b, pod, HC_L_NODENAME), "e2e-control-plane");
	assert_null(label_of(b, pod, HC_L_POD_ID));
	assert_int_equal(get_int(b, ctr, "cpu/usage"), 4710169000LL);
	assert_int_equal(get_int(b, ctr, "memory/working_set"), 12533760);
	assert_int_equal(b->sets[set_of(b, ctr)].scrape_ms, 1633253812125LL);
	assert_string_equal(label_of(b, ctr, HC_L_TYPE), HC_TYPE_POD_CONTAINER);
	assert_string_equal(label_of(b, ctr, HC_L_CONTAINER_NAME), "coredns");
	assert_true(absent(b, ctr, "uptime"));     /* no container_start_time_seconds here */
	free(text);
}

static void test_resource_eks(void **state)
{
	struct hc_batch *b = *state;
	struct scr_node node = mknode("ip-10-0-1-2");
	size_t len;
	char *text = load_fixture("resource-metrics-ersilia-hub-eks.txt", &len);
	const char *ctr = "namespace:kube-system/pod:aws-node-7k649/container:aws-node";

	node.now_ms = 1750705780000LL;
	assert_int_equal(scr_resource_parse(text, len, &node, b), 0);
	assert_int_equal(b->nsets, 1 + 9 + 12);   /* aws-node 2 containers, ebs-csi-node 3 */
	assert_int_equal(get_int(b, "node:ip-10-0-1-2", "cpu/usage"), 6197005020909LL);
	assert_int_equal(get_int(b, "node:ip-10-0-1-2", "memory/working_set"), 1137475584LL);
	assert_int_equal(get_int(b, ctr, "cpu/usage"), 293769327238LL);
	assert_int_equal(get_int(b, ctr, "memory/working_set"), 50237440);
	/* container_start_time_seconds 1.7506078401348257e+09 */
	assert_int_equal(b->sets[set_of(b, ctr)].start_ms, 1750607840135LL);
	assert_int_equal(get_int(b, ctr, "uptime"), 1750705780000LL - 1750607840135LL);
	assert_int_equal(get_int(b, "namespace:kube-system/pod:aws-node-7k649", "cpu/usage"),
			 334256356258LL);
	assert_int_equal(get_int(b, "namespace:ersilia-core/pod:ersilia-hub-postgresql-0/container:postgresql",
				 "memory/working_set"), 47992832);
	free(text);
}

static void test_resource_edge_cases(void **state)
{
	struct hc_batch *b = *state;
	struct scr_node node = mknode("n1");
	static const char *bad[] = {
		"",                                                      /* no node sample */
		"<html><body>502 Bad Gateway</body></html>\n",
		"node_cpu_usage_seconds_total 1 1\ncontainer_cpu_usage_seconds_total{container=\"c",
		"node_cpu_usage_seconds_total\n",                        /* no value */
		"node_cpu_usage_seconds_total 1x\n",
		"node_cpu_usage_seconds_total 1 12ab\n",
		"node_cpu_usage_seconds_total{a=b} 1\n",
		"# only comments\n\n",
		"pod_cpu_usage_seconds_total{namespace=\"a\",pod=\"b\"} 1\n",   /* no node */
	};
	const char *ok =
		"# HELP node_cpu_usage_seconds_total [STABLE] ...\n"
		"# TYPE node_cpu_usage_seconds_total counter\n"
		"node_cpu_usage_seconds_total 2.5\n"                       /* no timestamp */
		"node_memory_working_set_bytes NaN 1700000000000\n"       /* skipped */
		"  \r\n"
		"container_memory_working_set_bytes{container=\"c\\\"q\",namespace=\"ns\",pod=\"p\",} "
		"1e3 1700000000001\r\n"
		"container_cpu_usage_seconds_total{pod=\"p\",namespace=\"ns\"} 1 1\n"  /* no container */
		"container_start_time_seconds{container=\"c\\\"q\",namespace=\"ns\",pod=\"p\"} +Inf\n"
		"resource_scrape_error 1\n"
		"some_other_metric{x=\"y\"} -5\n";

	for (size_t i = 0; i < HC_ARRAY_LEN(bad); i++) {
		if (scr_resource_parse(bad[i], strlen(bad[i]), &node, b) != HC_ERR_PARSE)
			fail_msg("accepted bad body %zu", i);
		assert_int_equal(b->nsets, 0);
		assert_int_equal(b->nvals, 0);
	}
	assert_int_equal(scr_resource_parse(ok, strlen(ok), &node, b), 0);
	assert_int_equal(get_int(b, "node:n1", "cpu/usage"), 2500000000LL);
	assert_true(absent(b, "node:n1", "memory/working_set"));
	assert_int_equal(b->sets[set_of(b, "node:n1")].scrape_ms, NOW_MS);
	assert_int_equal(get_int(b, "namespace:ns/pod:p/container:c\"q", "memory/working_set"), 1000);
	assert_int_equal(b->sets[set_of(b, "namespace:ns/pod:p/container:c\"q")].scrape_ms,
			 1700000000001LL);
	assert_int_equal(b->sets[set_of(b, "namespace:ns/pod:p/container:c\"q")].start_ms, 0);
	assert_true(has_set(b, "namespace:ns/pod:p"));     /* made for its container */
	assert_true(absent(b, "namespace:ns/pod:p", "cpu/usage"));
	assert_int_equal(b->nsets, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_k8s135_node, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_k8s135_pods, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_k8s131, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_kind_edge_cases, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_telegraf, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_all_fixtures_one_batch, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_system_container_rename, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_any_member_order, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_system_containers_before_node_name, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_field_types, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_repeated_key, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_duplicate_container, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_duplicate_across_bodies, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_accelerators_and_custom, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_escapes, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_unkeyable_entities, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_malformed_leaves_batch, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_truncated_fixture, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_deep_nesting, setup_batch, teardown_batch),
		cmocka_unit_test(test_json_unescape),
		cmocka_unit_test_setup_teardown(test_resource_metrics_server, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_resource_eks, setup_batch, teardown_batch),
		cmocka_unit_test_setup_teardown(test_resource_edge_cases, setup_batch, teardown_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
