/*
 * codec.h - a batch as a stream of msgpack objects.
 *
 * A batch travels between processes as a sequence of small top-level msgpack
 * arrays, so that neither side ever holds the encoded batch whole: the
 * encoder hands bytes to a write callback as it goes (the queue writer cuts
 * them into messages), and the decoder is fed chunk by chunk and builds the
 * batch as complete objects arrive.
 *
 *   [1, version, ts_ms, nsets, nvals, nodes_ok, nodes_failed]     header
 *   [2, name, kind]                                               one per name id
 *   [3, key, create_ms, start_ms, scrape_ms, [k, v, ...],        one per set
 *       [name_id, kind, value, labels_or_nil, ...]]
 *   [4, nsets, nvals]                                             end, a check
 *
 * Labels are sent once per set, values as (name id, kind, value) triples
 * against the name dictionary: no label or name is repeated per point.
 * Float values are msgpack float64, ints msgpack ints, so the type survives.
 */
#ifndef HC_CODEC_H
#define HC_CODEC_H

#include <msgpack.h>

#include "batch.h"

#define HC_CODEC_VERSION 1

/* Receives encoded bytes; returns 0 or a negative code, which aborts encoding. */
typedef int (*hc_write_fn)(void *ctx, const char *buf, size_t len);

/* Encodes batch b (grouping it first) through fn.  0 or a negative code. */
int hc_codec_encode(struct hc_batch *b, hc_write_fn fn, void *ctx);

struct hc_decoder {
	msgpack_unpacker   up;
	msgpack_unpacked   obj;
	struct hc_batch   *b;
	uint32_t          *name_map;     /* stream name id -> batch name id */
	uint32_t           nnames, names_cap;
	uint32_t           expect_sets, expect_vals;
	int                state;        /* 0 header, 1 body, 2 done */
};

/* Prepares to decode into b, which is reset.  0 or -ENOMEM. */
int  hc_decoder_init(struct hc_decoder *d, struct hc_batch *b);
/* Feeds the next bytes.  0, HC_ERR_PARSE on a malformed stream, or -ENOMEM. */
int  hc_decoder_feed(struct hc_decoder *d, const char *buf, size_t len);
/* 0 if a complete, consistent batch was decoded, HC_ERR_PARSE otherwise. */
int  hc_decoder_finish(struct hc_decoder *d);
void hc_decoder_free(struct hc_decoder *d);

/* Encodes into a growing memory buffer (tests, the one-shot mode). */
int hc_codec_sbuffer_write(void *sbuf, const char *buf, size_t len);

#endif
