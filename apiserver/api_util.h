/*
 * api_util.h - the API server's pure functions: request parsing, number
 * formatting and the response cache's table, with no Kore and no store in
 * sight.
 *
 * Everything Kore hands the application arrives raw: req->path is not
 * percent-decoded and req->query_string is the bytes after '?'.  These
 * functions turn them into fixed-size, NUL-terminated buffers (no
 * allocation) and a small description of what the model route asks for,
 * so the handlers stay a few lines each and the parsing is unit-tested
 * (tests/unit/test_api_util.c, tests/unit/test_api_resource.c).
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

/* ---- metrics.k8s.io: paths, quantities, durations, selectors ---------- */

#define API_NAME_MAX     256   /* a Kubernetes object name (DNS subdomain: 253) */
#define API_SEL_MAX      16    /* requirements of one selector */
#define API_SEL_VALS_MAX 16    /* values of one "in (...)" set */

/* What a request under /apis asks for (api_resource.c). */
enum api_res_op {
	API_RES_GROUPS = 0,     /* /apis: APIGroupList */
	API_RES_GROUP,          /* /apis/metrics.k8s.io: APIGroup */
	API_RES_RESOURCES,      /* /apis/metrics.k8s.io/v1beta1: APIResourceList */
	API_RES_NODES,          /* .../nodes: NodeMetricsList */
	API_RES_NODE,           /* .../nodes/{name}: NodeMetrics */
	API_RES_PODS,           /* .../pods or .../namespaces/{ns}/pods: PodMetricsList */
	API_RES_POD,            /* .../namespaces/{ns}/pods/{name}: PodMetrics */
};

struct api_res_target {
	enum api_res_op op;
	int             legacy;               /* Heapster's /apis/metrics/v1alpha1 */
	char            ns[API_NAME_MAX];     /* PODS ("" = all namespaces), POD */
	size_t          ns_len;
	char            name[API_NAME_MAX];   /* NODE, POD */
	size_t          name_len;
};

/*
 * Parses a path starting with "/apis" (one trailing '/' optional) into t.
 * Names are percent-decoded, non-empty and free of '/'.  0,
 * HC_ERR_NOTFOUND (no such resource), HC_ERR_PARSE (bad escape or name),
 * HC_ERR_TOOBIG (a name longer than API_NAME_MAX - 1).
 */
int api_res_parse(const char *path, size_t len, struct api_res_target *t);

/*
 * Kubernetes quantities as metrics-server writes them.  CPU: nanocores
 * with the "n" suffix ("298952967n"; "0" for zero).  Memory: bytes with
 * the "Ki" suffix when a whole number of KiB ("1311340Ki"), else plain
 * bytes ("1000"), "0" for zero.  buf must hold 24 bytes; returns the
 * length.
 */
size_t api_fmt_cpu_quantity(int64_t nanocores, char *buf);
size_t api_fmt_mem_quantity(int64_t bytes, char *buf);

/*
 * A duration in nanoseconds formatted exactly as Go's time.Duration
 * String() (what metav1.Duration puts in "window"): "15s", "10.059s",
 * "1m0s", "1h2m3.5s", "500ms", "1.5µs", "0s", "-2s".  buf must hold 32
 * bytes; returns the length.
 */
size_t api_fmt_go_duration(int64_t ns, char *buf);

/*
 * Label lists as the store holds them in a set's "labels" label: "k:v"
 * pairs joined by ',' (sorted, but nothing here depends on it).  The key
 * ends at the first ':'; Kubernetes label keys and values contain neither
 * ',' nor ':'.  Iterate with *pos = 0 first: 1 and the next pair, 0 at the
 * end.  A pair without ':' has an empty value.
 */
int api_klabels_next(const char *s, size_t len, size_t *pos,
		     const char **key, size_t *key_len,
		     const char **val, size_t *val_len);

/* Kubernetes label selectors (labels.Parse) and field selectors. */
enum api_sel_op {
	API_SEL_EQ = 0,     /* k=v, k==v */
	API_SEL_NE,         /* k!=v */
	API_SEL_IN,         /* k in (v1,v2) */
	API_SEL_NOTIN,      /* k notin (v1,v2) */
	API_SEL_EXISTS,     /* k */
	API_SEL_NOTEXISTS,  /* !k */
};

struct api_sel_str {
	const char *p;      /* into the parsed string; not NUL-terminated */
	uint32_t    len;
};

struct api_sel_req {
	enum api_sel_op    op;
	struct api_sel_str key;
	struct api_sel_str vals[API_SEL_VALS_MAX];   /* EQ, NE: vals[0] */
	uint32_t           nvals;
};

struct api_selector {
	struct api_sel_req reqs[API_SEL_MAX];
	uint32_t           n;                        /* 0: matches everything */
};

#define API_SEL_FIELDS 1    /* field selector: only =, ==, != */

/*
 * Parses a decoded selector s[0..len) into sel; strings point into s,
 * which must outlive sel.  Label selectors take the whole equality- and
 * set-based grammar ("a=b,c!=d,e in (f,g),h notin (i),j,!k", spaces
 * allowed between tokens); keys and values are checked like Kubernetes
 * checks label keys (optional DNS prefix + '/', name of at most 63 of
 * [A-Za-z0-9._-], alphanumeric at both ends) and values (the same name
 * syntax, or empty).  With API_SEL_FIELDS only =, == and != are
 * accepted, keys and values may hold '.', and values may be 253 long.
 * 0, HC_ERR_PARSE, HC_ERR_TOOBIG (more than API_SEL_MAX requirements or
 * API_SEL_VALS_MAX values).  Numeric operators (gt, lt) are not supported.
 */
int api_selector_parse(const char *s, size_t len, unsigned flags,
		       struct api_selector *sel);

/* Whether a "k:v,k2:v2" label list (len 0: no labels) satisfies sel. */
int api_selector_match(const struct api_selector *sel, const char *labels,
		       size_t len);

/* ---- response cache ----------------------------------------------------- */

/*
 * Whole answers by request path and query, each under a "tag" (what the
 * store looked like when it was computed: api.h says which times), for
 * one worker.  Slots are chosen by a hash of the key and a new entry
 * replaces the one in its slot, so a lookup is one hash and one compare;
 * entries keep their buffers when replaced, so a warm cache allocates
 * nothing.  Bodies over max_body are not kept, nor anything that would
 * take keys and bodies past max_bytes.
 */
#define API_CACHE_TAGS   4
#define API_CACHE_NO_NOW UINT32_MAX

struct api_cache_ent {
	uint64_t  hash;             /* of the key; 0: an empty slot */
	char     *key;              /* path '\0' query '\0' (no query: path '\0') */
	uint32_t  key_len, key_cap;
	int64_t   tag[API_CACHE_TAGS];
	char     *body;
	uint32_t  body_len, body_cap;
	uint32_t  now_off;          /* offset in body of the 20-byte RFC 3339
				     * time of the request, or API_CACHE_NO_NOW */
};

struct api_cache {
	struct api_cache_ent *slots;   /* nslots, allocated by the first put */
	uint32_t              nslots;
	size_t                max_body, max_bytes;
	size_t                bytes;   /* held by keys and bodies */
};

/* An empty cache with those limits (allocates nothing yet). */
void api_cache_init(struct api_cache *c, uint32_t nslots, size_t max_body,
		    size_t max_bytes);
/* Forgets every entry, keeping the slot array; api_cache_free() frees all. */
void api_cache_clear(struct api_cache *c);
void api_cache_free(struct api_cache *c);

/*
 * The hash of a key: path and query (NULL: none; "" is another key).
 * Never 0.  Computed once per request, for the lookup and the put.
 */
uint64_t api_cache_hash(const char *path, const char *query);

/*
 * The entry for path and query (h: their api_cache_hash()) computed under
 * `tag`, or NULL.  When the body holds the time of the request, now_ms is
 * written there first (a time that is not 20 bytes long, out of years
 * 0000-9999, misses).  Valid until the next put.
 */
const struct api_cache_ent *api_cache_find(struct api_cache *c, uint64_t h,
					   const char *path, const char *query,
					   const int64_t tag[API_CACHE_TAGS],
					   int64_t now_ms);

/*
 * Keeps body[0..len) under path, query (h: their hash) and tag; now_off
 * as in struct api_cache_ent.  0, HC_ERR_TOOBIG (body or key over
 * max_body, or past max_bytes), HC_ERR_PARSE (a now_off not followed by
 * 20 bytes), -ENOMEM.  A put refused for its arguments changes nothing;
 * one that fails for memory leaves its slot empty.
 */
int api_cache_put(struct api_cache *c, uint64_t h, const char *path,
		  const char *query, const int64_t tag[API_CACHE_TAGS],
		  const void *body, size_t len, uint32_t now_off);

/* ---- client certificates ---------------------------------------------- */

/*
 * Whether user (a client certificate's CN, len bytes) is in list, the
 * --allowed_users value: names separated by ',', compared exactly after
 * trimming spaces around each.  A NULL or empty list allows every user
 * (Heapster: any authenticated client); a list of only separators allows
 * nobody; an empty user is never allowed.
 */
int api_user_allowed(const char *list, const char *user, size_t len);

#endif
