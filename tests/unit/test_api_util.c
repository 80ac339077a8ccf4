/*
 * test_api_util.c - the API server's pure functions (apiserver/api_util.c):
 * percent-decoding, query arguments, ?labels=, the model path grammar, and
 * number and string formatting.  api_util.c has no Kore dependency, so it
 * is compiled into this test directly.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api_util.h"
#include "hc.h"

static void test_pct_decode(void **state)
{
	char buf[16];
	size_t n;

	(void)state;
	assert_int_equal(api_pct_decode("cpu%2Fusage", 11, buf, sizeof(buf), &n), 0);
	assert_string_equal(buf, "cpu/usage");
	assert_int_equal(n, 9);
	assert_int_equal(api_pct_decode("a+b%3a", 6, buf, sizeof(buf), &n), 0);
	assert_string_equal(buf, "a+b:");
	assert_int_equal(api_pct_decode("%2", 2, buf, sizeof(buf), &n), HC_ERR_PARSE);
	assert_int_equal(api_pct_decode("%", 1, buf, sizeof(buf), &n), HC_ERR_PARSE);
	assert_int_equal(api_pct_decode("%zz", 3, buf, sizeof(buf), &n), HC_ERR_PARSE);
	assert_int_equal(api_pct_decode("%00", 3, buf, sizeof(buf), &n), HC_ERR_PARSE);
	assert_int_equal(api_pct_decode("a\nb", 3, buf, sizeof(buf), &n), HC_ERR_PARSE);
	assert_int_equal(api_pct_decode("0123456789abcdef", 16, buf, sizeof(buf), &n),
			 HC_ERR_TOOBIG);
	assert_int_equal(api_pct_decode("0123456789abcde", 15, buf, sizeof(buf), &n), 0);
	assert_int_equal(api_pct_decode("", 0, buf, sizeof(buf), &n), 0);
	assert_string_equal(buf, "");
}

static void test_query_get(void **state)
{
	const char *qs = "starts=x&start=2026-01-01T00%3A00%3A00Z&end&labels=a:b";
	char buf[64];
	size_t n;

	(void)state;
	assert_int_equal(api_query_get(qs, "start", buf, sizeof(buf), &n), 0);
	assert_string_equal(buf, "2026-01-01T00:00:00Z");
	assert_int_equal(api_query_get(qs, "starts", buf, sizeof(buf), &n), 0);
	assert_string_equal(buf, "x");
	assert_int_equal(api_query_get(qs, "end", buf, sizeof(buf), &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(api_query_get(qs, "labels", buf, sizeof(buf), &n), 0);
	assert_string_equal(buf, "a:b");
	assert_int_equal(api_query_get(qs, "sta", buf, sizeof(buf), &n), HC_ERR_NOTFOUND);
	assert_int_equal(api_query_get(NULL, "start", buf, sizeof(buf), &n),
			 HC_ERR_NOTFOUND);
	assert_int_equal(api_query_get("", "start", buf, sizeof(buf), &n),
			 HC_ERR_NOTFOUND);
	assert_int_equal(api_query_get("start=%zz", "start", buf, sizeof(buf), &n),
			 HC_ERR_PARSE);
}

static void test_labels_parse(void **state)
{
	struct hc_label l[2];
	char s1[] = "resource_id:/,make:nvidia:x", s2[] = "", s3[] = "a:1,b",
	     s4[] = ":v", s5[] = "a:1,b:2,c:3";
	uint32_t n;

	(void)state;
	assert_int_equal(api_labels_parse(s1, l, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].key, "resource_id");
	assert_string_equal(l[0].value, "/");
	assert_string_equal(l[1].key, "make");
	assert_string_equal(l[1].value, "nvidia:x");
	assert_int_equal(api_labels_parse(s2, l, 2, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(api_labels_parse(s3, l, 2, &n), HC_ERR_PARSE);
	assert_int_equal(api_labels_parse(s4, l, 2, &n), HC_ERR_PARSE);
	assert_int_equal(api_labels_parse(s5, l, 2, &n), HC_ERR_TOOBIG);
}

/* Parses p and checks op, key, prefix and metric ("" = not checked empty). */
static void expect_route(const char *p, enum api_op op, const char *key,
			 const char *prefix, const char *metric)
{
	struct api_target t;

	assert_int_equal(api_model_parse(p, strlen(p), &t), 0);
	assert_int_equal(t.op, op);
	assert_string_equal(t.key, key);
	assert_int_equal(t.key_len, strlen(key));
	assert_string_equal(t.prefix, prefix);
	assert_int_equal(t.prefix_len, strlen(prefix));
	assert_string_equal(t.metric, metric);
}

static void test_model_routes(void **state)
{
	(void)state;
	expect_route("/metrics/", API_OP_NAMES, "cluster", "", "");
	expect_route("/metrics", API_OP_NAMES, "cluster", "", "");
	expect_route("/metrics/cpu-usage", API_OP_SERIES, "cluster", "", "cpu-usage");
	expect_route("/nodes/", API_OP_LIST, "", "node:", "");
	expect_route("/nodes", API_OP_LIST, "", "node:", "");
	expect_route("/nodes/n1/metrics/", API_OP_NAMES, "node:n1", "", "");
	expect_route("/nodes/n1/metrics/cpu/usage_rate", API_OP_SERIES, "node:n1",
		     "", "cpu/usage_rate");
	expect_route("/nodes/n1/metrics/cpu%2Fusage_rate/", API_OP_SERIES, "node:n1",
		     "", "cpu/usage_rate");
	expect_route("/nodes/n1/freecontainers/", API_OP_LIST, "node:n1",
		     "node:n1/container:", "");
	expect_route("/nodes/n1/freecontainers/kubelet/metrics/memory/usage",
		     API_OP_SERIES, "node:n1/container:kubelet", "", "memory/usage");
	expect_route("/namespaces/", API_OP_LIST, "", "namespace:", "");
	expect_route("/namespaces/kube-system/metrics", API_OP_NAMES,
		     "namespace:kube-system", "", "");
	expect_route("/namespaces/ns/pods/", API_OP_LIST, "namespace:ns",
		     "namespace:ns/pod:", "");
	/* workloads */
	expect_route("/namespaces/ns/deployments/", API_OP_LIST, "namespace:ns",
		     "namespace:ns/deployment:", "");
	expect_route("/namespaces/ns/deployments/web/metrics/cpu/usage_rate", API_OP_SERIES,
		     "namespace:ns/deployment:web", "", "cpu/usage_rate");
	expect_route("/namespaces/ns/cronjobs/nightly/metrics", API_OP_NAMES,
		     "namespace:ns/cronjob:nightly", "", "");
	expect_route("/namespaces/ns/replicationcontrollers/rc/metrics/pod_count",
		     API_OP_SERIES, "namespace:ns/replicationcontroller:rc", "", "pod_count");
	expect_route("/namespaces/ns/pods/p/metrics/cpu-usage", API_OP_SERIES,
		     "namespace:ns/pod:p", "", "cpu-usage");
	expect_route("/namespaces/ns/pods/p/containers", API_OP_LIST,
		     "namespace:ns/pod:p", "namespace:ns/pod:p/container:", "");
	expect_route("/namespaces/ns/pods/p/containers/c/metrics", API_OP_NAMES,
		     "namespace:ns/pod:p/container:c", "", "");
	expect_route("/namespaces/ns/pods/p/containers/c/metrics/custom/a/b",
		     API_OP_SERIES, "namespace:ns/pod:p/container:c", "", "custom/a/b");
	expect_route("/debug/allkeys", API_OP_ALLKEYS, "cluster", "", "");
}

static void test_model_podlist(void **state)
{
	const char *p = "/namespaces/ns/pod-list/a,b%2Cc/metrics/cpu-usage";
	struct api_target t;

	(void)state;
	assert_int_equal(api_model_parse(p, strlen(p), &t), 0);
	assert_int_equal(t.op, API_OP_PODLIST);
	assert_string_equal(t.key, "namespace:ns");
	assert_string_equal(t.pods, "a,b,c");
	assert_string_equal(t.metric, "cpu-usage");
}

static void test_model_bad(void **state)
{
	static const struct { const char *path; int rc; } cases[] = {
		{ "", HC_ERR_NOTFOUND },
		{ "/", HC_ERR_NOTFOUND },
		{ "nodes/", HC_ERR_NOTFOUND },
		{ "/nodes/n1", HC_ERR_NOTFOUND },
		{ "/nodes//metrics", HC_ERR_NOTFOUND },
		{ "/bogus", HC_ERR_NOTFOUND },
		{ "/nodes/n1/pods/", HC_ERR_NOTFOUND },
		{ "/namespaces/ns/freecontainers/", HC_ERR_NOTFOUND },
		{ "/nodes/n1/pod-list/a/metrics/m", HC_ERR_NOTFOUND },
		{ "/namespaces/ns/pod-list/a/metrics", HC_ERR_NOTFOUND },
		{ "/namespaces/ns/pod-list/a/x/m", HC_ERR_NOTFOUND },
		{ "/debug/allkeys/x", HC_ERR_NOTFOUND },
		{ "/nodes/a%2Fb/metrics", HC_ERR_PARSE },
		{ "/nodes/%zz/metrics", HC_ERR_PARSE },
		{ "/nodes/n1/metrics/%", HC_ERR_PARSE },
	};
	char longp[3000];
	struct api_target t;

	(void)state;
	for (size_t i = 0; i < HC_ARRAY_LEN(cases); i++)
		assert_int_equal(api_model_parse(cases[i].path, strlen(cases[i].path),
						 &t), cases[i].rc);
	/* a name longer than a key */
	memcpy(longp, "/nodes/", 7);
	memset(longp + 7, 'a', 700);
	memcpy(longp + 707, "/metrics", 9);
	assert_int_equal(api_model_parse(longp, strlen(longp), &t), HC_ERR_TOOBIG);
	/* more segments than the parser keeps */
	for (int i = 0; i < 100; i++)
		memcpy(longp + 2 * i, "/x", 2);
	longp[200] = '\0';
	assert_int_equal(api_model_parse(longp, strlen(longp), &t), HC_ERR_TOOBIG);
}

static void test_numbers(void **state)
{
	char buf[32];

	(void)state;
	api_fmt_int(0, buf);
	assert_string_equal(buf, "0");
	api_fmt_int(-42, buf);
	assert_string_equal(buf, "-42");
	api_fmt_int(INT64_MIN, buf);
	assert_string_equal(buf, "-9223372036854775808");
	api_fmt_int(INT64_MAX, buf);
	assert_string_equal(buf, "9223372036854775807");

	assert_int_equal(api_fmt_double(0.1, buf), 3);
	assert_string_equal(buf, "0.1");
	api_fmt_double(1.0 / 3.0, buf);
	assert_true(strtod(buf, NULL) == 1.0 / 3.0);
	api_fmt_double(1235.5, buf);
	assert_string_equal(buf, "1235.5");
	api_fmt_double(1e21, buf);
	assert_string_equal(buf, "1e+21");
	api_fmt_double(NAN, buf);
	assert_string_equal(buf, "null");
	api_fmt_double(-INFINITY, buf);
	assert_string_equal(buf, "null");

	assert_int_equal(api_float_to_int(-1.9), -1);
	assert_int_equal(api_float_to_int(0.123), 0);
	assert_int_equal(api_float_to_int(NAN), 0);
	assert_true(api_float_to_int(1e30) == INT64_MAX);
	assert_true(api_float_to_int(-1e30) == INT64_MIN);
}

static void test_fmt_time(void **state)
{
	char a[32], b[32];
	int64_t ms = -62167219200000LL;   /* 0000-01-01T00:00:00Z */

	(void)state;
	assert_int_equal(api_fmt_time(0, a), 20);
	assert_string_equal(a, "1970-01-01T00:00:00Z");
	api_fmt_time(-1, a);
	assert_string_equal(a, "1969-12-31T23:59:59Z");
	api_fmt_time(1795567680999LL, a);
	assert_string_equal(a, "2026-11-25T00:48:00Z");
	api_fmt_time(951782400000LL, a);
	assert_string_equal(a, "2000-02-29T00:00:00Z");
	assert_int_equal(api_fmt_time(253402300800000LL, a), 0);   /* year 10000 */
	assert_int_equal(api_fmt_time(ms - 1000, a), 0);
	api_fmt_time(ms, a);
	assert_string_equal(a, "0000-01-01T00:00:00Z");
	/* agrees with hc_time_format() from year 1000 (strftime does not pad
	 * smaller years) to 9999, in odd steps */
	for (ms = -30610224000000LL; ms < 253402300800000LL; ms += 86400000LL * 37 + 3723456) {
		assert_int_equal(api_fmt_time(ms, a), 20);
		hc_time_format(ms, b);
		assert_string_equal(a, b);
	}
}

static void test_json_escape(void **state)
{
	char out[6 * 8];
	size_t n;

	(void)state;
	n = api_json_escape("a\"b\\c\n\x01", 7, out);
	out[n] = '\0';
	assert_string_equal(out, "a\\\"b\\\\c\\n\\u0001");
	n = api_json_escape("caf\xc3\xa9", 5, out);
	assert_int_equal(n, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_query_get),
		cmocka_unit_test(test_labels_parse),
		cmocka_unit_test(test_model_routes),
		cmocka_unit_test(test_model_podlist),
		cmocka_unit_test(test_model_bad),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_fmt_time),
		cmocka_unit_test(test_json_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
