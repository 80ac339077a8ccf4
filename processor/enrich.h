/*
 * enrich.h - what the API server knows about pods, namespaces and nodes,
 * joined onto the metrics (REFERENCE §3 steps 2, 3 and 8, and the workload
 * aggregation Heapster never had).  The metadata comes from the scraper as
 * a batch of its own (common/meta.h).
 */
#ifndef PROC_ENRICH_H
#define PROC_ENRICH_H

#include "batch.h"

/*
 * Pod and namespace enrichers, before aggregation: copies pod_id, labels,
 * container_base_image and namespace_id onto the metric sets; adds the
 * containers' requests, limits and restart counts; creates request/limit
 * only sets for a scraped pod's spec containers that have no stats.
 * 0 or -ENOMEM.
 */
int proc_enrich_pods(struct hc_batch *b, const struct hc_batch *meta);

/*
 * Node autoscaling enricher, after aggregation: node labels, capacity and
 * allocatable, utilization (usage / allocatable) and reservation (requests /
 * allocatable) for cpu, memory and ephemeral storage; ratios skipped when
 * allocatable is 0 or unknown.  0 or -ENOMEM.
 */
int proc_enrich_nodes(struct hc_batch *b, const struct hc_batch *meta);

/*
 * Workload aggregation, after the pod aggregator: every pod whose metadata
 * names a workload is summed into "namespace:NS/<kind>:<name>" (type label =
 * kind) with the namespace aggregator's metrics and pod_count.
 * 0 or -ENOMEM.
 */
int proc_aggregate_workloads(struct hc_batch *b, const struct hc_batch *meta);

#endif
