/*
 * sink.c - output buffers and number formatting shared by every sink.
 *
 * The buffers grow by doubling and are only reset between windows, so the
 * steady state allocates nothing.  Number formatting is hand-rolled because
 * it is the hot path of every text sink: snprintf("%lld") costs about 10x a
 * two-digits-at-a-time conversion, and "%.17g" another 10x for floats.
 *
 * Floats: exp_fmt_f64() prints up to 15 significant digits (what a double
 * always round-trips through decimal text in that direction), by splitting
 * the value into an integer part and a scaled fraction held in uint64.  The
 * last digit may differ from the correctly rounded one by one unit (the
 * scaling multiplies in floating point), which no metric consumer notices;
 * in exchange the common range needs no division of doubles and no printf.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "log.h"
#include "sink.h"

/* ---- buffers ---------------------------------------------------------- */

void exp_buf_init(struct exp_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void exp_buf_free(struct exp_buf *b)
{
	free(b->data);
	exp_buf_init(b);
}

int exp_buf_reserve(struct exp_buf *b, size_t n)
{
	size_t ncap;
	char *p;

	if (b->len + n <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64 * 1024;
	while (ncap < b->len + n)
		ncap *= 2;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int exp_buf_append(struct exp_buf *b, const void *p, size_t n)
{
	int rc;

	if (n == 0)
		return 0;       /* p may be NULL then: memcpy must not see it */
	rc = exp_buf_reserve(b, n);
	if (rc != 0)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int exp_array_grow(void *pp, uint32_t *cap, uint32_t n, size_t size)
{
	void *p;

	if (n <= *cap)
		return 0;
	memcpy(&p, pp, sizeof(p));
	p = realloc(p, (size_t)n * size);
	if (p == NULL)
		return -ENOMEM;
	memcpy(pp, &p, sizeof(p));
	*cap = n;
	return 0;
}

void exp_out_init(struct exp_out *o)
{
	memset(o, 0, sizeof(*o));
	exp_buf_init(&o->buf);
}

void exp_out_reset(struct exp_out *o)
{
	o->buf.len = 0;
	o->nchunks = 0;
	o->open_points = 0;
	o->points = o->skipped = o->filtered = o->dropped = 0;
}

void exp_out_free(struct exp_out *o)
{
	exp_buf_free(&o->buf);
	free(o->chunk_end);
	free(o->chunk_points);
	free(o->chunk_done);
	exp_out_init(o);
}

int exp_out_cut(struct exp_out *o)
{
	if (o->buf.len == (o->nchunks ? o->chunk_end[o->nchunks - 1] : 0))
		return 0;
	if (o->nchunks == o->chunks_cap) {
		uint32_t ncap = o->chunks_cap ? o->chunks_cap * 2 : 16;
		size_t *e = realloc(o->chunk_end, ncap * sizeof(*e));
		uint32_t *p;
		uint8_t *d;

		if (e == NULL)
			return -ENOMEM;
		o->chunk_end = e;
		p = realloc(o->chunk_points, ncap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		o->chunk_points = p;
		d = realloc(o->chunk_done, ncap);
		if (d == NULL)
			return -ENOMEM;
		o->chunk_done = d;
		o->chunks_cap = ncap;
	}
	o->chunk_end[o->nchunks] = o->buf.len;
	o->chunk_points[o->nchunks] = o->open_points;
	o->chunk_done[o->nchunks] = 0;
	o->nchunks++;
	o->open_points = 0;
	return 0;
}

/* ---- tags ------------------------------------------------------------ */

void exp_tags_init(struct exp_tags *t)
{
	exp_buf_init(&t->text);
	t->t = NULL;
	t->n = t->cap = 0;
}

void exp_tags_free(struct exp_tags *t)
{
	exp_buf_free(&t->text);
	free(t->t);
	exp_tags_init(t);
}

void exp_tags_reset(struct exp_tags *t)
{
	t->text.len = 0;
	t->n = 0;
}

/* Appends src through f (or as is) to b, setting *off and *len.  0 or -ENOMEM. */
static int tags_put(struct exp_buf *b, const char *src, exp_sanitize_fn f,
		    uint32_t *off, uint32_t *len)
{
	size_t n = strlen(src);
	int rc = exp_buf_reserve(b, 2 * n + 1);

	if (rc != 0)
		return rc;
	*off = (uint32_t)b->len;
	if (f != NULL) {
		*len = (uint32_t)f(b->data + b->len, src, n);
	} else {
		memcpy(b->data + b->len, src, n);
		*len = (uint32_t)n;
	}
	b->len += *len;
	return 0;
}

int exp_tags_add(struct exp_tags *t, const char *key, const char *value,
		 exp_sanitize_fn kf, exp_sanitize_fn vf)
{
	struct exp_tag g;
	size_t mark = t->text.len;
	int rc;

	if (key == NULL || value == NULL || key[0] == '\0' || value[0] == '\0')
		return 0;
	if (t->n == t->cap) {
		uint32_t ncap = t->cap ? t->cap * 2 : 32;
		struct exp_tag *p = realloc(t->t, ncap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		t->t = p;
		t->cap = ncap;
	}
	rc = tags_put(&t->text, key, kf, &g.koff, &g.klen);
	if (rc == 0)
		rc = tags_put(&t->text, value, vf, &g.voff, &g.vlen);
	if (rc != 0)
		return rc;
	if (g.klen == 0 || g.vlen == 0) {
		t->text.len = mark;
		return 0;
	}
	t->t[t->n++] = g;
	return 0;
}

/* Bytewise comparison of the keys of tags a and b. */
static int tag_cmp(const struct exp_tags *t, const struct exp_tag *a,
		   const struct exp_tag *b)
{
	uint32_t n = a->klen < b->klen ? a->klen : b->klen;
	int c = memcmp(t->text.data + a->koff, t->text.data + b->koff, n);

	if (c != 0)
		return c;
	return a->klen < b->klen ? -1 : a->klen > b->klen;
}

void exp_tags_finish(struct exp_tags *t)
{
	uint32_t o = 0;

	/* insertion sort: stable, and n is a dozen */
	for (uint32_t i = 1; i < t->n; i++) {
		struct exp_tag x = t->t[i];
		uint32_t j = i;

		while (j > 0 && tag_cmp(t, &t->t[j - 1], &x) > 0) {
			t->t[j] = t->t[j - 1];
			j--;
		}
		t->t[j] = x;
	}
	/* of a run of equal keys keep the last one added (the last of the run) */
	for (uint32_t i = 0; i < t->n; i++) {
		if (i + 1 < t->n && tag_cmp(t, &t->t[i], &t->t[i + 1]) == 0)
			continue;
		t->t[o++] = t->t[i];
	}
	t->n = o;
}

/* ---- options --------------------------------------------------------- */

int exp_opt_str(const struct hc_uri *u, const char *what, const char *key,
		const char *def, char *dst, size_t cap)
{
	const char *v = hc_uri_opt(u, key);

	if (v == NULL)
		v = def;
	if (strlen(v) >= cap) {
		hc_error("%s: option %s is too long (at most %zu bytes)", what, key, cap - 1);
		return HC_ERR_CONFIG;
	}
	strcpy(dst, v);
	return 0;
}

/* ---- numbers ---------------------------------------------------------- */

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static const uint64_t pow10_u64[20] = {
	1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
	10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
	100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
	100000000000000000ULL, 1000000000000000000ULL,
	10000000000000000000ULL,
};

/* Number of decimal digits of v (1 for 0). */
static int u64_digits(uint64_t v)
{
	int n = 1;

	while (n < 20 && v >= pow10_u64[n])
		n++;
	return n;
}

/* Writes v in exactly `width` digits (zero padded) at dst. */
static void u64_fixed(char *dst, uint64_t v, int width)
{
	char *p = dst + width;

	while (width >= 2) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		p -= 2;
		p[0] = digit_pairs[d];
		p[1] = digit_pairs[d + 1];
		width -= 2;
	}
	if (width == 1)
		*--p = (char)('0' + v % 10);
}

size_t exp_fmt_u64(char *dst, uint64_t v)
{
	int n = u64_digits(v);

	u64_fixed(dst, v, n);
	return (size_t)n;
}

size_t exp_fmt_i64(char *dst, int64_t v)
{
	if (v < 0) {
		dst[0] = '-';
		/* negate in unsigned arithmetic: INT64_MIN has no positive twin */
		return 1 + exp_fmt_u64(dst + 1, (uint64_t)0 - (uint64_t)v);
	}
	return exp_fmt_u64(dst, (uint64_t)v);
}

size_t exp_fmt_f64(char *dst, double v)
{
	uint64_t ip, fr, scale;
	double a, frac;
	size_t n = 0;
	int d, w;

	if (!isfinite(v))
		return 0;
	if (v == 0)
		return (dst[0] = '0', 1);
	a = fabs(v);
	if (a < 1e-5 || a >= 1e15) {
		char tmp[40];
		int len = snprintf(tmp, sizeof(tmp), "%.15g", v);

		memcpy(dst, tmp, (size_t)len);
		return (size_t)len;
	}
	if (v < 0)
		dst[n++] = '-';
	ip = (uint64_t)a;
	frac = a - (double)ip;
	if (ip != 0) {
		d = 15 - u64_digits(ip);          /* fraction digits left: 0..14 */
	} else {
		double t = a;

		/* a in [1e-5, 1): 15 digits from the first significant one */
		for (d = 15; t < 0.1; d++)
			t *= 10;                  /* at most 4 times: d <= 19 */
	}
	scale = pow10_u64[d];
	fr = (uint64_t)(frac * (double)scale + 0.5);
	if (fr >= scale) {                        /* rounding carried over */
		ip++;
		fr -= scale;
	}
	n += exp_fmt_u64(dst + n, ip);
	if (fr == 0)
		return n;
	/* drop trailing zeros of the fraction, then print it zero padded */
	w = d;
	while (fr % 10 == 0) {
		fr /= 10;
		w--;
	}
	dst[n++] = '.';
	u64_fixed(dst + n, fr, w);
	return n + (size_t)w;
}
