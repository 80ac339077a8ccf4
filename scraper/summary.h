/*
 * summary.h - kubelet /stats/summary -> metric sets of a batch (REFERENCE §2).
 *
 * scr_summary_parse() validates one node's summary body completely before
 * it touches the batch (see json.h), then maps it in one walk: the node set
 * "node:<n>", its system containers "node:<n>/container:<c>" (runtime ->
 * docker-daemon, misc -> system), pods "namespace:<ns>/pod:<p>" and their
 * containers "namespace:<ns>/pod:<p>/container:<c>".  Field order in the
 * body does not matter.  Every numeric field is optional: a field that is
 * missing, null or not a non-negative number gives no metric; unknown
 * fields are skipped.
 *
 * Labels: node labels (nodename, hostname, host_id) come from the API
 * server's view of the node (struct scr_node); the node set's key uses the
 * summary's own nodeName (as Heapster did), falling back to node->name.
 */
#ifndef SCR_SUMMARY_H
#define SCR_SUMMARY_H

#include <stddef.h>

#include "batch.h"
#include "nodes.h"

/* Label names of accelerator metrics (not among the HC_L_* constants). */
#define SCR_L_MAKE           "make"
#define SCR_L_MODEL          "model"
#define SCR_L_ACCELERATOR_ID "accelerator_id"

/*
 * Adds the metric sets of one summary to b.  node->now_ms is the time the
 * body was fetched (uptime = now - startTime); 0 means hc_now_ms().
 * Returns 0, HC_ERR_PARSE (not JSON, truncated, nested deeper than
 * SCR_JSON_MAX_DEPTH, or not a summary: no "node" object) with b unchanged,
 * or -ENOMEM with this body's additions rolled back.
 */
int scr_summary_parse(const char *json, size_t len, const struct scr_node *node,
		      struct hc_batch *b);

#endif
