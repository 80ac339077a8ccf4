/*
 * test_sink_loop.c - the exporter loop (exp_run) against a real store in a
 * temporary directory and a scripted in-test sink: batches are delivered in
 * order, window by window, failed sends are retried (only the failed
 * window), nothing is skipped, the cursor moves only after delivery, and a
 * second run resumes after the cursor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exporter.h"
#include "hc.h"
#include "metrics.h"
#include "mq.h"
#include "sink.h"
#include "store.h"

#define NBATCH 5
#define NVALS 5          /* values per batch */
#define WINDOW 2         /* values per format() call: 3 windows per batch */
#define TS0 1700000000000LL

/* What the scripted sink saw and does. */
struct fake {
	int      fail_calls[8];   /* send() call numbers (from 1) that fail */
	int      nfail;
	int      calls;
	int      stop_after;      /* stop once this many values were delivered */
	char     got[4096];       /* delivered lines, in order */
	size_t   got_len;
	int      delivered;
	volatile sig_atomic_t *stop;
};

static struct fake fk;

static int fake_init(const struct hc_uri *u, void **state)
{
	(void)u;
	*state = &fk;
	return 0;
}

/* One line "ts:value" per value, at most WINDOW values per call. */
static int fake_format(void *state, const struct hc_batch *b, uint32_t *pos,
		       struct exp_out *out)
{
	uint32_t end = *pos + WINDOW < b->nvals ? *pos + WINDOW : b->nvals;
	char line[64];

	(void)state;
	for (uint32_t i = *pos; i < end; i++) {
		int n = snprintf(line, sizeof(line), "%lld:%lld\n", (long long)b->ts_ms,
				 (long long)b->vals[i].v.i);

		assert_int_equal(exp_buf_append(&out->buf, line, (size_t)n), 0);
		out->points++;
		out->open_points++;
	}
	*pos = end;
	return exp_out_cut(out);
}

static int fake_send(void *state, struct exp_out *out)
{
	struct fake *f = state;

	f->calls++;
	for (int i = 0; i < f->nfail; i++)
		if (f->fail_calls[i] == f->calls)
			return HC_ERR_SINK;
	for (uint32_t c = 0; c < out->nchunks; c++) {
		size_t a = exp_out_chunk_start(out, c), n = out->chunk_end[c] - a;

		if (out->chunk_done[c])
			continue;
		assert_true(f->got_len + n < sizeof(f->got));
		memcpy(f->got + f->got_len, out->buf.data + a, n);
		f->got_len += n;
		f->got[f->got_len] = '\0';
		f->delivered += (int)out->chunk_points[c];
		out->chunk_done[c] = 1;
	}
	if (f->stop_after && f->delivered >= f->stop_after)
		*f->stop = 1;
	return 0;
}

static void fake_close(void *state)
{
	(void)state;
}

static const struct exp_sink_ops fake_ops = {
	.kind = "fake",
	.init = fake_init,
	.format = fake_format,
	.send = fake_send,
	.close = fake_close,
};

static char dir[64];
static char instance[32];

static void write_batches(int first, int n)
{
	struct store_opts so = { .path = dir };
	struct store *st;
	struct hc_batch b;

	assert_int_equal(store_open(&so, &st), 0);
	assert_int_equal(hc_batch_init(&b), 0);
	for (int i = first; i < first + n; i++) {
		uint32_t s;

		hc_batch_reset(&b, TS0 + i * 10000LL);
		assert_int_equal(hc_batch_set(&b, "cluster", 7, &s, NULL), 0);
		assert_int_equal(hc_batch_label(&b, s, HC_L_TYPE, HC_TYPE_CLUSTER), 0);
		for (int v = 0; v < NVALS; v++)
			assert_int_equal(hc_batch_add_int(&b, s, (uint32_t)(HC_M_CPU_USAGE_RATE + v),
							  i * 100 + v), 0);
		assert_int_equal(store_put_batch(st, &b, NULL), 0);
	}
	hc_batch_free(&b);
	store_close(st);
}

/* The lines a faultless sink receives for batches [first, first + n). */
static void expected(char *buf, size_t cap, int first, int n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = first; i < first + n; i++)
		for (int v = 0; v < NVALS; v++)
			o += (size_t)snprintf(buf + o, cap - o, "%lld:%d\n",
					      (long long)(TS0 + i * 10000LL), i * 100 + v);
}

static int64_t cursor_of(const char *name)
{
	struct store_opts so = { .path = dir };
	struct store *st;
	int64_t ts = 0;
	int rc;

	assert_int_equal(store_open(&so, &st), 0);
	rc = store_cursor_get(st, name, &ts);
	store_close(st);
	return rc == 0 ? ts : -1;
}

static volatile sig_atomic_t stop_flag;

static void *stop_later(void *arg)
{
	struct timespec ts = { 0, (long)(intptr_t)arg * 1000000L };

	nanosleep(&ts, NULL);
	stop_flag = 1;
	return NULL;
}

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof(dir), "/tmp/test_sink_loop.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(instance, sizeof(instance), "tsl%d", (int)getpid());
	return 0;
}

static int teardown(void **st)
{
	char cmd[128], q[128];

	(void)st;
	hc_mq_name(q, sizeof(q), instance, "exporter-fake-0");
	hc_mq_unlink(q);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct exp_config config(void)
{
	struct exp_config c = {
		.name = "fake-0", .store_path = dir, .instance = instance,
		.wait_ms = 50, .backoff_min_ms = 5, .backoff_max_ms = 20,
		.stop = &stop_flag,
	};
	return c;
}

static void test_delivers_in_order_with_retries(void **st)
{
	struct exp_config c = config();
	char want[4096];

	(void)st;
	write_batches(0, NBATCH);
	memset(&fk, 0, sizeof(fk));
	/* fail the very first send twice, and a middle window of batch 2 */
	fk.fail_calls[0] = 1;
	fk.fail_calls[1] = 2;
	fk.fail_calls[2] = 9;
	fk.nfail = 3;
	fk.stop_after = NBATCH * NVALS;
	fk.stop = &stop_flag;
	stop_flag = 0;
	assert_int_equal(exp_run(&c, &fake_ops, &fk), 0);
	expected(want, sizeof(want), 0, NBATCH);
	/* every value once, in order: retries resent only the failed window */
	assert_string_equal(fk.got, want);
	assert_int_equal(fk.calls, NBATCH * 3 + 3);
	assert_int_equal(cursor_of("fake-0"), TS0 + (NBATCH - 1) * 10000LL);
}

static void test_resumes_after_cursor(void **st)
{
	struct exp_config c = config();
	pthread_t th;
	char want[4096];

	(void)st;
	/* nothing new: the loop idles on the queue until stopped */
	memset(&fk, 0, sizeof(fk));
	fk.stop = &stop_flag;
	stop_flag = 0;
	assert_int_equal(pthread_create(&th, NULL, stop_later, (void *)(intptr_t)300), 0);
	assert_int_equal(exp_run(&c, &fake_ops, &fk), 0);
	pthread_join(th, NULL);
	assert_int_equal(fk.calls, 0);

	/* two more batches: only they are delivered */
	write_batches(NBATCH, 2);
	memset(&fk, 0, sizeof(fk));
	fk.stop_after = 2 * NVALS;
	fk.stop = &stop_flag;
	stop_flag = 0;
	assert_int_equal(exp_run(&c, &fake_ops, &fk), 0);
	expected(want, sizeof(want), NBATCH, 2);
	assert_string_equal(fk.got, want);
	assert_int_equal(cursor_of("fake-0"), TS0 + (NBATCH + 1) * 10000LL);
}

static void test_stop_during_retries_keeps_cursor(void **st)
{
	struct exp_config c = config();
	pthread_t th;

	(void)st;
	write_batches(NBATCH + 2, 1);
	memset(&fk, 0, sizeof(fk));
	for (int i = 0; i < 8; i++)
		fk.fail_calls[i] = i + 1;    /* the sink refuses everything */
	fk.nfail = 8;
	fk.stop = &stop_flag;
	stop_flag = 0;
	assert_int_equal(pthread_create(&th, NULL, stop_later, (void *)(intptr_t)60), 0);
	assert_int_equal(exp_run(&c, &fake_ops, &fk), 0);
	pthread_join(th, NULL);
	assert_true(fk.calls >= 2);
	assert_int_equal(fk.got_len, 0);
	/* the undelivered batch is still ahead of the cursor */
	assert_int_equal(cursor_of("fake-0"), TS0 + (NBATCH + 1) * 10000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivers_in_order_with_retries),
		cmocka_unit_test(test_resumes_after_cursor),
		cmocka_unit_test(test_stop_during_retries_keeps_cursor),
	};

	/* the tests run in order: each continues the previous one's store */
	return cmocka_run_group_tests(tests, setup, teardown);
}
