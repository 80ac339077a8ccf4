/*
 * test_sink_influxdb.c - the InfluxDB sink: exact line protocol for
 * hand-built batches (Heapster's schema, escaping, excluded and empty tags,
 * labeled metrics, withfields, disable_counter_metrics, int vs float,
 * 10,000-point chunks, resumable windows), the answer classifier, and the
 * transport against a scripted HTTP server on loopback (database creation,
 * partial writes, retries of only the chunks not yet accepted).
 *
 * Expected strings are written by hand: if the output changes by one byte,
 * a test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
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
#include "sink_influxdb.h"
#include "uri.h"
#include "util_sink.h"

#define TS 1700000000000LL

static const struct exp_sink_ops *ops = &sink_influxdb_ops;

/* ---- helpers ------------------------------------------------------------ */

/*
 * The reference batch: a container with every kind of label Heapster set
 * (four excluded, one empty), a node with float metrics and a labeled
 * filesystem metric, and the cluster.
 */
static void build_basic(struct hc_batch *b)
{
	struct hc_label fs[] = { { HC_L_RESOURCE_ID, "/" } };
	uint32_t c, n, cl;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	c = ut_add_dns_container(b);
	assert_int_equal(hc_batch_add_int(b, c, HC_M_CPU_USAGE_RATE, 123), 0);
	assert_int_equal(hc_batch_add_int(b, c, HC_M_MEM_USAGE, 456), 0);
	assert_int_equal(hc_batch_add_float(b, c, HC_M_MEM_PAGE_FAULTS_RATE, 0.5), 0);
	assert_int_equal(hc_batch_add_int(b, c, HC_M_CPU_USAGE, 1000000), 0);
	assert_int_equal(hc_batch_add_int(b, c, HC_M_UPTIME, 5000), 0);

	n = ut_add_set(b, "node:node-1");
	ut_label(b, n, HC_L_TYPE, HC_TYPE_NODE);
	ut_label(b, n, HC_L_NODENAME, "node-1");
	ut_label(b, n, HC_L_HOSTNAME, "node-1.example");
	ut_label(b, n, HC_L_HOST_ID, "i-123");
	assert_int_equal(hc_batch_add_float(b, n, HC_M_CPU_NODE_UTILIZATION, 0.25), 0);
	assert_int_equal(hc_batch_add_float(b, n, HC_M_MEM_NODE_CAPACITY, 8e9), 0);
	assert_int_equal(hc_batch_add_labeled(b, n, HC_M_FS_USAGE, fs, 1, HC_INT, 4096, 0), 0);
	assert_int_equal(hc_batch_add_int(b, n, HC_M_NET_RX, 777), 0);
	assert_int_equal(hc_batch_add_float(b, n, HC_M_NET_RX_RATE, 12.5), 0);

	cl = ut_add_set(b, "cluster");
	ut_label(b, cl, HC_L_TYPE, HC_TYPE_CLUSTER);
	assert_int_equal(hc_batch_add_int(b, cl, HC_M_CPU_USAGE_RATE, 2000), 0);
}

#define C_TAGS ",cluster_name=default,container_name=dns,labels=app:dns\\,tier:web," \
	       "namespace_name=kube-system,nodename=node-1,pod_name=dns-1,type=pod_container"
#define N_TAGS ",cluster_name=default,nodename=node-1,type=node"

static const char basic_expected[] =
	"cpu/usage_rate" C_TAGS " value=123i 1700000000000\n"
	"memory/usage" C_TAGS " value=456i 1700000000000\n"
	"memory/page_faults_rate" C_TAGS " value=0.5 1700000000000\n"
	"cpu/usage" C_TAGS " value=1000000i 1700000000000\n"
	"uptime" C_TAGS " value=5000i 1700000000000\n"
	"cpu/node_utilization" N_TAGS " value=0.25 1700000000000\n"
	"memory/node_capacity" N_TAGS " value=8000000000 1700000000000\n"
	"filesystem/usage,cluster_name=default,nodename=node-1,resource_id=/,type=node value=4096i 1700000000000\n"
	"network/rx" N_TAGS " value=777i 1700000000000\n"
	"network/rx_rate" N_TAGS " value=12.5 1700000000000\n"
	"cpu/usage_rate,cluster_name=default,type=cluster value=2000i 1700000000000\n";

/* ---- format ------------------------------------------------------------- */

static void test_basic(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *txt;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	txt = ut_format_all(ops, "influxdb:http://127.0.0.1:8086", &b, &out, NULL);
	assert_string_equal(txt, basic_expected);
	assert_int_equal(out.points, 11);
	assert_int_equal(out.nchunks, 1);
	assert_int_equal(out.chunk_points[0], 11);
	assert_int_equal(out.chunk_end[0], strlen(basic_expected));
	assert_int_equal(out.filtered, 0);
	assert_int_equal(out.skipped, 0);
	free(txt);

	/* a grouped batch formats the same; so does a second run of one state */
	assert_int_equal(hc_batch_group(&b), 0);
	txt = ut_format_all(ops, "influxdb:http://127.0.0.1:8086", &b, &out, NULL);
	assert_string_equal(txt, basic_expected);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_withfields(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t s;
	char *txt;
	static const char want[] =
		"cpu" C_TAGS " usage_rate=123i 1700000000000\n"
		"memory" C_TAGS " usage=456i 1700000000000\n"
		"memory" C_TAGS " page_faults_rate=0.5 1700000000000\n"
		"cpu" C_TAGS " usage=1000000i 1700000000000\n"
		"uptime" C_TAGS " value=5000i 1700000000000\n"
		"cpu" N_TAGS " node_utilization=0.25 1700000000000\n"
		"memory" N_TAGS " node_capacity=8000000000 1700000000000\n"
		"filesystem,cluster_name=default,nodename=node-1,resource_id=/,type=node usage=4096i 1700000000000\n"
		"network" N_TAGS " rx=777i 1700000000000\n"
		"network" N_TAGS " rx_rate=12.5 1700000000000\n"
		"cpu,cluster_name=default,type=cluster usage_rate=2000i 1700000000000\n"
		/* only the first '/' splits; the field key is escaped as a tag key */
		"custom,cluster_name=default,type=cluster a\\ b/c\\=d=1.5 1700000000000\n";

	(void)st;
	build_basic(&b);
	s = ut_add_set(&b, "cluster");
	assert_int_equal(hc_batch_add_float(&b, s, ut_custom_name(&b, "custom/a b/c=d"), 1.5), 0);
	exp_out_init(&out);
	txt = ut_format_all(ops, "influxdb:http://h:8086?withfields=true", &b, &out, NULL);
	assert_string_equal(txt, want);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_disable_counter_metrics(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *txt;
	static const char want[] =
		"cpu/usage_rate" C_TAGS " value=123i 1700000000000\n"
		"memory/usage" C_TAGS " value=456i 1700000000000\n"
		"memory/page_faults_rate" C_TAGS " value=0.5 1700000000000\n"
		/* cpu/usage is gone; uptime, cumulative but not a rated counter, stays */
		"uptime" C_TAGS " value=5000i 1700000000000\n"
		"cpu/node_utilization" N_TAGS " value=0.25 1700000000000\n"
		"memory/node_capacity" N_TAGS " value=8000000000 1700000000000\n"
		"filesystem/usage,cluster_name=default,nodename=node-1,resource_id=/,type=node value=4096i 1700000000000\n"
		/* network/rx is gone, its rate stays */
		"network/rx_rate" N_TAGS " value=12.5 1700000000000\n"
		"cpu/usage_rate,cluster_name=default,type=cluster value=2000i 1700000000000\n";

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	txt = ut_format_all(ops, "influxdb:http://h:8086?disable_counter_metrics=true", &b, &out, NULL);
	assert_string_equal(txt, want);
	assert_int_equal(out.filtered, 2);
	assert_int_equal(out.points, 9);
	free(txt);
	txt = ut_format_all(ops, "influxdb:http://h:8086?disable_counter_metrics=false", &b, &out, NULL);
	assert_string_equal(txt, basic_expected);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_escaping(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t s;
	char *txt;
	static const char want[] =
		"custom/my\\ metric\\,x=1"
		",back=ends,cluster_name=my\\ cluster,in\\side=a\\\\,b,namespace_name=a\\ b,nl=two\\nlines"
		",pod_name=c\\,d\\=e,type=pod,weird\\ key\\=x=v value=1.5 1700000000000\n";

	(void)st;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, TS);
	s = ut_add_set(&b, "namespace:a b/pod:c,d=e");
	ut_label(&b, s, HC_L_TYPE, HC_TYPE_POD);
	ut_label(&b, s, HC_L_NAMESPACE_NAME, "a b");
	ut_label(&b, s, HC_L_POD_NAME, "c,d=e");
	ut_label(&b, s, "weird key=x", "v");
	ut_label(&b, s, "back", "ends\\\\");    /* trailing backslashes: dropped */
	ut_label(&b, s, "in\\side", "a\\,b");
	ut_label(&b, s, "nl", "two\nlines");
	ut_label(&b, s, "cluster_name", "replaced-by-the-option");
	ut_label(&b, s, "", "empty-key");
	assert_int_equal(hc_batch_add_float(&b, s, ut_custom_name(&b, "custom/my metric,x=1"), 1.5), 0);
	exp_out_init(&out);
	txt = ut_format_all(ops, "influxdb:http://h:8086?cluster_name=my%20cluster", &b, &out, NULL);
	assert_string_equal(txt, want);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_cluster_name(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t s;
	char *txt;

	(void)st;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, TS);
	s = ut_add_set(&b, "cluster");
	assert_int_equal(hc_batch_add_int(&b, s, HC_M_CPU_USAGE_RATE, 1), 0);
	exp_out_init(&out);
	/* an empty cluster_name is an empty tag: left out, as every empty tag */
	txt = ut_format_all(ops, "influxdb:http://h:8086?cluster_name=", &b, &out, NULL);
	assert_string_equal(txt, "cpu/usage_rate value=1i 1700000000000\n");
	free(txt);
	txt = ut_format_all(ops, "influxdb:http://h:8086?cluster_name=prod", &b, &out, NULL);
	assert_string_equal(txt, "cpu/usage_rate,cluster_name=prod value=1i 1700000000000\n");
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_labeled(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t s;
	char *txt;
	struct hc_label vol[] = {
		{ HC_L_RESOURCE_ID, "Volume:data" },
		{ HC_L_POD_ID, "excluded-here-too" },
		{ "zone", "" },                          /* empty: skipped */
		{ HC_L_CONTAINER_NAME, "from-value" },   /* replaces the set's */
	};
	struct hc_label acc[] = {
		{ "make", "nvidia" }, { "model", "tesla p100" }, { "accelerator_id", "gpu-0" },
	};
	static const char want[] =
		"filesystem/usage,cluster_name=default,container_name=from-value,namespace_name=ns,"
		"resource_id=Volume:data,type=pod_container value=10i 1700000000000\n"
		"accelerator/duty_cycle,accelerator_id=gpu-0,cluster_name=default,container_name=c,"
		"make=nvidia,model=tesla\\ p100,namespace_name=ns,type=pod_container value=70i 1700000000000\n"
		/* the plain value after them has the set's own tags again */
		"memory/usage,cluster_name=default,container_name=c,namespace_name=ns,"
		"type=pod_container value=1i 1700000000000\n";

	(void)st;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, TS);
	s = ut_add_set(&b, "namespace:ns/pod:p/container:c");
	ut_label(&b, s, HC_L_TYPE, HC_TYPE_POD_CONTAINER);
	ut_label(&b, s, HC_L_NAMESPACE_NAME, "ns");
	ut_label(&b, s, HC_L_CONTAINER_NAME, "c");
	assert_int_equal(hc_batch_add_labeled(&b, s, HC_M_FS_USAGE, vol, 4, HC_INT, 10, 0), 0);
	assert_int_equal(hc_batch_add_labeled(&b, s, HC_M_ACC_DUTY_CYCLE, acc, 3, HC_INT, 70, 0), 0);
	assert_int_equal(hc_batch_add_int(&b, s, HC_M_MEM_USAGE, 1), 0);
	exp_out_init(&out);
	txt = ut_format_all(ops, "influxdb:http://h:8086", &b, &out, NULL);
	assert_string_equal(txt, want);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_int_float(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t s;
	char *txt;
	static const char want[] =
		"restart_count,cluster_name=default value=-3i 1700000000000\n"
		"cpu/usage_rate,cluster_name=default value=9223372036854775807i 1700000000000\n"
		"memory/usage,cluster_name=default value=-9223372036854775808i 1700000000000\n"
		"memory/node_capacity,cluster_name=default value=1e+20 1700000000000\n"
		"custom/tiny,cluster_name=default value=1e-07 1700000000000\n"
		"custom/third,cluster_name=default value=0.333333333333333 1700000000000\n"
		"cpu/node_reservation,cluster_name=default value=0 1700000000000\n"
		"custom/int_as_float,cluster_name=default value=42 1700000000000\n";

	(void)st;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, TS);
	s = ut_add_set(&b, "cluster");
	assert_int_equal(hc_batch_add_int(&b, s, HC_M_RESTART_COUNT, -3), 0);
	assert_int_equal(hc_batch_add_int(&b, s, HC_M_CPU_USAGE_RATE, INT64_MAX), 0);
	assert_int_equal(hc_batch_add_int(&b, s, HC_M_MEM_USAGE, INT64_MIN), 0);
	assert_int_equal(hc_batch_add_float(&b, s, HC_M_CPU_NODE_UTILIZATION, NAN), 0);
	assert_int_equal(hc_batch_add_float(&b, s, HC_M_MEM_NODE_CAPACITY, 1e20), 0);
	assert_int_equal(hc_batch_add_float(&b, s, HC_M_MEM_NODE_UTILIZATION, INFINITY), 0);
	assert_int_equal(hc_batch_add_float(&b, s, ut_custom_name(&b, "custom/tiny"), 1e-7), 0);
	assert_int_equal(hc_batch_add_float(&b, s, ut_custom_name(&b, "custom/third"), 1.0 / 3), 0);
	assert_int_equal(hc_batch_add_float(&b, s, HC_M_CPU_NODE_RESERVATION, 0.0), 0);
	assert_int_equal(hc_batch_add_float(&b, s, ut_custom_name(&b, "custom/int_as_float"), 42.0), 0);
	exp_out_init(&out);
	txt = ut_format_all(ops, "influxdb:http://h:8086", &b, &out, NULL);
	assert_string_equal(txt, want);
	assert_int_equal(out.skipped, 2);      /* NaN and infinity */
	assert_int_equal(out.points, 8);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_empty(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	void *s = ut_sink_new(ops, "influxdb:http://h:8086");
	uint32_t pos = 0;

	(void)st;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, TS);
	ut_add_set(&b, "cluster");               /* a set without values */
	exp_out_init(&out);
	assert_int_equal(sink_influxdb_ops.format(s, &b, &pos, &out), 0);
	assert_int_equal(pos, 0);
	assert_int_equal(out.buf.len, 0);
	assert_int_equal(out.nchunks, 0);
	/* nothing to send is a success */
	assert_int_equal(sink_influxdb_ops.send(s, &out), 0);
	exp_out_free(&out);
	sink_influxdb_ops.close(s);
	hc_batch_free(&b);
}

/* 25,001 points over 101 sets: "memory/usage,cluster_name=default,nodename=nK,type=node value=Vi TS" */
static void build_big(struct hc_batch *b)
{
	static char keys[101][32];
	uint32_t v = 0;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	for (int k = 0; k < 101; k++) {
		uint32_t s;

		snprintf(keys[k], sizeof(keys[k]), "n%d", k);
		s = ut_add_set(b, keys[k]);
		ut_label(b, s, HC_L_TYPE, HC_TYPE_NODE);
		ut_label(b, s, HC_L_NODENAME, keys[k]);
		for (int i = 0; i < (k < 100 ? 250 : 1); i++)
			assert_int_equal(hc_batch_add_int(b, s, HC_M_MEM_USAGE, v++), 0);
	}
	assert_int_equal(b->nvals, 25001);
}

static void assert_starts(const char *p, size_t n, const char *want)
{
	assert_true(n >= strlen(want));
	assert_memory_equal(p, want, strlen(want));
}

static void assert_ends(const char *p, size_t n, const char *want)
{
	assert_true(n >= strlen(want));
	assert_memory_equal(p + n - strlen(want), want, strlen(want));
}

static void test_split(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	void *s;
	uint32_t pos = 0;
	char *all1, *all3;
	int windows;

	(void)st;
	build_big(&b);
	exp_out_init(&out);

	/* concurrency 1: one chunk of 10,000 points per window */
	s = ut_sink_new(ops, "influxdb:http://h:8086");
	assert_int_equal(sink_influxdb_ops.format(s, &b, &pos, &out), 0);
	assert_int_equal(pos, SINK_INFLUX_CHUNK_POINTS);
	assert_int_equal(out.nchunks, 1);
	assert_int_equal(out.chunk_points[0], 10000);
	assert_int_equal(ut_count_lines(out.buf.data, out.buf.len), 10000);
	assert_starts(out.buf.data, out.buf.len,
		      "memory/usage,cluster_name=default,nodename=n0,type=node value=0i 1700000000000\n");
	assert_ends(out.buf.data, out.buf.len,
		    "memory/usage,cluster_name=default,nodename=n39,type=node value=9999i 1700000000000\n");
	/* the next window resumes at value 10,000, in the middle of no set */
	exp_out_reset(&out);
	assert_int_equal(sink_influxdb_ops.format(s, &b, &pos, &out), 0);
	assert_int_equal(pos, 20000);
	assert_starts(out.buf.data, out.buf.len,
		      "memory/usage,cluster_name=default,nodename=n40,type=node value=10000i 1700000000000\n");
	sink_influxdb_ops.close(s);

	all1 = ut_format_all(ops, "influxdb:http://h:8086", &b, &out, &windows);
	assert_int_equal(windows, 3);
	assert_int_equal(out.nchunks, 1);
	assert_int_equal(out.chunk_points[0], 5001);
	assert_ends(all1, strlen(all1),
		    "memory/usage,cluster_name=default,nodename=n100,type=node value=25000i 1700000000000\n");

	/* concurrency 3: the whole batch in one window of three chunks */
	all3 = ut_format_all(ops, "influxdb:http://h:8086?concurrency=3", &b, &out, &windows);
	assert_int_equal(windows, 1);
	assert_int_equal(out.nchunks, 3);
	assert_int_equal(out.chunk_points[0], 10000);
	assert_int_equal(out.chunk_points[1], 10000);
	assert_int_equal(out.chunk_points[2], 5001);
	assert_int_equal(out.points, 25001);
	for (uint32_t i = 0; i < 3; i++) {
		size_t a = exp_out_chunk_start(&out, i), e = out.chunk_end[i];

		assert_int_equal(ut_count_lines(out.buf.data + a, e - a), out.chunk_points[i]);
		assert_int_equal(out.buf.data[e - 1], '\n');
	}
	assert_string_equal(all1, all3);
	free(all1);
	free(all3);

	/* concurrency 2: two windows, the second with one chunk */
	all3 = ut_format_all(ops, "influxdb:http://h:8086?concurrency=2", &b, &out, &windows);
	assert_int_equal(windows, 2);
	assert_int_equal(out.nchunks, 1);
	free(all3);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_options(void **st)
{
	(void)st;
	assert_int_equal(ut_sink_init_rc(ops, "influxdb:http://h:8086"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "influxdb"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "influxdb:http://h:8086?user=u&pw=p&db=x&retention=7d"
				      "&secure=true&insecuressl=true&withfields=false"
				      "&cluster_name=c&disable_counter_metrics=1&concurrency=4"
				      "&rpname=default"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "influxdb:http://h:8086?concurrency=0"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "influxdb:http://h:8086?concurrency=x"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "influxdb:http://h:8086?withfields=maybe"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "influxdb:http://h:8086?secure=2"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "influxdb:http://h:8086?db="), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "influxdb:http://h:8086?retention=1d%20DROP"), HC_ERR_CONFIG);
}

static void test_verdict(void **st)
{
	uint64_t d = 99;

	(void)st;
	assert_int_equal(sink_influxdb_verdict(204, "", &d), SINK_INFLUX_OK);
	assert_int_equal(d, 0);
	assert_int_equal(sink_influxdb_verdict(200, "", &d), SINK_INFLUX_OK);
	assert_int_equal(sink_influxdb_verdict(400,
		"{\"error\":\"partial write: field type conflict: input field \\\"value\\\" on "
		"measurement \\\"cpu/usage_rate\\\" is type float, already exists as type "
		"integer dropped=17\"}", &d), SINK_INFLUX_PARTIAL);
	assert_int_equal(d, 17);
	assert_int_equal(sink_influxdb_verdict(400, "{\"error\":\"partial write: points "
		"beyond retention policy dropped=3\"}", &d), SINK_INFLUX_PARTIAL);
	assert_int_equal(d, 3);
	assert_int_equal(sink_influxdb_verdict(400, "{\"error\":\"unable to parse 'x': "
		"missing fields\"}", &d), SINK_INFLUX_REJECTED);
	assert_int_equal(sink_influxdb_verdict(413, "", &d), SINK_INFLUX_REJECTED);
	assert_int_equal(sink_influxdb_verdict(404,
		"{\"error\":\"database not found: \\\"k8s\\\"\"}", &d), SINK_INFLUX_NODB);
	assert_int_equal(sink_influxdb_verdict(404, "404 page not found", &d), SINK_INFLUX_RETRY);
	assert_int_equal(sink_influxdb_verdict(401, "{\"error\":\"authorization failed\"}", &d),
			 SINK_INFLUX_RETRY);
	assert_int_equal(sink_influxdb_verdict(500, "{\"error\":\"timeout\"}", &d), SINK_INFLUX_RETRY);
	assert_int_equal(sink_influxdb_verdict(503, "", &d), SINK_INFLUX_RETRY);
	assert_int_equal(sink_influxdb_verdict(0, "", &d), SINK_INFLUX_RETRY);
}

/* ---- transport, against a scripted HTTP server ------------------------- */

static void *fake_sink(const struct ut_fake_srv *f, const char *opts)
{
	return ut_fake_sink(ops, f, "influxdb", "", opts);
}

static void test_send_creates_database(void **st)
{
	struct ut_fake_srv f;
	struct hc_batch b;
	struct exp_out out;
	void *s;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	ut_fake_start(&f, "application/json", "{\"error\":\"unscripted\"}");
	ut_fake_script(&f, 404, "{\"error\":\"database not found: \\\"k8s\\\"\"}");
	ut_fake_script(&f, 200, "{\"results\":[{\"statement_id\":0}]}");
	ut_fake_script(&f, 204, "");
	s = fake_sink(&f, "");
	ut_format_window(ops, s, &b, &out);
	assert_int_equal(sink_influxdb_ops.send(s, &out), 0);
	assert_int_equal(out.chunk_done[0], 1);
	assert_int_equal(f.nreq, 3);
	assert_string_equal(f.req[0].line, "POST /write?db=k8s&precision=ms HTTP/1.1");
	assert_string_equal(f.req[0].auth, "Basic cm9vdDpyb290");     /* root:root */
	assert_string_equal(f.req[0].body, basic_expected);
	assert_string_equal(f.req[1].line, "POST /query HTTP/1.1");
	assert_string_equal(f.req[1].body,
			    "q=CREATE%20DATABASE%20%22k8s%22%20WITH%20DURATION%20INF%20"
			    "REPLICATION%201%20NAME%20%22default%22");
	assert_string_equal(f.req[2].line, "POST /write?db=k8s&precision=ms HTTP/1.1");
	assert_string_equal(f.req[2].body, basic_expected);
	sink_influxdb_ops.close(s);
	ut_fake_stop(&f);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_options_in_requests(void **st)
{
	struct ut_fake_srv f;
	struct hc_batch b;
	struct exp_out out;
	void *s;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	ut_fake_start(&f, "application/json", "{\"error\":\"unscripted\"}");
	ut_fake_script(&f, 404, "{\"error\":\"database not found: \\\"my db\\\"\"}");
	/* the policy conflicts with an existing database: plain CREATE follows */
	ut_fake_script(&f, 200, "{\"results\":[{\"statement_id\":0,\"error\":\"retention policy conflicts\"}]}");
	ut_fake_script(&f, 200, "{\"results\":[{\"statement_id\":0}]}");
	ut_fake_script(&f, 204, "");
	s = fake_sink(&f, "?db=my%20db&user=admin&pw=secret&retention=7d&rpname=week");
	ut_format_window(ops, s, &b, &out);
	assert_int_equal(sink_influxdb_ops.send(s, &out), 0);
	assert_int_equal(f.nreq, 4);
	assert_string_equal(f.req[0].line, "POST /write?db=my%20db&precision=ms&rp=week HTTP/1.1");
	assert_string_equal(f.req[0].auth, "Basic YWRtaW46c2VjcmV0");  /* admin:secret */
	assert_string_equal(f.req[1].body,
			    "q=CREATE%20DATABASE%20%22my%20db%22%20WITH%20DURATION%207d%20"
			    "REPLICATION%201%20NAME%20%22default%22");
	assert_string_equal(f.req[2].body, "q=CREATE%20DATABASE%20%22my%20db%22");
	assert_string_equal(f.req[3].line, "POST /write?db=my%20db&precision=ms&rp=week HTTP/1.1");
	sink_influxdb_ops.close(s);
	ut_fake_stop(&f);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_partial_and_rejected(void **st)
{
	struct ut_fake_srv f;
	struct hc_batch b;
	struct exp_out out;
	void *s;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	ut_fake_start(&f, "application/json", "{\"error\":\"unscripted\"}");
	ut_fake_script(&f, 400, "{\"error\":\"partial write: field type conflict dropped=2\"}");
	ut_fake_script(&f, 400, "{\"error\":\"unable to parse 'x': bad timestamp\"}");
	s = fake_sink(&f, "");
	ut_format_window(ops, s, &b, &out);
	/* partial: accepted for good, the refused points counted */
	assert_int_equal(sink_influxdb_ops.send(s, &out), 0);
	assert_int_equal(out.chunk_done[0], 1);
	assert_int_equal(out.dropped, 2);
	/* a bad body: lost for good, not retried forever */
	ut_format_window(ops, s, &b, &out);
	assert_int_equal(sink_influxdb_ops.send(s, &out), 0);
	assert_int_equal(out.dropped, 11);
	assert_int_equal(f.nreq, 2);
	sink_influxdb_ops.close(s);
	ut_fake_stop(&f);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_retries_only_missing_chunks(void **st)
{
	struct ut_fake_srv f;
	struct hc_batch b;
	struct exp_out out;
	void *s;

	(void)st;
	build_big(&b);
	exp_out_init(&out);
	ut_fake_start(&f, "application/json", "{\"error\":\"unscripted\"}");
	ut_fake_script(&f, 204, "");
	ut_fake_script(&f, 500, "{\"error\":\"engine: cache-max-memory-size exceeded\"}");
	ut_fake_script(&f, 204, "");
	ut_fake_script(&f, 204, "");
	s = fake_sink(&f, "?concurrency=3");
	ut_format_window(ops, s, &b, &out);
	assert_int_equal(out.nchunks, 3);
	/* three chunks posted, one refused with a 500: the send fails */
	assert_int_not_equal(sink_influxdb_ops.send(s, &out), 0);
	assert_int_equal(f.nreq, 3);
	assert_int_equal(out.chunk_done[0] + out.chunk_done[1] + out.chunk_done[2], 2);
	/* the retry posts only the missing chunk */
	assert_int_equal(sink_influxdb_ops.send(s, &out), 0);
	assert_int_equal(f.nreq, 4);
	assert_int_equal(out.chunk_done[0] + out.chunk_done[1] + out.chunk_done[2], 3);
	/* every point arrived once across the 204s */
	{
		uint32_t lines = 0;

		for (int i = 0; i < 4; i++)
			if (i != 1)
				lines += ut_count_lines(f.req[i].body, f.req[i].body_len);
		assert_int_equal(lines, 25001);
	}
	sink_influxdb_ops.close(s);
	ut_fake_stop(&f);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_unreachable(void **st)
{
	struct ut_fake_srv f;
	struct hc_batch b;
	struct exp_out out;
	void *s;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	ut_fake_start(&f, "application/json", "{\"error\":\"unscripted\"}");
	ut_fake_stop(&f);                 /* the port is closed now */
	s = fake_sink(&f, "");
	ut_format_window(ops, s, &b, &out);
	assert_int_not_equal(sink_influxdb_ops.send(s, &out), 0);
	assert_int_equal(out.chunk_done[0], 0);
	sink_influxdb_ops.close(s);
	exp_out_free(&out);
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_withfields),
		cmocka_unit_test(test_disable_counter_metrics),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_cluster_name),
		cmocka_unit_test(test_labeled),
		cmocka_unit_test(test_int_float),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_send_creates_database),
		cmocka_unit_test(test_send_options_in_requests),
		cmocka_unit_test(test_send_partial_and_rejected),
		cmocka_unit_test(test_send_retries_only_missing_chunks),
		cmocka_unit_test(test_send_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
