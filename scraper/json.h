/*
 * json.h - the scraper's JSON reader: validate once, then walk with a cursor.
 *
 * Design.  A kubelet summary is read in two passes over the raw bytes, with
 * no tokens and no allocation:
 *
 *   1. scr_json_validate() checks the whole body against the JSON grammar
 *      (strings, escapes, numbers, literals, nesting at most
 *      SCR_JSON_MAX_DEPTH).  A truncated, garbage or too deep body is
 *      rejected here, before anything has been written into a batch, so a
 *      failed node never leaves half of its sets behind.
 *   2. The mapper walks the validated text with a cursor (struct scr_json):
 *      scr_json_obj_next() yields an object's keys one by one, the typed
 *      getters read the values it wants, and scr_json_skip() steps over the
 *      rest (unknown fields such as psi, io, swap).  Because the text is
 *      known to be well formed, the cursor needs no error paths; it still
 *      never reads past the end, whatever it is given.
 *
 * jsmn was the alternative: it needs a token array (12-20 bytes per token,
 * grown on JSMN_ERROR_NOMEM) and the mapper then re-reads every token's text
 * anyway; this reader's two passes together are faster than jsmn's
 * tokenizing alone on the summary fixtures (see scraper/bench.c).
 *
 * Strings are handed out raw (struct scr_str: a span of the input without
 * the quotes, and whether it holds escapes); scr_json_unescape() decodes
 * one when its text is needed.  Object keys with escapes are decoded by the
 * cursor itself (into a small buffer), so key comparisons stay memcmp.
 */
#ifndef SCR_JSON_H
#define SCR_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SCR_JSON_MAX_DEPTH 64
#define SCR_JSON_KEY_MAX   128   /* longer escaped keys are compared raw */

/* A string value: raw bytes between the quotes. */
struct scr_str {
	const char *p;
	uint32_t    len;
	uint8_t     esc;     /* contains backslash escapes */
};

/* A cursor over validated JSON text. */
struct scr_json {
	const char *p;
	const char *end;
	char        keybuf[SCR_JSON_KEY_MAX];
};

/*
 * Checks that s[0..len) is exactly one JSON value (surrounded by optional
 * whitespace) with nesting depth at most SCR_JSON_MAX_DEPTH.  0 or
 * HC_ERR_PARSE.  If top_key is not NULL and the value is an object,
 * *top_type receives the first byte ('{', '[', '"', 'n', digit...) of the
 * value of its last member named top_key, or 0 if there is none.
 */
int scr_json_validate(const char *s, size_t len, const char *top_key,
		      char *top_type);

/* Skips one value at the cursor. */
void scr_json_skip(struct scr_json *j);

/*
 * Decodes a string's escapes into dst (cap >= s->len + 1 always suffices:
 * decoding never lengthens) and NUL-terminates it.  Returns the length, or
 * 0 if cap is too small.  Invalid \u surrogates become U+FFFD.
 */
size_t scr_json_unescape(const struct scr_str *s, char *dst, size_t cap);

/* Whether raw string s, its escapes decoded, equals lit (up to 511 bytes). */
int scr_json_str_eq(const struct scr_str *s, const char *lit);

/* Slow path of scr_json_get_i64(): fraction or exponent. */
int scr_json_num_slow(struct scr_json *j, int64_t *out);
/* Reads any JSON number as a double; 1 if it was a number. */
int scr_json_get_f64(struct scr_json *j, double *out);

static inline void scr_json_init(struct scr_json *j, const char *s, size_t len)
{
	j->p = s;
	j->end = s + len;
}

static inline void scr_json_ws(struct scr_json *j)
{
	while (j->p < j->end &&
	       (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

/* The first byte of the value at the cursor, 0 at the end. */
static inline char scr_json_peek(struct scr_json *j)
{
	scr_json_ws(j);
	return j->p < j->end ? *j->p : 0;
}

/* Reads the string at the cursor (which must be at its opening quote). */
static inline void scr_json_read_str(struct scr_json *j, struct scr_str *s)
{
	const char *p = j->p + 1;

	s->p = p;
	s->esc = 0;
	while (p < j->end && *p != '"') {
		if (*p == '\\') {
			s->esc = 1;
			p++;
		}
		p++;
	}
	if (p > j->end)
		p = j->end;
	s->len = (uint32_t)(p - s->p);
	j->p = p < j->end ? p + 1 : p;
}

/*
 * If the value at the cursor is an object, enters it and returns 1;
 * otherwise skips the value and returns 0.
 */
static inline int scr_json_obj_enter(struct scr_json *j)
{
	if (scr_json_peek(j) == '{') {
		j->p++;
		return 1;
	}
	scr_json_skip(j);
	return 0;
}

/* Same for arrays. */
static inline int scr_json_arr_enter(struct scr_json *j)
{
	if (scr_json_peek(j) == '[') {
		j->p++;
		return 1;
	}
	scr_json_skip(j);
	return 0;
}

/*
 * Next member of the object being walked: 1 with *key set and the cursor on
 * its value (which the caller must read or skip), or 0 after the closing
 * brace.
 */
static inline int scr_json_obj_next(struct scr_json *j, struct scr_str *key)
{
	char c = scr_json_peek(j);

	if (c == ',')
		c = (j->p++, scr_json_peek(j));
	if (c != '"') {
		if (j->p < j->end)
			j->p++;     /* '}' */
		return 0;
	}
	scr_json_read_str(j, key);
	if (key->esc && key->len < SCR_JSON_KEY_MAX) {
		struct scr_str raw = *key;

		key->len = (uint32_t)scr_json_unescape(&raw, j->keybuf,
						       sizeof(j->keybuf));
		key->p = j->keybuf;
		key->esc = 0;
	}
	if (scr_json_peek(j) == ':')
		j->p++;
	return 1;
}

/* Next element of the array being walked: 1 at an element, 0 after ']'. */
static inline int scr_json_arr_next(struct scr_json *j)
{
	char c = scr_json_peek(j);

	if (c == ',')
		c = (j->p++, scr_json_peek(j));
	if (c == ']' || c == 0) {
		if (j->p < j->end)
			j->p++;
		return 0;
	}
	return 1;
}

/* 1 and *s if the value is a string; otherwise skips it and returns 0. */
static inline int scr_json_get_str(struct scr_json *j, struct scr_str *s)
{
	if (scr_json_peek(j) == '"') {
		scr_json_read_str(j, s);
		return 1;
	}
	scr_json_skip(j);
	return 0;
}

/*
 * 1 and *out if the value is a number in [0, INT64_MAX] (a fraction is
 * truncated); otherwise (negative, too large, not a number) skips it and
 * returns 0: the summary's counters are all unsigned.
 */
static inline int scr_json_get_i64(struct scr_json *j, int64_t *out)
{
	const char *p, *start;
	uint64_t v = 0;

	scr_json_ws(j);
	p = start = j->p;
	while (p < j->end && (unsigned)(*p - '0') < 10 && p - start < 18)
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (p == start || (p < j->end && (*p == '.' || *p == 'e' || *p == 'E' ||
					  (unsigned)(*p - '0') < 10)))
		return scr_json_num_slow(j, out);
	j->p = p;
	*out = (int64_t)v;
	return 1;
}

/*
 * Builder of a labels string: the "k:v" pairs of a labels object, sorted
 * (bytewise, as Heapster's sort.Strings) and joined by ",".  Reused across
 * objects; it owns its buffers.
 */
struct scr_labels {
	char     *buf;           /* "k:v\0" entries, then the joined string */
	size_t    len, cap;
	uint32_t *offs;          /* entry offsets in buf, sorted by entry */
	uint32_t  n, offs_cap;
	size_t    joined;        /* offset of the joined string in buf */
	size_t    joined_len;
};

void scr_labels_init(struct scr_labels *l);
void scr_labels_free(struct scr_labels *l);
/*
 * Reads the labels object at the cursor (anything else is skipped and
 * gives "").  0 or -ENOMEM.  scr_labels_str() is then the joined string.
 */
int  scr_labels_read(struct scr_labels *l, struct scr_json *j);
const char *scr_labels_str(const struct scr_labels *l, size_t *len);
/* Value of label key among those just read, or NULL. */
const char *scr_labels_get(const struct scr_labels *l, const char *key);

/* Key comparison against a literal. */
#define SCR_KEY_IS(k, lit) \
	((k).len == sizeof(lit) - 1 && memcmp((k).p, lit, sizeof(lit) - 1) == 0)

#endif
