/*
 * test_sink_prometheus.c - the prometheus remote-write sink: the exact
 * protobuf WriteRequest (decompressed from the snappy chunk) for a
 * hand-built batch, compared with bytes produced by an independent encoder
 * (label sanitizing and sorting around __name__, reserved and empty labels,
 * labeled values, int and float values, NaN), name sanitizing and the
 * prefix option, chunks of max_samples_per_send series and windows, the
 * answer classifier, options, and the transport against a scripted HTTP
 * server (headers, body, retry of only the chunks not yet accepted).
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
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hc.h"
#include "metrics.h"
#include "sink.h"
#include "sink_prometheus.h"
#include "uri.h"
#include "util_sink.h"

#define TS 1700000000000LL

static const struct exp_sink_ops *ops = &sink_prometheus_ops;

/* Chunk i of out, decompressed (caller frees); *len its length. */
static char *chunk_plain(const struct exp_out *out, uint32_t i, size_t *len)
{
	size_t a = exp_out_chunk_start(out, i), n = out->chunk_end[i] - a;
	char *p;

	assert_int_equal(snappy_uncompressed_length(out->buf.data + a, n, len), SNAPPY_OK);
	p = malloc(*len + 1);
	assert_non_null(p);
	assert_int_equal(snappy_uncompress(out->buf.data + a, n, p, len), SNAPPY_OK);
	return p;
}

/* Number of TimeSeries (top-level field 1) in a WriteRequest. */
static uint32_t count_series(const char *p, size_t n)
{
	uint32_t c = 0;
	size_t i = 0;

	while (i < n) {
		uint64_t len = 0;
		int shift = 0;

		assert_int_equal((unsigned char)p[i++], 0x0a);
		while ((unsigned char)p[i] & 0x80) {
			len |= (uint64_t)((unsigned char)p[i++] & 0x7f) << shift;
			shift += 7;
		}
		len |= (uint64_t)(unsigned char)p[i++] << shift;
		i += len;
		c++;
	}
	assert_int_equal(i, n);
	return c;
}

static void build_basic(struct hc_batch *b)
{
	struct hc_label fs[] = { { HC_L_RESOURCE_ID, "/" }, { HC_L_NODENAME, "fs-node" } };
	uint32_t s, custom;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	s = ut_add_set(b, "node:n1");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_NODE);
	ut_label(b, s, HC_L_NODENAME, "n1");
	ut_label(b, s, "Zone", "eu");              /* sorts before __name__ */
	ut_label(b, s, "9lives", "x");             /* -> _9lives, before __name__ too */
	ut_label(b, s, "a.b", "c");                /* -> a_b */
	ut_label(b, s, "__meta", "reserved");      /* left out */
	ut_label(b, s, HC_L_HOST_ID, "");          /* empty: left out */
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 123), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_CPU_NODE_UTILIZATION, 0.25), 0);
	assert_int_equal(hc_batch_add_float(b, s, HC_M_MEM_NODE_UTILIZATION, NAN), 0);
	assert_int_equal(hc_batch_add_labeled(b, s, HC_M_FS_USAGE, fs, 2, HC_INT, 4096, 0), 0);
	s = ut_add_set(b, "cluster");
	ut_label(b, s, HC_L_TYPE, HC_TYPE_CLUSTER);
	assert_int_equal(hc_batch_name(b, "custom/9.x-y", 12, HC_GAUGE, &custom), 0);
	assert_int_equal(hc_batch_add_int(b, s, custom, -5), 0);
}

static const char basic_expected[] =
	/* cpu/usage_rate 123 on the node */
	"\x0a\x79\x0a\x0a\x0a\x04\x5a\x6f\x6e\x65\x12\x02\x65\x75\x0a\x0c"
	"\x0a\x07\x5f\x39\x6c\x69\x76\x65\x73\x12\x01\x78\x0a\x23\x0a\x08"
	"\x5f\x5f\x6e\x61\x6d\x65\x5f\x5f\x12\x17\x68\x65\x61\x70\x73\x74"
	"\x65\x72\x5f\x63\x70\x75\x5f\x75\x73\x61\x67\x65\x5f\x72\x61\x74"
	"\x65\x0a\x08\x0a\x03\x61\x5f\x62\x12\x01\x63\x0a\x0e\x0a\x08\x6e"
	"\x6f\x64\x65\x6e\x61\x6d\x65\x12\x02\x6e\x31\x0a\x0c\x0a\x04\x74"
	"\x79\x70\x65\x12\x04\x6e\x6f\x64\x65\x12\x10\x09\x00\x00\x00\x00"
	"\x00\xc0\x5e\x40\x10\x80\xd0\x95\xff\xbc\x31"
	/* cpu/node_utilization 0.25 */
	"\x0a\x7f\x0a\x0a\x0a\x04\x5a\x6f\x6e\x65\x12\x02\x65\x75\x0a\x0c"
	"\x0a\x07\x5f\x39\x6c\x69\x76\x65\x73\x12\x01\x78\x0a\x29\x0a\x08"
	"\x5f\x5f\x6e\x61\x6d\x65\x5f\x5f\x12\x1d\x68\x65\x61\x70\x73\x74"
	"\x65\x72\x5f\x63\x70\x75\x5f\x6e\x6f\x64\x65\x5f\x75\x74\x69\x6c"
	"\x69\x7a\x61\x74\x69\x6f\x6e\x0a\x08\x0a\x03\x61\x5f\x62\x12\x01"
	"\x63\x0a\x0e\x0a\x08\x6e\x6f\x64\x65\x6e\x61\x6d\x65\x12\x02\x6e"
	"\x31\x0a\x0c\x0a\x04\x74\x79\x70\x65\x12\x04\x6e\x6f\x64\x65\x12"
	"\x10\x09\x00\x00\x00\x00\x00\x00\xd0\x3f\x10\x80\xd0\x95\xff\xbc"
	"\x31"
	/* memory/node_utilization NaN: Prometheus' NormalNaN */
	"\x0a\x82\x01\x0a\x0a\x0a\x04\x5a\x6f\x6e\x65\x12\x02\x65\x75\x0a"
	"\x0c\x0a\x07\x5f\x39\x6c\x69\x76\x65\x73\x12\x01\x78\x0a\x2c\x0a"
	"\x08\x5f\x5f\x6e\x61\x6d\x65\x5f\x5f\x12\x20\x68\x65\x61\x70\x73"
	"\x74\x65\x72\x5f\x6d\x65\x6d\x6f\x72\x79\x5f\x6e\x6f\x64\x65\x5f"
	"\x75\x74\x69\x6c\x69\x7a\x61\x74\x69\x6f\x6e\x0a\x08\x0a\x03\x61"
	"\x5f\x62\x12\x01\x63\x0a\x0e\x0a\x08\x6e\x6f\x64\x65\x6e\x61\x6d"
	"\x65\x12\x02\x6e\x31\x0a\x0c\x0a\x04\x74\x79\x70\x65\x12\x04\x6e"
	"\x6f\x64\x65\x12\x10\x09\x01\x00\x00\x00\x00\x00\xf8\x7f\x10\x80"
	"\xd0\x95\xff\xbc\x31"
	/* filesystem/usage{resource_id=/, nodename=fs-node} 4096 */
	"\x0a\x92\x01\x0a\x0a\x0a\x04\x5a\x6f\x6e\x65\x12\x02\x65\x75\x0a"
	"\x0c\x0a\x07\x5f\x39\x6c\x69\x76\x65\x73\x12\x01\x78\x0a\x25\x0a"
	"\x08\x5f\x5f\x6e\x61\x6d\x65\x5f\x5f\x12\x19\x68\x65\x61\x70\x73"
	"\x74\x65\x72\x5f\x66\x69\x6c\x65\x73\x79\x73\x74\x65\x6d\x5f\x75"
	"\x73\x61\x67\x65\x0a\x08\x0a\x03\x61\x5f\x62\x12\x01\x63\x0a\x13"
	"\x0a\x08\x6e\x6f\x64\x65\x6e\x61\x6d\x65\x12\x07\x66\x73\x2d\x6e"
	"\x6f\x64\x65\x0a\x10\x0a\x0b\x72\x65\x73\x6f\x75\x72\x63\x65\x5f"
	"\x69\x64\x12\x01\x2f\x0a\x0c\x0a\x04\x74\x79\x70\x65\x12\x04\x6e"
	"\x6f\x64\x65\x12\x10\x09\x00\x00\x00\x00\x00\x00\xb0\x40\x10\x80"
	"\xd0\x95\xff\xbc\x31"
	/* custom/9.x-y -5 on the cluster */
	"\x0a\x46\x0a\x21\x0a\x08\x5f\x5f\x6e\x61\x6d\x65\x5f\x5f\x12\x15"
	"\x68\x65\x61\x70\x73\x74\x65\x72\x5f\x63\x75\x73\x74\x6f\x6d\x5f"
	"\x39\x5f\x78\x5f\x79\x0a\x0f\x0a\x04\x74\x79\x70\x65\x12\x07\x63"
	"\x6c\x75\x73\x74\x65\x72\x12\x10\x09\x00\x00\x00\x00\x00\x00\x14"
	"\xc0\x10\x80\xd0\x95\xff\xbc\x31";

static void test_basic(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t pos = 0;
	size_t len;
	char *pb;
	void *s;

	(void)st;
	build_basic(&b);
	exp_out_init(&out);
	s = ut_sink_new(ops, "prometheus:http://127.0.0.1:8428/api/v1/write");
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(pos, b.nvals);
	assert_int_equal(out.points, 5);
	assert_int_equal(out.nchunks, 1);
	assert_int_equal(out.chunk_points[0], 5);
	pb = chunk_plain(&out, 0, &len);
	assert_int_equal(len, sizeof(basic_expected) - 1);
	assert_memory_equal(pb, basic_expected, len);
	free(pb);
	/* a second run of the same state gives the same bytes (pure) */
	{
		size_t first = out.buf.len;
		char *copy = malloc(first);

		memcpy(copy, out.buf.data, first);
		exp_out_reset(&out);
		pos = 0;
		assert_int_equal(ops->format(s, &b, &pos, &out), 0);
		assert_int_equal(out.buf.len, first);
		assert_memory_equal(out.buf.data, copy, first);
		free(copy);
	}
	ops->close(s);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_prefix(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t pos = 0, s, id;
	size_t len;
	char *pb;
	void *sk;
	/* TimeSeries { Label{__name__: _9lives_x} Sample{1, TS} } */
	static const char want[] =
		"\x0a\x29"
		"\x0a\x15\x0a\x08__name__\x12\x09_9lives_x"
		"\x12\x10\x09\x00\x00\x00\x00\x00\x00\xf0\x3f\x10\x80\xd0\x95\xff\xbc\x31";

	(void)st;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, TS);
	s = ut_add_set(&b, "x");
	assert_int_equal(hc_batch_name(&b, "9lives/x", 8, HC_GAUGE, &id), 0);
	assert_int_equal(hc_batch_add_int(&b, s, id, 1), 0);
	exp_out_init(&out);
	sk = ut_sink_new(ops, "prometheus:http://h/api/v1/write?prefix=");
	assert_int_equal(ops->format(sk, &b, &pos, &out), 0);
	pb = chunk_plain(&out, 0, &len);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(pb, want, len);
	free(pb);
	ops->close(sk);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void build_big(struct hc_batch *b, uint32_t n)
{
	static char keys[400][16];
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

static void test_chunks_and_windows(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	uint32_t pos = 0, total = 0;
	void *s;

	(void)st;
	build_big(&b, 35001);
	exp_out_init(&out);
	s = ut_sink_new(ops, "prometheus:http://h/api/v1/write");
	/* 2,000 series per request (Prometheus' default), 16 requests per window */
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(pos, 32000);
	assert_int_equal(out.nchunks, SINK_PROM_WINDOW_CHUNKS);
	for (uint32_t i = 0; i < out.nchunks; i++) {
		size_t len;
		char *pb = chunk_plain(&out, i, &len);

		assert_int_equal(out.chunk_points[i], 2000);
		assert_int_equal(count_series(pb, len), 2000);
		total += 2000;
		free(pb);
	}
	exp_out_reset(&out);
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(pos, 35001);
	assert_int_equal(out.nchunks, 2);
	assert_int_equal(out.chunk_points[1], 1001);
	ops->close(s);
	/* the option */
	s = ut_sink_new(ops, "prometheus:http://h/api/v1/write?max_samples_per_send=500");
	pos = 0;
	exp_out_reset(&out);
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(pos, 8000);
	assert_int_equal(out.chunk_points[0], 500);
	ops->close(s);
	(void)total;
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_options(void **st)
{
	(void)st;
	assert_int_equal(ut_sink_init_rc(ops, "prometheus:https://h:9090/api/v1/write?user=u&pw=p&concurrency=4"), 0);
	assert_int_equal(ut_sink_init_rc(ops, "prometheus"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "prometheus:h:9090/api/v1/write"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "prometheus:http://h/w?max_samples_per_send=0"), HC_ERR_CONFIG);
	assert_int_equal(ut_sink_init_rc(ops, "prometheus:http://h/w?concurrency=65"), HC_ERR_CONFIG);
}

static void test_judge(void **st)
{
	uint64_t d;

	(void)st;
	assert_int_equal(sink_prometheus_judge(204, "", 10, &d), EXP_HTTP_OK);
	assert_int_equal(sink_prometheus_judge(200, "", 10, &d), EXP_HTTP_OK);
	assert_int_equal(sink_prometheus_judge(400, "out of order sample", 10, &d), EXP_HTTP_REJECTED);
	assert_int_equal(sink_prometheus_judge(413, "", 10, &d), EXP_HTTP_REJECTED);
	assert_int_equal(sink_prometheus_judge(429, "", 10, &d), EXP_HTTP_RETRY);
	assert_int_equal(sink_prometheus_judge(500, "", 10, &d), EXP_HTTP_RETRY);
	assert_int_equal(sink_prometheus_judge(401, "", 10, &d), EXP_HTTP_RETRY);
	assert_int_equal(sink_prometheus_judge(404, "", 10, &d), EXP_HTTP_RETRY);
}

/* ---- transport, against a scripted HTTP server ------------------------- */

static void *fake_sink(const struct ut_fake_srv *f, const char *opts)
{
	return ut_fake_sink(ops, f, "prometheus", "/api/v1/write", opts);
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
	ut_fake_script(&f, 204, "");
	s = fake_sink(&f, "?user=u&pw=p");
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(ops->send(s, &out), 0);
	assert_int_equal(out.chunk_done[0], 1);
	assert_int_equal(f.nreq, 1);
	assert_memory_equal(f.req[0].head, "POST /api/v1/write HTTP/1.1\r\n", 29);
	assert_non_null(strcasestr(f.req[0].head, "\r\nContent-Encoding: snappy\r\n"));
	assert_non_null(strcasestr(f.req[0].head, "\r\nContent-Type: application/x-protobuf\r\n"));
	assert_non_null(strcasestr(f.req[0].head, "\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n"));
	assert_non_null(strcasestr(f.req[0].head, "\r\nAuthorization: Basic dTpw\r\n"));
	assert_int_equal(f.req[0].body_len, out.chunk_end[0]);
	assert_memory_equal(f.req[0].body, out.buf.data, out.chunk_end[0]);
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
	build_big(&b, 5000);
	exp_out_init(&out);
	ut_fake_start(&f, NULL, "unscripted");
	ut_fake_script(&f, 204, "");
	ut_fake_script(&f, 429, "slow down");
	ut_fake_script(&f, 400, "out of bounds");      /* lost for good, not retried */
	ut_fake_script(&f, 204, "");
	s = fake_sink(&f, "");
	assert_int_equal(ops->format(s, &b, &pos, &out), 0);
	assert_int_equal(out.nchunks, 3);
	assert_int_equal(ops->send(s, &out), HC_ERR_HTTP);
	assert_int_equal(f.nreq, 3);
	assert_int_equal(out.chunk_done[0], 1);
	assert_int_equal(out.chunk_done[1], 0);
	assert_int_equal(out.chunk_done[2], 1);
	assert_int_equal(out.dropped, 1000);
	assert_int_equal(ops->send(s, &out), 0);
	assert_int_equal(f.nreq, 4);
	assert_int_equal(f.req[3].body_len, f.req[1].body_len);
	assert_memory_equal(f.req[3].body, f.req[1].body, f.req[1].body_len);
	ops->close(s);
	ut_fake_stop(&f);
	exp_out_free(&out);
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_chunks_and_windows),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_send_retries_only_missing_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
