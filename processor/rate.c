/*
 * rate.c - the rate calculator (see rate.h).
 *
 * Entries live in one array indexed through a hash map keyed by the entity
 * key (the key string is the entry's own copy, one allocation per entity,
 * none per point).  Freed entries go to a free list and are reused.
 *
 * Entries are created in the order sets are first seen, and a node's sets
 * come in the same order every resolution (the kubelet's summary order),
 * whatever order the nodes come in.  So the entry after the one the
 * previous set matched is tried first: a key comparison on memory read in
 * order instead of a hash probe, a cache miss, per set.  A set whose key
 * differs falls back to the map.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hc.h"
#include "rate.h"

/* Source counter -> rate metric. */
static const struct {
	uint16_t src, dst;
} rate_map[] = {
	{ HC_M_CPU_USAGE, HC_M_CPU_USAGE_RATE },
	{ HC_M_MEM_PAGE_FAULTS, HC_M_MEM_PAGE_FAULTS_RATE },
	{ HC_M_MEM_MAJOR_PAGE_FAULTS, HC_M_MEM_MAJOR_PAGE_FAULTS_RATE },
	{ HC_M_NET_RX, HC_M_NET_RX_RATE },
	{ HC_M_NET_RX_ERRORS, HC_M_NET_RX_ERRORS_RATE },
	{ HC_M_NET_TX, HC_M_NET_TX_RATE },
	{ HC_M_NET_TX_ERRORS, HC_M_NET_TX_ERRORS_RATE },
	{ HC_M_DISK_IO_READ, HC_M_DISK_IO_READ_RATE },
	{ HC_M_DISK_IO_WRITE, HC_M_DISK_IO_WRITE_RATE },
};

#define NRATES (sizeof(rate_map) / sizeof(rate_map[0]))

struct proc_rate_entry {
	char     *key;            /* NULL: free */
	uint32_t  key_len;
	uint32_t  seen;           /* generation last seen */
	uint16_t  present;        /* bit i: prev[i] holds a sample */
	int64_t   scrape_ms;
	int64_t   start_ms;
	int64_t   prev[NRATES];
};

int proc_rates_init(struct proc_rates *r)
{
	memset(r, 0, sizeof(*r));
	return hc_map_init(&r->index, 1024);
}

void proc_rates_free(struct proc_rates *r)
{
	for (uint32_t i = 0; i < r->nentries; i++)
		free(r->entries[i].key);
	free(r->entries);
	free(r->free_list);
	hc_map_free(&r->index);
	memset(r, 0, sizeof(*r));
}

uint32_t proc_rates_size(const struct proc_rates *r)
{
	return r->index.count;
}

/*
 * Finds or creates the entry of a set's key; *fresh says it was created.
 * Tries entry `guess` first (see the top of the file).
 */
static int entry_get(struct proc_rates *r, const struct hc_set *set,
		     uint32_t guess, uint32_t *idx, int *fresh)
{
	const char *key = set->key;
	size_t len = set->key_len;
	struct proc_rate_entry *e;
	int rc;

	if (guess < r->nentries) {
		e = &r->entries[guess];
		if (e->key != NULL && e->key_len == len && memcmp(e->key, key, len) == 0) {
			*idx = guess;
			*fresh = 0;
			return 0;
		}
	}
	if (hc_map_get(&r->index, key, len, idx) == 0) {
		*fresh = 0;
		return 0;
	}
	if (r->nfree > 0) {
		*idx = r->free_list[--r->nfree];
	} else {
		if (r->nentries == r->cap) {
			uint32_t cap = r->cap ? r->cap * 2 : 1024;
			void *p = realloc(r->entries, cap * sizeof(*r->entries));
			uint32_t *f;

			if (p == NULL)
				return -ENOMEM;
			r->entries = p;
			f = realloc(r->free_list, cap * sizeof(*f));
			if (f == NULL)
				return -ENOMEM;
			r->free_list = f;
			r->cap = cap;
		}
		*idx = r->nentries++;
	}
	e = &r->entries[*idx];
	memset(e, 0, sizeof(*e));
	e->key = strdup(key);
	if (e->key == NULL)
		goto release_slot;
	e->key_len = (uint32_t)len;
	rc = hc_map_put(&r->index, e->key, len, *idx);
	if (rc != 0) {
		free(e->key);
		goto release_slot;
	}
	*fresh = 1;
	return 0;

release_slot:
	e->key = NULL;
	r->free_list[r->nfree++] = *idx;
	return -ENOMEM;
}

/* Forgets entries not seen in the last PROC_RATE_EXPIRE generations. */
static void expire(struct proc_rates *r)
{
	for (uint32_t i = 0; i < r->nentries; i++) {
		struct proc_rate_entry *e = &r->entries[i];

		if (e->key == NULL || r->generation - e->seen < PROC_RATE_EXPIRE)
			continue;
		hc_map_del(&r->index, e->key, e->key_len);
		free(e->key);
		e->key = NULL;
		r->free_list[r->nfree++] = i;
	}
}

int proc_rates_apply(struct proc_rates *r, struct hc_batch *b)
{
	uint32_t nsets = b->nsets, last = UINT32_MAX;
	int rc;

	rc = hc_batch_group(b);
	if (rc != 0)
		return rc;
	r->generation++;
	for (uint32_t s = 0; s < nsets; s++) {
		int64_t cur[NRATES];
		uint16_t have = 0;
		struct proc_rate_entry *e;
		const struct hc_set *set = &b->sets[s];
		int any = 0, fresh, restarted, from_start;
		double dt_s;
		uint32_t idx;

		/* find the counters of this set (values grouped by set) */
		for (uint32_t v = 0; v < set->vals_n; v++) {
			struct hc_value *val = &b->vals[set->vals_off + v];

			if (val->labels_n != 0 || val->type != HC_INT)
				continue;
			for (size_t i = 0; i < NRATES; i++) {
				if (val->name == rate_map[i].src) {
					/* copied: adding rates below may move b->vals */
					cur[i] = val->v.i;
					have |= (uint16_t)(1u << i);
					any = 1;
				}
			}
		}
		if (!any)
			continue;
		rc = entry_get(r, set, last + 1, &idx, &fresh);
		if (rc != 0)
			return rc;
		last = idx;
		e = &r->entries[idx];
		e->seen = r->generation;
		restarted = !fresh && e->start_ms != set->start_ms;
		if (restarted)
			r->restarts++;
		/*
		 * A container first seen (or restarted) that started after the
		 * previous batch counted from zero at its start: rate it from
		 * there, so a new pod has numbers after one resolution.
		 */
		from_start = (fresh || restarted) && r->last_batch_ms > 0 &&
			     set->start_ms >= r->last_batch_ms &&
			     set->scrape_ms - set->start_ms >= 1000;
		if (from_start)
			dt_s = (double)(set->scrape_ms - set->start_ms) / 1000.0;
		else
			dt_s = (double)(set->scrape_ms - e->scrape_ms) / 1000.0;
		for (size_t i = 0; i < NRATES; i++) {
			int64_t now, delta;

			if (!(have & (1u << i))) {
				e->present &= (uint16_t)~(1u << i);
				continue;
			}
			now = cur[i];
			if (from_start ||
			    (!fresh && !restarted && (e->present & (1u << i)) &&
			     set->scrape_ms > e->scrape_ms)) {
				delta = from_start ? now : now - e->prev[i];
				if (delta < 0) {
					r->resets++;
				} else if (rate_map[i].dst == HC_M_CPU_USAGE_RATE) {
					/* ns per second / 1e6 = millicores */
					rc = hc_batch_add_int(b, s, HC_M_CPU_USAGE_RATE,
						(int64_t)llround((double)delta / dt_s / 1e6));
				} else {
					rc = hc_batch_add_float(b, s, rate_map[i].dst,
								(double)delta / dt_s);
				}
				if (rc != 0)
					return rc;
			}
			/* a sample that did not advance keeps the older base */
			if (fresh || restarted || set->scrape_ms > e->scrape_ms ||
			    !(e->present & (1u << i))) {
				e->prev[i] = now;
				e->present |= (uint16_t)(1u << i);
			}
		}
		if (fresh || restarted || set->scrape_ms > e->scrape_ms) {
			e->scrape_ms = set->scrape_ms;
			e->start_ms = set->start_ms;
		}
	}
	expire(r);
	r->last_batch_ms = b->ts_ms;
	return 0;
}
