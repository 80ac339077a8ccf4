"""Sink outages: nothing the store holds may be lost, nothing else may stop.

(a) A real InfluxDB is stopped for OUTAGE_S seconds while the pipeline
    runs, then started again on the same port and data directory.  The API
    must answer throughout, no process may be restarted, and afterwards
    InfluxDB must hold every batch the store holds, each measurement in a
    row without gaps.
(b) An InfluxDB stand-in (a small HTTP server in this file) answers 500 to
    its first FAIL_REQUESTS writes, then 204, recording what it accepted.
    Every batch the store holds must arrive at least once, with the API's
    values, and without gaps.
"""
import http.server
import threading
import time
from datetime import datetime, timezone

from harness import Influx, Pipeline, Sim, check, free_port, http as http_req, wait_for

OUTAGE_S = 120          # InfluxDB is down this long (the issue: two minutes)
FAIL_REQUESTS = 4        # writes answered 500 in (b)
STEP_MS = 5000           # the pipeline's resolution
NODE = "sim-node-0"
CHILDREN = ("heapster-scraper", "heapster-processor", "heapster-exporter", "kore")


def ms(t):
    return int(datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=timezone.utc).timestamp() * 1000)


def api_points(pipe, path):
    """{ms: value} of one model API metric path."""
    return {ms(m["timestamp"]): m["value"] for m in pipe.get(path)["metrics"]}


def watched(truth):
    """(measurement, InfluxQL condition, API path) of the series compared."""
    pod = truth["nodes"][0]["pods"][0]
    return [
        ("cpu/usage", "\"type\"='node' AND \"nodename\"='%s'" % NODE,
         "/api/v1/model/nodes/%s/metrics/cpu/usage" % NODE),
        ("cpu/usage_rate", "\"type\"='node' AND \"nodename\"='%s'" % NODE,
         "/api/v1/model/nodes/%s/metrics/cpu/usage_rate" % NODE),
        ("memory/working_set", "\"type\"='pod' AND \"pod_name\"='%s'" % pod["name"],
         "/api/v1/model/namespaces/%s/pods/%s/metrics/memory/working_set"
         % (pod["namespace"], pod["name"])),
    ]


def gaps(times):
    """Steps other than one resolution between consecutive distinct times."""
    t = sorted(set(times))
    return sorted({b - a for a, b in zip(t, t[1:])} - {STEP_MS})


def test_influxdb_down_and_back(procs, tmp):
    influx = Influx(procs, tmp)
    sim = Sim(procs, nodes=3, pods=2)
    pipe = Pipeline(procs, tmp, sim.source(),
                    sinks=["influxdb:%s?db=k8s" % influx.url], resolution="5s")
    truth = sim.truth()
    series = watched(truth)

    def influx_times(meas, cond):
        rows = influx.query("SELECT value FROM \"%s\" WHERE %s" % (meas, cond))
        return {r["time"]: r["value"] for r in rows}
    wait_for(lambda: influx_times(*series[0][:2]), 40, "a first batch in InfluxDB")
    pids = {c: pipe.child_pid(c) for c in CHILDREN}
    check(all(pids.values()), "children not all running: %s" % pids)

    # the outage: the API answers every time, the store keeps filling
    argv = list(influx.proc.args)
    procs.stop(influx.proc)
    before = len(api_points(pipe, series[0][2]))
    polls = failures = 0
    deadline = time.monotonic() + OUTAGE_S
    while time.monotonic() < deadline:
        if http_req("GET", pipe.api + "/api/v1/model/nodes/", timeout=2)[0] != 200:
            failures += 1
        polls += 1
        time.sleep(0.5)       # the poll's pace, not a wait for a condition
    check(failures == 0, "the API failed %d of %d times while InfluxDB was down"
          % (failures, polls))
    during = len(api_points(pipe, series[0][2]))
    check(during >= before + OUTAGE_S // 5 - 2,
          "the store stopped filling during the outage: %d then %d batches" % (before, during))
    check("not accepted" in pipe.log(), "the exporter never reported a failed send")

    # back on the same port and data directory
    procs.start("influxd-again", argv,
                ready=lambda: http_req("GET", influx.url + "/ping")[0] == 204, timeout=60)

    # every batch the store holds arrives, each measurement without gaps
    state = {}

    def caught_up():
        state.clear()
        for meas, cond, path in series:
            api = api_points(pipe, path)
            got = influx_times(meas, cond)
            missing = sorted(t for t in api if t not in got)
            wrong = sorted(t for t in api if t in got and got[t] != api[t])
            state[meas] = (len(api), len(got), missing, wrong, gaps(got))
            if missing or wrong:
                return False
        return True
    try:
        wait_for(caught_up, 60, "InfluxDB to hold every stored batch")
    except Exception:
        check(False, "after the outage (API points, InfluxDB points, missing, wrong values, "
              "gaps): %s" % state)
    for meas, (n_api, n_got, _, _, g) in state.items():
        # a window the scraper skipped on a loaded machine was never a batch
        check(not g or "window(s) skipped" in pipe.log(),
              "%s has gaps in InfluxDB: steps %s" % (meas, g))
        check(n_got >= n_api, "%s: InfluxDB %d points, store %d" % (meas, n_got, n_api))

    # nobody was restarted, and the pipeline is still whole
    check(pipe.proc.poll() is None, "the launcher died")
    now = {c: pipe.child_pid(c) for c in CHILDREN}
    check(now == pids, "processes were restarted during the outage: %s -> %s" % (pids, now))
    check("killed by signal" not in pipe.log() and "exited with" not in pipe.log(),
          "the launcher reported a dead child")


# ---- (b) an InfluxDB that answers 500 for a while ------------------------

def split_unescaped(s, sep):
    """Splits line-protocol text at sep, skipping backslash-escaped ones."""
    out, cur, i = [], [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur.append(s[i:i + 2])
            i += 2
            continue
        if c == sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def parse_line(line):
    """(measurement, tags dict, value, ms) of one line-protocol point."""
    head, field, ts = split_unescaped(line, " ")
    meas, *tags = split_unescaped(head, ",")
    tags = dict(t.split("=", 1) for t in tags)
    key, value = field.split("=", 1)
    check(key == "value", "field %r" % field)
    value = int(value[:-1]) if value.endswith("i") else float(value)
    return meas, tags, value, int(ts)


class FlakyInflux:
    """Answers 500 to the first `fail` writes, then 204; keeps the bodies
    of the writes it accepted."""

    def __init__(self, fail):
        self.fail = fail
        self.lock = threading.Lock()
        self.writes = 0
        self.accepted = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not self.path.startswith("/write?"):
                    self.send_response(404)
                    self.end_headers()
                    return
                with outer.lock:
                    outer.writes += 1
                    failing = outer.writes <= outer.fail
                    if not failing:
                        outer.accepted.append(body.decode())
                if failing:
                    msg = b'{"error":"engine: cache maximum memory size exceeded"}'
                    self.send_response(500)
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                else:
                    self.send_response(204)
                    self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def points(self, meas, want_tags):
        """{ms: [values]} of the accepted points of one series."""
        out = {}
        with self.lock:
            bodies = list(self.accepted)
        for body in bodies:
            for line in body.splitlines():
                m, tags, value, t = parse_line(line)
                if m == meas and all(tags.get(k) == v for k, v in want_tags.items()):
                    out.setdefault(t, []).append(value)
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_sink_answering_500(procs, tmp):
    flaky = FlakyInflux(FAIL_REQUESTS)
    try:
        sim = Sim(procs, nodes=3, pods=2)
        pipe = Pipeline(procs, tmp, sim.source(),
                        sinks=["influxdb:%s?db=k8s" % flaky.url], resolution="5s")
        truth = sim.truth()
        pod = truth["nodes"][0]["pods"][0]
        series = [
            ("cpu/usage", {"type": "node", "nodename": NODE},
             "/api/v1/model/nodes/%s/metrics/cpu/usage" % NODE),
            ("memory/working_set", {"type": "pod", "pod_name": pod["name"]},
             "/api/v1/model/namespaces/%s/pods/%s/metrics/memory/working_set"
             % (pod["namespace"], pod["name"])),
        ]
        state = {}

        def all_arrived():
            state.clear()
            ok = True
            for meas, tags, path in series:
                api = api_points(pipe, path)
                got = flaky.points(meas, tags)
                missing = sorted(t for t in api if t not in got)
                wrong = sorted(t for t in api if t in got and any(v != api[t] for v in got[t]))
                state[meas] = (len(api), missing, wrong, gaps(got))
                ok = ok and not missing and not wrong and len(api) >= 4
            return ok
        try:
            wait_for(all_arrived, 75, "every stored batch to be accepted after the 500s")
        except Exception:
            check(False, "after the 500s (API points, missing, wrong values, gaps): %s" % state)
        for meas, (_, _, _, g) in state.items():
            # a window the scraper skipped on a loaded machine was never a batch
            check(not g or "window(s) skipped" in pipe.log(), "%s has gaps: steps %s" % (meas, g))
        check(flaky.writes > FAIL_REQUESTS, "only %d writes" % flaky.writes)
        check("HTTP 500" in pipe.log(), "the exporter did not log the 500s")
        check(pipe.proc.poll() is None, "the launcher died")
    finally:
        flaky.close()
