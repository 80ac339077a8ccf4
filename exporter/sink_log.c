/*
 * sink_log.c - the `log` sink: each batch, readably, on stdout.
 *
 * Heapster's log sink printed every batch for debugging.  This one prints a
 * header line per batch and one line per metric set:
 *
 *   batch 2026-11-25T10:00:00Z ts=1764064800000 sets=2 values=3 nodes_ok=1 nodes_failed=0
 *   node:n1 {type=node, nodename=n1} cpu/usage_rate=120 filesystem/usage{resource_id=/}=4096
 *
 * labels in the set's order, metrics in the batch's value order, labeled
 * metrics with their labels in braces.  A set's values must be contiguous
 * (a grouped batch, as the exporter loop provides) to share one line; values
 * of an ungrouped batch still all print, on more lines.  The whole batch is
 * one chunk; send() writes it with one fwrite and flushes, so lines of two
 * batches never interleave within this process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "log.h"
#include "sink.h"

struct sink_log {
	FILE *fp;
};

static int sink_log_init(const struct hc_uri *uri, void **state)
{
	struct sink_log *s;

	(void)uri;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->fp = stdout;
	*state = s;
	return 0;
}

/* Appends a NUL-terminated string; the caller reserved room. */
static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* Room for labels[0..n) written as "{k=v, ...}". */
static size_t labels_room(const struct hc_label *l, uint32_t n)
{
	size_t room = 4;

	for (uint32_t i = 0; i < n; i++)
		room += strlen(l[i].key) + strlen(l[i].value) + 3;
	return room;
}

static char *put_labels(char *p, const struct hc_label *l, uint32_t n)
{
	*p++ = '{';
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			p = put_str(p, ", ");
		p = put_str(p, l[i].key);
		*p++ = '=';
		p = put_str(p, l[i].value);
	}
	*p++ = '}';
	return p;
}

/* Begins the line of set `si`: its key and labels. */
static int put_set_head(const struct hc_batch *b, uint32_t si, struct exp_buf *o)
{
	const struct hc_set *s = &b->sets[si];
	const struct hc_label *l = &b->labels[s->labels_off];
	size_t room = strlen(s->key) + labels_room(l, s->labels_n) + 2;
	char *p;
	int rc;

	rc = exp_buf_reserve(o, room);
	if (rc != 0)
		return rc;
	p = o->data + o->len;
	p = put_str(p, s->key);
	*p++ = ' ';
	p = put_labels(p, l, s->labels_n);
	o->len = (size_t)(p - o->data);
	return 0;
}

static int put_value(const struct hc_batch *b, const struct hc_value *v,
		     struct exp_buf *o)
{
	const struct hc_label *l = &b->labels[v->labels_off];
	const char *name = b->names[v->name];
	size_t room = strlen(name) + 40 + (v->labels_n ? labels_room(l, v->labels_n) : 0);
	size_t n;
	char *p;
	int rc;

	rc = exp_buf_reserve(o, room);
	if (rc != 0)
		return rc;
	p = o->data + o->len;
	*p++ = ' ';
	p = put_str(p, name);
	if (v->labels_n)
		p = put_labels(p, l, v->labels_n);
	*p++ = '=';
	if (v->type == HC_FLOAT) {
		n = exp_fmt_f64(p, v->v.f);
		if (n == 0)      /* NaN or infinity: say so rather than hide it */
			n = (size_t)sprintf(p, "%g", v->v.f);
	} else {
		n = exp_fmt_i64(p, v->v.i);
	}
	p += n;
	o->len = (size_t)(p - o->data);
	return 0;
}

static int sink_log_format(void *state, const struct hc_batch *b, uint32_t *pos,
			   struct exp_out *out)
{
	uint32_t cur = UINT32_MAX;
	char ts[32], head[256];
	int rc, n;

	(void)state;
	if (*pos == 0) {
		hc_time_format(b->ts_ms, ts);
		n = snprintf(head, sizeof(head),
			     "batch %s ts=%lld sets=%u values=%u nodes_ok=%u nodes_failed=%u\n",
			     ts, (long long)b->ts_ms, b->nsets, b->nvals,
			     b->nodes_ok, b->nodes_failed);
		rc = exp_buf_append(&out->buf, head, (size_t)n);
		if (rc != 0)
			return rc;
	}
	for (uint32_t i = *pos; i < b->nvals; i++) {
		const struct hc_value *v = &b->vals[i];

		if (v->set != cur) {
			if (cur != UINT32_MAX) {
				rc = exp_buf_append(&out->buf, "\n", 1);
				if (rc != 0)
					return rc;
			}
			cur = v->set;
			rc = put_set_head(b, cur, &out->buf);
			if (rc != 0)
				return rc;
		}
		rc = put_value(b, v, &out->buf);
		if (rc != 0)
			return rc;
		out->points++;
		out->open_points++;
	}
	if (cur != UINT32_MAX) {
		rc = exp_buf_append(&out->buf, "\n", 1);
		if (rc != 0)
			return rc;
	}
	*pos = b->nvals;
	return exp_out_cut(out);
}

static int sink_log_send(void *state, struct exp_out *out)
{
	struct sink_log *s = state;

	for (uint32_t i = 0; i < out->nchunks; i++) {
		size_t off = exp_out_chunk_start(out, i), n = out->chunk_end[i] - off;

		if (out->chunk_done[i])
			continue;
		if (fwrite(out->buf.data + off, 1, n, s->fp) != n || fflush(s->fp) != 0)
			return -EIO;
		out->chunk_done[i] = 1;
	}
	return 0;
}

static void sink_log_close(void *state)
{
	free(state);
}

const struct exp_sink_ops sink_log_ops = {
	.kind = "log",
	.init = sink_log_init,
	.format = sink_log_format,
	.send = sink_log_send,
	.close = sink_log_close,
};
