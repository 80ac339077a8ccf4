/*
 * test_rate.c - rate maths and aggregation, with values computed by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "aggregate.h"
#include "batch.h"
#include "hc.h"
#include "rate.h"

#define T0 1764000000000LL

/* One container sample: cpu ns, page faults, scrape time, start time. */
static void sample(struct hc_batch *b, const char *key, int64_t cpu, int64_t faults,
		   int64_t scrape, int64_t start)
{
	uint32_t s;

	assert_int_equal(hc_batch_set(b, key, strlen(key), &s, NULL), 0);
	b->sets[s].scrape_ms = scrape;
	b->sets[s].start_ms = start;
	assert_int_equal(hc_batch_add_int(b, s, HC_M_CPU_USAGE, cpu), 0);
	assert_int_equal(hc_batch_add_int(b, s, HC_M_MEM_PAGE_FAULTS, faults), 0);
}

/* The value of metric m of set key after processing, or NULL. */
static struct hc_value *get(struct hc_batch *b, const char *key, uint32_t m)
{
	uint32_t s;

	assert_int_equal(hc_batch_group(b), 0);
	if (hc_batch_find(b, key, strlen(key), &s) != 0)
		return NULL;
	return hc_batch_value(b, s, m);
}

static void step(struct proc_rates *r, struct hc_batch *b, int64_t ts)
{
	hc_batch_reset(b, ts);
	(void)r;
}

static void test_rates(void **state)
{
	struct proc_rates r;
	struct hc_batch b;
	struct hc_value *v;
	const char *k = "namespace:a/pod:p/container:c";

	(void)state;
	assert_int_equal(proc_rates_init(&r), 0);
	assert_int_equal(hc_batch_init(&b), 0);

	/* first sample: no previous point, no rate */
	step(&r, &b, T0);
	sample(&b, k, 1000000000LL, 100, T0 - 3000, T0 - 600000);
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	assert_null(get(&b, k, HC_M_CPU_USAGE_RATE));

	/* +10 s, +2.5 s of CPU: 250 millicores; +50 faults: 5/s */
	step(&r, &b, T0 + 10000);
	sample(&b, k, 3500000000LL, 150, T0 + 7000, T0 - 600000);
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	v = get(&b, k, HC_M_CPU_USAGE_RATE);
	assert_non_null(v);
	assert_int_equal(v->type, HC_INT);
	assert_int_equal(v->v.i, 250);
	v = get(&b, k, HC_M_MEM_PAGE_FAULTS_RATE);
	assert_non_null(v);
	assert_int_equal(v->type, HC_FLOAT);
	assert_true(v->v.f > 4.999999 && v->v.f < 5.000001);

	/* rounding: 1 ns over 10 s is 0 millicores; 1/3 core rounds to 333 */
	step(&r, &b, T0 + 20000);
	sample(&b, k, 3500000000LL + 3333333333LL, 150, T0 + 17000, T0 - 600000);
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	assert_int_equal(get(&b, k, HC_M_CPU_USAGE_RATE)->v.i, 333);

	/* scrape time did not advance: no rate (and no division by zero) */
	step(&r, &b, T0 + 30000);
	sample(&b, k, 9000000000LL, 150, T0 + 17000, T0 - 600000);
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	assert_null(get(&b, k, HC_M_CPU_USAGE_RATE));

	/* the counter went down without a start time change: a reset, no
	 * rate (Heapster printed 18446744073709551591 here) */
	step(&r, &b, T0 + 40000);
	sample(&b, k, 100, 150, T0 + 37000, T0 - 600000);
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	assert_null(get(&b, k, HC_M_CPU_USAGE_RATE));
	assert_non_null(get(&b, k, HC_M_MEM_PAGE_FAULTS_RATE));   /* faults still fine */
	assert_int_equal(r.resets, 1);

	/* and the next interval rates from the new base: 10 s at 1 core */
	step(&r, &b, T0 + 50000);
	sample(&b, k, 100 + 10000000000LL, 150, T0 + 47000, T0 - 600000);
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	assert_int_equal(get(&b, k, HC_M_CPU_USAGE_RATE)->v.i, 1000);

	/* restart (start time changed) before the previous batch: no rate */
	step(&r, &b, T0 + 60000);
	sample(&b, k, 99000000000LL, 150, T0 + 57000, T0 + 45000);
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	assert_null(get(&b, k, HC_M_CPU_USAGE_RATE));
	assert_int_equal(r.restarts, 1);

	/* a restart inside the interval: rated from its start, 2 s at 0.5 core */
	step(&r, &b, T0 + 70000);
	sample(&b, k, 1000000000LL, 150, T0 + 67000, T0 + 65000);
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	assert_int_equal(get(&b, k, HC_M_CPU_USAGE_RATE)->v.i, 500);
	assert_int_equal(r.restarts, 2);

	/* a new container that started after the previous batch (T0+70s):
	 * 4 s at 0.25 core = 250 millicores after a single sample */
	step(&r, &b, T0 + 80000);
	sample(&b, k, 1000000000LL + 10000000000LL, 150, T0 + 77000, T0 + 65000);
	sample(&b, "namespace:a/pod:new/container:c", 1000000000LL, 0, T0 + 77000, T0 + 73000);
	/* and one that started long ago, first seen now: no rate */
	sample(&b, "namespace:a/pod:old/container:c", 5000000000LL, 0, T0 + 77000, T0 - 3600000);
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	assert_int_equal(get(&b, "namespace:a/pod:new/container:c", HC_M_CPU_USAGE_RATE)->v.i, 250);
	assert_null(get(&b, "namespace:a/pod:old/container:c", HC_M_CPU_USAGE_RATE));
	assert_int_equal(get(&b, k, HC_M_CPU_USAGE_RATE)->v.i, 1000);

	/* the entities disappear: forgotten after PROC_RATE_EXPIRE batches */
	assert_int_equal(proc_rates_size(&r), 3);
	for (int i = 0; i < PROC_RATE_EXPIRE; i++) {
		step(&r, &b, T0 + 90000 + i * 10000);
		sample(&b, "node:other", 1, 1, T0 + 90000 + i * 10000, 0);
		assert_int_equal(proc_rates_apply(&r, &b), 0);
	}
	assert_int_equal(proc_rates_size(&r), 1);   /* only node:other */

	proc_rates_free(&r);
	hc_batch_free(&b);
}

/*
 * The rate state is found by key whatever order the sets come in: the
 * second batch lists the same 50 containers in another order, with a new
 * one in the middle, so the "entry after the last match" guess misses for
 * many and hits for runs; every rate must still belong to its own key.
 * Container i's counter grows by (i + 1) s of CPU in 10 s: (i + 1) * 100
 * millicores.
 */
static void test_rates_any_order(void **state)
{
	struct proc_rates r;
	struct hc_batch b;
	char key[64];

	(void)state;
	assert_int_equal(proc_rates_init(&r), 0);
	assert_int_equal(hc_batch_init(&b), 0);
	step(&r, &b, T0);
	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "namespace:a/pod:p%d/container:c", i);
		sample(&b, key, 1000000000LL * i, i, T0 - 500, T0 - 3600000);
	}
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	step(&r, &b, T0 + 10000);
	/* runs of 5 in reverse run order: 45..49, 40..44, ..., 0..4 */
	for (int run = 9; run >= 0; run--) {
		for (int j = 0; j < 5; j++) {
			int i = run * 5 + j;

			snprintf(key, sizeof(key), "namespace:a/pod:p%d/container:c", i);
			sample(&b, key, 1000000000LL * i + 1000000000LL * (i + 1), i + 7,
			       T0 + 9500, T0 - 3600000);
		}
		if (run == 5)
			sample(&b, "namespace:a/pod:new/container:c", 5, 0, T0 + 9500,
			       T0 - 3600000);
	}
	assert_int_equal(proc_rates_apply(&r, &b), 0);
	for (int i = 0; i < 50; i++) {
		struct hc_value *v;

		snprintf(key, sizeof(key), "namespace:a/pod:p%d/container:c", i);
		v = get(&b, key, HC_M_CPU_USAGE_RATE);
		assert_non_null(v);
		assert_int_equal(v->v.i, (i + 1) * 100);
		v = get(&b, key, HC_M_MEM_PAGE_FAULTS_RATE);
		assert_non_null(v);
		assert_true(v->v.f > 0.6999 && v->v.f < 0.7001);
	}
	/* started an hour ago, seen for the first time: no rate */
	assert_null(get(&b, "namespace:a/pod:new/container:c", HC_M_CPU_USAGE_RATE));
	assert_int_equal(proc_rates_size(&r), 51);
	hc_batch_free(&b);
	proc_rates_free(&r);
}

static void test_aggregation(void **state)
{
	struct hc_batch b;
	uint32_t s;

	(void)state;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, T0);
	/* pod with cpu from the source and two containers */
	assert_int_equal(hc_batch_set(&b, "namespace:ns1/pod:p1", 20, &s, NULL), 0);
	hc_batch_label(&b, s, HC_L_TYPE, HC_TYPE_POD);
	hc_batch_label(&b, s, HC_L_NAMESPACE_NAME, "ns1");
	hc_batch_label(&b, s, HC_L_NODENAME, "n1");
	hc_batch_add_int(&b, s, HC_M_CPU_USAGE_RATE, 999);   /* kept: source wins */
	for (int c = 0; c < 2; c++) {
		char key[64];

		snprintf(key, sizeof(key), "namespace:ns1/pod:p1/container:c%d", c);
		assert_int_equal(hc_batch_set(&b, key, strlen(key), &s, NULL), 0);
		hc_batch_label(&b, s, HC_L_TYPE, HC_TYPE_POD_CONTAINER);
		hc_batch_label(&b, s, HC_L_NAMESPACE_NAME, "ns1");
		hc_batch_label(&b, s, HC_L_NODENAME, "n1");
		hc_batch_add_int(&b, s, HC_M_CPU_USAGE_RATE, 100 + c);
		hc_batch_add_int(&b, s, HC_M_MEM_WORKING_SET, 1000 * (c + 1));
		hc_batch_add_int(&b, s, HC_M_CPU_REQUEST, 50);
		hc_batch_add_int(&b, s, HC_M_CPU_USAGE, 123456);      /* cumulative: not summed */
		hc_batch_add_int(&b, s, HC_M_UPTIME, 5000);           /* not summed */
	}
	/* a second pod in another namespace, only containers (pod set created) */
	assert_int_equal(hc_batch_set(&b, "namespace:ns2/pod:p2/container:c", 32, &s, NULL), 0);
	hc_batch_label(&b, s, HC_L_TYPE, HC_TYPE_POD_CONTAINER);
	hc_batch_label(&b, s, HC_L_NAMESPACE_NAME, "ns2");
	hc_batch_label(&b, s, HC_L_POD_NAME, "p2");
	hc_batch_label(&b, s, HC_L_NODENAME, "n1");
	hc_batch_add_int(&b, s, HC_M_CPU_USAGE_RATE, 7);
	hc_batch_add_int(&b, s, HC_M_MEM_USAGE, 70);
	/* the node exists, without requests */
	assert_int_equal(hc_batch_set(&b, "node:n1", 7, &s, NULL), 0);
	hc_batch_label(&b, s, HC_L_TYPE, HC_TYPE_NODE);

	assert_int_equal(proc_aggregate(&b), 0);
	assert_int_equal(get(&b, "namespace:ns1/pod:p1", HC_M_CPU_USAGE_RATE)->v.i, 999);
	assert_int_equal(get(&b, "namespace:ns1/pod:p1", HC_M_MEM_WORKING_SET)->v.i, 3000);
	assert_int_equal(get(&b, "namespace:ns1/pod:p1", HC_M_CPU_REQUEST)->v.i, 100);
	assert_null(get(&b, "namespace:ns1/pod:p1", HC_M_CPU_USAGE));
	assert_null(get(&b, "namespace:ns1/pod:p1", HC_M_UPTIME));
	/* created pod, with labels inherited */
	assert_int_equal(get(&b, "namespace:ns2/pod:p2", HC_M_CPU_USAGE_RATE)->v.i, 7);
	assert_int_equal(hc_batch_find(&b, "namespace:ns2/pod:p2", 20, &s), 0);
	assert_string_equal(hc_batch_get_label(&b, s, HC_L_TYPE), HC_TYPE_POD);
	assert_string_equal(hc_batch_get_label(&b, s, HC_L_POD_NAME), "p2");
	/* namespaces and cluster */
	assert_int_equal(get(&b, "namespace:ns1", HC_M_CPU_USAGE_RATE)->v.i, 999);
	assert_int_equal(get(&b, "namespace:ns1", HC_M_CPU_REQUEST)->v.i, 100);
	assert_int_equal(get(&b, "namespace:ns2", HC_M_MEM_USAGE)->v.i, 70);
	assert_int_equal(get(&b, "cluster", HC_M_CPU_USAGE_RATE)->v.i, 1006);
	assert_int_equal(hc_batch_find(&b, "cluster", 7, &s), 0);
	assert_string_equal(hc_batch_get_label(&b, s, HC_L_TYPE), HC_TYPE_CLUSTER);
	assert_null(hc_batch_get_label(&b, s, HC_L_NAMESPACE_NAME));
	assert_int_equal(hc_batch_find(&b, "namespace:ns2", 13, &s), 0);
	assert_string_equal(hc_batch_get_label(&b, s, HC_L_NAMESPACE_NAME), "ns2");
	assert_null(hc_batch_get_label(&b, s, HC_L_POD_NAME));
	/* node gets the pods' requests */
	assert_int_equal(get(&b, "node:n1", HC_M_CPU_REQUEST)->v.i, 100);
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_rates_any_order),
		cmocka_unit_test(test_aggregation),
	};
	return cmocka_run_group_tests_name("rate", tests, NULL, NULL);
}
