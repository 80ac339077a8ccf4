/*
 * test_store.c - the LMDB rings: writes, reads, retention, exporter
 * cursors, a full map, reopening, and what the stock LMDB tools print.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "batch.h"
#include "hc.h"
#include "store.h"

#define T0 1764000000000LL
#define RES 10000

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/heapster-test-store-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	strcat(dir, "/store");
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	dir[strlen(dir) - 6] = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A batch at ts with `nodes` nodes; cpu/usage_rate = 100*node + i. */
static void make_batch(struct hc_batch *b, int64_t ts, int nodes, int i)
{
	char key[64];
	uint32_t s;

	hc_batch_reset(b, ts);
	b->nodes_ok = (uint32_t)nodes;
	for (int n = 0; n < nodes; n++) {
		struct hc_label root = { HC_L_RESOURCE_ID, "/" };
		struct hc_label logs = { HC_L_RESOURCE_ID, "logs" };

		snprintf(key, sizeof(key), "node:n%d", n);
		assert_int_equal(hc_batch_set(b, key, strlen(key), &s, NULL), 0);
		hc_batch_label(b, s, HC_L_TYPE, HC_TYPE_NODE);
		hc_batch_label(b, s, HC_L_NODENAME, hc_batch_str(b, key + 5, strlen(key + 5)));
		b->sets[s].scrape_ms = ts - 1000;
		hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE, 100 * n + i);
		hc_batch_add_int(b, s, HC_M_MEM_RSS, 5000 + i);               /* short only */
		hc_batch_add_float(b, s, HC_M_CPU_NODE_UTILIZATION, 0.5 + i / 100.0);
		hc_batch_add_labeled(b, s, HC_M_FS_USAGE, &root, 1, HC_INT, 10 + i, 0);
		hc_batch_add_labeled(b, s, HC_M_FS_USAGE, &logs, 1, HC_INT, 20 + i, 0);
		snprintf(key, sizeof(key), "node:n%d/container:kubelet", n);
		assert_int_equal(hc_batch_set(b, key, strlen(key), &s, NULL), 0);
		hc_batch_label(b, s, HC_L_TYPE, HC_TYPE_SYS_CONTAINER);
		hc_batch_add_int(b, s, HC_M_MEM_USAGE, 77);
	}
}

static struct store *open_store(int readonly, int64_t short_ret, size_t map)
{
	struct store_opts o = { 0 };
	struct store *s;

	o.path = dir;
	o.readonly = readonly;
	o.short_retention_ms = short_ret;
	o.long_retention_ms = 300000;
	o.export_backlog_ms = 120000;
	o.map_size = map;
	assert_int_equal(store_open(&o, &s), 0);
	return s;
}

static int count_node(void *ctx, const struct store_entity *e)
{
	if (memchr(e->key, '/', e->key_len) == NULL)
		(*(int *)ctx)++;
	return 0;
}

/* What a scan saw of the node sets' labels. */
struct label_seen {
	struct store_txn *txn;
	int with, without, lazy;   /* labels given; none given; found on demand */
};

/* Counts node sets by whether the scan gave labels and whether a lazy
 * store_entity_labels() finds the node name. */
static int see_labels(void *ctx, const struct store_entity *e)
{
	struct label_seen *c = ctx;
	struct store_entity l = *e;
	const char *val;
	uint32_t len;

	if (memchr(e->key, '/', e->key_len) != NULL)
		return 0;
	if (e->labels != NULL)
		c->with++;
	else
		c->without++;
	if (store_entity_labels(c->txn, &l) == 0 &&
	    store_label_get(l.labels, l.nlabels, HC_L_NODENAME, &val, &len) == 0 &&
	    len == e->key_len - 5 && memcmp(val, e->key + 5, len) == 0)
		c->lazy++;
	return 0;
}

static void test_write_read(void **state)
{
	struct store *w, *r;
	struct store_txn *t;
	struct store_batch_info info;
	struct store_entity e;
	struct store_value v;
	struct store_point pts[64];
	struct hc_batch b;
	uint32_t n;
	size_t pos = 0;
	int nodes = 0, seen = 0;

	(void)state;
	w = open_store(0, 30000, 0);
	r = open_store(1, 30000, 0);
	assert_int_equal(hc_batch_init(&b), 0);
	for (int i = 0; i < 10; i++) {
		make_batch(&b, T0 + i * RES, 3, i);
		assert_int_equal(store_put_batch(w, &b, NULL), 0);
	}
	/* an older batch is refused */
	make_batch(&b, T0, 3, 0);
	assert_int_equal(store_put_batch(w, &b, NULL), -EEXIST);

	assert_int_equal(store_read_begin(r, &t), 0);
	assert_int_equal(store_latest(t, STORE_SHORT, &info), 0);
	assert_int_equal(info.ts_ms, T0 + 9 * RES);
	assert_int_equal(info.nsets, 6);
	assert_int_equal(info.nodes_ok, 3);
	/* short ring: 30 s retention keeps T0+60s..T0+90s */
	assert_int_equal(store_next_batch(t, STORE_SHORT, -1, &info), 0);
	assert_int_equal(info.ts_ms, T0 + 6 * RES);
	/* long ring keeps all ten, with only the long metrics */
	assert_int_equal(store_next_batch(t, STORE_LONG, -1, &info), 0);
	assert_int_equal(info.ts_ms, T0);
	assert_int_equal(info.nvals, 6);   /* cpu/usage_rate of 3 nodes, memory/usage of 3 kubelets */
	assert_int_equal(info.nsets, 6);
	assert_int_equal(info.nodes_ok, 3);
	assert_int_equal(info.nodes_failed, 0);
	assert_true(info.written_ms > T0);
	{
		int64_t first, last;

		assert_int_equal(store_ring_bounds(t, STORE_SHORT, &first, &last), 0);
		assert_int_equal(first, T0 + 6 * RES);
		assert_int_equal(last, T0 + 9 * RES);
		assert_int_equal(store_ring_bounds(t, STORE_LONG, &first, &last), 0);
		assert_int_equal(first, T0);
		assert_int_equal(last, T0 + 9 * RES);
	}

	assert_int_equal(store_entity_get(t, STORE_SHORT, T0 + 9 * RES, "node:n2", 7, &e), 0);
	assert_int_equal(e.scrape_ms, T0 + 9 * RES - 1000);
	assert_int_equal(e.nvals, 5);
	while (store_value_next(&e, &pos, &v) == 1)
		seen++;
	assert_int_equal(seen, 5);
	{
		const char *val;
		uint32_t len;

		assert_int_equal(store_label_get(e.labels, e.nlabels, HC_L_NODENAME, &val, &len), 0);
		assert_int_equal(len, 2);
		assert_memory_equal(val, "n2", 2);
	}
	assert_int_equal(store_entity_get(t, STORE_SHORT, T0 + 9 * RES, "node:nX", 7, &e),
			 HC_ERR_NOTFOUND);

	/* series: long ring for T0..T0+50s, short ring after; oldest first */
	assert_int_equal(store_series(t, "node:n1", 7, "cpu/usage_rate", NULL, 0, 0, 0,
				      pts, 64, &n), 0);
	assert_int_equal(n, 10);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(pts[i].ts_ms, T0 + i * RES);
		assert_int_equal(pts[i].v.i, 100 + i);
	}
	/* start/end inclusive */
	assert_int_equal(store_series(t, "node:n1", 7, "cpu/usage_rate", NULL, 0,
				      T0 + 2 * RES, T0 + 4 * RES, pts, 64, &n), 0);
	assert_int_equal(n, 3);
	/* short-only metric: only what the short ring holds */
	assert_int_equal(store_series(t, "node:n0", 7, "memory/rss", NULL, 0, 0, 0,
				      pts, 64, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(pts[3].v.i, 5009);
	/* floats stay floats */
	assert_int_equal(store_series(t, "node:n0", 7, "cpu/node_utilization", NULL, 0, 0, 0,
				      pts, 64, &n), 0);
	assert_int_equal(pts[0].type, HC_FLOAT);
	assert_true(pts[3].v.f > 0.5899 && pts[3].v.f < 0.5901);
	/* labeled metric: unlabeled query finds nothing, a label picks one */
	assert_int_equal(store_series(t, "node:n0", 7, "filesystem/usage", NULL, 0, 0, 0,
				      pts, 64, &n), 0);
	assert_int_equal(n, 0);
	{
		struct hc_label m = { HC_L_RESOURCE_ID, "logs" };

		assert_int_equal(store_series(t, "node:n0", 7, "filesystem/usage", &m, 1, 0, 0,
					      pts, 64, &n), 0);
		assert_int_equal(n, 4);
		assert_int_equal(pts[0].v.i, 26);
	}
	assert_int_equal(store_series(t, "node:n0", 7, "no/such", NULL, 0, 0, 0, pts, 64, &n),
			 HC_ERR_NOTFOUND);
	/* scan by prefix */
	assert_int_equal(store_entity_scan(t, STORE_SHORT, T0 + 9 * RES, "node:", 0, count_node,
					   &nodes), 0);
	assert_int_equal(nodes, 3);
	{
		struct label_seen sl = { t, 0, 0, 0 };

		assert_int_equal(store_entity_scan(t, STORE_SHORT, T0 + 9 * RES, "node:", 0,
						   see_labels, &sl), 0);
		assert_int_equal(sl.with, 3);
		assert_int_equal(sl.lazy, 3);
		memset(&sl, 0, sizeof(sl));
		sl.txn = t;
		assert_int_equal(store_entity_scan(t, STORE_SHORT, T0 + 9 * RES, "node:",
						   STORE_SCAN_NO_LABELS, see_labels, &sl), 0);
		assert_int_equal(sl.without, 3);
		assert_int_equal(sl.lazy, 3);
	}
	/* a whole batch back */
	{
		struct hc_batch l;
		uint32_t s;

		assert_int_equal(hc_batch_init(&l), 0);
		assert_int_equal(store_load_batch(t, STORE_SHORT, T0 + 9 * RES, &l), 0);
		assert_int_equal(l.nsets, 6);
		assert_int_equal(l.nvals, 18);
		assert_int_equal(hc_batch_group(&l), 0);
		assert_int_equal(hc_batch_find(&l, "node:n2", 7, &s), 0);
		assert_int_equal(hc_batch_value(&l, s, HC_M_CPU_USAGE_RATE)->v.i, 209);
		assert_string_equal(hc_batch_get_label(&l, s, HC_L_TYPE), HC_TYPE_NODE);
		hc_batch_free(&l);
	}
	store_read_end(t);
	store_close(r);
	store_close(w);
	hc_batch_free(&b);
}

static void test_cursor_holds_batches(void **state)
{
	struct store_put_stats ps;
	struct store *w;
	struct store_txn *t;
	struct store_batch_info info;
	struct hc_batch b;
	int64_t ts;
	uint32_t dropped_unexported = 0;

	(void)state;
	w = open_store(0, 30000, 0);
	assert_int_equal(hc_batch_init(&b), 0);
	assert_int_equal(store_cursor_get(w, "influxdb-0", &ts), HC_ERR_NOTFOUND);
	assert_int_equal(store_cursor_set(w, "influxdb-0", T0 - 1), 0);
	assert_int_equal(store_cursor_get(w, "influxdb-0", &ts), 0);
	assert_int_equal(ts, T0 - 1);
	/* 10 batches: the exporter delivered nothing, so the short ring keeps
	 * all of them (backlog 120 s) though its retention is 30 s */
	for (int i = 0; i < 10; i++) {
		make_batch(&b, T0 + i * RES, 1, i);
		assert_int_equal(store_put_batch(w, &b, &ps), 0);
		assert_int_equal(ps.dropped_short, 0);
	}
	assert_int_equal(store_read_begin(w, &t), 0);
	assert_int_equal(store_next_batch(t, STORE_SHORT, -1, &info), 0);
	assert_int_equal(info.ts_ms, T0);
	store_read_end(t);
	/* the exporter catches up to T0+50s: the next write trims to retention */
	assert_int_equal(store_cursor_set(w, "influxdb-0", T0 + 5 * RES), 0);
	make_batch(&b, T0 + 10 * RES, 1, 10);
	assert_int_equal(store_put_batch(w, &b, &ps), 0);
	assert_int_equal(ps.dropped_short, 6);   /* T0..T0+50s, all delivered */
	assert_int_equal(ps.dropped_unexported, 0);
	/* it stalls: past the 120 s backlog batches go, counted */
	for (int i = 11; i < 30; i++) {
		make_batch(&b, T0 + i * RES, 1, i);
		assert_int_equal(store_put_batch(w, &b, &ps), 0);
		dropped_unexported += ps.dropped_unexported;
	}
	assert_true(dropped_unexported > 0);
	assert_int_equal(store_read_begin(w, &t), 0);
	assert_int_equal(store_next_batch(t, STORE_SHORT, -1, &info), 0);
	assert_true(info.ts_ms >= T0 + 29 * RES - 120000);
	store_read_end(t);
	/* removing the exporter releases everything beyond the retention */
	assert_int_equal(store_cursor_del(w, "influxdb-0"), 0);
	make_batch(&b, T0 + 30 * RES, 1, 30);
	assert_int_equal(store_put_batch(w, &b, &ps), 0);
	assert_int_equal(store_read_begin(w, &t), 0);
	assert_int_equal(store_next_batch(t, STORE_SHORT, -1, &info), 0);
	assert_int_equal(info.ts_ms, T0 + 27 * RES);
	store_read_end(t);
	store_close(w);
	hc_batch_free(&b);
}

/* Batch times far from now: keys stay 13 digits, zero-padded, in order. */
static void test_key_times(void **state)
{
	static const int64_t times[] = { 0, 1, 999, 1000000000000LL, 9999999999999LL };
	struct store *w;
	struct store_txn *t;
	struct store_batch_info info;
	struct store_entity e;
	struct hc_batch b;
	int64_t first, last;

	(void)state;
	w = open_store(0, INT64_MAX / 4, 0);
	assert_int_equal(hc_batch_init(&b), 0);
	assert_int_equal(store_read_begin(w, &t), 0);
	assert_int_equal(store_ring_bounds(t, STORE_SHORT, &first, &last), HC_ERR_NOTFOUND);
	store_read_end(t);
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		make_batch(&b, times[i], 1, (int)i);
		assert_int_equal(store_put_batch(w, &b, NULL), 0);
		assert_int_equal(store_read_begin(w, &t), 0);
		assert_int_equal(store_latest(t, STORE_SHORT, &info), 0);
		assert_int_equal(info.ts_ms, times[i]);
		assert_int_equal(info.nsets, 2);
		assert_int_equal(store_entity_get(t, STORE_SHORT, times[i], "node:n0", 7, &e), 0);
		assert_int_equal(e.ts_ms, times[i]);
		assert_int_equal(store_ring_bounds(t, STORE_SHORT, &first, &last), 0);
		assert_int_equal(last, times[i]);
		store_read_end(t);
	}
	store_close(w);
	hc_batch_free(&b);
}

static void test_map_full_drops_oldest(void **state)
{
	struct store_put_stats ps;
	struct store *w;
	struct store_txn *t;
	struct store_batch_info info;
	struct hc_batch b;
	uint32_t full = 0;

	(void)state;
	/* 2 MiB map, ~60 KB batches, retention long enough to overflow it */
	w = open_store(0, 3600000, 2 << 20);
	assert_int_equal(hc_batch_init(&b), 0);
	for (int i = 0; i < 200; i++) {
		make_batch(&b, T0 + i * RES, 150, i);
		assert_int_equal(store_put_batch(w, &b, &ps), 0);
		full += ps.dropped_full;
	}
	assert_true(full > 0);
	assert_int_equal(store_read_begin(w, &t), 0);
	assert_int_equal(store_latest(t, STORE_SHORT, &info), 0);
	assert_int_equal(info.ts_ms, T0 + 199 * RES);
	store_read_end(t);
	store_close(w);
	/* a batch bigger than the whole map is refused with a clear error,
	 * and the history stays */
	w = open_store(0, 3600000, 2 << 20);
	make_batch(&b, T0 + 300 * RES, 20000, 0);
	assert_int_equal(store_put_batch(w, &b, &ps), HC_ERR_TOOBIG);
	assert_int_equal(store_read_begin(w, &t), 0);
	assert_int_equal(store_latest(t, STORE_SHORT, &info), 0);
	assert_int_equal(info.ts_ms, T0 + 199 * RES);
	store_read_end(t);
	/* and the store still works afterwards */
	make_batch(&b, T0 + 301 * RES, 2, 0);
	assert_int_equal(store_put_batch(w, &b, &ps), 0);
	store_close(w);
	hc_batch_free(&b);
}

static int collect_stats(void *ctx, const char *name, size_t nl, const char *text,
			 size_t len)
{
	char *out = ctx;

	strncat(out, name, nl);
	strcat(out, "=");
	strncat(out, text, len);
	strcat(out, ";");
	return 0;
}

static void test_stats(void **state)
{
	struct store *w, *r;
	struct store_txn *t;
	char out[256] = "";

	(void)state;
	w = open_store(0, 30000, 0);
	assert_int_equal(store_stats_put(w, "scraper", "a 1\n", 4), 0);
	assert_int_equal(store_stats_put(w, "processor", "b 2\n", 4), 0);
	assert_int_equal(store_stats_put(w, "scraper", "a 3\n", 4), 0);   /* replaces */
	r = open_store(1, 30000, 0);
	assert_int_equal(store_read_begin(r, &t), 0);
	assert_int_equal(store_stats_scan(t, collect_stats, out), 0);
	store_read_end(t);
	assert_string_equal(out, "processor=b 2\n;scraper=a 3\n;");
	store_close(r);
	store_close(w);
}

/* The "labels" versions under key and version, counted with mdb_dump. */
static int count_label_versions(const char *entity)
{
	char cmd[700], line[1024];
	int n = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "mdb_dump -p -s labels '%s' 2>&1", dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (line[0] == ' ' && strncmp(line + 1, entity, strlen(entity)) == 0 &&
		    line[1 + strlen(entity)] == ' ')
			n++;
	pclose(f);
	return n;
}

/* The value of label key of entity `key` in batch ts, or "" if none. */
static const char *label_at(struct store *r, int64_t ts, const char *key,
			    const char *label, char *buf, size_t cap)
{
	struct store_txn *t;
	struct store_entity e;
	const char *v;
	uint32_t vl;

	buf[0] = '\0';
	assert_int_equal(store_read_begin(r, &t), 0);
	if (store_entity_get(t, STORE_SHORT, ts, key, strlen(key), &e) == 0 &&
	    store_label_get(e.labels, e.nlabels, label, &v, &vl) == 0)
		snprintf(buf, cap, "%.*s", (int)vl, v);
	store_read_end(t);
	return buf;
}

/*
 * Labels are written once per version: unchanged labels add nothing to
 * later batches, a change adds a version that only newer batches see, and
 * versions no stored batch refers to are collected as the ring moves on.
 */
static void test_label_versions(void **state)
{
	struct store *w, *r;
	struct hc_batch b;
	char buf[64];
	uint32_t s;

	(void)state;
	w = open_store(0, 30000, 0);
	r = open_store(1, 30000, 0);
	assert_int_equal(hc_batch_init(&b), 0);
	for (int i = 0; i < 3; i++) {
		make_batch(&b, T0 + i * RES, 2, i);
		assert_int_equal(store_put_batch(w, &b, NULL), 0);
	}
	assert_int_equal(count_label_versions("node:n1"), 1);
	/* node n1 gets a new label in batch 3 */
	make_batch(&b, T0 + 3 * RES, 2, 3);
	assert_int_equal(hc_batch_find(&b, "node:n1", 7, &s), 0);
	assert_int_equal(hc_batch_label(&b, s, HC_L_LABELS, "zone:b"), 0);
	assert_int_equal(store_put_batch(w, &b, NULL), 0);
	assert_int_equal(count_label_versions("node:n1"), 2);
	assert_string_equal(label_at(r, T0 + 2 * RES, "node:n1", HC_L_LABELS, buf, sizeof(buf)), "");
	assert_string_equal(label_at(r, T0 + 3 * RES, "node:n1", HC_L_LABELS, buf, sizeof(buf)), "zone:b");
	assert_string_equal(label_at(r, T0 + 2 * RES, "node:n1", HC_L_NODENAME, buf, sizeof(buf)), "n1");
	assert_string_equal(label_at(r, T0 + 3 * RES, "node:n1", HC_L_NODENAME, buf, sizeof(buf)), "n1");
	/* node n0 loses its labels from batch 4 on */
	for (int i = 4; i < 40; i++) {
		make_batch(&b, T0 + i * RES, 2, i);
		assert_int_equal(hc_batch_find(&b, "node:n1", 7, &s), 0);
		assert_int_equal(hc_batch_label(&b, s, HC_L_LABELS, "zone:b"), 0);
		assert_int_equal(hc_batch_find(&b, "node:n0", 7, &s), 0);
		b.sets[s].labels_n = 0;   /* no labels: no version */
		assert_int_equal(store_put_batch(w, &b, NULL), 0);
		if (i == 9) {
			/* the long ring (300 s) still holds batch 0: all are used */
			assert_int_equal(count_label_versions("node:n1"), 2);
			assert_int_equal(count_label_versions("node:n0"), 1);
		}
	}
	/* now it holds batches 9..39: the first n1 version and n0's are gone */
	assert_int_equal(count_label_versions("node:n1"), 1);
	assert_int_equal(count_label_versions("node:n0"), 0);
	assert_string_equal(label_at(r, T0 + 39 * RES, "node:n1", HC_L_LABELS, buf, sizeof(buf)), "zone:b");
	/* a restarted writer writes its versions again, then collects the old */
	/* (closing an environment frees every reader slot of the process:
	 * reopen the reader too) */
	store_close(r);
	store_close(w);
	w = open_store(0, 30000, 0);
	r = open_store(1, 30000, 0);
	for (int i = 80; i < 120; i++) {
		make_batch(&b, T0 + i * RES, 2, i);
		assert_int_equal(store_put_batch(w, &b, NULL), 0);
	}
	assert_int_equal(count_label_versions("node:n1"), 1);
	assert_string_equal(label_at(r, T0 + 119 * RES, "node:n1", HC_L_NODENAME, buf, sizeof(buf)), "n1");
	hc_batch_free(&b);
	store_close(r);
	store_close(w);
}

static void test_reopen_and_tools(void **state)
{
	struct store *w;
	struct hc_batch b;
	char cmd[600], out[65536];
	size_t n;
	FILE *p;

	(void)state;
	w = open_store(0, 30000, 0);
	assert_int_equal(hc_batch_init(&b), 0);
	make_batch(&b, T0, 2, 0);
	assert_int_equal(store_put_batch(w, &b, NULL), 0);
	store_close(w);
	/* reopened: names keep their ids, new batches append */
	w = open_store(0, 30000, 0);
	make_batch(&b, T0 + RES, 2, 1);
	assert_int_equal(store_put_batch(w, &b, NULL), 0);
	store_close(w);

	snprintf(cmd, sizeof(cmd), "mdb_stat -a '%s' 2>&1", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	for (const char *db = "meta\0names\0short.index\0short.data\0long.index\0long.data\0cursors\0stats\0labels\0";
	     *db; db += strlen(db) + 1) {
		char want[64];

		snprintf(want, sizeof(want), "Status of %s", db);
		assert_non_null(strstr(out, want));
	}
	snprintf(cmd, sizeof(cmd), "mdb_dump -p -s short.data '%s' 2>&1", dir);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, " 1764000000000 node:n1/container:kubelet"));
	assert_non_null(strstr(out, " 1764000010000 node:n0"));
	snprintf(cmd, sizeof(cmd), "mdb_dump -p -s short.index '%s' 2>&1", dir);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "sets=4 values=12 nodes_ok=2 nodes_failed=0"));
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_holds_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_and_tools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_versions, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
