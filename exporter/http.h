/*
 * http.h - POSTing an exp_out's chunks, one request body each, for the
 * HTTP sinks that need nothing beyond "post, then judge the answer"
 * (opentsdb, prometheus).  The influxdb sink keeps its own transport (it
 * also creates databases).
 *
 * Up to `concurrency` requests are in flight at once through one curl multi
 * handle, which also keeps connections alive between windows.  Each answer
 * goes to the sink's judge, which says whether the chunk is done (accepted,
 * or refused for good with a count of lost points) or must be retried.
 */
#ifndef EXP_HTTP_H
#define EXP_HTTP_H

#include <stdint.h>

#include "sink.h"

enum exp_http_verdict {
	EXP_HTTP_OK = 0,     /* accepted; *dropped points refused for good */
	EXP_HTTP_REJECTED,   /* the body can never be accepted: all points lost */
	EXP_HTTP_RETRY,      /* try again later */
};

/*
 * Judges one answer: HTTP status and the start of the body (NUL-terminated,
 * at most 2 KiB).  `points` is the chunk's point count; for EXP_HTTP_OK the
 * judge may set *dropped (preset to 0) to the points the peer refused.
 */
typedef enum exp_http_verdict (*exp_http_judge_fn)(long status, const char *body,
						   uint32_t points, uint64_t *dropped);

struct exp_http_opts {
	const char        *what;        /* for log lines, e.g. "opentsdb sink" */
	const char        *url;         /* the POST target */
	const char *const *headers;     /* extra headers, NULL-terminated, or NULL */
	const char        *user, *pw;   /* basic authentication when user is set */
	int                insecure;    /* skip TLS verification */
	int                concurrency; /* requests in flight, >= 1 */
	exp_http_judge_fn  judge;
};

struct exp_http;

/* Copies the options; creates no connection.  0, -ENOMEM or HC_ERR_CONFIG. */
int  exp_http_open(const struct exp_http_opts *o, struct exp_http **h);

/*
 * POSTs every chunk of out not yet done, each at most once, marking the
 * ones the judge accepts or rejects for good (counting lost points in
 * out->dropped).  0 when every chunk is done; otherwise a negative code
 * (-ECONNREFUSED, HC_ERR_TIMEOUT, HC_ERR_HTTP, ...) and the loop retries
 * the rest later.
 */
int  exp_http_send(struct exp_http *h, struct exp_out *out);

void exp_http_close(struct exp_http *h);

#endif
