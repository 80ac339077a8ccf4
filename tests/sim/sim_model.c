/*
 * sim_model.c - the simulated cluster (prefix model_).
 *
 * Every parameter of a node, pod or container is a pure function of
 * (seed, node index, pod index, container index): a splitmix64 hash of those
 * is computed on demand and sliced into fields (rates, gauges, start times,
 * owners, requests).  Counters are "base + rate * (t - t0)" with integer
 * arithmetic, so any value served at time t can be recomputed exactly by a
 * test from /sim/truth.  Pod values are sums over their containers, node
 * values sums over pods plus the kubelet and runtime system containers.
 *
 * The only mutable state is per node: the fault kind, the resourceVersion of
 * the node object and of its pods, and serving statistics; plus the global
 * resourceVersion and a ring of change events that API watches replay.  Each
 * event takes exactly one resourceVersion, so the ring is indexed by rv.
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EV_RING_CAP ((size_t)1 << 20)
#define INITIAL_NODE_RV 10000
#define INITIAL_PODS_RV 20000
#define INITIAL_RV 100000

#define GiB ((uint64_t)1 << 30)
#define MiB ((uint64_t)1 << 20)
#define PAGE 4096u

enum { TAG_NODE = 11, TAG_POD, TAG_CTR, TAG_OWNER, TAG_SYS };

static const char *const fault_names[FAULT__COUNT] = {
    "none", "refuse", "hang", "http500", "garbage", "truncated", "huge", "drip", "notready",
};

/* Alphabet Kubernetes uses for generated name suffixes (no vowels). */
static const char name_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

const char *model_fault_name(int kind)
{
    return kind >= 0 && kind < FAULT__COUNT ? fault_names[kind] : "?";
}

int model_fault_parse(const char *s)
{
    for (int k = 0; k < FAULT__COUNT; k++)
        if (strcmp(s, fault_names[k]) == 0)
            return k;
    return -EINVAL;
}

/* ---------------------------------------------------------------- hashing */

static inline uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t model_hash(uint64_t tag, uint64_t a, uint64_t b, uint64_t c)
{
    return mix64(mix64(mix64(mix64(sim->o.seed ^ (tag << 56)) ^ a) ^ b) ^ c);
}

/* Field n of an object whose base hash is h: independent-looking values. */
static inline uint64_t hf(uint64_t h, uint64_t n) { return mix64(h + n * 0x632be59bd9b4e019ULL); }

/* ------------------------------------------------------------------ names */

char *model_node_name(char *p, uint32_t i)
{
    P_LIT(p, "sim-node-");
    return fmt_u64(p, i);
}

char *model_node_ip(char *p, uint32_t i)
{
    P_LIT(p, "127.0.");
    p = fmt_u64(p, 1 + i / 250);
    *p++ = '.';
    return fmt_u64(p, 1 + i % 250);
}

char *model_pod_name(char *p, uint32_t i, uint32_t j)
{
    P_LIT(p, "pod-");
    p = fmt_u64(p, i);
    *p++ = '-';
    return fmt_u64(p, j);
}

char *model_ctr_name(char *p, int k)
{
    *p++ = 'c';
    return fmt_u64(p, (uint64_t)k);
}

/* RFC 4122-looking version-4 UID, 36 characters. */
char *model_uid(char *p, uint64_t tag, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h1 = model_hash(0x80 | tag, a, b, c), h2 = mix64(h1);

    h1 = (h1 & ~0xf000ULL) | 0x4000ULL;                      /* version 4 */
    h2 = (h2 & ~(0xcULL << 60)) | (0x8ULL << 60);            /* variant */
    p = fmt_hex(p, h1 >> 32, 4);
    *p++ = '-';
    p = fmt_hex(p, h1 >> 16, 2);
    *p++ = '-';
    p = fmt_hex(p, h1, 2);
    *p++ = '-';
    p = fmt_hex(p, h2 >> 48, 2);
    *p++ = '-';
    return fmt_hex(p, h2, 6);
}

static void suffix(char *out, uint64_t h, int n)
{
    for (int k = 0; k < n; k++) {
        out[k] = name_alphabet[h % (sizeof(name_alphabet) - 1)];
        h /= sizeof(name_alphabet) - 1;
    }
    out[n] = 0;
}

char *model_owner_name(char *p, const model_pod *pod)
{
    int kind;
    uint64_t g;

    if (!model_pod_ref(pod, &kind, &g))
        return p;
    return model_obj_name(p, kind, g);
}

int model_node_parse(const char *name, size_t n)
{
    uint64_t v = 0;
    size_t k = 9;

    if (n <= 9 || memcmp(name, "sim-node-", 9) != 0 || n > 9 + 6)
        return -ENOENT;
    if (name[9] == '0' && n > 10)
        return -ENOENT;
    for (; k < n; k++) {
        if (name[k] < '0' || name[k] > '9')
            return -ENOENT;
        v = v * 10 + (uint64_t)(name[k] - '0');
    }
    return v < SIM_MAX_NODES ? (int)v : -ENOENT;
}

int model_node_from_ip(uint32_t ip)
{
    uint32_t x = (ip >> 8) & 255, y = ip & 255;

    if ((ip >> 16) != ((127u << 8) | 0) || x < 1 || x > 250 || y < 1 || y > 250)
        return -ENOENT;
    return (int)((x - 1) * 250 + (y - 1));
}

/* ------------------------------------------------------------- parameters */

static void ctr_fill(model_ctr *c, uint64_t h, int qos_mode, int64_t pod_t0, int k)
{
    uint64_t u, extra;

    memset(c, 0, sizeof(*c));
    c->restarts = hf(h, 1) % 20 == 0 ? 1 + (uint32_t)(hf(h, 2) % 4) : 0;
    c->t0 = pod_t0 + 2 + k + 60 * (int64_t)c->restarts;
    u = hf(h, 3) % 500;
    c->cpu_rate = 1000000 + u * u * 1996;          /* 1m .. 499m cores, skewed low */
    c->cpu_base = (hf(h, 4) % 10000) * 1000000;
    if (qos_mode >= 2) {                           /* not BestEffort: requests */
        c->cpu_request_m = 10 * (1 + (uint32_t)(hf(h, 5) % 50));
        c->mem_request = (16 + hf(h, 6) % 241) * MiB;
        if (qos_mode <= 3) {                       /* Guaranteed */
            c->cpu_limit_m = c->cpu_request_m;
            c->mem_limit = c->mem_request;
        } else if (qos_mode <= 7) {                /* Burstable, limits 2x */
            c->cpu_limit_m = 2 * c->cpu_request_m;
            c->mem_limit = 2 * c->mem_request;
        }
    }
    if (c->mem_limit)
        c->ws = c->mem_limit * (30 + hf(h, 7) % 60) / 100 / PAGE * PAGE;
    else
        c->ws = (1024 + hf(h, 7) % 65536) * PAGE;  /* 4 MiB .. 260 MiB */
    extra = (hf(h, 8) % 8192) * PAGE;
    if (c->mem_limit && c->ws + extra > c->mem_limit)
        extra = (c->mem_limit - c->ws) / 2 / PAGE * PAGE;
    c->usage = c->ws + extra;
    c->rss = c->ws / PAGE * 7 / 8 * PAGE;
    c->pf_rate = 1 + hf(h, 9) % 200;
    c->pf_base = hf(h, 10) % 100000;
    c->mpf_rate = hf(h, 11) % 10 == 0;
    c->mpf_base = hf(h, 12) % 50;
    c->rootfs_used = (1 + hf(h, 13) % 2048) * PAGE;
    c->rootfs_inodes = 1 + (uint32_t)(hf(h, 14) % 100);
    c->logs_used = (1 + hf(h, 15) % 256) * PAGE;
    c->logs_inodes = 1;
    c->image_minor = (uint32_t)(hf(h, 16) % 20);
}

/*
 * The pod's controller type: by hash, 60% Deployment (through a ReplicaSet),
 * 12% DaemonSet, 13% StatefulSet, 6% Job, 4% CronJob (through a Job), 3%
 * ReplicationController, 2% none; except that the first seven pods of the
 * cluster (global index i*P+j < 7) take one type each, so every cluster with
 * seven pods or more has them all.
 */
static int pod_owner_type(uint32_t i, uint32_t j, uint64_t h)
{
    static const int first[7] = {OWN_REPLICASET, OWN_STATEFULSET, OWN_DAEMONSET, OWN_JOB,
                                 OWN_CRONJOB, OWN_NONE, OWN_RC};
    uint64_t gi = (uint64_t)i * sim->o.pods + j, u;

    if (gi < 7)
        return first[gi];
    u = hf(h, 1) % 100;
    return u < 60 ? OWN_REPLICASET : u < 72 ? OWN_DAEMONSET : u < 85 ? OWN_STATEFULSET
         : u < 91 ? OWN_JOB : u < 95 ? OWN_CRONJOB : u < 98 ? OWN_RC : OWN_NONE;
}

/* Just the pod's controller type and workload slot (cheap: for counting). */
static void pod_owner_slot(uint32_t i, uint32_t j, int *type, uint32_t *slot)
{
    uint64_t h = model_hash(TAG_POD, i, j, 0);
    uint32_t ns = (uint32_t)(((uint64_t)i * sim->o.pods + j) % sim->o.namespaces);

    *type = pod_owner_type(i, j, h);
    *slot = ns * SIM_GROUPS + (uint32_t)(hf(h, 2) % SIM_GROUPS);
}

void model_pod_get(uint32_t i, uint32_t j, model_pod *p)
{
    uint64_t h = model_hash(TAG_POD, i, j, 0);
    int mode;

    p->node = i;
    p->idx = j;
    p->ns = (uint32_t)(((uint64_t)i * sim->o.pods + j) % sim->o.namespaces);
    p->owner = pod_owner_type(i, j, h);
    p->group = (uint32_t)(hf(h, 2) % SIM_GROUPS);
    p->slot = p->ns * SIM_GROUPS + p->group;
    mode = (int)(hf(h, 3) % 10);
    p->qos = mode < 2 ? 0 : mode < 4 ? 1 : 2;
    p->t0 = sim->start - 60 * (int64_t)(5 + hf(h, 4) % 1380);
    p->nctr = 1 + (int)(hf(h, 5) % sim->o.containers);
    p->rx_rate = 100 + hf(h, 6) % 2000000;
    p->rx_base = hf(h, 7) % 1000000000;
    p->tx_rate = 100 + hf(h, 8) % 1000000;
    p->tx_base = hf(h, 9) % 1000000000;
    p->rxe_rate = hf(h, 10) % 16 == 0;
    p->rxe_base = (hf(h, 10) >> 8) % 100;
    p->txe_rate = hf(h, 11) % 16 == 0;
    p->txe_base = (hf(h, 11) >> 8) % 100;
    p->has_data_vol = hf(h, 12) & 1;
    p->data_used = (1 + hf(h, 13) % 25600) * PAGE;
    p->data_inodes = 1 + (uint32_t)(hf(h, 14) % 50);
    p->process_count = (uint32_t)p->nctr + (uint32_t)(hf(h, 15) % 3);
    memcpy(p->api_vol, "kube-api-access-", 16);
    suffix(p->api_vol + 16, hf(h, 16), 5);
    suffix(p->hash10, model_hash(TAG_OWNER, p->ns, (uint64_t)p->owner, p->group), 10);
    for (int k = 0; k < p->nctr; k++)
        ctr_fill(&p->ctr[k], model_hash(TAG_CTR, i, j, (uint64_t)k), mode, p->t0, k);
}

void model_node_pods(uint32_t i, model_pod *pods)
{
    for (uint32_t j = 0; j < sim->o.pods; j++)
        model_pod_get(i, j, &pods[j]);
}

static void sys_fill(model_sys *s, uint64_t h, int64_t t0, uint64_t cpu_min, uint64_t ws_pages)
{
    s->t0 = t0;
    s->cpu_rate = cpu_min + hf(h, 1) % 30000000;
    s->cpu_base = (hf(h, 2) % 1000) * 1000000;
    s->ws = (ws_pages + hf(h, 3) % 8192) * PAGE;
    s->usage = s->ws + (hf(h, 4) % 2048) * PAGE;
    s->rss = s->ws / PAGE * 7 / 8 * PAGE;
    s->pf_rate = 5 + hf(h, 5) % 20;
    s->pf_base = hf(h, 6) % 100000;
}

void model_node_get(uint32_t i, model_node *n)
{
    uint64_t h = model_hash(TAG_NODE, i, 0, 0);

    n->idx = i;
    n->t0 = sim->start - 86400;
    sys_fill(&n->kubelet, model_hash(TAG_SYS, i, 1, 0), n->t0 + 8, 8000000, 12288);
    sys_fill(&n->runtime, model_hash(TAG_SYS, i, 2, 0), n->t0 + 3, 4000000, 20480);
    n->fs_cap = 100 * GiB;
    n->fs_used = (2621440 + hf(h, 1) % 2621440) * PAGE;  /* 10..20 GiB */
    n->fs_inodes = 6553600;
    n->fs_inodes_used = 150000 + hf(h, 2) % 100000;
    n->img_used = (524288 + hf(h, 3) % 262144) * PAGE;   /* 2..3 GiB */
    n->img_inodes_used = 30000 + hf(h, 4) % 20000;
}

void model_totals_pods(const model_pod *pods, uint32_t np, int64_t t, model_totals *tot)
{
    memset(tot, 0, sizeof(*tot));
    for (uint32_t j = 0; j < np; j++) {
        const model_pod *p = &pods[j];
        for (int k = 0; k < p->nctr; k++) {
            const model_ctr *c = &p->ctr[k];
            tot->cpu_rate += c->cpu_rate;
            tot->cpu_ns += model_counter(c->cpu_base, c->cpu_rate, c->t0, t);
            tot->ws += c->ws;
            tot->usage += c->usage;
            tot->rss += c->rss;
            tot->pf += model_counter(c->pf_base, c->pf_rate, c->t0, t);
            tot->mpf += model_counter(c->mpf_base, c->mpf_rate, c->t0, t);
            tot->pf_rate += c->pf_rate;
            tot->mpf_rate += c->mpf_rate;
        }
        tot->rx += model_counter(p->rx_base, p->rx_rate, p->t0, t);
        tot->tx += model_counter(p->tx_base, p->tx_rate, p->t0, t);
        tot->rxe += model_counter(p->rxe_base, p->rxe_rate, p->t0, t);
        tot->txe += model_counter(p->txe_base, p->txe_rate, p->t0, t);
        tot->rx_rate += p->rx_rate;
        tot->tx_rate += p->tx_rate;
        tot->rxe_rate += p->rxe_rate;
        tot->txe_rate += p->txe_rate;
        tot->processes += p->process_count;
    }
}

static void add_sys(model_totals *tot, const model_sys *s, int64_t t)
{
    tot->cpu_rate += s->cpu_rate;
    tot->cpu_ns += model_counter(s->cpu_base, s->cpu_rate, s->t0, t);
    tot->ws += s->ws;
    tot->usage += s->usage;
    tot->rss += s->rss;
    tot->pf += model_counter(s->pf_base, s->pf_rate, s->t0, t);
    tot->pf_rate += s->pf_rate;
}

void model_totals_node(const model_node *n, const model_totals *pods, int64_t t, model_totals *tot)
{
    *tot = *pods;
    add_sys(tot, &n->kubelet, t);
    add_sys(tot, &n->runtime, t);
    tot->processes += 180;
}

/* ------------------------------------------------------ workload objects */

/*
 * Workloads live in "slots": slot = ns * SIM_GROUPS + group, one per
 * namespace and app group, for each controller type.  A pod of type T in
 * slot s makes the objects of T's chain exist:
 *
 *   OWN_REPLICASET  Deployment app-<g> (KIND_DEPLOY s), its old ReplicaSet
 *                   (KIND_RS 2s, revision 1, 0 replicas) and current one
 *                   app-<g>-<hash> (KIND_RS 2s+1), which owns the pods
 *   OWN_DAEMONSET   DaemonSet agent-<g>            (KIND_DS s)
 *   OWN_STATEFULSET StatefulSet db-<g>             (KIND_STS s)
 *   OWN_JOB         Job batch-<g>                  (KIND_JOB 4s)
 *   OWN_CRONJOB     CronJob cron-<g> (KIND_CRON s), two completed Jobs
 *                   cron-<g>-<minute> (KIND_JOB 4s+1, 4s+2) and the running
 *                   one (KIND_JOB 4s+3), which owns the pods
 *   OWN_RC          ReplicationController rc-<g>   (KIND_RC s)
 *
 * An object exists exactly while its workload has at least one pod on a
 * current node; sim->ocount[type][slot] counts those pods.
 */
#define INITIAL_OWNER_RV 5000
#define CRON_TAG 18            /* uid codes: see model_obj_uid() */

static uint32_t slots(void) { return sim->o.namespaces * SIM_GROUPS; }

uint32_t model_obj_mult(int kind) { return kind == KIND_RS ? 2 : kind == KIND_JOB ? 4 : 1; }

uint64_t model_obj_count(int kind) { return (uint64_t)slots() * model_obj_mult(kind); }

/* The controller type whose pods make object (kind, g) exist. */
static int obj_type(int kind, uint64_t g)
{
    switch (kind) {
    case KIND_DEPLOY:
    case KIND_RS: return OWN_REPLICASET;
    case KIND_DS: return OWN_DAEMONSET;
    case KIND_STS: return OWN_STATEFULSET;
    case KIND_RC: return OWN_RC;
    case KIND_CRON: return OWN_CRONJOB;
    case KIND_JOB: return g % 4 == 0 ? OWN_JOB : OWN_CRONJOB;
    default: return -1;
    }
}

uint32_t model_workload_pods(int type, uint32_t slot)
{
    return type >= 0 && type < OWN_NONE && slot < slots() ? sim->ocount[type][slot] : 0;
}

bool model_obj_exists(int kind, uint64_t g)
{
    if (!KIND_IS_OWNER(kind) || g >= model_obj_count(kind))
        return false;
    return model_workload_pods(obj_type(kind, g), (uint32_t)(g / model_obj_mult(kind))) > 0;
}

uint64_t model_obj_rv(int kind, uint64_t g)
{
    return KIND_IS_OWNER(kind) && g < model_obj_count(kind) ? sim->orv[kind][g] : 0;
}

uint32_t model_obj_pods(int kind, uint64_t g)
{
    uint32_t n = model_workload_pods(obj_type(kind, g), (uint32_t)(g / model_obj_mult(kind)));

    if ((kind == KIND_RS && g % 2 == 0) || (kind == KIND_JOB && g % 4 != 0 && g % 4 != 3))
        return 0; /* old ReplicaSet, completed Jobs */
    return n;
}

int64_t model_cron_minute(uint64_t g)
{
    /* every 10 minutes from just after node boot; the third is still running */
    int64_t first = (sim->start - 86400 + 599) / 600 * 10;
    return first + 10 * (int64_t)((g % 4) - 1);
}

char *model_obj_name(char *p, int kind, uint64_t g)
{
    uint32_t grp = (uint32_t)(g / model_obj_mult(kind)) % SIM_GROUPS;

    switch (kind) {
    case KIND_DEPLOY:
    case KIND_RS:
        P_LIT(p, "app-");
        p = fmt_u64(p, grp);
        if (kind == KIND_RS) {
            *p++ = '-';
            p = model_obj_hash10(p, kind, g);
        }
        return p;
    case KIND_DS: P_LIT(p, "agent-"); break;
    case KIND_STS: P_LIT(p, "db-"); break;
    case KIND_RC: P_LIT(p, "rc-"); break;
    case KIND_CRON: P_LIT(p, "cron-"); break;
    case KIND_JOB:
        if (g % 4 == 0) {
            P_LIT(p, "batch-");
            break;
        }
        P_LIT(p, "cron-");
        p = fmt_u64(p, grp);
        *p++ = '-';
        return fmt_u64(p, (uint64_t)model_cron_minute(g));
    default: break;
    }
    return fmt_u64(p, grp);
}

/* uid code of an object: 0..3 are the historical pod owner uids. */
static uint64_t obj_code(int kind, uint64_t g)
{
    switch (kind) {
    case KIND_RS: return g % 2 ? 0 : 17;
    case KIND_DS: return 1;
    case KIND_STS: return 2;
    case KIND_JOB: return g % 4 == 0 ? 3 : CRON_TAG + g % 4;
    case KIND_DEPLOY: return 16;
    case KIND_CRON: return CRON_TAG;
    default: return 22; /* KIND_RC */
    }
}

char *model_obj_uid(char *p, int kind, uint64_t g)
{
    uint32_t slot = (uint32_t)(g / model_obj_mult(kind));
    return model_uid(p, UID_OWNER, slot / SIM_GROUPS, obj_code(kind, g), slot % SIM_GROUPS);
}

char *model_obj_hash10(char *p, int kind, uint64_t g)
{
    uint32_t slot = (uint32_t)(g / model_obj_mult(kind));
    char h[12];

    /* the current ReplicaSet, DaemonSet and StatefulSet hashes are the ones
     * their pods carry (model_pod_get: hash of ns, owner type, group) */
    suffix(h, model_hash(TAG_OWNER, slot / SIM_GROUPS, obj_code(kind, g), slot % SIM_GROUPS), 10);
    return fmt_mem(p, h, 10);
}

int64_t model_obj_lookup(int kind, int ns, const char *name)
{
    uint32_t m = model_obj_mult(kind);
    size_t nl = strlen(name);

    if (ns < 0 || (uint32_t)ns >= sim->o.namespaces || !KIND_IS_OWNER(kind))
        return -1;
    for (uint32_t grp = 0; grp < SIM_GROUPS; grp++)
        for (uint32_t r = 0; r < m; r++) {
            uint64_t g = ((uint64_t)ns * SIM_GROUPS + grp) * m + r;
            char buf[64];
            size_t bl = (size_t)(model_obj_name(buf, kind, g) - buf);
            if (bl == nl && memcmp(buf, name, nl) == 0)
                return (int64_t)g;
        }
    return -1;
}

bool model_pod_ref(const model_pod *pod, int *kind, uint64_t *g)
{
    uint64_t s = pod->slot;

    switch (pod->owner) {
    case OWN_REPLICASET: *kind = KIND_RS; *g = 2 * s + 1; return true;
    case OWN_DAEMONSET: *kind = KIND_DS; *g = s; return true;
    case OWN_STATEFULSET: *kind = KIND_STS; *g = s; return true;
    case OWN_JOB: *kind = KIND_JOB; *g = 4 * s; return true;
    case OWN_CRONJOB: *kind = KIND_JOB; *g = 4 * s + 3; return true;
    case OWN_RC: *kind = KIND_RC; *g = s; return true;
    default: return false;
    }
}

bool model_pod_workload(const model_pod *pod, int *kind, uint64_t *g)
{
    if (pod->owner == OWN_REPLICASET) {
        *kind = KIND_DEPLOY;
        *g = pod->slot;
        return true;
    }
    if (pod->owner == OWN_CRONJOB) {
        *kind = KIND_CRON;
        *g = pod->slot;
        return true;
    }
    return model_pod_ref(pod, kind, g);
}

/* Objects of a workload, parent first (chain) / those whose status counts
 * its pods (counted).  Returns how many. */
static int obj_chain(int type, uint32_t s, bool counted, int *kind, uint64_t *g)
{
    int n = 0;
#define ADD(k, x) do { kind[n] = (k); g[n] = (x); n++; } while (0)
    switch (type) {
    case OWN_REPLICASET:
        ADD(KIND_DEPLOY, s);
        if (!counted)
            ADD(KIND_RS, 2 * (uint64_t)s);
        ADD(KIND_RS, 2 * (uint64_t)s + 1);
        break;
    case OWN_CRONJOB:
        if (!counted) {
            ADD(KIND_CRON, s);
            ADD(KIND_JOB, 4 * (uint64_t)s + 1);
            ADD(KIND_JOB, 4 * (uint64_t)s + 2);
        }
        ADD(KIND_JOB, 4 * (uint64_t)s + 3);
        break;
    case OWN_DAEMONSET: ADD(KIND_DS, s); break;
    case OWN_STATEFULSET: ADD(KIND_STS, s); break;
    case OWN_JOB: ADD(KIND_JOB, 4 * (uint64_t)s); break;
    case OWN_RC: ADD(KIND_RC, s); break;
    default: break;
    }
#undef ADD
    return n;
}

/* ------------------------------------------------- resourceVersions/events */

static void ev_push(int type, int kind, uint32_t node, uint32_t pod, bool ready)
{
    model_event *e;

    if (sim->ev_count == sim->ev_cap) { /* drop the oldest; older watches expire */
        sim->watch_valid_rv = sim->ev[sim->ev_head].rv;
        sim->ev_head = (sim->ev_head + 1) % sim->ev_cap;
        sim->ev_count--;
    }
    e = &sim->ev[(sim->ev_head + sim->ev_count) % sim->ev_cap];
    e->rv = ++sim->rv;
    e->type = (uint8_t)type;
    e->kind = (uint8_t)kind;
    e->node = node;
    e->pod = (uint16_t)pod;
    e->ready = ready;
    sim->ev_count++;
}

const model_event *model_event_at(uint64_t rv)
{
    uint64_t first;

    if (sim->ev_count == 0)
        return NULL;
    first = sim->ev[sim->ev_head].rv;
    if (rv < first || rv - first >= sim->ev_count)
        return NULL;
    return &sim->ev[(sim->ev_head + (size_t)(rv - first)) % sim->ev_cap];
}

void model_expire(void)
{
    ev_push(EV_MODIFIED, KIND__COUNT, 0, 0, true); /* a kind no watch matches */
    sim->watch_valid_rv = sim->rv;
}

uint64_t model_pod_rv(uint32_t i, uint32_t j) { return sim->pods_rv[i] + j; }

int model_set_fault(uint32_t i, int kind)
{
    bool was_ready, ready;

    if (i >= SIM_MAX_NODES)
        return -ENOENT;
    if (kind < 0 || kind >= FAULT__COUNT)
        return -EINVAL;
    was_ready = model_node_ready(i);
    sim->fault[i] = (uint8_t)kind;
    ready = model_node_ready(i);
    if (i < sim->node_count && ready != was_ready) {
        ev_push(EV_MODIFIED, KIND_NODE, i, 0, ready);
        sim->node_rv[i] = sim->rv;
    }
    return 0;
}

/* Workloads touched by one node's pods, with their pod counts before. */
typedef struct touched {
    int type;
    uint32_t slot, before;
} touched;

static int touch_node(uint32_t i, int delta, touched *tl)
{
    int n = 0;

    for (uint32_t j = 0; j < sim->o.pods; j++) {
        int type, k;
        uint32_t slot;
        pod_owner_slot(i, j, &type, &slot);
        if (type == OWN_NONE)
            continue;
        for (k = 0; k < n; k++)
            if (tl[k].type == type && tl[k].slot == slot)
                break;
        if (k == n) {
            tl[n].type = type;
            tl[n].slot = slot;
            tl[n].before = sim->ocount[type][slot];
            n++;
        }
        sim->ocount[type][slot] += (uint32_t)delta;
    }
    return n;
}

/* One event per object of the workload's chain (or its counted objects). */
static void obj_events(int ev, const touched *t, bool counted, bool reverse)
{
    int kind[4];
    uint64_t g[4];
    int n = obj_chain(t->type, t->slot, counted, kind, g);

    for (int k = 0; k < n; k++) {
        int x = reverse ? n - 1 - k : k;
        ev_push(ev, kind[x], (uint32_t)g[x], 0, true);
        sim->orv[kind[x]][g[x]] = sim->rv;
    }
}

int model_set_node_count(uint32_t n)
{
    uint32_t old = sim->node_count;
    static touched tl[SIM_MAX_PODS];

    if (n > SIM_MAX_NODES)
        return -ERANGE;
    for (uint32_t i = old; i < n; i++) {       /* grow: node, new workloads, pods */
        int nt;
        ev_push(EV_ADDED, KIND_NODE, i, 0, model_node_ready(i));
        sim->node_rv[i] = sim->rv;
        nt = touch_node(i, +1, tl);
        for (int k = 0; k < nt; k++)
            if (tl[k].before == 0)
                obj_events(EV_ADDED, &tl[k], false, false);
        sim->pods_rv[i] = sim->rv + 1;
        for (uint32_t j = 0; j < sim->o.pods; j++)
            ev_push(EV_ADDED, KIND_POD, i, j, true);
        for (int k = 0; k < nt; k++)           /* replica counts changed */
            if (tl[k].before != 0)
                obj_events(EV_MODIFIED, &tl[k], true, false);
    }
    for (uint32_t i = old; i-- > n;) {         /* shrink: pods, workloads, node */
        int nt;
        for (uint32_t j = 0; j < sim->o.pods; j++)
            ev_push(EV_DELETED, KIND_POD, i, j, true);
        nt = touch_node(i, -1, tl);
        for (int k = 0; k < nt; k++) {
            if (sim->ocount[tl[k].type][tl[k].slot] == 0)
                obj_events(EV_DELETED, &tl[k], false, true);
            else
                obj_events(EV_MODIFIED, &tl[k], true, false);
        }
        ev_push(EV_DELETED, KIND_NODE, i, 0, model_node_ready(i));
    }
    sim->node_count = n;
    return 0;
}

int model_init(void)
{
    sim->fault = calloc(SIM_MAX_NODES, sizeof(*sim->fault));
    sim->node_rv = calloc(SIM_MAX_NODES, sizeof(*sim->node_rv));
    sim->pods_rv = calloc(SIM_MAX_NODES, sizeof(*sim->pods_rv));
    sim->served = calloc(SIM_MAX_NODES, sizeof(*sim->served));
    sim->last_sample = calloc(SIM_MAX_NODES, sizeof(*sim->last_sample));
    sim->ev_cap = EV_RING_CAP;
    sim->ev = calloc(sim->ev_cap, sizeof(*sim->ev));
    if (!sim->fault || !sim->node_rv || !sim->pods_rv || !sim->served || !sim->last_sample ||
        !sim->ev) {
        model_free();
        return -ENOMEM;
    }
    for (int t = 0; t < OWN_NONE; t++) {
        sim->ocount[t] = calloc((size_t)sim->o.namespaces * SIM_GROUPS, sizeof(uint32_t));
        if (!sim->ocount[t]) {
            model_free();
            return -ENOMEM;
        }
    }
    for (int k = KIND_RC; k < KIND__COUNT; k++) {
        size_t cnt = (size_t)sim->o.namespaces * SIM_GROUPS * model_obj_mult(k);
        sim->orv[k] = malloc(cnt * sizeof(uint64_t));
        if (!sim->orv[k]) {
            model_free();
            return -ENOMEM;
        }
        for (size_t g = 0; g < cnt; g++)
            sim->orv[k][g] = INITIAL_OWNER_RV;
    }
    for (uint32_t i = 0; i < SIM_MAX_NODES; i++) {
        sim->node_rv[i] = INITIAL_NODE_RV;
        sim->pods_rv[i] = INITIAL_PODS_RV;
    }
    sim->rv = INITIAL_RV;
    sim->watch_valid_rv = INITIAL_RV;
    sim->node_count = sim->o.nodes;
    for (uint32_t i = 0; i < sim->node_count; i++) /* initial workloads: no events */
        for (uint32_t j = 0; j < sim->o.pods; j++) {
            int type;
            uint32_t slot;
            pod_owner_slot(i, j, &type, &slot);
            if (type != OWN_NONE)
                sim->ocount[type][slot]++;
        }
    for (uint32_t k = 0; k < sim->o.namespaces; k++) {
        char *p = sim->ns_name[k];
        if (k == 0)
            p = fmt_str(p, "default");
        else if (k == 1)
            p = fmt_str(p, "kube-system");
        else {
            P_LIT(p, "ns-");
            p = fmt_u64(p, k);
        }
        *p = 0;
        sim->ns_len[k] = (uint8_t)(p - sim->ns_name[k]);
    }
    for (int f = 0; f < sim->o.nfaults; f++)
        model_set_fault(sim->o.faults[f].node, sim->o.faults[f].kind);
    return 0;
}

void model_free(void)
{
    free(sim->fault);
    free(sim->node_rv);
    free(sim->pods_rv);
    free(sim->served);
    free(sim->last_sample);
    free(sim->ev);
    for (int t = 0; t < OWN_NONE; t++) {
        free(sim->ocount[t]);
        sim->ocount[t] = NULL;
    }
    for (int k = 0; k < KIND__COUNT; k++) {
        free(sim->orv[k]);
        sim->orv[k] = NULL;
    }
    sim->fault = NULL;
    sim->node_rv = sim->pods_rv = NULL;
    sim->served = NULL;
    sim->last_sample = NULL;
    sim->ev = NULL;
}
