/*
 * test_sink_fmt.c - the exporter framework: number formatting, output
 * chunks, the sink registry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "sink.h"

static void check_i64(int64_t v, const char *want)
{
	char buf[32];
	size_t n = exp_fmt_i64(buf, v);

	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void check_f64(double v, const char *want)
{
	char buf[40];
	size_t n = exp_fmt_f64(buf, v);

	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_fmt_int(void **st)
{
	(void)st;
	check_i64(0, "0");
	check_i64(7, "7");
	check_i64(10, "10");
	check_i64(99, "99");
	check_i64(100, "100");
	check_i64(-1, "-1");
	check_i64(123456789, "123456789");
	check_i64(1000000000000LL, "1000000000000");
	check_i64(INT64_MAX, "9223372036854775807");
	check_i64(INT64_MIN, "-9223372036854775808");
}

static void test_fmt_u64(void **st)
{
	char buf[32];
	size_t n = exp_fmt_u64(buf, UINT64_MAX);

	(void)st;
	buf[n] = '\0';
	assert_string_equal(buf, "18446744073709551615");
}

static void test_fmt_float(void **st)
{
	(void)st;
	check_f64(0.0, "0");
	check_f64(-0.0, "0");
	check_f64(3.0, "3");
	check_f64(0.5, "0.5");
	check_f64(0.25, "0.25");
	check_f64(-1.5, "-1.5");
	check_f64(1234.5, "1234.5");
	check_f64(0.1, "0.1");
	check_f64(0.1 + 0.2, "0.3");           /* 15 significant digits */
	check_f64(1.0 / 3.0, "0.333333333333333");
	check_f64(2.0 / 3.0, "0.666666666666667");
	check_f64(123456.789, "123456.789");
	check_f64(0.001, "0.001");
	check_f64(0.00012345, "0.00012345");
	check_f64(1e-5, "0.00001");
	check_f64(99999999999999.9, "99999999999999.9");
	check_f64(0.9999999999999999, "1");    /* rounds up into the integer */
	check_f64(9.9999999999999999, "10");
	check_f64(1e15, "1e+15");               /* beyond: %.15g */
	check_f64(1e20, "1e+20");
	check_f64(1e-7, "1e-07");
	check_f64(-2.5e-9, "-2.5e-09");
	check_f64(NAN, "");
	check_f64(INFINITY, "");
	check_f64(-INFINITY, "");
}

/* Every value in the fast range reads back within 15 significant digits. */
static void test_fmt_float_roundtrip(void **st)
{
	uint64_t x = 88172645463325252ULL;

	(void)st;
	for (int i = 0; i < 200000; i++) {
		char buf[48];
		double v, back;
		size_t n;

		/* xorshift over mantissas and exponents in [1e-5, 1e15) */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = (double)(x >> 11) / (double)(1ULL << 53);        /* [0, 1) */
		v = (0.1 + v) * pow(10.0, (double)(int)(x % 20) - 5);
		if (v < 1e-5 || v >= 1e15)
			continue;
		n = exp_fmt_f64(buf, v);
		buf[n] = '\0';
		back = strtod(buf, NULL);
		assert_true(fabs(back - v) <= fabs(v) * 1e-14);
		assert_null(strchr(buf, 'e'));
	}
}

static void test_out_chunks(void **st)
{
	struct exp_out o;

	(void)st;
	exp_out_init(&o);
	assert_int_equal(exp_out_cut(&o), 0);        /* nothing: no chunk */
	assert_int_equal(o.nchunks, 0);
	for (int c = 0; c < 40; c++) {
		assert_int_equal(exp_buf_append(&o.buf, "abc\n", 4), 0);
		o.open_points = 1;
		assert_int_equal(exp_out_cut(&o), 0);
		assert_int_equal(exp_out_cut(&o), 0);    /* a second cut is a no-op */
	}
	assert_int_equal(o.nchunks, 40);
	assert_int_equal(exp_out_chunk_start(&o, 0), 0);
	assert_int_equal(exp_out_chunk_start(&o, 39), 39 * 4);
	assert_int_equal(o.chunk_end[39], 160);
	assert_int_equal(o.chunk_points[39], 1);
	assert_int_equal(o.chunk_done[39], 0);
	exp_out_reset(&o);
	assert_int_equal(o.nchunks, 0);
	assert_int_equal(o.buf.len, 0);
	exp_out_free(&o);
}

static void test_registry(void **st)
{
	(void)st;
	assert_ptr_equal(exp_sink_find("log"), &sink_log_ops);
	assert_ptr_equal(exp_sink_find("influxdb"), &sink_influxdb_ops);
	assert_ptr_equal(exp_sink_find("graphite"), &sink_graphite_ops);
	assert_ptr_equal(exp_sink_find("opentsdb"), &sink_opentsdb_ops);
	assert_ptr_equal(exp_sink_find("statsd"), &sink_statsd_ops);
	assert_ptr_equal(exp_sink_find("prometheus"), &sink_prometheus_ops);
	assert_ptr_equal(exp_sink_find("kafka"), &sink_kafka_ops);
	assert_null(exp_sink_find("riemann"));
	assert_null(exp_sink_find(""));
	assert_string_equal(exp_sink_kinds(), "log, influxdb, graphite, opentsdb, statsd, prometheus, kafka");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_int),
		cmocka_unit_test(test_fmt_u64),
		cmocka_unit_test(test_fmt_float),
		cmocka_unit_test(test_fmt_float_roundtrip),
		cmocka_unit_test(test_out_chunks),
		cmocka_unit_test(test_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
