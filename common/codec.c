/*
 * codec.c - batch <-> msgpack object stream (format in codec.h).
 *
 * The decoder checks every object's shape and bounds before it trusts an
 * index: a corrupt or hostile stream yields HC_ERR_PARSE, never an
 * out-of-range access.  msgpack_unpacker_next() frees the previous object's
 * zone, so every string kept is copied into the batch arena at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "hc.h"

enum { OBJ_HEADER = 1, OBJ_NAME = 2, OBJ_SET = 3, OBJ_END = 4 };

struct enc {
	hc_write_fn fn;
	void       *ctx;
	int         rc;
};

static int enc_write(void *data, const char *buf, size_t len)
{
	struct enc *e = data;

	if (e->rc == 0)
		e->rc = e->fn(e->ctx, buf, len);
	return e->rc == 0 ? 0 : -1;
}

static void pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void pack_labels(msgpack_packer *pk, const struct hc_label *l, uint32_t n)
{
	msgpack_pack_array(pk, n * 2);
	for (uint32_t i = 0; i < n; i++) {
		pack_str(pk, l[i].key);
		pack_str(pk, l[i].value);
	}
}

int hc_codec_encode(struct hc_batch *b, hc_write_fn fn, void *ctx)
{
	struct enc e = { fn, ctx, 0 };
	msgpack_packer pk;
	int rc;

	rc = hc_batch_group(b);
	if (rc != 0)
		return rc;
	msgpack_packer_init(&pk, &e, enc_write);

	msgpack_pack_array(&pk, 7);
	msgpack_pack_uint8(&pk, OBJ_HEADER);
	msgpack_pack_uint8(&pk, HC_CODEC_VERSION);
	msgpack_pack_int64(&pk, b->ts_ms);
	msgpack_pack_uint32(&pk, b->nsets);
	msgpack_pack_uint32(&pk, hc_batch_count(b));
	msgpack_pack_uint32(&pk, b->nodes_ok);
	msgpack_pack_uint32(&pk, b->nodes_failed);

	for (uint32_t i = 0; i < b->nnames && e.rc == 0; i++) {
		msgpack_pack_array(&pk, 3);
		msgpack_pack_uint8(&pk, OBJ_NAME);
		pack_str(&pk, b->names[i]);
		msgpack_pack_uint8(&pk, b->name_kinds[i]);
	}

	for (uint32_t s = 0; s < b->nsets && e.rc == 0; s++) {
		const struct hc_set *set = &b->sets[s];

		msgpack_pack_array(&pk, 7);
		msgpack_pack_uint8(&pk, OBJ_SET);
		pack_str(&pk, set->key);
		msgpack_pack_int64(&pk, set->create_ms);
		msgpack_pack_int64(&pk, set->start_ms);
		msgpack_pack_int64(&pk, set->scrape_ms);
		pack_labels(&pk, &b->labels[set->labels_off], set->labels_n);
		msgpack_pack_array(&pk, set->vals_n * 4);
		for (uint32_t i = 0; i < set->vals_n; i++) {
			const struct hc_value *v = &b->vals[set->vals_off + i];

			msgpack_pack_uint32(&pk, v->name);
			msgpack_pack_uint8(&pk, v->kind);
			if (v->type == HC_FLOAT)
				msgpack_pack_double(&pk, v->v.f);
			else
				msgpack_pack_int64(&pk, v->v.i);
			if (v->labels_n)
				pack_labels(&pk, &b->labels[v->labels_off], v->labels_n);
			else
				msgpack_pack_nil(&pk);
		}
	}

	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint8(&pk, OBJ_END);
	msgpack_pack_uint32(&pk, b->nsets);
	msgpack_pack_uint32(&pk, hc_batch_count(b));
	return e.rc;
}

int hc_codec_sbuffer_write(void *sbuf, const char *buf, size_t len)
{
	return msgpack_sbuffer_write(sbuf, buf, len) == 0 ? 0 : -ENOMEM;
}

int hc_decoder_init(struct hc_decoder *d, struct hc_batch *b)
{
	memset(d, 0, sizeof(*d));
	if (!msgpack_unpacker_init(&d->up, 64 * 1024))
		return -ENOMEM;
	msgpack_unpacked_init(&d->obj);
	d->b = b;
	hc_batch_reset(b, 0);
	return 0;
}

void hc_decoder_free(struct hc_decoder *d)
{
	msgpack_unpacked_destroy(&d->obj);
	msgpack_unpacker_destroy(&d->up);
	free(d->name_map);
	d->name_map = NULL;
}

static int as_u64(const msgpack_object *o, uint64_t *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return HC_ERR_PARSE;
	*out = o->via.u64;
	return 0;
}

static int as_i64(const msgpack_object *o, int64_t *out)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return HC_ERR_PARSE;
		*out = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return 0;
	}
	return HC_ERR_PARSE;
}

/* Copies a msgpack string into the batch arena. */
static const char *dec_str(struct hc_decoder *d, const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return NULL;
	return hc_batch_str(d->b, o->via.str.ptr, o->via.str.size);
}

/*
 * Decodes a [k, v, k, v...] array into label structs in `out` (capacity
 * `cap`).  Label keys are interned through the name-free arena copy.
 */
static int dec_labels(struct hc_decoder *d, const msgpack_object *o,
		      struct hc_label *out, uint32_t cap, uint32_t *n)
{
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size % 2 != 0 ||
	    o->via.array.size / 2 > cap)
		return HC_ERR_PARSE;
	for (uint32_t i = 0; i < o->via.array.size / 2; i++) {
		out[i].key = dec_str(d, &o->via.array.ptr[2 * i]);
		out[i].value = dec_str(d, &o->via.array.ptr[2 * i + 1]);
		if (out[i].key == NULL || out[i].value == NULL)
			return HC_ERR_PARSE;
	}
	*n = o->via.array.size / 2;
	return 0;
}

static int dec_header(struct hc_decoder *d, const msgpack_object_array *a)
{
	uint64_t ver, nsets, nvals, ok, failed;
	int64_t ts;

	if (a->size != 7 || as_u64(&a->ptr[1], &ver) || ver != HC_CODEC_VERSION ||
	    as_i64(&a->ptr[2], &ts) || as_u64(&a->ptr[3], &nsets) ||
	    as_u64(&a->ptr[4], &nvals) || as_u64(&a->ptr[5], &ok) ||
	    as_u64(&a->ptr[6], &failed) || nsets > UINT32_MAX || nvals > UINT32_MAX)
		return HC_ERR_PARSE;
	d->b->ts_ms = ts;
	d->b->nodes_ok = (uint32_t)ok;
	d->b->nodes_failed = (uint32_t)failed;
	d->expect_sets = (uint32_t)nsets;
	d->expect_vals = (uint32_t)nvals;
	d->state = 1;
	return 0;
}

static int dec_name(struct hc_decoder *d, const msgpack_object_array *a)
{
	uint64_t kind;
	uint32_t id;
	int rc;

	if (a->size != 3 || a->ptr[1].type != MSGPACK_OBJECT_STR ||
	    as_u64(&a->ptr[2], &kind) || kind > HC_DELTA)
		return HC_ERR_PARSE;
	rc = hc_batch_name(d->b, a->ptr[1].via.str.ptr, a->ptr[1].via.str.size,
			   (uint8_t)kind, &id);
	if (rc != 0)
		return rc;
	if (d->nnames == d->names_cap) {
		uint32_t cap = d->names_cap ? d->names_cap * 2 : 128;
		uint32_t *m = realloc(d->name_map, cap * sizeof(*m));

		if (m == NULL)
			return -ENOMEM;
		d->name_map = m;
		d->names_cap = cap;
	}
	d->name_map[d->nnames++] = id;
	return 0;
}

static int dec_set(struct hc_decoder *d, const msgpack_object_array *a)
{
	struct hc_label lbl[64];
	const msgpack_object_array *vals;
	const char *key;
	uint32_t set, n;
	int created, rc;

	if (a->size != 7 || a->ptr[1].type != MSGPACK_OBJECT_STR ||
	    a->ptr[6].type != MSGPACK_OBJECT_ARRAY)
		return HC_ERR_PARSE;
	key = a->ptr[1].via.str.ptr;
	rc = hc_batch_set(d->b, key, a->ptr[1].via.str.size, &set, &created);
	if (rc != 0)
		return rc;
	if (!created)
		return HC_ERR_PARSE;   /* a key twice in one batch */
	if (as_i64(&a->ptr[2], &d->b->sets[set].create_ms) ||
	    as_i64(&a->ptr[3], &d->b->sets[set].start_ms) ||
	    as_i64(&a->ptr[4], &d->b->sets[set].scrape_ms))
		return HC_ERR_PARSE;
	rc = dec_labels(d, &a->ptr[5], lbl, HC_ARRAY_LEN(lbl), &n);
	if (rc != 0)
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		rc = hc_batch_label(d->b, set, lbl[i].key, lbl[i].value);
		if (rc != 0)
			return rc;
	}
	vals = &a->ptr[6].via.array;
	if (vals->size % 4 != 0)
		return HC_ERR_PARSE;
	for (uint32_t i = 0; i < vals->size; i += 4) {
		const msgpack_object *o = &vals->ptr[i];
		uint64_t name, kind;
		struct hc_value *v;
		uint8_t type;
		int64_t iv = 0;
		double fv = 0;

		if (as_u64(&o[0], &name) || name >= d->nnames ||
		    as_u64(&o[1], &kind) || kind > HC_DELTA)
			return HC_ERR_PARSE;
		if (o[2].type == MSGPACK_OBJECT_FLOAT64 ||
		    o[2].type == MSGPACK_OBJECT_FLOAT32) {
			type = HC_FLOAT;
			fv = o[2].via.f64;
		} else if (as_i64(&o[2], &iv) == 0) {
			type = HC_INT;
		} else {
			return HC_ERR_PARSE;
		}
		if (o[3].type == MSGPACK_OBJECT_NIL) {
			v = hc_batch_add(d->b, set, d->name_map[name]);
			if (v == NULL)
				return -ENOMEM;
			v->type = type;
			if (type == HC_FLOAT)
				v->v.f = fv;
			else
				v->v.i = iv;
		} else {
			rc = dec_labels(d, &o[3], lbl, HC_ARRAY_LEN(lbl), &n);
			if (rc != 0)
				return rc;
			rc = hc_batch_add_labeled(d->b, set, d->name_map[name],
						  lbl, (uint16_t)n, type, iv, fv);
			if (rc != 0)
				return rc;
			v = hc_batch_last(d->b);
		}
		v->kind = (uint8_t)kind;
	}
	return 0;
}

static int dec_object(struct hc_decoder *d, const msgpack_object *o)
{
	const msgpack_object_array *a;
	uint64_t tag;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1)
		return HC_ERR_PARSE;
	a = &o->via.array;
	if (as_u64(&a->ptr[0], &tag))
		return HC_ERR_PARSE;
	if (d->state == 0)
		return tag == OBJ_HEADER ? dec_header(d, a) : HC_ERR_PARSE;
	if (d->state == 2)
		return HC_ERR_PARSE;   /* bytes after the end object */
	switch (tag) {
	case OBJ_NAME:
		return dec_name(d, a);
	case OBJ_SET:
		return dec_set(d, a);
	case OBJ_END:
		if (a->size != 3 || d->b->nsets != d->expect_sets ||
		    hc_batch_count(d->b) != d->expect_vals)
			return HC_ERR_PARSE;
		d->state = 2;
		return 0;
	default:
		return HC_ERR_PARSE;
	}
}

int hc_decoder_feed(struct hc_decoder *d, const char *buf, size_t len)
{
	msgpack_unpack_return ret;
	int rc;

	if (!msgpack_unpacker_reserve_buffer(&d->up, len))
		return -ENOMEM;
	memcpy(msgpack_unpacker_buffer(&d->up), buf, len);
	msgpack_unpacker_buffer_consumed(&d->up, len);
	for (;;) {
		ret = msgpack_unpacker_next(&d->up, &d->obj);
		if (ret == MSGPACK_UNPACK_CONTINUE)
			return 0;
		if (ret != MSGPACK_UNPACK_SUCCESS)
			return ret == MSGPACK_UNPACK_NOMEM_ERROR ? -ENOMEM : HC_ERR_PARSE;
		rc = dec_object(d, &d->obj.data);
		if (rc != 0)
			return rc;
	}
}

int hc_decoder_finish(struct hc_decoder *d)
{
	if (d->state != 2 || d->up.used != d->up.off)
		return HC_ERR_PARSE;
	return 0;
}
