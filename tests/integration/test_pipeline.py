"""The whole pipeline against the simulator and a real InfluxDB.

Starts InfluxDB, the simulator (5 nodes x 4 pods) and the launcher at a 5 s
resolution, then checks what the API and InfluxDB hold against the values
the simulator served (its /sim/truth).
"""
import os
import subprocess

from harness import Influx, Pipeline, Sim, check, wait_for


def within(got, want, rel):
    return abs(got - want) <= rel * abs(want)


def test_end_to_end(procs, tmp):
    influx = Influx(procs, tmp)
    sim = Sim(procs, nodes=5, pods=4)
    pipe = Pipeline(procs, tmp, sim.source(),
                    sinks=["influxdb:%s?db=k8s" % influx.url], resolution="5s")
    truth = sim.truth()
    names = sorted(n["name"] for n in truth["nodes"])

    # the API lists the simulator's nodes
    wait_for(lambda: sorted(pipe.get("/api/v1/model/nodes/")) == names, 40,
             "the API to list the simulator's nodes")
    status = wait_for(lambda: __import__("harness").http("GET", pipe.api + "/healthz")[0] == 200,
                      20, "/healthz to answer 200")
    check(status, "healthz")

    # after two resolutions every node has a cpu/usage_rate equal to what
    # the simulator served (integral millicores; 1% tolerance)
    def rates():
        out = {}
        for n in truth["nodes"]:
            r = pipe.get("/api/v1/model/nodes/%s/metrics/cpu/usage_rate" % n["name"])
            if not r["metrics"]:
                return None
            out[n["name"]] = r
        return out
    got = wait_for(rates, 40, "cpu/usage_rate on every node")
    for n in truth["nodes"]:
        want = n["cpu_nanocores"] / 1e6
        for point in got[n["name"]]["metrics"]:
            check(within(point["value"], want, 0.01) or abs(point["value"] - want) <= 1,
                  "%s cpu/usage_rate %s, simulator served %s millicores"
                  % (n["name"], point["value"], want))
        check(got[n["name"]]["latestTimestamp"].endswith("Z"), "latestTimestamp is RFC 3339")

    # gauges come through exactly; the alias memory-working resolves
    n0 = truth["nodes"][0]
    ws = pipe.get("/api/v1/model/nodes/%s/metrics/memory-working" % n0["name"])
    check(ws["metrics"] and ws["metrics"][-1]["value"] == n0["memory_working_set"],
          "memory/working_set %r != %d" % (ws["metrics"][-1:], n0["memory_working_set"]))
    metrics = pipe.get("/api/v1/model/nodes/%s/metrics/" % n0["name"])
    for m in ("cpu/usage", "cpu/usage_rate", "memory/usage", "memory/working_set", "uptime"):
        check(m in metrics, "%s missing from the node's metric list %s" % (m, metrics))

    # InfluxDB got the same points, in Heapster's schema
    def influx_rate():
        rows = influx.query("SELECT value FROM \"cpu/usage_rate\" WHERE \"type\"='node' "
                            "AND \"nodename\"='%s'" % n0["name"])
        return rows or None
    rows = wait_for(influx_rate, 40, "cpu/usage_rate of a node in InfluxDB")
    want = n0["cpu_nanocores"] / 1e6
    for r in rows:
        check(abs(r["value"] - want) <= max(1, 0.01 * want),
              "InfluxDB cpu/usage_rate %s, simulator %s" % (r["value"], want))
    tags = influx.query("SHOW TAG KEYS FROM \"cpu/usage_rate\"")
    keys = {r["tagKey"] for r in tags}
    for k in ("type", "nodename", "cluster_name"):
        check(k in keys, "tag %s missing in InfluxDB (have %s)" % (k, sorted(keys)))
    for k in ("pod_id", "namespace_id", "hostname", "host_id"):
        check(k not in keys, "tag %s must not be written (Heapster's schema)" % k)
    pods = influx.query("SELECT value FROM \"memory/working_set\" WHERE \"type\"='pod' "
                        "GROUP BY \"pod_name\", \"namespace_name\"")
    served = {p["name"]: p["memory_working_set"] for nd in truth["nodes"] for p in nd["pods"]}
    seen = {}
    for r in pods:
        seen[r["pod_name"]] = r["value"]
    for name, ws_bytes in served.items():
        check(seen.get(name) == ws_bytes, "pod %s working set in InfluxDB %r, served %r"
              % (name, seen.get(name), ws_bytes))

    # the store is readable with the stock LMDB tools
    out = subprocess.run(["mdb_stat", "-a", os.path.join(pipe.run_dir, "store")],
                         capture_output=True, text=True, check=True).stdout
    for db in ("meta", "names", "short.index", "short.data", "long.index", "long.data", "cursors"):
        check("Status of %s" % db in out, "mdb_stat -a does not list %s" % db)
    dump = subprocess.run(["mdb_dump", "-p", "-s", "cursors", os.path.join(pipe.run_dir, "store")],
                          capture_output=True, text=True, check=True).stdout
    check("influxdb-0" in dump, "the exporter's cursor is not in the store:\n" + dump)

    # every process publishes its self-metrics in the store's stats database
    def stats():
        out = subprocess.run(["mdb_dump", "-p", "-s", "stats", os.path.join(pipe.run_dir, "store")],
                             capture_output=True, text=True, check=True).stdout
        return out if ("heapster_exporter_batches_total" in out and
                       "heapster_processor_batches_total" in out) else None
    out = wait_for(stats, 20, "self-metrics of the processor and the exporter in the store")
    import re
    m = re.search(r'heapster_exporter_batches_total\{exporter="influxdb-0",sink="influxdb"\} (\d+)', out)
    check(m and int(m.group(1)) >= 2, "exporter batch counter missing or too low in:\n" + out[:2000])
