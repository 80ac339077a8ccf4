/*
 * metrics.h - the table of every metric heapster-c knows (REFERENCE §4).
 *
 * The table is the single source of truth for metric names, kinds, value
 * types and units: the scraper and processor emit metrics by their id
 * (HC_M_*), the store and the queue codec carry the id, and the API's schema
 * route and the exporters read names and units from here.  Ids are indexes
 * into hc_metric_table and are stable within one build; the wire formats
 * (queue stream, store values) carry the name dictionary with the data, so
 * a process never trusts another build's ids.
 */
#ifndef HC_METRICS_H
#define HC_METRICS_H

#include <stdint.h>

enum hc_kind { HC_GAUGE = 0, HC_CUMULATIVE = 1, HC_DELTA = 2 };
enum hc_vtype { HC_INT = 0, HC_FLOAT = 1 };

struct hc_metric_def {
	const char   *name;
	uint8_t       kind;      /* enum hc_kind */
	uint8_t       type;      /* enum hc_vtype */
	const char   *units;     /* Heapster's unit names: bytes, count, ms, ns, millicores... */
	const char   *description;
};

/* X-macro: id, name, kind, type, units, description. */
#define HC_METRICS(X) \
	X(UPTIME, "uptime", HC_CUMULATIVE, HC_INT, "ms", "Number of milliseconds since the container was started") \
	X(CPU_USAGE, "cpu/usage", HC_CUMULATIVE, HC_INT, "ns", "Cumulative CPU usage on all cores") \
	X(CPU_USAGE_RATE, "cpu/usage_rate", HC_GAUGE, HC_INT, "millicores", "CPU usage on all cores in millicores") \
	X(CPU_REQUEST, "cpu/request", HC_GAUGE, HC_INT, "millicores", "CPU request (the guaranteed amount of resources) in millicores") \
	X(CPU_LIMIT, "cpu/limit", HC_GAUGE, HC_INT, "millicores", "CPU hard limit in millicores") \
	X(CPU_NODE_CAPACITY, "cpu/node_capacity", HC_GAUGE, HC_FLOAT, "millicores", "CPU capacity of a node") \
	X(CPU_NODE_ALLOCATABLE, "cpu/node_allocatable", HC_GAUGE, HC_FLOAT, "millicores", "CPU allocatable of a node") \
	X(CPU_NODE_RESERVATION, "cpu/node_reservation", HC_GAUGE, HC_FLOAT, "count", "Share of cpu that is reserved on the node allocatable") \
	X(CPU_NODE_UTILIZATION, "cpu/node_utilization", HC_GAUGE, HC_FLOAT, "count", "CPU utilization as a share of node allocatable") \
	X(MEM_USAGE, "memory/usage", HC_GAUGE, HC_INT, "bytes", "Total memory usage") \
	X(MEM_WORKING_SET, "memory/working_set", HC_GAUGE, HC_INT, "bytes", "Total working set usage. Working set is the memory being used and not easily dropped by the kernel") \
	X(MEM_RSS, "memory/rss", HC_GAUGE, HC_INT, "bytes", "RSS memory usage") \
	X(MEM_PAGE_FAULTS, "memory/page_faults", HC_CUMULATIVE, HC_INT, "count", "Number of page faults") \
	X(MEM_MAJOR_PAGE_FAULTS, "memory/major_page_faults", HC_CUMULATIVE, HC_INT, "count", "Number of major page faults") \
	X(MEM_PAGE_FAULTS_RATE, "memory/page_faults_rate", HC_GAUGE, HC_FLOAT, "count", "Rate of page faults in counts per second") \
	X(MEM_MAJOR_PAGE_FAULTS_RATE, "memory/major_page_faults_rate", HC_GAUGE, HC_FLOAT, "count", "Rate of major page faults in counts per second") \
	X(MEM_REQUEST, "memory/request", HC_GAUGE, HC_INT, "bytes", "Memory request (the guaranteed amount of resources) in bytes") \
	X(MEM_LIMIT, "memory/limit", HC_GAUGE, HC_INT, "bytes", "Memory hard limit in bytes") \
	X(MEM_NODE_CAPACITY, "memory/node_capacity", HC_GAUGE, HC_FLOAT, "bytes", "Memory capacity of a node") \
	X(MEM_NODE_ALLOCATABLE, "memory/node_allocatable", HC_GAUGE, HC_FLOAT, "bytes", "Memory allocatable of a node") \
	X(MEM_NODE_RESERVATION, "memory/node_reservation", HC_GAUGE, HC_FLOAT, "count", "Share of memory that is reserved on the node allocatable") \
	X(MEM_NODE_UTILIZATION, "memory/node_utilization", HC_GAUGE, HC_FLOAT, "count", "Memory utilization as a share of memory allocatable") \
	X(NET_RX, "network/rx", HC_CUMULATIVE, HC_INT, "bytes", "Cumulative number of bytes received over the network") \
	X(NET_RX_ERRORS, "network/rx_errors", HC_CUMULATIVE, HC_INT, "count", "Cumulative number of errors while receiving over the network") \
	X(NET_TX, "network/tx", HC_CUMULATIVE, HC_INT, "bytes", "Cumulative number of bytes sent over the network") \
	X(NET_TX_ERRORS, "network/tx_errors", HC_CUMULATIVE, HC_INT, "count", "Cumulative number of errors while sending over the network") \
	X(NET_RX_RATE, "network/rx_rate", HC_GAUGE, HC_FLOAT, "bytes", "Number of bytes received over the network per second") \
	X(NET_RX_ERRORS_RATE, "network/rx_errors_rate", HC_GAUGE, HC_FLOAT, "count", "Number of errors while receiving over the network per second") \
	X(NET_TX_RATE, "network/tx_rate", HC_GAUGE, HC_FLOAT, "bytes", "Number of bytes sent over the network per second") \
	X(NET_TX_ERRORS_RATE, "network/tx_errors_rate", HC_GAUGE, HC_FLOAT, "count", "Number of errors while sending over the network per second") \
	X(FS_USAGE, "filesystem/usage", HC_GAUGE, HC_INT, "bytes", "Total number of bytes consumed on a filesystem") \
	X(FS_LIMIT, "filesystem/limit", HC_GAUGE, HC_INT, "bytes", "The total size of filesystem in bytes") \
	X(FS_AVAILABLE, "filesystem/available", HC_GAUGE, HC_INT, "bytes", "The number of available bytes remaining in a the filesystem") \
	X(FS_INODES, "filesystem/inodes", HC_GAUGE, HC_INT, "count", "The number of available inodes in a the filesystem") \
	X(FS_INODES_FREE, "filesystem/inodes_free", HC_GAUGE, HC_INT, "count", "The number of free inodes remaining in a the filesystem") \
	X(EPH_USAGE, "ephemeral_storage/usage", HC_GAUGE, HC_INT, "bytes", "Ephemeral storage usage") \
	X(EPH_REQUEST, "ephemeral_storage/request", HC_GAUGE, HC_INT, "bytes", "Ephemeral storage request (the guaranteed amount of resources) in bytes") \
	X(EPH_LIMIT, "ephemeral_storage/limit", HC_GAUGE, HC_INT, "bytes", "Ephemeral storage hard limit in bytes") \
	X(EPH_NODE_CAPACITY, "ephemeral_storage/node_capacity", HC_GAUGE, HC_FLOAT, "bytes", "Ephemeral storage capacity of a node") \
	X(EPH_NODE_ALLOCATABLE, "ephemeral_storage/node_allocatable", HC_GAUGE, HC_FLOAT, "bytes", "Ephemeral storage allocatable of a node") \
	X(EPH_NODE_RESERVATION, "ephemeral_storage/node_reservation", HC_GAUGE, HC_FLOAT, "count", "Share of ephemeral storage that is reserved on the node allocatable") \
	X(EPH_NODE_UTILIZATION, "ephemeral_storage/node_utilization", HC_GAUGE, HC_FLOAT, "count", "Ephemeral storage utilization as a share of ephemeral storage allocatable") \
	X(ACC_MEMORY_TOTAL, "accelerator/memory_total", HC_GAUGE, HC_INT, "bytes", "Memory capacity of an accelerator") \
	X(ACC_MEMORY_USED, "accelerator/memory_used", HC_GAUGE, HC_INT, "bytes", "Memory used of an accelerator") \
	X(ACC_DUTY_CYCLE, "accelerator/duty_cycle", HC_GAUGE, HC_INT, "count", "Duty cycle of an accelerator") \
	X(RESTART_COUNT, "restart_count", HC_GAUGE, HC_INT, "count", "Number of container restarts") \
	X(POD_COUNT, "pod_count", HC_GAUGE, HC_INT, "count", "Number of running pods of a workload") \
	X(DISK_IO_READ, "disk/io_read_bytes", HC_CUMULATIVE, HC_INT, "bytes", "Cumulative number of bytes read over disk") \
	X(DISK_IO_WRITE, "disk/io_write_bytes", HC_CUMULATIVE, HC_INT, "bytes", "Cumulative number of bytes written over disk") \
	X(DISK_IO_READ_RATE, "disk/io_read_bytes_rate", HC_GAUGE, HC_FLOAT, "bytes", "Number of bytes read over disk per second") \
	X(DISK_IO_WRITE_RATE, "disk/io_write_bytes_rate", HC_GAUGE, HC_FLOAT, "bytes", "Number of bytes written over disk per second")

enum hc_metric_id {
#define HC_METRIC_ENUM(id, name, kind, type, units, desc) HC_M_##id,
	HC_METRICS(HC_METRIC_ENUM)
#undef HC_METRIC_ENUM
	HC_M_COUNT
};

extern const struct hc_metric_def hc_metric_table[HC_M_COUNT];

/* Id of a table metric by name, or -1 (custom and <resource>/request metrics). */
int hc_metric_lookup(const char *name, size_t len);

/*
 * Heapster's metric name aliases of the model API (cpu-usage ->
 * cpu/usage_rate, ...).  Returns the canonical name, or `name` itself.
 */
const char *hc_metric_alias(const char *name);

/* Entity types, the value of the "type" label. */
#define HC_TYPE_POD_CONTAINER "pod_container"
#define HC_TYPE_POD           "pod"
#define HC_TYPE_NS            "ns"
#define HC_TYPE_NODE          "node"
#define HC_TYPE_SYS_CONTAINER "sys_container"
#define HC_TYPE_CLUSTER       "cluster"
/* Workload entity types (beyond Heapster): the kind in lower case. */
#define HC_TYPE_DEPLOYMENT    "deployment"
#define HC_TYPE_REPLICASET    "replicaset"
#define HC_TYPE_STATEFULSET   "statefulset"
#define HC_TYPE_DAEMONSET     "daemonset"
#define HC_TYPE_JOB           "job"
#define HC_TYPE_CRONJOB       "cronjob"
#define HC_TYPE_RC            "replicationcontroller"

/* Label names of REFERENCE §4. */
#define HC_L_TYPE            "type"
#define HC_L_POD_ID          "pod_id"
#define HC_L_POD_NAME        "pod_name"
#define HC_L_NAMESPACE_NAME  "namespace_name"
#define HC_L_NAMESPACE_ID    "namespace_id"
#define HC_L_CONTAINER_NAME  "container_name"
#define HC_L_CONTAINER_IMAGE "container_base_image"
#define HC_L_LABELS          "labels"
#define HC_L_NODENAME        "nodename"
#define HC_L_HOSTNAME        "hostname"
#define HC_L_HOST_ID         "host_id"
#define HC_L_RESOURCE_ID     "resource_id"
#define HC_L_WORKLOAD_NAME   "workload_name"   /* workload sets only */

#endif
