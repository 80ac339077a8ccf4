/*
 * scraper.h - the heapster-scraper process: configuration, the scrape of
 * one resolution, and the batch dump of --once.
 *
 * Process design (see main.c for the loop):
 *
 *   every resolution:  the node table (kept by a watch between rounds,
 *   kube.c, watch.c)  ->  scrape all kubelets concurrently (libcurl multi
 *   handles on epoll, one reused easy handle per node; /stats/summary, or
 *   /metrics/resource for kubernetes.resource_metrics)  ->  parse each
 *   body into the batch as it completes  ->  the metadata batch from the
 *   node table and the namespace and pod caches (kept by watches too) and
 *   the ReplicaSet and Job listings (kmeta.c)  ->  encode the metadata
 *   batch, then the batch, onto the processor's queue.  Between rounds the
 *   process waits on the watch streams, applying their events.
 *
 * Cluster access (TLS, tokens, client certificates, kubeconfig,
 * service account) is resolved once into struct scr_creds (auth.h) and
 * applied to every libcurl handle.
 *
 * struct scr_scraper keeps what lives across resolutions: the node targets
 * (easy handle, keep-alive connection in the multi handle's cache, counters),
 * the node table and the watches, a pool of
 * body buffers (only in-flight transfers hold one, so memory follows
 * concurrency, not cluster size) and the log rate limit.
 */
#ifndef SCR_SCRAPER_H
#define SCR_SCRAPER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "auth.h"
#include "batch.h"
#include "kmeta.h"
#include "log.h"
#include "nodes.h"

#define SCR_MAX_BODY        (64u << 20)   /* a kubelet body larger than this fails */
#define SCR_MIN_RESOLUTION  5000          /* ms */
#define SCR_NODES_PAGE      500           /* ?limit= of list pages */
#define CURL_ERROR_SIZE_    256           /* CURL_ERROR_SIZE, without curl.h */

struct scr_config {
	/* --source=kubernetes.summary_api:URL?opts (REFERENCE §2) */
	int      resource_metrics;        /* kind kubernetes.resource_metrics: /metrics/resource */
	char     api_url[512];            /* "http(s)://host:port[/prefix]", no trailing '/';
					     the server of the access mode (auth.h) */
	int      in_cluster;              /* inClusterConfig (default true) */
	int      insecure;                /* insecure */
	int      use_service_account;     /* useServiceAccount */
	int      kubelet_https;           /* kubeletHttps */
	int      kubelet_insecure;        /* kubeletInsecure (heapster-c) */
	int      kubelet_port;            /* kubeletPort (default 10255) */
	int      use_node_status_port;    /* useNodeStatusPort: daemonEndpoints port wins */
	char     auth[512];               /* auth (kubeconfig path) */
	char     host_id_annotation[256]; /* host_id_annotation */
	/* timing, ms */
	int64_t  resolution_ms;           /* --metric_resolution (>= 5 s) */
	int64_t  offset_ms;               /* --scrape_offset, <= resolution / 2 */
	int64_t  kubelet_timeout_ms;      /* --kubelet_timeout: the whole per-node deadline */
	/* process */
	char     instance[64];            /* --instance: queue names */
	const char *store_path;           /* --store: where to publish self-metrics, or NULL */
	int      once;                    /* --once */
	enum hc_log_level log_level;      /* --log_level */
	int      max_inflight;            /* --max_concurrent_scrapes */
	char     bench_file[512];         /* --bench_parse: measure the parser, exit */
	int      bench_iterations;        /* --bench_iterations */
	int      once_metadata;           /* --once_metadata: --once prints the metadata */
	int      metadata;                /* --metadata=false: no metadata stream */
	int      metadata_watch;          /* --metadata_watch: pods by watch (default) */
};


/*
 * Fills c from a --source value (after $VAR / ${VAR} expansion) and checks
 * its access mode (auth.h): api_url becomes the server it names.  0 or
 * HC_ERR_CONFIG with the reason logged.
 */
int scr_source_parse(const char *spec, struct scr_config *c);

/*
 * Parses the command line into c (defaults first).  0, HC_ERR_CONFIG (the
 * reason logged), or 1 when --help was printed.
 */
int scr_config_parse(int argc, char **argv, struct scr_config *c);

/* ---- one scrape --------------------------------------------------------- */

/* Why a node's scrape failed (heapster_kubelet_request_failures_total). */
enum scr_fail {
	SCR_FAIL_CONNECT,      /* refused, unreachable, no such host */
	SCR_FAIL_TIMEOUT,      /* --kubelet_timeout passed */
	SCR_FAIL_TLS,          /* handshake, certificate */
	SCR_FAIL_HTTP_STATUS,  /* answered, not 200 */
	SCR_FAIL_PARSE,        /* 200 with a body that is not a summary */
	SCR_FAIL_TOO_LARGE,    /* body over SCR_MAX_BODY */
	SCR_FAIL_TRANSFER,     /* reset or cut off during the exchange */
	SCR_FAIL_NO_ADDRESS,   /* the node has no InternalIP or ExternalIP */
	SCR_FAIL_NOT_STARTED,  /* could not start within resolution/2 */
	SCR_FAIL_OTHER,        /* out of memory, libcurl refused the transfer */
	SCR_FAIL_N
};

/* The reason label of each enum scr_fail. */
extern const char *const scr_fail_names[SCR_FAIL_N];

/* Figures of one resolution, for the INFO line. */
struct scr_round {
	uint32_t nodes_listed;     /* nodes in the list used */
	uint32_t nodes_skipped;    /* not Ready */
	uint32_t nodes_ok;
	uint32_t nodes_failed;
	uint64_t bytes;            /* body bytes parsed */
	int64_t  wall_ms;          /* first request to last answer */
	int64_t  parse_us;         /* CPU time in the summary parser */
	int64_t  cpu_us;           /* CPU time of the whole scrape (transfers, parsing) */
	int64_t  slowest_ms;       /* slowest node */
	int      list_rc;          /* node listing: 0 or the error (old list used) */
};

/* Figures of one metadata listing, for its INFO line. */
struct scr_meta_round {
	struct scr_meta_stats st;
	uint32_t pages;
	uint64_t bytes;            /* API response bytes */
	int64_t  wall_ms;
	int64_t  cpu_us;           /* CPU time of the listing (transfers and parsing) */
	uint32_t watch_events;     /* pod events applied (watch mode) */
	int      pods_listed_whole;/* watch mode: the pods were listed whole this round */
	uint32_t node_events, ns_events;
	int      nodes_listed, nss_listed;   /* listed whole this round (watch mode) */
	int      replicasets;      /* 1 listed, 0 not served (fallback used) */
	int      jobs;
};

struct scr_target;
struct scr_buf {
	char  *p;
	size_t len, cap;
};

/*
 * Applies one watch event line to a table; rv receives the event's
 * resourceVersion.  Returns as scr_event_begin() (kmeta.h): 0 applied,
 * 1 bookmark or skipped, or a negative code that ends the stream.
 */
typedef int (*scr_event_fn)(void *ctx, const char *line, size_t len, char *rv);

/* A resource kept by list + watch (watch.c, kube.c). */
struct scr_watch {
	const char    *what;          /* "node", "namespace", "pod": for logs */
	char           path[160];     /* the collection, with its selector */
	scr_event_fn   apply;
	void          *ctx;
	char           rv[SCR_RV_MAX];/* resourceVersion to resume from */
	struct scr_buf pending;       /* an incomplete event line */
	void          *easy;          /* CURL *, in the scraper's wmulti while running */
	int            running;
	int            synced;        /* listed; rv usable */
	int            expired;       /* 410 / ERROR event / bad line: list again */
	int            broken;        /* a watch request failed: list again */
	int            listed_round;  /* listed at this round's sync point */
	int            end_rc;        /* why the feed aborted the stream */
	long           status;        /* HTTP status of the running request, 0 before */
	int64_t        started_mono, listed_mono;
	uint32_t       events;        /* events applied since the last round's log */
	uint64_t       events_total, lists, resumes;   /* over the process' life */
	char           err[CURL_ERROR_SIZE_];
};

#define SCR_MULTIS 32   /* kubelet multi handles (scrape.c) */

struct scr_scraper;
/* One of the multi handles of the kubelet scrapes. */
struct scr_multi {
	void               *h;          /* CURLM * */
	struct scr_scraper *s;
	int                 mi;         /* its index in s->multis */
	int                 dirty;      /* ran since its finished transfers were read */
	int64_t             timer_at;   /* when libcurl wants it run (mono ms), -1 none */
};

struct scr_scraper {
	const struct scr_config *cfg;
	struct scr_multi         multis[SCR_MULTIS];
	int                      epfd;      /* their sockets */
	uint32_t                 next_mi;   /* the multi handle of the next new target */
	void                    *api;       /* CURL * for the API server */
	struct scr_buf           api_body;
	struct scr_target      **targets;   /* heap-allocated: stable addresses */
	uint32_t                 ntargets, targets_cap;
	struct hc_map            by_name;   /* node name -> index in targets */
	struct scr_nodelist      list;      /* scratch for listing */
	int                      have_list; /* a listing succeeded once */
	int                      list_ok;   /* this round's listing succeeded */
	long                     api_status;/* HTTP status of the last API answer */
	struct scr_creds         creds;     /* TLS and credentials (auth.h) */
	char                     api_err[CURL_ERROR_SIZE_];
	struct scr_meta_ctx      meta_ctx;
	struct scr_owners        replicasets, jobs;
	uint32_t                 rs_retry, jobs_retry; /* rounds until a 404 is retried */
	int                      no_phase_selector;    /* pods' status.phase selector refused */
	struct scr_cache         pods;      /* watch mode: the cluster's running pods */
	struct scr_cache         nss;       /* watch mode: its namespaces */
	void                    *wmulti;    /* CURLM * of the watch streams */
	struct scr_watch         w_nodes, w_nss, w_pods;
	int                      watch;     /* nodes, namespaces, pods in tables (metadata_watch) */
	int                      streams;   /* ... kept by watch streams (not --once) */
	struct scr_buf          *pool;      /* free body buffers */
	uint32_t                 npool, pool_cap;
	struct hc_ratelimit      node_rl;   /* node failure lines */
	uint64_t                 node_rl_reported;
	int                      max_inflight;
	int                      multi_maxconnects;
	volatile sig_atomic_t   *stop;      /* set by SIGTERM/SIGINT */
};

/* 0 or a negative code.  stop may be NULL. */
int  scr_scraper_init(struct scr_scraper *s, const struct scr_config *cfg,
		      volatile sig_atomic_t *stop);
void scr_scraper_free(struct scr_scraper *s);

/*
 * Lists nodes (keeping the previous list if the API server fails) and
 * scrapes every Ready node into b (which the caller has reset with its
 * timestamp).  b->nodes_ok / nodes_failed are counted.  0, -EINTR when
 * stopped, or the listing's error while no node list was ever obtained.
 */
int  scr_scrape_round(struct scr_scraper *s, struct hc_batch *b,
		      struct scr_round *r);

struct hc_text;
/*
 * Appends the per-node self-metrics of the current targets as Prometheus
 * text: heapster_kubelet_request_duration_seconds{node} (the last request)
 * and heapster_kubelet_request_failures_total{node,reason} (nonzero only).
 */
void scr_node_metrics(const struct scr_scraper *s, struct hc_text *t);

/* ---- the API server (kube.c) ---------------------------------------------- */

/* Sets up the API server handle (TLS, credentials).  0 or a negative code. */
int  scr_api_init(struct scr_scraper *s);
void scr_api_free(struct scr_scraper *s);

/*
 * GET {api_url}{path} into s->api_body; s->api_status gets the HTTP status.
 * 0, HC_ERR_HTTP (status != 200), HC_ERR_TIMEOUT, -ECONNREFUSED, -EIO...
 */
int  scr_api_get(struct scr_scraper *s, const char *path);

/* One list page: parses body into ctx and writes its continue token. */
typedef int (*scr_page_fn)(void *ctx, const char *body, size_t len, char *cont);

/*
 * Lists path page by page (?limit=SCR_NODES_PAGE&continue=...) through fn.
 * pages/bytes (may be NULL) are added to.  0 or the first error.
 */
int  scr_api_list(struct scr_scraper *s, const char *path, scr_page_fn fn, void *ctx,
		  uint32_t *pages, uint64_t *bytes);

/* Lists all nodes into s->list.  0 or a negative code (s->list undefined). */
int  scr_list_nodes(struct scr_scraper *s);

/*
 * The node list of this round into s->list: listed (every round without
 * watch mode; in watch mode at start, after a 410 or a failed watch, and
 * every SCR_RELIST_MS) or kept by the node watch.  Sets s->list_ok.  0 or
 * the listing's error.
 */
int  scr_nodes_sync(struct scr_scraper *s);

/*
 * Between rounds: applies the watch streams' events as they come, for up
 * to wait_ms (0: what has arrived), and resumes streams the API server
 * ended.  Without streams it just sleeps wait_ms.
 */
void scr_scraper_idle(struct scr_scraper *s, int wait_ms);

/* Self-metrics of the watches (lists and events by resource), Prometheus text. */
void scr_watch_metrics(const struct scr_scraper *s, struct hc_text *t);

/* ---- watch streams (watch.c) ------------------------------------------------ */

void scr_watch_init(struct scr_watch *w, const char *what, scr_event_fn apply, void *ctx);
void scr_watch_free(struct scr_scraper *s, struct scr_watch *w);
/*
 * Feeds bytes of a watch stream: each complete line (an event) goes to
 * w->apply, and w->rv follows the events applied; an incomplete last line
 * waits for the next bytes.  Pure: no I/O.  0, or the first negative code
 * of apply (HC_ERR_PROTO for an ERROR event, HC_ERR_PARSE, -ENOMEM), or
 * HC_ERR_TOOBIG for a line over 64 MiB.
 */
int  scr_watch_feed(struct scr_watch *w, const char *data, size_t n);
/* Starts the watch request of w (path, rv) in s->wmulti.  0 or a negative code. */
int  scr_watch_start(struct scr_scraper *s, struct scr_watch *w);
void scr_watch_stop(struct scr_scraper *s, struct scr_watch *w);
/* Reads the streams (waiting up to wait_ms for data) and handles their ends. */
void scr_watch_pump(struct scr_scraper *s, int wait_ms);

/*
 * The metadata batch of this round (common/meta.h), into meta (reset with
 * timestamp ts_ms): nodes from this round's node listing, namespaces, pods,
 * with ReplicaSets and Jobs for workloads when served.  0, or a negative
 * code when a listing failed (meta is then incomplete: do not send it).
 */
int  scr_meta_round(struct scr_scraper *s, struct hc_batch *meta, int64_t ts_ms,
		    struct scr_meta_round *mr);

/* ---- output ----------------------------------------------------------- */

/* Writes b as JSON (see dump.c); groups b.  0 or a negative code. */
int  scr_dump_json(FILE *f, struct hc_batch *b);

/* --bench_parse: parses a summary file N times and prints MB per CPU second. */
int  scr_bench_parse(const char *path, int iterations);

#endif
