/*
 * mpread.c - in-place msgpack decoding (see mpread.h).  Only the types the
 * project writes are accepted by the typed readers; hc_mp_skip() knows all
 * of them, so unknown trailing fields of a newer format can be skipped.
 */
#include <string.h>

#include "hc.h"
#include "mpread.h"

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

#define NEED(m, n) ((size_t)((m)->end - (m)->p) >= (size_t)(n))

int hc_mp_array(struct hc_mp *m, uint32_t *n)
{
	uint8_t c;

	if (!NEED(m, 1))
		return HC_ERR_PARSE;
	c = m->p[0];
	if ((c & 0xf0) == 0x90) {
		*n = c & 0x0f;
		m->p += 1;
	} else if (c == 0xdc && NEED(m, 3)) {
		*n = (uint32_t)be(m->p + 1, 2);
		m->p += 3;
	} else if (c == 0xdd && NEED(m, 5)) {
		*n = (uint32_t)be(m->p + 1, 4);
		m->p += 5;
	} else {
		return HC_ERR_PARSE;
	}
	return 0;
}

int hc_mp_str(struct hc_mp *m, const char **s, uint32_t *len)
{
	uint32_t n, hdr;
	uint8_t c;

	if (!NEED(m, 1))
		return HC_ERR_PARSE;
	c = m->p[0];
	if ((c & 0xe0) == 0xa0) {
		n = c & 0x1f;
		hdr = 1;
	} else if (c == 0xd9 && NEED(m, 2)) {
		n = m->p[1];
		hdr = 2;
	} else if (c == 0xda && NEED(m, 3)) {
		n = (uint32_t)be(m->p + 1, 2);
		hdr = 3;
	} else if (c == 0xdb && NEED(m, 5)) {
		n = (uint32_t)be(m->p + 1, 4);
		hdr = 5;
	} else {
		return HC_ERR_PARSE;
	}
	if (!NEED(m, (size_t)hdr + n))
		return HC_ERR_PARSE;
	*s = (const char *)m->p + hdr;
	*len = n;
	m->p += hdr + n;
	return 0;
}

int hc_mp_num(struct hc_mp *m, uint8_t *type, int64_t *i, double *f)
{
	uint8_t c;
	uint64_t u;

	if (!NEED(m, 1))
		return HC_ERR_PARSE;
	c = m->p[0];
	*type = 0;
	if (c <= 0x7f) {
		*i = c;
		m->p += 1;
		return 0;
	}
	if (c >= 0xe0) {
		*i = (int8_t)c;
		m->p += 1;
		return 0;
	}
	switch (c) {
	case 0xcc: case 0xcd: case 0xce: case 0xcf: {
		int n = 1 << (c - 0xcc);

		if (!NEED(m, 1 + n))
			return HC_ERR_PARSE;
		u = be(m->p + 1, n);
		if (u > INT64_MAX)
			return HC_ERR_PARSE;
		*i = (int64_t)u;
		m->p += 1 + n;
		return 0;
	}
	case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
		int n = 1 << (c - 0xd0);

		if (!NEED(m, 1 + n))
			return HC_ERR_PARSE;
		u = be(m->p + 1, n);
		/* sign-extend from n bytes */
		if (n < 8 && (u >> (n * 8 - 1)) & 1)
			u |= ~(uint64_t)0 << (n * 8);
		*i = (int64_t)u;
		m->p += 1 + n;
		return 0;
	}
	case 0xca: {
		uint32_t b32;
		float fl;

		if (!NEED(m, 5))
			return HC_ERR_PARSE;
		b32 = (uint32_t)be(m->p + 1, 4);
		memcpy(&fl, &b32, 4);
		*f = fl;
		*type = 1;
		m->p += 5;
		return 0;
	}
	case 0xcb:
		if (!NEED(m, 9))
			return HC_ERR_PARSE;
		u = be(m->p + 1, 8);
		memcpy(f, &u, 8);
		*type = 1;
		m->p += 9;
		return 0;
	default:
		return HC_ERR_PARSE;
	}
}

int hc_mp_int(struct hc_mp *m, int64_t *v)
{
	struct hc_mp save = *m;
	uint8_t type;
	double f;

	if (hc_mp_num(m, &type, v, &f) != 0)
		return HC_ERR_PARSE;
	if (type != 0) {
		*m = save;
		return HC_ERR_PARSE;
	}
	return 0;
}

int hc_mp_nil(struct hc_mp *m)
{
	if (NEED(m, 1) && m->p[0] == 0xc0) {
		m->p++;
		return 1;
	}
	return 0;
}

/* Skips `count` objects; iterative over containers via a pending counter. */
int hc_mp_skip(struct hc_mp *m)
{
	uint64_t pending = 1;

	while (pending > 0) {
		uint8_t c;
		uint64_t n = 0, extra = 0;
		size_t hdr = 1;

		if (!NEED(m, 1))
			return HC_ERR_PARSE;
		c = m->p[0];
		pending--;
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
			/* fixint, nil, bool */
		} else if ((c & 0xf0) == 0x80) {
			extra = 2 * (uint64_t)(c & 0x0f);
		} else if ((c & 0xf0) == 0x90) {
			extra = c & 0x0f;
		} else if ((c & 0xe0) == 0xa0) {
			n = c & 0x1f;
		} else {
			switch (c) {
			case 0xcc: case 0xd0: n = 1; break;
			case 0xcd: case 0xd1: n = 2; break;
			case 0xce: case 0xd2: case 0xca: n = 4; break;
			case 0xcf: case 0xd3: case 0xcb: n = 8; break;
			case 0xd9: case 0xc4: hdr = 2; break;
			case 0xda: case 0xc5: hdr = 3; break;
			case 0xdb: case 0xc6: hdr = 5; break;
			case 0xdc: hdr = 3; break;
			case 0xdd: hdr = 5; break;
			case 0xde: hdr = 3; break;
			case 0xdf: hdr = 5; break;
			default: return HC_ERR_PARSE;   /* ext types: never written */
			}
			if (!NEED(m, hdr))
				return HC_ERR_PARSE;
			if (hdr > 1) {
				uint64_t len = be(m->p + 1, (int)hdr - 1);

				if (c == 0xdc || c == 0xdd)
					extra = len;
				else if (c == 0xde || c == 0xdf)
					extra = 2 * len;
				else
					n = len;
			}
		}
		if (!NEED(m, hdr + n))
			return HC_ERR_PARSE;
		m->p += hdr + n;
		pending += extra;
		/* more pending objects than bytes left is malformed input */
		if (pending > (uint64_t)(m->end - m->p))
			return HC_ERR_PARSE;
	}
	return 0;
}
