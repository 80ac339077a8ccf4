/*
 * meta.h - cluster metadata as the scraper hands it to the processor.
 *
 * The scraper owns the API server connection.  Besides the metrics batch it
 * sends, each resolution and just before it, a *metadata batch*: an ordinary
 * struct hc_batch (same codec, same queue) streamed as HC_MSG_META_CHUNK
 * messages, whose sets describe the cluster's objects rather than samples:
 *
 *   node:N                     labels: type=node, nodename, hostname,
 *                                host_id (only when not empty), labels
 *                                ("k:v" pairs, sorted, joined by ",")
 *                              values: cpu/node_capacity, cpu/node_allocatable
 *                                (millicores), memory/node_capacity,
 *                                memory/node_allocatable, ephemeral_storage/
 *                                node_capacity, node_allocatable (bytes), floats
 *   namespace:NS               labels: type=ns, namespace_name, namespace_id
 *   namespace:NS/pod:P         labels: type=pod, namespace_name, pod_name,
 *                                pod_id, nodename, labels, and the
 *                                HC_META_WORKLOAD_* labels below
 *                              create_ms = creationTimestamp,
 *                              start_ms = status.startTime
 *   namespace:NS/pod:P/container:C
 *                              labels: type=pod_container, container_name,
 *                                container_base_image, and nothing else: the
 *                                pod's labels (namespace_name, pod_name,
 *                                pod_id, labels, ...) are only on the pod's
 *                                set, and the processor copies them onto
 *                                each of its containers
 *                              values (ints): cpu/request, cpu/limit
 *                                (millicores), memory/request, memory/limit,
 *                                ephemeral_storage/request, limit (bytes),
 *                                restart_count: each one only when it is not
 *                                0 -- an absent one of these seven means 0,
 *                                and the processor gives every container all
 *                                seven (Heapster's 0 when unset); plus
 *                                "<resource>/request" for other requested
 *                                resources (sent even when 0)
 *
 * Only running pods are listed.  Labels are sent once per object: a
 * container set repeating its pod's labels made the metadata of 5,000 nodes
 * x 30 pods 129.6 MB per resolution.  The HC_META_* labels are for the
 * processor (workload aggregation) and are not copied onto exported sets.
 */
#ifndef HC_META_H
#define HC_META_H

/*
 * The top-level workload: a ReplicaSet owned by a Deployment resolves to the
 * Deployment, a Job owned by a CronJob to the CronJob.  Kinds in lower case:
 * deployment, replicaset, statefulset, daemonset, job, cronjob,
 * replicationcontroller.
 */
#define HC_META_WORKLOAD_KIND "workload_kind"
#define HC_META_WORKLOAD_NAME "workload_name"

#endif
