/*
 * test_sink_log.c - the log sink's exact text, and its send() to a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hc.h"
#include "metrics.h"
#include "sink.h"
#include "uri.h"
#include "util_sink.h"

#define TS 1700000000000LL   /* 2023-11-14T22:13:20Z */

static void build(struct hc_batch *b)
{
	struct hc_label fs[] = { { HC_L_RESOURCE_ID, "/" } };
	uint32_t n, c;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, TS);
	b->nodes_ok = 1;
	n = ut_add_set(b, "node:n1");
	assert_int_equal(hc_batch_label(b, n, HC_L_TYPE, HC_TYPE_NODE), 0);
	assert_int_equal(hc_batch_label(b, n, HC_L_NODENAME, "n1"), 0);
	c = ut_add_set(b, "cluster");
	assert_int_equal(hc_batch_label(b, c, HC_L_TYPE, HC_TYPE_CLUSTER), 0);
	/* added interleaved: grouping puts each set on one line */
	assert_int_equal(hc_batch_add_int(b, n, HC_M_CPU_USAGE_RATE, 120), 0);
	assert_int_equal(hc_batch_add_int(b, c, HC_M_CPU_USAGE_RATE, 400), 0);
	assert_int_equal(hc_batch_add_float(b, n, HC_M_CPU_NODE_UTILIZATION, 0.125), 0);
	assert_int_equal(hc_batch_add_labeled(b, n, HC_M_FS_USAGE, fs, 1, HC_INT, 4096, 0), 0);
}

static char *format_all(const struct hc_batch *b, struct exp_out *out)
{
	struct hc_uri u;
	void *s = NULL;
	uint32_t pos = 0;
	char *txt;

	assert_int_equal(hc_uri_parse("log", &u), 0);
	assert_int_equal(sink_log_ops.init(&u, &s), 0);
	exp_out_reset(out);
	assert_int_equal(sink_log_ops.format(s, b, &pos, out), 0);
	assert_int_equal(pos, b->nvals);
	sink_log_ops.close(s);
	txt = malloc(out->buf.len + 1);
	memcpy(txt, out->buf.data, out->buf.len);
	txt[out->buf.len] = '\0';
	return txt;
}

static void test_grouped(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *txt;

	(void)st;
	build(&b);
	assert_int_equal(hc_batch_group(&b), 0);
	exp_out_init(&out);
	txt = format_all(&b, &out);
	assert_string_equal(txt,
		"batch 2023-11-14T22:13:20Z ts=1700000000000 sets=2 values=4 nodes_ok=1 nodes_failed=0\n"
		"node:n1 {type=node, nodename=n1} cpu/usage_rate=120 cpu/node_utilization=0.125"
		" filesystem/usage{resource_id=/}=4096\n"
		"cluster {type=cluster} cpu/usage_rate=400\n");
	assert_int_equal(out.points, 4);
	assert_int_equal(out.nchunks, 1);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_ungrouped_and_empty(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	char *txt;

	(void)st;
	build(&b);
	exp_out_init(&out);
	/* ungrouped: every value still printed, a new line when the set changes */
	txt = format_all(&b, &out);
	assert_string_equal(txt,
		"batch 2023-11-14T22:13:20Z ts=1700000000000 sets=2 values=4 nodes_ok=1 nodes_failed=0\n"
		"node:n1 {type=node, nodename=n1} cpu/usage_rate=120\n"
		"cluster {type=cluster} cpu/usage_rate=400\n"
		"node:n1 {type=node, nodename=n1} cpu/node_utilization=0.125"
		" filesystem/usage{resource_id=/}=4096\n");
	free(txt);
	hc_batch_reset(&b, TS);
	txt = format_all(&b, &out);
	assert_string_equal(txt,
		"batch 2023-11-14T22:13:20Z ts=1700000000000 sets=0 values=0 nodes_ok=0 nodes_failed=0\n");
	assert_int_equal(out.nchunks, 1);
	free(txt);
	exp_out_free(&out);
	hc_batch_free(&b);
}

static void test_send(void **st)
{
	struct hc_batch b;
	struct exp_out out;
	struct hc_uri u;
	void *s = NULL;
	uint32_t pos = 0;
	char path[] = "/tmp/test_sink_log.XXXXXX", got[512];
	FILE *fp, *saved = stdout;
	size_t n;
	int fd;

	(void)st;
	build(&b);
	assert_int_equal(hc_batch_group(&b), 0);
	exp_out_init(&out);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w+");
	assert_non_null(fp);
	stdout = fp;                    /* the sink writes to stdout */
	assert_int_equal(hc_uri_parse("log", &u), 0);
	assert_int_equal(sink_log_ops.init(&u, &s), 0);
	stdout = saved;
	assert_int_equal(sink_log_ops.format(s, &b, &pos, &out), 0);
	assert_int_equal(sink_log_ops.send(s, &out), 0);
	assert_int_equal(out.chunk_done[0], 1);
	/* a chunk already done is not written again */
	assert_int_equal(sink_log_ops.send(s, &out), 0);
	rewind(fp);
	n = fread(got, 1, sizeof(got) - 1, fp);
	got[n] = '\0';
	assert_int_equal(n, out.buf.len);
	assert_memory_equal(got, out.buf.data, n);
	sink_log_ops.close(s);
	fclose(fp);
	unlink(path);
	exp_out_free(&out);
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grouped),
		cmocka_unit_test(test_ungrouped_and_empty),
		cmocka_unit_test(test_send),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
