/*
 * test_sink_statsd.c - the statsd sink: exact lines of both of Heapster's
 * formats (etsystatsd paths, influxstatsd tags) for a hand-built batch with
 * every entity type, user labels, labeled metrics and escaping; datagrams of
 * numMetricsPerMsg lines; allowedLabels, renameLabels and labelStyle;
 * options; and the transport against a UDP receiver and a closed port.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hc.h"
#include "metrics.h"
#include "sink.h"
#include "sink_statsd.h"
#include "uri.h"

#define TS 1700000000000LL

static const struct exp_sink_ops *ops = &sink_statsd_ops;

/* assert_string_equal() that shows where long texts first differ. */
static void assert_text(const char *got, const char *want)
{
	size_t i = 0;

	while (got[i] && got[i] == want[i])
		i++;
	if (got[i] == want[i])
		return;
	fprintf(stderr, "texts differ at byte %zu:\n got: %.160s\nwant: %.160s\n", i,
		got + (i > 60 ? i - 60 : 0), want + (i > 60 ? i - 60 : 0));
	fail();
}

static void *sink_new(const char *spec)
{
	struct hc_uri u;
	void *s = NULL;

	assert_int_equal(hc_uri_parse(spec, &u), 0);
	assert_int_equal(ops->init(&u, &s), 0);
	assert_non_null(s);
	return s;
}

static int sink_init_rc(const char *spec)
{
	struct hc_uri u;
	void *s = NULL;
	int rc;

	assert_int_equal(hc_uri_parse(spec, &u), 0);
	rc = ops->init(&u, &s);
	ops->close(s);
	return rc;
}

/* Formats all of b, window by window; returns the text (caller frees). */
static char *format_all(const char *spec, const struct hc_batch *b,
			struct exp_out *out, int *windows)
{
	void *s = sink_new(spec);
	struct exp_buf all;
	uint32_t pos = 0;
	int w = 0;

	exp_buf_init(&all);
	do {
		uint32_t before = pos;

		exp_out_reset(out);
		assert_int_equal(ops->format(s, b, &pos, out), 0);
		assert_true(pos > before || pos == b->nvals);
		assert_int_equal(exp_buf_append(&all, out->buf.data, out->buf.len), 0);
		w++;
	} while (pos < b->nvals);
	assert_int_equal(exp_buf_append(&all, "", 1), 0);
	ops->close(s);
	if (windows)
		*windows = w;
	return all.data;
}

static uint32_t add_set(struct hc_batch *b, const char *key)
{
	uint32_t idx;

	assert_int_equal(hc_batch_set(b, key, strlen(key), &idx, NULL), 0);
	return idx;
}

static void label(struct hc_batch *b, uint32_t set, const char *k, const char *v)
{
	assert_int_equal(hc_batch_label(b, set, k, v), 0);
}

static uint32_t custom_name(struct hc_batch *b, const char *name)
{
	uint32_t id;

	assert_int_equal(hc_batch_name(b, name, strlen(name), HC_GAUGE, &id), 0);
	return id;
}

static void build_basic(struct hc_batch *b)
{
	struct hc_label vol[] = { { HC_L_RESOURCE_ID, "Volume:data" } };
	struct hc_label gpu[] = { { "make", "nvidia" }, { "accelerator_id", "gpu-0" } };
	uint32_t s;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	s = add_set(b, "namespace:kube-system/pod:dns-1/container:dns");
	label(b, s, HC_L_TYPE, HC_TYPE_POD_CONTAINER);
	label(b, s, HC_L_NAMESPACE_NAME, "kube-system");
	label(b, s, HC_L_POD_NAME, "dns-1");
	label(b, s, HC_L_POD_ID, "pod-uid");
	label(b, s, HC_L_CONTAINER_NAME, "dns");
	label(b, s, HC_L_CONTAINER_IMAGE, "");
	label(b, s, HC_L_HOSTNAME, "node-1.example");
	label(b, s, HC_L_NODENAME, "node-1");
	label(b, s, HC_L_LABELS, "tier:web,app:dns=x");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 123), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_PAGE_FAULTS_RATE, 0.5), 0);
	assert_int_equal(hc_batch_add_labeled(b, s, HC_M_FS_USAGE, vol, 1, HC_INT, 10, 0), 0);

	s = add_set(b, "node:node-1");
	label(b, s, HC_L_TYPE, HC_TYPE_NODE);
	label(b, s, HC_L_HOSTNAME, "node-1.example");
	assert_int_equal(hc_batch_add_float(b, s, HC_M_CPU_NODE_UTILIZATION, 0.25), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_NODE_UTILIZATION, NAN), 0);
	assert_int_equal(hc_batch_add_labeled(b, s, HC_M_ACC_DUTY_CYCLE, gpu, 2, HC_INT, 70, 0), 0);

	s = add_set(b, "node:node-2/container:kubelet");
	label(b, s, HC_L_TYPE, HC_TYPE_SYS_CONTAINER);
	label(b, s, HC_L_NODENAME, "node-2");          /* no hostname: nodename */
	label(b, s, HC_L_CONTAINER_NAME, "kubelet");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 7), 0);

	s = add_set(b, "namespace:kube-system");
	label(b, s, HC_L_TYPE, HC_TYPE_NS);
	label(b, s, HC_L_NAMESPACE_NAME, "kube-system");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 500), 0);

	s = add_set(b, "cluster");
	label(b, s, HC_L_TYPE, HC_TYPE_CLUSTER);
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 2000), 0);

	s = add_set(b, "weird");                        /* no type */
	assert_int_equal(hc_batch_add_float(b, s, custom_name(b, "custom/x"), 1.5), 0);
}

#define EC "k8s.node.node-1_example.namespace.kube-system.pod.dns-1.container.dns.app.dns_x.tier.web."
static const char etsy_expected[] =
	EC "cpu/usage_rate:123|g\n"
	EC "memory/page_faults_rate:0.5|g\n"
	EC "filesystem/usage.Volume_data:10|g\n"
	"k8s.node.node-1_example.cpu/node_utilization:0.25|g\n"
	"k8s.node.node-1_example.accelerator/duty_cycle.gpu-0:70|g\n"
	"k8s.node.node-2.sys-container.kubelet.cpu/usage_rate:7|g\n"
	"k8s.namespace.kube-system.cpu/usage_rate:500|g\n"
	"k8s.cluster.cpu/usage_rate:2000|g\n";
#undef EC

#define IC "app=dns_x,container_name=dns,hostname=node-1.example,namespace_name=kube-system," \
	"nodename=node-1,pod_id=pod-uid,pod_name=dns-1"
static const char influx_expected[] =
	"k8s.cpu/usage_rate," IC ",tier=web,type=pod_container:123|g\n"
	"k8s.memory/page_faults_rate," IC ",tier=web,type=pod_container:0.5|g\n"
	"k8s.filesystem/usage," IC ",resource_id=Volume_data,tier=web,type=pod_container:10|g\n"
	"k8s.cpu/node_utilization,hostname=node-1.example,type=node:0.25|g\n"
	"k8s.accelerator/duty_cycle,accelerator_id=gpu-0,hostname=node-1.example,make=nvidia,"
	"type=node:70|g\n"
	"k8s.cpu/usage_rate,container_name=kubelet,nodename=node-2,type=sys_container:7|g\n"
	"k8s.cpu/usage_rate,namespace_name=kube-system,type=ns:500|g\n"
	"k8s.cpu/usage_rate,type=cluster:2000|g\n"
	"k8s.custom/x:1.5|g\n";
#undef IC

static void test_etsystatsd(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *txt;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	txt = format_all("statsd:udp://127.0.0.1:8125?prefix=k8s", &b, &out, NULL);
	assert_text(txt, etsy_expected);
	assert_int_equal(out.points, 8);
	assert_int_equal(out.skipped, 2);            /* the NaN, the set without a type */
	/* five lines per datagram */
	assert_int_equal(out.nchunks, 2);
	assert_int_equal(out.chunk_points[0], 5);
	assert_int_equal(out.chunk_points[1], 3);
	free(txt);
	/* no prefix: none at all, not a leading dot */
	txt = format_all("statsd:udp://127.0.0.1:8125", &b, &out, NULL);
	assert_true(strncmp(txt, "node.node-1_example.namespace.", 30) == 0);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_influxstatsd(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *txt;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	txt = format_all("statsd:udp://h:8125?prefix=k8s.&protocolType=influxstatsd&numMetricsPerMsg=2",
			 &b, &out, NULL);
	assert_text(txt, influx_expected);
	assert_int_equal(out.points, 9);
	assert_int_equal(out.skipped, 1);
	assert_int_equal(out.nchunks, 5);
	assert_int_equal(out.chunk_points[4], 1);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_label_options(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *txt;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	txt = format_all("statsd:udp://h?prefix=k8s.&protocolType=InfluxStatsD"
			 "&allowedLabels=type,container_name,labels"
			 "&renameLabels=container_name:ctr_name&labelStyle=lowerCamelCase",
			 &b, &out, NULL);
	assert_true(strncmp(txt, "k8s.cpu/usage_rate,app=dns_x,ctrName=dns,tier=web,"
				 "type=pod_container:123|g\n", 75) == 0);
	assert_non_null(strstr(txt, "\nk8s.cpu/usage_rate,ctrName=kubelet,type=sys_container:7|g\n"));
	/* resource_id is not allowed: the labeled value has the set's tags only */
	assert_non_null(strstr(txt, "\nk8s.filesystem/usage,app=dns_x,ctrName=dns,tier=web,"
				    "type=pod_container:10|g\n"));
	free(txt);
	txt = format_all("statsd:udp://h?prefix=k8s&labelStyle=upperCamelCase", &b, &out, NULL);
	assert_true(strncmp(txt, "k8s.node.node-1_example.namespace.kube-system.pod.dns-1."
				 "container.dns.App.dns_x.Tier.web.cpu/usage_rate:123|g\n", 110) == 0);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_options(void **st)
{
	(void)st;
	assert_int_equal(sink_init_rc("statsd"), 0);
	assert_int_equal(sink_init_rc("statsd:udp://h:8125?numMetricsPerMsg=1"), 0);
	assert_int_equal(sink_init_rc("statsd:h:8125"), 0);
	assert_int_equal(sink_init_rc("statsd:udp://h?numMetricsPerMsg=0"), HC_ERR_CONFIG);
	assert_int_equal(sink_init_rc("statsd:udp://h?protocolType=dogstatsd"), HC_ERR_CONFIG);
	assert_int_equal(sink_init_rc("statsd:udp://h?labelStyle=kebab"), HC_ERR_CONFIG);
	assert_int_equal(sink_init_rc("statsd:udp://h?renameLabels=a"), HC_ERR_CONFIG);
	assert_int_equal(sink_init_rc("statsd:tcp://h:8125"), HC_ERR_CONFIG);
}

/* 2,000 sets of one node value each: 400 datagrams of five lines. */
static void build_big(struct hc_batch *b)
{
	static char keys[2000][16];

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	for (int k = 0; k < 2000; k++) {
		uint32_t s;

		snprintf(keys[k], sizeof(keys[k]), "n%d", k);
		s = add_set(b, keys[k]);
		label(b, s, HC_L_TYPE, HC_TYPE_NODE);
		label(b, s, HC_L_HOSTNAME, keys[k]);
		assert_int_equal(hc_batch_add_int(b, s, HC_M_MEM_USAGE, k), 0);
	}
}

static int bound_udp(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rcv = 1 << 22;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_send(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char spec[128], buf[65536];
	int fd, port;
	uint32_t pos = 0, n = 0;
	void *s;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	fd = bound_udp(&port);
	snprintf(spec, sizeof(spec), "statsd:udp://127.0.0.1:%d?prefix=k8s", port);
	s = sink_new(spec);
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(ops->send(s, &out), 0);
	/* datagram by datagram, the formatted chunks */
	for (;; n++) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		size_t a;

		if (r <= 0)
			break;
		assert_true(n < out.nchunks);
		a = exp_out_chunk_start(&out, n);
		assert_int_equal((size_t)r, out.chunk_end[n] - a);
		assert_memory_equal(buf, out.buf.data + a, (size_t)r);
	}
	assert_int_equal(n, 2);
	assert_int_equal(out.chunk_done[0] & out.chunk_done[1], 1);
	ops->close(s);
	close(fd);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_refused(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char spec[128];
	int fd, port;
	uint32_t pos = 0;
	void *s;

	(void)st;
	build_big(&b);
	exp_out_init(&out);
	fd = bound_udp(&port);
	close(fd);
	snprintf(spec, sizeof(spec), "statsd:udp://127.0.0.1:%d", port);
	s = sink_new(spec);
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(out.nchunks, 400);
	assert_int_equal(ops->send(s, &out), -ECONNREFUSED);
	for (uint32_t i = 0; i < out.nchunks; i++)
		assert_int_equal(out.chunk_done[i], 0);
	ops->close(s);
	exp_out_free(&out);
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etsystatsd),
		cmocka_unit_test(test_influxstatsd),
		cmocka_unit_test(test_label_options),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_send_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
