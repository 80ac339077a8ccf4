"""Integration test harness: real processes, bounded polling, clean stops.

Every process a test starts goes through Procs.start() and is stopped by its
pid (and its session's process group) in Procs.stop_all(), whatever the test
did.  Waiting is always wait_for(predicate, timeout): poll until true or
fail with a message; no test passes by sleeping long enough.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("HEAPSTER_BIN", os.path.join(ROOT, "build"))


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def free_port():
    """A TCP port free on loopback now (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what, interval=0.2):
    """Polls pred() until it returns a true value; returns it or fails."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - reported if we time out
            last_exc = e
        time.sleep(interval)
    raise TestFailure("timed out after %ss waiting for %s%s" % (
        timeout, what, " (last error: %r)" % last_exc if last_exc else ""))


def http(method, url, body=None, headers=None, timeout=5):
    """(status, bytes) of one request; HTTP errors are returned, not raised.
    https is not verified: tests reach their own servers with test certs."""
    import ssl
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    ctx = ssl._create_unverified_context() if url.startswith("https") else None
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def get_json(url, timeout=5):
    status, body = http("GET", url, timeout=timeout)
    if status != 200:
        raise TestFailure("GET %s: %d %s" % (url, status, body[:200]))
    return json.loads(body)


class Procs:
    """The processes of one test, stopped by pid at the end."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def start(self, name, argv, env=None, ready=None, timeout=30):
        log = open(os.path.join(self.tmp, name + ".log"), "wb")
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=e,
                             start_new_session=True)
        p.name = name
        p.logpath = log.name
        self.procs.append(p)
        if ready is not None:
            wait_for(lambda: self._ready(p, ready), timeout, "%s to be ready" % name)
        return p

    def _ready(self, p, ready):
        if p.poll() is not None:
            raise TestFailure("%s exited with %s:\n%s" % (p.name, p.returncode, self.log(p)[-3000:]))
        if isinstance(ready, str):
            return ready in self.log(p)
        return ready()

    @staticmethod
    def log(p):
        with open(p.logpath, "r", errors="replace") as f:
            return f.read()

    def stop(self, p, sig=signal.SIGTERM, timeout=15):
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # anything left in its session (children of a launcher, kore workers)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if p.poll() is None:
            p.kill()
            p.wait(5)

    def stop_all(self):
        for p in reversed(self.procs):
            self.stop(p)


def sanitizer_errors(text):
    """Lines where AddressSanitizer or UBSan reported an error."""
    return [l for l in text.splitlines()
            if "ERROR: AddressSanitizer" in l or "runtime error:" in l
            or "ERROR: LeakSanitizer" in l]


class Influx:
    """A real InfluxDB 1.x on loopback in a temp dir."""

    def __init__(self, procs, tmp, auth=None, tls=None):
        """auth=(user, password): authentication on, with that admin user.
        tls=(cert, key): the HTTP service speaks https only."""
        self.port = free_port()
        rpc = free_port()
        self.auth = auth
        cfg = subprocess.run(["influxd", "config"], capture_output=True, text=True,
                             check=True).stdout
        d = os.path.join(tmp, "influxdb")
        cfg = cfg.replace("/var/lib/influxdb", d)
        cfg = cfg.replace('bind-address = ":8086"', 'bind-address = "127.0.0.1:%d"' % self.port)
        cfg = re.sub(r'^bind-address = "127.0.0.1:8088"', 'bind-address = "127.0.0.1:%d"' % rpc,
                     cfg, flags=re.M)
        cfg = cfg.replace("reporting-enabled = true", "reporting-enabled = false")
        cfg = re.sub(r'(query-log-enabled|log-enabled) = true', r'\1 = false', cfg)
        if auth:
            cfg = cfg.replace("auth-enabled = false", "auth-enabled = true", 1)
        if tls:
            cfg = cfg.replace("https-enabled = false", "https-enabled = true", 1)
            cfg = re.sub(r'https-certificate = ".*"', 'https-certificate = "%s"' % tls[0], cfg, 1)
            cfg = re.sub(r'https-private-key = ".*"', 'https-private-key = "%s"' % tls[1], cfg, 1)
        path = os.path.join(tmp, "influxdb.conf")
        with open(path, "w") as f:
            f.write(cfg)
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        self.proc = procs.start("influxd", ["influxd", "-config", path],
                                ready=lambda: http("GET", self.url + "/ping")[0] == 204,
                                timeout=60)
        if auth:
            # the first user may be created without credentials
            q = urllib.parse.urlencode({"q": "CREATE USER \"%s\" WITH PASSWORD '%s' "
                                             "WITH ALL PRIVILEGES" % auth})
            status, body = http("POST", self.url + "/query?" + q)
            check(status == 200, "creating the InfluxDB admin user: %d %s" % (status, body))

    def query(self, q, db="k8s"):
        """Rows of an InfluxQL query as a list of dicts (first series only)."""
        args = {"db": db, "q": q, "epoch": "ms"}
        if self.auth:
            args.update(u=self.auth[0], p=self.auth[1])
        qs = urllib.parse.urlencode(args)
        status, body = http("GET", self.url + "/query?" + qs)
        check(status == 200, "influx query %r: %d %s" % (q, status, body[:200]))
        res = json.loads(body)["results"][0]
        rows = []
        for s in res.get("series", []):
            for v in s["values"]:
                row = dict(zip(s["columns"], v))
                row.update(s.get("tags", {}))
                rows.append(row)
        return rows


class Sim:
    """The cluster simulator (tests/sim)."""

    def __init__(self, procs, nodes, pods, seed=1, extra=(), name="sim"):
        self.api_port = free_port()
        self.kubelet_port = free_port()
        self.url = "http://127.0.0.1:%d" % self.api_port
        self.proc = procs.start(name, [os.path.join(BIN, "heapster-sim"),
                                        "--nodes", str(nodes), "--pods", str(pods),
                                        "--api-port", str(self.api_port),
                                        "--kubelet-port", str(self.kubelet_port),
                                        "--seed", str(seed)] + list(extra),
                                ready="heapster-sim: ready")

    def source(self):
        return ("kubernetes.summary_api:%s?inClusterConfig=false&kubeletPort=%d"
                % (self.url, self.kubelet_port))

    def truth(self):
        return get_json(self.url + "/sim/truth")


class Pipeline:
    """The heapster launcher and everything it runs.  scheme="https" when
    extra holds --tls_cert/--tls_key (readiness is probed on /healthz,
    which needs no client certificate)."""

    def __init__(self, procs, tmp, source, sinks=(), resolution="5s", extra=(),
                 scheme="http"):
        self.port = free_port()
        self.run_dir = os.path.join(tmp, "run")
        self.api = "%s://127.0.0.1:%d" % (scheme, self.port)
        argv = [os.path.join(BIN, "heapster"), "--source=" + source,
                "--metric_resolution=" + resolution, "--run_dir=" + self.run_dir,
                "--port=%d" % self.port] + ["--sink=" + s for s in sinks] + list(extra)
        self.proc = procs.start("heapster", argv,
                                ready=lambda: http("GET", self.api + "/healthz")[0] in (200, 503),
                                timeout=30)
        self.procs = procs

    def log(self):
        return Procs.log(self.proc)

    def get(self, path):
        return get_json(self.api + path)

    def child_pid(self, name):
        """pid of the launcher's child whose command line contains name."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid), "-f", name],
                             capture_output=True, text=True).stdout.split()
        return int(out[0]) if out else None


class TestCA:
    """A throwaway certificate authority in dir, made with the openssl CLI.

    issue() signs a server certificate (for 127.0.0.1 and localhost) or a
    client certificate (CN = the user) with an RSA or EC P-256 key and
    returns (cert path, key path).  Certificates are valid for two days.
    """

    def __init__(self, dir, name, key="rsa"):
        self.dir = dir
        self.name = name
        self.serial = 0
        os.makedirs(dir, exist_ok=True)
        self.cert = os.path.join(dir, name + "-ca.pem")
        self.key = os.path.join(dir, name + "-ca.key")
        self._openssl(["req", "-x509", "-new", *self._newkey(key), "-nodes",
                       "-keyout", self.key, "-out", self.cert, "-days", "2",
                       "-subj", "/CN=" + name,
                       "-addext", "basicConstraints=critical,CA:TRUE",
                       "-addext", "keyUsage=critical,keyCertSign,cRLSign"])

    @staticmethod
    def _newkey(kind):
        if kind == "ec":
            return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        return ["-newkey", "rsa:2048"]

    @staticmethod
    def _openssl(args):
        r = subprocess.run(["openssl"] + args, capture_output=True, text=True)
        if r.returncode != 0:
            raise TestFailure("openssl %s: %s" % (" ".join(args[:2]), r.stderr[-500:]))

    def issue(self, cn, server=False, key="rsa"):
        self.serial += 1
        base = os.path.join(self.dir, "%s-%s-%s" % (self.name, cn, key))
        csr, ext = base + ".csr", base + ".ext"
        with open(ext, "w") as f:
            if server:
                f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                        "extendedKeyUsage=serverAuth\n")
            else:
                f.write("extendedKeyUsage=clientAuth\n")
        self._openssl(["req", "-new", *self._newkey(key), "-nodes", "-keyout", base + ".key",
                       "-out", csr, "-subj", "/CN=" + cn])
        self._openssl(["x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                       "-set_serial", str(self.serial), "-days", "2", "-out", base + ".pem",
                       "-extfile", ext])
        return base + ".pem", base + ".key"


def make_tmp(name):
    return tempfile.mkdtemp(prefix="heapster-it-%s-" % name)


def remove_tmp(tmp):
    shutil.rmtree(tmp, ignore_errors=True)
