/*
 * test_sink_opentsdb.c - the opentsdb sink: exact JSON for hand-built
 * batches (Heapster's metric names and kind suffixes, every label as a
 * sanitized tag, sorted, cluster tag winning, labeled metrics, NaN),
 * 1,000-point chunks as separate JSON arrays and ten-chunk windows, the
 * answer classifier, options, and the transport against a scripted HTTP
 * server on loopback (request line, headers, body, retry of only the
 * chunks not yet accepted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hc.h"
#include "metrics.h"
#include "sink.h"
#include "sink_opentsdb.h"
#include "uri.h"
#include "util_sink.h"

#define TS 1700000000000LL

static const struct exp_sink_ops *ops = &sink_opentsdb_ops;

static void build_basic(struct hc_batch *b)
{
	struct hc_label fs[] = { { HC_L_RESOURCE_ID, "/" }, { HC_L_NODENAME, "from value" } };
	uint32_t s, custom;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	s = ut_add_dns_container(b);
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 123), 0);
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE, 1000000), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_PAGE_FAULTS_RATE, 0.5), 0);

	s = ut_add_set(b, "node:node-1");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_NODE);
	ut_label(b, s, HC_L_NODENAME, "node-1");
	assert_int_equal(hc_batch_add_float(b, s, HC_M_CPU_NODE_UTILIZATION, NAN), 0);
	assert_int_equal(hc_batch_add_labeled(b, s, HC_M_FS_USAGE, fs, 2, HC_INT, 4096, 0), 0);
	assert_int_equal(hc_batch_name(b, "custom/\xc3\xb1 x", 11, HC_DELTA, &custom), 0);
	assert_int_equal(hc_batch_add_float(b, s, custom, 8e9), 0);

	s = ut_add_set(b, "cluster");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_CLUSTER);
	ut_label(b, s, "cluster", "not-this-one");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, -5), 0);
}

#define CTAGS "\"tags\":{\"cluster\":\"k8s-cluster\",\"container_name\":\"dns\"," \
	"\"host_id\":\"i-123\",\"hostname\":\"node-1.example\",\"labels\":\"app_dns_tier_web\"," \
	"\"namespace_id\":\"ns-uid\",\"namespace_name\":\"kube-system\",\"nodename\":\"node-1\"," \
	"\"pod_id\":\"pod-uid\",\"pod_name\":\"dns-1\",\"type\":\"pod_container\"}}"

static const char basic_expected[] =
	"[{\"metric\":\"cpu_usage_rate_gauge\",\"timestamp\":1700000000,\"value\":123," CTAGS
	",{\"metric\":\"cpu_usage_cumulative\",\"timestamp\":1700000000,\"value\":1000000," CTAGS
	",{\"metric\":\"memory_page_faults_rate_gauge\",\"timestamp\":1700000000,\"value\":0.5," CTAGS
	/* a labeled value: its labels win over the set's, '/' stays in tags */
	",{\"metric\":\"filesystem_usage_gauge\",\"timestamp\":1700000000,\"value\":4096,"
	"\"tags\":{\"cluster\":\"k8s-cluster\",\"nodename\":\"from_value\",\"resource_id\":\"/\","
	"\"type\":\"node\"}}"
	/* one non-ASCII character, one '_' */
	",{\"metric\":\"custom___x_delta\",\"timestamp\":1700000000,\"value\":8000000000,"
	"\"tags\":{\"cluster\":\"k8s-cluster\",\"nodename\":\"node-1\",\"type\":\"node\"}}"
	",{\"metric\":\"cpu_usage_rate_gauge\",\"timestamp\":1700000000,\"value\":-5,"
	"\"tags\":{\"cluster\":\"k8s-cluster\",\"type\":\"cluster\"}}]";

static void test_basic(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *txt;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	txt = ut_format_all(ops, "opentsdb:http://127.0.0.1:4242", &b, &out, NULL);
	ut_assert_text(txt, basic_expected);
	assert_int_equal(out.points, 6);
	assert_int_equal(out.skipped, 1);
	assert_int_equal(out.nchunks, 1);
	assert_int_equal(out.chunk_points[0], 6);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_cluster_option(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t s;
	char *txt;

	(void)st;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, TS);
	s = ut_add_set(&b, "cluster");
	assert_int_equal(hc_batch_add_int(&b, s, HC_M_MEM_USAGE, 1), 0);
	exp_out_init(&out);
	txt = ut_format_all(ops, "opentsdb:http://h:4242?cluster=prod%20eu", &b, &out, NULL);
	assert_string_equal(txt, "[{\"metric\":\"memory_usage_gauge\",\"timestamp\":1700000000,"
			    "\"value\":1,\"tags\":{\"cluster\":\"prod_eu\"}}]");
	free(txt);
	/* nothing at all: no chunk */
	hc_batch_reset(&b, TS);
	txt = ut_format_all(ops, "opentsdb", &b, &out, NULL);
	assert_string_equal(txt, "");
	assert_int_equal(out.nchunks, 0);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

/* n node values over sets of 250. */
static void build_big(struct hc_batch *b, uint32_t n)
{
	static char keys[200][32];
	uint32_t s = 0;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	for (uint32_t v = 0; v < n; v++) {
		if (v % 250 == 0) {
			snprintf(keys[v / 250], sizeof(keys[0]), "n%u", v / 250);
			s = ut_add_set(b, keys[v / 250]);
			ut_label(b, s, HC_L_NODENAME, keys[v / 250]);
		}
		assert_int_equal(hc_batch_add_int(b, s, HC_M_MEM_USAGE, v), 0);
	}
}

static uint32_t count(const char *p, size_t n, const char *what)
{
	uint32_t c = 0;
	size_t wl = strlen(what);

	for (size_t i = 0; i + wl <= n; i++)
		c += memcmp(p + i, what, wl) == 0;
	return c;
}

static void test_chunks_and_windows(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t pos = 0;
	void *s;

	(void)st;
	build_big(&b, 12345);
	exp_out_init(&out);
	s = ut_sink_new(ops, "opentsdb:http://h:4242");
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(pos, SINK_TSDB_WINDOW_CHUNKS * SINK_TSDB_CHUNK_POINTS);
	assert_int_equal(out.nchunks, SINK_TSDB_WINDOW_CHUNKS);
	for (uint32_t i = 0; i < out.nchunks; i++) {
		size_t a = exp_out_chunk_start(&out, i), e = out.chunk_end[i];

		assert_int_equal(out.chunk_points[i], 1000);
		assert_int_equal(out.buf.data[a], '[');
		assert_int_equal(out.buf.data[e - 1], ']');
		assert_int_equal(count(out.buf.data + a, e - a, "{\"metric\""), 1000);
	}
	assert_memory_equal(out.buf.data + exp_out_chunk_start(&out, 1),
			    "[{\"metric\":\"memory_usage_gauge\",\"timestamp\":1700000000,\"value\":1000,"
			    "\"tags\":{\"cluster\":\"k8s-cluster\",\"nodename\":\"n4\"}},{", 119);
	exp_out_reset(&out);
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(pos, 12345);
	assert_int_equal(out.nchunks, 3);
	assert_int_equal(out.chunk_points[2], 345);
	ops->close(s);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_options(void **st)
{
	(void)st;
	assert_int_equal(ut_sink_init_rc(ops, "opentsdb"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "opentsdb:tsdb:4242?concurrency=4"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "opentsdb:http://h?concurrency=0"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "opentsdb:http://h?cluster="), HC_ERR_CONFIG);
}

static void test_judge(void **st)
{
	uint64_t d;

	(void)st;
	assert_int_equal(sink_opentsdb_judge(204, "", 10, &d), EXP_HTTP_OK);
	assert_int_equal(d, 0);
	assert_int_equal(sink_opentsdb_judge(200, "{\"failed\":0,\"success\":10}", 10, &d), EXP_HTTP_OK);
	assert_int_equal(d, 0);
	/* some points refused: the others were written */
	assert_int_equal(sink_opentsdb_judge(400, "{\"failed\":3,\"success\":7}", 10, &d), EXP_HTTP_OK);
	assert_int_equal(d, 3);
	assert_int_equal(sink_opentsdb_judge(400, "{\"error\":{\"message\":\"bad json\"}}", 10, &d),
			 EXP_HTTP_REJECTED);
	assert_int_equal(sink_opentsdb_judge(413, "", 10, &d), EXP_HTTP_REJECTED);
	assert_int_equal(sink_opentsdb_judge(500, "", 10, &d), EXP_HTTP_RETRY);
	assert_int_equal(sink_opentsdb_judge(503, "{\"failed\":10}", 10, &d), EXP_HTTP_RETRY);
	assert_int_equal(d, 0);
	assert_int_equal(sink_opentsdb_judge(404, "", 10, &d), EXP_HTTP_RETRY);
}

/* ---- transport, against a scripted HTTP server ------------------------- */

static void *fake_sink(const struct ut_fake_srv *f, const char *opts)
{
	return ut_fake_sink(ops, f, "opentsdb", "/", opts);
}

static void test_send(void **st)
{
	struct ut_fake_srv f;
	struct hc_batch b;
	struct exp_out out;
	uint32_t pos = 0;
	void *s;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	ut_fake_start(&f, NULL, "unscripted");
	ut_fake_script(&f, 400, "{\"failed\":2,\"success\":4}");
	s = fake_sink(&f, "");
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(ops->send(s, &out), 0);
	assert_int_equal(out.chunk_done[0], 1);
	assert_int_equal(out.dropped, 2);
	assert_int_equal(f.nreq, 1);
	assert_memory_equal(f.req[0].head, "POST /api/put?summary HTTP/1.1\r\n", 32);
	assert_non_null(strcasestr(f.req[0].head, "\r\nContent-Type: application/json\r\n"));
	ut_assert_text(f.req[0].body, basic_expected);
	ops->close(s);
	ut_fake_stop(&f);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_retries_only_missing_chunks(void **st)
{
	struct ut_fake_srv f;
	struct hc_batch b;
	struct exp_out out;
	uint32_t pos = 0;
	void *s;

	(void)st;
	build_big(&b, 2500);
	exp_out_init(&out);
	ut_fake_start(&f, NULL, "unscripted");
	ut_fake_script(&f, 204, "");
	ut_fake_script(&f, 503, "busy");
	ut_fake_script(&f, 200, "{\"failed\":0,\"success\":500}");
	ut_fake_script(&f, 204, "");
	s = fake_sink(&f, "?concurrency=2");
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(out.nchunks, 3);
	assert_int_equal(ops->send(s, &out), HC_ERR_HTTP);
	assert_int_equal(f.nreq, 3);
	assert_int_equal(out.chunk_done[0] + out.chunk_done[1] + out.chunk_done[2], 2);
	assert_int_equal(ops->send(s, &out), 0);
	assert_int_equal(f.nreq, 4);
	assert_int_equal(out.chunk_done[0] + out.chunk_done[1] + out.chunk_done[2], 3);
	/* the retried body is the refused one, byte for byte */
	{
		int refused = -1;

		for (int i = 0; i < 3; i++)
			if (f.status[i] == 503)
				refused = i;
		assert_int_equal(f.req[3].body_len, f.req[refused].body_len);
		assert_memory_equal(f.req[3].body, f.req[refused].body, f.req[3].body_len);
	}
	ops->close(s);
	ut_fake_stop(&f);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_unreachable(void **st)
{
	struct ut_fake_srv f;
	struct hc_batch b;
	struct exp_out out;
	uint32_t pos = 0;
	void *s;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	ut_fake_start(&f, NULL, "unscripted");
	ut_fake_stop(&f);
	s = fake_sink(&f, "");
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(ops->send(s, &out), -ECONNREFUSED);
	assert_int_equal(out.chunk_done[0], 0);
	ops->close(s);
	exp_out_free(&out);
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_cluster_option),
		cmocka_unit_test(test_chunks_and_windows),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_send_retries_only_missing_chunks),
		cmocka_unit_test(test_send_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
