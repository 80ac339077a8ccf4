/*
 * resource.h - kubelet GET /metrics/resource (Prometheus text) -> metric
 * sets of a batch: the lighter source metrics-server uses (REFERENCE §2),
 * enough for kubectl top and the HPA.
 *
 *   node_cpu_usage_seconds_total            node cpu/usage (ns, cumulative)
 *   node_memory_working_set_bytes           node memory/working_set
 *   pod_cpu_usage_seconds_total{namespace,pod}        pod cpu/usage
 *   pod_memory_working_set_bytes{namespace,pod}       pod memory/working_set
 *   container_cpu_usage_seconds_total{container,namespace,pod}   cpu/usage
 *   container_memory_working_set_bytes{...}           memory/working_set
 *   container_start_time_seconds{...}       the set's start time, uptime
 *
 * A set's scrape time is its cpu sample's timestamp (ms), else its memory
 * sample's, else the fetch time.  Keys and labels are those of the summary
 * mapping (summary.h); pods get no pod_id here (the pod enricher adds it
 * from the metadata).  Other metrics (resource_scrape_error, ...) are
 * skipped.
 */
#ifndef SCR_RESOURCE_H
#define SCR_RESOURCE_H

#include <stddef.h>

#include "batch.h"
#include "nodes.h"

/*
 * Adds the sets of one /metrics/resource body to b.  The whole text is
 * checked first: 0, HC_ERR_PARSE (not the Prometheus text format, or no
 * node sample) with b unchanged, or -ENOMEM.
 */
int scr_resource_parse(const char *text, size_t len, const struct scr_node *node,
		       struct hc_batch *b);

#endif
