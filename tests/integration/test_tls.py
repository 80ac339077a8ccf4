"""The API server over TLS: --tls_cert, --tls_key, --tls_client_ca,
--allowed_users (REFERENCE §5), served by our patched kore.

Certificates are made at test time with the openssl CLI (harness.TestCA):
a test CA, a server certificate for 127.0.0.1, client certificates for
alice and mallory signed by it, and a foreign CA's client certificate,
also for CN=alice.  The simulator (3 nodes x 4 pods) feeds the pipeline:

- test_tls_client_certs: RSA server key, --tls_client_ca and
  --allowed_users=alice.  The probes answer without a client certificate;
  every other route answers alice (200, the simulator's data), 401
  "Unauthorized" without a certificate and 403 "Forbidden" to mallory, as
  Heapster's auth filter does; the foreign certificate fails the TLS
  handshake, on every route; plain HTTP on the port gets no HTTP answer.
  TLS 1.2 and 1.3 both work, and keep-alive connections are checked per
  request.
- test_tls_server_only: EC server key, no client CA: everything is served
  to any client; the server certificate verifies against the CA.
- test_tls_flags: the launcher refuses incomplete or unreadable TLS flags
  with one line and exit status 2, before starting anything.
"""
import http.client
import json
import os
import socket
import ssl
import subprocess

from harness import BIN, Pipeline, Sim, TestCA, TestFailure, check, wait_for
from test_api import GV, RES_S, check_node

PROBES = ("/healthz", "/readyz", "/livez")
PROTECTED = ("/api/v1/model/nodes/", "/apis/%s/nodes" % GV, "/metrics",
             "/api/v1/metric-export-schema")


def client_ctx(ca, cert=None, tls_max=None):
    """An ssl context that verifies the server against ca (and its name,
    127.0.0.1), presenting cert=(pem, key) if given."""
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(*cert)
    if tls_max:
        ctx.maximum_version = tls_max
    return ctx


def get(port, path, ctx, conn=None):
    """(status, body, headers) of GET path over https; conn reuses a
    connection (keep-alive).  TLS and socket errors are raised."""
    c = conn or http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=5)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read(), r.headers
    finally:
        if conn is None:
            c.close()


def refused(port, path, ctx):
    """The exception a request got, or a failure if it got an answer."""
    try:
        status, body, _ = get(port, path, ctx)
    except (ssl.SSLError, ConnectionError, http.client.HTTPException, socket.timeout) as e:
        return e
    raise TestFailure("GET %s answered %d %r, expected a failed handshake"
                      % (path, status, body[:100]))


def plain_http_fails(port):
    """Plain HTTP on the TLS port gets no HTTP answer."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", "/healthz")
        r = c.getresponse()
        raise TestFailure("plain http on the TLS port answered %d" % r.status)
    except (ConnectionError, http.client.HTTPException, socket.timeout):
        pass
    finally:
        c.close()


def start(procs, tmp, server_key, client_ca, allowed=None):
    ca = TestCA(os.path.join(tmp, "pki"), "test")
    server = ca.issue("127.0.0.1", server=True, key=server_key)
    sim = Sim(procs, nodes=3, pods=4)
    extra = ["--tls_cert=" + server[0], "--tls_key", server[1]]   # both spellings
    if client_ca:
        extra.append("--tls_client_ca=" + ca.cert)
    if allowed is not None:
        extra.append("--allowed_users=" + allowed)
    pipe = Pipeline(procs, tmp, sim.source(), sinks=["log"], resolution="%ds" % RES_S,
                    extra=extra, scheme="https")
    return ca, sim, pipe


def check_data(port, ctx, sim):
    """The model API and metrics.k8s.io answer the simulator's nodes."""
    truth = sim.truth()
    tnodes = {n["name"]: n for n in truth["nodes"]}
    status, body, _ = get(port, "/api/v1/model/nodes/", ctx)
    check(status == 200, "model nodes: %d %r" % (status, body[:200]))
    check(sorted(json.loads(body)) == sorted(tnodes),
          "model nodes %s, simulator %s" % (body[:200], sorted(tnodes)))
    status, body, _ = get(port, "/apis/%s/nodes" % GV, ctx)
    check(status == 200, "NodeMetricsList: %d %r" % (status, body[:200]))
    lst = json.loads(body)
    check(lst["kind"] == "NodeMetricsList" and
          [i["metadata"]["name"] for i in lst["items"]] == sorted(tnodes),
          "NodeMetricsList %r" % body[:300])
    for item in lst["items"]:
        check_node(item, tnodes[item["metadata"]["name"]])


def wait_ready(port, ctx, sim):
    """Until every node has rates (the second batch) and /healthz says ok."""
    def ready():
        s, b, _ = get(port, "/apis/%s/nodes" % GV, ctx)
        h, _, _ = get(port, "/healthz", ctx)
        return s == 200 and h == 200 and len(json.loads(b)["items"]) == len(sim.truth()["nodes"])
    wait_for(ready, 60, "every node in the NodeMetricsList over https")


def test_tls_client_certs(procs, tmp):
    ca, sim, pipe = start(procs, tmp, "rsa", client_ca=True, allowed="alice")
    port = pipe.port
    alice = ca.issue("alice")
    mallory = ca.issue("mallory", key="ec")
    foreign = TestCA(os.path.join(tmp, "pki"), "foreign").issue("alice")

    anon = client_ctx(ca.cert)
    as_alice = client_ctx(ca.cert, alice)
    as_mallory = client_ctx(ca.cert, mallory)
    as_foreign = client_ctx(ca.cert, foreign)
    wait_ready(port, as_alice, sim)

    check("API on https://127.0.0.1:%d/" % port in pipe.log(), "launcher log names https")
    with open(os.path.join(pipe.run_dir, "kore.conf")) as f:
        conf = f.read()
    check("\tclient_verify %s\n" % ca.cert in conf and "\tclient_verify_optional yes\n" in conf
          and "\ttls yes\n" in conf, "kore.conf lacks the TLS directives")

    # the probes: open to everyone the handshake lets in
    for path in PROBES:
        for who, ctx in (("no certificate", anon), ("alice", as_alice), ("mallory", as_mallory)):
            status, body, _ = get(port, path, ctx)
            check((status, body) == (200, b"ok"), "%s with %s: %d %r" % (path, who, status, body))

    # everything else: alice only
    check_data(port, as_alice, sim)
    status, body, hdrs = get(port, "/metrics", as_alice)
    check(status == 200 and b"heapster_" in body and hdrs["content-type"].startswith("text/plain"),
          "/metrics for alice: %d %r" % (status, body[:200]))
    check(hdrs["strict-transport-security"] is None, "an HSTS header: %r" % dict(hdrs))
    for path in PROTECTED:
        status, body, hdrs = get(port, path, anon)
        ctype = hdrs["content-type"]
        check((status, body, ctype) == (401, b"Unauthorized\n", "text/plain; charset=utf-8"),
              "%s without a certificate: %d %r %r" % (path, status, body[:100], ctype))
        status, body, _ = get(port, path, as_mallory)
        check((status, body) == (403, b"Forbidden\n"),
              "%s as mallory: %d %r" % (path, status, body[:100]))
        status, _, _ = get(port, path, as_alice)
        check(status == 200, "%s as alice: %d" % (path, status))

    # a certificate from another CA, even with CN=alice: no handshake, on any route
    for path in ("/healthz", "/api/v1/model/nodes/"):
        err = refused(port, path, as_foreign)
        check("Unauthorized" not in str(err), "foreign certificate: %r" % err)

    # plain HTTP on the TLS port
    plain_http_fails(port)

    # TLS 1.2 as well as 1.3 (RSA signatures through Kore's key manager)
    for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        c = http.client.HTTPSConnection("127.0.0.1", port,
                                        context=client_ctx(ca.cert, alice, tls_max=ver), timeout=5)
        status, _, _ = get(port, "/api/v1/model/nodes/", None, conn=c)
        check(status == 200 and c.sock.version() == ver.name.replace("v1_", "v1."),
              "alice over %s: %d %s" % (ver.name, status, c.sock.version()))
        c.close()

    # keep-alive: one connection, each request checked on its own
    c = http.client.HTTPSConnection("127.0.0.1", port, context=as_mallory, timeout=5)
    got = [get(port, p, None, conn=c)[0] for p in ("/healthz", "/api/v1/model/nodes/", "/livez")]
    c.close()
    check(got == [200, 403, 200], "mallory's keep-alive connection: %s" % got)

    # the refusals are counted in the API's self-metrics: one anonymous
    # and two mallory requests to the model API above
    _, body, _ = get(port, "/metrics", as_alice)
    lines = body.decode().splitlines()
    for code, n in (("401", 1), ("403", 2)):
        want = 'heapster_api_requests_total{route="/api/v1/model",code="%s"} %d' % (code, n)
        check(want in lines, "/metrics lacks %r: %s" % (
            want, [l for l in lines if l.startswith("heapster_api_requests_total")]))


def test_tls_server_only(procs, tmp):
    ca, sim, pipe = start(procs, tmp, "ec", client_ca=False)
    port = pipe.port
    anon = client_ctx(ca.cert)
    wait_ready(port, anon, sim)

    # no client CA: every route for every client, the server verified
    check_data(port, anon, sim)
    for path in PROBES + PROTECTED:
        status, body, _ = get(port, path, anon)
        check(status == 200, "%s without a client CA: %d %r" % (path, status, body[:100]))
    someone = client_ctx(ca.cert, TestCA(os.path.join(tmp, "pki"), "other").issue("someone"))
    status, _, _ = get(port, "/api/v1/model/nodes/", someone)
    check(status == 200, "a client certificate nobody asked for: %d" % status)

    # EC signatures through Kore's key manager, TLS 1.2 and 1.3
    for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        status, _, _ = get(port, "/livez", client_ctx(ca.cert, tls_max=ver))
        check(status == 200, "EC server key over %s: %d" % (ver.name, status))

    # the server is who the CA says: another CA's client refuses it
    other = TestCA(os.path.join(tmp, "pki"), "stranger")
    err = refused(port, "/healthz", client_ctx(other.cert))
    check(isinstance(err, ssl.SSLCertVerificationError), "expected a verification error, got %r" % err)
    plain_http_fails(port)


def test_tls_flags(procs, tmp):
    ca = TestCA(os.path.join(tmp, "pki"), "test")
    cert, key = ca.issue("127.0.0.1", server=True)
    base = [os.path.join(BIN, "heapster"), "--run_dir=" + os.path.join(tmp, "run"),
            "--source=kubernetes.summary_api:http://127.0.0.1:1?inClusterConfig=false"]
    missing = os.path.join(tmp, "missing.pem")
    cases = [
        (["--tls_cert=" + cert], "both --tls_cert and --tls_key are required"),
        (["--tls_key=" + key], "both --tls_cert and --tls_key are required"),
        (["--tls_client_ca=" + ca.cert], "--tls_client_ca requires --tls_cert"),
        (["--tls_cert=" + cert, "--tls_key=" + key, "--allowed_users=alice"],
         "--allowed_users requires --tls_client_ca"),
        (["--tls_cert=" + missing, "--tls_key=" + key],
         "--tls_cert=%s: No such file or directory" % missing),
        (["--tls_cert=" + cert, "--tls_key=" + cert], "--tls_key=%s: no PEM PRIVATE KEY" % cert),
        (["--tls_cert=" + cert, "--tls_key=" + key, "--tls_client_ca=" + tmp],
         "--tls_client_ca=%s: not a regular file" % tmp),
    ]
    for args, want in cases:
        r = subprocess.run(base + args, capture_output=True, text=True, timeout=20)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 2 and len(lines) == 1 and want in lines[0],
              "%s: exit %d, stderr %r (expected one line with %r)"
              % (args, r.returncode, r.stderr, want))
        check(not os.path.exists(os.path.join(tmp, "run")), "%s: started anyway" % args)
