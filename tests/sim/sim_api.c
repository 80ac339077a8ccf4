/*
 * sim_api.c - the simulated Kubernetes API server (prefix api_).
 *
 * Serves core/v1 nodes, pods and namespaces as compact JSON, the way a real
 * API server does: lists ({"kind":"NodeList",...,"items":[...]}) with
 * ?limit/&continue paging, single objects, and watches (?watch=true or
 * /api/v1/watch/...) streamed with chunked transfer encoding.
 *
 * Objects are addressed by a "global index": node i; pod i*P+j (so a pod's
 * namespace is simply index % K); namespace k.  A continue token is the
 * base64url of {"v":"meta.k8s.io/v1","rv":RV,"start":"INDEX"} like the real
 * one.  Watches replay the model's event ring (one event per resourceVersion)
 * from the requested resourceVersion; without one (or "0") they first send
 * ADDED for every current object.  A watch whose position fell out of the
 * ring (or was compacted away by /sim/expire) gets a 410 Expired ERROR
 * event, or an HTTP 410 after /sim/expire?as=status.  With
 * allowWatchBookmarks=true a caught-up stream gets a BOOKMARK every
 * --bookmark-interval seconds and one before its timeoutSeconds end.
 * Streams are produced incrementally (a bounded amount per write
 * readiness) by watch_produce().  Lists and watches are counted per kind
 * for /sim/stats.
 */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT_JSON "application/json"
#define WATCH_BUDGET (256 * 1024)
#define MAX_SEGS 8

/* ------------------------------------------------------------ formatting */

static char *fmt_cpu_qty(char *p, uint32_t m)
{
    if (m % 1000 == 0)
        return fmt_u64(p, m / 1000);
    p = fmt_u64(p, m);
    *p++ = 'm';
    return p;
}

static char *fmt_mem_qty(char *p, uint64_t bytes)
{
    if (bytes % ((uint64_t)1 << 30) == 0) {
        p = fmt_u64(p, bytes >> 30);
        P_LIT(p, "Gi");
    } else if (bytes % ((uint64_t)1 << 20) == 0) {
        p = fmt_u64(p, bytes >> 20);
        P_LIT(p, "Mi");
    } else {
        p = fmt_u64(p, bytes);
    }
    return p;
}

static char *fmt_quoted_time(char *p, int64_t t)
{
    *p++ = '"';
    p = fmt_rfc3339(p, t);
    *p++ = '"';
    return p;
}

static char *fmt_sha(char *p, uint64_t h)
{
    for (int k = 0; k < 4; k++) {
        h = model_hash(99, h, (uint64_t)k, 0);
        p = fmt_hex(p, h, 8);
    }
    return p;
}

/* ------------------------------------------------------------------ nodes */

void api_render_node(sb *b, uint32_t i, uint64_t rv, bool ready, bool typed, int64_t now)
{
    char *p = sb_reserve(b, 4096), name[32], ip[32];
    size_t nl = (size_t)(model_node_name(name, i) - name), il = (size_t)(model_node_ip(ip, i) - ip);
    int64_t boot = sim->start - 86400;

    *p++ = '{';
    if (typed)
        P_LIT(p, "\"kind\":\"Node\",\"apiVersion\":\"v1\",");
    P_LIT(p, "\"metadata\":{\"name\":\"");
    p = fmt_mem(p, name, nl);
    P_LIT(p, "\",\"uid\":\"");
    p = model_uid(p, UID_NODE, i, 0, 0);
    P_LIT(p, "\",\"resourceVersion\":\"");
    p = fmt_u64(p, rv);
    P_LIT(p, "\",\"creationTimestamp\":");
    p = fmt_quoted_time(p, boot);
    P_LIT(p, ",\"labels\":{\"beta.kubernetes.io/arch\":\"amd64\",\"beta.kubernetes.io/os\":\"linux\","
             "\"kubernetes.io/arch\":\"amd64\",\"kubernetes.io/hostname\":\"");
    p = fmt_mem(p, name, nl);
    P_LIT(p, "\",\"kubernetes.io/os\":\"linux\",\"node.kubernetes.io/instance-type\":\"sim-4c16g\","
             "\"topology.kubernetes.io/zone\":\"sim-zone-");
    p = fmt_u64(p, i % 3);
    P_LIT(p, "\"},\"annotations\":{\"node.alpha.kubernetes.io/ttl\":\"0\","
             "\"volumes.kubernetes.io/controller-managed-attach-detach\":\"true\"}},");
    P_LIT(p, "\"spec\":{\"podCIDR\":\"10.");
    {
        char *c0 = p;
        p = fmt_u64(p, i >> 8);
        *p++ = '.';
        p = fmt_u64(p, i & 255);
        P_LIT(p, ".0/24");
        size_t cl = (size_t)(p - c0);
        P_LIT(p, "\",\"podCIDRs\":[\"10.");
        memmove(p, c0, cl);
        p += cl;
    }
    P_LIT(p, "\"],\"providerID\":\"sim://");
    p = fmt_mem(p, name, nl);
    P_LIT(p, "\"},\"status\":{\"capacity\":{\"cpu\":\"4\",\"ephemeral-storage\":\"100Gi\","
             "\"hugepages-1Gi\":\"0\",\"hugepages-2Mi\":\"0\",\"memory\":\"16Gi\",\"pods\":\"110\"},"
             "\"allocatable\":{\"cpu\":\"3800m\",\"ephemeral-storage\":\"95Gi\",\"hugepages-1Gi\":\"0\","
             "\"hugepages-2Mi\":\"0\",\"memory\":\"15Gi\",\"pods\":\"110\"},\"conditions\":[");
    {
        static const char *const cond[3][3] = {
            {"MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"},
            {"DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
            {"PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"},
        };
        for (int k = 0; k < 4; k++) {
            P_LIT(p, "{\"type\":\"");
            p = fmt_str(p, k < 3 ? cond[k][0] : "Ready");
            P_LIT(p, "\",\"status\":\"");
            p = fmt_str(p, k < 3 ? "False" : ready ? "True" : "False");
            P_LIT(p, "\",\"lastHeartbeatTime\":");
            p = fmt_quoted_time(p, now);
            P_LIT(p, ",\"lastTransitionTime\":");
            p = fmt_quoted_time(p, boot + 30);
            P_LIT(p, ",\"reason\":\"");
            p = fmt_str(p, k < 3 ? cond[k][1] : ready ? "KubeletReady" : "KubeletNotReady");
            P_LIT(p, "\",\"message\":\"");
            p = fmt_str(p, k < 3 ? cond[k][2]
                           : ready ? "kubelet is posting ready status"
                                   : "container runtime network not ready (simulated fault)");
            P_LIT(p, "\"}");
            if (k < 3)
                *p++ = ',';
        }
    }
    P_LIT(p, "],\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"");
    p = fmt_mem(p, ip, il);
    P_LIT(p, "\"},{\"type\":\"Hostname\",\"address\":\"");
    p = fmt_mem(p, name, nl);
    P_LIT(p, "\"}],\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":");
    p = fmt_u64(p, sim->o.kubelet_port);
    P_LIT(p, "}},\"nodeInfo\":{\"machineID\":\"");
    p = fmt_hex(p, model_hash(UID_MACHINE, i, 0, 0), 8);
    p = fmt_hex(p, model_hash(UID_MACHINE, i, 1, 0), 8);
    P_LIT(p, "\",\"systemUUID\":\"");
    p = model_uid(p, UID_MACHINE, i, 2, 0);
    P_LIT(p, "\",\"bootID\":\"");
    p = model_uid(p, UID_BOOT, i, 0, 0);
    P_LIT(p, "\",\"kernelVersion\":\"6.1.0-sim\",\"osImage\":\"Debian GNU/Linux 12 (bookworm)\","
             "\"containerRuntimeVersion\":\"containerd://2.2.1\",\"kubeletVersion\":\"v1.35.0\","
             "\"kubeProxyVersion\":\"\",\"operatingSystem\":\"linux\",\"architecture\":\"amd64\"},"
             "\"images\":[{\"names\":[\"registry.k8s.io/pause:3.10.1\"],\"sizeBytes\":265458},"
             "{\"names\":[\"registry.k8s.io/kube-proxy:v1.35.0\"],\"sizeBytes\":22430585}]}}");
    sb_commit(b, p);
}

/* ------------------------------------------------------------------- pods */

static char *fmt_resources(char *p, const model_ctr *c)
{
    P_LIT(p, "\"resources\":{");
    if (c->cpu_limit_m || c->mem_limit) {
        P_LIT(p, "\"limits\":{");
        if (c->cpu_limit_m) {
            P_LIT(p, "\"cpu\":\"");
            p = fmt_cpu_qty(p, c->cpu_limit_m);
            *p++ = '"';
            if (c->mem_limit)
                *p++ = ',';
        }
        if (c->mem_limit) {
            P_LIT(p, "\"memory\":\"");
            p = fmt_mem_qty(p, c->mem_limit);
            *p++ = '"';
        }
        P_LIT(p, "}");
        if (c->cpu_request_m)
            *p++ = ',';
    }
    if (c->cpu_request_m) {
        P_LIT(p, "\"requests\":{\"cpu\":\"");
        p = fmt_cpu_qty(p, c->cpu_request_m);
        P_LIT(p, "\",\"memory\":\"");
        p = fmt_mem_qty(p, c->mem_request);
        P_LIT(p, "\"}");
    }
    *p++ = '}';
    return p;
}

static char *fmt_image(char *p, const model_pod *pod, const model_ctr *c)
{
    P_LIT(p, "registry.example/app-");
    p = fmt_u64(p, pod->group);
    P_LIT(p, ":1.");
    return fmt_u64(p, c->image_minor);
}

static char *fmt_labels(char *p, const model_pod *pod, const char *owner, size_t ol)
{
    P_LIT(p, "\"labels\":{\"app\":\"");
    switch (pod->owner) {
    case OWN_REPLICASET:
        p = fmt_mem(p, owner, ol - 11);
        P_LIT(p, "\",\"pod-template-hash\":\"");
        p = fmt_str(p, pod->hash10);
        break;
    case OWN_DAEMONSET:
        p = fmt_mem(p, owner, ol);
        P_LIT(p, "\",\"controller-revision-hash\":\"");
        p = fmt_str(p, pod->hash10);
        P_LIT(p, "\",\"pod-template-generation\":\"1");
        break;
    case OWN_STATEFULSET:
        p = fmt_mem(p, owner, ol);
        P_LIT(p, "\",\"controller-revision-hash\":\"");
        p = fmt_mem(p, owner, ol);
        *p++ = '-';
        p = fmt_str(p, pod->hash10);
        P_LIT(p, "\",\"statefulset.kubernetes.io/pod-name\":\"");
        p = model_pod_name(p, pod->node, pod->idx);
        break;
    case OWN_JOB:
    case OWN_CRONJOB: {
        char uid[40];
        int kind;
        uint64_t g;
        model_pod_ref(pod, &kind, &g);
        model_obj_uid(uid, kind, g);
        if (pod->owner == OWN_CRONJOB)
            p = model_obj_name(p, KIND_CRON, pod->slot);
        else
            p = fmt_mem(p, owner, ol);
        P_LIT(p, "\",\"batch.kubernetes.io/controller-uid\":\"");
        p = fmt_mem(p, uid, 36);
        P_LIT(p, "\",\"batch.kubernetes.io/job-name\":\"");
        p = fmt_mem(p, owner, ol);
        P_LIT(p, "\",\"controller-uid\":\"");
        p = fmt_mem(p, uid, 36);
        P_LIT(p, "\",\"job-name\":\"");
        p = fmt_mem(p, owner, ol);
        break;
    }
    case OWN_RC:
        p = fmt_mem(p, owner, ol);
        break;
    default: /* a bare pod */
        P_LIT(p, "standalone-");
        p = fmt_u64(p, pod->group);
        break;
    }
    P_LIT(p, "\"}");
    return p;
}

void api_render_pod(sb *b, const model_pod *pod, uint64_t rv, bool typed)
{
    static const char *const qos[] = {"BestEffort", "Guaranteed", "Burstable"};
    char *p = sb_reserve(b, 4096 + 2048 * (size_t)pod->nctr), owner[64], pname[32];
    size_t ol = (size_t)(model_owner_name(owner, pod) - owner);
    size_t pl = (size_t)(model_pod_name(pname, pod->node, pod->idx) - pname);
    int okind;
    uint64_t og;
    bool owned = model_pod_ref(pod, &okind, &og);

    *p++ = '{';
    if (typed)
        P_LIT(p, "\"kind\":\"Pod\",\"apiVersion\":\"v1\",");
    P_LIT(p, "\"metadata\":{\"name\":\"");
    p = fmt_mem(p, pname, pl);
    if (owned && pod->owner != OWN_STATEFULSET) {
        P_LIT(p, "\",\"generateName\":\"");
        p = fmt_mem(p, owner, ol);
        *p++ = '-';
    }
    P_LIT(p, "\",\"namespace\":\"");
    p = fmt_mem(p, sim->ns_name[pod->ns], sim->ns_len[pod->ns]);
    P_LIT(p, "\",\"uid\":\"");
    p = model_uid(p, UID_POD, pod->node, pod->idx, 0);
    P_LIT(p, "\",\"resourceVersion\":\"");
    p = fmt_u64(p, rv);
    P_LIT(p, "\",\"generation\":1,\"creationTimestamp\":");
    p = fmt_quoted_time(p, pod->t0 - 1);
    *p++ = ',';
    p = fmt_labels(p, pod, owner, ol);
    if (owned) {
        P_LIT(p, ",\"ownerReferences\":[{\"apiVersion\":\"");
        p = fmt_str(p, owner_api_version(okind));
        P_LIT(p, "\",\"kind\":\"");
        p = fmt_str(p, owner_kind_name(okind));
        P_LIT(p, "\",\"name\":\"");
        p = fmt_mem(p, owner, ol);
        P_LIT(p, "\",\"uid\":\"");
        p = model_obj_uid(p, okind, og);
        P_LIT(p, "\",\"controller\":true,\"blockOwnerDeletion\":true}]");
    }
    P_LIT(p, "},");

    /* spec */
    P_LIT(p, "\"spec\":{\"volumes\":[");
    if (pod->has_data_vol)
        P_LIT(p, "{\"name\":\"data\",\"emptyDir\":{}},");
    P_LIT(p, "{\"name\":\"");
    p = fmt_str(p, pod->api_vol);
    P_LIT(p, "\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"expirationSeconds\":3607,"
             "\"path\":\"token\"}},{\"configMap\":{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":"
             "\"ca.crt\",\"path\":\"ca.crt\"}]}},{\"downwardAPI\":{\"items\":[{\"path\":\"namespace\","
             "\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.namespace\"}}]}}],"
             "\"defaultMode\":420}}],\"containers\":[");
    for (int k = 0; k < pod->nctr; k++) {
        const model_ctr *c = &pod->ctr[k];
        if (k)
            *p++ = ',';
        P_LIT(p, "{\"name\":\"");
        p = model_ctr_name(p, k);
        P_LIT(p, "\",\"image\":\"");
        p = fmt_image(p, pod, c);
        P_LIT(p, "\",\"ports\":[{\"containerPort\":");
        p = fmt_u64(p, 8080 + (uint64_t)k);
        P_LIT(p, ",\"protocol\":\"TCP\"}],");
        p = fmt_resources(p, c);
        P_LIT(p, ",\"volumeMounts\":[");
        if (pod->has_data_vol)
            P_LIT(p, "{\"name\":\"data\",\"mountPath\":\"/data\"},");
        P_LIT(p, "{\"name\":\"");
        p = fmt_str(p, pod->api_vol);
        P_LIT(p, "\",\"readOnly\":true,\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}],"
                 "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":"
                 "\"File\",\"imagePullPolicy\":\"IfNotPresent\"}");
    }
    P_LIT(p, "],\"restartPolicy\":\"");
    p = fmt_str(p, pod->owner == OWN_JOB || pod->owner == OWN_CRONJOB ? "Never" : "Always");
    P_LIT(p, "\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
             "\"serviceAccountName\":\"default\",\"serviceAccount\":\"default\",\"nodeName\":\"");
    p = model_node_name(p, pod->node);
    P_LIT(p, "\",\"securityContext\":{},\"schedulerName\":\"default-scheduler\",\"tolerations\":["
             "{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
             "\"tolerationSeconds\":300},{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":"
             "\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],\"priority\":0,"
             "\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"},");

    /* status */
    P_LIT(p, "\"status\":{\"phase\":\"Running\",\"conditions\":[");
    {
        static const char *const ct[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                                         "ContainersReady", "PodScheduled"};
        for (int k = 0; k < 5; k++) {
            P_LIT(p, "{\"type\":\"");
            p = fmt_str(p, ct[k]);
            P_LIT(p, "\",\"status\":\"True\",\"lastProbeTime\":null,\"lastTransitionTime\":");
            p = fmt_quoted_time(p, pod->t0 + (k == 2 || k == 3 ? 5 : 0));
            *p++ = '}';
            if (k < 4)
                *p++ = ',';
        }
    }
    P_LIT(p, "],\"hostIP\":\"");
    {
        char ip[32];
        size_t il = (size_t)(model_node_ip(ip, pod->node) - ip);
        p = fmt_mem(p, ip, il);
        P_LIT(p, "\",\"hostIPs\":[{\"ip\":\"");
        p = fmt_mem(p, ip, il);
    }
    P_LIT(p, "\"}],\"podIP\":\"");
    {
        char *a = p;
        P_LIT(p, "10.");
        p = fmt_u64(p, pod->node >> 8);
        *p++ = '.';
        p = fmt_u64(p, pod->node & 255);
        *p++ = '.';
        p = fmt_u64(p, pod->idx + 2);
        size_t al = (size_t)(p - a);
        P_LIT(p, "\",\"podIPs\":[{\"ip\":\"");
        memmove(p, a, al);
        p += al;
    }
    P_LIT(p, "\"}],\"startTime\":");
    p = fmt_quoted_time(p, pod->t0);
    P_LIT(p, ",\"containerStatuses\":[");
    for (int k = 0; k < pod->nctr; k++) {
        const model_ctr *c = &pod->ctr[k];
        uint64_t h = model_hash(98, pod->node, pod->idx, (uint64_t)k);
        if (k)
            *p++ = ',';
        P_LIT(p, "{\"name\":\"");
        p = model_ctr_name(p, k);
        P_LIT(p, "\",\"state\":{\"running\":{\"startedAt\":");
        p = fmt_quoted_time(p, c->t0);
        P_LIT(p, "}},\"lastState\":{");
        if (c->restarts) {
            P_LIT(p, "\"terminated\":{\"exitCode\":137,\"reason\":\"OOMKilled\",\"startedAt\":");
            p = fmt_quoted_time(p, c->t0 - 3600);
            P_LIT(p, ",\"finishedAt\":");
            p = fmt_quoted_time(p, c->t0 - 1);
            P_LIT(p, ",\"containerID\":\"containerd://");
            p = fmt_sha(p, h + 1);
            P_LIT(p, "\"}");
        }
        P_LIT(p, "},\"ready\":true,\"restartCount\":");
        p = fmt_u64(p, c->restarts);
        P_LIT(p, ",\"image\":\"");
        p = fmt_image(p, pod, c);
        P_LIT(p, "\",\"imageID\":\"registry.example/app-");
        p = fmt_u64(p, pod->group);
        P_LIT(p, "@sha256:");
        p = fmt_sha(p, (uint64_t)pod->group << 8 | c->image_minor);
        P_LIT(p, "\",\"containerID\":\"containerd://");
        p = fmt_sha(p, h);
        P_LIT(p, "\",\"started\":true");
        if (c->cpu_request_m) {
            P_LIT(p, ",\"allocatedResources\":{\"cpu\":\"");
            p = fmt_cpu_qty(p, c->cpu_request_m);
            P_LIT(p, "\",\"memory\":\"");
            p = fmt_mem_qty(p, c->mem_request);
            P_LIT(p, "\"},");
            p = fmt_resources(p, c);
        }
        *p++ = '}';
    }
    P_LIT(p, "],\"qosClass\":\"");
    p = fmt_str(p, qos[pod->qos]);
    P_LIT(p, "\"}}");
    sb_commit(b, p);
}

/* ------------------------------------------------------------- namespaces */

static void render_ns(sb *b, uint32_t k, bool typed)
{
    char *p = sb_reserve(b, 1024);

    *p++ = '{';
    if (typed)
        P_LIT(p, "\"kind\":\"Namespace\",\"apiVersion\":\"v1\",");
    P_LIT(p, "\"metadata\":{\"name\":\"");
    p = fmt_mem(p, sim->ns_name[k], sim->ns_len[k]);
    P_LIT(p, "\",\"uid\":\"");
    p = model_uid(p, UID_NS, k, 0, 0);
    P_LIT(p, "\",\"resourceVersion\":\"");
    p = fmt_u64(p, 100 + (uint64_t)k);
    P_LIT(p, "\",\"creationTimestamp\":");
    p = fmt_quoted_time(p, sim->start - 86400 - 60);
    P_LIT(p, ",\"labels\":{\"kubernetes.io/metadata.name\":\"");
    p = fmt_mem(p, sim->ns_name[k], sim->ns_len[k]);
    P_LIT(p, "\"}},\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}");
    sb_commit(b, p);
}

/* ----------------------------------------------------------------- status */

void api_status(http_conn *c, int code, const char *reason, const char *msg)
{
    sb *b = http_body(c);
    char *p = sb_reserve(b, 512 + strlen(msg) * 6);

    P_LIT(p, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
             "\"message\":\"");
    p = fmt_json_escaped(p, msg, strlen(msg));
    P_LIT(p, "\",\"reason\":\"");
    p = fmt_str(p, reason);
    P_LIT(p, "\",\"details\":{},\"code\":");
    p = fmt_u64(p, (uint64_t)code);
    P_LIT(p, "}\n");
    sb_commit(b, p);
    http_send(c, code, CT_JSON);
}

/* -------------------------------------------------------- queries/paging */

typedef struct list_q {
    int kind;
    int ns;               /* namespace filter, -1 none */
    int node;             /* spec.nodeName (pods) / metadata.name (nodes); -1 none, -2 nothing */
    int name_ns;          /* metadata.name on namespaces; -1 none, -2 nothing */
    int pod;              /* metadata.name on pods: pod index within node, -1 none */
    char oname[48];       /* metadata.name on workload objects, "" none */
    int table;            /* answer with a Table (table_wanted) */
    int include;          /* Table rows: includeObject None 0, Metadata 1, Object 2 */
    uint64_t limit;
    uint64_t start;       /* first global index (from continue) */
    uint64_t rv;          /* list rv (from continue) or watch rv */
    bool rv_given, watch, cont, bookmarks;
    int64_t timeout;
    uint32_t nodes;       /* node count the query runs against */
} list_q;

static uint64_t index_end(const list_q *q)
{
    switch (q->kind) {
    case KIND_NODE: return q->nodes;
    case KIND_POD: return (uint64_t)q->nodes * sim->o.pods;
    case KIND_NS: return sim->o.namespaces;
    default: return model_obj_count(q->kind);
    }
}

static bool oname_is(const char *want, int kind, uint64_t g)
{
    char buf[64];
    size_t n = (size_t)(model_obj_name(buf, kind, g) - buf);
    return strlen(want) == n && memcmp(want, buf, n) == 0;
}

/* next_match() for workload objects: those that exist, in the namespace,
 * with the name asked for */
static uint64_t next_owner(const list_q *q, uint64_t g)
{
    uint64_t end = index_end(q), per_ns = (uint64_t)SIM_GROUPS * model_obj_mult(q->kind), stop = end;

    if (q->name_ns == -2)
        return end;
    if (q->ns >= 0) {
        uint64_t lo = (uint64_t)q->ns * per_ns;
        if (g < lo)
            g = lo;
        stop = lo + per_ns < end ? lo + per_ns : end;
    }
    for (; g < stop; g++)
        if (model_obj_exists(q->kind, g) && (!q->oname[0] || oname_is(q->oname, q->kind, g)))
            return g;
    return end;
}

/* First index >= g that matches the query's filters, or index_end(). */
static uint64_t next_match(const list_q *q, uint64_t g)
{
    uint64_t end = index_end(q), P = sim->o.pods, K = sim->o.namespaces;

    if (KIND_IS_OWNER(q->kind))
        return next_owner(q, g);
    if (q->kind == KIND_NODE) {
        if (q->node == -2)
            return end;
        if (q->node >= 0)
            return g <= (uint64_t)q->node && (uint64_t)q->node < end ? (uint64_t)q->node : end;
        return g < end ? g : end;
    }
    if (q->kind == KIND_NS) {
        if (q->name_ns == -2)
            return end;
        if (q->name_ns >= 0)
            return g <= (uint64_t)q->name_ns && (uint64_t)q->name_ns < end ? (uint64_t)q->name_ns : end;
        return g < end ? g : end;
    }
    /* pods */
    if (q->node == -2 || q->name_ns == -2)
        return end;
    if (q->node >= 0) {
        uint64_t lo = (uint64_t)q->node * P, hi = lo + P;
        if (hi > end)
            hi = end;
        if (g < lo)
            g = lo;
        end = hi;
    }
    if (q->pod >= 0) {
        /* metadata.name=pod-i-j: exactly one index */
        uint64_t only = (uint64_t)q->node * P + (uint64_t)q->pod;
        if (g > only || only >= end || (q->ns >= 0 && only % K != (uint64_t)q->ns))
            return index_end(q);
        return only;
    }
    if (q->ns >= 0 && g < end) {
        uint64_t r = g % K;
        g += ((uint64_t)q->ns + K - r) % K;
    }
    return g < end ? g : index_end(q);
}

/* One object for a watch event or a single GET, from the live state. */
static void render_item(sb *b, int kind, uint64_t g, uint64_t rv_override, bool typed, bool ready)
{
    if (kind == KIND_NODE) {
        uint32_t i = (uint32_t)g;
        api_render_node(b, i, rv_override ? rv_override : sim->node_rv[i],
                        rv_override ? ready : model_node_ready(i), typed, http_now());
    } else if (kind == KIND_POD) {
        model_pod pod;
        uint32_t i = (uint32_t)(g / sim->o.pods), j = (uint32_t)(g % sim->o.pods);
        model_pod_get(i, j, &pod);
        api_render_pod(b, &pod, rv_override ? rv_override : model_pod_rv(i, j), typed);
    } else if (kind == KIND_NS) {
        render_ns(b, (uint32_t)g, typed);
    } else {
        owner_render(b, kind, g, rv_override, typed);
    }
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *fmt_continue(char *p, uint64_t rv, uint64_t g)
{
    char raw[128], *r = raw;
    size_t n, k;

    P_LIT(r, "{\"v\":\"meta.k8s.io/v1\",\"rv\":");
    r = fmt_u64(r, rv);
    P_LIT(r, ",\"start\":\"");
    r = fmt_u64(r, g);
    P_LIT(r, "\"}");
    n = (size_t)(r - raw);
    for (k = 0; k + 2 < n; k += 3) {
        uint32_t v = (uint32_t)(unsigned char)raw[k] << 16 | (uint32_t)(unsigned char)raw[k + 1] << 8 |
                     (unsigned char)raw[k + 2];
        *p++ = b64url[v >> 18];
        *p++ = b64url[(v >> 12) & 63];
        *p++ = b64url[(v >> 6) & 63];
        *p++ = b64url[v & 63];
    }
    if (n - k == 1) {
        uint32_t v = (uint32_t)(unsigned char)raw[k] << 16;
        *p++ = b64url[v >> 18];
        *p++ = b64url[(v >> 12) & 63];
    } else if (n - k == 2) {
        uint32_t v = (uint32_t)(unsigned char)raw[k] << 16 | (uint32_t)(unsigned char)raw[k + 1] << 8;
        *p++ = b64url[v >> 18];
        *p++ = b64url[(v >> 12) & 63];
        *p++ = b64url[(v >> 6) & 63];
    }
    return p;
}

/* Decode a continue token into (rv, start index). 0 or -EINVAL. */
static int parse_continue(const char *tok, uint64_t *rv, uint64_t *g)
{
    char raw[192];
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    const char *f;

    for (const char *s = tok; *s && *s != '='; s++) {
        const char *pos = strchr(b64url, *s);
        if (*s == '+')
            pos = b64url + 62;
        else if (*s == '/')
            pos = b64url + 63;
        if (!pos || n + 1 >= sizeof(raw))
            return -EINVAL;
        acc = acc << 6 | (uint32_t)(pos - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[n++] = (char)(acc >> bits);
        }
    }
    raw[n] = 0;
    f = strstr(raw, "\"rv\":");
    if (!f)
        return -EINVAL;
    *rv = strtoull(f + 5, NULL, 10);
    f = strstr(raw, "\"start\":\"");
    if (!f)
        return -EINVAL;
    *g = strtoull(f + 9, NULL, 10);
    return 0;
}

/* Apply one "field=value" selector term. 0 or -EINVAL. */
static int apply_selector(list_q *q, const char *term)
{
    const char *eq = strchr(term, '=');
    const char *val;
    size_t fl;
    int neg;

    if (!eq)
        return -EINVAL;
    fl = (size_t)(eq - term);
    neg = fl > 0 && term[fl - 1] == '!';
    if (neg)
        return -EINVAL; /* != is not supported */
    val = eq[1] == '=' ? eq + 2 : eq + 1;
    if (fl == 13 && memcmp(term, "spec.nodeName", 13) == 0 && q->kind == KIND_POD) {
        int i = model_node_parse(val, strlen(val));
        q->node = i >= 0 ? i : -2;
    } else if (fl == 13 && memcmp(term, "metadata.name", 13) == 0) {
        if (KIND_IS_OWNER(q->kind)) {
            if (strlen(val) >= sizeof(q->oname) || !val[0])
                q->name_ns = -2;
            else
                strcpy(q->oname, val);
        } else if (q->kind == KIND_NODE) {
            int i = model_node_parse(val, strlen(val));
            q->node = i >= 0 ? i : -2;
        } else if (q->kind == KIND_NS) {
            q->name_ns = -2;
            for (uint32_t k = 0; k < sim->o.namespaces; k++)
                if (strcmp(val, sim->ns_name[k]) == 0)
                    q->name_ns = (int)k;
        } else {
            /* pod-<i>-<j> */
            unsigned long i, j;
            char tail;
            if (sscanf(val, "pod-%lu-%lu%c", &i, &j, &tail) == 2 && i < SIM_MAX_NODES &&
                j < sim->o.pods && (q->node < 0 || (unsigned long)q->node == i)) {
                q->node = (int)i;
                q->pod = (int)j;
            } else {
                q->node = -2;
            }
        }
    } else if (fl == 18 && memcmp(term, "metadata.namespace", 18) == 0 &&
               (q->kind == KIND_POD || KIND_IS_OWNER(q->kind))) {
        int found = -2;
        for (uint32_t k = 0; k < sim->o.namespaces; k++)
            if (strcmp(val, sim->ns_name[k]) == 0)
                found = (int)k;
        if (q->ns >= 0 && found != q->ns)
            found = -2;
        if (found == -2)
            q->name_ns = -2;
        else
            q->ns = found;
    } else {
        return -EINVAL;
    }
    return 0;
}

/* Parse the query string into q. 0, or a negative code after responding. */
static int parse_query(http_conn *c, const http_req *r, list_q *q)
{
    char v[512];
    int n;

    q->table = table_wanted(r);
    q->include = 1;
    if (http_query_get(r, "includeObject", v, sizeof(v)) > 0)
        q->include = strcmp(v, "None") == 0 ? 0 : strcmp(v, "Object") == 0 ? 2 : 1;
    n = http_query_get(r, "watch", v, sizeof(v));
    if (n >= 0 && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0))
        q->watch = true;
    if (http_query_get(r, "limit", v, sizeof(v)) >= 0)
        q->limit = strtoull(v, NULL, 10);
    if (http_query_get(r, "timeoutSeconds", v, sizeof(v)) >= 0)
        q->timeout = strtoll(v, NULL, 10);
    if (http_query_get(r, "allowWatchBookmarks", v, sizeof(v)) >= 0)
        q->bookmarks = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
    if (http_query_get(r, "resourceVersion", v, sizeof(v)) > 0) {
        char *end;
        q->rv = strtoull(v, &end, 10);
        if (*end) {
            api_status(c, 400, "BadRequest", "invalid resourceVersion");
            return -EINVAL;
        }
        q->rv_given = q->rv != 0;
    }
    if (http_query_get(r, "continue", v, sizeof(v)) > 0) {
        if (parse_continue(v, &q->rv, &q->start) < 0) {
            api_status(c, 400, "BadRequest", "invalid continue token");
            return -EINVAL;
        }
        q->rv_given = true;
        q->cont = true;
    }
    if (http_query_get(r, "fieldSelector", v, sizeof(v)) > 0) {
        char *save = NULL;
        for (char *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (apply_selector(q, t) < 0) {
                char msg[600];
                snprintf(msg, sizeof(msg), "field label not supported: %s", t);
                api_status(c, 400, "BadRequest", msg);
                return -EINVAL;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- lists */

/*
 * A list is rendered from a "view" of the mutable state (resourceVersions,
 * faults, node count, heartbeat time).  Small lists use the live state and
 * are rendered straight into the response.  Big ones (more than
 * LIST_STREAM_MIN items) would need hundreds of MB of buffer, so the view is
 * a snapshot: one pass renders every item into a scratch buffer only to add
 * up the exact Content-Length, then list_produce() renders them again, a few
 * hundred KB at a time, as the socket drains.  The snapshot guarantees both
 * passes produce identical bytes even if the cluster changes meanwhile.
 */
#define LIST_STREAM_MIN 2000

typedef struct list_stream {
    list_q q;
    int64_t now;
    const uint64_t *node_rv, *pods_rv; /* live arrays or the snapshot below */
    const uint8_t *fault;
    uint64_t g;            /* next item's global index */
    uint64_t left;         /* items still to emit */
    bool first;
    int phase;             /* 0 prefix, 1 items, 2 suffix, 3 done */
    size_t prefix_len;
    char prefix[512];
    /* snapshot arrays follow when streaming */
} list_stream;

static sb g_scratch;

static void render_list_item(sb *b, const list_stream *st, uint64_t g)
{
    if (st->q.kind == KIND_NODE) {
        uint32_t i = (uint32_t)g;
        api_render_node(b, i, st->node_rv[i], st->fault[i] != FAULT_NOTREADY, false, st->now);
    } else if (st->q.kind == KIND_POD) {
        model_pod pod;
        uint32_t i = (uint32_t)(g / sim->o.pods), j = (uint32_t)(g % sim->o.pods);
        model_pod_get(i, j, &pod);
        api_render_pod(b, &pod, st->pods_rv[i] + j, false);
    } else if (st->q.kind == KIND_NS) {
        render_ns(b, (uint32_t)g, false);
    } else {
        owner_render(b, st->q.kind, g, 0, false);
    }
}

static http_produce_rc list_produce(http_conn *c)
{
    list_stream *st = c->pstate;
    sb *b = http_outbuf(c);

    switch (st->phase) {
    case 0:
        sb_put(b, st->prefix, st->prefix_len);
        st->phase = 1;
        return PRODUCE_MORE;
    case 1:
        while (st->left && http_pending(c) < WATCH_BUDGET) {
            if (!st->first)
                SB_LIT(b, ",");
            st->first = false;
            render_list_item(b, st, st->g);
            st->left--;
            st->g = next_match(&st->q, st->g + 1);
        }
        if (!st->left)
            st->phase = 2;
        return PRODUCE_MORE;
    case 2:
        SB_LIT(b, "]}\n");
        st->phase = 3;
        return PRODUCE_MORE;
    default:
        free(c->pstate);
        c->pstate = NULL;
        return PRODUCE_DONE;
    }
}

static void serve_list(http_conn *c, list_q *q)
{
    list_stream local, *st = &local;
    uint64_t rv = q->cont ? q->rv : sim->rv, end, g, n = 0, first;
    char *p;

    q->nodes = sim->node_count;
    end = index_end(q);
    first = next_match(q, q->start);
    if (!q->cont)
        sim->st.lists[q->kind]++;
    sim->st.list_pages[q->kind]++;
    for (g = first; g < end; g = next_match(q, g + 1)) { /* count; find where a page ends */
        if (q->limit && n == q->limit)
            break;
        n++;
    }
    if (q->table) { /* server-side printing: rendered in memory */
        char tok[256];
        size_t tl = g < end ? (size_t)(fmt_continue(tok, rv, g) - tok) : 0;
        sb *b = http_body(c);
        int64_t now = http_now();
        table_begin(b, q->kind, q->table, rv, tok, tl);
        for (uint64_t x = first, k = 0; k < n; k++, x = next_match(q, x + 1)) {
            g_scratch.len = 0;
            render_item(&g_scratch, q->kind, x, 0, true, true);
            if (k)
                SB_LIT(b, ",");
            table_row(b, q->kind, x, q->include, g_scratch.data, g_scratch.len, now);
        }
        table_end(b);
        SB_LIT(b, "\n");
        if (g_scratch.cap > ((size_t)1 << 20))
            sb_free(&g_scratch);
        http_send(c, 200, CT_JSON);
        return;
    }
    if (n > LIST_STREAM_MIN && !KIND_IS_OWNER(q->kind)) { /* workload lists are small */
        size_t nn = q->nodes;
        st = malloc(sizeof(*st) + nn * (2 * sizeof(uint64_t) + 1));
        if (!st) {
            api_status(c, 500, "InternalError", "out of memory");
            return;
        }
        st->node_rv = memcpy((char *)(st + 1), sim->node_rv, nn * sizeof(uint64_t));
        st->pods_rv = memcpy((char *)(st + 1) + nn * sizeof(uint64_t), sim->pods_rv, nn * sizeof(uint64_t));
        st->fault = memcpy((char *)(st + 1) + 2 * nn * sizeof(uint64_t), sim->fault, nn);
    } else {
        st->node_rv = sim->node_rv;
        st->pods_rv = sim->pods_rv;
        st->fault = sim->fault;
    }
    st->q = *q;
    st->now = http_now();
    st->g = first;
    st->left = n;
    st->first = true;
    st->phase = 0;
    p = st->prefix;
    P_LIT(p, "{\"kind\":\"");
    p = fmt_str(p, owner_kind_name(q->kind));
    P_LIT(p, "List\",\"apiVersion\":\"");
    p = fmt_str(p, owner_api_version(q->kind));
    P_LIT(p, "\",\"metadata\":{\"resourceVersion\":\"");
    p = fmt_u64(p, rv);
    *p++ = '"';
    if (g < end) { /* more remain: a continue token for the next page */
        P_LIT(p, ",\"continue\":\"");
        p = fmt_continue(p, rv, g);
        *p++ = '"';
    }
    P_LIT(p, "},\"items\":[");
    st->prefix_len = (size_t)(p - st->prefix);

    if (st == &local) { /* small: render now */
        sb *b = http_body(c);
        sb_put(b, st->prefix, st->prefix_len);
        for (g = first; st->left; st->left--, g = next_match(q, g + 1)) {
            if (g != first)
                SB_LIT(b, ",");
            render_list_item(b, st, g);
        }
        SB_LIT(b, "]}\n");
        http_send(c, 200, CT_JSON);
        return;
    }
    {   /* big: measure, then stream */
        uint64_t total = st->prefix_len + 3 + (n ? n - 1 : 0);
        for (g = first; g < end && n--; g = next_match(q, g + 1)) {
            g_scratch.len = 0;
            render_list_item(&g_scratch, st, g);
            total += g_scratch.len;
        }
        if (g_scratch.cap > ((size_t)1 << 20))
            sb_free(&g_scratch);
        c->pstate = st;
        http_send_stream(c, 200, CT_JSON, total, list_produce);
    }
}

/* ---------------------------------------------------------------- watch */

static sb g_ev; /* scratch for one watch event */

static void watch_stop(http_conn *c)
{
    http_watching(c, false);
    http_timed(c, false);
}

static void chunk_event(http_conn *c, const char *type, int kind, uint64_t g, uint64_t rv, bool ready)
{
    g_ev.len = 0;
    SB_LIT(&g_ev, "{\"type\":\"");
    sb_put(&g_ev, type, strlen(type));
    SB_LIT(&g_ev, "\",\"object\":");
    if (c->watch.table) { /* kubectl get -w: each object as a one-row Table */
        g_scratch.len = 0;
        render_item(&g_scratch, kind, g, rv, true, ready);
        table_begin(&g_ev, kind, c->watch.table, rv ? rv : sim->rv, NULL, 0);
        table_row(&g_ev, kind, g, c->watch.include, g_scratch.data, g_scratch.len, http_now());
        table_end(&g_ev);
    } else {
        render_item(&g_ev, kind, g, rv, true, ready);
    }
    SB_LIT(&g_ev, "}\n");
    http_chunk(c, g_ev.data, g_ev.len);
}

static http_produce_rc watch_expired(http_conn *c, uint64_t rv)
{
    char msg[160], *p = msg;

    g_ev.len = 0;
    P_LIT(p, "too old resource version: ");
    p = fmt_u64(p, rv);
    P_LIT(p, " (");
    p = fmt_u64(p, sim->watch_valid_rv);
    *p++ = ')';
    SB_LIT(&g_ev, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                  "\"metadata\":{},\"status\":\"Failure\",\"message\":\"");
    sb_put(&g_ev, msg, (size_t)(p - msg));
    SB_LIT(&g_ev, "\",\"reason\":\"Expired\",\"code\":410}}\n");
    http_chunk(c, g_ev.data, g_ev.len);
    http_chunk_end(c);
    watch_stop(c);
    sim->st.watches_expired++;
    return PRODUCE_DONE;
}

/* {"type":"BOOKMARK","object":{"kind":K,"apiVersion":V,"metadata":{"resourceVersion":RV}}} */
static void chunk_bookmark(http_conn *c, uint64_t rv)
{
    g_ev.len = 0;
    SB_LIT(&g_ev, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"");
    sb_put(&g_ev, owner_kind_name(c->watch.kind), strlen(owner_kind_name(c->watch.kind)));
    SB_LIT(&g_ev, "\",\"apiVersion\":\"");
    sb_put(&g_ev, owner_api_version(c->watch.kind), strlen(owner_api_version(c->watch.kind)));
    SB_LIT(&g_ev, "\",\"metadata\":{\"resourceVersion\":\"");
    {
        char num[24];
        sb_put(&g_ev, num, (size_t)(fmt_u64(num, rv) - num));
    }
    SB_LIT(&g_ev, "\"}}}\n");
    http_chunk(c, g_ev.data, g_ev.len);
}

/* Producer of a watch stream: initial dump, then events, until timeout. */
static http_produce_rc watch_produce(http_conn *c)
{
    static const char *const types[] = {"ADDED", "MODIFIED", "DELETED"};
    api_watch *w = &c->watch;
    list_q q = {.kind = w->kind, .ns = w->ns, .node = w->node, .name_ns = w->name_ns, .pod = -1,
                .nodes = sim->node_count};

    memcpy(q.oname, w->oname, sizeof(q.oname));

    if (w->gen != sim->drop_gen) { /* /sim/watch-drop: the client resumes */
        sim->st.watches_dropped++;
        watch_stop(c);
        if (sim->drop_reset) {
            http_reset(c);
            return PRODUCE_DONE;
        }
        http_chunk_end(c);
        return PRODUCE_DONE;
    }
    if (w->deadline_ms && http_now_ms() >= w->deadline_ms) {
        if (w->bookmarks && !w->dumping) /* as the API server: where to resume */
            chunk_bookmark(c, w->next_rv);
        http_chunk_end(c);
        watch_stop(c);
        return PRODUCE_DONE;
    }
    if (w->next_rv < sim->watch_valid_rv) {
        if (!sim->gone_as_status)
            return watch_expired(c, w->next_rv);
        /* end cleanly: the client's resume gets the 410 as its status */
        http_chunk_end(c);
        watch_stop(c);
        return PRODUCE_DONE;
    }
    while (w->dumping && http_pending(c) < WATCH_BUDGET) {
        uint64_t g = next_match(&q, w->dump_next);
        if (g >= index_end(&q)) {
            w->dumping = false;
            break;
        }
        chunk_event(c, "ADDED", w->kind, g, 0, true);
        w->dump_next = g + 1;
    }
    while (!w->dumping && w->next_rv < sim->rv && http_pending(c) < WATCH_BUDGET) {
        const model_event *e = model_event_at(w->next_rv + 1);
        uint64_t g;
        if (!e)
            return watch_expired(c, w->next_rv);
        w->next_rv++;
        if (e->kind != w->kind)
            continue;
        g = e->kind == KIND_POD ? (uint64_t)e->node * sim->o.pods + e->pod : e->node;
        if (KIND_IS_OWNER(w->kind)) {
            if (w->name_ns == -2 ||
                (w->ns >= 0 && g / ((uint64_t)SIM_GROUPS * model_obj_mult(w->kind)) != (uint64_t)w->ns) ||
                (w->oname[0] && !oname_is(w->oname, w->kind, g)))
                continue;
        } else if (w->kind == KIND_POD) {
            if (w->ns >= 0 && g % sim->o.namespaces != (uint64_t)w->ns)
                continue;
            if (w->node >= 0 && e->node != (uint32_t)w->node)
                continue;
            if (w->node == -2 || w->name_ns == -2)
                continue;
        } else if (w->kind == KIND_NODE) {
            if (w->node == -2 || (w->node >= 0 && e->node != (uint32_t)w->node))
                continue;
        }
        chunk_event(c, types[e->type], e->kind, g, e->rv, e->ready);
    }
    if (w->bookmarks && !w->dumping && sim->o.bookmark_interval && w->next_rv == sim->rv &&
        http_now_ms() >= w->bookmark_ms && http_pending(c) < WATCH_BUDGET) {
        chunk_bookmark(c, w->next_rv);
        w->bookmark_ms = http_now_ms() + (int64_t)sim->o.bookmark_interval * 1000;
    }
    return http_pending(c) ? PRODUCE_MORE : PRODUCE_IDLE;
}

static void serve_watch(http_conn *c, const list_q *q)
{
    api_watch *w = &c->watch;

    memset(w, 0, sizeof(*w));
    w->kind = q->kind;
    w->ns = q->ns;
    w->node = q->node;
    w->name_ns = q->name_ns;
    memcpy(w->oname, q->oname, sizeof(w->oname));
    w->table = (int8_t)q->table;
    w->include = (int8_t)q->include;
    if (q->pod >= 0) /* a single-pod watch: keep it simple, filter by node only */
        w->node = q->node;
    sim->st.watches[q->kind]++;
    if (q->rv_given && q->rv < sim->watch_valid_rv && sim->gone_as_status) {
        char msg[96], *p = msg;
        P_LIT(p, "too old resource version: ");
        p = fmt_u64(p, q->rv);
        *p = '\0';
        sim->st.watches_expired++;
        api_status(c, 410, "Expired", msg);
        return;
    }
    w->bookmarks = q->bookmarks && !q->table;
    w->gen = sim->drop_gen;
    if (w->bookmarks && sim->o.bookmark_interval)
        w->bookmark_ms = http_now_ms() + (int64_t)sim->o.bookmark_interval * 1000;
    if (q->rv_given) {
        w->next_rv = q->rv;
    } else {
        w->next_rv = sim->rv;
        w->dumping = true;
    }
    if (q->timeout > 0)
        w->deadline_ms = http_now_ms() + q->timeout * 1000;
    if (q->timeout > 0 || (w->bookmarks && sim->o.bookmark_interval))
        http_timed(c, true);
    http_watching(c, true);
    http_send_chunked(c, 200, CT_JSON, watch_produce);
}

/* ---------------------------------------------------------------- routing */

static int split_path(const http_req *r, const char **seg, size_t *len)
{
    const char *p = r->path, *end = r->path + r->path_len;
    int n = 0;

    while (p < end && n < MAX_SEGS) {
        const char *s;
        while (p < end && *p == '/')
            p++;
        if (p == end)
            break;
        s = p;
        while (p < end && *p != '/')
            p++;
        seg[n] = s;
        len[n++] = (size_t)(p - s);
    }
    return p < end ? -1 : n;
}

#define SEG_IS(k, lit) (len[k] == sizeof(lit) - 1 && memcmp(seg[k], lit, sizeof(lit) - 1) == 0)

static int ns_lookup(const char *s, size_t n)
{
    for (uint32_t k = 0; k < sim->o.namespaces; k++)
        if (sim->ns_len[k] == n && memcmp(sim->ns_name[k], s, n) == 0)
            return (int)k;
    return -1;
}

static void not_found(http_conn *c)
{
    api_status(c, 404, "NotFound", "the server could not find the requested resource");
}

static void serve_object(http_conn *c, const list_q *q, int kind, uint64_t g, const char *what,
                         const char *name)
{
    sb *b;

    if (g == UINT64_MAX) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s \"%.100s\" not found", what, name);
        api_status(c, 404, "NotFound", msg);
        return;
    }
    b = http_body(c);
    if (q->table) {
        g_scratch.len = 0;
        render_item(&g_scratch, kind, g, 0, true, true);
        table_begin(b, kind, q->table, sim->rv, NULL, 0);
        table_row(b, kind, g, q->include, g_scratch.data, g_scratch.len, http_now());
        table_end(b);
    } else {
        render_item(b, kind, g, 0, true, true);
    }
    SB_LIT(b, "\n");
    http_send(c, 200, CT_JSON);
}

/* The resources served, by API group (0 core/v1, 1 apps/v1, 2 batch/v1). */
static const struct resource {
    int group;
    const char *name, *qualified; /* "deployments", "deployments.apps" for messages */
    int kind;
    bool namespaced;
} g_res[] = {
    {0, "nodes", "nodes", KIND_NODE, false},
    {0, "pods", "pods", KIND_POD, true},
    {0, "namespaces", "namespaces", KIND_NS, false},
    {0, "replicationcontrollers", "replicationcontrollers", KIND_RC, true},
    {1, "deployments", "deployments.apps", KIND_DEPLOY, true},
    {1, "replicasets", "replicasets.apps", KIND_RS, true},
    {1, "statefulsets", "statefulsets.apps", KIND_STS, true},
    {1, "daemonsets", "daemonsets.apps", KIND_DS, true},
    {2, "jobs", "jobs.batch", KIND_JOB, true},
    {2, "cronjobs", "cronjobs.batch", KIND_CRON, true},
};

static const struct resource *find_resource(int group, const char *s, size_t n)
{
    for (size_t k = 0; k < sizeof(g_res) / sizeof(g_res[0]); k++)
        if (g_res[k].group == group && strlen(g_res[k].name) == n && memcmp(g_res[k].name, s, n) == 0)
            return &g_res[k];
    return NULL;
}

/* GET on a collection or an object of API group `group`; seg[k] is the first
 * segment after the group version ("api","v1" or "apis","apps","v1"). */
static void serve_group(http_conn *c, const http_req *r, const char **seg, size_t *len, int n,
                        int k, int group, bool watch_path)
{
    list_q q = {.ns = -1, .node = -1, .name_ns = -1, .pod = -1};
    const struct resource *res = NULL;
    char name[128];
    int ns = -1;

    if (n >= k + 3 && SEG_IS(k, "namespaces")) { /* namespaces/NS/RESOURCE[/NAME] */
        res = find_resource(group, seg[k + 2], len[k + 2]);
        if (!res || !res->namespaced) {
            not_found(c);
            return;
        }
        ns = ns_lookup(seg[k + 1], len[k + 1]);
        if (ns < 0) {
            q.name_ns = -2; /* unknown namespace: empty list, like a real server */
            ns = -1;
        }
        q.ns = ns;
        k += 3;
    } else if (n > k) {                         /* RESOURCE[/NAME] */
        res = find_resource(group, seg[k], len[k]);
        if (!res) {
            not_found(c);
            return;
        }
        k += 1;
    } else {
        not_found(c);
        return;
    }
    q.kind = res->kind;
    if (n > k + 1 || (n == k + 1 && KIND_IS_OWNER(q.kind) && q.ns < 0 && q.name_ns != -2)) {
        not_found(c); /* a workload object is only addressed within its namespace */
        return;
    }
    if (r->method != HTTP_GET) {
        api_status(c, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
        return;
    }
    if (parse_query(c, r, &q) < 0)
        return;
    if (watch_path)
        q.watch = true;
    if (n == k + 1) { /* a single object by name */
        snprintf(name, sizeof(name), "%.*s", (int)len[k], seg[k]);
        if (KIND_IS_OWNER(q.kind)) {
            int64_t g = q.name_ns == -2 ? -1 : model_obj_lookup(q.kind, ns, name);
            if (q.watch) {
                if (strlen(name) < sizeof(q.oname))
                    strcpy(q.oname, name);
                else
                    q.name_ns = -2;
                serve_watch(c, &q);
                return;
            }
            serve_object(c, &q, q.kind, g >= 0 && model_obj_exists(q.kind, (uint64_t)g) ? (uint64_t)g : UINT64_MAX,
                         res->qualified, name);
        } else if (q.kind == KIND_NODE) {
            int i = model_node_parse(name, strlen(name));
            if (q.watch) {
                q.node = i >= 0 ? i : -2;
                serve_watch(c, &q);
                return;
            }
            serve_object(c, &q, KIND_NODE, i >= 0 && (uint32_t)i < sim->node_count ? (uint64_t)i : UINT64_MAX,
                         "nodes", name);
        } else if (q.kind == KIND_NS) {
            int kk = ns_lookup(name, strlen(name));
            serve_object(c, &q, KIND_NS, kk >= 0 ? (uint64_t)kk : UINT64_MAX, "namespaces", name);
        } else {
            unsigned long i, j;
            char tail;
            uint64_t g = UINT64_MAX;
            if (sscanf(name, "pod-%lu-%lu%c", &i, &j, &tail) == 2 && i < sim->node_count &&
                j < sim->o.pods) {
                g = (uint64_t)i * sim->o.pods + j;
                if (q.ns >= 0 && g % sim->o.namespaces != (uint64_t)q.ns)
                    g = UINT64_MAX;
                if (q.name_ns == -2)
                    g = UINT64_MAX;
            }
            serve_object(c, &q, KIND_POD, g, "pods", name);
        }
        return;
    }
    if (q.watch)
        serve_watch(c, &q);
    else
        serve_list(c, &q);
}

void api_handle(http_conn *c, const http_req *r)
{
    const char *seg[MAX_SEGS];
    size_t len[MAX_SEGS];
    int n = split_path(r, seg, len), k, group = -1;

    if (n > 0 && SEG_IS(0, "sim")) {
        ctl_handle(c, r);
        return;
    }
    if (n == 1 && (SEG_IS(0, "healthz") || SEG_IS(0, "readyz") || SEG_IS(0, "livez"))) {
        http_send_simple(c, 200, "text/plain; charset=utf-8", "ok", 2);
        return;
    }
    /* the aggregation layer: the metrics.k8s.io versions live in the backend */
    if (n >= 3 && SEG_IS(0, "apis") && SEG_IS(1, "metrics.k8s.io") && proxy_on()) {
        proxy_start(c, r);
        return;
    }
    if (disc_handle(c, r))
        return;
    if (n >= 3 && SEG_IS(0, "api") && SEG_IS(1, "v1")) {
        group = 0;
        k = 2;
    } else if (n >= 4 && SEG_IS(0, "apis") && SEG_IS(2, "v1")) {
        group = SEG_IS(1, "apps") ? 1 : SEG_IS(1, "batch") ? 2 : -1;
        k = 3;
    }
    if (group < 0) {
        not_found(c);
        return;
    }
    if (SEG_IS(k, "watch")) { /* legacy .../watch/<collection> */
        for (int x = k; x + 1 < n; x++) {
            seg[x] = seg[x + 1];
            len[x] = len[x + 1];
        }
        serve_group(c, r, seg, len, n - 1, k, group, true);
    } else {
        serve_group(c, r, seg, len, n, k, group, false);
    }
}
