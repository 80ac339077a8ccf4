/*
 * sim_kubelet.c - the simulated kubelets (prefix kubelet_).
 *
 * All nodes share one listening socket; the connection's dialed address says
 * which node it talks to (c->node, resolved at accept time).  Endpoints:
 *   GET /stats/summary[/]   summary API JSON, pretty-printed exactly like a
 *                           real kubelet (go-restful, one-space indent), with
 *                           psi/io/swap/interfaces so parsing cost is real;
 *                           ?only_cpu_and_memory=true gives the reduced form
 *   GET /metrics/resource   Prometheus text, the metrics-server source
 *   GET /pods               the node's PodList
 *   GET /healthz            "ok"
 * The node's fault (sim->fault[node]) is applied to the first three.
 *
 * Rendering computes the node's pods and their sums once (model_*), then
 * writes straight into the connection's output buffer through the jw_ cursor
 * writer; a node with 30 pods is ~190 KB of JSON.
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

#define CT_JSON "application/json"
#define CT_PROM "text/plain; version=0.0.4; charset=utf-8"
#define HUGE_TOTAL ((uint64_t)1 << 30)

static model_pod g_pods[SIM_MAX_PODS]; /* scratch: the pods of the node being rendered */

static const char *const ifnames[] = {
    "tunl0", "gre0", "gretap0", "erspan0", "ip_vti0", "ip6_vti0", "sit0", "ip6tnl0", "ip6gre0",
};

/* ------------------------------------------------------------ JSON pieces */

typedef struct render_ctx {
    char ts[RFC3339_LEN]; /* sample time t as RFC 3339 */
    int64_t t;
    bool full;            /* false: only_cpu_and_memory */
    const model_node *n;
} render_ctx;

#define JW_TIME(w, k, ts) JW_STRN(w, k, ts, RFC3339_LEN)

static void put_start(jw *w, int64_t t0)
{
    JW_KEY(w, "startTime");
    *w->p++ = '"';
    w->p = fmt_rfc3339(w->p, t0);
    *w->p++ = '"';
}

static void put_psi_half(jw *w, uint64_t total, uint64_t avg10)
{
    if (avg10 > 9999)
        avg10 = 9999;
    JW_U64(w, "total", total);
    JW_H(w, "avg10", avg10);
    JW_H(w, "avg60", avg10 * 9 / 10);
    JW_H(w, "avg300", avg10 * 8 / 10);
}

/* "psi": {"full": {...}, "some": {...}} from a "some" total and avg10 */
static void put_psi(jw *w, uint64_t some_total, uint64_t avg10)
{
    JW_OBJ(w, "psi");
    JW_OBJ(w, "full");
    put_psi_half(w, some_total * 9 / 10, avg10 * 9 / 10);
    JW_END_OBJ(w);
    JW_OBJ(w, "some");
    put_psi_half(w, some_total, avg10);
    JW_END_OBJ(w);
    JW_END_OBJ(w);
}

static void put_cpu(jw *w, const render_ctx *x, uint64_t nanocores, uint64_t ns)
{
    JW_OBJ(w, "cpu");
    JW_TIME(w, "time", x->ts);
    JW_U64(w, "usageNanoCores", nanocores);
    JW_U64(w, "usageCoreNanoSeconds", ns);
    if (x->full)
        put_psi(w, ns / 4000, nanocores / 10000000);
    JW_END_OBJ(w);
}

#define NO_AVAIL UINT64_MAX

static void put_mem(jw *w, const render_ctx *x, uint64_t avail, uint64_t usage, uint64_t ws,
                    uint64_t rss, uint64_t pf, uint64_t mpf)
{
    JW_OBJ(w, "memory");
    JW_TIME(w, "time", x->ts);
    if (avail != NO_AVAIL)
        JW_U64(w, "availableBytes", avail);
    JW_U64(w, "usageBytes", usage);
    JW_U64(w, "workingSetBytes", ws);
    JW_U64(w, "rssBytes", rss);
    JW_U64(w, "pageFaults", pf);
    JW_U64(w, "majorPageFaults", mpf);
    if (x->full)
        put_psi(w, 0, 0);
    JW_END_OBJ(w);
}

static void put_io(jw *w, const render_ctx *x, uint64_t pf)
{
    JW_OBJ(w, "io");
    JW_TIME(w, "time", x->ts);
    put_psi(w, pf * 3, 0);
    JW_END_OBJ(w);
}

static void put_fs_body(jw *w, const render_ctx *x, uint64_t avail, uint64_t cap, uint64_t used,
                        uint64_t ifree, uint64_t inodes, uint64_t iused)
{
    JW_TIME(w, "time", x->ts);
    JW_U64(w, "availableBytes", avail);
    JW_U64(w, "capacityBytes", cap);
    JW_U64(w, "usedBytes", used);
    JW_U64(w, "inodesFree", ifree);
    JW_U64(w, "inodes", inodes);
    JW_U64(w, "inodesUsed", iused);
}

/* filesystem on the node's root disk with the given usage */
#define PUT_NODE_FS(w, x, key, used, iused) do { \
        const model_node *nn_ = (x)->n; \
        JW_OBJ(w, key); \
        put_fs_body(w, x, nn_->fs_cap - nn_->fs_used, nn_->fs_cap, (used), \
                    nn_->fs_inodes - nn_->fs_inodes_used, nn_->fs_inodes, (iused)); \
        JW_END_OBJ(w); } while (0)

static void put_net(jw *w, const render_ctx *x, uint64_t rx, uint64_t rxe, uint64_t tx, uint64_t txe)
{
    JW_OBJ(w, "network");
    JW_TIME(w, "time", x->ts);
    JW_STRN(w, "name", "eth0", 4);
    JW_U64(w, "rxBytes", rx);
    JW_U64(w, "rxErrors", rxe);
    JW_U64(w, "txBytes", tx);
    JW_U64(w, "txErrors", txe);
    JW_ARR(w, "interfaces");
    for (size_t k = 0; k <= sizeof(ifnames) / sizeof(ifnames[0]); k++) {
        bool eth0 = k == sizeof(ifnames) / sizeof(ifnames[0]);
        JW_ELEM_OBJ(w);
        if (eth0)
            JW_STRN(w, "name", "eth0", 4);
        else
            JW_STRN(w, "name", ifnames[k], strlen(ifnames[k]));
        JW_U64(w, "rxBytes", eth0 ? rx : 0);
        JW_U64(w, "rxErrors", eth0 ? rxe : 0);
        JW_U64(w, "txBytes", eth0 ? tx : 0);
        JW_U64(w, "txErrors", eth0 ? txe : 0);
        JW_END_OBJ(w);
    }
    JW_END_ARR(w);
    JW_END_OBJ(w);
}

static void put_swap(jw *w, const render_ctx *x, bool with_avail)
{
    JW_OBJ(w, "swap");
    JW_TIME(w, "time", x->ts);
    if (with_avail)
        JW_U64(w, "swapAvailableBytes", 0);
    JW_U64(w, "swapUsageBytes", 0);
    JW_END_OBJ(w);
}

static void put_sys(jw *w, const render_ctx *x, const char *name, const model_sys *s)
{
    uint64_t pf = model_counter(s->pf_base, s->pf_rate, s->t0, x->t);

    jw_room(w, 8192);
    JW_ELEM_OBJ(w);
    JW_STRN(w, "name", name, strlen(name));
    put_start(w, s->t0);
    put_cpu(w, x, s->cpu_rate, model_counter(s->cpu_base, s->cpu_rate, s->t0, x->t));
    put_mem(w, x, NO_AVAIL, s->usage, s->ws, s->rss, pf, 0);
    if (x->full) {
        put_io(w, x, pf);
        put_swap(w, x, false);
    }
    JW_END_OBJ(w);
}

static void put_container(jw *w, const render_ctx *x, const model_ctr *c, int k)
{
    uint64_t pf = model_counter(c->pf_base, c->pf_rate, c->t0, x->t);
    char name[16];

    jw_room(w, 8192);
    JW_ELEM_OBJ(w);
    JW_STRN(w, "name", name, (size_t)(model_ctr_name(name, k) - name));
    put_start(w, c->t0);
    put_cpu(w, x, c->cpu_rate, model_counter(c->cpu_base, c->cpu_rate, c->t0, x->t));
    put_mem(w, x, c->mem_limit ? c->mem_limit - c->ws : NO_AVAIL, c->usage, c->ws, c->rss, pf,
            model_counter(c->mpf_base, c->mpf_rate, c->t0, x->t));
    if (x->full) {
        put_io(w, x, pf);
        PUT_NODE_FS(w, x, "rootfs", c->rootfs_used, c->rootfs_inodes);
        PUT_NODE_FS(w, x, "logs", c->logs_used, c->logs_inodes);
        put_swap(w, x, true);
    }
    JW_END_OBJ(w);
}

static void put_pod(jw *w, const render_ctx *x, const model_pod *p)
{
    model_totals pt;
    char buf[64];
    uint64_t eph = 0, eph_inodes = 0, pod_limit = 0;

    model_totals_pods(p, 1, x->t, &pt);
    for (int k = 0; k < p->nctr; k++) { /* the pod cgroup is limited only if all are */
        if (!p->ctr[k].mem_limit) {
            pod_limit = 0;
            break;
        }
        pod_limit += p->ctr[k].mem_limit;
    }
    jw_room(w, 16384);
    JW_ELEM_OBJ(w);
    JW_OBJ(w, "podRef");
    JW_STRN(w, "name", buf, (size_t)(model_pod_name(buf, p->node, p->idx) - buf));
    JW_STRN(w, "namespace", sim->ns_name[p->ns], sim->ns_len[p->ns]);
    JW_STRN(w, "uid", buf, (size_t)(model_uid(buf, UID_POD, p->node, p->idx, 0) - buf));
    JW_END_OBJ(w);
    put_start(w, p->t0);
    JW_ARR(w, "containers");
    for (int k = 0; k < p->nctr; k++) {
        put_container(w, x, &p->ctr[k], k);
        eph += p->ctr[k].rootfs_used + p->ctr[k].logs_used;
        eph_inodes += p->ctr[k].rootfs_inodes + p->ctr[k].logs_inodes;
    }
    JW_END_ARR(w);
    jw_room(w, 16384);
    put_cpu(w, x, pt.cpu_rate, pt.cpu_ns);
    put_mem(w, x, pod_limit ? pod_limit - pt.ws : NO_AVAIL, pt.usage, pt.ws, pt.rss, pt.pf, pt.mpf);
    if (x->full) {
        const model_node *n = x->n;
        put_io(w, x, pt.pf);
        put_net(w, x, pt.rx, pt.rxe, pt.tx, pt.txe);
        JW_ARR(w, "volume");
        if (p->has_data_vol) {
            JW_ELEM_OBJ(w);
            put_fs_body(w, x, n->fs_cap - n->fs_used, n->fs_cap, p->data_used,
                        n->fs_inodes - n->fs_inodes_used, n->fs_inodes, p->data_inodes);
            JW_STRN(w, "name", "data", 4);
            JW_END_OBJ(w);
            eph += p->data_used;
            eph_inodes += p->data_inodes;
        }
        JW_ELEM_OBJ(w);
        put_fs_body(w, x, 16 * ((uint64_t)1 << 30) - 12288, 16 * ((uint64_t)1 << 30), 12288,
                    2097152 - 9, 2097152, 9);
        JW_STRN(w, "name", p->api_vol, strlen(p->api_vol));
        JW_END_OBJ(w);
        JW_END_ARR(w);
        PUT_NODE_FS(w, x, "ephemeral-storage", eph, eph_inodes);
        JW_OBJ(w, "process_stats");
        JW_U64(w, "process_count", p->process_count);
        JW_END_OBJ(w);
        put_swap(w, x, false);
    }
    JW_END_OBJ(w);
}

static void render_summary(sb *b, uint32_t i, int64_t t, bool full)
{
    model_node n;
    model_totals pt, nt;
    render_ctx x;
    jw w;
    char buf[64];
    uint32_t np = sim->o.pods;

    model_node_get(i, &n);
    model_node_pods(i, g_pods);
    model_totals_pods(g_pods, np, t, &pt);
    model_totals_node(&n, &pt, t, &nt);
    fmt_rfc3339(x.ts, t);
    x.t = t;
    x.full = full;
    x.n = &n;

    jw_init(&w, b);
    jw_room(&w, 32768);
    jw_open(&w, '{');
    JW_OBJ(&w, "node");
    JW_STRN(&w, "nodeName", buf, (size_t)(model_node_name(buf, i) - buf));
    JW_ARR(&w, "systemContainers");
    put_sys(&w, &x, "kubelet", &n.kubelet);
    put_sys(&w, &x, "runtime", &n.runtime);
    {   /* "pods": the sum of all pods, with availableBytes against allocatable */
        model_sys s = {.t0 = n.t0 + 10, .cpu_rate = pt.cpu_rate};
        uint64_t alloc = 15 * ((uint64_t)1 << 30);
        jw_room(&w, 8192);
        JW_ELEM_OBJ(&w);
        JW_STRN(&w, "name", "pods", 4);
        put_start(&w, s.t0);
        put_cpu(&w, &x, pt.cpu_rate, pt.cpu_ns);
        put_mem(&w, &x, pt.ws < alloc ? alloc - pt.ws : 0, pt.usage, pt.ws, pt.rss, pt.pf, pt.mpf);
        if (full) {
            put_io(&w, &x, pt.pf);
            put_swap(&w, &x, false);
        }
        JW_END_OBJ(&w);
    }
    JW_END_ARR(&w);
    jw_room(&w, 16384);
    put_start(&w, n.t0);
    put_cpu(&w, &x, nt.cpu_rate, nt.cpu_ns);
    {
        uint64_t cap = 16 * ((uint64_t)1 << 30);
        put_mem(&w, &x, nt.ws < cap ? cap - nt.ws : 0, nt.usage, nt.ws, nt.rss, nt.pf, nt.mpf);
    }
    if (full) {
        put_io(&w, &x, nt.pf);
        put_net(&w, &x, nt.rx, nt.rxe, nt.tx, nt.txe);
        PUT_NODE_FS(&w, &x, "fs", n.fs_used, n.fs_inodes_used);
        JW_OBJ(&w, "runtime");
        PUT_NODE_FS(&w, &x, "imageFs", n.img_used, n.img_inodes_used);
        PUT_NODE_FS(&w, &x, "containerFs", n.img_used, n.img_inodes_used);
        JW_END_OBJ(&w);
        JW_OBJ(&w, "rlimit");
        JW_TIME(&w, "time", x.ts);
        JW_U64(&w, "maxpid", 4194304);
        JW_U64(&w, "curproc", nt.processes);
        JW_END_OBJ(&w);
        put_swap(&w, &x, true);
    }
    JW_END_OBJ(&w);
    JW_ARR(&w, "pods");
    for (uint32_t j = 0; j < np; j++)
        put_pod(&w, &x, &g_pods[j]);
    JW_END_ARR(&w);
    jw_close(&w, '}');
    *w.p++ = '\n';
    jw_done(&w);
}

/* ------------------------------------------------------ /metrics/resource */

static char *prom_labels(char *p, const model_pod *pod, int k)
{
    if (k >= 0) {
        P_LIT(p, "{container=\"");
        p = model_ctr_name(p, k);
        P_LIT(p, "\",namespace=\"");
    } else {
        P_LIT(p, "{namespace=\"");
    }
    p = fmt_mem(p, sim->ns_name[pod->ns], sim->ns_len[pod->ns]);
    P_LIT(p, "\",pod=\"");
    p = model_pod_name(p, pod->node, pod->idx);
    P_LIT(p, "\"} ");
    return p;
}

static char *prom_ts(char *p, int64_t t)
{
    *p++ = ' ';
    p = fmt_u64(p, (uint64_t)t * 1000);
    *p++ = '\n';
    return p;
}

static void render_metrics(sb *b, uint32_t i, int64_t t)
{
    model_node n;
    model_totals pt, nt;
    uint32_t np = sim->o.pods;
    char *p;

    model_node_get(i, &n);
    model_node_pods(i, g_pods);
    model_totals_pods(g_pods, np, t, &pt);
    model_totals_node(&n, &pt, t, &nt);

#define HELP(name, stab, text, type) \
    P_LIT(p, "# HELP " name " [" stab "] " text "\n# TYPE " name " " type "\n")
    p = sb_reserve(b, 1024);
    HELP("container_cpu_usage_seconds_total", "STABLE",
         "Cumulative cpu time consumed by the container in core-seconds", "counter");
    for (uint32_t j = 0; j < np; j++) {
        const model_pod *pod = &g_pods[j];
        sb_commit(b, p);
        p = sb_reserve(b, 256 * (size_t)pod->nctr);
        for (int k = 0; k < pod->nctr; k++) {
            const model_ctr *c = &pod->ctr[k];
            P_LIT(p, "container_cpu_usage_seconds_total");
            p = prom_labels(p, pod, k);
            p = fmt_prom_decimal(p, model_counter(c->cpu_base, c->cpu_rate, c->t0, t), 9);
            p = prom_ts(p, t);
        }
    }
    sb_commit(b, p);
    p = sb_reserve(b, 1024);
    HELP("container_memory_working_set_bytes", "STABLE",
         "Current working set of the container in bytes", "gauge");
    for (uint32_t j = 0; j < np; j++) {
        const model_pod *pod = &g_pods[j];
        sb_commit(b, p);
        p = sb_reserve(b, 256 * (size_t)pod->nctr);
        for (int k = 0; k < pod->nctr; k++) {
            P_LIT(p, "container_memory_working_set_bytes");
            p = prom_labels(p, pod, k);
            p = fmt_prom_decimal(p, pod->ctr[k].ws, 0);
            p = prom_ts(p, t);
        }
    }
    sb_commit(b, p);
    p = sb_reserve(b, 1024);
    HELP("container_start_time_seconds", "STABLE",
         "Start time of the container since unix epoch in seconds", "gauge");
    for (uint32_t j = 0; j < np; j++) {
        const model_pod *pod = &g_pods[j];
        sb_commit(b, p);
        p = sb_reserve(b, 256 * (size_t)pod->nctr);
        for (int k = 0; k < pod->nctr; k++) {
            P_LIT(p, "container_start_time_seconds");
            p = prom_labels(p, pod, k);
            p = fmt_prom_decimal(p, (uint64_t)pod->ctr[k].t0, 0);
            *p++ = '\n';
        }
    }
    sb_commit(b, p);
    p = sb_reserve(b, 2048);
    HELP("node_cpu_usage_seconds_total", "STABLE",
         "Cumulative cpu time consumed by the node in core-seconds", "counter");
    P_LIT(p, "node_cpu_usage_seconds_total ");
    p = fmt_prom_decimal(p, nt.cpu_ns, 9);
    p = prom_ts(p, t);
    HELP("node_memory_working_set_bytes", "STABLE", "Current working set of the node in bytes",
         "gauge");
    P_LIT(p, "node_memory_working_set_bytes ");
    p = fmt_prom_decimal(p, nt.ws, 0);
    p = prom_ts(p, t);
    HELP("pod_cpu_usage_seconds_total", "STABLE",
         "Cumulative cpu time consumed by the pod in core-seconds", "counter");
    for (uint32_t j = 0; j < np; j++) {
        model_totals one;
        sb_commit(b, p);
        p = sb_reserve(b, 256);
        model_totals_pods(&g_pods[j], 1, t, &one);
        P_LIT(p, "pod_cpu_usage_seconds_total");
        p = prom_labels(p, &g_pods[j], -1);
        p = fmt_prom_decimal(p, one.cpu_ns, 9);
        p = prom_ts(p, t);
    }
    sb_commit(b, p);
    p = sb_reserve(b, 1024);
    HELP("pod_memory_working_set_bytes", "STABLE", "Current working set of the pod in bytes",
         "gauge");
    for (uint32_t j = 0; j < np; j++) {
        model_totals one;
        sb_commit(b, p);
        p = sb_reserve(b, 256);
        model_totals_pods(&g_pods[j], 1, t, &one);
        P_LIT(p, "pod_memory_working_set_bytes");
        p = prom_labels(p, &g_pods[j], -1);
        p = fmt_prom_decimal(p, one.ws, 0);
        p = prom_ts(p, t);
    }
    sb_commit(b, p);
    p = sb_reserve(b, 1024);
    HELP("resource_scrape_error", "STABLE",
         "1 if there was an error while getting container metrics, 0 otherwise", "gauge");
    P_LIT(p, "resource_scrape_error 0\n");
    HELP("scrape_error", "ALPHA",
         "1 if there was an error while getting container metrics, 0 otherwise", "gauge");
    P_LIT(p, "scrape_error 0\n");
    sb_commit(b, p);
#undef HELP
}

/* ------------------------------------------------------------- /pods */

static void render_pods(sb *b, uint32_t i)
{
    SB_LIT(b, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[");
    for (uint32_t j = 0; j < sim->o.pods; j++) {
        model_pod pod;
        model_pod_get(i, j, &pod);
        if (j)
            SB_LIT(b, ",");
        api_render_pod(b, &pod, model_pod_rv(i, j), false);
    }
    SB_LIT(b, "]}\n");
}

/* ----------------------------------------------------------------- faults */

static const char huge_elem[] = "{\"name\":\"pad\",\"startTime\":\"2026-01-01T00:00:00Z\"},";
static char g_huge_pat[(sizeof(huge_elem) - 1) * 4096];

static const char huge_prefix[] = "{\n \"node\": {\n  \"nodeName\": \"sim-node-huge\",\n"
                                  "  \"systemContainers\": [";

/* FAULT_HUGE producer: a summary whose systemContainers array never ends,
 * 1 GiB in all, produced 256 KiB at a time from a pattern buffer. */
static http_produce_rc huge_produce(http_conn *c)
{
    size_t n = sizeof(g_huge_pat);

    if (c->huge_left == 0)
        return PRODUCE_DONE;
    if (c->huge_left == HUGE_TOTAL) {
        sb_put(http_outbuf(c), huge_prefix, sizeof(huge_prefix) - 1);
        c->huge_left -= sizeof(huge_prefix) - 1;
        return PRODUCE_MORE;
    }
    if (g_huge_pat[0] == 0)
        for (size_t k = 0; k < 4096; k++)
            memcpy(g_huge_pat + k * (sizeof(huge_elem) - 1), huge_elem, sizeof(huge_elem) - 1);
    if (n > c->huge_left)
        n = (size_t)c->huge_left;
    sb_put(http_outbuf(c), g_huge_pat, n);
    c->huge_left -= n;
    return PRODUCE_MORE;
}

enum { EP_SUMMARY, EP_SUMMARY_LIGHT, EP_METRICS, EP_PODS };

static void render_endpoint(sb *b, int ep, uint32_t i, int64_t t)
{
    if (ep == EP_SUMMARY || ep == EP_SUMMARY_LIGHT)
        render_summary(b, i, t, ep == EP_SUMMARY);
    else if (ep == EP_METRICS)
        render_metrics(b, i, t);
    else
        render_pods(b, i);
}

/* Serve endpoint `ep` of node i, applying the node's fault if any. */
static void serve(http_conn *c, int ep, uint32_t i)
{
    const char *ct = ep == EP_METRICS ? CT_PROM : CT_JSON;
    int fault = sim->fault[i];
    int64_t t = http_now();
    sb *b;

    if (fault != FAULT_NONE && fault != FAULT_NOTREADY)
        sim->st.fault_responses++;
    switch (fault) {
    case FAULT_REFUSE:
        http_reset(c);
        return;
    case FAULT_HANG:
        http_set_hang(c);
        return;
    case FAULT_HTTP500:
        http_send_simple(c, 500, "text/plain; charset=utf-8",
                         "Internal Server Error: simulated fault\n", 39);
        return;
    case FAULT_GARBAGE: {
        static const char g[] = "<html><head><title>502 Bad Gateway</title></head>\n"
                                "<body>simulated garbage \x01\x02\xff\xfe not json {{{</body></html>\n";
        http_send_simple(c, 200, ct, g, sizeof(g) - 1);
        return;
    }
    case FAULT_HUGE:
        c->huge_left = HUGE_TOTAL;
        http_send_stream(c, 200, CT_JSON, HUGE_TOTAL, huge_produce);
        return;
    default:
        break;
    }
    b = http_body(c);
    {
        size_t start = b->len;
        render_endpoint(b, ep, i, t);
        if (fault == FAULT_TRUNCATED)
            b->len = start + (b->len - start) / 2;
    }
    http_send(c, 200, ct);
    if (fault == FAULT_DRIP)
        http_set_drip(c);
    if (fault == FAULT_NONE || fault == FAULT_NOTREADY) {
        if (ep == EP_SUMMARY || ep == EP_SUMMARY_LIGHT) {
            sim->st.summaries++;
            sim->served[i]++;
            sim->last_sample[i] = t;
        } else if (ep == EP_METRICS) {
            sim->st.metrics++;
        } else {
            sim->st.kubelet_pods++;
        }
    }
}

static void not_found(http_conn *c)
{
    http_send_simple(c, 404, "text/plain; charset=utf-8", "404 page not found\n", 19);
}

void kubelet_handle(http_conn *c, const http_req *r)
{
    int ep = -1;

    if (c->node < 0 || (uint32_t)c->node >= sim->node_count) {
        not_found(c);
        return;
    }
    if (http_path_is(r, "/stats/summary") || http_path_is(r, "/stats/summary/")) {
        char v[16];
        ep = EP_SUMMARY;
        if (http_query_get(r, "only_cpu_and_memory", v, sizeof(v)) >= 0 && strcmp(v, "true") == 0)
            ep = EP_SUMMARY_LIGHT;
    } else if (http_path_is(r, "/metrics/resource") || http_path_is(r, "/metrics/resource/")) {
        ep = EP_METRICS;
    } else if (http_path_is(r, "/pods") || http_path_is(r, "/pods/")) {
        ep = EP_PODS;
    } else if (http_path_is(r, "/healthz")) {
        http_send_simple(c, 200, "text/plain; charset=utf-8", "ok", 2);
        return;
    }
    if (ep < 0) {
        not_found(c);
        return;
    }
    if (r->method != HTTP_GET && r->method != HTTP_POST) {
        http_send_simple(c, 405, "text/plain; charset=utf-8", "405 method not allowed\n", 23);
        return;
    }
    serve(c, ep, (uint32_t)c->node);
}
