/*
 * store.h - the LMDB store: short- and long-retention rings of batches.
 *
 * One LMDB environment (a directory holding data.mdb and lock.mdb) shared by
 * every process of a pipeline.  The processor is the only writer of data;
 * each exporter writes only its own cursor; the API server only reads.
 * Readers never block the writer and see a consistent snapshot (one LMDB
 * read transaction per request, no locks of ours).
 *
 * Named databases (readable with `mdb_stat -a` and `mdb_dump -p -s NAME`;
 * docs/STORE.md documents the encodings):
 *
 *   meta         text keys -> text values: "format", "created", "latest"
 *   names        metric name (text) -> its store id (decimal text)
 *   short.index  batch time "TTTTTTTTTTTTT" (13 decimal digits, ms) -> batch info
 *   short.data   "TTTTTTTTTTTTT <entity key>" -> one entity's values (msgpack)
 *   long.index   as short.index, for the long ring
 *   long.data    as short.data, long-retention metrics only
 *   cursors      exporter name -> time of the last batch it delivered (text)
 *   stats        process name -> its self-metrics, Prometheus text format
 *   labels       "<entity key> TTTTTTTTTTTTT" -> the entity's label set as of
 *                that version time: msgpack [label_k, label_v, ...]
 *
 * Keys start with the batch time in fixed-width decimal, so key order is
 * time order: a batch is written with MDB_APPEND in one pass and the ring
 * is trimmed by deleting from the front.  An entity value is
 *
 *   [create_ms, start_ms, scrape_ms, labels_version,
 *    [name_id, kind, value, labels_or_nil, ...]]
 *
 * with name ids from `names` (stable for the life of the store) and the
 * entity's labels in `labels` under its key and labels_version (0: none).
 * A label set is written once, when it first appears or changes, not in
 * every batch; versions no stored batch refers to are deleted as the rings
 * move on.  Readers get the labels through store_entity_get/scan.
 *
 * Retention: after writing batch T, the short ring drops batches older than
 * T - short_retention, except those an exporter has not yet delivered,
 * which stay until T - export_backlog (then they are dropped and counted).
 * The long ring drops batches older than T - long_retention.  When the map
 * is full, the oldest batches are dropped until the new one fits.
 *
 * Threads: a struct store may be used by one thread at a time; open one per
 * thread or process.  Never open it before fork() and use it after: LMDB
 * environments do not survive fork.
 */
#ifndef HC_STORE_H
#define HC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

struct store;
struct store_txn;

struct store_opts {
	const char *path;             /* directory, created if missing (writer) */
	size_t      map_size;         /* bytes; 0 = 1 GiB */
	int         readonly;         /* API server and exporters' batch reads */
	int64_t     short_retention_ms;   /* 0 = 140 s */
	int64_t     long_retention_ms;    /* 0 = 15 min */
	int64_t     export_backlog_ms;    /* 0 = 15 min */
	const char *const *long_metrics;  /* NULL-terminated; NULL = default set */
	int         owner;            /* the processor, the one data writer: it
					 sets the format and resets a store of
					 an older format (whose batches it
					 cannot read) */
};

/* What short.index / long.index hold about one batch. */
struct store_batch_info {
	int64_t  ts_ms;
	uint32_t nsets;
	uint32_t nvals;
	uint32_t nodes_ok;
	uint32_t nodes_failed;
	int64_t  written_ms;         /* wall time the processor stored it */
};

/* What one store_put_batch() did. */
struct store_put_stats {
	uint32_t entities;
	uint32_t dropped_short;      /* batches trimmed from the short ring */
	uint32_t dropped_long;
	uint32_t dropped_unexported; /* trimmed although an exporter needed them */
	uint32_t dropped_full;       /* trimmed to make room (MDB_MAP_FULL) */
};

/*
 * Opens (creating when not read-only) the store.  0, or a negative code
 * (HC_ERR_STORE with the LMDB error logged, -errno).  *out is owned by the
 * caller and released with store_close().
 */
int  store_open(const struct store_opts *opts, struct store **out);
void store_close(struct store *s);

/* ---- writer (processor) ------------------------------------------------ */

/*
 * Writes batch b (grouping it) into both rings in one transaction and trims
 * them.  A batch whose time is not newer than the newest stored is refused
 * (-EEXIST).  0 or a negative code.  stats may be NULL.
 */
int store_put_batch(struct store *s, struct hc_batch *b,
		    struct store_put_stats *stats);

/*
 * Bytes held by live data, the file's high-water mark and the map size.
 * 0 or a negative code.
 */
int store_usage(struct store *s, uint64_t *live, uint64_t *file, uint64_t *map);

/* Releases reader slots of dead processes (mdb_reader_check). */
int store_reader_check(struct store *s, int *dead);

/* ---- exporter cursors ---------------------------------------------------- */

/* 0 and *ts_ms, or HC_ERR_NOTFOUND for an exporter never seen. */
int store_cursor_get(struct store *s, const char *name, int64_t *ts_ms);
/* Records that exporter `name` delivered every batch up to ts_ms. */
int store_cursor_set(struct store *s, const char *name, int64_t ts_ms);
/* Forgets an exporter (it then holds no batch back). */
int store_cursor_del(struct store *s, const char *name);
/*
 * Forgets every exporter not named in keep[0..n): a sink removed from the
 * configuration must not hold batches back.  *removed counts them.
 */
int store_cursor_prune(struct store *s, const char *const *keep, int n,
		       int *removed);

/* ---- self-metrics --------------------------------------------------------- */

/*
 * Publishes a process's self-metrics: `text` is a fragment of Prometheus
 * text exposition (HELP/TYPE lines and samples) that replaces the previous
 * one stored under `name` ("scraper", "processor", "exporter-influxdb-0").
 * The API server's /metrics concatenates every fragment.  0 or a code.
 */
int store_stats_put(struct store *s, const char *name, const char *text,
		    size_t len);

/* Calls fn for every stored fragment, in name order.  0 or fn's non-zero. */
typedef int (*store_stats_fn)(void *ctx, const char *name, size_t name_len,
			      const char *text, size_t len);
int store_stats_scan(struct store_txn *t, store_stats_fn fn, void *ctx);

/* ---- readers ----------------------------------------------------------- */

/*
 * Begins a read transaction: a consistent snapshot until store_read_end().
 * The store keeps one reusable transaction, renewed each time (no
 * allocation).  Everything a read function returns through pointers lives
 * in the memory map and is valid until store_read_end().  Copy what you
 * keep longer.  0 or a negative code.
 */
int  store_read_begin(struct store *s, struct store_txn **txn);
void store_read_end(struct store_txn *txn);

enum store_ring { STORE_SHORT = 0, STORE_LONG = 1 };

/* The newest batch of a ring: 0, or HC_ERR_NOTFOUND when the ring is empty. */
int store_latest(struct store_txn *t, enum store_ring ring,
		 struct store_batch_info *info);

/*
 * The times of the oldest and the newest batch of a ring, from the index
 * keys alone (no record decoded): 0, or HC_ERR_NOTFOUND when the ring is
 * empty.  Batches are only appended after the newest and dropped from the
 * oldest, so the two times name exactly the batches a ring holds: what a
 * reader that caches answers compares (the API server).
 */
int store_ring_bounds(struct store_txn *t, enum store_ring ring,
		      int64_t *first_ms, int64_t *last_ms);

/*
 * The oldest batch of the ring newer than after_ms (after_ms = INT64_MIN for
 * the oldest of all): 0, or HC_ERR_NOTFOUND.  Exporters walk the ring so.
 */
int store_next_batch(struct store_txn *t, enum store_ring ring,
		     int64_t after_ms, struct store_batch_info *info);

/* A decoded view of one stored entity value. */
struct store_entity {
	const char    *key;          /* entity key (not NUL-terminated) */
	uint32_t       key_len;
	int64_t        ts_ms;        /* batch time */
	int64_t        create_ms, start_ms, scrape_ms;
	const uint8_t *labels;       /* msgpack [k, v, ...], nlabels pairs */
	uint32_t       nlabels;
	int64_t        labels_version; /* key in "labels"; 0: the entity has none */
	const uint8_t *vals;         /* msgpack quads (id, kind, value, labels) */
	uint32_t       nvals;
	const uint8_t *end;
};

/* Entity `key` in batch ts_ms of a ring: 0, HC_ERR_NOTFOUND, HC_ERR_PARSE. */
int store_entity_get(struct store_txn *t, enum store_ring ring, int64_t ts_ms,
		     const char *key, size_t key_len, struct store_entity *e);

/*
 * Calls fn for each entity of batch ts_ms whose key starts with prefix
 * (NULL or "" = all), in key order, until fn returns non-zero (which is
 * then returned).  0 when all were visited.  flags: STORE_SCAN_NO_LABELS
 * leaves e->labels NULL, saving one "labels" lookup per entity for
 * callers that read only keys or values (a list of names, a pod's
 * containers).
 */
#define STORE_SCAN_NO_LABELS 0x1u
typedef int (*store_entity_fn)(void *ctx, const struct store_entity *e);
int store_entity_scan(struct store_txn *t, enum store_ring ring, int64_t ts_ms,
		      const char *prefix, unsigned flags, store_entity_fn fn,
		      void *ctx);

/*
 * Fills e->labels/nlabels of an entity read with STORE_SCAN_NO_LABELS (one
 * "labels" lookup), for a caller that needs the labels of only some of the
 * entities it scans.  0, or HC_ERR_NOTFOUND (e->labels stays NULL).
 */
int store_entity_labels(struct store_txn *t, struct store_entity *e);

/* One value of an entity, as iterated by store_value_next(). */
struct store_value {
	uint32_t       name_id;
	uint8_t        kind;         /* enum hc_kind */
	uint8_t        type;         /* enum hc_vtype */
	union {
		int64_t i;
		double  f;
	} v;
	const uint8_t *labels;       /* msgpack [k, v, ...] or NULL */
	uint32_t       nlabels;
};

/*
 * Iterates an entity's values: set *pos = 0 first; returns 1 with *out
 * filled, 0 at the end, HC_ERR_PARSE on a corrupt value.
 */
int store_value_next(const struct store_entity *e, size_t *pos,
		     struct store_value *out);

/* Label `key` of an entity (or of a value: pass its labels/nlabels). */
int store_label_get(const uint8_t *labels, uint32_t nlabels, const char *key,
		    const char **val, uint32_t *val_len);

/*
 * Metric name <-> store id.  0, or HC_ERR_NOTFOUND.  store_name_by_id()
 * answers from a table kept in the struct store (valid until
 * store_close()), reading "names" again only for an id it does not know.
 */
int store_name_id(struct store_txn *t, const char *name, size_t len,
		  uint32_t *id);
int store_name_by_id(struct store_txn *t, uint32_t id, const char **name,
		     uint32_t *len);

/*
 * A metric's points for an entity, oldest first, between start_ms and end_ms
 * inclusive (0 = unbounded).  Reads the long ring for times the short ring
 * no longer holds.  For a labeled metric, every label of `match` must equal
 * the value's; the first matching value of each batch counts.  Writes at
 * most max points to out; *n = number written.
 */
struct store_point {
	int64_t ts_ms;
	uint8_t type;                /* enum hc_vtype */
	union {
		int64_t i;
		double  f;
	} v;
};
int store_series(struct store_txn *t, const char *key, size_t key_len,
		 const char *metric, const struct hc_label *match,
		 uint32_t nmatch, int64_t start_ms, int64_t end_ms,
		 struct store_point *out, uint32_t max, uint32_t *n);

/*
 * Loads batch ts_ms of a ring into b (reset first): what exporters send.
 * 0, HC_ERR_NOTFOUND, HC_ERR_PARSE or -ENOMEM.
 */
int store_load_batch(struct store_txn *t, enum store_ring ring, int64_t ts_ms,
		     struct hc_batch *b);

#endif
