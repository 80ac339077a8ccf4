/*
 * sim_owner.c - workload objects as the API server serves them (prefix
 * owner_): Deployments, ReplicaSets, StatefulSets, DaemonSets (apps/v1),
 * Jobs and CronJobs (batch/v1) and ReplicationControllers (core v1).
 *
 * Which objects exist, their names, uids and pod counts come from the model
 * (sim_model.c, "workload objects"); this file only renders them, compactly
 * and in a real API server's field order.  Replica counts in spec and status
 * are the workload's current pod count, so `kubectl get deployments` shows
 * READY n/n.  Every ownerReference a pod or a ReplicaSet/Job carries names an
 * object rendered here, with the same uid.
 */
#include "sim.h"

#include <string.h>

#define W0_OFFSET (86400 + 30) /* workloads are created at start - this */

const char *owner_kind_name(int kind)
{
    switch (kind) {
    case KIND_RC: return "ReplicationController";
    case KIND_DEPLOY: return "Deployment";
    case KIND_RS: return "ReplicaSet";
    case KIND_STS: return "StatefulSet";
    case KIND_DS: return "DaemonSet";
    case KIND_JOB: return "Job";
    case KIND_CRON: return "CronJob";
    case KIND_NODE: return "Node";
    case KIND_POD: return "Pod";
    default: return "Namespace";
    }
}

const char *owner_api_version(int kind)
{
    switch (kind) {
    case KIND_DEPLOY:
    case KIND_RS:
    case KIND_STS:
    case KIND_DS: return "apps/v1";
    case KIND_JOB:
    case KIND_CRON: return "batch/v1";
    default: return "v1";
    }
}

static char *q_time(char *p, int64_t t)
{
    *p++ = '"';
    p = fmt_rfc3339(p, t);
    *p++ = '"';
    return p;
}

/* the "app" label of a workload: app-<g>, db-<g>, ... (cron: cron-<g>) */
static char *app_label(char *p, int kind, uint64_t g)
{
    uint32_t slot = (uint32_t)(g / model_obj_mult(kind));

    if (kind == KIND_RS)
        return model_obj_name(p, KIND_DEPLOY, slot);
    if (kind == KIND_JOB && g % 4)
        return model_obj_name(p, KIND_CRON, slot);
    return model_obj_name(p, kind, g);
}

static int64_t created(int kind, uint64_t g)
{
    int64_t w0 = sim->start - W0_OFFSET;

    if (kind == KIND_RS && g % 2)
        return w0 + 600;               /* the rollout to revision 2 */
    if (kind == KIND_JOB)
        return g % 4 ? model_cron_minute(g) * 60 : w0 + 60;
    return w0;
}

static char *ownerref(char *p, int kind, uint64_t g)
{
    P_LIT(p, ",\"ownerReferences\":[{\"apiVersion\":\"");
    p = fmt_str(p, owner_api_version(kind));
    P_LIT(p, "\",\"kind\":\"");
    p = fmt_str(p, owner_kind_name(kind));
    P_LIT(p, "\",\"name\":\"");
    p = model_obj_name(p, kind, g);
    P_LIT(p, "\",\"uid\":\"");
    p = model_obj_uid(p, kind, g);
    P_LIT(p, "\",\"controller\":true,\"blockOwnerDeletion\":true}]");
    return p;
}

/* spec.template: labels (already rendered as a JSON object) and one container */
static char *pod_template(char *p, const char *labels, size_t ll, uint32_t grp, bool never)
{
    P_LIT(p, "\"template\":{\"metadata\":{\"labels\":");
    p = fmt_mem(p, labels, ll);
    P_LIT(p, "},\"spec\":{\"containers\":[{\"name\":\"c0\",\"image\":\"registry.example/app-");
    p = fmt_u64(p, grp);
    P_LIT(p, ":1.0\",\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],\"resources\":{},"
             "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\","
             "\"imagePullPolicy\":\"IfNotPresent\"}],\"restartPolicy\":\"");
    p = fmt_str(p, never ? "Never" : "Always");
    P_LIT(p, "\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\","
             "\"securityContext\":{},\"schedulerName\":\"default-scheduler\"}}");
    return p;
}

static char *condition(char *p, const char *type, const char *status, int64_t t, const char *reason,
                       const char *msg)
{
    P_LIT(p, "{\"type\":\"");
    p = fmt_str(p, type);
    P_LIT(p, "\",\"status\":\"");
    p = fmt_str(p, status);
    P_LIT(p, "\",\"lastUpdateTime\":");
    p = q_time(p, t);
    P_LIT(p, ",\"lastTransitionTime\":");
    p = q_time(p, t);
    P_LIT(p, ",\"reason\":\"");
    p = fmt_str(p, reason);
    P_LIT(p, "\",\"message\":\"");
    p = fmt_str(p, msg);
    P_LIT(p, "\"}");
    return p;
}

void owner_render(sb *b, int kind, uint64_t g, uint64_t rv, bool typed)
{
    uint32_t slot = (uint32_t)(g / model_obj_mult(kind)), ns = slot / SIM_GROUPS,
             grp = slot % SIM_GROUPS, n = model_obj_pods(kind, g);
    char *p = sb_reserve(b, 8192), labels[256], *l = labels, app[64], uid[40];
    size_t al = (size_t)(app_label(app, kind, g) - app), ll;
    int64_t t0 = created(kind, g);
    bool cron_job = kind == KIND_JOB && g % 4, done = cron_job && g % 4 != 3;

    model_obj_uid(uid, kind, g);
    /* labels: the selector's, as the controller puts them on its pods */
    P_LIT(l, "{\"app\":\"");
    l = fmt_mem(l, app, al);
    *l++ = '"';
    if (kind == KIND_RS) {
        P_LIT(l, ",\"pod-template-hash\":\"");
        l = model_obj_hash10(l, kind, g);
        *l++ = '"';
    } else if (kind == KIND_JOB) {
        P_LIT(l, ",\"batch.kubernetes.io/controller-uid\":\"");
        l = fmt_mem(l, uid, 36);
        P_LIT(l, "\",\"batch.kubernetes.io/job-name\":\"");
        l = model_obj_name(l, kind, g);
        P_LIT(l, "\",\"controller-uid\":\"");
        l = fmt_mem(l, uid, 36);
        P_LIT(l, "\",\"job-name\":\"");
        l = model_obj_name(l, kind, g);
        *l++ = '"';
    }
    *l++ = '}';
    ll = (size_t)(l - labels);

    *p++ = '{';
    if (typed) {
        P_LIT(p, "\"kind\":\"");
        p = fmt_str(p, owner_kind_name(kind));
        P_LIT(p, "\",\"apiVersion\":\"");
        p = fmt_str(p, owner_api_version(kind));
        P_LIT(p, "\",");
    }
    P_LIT(p, "\"metadata\":{\"name\":\"");
    p = model_obj_name(p, kind, g);
    P_LIT(p, "\",\"namespace\":\"");
    p = fmt_mem(p, sim->ns_name[ns], sim->ns_len[ns]);
    P_LIT(p, "\",\"uid\":\"");
    p = fmt_mem(p, uid, 36);
    P_LIT(p, "\",\"resourceVersion\":\"");
    p = fmt_u64(p, rv ? rv : model_obj_rv(kind, g));
    P_LIT(p, "\",\"generation\":");
    p = fmt_u64(p, kind == KIND_DEPLOY ? 2 : 1);
    P_LIT(p, ",\"creationTimestamp\":");
    p = q_time(p, t0);
    P_LIT(p, ",\"labels\":");
    p = fmt_mem(p, labels, ll);
    if (kind == KIND_DEPLOY)
        P_LIT(p, ",\"annotations\":{\"deployment.kubernetes.io/revision\":\"2\"}");
    else if (kind == KIND_RS) {
        P_LIT(p, ",\"annotations\":{\"deployment.kubernetes.io/desired-replicas\":\"");
        p = fmt_u64(p, model_workload_pods(OWN_REPLICASET, slot));
        P_LIT(p, "\",\"deployment.kubernetes.io/max-replicas\":\"");
        p = fmt_u64(p, model_workload_pods(OWN_REPLICASET, slot) + 1);
        P_LIT(p, "\",\"deployment.kubernetes.io/revision\":\"");
        p = fmt_u64(p, 1 + g % 2);
        P_LIT(p, "\"}");
        p = ownerref(p, KIND_DEPLOY, slot);
    } else if (cron_job) {
        p = ownerref(p, KIND_CRON, slot);
    }
    P_LIT(p, "},\"spec\":{");

    switch (kind) {
    case KIND_DEPLOY:
    case KIND_RS:
    case KIND_STS:
    case KIND_DS:
        if (kind != KIND_DS) {
            P_LIT(p, "\"replicas\":");
            p = fmt_u64(p, n);
            *p++ = ',';
        }
        if (kind == KIND_STS) {
            P_LIT(p, "\"serviceName\":\"");
            p = fmt_mem(p, app, al);
            P_LIT(p, "\",");
        }
        P_LIT(p, "\"selector\":{\"matchLabels\":");
        p = fmt_mem(p, labels, ll);
        P_LIT(p, "},");
        p = pod_template(p, labels, ll, grp, false);
        if (kind == KIND_DEPLOY)
            P_LIT(p, ",\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":"
                     "\"25%\",\"maxSurge\":\"25%\"}},\"revisionHistoryLimit\":10,"
                     "\"progressDeadlineSeconds\":600");
        else if (kind == KIND_STS)
            P_LIT(p, ",\"podManagementPolicy\":\"OrderedReady\",\"updateStrategy\":{\"type\":"
                     "\"RollingUpdate\",\"rollingUpdate\":{\"partition\":0}},\"revisionHistoryLimit\":10,"
                     "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Retain\","
                     "\"whenScaled\":\"Retain\"}");
        else if (kind == KIND_DS)
            P_LIT(p, ",\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
                     "{\"maxUnavailable\":1,\"maxSurge\":0}},\"revisionHistoryLimit\":10");
        break;
    case KIND_RC:
        P_LIT(p, "\"replicas\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"selector\":");
        p = fmt_mem(p, labels, ll);
        *p++ = ',';
        p = pod_template(p, labels, ll, grp, false);
        break;
    case KIND_JOB:
        P_LIT(p, "\"parallelism\":");
        p = fmt_u64(p, done ? 1 : n);
        P_LIT(p, ",\"completions\":");
        p = fmt_u64(p, done ? 1 : n);
        P_LIT(p, ",\"backoffLimit\":6,\"selector\":{\"matchLabels\":{\"batch.kubernetes.io/controller-uid\":\"");
        p = fmt_mem(p, uid, 36);
        P_LIT(p, "\"}},\"manualSelector\":false,");
        p = pod_template(p, labels, ll, grp, true);
        P_LIT(p, ",\"completionMode\":\"NonIndexed\",\"suspend\":false,\"podReplacementPolicy\":"
                 "\"TerminatingOrFailed\"");
        break;
    case KIND_CRON: {
        char jl[64], *j = jl;
        P_LIT(j, "{\"app\":\"");
        j = fmt_mem(j, app, al);
        P_LIT(j, "\"}");
        P_LIT(p, "\"schedule\":\"*/10 * * * *\",\"concurrencyPolicy\":\"Forbid\",\"suspend\":false,"
                 "\"jobTemplate\":{\"metadata\":{},\"spec\":{\"backoffLimit\":6,");
        p = pod_template(p, jl, (size_t)(j - jl), grp, true);
        P_LIT(p, "}},\"successfulJobsHistoryLimit\":3,\"failedJobsHistoryLimit\":1");
        break;
    }
    default:
        break;
    }
    P_LIT(p, "},\"status\":{");

    switch (kind) {
    case KIND_DEPLOY:
        P_LIT(p, "\"observedGeneration\":2,\"replicas\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"updatedReplicas\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"readyReplicas\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"availableReplicas\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"conditions\":[");
        p = condition(p, "Available", "True", t0 + 700, "MinimumReplicasAvailable",
                      "Deployment has minimum availability.");
        *p++ = ',';
        p = condition(p, "Progressing", "True", t0 + 700, "NewReplicaSetAvailable",
                      "ReplicaSet has successfully progressed.");
        *p++ = ']';
        break;
    case KIND_RS:
    case KIND_RC:
        P_LIT(p, "\"replicas\":");
        p = fmt_u64(p, n);
        if (n) {
            P_LIT(p, ",\"fullyLabeledReplicas\":");
            p = fmt_u64(p, n);
            P_LIT(p, ",\"readyReplicas\":");
            p = fmt_u64(p, n);
            P_LIT(p, ",\"availableReplicas\":");
            p = fmt_u64(p, n);
        }
        P_LIT(p, ",\"observedGeneration\":1");
        break;
    case KIND_STS:
        P_LIT(p, "\"observedGeneration\":1,\"replicas\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"readyReplicas\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"currentReplicas\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"updatedReplicas\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"currentRevision\":\"");
        p = fmt_mem(p, app, al);
        *p++ = '-';
        p = model_obj_hash10(p, kind, g);
        P_LIT(p, "\",\"updateRevision\":\"");
        p = fmt_mem(p, app, al);
        *p++ = '-';
        p = model_obj_hash10(p, kind, g);
        P_LIT(p, "\",\"collisionCount\":0,\"availableReplicas\":");
        p = fmt_u64(p, n);
        break;
    case KIND_DS:
        P_LIT(p, "\"currentNumberScheduled\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"numberMisscheduled\":0,\"desiredNumberScheduled\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"numberReady\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"observedGeneration\":1,\"updatedNumberScheduled\":");
        p = fmt_u64(p, n);
        P_LIT(p, ",\"numberAvailable\":");
        p = fmt_u64(p, n);
        break;
    case KIND_JOB:
        P_LIT(p, "\"startTime\":");
        p = q_time(p, t0);
        if (done) {
            P_LIT(p, ",\"completionTime\":");
            p = q_time(p, t0 + 95);
            P_LIT(p, ",\"succeeded\":1,\"terminating\":0,\"uncountedTerminatedPods\":{},\"ready\":0,"
                     "\"conditions\":[");
            p = condition(p, "SuccessCriteriaMet", "True", t0 + 95, "CompletionsReached",
                          "Reached expected number of succeeded pods");
            *p++ = ',';
            p = condition(p, "Complete", "True", t0 + 95, "CompletionsReached",
                          "Reached expected number of succeeded pods");
            *p++ = ']';
        } else {
            P_LIT(p, ",\"active\":");
            p = fmt_u64(p, n);
            P_LIT(p, ",\"terminating\":0,\"uncountedTerminatedPods\":{},\"ready\":");
            p = fmt_u64(p, n);
        }
        break;
    case KIND_CRON:
        P_LIT(p, "\"active\":[{\"kind\":\"Job\",\"namespace\":\"");
        p = fmt_mem(p, sim->ns_name[ns], sim->ns_len[ns]);
        P_LIT(p, "\",\"name\":\"");
        p = model_obj_name(p, KIND_JOB, 4 * (uint64_t)slot + 3);
        P_LIT(p, "\",\"uid\":\"");
        p = model_obj_uid(p, KIND_JOB, 4 * (uint64_t)slot + 3);
        P_LIT(p, "\",\"apiVersion\":\"batch/v1\",\"resourceVersion\":\"");
        p = fmt_u64(p, model_obj_rv(KIND_JOB, 4 * (uint64_t)slot + 3));
        P_LIT(p, "\"}],\"lastScheduleTime\":");
        p = q_time(p, model_cron_minute(4 * (uint64_t)slot + 3) * 60);
        P_LIT(p, ",\"lastSuccessfulTime\":");
        p = q_time(p, model_cron_minute(4 * (uint64_t)slot + 2) * 60 + 95);
        break;
    default:
        break;
    }
    P_LIT(p, "}}");
    sb_commit(b, p);
}
