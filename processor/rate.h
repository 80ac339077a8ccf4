/*
 * rate.h - turning cumulative counters into per-second rates.
 *
 * The calculator keeps, per entity, the previous sample of every counter
 * that has a rate (cpu/usage, memory/page_faults, network/..., disk/...),
 * with its scrape time and the entity's start time.  Memory grows with the
 * number of entities, never with the number of batches: an entity not seen
 * for PROC_RATE_EXPIRE batches is forgotten.
 *
 * Rules (REFERENCE §3, with Heapster's bug fixed):
 *  - rate = delta / delta-time, using the sets' scrape times;
 *  - no rate when the scrape time did not advance;
 *  - a counter that went down is a reset: no rate for that interval, never
 *    a negative one;
 *  - a changed start time is a restart: no rate from the previous sample;
 *  - an entity first seen or restarted whose start time is after the
 *    previous batch is rated from its start (its counters began at zero
 *    then), as metrics-server does: a new pod has a rate after one
 *    resolution;
 *  - cpu/usage_rate is an int in millicores (rounded), the others floats
 *    per second.
 */
#ifndef PROC_RATE_H
#define PROC_RATE_H

#include <stdint.h>

#include "batch.h"

#define PROC_RATE_EXPIRE 3

struct proc_rate_entry;

struct proc_rates {
	struct hc_map            index;     /* entity key -> entry index */
	struct proc_rate_entry  *entries;
	uint32_t                 nentries, cap;
	uint32_t                *free_list;
	uint32_t                 nfree;
	uint32_t                 generation;
	int64_t                  last_batch_ms;   /* time of the previous batch */
	uint64_t                 resets;    /* counters seen going down */
	uint64_t                 restarts;  /* start times seen changing */
};

int  proc_rates_init(struct proc_rates *r);
void proc_rates_free(struct proc_rates *r);

/*
 * Adds the rate metrics to every set of b that has counters, updates the
 * state with b's samples and forgets entities gone for too long.  b must be
 * grouped; on return it is not (values were appended).  0 or -ENOMEM.
 */
int proc_rates_apply(struct proc_rates *r, struct hc_batch *b);

/* Number of entities tracked. */
uint32_t proc_rates_size(const struct proc_rates *r);

#endif
