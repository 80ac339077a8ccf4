/*
 * api_util.h - the API server's pure functions: request parsing and number
 * formatting, with no Kore and no store in sight.
 *
 * Everything Kore hands the application arrives raw: req->path is not
 * percent-decoded and req->query_string is the bytes after '?'.  These
 * functions turn them into fixed-size, NUL-terminated buffers (no
 * allocation) and a small description of what the model route asks for,
 * so the handlers stay a few lines each and the parsing is unit-tested
 * (tests/unit/test_api_util.c).
 *
 * Errors follow hc.h: 0 or a negative code.  HC_ERR_PARSE means the client
 * sent something malformed (400), HC_ERR_TOOBIG something longer than the
 * buffers below (414/400), HC_ERR_NOTFOUND a path that names no route (404).
 */
#ifndef HC_API_UTIL_H
#define HC_API_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

#define API_KEY_MAX     512   /* entity key; the store's own bound is 498 */
#define API_METRIC_MAX  256   /* metric name */
#define API_ARG_MAX     1024  /* one decoded query argument */
#define API_LABELS_MAX  16    /* ?labels=k:v pairs */
#define API_PODLIST_MAX 1024  /* decoded pod-list segment */

/* What a request under /api/v1/model asks for. */
enum api_op {
	API_OP_NAMES = 0,   /* metric names of entity `key` */
	API_OP_SERIES,      /* metric `metric` of entity `key` */
	API_OP_LIST,        /* child names: keys `prefix<name>` without a further '/' */
	API_OP_PODLIST,     /* metric `metric` of pods `pods` of namespace `key` */
	API_OP_ALLKEYS,     /* every entity key */
};

struct api_target {
	enum api_op op;
	char        key[API_KEY_MAX];        /* NAMES, SERIES, PODLIST: entity key;
					      * LIST: the parent entity ("" = none) */
	size_t      key_len;
	char        prefix[API_KEY_MAX];     /* LIST: key prefix of the children */
	size_t      prefix_len;
	char        metric[API_METRIC_MAX];  /* SERIES, PODLIST: decoded, alias not applied */
	char        pods[API_PODLIST_MAX];   /* PODLIST: "p1,p2,..." decoded */
};

/*
 * Percent-decodes src[0..len) into dst (cap bytes, NUL-terminated; *out_len
 * may be NULL).  '+' stays '+' (RFC 3986; a time offset needs it).
 * HC_ERR_PARSE for a bad escape or a decoded NUL or control byte,
 * HC_ERR_TOOBIG when dst is too small.
 */
int api_pct_decode(const char *src, size_t len, char *dst, size_t cap,
		   size_t *out_len);

/*
 * Finds argument `name` in a raw query string (may be NULL) and decodes
 * its value into dst.  The first occurrence wins.  0, HC_ERR_NOTFOUND, or
 * api_pct_decode()'s errors.
 */
int api_query_get(const char *qs, const char *name, char *dst, size_t cap,
		  size_t *out_len);

/*
 * Splits "k:v,k2:v2" in place into labels (keys and values point into s).
 * An empty string gives 0 labels.  HC_ERR_PARSE for a pair without ':' or
 * with an empty key (as Heapster), HC_ERR_TOOBIG for more than max pairs.
 */
int api_labels_parse(char *s, struct hc_label *labels, uint32_t max,
		     uint32_t *n);

/*
 * Parses the part of a path after "/api/v1/model" (it starts with '/';
 * one trailing '/' is optional) into t.  Names are percent-decoded and must
 * be non-empty and free of '/'; the metric may contain '/'.
 */
int api_model_parse(const char *path, size_t len, struct api_target *t);

/*
 * Formats a double as the shortest decimal that reads back to the same
 * value (JSON number syntax; "null" for NaN and infinities).  buf must
 * hold 32 bytes; returns the length.
 */
size_t api_fmt_double(double v, char *buf);

/*
 * Formats ms as "YYYY-MM-DDTHH:MM:SSZ" (whole seconds, floored, like
 * hc_time_format() but without strftime's locale and time-zone work).
 * buf must hold 21 bytes; returns the length (20), or 0 outside years
 * 0000-9999.
 */
size_t api_fmt_time(int64_t ms, char *buf);

/* Formats an int64 in decimal; buf must hold 21 bytes; returns the length. */
size_t api_fmt_int(int64_t v, char *buf);

/*
 * Heapster's integral "value" of a float point: truncated toward zero and
 * clamped to the int64 range, 0 for NaN.
 */
int64_t api_float_to_int(double v);

/*
 * JSON-escapes src[0..len) into dst, which must hold 6 * len bytes, and
 * returns the length written (no quotes added, no NUL).
 */
size_t api_json_escape(const char *src, size_t len, char *dst);

#endif
