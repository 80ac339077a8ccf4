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

#include "batch.h"

/* Runs every aggregator on b.  0 or -ENOMEM. */
int proc_aggregate(struct hc_batch *b);

#endif
