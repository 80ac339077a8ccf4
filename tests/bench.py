"""make bench: the whole pipeline against a large simulated cluster.

Starts the simulator at BENCH_NODES x BENCH_PODS (default 1,000 x 30) and
the launcher at BENCH_RESOLUTION (default 15s), lets BENCH_ROUNDS
resolutions (default 4) pass after the first stored batch, and prints per
process: CPU seconds per resolution, CPU per node, peak resident memory; the
scraper's wall time and JSON parse rate per resolution; the processor's time
per batch; and the API: its maximum throughput with wrk (32 connections, a
closed loop: the p99 there is the queueing delay of a saturated machine),
and latency at a fixed rate with build/hc-load (tests/load/hc-load.c, an
open loop that counts each request's latency from its scheduled send time,
so a stall is not hidden): one node's series and one pod from
metrics.k8s.io at BENCH_API_RATE (default 10,000) req/s, and the full node
lists of the model API and metrics.k8s.io at 20 req/s, each for
BENCH_API_SECONDS (default 10) after a 1 s warm-up, while the pipeline keeps
writing batches.  The targets are a single-pod GET at 10,000 req/s with p99
under 5 ms and a full node list under 50 ms.  BENCH_SINK=influxdb adds a
real InfluxDB and reports the exporter's format rate and send time.
Nothing here is a pass/fail test: the numbers go to BENCHMARKS.md with the
machine named.
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
import harness  # noqa: E402
from harness import Pipeline, Procs, Sim, wait_for  # noqa: E402

NODES = int(os.environ.get("BENCH_NODES", "1000"))
PODS = int(os.environ.get("BENCH_PODS", "30"))
RES = os.environ.get("BENCH_RESOLUTION", "15s")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
# BENCH_SINK=influxdb adds a real InfluxDB on loopback and an exporter to it
SINK = os.environ.get("BENCH_SINK", "")
API_RATE = float(os.environ.get("BENCH_API_RATE", "10000"))
API_SECONDS = float(os.environ.get("BENCH_API_SECONDS", "10"))
LIST_RATE = 20.0
CLK = os.sysconf("SC_CLK_TCK")
HC_LOAD_KEYS = ("rate", "sent", "ok", "non2xx", "errors", "timeouts", "achieved",
                "p50", "p90", "p99", "p99.9", "max", "lag99", "lagmax")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / CLK


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def children(ppid):
    """{role: [pids]} of the launcher's children (kore: its workers too)."""
    out = {}
    for line in subprocess.run(["ps", "-e", "-o", "pid=,ppid=,args="],
                               capture_output=True, text=True).stdout.splitlines():
        pid, pp, args = line.strip().split(None, 2)
        pid, pp = int(pid), int(pp)
        for role in ("heapster-scraper", "heapster-processor", "heapster-exporter"):
            if pp == ppid and role in args:
                out.setdefault(role, []).append(pid)
        if "kore" in args and (pp == ppid or pp in out.get("kore", [])):
            out.setdefault("kore", []).append(pid)
    return out


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return "%s, %d cores, %.0f GiB, %s" % (cpu, os.cpu_count(), mem,
                                          os.uname().release)


def wrk(url, seconds=5):
    if shutil.which("wrk") is None:
        return None
    out = subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % seconds, "--latency", url],
                         capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    if not rps:
        return None
    lat = None
    if p99:
        lat = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    return float(rps.group(1)), lat


def hc_load(url, rate, seconds, connections=32, warmup=1):
    """{key: float} of one build/hc-load run (its one output line), or a
    string saying why there is none."""
    exe = os.path.join(harness.BIN, "hc-load")
    if not os.access(exe, os.X_OK):
        return "%s missing (make %s)" % (exe, os.path.relpath(exe, harness.ROOT))
    r = subprocess.run([exe, url, "--rate=%g" % rate, "--duration=%g" % seconds,
                        "--connections=%d" % connections, "--warmup=%g" % warmup],
                       capture_output=True, text=True, timeout=seconds + warmup + 60)
    if r.returncode != 0:
        return (r.stderr.strip() or "exit %d" % r.returncode)
    tok = r.stdout.split()
    out = {k: float(tok[i + 1]) for i, k in enumerate(tok[:-1]) if k in HC_LOAD_KEYS}
    if "p99" not in out:
        return "unexpected output %r" % r.stdout[:200]
    return out


def fixed_rate_line(name, r, target_ms):
    """One line of a fixed-rate result against its p99 target."""
    if isinstance(r, str):
        return "api %-24s fixed rate: %s" % (name, r)
    bad = r["errors"] + r["non2xx"] + r["timeouts"]
    return ("api %-24s %6.0f req/s for %g s: achieved %8.1f req/s, p50 %.2f p99 %.2f "
            "p99.9 %.2f max %.2f ms%s (generator lag p99 %.2f ms); target p99 < %g ms: %s"
            % (name, r["rate"], API_SECONDS, r["achieved"], r["p50"], r["p99"], r["p99.9"],
               r["max"],
               ", %d errors %d non-2xx %d timeouts" % (r["errors"], r["non2xx"], r["timeouts"])
               if bad else "",
               r["lag99"], target_ms,
               "met" if r["p99"] < target_ms and not bad else "NOT met"))


def main():
    tmp = harness.make_tmp("bench")
    procs = Procs(tmp)
    try:
        print("machine: %s" % machine())
        print("cluster: %d nodes x %d pods, resolution %s, %d resolutions measured"
              % (NODES, PODS, RES, ROUNDS), flush=True)
        sim = Sim(procs, NODES, PODS)
        sinks = []
        if SINK == "influxdb":
            influx = harness.Influx(procs, tmp)
            sinks = ["influxdb:%s?db=k8s" % influx.url]
        pipe = Pipeline(procs, tmp, sim.source(), resolution=RES, sinks=sinks,
                        extra=["--store_size=8G"])
        log = lambda: Procs.log(pipe.proc)  # noqa: E731
        wait_for(lambda: log().count("stored:") >= 1, 300, "the first stored batch")
        kids = children(pipe.proc.pid)
        start = {r: sum(cpu_seconds(p) for p in pids) for r, pids in kids.items()}
        sim_start = cpu_seconds(sim.proc.pid)
        n0 = log().count("stored:")
        t0 = time.monotonic()
        wait_for(lambda: log().count("stored:") >= n0 + ROUNDS, 600, "%d more batches" % ROUNDS)
        elapsed = time.monotonic() - t0
        kids = children(pipe.proc.pid)
        print("\nper process, over %d resolutions (%.0f s):" % (ROUNDS, elapsed))
        print("%-20s %12s %14s %12s" % ("process", "CPU s/res", "mCPU per node", "peak RSS MB"))
        res_s = float(re.match(r"([\d.]+)", RES).group(1)) * (60 if RES.endswith("m") else 1)
        for role in ("heapster-scraper", "heapster-processor", "heapster-exporter", "kore"):
            if role not in kids:
                continue
            cpu = sum(cpu_seconds(p) for p in kids[role]) - start.get(role, 0)
            rss = sum(peak_rss_mb(p) for p in kids[role])
            print("%-20s %12.3f %14.3f %12.1f" % (role, cpu / ROUNDS,
                                                  1000 * cpu / ROUNDS / res_s / NODES, rss))
        sim_cpu = cpu_seconds(sim.proc.pid) - sim_start
        print("%-20s %12.3f %14s %12.1f" % ("(simulator)", sim_cpu / ROUNDS, "-",
                                            peak_rss_mb(sim.proc.pid)))
        text = log()
        scrapes = re.findall(r"nodes ok (\d+) failed (\d+).*?scrape (\d+) ms.*?([\d.]+) MB parsed in (\d+) ms CPU", text)
        if scrapes:
            last = scrapes[-ROUNDS:]
            walls = [int(s[2]) for s in last]
            mb = sum(float(s[3]) for s in last)
            cpu_ms = sum(int(s[4]) for s in last)
            print("\nscraper: nodes ok/failed per resolution %s; scrape wall ms %s (max %d); "
                  "parsed %.0f MB per CPU second"
                  % ([(int(s[0]), int(s[1])) for s in last], walls, max(walls),
                     mb / (cpu_ms / 1000) if cpu_ms else float("nan")))
        stored = re.findall(r"stored: .*?, (\d+) sets, (\d+) values .*?, (\d+) ms", text)
        if stored:
            last = stored[-ROUNDS:]
            print("processor: sets %s values %s, ms per batch (processors + store write) %s"
                  % (last[-1][0], last[-1][1], [int(s[2]) for s in last]))
        cpu = re.findall(r"CPU ms: processors (\d+) \(rates (\d+), enrich (\d+), aggregate (\d+)\), "
                         r"store (\d+)", text)
        if cpu:
            last = cpu[-ROUNDS:]
            print("processor CPU ms per batch: processors %s (rates, enrich, aggregate %s), store write %s"
                  % ([int(c[0]) for c in last], [tuple(int(x) for x in c[1:4]) for c in last],
                     [int(c[4]) for c in last]))
        sent = re.findall(r"delivered batch .*?: (\d+) points, (\d+) bytes, format (\d+) ms, "
                          r"send (\d+) ms, lag (\d+) ms.*?format CPU (\d+) us", text)
        if sent:
            last = sent[-ROUNDS:]
            pts = sum(int(x[0]) for x in last)
            fmt = sum(int(x[5]) for x in last) / 1000.0   # CPU ms formatting
            snd = sum(int(x[3]) for x in last)
            print("exporter: %d points per batch; formatted at %.1f M points per CPU second; sent in %s ms per batch (%.2f M points/s, the receiver's "
                  "pace); lag at delivery %s ms"
                  % (pts // len(last), pts / (fmt / 1000) / 1e6 if fmt else float("nan"),
                     [int(x[3]) for x in last], pts / (snd / 1000) / 1e6 if snd else float("nan"),
                     [int(x[4]) for x in last]))
        node = "sim-node-0"
        for name, path in (("node metric", "/api/v1/model/nodes/%s/metrics/cpu/usage_rate" % node),
                           ("node list", "/api/v1/model/nodes/"),
                           ("pod metrics.k8s.io",
                            "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/pod-0-0")):
            status = harness.http("GET", pipe.api + path)[0]
            if status != 200:
                print("api %-20s %s: HTTP %d, skipped" % (name, path, status))
                continue
            r = wrk(pipe.api + path)
            if r:
                print("api %-20s max throughput (wrk -c32) %9.0f req/s, p99 %s ms"
                      % (name, r[0], "%.2f" % r[1] if r[1] else "?"), flush=True)
        t = time.monotonic()
        harness.http("GET", pipe.api + "/api/v1/model/nodes/", timeout=30)
        print("api full node list: %.1f ms" % ((time.monotonic() - t) * 1000), flush=True)
        print("api at a fixed rate (hc-load, 32 connections, after a 1 s warm-up):")
        for name, path, rate, target in (
                ("node metric", "/api/v1/model/nodes/%s/metrics/cpu/usage_rate" % node,
                 API_RATE, 5),
                ("pod metrics.k8s.io",
                 "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/pod-0-0", API_RATE, 5),
                ("node list", "/api/v1/model/nodes/", LIST_RATE, 50),
                ("node list metrics.k8s.io", "/apis/metrics.k8s.io/v1beta1/nodes", LIST_RATE, 50)):
            print(fixed_rate_line(name, hc_load(pipe.api + path, rate, API_SECONDS), target),
                  flush=True)
    finally:
        procs.stop_all()
        harness.remove_tmp(tmp)


if __name__ == "__main__":
    main()
