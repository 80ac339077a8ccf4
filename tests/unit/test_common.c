/*
 * test_common.c - Heapster's --source/--sink syntax, durations, sizes,
 * RFC 3339 times, error texts, the zero-copy msgpack reader and the
 * batch's grouping of values by set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <msgpack.h>
#include <stdlib.h>

#include "batch.h"
#include "hc.h"
#include "mpread.h"
#include "uri.h"

static void test_source_uri(void **state)
{
	struct hc_uri u;
	int64_t port;
	int b;

	(void)state;
	assert_int_equal(hc_uri_parse("kubernetes.summary_api:http://127.0.0.1:8080"
				      "?inClusterConfig=false&kubeletPort=10255&auth=", &u), 0);
	assert_string_equal(u.kind, "kubernetes.summary_api");
	assert_string_equal(u.url, "http://127.0.0.1:8080");
	assert_string_equal(u.scheme, "http");
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8080);
	assert_int_equal(hc_uri_opt_bool(&u, "inClusterConfig", 1, &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(hc_uri_opt_int(&u, "kubeletPort", 10250, &port), 0);
	assert_int_equal(port, 10255);
	assert_string_equal(hc_uri_opt(&u, "auth"), "");
	assert_null(hc_uri_opt(&u, "insecure"));
	assert_int_equal(hc_uri_opt_bool(&u, "insecure", 0, &b), 0);
	assert_int_equal(b, 0);

	/* Heapster's empty-URL in-cluster form */
	assert_int_equal(hc_uri_parse("kubernetes:''?useServiceAccount=true", &u), 0);
	assert_string_equal(u.kind, "kubernetes");
	assert_string_equal(u.url, "''");

	/* IPv6 and percent-encoding */
	assert_int_equal(hc_uri_parse("influxdb:http://[::1]:8086?db=k8s&pw=a%26b%3Dc", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 8086);
	assert_string_equal(hc_uri_opt(&u, "pw"), "a&b=c");
	/* a repeated option keeps its last value */
	assert_int_equal(hc_uri_parse("influxdb:http://h:1?db=a&db=b", &u), 0);
	assert_string_equal(hc_uri_opt(&u, "db"), "b");
	/* a sink with no URL, with and without options */
	assert_int_equal(hc_uri_parse("log", &u), 0);
	assert_string_equal(u.kind, "log");
	assert_string_equal(u.url, "");
	assert_int_equal(hc_uri_parse("log?x=1", &u), 0);
	assert_string_equal(u.kind, "log");
	assert_string_equal(hc_uri_opt(&u, "x"), "1");
}

static void test_bad_uris(void **state)
{
	struct hc_uri u;
	int64_t n;
	int b;
	char big[2048];

	(void)state;
	assert_int_equal(hc_uri_parse("", &u), HC_ERR_CONFIG);
	assert_int_equal(hc_uri_parse(":http://x", &u), HC_ERR_CONFIG);
	assert_int_equal(hc_uri_parse("influxdb:http://h:99999", &u), HC_ERR_CONFIG);
	assert_int_equal(hc_uri_parse("influxdb:http://h:12ab", &u), HC_ERR_CONFIG);
	assert_int_equal(hc_uri_parse("influxdb:http://[::1", &u), HC_ERR_CONFIG);
	assert_int_equal(hc_uri_parse("influxdb:http://h?pw=%zz", &u), HC_ERR_CONFIG);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "log:", 4);
	assert_int_equal(hc_uri_parse(big, &u), HC_ERR_CONFIG);
	assert_int_equal(hc_uri_parse("x:y?kubeletPort=abc&insecure=maybe", &u), 0);
	assert_int_equal(hc_uri_opt_int(&u, "kubeletPort", 1, &n), HC_ERR_CONFIG);
	assert_int_equal(hc_uri_opt_bool(&u, "insecure", 0, &b), HC_ERR_CONFIG);
}

static void test_durations_sizes(void **state)
{
	int64_t ms;
	uint64_t sz;

	(void)state;
	assert_int_equal(hc_duration_parse("60s", &ms), 0);
	assert_int_equal(ms, 60000);
	assert_int_equal(hc_duration_parse("1m30s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(hc_duration_parse("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(hc_duration_parse("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	/* Go refuses a bare number (but 0): so do Heapster's flags */
	assert_int_equal(hc_duration_parse("15", &ms), HC_ERR_CONFIG);
	assert_int_equal(hc_duration_parse("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(hc_duration_parse("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(hc_duration_parse("", &ms), HC_ERR_CONFIG);
	assert_int_equal(hc_duration_parse("5x", &ms), HC_ERR_CONFIG);
	assert_int_equal(hc_duration_parse("-5s", &ms), HC_ERR_CONFIG);
	assert_int_equal(hc_size_parse("1G", &sz), 0);
	assert_int_equal(sz, 1ULL << 30);
	assert_int_equal(hc_size_parse("512Mi", &sz), 0);
	assert_int_equal(sz, 512ULL << 20);
	assert_int_equal(hc_size_parse("4096", &sz), 0);
	assert_int_equal(sz, 4096);
	assert_int_equal(hc_size_parse("1Q", &sz), HC_ERR_CONFIG);
}

static void test_times(void **state)
{
	char buf[32];
	int64_t ms;

	(void)state;
	assert_int_equal(hc_time_parse("2026-06-26T10:14:35Z", 20, &ms), 0);
	assert_int_equal(ms, 1782468875000LL);
	assert_int_equal(hc_time_format(ms, buf), 20);
	assert_string_equal(buf, "2026-06-26T10:14:35Z");
	assert_int_equal(hc_time_parse("2026-06-26T10:14:35.25Z", 23, &ms), 0);
	assert_int_equal(ms, 1782468875250LL);
	assert_int_equal(hc_time_parse("2026-06-26T12:14:35+02:00", 25, &ms), 0);
	assert_int_equal(ms, 1782468875000LL);
	assert_int_equal(hc_time_parse("1970-01-01T00:00:00Z", 20, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(hc_time_parse("2024-02-29T00:00:00Z", 20, &ms), 0);
	assert_int_equal(ms, 1709164800000LL);
	assert_int_equal(hc_time_parse("2026-13-01T00:00:00Z", 20, &ms), HC_ERR_PARSE);
	assert_int_equal(hc_time_parse("2026-06-26 garbage!!", 20, &ms), HC_ERR_PARSE);
	assert_int_equal(hc_time_parse("2026-06-26T10:14:35", 19, &ms), HC_ERR_PARSE);
	assert_int_equal(hc_time_parse("2026-06-26T10:14:35Zjunk", 24, &ms), HC_ERR_PARSE);
}

static void test_errors(void **state)
{
	(void)state;
	assert_string_equal(hc_strerror(0), "success");
	assert_string_equal(hc_strerror(HC_ERR_PARSE), "malformed input");
	assert_string_equal(hc_strerror(HC_ERR_SINK), "sink refused data");
	assert_string_equal(hc_strerror(-2), "No such file or directory");
	assert_string_equal(hc_strerror(-99999), "unknown error");
}

static void test_mpread(void **state)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct hc_mp m;
	const char *s;
	uint32_t n, len;
	int64_t i;
	double f;
	uint8_t type;

	(void)state;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 7);
	msgpack_pack_int64(&pk, -5);
	msgpack_pack_int64(&pk, 300);
	msgpack_pack_int64(&pk, -70000);
	msgpack_pack_int64(&pk, INT64_MAX);
	msgpack_pack_double(&pk, 0.125);
	msgpack_pack_str(&pk, 3);
	msgpack_pack_str_body(&pk, "abc", 3);
	msgpack_pack_map(&pk, 1);          /* skipped whole */
	msgpack_pack_nil(&pk);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_true(&pk);
	msgpack_pack_bin(&pk, 2);
	msgpack_pack_bin_body(&pk, "xy", 2);

	hc_mp_init(&m, sb.data, sb.size);
	assert_int_equal(hc_mp_array(&m, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(hc_mp_int(&m, &i), 0);
	assert_int_equal(i, -5);
	assert_int_equal(hc_mp_int(&m, &i), 0);
	assert_int_equal(i, 300);
	assert_int_equal(hc_mp_int(&m, &i), 0);
	assert_int_equal(i, -70000);
	assert_int_equal(hc_mp_int(&m, &i), 0);
	assert_int_equal(i, INT64_MAX);
	assert_int_equal(hc_mp_int(&m, &i), HC_ERR_PARSE);   /* a float is not an int */
	assert_int_equal(hc_mp_num(&m, &type, &i, &f), 0);
	assert_int_equal(type, 1);
	assert_true(f == 0.125);
	assert_int_equal(hc_mp_str(&m, &s, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "abc", 3);
	assert_int_equal(hc_mp_skip(&m), 0);
	assert_int_equal(m.p, (const uint8_t *)sb.data + sb.size);
	/* truncated input is refused at every length, never read past */
	for (size_t cut = 0; cut < sb.size; cut++) {
		int ok = 1;

		hc_mp_init(&m, sb.data, cut);
		ok = hc_mp_skip(&m) == 0;
		assert_false(ok);
	}
	/* a huge declared array in a tiny buffer */
	hc_mp_init(&m, "\xdd\xff\xff\xff\xff", 5);
	assert_int_equal(hc_mp_skip(&m), HC_ERR_PARSE);
	msgpack_sbuffer_destroy(&sb);
}

/*
 * hc_batch_group() against a shadow record of what each set was given, in
 * order, over rounds that hit each of its paths: values appended set by
 * set, appended only for sets that had none, appended anywhere (the merge),
 * and a rollback of nvals behind its back (the full sort).
 */
#define G_SETS 40
#define G_MAX  4000

static void check_groups(struct hc_batch *b, int64_t (*shadow)[G_MAX], const int *n)
{
	assert_int_equal(hc_batch_group(b), 0);
	for (uint32_t s = 0; s < b->nsets; s++) {
		const struct hc_set *set = &b->sets[s];

		assert_int_equal(set->vals_n, n[s]);
		for (uint32_t i = 0; i < set->vals_n; i++) {
			assert_int_equal(b->vals[set->vals_off + i].set, s);
			assert_int_equal(b->vals[set->vals_off + i].v.i, shadow[s][i]);
		}
	}
}

/* hc_batch_find_near(): a right guess, a wrong one, none, and a miss. */
static void test_batch_find_near(void **state)
{
	struct hc_batch b;
	uint32_t s, idx;

	(void)state;
	assert_int_equal(hc_batch_init(&b), 0);
	assert_int_equal(hc_batch_set(&b, "node:a", 6, &s, NULL), 0);
	assert_int_equal(hc_batch_set(&b, "node:ab", 7, &s, NULL), 0);
	assert_int_equal(hc_batch_set(&b, "node:b", 6, &s, NULL), 0);
	assert_int_equal(hc_batch_find_near(&b, "node:ab", 7, 1, &idx), 0);
	assert_int_equal(idx, 1);
	/* a guess that is a prefix of the key, or the key a prefix of it */
	assert_int_equal(hc_batch_find_near(&b, "node:ab", 7, 0, &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(hc_batch_find_near(&b, "node:a", 6, 1, &idx), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(hc_batch_find_near(&b, "node:b", 6, UINT32_MAX, &idx), 0);
	assert_int_equal(idx, 2);
	assert_int_equal(hc_batch_find_near(&b, "node:c", 6, 2, &idx), HC_ERR_NOTFOUND);
	hc_batch_free(&b);
}

/*
 * A reset arena reuses its blocks: the same allocations after a reset get
 * the same addresses back, and oversize blocks are freed (ASan checks the
 * leak side).
 */
static void test_arena_reuse(void **state)
{
	struct hc_arena a;
	char *first[3], *again[3];

	(void)state;
	hc_arena_init(&a, 1024);
	for (int round = 0; round < 3; round++) {
		char **p = round == 0 ? first : again;

		for (int i = 0; i < 3; i++) {
			p[i] = hc_arena_alloc(&a, 1000);   /* one block each */
			assert_non_null(p[i]);
			memset(p[i], 'x', 1000);
		}
		assert_non_null(hc_arena_alloc(&a, 5000));   /* oversize */
		if (round > 0) {
			/* the same three blocks, in some order */
			for (int i = 0; i < 3; i++)
				assert_true(again[i] == first[0] || again[i] == first[1] ||
					    again[i] == first[2]);
		}
		hc_arena_reset(&a);
	}
	hc_arena_free(&a);
}

/* Checks every set's run: its values are the set's, in order of ids given. */
static void check_runs(const struct hc_batch *b, const uint32_t *want_n)
{
	uint32_t holes = 0;

	for (uint32_t s = 0; s < b->nsets; s++) {
		const struct hc_set *set = &b->sets[s];

		assert_int_equal(set->vals_n, want_n[s]);
		assert_true(set->vals_cap >= set->vals_n);
		for (uint32_t i = 0; i < set->vals_n; i++) {
			assert_int_equal(b->vals[set->vals_off + i].set, s);
			assert_int_equal(b->vals[set->vals_off + i].v.i, 100 * s + i);
		}
	}
	for (uint32_t i = 0; i < b->nvals; i++)
		holes += b->vals[i].set == HC_HOLE;
	assert_int_equal(holes, b->nholes);
}

/*
 * Room mode: decoding-order adds leave room after each run; adds into the
 * room keep the batch grouped; a set that outgrows its room ungroups it
 * and hc_batch_group() compacts and gives the room back.
 */
static void test_batch_room(void **state)
{
	static const uint8_t room[HC_T_CLUSTER + 1] = { [HC_T_NODE] = 2, [HC_T_POD] = 1 };
	uint32_t want[3] = { 0 }, s;
	struct hc_batch b;
	const char *keys[3] = { "node:a", "namespace:n/pod:p", "node:b" };
	const char *types[3] = { HC_TYPE_NODE, HC_TYPE_POD, HC_TYPE_NODE };

	(void)state;
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_set_room(&b, room, sizeof(room));
	hc_batch_reset(&b, 1000);
	assert_true(b.grouped);
	for (uint32_t k = 0; k < 3; k++) {
		assert_int_equal(hc_batch_set(&b, keys[k], strlen(keys[k]), &s, NULL), 0);
		assert_int_equal(hc_batch_label(&b, s, HC_L_TYPE, types[k]), 0);
		for (uint32_t i = 0; i < 2; i++)
			assert_int_equal(hc_batch_add_int(&b, s, HC_M_MEM_USAGE, 100 * s + want[s]++), 0);
	}
	/* node:a 2 + 2 room, the pod 2 + 1 room, node:b last: no room */
	assert_true(b.grouped);
	assert_int_equal(b.nvals, 9);
	assert_int_equal(b.nholes, 3);
	assert_int_equal(hc_batch_count(&b), 6);
	check_runs(&b, want);
	/* into the room of node:a and the pod, and at the end for node:b */
	assert_int_equal(hc_batch_add_int(&b, 0, HC_M_MEM_USAGE, 100 * 0 + want[0]++), 0);
	assert_int_equal(hc_batch_add_int(&b, 1, HC_M_MEM_USAGE, 100 * 1 + want[1]++), 0);
	assert_int_equal(hc_batch_add_int(&b, 2, HC_M_MEM_USAGE, 100 * 2 + want[2]++), 0);
	assert_true(b.grouped);
	assert_int_equal(b.nholes, 1);
	assert_int_equal(b.nvals, 10);
	check_runs(&b, want);
	/* the pod outgrows its room: ungrouped until regrouped */
	assert_int_equal(hc_batch_add_int(&b, 1, HC_M_MEM_USAGE, 100 * 1 + want[1]++), 0);
	assert_false(b.grouped);
	assert_int_equal(hc_batch_count(&b), 10);
	assert_int_equal(hc_batch_group(&b), 0);
	assert_true(b.grouped);
	check_runs(&b, want);
	assert_int_equal(hc_batch_count(&b), 10);
	/* every run but the last got its room back: node:a 2, the pod 1 */
	assert_int_equal(b.sets[0].vals_cap, want[0] + 2);
	assert_int_equal(b.sets[1].vals_cap, want[1] + 1);
	assert_int_equal(b.sets[2].vals_cap, want[2]);
	assert_int_equal(b.nholes, 3);
	assert_int_equal(hc_batch_add_int(&b, 1, HC_M_MEM_USAGE, 100 * 1 + want[1]++), 0);
	assert_true(b.grouped);
	check_runs(&b, want);
	assert_int_equal(hc_batch_last(&b)->v.i, 100 * 1 + want[1] - 1);
	/* a new set starts a run at the end, after node:b's room (none: last) */
	assert_int_equal(hc_batch_set(&b, "cluster", 7, &s, NULL), 0);
	assert_int_equal(hc_batch_add_int(&b, s, HC_M_MEM_USAGE, 100 * s), 0);
	assert_true(b.grouped);
	{
		uint32_t want4[4] = { want[0], want[1], want[2], 1 };

		check_runs(&b, want4);
	}
	hc_batch_free(&b);
}

static void test_batch_group(void **state)
{
	static int64_t shadow[G_SETS][G_MAX];
	int n[G_SETS] = { 0 };
	struct hc_batch b;
	int64_t next = 1;
	uint32_t s;

	(void)state;
	srand(7);
	assert_int_equal(hc_batch_init(&b), 0);
	hc_batch_reset(&b, 0);
	for (int round = 0; round < 60; round++) {
		int mode = round % 4, nsets = (int)b.nsets;

		if (nsets < G_SETS && (mode == 1 || nsets == 0)) {
			/* new sets, each given a run */
			for (int k = 0; k < 3 && (int)b.nsets < G_SETS; k++) {
				char key[16];

				snprintf(key, sizeof(key), "s%u", b.nsets);
				assert_int_equal(hc_batch_set(&b, key, strlen(key), &s, NULL), 0);
				for (int v = 0; v < 5; v++, next++) {
					assert_int_equal(hc_batch_add_int(&b, s, 0, next), 0);
					shadow[s][n[s]++] = next;
				}
			}
		} else if (mode == 3 && b.nvals > 10) {
			/* a caller rolls back the last values, then adds others */
			b.nvals -= 10;
			b.grouped = 0;
			memset(n, 0, sizeof(n));
			for (uint32_t i = 0; i < b.nvals; i++)
				shadow[b.vals[i].set][n[b.vals[i].set]++] = b.vals[i].v.i;
			for (int k = 0; k < 4; k++, next++) {
				s = (uint32_t)rand() % b.nsets;
				assert_int_equal(hc_batch_add_int(&b, s, 0, next), 0);
				shadow[s][n[s]++] = next;
			}
		} else {
			/* values for random existing sets, interleaved */
			for (int k = 0; k < 30; k++, next++) {
				s = (uint32_t)rand() % b.nsets;
				assert_int_equal(hc_batch_add_int(&b, s, 0, next), 0);
				shadow[s][n[s]++] = next;
			}
		}
		check_groups(&b, shadow, n);
		/* grouping twice changes nothing */
		check_groups(&b, shadow, n);
	}
	hc_batch_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_uri),
		cmocka_unit_test(test_bad_uris),
		cmocka_unit_test(test_durations_sizes),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_mpread),
		cmocka_unit_test(test_batch_group),
		cmocka_unit_test(test_batch_find_near),
		cmocka_unit_test(test_batch_room),
		cmocka_unit_test(test_arena_reuse),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
