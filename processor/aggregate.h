/*
 * aggregate.h - Heapster's aggregators: container -> pod -> namespace ->
 * cluster (REFERENCE §3 steps 4, 5 and 7), and pods -> node for requests
 * and limits (step 6).
 *
 * Pod: each container gauge (not cumulative, not uptime, unlabeled) is
 * summed into its pod, unless the pod already has that metric from the
 * source (the kubelet reports pod cpu and memory itself).  Namespace: the
 * pods' cpu/usage_rate, memory/usage, cpu and memory requests and limits.
 * Cluster: the namespaces' sums.  Node: the pods' requests and limits.
 * Sets the aggregators create get Heapster's labels (type, names).
 */
#ifndef PROC_AGGREGATE_H
#define PROC_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

/* Runs every aggregator on b.  0 or -ENOMEM. */
int proc_aggregate(struct hc_batch *b);

/* What the namespace aggregator sums (and the workload aggregator too). */
extern const uint16_t proc_ns_metrics[6];

/*
 * Writes the key of set `set`'s parent into buf; returns its length, or
 * <= 0 when the set has no parent.
 */
typedef int (*proc_key_fn)(void *ctx, const struct hc_batch *b, uint32_t set,
			   char *buf, size_t cap);

#define PROC_NO_COUNT UINT32_MAX

/*
 * Sums `metrics` of every set of type `child_type` into the parent set that
 * key_of names (created with type parent_type, or, when parent_type is NULL,
 * the kind a workload key names, when `create`; else only existing ones).
 * A value the parent already has from its source is kept.  Unless
 * count_metric is PROC_NO_COUNT, each parent also gets the number of its
 * children as that metric.  A parent's new values are appended in one run
 * (batch.h: no regrouping for new parents).  0 or -ENOMEM.
 */
int proc_sum_into(struct hc_batch *b, const char *child_type, proc_key_fn key_of,
		  void *ctx, const char *parent_type, const uint16_t *metrics,
		  size_t nm, int create, uint32_t count_metric);

#endif
