/*
 * test_api_resource.c - the pure parts of the metrics.k8s.io API
 * (apiserver/api_util.c): Kubernetes quantities, Go duration formatting,
 * "k:v,..." label lists, label and field selectors, and the /apis paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api_util.h"
#include "hc.h"

static void test_cpu_quantity(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(api_fmt_cpu_quantity(298952967, buf), 10);
	assert_string_equal(buf, "298952967n");
	api_fmt_cpu_quantity(0, buf);
	assert_string_equal(buf, "0");
	api_fmt_cpu_quantity(250LL * 1000000, buf);   /* 250 millicores */
	assert_string_equal(buf, "250000000n");
	api_fmt_cpu_quantity(1, buf);
	assert_string_equal(buf, "1n");
	api_fmt_cpu_quantity(INT64_MAX, buf);
	assert_string_equal(buf, "9223372036854775807n");
	api_fmt_cpu_quantity(-5, buf);
	assert_string_equal(buf, "-5n");
}

static void test_mem_quantity(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(api_fmt_mem_quantity(1311340LL * 1024, buf), 9);
	assert_string_equal(buf, "1311340Ki");
	api_fmt_mem_quantity(4620LL * 1024, buf);
	assert_string_equal(buf, "4620Ki");
	/* a whole MiB stays in Ki (the form metrics-server clients expect) */
	api_fmt_mem_quantity(16LL << 30, buf);
	assert_string_equal(buf, "16777216Ki");
	api_fmt_mem_quantity(1024, buf);
	assert_string_equal(buf, "1Ki");
	/* not a whole KiB: exact bytes, never rounded */
	api_fmt_mem_quantity(1000, buf);
	assert_string_equal(buf, "1000");
	api_fmt_mem_quantity(1311340LL * 1024 + 1, buf);
	assert_string_equal(buf, "1342812161");
	api_fmt_mem_quantity(0, buf);
	assert_string_equal(buf, "0");
}

/* Go's own time.Duration String() table (time_test.go), plus windows. */
static void test_go_duration(void **state)
{
	static const struct { int64_t ns; const char *s; } cases[] = {
		{ 0, "0s" },
		{ 1, "1ns" },
		{ 1100, "1.1\xc2\xb5s" },
		{ 2200LL * 1000, "2.2ms" },
		{ 3300LL * 1000000, "3.3s" },
		{ (4 * 60 + 5) * 1000000000LL, "4m5s" },
		{ (4 * 60 + 5) * 1000000000LL + 1000000, "4m5.001s" },
		{ ((5 * 60 + 6) * 60 + 7) * 1000000000LL + 1000000, "5h6m7.001s" },
		{ 8 * 60 * 1000000000LL + 1, "8m0.000000001s" },
		{ INT64_MAX, "2562047h47m16.854775807s" },
		{ INT64_MIN, "-2562047h47m16.854775808s" },
		{ -2000000000LL, "-2s" },
		{ 15000LL * 1000000, "15s" },
		{ 10059LL * 1000000, "10.059s" },
		{ 17913LL * 1000000, "17.913s" },
		{ 60000LL * 1000000, "1m0s" },
		{ 3600000LL * 1000000, "1h0m0s" },
		{ 500LL * 1000000, "500ms" },
		{ 999, "999ns" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < HC_ARRAY_LEN(cases); i++) {
		size_t n = api_fmt_go_duration(cases[i].ns, buf);

		assert_string_equal(buf, cases[i].s);
		assert_int_equal(n, strlen(cases[i].s));
	}
}

static void test_klabels(void **state)
{
	const char *s = "app:web,k8s.io/tier:front,,empty:,bare";
	const char *k, *v;
	size_t kl, vl, pos = 0;

	(void)state;
	assert_int_equal(api_klabels_next(s, strlen(s), &pos, &k, &kl, &v, &vl), 1);
	assert_memory_equal(k, "app", 3);
	assert_int_equal(kl, 3);
	assert_memory_equal(v, "web", 3);
	assert_int_equal(vl, 3);
	assert_int_equal(api_klabels_next(s, strlen(s), &pos, &k, &kl, &v, &vl), 1);
	assert_int_equal(kl, strlen("k8s.io/tier"));
	assert_memory_equal(v, "front", 5);
	assert_int_equal(api_klabels_next(s, strlen(s), &pos, &k, &kl, &v, &vl), 1);
	assert_memory_equal(k, "empty", 5);
	assert_int_equal(vl, 0);
	assert_int_equal(api_klabels_next(s, strlen(s), &pos, &k, &kl, &v, &vl), 1);
	assert_memory_equal(k, "bare", 4);
	assert_int_equal(kl, 4);
	assert_int_equal(vl, 0);
	assert_int_equal(api_klabels_next(s, strlen(s), &pos, &k, &kl, &v, &vl), 0);
	pos = 0;
	assert_int_equal(api_klabels_next("", 0, &pos, &k, &kl, &v, &vl), 0);
}

static int sel_ok(const char *s, unsigned flags, struct api_selector *sel)
{
	return api_selector_parse(s, strlen(s), flags, sel);
}

static void test_selector_parse(void **state)
{
	struct api_selector sel;

	(void)state;
	assert_int_equal(sel_ok("", 0, &sel), 0);
	assert_int_equal(sel.n, 0);
	assert_int_equal(sel_ok("   ", 0, &sel), 0);
	assert_int_equal(sel.n, 0);

	assert_int_equal(sel_ok("app=web,tier!=db, env == prod", 0, &sel), 0);
	assert_int_equal(sel.n, 3);
	assert_int_equal(sel.reqs[0].op, API_SEL_EQ);
	assert_int_equal(sel.reqs[0].key.len, 3);
	assert_memory_equal(sel.reqs[0].key.p, "app", 3);
	assert_int_equal(sel.reqs[0].nvals, 1);
	assert_memory_equal(sel.reqs[0].vals[0].p, "web", 3);
	assert_int_equal(sel.reqs[1].op, API_SEL_NE);
	assert_memory_equal(sel.reqs[1].vals[0].p, "db", 2);
	assert_int_equal(sel.reqs[2].op, API_SEL_EQ);
	assert_memory_equal(sel.reqs[2].key.p, "env", 3);
	assert_memory_equal(sel.reqs[2].vals[0].p, "prod", 4);

	assert_int_equal(sel_ok("env in (prod, qa),tier notin (db),app,!canary", 0, &sel), 0);
	assert_int_equal(sel.n, 4);
	assert_int_equal(sel.reqs[0].op, API_SEL_IN);
	assert_int_equal(sel.reqs[0].nvals, 2);
	assert_memory_equal(sel.reqs[0].vals[1].p, "qa", 2);
	assert_int_equal(sel.reqs[1].op, API_SEL_NOTIN);
	assert_int_equal(sel.reqs[1].nvals, 1);
	assert_int_equal(sel.reqs[2].op, API_SEL_EXISTS);
	assert_int_equal(sel.reqs[3].op, API_SEL_NOTEXISTS);
	assert_memory_equal(sel.reqs[3].key.p, "canary", 6);

	/* an empty value is a value */
	assert_int_equal(sel_ok("app=", 0, &sel), 0);
	assert_int_equal(sel.reqs[0].vals[0].len, 0);
	/* prefixed keys */
	assert_int_equal(sel_ok("app.kubernetes.io/name=web", 0, &sel), 0);
	assert_int_equal(sel.reqs[0].key.len, strlen("app.kubernetes.io/name"));

	/* malformed */
	assert_int_equal(sel_ok("app=web,", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok(",app", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("app==", 0, &sel), 0);
	assert_int_equal(sel_ok("app===x", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("app in ()", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("app in (a", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("app in a", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("app x", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("!", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("=web", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("replicas>2", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("app=we b", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("-app=web", 0, &sel), HC_ERR_PARSE);      /* key syntax */
	assert_int_equal(sel_ok("app=web-", 0, &sel), HC_ERR_PARSE);      /* value syntax */
	assert_int_equal(sel_ok("app=w:b", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("Bad_Prefix/app=web", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("a/b/c=web", 0, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("app=0123456789012345678901234567890123456789012345678901234567890123",
				0, &sel), HC_ERR_PARSE);   /* 64 > 63 */
	assert_int_equal(sel_ok("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p", 0, &sel), 0);
	assert_int_equal(sel_ok("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", 0, &sel), HC_ERR_TOOBIG);
	assert_int_equal(sel_ok("a in (1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17)", 0, &sel),
			 HC_ERR_TOOBIG);
}

static void test_selector_fields(void **state)
{
	struct api_selector sel;

	(void)state;
	assert_int_equal(sel_ok("metadata.name=pod-0-0,metadata.namespace!=kube-system",
				API_SEL_FIELDS, &sel), 0);
	assert_int_equal(sel.n, 2);
	assert_true(api_selector_match(&sel, "metadata.name:pod-0-0,metadata.namespace:default",
				       strlen("metadata.name:pod-0-0,metadata.namespace:default")));
	assert_false(api_selector_match(&sel, "metadata.name:pod-0-0,metadata.namespace:kube-system",
					strlen("metadata.name:pod-0-0,metadata.namespace:kube-system")));
	/* set-based and existence requirements are label-only */
	assert_int_equal(sel_ok("metadata.name in (a)", API_SEL_FIELDS, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("metadata.name", API_SEL_FIELDS, &sel), HC_ERR_PARSE);
	assert_int_equal(sel_ok("!metadata.name", API_SEL_FIELDS, &sel), HC_ERR_PARSE);
}

static int match(const char *sel_s, const char *labels)
{
	struct api_selector sel;

	assert_int_equal(api_selector_parse(sel_s, strlen(sel_s), 0, &sel), 0);
	return api_selector_match(&sel, labels, strlen(labels));
}

static void test_selector_match(void **state)
{
	const char *l = "app:web,pod-template-hash:5d8f,tier:front";

	(void)state;
	assert_true(match("", l));
	assert_true(match("", ""));
	assert_true(match("app=web", l));
	assert_true(match("app==web", l));
	assert_false(match("app=db", l));
	assert_false(match("app=we", l));       /* no prefix matching */
	assert_false(match("ap=web", l));
	assert_true(match("app!=db", l));
	assert_false(match("app!=web", l));
	assert_true(match("app=web,tier=front", l));
	assert_false(match("app=web,tier=back", l));
	assert_true(match("tier in (back,front)", l));
	assert_false(match("tier in (back,middle)", l));
	assert_true(match("tier notin (back)", l));
	assert_false(match("tier notin (front)", l));
	assert_true(match("pod-template-hash", l));
	assert_false(match("!pod-template-hash", l));
	assert_true(match("!canary", l));
	assert_false(match("canary", l));
	assert_true(match("app=", "app:,x:y"));
	assert_false(match("app=", l));
	/* a set without labels: only negative requirements hold */
	assert_false(match("app=web", ""));
	assert_true(match("app!=web", ""));
	assert_true(match("app notin (web)", ""));
	assert_false(match("app in (web)", ""));
	assert_true(match("!app", ""));
	assert_false(match("app", ""));
}

static void expect_res(const char *path, enum api_res_op op, int legacy,
		       const char *ns, const char *name)
{
	struct api_res_target t;

	assert_int_equal(api_res_parse(path, strlen(path), &t), 0);
	assert_int_equal(t.op, op);
	assert_int_equal(t.legacy, legacy);
	assert_string_equal(t.ns, ns);
	assert_int_equal(t.ns_len, strlen(ns));
	assert_string_equal(t.name, name);
	assert_int_equal(t.name_len, strlen(name));
}

static void test_res_paths(void **state)
{
	static const struct { const char *path; int rc; } bad[] = {
		{ "/apisx", HC_ERR_NOTFOUND },
		{ "/api", HC_ERR_NOTFOUND },
		{ "/apis//", HC_ERR_NOTFOUND },
		{ "/apis/metrics.k8s.io/v1", HC_ERR_NOTFOUND },
		{ "/apis/metrics.k8s.io/v1beta1/services", HC_ERR_NOTFOUND },
		{ "/apis/metrics.k8s.io/v1beta1/nodes/a/b", HC_ERR_NOTFOUND },
		{ "/apis/metrics.k8s.io/v1beta1/pods/p", HC_ERR_NOTFOUND },
		{ "/apis/metrics.k8s.io/v1beta1/namespaces/ns", HC_ERR_NOTFOUND },
		{ "/apis/metrics.k8s.io/v1beta1/namespaces/ns/nodes", HC_ERR_NOTFOUND },
		{ "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/p/x", HC_ERR_NOTFOUND },
		{ "/apis/metrics.k8s.io/v1beta1/nodes//", HC_ERR_NOTFOUND },
		{ "/apis/metrics", HC_ERR_NOTFOUND },
		{ "/apis/metrics/v1alpha1", HC_ERR_NOTFOUND },
		{ "/apis/metrics/v1beta1/nodes", HC_ERR_NOTFOUND },
		{ "/apis/apps/v1/deployments", HC_ERR_NOTFOUND },
		{ "/apis/metrics.k8s.io/v1beta1/nodes/a%2Fb", HC_ERR_PARSE },
		{ "/apis/metrics.k8s.io/v1beta1/nodes/%zz", HC_ERR_PARSE },
	};
	char longp[600];
	struct api_res_target t;

	(void)state;
	expect_res("/apis", API_RES_GROUPS, 0, "", "");
	expect_res("/apis/", API_RES_GROUPS, 0, "", "");
	expect_res("/apis/metrics.k8s.io", API_RES_GROUP, 0, "", "");
	expect_res("/apis/metrics.k8s.io/", API_RES_GROUP, 0, "", "");
	expect_res("/apis/metrics.k8s.io/v1beta1", API_RES_RESOURCES, 0, "", "");
	expect_res("/apis/metrics.k8s.io/v1beta1/nodes", API_RES_NODES, 0, "", "");
	expect_res("/apis/metrics.k8s.io/v1beta1/nodes/", API_RES_NODES, 0, "", "");
	expect_res("/apis/metrics.k8s.io/v1beta1/nodes/node-1", API_RES_NODE, 0, "", "node-1");
	expect_res("/apis/metrics.k8s.io/v1beta1/pods", API_RES_PODS, 0, "", "");
	expect_res("/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods",
		   API_RES_PODS, 0, "kube-system", "");
	expect_res("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1",
		   API_RES_POD, 0, "default", "web-1");
	expect_res("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/a%2Eb/",
		   API_RES_POD, 0, "default", "a.b");
	expect_res("/apis/metrics/v1alpha1/nodes", API_RES_NODES, 1, "", "");
	expect_res("/apis/metrics/v1alpha1/nodes/n", API_RES_NODE, 1, "", "n");
	expect_res("/apis/metrics/v1alpha1/pods", API_RES_PODS, 1, "", "");
	expect_res("/apis/metrics/v1alpha1/namespaces/ns/pods/p", API_RES_POD, 1, "ns", "p");
	for (size_t i = 0; i < HC_ARRAY_LEN(bad); i++)
		assert_int_equal(api_res_parse(bad[i].path, strlen(bad[i].path), &t),
				 bad[i].rc);
	memcpy(longp, "/apis/metrics.k8s.io/v1beta1/nodes/", 35);
	memset(longp + 35, 'a', 300);
	longp[335] = '\0';
	assert_int_equal(api_res_parse(longp, strlen(longp), &t), HC_ERR_TOOBIG);
	longp[35 + 255] = '\0';
	assert_int_equal(api_res_parse(longp, strlen(longp), &t), 0);
	assert_int_equal(t.name_len, 255);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_quantity),
		cmocka_unit_test(test_mem_quantity),
		cmocka_unit_test(test_go_duration),
		cmocka_unit_test(test_klabels),
		cmocka_unit_test(test_selector_parse),
		cmocka_unit_test(test_selector_fields),
		cmocka_unit_test(test_selector_match),
		cmocka_unit_test(test_res_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
