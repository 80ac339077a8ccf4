/*
 * sim_disc.c - API discovery, as kubectl and client-go read it (prefix disc_).
 *
 *   GET /version                      version.Info of a v1.35.0 server
 *   GET /api                          APIVersions (v1)
 *   GET /api/v1                       APIResourceList: namespaces, nodes, pods,
 *                                     replicationcontrollers
 *   GET /apis                         APIGroupList: apps, batch, and
 *                                     metrics.k8s.io when --metrics-backend is set
 *   GET /apis/{apps,batch}            APIGroup
 *   GET /apis/{apps,batch}/v1         APIResourceList
 *   GET /apis/metrics.k8s.io          APIGroup (the versions below it are proxied)
 *
 * Only the legacy (unaggregated) discovery format is served; clients asking
 * for apidiscovery.k8s.io/v2 get application/json and fall back to it, as
 * they do with any server that does not aggregate.  Verbs are get, list and
 * watch: the simulator is read-only.
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

#define CT_JSON "application/json"

static void send_lit(http_conn *c, const char *s)
{
    http_send_simple(c, 200, CT_JSON, s, strlen(s));
}

#define VERBS "\"verbs\":[\"get\",\"list\",\"watch\"]"

static const char core_v1[] =
    "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":["
    "{\"name\":\"namespaces\",\"singularName\":\"namespace\",\"namespaced\":false,\"kind\":\"Namespace\","
    VERBS ",\"shortNames\":[\"ns\"],\"storageVersionHash\":\"Q3oi5N2YM8M=\"},"
    "{\"name\":\"nodes\",\"singularName\":\"node\",\"namespaced\":false,\"kind\":\"Node\","
    VERBS ",\"shortNames\":[\"no\"],\"storageVersionHash\":\"XwShjMxG9Fs=\"},"
    "{\"name\":\"pods\",\"singularName\":\"pod\",\"namespaced\":true,\"kind\":\"Pod\","
    VERBS ",\"shortNames\":[\"po\"],\"categories\":[\"all\"],\"storageVersionHash\":\"xPOwRZ+Yhw8=\"},"
    "{\"name\":\"replicationcontrollers\",\"singularName\":\"replicationcontroller\",\"namespaced\":true,"
    "\"kind\":\"ReplicationController\"," VERBS ",\"shortNames\":[\"rc\"],\"categories\":[\"all\"],"
    "\"storageVersionHash\":\"Jond2If31h0=\"}]}\n";

static const char apps_v1[] =
    "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"apps/v1\",\"resources\":["
    "{\"name\":\"daemonsets\",\"singularName\":\"daemonset\",\"namespaced\":true,\"kind\":\"DaemonSet\","
    VERBS ",\"shortNames\":[\"ds\"],\"categories\":[\"all\"],\"storageVersionHash\":\"dd7pWHUlMKQ=\"},"
    "{\"name\":\"deployments\",\"singularName\":\"deployment\",\"namespaced\":true,\"kind\":\"Deployment\","
    VERBS ",\"shortNames\":[\"deploy\"],\"categories\":[\"all\"],\"storageVersionHash\":\"8aSe+NMegvE=\"},"
    "{\"name\":\"replicasets\",\"singularName\":\"replicaset\",\"namespaced\":true,\"kind\":\"ReplicaSet\","
    VERBS ",\"shortNames\":[\"rs\"],\"categories\":[\"all\"],\"storageVersionHash\":\"P1RzHs8/mWQ=\"},"
    "{\"name\":\"statefulsets\",\"singularName\":\"statefulset\",\"namespaced\":true,\"kind\":\"StatefulSet\","
    VERBS ",\"shortNames\":[\"sts\"],\"categories\":[\"all\"],\"storageVersionHash\":\"H+vl74LkKdo=\"}]}\n";

static const char batch_v1[] =
    "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"batch/v1\",\"resources\":["
    "{\"name\":\"cronjobs\",\"singularName\":\"cronjob\",\"namespaced\":true,\"kind\":\"CronJob\","
    VERBS ",\"shortNames\":[\"cj\"],\"categories\":[\"all\"],\"storageVersionHash\":\"sd5LIXh4Fjs=\"},"
    "{\"name\":\"jobs\",\"singularName\":\"job\",\"namespaced\":true,\"kind\":\"Job\","
    VERBS ",\"categories\":[\"all\"],\"storageVersionHash\":\"mudhfqk/qZY=\"}]}\n";

#define GROUP(name, ver)                                                                         \
    "{\"name\":\"" name "\",\"versions\":[{\"groupVersion\":\"" name "/" ver "\",\"version\":\"" ver \
    "\"}],\"preferredVersion\":{\"groupVersion\":\"" name "/" ver "\",\"version\":\"" ver "\"}}"

static void send_group(http_conn *c, const char *name, const char *ver)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\",\"name\":\"%s\",\"versions\":"
                     "[{\"groupVersion\":\"%s/%s\",\"version\":\"%s\"}],\"preferredVersion\":"
                     "{\"groupVersion\":\"%s/%s\",\"version\":\"%s\"}}\n",
                     name, name, ver, ver, name, ver, ver);
    http_send_simple(c, 200, CT_JSON, buf, (size_t)n);
}

bool disc_handle(http_conn *c, const http_req *r)
{
    if (http_path_is(r, "/version") || http_path_is(r, "/version/")) {
        send_lit(c, "{\"major\":\"1\",\"minor\":\"35\",\"emulationMajor\":\"1\",\"emulationMinor\":\"35\","
                    "\"minCompatibilityMajor\":\"1\",\"minCompatibilityMinor\":\"34\","
                    "\"gitVersion\":\"v1.35.0\",\"gitCommit\":\"5ba4c0b0e0de7b4e3e5f2f1d0d4b6c5a0e9f8d7c\","
                    "\"gitTreeState\":\"clean\",\"buildDate\":\"2025-12-17T12:00:00Z\","
                    "\"goVersion\":\"go1.25.5\",\"compiler\":\"gc\",\"platform\":\"linux/amd64\"}\n");
    } else if (http_path_is(r, "/api") || http_path_is(r, "/api/")) {
        char buf[256];
        int n = snprintf(buf, sizeof(buf),
                         "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":"
                         "[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1:%u\"}]}\n",
                         sim->o.api_port);
        http_send_simple(c, 200, CT_JSON, buf, (size_t)n);
    } else if (http_path_is(r, "/api/v1") || http_path_is(r, "/api/v1/")) {
        send_lit(c, core_v1);
    } else if (http_path_is(r, "/apis") || http_path_is(r, "/apis/")) {
        if (proxy_on())
            send_lit(c, "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" GROUP("apps", "v1")
                        "," GROUP("batch", "v1") "," GROUP("metrics.k8s.io", "v1beta1") "]}\n");
        else
            send_lit(c, "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[" GROUP("apps", "v1")
                        "," GROUP("batch", "v1") "]}\n");
    } else if (http_path_is(r, "/apis/apps") || http_path_is(r, "/apis/apps/")) {
        send_group(c, "apps", "v1");
    } else if (http_path_is(r, "/apis/batch") || http_path_is(r, "/apis/batch/")) {
        send_group(c, "batch", "v1");
    } else if (proxy_on() && (http_path_is(r, "/apis/metrics.k8s.io") ||
                              http_path_is(r, "/apis/metrics.k8s.io/"))) {
        send_group(c, "metrics.k8s.io", "v1beta1");
    } else if (http_path_is(r, "/apis/apps/v1") || http_path_is(r, "/apis/apps/v1/")) {
        send_lit(c, apps_v1);
    } else if (http_path_is(r, "/apis/batch/v1") || http_path_is(r, "/apis/batch/v1/")) {
        send_lit(c, batch_v1);
    } else {
        return false;
    }
    return true;
}
