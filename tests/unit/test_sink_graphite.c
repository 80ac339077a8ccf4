/*
 * test_sink_graphite.c - the graphite sink: exact plaintext lines for a
 * hand-built batch (Heapster's paths for every entity type, escaping,
 * labeled metrics, hostname fallback, prefix, floats, NaN), TCP chunks and
 * UDP datagrams, options, and the transport against loopback sockets: a
 * TCP server that reads to EOF (the confirmed close), a closed TCP port,
 * a UDP receiver and a closed UDP port.
 *
 * Expected strings are written by hand: one byte of difference fails.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hc.h"
#include "metrics.h"
#include "net.h"
#include "sink.h"
#include "sink_graphite.h"
#include "uri.h"
#include "util_sink.h"

#define TS 1700000000000LL

static const struct exp_sink_ops *ops = &sink_graphite_ops;

/* One set of every entity type, plus one without a type. */
static void build_paths(struct hc_batch *b)
{
	struct hc_label root[] = { { HC_L_RESOURCE_ID, "/" } };
	struct hc_label logs[] = { { HC_L_RESOURCE_ID, "logs" } };
	struct hc_label gpu[] = { { "make", "nvidia" }, { "accelerator_id", "gpu-0" } };
	uint32_t s;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	s = ut_add_set(b, "namespace:kube-system/pod:dns-1/container:dns");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_POD_CONTAINER);
	ut_label(b, s, HC_L_NAMESPACE_NAME, "kube-system");
	ut_label(b, s, HC_L_POD_NAME, "dns-1");
	ut_label(b, s, HC_L_CONTAINER_NAME, "dns");
	ut_label(b, s, HC_L_NODENAME, "node-1");
	ut_label(b, s, HC_L_HOSTNAME, "node-1.example");
	ut_label(b, s, HC_L_LABELS, "app:dns,tier:web");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 123), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_PAGE_FAULTS_RATE, 0.5), 0);
	assert_int_equal(hc_batch_add_labeled(b, s, HC_M_FS_USAGE, root, 1, HC_INT, 4096, 0), 0);
	assert_int_equal(hc_batch_add_labeled(b, s, HC_M_FS_USAGE, logs, 1, HC_INT, 12, 0), 0);

	/* a pod whose name has a dot and whose set has no hostname */
	s = ut_add_set(b, "namespace:default/pod:web.v2");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_POD);
	ut_label(b, s, HC_L_NAMESPACE_NAME, "default");
	ut_label(b, s, HC_L_POD_NAME, "web.v2");
	ut_label(b, s, HC_L_NODENAME, "node-2");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_MEM_WORKING_SET, 1000), 0);

	s = ut_add_set(b, "node:node-1/container:kubelet");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_SYS_CONTAINER);
	ut_label(b, s, HC_L_CONTAINER_NAME, "kubelet");
	ut_label(b, s, HC_L_HOSTNAME, "node-1.example");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 7), 0);

	s = ut_add_set(b, "node:node-1");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_NODE);
	ut_label(b, s, HC_L_NODENAME, "node-1");
	ut_label(b, s, HC_L_HOSTNAME, "node-1.example");
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_NODE_CAPACITY, 8e9), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_CPU_NODE_UTILIZATION, 0.25), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_NODE_UTILIZATION, NAN), 0);
	assert_int_equal(hc_batch_add_labeled(b, s, HC_M_ACC_DUTY_CYCLE, gpu, 2, HC_INT, 70, 0), 0);

	s = ut_add_set(b, "namespace:kube-system");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_NS);
	ut_label(b, s, HC_L_NAMESPACE_NAME, "kube-system");
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 500), 0);

	s = ut_add_set(b, "cluster");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_CLUSTER);
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, -2000), 0);

	s = ut_add_set(b, "weird");
	assert_int_equal(hc_batch_add_float(b, s, ut_custom_name(b, "custom/a b;c"), 1.5), 0);
}

#define C "kubernetes.nodes.node-1_example.pods.kube-system.dns-1.containers.dns."
static const char paths_expected[] =
	C "cpu.usage_rate 123 1700000000\n"
	C "memory.page_faults_rate 0.5 1700000000\n"
	C "filesystem._.usage 4096 1700000000\n"
	C "filesystem.logs.usage 12 1700000000\n"
	"kubernetes.nodes.node-2.pods.default.web_v2.memory.working_set 1000 1700000000\n"
	"kubernetes.nodes.node-1_example.sys-containers.kubelet.cpu.usage_rate 7 1700000000\n"
	"kubernetes.nodes.node-1_example.memory.node_capacity 8000000000 1700000000\n"
	"kubernetes.nodes.node-1_example.cpu.node_utilization 0.25 1700000000\n"
	"kubernetes.nodes.node-1_example.accelerator.gpu-0.duty_cycle 70 1700000000\n"
	"kubernetes.namespaces.kube-system.cpu.usage_rate 500 1700000000\n"
	"kubernetes.cluster.cpu.usage_rate -2000 1700000000\n"
	"kubernetes.custom.a_b_c 1.5 1700000000\n";
#undef C

static void test_paths(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *txt;

	(void)st;
	build_paths(&b);
	exp_out_init(&out);
	txt = ut_format_all(ops, "graphite:tcp://127.0.0.1:2003", &b, &out, NULL);
	assert_string_equal(txt, paths_expected);
	assert_int_equal(out.points, 12);
	assert_int_equal(out.skipped, 1);          /* the NaN */
	assert_int_equal(out.nchunks, 1);
	assert_int_equal(out.chunk_points[0], 12);
	free(txt);
	/* grouped, and with the default URL: the same text */
	assert_int_equal(hc_batch_group(&b), 0);
	txt = ut_format_all(ops, "graphite", &b, &out, NULL);
	assert_string_equal(txt, paths_expected);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_prefix(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t s;
	char *txt;

	(void)st;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, 1700000004999LL);     /* seconds are truncated */
	s = ut_add_set(&b, "cluster");
	ut_label(&b, s, HC_L_TYPE, HC_TYPE_CLUSTER);
	assert_int_equal(hc_batch_add_int(&b, s, HC_M_MEM_USAGE, 5), 0);
	exp_out_init(&out);
	txt = ut_format_all(ops, "graphite:tcp://h:1?prefix=k8s.prod", &b, &out, NULL);
	assert_string_equal(txt, "k8s.prod.cluster.memory.usage 5 1700000004\n");
	free(txt);
	/* an empty prefix means Heapster's default; blanks cannot enter a path */
	txt = ut_format_all(ops, "graphite:tcp://h:1?prefix=", &b, &out, NULL);
	assert_string_equal(txt, "kubernetes.cluster.memory.usage 5 1700000004\n");
	free(txt);
	txt = ut_format_all(ops, "graphite:tcp://h:1?prefix=a%20b", &b, &out, NULL);
	assert_string_equal(txt, "a_b.cluster.memory.usage 5 1700000004\n");
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

/* 25,001 node values over 101 sets: "kubernetes.nodes.nK.memory.usage V 1700000000" */
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
		ut_label(b, s, HC_L_HOSTNAME, keys[k]);
		for (int i = 0; i < (k < 100 ? 250 : 1); i++)
			assert_int_equal(hc_batch_add_int(b, s, HC_M_MEM_USAGE, v++), 0);
	}
}

static void test_tcp_chunks(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	void *s;
	uint32_t pos = 0;

	(void)st;
	build_big(&b);
	exp_out_init(&out);
	s = ut_sink_new(ops, "graphite:tcp://h:2003");
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	/* one window: 10,000-line chunks */
	assert_int_equal(pos, 25001);
	assert_int_equal(out.nchunks, 3);
	assert_int_equal(out.chunk_points[0], SINK_GRAPHITE_TCP_CHUNK);
	assert_int_equal(out.chunk_points[1], SINK_GRAPHITE_TCP_CHUNK);
	assert_int_equal(out.chunk_points[2], 5001);
	assert_int_equal(ut_count_lines(out.buf.data, out.chunk_end[0]), 10000);
	assert_memory_equal(out.buf.data + out.chunk_end[0],
			    "kubernetes.nodes.n40.memory.usage 10000 1700000000\n", 51);
	assert_memory_equal(out.buf.data + out.buf.len - 52,
			    "kubernetes.nodes.n100.memory.usage 25000 1700000000\n", 52);
	ops->close(s);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_udp_datagrams(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *tcp, *udp;

	(void)st;
	build_big(&b);
	exp_out_init(&out);
	tcp = ut_format_all(ops, "graphite:tcp://h:2003", &b, &out, NULL);
	udp = ut_format_all(ops, "graphite:udp://h:2003", &b, &out, NULL);
	/* the same lines, only cut differently */
	assert_string_equal(tcp, udp);
	assert_true(out.nchunks > 500);
	for (uint32_t i = 0; i < out.nchunks; i++) {
		size_t start = exp_out_chunk_start(&out, i), len = out.chunk_end[i] - start;

		assert_true(len <= EXP_NET_UDP_MAX);
		/* full: the next line would not have fitted */
		if (i + 1 < out.nchunks) {
			const char *next = out.buf.data + out.chunk_end[i];
			size_t nl = (size_t)((const char *)memchr(next, '\n', out.buf.len - out.chunk_end[i]) - next) + 1;

			assert_true(len + nl > EXP_NET_UDP_MAX);
		}
		assert_int_equal(out.buf.data[out.chunk_end[i] - 1], '\n');
		assert_int_equal(ut_count_lines(out.buf.data + start, len), out.chunk_points[i]);
	}
	free(tcp);
	free(udp);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_options(void **st)
{
	(void)st;
	assert_int_equal(ut_sink_init_rc(ops, "graphite:tcp://h:2003?prefix=x&confirm=false"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "graphite:udp://h"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "graphite:http://h:2003"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "graphite:h:2003"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "graphite:tcp://h:2003?confirm=perhaps"), HC_ERR_CONFIG);
}

/* ---- transport ---------------------------------------------------------- */

struct tcp_peer {
	int       fd, port;
	int       conns;        /* connections served */
	char     *got;          /* everything read, all connections */
	size_t    len;
	pthread_t th;
};

/* Serves `conns` connections: reads each to EOF, then closes it. */
static void *tcp_peer_main(void *arg)
{
	struct tcp_peer *p = arg;

	for (int k = 0; k < p->conns; k++) {
		int c = accept(p->fd, NULL, NULL);
		char buf[65536];
		ssize_t n;

		if (c < 0)
			break;
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			p->got = realloc(p->got, p->len + (size_t)n + 1);
			memcpy(p->got + p->len, buf, (size_t)n);
			p->len += (size_t)n;
			p->got[p->len] = '\0';
		}
		close(c);
	}
	return NULL;
}

static int bound_socket(int type, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, type, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void format_window(void *s, const struct hc_batch *b, struct exp_out *out)
{
	assert_int_equal(ut_format_window(ops, s, b, out), b->nvals);
}

static void test_send_tcp_confirmed(void **st)
{
	struct tcp_peer p = { .conns = 2 };
	struct hc_batch b;
	struct exp_out out;
	char spec[128];
	void *s;

	(void)st;
	build_big(&b);
	exp_out_init(&out);
	p.fd = bound_socket(SOCK_STREAM, &p.port);
	assert_int_equal(listen(p.fd, 4), 0);
	assert_int_equal(pthread_create(&p.th, NULL, tcp_peer_main, &p), 0);
	snprintf(spec, sizeof(spec), "graphite:tcp://127.0.0.1:%d", p.port);
	s = ut_sink_new(ops, spec);
	format_window(s, &b, &out);
	assert_int_equal(ops->send(s, &out), 0);
	for (uint32_t i = 0; i < out.nchunks; i++)
		assert_int_equal(out.chunk_done[i], 1);
	/* a second window goes over a second connection */
	assert_int_equal(ops->send(s, &out), 0);    /* nothing left: no-op */
	format_window(s, &b, &out);
	assert_int_equal(ops->send(s, &out), 0);
	pthread_join(p.th, NULL);
	assert_int_equal(p.len, 2 * out.buf.len);
	assert_memory_equal(p.got, out.buf.data, out.buf.len);
	assert_memory_equal(p.got + out.buf.len, out.buf.data, out.buf.len);
	ops->close(s);
	close(p.fd);
	free(p.got);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_tcp_persistent(void **st)
{
	struct tcp_peer p = { .conns = 1 };
	struct hc_batch b;
	struct exp_out out;
	char spec[128];
	void *s;

	(void)st;
	build_paths(&b);
	exp_out_init(&out);
	p.fd = bound_socket(SOCK_STREAM, &p.port);
	assert_int_equal(listen(p.fd, 4), 0);
	assert_int_equal(pthread_create(&p.th, NULL, tcp_peer_main, &p), 0);
	snprintf(spec, sizeof(spec), "graphite:tcp://127.0.0.1:%d?confirm=false", p.port);
	s = ut_sink_new(ops, spec);
	format_window(s, &b, &out);
	assert_int_equal(ops->send(s, &out), 0);
	format_window(s, &b, &out);
	assert_int_equal(ops->send(s, &out), 0);
	ops->close(s);                     /* closes the one connection */
	pthread_join(p.th, NULL);
	assert_int_equal(p.len, 2 * strlen(paths_expected));
	assert_memory_equal(p.got, paths_expected, strlen(paths_expected));
	close(p.fd);
	free(p.got);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_tcp_unreachable(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char spec[128];
	int fd, port;
	void *s;

	(void)st;
	build_paths(&b);
	exp_out_init(&out);
	fd = bound_socket(SOCK_STREAM, &port);       /* bound, not listening */
	snprintf(spec, sizeof(spec), "graphite:tcp://127.0.0.1:%d", port);
	s = ut_sink_new(ops, spec);
	format_window(s, &b, &out);
	assert_int_equal(ops->send(s, &out), -ECONNREFUSED);
	assert_int_equal(out.chunk_done[0], 0);
	ops->close(s);
	close(fd);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_udp(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	struct exp_buf got;
	char spec[128], buf[65536];
	int fd, port, rcv = 1 << 22;
	uint32_t datagrams = 0;
	void *s;

	(void)st;
	build_big(&b);
	exp_out_init(&out);
	exp_buf_init(&got);
	fd = bound_socket(SOCK_DGRAM, &port);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	snprintf(spec, sizeof(spec), "graphite:udp://127.0.0.1:%d", port);
	s = ut_sink_new(ops, spec);
	/* a small window, so that the receive buffer holds it all */
	{
		struct hc_batch small;

		build_paths(&small);
		format_window(s, &small, &out);
		assert_int_equal(ops->send(s, &out), 0);
		hc_batch_free(&small);
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			break;
		datagrams++;
		assert_int_equal(exp_buf_append(&got, buf, (size_t)n), 0);
	}
	assert_int_equal(datagrams, out.nchunks);
	assert_int_equal(got.len, strlen(paths_expected));
	assert_memory_equal(got.data, paths_expected, got.len);
	assert_int_equal(out.chunk_done[0], 1);
	ops->close(s);
	close(fd);
	exp_buf_free(&got);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send_udp_refused(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char spec[128];
	int fd, port, rc;
	void *s;

	(void)st;
	build_big(&b);
	exp_out_init(&out);
	fd = bound_socket(SOCK_DGRAM, &port);
	close(fd);                         /* nobody there: ICMP port unreachable */
	snprintf(spec, sizeof(spec), "graphite:udp://127.0.0.1:%d", port);
	s = ut_sink_new(ops, spec);
	format_window(s, &b, &out);
	rc = ops->send(s, &out);
	assert_int_equal(rc, -ECONNREFUSED);
	/* the window is resent whole: nothing counts as delivered */
	for (uint32_t i = 0; i < out.nchunks; i++)
		assert_int_equal(out.chunk_done[i], 0);
	ops->close(s);
	exp_out_free(&out);
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_tcp_chunks),
		cmocka_unit_test(test_udp_datagrams),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_send_tcp_confirmed),
		cmocka_unit_test(test_send_tcp_persistent),
		cmocka_unit_test(test_send_tcp_unreachable),
		cmocka_unit_test(test_send_udp),
		cmocka_unit_test(test_send_udp_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
