#!/usr/bin/env python3
"""Self-check of a running heapster-sim's workload objects (stdlib only).

usage: check_owners.py [API_URL]      default http://127.0.0.1:18080

Checks: every pod's controller ownerReference names an object that the
API serves, with the same uid; every ReplicaSet is owned by a Deployment
and every CronJob's Job by its CronJob; replica counts equal the pods
pointing at each object; /sim/truth's owner_* and workload_* agree with the
chain; paged lists, namespaced lists, single GETs, fieldSelectors and the
initial ADDED dump of a watch all return the same objects; the pod mix has
every kind.  Exits non-zero on failure.
"""
import collections
import json
import sys
import urllib.error
import urllib.request

API = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18080"
failures = 0

RES = {  # kind -> (collection path, resource)
    "Deployment": "/apis/apps/v1", "ReplicaSet": "/apis/apps/v1",
    "StatefulSet": "/apis/apps/v1", "DaemonSet": "/apis/apps/v1",
    "Job": "/apis/batch/v1", "CronJob": "/apis/batch/v1",
    "ReplicationController": "/api/v1",
}
PLURAL = {k: k.lower() + "s" for k in RES}


def get(path):
    with urllib.request.urlopen(API + path, timeout=60) as r:
        return json.loads(r.read())


def status_of(path):
    try:
        with urllib.request.urlopen(API + path, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def key(o):
    return (o["metadata"].get("namespace", ""), o["metadata"]["name"])


def paged(path, limit):
    items, cont = [], None
    while True:
        q = "%s?limit=%d" % (path, limit) + ("&continue=" + cont if cont else "")
        d = get(q)
        items += d["items"]
        cont = d["metadata"].get("continue")
        if not cont:
            return items


objs = {}
for kind, base in RES.items():
    d = get(base + "/" + PLURAL[kind])
    check(d["kind"] == kind + "List", "%s list kind %s" % (kind, d["kind"]))
    check(d["apiVersion"] == base.split("/", 2)[-1] if base != "/api/v1" else d["apiVersion"] == "v1",
          "%s list apiVersion %s" % (kind, d["apiVersion"]))
    objs[kind] = {key(o): o for o in d["items"]}
    check(len(objs[kind]) == len(d["items"]), "%s names unique" % kind)
    # paging gives the same objects in the same order
    p = paged(base + "/" + PLURAL[kind], 7)
    check([key(o) for o in p] == [key(o) for o in d["items"]], "%s paged list" % kind)

pods = get("/api/v1/pods")["items"]
truth = get("/sim/truth")
tpods = {(p["namespace"], p["name"]): p for n in truth["nodes"] for p in n["pods"]}
uids = {kind: {o["metadata"]["uid"]: o for o in objs[kind].values()} for kind in objs}
count = collections.Counter()
mix = collections.Counter()

for pod in pods:
    md = pod["metadata"]
    k = (md["namespace"], md["name"])
    t = tpods[k]
    refs = md.get("ownerReferences", [])
    if not refs:
        mix[None] += 1
        check(t["owner_kind"] is None and t["workload_kind"] is None, "truth of bare pod %s" % (k,))
        continue
    check(len(refs) == 1 and refs[0]["controller"], "one controller ref on %s" % (k,))
    ref = refs[0]
    o = objs.get(ref["kind"], {}).get((md["namespace"], ref["name"]))
    check(o is not None, "owner %s %s of %s exists" % (ref["kind"], ref["name"], k))
    if o is None:
        continue
    check(o["metadata"]["uid"] == ref["uid"], "owner uid of %s" % (k,))
    count[(ref["kind"], md["namespace"], ref["name"])] += 1
    check(t["owner_kind"] == ref["kind"] and t["owner_name"] == ref["name"], "truth owner of %s" % (k,))
    # walk up to the workload
    wk, wn = ref["kind"], ref["name"]
    up = o["metadata"].get("ownerReferences", [])
    if up:
        check(len(up) == 1 and up[0]["controller"], "one controller ref on %s %s" % (wk, wn))
        parent = objs[up[0]["kind"]].get((md["namespace"], up[0]["name"]))
        check(parent is not None and parent["metadata"]["uid"] == up[0]["uid"],
              "parent %s of %s %s" % (up[0]["name"], wk, wn))
        wk, wn = up[0]["kind"], up[0]["name"]
    check(t["workload_kind"] == wk.lower() and t["workload_name"] == wn,
          "truth workload of %s: %s/%s vs %s/%s" % (k, t["workload_kind"], t["workload_name"], wk, wn))
    mix[wk] += 1

for want in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicationController", None):
    check(mix[want] > 0, "pod mix has %s" % want)

# every ReplicaSet has a Deployment, every Job of a CronJob its CronJob
for kind, parent_kind in (("ReplicaSet", "Deployment"), ("Job", "CronJob")):
    for k, o in objs[kind].items():
        refs = o["metadata"].get("ownerReferences", [])
        if kind == "ReplicaSet":
            check(len(refs) == 1 and refs[0]["kind"] == "Deployment", "RS %s owned by a Deployment" % (k,))
        for r in refs:
            check(r["kind"] == parent_kind and (k[0], r["name"]) in objs[parent_kind], "%s %s parent" % (kind, k))

# replica counts
for kind in ("ReplicaSet", "StatefulSet", "ReplicationController"):
    for k, o in objs[kind].items():
        n = count[(kind, k[0], k[1])]
        check(o["spec"]["replicas"] == n and o["status"]["replicas"] == n,
              "%s %s replicas %s vs %d pods" % (kind, k, o["spec"]["replicas"], n))
for k, o in objs["DaemonSet"].items():
    n = count[("DaemonSet", k[0], k[1])]
    check(o["status"]["currentNumberScheduled"] == n, "DaemonSet %s count" % (k,))
for k, o in objs["Deployment"].items():
    rs = [r for r in objs["ReplicaSet"].values()
          if r["metadata"]["namespace"] == k[0] and r["metadata"]["ownerReferences"][0]["name"] == k[1]]
    check(len(rs) == 2, "Deployment %s has 2 ReplicaSets" % (k,))
    check(o["spec"]["replicas"] == sum(r["spec"]["replicas"] for r in rs), "Deployment %s replicas" % (k,))
    check(o["spec"]["replicas"] > 0, "Deployment %s has pods" % (k,))
for k, o in objs["Job"].items():
    n = count[("Job", k[0], k[1])]
    if "completionTime" in o["status"]:
        check(n == 0 and o["status"]["succeeded"] == 1, "completed Job %s" % (k,))
    else:
        check(o["status"]["active"] == n and n > 0, "running Job %s active %s vs %d" % (k, o["status"].get("active"), n))
for k, o in objs["CronJob"].items():
    act = o["status"]["active"]
    check(len(act) == 1 and (k[0], act[0]["name"]) in objs["Job"], "CronJob %s active job" % (k,))

# single GETs, namespaced lists, field selectors, 404s, watch dump
nss = truth["namespaces"]
for kind, base in RES.items():
    pl = PLURAL[kind]
    byns = []
    for ns in nss:
        byns += get("%s/namespaces/%s/%s" % (base, ns, pl))["items"]
    check(sorted(map(key, byns)) == sorted(objs[kind]), "%s namespaced lists" % kind)
    for (ns, name), o in list(objs[kind].items())[:5]:
        one = get("%s/namespaces/%s/%s/%s" % (base, ns, pl, name))
        check(one["kind"] == kind and one["metadata"]["uid"] == o["metadata"]["uid"], "GET %s %s/%s" % (kind, ns, name))
        fs = get("%s/%s?fieldSelector=metadata.name%%3D%s,metadata.namespace%%3D%s" % (base, pl, name, ns))["items"]
        check([key(x) for x in fs] == [(ns, name)], "fieldSelector %s %s/%s" % (kind, ns, name))
    check(status_of("%s/namespaces/%s/%s/no-such" % (base, nss[0], pl)) == 404, "%s 404" % kind)
    req = urllib.request.Request(API + "%s/%s?watch=true&timeoutSeconds=1" % (base, pl))
    with urllib.request.urlopen(req, timeout=30) as r:
        evs = [json.loads(line) for line in r.read().splitlines() if line.strip()]
    check(all(e["type"] == "ADDED" and e["object"]["kind"] == kind for e in evs), "%s watch types" % kind)
    check(sorted(key(e["object"]) for e in evs) == sorted(objs[kind]), "%s watch dump" % kind)

print("%d pods; %s; objects: %s" % (len(pods), dict((k or "none", v) for k, v in mix.items()),
                                    dict((k, len(v)) for k, v in objs.items())))
print("OK" if failures == 0 else "%d FAILURES" % failures)
sys.exit(1 if failures else 0)
