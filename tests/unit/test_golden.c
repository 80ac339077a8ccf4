/*
 * test_golden.c - golden tests: real summaries scraped twice with known
 * deltas, the pod, namespace and node lists, run through the scraper's
 * parsers and the processors in process_batch()'s order (rates, pod and
 * namespace enrichers, aggregators, node autoscaling enricher, workload
 * aggregator), and every metric set of the second batch compared with
 * tests/golden/expected-*.json.
 *
 * The expected files, and the second scrapes they describe, are written by
 * tests/golden/make_golden.py, an independent implementation of REFERENCE
 * §2-§4 in Python (see tests/golden/README.md); nothing here computes an
 * expected value.  The expected file names its inputs ("fixtures:NAME" in
 * ../shared/fixtures or $HC_FIXTURES, "golden:NAME" in tests/golden), the
 * batch times and the scrape times, so one runner serves every scenario.
 *
 * A set's "metrics" lists every unlabeled metric it must have, with its
 * value (an int without a decimal point, a float with one: the type must
 * match too); "absent" metrics must not be there; "unchecked" ones may or
 * may not.  Every set of the batch must be expected, and no "absent_sets"
 * may exist.  Each mismatch is printed with the set, the metric, the
 * expected and the actual value; the test fails if there is any.
 * Runs from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include <msgpack.h>

#include "aggregate.h"
#include "batch.h"
#include "codec.h"
#include "enrich.h"
#include "hc.h"
#include "json.h"
#include "kmeta.h"
#include "log.h"
#include "meta.h"
#include "nodes.h"
#include "rate.h"
#include "summary.h"

#define GOLDEN_DIR "tests/golden"
#define MAX_PODLISTS 4
#define REF_MAX 512

/* ---- files ---------------------------------------------------------------- */

/* "fixtures:NAME" or "golden:NAME" -> its path. */
static void resolve(const char *ref, char *path, size_t cap)
{
	const char *fx = getenv("HC_FIXTURES");

	if (strncmp(ref, "fixtures:", 9) == 0)
		snprintf(path, cap, "%s/%s", fx ? fx : "../shared/fixtures", ref + 9);
	else if (strncmp(ref, "golden:", 7) == 0)
		snprintf(path, cap, "%s/%s", GOLDEN_DIR, ref + 7);
	else
		fail_msg("input '%s': neither fixtures: nor golden:", ref);
}

static char *load(const char *ref, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	resolve(ref, path, sizeof(path));
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root; "
			 "regenerate with python3 tests/golden/make_golden.py)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* ---- the expected file's "inputs" ------------------------------------------ */

struct inputs {
	char    t0_summary[REF_MAX], t1_summary[REF_MAX];
	char    nodelist[REF_MAX], namespaces[REF_MAX];    /* "" when null */
	char    t0_podlists[MAX_PODLISTS][REF_MAX], t1_podlists[MAX_PODLISTS][REF_MAX];
	int     n_t0_podlists, n_t1_podlists;
	int64_t t0_batch_ms, t1_batch_ms, t0_now_ms, t1_now_ms;
};

static void get_str(struct scr_json *j, char *dst, size_t cap)
{
	struct scr_str s;

	dst[0] = '\0';
	if (scr_json_get_str(j, &s))
		assert_true(scr_json_unescape(&s, dst, cap) > 0 || s.len == 0);
}

static int get_str_list(struct scr_json *j, char (*dst)[REF_MAX])
{
	int n = 0;

	if (!scr_json_arr_enter(j))
		return 0;
	while (scr_json_arr_next(j)) {
		assert_true(n < MAX_PODLISTS);
		get_str(j, dst[n++], REF_MAX);
	}
	return n;
}

static void read_inputs(const char *json, size_t len, struct inputs *in)
{
	struct scr_json j;
	struct scr_str k;
	int found = 0;

	memset(in, 0, sizeof(*in));
	scr_json_init(&j, json, len);
	assert_true(scr_json_obj_enter(&j));
	while (scr_json_obj_next(&j, &k)) {
		if (!SCR_KEY_IS(k, "inputs")) {
			scr_json_skip(&j);
			continue;
		}
		found = 1;
		assert_true(scr_json_obj_enter(&j));
		while (scr_json_obj_next(&j, &k)) {
			if (SCR_KEY_IS(k, "t0_summary"))
				get_str(&j, in->t0_summary, REF_MAX);
			else if (SCR_KEY_IS(k, "t1_summary"))
				get_str(&j, in->t1_summary, REF_MAX);
			else if (SCR_KEY_IS(k, "nodelist"))
				get_str(&j, in->nodelist, REF_MAX);
			else if (SCR_KEY_IS(k, "namespaces"))
				get_str(&j, in->namespaces, REF_MAX);
			else if (SCR_KEY_IS(k, "t0_podlists"))
				in->n_t0_podlists = get_str_list(&j, in->t0_podlists);
			else if (SCR_KEY_IS(k, "t1_podlists"))
				in->n_t1_podlists = get_str_list(&j, in->t1_podlists);
			else if (SCR_KEY_IS(k, "t0_batch_ms"))
				assert_true(scr_json_get_i64(&j, &in->t0_batch_ms));
			else if (SCR_KEY_IS(k, "t1_batch_ms"))
				assert_true(scr_json_get_i64(&j, &in->t1_batch_ms));
			else if (SCR_KEY_IS(k, "t0_now_ms"))
				assert_true(scr_json_get_i64(&j, &in->t0_now_ms));
			else if (SCR_KEY_IS(k, "t1_now_ms"))
				assert_true(scr_json_get_i64(&j, &in->t1_now_ms));
			else
				scr_json_skip(&j);
		}
	}
	assert_true(found);
	assert_true(in->t0_summary[0] && in->t1_summary[0] && in->nodelist[0]);
	assert_true(in->t0_batch_ms > 0 && in->t1_batch_ms > in->t0_batch_ms);
}

/* ---- building the batches ---------------------------------------------------- */

struct golden {
	struct inputs       in;
	struct scr_nodelist nl;
	struct scr_node     node;
	struct hc_batch     meta0, meta1, b;
	struct hc_batch     scr;        /* room mode: the scraper's batch */
	int                 room;       /* process as the processor does: decoded
					 * from the stream into a batch with room */
	struct proc_rates   rates;
	char               *expected;
	size_t              expected_len;
};

/* The metadata batch of one round, as the scraper builds it. */
static void build_meta(struct golden *g, struct hc_batch *meta, int64_t ts,
		       char (*podlists)[REF_MAX], int npodlists)
{
	struct scr_meta_ctx c;
	char cont[SCR_CONT_MAX];
	size_t len;
	char *json;

	assert_int_equal(hc_batch_init(meta), 0);
	hc_batch_reset(meta, ts);
	assert_int_equal(scr_meta_ctx_init(&c), 0);
	assert_int_equal(scr_meta_nodes(&g->nl, &c, meta), 0);
	if (g->in.namespaces[0]) {
		json = load(g->in.namespaces, &len);
		assert_int_equal(scr_meta_namespaces_parse(json, len, &c, meta, cont), 0);
		free(json);
	}
	for (int i = 0; i < npodlists; i++) {
		json = load(podlists[i], &len);
		assert_int_equal(scr_meta_pods_parse(json, len, &c, meta, cont), 0);
		assert_string_equal(cont, "");
		free(json);
	}
	scr_meta_ctx_free(&c);
	assert_int_equal(hc_batch_group(meta), 0);
}

/* One resolution: scrape, then process_batch()'s processors in its order. */
static void run_batch(struct golden *g, const char *summary, int64_t ts, int64_t now,
		      const struct hc_batch *meta)
{
	size_t len;
	char *json = load(summary, &len);

	hc_batch_reset(&g->b, ts);
	g->node.now_ms = now;
	if (g->room) {
		/* the processor's path: scraped, encoded, decoded with room */
		struct hc_decoder d;
		msgpack_sbuffer sb;

		hc_batch_reset(&g->scr, ts);
		assert_int_equal(scr_summary_parse(json, len, &g->node, &g->scr), 0);
		msgpack_sbuffer_init(&sb);
		assert_int_equal(hc_codec_encode(&g->scr, hc_codec_sbuffer_write, &sb), 0);
		assert_int_equal(hc_decoder_init(&d, &g->b), 0);
		assert_int_equal(hc_decoder_feed(&d, sb.data, sb.size), 0);
		assert_int_equal(hc_decoder_finish(&d), 0);
		hc_decoder_free(&d);
		msgpack_sbuffer_destroy(&sb);
		assert_true(g->b.grouped);   /* decoded in order: grouped, with room */
	} else {
		assert_int_equal(scr_summary_parse(json, len, &g->node, &g->b), 0);
	}
	free(json);            /* the batch must own everything it references */
	assert_int_equal(proc_rates_apply(&g->rates, &g->b), 0);
	assert_int_equal(proc_enrich_pods(&g->b, meta, NULL), 0);
	assert_int_equal(proc_aggregate(&g->b), 0);
	assert_int_equal(proc_enrich_nodes(&g->b, meta), 0);
	assert_int_equal(proc_aggregate_workloads(&g->b, meta), 0);
	assert_int_equal(hc_batch_group(&g->b), 0);
}

static int is_rate(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, "_rate") == 0;
}

/*
 * Reads the scenario and runs both scrapes; g->b is the processed t1 batch.
 * `room`: with the room the processor gives its batches (tiny, so that
 * some sets outgrow it and regroup, and others fill it exactly).
 */
static void golden_run(struct golden *g, const char *expected_name, int room)
{
	static const uint8_t sizes[HC_T_CLUSTER + 1] = {
		[HC_T_POD_CONTAINER] = 3, [HC_T_POD] = 1, [HC_T_NODE] = 40,
	};
	char ref[REF_MAX];
	size_t len;
	char *json;

	memset(g, 0, sizeof(*g));
	g->room = room;
	snprintf(ref, sizeof(ref), "golden:%s", expected_name);
	g->expected = load(ref, &g->expected_len);
	assert_int_equal(scr_json_validate(g->expected, g->expected_len, NULL, NULL), 0);
	read_inputs(g->expected, g->expected_len, &g->in);

	scr_nodelist_init(&g->nl);
	json = load(g->in.nodelist, &len);
	assert_int_equal(scr_nodes_parse(json, len, NULL, &g->nl), 0);
	free(json);
	assert_true(g->nl.n >= 1);
	g->node = g->nl.nodes[0];
	build_meta(g, &g->meta0, g->in.t0_batch_ms, g->in.t0_podlists, g->in.n_t0_podlists);
	build_meta(g, &g->meta1, g->in.t1_batch_ms, g->in.t1_podlists, g->in.n_t1_podlists);

	assert_int_equal(proc_rates_init(&g->rates), 0);
	assert_int_equal(hc_batch_init(&g->b), 0);
	assert_int_equal(hc_batch_init(&g->scr), 0);
	if (room)
		hc_batch_set_room(&g->b, sizes, sizeof(sizes));
	run_batch(g, g->in.t0_summary, g->in.t0_batch_ms, g->in.t0_now_ms, &g->meta0);
	/* the first batch has no previous point: no rate anywhere */
	for (uint32_t v = 0; v < g->b.nvals; v++)
		if (g->b.vals[v].set != HC_HOLE && is_rate(g->b.names[g->b.vals[v].name]))
			fail_msg("t0: set %s has %s: the first batch has no rates",
				 g->b.sets[g->b.vals[v].set].key, g->b.names[g->b.vals[v].name]);
	run_batch(g, g->in.t1_summary, g->in.t1_batch_ms, g->in.t1_now_ms, &g->meta1);
}

static void golden_free(struct golden *g)
{
	proc_rates_free(&g->rates);
	hc_batch_free(&g->b);
	hc_batch_free(&g->scr);
	hc_batch_free(&g->meta0);
	hc_batch_free(&g->meta1);
	scr_nodelist_free(&g->nl);
	free(g->expected);
}

/* ---- comparing ------------------------------------------------------------------ */

struct cmp {
	const struct hc_batch *b;
	int        strict;      /* every set and every plain metric must be expected */
	int        quiet;       /* count mismatches without printing them */
	int        mismatches;
	uint8_t   *set_seen;    /* per set of b */
};

static void mismatch(struct cmp *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void mismatch(struct cmp *c, const char *fmt, ...)
{
	va_list ap;

	c->mismatches++;
	if (c->quiet)
		return;
	fprintf(stderr, "golden mismatch: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void str_at(struct scr_json *j, char *dst, size_t cap)
{
	struct scr_str s;

	dst[0] = '\0';
	if (scr_json_get_str(j, &s) && s.len > 0)
		assert_true(scr_json_unescape(&s, dst, cap) > 0);
}

/* The unlabeled value of `name` in set s, or NULL; *idx its index in the set. */
static const struct hc_value *plain_value(const struct hc_batch *b, uint32_t s,
					  const char *name, uint32_t *idx)
{
	const struct hc_set *set = &b->sets[s];
	const struct hc_value *found = NULL;
	uint32_t id;

	if (hc_map_get(&b->name_index, name, strlen(name), &id) != 0)
		return NULL;
	for (uint32_t i = 0; i < set->vals_n; i++) {
		const struct hc_value *v = &b->vals[set->vals_off + i];

		if (v->name == id && v->labels_n == 0 && found == NULL) {
			found = v;
			*idx = i;
		}
	}
	return found;
}

static void fmt_value(const struct hc_value *v, char *buf, size_t cap)
{
	if (v->type == HC_FLOAT)
		snprintf(buf, cap, "%.17g (float)", v->v.f);
	else
		snprintf(buf, cap, "%lld (int)", (long long)v->v.i);
}

/* "metrics": {name: number, ...} of set s. */
static void cmp_metrics(struct cmp *c, struct scr_json *j, const char *key, uint32_t s,
			uint8_t *checked)
{
	struct scr_str k;

	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		char name[256], tok[64], got[64];
		const struct hc_value *v;
		const char *start;
		size_t n;
		uint32_t idx;
		int want_float;

		assert_true(k.len < sizeof(name));
		memcpy(name, k.p, k.len);
		name[k.len] = '\0';
		scr_json_peek(j);
		start = j->p;
		scr_json_skip(j);
		n = (size_t)(j->p - start);
		assert_true(n > 0 && n < sizeof(tok));
		memcpy(tok, start, n);
		tok[n] = '\0';
		want_float = strpbrk(tok, ".eE") != NULL;
		v = plain_value(c->b, s, name, &idx);
		if (v == NULL) {
			mismatch(c, "set %s: metric %s: expected %s (%s), got nothing", key, name,
				 tok, want_float ? "float" : "int");
			continue;
		}
		checked[idx] = 1;
		fmt_value(v, got, sizeof(got));
		if (want_float != (v->type == HC_FLOAT)) {
			mismatch(c, "set %s: metric %s: expected %s (%s), got %s", key, name, tok,
				 want_float ? "float" : "int", got);
		} else if (want_float) {
			double want = strtod(tok, NULL);

			if (!(fabs(v->v.f - want) <= 1e-9 * fmax(fabs(want), fabs(v->v.f))))
				mismatch(c, "set %s: metric %s: expected %s, got %s", key, name, tok, got);
		} else if (v->v.i != strtoll(tok, NULL, 10)) {
			mismatch(c, "set %s: metric %s: expected %s, got %s", key, name, tok, got);
		}
	}
}

/* "absent" (unchecked = 0) or "unchecked" (unchecked = 1): lists of names. */
static void cmp_names(struct cmp *c, struct scr_json *j, const char *key, uint32_t s,
		      uint8_t *checked, int unchecked)
{
	if (!scr_json_arr_enter(j))
		return;
	while (scr_json_arr_next(j)) {
		char name[256], got[64];
		const struct hc_value *v;
		uint32_t idx;

		str_at(j, name, sizeof(name));
		v = plain_value(c->b, s, name, &idx);
		if (v == NULL)
			continue;
		checked[idx] = 1;
		if (!unchecked) {
			fmt_value(v, got, sizeof(got));
			mismatch(c, "set %s: metric %s: expected absent, got %s", key, name, got);
		}
	}
}

static void cmp_labels(struct cmp *c, struct scr_json *j, const char *key, uint32_t s)
{
	struct scr_str k;

	if (!scr_json_obj_enter(j))
		return;
	while (scr_json_obj_next(j, &k)) {
		char name[256], want[4096];
		const char *got;

		assert_true(k.len < sizeof(name));
		memcpy(name, k.p, k.len);
		name[k.len] = '\0';
		str_at(j, want, sizeof(want));
		got = hc_batch_get_label(c->b, s, name);
		if (got == NULL)
			mismatch(c, "set %s: label %s: expected '%s', got nothing", key, name, want);
		else if (strcmp(got, want) != 0)
			mismatch(c, "set %s: label %s: expected '%s', got '%s'", key, name, want, got);
	}
}

/* One entry of "sets". */
static void cmp_set(struct cmp *c, struct scr_json *j, const char *key)
{
	struct scr_str k;
	uint8_t *checked;
	uint32_t s;

	if (hc_batch_find(c->b, key, strlen(key), &s) != 0) {
		mismatch(c, "set %s: expected, not in the batch", key);
		scr_json_skip(j);
		return;
	}
	c->set_seen[s] = 1;
	checked = calloc(c->b->sets[s].vals_n + 1, 1);
	assert_non_null(checked);
	assert_true(scr_json_obj_enter(j));
	while (scr_json_obj_next(j, &k)) {
		if (SCR_KEY_IS(k, "labels"))
			cmp_labels(c, j, key, s);
		else if (SCR_KEY_IS(k, "metrics"))
			cmp_metrics(c, j, key, s, checked);
		else if (SCR_KEY_IS(k, "absent"))
			cmp_names(c, j, key, s, checked, 0);
		else if (SCR_KEY_IS(k, "unchecked"))
			cmp_names(c, j, key, s, checked, 1);
		else
			scr_json_skip(j);
	}
	/* every plain metric accounted for, and none twice */
	for (uint32_t i = 0; i < c->b->sets[s].vals_n; i++) {
		const struct hc_value *v = &c->b->vals[c->b->sets[s].vals_off + i];
		const char *name = c->b->names[v->name];
		uint32_t first;
		char got[64];

		if (v->labels_n != 0)
			continue;
		fmt_value(v, got, sizeof(got));
		if (plain_value(c->b, s, name, &first) != v)
			mismatch(c, "set %s: metric %s twice (again = %s)", key, name, got);
		else if (c->strict && !checked[i])
			mismatch(c, "set %s: metric %s: not expected, got %s", key, name, got);
	}
	free(checked);
}

/* Compares b with an expected document; returns the number of mismatches. */
static int golden_compare(const struct hc_batch *b, const char *json, size_t len,
			  int strict, int quiet)
{
	struct cmp c = { b, strict, quiet, 0, NULL };
	struct scr_json j;
	struct scr_str k;
	int nsets = 0;

	assert_int_equal(scr_json_validate(json, len, NULL, NULL), 0);
	c.set_seen = calloc(b->nsets + 1, 1);
	assert_non_null(c.set_seen);
	scr_json_init(&j, json, len);
	assert_true(scr_json_obj_enter(&j));
	while (scr_json_obj_next(&j, &k)) {
		if (SCR_KEY_IS(k, "sets")) {
			assert_true(scr_json_obj_enter(&j));
			while (scr_json_obj_next(&j, &k)) {
				char key[1024];

				assert_true(k.len < sizeof(key));
				memcpy(key, k.p, k.len);
				key[k.len] = '\0';
				cmp_set(&c, &j, key);
				nsets++;
			}
		} else if (SCR_KEY_IS(k, "absent_sets")) {
			if (!scr_json_arr_enter(&j))
				continue;
			while (scr_json_arr_next(&j)) {
				char key[1024];
				uint32_t s;

				str_at(&j, key, sizeof(key));
				if (hc_batch_find(b, key, strlen(key), &s) == 0)
					mismatch(&c, "set %s: expected absent, is in the batch", key);
			}
		} else {
			scr_json_skip(&j);
		}
	}
	assert_true(nsets > 0);
	for (uint32_t s = 0; strict && s < b->nsets; s++)
		if (!c.set_seen[s])
			mismatch(&c, "set %s: in the batch, not expected", b->sets[s].key);
	free(c.set_seen);
	return c.mismatches;
}

static void golden_check(const char *expected_name, int room)
{
	struct golden g;
	int n;

	golden_run(&g, expected_name, room);
	n = golden_compare(&g.b, g.expected, g.expected_len, 1, 0);
	golden_free(&g);
	if (n != 0)
		fail_msg("%s: %d mismatches (listed above); if the change is intended, "
			 "fix tests/golden/make_golden.py, regenerate and review the diff",
			 expected_name, n);
}

/* ---- tests --------------------------------------------------------------------- */

/* Kubernetes 1.35 (minikube): resets, restarts, deleted and new pods,
 * request-only containers, workloads, node ratios. */
static void test_golden_135(void **state)
{
	(void)state;
	golden_check("expected-1.35.json", 0);
}

/* The same through the processor's path: decoded into a batch with room. */
static void test_golden_135_room(void **state)
{
	(void)state;
	golden_check("expected-1.35.json", 1);
}

/* metrics-server's kind summary: zero and missing fields, pods with no
 * requests, a pod with no metadata, a node with no allocatable. */
static void test_golden_kind(void **state)
{
	(void)state;
	golden_check("expected-kind.json", 0);
}

static void test_golden_kind_room(void **state)
{
	(void)state;
	golden_check("expected-kind.json", 1);
}

/* The comparison itself: wrong values, types, labels, absences and sets
 * are each counted once; right ones are not. */
static void test_golden_compare_detects(void **state)
{
	static const char right[] =
		"{\"sets\":{"
		"\"node:datagen-1-35\":{\"labels\":{\"type\":\"node\"},"
		"\"metrics\":{\"cpu/usage_rate\":333,\"memory/page_faults_rate\":100.0}},"
		"\"namespace:kube-system/pod:kube-apiserver-datagen-1-35/container:kube-apiserver\":"
		"{\"absent\":[\"cpu/usage_rate\"]}},"
		"\"absent_sets\":[\"namespace:scraper/pod:e2e-deployment-79967c5968-zjslc\"]}";
	static const char wrong[] =
		"{\"sets\":{"
		"\"node:datagen-1-35\":{\"labels\":{\"type\":\"pod\"},"      /* 1: label */
		"\"metrics\":{\"cpu/usage_rate\":334,"                        /* 2: value */
		"\"memory/page_faults_rate\":100,"                            /* 3: type */
		"\"memory/node_utilization\":0.375}},"                        /* 4: float value */
		"\"namespace:kube-system/pod:kube-apiserver-datagen-1-35/container:kube-apiserver\":"
		"{\"absent\":[\"memory/page_faults_rate\"]},"                 /* 5: present */
		"\"namespace:nowhere/pod:p\":{}},"                            /* 6: no set */
		"\"absent_sets\":[\"namespace:scraper/pod:e2e-statefulset-0\"]}";   /* 7 */
	struct golden g;

	(void)state;
	golden_run(&g, "expected-1.35.json", 0);
	assert_int_equal(golden_compare(&g.b, right, sizeof(right) - 1, 0, 0), 0);
	assert_int_equal(golden_compare(&g.b, wrong, sizeof(wrong) - 1, 0, 1), 7);
	/* strict: every other set and metric is unexpected */
	assert_true(golden_compare(&g.b, right, sizeof(right) - 1, 1, 1) > 50);
	golden_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_135),
		cmocka_unit_test(test_golden_135_room),
		cmocka_unit_test(test_golden_kind),
		cmocka_unit_test(test_golden_kind_room),
		cmocka_unit_test(test_golden_compare_detects),
	};

	hc_log_init("test_golden", HC_LOG_ERROR + 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
