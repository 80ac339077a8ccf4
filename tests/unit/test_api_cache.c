/*
 * test_api_cache.c - the API server's response cache (apiserver/api_util.c):
 * hits only for the same path, query and tag; the request time rewritten
 * in a cached body; the size limits; a slot shared by two keys; clearing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api_util.h"
#include "hc.h"

#define PATH "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/p1"

static const int64_t tag1[API_CACHE_TAGS] = { 1764063600000, 0, 0, 0 };
static const int64_t tag2[API_CACHE_TAGS] = { 1764063615000, 0, 0, 0 };

/* Finds path/query under tag (now: 0), or NULL. */
static const struct api_cache_ent *find(struct api_cache *c, const char *path,
					const char *query, const int64_t *tag)
{
	return api_cache_find(c, api_cache_hash(path, query), path, query, tag, 0);
}

static int put(struct api_cache *c, const char *path, const char *query,
	       const int64_t *tag, const char *body, uint32_t now_off)
{
	return api_cache_put(c, api_cache_hash(path, query), path, query, tag,
			     body, strlen(body), now_off);
}

static void test_hit_and_miss(void **state)
{
	struct api_cache c;
	const struct api_cache_ent *e;

	(void)state;
	api_cache_init(&c, 64, 1024, 1 << 20);
	assert_null(find(&c, PATH, NULL, tag1));   /* nothing allocated yet */
	assert_int_equal(put(&c, PATH, NULL, tag1, "{\"a\":1}", API_CACHE_NO_NOW), 0);
	e = find(&c, PATH, NULL, tag1);
	assert_non_null(e);
	assert_int_equal(e->body_len, 7);
	assert_memory_equal(e->body, "{\"a\":1}", 7);
	/* another batch, another path, a query: all miss */
	assert_null(find(&c, PATH, NULL, tag2));
	assert_null(find(&c, PATH "x", NULL, tag1));
	assert_null(find(&c, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/p", NULL, tag1));
	assert_null(find(&c, PATH, "", tag1));
	assert_null(find(&c, PATH, "start=x", tag1));
	/* a query is part of the key */
	assert_int_equal(put(&c, PATH, "start=x", tag1, "[1]", API_CACHE_NO_NOW), 0);
	e = find(&c, PATH, "start=x", tag1);
	assert_non_null(e);
	assert_memory_equal(e->body, "[1]", 3);
	assert_null(find(&c, PATH, "start=y", tag1));
	assert_null(find(&c, PATH, "start=", tag1));
	/* an empty body is an answer too */
	assert_int_equal(put(&c, "/e", NULL, tag1, "", API_CACHE_NO_NOW), 0);
	e = find(&c, "/e", NULL, tag1);
	assert_non_null(e);
	assert_int_equal(e->body_len, 0);
	api_cache_free(&c);
	assert_null(c.slots);
	assert_int_equal(c.bytes, 0);
}

static void test_hash(void **state)
{
	(void)state;
	assert_int_not_equal(api_cache_hash("/a", NULL), api_cache_hash("/a", ""));
	assert_int_not_equal(api_cache_hash("/a", "b"), api_cache_hash("/ab", NULL));
	assert_int_equal(api_cache_hash("/a", "b=1"), api_cache_hash("/a", "b=1"));
	assert_int_not_equal(api_cache_hash("", NULL), 0);
}

/* The request's time is written over the cached one on every hit. */
static void test_now_rewritten(void **state)
{
	static const char body[] = "{\"creationTimestamp\":\"2026-11-25T07:00:00Z\",\"x\":1}";
	const uint32_t off = 22;
	struct api_cache c;
	const struct api_cache_ent *e;

	(void)state;
	api_cache_init(&c, 16, 1024, 1 << 20);
	assert_int_equal(put(&c, PATH, NULL, tag1, body, off), 0);
	e = api_cache_find(&c, api_cache_hash(PATH, NULL), PATH, NULL, tag1,
			   1764063661999);   /* 2025-11-25T09:41:01.999Z */
	assert_non_null(e);
	assert_int_equal(e->body_len, strlen(body));
	assert_memory_equal(e->body, "{\"creationTimestamp\":\"2025-11-25T09:41:01Z\",\"x\":1}",
			    strlen(body));
	/* a time that does not print in 20 bytes: no hit, body untouched */
	assert_null(api_cache_find(&c, api_cache_hash(PATH, NULL), PATH, NULL, tag1,
				   INT64_C(253402300800000)));   /* year 10000 */
	e = find(&c, PATH, NULL, tag1);   /* 1970-01-01T00:00:00Z */
	assert_non_null(e);
	assert_memory_equal(e->body + off, "1970-01-01T00:00:00Z", 20);
	/* the time must fit in the body */
	assert_int_equal(put(&c, "/b", NULL, tag1, body, (uint32_t)strlen(body) - 19),
			 HC_ERR_PARSE);
	assert_int_equal(put(&c, "/b", NULL, tag1, body, (uint32_t)strlen(body) + 1),
			 HC_ERR_PARSE);
	assert_null(find(&c, "/b", NULL, tag1));
	api_cache_free(&c);
}

/* Bodies over max_body and entries past max_bytes are not kept. */
static void test_limits(void **state)
{
	char big[200];
	struct api_cache c;
	char path[32];
	int kept = 0;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	api_cache_init(&c, 1024, 100, 1000);
	assert_int_equal(put(&c, PATH, NULL, tag1, big, API_CACHE_NO_NOW), HC_ERR_TOOBIG);
	assert_null(find(&c, PATH, NULL, tag1));
	/* 90-byte bodies and short keys: about ten fit in 1000 bytes */
	big[90] = '\0';
	for (int i = 0; i < 50; i++) {
		int rc;

		snprintf(path, sizeof(path), "/p%d", i);
		rc = put(&c, path, NULL, tag1, big, API_CACHE_NO_NOW);
		assert_true(rc == 0 || rc == HC_ERR_TOOBIG);
		kept += rc == 0;
		assert_true(c.bytes <= 1000);
	}
	assert_true(kept >= 9 && kept <= 11);
	/* clearing gives the budget back */
	api_cache_clear(&c);
	assert_int_equal(c.bytes, 0);
	assert_non_null(c.slots);
	assert_int_equal(put(&c, "/p49", NULL, tag1, big, API_CACHE_NO_NOW), 0);
	assert_non_null(find(&c, "/p49", NULL, tag1));
	api_cache_free(&c);
}

/* One slot: each put replaces the entry, reusing its buffers. */
static void test_shared_slot(void **state)
{
	struct api_cache c;
	const struct api_cache_ent *e;
	size_t bytes;

	(void)state;
	api_cache_init(&c, 1, 1024, 1 << 20);
	assert_int_equal(put(&c, "/a", NULL, tag1, "aaaa", API_CACHE_NO_NOW), 0);
	assert_int_equal(put(&c, "/b", NULL, tag1, "bb", API_CACHE_NO_NOW), 0);
	assert_null(find(&c, "/a", NULL, tag1));
	e = find(&c, "/b", NULL, tag1);
	assert_non_null(e);
	assert_int_equal(e->body_len, 2);
	bytes = c.bytes;
	assert_int_equal(put(&c, "/c", NULL, tag2, "cccc", API_CACHE_NO_NOW), 0);
	assert_int_equal(c.bytes, bytes);   /* no growth: buffers reused */
	assert_null(find(&c, "/b", NULL, tag1));
	assert_non_null(find(&c, "/c", NULL, tag2));
	/* a body over max_body leaves the slot alone */
	c.max_body = 3;
	assert_int_equal(put(&c, "/d", NULL, tag2, "dddd", API_CACHE_NO_NOW), HC_ERR_TOOBIG);
	assert_non_null(find(&c, "/c", NULL, tag2));
	assert_null(find(&c, "/d", NULL, tag2));
	/* one that fails past the byte budget empties it: no stale half entry */
	c.max_body = 1024;
	c.max_bytes = c.bytes + 1;
	assert_int_equal(put(&c, "/d", NULL, tag2, "dddddddd", API_CACHE_NO_NOW),
			 HC_ERR_TOOBIG);
	assert_null(find(&c, "/c", NULL, tag2));
	assert_null(find(&c, "/d", NULL, tag2));
	assert_true(c.bytes <= c.max_bytes);
	api_cache_free(&c);
	/* a cache with no slots keeps nothing */
	api_cache_init(&c, 0, 1024, 1 << 20);
	assert_int_equal(put(&c, "/a", NULL, tag1, "a", API_CACHE_NO_NOW), HC_ERR_TOOBIG);
	assert_null(find(&c, "/a", NULL, tag1));
	api_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_miss),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_now_rewritten),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_shared_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
