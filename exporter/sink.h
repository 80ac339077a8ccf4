/*
 * sink.h - the exporter's sink framework.
 *
 * A sink is one file behind a small table of function pointers (struct
 * exp_sink_ops), in the manner of fluent-bit's output plugins or collectd's
 * write plugins.  The exporter process (exporter.c) owns the loop: it reads
 * a batch from the store, asks the sink to *format* it into an exp_out and
 * then to *send* that, and only when send() succeeds does it move its
 * durable cursor.  Splitting the work in two keeps format() a pure function
 * (no network, no clock, no globals): the unit tests compare its output
 * byte for byte, and the benchmark measures it alone.
 *
 * Windows: a batch can hold a million values, and its text a few hundred
 * megabytes, which an exporter must not hold at once.  So format() is
 * resumable: it starts at value index *pos, appends whole points to `out`
 * in chunks (one chunk = one request body, e.g. 10,000 InfluxDB lines), stops
 * when the sink's window is full (chunk size x concurrency for InfluxDB) and
 * leaves *pos at the first value not yet formatted.  The loop formats a
 * window, sends it (retrying until it is accepted), and formats the next,
 * until *pos reaches b->nvals.  Memory is bounded by one window whatever the
 * batch size.
 *
 * Output memory: struct exp_out is a growing byte buffer plus a list of
 * chunk ends.  It is reset, never freed, between windows, so a steady-state
 * exporter allocates nothing per batch.  Numbers are written by the
 * hand-rolled exp_fmt_i64()/exp_fmt_f64() (no printf on the hot path).
 */
#ifndef EXP_SINK_H
#define EXP_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "uri.h"

/* A growing byte buffer. */
struct exp_buf {
	char   *data;
	size_t  len;
	size_t  cap;
};

void exp_buf_init(struct exp_buf *b);
void exp_buf_free(struct exp_buf *b);
/* Makes room for n more bytes.  0 or -ENOMEM. */
int  exp_buf_reserve(struct exp_buf *b, size_t n);
/* Appends n bytes (reserving).  0 or -ENOMEM. */
int  exp_buf_append(struct exp_buf *b, const void *p, size_t n);

/*
 * Grows the array *(T **)pp of `size`-byte elements, with room for *cap, to
 * room for exactly n when n > *cap (a sink's per-name arrays, sized to a
 * batch's nnames).  0, or -ENOMEM leaving *pp and *cap as they were.
 */
int  exp_array_grow(void *pp, uint32_t *cap, uint32_t n, size_t size);

/*
 * What format() produces and send() consumes: request bodies laid end to
 * end in `buf`; chunk i is buf.data[chunk_end[i-1] .. chunk_end[i]) (from 0
 * for i = 0) and holds chunk_points[i] points.  send() sets chunk_done[i]
 * once the sink accepted chunk i, so a retry sends only what is missing.
 */
struct exp_out {
	struct exp_buf buf;
	size_t   *chunk_end;
	uint32_t *chunk_points;
	uint8_t  *chunk_done;
	uint32_t  nchunks;
	uint32_t  chunks_cap;
	uint32_t  open_points;   /* points after the last cut (not yet a chunk) */
	uint64_t  points;        /* points formatted in this window */
	uint64_t  skipped;       /* values the sink cannot represent (NaN, Inf) */
	uint64_t  filtered;      /* values left out by the sink's options */
	uint64_t  dropped;       /* points sent but refused by the peer */
};

void exp_out_init(struct exp_out *o);
/* Empties the output for the next window; keeps its memory. */
void exp_out_reset(struct exp_out *o);
void exp_out_free(struct exp_out *o);
/*
 * Ends the current chunk at the buffer's end (counting open_points into it).
 * A cut with no bytes since the last one is a no-op.  0 or -ENOMEM.
 */
int  exp_out_cut(struct exp_out *o);
/* Start offset of chunk i. */
static inline size_t exp_out_chunk_start(const struct exp_out *o, uint32_t i)
{
	return i == 0 ? 0 : o->chunk_end[i - 1];
}

/*
 * Numbers as text, without printf.  exp_fmt_i64() writes at most 20 bytes.
 * exp_fmt_f64() writes at most 32 bytes: up to 15 significant digits,
 * trailing zeros trimmed, no exponent for 1e-5 <= |v| < 1e15 ("0.25",
 * "1234.5", "3" for 3.0), C's %.15g beyond; it returns 0 (writing nothing)
 * for NaN and infinities, which no sink here can carry.  Both return the
 * length written; neither writes a terminating NUL.
 */
size_t exp_fmt_i64(char *dst, int64_t v);
size_t exp_fmt_u64(char *dst, uint64_t v);
size_t exp_fmt_f64(char *dst, double v);

/*
 * Tags (labels) of one point, sanitized, sorted by key, one value per key:
 * what the tag-based sinks (opentsdb, prometheus) build once per metric set
 * and once per labeled value.  Keys and values live in `text`, NUL-free and
 * not terminated; tag i is text.data[t[i].koff .. +klen) = [voff .. +vlen).
 */
struct exp_tag {
	uint32_t koff, klen, voff, vlen;
};

struct exp_tags {
	struct exp_buf  text;
	struct exp_tag *t;
	uint32_t        n, cap;
};

/*
 * Writes src[0..n) made acceptable to a sink into dst, which has room for
 * 2n + 1 bytes; returns the length written.
 */
typedef size_t (*exp_sanitize_fn)(char *dst, const char *src, size_t n);

void exp_tags_init(struct exp_tags *t);
void exp_tags_free(struct exp_tags *t);
/* Empties the list; keeps its memory. */
void exp_tags_reset(struct exp_tags *t);
/*
 * Adds key=value through the sanitizers (NULL: copied as is).  A pair whose
 * key or value is empty (before or after sanitizing) is left out, as
 * Heapster left out empty labels.  0 or -ENOMEM.
 */
int  exp_tags_add(struct exp_tags *t, const char *key, const char *value,
		  exp_sanitize_fn kf, exp_sanitize_fn vf);
/*
 * Sorts by key (bytewise, stable) and keeps, of equal keys, the one added
 * last: so a labeled value's own label overrides its set's, and a tag the
 * sink adds last (cluster) overrides both.
 */
void exp_tags_finish(struct exp_tags *t);

/*
 * Copies option `key` of u, or def when it is absent, into dst (cap bytes).
 * 0, or HC_ERR_CONFIG when the value does not fit (logged, naming `what`).
 */
int exp_opt_str(const struct hc_uri *u, const char *what, const char *key,
		const char *def, char *dst, size_t cap);

/*
 * A sink.  Every function returns 0 or a negative code (hc.h).
 *
 * init    parses the sink's URI options into a new state; no network.
 * format  pure: appends points of b from value *pos on to out (see the
 *         header comment), advancing *pos; must make progress: on return
 *         either *pos == b->nvals or at least one value was consumed.
 * send    delivers out's chunks not yet done, marking each one accepted;
 *         0 when every chunk is accepted (including points the peer refused
 *         for good, counted in out->dropped), negative to be retried later.
 * close   releases the state (NULL is allowed).
 */
struct exp_sink_ops {
	const char *kind;
	int  (*init)(const struct hc_uri *uri, void **state);
	int  (*format)(void *state, const struct hc_batch *b, uint32_t *pos,
		       struct exp_out *out);
	int  (*send)(void *state, struct exp_out *out);
	void (*close)(void *state);
};

extern const struct exp_sink_ops sink_log_ops;
extern const struct exp_sink_ops sink_influxdb_ops;
extern const struct exp_sink_ops sink_graphite_ops;
extern const struct exp_sink_ops sink_opentsdb_ops;
extern const struct exp_sink_ops sink_statsd_ops;
extern const struct exp_sink_ops sink_prometheus_ops;
extern const struct exp_sink_ops sink_kafka_ops;

/* The sink registered under `kind` (as in --sink=KIND:...), or NULL. */
const struct exp_sink_ops *exp_sink_find(const char *kind);
/* The registered kinds, comma separated, for messages. */
const char *exp_sink_kinds(void);

#endif
