/*
 * test_codec.c - the batch model, its msgpack stream, and the stream cut
 * into POSIX queue messages and put back together.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "batch.h"
#include "codec.h"
#include "hc.h"
#include "mq.h"

/* A batch with nodes, pods, containers, labeled and custom metrics. */
static void build(struct hc_batch *b, int nodes, int pods)
{
	char key[128];
	uint32_t set, custom;

	assert_int_equal(hc_batch_init(b), 0);
	hc_batch_reset(b, 1764000000000LL);
	b->nodes_ok = (uint32_t)nodes;
	b->nodes_failed = 1;
	assert_int_equal(hc_batch_name(b, "custom/qps", 10, HC_GAUGE, &custom), 0);
	for (int n = 0; n < nodes; n++) {
		snprintf(key, sizeof(key), "node:n%d", n);
		assert_int_equal(hc_batch_set(b, key, strlen(key), &set, NULL), 0);
		assert_int_equal(hc_batch_label(b, set, HC_L_TYPE, HC_TYPE_NODE), 0);
		assert_int_equal(hc_batch_label(b, set, HC_L_NODENAME,
						hc_batch_str(b, key + 5, strlen(key + 5))), 0);
		b->sets[set].scrape_ms = 1764000000000LL - 1000;
		assert_int_equal(hc_batch_add_int(b, set, HC_M_CPU_USAGE, 1000000000LL * n + 7), 0);
		struct hc_label fs = { HC_L_RESOURCE_ID, "/" };
		assert_int_equal(hc_batch_add_labeled(b, set, HC_M_FS_USAGE, &fs, 1,
						      HC_INT, 12345, 0), 0);
		for (int p = 0; p < pods; p++) {
			snprintf(key, sizeof(key), "namespace:ns/pod:p%d-%d/container:c", n, p);
			assert_int_equal(hc_batch_set(b, key, strlen(key), &set, NULL), 0);
			assert_int_equal(hc_batch_label(b, set, HC_L_TYPE, HC_TYPE_POD_CONTAINER), 0);
			assert_int_equal(hc_batch_add_int(b, set, HC_M_MEM_WORKING_SET, -5 + p), 0);
			assert_int_equal(hc_batch_add_float(b, set, custom, 0.25 * p), 0);
		}
	}
}

static void check_equal(struct hc_batch *a, struct hc_batch *b)
{
	assert_int_equal(a->ts_ms, b->ts_ms);
	assert_int_equal(a->nsets, b->nsets);
	assert_int_equal(a->nvals, b->nvals);
	assert_int_equal(a->nodes_ok, b->nodes_ok);
	assert_int_equal(a->nodes_failed, b->nodes_failed);
	assert_int_equal(hc_batch_group(a), 0);
	assert_int_equal(hc_batch_group(b), 0);
	for (uint32_t s = 0; s < a->nsets; s++) {
		uint32_t t;

		assert_int_equal(hc_batch_find(b, a->sets[s].key, strlen(a->sets[s].key), &t), 0);
		assert_int_equal(a->sets[s].scrape_ms, b->sets[t].scrape_ms);
		assert_int_equal(a->sets[s].labels_n, b->sets[t].labels_n);
		assert_string_equal(hc_batch_get_label(a, s, HC_L_TYPE),
				    hc_batch_get_label(b, t, HC_L_TYPE));
		assert_int_equal(a->sets[s].vals_n, b->sets[t].vals_n);
		for (uint32_t i = 0; i < a->sets[s].vals_n; i++) {
			struct hc_value *va = &a->vals[a->sets[s].vals_off + i];
			struct hc_value *vb = &b->vals[b->sets[t].vals_off + i];

			assert_string_equal(a->names[va->name], b->names[vb->name]);
			assert_int_equal(va->type, vb->type);
			assert_int_equal(va->kind, vb->kind);
			assert_int_equal(va->labels_n, vb->labels_n);
			if (va->type == HC_FLOAT)
				assert_true(va->v.f == vb->v.f);
			else
				assert_int_equal(va->v.i, vb->v.i);
		}
	}
}

static void test_roundtrip_memory(void **state)
{
	struct hc_batch a, b;
	struct hc_decoder d;
	msgpack_sbuffer sb;

	(void)state;
	build(&a, 3, 4);
	msgpack_sbuffer_init(&sb);
	assert_int_equal(hc_codec_encode(&a, hc_codec_sbuffer_write, &sb), 0);
	assert_int_equal(hc_batch_init(&b), 0);
	assert_int_equal(hc_decoder_init(&d, &b), 0);
	/* feed one byte at a time: objects span every possible boundary */
	for (size_t i = 0; i < sb.size; i++)
		assert_int_equal(hc_decoder_feed(&d, sb.data + i, 1), 0);
	assert_int_equal(hc_decoder_finish(&d), 0);
	hc_decoder_free(&d);
	check_equal(&a, &b);
	{
		uint32_t s;
		struct hc_value *v;

		assert_int_equal(hc_batch_find(&b, "node:n2", 7, &s), 0);
		v = hc_batch_value(&b, s, HC_M_CPU_USAGE);
		assert_non_null(v);
		assert_int_equal(v->v.i, 2000000007LL);
	}
	msgpack_sbuffer_destroy(&sb);
	hc_batch_free(&a);
	hc_batch_free(&b);
}

static void test_truncated_and_garbage(void **state)
{
	struct hc_batch a, b;
	struct hc_decoder d;
	msgpack_sbuffer sb;
	int rc;

	(void)state;
	build(&a, 2, 2);
	msgpack_sbuffer_init(&sb);
	assert_int_equal(hc_codec_encode(&a, hc_codec_sbuffer_write, &sb), 0);
	assert_int_equal(hc_batch_init(&b), 0);
	/* truncated: decodes what is there but finish() refuses */
	assert_int_equal(hc_decoder_init(&d, &b), 0);
	assert_int_equal(hc_decoder_feed(&d, sb.data, sb.size - 3), 0);
	assert_int_equal(hc_decoder_finish(&d), HC_ERR_PARSE);
	hc_decoder_free(&d);
	/* garbage */
	assert_int_equal(hc_decoder_init(&d, &b), 0);
	rc = hc_decoder_feed(&d, "\x93\x07\x01\x02garbage", 11);
	assert_int_equal(rc, HC_ERR_PARSE);
	hc_decoder_free(&d);
	/* a value that names a name id never declared */
	assert_int_equal(hc_decoder_init(&d, &b), 0);
	rc = hc_decoder_feed(&d,
		"\x97\x01\x01\x00\x01\x01\x00\x00"         /* header: 1 set 1 val */
		"\x97\x03\xa1k\x00\x00\x00\x90\x94\x63\x00\x01\xc0", 21);
	assert_int_equal(rc, HC_ERR_PARSE);
	hc_decoder_free(&d);
	msgpack_sbuffer_destroy(&sb);
	hc_batch_free(&a);
	hc_batch_free(&b);
}

/* A 2,000-node batch (several MB) through a real queue of 8 KiB messages. */
static void test_through_queue(void **state)
{
	struct hc_batch a, b;
	struct hc_mq_writer *w;
	struct hc_decoder d;
	char name[64], buf[HC_MQ_MSGSIZE];
	mqd_t q;
	pid_t pid;
	int status;

	(void)state;
	snprintf(name, sizeof(name), "/heapster-unittest-%d", (int)getpid());
	hc_mq_unlink(name);
	assert_int_equal(hc_mq_open(name, HC_MQ_READ | HC_MQ_WRITE | HC_MQ_CREATE, 0, &q), 0);
	build(&a, 2000, 10);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static struct hc_mq_writer cw;

		hc_mq_writer_init(&cw, q, a.ts_ms, 5000);
		if (hc_codec_encode(&a, hc_mq_writer_write, &cw) != 0 ||
		    hc_mq_writer_finish(&cw) != 0)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(hc_batch_init(&b), 0);
	assert_int_equal(hc_decoder_init(&d, &b), 0);
	for (uint32_t seq = 0;; seq++) {
		struct hc_msg_hdr *h;
		const char *payload;

		assert_int_equal(hc_mq_recv(q, buf, 5000, &h, &payload), 0);
		assert_int_equal(h->type, HC_MSG_BATCH_CHUNK);
		assert_int_equal(h->seq, seq);
		assert_int_equal(!!(h->flags & HC_MSG_FIRST), seq == 0);
		assert_true(h->len <= HC_MQ_PAYLOAD_MAX);
		assert_int_equal(h->ts_ms, a.ts_ms);
		assert_int_equal(hc_decoder_feed(&d, payload, h->len), 0);
		if (h->flags & HC_MSG_LAST)
			break;
	}
	assert_int_equal(hc_decoder_finish(&d), 0);
	hc_decoder_free(&d);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	check_equal(&a, &b);
	/* a message that is not ours is refused, not trusted */
	assert_int_equal(mq_send(q, "hello", 5, 0), 0);
	{
		struct hc_msg_hdr *h;
		const char *payload;

		assert_int_equal(hc_mq_recv(q, buf, 1000, &h, &payload), HC_ERR_PROTO);
	}
	(void)w;
	mq_close(q);
	hc_mq_unlink(name);
	hc_batch_free(&a);
	hc_batch_free(&b);
}

static void test_labels_relocate(void **state)
{
	struct hc_batch b;
	uint32_t s1, s2;

	(void)state;
	assert_int_equal(hc_batch_init(&b), 0);
	assert_int_equal(hc_batch_set(&b, "a", 1, &s1, NULL), 0);
	assert_int_equal(hc_batch_label(&b, s1, "x", "1"), 0);
	assert_int_equal(hc_batch_set(&b, "b", 1, &s2, NULL), 0);
	assert_int_equal(hc_batch_label(&b, s2, "y", "2"), 0);
	/* s1's labels no longer end the array: adding moves them */
	assert_int_equal(hc_batch_label(&b, s1, "z", "3"), 0);
	assert_int_equal(hc_batch_label(&b, s1, "x", "4"), 0);
	assert_string_equal(hc_batch_get_label(&b, s1, "x"), "4");
	assert_string_equal(hc_batch_get_label(&b, s1, "z"), "3");
	assert_string_equal(hc_batch_get_label(&b, s2, "y"), "2");
	assert_null(hc_batch_get_label(&b, s2, "x"));
	assert_int_equal(b.sets[s1].labels_n, 2);
	hc_batch_free(&b);
}

/* An empty msgpack string may arrive as (NULL, 0): it must copy as "". */
static void test_empty_strings(void **state)
{
	struct hc_batch b;
	const char *e;

	(void)state;
	assert_int_equal(hc_batch_init(&b), 0);
	e = hc_batch_str(&b, NULL, 0);
	assert_non_null(e);
	assert_string_equal(e, "");
	assert_int_equal(hc_batch_add_labeled(&b, 0, HC_M_FS_USAGE, NULL, 0, HC_INT, 1, 0), 0);
	hc_batch_free(&b);
}

static void test_map_delete(void **state)
{
	struct hc_map m;
	char keys[500][16];
	uint32_t v;

	(void)state;
	assert_int_equal(hc_map_init(&m, 4), 0);
	for (int i = 0; i < 500; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		assert_int_equal(hc_map_put(&m, keys[i], strlen(keys[i]), (uint32_t)i), 0);
	}
	for (int i = 0; i < 500; i += 2)
		assert_int_equal(hc_map_del(&m, keys[i], strlen(keys[i])), 0);
	for (int i = 0; i < 500; i++) {
		int rc = hc_map_get(&m, keys[i], strlen(keys[i]), &v);

		if (i % 2) {
			assert_int_equal(rc, 0);
			assert_int_equal(v, (uint32_t)i);
		} else {
			assert_int_equal(rc, HC_ERR_NOTFOUND);
		}
	}
	assert_int_equal(m.count, 250);
	hc_map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_memory),
		cmocka_unit_test(test_truncated_and_garbage),
		cmocka_unit_test(test_through_queue),
		cmocka_unit_test(test_labels_relocate),
		cmocka_unit_test(test_map_delete),
		cmocka_unit_test(test_empty_strings),
	};
	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
