/*
 * sim_ctl.c - control and truth endpoints on the API port (prefix ctl_).
 *
 *   GET /sim/truth[?node=NAME][&pods=false]  exact values being served now
 *   GET /sim/stats[?per_node=false]          serving counters and CPU used
 *   GET|POST /sim/fault?node=NAME|*&kind=K   set a node's fault (none clears)
 *   GET /sim/faults                          current faults
 *   GET /sim/nodes[?count=N]                 read / change the node count
 *   GET|POST /sim/expire[?as=event|status]   compact the watch history: every
 *                                            watch from before now gets 410
 *   GET|POST /sim/watch-drop[?how=end|reset] end every open watch stream
 *
 * Truth values are computed from the same model functions the kubelet
 * renderers use, at the same whole-second time t, so a test can compare a
 * pipeline's output with them exactly (rates) or via the counter formula.
 */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define CT_JSON "application/json"

static model_pod g_pods[SIM_MAX_PODS];

/* compact JSON helpers on a cursor: ,"key":value */
#define K_U64(p, k, v) do { P_LIT(p, ",\"" k "\":"); (p) = fmt_u64((p), (v)); } while (0)
#define K_TIME(p, k, t) do { P_LIT(p, ",\"" k "\":\""); (p) = fmt_rfc3339((p), (t)); *(p)++ = '"'; } while (0)

static char *put_ctr(char *p, const model_pod *pod, int k, int64_t t)
{
    const model_ctr *c = &pod->ctr[k];

    P_LIT(p, "{\"name\":\"");
    p = model_ctr_name(p, k);
    *p++ = '"';
    K_TIME(p, "start_time", c->t0);
    P_LIT(p, ",\"image\":\"registry.example/app-");
    p = fmt_u64(p, pod->group);
    P_LIT(p, ":1.");
    p = fmt_u64(p, c->image_minor);
    *p++ = '"';
    K_U64(p, "restart_count", c->restarts);
    K_U64(p, "cpu_nanocores", c->cpu_rate);
    K_U64(p, "cpu_usage_core_nanoseconds", model_counter(c->cpu_base, c->cpu_rate, c->t0, t));
    K_U64(p, "memory_working_set", c->ws);
    K_U64(p, "memory_usage", c->usage);
    K_U64(p, "memory_rss", c->rss);
    if (c->mem_limit)
        K_U64(p, "memory_available", c->mem_limit - c->ws);
    K_U64(p, "page_faults", model_counter(c->pf_base, c->pf_rate, c->t0, t));
    K_U64(p, "page_faults_per_s", c->pf_rate);
    K_U64(p, "major_page_faults", model_counter(c->mpf_base, c->mpf_rate, c->t0, t));
    K_U64(p, "major_page_faults_per_s", c->mpf_rate);
    K_U64(p, "rootfs_used", c->rootfs_used);
    K_U64(p, "logs_used", c->logs_used);
    K_U64(p, "cpu_request_millicores", c->cpu_request_m);
    K_U64(p, "cpu_limit_millicores", c->cpu_limit_m);
    K_U64(p, "memory_request_bytes", c->mem_request);
    K_U64(p, "memory_limit_bytes", c->mem_limit);
    *p++ = '}';
    return p;
}

static char *put_net(char *p, const model_totals *t)
{
    K_U64(p, "network_rx_bytes", t->rx);
    K_U64(p, "network_tx_bytes", t->tx);
    K_U64(p, "network_rx_errors", t->rxe);
    K_U64(p, "network_tx_errors", t->txe);
    K_U64(p, "network_rx_per_s", t->rx_rate);
    K_U64(p, "network_tx_per_s", t->tx_rate);
    K_U64(p, "network_rx_errors_per_s", t->rxe_rate);
    K_U64(p, "network_tx_errors_per_s", t->txe_rate);
    return p;
}

/* ,"owner_kind":"ReplicaSet","owner_name":"app-3-xxx","workload_kind":"deployment",
 * "workload_name":"app-3" (nulls for a pod without a controller) */
static char *put_workload(char *p, const model_pod *pod)
{
    int kind;
    uint64_t g;
    const char *k;

    if (!model_pod_ref(pod, &kind, &g)) {
        P_LIT(p, ",\"owner_kind\":null,\"owner_name\":null,\"workload_kind\":null,\"workload_name\":null");
        return p;
    }
    P_LIT(p, ",\"owner_kind\":\"");
    p = fmt_str(p, owner_kind_name(kind));
    P_LIT(p, "\",\"owner_name\":\"");
    p = model_obj_name(p, kind, g);
    model_pod_workload(pod, &kind, &g);
    P_LIT(p, "\",\"workload_kind\":\"");
    for (k = owner_kind_name(kind); *k; k++)
        *p++ = (char)(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
    P_LIT(p, "\",\"workload_name\":\"");
    p = model_obj_name(p, kind, g);
    *p++ = '"';
    return p;
}

static void put_pod(sb *b, const model_pod *pod, const model_node *n, int64_t t)
{
    static const char *const qos[] = {"BestEffort", "Guaranteed", "Burstable"};
    char *p = sb_reserve(b, 4096 + 1024 * (size_t)pod->nctr);
    model_totals pt;
    uint64_t eph = pod->has_data_vol ? pod->data_used : 0;

    model_totals_pods(pod, 1, t, &pt);
    P_LIT(p, "{\"namespace\":\"");
    p = fmt_mem(p, sim->ns_name[pod->ns], sim->ns_len[pod->ns]);
    P_LIT(p, "\",\"name\":\"");
    p = model_pod_name(p, pod->node, pod->idx);
    P_LIT(p, "\",\"uid\":\"");
    p = model_uid(p, UID_POD, pod->node, pod->idx, 0);
    *p++ = '"';
    p = put_workload(p, pod);
    P_LIT(p, ",\"qos_class\":\"");
    p = fmt_str(p, qos[pod->qos]);
    *p++ = '"';
    K_TIME(p, "start_time", pod->t0);
    K_U64(p, "cpu_nanocores", pt.cpu_rate);
    K_U64(p, "cpu_usage_core_nanoseconds", pt.cpu_ns);
    K_U64(p, "memory_working_set", pt.ws);
    K_U64(p, "memory_usage", pt.usage);
    K_U64(p, "memory_rss", pt.rss);
    K_U64(p, "page_faults", pt.pf);
    K_U64(p, "page_faults_per_s", pt.pf_rate);
    p = put_net(p, &pt);
    for (int k = 0; k < pod->nctr; k++)
        eph += pod->ctr[k].rootfs_used + pod->ctr[k].logs_used;
    K_U64(p, "ephemeral_storage_used", eph);
    P_LIT(p, ",\"volumes\":[");
    if (pod->has_data_vol) {
        P_LIT(p, "{\"name\":\"data\"");
        K_U64(p, "used", pod->data_used);
        K_U64(p, "capacity", n->fs_cap);
        K_U64(p, "available", n->fs_cap - n->fs_used);
        P_LIT(p, "},");
    }
    P_LIT(p, "{\"name\":\"");
    p = fmt_str(p, pod->api_vol);
    *p++ = '"';
    K_U64(p, "used", 12288);
    K_U64(p, "capacity", 16 * ((uint64_t)1 << 30));
    K_U64(p, "available", 16 * ((uint64_t)1 << 30) - 12288);
    P_LIT(p, "}],\"containers\":[");
    for (int k = 0; k < pod->nctr; k++) {
        if (k)
            *p++ = ',';
        p = put_ctr(p, pod, k, t);
    }
    P_LIT(p, "]}");
    sb_commit(b, p);
}

static char *put_sys(char *p, const char *name, int64_t t0, uint64_t rate, uint64_t ns,
                     uint64_t ws, uint64_t usage, uint64_t rss)
{
    P_LIT(p, "{\"name\":\"");
    p = fmt_str(p, name);
    *p++ = '"';
    K_TIME(p, "start_time", t0);
    K_U64(p, "cpu_nanocores", rate);
    K_U64(p, "cpu_usage_core_nanoseconds", ns);
    K_U64(p, "memory_working_set", ws);
    K_U64(p, "memory_usage", usage);
    K_U64(p, "memory_rss", rss);
    *p++ = '}';
    return p;
}

static void put_node(sb *b, uint32_t i, int64_t t, bool with_pods)
{
    model_node n;
    model_totals pt, nt;
    char *p = sb_reserve(b, 8192);
    const model_sys *s[2];
    uint64_t cap = 16 * ((uint64_t)1 << 30);

    model_node_get(i, &n);
    model_node_pods(i, g_pods);
    model_totals_pods(g_pods, sim->o.pods, t, &pt);
    model_totals_node(&n, &pt, t, &nt);
    P_LIT(p, "{\"name\":\"");
    p = model_node_name(p, i);
    P_LIT(p, "\",\"ip\":\"");
    p = model_node_ip(p, i);
    P_LIT(p, "\",\"ready\":");
    p = fmt_str(p, model_node_ready(i) ? "true" : "false");
    P_LIT(p, ",\"fault\":\"");
    p = fmt_str(p, model_fault_name(sim->fault[i]));
    *p++ = '"';
    K_TIME(p, "time", t);
    K_U64(p, "unix_time", (uint64_t)t);
    K_TIME(p, "start_time", n.t0);
    K_U64(p, "cpu_nanocores", nt.cpu_rate);
    K_U64(p, "cpu_usage_core_nanoseconds", nt.cpu_ns);
    K_U64(p, "memory_working_set", nt.ws);
    K_U64(p, "memory_usage", nt.usage);
    K_U64(p, "memory_rss", nt.rss);
    K_U64(p, "memory_available", nt.ws < cap ? cap - nt.ws : 0);
    K_U64(p, "page_faults", nt.pf);
    K_U64(p, "page_faults_per_s", nt.pf_rate);
    K_U64(p, "major_page_faults", nt.mpf);
    K_U64(p, "major_page_faults_per_s", nt.mpf_rate);
    p = put_net(p, &nt);
    K_U64(p, "fs_used", n.fs_used);
    K_U64(p, "fs_capacity", n.fs_cap);
    K_U64(p, "fs_available", n.fs_cap - n.fs_used);
    K_U64(p, "fs_inodes", n.fs_inodes);
    K_U64(p, "fs_inodes_free", n.fs_inodes - n.fs_inodes_used);
    K_U64(p, "image_fs_used", n.img_used);
    P_LIT(p, ",\"system_containers\":[");
    s[0] = &n.kubelet;
    s[1] = &n.runtime;
    for (int k = 0; k < 2; k++) {
        p = put_sys(p, k ? "runtime" : "kubelet", s[k]->t0, s[k]->cpu_rate,
                    model_counter(s[k]->cpu_base, s[k]->cpu_rate, s[k]->t0, t), s[k]->ws,
                    s[k]->usage, s[k]->rss);
        *p++ = ',';
    }
    p = put_sys(p, "pods", n.t0 + 10, pt.cpu_rate, pt.cpu_ns, pt.ws, pt.usage, pt.rss);
    *p++ = ']';
    sb_commit(b, p);
    if (with_pods) {
        SB_LIT(b, ",\"pods\":[");
        for (uint32_t j = 0; j < sim->o.pods; j++) {
            if (j)
                SB_LIT(b, ",");
            put_pod(b, &g_pods[j], &n, t);
        }
        SB_LIT(b, "]");
    }
    SB_LIT(b, "}");
}

static void truth(http_conn *c, const http_req *r)
{
    char v[64], *p;
    int only = -1;
    bool with_pods = true;
    int64_t t = http_now();
    sb *b;

    if (http_query_get(r, "node", v, sizeof(v)) >= 0) {
        only = model_node_parse(v, strlen(v));
        if (only < 0 || (uint32_t)only >= sim->node_count) {
            api_status(c, 404, "NotFound", "no such node");
            return;
        }
    }
    if (http_query_get(r, "pods", v, sizeof(v)) >= 0 && strcmp(v, "false") == 0)
        with_pods = false;
    b = http_body(c);
    p = sb_reserve(b, 1024 + 32 * (size_t)sim->o.namespaces);
    P_LIT(p, "{\"seed\":");
    p = fmt_u64(p, sim->o.seed);
    K_TIME(p, "time", t);
    K_U64(p, "unix_time", (uint64_t)t);
    K_TIME(p, "sim_start", sim->start);
    K_U64(p, "node_count", sim->node_count);
    K_U64(p, "pods_per_node", sim->o.pods);
    P_LIT(p, ",\"resource_version\":\"");
    p = fmt_u64(p, sim->rv);
    P_LIT(p, "\",\"namespaces\":[");
    for (uint32_t k = 0; k < sim->o.namespaces; k++) {
        if (k)
            *p++ = ',';
        *p++ = '"';
        p = fmt_mem(p, sim->ns_name[k], sim->ns_len[k]);
        *p++ = '"';
    }
    P_LIT(p, "],\"nodes\":[");
    sb_commit(b, p);
    for (uint32_t i = 0; i < sim->node_count; i++) {
        if (only >= 0 && (uint32_t)only != i)
            continue;
        if (only < 0 && i)
            SB_LIT(b, ",\n");
        put_node(b, i, t, with_pods);
    }
    SB_LIT(b, "]}\n");
    http_send(c, 200, CT_JSON);
}

/* ,"name":{"nodes":N,"pods":N,...}: request counters by resource */
static char *put_by_kind(char *p, const char *name, const uint64_t *n)
{
    static const char *const res[KIND__COUNT] = {
        [KIND_NODE] = "nodes", [KIND_POD] = "pods", [KIND_NS] = "namespaces",
        [KIND_RC] = "replicationcontrollers", [KIND_DEPLOY] = "deployments",
        [KIND_RS] = "replicasets", [KIND_STS] = "statefulsets", [KIND_DS] = "daemonsets",
        [KIND_JOB] = "jobs", [KIND_CRON] = "cronjobs",
    };

    *p++ = ',';
    *p++ = '"';
    p = fmt_str(p, name);
    P_LIT(p, "\":{");
    for (int k = 0; k < KIND__COUNT; k++) {
        if (k)
            *p++ = ',';
        *p++ = '"';
        p = fmt_str(p, res[k]);
        P_LIT(p, "\":");
        p = fmt_u64(p, n[k]);
    }
    *p++ = '}';
    return p;
}

static void stats(http_conn *c, const http_req *r)
{
    struct rusage ru;
    double us, sy;
    char v[16];
    bool per_node = !(http_query_get(r, "per_node", v, sizeof(v)) >= 0 && strcmp(v, "false") == 0);
    sb *b = http_body(c);
    char *p = sb_reserve(b, 4096);
    int64_t now = http_now();

    getrusage(RUSAGE_SELF, &ru);
    us = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    sy = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    P_LIT(p, "{\"summaries_served\":");
    p = fmt_u64(p, sim->st.summaries);
    K_U64(p, "metrics_served", sim->st.metrics);
    K_U64(p, "kubelet_pods_served", sim->st.kubelet_pods);
    K_U64(p, "fault_responses", sim->st.fault_responses);
    K_U64(p, "bytes_served", sim->st.kubelet_bytes);
    K_U64(p, "api_bytes_served", sim->st.api_bytes);
    K_U64(p, "kubelet_requests", sim->st.kubelet_requests);
    K_U64(p, "api_requests", sim->st.api_requests);
    K_U64(p, "connections", sim->st.connections);
    K_U64(p, "unauthorized_requests", sim->st.unauthorized);
    K_U64(p, "tls_handshake_failures", sim->st.tls_handshake_failures);
    K_U64(p, "proxied_requests", sim->st.proxied);
    K_U64(p, "proxy_errors", sim->st.proxy_errors);
    K_U64(p, "watches_expired", sim->st.watches_expired);
    K_U64(p, "watches_dropped", sim->st.watches_dropped);
    p = put_by_kind(p, "lists", sim->st.lists);
    p = put_by_kind(p, "list_pages", sim->st.list_pages);
    p = put_by_kind(p, "watches", sim->st.watches);
    K_U64(p, "node_count", sim->node_count);
    K_U64(p, "uptime_seconds", (uint64_t)(now - sim->start));
    P_LIT(p, ",\"resource_version\":\"");
    p = fmt_u64(p, sim->rv);
    *p++ = '"';
    p += snprintf(p, 200, ",\"cpu_seconds\":%.3f,\"cpu_user_seconds\":%.3f,\"cpu_system_seconds\":%.3f",
                  us + sy, us, sy);
    sb_commit(b, p);
    if (per_node) {
        SB_LIT(b, ",\"per_node\":[");
        for (uint32_t i = 0; i < sim->node_count; i++) {
            p = sb_reserve(b, 128);
            if (i)
                *p++ = ',';
            P_LIT(p, "{\"name\":\"");
            p = model_node_name(p, i);
            P_LIT(p, "\",\"served\":");
            p = fmt_u64(p, sim->served[i]);
            P_LIT(p, ",\"last_sample_time\":");
            if (sim->last_sample[i]) {
                *p++ = '"';
                p = fmt_rfc3339(p, sim->last_sample[i]);
                *p++ = '"';
            } else {
                P_LIT(p, "null");
            }
            *p++ = '}';
            sb_commit(b, p);
        }
        SB_LIT(b, "]");
    }
    SB_LIT(b, "}\n");
    http_send(c, 200, CT_JSON);
}

static void fault(http_conn *c, const http_req *r)
{
    char node[64], kind[32], *p;
    int k, i;
    sb *b;

    if (http_query_get(r, "node", node, sizeof(node)) < 0 ||
        http_query_get(r, "kind", kind, sizeof(kind)) < 0) {
        api_status(c, 400, "BadRequest", "usage: /sim/fault?node=NAME|*&kind=KIND");
        return;
    }
    k = model_fault_parse(kind);
    if (k < 0) {
        api_status(c, 400, "BadRequest",
                   "unknown fault kind (none refuse hang http500 garbage truncated huge drip notready)");
        return;
    }
    if (strcmp(node, "*") == 0) {
        for (uint32_t n = 0; n < sim->node_count; n++)
            model_set_fault(n, k);
    } else {
        i = model_node_parse(node, strlen(node));
        if (i < 0) {
            api_status(c, 404, "NotFound", "no such node (expected sim-node-<N>)");
            return;
        }
        model_set_fault((uint32_t)i, k);
    }
    b = http_body(c);
    p = sb_reserve(b, 256);
    P_LIT(p, "{\"node\":\"");
    p = fmt_json_escaped(p, node, strlen(node));
    P_LIT(p, "\",\"kind\":\"");
    p = fmt_str(p, model_fault_name(k));
    P_LIT(p, "\",\"resource_version\":\"");
    p = fmt_u64(p, sim->rv);
    P_LIT(p, "\"}\n");
    sb_commit(b, p);
    http_send(c, 200, CT_JSON);
    http_kick_watchers();
}

static void faults(http_conn *c)
{
    sb *b = http_body(c);
    bool first = true;

    SB_LIT(b, "{\"faults\":[");
    for (uint32_t i = 0; i < SIM_MAX_NODES; i++) {
        char *p;
        if (!sim->fault[i])
            continue;
        p = sb_reserve(b, 128);
        if (!first)
            *p++ = ',';
        first = false;
        P_LIT(p, "{\"node\":\"");
        p = model_node_name(p, i);
        P_LIT(p, "\",\"kind\":\"");
        p = fmt_str(p, model_fault_name(sim->fault[i]));
        P_LIT(p, "\"}");
        sb_commit(b, p);
    }
    SB_LIT(b, "]}\n");
    http_send(c, 200, CT_JSON);
}

static void nodes(http_conn *c, const http_req *r)
{
    char v[32], *p, *end;
    uint32_t prev = sim->node_count;
    sb *b;

    if (http_query_get(r, "count", v, sizeof(v)) >= 0) {
        unsigned long n = strtoul(v, &end, 10);
        if (!v[0] || *end || n > SIM_MAX_NODES) {
            api_status(c, 400, "BadRequest", "count must be 0..62500");
            return;
        }
        model_set_node_count((uint32_t)n);
    }
    b = http_body(c);
    p = sb_reserve(b, 256);
    P_LIT(p, "{\"nodes\":");
    p = fmt_u64(p, sim->node_count);
    K_U64(p, "previous", prev);
    P_LIT(p, ",\"resource_version\":\"");
    p = fmt_u64(p, sim->rv);
    P_LIT(p, "\"}\n");
    sb_commit(b, p);
    http_send(c, 200, CT_JSON);
    if (prev != sim->node_count)
        http_kick_watchers();
}

/* Every watch from before now gets 410, as an ERROR event (default) or as
 * the HTTP status of its next request (as=status): a compacted history. */
static void expire(http_conn *c, const http_req *r)
{
    char as[16] = "event", *p;
    sb *b;

    if (http_query_get(r, "as", as, sizeof(as)) >= 0 && strcmp(as, "event") != 0 &&
        strcmp(as, "status") != 0) {
        api_status(c, 400, "BadRequest", "usage: /sim/expire[?as=event|status]");
        return;
    }
    sim->gone_as_status = strcmp(as, "status") == 0;
    model_expire();
    b = http_body(c);
    p = sb_reserve(b, 128);
    P_LIT(p, "{\"as\":\"");
    p = fmt_str(p, as);
    P_LIT(p, "\",\"resource_version\":\"");
    p = fmt_u64(p, sim->rv);
    P_LIT(p, "\"}\n");
    sb_commit(b, p);
    http_send(c, 200, CT_JSON);
    http_kick_watchers();
}

/* Ends every open watch stream, cleanly or with a reset: clients resume
 * from their resourceVersion. */
static void watch_drop(http_conn *c, const http_req *r)
{
    char how[16] = "end";

    if (http_query_get(r, "how", how, sizeof(how)) >= 0 && strcmp(how, "end") != 0 &&
        strcmp(how, "reset") != 0) {
        api_status(c, 400, "BadRequest", "usage: /sim/watch-drop[?how=end|reset]");
        return;
    }
    sim->drop_reset = strcmp(how, "reset") == 0;
    sim->drop_gen++;
    http_send_simple(c, 200, CT_JSON, "{}\n", 3);
    http_kick_watchers();
}

void ctl_handle(http_conn *c, const http_req *r)
{
    if (r->method != HTTP_GET && r->method != HTTP_POST) {
        api_status(c, 405, "MethodNotAllowed", "use GET or POST");
        return;
    }
    if (http_path_is(r, "/sim/truth"))
        truth(c, r);
    else if (http_path_is(r, "/sim/stats"))
        stats(c, r);
    else if (http_path_is(r, "/sim/fault"))
        fault(c, r);
    else if (http_path_is(r, "/sim/faults"))
        faults(c);
    else if (http_path_is(r, "/sim/nodes"))
        nodes(c, r);
    else if (http_path_is(r, "/sim/expire"))
        expire(c, r);
    else if (http_path_is(r, "/sim/watch-drop"))
        watch_drop(c, r);
    else
        api_status(c, 404, "NotFound", "unknown /sim endpoint");
}
