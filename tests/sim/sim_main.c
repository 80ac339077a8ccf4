/*
 * sim_main.c - heapster-sim entry point (prefix sim_).
 *
 * heapster-sim simulates a Kubernetes cluster for heapster-c's tests and
 * benchmarks: an API server on 127.0.0.1:API_PORT and one kubelet per node,
 * node i answering on 127.0.(1 + i/250).(1 + i%250):KUBELET_PORT (all through
 * one socket bound to 0.0.0.0).  Every value it serves is a deterministic
 * function of the seed, the object and the current second, and /sim/truth
 * exposes those values so tests can check a pipeline end to end.  See
 * tests/sim/README.md for the full description.
 *
 * This file parses the options, raises RLIMIT_NOFILE, sets up the model and
 * the sockets, prints the "ready" line, runs the event loop until SIGINT or
 * SIGTERM and prints a serving/CPU summary on exit.
 */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

sim_state *sim;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: heapster-sim [--nodes N] [--pods P] [--namespaces K] [--containers C]\n"
            "                    [--api-port PORT] [--kubelet-port PORT] [--seed S]\n"
            "                    [--start-time UNIX] [--fault NODE:KIND]... [--pidfile F] [--quiet]\n"
            "                    [--tls-cert F --tls-key F [--tls-ca-cert F --tls-ca-key F]]\n"
            "                    [--client-ca F] [--token T] [--metrics-backend URL\n"
            "                    [--metrics-backend-insecure | --metrics-backend-ca F]\n"
            "                    [--metrics-backend-timeout S]] [--bookmark-interval S]\n"
            "  --nodes N          nodes (default 10, 0..%d)\n"
            "  --pods P           pods per node (default 10, 0..%d)\n"
            "  --namespaces K     namespaces: default, kube-system, ns-2.. (default 4, 1..%d)\n"
            "  --containers C     max containers per pod, pods get 1..C (default 2, 1..%d)\n"
            "  --api-port PORT    API server port on 127.0.0.1 (default 18080)\n"
            "  --kubelet-port P   kubelet port on 0.0.0.0 (default 10255)\n"
            "  --seed S           value seed (default 1)\n"
            "  --start-time T     pretend the simulator started at unix time T (default now)\n"
            "  --fault NODE:KIND  e.g. sim-node-3:http500; kinds: none refuse hang http500\n"
            "                     garbage truncated huge drip notready (repeatable)\n"
            "  --pidfile F        write the pid to F (removed on exit)\n"
            "  --quiet            no log lines on stderr\n"
            "  --tls-cert F, --tls-key F\n"
            "                     serve https on the API and kubelet ports (PEM files)\n"
            "  --tls-ca-cert F, --tls-ca-key F\n"
            "                     kubelets present certificates minted from this CA, one per\n"
            "                     node address (default: they present --tls-cert)\n"
            "  --client-ca F      verify client certificates against F; see --token\n"
            "  --token T          require 'Authorization: Bearer T' (with --client-ca: a\n"
            "                     valid certificate or the token); 401 otherwise\n"
            "  --metrics-backend URL\n"
            "                     forward /apis/metrics.k8s.io/... to http[s]://HOST:PORT\n"
            "  --metrics-backend-insecure   do not verify an https backend\n"
            "  --metrics-backend-ca F       verify an https backend against F\n"
            "  --metrics-backend-timeout S  answer 504 after S seconds (default 10)\n"
            "  --bookmark-interval S  watches with allowWatchBookmarks=true get a BOOKMARK\n"
            "                     every S seconds once caught up (default 60; 0: only\n"
            "                     before a timeoutSeconds end)\n",
            SIM_MAX_NODES, SIM_MAX_PODS, SIM_MAX_NS, SIM_MAX_CTRS);
}

/* Parse an unsigned decimal in [lo, hi]. 0 or -EINVAL. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!s || !*s || *s == '-')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

static int bad(const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "heapster-sim: bad value for %s: '%s' (%s)\n", opt, val ? val : "", why);
    return -EINVAL;
}

static bool is_value_option(const char *opt)
{
    static const char *const names[] = {
        "--nodes", "--pods", "--namespaces", "--containers", "--api-port", "--kubelet-port",
        "--seed", "--start-time", "--pidfile", "--fault", "--tls-cert", "--tls-key",
        "--tls-ca-cert", "--tls-ca-key", "--client-ca", "--token", "--metrics-backend",
        "--metrics-backend-ca", "--metrics-backend-timeout", "--bookmark-interval",
    };
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (strcmp(opt, names[k]) == 0)
            return true;
    return false;
}

static int parse_args(int argc, char **argv, sim_opts *o)
{
    o->nodes = 10;
    o->pods = 10;
    o->namespaces = 4;
    o->containers = 2;
    o->api_port = 18080;
    o->kubelet_port = 10255;
    o->seed = 1;
    o->metrics_backend_timeout = 10;
    o->bookmark_interval = 60;

    for (int i = 1; i < argc; i++) {
        char *opt = argv[i], *val = NULL, *eq;
        uint64_t v;

        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(opt, "--quiet") == 0) {
            o->quiet = true;
            continue;
        }
        if (strcmp(opt, "--metrics-backend-insecure") == 0) {
            o->metrics_backend_insecure = true;
            continue;
        }
        if (strncmp(opt, "--", 2) != 0) {
            fprintf(stderr, "heapster-sim: unexpected argument '%s'\n", opt);
            return -EINVAL;
        }
        eq = strchr(opt, '=');
        if (eq)
            *eq = 0;
        if (!is_value_option(opt)) {
            fprintf(stderr, "heapster-sim: unknown option '%s' (see --help)\n", opt);
            return -EINVAL;
        }
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "heapster-sim: option %s needs a value\n", opt);
            return -EINVAL;
        }
#define NUM(name, lo, hi, field)                                                   \
        if (strcmp(opt, name) == 0) {                                              \
            if (parse_u64(val, lo, hi, &v) < 0)                                    \
                return bad(name, val, "expected an integer in " #lo ".." #hi);     \
            o->field = (__typeof__(o->field))v;                                    \
            continue;                                                              \
        }
        NUM("--nodes", 0, 62500, nodes)
        NUM("--pods", 0, 250, pods)
        NUM("--namespaces", 1, 1000, namespaces)
        NUM("--containers", 1, 16, containers)
        NUM("--api-port", 1, 65535, api_port)
        NUM("--kubelet-port", 1, 65535, kubelet_port)
        NUM("--seed", 0, UINT64_MAX, seed)
        NUM("--start-time", 1, 253402300799ULL, start)
        NUM("--metrics-backend-timeout", 1, 3600, metrics_backend_timeout)
        NUM("--bookmark-interval", 0, 3600, bookmark_interval)
#undef NUM
#define STR(name, field)                                                           \
        if (strcmp(opt, name) == 0) {                                              \
            if (!*val)                                                             \
                return bad(name, val, "empty");                                    \
            o->field = val;                                                        \
            continue;                                                              \
        }
        STR("--tls-cert", tls_cert)
        STR("--tls-key", tls_key)
        STR("--tls-ca-cert", tls_ca_cert)
        STR("--tls-ca-key", tls_ca_key)
        STR("--client-ca", client_ca)
        STR("--token", token)
        STR("--metrics-backend", metrics_backend)
        STR("--metrics-backend-ca", metrics_backend_ca)
#undef STR
        if (strcmp(opt, "--pidfile") == 0) {
            o->pidfile = val;
            continue;
        }
        if (strcmp(opt, "--fault") == 0) {
            char *colon = strrchr(val, ':');
            int node, kind;
            if (!colon)
                return bad("--fault", val, "expected NODE:KIND");
            node = model_node_parse(val, (size_t)(colon - val));
            if (node < 0)
                return bad("--fault", val, "node must be sim-node-<N>, N < 62500");
            kind = model_fault_parse(colon + 1);
            if (kind < 0)
                return bad("--fault", val,
                           "kinds: none refuse hang http500 garbage truncated huge drip notready");
            if (o->nfaults == SIM_MAX_START_FAULTS)
                return bad("--fault", val, "too many --fault options");
            o->faults[o->nfaults].node = (uint32_t)node;
            o->faults[o->nfaults].kind = kind;
            o->nfaults++;
            continue;
        }
        fprintf(stderr, "heapster-sim: unknown option '%s' (see --help)\n", opt);
        return -EINVAL;
    }
    if (o->metrics_backend_insecure && o->metrics_backend_ca) {
        fprintf(stderr, "heapster-sim: --metrics-backend-insecure and --metrics-backend-ca exclude each other\n");
        return -EINVAL;
    }
    if (o->api_port == o->kubelet_port) {
        fprintf(stderr, "heapster-sim: --api-port and --kubelet-port must differ\n");
        return -EINVAL;
    }
    return 0;
}

static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -errno;
    fprintf(f, "%ld\n", (long)getpid());
    if (fclose(f) != 0)
        return -errno;
    return 0;
}

static void report(void)
{
    struct rusage ru;
    double cpu;

    if (sim->o.quiet)
        return;
    getrusage(RUSAGE_SELF, &ru);
    cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    fprintf(stderr,
            "heapster-sim: exiting: summaries=%llu metrics=%llu faults=%llu kubelet_bytes=%llu "
            "api_bytes=%llu connections=%llu unauthorized=%llu proxied=%llu cpu=%.3fs "
            "(user %.3f, sys %.3f)\n",
            (unsigned long long)sim->st.summaries, (unsigned long long)sim->st.metrics,
            (unsigned long long)sim->st.fault_responses, (unsigned long long)sim->st.kubelet_bytes,
            (unsigned long long)sim->st.api_bytes, (unsigned long long)sim->st.connections,
            (unsigned long long)sim->st.unauthorized, (unsigned long long)sim->st.proxied, cpu,
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
}

int main(int argc, char **argv)
{
    static sim_state state;
    int err, rc = 1;
    uint32_t last;

    sim = &state;
    if (parse_args(argc, argv, &sim->o) < 0)
        return 2;
    raise_nofile();
    sim->start = sim->o.start ? sim->o.start : (int64_t)time(NULL);
    if (tls_init() < 0 || proxy_init() < 0) {
        tls_free();
        proxy_free();
        return 2;
    }
    err = model_init();
    if (err < 0) {
        fprintf(stderr, "heapster-sim: cannot allocate the model: %s\n", strerror(-err));
        tls_free();
        proxy_free();
        return 1;
    }
    err = http_listen(sim->o.api_port, sim->o.kubelet_port);
    if (err < 0)
        goto cleanup_http;
    if (sim->o.pidfile && (err = write_pidfile(sim->o.pidfile)) < 0) {
        fprintf(stderr, "heapster-sim: cannot write %s: %s\n", sim->o.pidfile, strerror(-err));
        goto cleanup_http;
    }
    last = sim->o.nodes ? sim->o.nodes - 1 : 0;
    printf("heapster-sim: ready api=127.0.0.1:%u kubelets=127.0.%u.%u-127.0.%u.%u:%u nodes=%u pods=%u",
           sim->o.api_port, 1u, 1u, 1 + last / 250, 1 + last % 250, sim->o.kubelet_port,
           sim->o.nodes, sim->o.pods);
    if (tls_on()) /* extra fields only when the features are on */
        printf(" tls=%s", sim->o.tls_ca_key ? "per-node" : "shared");
    if (auth_on())
        printf(" auth=%s%s%s", sim->o.client_ca ? "cert" : "", sim->o.client_ca && sim->o.token ? "," : "",
               sim->o.token ? "token" : "");
    if (proxy_on())
        printf(" metrics-backend=%s", sim->o.metrics_backend);
    printf("\n");
    fflush(stdout);
    err = http_run();
    if (err < 0)
        fprintf(stderr, "heapster-sim: event loop failed: %s\n", strerror(-err));
    else
        rc = 0;
    report();
    if (sim->o.pidfile)
        unlink(sim->o.pidfile);
cleanup_http:
    http_shutdown();
    proxy_free();
    tls_free();
    model_free();
    return rc;
}
