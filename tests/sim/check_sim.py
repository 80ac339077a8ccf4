#!/usr/bin/env python3
"""Self-check of a running heapster-sim (stdlib only).

usage: check_sim.py [API_URL] [KUBELET_PORT] [NODE_INDEX]
       defaults: http://127.0.0.1:18080 10255 4

Checks, for one node: the summary parses; counters advance by exactly
rate * elapsed seconds between two fetches; pod values are the sums of their
containers and node values the sums of pods plus system containers; the
summary agrees with /sim/truth and with /metrics/resource; the node list,
paging and the pod list agree with the summary.  Exits non-zero on failure.
"""
import json
import sys
import time
import urllib.request
from datetime import datetime, timezone

API = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18080"
KPORT = int(sys.argv[2]) if len(sys.argv) > 2 else 10255
NODE = int(sys.argv[3]) if len(sys.argv) > 3 else 4
IP = "127.0.%d.%d" % (1 + NODE // 250, 1 + NODE % 250)
NAME = "sim-node-%d" % NODE
failures = 0


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def ts(s):
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def summary():
    return json.loads(get("http://%s:%d/stats/summary/" % (IP, KPORT)))


s1 = summary()
time.sleep(1.2)
s2 = summary()
n1, n2 = s1["node"], s2["node"]
dt = ts(n2["cpu"]["time"]) - ts(n1["cpu"]["time"])
check(dt >= 1, "time advanced (%d s)" % dt)
check(n1["nodeName"] == NAME, "nodeName")

# counters advance by exactly rate * dt
for p1, p2 in zip(s1["pods"], s2["pods"]):
    for c1, c2 in zip(p1["containers"], p2["containers"]):
        d = c2["cpu"]["usageCoreNanoSeconds"] - c1["cpu"]["usageCoreNanoSeconds"]
        check(d == c1["cpu"]["usageNanoCores"] * dt, "container cpu delta %s/%s" % (p1["podRef"]["name"], c1["name"]))
    for k in ("rxBytes", "txBytes", "rxErrors", "txErrors"):
        check(p2["network"][k] >= p1["network"][k], "pod network %s monotonic" % k)
d = n2["cpu"]["usageCoreNanoSeconds"] - n1["cpu"]["usageCoreNanoSeconds"]
check(d == n1["cpu"]["usageNanoCores"] * dt, "node cpu delta")

# sums
s = s2
node = s["node"]
sysc = {c["name"]: c for c in node["systemContainers"]}
pods_cpu = sum(p["cpu"]["usageNanoCores"] for p in s["pods"])
pods_ns = sum(p["cpu"]["usageCoreNanoSeconds"] for p in s["pods"])
pods_ws = sum(p["memory"]["workingSetBytes"] for p in s["pods"])
for p in s["pods"]:
    check(p["cpu"]["usageNanoCores"] == sum(c["cpu"]["usageNanoCores"] for c in p["containers"]), "pod cpu sum")
    check(p["cpu"]["usageCoreNanoSeconds"] == sum(c["cpu"]["usageCoreNanoSeconds"] for c in p["containers"]),
          "pod cpu counter sum")
    check(p["memory"]["workingSetBytes"] == sum(c["memory"]["workingSetBytes"] for c in p["containers"]), "pod ws sum")
    for c in p["containers"]:
        check(c["memory"]["usageBytes"] >= c["memory"]["workingSetBytes"], "usage >= workingSet")
check(sysc["pods"]["cpu"]["usageNanoCores"] == pods_cpu, "pods syscontainer cpu")
check(node["cpu"]["usageNanoCores"] == pods_cpu + sysc["kubelet"]["cpu"]["usageNanoCores"]
      + sysc["runtime"]["cpu"]["usageNanoCores"], "node cpu = pods + system containers")
check(node["cpu"]["usageCoreNanoSeconds"] == pods_ns + sysc["kubelet"]["cpu"]["usageCoreNanoSeconds"]
      + sysc["runtime"]["cpu"]["usageCoreNanoSeconds"], "node cpu counter sum")
check(node["memory"]["workingSetBytes"] == pods_ws + sysc["kubelet"]["memory"]["workingSetBytes"]
      + sysc["runtime"]["memory"]["workingSetBytes"], "node ws sum")
check(node["network"]["rxBytes"] == sum(p["network"]["rxBytes"] for p in s["pods"]), "node rx sum")

# truth: rates equal; counters follow the formula from the truth's time
tr = json.loads(get(API + "/sim/truth?node=" + NAME))
tn = tr["nodes"][0]
tdt = ts(node["cpu"]["time"]) - tn["unix_time"]
check(tn["cpu_nanocores"] == node["cpu"]["usageNanoCores"], "truth node cpu rate")
check(tn["cpu_usage_core_nanoseconds"] + tn["cpu_nanocores"] * tdt == node["cpu"]["usageCoreNanoSeconds"],
      "truth node cpu counter")
check(tn["memory_working_set"] == node["memory"]["workingSetBytes"], "truth node ws")
check(tn["memory_usage"] == node["memory"]["usageBytes"], "truth node usage")
check(tn["network_rx_bytes"] + tn["network_rx_per_s"] * tdt == node["network"]["rxBytes"], "truth node rx")
for tp, p in zip(tn["pods"], s["pods"]):
    check(tp["name"] == p["podRef"]["name"] and tp["uid"] == p["podRef"]["uid"]
          and tp["namespace"] == p["podRef"]["namespace"], "truth pod identity")
    check(tp["cpu_nanocores"] == p["cpu"]["usageNanoCores"], "truth pod cpu")
    check(tp["memory_working_set"] == p["memory"]["workingSetBytes"], "truth pod ws")
    for tc, c in zip(tp["containers"], p["containers"]):
        check(tc["cpu_nanocores"] == c["cpu"]["usageNanoCores"], "truth ctr cpu")
        check(tc["memory_usage"] == c["memory"]["usageBytes"], "truth ctr usage")
        check(tc["start_time"] == c["startTime"], "truth ctr start")

# /metrics/resource agrees (values at its own timestamp)
text = get("http://%s:%d/metrics/resource" % (IP, KPORT)).decode()
prom = {}
for line in text.splitlines():
    if line and not line.startswith("#"):
        parts = line.split(" ")  # our label values contain no spaces
        prom[parts[0]] = (float(parts[1]), int(parts[2]) if len(parts) > 2 else None)
v, tms = prom["node_cpu_usage_seconds_total"]
mdt = tms // 1000 - tn["unix_time"]
check(abs(v - (tn["cpu_usage_core_nanoseconds"] + tn["cpu_nanocores"] * mdt) / 1e9) < 1e-6, "metrics node cpu")
check(prom["node_memory_working_set_bytes"][0] == tn["memory_working_set"], "metrics node ws")
tp = tn["pods"][0]
tc = tp["containers"][0]
key = 'container_memory_working_set_bytes{container="%s",namespace="%s",pod="%s"}' % (tc["name"], tp["namespace"], tp["name"])
check(prom[key][0] == tc["memory_working_set"], "metrics container ws")
check(prom.get("resource_scrape_error", (1,))[0] == 0, "resource_scrape_error 0")

# node list, paging and pods
nl = json.loads(get(API + "/api/v1/nodes"))
check(nl["kind"] == "NodeList", "NodeList kind")
it = [x for x in nl["items"] if x["metadata"]["name"] == NAME][0]
check({"type": "InternalIP", "address": IP} in it["status"]["addresses"], "node InternalIP")
check(it["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] == KPORT, "kubelet port")
names, cont = [], ""
while True:
    page = json.loads(get(API + "/api/v1/nodes?limit=7" + ("&continue=" + cont if cont else "")))
    names += [x["metadata"]["name"] for x in page["items"]]
    cont = page["metadata"].get("continue", "")
    if not cont:
        break
check(names == [x["metadata"]["name"] for x in nl["items"]], "paged node list == full list")
pl = json.loads(get(API + "/api/v1/pods?fieldSelector=spec.nodeName%3D" + NAME))
check([x["metadata"]["uid"] for x in pl["items"]] == [p["podRef"]["uid"] for p in s["pods"]],
      "pods by fieldSelector match the summary")

print("check_sim: %s (%d pods, dt=%ds)" % ("OK" if failures == 0 else "%d FAILURES" % failures, len(s["pods"]), dt))
sys.exit(1 if failures else 0)
