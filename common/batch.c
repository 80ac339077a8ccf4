/*
 * batch.c - arena, hash map and the batch model (see batch.h).
 *
 * The map hashes with 64-bit FNV-1a and stores the hash beside the key, so
 * a probe compares hashes before strings.  Capacity stays at most 50% full.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "hc.h"

/* ---- arena ---------------------------------------------------------- */

struct hc_arena_block {
	struct hc_arena_block *next;
	size_t                 size;
	size_t                 used;
	char                   data[];
};

void hc_arena_init(struct hc_arena *a, size_t block_size)
{
	a->head = NULL;
	a->spare = NULL;
	a->block_size = block_size ? block_size : 64 * 1024;
}

void *hc_arena_alloc(struct hc_arena *a, size_t size)
{
	struct hc_arena_block *blk = a->head;
	size_t need = (size + 7) & ~(size_t)7;

	if (blk == NULL || blk->size - blk->used < need) {
		size_t bsize = need > a->block_size ? need : a->block_size;

		if (bsize == a->block_size && a->spare != NULL) {
			blk = a->spare;
			a->spare = blk->next;
		} else {
			blk = malloc(sizeof(*blk) + bsize);
			if (blk == NULL)
				return NULL;
		}
		blk->size = bsize;
		blk->used = 0;
		blk->next = a->head;
		a->head = blk;
	}
	blk->used += need;
	return blk->data + blk->used - need;
}

char *hc_arena_strndup(struct hc_arena *a, const char *s, size_t len)
{
	char *p = hc_arena_alloc(a, len + 1);

	if (p == NULL)
		return NULL;
	if (len > 0)   /* an empty msgpack string may come with a NULL pointer */
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void hc_arena_reset(struct hc_arena *a)
{
	struct hc_arena_block *blk, *next;

	for (blk = a->head; blk != NULL; blk = next) {
		next = blk->next;
		if (blk->size == a->block_size) {
			blk->next = a->spare;
			a->spare = blk;
		} else {
			free(blk);
		}
	}
	a->head = NULL;
}

void hc_arena_free(struct hc_arena *a)
{
	struct hc_arena_block *blk, *next;

	hc_arena_reset(a);
	for (blk = a->spare; blk != NULL; blk = next) {
		next = blk->next;
		free(blk);
	}
	a->spare = NULL;
}

/* ---- map ------------------------------------------------------------ */

struct hc_map_slot {
	const char *key;     /* NULL: empty */
	uint64_t    hash;
	uint32_t    len;
	uint32_t    val;
};

/*
 * Eight bytes per step (multiply and fold), then a final avalanche so the
 * low bits, which pick the map slot, depend on every input byte.  Keys
 * are entity keys of 20-100 bytes: byte-at-a-time FNV cost 4x more.
 */
uint64_t hc_hash(const char *s, size_t len)
{
	const uint64_t k = 0x9FB21C651E98DF25ULL;
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)len * 0xFF51AFD7ED558CCDULL);
	uint64_t w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	h ^= h >> 32;
	h *= 0xD6E8FEB86659FD93ULL;
	h ^= h >> 32;
	return h;
}

int hc_map_init(struct hc_map *m, uint32_t expected)
{
	uint32_t cap = 16;

	while (cap < expected * 2)
		cap *= 2;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (m->slots == NULL)
		return -ENOMEM;
	m->cap = cap;
	m->count = 0;
	return 0;
}

void hc_map_free(struct hc_map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}

void hc_map_clear(struct hc_map *m)
{
	memset(m->slots, 0, (size_t)m->cap * sizeof(*m->slots));
	m->count = 0;
}

static struct hc_map_slot *map_probe(const struct hc_map *m, const char *key,
				     size_t len, uint64_t h)
{
	uint32_t i = (uint32_t)h & (m->cap - 1);

	for (;;) {
		struct hc_map_slot *s = &m->slots[i];

		if (s->key == NULL)
			return s;
		if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

int hc_map_get(const struct hc_map *m, const char *key, size_t len, uint32_t *val)
{
	struct hc_map_slot *s;

	if (m->cap == 0)
		return HC_ERR_NOTFOUND;
	s = map_probe(m, key, len, hc_hash(key, len));
	if (s->key == NULL)
		return HC_ERR_NOTFOUND;
	*val = s->val;
	return 0;
}

static int map_grow(struct hc_map *m)
{
	struct hc_map_slot *old = m->slots;
	uint32_t old_cap = m->cap;
	uint32_t new_cap = old_cap ? old_cap * 2 : 16;

	m->slots = calloc(new_cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		m->slots = old;
		return -ENOMEM;
	}
	m->cap = new_cap;
	for (uint32_t i = 0; i < old_cap; i++) {
		if (old[i].key != NULL)
			*map_probe(m, old[i].key, old[i].len, old[i].hash) = old[i];
	}
	free(old);
	return 0;
}

int hc_map_put(struct hc_map *m, const char *key, size_t len, uint32_t val)
{
	struct hc_map_slot *s;
	uint64_t h = hc_hash(key, len);
	int rc;

	if ((m->count + 1) * 2 > m->cap) {
		rc = map_grow(m);
		if (rc != 0)
			return rc;
	}
	s = map_probe(m, key, len, h);
	if (s->key == NULL) {
		s->key = key;
		s->hash = h;
		s->len = (uint32_t)len;
		m->count++;
	}
	s->val = val;
	return 0;
}

int hc_map_del(struct hc_map *m, const char *key, size_t len)
{
	struct hc_map_slot *s;
	uint32_t i, j;

	if (m->cap == 0)
		return HC_ERR_NOTFOUND;
	s = map_probe(m, key, len, hc_hash(key, len));
	if (s->key == NULL)
		return HC_ERR_NOTFOUND;
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	i = (uint32_t)(s - m->slots);
	j = i;
	for (;;) {
		uint32_t home;

		j = (j + 1) & (m->cap - 1);
		if (m->slots[j].key == NULL)
			break;
		home = (uint32_t)m->slots[j].hash & (m->cap - 1);
		/* move j to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = NULL;
	m->count--;
	return 0;
}

/* ---- batch ---------------------------------------------------------- */

/* Grows *arr (element size `sz`) so that it holds at least `need` items. */
static int grow(void **arr, uint32_t *cap, uint32_t need, size_t sz)
{
	uint32_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, (size_t)ncap * sz);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int batch_seed_names(struct hc_batch *b)
{
	int rc;

	/* hc_batch_init() sized names past HC_M_COUNT: nothing to grow here */
	b->nnames = 0;
	hc_map_clear(&b->name_index);
	for (uint32_t i = 0; i < HC_M_COUNT; i++) {
		b->names[i] = hc_metric_table[i].name;
		b->name_kinds[i] = hc_metric_table[i].kind;
		rc = hc_map_put(&b->name_index, b->names[i], strlen(b->names[i]), i);
		if (rc != 0)
			return rc;
	}
	b->nnames = HC_M_COUNT;
	return 0;
}

int hc_batch_init(struct hc_batch *b)
{
	int rc;

	memset(b, 0, sizeof(*b));
	hc_arena_init(&b->arena, 256 * 1024);
	rc = hc_map_init(&b->set_index, 1024);
	if (rc != 0)
		return rc;
	rc = hc_map_init(&b->name_index, 128);
	if (rc != 0)
		goto free_set_index;
	b->names_cap = 0;
	/* names and name_kinds share names_cap: allocate both at the same size */
	b->names = malloc(128 * sizeof(*b->names));
	b->name_kinds = malloc(128);
	if (b->names == NULL || b->name_kinds == NULL) {
		rc = -ENOMEM;
		goto free_names;
	}
	b->names_cap = 128;
	rc = batch_seed_names(b);
	if (rc != 0)
		goto free_names;
	return 0;

free_names:
	free(b->names);
	free(b->name_kinds);
	hc_map_free(&b->name_index);
free_set_index:
	hc_map_free(&b->set_index);
	return rc;
}

void hc_batch_reset(struct hc_batch *b, int64_t ts_ms)
{
	b->ts_ms = ts_ms;
	b->nodes_ok = b->nodes_failed = 0;
	b->nsets = b->nvals = b->nlabels = 0;
	b->grouped = b->room_on;   /* room mode keeps it grouped as it fills */
	b->grouped_n = 0;
	b->added = 0;
	b->nholes = 0;
	b->last_run = HC_HOLE;
	hc_map_clear(&b->set_index);
	/* custom names point into the arena: drop them with it */
	if (b->nnames > HC_M_COUNT)
		batch_seed_names(b);   /* cannot fail: capacity already there */
	hc_arena_reset(&b->arena);
}

void hc_batch_free(struct hc_batch *b)
{
	hc_arena_free(&b->arena);
	free(b->sets);
	free(b->vals);
	free(b->labels);
	free(b->names);
	free(b->name_kinds);
	free(b->vals_alt);
	free(b->scratch);
	free(b->scratch2);
	hc_map_free(&b->set_index);
	hc_map_free(&b->name_index);
	memset(b, 0, sizeof(*b));
}

const char *hc_batch_str(struct hc_batch *b, const char *s, size_t len)
{
	return hc_arena_strndup(&b->arena, s, len);
}

int hc_batch_find(const struct hc_batch *b, const char *key, size_t len,
		  uint32_t *idx)
{
	return hc_map_get(&b->set_index, key, len, idx);
}

int hc_batch_find_near(const struct hc_batch *b, const char *key, size_t len,
		       uint32_t guess, uint32_t *idx)
{
	if (guess < b->nsets && b->sets[guess].key_len == len &&
	    memcmp(b->sets[guess].key, key, len) == 0) {
		*idx = guess;
		return 0;
	}
	return hc_map_get(&b->set_index, key, len, idx);
}

int hc_batch_set(struct hc_batch *b, const char *key, size_t len,
		 uint32_t *idx, int *created)
{
	struct hc_set *s;
	const char *k;
	int rc;

	if (hc_map_get(&b->set_index, key, len, idx) == 0) {
		if (created)
			*created = 0;
		return 0;
	}
	rc = grow((void **)&b->sets, &b->sets_cap, b->nsets + 1, sizeof(*b->sets));
	if (rc != 0)
		return rc;
	k = hc_batch_str(b, key, len);
	if (k == NULL)
		return -ENOMEM;
	rc = hc_map_put(&b->set_index, k, len, b->nsets);
	if (rc != 0)
		return rc;
	s = &b->sets[b->nsets];
	memset(s, 0, sizeof(*s));
	s->key = k;
	s->key_len = (uint32_t)len;
	s->labels_off = b->nlabels;
	*idx = b->nsets++;
	if (created)
		*created = 1;
	return 0;
}

uint8_t hc_entity_type(const char *type)
{
	static const char *names[] = {
		NULL, HC_TYPE_POD_CONTAINER, HC_TYPE_POD, HC_TYPE_NS, HC_TYPE_NODE,
		HC_TYPE_SYS_CONTAINER, HC_TYPE_CLUSTER,
	};

	for (uint8_t i = 1; i < HC_ARRAY_LEN(names); i++)
		if (strcmp(type, names[i]) == 0)
			return i;
	return HC_T_OTHER;
}

int hc_batch_label(struct hc_batch *b, uint32_t set, const char *key,
		   const char *value)
{
	struct hc_set *s = &b->sets[set];
	int rc;

	/* the aggregators test types per set: keep the label as a number too */
	if (key[0] == 't' && strcmp(key, HC_L_TYPE) == 0)
		s->type = hc_entity_type(value);

	for (uint32_t i = 0; i < s->labels_n; i++) {
		const char *k = b->labels[s->labels_off + i].key;

		/* keys are mostly the HC_L_* constants: pointers, then strings
		 * whose first byte matches */
		if (k == key || (k[0] == key[0] && strcmp(k, key) == 0)) {
			b->labels[s->labels_off + i].value = value;
			return 0;
		}
	}
	/* The set's labels must end the array to grow in place; else move them. */
	if (s->labels_off + s->labels_n != b->nlabels) {
		rc = grow((void **)&b->labels, &b->labels_cap,
			  b->nlabels + s->labels_n + 1, sizeof(*b->labels));
		if (rc != 0)
			return rc;
		memcpy(&b->labels[b->nlabels], &b->labels[s->labels_off],
		       s->labels_n * sizeof(*b->labels));
		s->labels_off = b->nlabels;
		b->nlabels += s->labels_n;
	}
	rc = grow((void **)&b->labels, &b->labels_cap, b->nlabels + 1,
		  sizeof(*b->labels));
	if (rc != 0)
		return rc;
	b->labels[b->nlabels].key = key;
	b->labels[b->nlabels].value = value;
	b->nlabels++;
	s->labels_n++;
	return 0;
}

const char *hc_batch_get_label(const struct hc_batch *b, uint32_t set,
			       const char *key)
{
	const struct hc_set *s = &b->sets[set];
	const struct hc_label *l = &b->labels[s->labels_off];

	/* keys are mostly the HC_L_* constants themselves: pointers first */
	for (uint32_t i = 0; i < s->labels_n; i++)
		if (l[i].key == key)
			return l[i].value;
	for (uint32_t i = 0; i < s->labels_n; i++)
		if (l[i].key[0] == key[0] && strcmp(l[i].key, key) == 0)
			return l[i].value;
	return NULL;
}

int hc_batch_name(struct hc_batch *b, const char *name, size_t len,
		  uint8_t kind, uint32_t *id)
{
	const char *copy;
	int rc;

	if (hc_map_get(&b->name_index, name, len, id) == 0)
		return 0;
	if (b->nnames == b->names_cap) {
		/* names and name_kinds share names_cap: grow both to twice it */
		uint32_t ncap = b->names_cap * 2;
		const char **nn = realloc(b->names, ncap * sizeof(*nn));
		uint8_t *nk;

		if (nn == NULL)
			return -ENOMEM;
		b->names = nn;
		nk = realloc(b->name_kinds, ncap);
		if (nk == NULL)
			return -ENOMEM;
		b->name_kinds = nk;
		b->names_cap = ncap;
	}
	copy = hc_batch_str(b, name, len);
	if (copy == NULL)
		return -ENOMEM;
	rc = hc_map_put(&b->name_index, copy, len, b->nnames);
	if (rc != 0)
		return rc;
	b->names[b->nnames] = copy;
	b->name_kinds[b->nnames] = kind;
	*id = b->nnames++;
	return 0;
}

void hc_batch_set_room(struct hc_batch *b, const uint8_t *room, size_t n)
{
	memset(b->room, 0, sizeof(b->room));
	memcpy(b->room, room, n < sizeof(b->room) ? n : sizeof(b->room));
	b->room_on = 1;
}

struct hc_value *hc_batch_last(struct hc_batch *b)
{
	return &b->vals[b->last_added];
}

/*
 * Room mode, grouped batch: the slot for a new value of `set` that keeps
 * the batch grouped (its run's room, the end of the last run, or a new run
 * at the end after the last run's room), or HC_HOLE when the set has
 * outgrown its room.  -ENOMEM through *rc.
 */
static uint32_t room_slot(struct hc_batch *b, uint32_t set, int *rc)
{
	struct hc_set *s = &b->sets[set];
	uint32_t pad = 0, at;

	*rc = 0;
	if (s->vals_cap > 0) {
		if (s->vals_n < s->vals_cap) {
			b->nholes--;
			return s->vals_off + s->vals_n++;
		}
		if (s->vals_off + s->vals_cap != b->nvals)
			return HC_HOLE;
	} else if (b->last_run != HC_HOLE) {
		pad = b->room[b->sets[b->last_run].type];
	}
	*rc = grow((void **)&b->vals, &b->vals_cap, b->nvals + pad + 1,
		   sizeof(*b->vals));
	if (*rc != 0)
		return HC_HOLE;
	if (pad > 0) {
		for (uint32_t i = b->nvals; i < b->nvals + pad; i++) {
			memset(&b->vals[i], 0, sizeof(b->vals[i]));
			b->vals[i].set = HC_HOLE;
		}
		b->sets[b->last_run].vals_cap += pad;
		b->nvals += pad;
		b->nholes += pad;
	}
	at = b->nvals++;
	if (s->vals_cap == 0) {
		s->vals_off = at;
		b->last_run = set;
	}
	s->vals_n++;
	s->vals_cap++;
	return at;
}

struct hc_value *hc_batch_add(struct hc_batch *b, uint32_t set, uint32_t name)
{
	struct hc_value *v;
	uint32_t at = HC_HOLE;
	int rc;

	if (b->room_on && b->grouped) {
		at = room_slot(b, set, &rc);
		if (rc != 0)
			return NULL;
	}
	if (at == HC_HOLE) {
		if (grow((void **)&b->vals, &b->vals_cap, b->nvals + 1, sizeof(*b->vals)))
			return NULL;
		at = b->nvals++;
		b->added++;
		b->grouped = 0;
	}
	v = &b->vals[at];
	b->last_added = at;
	v->set = set;
	v->name = name;
	v->labels_off = 0;
	v->labels_n = 0;
	v->kind = b->name_kinds[name];
	v->type = name < HC_M_COUNT ? hc_metric_table[name].type : HC_FLOAT;
	v->v.i = 0;
	return v;
}

int hc_batch_add_int(struct hc_batch *b, uint32_t set, uint32_t name, int64_t i)
{
	struct hc_value *v = hc_batch_add(b, set, name);

	if (v == NULL)
		return -ENOMEM;
	v->type = HC_INT;
	v->v.i = i;
	return 0;
}

int hc_batch_add_float(struct hc_batch *b, uint32_t set, uint32_t name, double f)
{
	struct hc_value *v = hc_batch_add(b, set, name);

	if (v == NULL)
		return -ENOMEM;
	v->type = HC_FLOAT;
	v->v.f = f;
	return 0;
}

int hc_batch_add_labeled(struct hc_batch *b, uint32_t set, uint32_t name,
			 const struct hc_label *labels, uint16_t n,
			 uint8_t type, int64_t i, double f)
{
	struct hc_value *v;
	int rc;

	rc = grow((void **)&b->labels, &b->labels_cap, b->nlabels + n,
		  sizeof(*b->labels));
	if (rc != 0)
		return rc;
	v = hc_batch_add(b, set, name);
	if (v == NULL)
		return -ENOMEM;
	if (n > 0)
		memcpy(&b->labels[b->nlabels], labels, n * sizeof(*labels));
	v->labels_off = b->nlabels;
	v->labels_n = n;
	b->nlabels += n;
	v->type = type;
	if (type == HC_FLOAT)
		v->v.f = f;
	else
		v->v.i = i;
	return 0;
}

/* vals_alt, just written by a grouping, becomes vals (and vals the spare). */
static void swap_vals(struct hc_batch *b)
{
	struct hc_value *v = b->vals;
	uint32_t c = b->vals_cap;

	b->vals = b->vals_alt;
	b->vals_cap = b->vals_alt_cap;
	b->vals_alt = v;
	b->vals_alt_cap = c;
}

/*
 * Grouping needs each set's values contiguous, not the array sorted, so two
 * common cases move nothing:
 *  - values appended set by set (the decoder, the scraper): one pass finds
 *    that every set's values already form one run;
 *  - values appended after a grouping only for sets that had none then
 *    (aggregates for new namespaces, workloads, the cluster), each set's in
 *    one run: the new runs get their offsets.
 * Anything else is a stable counting sort into a second array, O(n).
 */
static int group_in_place(struct hc_batch *b, uint32_t from)
{
	uint32_t last = UINT32_MAX;

	for (uint32_t i = from; i < b->nvals; i++) {
		uint32_t s = b->vals[i].set;

		if (s == last) {
			b->sets[s].vals_n++;
			continue;
		}
		if (b->sets[s].vals_n != 0) {
			/* s has values elsewhere: forget the runs started here
			 * (they start at or after `from`) and let the caller sort */
			for (uint32_t j = from; j < i; j++) {
				struct hc_set *t = &b->sets[b->vals[j].set];

				if (t->vals_off >= from) {
					t->vals_off = 0;
					t->vals_n = 0;
				}
			}
			return 0;
		}
		b->sets[s].vals_off = i;
		b->sets[s].vals_n = 1;
		last = s;
	}
	return 1;
}

/*
 * Values [0, g) are grouped (runs cover them exactly), [g, nvals) are not:
 * bucket the tail by set, then walk the prefix run by run, copying each run
 * whole and its set's tail values after it, then the sets that only have
 * tail values.  Block copies of runs: about memcpy speed, where the full
 * counting sort moves every value on its own.
 */
/* 0, 1 when the prefix is inconsistent (sort instead), or -ENOMEM. */
static int group_merge(struct hc_batch *b, uint32_t g)
{
	uint32_t nt = b->nvals - g, *start, *tidx, o = 0;
	struct hc_value *out;
	int rc;

	rc = grow((void **)&b->scratch, &b->scratch_cap, b->nsets + 1,
		  sizeof(*b->scratch));
	if (rc == 0)
		rc = grow((void **)&b->scratch2, &b->scratch2_cap, nt + 1,
			  sizeof(*b->scratch2));
	if (rc == 0)
		rc = grow((void **)&b->vals_alt, &b->vals_alt_cap, b->nvals + 1,
			  sizeof(*b->vals_alt));
	if (rc != 0)
		return rc;
	start = b->scratch;
	tidx = b->scratch2;
	/* tail bucket of set s: tidx[start[s] .. start[s + 1]) after the shift */
	memset(start, 0, (b->nsets + 1) * sizeof(*start));
	for (uint32_t i = g; i < b->nvals; i++)
		start[b->vals[i].set + 1]++;
	for (uint32_t s = 0; s < b->nsets; s++)
		start[s + 1] += start[s];
	for (uint32_t i = g; i < b->nvals; i++)
		tidx[start[b->vals[i].set]++] = i;
	/* start[s] is now the end of bucket s; its start is start[s - 1] */
	out = b->vals_alt;
	/* sets with values only in the tail (vals_n still 0) first */
	for (uint32_t s = 0; s < b->nsets; s++) {
		uint32_t t0 = s ? start[s - 1] : 0, t1 = start[s];

		if (b->sets[s].vals_n != 0 || t0 == t1)
			continue;
		b->sets[s].vals_off = o;
		b->sets[s].vals_n = t1 - t0;
		for (uint32_t t = t0; t < t1; t++)
			out[o++] = b->vals[tidx[t]];
	}
	/* then every prefix run, whole, followed by its set's tail values */
	for (uint32_t i = 0; i < g;) {
		uint32_t s = b->vals[i].set, pn = b->sets[s].vals_n;
		uint32_t t0 = s ? start[s - 1] : 0, t1 = start[s];

		if (pn == 0 || pn > g - i)
			return 1;   /* the prefix is not what the last grouping left */
		memcpy(out + o, b->vals + i, pn * sizeof(*out));
		b->sets[s].vals_off = o;
		o += pn;
		for (uint32_t t = t0; t < t1; t++)
			out[o++] = b->vals[tidx[t]];
		b->sets[s].vals_n = pn + (t1 - t0);
		i += pn;
	}
	swap_vals(b);
	return 0;
}

/*
 * Room mode: a stable counting sort that leaves holes out and gives every
 * run its room again (a set outgrew its room, so the batch is ungrouped).
 */
static int group_with_room(struct hc_batch *b)
{
	struct hc_value *out;
	uint32_t *pos, off = 0, last = HC_HOLE;
	int rc;

	for (uint32_t s = 0; s < b->nsets; s++)
		b->sets[s].vals_n = 0;
	for (uint32_t i = 0; i < b->nvals; i++)
		if (b->vals[i].set != HC_HOLE)
			b->sets[b->vals[i].set].vals_n++;
	rc = grow((void **)&b->scratch, &b->scratch_cap, b->nsets + 1,
		  sizeof(*b->scratch));
	if (rc != 0)
		return rc;
	pos = b->scratch;
	for (uint32_t s = 0; s < b->nsets; s++) {
		struct hc_set *set = &b->sets[s];

		pos[s] = off;
		set->vals_off = off;
		set->vals_cap = 0;
		if (set->vals_n == 0)
			continue;
		set->vals_cap = set->vals_n + b->room[set->type];
		off += set->vals_cap;
		last = s;
	}
	/* the last run needs no room: it grows at the end */
	if (last != HC_HOLE) {
		off -= b->sets[last].vals_cap - b->sets[last].vals_n;
		b->sets[last].vals_cap = b->sets[last].vals_n;
	}
	rc = grow((void **)&b->vals_alt, &b->vals_alt_cap, off + 1, sizeof(*b->vals_alt));
	if (rc != 0)
		return rc;
	out = b->vals_alt;
	for (uint32_t s = 0; s < b->nsets; s++) {
		const struct hc_set *set = &b->sets[s];

		for (uint32_t i = set->vals_n; i < set->vals_cap; i++) {
			memset(&out[set->vals_off + i], 0, sizeof(*out));
			out[set->vals_off + i].set = HC_HOLE;
		}
	}
	for (uint32_t i = 0; i < b->nvals; i++)
		if (b->vals[i].set != HC_HOLE)
			out[pos[b->vals[i].set]++] = b->vals[i];
	b->nholes = off - (b->nvals - b->nholes);
	b->nvals = off;
	b->last_run = last;
	swap_vals(b);
	b->grouped = 1;
	b->added = 0;
	return 0;
}

int hc_batch_group(struct hc_batch *b)
{
	struct hc_value *sorted;
	uint32_t *pos;
	int rc;

	if (b->grouped)
		return 0;
	if (b->room_on)
		return group_with_room(b);
	/* values dropped since (a caller rolled the batch back): start over */
	if (b->grouped_n + b->added != b->nvals)
		b->grouped_n = 0;
	b->added = 0;
	if (b->grouped_n == 0)
		for (uint32_t s = 0; s < b->nsets; s++)
			b->sets[s].vals_n = 0;
	if (group_in_place(b, b->grouped_n)) {
		b->grouped = 1;
		b->grouped_n = b->nvals;
		return 0;
	}
	if (b->grouped_n > 0) {
		rc = group_merge(b, b->grouped_n);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			b->grouped = 1;
			b->grouped_n = b->nvals;
			return 0;
		}
	}
	rc = grow((void **)&b->scratch, &b->scratch_cap, b->nsets + 1,
		  sizeof(*b->scratch));
	if (rc != 0)
		return rc;
	/* the sort writes into a second array kept for the next call */
	rc = grow((void **)&b->vals_alt, &b->vals_alt_cap, b->nvals + 1,
		  sizeof(*b->vals_alt));
	if (rc != 0)
		return rc;
	sorted = b->vals_alt;
	pos = b->scratch;
	for (uint32_t s = 0; s < b->nsets; s++)
		b->sets[s].vals_n = 0;
	for (uint32_t i = 0; i < b->nvals; i++)
		b->sets[b->vals[i].set].vals_n++;
	for (uint32_t s = 0, off = 0; s < b->nsets; s++) {
		b->sets[s].vals_off = off;
		pos[s] = off;
		off += b->sets[s].vals_n;
	}
	for (uint32_t i = 0; i < b->nvals; i++)
		sorted[pos[b->vals[i].set]++] = b->vals[i];
	swap_vals(b);
	b->grouped = 1;
	b->grouped_n = b->nvals;
	return 0;
}

struct hc_value *hc_batch_value(const struct hc_batch *b, uint32_t set,
				uint32_t name)
{
	const struct hc_set *s = &b->sets[set];

	for (uint32_t i = 0; i < s->vals_n; i++) {
		struct hc_value *v = &b->vals[s->vals_off + i];

		if (v->name == name && v->labels_n == 0)
			return v;
	}
	return NULL;
}
