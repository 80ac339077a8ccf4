/*
 * test_sink_kafka.c - the kafka sink: the exact JSON message of Heapster's
 * KafkaSinkPoint for hand-built batches (field order, sorted tags with the
 * empty ones, labeled values, Go's escaping, RFC 3339 times with a trimmed
 * fraction, NaN), one message per line in 1,000-message chunks, options,
 * and delivery to librdkafka's mock cluster in this process (every message
 * read back with a consumer), a message too large for Kafka (lost, counted,
 * not retried forever) and a closed port (nothing counts as sent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hc.h"
#include "metrics.h"
#include "sink.h"
#include "sink_kafka.h"
#include "uri.h"
#include "util_sink.h"

#define TS 1700000000500LL       /* 2023-11-14T22:13:20.5Z */

static const struct exp_sink_ops *ops = &sink_kafka_ops;

static void build_basic(struct hc_batch *b)
{
	struct hc_label fs[] = { { HC_L_RESOURCE_ID, "/" }, { HC_L_NODENAME, "from-value" } };
	uint32_t s;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	s = ut_add_set(b, "namespace:kube-system/pod:dns-1/container:dns");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_POD_CONTAINER);
	ut_label(b, s, HC_L_NAMESPACE_NAME, "kube-system");
	ut_label(b, s, HC_L_POD_NAME, "dns-1");
	ut_label(b, s, HC_L_CONTAINER_NAME, "dns");
	ut_label(b, s, HC_L_CONTAINER_IMAGE, "");
	ut_label(b, s, HC_L_LABELS, "a<b>&\"q\\\n");
	ut_label(b, s, HC_L_NODENAME, "node-1");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 123), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_PAGE_FAULTS_RATE, 0.5), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_NODE_UTILIZATION, NAN), 0);
	s = ut_add_set(b, "node:node-1");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_NODE);
	ut_label(b, s, HC_L_NODENAME, "node-1");
	assert_int_equal(hc_batch_add_labeled(b, s, HC_M_FS_USAGE, fs, 2, HC_INT, -4096, 0), 0);
}

#define CT "\"MetricsTimestamp\":\"2023-11-14T22:13:20.5Z\",\"MetricsTags\":{" \
	"\"container_base_image\":\"\",\"container_name\":\"dns\"," \
	"\"labels\":\"a\\u003cb\\u003e\\u0026\\\"q\\\\\\n\",\"namespace_name\":\"kube-system\"," \
	"\"nodename\":\"node-1\",\"pod_name\":\"dns-1\",\"type\":\"pod_container\"}}\n"
static const char basic_expected[] =
	"{\"MetricsName\":\"cpu/usage_rate\",\"MetricsValue\":{\"value\":123}," CT
	"{\"MetricsName\":\"memory/page_faults_rate\",\"MetricsValue\":{\"value\":0.5}," CT
	"{\"MetricsName\":\"filesystem/usage\",\"MetricsValue\":{\"value\":-4096},"
	"\"MetricsTimestamp\":\"2023-11-14T22:13:20.5Z\",\"MetricsTags\":{"
	"\"nodename\":\"from-value\",\"resource_id\":\"/\",\"type\":\"node\"}}\n";
#undef CT

static void test_format(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *txt;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	txt = ut_format_all(ops, "kafka:?brokers=127.0.0.1:9092", &b, &out, NULL);
	ut_assert_text(txt, basic_expected);
	assert_int_equal(out.points, 3);
	assert_int_equal(out.skipped, 1);
	assert_int_equal(out.nchunks, 1);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_times(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t s;
	char *txt;

	(void)st;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, 1700000000000LL);
	s = ut_add_set(&b, "cluster");
	assert_int_equal(hc_batch_add_int(&b, s, HC_M_MEM_USAGE, 1), 0);
	exp_out_init(&out);
	txt = ut_format_all(ops, "kafka:?brokers=h:1", &b, &out, NULL);
	ut_assert_text(txt, "{\"MetricsName\":\"memory/usage\",\"MetricsValue\":{\"value\":1},"
		    "\"MetricsTimestamp\":\"2023-11-14T22:13:20Z\",\"MetricsTags\":{}}\n");
	free(txt);
	b.ts_ms = 1700000000120LL;
	txt = ut_format_all(ops, "kafka:?brokers=h:1", &b, &out, NULL);
	assert_non_null(strstr(txt, "\"2023-11-14T22:13:20.12Z\""));
	free(txt);
	b.ts_ms = 1700000000007LL;
	txt = ut_format_all(ops, "kafka:?brokers=h:1", &b, &out, NULL);
	assert_non_null(strstr(txt, "\"2023-11-14T22:13:20.007Z\""));
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void build_big(struct hc_batch *b, uint32_t n)
{
	static char keys[100][16];
	uint32_t s = 0;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	for (uint32_t v = 0; v < n; v++) {
		if (v % 100 == 0) {
			snprintf(keys[v / 100], sizeof(keys[0]), "n%u", v / 100);
			s = ut_add_set(b, keys[v / 100]);
			ut_label(b, s, HC_L_NODENAME, keys[v / 100]);
		}
		assert_int_equal(hc_batch_add_int(b, s, HC_M_MEM_USAGE, v), 0);
	}
}

static void test_chunks(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t pos = 0;
	void *s;

	(void)st;
	build_big(&b, 2500);
	exp_out_init(&out);
	s = ut_sink_new(ops, "kafka:?brokers=h:1");
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(pos, 2500);
	assert_int_equal(out.nchunks, 3);
	assert_int_equal(out.chunk_points[0], SINK_KAFKA_CHUNK_MESSAGES);
	assert_int_equal(out.chunk_points[2], 500);
	assert_int_equal(ut_count_lines(out.buf.data, out.chunk_end[0]), 1000);
	assert_int_equal(ut_count_lines(out.buf.data, out.buf.len), 2500);
	ops->close(s);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_options(void **st)
{
	(void)st;
	assert_int_equal(ut_sink_init_rc(ops, "kafka:?brokers=a:1,b:2&timeseriestopic=t&compression=lz4&acks=1"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "kafka"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "kafka:?brokers=a:1&compression=brotli"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "kafka:?brokers=a:1&acks=2"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "kafka:?brokers=a:1&timeout=forever"), HC_ERR_CONFIG);
}

/* ---- transport ---------------------------------------------------------- */

/*
 * Reads up to `want` messages of topic t from every partition: gives up
 * after 10 s without a first message, or 1 s without a next one.
 */
/*
 * Reads topic t from the beginning into msgs until `expect` messages came
 * (or 30 s passed), then for 1 s more, to catch any extra (up to cap).
 * Deadlines, not idle counts: a loaded machine stalls a fetch for seconds.
 */
static uint32_t consume_all(const char *bootstrap, const char *t, char **msgs,
			    uint32_t expect, uint32_t cap)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *parts;
	int64_t deadline = hc_mono_ms() + 30000;
	int extra = 0;
	char err[256];
	uint32_t n = 0;
	rd_kafka_t *rk;

	assert_int_equal(rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err)), 0);
	assert_int_equal(rd_kafka_conf_set(c, "group.id", "test", err, sizeof(err)), 0);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
	assert_non_null(rk);
	parts = rd_kafka_topic_partition_list_new(4);
	for (int p = 0; p < 4; p++)
		rd_kafka_topic_partition_list_add(parts, t, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	assert_int_equal(rd_kafka_assign(rk, parts), 0);
	rd_kafka_topic_partition_list_destroy(parts);
	while (n < cap && hc_mono_ms() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (m != NULL) {
			if (!m->err)
				msgs[n++] = strndup(m->payload, m->len);
			rd_kafka_message_destroy(m);
		}
		if (n >= expect && !extra) {
			extra = 1;
			deadline = hc_mono_ms() + 1000;
		}
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_send_mock_cluster(void **st)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc;
	struct hc_batch b;
	struct exp_out out;
	char err[256], spec[256];
	char *got[2600], *want[2600];
	uint32_t pos = 0, n, k = 0;
	rd_kafka_t *host;
	void *s;

	(void)st;
	/* a client handle only to own the mock cluster */
	host = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	assert_non_null(host);
	mc = rd_kafka_mock_cluster_new(host, 1);
	assert_non_null(mc);
	assert_int_equal(rd_kafka_mock_topic_create(mc, "metrics", 4, 1), 0);
	build_big(&b, 2500);
	exp_out_init(&out);
	snprintf(spec, sizeof(spec), "kafka:?brokers=%s&timeseriestopic=metrics&compression=snappy",
		 rd_kafka_mock_cluster_bootstraps(mc));
	s = ut_sink_new(ops, spec);
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(ops->send(s, &out), 0);
	for (uint32_t i = 0; i < out.nchunks; i++)
		assert_int_equal(out.chunk_done[i], 1);
	/* every line arrived as one message */
	n = consume_all(rd_kafka_mock_cluster_bootstraps(mc), "metrics", got, 2500, 2501);
	assert_int_equal(n, 2500);
	for (const char *p = out.buf.data, *e = p + out.buf.len; p < e; k++) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));

		want[k] = strndup(p, (size_t)(nl - p));
		p = nl + 1;
	}
	assert_int_equal(k, 2500);
	qsort(got, n, sizeof(*got), cmp_str);
	qsort(want, k, sizeof(*want), cmp_str);
	for (uint32_t i = 0; i < n; i++) {
		assert_string_equal(got[i], want[i]);
		free(got[i]);
		free(want[i]);
	}
	ops->close(s);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(host);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_too_large_is_lost(void **st)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc;
	struct hc_batch b;
	struct exp_out out;
	char err[256], spec[256], *big;
	uint32_t pos = 0, set, n;
	char *got[4];
	rd_kafka_t *host;
	void *s;

	(void)st;
	host = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	assert_non_null(host);
	mc = rd_kafka_mock_cluster_new(host, 1);
	assert_non_null(mc);
	assert_int_equal(rd_kafka_mock_topic_create(mc, "metrics", 4, 1), 0);
	/* a label over librdkafka's message.max.bytes (1,000,000) */
	big = malloc(1200001);
	memset(big, 'x', 1200000);
	big[1200000] = '\0';
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, TS);
	set = ut_add_set(&b, "huge");
	ut_label(&b, set, HC_L_LABELS, big);
	assert_int_equal(hc_batch_add_int(&b, set, HC_M_MEM_USAGE, 1), 0);
	set = ut_add_set(&b, "fine");
	assert_int_equal(hc_batch_add_int(&b, set, HC_M_MEM_USAGE, 2), 0);
	exp_out_init(&out);
	snprintf(spec, sizeof(spec), "kafka:?brokers=%s&timeseriestopic=metrics",
		 rd_kafka_mock_cluster_bootstraps(mc));
	s = ut_sink_new(ops, spec);
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	/* refused for good: counted, not retried forever; the other one arrives */
	assert_int_equal(ops->send(s, &out), 0);
	assert_int_equal(out.chunk_done[0], 1);
	assert_int_equal(out.dropped, 1);
	n = consume_all(rd_kafka_mock_cluster_bootstraps(mc), "metrics", got, 1, 2);
	assert_int_equal(n, 1);
	assert_non_null(strstr(got[0], "\"value\":2}"));
	free(got[0]);
	ops->close(s);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(host);
	free(big);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_unreachable(void **st)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	struct hc_batch b;
	struct exp_out out;
	char spec[256];
	uint32_t pos = 0;
	int fd;
	void *s;

	(void)st;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	build_basic(&b);
	exp_out_init(&out);
	/* bound, never listening: every connection is refused */
	snprintf(spec, sizeof(spec), "kafka:?brokers=127.0.0.1:%d&timeout=1s", ntohs(a.sin_port));
	s = ut_sink_new(ops, spec);
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(ops->send(s, &out), HC_ERR_SINK);
	assert_int_equal(out.chunk_done[0], 0);
	ops->close(s);
	close(fd);
	exp_out_free(&out);
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_chunks),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_send_mock_cluster),
		cmocka_unit_test(test_send_too_large_is_lost),
		cmocka_unit_test(test_send_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
