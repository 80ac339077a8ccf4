/*
 * store.c - the LMDB store (contract and layout in store.h, docs/STORE.md).
 *
 * Writing a batch is one write transaction: the entity values go into
 * "<ring>.data" in key order with MDB_APPEND (the keys of a batch all sort
 * after every key already there, because they start with a newer time), the
 * batch's line goes into "<ring>.index", then both rings are trimmed from
 * the front.  Values are packed with one reused msgpack buffer: nothing is
 * allocated per point or per entity.
 *
 * Reading is lock-free: one read transaction per request, reused through
 * mdb_txn_reset/mdb_txn_renew, and results point into the memory map.
 * Values are decoded in place with hc_mp (common/mpread.h).
 *
 * Metric names are stored once, in "names", with a small integer id that
 * the entity values use; the writer caches the mapping in memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "hc.h"
#include "log.h"
#include "mpread.h"
#include "store.h"

#define TS_LEN 13                     /* "%013lld" milliseconds */
#define KEY_MAX 512                   /* LMDB's default max key size is 511 */

#define STORE_FORMAT "heapster-c store v2"
#define LABELS_GC_MS 60000            /* batch time between label collections */

enum {
	DB_META, DB_NAMES, DB_SHORT_INDEX, DB_SHORT_DATA, DB_LONG_INDEX,
	DB_LONG_DATA, DB_CURSORS, DB_STATS, DB_LABELS, DB_COUNT
};

static const char *db_names[DB_COUNT] = {
	"meta", "names", "short.index", "short.data", "long.index",
	"long.data", "cursors", "stats", "labels",
};

/*
 * The writer's memory of one entity's labels: the hash of the label set it
 * wrote last, that version's time (its key in "labels" is "<entity>
 * <version>"), and the newest batch that had the entity.
 */
struct lab_rec {
	const char *key;              /* in lab_arena */
	uint32_t    key_len;
	uint32_t    dead;             /* removed from lab_index */
	uint64_t    hash;
	int64_t     version;
	int64_t     last_seen;
};

static const char *default_long_metrics[] = {
	"cpu/usage_rate", "memory/usage", "memory/working_set", NULL,
};

struct store_txn {
	struct store *s;
	MDB_txn      *txn;
};

struct store {
	MDB_env          *env;
	MDB_dbi           dbi[DB_COUNT];
	int               dbis_open;
	int               readonly;
	int               wrote_data;     /* store_put_batch() committed: sync on close */
	int64_t           short_ret, long_ret, backlog;
	const char *const *long_metrics;
	/* writer state */
	struct hc_map     name_ids;       /* name -> store id, keys owned by name_arena */
	struct hc_arena   name_arena;
	uint32_t          next_name_id;
	msgpack_sbuffer   sbuf;
	uint32_t         *order;          /* set indexes sorted by key */
	uint32_t          order_cap;
	int32_t          *idmap;          /* batch name id -> store id, -1 unknown */
	uint8_t          *is_long;        /* batch name id -> kept in the long ring */
	uint32_t          idmap_cap;
	size_t            last_batch_pages;  /* pages the previous batch added */
	int               owner;          /* the data writer: upgrades the format */
	/* labels: entity -> what was written last (see labels_version()) */
	struct hc_map     lab_index;      /* entity key -> index in labs */
	struct lab_rec   *labs;
	uint32_t          nlabs, labs_cap;
	struct hc_arena   lab_arena;
	size_t            lab_live, lab_dead;   /* key bytes of live, dead recs */
	int64_t           lab_epoch;      /* versions not in labs may be used by batches up to this time */
	int64_t           lab_gc_ts;      /* batch time of the last collection */
	msgpack_sbuffer   lbuf;           /* a label set being packed */
	int64_t          *setver;         /* per set of the batch: its labels version */
	uint32_t          setver_cap;
	/* reader state: id -> name, filled from "names" (ids never change) */
	struct hc_arena   byid_arena;
	const char      **byid;
	uint32_t         *byid_len;
	uint32_t          byid_n;
	/* reader state */
	struct store_txn  rt;
	int               rt_live;        /* rt.txn exists (reset or active) */
};

static int live_pages(struct store *s, MDB_txn *txn, size_t *pages);

static int lmdb_err(const char *what, int rc)
{
	if (rc == MDB_NOTFOUND)
		return HC_ERR_NOTFOUND;
	hc_error("store: %s: %s", what, mdb_strerror(rc));
	if (rc == ENOMEM || rc == ENOSPC || rc == EACCES || rc == ENOENT)
		return -rc;
	return HC_ERR_STORE;
}

/*
 * The 13-digit key of a batch time, as "%013" PRId64 would print it for
 * the times a store holds (0 to 10^13 - 1 ms, until the year 2286), by
 * hand: readers build one per lookup, and snprintf cost more than the
 * lookup itself.  Times out of that range keep the snprintf form.
 */
static void ts_key(char *buf, int64_t ts)
{
	char tmp[TS_LEN + 8];
	uint64_t v = (uint64_t)ts;

	if (ts < 0 || ts > INT64_C(9999999999999)) {
		snprintf(tmp, sizeof(tmp), "%013" PRId64, ts);
		memcpy(buf, tmp, TS_LEN);
		return;
	}
	for (int i = TS_LEN - 1; i >= 0; i--) {
		buf[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static int parse_ts(const char *p, size_t len, int64_t *ts)
{
	int64_t v = 0;

	if (len < TS_LEN)
		return HC_ERR_PARSE;
	for (int i = 0; i < TS_LEN; i++) {
		if (p[i] < '0' || p[i] > '9')
			return HC_ERR_PARSE;
		v = v * 10 + (p[i] - '0');
	}
	*ts = v;
	return 0;
}

/* Opens every named database in a committed transaction (see PLATFORM.md). */
static int open_dbis(struct store *s)
{
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, s->readonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0)
		return lmdb_err("txn_begin", rc);
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, db_names[i], s->readonly ? 0 : MDB_CREATE,
				  &s->dbi[i]);
		if (rc != 0) {
			mdb_txn_abort(txn);
			return rc == MDB_NOTFOUND ? HC_ERR_NOTFOUND
						  : lmdb_err("dbi_open", rc);
		}
	}
	if (s->owner) {
		MDB_val k = { 6, "format" }, v;

		rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
		if (rc == 0 && (v.mv_size != strlen(STORE_FORMAT) ||
				memcmp(v.mv_data, STORE_FORMAT, v.mv_size) != 0)) {
			/* an older layout: its batches cannot be read, start afresh */
			hc_warn("store: format \"%.*s\" is not \"%s\": stored batches "
				"dropped", (int)v.mv_size, (const char *)v.mv_data,
				STORE_FORMAT);
			for (int i = DB_SHORT_INDEX; i <= DB_LONG_DATA && rc == 0; i++)
				rc = mdb_drop(txn, s->dbi[i], 0);
			if (rc == 0)
				rc = mdb_drop(txn, s->dbi[DB_LABELS], 0);
		} else if (rc == MDB_NOTFOUND) {
			rc = 0;
		}
		v.mv_data = STORE_FORMAT;
		v.mv_size = strlen(STORE_FORMAT);
		if (rc == 0)
			rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
		if (rc != 0) {
			mdb_txn_abort(txn);
			return lmdb_err("put meta", rc);
		}
	}
	rc = mdb_txn_commit(txn);
	if (rc != 0)
		return lmdb_err("txn_commit", rc);
	s->dbis_open = 1;
	return 0;
}

/* Loads the names table into the writer's cache. */
static int load_names(struct store *s)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return lmdb_err("txn_begin", rc);
	rc = mdb_cursor_open(txn, s->dbi[DB_NAMES], &cur);
	if (rc != 0)
		goto abort_txn;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char num[16];
		char *name = hc_arena_strndup(&s->name_arena, k.mv_data, k.mv_size);
		uint32_t id;

		if (name == NULL || v.mv_size >= sizeof(num)) {
			rc = ENOMEM;
			break;
		}
		memcpy(num, v.mv_data, v.mv_size);
		num[v.mv_size] = '\0';
		id = (uint32_t)strtoul(num, NULL, 10);
		if (hc_map_put(&s->name_ids, name, k.mv_size, id) != 0) {
			rc = ENOMEM;
			break;
		}
		if (id >= s->next_name_id)
			s->next_name_id = id + 1;
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
abort_txn:
	mdb_txn_abort(txn);
	return rc == 0 ? 0 : lmdb_err("load names", rc);
}

/* The newest batch time of either ring, 0 for an empty store. */
static int64_t newest_batch(struct store *s)
{
	int64_t newest = 0;
	MDB_txn *txn;

	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
		return INT64_MAX;   /* unknown: keep every label version */
	for (int i = DB_SHORT_INDEX; i <= DB_LONG_INDEX; i += 2) {
		MDB_cursor *cur;
		MDB_val k, v;
		int64_t ts;

		if (mdb_cursor_open(txn, s->dbi[i], &cur) != 0)
			continue;
		if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 &&
		    parse_ts(k.mv_data, k.mv_size, &ts) == 0 && ts > newest)
			newest = ts;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return newest;
}

int store_open(const struct store_opts *o, struct store **out)
{
	struct store *s;
	unsigned flags;
	int rc, dead;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->readonly = o->readonly;
	s->owner = o->owner && !o->readonly;
	s->short_ret = o->short_retention_ms ? o->short_retention_ms : 140000;
	s->long_ret = o->long_retention_ms ? o->long_retention_ms : 15 * 60000;
	s->backlog = o->export_backlog_ms ? o->export_backlog_ms : 15 * 60000;
	s->long_metrics = o->long_metrics ? o->long_metrics : default_long_metrics;
	s->rt.s = s;
	hc_arena_init(&s->name_arena, 4096);
	hc_arena_init(&s->byid_arena, 4096);
	hc_arena_init(&s->lab_arena, 1 << 20);
	msgpack_sbuffer_init(&s->sbuf);
	msgpack_sbuffer_init(&s->lbuf);
	rc = hc_map_init(&s->name_ids, 128);
	if (rc != 0)
		goto free_store;
	if (!s->readonly && mkdir(o->path, 0755) != 0 && errno != EEXIST) {
		rc = -errno;
		hc_error("store: mkdir %s: %s", o->path, strerror(errno));
		goto free_map;
	}
	rc = mdb_env_create(&s->env);
	if (rc != 0) {
		rc = lmdb_err("env_create", rc);
		goto free_map;
	}
	mdb_env_set_maxdbs(s->env, DB_COUNT + 4);
	mdb_env_set_maxreaders(s->env, 512);
	/*
	 * map_size 0 keeps an existing store's size (an exporter writing its
	 * cursor must not shrink the processor's map); a new store gets 1 GiB.
	 */
	if (o->map_size) {
		mdb_env_set_mapsize(s->env, o->map_size);
	} else if (!s->readonly) {
		char data[PATH_MAX];
		struct stat sb;

		snprintf(data, sizeof(data), "%s/data.mdb", o->path);
		if (stat(data, &sb) != 0)
			mdb_env_set_mapsize(s->env, (size_t)1 << 30);
	}
	/*
	 * Readers: MDB_NOTLS so one reusable txn may move between threads.
	 * Writers: MDB_NOSYNC; a process crash loses nothing committed (the
	 * pages are in the kernel's cache), only a kernel crash can lose the
	 * last batches, which the next resolution replaces anyway.
	 */
	flags = MDB_NOTLS | (s->readonly ? MDB_RDONLY : MDB_NOSYNC);
	rc = mdb_env_open(s->env, o->path, flags, 0644);
	if (rc != 0) {
		hc_error("store: open %s: %s", o->path, mdb_strerror(rc));
		rc = rc > 0 ? -rc : HC_ERR_STORE;
		goto close_env;
	}
	if (!s->readonly) {
		mdb_reader_check(s->env, &dead);
		if (dead > 0)
			hc_warn("store: released %d reader slots of dead processes", dead);
		rc = open_dbis(s);
		if (rc != 0)
			goto close_env;
		rc = load_names(s);
		if (rc != 0)
			goto close_env;
		if (s->owner)
			s->lab_epoch = newest_batch(s);
	} else {
		/* a reader may start before the writer created anything */
		rc = open_dbis(s);
		if (rc != 0 && rc != HC_ERR_NOTFOUND)
			goto close_env;
	}
	*out = s;
	return 0;

close_env:
	mdb_env_close(s->env);
free_map:
	hc_map_free(&s->name_ids);
free_store:
	msgpack_sbuffer_destroy(&s->sbuf);
	msgpack_sbuffer_destroy(&s->lbuf);
	hc_arena_free(&s->name_arena);
	hc_arena_free(&s->lab_arena);
	free(s);
	return rc;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->rt_live)
		mdb_txn_abort(s->rt.txn);
	if (s->wrote_data)
		mdb_env_sync(s->env, 1);   /* cursors sync as they are written */
	mdb_env_close(s->env);
	hc_map_free(&s->name_ids);
	hc_arena_free(&s->byid_arena);
	free(s->byid);
	free(s->byid_len);
	hc_arena_free(&s->name_arena);
	msgpack_sbuffer_destroy(&s->sbuf);
	msgpack_sbuffer_destroy(&s->lbuf);
	hc_map_free(&s->lab_index);
	hc_arena_free(&s->lab_arena);
	free(s->labs);
	free(s->setver);
	free(s->order);
	free(s->idmap);
	free(s->is_long);
	free(s);
}

int store_usage(struct store *s, uint64_t *live, uint64_t *file, uint64_t *map)
{
	struct store_txn *t;
	MDB_envinfo info;
	MDB_stat est;
	size_t pages = 0;
	int rc;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &est);
	*file = (uint64_t)(info.me_last_pgno + 1) * est.ms_psize;
	*map = info.me_mapsize;
	rc = store_read_begin(s, &t);
	if (rc != 0)
		return rc;
	rc = live_pages(s, t->txn, &pages);
	store_read_end(t);
	*live = (uint64_t)pages * est.ms_psize;
	return rc == 0 ? 0 : lmdb_err("usage", rc);
}

int store_reader_check(struct store *s, int *dead)
{
	int rc = mdb_reader_check(s->env, dead);

	return rc == 0 ? 0 : lmdb_err("reader_check", rc);
}

/* ---- writer ------------------------------------------------------------ */

static const struct hc_batch *sort_batch;

static int cmp_sets(const void *a, const void *b)
{
	return strcmp(sort_batch->sets[*(const uint32_t *)a].key,
		      sort_batch->sets[*(const uint32_t *)b].key);
}

/* Store id of batch name `n`, adding it to "names" inside txn if new. */
static int name_store_id(struct store *s, MDB_txn *txn, const struct hc_batch *b,
			 uint32_t n, uint32_t *id)
{
	const char *name = b->names[n];
	size_t len = strlen(name);
	char num[16];
	MDB_val k, v;
	char *copy;
	int rc;

	if (s->idmap[n] >= 0) {
		*id = (uint32_t)s->idmap[n];
		return 0;
	}
	if (hc_map_get(&s->name_ids, name, len, id) != 0) {
		copy = hc_arena_strndup(&s->name_arena, name, len);
		if (copy == NULL)
			return -ENOMEM;
		*id = s->next_name_id;
		k.mv_data = copy;
		k.mv_size = len;
		v.mv_size = (size_t)snprintf(num, sizeof(num), "%u", *id);
		v.mv_data = num;
		rc = mdb_put(txn, s->dbi[DB_NAMES], &k, &v, 0);
		if (rc != 0)
			return rc;   /* raw LMDB code: the caller handles MAP_FULL */
		rc = hc_map_put(&s->name_ids, copy, len, *id);
		if (rc != 0)
			return ENOMEM;
		s->next_name_id++;
	}
	s->idmap[n] = (int32_t)*id;
	return 0;
}

static void pack_str(msgpack_packer *pk, const char *str)
{
	size_t n = strlen(str);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, str, n);
}

/*
 * Packs set `si` into s->sbuf; with long_only, only the long-ring metrics,
 * and nothing (an empty buffer) when it has none.  A short-ring entity with
 * no values is still packed: its labels and times are recorded.  Returns
 * the number of values packed.
 */
static uint32_t pack_entity(struct store *s, const struct hc_batch *b,
			    uint32_t si, int long_only)
{
	const struct hc_set *set = &b->sets[si];
	msgpack_packer pk;
	uint32_t n = 0;

	for (uint32_t i = 0; i < set->vals_n; i++)
		if (!long_only || s->is_long[b->vals[set->vals_off + i].name])
			n++;
	msgpack_sbuffer_clear(&s->sbuf);
	if (n == 0 && long_only)
		return 0;
	msgpack_packer_init(&pk, &s->sbuf, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 5);
	msgpack_pack_int64(&pk, set->create_ms);
	msgpack_pack_int64(&pk, set->start_ms);
	msgpack_pack_int64(&pk, set->scrape_ms);
	msgpack_pack_int64(&pk, s->setver[si]);
	msgpack_pack_array(&pk, n * 4);
	for (uint32_t i = 0; i < set->vals_n; i++) {
		const struct hc_value *v = &b->vals[set->vals_off + i];

		if (long_only && !s->is_long[v->name])
			continue;
		msgpack_pack_uint32(&pk, (uint32_t)s->idmap[v->name]);
		msgpack_pack_uint8(&pk, v->kind);
		if (v->type == HC_FLOAT)
			msgpack_pack_double(&pk, v->v.f);
		else
			msgpack_pack_int64(&pk, v->v.i);
		if (v->labels_n == 0) {
			msgpack_pack_nil(&pk);
			continue;
		}
		msgpack_pack_array(&pk, v->labels_n * 2);
		for (uint32_t l = 0; l < v->labels_n; l++) {
			pack_str(&pk, b->labels[v->labels_off + l].key);
			pack_str(&pk, b->labels[v->labels_off + l].value);
		}
	}
	return n;
}

/* Deletes every data key of batch ts and its index entry. */
static int drop_batch(struct store *s, MDB_txn *txn, int ring, int64_t ts)
{
	MDB_dbi data = s->dbi[ring == STORE_SHORT ? DB_SHORT_DATA : DB_LONG_DATA];
	MDB_dbi index = s->dbi[ring == STORE_SHORT ? DB_SHORT_INDEX : DB_LONG_INDEX];
	char prefix[TS_LEN + 1];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	ts_key(prefix, ts);
	prefix[TS_LEN] = ' ';
	rc = mdb_cursor_open(txn, data, &cur);
	if (rc != 0)
		return rc;
	k.mv_data = prefix;
	k.mv_size = TS_LEN;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size > TS_LEN && memcmp(k.mv_data, prefix, TS_LEN + 1) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT)) {
		rc = mdb_cursor_del(cur, 0);
		if (rc != 0)
			break;
	}
	mdb_cursor_close(cur);
	/* GET_CURRENT after deleting the last key of the database is EINVAL */
	if (rc != 0 && rc != MDB_NOTFOUND && rc != EINVAL)
		return rc;
	k.mv_data = prefix;
	k.mv_size = TS_LEN;
	rc = mdb_del(txn, index, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Oldest batch time of a ring inside txn: 0, or MDB_NOTFOUND. */
static int oldest(struct store *s, MDB_txn *txn, int ring, int64_t *ts)
{
	MDB_dbi index = s->dbi[ring == STORE_SHORT ? DB_SHORT_INDEX : DB_LONG_INDEX];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(txn, index, &cur);
	if (rc != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	if (rc == 0 && parse_ts(k.mv_data, k.mv_size, ts) != 0)
		rc = MDB_CORRUPTED;
	mdb_cursor_close(cur);
	return rc;
}

/* The lowest exporter cursor, or INT64_MAX when no exporter is registered. */
static int min_cursor(struct store *s, MDB_txn *txn, int64_t *min)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*min = INT64_MAX;
	rc = mdb_cursor_open(txn, s->dbi[DB_CURSORS], &cur);
	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int64_t ts;

		if (parse_ts(v.mv_data, v.mv_size, &ts) == 0 && ts < *min)
			*min = ts;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Trims both rings for a newest batch at `now` (REFERENCE: store.h). */
static int trim(struct store *s, MDB_txn *txn, int64_t now,
		struct store_put_stats *st)
{
	int64_t ts, mc;
	int rc;

	rc = min_cursor(s, txn, &mc);
	if (rc != 0)
		return rc;
	while ((rc = oldest(s, txn, STORE_SHORT, &ts)) == 0 &&
	       ts < now - s->short_ret) {
		int needed = ts > mc;

		if (needed && ts >= now - s->backlog)
			break;   /* an exporter still needs it and the backlog allows */
		rc = drop_batch(s, txn, STORE_SHORT, ts);
		if (rc != 0)
			return rc;
		st->dropped_short++;
		if (needed) {
			st->dropped_unexported++;
			hc_warn("store: dropped batch %" PRId64 " before every exporter "
				"delivered it (export backlog %" PRId64 " s exceeded)",
				ts, s->backlog / 1000);
		}
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	while ((rc = oldest(s, txn, STORE_LONG, &ts)) == 0 && ts < now - s->long_ret) {
		rc = drop_batch(s, txn, STORE_LONG, ts);
		if (rc != 0)
			return rc;
		st->dropped_long++;
	}
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int put_index(struct store *s, MDB_txn *txn, int ring,
		     const struct hc_batch *b, uint32_t nsets, uint32_t nvals)
{
	char key[TS_LEN], val[160];
	MDB_val k = { TS_LEN, key }, v;

	ts_key(key, b->ts_ms);
	v.mv_size = (size_t)snprintf(val, sizeof(val),
		"sets=%u values=%u nodes_ok=%u nodes_failed=%u written=%" PRId64,
		nsets, nvals, b->nodes_ok, b->nodes_failed, hc_now_ms());
	v.mv_data = val;
	return mdb_put(txn, s->dbi[ring == STORE_SHORT ? DB_SHORT_INDEX : DB_LONG_INDEX],
		       &k, &v, MDB_APPEND);
}

/* Pages holding live data (every named database plus the free list). */
static int live_pages(struct store *s, MDB_txn *txn, size_t *pages)
{
	MDB_stat st;
	int rc;

	*pages = 0;
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_stat(txn, s->dbi[i], &st);
		if (rc != 0)
			return rc;
		*pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
	}
	rc = mdb_stat(txn, 0, &st);   /* FREE_DBI, the free list itself */
	if (rc != 0)
		return rc;
	*pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
	return 0;
}

/*
 * Keeps room for the next batch: LMDB needs free pages even to delete
 * (copy-on-write), so a map filled to the brim cannot be trimmed.  Before
 * writing, the oldest batches go until the live data plus the size of the
 * previous batch fits in 80% of the map.
 */
static int ensure_room(struct store *s, MDB_txn *txn, struct store_put_stats *st)
{
	MDB_envinfo info;
	MDB_stat est;
	size_t live, limit;
	int rc;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &est);
	limit = info.me_mapsize / est.ms_psize / 10 * 8;
	for (;;) {
		int64_t ts_short, ts_long;
		int has_short, has_long, ring;

		rc = live_pages(s, txn, &live);
		if (rc != 0)
			return rc;
		if (live + s->last_batch_pages <= limit)
			return 0;
		has_short = oldest(s, txn, STORE_SHORT, &ts_short) == 0;
		has_long = oldest(s, txn, STORE_LONG, &ts_long) == 0;
		if (!has_short && !has_long)
			return 0;   /* nothing left to drop: let the write try */
		ring = !has_short || (has_long && ts_long < ts_short) ? STORE_LONG : STORE_SHORT;
		rc = drop_batch(s, txn, ring, ring == STORE_SHORT ? ts_short : ts_long);
		if (rc != 0)
			return rc;
		st->dropped_full++;
		if (ring == STORE_SHORT)
			hc_warn("store: %zu of %zu pages used: dropped batch %" PRId64
				" early to make room (raise --store_size)", live, limit,
				ts_short);
	}
}

/* ---- labels ------------------------------------------------------------ */

/*
 * Labels are stored once per entity and version, not in every batch: an
 * entity value carries the time of the label set it had ("version"), and
 * "labels" maps "<entity> <version>" to the set.  A new version is written
 * when an entity's labels change (or when the writer does not remember
 * them: first sight, a restart, a failed transaction), with the batch's
 * time.  labels_gc() deletes the versions no stored batch can refer to.
 * This halves what a batch writes: pod labels, image names and ids are
 * most of an entity's bytes and change rarely.
 */

/* A hash of set si's labels, keys and values, in order. */
static uint64_t labels_hash(const struct hc_batch *b, uint32_t si)
{
	const struct hc_set *set = &b->sets[si];
	uint64_t h = set->labels_n;

	for (uint32_t i = 0; i < set->labels_n; i++) {
		const struct hc_label *l = &b->labels[set->labels_off + i];

		h = (h ^ hc_hash(l->key, strlen(l->key))) * 0x9E3779B97F4A7C15ULL;
		h = (h ^ hc_hash(l->value, strlen(l->value))) * 0xC2B2AE3D27D4EB4FULL;
	}
	return h;
}

/* Forgets every label version (they are all written again as needed). */
static void labels_forget(struct store *s, int64_t used_until)
{
	hc_map_free(&s->lab_index);
	memset(&s->lab_index, 0, sizeof(s->lab_index));
	hc_arena_reset(&s->lab_arena);
	s->nlabs = 0;
	s->lab_live = s->lab_dead = 0;
	if (used_until > s->lab_epoch)
		s->lab_epoch = used_until;
}

/* Drops dead records when they hold more key bytes than the live ones. */
static int labels_compact(struct store *s)
{
	struct hc_arena old_arena = s->lab_arena;
	uint32_t n = 0;
	int rc = 0;

	if (s->lab_dead < (1 << 20) || s->lab_dead < s->lab_live)
		return 0;
	hc_arena_init(&s->lab_arena, 1 << 20);
	hc_map_clear(&s->lab_index);
	for (uint32_t i = 0; i < s->nlabs && rc == 0; i++) {
		struct lab_rec r = s->labs[i];

		if (r.dead)
			continue;
		r.key = hc_arena_strndup(&s->lab_arena, r.key, r.key_len);
		if (r.key == NULL) {
			rc = -ENOMEM;
			break;
		}
		s->labs[n] = r;
		rc = hc_map_put(&s->lab_index, r.key, r.key_len, n);
		n++;
	}
	hc_arena_free(&old_arena);
	s->nlabs = n;
	s->lab_dead = 0;
	if (rc != 0)
		labels_forget(s, INT64_MAX);
	return rc;
}

/*
 * The labels version of set si in batch b, writing a new version into
 * "labels" inside txn when the set's labels differ from the last written.
 * 0 for a set without labels.  Raw LMDB codes or -ENOMEM.
 */
static int labels_version(struct store *s, MDB_txn *txn, const struct hc_batch *b,
			  uint32_t si, int64_t *version)
{
	const struct hc_set *set = &b->sets[si];
	size_t klen = set->key_len;
	char key[KEY_MAX];
	struct lab_rec *r;
	msgpack_packer pk;
	uint32_t ri;
	uint64_t h;
	MDB_val k, v;
	int rc;

	*version = 0;
	if (set->labels_n == 0 || klen + 1 + TS_LEN > KEY_MAX - 1)
		return 0;
	h = labels_hash(b, si);
	if (hc_map_get(&s->lab_index, set->key, klen, &ri) == 0) {
		r = &s->labs[ri];
		r->last_seen = b->ts_ms;
		if (r->hash == h) {
			*version = r->version;
			return 0;
		}
	} else {
		if (s->nlabs == s->labs_cap) {
			uint32_t cap = s->labs_cap ? s->labs_cap * 2 : 1024;
			struct lab_rec *nl = realloc(s->labs, cap * sizeof(*nl));

			if (nl == NULL)
				return -ENOMEM;
			s->labs = nl;
			s->labs_cap = cap;
		}
		ri = s->nlabs;
		r = &s->labs[ri];
		r->key = hc_arena_strndup(&s->lab_arena, set->key, klen);
		if (r->key == NULL || hc_map_put(&s->lab_index, r->key, klen, ri) != 0)
			return -ENOMEM;
		r->key_len = (uint32_t)klen;
		r->dead = 0;
		r->last_seen = b->ts_ms;
		s->nlabs++;
		s->lab_live += klen;
	}
	msgpack_sbuffer_clear(&s->lbuf);
	msgpack_packer_init(&pk, &s->lbuf, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, set->labels_n * 2);
	for (uint32_t i = 0; i < set->labels_n; i++) {
		pack_str(&pk, b->labels[set->labels_off + i].key);
		pack_str(&pk, b->labels[set->labels_off + i].value);
	}
	memcpy(key, set->key, klen);
	key[klen] = ' ';
	ts_key(key + klen + 1, b->ts_ms);
	k.mv_data = key;
	k.mv_size = klen + 1 + TS_LEN;
	v.mv_data = s->lbuf.data;
	v.mv_size = s->lbuf.size;
	rc = mdb_put(txn, s->dbi[DB_LABELS], &k, &v, 0);
	if (rc != 0)
		return rc;
	r->hash = h;
	r->version = b->ts_ms;
	*version = b->ts_ms;
	return 0;
}

/*
 * Deletes the label versions no stored batch refers to: a version followed
 * by a newer one of the same entity at or before the oldest stored batch,
 * and an entity's newest version once the entity was last seen before the
 * oldest stored batch.  One pass over "labels"; run every LABELS_GC_MS.
 */
static int labels_gc(struct store *s, MDB_txn *txn)
{
	int64_t oldest_ts = INT64_MAX, ts;
	char prev[KEY_MAX];
	size_t prev_len = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, have_prev = 0;

	for (int ring = STORE_SHORT; ring <= STORE_LONG; ring++)
		if (oldest(s, txn, ring, &ts) == 0 && ts < oldest_ts)
			oldest_ts = ts;
	if (oldest_ts == INT64_MAX)
		return 0;
	rc = mdb_cursor_open(txn, s->dbi[DB_LABELS], &cur);
	if (rc != 0)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;) {
		const char *key = k.mv_data;
		size_t elen = k.mv_size > TS_LEN + 1 ? k.mv_size - TS_LEN - 1 : 0;
		int64_t version;
		int same, del = 0;

		if (elen == 0 || parse_ts(key + elen + 1, TS_LEN, &version) != 0) {
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			continue;
		}
		same = have_prev && prev_len == elen && memcmp(prev, key, elen) == 0;
		if (same && version <= oldest_ts) {
			/* the previous version was replaced before every stored batch */
			MDB_val pk = { prev_len + 1 + TS_LEN, prev };

			rc = mdb_del(txn, s->dbi[DB_LABELS], &pk, NULL);
			if (rc != 0 && rc != MDB_NOTFOUND)
				break;
			/* deleting moved nothing we hold: re-find our place */
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
			if (rc != 0)
				break;
			key = k.mv_data;
		}
		memcpy(prev, key, k.mv_size);
		prev_len = elen;
		have_prev = 1;
		/* is this the entity's newest version? */
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		if (rc == 0 && k.mv_size == prev_len + 1 + TS_LEN &&
		    memcmp(k.mv_data, prev, prev_len) == 0)
			continue;   /* no: decided when we reach the next one */
		{
			uint32_t ri;

			if (hc_map_get(&s->lab_index, prev, prev_len, &ri) == 0) {
				struct lab_rec *r = &s->labs[ri];

				del = r->last_seen < oldest_ts;
				if (del) {
					hc_map_del(&s->lab_index, r->key, r->key_len);
					r->dead = 1;
					s->lab_live -= r->key_len;
					s->lab_dead += r->key_len;
				}
			} else {
				del = s->lab_epoch < oldest_ts;
			}
		}
		if (del) {
			int at_end = rc == MDB_NOTFOUND;
			MDB_val pk = { prev_len + 1 + TS_LEN, prev };
			MDB_val nk = k;
			char next[KEY_MAX];

			if (!at_end && rc != 0)
				break;
			if (!at_end)
				memcpy(next, k.mv_data, k.mv_size);
			rc = mdb_del(txn, s->dbi[DB_LABELS], &pk, NULL);
			if (rc != 0 && rc != MDB_NOTFOUND)
				break;
			have_prev = 0;
			if (at_end) {
				rc = MDB_NOTFOUND;
				break;
			}
			nk.mv_data = next;
			rc = mdb_cursor_get(cur, &nk, &v, MDB_SET_KEY);
			k = nk;
		}
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	return labels_compact(s) == 0 ? 0 : ENOMEM;
}

/* Writes batch b into both rings inside txn.  Raw LMDB codes. */
static int write_batch(struct store *s, MDB_txn *txn, struct hc_batch *b,
		       struct store_put_stats *st)
{
	char key[KEY_MAX];
	uint32_t long_sets = 0, long_vals = 0;
	size_t before, after;
	MDB_val k, v;
	int rc;

	rc = ensure_room(s, txn, st);
	if (rc == 0)
		rc = live_pages(s, txn, &before);
	if (rc != 0)
		return rc;
	/* name ids */
	for (uint32_t n = 0; n < b->nnames; n++) {
		s->idmap[n] = -1;
		s->is_long[n] = 0;
		for (const char *const *m = s->long_metrics; *m; m++)
			if (strcmp(*m, b->names[n]) == 0)
				s->is_long[n] = 1;
	}
	for (uint32_t i = 0; i < b->nvals; i++) {
		uint32_t id;

		if (b->vals[i].set == HC_HOLE)
			continue;   /* a free slot of a batch with room (batch.h) */
		if (s->idmap[b->vals[i].name] < 0) {
			rc = name_store_id(s, txn, b, b->vals[i].name, &id);
			if (rc != 0)
				return rc;
		}
	}
	for (uint32_t i = 0; i < b->nsets; i++) {
		uint32_t si = s->order[i];

		rc = labels_version(s, txn, b, si, &s->setver[si]);
		if (rc != 0)
			return rc;
	}
	ts_key(key, b->ts_ms);
	key[TS_LEN] = ' ';
	for (int ring = STORE_SHORT; ring <= STORE_LONG; ring++) {
		MDB_dbi data = s->dbi[ring == STORE_SHORT ? DB_SHORT_DATA : DB_LONG_DATA];

		for (uint32_t i = 0; i < b->nsets; i++) {
			uint32_t si = s->order[i];
			size_t klen = b->sets[si].key_len;
			uint32_t nv;

			if (TS_LEN + 1 + klen > KEY_MAX - 1) {
				hc_warn("store: entity key too long, skipped: %.60s...",
					b->sets[si].key);
				continue;
			}
			nv = pack_entity(s, b, si, ring == STORE_LONG);
			if (ring == STORE_LONG) {
				if (nv == 0)
					continue;
				long_sets++;
				long_vals += nv;
			}
			memcpy(key + TS_LEN + 1, b->sets[si].key, klen);
			k.mv_data = key;
			k.mv_size = TS_LEN + 1 + klen;
			v.mv_data = s->sbuf.data;
			v.mv_size = s->sbuf.size;
			rc = mdb_put(txn, data, &k, &v, MDB_APPEND);
			if (rc != 0)
				return rc;
		}
	}
	rc = put_index(s, txn, STORE_SHORT, b, b->nsets, hc_batch_count(b));
	if (rc == 0)
		rc = put_index(s, txn, STORE_LONG, b, long_sets, long_vals);
	if (rc != 0)
		return rc;
	{
		char ts[TS_LEN];

		ts_key(ts, b->ts_ms);
		k.mv_data = "latest";
		k.mv_size = 6;
		v.mv_data = ts;
		v.mv_size = TS_LEN;
		rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
		if (rc != 0)
			return rc;
	}
	st->entities = b->nsets;
	if (live_pages(s, txn, &after) == 0 && after > before)
		s->last_batch_pages = after - before;
	rc = trim(s, txn, b->ts_ms, st);
	if (rc == 0 && b->ts_ms - s->lab_gc_ts >= LABELS_GC_MS) {
		rc = labels_gc(s, txn);
		s->lab_gc_ts = b->ts_ms;
	}
	return rc;
}

/* Drops the oldest batch of each ring to make room.  0 or MDB_NOTFOUND. */
static int make_room(struct store *s, struct store_put_stats *st)
{
	MDB_txn *txn;
	int64_t ts;
	int rc, dropped = 0;

	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return rc;
	for (int ring = STORE_SHORT; ring <= STORE_LONG; ring++) {
		if (oldest(s, txn, ring, &ts) != 0)
			continue;
		rc = drop_batch(s, txn, ring, ts);
		if (rc != 0) {
			mdb_txn_abort(txn);
			return rc;
		}
		dropped++;
	}
	if (!dropped) {
		mdb_txn_abort(txn);
		return MDB_NOTFOUND;
	}
	st->dropped_full++;
	return mdb_txn_commit(txn);
}

int store_put_batch(struct store *s, struct hc_batch *b,
		    struct store_put_stats *stats)
{
	struct store_put_stats local;
	struct store_batch_info last;
	struct store_txn *rt;
	MDB_txn *txn;
	int rc;

	if (s->readonly)
		return -EROFS;
	if (stats == NULL)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	rc = hc_batch_group(b);
	if (rc != 0)
		return rc;
	/* refuse a batch not newer than the newest stored (APPEND needs it) */
	rc = store_read_begin(s, &rt);
	if (rc == 0) {
		rc = store_latest(rt, STORE_SHORT, &last);
		store_read_end(rt);
		if (rc == 0 && last.ts_ms >= b->ts_ms)
			return -EEXIST;
	}
	if (b->nsets > s->order_cap) {
		uint32_t *o = realloc(s->order, b->nsets * sizeof(*o));

		if (o == NULL)
			return -ENOMEM;
		s->order = o;
		s->order_cap = b->nsets;
	}
	if (b->nnames > s->idmap_cap) {
		int32_t *m = realloc(s->idmap, b->nnames * sizeof(*m));
		uint8_t *l;

		if (m == NULL)
			return -ENOMEM;
		s->idmap = m;
		l = realloc(s->is_long, b->nnames);
		if (l == NULL)
			return -ENOMEM;
		s->is_long = l;
		s->idmap_cap = b->nnames;
	}
	if (b->nsets > s->setver_cap) {
		int64_t *v = realloc(s->setver, b->nsets * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		s->setver = v;
		s->setver_cap = b->nsets;
	}
	for (uint32_t i = 0; i < b->nsets; i++)
		s->order[i] = i;
	sort_batch = b;
	qsort(s->order, b->nsets, sizeof(*s->order), cmp_sets);

	for (;;) {
		uint32_t next_name = s->next_name_id;

		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED) {
			mdb_env_set_mapsize(s->env, 0);
			continue;
		}
		if (rc != 0)
			return lmdb_err("txn_begin", rc);
		rc = write_batch(s, txn, b, stats);
		if (rc == 0) {
			rc = mdb_txn_commit(txn);
		} else {
			mdb_txn_abort(txn);
		}
		if (rc == 0) {
			s->wrote_data = 1;
			return 0;
		}
		/* label versions written by the failed txn are gone too */
		labels_forget(s, b->ts_ms - 1);
		/* names added by the failed txn are gone: forget them too */
		if (s->next_name_id != next_name) {
			hc_map_clear(&s->name_ids);
			hc_arena_reset(&s->name_arena);
			s->next_name_id = 0;
			if (load_names(s) != 0)
				return HC_ERR_STORE;
		}
		if (rc != MDB_MAP_FULL)
			return lmdb_err("put batch", rc);
		/*
		 * ensure_room() kept 20% free before this write, so a batch that
		 * still does not fit while most of the map holds no live data is
		 * larger than the map can ever take: refuse it rather than drop
		 * the history for nothing.
		 */
		{
			uint64_t live, file, map;

			if (store_usage(s, &live, &file, &map) == 0 && live < map / 2) {
				hc_error("store: batch %" PRId64 " is larger than the store "
					 "can hold: raise --store_size", b->ts_ms);
				return HC_ERR_TOOBIG;
			}
		}
		rc = make_room(s, stats);
		if (rc == MDB_NOTFOUND) {
			hc_error("store: batch %" PRId64 " does not fit in an empty store: "
				 "raise --store_size", b->ts_ms);
			return HC_ERR_TOOBIG;
		}
		if (rc != 0)
			return lmdb_err("make room", rc);
		hc_warn("store: map full, dropped the oldest batch to make room");
	}
}

/* ---- cursors ----------------------------------------------------------- */

int store_cursor_get(struct store *s, const char *name, int64_t *ts_ms)
{
	struct store_txn *t;
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc;

	rc = store_read_begin(s, &t);
	if (rc != 0)
		return rc;
	rc = mdb_get(t->txn, s->dbi[DB_CURSORS], &k, &v);
	if (rc == 0)
		rc = parse_ts(v.mv_data, v.mv_size, ts_ms);
	else
		rc = lmdb_err("get cursor", rc);
	store_read_end(t);
	return rc;
}

/*
 * Puts (val != NULL) or deletes one key of one database in a transaction of
 * its own: the small writes of exporters (cursors) and of every process
 * (self-metrics).  Adopts a map grown by another process.
 */
static int put_one(struct store *s, int db, const char *key, const void *val,
		   size_t len, const char *what)
{
	MDB_val k = { strlen(key), (void *)key }, v = { len, (void *)val };
	MDB_txn *txn;
	int rc;

	if (s->readonly)
		return -EROFS;
	if (!s->dbis_open && (rc = open_dbis(s)) != 0)
		return rc;
	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc == MDB_MAP_RESIZED) {
		mdb_env_set_mapsize(s->env, 0);
		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	}
	if (rc != 0)
		return lmdb_err("txn_begin", rc);
	if (val != NULL)
		rc = mdb_put(txn, s->dbi[db], &k, &v, 0);
	else
		rc = mdb_del(txn, s->dbi[db], &k, NULL);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc != 0) {
		mdb_txn_abort(txn);
		return lmdb_err(what, rc);
	}
	rc = mdb_txn_commit(txn);
	return rc == 0 ? 0 : lmdb_err(what, rc);
}

static int cursor_write(struct store *s, const char *name, const int64_t *ts)
{
	char buf[TS_LEN];
	int rc;

	if (ts != NULL)
		ts_key(buf, *ts);
	rc = put_one(s, DB_CURSORS, name, ts ? buf : NULL, TS_LEN, "write cursor");
	/* a cursor is a delivery promise: make it durable now */
	if (rc == 0)
		mdb_env_sync(s->env, 1);
	return rc;
}

int store_cursor_set(struct store *s, const char *name, int64_t ts_ms)
{
	return cursor_write(s, name, &ts_ms);
}

int store_cursor_del(struct store *s, const char *name)
{
	return cursor_write(s, name, NULL);
}

int store_cursor_prune(struct store *s, const char *const *keep, int n,
		       int *removed)
{
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	int rc;

	*removed = 0;
	if (s->readonly)
		return -EROFS;
	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return lmdb_err("txn_begin", rc);
	rc = mdb_cursor_open(txn, s->dbi[DB_CURSORS], &cur);
	if (rc != 0)
		goto abort_txn;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int kept = 0;

		for (int i = 0; i < n && !kept; i++)
			kept = strlen(keep[i]) == k.mv_size &&
			       memcmp(keep[i], k.mv_data, k.mv_size) == 0;
		if (kept)
			continue;
		hc_info("store: forgetting the cursor of exporter %.*s (no longer configured)",
			(int)k.mv_size, (const char *)k.mv_data);
		rc = mdb_cursor_del(cur, 0);
		if (rc != 0)
			break;
		(*removed)++;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND && rc != 0)
		goto abort_txn;
	rc = mdb_txn_commit(txn);
	return rc == 0 ? 0 : lmdb_err("commit", rc);

abort_txn:
	mdb_txn_abort(txn);
	return lmdb_err("prune cursors", rc);
}

int store_stats_put(struct store *s, const char *name, const char *text,
		    size_t len)
{
	return put_one(s, DB_STATS, name, text, len, "put stats");
}

int store_stats_scan(struct store_txn *t, store_stats_fn fn, void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	rc = mdb_cursor_open(t->txn, t->s->dbi[DB_STATS], &cur);
	if (rc != 0)
		return lmdb_err("cursor", rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && ret == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		ret = fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
	mdb_cursor_close(cur);
	return ret;
}

/* ---- readers ----------------------------------------------------------- */

int store_read_begin(struct store *s, struct store_txn **out)
{
	int rc;

	if (!s->dbis_open) {
		rc = open_dbis(s);
		if (rc != 0)
			return rc;
	}
	for (int tries = 0; tries < 2; tries++) {
		if (s->rt_live)
			rc = mdb_txn_renew(s->rt.txn);
		else
			rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rt.txn);
		if (rc == 0) {
			s->rt_live = 1;
			*out = &s->rt;
			return 0;
		}
		if (rc != MDB_MAP_RESIZED)
			break;
		/* the writer grew the map: adopt its size and try again */
		if (s->rt_live) {
			mdb_txn_abort(s->rt.txn);
			s->rt_live = 0;
		}
		mdb_env_set_mapsize(s->env, 0);
	}
	return lmdb_err("read txn", rc);
}

void store_read_end(struct store_txn *t)
{
	mdb_txn_reset(t->txn);
}

/*
 * One "name=N" field of an index value at *p (put_index() writes them,
 * space separated, decimal, the last one possibly negative): 0 and *p past
 * it and its separator, or HC_ERR_PARSE.
 */
static int info_field(const char **p, const char *end, const char *name,
		      int64_t min, int64_t max, int64_t *out)
{
	size_t nlen = strlen(name);
	const char *q = *p;
	int neg = 0, digits = 0;
	uint64_t v = 0;

	if ((size_t)(end - q) < nlen + 1 || memcmp(q, name, nlen) != 0 ||
	    q[nlen] != '=')
		return HC_ERR_PARSE;
	q += nlen + 1;
	if (q < end && *q == '-') {
		neg = 1;
		q++;
	}
	for (; q < end && *q >= '0' && *q <= '9'; q++, digits++) {
		if (v > (UINT64_MAX - 9) / 10)
			return HC_ERR_PARSE;
		v = v * 10 + (uint64_t)(*q - '0');
	}
	if (digits == 0 || v > (uint64_t)INT64_MAX)
		return HC_ERR_PARSE;
	*out = neg ? -(int64_t)v : (int64_t)v;
	if (*out < min || *out > max)
		return HC_ERR_PARSE;
	while (q < end && *q == ' ')
		q++;
	*p = q;
	return 0;
}

/*
 * Decodes an index record.  By hand rather than sscanf(): every reader's
 * store_latest() comes through here (the API once or more per request),
 * and sscanf() was most of its cost.  Stricter than the sscanf() it
 * replaces only in refusing what put_index() never writes (a field out of
 * range, which sscanf() wrapped).
 */
static int parse_info(const MDB_val *k, const MDB_val *v,
		      struct store_batch_info *info)
{
	static const char *const names[4] = { "sets", "values", "nodes_ok",
					      "nodes_failed" };
	uint32_t *dst[4] = { &info->nsets, &info->nvals, &info->nodes_ok,
			     &info->nodes_failed };
	const char *p = v->mv_data, *end = p + v->mv_size;
	int64_t n;

	memset(info, 0, sizeof(*info));
	if (parse_ts(k->mv_data, k->mv_size, &info->ts_ms) != 0)
		return HC_ERR_PARSE;
	for (int i = 0; i < 4; i++) {
		if (info_field(&p, end, names[i], 0, UINT32_MAX, &n) != 0)
			return HC_ERR_PARSE;
		*dst[i] = (uint32_t)n;
	}
	/* like sscanf(), ignore what may follow: fields a newer writer adds */
	if (info_field(&p, end, "written", INT64_MIN + 1, INT64_MAX,
		       &info->written_ms) != 0)
		return HC_ERR_PARSE;
	return 0;
}

static MDB_dbi index_dbi(struct store_txn *t, enum store_ring ring)
{
	return t->s->dbi[ring == STORE_SHORT ? DB_SHORT_INDEX : DB_LONG_INDEX];
}

static MDB_dbi data_dbi(struct store_txn *t, enum store_ring ring)
{
	return t->s->dbi[ring == STORE_SHORT ? DB_SHORT_DATA : DB_LONG_DATA];
}

/*
 * The keys at the ends of a ring's index, with one cursor: the newest
 * (and its record, when last_v is not NULL) and, when first is not NULL,
 * the oldest.  They point into the map until the read transaction ends.
 * 0, HC_ERR_NOTFOUND for an empty ring, or another negative code.
 */
static int index_ends(struct store_txn *t, enum store_ring ring, MDB_val *first,
		      MDB_val *last, MDB_val *last_v)
{
	MDB_cursor *cur;
	MDB_val v;
	int rc;

	rc = mdb_cursor_open(t->txn, index_dbi(t, ring), &cur);
	if (rc != 0)
		return lmdb_err("cursor", rc);
	rc = mdb_cursor_get(cur, last, last_v ? last_v : &v, MDB_LAST);
	if (rc == 0 && first != NULL)
		rc = mdb_cursor_get(cur, first, &v, MDB_FIRST);
	if (rc != 0)
		rc = rc == MDB_NOTFOUND ? HC_ERR_NOTFOUND : lmdb_err("index ends", rc);
	mdb_cursor_close(cur);
	return rc;
}

int store_latest(struct store_txn *t, enum store_ring ring,
		 struct store_batch_info *info)
{
	MDB_val k, v;
	int rc = index_ends(t, ring, NULL, &k, &v);

	return rc != 0 ? rc : parse_info(&k, &v, info);
}

int store_ring_bounds(struct store_txn *t, enum store_ring ring,
		      int64_t *first_ms, int64_t *last_ms)
{
	MDB_val first, last;
	int rc = index_ends(t, ring, &first, &last, NULL);

	if (rc == 0)
		rc = parse_ts(first.mv_data, first.mv_size, first_ms);
	if (rc == 0)
		rc = parse_ts(last.mv_data, last.mv_size, last_ms);
	return rc;
}

int store_next_batch(struct store_txn *t, enum store_ring ring,
		     int64_t after_ms, struct store_batch_info *info)
{
	char key[TS_LEN];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(t->txn, index_dbi(t, ring), &cur);
	if (rc != 0)
		return lmdb_err("cursor", rc);
	if (after_ms < 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	} else {
		ts_key(key, after_ms + 1);
		k.mv_data = key;
		k.mv_size = TS_LEN;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	}
	if (rc == 0)
		rc = parse_info(&k, &v, info);
	else
		rc = rc == MDB_NOTFOUND ? HC_ERR_NOTFOUND : lmdb_err("next batch", rc);
	mdb_cursor_close(cur);
	return rc;
}

/*
 * A reader over label lists that decode_entity() or store_value_next()
 * already walked with bounds checks: the pairs count bounds the walk, so
 * the end is left open.
 */
static void mp_validated(struct hc_mp *m, const uint8_t *p)
{
	m->p = p;
	m->end = (const uint8_t *)(uintptr_t)-1;
}

/* The entity's label set, from "labels" by key and version (store.h). */
int store_entity_labels(struct store_txn *t, struct store_entity *e)
{
	size_t elen = e->key_len;
	char buf[KEY_MAX];
	MDB_val lk, lv;
	struct hc_mp lm;
	uint32_t n;

	e->labels = NULL;
	e->nlabels = 0;
	if (e->labels_version == 0 || elen + 1 + TS_LEN > KEY_MAX - 1)
		return HC_ERR_NOTFOUND;
	memcpy(buf, e->key, elen);
	buf[elen] = ' ';
	ts_key(buf + elen + 1, e->labels_version);
	lk.mv_data = buf;
	lk.mv_size = elen + 1 + TS_LEN;
	if (mdb_get(t->txn, t->s->dbi[DB_LABELS], &lk, &lv) != 0)
		return HC_ERR_NOTFOUND;
	hc_mp_init(&lm, lv.mv_data, lv.mv_size);
	if (hc_mp_array(&lm, &n) != 0 || n % 2 != 0)
		return HC_ERR_NOTFOUND;
	e->nlabels = n / 2;
	e->labels = lm.p;
	return 0;
}

/*
 * Decodes the fixed part of a stored entity value; with want_labels, finds
 * its label set in "labels" (none when the version is 0 or was not found).
 */
static int decode_entity(struct store_txn *t, const MDB_val *k, const MDB_val *v,
			 struct store_entity *e, int want_labels)
{
	struct hc_mp m;
	uint32_t n;

	if (k->mv_size <= TS_LEN + 1 ||
	    parse_ts(k->mv_data, k->mv_size, &e->ts_ms) != 0)
		return HC_ERR_PARSE;
	e->key = (const char *)k->mv_data + TS_LEN + 1;
	e->key_len = (uint32_t)(k->mv_size - TS_LEN - 1);
	hc_mp_init(&m, v->mv_data, v->mv_size);
	if (hc_mp_array(&m, &n) || n < 5 || hc_mp_int(&m, &e->create_ms) ||
	    hc_mp_int(&m, &e->start_ms) || hc_mp_int(&m, &e->scrape_ms))
		return HC_ERR_PARSE;
	if (hc_mp_int(&m, &e->labels_version))
		return HC_ERR_PARSE;
	e->labels = NULL;
	e->nlabels = 0;
	if (want_labels)
		store_entity_labels(t, e);
	if (hc_mp_array(&m, &n) || n % 4)
		return HC_ERR_PARSE;
	e->nvals = n / 4;
	e->vals = m.p;
	e->end = (const uint8_t *)v->mv_data + v->mv_size;
	return 0;
}

/* store_entity_get(), finding the labels only if asked. */
static int entity_get(struct store_txn *t, enum store_ring ring, int64_t ts_ms,
		      const char *key, size_t key_len, struct store_entity *e,
		      int want_labels)
{
	char buf[KEY_MAX];
	MDB_val k, v;
	int rc;

	if (TS_LEN + 1 + key_len > KEY_MAX - 1)
		return HC_ERR_NOTFOUND;
	ts_key(buf, ts_ms);
	buf[TS_LEN] = ' ';
	memcpy(buf + TS_LEN + 1, key, key_len);
	k.mv_data = buf;
	k.mv_size = TS_LEN + 1 + key_len;
	rc = mdb_get(t->txn, data_dbi(t, ring), &k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? HC_ERR_NOTFOUND : lmdb_err("get", rc);
	/* decode_entity points e->key into the map, not into buf */
	rc = decode_entity(t, &k, &v, e, want_labels);
	if (rc == 0)
		e->key = key;
	return rc;
}

int store_entity_get(struct store_txn *t, enum store_ring ring, int64_t ts_ms,
		     const char *key, size_t key_len, struct store_entity *e)
{
	return entity_get(t, ring, ts_ms, key, key_len, e, 1);
}

int store_entity_scan(struct store_txn *t, enum store_ring ring, int64_t ts_ms,
		      const char *prefix, unsigned flags, store_entity_fn fn,
		      void *ctx)
{
	size_t plen = prefix ? strlen(prefix) : 0;
	char buf[KEY_MAX];
	struct store_entity e;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	if (TS_LEN + 1 + plen > KEY_MAX - 1)
		return 0;
	ts_key(buf, ts_ms);
	buf[TS_LEN] = ' ';
	if (plen)
		memcpy(buf + TS_LEN + 1, prefix, plen);
	rc = mdb_cursor_open(t->txn, data_dbi(t, ring), &cur);
	if (rc != 0)
		return lmdb_err("cursor", rc);
	k.mv_data = buf;
	k.mv_size = TS_LEN + 1 + plen;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < TS_LEN + 1 + plen ||
		    memcmp(k.mv_data, buf, TS_LEN + 1 + plen) != 0)
			break;
		if (decode_entity(t, &k, &v, &e,
				  !(flags & STORE_SCAN_NO_LABELS)) != 0)
			continue;   /* corrupt value: skip, readers never fail whole */
		ret = fn(ctx, &e);
		if (ret != 0)
			break;
	}
	mdb_cursor_close(cur);
	return ret;
}

int store_value_next(const struct store_entity *e, size_t *pos,
		     struct store_value *out)
{
	struct hc_mp m;
	int64_t id, kind;
	uint32_t n;

	m.p = e->vals + *pos;
	m.end = e->end;
	if (m.p >= m.end)
		return 0;
	if (hc_mp_int(&m, &id) || hc_mp_int(&m, &kind) ||
	    hc_mp_num(&m, &out->type, &out->v.i, &out->v.f))
		return HC_ERR_PARSE;
	out->name_id = (uint32_t)id;
	out->kind = (uint8_t)kind;
	if (hc_mp_nil(&m)) {
		out->labels = NULL;
		out->nlabels = 0;
	} else {
		if (hc_mp_array(&m, &n) || n % 2)
			return HC_ERR_PARSE;
		out->labels = m.p;
		out->nlabels = n / 2;
		for (uint32_t i = 0; i < n; i++)
			if (hc_mp_skip(&m))
				return HC_ERR_PARSE;
	}
	*pos = (size_t)(m.p - e->vals);
	return 1;
}

/*
 * A reader over label lists that decode_entity() or store_value_next()
 * already walked with bounds checks: the pairs count bounds the walk, so
 * the end is left open.
 */
int store_label_get(const uint8_t *labels, uint32_t nlabels, const char *key,
		    const char **val, uint32_t *val_len)
{
	size_t klen = strlen(key);
	struct hc_mp m;

	if (labels == NULL)
		return HC_ERR_NOTFOUND;
	mp_validated(&m, labels);
	for (uint32_t i = 0; i < nlabels; i++) {
		const char *k, *v;
		uint32_t kl, vl;

		if (hc_mp_str(&m, &k, &kl) || hc_mp_str(&m, &v, &vl))
			return HC_ERR_PARSE;
		if (kl == klen && memcmp(k, key, klen) == 0) {
			*val = v;
			*val_len = vl;
			return 0;
		}
	}
	return HC_ERR_NOTFOUND;
}

int store_name_id(struct store_txn *t, const char *name, size_t len, uint32_t *id)
{
	MDB_val k = { len, (void *)name }, v;
	char num[16];
	int rc;

	rc = mdb_get(t->txn, t->s->dbi[DB_NAMES], &k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? HC_ERR_NOTFOUND : lmdb_err("name", rc);
	if (v.mv_size == 0 || v.mv_size >= sizeof(num))
		return HC_ERR_PARSE;
	memcpy(num, v.mv_data, v.mv_size);
	num[v.mv_size] = '\0';
	*id = (uint32_t)strtoul(num, NULL, 10);
	return 0;
}

/*
 * Rebuilds the id -> name table from "names".  Names only get added, with
 * ids that never change, so the table stays valid and is refreshed only
 * when an id it does not know shows up.
 */
static int load_byid(struct store_txn *t)
{
	struct store *s = t->s;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(t->txn, s->dbi[DB_NAMES], &cur);
	if (rc != 0)
		return lmdb_err("cursor", rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		char num[16];
		uint32_t id;

		if (v.mv_size == 0 || v.mv_size >= sizeof(num))
			continue;
		memcpy(num, v.mv_data, v.mv_size);
		num[v.mv_size] = '\0';
		id = (uint32_t)strtoul(num, NULL, 10);
		if (id >= 1u << 20)
			continue;          /* not an id this store ever assigns */
		if (id >= s->byid_n) {
			uint32_t n = id + 64;
			const char **names = realloc(s->byid, n * sizeof(*names));
			uint32_t *lens;

			if (names == NULL)
				break;
			s->byid = names;
			lens = realloc(s->byid_len, n * sizeof(*lens));
			if (lens == NULL)
				break;
			s->byid_len = lens;
			memset(s->byid + s->byid_n, 0, (n - s->byid_n) * sizeof(*names));
			s->byid_n = n;
		}
		if (s->byid[id] == NULL) {
			s->byid[id] = hc_arena_strndup(&s->byid_arena, k.mv_data, k.mv_size);
			s->byid_len[id] = (uint32_t)k.mv_size;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : (rc == 0 ? -ENOMEM : lmdb_err("names", rc));
}

int store_name_by_id(struct store_txn *t, uint32_t id, const char **name,
		     uint32_t *len)
{
	struct store *s = t->s;
	int rc;

	if (id >= s->byid_n || s->byid[id] == NULL) {
		rc = load_byid(t);
		if (rc != 0)
			return rc;
		if (id >= s->byid_n || s->byid[id] == NULL)
			return HC_ERR_NOTFOUND;
	}
	*name = s->byid[id];
	*len = s->byid_len[id];
	return 0;
}

/* Whether a value's labels contain every label of match. */
static int labels_match(const struct store_value *sv, const struct hc_label *match,
			uint32_t nmatch)
{
	for (uint32_t i = 0; i < nmatch; i++) {
		const char *v;
		uint32_t vl;

		if (store_label_get(sv->labels, sv->nlabels, match[i].key, &v, &vl) != 0 ||
		    strlen(match[i].value) != vl || memcmp(v, match[i].value, vl) != 0)
			return 0;
	}
	return 1;
}

/* Appends the point of one batch, if the entity has the metric there. */
static int series_point(struct store_txn *t, enum store_ring ring, int64_t ts,
			const char *key, size_t key_len, uint32_t id,
			const struct hc_label *match, uint32_t nmatch,
			struct store_point *p)
{
	struct store_entity e;
	struct store_value sv;
	size_t pos = 0;
	int rc;

	if (entity_get(t, ring, ts, key, key_len, &e, 0) != 0)
		return 0;
	while ((rc = store_value_next(&e, &pos, &sv)) == 1) {
		if (sv.name_id != id)
			continue;
		if (nmatch ? !labels_match(&sv, match, nmatch) : sv.nlabels != 0)
			continue;
		p->ts_ms = ts;
		p->type = sv.type;
		p->v.i = sv.v.i;
		if (sv.type == HC_FLOAT)
			p->v.f = sv.v.f;
		return 1;
	}
	return 0;
}

int store_series(struct store_txn *t, const char *key, size_t key_len,
		 const char *metric, const struct hc_label *match,
		 uint32_t nmatch, int64_t start_ms, int64_t end_ms,
		 struct store_point *out, uint32_t max, uint32_t *n)
{
	struct store_batch_info first_short;
	MDB_cursor *cur;
	MDB_val k, v;
	uint32_t id;
	int64_t short_from = INT64_MAX;
	int rc;

	*n = 0;
	rc = store_name_id(t, metric, strlen(metric), &id);
	if (rc != 0)
		return rc;
	if (store_next_batch(t, STORE_SHORT, -1, &first_short) == 0)
		short_from = first_short.ts_ms;
	for (int ring = STORE_LONG; ring >= STORE_SHORT; ring--) {
		char kb[TS_LEN];

		rc = mdb_cursor_open(t->txn, index_dbi(t, ring), &cur);
		if (rc != 0)
			return lmdb_err("cursor", rc);
		ts_key(kb, start_ms > 0 ? start_ms : 0);
		k.mv_data = kb;
		k.mv_size = TS_LEN;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		     rc == 0 && *n < max; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			int64_t ts;

			if (parse_ts(k.mv_data, k.mv_size, &ts) != 0)
				continue;
			if (end_ms > 0 && ts > end_ms)
				break;
			/* the long ring only covers what the short ring lost */
			if (ring == STORE_LONG && ts >= short_from)
				break;
			*n += (uint32_t)series_point(t, (enum store_ring)ring, ts, key,
						     key_len, id, match, nmatch,
						     &out[*n]);
		}
		mdb_cursor_close(cur);
	}
	return 0;
}

struct load_ctx {
	struct store_txn *t;
	struct hc_batch  *b;
	int               rc;
	/* store name id -> batch name id, small direct table */
	int32_t           map[1024];
};

/* Copies an msgpack label list into the batch (arena strings). */
static int load_labels(struct hc_batch *b, const uint8_t *p, uint32_t n,
		       struct hc_label *out)
{
	struct hc_mp m;

	mp_validated(&m, p);
	for (uint32_t i = 0; i < n; i++) {
		const char *k, *v;
		uint32_t kl, vl;

		if (hc_mp_str(&m, &k, &kl) || hc_mp_str(&m, &v, &vl))
			return HC_ERR_PARSE;
		out[i].key = hc_batch_str(b, k, kl);
		out[i].value = hc_batch_str(b, v, vl);
		if (out[i].key == NULL || out[i].value == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int load_entity(void *arg, const struct store_entity *e)
{
	struct load_ctx *c = arg;
	struct hc_batch *b = c->b;
	struct hc_label lbl[64];
	struct store_value sv;
	uint32_t set;
	size_t pos = 0;
	int rc;

	rc = hc_batch_set(b, e->key, e->key_len, &set, NULL);
	if (rc != 0)
		goto fail;
	b->sets[set].create_ms = e->create_ms;
	b->sets[set].start_ms = e->start_ms;
	b->sets[set].scrape_ms = e->scrape_ms;
	if (e->nlabels > HC_ARRAY_LEN(lbl)) {
		rc = HC_ERR_PARSE;
		goto fail;
	}
	rc = load_labels(b, e->labels, e->nlabels, lbl);
	if (rc != 0)
		goto fail;
	for (uint32_t i = 0; i < e->nlabels; i++) {
		rc = hc_batch_label(b, set, lbl[i].key, lbl[i].value);
		if (rc != 0)
			goto fail;
	}
	while ((rc = store_value_next(e, &pos, &sv)) == 1) {
		uint32_t name;

		if (sv.name_id >= HC_ARRAY_LEN(c->map)) {
			rc = HC_ERR_PARSE;
			goto fail;
		}
		if (c->map[sv.name_id] < 0) {
			const char *nm;
			uint32_t nl;

			rc = store_name_by_id(c->t, sv.name_id, &nm, &nl);
			if (rc != 0)
				goto fail;
			rc = hc_batch_name(b, nm, nl, sv.kind, &name);
			if (rc != 0)
				goto fail;
			c->map[sv.name_id] = (int32_t)name;
		}
		name = (uint32_t)c->map[sv.name_id];
		if (sv.nlabels) {
			if (sv.nlabels > HC_ARRAY_LEN(lbl)) {
				rc = HC_ERR_PARSE;
				goto fail;
			}
			rc = load_labels(b, sv.labels, sv.nlabels, lbl);
			if (rc == 0)
				rc = hc_batch_add_labeled(b, set, name, lbl,
							  (uint16_t)sv.nlabels, sv.type,
							  sv.v.i, sv.v.f);
			if (rc != 0)
				goto fail;
			hc_batch_last(b)->kind = sv.kind;
		} else {
			struct hc_value *v = hc_batch_add(b, set, name);

			if (v == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			v->kind = sv.kind;
			v->type = sv.type;
			v->v.i = sv.v.i;
			if (sv.type == HC_FLOAT)
				v->v.f = sv.v.f;
		}
	}
	if (rc < 0)
		goto fail;
	return 0;
fail:
	c->rc = rc;
	return 1;
}

int store_load_batch(struct store_txn *t, enum store_ring ring, int64_t ts_ms,
		     struct hc_batch *b)
{
	struct store_batch_info info;
	struct load_ctx *c;
	char key[TS_LEN];
	MDB_val k = { TS_LEN, key }, v;
	int rc;

	ts_key(key, ts_ms);
	rc = mdb_get(t->txn, index_dbi(t, ring), &k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? HC_ERR_NOTFOUND : lmdb_err("get index", rc);
	rc = parse_info(&k, &v, &info);
	if (rc != 0)
		return rc;
	c = malloc(sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->t = t;
	c->b = b;
	c->rc = 0;
	for (size_t i = 0; i < HC_ARRAY_LEN(c->map); i++)
		c->map[i] = -1;
	hc_batch_reset(b, ts_ms);
	b->nodes_ok = info.nodes_ok;
	b->nodes_failed = info.nodes_failed;
	store_entity_scan(t, ring, ts_ms, NULL, 0, load_entity, c);
	rc = c->rc;
	free(c);
	return rc;
}
