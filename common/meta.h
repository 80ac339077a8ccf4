/*
 * meta.h - cluster metadata as the scraper hands it to the processor.
 *
 * The scraper owns the API server connection.  Besides the metrics batch it
 * sends, each resolution and just before it, a *metadata batch*: an ordinary
 * struct hc_batch (same codec, same queue) streamed as HC_MSG_META_CHUNK
 * messages, whose sets describe the cluster's objects rather than samples:
 *
 *   node:N                     labels: type=node, nodename, hostname, host_id,
 *                                labels ("k:v" pairs, sorted, joined by ",")
 *                              values: cpu/node_capacity, cpu/node_allocatable
 *                                (millicores), memory/node_capacity,
 *                                memory/node_allocatable, ephemeral_storage/
 *                                node_capacity, node_allocatable (bytes), floats
 *   namespace:NS               labels: type=ns, namespace_name, namespace_id
 *   namespace:NS/pod:P         labels: type=pod, namespace_name, pod_name,
 *                                pod_id, nodename, labels, and the
 *                                HC_META_* workload labels below
 *                              create_ms = creationTimestamp,
 *                              start_ms = status.startTime
 *   namespace:NS/pod:P/container:C
 *                              labels: type=pod_container, container_name,
 *                                container_base_image, + the pod's labels
 *                              values (ints): cpu/request, cpu/limit
 *                                (millicores), memory/request, memory/limit,
 *                                ephemeral_storage/request, limit (bytes; 0
 *                                when unset), "<resource>/request" for other
 *                                resources, restart_count
 *
 * Only running pods are listed.  The HC_META_* labels are for the processor
 * (workload aggregation) and are not copied onto exported sets.
 */
#ifndef HC_META_H
#define HC_META_H

/* The pod's controller owner reference as the pod names it. */
#define HC_META_OWNER_KIND    "owner_kind"     /* ReplicaSet, StatefulSet, ... */
#define HC_META_OWNER_NAME    "owner_name"
/*
 * The top-level workload: a ReplicaSet owned by a Deployment resolves to the
 * Deployment, a Job owned by a CronJob to the CronJob.  Kinds in lower case:
 * deployment, replicaset, statefulset, daemonset, job, cronjob,
 * replicationcontroller.
 */
#define HC_META_WORKLOAD_KIND "workload_kind"
#define HC_META_WORKLOAD_NAME "workload_name"

#endif
