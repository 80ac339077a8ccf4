/*
 * sim_table.c - server-side printing (prefix table_): the meta.k8s.io Table
 * a real API server returns when the client's Accept header asks for
 * "as=Table" (kubectl get always does).  Columns are those of the API
 * server's printers for each kind (priority 1 columns are the -o wide ones);
 * ages use apimachinery's HumanDuration.  Each row carries the object as
 * PartialObjectMetadata (includeObject=Metadata, the default), the full
 * object (Object) or nothing (None).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, timegm */
#endif
#include "sim.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct col {
    const char *name, *type;
    int priority;
} col;

#define C(n) {n, "string", 0}
#define I(n) {n, "integer", 0}
#define W(n) {n, "string", 1}

static const col c_node[] = {C("Name"), C("Status"), C("Roles"), C("Age"), C("Version"), W("Internal-IP"),
                             W("External-IP"), W("OS-Image"), W("Kernel-Version"), W("Container-Runtime"), {0, 0, 0}};
static const col c_pod[] = {C("Name"), C("Ready"), C("Status"), C("Restarts"), C("Age"), W("IP"), W("Node"),
                            W("Nominated Node"), W("Readiness Gates"), {0, 0, 0}};
static const col c_ns[] = {C("Name"), C("Status"), C("Age"), {0, 0, 0}};
static const col c_deploy[] = {C("Name"), C("Ready"), I("Up-to-date"), I("Available"), C("Age"), W("Containers"),
                               W("Images"), W("Selector"), {0, 0, 0}};
static const col c_rs[] = {C("Name"), I("Desired"), I("Current"), I("Ready"), C("Age"), W("Containers"),
                           W("Images"), W("Selector"), {0, 0, 0}};
static const col c_sts[] = {C("Name"), C("Ready"), C("Age"), W("Containers"), W("Images"), {0, 0, 0}};
static const col c_ds[] = {C("Name"), I("Desired"), I("Current"), I("Ready"), I("Up-to-date"), I("Available"),
                           C("Node Selector"), C("Age"), W("Containers"), W("Images"), W("Selector"), {0, 0, 0}};
static const col c_job[] = {C("Name"), C("Status"), C("Completions"), C("Duration"), C("Age"), W("Containers"),
                            W("Images"), W("Selector"), {0, 0, 0}};
static const col c_cron[] = {C("Name"), C("Schedule"), C("Timezone"), C("Suspend"), I("Active"),
                             C("Last Schedule"), C("Age"), W("Containers"), W("Images"), W("Selector"), {0, 0, 0}};

static const col *columns(int kind)
{
    switch (kind) {
    case KIND_NODE: return c_node;
    case KIND_POD: return c_pod;
    case KIND_NS: return c_ns;
    case KIND_DEPLOY: return c_deploy;
    case KIND_RS:
    case KIND_RC: return c_rs;
    case KIND_STS: return c_sts;
    case KIND_DS: return c_ds;
    case KIND_JOB: return c_job;
    default: return c_cron;
    }
}

int table_wanted(const http_req *r)
{
    const char *v;
    size_t n;

    if (!http_header(r, "Accept", &v, &n) || !memmem(v, n, "as=Table", 8))
        return 0;
    return memmem(v, n, "as=Table;v=v1;", 14) || memmem(v, n, "as=Table;g=meta.k8s.io;v=v1", 27) ? 1 : 2;
}

/* apimachinery's duration.HumanDuration */
static char *human(char *p, int64_t s)
{
    int64_t m = s / 60, h = s / 3600, d = h / 24;

    if (s < -1)
        return p + sprintf(p, "<invalid>");
    if (s < 0)
        return p + sprintf(p, "0s");
    if (s < 120)
        return p + sprintf(p, "%llds", (long long)s);
    if (m < 10)
        return s % 60 ? p + sprintf(p, "%lldm%llds", (long long)m, (long long)(s % 60))
                      : p + sprintf(p, "%lldm", (long long)m);
    if (m < 180)
        return p + sprintf(p, "%lldm", (long long)m);
    if (h < 8)
        return m % 60 ? p + sprintf(p, "%lldh%lldm", (long long)h, (long long)(m % 60))
                      : p + sprintf(p, "%lldh", (long long)h);
    if (h < 48)
        return p + sprintf(p, "%lldh", (long long)h);
    if (h < 24 * 8)
        return h % 24 ? p + sprintf(p, "%lldd%lldh", (long long)d, (long long)(h % 24))
                      : p + sprintf(p, "%lldd", (long long)d);
    if (h < 24 * 365 * 2)
        return p + sprintf(p, "%lldd", (long long)d);
    if (h < 24 * 365 * 8)
        return d % 365 ? p + sprintf(p, "%lldy%lldd", (long long)(d / 365), (long long)(d % 365))
                       : p + sprintf(p, "%lldy", (long long)(d / 365));
    return p + sprintf(p, "%lldy", (long long)(d / 365));
}

void table_begin(sb *b, int kind, int ver, uint64_t rv, const char *cont, size_t cont_len)
{
    const col *c = columns(kind);
    char *p = sb_reserve(b, 4096 + cont_len);

    P_LIT(p, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/");
    p = fmt_str(p, ver == 1 ? "v1" : "v1beta1");
    P_LIT(p, "\",\"metadata\":{\"resourceVersion\":\"");
    p = fmt_u64(p, rv);
    *p++ = '"';
    if (cont_len) {
        P_LIT(p, ",\"continue\":\"");
        p = fmt_mem(p, cont, cont_len);
        *p++ = '"';
    }
    P_LIT(p, "},\"columnDefinitions\":[");
    for (int k = 0; c[k].name; k++) {
        if (k)
            *p++ = ',';
        P_LIT(p, "{\"name\":\"");
        p = fmt_str(p, c[k].name);
        P_LIT(p, "\",\"type\":\"");
        p = fmt_str(p, c[k].type);
        P_LIT(p, "\",\"format\":\"");
        p = fmt_str(p, k == 0 ? "name" : "");
        P_LIT(p, "\",\"description\":\"\",\"priority\":");
        p = fmt_u64(p, (uint64_t)c[k].priority);
        *p++ = '}';
    }
    P_LIT(p, "],\"rows\":[");
    sb_commit(b, p);
}

void table_end(sb *b) { SB_LIT(b, "]}"); }

/* The "metadata":{...} member of a rendered object (string-aware scan). */
static bool find_metadata(const char *s, size_t n, size_t *off, size_t *len)
{
    const char *m = memmem(s, n, "\"metadata\":{", 12);
    size_t k, depth = 0;
    bool str = false;

    if (!m)
        return false;
    k = (size_t)(m - s) + 11;
    for (size_t j = k; j < n; j++) {
        char ch = s[j];
        if (str) {
            if (ch == '\\')
                j++;
            else if (ch == '"')
                str = false;
        } else if (ch == '"') {
            str = true;
        } else if (ch == '{') {
            depth++;
        } else if (ch == '}' && --depth == 0) {
            *off = k;
            *len = j + 1 - k;
            return true;
        }
    }
    return false;
}

#define S(lit) do { *p++ = '"'; P_LIT(p, lit); *p++ = '"'; } while (0)
#define Q(expr) do { *p++ = '"'; p = (expr); *p++ = '"'; } while (0)
#define SEP() (*p++ = ',')

static char *image(char *p, uint32_t grp)
{
    P_LIT(p, "registry.example/app-");
    p = fmt_u64(p, grp);
    P_LIT(p, ":1.0");
    return p;
}

static char *cells(char *p, int kind, uint64_t g, const char *obj, size_t objlen, int64_t now)
{
    char *q;

    if (kind == KIND_NODE) {
        uint32_t i = (uint32_t)g;
        Q(model_node_name(p, i));
        SEP();
        if (model_node_ready(i))
            S("Ready");
        else
            S("NotReady");
        P_LIT(p, ",\"<none>\",");
        Q(human(p, now - (sim->start - 86400)));
        P_LIT(p, ",\"v1.35.0\",");
        Q(model_node_ip(p, i));
        P_LIT(p, ",\"<none>\",\"Debian GNU/Linux 12 (bookworm)\",\"6.1.0-sim\",\"containerd://2.2.1\"");
    } else if (kind == KIND_POD) {
        model_pod pod;
        uint32_t i = (uint32_t)(g / sim->o.pods), j = (uint32_t)(g % sim->o.pods), restarts = 0;
        int64_t last = 0;
        model_pod_get(i, j, &pod);
        for (int k = 0; k < pod.nctr; k++)
            if (pod.ctr[k].restarts) {
                restarts += pod.ctr[k].restarts;
                if (pod.ctr[k].t0 - 1 > last)
                    last = pod.ctr[k].t0 - 1;
            }
        Q(model_pod_name(p, i, j));
        P_LIT(p, ",\"");
        p = fmt_u64(p, (uint64_t)pod.nctr);
        *p++ = '/';
        p = fmt_u64(p, (uint64_t)pod.nctr);
        P_LIT(p, "\",\"Running\",\"");
        p = fmt_u64(p, restarts);
        if (restarts) {
            P_LIT(p, " (");
            p = human(p, now - last);
            P_LIT(p, " ago)");
        }
        P_LIT(p, "\",");
        Q(human(p, now - (pod.t0 - 1)));
        P_LIT(p, ",\"10.");
        p = fmt_u64(p, i >> 8);
        *p++ = '.';
        p = fmt_u64(p, i & 255);
        *p++ = '.';
        p = fmt_u64(p, j + 2);
        P_LIT(p, "\",");
        Q(model_node_name(p, i));
        P_LIT(p, ",\"<none>\",\"<none>\"");
    } else if (kind == KIND_NS) {
        Q(fmt_mem(p, sim->ns_name[g], sim->ns_len[g]));
        P_LIT(p, ",\"Active\",");
        Q(human(p, now - (sim->start - 86400 - 60)));
    } else {
        /* workloads: counts and times from the model, creation time from the
         * rendered object (its first creationTimestamp) */
        uint32_t slot = (uint32_t)(g / model_obj_mult(kind)), grp = slot % SIM_GROUPS;
        uint64_t n = model_obj_pods(kind, g);
        int64_t age = 0;
        const char *ct = memmem(obj, objlen, "\"creationTimestamp\":\"", 21);
        char name[64], sel[160];
        size_t nl = (size_t)(model_obj_name(name, kind, g) - name);
        if (ct) {
            struct tm tm;
            memset(&tm, 0, sizeof(tm));
            if (sscanf(ct + 21, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                       &tm.tm_min, &tm.tm_sec) == 6) {
                tm.tm_year -= 1900;
                tm.tm_mon -= 1;
                age = now - (int64_t)timegm(&tm);
            }
        }
        q = sel;
        P_LIT(q, "app=");
        if (kind == KIND_RS) {
            q = model_obj_name(q, KIND_DEPLOY, slot);
            P_LIT(q, ",pod-template-hash=");
            q = model_obj_hash10(q, kind, g);
        } else if (kind == KIND_JOB) {
            q = sel;
            P_LIT(q, "batch.kubernetes.io/controller-uid=");
            q = model_obj_uid(q, kind, g);
        } else {
            q = model_obj_name(q, kind, g);
        }
        *q = 0;
        Q(fmt_mem(p, name, nl));
        SEP();
        switch (kind) {
        case KIND_DEPLOY:
            P_LIT(p, "\"");
            p += sprintf(p, "%llu/%llu\",%llu,%llu,", (unsigned long long)n, (unsigned long long)n,
                         (unsigned long long)n, (unsigned long long)n);
            break;
        case KIND_RS:
        case KIND_RC:
            p += sprintf(p, "%llu,%llu,%llu,", (unsigned long long)n, (unsigned long long)n,
                         (unsigned long long)n);
            break;
        case KIND_STS:
            p += sprintf(p, "\"%llu/%llu\",", (unsigned long long)n, (unsigned long long)n);
            break;
        case KIND_DS:
            p += sprintf(p, "%llu,%llu,%llu,%llu,%llu,\"<none>\",", (unsigned long long)n,
                         (unsigned long long)n, (unsigned long long)n, (unsigned long long)n,
                         (unsigned long long)n);
            break;
        case KIND_JOB:
            if (g % 4 == 1 || g % 4 == 2)
                P_LIT(p, "\"Complete\",\"1/1\",\"95s\",");
            else {
                p += sprintf(p, "\"Running\",\"0/%llu\",\"", (unsigned long long)n);
                p = human(p, age);
                P_LIT(p, "\",");
            }
            break;
        default: /* KIND_CRON */
            P_LIT(p, "\"*/10 * * * *\",\"<none>\",\"False\",1,\"");
            p = human(p, now - model_cron_minute(4 * (uint64_t)slot + 3) * 60);
            P_LIT(p, "\",");
            break;
        }
        Q(human(p, age));
        if (kind == KIND_STS) {
            P_LIT(p, ",\"c0\",");
            Q(image(p, grp));
        } else {
            P_LIT(p, ",\"c0\",");
            Q(image(p, grp));
            SEP();
            if (kind == KIND_CRON)
                S("<none>");
            else
                Q(fmt_str(p, sel));
        }
    }
    return p;
}

void table_row(sb *b, int kind, uint64_t g, int include, const char *obj, size_t objlen, int64_t now)
{
    char *p = sb_reserve(b, 2048 + objlen);

    P_LIT(p, "{\"cells\":[");
    p = cells(p, kind, g, obj, objlen, now);
    *p++ = ']';
    if (include == 1) {
        size_t off, len;
        if (find_metadata(obj, objlen, &off, &len)) {
            P_LIT(p, ",\"object\":{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
                     "\"metadata\":");
            p = fmt_mem(p, obj + off, len);
            *p++ = '}';
        }
    } else if (include == 2) {
        P_LIT(p, ",\"object\":");
        p = fmt_mem(p, obj, objlen);
    }
    *p++ = '}';
    sb_commit(b, p);
}
