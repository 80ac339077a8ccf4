"""The scraper against the simulator: the metadata stream (nodes,
namespaces, pods, workloads), cluster changes picked up without a restart,
and cluster access (TLS, tokens, client certificates, kubeconfig).

`heapster-scraper --once --once_metadata` prints the metadata batch as JSON
(one set per line), which is checked field by field against the values the
simulator serves (/sim/truth); the whole pipeline then shows the metadata
through the API (requests, node utilization, workload keys).  Nodes,
namespaces and pods are listed once and then watched: the simulator counts
list and watch requests per resource, and its control endpoints add,
remove and fail nodes, end watch streams and expire resourceVersions.
"""
import json
import os
import re
import subprocess

from harness import BIN, ROOT, Pipeline, Sim, check, get_json, http, wait_for


def run_scraper(args, env=None, timeout=60):
    """(returncode, stdout, stderr) of one heapster-scraper run."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([os.path.join(BIN, "heapster-scraper")] + list(args),
                       capture_output=True, text=True, timeout=timeout, env=e,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def once(source, metadata=True, env=None, extra=()):
    """The batch (or metadata batch) of one --once run; fails on errors."""
    args = ["--source=" + source, "--once"] + (["--once_metadata"] if metadata else [])
    rc, out, err = run_scraper(args + list(extra), env=env)
    check(rc == 0, "scraper --once exited %d:\n%s" % (rc, err[-3000:]))
    return json.loads(out), err


def owner_index(sim, path):
    """{(ns, name): (controller kind, name) or None} from a served list, or
    None when the simulator does not serve it (404)."""
    status, body = http("GET", sim.url + path)
    if status != 200:
        return None
    out = {}
    for it in json.loads(body)["items"]:
        m = it["metadata"]
        ctl = [o for o in m.get("ownerReferences", []) if o.get("controller")]
        out[(m.get("namespace", ""), m["name"])] = (ctl[0]["kind"], ctl[0]["name"]) if ctl else None
    return out


def expected_workload(p, rs, jobs):
    """(kind, name) the scraper must resolve for a truth pod (common/meta.h):
    the simulator's own answer when its truth has one, else through the
    ReplicaSet/Job listings when served, else the pod-template-hash rule
    (the simulator's ReplicaSets are <deployment>-<hash>)."""
    if "workload_kind" in p:
        return p["workload_kind"], p["workload_name"]
    kind, name = p["owner_kind"], p["owner_name"]
    if kind == "ReplicaSet":
        if rs is None:
            return "deployment", name.rsplit("-", 1)[0]
        owner = rs.get((p["namespace"], name))
        if owner is None:
            return "deployment", name.rsplit("-", 1)[0]
        return ("deployment", owner[1]) if owner[0] == "Deployment" else ("replicaset", name)
    if kind == "Job":
        owner = jobs.get((p["namespace"], name)) if jobs is not None else None
        return ("cronjob", owner[1]) if owner and owner[0] == "CronJob" else ("job", name)
    return {"DaemonSet": "daemonset", "StatefulSet": "statefulset",
            "ReplicationController": "replicationcontroller",
            "Deployment": "deployment", "CronJob": "cronjob"}.get(kind, None), name


def test_metadata_matches_truth(procs, tmp):
    sim = Sim(procs, nodes=3, pods=8)
    truth = sim.truth()
    rs = owner_index(sim, "/apis/apps/v1/replicasets")
    jobs = owner_index(sim, "/apis/batch/v1/jobs")
    meta, _ = once(sim.source())
    sets = meta["sets"]

    # nodes: capacity cpu 4, memory 16Gi, ephemeral 100Gi; allocatable 3800m, 15Gi, 95Gi
    for n in truth["nodes"]:
        s = sets.get("node:" + n["name"])
        check(s is not None, "no metadata for node %s" % n["name"])
        m, lab = s["metrics"], s["labels"]
        want = {"cpu/node_capacity": 4000, "cpu/node_allocatable": 3800,
                "memory/node_capacity": 16 << 30, "memory/node_allocatable": 15 << 30,
                "ephemeral_storage/node_capacity": 100 << 30,
                "ephemeral_storage/node_allocatable": 95 << 30}
        for k, v in want.items():
            check(m.get(k) == v, "node %s %s = %r, want %r" % (n["name"], k, m.get(k), v))
        check(lab["type"] == "node" and lab["nodename"] == n["name"], "node labels %r" % lab)
        check("kubernetes.io/hostname:%s" % n["name"] in lab["labels"].split(","),
              "node labels string %r" % lab["labels"])
        check(lab["labels"].split(",") == sorted(lab["labels"].split(",")), "labels sorted")

    # namespaces with their uids (checked against the API's own list)
    nsl = get_json(sim.url + "/api/v1/namespaces")
    for item in nsl["items"]:
        s = sets.get("namespace:" + item["metadata"]["name"])
        check(s and s["labels"]["namespace_id"] == item["metadata"]["uid"],
              "namespace %s: %r" % (item["metadata"]["name"], s))

    # pods and containers, every one, against the truth
    npods = 0
    for n in truth["nodes"]:
        for p in n["pods"]:
            npods += 1
            key = "namespace:%s/pod:%s" % (p["namespace"], p["name"])
            s = sets.get(key)
            check(s is not None, "no metadata for %s" % key)
            lab = s["labels"]
            check(lab["pod_id"] == p["uid"], "%s pod_id %s != %s" % (key, lab["pod_id"], p["uid"]))
            check(lab["nodename"] == n["name"], "%s nodename %s" % (key, lab["nodename"]))
            check("owner_kind" not in lab, "%s: owner labels are not sent" % key)
            want_kind, want_name = expected_workload(p, rs, jobs)
            check(lab.get("workload_kind") == want_kind and
                  (want_kind is None or lab.get("workload_name") == want_name),
                  "%s workload %s/%s, want %s/%s" % (key, lab.get("workload_kind"),
                                                     lab.get("workload_name"), want_kind, want_name))
            check(s["start_time"] == p["start_time"], "%s start %s != %s"
                  % (key, s["start_time"], p["start_time"]))
            for c in p["containers"]:
                ck = key + "/container:" + c["name"]
                cs = sets.get(ck)
                check(cs is not None, "no metadata for %s" % ck)
                m = cs["metrics"]
                # common/meta.h: a 0 is not sent (absent means 0)
                check(0 not in m.values(), "%s: a zero value was sent: %r" % (ck, m))
                got = tuple(m.get(k, 0) for k in ("cpu/request", "cpu/limit", "memory/request",
                                                  "memory/limit", "restart_count"))
                want = (c["cpu_request_millicores"], c["cpu_limit_millicores"],
                        c["memory_request_bytes"], c["memory_limit_bytes"], c["restart_count"])
                check(got == want, "%s requests/limits/restarts %r, truth %r" % (ck, got, want))
                # the container's own labels only: the pod's are on the pod's set
                check(cs["labels"] == {"type": "pod_container", "container_name": c["name"],
                                       "container_base_image": c["image"]},
                      "%s labels %r" % (ck, cs["labels"]))
    pods = [k for k, s in sets.items() if s["labels"]["type"] == "pod"]
    check(len(pods) == npods, "%d pod sets, the simulator has %d pods" % (len(pods), npods))
    # pods listed every round (--metadata_watch=false) give the same metadata
    listed, err = once(sim.source(), extra=["--metadata_watch=false"])
    check(listed["sets"] == sets, "list mode and watch mode differ")
    if rs is not None:
        check("by owner listing" in err and "no ReplicaSet listing" not in err,
              "the served ReplicaSets were not used:\n%s" % err[-1500:])


def test_metadata_in_pipeline(procs, tmp):
    sim = Sim(procs, nodes=3, pods=6)
    pipe = Pipeline(procs, tmp, sim.source(), resolution="5s")
    truth = sim.truth()
    n0 = truth["nodes"][0]
    p0 = n0["pods"][0]

    # a pod's cpu/request is the sum of its containers' requests
    want = sum(c["cpu_request_millicores"] for c in p0["containers"])
    path = "/api/v1/model/namespaces/%s/pods/%s/metrics/cpu/request" % (p0["namespace"], p0["name"])
    got = wait_for(lambda: pipe.get(path)["metrics"], 40, "pod cpu/request in the API")
    check(got[-1]["value"] == want, "%s cpu/request %s, want %s" % (p0["name"], got[-1]["value"], want))

    # node utilization = usage_rate / allocatable (3800 millicores)
    path = "/api/v1/model/nodes/%s/metrics/cpu/node_utilization" % n0["name"]
    got = wait_for(lambda: pipe.get(path)["metrics"], 40, "node cpu/node_utilization")
    util = got[-1].get("floatValue", got[-1]["value"])
    want = n0["cpu_nanocores"] / 1e6 / 3800
    check(abs(util - want) <= 0.01 * want + 1e-3, "cpu/node_utilization %s, want %s" % (util, want))
    cap = pipe.get("/api/v1/model/nodes/%s/metrics/cpu/node_capacity" % n0["name"])["metrics"]
    check(cap and cap[-1].get("floatValue", cap[-1]["value"]) == 4000, "node_capacity %r" % cap[-1:])

    # workloads: one key per workload of the truth's pods
    rs = owner_index(sim, "/apis/apps/v1/replicasets")
    jobs = owner_index(sim, "/apis/batch/v1/jobs")
    kinds = ("deployment", "replicaset", "daemonset", "statefulset", "job", "cronjob",
             "replicationcontroller")
    want_keys = set()
    for n in truth["nodes"]:
        for p in n["pods"]:
            kind, name = expected_workload(p, rs, jobs)
            if kind:
                want_keys.add("namespace:%s/%s:%s" % (p["namespace"], kind, name))

    def workload_keys():
        keys = pipe.get("/api/v1/model/debug/allkeys")
        got = {k for k in keys if k.count("/") == 1 and k.split("/")[1].split(":")[0] in kinds}
        return got if want_keys <= got else None
    got = wait_for(workload_keys, 30, "the workload keys in /debug/allkeys")
    check(got == want_keys, "workload keys %s, want %s" % (sorted(got), sorted(want_keys)))
    check("metadata: 3 nodes" in pipe.log(), "no metadata line in the scraper's log")

    # a node added to the cluster is scraped without a restart; a removed
    # one leaves; a NotReady one is skipped
    # (pods follow through the pod watch: 6 per node)
    def pods_in_metadata(n):
        return lambda: any(int(x) == n for x in re.findall(r"(\d+) running pods", pipe.log()[mark:]))
    mark = len(pipe.log())
    http("GET", sim.url + "/sim/nodes?count=4")
    wait_for(lambda: "sim-node-3" in pipe.get("/api/v1/model/nodes/"), 30,
             "the added node sim-node-3 in the API")
    wait_for(lambda: "metadata: 4 nodes" in pipe.log(), 20, "4 nodes in the metadata")
    wait_for(pods_in_metadata(24), 20, "24 pods in the metadata")
    check("pod events" in pipe.log()[mark:], "the pods came from the watch")
    p3 = "/api/v1/model/namespaces/%s/pods/pod-3-0/metrics/cpu/request"
    ns3 = [p for p in sim.truth()["nodes"][3]["pods"] if p["name"] == "pod-3-0"][0]["namespace"]
    wait_for(lambda: pipe.get(p3 % ns3)["metrics"], 20, "cpu/request of a pod of the new node")
    http("GET", sim.url + "/sim/fault?node=sim-node-1&kind=notready")
    wait_for(lambda: "not-ready 1 of 4" in pipe.log(), 20, "the NotReady node skipped")
    mark = len(pipe.log())
    http("GET", sim.url + "/sim/nodes?count=2")
    wait_for(lambda: "metadata: 2 nodes" in pipe.log(), 20, "2 nodes in the metadata")
    wait_for(pods_in_metadata(12), 20, "12 pods in the metadata")


def test_watch_nodes_namespaces_pods(procs, tmp):
    # nodes, namespaces and pods are listed once, then kept by watch streams
    # (the simulator counts list and watch requests per resource): a node
    # added, removed or made NotReady reaches the next batches without a
    # listing; a dropped stream resumes from its resourceVersion; a 410,
    # as an ERROR event or as the HTTP status, costs exactly one listing
    sim = Sim(procs, nodes=3, pods=2, extra=["--bookmark-interval", "1"])
    pipe = Pipeline(procs, tmp, sim.source(), resolution="5s")

    def stats():
        return get_json(sim.url + "/sim/stats?per_node=false")

    def batches():
        return pipe.log().count("INFO scraper: batch ")

    def after_rounds(n, timeout=40):
        """Waits for n more batches of the scraper."""
        start = batches()
        wait_for(lambda: batches() >= start + n, timeout, "%d more batches" % n)

    def newest_nodes():
        """Node names of the newest stored batch."""
        return sorted(ts["labels"]["nodename"] for ts in pipe.get("/api/v1/metric-export")
                      if ts["labels"].get("type") == "node")

    def lists(res=("nodes", "namespaces", "pods")):
        st = stats()["lists"]
        return tuple(st[r] for r in res)

    wait_for(lambda: newest_nodes() == ["sim-node-0", "sim-node-1", "sim-node-2"], 40,
             "the 3 nodes in the newest batch")
    after_rounds(3)
    check(lists() == (1, 1, 1), "listings of nodes, namespaces, pods over several rounds: %r"
          % (lists(),))
    check(tuple(stats()["watches"][r] for r in ("nodes", "namespaces", "pods")) == (1, 1, 1),
          "one watch each: %r" % stats()["watches"])

    # a node added: scraped by a batch after the event, pods in the metadata
    mark = len(pipe.log())
    http("GET", sim.url + "/sim/nodes?count=4")
    wait_for(lambda: "sim-node-3" in newest_nodes(), 15, "the added node in the newest batch")
    check("nodes ok 4 failed 0 not-ready 0 of 4" in pipe.log()[mark:], "4 nodes scraped")
    wait_for(lambda: "metadata: 4 nodes, 4 namespaces, 8 running pods" in pipe.log()[mark:], 15,
             "the added node's pods in the metadata")
    check(re.search(r"[1-9]\d* node events", pipe.log()[mark:]), "the node came by its watch")
    # made NotReady: skipped from the next batch on
    mark = len(pipe.log())
    http("GET", sim.url + "/sim/fault?node=sim-node-1&kind=notready")
    wait_for(lambda: "not-ready 1 of 4" in pipe.log()[mark:], 15, "the NotReady node skipped")
    after_rounds(1)
    check(newest_nodes() == ["sim-node-0", "sim-node-2", "sim-node-3"],
          "the NotReady node left the newest batch: %r" % newest_nodes())
    # removed (sim-node-3, then sim-node-2 goes too)
    mark = len(pipe.log())
    http("GET", sim.url + "/sim/nodes?count=2")
    wait_for(lambda: "not-ready 1 of 2" in pipe.log()[mark:], 15, "2 nodes after the removal")
    wait_for(lambda: newest_nodes() == ["sim-node-0"], 15, "removed nodes out of the newest batch")
    wait_for(lambda: "metadata: 2 nodes, 4 namespaces, 4 running pods" in pipe.log()[mark:], 15,
             "the removed nodes' pods out of the metadata")
    check(lists() == (1, 1, 1), "no listing for the changes: %r" % (lists(),))

    # bookmarks move the streams' resourceVersion (a namespace watch has no events)
    metrics = lambda: http("GET", pipe.api + "/metrics")[1].decode()  # noqa: E731
    check('heapster_scraper_api_lists_total{resource="nodes"} 1' in metrics(),
          "the scraper's own count of node listings")

    # streams that end (cleanly, then by a reset) resume from their resourceVersion
    for how in ("end", "reset"):
        w0 = stats()["watches"]["nodes"]
        http("GET", sim.url + "/sim/watch-drop?how=" + how)
        wait_for(lambda: stats()["watches"]["nodes"] > w0, 20, "the node watch resumed (%s)" % how)
    mark = len(pipe.log())
    http("GET", sim.url + "/sim/fault?node=sim-node-1&kind=none")
    wait_for(lambda: "nodes ok 2 failed 0 not-ready 0 of 2" in pipe.log()[mark:], 15,
             "Ready again through the resumed watch")
    check(lists() == (1, 1, 1), "resumed without a listing: %r" % (lists(),))
    check(re.search(r'heapster_scraper_watch_resumes_total\{resource="nodes"\} [1-9]', metrics()),
          "resumes counted")

    # 410 as an ERROR event, then as the HTTP status: one listing each, once
    for n, how in ((2, "event"), (3, "status")):
        mark = len(pipe.log())
        http("GET", sim.url + "/sim/expire?as=" + how)
        wait_for(lambda: lists() == (n, n, n), 20, "one listing each after a 410 (%s)" % how)
        after_rounds(3)
        check(lists() == (n, n, n), "410 (%s): listed exactly once more: %r" % (how, lists()))
        check(("ERROR event, code 410" if how == "event" else "HTTP 410 Gone") in pipe.log()[mark:],
              "the 410 (%s) in the log" % how)
    mark = len(pipe.log())
    http("GET", sim.url + "/sim/nodes?count=3")
    wait_for(lambda: newest_nodes() == ["sim-node-0", "sim-node-1", "sim-node-2"], 15,
             "a node added after the relisting")
    check(lists() == (3, 3, 3), "still watching: %r" % (lists(),))
    check('heapster_scraper_api_lists_total{resource="pods"} 3' in metrics(), "lists in /metrics")


def test_resource_metrics_source(procs, tmp):
    # the lighter source: /metrics/resource -> cpu/usage, memory/working_set
    sim = Sim(procs, nodes=2, pods=3)
    src = sim.source().replace("kubernetes.summary_api:", "kubernetes.resource_metrics:")
    batch, _ = once(src, metadata=False)
    truth = sim.truth()
    check(batch["nodes_ok"] == 2, "nodes ok %d" % batch["nodes_ok"])
    for n in truth["nodes"]:
        m = batch["sets"]["node:" + n["name"]]["metrics"]
        check(m["memory/working_set"] == n["memory_working_set"],
              "%s working set %s != %s" % (n["name"], m["memory/working_set"], n["memory_working_set"]))
        for p in n["pods"]:
            for c in p["containers"]:
                key = "namespace:%s/pod:%s/container:%s" % (p["namespace"], p["name"], c["name"])
                cs = batch["sets"][key]
                check(cs["metrics"]["memory/working_set"] == c["memory_working_set"],
                      "%s working set" % key)
                check(cs["start_time"] == c["start_time"], "%s start %s != %s"
                      % (key, cs["start_time"], c["start_time"]))
                check("uptime" in cs["metrics"], "%s uptime" % key)
    check(not any("filesystem/usage" in s["metrics"] for s in batch["sets"].values()),
          "the resource source has no filesystem metrics")

    # the pipeline: kubectl top's numbers (usage rates) and the metadata
    pipe = Pipeline(procs, tmp, src, resolution="5s")
    n0 = truth["nodes"][0]
    path = "/api/v1/model/nodes/%s/metrics/cpu/usage_rate" % n0["name"]
    got = wait_for(lambda: pipe.get(path)["metrics"], 40, "node cpu/usage_rate")
    want = n0["cpu_nanocores"] / 1e6
    check(abs(got[-1]["value"] - want) <= max(1, 0.01 * want),
          "cpu/usage_rate %s, simulator %s" % (got[-1]["value"], want))
    p0 = n0["pods"][0]
    path = "/api/v1/model/namespaces/%s/pods/%s/metrics/memory/working_set" % (p0["namespace"], p0["name"])
    got = wait_for(lambda: pipe.get(path)["metrics"], 20, "pod memory/working_set")
    check(got[-1]["value"] == p0["memory_working_set"], "pod working set %s" % got[-1]["value"])
    path = "/api/v1/model/namespaces/%s/pods/%s/metrics/cpu/request" % (p0["namespace"], p0["name"])
    got = wait_for(lambda: pipe.get(path)["metrics"], 20, "pod cpu/request")
    check(got[-1]["value"] == sum(c["cpu_request_millicores"] for c in p0["containers"]),
          "pod cpu/request %s" % got[-1]["value"])


# ---- cluster access: TLS, tokens, client certificates -------------------------
#
# The simulator's own TLS and authentication (tests/sim/README.md, "TLS and
# authentication"): https on both ports with the test PKI of
# tests/sim/make-test-ca.sh, client certificates (--client-ca) and a bearer
# token (--token), either one enough; kubelets may present per-node
# certificates of another CA (--tls-ca-cert/--tls-ca-key).

def make_pki(tmp, name, nodes):
    d = os.path.join(tmp, name)
    subprocess.run(["sh", os.path.join(ROOT, "tests", "sim", "make-test-ca.sh"), d, str(nodes)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return d


def b64(path):
    import base64
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def write_kubeconfig(path, server, ca_b64=None, ca_file=None, cert=None, key=None, token=None):
    """A kubeconfig as kubectl writes it: one cluster, user and context."""
    lines = ["apiVersion: v1", "kind: Config", "clusters:", "- cluster:"]
    if ca_b64:
        lines.append("    certificate-authority-data: " + ca_b64)
    if ca_file:
        lines.append("    certificate-authority: " + ca_file)
    lines += ["    server: " + server, "  name: sim", "contexts:", "- context:",
              "    cluster: sim", "    user: heapster", "  name: sim-ctx",
              "current-context: sim-ctx", "preferences: {}", "users:", "- name: heapster",
              "  user:"]
    if cert:
        lines += ["    client-certificate: " + cert, "    client-key: " + key]
    if token:
        lines.append("    token: " + token)
    if not cert and not token:
        lines[-1] = "  user: {}"
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def sim_truth_tls(sim, ca):
    """/sim/truth over https, verified with the test CA."""
    import ssl
    import urllib.request
    ctx = ssl.create_default_context(cafile=ca)
    with urllib.request.urlopen(sim.url.replace("http://", "https://") + "/sim/truth",
                                context=ctx, timeout=10) as r:
        return json.loads(r.read())


def tls_sim(procs, pki, nodes=2, pods=3, kubelet_pki=None, token=None, client_ca=True):
    extra = ["--tls-cert", os.path.join(pki, "server.crt"),
             "--tls-key", os.path.join(pki, "server.key"), "--quiet"]
    if client_ca:
        extra += ["--client-ca", os.path.join(pki, "ca.crt")]
    if token:
        extra += ["--token", token]
    if kubelet_pki:
        extra += ["--tls-ca-cert", os.path.join(kubelet_pki, "ca.crt"),
                  "--tls-ca-key", os.path.join(kubelet_pki, "ca.key")]
    return Sim(procs, nodes=nodes, pods=pods, extra=extra)


def test_kubeconfig_client_certificate(procs, tmp):
    # both ports https; a client certificate of the cluster CA is required
    pki = make_pki(tmp, "pki", 4)
    sim = tls_sim(procs, pki)
    server = "https://127.0.0.1:%d" % sim.api_port
    kc = os.path.join(tmp, "kubeconfig")
    write_kubeconfig(kc, server, ca_b64=b64(os.path.join(pki, "ca.crt")),
                     cert=os.path.join(pki, "client.crt"), key=os.path.join(pki, "client.key"))
    src = ("kubernetes.summary_api:?inClusterConfig=false&auth=%s&kubeletHttps=true&kubeletPort=%d"
           % (kc, sim.kubelet_port))
    batch, _ = once(src, metadata=False)
    check(batch["nodes_ok"] == 2 and batch["nodes_failed"] == 0,
          "over TLS: nodes ok %d failed %d" % (batch["nodes_ok"], batch["nodes_failed"]))
    truth = sim_truth_tls(sim, os.path.join(pki, "ca.crt"))
    n0 = truth["nodes"][0]
    got = batch["sets"]["node:" + n0["name"]]["metrics"]["memory/working_set"]
    check(got == n0["memory_working_set"], "memory/working_set %s != %s"
          % (got, n0["memory_working_set"]))
    meta, _ = once(src)
    check(len([k for k in meta["sets"] if k.startswith("node:")]) == 2, "metadata over TLS")
    check(any(k.startswith("namespace:") and "/pod:" in k for k in meta["sets"]), "pods over TLS")

    # refused: no client certificate (401), a certificate of another CA (401)
    write_kubeconfig(kc, server, ca_b64=b64(os.path.join(pki, "ca.crt")))
    rc, out, err = run_scraper(["--source=" + src, "--once"])
    check(rc == 1 and "HTTP 401" in err and "could not list nodes" in err,
          "without a client certificate: rc %d\n%s" % (rc, err[-2000:]))
    write_kubeconfig(kc, server, ca_b64=b64(os.path.join(pki, "ca.crt")),
                     cert=os.path.join(pki, "other-client.crt"),
                     key=os.path.join(pki, "other-client.key"))
    rc, out, err = run_scraper(["--source=" + src, "--once"])
    check(rc == 1 and "HTTP 401" in err, "a client certificate of another CA: rc %d\n%s"
          % (rc, err[-2000:]))
    # refused: the server's certificate checked against the wrong CA
    write_kubeconfig(kc, server, ca_file=os.path.join(pki, "other-ca.crt"),
                     cert=os.path.join(pki, "client.crt"), key=os.path.join(pki, "client.key"))
    rc, out, err = run_scraper(["--source=" + src, "--once"])
    check(rc == 1 and "certificate" in err.lower(), "the wrong CA: rc %d\n%s" % (rc, err[-2000:]))
    # insecure=true: no verification (API server and kubelets)
    batch, _ = once(src + "&insecure=true", metadata=False)
    check(batch["nodes_ok"] == 2, "insecure=true: ok %d" % batch["nodes_ok"])
    # a kubeconfig that does not parse stops the process at start, with its reason
    with open(kc, "w") as f:
        f.write("current-context: x\nusers:\n- name: u\n  user:\n    exec:\n      command: aws\n")
    rc, out, err = run_scraper(["--source=" + src, "--once"])
    check(rc == 2 and "auth=" in err, "a bad kubeconfig: rc %d\n%s" % (rc, err[-1500:]))


def test_in_cluster_token_and_kubelet_ca(procs, tmp):
    # the service account's token; kubelets present per-node certificates
    # of another CA than the API server's
    pki = make_pki(tmp, "pki", 2)
    kpki = make_pki(tmp, "kubelet-pki", 2)
    sim = tls_sim(procs, pki, kubelet_pki=kpki, token="sa-token", client_ca=False)
    sa = os.path.join(tmp, "sa")
    os.makedirs(sa)
    with open(os.path.join(sa, "token"), "w") as f:
        f.write("sa-token\n")
    with open(os.path.join(sa, "ca.crt"), "w") as f:
        f.write(open(os.path.join(pki, "ca.crt")).read())
    env = {"HEAPSTER_SERVICE_ACCOUNT_DIR": sa, "KUBERNETES_SERVICE_HOST": "127.0.0.1",
           "KUBERNETES_SERVICE_PORT": str(sim.api_port)}
    src = "kubernetes.summary_api:''?kubeletHttps=true&kubeletPort=%d" % sim.kubelet_port
    # the kubelets' certificates are not from the cluster CA: every node fails, said why
    rc, out, err = run_scraper(["--source=" + src, "--once"], env=env)
    batch = json.loads(out)
    check(rc == 1 and batch["nodes_failed"] == 2 and batch["nodes_ok"] == 0,
          "kubelets of another CA: rc %d ok %d failed %d\n%s"
          % (rc, batch["nodes_ok"], batch["nodes_failed"], err[-2000:]))
    check("certificate" in err.lower(), "the node failure names TLS:\n%s" % err[-2000:])
    # kubeletInsecure=true: kubelets unverified, the API server still verified
    batch, _ = once(src + "&kubeletInsecure=true", metadata=False, env=env)
    check(batch["nodes_ok"] == 2, "kubeletInsecure: ok %d" % batch["nodes_ok"])
    meta, _ = once(src + "&kubeletInsecure=true", env=env)
    check(any(k.startswith("namespace:") and "/pod:" not in k for k in meta["sets"]),
          "metadata in-cluster")
    # a wrong token: 401, said plainly
    with open(os.path.join(sa, "token"), "w") as f:
        f.write("wrong\n")
    rc, out, err = run_scraper(["--source=" + src + "&kubeletInsecure=true", "--once"], env=env)
    check(rc == 1 and "HTTP 401" in err and "token" in err,
          "wrong service account token: rc %d\n%s" % (rc, err[-2000:]))
    # no token file at all: refused at start
    os.remove(os.path.join(sa, "token"))
    rc, out, err = run_scraper(["--source=" + src, "--once"], env=env)
    check(rc == 2 and "service account token" in err, "no token: rc %d\n%s" % (rc, err[-1500:]))


def test_token_never_sent_over_http(procs, tmp):
    # plain http everywhere, a token required everywhere: the API server gets
    # it (useServiceAccount), the kubelets over http do not (kubeletHttps=false)
    sim = Sim(procs, nodes=2, pods=2, extra=["--token", "t0k"])
    sa = os.path.join(tmp, "sa")
    os.makedirs(sa)
    with open(os.path.join(sa, "token"), "w") as f:
        f.write("t0k")
    env = {"HEAPSTER_SERVICE_ACCOUNT_DIR": sa}
    rc, out, err = run_scraper(["--source=" + sim.source() + "&useServiceAccount=true", "--once"],
                               env=env)
    batch = json.loads(out)
    check(rc == 1 and batch["nodes_ok"] == 0 and batch["nodes_failed"] == 2,
          "kubelets over http without token: rc %d ok %d failed %d"
          % (rc, batch["nodes_ok"], batch["nodes_failed"]))
    check("HTTP status 401" in err, "the node failure names the 401:\n%s" % err[-2000:])
    meta, _ = once(sim.source() + "&useServiceAccount=true", env=env)
    check(len([k for k in meta["sets"] if k.startswith("node:")]) == 2,
          "the API server got the token")


def test_pipeline_in_cluster_token_rotation(procs, tmp):
    # the whole pipeline in-cluster over TLS; the cluster's token changes (a
    # new simulator on the same ports) and so does the token file
    pki = make_pki(tmp, "pki", 2)
    sim = tls_sim(procs, pki, token="tok-a", client_ca=False)
    sa = os.path.join(tmp, "sa")
    os.makedirs(sa)
    tok = os.path.join(sa, "token")
    with open(tok, "w") as f:
        f.write("tok-a")
    with open(os.path.join(sa, "ca.crt"), "w") as f:
        f.write(open(os.path.join(pki, "ca.crt")).read())
    env = {"HEAPSTER_SERVICE_ACCOUNT_DIR": sa, "KUBERNETES_SERVICE_HOST": "127.0.0.1",
           "KUBERNETES_SERVICE_PORT": str(sim.api_port)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        pipe = Pipeline(procs, tmp, "kubernetes.summary_api:?kubeletHttps=true&kubeletPort=%d"
                        % sim.kubelet_port, resolution="5s")
    finally:
        for k, v in saved.items():
            if v is None:
                del os.environ[k]
            else:
                os.environ[k] = v
    names = ["sim-node-0", "sim-node-1"]
    wait_for(lambda: sorted(pipe.get("/api/v1/model/nodes/")) == names, 40, "nodes in the API")
    procs.stop(sim.proc)
    argv = [os.path.join(BIN, "heapster-sim"), "--nodes", "2", "--pods", "3",
            "--api-port", str(sim.api_port), "--kubelet-port", str(sim.kubelet_port),
            "--tls-cert", os.path.join(pki, "server.crt"), "--tls-key", os.path.join(pki, "server.key"),
            "--token", "tok-b", "--quiet"]
    procs.start("sim-b", argv, ready="heapster-sim: ready")
    wait_for(lambda: "HTTP 401" in pipe.log(), 20, "the old token refused")
    with open(tok + ".new", "w") as f:
        f.write("tok-b")
    os.rename(tok + ".new", tok)
    wait_for(lambda: "changed: using the new token" in pipe.log(), 20, "the new token read")
    mark = len(pipe.log())
    wait_for(lambda: "metadata: 2 nodes" in pipe.log()[mark:], 20, "metadata with the new token")
    wait_for(lambda: "nodes ok 2 failed 0" in pipe.log()[mark:], 20, "kubelets with the new token")
