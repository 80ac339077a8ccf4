#!/usr/bin/env python3
"""
make_golden.py - inputs and expected outputs of the golden tests
(tests/unit/test_golden.c).  Python 3, standard library only.

    cd <repo root> && python3 tests/golden/make_golden.py [FIXTURES_DIR]

FIXTURES_DIR defaults to ../shared/fixtures (or $HC_FIXTURES).  Writes, in
tests/golden/:

  summary-1.35-t1.json       the 1.35 fixture scraped again 10 s later, with
                             known counter deltas and edge cases (below)
  podlist-1.35-extra.json    one more pod (3 spec containers, a Deployment)
                             that the t1 pod list adds
  namespaces-1.35.json       a NamespaceList (uids synthesized: the fixtures
                             have none)
  expected-1.35.json         every metric set of the processed t1 batch
  summary-kind-t1.json       the metrics-server "kind" fixture (zero and
                             missing fields) scraped again 10 s later
  podlist-kind.json          pods with no requests at all (one pod unlisted)
  nodelist-kind.json         a node with capacity but no allocatable
  expected-kind.json

The expected values are computed HERE, from the JSON inputs, by an
implementation of /work/shared/REFERENCE.md sections 2-4 (plus the rules
the C headers document where REFERENCE is silent: rate.h's "rated from its
start" rule and rounding, meta.h's workload resolution).  Nothing of the C
code is run or imported.  A reviewer reads the diff of expected-*.json.

Expected-file format (read by test_golden.c):
  "inputs":  which files to parse, batch times and scrape ("now") times;
             a path "fixtures:NAME" is in the fixtures directory,
             "golden:NAME" in tests/golden/.
  "sets":    every set of the processed t1 batch, by entity key:
     "labels":    labels that must have exactly these values
     "metrics":   EVERY unlabeled metric the set must have (an int is
                  written without a decimal point, a float with one); the
                  set must have no other unlabeled metric
     "absent":    metrics that must not be there (documentation of the
                  interesting absences; implied by "metrics" anyway)
     "unchecked": metrics that may or may not be there (disputed points)
     "why":       what the set exercises, when it is an edge case
  "absent_sets": keys that must not be in the batch.
Labeled metrics (filesystem/*, accelerator/*) are not covered.
"""
import calendar
import copy
import json
import math
import os
import re
import sys
import time
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- REFERENCE section 4: value types and kinds ---------------------------

INT, FLOAT = "int", "float"
CUMULATIVE = {
    "uptime", "cpu/usage", "memory/page_faults", "memory/major_page_faults",
    "network/rx", "network/rx_errors", "network/tx", "network/tx_errors",
    "disk/io_read_bytes", "disk/io_write_bytes",
}
FLOAT_METRICS = {
    "cpu/node_capacity", "cpu/node_allocatable", "cpu/node_reservation",
    "cpu/node_utilization", "memory/page_faults_rate",
    "memory/major_page_faults_rate", "memory/node_capacity",
    "memory/node_allocatable", "memory/node_reservation",
    "memory/node_utilization", "network/rx_rate", "network/rx_errors_rate",
    "network/tx_rate", "network/tx_errors_rate",
    "ephemeral_storage/node_capacity", "ephemeral_storage/node_allocatable",
    "ephemeral_storage/node_reservation", "ephemeral_storage/node_utilization",
    "disk/io_read_bytes_rate", "disk/io_write_bytes_rate",
}


def mtype(name):
    return FLOAT if name in FLOAT_METRICS else INT


# REFERENCE section 3, step 1: counter -> rate
RATES = [
    ("cpu/usage", "cpu/usage_rate"),
    ("memory/page_faults", "memory/page_faults_rate"),
    ("memory/major_page_faults", "memory/major_page_faults_rate"),
    ("network/rx", "network/rx_rate"),
    ("network/rx_errors", "network/rx_errors_rate"),
    ("network/tx", "network/tx_rate"),
    ("network/tx_errors", "network/tx_errors_rate"),
]
# section 3, step 5 (and the workload sums, meta.h)
NS_METRICS = ["cpu/usage_rate", "memory/usage", "cpu/request", "cpu/limit",
              "memory/request", "memory/limit"]
# section 3, step 6
NODE_METRICS = ["cpu/request", "cpu/limit", "memory/request", "memory/limit",
                "ephemeral_storage/request", "ephemeral_storage/limit"]

# ---- helpers ----------------------------------------------------------------


def t_ms(s):
    """RFC 3339 (UTC, optional fraction) -> ms since the epoch."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", s)
    if not m:
        raise ValueError("time %r" % s)
    sec = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    frac = int(Fraction(m.group(2) or ".0") * 1000)
    return sec * 1000 + frac


def rfc(ms):
    assert ms % 1000 == 0
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def num(v):
    """A summary numeric field: an int >= 0, else None (REFERENCE section 2)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        return None
    return int(v)


_SUFFIX = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000),
           "": Fraction(1), "k": Fraction(10**3), "M": Fraction(10**6),
           "G": Fraction(10**9), "T": Fraction(10**12), "P": Fraction(10**15),
           "E": Fraction(10**18), "Ki": Fraction(2**10), "Mi": Fraction(2**20),
           "Gi": Fraction(2**30), "Ti": Fraction(2**40), "Pi": Fraction(2**50),
           "Ei": Fraction(2**60)}


def quantity(s, scale10):
    """A Kubernetes quantity x 10^scale10, rounded up (Value(), MilliValue())."""
    m = re.fullmatch(r"([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?", s)
    if not m:
        raise ValueError("quantity %r" % s)
    v = Fraction(m.group(2))
    if m.group(4) is not None:
        v *= Fraction(10) ** int(m.group(4))
    else:
        v *= _SUFFIX[m.group(3) or ""]
    v *= Fraction(10) ** scale10
    if m.group(1) == "-":
        v = -v
    return math.ceil(v) if v >= 0 else math.floor(v)


def labels_str(d):
    """Pod/node labels as Heapster wrote them: "k:v" sorted bytewise, joined by ","."""
    return ",".join(sorted(("%s:%s" % (k, v) for k, v in (d or {}).items()
                            if isinstance(v, str)), key=lambda x: x.encode()))


def cpu_rate_millicores(delta_ns, dt_ms):
    """llround(delta_ns / dt_s / 1e6), exactly: delta_ns / (dt_ms * 1000), half away from 0."""
    den = dt_ms * 1000
    q, r = divmod(delta_ns, den)
    frac = Fraction(r, den)
    # the C code divides in doubles: stay away from a near-half we cannot predict
    assert frac == Fraction(1, 2) or abs(frac - Fraction(1, 2)) > Fraction(1, 10**6), \
        "cpu rate too close to .5: %d / %d" % (delta_ns, den)
    return q + (1 if 2 * r >= den else 0)


class Set:
    def __init__(self, key, typ):
        self.key = key
        self.labels = {"type": typ}
        self.m = {}          # plain metrics: name -> value (int or float)
        self.start = 0       # ms, 0 unknown
        self.scrape = 0
        self.why = None

    @property
    def type(self):
        return self.labels["type"]

    def put(self, name, v):
        self.m[name] = float(v) if mtype(name) == FLOAT else int(v)


# ---- REFERENCE section 2: the summary ------------------------------------------

SYS_NAMES = {"runtime": "docker-daemon", "misc": "system"}


def stats(s, obj, with_network):
    """cpu, memory (and network) of a summary object into set s; returns the
    sample times (cpu, memory, network)."""
    times = [0, 0, 0]
    cpu = obj.get("cpu")
    if isinstance(cpu, dict):
        times[0] = t_ms(cpu["time"]) if cpu.get("time") else 0
        v = num(cpu.get("usageCoreNanoSeconds"))
        if v is not None:
            s.put("cpu/usage", v)
    mem = obj.get("memory")
    if isinstance(mem, dict):
        times[1] = t_ms(mem["time"]) if mem.get("time") else 0
        for f, name in (("usageBytes", "memory/usage"), ("workingSetBytes", "memory/working_set"),
                        ("rssBytes", "memory/rss"), ("pageFaults", "memory/page_faults"),
                        ("majorPageFaults", "memory/major_page_faults")):
            v = num(mem.get(f))
            if v is not None:
                s.put(name, v)
    net = obj.get("network") if with_network else None
    if isinstance(net, dict):
        times[2] = t_ms(net["time"]) if net.get("time") else 0
        for f, name in (("rxBytes", "network/rx"), ("rxErrors", "network/rx_errors"),
                        ("txBytes", "network/tx"), ("txErrors", "network/tx_errors")):
            v = num(net.get(f))
            if v is not None:
                s.put(name, v)
    s.scrape = times[0] or times[1] or times[2]
    return times


def start_uptime(s, obj, now):
    st = obj.get("startTime")
    s.start = t_ms(st) if st else 0
    if s.start:
        s.put("uptime", max(now - s.start, 0))


def summary_sets(summary, node, now):
    """REFERENCE section 2 -> {key: Set}.  node: the node list's view
    (name, hostname).  Two entities of one key: the newer startTime wins."""
    out = {}
    nl = {"nodename": node["name"], "hostname": node["hostname"]}

    def commit(s):
        old = out.get(s.key)
        if old is not None and old.start > s.start:
            return
        out[s.key] = s

    n = summary["node"]
    nodename = n.get("nodeName") or node["name"]
    ns_ = Set("node:" + nodename, "node")
    ns_.labels.update(nl)
    stats(ns_, n, True)
    fs = n.get("fs")
    if isinstance(fs, dict) and num(fs.get("usedBytes")) is not None:
        ns_.put("ephemeral_storage/usage", fs["usedBytes"])
    start_uptime(ns_, n, now)
    commit(ns_)
    for c in n.get("systemContainers") or []:
        name = SYS_NAMES.get(c["name"], c["name"])
        s = Set("node:%s/container:%s" % (nodename, name), "sys_container")
        s.labels.update(nl, container_name=name)
        container_body(s, c, now)
        commit(s)
    for p in summary.get("pods") or []:
        ref = p["podRef"]
        pk = "namespace:%s/pod:%s" % (ref["namespace"], ref["name"])
        ps = Set(pk, "pod")
        ps.labels.update(namespace_name=ref["namespace"], pod_name=ref["name"],
                         pod_id=ref.get("uid", ""), **nl)
        stats(ps, p, True)
        eph = p.get("ephemeral-storage")
        if isinstance(eph, dict) and num(eph.get("usedBytes")) is not None:
            ps.put("ephemeral_storage/usage", eph["usedBytes"])
        start_uptime(ps, p, now)
        for c in p.get("containers") or []:
            s = Set("%s/container:%s" % (pk, c["name"]), "pod_container")
            s.labels.update(container_name=c["name"], namespace_name=ref["namespace"],
                            pod_name=ref["name"], pod_id=ref.get("uid", ""), **nl)
            container_body(s, c, now)
            commit(s)
        commit(ps)
    return out


def container_body(s, c, now):
    stats(s, c, False)
    used = [num(c[f].get("usedBytes")) for f in ("rootfs", "logs") if isinstance(c.get(f), dict)]
    used = [u for u in used if u is not None]
    if used:
        s.put("ephemeral_storage/usage", sum(used))
    start_uptime(s, c, now)


# ---- metadata: pod list, namespaces, nodes -------------------------------------

def meta_pods(podlists):
    """Running pods -> {pod key: info}; first listing of a key wins."""
    pods = {}
    for pl in podlists:
        for p in pl.get("items") or []:
            md, spec, st = p.get("metadata", {}), p.get("spec", {}), p.get("status", {})
            if st.get("phase") != "Running":
                continue
            key = "namespace:%s/pod:%s" % (md["namespace"], md["name"])
            if key in pods:
                continue
            restarts = {cs["name"]: cs.get("restartCount", 0)
                        for cs in st.get("containerStatuses") or []}
            ctrs = []
            for c in spec.get("containers") or []:
                res = c.get("resources") or {}
                req, lim = res.get("requests") or {}, res.get("limits") or {}
                vals = {
                    # REFERENCE section 3 step 2: millicores, bytes, 0 when unset
                    "cpu/request": quantity(req["cpu"], 3) if "cpu" in req else 0,
                    "cpu/limit": quantity(lim["cpu"], 3) if "cpu" in lim else 0,
                    "memory/request": quantity(req["memory"], 0) if "memory" in req else 0,
                    "memory/limit": quantity(lim["memory"], 0) if "memory" in lim else 0,
                    "ephemeral_storage/request":
                        quantity(req["ephemeral-storage"], 0) if "ephemeral-storage" in req else 0,
                    "ephemeral_storage/limit":
                        quantity(lim["ephemeral-storage"], 0) if "ephemeral-storage" in lim else 0,
                    "restart_count": restarts.get(c["name"], 0),
                }
                for r, q in req.items():
                    if r not in ("cpu", "memory", "ephemeral-storage"):
                        vals[r + "/request"] = quantity(q, 0)
                ctrs.append({"name": c["name"], "image": c.get("image", ""), "vals": vals})
            pods[key] = {
                "ns": md["namespace"], "name": md["name"], "uid": md.get("uid", ""),
                "labels": labels_str(md.get("labels")), "node": spec.get("nodeName", ""),
                "workload": workload(md), "containers": ctrs,
            }
    return pods


def workload(md):
    """meta.h / kmeta.h: the controller owner reference (else the first),
    ReplicaSet "<d>-<pod-template-hash>" -> deployment <d> (no ReplicaSet
    listing in these tests), Job -> job, Node and none -> no workload."""
    refs = md.get("ownerReferences") or []
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    if ref is None:
        return None
    kind, name = ref["kind"], ref["name"]
    direct = {"StatefulSet": "statefulset", "DaemonSet": "daemonset",
              "ReplicationController": "replicationcontroller",
              "Deployment": "deployment", "CronJob": "cronjob", "Job": "job"}
    if kind == "ReplicaSet":
        h = (md.get("labels") or {}).get("pod-template-hash")
        if h and name.endswith("-" + h) and len(name) > len(h) + 1:
            return ("deployment", name[:-len(h) - 1])
        return ("replicaset", name)
    if kind in direct:
        return (direct[kind], name)
    return None


def meta_nodes(nodelist):
    out = {}
    for n in nodelist.get("items") or []:
        md, st = n["metadata"], n.get("status", {})
        addrs = {a["type"]: a["address"] for a in st.get("addresses") or []}
        res = {}
        for r, scale in (("cpu", 3), ("memory", 0), ("ephemeral-storage", 0)):
            cap = (st.get("capacity") or {}).get(r)
            alloc = (st.get("allocatable") or {}).get(r)
            res[r] = (quantity(cap, scale) if cap is not None else None,
                      quantity(alloc, scale) if alloc is not None else None)
        out[md["name"]] = {"name": md["name"], "hostname": addrs.get("Hostname", md["name"]),
                           "labels": labels_str(md.get("labels")), "res": res}
    return out


# ---- REFERENCE section 3: the processors ---------------------------------------


def rates(t0, t1, batch0_ms):
    """Step 1, with Heapster's reset bug fixed, and rate.h's rule for an
    entity first seen or restarted after the previous batch (rated from its
    start).  Adds rate metrics to the sets of t1."""
    for key, s in t1.items():
        p = t0.get(key)
        counters = [(c, r) for c, r in RATES if c in s.m]
        if not counters:
            continue
        if p is not None and p.start == s.start:
            if s.scrape <= p.scrape:
                continue
            dt = s.scrape - p.scrape
            for c, r in counters:
                if c not in p.m:
                    continue
                d = s.m[c] - p.m[c]
                if d < 0:
                    continue      # a reset: no rate, never a negative one
                put_rate(s, r, d, dt)
        else:
            # first seen, or restarted (start time changed)
            if not (batch0_ms > 0 and s.start >= batch0_ms and s.scrape - s.start >= 1000):
                continue
            dt = s.scrape - s.start
            for c, r in counters:
                put_rate(s, r, s.m[c], dt)


def put_rate(s, r, d, dt_ms):
    if r == "cpu/usage_rate":
        s.put(r, cpu_rate_millicores(d, dt_ms))
    else:
        s.put(r, d / (dt_ms / 1000.0))


def enrich_pods(b, pods, namespaces):
    """Steps 2 and 3."""
    for pk, info in pods.items():
        pod = b.get(pk)
        if pod is None or pod.type != "pod":
            continue          # not scraped: nothing is created for it
        pod.labels["pod_id"] = info["uid"]
        pod.labels["labels"] = info["labels"]
        for c in info["containers"]:
            ck = "%s/container:%s" % (pk, c["name"])
            s = b.get(ck)
            if s is None:
                # a spec container without stats: a request/limit-only set
                s = b[ck] = Set(ck, "pod_container")
                s.why = "spec container with no stats: request/limit-only set"
                s.labels.update(container_name=c["name"], namespace_name=info["ns"],
                                pod_name=info["name"], nodename=pod.labels["nodename"],
                                hostname=pod.labels["hostname"])
            s.labels["container_base_image"] = c["image"]
            s.labels["pod_id"] = info["uid"]
            s.labels["labels"] = info["labels"]
            for name, v in c["vals"].items():
                if name not in s.m:
                    s.put(name, v)
    for s in b.values():
        ns = s.labels.get("namespace_name")
        if ns is not None and ns in namespaces:
            s.labels["namespace_id"] = namespaces[ns]


def sum_into(parents, metrics):
    """{parent: [child sets]}: the metrics some children have, summed into
    the parent where it does not have them already.  Float when any addend is."""
    for parent, kids in parents.items():
        have = set(parent.m)
        for name in metrics(kids):
            vals = [k.m[name] for k in kids if name in k.m]
            if not vals or name in have:
                continue
            parent.m[name] = sum(vals) if all(isinstance(v, int) for v in vals) else float(sum(vals))


def aggregate(b):
    """Steps 4-7."""
    # 4: containers -> pods: gauges (not cumulative, not uptime)
    by_pod = {}
    for s in list(b.values()):
        if s.type != "pod_container":
            continue
        pk = s.key[:s.key.index("/container:")]
        if pk not in b:
            b[pk] = Set(pk, "pod")
        by_pod.setdefault(b[pk], []).append(s)
    sum_into(by_pod, lambda kids: sorted({n for k in kids for n in k.m
                                                if n not in CUMULATIVE}))
    pods = [s for s in b.values() if s.type == "pod"]
    # 5: pods -> namespaces
    by_ns = {}
    for p in pods:
        ns = p.labels["namespace_name"]
        nk = "namespace:" + ns
        if nk not in b:
            b[nk] = Set(nk, "ns")
            b[nk].labels["namespace_name"] = ns
            if "namespace_id" in p.labels:
                b[nk].labels["namespace_id"] = p.labels["namespace_id"]
        by_ns.setdefault(b[nk], []).append(p)
    sum_into(by_ns, lambda kids: NS_METRICS)
    # 6: pods -> their (scraped) node
    by_node = {}
    for p in pods:
        nk = "node:" + p.labels["nodename"]
        if nk in b:
            by_node.setdefault(b[nk], []).append(p)
    sum_into(by_node, lambda kids: NODE_METRICS)
    # 7: namespaces -> cluster
    nss = [s for s in b.values() if s.type == "ns"]
    if nss:
        b["cluster"] = Set("cluster", "cluster")
        sum_into({b["cluster"]: nss}, lambda kids: NS_METRICS)


def enrich_nodes(b, nodes):
    """Step 8: capacity, allocatable, utilization and reservation."""
    for s in b.values():
        if s.type != "node" or s.labels["nodename"] not in nodes:
            continue
        info = nodes[s.labels["nodename"]]
        s.labels["labels"] = info["labels"]
        for r, pre, usage, req in (("cpu", "cpu", "cpu/usage_rate", "cpu/request"),
                                   ("memory", "memory", "memory/usage", "memory/request"),
                                   ("ephemeral-storage", "ephemeral_storage",
                                    "ephemeral_storage/usage", "ephemeral_storage/request")):
            cap, alloc = info["res"][r]
            if cap is None or alloc is None:
                # REFERENCE: ephemeral_storage/node_* only when both exist;
                # for cpu and memory it does not say (see "unchecked")
                if r != "ephemeral-storage":
                    s.unchecked = getattr(s, "unchecked", set()) | {
                        pre + "/node_capacity", pre + "/node_allocatable"}
                    if cap is not None or alloc is not None:
                        s.why = ("capacity without allocatable: no ratios; whether "
                                 "node_capacity/node_allocatable are emitted is disputed")
                continue
            s.put(pre + "/node_capacity", cap)
            s.put(pre + "/node_allocatable", alloc)
            if alloc != 0:
                if usage in s.m:
                    s.put(pre + "/node_utilization", s.m[usage] / float(alloc))
                if req in s.m:
                    s.put(pre + "/node_reservation", s.m[req] / float(alloc))


def aggregate_workloads(b, pods_meta):
    """meta.h: pods summed into "namespace:NS/<kind>:<name>" with the
    namespace metrics and pod_count."""
    by_w = {}
    for p in [s for s in b.values() if s.type == "pod"]:
        info = pods_meta.get(p.key)
        if info is None or info["workload"] is None:
            continue
        kind, name = info["workload"]
        wk = "namespace:%s/%s:%s" % (p.labels["namespace_name"], kind, name)
        if wk not in b:
            w = b[wk] = Set(wk, kind)
            w.labels["namespace_name"] = p.labels["namespace_name"]
            if "namespace_id" in p.labels:
                w.labels["namespace_id"] = p.labels["namespace_id"]
            w.labels["workload_name"] = name
        by_w.setdefault(b[wk], []).append(p)
    sum_into(by_w, lambda kids: NS_METRICS)
    for w, kids in by_w.items():
        w.put("pod_count", len(kids))


def process(t0_summary, t1_summary, node, pods0, pods1, namespaces, nodes, batch_ms, now_ms):
    """Both scrapes through the pipeline; returns the t1 batch."""
    b0 = summary_sets(t0_summary, node, now_ms[0])
    b1 = summary_sets(t1_summary, node, now_ms[1])
    # t0 is the first batch: no rates; only its samples matter for t1
    rates(b0, b1, batch_ms[0])
    enrich_pods(b1, pods1, namespaces)
    aggregate(b1)
    enrich_nodes(b1, nodes)
    aggregate_workloads(b1, pods1)
    return b1


# ---- the t1 scrapes -----------------------------------------------------------


def shift_times(o, ms):
    """Every sample time ("time") + ms; start times are left alone."""
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "time" and isinstance(v, str):
                o[k] = rfc(t_ms(v) + ms)
            else:
                shift_times(v, ms)
    elif isinstance(o, list):
        for x in o:
            shift_times(x, ms)


def strip_unmapped(o):
    """Drops what REFERENCE does not map (psi, io, swap, interfaces, ...) to
    keep the committed file small; t0 (the fixture) keeps them."""
    if isinstance(o, dict):
        for k in ("psi", "io", "swap", "interfaces", "process_stats", "rlimit", "runtime",
                  "usageNanoCores"):
            o.pop(k, None)
        for v in o.values():
            strip_unmapped(v)
    elif isinstance(o, list):
        for x in o:
            strip_unmapped(x)


def bump(obj, section, field, delta, keep_zero=False):
    d = obj.get(section)
    if isinstance(d, dict) and num(d.get(field)) is not None:
        if keep_zero and d[field] == 0:
            return
        d[field] += delta


def advance_container(c, k, keep_zero):
    """The k-th container's known deltas (10 s)."""
    cpu = 250_000_000 * (k + 1) + 1_234_567 * k
    if k == 2:
        cpu = 125_000_000          # 12.5 millicores: rounds half away from 0 -> 13
    bump(c, "cpu", "usageCoreNanoSeconds", cpu, keep_zero)
    bump(c, "memory", "pageFaults", 100 + 7 * k, keep_zero)
    bump(c, "memory", "majorPageFaults", k % 3, keep_zero)
    bump(c, "memory", "usageBytes", 4096 * (k + 1), keep_zero)
    bump(c, "memory", "workingSetBytes", 2048 * (k + 1), keep_zero)
    bump(c, "memory", "rssBytes", 1024 * (k + 1), keep_zero)
    bump(c, "rootfs", "usedBytes", 8192 * (k + 1), keep_zero)
    bump(c, "logs", "usedBytes", 512 * k, keep_zero)
    return cpu


def advance_pod(p, i, cpu_children, keep_zero):
    bump(p, "cpu", "usageCoreNanoSeconds", cpu_children + 1_000_000 * (i + 1) + 333, keep_zero)
    bump(p, "memory", "pageFaults", 50 + 3 * i, keep_zero)
    bump(p, "memory", "majorPageFaults", i % 2, keep_zero)
    bump(p, "memory", "usageBytes", 8192 * (i + 1), keep_zero)
    bump(p, "memory", "workingSetBytes", 4096 * (i + 1), keep_zero)
    bump(p, "memory", "rssBytes", 2048, keep_zero)
    bump(p, "network", "rxBytes", 10_000 + 1_111 * i, keep_zero)
    bump(p, "network", "txBytes", 20_000 + 37 * i, keep_zero)
    bump(p, "network", "rxErrors", i % 2, keep_zero)
    bump(p, "ephemeral-storage", "usedBytes", 8192, keep_zero)


def advance(summary, keep_zero):
    """Generic t1: +10 s, every counter up by its entity's delta."""
    t1 = copy.deepcopy(summary)
    shift_times(t1, 10_000)
    n = t1["node"]
    bump(n, "cpu", "usageCoreNanoSeconds", 3_333_333_333, keep_zero)
    bump(n, "memory", "pageFaults", 1000, keep_zero)
    bump(n, "memory", "majorPageFaults", 1, keep_zero)
    bump(n, "memory", "usageBytes", 1 << 20, keep_zero)
    bump(n, "memory", "workingSetBytes", 1 << 19, keep_zero)
    bump(n, "memory", "rssBytes", 1 << 18, keep_zero)
    bump(n, "network", "rxBytes", 123_456, keep_zero)
    bump(n, "network", "txBytes", 65_432, keep_zero)
    bump(n, "network", "rxErrors", 2, keep_zero)
    bump(n, "fs", "usedBytes", 1_000_000, keep_zero)
    for i, c in enumerate(n.get("systemContainers") or []):
        bump(c, "cpu", "usageCoreNanoSeconds", 100_000_000 * (i + 1) + 7, keep_zero)
        bump(c, "memory", "pageFaults", 10 * (i + 1), keep_zero)
        bump(c, "memory", "usageBytes", 4096, keep_zero)
    k = 0
    for i, p in enumerate(t1.get("pods") or []):
        cpu = 0
        for c in p.get("containers") or []:
            cpu += advance_container(c, k, keep_zero)
            k += 1
        advance_pod(p, i, cpu, keep_zero)
    return t1


def find_pod(summary, name):
    return next(p for p in summary["pods"] if p["podRef"]["name"] == name)


def edge_cases_135(t0, t1, batch0):
    """The 1.35 edge cases; returns {key: why}."""
    why = {}
    ks = "namespace:kube-system/pod:"
    # a counter that went down: no cpu rate (the other counters still rate)
    c = find_pod(t1, "kube-apiserver-datagen-1-35")["containers"][0]
    c0 = find_pod(t0, "kube-apiserver-datagen-1-35")["containers"][0]
    c["cpu"]["usageCoreNanoSeconds"] = c0["cpu"]["usageCoreNanoSeconds"] - 1_000_000_000
    why[ks + "kube-apiserver-datagen-1-35/container:kube-apiserver"] = \
        "cpu counter went down (reset): no cpu/usage_rate; page faults still rated"
    # a restart (start time changed) to before the previous batch: no rate
    # at all although every counter went up
    c = find_pod(t1, "etcd-datagen-1-35")["containers"][0]
    c["startTime"] = "2026-06-26T10:14:20Z"
    assert t_ms(c["startTime"]) < batch0
    why[ks + "etcd-datagen-1-35/container:etcd"] = \
        "start time changed to before the previous batch (restart): no rates"
    # a restart after the previous batch, counters from zero: rated from start
    c = find_pod(t1, "coredns-7d764666f9-qdcxt")["containers"][0]
    start = t_ms(c["cpu"]["time"]) - 5000
    assert start >= batch0
    c["startTime"] = rfc(start)
    c["cpu"]["usageCoreNanoSeconds"] = 400_000_000
    c["memory"]["pageFaults"] = 55
    c["memory"]["majorPageFaults"] = 0
    why[ks + "coredns-7d764666f9-qdcxt/container:coredns"] = \
        "restarted 5 s before its sample, after the previous batch: rated from its start"
    # a deleted pod
    t1["pods"].remove(find_pod(t1, "e2e-deployment-79967c5968-zjslc"))
    # a pod the t0 summary lacked (crash-looping), last started before the
    # previous batch: first seen, no rate; its metadata gives restart_count 2
    t1["pods"].append({
        "podRef": {"name": "e2e-container-creating", "namespace": "scraper",
                   "uid": "567cc614-001a-402b-99fd-3d1f8db83f30"},
        "startTime": "2026-06-26T10:12:51Z",
        "containers": [{
            "name": "alpine", "startTime": "2026-06-26T10:14:29Z",
            "cpu": {"time": "2026-06-26T10:14:44Z", "usageCoreNanoSeconds": 21_000_000},
            "memory": {"time": "2026-06-26T10:14:44Z", "usageBytes": 1_200_128,
                       "workingSetBytes": 1_048_576, "rssBytes": 524_288,
                       "pageFaults": 321, "majorPageFaults": 0},
            "rootfs": {"time": "2026-06-26T10:14:44Z", "usedBytes": 4096},
        }],
        "cpu": {"time": "2026-06-26T10:14:45Z", "usageCoreNanoSeconds": 30_000_000},
        "memory": {"time": "2026-06-26T10:14:45Z", "usageBytes": 1_400_000,
                   "workingSetBytes": 1_200_000, "rssBytes": 600_000,
                   "pageFaults": 400, "majorPageFaults": 0},
        "network": {"time": "2026-06-26T10:14:45Z", "rxBytes": 1000, "rxErrors": 0,
                    "txBytes": 2000, "txErrors": 0},
    })
    why["namespace:scraper/pod:e2e-container-creating/container:alpine"] = \
        "first seen, started before the previous batch: no rates"
    why["namespace:scraper/pod:e2e-container-creating"] = \
        "first seen, started before the previous batch: no rates, and none to sum"
    # a new pod of 2 scraped containers (and a third only in its spec) that
    # started after the previous batch: rated from its start.  No pod-level
    # cpu/memory: the pod's values are its containers' sums.  "sidecar" is
    # reported twice: the instance with the newer startTime wins.
    t1["pods"].append({
        "podRef": {"name": "golden-multi-6f7d8c9b5-x2x9q", "namespace": "golden",
                   "uid": "9a4e8d52-0b7f-4b8e-a1d3-3f6c2e9b7a10"},
        "startTime": "2026-06-26T10:14:41Z",
        "containers": [
            {"name": "sidecar", "startTime": "2026-06-26T10:14:00Z",
             "cpu": {"time": "2026-06-26T10:14:48Z", "usageCoreNanoSeconds": 9_999_999_999},
             "memory": {"time": "2026-06-26T10:14:48Z", "usageBytes": 99_999_999,
                        "workingSetBytes": 99_999_999, "pageFaults": 99_999}},
            {"name": "app", "startTime": "2026-06-26T10:14:44Z",
             "cpu": {"time": "2026-06-26T10:14:48Z", "usageCoreNanoSeconds": 1_000_000_000},
             "memory": {"time": "2026-06-26T10:14:48Z", "usageBytes": 50_331_648,
                        "workingSetBytes": 41_943_040, "rssBytes": 33_554_432,
                        "pageFaults": 1_000, "majorPageFaults": 2},
             "rootfs": {"time": "2026-06-26T10:14:48Z", "usedBytes": 65_536},
             "logs": {"time": "2026-06-26T10:14:48Z", "usedBytes": 4_096}},
            {"name": "sidecar", "startTime": "2026-06-26T10:14:42Z",
             "cpu": {"time": "2026-06-26T10:14:48Z", "usageCoreNanoSeconds": 300_000_000},
             "memory": {"time": "2026-06-26T10:14:48Z", "usageBytes": 8_388_608,
                        "workingSetBytes": 6_291_456, "rssBytes": 4_194_304,
                        "pageFaults": 300, "majorPageFaults": 0}},
            {"name": "just-started", "startTime": "2026-06-26T10:14:48Z",
             "cpu": {"time": "2026-06-26T10:14:48Z", "usageCoreNanoSeconds": 2_000_000},
             "memory": {"time": "2026-06-26T10:14:48Z", "usageBytes": 1_048_576,
                        "workingSetBytes": 1_048_576, "pageFaults": 20}},
        ],
        "network": {"time": "2026-06-26T10:14:48Z", "rxBytes": 70_000, "rxErrors": 0,
                    "txBytes": 35_000, "txErrors": 7},
    })
    gm = "namespace:golden/pod:golden-multi-6f7d8c9b5-x2x9q"
    why[gm] = ("new pod, no pod-level cpu/memory: container sums; network rated from "
               "its start (sample = network time)")
    why[gm + "/container:app"] = "new, started 4 s before its sample: rated from its start"
    why[gm + "/container:just-started"] = ("new, sampled at its start time: too early for a "
                                           "rate; not in the pod spec: no requests, no image")
    why[gm + "/container:sidecar"] = ("reported twice: the newer startTime wins; new, started "
                                      "6 s before its sample: rated from its start")
    # a system container the t0 summary lacked: "runtime" -> docker-daemon,
    # first seen, started long ago: no rate
    t1["node"]["systemContainers"].append({
        "name": "runtime", "startTime": "2026-06-26T09:18:20Z",
        "cpu": {"time": "2026-06-26T10:14:41Z", "usageCoreNanoSeconds": 45_000_000_000},
        "memory": {"time": "2026-06-26T10:14:41Z", "usageBytes": 80_000_000,
                   "workingSetBytes": 70_000_000, "rssBytes": 60_000_000,
                   "pageFaults": 5_000, "majorPageFaults": 3},
    })
    why["node:datagen-1-35/container:docker-daemon"] = \
        "system container \"runtime\" renamed; first seen, started long ago: no rates"
    return why


EXTRA_PODLIST = {
    "apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
    "items": [{
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "golden-multi-6f7d8c9b5-x2x9q", "namespace": "golden",
            "uid": "9a4e8d52-0b7f-4b8e-a1d3-3f6c2e9b7a10",
            "creationTimestamp": "2026-06-26T10:14:40Z",
            "labels": {"app": "golden-multi", "pod-template-hash": "6f7d8c9b5",
                       "app.kubernetes.io/part-of": "golden"},
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "not-a-controller",
                 "uid": "11111111-2222-3333-4444-555555555555"},
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "golden-multi-6f7d8c9b5",
                 "uid": "7d1c3a9e-5b2f-4e8d-9c6a-0f1e2d3c4b5a", "controller": True,
                 "blockOwnerDeletion": True}],
        },
        "spec": {
            "nodeName": "datagen-1-35",
            "containers": [
                {"name": "app", "image": "registry.example/golden/app:1.0",
                 "resources": {
                     "requests": {"cpu": "250m", "memory": "64Mi", "ephemeral-storage": "1Gi",
                                  "nvidia.com/gpu": "1"},
                     "limits": {"cpu": "1", "memory": "128Mi", "ephemeral-storage": "2Gi",
                                "nvidia.com/gpu": "1"}}},
                {"name": "sidecar", "image": "registry.example/golden/sidecar:2.1"},
                {"name": "waiting", "image": "registry.example/golden/waiting:0.1",
                 "resources": {"requests": {"cpu": "1500u", "memory": "32M"},
                               "limits": {"memory": "0.5Gi"}}},
            ],
        },
        "status": {
            "phase": "Running", "startTime": "2026-06-26T10:14:41Z",
            "containerStatuses": [
                {"name": "app", "restartCount": 0},
                {"name": "sidecar", "restartCount": 1},
                {"name": "waiting", "restartCount": 4},
            ],
        },
    }],
}


def namespace_list(names):
    items = []
    for i, n in enumerate(names):
        items.append({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": n, "uid": "00000000-0000-4000-8000-%012d" % (i + 1)},
                      "status": {"phase": "Active"}})
    return {"apiVersion": "v1", "kind": "NamespaceList", "metadata": {"resourceVersion": ""},
            "items": items}


# ---- the kind scenario ----------------------------------------------------------

KIND_PODLIST = {
    "apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": ""},
    "items": [
        {"metadata": {"name": name, "namespace": "default", "uid": uid,
                      "labels": labels, "ownerReferences": owners},
         "spec": {"nodeName": "e2e-v1.17.0-control-plane",
                  "containers": [{"name": "container", "image": "k8s.gcr.io/pause:3.2"}]},
         "status": {"phase": "Running",
                    "containerStatuses": [{"name": "container", "restartCount": rc}]}}
        for name, uid, labels, owners, rc in [
            ("all-fields", "96636a87-47f5-4970-a15e-6e7901925c90",
             {"app": "all", "pod-template-hash": "5d8f9c7b6"},
             [{"kind": "ReplicaSet", "name": "all-fields-5d8f9c7b6", "controller": True}], 1),
            # the summary's podRef has no uid: the pod list's is the pod_id
            ("zero usageCoreNanoSeconds", "00000000-0000-4000-8000-00000000000a", {}, [], 0),
            ("no usageCoreNanoSeconds", "00000000-0000-4000-8000-00000000000b", {}, [], 0),
            ("no CPU", "00000000-0000-4000-8000-00000000000c", {}, [], 0),
            ("zero workingSetBytes", "00000000-0000-4000-8000-00000000000d", {}, [], 0),
            ("no workingSetBytes", "00000000-0000-4000-8000-00000000000e", {},
             [{"kind": "StatefulSet", "name": "sts"}], 0),
            # "no memory" is not listed: no metadata at all
        ]
    ],
}

KIND_NODELIST = {
    "apiVersion": "v1", "kind": "NodeList", "metadata": {"resourceVersion": ""},
    "items": [{
        "metadata": {"name": "e2e-v1.17.0-control-plane",
                     "labels": {"kubernetes.io/hostname": "e2e-v1.17.0-control-plane"}},
        "status": {
            "addresses": [{"type": "InternalIP", "address": "172.17.0.2"}],
            "capacity": {"cpu": "8", "memory": "16Gi", "ephemeral-storage": "500Gi"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }],
}


# ---- output ---------------------------------------------------------------------


def expected(batch, whys, absent_sets, inputs, notes):
    sets = {}
    for key in sorted(batch):
        s = batch[key]
        e = {"labels": dict(sorted(s.labels.items())),
             "metrics": dict(sorted(s.m.items()))}
        # what a set of its kind could have but must not, worth spelling out
        absent = []
        if s.type in ("pod_container", "sys_container", "node", "pod"):
            for c, r in RATES:
                if c in s.m and r not in s.m:
                    absent.append(r)
        for name in ("cpu/usage_rate", "memory/usage", "memory/working_set"):
            if name not in s.m and name not in absent and \
               s.type in ("pod_container", "sys_container", "node", "pod"):
                absent.append(name)
        if s.type == "node":
            for pre in ("cpu", "memory", "ephemeral_storage"):
                for r in ("node_utilization", "node_reservation"):
                    if pre + "/" + r not in s.m:
                        absent.append(pre + "/" + r)
        uc = sorted(getattr(s, "unchecked", set()) - set(s.m))
        absent = [a for a in absent if a not in uc]
        if absent:
            e["absent"] = sorted(absent)
        if uc:
            e["unchecked"] = uc
            for u in uc:
                e["metrics"].pop(u, None)
        why = whys.get(key) or s.why
        if why:
            e["why"] = why
        sets[key] = e
    for k in absent_sets:
        assert k not in sets
    return {
        "generated_by": "tests/golden/make_golden.py (do not edit; regenerate and review the diff)",
        "notes": notes,
        "inputs": inputs,
        "absent_sets": sorted(absent_sets),
        "sets": sets,
    }


def dump(path, obj, indent=1):
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent, sort_keys=False)
        f.write("\n")


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    fx = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HC_FIXTURES", "../shared/fixtures")
    # times of the two batches (10 s resolution) and of the two scrapes
    b0, b1 = t_ms("2026-06-26T10:14:30Z"), t_ms("2026-06-26T10:14:40Z")
    now0, now1 = t_ms("2026-06-26T10:14:45Z"), t_ms("2026-06-26T10:14:55Z")

    # ---- 1.35 ----
    s0 = load(os.path.join(fx, "summary-nri-kubernetes-k8s1.35.json"))
    pl = load(os.path.join(fx, "podlist-nri-kubernetes-k8s1.35.from-yaml.json"))
    nl = load(os.path.join(fx, "nodelist-nri-kubernetes-k8s1.35.from-yaml.json"))
    t1 = advance(s0, keep_zero=False)
    whys = edge_cases_135(s0, t1, b0)
    strip_unmapped(t1)
    nsl = namespace_list(["default", "golden", "kube-node-lease", "kube-public",
                          "kube-system", "scraper"])
    dump(os.path.join(HERE, "summary-1.35-t1.json"), t1)
    dump(os.path.join(HERE, "podlist-1.35-extra.json"), EXTRA_PODLIST)
    dump(os.path.join(HERE, "namespaces-1.35.json"), nsl)
    nodes = meta_nodes(nl)
    node = nodes["datagen-1-35"]
    namespaces = {i["metadata"]["name"]: i["metadata"]["uid"] for i in nsl["items"]}
    pods1 = meta_pods([pl, EXTRA_PODLIST])
    batch = process(s0, t1, node, meta_pods([pl]), pods1, namespaces, nodes,
                    (b0, b1), (now0, now1))
    deleted = "namespace:scraper/pod:e2e-deployment-79967c5968-zjslc"
    inputs = {
        "t0_summary": "fixtures:summary-nri-kubernetes-k8s1.35.json",
        "t1_summary": "golden:summary-1.35-t1.json",
        "nodelist": "fixtures:nodelist-nri-kubernetes-k8s1.35.from-yaml.json",
        "namespaces": "golden:namespaces-1.35.json",
        "t0_podlists": ["fixtures:podlist-nri-kubernetes-k8s1.35.from-yaml.json"],
        "t1_podlists": ["fixtures:podlist-nri-kubernetes-k8s1.35.from-yaml.json",
                        "golden:podlist-1.35-extra.json"],
        "t0_batch_ms": b0, "t1_batch_ms": b1, "t0_now_ms": now0, "t1_now_ms": now1,
    }
    notes = [
        "t1 = the fixture 10 s later; deltas per entity in make_golden.py advance()",
        "deleted pod " + deleted + ": still in the pod list (terminating), gone from the summary",
        "e2e-container-creating: Running in the pod list, absent from the t0 summary",
    ]
    dump(os.path.join(HERE, "expected-1.35.json"),
         expected(batch, whys, [deleted, deleted + "/container:compute-pi-digits"], inputs, notes))

    # ---- kind: zero and missing fields, no requests, no allocatable ----
    k0 = load(os.path.join(fx, "summary-metrics-server-kind.json"))
    k1 = advance(k0, keep_zero=True)
    strip_unmapped(k1)
    dump(os.path.join(HERE, "summary-kind-t1.json"), k1)
    dump(os.path.join(HERE, "podlist-kind.json"), KIND_PODLIST)
    dump(os.path.join(HERE, "nodelist-kind.json"), KIND_NODELIST)
    knodes = meta_nodes(KIND_NODELIST)
    kpods = meta_pods([KIND_PODLIST])
    kb0, kb1 = t_ms("2020-04-16T20:25:20Z"), t_ms("2020-04-16T20:25:30Z")
    know0, know1 = t_ms("2020-04-16T20:25:35Z"), t_ms("2020-04-16T20:25:45Z")
    kbatch = process(k0, k1, knodes["e2e-v1.17.0-control-plane"], kpods, kpods, {}, knodes,
                     (kb0, kb1), (know0, know1))
    kwhys = {
        "namespace:default/pod:zero usageCoreNanoSeconds/container:container":
            "a counter at zero both times: rate 0, present",
        "namespace:default/pod:no usageCoreNanoSeconds/container:container":
            "no cpu counter: no cpu/usage nor rate, never zero-filled",
        "namespace:default/pod:no CPU/container:container": "no cpu object: scrape time from memory",
        "namespace:default/pod:no memory": "not in the pod list: no requests, no labels",
        "namespace:default/pod:zero usageCoreNanoSeconds":
            "podRef without uid: pod_id from the pod list",
    }
    kinputs = {
        "t0_summary": "fixtures:summary-metrics-server-kind.json",
        "t1_summary": "golden:summary-kind-t1.json",
        "nodelist": "golden:nodelist-kind.json",
        "namespaces": None,
        "t0_podlists": ["golden:podlist-kind.json"],
        "t1_podlists": ["golden:podlist-kind.json"],
        "t0_batch_ms": kb0, "t1_batch_ms": kb1, "t0_now_ms": know0, "t1_now_ms": know1,
    }
    knotes = [
        "zero fields stay zero at t1; missing fields stay missing",
        "no namespace list: no namespace_id anywhere",
        "node with capacity and no allocatable: no ratios (REFERENCE); node_capacity and "
        "node_allocatable for cpu and memory unchecked (REFERENCE does not say; Heapster "
        "emitted allocatable 0)",
    ]
    dump(os.path.join(HERE, "expected-kind.json"), expected(kbatch, kwhys, [], kinputs, knotes))


if __name__ == "__main__":
    main()
