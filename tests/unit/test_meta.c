/*
 * test_meta.c - the scraper's metadata: Kubernetes quantities, labels
 * strings, ReplicaSet/Job owner indexes, and pods, namespaces and nodes
 * into the metadata batch (scraper/kmeta.c), on the real pod and node list
 * fixtures (values checked by hand against the YAML they came from) and on
 * hand-written edge cases; and the watch events that keep the pod,
 * namespace and node tables current (kmeta.c, nodes.c), fed through the
 * watch stream's line splitter (scraper/watch.c).  Runs from the repository root (fixtures at
 * ../shared/fixtures/, or HC_FIXTURES=DIR).
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
#include "kmeta.h"
#include "log.h"
#include "meta.h"
#include "nodes.h"
#include "scraper.h"

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

/* ---- quantities ------------------------------------------------------------- */

static void test_quantity(void **state)
{
	static const struct { const char *s; int scale; int64_t want; } ok[] = {
		{ "4", 3, 4000 }, { "3800m", 3, 3800 }, { "100m", 3, 100 }, { "0.5", 3, 500 },
		{ ".5", 3, 500 }, { "0.1", 3, 100 }, { "14", 3, 14000 }, { "1n", 3, 1 },
		{ "250000u", 3, 250 }, { "1500000n", 3, 2 },        /* 1.5m rounds up */
		{ "16Gi", 0, 17179869184LL }, { "15950828Ki", 0, 16333647872LL },
		{ "100G", 0, 100000000000LL }, { "1e3", 0, 1000 }, { "1E3", 0, 1000 },
		{ "1e+3", 0, 1000 }, { "12e-1", 0, 2 }, { "5M", 0, 5000000 }, { "70Mi", 0, 73400320 },
		{ "1.5Gi", 0, 1610612736 }, { "0", 0, 0 }, { "0m", 3, 0 }, { "100m", 0, 1 },
		{ "1E", 0, 1000000000000000000LL }, { "7Ei", 0, 8070450532247928832LL },
		{ "2.5e-3", 3, 3 }, { "-100m", 3, -100 }, { "+2", 0, 2 }, { "1k", 0, 1000 },
		{ "1Ti", 0, 1099511627776LL }, { "1P", 3, 1000000000000000000LL },
		{ "123456789012345678901m", 0, 123456789012345679LL },   /* 21 digits */
		{ "0.000000000000000000000001", 0, 1 },                  /* tiny: rounds up */
		{ "1.0000000000000000000000", 0, 1 },                    /* trailing zeros */
	};
	static const char *bad[] = { "", "m", "1x", "1Ki2", "1.2.3", "1e", "Gi", ".",
				     "1 m", "1Kb", "1Ki ", "e3", "--1", "1e3.5", "1ki" };
	static const char *big[] = { "8Ei", "12345678901234567890", "10E", "1e19", "9223372036854775808" };
	int64_t v;

	(void)state;
	for (size_t i = 0; i < HC_ARRAY_LEN(ok); i++) {
		int rc = scr_quantity_parse(ok[i].s, strlen(ok[i].s), ok[i].scale, &v);

		if (rc != 0)
			fail_msg("'%s' refused: %d", ok[i].s, rc);
		if (v != ok[i].want)
			fail_msg("'%s' x10^%d = %lld, want %lld", ok[i].s, ok[i].scale,
				 (long long)v, (long long)ok[i].want);
	}
	for (size_t i = 0; i < HC_ARRAY_LEN(bad); i++)
		if (scr_quantity_parse(bad[i], strlen(bad[i]), 0, &v) != HC_ERR_PARSE)
			fail_msg("'%s' accepted as %lld", bad[i], (long long)v);
	for (size_t i = 0; i < HC_ARRAY_LEN(big); i++)
		if (scr_quantity_parse(big[i], strlen(big[i]), 0, &v) != HC_ERR_TOOBIG)
			fail_msg("'%s' not refused as too big", big[i]);
	/* the length bounds the text: "16Gi" read as "16" */
	assert_int_equal(scr_quantity_parse("16Gi", 2, 0, &v), 0);
	assert_int_equal(v, 16);
	/* millicores of a quantity that fits in bytes but not x1000 */
	assert_int_equal(scr_quantity_parse("9Pi", 3, 0, &v), 0);
	assert_int_equal(scr_quantity_parse("9Pi", 3, 3, &v), HC_ERR_TOOBIG);
}

/* ---- labels strings --------------------------------------------------------- */

static const char *labels_of(struct scr_labels *l, const char *json)
{
	struct scr_json j;

	assert_int_equal(scr_json_validate(json, strlen(json), NULL, NULL), 0);
	scr_json_init(&j, json, strlen(json));
	assert_int_equal(scr_labels_read(l, &j), 0);
	return scr_labels_str(l, NULL);
}

static void test_labels(void **state)
{
	struct scr_labels l;

	(void)state;
	scr_labels_init(&l);
	/* sorted as Heapster sorted "k:v" strings: '.' (0x2e) < ':' (0x3a) */
	assert_string_equal(labels_of(&l, "{\"b\":\"2\",\"app\":\"y\",\"a\":\"1\","
				      "\"app.kubernetes.io/name\":\"x\"}"),
			    "a:1,app.kubernetes.io/name:x,app:y,b:2");
	assert_string_equal(scr_labels_get(&l, "app"), "y");
	assert_string_equal(scr_labels_get(&l, "app.kubernetes.io/name"), "x");
	assert_null(scr_labels_get(&l, "ap"));
	assert_null(scr_labels_get(&l, "c"));
	/* escapes decoded, empty values kept, non-string values skipped */
	assert_string_equal(labels_of(&l, "{\"k\\u00e9\":\"v\\\"q\",\"e\":\"\",\"n\":null,"
				      "\"o\":{\"x\":\"y\"}}"),
			    "e:,k\xc3\xa9:v\"q");
	assert_string_equal(labels_of(&l, "{}"), "");
	assert_string_equal(labels_of(&l, "null"), "");
	/* many labels: buffers grow */
	{
		char json[20000];
		size_t o = 0;

		o += (size_t)snprintf(json + o, sizeof(json) - o, "{");
		for (int i = 99; i >= 0; i--)
			o += (size_t)snprintf(json + o, sizeof(json) - o, "%s\"key-%02d\":\"value-%d\"",
					      i == 99 ? "" : ",", i, i);
		snprintf(json + o, sizeof(json) - o, "}");
		assert_int_equal(strncmp(labels_of(&l, json), "key-00:value-0,key-01:value-1,", 30), 0);
		assert_string_equal(scr_labels_get(&l, "key-99"), "value-99");
		assert_int_equal(l.n, 100);
	}
	scr_labels_free(&l);
}

/* ---- the pod list fixture --------------------------------------------------- */

static uint32_t find(const struct hc_batch *b, const char *key)
{
	uint32_t s;

	if (hc_batch_find(b, key, strlen(key), &s) != 0)
		fail_msg("no set %s", key);
	return s;
}

static const char *label(const struct hc_batch *b, const char *key, const char *name)
{
	return hc_batch_get_label(b, find(b, key), name);
}

static int64_t ival(struct hc_batch *b, const char *key, const char *metric)
{
	uint32_t s = find(b, key), id;
	struct hc_value *v;

	assert_int_equal(hc_batch_group(b), 0);
	if (hc_batch_name(b, metric, strlen(metric), HC_GAUGE, &id) != 0)
		fail_msg("name %s", metric);
	v = hc_batch_value(b, s, id);
	if (v == NULL)
		fail_msg("%s has no %s", key, metric);
	assert_int_equal(v->type, HC_INT);
	return v->v.i;
}

/* A container value as the processor reads it (common/meta.h): absent is 0. */
static int64_t ival0(struct hc_batch *b, const char *key, const char *metric)
{
	uint32_t s = find(b, key), id;
	struct hc_value *v;

	assert_int_equal(hc_batch_group(b), 0);
	if (hc_batch_name(b, metric, strlen(metric), HC_GAUGE, &id) != 0)
		fail_msg("name %s", metric);
	v = hc_batch_value(b, s, id);
	if (v == NULL)
		return 0;
	assert_int_equal(v->type, HC_INT);
	assert_true(v->v.i != 0);          /* a 0 is never sent */
	return v->v.i;
}

static int absent(const struct hc_batch *b, const char *key)
{
	uint32_t s;

	return hc_batch_find(b, key, strlen(key), &s) == HC_ERR_NOTFOUND;
}

static int has_value(struct hc_batch *b, const char *key, const char *metric)
{
	uint32_t s = find(b, key), id;

	assert_int_equal(hc_batch_group(b), 0);
	if (hc_batch_name(b, metric, strlen(metric), HC_GAUGE, &id) != 0)
		return 0;
	return hc_batch_value(b, s, id) != NULL;
}

static void test_pods_fixture(void **state)
{
	struct scr_meta_ctx c;
	struct hc_batch m;
	char cont[SCR_CONT_MAX];
	size_t len;
	char *json = load_fixture("podlist-nri-kubernetes-k8s1.35.from-yaml.json", &len);
	const char *k, *kc;
	int64_t t;

	(void)state;
	assert_int_equal(hc_batch_init(&m), 0);
	assert_int_equal(scr_meta_ctx_init(&c), 0);
	strcpy(cont, "stale");
	assert_int_equal(scr_meta_pods_parse(json, len, &c, &m, cont), 0);
	assert_string_equal(cont, "");
	/* 25 pods: 1 Pending, 2 Succeeded, 4 Failed; 18 Running of 1 container each */
	assert_int_equal(c.st.pods_listed, 25);
	assert_int_equal(c.st.pods_running, 18);
	assert_int_equal(c.st.containers, 18);
	assert_int_equal(m.nsets, 36);
	assert_true(absent(&m, "namespace:scraper/pod:e2e-container-pending"));
	assert_true(absent(&m, "namespace:scraper/pod:e2e-failjob-28dqq"));
	assert_true(absent(&m, "namespace:scraper/pod:e2e-cronjob-29707813-dhlr2"));

	/* coredns: ReplicaSet coredns-7d764666f9 with pod-template-hash 7d764666f9 */
	k = "namespace:kube-system/pod:coredns-7d764666f9-qdcxt";
	assert_string_equal(label(&m, k, HC_L_TYPE), HC_TYPE_POD);
	assert_string_equal(label(&m, k, HC_L_NAMESPACE_NAME), "kube-system");
	assert_string_equal(label(&m, k, HC_L_POD_NAME), "coredns-7d764666f9-qdcxt");
	assert_string_equal(label(&m, k, HC_L_POD_ID), "36447428-81f8-45eb-b825-414de2e8012b");
	assert_string_equal(label(&m, k, HC_L_NODENAME), "datagen-1-35");
	assert_string_equal(label(&m, k, HC_L_LABELS), "k8s-app:kube-dns,pod-template-hash:7d764666f9");
	assert_string_equal(label(&m, k, HC_META_WORKLOAD_KIND), HC_TYPE_DEPLOYMENT);
	assert_string_equal(label(&m, k, HC_META_WORKLOAD_NAME), "coredns");
	assert_int_equal(hc_time_parse("2026-06-26T10:12:19Z", 20, &t), 0);
	assert_int_equal(m.sets[find(&m, k)].create_ms, t);
	assert_int_equal(hc_time_parse("2026-06-26T10:12:39Z", 20, &t), 0);
	assert_int_equal(m.sets[find(&m, k)].start_ms, t);
	/* its container: requests cpu 100m, memory 70Mi; limit memory 170Mi */
	kc = "namespace:kube-system/pod:coredns-7d764666f9-qdcxt/container:coredns";
	assert_string_equal(label(&m, kc, HC_L_TYPE), HC_TYPE_POD_CONTAINER);
	assert_string_equal(label(&m, kc, HC_L_CONTAINER_NAME), "coredns");
	assert_string_equal(label(&m, kc, HC_L_CONTAINER_IMAGE), "registry.k8s.io/coredns/coredns:v1.13.1");
	/* the pod's labels are on the pod's set only */
	assert_int_equal(m.sets[find(&m, kc)].labels_n, 3);
	assert_null(label(&m, kc, HC_L_POD_ID));
	assert_null(label(&m, kc, HC_L_LABELS));
	assert_null(label(&m, kc, HC_META_WORKLOAD_KIND));   /* pods only */
	assert_int_equal(ival(&m, kc, "cpu/request"), 100);
	assert_int_equal(ival(&m, kc, "memory/request"), 73400320);
	assert_int_equal(ival(&m, kc, "memory/limit"), 178257920);
	/* zeros are not sent */
	assert_false(has_value(&m, kc, "cpu/limit"));
	assert_false(has_value(&m, kc, "ephemeral_storage/request"));
	assert_false(has_value(&m, kc, "ephemeral_storage/limit"));
	assert_false(has_value(&m, kc, "restart_count"));
	assert_int_equal(m.sets[find(&m, kc)].vals_n, 3);

	/* no owner: no workload; memory "5M" is decimal; 2 restarts */
	k = "namespace:scraper/pod:e2e-container-creating";
	assert_null(label(&m, k, HC_META_WORKLOAD_KIND));
	kc = "namespace:scraper/pod:e2e-container-creating/container:alpine";
	assert_int_equal(ival(&m, kc, "cpu/request"), 5);
	assert_int_equal(ival(&m, kc, "cpu/limit"), 5);
	assert_int_equal(ival(&m, kc, "memory/request"), 5000000);
	assert_int_equal(ival(&m, kc, "memory/limit"), 5000000);
	assert_int_equal(ival(&m, kc, "restart_count"), 2);
	assert_string_equal(label(&m, kc, HC_L_CONTAINER_IMAGE), "docker.io/library/alpine:3.22.1");

	/* a static pod is owned by its Node: no workload */
	k = "namespace:kube-system/pod:etcd-datagen-1-35";
	assert_null(label(&m, k, HC_META_WORKLOAD_KIND));
	assert_int_equal(ival(&m, "namespace:kube-system/pod:etcd-datagen-1-35/container:etcd",
			      "memory/request"), 104857600);
	/* DaemonSet, StatefulSet, and a deployment pod with three labels */
	assert_string_equal(label(&m, "namespace:kube-system/pod:kindnet-zkpn8", HC_META_WORKLOAD_KIND),
			    HC_TYPE_DAEMONSET);
	assert_string_equal(label(&m, "namespace:kube-system/pod:kindnet-zkpn8", HC_META_WORKLOAD_NAME),
			    "kindnet");
	assert_string_equal(label(&m, "namespace:scraper/pod:e2e-statefulset-1", HC_META_WORKLOAD_KIND),
			    HC_TYPE_STATEFULSET);
	k = "namespace:scraper/pod:e2e-hpa-6cd8d99884-tggnr";
	assert_string_equal(label(&m, k, HC_L_LABELS), "app:hpa,pod-template-hash:6cd8d99884,run:php-apache");
	assert_string_equal(label(&m, k, HC_META_WORKLOAD_NAME), "e2e-hpa");
	kc = "namespace:scraper/pod:e2e-hpa-6cd8d99884-tggnr/container:php-apache";
	assert_int_equal(ival(&m, kc, "cpu/request"), 200);
	assert_int_equal(ival(&m, kc, "cpu/limit"), 500);
	assert_int_equal(ival0(&m, kc, "memory/request"), 0);
	/* coredns, metrics-server, 2 e2e-deployment, hpa, kube-state-metrics, scraper */
	assert_int_equal(c.st.workloads_by_hash, 7);
	/* 18 running, less 4 static pods (Node), storage-provisioner, e2e-container-creating */
	assert_int_equal(c.st.pods_in_workloads, 12);
	scr_meta_ctx_free(&c);
	hc_batch_free(&m);
	free(json);
}

/* ---- owner listings and hand-written pods ------------------------------------ */

static const char *rs_list =
	"{\"kind\":\"ReplicaSetList\",\"metadata\":{\"continue\":\"next\\u002fpage\"},\"items\":["
	"{\"metadata\":{\"name\":\"web-5d8f\",\"namespace\":\"ns\",\"ownerReferences\":["
	"{\"kind\":\"Other\",\"name\":\"x\"},"
	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"controller\":true}]}},"
	"{\"metadata\":{\"name\":\"bare-77\",\"namespace\":\"ns\"}},"
	"{\"metadata\":{\"name\":\"renamed-abc\",\"namespace\":\"ns\",\"ownerReferences\":["
	"{\"kind\":\"Deployment\",\"name\":\"real-name\",\"controller\":true}]}}]}";

static const char *job_list =
	"{\"kind\":\"JobList\",\"metadata\":{},\"items\":["
	"{\"metadata\":{\"namespace\":\"ns\",\"name\":\"nightly-29000000\",\"ownerReferences\":["
	"{\"kind\":\"CronJob\",\"name\":\"nightly\",\"controller\":true}]}},"
	"{\"metadata\":{\"namespace\":\"ns\",\"name\":\"once\"}}]}";

/* A running pod of namespace ns with one container and an owner. */
static void pod_json(char *buf, size_t cap, const char *name, const char *okind,
		     const char *oname, const char *hash, const char *resources)
{
	char owner[256] = "", labels[128] = "";

	if (okind)
		snprintf(owner, sizeof(owner), ",\"ownerReferences\":[{\"kind\":\"%s\",\"name\":\"%s\","
			 "\"controller\":true}]", okind, oname);
	if (hash)
		snprintf(labels, sizeof(labels), ",\"labels\":{\"pod-template-hash\":\"%s\"}", hash);
	/* status first: field order must not matter */
	snprintf(buf, cap,
		 "{\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"restartCount\":7,\"name\":\"main\"}]},"
		 "\"spec\":{\"containers\":[{\"resources\":%s,\"name\":\"main\",\"image\":\"img:1\"}],"
		 "\"nodeName\":\"n1\"},"
		 "\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"u-%s\"%s%s}}",
		 resources, name, name, owner, labels);
}

static void test_workloads(void **state)
{
	struct scr_owners rs, jobs;
	struct scr_meta_ctx c;
	struct hc_batch m;
	char cont[SCR_CONT_MAX], list[16384], pod[1024];
	size_t o;
	static const struct {
		const char *name, *okind, *oname, *hash, *wkind, *wname;
	} cases[] = {
		/* by the ReplicaSet listing */
		{ "p1", "ReplicaSet", "web-5d8f", "5d8f", HC_TYPE_DEPLOYMENT, "web" },
		{ "p2", "ReplicaSet", "bare-77", "77", HC_TYPE_REPLICASET, "bare-77" },
		{ "p3", "ReplicaSet", "renamed-abc", "zzz", HC_TYPE_DEPLOYMENT, "real-name" },
		/* not listed: the pod-template-hash rule, or the ReplicaSet itself */
		{ "p4", "ReplicaSet", "late-9f9f", "9f9f", HC_TYPE_DEPLOYMENT, "late" },
		{ "p5", "ReplicaSet", "odd-9f9f", "1234", HC_TYPE_REPLICASET, "odd-9f9f" },
		{ "p6", "ReplicaSet", "nohash-1", NULL, HC_TYPE_REPLICASET, "nohash-1" },
		/* Jobs */
		{ "p7", "Job", "nightly-29000000", NULL, HC_TYPE_CRONJOB, "nightly" },
		{ "p8", "Job", "once", NULL, HC_TYPE_JOB, "once" },
		{ "p9", "Job", "unlisted", NULL, HC_TYPE_JOB, "unlisted" },
		{ "p10", "ReplicationController", "rc", NULL, HC_TYPE_RC, "rc" },
		{ "p11", "SomethingCustom", "x", NULL, NULL, NULL },
	};

	(void)state;
	assert_int_equal(scr_owners_init(&rs), 0);
	assert_int_equal(scr_owners_init(&jobs), 0);
	assert_int_equal(scr_owners_parse(rs_list, strlen(rs_list), &rs, cont), 0);
	assert_string_equal(cont, "next/page");
	assert_int_equal(scr_owners_parse(job_list, strlen(job_list), &jobs, cont), 0);
	assert_string_equal(cont, "");
	assert_int_equal(rs.n, 3);
	assert_string_equal(scr_owners_get(&rs, "ns", "web-5d8f")->kind, "Deployment");
	assert_null(scr_owners_get(&rs, "ns", "bare-77")->kind);
	assert_null(scr_owners_get(&rs, "other", "web-5d8f"));
	/* a Status instead of a list is refused and leaves the index alone */
	assert_int_equal(scr_owners_parse("{\"kind\":\"Status\",\"code\":403}", 29, &rs, cont),
			 HC_ERR_PARSE);
	assert_int_equal(rs.n, 3);
	rs.complete = jobs.complete = 1;

	assert_int_equal(hc_batch_init(&m), 0);
	assert_int_equal(scr_meta_ctx_init(&c), 0);
	c.replicasets = &rs;
	c.jobs = &jobs;
	o = (size_t)snprintf(list, sizeof(list), "{\"items\":[");
	for (size_t i = 0; i < HC_ARRAY_LEN(cases); i++) {
		pod_json(pod, sizeof(pod), cases[i].name, cases[i].okind, cases[i].oname,
			 cases[i].hash, "{}");
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? "," : "", pod);
	}
	snprintf(list + o, sizeof(list) - o, "]}");
	assert_int_equal(scr_meta_pods_parse(list, strlen(list), &c, &m, cont), 0);
	assert_int_equal(c.st.pods_running, HC_ARRAY_LEN(cases));
	for (size_t i = 0; i < HC_ARRAY_LEN(cases); i++) {
		char key[64];
		const char *wk, *wn;

		snprintf(key, sizeof(key), "namespace:ns/pod:%s", cases[i].name);
		wk = label(&m, key, HC_META_WORKLOAD_KIND);
		wn = label(&m, key, HC_META_WORKLOAD_NAME);
		if (cases[i].wkind == NULL) {
			assert_null(wk);
			assert_null(wn);
			continue;
		}
		if (wk == NULL || strcmp(wk, cases[i].wkind) != 0 || strcmp(wn, cases[i].wname) != 0)
			fail_msg("%s: workload %s/%s, want %s/%s", cases[i].name, wk ? wk : "-",
				 wn ? wn : "-", cases[i].wkind, cases[i].wname);
	}
	assert_int_equal(c.st.workloads_by_index, 5);   /* p1 p2 p3 p7 p8 */
	assert_int_equal(c.st.workloads_by_hash, 1);    /* p4 */

	/* without the listings (API server without apps/v1): the hash rule */
	rs.complete = jobs.complete = 0;
	hc_batch_reset(&m, 0);
	assert_int_equal(scr_meta_pods_parse(list, strlen(list), &c, &m, cont), 0);
	assert_string_equal(label(&m, "namespace:ns/pod:p1", HC_META_WORKLOAD_NAME), "web");
	assert_string_equal(label(&m, "namespace:ns/pod:p2", HC_META_WORKLOAD_KIND), HC_TYPE_DEPLOYMENT);
	assert_string_equal(label(&m, "namespace:ns/pod:p2", HC_META_WORKLOAD_NAME), "bare");
	assert_string_equal(label(&m, "namespace:ns/pod:p3", HC_META_WORKLOAD_KIND), HC_TYPE_REPLICASET);
	assert_string_equal(label(&m, "namespace:ns/pod:p7", HC_META_WORKLOAD_KIND), HC_TYPE_JOB);

	scr_meta_ctx_free(&c);
	hc_batch_free(&m);
	scr_owners_free(&rs);
	scr_owners_free(&jobs);
}

static void test_resources(void **state)
{
	struct scr_meta_ctx c;
	struct hc_batch m;
	char cont[SCR_CONT_MAX], list[4096], pod[2048];
	const char *k = "namespace:ns/pod:g/container:main";

	(void)state;
	assert_int_equal(hc_batch_init(&m), 0);
	assert_int_equal(scr_meta_ctx_init(&c), 0);
	pod_json(pod, sizeof(pod), "g", NULL, NULL, NULL,
		 "{\"limits\":{\"nvidia.com/gpu\":\"2\",\"cpu\":\"1.5\",\"ephemeral-storage\":\"2Gi\","
		 "\"memory\":\"1e9\"},\"requests\":{\"nvidia.com/gpu\":\"2\",\"cpu\":\"250m\","
		 "\"hugepages-2Mi\":\"4Mi\",\"ephemeral-storage\":\"1Gi\",\"memory\":\"bogus\","
		 "\"example.com/foo\":\"3k\"}}");
	snprintf(list, sizeof(list), "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[%s]}", pod);
	assert_int_equal(scr_meta_pods_parse(list, strlen(list), &c, &m, cont), 0);
	assert_int_equal(ival(&m, k, "cpu/request"), 250);
	assert_int_equal(ival(&m, k, "cpu/limit"), 1500);
	assert_int_equal(ival0(&m, k, "memory/request"), 0);          /* bogus: unset */
	assert_int_equal(ival(&m, k, "memory/limit"), 1000000000);
	assert_int_equal(ival(&m, k, "ephemeral_storage/request"), 1073741824);
	assert_int_equal(ival(&m, k, "ephemeral_storage/limit"), 2147483648LL);
	assert_int_equal(ival(&m, k, "nvidia.com/gpu/request"), 2);
	assert_int_equal(ival(&m, k, "hugepages-2Mi/request"), 4194304);
	assert_int_equal(ival(&m, k, "example.com/foo/request"), 3000);
	assert_false(has_value(&m, k, "nvidia.com/gpu/limit"));
	assert_int_equal(ival(&m, k, "restart_count"), 7);
	assert_string_equal(label(&m, k, HC_L_CONTAINER_IMAGE), "img:1");
	assert_string_equal(label(&m, "namespace:ns/pod:g", HC_L_LABELS), "");

	/* a truncated page is refused whole and the batch is unchanged */
	hc_batch_reset(&m, 0);
	assert_int_equal(scr_meta_pods_parse(list, strlen(list) - 3, &c, &m, cont), HC_ERR_PARSE);
	assert_int_equal(m.nsets, 0);
	/* a Status (403) is not a list */
	assert_int_equal(scr_meta_pods_parse("{\"kind\":\"Status\",\"code\":403,\"items\":\"no\"}", 42,
					     &c, &m, cont), HC_ERR_PARSE);
	/* a continue token longer than SCR_CONT_MAX is an error, and undone */
	{
		size_t n = SCR_CONT_MAX + 100, o;
		char *big = malloc(n + sizeof(list) + 64);

		assert_non_null(big);
		o = (size_t)sprintf(big, "{\"items\":[%s],\"metadata\":{\"continue\":\"", pod);
		memset(big + o, 'x', n);
		strcpy(big + o + n, "\"}}");
		assert_int_equal(scr_meta_pods_parse(big, strlen(big), &c, &m, cont), HC_ERR_TOOBIG);
		assert_int_equal(m.nsets, 0);
		assert_true(absent(&m, "namespace:ns/pod:g"));
		free(big);
	}
	scr_meta_ctx_free(&c);
	hc_batch_free(&m);
}

static void test_namespaces(void **state)
{
	static const char *json =
		"{\"kind\":\"NamespaceList\",\"metadata\":{\"continue\":\"c2\"},\"items\":["
		"{\"metadata\":{\"uid\":\"uid-a\",\"name\":\"a\"},\"status\":{\"phase\":\"Active\"}},"
		"{\"metadata\":{\"name\":\"b\",\"uid\":\"uid-b\"}},{\"metadata\":{\"uid\":\"x\"}}]}";
	struct scr_meta_ctx c;
	struct hc_batch m;
	char cont[SCR_CONT_MAX];

	(void)state;
	assert_int_equal(hc_batch_init(&m), 0);
	assert_int_equal(scr_meta_ctx_init(&c), 0);
	assert_int_equal(scr_meta_namespaces_parse(json, strlen(json), &c, &m, cont), 0);
	assert_string_equal(cont, "c2");
	assert_int_equal(m.nsets, 2);
	assert_int_equal(c.st.namespaces, 2);
	assert_string_equal(label(&m, "namespace:a", HC_L_TYPE), HC_TYPE_NS);
	assert_string_equal(label(&m, "namespace:a", HC_L_NAMESPACE_NAME), "a");
	assert_string_equal(label(&m, "namespace:a", HC_L_NAMESPACE_ID), "uid-a");
	assert_string_equal(label(&m, "namespace:b", HC_L_NAMESPACE_ID), "uid-b");
	scr_meta_ctx_free(&c);
	hc_batch_free(&m);
}

static double fval(struct hc_batch *b, const char *key, uint32_t metric)
{
	struct hc_value *v;

	assert_int_equal(hc_batch_group(b), 0);
	v = hc_batch_value(b, find(b, key), metric);
	if (v == NULL)
		fail_msg("%s has no %s", key, hc_metric_table[metric].name);
	assert_int_equal(v->type, HC_FLOAT);
	return v->v.f;
}

static void test_nodes_fixture(void **state)
{
	struct scr_nodelist l;
	struct scr_meta_ctx c;
	struct hc_batch m;
	size_t len;
	char *json = load_fixture("nodelist-nri-kubernetes-k8s1.35.from-yaml.json", &len);
	const char *k = "node:datagen-1-35";

	(void)state;
	scr_nodelist_init(&l);
	assert_int_equal(scr_nodes_parse(json, len, NULL, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.nodes[0].cap[SCR_RES_CPU], 14000);
	assert_int_equal(l.nodes[0].alloc[SCR_RES_MEM], 8216887296LL);
	assert_int_equal(hc_batch_init(&m), 0);
	assert_int_equal(scr_meta_ctx_init(&c), 0);
	assert_int_equal(scr_meta_nodes(&l, &c, &m), 0);
	assert_int_equal(m.nsets, 1);
	assert_string_equal(label(&m, k, HC_L_TYPE), HC_TYPE_NODE);
	assert_string_equal(label(&m, k, HC_L_NODENAME), "datagen-1-35");
	assert_string_equal(label(&m, k, HC_L_HOSTNAME), "datagen-1-35");
	assert_null(label(&m, k, HC_L_HOST_ID));        /* empty: not sent */
	assert_string_equal(label(&m, k, HC_L_LABELS),
			    "beta.kubernetes.io/arch:arm64,beta.kubernetes.io/os:linux,"
			    "kubernetes.io/arch:arm64,kubernetes.io/hostname:datagen-1-35,"
			    "kubernetes.io/os:linux,minikube.k8s.io/commit:c93a4cb9311efc66b90d33ea03f75f2c4120e9b0,"
			    "minikube.k8s.io/name:datagen-1-35,minikube.k8s.io/primary:true,"
			    "minikube.k8s.io/updated_at:2026_06_26T12_12_14_0700,minikube.k8s.io/version:v1.38.1,"
			    "node-role.kubernetes.io/control-plane:,"
			    "node.kubernetes.io/exclude-from-external-load-balancers:");
	/* cpu "14", memory "8024304Ki", ephemeral-storage "954976684Ki" */
	assert_true(fval(&m, k, HC_M_CPU_NODE_CAPACITY) == 14000.0);
	assert_true(fval(&m, k, HC_M_CPU_NODE_ALLOCATABLE) == 14000.0);
	assert_true(fval(&m, k, HC_M_MEM_NODE_CAPACITY) == 8216887296.0);
	assert_true(fval(&m, k, HC_M_MEM_NODE_ALLOCATABLE) == 8216887296.0);
	assert_true(fval(&m, k, HC_M_EPH_NODE_CAPACITY) == 977896124416.0);
	assert_true(fval(&m, k, HC_M_EPH_NODE_ALLOCATABLE) == 977896124416.0);
	free(json);

	/* two pages; capacity without allocatable gives no value for it */
	scr_nodelist_clear(&l);
	json = "{\"items\":[{\"metadata\":{\"name\":\"a\",\"labels\":{\"z\":\"1\",\"y\":\"2\"}},"
	       "\"status\":{\"capacity\":{\"cpu\":\"4\",\"memory\":\"16Gi\"},"
	       "\"allocatable\":{\"cpu\":\"3800m\",\"memory\":\"15Gi\",\"ephemeral-storage\":\"95Gi\"}}}]}";
	assert_int_equal(scr_nodes_parse(json, strlen(json), NULL, &l), 0);
	json = "{\"items\":[{\"metadata\":{\"name\":\"b\"},\"status\":{\"capacity\":{\"cpu\":\"x\"}}}]}";
	assert_int_equal(scr_nodes_parse(json, strlen(json), NULL, &l), 0);
	hc_batch_reset(&m, 0);
	assert_int_equal(scr_meta_nodes(&l, &c, &m), 0);
	assert_string_equal(label(&m, "node:a", HC_L_LABELS), "y:2,z:1");
	assert_string_equal(label(&m, "node:b", HC_L_LABELS), "");
	assert_true(fval(&m, "node:a", HC_M_CPU_NODE_ALLOCATABLE) == 3800.0);
	assert_true(fval(&m, "node:a", HC_M_MEM_NODE_CAPACITY) == 17179869184.0);
	assert_null(hc_batch_value(&m, find(&m, "node:a"), HC_M_EPH_NODE_CAPACITY));
	assert_null(hc_batch_value(&m, find(&m, "node:b"), HC_M_CPU_NODE_CAPACITY));
	scr_meta_ctx_free(&c);
	hc_batch_free(&m);
	scr_nodelist_free(&l);
}

/* ---- the pod cache of watch mode --------------------------------------------- */

/* A running (or not) pod object with one container, for watch events. */
static void pod_obj(char *buf, size_t cap, const char *name, const char *phase,
		    const char *cpu, const char *rv)
{
	snprintf(buf, cap,
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"u-%s\","
		 "\"resourceVersion\":\"%s\",\"labels\":{\"app\":\"%s\"}},"
		 "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"i\","
		 "\"resources\":{\"requests\":{\"cpu\":\"%s\",\"example.com/dev\":\"1\"}}}]},"
		 "\"status\":{\"phase\":\"%s\"}}", name, name, rv, name, cpu, phase);
}

static void event(char *buf, size_t cap, const char *type, const char *obj)
{
	snprintf(buf, cap, "{\"type\":\"%s\",\"object\":%s}\n", type, obj);
}

static int64_t cpu_request(struct hc_batch *m, const char *pod)
{
	char key[128];

	snprintf(key, sizeof(key), "namespace:ns/pod:%s/container:c", pod);
	return ival(m, key, "cpu/request");
}

/* The pod watch's apply function: scr_pod_event() on the test's context. */
static int pod_apply(void *ctx, const char *line, size_t len, char *rv)
{
	return scr_pod_event(line, len, ctx, rv);
}

/* Feeds body to w in pieces of `step` bytes (lines cut anywhere). */
static int feed(struct scr_watch *w, const char *body, size_t len, size_t step)
{
	for (size_t o = 0; o < len; o += step) {
		int rc = scr_watch_feed(w, body + o, len - o < step ? len - o : step);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static void test_watch_cache(void **state)
{
	struct scr_meta_ctx c;
	struct scr_cache k;
	struct scr_watch w;
	struct hc_batch m;
	char list[8192], obj[1024], ev[4096], body[16384], cont[SCR_CONT_MAX];
	struct scr_meta_stats st;
	size_t o;

	(void)state;
	assert_int_equal(scr_meta_ctx_init(&c), 0);
	assert_int_equal(scr_cache_init(&k), 0);
	assert_int_equal(hc_batch_init(&m), 0);
	scr_watch_init(&w, "pod", pod_apply, &c);
	c.cache = &k;
	/* the listing: a, b running, z pending */
	o = (size_t)snprintf(list, sizeof(list), "{\"metadata\":{\"resourceVersion\":\"100\"},\"items\":[");
	pod_obj(obj, sizeof(obj), "a", "Running", "100m", "10");
	o += (size_t)snprintf(list + o, sizeof(list) - o, "%s,", obj);
	pod_obj(obj, sizeof(obj), "b", "Running", "200m", "11");
	o += (size_t)snprintf(list + o, sizeof(list) - o, "%s,", obj);
	pod_obj(obj, sizeof(obj), "z", "Pending", "1", "12");
	snprintf(list + o, sizeof(list) - o, "%s]}", obj);
	assert_int_equal(scr_meta_pods_parse(list, strlen(list), &c, &k.b, cont), 0);
	assert_string_equal(c.list_rv, "100");
	assert_int_equal(k.nlive, 4);
	memcpy(w.rv, c.list_rv, sizeof(w.rv));

	/* events: b modified (cpu 250m), a deleted, d added, z now running, a
	 * bookmark, and a last line still incomplete; fed a few bytes at a time */
	o = 0;
	pod_obj(obj, sizeof(obj), "b", "Running", "250m", "101");
	event(ev, sizeof(ev), "MODIFIED", obj);
	o += (size_t)snprintf(body + o, sizeof(body) - o, "%s", ev);
	pod_obj(obj, sizeof(obj), "a", "Running", "100m", "102");
	event(ev, sizeof(ev), "DELETED", obj);
	o += (size_t)snprintf(body + o, sizeof(body) - o, "%s\r\n", ev);   /* blank line: skipped */
	pod_obj(obj, sizeof(obj), "d", "Running", "1500m", "103");
	event(ev, sizeof(ev), "ADDED", obj);
	o += (size_t)snprintf(body + o, sizeof(body) - o, "%s", ev);
	pod_obj(obj, sizeof(obj), "z", "Running", "2", "104");
	event(ev, sizeof(ev), "MODIFIED", obj);
	o += (size_t)snprintf(body + o, sizeof(body) - o, "%s", ev);
	o += (size_t)snprintf(body + o, sizeof(body) - o,
			      "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
			      "{\"resourceVersion\":\"110\"}}}\n{\"type\":\"ADDED\",\"obj");
	assert_int_equal(feed(&w, body, o, 7), 0);
	assert_int_equal(w.events, 4);
	assert_string_equal(w.rv, "110");
	assert_true(w.pending.len > 0);    /* the incomplete line waits */
	assert_int_equal(k.nlive, 6);      /* b, d, z: a pod and a container each */
	assert_int_equal(k.ndead, 4);      /* a's and b's old sets */
	w.pending.len = 0;                 /* a stream that ended: its cut line is dropped */

	memset(&st, 0, sizeof(st));
	hc_batch_reset(&m, 0);
	assert_int_equal(scr_cache_render(&k, &m, &st), 0);
	assert_int_equal(m.nsets, 6);
	assert_int_equal(st.pods_running, 3);
	assert_int_equal(st.containers, 3);
	assert_true(absent(&m, "namespace:ns/pod:a"));
	assert_true(absent(&m, "namespace:ns/pod:a/container:c"));
	assert_int_equal(cpu_request(&m, "b"), 250);
	assert_int_equal(cpu_request(&m, "d"), 1500);
	assert_int_equal(cpu_request(&m, "z"), 2000);
	assert_int_equal(ival(&m, "namespace:ns/pod:d/container:c", "example.com/dev/request"), 1);
	assert_string_equal(label(&m, "namespace:ns/pod:b", HC_L_LABELS), "app:b");
	assert_string_equal(label(&m, "namespace:ns/pod:d", HC_L_POD_ID), "u-d");
	assert_null(label(&m, "namespace:ns/pod:d/container:c", HC_L_POD_ID));

	/* a pod that stops running loses its sets; an ERROR (410) asks for a listing */
	pod_obj(obj, sizeof(obj), "d", "Succeeded", "1500m", "120");
	event(body, sizeof(body), "MODIFIED", obj);
	o = strlen(body);
	o += (size_t)snprintf(body + o, sizeof(body) - o,
			      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
			      "\"reason\":\"Expired\"}}\n");
	assert_int_equal(scr_watch_feed(&w, body, o), HC_ERR_PROTO);
	assert_string_equal(w.rv, "120");
	hc_batch_reset(&m, 0);
	assert_int_equal(scr_cache_render(&k, &m, NULL), 0);
	assert_int_equal(m.nsets, 4);
	assert_true(absent(&m, "namespace:ns/pod:d"));
	/* garbage in the middle of a stream is an error */
	assert_int_equal(scr_watch_feed(&w, "{\"type\":\"ADDED\"}\nnot json\n{}", 28), HC_ERR_PARSE);
	w.pending.len = 0;

	/* churn: compaction keeps exactly the live pods, with their strings */
	for (int round = 0; round < 3000; round++) {
		char name[16];

		snprintf(name, sizeof(name), "p%d", round % 50);
		pod_obj(obj, sizeof(obj), name, "Running", round % 2 ? "10m" : "20m", "200");
		event(body, sizeof(body), round % 7 == 6 ? "DELETED" : "MODIFIED", obj);
		assert_int_equal(scr_watch_feed(&w, body, strlen(body)), 0);
		assert_int_equal(scr_cache_compact(&k), 0);
	}
	assert_true(k.ndead < 4096 + 2);
	hc_batch_reset(&m, 0);
	memset(&st, 0, sizeof(st));
	assert_int_equal(scr_cache_render(&k, &m, &st), 0);
	/* p0..p49 were last touched at rounds 2950..2999: deleted when round % 7 == 6 */
	{
		uint32_t want = 0;

		for (int r = 2950; r < 3000; r++)
			want += r % 7 != 6;
		want += 2;            /* b and z */
		assert_int_equal(st.pods_running, want);
	}
	assert_int_equal(cpu_request(&m, "p1"), 10);          /* round 2951 */
	assert_int_equal(cpu_request(&m, "p2"), 20);          /* round 2952 */
	assert_string_equal(label(&m, "namespace:ns/pod:p1", HC_L_LABELS), "app:p1");
	assert_int_equal(cpu_request(&m, "b"), 250);       /* copied by the compaction */
	assert_string_equal(label(&m, "namespace:ns/pod:b", HC_L_LABELS), "app:b");
	assert_string_equal(label(&m, "namespace:ns/pod:b/container:c", HC_L_CONTAINER_IMAGE), "i");
	assert_string_equal(label(&m, "namespace:ns/pod:z", HC_L_POD_ID), "u-z");

	free(w.pending.p);
	hc_batch_free(&m);
	scr_cache_free(&k);
	scr_meta_ctx_free(&c);
}

static int ns_apply(void *ctx, const char *line, size_t len, char *rv)
{
	return scr_namespace_event(line, len, ctx, rv);
}

static void test_watch_namespaces(void **state)
{
	static const char *list =
		"{\"kind\":\"NamespaceList\",\"metadata\":{\"resourceVersion\":\"7\"},\"items\":["
		"{\"metadata\":{\"name\":\"a\",\"uid\":\"uid-a\"}},{\"metadata\":{\"name\":\"b\",\"uid\":\"uid-b\"}}]}";
	static const char *events =
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Namespace\",\"metadata\":"
		"{\"name\":\"c\",\"uid\":\"uid-c\",\"resourceVersion\":\"8\"}}}\n"
		"{\"type\":\"DELETED\",\"object\":{\"kind\":\"Namespace\",\"metadata\":"
		"{\"name\":\"a\",\"uid\":\"uid-a\",\"resourceVersion\":\"9\"}}}\n"
		"{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Namespace\",\"metadata\":"
		"{\"name\":\"b\",\"uid\":\"uid-b2\",\"resourceVersion\":\"10\"}}}\n"
		"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Namespace\",\"metadata\":"
		"{\"resourceVersion\":\"15\"}}}\n";
	struct scr_meta_ctx c;
	struct scr_cache k;
	struct scr_watch w;
	struct scr_meta_stats st;
	struct hc_batch m;
	char cont[SCR_CONT_MAX];

	(void)state;
	assert_int_equal(scr_meta_ctx_init(&c), 0);
	assert_int_equal(scr_cache_init(&k), 0);
	assert_int_equal(hc_batch_init(&m), 0);
	scr_watch_init(&w, "namespace", ns_apply, &c);
	c.ns_cache = &k;
	assert_int_equal(scr_meta_namespaces_parse(list, strlen(list), &c, &k.b, cont), 0);
	assert_string_equal(c.list_rv, "7");
	assert_int_equal(k.nlive, 2);
	assert_int_equal(feed(&w, events, strlen(events), 5), 0);
	assert_int_equal(w.events, 3);
	assert_string_equal(w.rv, "15");
	memset(&st, 0, sizeof(st));
	assert_int_equal(scr_cache_render(&k, &m, &st), 0);
	assert_int_equal(st.namespaces, 2);
	assert_int_equal(st.pods_running, 0);
	assert_true(absent(&m, "namespace:a"));
	assert_string_equal(label(&m, "namespace:b", HC_L_NAMESPACE_ID), "uid-b2");
	assert_string_equal(label(&m, "namespace:c", HC_L_NAMESPACE_ID), "uid-c");
	free(w.pending.p);
	hc_batch_free(&m);
	scr_cache_free(&k);
	scr_meta_ctx_free(&c);
}

/* A node object for watch events: Ready or not, with one label. */
static void node_obj(char *buf, size_t cap, const char *name, const char *ready,
		     const char *ip, const char *rv)
{
	snprintf(buf, cap,
		 "{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"resourceVersion\":\"%s\","
		 "\"labels\":{\"zone\":\"z-%s\"}},\"status\":{\"addresses\":[{\"type\":\"InternalIP\","
		 "\"address\":\"%s\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}],"
		 "\"allocatable\":{\"cpu\":\"2\"}}}", name, rv, name, ip, ready);
}

struct node_ctx {
	struct scr_nodelist *l;
};

static int node_apply(void *ctx, const char *line, size_t len, char *rv)
{
	struct node_ctx *nc = ctx;

	return scr_node_event(line, len, NULL, nc->l, rv);
}

/* The node of that name in l, or NULL. */
static const struct scr_node *node_named(const struct scr_nodelist *l, const char *name)
{
	for (uint32_t i = 0; i < l->n; i++)
		if (strcmp(l->nodes[i].name, name) == 0)
			return &l->nodes[i];
	return NULL;
}

static void test_watch_nodes(void **state)
{
	struct scr_nodelist l;
	struct node_ctx nc = { &l };
	struct scr_watch w;
	char obj[1024], ev[2048], body[65536], name[32], ip[32];
	size_t o = 0;

	(void)state;
	scr_nodelist_init(&l);
	scr_watch_init(&w, "node", node_apply, &nc);
	/* events before any listing: the table must be listed first */
	node_obj(obj, sizeof(obj), "n0", "True", "10.0.0.1", "5");
	event(ev, sizeof(ev), "ADDED", obj);
	assert_int_equal(scr_watch_feed(&w, ev, strlen(ev)), HC_ERR_PROTO);

	/* a listing of n0..n2, one name twice (the first wins) */
	o = (size_t)snprintf(body, sizeof(body), "{\"metadata\":{\"resourceVersion\":\"50\"},\"items\":[");
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		node_obj(obj, sizeof(obj), name, "True", ip, "5");
		o += (size_t)snprintf(body + o, sizeof(body) - o, "%s,", obj);
	}
	node_obj(obj, sizeof(obj), "n1", "True", "10.9.9.9", "5");
	snprintf(body + o, sizeof(body) - o, "%s]}", obj);
	assert_int_equal(scr_nodes_parse(body, strlen(body), NULL, &l), 0);
	assert_string_equal(l.rv, "50");
	assert_int_equal(l.n, 4);
	assert_int_equal(scr_nodelist_index(&l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(node_named(&l, "n1")->ip, "10.0.0.2");

	/* added, made NotReady, deleted (the middle one: the last moves), a
	 * deletion of an unknown node, a bookmark */
	o = 0;
	node_obj(obj, sizeof(obj), "n3", "True", "10.0.0.4", "51");
	event(ev, sizeof(ev), "ADDED", obj);
	o += (size_t)snprintf(body + o, sizeof(body) - o, "%s", ev);
	node_obj(obj, sizeof(obj), "n2", "False", "10.0.0.3", "52");
	event(ev, sizeof(ev), "MODIFIED", obj);
	o += (size_t)snprintf(body + o, sizeof(body) - o, "%s", ev);
	node_obj(obj, sizeof(obj), "n1", "True", "10.0.0.2", "53");
	event(ev, sizeof(ev), "DELETED", obj);
	o += (size_t)snprintf(body + o, sizeof(body) - o, "%s", ev);
	node_obj(obj, sizeof(obj), "gone", "True", "10.0.0.9", "54");
	event(ev, sizeof(ev), "DELETED", obj);
	o += (size_t)snprintf(body + o, sizeof(body) - o, "%s", ev);
	o += (size_t)snprintf(body + o, sizeof(body) - o,
			      "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Node\",\"metadata\":"
			      "{\"resourceVersion\":\"60\"}}}\n");
	assert_int_equal(feed(&w, body, o, 11), 0);
	assert_string_equal(w.rv, "60");
	assert_int_equal(w.events, 4);
	assert_int_equal(l.n, 3);
	assert_null(node_named(&l, "n1"));
	assert_int_equal(node_named(&l, "n2")->ready, 0);
	assert_int_equal(node_named(&l, "n0")->ready, 1);
	assert_string_equal(node_named(&l, "n3")->ip, "10.0.0.4");
	assert_string_equal(scr_node_labels(&l, node_named(&l, "n3")), "zone:z-n3");
	assert_int_equal(node_named(&l, "n3")->alloc[SCR_RES_CPU], 2000);

	/* churn across array growth: the index stays right, strs stays bounded */
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "c%d", i % 300);
		node_obj(obj, sizeof(obj), name, i % 3 ? "True" : "False", "10.1.1.1", "70");
		event(ev, sizeof(ev), i % 5 == 4 ? "DELETED" : "MODIFIED", obj);
		assert_int_equal(scr_watch_feed(&w, ev, strlen(ev)), 0);
	}
	for (int i = 19700; i < 20000; i++) {
		const struct scr_node *n;

		snprintf(name, sizeof(name), "c%d", i % 300);
		n = node_named(&l, name);
		if (i % 5 == 4)
			assert_null(n);
		else
			assert_true(n != NULL && n->ready == (i % 3 != 0));
	}
	for (uint32_t i = 0; i < l.n; i++) {
		uint32_t idx;

		assert_int_equal(hc_map_get(&l.by_name, l.nodes[i].name, strlen(l.nodes[i].name),
					    &idx), 0);
		assert_int_equal(idx, i);
	}
	assert_int_equal(l.by_name.count, l.n);
	assert_true(l.strs_len < 4 * l.strs_live + (1u << 20) + 64);
	/* a node without a name is not an event */
	assert_int_equal(scr_watch_feed(&w, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}\n", 42),
			 HC_ERR_PARSE);
	free(w.pending.p);
	scr_nodelist_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantity),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_pods_fixture),
		cmocka_unit_test(test_workloads),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_nodes_fixture),
		cmocka_unit_test(test_watch_cache),
		cmocka_unit_test(test_watch_namespaces),
		cmocka_unit_test(test_watch_nodes),
	};

	hc_log_init("test_meta", HC_LOG_ERROR + 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
