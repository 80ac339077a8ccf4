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
#include "util_sink.h"

#define TS 1700000000000LL

static const struct exp_sink_ops *ops = &sink_statsd_ops;

static void build_basic(struct hc_batch *b)
{
	struct hc_label vol[] = { { HC_L_RESOURCE_ID, "Volume:data" } };
	struct hc_label gpu[] = { { "make", "nvidia" }, { "accelerator_id", "gpu-0" } };
	uint32_t s;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	s = ut_add_set(b, "namespace:kube-system/pod:dns-1/container:dns");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_POD_CONTAINER);
	ut_label(b, s, HC_L_NAMESPACE_NAME, "kube-system");
	ut_label(b, s, HC_L_POD_NAME, "dns-1");
	ut_label(b, s, HC_L_POD_ID, "pod-uid");
	ut_label(b, s, HC_L_CONTAINER_NAME, "dns");
	ut_label(b, s, HC_L_CONTAINER_IMAGE, "");
	ut_label(b, s, HC_L_HOSTNAME, "node-1.example");
	ut_label(b, s, HC_L_NODENAME, "node-1");
	ut_label(b, s, HC_L_LABELS, "tier:web,app:dns=x");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 123), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_PAGE_FAULTS_RATE, 0.5), 0);
	assert_int_equal(hc_batch_add_labeled(b, s, HC_M_FS_USAGE, vol, 1, HC_INT, 10, 0), 0);

	s = ut_add_set(b, "node:node-1");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_NODE);
	ut_label(b, s, HC_L_HOSTNAME, "node-1.example");
	assert_int_equal(hc_batch_add_float(b, s, HC_M_CPU_NODE_UTILIZATION, 0.25), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_NODE_UTILIZATION, NAN), 0);
	assert_int_equal(hc_batch_add_labeled(b, s, HC_M_ACC_DUTY_CYCLE, gpu, 2, HC_INT, 70, 0), 0);

	s = ut_add_set(b, "node:node-2/container:kubelet");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_SYS_CONTAINER);
	ut_label(b, s, HC_L_NODENAME, "node-2");          /* no hostname: nodename */
	ut_label(b, s, HC_L_CONTAINER_NAME, "kubelet");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 7), 0);

	s = ut_add_set(b, "namespace:kube-system");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_NS);
	ut_label(b, s, HC_L_NAMESPACE_NAME, "kube-system");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 500), 0);

	s = ut_add_set(b, "cluster");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_CLUSTER);
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 2000), 0);

	s = ut_add_set(b, "weird");                        /* no type */
	assert_int_equal(hc_batch_add_float(b, s, ut_custom_name(b, "custom/x"), 1.5), 0);
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
	txt = ut_format_all(ops, "statsd:udp://127.0.0.1:8125?prefix=k8s", &b, &out, NULL);
	ut_assert_text(txt, etsy_expected);
	assert_int_equal(out.points, 8);
	assert_int_equal(out.skipped, 2);            /* the NaN, the set without a type */
	/* five lines per datagram */
	assert_int_equal(out.nchunks, 2);
	assert_int_equal(out.chunk_points[0], 5);
	assert_int_equal(out.chunk_points[1], 3);
	free(txt);
	/* no prefix: none at all, not a leading dot */
	txt = ut_format_all(ops, "statsd:udp://127.0.0.1:8125", &b, &out, NULL);
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
	txt = ut_format_all(ops, "statsd:udp://h:8125?prefix=k8s.&protocolType=influxstatsd&numMetricsPerMsg=2",
			 &b, &out, NULL);
	ut_assert_text(txt, influx_expected);
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
	txt = ut_format_all(ops, "statsd:udp://h?prefix=k8s.&protocolType=InfluxStatsD"
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
	txt = ut_format_all(ops, "statsd:udp://h?prefix=k8s&labelStyle=upperCamelCase", &b, &out, NULL);
	assert_true(strncmp(txt, "k8s.node.node-1_example.namespace.kube-system.pod.dns-1."
				 "container.dns.App.dns_x.Tier.web.cpu/usage_rate:123|g\n", 110) == 0);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_options(void **st)
{
	(void)st;
	assert_int_equal(ut_sink_init_rc(ops, "statsd"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "statsd:udp://h:8125?numMetricsPerMsg=1"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "statsd:h:8125"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "statsd:udp://h?numMetricsPerMsg=0"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "statsd:udp://h?protocolType=dogstatsd"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "statsd:udp://h?labelStyle=kebab"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "statsd:udp://h?renameLabels=a"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "statsd:tcp://h:8125"), HC_ERR_CONFIG);
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
		s = ut_add_set(b, keys[k]);
		ut_label(b, s, HC_L_TYPE, HC_TYPE_NODE);
		ut_label(b, s, HC_L_HOSTNAME, keys[k]);
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
	s = ut_sink_new(ops, spec);
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
	s = ut_sink_new(ops, spec);
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
