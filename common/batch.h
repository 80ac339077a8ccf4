/*
 * batch.h - the batch model: what one resolution of a cluster looks like.
 *
 * A batch holds metric sets keyed by Heapster's entity keys
 * ("node:N", "node:N/container:C", "namespace:NS", "namespace:NS/pod:P",
 * "namespace:NS/pod:P/container:C", "cluster").  A set has labels, times and
 * values; a value is a metric (by name id) with an int64 or float64, a kind,
 * and, for labeled metrics (filesystem, accelerator), extra labels.
 *
 * Memory: everything a batch owns lives in four growable arrays (sets,
 * values, labels, names) and one arena for strings.  Adding a value never
 * allocates unless an array doubles; hc_batch_reset() keeps the memory for
 * the next resolution, so a steady-state pipeline allocates nothing per
 * point and little per batch.
 *
 * Values are appended in any order and reference their set by index.
 * hc_batch_group() makes each set's values one contiguous run (stable
 * counting sort, O(n), unless they already are: see batch.c) and fills
 * each set's vals_off/vals_n; lookups by set need a grouped batch, and any
 * later add ungroups it.  Runs are in no particular order.
 *
 * Room (hc_batch_set_room(), the processor's batches): each run is
 * followed by free slots, as many as its set's type asks for, so that
 * values added to a set that already has values go into its run and the
 * batch stays grouped; a set's first value starts a new run at the end.
 * Only a set that outgrows its room ungroups the batch, and the next
 * grouping (a counting sort) gives every run its room again.  Free slots
 * are holes in vals[] (set == HC_HOLE): code that walks vals[] whole must
 * skip them, and hc_batch_count() is the number of values.
 *
 * Strings: keys and label values passed to the batch must outlive it; copy
 * transient strings with hc_batch_str() first.  Label keys are usually the
 * HC_L_* constants.  Pointers into the arrays (hc_batch_set_ptr(), the
 * result of hc_batch_add()) are invalidated by the next add.
 */
#ifndef HC_BATCH_H
#define HC_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/*
 * A bump allocator of large blocks; freed or reset all at once.  A reset
 * keeps the blocks of the standard size for reuse (spare), so an arena
 * refilled to the same size every resolution allocates nothing and takes
 * no page faults after the first.
 */
struct hc_arena_block;
struct hc_arena {
	struct hc_arena_block *head;
	struct hc_arena_block *spare;
	size_t                 block_size;
};

void  hc_arena_init(struct hc_arena *a, size_t block_size);
void *hc_arena_alloc(struct hc_arena *a, size_t size);   /* 8-byte aligned; NULL on ENOMEM */
char *hc_arena_strndup(struct hc_arena *a, const char *s, size_t len);
void  hc_arena_reset(struct hc_arena *a);   /* keeps standard-size blocks as spares */
void  hc_arena_free(struct hc_arena *a);

/*
 * A string -> uint32 hash map (open addressing, linear probing).  Keys are
 * not copied: they must outlive the map or be removed first.
 */
struct hc_map_slot;
struct hc_map {
	struct hc_map_slot *slots;
	uint32_t            cap;    /* power of two */
	uint32_t            count;
};

uint64_t hc_hash(const char *s, size_t len);
int  hc_map_init(struct hc_map *m, uint32_t expected);
void hc_map_free(struct hc_map *m);
void hc_map_clear(struct hc_map *m);
/* 0 and *val when found, HC_ERR_NOTFOUND otherwise. */
int  hc_map_get(const struct hc_map *m, const char *key, size_t len, uint32_t *val);
/* Inserts or replaces.  0 or -ENOMEM. */
int  hc_map_put(struct hc_map *m, const char *key, size_t len, uint32_t val);
/* 0, or HC_ERR_NOTFOUND. */
int  hc_map_del(struct hc_map *m, const char *key, size_t len);

struct hc_label {
	const char *key;
	const char *value;
};

/* The "type" label as a number, kept by hc_batch_label() (see hc_set.type). */
enum hc_entity_type {
	HC_T_OTHER = 0, HC_T_POD_CONTAINER, HC_T_POD, HC_T_NS, HC_T_NODE,
	HC_T_SYS_CONTAINER, HC_T_CLUSTER,
};

/* HC_T_* of a "type" label value. */
uint8_t hc_entity_type(const char *type);

struct hc_set {
	const char *key;          /* entity key (NUL-terminated) */
	uint32_t    key_len;      /* strlen(key) */
	uint8_t     type;         /* enum hc_entity_type of its "type" label */
	uint32_t    labels_off;   /* range in batch->labels */
	uint32_t    labels_n;
	uint32_t    vals_off;     /* range in batch->vals, after hc_batch_group() */
	uint32_t    vals_n;
	uint32_t    vals_cap;     /* run length with its room (room mode) */
	int64_t     create_ms;    /* entity creation time, 0 if unknown */
	int64_t     start_ms;     /* collection start time, 0 if unknown */
	int64_t     scrape_ms;    /* time the source sampled the values */
};

#define HC_HOLE UINT32_MAX    /* hc_value.set of a free slot (room mode) */

struct hc_value {
	uint32_t set;             /* index in batch->sets; HC_HOLE: a free slot */
	uint32_t name;            /* index in batch->names; < HC_M_COUNT: table metric */
	uint32_t labels_off;      /* extra labels of a labeled metric */
	uint16_t labels_n;        /* 0: a plain metric */
	uint8_t  type;            /* enum hc_vtype */
	uint8_t  kind;            /* enum hc_kind */
	union {
		int64_t i;
		double  f;
	} v;
};

struct hc_batch {
	int64_t          ts_ms;        /* batch timestamp: the end of the window */
	uint32_t         nodes_ok;     /* nodes scraped successfully */
	uint32_t         nodes_failed; /* nodes whose scrape failed: absent, not zero */
	struct hc_arena  arena;
	struct hc_set   *sets;
	uint32_t         nsets, sets_cap;
	struct hc_value *vals;
	uint32_t         nvals, vals_cap;
	struct hc_label *labels;
	uint32_t         nlabels, labels_cap;
	const char     **names;        /* [0, HC_M_COUNT) is hc_metric_table */
	uint8_t         *name_kinds;   /* kind per name (custom metrics declare theirs) */
	uint32_t         nnames, names_cap;
	struct hc_map    set_index;    /* entity key -> set index */
	struct hc_map    name_index;   /* every name -> name index */
	int              grouped;
	uint8_t          room[HC_T_CLUSTER + 1];  /* free slots per run, by set type */
	int              room_on;      /* hc_batch_set_room() was called */
	uint32_t         last_run;     /* set whose run ends vals[] (room mode) */
	uint32_t         nholes;       /* free slots in vals[] */
	uint32_t         grouped_n;    /* values grouped by the last hc_batch_group() */
	uint32_t         added;        /* hc_batch_add() calls since */
	uint32_t         last_added;   /* index of the value added last */
	struct hc_value *vals_alt;     /* hc_batch_group()'s second buffer */
	uint32_t         vals_alt_cap;
	uint32_t        *scratch;      /* for hc_batch_group() */
	uint32_t         scratch_cap;
	uint32_t        *scratch2;
	uint32_t         scratch2_cap;
};

int  hc_batch_init(struct hc_batch *b);
/* Empties the batch and sets its timestamp; keeps its memory. */
void hc_batch_reset(struct hc_batch *b, int64_t ts_ms);
void hc_batch_free(struct hc_batch *b);

/* Copies a string into the batch's arena; NULL on ENOMEM. */
const char *hc_batch_str(struct hc_batch *b, const char *s, size_t len);

/*
 * Finds the set with this key or creates it (copying the key).  *created
 * (may be NULL) says which.  0 or -ENOMEM.
 */
int hc_batch_set(struct hc_batch *b, const char *key, size_t len,
		 uint32_t *idx, int *created);
/* 0 and *idx, or HC_ERR_NOTFOUND. */
int hc_batch_find(const struct hc_batch *b, const char *key, size_t len,
		  uint32_t *idx);
/*
 * hc_batch_find() that first compares set `guess` (any value; out of range
 * is a miss): for joins that walk two batches in nearly the same order,
 * where the set after the last one found is usually the next one, a key
 * comparison replaces a hash probe.
 */
int hc_batch_find_near(const struct hc_batch *b, const char *key, size_t len,
		       uint32_t guess, uint32_t *idx);

/*
 * Sets label `key` of set `set` to `value` (replacing an existing one).
 * Both strings must outlive the batch.  0 or -ENOMEM.
 */
int hc_batch_label(struct hc_batch *b, uint32_t set, const char *key,
		   const char *value);
/* Value of a set's label, or NULL. */
const char *hc_batch_get_label(const struct hc_batch *b, uint32_t set,
			       const char *key);

/*
 * Id of a metric name, interning names the table does not know (custom
 * metrics, "<resource>/request") with the given kind.  0 or -ENOMEM.
 */
int hc_batch_name(struct hc_batch *b, const char *name, size_t len,
		  uint8_t kind, uint32_t *id);

/* Appends a value; kind and type default from the table. NULL on ENOMEM. */
struct hc_value *hc_batch_add(struct hc_batch *b, uint32_t set, uint32_t name);
int hc_batch_add_int(struct hc_batch *b, uint32_t set, uint32_t name, int64_t v);
int hc_batch_add_float(struct hc_batch *b, uint32_t set, uint32_t name, double v);
/*
 * Appends a labeled value; `labels` (n entries, strings outliving the batch)
 * are copied into the batch's label array.  0 or -ENOMEM.
 */
int hc_batch_add_labeled(struct hc_batch *b, uint32_t set, uint32_t name,
			 const struct hc_label *labels, uint16_t n,
			 uint8_t type, int64_t i, double f);

/* Groups values by set (stable).  0 or -ENOMEM. */
int hc_batch_group(struct hc_batch *b);

/*
 * Turns room mode on (see the top of this file) with `room[t]` free slots
 * after each run of a set of type t (HC_T_*, n entries, the rest 0); kept
 * across resets, takes effect from the next reset.  Call it again to
 * change the sizes.
 */
void hc_batch_set_room(struct hc_batch *b, const uint8_t *room, size_t n);

/* The number of values (vals[] less its holes). */
static inline uint32_t hc_batch_count(const struct hc_batch *b)
{
	return b->nvals - b->nholes;
}

/* The value the last hc_batch_add*() call added. */
struct hc_value *hc_batch_last(struct hc_batch *b);

/*
 * The unlabeled value of metric `name` in set `set` of a grouped batch, or
 * NULL.  O(values of the set).
 */
struct hc_value *hc_batch_value(const struct hc_batch *b, uint32_t set,
				uint32_t name);

/* A value as a double, whatever its type. */
static inline double hc_value_num(const struct hc_value *v)
{
	return v->type == HC_FLOAT ? v->v.f : (double)v->v.i;
}

#endif
