/*
 * sim.h - shared declarations of heapster-sim, the cluster simulator that
 * stands in for a Kubernetes API server and its kubelets in tests/benchmarks.
 *
 * Modules (one prefix each):
 *   sim_main.c     sim_    options, startup, signals, shutdown report
 *   sim_buf.[ch]   sb_/fmt_/jw_  buffers and hand-rolled formatters
 *   sim_model.c    model_  the deterministic cluster: nodes, pods, containers,
 *                          values as functions of (seed, node, pod, ctr, t),
 *                          faults, resourceVersions and the watch event ring
 *   sim_http.c     http_   epoll event loop, connections, HTTP/1.1 parsing,
 *                          response framing, streaming, buffer pool
 *   sim_kubelet.c  kubelet_ /stats/summary, /metrics/resource, /pods, faults
 *   sim_api.c      api_    API server lists, paging, watches, Status errors
 *   sim_ctl.c      ctl_    /sim/truth, /sim/stats, /sim/fault, /sim/nodes
 *   sim_owner.c    owner_  workload objects: Deployments, ReplicaSets, ...
 *   sim_disc.c     disc_   discovery: /version, /api, /apis, resource lists
 *   sim_table.c    table_  server-side printing: meta.k8s.io Tables for kubectl
 *   sim_tls.c      tls_    OpenSSL contexts, per-node kubelet certificates,
 *                          non-blocking TLS I/O, authentication
 *   sim_proxy.c    proxy_  aggregation-layer proxy for metrics.k8s.io
 *
 * The process is single-threaded; the whole simulated cluster lives in the
 * global `sim` (sim_state).  Nothing about a pod or container is stored: its
 * parameters are recomputed from hashes whenever needed (cheap, and it makes
 * growing/shrinking the cluster trivial).  Errors are reported as 0 or a
 * negative errno-style code.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sim_buf.h"

#define SIM_MAX_NODES 62500
#define SIM_MAX_PODS 250
#define SIM_MAX_CTRS 16
#define SIM_MAX_NS 1000
#define SIM_MAX_START_FAULTS 256

/* ---------------------------------------------------------------- faults */

enum sim_fault {
    FAULT_NONE = 0,
    FAULT_REFUSE,    /* reset the connection as soon as it is accepted */
    FAULT_HANG,      /* accept, read, never answer */
    FAULT_HTTP500,   /* 500 Internal Server Error */
    FAULT_GARBAGE,   /* 200 with a non-JSON body */
    FAULT_TRUNCATED, /* 200 with the JSON cut in the middle */
    FAULT_HUGE,      /* 200 with a 1 GiB body streamed in pieces */
    FAULT_DRIP,      /* the real body, one byte per second */
    FAULT_NOTREADY,  /* Ready=False in the node list; kubelet still answers */
    FAULT__COUNT
};

const char *model_fault_name(int kind);
int model_fault_parse(const char *s); /* kind or -EINVAL */

/* ----------------------------------------------------------------- model */

/*
 * The pod's controller.  The first four keep their historical values (names,
 * uids and label hashes derive from them).  OWN_CRONJOB pods are owned by a
 * Job that a CronJob owns; OWN_NONE pods have no ownerReferences.
 */
enum owner_kind {
    OWN_REPLICASET, OWN_DAEMONSET, OWN_STATEFULSET, OWN_JOB, OWN_CRONJOB, OWN_RC, OWN_NONE,
    OWN__COUNT
};
#define SIM_GROUPS 20        /* app groups per namespace: owner names end in -<g> */

typedef struct model_ctr {
    int64_t t0;               /* container start (unix s) */
    uint64_t cpu_rate;        /* nanocores, constant */
    uint64_t cpu_base;        /* usageCoreNanoSeconds at t0 */
    uint64_t ws, usage, rss;  /* memory gauges, bytes */
    uint64_t mem_request, mem_limit; /* bytes, 0 = unset */
    uint32_t cpu_request_m, cpu_limit_m; /* millicores, 0 = unset */
    uint64_t pf_rate, pf_base, mpf_rate, mpf_base;
    uint64_t rootfs_used, logs_used;
    uint32_t rootfs_inodes, logs_inodes;
    uint32_t restarts;
    uint32_t image_minor;
} model_ctr;

typedef struct model_pod {
    uint32_t node, idx;
    uint32_t ns;              /* index into sim->ns_name */
    int owner;                /* enum owner_kind */
    uint32_t group;           /* app group: image and owner names */
    uint32_t slot;            /* ns * SIM_GROUPS + group: index of its workload */
    int qos;                  /* 0 BestEffort, 1 Guaranteed, 2 Burstable */
    int64_t t0;
    int nctr;
    uint64_t rx_rate, rx_base, tx_rate, tx_base;
    uint64_t rxe_rate, rxe_base, txe_rate, txe_base;
    bool has_data_vol;
    uint64_t data_used;
    uint32_t data_inodes;
    uint32_t process_count;
    char api_vol[32];         /* "kube-api-access-xxxxx" */
    char hash10[12];          /* pod-template-hash / revision hash */
    model_ctr ctr[SIM_MAX_CTRS];
} model_pod;

typedef struct model_sys {    /* the kubelet / runtime system containers */
    int64_t t0;
    uint64_t cpu_rate, cpu_base, ws, usage, rss, pf_rate, pf_base;
} model_sys;

typedef struct model_node {
    uint32_t idx;
    int64_t t0;                       /* node boot: start - 1 day */
    model_sys kubelet, runtime;
    uint64_t fs_cap, fs_used, fs_inodes, fs_inodes_used;
    uint64_t img_used, img_inodes_used;
} model_node;

/* Sums over a node's pods (the "pods" system container) and the node. */
typedef struct model_totals {
    uint64_t cpu_rate, cpu_ns, ws, usage, rss, pf, mpf;
    uint64_t rx, tx, rxe, txe;                 /* counters at t */
    uint64_t rx_rate, tx_rate, rxe_rate, txe_rate;
    uint64_t pf_rate, mpf_rate;
    uint32_t processes;
} model_totals;

/* value of a counter that advances at `rate` per second since t0 */
static inline uint64_t model_counter(uint64_t base, uint64_t rate, int64_t t0, int64_t t)
{
    return base + (t > t0 ? rate * (uint64_t)(t - t0) : 0);
}

void model_node_get(uint32_t i, model_node *n);
void model_pod_get(uint32_t i, uint32_t j, model_pod *p);
/* pods[]: all sim->o.pods pods of node i, filled by this call */
void model_node_pods(uint32_t i, model_pod *pods);
void model_totals_pods(const model_pod *pods, uint32_t np, int64_t t, model_totals *tot);
void model_totals_node(const model_node *n, const model_totals *pods, int64_t t, model_totals *tot);

char *model_node_name(char *p, uint32_t i);          /* sim-node-<i> */
char *model_node_ip(char *p, uint32_t i);            /* 127.0.x.y */
char *model_pod_name(char *p, uint32_t i, uint32_t j); /* pod-<i>-<j> */
char *model_ctr_name(char *p, int k);                /* c<k> */
char *model_uid(char *p, uint64_t tag, uint64_t a, uint64_t b, uint64_t c); /* 36 chars */
char *model_owner_name(char *p, const model_pod *pod); /* "" for OWN_NONE */
uint64_t model_hash(uint64_t tag, uint64_t a, uint64_t b, uint64_t c);
int model_node_parse(const char *name, size_t n);    /* index or -ENOENT */
int model_node_from_ip(uint32_t ip_host_order);      /* index or -ENOENT */

enum { UID_NODE = 1, UID_POD, UID_NS, UID_OWNER, UID_BOOT, UID_MACHINE };

/* --------------------------------------------------- API objects / events */

enum { EV_ADDED, EV_MODIFIED, EV_DELETED };
/* API object kinds.  Workload kinds (KIND_RC and up) are addressed by an
 * index g: slot = g / model_obj_mult(kind), revision r = g % mult. */
enum {
    KIND_NODE, KIND_POD, KIND_NS,
    KIND_RC, KIND_DEPLOY, KIND_RS, KIND_STS, KIND_DS, KIND_JOB, KIND_CRON,
    KIND__COUNT
};
#define KIND_IS_OWNER(k) ((k) >= KIND_RC)

typedef struct model_event {
    uint64_t rv;
    uint32_t node;            /* node index, or the object index g of a workload */
    uint16_t pod;
    uint8_t type, kind;
    uint8_t ready;            /* node Ready status at the event */
} model_event;

int model_set_fault(uint32_t i, int kind);   /* emits MODIFIED on readiness change */
int model_set_node_count(uint32_t n);        /* emits ADDED/DELETED */
const model_event *model_event_at(uint64_t rv); /* NULL when not kept */
/* Compacts the event history: every watch from before now gets 410 (a no-op
 * event moves the resourceVersion, so a listing made after watches fine). */
void model_expire(void);
uint64_t model_pod_rv(uint32_t i, uint32_t j);

/* workload objects (sim_model.c); see sim_owner.c for how they look */
uint64_t model_obj_count(int kind);          /* size of the kind's index space */
uint32_t model_obj_mult(int kind);           /* objects per slot: RS 2, Job 4, else 1 */
bool model_obj_exists(int kind, uint64_t g); /* exists iff its workload has pods */
uint64_t model_obj_rv(int kind, uint64_t g);
uint32_t model_obj_pods(int kind, uint64_t g); /* pods it owns (directly) */
uint32_t model_workload_pods(int type, uint32_t slot); /* by enum owner_kind */
char *model_obj_name(char *p, int kind, uint64_t g);
char *model_obj_uid(char *p, int kind, uint64_t g);
char *model_obj_hash10(char *p, int kind, uint64_t g); /* RS pod-template-hash etc. */
int64_t model_obj_lookup(int kind, int ns, const char *name); /* g, or -1 */
/* the pod's controller (kind, g) and its top-level workload; false: none */
bool model_pod_ref(const model_pod *pod, int *kind, uint64_t *g);
bool model_pod_workload(const model_pod *pod, int *kind, uint64_t *g);
int64_t model_cron_minute(uint64_t g);      /* scheduled minute of cron Job g */

/* ------------------------------------------------------------ global state */

typedef struct sim_opts {
    uint32_t nodes, pods, namespaces, containers;
    uint16_t api_port, kubelet_port;
    uint64_t seed;
    int64_t start;            /* 0 = now */
    const char *pidfile;
    bool quiet;
    /* TLS and authentication (sim_tls.c) */
    const char *tls_cert, *tls_key;        /* serve https on both ports */
    const char *tls_ca_cert, *tls_ca_key;  /* mint per-node kubelet certificates */
    const char *client_ca;                 /* verify client certificates */
    const char *token;                     /* require Authorization: Bearer */
    /* aggregation-layer proxy (sim_proxy.c) */
    const char *metrics_backend;           /* http[s]://HOST:PORT */
    const char *metrics_backend_ca;
    bool metrics_backend_insecure;
    uint32_t metrics_backend_timeout;      /* seconds */
    uint32_t bookmark_interval;            /* seconds between watch BOOKMARKs, 0: none */
    int nfaults;
    struct { uint32_t node; int kind; } faults[SIM_MAX_START_FAULTS];
} sim_opts;

typedef struct sim_stats {
    uint64_t summaries, metrics, kubelet_pods, fault_responses;
    uint64_t kubelet_requests, api_requests;
    uint64_t kubelet_bytes, api_bytes;
    uint64_t connections;
    uint64_t unauthorized, tls_handshake_failures;
    uint64_t proxied, proxy_errors;
    uint64_t lists[KIND__COUNT];      /* listings (first pages) by kind */
    uint64_t list_pages[KIND__COUNT]; /* list requests, continuations included */
    uint64_t watches[KIND__COUNT];    /* watch requests by kind */
    uint64_t watches_expired;         /* watches answered 410 (event or status) */
    uint64_t watches_dropped;         /* ended by /sim/watch-drop */
} sim_stats;

typedef struct sim_state {
    sim_opts o;
    int64_t start;            /* simulator start (unix s) */
    uint32_t node_count;      /* current number of nodes */
    uint8_t *fault;           /* [SIM_MAX_NODES] enum sim_fault */
    uint64_t *node_rv;        /* [SIM_MAX_NODES] node object resourceVersion */
    uint64_t *pods_rv;        /* [SIM_MAX_NODES] rv of pod 0; pod j has +j */
    uint32_t *served;         /* [SIM_MAX_NODES] summaries served */
    int64_t *last_sample;     /* [SIM_MAX_NODES] t of the last summary */
    uint64_t rv;              /* current (latest) resourceVersion */
    uint64_t watch_valid_rv;  /* watches from an older rv get 410 */
    bool gone_as_status;      /* 410 as the HTTP status, not an ERROR event (/sim/expire) */
    uint32_t drop_gen;        /* watches started before the last /sim/watch-drop end */
    bool drop_reset;          /* ... with a reset instead of a clean end */
    model_event *ev;          /* ring of change events */
    size_t ev_cap, ev_head, ev_count;
    char ns_name[SIM_MAX_NS][16];
    uint8_t ns_len[SIM_MAX_NS];
    uint32_t *ocount[OWN_NONE];  /* [type][slot]: pods per workload */
    uint64_t *orv[KIND__COUNT];  /* [kind][g]: workload object resourceVersions */
    sim_stats st;
} sim_state;

extern sim_state *sim;

static inline bool model_node_ready(uint32_t i) { return sim->fault[i] != FAULT_NOTREADY; }

int model_init(void);
void model_free(void);

/* ------------------------------------------------------------------- http */

enum { HTTP_GET = 1, HTTP_POST, HTTP_HEAD, HTTP_OTHER };
enum { LST_API, LST_KUBELET, LST_UPSTREAM /* proxy connection to the metrics backend */ };

typedef struct http_req {
    int method;
    const char *path;
    size_t path_len;
    const char *query;        /* after '?', or the form body of a POST */
    size_t query_len;
    const char *method_name;  /* as sent ("HEAD" too) */
    size_t method_len;
    const char *target;       /* the request-target: path and query */
    size_t target_len;
    const char *headers;      /* header lines, each ending in CRLF */
    size_t headers_len;
    const char *body;
    size_t body_len;
} http_req;

typedef struct http_conn http_conn;

typedef enum { PRODUCE_MORE, PRODUCE_IDLE, PRODUCE_DONE } http_produce_rc;
typedef http_produce_rc (*http_producer)(http_conn *c);

/* State of an API watch stream (sim_api.c), embedded in its connection. */
typedef struct api_watch {
    int kind;                 /* KIND_* */
    int ns;                   /* namespace filter or -1 */
    int node;                 /* spec.nodeName / metadata.name filter or -1 */
    int name_ns;              /* metadata.name filter on namespaces or -1 */
    char oname[48];           /* metadata.name filter on workload objects, "" none */
    int8_t table, include;    /* events as Tables (see table_wanted), includeObject */
    uint64_t next_rv;         /* last rv delivered */
    uint64_t dump_next;       /* initial ADDED dump: next global index */
    bool dumping;
    bool bookmarks;           /* allowWatchBookmarks=true */
    uint32_t gen;             /* sim->drop_gen at its start */
    int64_t deadline_ms;      /* unix ms, 0 = none */
    int64_t bookmark_ms;      /* unix ms of the next BOOKMARK */
} api_watch;

struct ssl_st;
struct ssl_ctx_st;

struct http_conn {
    int fd;
    int listener;             /* LST_* */
    int node;                 /* kubelet node index from the dialed address, or -1 */
    bool closed, peer_eof, close_after, hang, drip, head, in_watch, in_timed;
    bool tls_ok;              /* TLS handshake done */
    bool cert_ok;             /* the client presented a certificate the CA verifies */
    bool rst;                 /* closing with RST: no TLS close_notify */
    bool proxy_wait;          /* a proxied request is waiting for the backend */
    struct ssl_st *ssl;       /* NULL: plain TCP */
    http_conn *peer;          /* proxy: client <-> upstream connection */
    char *in;
    size_t in_len, in_cap;
    sb *out;
    size_t out_pos;           /* next byte of out to send */
    size_t drip_from;         /* with drip: bytes before this go at full speed */
    int64_t drip_next_ms;     /* with drip: when the next byte may go */
    http_producer producer;
    uint64_t huge_left;       /* FAULT_HUGE: body bytes still to produce */
    void *pstate;             /* producer state (malloc'd), freed with the connection */
    void (*pstate_free)(void *); /* how to free pstate; NULL: free() */
    api_watch watch;
    http_conn *w_prev, *w_next;   /* watch list */
    http_conn *t_prev, *t_next;   /* timed list (drip, watch deadlines) */
    http_conn *grave_next;
};

int http_query_get(const http_req *r, const char *name, char *out, size_t outsz);
bool http_path_is(const http_req *r, const char *s);
/* value of request header `name` (case-insensitive), trimmed; false if absent */
bool http_header(const http_req *r, const char *name, const char **val, size_t *vlen);

/* Start a body: returns the connection's output buffer positioned after
 * space reserved for the header.  Finish with http_send(). */
sb *http_body(http_conn *c);
void http_send(http_conn *c, int status, const char *ctype);
void http_send_simple(http_conn *c, int status, const char *ctype, const char *body, size_t n);
/* Header with Content-Length `total` but no body yet; producer streams it. */
void http_send_stream(http_conn *c, int status, const char *ctype, uint64_t total,
                      http_producer producer);
/* Chunked (watch) response: header now, producer appends chunks. */
void http_send_chunked(http_conn *c, int status, const char *ctype, http_producer producer);
void http_chunk(http_conn *c, const char *data, size_t n);
void http_chunk_end(http_conn *c);
sb *http_outbuf(http_conn *c);
void http_reset(http_conn *c);       /* RST the connection now */
void http_set_hang(http_conn *c);
void http_set_drip(http_conn *c);    /* drip the body of the queued response */
void http_timed(http_conn *c, bool on);
void http_watching(http_conn *c, bool on);
void http_kick_watchers(void);       /* new events: pump every watch stream */
size_t http_pending(const http_conn *c);
int64_t http_now(void);              /* wall time, whole seconds */
int64_t http_now_ms(void);           /* wall time, milliseconds */

int http_listen(uint16_t api_port, uint16_t kubelet_port);
int http_run(void);                  /* until SIGINT/SIGTERM */
void http_shutdown(void);

/* for the proxy: an outgoing connection driven by proxy_run() */
http_conn *http_open_upstream(int fd);
void http_close(http_conn *c);
void http_wake(http_conn *c);        /* run a connection as far as it goes */
int http_flush(http_conn *c);        /* 0 all sent, 1 would block, -1 dead */
/* raw I/O through TLS when c->ssl: >0 bytes, 0 EOF (recv), -EAGAIN, <0 error */
ssize_t http_io_recv(http_conn *c, void *buf, size_t n);

/* ------------------------------------------------------------------ tls */

int tls_init(void);                  /* from sim->o; 0, or -1 after a message */
void tls_free(void);
bool tls_on(void);                   /* --tls-cert given */
bool auth_on(void);                  /* --client-ca or --token given */
int tls_server_new(http_conn *c);    /* SSL for an accepted connection */
/* client context for https backends: verify with ca_file unless insecure */
struct ssl_ctx_st *tls_client_ctx(const char *ca_file, bool insecure);
void tls_client_ctx_free(struct ssl_ctx_st *ctx);
int tls_client_new(http_conn *c, struct ssl_ctx_st *ctx, const char *host, bool verify);
int tls_handshake(http_conn *c);     /* 1 done, 0 would block, -1 failed */
ssize_t tls_send(http_conn *c, const void *buf, size_t n); /* >0, -EAGAIN, -EPIPE */
ssize_t tls_recv(http_conn *c, void *buf, size_t n);       /* >0, 0 EOF, -EAGAIN, -EIO */
void tls_close(http_conn *c);        /* close_notify unless c->rst, then free */
/* 401 already sent (false) or the request may proceed (true) */
bool auth_check(http_conn *c, const http_req *r);

/* ---------------------------------------------------------------- proxy */

int proxy_init(void);                /* resolve --metrics-backend; 0 or -1 */
void proxy_free(void);
bool proxy_on(void);
void proxy_start(http_conn *c, const http_req *r);  /* forward one request */
void proxy_run(http_conn *up);       /* drive an upstream connection */
void proxy_peer_lost(http_conn *client); /* its upstream closed early */

/* ------------------------------------------------------------- handlers */

void kubelet_handle(http_conn *c, const http_req *r);
void api_handle(http_conn *c, const http_req *r);
void api_status(http_conn *c, int code, const char *reason, const char *msg);
void ctl_handle(http_conn *c, const http_req *r);

/* shared renderers */
void api_render_node(sb *b, uint32_t i, uint64_t rv, bool ready, bool typed, int64_t now);
void api_render_pod(sb *b, const model_pod *pod, uint64_t rv, bool typed);
void owner_render(sb *b, int kind, uint64_t g, uint64_t rv, bool typed);
const char *owner_kind_name(int kind);       /* "Deployment" ... */
const char *owner_api_version(int kind);     /* "apps/v1" ... */
/* server-side printing (sim_table.c) */
int table_wanted(const http_req *r); /* 0 no, 1 meta.k8s.io/v1 Table, 2 v1beta1 */
void table_begin(sb *b, int kind, int ver, uint64_t rv, const char *cont, size_t cont_len);
/* one row; obj is the typed rendered object; include 0 None, 1 Metadata, 2 Object */
void table_row(sb *b, int kind, uint64_t g, int include, const char *obj, size_t objlen, int64_t now);
void table_end(sb *b);
/* discovery (sim_disc.c): true when the path was a discovery document */
bool disc_handle(http_conn *c, const http_req *r);

#endif
