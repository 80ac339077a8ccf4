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
 * opts may be NULL (Heapster's defaults).  0 or -ENOMEM.
 */
/*
 * Heapster's label options: pod labels are joined as "k:v" with `separator`
 * (--label_separator, default ","), keys in `ignore` (--ignore_label) left
 * out, and each `store` entry (--store_label=NAME or NAME=KEY) copied as a
 * label of its own named NAME with the value of pod label KEY.
 */
#define PROC_MAX_LABEL_OPTS 16
struct proc_label_opts {
	const char *separator;
	const char *ignore[PROC_MAX_LABEL_OPTS];
	int         nignore;
	const char *store_name[PROC_MAX_LABEL_OPTS];
	const char *store_key[PROC_MAX_LABEL_OPTS];
	int         nstore;
};

int proc_enrich_pods(struct hc_batch *b, const struct hc_batch *meta,
		     const struct proc_label_opts *opts);

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
