/*
 * mpread.h - a zero-copy msgpack reader for the hot read paths.
 *
 * msgpack-c's unpacker builds an object tree in a zone it allocates; the
 * API server reads stored values thousands of times a second and must not
 * allocate or copy.  hc_mp walks the bytes in place (typically straight out
 * of LMDB's memory map): strings come back as pointer + length into the
 * buffer, valid as long as the buffer (the read transaction) is.
 *
 * Every function returns 0 or HC_ERR_PARSE (wrong type or truncated input)
 * and advances the cursor only on success.
 */
#ifndef HC_MPREAD_H
#define HC_MPREAD_H

#include <stddef.h>
#include <stdint.h>

struct hc_mp {
	const uint8_t *p;
	const uint8_t *end;
};

static inline void hc_mp_init(struct hc_mp *m, const void *buf, size_t len)
{
	m->p = buf;
	m->end = (const uint8_t *)buf + len;
}

int hc_mp_array(struct hc_mp *m, uint32_t *n);
int hc_mp_str(struct hc_mp *m, const char **s, uint32_t *len);
int hc_mp_int(struct hc_mp *m, int64_t *v);
/* An int (*type = 0, *i) or a float (*type = 1, *f). */
int hc_mp_num(struct hc_mp *m, uint8_t *type, int64_t *i, double *f);
/* 1 if the next object is nil (and consumes it), else 0. */
int hc_mp_nil(struct hc_mp *m);
/* Skips one whole object, nested ones included. */
int hc_mp_skip(struct hc_mp *m);

#endif
