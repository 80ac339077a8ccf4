"""Every sink against a real receiver on loopback.

Each test starts the simulator (3 nodes x 2 pods), the pipeline at a 5 s
resolution with one kind of sink, and the receiver: VictoriaMetrics for
graphite (its Graphite listener, TCP and UDP), opentsdb (its OpenTSDB HTTP
listener) and prometheus (its remote-write endpoint), a UDP listener in this
file for statsd, and librdkafka's mock cluster (hosted by kcat, read back
with kcat) for kafka.  It then reads back what the receiver holds and compares
it, timestamp by timestamp, with what the API serves from the store: every
node's cpu/usage_rate and every pod's memory/working_set.  Values must be
equal, not close: the sinks copy numbers, they do not compute them.
"""
import json
import os
import re
import socket
import subprocess
import threading
import urllib.parse
from datetime import datetime, timezone

from harness import Pipeline, Sim, check, free_port, http, wait_for

NODES, PODS = 3, 2
MIN_POINTS = 3          # rate timestamps per node before the comparison


class VictoriaMetrics:
    """A single-node VictoriaMetrics on loopback: HTTP (queries, remote
    write), Graphite (TCP and UDP) and OpenTSDB HTTP listeners."""

    def __init__(self, procs, tmp):
        self.port, self.graphite, self.opentsdb = free_port(), free_port(), free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = procs.start("victoria-metrics", [
            "victoria-metrics", "-storageDataPath", os.path.join(tmp, "vm"),
            "-httpListenAddr", "127.0.0.1:%d" % self.port,
            "-graphiteListenAddr", "127.0.0.1:%d" % self.graphite,
            "-opentsdbHTTPListenAddr", "127.0.0.1:%d" % self.opentsdb,
            "-search.latencyOffset", "0s", "-loggerLevel", "WARN"],
            ready=lambda: http("GET", self.url + "/health")[0] == 200, timeout=30)

    def export(self, name_regex):
        """[(labels dict with __name__, [(ms, value)])] of matching series."""
        http("GET", self.url + "/internal/force_flush")
        body = urllib.parse.urlencode({"match[]": '{__name__=~"%s"}' % name_regex}).encode()
        status, out = http("POST", self.url + "/api/v1/export", body,
                           {"Content-Type": "application/x-www-form-urlencoded"})
        check(status == 200, "VictoriaMetrics export: %d %s" % (status, out[:200]))
        series = []
        for line in out.decode().splitlines():
            s = json.loads(line)
            series.append((s["metric"], list(zip(s["timestamps"], s["values"]))))
        return series


def ms(t):
    return int(datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=timezone.utc).timestamp() * 1000)


def api_series(pipe, truth):
    """{("node", N): {ms: v}} of cpu/usage_rate and {("pod", NS, P): {ms: v}}
    of memory/working_set, as the API serves them from the store."""
    out = {}
    for n in truth["nodes"]:
        r = pipe.get("/api/v1/model/nodes/%s/metrics/cpu/usage_rate" % n["name"])
        out[("node", n["name"])] = {ms(m["timestamp"]): m["value"] for m in r["metrics"]}
        for p in n["pods"]:
            r = pipe.get("/api/v1/model/namespaces/%s/pods/%s/metrics/memory/working_set"
                         % (p["namespace"], p["name"]))
            out[("pod", p["namespace"], p["name"])] = {
                ms(m["timestamp"]): m["value"] for m in r["metrics"]}
    return out


def pod_node(truth):
    return {(p["namespace"], p["name"]): n["name"] for n in truth["nodes"] for p in n["pods"]}


def start(procs, tmp, sinks):
    sim = Sim(procs, nodes=NODES, pods=PODS)
    pipe = Pipeline(procs, tmp, sim.source(), sinks=sinks, resolution="5s")
    truth = sim.truth()

    def enough():
        api = api_series(pipe, truth)
        return api if all(len(v) >= MIN_POINTS for k, v in api.items() if k[0] == "node") \
            and all(v for v in api.values()) else None
    api = wait_for(enough, 60, "%d cpu/usage_rate points per node in the API" % MIN_POINTS)
    return sim, pipe, truth, api


def differences(api, got):
    """What differs between the API's series and the sink's: a key or a
    timestamp missing, or another value; and a timestamp stored twice
    with two values."""
    problems = []
    for key, points in sorted(api.items()):
        have = {}
        for t, v in got.get(key, []):
            if t in have and have[t] != v:
                problems.append("%s at %d: two values %s and %s" % (key, t, have[t], v))
            have[t] = v
        for t, v in sorted(points.items()):
            if t not in have:
                problems.append("%s at %d: missing (API %s)" % (key, t, v))
            elif have[t] != v:
                problems.append("%s at %d: %s, API %s" % (key, t, have[t], v))
    return problems


def compare(what, api, read):
    """Waits until read() holds every API point, then checks it once more
    and fails with the differences."""
    last = []

    def same():
        last[:] = differences(api, read())
        return not last
    try:
        wait_for(same, 30, "%s to hold every point the API serves" % what)
    except Exception:
        check(False, "%s differs from the API:\n  %s" % (what, "\n  ".join(last[:20])))


def test_graphite_tcp_and_udp(procs, tmp):
    vm = VictoriaMetrics(procs, tmp)
    sim, pipe, truth, api = start(procs, tmp, [
        "graphite:tcp://127.0.0.1:%d" % vm.graphite,
        "graphite:udp://127.0.0.1:%d?prefix=k8s_udp" % vm.graphite])
    where = pod_node(truth)

    def read(prefix):
        got = {}
        for labels, points in vm.export(r"%s\\..*(cpu\\.usage_rate|memory\\.working_set)" % prefix):
            m = re.fullmatch(re.escape(prefix) + r"\.nodes\.([^.]+)\.(.*)", labels["__name__"])
            if m is None:
                continue
            node, rest = m.groups()
            if rest == "cpu.usage_rate":
                got[("node", node)] = points
                continue
            m = re.fullmatch(r"pods\.([^.]+)\.([^.]+)\.memory\.working_set", rest)
            if m:
                check(where.get(m.groups()) == node,
                      "pod %s/%s under node %s in the path" % (m.group(1), m.group(2), node))
                got[("pod",) + m.groups()] = points
        return got
    compare("graphite over TCP", api, lambda: read("kubernetes"))
    compare("graphite over UDP", api, lambda: read("k8s_udp"))
    # Heapster's other paths are there too
    names = {l["__name__"] for l, _ in vm.export(r"kubernetes\\..*")}
    for want in ("kubernetes.cluster.cpu.usage_rate", "kubernetes.namespaces.default.cpu.usage_rate",
                 "kubernetes.nodes.sim-node-0.sys-containers.kubelet.memory.working_set",
                 "kubernetes.nodes.sim-node-0.filesystem._.usage"):
        check(want in names, "%s missing in Graphite (have %d paths, e.g. %s)"
              % (want, len(names), sorted(names)[:5]))


def test_opentsdb(procs, tmp):
    vm = VictoriaMetrics(procs, tmp)
    sim, pipe, truth, api = start(procs, tmp, [
        "opentsdb:http://127.0.0.1:%d?cluster=test-cluster" % vm.opentsdb])

    def read():
        got = {}
        for labels, points in vm.export("cpu_usage_rate_gauge|memory_working_set_gauge"):
            check(labels.get("cluster") == "test-cluster", "cluster tag %r" % labels)
            if labels["__name__"] == "cpu_usage_rate_gauge" and labels.get("type") == "node":
                got[("node", labels["nodename"])] = points
            elif labels["__name__"] == "memory_working_set_gauge" and labels.get("type") == "pod":
                got[("pod", labels["namespace_name"], labels["pod_name"])] = points
        return got
    compare("OpenTSDB", api, read)
    # kind suffixes and labeled metrics (which Heapster left out)
    names = {l["__name__"] for l, _ in vm.export(".*_(cumulative|gauge)")}
    for want in ("cpu_usage_cumulative", "uptime_cumulative", "filesystem_usage_gauge"):
        check(want in names, "%s missing in OpenTSDB (have %s)" % (want, sorted(names)))
    fs = [l for l, _ in vm.export("filesystem_usage_gauge")]
    check(any(l.get("resource_id") == "/" and l.get("type") == "node" for l in fs),
          "no node filesystem/usage with resource_id=/ in %s" % fs[:3])


def test_prometheus_remote_write(procs, tmp):
    vm = VictoriaMetrics(procs, tmp)
    sim, pipe, truth, api = start(procs, tmp, [
        "prometheus:%s/api/v1/write?max_samples_per_send=100" % vm.url])

    def read():
        got = {}
        for labels, points in vm.export("heapster_cpu_usage_rate|heapster_memory_working_set"):
            if labels["__name__"] == "heapster_cpu_usage_rate" and labels.get("type") == "node":
                got[("node", labels["nodename"])] = points
            elif labels["__name__"] == "heapster_memory_working_set" and labels.get("type") == "pod":
                got[("pod", labels["namespace_name"], labels["pod_name"])] = points
        return got
    compare("Prometheus remote write", api, read)
    # a query through PromQL sees the node sum the API serves for its newest point
    node = truth["nodes"][0]["name"]
    newest = max(api[("node", node)])
    qs = urllib.parse.urlencode({"query": 'heapster_cpu_usage_rate{type="node",nodename="%s"}' % node,
                                 "time": "%.3f" % (newest / 1000.0)})
    res = json.loads(http("GET", vm.url + "/api/v1/query?" + qs)[1])["data"]["result"]
    check(len(res) == 1 and float(res[0]["value"][1]) == api[("node", node)][newest],
          "PromQL answer %s, API %s" % (res, api[("node", node)][newest]))


class UdpListener:
    """Collects datagrams on a loopback UDP port in a thread."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:   # a deep buffer: a batch arrives as a burst of datagrams
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)   # SO_RCVBUFFORCE
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.datagrams = []
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            with self.lock:
                self.datagrams.append(d)

    def lines(self):
        with self.lock:
            return [l for d in self.datagrams for l in d.decode().split("\n") if l]

    def close(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


def delivered(pipe, kind):
    """{batch ms: how many exporters of this kind logged it delivered}."""
    out = {}
    for m in re.finditer(r"delivered batch \S+ \((\d+)\) to %s:" % kind, pipe.log()):
        t = int(m.group(1))
        out[t] = out.get(t, 0) + 1
    return out


def parse_etsy(lines, where):
    got = {}
    for l in lines:
        name, _, rest = l.partition(":")
        value, _, kind = rest.partition("|")
        check(kind == "g", "not a gauge: %r" % l)
        # a node's path, its labels (key.value pairs), then the metric
        m = re.fullmatch(r"k8s\.node\.([^.]+)\.(?!namespace\.|sys-container\.)"
                         r"(?:[^.]+\.[^.]+\.)*cpu/usage_rate", name)
        if m:
            got.setdefault(("node", m.group(1)), []).append(float(value))
            continue
        # a pod's path, its user labels (key.value pairs), then the metric;
        # a container's path continues with "container."
        m = re.fullmatch(r"k8s\.node\.([^.]+)\.namespace\.([^.]+)\.pod\.([^.]+)\.(?!container\.)"
                         r"(?:[^.]+\.[^.]+\.)*memory/working_set", name)
        if m:
            check(where.get((m.group(2), m.group(3))) == m.group(1), "pod under the wrong node: %r" % l)
            got.setdefault(("pod", m.group(2), m.group(3)), []).append(float(value))
    return got


def parse_influx(lines):
    got = {}
    for l in lines:
        name, _, rest = l.rpartition(":")
        value, _, kind = rest.partition("|")
        check(kind == "g", "not a gauge: %r" % l)
        metric, *tags = name.split(",")
        tags = dict(t.split("=", 1) for t in tags)
        if metric == "k8s.cpu/usage_rate" and tags.get("type") == "node":
            got.setdefault(("node", tags["nodename"]), []).append(float(value))
        elif metric == "k8s.memory/working_set" and tags.get("type") == "pod":
            got.setdefault(("pod", tags["namespace_name"], tags["pod_name"]), []).append(float(value))
    return got


def test_statsd_both_formats(procs, tmp):
    etsy, influx = UdpListener(), UdpListener()
    try:
        sim, pipe, truth, api = start(procs, tmp, [
            "statsd:udp://127.0.0.1:%d?prefix=k8s" % etsy.port,
            "statsd:udp://127.0.0.1:%d?prefix=k8s.&protocolType=influxstatsd&numMetricsPerMsg=10"
            % influx.port])
        where = pod_node(truth)
        # StatsD has no timestamps: each series must have received exactly
        # the API's values of the batches delivered so far, in batch order.
        # A batch logged by one of the two exporters only may or may not
        # have arrived at the other yet.
        last = []

        def consistent():
            api_now = api_series(pipe, truth)
            done = delivered(pipe, "statsd")
            full = sorted(t for t, c in done.items() if c >= 2)
            some = sorted(done)
            last[:] = []
            for name, got in (("etsystatsd", parse_etsy(etsy.lines(), where)),
                              ("influxstatsd", parse_influx(influx.lines()))):
                for key, points in api_now.items():
                    a = [points[t] for t in full if t in points]
                    b = [points[t] for t in some if t in points]
                    if got.get(key, []) not in (a, b):
                        last.append("%s %s: received %s, API %s" % (name, key, got.get(key), b))
            return not last and len(full) >= MIN_POINTS
        try:
            wait_for(consistent, 30, "StatsD values to match the delivered batches")
        except Exception:
            check(False, "StatsD differs from the API:\n  %s" % "\n  ".join(last[:20]))
    finally:
        etsy.close()
        influx.close()


def kafka_ms(t):
    """Milliseconds of Go's RFC3339Nano ("2026-11-25T01:13:25Z", "...:25.5Z")."""
    whole, _, frac = t.rstrip("Z").partition(".")
    return ms(whole + "Z") + (int((frac + "000")[:3]) if frac else 0)


def test_kafka(procs, tmp):
    # kcat hosts librdkafka's mock cluster (it prints its address in the
    # mock debug log) while it consumes an unrelated topic
    p = procs.start("kcat-mock-cluster", [
        "kcat", "-C", "-b", "127.0.0.1:1", "-t", "keepalive", "-X", "test.mock.num.brokers=1",
        "-d", "mock", "-E"])
    bootstrap = wait_for(lambda: re.search(r"bootstrap\.servers=(127\.0\.0\.1:\d+)", procs.log(p)),
                         20, "the mock cluster's address").group(1)
    sim, pipe, truth, api = start(procs, tmp, [
        "kafka:?brokers=%s&timeseriestopic=heapster-metrics&compression=lz4" % bootstrap])

    def read():
        out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", "heapster-metrics",
                              "-o", "beginning", "-e", "-q", "-f", "%s\\n"],
                             capture_output=True, text=True, timeout=30).stdout
        got = {}
        for line in out.splitlines():
            m = json.loads(line)
            tags, t = m["MetricsTags"], kafka_ms(m["MetricsTimestamp"])
            v = m["MetricsValue"]["value"]
            if m["MetricsName"] == "cpu/usage_rate" and tags.get("type") == "node":
                got.setdefault(("node", tags["nodename"]), []).append((t, v))
            elif m["MetricsName"] == "memory/working_set" and tags.get("type") == "pod":
                got.setdefault(("pod", tags["namespace_name"], tags["pod_name"]), []).append((t, v))
        return got
    compare("Kafka", api, read)


def test_influxdb_auth_and_retention(procs, tmp):
    """InfluxDB with authentication on: user/pw, a retention policy created
    with the database; a sink with a wrong password keeps retrying without
    disturbing the other sink or any other process."""
    from harness import Influx, Pipeline, Sim, check, http, wait_for
    influx = Influx(procs, tmp, auth=("admin", "s3cret"))
    sim = Sim(procs, nodes=2, pods=2)
    good = "influxdb:%s?db=k8s&user=admin&pw=s3cret&retention=2h" % influx.url
    bad = "influxdb:%s?db=other&user=admin&pw=wrong" % influx.url
    pipe = Pipeline(procs, tmp, sim.source(), sinks=[good, bad], resolution="5s")

    rows = wait_for(lambda: influx.query('SELECT value FROM "cpu/usage" WHERE "type"=\'node\''),
                    40, "node cpu/usage in the authenticated InfluxDB")
    check(len(rows) >= 2, "too few points: %d" % len(rows))
    rps = influx.query("SHOW RETENTION POLICIES ON k8s")
    check(any(r.get("duration") == "2h0m0s" and r.get("default") for r in rps),
          "no default 2h retention policy on k8s: %s" % rps)
    # without credentials InfluxDB refuses: the test's own check of auth
    status, _ = http("GET", influx.url + "/query?q=SHOW+DATABASES")
    check(status == 401, "InfluxDB answered %d without credentials" % status)
    # the sink with the wrong password retries; its database never appears
    def retried():
        status, body = http("GET", pipe.api + "/metrics")
        text = body.decode()
        import re
        m = re.search(r'heapster_exporter_retries_total\{exporter="influxdb-1",sink="influxdb"\} (\d+)', text)
        return m and int(m.group(1)) >= 2
    wait_for(retried, 40, "the wrong-password exporter to count retries in /metrics")
    dbs = influx.query("SHOW DATABASES", db="")
    check(not any(r.get("name") == "other" for r in dbs), "database created with a wrong password")
    check(pipe.proc.poll() is None and "exited with status" not in pipe.log(),
          "a process died:\n" + pipe.log()[-2000:])


def test_influxdb_over_https(procs, tmp):
    """secure / insecuressl: InfluxDB serving https with a self-signed
    certificate; with insecuressl the points arrive, without it the
    certificate is refused and the exporter retries."""
    import os
    import subprocess
    from harness import Influx, Pipeline, Sim, check, http, wait_for
    cert, key = os.path.join(tmp, "influx.crt"), os.path.join(tmp, "influx.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    influx = Influx(procs, tmp, tls=(cert, key))
    host = influx.url.split("://", 1)[1]
    sim = Sim(procs, nodes=2, pods=2)
    ok = "influxdb:http://%s?db=k8s&secure=true&insecuressl=true" % host
    strict = "influxdb:http://%s?db=strict&secure=true" % host
    pipe = Pipeline(procs, tmp, sim.source(), sinks=[ok, strict], resolution="5s")
    wait_for(lambda: influx.query('SELECT value FROM "cpu/usage" WHERE "type"=\'node\''),
             40, "points over https with insecuressl")

    def refused():
        status, body = http("GET", pipe.api + "/metrics")
        import re
        m = re.search(r'heapster_exporter_retries_total\{exporter="influxdb-1",sink="influxdb"\} (\d+)',
                      body.decode())
        return m and int(m.group(1)) >= 1
    wait_for(refused, 40, "the exporter that verifies certificates to refuse the self-signed one")
    dbs = influx.query("SHOW DATABASES", db="")
    check(not any(r.get("name") == "strict" for r in dbs),
          "a database was created through an unverified certificate")
