"""The API server's resource metrics (metrics.k8s.io), export and probes.

Starts the simulator (3 nodes x 4 pods) and the pipeline at a 5 s
resolution with only the log sink, then checks what the API answers
against what the simulator served (/sim/truth) and what the simulated
Kubernetes API holds (pod labels):

- test_resource_metrics: NodeMetrics / PodMetrics values, lists, the
  namespace, label and field selectors, 404 Status objects, discovery
  documents, Heapster's old /apis/metrics/v1alpha1, /readyz and /livez;
- test_metric_export: /api/v1/metric-export and its schema;
- test_response_cache: answers from the workers' response caches are
  never older than the store: sequential requests never go back a batch
  (whichever worker answers), a new batch shows at once, a cached answer
  equals one computed afresh, and a cached PodMetrics carries the time of
  its own request;
- test_kubectl: the real kubectl (when installed) against the API:
  `get --raw`, `top pod` straight at heapster-c, and `top node` through a
  small aggregating proxy (kubectl top node also reads /api/v1/nodes from
  the core API, which heapster-c does not serve: the proxy sends /apis to
  heapster-c and everything else to the simulator, as kube-aggregator
  would).
"""
import calendar
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Pipeline, Sim, TestFailure, check, get_json, http, wait_for

RES_S = 5
GV = "metrics.k8s.io/v1beta1"


# ---- helpers ---------------------------------------------------------------

def rfc3339(s):
    """Seconds since the epoch of a whole-second RFC 3339 UTC time."""
    check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s or ""),
          "not a whole-second RFC 3339 UTC time: %r" % (s,))
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def cpu_nanocores(q):
    """Nanocores of a CPU quantity, which must be written as "NNNn" or "0"."""
    check(re.fullmatch(r"0|[1-9][0-9]*n", q), "cpu quantity %r is not NNNn" % q)
    return 0 if q == "0" else int(q[:-1])


def mem_bytes(q, want):
    """Bytes of a memory quantity; it must be exactly metrics-server's form."""
    expect = "%dKi" % (want // 1024) if want and want % 1024 == 0 else str(want)
    check(q == expect, "memory quantity %r, expected %r" % (q, expect))
    return int(q[:-2]) * 1024 if q.endswith("Ki") else int(q)


def cpu_close(got_nano, want_nano):
    """Within 1%, or within one millicore (the stored rate is integral)."""
    return abs(got_nano - want_nano) <= max(0.01 * want_nano, 1e6)


def go_seconds(d):
    check(re.fullmatch(r"[1-9][0-9]*s", d or ""), "window %r is not whole seconds in Go's format" % (d,))
    return int(d[:-1])


def truth_pods(truth):
    """{(ns, name): pod} of every pod the simulator serves."""
    return {(p["namespace"], p["name"]): p for n in truth["nodes"] for p in n["pods"]}


def check_object_times(obj, what):
    now = time.time()
    ts = rfc3339(obj["timestamp"])
    created = rfc3339(obj["metadata"]["creationTimestamp"])
    check(ts % RES_S == 0, "%s timestamp %s is not a batch time" % (what, obj["timestamp"]))
    check(now - 60 <= ts <= now + 1, "%s timestamp %s is not recent" % (what, obj["timestamp"]))
    check(ts <= created <= now + 1, "%s creationTimestamp %s is not the request time"
          % (what, obj["metadata"]["creationTimestamp"]))
    w = go_seconds(obj["window"])
    check(w % RES_S == 0 and w <= 3 * RES_S, "%s window %s is not the batch interval" % (what, obj["window"]))


def check_node(obj, tn):
    check(obj["metadata"]["name"] == tn["name"], "node name %r" % obj["metadata"])
    check(set(obj) == {"metadata", "timestamp", "window", "usage"} or
          set(obj) == {"kind", "apiVersion", "metadata", "timestamp", "window", "usage"},
          "node object fields %s" % sorted(obj))
    check(set(obj["usage"]) == {"cpu", "memory"}, "node usage %r" % obj["usage"])
    got = cpu_nanocores(obj["usage"]["cpu"])
    check(cpu_close(got, tn["cpu_nanocores"]), "node %s cpu %s, simulator %dn"
          % (tn["name"], obj["usage"]["cpu"], tn["cpu_nanocores"]))
    mem_bytes(obj["usage"]["memory"], tn["memory_working_set"])
    check_object_times(obj, "node " + tn["name"])


def check_pod(obj, tp):
    meta = obj["metadata"]
    check((meta["namespace"], meta["name"]) == (tp["namespace"], tp["name"]),
          "pod identity %r" % meta)
    got = {c["name"]: c["usage"] for c in obj["containers"]}
    want = {c["name"]: c for c in tp["containers"]}
    check(sorted(got) == sorted(want), "pod %s/%s containers %s, simulator %s"
          % (tp["namespace"], tp["name"], sorted(got), sorted(want)))
    for name, usage in got.items():
        check(set(usage) == {"cpu", "memory"}, "container usage %r" % usage)
        c = want[name]
        check(cpu_close(cpu_nanocores(usage["cpu"]), c["cpu_nanocores"]),
              "pod %s/%s container %s cpu %s, simulator %dn"
              % (tp["namespace"], tp["name"], name, usage["cpu"], c["cpu_nanocores"]))
        mem_bytes(usage["memory"], c["memory_working_set"])
    check_object_times(obj, "pod %s/%s" % (tp["namespace"], tp["name"]))


def check_status(status, body, code, reason, name=None, kind=None):
    check(status == code, "expected %d, got %d %s" % (code, status, body[:200]))
    s = json.loads(body)
    check(s.get("kind") == "Status" and s.get("apiVersion") == "v1" and
          s.get("status") == "Failure" and s.get("code") == code and
          s.get("reason") == reason and s.get("message"),
          "not a %d %s Status: %s" % (code, reason, body[:300]))
    if name is not None:
        check(s.get("details") == {"name": name, "group": "metrics.k8s.io", "kind": kind},
              "Status details %r" % s.get("details"))
    return s


def start(procs, tmp):
    """Simulator and pipeline, watched from the first batch on.

    Until every pod is listed, each NodeMetricsList and PodMetricsList the
    API answers is checked in full: the first batch has no rates yet, so a
    node or pod listed then (with a made-up zero) is an error, and so is
    any object whose values differ from the simulator's.
    """
    sim = Sim(procs, nodes=3, pods=4)
    pipe = Pipeline(procs, tmp, sim.source(), sinks=["log"], resolution="%ds" % RES_S)
    truth = sim.truth()
    pods = truth_pods(truth)
    tnodes = {n["name"]: n for n in truth["nodes"]}
    base = pipe.api + "/apis/" + GV
    errors = []
    seen_empty = [False]

    def complete():
        nodes = pipe.get("/apis/%s/nodes" % GV)
        lst = pipe.get("/apis/%s/pods" % GV)
        for item in nodes["items"]:
            try:
                check_node(item, tnodes[item["metadata"]["name"]])
            except (TestFailure, KeyError) as e:
                errors.append("node %s: %r" % (item["metadata"]["name"], e))
        for item in lst["items"]:
            try:
                check_pod(item, pods[(item["metadata"]["namespace"], item["metadata"]["name"])])
            except (TestFailure, KeyError) as e:
                errors.append("pod %s: %r" % (item["metadata"]["name"], e))
        if not lst["items"] and not nodes["items"]:
            seen_empty[0] = True   # a batch without rates yet: nothing listed
        return lst if len(lst["items"]) == len(pods) else None
    wait_for(complete, 60, "every simulated pod in the PodMetricsList")
    check(not errors, "while the pipeline warmed up the API listed wrong or incomplete "
          "objects (%d), first: %s" % (len(errors), errors[0] if errors else ""))
    check(seen_empty[0], "never saw the first batch (no rates, nothing listed): the "
          "API listed objects before they had rates, or the test started too late")
    return sim, pipe, truth, pods, base


# ---- tests -----------------------------------------------------------------

def test_resource_metrics(procs, tmp):
    sim, pipe, truth, pods, base = start(procs, tmp)
    tnodes = {n["name"]: n for n in truth["nodes"]}

    # discovery, exactly what an aggregated API server answers
    gv = {"groupVersion": GV, "version": "v1beta1"}
    check(pipe.get("/apis") == {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "metrics.k8s.io", "versions": [gv], "preferredVersion": gv}]},
        "/apis APIGroupList")
    check(pipe.get("/apis/metrics.k8s.io") == {
        "kind": "APIGroup", "apiVersion": "v1", "name": "metrics.k8s.io",
        "versions": [gv], "preferredVersion": gv}, "/apis/metrics.k8s.io APIGroup")
    rl = pipe.get("/apis/" + GV)
    check(rl["kind"] == "APIResourceList" and rl["groupVersion"] == GV, "APIResourceList %r" % rl)
    res = {r["name"]: r for r in rl["resources"]}
    check(sorted(res) == ["nodes", "pods"], "resources %s" % sorted(res))
    check(res["nodes"]["kind"] == "NodeMetrics" and res["nodes"]["namespaced"] is False and
          res["pods"]["kind"] == "PodMetrics" and res["pods"]["namespaced"] is True and
          all(sorted(r["verbs"]) == ["get", "list"] for r in res.values()),
          "resource descriptions %r" % rl["resources"])

    # nodes: the list, in name order, and each node alone
    lst = pipe.get("/apis/%s/nodes" % GV)
    check(lst["kind"] == "NodeMetricsList" and lst["apiVersion"] == GV and lst["metadata"] == {},
          "NodeMetricsList envelope %r" % {k: v for k, v in lst.items() if k != "items"})
    names = [i["metadata"]["name"] for i in lst["items"]]
    check(names == sorted(tnodes), "nodes listed %s, simulator %s" % (names, sorted(tnodes)))
    for item in lst["items"]:
        check("kind" not in item, "list items carry no kind")
        check_node(item, tnodes[item["metadata"]["name"]])
    one = pipe.get("/apis/%s/nodes/%s" % (GV, names[0]))
    check(one["kind"] == "NodeMetrics" and one["apiVersion"] == GV, "NodeMetrics envelope")
    check_node(one, tnodes[names[0]])
    s, b = http("GET", base + "/nodes/no-such-node")
    check_status(s, b, 404, "NotFound", "no-such-node", "nodes")
    # a system container is not a node
    s, b = http("GET", base + "/nodes/" + urllib.parse.quote(names[0] + "/container:kubelet", safe=""))
    check(s in (400, 404), "a system container key answered %d" % s)

    # pods: all namespaces, sorted by namespace then name, every container
    lst = pipe.get("/apis/%s/pods" % GV)
    check(lst["kind"] == "PodMetricsList" and lst["apiVersion"] == GV and lst["metadata"] == {},
          "PodMetricsList envelope")
    keys = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in lst["items"]]
    check(keys == sorted(pods), "pods listed %s, simulator %s" % (keys, sorted(pods)))
    for item in lst["items"]:
        check_pod(item, pods[(item["metadata"]["namespace"], item["metadata"]["name"])])

    # one namespace at a time
    for ns in truth["namespaces"]:
        got = pipe.get("/apis/%s/namespaces/%s/pods" % (GV, ns))
        want = sorted(k for k in pods if k[0] == ns)
        have = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in got["items"]]
        check(have == want, "namespace %s lists %s, simulator %s" % (ns, have, want))
    empty = pipe.get("/apis/%s/namespaces/no-such-ns/pods" % GV)
    check(empty["items"] == [], "an unknown namespace lists nothing")

    # one pod, and pods that do not exist
    (ns, name), tp = sorted(pods.items())[0]
    one = pipe.get("/apis/%s/namespaces/%s/pods/%s" % (GV, ns, name))
    check(one["kind"] == "PodMetrics" and one["apiVersion"] == GV, "PodMetrics envelope")
    check_pod(one, tp)
    s, b = http("GET", base + "/namespaces/%s/pods/no-such-pod" % ns)
    check_status(s, b, 404, "NotFound", "%s/no-such-pod" % ns, "pods")
    s, b = http("GET", base + "/namespaces/no-such-ns/pods/%s" % name)
    check_status(s, b, 404, "NotFound", "no-such-ns/%s" % name, "pods")
    s, b = http("GET", pipe.api + "/apis/apps/v1/deployments")
    check_status(s, b, 404, "NotFound")
    s, b = http("POST", base + "/nodes", body=b"{}")
    check_status(s, b, 405, "MethodNotAllowed")

    # label selectors: against the pod labels the Kubernetes API holds
    kube = get_json(sim.url + "/api/v1/pods")
    klabels = {(p["metadata"]["namespace"], p["metadata"]["name"]): p["metadata"].get("labels", {})
               for p in kube["items"]}
    stored = {(i["metadata"]["namespace"], i["metadata"]["name"]): i["metadata"].get("labels")
              for i in lst["items"]}

    def selected(sel, ns=None):
        q = urllib.parse.urlencode({"labelSelector": sel})
        path = ("/apis/%s/namespaces/%s/pods?%s" % (GV, ns, q) if ns
                else "/apis/%s/pods?%s" % (GV, q))
        return sorted((i["metadata"]["namespace"], i["metadata"]["name"])
                      for i in pipe.get(path)["items"])

    app = klabels[(ns, name)].get("app")
    check(app, "the simulator's pods have an app label")
    if any(stored.values()):
        # the store has pod labels: they are the Kubernetes ones, and select
        for k, v in stored.items():
            check(v == klabels[k], "pod %s/%s labels %r, Kubernetes %r" % (k[0], k[1], v, klabels[k]))
        want = sorted(k for k, v in klabels.items() if v.get("app") == app)
        check(selected("app=" + app) == want, "app=%s selects %s" % (app, want))
        check(selected("app!=" + app) == sorted(set(pods) - set(want)), "app!= selects the rest")
        check(selected("app in (%s,zzz)" % app) == want, "in () selects")
        check(selected("app,!no-such-label") == sorted(pods), "existence requirements")
        check(selected("app=" + app, ns) == sorted(k for k in want if k[0] == ns),
              "selector within a namespace")
    else:
        # no pod labels stored yet (no metadata from the scraper): a pod has
        # no labels, so only negative requirements match
        print("note: the store holds no pod labels; checked selectors without labels")
        check(selected("app=" + app) == [], "app=%s matched pods without labels" % app)
        check(selected("app in (%s)" % app) == [], "in () matched pods without labels")
        check(selected("app!=" + app) == sorted(pods), "app!= must match pods without labels")
        check(selected("!app") == sorted(pods), "!app must match pods without labels")
    check(selected("") == sorted(pods), "an empty selector selects everything")
    for bad in ("app==x(", "app in ()", "a,", "replicas>1", "-bad=x"):
        q = urllib.parse.urlencode({"labelSelector": bad})
        s, b = http("GET", base + "/pods?" + q)
        check_status(s, b, 400, "BadRequest")
    node_sel = pipe.get("/apis/%s/nodes?%s" % (GV, urllib.parse.urlencode({"labelSelector": "no-such=x"})))
    check(node_sel["items"] == [], "a node label selector that matches nothing")

    # field selectors
    q = urllib.parse.urlencode({"fieldSelector": "metadata.name=%s" % name})
    got = [(i["metadata"]["namespace"], i["metadata"]["name"])
           for i in pipe.get("/apis/%s/pods?%s" % (GV, q))["items"]]
    check(got == sorted(k for k in pods if k[1] == name), "fieldSelector metadata.name: %s" % got)
    q = urllib.parse.urlencode({"fieldSelector": "metadata.namespace!=%s" % ns})
    got = [k for k in (tuple((i["metadata"]["namespace"], i["metadata"]["name"]))
                       for i in pipe.get("/apis/%s/pods?%s" % (GV, q))["items"])]
    check(got == sorted(k for k in pods if k[0] != ns), "fieldSelector metadata.namespace!=")
    q = urllib.parse.urlencode({"fieldSelector": "spec.nodeName=x"})
    s, b = http("GET", base + "/pods?" + q)
    check_status(s, b, 400, "BadRequest")

    # Heapster's old path serves the same objects
    old = pipe.get("/apis/metrics/v1alpha1/nodes")
    check(old["kind"] == "NodeMetricsList" and old["apiVersion"] == "metrics/v1alpha1",
          "v1alpha1 envelope %r" % old.get("apiVersion"))
    for item in old["items"]:
        check_node(item, tnodes[item["metadata"]["name"]])
    old = pipe.get("/apis/metrics/v1alpha1/namespaces/%s/pods/%s" % (ns, name))
    check(old["kind"] == "PodMetrics" and old["apiVersion"] == "metrics/v1alpha1", "v1alpha1 pod")
    check_pod(old, tp)

    # a node joins: for one batch its sets have values but no rates yet, and
    # neither it nor its pods may be listed until they do (never a partial
    # pod, never a made-up zero)
    grown = get_json(sim.url + "/sim/nodes?count=%d" % (len(tnodes) + 1))
    check(grown.get("nodes") == len(tnodes) + 1, "the simulator added a node: %r" % grown)
    truth2 = sim.truth()
    pods2 = truth_pods(truth2)
    tnodes2 = {n["name"]: n for n in truth2["nodes"]}
    new = (set(tnodes2) - set(tnodes)).pop()
    errors, seen_norate = [], [False]

    def joined():
        nodes = pipe.get("/apis/%s/nodes" % GV)
        lst = pipe.get("/apis/%s/pods" % GV)
        model = pipe.get("/api/v1/model/nodes/")
        for item in nodes["items"]:
            try:
                check_node(item, tnodes2[item["metadata"]["name"]])
            except (TestFailure, KeyError) as e:
                errors.append("node %s: %r" % (item["metadata"]["name"], e))
        for item in lst["items"]:
            try:
                check_pod(item, pods2[(item["metadata"]["namespace"], item["metadata"]["name"])])
            except (TestFailure, KeyError) as e:
                errors.append("pod %s: %r" % (item["metadata"]["name"], e))
        listed = {i["metadata"]["name"] for i in nodes["items"]}
        if new in model and new not in listed:
            seen_norate[0] = True
        return len(lst["items"]) == len(pods2) and new in listed
    wait_for(joined, 40, "the new node %s and its pods in the resource metrics" % new)
    check(not errors, "objects listed without (or with wrong) metrics after a node joined "
          "(%d), first: %s" % (len(errors), errors[0] if errors else ""))
    check(seen_norate[0], "never saw the new node stored without its rates")

    # probes
    s, b = http("GET", pipe.api + "/readyz")
    check(s == 200 and b == b"ok", "/readyz %d %r" % (s, b))
    s, b = http("GET", pipe.api + "/livez")
    check(s == 200 and b == b"ok", "/livez %d %r" % (s, b))


def test_response_cache(procs, tmp):
    sim = Sim(procs, nodes=2, pods=3)
    pipe = Pipeline(procs, tmp, sim.source(), sinks=["log"], resolution="%ds" % RES_S)
    truth = sim.truth()
    node = truth["nodes"][0]["name"]
    tp = truth["nodes"][0]["pods"][0]
    series = "/api/v1/model/nodes/%s/metrics/cpu/usage_rate" % node
    names = "/api/v1/model/nodes/%s/metrics" % node
    podpath = "/apis/%s/namespaces/%s/pods/%s" % (GV, tp["namespace"], tp["name"])
    listpath = "/apis/%s/namespaces/%s/pods" % (GV, tp["namespace"])

    def ready():
        pts = pipe.get(series)["metrics"]
        return len(pts) >= 2 and http("GET", pipe.api + podpath)[0] == 200
    wait_for(ready, 60, "two points of %s and %s" % (series, podpath))

    # sequential requests, over four batches: each worker keeps its own
    # cache, and none may answer from a batch older than one already seen
    last_series, last_pod, batches = 0, 0, set()
    fresh = 0
    deadline = time.monotonic() + 4 * RES_S + 2
    while time.monotonic() < deadline:
        for _ in range(8):
            body = pipe.get(series)
            latest = rfc3339(body["latestTimestamp"])
            check(latest >= last_series, "the series went back from %d to %d: a stale "
                  "cached answer" % (last_series, latest))
            check(len(body["metrics"]) >= 2 and
                  rfc3339(body["metrics"][-1]["timestamp"]) == latest,
                  "series %r" % body)
            last_series = latest
            batches.add(latest)

            before = int(time.time())
            obj = pipe.get(podpath)
            after = time.time()
            ts = rfc3339(obj["timestamp"])
            check(ts >= last_pod, "the pod went back from %d to %d: a stale cached answer"
                  % (last_pod, ts))
            last_pod = ts
            created = rfc3339(obj["metadata"]["creationTimestamp"])
            check(before <= created <= after + 1, "a cached PodMetrics kept an old "
                  "creationTimestamp %s (request at %d)" % (obj["metadata"]["creationTimestamp"], before))
            check_pod(obj, tp)

        # a cached answer equals a fresh one: an argument the route ignores
        # makes a new key; the list (never cached) has the same pod
        fresh += 1
        for _ in range(3):
            s1, b1 = http("GET", pipe.api + series)
            s2, b2 = http("GET", pipe.api + series + "?fresh=%d" % fresh)
            s3, b3 = http("GET", pipe.api + names)
            check(s1 == s2 == s3 == 200, "series %d %d, names %d" % (s1, s2, s3))
            if json.loads(b1)["latestTimestamp"] == json.loads(b2)["latestTimestamp"]:
                check(b1 == b2, "cached series %r differs from a fresh one %r" % (b1, b2))
                break
        for _ in range(3):
            obj = pipe.get(podpath)
            items = [i for i in pipe.get(listpath)["items"]
                     if i["metadata"]["name"] == tp["name"]]
            check(len(items) == 1, "%s not in its namespace's list" % tp["name"])
            if items[0]["timestamp"] == obj["timestamp"]:
                for k in ("timestamp", "window", "containers"):
                    check(items[0][k] == obj[k], "cached PodMetrics %s %r, listed %r"
                          % (k, obj[k], items[0][k]))
                check(items[0]["metadata"]["labels"] == obj["metadata"]["labels"],
                      "cached PodMetrics labels %r" % obj["metadata"])
                break
        time.sleep(0.3)
    check(len(batches) >= 3, "saw only the batches %s in %d s" % (sorted(batches), 4 * RES_S))
    check(last_pod >= max(batches) - RES_S, "the pod's newest batch %d lags the series' %d"
          % (last_pod, max(batches)))


def test_metric_export(procs, tmp):
    sim, pipe, truth, pods, base = start(procs, tmp)
    tnodes = {n["name"]: n for n in truth["nodes"]}

    # the schema: Heapster's MetricDescriptor list, from the metric table
    schema = pipe.get("/api/v1/metric-export-schema")
    check(sorted(schema) == ["common_labels", "metrics", "pod_labels"], "schema keys %s" % sorted(schema))
    by_name = {}
    for m in schema["metrics"]:
        check(set(m) <= {"name", "description", "labels", "type", "value_type", "units"} and
              {"name", "description", "type", "value_type"} <= set(m), "metric descriptor %r" % m)
        check(m["type"] in ("cumulative", "gauge", "delta"), "type %r" % m)
        check(m["value_type"] in ("int64", "double"), "value_type %r" % m)
        check(m.get("units", "bytes") in ("bytes", "ms", "ns", "millicores"), "units %r" % m)
        by_name[m["name"]] = m
    check(len(by_name) == len(schema["metrics"]), "a metric described twice")
    for name, typ, vt, units in (("uptime", "cumulative", "int64", "ms"),
                                 ("cpu/usage", "cumulative", "int64", "ns"),
                                 ("cpu/usage_rate", "gauge", "int64", "millicores"),
                                 ("memory/working_set", "gauge", "int64", "bytes"),
                                 ("memory/page_faults_rate", "gauge", "double", None),
                                 ("cpu/node_utilization", "gauge", "double", None),
                                 ("network/rx", "cumulative", "int64", "bytes")):
        m = by_name.get(name)
        check(m and m["type"] == typ and m["value_type"] == vt and m.get("units") == units,
              "schema of %s: %r" % (name, m))
    check([l["key"] for l in by_name["filesystem/usage"].get("labels", [])] == ["resource_id"],
          "filesystem/usage labels %r" % by_name["filesystem/usage"].get("labels"))
    check("labels" not in by_name["memory/usage"], "an unlabeled metric has no labels")
    common = [l["key"] for l in schema["common_labels"]]
    podl = [l["key"] for l in schema["pod_labels"]]
    for k in ("type", "nodename", "hostname", "host_id", "container_name"):
        check(k in common, "%s missing from common_labels %s" % (k, common))
    for k in ("pod_name", "pod_id", "namespace_name", "labels"):
        check(k in podl, "%s missing from pod_labels %s" % (k, podl))
    check(all(l.get("description") for l in schema["common_labels"] + schema["pod_labels"]),
          "every label is described")
    from_table = set(by_name)

    # the export: the newest batch's node, pod, container and system container sets
    def export_complete():
        ex = pipe.get("/api/v1/metric-export")
        ts = {}
        for t in ex:
            ts.setdefault(t["labels"].get("type"), []).append(t)
        ok = (len(ts.get("node", [])) == len(tnodes) and len(ts.get("pod", [])) == len(pods)
              and all("cpu/usage_rate" in t["metrics"] for t in ts.get("pod_container", [])))
        return (ex, ts) if ok else None
    ex, ts = wait_for(export_complete, 30, "a complete export")
    check(set(ts) == {"node", "pod", "pod_container", "sys_container"},
          "exported set types %s" % sorted(ts))
    nctr = sum(len(p["containers"]) for p in pods.values())
    check(len(ts["pod_container"]) == nctr, "%d container sets, simulator has %d"
          % (len(ts["pod_container"]), nctr))
    check(len(ts["sys_container"]) >= 2 * len(tnodes), "system containers per node")
    allowed = set(common) | set(podl)
    ends = set()
    for t in ex:
        check(sorted(t) == ["labels", "metrics"], "Timeseries keys %s" % sorted(t))
        check(set(t["labels"]) <= allowed, "labels outside the schema: %s" % (set(t["labels"]) - allowed))
        for name, points in t["metrics"].items():
            check(name in from_table or name.startswith("custom/") or name.endswith("/request"),
                  "metric %s not in the schema" % name)
            check(points, "metric %s without points" % name)
            desc = by_name.get(name, {})
            for p in points:
                check(set(p) <= {"start", "end", "labels", "value"} and
                      {"start", "end", "value"} <= set(p), "point keys %s" % sorted(p))
                start_s, end_s = rfc3339(p["start"]), rfc3339(p["end"])
                ends.add(end_s)
                if desc.get("type") == "cumulative":
                    check(start_s < end_s, "%s: a cumulative point starts at creation" % name)
                else:
                    check(start_s == end_s, "%s: a gauge point is an instant" % name)
                if desc.get("value_type") == "int64":
                    check(isinstance(p["value"], int), "%s value %r is not integral" % (name, p["value"]))
                if desc.get("labels"):
                    check(set(p.get("labels", {})) == {l["key"] for l in desc["labels"]},
                          "%s point labels %r" % (name, p.get("labels")))
    check(len(ends) == 1, "every point ends at the newest batch time: %s" % sorted(ends))

    # values: nodes and containers against the simulator
    for t in ts["node"]:
        n = tnodes[t["labels"]["nodename"]]
        check(t["labels"].get("container_name") == "machine", "a node is container 'machine'")
        check(t["metrics"]["memory/working_set"][0]["value"] == n["memory_working_set"],
              "node %s working set %r, simulator %d" % (n["name"], t["metrics"]["memory/working_set"],
                                                        n["memory_working_set"]))
        rate = t["metrics"]["cpu/usage_rate"][0]["value"]
        check(cpu_close(rate * 1000000, n["cpu_nanocores"]), "node %s cpu/usage_rate %s" % (n["name"], rate))
        fs = t["metrics"].get("filesystem/usage", [])
        check(any(p.get("labels") == {"resource_id": "/"} for p in fs), "node root filesystem point")
    for t in ts["pod_container"]:
        p = pods[(t["labels"]["namespace_name"], t["labels"]["pod_name"])]
        c = {c["name"]: c for c in p["containers"]}[t["labels"]["container_name"]]
        check(t["metrics"]["memory/working_set"][0]["value"] == c["memory_working_set"],
              "container working set")
        fs = t["metrics"].get("filesystem/usage", [])
        check(sorted(x["labels"]["resource_id"] for x in fs) == ["/", "logs"],
              "container filesystem points, one per resource_id: %r" % fs)
    for t in ts["pod"]:
        p = pods[(t["labels"]["namespace_name"], t["labels"]["pod_name"])]
        check(t["metrics"]["memory/working_set"][0]["value"] == p["memory_working_set"],
              "pod working set")


class _Aggregator(ThreadingHTTPServer):
    """/apis to heapster-c, the rest to the simulated Kubernetes API."""
    daemon_threads = True


def _aggregator(apis_url, core_url):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?", 1)[0]
            up = apis_url if path == "/apis" or path.startswith("/apis/") else core_url
            hdrs = {k: v for k, v in self.headers.items() if k.lower() in ("accept",)}
            status, body = http("GET", up + self.path, headers=hdrs)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    srv = _Aggregator(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def _kubectl(tmp, server, *args):
    env = dict(os.environ, HOME=os.path.join(tmp, "home"), KUBECONFIG=os.devnull)
    os.makedirs(env["HOME"], exist_ok=True)
    return subprocess.run(["kubectl", "--server=" + server, "--request-timeout=10s"] + list(args),
                          capture_output=True, text=True, env=env, timeout=60)


def _table(out):
    lines = [l.split() for l in out.strip().splitlines()]
    return lines[0], lines[1:]


def test_kubectl(procs, tmp):
    # kubectl 1.32 ships with these machines (PLATFORM.md); without it this
    # test must fail, not pass having checked nothing
    check(shutil.which("kubectl") is not None,
          "kubectl is not installed: this test needs the real client")
    sim, pipe, truth, pods, base = start(procs, tmp)
    tnodes = {n["name"]: n for n in truth["nodes"]}

    # get --raw: the JSON kubectl decodes
    r = _kubectl(tmp, pipe.api, "get", "--raw", "/apis/%s/nodes" % GV)
    check(r.returncode == 0, "kubectl get --raw: %s" % r.stderr)
    lst = json.loads(r.stdout)
    check(sorted(i["metadata"]["name"] for i in lst["items"]) == sorted(tnodes), "get --raw nodes")
    for item in lst["items"]:
        check_node(item, tnodes[item["metadata"]["name"]])

    # top pod, straight at heapster-c (discovery through /apis)
    r = _kubectl(tmp, pipe.api, "top", "pod", "-A")
    check(r.returncode == 0, "kubectl top pod -A: %s" % r.stderr)
    head, rows = _table(r.stdout)
    check(head == ["NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"], "top pod header %s" % head)
    check(sorted((x[0], x[1]) for x in rows) == sorted(pods), "top pod rows %s" % rows)
    for ns, name, cpu, mem in rows:
        p = pods[(ns, name)]
        want_m = sum(c["cpu_nanocores"] for c in p["containers"]) / 1e6
        check(cpu.endswith("m") and abs(int(cpu[:-1]) - want_m) <= max(1, 0.01 * want_m) + 1,
              "top pod %s/%s cpu %s, simulator %.1fm" % (ns, name, cpu, want_m))
        want_mi = sum(c["memory_working_set"] for c in p["containers"]) // (1 << 20)
        check(mem == "%dMi" % want_mi, "top pod %s/%s memory %s, simulator %dMi" % (ns, name, mem, want_mi))
    (ns, name), p = sorted(pods.items())[0]
    r = _kubectl(tmp, pipe.api, "top", "pod", name, "-n", ns, "--containers")
    check(r.returncode == 0, "kubectl top pod --containers: %s" % r.stderr)
    head, rows = _table(r.stdout)
    check(sorted(x[1] for x in rows) == sorted(c["name"] for c in p["containers"]),
          "top pod --containers rows %s" % rows)
    r = _kubectl(tmp, pipe.api, "top", "pod", "no-such-pod", "-n", ns)
    check(r.returncode != 0 and "not found" in r.stderr, "top of a missing pod: %r" % r.stderr)

    # top node needs the core API (/api/v1/nodes for allocatable): straight
    # at heapster-c it stops there; through an aggregator it works
    r = _kubectl(tmp, pipe.api, "top", "node")
    check(r.returncode != 0, "kubectl top node without a core API cannot succeed")
    agg = _aggregator(pipe.api, sim.url)
    try:
        url = "http://127.0.0.1:%d" % agg.server_address[1]
        r = _kubectl(tmp, url, "top", "node")
        check(r.returncode == 0, "kubectl top node through the aggregator: %s" % r.stderr)
        head, rows = _table(r.stdout)
        check(head[:2] == ["NAME", "CPU(cores)"] and "MEMORY(bytes)" in head, "top node header %s" % head)
        check(sorted(x[0] for x in rows) == sorted(tnodes), "top node rows %s" % rows)
        for row in rows:
            n = tnodes[row[0]]
            want_m = n["cpu_nanocores"] / 1e6
            check(abs(int(row[1].rstrip("m")) - want_m) <= max(1, 0.01 * want_m) + 1,
                  "top node %s cpu %s, simulator %.1fm" % (row[0], row[1], want_m))
            mem = row[head.index("MEMORY(bytes)")]
            check(mem == "%dMi" % (n["memory_working_set"] // (1 << 20)),
                  "top node %s memory %s, simulator %d bytes" % (row[0], mem, n["memory_working_set"]))
        r = _kubectl(tmp, url, "top", "node", "no-such-node")
        check(r.returncode != 0, "top of a missing node must fail")
    finally:
        agg.shutdown()
        agg.server_close()

    # and as in a cluster: the simulator's API server proxies
    # /apis/metrics.k8s.io to heapster-c as the aggregation layer does (a
    # second simulator of the same cluster, so the core API names the same
    # nodes and pods whose metrics heapster-c scraped from the first)
    front = Sim(procs, nodes=3, pods=4, extra=["--metrics-backend", pipe.api], name="sim-front")
    r = _kubectl(tmp, front.url, "top", "node")
    check(r.returncode == 0, "kubectl top node through the simulator's proxy: %s" % r.stderr)
    head, rows = _table(r.stdout)
    check(sorted(x[0] for x in rows) == sorted(tnodes), "top node rows via proxy %s" % rows)
    for row in rows:
        want_m = tnodes[row[0]]["cpu_nanocores"] / 1e6
        check(abs(int(row[1].rstrip("m")) - want_m) <= max(1, 0.01 * want_m) + 1,
              "top node %s cpu %s via proxy, simulator %.1fm" % (row[0], row[1], want_m))
    r = _kubectl(tmp, front.url, "top", "pods", "-A")
    check(r.returncode == 0, "kubectl top pods -A through the simulator's proxy: %s" % r.stderr)
    head, rows = _table(r.stdout)
    check(sorted((x[0], x[1]) for x in rows) == sorted(pods), "top pods rows via proxy %s" % rows)


def test_self_metrics(procs, tmp):
    """/metrics: every process's counters, valid Prometheus text (promtool)."""
    import subprocess
    from harness import Pipeline, Sim, http
    sim = Sim(procs, nodes=3, pods=2)
    pipe = Pipeline(procs, tmp, sim.source(), sinks=["log", "log"], resolution="5s")

    def metrics():
        status, body = http("GET", pipe.api + "/metrics")
        text = body.decode()
        ok = (status == 200 and "heapster_processor_batches_total" in text and
              "heapster_scraper_duration_seconds_count" in text and
              'exporter="log-1"' in text and "heapster_api_requests_total" in text)
        return text if ok else None
    text = wait_for(metrics, 40, "/metrics with the scraper, the processor, both exporters and the API")
    m = re.search(r'^heapster_scraper_node_scrapes_total\{outcome="ok"\} (\d+)', text, re.M)
    check(m and int(m.group(1)) >= 3, "scraper node counter: %r" % (m and m.group(0)))
    # the processor counted the batches it stored
    m = re.search(r"^heapster_processor_batches_total (\d+)", text, re.M)
    check(m and int(m.group(1)) >= 1, "processor batch counter: %r" % (m and m.group(0)))
    check('heapster_api_requests_total{route="/metrics",code="200"}' in text,
          "the API does not count its own requests")
    # two exporters publish the same families: each must appear once
    check(text.count("# TYPE heapster_exporter_batches_total") == 1,
          "a metric family is declared twice")
    with open(os.path.join(tmp, "metrics.txt"), "w") as f:
        f.write(text)
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    check(r.returncode == 0, "promtool check metrics failed:\n%s\n%s" % (r.stdout, r.stderr))


def test_workloads(procs, tmp):
    """Pods summed by workload: keys namespace:NS/<kind>:NAME, served under
    /api/v1/model/namespaces/NS/<kind>s/, with pod_count and CPU sums equal
    to what the simulator served."""
    from harness import Pipeline, Sim
    sim = Sim(procs, nodes=4, pods=6)
    pipe = Pipeline(procs, tmp, sim.source(), sinks=["log"], resolution="5s")
    truth = sim.truth()
    want = {}
    for n in truth["nodes"]:
        for p in n["pods"]:
            if p.get("workload_kind"):
                k = (p["namespace"], p["workload_kind"], p["workload_name"])
                w = want.setdefault(k, {"pods": 0, "cpu_m": 0.0})
                w["pods"] += 1
                w["cpu_m"] += p["cpu_nanocores"] / 1e6
    check(len({k[1] for k in want}) >= 4, "the simulator serves too few workload kinds: %s" % want)

    def served():
        got = {}
        for ns, kind, name in want:
            base = "/api/v1/model/namespaces/%s/%ss/%s/metrics/" % (ns, kind, name)
            pc = pipe.get(base + "pod_count")["metrics"]
            cpu = pipe.get(base + "cpu/usage_rate")["metrics"]
            if not pc or not cpu:
                return None
            got[(ns, kind, name)] = (pc[-1]["value"], cpu[-1]["value"])
        return got
    got = wait_for(served, 60, "pod_count and cpu/usage_rate of every workload")
    for k, w in want.items():
        pods, cpu = got[k]
        check(pods == w["pods"], "%s: pod_count %d, simulator %d" % (k, pods, w["pods"]))
        check(abs(cpu - w["cpu_m"]) <= max(2, 0.01 * w["cpu_m"]),
              "%s: cpu/usage_rate %s, simulator %.1f" % (k, cpu, w["cpu_m"]))
    # the list route names exactly the workloads of a kind in a namespace
    ns, kind, _ = sorted(want)[0]
    listed = sorted(pipe.get("/api/v1/model/namespaces/%s/%ss/" % (ns, kind)))
    check(listed == sorted(n for (a, b, n) in want if a == ns and b == kind),
          "%s %ss listed %s" % (ns, kind, listed))
