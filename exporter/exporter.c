/*
 * exporter.c - the exporter loop (see exporter.h for the contract).
 *
 * The store is the truth and the queue only a wake-up.  Each turn the loop
 * drains its notification queue, opens a read transaction, looks for the
 * oldest short-ring batch newer than its cursor, loads it into one reused
 * struct hc_batch and ends the transaction *before* formatting or sending,
 * so that a slow sink never pins an LMDB snapshot (which would stop the
 * processor's trimming and grow the file).  When nothing is pending it
 * blocks on the queue for wait_ms and then looks at the store again
 * whatever happened: notifications sent while this process was dead are
 * gone, but the batches are not.
 *
 * A batch is delivered in windows (sink.h): format one, send it until the
 * sink accepts it, then the next.  A failed send is retried with exponential
 * backoff (1 s doubling to 30 s, back to 1 s after a success), resending only
 * the chunks not yet accepted; a batch is never skipped for a sink failure.
 * Only when the last window is accepted does store_cursor_set() record the
 * batch, so delivery is at least once: a crash mid-batch repeats that batch.
 *
 * SIGTERM (the stop flag) is honoured between sends: the send in progress
 * completes, then the loop returns.  A batch the store cannot decode
 * (HC_ERR_PARSE) is logged and passed over, since no retry could ever
 * deliver it; any other store error is retried with the same backoff.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "exporter.h"
#include "hc.h"
#include "log.h"
#include "mq.h"
#include "prom.h"
#include "store.h"

#define EXP_QUEUE_MSGSIZE 256

struct exp_ctx {
	const struct exp_config   *cfg;
	const struct exp_sink_ops *ops;
	void                      *sink;
	struct store              *st;
	struct hc_batch            batch;
	struct exp_out             out;
	mqd_t                      q;
	int                        have_q;
	int                        backoff_ms;
	struct hc_ratelimit        rl;
	char                       qbuf[HC_MQ_MSGSIZE];
	/* self-metrics, published in the store's "stats" database */
	uint64_t                   delivered, points, bytes, retries;
	uint64_t                   refused, undecodable;
	int64_t                    lag_ms, last_ts;
	struct hc_hist             send_s;      /* seconds per batch */
	struct hc_text             stats;
};

/* Totals of one delivered batch, for its log line. */
struct exp_stats {
	uint64_t points, bytes, skipped, filtered, dropped;
	int64_t  format_ms, send_ms;
	int64_t  format_cpu_us;      /* CPU time formatting (the benchmark figure) */
	uint32_t retries;
};

static int stopping(const struct exp_ctx *c)
{
	return *c->cfg->stop != 0;
}

/* Sleeps ms milliseconds in short slices, returning early on stop. */
static void nap(const struct exp_ctx *c, int ms)
{
	while (ms > 0 && !stopping(c)) {
		int step = ms < 100 ? ms : 100;
		struct timespec ts = { 0, (long)step * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* Waits after a failure for the current backoff, then doubles it. */
static void backoff(struct exp_ctx *c)
{
	int max = c->cfg->backoff_max_ms ? c->cfg->backoff_max_ms : 30000;

	nap(c, c->backoff_ms);
	c->backoff_ms = c->backoff_ms * 2 > max ? max : c->backoff_ms * 2;
}

static void backoff_reset(struct exp_ctx *c)
{
	c->backoff_ms = c->cfg->backoff_min_ms ? c->cfg->backoff_min_ms : 1000;
}

/* Takes every notification already queued: they all mean "look again". */
static void drain_queue(struct exp_ctx *c)
{
	struct hc_msg_hdr *h;
	const char *payload;
	int rc;

	if (!c->have_q)
		return;
	while ((rc = hc_mq_recv(c->q, c->qbuf, 0, &h, &payload)) == 0 ||
	       rc == HC_ERR_PROTO)
		;
}

/* Blocks until a notification, wait_ms, or a signal. */
static void wait_for_work(struct exp_ctx *c)
{
	int ms = c->cfg->wait_ms ? c->cfg->wait_ms : 1000;
	struct hc_msg_hdr *h;
	const char *payload;
	int rc;

	if (!c->have_q) {
		nap(c, ms);
		return;
	}
	rc = hc_mq_recv(c->q, c->qbuf, ms, &h, &payload);
	if (rc == 0 && h->type == HC_MSG_BATCH_STORED)
		hc_debug("notified of batch %" PRId64, h->ts_ms);
	else if (rc == HC_ERR_PROTO && hc_ratelimit_ok(&c->rl))
		hc_warn("ignoring a foreign message on the notification queue");
	else if (rc != 0 && rc != HC_ERR_TIMEOUT && rc != -EINTR && rc != -EAGAIN) {
		if (hc_ratelimit_ok(&c->rl))
			hc_warn("notification queue: %s", hc_strerror(rc));
		nap(c, ms);
	}
}

/*
 * Loads the oldest batch newer than `after` into c->batch, inside one read
 * transaction ended before returning.  0, HC_ERR_NOTFOUND when none is
 * pending, or another negative code.  *ts is the batch's time, also on
 * HC_ERR_PARSE so the caller can pass over a corrupt batch.
 */
static int load_next(struct exp_ctx *c, int64_t after, int64_t *ts)
{
	struct store_batch_info info;
	struct store_txn *txn;
	int rc;

	rc = store_read_begin(c->st, &txn);
	if (rc != 0)
		return rc;
	rc = store_next_batch(txn, STORE_SHORT, after, &info);
	if (rc == 0) {
		*ts = info.ts_ms;
		rc = store_load_batch(txn, STORE_SHORT, info.ts_ms, &c->batch);
	} else if (rc == HC_ERR_PARSE) {
		rc = HC_ERR_STORE;     /* a bad index entry: no batch to pass over */
	}
	store_read_end(txn);
	return rc;
}

static void publish_stats(struct exp_ctx *c);

/*
 * Formats and sends c->batch window by window, retrying each send until
 * it is accepted.  0 when the whole batch was accepted, 1 when stopped
 * first, or a negative code from format (out of memory).
 */
static int deliver(struct exp_ctx *c, struct exp_stats *st)
{
	const struct hc_batch *b = &c->batch;
	uint32_t pos = 0;
	int64_t t0, cpu0;
	int rc;

	memset(st, 0, sizeof(*st));
	do {
		exp_out_reset(&c->out);
		t0 = hc_mono_ms();
		cpu0 = hc_thread_cpu_us();
		rc = c->ops->format(c->sink, b, &pos, &c->out);
		st->format_ms += hc_mono_ms() - t0;
		st->format_cpu_us += hc_thread_cpu_us() - cpu0;
		if (rc != 0)
			return rc;
		for (;;) {
			t0 = hc_mono_ms();
			rc = c->ops->send(c->sink, &c->out);
			st->send_ms += hc_mono_ms() - t0;
			if (rc == 0)
				break;
			if (stopping(c))
				return 1;
			if (hc_ratelimit_ok(&c->rl))
				hc_error("%s: batch %" PRId64 " not accepted (%s); retry in %d ms",
					 c->ops->kind, b->ts_ms, hc_strerror(rc), c->backoff_ms);
			st->retries++;
			c->retries++;
			publish_stats(c);   /* an outage shows in /metrics as it happens */
			backoff(c);
			if (stopping(c))
				return 1;
		}
		backoff_reset(c);
		st->points += c->out.points;
		st->bytes += c->out.buf.len;
		st->skipped += c->out.skipped;
		st->filtered += c->out.filtered;
		st->dropped += c->out.dropped;
		if (pos < b->nvals && stopping(c))
			return 1;
	} while (pos < b->nvals);
	return 0;
}

static void log_delivered(const struct exp_ctx *c, const struct exp_stats *st)
{
	char ts[32], extra[160] = "";
	int n = 0;

	hc_time_format(c->batch.ts_ms, ts);
	if (st->dropped)
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
			      ", %" PRIu64 " refused", st->dropped);
	if (st->skipped)
		n += snprintf(extra + n, sizeof(extra) - (size_t)n,
			      ", %" PRIu64 " not representable", st->skipped);
	if (st->retries)
		snprintf(extra + n, sizeof(extra) - (size_t)n, ", %u retries", st->retries);
	hc_info("delivered batch %s (%" PRId64 ") to %s: %" PRIu64 " points, %" PRIu64
		" bytes, format %" PRId64 " ms, send %" PRId64 " ms, lag %" PRId64 " ms%s; "
		"format CPU %" PRId64 " us",
		ts, c->batch.ts_ms, c->ops->kind, st->points, st->bytes,
		st->format_ms, st->send_ms, hc_now_ms() - c->batch.ts_ms, extra,
		st->format_cpu_us);
}

/*
 * Publishes this exporter's self-metrics under "exporter-<name>": batches
 * delivered, points, retries, refused points, lag and send durations.
 */
static void publish_stats(struct exp_ctx *c)
{
	struct hc_text *t = &c->stats;
	char lbl[200], key[160];

	snprintf(lbl, sizeof(lbl), "exporter=\"%s\",sink=\"%s\"", c->cfg->name,
		 c->ops->kind);
	hc_text_reset(t);
	hc_prom_counter(t, "heapster_exporter_batches_total",
			"Batches the sink accepted.", lbl, (double)c->delivered);
	hc_prom_counter(t, "heapster_exporter_points_total",
			"Points the sink accepted.", lbl, (double)c->points);
	hc_prom_counter(t, "heapster_exporter_bytes_total",
			"Bytes sent to the sink.", lbl, (double)c->bytes);
	hc_prom_counter(t, "heapster_exporter_retries_total",
			"Sends the sink refused or that failed, then retried.", lbl,
			(double)c->retries);
	hc_prom_counter(t, "heapster_exporter_points_refused_total",
			"Points the sink refused for good (partial writes).", lbl,
			(double)c->refused);
	hc_prom_counter(t, "heapster_exporter_batches_undecodable_total",
			"Stored batches that could not be read and were passed over.", lbl,
			(double)c->undecodable);
	hc_prom_gauge(t, "heapster_exporter_lag_seconds",
		      "Age of the newest delivered batch when it was delivered.", lbl,
		      (double)c->lag_ms / 1000.0);
	hc_prom_gauge(t, "heapster_exporter_last_batch_timestamp_seconds",
		      "Time of the newest delivered batch.", lbl, (double)c->last_ts / 1000.0);
	hc_prom_histogram(t, "heapster_exporter_duration_seconds",
			  "Time to format and send one batch.", lbl, &c->send_s);
	snprintf(key, sizeof(key), "exporter-%s", c->cfg->name);
	if (!t->failed && store_stats_put(c->st, key, t->buf, t->len) != 0 &&
	    hc_ratelimit_ok(&c->rl))
		hc_warn("cannot publish self-metrics");
}

/* Opens the notification queue; without one the loop polls the store. */
static void open_queue(struct exp_ctx *c)
{
	char role[200], name[256];
	int rc;

	snprintf(role, sizeof(role), "exporter-%s", c->cfg->name);
	hc_mq_name(name, sizeof(name), c->cfg->instance, role);
	rc = hc_mq_open(name, HC_MQ_READ | HC_MQ_CREATE, EXP_QUEUE_MSGSIZE, &c->q);
	if (rc != 0) {
		hc_warn("queue %s: %s; polling the store every %d ms instead", name,
			hc_strerror(rc), c->cfg->wait_ms ? c->cfg->wait_ms : 1000);
		return;
	}
	c->have_q = 1;
}

int exp_run(const struct exp_config *cfg, const struct exp_sink_ops *ops,
	    void *sink)
{
	struct store_opts so = { .path = cfg->store_path };
	struct exp_ctx c = { .cfg = cfg, .ops = ops, .sink = sink,
			     .rl = HC_RATELIMIT_INIT(60000, 10) };
	struct exp_stats st;
	int64_t cursor, ts = 0;
	int rc;

	backoff_reset(&c);
	hc_hist_init(&c.send_s, hc_hist_seconds_bounds, HC_ARRAY_LEN(hc_hist_seconds_bounds));
	/* read-write: the exporter writes its own cursor */
	rc = store_open(&so, &c.st);
	if (rc != 0) {
		hc_error("store %s: %s", cfg->store_path, hc_strerror(rc));
		return rc;
	}
	rc = hc_batch_init(&c.batch);
	if (rc != 0)
		goto close_store;
	exp_out_init(&c.out);
	open_queue(&c);

	rc = store_cursor_get(c.st, cfg->name, &cursor);
	if (rc == HC_ERR_NOTFOUND) {
		cursor = INT64_MIN;
		hc_info("exporter %s (%s): no cursor, starting from the oldest batch",
			cfg->name, ops->kind);
	} else if (rc != 0) {
		hc_error("cursor of %s: %s", cfg->name, hc_strerror(rc));
		goto free_batch;
	} else {
		hc_info("exporter %s (%s): resuming after batch %" PRId64,
			cfg->name, ops->kind, cursor);
	}

	while (!stopping(&c)) {
		drain_queue(&c);
		rc = load_next(&c, cursor, &ts);
		if (rc == HC_ERR_NOTFOUND) {
			wait_for_work(&c);
			continue;
		}
		if (rc == HC_ERR_PARSE) {
			hc_error("batch %" PRId64 " cannot be decoded: passing over it", ts);
			c.undecodable++;
			publish_stats(&c);
			cursor = ts;
			store_cursor_set(c.st, cfg->name, cursor);
			continue;
		}
		if (rc != 0) {
			if (hc_ratelimit_ok(&c.rl))
				hc_error("reading the store: %s; retry in %d ms",
					 hc_strerror(rc), c.backoff_ms);
			backoff(&c);
			continue;
		}
		rc = hc_batch_group(&c.batch);
		if (rc == 0)
			rc = deliver(&c, &st);
		if (rc == 1)
			break;         /* stopped mid-batch: it will be sent again */
		if (rc != 0) {
			if (hc_ratelimit_ok(&c.rl))
				hc_error("batch %" PRId64 ": %s; retry in %d ms", ts,
					 hc_strerror(rc), c.backoff_ms);
			backoff(&c);
			continue;
		}
		cursor = c.batch.ts_ms;
		rc = store_cursor_set(c.st, cfg->name, cursor);
		if (rc != 0 && hc_ratelimit_ok(&c.rl))
			hc_error("saving cursor %" PRId64 ": %s (the batch may be sent again "
				 "after a restart)", cursor, hc_strerror(rc));
		log_delivered(&c, &st);
		c.delivered++;
		c.points += st.points;
		c.bytes += st.bytes;
		c.refused += st.dropped;
		c.last_ts = c.batch.ts_ms;
		c.lag_ms = hc_now_ms() - c.batch.ts_ms;
		hc_hist_observe(&c.send_s, (double)(st.format_ms + st.send_ms) / 1000.0);
		publish_stats(&c);
	}
	hc_info("exporter %s stopping after batch %" PRId64, cfg->name, cursor);
	rc = 0;

free_batch:
	if (c.have_q)
		mq_close(c.q);
	exp_out_free(&c.out);
	hc_batch_free(&c.batch);
	hc_text_free(&c.stats);
close_store:
	store_close(c.st);
	return rc;
}
