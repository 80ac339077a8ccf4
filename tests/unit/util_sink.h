/*
 * util_sink.h - fixtures shared by the sink unit tests (test_sink_*.c):
 * creating a sink from a spec, formatting a whole batch window after
 * window, building batches, comparing long texts, and a scripted HTTP
 * server on loopback.  Every helper fails the running cmocka test on error.
 */
#ifndef UTIL_SINK_H
#define UTIL_SINK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "hc.h"
#include "sink.h"

/* assert_string_equal() that shows where long texts first differ. */
void ut_assert_text(const char *got, const char *want);

/* ops->init() of the parsed `spec`, asserted to succeed. */
void *ut_sink_new(const struct exp_sink_ops *ops, const char *spec);

/* ops->init()'s return code for `spec` (the sink, if any, is closed). */
int ut_sink_init_rc(const struct exp_sink_ops *ops, const char *spec);

/*
 * Formats all of b with the sink of `spec`, window after window, and
 * returns the concatenated text (caller frees).  *out keeps the counters of
 * the last window; *windows (if not NULL) counts them.
 */
char *ut_format_all(const struct exp_sink_ops *ops, const char *spec,
		    const struct hc_batch *b, struct exp_out *out, int *windows);

/* Formats b's first window with sink s into out; returns the position reached. */
uint32_t ut_format_window(const struct exp_sink_ops *ops, void *s,
			  const struct hc_batch *b, struct exp_out *out);

/* Batch building, asserted to succeed. */
uint32_t ut_add_set(struct hc_batch *b, const char *key);
void ut_label(struct hc_batch *b, uint32_t set, const char *k, const char *v);
uint32_t ut_custom_name(struct hc_batch *b, const char *name);   /* a gauge */

/*
 * Adds the set of container kube-system/dns-1/dns with every kind of label
 * Heapster sets (the image empty), without values; returns its index.
 */
uint32_t ut_add_dns_container(struct hc_batch *b);

/* How many '\n' the n bytes at p hold. */
uint32_t ut_count_lines(const char *p, size_t n);

/* ---- a scripted HTTP server on loopback -------------------------------- */

#define UT_FAKE_MAX 16

struct ut_fake_req {
	char  line[512];      /* the request line: "POST /write?db=k8s&precision=ms HTTP/1.1" */
	char  auth[128];      /* the Authorization header's value, or "" */
	char  head[2048];     /* request line and headers */
	char *body;
	size_t body_len;
};

struct ut_fake_srv {
	int             fd, port;
	pthread_t       th;
	volatile int    stop;
	pthread_mutex_t mu;
	const char     *content_type;   /* of the answers; NULL: no such header */
	const char     *unscripted;     /* the body answered (500) past the script */
	int             status[UT_FAKE_MAX];
	const char     *reply[UT_FAKE_MAX];
	int             nscript, next;
	struct ut_fake_req req[UT_FAKE_MAX];
	int             nreq;
};

/*
 * Starts the server on an ephemeral loopback port (f->port).  Each request
 * gets the next scripted answer, with a Content-Type header when
 * content_type is not NULL; past the script, 500 with body `unscripted`.
 */
void ut_fake_start(struct ut_fake_srv *f, const char *content_type,
		   const char *unscripted);
void ut_fake_script(struct ut_fake_srv *f, int status, const char *body);
void ut_fake_stop(struct ut_fake_srv *f);

/* ut_sink_new() of "<scheme>:http://127.0.0.1:<port><path><opts>". */
void *ut_fake_sink(const struct exp_sink_ops *ops, const struct ut_fake_srv *f,
		   const char *scheme, const char *path, const char *opts);

#endif
