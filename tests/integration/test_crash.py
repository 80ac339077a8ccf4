"""Crash isolation: kill -9 processes while data flows.

The exporter is killed repeatedly: the launcher restarts it, the API never
stops answering, and InfluxDB ends up with every batch the store holds, in a
row without gaps.  Then the other processes are killed one by one and the
pipeline recovers each time.
"""
import os
import signal
import time

from harness import Influx, Pipeline, Sim, check, http, wait_for

NODE = "sim-node-0"


def stored_times(pipe):
    r = pipe.get("/api/v1/model/nodes/%s/metrics/cpu/usage" % NODE)
    return [m["timestamp"] for m in r["metrics"]]


def influx_times(influx):
    rows = influx.query("SELECT value FROM \"cpu/usage\" WHERE \"type\"='node' "
                        "AND \"nodename\"='%s'" % NODE)
    return sorted(r["time"] for r in rows)


def test_exporter_kill9_loses_nothing(procs, tmp):
    influx = Influx(procs, tmp)
    sim = Sim(procs, nodes=40, pods=10)
    # 40 nodes x 10 pods: batches of ~60,000 points, so sends take a while
    # and kills land in the middle of them
    pipe = Pipeline(procs, tmp, sim.source(),
                    sinks=["influxdb:%s?db=k8s" % influx.url], resolution="5s",
                    extra=["--restart_backoff_max=2s"])
    wait_for(lambda: len(stored_times(pipe)) >= 2, 40, "two stored batches")

    api_failures = 0
    kills = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and kills < 10:
        pid = wait_for(lambda: pipe.child_pid("heapster-exporter"), 40,
                       "the launcher to (re)start the exporter")
        time.sleep(0.2 + 0.4 * (kills % 5))   # land the kill at different points
        os.kill(pid, signal.SIGKILL)
        kills += 1
        # the API keeps answering while the exporter is down
        for _ in range(5):
            if http("GET", pipe.api + "/api/v1/model/nodes/")[0] != 200:
                api_failures += 1
            time.sleep(0.1)
    check(kills == 10, "only %d kills happened" % kills)
    check(api_failures == 0, "the API failed %d times while the exporter was down" % api_failures)
    check(pipe.proc.poll() is None, "the launcher died")

    # every batch the processor ever stored (its log names each one) reaches
    # InfluxDB: no gap, whatever the kills hit.  (A window the scraper had
    # to skip on a loaded machine is logged as skipped and was never a
    # batch; it is not a delivery gap.)
    import re
    def caught_up():
        stored = sorted(int(t) for t in re.findall(r"processor: batch (\d+) stored", pipe.log()))
        inf = set(influx_times(influx))
        missing = [t for t in stored if t not in inf]
        return (stored, inf) if len(stored) >= 8 and not missing else None
    stored, inf = wait_for(caught_up, 90, "InfluxDB to hold every batch the processor stored")
    check(inf <= set(stored), "InfluxDB holds points of batches never stored: %s"
          % sorted(inf - set(stored)))
    skipped = pipe.log().count("window(s) skipped")
    steps = {b - a for a, b in zip(stored, stored[1:])}
    check(steps == {5000} or skipped > 0,
          "stored batches are not 5 s apart although no window was skipped: %s" % sorted(steps))
    check("exporter influxdb-0" in pipe.log() and "killed by signal 9" in pipe.log(),
          "the launcher did not report the exporter's death")


def test_every_process_restarts(procs, tmp):
    sim = Sim(procs, nodes=3, pods=2)
    pipe = Pipeline(procs, tmp, sim.source(), sinks=["log"], resolution="5s")
    wait_for(lambda: len(stored_times(pipe)) >= 1, 40, "a stored batch")
    # the batch roles yield the CPU to the scraper and the API: niced, and
    # so is the scheduler autogroup setsid() gave each of them
    for name, nice in (("heapster-processor", 10), ("heapster-exporter", 10),
                       ("heapster-scraper", 3)):
        pid = wait_for(lambda: pipe.child_pid(name), 20, name)
        check(os.getpriority(os.PRIO_PROCESS, pid) == nice, "%s: nice %d, want %d"
              % (name, os.getpriority(os.PRIO_PROCESS, pid), nice))
        if os.path.exists("/proc/%d/autogroup" % pid):
            with open("/proc/%d/autogroup" % pid) as f:
                group = f.read()
            check(group.rstrip().endswith("nice %d" % nice),
                  "%s: autogroup %r, want nice %d" % (name, group, nice))
    for name in ("heapster-scraper", "heapster-processor", "heapster-exporter"):
        pid = wait_for(lambda: pipe.child_pid(name), 20, name)
        os.kill(pid, signal.SIGKILL)
        check(http("GET", pipe.api + "/api/v1/model/nodes/")[0] == 200,
              "the API stopped answering after %s was killed" % name)
        wait_for(lambda: pipe.child_pid(name) not in (None, pid), 20, "%s restarted" % name)
    # the pipeline still makes progress after all that
    n = len(stored_times(pipe))
    wait_for(lambda: len(stored_times(pipe)) > n, 30, "new batches after the restarts")
